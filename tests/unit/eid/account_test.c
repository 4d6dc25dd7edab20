/*
 * Unit tests of eID accounts (src/eid/, src/store/sqlite_eid.c), run on "sqlite:" and on
 * "fault:sqlite:": the store's account and credential rows, the lookup other services call
 * (eid_account_get), every rule of the lifecycle and each refusal leaving the account as it was,
 * activation code expiry, attempts and reuse, the password policy and Argon2id, TOTP against the
 * RFC 6238 Appendix B vectors and replay, device challenge-response, the lockout schedule with an
 * injected clock (no sleeps), lock/unlock/suspend/reinstate, the audit entries (and no secret in
 * the audit log), the closure of an account by the registry's death event, and the delivery of
 * activation and unlock codes through the outbox (one transaction with the code, also under
 * injected write faults).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "eid/eid.h"
#include "eid/eid_int.h"
#include "hub/outbox.h"
#include "jfreed.h"
#include "registry/registry.h"

#include <jansson.h>
#include <liboath/oath.h>
#include <sodium.h>

#define NOW 1795428000000LL /* 2026-11-23T10:00:00Z */
#define PID 79092026135LL

static const char *uri_prefix;

struct fx {
        char path[512];
        char uri[600];
        struct store *st;
        struct audit *audit;
        struct eid_ctx c;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        if (!f)
                return -1;
        tu_tmpdir();
        tu_path(f->path, sizeof f->path, "eid.db");
        snprintf(f->uri, sizeof f->uri, "%s%s", uri_prefix, f->path);
        struct pop_err err = {0};
        if (store_open(f->uri, 1, &f->st, &err)) {
                print_error("store_open(%s): %s\n", f->uri, err.msg);
                free(f);
                return -1;
        }
        char kp[600];
        if (audit_key_path(f->uri, kp, sizeof kp, &err) ||
            audit_open(f->uri, kp, NULL, &f->audit, &err)) {
                print_error("audit_open: %s\n", err.msg);
                return -1;
        }
        f->c.st = f->st;
        f->c.audit = f->audit;
        f->c.actor = "test:eid";
        f->c.now_ms = NOW;
        f->c.pw_opslimit = crypto_pwhash_OPSLIMIT_MIN;
        f->c.pw_memlimit = crypto_pwhash_MEMLIMIT_MIN;
        if (sodium_init() < 0)
                return -1;
        randombytes_buf(f->c.key, sizeof f->c.key);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        (void)audit_close(f->audit, &err);
        store_close(f->st);
        free(f);
        return 0;
}

#define ok(expr)                                                                                   \
        do {                                                                                       \
                int rc_ = (expr);                                                                  \
                if (rc_) {                                                                         \
                        print_error("%s: %d %s\n", #expr, rc_, err.msg);                           \
                        fail();                                                                    \
                }                                                                                  \
        } while (0)

static struct store_eid_account sample(void)
{
        struct store_eid_account a = {0};
        a.pid = PID;
        a.level = EID_LEVEL_1;
        a.state = EID_ACTIVE;
        snprintf(a.phone, sizeof a.phone, "%s", "+84901234567");
        snprintf(a.email, sizeof a.email, "%s", "an@example.vn");
        a.creds = EID_CRED_PASSWORD | EID_CRED_TOTP;
        a.created_ms = NOW;
        a.updated_ms = NOW + 1;
        return a;
}

static void test_account_get_round_trip(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct eid_account acc;
        assert_int_equal(eid_account_get(f->st, PID, &acc), POP_ENOTFOUND);

        struct store_eid_account a = sample();
        ok(store_begin(f->st, &err));
        ok(store_eid_account_insert(f->st, &a, &err));
        ok(store_commit(f->st, &err));

        assert_int_equal(eid_account_get(f->st, PID, &acc), 0);
        assert_int_equal(acc.pid, PID);
        assert_int_equal(acc.level, EID_LEVEL_1);
        assert_int_equal(acc.state, EID_ACTIVE);
        assert_true(eid_account_usable(&acc));
        assert_string_equal(acc.phone, "+84901234567");
        assert_string_equal(acc.email, "an@example.vn");
        assert_int_equal(acc.creds, EID_CRED_PASSWORD | EID_CRED_TOTP);
        assert_int_equal(acc.created_ms, NOW);
        assert_int_equal(acc.updated_ms, NOW + 1);
        assert_string_equal(eid_state_name(acc.state), "active");

        /* a duplicate is refused, and leaves the row as it was */
        struct store_eid_account b = sample();
        b.level = EID_LEVEL_2;
        ok(store_begin(f->st, &err));
        assert_int_equal(store_eid_account_insert(f->st, &b, &err), POP_ECONFLICT);
        assert_string_equal(err.rule, "eid-duplicate");
        store_rollback(f->st);
        assert_int_equal(eid_account_get(f->st, PID, &acc), 0);
        assert_int_equal(acc.level, EID_LEVEL_1);

        /* update; update of a missing account */
        a.state = EID_SUSPENDED;
        snprintf(a.reason, sizeof a.reason, "%s", "court order");
        ok(store_begin(f->st, &err));
        ok(store_eid_account_update(f->st, &a, &err));
        b.pid = PID + 1;
        assert_int_equal(store_eid_account_update(f->st, &b, &err), POP_ENOTFOUND);
        ok(store_commit(f->st, &err));
        assert_int_equal(eid_account_get(f->st, PID, &acc), 0);
        assert_int_equal(acc.state, EID_SUSPENDED);
        assert_false(eid_account_usable(&acc));
        assert_string_equal(acc.reason, "court order");
        assert_int_equal(eid_account_get(f->st, PID + 1, &acc), POP_ENOTFOUND);
}

static void test_credentials_and_death(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct store_eid_account a = sample();
        struct store_eid_cred c = {0}, got;
        c.pid = PID;
        snprintf(c.kind, sizeof c.kind, "%s", "device");
        memset(c.secret, 0xab, 32);
        c.secret_len = 32;
        c.failures = 3;
        c.locked_until_ms = NOW + 5;
        c.expires_ms = 0;
        c.counter = 42;
        c.created_ms = NOW;
        c.updated_ms = NOW;
        ok(store_begin(f->st, &err));
        ok(store_eid_account_insert(f->st, &a, &err));
        ok(store_eid_cred_put(f->st, &c, &err));
        snprintf(c.kind, sizeof c.kind, "%s", "password");
        c.secret_len = 5;
        ok(store_eid_cred_put(f->st, &c, &err));
        ok(store_commit(f->st, &err));

        ok(store_eid_cred_get(f->st, PID, "device", &got, &err));
        assert_int_equal(got.secret_len, 32);
        assert_memory_equal(got.secret, c.secret, 32);
        assert_int_equal(got.failures, 3);
        assert_int_equal(got.locked_until_ms, NOW + 5);
        assert_int_equal(got.counter, 42);
        assert_false(got.confirmed);
        assert_int_equal(store_eid_cred_get(f->st, PID, "totp", &got, &err), POP_ENOTFOUND);

        /* replace */
        c.confirmed = true;
        c.failures = 0;
        ok(store_begin(f->st, &err));
        ok(store_eid_cred_put(f->st, &c, &err));
        ok(store_commit(f->st, &err));
        ok(store_eid_cred_get(f->st, PID, "password", &got, &err));
        assert_true(got.confirmed);
        assert_int_equal(got.failures, 0);
        assert_int_equal(got.secret_len, 5);

        /* closure on death: state deleted, every credential gone; no account: nothing to do */
        ok(store_begin(f->st, &err));
        ok(eid_close_on_death(f->st, PID, NOW + 10, &err));
        ok(eid_close_on_death(f->st, PID + 1, NOW + 10, &err));
        ok(store_commit(f->st, &err));
        struct eid_account acc;
        assert_int_equal(eid_account_get(f->st, PID, &acc), 0);
        assert_int_equal(acc.state, EID_DELETED);
        assert_int_equal(acc.creds, 0);
        assert_int_equal(acc.updated_ms, NOW + 10);
        assert_int_equal(store_eid_cred_get(f->st, PID, "password", &got, &err), POP_ENOTFOUND);
        assert_int_equal(store_eid_cred_get(f->st, PID, "device", &got, &err), POP_ENOTFOUND);
}

/* ---- the service ---- */

#define P_ADULT   1092026135LL /* born 1992 */
#define P_CHILD   1120000001LL /* born 2021-06-01: 5 on NOW */
#define P_YEAR    1120000002LL /* born "2020" only: may still be 5 on NOW */
#define P_SIX     1120000003LL /* born 2020-11-23: 6 on NOW */
#define P_DEAD    1092000004LL
#define P_LOST    1092000005LL
#define P_ALIEN   1092000006LL
#define P_CARD    1092000007LL /* valid card */
#define P_OLDCARD 1092000008LL /* expired card */

static void add_person(struct store *st, int64_t pid, const char *dob, enum person_status status,
                       const char *nat)
{
        struct pop_err err = {0};
        struct person p = {0};
        p.pid = pid;
        snprintf(p.full_name, sizeof p.full_name, "%s", "Nguyễn Văn An");
        snprintf(p.name_fold, sizeof p.name_fold, "%s", "nguyễn văn an");
        snprintf(p.name_key, sizeof p.name_key, "%s", "nguyen van an");
        ok(pdate_parse(dob, strlen(dob), &p.dob, &err));
        p.sex = SEX_MALE;
        p.birth_province = 79;
        snprintf(p.nationality, sizeof p.nationality, "%s", nat);
        p.status = status;
        ok(store_person_insert(st, &p, &err));
}

static void add_card(struct store *st, int64_t pid, const char *issued, const char *expires)
{
        struct pop_err err = {0};
        struct card c = {0};
        c.pid = pid;
        ok(pdate_parse(issued, strlen(issued), &c.issued, &err));
        ok(pdate_parse(expires, strlen(expires), &c.expires, &err));
        c.status = CARD_VALID;
        ok(store_card_insert(st, &c, &err));
}

static void people(struct fx *f)
{
        struct pop_err err = {0};
        ok(store_begin(f->st, &err));
        add_person(f->st, P_ADULT, "1992-04-02", PERSON_LIVING, "VNM");
        add_person(f->st, P_CHILD, "2021-06-01", PERSON_LIVING, "VNM");
        add_person(f->st, P_YEAR, "2020", PERSON_LIVING, "VNM");
        add_person(f->st, P_SIX, "2020-11-23", PERSON_LIVING, "VNM");
        add_person(f->st, P_DEAD, "1950-01-01", PERSON_DECEASED, "VNM");
        add_person(f->st, P_LOST, "1950-01-01", PERSON_MISSING, "VNM");
        add_person(f->st, P_ALIEN, "1980-01-01", PERSON_LIVING, "FRA");
        add_person(f->st, P_CARD, "1990-01-01", PERSON_LIVING, "VNM");
        add_card(f->st, P_CARD, "2024-07-01", "2030-01-01");
        add_person(f->st, P_OLDCARD, "1990-01-01", PERSON_LIVING, "VNM");
        add_card(f->st, P_OLDCARD, "2010-07-01", "2025-01-01");
        ok(store_commit(f->st, &err));
}

/* Everything stored about a person's account, to prove a refusal changed nothing. */
struct snap {
        int rc;
        struct store_eid_account a;
        struct store_eid_cred cr[6];
        int crc[6];
};

static const char *const kinds[6] = {"password",   "totp",   "device",
                                     "activation", "unlock", "challenge"};

static void take(struct fx *f, int64_t pid, struct snap *s)
{
        memset(s, 0, sizeof *s);
        s->rc = store_eid_account_get(f->st, pid, &s->a, NULL);
        for (int i = 0; i < 6; i++)
                s->crc[i] = store_eid_cred_get(f->st, pid, kinds[i], &s->cr[i], NULL);
}

static void same(struct fx *f, int64_t pid, const struct snap *before)
{
        struct snap now;
        take(f, pid, &now);
        assert_int_equal(now.rc, before->rc);
        assert_memory_equal(&now.a, &before->a, sizeof now.a);
        for (int i = 0; i < 6; i++) {
                assert_int_equal(now.crc[i], before->crc[i]);
                assert_memory_equal(&now.cr[i], &before->cr[i], sizeof now.cr[i]);
        }
}

/* Expects a refusal with a rule, and nothing changed. */
#define refused(f, pid, want, want_rule, expr)                                                     \
        do {                                                                                       \
                struct snap s_;                                                                    \
                take(f, pid, &s_);                                                                 \
                pop_err_clear(&err);                                                               \
                int rc_ = (expr);                                                                  \
                if (rc_ != (want) || strcmp(err.rule, want_rule) != 0) {                           \
                        print_error("%s: %d %s (%s), wanted %d %s\n", #expr, rc_, err.rule,        \
                                    err.msg, want, want_rule);                                     \
                        fail();                                                                    \
                }                                                                                  \
                same(f, pid, &s_);                                                                 \
        } while (0)

static void active_account(struct fx *f, int64_t pid, const char *password)
{
        struct pop_err err = {0};
        char code[EID_CODE_DIGITS + 1];
        ok(eid_request(&f->c, pid, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        ok(eid_activate(&f->c, pid, code, &err));
        if (password)
                ok(eid_set_password(&f->c, pid, password, NULL, &err));
}

static void add_card_tx(struct fx *f, int64_t pid)
{
        struct pop_err err = {0};
        ok(store_begin(f->st, &err));
        add_card(f->st, pid, "2025-01-01", "2032-04-02");
        ok(store_commit(f->st, &err));
}

static void active_account_ctx(struct eid_ctx *c, int64_t pid)
{
        struct pop_err err = {0};
        char code[EID_CODE_DIGITS + 1];
        ok(eid_request(c, pid, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        ok(eid_activate(c, pid, code, &err));
        ok(eid_set_password(c, pid, "correct horse 1", NULL, &err));
}

static void test_request_rules(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        char code[EID_CODE_DIGITS + 1];
        people(f);
        refused(f, P_ADULT, POP_EINVAL, "eid-channel",
                eid_request(&f->c, P_ADULT, EID_LEVEL_1, NULL, "", code, &err));
        refused(f, P_ADULT, POP_EINVAL, "eid-phone",
                eid_request(&f->c, P_ADULT, EID_LEVEL_1, "0901234567", NULL, code, &err));
        refused(f, P_ADULT, POP_EINVAL, "eid-email",
                eid_request(&f->c, P_ADULT, EID_LEVEL_1, NULL, "an at example", code, &err));
        refused(f, P_ADULT, POP_EINVAL, "eid-level",
                eid_request(&f->c, P_ADULT, (enum eid_level)3, "+84901234567", NULL, code, &err));
        refused(f, 1999999999LL, POP_ENOTFOUND, "person-not-found",
                eid_request(&f->c, 1999999999LL, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        refused(f, P_DEAD, POP_ERULE, "eid-person-deceased",
                eid_request(&f->c, P_DEAD, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        refused(f, P_LOST, POP_ERULE, "eid-person-missing",
                eid_request(&f->c, P_LOST, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        refused(f, P_ALIEN, POP_ERULE, "eid-not-citizen",
                eid_request(&f->c, P_ALIEN, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        refused(f, P_CHILD, POP_ERULE, "eid-too-young",
                eid_request(&f->c, P_CHILD, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        /* a year-only birth date may stand for 31 December: not yet 6 */
        refused(f, P_YEAR, POP_ERULE, "eid-too-young",
                eid_request(&f->c, P_YEAR, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        refused(f, P_ADULT, POP_ERULE, "eid-no-valid-card",
                eid_request(&f->c, P_ADULT, EID_LEVEL_2, "+84901234567", NULL, code, &err));
        refused(f, P_OLDCARD, POP_ERULE, "eid-no-valid-card",
                eid_request(&f->c, P_OLDCARD, EID_LEVEL_2, "+84901234567", NULL, code, &err));
        assert_string_equal(code, "");

        /* six today: accepted; the code is 8 digits, the account pending with its channel */
        ok(eid_request(&f->c, P_SIX, EID_LEVEL_1, NULL, "be@example.vn", code, &err));
        assert_int_equal(strlen(code), EID_CODE_DIGITS);
        assert_int_equal(strspn(code, "0123456789"), EID_CODE_DIGITS);
        struct eid_account acc;
        ok(eid_account_get(f->st, P_SIX, &acc));
        assert_int_equal(acc.state, EID_PENDING);
        assert_int_equal(acc.level, EID_LEVEL_1);
        assert_string_equal(acc.email, "be@example.vn");
        assert_string_equal(acc.phone, "");
        assert_false(eid_account_usable(&acc));
        /* the code is stored only as a keyed hash */
        struct store_eid_cred cr;
        ok(store_eid_cred_get(f->st, P_SIX, "activation", &cr, &err));
        assert_int_equal(cr.secret_len, 32);
        assert_null(memmem(cr.secret, cr.secret_len, code, strlen(code)));

        /* level 2 with a valid card; then a duplicate is refused once active */
        ok(eid_request(&f->c, P_CARD, EID_LEVEL_2, "+84901234567", NULL, code, &err));
        ok(eid_activate(&f->c, P_CARD, code, &err));
        ok(eid_account_get(f->st, P_CARD, &acc));
        assert_int_equal(acc.level, EID_LEVEL_2);
        assert_int_equal(acc.state, EID_ACTIVE);
        refused(f, P_CARD, POP_ECONFLICT, "eid-duplicate",
                eid_request(&f->c, P_CARD, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        refused(f, P_CARD, POP_ECONFLICT, "eid-duplicate",
                eid_request(&f->c, P_CARD, EID_LEVEL_2, "+84901234567", NULL, code, &err));

        /* an active level-1 account is raised to level 2 in person, without a new code */
        active_account(f, P_ADULT, NULL);
        add_card_tx(f, P_ADULT);
        ok(eid_request(&f->c, P_ADULT, EID_LEVEL_2, "+84901234567", NULL, code, &err));
        assert_string_equal(code, "");
        ok(eid_account_get(f->st, P_ADULT, &acc));
        assert_int_equal(acc.level, EID_LEVEL_2);
        assert_int_equal(acc.state, EID_ACTIVE);
}

static void test_activation_code(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        char code[EID_CODE_DIGITS + 1], wrong[EID_CODE_DIGITS + 1];
        people(f);
        ok(eid_request(&f->c, P_ADULT, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        snprintf(wrong, sizeof wrong, "%s", code);
        wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
        /* wrong codes count; the 5th voids the code */
        for (int i = 1; i < EID_CODE_ATTEMPTS; i++) {
                assert_int_equal(eid_activate(&f->c, P_ADULT, wrong, &err), POP_EVERIFY);
                assert_string_equal(err.rule, "eid-code-wrong");
                struct store_eid_cred cr;
                ok(store_eid_cred_get(f->st, P_ADULT, "activation", &cr, &err));
                assert_int_equal(cr.failures, i);
        }
        assert_int_equal(eid_activate(&f->c, P_ADULT, wrong, &err), POP_EVERIFY);
        refused(f, P_ADULT, POP_ERULE, "eid-no-code", eid_activate(&f->c, P_ADULT, code, &err));
        refused(f, P_ADULT, POP_ERULE, "eid-no-code", eid_activate(&f->c, P_ADULT, "12", &err));

        /* a new request gives a new code; it expires after 15 minutes */
        ok(eid_request(&f->c, P_ADULT, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        f->c.now_ms = NOW + EID_CODE_TTL_MS;
        assert_int_equal(eid_activate(&f->c, P_ADULT, code, &err), POP_ERULE);
        assert_string_equal(err.rule, "eid-code-expired");
        struct eid_account acc;
        ok(eid_account_get(f->st, P_ADULT, &acc));
        assert_int_equal(acc.state, EID_PENDING);

        /* just before expiry it works, once */
        ok(eid_request(&f->c, P_ADULT, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        f->c.now_ms += EID_CODE_TTL_MS - 1;
        ok(eid_activate(&f->c, P_ADULT, code, &err));
        ok(eid_account_get(f->st, P_ADULT, &acc));
        assert_int_equal(acc.state, EID_ACTIVE);
        refused(f, P_ADULT, POP_ERULE, "eid-not-pending", eid_activate(&f->c, P_ADULT, code, &err));
}

static void test_password(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        people(f);
        const char *bad[][2] = {
            {"short1", "eid-password-short"},
            {"abcdefghij", "eid-password-weak"},
            {"1234567890", "eid-password-weak"},
            {"aaaaaaaaaa", "eid-password-weak"},
            {"x001092026135", "eid-password-guessable"},
            {"abc\tdef12345", "eid-password-control"},
            {"abcdef12\xc3\x28", "eid-password-utf8"},
            {"abcdef12\xed\xa0\x80", "eid-password-utf8"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(eid_password_policy(bad[i][0], P_ADULT, &err), POP_EINVAL);
                assert_string_equal(err.rule, bad[i][1]);
        }
        char longpw[EID_PASSWORD_MAX + 2];
        memset(longpw, 'a', sizeof longpw - 1);
        longpw[0] = '1';
        longpw[sizeof longpw - 1] = '\0';
        assert_int_equal(eid_password_policy(longpw, P_ADULT, &err), POP_EINVAL);
        ok(eid_password_policy("Mật khẩu 2026", P_ADULT, &err)); /* 13 characters, UTF-8 */

        /* pending: no password yet */
        char code[EID_CODE_DIGITS + 1];
        ok(eid_request(&f->c, P_ADULT, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        refused(f, P_ADULT, POP_ERULE, "eid-not-active",
                eid_set_password(&f->c, P_ADULT, "correct horse 1", NULL, &err));
        ok(eid_activate(&f->c, P_ADULT, code, &err));
        refused(f, P_ADULT, POP_EINVAL, "eid-password-short",
                eid_set_password(&f->c, P_ADULT, "abc1", NULL, &err));
        ok(eid_set_password(&f->c, P_ADULT, "correct horse 1", NULL, &err));
        struct store_eid_cred cr;
        ok(store_eid_cred_get(f->st, P_ADULT, "password", &cr, &err));
        assert_memory_equal(cr.secret, "$argon2id$", 10);
        assert_null(memmem(cr.secret, cr.secret_len, "horse", 5));
        struct eid_account acc;
        ok(eid_account_get(f->st, P_ADULT, &acc));
        assert_int_equal(acc.creds, EID_CRED_PASSWORD);

        /* change: needs the current one */
        refused(f, P_ADULT, POP_ERULE, "eid-password-set",
                eid_set_password(&f->c, P_ADULT, "battery staple 2", NULL, &err));
        assert_int_equal(eid_set_password(&f->c, P_ADULT, "battery staple 2", "wrong one 1", &err),
                         POP_EVERIFY);
        ok(eid_set_password(&f->c, P_ADULT, "battery staple 2", "correct horse 1", &err));
        assert_int_equal(eid_login_password(&f->c, P_ADULT, "correct horse 1", &err), POP_EVERIFY);
        assert_string_equal(err.rule, "eid-wrong-password");
        ok(eid_login_password(&f->c, P_ADULT, "battery staple 2", &err));
        /* the successful login reset the failures */
        ok(store_eid_cred_get(f->st, P_ADULT, "password", &cr, &err));
        assert_int_equal(cr.failures, 0);
}

static void test_lockout_timing(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        people(f);
        active_account(f, P_ADULT, "correct horse 1");
        assert_int_equal(eid__lockout_ms(4), 0);
        assert_int_equal(eid__lockout_ms(5), 60000);
        assert_int_equal(eid__lockout_ms(6), 120000);
        assert_int_equal(eid__lockout_ms(15), 60000LL << 10);
        assert_int_equal(eid__lockout_ms(16), EID_LOCK_MAX_MS);
        assert_int_equal(eid__lockout_ms(1000), EID_LOCK_MAX_MS);

        for (int i = 1; i <= 4; i++)
                assert_int_equal(eid_login_password(&f->c, P_ADULT, "nope nope 1", &err),
                                 POP_EVERIFY);
        ok(eid_login_password(&f->c, P_ADULT, "correct horse 1", &err)); /* 4: not locked; reset */
        for (int i = 1; i <= 5; i++)
                assert_int_equal(eid_login_password(&f->c, P_ADULT, "nope nope 1", &err),
                                 POP_EVERIFY);
        /* the 5th failure locked it for a minute: even the right password is refused, uncounted */
        int64_t t0 = f->c.now_ms;
        f->c.now_ms = t0 + 59999;
        refused(f, P_ADULT, POP_EAGAIN, "eid-locked-out",
                eid_login_password(&f->c, P_ADULT, "correct horse 1", &err));
        f->c.now_ms = t0 + 60000;
        assert_int_equal(eid_login_password(&f->c, P_ADULT, "nope nope 1", &err), POP_EVERIFY);
        /* the 6th: two minutes from now */
        f->c.now_ms = t0 + 60000 + 119999;
        refused(f, P_ADULT, POP_EAGAIN, "eid-locked-out",
                eid_login_password(&f->c, P_ADULT, "correct horse 1", &err));
        f->c.now_ms = t0 + 60000 + 120000;
        ok(eid_login_password(&f->c, P_ADULT, "correct horse 1", &err));
        struct store_eid_cred cr;
        ok(store_eid_cred_get(f->st, P_ADULT, "password", &cr, &err));
        assert_int_equal(cr.failures, 0);
        assert_int_equal(cr.locked_until_ms, 0);
        /* after the reset one failure does not lock */
        assert_int_equal(eid_login_password(&f->c, P_ADULT, "nope nope 1", &err), POP_EVERIFY);
        ok(eid_login_password(&f->c, P_ADULT, "correct horse 1", &err));
}

static void test_totp_rfc6238(void **state)
{
        (void)state;
        /* RFC 6238 Appendix B, SHA-1 column, 8 digits, seed "12345678901234567890" */
        static const struct {
                int64_t t;
                const char *otp;
        } v[] = {
            {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
            {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000LL, "65353130"},
        };
        const uint8_t *seed = (const uint8_t *)"12345678901234567890";
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
                char out[9];
                assert_int_equal(eid_totp_code(seed, 20, v[i].t, 8, out), 0);
                assert_string_equal(out, v[i].otp);
        }
        char out[9];
        assert_int_equal(eid_totp_code(seed, 20, 59, 6, out), 0);
        assert_string_equal(out, "287082");
        assert_int_equal(eid_totp_code(seed, 20, 59, 5, out), POP_EINVAL);
}

static void totp_now(struct fx *f, const char *b32, char out[9])
{
        char *seed = NULL;
        size_t len = 0;
        assert_int_equal(oath_base32_decode(b32, strlen(b32), &seed, &len), OATH_OK);
        assert_int_equal(len, EID_TOTP_SECRET);
        assert_int_equal(eid_totp_code((uint8_t *)seed, len, f->c.now_ms / 1000, 6, out), 0);
        free(seed);
}

static void test_totp_enrol_and_check(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        people(f);
        active_account(f, P_ADULT, "correct horse 1");
        char b32[EID_TOTP_B32_MAX], otp[9];
        /* a wrong password is refused (and counted, as every failed check) */
        assert_int_equal(eid_totp_enrol(&f->c, P_ADULT, "nope nope 1", b32, &err), POP_EVERIFY);
        assert_string_equal(b32, "");
        ok(eid_totp_enrol(&f->c, P_ADULT, "correct horse 1", b32, &err));
        /* the seed is stored sealed */
        struct store_eid_cred cr;
        ok(store_eid_cred_get(f->st, P_ADULT, "totp", &cr, &err));
        assert_false(cr.confirmed);
        assert_int_equal(cr.secret_len, 24 + 16 + EID_TOTP_SECRET);
        /* not confirmed yet: checks refuse */
        totp_now(f, b32, otp);
        refused(f, P_ADULT, POP_ERULE, "eid-no-totp", eid_check_totp(&f->c, P_ADULT, otp, &err));
        assert_int_equal(eid_totp_confirm(&f->c, P_ADULT, "000000x", &err), POP_EVERIFY);
        ok(eid_totp_confirm(&f->c, P_ADULT, otp, &err));
        struct eid_account acc;
        ok(eid_account_get(f->st, P_ADULT, &acc));
        assert_int_equal(acc.creds, EID_CRED_PASSWORD | EID_CRED_TOTP);
        /* the same code again is a replay */
        assert_int_equal(eid_check_totp(&f->c, P_ADULT, otp, &err), POP_EVERIFY);
        /* the next step's code is good, once; one step of drift either way too */
        f->c.now_ms += 30000;
        totp_now(f, b32, otp);
        ok(eid_check_totp(&f->c, P_ADULT, otp, &err));
        assert_int_equal(eid_check_totp(&f->c, P_ADULT, otp, &err), POP_EVERIFY);
        f->c.now_ms += 30000;
        totp_now(f, b32, otp);
        f->c.now_ms += 30000; /* presented one step late */
        ok(eid_check_totp(&f->c, P_ADULT, otp, &err));
        f->c.now_ms += 3 * 30000; /* a code three steps old is refused */
        assert_int_equal(eid_check_totp(&f->c, P_ADULT, otp, &err), POP_EVERIFY);
        /* another key file cannot open the seed */
        uint8_t key[EID_KEY_LEN];
        memcpy(key, f->c.key, sizeof key);
        f->c.key[0] ^= 1;
        assert_int_equal(eid_check_totp(&f->c, P_ADULT, otp, &err), POP_EVERIFY);
        assert_string_equal(err.rule, "eid-key-mismatch");
        memcpy(f->c.key, key, sizeof key);
}

static void test_device(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        people(f);
        active_account(f, P_ADULT, "correct horse 1");
        uint8_t pk[32], sk[64], ch[EID_CHALLENGE_LEN], sig[64];
        crypto_sign_keypair(pk, sk);
        refused(f, P_ADULT, POP_ERULE, "eid-no-device",
                eid_device_challenge(&f->c, P_ADULT, ch, &err));
        uint8_t zero[32] = {0};
        refused(f, P_ADULT, POP_EINVAL, "eid-device-key",
                eid_device_add(&f->c, P_ADULT, "correct horse 1", zero, &err));
        ok(eid_device_add(&f->c, P_ADULT, "correct horse 1", pk, &err));
        refused(f, P_ADULT, POP_ERULE, "eid-no-challenge",
                eid_device_verify(&f->c, P_ADULT, sig, &err));
        ok(eid_device_challenge(&f->c, P_ADULT, ch, &err));
        crypto_sign_detached(sig, NULL, ch, sizeof ch, sk);
        ok(eid_device_verify(&f->c, P_ADULT, sig, &err));
        struct eid_account acc;
        ok(eid_account_get(f->st, P_ADULT, &acc));
        assert_true(acc.creds & EID_CRED_DEVICE);
        /* single use */
        refused(f, P_ADULT, POP_ERULE, "eid-no-challenge",
                eid_device_verify(&f->c, P_ADULT, sig, &err));
        /* a wrong signature counts as a failure */
        ok(eid_device_challenge(&f->c, P_ADULT, ch, &err));
        sig[0] ^= 1;
        assert_int_equal(eid_device_verify(&f->c, P_ADULT, sig, &err), POP_EVERIFY);
        struct store_eid_cred cr;
        ok(store_eid_cred_get(f->st, P_ADULT, "device", &cr, &err));
        assert_int_equal(cr.failures, 1);
        /* expired challenge */
        ok(eid_device_challenge(&f->c, P_ADULT, ch, &err));
        crypto_sign_detached(sig, NULL, ch, sizeof ch, sk);
        f->c.now_ms += EID_CHALLENGE_TTL_MS;
        assert_int_equal(eid_device_verify(&f->c, P_ADULT, sig, &err), POP_ERULE);
        assert_string_equal(err.rule, "eid-challenge-expired");
        sodium_memzero(sk, sizeof sk);
}

static void test_lock_suspend(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        people(f);
        active_account(f, P_ADULT, "correct horse 1");
        assert_int_equal(eid_lock(&f->c, P_ADULT, "nope", &err), POP_EVERIFY);
        refused(f, P_ADULT, POP_ERULE, "eid-not-locked",
                eid_unlock(&f->c, P_ADULT, "correct horse 1", NULL, NULL, &err));
        ok(eid_lock(&f->c, P_ADULT, "correct horse 1", &err));
        struct eid_account acc;
        ok(eid_account_get(f->st, P_ADULT, &acc));
        assert_int_equal(acc.state, EID_LOCKED);
        assert_false(eid_account_usable(&acc));
        refused(f, P_ADULT, POP_ERULE, "eid-not-active",
                eid_login_password(&f->c, P_ADULT, "correct horse 1", &err));
        /* the password alone does not unlock */
        refused(f, P_ADULT, POP_ERULE, "eid-unlock-proof",
                eid_unlock(&f->c, P_ADULT, "correct horse 1", NULL, NULL, &err));
        /* an unlock code sent to the channel does */
        char code[EID_CODE_DIGITS + 1];
        ok(eid_unlock_code(&f->c, P_ADULT, code, &err));
        assert_int_equal(eid_unlock(&f->c, P_ADULT, NULL, NULL, "00000000", &err) == POP_EVERIFY ||
                             strcmp(code, "00000000") == 0,
                         1);
        ok(eid_unlock(&f->c, P_ADULT, NULL, NULL, code, &err));
        ok(eid_login_password(&f->c, P_ADULT, "correct horse 1", &err));

        /* operators: a reason is required; suspended accounts cannot log in */
        refused(f, P_ADULT, POP_EINVAL, "eid-reason", eid_suspend(&f->c, P_ADULT, "", &err));
        refused(f, P_ADULT, POP_ERULE, "eid-not-suspended",
                eid_reinstate(&f->c, P_ADULT, "done", &err));
        ok(eid_suspend(&f->c, P_ADULT, "request of the investigating authority", &err));
        ok(eid_account_get(f->st, P_ADULT, &acc));
        assert_int_equal(acc.state, EID_SUSPENDED);
        assert_string_equal(acc.reason, "request of the investigating authority");
        refused(f, P_ADULT, POP_ERULE, "eid-not-active",
                eid_login_password(&f->c, P_ADULT, "correct horse 1", &err));
        refused(f, P_ADULT, POP_ERULE, "eid-not-locked",
                eid_unlock(&f->c, P_ADULT, NULL, NULL, code, &err));
        refused(f, P_ADULT, POP_ERULE, "eid-not-suspendable",
                eid_suspend(&f->c, P_ADULT, "again", &err));
        ok(eid_reinstate(&f->c, P_ADULT, "request withdrawn", &err));
        ok(eid_account_get(f->st, P_ADULT, &acc));
        assert_int_equal(acc.state, EID_ACTIVE);
        ok(eid_login_password(&f->c, P_ADULT, "correct horse 1", &err));
}

struct audit_seen {
        int n;
        char actions[64][AUDIT_ACTION_MAX + 1];
        char outcomes[64][16];
};

static int on_audit(void *ctx, const struct store_audit_entry *e)
{
        struct audit_seen *s = ctx;
        if (s->n < 64) {
                snprintf(s->actions[s->n], sizeof s->actions[0], "%s", e->action);
                snprintf(s->outcomes[s->n], sizeof s->outcomes[0], "%s", e->outcome);
                s->n++;
        }
        return 0;
}

static bool file_has(const char *path, const char *needle)
{
        FILE *fp = fopen(path, "rb");
        if (!fp)
                return false;
        static char buf[1 << 22];
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static void test_audit(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        people(f);
        char code[EID_CODE_DIGITS + 1];
        ok(eid_request(&f->c, P_ADULT, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        ok(eid_activate(&f->c, P_ADULT, code, &err));
        ok(eid_set_password(&f->c, P_ADULT, "Zebra crossing 77", NULL, &err));
        assert_int_equal(eid_login_password(&f->c, P_ADULT, "Zebra crossing 78", &err),
                         POP_EVERIFY);
        struct eid_account acc;
        ok(eid_show(&f->c, P_ADULT, &acc, &err));
        ok(audit_close(f->audit, &err));
        f->audit = NULL;
        struct store *as = NULL;
        ok(audit_store_open(f->uri, &as, &err));
        struct audit_seen s = {0};
        ok(store_audit_by_subject(as, P_ADULT, 0, 64, on_audit, &s, &err));
        store_close(as);
        assert_int_equal(s.n, 5); /* newest first */
        assert_string_equal(s.actions[0], "eid.show");
        assert_string_equal(s.actions[1], "eid.login");
        assert_string_equal(s.outcomes[1], "denied");
        assert_string_equal(s.actions[2], "eid.password");
        assert_string_equal(s.actions[3], "eid.activate");
        assert_string_equal(s.actions[4], "eid.request");
        assert_string_equal(s.outcomes[4], "ok");
        /* no secret in any file of the registry or its audit log */
        const char *sfx[] = {"", "-wal", ".audit", ".audit-wal"};
        for (size_t i = 0; i < 4; i++) {
                char p[700];
                snprintf(p, sizeof p, "%s%s", f->path, sfx[i]);
                assert_false(file_has(p, "Zebra crossing"));
                assert_false(file_has(p, code));
        }
}

static void test_death_closes_account(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        /* a registry with its keys, where a death goes through the event service */
        char path[512], uri[600];
        tu_path(path, sizeof path, "death.db");
        snprintf(uri, sizeof uri, "sqlite:%s", path);
        ok(reg_init(uri, "Test Registry", &err));
        struct store *st = NULL;
        ok(store_open(uri, 0, &st, &err));
        ok(store_begin(st, &err));
        add_person(st, P_ADULT, "1992-04-02", PERSON_LIVING, "VNM");
        ok(store_commit(st, &err));
        struct eid_ctx c = f->c;
        c.st = st;
        active_account_ctx(&c, P_ADULT);
        struct reg *r = NULL;
        ok(reg_open(uri, &r, &err));
        struct reg_ctx rc = {0};
        rc.actor = "test:eid";
        rc.today = (struct pdate){2026, 11, 23};
        rc.now_ms = NOW;
        char ev[128];
        snprintf(ev, sizeof ev, "{\"type\":\"death\",\"pid\":\"%012lld\",\"date\":\"2026-11-22\"}",
                 (long long)P_ADULT);
        json_t *j = json_loads(ev, 0, NULL);
        json_t *res = NULL;
        ok(reg_event_apply(r, &rc, j, &res, &err));
        json_decref(j);
        json_decref(res);
        reg_close(r);
        struct eid_account acc;
        ok(eid_account_get(st, P_ADULT, &acc));
        assert_int_equal(acc.state, EID_DELETED);
        assert_int_equal(acc.creds, 0);
        struct store_eid_cred cr;
        assert_int_equal(store_eid_cred_get(st, P_ADULT, "password", &cr, &err), POP_ENOTFOUND);
        /* and a request for the dead person is refused */
        char code[EID_CODE_DIGITS + 1];
        assert_int_equal(eid_request(&c, P_ADULT, EID_LEVEL_1, "+84901234567", NULL, code, &err),
                         POP_ERULE);
        assert_string_equal(err.rule, "eid-person-deceased");
        store_close(st);
}

/* ---- code delivery through the outbox (src/eid/notify.c) ---- */

struct msgs {
        int n;
        struct store_outbox m[8];
        uint8_t body[8][STORE_OUTBOX_BODY_MAX];
};

static int collect_msg(void *ctx, const struct store_outbox *m)
{
        struct msgs *s = ctx;
        if (s->n >= 8 || m->body_len > STORE_OUTBOX_BODY_MAX)
                return 1;
        s->m[s->n] = *m;
        memcpy(s->body[s->n], m->body, m->body_len);
        s->m[s->n].body = s->body[s->n];
        s->n++;
        return 0;
}

static void pending(struct fx *f, struct msgs *s)
{
        struct pop_err err = {0};
        memset(s, 0, sizeof *s);
        int rc = store_outbox_due(f->st, NOW + 1, 8, collect_msg, s, &err);
        assert_true(rc == 0 || rc == 1);
}

/* Opens the i-th pending message: its JSON (the caller decrefs). */
static json_t *open_msg(const uint8_t key[HUB_OUTBOX_KEY_BYTES], const struct msgs *s, int i)
{
        struct pop_err err = {0};
        char clear[HUB_OUTBOX_MSG_MAX + 1];
        size_t n = 0;
        ok(hub_outbox_open(key, s->m[i].body, s->m[i].body_len, clear, sizeof clear, &n, &err));
        json_t *j = json_loadb(clear, n, 0, NULL);
        assert_non_null(j);
        return j;
}

static void test_code_delivery(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        people(f);
        uint8_t key[HUB_OUTBOX_KEY_BYTES];
        randombytes_buf(key, sizeof key);
        struct eid_sent sent;
        struct msgs s;
        f->c.outbox_key = key;
        f->c.sent = &sent;
        char code[EID_CODE_DIGITS + 1];

        /* the activation code's message, in the request's transaction, to the phone */
        int w0 = store_fault_writes(f->st);
        ok(eid_request(&f->c, P_ADULT, EID_LEVEL_1, "+84901234567", "an@example.vn", code, &err));
        int writes = store_fault_writes(f->st) - w0;
        assert_true(sent.outbox_id > 0);
        assert_string_equal(sent.channel, "sms");
        assert_string_equal(sent.sent_to, "+84******567");
        assert_int_equal(sent.expires_ms, NOW + EID_CODE_TTL_MS);
        pending(f, &s);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.m[0].id, sent.outbox_id);
        assert_string_equal(s.m[0].topic, "eid-activation");
        assert_int_equal(s.m[0].subject, P_ADULT);
        assert_null(memmem(s.m[0].body, s.m[0].body_len, code, strlen(code)));
        json_t *j = open_msg(key, &s, 0);
        assert_string_equal(json_string_value(json_object_get(j, "topic")), "eid-activation");
        assert_string_equal(json_string_value(json_object_get(j, "channel")), "sms");
        assert_string_equal(json_string_value(json_object_get(j, "to")), "+84901234567");
        assert_string_equal(json_string_value(json_object_get(j, "code")), code);
        assert_int_equal(json_integer_value(json_object_get(j, "expires_ms")),
                         NOW + EID_CODE_TTL_MS);
        assert_non_null(strstr(json_string_value(json_object_get(j, "text")), code));
        assert_null(json_object_get(j, "pid")); /* the gateway needs no personal ID */

        /* the code as delivered activates the account */
        char delivered[EID_CODE_DIGITS + 1];
        snprintf(delivered, sizeof delivered, "%s", json_string_value(json_object_get(j, "code")));
        json_decref(j);
        ok(eid_activate(&f->c, P_ADULT, delivered, &err));

        /* a refusal queues nothing */
        refused(f, P_DEAD, POP_ERULE, "eid-person-deceased",
                eid_request(&f->c, P_DEAD, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        assert_int_equal(sent.outbox_id, 0);
        pending(f, &s);
        assert_int_equal(s.n, 1);

        /* an e-mail-only account gets its code by e-mail */
        ok(eid_request(&f->c, P_SIX, EID_LEVEL_1, NULL, "be@example.vn", code, &err));
        assert_string_equal(sent.channel, "email");
        assert_string_equal(sent.sent_to, "b*@example.vn");
        pending(f, &s);
        assert_int_equal(s.n, 2);
        j = open_msg(key, &s, 1);
        assert_string_equal(json_string_value(json_object_get(j, "to")), "be@example.vn");
        assert_string_equal(json_string_value(json_object_get(j, "channel")), "email");
        json_decref(j);

        /* the unlock code goes the same way, and unlocks */
        ok(eid_set_password(&f->c, P_ADULT, "correct horse 1", NULL, &err));
        ok(eid_lock(&f->c, P_ADULT, "correct horse 1", &err));
        ok(eid_unlock_code(&f->c, P_ADULT, code, &err));
        assert_true(sent.outbox_id > 0);
        pending(f, &s);
        assert_int_equal(s.n, 3);
        assert_string_equal(s.m[2].topic, "eid-unlock");
        j = open_msg(key, &s, 2);
        assert_string_equal(json_string_value(json_object_get(j, "topic")), "eid-unlock");
        snprintf(delivered, sizeof delivered, "%s", json_string_value(json_object_get(j, "code")));
        json_decref(j);
        assert_string_equal(delivered, code);
        ok(eid_unlock(&f->c, P_ADULT, NULL, NULL, delivered, &err));

        /* a failed write at any point of a request leaves neither account, code nor message */
        if (strncmp(uri_prefix, "fault:", 6) == 0) {
                assert_true(writes >= 4); /* account, code, message, commit */
                for (int i = 1; i <= writes; i++) {
                        struct snap before;
                        take(f, P_CARD, &before);
                        store_fault_arm(f->st, i);
                        assert_int_not_equal(eid_request(&f->c, P_CARD, EID_LEVEL_1, "+84901234568",
                                                         NULL, code, &err),
                                             0);
                        assert_int_equal(sent.outbox_id, 0);
                        assert_string_equal(code, "");
                        same(f, P_CARD, &before);
                        pending(f, &s);
                        assert_int_equal(s.n, 3);
                }
        }

        /* without the outbox key (the offline path) the code is only returned */
        f->c.outbox_key = NULL;
        ok(eid_request(&f->c, P_CARD, EID_LEVEL_1, "+84901234568", NULL, code, &err));
        assert_int_equal(sent.outbox_id, 0);
        assert_int_equal((int)strlen(code), EID_CODE_DIGITS);
        pending(f, &s);
        assert_int_equal(s.n, 3);
        f->c.sent = NULL;
}

/* The code's message is dumped into a buffer of its own, wiped once sealed: no copy of the code is
 * left in memory jansson freed (json_dumps grows a buffer by copying and frees the old ones, and
 * its final buffer, unwiped: docs/AUTH.md "What is wiped"). */
static void test_code_not_left_in_freed_memory(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        people(f);
        uint8_t key[HUB_OUTBOX_KEY_BYTES];
        randombytes_buf(key, sizeof key);
        f->c.outbox_key = key;
        char code[EID_CODE_DIGITS + 1], needle[32];
        jfreed_keep(true);
        int rc = eid_request(&f->c, P_ADULT, EID_LEVEL_1, "+84901234567", NULL, code, &err);
        jfreed_keep(false);
        f->c.outbox_key = NULL;
        ok(rc);
        snprintf(needle, sizeof needle, "\"code\":\"%s\"", code);
        assert_false(jfreed_find(needle));
}

struct audit_full {
        int n;
        char action[8][AUDIT_ACTION_MAX + 1];
        char outcome[8][16];
        char rule[8][64];
        char rid[8][64];
};

static int on_audit_full(void *ctx, const struct store_audit_entry *e)
{
        struct audit_full *s = ctx;
        if (s->n < 8) {
                snprintf(s->action[s->n], sizeof s->action[0], "%s", e->action);
                snprintf(s->outcome[s->n], sizeof s->outcome[0], "%s", e->outcome);
                snprintf(s->rule[s->n], sizeof s->rule[0], "%s", e->rule);
                snprintf(s->rid[s->n], sizeof s->rid[0], "%s", e->request_id);
                s->n++;
        }
        return 0;
}

/*
 * The audit rule of a step (docs/EID.md "Audit"; DESIGN.md: no personal data written without a
 * durable audit record): its entry is made durable before its transaction commits. An audit
 * write that fails leaves the account and its credentials as they were (it used to be committed
 * and only an error reported); a commit that fails after the entry leaves an "error" entry with
 * the step's request id. Both failures are injected (the audit writer's fault: store and the
 * registry's), so on the fault group only.
 */
static void test_audit_first(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        if (strncmp(uri_prefix, "fault:", 6) != 0)
                return;
        people(f);
        char code[EID_CODE_DIGITS + 1];
        uint8_t pk[32], sk[64];
        crypto_sign_keypair(pk, sk);
        /* the step's audit write fails: nothing of the step is committed */
        audit__fault_arm(f->audit, 1);
        refused(f, P_ADULT, POP_ESTORE, "store-fault",
                eid_request(&f->c, P_ADULT, EID_LEVEL_1, "+84901234567", NULL, code, &err));
        assert_string_equal(code, "");
        active_account(f, P_ADULT, "correct horse 1");
        audit__fault_arm(f->audit, 1);
        refused(f, P_ADULT, POP_ESTORE, "store-fault",
                eid_suspend(&f->c, P_ADULT, "court order", &err));
        audit__fault_arm(f->audit, 1);
        refused(f, P_ADULT, POP_ESTORE, "store-fault",
                eid_set_password(&f->c, P_ADULT, "battery staple 2", "correct horse 1", &err));
        audit__fault_arm(f->audit, 1); /* a refusal that counts an attempt: the count too */
        refused(f, P_ADULT, POP_ESTORE, "store-fault",
                eid_login_password(&f->c, P_ADULT, "wrong horse 1", &err));
        audit__fault_arm(f->audit, 1);
        refused(f, P_ADULT, POP_ESTORE, "store-fault",
                eid_lock(&f->c, P_ADULT, "correct horse 1", &err));
        audit__fault_arm(f->audit, 1);
        refused(f, P_ADULT, POP_ESTORE, "store-fault",
                eid_device_add(&f->c, P_ADULT, "correct horse 1", pk, &err));
        /* each works once the log takes entries again */
        ok(eid_device_add(&f->c, P_ADULT, "correct horse 1", pk, &err));
        ok(eid_lock(&f->c, P_ADULT, "correct horse 1", &err));
        audit__fault_arm(f->audit, 1);
        refused(f, P_ADULT, POP_ESTORE, "store-fault", eid_unlock_code(&f->c, P_ADULT, code, &err));
        assert_string_equal(code, "");

        /* the commit fails after the entry: the step's "ok" is followed by an "error" entry of
         * the same request id, and the account is as it was */
        ok(eid_unlock_code(&f->c, P_ADULT, code, &err));
        ok(eid_unlock(&f->c, P_ADULT, NULL, NULL, code, &err));
        int w0 = store_fault_writes(f->st);
        ok(eid_suspend(&f->c, P_ADULT, "court order", &err));
        int writes = store_fault_writes(f->st) - w0; /* the account row, the commit */
        ok(eid_reinstate(&f->c, P_ADULT, "order lifted", &err));
        store_fault_arm(f->st, writes);
        refused(f, P_ADULT, POP_ESTORE, "store-fault",
                eid_suspend(&f->c, P_ADULT, "court order", &err));
        ok(audit_close(f->audit, &err));
        f->audit = NULL;
        struct store *as = NULL;
        ok(audit_store_open(f->uri, &as, &err));
        struct audit_full s = {0};
        ok(store_audit_by_subject(as, P_ADULT, 0, 8, on_audit_full, &s, &err));
        store_close(as);
        assert_true(s.n >= 2); /* newest first */
        assert_string_equal(s.action[0], "eid.suspend");
        assert_string_equal(s.outcome[0], "error");
        assert_string_equal(s.rule[0], "store-fault");
        assert_string_equal(s.action[1], "eid.suspend");
        assert_string_equal(s.outcome[1], "ok");
        assert_int_equal(strlen(s.rid[0]), 32);
        assert_string_equal(s.rid[0], s.rid[1]);
        assert_string_not_equal(s.action[2], "eid.suspend"); /* the reinstate came before */
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
        jfreed_install(); /* before any use of jansson */
        const struct CMUnitTest tests[] = {
            T(test_account_get_round_trip),
            T(test_credentials_and_death),
            T(test_request_rules),
            T(test_activation_code),
            T(test_password),
            T(test_lockout_timing),
            T(test_totp_rfc6238),
            T(test_totp_enrol_and_check),
            T(test_device),
            T(test_lock_suspend),
            T(test_audit),
            T(test_death_closes_account),
            T(test_code_delivery),
            T(test_code_not_left_in_freed_memory),
            T(test_audit_first),
        };
        uri_prefix = "sqlite:";
        int failed = cmocka_run_group_tests_name("eid/sqlite", tests, NULL, NULL);
        uri_prefix = "fault:sqlite:";
        failed += cmocka_run_group_tests_name("eid/fault", tests, NULL, NULL);
        return failed ? 1 : 0;
}
