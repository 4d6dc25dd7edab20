/*
 * The command line's side of the audit log; see cli_audit.h. A CLI command that reads or writes
 * personal data records its access here before it prints anything: the entry names the operator
 * (--actor, POPID_ACTOR, or operator:USER@HOST), each person whose data was shown or changed,
 * the fields (the keys of what was printed, or of the event written), the purpose (--purpose or
 * POPID_PURPOSE) and the outcome. Also `popid audit`: verify, export, key, log.
 */
#include "cli/cli_audit.h"

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "cli/cli_int.h"
#include "registry/registry.h"
#include "store/store.h"

#define MAX_SUBJECTS    64
#define EXPORT_LINE_MAX (1 << 20)

struct cli_audit {
        struct audit *a;
        const char *actor;
        const char *purpose;
        char request_id[40];
};

int cli__audit_open(const char *db, const char *actor, const char *purpose, struct cli_audit **out,
                    struct pop_err *err)
{
        char key[4096];
        *out = NULL;
        int rc = audit_key_path(db, key, sizeof key, err);
        if (rc)
                return rc;
        struct cli_audit *ca = calloc(1, sizeof *ca);
        if (!ca)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        if ((rc = audit_open(db, key, NULL, &ca->a, err))) {
                free(ca);
                return rc;
        }
        ca->actor = actor;
        if (!purpose || !*purpose)
                purpose = getenv("POPID_PURPOSE");
        ca->purpose = purpose ? purpose : "";
        /* One id for every entry of this command, so they read as one request. */
        uint8_t id[8];
        randombytes_buf(id, sizeof id);
        char hex[2 * sizeof id + 1];
        sodium_bin2hex(hex, sizeof hex, id, sizeof id);
        snprintf(ca->request_id, sizeof ca->request_id, "cli-%s", hex);
        *out = ca;
        return 0;
}

void cli__audit_close(struct cli_audit *ca)
{
        if (!ca)
                return;
        (void)audit_close(ca->a, NULL);
        free(ca);
}

/* ok, not-found, denied (refused by a rule or as malformed), or error (anything else). */
static const char *outcome_of(int prc)
{
        switch (prc) {
        case POP_OK:
                return "ok";
        case POP_ENOTFOUND:
                return "not-found";
        case POP_EINVAL:
        case POP_ERULE:
        case POP_ECONFLICT:
        case POP_EFULL:
        case POP_ETOOBIG:
                return "denied";
        }
        return "error";
}

/* Appends name (with a "prefix." when prefix) to the comma-separated list in buf. */
static void add_field(char *buf, size_t cap, size_t *o, const char *prefix, const char *name)
{
        static const char ok[] =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
        size_t pl = prefix ? strlen(prefix) + 1 : 0, n = strlen(name);
        char f[2 * AUDIT_FIELD_MAX + 2];
        if (n == 0 || strspn(name, ok) != n || pl + n > AUDIT_FIELD_MAX || *o + pl + n + 2 > cap)
                return;
        snprintf(f, sizeof f, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", name);
        /* Already listed (records of one list share their keys)? */
        for (const char *t = buf; *t;) {
                size_t tl = strcspn(t, ",");
                if (tl == pl + n && !memcmp(t, f, tl))
                        return;
                t += tl + (t[tl] == ',');
        }
        if (*o)
                buf[(*o)++] = ',';
        if (prefix) {
                memcpy(buf + *o, prefix, pl - 1);
                buf[*o + pl - 1] = '.';
                *o += pl;
        }
        memcpy(buf + *o, name, n + 1);
        *o += n;
}

/*
 * The fields of obj (minus those in skip), comma-separated, into buf: its keys, and for a list
 * of records (household members, search results) the keys of the records as "list.key".
 */
static void keys_of(json_t *obj, const char *const *skip, char *buf, size_t cap)
{
        size_t o = 0;
        const char *k, *k2;
        json_t *v, *v2;
        buf[0] = '\0';
        json_object_foreach(obj, k, v)
        {
                bool skipped = false;
                for (int i = 0; skip && skip[i]; i++)
                        skipped |= !strcmp(k, skip[i]);
                if (skipped)
                        continue;
                if (!json_is_object(json_array_get(v, 0))) {
                        add_field(buf, cap, &o, NULL, k);
                        continue;
                }
                size_t i;
                json_t *item;
                json_array_foreach(v, i, item)
                {
                        json_object_foreach(item, k2, v2) add_field(buf, cap, &o, k, k2);
                }
        }
}

/* Adds the pid in a string member to subjects (deduplicated). */
static void add_subject(json_t *v, int64_t *subjects, int *n)
{
        const char *s = json_string_value(v);
        int64_t pid = 0;
        if (!s || strlen(s) != 12 || strspn(s, "0123456789") != 12)
                return;
        pid = strtoll(s, NULL, 10);
        for (int i = 0; i < *n; i++)
                if (subjects[i] == pid)
                        return;
        if (pid && *n < MAX_SUBJECTS)
                subjects[(*n)++] = pid;
}

/* The people an output names: "pid" and "head", and "pid" of the objects in its arrays. */
static void subjects_of(json_t *out, int64_t *subjects, int *n)
{
        const char *k;
        json_t *v;
        add_subject(json_object_get(out, "pid"), subjects, n);
        add_subject(json_object_get(out, "head"), subjects, n);
        json_object_foreach(out, k, v)
        {
                size_t i;
                json_t *m;
                if (json_is_array(v))
                        json_array_foreach(v, i, m)
                            add_subject(json_object_get(m, "pid"), subjects, n);
        }
}

/* One entry per subject (at least one, subject 0 when none), sharing everything else. */
static int log_subjects(struct cli_audit *ca, struct audit_entry *proto, const int64_t *subjects,
                        int n, struct pop_err *err)
{
        struct audit_entry e[MAX_SUBJECTS];
        if (n == 0) {
                proto->subject = 0;
                return audit_log(ca->a, proto, NULL, err);
        }
        for (int i = 0; i < n; i++) {
                e[i] = *proto;
                e[i].subject = subjects[i];
        }
        return audit_log_many(ca->a, e, (size_t)n, NULL, err);
}

static void entry_proto(struct cli_audit *ca, struct audit_entry *e, const char *action,
                        const char *fields, int prc, const struct pop_err *perr)
{
        memset(e, 0, sizeof *e);
        e->actor = ca->actor;
        e->action = action;
        e->fields = prc ? "" : fields;
        e->purpose = ca->purpose;
        e->outcome = outcome_of(prc);
        /* A rule id that is not in the audit charset is left out rather than failing the entry. */
        e->rule = prc && perr && strlen(perr->rule) <= AUDIT_RULE_MAX &&
                          strspn(perr->rule, "abcdefghijklmnopqrstuvwxyz0123456789_.-") ==
                              strlen(perr->rule)
                      ? perr->rule
                      : "";
        e->request_id = ca->request_id;
}

int cli__audit_read(struct cli_audit *ca, const char *action, int64_t subject, json_t *out, int prc,
                    const struct pop_err *perr, struct pop_err *err)
{
        char fields[AUDIT_FIELDS_MAX + 1] = "";
        int64_t subjects[MAX_SUBJECTS];
        int n = 0;
        if (!prc && json_is_object(out))
                keys_of(out, NULL, fields, sizeof fields);
        if (subject)
                subjects[n++] = subject;
        else if (!prc && json_is_object(out))
                subjects_of(out, subjects, &n);
        struct audit_entry e;
        entry_proto(ca, &e, action, fields, prc, perr);
        return log_subjects(ca, &e, subjects, n, err);
}

int cli__audit_event(struct cli_audit *ca, json_t *ev, json_t *result, int prc,
                     const struct pop_err *perr, struct pop_err *err)
{
        static const char *const not_fields[] = {"type", "date", "legal_basis", NULL};
        static const char *const pid_keys[] = {"pid", "a", "b", "father", "mother", "new_head"};
        char action[AUDIT_ACTION_MAX + 1], fields[AUDIT_FIELDS_MAX + 1];
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (!type || strlen(type) > AUDIT_ACTION_MAX - 6 ||
            strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(type))
                type = "invalid";
        snprintf(action, sizeof action, "event.%s", type);
        keys_of(ev, not_fields, fields, sizeof fields);
        int64_t subjects[MAX_SUBJECTS];
        int n = 0;
        if (result)
                add_subject(json_object_get(result, "pid"), subjects, &n);
        for (size_t i = 0; i < sizeof pid_keys / sizeof pid_keys[0]; i++)
                add_subject(json_object_get(ev, pid_keys[i]), subjects, &n);
        struct audit_entry e;
        entry_proto(ca, &e, action, fields, prc, perr);
        return log_subjects(ca, &e, subjects, n, err);
}

int cli__audit_read_once(const char *db, const char *actor, const char *purpose, const char *action,
                         int64_t subject, json_t *out, int prc, const struct pop_err *perr,
                         struct pop_err *err)
{
        struct cli_audit *ca = NULL;
        int rc = cli__audit_open(db, actor, purpose, &ca, err);
        if (rc)
                return rc;
        rc = cli__audit_read(ca, action, subject, out, prc, perr, err);
        cli__audit_close(ca);
        return rc;
}

int cli__audit_event_once(const char *db, const char *actor, const char *purpose, json_t *ev,
                          json_t *result, int prc, const struct pop_err *perr, struct pop_err *err)
{
        struct cli_audit *ca = NULL;
        int rc = cli__audit_open(db, actor, purpose, &ca, err);
        if (rc)
                return rc;
        rc = cli__audit_event(ca, ev, result, prc, perr, err);
        cli__audit_close(ca);
        return rc;
}

/* ---- popid audit ---- */

static int usage(const char *msg)
{
        fprintf(stderr, "popid: %s (see popid help)\n", msg);
        return CLI_EUSAGE;
}

static int print(json_t *j, int compact)
{
        size_t flags = compact ? JSON_COMPACT : JSON_INDENT(2);
        int rc = json_dumpf(j, stdout, flags | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (rc != 0)
                return CLI_EFAIL;
        fputc('\n', stdout);
        return fflush(stdout) == 0 ? CLI_OK : CLI_EFAIL;
}

static const char *opt(json_t *opts, const char *name)
{
        return json_string_value(json_object_get(opts, name));
}

/* A positive whole number option; def when absent. -1 when malformed. */
static int64_t num_opt(json_t *opts, const char *name, int64_t def)
{
        const char *s = opt(opts, name);
        if (!s)
                return def;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        return errno || *end || end == s || v < 0 ? -1 : v;
}

/* Only the options named (NULL-terminated) may be given. */
static int only(json_t *opts, const char *const *allowed)
{
        const char *k;
        json_t *v;
        json_object_foreach(opts, k, v)
        {
                bool ok = false;
                for (int i = 0; allowed[i]; i++)
                        ok |= !strcmp(k, allowed[i]);
                if (!ok) {
                        fprintf(stderr,
                                "popid: unknown option --%s for popid audit (see popid help)\n", k);
                        return CLI_EUSAGE;
                }
        }
        return 0;
}

static int verify_report(int rc, const struct audit_verify_result *res, const struct pop_err *e,
                         int compact)
{
        if (rc && rc != POP_EVERIFY && rc != POP_EINVAL)
                return cli__fail(e, rc);
        json_t *j = audit_verify_json(res, rc == 0);
        if (rc) {
                /* A malformed export, or one made with another key: the error says why. */
                json_object_set_new(j, "reason", json_string(e->msg));
                json_object_set_new(j, "rule", json_string(e->rule));
        }
        int prc = print(j, compact);
        if (rc)
                return cli__fail(e, rc);
        return prc;
}

static int verify_file(const char *path, const char *pk_text, int compact)
{
        uint8_t pk[AUDIT_PK_BYTES];
        struct pop_err e = {0};
        int rc;
        if (!pk_text)
                return usage("verifying an export needs --public-key KEY (popid audit key)");
        if ((rc = audit_parse_public_key(pk_text, pk, &e)))
                return cli__fail(&e, rc);
        FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
        if (!f) {
                fprintf(stderr, "popid: cannot open %s: %s\n", path, strerror(errno));
                return CLI_EUSAGE;
        }
        struct audit_xv *v = NULL;
        if ((rc = audit_xv_new(pk, &v, &e))) {
                if (f != stdin)
                        fclose(f);
                return cli__fail(&e, rc);
        }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0) {
                if (n > EXPORT_LINE_MAX || audit_xv_line(v, line, (size_t)n, NULL) != 0)
                        break; /* audit_xv_finish says why */
        }
        free(line);
        int read_failed = ferror(f);
        if (f != stdin)
                fclose(f);
        struct audit_verify_result res;
        rc = audit_xv_finish(v, &res, &e);
        audit_xv_free(v);
        if (read_failed) {
                fprintf(stderr, "popid: cannot read %s\n", path);
                return CLI_EFAIL;
        }
        return verify_report(rc, &res, &e, compact);
}

/* A connection to the audit database of db (audit_store_open). */
static int open_audit_store(const char *db, struct store **st)
{
        struct pop_err e = {0};
        int rc = audit_store_open(db, st, &e);
        return rc ? cli__fail(&e, rc) : 0;
}

static int audit_verify_cmd(const char *db, json_t *opts, int compact)
{
        static const char *const allowed[] = {"file", "public-key", NULL};
        int rc = only(opts, allowed);
        if (rc)
                return rc;
        if (opt(opts, "file"))
                return verify_file(opt(opts, "file"), opt(opts, "public-key"), compact);
        /* With --public-key the database's own record of the key is not trusted. */
        uint8_t pk[AUDIT_PK_BYTES];
        struct pop_err e = {0};
        const char *pk_text = opt(opts, "public-key");
        if (pk_text && (rc = audit_parse_public_key(pk_text, pk, &e)))
                return cli__fail(&e, rc);
        struct store *st;
        if ((rc = open_audit_store(db, &st)))
                return rc;
        struct audit_verify_result res;
        int vrc = audit_verify(st, pk_text ? pk : NULL, &res, &e);
        store_close(st);
        return verify_report(vrc, &res, &e, compact);
}

static int audit_export_cmd(const char *db, const char *actor, const char *purpose, json_t *opts,
                            int compact)
{
        static const char *const allowed[] = {"from", "out", NULL};
        int rc = only(opts, allowed);
        if (rc)
                return rc;
        int64_t from = num_opt(opts, "from", 1);
        if (from < 1)
                return usage("--from needs a sequence number (1 or more)");
        const char *out = opt(opts, "out");
        struct store *st;
        if ((rc = open_audit_store(db, &st)))
                return rc;
        struct pop_err e = {0};
        /* The export shows who accessed whose data: it is itself an access, recorded first. */
        struct cli_audit *ca = NULL;
        int prc = cli__audit_open(db, actor, purpose, &ca, &e);
        if (!prc) {
                struct audit_entry en;
                entry_proto(ca, &en, "audit.export", "", 0, NULL);
                prc = audit_log(ca->a, &en, NULL, &e);
                cli__audit_close(ca);
        }
        FILE *f = NULL;
        if (!prc && out && !(f = fopen(out, "wb")))
                prc = pop_fail(&e, POP_EIO, "audit-export-write", "cannot create %s: %s", out,
                               strerror(errno));
        int64_t n = 0;
        if (!prc)
                prc = audit_export(st, from, f ? f : stdout, &n, &e);
        if (f && fclose(f) != 0 && !prc)
                prc = pop_fail(&e, POP_EIO, "audit-export-write", "cannot write %s", out);
        store_close(st);
        if (prc)
                return cli__fail(&e, prc);
        if (!out)
                return CLI_OK;
        return print(json_pack("{s:s, s:I, s:I}", "file", out, "from_seq", (json_int_t)from,
                               "entries", (json_int_t)n),
                     compact);
}

static int audit_key_cmd(const char *db, json_t *opts)
{
        static const char *const allowed[] = {NULL};
        int rc = only(opts, allowed);
        if (rc)
                return rc;
        struct store *st;
        if ((rc = open_audit_store(db, &st)))
                return rc;
        uint8_t pk[AUDIT_PK_BYTES];
        char text[AUDIT_PK_TEXT], key[4096];
        struct pop_err e = {0};
        int prc = audit_public_key(st, pk, text, &e);
        store_close(st);
        if (prc == POP_ENOTFOUND) {
                /* A registry made before the audit log: make its key now. */
                if (!(prc = audit_key_path(db, key, sizeof key, &e)) &&
                    !(prc = audit_key_init(db, key, &e)) && !(prc = open_audit_store(db, &st))) {
                        prc = audit_public_key(st, pk, text, &e);
                        store_close(st);
                }
        }
        if (prc)
                return cli__fail(&e, prc);
        puts(text);
        return fflush(stdout) == 0 ? CLI_OK : CLI_EFAIL;
}

static int audit_log_cmd(const char *db, const char *actor, const char *purpose, json_t *opts,
                         const char *pid_text, int compact)
{
        static const char *const allowed[] = {"before", "limit", NULL};
        int rc = only(opts, allowed);
        if (rc)
                return rc;
        int64_t before = num_opt(opts, "before", 0), limit = num_opt(opts, "limit", 100);
        if (before < 0 || limit < 1 || limit > 500)
                return usage("--before needs a sequence number, --limit 1 to 500");
        int64_t pid;
        struct pop_err e = {0};
        if ((rc = reg_parse_pid(pid_text, &pid, &e)))
                return cli__fail(&e, rc);
        struct store *st;
        if ((rc = open_audit_store(db, &st)))
                return rc;
        json_t *out = NULL;
        int prc = audit_access_log(st, pid, before, (int)limit, &out, &e);
        store_close(st);
        struct pop_err ae = {0};
        struct pop_err pe = e;
        if ((rc = cli__audit_read_once(db, actor, purpose, "accesslog.read", pid, out, prc, &pe,
                                       &ae))) {
                json_decref(out);
                fprintf(stderr, "popid: the access could not be audited, so nothing is shown\n");
                return cli__fail(&ae, rc);
        }
        if (prc)
                return cli__fail(&e, prc);
        return print(out, compact);
}

int cli__audit_cmd(int argc, char **argv)
{
        static const char *const valued[] = {"db",   "actor", "purpose", "file",  "public-key",
                                             "from", "out",   "before",  "limit", NULL};
        const char *db = NULL, *actor = NULL, *purpose = NULL;
        char *pos[3];
        int npos = 0, compact = 0, rc;
        json_t *opts = json_object();
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
                        if (npos == 3) {
                                json_decref(opts);
                                return usage("too many arguments");
                        }
                        pos[npos++] = argv[i];
                        continue;
                }
                const char *name = a + 2;
                if (!strcmp(name, "compact")) {
                        compact = 1;
                        continue;
                }
                bool known = false;
                for (int k = 0; valued[k]; k++)
                        known |= !strcmp(name, valued[k]);
                if (!known || i + 1 >= argc) {
                        fprintf(stderr, "popid: %s option --%s for popid audit (see popid help)\n",
                                known ? "a value is missing after" : "unknown", name);
                        json_decref(opts);
                        return CLI_EUSAGE;
                }
                const char *v = argv[++i];
                if (!strcmp(name, "db"))
                        db = v;
                else if (!strcmp(name, "actor"))
                        actor = v;
                else if (!strcmp(name, "purpose"))
                        purpose = v;
                else
                        json_object_set_new(opts, name, json_string(v));
        }
        if (!db) {
                const char *env = getenv("POPID_DB");
                db = env && *env ? env : NULL;
        }
        char ab[160];
        actor = cli__actor(actor, ab, sizeof ab);
        const char *sub = npos > 0 ? pos[0] : "";
        if (!strcmp(sub, "verify") && npos == 1)
                rc = audit_verify_cmd(db, opts, compact);
        else if (!strcmp(sub, "export") && npos == 1)
                rc = audit_export_cmd(db, actor, purpose, opts, compact);
        else if (!strcmp(sub, "key") && npos == 1)
                rc = audit_key_cmd(db, opts);
        else if (!strcmp(sub, "log") && npos == 2)
                rc = audit_log_cmd(db, actor, purpose, opts, pos[1], compact);
        else
                rc = usage("usage: popid audit verify [--public-key KEY] [--file EXPORT] | export "
                           "[--from SEQ] [--out FILE] | key | log PID [--before SEQ] [--limit N]");
        json_decref(opts);
        return rc;
}
