/*
 * Unit tests of one-time passwords (src/eid/otp.c, src/store/sqlite_otp.c) on "sqlite:" and
 * "fault:sqlite:": issue (the hash and the sealed outbox message in one transaction), expiry with
 * an injected clock, single use, the cap on wrong attempts, the per-person and per-client rate
 * limits, refusals for the dead and for accounts that are not active, masking, and that a failed
 * write at any point of an issue leaves nothing behind.
 */
#include "testutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "eid/eid.h"
#include "eid/otp.h"
#include "hub/outbox.h"
#include "jfreed.h"

#define NOW   1795428000000LL /* 2026-11-23T10:00:00Z */
#define PID   79092026135LL
#define OTHER 1090012345LL

static const char *uri_prefix;
static const uint8_t hash_key[EID_OTP_KEY_LEN] = {1, 2, 3};
static const uint8_t box_key[HUB_OUTBOX_KEY_BYTES] = {9, 8, 7};

struct fx {
        char path[512];
        char uri[600];
        struct store *st;
};

#define ok(expr)                                                                                   \
        do {                                                                                       \
                int rc_ = (expr);                                                                  \
                if (rc_) {                                                                         \
                        print_error("%s: %d %s\n", #expr, rc_, err.msg);                           \
                        fail();                                                                    \
                }                                                                                  \
        } while (0)

static void add_person(struct store *st, int64_t pid, int status)
{
        struct person p;
        memset(&p, 0, sizeof p);
        p.pid = pid;
        snprintf(p.full_name, sizeof p.full_name, "Nguyen Van An");
        snprintf(p.name_fold, sizeof p.name_fold, "nguyen van an");
        snprintf(p.name_key, sizeof p.name_key, "nguyen van an");
        p.dob = (struct pdate){1992, 5, 17};
        p.sex = SEX_MALE;
        snprintf(p.nationality, sizeof p.nationality, "VNM");
        p.status = status;
        struct pop_err err = {0};
        ok(store_begin(st, &err));
        ok(store_person_insert(st, &p, &err));
        ok(store_commit(st, &err));
}

static void add_account(struct store *st, int64_t pid, int state, const char *phone,
                        const char *email)
{
        struct store_eid_account a = {0};
        a.pid = pid;
        a.level = EID_LEVEL_1;
        a.state = state;
        snprintf(a.phone, sizeof a.phone, "%s", phone);
        snprintf(a.email, sizeof a.email, "%s", email);
        a.created_ms = a.updated_ms = NOW;
        struct pop_err err = {0};
        ok(store_begin(st, &err));
        ok(store_eid_account_insert(st, &a, &err));
        ok(store_commit(st, &err));
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        if (!f || sodium_init() < 0)
                return -1;
        tu_tmpdir();
        tu_path(f->path, sizeof f->path, "otp.db");
        snprintf(f->uri, sizeof f->uri, "%s%s", uri_prefix, f->path);
        struct pop_err err = {0};
        if (store_open(f->uri, 1, &f->st, &err)) {
                print_error("store_open(%s): %s\n", f->uri, err.msg);
                free(f);
                return -1;
        }
        add_person(f->st, PID, PERSON_LIVING);
        add_account(f->st, PID, EID_ACTIVE, "+84901234567", "an@example.vn");
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        store_close(f->st);
        free(f);
        return 0;
}

/* The code of the outbox message of txn, opened with the box key (what the gateway gets). */
struct find {
        const char *txn;
        char code[EID_OTP_DIGITS + 1];
        char to[64];
        int n;
};

static int find_msg(void *ctx, const struct store_outbox *m)
{
        struct find *fd = ctx;
        char msg[HUB_OUTBOX_MSG_MAX + 1];
        size_t len;
        struct pop_err err = {0};
        ok(hub_outbox_open(box_key, m->body, m->body_len, msg, sizeof msg, &len, &err));
        /* Never in clear at rest: the code's digits are not in the stored body as text. */
        json_t *j = json_loads(msg, 0, NULL);
        assert_non_null(j);
        if (!strcmp(json_string_value(json_object_get(j, "txn")), fd->txn)) {
                snprintf(fd->code, sizeof fd->code, "%s",
                         json_string_value(json_object_get(j, "otp")));
                snprintf(fd->to, sizeof fd->to, "%s", json_string_value(json_object_get(j, "to")));
                assert_null(memmem(m->body, m->body_len, fd->code, EID_OTP_DIGITS));
                assert_string_equal(m->ref, fd->txn);
                assert_int_equal(m->subject, PID);
        }
        fd->n++;
        json_decref(j);
        return 0;
}

static void issue(struct fx *f, int64_t now, struct eid_otp_ticket *t, char code[7])
{
        struct pop_err err = {0};
        ok(eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-a", EID_OTP_ANY, now, NULL, t,
                           &err));
        struct find fd = {.txn = t->txn};
        ok(store_outbox_due(f->st, now, 100, find_msg, &fd, &err));
        assert_int_equal(strlen(fd.code), EID_OTP_DIGITS);
        memcpy(code, fd.code, 7);
}

static void test_issue_and_use_once(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct eid_otp_ticket t;
        char code[7];
        issue(f, NOW, &t, code);
        assert_int_equal(strlen(t.txn), EID_OTP_TXN_LEN);
        assert_string_equal(t.channel, "sms");
        assert_string_equal(t.sent_to, "+84******567");
        assert_int_equal(t.expires_ms, NOW + EID_OTP_TTL_MS);
        assert_true(t.outbox_id > 0);
        /* Stored only as a hash: the row's hash is not the code. */
        struct store_otp o;
        ok(store_otp_get(f->st, t.txn, &o, &err));
        assert_null(memmem(o.hash, sizeof o.hash, code, 6));
        /* Another client, another person: as if the txn did not exist. */
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-b", code, NOW + 1, NULL, &err),
            POP_ERULE);
        assert_string_equal(err.rule, "otp-unknown");
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, OTHER, "bank-a", code, NOW + 1, NULL, &err),
            POP_ERULE);
        assert_string_equal(err.rule, "otp-unknown");
        ok(eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code, NOW + 1000, NULL,
                         &err));
        /* Single use. */
        assert_int_equal(eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code,
                                       NOW + 2000, NULL, &err),
                         POP_ERULE);
        assert_string_equal(err.rule, "otp-used");
        /* Malformed codes are refused before anything is counted. */
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", "12345", NOW, NULL, &err),
            POP_EINVAL);
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", "1234567", NOW, NULL, &err),
            POP_EINVAL);
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", "12a456", NOW, NULL, &err),
            POP_EINVAL);
}

static void test_expiry(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct eid_otp_ticket t;
        char code[7];
        issue(f, NOW, &t, code);
        /* The last millisecond of validity, then the first one past it. */
        int64_t end = NOW + EID_OTP_TTL_MS;
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code, end, NULL, &err),
            POP_ERULE);
        assert_string_equal(err.rule, "otp-expired");
        ok(eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code, end - 1, NULL, &err));
}

static void wrong_code(const char *code, char out[7])
{
        memcpy(out, code, 7);
        out[5] = code[5] == '9' ? '0' : (char)(code[5] + 1);
}

static void test_attempt_cap(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct eid_otp_ticket t;
        char code[7], bad[7];
        issue(f, NOW, &t, code);
        wrong_code(code, bad);
        for (int i = 0; i < EID_OTP_ATTEMPTS; i++) {
                assert_int_equal(eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", bad,
                                               NOW, NULL, &err),
                                 POP_EVERIFY);
                assert_string_equal(err.rule, "otp-wrong");
        }
        /* The attempts are durable; the right code no longer helps. */
        struct store_otp o;
        ok(store_otp_get(f->st, t.txn, &o, &err));
        assert_int_equal(o.attempts, EID_OTP_ATTEMPTS);
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code, NOW, NULL, &err),
            POP_ERULE);
        assert_string_equal(err.rule, "otp-locked");
}

static void test_rate_limits(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct eid_otp_ticket t;
        char first[EID_OTP_TXN_LEN + 1] = "";
        for (int i = 0; i < EID_OTP_PERSON_MAX; i++) {
                ok(eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-a", EID_OTP_ANY,
                                   NOW + i, NULL, &t, &err));
                if (!first[0])
                        memcpy(first, t.txn, sizeof first);
        }
        assert_int_equal(eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-a", EID_OTP_ANY,
                                         NOW + 10, NULL, &t, &err),
                         POP_EAGAIN);
        assert_string_equal(err.rule, "otp-rate-person");
        assert_true(t.retry_after_s > 0);
        /* Another client is refused too: the limit is the person's. */
        assert_int_equal(eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-b", EID_OTP_ANY,
                                         NOW + 10, NULL, &t, &err),
                         POP_EAGAIN);
        /* Once the window has passed, the person may get codes again. */
        ok(eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-a", EID_OTP_ANY,
                           NOW + EID_OTP_PERSON_WINDOW_MS + 1, NULL, &t, &err));
        /* The first OTP, out of the window and expired, is gone (data minimization). */
        struct store_otp gone;
        assert_int_equal(store_otp_get(f->st, first, &gone, &err), POP_ENOTFOUND);

        /* The client's limit, over several people. */
        struct eid_otp_policy pol = {.client_max = 2, .client_window_ms = 60000};
        add_person(f->st, OTHER, PERSON_LIVING);
        add_account(f->st, OTHER, EID_ACTIVE, "", "binh@example.vn");
        int64_t t0 = NOW + 10 * EID_OTP_PERSON_WINDOW_MS;
        ok(eid_otp_request(f->st, &pol, hash_key, box_key, PID, "bank-c", EID_OTP_ANY, t0, NULL, &t,
                           &err));
        ok(eid_otp_request(f->st, &pol, hash_key, box_key, OTHER, "bank-c", EID_OTP_ANY, t0, NULL,
                           &t, &err));
        assert_string_equal(t.channel, "email");
        assert_string_equal(t.sent_to, "b***@example.vn");
        assert_int_equal(eid_otp_request(f->st, &pol, hash_key, box_key, OTHER, "bank-c",
                                         EID_OTP_ANY, t0 + 1, NULL, &t, &err),
                         POP_EAGAIN);
        assert_string_equal(err.rule, "otp-rate-client");
        ok(eid_otp_request(f->st, &pol, hash_key, box_key, OTHER, "bank-c", EID_OTP_ANY, t0 + 60001,
                           NULL, &t, &err));
}

static void test_refusals(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct eid_otp_ticket t;
        struct {
                int64_t pid;
                int status, state;
                const char *phone, *email;
                enum eid_otp_channel ch;
                int rc;
                const char *rule;
        } cases[] = {
            {100000000001LL, PERSON_DECEASED, EID_ACTIVE, "+84900000001", "", EID_OTP_ANY,
             POP_ERULE, "person-deceased"},
            {100000000002LL, PERSON_LIVING, EID_LOCKED, "+84900000002", "", EID_OTP_ANY, POP_ERULE,
             "eid-locked"},
            {100000000003LL, PERSON_LIVING, EID_SUSPENDED, "+84900000003", "", EID_OTP_ANY,
             POP_ERULE, "eid-suspended"},
            {100000000004LL, PERSON_LIVING, EID_PENDING, "+84900000004", "", EID_OTP_ANY, POP_ERULE,
             "eid-not-active"},
            {100000000005LL, PERSON_LIVING, EID_ACTIVE, "+84900000005", "", EID_OTP_EMAIL,
             POP_ERULE, "otp-no-channel"},
            {100000000006LL, PERSON_LIVING, -1, "", "", EID_OTP_ANY, POP_ERULE, "eid-none"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                add_person(f->st, cases[i].pid, cases[i].status);
                if (cases[i].state >= 0)
                        add_account(f->st, cases[i].pid, cases[i].state, cases[i].phone,
                                    cases[i].email);
                assert_int_equal(eid_otp_request(f->st, NULL, hash_key, box_key, cases[i].pid,
                                                 "bank-a", cases[i].ch, NOW, NULL, &t, &err),
                                 cases[i].rc);
                assert_string_equal(err.rule, cases[i].rule);
        }
        assert_int_equal(eid_otp_request(f->st, NULL, hash_key, box_key, 100000000099LL, "bank-a",
                                         EID_OTP_ANY, NOW, NULL, &t, &err),
                         POP_ENOTFOUND);
        /* None of them left an OTP or a message. */
        int64_t n[STORE_OUTBOX_N_STATES];
        ok(store_outbox_count(f->st, n, &err));
        assert_int_equal(n[STORE_OUTBOX_PENDING], 0);

        /* An account locked after the code was sent: the code is refused. */
        char code[7];
        issue(f, NOW, &t, code);
        struct store_eid_account a;
        ok(store_eid_account_get(f->st, PID, &a, &err));
        a.state = EID_LOCKED;
        ok(store_begin(f->st, &err));
        ok(store_eid_account_update(f->st, &a, &err));
        ok(store_commit(f->st, &err));
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code, NOW + 1, NULL, &err),
            POP_ERULE);
        assert_string_equal(err.rule, "eid-locked");
}

static void test_channel_and_mask(void **state)
{
        (void)state;
        enum eid_otp_channel c;
        struct pop_err err = {0};
        ok(eid_otp_channel_parse("sms", &c, &err));
        assert_int_equal(c, EID_OTP_SMS);
        ok(eid_otp_channel_parse(NULL, &c, &err));
        assert_int_equal(c, EID_OTP_ANY);
        assert_int_equal(eid_otp_channel_parse("fax", &c, &err), POP_EINVAL);
        char m[72];
        eid_otp_mask("+84901234567", false, m, sizeof m);
        assert_string_equal(m, "+84******567");
        eid_otp_mask("nguyen.an@example.vn", true, m, sizeof m);
        assert_string_equal(m, "n********@example.vn");
        eid_otp_mask("12", false, m, sizeof m);
        assert_string_equal(m, "**");
}

/* A failed write at each point of an issue leaves neither an OTP nor a message. */
static void test_fault_atomic(void **state)
{
        struct fx *f = *state;
        if (strcmp(uri_prefix, "fault:") != 0)
                skip();
        struct pop_err err = {0};
        struct eid_otp_ticket t;
        int w0 = store_fault_writes(f->st);
        ok(eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-a", EID_OTP_ANY, NOW, NULL,
                           &t, &err));
        int writes = store_fault_writes(f->st) - w0;
        assert_true(writes >= 3); /* otp, outbox, commit */
        for (int i = 1; i <= writes; i++) {
                int64_t before[STORE_OUTBOX_N_STATES], after[STORE_OUTBOX_N_STATES];
                ok(store_outbox_count(f->st, before, &err));
                store_fault_arm(f->st, i);
                assert_int_not_equal(eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-a",
                                                     EID_OTP_ANY, NOW + i, NULL, &t, &err),
                                     0);
                ok(store_outbox_count(f->st, after, &err));
                assert_int_equal(before[STORE_OUTBOX_PENDING], after[STORE_OUTBOX_PENDING]);
                int np = 0, nc = 0;
                ok(store_otp_count(f->st, PID, "bank-a", 0, &np, &nc, &err));
                assert_int_equal(np, 1);
        }
}

/* A failed write while a right code is checked leaves it unspent; the next check succeeds. */
static void test_fault_check(void **state)
{
        struct fx *f = *state;
        if (strcmp(uri_prefix, "fault:") != 0)
                skip();
        struct pop_err err = {0};
        struct eid_otp_ticket t;
        char code[7];
        issue(f, NOW, &t, code);
        int w0 = store_fault_writes(f->st);
        char bad[7];
        wrong_code(code, bad);
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", bad, NOW + 1, NULL, &err),
            POP_EVERIFY);
        int writes = store_fault_writes(f->st) - w0;
        assert_true(writes >= 2); /* the row, the commit */
        for (int i = 1; i <= writes; i++) {
                store_fault_arm(f->st, i);
                assert_int_equal(eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code,
                                               NOW + 2, NULL, &err),
                                 POP_ESTORE);
                struct store_otp o;
                ok(store_otp_get(f->st, t.txn, &o, &err));
                assert_false(o.used);
                assert_int_equal(o.attempts, 1);
        }
        ok(eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code, NOW + 3, NULL, &err));
}

struct otp_seen {
        int n, ok, issued;
        char rid[64];
};

static int on_entry(void *ctx, const struct store_audit_entry *e)
{
        struct otp_seen *s = ctx;
        if (!strcmp(e->action, "otp.issue") && !strcmp(e->outcome, "ok"))
                s->issued++;
        if (strcmp(e->action, "otp.check"))
                return 0;
        s->n++;
        if (!strcmp(e->outcome, "ok")) {
                s->ok++;
                snprintf(s->rid, sizeof s->rid, "%s", e->request_id);
        }
        return 0;
}

/*
 * With an audit (struct eid_otp_audit), an issue's and a check's entries are durable before
 * their transactions commit (EID.md "Audit"): an audit write that fails (injected in the audit
 * writer's fault: store) leaves no code and no message for an issue, and the code unspent and a
 * wrong one uncounted for a check, answered POP_EIO with the audit's rule; then the issue and
 * the same code work, once, and the log holds exactly their "ok" entries.
 */
static void test_audit_first(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        if (strcmp(uri_prefix, "fault:sqlite:") != 0)
                return;
        char kp[700];
        struct audit *a = NULL;
        ok(audit_key_path(f->uri, kp, sizeof kp, &err));
        ok(audit_open(f->uri, kp, NULL, &a, &err));
        struct eid_otp_audit au = {
            .audit = a, .actor = "client:bank-a", .purpose = "kyc", .request_id = "req-1"};
        struct eid_otp_ticket t;
        char code[7], wrong[7];
        /* issue: the audit write fails, so neither the code nor its message exists */
        struct store_otp o;
        audit__fault_arm(a, 1);
        assert_int_equal(eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-a", EID_OTP_ANY,
                                         NOW, &au, &t, &err),
                         POP_EIO);
        assert_int_equal(store_otp_get(f->st, t.txn, &o, &err), POP_ENOTFOUND);
        struct find none = {.txn = t.txn};
        ok(store_outbox_due(f->st, NOW, 100, find_msg, &none, &err));
        assert_int_equal(none.n, 0);
        /* and when it can be written, both are there */
        ok(eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-a", EID_OTP_ANY, NOW, &au, &t,
                           &err));
        struct find fd = {.txn = t.txn};
        ok(store_outbox_due(f->st, NOW, 100, find_msg, &fd, &err));
        assert_int_equal(strlen(fd.code), EID_OTP_DIGITS);
        memcpy(code, fd.code, sizeof code);
        memcpy(wrong, code, sizeof wrong);
        wrong[0] = code[0] == '9' ? '0' : (char)(code[0] + 1);
        audit__fault_arm(a, 1);
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", wrong, NOW + 1, &au, &err),
            POP_EIO);
        ok(store_otp_get(f->st, t.txn, &o, &err));
        assert_int_equal(o.attempts, 0);
        audit__fault_arm(a, 1);
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code, NOW + 2, &au, &err),
            POP_EIO);
        assert_string_equal(err.rule, "store-fault");
        ok(store_otp_get(f->st, t.txn, &o, &err));
        assert_false(o.used);
        ok(eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code, NOW + 3, &au, &err));
        assert_int_equal(
            eid_otp_check(f->st, NULL, hash_key, t.txn, PID, "bank-a", code, NOW + 4, &au, &err),
            POP_ERULE);
        ok(audit_close(a, &err));
        struct store *as = NULL;
        ok(audit_store_open(f->uri, &as, &err));
        struct otp_seen seen = {0};
        ok(store_audit_by_subject(as, PID, 0, 100, on_entry, &seen, &err));
        store_close(as);
        assert_int_equal(seen.n, 1); /* the used-code refusal commits nothing: no entry */
        assert_int_equal(seen.ok, 1);
        assert_string_equal(seen.rid, "req-1");
        assert_int_equal(seen.issued, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* The OTP's message is dumped into a buffer of its own, wiped once sealed: no copy of the code is
 * left in memory jansson freed (json_dumps grows a buffer by copying and frees the old ones, and
 * its final buffer, unwiped: docs/AUTH.md "What is wiped"). */
static void test_code_not_left_in_freed_memory(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct eid_otp_ticket t;
        jfreed_keep(true);
        int rc = eid_otp_request(f->st, NULL, hash_key, box_key, PID, "bank-a", EID_OTP_ANY, NOW,
                                 NULL, &t, &err);
        jfreed_keep(false);
        ok(rc);
        /* the code as the gateway gets it (this parse leaves copies of its own, not kept) */
        struct find fd = {.txn = t.txn};
        ok(store_outbox_due(f->st, NOW, 100, find_msg, &fd, &err));
        assert_int_equal(strlen(fd.code), EID_OTP_DIGITS);
        char needle[32];
        snprintf(needle, sizeof needle, "\"otp\":\"%s\"", fd.code);
        assert_false(jfreed_find(needle));
}

int main(void)
{
        jfreed_install(); /* before any use of jansson */
        const struct CMUnitTest tests[] = {
            T(test_issue_and_use_once), T(test_expiry),
            T(test_attempt_cap),        T(test_rate_limits),
            T(test_refusals),           T(test_channel_and_mask),
            T(test_fault_atomic),       T(test_fault_check),
            T(test_audit_first),        T(test_code_not_left_in_freed_memory),
        };
        uri_prefix = "sqlite:";
        int failed = cmocka_run_group_tests_name("otp sqlite", tests, NULL, NULL);
        uri_prefix = "fault:sqlite:";
        failed += cmocka_run_group_tests_name("otp fault", tests, NULL, NULL);
        return failed;
}
