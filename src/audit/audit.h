/*
 * The tamper-evident audit log: every read or write of personal data, through any endpoint or
 * CLI command, appends an entry (who, whose data, which fields, for what purpose, with what
 * outcome, when). Entries are hash-chained and the head is sealed now and then by a checkpoint
 * signed with the registry's audit key (Ed25519), so changing, deleting or reordering a stored
 * entry is detected by audit_verify, and by anyone holding the public key and an export.
 * docs/AUDIT.md defines the formats byte by byte.
 *
 * Writes go through one `struct audit` per process (group commit: a writer thread with its own
 * store connection drains the queue, appends every pending entry in one transaction and commits
 * with synchronous=FULL). audit_log_async queues entries and returns at once; the writer calls
 * back once their transaction is committed, so the callback may release the answer: the entries
 * are durable. audit_log blocks until then (built on the async call). Any number of threads may
 * call them at once. Reads of the log (verify, export, access log) take a store connection of the
 * caller's, opened with audit_store_open.
 *
 * The log lives in a database of its own beside the registry ("<db>.audit"), not in the
 * registry's: each group commit changes that file's WAL only, so the registry's readers keep their
 * page cache and memory map (in WAL mode a connection drops both whenever the WAL of the database
 * it reads changed since its last transaction).
 */
#ifndef POP_AUDIT_AUDIT_H
#define POP_AUDIT_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "store/store.h"

#define AUDIT_HASH_BYTES       STORE_AUDIT_HASH_BYTES
#define AUDIT_SIG_BYTES        STORE_AUDIT_SIG_BYTES
#define AUDIT_PK_BYTES         32
#define AUDIT_PK_TEXT          48 /* base64url of a public key, NUL included */
#define AUDIT_EXPORT_FORMAT    "popid-audit-export-v1"
#define AUDIT_CHECKPOINT_LABEL "popid-audit-checkpoint-v1"

/* Caps on an entry's text fields, in bytes (NUL excluded). */
#define AUDIT_ACTOR_MAX   128
#define AUDIT_ACTION_MAX  64
#define AUDIT_FIELDS_MAX  2048
#define AUDIT_FIELD_MAX   64 /* one field name */
#define AUDIT_PURPOSE_MAX 256
#define AUDIT_RULE_MAX    47
#define AUDIT_REQID_MAX   64

/* One access, as the caller describes it. NULL strings are empty. */
struct audit_entry {
        int64_t time_ms;        /* unix milliseconds; 0: now */
        const char *actor;      /* "client:bank-abc", "operator:root@host", "citizen:PID" */
        int64_t subject;        /* the pid whose data it is; 0 when none */
        const char *action;     /* "person.read", "event.birth", ... ([a-z0-9_.-]) */
        const char *fields;     /* names released or written, comma-separated, any order */
        const char *purpose;    /* the stated purpose; may be empty */
        const char *outcome;    /* "ok", "denied", "not-found" or "error" */
        const char *rule;       /* the rule id of a refusal or error; may be empty */
        const char *request_id; /* ties the entries of one request together; may be empty */
};

struct audit_opts {
        int checkpoint_every;       /* a checkpoint after this many entries; 0: 1000 */
        int checkpoint_interval_ms; /* and after this long with unsealed entries; 0: 60000 */
        int max_batch;              /* entries per transaction at most; 0: 4096 */
        int max_queue; /* entries waiting at most, else POP_EAGAIN audit-busy; 0: 65536 */
};

struct audit_stats {
        int64_t entries;     /* entries committed by this handle */
        int64_t batches;     /* transactions that committed them */
        int64_t checkpoints; /* checkpoints written by this handle */
        int64_t failed;      /* entries whose batch failed */
};

struct audit;

#define AUDIT_MANY_MAX 1024 /* entries of one request */

/*
 * Opens the audit log of the registry at uri for writing, with the signing key at key_path
 * (created mode 0600 at first use and its public key recorded in the registry; an existing file
 * must match the recorded public key). Starts the writer thread. opts may be NULL. The caller
 * owns *out and closes it with audit_close.
 */
int audit_open(const char *uri, const char *key_path, const struct audit_opts *opts,
               struct audit **out, struct pop_err *err) POP_MUST_USE;

/*
 * Called once per request of audit_log_async, on the writer thread, after the transaction holding
 * the request's entries committed (rc 0; seqs[i] the seq of entry i) or failed (rc < 0 and err
 * saying why; nothing of the request is stored, seqs all 0). err and seqs are valid during the
 * call only. The callback must not call into the audit handle and should be quick: the next batch
 * waits for it.
 */
typedef void audit_done_fn(void *ctx, int rc, const struct pop_err *err, const int64_t *seqs);

/*
 * Queues n entries (1..AUDIT_MANY_MAX) as one request, copied, and returns at once: 0, and then
 * cb(ctx, ...) is called exactly once when they are durable or their batch failed. A request's
 * entries are never split over two transactions. Otherwise cb is never called and the code says
 * why: POP_EINVAL (a malformed entry, nothing queued), POP_ETOOBIG, POP_ENOMEM, POP_EAGAIN with
 * rule audit-closing (audit_close began) or audit-busy (over opts.max_queue entries are waiting:
 * back-pressure instead of unbounded memory). Thread-safe.
 */
int audit_log_async(struct audit *a, const struct audit_entry *e, size_t n, audit_done_fn *cb,
                    void *ctx, struct pop_err *err) POP_MUST_USE;

/*
 * Appends one entry and returns once it is durable (0, with *seq set when seq is not NULL), or
 * once its transaction failed (nothing of it stored). POP_EINVAL when a field is malformed or over
 * its cap, before anything is queued. Thread-safe.
 */
int audit_log(struct audit *a, const struct audit_entry *e, int64_t *seq,
              struct pop_err *err) POP_MUST_USE;

/*
 * Appends n entries (up to AUDIT_MANY_MAX) as one request, committed in one transaction: a read
 * that releases the data of several people logs one entry per person. Returns once all are
 * durable (0, seqs[i] set when seqs is not NULL), or the error of their transaction (none stored,
 * seqs all 0).
 */
int audit_log_many(struct audit *a, const struct audit_entry *e, size_t n, int64_t *seqs,
                   struct pop_err *err) POP_MUST_USE;

/* Entries waiting for the writer (for /metrics). Thread-safe. */
size_t audit_queue_depth(struct audit *a);
void audit_get_stats(struct audit *a, struct audit_stats *out);

/*
 * Writes the pending entries and a final checkpoint, stops the writer and frees a. Returns the
 * checkpoint's outcome (the handle is freed either way). NULL is allowed.
 */
int audit_close(struct audit *a, struct pop_err *err);

/*
 * One entry from a short-lived process (the CLI): opens the log of uri, appends, closes (with its
 * final checkpoint). Returns 0 only when the entry is durable.
 */
int audit_log_once(const char *uri, const char *key_path, const struct audit_entry *e,
                   struct pop_err *err) POP_MUST_USE;

/*
 * The URI of the audit database of the registry at uri: uri + ".audit", its "fault:" and
 * "sqlite:" prefixes kept (so a fault-injecting registry has a fault-injecting audit log).
 * audit_store_open opens it (STORE_OPEN_AUDIT: the audit tables only, an audit file of an older
 * popid that got the registry's whole schema is converted in place), created on first use;
 * POP_ENOTFOUND when the registry itself is missing. The caller owns *out and closes it with
 * store_close.
 */
int audit_store_uri(const char *uri, char *buf, size_t cap, struct pop_err *err) POP_MUST_USE;
int audit_store_open(const char *uri, struct store **out, struct pop_err *err) POP_MUST_USE;

/* The default key file of a registry: the database path + ".audit.key" (POPID_AUDIT_KEY wins). */
int audit_key_path(const char *uri, char *buf, size_t cap, struct pop_err *err) POP_MUST_USE;

/* Creates the key file when missing and records its public key; checks a present one. */
int audit_key_init(const char *uri, const char *key_path, struct pop_err *err) POP_MUST_USE;

/* The registry's audit public key, raw and as base64url (text may be NULL). */
int audit_public_key(struct store *st, uint8_t pk[AUDIT_PK_BYTES], char text[AUDIT_PK_TEXT],
                     struct pop_err *err) POP_MUST_USE;
int audit_parse_public_key(const char *text, uint8_t pk[AUDIT_PK_BYTES],
                           struct pop_err *err) POP_MUST_USE;

/* What a verification found. bad_seq is 0 when everything holds. */
struct audit_verify_result {
        int64_t entries;                /* entries checked */
        int64_t checkpoints;            /* checkpoints whose signature and hash held */
        int64_t last_seq;               /* the last entry checked */
        int64_t last_checkpoint_seq;    /* the last checkpoint that held; 0: none */
        int64_t bad_seq;                /* the first entry found bad; 0 when none */
        char reason[200];               /* why, when bad_seq */
        char rule[48];                  /* a stable id of the reason */
        uint8_t head[AUDIT_HASH_BYTES]; /* the chain hash at last_seq */
};

/*
 * Recomputes the whole chain of the registry at st from genesis and checks every checkpoint
 * (signature under the public key, hash equal to the chain's at its seq, no checkpoint beyond
 * the last entry). pk is the key to trust; NULL trusts the one recorded in the registry, which
 * whoever can write the database could replace (a given key that differs from the recorded one
 * fails with rule audit-key-mismatch). 0 when all holds; POP_EVERIFY with res->bad_seq and
 * res->reason at the first bad entry; another code when the log cannot be read. Reads in one
 * snapshot.
 */
int audit_verify(struct store *st, const uint8_t *pk, struct audit_verify_result *res,
                 struct pop_err *err) POP_MUST_USE;

/*
 * Writes the entries from from_seq on (1 when 0) and the checkpoints that seal them to f as JSON
 * lines: a header with the format and the public key, then the entries in seq order, each
 * checkpoint right after the entry it seals. *n_entries (may be NULL) is set to the count.
 */
int audit_export(struct store *st, int64_t from_seq, FILE *f, int64_t *n_entries,
                 struct pop_err *err) POP_MUST_USE;

/*
 * Verifies an export with nothing but the public key: a streaming verifier fed one line at a
 * time (audit_xv_line), then audit_xv_finish. Same result and codes as audit_verify; POP_EINVAL
 * for a malformed line (res->bad_seq then says where the valid part ended). The export's first
 * entry chains from the header's prev_hash; a checkpoint inside the export pins that too.
 */
struct audit_xv;
int audit_xv_new(const uint8_t pk[AUDIT_PK_BYTES], struct audit_xv **out,
                 struct pop_err *err) POP_MUST_USE;
int audit_xv_line(struct audit_xv *v, const char *line, size_t len,
                  struct pop_err *err) POP_MUST_USE;
int audit_xv_finish(struct audit_xv *v, struct audit_verify_result *res,
                    struct pop_err *err) POP_MUST_USE;
void audit_xv_free(struct audit_xv *v);
/* The whole of an export in memory (the fuzz target's entry point). */
int audit_verify_export(const char *data, size_t len, const uint8_t pk[AUDIT_PK_BYTES],
                        struct audit_verify_result *res, struct pop_err *err) POP_MUST_USE;

/* res as JSON: {"valid": bool, "entries", "checkpoints", "last_seq", ...} (a new reference). */
json_t *audit_verify_json(const struct audit_verify_result *res, bool valid);

/*
 * The access log of a person, newest first: up to limit (1..500) entries with seq < before
 * (0: from the newest), as {"pid", "entries": [{"seq", "time", "actor", "action", "fields",
 * "purpose", "outcome", "rule"?}], "next"?: seq to pass as before for more}. *out is the
 * caller's.
 */
int audit_access_log(struct store *st, int64_t pid, int64_t before, int limit, json_t **out,
                     struct pop_err *err) POP_MUST_USE;

#endif
