/*
 * The eID account lifecycle (eid.h): request, activation, password, lock and unlock by the
 * citizen, suspension and reinstatement by an operator, and the audited read. Each call is one
 * store transaction and one audit entry; a refusal leaves the account as it was (only the attempt
 * counters of codes and credentials move, which is their purpose). A transaction that commits
 * has its entry made durable first (eid__commit), so no change is ever committed without one.
 * The checks of credentials live in auth.c.
 */
#include "eid/eid_int.h"

#include "access/access.h"
#include "audit/audit.h"
#include "core/date.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int eid_key_path(const char *uri, char *buf, size_t cap, struct pop_err *err)
{
        return access_keyfile_path(uri, ".eid.key", "eid-key", "eID key", buf, cap, err);
}

/* The same file format and protection as the token pepper (src/access key files). */
int eid_key_load(const char *path, bool create, uint8_t key[EID_KEY_LEN], struct pop_err *err)
{
        _Static_assert(EID_KEY_LEN == ACCESS_KEYFILE_LEN, "the eID key is a key file");
        return access_keyfile_load(path, create, "eid-key", "eID key", key, err);
}

/* ---- shared helpers ---- */

static const char *outcome_of(int rc)
{
        switch (rc) {
        case 0:
                return "ok";
        case POP_ENOTFOUND:
                return "not-found";
        case POP_EINVAL:
        case POP_ERULE:
        case POP_ECONFLICT:
        case POP_EVERIFY:
        case POP_EAGAIN:
        case POP_ETOOBIG:
                return "denied";
        default:
                return "error";
        }
}

/* The audit entry of a step. */
static struct audit_entry step_entry(const struct eid_ctx *c, int64_t pid, const char *action,
                                     const char *outcome, const char *rule, const char *request_id)
{
        struct audit_entry e = {.actor = c->actor ? c->actor : "",
                                .subject = pid,
                                .action = action,
                                .fields = "eid",
                                .purpose = "eid",
                                .outcome = outcome,
                                .rule = rule,
                                .request_id = request_id};
        return e;
}

/* One durable entry of a step; 0 or the audit's failure in aerr. */
static int log_step(struct eid_ctx *c, int64_t pid, const char *action, const char *outcome,
                    const char *rule, const char *request_id, struct pop_err *aerr)
{
        if (!c->audit)
                return pop_fail(aerr, POP_EINVAL, "eid-no-audit", "no audit log to record %s",
                                action);
        struct audit_entry e = step_entry(c, pid, action, outcome, rule, request_id);
        return audit_log(c->audit, &e, NULL, aerr);
}

int eid__audited(struct eid_ctx *c, int64_t pid, const char *action, int rc, struct pop_err *err)
{
        if (c->step_audited) {
                c->step_audited = false;
                return rc;
        }
        struct pop_err aerr = {0};
        int arc = log_step(c, pid, action, outcome_of(rc), rc && err ? err->rule : "", "", &aerr);
        if (arc) {
                if (err)
                        *err = aerr;
                return arc;
        }
        return rc;
}

int eid__entry_then_commit(struct store *st, struct audit *a, const struct audit_entry *e,
                           bool *audit_failed, struct pop_err *err)
{
        struct pop_err aerr = {0}, cerr = {0};
        *audit_failed = false;
        int arc = audit_log(a, e, NULL, &aerr);
        if (arc) {
                /* No durable entry: nothing may be committed. */
                store_rollback(st);
                *audit_failed = true;
                if (err)
                        *err = aerr;
                return arc;
        }
        int crc = store_commit(st, &cerr);
        if (crc) {
                store_rollback(st);
                /* Best effort: should this entry fail too, the log holds an entry of a step that
                 * did not take effect, never a change without one (docs/EID.md "Audit"). */
                struct audit_entry failed = *e;
                failed.outcome = "error";
                failed.rule = cerr.rule;
                int ignored = audit_log(a, &failed, NULL, &aerr);
                (void)ignored;
                if (err)
                        *err = cerr;
                return crc;
        }
        return 0;
}

int eid__commit(struct eid_ctx *c, int64_t pid, const char *action, int rc, struct pop_err *err)
{
        /* The request id ties the step's entry to the "error" entry of a failed commit. */
        uint8_t raw[16];
        char rid[2 * sizeof raw + 1];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(rid, sizeof rid, raw, sizeof raw);
        c->step_audited = false;
        if (!c->audit) {
                /* No durable entry can be made: nothing may be committed. */
                store_rollback(c->st);
                return pop_fail(err, POP_EINVAL, "eid-no-audit", "no audit log to record %s",
                                action);
        }
        struct audit_entry e =
            step_entry(c, pid, action, outcome_of(rc), rc && err ? err->rule : "", rid);
        bool audit_failed;
        int crc = eid__entry_then_commit(c->st, c->audit, &e, &audit_failed, err);
        /* A failed entry: the step's end logs the failure if the log takes entries again. */
        c->step_audited = !audit_failed;
        return crc ? crc : rc;
}

int eid__account(struct eid_ctx *c, int64_t pid, struct store_eid_account *out, struct pop_err *err)
{
        return store_eid_account_get(c->st, pid, out, err);
}

int eid__require_active(const struct store_eid_account *a, struct pop_err *err)
{
        if (a->state == EID_ACTIVE)
                return 0;
        return pop_fail(err, POP_ERULE, "eid-not-active", "the eID account is %s, not active",
                        eid_state_name((enum eid_state)a->state));
}

/* Ends the step's transaction: committed (audited first: eid__commit) on success and on refusals
 * that counted an attempt (they keep the count), else rolled back. */
static int commit_or_rollback(struct eid_ctx *c, int64_t pid, const char *action, int rc,
                              struct pop_err *err)
{
        if (rc == 0 || rc == POP_EVERIFY || rc == POP_ERULE)
                return eid__commit(c, pid, action, rc, err);
        store_rollback(c->st);
        return rc;
}

/* ---- request ---- */

/* The registered channel: an E.164 number ("+" and 8 to 15 digits; ITU-T E.164 section 6) and
 * an e-mail address of the plain form local@domain (RFC 5321 section 4.5.3.1: at most 254
 * characters in a path, 64 in the local part); no spaces or controls. */
static int check_phone(const char *phone, struct pop_err *err)
{
        size_t n = strlen(phone);
        if (n < 9 || n > 16 || phone[0] != '+')
                goto bad;
        for (size_t i = 1; i < n; i++)
                if (phone[i] < '0' || phone[i] > '9')
                        goto bad;
        return 0;
bad:
        return pop_fail(err, POP_EINVAL, "eid-phone",
                        "the phone number must be in E.164 form: + and 8 to 15 digits");
}

static int check_email(const char *email, struct pop_err *err)
{
        size_t n = strlen(email);
        const char *at = strchr(email, '@');
        if (n < 3 || n > 254 || !at || at == email || (size_t)(at - email) > 64 || !at[1] ||
            strchr(at + 1, '@') || !strchr(at + 1, '.'))
                goto bad;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)email[i];
                if (ch <= ' ' || ch >= 0x7f)
                        goto bad;
        }
        return 0;
bad:
        return pop_fail(err, POP_EINVAL, "eid-email",
                        "the e-mail address must be local@domain in ASCII, at most 254 characters");
}

static struct pdate today_of(int64_t now_ms)
{
        return date_from_days((int32_t)(now_ms / 86400000));
}

/*
 * Who may hold an account (Decree 69/2024/ND-CP art. 7(1)): a Vietnamese citizen with a personal
 * ID number; level 1 and level 2 from 6 years old (under 6 only through a guardian's level-2
 * account, not offered here). Level 2 (art. 10(2)) is issued in person against the citizen
 * identity card: the registry must hold a valid, unexpired card. The dead and the missing get
 * none (Law on Identity 2023 art. 34(1)(d)).
 */
static int check_person(struct eid_ctx *c, int64_t pid, enum eid_level level, struct pop_err *err)
{
        struct person p;
        int rc = store_person_get(c->st, pid, &p, err);
        if (rc == POP_ENOTFOUND)
                return pop_fail(err, POP_ENOTFOUND, "person-not-found",
                                "no person %012lld in the registry", (long long)pid);
        if (rc)
                return rc;
        if (p.status == PERSON_DECEASED)
                return pop_fail(err, POP_ERULE, "eid-person-deceased",
                                "%012lld is recorded as deceased", (long long)pid);
        if (p.status == PERSON_MISSING)
                return pop_fail(err, POP_ERULE, "eid-person-missing",
                                "%012lld is recorded as missing", (long long)pid);
        if (strcmp(p.nationality, "VNM") != 0)
                return pop_fail(err, POP_ERULE, "eid-not-citizen",
                                "eID accounts of this kind are for Vietnamese citizens "
                                "(Decree 69/2024 art. 7(1))");
        struct pdate today = today_of(eid__now(c));
        /* the latest day the birth date may stand for: a partial date never makes a child
         * older than they may be */
        if (date_age_on(pdate_latest(p.dob), today) < 6)
                return pop_fail(err, POP_ERULE, "eid-too-young",
                                "an eID account needs the age of 6 (Decree 69/2024 art. 7(1))");
        if (level == EID_LEVEL_2) {
                struct card card;
                rc = store_card_current(c->st, pid, &card, err);
                if (rc == POP_ENOTFOUND ||
                    (!rc && !card.never_expires && pdate_cmp(card.expires, today) < 0))
                        return pop_fail(err, POP_ERULE, "eid-no-valid-card",
                                        "level 2 needs a valid chip card in the registry "
                                        "(Decree 69/2024 art. 10(2))");
                if (rc)
                        return rc;
        }
        return 0;
}

static int request_tx(struct eid_ctx *c, int64_t pid, enum eid_level level, const char *phone,
                      const char *email, char code_out[EID_CODE_DIGITS + 1], struct pop_err *err)
{
        if (level != EID_LEVEL_1 && level != EID_LEVEL_2)
                return pop_fail(err, POP_EINVAL, "eid-level", "the level is 1 or 2");
        phone = phone ? phone : "";
        email = email ? email : "";
        int rc;
        if (!*phone && !*email)
                return pop_fail(err, POP_EINVAL, "eid-channel",
                                "a phone number or an e-mail address is needed to deliver the "
                                "activation code (Decree 69/2024 art. 10(1))");
        if ((*phone && (rc = check_phone(phone, err))) ||
            (*email && (rc = check_email(email, err))))
                return rc;
        if ((rc = check_person(c, pid, level, err)))
                return rc;
        int64_t now = eid__now(c);
        struct store_eid_account a;
        rc = store_eid_account_get(c->st, pid, &a, err);
        if (rc && rc != POP_ENOTFOUND)
                return rc;
        bool exists = rc == 0;
        pop_err_clear(err);
        if (exists && a.state == EID_DELETED)
                return pop_fail(err, POP_ERULE, "eid-closed", "the eID account was closed");
        if (exists && a.state != EID_PENDING) {
                if (level == EID_LEVEL_2 && a.level == EID_LEVEL_1) {
                        /* in-person enrolment raises the existing account (art. 10(2)); its
                         * state and credentials stay */
                        a.level = EID_LEVEL_2;
                        a.updated_ms = now;
                        return store_eid_account_update(c->st, &a, err);
                }
                return pop_fail(err, POP_ECONFLICT, "eid-duplicate",
                                "%012lld already has a level-%d eID account", (long long)pid,
                                a.level);
        }
        if (!exists) {
                memset(&a, 0, sizeof a);
                a.pid = pid;
                a.created_ms = now;
        }
        a.level = level;
        a.state = EID_PENDING;
        snprintf(a.phone, sizeof a.phone, "%s", phone);
        snprintf(a.email, sizeof a.email, "%s", email);
        a.updated_ms = now;
        if ((rc = exists ? store_eid_account_update(c->st, &a, err)
                         : store_eid_account_insert(c->st, &a, err)))
                return rc;
        struct store_eid_cred code;
        eid__code_new(c, pid, EID_KIND_ACTIVATION, code_out, &code);
        rc = store_eid_cred_put(c->st, &code, err);
        if (!rc)
                rc = eid__code_queue(c, &a, EID_KIND_ACTIVATION, code_out, code.expires_ms, err);
        sodium_memzero(&code, sizeof code);
        return rc;
}

int eid_request(struct eid_ctx *c, int64_t pid, enum eid_level level, const char *phone,
                const char *email, char code_out[EID_CODE_DIGITS + 1], struct pop_err *err)
{
        const char *action = level == EID_LEVEL_2 ? "eid.request-level2" : "eid.request";
        code_out[0] = '\0';
        if (c->sent)
                memset(c->sent, 0, sizeof *c->sent);
        int rc = eid__init(err);
        if (!rc && !(rc = store_begin(c->st, err))) {
                rc = request_tx(c, pid, level, phone, email, code_out, err);
                if (rc)
                        store_rollback(c->st);
                else
                        rc = eid__commit(c, pid, action, 0, err);
        }
        if (rc) {
                sodium_memzero(code_out, EID_CODE_DIGITS + 1);
                if (c->sent)
                        memset(c->sent, 0, sizeof *c->sent);
        }
        return eid__audited(c, pid, action, rc, err);
}

/* ---- activation ---- */

int eid_activate(struct eid_ctx *c, int64_t pid, const char *code, struct pop_err *err)
{
        struct store_eid_account a;
        int rc = eid__init(err);
        if (rc || (rc = store_begin(c->st, err)))
                goto out;
        if ((rc = eid__account(c, pid, &a, err))) {
                store_rollback(c->st);
                goto out;
        }
        if (a.state != EID_PENDING) {
                store_rollback(c->st);
                rc = pop_fail(err, POP_ERULE, "eid-not-pending",
                              "the eID account is %s: nothing to activate",
                              eid_state_name((enum eid_state)a.state));
                goto out;
        }
        rc = eid__code_use(c, pid, EID_KIND_ACTIVATION, code, err);
        if (!rc) {
                a.state = EID_ACTIVE;
                a.updated_ms = eid__now(c);
                rc = store_eid_account_update(c->st, &a, err);
        }
        rc = commit_or_rollback(c, pid, "eid.activate", rc, err);
out:
        return eid__audited(c, pid, "eid.activate", rc, err);
}

/* ---- password ---- */

/*
 * Password policy (NIST SP 800-63B section 5.1.1.2, memorized secrets): at least 8 characters
 * and at most 128 bytes, any printable characters (UTF-8, validated), no composition rules
 * beyond one letter and one digit, and not the personal ID number or a run of one character
 * (the most guessed values for this system, in place of a breach list).
 */
int eid_password_policy(const char *password, int64_t pid, struct pop_err *err)
{
        if (!password)
                return pop_fail(err, POP_EINVAL, "eid-password-empty", "no password given");
        size_t n = strlen(password);
        if (n > EID_PASSWORD_MAX)
                return pop_fail(err, POP_EINVAL, "eid-password-long",
                                "the password is longer than %d bytes", EID_PASSWORD_MAX);
        size_t chars = 0;
        bool letter = false, digit = false, same = true;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)password[i];
                if (ch < 0x20 || ch == 0x7f)
                        return pop_fail(err, POP_EINVAL, "eid-password-control",
                                        "the password holds a control character");
                if ((ch & 0xc0) != 0x80)
                        chars++;
                if (ch >= '0' && ch <= '9')
                        digit = true;
                else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80)
                        letter = true;
                if (ch != (unsigned char)password[0])
                        same = false;
        }
        /* validate UTF-8 strictly (libsodium has no UTF-8 check; this walks the RFC 3629 table) */
        for (size_t i = 0; i < n;) {
                unsigned char b = (unsigned char)password[i];
                size_t len = b < 0x80         ? 1
                             : (b >> 5) == 6  ? 2
                             : (b >> 4) == 14 ? 3
                             : (b >> 3) == 30 ? 4
                                              : 0;
                if (!len || i + len > n || (len == 2 && b < 0xc2) || (len == 4 && b > 0xf4))
                        goto bad_utf8;
                for (size_t k = 1; k < len; k++)
                        if (((unsigned char)password[i + k] & 0xc0) != 0x80)
                                goto bad_utf8;
                unsigned char b1 = len > 1 ? (unsigned char)password[i + 1] : 0;
                if ((len == 3 && b == 0xe0 && b1 < 0xa0) || (len == 3 && b == 0xed && b1 >= 0xa0) ||
                    (len == 4 && b == 0xf0 && b1 < 0x90) || (len == 4 && b == 0xf4 && b1 >= 0x90))
                        goto bad_utf8;
                i += len;
        }
        if (chars < EID_PASSWORD_MIN)
                return pop_fail(err, POP_EINVAL, "eid-password-short",
                                "the password needs at least %d characters", EID_PASSWORD_MIN);
        if (!letter || !digit)
                return pop_fail(err, POP_EINVAL, "eid-password-weak",
                                "the password needs at least one letter and one digit");
        char pidtext[16];
        snprintf(pidtext, sizeof pidtext, "%012lld", (long long)pid);
        if (same || strstr(password, pidtext))
                return pop_fail(err, POP_EINVAL, "eid-password-guessable",
                                "the password must not contain the personal ID number or repeat "
                                "one character");
        return 0;
bad_utf8:
        return pop_fail(err, POP_EINVAL, "eid-password-utf8", "the password is not valid UTF-8");
}

/* Argon2id (RFC 9106) through crypto_pwhash_str: defaults are libsodium's INTERACTIVE limits,
 * 2 passes over 64 MiB (RFC 9106 section 4's second recommended option uses 64 MiB too). */
static int password_hash(const struct eid_ctx *c, const char *password, struct store_eid_cred *cr,
                         struct pop_err *err)
{
        unsigned long long ops =
            c->pw_opslimit ? c->pw_opslimit : crypto_pwhash_OPSLIMIT_INTERACTIVE;
        size_t mem = c->pw_memlimit ? c->pw_memlimit : crypto_pwhash_MEMLIMIT_INTERACTIVE;
        char out[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str_alg(out, password, strlen(password), ops, mem,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory hashing the password");
        size_t n = strlen(out);
        memcpy(cr->secret, out, n);
        cr->secret_len = n;
        sodium_memzero(out, sizeof out);
        return 0;
}

int eid_set_password(struct eid_ctx *c, int64_t pid, const char *password, const char *old,
                     struct pop_err *err)
{
        struct store_eid_account a;
        struct store_eid_cred cr = {0};
        int rc = eid__init(err);
        if (rc || (rc = eid_password_policy(password, pid, err)))
                goto out;
        if ((rc = store_begin(c->st, err)))
                goto out;
        if ((rc = eid__account(c, pid, &a, err)) || (rc = eid__require_active(&a, err))) {
                store_rollback(c->st);
                goto out;
        }
        if (a.creds & EID_CRED_PASSWORD) {
                if (!old) {
                        store_rollback(c->st);
                        rc = pop_fail(err, POP_ERULE, "eid-password-set",
                                      "the account has a password: give the current one to "
                                      "change it");
                        goto out;
                }
                if ((rc = eid__password_check(c, pid, old, err))) {
                        rc = commit_or_rollback(c, pid, "eid.password", rc, err);
                        goto out;
                }
        }
        cr.pid = pid;
        snprintf(cr.kind, sizeof cr.kind, "%s", EID_KIND_PASSWORD);
        cr.confirmed = true;
        cr.created_ms = cr.updated_ms = eid__now(c);
        if ((rc = password_hash(c, password, &cr, err)) ||
            (rc = store_eid_cred_put(c->st, &cr, err))) {
                store_rollback(c->st);
                goto out;
        }
        a.creds |= EID_CRED_PASSWORD;
        a.updated_ms = cr.updated_ms;
        rc = store_eid_account_update(c->st, &a, err);
        rc = commit_or_rollback(c, pid, "eid.password", rc, err);
out:
        sodium_memzero(&cr, sizeof cr);
        return eid__audited(c, pid, "eid.password", rc, err);
}

/* ---- lock, unlock ---- */

int eid_lock(struct eid_ctx *c, int64_t pid, const char *password, struct pop_err *err)
{
        struct store_eid_account a;
        int rc = eid__init(err);
        if (rc || (rc = store_begin(c->st, err)))
                goto out;
        if ((rc = eid__account(c, pid, &a, err)) || (rc = eid__require_active(&a, err))) {
                store_rollback(c->st);
                goto out;
        }
        rc = eid__password_check(c, pid, password, err);
        if (!rc) {
                a.state = EID_LOCKED;
                a.updated_ms = eid__now(c);
                rc = store_eid_account_update(c->st, &a, err);
        }
        rc = commit_or_rollback(c, pid, "eid.lock", rc, err);
out:
        return eid__audited(c, pid, "eid.lock", rc, err);
}

static int begin_locked(struct eid_ctx *c, int64_t pid, struct store_eid_account *a,
                        struct pop_err *err)
{
        int rc = eid__init(err);
        if (rc || (rc = store_begin(c->st, err)))
                return rc;
        if ((rc = eid__account(c, pid, a, err)))
                goto fail;
        if (a->state != EID_LOCKED) {
                rc = pop_fail(err, POP_ERULE, "eid-not-locked", "the eID account is %s, not locked",
                              eid_state_name((enum eid_state)a->state));
                goto fail;
        }
        return 0;
fail:
        store_rollback(c->st);
        return rc;
}

int eid_unlock_code(struct eid_ctx *c, int64_t pid, char code_out[EID_CODE_DIGITS + 1],
                    struct pop_err *err)
{
        code_out[0] = '\0';
        if (c->sent)
                memset(c->sent, 0, sizeof *c->sent);
        struct store_eid_account a;
        int rc = begin_locked(c, pid, &a, err);
        if (rc)
                goto out;
        struct store_eid_cred code;
        eid__code_new(c, pid, EID_KIND_UNLOCK, code_out, &code);
        rc = store_eid_cred_put(c->st, &code, err);
        /* the message and the code in one transaction: neither exists without the other */
        if (!rc)
                rc = eid__code_queue(c, &a, EID_KIND_UNLOCK, code_out, code.expires_ms, err);
        sodium_memzero(&code, sizeof code);
        /* nothing is counted here: any refusal rolls the code and its message back together */
        if (rc)
                store_rollback(c->st);
        else
                rc = eid__commit(c, pid, "eid.unlock-code", 0, err);
        if (rc) {
                sodium_memzero(code_out, EID_CODE_DIGITS + 1);
                if (c->sent)
                        memset(c->sent, 0, sizeof *c->sent);
        }
out:
        return eid__audited(c, pid, "eid.unlock-code", rc, err);
}

/*
 * Unlocking proves control of the account the way enrolment did: the password and the second
 * factor (TOTP) when one is enrolled, or a fresh code sent to the registered channel (as the
 * activation code was). A password alone does not unlock: a thief who learned it is what a lock
 * is for.
 */
int eid_unlock(struct eid_ctx *c, int64_t pid, const char *password, const char *totp,
               const char *channel_code, struct pop_err *err)
{
        struct store_eid_account a;
        int rc = begin_locked(c, pid, &a, err);
        if (rc)
                goto out;
        if (channel_code) {
                rc = eid__code_use(c, pid, EID_KIND_UNLOCK, channel_code, err);
        } else if (!(a.creds & EID_CRED_TOTP) || !totp || !password) {
                rc = pop_fail(err, POP_ERULE, "eid-unlock-proof",
                              "unlocking needs the password and a TOTP code, or an unlock code "
                              "sent to the registered channel");
        } else if (!(rc = eid__password_check(c, pid, password, err))) {
                rc = eid__totp_check(c, pid, totp, true, err);
        }
        if (!rc) {
                a.state = EID_ACTIVE;
                a.updated_ms = eid__now(c);
                rc = store_eid_account_update(c->st, &a, err);
        }
        rc = commit_or_rollback(c, pid, "eid.unlock", rc, err);
out:
        return eid__audited(c, pid, "eid.unlock", rc, err);
}

/* ---- operators ---- */

static int check_reason(const char *reason, struct pop_err *err)
{
        size_t n = reason ? strlen(reason) : 0;
        if (n == 0)
                return pop_fail(err, POP_EINVAL, "eid-reason", "a reason is required");
        if (n > EID_REASON_MAX)
                return pop_fail(err, POP_ETOOBIG, "eid-reason",
                                "the reason is longer than %d bytes", EID_REASON_MAX);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)reason[i] < 0x20)
                        return pop_fail(err, POP_EINVAL, "eid-reason",
                                        "the reason holds a control character");
        return 0;
}

/* Law on Identity 2023 art. 34(1)(b), (c), (đ): an operator suspends an account for a breach
 * of the terms, a revoked card or an authority's request, and reinstates it when that ends. */
static int operator_set(struct eid_ctx *c, int64_t pid, const char *reason, bool suspend,
                        struct pop_err *err)
{
        struct store_eid_account a;
        int rc = eid__init(err);
        if (rc || (rc = check_reason(reason, err)) || (rc = store_begin(c->st, err)))
                return rc;
        if ((rc = eid__account(c, pid, &a, err)))
                goto fail;
        if (suspend && (a.state == EID_SUSPENDED || a.state == EID_DELETED)) {
                rc = pop_fail(err, POP_ERULE, "eid-not-suspendable", "the eID account is %s",
                              eid_state_name((enum eid_state)a.state));
                goto fail;
        }
        if (!suspend && a.state != EID_SUSPENDED) {
                rc = pop_fail(err, POP_ERULE, "eid-not-suspended",
                              "the eID account is %s, not suspended",
                              eid_state_name((enum eid_state)a.state));
                goto fail;
        }
        /* A reinstated account goes back to active; one suspended while pending restarts as
         * pending only if it never had a password (it was never used). */
        a.state = suspend                         ? EID_SUSPENDED
                  : (a.creds & EID_CRED_PASSWORD) ? EID_ACTIVE
                                                  : EID_PENDING;
        snprintf(a.reason, sizeof a.reason, "%s", reason);
        a.updated_ms = eid__now(c);
        if ((rc = store_eid_account_update(c->st, &a, err)))
                goto fail;
        return eid__commit(c, pid, suspend ? "eid.suspend" : "eid.reinstate", 0, err);
fail:
        store_rollback(c->st);
        return rc;
}

int eid_suspend(struct eid_ctx *c, int64_t pid, const char *reason, struct pop_err *err)
{
        return eid__audited(c, pid, "eid.suspend", operator_set(c, pid, reason, true, err), err);
}

int eid_reinstate(struct eid_ctx *c, int64_t pid, const char *reason, struct pop_err *err)
{
        return eid__audited(c, pid, "eid.reinstate", operator_set(c, pid, reason, false, err), err);
}

int eid_show(struct eid_ctx *c, int64_t pid, struct eid_account *out, struct pop_err *err)
{
        int rc = eid_account_load(c->st, pid, out, err);
        rc = eid__audited(c, pid, "eid.show", rc, err);
        if (rc)
                memset(out, 0, sizeof *out);
        return rc;
}
