/*
 * `popid eid SUB PID [options]`: the eID account lifecycle of src/eid/ from the operator's
 * console. Secrets (codes, passwords, TOTP codes) are read from stdin, one per line, never from
 * argv (which other users of the host can see in the process list); they are wiped after use.
 * The activation and unlock codes belong to the citizen's channel: `request` and
 * `unlock --send-code` queue the code's sealed message in the durable outbox (hub/outbox.h, key
 * <db>.outbox.key) in the transaction that makes the code, and a running `popid serve
 * --notify-url` on the same database delivers it (its delivery thread polls the outbox). With
 * `--show-code` nothing is queued and the code is printed for the operator: the offline
 * enrolment path of docs/EID.md, the citizen being at the desk. Every step is audited by the
 * service with the actor (--actor, POPID_ACTOR or operator:USER@HOST).
 */
#include "cli/cmd_eid.h"

#include <jansson.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "cli/cli_int.h"
#include "eid/eid.h"
#include "hub/outbox.h"
#include "registry/registry.h"

#define PATH_CAP   4096
#define SECRET_CAP 512 /* one line of stdin */

struct args {
        const char *sub, *pid_text, *db, *actor;
        const char *phone, *email, *reason, *key, *signature;
        int level;
        bool show_code, compact, send_code, totp, code;
};

static int usage(const char *msg, const char *arg)
{
        fprintf(stderr, "popid: ");
        fprintf(stderr, msg, arg);
        fprintf(stderr, " (see popid eid help)\n");
        return CLI_EUSAGE;
}

static void help(void)
{
        fputs("usage: popid eid SUB PID [options]   (secrets are read from stdin, one a line)\n"
              "  request PID (--phone +84... | --email E) [--level 2] [--show-code]\n"
              "                               the code is queued for the channel (delivered by\n"
              "                               popid serve --notify-url), or with --show-code\n"
              "                               printed for offline delivery instead\n"
              "  activate PID                 stdin: the activation code\n"
              "  password PID                 stdin: the new password [, the current one]\n"
              "  totp-enrol PID               stdin: the password; prints the seed and URI\n"
              "  totp-confirm PID             stdin: a first code from the app\n"
              "  device-add PID --key PK      PK: Ed25519 public key, base64url; stdin: password\n"
              "  challenge PID                a challenge for the device (base64url)\n"
              "  login PID [--totp | --signature SIG]   stdin: password, or TOTP code\n"
              "  lock PID                     stdin: the password\n"
              "  unlock PID [--code]          stdin: password and TOTP code, or (--code) the\n"
              "                               unlock code; unlock PID --send-code [--show-code]\n"
              "  suspend|reinstate PID --reason TEXT\n"
              "  show PID\n",
              stdout);
}

static int parse(int argc, char **argv, struct args *a)
{
        memset(a, 0, sizeof *a);
        a->level = 1;
        int pos = 0;
        for (int i = 0; i < argc; i++) {
                const char *s = argv[i];
                const char **val = NULL;
                if (!strcmp(s, "--show-code")) {
                        a->show_code = true;
                } else if (!strcmp(s, "--compact")) {
                        a->compact = true;
                } else if (!strcmp(s, "--send-code")) {
                        a->send_code = true;
                } else if (!strcmp(s, "--totp")) {
                        a->totp = true;
                } else if (!strcmp(s, "--code")) {
                        a->code = true;
                } else if (!strcmp(s, "--db")) {
                        val = &a->db;
                } else if (!strcmp(s, "--actor")) {
                        val = &a->actor;
                } else if (!strcmp(s, "--phone")) {
                        val = &a->phone;
                } else if (!strcmp(s, "--email")) {
                        val = &a->email;
                } else if (!strcmp(s, "--reason")) {
                        val = &a->reason;
                } else if (!strcmp(s, "--key")) {
                        val = &a->key;
                } else if (!strcmp(s, "--signature")) {
                        val = &a->signature;
                } else if (!strcmp(s, "--level")) {
                        if (i + 1 >= argc)
                                return usage("%s needs a value", s);
                        const char *l = argv[++i];
                        if (strcmp(l, "1") && strcmp(l, "2"))
                                return usage("--level is 1 or 2, not '%s'", l);
                        a->level = l[0] - '0';
                } else if (s[0] == '-' && s[1] == '-') {
                        return usage("unknown option %s", s);
                } else if (pos == 0) {
                        a->sub = s;
                        pos++;
                } else if (pos == 1) {
                        a->pid_text = s;
                        pos++;
                } else {
                        return usage("unexpected argument '%s'", s);
                }
                if (val) {
                        if (i + 1 >= argc)
                                return usage("%s needs a value", s);
                        *val = argv[++i];
                }
        }
        if (!a->db)
                a->db = getenv("POPID_DB");
        if (!a->actor || !*a->actor)
                a->actor = getenv("POPID_ACTOR");
        return 0;
}

/* One line of stdin without its line end; POP_EINVAL when there is none or it is too long. */
static int read_secret(char buf[SECRET_CAP], const char *what, struct pop_err *err)
{
        if (!fgets(buf, SECRET_CAP, stdin))
                return pop_fail(err, POP_EINVAL, "eid-stdin", "expected %s on stdin", what);
        size_t n = strlen(buf);
        if (n && buf[n - 1] == '\n')
                buf[--n] = '\0';
        else if (!feof(stdin))
                return pop_fail(err, POP_ETOOBIG, "eid-stdin", "%s: line longer than %d bytes",
                                what, SECRET_CAP - 2);
        if (n && buf[n - 1] == '\r')
                buf[--n] = '\0';
        return 0;
}

static int print_json(const struct args *a, json_t *j)
{
        int rc = cli__print_json(a->compact, j);
        json_decref(j);
        return rc;
}

static json_t *render(const struct eid_account *acc)
{
        char pid[16];
        snprintf(pid, sizeof pid, "%012lld", (long long)acc->pid);
        json_t *creds = json_array();
        if (acc->creds & EID_CRED_PASSWORD)
                json_array_append_new(creds, json_string("password"));
        if (acc->creds & EID_CRED_TOTP)
                json_array_append_new(creds, json_string("totp"));
        if (acc->creds & EID_CRED_DEVICE)
                json_array_append_new(creds, json_string("device"));
        return json_pack("{s:s, s:i, s:s, s:{s:s?, s:s?}, s:o, s:s?, s:I, s:I}", "pid", pid,
                         "level", (int)acc->level, "state", eid_state_name(acc->state), "channel",
                         "phone", acc->phone[0] ? acc->phone : NULL, "email",
                         acc->email[0] ? acc->email : NULL, "credentials", creds, "reason",
                         acc->reason[0] ? acc->reason : NULL, "created_ms",
                         (json_int_t)acc->created_ms, "updated_ms", (json_int_t)acc->updated_ms);
}

static int b64url_decode(const char *text, uint8_t *out, size_t len, const char *what,
                         struct pop_err *err)
{
        size_t got = 0;
        if (!text ||
            sodium_base642bin(out, len, text, strlen(text), NULL, &got, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            got != len)
                return pop_fail(err, POP_EINVAL, "eid-base64",
                                "%s must be %zu bytes in base64url without padding", what, len);
        return 0;
}

static int print_code(const struct args *a, const struct eid_sent *sent, const char *pid,
                      const char *code)
{
        json_t *j = json_pack("{s:s, s:n}", "pid", pid, "code_sent_to");
        if (code[0] && a->show_code) {
                /* the offline enrolment path: the operator hands the code over in person */
                json_object_set_new(j, "code", json_string(code));
                fprintf(stderr, "popid: the code is shown for offline delivery only; hand it "
                                "to the citizen in person\n");
        } else if (code[0] && sent->outbox_id) {
                json_object_set_new(j, "code_sent_to", json_string(sent->sent_to));
                json_object_set_new(j, "channel", json_string(sent->channel));
                json_object_set_new(j, "outbox_id", json_integer(sent->outbox_id));
                fprintf(stderr, "popid: the code is queued in the outbox; `popid serve "
                                "--notify-url` delivers it\n");
        }
        return print_json(a, j);
}

static int run(struct args *a, struct eid_ctx *c, int64_t pid, struct pop_err *err)
{
        char s1[SECRET_CAP] = "", s2[SECRET_CAP] = "";
        char code[EID_CODE_DIGITS + 1] = "";
        char pidtext[16];
        snprintf(pidtext, sizeof pidtext, "%012lld", (long long)pid);
        int rc = 0, out = -1;
        const char *sub = a->sub;
        if (!strcmp(sub, "request")) {
                if (!(rc = eid_request(c, pid, (enum eid_level)a->level, a->phone, a->email, code,
                                       err)))
                        out = print_code(a, c->sent, pidtext, code);
        } else if (!strcmp(sub, "activate")) {
                if (!(rc = read_secret(s1, "the activation code", err)) &&
                    !(rc = eid_activate(c, pid, s1, err)))
                        out = print_json(
                            a, json_pack("{s:s, s:s}", "pid", pidtext, "state", "active"));
        } else if (!strcmp(sub, "password")) {
                if (!(rc = read_secret(s1, "the new password", err))) {
                        bool old = read_secret(s2, "", NULL) == 0;
                        if (!(rc = eid_set_password(c, pid, s1, old ? s2 : NULL, err)))
                                out = print_json(
                                    a, json_pack("{s:s, s:b}", "pid", pidtext, "password_set", 1));
                }
        } else if (!strcmp(sub, "totp-enrol")) {
                char b32[EID_TOTP_B32_MAX];
                if (!(rc = read_secret(s1, "the password", err)) &&
                    !(rc = eid_totp_enrol(c, pid, s1, b32, err))) {
                        char uri[256];
                        /* Key Uri Format of Google Authenticator, read by every TOTP app */
                        snprintf(uri, sizeof uri,
                                 "otpauth://totp/popid:%s?secret=%s&issuer=popid&digits=%d&period="
                                 "%d",
                                 pidtext, b32, EID_TOTP_DIGITS, EID_TOTP_STEP);
                        out = print_json(a, json_pack("{s:s, s:s, s:s}", "pid", pidtext, "secret",
                                                      b32, "uri", uri));
                        sodium_memzero(uri, sizeof uri);
                        sodium_memzero(b32, sizeof b32);
                }
        } else if (!strcmp(sub, "totp-confirm")) {
                if (!(rc = read_secret(s1, "the TOTP code", err)) &&
                    !(rc = eid_totp_confirm(c, pid, s1, err)))
                        out = print_json(a, json_pack("{s:s, s:b}", "pid", pidtext, "totp", 1));
        } else if (!strcmp(sub, "device-add")) {
                uint8_t pk[32];
                if (!(rc = b64url_decode(a->key, pk, sizeof pk, "--key", err)) &&
                    !(rc = read_secret(s1, "the password", err)) &&
                    !(rc = eid_device_add(c, pid, s1, pk, err)))
                        out = print_json(a, json_pack("{s:s, s:b}", "pid", pidtext, "device", 1));
        } else if (!strcmp(sub, "challenge")) {
                uint8_t ch[EID_CHALLENGE_LEN];
                char text[sodium_base64_ENCODED_LEN(EID_CHALLENGE_LEN,
                                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
                if (!(rc = eid_device_challenge(c, pid, ch, err))) {
                        sodium_bin2base64(text, sizeof text, ch, sizeof ch,
                                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
                        out = print_json(a, json_pack("{s:s, s:s, s:i}", "pid", pidtext,
                                                      "challenge", text, "expires_in_s",
                                                      EID_CHALLENGE_TTL_MS / 1000));
                }
        } else if (!strcmp(sub, "login")) {
                const char *how = "password";
                if (a->signature) {
                        uint8_t sig[64];
                        how = "device";
                        if (!(rc =
                                  b64url_decode(a->signature, sig, sizeof sig, "--signature", err)))
                                rc = eid_device_verify(c, pid, sig, err);
                } else if (a->totp) {
                        how = "totp";
                        if (!(rc = read_secret(s1, "the TOTP code", err)))
                                rc = eid_check_totp(c, pid, s1, err);
                } else if (!(rc = read_secret(s1, "the password", err))) {
                        rc = eid_login_password(c, pid, s1, err);
                }
                if (!rc)
                        out = print_json(a, json_pack("{s:s, s:s, s:s}", "pid", pidtext, "result",
                                                      "yes", "factor", how));
        } else if (!strcmp(sub, "lock")) {
                if (!(rc = read_secret(s1, "the password", err)) &&
                    !(rc = eid_lock(c, pid, s1, err)))
                        out = print_json(
                            a, json_pack("{s:s, s:s}", "pid", pidtext, "state", "locked"));
        } else if (!strcmp(sub, "unlock")) {
                if (a->send_code) {
                        if (!(rc = eid_unlock_code(c, pid, code, err)))
                                out = print_code(a, c->sent, pidtext, code);
                } else if (a->code) {
                        if (!(rc = read_secret(s1, "the unlock code", err)))
                                rc = eid_unlock(c, pid, NULL, NULL, s1, err);
                } else if (!(rc = read_secret(s1, "the password", err)) &&
                           !(rc = read_secret(s2, "the TOTP code", err))) {
                        rc = eid_unlock(c, pid, s1, s2, NULL, err);
                }
                if (!rc && out < 0)
                        out = print_json(
                            a, json_pack("{s:s, s:s}", "pid", pidtext, "state", "active"));
        } else if (!strcmp(sub, "suspend") || !strcmp(sub, "reinstate")) {
                bool s = !strcmp(sub, "suspend");
                if (!(rc = s ? eid_suspend(c, pid, a->reason, err)
                             : eid_reinstate(c, pid, a->reason, err))) {
                        struct eid_account acc;
                        if (!(rc = eid_account_load(c->st, pid, &acc, err)))
                                out = print_json(a, json_pack("{s:s, s:s}", "pid", pidtext, "state",
                                                              eid_state_name(acc.state)));
                }
        } else if (!strcmp(sub, "show")) {
                struct eid_account acc;
                if (!(rc = eid_show(c, pid, &acc, err)))
                        out = print_json(a, render(&acc));
        } else {
                out = usage("unknown eid subcommand '%s'", sub);
        }
        sodium_memzero(s1, sizeof s1);
        sodium_memzero(s2, sizeof s2);
        sodium_memzero(code, sizeof code);
        if (rc)
                return cli__fail(err, rc);
        return out < 0 ? CLI_EFAIL : out;
}

int cli__eid(int argc, char **argv)
{
        struct args a;
        int rc = parse(argc, argv, &a);
        if (rc)
                return rc;
        if (!a.sub || !strcmp(a.sub, "help")) {
                help();
                return a.sub ? CLI_OK : CLI_EUSAGE;
        }
        if (!a.pid_text)
                return usage("popid eid %s needs a personal ID number", a.sub);
        struct pop_err err = {0};
        int64_t pid = 0;
        if ((rc = reg_parse_pid(a.pid_text, &pid, &err)))
                return cli__fail(&err, rc);
        char actor_buf[160];
        a.actor = cli__actor(a.actor, actor_buf, sizeof actor_buf);
        struct eid_ctx c = {0};
        struct eid_sent sent = {0};
        struct store *st = NULL;
        struct audit *au = NULL;
        char path[PATH_CAP];
        uint8_t okey[HUB_OUTBOX_KEY_BYTES];
        /* a code goes to the citizen's channel through the outbox unless shown for offline
         * delivery (--show-code) */
        bool queue = !a.show_code &&
                     (!strcmp(a.sub, "request") || (!strcmp(a.sub, "unlock") && a.send_code));
        if ((rc = store_open(a.db, 0, &st, &err)) ||
            (rc = eid_key_path(a.db, path, sizeof path, &err)) ||
            (rc = eid_key_load(path, true, c.key, &err)) ||
            (queue && (rc = hub_outbox_key_path(a.db, path, sizeof path, &err))) ||
            (queue && (rc = hub_outbox_key_load(path, true, okey, &err))) ||
            (rc = audit_key_path(a.db, path, sizeof path, &err)) ||
            (rc = audit_open(a.db, path, NULL, &au, &err))) {
                rc = cli__fail(&err, rc);
                goto out;
        }
        c.st = st;
        c.audit = au;
        c.actor = a.actor;
        c.outbox_key = queue ? okey : NULL;
        c.sent = &sent;
        rc = run(&a, &c, pid, &err);
out:
        sodium_memzero(c.key, sizeof c.key);
        sodium_memzero(okey, sizeof okey);
        if (au) {
                struct pop_err cerr = {0};
                if (audit_close(au, &cerr) && rc == CLI_OK)
                        rc = cli__fail(&cerr, cerr.code ? cerr.code : POP_ESTORE);
        }
        store_close(st);
        return rc;
}
