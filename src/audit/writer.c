/*
 * The audit log's writer: group commit. Callers queue a request (one or more entries, copied,
 * with a callback) and return at once (audit_log_async); one writer thread, with its own store
 * connection, takes everything queued (whole requests, up to max_batch entries), appends it in
 * one transaction with the chain hashes, adds a signed checkpoint when one is due, commits
 * (synchronous=FULL: one fsync for the whole batch) and then calls every request's callback with
 * the outcome. While a batch commits the next one gathers, so under load one fsync serves
 * however many requests arrived meanwhile: the batch grows with the load, because no caller
 * thread is held while it waits. audit_log and audit_log_many wait on their own callback.
 *
 * The queue is bounded by memory only: past max_queue entries a new request is refused with
 * POP_EAGAIN (rule audit-busy) rather than letting it grow without end.
 *
 * The chain's head is read from the store inside each write transaction, so two processes on one
 * database (the server and a CLI command) extend one chain: the transaction's write lock orders
 * them. A failed batch is rolled back whole and every request in it gets the error: nothing of it
 * is stored, and the next batch chains from the unchanged head.
 *
 * After calling a batch back, the writer brings the subject index up when 4096 entries are
 * pending (store_audit_index), and when 1,000 pages were added to the write-ahead log since the
 * last time it wakes the checkpointer, a second thread with its own connection that copies the
 * log back into the database (a PASSIVE checkpoint: it takes no write lock, so the writer's
 * commits go on meanwhile); the few pages committed during that pass it copies itself, so the
 * log starts over. No commit that requests wait for includes a checkpoint.
 *
 * Locking: `mu` guards the queue, the flags and the stats; the writer holds it only to take a
 * batch and to count the results, never during store I/O nor while it runs callbacks.
 */
#include "audit/audit_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CHECKPOINT_EVERY 1000
#define DEFAULT_CHECKPOINT_MS    60000
#define DEFAULT_MAX_BATCH        4096
#define DEFAULT_MAX_QUEUE        65536
/* Pages written to the write-ahead log since the checkpointer was last woken before it is woken
 * again. Counted since the last wake, not in the whole log: while the writer commits the log
 * never empties, and a threshold on its size woke the checkpointer after every batch (two
 * fsyncs each, ~14% of the server's CPU in the API benchmark). */
#define AUDIT_WAL_PAGES 1000
/* After a pass of the checkpointer, the pages committed during it are left in the log. At most
 * AUDIT_WAL_FINISH of them: the writer copies them itself, between two batches, so that its next
 * transaction starts the log over (SQLite rewinds a log copied whole: the file is rewritten in
 * place instead of growing without end, ~160 MB under load, and an fdatasync of blocks already
 * allocated costs less, docs/BENCHMARKS.md). More: another pass, up to AUDIT_WAL_PASSES. */
#define AUDIT_WAL_FINISH 128
#define AUDIT_WAL_PASSES 3
/* Entries handed to the store per call in a group commit. */
#define WRITE_ROWS 64
/* Entries the subject index may lag by before the writer indexes them, and at most per go: an
 * indexing transaction writes each page of the newest bucket (audit migration 3: 65,536 seqs,
 * a few hundred pages) at most once, so more entries per go write fewer pages per entry; the
 * access log reads the entries past the index by seq (a few thousand rows). */
#define AUDIT_INDEX_CHUNK 4096

/* One entry as queued: canonical, its strings in the request's block. */
struct qentry {
        const char *actor, *action, *fields, *purpose, *outcome, *rule, *request_id;
        int64_t time_ms;
        int64_t subject;
        int64_t seq;
};

/* A caller's request: n entries and whom to tell. One allocation (entries, then the strings),
 * the writer's from audit_log_async's return until after the callback. */
struct request {
        struct request *next;
        audit_done_fn *cb;
        void *ctx;
        size_t n;
        int64_t *seqs; /* n, for the callback */
        struct qentry e[];
};

struct audit {
        pthread_mutex_t mu;
        pthread_cond_t work; /* the writer waits for entries (CLOCK_MONOTONIC timeouts) */
        struct request *head, *tail;
        size_t depth; /* entries queued or being written */
        bool stopping;
        bool paused;   /* test hook */
        int fault_arm; /* test hook: arm the writer's store before its next batch */
        struct audit_stats stats;
        int64_t wal_restarts; /* test hook: the log seen starting over */
        int64_t wal_passes;   /* test hook: the checkpointer's passes */
        int close_rc;
        struct pop_err close_err;

        /* Set at open; then the writer thread's alone until it is joined. */
        struct audit_opts opts;
        struct store *st;
        uint8_t sk[AUDIT__SK_BYTES];
        int64_t head_seq;     /* the head after this handle's last commit, as seen then */
        int64_t last_cp_seq;  /* the last checkpoint, as seen at the last commit */
        int64_t last_cp_mono; /* monotonic ms of that checkpoint (or of the open) */
        int64_t unindexed;    /* entries committed since the subject index was brought up */
        int wal_mark;         /* the log's pages when the checkpointer was last woken */
        int cp_passes;        /* passes since then that left too much for the writer */
        int wal_last;         /* the log's pages after the previous batch */
        pthread_t thread;

        /* The checkpointer: a thread with a connection of its own copies the log back into the
         * database when the writer says so (cp_want, under mu), concurrently with the writer's
         * commits (a PASSIVE checkpoint takes no write lock). */
        struct store *cp_st;
        pthread_t cp_thread;
        pthread_cond_t cp_cv;
        bool cp_want, cp_busy, cp_stop, cp_started;
        bool cp_done; /* a pass ended: what was committed during it is left */
};

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether a checkpoint is due after entries up to seq. */
static bool checkpoint_due(const struct audit *a, int64_t seq, bool force)
{
        if (seq <= a->last_cp_seq)
                return false;
        return force || seq - a->last_cp_seq >= a->opts.checkpoint_every ||
               mono_ms() - a->last_cp_mono >= a->opts.checkpoint_interval_ms;
}

/*
 * One transaction: the entries of the requests of list (may be NULL), then a checkpoint when
 * due (always when force and there are unsealed entries). Sets each entry's seq. Runs on the
 * writer thread.
 */
static int write_batch(struct audit *a, struct request *list, bool force, bool *checkpointed,
                       struct pop_err *err)
{
        struct store *st = a->st;
        int64_t seq;
        uint8_t prev[AUDIT_HASH_BYTES];
        struct store_audit_checkpoint cp;
        *checkpointed = false;
        int rc = store_begin(st, err);
        if (rc)
                return rc;
        /* Under the write lock: the true head, and the last checkpoint, whoever wrote them. */
        if ((rc = store_audit_last(st, &seq, prev, err)))
                goto fail;
        rc = store_checkpoint_last(st, &cp, err);
        if (rc == 0 && cp.seq > a->last_cp_seq)
                a->last_cp_seq = cp.seq;
        else if (rc && rc != POP_ENOTFOUND)
                goto fail;
        /* Entries go to the store WRITE_ROWS at a time (store_audit_append_many). */
        struct store_audit_entry rows[WRITE_ROWS];
        size_t nrows = 0;
        for (struct request *r = list; r; r = r->next) {
                for (size_t i = 0; i < r->n; i++) {
                        struct qentry *q = &r->e[i];
                        struct store_audit_entry *e = &rows[nrows++];
                        *e = (struct store_audit_entry){
                            .seq = ++seq,
                            .time_ms = q->time_ms,
                            .actor = q->actor,
                            .subject = q->subject,
                            .action = q->action,
                            .fields = q->fields,
                            .purpose = q->purpose,
                            .outcome = q->outcome,
                            .rule = q->rule,
                            .request_id = q->request_id,
                        };
                        audit__chain(prev, e, e->hash);
                        memcpy(prev, e->hash, sizeof prev);
                        q->seq = e->seq;
                        if (nrows == WRITE_ROWS) {
                                if ((rc = store_audit_append_many(st, rows, nrows, err)))
                                        goto fail;
                                nrows = 0;
                        }
                }
        }
        if (nrows && (rc = store_audit_append_many(st, rows, nrows, err)))
                goto fail;
        if (checkpoint_due(a, seq, force)) {
                memset(&cp, 0, sizeof cp);
                cp.seq = seq;
                memcpy(cp.hash, prev, sizeof cp.hash);
                cp.time_ms = audit__now_ms();
                audit__checkpoint_sign(&cp, a->sk);
                if ((rc = store_checkpoint_insert(st, &cp, err)))
                        goto fail;
                *checkpointed = true;
        }
        if ((rc = store_commit(st, err)))
                goto fail;
        a->head_seq = seq;
        if (*checkpointed) {
                a->last_cp_seq = seq;
                a->last_cp_mono = mono_ms();
        }
        return 0;
fail:
        store_rollback(st);
        *checkpointed = false;
        return rc;
}

/*
 * Brings the subject index (store_audit_index) up by at most max entries in a transaction of its
 * own, after the answers: a group commit only appends entries, and the index, which the
 * citizen's access log reads, follows. The entries are durable already, so a failure only delays
 * the index (the access log also reads the entries past it). Returns the entries still pending.
 */
static int64_t index_some(struct audit *a, int max)
{
        struct pop_err err = {0};
        int64_t pending = 0;
        int rc = store_begin(a->st, &err);
        if (rc == 0) {
                if ((rc = store_audit_index(a->st, max, &pending, &err)) == 0)
                        rc = store_commit(a->st, &err);
                if (rc)
                        store_rollback(a->st);
        }
        if (rc) {
                fprintf(stderr, "popid audit: indexing the log failed: %s [%s]\n", err.msg,
                        err.rule);
                pending = 0; /* tried again after another chunk */
        }
        a->unindexed = pending;
        return pending;
}

/* Absolute CLOCK_MONOTONIC time ms from now. */
static struct timespec deadline_in(int64_t ms)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ms / 1000;
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        return ts;
}

/* Tells every request of list its outcome (seqs on success) and frees it. Called without mu:
 * a callback may take its own locks and wake threads. */
static void finish_requests(struct request *list, int rc, const struct pop_err *err)
{
        for (struct request *r = list, *next; r; r = next) {
                next = r->next;
                for (size_t i = 0; i < r->n; i++)
                        r->seqs[i] = rc ? 0 : r->e[i].seq;
                r->cb(r->ctx, rc, rc ? err : NULL, r->seqs);
                free(r);
        }
}

static void *writer_main(void *arg)
{
        struct audit *a = arg;
        /* Named, so that per-thread CPU (bench/bench_api_cpu.sh, top -H, perf) tells it apart. */
        (void)pthread_setname_np(pthread_self(), "audit-writer");
        pthread_mutex_lock(&a->mu);
        for (;;) {
                bool timer = false;
                while ((!a->head || a->paused) && !a->stopping) {
                        if (a->head_seq <= a->last_cp_seq) {
                                pthread_cond_wait(&a->work, &a->mu);
                                continue;
                        }
                        /* Unsealed entries: a checkpoint once the interval has passed. */
                        int64_t left = a->last_cp_mono + a->opts.checkpoint_interval_ms - mono_ms();
                        if (left <= 0 && !a->paused) {
                                timer = true;
                                break;
                        }
                        struct timespec ts = deadline_in(left > 0 ? left : 10);
                        pthread_cond_timedwait(&a->work, &a->mu, &ts);
                }
                if (!a->head && !timer)
                        break; /* stopping, and nothing left to write */
                /* Whole requests, so that a request's entries commit or fail together; at least
                 * one request, however many entries it holds. */
                struct request *list = a->head, *last = NULL;
                size_t n = 0;
                for (struct request *r = list;
                     r && (n == 0 || n + r->n <= (size_t)a->opts.max_batch); r = r->next) {
                        last = r;
                        n += r->n;
                }
                if (last) {
                        a->head = last->next;
                        if (!a->head)
                                a->tail = NULL;
                        last->next = NULL;
                }
                int arm = a->fault_arm;
                a->fault_arm = 0;
                pthread_mutex_unlock(&a->mu);

                if (arm)
                        store_fault_arm(a->st, arm);
                struct pop_err err = {0};
                bool checkpointed = false;
                int rc = write_batch(a, list, false, &checkpointed, &err);

                pthread_mutex_lock(&a->mu);
                a->depth -= n;
                if (rc) {
                        a->stats.failed += (int64_t)n;
                } else {
                        a->stats.entries += (int64_t)n;
                        a->stats.batches += n > 0;
                        a->stats.checkpoints += checkpointed;
                }
                if (rc && !n) {
                        /* A timed checkpoint failed: try again after another interval. */
                        a->last_cp_mono = mono_ms();
                }
                pthread_mutex_unlock(&a->mu);
                finish_requests(list, rc, &err);
                if (rc == 0)
                        a->unindexed += (int64_t)n;
                if (a->unindexed >= AUDIT_INDEX_CHUNK)
                        (void)index_some(a, AUDIT_INDEX_CHUNK);
                /* The log's checkpoint on the checkpointer's thread, not inside a commit that
                 * requests wait for; only the few pages committed during its pass here. */
                int pages = 0;
                if (store_wal_checkpoint(a->st, -1, &pages, NULL)) /* only reads a count */
                        pages = 0;
                if (pages < a->wal_mark)
                        a->wal_mark = 0; /* the log started over */
                bool restarted = pages > 0 && pages < a->wal_last;
                if (pages > 0)
                        a->wal_last = pages;
                pthread_mutex_lock(&a->mu);
                a->wal_restarts += restarted;
                bool finish = false;
                if (a->cp_done) {
                        /* The pass copied the log as it was when it began, from wal_mark on at
                         * most: the pages since are what is left. Few: the writer copies them;
                         * else another pass (at most AUDIT_WAL_PASSES in a row). */
                        a->cp_done = false;
                        if (pages - a->wal_mark <= AUDIT_WAL_FINISH) {
                                finish = true;
                        } else if (++a->cp_passes < AUDIT_WAL_PASSES) {
                                a->cp_want = true;
                                a->wal_mark = pages;
                                pthread_cond_signal(&a->cp_cv);
                        }
                } else if (pages - a->wal_mark >= AUDIT_WAL_PAGES && !a->cp_busy && !a->cp_want) {
                        a->cp_want = true;
                        a->cp_passes = 0;
                        a->wal_mark = pages;
                        pthread_cond_signal(&a->cp_cv);
                }
                if (finish) {
                        pthread_mutex_unlock(&a->mu);
                        /* A failure loses nothing: the log keeps the pages, for the next pass.
                         * Pages are counted from here either way: a reader still on an older
                         * snapshot (another process's `audit verify`) keeps SQLite from
                         * starting the log over, and then the next pass is due after
                         * AUDIT_WAL_PAGES more, not after every batch. */
                        int cp_rc = store_wal_checkpoint(a->st, 0, NULL, NULL);
                        (void)cp_rc;
                        a->wal_mark = pages;
                        pthread_mutex_lock(&a->mu);
                }
        }
        pthread_mutex_unlock(&a->mu);

        /* Clean shutdown: the index brought up to the head, which is sealed. */
        while (index_some(a, 8 * AUDIT_INDEX_CHUNK) > 0)
                ;
        bool checkpointed = false;
        struct pop_err err = {0};
        int rc = write_batch(a, NULL, true, &checkpointed, &err);
        pthread_mutex_lock(&a->mu);
        a->close_rc = rc;
        a->close_err = err;
        a->stats.checkpoints += checkpointed;
        pthread_mutex_unlock(&a->mu);
        return NULL;
}

static void *checkpointer_main(void *arg)
{
        struct audit *a = arg;
        (void)pthread_setname_np(pthread_self(), "audit-ckpt");
        pthread_mutex_lock(&a->mu);
        for (;;) {
                while (!a->cp_want && !a->cp_stop)
                        pthread_cond_wait(&a->cp_cv, &a->mu);
                if (a->cp_stop)
                        break;
                a->cp_want = false;
                a->cp_busy = true;
                pthread_mutex_unlock(&a->mu);
                /* A failure loses nothing (the log keeps the pages): retried when next due. A
                 * pass copies what the log held when it began; the next pass what was committed
                 * meanwhile, a shorter time. */
                struct pop_err err = {0};
                int rc = store_wal_checkpoint(a->cp_st, 0, NULL, &err);
                if (rc)
                        fprintf(stderr, "popid audit: checkpoint of the log failed: %s [%s]\n",
                                err.msg, err.rule);
                pthread_mutex_lock(&a->mu);
                a->cp_busy = false;
                a->cp_done = rc == 0;
                a->wal_passes++;
        }
        pthread_mutex_unlock(&a->mu);
        return NULL;
}

static void audit_free(struct audit *a)
{
        if (a->cp_started) {
                pthread_mutex_lock(&a->mu);
                a->cp_stop = true;
                pthread_cond_signal(&a->cp_cv);
                pthread_mutex_unlock(&a->mu);
                pthread_join(a->cp_thread, NULL);
        }
        pthread_cond_destroy(&a->cp_cv);
        store_close(a->cp_st);
        store_close(a->st);
        sodium_memzero(a->sk, sizeof a->sk);
        pthread_cond_destroy(&a->work);
        pthread_mutex_destroy(&a->mu);
        free(a);
}

int audit_open(const char *uri, const char *key_path, const struct audit_opts *opts,
               struct audit **out, struct pop_err *err)
{
        *out = NULL;
        struct audit *a = calloc(1, sizeof *a);
        if (!a)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        pthread_mutex_init(&a->mu, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&a->work, &ca);
        pthread_condattr_destroy(&ca);
        pthread_cond_init(&a->cp_cv, NULL);
        if (opts)
                a->opts = *opts;
        if (a->opts.checkpoint_every <= 0)
                a->opts.checkpoint_every = DEFAULT_CHECKPOINT_EVERY;
        if (a->opts.checkpoint_interval_ms <= 0)
                a->opts.checkpoint_interval_ms = DEFAULT_CHECKPOINT_MS;
        if (a->opts.max_batch <= 0)
                a->opts.max_batch = DEFAULT_MAX_BATCH;
        if (a->opts.max_queue <= 0)
                a->opts.max_queue = DEFAULT_MAX_QUEUE;
        uint8_t pk[AUDIT_PK_BYTES], hash[AUDIT_HASH_BYTES];
        struct store_audit_checkpoint cp;
        int rc;
        if ((rc = audit_store_open(uri, &a->st, err)) ||
            (rc = audit__key_load(a->st, key_path, a->sk, pk, err)) ||
            (rc = store_audit_last(a->st, &a->head_seq, hash, err)))
                goto fail;
        rc = store_checkpoint_last(a->st, &cp, err);
        if (rc && rc != POP_ENOTFOUND)
                goto fail;
        a->last_cp_seq = rc ? 0 : cp.seq;
        a->last_cp_mono = mono_ms();
        a->unindexed = AUDIT_INDEX_CHUNK; /* what an earlier writer left is indexed first */
        if ((rc = audit_store_open(uri, &a->cp_st, err)))
                goto fail;
        if (pthread_create(&a->cp_thread, NULL, checkpointer_main, a) != 0) {
                rc = pop_fail(err, POP_ENOMEM, "audit-thread",
                              "cannot start the audit checkpointer");
                goto fail;
        }
        a->cp_started = true;
        if (pthread_create(&a->thread, NULL, writer_main, a) != 0) {
                rc = pop_fail(err, POP_ENOMEM, "audit-thread", "cannot start the audit writer");
                goto fail;
        }
        *out = a;
        return 0;
fail:
        audit_free(a);
        return rc;
}

/* The texts of an entry, in audit__canonicalize's order of checks. */
enum { T_ACTOR, T_ACTION, T_PURPOSE, T_OUTCOME, T_RULE, T_REQID, T_FIELDS, T_N };

static const struct {
        enum audit__text kind;
        const char *what;
        size_t cap; /* bytes with the NUL, as struct audit__canon's */
} text_spec[T_N] = {
    [T_ACTOR] = {AUDIT__T_ACTOR, "actor", AUDIT_ACTOR_MAX + 1},
    [T_ACTION] = {AUDIT__T_ACTION, "action", AUDIT_ACTION_MAX + 1},
    [T_PURPOSE] = {AUDIT__T_PURPOSE, "purpose", AUDIT_PURPOSE_MAX + 1},
    [T_OUTCOME] = {AUDIT__T_OUTCOME, "outcome", sizeof((struct audit__canon *)0)->outcome},
    [T_RULE] = {AUDIT__T_RULE, "rule", AUDIT_RULE_MAX + 1},
    [T_REQID] = {AUDIT__T_REQID, "request id", AUDIT_REQID_MAX + 1},
    [T_FIELDS] = {AUDIT__T_FIELD, "fields", AUDIT_FIELDS_MAX + 1},
};

static const char *entry_text(const struct audit_entry *e, int t)
{
        const char *s = NULL;
        switch (t) {
        case T_ACTOR:
                s = e->actor;
                break;
        case T_ACTION:
                s = e->action;
                break;
        case T_PURPOSE:
                s = e->purpose;
                break;
        case T_OUTCOME:
                s = e->outcome;
                break;
        case T_RULE:
                s = e->rule;
                break;
        case T_REQID:
                s = e->request_id;
                break;
        case T_FIELDS:
                s = e->fields;
                break;
        }
        return s ? s : "";
}

static const char **qentry_text(struct qentry *q, int t)
{
        switch (t) {
        case T_ACTOR:
                return &q->actor;
        case T_ACTION:
                return &q->action;
        case T_PURPOSE:
                return &q->purpose;
        case T_OUTCOME:
                return &q->outcome;
        case T_RULE:
                return &q->rule;
        case T_REQID:
                return &q->request_id;
        default:
                return &q->fields;
        }
}

/* Whether text t of entry e[i] is that of e[i - 1]: the same string (the caller's strings do not
 * change during the call), or for the field list the same bytes. Such a text is checked and
 * stored once and the queued entries point at the one copy: the entries of a batch share actor,
 * action, purpose and request id, and mostly outcome, rule and field list. */
static bool same_text(const struct audit_entry *e, size_t i, int t)
{
        if (i == 0)
                return false;
        const char *a = entry_text(&e[i], t), *b = entry_text(&e[i - 1], t);
        return a == b || (t == T_FIELDS && !strcmp(a, b));
}

static const char *put_text(char **at, const char *s, size_t len)
{
        char *p = *at;
        memcpy(p, s, len);
        p[len] = '\0';
        *at += len + 1;
        return p;
}

/*
 * A request of the n entries of e, canonical and compact: a queued entry holds its strings'
 * bytes, not the caps, and a text equal to the previous entry's (same_text) is stored once. Each
 * stored entry is exactly what audit__canonicalize makes of it. A bad entry frees the request:
 * nothing is queued.
 */
static int request_new(const struct audit_entry *e, size_t n, audit_done_fn *cb, void *ctx,
                       struct request **out, struct pop_err *err)
{
        size_t text = 0;
        int rc;
        *out = NULL;
        /* The room: canonical texts are never longer than given ones (a field list only loses
         * duplicates). Over-long ones are refused here, before any allocation. */
        for (size_t i = 0; i < n; i++)
                for (int t = 0; t < T_N; t++) {
                        if (same_text(e, i, t))
                                continue;
                        const char *s = entry_text(&e[i], t);
                        size_t len = strlen(s);
                        if (len >= text_spec[t].cap) {
                                char tmp[AUDIT_FIELDS_MAX + 1];
                                return t == T_FIELDS
                                           ? audit__canon_fields(s, tmp, err)
                                           : audit__check_text(text_spec[t].kind, text_spec[t].what,
                                                               s, len, text_spec[t].cap, err);
                        }
                        text += len + 1;
                }
        size_t head = sizeof(struct request) + n * sizeof(struct qentry);
        struct request *r = malloc(head + n * sizeof(int64_t) + text);
        if (!r)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        r->next = NULL;
        r->cb = cb;
        r->ctx = ctx;
        r->n = n;
        r->seqs = (int64_t *)((char *)r + head);
        char *at = (char *)(r->seqs + n);
        int64_t now = 0;
        for (size_t i = 0; i < n; i++) {
                struct qentry *q = &r->e[i];
                for (int t = 0; t < T_N; t++) {
                        const char **dst = qentry_text(q, t);
                        if (same_text(e, i, t)) {
                                *dst = *qentry_text(&r->e[i - 1], t);
                                continue;
                        }
                        const char *s = entry_text(&e[i], t);
                        if (t == T_FIELDS) {
                                char f[AUDIT_FIELDS_MAX + 1];
                                if ((rc = audit__canon_fields(s, f, err)))
                                        goto fail;
                                *dst = put_text(&at, f, strlen(f));
                                continue;
                        }
                        size_t len = strlen(s);
                        if ((rc = audit__check_text(text_spec[t].kind, text_spec[t].what, s, len,
                                                    text_spec[t].cap, err)))
                                goto fail;
                        *dst = put_text(&at, s, len);
                }
                if ((rc = audit__check_scalars(&e[i], err)))
                        goto fail;
                if (!e[i].time_ms && !now)
                        now = audit__now_ms(); /* the request's entries are queued at once */
                q->time_ms = e[i].time_ms ? e[i].time_ms : now;
                q->subject = e[i].subject;
                q->seq = 0;
        }
        *out = r;
        return 0;
fail:
        free(r);
        return rc;
}

int audit_log_async(struct audit *a, const struct audit_entry *e, size_t n, audit_done_fn *cb,
                    void *ctx, struct pop_err *err)
{
        if (n == 0 || !cb)
                return pop_fail(err, POP_EINVAL, "audit-async", "no entries or no callback");
        if (n > AUDIT_MANY_MAX)
                return pop_fail(err, POP_ETOOBIG, "audit-many", "over %d audit entries at once",
                                AUDIT_MANY_MAX);
        struct request *r = NULL;
        int rc = request_new(e, n, cb, ctx, &r, err);
        if (rc)
                return rc;
        pthread_mutex_lock(&a->mu);
        if (a->stopping) {
                rc = pop_fail(err, POP_EAGAIN, "audit-closing", "the audit log is closing");
        } else if (a->depth + n > (size_t)a->opts.max_queue) {
                rc = pop_fail(err, POP_EAGAIN, "audit-busy",
                              "the audit log has %zu entries waiting to be written", a->depth);
        } else {
                if (a->tail)
                        a->tail->next = r;
                else
                        a->head = r;
                a->tail = r;
                a->depth += n;
                pthread_cond_signal(&a->work);
        }
        pthread_mutex_unlock(&a->mu);
        if (rc)
                free(r);
        return rc;
}

/* A blocking caller's wait for its callback. */
struct waiter {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        bool done;
        int rc;
        struct pop_err err;
        int64_t *seqs; /* the caller's, may be NULL */
};

static void waiter_done(void *ctx, int rc, const struct pop_err *err, const int64_t *seqs)
{
        struct waiter *w = ctx;
        pthread_mutex_lock(&w->mu);
        w->rc = rc;
        if (rc && err)
                w->err = *err;
        if (w->seqs && !rc)
                w->seqs[0] = seqs[0];
        w->done = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
}

struct many_waiter {
        struct waiter w;
        size_t n;
};

static void many_done(void *ctx, int rc, const struct pop_err *err, const int64_t *seqs)
{
        struct many_waiter *m = ctx;
        if (m->w.seqs)
                memcpy(m->w.seqs, seqs, m->n * sizeof *seqs);
        struct waiter *w = &m->w;
        pthread_mutex_lock(&w->mu);
        w->rc = rc;
        if (rc && err)
                w->err = *err;
        w->done = true;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
}

static int wait_for(struct waiter *w, int rc, struct pop_err *err)
{
        if (rc == 0) {
                pthread_mutex_lock(&w->mu);
                while (!w->done)
                        pthread_cond_wait(&w->cv, &w->mu);
                pthread_mutex_unlock(&w->mu);
                rc = w->rc;
                if (rc && err)
                        *err = w->err;
        }
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        return rc;
}

int audit_log(struct audit *a, const struct audit_entry *e, int64_t *seq, struct pop_err *err)
{
        struct waiter w = {.seqs = seq};
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        return wait_for(&w, audit_log_async(a, e, 1, waiter_done, &w, err), err);
}

int audit_log_many(struct audit *a, const struct audit_entry *e, size_t n, int64_t *seqs,
                   struct pop_err *err)
{
        if (n == 0)
                return 0;
        struct many_waiter m = {.w = {.seqs = seqs}, .n = n};
        if (seqs)
                memset(seqs, 0, n * sizeof *seqs);
        pthread_mutex_init(&m.w.mu, NULL);
        pthread_cond_init(&m.w.cv, NULL);
        return wait_for(&m.w, audit_log_async(a, e, n, many_done, &m, err), err);
}

size_t audit_queue_depth(struct audit *a)
{
        pthread_mutex_lock(&a->mu);
        size_t n = a->depth;
        pthread_mutex_unlock(&a->mu);
        return n;
}

void audit_get_stats(struct audit *a, struct audit_stats *out)
{
        pthread_mutex_lock(&a->mu);
        *out = a->stats;
        pthread_mutex_unlock(&a->mu);
}

int audit_close(struct audit *a, struct pop_err *err)
{
        if (!a)
                return 0;
        pthread_mutex_lock(&a->mu);
        a->stopping = true;
        a->paused = false;
        pthread_cond_signal(&a->work);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
        int rc = a->close_rc;
        if (rc && err)
                *err = a->close_err;
        audit_free(a);
        return rc;
}

int audit_log_once(const char *uri, const char *key_path, const struct audit_entry *e,
                   struct pop_err *err)
{
        struct audit_opts o = {0};
        struct audit *a = NULL;
        struct audit__canon c;
        /* Refuse a malformed entry before touching the store. */
        int rc = audit__canonicalize(e, &c, err);
        if (rc || (rc = audit_open(uri, key_path, &o, &a, err)))
                return rc;
        rc = audit_log(a, e, NULL, err);
        /* The entry is durable once audit_log returned 0; a failed final checkpoint is made
         * good by the next writer's. */
        (void)audit_close(a, NULL);
        return rc;
}

void audit__pause(struct audit *a, bool paused)
{
        pthread_mutex_lock(&a->mu);
        a->paused = paused;
        pthread_cond_signal(&a->work);
        pthread_mutex_unlock(&a->mu);
}

void audit__wal_counts(struct audit *a, int64_t *restarts, int64_t *passes)
{
        pthread_mutex_lock(&a->mu);
        *restarts = a->wal_restarts;
        *passes = a->wal_passes;
        pthread_mutex_unlock(&a->mu);
}

void audit__fault_arm(struct audit *a, int n)
{
        pthread_mutex_lock(&a->mu);
        a->fault_arm = n;
        pthread_mutex_unlock(&a->mu);
}
