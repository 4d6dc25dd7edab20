/*
 * Failure paths of the event services, over the fault-injecting store ("fault:" + the SQLite
 * path; src/store/fault.c). For each of birth, death of a household head, residence.move,
 * card.renew, marriage and temporary.register: the event is first applied once to a copy of a
 * prepared registry to count its write operations k and to record the state a clean run leaves.
 * Then, for each i in 1..k, on a fresh copy of the same registry, the i-th write is made to fail:
 * the event must fail with POP_ESTORE, stop at that write, and leave everything the read calls
 * show (people, residences, cards, households and heads, journal, pid series) as it was; once
 * disarmed, the same event must succeed and leave exactly the state of the clean run, proving that
 * nothing half-done remained to block or alter it.
 */
#include "regtest.h"

#include <unistd.h>

#define DAD  "001080000001" /* heads household 1 (Hà Nội) with MUM and KID; card; temporary */
#define MUM  "001182000002"
#define HUNG "001090000003" /* heads household 2 (Hồ Chí Minh City), unmarried */
#define LAN  "001195000004" /* heads household 3 (Hà Nội), unmarried, temporary residence lapsed */

#define ADDR_HN  "{'province':'01','commune':'00004','line':'12 Phố Huế'}"
#define ADDR_HN2 "{'province':'01','commune':'00007','line':'5 Hàng Bài'}"
#define ADDR_DN  "{'province':'48','commune':'20194','line':'1 Bạch Đằng'}"
#define ADDR_HCM "{'province':'79','commune':'26734','line':'Phòng 3, 5 Lê Lợi'}"

/* The prepared registry every run starts from, and the people in it. */
static struct rt base;

static void copy_file(const char *from, const char *to)
{
        FILE *in = fopen(from, "rb");
        FILE *out = fopen(to, "wb");
        assert_non_null(in);
        assert_non_null(out);
        char buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
                assert_int_equal(fwrite(buf, 1, n, out), n);
        assert_int_equal(ferror(in), 0);
        fclose(in);
        assert_int_equal(fclose(out), 0);
}

/* A fresh copy of the prepared registry (with its WAL, if one was left), opened over the
 * fault-injecting store. */
static void open_copy(struct rt *t, const char *name)
{
        char wal_from[600], wal_to[600];
        memset(t, 0, sizeof *t);
        tu_path(t->path, sizeof t->path, name);
        snprintf(wal_to, sizeof wal_to, "%s-wal", t->path);
        unlink(wal_to);
        copy_file(base.path, t->path);
        snprintf(wal_from, sizeof wal_from, "%s-wal", base.path);
        if (access(wal_from, F_OK) == 0)
                copy_file(wal_from, wal_to);
        memcpy(t->pids, base.pids, sizeof t->pids);
        t->n_pids = base.n_pids;
        rt_open(t, "fault:sqlite:");
        assert_string_equal(store_backend(t->r->st), "fault");
}

static int group_setup(void **state)
{
        (void)state;
        tu_tmpdir();
        rt_create(&base, "base.db", "sqlite:");
        struct rt *t = &base;
        json_t *res = rt_ok(t, "{'type':'enrol','pid':'" DAD "','name':'Trần Văn Nam',"
                               "'dob':'1980-03-02','sex':'male','ethnicity':'Kinh',"
                               "'address':" ADDR_HN ",'date':'2020-01-01'}");
        json_int_t hh = json_integer_value(json_object_get(res, "household"));
        json_decref(res);
        rt_do(t,
              "{'type':'enrol','pid':'" MUM "','name':'Lê Thị Mai','dob':'1982-05-10',"
              "'sex':'female','ethnicity':'Kinh','household':%lld,'relation':'spouse',"
              "'date':'2020-01-01'}",
              (long long)hh);
        rt_do(t, "{'type':'marriage','a':'" DAD "','b':'" MUM "','date':'2020-05-01'}");
        rt_do(t, "{'type':'birth','name':'Trần Minh Khoa','dob':'2021-06-01','sex':'male',"
                 "'birth_province':'01','father':'" DAD "','mother':'" MUM "',"
                 "'date':'2021-06-10'}");
        rt_do(t, "{'type':'card.issue','pid':'" DAD "','date':'2021-01-10'}");
        rt_do(t, "{'type':'temporary.register','pid':'" DAD "','address':" ADDR_DN ","
                 "'until':'2027-08-01','date':'2025-08-01'}");
        rt_do(t, "{'type':'enrol','pid':'" HUNG "','name':'Phạm Văn Hùng','dob':'1990-07-15',"
                 "'sex':'male','address':" ADDR_HCM ",'date':'2021-01-01'}");
        rt_do(t, "{'type':'enrol','pid':'" LAN "','name':'Nguyễn Thị Lan','dob':'1995-09-20',"
                 "'sex':'female','address':" ADDR_HN2 ",'date':'2021-01-01'}");
        rt_do(t, "{'type':'temporary.register','pid':'" LAN "','address':" ADDR_DN ","
                 "'until':'2024-01-01','date':'2023-01-01'}");
        rt_close(t);
        return 0;
}

/* pid allocation series births in Hà Nội in 2026 may touch: (001, G, 26) for both sexes. */
static const int64_t series[] = {1 * 1000 + 2 * 100 + 26, 1 * 1000 + 3 * 100 + 26};

/* The registry test snapshot plus the pid series and the store's integrity check. */
static json_t *snapshot(struct rt *t, const int64_t *extra, int n_extra)
{
        json_t *snap = rt_snapshot(t, extra, n_extra);
        json_t *s = json_array();
        for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
                uint32_t next = 0;
                assert_int_equal(store_series_get(t->r->st, series[i], &next, NULL), 0);
                json_array_append_new(s, json_integer(next));
        }
        json_object_set_new(snap, "series", s);
        assert_int_equal(store_integrity_check(t->r->st, NULL), 0);
        return snap;
}

static int apply(struct rt *t, json_t *ev, json_t **res, struct pop_err *err)
{
        pop_err_clear(err);
        return reg_event_apply(t->r, &t->ctx, ev, res, err);
}

/*
 * The whole check for one event (see the file comment); min_writes is the least number of write
 * operations the event must make, so a change that stops counting writes cannot pass unnoticed.
 */
static void fail_every_write(const char *event, int min_writes)
{
        json_t *ev = rt_json("%s", event);
        struct rt t;
        struct pop_err err = {0};
        json_t *clean_res = NULL, *res = NULL;

        /* The clean run: its writes, its result and the state it leaves. */
        open_copy(&t, "count.db");
        int w0 = store_fault_writes(t.r->st);
        int rc = apply(&t, ev, &clean_res, &err);
        if (rc)
                print_error("clean run refused: %d [%s] %s\n", rc, err.rule, err.msg);
        assert_int_equal(rc, 0);
        int k = store_fault_writes(t.r->st) - w0;
        print_message("%s: %d writes\n", event, k);
        assert_true(k >= min_writes);
        int64_t created[1];
        int n_created = 0;
        const char *new_pid = json_string_value(json_object_get(clean_res, "pid"));
        if (new_pid)
                created[n_created++] = rt_pid(new_pid);
        json_t *clean_after = snapshot(&t, created, n_created);
        rt_close(&t);

        for (int i = 1; i <= k; i++) {
                open_copy(&t, "run.db");
                json_t *before = snapshot(&t, created, n_created);
                w0 = store_fault_writes(t.r->st);
                store_fault_arm(t.r->st, i);
                rc = apply(&t, ev, &res, &err);
                if (rc != POP_ESTORE)
                        print_error("write %d of %d: %d [%s] %s\n", i, k, rc, err.rule, err.msg);
                assert_int_equal(rc, POP_ESTORE);
                assert_string_equal(err.rule, "store-fault");
                assert_null(res);
                /* It stopped at the failed write. */
                assert_int_equal(store_fault_writes(t.r->st) - w0, i);
                json_t *after = snapshot(&t, created, n_created);
                rt_assert_json_equal(before, after);
                json_decref(after);

                /* Disarmed, the same event goes through as if nothing had happened. */
                store_fault_arm(t.r->st, 0);
                rc = apply(&t, ev, &res, &err);
                if (rc)
                        print_error("retry after write %d: %d [%s] %s\n", i, rc, err.rule, err.msg);
                assert_int_equal(rc, 0);
                rt_assert_json_equal(clean_res, res);
                json_decref(res);
                after = snapshot(&t, created, n_created);
                rt_assert_json_equal(clean_after, after);
                /* And the clean state differs from the state before: the event did something. */
                assert_false(json_equal(before, after));
                json_decref(after);
                json_decref(before);
                rt_close(&t);
        }
        json_decref(clean_after);
        json_decref(clean_res);
        json_decref(ev);
}

/* Series, journal, person, residence in the parents' household, commit. */
static void test_birth(void **state)
{
        (void)state;
        fail_every_write("{'type':'birth','name':'Trần Thị Na','dob':'2026-11-01',"
                         "'sex':'female','birth_province':'01','father':'" DAD "',"
                         "'mother':'" MUM "','date':'2026-11-20'}",
                         5);
}

/* Journal, both residences ended, the new head, the card revoked, both spouses, commit. */
static void test_death_of_head(void **state)
{
        (void)state;
        fail_every_write(
            "{'type':'death','pid':'" DAD "','date':'2026-11-01','new_head':'" MUM "'}", 8);
}

/* Journal, old residence ended, the new head there, a new household with its head, the new
 * residence, commit. */
static void test_residence_move(void **state)
{
        (void)state;
        fail_every_write("{'type':'residence.move','pid':'" DAD "','address':" ADDR_HCM ","
                         "'new_head':'" MUM "','date':'2026-11-01'}",
                         7);
}

/* Journal, the old card replaced, the new card, commit. */
static void test_card_renew(void **state)
{
        (void)state;
        fail_every_write("{'type':'card.renew','pid':'" DAD "','date':'2026-11-01'}", 4);
}

/* Journal, both people, commit. */
static void test_marriage(void **state)
{
        (void)state;
        fail_every_write("{'type':'marriage','a':'" HUNG "','b':'" LAN "','date':'2026-11-01'}", 4);
}

/* The lapsed temporary residence closed as expired, journal, the new one, commit. */
static void test_temporary_register(void **state)
{
        (void)state;
        fail_every_write("{'type':'temporary.register','pid':'" LAN "','address':" ADDR_HCM ","
                         "'until':'2027-06-01','date':'2026-11-01'}",
                         4);
}

/* Unarmed, the fault store is transparent, and reads are never counted as writes. */
static void test_unarmed_reads(void **state)
{
        (void)state;
        struct rt t;
        open_copy(&t, "reads.db");
        int w0 = store_fault_writes(t.r->st);
        json_t *snap = snapshot(&t, NULL, 0);
        json_t *o = NULL;
        assert_int_equal(reg_residence_json(t.r, rt_pid(DAD), rt_date("2024-01-01"), &o, NULL), 0);
        json_decref(o);
        assert_int_equal(reg_history_json(t.r, rt_pid(DAD), &o, NULL), 0);
        json_decref(o);
        assert_int_equal(store_fault_writes(t.r->st), w0);
        /* A refused event makes no write that survives; the snapshot is unchanged. */
        rt_refuse(&t, POP_ERULE, "card-exists", "{'type':'card.issue','pid':'" DAD "'}");
        json_t *again = snapshot(&t, NULL, 0);
        rt_assert_json_equal(snap, again);
        json_decref(again);
        json_decref(snap);
        rt_close(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_birth),          cmocka_unit_test(test_death_of_head),
            cmocka_unit_test(test_residence_move), cmocka_unit_test(test_card_renew),
            cmocka_unit_test(test_marriage),       cmocka_unit_test(test_temporary_register),
            cmocka_unit_test(test_unarmed_reads),
        };
        return cmocka_run_group_tests(tests, group_setup, NULL);
}
