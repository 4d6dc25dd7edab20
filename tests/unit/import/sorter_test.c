/*
 * Unit tests of src/import/sorter.c, the import's external merge sort: records come back in key
 * order with their bytes intact, equal keys in the order they were added, whether everything fit
 * in memory or went through many runs on disk (a small budget), with records of very different
 * sizes; an over-long record and a read before finish are refused.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "import/import_int.h"

/* A record: its sequence number, then filler bytes derived from it. */
static size_t make(uint64_t seq, size_t len, unsigned char *out)
{
        memcpy(out, &seq, sizeof seq);
        for (size_t i = sizeof seq; i < len; i++)
                out[i] = (unsigned char)(seq * 31 + i);
        return len;
}

static void check_rec(const unsigned char *rec, size_t len, uint64_t *seq)
{
        assert_true(len >= sizeof *seq);
        memcpy(seq, rec, sizeof *seq);
        for (size_t i = sizeof *seq; i < len; i++)
                assert_int_equal(rec[i], (unsigned char)(*seq * 31 + i));
}

/* Adds n records with keys drawn from [0, range) and lengths from 8 to 8 + spread, then reads
 * them back: ascending keys, equal keys by ascending sequence, every record once. */
static void round_trip(size_t budget, int n, int64_t range, size_t spread)
{
        struct imp_sorter *s = NULL;
        struct pop_err e = {0};
        assert_int_equal(imp_sorter_new(budget, &s, &e), 0);
        static unsigned char buf[IMP_SORTER_REC_MAX];
        int64_t *keys = calloc((size_t)n + 1, sizeof *keys);
        size_t *lens = calloc((size_t)n + 1, sizeof *lens);
        bool *seen = calloc((size_t)n + 1, sizeof *seen);
        assert_non_null(keys);
        assert_non_null(lens);
        assert_non_null(seen);
        uint64_t r = 12345;
        for (int i = 0; i < n; i++) {
                r = r * 6364136223846793005ULL + 1442695040888963407ULL;
                keys[i] = (int64_t)((r >> 20) % (uint64_t)range) - range / 2;
                lens[i] = 8 + (size_t)((r >> 40) % (spread + 1));
                assert_int_equal(
                    imp_sorter_add(s, keys[i], buf, make((uint64_t)i, lens[i], buf), &e), 0);
        }
        assert_int_equal(imp_sorter_count(s), n);
        assert_int_equal(imp_sorter_finish(s, &e), 0);
        int64_t key, last_key = INT64_MIN;
        uint64_t last_seq = 0;
        const void *rec;
        size_t len;
        int got = 0, rc;
        while ((rc = imp_sorter_next(s, &key, &rec, &len, &e)) == 1) {
                uint64_t seq;
                check_rec(rec, len, &seq);
                assert_true(seq < (uint64_t)n);
                assert_false(seen[seq]);
                seen[seq] = true;
                assert_int_equal(key, keys[seq]);
                assert_int_equal(len, lens[seq]);
                assert_true(key >= last_key);
                if (key == last_key)
                        assert_true(seq > last_seq);
                last_key = key;
                last_seq = seq;
                got++;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(got, n);
        assert_int_equal(imp_sorter_next(s, &key, &rec, &len, &e), 0);
        imp_sorter_free(s);
        free(keys);
        free(lens);
        free(seen);
}

static void test_in_memory(void **state)
{
        (void)state;
        round_trip(64 << 20, 5000, 1000000, 200);
        round_trip(64 << 20, 0, 10, 0);
        round_trip(64 << 20, 1, 10, 0);
}

/* 4 MiB of budget, about 30 MB of records: a dozen runs on disk. */
static void test_runs_on_disk(void **state)
{
        (void)state;
        round_trip(IMP_SORTER_MIN, 200000, 1000000000000LL, 290);
}

/* Many equal keys across runs keep their order; a few records near the size cap. */
static void test_equal_keys_and_big_records(void **state)
{
        (void)state;
        round_trip(IMP_SORTER_MIN, 60000, 50, 600);
        round_trip(IMP_SORTER_MIN, 300, 1000, IMP_SORTER_REC_MAX - 8);
}

static void test_refusals(void **state)
{
        (void)state;
        struct imp_sorter *s = NULL;
        struct pop_err e = {0};
        assert_int_equal(imp_sorter_new(0, &s, &e), 0);
        static unsigned char big[IMP_SORTER_REC_MAX + 1];
        assert_int_equal(imp_sorter_add(s, 1, big, sizeof big, &e), POP_EINVAL);
        int64_t key;
        const void *rec;
        size_t len;
        assert_int_equal(imp_sorter_next(s, &key, &rec, &len, &e), POP_EINVAL);
        assert_int_equal(imp_sorter_add(s, 1, big, 10, &e), 0);
        assert_int_equal(imp_sorter_finish(s, &e), 0);
        assert_int_equal(imp_sorter_add(s, 2, big, 10, &e), POP_EINVAL);
        assert_int_equal(imp_sorter_next(s, &key, &rec, &len, &e), 1);
        assert_int_equal(key, 1);
        assert_int_equal(imp_sorter_next(s, &key, &rec, &len, &e), 0);
        imp_sorter_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_in_memory),
            cmocka_unit_test(test_runs_on_disk),
            cmocka_unit_test(test_equal_keys_and_big_records),
            cmocka_unit_test(test_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
