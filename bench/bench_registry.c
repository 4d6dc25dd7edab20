/*
 * Benchmark of the registry's two hot paths, each against a peer run in the same process:
 *   lookup  store_person_get by personal ID on one connection per thread, against a raw SQLite
 *           prepared statement that reads the same columns into the same struct (the best the
 *           store could do on SQLite) and a key-only probe (the B-tree descent alone);
 *   events  life events through reg_event_apply with the store's real durability (WAL,
 *           synchronous=FULL, one transaction per event), against a raw loop of single-row
 *           INSERT transactions with the same pragmas (the fsync ceiling).
 * The registry of N people is built once through the store API (not through events, which would
 * take too long for a million) and reused while it holds N people. Lookup figures are medians
 * of --reps runs, event figures of --event-reps runs; runs of a peer are interleaved with ours so
 * the noise of a shared machine falls on both. Prints a table, then one JSON line per
 * measurement (lines starting with '{', for docs/BENCHMARKS.md). bench/run.sh drives it.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
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
#include "store/store.h"

#define BENCH_NAME "bench_registry"
#include "bench_util.h"

#define MAX_THREADS 16
#define MAX_REPS    31

struct opts {
        const char *db;
        int64_t people;
        int64_t lookups;
        int64_t events;
        int reps;
        int event_reps;
        int threads;
};

struct stats {
        double median, min, max;
};

static struct stats summarize(const double *v, int n)
{
        double s[MAX_REPS];
        memcpy(s, v, (size_t)n * sizeof *s);
        qsort(s, (size_t)n, sizeof *s, cmp_double);
        struct stats st = {n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, s[0], s[n - 1]};
        return st;
}

/* ---- the population ---- */

struct weighted {
        const char *s;
        int w;
};

static const struct weighted surnames[] = {
    {"Nguyễn", 380}, {"Trần", 110}, {"Lê", 95},    {"Phạm", 71}, {"Hoàng", 51}, {"Huỳnh", 30},
    {"Phan", 45},    {"Vũ", 39},    {"Võ", 30},    {"Đặng", 21}, {"Bùi", 20},   {"Đỗ", 14},
    {"Hồ", 13},      {"Ngô", 13},   {"Dương", 10}, {"Lý", 5},    {"Đinh", 8},   {"Trương", 6},
};
static const char *const middle_m[] = {"Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công"};
static const char *const middle_f[] = {"Thị", "Ngọc", "Thu", "Thanh", "Kim", "Minh", "Bảo"};
static const char *const given_m[] = {"Anh",  "Bình", "Cường", "Dũng", "Hải", "Hùng",  "Khoa",
                                      "Long", "Nam",  "Phong", "Quân", "Sơn", "Thắng", "Tuấn",
                                      "Việt", "Đạt",  "Hiếu",  "Lộc",  "Tài", "Trung"};
static const char *const given_f[] = {"An",     "Chi",   "Dung", "Hà",    "Hạnh", "Hoa",   "Hương",
                                      "Lan",    "Linh",  "Mai",  "My",    "Ngân", "Nhung", "Oanh",
                                      "Phương", "Quỳnh", "Thảo", "Trang", "Vy",   "Yến"};
static const struct weighted ethnicities[] = {
    {"Kinh", 853}, {"Tày", 19},  {"Thái", 18}, {"Mường", 15}, {"Khmer", 13},
    {"Hoa", 8},    {"Nùng", 11}, {"Mông", 13}, {"Dao", 9},    {"Gia Rai", 5},
};
static const struct weighted religions[] = {
    {"", 820},       {"Phật giáo", 90}, {"Công giáo", 65},
    {"Cao Đài", 10}, {"Tin Lành", 10},  {"Phật giáo Hòa Hảo", 5},
};
static const char *const communes[] = {"xã An Bình",   "xã Tân Phú",   "phường Hòa Bình",
                                       "xã Phú Lộc",   "xã Đông Hưng", "thị trấn Thanh Hà",
                                       "xã Vĩnh Long", "xã Yên Thế"};

#define N_OF(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

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

#define NAME_FORM 96 /* the pools' names are short; name_* report POP_ETOOBIG otherwise */

struct name_forms {
        char full[NAME_FORM], fold[NAME_FORM], key[NAME_FORM];
};

/* Every name the pools can make, per sex, with its three forms computed once by core/name. */
struct name_table {
        struct name_forms *v[3]; /* by enum sex: [SEX_MALE], [SEX_FEMALE] */
        uint32_t n_middle, n_given;
};

static void name_table_init(struct name_table *t)
{
        t->n_middle = N_OF(middle_m);
        t->n_given = N_OF(given_m);
        uint32_t per_sex = N_OF(surnames) * t->n_middle * t->n_given;
        for (int sx = SEX_MALE; sx <= SEX_FEMALE; sx++) {
                t->v[sx] = xcalloc(per_sex, sizeof(struct name_forms));
                for (uint32_t i = 0; i < per_sex; i++) {
                        uint32_t sn = i / (t->n_middle * t->n_given);
                        uint32_t mi = i / t->n_given % t->n_middle, gi = i % t->n_given;
                        char raw[NAME_FORM];
                        snprintf(raw, sizeof raw, "%s %s %s", surnames[sn].s,
                                 sx == SEX_MALE ? middle_m[mi] : middle_f[mi],
                                 sx == SEX_MALE ? given_m[gi] : given_f[gi]);
                        struct name_forms *f = &t->v[sx][i];
                        struct pop_err err = {0};
                        if (name_normalize(raw, strlen(raw), f->full, sizeof f->full, &err) ||
                            name_fold(raw, strlen(raw), f->fold, sizeof f->fold, &err) ||
                            name_key(raw, strlen(raw), f->key, sizeof f->key, &err))
                                die("name pool: %s", err.msg);
                }
        }
}

static const struct name_forms *pick_name(const struct name_table *t, uint64_t *s, enum sex sex)
{
        const char *sn = pick_w(s, surnames, N_OF(surnames));
        uint32_t si = 0;
        while (surnames[si].s != sn)
                si++;
        uint32_t i = (si * t->n_middle + rnd(s, t->n_middle)) * t->n_given + rnd(s, t->n_given);
        return &t->v[sex][i];
}

/* One person to build: the ID fixes province, birth year and sex; the rest comes from seed. */
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

static void new_seed(uint64_t *s, struct seed *out)
{
        const struct region_legacy *prov = region_legacy_at((int)rnd(s, REGION_N_LEGACY));
        out->prefix = (int16_t)prov->code;
        out->year = (int16_t)(1930 + rnd(s, 2025 - 1930 + 1));
        out->sex = (int8_t)(rnd(s, 2) ? SEX_FEMALE : SEX_MALE);
        out->seed = next_u64(s);
        char buf[PID_LEN + 1];
        struct pop_err err = {0};
        if (pid_format(out->prefix, out->year, (enum sex)out->sex, rnd(s, PID_SUFFIX_SPAN), buf,
                       &err))
                die("pid_format: %s", err.msg);
        out->pid = pid_to_int(buf);
}

/* n distinct IDs in ascending order (inserting in key order keeps the table's B-tree appends). */
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

static void make_person(const struct name_table *names, const struct seed *sd, int64_t now,
                        struct person *p)
{
        uint64_t s = sd->seed;
        memset(p, 0, sizeof *p);
        p->pid = sd->pid;
        p->sex = (enum sex)sd->sex;
        const struct name_forms *nf = pick_name(names, &s, p->sex);
        memcpy(p->full_name, nf->full, sizeof nf->full);
        memcpy(p->name_fold, nf->fold, sizeof nf->fold);
        memcpy(p->name_key, nf->key, sizeof nf->key);
        p->dob.y = sd->year;
        if (rnd(&s, 100) >= 3) { /* a few old records know only the year */
                p->dob.m = (int8_t)(1 + rnd(&s, 12));
                p->dob.d = (int8_t)(1 + rnd(&s, 28));
        }
        p->birth_province = sd->prefix;
        snprintf(p->hometown, sizeof p->hometown, "%s, %s", communes[rnd(&s, N_OF(communes))],
                 region_legacy(sd->prefix)->name);
        snprintf(p->ethnicity, sizeof p->ethnicity, "%s",
                 pick_w(&s, ethnicities, N_OF(ethnicities)));
        snprintf(p->religion, sizeof p->religion, "%s", pick_w(&s, religions, N_OF(religions)));
        memcpy(p->nationality, "VNM", 4);
        p->status = PERSON_LIVING;
        if (sd->year < 1960 && rnd(&s, 4) == 0) {
                p->status = PERSON_DECEASED;
                struct pdate d = {(int16_t)(sd->year + 50 + (int)rnd(&s, 2025 - sd->year - 49)),
                                  (int8_t)(1 + rnd(&s, 12)), (int8_t)(1 + rnd(&s, 28))};
                p->death_date = d;
        }
        p->created_at = p->updated_at = now;
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

/* Reads every ID of the registry in key order (setup, not measured). */
static int64_t *load_pids(const char *path, int64_t n)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(db, "SELECT pid FROM person ORDER BY pid", -1, &q, NULL) !=
                SQLITE_OK)
                die("%s: %s", path, sqlite3_errmsg(db));
        int64_t *v = xcalloc((size_t)n, sizeof *v);
        int64_t i = 0;
        while (sqlite3_step(q) == SQLITE_ROW && i < n)
                v[i++] = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
        if (i != n)
                die("%s: read %" PRId64 " IDs, expected %" PRId64, path, i, n);
        return v;
}

/* Returns the registry's IDs, building it first unless it already holds exactly n people. */
static int64_t *registry_prepare(const struct opts *o, double *build_s)
{
        struct pop_err err = {0};
        struct store *st = NULL;
        *build_s = -1;
        struct stat sb;
        if (stat(o->db, &sb) == 0) {
                int64_t have = -1;
                if (store_open(o->db, 0, &st, &err) == 0 &&
                    store_person_count(st, &have, &err) == 0 && have == o->people) {
                        store_close(st);
                        fprintf(stderr, "reusing %s (%" PRId64 " people)\n", o->db, have);
                        return load_pids(o->db, o->people);
                }
                store_close(st);
                st = NULL;
                fprintf(stderr, "%s holds %" PRId64 " people, not %" PRId64 ": rebuilding\n", o->db,
                        have, o->people);
                remove_db(o->db);
        }
        if (reg_init(o->db, "Benchmark registry", &err))
                die("reg_init %s: %s", o->db, err.msg);
        if (store_open(o->db, 0, &st, &err))
                die("store_open %s: %s", o->db, err.msg);

        double t0 = now_s();
        struct name_table names;
        name_table_init(&names);
        uint64_t s = 0x706f706964ULL; /* fixed: the same registry on every machine */
        struct seed *seeds = make_seeds(o->people, &s);
        int64_t now = (int64_t)time(NULL);
        const int64_t batch = 100000;
        for (int64_t i = 0; i < o->people; i++) {
                if (i % batch == 0 && store_begin(st, &err))
                        die("begin: %s", err.msg);
                struct person p;
                make_person(&names, &seeds[i], now, &p);
                if (store_person_insert(st, &p, &err))
                        die("insert %" PRId64 ": %s", p.pid, err.msg);
                if ((i + 1) % batch == 0 || i + 1 == o->people) {
                        if (store_commit(st, &err))
                                die("commit: %s", err.msg);
                        fprintf(stderr, "\rbuilding: %" PRId64 " people", i + 1);
                }
        }
        store_close(st); /* the last connection's close checkpoints the WAL into the database */
        *build_s = now_s() - t0;
        fprintf(stderr, "\rbuilt %s: %" PRId64 " people in %.1f s\n", o->db, o->people, *build_s);

        int64_t *pids = xcalloc((size_t)o->people, sizeof *pids);
        for (int64_t i = 0; i < o->people; i++)
                pids[i] = seeds[i].pid;
        free(seeds);
        free(names.v[SEX_MALE]);
        free(names.v[SEX_FEMALE]);
        return pids;
}

/* ---- lookups ---- */

/*
 * The raw peer: what the store's person_get could at best do on SQLite with the same schema and
 * the same struct: one prepared statement, columns copied with the same caps, dates decoded.
 */
#define PERSON_SELECT                                                                              \
        "SELECT pid, full_name, name_fold, name_key, dob, sex, birth_province, hometown,"          \
        " ethnicity, religion, nationality, father, mother, spouse, status, death_date,"           \
        " created_at, updated_at, version FROM person WHERE pid = ?1"

static void raw_str(sqlite3_stmt *q, int i, char *out, size_t cap)
{
        const char *t = (const char *)sqlite3_column_text(q, i);
        size_t n = t ? (size_t)sqlite3_column_bytes(q, i) : 0;
        if (n >= cap)
                n = cap - 1;
        if (n)
                memcpy(out, t, n);
        out[n] = '\0';
}

/* YYYY, YYYY-MM or YYYY-MM-DD with month and day in range; -1 otherwise. */
static int raw_date(sqlite3_stmt *q, int i, struct pdate *out)
{
        *out = (struct pdate){0};
        const unsigned char *t = sqlite3_column_text(q, i);
        if (!t)
                return 0;
        int n = sqlite3_column_bytes(q, i);
        if (n != 4 && n != 7 && n != 10)
                return -1;
        for (int k = 0; k < n; k++)
                if (k == 4 || k == 7 ? t[k] != '-' : (t[k] < '0' || t[k] > '9'))
                        return -1;
        int y = (t[0] - '0') * 1000 + (t[1] - '0') * 100 + (t[2] - '0') * 10 + (t[3] - '0');
        int m = n >= 7 ? (t[5] - '0') * 10 + (t[6] - '0') : 0;
        int d = n == 10 ? (t[8] - '0') * 10 + (t[9] - '0') : 0;
        if ((n >= 7 && (m < 1 || m > 12)) || (n == 10 && (d < 1 || d > 31)))
                return -1;
        out->y = (int16_t)y;
        out->m = (int8_t)m;
        out->d = (int8_t)d;
        return 0;
}

static int raw_person_get(sqlite3_stmt *q, int64_t pid, struct person *p)
{
        sqlite3_bind_int64(q, 1, pid);
        int rc = -1;
        if (sqlite3_step(q) != SQLITE_ROW)
                goto out;
        p->pid = sqlite3_column_int64(q, 0);
        raw_str(q, 1, p->full_name, sizeof p->full_name);
        raw_str(q, 2, p->name_fold, sizeof p->name_fold);
        raw_str(q, 3, p->name_key, sizeof p->name_key);
        if (raw_date(q, 4, &p->dob))
                goto out;
        p->sex = (enum sex)sqlite3_column_int(q, 5);
        p->birth_province = sqlite3_column_int(q, 6);
        raw_str(q, 7, p->hometown, sizeof p->hometown);
        raw_str(q, 8, p->ethnicity, sizeof p->ethnicity);
        raw_str(q, 9, p->religion, sizeof p->religion);
        raw_str(q, 10, p->nationality, sizeof p->nationality);
        p->father = sqlite3_column_int64(q, 11);
        p->mother = sqlite3_column_int64(q, 12);
        p->spouse = sqlite3_column_int64(q, 13);
        p->status = (enum person_status)sqlite3_column_int(q, 14);
        if (raw_date(q, 15, &p->death_date))
                goto out;
        p->created_at = sqlite3_column_int64(q, 16);
        p->updated_at = sqlite3_column_int64(q, 17);
        p->version = sqlite3_column_int64(q, 18);
        rc = 0;
out:
        sqlite3_reset(q);
        return rc;
}

static int raw_key_only(sqlite3_stmt *q, int64_t pid)
{
        sqlite3_bind_int64(q, 1, pid);
        int rc = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1 ? 0 : -1;
        sqlite3_reset(q);
        return rc;
}

/*
 * IMPL_POPID_STMT is popid without read snapshots: every lookup its own read transaction, as a
 * caller that never calls store_read_begin gets. The other implementations group --snapshot
 * lookups per read transaction (popid through store_read_begin, the raw peers through BEGIN).
 */
enum impl { IMPL_POPID, IMPL_RAW, IMPL_KEY, IMPL_POPID_STMT, N_IMPL };

static const char *const impl_label[N_IMPL] = {
    [IMPL_POPID] = "popid store_person_get",
    [IMPL_RAW] = "raw SQLite, all columns",
    [IMPL_KEY] = "raw SQLite, key only",
    [IMPL_POPID_STMT] = "popid, no snapshot",
};
static const char *const impl_id[N_IMPL] = {
    [IMPL_POPID] = "popid",
    [IMPL_RAW] = "sqlite-raw",
    [IMPL_KEY] = "sqlite-key-only",
    [IMPL_POPID_STMT] = "popid-no-snapshot",
};

/* One connection of one implementation; used by one thread at a time. */
struct conn {
        enum impl impl;
        struct store *st;
        sqlite3 *db;
        sqlite3_stmt *q;
        sqlite3_stmt *begin, *commit;
};

static int64_t snapshot_len = 256; /* lookups per read snapshot (--snapshot) */

static void conn_open(struct conn *c, const char *path, enum impl impl)
{
        memset(c, 0, sizeof *c);
        c->impl = impl;
        if (impl == IMPL_POPID || impl == IMPL_POPID_STMT) {
                struct pop_err err = {0};
                if (store_open(path, 0, &c->st, &err))
                        die("store_open %s: %s", path, err.msg);
                return;
        }
        /* The store's own open flags and pragmas, so both read through the same cache and mmap. */
        int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
        if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK ||
            sqlite3_exec(c->db,
                         "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                         " PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;"
                         " PRAGMA mmap_size = 1073741824;",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v3(
                c->db, impl == IMPL_RAW ? PERSON_SELECT : "SELECT 1 FROM person WHERE pid = ?1", -1,
                SQLITE_PREPARE_PERSISTENT, &c->q, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(c->db, "BEGIN", -1, &c->begin, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(c->db, "COMMIT", -1, &c->commit, NULL) != SQLITE_OK)
                die("%s: %s", path, sqlite3_errmsg(c->db));
}

static void conn_close(struct conn *c)
{
        store_close(c->st);
        sqlite3_finalize(c->q);
        sqlite3_finalize(c->begin);
        sqlite3_finalize(c->commit);
        sqlite3_close(c->db);
}

/* Ends the connection's read snapshot, if any, and starts a new one. */
static void snapshot_renew(struct conn *c)
{
        if (c->st) {
                struct pop_err err = {0};
                store_read_end(c->st);
                if (store_read_begin(c->st, &err))
                        die("store_read_begin: %s", err.msg);
                return;
        }
        if (!sqlite3_get_autocommit(c->db) &&
            (sqlite3_step(c->commit) != SQLITE_DONE || sqlite3_reset(c->commit) != SQLITE_OK))
                die("COMMIT: %s", sqlite3_errmsg(c->db));
        if (sqlite3_step(c->begin) != SQLITE_DONE || sqlite3_reset(c->begin) != SQLITE_OK)
                die("BEGIN: %s", sqlite3_errmsg(c->db));
}

static void snapshot_end(struct conn *c)
{
        if (c->st)
                store_read_end(c->st);
        else if (!sqlite3_get_autocommit(c->db) &&
                 (sqlite3_step(c->commit) != SQLITE_DONE || sqlite3_reset(c->commit) != SQLITE_OK))
                die("COMMIT: %s", sqlite3_errmsg(c->db));
}

/* Looks up n keys; returns a checksum of what was read so nothing can be optimized away. */
static uint64_t conn_run(struct conn *c, const int64_t *keys, int64_t n)
{
        uint64_t sum = 0;
        struct person p;
        struct pop_err err = {0};
        for (int64_t i = 0; i < n; i++) {
                int rc;
                if (i % snapshot_len == 0 && c->impl != IMPL_POPID_STMT)
                        snapshot_renew(c);
                switch (c->impl) {
                case IMPL_POPID:
                case IMPL_POPID_STMT:
                        rc = store_person_get(c->st, keys[i], &p, &err);
                        sum += (uint64_t)p.pid + (uint64_t)p.dob.y + (unsigned char)p.full_name[0];
                        break;
                case IMPL_RAW:
                        rc = raw_person_get(c->q, keys[i], &p);
                        sum += (uint64_t)p.pid + (uint64_t)p.dob.y + (unsigned char)p.full_name[0];
                        break;
                default:
                        rc = raw_key_only(c->q, keys[i]);
                        sum += (uint64_t)keys[i];
                        break;
                }
                if (rc)
                        die("%s: lookup of %" PRId64 " failed (%d: %s)", impl_id[c->impl], keys[i],
                            rc, err.msg);
        }
        snapshot_end(c);
        return sum;
}

struct worker {
        struct conn *c;
        const int64_t *keys;
        int64_t n;
        pthread_barrier_t *start;
        double t0, t1;
        uint64_t sum;
};

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        pthread_barrier_wait(w->start);
        w->t0 = now_s();
        w->sum = conn_run(w->c, w->keys, w->n);
        w->t1 = now_s();
        return NULL;
}

/* Lookups per second of n_threads connections sharing n keys (each takes a slice). */
static double run_lookups(struct conn *cs, int n_threads, const int64_t *keys, int64_t n,
                          uint64_t *sum)
{
        if (n_threads == 1) {
                double t0 = now_s();
                *sum += conn_run(&cs[0], keys, n);
                return (double)n / (now_s() - t0);
        }
        struct worker w[MAX_THREADS];
        pthread_t th[MAX_THREADS];
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)n_threads);
        int64_t per = n / n_threads;
        for (int i = 0; i < n_threads; i++) {
                w[i] = (struct worker){&cs[i], keys + i * per, per, &start, 0, 0, 0};
                if (pthread_create(&th[i], NULL, worker_main, &w[i]))
                        die("pthread_create failed");
        }
        double t0 = 1e300, t1 = 0;
        for (int i = 0; i < n_threads; i++) {
                pthread_join(th[i], NULL);
                t0 = w[i].t0 < t0 ? w[i].t0 : t0;
                t1 = w[i].t1 > t1 ? w[i].t1 : t1;
                *sum += w[i].sum;
        }
        pthread_barrier_destroy(&start);
        return (double)(per * n_threads) / (t1 - t0);
}

/* ---- life events ---- */

/* Living citizens without a valid card, in a seeded random order (setup, not measured). */
static int64_t *pick_card_candidates(struct reg *r, const int64_t *pids, int64_t n_pids,
                                     int64_t want)
{
        int64_t *v = xcalloc((size_t)want, sizeof *v);
        uint64_t s = 0xca2d;
        int64_t have = 0;
        for (int64_t tries = 0; have < want && tries < 20 * n_pids; tries++) {
                int64_t pid = pids[rnd(&s, (uint32_t)n_pids)];
                struct person p;
                struct card c;
                struct pop_err err = {0};
                if (store_person_get(r->st, pid, &p, &err))
                        die("candidate %" PRId64 ": %s", pid, err.msg);
                if (p.status != PERSON_LIVING || strcmp(p.nationality, "VNM") != 0)
                        continue;
                int rc = store_card_current(r->st, pid, &c, &err);
                if (rc == 0)
                        continue;
                if (rc != POP_ENOTFOUND)
                        die("candidate %" PRId64 ": %s", pid, err.msg);
                int dup = 0;
                for (int64_t k = 0; k < have && !dup; k++)
                        dup = v[k] == pid;
                if (!dup)
                        v[have++] = pid;
        }
        if (have < want)
                die("only %" PRId64 " people without a card are left; rebuild the registry "
                    "(delete the database)",
                    have);
        return v;
}

/* Events per second of reg_event_apply over prepared card.issue events. */
static double run_events(struct reg *r, json_t **evs, int64_t n)
{
        struct reg_ctx ctx;
        reg_ctx_now(&ctx, "operator:bench");
        double t0 = now_s();
        for (int64_t i = 0; i < n; i++) {
                json_t *res = NULL;
                struct pop_err err = {0};
                if (reg_event_apply(r, &ctx, evs[i], &res, &err))
                        die("event %" PRId64 " refused: %s", i, err.msg);
                json_decref(res);
        }
        return (double)n / (now_s() - t0);
}

/* The fsync ceiling: single-row INSERT transactions with the store's durability pragmas. */
struct fsync_peer {
        sqlite3 *db;
        sqlite3_stmt *begin, *ins, *commit;
};

static void fsync_peer_open(struct fsync_peer *f, const char *path)
{
        remove_db(path);
        if (sqlite3_open_v2(path, &f->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            NULL) != SQLITE_OK ||
            sqlite3_exec(f->db,
                         "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                         " PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;"
                         " PRAGMA mmap_size = 1073741824;"
                         " CREATE TABLE t(id INTEGER PRIMARY KEY, payload TEXT NOT NULL);",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(f->db, "BEGIN IMMEDIATE", -1, &f->begin, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(f->db, "INSERT INTO t(payload) VALUES (?1)", -1, &f->ins, NULL) !=
                SQLITE_OK ||
            sqlite3_prepare_v2(f->db, "COMMIT", -1, &f->commit, NULL) != SQLITE_OK)
                die("%s: %s", path, sqlite3_errmsg(f->db));
}

static double run_fsync_peer(struct fsync_peer *f, int64_t n)
{
        static const char payload[] = "{\"date\":\"2026-01-01\",\"pid\":\"001090012345\","
                                      "\"type\":\"card.issue\"}";
        double t0 = now_s();
        for (int64_t i = 0; i < n; i++) {
                sqlite3_bind_text(f->ins, 1, payload, -1, SQLITE_STATIC);
                if (sqlite3_step(f->begin) != SQLITE_DONE || sqlite3_step(f->ins) != SQLITE_DONE ||
                    sqlite3_step(f->commit) != SQLITE_DONE)
                        die("fsync peer: %s", sqlite3_errmsg(f->db));
                sqlite3_reset(f->begin);
                sqlite3_reset(f->ins);
                sqlite3_reset(f->commit);
        }
        return (double)n / (now_s() - t0);
}

static void fsync_peer_close(struct fsync_peer *f, const char *path)
{
        sqlite3_finalize(f->begin);
        sqlite3_finalize(f->ins);
        sqlite3_finalize(f->commit);
        sqlite3_close(f->db);
        remove_db(path);
}

/* ---- output ---- */

struct row {
        const char *measure; /* "lookup", "event" */
        const char *impl;    /* stable id */
        const char *label;   /* human */
        int threads;
        int64_t ops; /* per run */
        int reps;
        struct stats st;
        const char *vs; /* the peer the ratio is taken against, or NULL */
        double ratio;
};

#define MAX_ROWS 16
static struct row rows[MAX_ROWS];
static int n_rows;

static struct row *add_row(const char *measure, const char *impl, const char *label, int threads,
                           int64_t ops, const double *v, int reps)
{
        if (n_rows == MAX_ROWS)
                die("too many rows");
        struct row *r = &rows[n_rows++];
        *r = (struct row){measure, impl, label, threads, ops, reps, summarize(v, reps), NULL, 0};
        return r;
}

static void fmt_rate(double v, char *out, size_t cap)
{
        long long n = (long long)(v + 0.5);
        char digits[32];
        snprintf(digits, sizeof digits, "%lld", n);
        size_t len = strlen(digits), o = 0;
        for (size_t i = 0; i < len && o + 2 < cap; i++) {
                if (i && (len - i) % 3 == 0)
                        out[o++] = ',';
                out[o++] = digits[i];
        }
        out[o] = '\0';
}

static void print_results(const struct opts *o, double build_s)
{
        char cpu[128] = "unknown";
        FILE *f = fopen("/proc/cpuinfo", "r");
        if (f) {
                char line[256];
                while (fgets(line, sizeof line, f))
                        if (strncmp(line, "model name", 10) == 0) {
                                char *c = strchr(line, ':');
                                if (c) {
                                        snprintf(cpu, sizeof cpu, "%s", c + 2);
                                        cpu[strcspn(cpu, "\n")] = '\0';
                                }
                                break;
                        }
                fclose(f);
        }
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        printf("\npopid registry benchmark: %" PRId64 " people (%s), SQLite %s, %ld CPUs (%s)\n"
               "lookups in read snapshots of %" PRId64
               " (store_read_begin), except the no-snapshot "
               "row\n",
               o->people, o->db, sqlite3_libversion(), ncpu, cpu, snapshot_len);
        if (build_s >= 0)
                printf("build: %" PRId64 " people through store_person_insert in %.1f s (%.0f/s)\n",
                       o->people, build_s, (double)o->people / build_s);
        printf("\n%-7s %-28s %7s %10s %12s %12s %12s %9s  %s\n", "measure", "implementation",
               "threads", "ops/run", "median/s", "min/s", "max/s", "us/op", "ratio");
        for (int i = 0; i < n_rows; i++) {
                const struct row *r = &rows[i];
                char med[32], mn[32], mx[32], ratio[64] = "";
                fmt_rate(r->st.median, med, sizeof med);
                fmt_rate(r->st.min, mn, sizeof mn);
                fmt_rate(r->st.max, mx, sizeof mx);
                if (r->vs)
                        snprintf(ratio, sizeof ratio, "%.2f of %s", r->ratio, r->vs);
                printf("%-7s %-28s %7d %10" PRId64 " %12s %12s %12s %9.2f  %s\n", r->measure,
                       r->label, r->threads, r->ops, med, mn, mx, 1e6 * r->threads / r->st.median,
                       ratio);
        }
        for (int i = 0; i < n_rows; i++)
                if (!strcmp(rows[i].measure, "lookup") && !strcmp(rows[i].impl, "popid") &&
                    rows[i].threads == 1)
                        printf(
                            "\ntarget: 500,000 lookups/s per core on 1M people: %s (median %.0f/s "
                            "on one thread)\n",
                            rows[i].st.median >= 500000 ? "met" : "NOT met", rows[i].st.median);
        printf("\n");

        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char date[32];
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (build_s >= 0)
                printf("{\"bench\":\"registry\",\"measure\":\"build\",\"people\":%" PRId64
                       ",\"seconds\":%.2f,\"per_s\":%.0f,\"date\":\"%s\"}\n",
                       o->people, build_s, (double)o->people / build_s, date);
        for (int i = 0; i < n_rows; i++) {
                const struct row *r = &rows[i];
                printf("{\"bench\":\"registry\",\"measure\":\"%s\",\"impl\":\"%s\",\"threads\":%d,"
                       "\"people\":%" PRId64 ",\"ops\":%" PRId64
                       ",\"reps\":%d,\"median_per_s\":%.0f,"
                       "\"min_per_s\":%.0f,\"max_per_s\":%.0f",
                       r->measure, r->impl, r->threads, o->people, r->ops, r->reps, r->st.median,
                       r->st.min, r->st.max);
                if (r->vs)
                        printf(",\"vs\":\"%s\",\"ratio\":%.3f", r->vs, r->ratio);
                if (!strcmp(r->measure, "lookup"))
                        printf(",\"snapshot\":%" PRId64,
                               strcmp(r->impl, "popid-no-snapshot") ? snapshot_len : 1);
                printf(",\"cpus\":%ld,\"sqlite\":\"%s\",\"date\":\"%s\"}\n", ncpu,
                       sqlite3_libversion(), date);
        }
}

/* ---- main ---- */

static void usage(void)
{
        fprintf(stderr,
                "usage: bench_registry [--db PATH] [--people N] [--lookups K] [--events E]\n"
                "                      [--reps R] [--event-reps R] [--threads T] [--snapshot K]\n"
                "defaults: --db bench/out/registry-1m.db --people 1000000 --lookups 2000000\n"
                "          --events 2000 --reps 5 --event-reps 3 --threads 2 --snapshot 256\n"
                "(--snapshot: lookups per read snapshot for all but the no-snapshot row)\n");
        exit(2);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
        *o = (struct opts){"bench/out/registry-1m.db", 1000000, 2000000, 2000, 5, 3, 2};
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "-h") || !strcmp(a, "--help"))
                        usage();
                if (i + 1 >= argc)
                        usage();
                const char *v = argv[++i];
                if (!strcmp(a, "--db"))
                        o->db = v;
                else if (!strcmp(a, "--people"))
                        o->people = parse_count(a, v);
                else if (!strcmp(a, "--lookups"))
                        o->lookups = parse_count(a, v);
                else if (!strcmp(a, "--events"))
                        o->events = parse_count(a, v);
                else if (!strcmp(a, "--reps"))
                        o->reps = (int)parse_count(a, v);
                else if (!strcmp(a, "--event-reps"))
                        o->event_reps = (int)parse_count(a, v);
                else if (!strcmp(a, "--threads"))
                        o->threads = (int)parse_count(a, v);
                else if (!strcmp(a, "--snapshot"))
                        snapshot_len = parse_count(a, v);
                else
                        usage();
        }
        if (o->reps > MAX_REPS || o->event_reps > MAX_REPS)
                die("at most %d repetitions", MAX_REPS);
        if (o->threads > MAX_THREADS)
                die("at most %d threads", MAX_THREADS);
        if (o->people > 4000000000LL)
                die("--people: at most 4,000,000,000");
}

static void bench_lookups(const struct opts *o, const int64_t *pids)
{
        int64_t k = o->lookups;
        int64_t *keys = xcalloc((size_t)k, sizeof *keys);
        uint64_t s = 0x10c4;
        for (int64_t i = 0; i < k; i++)
                keys[i] = pids[rnd(&s, (uint32_t)o->people)];
        uint64_t sum = 0;

        /* One thread: the three implementations interleaved within each repetition. */
        struct conn c[N_IMPL];
        double v[N_IMPL][MAX_REPS];
        int64_t warm = k < o->people ? k : o->people;
        for (int m = 0; m < N_IMPL; m++) {
                conn_open(&c[m], o->db, (enum impl)m);
                sum += conn_run(&c[m], keys, warm); /* page cache and statements warm */
        }
        for (int rep = 0; rep < o->reps; rep++)
                for (int m = 0; m < N_IMPL; m++) {
                        v[m][rep] = run_lookups(&c[m], 1, keys, k, &sum);
                        fprintf(stderr, "lookup rep %d %-24s %10.0f/s\n", rep + 1, impl_label[m],
                                v[m][rep]);
                }
        for (int m = 0; m < N_IMPL; m++)
                conn_close(&c[m]);
        struct row *mine = add_row("lookup", impl_id[IMPL_POPID], impl_label[IMPL_POPID], 1, k,
                                   v[IMPL_POPID], o->reps);
        struct row *raw =
            add_row("lookup", impl_id[IMPL_RAW], impl_label[IMPL_RAW], 1, k, v[IMPL_RAW], o->reps);
        struct row *key =
            add_row("lookup", impl_id[IMPL_KEY], impl_label[IMPL_KEY], 1, k, v[IMPL_KEY], o->reps);
        mine->vs = impl_id[IMPL_RAW];
        mine->ratio = mine->st.median / raw->st.median;
        raw->vs = impl_id[IMPL_KEY];
        raw->ratio = raw->st.median / key->st.median;
        struct row *stmt = add_row("lookup", impl_id[IMPL_POPID_STMT], impl_label[IMPL_POPID_STMT],
                                   1, k, v[IMPL_POPID_STMT], o->reps);
        stmt->vs = impl_id[IMPL_POPID];
        stmt->ratio = stmt->st.median / mine->st.median;

        /* Several threads, one connection each: the aggregate of popid and of the raw peer. */
        if (o->threads > 1) {
                struct conn tc[2][MAX_THREADS];
                double tv[2][MAX_REPS];
                for (int m = 0; m < 2; m++)
                        for (int t = 0; t < o->threads; t++) {
                                conn_open(&tc[m][t], o->db, (enum impl)m);
                                sum += conn_run(&tc[m][t], keys, 1000);
                        }
                for (int rep = 0; rep < o->reps; rep++)
                        for (int m = 0; m < 2; m++) {
                                tv[m][rep] = run_lookups(tc[m], o->threads, keys, k, &sum);
                                fprintf(stderr, "lookup rep %d %-24s x%d %10.0f/s\n", rep + 1,
                                        impl_label[m], o->threads, tv[m][rep]);
                        }
                for (int m = 0; m < 2; m++)
                        for (int t = 0; t < o->threads; t++)
                                conn_close(&tc[m][t]);
                struct row *tm =
                    add_row("lookup", impl_id[IMPL_POPID], impl_label[IMPL_POPID], o->threads,
                            k / o->threads * o->threads, tv[IMPL_POPID], o->reps);
                struct row *tr =
                    add_row("lookup", impl_id[IMPL_RAW], impl_label[IMPL_RAW], o->threads,
                            k / o->threads * o->threads, tv[IMPL_RAW], o->reps);
                tm->vs = impl_id[IMPL_RAW];
                tm->ratio = tm->st.median / tr->st.median;
        }
        fprintf(stderr, "lookup checksum %" PRIx64 "\n", sum);
        free(keys);
}

static void bench_events(const struct opts *o, const int64_t *pids)
{
        struct reg *r = NULL;
        struct pop_err err = {0};
        if (reg_open(o->db, &r, &err))
                die("reg_open %s: %s", o->db, err.msg);
        int64_t e = o->events, total = e * o->event_reps;
        int64_t *who = pick_card_candidates(r, pids, o->people, total);
        json_t **evs = xcalloc((size_t)total, sizeof *evs);
        for (int64_t i = 0; i < total; i++) {
                char pid[PID_LEN + 1];
                pid_from_int(who[i], pid);
                evs[i] = json_pack("{s:s, s:s}", "type", "card.issue", "pid", pid);
                if (!evs[i])
                        die("out of memory");
        }
        char peer_path[4096];
        snprintf(peer_path, sizeof peer_path, "%s.fsync-peer", o->db);
        struct fsync_peer f;
        fsync_peer_open(&f, peer_path);

        double v[2][MAX_REPS];
        for (int rep = 0; rep < o->event_reps; rep++) {
                v[0][rep] = run_events(r, evs + rep * e, e);
                v[1][rep] = run_fsync_peer(&f, e);
                fprintf(stderr, "event rep %d: popid %.0f/s, fsync peer %.0f/s\n", rep + 1,
                        v[0][rep], v[1][rep]);
        }
        fsync_peer_close(&f, peer_path);
        reg_close(r);
        for (int64_t i = 0; i < total; i++)
                json_decref(evs[i]);
        free(evs);
        free(who);

        struct row *mine = add_row("event", "popid-card.issue", "popid reg_event_apply card.issue",
                                   1, e, v[0], o->event_reps);
        add_row("event", "sqlite-insert-txn", "raw SQLite 1-row INSERT txn", 1, e, v[1],
                o->event_reps);
        mine->vs = "sqlite-insert-txn";
        mine->ratio = mine->st.median / rows[n_rows - 1].st.median;
}

int main(int argc, char **argv)
{
        struct opts o;
        parse_args(argc, argv, &o);
        double build_s;
        int64_t *pids = registry_prepare(&o, &build_s);
        bench_lookups(&o, pids);
        bench_events(&o, pids);
        print_results(&o, build_s);
        free(pids);
        return 0;
}
