/*
 * Unit tests of verify_check (src/eid/verify.c) over the store's one read of a verification
 * (store_verify_subject, src/store/sqlite_verify.c), on "sqlite:" and "fault:sqlite:": the
 * subject's columns and account state as stored, a claimed name byte for byte the stored one and
 * the same name in NFD or another case (both "same"), a wrong name and date, an unknown ID,
 * a deceased person, and each eID account state (Decree 69/2024/ND-CP art. 18: a locked or
 * suspended account answers no with its code, a closed one account-closed, an active one does
 * not block), including the code order (the person's status before the account, the account
 * before a mismatch).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/name.h"
#include "eid/eid.h"
#include "eid/verify.h"
#include "store/store.h"

#define PID  79092026135LL
#define NAME "Nguyễn Thị Ánh Tuyết"
/* The same name decomposed (NFD) and in capitals. */
#define NAME_NFD   "Nguye\xcc\x82\xcc\x83n Thi\xcc\xa3 A\xcc\x81nh Tuye\xcc\x82\xcc\x81t"
#define NAME_UPPER "NGUYỄN THỊ ÁNH TUYẾT"

static const char *uri_prefix;

struct fx {
        char path[512];
        char uri[600];
        struct store *st;
};

static int add_person(struct store *st, int64_t pid, const char *name, const char *dob,
                      enum person_status status)
{
        struct person p;
        struct pop_err err = {0};
        memset(&p, 0, sizeof p);
        p.pid = pid;
        if (name_forms(name, strlen(name), p.full_name, sizeof p.full_name, p.name_fold,
                       sizeof p.name_fold, p.name_key, sizeof p.name_key, &err) ||
            pdate_parse(dob, strlen(dob), &p.dob, &err))
                return -1;
        p.sex = SEX_FEMALE;
        p.birth_province = 79;
        memcpy(p.nationality, "VNM", 4);
        p.status = status;
        p.created_at = p.updated_at = 1700000000;
        p.version = 1;
        if (store_begin(st, &err))
                return -1;
        if (store_person_insert(st, &p, &err)) {
                store_rollback(st);
                return -1;
        }
        return store_commit(st, &err);
}

static int set_account(struct store *st, int64_t pid, int state, bool insert)
{
        struct store_eid_account a = {0};
        struct pop_err err = {0};
        a.pid = pid;
        a.level = EID_LEVEL_2;
        a.state = state;
        a.created_ms = a.updated_ms = 1795428000000LL;
        if (store_begin(st, &err))
                return -1;
        int rc = insert ? store_eid_account_insert(st, &a, &err)
                        : store_eid_account_update(st, &a, &err);
        if (rc) {
                store_rollback(st);
                return rc;
        }
        return store_commit(st, &err);
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        struct pop_err err = {0};
        if (!f)
                return -1;
        tu_tmpdir();
        tu_path(f->path, sizeof f->path, "verify.db");
        snprintf(f->uri, sizeof f->uri, "%s%s", uri_prefix, f->path);
        if (store_open(f->uri, 1, &f->st, &err)) {
                print_error("store_open(%s): %s\n", f->uri, err.msg);
                free(f);
                return -1;
        }
        if (add_person(f->st, PID, NAME, "1990-02-28", PERSON_LIVING) ||
            add_person(f->st, PID + 1, "Trần Văn Bình", "1950", PERSON_DECEASED)) {
                print_error("cannot add the people\n");
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

/* verify_check of a name and dob claim; the answer's code, "error" when it failed. */
static const char *check(struct store *st, int64_t pid, const char *name, const char *dob,
                         bool *yes)
{
        struct verify_request rq;
        struct verify_answer va;
        struct pop_err err = {0};
        memset(&rq, 0, sizeof rq);
        rq.pid = pid;
        rq.mode = MATCH_EXACT;
        rq.claim[VERIFY_A_NAME].s = name;
        rq.claim[VERIFY_A_NAME].len = strlen(name);
        rq.claim[VERIFY_A_DOB].s = dob;
        rq.claim[VERIFY_A_DOB].len = strlen(dob);
        if (verify_check(st, &rq, &va, &err)) {
                print_error("verify_check: %s\n", err.msg);
                return "error";
        }
        *yes = va.yes;
        return va.code;
}

static void test_subject_read(void **state)
{
        struct fx *f = *state;
        struct store_verify_subject s;
        struct pop_err err = {0};
        assert_int_equal(store_verify_subject(f->st, PID, &s, &err), 0);
        assert_string_equal(s.full_name, NAME);
        char fold[2 * NAME_MAX_BYTES + 1];
        assert_int_equal(name_fold(NAME, strlen(NAME), fold, sizeof fold, &err), 0);
        assert_string_equal(s.name_fold, fold);
        assert_int_equal(s.dob.y, 1990);
        assert_int_equal(s.dob.m, 2);
        assert_int_equal(s.dob.d, 28);
        assert_int_equal(s.sex, SEX_FEMALE);
        assert_int_equal(s.status, PERSON_LIVING);
        assert_int_equal(s.eid_state, -1);
        assert_int_equal(set_account(f->st, PID, EID_LOCKED, true), 0);
        assert_int_equal(store_verify_subject(f->st, PID, &s, &err), 0);
        assert_int_equal(s.eid_state, EID_LOCKED);
        assert_int_equal(store_verify_subject(f->st, PID + 7, &s, &err), POP_ENOTFOUND);
        assert_string_equal(err.rule, "person-not-found");
        assert_int_equal(store_verify_subject(f->st, PID + 1, &s, &err), 0);
        assert_int_equal(s.status, PERSON_DECEASED);
        assert_int_equal(s.dob.y, 1950);
        assert_int_equal(s.dob.m, 0);
}

static void test_names_and_dates(void **state)
{
        struct fx *f = *state;
        bool yes = false;
        assert_string_equal(check(f->st, PID, NAME, "1990-02-28", &yes), "ok");
        assert_true(yes);
        assert_string_equal(check(f->st, PID, NAME_NFD, "1990-02-28", &yes), "ok");
        assert_true(yes);
        assert_string_equal(check(f->st, PID, NAME_UPPER, "1990-02-28", &yes), "ok");
        assert_true(yes);
        /* Without its diacritics the name is another name under exact matching. */
        assert_string_equal(check(f->st, PID, "Nguyen Thi Anh Tuyet", "1990-02-28", &yes),
                            "name-mismatch");
        assert_false(yes);
        assert_string_equal(check(f->st, PID, NAME, "1990-02-27", &yes), "dob-mismatch");
        assert_false(yes);
        assert_string_equal(check(f->st, PID + 7, NAME, "1990-02-28", &yes), "pid-unknown");
        assert_false(yes);
        /* The status comes before a mismatch. */
        assert_string_equal(check(f->st, PID + 1, "Trần Văn Bình", "1950", &yes), "deceased");
        assert_string_equal(check(f->st, PID + 1, NAME, "1950", &yes), "deceased");
        assert_false(yes);
}

static void test_account_states(void **state)
{
        struct fx *f = *state;
        bool yes = false;
        assert_int_equal(set_account(f->st, PID, EID_ACTIVE, true), 0);
        assert_string_equal(check(f->st, PID, NAME, "1990-02-28", &yes), "ok");
        assert_true(yes);
        assert_int_equal(set_account(f->st, PID, EID_LOCKED, false), 0);
        assert_string_equal(check(f->st, PID, NAME, "1990-02-28", &yes), "account-locked");
        assert_false(yes);
        /* The account's code comes before a mismatch. */
        assert_string_equal(check(f->st, PID, "Lê Văn Tám", "1990-02-28", &yes), "account-locked");
        assert_int_equal(set_account(f->st, PID, EID_SUSPENDED, false), 0);
        assert_string_equal(check(f->st, PID, NAME, "1990-02-28", &yes), "account-suspended");
        assert_int_equal(set_account(f->st, PID, EID_DELETED, false), 0);
        assert_string_equal(check(f->st, PID, NAME, "1990-02-28", &yes), "account-closed");
        assert_int_equal(set_account(f->st, PID, EID_PENDING, false), 0);
        assert_string_equal(check(f->st, PID, NAME, "1990-02-28", &yes), "ok");
        assert_true(yes);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
            T(test_subject_read),
            T(test_names_and_dates),
            T(test_account_states),
        };
        uri_prefix = "sqlite:";
        int failed = cmocka_run_group_tests_name("verify/sqlite", tests, NULL, NULL);
        uri_prefix = "fault:sqlite:";
        failed += cmocka_run_group_tests_name("verify/fault", tests, NULL, NULL);
        return failed ? 1 : 0;
}
