/*
 * The audit log's writer: group commit. Callers of audit_log put their entry on a queue and wait;
 * one writer thread, with its own store connection, takes everything queued (up to max_batch),
 * appends it in one transaction with the chain hashes, adds a signed checkpoint when one is due,
 * commits (synchronous=FULL: one fsync for the whole batch) and wakes the callers with the
 * outcome. While a batch commits the next one gathers, so under load one fsync serves many
 * entries and a caller waits for at most about two commits.
 *
 * The chain's head is read from the store inside each write transaction, so two processes on one
 * database (the server and a CLI command) extend one chain: the transaction's write lock orders
 * them. A failed batch is rolled back whole and every caller in it gets the error: nothing of it
 * is stored, and the next batch chains from the unchanged head.
 *
 * Locking: `mu` guards the queue, the flags and the stats; the writer holds it only to take a
 * batch and to hand back results, never during store I/O.
 */
#include "audit/audit_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CHECKPOINT_EVERY 1000
#define DEFAULT_CHECKPOINT_MS    60000
#define DEFAULT_MAX_BATCH        4096

/* A caller's entry while it waits; lives on the caller's stack. */
struct pending {
        struct audit__canon c;
        struct pending *next;
        int64_t seq;
        int rc;
        bool done;
        struct pop_err err;
};

struct audit {
        pthread_mutex_t mu;
        pthread_cond_t work; /* the writer waits for entries (CLOCK_MONOTONIC timeouts) */
        pthread_cond_t done; /* callers wait for their batch */
        struct pending *head, *tail;
        size_t depth;
        bool stopping;
        bool paused;   /* test hook */
        int fault_arm; /* test hook: arm the writer's store before its next batch */
        struct audit_stats stats;
        int close_rc;
        struct pop_err close_err;

        /* Set at open; then the writer thread's alone until it is joined. */
        struct audit_opts opts;
        struct store *st;
        uint8_t sk[AUDIT__SK_BYTES];
        int64_t head_seq;     /* the head after this handle's last commit, as seen then */
        int64_t last_cp_seq;  /* the last checkpoint, as seen at the last commit */
        int64_t last_cp_mono; /* monotonic ms of that checkpoint (or of the open) */
        pthread_t thread;
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
 * One transaction: the n entries of list (n may be 0), then a checkpoint when due (always when
 * force and there are unsealed entries). Sets each entry's seq. Runs on the writer thread.
 */
static int write_batch(struct audit *a, struct pending *list, size_t n, bool force,
                       bool *checkpointed, struct pop_err *err)
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
        struct pending *p = list;
        for (size_t i = 0; i < n; i++, p = p->next) {
                struct store_audit_entry e = {
                    .seq = ++seq,
                    .time_ms = p->c.time_ms,
                    .actor = p->c.actor,
                    .subject = p->c.subject,
                    .action = p->c.action,
                    .fields = p->c.fields,
                    .purpose = p->c.purpose,
                    .outcome = p->c.outcome,
                    .rule = p->c.rule,
                    .request_id = p->c.request_id,
                };
                audit__chain(prev, &e, e.hash);
                if ((rc = store_audit_append(st, &e, err)))
                        goto fail;
                memcpy(prev, e.hash, sizeof prev);
                p->seq = e.seq;
        }
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

static void *writer_main(void *arg)
{
        struct audit *a = arg;
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
                struct pending *list = a->head, *last = NULL;
                size_t n = 0;
                for (struct pending *p = list; p && n < (size_t)a->opts.max_batch; p = p->next) {
                        last = p;
                        n++;
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
                int rc = write_batch(a, list, n, false, &checkpointed, &err);

                pthread_mutex_lock(&a->mu);
                for (struct pending *p = list, *next; p; p = next) {
                        next = p->next; /* p belongs to its caller once done is set */
                        p->rc = rc;
                        if (rc)
                                p->err = err;
                        p->done = true;
                }
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
                pthread_cond_broadcast(&a->done);
        }
        pthread_mutex_unlock(&a->mu);

        /* Clean shutdown: seal the head. */
        bool checkpointed = false;
        struct pop_err err = {0};
        int rc = write_batch(a, NULL, 0, true, &checkpointed, &err);
        pthread_mutex_lock(&a->mu);
        a->close_rc = rc;
        a->close_err = err;
        a->stats.checkpoints += checkpointed;
        pthread_mutex_unlock(&a->mu);
        return NULL;
}

static void audit_free(struct audit *a)
{
        store_close(a->st);
        sodium_memzero(a->sk, sizeof a->sk);
        pthread_cond_destroy(&a->work);
        pthread_cond_destroy(&a->done);
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
        pthread_cond_init(&a->done, NULL);
        if (opts)
                a->opts = *opts;
        if (a->opts.checkpoint_every <= 0)
                a->opts.checkpoint_every = DEFAULT_CHECKPOINT_EVERY;
        if (a->opts.checkpoint_interval_ms <= 0)
                a->opts.checkpoint_interval_ms = DEFAULT_CHECKPOINT_MS;
        if (a->opts.max_batch <= 0)
                a->opts.max_batch = DEFAULT_MAX_BATCH;
        uint8_t pk[AUDIT_PK_BYTES], hash[AUDIT_HASH_BYTES];
        struct store_audit_checkpoint cp;
        int rc;
        if ((rc = store_open(uri, 0, &a->st, err)) ||
            (rc = audit__key_load(a->st, key_path, a->sk, pk, err)) ||
            (rc = store_audit_last(a->st, &a->head_seq, hash, err)))
                goto fail;
        rc = store_checkpoint_last(a->st, &cp, err);
        if (rc && rc != POP_ENOTFOUND)
                goto fail;
        a->last_cp_seq = rc ? 0 : cp.seq;
        a->last_cp_mono = mono_ms();
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

int audit_log(struct audit *a, const struct audit_entry *e, int64_t *seq, struct pop_err *err)
{
        struct pending p;
        memset(&p, 0, sizeof p);
        int rc = audit__canonicalize(e, &p.c, err);
        if (rc)
                return rc;
        pthread_mutex_lock(&a->mu);
        if (a->stopping) {
                pthread_mutex_unlock(&a->mu);
                return pop_fail(err, POP_EAGAIN, "audit-closing", "the audit log is closing");
        }
        if (a->tail)
                a->tail->next = &p;
        else
                a->head = &p;
        a->tail = &p;
        a->depth++;
        pthread_cond_signal(&a->work);
        while (!p.done)
                pthread_cond_wait(&a->done, &a->mu);
        pthread_mutex_unlock(&a->mu);
        if (p.rc) {
                if (err)
                        *err = p.err;
                return p.rc;
        }
        if (seq)
                *seq = p.seq;
        return 0;
}

int audit_log_many(struct audit *a, const struct audit_entry *e, size_t n, int64_t *seqs,
                   struct pop_err *err)
{
        if (n == 0)
                return 0;
        if (n > AUDIT_MANY_MAX)
                return pop_fail(err, POP_ETOOBIG, "audit-many", "over %d audit entries at once",
                                AUDIT_MANY_MAX);
        struct pending *p = calloc(n, sizeof *p);
        if (!p)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        int rc = 0;
        for (size_t i = 0; i < n && !rc; i++)
                rc = audit__canonicalize(&e[i], &p[i].c, err);
        if (rc)
                goto out;
        pthread_mutex_lock(&a->mu);
        if (a->stopping) {
                pthread_mutex_unlock(&a->mu);
                rc = pop_fail(err, POP_EAGAIN, "audit-closing", "the audit log is closing");
                goto out;
        }
        for (size_t i = 0; i + 1 < n; i++)
                p[i].next = &p[i + 1];
        if (a->tail)
                a->tail->next = &p[0];
        else
                a->head = &p[0];
        a->tail = &p[n - 1];
        a->depth += n;
        pthread_cond_signal(&a->work);
        /* Batches are taken in queue order and marked done whole: the last one done is all. */
        while (!p[n - 1].done)
                pthread_cond_wait(&a->done, &a->mu);
        pthread_mutex_unlock(&a->mu);
        for (size_t i = 0; i < n; i++) {
                if (p[i].rc && !rc) {
                        rc = p[i].rc;
                        if (err)
                                *err = p[i].err;
                }
                if (seqs)
                        seqs[i] = p[i].rc ? 0 : p[i].seq;
        }
out:
        free(p);
        return rc;
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

void audit__fault_arm(struct audit *a, int n)
{
        pthread_mutex_lock(&a->mu);
        a->fault_arm = n;
        pthread_mutex_unlock(&a->mu);
}
