/*
 * Unit tests of eID accounts (src/eid/, src/store/sqlite_eid.c), run on "sqlite:" and on
 * "fault:sqlite:": the store's account and credential rows, the lookup other services call
 * (eid_account_get), and the closure of an account on death.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eid/eid.h"

#define NOW 1795428000000LL /* 2026-11-23T10:00:00Z */
#define PID 79092026135LL

static const char *uri_prefix;

struct fx {
        char path[512];
        char uri[600];
        struct store *st;
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
            T(test_account_get_round_trip),
            T(test_credentials_and_death),
        };
        uri_prefix = "sqlite:";
        int failed = cmocka_run_group_tests_name("eid/sqlite", tests, NULL, NULL);
        uri_prefix = "fault:sqlite:";
        failed += cmocka_run_group_tests_name("eid/fault", tests, NULL, NULL);
        return failed ? 1 : 0;
}
