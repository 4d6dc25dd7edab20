/*
 * Unit tests of src/store/sqlite.c through the store.h wrappers only: the conformance suite every
 * store backend must pass. Each test gets a fresh store opened from a URI made by the suite's
 * prefix and a new temporary path, so the same tests run against another backend by adding a
 * run_conformance call with its URI prefix. main runs them on "sqlite:" and on "fault:sqlite:"
 * (the fault-injecting backend, unarmed, must be transparent).
 *
 * Covered: open/create/migrate (reopen keeps data; a missing path without create is
 * POP_ENOTFOUND), meta, persons, households and their head history, residence and its
 * one-open-residence-per-kind constraint, cards and the one-valid-card constraint, the journal,
 * pid series, rollback and the integrity check.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* The backend under test: URIs are this prefix + a path. Set by run_conformance. */
static const char *uri_prefix;

struct fx {
        char path[512];
        char uri[600];
        struct store *st;
};

static void make_uri(struct fx *f, const char *name)
{
        tu_path(f->path, sizeof f->path, name);
        snprintf(f->uri, sizeof f->uri, "%s%s", uri_prefix, f->path);
}

/* Opens uri, failing the test with the store's message when it cannot. */
static struct store *open_store(const char *uri, int create)
{
        struct store *st = NULL;
        struct pop_err err = {0};
        int rc = store_open(uri, create, &st, &err);
        if (rc) {
                print_error("store_open(%s): %d %s: %s\n", uri, rc, err.rule, err.msg);
                fail();
        }
        assert_non_null(st);
        return st;
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        if (!f)
                return -1;
        tu_tmpdir();
        make_uri(f, "store.db");
        f->st = open_store(f->uri, 1);
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

static struct pdate D(const char *s) {
        struct pdate p;
        assert_int_equal(pdate_parse(s, strlen(s), &p, NULL), POP_OK);
        return p;
}

static const struct pdate none = {0, 0, 0};

static void assert_date(struct pdate got, const char *want)
{
        char b[11];
        pdate_format(got, b);
        assert_string_equal(b, want);
}

/* Runs the expression inside a transaction that must commit. */
#define TX(st, expr)                                                                               \
        do {                                                                                       \
                struct pop_err tx_err_ = {0};                                                      \
                assert_int_equal(store_begin((st), &tx_err_), POP_OK);                             \
                int tx_rc_ = (expr);                                                               \
                if (tx_rc_) {                                                                      \
                        print_error("%s: %d\n", #expr, tx_rc_);                                    \
                        store_rollback(st);                                                        \
                        fail();                                                                    \
                }                                                                                  \
                assert_int_equal(store_commit((st), &tx_err_), POP_OK);                            \
        } while (0)

/* A person with every field set to something other than its zero value. */
static struct person mk_person(int64_t pid, const char *name, const char *dob, enum sex sex)
{
        struct person p;
        memset(&p, 0, sizeof p);
        p.pid = pid;
        snprintf(p.full_name, sizeof p.full_name, "%s", name);
        snprintf(p.name_fold, sizeof p.name_fold, "fold %s", name);
        snprintf(p.name_key, sizeof p.name_key, "key %s", name);
        p.dob = D(dob);
        p.sex = sex;
        p.birth_province = 1;
        snprintf(p.hometown, sizeof p.hometown, "Làng Vòng, Hà Nội");
        snprintf(p.ethnicity, sizeof p.ethnicity, "Kinh");
        snprintf(p.religion, sizeof p.religion, "Phật giáo");
        memcpy(p.nationality, "VNM", 4);
        p.status = PERSON_LIVING;
        p.created_at = 1700000000;
        p.updated_at = 1700000001;
        p.version = 3;
        return p;
}

static void assert_person_equal(const struct person *a, const struct person *b)
{
        assert_int_equal(a->pid, b->pid);
        assert_string_equal(a->full_name, b->full_name);
        assert_string_equal(a->name_fold, b->name_fold);
        assert_string_equal(a->name_key, b->name_key);
        assert_memory_equal(&a->dob, &b->dob, sizeof a->dob);
        assert_int_equal(a->sex, b->sex);
        assert_int_equal(a->birth_province, b->birth_province);
        assert_string_equal(a->hometown, b->hometown);
        assert_string_equal(a->ethnicity, b->ethnicity);
        assert_string_equal(a->religion, b->religion);
        assert_string_equal(a->nationality, b->nationality);
        assert_int_equal(a->father, b->father);
        assert_int_equal(a->mother, b->mother);
        assert_int_equal(a->spouse, b->spouse);
        assert_int_equal(a->status, b->status);
        assert_memory_equal(&a->death_date, &b->death_date, sizeof a->death_date);
        assert_int_equal(a->created_at, b->created_at);
        assert_int_equal(a->updated_at, b->updated_at);
        assert_int_equal(a->version, b->version);
}

static int64_t count_persons(struct store *st)
{
        int64_t n = -1;
        assert_int_equal(store_person_count(st, &n, NULL), POP_OK);
        return n;
}

/* ---- open, create, migrate ---- */

static void test_open_missing(void **state)
{
        struct fx *f = *state;
        struct fx g;
        make_uri(&g, "absent.db");
        struct store dummy = {0};
        struct store *st = &dummy; /* must be overwritten with NULL */
        struct pop_err err = {0};
        assert_int_equal(store_open(g.uri, 0, &st, &err), POP_ENOTFOUND);
        assert_null(st);
        assert_string_equal(err.rule, "store-missing");
        assert_non_null(strstr(err.msg, g.path));
        /* Nothing was created by the refusal. */
        assert_int_equal(store_open(g.uri, 0, &st, NULL), POP_ENOTFOUND);

        /* Bad URIs. */
        assert_int_equal(store_open("", 1, &st, &err), POP_EINVAL);
        assert_string_equal(err.rule, "store-uri");
        assert_int_equal(store_open(NULL, 1, &st, &err), POP_EINVAL);
        assert_int_equal(store_open("nosuch://x", 1, &st, &err), POP_EINVAL);
        assert_string_equal(err.rule, "store-uri");
        assert_null(st);
        (void)f;
}

static void test_reopen_keeps_data(void **state)
{
        struct fx *f = *state;
        if (strcmp(uri_prefix, "sqlite:") == 0)
                assert_string_equal(store_backend(f->st), "sqlite");
        struct person p = mk_person(1090012345, "Nguyễn Văn An", "1990-05-17", SEX_MALE);
        TX(f->st, store_person_insert(f->st, &p, NULL) || store_meta_set(f->st, "k", "v", 1, NULL));
        store_close(f->st);

        /* Reopening, with or without create, applies no migration twice and keeps the data. */
        for (int create = 0; create < 2; create++) {
                f->st = open_store(f->uri, create);
                struct person q;
                assert_int_equal(store_person_get(f->st, p.pid, &q, NULL), POP_OK);
                assert_person_equal(&p, &q);
                char buf[4];
                size_t len = 0;
                assert_int_equal(store_meta_get(f->st, "k", buf, sizeof buf, &len, NULL), POP_OK);
                assert_int_equal(len, 1);
                assert_int_equal(count_persons(f->st), 1);
                assert_int_equal(store_integrity_check(f->st, NULL), POP_OK);
                store_close(f->st);
        }
        /* For SQLite, a bare path is the same database. */
        if (strcmp(uri_prefix, "sqlite:") == 0) {
                f->st = open_store(f->path, 0);
                assert_int_equal(count_persons(f->st), 1);
                store_close(f->st);
        }
        f->st = open_store(f->uri, 0);
}

static void test_integrity_check(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        assert_int_equal(store_integrity_check(f->st, &err), POP_OK);
        struct person p = mk_person(1090012345, "Nguyễn Văn An", "1990-05-17", SEX_MALE);
        TX(f->st, store_person_insert(f->st, &p, NULL));
        assert_int_equal(store_integrity_check(f->st, &err), POP_OK);
}

/* ---- meta ---- */

static void test_meta(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        char buf[16];
        size_t len = 99;
        assert_int_equal(store_meta_get(f->st, "absent", buf, sizeof buf, &len, &err),
                         POP_ENOTFOUND);

        static const unsigned char bin[8] = {0, 1, 2, 0, 0xff, 0x80, 'a', 0};
        TX(f->st, store_meta_set(f->st, "bin", bin, sizeof bin, &err));
        memset(buf, 0x55, sizeof buf);
        assert_int_equal(store_meta_get(f->st, "bin", buf, sizeof bin, &len, &err), POP_OK);
        assert_int_equal(len, sizeof bin);
        assert_memory_equal(buf, bin, sizeof bin);

        /* One byte short: POP_ETOOBIG, the length still reported, nothing written. */
        memset(buf, 0x55, sizeof buf);
        len = 0;
        assert_int_equal(store_meta_get(f->st, "bin", buf, sizeof bin - 1, &len, &err),
                         POP_ETOOBIG);
        assert_int_equal(len, sizeof bin);
        for (size_t i = 0; i < sizeof buf; i++)
                assert_int_equal((unsigned char)buf[i], 0x55);

        /* Overwrite, with a shorter value; a NULL len is allowed. */
        TX(f->st, store_meta_set(f->st, "bin", "xyz", 3, &err));
        assert_int_equal(store_meta_get(f->st, "bin", buf, sizeof buf, &len, &err), POP_OK);
        assert_int_equal(len, 3);
        assert_memory_equal(buf, "xyz", 3);
        assert_int_equal(store_meta_get(f->st, "bin", buf, sizeof buf, NULL, &err), POP_OK);

        /* An empty value is a value, not an absence. */
        TX(f->st, store_meta_set(f->st, "empty", "", 0, &err));
        len = 99;
        assert_int_equal(store_meta_get(f->st, "empty", buf, sizeof buf, &len, &err), POP_OK);
        assert_int_equal(len, 0);

        /* Keys are distinct. */
        assert_int_equal(store_meta_get(f->st, "bin", buf, sizeof buf, &len, &err), POP_OK);
        assert_int_equal(len, 3);
}

/* ---- persons ---- */

struct pids {
        int64_t v[16];
        int n;
        int stop_at; /* stop after this many (0: never) */
};

static int collect_person(void *ctx, const struct person *p)
{
        struct pids *c = ctx;
        c->v[c->n++] = p->pid;
        return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

static void test_person(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct person p = mk_person(1090012345, "Nguyễn Văn An", "1990-05-17", SEX_MALE);
        struct person q;

        assert_int_equal(count_persons(f->st), 0);
        assert_int_equal(store_person_exists(f->st, p.pid, &err), 0);
        assert_int_equal(store_person_get(f->st, p.pid, &q, &err), POP_ENOTFOUND);
        assert_string_equal(err.rule, "person-not-found");

        TX(f->st, store_person_insert(f->st, &p, &err));
        assert_int_equal(store_person_exists(f->st, p.pid, &err), 1);
        assert_int_equal(count_persons(f->st), 1);
        memset(&q, 0xa5, sizeof q);
        assert_int_equal(store_person_get(f->st, p.pid, &q, &err), POP_OK);
        assert_person_equal(&p, &q);

        /* A duplicate pid is a conflict and leaves the first record alone. */
        struct person dup = mk_person(p.pid, "Trần Thị Bình", "1991-01-01", SEX_FEMALE);
        assert_int_equal(store_begin(f->st, &err), POP_OK);
        assert_int_equal(store_person_insert(f->st, &dup, &err), POP_ECONFLICT);
        store_rollback(f->st);
        assert_int_equal(store_person_get(f->st, p.pid, &q, &err), POP_OK);
        assert_person_equal(&p, &q);
        assert_int_equal(count_persons(f->st), 1);

        /* Update every field (but the key); partial dates and links round-trip. */
        struct person u = mk_person(p.pid, "Nguyễn Văn Ân", "1990", SEX_MALE);
        snprintf(u.hometown, sizeof u.hometown, "Huế");
        snprintf(u.ethnicity, sizeof u.ethnicity, "Tày");
        u.religion[0] = '\0';
        memcpy(u.nationality, "LAO", 4);
        u.birth_province = 2;
        u.father = 1060000001;
        u.mother = 1165000002;
        u.spouse = 1192000003;
        u.status = PERSON_DECEASED;
        u.death_date = D("2026-11-01");
        u.updated_at = 1800000000;
        u.version = 42;
        TX(f->st, store_person_update(f->st, &u, &err));
        assert_int_equal(store_person_get(f->st, p.pid, &q, &err), POP_OK);
        assert_person_equal(&u, &q);
        assert_date(q.dob, "1990");

        /* A year-and-month date, and links cleared again. */
        u.dob = D("1990-05");
        u.father = u.mother = u.spouse = 0;
        u.death_date = none;
        u.status = PERSON_MISSING;
        TX(f->st, store_person_update(f->st, &u, &err));
        assert_int_equal(store_person_get(f->st, p.pid, &q, &err), POP_OK);
        assert_person_equal(&u, &q);

        /* Updating someone who is not there. */
        struct person ghost = mk_person(1090099999, "Lê Văn Cường", "1990-01-01", SEX_MALE);
        assert_int_equal(store_begin(f->st, &err), POP_OK);
        assert_int_equal(store_person_update(f->st, &ghost, &err), POP_ENOTFOUND);
        store_rollback(f->st);
        assert_int_equal(store_person_exists(f->st, ghost.pid, &err), 0);
        assert_int_equal(count_persons(f->st), 1);
}

static void test_person_children(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct person dad = mk_person(1060000001, "Nguyễn Văn Cha", "1960-01-01", SEX_MALE);
        struct person mum = mk_person(1165000002, "Trần Thị Mẹ", "1965-01-01", SEX_FEMALE);
        struct person c1 = mk_person(1095000011, "Nguyễn Văn Một", "1995-03-01", SEX_MALE);
        struct person c2 = mk_person(1190000012, "Nguyễn Thị Hai", "1990-07-01", SEX_FEMALE);
        struct person c3 = mk_person(1098000013, "Nguyễn Văn Ba", "1998", SEX_MALE);
        struct person other = mk_person(1099000014, "Lê Văn Khác", "1999-01-01", SEX_MALE);
        c1.father = c2.father = dad.pid;
        c1.mother = c2.mother = c3.mother = mum.pid;
        other.mother = 1170000099;
        assert_int_equal(store_begin(f->st, &err), POP_OK);
        const struct person *all[] = {&dad, &mum, &c1, &c2, &c3, &other};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                assert_int_equal(store_person_insert(f->st, all[i], &err), POP_OK);
        assert_int_equal(store_commit(f->st, &err), POP_OK);
        assert_int_equal(count_persons(f->st), 6);

        /* By date of birth; a child of both parents appears once. */
        struct pids got = {0};
        assert_int_equal(store_person_children(f->st, dad.pid, collect_person, &got, &err), 0);
        assert_int_equal(got.n, 2);
        assert_int_equal(got.v[0], c2.pid);
        assert_int_equal(got.v[1], c1.pid);

        memset(&got, 0, sizeof got);
        assert_int_equal(store_person_children(f->st, mum.pid, collect_person, &got, &err), 0);
        assert_int_equal(got.n, 3);
        assert_int_equal(got.v[0], c2.pid);
        assert_int_equal(got.v[1], c1.pid);
        assert_int_equal(got.v[2], c3.pid);

        memset(&got, 0, sizeof got);
        assert_int_equal(store_person_children(f->st, c1.pid, collect_person, &got, &err), 0);
        assert_int_equal(got.n, 0);

        /* The callback's non-zero value stops the walk and is returned. */
        memset(&got, 0, sizeof got);
        got.stop_at = 1;
        assert_int_equal(store_person_children(f->st, mum.pid, collect_person, &got, &err), 7);
        assert_int_equal(got.n, 1);
        /* The statement was reset: the next call starts over. */
        memset(&got, 0, sizeof got);
        assert_int_equal(store_person_children(f->st, mum.pid, collect_person, &got, &err), 0);
        assert_int_equal(got.n, 3);
}

/* ---- households ---- */

struct res_list {
        struct residence v[16];
        int n;
};

static int collect_res(void *ctx, const struct residence *r)
{
        struct res_list *l = ctx;
        l->v[l->n++] = *r;
        return 0;
}

static struct residence mk_res(int64_t pid, char kind, int64_t hh, const char *from)
{
        struct residence r;
        memset(&r, 0, sizeof r);
        r.pid = pid;
        r.kind = kind;
        r.household = hh;
        snprintf(r.relation, sizeof r.relation, "%s", hh ? "child" : "");
        r.province = 1;
        memcpy(r.commune, "00004", 6);
        snprintf(r.address, sizeof r.address, "12 Phố Huế");
        r.valid_from = D(from);
        return r;
}

static int64_t head_on(struct store *st, int64_t hh, const char *on)
{
        int64_t head = -1;
        struct pop_err err = {0};
        int rc = store_household_head_on(st, hh, on ? D(on) : none, &head, &err);
        if (rc == POP_ENOTFOUND)
                return 0;
        assert_int_equal(rc, POP_OK);
        return head;
}

static void test_household(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct household h = {0}, g;
        h.head = 1060000001;
        h.province = 1;
        memcpy(h.commune, "00004", 6);
        snprintf(h.address, sizeof h.address, "12 Phố Huế");
        h.created = D("2010-01-01");
        assert_int_equal(store_household_get(f->st, 1, &g, &err), POP_ENOTFOUND);
        assert_string_equal(err.rule, "household-not-found");

        TX(f->st, store_household_insert(f->st, &h, &err) ||
                      store_household_head_set(f->st, h.id, h.head, h.created, &err));
        assert_true(h.id > 0);
        assert_int_equal(store_household_get(f->st, h.id, &g, &err), POP_OK);
        assert_int_equal(g.id, h.id);
        assert_int_equal(g.head, h.head);
        assert_int_equal(g.province, 1);
        assert_string_equal(g.commune, "00004");
        assert_string_equal(g.address, "12 Phố Huế");
        assert_date(g.created, "2010-01-01");

        struct household h2 = h;
        TX(f->st, store_household_insert(f->st, &h2, &err));
        assert_true(h2.id > h.id);

        /* Update. */
        g.province = 79;
        memcpy(g.commune, "26734", 6);
        snprintf(g.address, sizeof g.address, "1 Lê Lợi");
        TX(f->st, store_household_update(f->st, &g, &err));
        struct household k;
        assert_int_equal(store_household_get(f->st, h.id, &k, &err), POP_OK);
        assert_int_equal(k.province, 79);
        assert_string_equal(k.commune, "26734");
        assert_string_equal(k.address, "1 Lê Lợi");

        /* Head history: a second head from 2020-06-01, a third from 2024-01-01. */
        TX(f->st, store_household_head_set(f->st, h.id, 1165000002, D("2020-06-01"), &err));
        TX(f->st, store_household_head_set(f->st, h.id, 1095000011, D("2024-01-01"), &err));
        assert_int_equal(store_household_get(f->st, h.id, &k, &err), POP_OK);
        assert_int_equal(k.head, 1095000011);
        assert_int_equal(head_on(f->st, h.id, NULL), 1095000011);
        assert_int_equal(head_on(f->st, h.id, "2009-12-31"), 0); /* before the household */
        assert_int_equal(head_on(f->st, h.id, "2010-01-01"), 1060000001);
        assert_int_equal(head_on(f->st, h.id, "2020-05-31"), 1060000001);
        assert_int_equal(head_on(f->st, h.id, "2020-06-01"), 1165000002);
        assert_int_equal(head_on(f->st, h.id, "2023-12-31"), 1165000002);
        assert_int_equal(head_on(f->st, h.id, "2024-01-01"), 1095000011);
        assert_int_equal(head_on(f->st, h.id, "2030-01-01"), 1095000011);
        int64_t head;
        assert_int_equal(store_household_head_on(f->st, h.id, D("2009-12-31"), &head, &err),
                         POP_ENOTFOUND);
        /* The other household never had a head set. */
        assert_int_equal(head_on(f->st, h2.id, NULL), 0);
        assert_int_equal(head_on(f->st, h2.id, "2020-01-01"), 0);
}

static void test_household_members(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct household h = {0};
        h.head = 1060000001;
        h.province = 1;
        memcpy(h.commune, "00004", 6);
        h.created = D("2010-01-01");
        struct residence a = mk_res(1060000001, RESIDENCE_PERMANENT, 0, "2010-01-01");
        struct residence b = mk_res(1165000002, RESIDENCE_PERMANENT, 0, "2012-05-01");
        struct residence c = mk_res(1095000011, RESIDENCE_PERMANENT, 0, "2015-03-01");
        struct residence t = mk_res(1099000014, RESIDENCE_TEMPORARY, 0, "2016-01-01");
        TX(f->st, store_household_insert(f->st, &h, &err));
        a.household = b.household = c.household = h.id;
        c.ended = D("2020-01-01");
        snprintf(c.end_reason, sizeof c.end_reason, "moved");
        t.valid_to = D("2017-01-01");
        /* A temporary stay never counts as membership, even if it names the household. */
        t.household = h.id;
        TX(f->st,
           store_residence_insert(f->st, &a, &err) || store_residence_insert(f->st, &c, &err) ||
               store_residence_insert(f->st, &b, &err) || store_residence_insert(f->st, &t, &err));

        struct {
                const char *on;
                int n;
                int64_t pids[3];
        } cases[] = {
            {NULL, 2, {1060000001, 1165000002}},
            {"2009-12-31", 0, {0}},
            {"2010-01-01", 1, {1060000001}},
            {"2012-04-30", 1, {1060000001}},
            {"2012-05-01", 2, {1060000001, 1165000002}},
            {"2015-03-01", 3, {1060000001, 1165000002, 1095000011}},
            {"2016-06-01", 3, {1060000001, 1165000002, 1095000011}},
            {"2019-12-31", 3, {1060000001, 1165000002, 1095000011}},
            {"2020-01-01", 2, {1060000001, 1165000002}}, /* ended that day */
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct res_list l = {0};
                assert_int_equal(store_household_members(f->st, h.id,
                                                         cases[i].on ? D(cases[i].on) : none,
                                                         collect_res, &l, &err),
                                 0);
                if (l.n != cases[i].n)
                        print_error("on %s: %d members\n", cases[i].on ? cases[i].on : "now", l.n);
                assert_int_equal(l.n, cases[i].n);
                for (int j = 0; j < l.n; j++) {
                        assert_int_equal(l.v[j].pid, cases[i].pids[j]); /* order of arrival */
                        assert_int_equal(l.v[j].kind, RESIDENCE_PERMANENT);
                }
        }
}

/* ---- residence ---- */

static void test_residence(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        const int64_t pid = 1090012345;
        struct residence cur;
        assert_int_equal(store_residence_current(f->st, pid, RESIDENCE_PERMANENT, &cur, &err),
                         POP_ENOTFOUND);
        assert_int_equal(store_residence_current(f->st, pid, RESIDENCE_TEMPORARY, &cur, &err),
                         POP_ENOTFOUND);

        struct residence p1 = mk_res(pid, RESIDENCE_PERMANENT, 7, "2010-01-01");
        TX(f->st, store_residence_insert(f->st, &p1, &err));
        assert_true(p1.id > 0);
        memset(&cur, 0x5a, sizeof cur);
        assert_int_equal(store_residence_current(f->st, pid, RESIDENCE_PERMANENT, &cur, &err),
                         POP_OK);
        assert_int_equal(cur.id, p1.id);
        assert_int_equal(cur.pid, pid);
        assert_int_equal(cur.kind, RESIDENCE_PERMANENT);
        assert_int_equal(cur.household, 7);
        assert_string_equal(cur.relation, "child");
        assert_int_equal(cur.province, 1);
        assert_string_equal(cur.commune, "00004");
        assert_string_equal(cur.address, "12 Phố Huế");
        assert_date(cur.valid_from, "2010-01-01");
        assert_true(pdate_is_none(cur.valid_to));
        assert_true(pdate_is_none(cur.ended));
        assert_string_equal(cur.end_reason, "");
        assert_int_equal(store_residence_current(f->st, pid, RESIDENCE_TEMPORARY, &cur, &err),
                         POP_ENOTFOUND);

        /* A second open permanent residence is refused by the store itself. */
        struct residence p2 = mk_res(pid, RESIDENCE_PERMANENT, 8, "2015-01-01");
        assert_int_equal(store_begin(f->st, &err), POP_OK);
        assert_int_equal(store_residence_insert(f->st, &p2, &err), POP_ECONFLICT);
        store_rollback(f->st);

        /* A temporary one alongside is fine; a second open temporary one is not. */
        struct residence t1 = mk_res(pid, RESIDENCE_TEMPORARY, 0, "2012-01-01");
        t1.valid_to = D("2014-01-01");
        TX(f->st, store_residence_insert(f->st, &t1, &err));
        struct residence t2 = mk_res(pid, RESIDENCE_TEMPORARY, 0, "2013-01-01");
        t2.valid_to = D("2014-06-01");
        assert_int_equal(store_begin(f->st, &err), POP_OK);
        assert_int_equal(store_residence_insert(f->st, &t2, &err), POP_ECONFLICT);
        store_rollback(f->st);
        assert_int_equal(store_residence_current(f->st, pid, RESIDENCE_TEMPORARY, &cur, &err),
                         POP_OK);
        assert_int_equal(cur.id, t1.id);
        assert_date(cur.valid_to, "2014-01-01");
        assert_int_equal(cur.household, 0);

        /* Another person's open residence is independent. */
        struct residence o = mk_res(1191000001, RESIDENCE_PERMANENT, 7, "2011-01-01");
        TX(f->st, store_residence_insert(f->st, &o, &err));

        /* Ending the first permanent residence lets a new one open (a move). */
        p1.ended = D("2015-01-01");
        snprintf(p1.end_reason, sizeof p1.end_reason, "moved");
        TX(f->st,
           store_residence_update(f->st, &p1, &err) || store_residence_insert(f->st, &p2, &err));
        assert_int_equal(store_residence_current(f->st, pid, RESIDENCE_PERMANENT, &cur, &err),
                         POP_OK);
        assert_int_equal(cur.id, p2.id);
        assert_int_equal(cur.household, 8);
        /* An ended residence cannot be reopened while another is open. */
        p1.ended = none;
        assert_int_equal(store_begin(f->st, &err), POP_OK);
        assert_int_equal(store_residence_update(f->st, &p1, &err), POP_ECONFLICT);
        store_rollback(f->st);

        /* History: every residence of the person, oldest first, the ended one as ended. */
        struct res_list l = {0};
        assert_int_equal(store_residence_history(f->st, pid, collect_res, &l, &err), 0);
        assert_int_equal(l.n, 3);
        assert_int_equal(l.v[0].id, p1.id);
        assert_date(l.v[0].ended, "2015-01-01");
        assert_string_equal(l.v[0].end_reason, "moved");
        assert_int_equal(l.v[1].id, t1.id);
        assert_int_equal(l.v[1].kind, RESIDENCE_TEMPORARY);
        assert_int_equal(l.v[2].id, p2.id);
        assert_true(pdate_is_none(l.v[2].ended));

        memset(&l, 0, sizeof l);
        assert_int_equal(store_residence_history(f->st, 1191000001, collect_res, &l, &err), 0);
        assert_int_equal(l.n, 1);
        memset(&l, 0, sizeof l);
        assert_int_equal(store_residence_history(f->st, 1000000000, collect_res, &l, &err), 0);
        assert_int_equal(l.n, 0);
}

/* ---- cards ---- */

struct card_list {
        struct card v[8];
        int n;
};

static int collect_card(void *ctx, const struct card *c)
{
        struct card_list *l = ctx;
        l->v[l->n++] = *c;
        return 0;
}

static void test_card(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        const int64_t pid = 1090012345;
        struct card c1 = {0}, cur;
        assert_int_equal(store_card_current(f->st, pid, &cur, &err), POP_ENOTFOUND);

        c1.pid = pid;
        c1.issued = D("2021-03-01");
        c1.expires = D("2030-05-17");
        c1.status = CARD_VALID;
        TX(f->st, store_card_insert(f->st, &c1, &err));
        assert_true(c1.id > 0);
        assert_int_equal(store_card_current(f->st, pid, &cur, &err), POP_OK);
        assert_int_equal(cur.id, c1.id);
        assert_int_equal(cur.pid, pid);
        assert_date(cur.issued, "2021-03-01");
        assert_date(cur.expires, "2030-05-17");
        assert_false(cur.never_expires);
        assert_int_equal(cur.status, CARD_VALID);
        assert_true(pdate_is_none(cur.status_date));
        assert_string_equal(cur.reason, "");

        /* A second valid card is refused by the store itself. */
        struct card c2 = {0};
        c2.pid = pid;
        c2.issued = D("2024-01-01");
        c2.never_expires = true;
        c2.expires = D("2099-01-01"); /* ignored when never_expires */
        c2.status = CARD_VALID;
        assert_int_equal(store_begin(f->st, &err), POP_OK);
        assert_int_equal(store_card_insert(f->st, &c2, &err), POP_ECONFLICT);
        store_rollback(f->st);

        /* Replace: the old card's status changes, then the new one goes in. */
        c1.status = CARD_REPLACED;
        c1.status_date = D("2024-01-01");
        snprintf(c1.reason, sizeof c1.reason, "renewal");
        TX(f->st, store_card_update(f->st, &c1, &err) || store_card_insert(f->st, &c2, &err));
        assert_int_equal(store_card_current(f->st, pid, &cur, &err), POP_OK);
        assert_int_equal(cur.id, c2.id);
        assert_true(cur.never_expires);
        assert_true(pdate_is_none(cur.expires));

        /* A card of someone else does not conflict. */
        struct card o = c2;
        o.pid = 1191000001;
        TX(f->st, store_card_insert(f->st, &o, &err));

        struct card_list l = {0};
        assert_int_equal(store_card_history(f->st, pid, collect_card, &l, &err), 0);
        assert_int_equal(l.n, 2);
        assert_int_equal(l.v[0].id, c1.id);
        assert_int_equal(l.v[0].status, CARD_REPLACED);
        assert_date(l.v[0].status_date, "2024-01-01");
        assert_string_equal(l.v[0].reason, "renewal");
        assert_int_equal(l.v[1].id, c2.id);
        assert_int_equal(l.v[1].status, CARD_VALID);

        /* Lost, then none is valid. */
        c2.status = CARD_LOST;
        c2.status_date = D("2025-01-01");
        TX(f->st, store_card_update(f->st, &c2, &err));
        assert_int_equal(store_card_current(f->st, pid, &cur, &err), POP_ENOTFOUND);
        assert_int_equal(store_card_current(f->st, o.pid, &cur, &err), POP_OK);
}

/* ---- journal ---- */

struct ev_list {
        int64_t seq[8];
        char type[8][EVENT_TYPE_LEN];
        char payload[8][64];
        size_t payload_len[8];
        char actor[8][REC_ACTOR];
        char basis[8][REC_BASIS];
        int64_t recorded_at[8];
        struct pdate effective[8];
        int n;
};

static int collect_ev(void *ctx, const struct event *e)
{
        struct ev_list *l = ctx;
        int i = l->n++;
        l->seq[i] = e->seq;
        snprintf(l->type[i], sizeof l->type[i], "%s", e->type);
        assert_true(e->payload_len < sizeof l->payload[i]);
        memcpy(l->payload[i], e->payload, e->payload_len);
        l->payload[i][e->payload_len] = '\0';
        l->payload_len[i] = e->payload_len;
        snprintf(l->actor[i], sizeof l->actor[i], "%s", e->actor);
        snprintf(l->basis[i], sizeof l->basis[i], "%s", e->legal_basis);
        l->recorded_at[i] = e->recorded_at;
        l->effective[i] = e->effective;
        return 0;
}

static struct event mk_event(const char *type, const char *payload, const char *eff)
{
        struct event e;
        memset(&e, 0, sizeof e);
        snprintf(e.type, sizeof e.type, "%s", type);
        e.effective = D(eff);
        e.recorded_at = 1795428000123;
        snprintf(e.actor, sizeof e.actor, "operator:test");
        snprintf(e.legal_basis, sizeof e.legal_basis, "Law on Residence 2020 art. 20");
        e.payload = payload;
        e.payload_len = strlen(payload);
        return e;
}

static void test_event(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        const int64_t a = 1090012345, b = 1192000003, c = 1060000001;

        /* The payload is copied, and only payload_len bytes of it. */
        char buf[64];
        snprintf(buf, sizeof buf, "{\"a\":\"Nguy\\u1ec5n\",\"n\":1}TRAILING");
        struct event e1 = mk_event("marriage", buf, "2026-11-01");
        e1.payload_len = strlen(buf) - strlen("TRAILING");
        e1.subjects[0] = a;
        e1.subjects[1] = b;
        e1.n_subjects = 2;
        struct event e2 = mk_event("death", "{\"pid\":\"001060000001\"}", "2026-11-02");
        e2.subjects[0] = c;
        e2.subjects[1] = 0; /* an unknown subject is skipped */
        e2.subjects[2] = c; /* a repeated one counts once */
        e2.subjects[3] = a;
        e2.n_subjects = 4;
        struct event e3 = mk_event("card.issue", "{}", "2026-11-03");
        e3.subjects[0] = a;
        e3.n_subjects = 1;
        TX(f->st, store_event_append(f->st, &e1, &err));
        memset(buf, 'X', sizeof buf - 1); /* the store kept its own copy */
        TX(f->st, store_event_append(f->st, &e2, &err) || store_event_append(f->st, &e3, &err));
        assert_true(e1.seq > 0);
        assert_true(e2.seq > e1.seq);
        assert_true(e3.seq > e2.seq);

        struct ev_list l = {0};
        assert_int_equal(store_event_history(f->st, a, collect_ev, &l, &err), 0);
        assert_int_equal(l.n, 3);
        assert_int_equal(l.seq[0], e1.seq);
        assert_int_equal(l.seq[1], e2.seq);
        assert_int_equal(l.seq[2], e3.seq);
        assert_string_equal(l.type[0], "marriage");
        assert_string_equal(l.payload[0], "{\"a\":\"Nguy\\u1ec5n\",\"n\":1}");
        assert_int_equal(l.payload_len[0], strlen("{\"a\":\"Nguy\\u1ec5n\",\"n\":1}"));
        assert_string_equal(l.actor[0], "operator:test");
        assert_string_equal(l.basis[0], "Law on Residence 2020 art. 20");
        assert_int_equal(l.recorded_at[0], 1795428000123);
        assert_date(l.effective[0], "2026-11-01");
        assert_string_equal(l.type[1], "death");
        assert_string_equal(l.payload[1], "{\"pid\":\"001060000001\"}");
        assert_string_equal(l.type[2], "card.issue");
        assert_string_equal(l.payload[2], "{}");

        memset(&l, 0, sizeof l);
        assert_int_equal(store_event_history(f->st, b, collect_ev, &l, &err), 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.seq[0], e1.seq);

        memset(&l, 0, sizeof l);
        assert_int_equal(store_event_history(f->st, c, collect_ev, &l, &err), 0);
        assert_int_equal(l.n, 1); /* once, though named twice */
        assert_int_equal(l.seq[0], e2.seq);

        memset(&l, 0, sizeof l);
        assert_int_equal(store_event_history(f->st, 0, collect_ev, &l, &err), 0);
        assert_int_equal(l.n, 0);
        assert_int_equal(store_event_history(f->st, 1000000000, collect_ev, &l, &err), 0);
        assert_int_equal(l.n, 0);
}

/* ---- the API's journal walk and idempotency records ---- */

struct walk {
        int n;
        int64_t seq[8];
        char units[8][32];
        bool has_units[8];
};

static int collect_walk(void *ctx, const struct event *e, const char *units)
{
        struct walk *w = ctx;
        assert_true(w->n < 8);
        w->seq[w->n] = e->seq;
        w->has_units[w->n] = units != NULL;
        snprintf(w->units[w->n], sizeof w->units[0], "%s", units ? units : "");
        w->n++;
        return 0;
}

static void test_event_after(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct event e[4];
        for (int i = 0; i < 4; i++) {
                e[i] = mk_event("card.issue", "{\"pid\":\"001090012345\"}", "2026-11-01");
                e[i].subjects[0] = 1090012345;
                e[i].n_subjects = 1;
                TX(f->st, store_event_append(f->st, &e[i], &err));
        }
        TX(f->st, store_event_units(f->st, e[1].seq, "01,79", &err));
        struct pop_err nf = {0};
        assert_int_equal(store_begin(f->st, &nf), 0);
        assert_int_equal(store_event_units(f->st, e[3].seq + 100, "01", &nf), POP_ENOTFOUND);
        store_rollback(f->st);

        struct walk w = {0};
        assert_int_equal(store_event_after(f->st, 0, 100, collect_walk, &w, &err), 0);
        assert_int_equal(w.n, 4);
        for (int i = 0; i < 4; i++)
                assert_int_equal(w.seq[i], e[i].seq);
        assert_false(w.has_units[0]);
        assert_true(w.has_units[1]);
        assert_string_equal(w.units[1], "01,79");

        memset(&w, 0, sizeof w); /* after a position, with a limit */
        assert_int_equal(store_event_after(f->st, e[0].seq, 2, collect_walk, &w, &err), 0);
        assert_int_equal(w.n, 2);
        assert_int_equal(w.seq[0], e[1].seq);
        assert_int_equal(w.seq[1], e[2].seq);
        memset(&w, 0, sizeof w);
        assert_int_equal(store_event_after(f->st, e[3].seq, 10, collect_walk, &w, &err), 0);
        assert_int_equal(w.n, 0);
}

static struct store_idem *mk_idem(const char *client, const char *key, uint8_t h, const char *body,
                                  int64_t created)
{
        struct store_idem *r = calloc(1, sizeof *r);
        assert_non_null(r);
        snprintf(r->client, sizeof r->client, "%s", client);
        snprintf(r->key, sizeof r->key, "%s", key);
        memset(r->request_hash, h, sizeof r->request_hash);
        r->status = 201;
        r->created_ms = created;
        r->body_len = strlen(body);
        memcpy(r->body, body, r->body_len + 1);
        return r;
}

static void test_idempotency(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        const int64_t t = 1795428000000, ttl = 86400000;
        struct store_idem *a = mk_idem("reg-hn", "k1", 1, "{\"seq\":1}", t);
        struct store_idem *b = mk_idem("reg-hn", "k1", 2, "{\"seq\":2}", t + 10);
        struct store_idem *other = mk_idem("reg-hcm", "k1", 3, "{\"seq\":3}", t);
        struct store_idem *got = calloc(1, sizeof *got);
        assert_non_null(got);

        assert_int_equal(store_idem_get(f->st, "reg-hn", "k1", 0, got, &err), POP_ENOTFOUND);
        TX(f->st, store_idem_put(f->st, a, t - ttl, &err));
        TX(f->st, store_idem_put(f->st, other, t - ttl, &err)); /* keys are per client */
        assert_int_equal(store_idem_get(f->st, "reg-hn", "k1", t - ttl, got, &err), 0);
        assert_int_equal(got->status, 201);
        assert_int_equal(got->created_ms, t);
        assert_string_equal(got->body, "{\"seq\":1}");
        assert_int_equal(got->body_len, strlen("{\"seq\":1}"));
        assert_memory_equal(got->request_hash, a->request_hash, STORE_IDEM_HASH);
        assert_int_equal(store_idem_get(f->st, "reg-hcm", "k1", 0, got, &err), 0);
        assert_string_equal(got->body, "{\"seq\":3}");

        /* A live record is kept: the second put conflicts and changes nothing. */
        struct pop_err c = {0};
        assert_int_equal(store_begin(f->st, &c), 0);
        assert_int_equal(store_idem_put(f->st, b, t + 10 - ttl, &c), POP_ECONFLICT);
        assert_string_equal(c.rule, "idempotency-key-taken");
        store_rollback(f->st);
        assert_int_equal(store_idem_get(f->st, "reg-hn", "k1", 0, got, &err), 0);
        assert_string_equal(got->body, "{\"seq\":1}");

        /* Once expired, it counts as none and is replaced. */
        assert_int_equal(store_idem_get(f->st, "reg-hn", "k1", t + 1, got, &err), POP_ENOTFOUND);
        b->created_ms = t + ttl + 1;
        TX(f->st, store_idem_put(f->st, b, t + 1, &err));
        assert_int_equal(store_idem_get(f->st, "reg-hn", "k1", t + 1, got, &err), 0);
        assert_string_equal(got->body, "{\"seq\":2}");
        /* ... and expired records of any client are purged by later puts. */
        assert_int_equal(store_idem_get(f->st, "reg-hcm", "k1", 0, got, &err), POP_ENOTFOUND);

        /* A rolled-back put leaves nothing. */
        struct store_idem *d = mk_idem("reg-hn", "k2", 4, "{}", t + ttl + 2);
        assert_int_equal(store_begin(f->st, &err), 0);
        assert_int_equal(store_idem_put(f->st, d, t + 1, &err), 0);
        store_rollback(f->st);
        assert_int_equal(store_idem_get(f->st, "reg-hn", "k2", 0, got, &err), POP_ENOTFOUND);
        free(a);
        free(b);
        free(other);
        free(d);
        free(got);
}

/* ---- series ---- */

static void test_series(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        uint32_t next = 77;
        assert_int_equal(store_series_get(f->st, 1226, &next, &err), POP_OK);
        assert_int_equal(next, 0);
        TX(f->st, store_series_set(f->st, 1226, 5, &err));
        TX(f->st, store_series_set(f->st, 1326, 999999, &err));
        assert_int_equal(store_series_get(f->st, 1226, &next, &err), POP_OK);
        assert_int_equal(next, 5);
        TX(f->st, store_series_set(f->st, 1226, 1000000, &err));
        assert_int_equal(store_series_get(f->st, 1226, &next, &err), POP_OK);
        assert_int_equal(next, 1000000);
        assert_int_equal(store_series_get(f->st, 1326, &next, &err), POP_OK);
        assert_int_equal(next, 999999);
        /* The full range of the counter round-trips. */
        TX(f->st, store_series_set(f->st, 1, UINT32_MAX, &err));
        assert_int_equal(store_series_get(f->st, 1, &next, &err), POP_OK);
        assert_true(next == UINT32_MAX);
}

/* ---- transactions ---- */

static void test_rollback(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        struct person p = mk_person(1090012345, "Nguyễn Văn An", "1990-05-17", SEX_MALE);
        TX(f->st, store_person_insert(f->st, &p, &err));

        assert_int_equal(store_begin(f->st, &err), POP_OK);
        struct person q = mk_person(1192000003, "Trần Thị Bình", "1992-01-01", SEX_FEMALE);
        assert_int_equal(store_person_insert(f->st, &q, &err), POP_OK);
        struct person u = p;
        u.spouse = q.pid;
        u.version = 9;
        assert_int_equal(store_person_update(f->st, &u, &err), POP_OK);
        struct household h = {0};
        h.head = p.pid;
        h.province = 1;
        memcpy(h.commune, "00004", 6);
        h.created = D("2020-01-01");
        assert_int_equal(store_household_insert(f->st, &h, &err), POP_OK);
        assert_int_equal(store_household_head_set(f->st, h.id, p.pid, h.created, &err), POP_OK);
        struct residence r = mk_res(p.pid, RESIDENCE_PERMANENT, h.id, "2020-01-01");
        assert_int_equal(store_residence_insert(f->st, &r, &err), POP_OK);
        struct card c = {0};
        c.pid = p.pid;
        c.issued = D("2020-01-01");
        c.never_expires = true;
        assert_int_equal(store_card_insert(f->st, &c, &err), POP_OK);
        struct event e = mk_event("marriage", "{}", "2020-01-01");
        e.subjects[0] = p.pid;
        e.n_subjects = 1;
        assert_int_equal(store_event_append(f->st, &e, &err), POP_OK);
        assert_int_equal(store_series_set(f->st, 1290, 3, &err), POP_OK);
        assert_int_equal(store_meta_set(f->st, "x", "1", 1, &err), POP_OK);
        /* Visible inside the transaction... */
        assert_int_equal(store_person_exists(f->st, q.pid, &err), 1);
        assert_int_equal(count_persons(f->st), 2);
        store_rollback(f->st);

        /* ...and gone after it. */
        assert_int_equal(store_person_exists(f->st, q.pid, &err), 0);
        assert_int_equal(count_persons(f->st), 1);
        struct person back;
        assert_int_equal(store_person_get(f->st, p.pid, &back, &err), POP_OK);
        assert_person_equal(&p, &back);
        struct household hh;
        assert_int_equal(store_household_get(f->st, h.id, &hh, &err), POP_ENOTFOUND);
        assert_int_equal(head_on(f->st, h.id, NULL), 0);
        struct residence cur;
        assert_int_equal(store_residence_current(f->st, p.pid, RESIDENCE_PERMANENT, &cur, &err),
                         POP_ENOTFOUND);
        struct card cc;
        assert_int_equal(store_card_current(f->st, p.pid, &cc, &err), POP_ENOTFOUND);
        struct ev_list l = {0};
        assert_int_equal(store_event_history(f->st, p.pid, collect_ev, &l, &err), 0);
        assert_int_equal(l.n, 0);
        uint32_t next = 1;
        assert_int_equal(store_series_get(f->st, 1290, &next, &err), POP_OK);
        assert_int_equal(next, 0);
        char buf[4];
        assert_int_equal(store_meta_get(f->st, "x", buf, sizeof buf, NULL, &err), POP_ENOTFOUND);

        /* A rollback outside a transaction is harmless; the connection still works. */
        store_rollback(f->st);
        TX(f->st, store_person_insert(f->st, &q, &err));
        assert_int_equal(count_persons(f->st), 2);
        assert_int_equal(store_integrity_check(f->st, &err), POP_OK);

        /* Rolled back work is also gone for a new connection. */
        store_close(f->st);
        f->st = open_store(f->uri, 0);
        assert_int_equal(count_persons(f->st), 2);
        assert_int_equal(store_event_history(f->st, p.pid, collect_ev, &l, &err), 0);
        assert_int_equal(l.n, 0);
}

/* A commit that returned is visible to another connection at once. */
static void test_commit_visible(void **state)
{
        struct fx *f = *state;
        struct store *other = open_store(f->uri, 0);
        struct person p = mk_person(1090012345, "Nguyễn Văn An", "1990-05-17", SEX_MALE);
        assert_int_equal(store_begin(f->st, NULL), POP_OK);
        assert_int_equal(store_person_insert(f->st, &p, NULL), POP_OK);
        assert_int_equal(store_person_exists(other, p.pid, NULL), 0); /* not yet */
        assert_int_equal(store_commit(f->st, NULL), POP_OK);
        assert_int_equal(store_person_exists(other, p.pid, NULL), 1);
        store_close(other);
}

/*
 * A read snapshot sees one state: another connection's commit appears only after it ends. A
 * write on the snapshot's own connection starts from the newest state, and snapshots nest.
 */
static void test_read_snapshot(void **state)
{
        struct fx *f = *state;
        struct store *other = open_store(f->uri, 0);
        struct person a = mk_person(1090012345, "Nguyễn Văn An", "1990-05-17", SEX_MALE);
        struct person b = mk_person(1190012346, "Trần Thị Bình", "1990-01-02", SEX_FEMALE);

        assert_int_equal(store_read_begin(f->st, NULL), POP_OK);
        assert_int_equal(store_person_exists(f->st, a.pid, NULL), 0); /* the snapshot starts */
        assert_int_equal(store_begin(other, NULL), POP_OK);
        assert_int_equal(store_person_insert(other, &a, NULL), POP_OK);
        assert_int_equal(store_commit(other, NULL), POP_OK);
        assert_int_equal(store_person_exists(f->st, a.pid, NULL), 0); /* still the old state */
        assert_int_equal(store_read_begin(f->st, NULL), POP_OK);      /* nested: no effect */
        store_read_end(f->st);
        assert_int_equal(store_person_exists(f->st, a.pid, NULL), 0);
        store_read_end(f->st);
        assert_int_equal(store_person_exists(f->st, a.pid, NULL), 1); /* ended: newest */

        /* A write inside a snapshot ends it first and sees the newest state. */
        assert_int_equal(store_read_begin(f->st, NULL), POP_OK);
        assert_int_equal(store_person_exists(f->st, a.pid, NULL), 1);
        assert_int_equal(store_begin(other, NULL), POP_OK);
        assert_int_equal(store_person_insert(other, &b, NULL), POP_OK);
        assert_int_equal(store_commit(other, NULL), POP_OK);
        assert_int_equal(store_begin(f->st, NULL), POP_OK);
        assert_int_equal(store_person_exists(f->st, b.pid, NULL), 1);
        /* Inside the write transaction a snapshot changes nothing and ends nothing. */
        assert_int_equal(store_read_begin(f->st, NULL), POP_OK);
        store_read_end(f->st);
        assert_int_equal(store_person_update(f->st, &b, NULL), POP_OK);
        assert_int_equal(store_commit(f->st, NULL), POP_OK);
        store_read_end(f->st); /* the snapshot's own end, after the write: harmless */
        int64_t n = count_persons(f->st);
        assert_int_equal(n, 2);
        store_close(other);
}

static int run_conformance(const char *name, const char *prefix)
{
        uri_prefix = prefix;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
            cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
            cmocka_unit_test_setup_teardown(test_integrity_check, setup, teardown),
            cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
            cmocka_unit_test_setup_teardown(test_person, setup, teardown),
            cmocka_unit_test_setup_teardown(test_person_children, setup, teardown),
            cmocka_unit_test_setup_teardown(test_household, setup, teardown),
            cmocka_unit_test_setup_teardown(test_household_members, setup, teardown),
            cmocka_unit_test_setup_teardown(test_residence, setup, teardown),
            cmocka_unit_test_setup_teardown(test_card, setup, teardown),
            cmocka_unit_test_setup_teardown(test_event, setup, teardown),
            cmocka_unit_test_setup_teardown(test_event_after, setup, teardown),
            cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
            cmocka_unit_test_setup_teardown(test_series, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
            cmocka_unit_test_setup_teardown(test_commit_visible, setup, teardown),
            cmocka_unit_test_setup_teardown(test_read_snapshot, setup, teardown),
        };
        return cmocka_run_group_tests_name(name, tests, NULL, NULL);
}

int main(void)
{
        int failed = run_conformance("store/sqlite", "sqlite:");
        failed += run_conformance("store/fault-passthrough", "fault:sqlite:");
        return failed;
}
