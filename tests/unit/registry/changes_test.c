/*
 * Tests of the API's side of the registry: reg_event_apply_opts (a registrar's province scope,
 * per event type, before or after the rules; the before-commit hook inside the transaction) and
 * the units each event records; reg_changes (the feed's items, scope filtering with recorded and
 * fallback units, paging, the scan budget, imports left out).
 */
#include "regtest.h"

#define DAD "001080000001" /* Trần Văn Nam, male, 1980-03-02, Hà Nội */
#define MUM "001182000002" /* Lê Thị Mai, female, 1982-05-10, Hà Nội */
#define SON "079085000003" /* Nguyễn Văn Sơn, male, 1985-01-01, Hồ Chí Minh City */
#define OLD "048070000004" /* Vũ Văn Tùng, male, 1970-07-07, legacy Quảng Nam (49) */

#define ADDR_HN  "{'province':'01','commune':'00004','line':'12 Phố Huế'}"
#define ADDR_HN2 "{'province':'01','commune':'00007','line':'5 Hàng Bài'}"
#define ADDR_HCM "{'province':'79','commune':'26734','line':'5 Lê Lợi'}"

static int setup(void **state)
{
        struct rt *t = calloc(1, sizeof *t);
        if (!t)
                return -1;
        tu_tmpdir();
        rt_create(t, "r.db", "sqlite:");
        t->ctx.today = rt_today;
        rt_do(t, "{'type':'enrol','pid':'" DAD "','name':'Trần Văn Nam','dob':'1980-03-02',"
                 "'sex':'male','address':" ADDR_HN ",'date':'2020-01-01'}");
        rt_do(t, "{'type':'enrol','pid':'" MUM "','name':'Lê Thị Mai','dob':'1982-05-10',"
                 "'sex':'female','address':" ADDR_HN2 ",'date':'2020-01-01'}");
        rt_do(t, "{'type':'enrol','pid':'" SON "','name':'Nguyễn Văn Sơn','dob':'1985-01-01',"
                 "'sex':'male','address':" ADDR_HCM ",'date':'2020-01-01'}");
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        struct rt *t = *state;
        rt_close(t);
        free(t);
        return 0;
}

/* A scope of 2025 unit codes, as the API's client has. */
struct scope {
        int units[4];
        int n;
        int calls;
};

static bool in_scope(void *ctx, int unit)
{
        struct scope *s = ctx;
        s->calls++;
        for (int i = 0; i < s->n; i++)
                if (s->units[i] == unit)
                        return true;
        return false;
}

struct hook {
        int calls;
        int fail; /* return this */
        int64_t seq;
};

static int before_commit(void *ctx, struct store *st, const json_t *result, struct pop_err *err)
{
        (void)st;
        struct hook *h = ctx;
        h->calls++;
        h->seq = json_integer_value(json_object_get(result, "seq"));
        assert_non_null(json_object_get(result, "date"));
        return h->fail ? pop_fail(err, h->fail, "hook", "hook failed") : 0;
}

/* Applies with a scope of the given units; returns the code, err filled. */
static int apply_in(struct rt *t, struct scope *s, struct pop_err *err, const char *fmt, ...)
    POP_PRINTF(4, 5);
static int apply_in(struct rt *t, struct scope *s, struct pop_err *err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        json_t *ev = rt_event(fmt, ap);
        va_end(ap);
        struct reg_apply_opts o = {.in_scope = in_scope, .ctx = s};
        json_t *res = NULL;
        pop_err_clear(err);
        int rc = reg_event_apply_opts(t->r, &t->ctx, ev, &o, &res, err);
        json_decref(ev);
        json_decref(res);
        return rc;
}

/* The last journal seq. */
static int64_t journal_len(struct rt *t)
{
        struct pop_err err = {0};
        json_t *items = NULL;
        int64_t next = 0;
        bool more = false;
        struct reg_changes_query q = {.after = 0, .limit = 1000, .max_scan = 100000};
        assert_int_equal(reg_changes(t->r, &q, &items, &next, &more, &err), 0);
        json_decref(items);
        return next;
}

static void test_scope_per_type(void **state)
{
        struct rt *t = *state;
        struct scope hn = {.units = {1}, .n = 1}, hcm = {.units = {79}, .n = 1};
        struct pop_err err;
        int64_t len = journal_len(t);

        /* The subject's residence before the event. */
        assert_int_equal(apply_in(t, &hcm, &err, "{'type':'card.issue','pid':'" DAD "'}"),
                         POP_ERULE);
        assert_string_equal(err.rule, "province-out-of-scope");
        assert_null(strstr(err.msg, "01")); /* the message names no province */
        assert_int_equal(journal_len(t), len);
        assert_int_equal(apply_in(t, &hn, &err, "{'type':'card.issue','pid':'" DAD "'}"), 0);
        /* Before the rules: an out-of-scope registrar is not told of person-deceased etc. */
        assert_int_equal(apply_in(t, &hcm, &err, "{'type':'card.issue','pid':'" DAD "'}"),
                         POP_ERULE);
        assert_string_equal(err.rule, "province-out-of-scope");
        assert_int_equal(apply_in(t, &hn, &err, "{'type':'card.issue','pid':'" DAD "'}"),
                         POP_ERULE);
        assert_string_equal(err.rule, "card-exists");

        /* A missing person: the event's own answer, whatever the scope. */
        assert_int_equal(apply_in(t, &hcm, &err, "{'type':'death','pid':'001090099999'}"),
                         POP_ENOTFOUND);

        /* Moves: the destination. */
        assert_int_equal(apply_in(t, &hn, &err,
                                  "{'type':'residence.move','pid':'" MUM "','address':" ADDR_HCM
                                  "}"),
                         POP_ERULE);
        assert_string_equal(err.rule, "province-out-of-scope");
        len = journal_len(t);
        assert_int_equal(apply_in(t, &hcm, &err,
                                  "{'type':'residence.move','pid':'" MUM "','address':" ADDR_HCM
                                  "}"),
                         0);
        assert_true(journal_len(t) > len);

        /* Marriage: either party. */
        assert_int_equal(apply_in(t, &hn, &err, "{'type':'marriage','a':'" DAD "','b':'" MUM "'}"),
                         0);
        struct scope hue = {.units = {46}, .n = 1};
        assert_int_equal(apply_in(t, &hue, &err, "{'type':'divorce','a':'" DAD "','b':'" MUM "'}"),
                         POP_ERULE);
        assert_string_equal(err.rule, "province-out-of-scope");

        /* Temporary residence: where it is registered. */
        assert_int_equal(apply_in(t, &hn, &err,
                                  "{'type':'temporary.register','pid':'" SON
                                  "','until':'2027-06-01','address':" ADDR_HN "}"),
                         0);
        assert_int_equal(apply_in(t, &hcm, &err,
                                  "{'type':'temporary.extend','pid':'" SON
                                  "','until':'2027-12-01'}"),
                         POP_ERULE);
        assert_int_equal(apply_in(t, &hn, &err,
                                  "{'type':'temporary.extend','pid':'" SON
                                  "','until':'2027-12-01'}"),
                         0);

        /* Birth: the birth province and the child's residence. */
        assert_int_equal(apply_in(t, &hcm, &err,
                                  "{'type':'birth','name':'Trần Minh Khoa','dob':'2026-11-01',"
                                  "'sex':'male','birth_province':'01','address':" ADDR_HCM "}"),
                         POP_ERULE);
        assert_string_equal(err.rule, "province-out-of-scope");
        assert_int_equal(apply_in(t, &hn, &err,
                                  "{'type':'birth','name':'Trần Minh Khoa','dob':'2026-11-01',"
                                  "'sex':'male','birth_province':'01','address':" ADDR_HCM "}"),
                         POP_ERULE);
        assert_int_equal(apply_in(t, &hn, &err,
                                  "{'type':'birth','name':'Trần Minh Khoa','dob':'2026-11-01',"
                                  "'sex':'male','birth_province':'01','father':'" DAD "'}"),
                         0);

        /* A legacy code counts as its 2025 unit: Quảng Nam (49) is in Đà Nẵng (48). */
        struct scope dn = {.units = {48}, .n = 1};
        assert_int_equal(apply_in(t, &dn, &err,
                                  "{'type':'enrol','pid':'" OLD "','name':'Vũ Văn Tùng',"
                                  "'dob':'1970-07-07','sex':'male','date':'2020-01-01',"
                                  "'address':{'province':'49','commune':'20300','line':'x'}}"),
                         0);
        assert_int_equal(apply_in(t, &dn, &err, "{'type':'card.issue','pid':'" OLD "'}"), 0);
}

static void test_hook(void **state)
{
        struct rt *t = *state;
        struct hook h = {0};
        struct reg_apply_opts o = {.before_commit = before_commit, .ctx = &h};
        json_t *ev = rt_json("{'type':'card.issue','pid':'" DAD "'}");
        json_t *res = NULL;
        struct pop_err err = {0};
        int64_t len = journal_len(t);

        h.fail = POP_ECONFLICT; /* the hook's failure rolls the event back */
        assert_int_equal(reg_event_apply_opts(t->r, &t->ctx, ev, &o, &res, &err), POP_ECONFLICT);
        assert_null(res);
        assert_int_equal(h.calls, 1);
        assert_int_equal(journal_len(t), len);
        h.fail = 0;
        assert_int_equal(reg_event_apply_opts(t->r, &t->ctx, ev, &o, &res, &err), 0);
        assert_int_equal(h.calls, 2);
        assert_int_equal(json_integer_value(json_object_get(res, "seq")), h.seq);
        json_decref(res);
        /* Not called for a refused event. */
        assert_int_equal(reg_event_apply_opts(t->r, &t->ctx, ev, &o, &res, &err), POP_ERULE);
        assert_int_equal(h.calls, 2);
        json_decref(ev);
}

static json_t *page(struct rt *t, struct scope *s, int64_t after, int limit, int max_scan,
                    int64_t *next, bool *more)
{
        struct reg_changes_query q = {.after = after,
                                      .limit = limit,
                                      .max_scan = max_scan,
                                      .in_scope = s ? in_scope : NULL,
                                      .ctx = s};
        json_t *items = NULL;
        struct pop_err err = {0};
        assert_int_equal(reg_changes(t->r, &q, &items, next, more, &err), 0);
        return items;
}

/* Forgets every event's recorded units (as for events from before migration 5). */
static int forget_units(struct rt *t, int64_t last)
{
        struct pop_err err = {0};
        int rc = store_begin(t->r->st, &err);
        for (int64_t seq = 1; rc == 0 && seq <= last; seq++)
                rc = store_event_units(t->r->st, seq, NULL, &err);
        if (rc == 0)
                rc = store_commit(t->r->st, &err);
        else
                store_rollback(t->r->st);
        return rc;
}

static bool names(json_t *items, const char *pid)
{
        size_t i, j;
        json_t *it, *p;
        json_array_foreach(items, i, it)
            json_array_foreach(json_object_get(it, "subjects"), j,
                               p) if (!strcmp(json_string_value(p), pid)) return true;
        return false;
}

static void test_changes(void **state)
{
        struct rt *t = *state;
        rt_do(t, "{'type':'residence.move','pid':'" MUM "','address':" ADDR_HCM "}");
        rt_do(t, "{'type':'correction','pid':'" DAD "','name':'Trần Văn Nam Anh'}");
        rt_do(t, "{'type':'card.issue','pid':'" SON "'}");
        int64_t next;
        bool more;
        json_t *all = page(t, NULL, 0, 100, 1000, &next, &more);
        assert_int_equal(json_array_size(all), 6);
        assert_false(more);
        json_t *corr = json_array_get(all, 4);
        assert_string_equal(rt_str(corr, "type", NULL), "correction");
        assert_string_equal(
            rt_str(json_array_get(json_object_get(corr, "changes"), 0), "full_name", NULL),
            "Trần Văn Nam Anh");
        json_t *move = json_array_get(all, 3);
        assert_string_equal(rt_str(move, "type", NULL), "residence.move");
        assert_string_equal(rt_str(json_array_get(json_object_get(move, "changes"), 0), "residence",
                                   "permanent", "address", "province", "code", NULL),
                            "79");

        /* Hà Nội sees the move out (its resident before), not HCMC's card. */
        struct scope hn = {.units = {1}, .n = 1}, hcm = {.units = {79}, .n = 1};
        json_t *items = page(t, &hn, 0, 100, 1000, &next, &more);
        assert_int_equal(json_array_size(items), 4);
        assert_false(names(items, SON));
        json_decref(items);
        items = page(t, &hcm, 0, 100, 1000, &next, &more);
        assert_int_equal(json_array_size(items), 3); /* SON's enrol and card, MUM's move in */
        assert_false(names(items, DAD));
        json_decref(items);

        /* Paging: limit 1 walks the same items; a scan budget stops early with more. */
        int64_t after = 0;
        for (size_t i = 0; i < json_array_size(all); i++) {
                items = page(t, NULL, after, 1, 1000, &next, &more);
                assert_int_equal(json_array_size(items), 1);
                assert_int_equal(
                    json_integer_value(json_object_get(json_array_get(items, 0), "seq")),
                    json_integer_value(json_object_get(json_array_get(all, i), "seq")));
                after = next;
                json_decref(items);
        }
        items = page(t, NULL, after, 1, 1000, &next, &more);
        assert_int_equal(json_array_size(items), 0);
        assert_false(more);
        json_decref(items);
        items = page(t, &hcm, 0, 100, 1, &next, &more);
        assert_int_equal(json_array_size(items), 0); /* the first row is Hà Nội's */
        assert_true(more);
        assert_int_equal(next, 1);
        json_decref(items);

        /* Events without recorded units fall back to current residences. */
        assert_int_equal(forget_units(t, journal_len(t)), 0);
        items = page(t, &hcm, 0, 100, 1000, &next, &more);
        assert_true(names(items, MUM)); /* she lives in HCMC now: all her events show */
        assert_false(names(items, DAD));
        json_decref(items);
        json_decref(all);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_scope_per_type, setup, teardown),
            cmocka_unit_test_setup_teardown(test_hook, setup, teardown),
            cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        };
        return cmocka_run_group_tests_name("registry/changes", tests, NULL, NULL);
}
