/*
 * Benchmark of name search (reg_search_json: parse and normalize the query, store_person_search,
 * render the JSON page and its cursor) on a registry of N people with a realistic Vietnamese name
 * distribution, next to ceilings measured in the same run on the same file:
 *   raw page   a raw SQLite prepared statement reading the first page of a name_key equality
 *              (the same index, 21 rows, no filters, no JSON): the least a folded search costs;
 *   raw point  a raw SQLite lookup of one person by personal ID: one B-tree descent.
 * Query classes: exact (a full name with diacritics, drawn with the population's frequencies, so
 * "Nguyễn Văn Anh" comes often), folded (its ASCII key), prefix (surname and middle name: a
 * range of up to millions of rows), each with and without filters (year, full date, a birth-year
 * range, sex drawn at random so half the searches want the rare sex of a name, a province drawn
 * at random: 1/34 of the people), and the second page of a folded search through its cursor.
 * Every class runs --searches times after a warm-up; p50/p99/max wall-clock latency, p50/p99 of
 * the thread's CPU time (the work itself, apart from the scheduler on a shared machine),
 * searches per second, mean results per page and the share of pages cut short by the work
 * budget are reported.
 *
 * The registry is built once through the store API (people and their permanent residence; the
 * bulk generator `popid gen` was not yet in the tree) and reused from bench/out/ while it holds
 * N people. Prints a table, then one JSON line per class (lines starting with '{').
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/name.h"
#include "core/pid.h"
#include "core/records.h"
#include "core/region.h"
#include "registry/registry.h"
#include "registry/search.h"
#include "store/store.h"

#define BENCH_NAME "bench_search"
#include "bench_util.h"

#define META_MARK "bench_search_v1"

struct opts {
        const char *db;
        int64_t people;
        int searches;
        int warmup;
        const char *only; /* one query class (its JSON id), for profiling */
};

/* ---- helpers ---- */

/* ---- the population ---- */

struct weighted {
        const char *s;
        int w;
};

#define N_OF(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* Surnames by their share of the population (per mille, rounded; the rest spread thin). */
static const struct weighted surnames[] = {
    {"Nguyễn", 380}, {"Trần", 110}, {"Lê", 95},    {"Phạm", 71}, {"Hoàng", 35}, {"Huỳnh", 16},
    {"Phan", 45},    {"Vũ", 24},    {"Võ", 15},    {"Đặng", 21}, {"Bùi", 20},   {"Đỗ", 14},
    {"Hồ", 13},      {"Ngô", 13},   {"Dương", 10}, {"Lý", 5},    {"Đinh", 8},   {"Trương", 6},
    {"Đoàn", 5},     {"Lâm", 4},    {"Mai", 4},    {"Trịnh", 4}, {"Cao", 3},    {"Lương", 3},
    {"Tạ", 2},       {"Hà", 3},     {"Thái", 2},   {"Kiều", 1},  {"Quách", 1},  {"Châu", 1},
};
/* Middle names: Văn and Thị dominate, the rest follow. */
static const struct weighted middle_m[] = {
    {"Văn", 400},  {"Đức", 80},  {"Minh", 80},  {"Quang", 50}, {"Hữu", 50},  {"Thành", 40},
    {"Công", 40},  {"Xuân", 30}, {"Ngọc", 30},  {"Quốc", 30},  {"Duy", 25},  {"Tuấn", 20},
    {"Trọng", 20}, {"Anh", 20},  {"Hoàng", 20}, {"Gia", 15},   {"Đình", 30}, {"Mạnh", 15},
};
static const struct weighted middle_f[] = {
    {"Thị", 450},  {"Ngọc", 80}, {"Thu", 50},    {"Thanh", 50}, {"Kim", 40}, {"Minh", 30},
    {"Bảo", 30},   {"Hồng", 30}, {"Phương", 25}, {"Thùy", 25},  {"Mai", 20}, {"Diệu", 15},
    {"Khánh", 20}, {"Hải", 15},  {"Lan", 15},    {"Quỳnh", 15}, {"Như", 15}, {"Tuyết", 10},
};
static const char *const given_m[] = {
    "Anh",  "Bình", "Cường", "Dũng", "Hải",   "Hùng",  "Khoa",  "Long", "Nam",   "Phong",
    "Quân", "Sơn",  "Thắng", "Tuấn", "Việt",  "Đạt",   "Hiếu",  "Lộc",  "Tài",   "Trung",
    "Huy",  "Hưng", "Khánh", "Minh", "Nghĩa", "Phúc",  "Quang", "Tâm",  "Thành", "Thịnh",
    "Toàn", "Tú",   "Vinh",  "Vũ",   "Duy",   "Đức",   "Hoàng", "Kiên", "Lâm",   "Mạnh",
    "Nhân", "Tiến", "Trí",   "Tùng", "Bảo",   "Chiến", "Danh",  "Đông", "Giang", "Hậu",
};
static const char *const given_f[] = {
    "An",   "Chi",  "Dung",  "Hà",   "Hạnh",   "Hoa",    "Hương", "Lan",   "Linh", "Mai",
    "My",   "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh",  "Thảo",  "Trang", "Vy",   "Yến",
    "Anh",  "Bích", "Châu",  "Diễm", "Giang",  "Hằng",   "Hiền",  "Huyền", "Lệ",   "Loan",
    "Ly",   "Nga",  "Ngọc",  "Nhi",  "Nhàn",   "Phượng", "Tâm",   "Thanh", "Thơ",  "Thủy",
    "Thúy", "Trâm", "Tuyết", "Uyên", "Vân",    "Xuân",   "Hạ",    "Khánh", "Liên", "Thư",
};

static const char *pick_w(uint64_t *s, const struct weighted *v, uint32_t n)
{
        int total = 0;
        for (uint32_t i = 0; i < n; i++)
                total += v[i].w;
        int x = (int)rnd(s, (uint32_t)total);
        for (uint32_t i = 0; i < n; i++) {
                if (x < v[i].w)
                        return v[i].s;
                x -= v[i].w;
        }
        return v[0].s;
}

/* A Zipf-like pick of a given name: the first ones are the most common. */
static const char *pick_given(uint64_t *s, enum sex sex)
{
        const char *const *v = sex == SEX_MALE ? given_m : given_f;
        uint32_t n = sex == SEX_MALE ? N_OF(given_m) : N_OF(given_f);
        uint32_t a = rnd(s, n), b = rnd(s, n);
        return v[a < b ? a : b]; /* min of two uniforms: density falling linearly */
}

/* A full name; one in ten has two middle names (Nguyễn Thị Thu Hà). */
static void make_name(uint64_t *s, enum sex sex, char *out, size_t cap)
{
        const struct weighted *mid = sex == SEX_MALE ? middle_m : middle_f;
        uint32_t n_mid = sex == SEX_MALE ? N_OF(middle_m) : N_OF(middle_f);
        const char *sn = pick_w(s, surnames, N_OF(surnames));
        const char *m1 = pick_w(s, mid, n_mid);
        if (rnd(s, 10) == 0)
                snprintf(out, cap, "%s %s %s %s", sn, m1, pick_w(s, mid, n_mid),
                         pick_given(s, sex));
        else
                snprintf(out, cap, "%s %s %s", sn, m1, pick_given(s, sex));
}

struct seed {
        int64_t pid;
        uint64_t seed;
        int16_t year;
        int8_t sex;
        int16_t prefix;
};

static int cmp_seed(const void *a, const void *b)
{
        int64_t x = ((const struct seed *)a)->pid, y = ((const struct seed *)b)->pid;
        return (x > y) - (x < y);
}

/* A birth year 1930..2025, more of the young (a growing population). */
static int pick_year(uint64_t *s)
{
        uint32_t a = rnd(s, 96), b = rnd(s, 96);
        return 1930 + (int)(a > b ? a : b);
}

static void new_seed(uint64_t *s, struct seed *out)
{
        const struct region_legacy *prov = region_legacy_at((int)rnd(s, REGION_N_LEGACY));
        out->prefix = (int16_t)prov->code;
        out->year = (int16_t)pick_year(s);
        out->sex = (int8_t)(rnd(s, 2) ? SEX_FEMALE : SEX_MALE);
        out->seed = next_u64(s);
        char buf[PID_LEN + 1];
        struct pop_err err = {0};
        if (pid_format(out->prefix, out->year, (enum sex)out->sex, rnd(s, PID_SUFFIX_SPAN), buf,
                       &err))
                die("pid_format: %s", err.msg);
        out->pid = pid_to_int(buf);
}

/* n distinct IDs in ascending order (appends to the person table's B-tree). */
static struct seed *make_seeds(int64_t n, uint64_t *s)
{
        struct seed *v = xcalloc((size_t)n, sizeof *v);
        int64_t have = 0;
        while (have < n) {
                for (int64_t i = have; i < n; i++)
                        new_seed(s, &v[i]);
                qsort(v, (size_t)n, sizeof *v, cmp_seed);
                have = 0;
                for (int64_t i = 0; i < n; i++)
                        if (have == 0 || v[i].pid != v[have - 1].pid)
                                v[have++] = v[i];
        }
        return v;
}

static void make_person(const struct seed *sd, int64_t now, struct person *p, struct residence *r)
{
        uint64_t s = sd->seed;
        char raw[NAME_MAX_BYTES + 1];
        struct pop_err err = {0};
        memset(p, 0, sizeof *p);
        p->pid = sd->pid;
        p->sex = (enum sex)sd->sex;
        make_name(&s, p->sex, raw, sizeof raw);
        if (name_normalize(raw, strlen(raw), p->full_name, sizeof p->full_name, &err) ||
            name_fold(raw, strlen(raw), p->name_fold, sizeof p->name_fold, &err) ||
            name_key(raw, strlen(raw), p->name_key, sizeof p->name_key, &err))
                die("name %s: %s", raw, err.msg);
        p->dob.y = sd->year;
        uint32_t precision = rnd(&s, 100);
        if (precision >= 3) { /* 3% know only the year, 2% the year and month */
                p->dob.m = (int8_t)(1 + rnd(&s, 12));
                if (precision >= 5)
                        p->dob.d = (int8_t)(1 + rnd(&s, 28));
        }
        p->birth_province = sd->prefix;
        snprintf(p->hometown, sizeof p->hometown, "%s", region_legacy(sd->prefix)->name);
        memcpy(p->ethnicity, "Kinh", 5);
        memcpy(p->nationality, "VNM", 4);
        p->status = PERSON_LIVING;
        if (sd->year < 1960 && rnd(&s, 5) == 0) {
                p->status = PERSON_DECEASED;
                p->death_date = (struct pdate){(int16_t)(sd->year + 60), 1, 1};
        }
        p->created_at = p->updated_at = now;
        memset(r, 0, sizeof *r);
        r->id = 0;
        if (p->status != PERSON_LIVING || rnd(&s, 100) < 5)
                return; /* no current permanent residence */
        r->pid = p->pid;
        r->kind = RESIDENCE_PERMANENT;
        /* Most live in their birth province; some moved to one of the big cities. */
        static const int cities[] = {1, 79, 48, 31, 92};
        r->province = rnd(&s, 5) ? sd->prefix : cities[rnd(&s, 5)];
        memcpy(r->commune, "00001", 6);
        memcpy(r->address, "1 Đường Một", sizeof "1 Đường Một");
        memcpy(r->relation, "head", 5);
        r->valid_from = (struct pdate){2010, 1, 1};
}

static void remove_db(const char *path)
{
        char buf[4096];
        unlink(path);
        snprintf(buf, sizeof buf, "%s-wal", path);
        unlink(buf);
        snprintf(buf, sizeof buf, "%s-shm", path);
        unlink(buf);
}

/* Builds the registry unless it already holds n people of this benchmark. */
static void registry_prepare(const struct opts *o)
{
        struct pop_err err = {0};
        struct store *st = NULL;
        struct stat sb;
        if (stat(o->db, &sb) == 0) {
                int64_t have = -1;
                char mark[8];
                size_t len = 0;
                if (store_open(o->db, 0, &st, &err) == 0 &&
                    store_person_count(st, &have, &err) == 0 && have == o->people &&
                    store_meta_get(st, META_MARK, mark, sizeof mark, &len, &err) == 0) {
                        store_close(st);
                        fprintf(stderr, "reusing %s (%" PRId64 " people)\n", o->db, have);
                        return;
                }
                store_close(st);
                fprintf(stderr, "%s is not a search registry of %" PRId64 " people: rebuilding\n",
                        o->db, o->people);
                remove_db(o->db);
        }
        if (reg_init(o->db, "Benchmark registry", &err))
                die("reg_init %s: %s", o->db, err.msg);
        if (store_open(o->db, 0, &st, &err))
                die("store_open %s: %s", o->db, err.msg);
        double t0 = now_s();
        uint64_t s = 0x736561726368ULL; /* fixed: the same registry on every machine */
        struct seed *seeds = make_seeds(o->people, &s);
        int64_t now = (int64_t)time(NULL);
        const int64_t batch = 100000;
        for (int64_t i = 0; i < o->people; i++) {
                if (i % batch == 0 && store_begin(st, &err))
                        die("begin: %s", err.msg);
                struct person p;
                struct residence r;
                make_person(&seeds[i], now, &p, &r);
                if (store_person_insert(st, &p, &err))
                        die("insert %" PRId64 ": %s", p.pid, err.msg);
                if (r.pid && store_residence_insert(st, &r, &err))
                        die("residence %" PRId64 ": %s", p.pid, err.msg);
                if ((i + 1) % batch == 0 || i + 1 == o->people) {
                        if (i + 1 == o->people && store_meta_set(st, META_MARK, "1", 1, &err))
                                die("meta: %s", err.msg);
                        if (store_commit(st, &err))
                                die("commit: %s", err.msg);
                        fprintf(stderr, "\rbuilding: %" PRId64 " people, %.0f s", i + 1,
                                now_s() - t0);
                }
        }
        store_close(st);
        free(seeds);
        fprintf(stderr, "\rbuilt %s: %" PRId64 " people in %.1f s\n", o->db, o->people,
                now_s() - t0);
}

/* ---- queries ---- */

enum qclass {
        Q_EXACT,
        Q_FOLDED,
        Q_PREFIX,
        Q_EXACT_YEAR,
        Q_FOLDED_DOB,
        Q_PREFIX_RANGE,
        Q_FOLDED_SEX,
        Q_FOLDED_PROVINCE,
        Q_FOLDED_PAGE2,
        Q_RAW_PAGE,
        Q_RAW_POINT,
        N_QCLASS
};

static const char *const qclass_name[N_QCLASS] = {
    [Q_EXACT] = "exact",
    [Q_FOLDED] = "folded",
    [Q_PREFIX] = "prefix (surname middle)",
    [Q_EXACT_YEAR] = "exact + year",
    [Q_FOLDED_DOB] = "folded + full dob",
    [Q_PREFIX_RANGE] = "prefix + 10-year range",
    [Q_FOLDED_SEX] = "folded + random sex",
    [Q_FOLDED_PROVINCE] = "folded + province",
    [Q_FOLDED_PAGE2] = "folded, page 2 by cursor",
    [Q_RAW_PAGE] = "ceiling: raw SQLite name_key page",
    [Q_RAW_POINT] = "ceiling: raw SQLite pid lookup",
};

static const char *const qclass_id[N_QCLASS] = {
    [Q_EXACT] = "exact",
    [Q_FOLDED] = "folded",
    [Q_PREFIX] = "prefix",
    [Q_EXACT_YEAR] = "exact-year",
    [Q_FOLDED_DOB] = "folded-dob",
    [Q_PREFIX_RANGE] = "prefix-range",
    [Q_FOLDED_SEX] = "folded-sex",
    [Q_FOLDED_PROVINCE] = "folded-province",
    [Q_FOLDED_PAGE2] = "folded-page2",
    [Q_RAW_PAGE] = "raw-name-page",
    [Q_RAW_POINT] = "raw-pid-lookup",
};

/* One query, as text (the arguments point into it). */
struct query {
        char name[NAME_MAX_BYTES + 1];
        char dob[40], year[12], from[12], to[12], province[12]; /* room for any int */
        const char *match, *sex;
        struct reg_search_args a;
};

static void make_query(uint64_t *s, enum qclass c, struct query *q)
{
        memset(q, 0, sizeof *q);
        enum sex sex = rnd(s, 2) ? SEX_FEMALE : SEX_MALE;
        char full[NAME_MAX_BYTES + 1];
        make_name(s, sex, full, sizeof full);
        struct pop_err err = {0};
        q->a.name = q->name;
        switch (c) {
        case Q_EXACT:
        case Q_EXACT_YEAR:
                snprintf(q->name, sizeof q->name, "%s", full);
                q->a.match = "exact";
                break;
        case Q_PREFIX:
        case Q_PREFIX_RANGE: {
                /* The surname and the first middle name. */
                char *sp = strchr(full, ' ');
                sp = sp ? strchr(sp + 1, ' ') : NULL;
                if (sp)
                        *sp = '\0';
                if (name_key(full, strlen(full), q->name, sizeof q->name, &err))
                        die("%s: %s", full, err.msg);
                q->a.match = "prefix";
                break;
        }
        default:
                if (name_key(full, strlen(full), q->name, sizeof q->name, &err))
                        die("%s: %s", full, err.msg);
                break;
        }
        int y = pick_year(s);
        switch (c) {
        case Q_EXACT_YEAR:
                snprintf(q->year, sizeof q->year, "%04d", y);
                q->a.year = q->year;
                break;
        case Q_FOLDED_DOB:
                snprintf(q->dob, sizeof q->dob, "%04d-%02d-%02d", y, 1 + (int)rnd(s, 12),
                         1 + (int)rnd(s, 28));
                q->a.dob = q->dob;
                break;
        case Q_PREFIX_RANGE:
                y = y > 2016 ? 2016 : y;
                snprintf(q->from, sizeof q->from, "%04d", y);
                snprintf(q->to, sizeof q->to, "%04d", y + 9);
                q->a.born_from = q->from;
                q->a.born_to = q->to;
                break;
        case Q_FOLDED_SEX:
                q->a.sex = rnd(s, 2) ? "female" : "male";
                break;
        case Q_FOLDED_PROVINCE:
                snprintf(q->province, sizeof q->province, "%02d",
                         region_unit_at((int)rnd(s, REGION_N_UNITS))->code);
                q->a.province = q->province;
                break;
        default:
                break;
        }
}

/* ---- the ceilings ---- */

struct raw {
        sqlite3 *db;
        sqlite3_stmt *page, *point;
};

static void raw_open(struct raw *r, const char *path)
{
        memset(r, 0, sizeof *r);
        if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
                SQLITE_OK ||
            sqlite3_exec(r->db,
                         "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;"
                         " PRAGMA mmap_size = 1073741824;",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v3(r->db,
                               "SELECT pid, full_name, dob, sex, status FROM person"
                               " WHERE name_key = ?1 ORDER BY dob, pid LIMIT 21",
                               -1, SQLITE_PREPARE_PERSISTENT, &r->page, NULL) != SQLITE_OK ||
            sqlite3_prepare_v3(r->db,
                               "SELECT pid, full_name, dob, sex, status FROM person"
                               " WHERE pid = ?1",
                               -1, SQLITE_PREPARE_PERSISTENT, &r->point, NULL) != SQLITE_OK)
                die("%s: %s", path, sqlite3_errmsg(r->db));
}

static void raw_close(struct raw *r)
{
        sqlite3_finalize(r->page);
        sqlite3_finalize(r->point);
        sqlite3_close(r->db);
}

/* Rows read, so nothing is optimized away. */
static int raw_run(sqlite3_stmt *q)
{
        int n = 0;
        while (sqlite3_step(q) == SQLITE_ROW)
                n += sqlite3_column_bytes(q, 1) > 0;
        sqlite3_reset(q);
        return n;
}

/* ---- running ---- */

/*
 * A measured call: wall-clock time (what a caller waits, including time the thread was not on a
 * CPU: on a shared machine the scheduler's time slices show in p99) and the thread's CPU time
 * (the work the search did, whatever else runs). The CPU clock is read outside the wall clock.
 */
struct timing {
        double c0, t0, wall, cpu;
};

static double cpu_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void timing_start(struct timing *t)
{
        t->c0 = cpu_s();
        t->t0 = now_s();
}

static void timing_stop(struct timing *t)
{
        t->wall = now_s() - t->t0;
        t->cpu = cpu_s() - t->c0;
}

struct result {
        double p50, p99, max, per_s;
        double cpu_p50, cpu_p99;
        double mean_results;
        double short_pages; /* share of pages with fewer than the limit and a next cursor */
};

struct ctx {
        struct reg *r;
        struct raw raw;
        int64_t *pids;
        int64_t n_pids;
};

/* Runs one search of class c into *t; *n results, *cut a short page. -1 when not measured. */
static int run_one(struct ctx *x, uint64_t *s, enum qclass c, struct timing *t, int *n, int *cut)
{
        struct query q;
        *n = 0;
        *cut = 0;
        if (c == Q_RAW_POINT) {
                int64_t pid = x->pids[rnd(s, (uint32_t)x->n_pids)];
                timing_start(t);
                sqlite3_bind_int64(x->raw.point, 1, pid);
                *n = raw_run(x->raw.point);
                timing_stop(t);
                return 0;
        }
        make_query(s, c == Q_RAW_PAGE ? Q_FOLDED : c, &q);
        if (c == Q_RAW_PAGE) {
                timing_start(t);
                sqlite3_bind_text(x->raw.page, 1, q.name, -1, SQLITE_STATIC);
                *n = raw_run(x->raw.page);
                timing_stop(t);
                return 0;
        }
        json_t *out = NULL;
        struct pop_err err = {0};
        char cur[REG_SEARCH_CURSOR_MAX + 1];
        if (c == Q_FOLDED_PAGE2) { /* page 1, not measured, for its cursor */
                if (reg_search_json(x->r, &q.a, &out, &err))
                        die("search %s: %s", q.name, err.msg);
                const char *next = json_string_value(json_object_get(out, "next"));
                snprintf(cur, sizeof cur, "%s", next ? next : "");
                json_decref(out);
                out = NULL;
                if (!next)
                        return -1; /* a rare name: one page only */
                q.a.cursor = cur;
        }
        timing_start(t);
        int rc = reg_search_json(x->r, &q.a, &out, &err);
        timing_stop(t);
        if (rc)
                die("search %s: %s", q.name, err.msg);
        size_t k = json_array_size(json_object_get(out, "results"));
        *n = (int)k;
        *cut = k < REG_SEARCH_LIMIT_DEFAULT && json_is_string(json_object_get(out, "next"));
        json_decref(out);
        return 0;
}

static struct result run_class(struct ctx *x, enum qclass c, int count, uint64_t seed)
{
        double *lat = xcalloc((size_t)count, sizeof *lat);
        double *cpu = xcalloc((size_t)count, sizeof *cpu);
        uint64_t s = seed;
        int64_t results = 0, cut = 0;
        int done = 0;
        double total = 0;
        while (done < count) {
                int n, short_page;
                struct timing t;
                if (run_one(x, &s, c, &t, &n, &short_page) != 0)
                        continue;
                cpu[done] = t.cpu;
                lat[done++] = t.wall;
                total += t.wall;
                results += n;
                cut += short_page;
        }
        qsort(lat, (size_t)count, sizeof *lat, cmp_double);
        qsort(cpu, (size_t)count, sizeof *cpu, cmp_double);
        struct result r = {
            .cpu_p50 = cpu[count / 2] * 1e3,
            .cpu_p99 = cpu[(int)((double)count * 0.99)] * 1e3,
            .p50 = lat[count / 2] * 1e3,
            .p99 = lat[(int)((double)count * 0.99)] * 1e3,
            .max = lat[count - 1] * 1e3,
            .per_s = (double)count / total,
            .mean_results = (double)results / count,
            .short_pages = (double)cut / count,
        };
        free(lat);
        free(cpu);
        return r;
}

static int64_t *load_pids(const char *path, int64_t n)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "SELECT pid FROM person", -1, &q, NULL) != SQLITE_OK)
                die("%s: %s", path, sqlite3_errmsg(db));
        int64_t *v = xcalloc((size_t)n, sizeof *v);
        int64_t i = 0;
        while (i < n && sqlite3_step(q) == SQLITE_ROW)
                v[i++] = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
        if (i != n)
                die("%s: %" PRId64 " IDs, expected %" PRId64, path, i, n);
        return v;
}

static void usage(void)
{
        fprintf(stderr, "usage: bench_search [--people N] [--db PATH] [--searches N]"
                        " [--warmup N] [--only QUERY]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        struct opts o = {.people = 1000000, .searches = 20000, .warmup = 20000};
        char dbbuf[256];
        for (int i = 1; i < argc; i++) {
                if (i + 1 >= argc)
                        usage();
                if (!strcmp(argv[i], "--people"))
                        o.people = parse_count("--people", argv[++i]);
                else if (!strcmp(argv[i], "--db"))
                        o.db = argv[++i];
                else if (!strcmp(argv[i], "--searches"))
                        o.searches = (int)parse_count("--searches", argv[++i]);
                else if (!strcmp(argv[i], "--warmup"))
                        o.warmup = (int)parse_count("--warmup", argv[++i]);
                else if (!strcmp(argv[i], "--only"))
                        o.only = argv[++i];
                else
                        usage();
        }
        if (!o.db) {
                if (o.people % 1000000 == 0)
                        snprintf(dbbuf, sizeof dbbuf, "bench/out/search-%" PRId64 "m.db",
                                 o.people / 1000000);
                else
                        snprintf(dbbuf, sizeof dbbuf, "bench/out/search-%" PRId64 ".db", o.people);
                o.db = dbbuf;
        }
        registry_prepare(&o);

        struct ctx x = {0};
        struct pop_err err = {0};
        if (reg_open(o.db, &x.r, &err))
                die("reg_open %s: %s", o.db, err.msg);
        raw_open(&x.raw, o.db);
        x.n_pids = o.people;
        x.pids = load_pids(o.db, o.people);

        /* Warm-up: every class, so the pages of the indexes the classes touch are cached. */
        fprintf(stderr, "warming up (%d searches)\n", o.warmup);
        for (int c = 0; c < N_QCLASS; c++)
                run_class(&x, (enum qclass)c, o.warmup / N_QCLASS + 1, 0x5eed + (uint64_t)c);

        struct result res[N_QCLASS];
        for (int c = 0; c < N_QCLASS; c++) {
                if (o.only && strcmp(o.only, qclass_id[c]) != 0) {
                        res[c] = (struct result){0};
                        continue;
                }
                res[c] = run_class(&x, (enum qclass)c, o.searches, 0xbe7c4 + (uint64_t)c * 7919);
        }

        printf("name search, %" PRId64 " people, %d searches per class, 1 thread, limit %d\n\n",
               o.people, o.searches, REG_SEARCH_LIMIT_DEFAULT);
        printf("| query | p50 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms | searches/s |"
               " results/page | short pages |\n");
        printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int c = 0; c < N_QCLASS; c++)
                printf("| %s | %.3f | %.3f | %.2f | %.3f | %.3f | %.0f | %.1f | %.1f%% |\n",
                       qclass_name[c], res[c].p50, res[c].p99, res[c].max, res[c].cpu_p50,
                       res[c].cpu_p99, res[c].per_s, res[c].mean_results, 100 * res[c].short_pages);
        for (int c = 0; c < N_QCLASS; c++)
                printf("{\"bench\":\"search\",\"people\":%" PRId64 ",\"query\":\"%s\","
                       "\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.3f,\"cpu_p50_ms\":%.4f,"
                       "\"cpu_p99_ms\":%.4f,\"per_s\":%.0f,\"results_per_page\":%.2f,"
                       "\"short_pages\":%.4f}\n",
                       o.people, qclass_id[c], res[c].p50, res[c].p99, res[c].max, res[c].cpu_p50,
                       res[c].cpu_p99, res[c].per_s, res[c].mean_results, res[c].short_pages);
        raw_close(&x.raw);
        reg_close(x.r);
        free(x.pids);
        return 0;
}
