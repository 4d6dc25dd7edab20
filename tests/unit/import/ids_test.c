/*
 * Unit tests of src/import/ids.c, the import's list of the IDs it loaded, over the real store
 * (a registry's SQLite store inside an import's transaction, as imp_run uses it): with a few IDs
 * waiting in memory and a filter of one 512-bit block (so IDs gone to the store, and some never
 * added, are answered by the store), every ID added is found with its dob, sex and line whether it
 * still waits or went to the store, an ID added twice is refused however far apart, an ID never
 * added is not found, batches reach the store in ID order, and bad sizes are refused.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "import/import_int.h"
#include "registry/registry.h"

struct fx {
        struct reg *r;
        int64_t batches, last_pid; /* what ids_to_store saw */
        bool unordered;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        char db[512];
        if (!f)
                return -1;
        tu_tmpdir();
        tu_path(db, sizeof db, "ids.db");
        char uri[600];
        snprintf(uri, sizeof uri, "sqlite:%s", db);
        struct pop_err e = {0};
        if (reg_init(db, "Test", &e) || reg_open(uri, &f->r, &e) ||
            store_import_begin(f->r->st, 0, 0, &e) < 0) {
                fprintf(stderr, "setup: %s\n", e.msg);
                free(f);
                return -1;
        }
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        store_import_end(f->r->st);
        reg_close(f->r);
        free(f);
        return 0;
}

/* The store's own list, as import.c hands batches to it; notes whether a batch was in order. */
static int to_store(void *ctx, const struct imp_id *v, size_t n, struct pop_err *err)
{
        struct fx *f = ctx;
        struct person p;
        memset(&p, 0, sizeof p);
        f->batches++;
        for (size_t i = 0; i < n; i++) {
                if (i && v[i].pid <= v[i - 1].pid)
                        f->unordered = true;
                p.pid = v[i].pid;
                p.dob = v[i].dob;
                p.sex = (enum sex)v[i].sex;
                int rc = store_import_loaded(f->r->st, &p, v[i].src, err);
                if (rc)
                        return rc;
                f->last_pid = v[i].pid;
        }
        return 0;
}

static int from_store(void *ctx, int64_t pid, struct imp_id *out, struct pop_err *err)
{
        struct fx *f = ctx;
        struct person p;
        int rc = store_import_find(f->r->st, pid, &p, &out->src, err);
        if (rc == 0) {
                out->pid = pid;
                out->dob = p.dob;
                out->sex = (int32_t)p.sex;
        }
        return rc;
}

/* The i-th ID of the test, in no order, with a dob, sex and line of its own. */
static struct imp_id nth(int i)
{
        struct imp_id x = {.pid = 1000000007LL * (i % 2 ? 97 - i : 200 + i) % 1000000000000LL,
                           .src = ((int64_t)(i % 3) << 32) | (10 + i),
                           .dob = {(int16_t)(1950 + i), (int8_t)(1 + i % 12), (int8_t)(1 + i % 28)},
                           .sex = i % 2 ? SEX_FEMALE : SEX_MALE};
        return x;
}

static void expect_found(struct imp_ids *d, int i)
{
        struct imp_id want = nth(i), got;
        struct pop_err e = {0};
        memset(&got, 0, sizeof got);
        assert_int_equal(imp_ids_find(d, want.pid, &got, &e), 0);
        assert_true(got.pid == want.pid);
        assert_true(got.src == want.src);
        assert_int_equal(got.dob.y, want.dob.y);
        assert_int_equal(got.dob.m, want.dob.m);
        assert_int_equal(got.dob.d, want.dob.d);
        assert_int_equal(got.sex, want.sex);
}

#define N 60

static void test_added_found_twice_refused(void **state)
{
        struct fx *f = *state;
        struct imp_ids *d = NULL;
        struct pop_err e = {0};
        assert_int_equal(imp_ids_new(4, 9, to_store, from_store, f, &d, &e), 0);
        for (int i = 0; i < N; i++) {
                struct imp_id x = nth(i);
                assert_int_equal(imp_ids_add(d, &x, &e), 0);
                assert_true(imp_ids_waiting(d) < 4);
                /* Everything added so far, waiting or in the store, and nothing else. */
                for (int k = 0; k <= i; k++) {
                        expect_found(d, k);
                        struct imp_id again = nth(k);
                        again.src = 999;
                        assert_int_equal(imp_ids_add(d, &again, &e), POP_ECONFLICT);
                }
                for (int k = i + 1; k < N; k++) {
                        struct imp_id out;
                        assert_int_equal(imp_ids_find(d, nth(k).pid, &out, &e), POP_ENOTFOUND);
                }
        }
        assert_int_equal(f->batches, N / 4);
        assert_false(f->unordered);
        /* The last batch: what still waits goes to the store, and is found there. */
        assert_int_equal(imp_ids_flush(d, &e), 0);
        assert_int_equal(imp_ids_waiting(d), 0);
        for (int k = 0; k < N; k++)
                expect_found(d, k);
        imp_ids_free(d);
}

/* With a filter large enough to have no false positive among a few IDs, an ID not added is
 * answered without the store: a store lookup would find it (it is in the store's list). */
static void test_filter_answers_alone(void **state)
{
        struct fx *f = *state;
        struct pop_err e = {0};
        struct person p;
        memset(&p, 0, sizeof p);
        p.pid = 123456789012LL;
        p.dob = (struct pdate){1990, 1, 1};
        assert_int_equal(store_import_loaded(f->r->st, &p, 7, &e), 0);
        struct imp_ids *d = NULL;
        assert_int_equal(imp_ids_new(8, 20, to_store, from_store, f, &d, &e), 0);
        struct imp_id out;
        assert_int_equal(imp_ids_find(d, p.pid, &out, &e), POP_ENOTFOUND);
        imp_ids_free(d);
}

static int fail_flush(void *ctx, const struct imp_id *v, size_t n, struct pop_err *err)
{
        (void)ctx;
        (void)v;
        (void)n;
        return pop_fail(err, POP_ESTORE, "store", "injected failure");
}

static int none_found(void *ctx, int64_t pid, struct imp_id *out, struct pop_err *err)
{
        (void)ctx;
        (void)pid;
        (void)out;
        return pop_fail(err, POP_ENOTFOUND, "not-found", "not in the store");
}

/* A flush that fails leaves the waiting IDs listed and findable (the sort moved them: their
 * slots must follow; failed before: found the wrong ID or none). */
static void test_failed_flush_keeps_ids(void **state)
{
        (void)state;
        struct imp_ids *d = NULL;
        struct pop_err e = {0};
        assert_int_equal(imp_ids_new(64, 9, fail_flush, none_found, NULL, &d, &e), 0);
        for (int i = 0; i < 20; i++) {
                struct imp_id x = nth(i);
                assert_int_equal(imp_ids_add(d, &x, &e), 0);
        }
        assert_int_equal(imp_ids_flush(d, &e), POP_ESTORE);
        assert_int_equal(imp_ids_waiting(d), 20);
        for (int k = 0; k < 20; k++)
                expect_found(d, k);
        struct imp_id again = nth(3);
        assert_int_equal(imp_ids_add(d, &again, &e), POP_ECONFLICT);
        imp_ids_free(d);
}

static void test_bad_sizes(void **state)
{
        struct fx *f = *state;
        struct imp_ids *d = NULL;
        struct pop_err e = {0};
        assert_int_equal(imp_ids_new(0, 20, to_store, from_store, f, &d, &e), POP_EINVAL);
        assert_null(d);
        assert_int_equal(imp_ids_new(4, 8, to_store, from_store, f, &d, &e), POP_EINVAL);
        assert_int_equal(imp_ids_new(4, 42, to_store, from_store, f, &d, &e), POP_EINVAL);
        assert_null(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_added_found_twice_refused, setup, teardown),
            cmocka_unit_test_setup_teardown(test_filter_answers_alone, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_sizes, setup, teardown),
            cmocka_unit_test(test_failed_flush_keeps_ids),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
