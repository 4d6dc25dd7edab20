/*
 * Unit tests of name search (src/registry/search.c over store_person_search in
 * src/store/sqlite.c): NFC and NFD input, case, đ/Đ folding, the exact, folded and prefix modes,
 * every filter (partial dates of birth both ways, birth years, sex, status, province resolved
 * to its 2025 unit), pages that together give every match exactly once and in order (also with
 * a tiny work budget that leaves pages short), cursors that were altered or belong to another
 * query or registry, the limit's caps and the refusal of bad input with the field named.
 *
 * Small registries are built with enrol and death events; the large one for paging through the
 * store API (one transaction). Non-ASCII literals are UTF-8 NFC; NFD input is spelled with
 * escapes. The fault backend, unarmed, must be transparent, so everything runs on it too.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/name.h"
#include "core/pid.h"
#include "registry/registry.h"
#include "registry/search.h"

static const char *uri_prefix = "sqlite:";

struct fx {
        char path[512];
        struct reg *r;
        struct reg_ctx ctx;
        uint32_t suffix; /* the next pid suffix */
};

static struct reg *open_reg(const char *path)
{
        char uri[600];
        struct reg *r = NULL;
        struct pop_err err = {0};
        snprintf(uri, sizeof uri, "%s%s", uri_prefix, path);
        if (reg_open(uri, &r, &err) != 0)
                fail_msg("reg_open(%s): %s", uri, err.msg);
        return r;
}

/* A registry in the current temporary directory (a fresh one with fresh_dir). */
static int setup_named(void **state, const char *name, int fresh_dir)
{
        struct fx *f = calloc(1, sizeof *f);
        if (!f)
                return -1;
        if (fresh_dir)
                tu_tmpdir();
        tu_path(f->path, sizeof f->path, name);
        struct pop_err err = {0};
        if (reg_init(f->path, "Test Registry", &err) != 0)
                fail_msg("reg_init: %s", err.msg);
        f->r = open_reg(f->path);
        f->ctx.actor = "test:search";
        f->ctx.today = (struct pdate){2026, 11, 23};
        f->ctx.now_ms = 1795428000000LL;
        f->suffix = 1000;
        *state = f;
        return 0;
}

static int setup(void **state)
{
        return setup_named(state, "search.db", 1);
}

static int teardown(void **state)
{
        struct fx *f = *state;
        reg_close(f->r);
        free(f);
        return 0;
}

/* A personal ID consistent with the date of birth and sex (Hà Nội prefix). */
static void make_pid(struct fx *f, int year, enum sex sex, char out[PID_LEN + 1])
{
        struct pop_err err = {0};
        if (pid_format(1, year, sex, f->suffix++, out, &err) != 0)
                fail_msg("pid_format: %s", err.msg);
}

/* Enrols a person; province 0: no residence. Returns the pid in out. */
static void enrol(struct fx *f, const char *name, const char *dob, enum sex sex, int province,
                  char out[PID_LEN + 1])
{
        make_pid(f, atoi(dob), sex, out);
        json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "enrol", "pid", out,
                               "name", name, "dob", dob, "sex", sex_name(sex), "date", "2020-01-01",
                               "ethnicity", "Kinh");
        if (province) {
                char pc[4];
                snprintf(pc, sizeof pc, "%02d", province);
                json_object_set_new(ev, "address",
                                    json_pack("{s:s, s:s, s:s}", "province", pc, "commune", "00004",
                                              "line", "1 Phố Huế"));
        }
        json_t *res = NULL;
        struct pop_err err = {0};
        int rc = reg_event_apply(f->r, &f->ctx, ev, &res, &err);
        if (rc)
                fail_msg("enrol %s: %s [%s]", name, err.msg, err.rule);
        json_decref(ev);
        json_decref(res);
}

static void die_on(struct fx *f, const char *pid)
{
        json_t *ev =
            json_pack("{s:s, s:s, s:s}", "type", "death", "pid", pid, "date", "2024-01-01");
        json_t *res = NULL;
        struct pop_err err = {0};
        if (reg_event_apply(f->r, &f->ctx, ev, &res, &err) != 0)
                fail_msg("death %s: %s", pid, err.msg);
        json_decref(ev);
        json_decref(res);
}

/* Runs a search that must succeed; the caller decrefs. */
static json_t *search(struct fx *f, const struct reg_search_args *a)
{
        json_t *out = NULL;
        struct pop_err err = {0};
        int rc = reg_search_json(f->r, a, &out, &err);
        if (rc)
                fail_msg("search '%s': %d %s [%s]", a->name ? a->name : "(null)", rc, err.msg,
                         err.rule);
        assert_non_null(out);
        assert_true(json_is_array(json_object_get(out, "results")));
        json_t *next = json_object_get(out, "next");
        assert_true(json_is_null(next) || json_is_string(next));
        return out;
}

/* A search that must be refused with code and rule. */
static void refused(struct fx *f, const struct reg_search_args *a, int code, const char *rule)
{
        json_t *out = NULL;
        struct pop_err err = {0};
        int rc = reg_search_json(f->r, a, &out, &err);
        if (rc != code || strcmp(err.rule, rule) != 0)
                fail_msg("search '%s': expected %d [%s], got %d [%s] %s",
                         a->name ? a->name : "(null)", code, rule, rc, err.rule, err.msg);
        assert_null(out);
        assert_true(err.msg[0] != '\0');
}

/* The results as "name dob" joined by "|", in order (the page only). */
static const char *names_of(json_t *out)
{
        static char buf[4096];
        size_t at = 0;
        size_t i;
        json_t *h;
        buf[0] = '\0';
        json_array_foreach(json_object_get(out, "results"), i, h)
        {
                const char *dob = json_string_value(json_object_get(h, "dob"));
                at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s %s", i ? "|" : "",
                                       json_string_value(json_object_get(h, "name")),
                                       dob ? dob : "-");
                assert_true(at < sizeof buf);
        }
        return buf;
}

/* names_of for a search that must be one page. */
static const char *found(struct fx *f, const struct reg_search_args *a)
{
        json_t *out = search(f, a);
        assert_true(json_is_null(json_object_get(out, "next")));
        const char *s = names_of(out);
        json_decref(out);
        return s;
}

#define ARGS(...) (&(struct reg_search_args){__VA_ARGS__})

static void people_names(struct fx *f)
{
        char pid[PID_LEN + 1];
        enrol(f, "Nguyễn Văn An", "1990-05-12", SEX_MALE, 0, pid);
        enrol(f, "Nguyễn Vân An", "1985", SEX_MALE, 0, pid);
        enrol(f, "Nguyễn Vănh Lộc", "1980-01-01", SEX_MALE, 0, pid);
        enrol(f, "Nguyễn Văn", "1979-02-03", SEX_MALE, 0, pid);
        enrol(f, "Đặng Văn Hùng", "1970-01-02", SEX_MALE, 0, pid);
        enrol(f, "Đặng Thị Hoa", "1975", SEX_FEMALE, 0, pid);
        enrol(f, "Dương Thị Hoa", "1976", SEX_FEMALE, 0, pid);
}

static void test_exact_nfc_nfd_case(void **state)
{
        struct fx *f = *state;
        people_names(f);
        const char *want = "Nguyễn Văn An 1990-05-12";
        assert_string_equal(found(f, ARGS(.name = "Nguyễn Văn An", .match = "exact")), want);
        /* NFD: e + circumflex + tilde, a + breve. */
        assert_string_equal(
            found(f, ARGS(.name = "Nguye\xcc\x82\xcc\x83n Va\xcc\x86n An", .match = "exact")),
            want);
        assert_string_equal(found(f, ARGS(.name = "NGUYỄN VĂN AN", .match = "exact")), want);
        assert_string_equal(found(f, ARGS(.name = "  nguyễn \xc2\xa0 văn   an ", .match = "exact")),
                            want);
        /* Exact keeps diacritics: the unaccented spelling is another name. */
        assert_string_equal(found(f, ARGS(.name = "Nguyen Van An", .match = "exact")), "");
        assert_string_equal(found(f, ARGS(.name = "Nguyễn Vân An", .match = "exact")),
                            "Nguyễn Vân An 1985");
        assert_string_equal(found(f, ARGS(.name = "đặng văn hùng", .match = "exact")),
                            "Đặng Văn Hùng 1970-01-02");
}

static void test_folded(void **state)
{
        struct fx *f = *state;
        people_names(f);
        /* Folded is the default; order: key, then dob ("1985" < "1990-05-12"). */
        assert_string_equal(found(f, ARGS(.name = "nguyen van an")),
                            "Nguyễn Vân An 1985|Nguyễn Văn An 1990-05-12");
        assert_string_equal(found(f, ARGS(.name = "NGUYEN VAN AN", .match = "folded")),
                            "Nguyễn Vân An 1985|Nguyễn Văn An 1990-05-12");
        assert_string_equal(found(f, ARGS(.name = "Nguye\xcc\x82\xcc\x83n Va\xcc\x86n An")),
                            "Nguyễn Vân An 1985|Nguyễn Văn An 1990-05-12");
        /* đ/Đ fold to d, so "Đặng" is found as "dang", and not confused with "Dương". */
        assert_string_equal(found(f, ARGS(.name = "dang van hung")), "Đặng Văn Hùng 1970-01-02");
        assert_string_equal(found(f, ARGS(.name = "DANG THI HOA")), "Đặng Thị Hoa 1975");
        assert_string_equal(found(f, ARGS(.name = "ĐẶNG THỊ HOA")), "Đặng Thị Hoa 1975");
        /* Folded matches whole names only. */
        assert_string_equal(found(f, ARGS(.name = "dang")), "");
}

static void test_prefix(void **state)
{
        struct fx *f = *state;
        people_names(f);
        assert_string_equal(found(f, ARGS(.name = "dang", .match = "prefix")),
                            "Đặng Thị Hoa 1975|Đặng Văn Hùng 1970-01-02");
        assert_string_equal(found(f, ARGS(.name = "Đặng Thị", .match = "prefix")),
                            "Đặng Thị Hoa 1975");
        /* Whole words: "nguyen van" is not a prefix of "nguyen vanh loc". */
        assert_string_equal(found(f, ARGS(.name = "nguyen van", .match = "prefix")),
                            "Nguyễn Văn 1979-02-03|Nguyễn Vân An 1985|Nguyễn Văn An 1990-05-12");
        assert_string_equal(found(f, ARGS(.name = "nguyen va", .match = "prefix")), "");
        assert_string_equal(found(f, ARGS(.name = "nguyen vanh", .match = "prefix")),
                            "Nguyễn Vănh Lộc 1980-01-01");
        assert_string_equal(found(f, ARGS(.name = "NGUYỄN VĂN AN", .match = "prefix")),
                            "Nguyễn Vân An 1985|Nguyễn Văn An 1990-05-12");
        /* With a date filter the prefix is walked key by key. */
        assert_string_equal(found(f, ARGS(.name = "nguyen", .match = "prefix", .year = "1985")),
                            "Nguyễn Vân An 1985");
        assert_string_equal(
            found(f, ARGS(.name = "nguyen", .match = "prefix", .born_from = "1980",
                          .born_to = "1990")),
            "Nguyễn Vân An 1985|Nguyễn Văn An 1990-05-12|Nguyễn Vănh Lộc 1980-01-01");
}

static void test_partial_dob(void **state)
{
        struct fx *f = *state;
        char pid[PID_LEN + 1];
        enrol(f, "Lê Văn Tám", "1990", SEX_MALE, 0, pid);
        enrol(f, "Lê Văn Tám", "1990-05", SEX_MALE, 0, pid);
        enrol(f, "Lê Văn Tám", "1990-05-12", SEX_MALE, 0, pid);
        enrol(f, "Lê Văn Tám", "1990-06-01", SEX_MALE, 0, pid);
        enrol(f, "Lê Văn Tám", "1991-05-12", SEX_MALE, 0, pid);
        enrol(f, "Lê Văn Ba", "1990-05-20", SEX_MALE, 0, pid);
        const char *n = "le van tam";
        /* A stored date matches when it may be the queried day, and the other way round. */
        assert_string_equal(found(f, ARGS(.name = n, .dob = "1990-05-12")),
                            "Lê Văn Tám 1990|Lê Văn Tám 1990-05|Lê Văn Tám 1990-05-12");
        assert_string_equal(found(f, ARGS(.name = n, .dob = "1990-05-13")),
                            "Lê Văn Tám 1990|Lê Văn Tám 1990-05");
        assert_string_equal(found(f, ARGS(.name = n, .dob = "1990-05")),
                            "Lê Văn Tám 1990|Lê Văn Tám 1990-05|Lê Văn Tám 1990-05-12");
        assert_string_equal(found(f, ARGS(.name = n, .dob = "1990")),
                            "Lê Văn Tám 1990|Lê Văn Tám 1990-05|Lê Văn Tám 1990-05-12|"
                            "Lê Văn Tám 1990-06-01");
        assert_string_equal(found(f, ARGS(.name = n, .dob = "1991-05-12")),
                            "Lê Văn Tám 1991-05-12");
        assert_string_equal(found(f, ARGS(.name = n, .dob = "1989")), "");
        /* Birth years: a year or an inclusive range; with a date, both must hold. */
        assert_string_equal(found(f, ARGS(.name = n, .year = "1991")), "Lê Văn Tám 1991-05-12");
        assert_string_equal(found(f, ARGS(.name = n, .born_from = "1991")),
                            "Lê Văn Tám 1991-05-12");
        assert_string_equal(found(f, ARGS(.name = n, .born_to = "1990", .dob = "1990-06")),
                            "Lê Văn Tám 1990|Lê Văn Tám 1990-06-01");
        assert_string_equal(found(f, ARGS(.name = n, .year = "1991", .dob = "1990-05-12")), "");
        /* The same through the exact mode and through a prefix (two keys, in key order). */
        assert_string_equal(
            found(f, ARGS(.name = "Lê Văn Tám", .match = "exact", .dob = "1990-05-12")),
            "Lê Văn Tám 1990|Lê Văn Tám 1990-05|Lê Văn Tám 1990-05-12");
        assert_string_equal(found(f, ARGS(.name = "le van", .match = "prefix", .dob = "1990-05")),
                            "Lê Văn Ba 1990-05-20|Lê Văn Tám 1990|Lê Văn Tám 1990-05|"
                            "Lê Văn Tám 1990-05-12");
}

static void test_sex_status_province(void **state)
{
        struct fx *f = *state;
        char a[PID_LEN + 1], b[PID_LEN + 1], c[PID_LEN + 1], d[PID_LEN + 1];
        /* Hà Giang (02) merged into Tuyên Quang (08) on 1 July 2025; the address is older. */
        enrol(f, "Phạm Minh Châu", "1980-01-01", SEX_MALE, 2, a);
        enrol(f, "Phạm Minh Châu", "1981-01-01", SEX_FEMALE, 1, b);
        enrol(f, "Phạm Minh Châu", "1982-01-01", SEX_FEMALE, 0, c);
        enrol(f, "Phạm Minh Châu", "1983-01-01", SEX_MALE, 1, d);
        die_on(f, d);
        const char *n = "pham minh chau";
        assert_string_equal(found(f, ARGS(.name = n)),
                            "Phạm Minh Châu 1980-01-01|Phạm Minh Châu 1981-01-01|"
                            "Phạm Minh Châu 1982-01-01");
        assert_string_equal(found(f, ARGS(.name = n, .sex = "female")),
                            "Phạm Minh Châu 1981-01-01|Phạm Minh Châu 1982-01-01");
        assert_string_equal(found(f, ARGS(.name = n, .sex = "male")), "Phạm Minh Châu 1980-01-01");
        assert_string_equal(found(f, ARGS(.name = n, .status = "deceased")),
                            "Phạm Minh Châu 1983-01-01");
        assert_string_equal(found(f, ARGS(.name = n, .status = "missing")), "");
        assert_string_equal(found(f, ARGS(.name = n, .status = "any", .sex = "m")),
                            "Phạm Minh Châu 1980-01-01|Phạm Minh Châu 1983-01-01");
        /* The current unit, whether the query names it or a province it absorbed. */
        assert_string_equal(found(f, ARGS(.name = n, .province = "08")),
                            "Phạm Minh Châu 1980-01-01");
        assert_string_equal(found(f, ARGS(.name = n, .province = "02")),
                            "Phạm Minh Châu 1980-01-01");
        assert_string_equal(found(f, ARGS(.name = n, .province = "1")),
                            "Phạm Minh Châu 1981-01-01");
        /* The dead person's residence ended: no current province. */
        assert_string_equal(found(f, ARGS(.name = n, .province = "01", .status = "any")),
                            "Phạm Minh Châu 1981-01-01");
        assert_string_equal(found(f, ARGS(.name = n, .province = "79")), "");
        /* Filters combine. */
        assert_string_equal(found(f, ARGS(.name = n, .province = "01", .sex = "female")),
                            "Phạm Minh Châu 1981-01-01");
        assert_string_equal(found(f, ARGS(.name = n, .province = "01", .sex = "male")), "");
        assert_string_equal(found(f, ARGS(.name = n, .province = "08", .sex = "male", .dob = "1980",
                                          .status = "living")),
                            "Phạm Minh Châu 1980-01-01");

        json_t *out = search(f, ARGS(.name = n, .province = "08"));
        json_t *h = json_array_get(json_object_get(out, "results"), 0);
        assert_string_equal(json_string_value(json_object_get(h, "pid")), a);
        assert_string_equal(json_string_value(json_object_get(h, "sex")), "male");
        assert_string_equal(json_string_value(json_object_get(h, "status")), "living");
        json_t *p = json_object_get(h, "province");
        assert_string_equal(json_string_value(json_object_get(p, "code")), "08");
        assert_string_equal(json_string_value(json_object_get(p, "name")), "Tuyên Quang");
        json_decref(out);
        out = search(f, ARGS(.name = n, .sex = "female"));
        h = json_array_get(json_object_get(out, "results"), 1);
        assert_string_equal(json_string_value(json_object_get(h, "pid")), c);
        assert_true(json_is_null(json_object_get(h, "province")));
        json_decref(out);
        out = search(f, ARGS(.name = n, .province = "01"));
        h = json_array_get(json_object_get(out, "results"), 0);
        assert_string_equal(json_string_value(json_object_get(h, "pid")), b);
        json_decref(out);
}

/* ---- paging over a larger registry, built through the store API ---- */

#define N_PAGED 230

static void insert_person(struct store *st, int64_t pid, const char *name, struct pdate dob,
                          enum sex sex, int province, enum person_status status)
{
        struct person p;
        struct pop_err err = {0};
        memset(&p, 0, sizeof p);
        p.pid = pid;
        if (name_normalize(name, strlen(name), p.full_name, sizeof p.full_name, &err) ||
            name_fold(name, strlen(name), p.name_fold, sizeof p.name_fold, &err) ||
            name_key(name, strlen(name), p.name_key, sizeof p.name_key, &err))
                fail_msg("%s: %s", name, err.msg);
        p.dob = dob;
        p.sex = sex;
        p.birth_province = 1;
        memcpy(p.nationality, "VNM", 4);
        p.status = status;
        assert_int_equal(store_person_insert(st, &p, &err), 0);
        if (province) {
                struct residence r;
                memset(&r, 0, sizeof r);
                r.pid = pid;
                r.kind = RESIDENCE_PERMANENT;
                r.province = province;
                memcpy(r.commune, "00004", 6);
                snprintf(r.address, sizeof r.address, "1 Phố Huế");
                r.valid_from = (struct pdate){2020, 1, 1};
                assert_int_equal(store_residence_insert(st, &r, &err), 0);
        }
}

/*
 * N_PAGED people named "Trần Thị Mai" or "Trần Thị Mái" (one key) and some "Trần Thị Mai Anh",
 * with many equal dates of birth (partial ones too), half in Hà Nội, some deceased.
 */
static void people_paged(struct fx *f)
{
        struct pop_err err = {0};
        struct store *st = f->r->st;
        assert_int_equal(store_begin(st, &err), 0);
        for (int i = 0; i < N_PAGED; i++) {
                int year = 1970 + i % 7;
                struct pdate dob = {(int16_t)year, (int8_t)(i % 3 ? 1 + i % 2 : 0),
                                    (int8_t)(i % 5 ? 1 + i % 2 : 0)};
                if (!dob.m)
                        dob.d = 0;
                char pid[PID_LEN + 1];
                make_pid(f, year, SEX_FEMALE, pid);
                const char *name = i % 11 == 0  ? "Trần Thị Mai Anh"
                                   : i % 2 == 0 ? "Trần Thị Mai"
                                                : "TRẦN THỊ MÁI";
                insert_person(st, pid_to_int(pid), name, dob, SEX_FEMALE, i % 2 ? 1 : 79,
                              i % 13 == 0 ? PERSON_DECEASED : PERSON_LIVING);
        }
        assert_int_equal(store_commit(st, &err), 0);
}

struct seen {
        char pids[N_PAGED + 1][PID_LEN + 1];
        char keys[N_PAGED + 1][64]; /* dob|pid: the order within one key */
        int n;
        int pages;
        int short_pages; /* pages with fewer results than the limit, and a next cursor */
};

/* Pages through a search to the end, collecting the results; checks order and uniqueness. */
static void page_all(struct fx *f, struct reg_search_args a, int limit, struct seen *s)
{
        char lim[8], cur[REG_SEARCH_CURSOR_MAX + 1] = "";
        snprintf(lim, sizeof lim, "%d", limit);
        a.limit = lim;
        memset(s, 0, sizeof *s);
        for (;;) {
                a.cursor = cur[0] ? cur : NULL;
                json_t *out = search(f, &a);
                json_t *res = json_object_get(out, "results"), *h;
                size_t i;
                assert_true(json_array_size(res) <= (size_t)limit);
                json_array_foreach(res, i, h)
                {
                        const char *pid = json_string_value(json_object_get(h, "pid"));
                        const char *dob = json_string_value(json_object_get(h, "dob"));
                        assert_true(s->n < N_PAGED);
                        for (int k = 0; k < s->n; k++)
                                if (!strcmp(s->pids[k], pid))
                                        fail_msg("%s returned twice", pid);
                        snprintf(s->pids[s->n], sizeof s->pids[s->n], "%s", pid);
                        snprintf(s->keys[s->n], sizeof s->keys[s->n], "%-10s|%s", dob, pid);
                        s->n++;
                }
                s->pages++;
                assert_true(s->pages < 10 * N_PAGED);
                json_t *next = json_object_get(out, "next");
                if (json_is_null(next)) {
                        json_decref(out);
                        break;
                }
                if (json_array_size(res) < (size_t)limit)
                        s->short_pages++;
                snprintf(cur, sizeof cur, "%s", json_string_value(next));
                json_decref(out);
        }
}

/* The number of people of people_paged a filter keeps (name: 0 Mai/Mái, 1 Mai Anh, 2 all). */
static int expected(int which, int province, int status)
{
        int n = 0;
        for (int i = 0; i < N_PAGED; i++) {
                int anh = i % 11 == 0;
                if ((which == 0 && anh) || (which == 1 && !anh))
                        continue;
                if (province && (i % 2 ? 1 : 79) != province)
                        continue;
                int st = i % 13 == 0 ? PERSON_DECEASED : PERSON_LIVING;
                if (status >= 0 && st != status)
                        continue;
                n++;
        }
        return n;
}

static void assert_sorted(const struct seen *s)
{
        for (int i = 1; i < s->n; i++)
                if (strcmp(s->keys[i - 1], s->keys[i]) >= 0)
                        fail_msg("out of order: %s then %s", s->keys[i - 1], s->keys[i]);
}

static void test_pages(void **state)
{
        struct fx *f = *state;
        people_paged(f);
        struct seen s;
        int limits[] = {1, 7, 20, 100};
        for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
                page_all(f, (struct reg_search_args){.name = "tran thi mai"}, limits[i], &s);
                assert_int_equal(s.n, expected(0, 0, PERSON_LIVING));
                assert_sorted(&s);
                assert_int_equal(s.pages, (s.n + limits[i] - 1) / limits[i]);
                page_all(f, (struct reg_search_args){.name = "tran thi mai", .status = "any"},
                         limits[i], &s);
                assert_int_equal(s.n, expected(0, 0, -1));
                assert_sorted(&s);
        }
        page_all(f, (struct reg_search_args){.name = "Trần Thị Mai", .match = "exact"}, 9, &s);
        int n = 0;
        for (int i = 0; i < N_PAGED; i++)
                n += i % 2 == 0 && i % 11 != 0 && i % 13 != 0;
        assert_int_equal(s.n, n);
        assert_sorted(&s);
        /* A prefix spans two keys: Mai, then Mai Anh. */
        page_all(f, (struct reg_search_args){.name = "tran thi", .match = "prefix"}, 13, &s);
        assert_int_equal(s.n, expected(2, 0, PERSON_LIVING));
        page_all(f,
                 (struct reg_search_args){
                     .name = "tran thi", .match = "prefix", .born_from = "1971", .born_to = "1975"},
                 6, &s);
        n = 0;
        for (int i = 0; i < N_PAGED; i++)
                n += 1970 + i % 7 >= 1971 && 1970 + i % 7 <= 1975 && i % 13 != 0;
        assert_int_equal(s.n, n);
}

/* A tiny budget leaves pages short, yet the pages together hold every match once. */
static void test_pages_budget(void **state)
{
        struct fx *f = *state;
        people_paged(f);
        struct seen s;
        page_all(f,
                 (struct reg_search_args){.name = "tran thi mai", .province = "01", .max_work = 1},
                 5, &s);
        assert_int_equal(s.n, expected(0, 1, PERSON_LIVING));
        assert_true(s.short_pages > 0);
        assert_sorted(&s);
        /* Nobody of that name is male: empty pages, each moving on, until the end. */
        page_all(f, (struct reg_search_args){.name = "tran thi mai", .sex = "male", .max_work = 25},
                 5, &s);
        assert_int_equal(s.n, 0);
        assert_true(s.pages > 3);
        page_all(f,
                 (struct reg_search_args){.name = "tran thi",
                                          .match = "prefix",
                                          .province = "79",
                                          .status = "deceased",
                                          .max_work = 2},
                 3, &s);
        assert_int_equal(s.n, expected(2, 79, PERSON_DECEASED));
        page_all(f,
                 (struct reg_search_args){
                     .name = "tran", .match = "prefix", .dob = "1972-02", .max_work = 2},
                 2, &s);
        int n = 0;
        for (int i = 0; i < N_PAGED; i++) {
                int m = i % 3 ? 1 + i % 2 : 0;
                n += 1970 + i % 7 == 1972 && (m == 0 || m == 2) && i % 13 != 0;
        }
        assert_int_equal(s.n, n);
}

static int count_hit(void *ctx, const struct store_search_hit *h)
{
        (void)h;
        (*(int *)ctx)++;
        return 0;
}

static int stop_hit(void *ctx, const struct store_search_hit *h)
{
        (void)ctx;
        (void)h;
        return 42;
}

/* The store never passes its budget, refuses a position of another key, passes fn's stop. */
static void test_store_budget(void **state)
{
        struct fx *f = *state;
        people_paged(f);
        struct store *st = f->r->st;
        struct store_search q = {.match = STORE_MATCH_FOLDED,
                                 .name = "tran thi mai",
                                 .status = STORE_SEARCH_STATUS_ANY,
                                 .province = 1,
                                 .limit = 100,
                                 .max_work = 40};
        struct store_search_end end;
        struct store_search_pos pos;
        struct pop_err err = {0};
        int total = 0, calls = 0;
        for (;;) {
                int n = 0;
                assert_int_equal(store_person_search(st, &q, count_hit, &n, &end, &err), 0);
                assert_true(end.work > 0 && end.work <= 40 + STORE_SEARCH_SEEK_COST);
                total += n;
                assert_true(++calls < N_PAGED);
                if (!end.more)
                        break;
                pos = end.next;
                q.after = &pos;
        }
        assert_int_equal(total, expected(0, 1, -1));
        assert_true(calls > expected(0, 0, -1) / 10);

        struct store_search_pos other = {.key = "tran thi mai anh", .dob = {1970, 0, 0}, .pid = 1};
        q.after = &other;
        assert_int_equal(store_person_search(st, &q, count_hit, &total, &end, &err), POP_EINVAL);
        q.after = NULL;
        assert_int_equal(store_person_search(st, &q, stop_hit, NULL, &end, &err), 42);
        q.limit = 0;
        assert_int_equal(store_person_search(st, &q, count_hit, &total, &end, &err), POP_EINVAL);
        q.limit = STORE_SEARCH_LIMIT_MAX + 1;
        assert_int_equal(store_person_search(st, &q, count_hit, &total, &end, &err), POP_EINVAL);
}

static void test_cursor_tampering(void **state)
{
        struct fx *f = *state;
        people_paged(f);
        struct reg_search_args a = {.name = "tran thi", .match = "prefix", .limit = "5"};
        json_t *first = search(f, &a);
        char cur[REG_SEARCH_CURSOR_MAX + 1];
        snprintf(cur, sizeof cur, "%s", json_string_value(json_object_get(first, "next")));
        json_decref(first);
        a.cursor = cur;
        json_t *second = search(f, &a);

        /* Every single-character change is refused, or decodes to the very same cursor. */
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        size_t n = strlen(cur);
        for (size_t i = 0; i < n; i++) {
                char t[REG_SEARCH_CURSOR_MAX + 1];
                memcpy(t, cur, n + 1);
                t[i] = b64[(strchr(b64, cur[i]) - b64 + 1 + (long)(i % 63)) % 64];
                struct reg_search_args b = a;
                b.cursor = t;
                json_t *out = NULL;
                struct pop_err err = {0};
                int rc = reg_search_json(f->r, &b, &out, &err);
                if (rc == 0) {
                        assert_true(json_equal(out, second));
                        json_decref(out);
                } else {
                        assert_int_equal(rc, POP_EINVAL);
                        assert_string_equal(err.rule, "search-cursor");
                }
        }
        json_decref(second);

        struct reg_search_args b = a;
        b.cursor = "";
        refused(f, &b, POP_EINVAL, "search-cursor");
        b.cursor = "!!!!";
        refused(f, &b, POP_EINVAL, "search-cursor");
        b.cursor = "AAAA";
        refused(f, &b, POP_EINVAL, "search-cursor");
        char longc[REG_SEARCH_CURSOR_MAX + 2];
        memset(longc, 'A', sizeof longc - 1);
        longc[sizeof longc - 1] = '\0';
        b.cursor = longc;
        refused(f, &b, POP_ETOOBIG, "search-cursor");
        char cut[REG_SEARCH_CURSOR_MAX + 1];
        snprintf(cut, sizeof cut, "%.*s", (int)(n - 4), cur);
        b.cursor = cut;
        refused(f, &b, POP_EINVAL, "search-cursor");

        /* Bound to the query: another name, mode or filter refuses it; the limit may change. */
        b = a;
        b.name = "tran";
        refused(f, &b, POP_EINVAL, "search-cursor");
        b = a;
        b.sex = "female";
        refused(f, &b, POP_EINVAL, "search-cursor");
        b = a;
        b.status = "any";
        refused(f, &b, POP_EINVAL, "search-cursor");
        b = a;
        b.match = "folded";
        refused(f, &b, POP_EINVAL, "search-cursor");
        b = a;
        b.limit = "50";
        json_decref(search(f, &b));

        /* Bound to the registry: another registry's secret refuses it. */
        void *other = NULL;
        assert_int_equal(setup_named(&other, "other.db", 0), 0);
        refused(other, &a, POP_EINVAL, "search-cursor");
        teardown(&other);
}

static void test_limits(void **state)
{
        struct fx *f = *state;
        people_paged(f);
        json_t *out = search(f, ARGS(.name = "tran thi mai"));
        assert_int_equal(json_array_size(json_object_get(out, "results")),
                         REG_SEARCH_LIMIT_DEFAULT);
        assert_true(json_is_string(json_object_get(out, "next")));
        json_decref(out);
        out = search(f, ARGS(.name = "tran thi mai", .limit = "100"));
        assert_int_equal(json_array_size(json_object_get(out, "results")), 100);
        json_decref(out);
        const char *bad[] = {"0",   "101", "1000000", "-1", "",
                             "abc", "1e2", " 5",      "5 ", "99999999999999999999"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                refused(f, ARGS(.name = "tran thi mai", .limit = bad[i]), POP_EINVAL,
                        "search-argument");
}

static void test_bad_input(void **state)
{
        struct fx *f = *state;
        refused(f, ARGS(.name = NULL), POP_EINVAL, "search-name");
        refused(f, ARGS(.name = ""), POP_EINVAL, "text-empty");
        refused(f, ARGS(.name = "  \xc2\xa0 "), POP_EINVAL, "text-empty");
        refused(f, ARGS(.name = "Nguyễn\tAn"), POP_EINVAL, "text-control");
        refused(f, ARGS(.name = "Nguy\xff\xfen"), POP_EINVAL, "text-utf8");
        refused(f, ARGS(.name = "Nguy\xc3"), POP_EINVAL, "text-utf8");
        refused(f, ARGS(.name = "An 2"), POP_EINVAL, "name-character");
        refused(f, ARGS(.name = "An%"), POP_EINVAL, "name-character");
        char big[NAME_MAX_BYTES + 10];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        refused(f, ARGS(.name = big), POP_ETOOBIG, "text-too-big");
        static char huge[1 << 16];
        memset(huge, 'a', sizeof huge - 1);
        refused(f, ARGS(.name = huge), POP_ETOOBIG, "text-too-big");
        refused(f, ARGS(.name = "an", .match = "fuzzy"), POP_EINVAL, "search-argument");
        refused(f, ARGS(.name = "an", .match = "EXACT"), POP_EINVAL, "search-argument");
        refused(f, ARGS(.name = "an", .dob = "1990-13"), POP_EINVAL, "date-month");
        refused(f, ARGS(.name = "an", .dob = "1990-02-30"), POP_EINVAL, "date-day");
        refused(f, ARGS(.name = "an", .year = "90"), POP_EINVAL, "search-argument");
        refused(f, ARGS(.name = "an", .year = "1700"), POP_EINVAL, "search-argument");
        refused(f, ARGS(.name = "an", .year = "1990", .born_from = "1980"), POP_EINVAL,
                "search-argument");
        refused(f, ARGS(.name = "an", .born_from = "1990", .born_to = "1980"), POP_EINVAL,
                "search-argument");
        refused(f, ARGS(.name = "an", .sex = "x"), POP_EINVAL, "sex-syntax");
        refused(f, ARGS(.name = "an", .province = "99"), POP_EINVAL, "search-argument");
        refused(f, ARGS(.name = "an", .province = "1a"), POP_EINVAL, "region-province-syntax");
        refused(f, ARGS(.name = "an", .status = "dead"), POP_EINVAL, "search-argument");
        refused(f, ARGS(.name = "an", .status = "\xff"), POP_EINVAL, "search-argument");
        refused(f, ARGS(.name = "an", .sex = huge), POP_ETOOBIG, "search-argument");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_exact_nfc_nfd_case, setup, teardown),
            cmocka_unit_test_setup_teardown(test_folded, setup, teardown),
            cmocka_unit_test_setup_teardown(test_prefix, setup, teardown),
            cmocka_unit_test_setup_teardown(test_partial_dob, setup, teardown),
            cmocka_unit_test_setup_teardown(test_sex_status_province, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pages_budget, setup, teardown),
            cmocka_unit_test_setup_teardown(test_store_budget, setup, teardown),
            cmocka_unit_test_setup_teardown(test_cursor_tampering, setup, teardown),
            cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        };
        int failed = cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
        uri_prefix = "fault:sqlite:";
        failed += cmocka_run_group_tests_name("fault:sqlite", tests, NULL, NULL);
        return failed ? 1 : 0;
}
