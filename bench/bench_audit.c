/*
 * Benchmark of the audit log's group commit: T threads (1, 8, 64 by default) call audit_log as
 * fast as they can, each call returning only once its entry is durable, against the fsync
 * ceiling measured in the same run on the same disk (a loop of one-row INSERT transactions with
 * the store's pragmas: WAL, synchronous=FULL). With one thread the log can at best match the
 * ceiling (one commit per entry); with many, one commit carries a batch, so entries/s should
 * grow with the mean batch size until the CPU, not the disk, is the limit.
 *
 * Each run opens a fresh audit handle on one database (the log grows across runs, as in
 * production), logs --entries entries split over the threads, and reports entries/s, the mean
 * batch (entries per commit) and the latency of audit_log (median and p99). Runs of the ceiling
 * and of each thread count are interleaved so the noise of a shared machine falls on all;
 * figures are medians of --reps runs. Prints a table, then one JSON line per measurement
 * (lines starting with '{', for docs/BENCHMARKS.md). bench/run.sh audit drives it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "store/store.h"

#define BENCH_NAME "bench_audit"
#include "bench_util.h"

#define MAX_THREADS 256
#define MAX_COUNTS  8
#define MAX_REPS    31

struct opts {
        const char *dir;
        int64_t entries;
        int64_t ceiling;
        int reps;
        int counts[MAX_COUNTS];
        int n_counts;
};

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void remove_db(const char *path)
{
        char p[1200];
        const char *sfx[] = {"",           "-wal",       "-shm",      ".audit",
                             ".audit-wal", ".audit-shm", ".audit.key"};
        for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
                snprintf(p, sizeof p, "%s%s", path, sfx[i]);
                unlink(p);
        }
}

/* ---- the ceiling ---- */

/* One-row INSERT transactions with the store's durability pragmas: one fsync'd commit each. */
struct ceiling {
        sqlite3 *db;
        sqlite3_stmt *begin, *ins, *commit;
};

static double run_ceiling(struct ceiling *c, int64_t n)
{
        static const char payload[] = "client:bank-abc|001090012345|person.read|dob,full_name";
        double t0 = now_s();
        for (int64_t i = 0; i < n; i++) {
                sqlite3_bind_text(c->ins, 1, payload, -1, SQLITE_STATIC);
                if (sqlite3_step(c->begin) != SQLITE_DONE || sqlite3_step(c->ins) != SQLITE_DONE ||
                    sqlite3_step(c->commit) != SQLITE_DONE)
                        die("ceiling: %s", sqlite3_errmsg(c->db));
                sqlite3_reset(c->begin);
                sqlite3_reset(c->ins);
                sqlite3_reset(c->commit);
        }
        return (double)n / (now_s() - t0);
}

/* Opens the ceiling's database and warms it up: a WAL that still grows costs more per fsync
 * (the file size changes), and the audit log's WAL is warm after its first run. */
static void ceiling_open(struct ceiling *c, const char *path, int64_t warm)
{
        remove_db(path);
        if (sqlite3_open_v2(path, &c->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            NULL) != SQLITE_OK ||
            sqlite3_exec(c->db,
                         "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                         " CREATE TABLE t(id INTEGER PRIMARY KEY, payload TEXT NOT NULL);",
                         NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(c->db, "BEGIN IMMEDIATE", -1, &c->begin, NULL) != SQLITE_OK ||
            sqlite3_prepare_v2(c->db, "INSERT INTO t(payload) VALUES (?1)", -1, &c->ins, NULL) !=
                SQLITE_OK ||
            sqlite3_prepare_v2(c->db, "COMMIT", -1, &c->commit, NULL) != SQLITE_OK)
                die("%s: %s", path, sqlite3_errmsg(c->db));
        (void)run_ceiling(c, warm);
}

static void ceiling_close(struct ceiling *c, const char *path)
{
        sqlite3_finalize(c->begin);
        sqlite3_finalize(c->ins);
        sqlite3_finalize(c->commit);
        sqlite3_close(c->db);
        remove_db(path);
}

/* ---- group commit ---- */

struct worker {
        struct audit *a;
        int id;
        int64_t n;
        double *lat; /* seconds per call */
        int failures;
        pthread_barrier_t *start;
};

static void *worker_main(void *arg)
{
        static const char *const actors[] = {"client:bank-abc", "client:telco-viettel",
                                             "client:moh-insurance", "operator:clerk@office"};
        static const char *const fields[] = {"dob,full_name", "dob,full_name,residence",
                                             "full_name,pid", "address,household,members.pid"};
        struct worker *w = arg;
        uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(w->id + 1);
        char reqid[32];
        pthread_barrier_wait(w->start);
        for (int64_t i = 0; i < w->n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                snprintf(reqid, sizeof reqid, "r-%d-%" PRId64, w->id, i);
                struct audit_entry e = {.actor = actors[x % 4],
                                        .subject = 1000000000LL + (int64_t)(x % 90000000000ULL),
                                        .action = "person.read",
                                        .fields = fields[(x >> 8) % 4],
                                        .purpose = "eKYC for account opening",
                                        .outcome = "ok",
                                        .request_id = reqid};
                struct pop_err err = {0};
                double t0 = now_s();
                if (audit_log(w->a, &e, NULL, &err) != 0)
                        w->failures++;
                w->lat[i] = now_s() - t0;
        }
        return NULL;
}

struct result {
        double rate, batch, commits, p50_us, p99_us;
};

static struct result run_group(const char *uri, const char *key, int threads, int64_t entries)
{
        struct audit *a = NULL;
        struct pop_err err = {0};
        if (audit_open(uri, key, NULL, &a, &err) != 0)
                die("audit_open: %s", err.msg);
        struct worker w[MAX_THREADS];
        pthread_t t[MAX_THREADS];
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
        int64_t per = entries / threads, total = per * threads;
        double *lat = calloc((size_t)total, sizeof *lat);
        if (!lat)
                die("out of memory");
        for (int i = 0; i < threads; i++) {
                w[i] = (struct worker){.a = a,
                                       .id = i,
                                       .n = per,
                                       .lat = lat + (size_t)i * (size_t)per,
                                       .start = &start};
                if (pthread_create(&t[i], NULL, worker_main, &w[i]) != 0)
                        die("pthread_create");
        }
        pthread_barrier_wait(&start);
        double t0 = now_s();
        for (int i = 0; i < threads; i++)
                pthread_join(t[i], NULL);
        double dt = now_s() - t0;
        struct audit_stats st;
        audit_get_stats(a, &st);
        if (audit_close(a, &err) != 0)
                die("audit_close: %s", err.msg);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < threads; i++)
                if (w[i].failures)
                        die("%d audit_log calls failed", w[i].failures);
        qsort(lat, (size_t)total, sizeof *lat, cmp_double);
        struct result r = {.rate = (double)total / dt,
                           .batch = st.batches ? (double)st.entries / (double)st.batches : 0,
                           .commits = (double)st.batches / dt,
                           .p50_us = lat[total / 2] * 1e6,
                           .p99_us = lat[(size_t)((double)total * 0.99)] * 1e6};
        free(lat);
        return r;
}

static void usage(void)
{
        fprintf(stderr, "usage: bench_audit [--dir DIR] [--entries N] [--threads 1,8,64] "
                        "[--reps R] [--ceiling N]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        struct opts o = {.dir = "bench/out", .entries = 50000, .ceiling = 1000, .reps = 7};
        const char *threads = "1,8,64";
        for (int i = 1; i < argc; i++) {
                if (i + 1 >= argc)
                        usage();
                const char *f = argv[i], *v = argv[++i];
                if (!strcmp(f, "--dir"))
                        o.dir = v;
                else if (!strcmp(f, "--entries"))
                        o.entries = parse_count(f, v);
                else if (!strcmp(f, "--ceiling"))
                        o.ceiling = parse_count(f, v);
                else if (!strcmp(f, "--reps"))
                        o.reps = (int)parse_count(f, v);
                else if (!strcmp(f, "--threads"))
                        threads = v;
                else
                        usage();
        }
        if (o.reps > MAX_REPS)
                die("--reps: at most %d", MAX_REPS);
        for (const char *p = threads; *p && o.n_counts < MAX_COUNTS;) {
                char *end;
                long n = strtol(p, &end, 10);
                if (end == p || n < 1 || n > MAX_THREADS)
                        die("--threads: a list like 1,8,64 (each 1..%d)", MAX_THREADS);
                o.counts[o.n_counts++] = (int)n;
                p = *end == ',' ? end + 1 : end;
                if (*end && *end != ',')
                        die("--threads: a list like 1,8,64");
        }

        char db[1024], key[1100], ceil_db[1100];
        snprintf(db, sizeof db, "%s/bench_audit.db", o.dir);
        snprintf(key, sizeof key, "%s.audit.key", db);
        snprintf(ceil_db, sizeof ceil_db, "%s/bench_audit_ceiling.db", o.dir);
        remove_db(db);
        struct store *st = NULL;
        struct pop_err err = {0};
        if (store_open(db, 1, &st, &err) != 0)
                die("%s: %s", db, err.msg);
        store_close(st);

        struct ceiling cl;
        ceiling_open(&cl, ceil_db, o.ceiling / 4 + 1);
        /* The same warm-up for the log's database. */
        (void)run_group(db, key, 1, o.ceiling / 4 + 1);
        double ceil_v[MAX_REPS];
        static double rate[MAX_COUNTS][MAX_REPS], batch[MAX_COUNTS][MAX_REPS],
            commits[MAX_COUNTS][MAX_REPS], ratio[MAX_COUNTS][MAX_REPS], p50[MAX_COUNTS][MAX_REPS],
            p99[MAX_COUNTS][MAX_REPS];
        int64_t n_of[MAX_COUNTS];
        for (int c = 0; c < o.n_counts; c++) {
                /* A run of T threads cannot beat T/2 entries per commit or so: size it to take
                 * about as long as the ceiling's run. */
                n_of[c] = o.ceiling * o.counts[c];
                if (n_of[c] > o.entries)
                        n_of[c] = o.entries;
        }
        for (int rep = 0; rep < o.reps; rep++) {
                ceil_v[rep] = run_ceiling(&cl, o.ceiling);
                fprintf(stderr, "rep %d: ceiling %.0f commits/s", rep + 1, ceil_v[rep]);
                for (int c = 0; c < o.n_counts; c++) {
                        struct result r = run_group(db, key, o.counts[c], n_of[c]);
                        rate[c][rep] = r.rate;
                        batch[c][rep] = r.batch;
                        commits[c][rep] = r.commits;
                        /* Against the ceiling of the same rep: the disk's speed drifts. */
                        ratio[c][rep] = r.rate / ceil_v[rep];
                        p50[c][rep] = r.p50_us;
                        p99[c][rep] = r.p99_us;
                        fprintf(stderr, ", %d threads %.0f/s (batch %.1f)", o.counts[c], r.rate,
                                r.batch);
                }
                fputc('\n', stderr);
        }
        ceiling_close(&cl, ceil_db);
        /* The log must still verify after all of that: in its own file, <db>.audit (the
         * registry's file holds no entries since the log moved there). */
        struct audit_verify_result vr;
        if (audit_store_open(db, &st, &err) != 0 || audit_verify(st, NULL, &vr, &err) != 0)
                die("the log does not verify: %s", err.msg);
        store_close(st);

        double ceiling = median(ceil_v, o.reps);
        printf("\n%-32s %7s %10s %9s %7s %9s %8s %8s %8s\n", "implementation", "threads",
               "entries/s", "commits/s", "batch", "x ceiling", "p50 us", "p99 us", "entries");
        printf("%-32s %7d %10.0f %9.0f %7s %9s %8s %8s %8" PRId64 "\n",
               "raw SQLite 1-row INSERT txn", 1, ceiling, ceiling, "1.0", "1.00", "", "",
               o.ceiling);
        for (int c = 0; c < o.n_counts; c++)
                printf("%-32s %7d %10.0f %9.0f %7.1f %9.2f %8.0f %8.0f %8" PRId64 "\n",
                       "popid audit_log (group commit)", o.counts[c], median(rate[c], o.reps),
                       median(commits[c], o.reps), median(batch[c], o.reps),
                       median(ratio[c], o.reps), median(p50[c], o.reps), median(p99[c], o.reps),
                       n_of[c]);
        printf("(medians of %d reps; x ceiling is the median of per-rep ratios; log verified: "
               "%" PRId64 " entries, %" PRId64 " checkpoints)\n\n",
               o.reps, vr.entries, vr.checkpoints);
        qsort(ceil_v, (size_t)o.reps, sizeof ceil_v[0], cmp_double);
        printf("{\"bench\":\"audit\",\"impl\":\"raw-insert-txn\",\"threads\":1,\"reps\":%d,"
               "\"median_per_s\":%.0f,\"min_per_s\":%.0f,\"max_per_s\":%.0f}\n",
               o.reps, ceiling, ceil_v[0], ceil_v[o.reps - 1]);
        for (int c = 0; c < o.n_counts; c++) {
                double m = median(rate[c], o.reps);
                printf("{\"bench\":\"audit\",\"impl\":\"audit_log\",\"threads\":%d,\"entries\":"
                       "%" PRId64 ",\"reps\":%d,\"median_per_s\":%.0f,\"min_per_s\":%.0f,"
                       "\"max_per_s\":%.0f,\"commits_per_s\":%.0f,\"mean_batch\":%.1f,"
                       "\"ratio_to_ceiling\":%.2f,\"p50_us\":%.0f,\"p99_us\":%.0f}\n",
                       o.counts[c], n_of[c], o.reps, m, rate[c][0], rate[c][o.reps - 1],
                       median(commits[c], o.reps), median(batch[c], o.reps),
                       median(ratio[c], o.reps), median(p50[c], o.reps), median(p99[c], o.reps));
        }
        remove_db(db);
        return 0;
}
