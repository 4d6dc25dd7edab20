/*
 * The store: a runtime table of domain-level operations, in the manner of SQLite's VFS or curl's
 * TLS backends. Callers use only the wrappers declared here; store_open picks the backend from the
 * URI ("sqlite:PATH", a bare path, or "fault:" + another URI for the fault-injecting backend used
 * by tests). No SQL crosses this interface: each backend keeps its own.
 *
 * One `struct store` is one connection, used by one thread at a time: a threaded caller opens
 * one per thread. Writes happen inside store_begin/store_commit; on any error the caller calls
 * store_rollback, and nothing of the transaction remains. A commit that returned 0 is durable.
 */
#ifndef POP_STORE_STORE_H
#define POP_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/records.h"

#define STORE_OPS_VERSION 1

/* Capability bits a backend advertises. */
#define STORE_CAP_INTEGRITY 0x1 /* integrity_check does a real check */

struct store;

/* Iteration callbacks: return 0 to go on, non-zero to stop (that value is returned). */
typedef int store_person_fn(void *ctx, const struct person *p);
typedef int store_residence_fn(void *ctx, const struct residence *r);
typedef int store_card_fn(void *ctx, const struct card *c);
typedef int store_event_fn(void *ctx, const struct event *e);

/*
 * Name search (store_person_search). Results come in the order of (key, dob, pid), key being the
 * name form the mode compares, so a page resumes after the last position it looked at (keyset
 * pagination: no OFFSET, no duplicates or gaps between pages while the data stands still).
 */
enum store_match {
        STORE_MATCH_EXACT,  /* name_fold equal: NFC, case-insensitive */
        STORE_MATCH_FOLDED, /* name_key equal: also diacritic-insensitive, đ = d */
        STORE_MATCH_PREFIX, /* name_key starts with the query's key as whole words */
};

#define STORE_SEARCH_KEY_MAX    (2 * NAME_MAX_BYTES + 1) /* a folded name or key, NUL included */
#define STORE_SEARCH_LIMIT_MAX  100
#define STORE_SEARCH_WORK       5000 /* default of store_search.max_work */
#define STORE_SEARCH_SEEK_COST  10   /* work of a B-tree descent; of a row read in an index: 1 */
#define STORE_SEARCH_STATUS_ANY (-1)

/* A position in the search order: the last row (or, with key_end, the last key) looked at. */
struct store_search_pos {
        char key[STORE_SEARCH_KEY_MAX];
        struct pdate dob;
        int64_t pid;
        bool key_end; /* past every row of key (dob and pid unused) */
};

struct store_search {
        enum store_match match;
        const char *name;       /* name_fold of the query (exact), else its name_key */
        struct pdate dob;       /* none: any; else every stored dob that may be that day */
        int year_from, year_to; /* birth years, inclusive; 0: open */
        enum sex sex;           /* SEX_UNKNOWN: any */
        int province;           /* 2025 unit of the current permanent residence; 0: any */
        int status;             /* enum person_status, or STORE_SEARCH_STATUS_ANY */
        int limit;              /* 1..STORE_SEARCH_LIMIT_MAX */
        int max_work;           /* work allowed per call (store_person_search); 0: default */
        const struct store_search_pos *after; /* resume after this position; NULL: from the start */
};

/* One result; full_name is valid during the callback only. */
struct store_search_hit {
        int64_t pid;
        const char *full_name;
        struct pdate dob;
        enum sex sex;
        enum person_status status;
        int province; /* of the current permanent residence as recorded (maybe legacy); 0: none */
};

struct store_search_end {
        bool more;                    /* later rows may match: search again after `next` */
        struct store_search_pos next; /* set when more */
        int work;                     /* work done, in the units of max_work */
};

typedef int store_search_fn(void *ctx, const struct store_search_hit *h);

/*
 * Bulk import (src/import/). The import runs in one transaction and keeps what it must remember
 * between lines in the store (temporary tables), never in memory: the people it loaded (with
 * where each came from: `src`, file index << 32 | line), the IDs it refused, the households of
 * the file by key, and the spouses still waiting for their partner's line.
 */
/* Drop secondary indexes now, rebuild them in import_rebuild. */
#define STORE_IMPORT_REBUILD_INDEXES 0x1

/* import_spouse outcomes. */
#define STORE_SPOUSE_PENDING  0 /* the partner's line has not come yet */
#define STORE_SPOUSE_MATCHED  1 /* the partner came earlier and named this person */
#define STORE_SPOUSE_SAME_SEX 2 /* the partner named this person, but has the same sex */

/* The checks at the end of an import (import_deferred). */
enum store_import_query {
        /* Loaded people whose spouse never named them: other = the spouse, n = 1 when the
         * spouse's line was refused, m = 1 when the claimant is deceased. */
        STORE_IMPORT_SPOUSES,
        /* Loaded members of the file's households that do not have exactly one loaded living
         * head: key, n = loaded heads, m = refused head lines. */
        STORE_IMPORT_HOUSEHOLDS,
        /* Loaded people not yet refused whose father, mother, spouse or household head was
         * refused since the last call: other = that person, key = the link ("father", ...). */
        STORE_IMPORT_DEPENDENTS,
};

struct store_import_row {
        int64_t pid, src, other;
        const char *key; /* valid during the callback */
        int n, m;
};

typedef int store_import_fn(void *ctx, const struct store_import_row *row);

/*
 * The audit log (src/audit/, docs/AUDIT.md) as stored: hash-chained entries and signed
 * checkpoints. Strings are valid during a callback only. Iterations hand over each row as it is
 * stored and set `malformed` when a column lacks the type or size an entry has (a tampered row:
 * the other fields are then unreliable), so the verifier sees tampering instead of a conversion.
 */
#define STORE_AUDIT_HASH_BYTES 32
#define STORE_AUDIT_SIG_BYTES  64

struct store_audit_entry {
        int64_t seq; /* 1, 2, ... without gaps */
        int64_t time_ms;
        const char *actor;
        int64_t subject; /* pid; 0 when none */
        const char *action;
        const char *fields; /* sorted field names, comma-separated */
        const char *purpose;
        const char *outcome;
        const char *rule;
        const char *request_id;
        uint8_t hash[STORE_AUDIT_HASH_BYTES]; /* the chain hash up to and including this entry */
        bool malformed;
};

struct store_audit_checkpoint {
        int64_t seq; /* the chain hash after entry seq is `hash` */
        uint8_t hash[STORE_AUDIT_HASH_BYTES];
        int64_t time_ms;
        uint8_t sig[STORE_AUDIT_SIG_BYTES];
        bool malformed;
};

typedef int store_audit_fn(void *ctx, const struct store_audit_entry *e);
typedef int store_checkpoint_fn(void *ctx, const struct store_audit_checkpoint *c);

/*
 * An API client as stored (src/access/ gives the text columns their meaning and validates them):
 * the lists are JSON text, so the backend needs no knowledge of roles or the field catalogue.
 */
#define STORE_CLIENT_SECRET_ID 17 /* 16 hex digits + NUL */
#define STORE_CLIENT_HASH      32

struct store_client {
        char id[33];
        char name[129];
        char kind[16];
        char roles[96];      /* JSON array of role names */
        char grants[1024];   /* JSON array of field and grant names */
        char purposes[768];  /* JSON array of purpose codes */
        char provinces[256]; /* JSON: "all", or an array of two-digit 2025 unit codes */
        int64_t rate, burst;
        bool disabled;
        int64_t created_ms, updated_ms;
        char secret_id[STORE_CLIENT_SECRET_ID];
        uint8_t secret_hash[STORE_CLIENT_HASH];
        char prev_secret_id[STORE_CLIENT_SECRET_ID]; /* "" when there is none */
        uint8_t prev_secret_hash[STORE_CLIENT_HASH];
        int64_t prev_expires_ms;
};

typedef int store_client_fn(void *ctx, const struct store_client *c);

/*
 * The journal in seq order, for the change feed: each event with the 2025 units it touched as
 * recorded by store_event_units ("01,79"; NULL for events recorded before that existed). The
 * event's subjects are not filled in (n_subjects 0). Strings are valid during the callback only.
 */
typedef int store_journal_fn(void *ctx, const struct event *e, const char *units);

/*
 * What an API write with an Idempotency-Key was answered (POST /v1/events, docs/API.md): kept
 * in the transaction of the write, so the answer exists exactly when the write does.
 */
#define STORE_IDEM_KEY_MAX  64
#define STORE_IDEM_HASH     32
#define STORE_IDEM_BODY_MAX 8192 /* bytes of a kept answer, NUL excluded */

struct store_idem {
        char client[33];
        char key[STORE_IDEM_KEY_MAX + 1];
        uint8_t request_hash[STORE_IDEM_HASH]; /* of the request the answer was for */
        int status;
        int64_t created_ms;
        size_t body_len;
        char body[STORE_IDEM_BODY_MAX + 1];
};

/*
 * eID accounts (src/eid/, docs/EID.md) as stored: the account row and its credentials. The
 * service gives the integers their meaning (enum eid_level, enum eid_state, EID_CRED_* bits);
 * the store keeps them. A credential is one row per (pid, kind): "password" (an Argon2id
 * string), "totp" (a secretbox of the seed), "device" (an Ed25519 public key), and the
 * short-lived "activation" (a keyed hash of the code) and "challenge" (a device challenge).
 */
#define STORE_EID_PHONE_MAX  24
#define STORE_EID_EMAIL_MAX  255
#define STORE_EID_REASON_MAX 256
#define STORE_EID_KIND_MAX   16
#define STORE_EID_SECRET_MAX 256

struct store_eid_account {
        int64_t pid;
        int level;                             /* 1 or 2 */
        int state;                             /* enum eid_state */
        char phone[STORE_EID_PHONE_MAX + 1];   /* "" when none */
        char email[STORE_EID_EMAIL_MAX + 1];   /* "" when none */
        unsigned creds;                        /* EID_CRED_* bits of the confirmed credentials */
        char reason[STORE_EID_REASON_MAX + 1]; /* of the last suspension or closure */
        int64_t created_ms, updated_ms;
};

/* What a verification reads of a person (store_verify_subject). */
struct store_verify_subject {
        char full_name[NAME_MAX_BYTES + 1]; /* NFC, normalized */
        char name_fold[NAME_MAX_BYTES + 1];
        char name_key[NAME_MAX_BYTES + 1];
        struct pdate dob;
        enum sex sex;
        enum person_status status;
        int eid_state; /* enum eid_state of the account, -1 when the person has none */
};

struct store_eid_cred {
        int64_t pid;
        char kind[STORE_EID_KIND_MAX];
        uint8_t secret[STORE_EID_SECRET_MAX];
        size_t secret_len;
        bool confirmed;
        int failures;            /* consecutive failed attempts */
        int64_t locked_until_ms; /* 0: not locked */
        int64_t expires_ms;      /* 0: never */
        int64_t counter;         /* kind-specific: the last TOTP time step accepted */
        int64_t created_ms, updated_ms;
};

/* One-time passwords and the outbox: see store_otp_insert below. */
#define STORE_OTP_TXN_MAX      32
#define STORE_OTP_HASH         32
#define STORE_OUTBOX_PENDING   0
#define STORE_OUTBOX_DELIVERED 1
#define STORE_OUTBOX_DEAD      2
#define STORE_OUTBOX_N_STATES  3
#define STORE_OUTBOX_TOPIC_MAX 31
#define STORE_OUTBOX_ERROR_MAX 127
#define STORE_OUTBOX_BODY_MAX  4096

struct store_otp {
        char txn[STORE_OTP_TXN_MAX + 1];
        int64_t pid;
        char client[33];
        char channel[8]; /* "sms" or "email" */
        uint8_t hash[STORE_OTP_HASH];
        int64_t created_ms, expires_ms;
        int attempts; /* wrong codes presented */
        bool used;
};

struct store_outbox {
        int64_t id;
        char topic[STORE_OUTBOX_TOPIC_MAX + 1]; /* "otp" */
        int64_t subject;                        /* the pid the message is about; 0: none */
        char ref[STORE_OTP_TXN_MAX + 1];        /* the txn of an OTP */
        const uint8_t *body;                    /* sealed; NULL/0 once emptied */
        size_t body_len;
        int state; /* STORE_OUTBOX_* */
        int attempts;
        int64_t next_ms, created_ms, updated_ms;
        char last_error[STORE_OUTBOX_ERROR_MAX + 1];
};

typedef int store_outbox_fn(void *ctx, const struct store_outbox *m);

/* What store_audit_index_check found: seq 0 when the index holds. */
struct store_audit_index_problem {
        int64_t seq;
        const char *kind; /* static: "upto", "missing" or "extra" */
};

struct store_ops {
        int version; /* STORE_OPS_VERSION */
        unsigned caps;
        const char *name;

        void (*close)(struct store *st);
        int (*begin)(struct store *st, struct pop_err *err);
        int (*commit)(struct store *st, struct pop_err *err);
        void (*rollback)(struct store *st);
        int (*read_begin)(struct store *st, struct pop_err *err);
        void (*read_end)(struct store *st);
        int (*integrity_check)(struct store *st, struct pop_err *err);

        int (*meta_get)(struct store *st, const char *key, void *buf, size_t cap, size_t *len,
                        struct pop_err *err);
        int (*meta_set)(struct store *st, const char *key, const void *val, size_t len,
                        struct pop_err *err);

        int (*person_get)(struct store *st, int64_t pid, struct person *out, struct pop_err *err);
        int (*person_exists)(struct store *st, int64_t pid, struct pop_err *err);
        int (*person_insert)(struct store *st, const struct person *p, struct pop_err *err);
        int (*person_update)(struct store *st, const struct person *p, struct pop_err *err);
        int (*person_children)(struct store *st, int64_t pid, store_person_fn *fn, void *ctx,
                               struct pop_err *err);
        int (*person_count)(struct store *st, int64_t *n, struct pop_err *err);
        int (*person_search)(struct store *st, const struct store_search *q, store_search_fn *fn,
                             void *ctx, struct store_search_end *end, struct pop_err *err);

        int (*household_get)(struct store *st, int64_t id, struct household *out,
                             struct pop_err *err);
        int (*household_insert)(struct store *st, struct household *h, struct pop_err *err);
        int (*household_update)(struct store *st, const struct household *h, struct pop_err *err);
        int (*household_members)(struct store *st, int64_t household, struct pdate on,
                                 store_residence_fn *fn, void *ctx, struct pop_err *err);
        int (*household_head_on)(struct store *st, int64_t household, struct pdate on,
                                 int64_t *head, struct pop_err *err);
        int (*household_head_set)(struct store *st, int64_t household, int64_t head,
                                  struct pdate from, struct pop_err *err);

        int (*residence_current)(struct store *st, int64_t pid, char kind, struct residence *out,
                                 struct pop_err *err);
        int (*residence_insert)(struct store *st, struct residence *r, struct pop_err *err);
        int (*residence_update)(struct store *st, const struct residence *r, struct pop_err *err);
        int (*residence_history)(struct store *st, int64_t pid, store_residence_fn *fn, void *ctx,
                                 struct pop_err *err);

        int (*card_current)(struct store *st, int64_t pid, struct card *out, struct pop_err *err);
        int (*card_insert)(struct store *st, struct card *c, struct pop_err *err);
        int (*card_update)(struct store *st, const struct card *c, struct pop_err *err);
        int (*card_history)(struct store *st, int64_t pid, store_card_fn *fn, void *ctx,
                            struct pop_err *err);

        int (*event_append)(struct store *st, struct event *e, struct pop_err *err);
        int (*event_history)(struct store *st, int64_t pid, store_event_fn *fn, void *ctx,
                             struct pop_err *err);

        int (*series_get)(struct store *st, int64_t series, uint32_t *next, struct pop_err *err);
        int (*series_set)(struct store *st, int64_t series, uint32_t next, struct pop_err *err);

        /* Bulk import and export (src/import/); see the wrappers below. */
        int (*person_each)(struct store *st, store_person_fn *fn, void *ctx, struct pop_err *err);
        int (*event_amend)(struct store *st, int64_t seq, const char *payload, size_t len,
                           struct pop_err *err);
        int (*import_begin)(struct store *st, unsigned flags, int cache_mib, struct pop_err *err);
        int (*import_rebuild)(struct store *st, int64_t seq, struct pop_err *err);
        int (*import_lines_done)(struct store *st, struct pop_err *err);
        void (*import_end)(struct store *st);
        int (*import_loaded)(struct store *st, const struct person *p, int64_t src,
                             struct pop_err *err);
        int (*import_find)(struct store *st, int64_t pid, struct person *out, int64_t *src,
                           struct pop_err *err);
        int (*import_reject)(struct store *st, int64_t pid, int loaded, struct pop_err *err);
        int (*import_is_rejected)(struct store *st, int64_t pid, struct pop_err *err);
        int (*import_household_find)(struct store *st, const char *key, struct household *out,
                                     int *heads, struct pop_err *err);
        int (*import_household_add)(struct store *st, const char *key, struct household *h,
                                    struct pop_err *err);
        int (*import_household_head)(struct store *st, const char *key, int64_t hh, int64_t pid,
                                     struct pdate from, int heads, struct pop_err *err);
        int (*import_household_refused_head)(struct store *st, const char *key,
                                             struct pop_err *err);
        int (*import_spouse)(struct store *st, int64_t pid, enum sex sex, int dead, int64_t spouse,
                             int *outcome, struct pop_err *err);
        int (*import_deferred)(struct store *st, enum store_import_query q, store_import_fn *fn,
                               void *ctx, struct pop_err *err);
        int (*import_purge)(struct store *st, int64_t seq, int64_t *n, struct pop_err *err);
        int (*audit_append)(struct store *st, const struct store_audit_entry *e,
                            struct pop_err *err);
        int (*audit_append_many)(struct store *st, const struct store_audit_entry *e, size_t n,
                                 struct pop_err *err);
        int (*audit_last)(struct store *st, int64_t *seq, uint8_t hash[STORE_AUDIT_HASH_BYTES],
                          struct pop_err *err);
        int (*audit_iter)(struct store *st, int64_t from_seq, store_audit_fn *fn, void *ctx,
                          struct pop_err *err);
        int (*audit_by_subject)(struct store *st, int64_t pid, int64_t before_seq, int limit,
                                store_audit_fn *fn, void *ctx, struct pop_err *err);
        int (*checkpoint_insert)(struct store *st, const struct store_audit_checkpoint *c,
                                 struct pop_err *err);
        int (*checkpoint_last)(struct store *st, struct store_audit_checkpoint *out,
                               struct pop_err *err);
        int (*checkpoint_iter)(struct store *st, int64_t from_seq, store_checkpoint_fn *fn,
                               void *ctx, struct pop_err *err);
        int (*wal_checkpoint)(struct store *st, int min_pages, int *n_pages, struct pop_err *err);
        int (*audit_index)(struct store *st, int max_entries, int64_t *n_pending,
                           struct pop_err *err);
        int (*audit_index_check)(struct store *st, struct store_audit_index_problem *out,
                                 struct pop_err *err);
        /* API clients (src/access/). */
        int (*client_insert)(struct store *st, const struct store_client *c, struct pop_err *err);
        int (*client_update)(struct store *st, const struct store_client *c, struct pop_err *err);
        int (*client_get)(struct store *st, const char *id, struct store_client *out,
                          struct pop_err *err);
        int (*client_list)(struct store *st, store_client_fn *fn, void *ctx, struct pop_err *err);
        int (*client_by_secret_id)(struct store *st, const char *secret_id,
                                   struct store_client *out, struct pop_err *err);

        /* The API's writes and change feed. */
        int (*event_after)(struct store *st, int64_t after_seq, int limit, store_journal_fn *fn,
                           void *ctx, struct pop_err *err);
        int (*event_units)(struct store *st, int64_t seq, const char *units, struct pop_err *err);
        int (*idem_get)(struct store *st, const char *client, const char *key,
                        int64_t not_before_ms, struct store_idem *out, struct pop_err *err);
        int (*idem_put)(struct store *st, const struct store_idem *r, int64_t expired_before_ms,
                        struct pop_err *err);

        /* eID accounts (src/eid/). */
        int (*eid_account_get)(struct store *st, int64_t pid, struct store_eid_account *out,
                               struct pop_err *err);
        int (*eid_account_insert)(struct store *st, const struct store_eid_account *a,
                                  struct pop_err *err);
        int (*eid_account_update)(struct store *st, const struct store_eid_account *a,
                                  struct pop_err *err);
        int (*eid_cred_get)(struct store *st, int64_t pid, const char *kind,
                            struct store_eid_cred *out, struct pop_err *err);
        int (*eid_cred_put)(struct store *st, const struct store_eid_cred *c, struct pop_err *err);
        int (*eid_cred_delete)(struct store *st, int64_t pid, const char *kind,
                               struct pop_err *err);
        /* The one read of a verification (src/eid/verify.c). */
        int (*verify_subject)(struct store *st, int64_t pid, struct store_verify_subject *out,
                              struct pop_err *err);

        /* One-time passwords and the outbox (src/eid/otp.c, src/hub/outbox.c). */
        int (*otp_insert)(struct store *st, const struct store_otp *o, struct pop_err *err);
        int (*otp_get)(struct store *st, const char *txn, struct store_otp *out,
                       struct pop_err *err);
        int (*otp_update)(struct store *st, const struct store_otp *o, struct pop_err *err);
        int (*otp_count)(struct store *st, int64_t pid, const char *client, int64_t since_ms,
                         int *n_pid, int *n_client, struct pop_err *err);
        int (*otp_purge)(struct store *st, int64_t pid, int64_t before_ms, struct pop_err *err);
        int (*outbox_insert)(struct store *st, struct store_outbox *m, struct pop_err *err);
        int (*outbox_due)(struct store *st, int64_t now_ms, int limit, store_outbox_fn *fn,
                          void *ctx, struct pop_err *err);
        int (*outbox_update)(struct store *st, const struct store_outbox *m, struct pop_err *err);
        int (*outbox_count)(struct store *st, int64_t n[STORE_OUTBOX_N_STATES],
                            struct pop_err *err);
};

/* Every backend's connection starts with this. */
struct store {
        const struct store_ops *ops;
};

/*
 * Opens a connection. With `create` (STORE_OPEN_* flags; 1 is STORE_OPEN_CREATE), a missing
 * database is created; either way pending migrations are applied: the registry's, or with
 * STORE_OPEN_AUDIT the audit database's own (its tables only; a file of one kind is refused as
 * the other). The caller owns *out and closes it with store_close.
 */
#define STORE_OPEN_CREATE 0x1
#define STORE_OPEN_AUDIT  0x2
int store_open(const char *uri, int create, struct store **out, struct pop_err *err) POP_MUST_USE;
void store_close(struct store *st);
const char *store_backend(const struct store *st);

/* Backends, for store.c and tests. */
int store__sqlite_open(const char *path, int create, struct store **out, struct pop_err *err);
int store__fault_open(const char *inner_uri, int create, struct store **out, struct pop_err *err);

/*
 * Fault injection (only on a "fault:" store): fail the n-th write operation from now (1 = the
 * next one), or every operation once `n` is 0 and `all` is set. store_fault_writes counts the
 * write operations seen so far, so a test can iterate over every failure point of a service call.
 */
void store_fault_arm(struct store *st, int n);
int store_fault_writes(struct store *st);

/* The wrappers: one per operation, with the same meaning. */
int store_begin(struct store *st, struct pop_err *err) POP_MUST_USE;
int store_commit(struct store *st, struct pop_err *err) POP_MUST_USE;
void store_rollback(struct store *st);

/*
 * Read snapshots. Between store_read_begin and store_read_end every read sees one consistent
 * state, and reads are cheaper: on SQLite the batch takes the WAL read lock once instead of once
 * per statement (two fcntl system calls saved per lookup). A snapshot does not see commits that
 * other connections make after it began, so holders keep it short (the server renews it every
 * few hundred lookups or millisecond). A connection's own writes are always visible:
 * store_begin ends an open snapshot first, so a write starts from the newest state. Within a
 * write transaction store_read_begin does nothing. Snapshots nest: inner pairs do nothing, the
 * outermost store_read_end ends it. Every store_read_begin that returned 0 gets its read_end.
 */
int store_read_begin(struct store *st, struct pop_err *err) POP_MUST_USE;
void store_read_end(struct store *st);
int store_integrity_check(struct store *st, struct pop_err *err) POP_MUST_USE;

/* meta_get: POP_ENOTFOUND when absent; POP_ETOOBIG when the value is larger than cap. */
int store_meta_get(struct store *st, const char *key, void *buf, size_t cap, size_t *len,
                   struct pop_err *err) POP_MUST_USE;
int store_meta_set(struct store *st, const char *key, const void *val, size_t len,
                   struct pop_err *err) POP_MUST_USE;

int store_person_get(struct store *st, int64_t pid, struct person *out,
                     struct pop_err *err) POP_MUST_USE;
/* 1 when present, 0 when not, negative on failure. */
int store_person_exists(struct store *st, int64_t pid, struct pop_err *err) POP_MUST_USE;
/* POP_ECONFLICT when the pid is taken. */
int store_person_insert(struct store *st, const struct person *p, struct pop_err *err) POP_MUST_USE;
int store_person_update(struct store *st, const struct person *p, struct pop_err *err) POP_MUST_USE;
int store_person_children(struct store *st, int64_t pid, store_person_fn *fn, void *ctx,
                          struct pop_err *err) POP_MUST_USE;
int store_person_count(struct store *st, int64_t *n, struct pop_err *err) POP_MUST_USE;
/*
 * Calls fn for up to q->limit people matching q, in search order, and says in *end whether to
 * search again for more. Partial dates of birth match when they may be the same day (a stored
 * 1990 matches a query 1990-05-12 and the other way round). Sex and status are checked in the
 * name index, the province by reading the residence of the rows that pass them, within a budget
 * of q->max_work: a row looked at costs 1, reading its residence or probing the next key under a
 * prefix STORE_SEARCH_SEEK_COST more. So a call's work is bounded at any registry size, and a
 * page may hold fewer than limit results (even none) with end->more set. POP_EINVAL when
 * q->after does not fit the query.
 */
int store_person_search(struct store *st, const struct store_search *q, store_search_fn *fn,
                        void *ctx, struct store_search_end *end, struct pop_err *err) POP_MUST_USE;

int store_household_get(struct store *st, int64_t id, struct household *out,
                        struct pop_err *err) POP_MUST_USE;
/* Sets h->id. */
int store_household_insert(struct store *st, struct household *h, struct pop_err *err) POP_MUST_USE;
int store_household_update(struct store *st, const struct household *h,
                           struct pop_err *err) POP_MUST_USE;
/* Permanent residents of the household on `on` (none: now), in order of arrival. */
int store_household_members(struct store *st, int64_t household, struct pdate on,
                            store_residence_fn *fn, void *ctx, struct pop_err *err) POP_MUST_USE;
/* The head on `on` (none: now); POP_ENOTFOUND before the household existed. */
int store_household_head_on(struct store *st, int64_t household, struct pdate on, int64_t *head,
                            struct pop_err *err) POP_MUST_USE;
/* Ends the current head's term on `from` and starts head's; also sets household.head. */
int store_household_head_set(struct store *st, int64_t household, int64_t head, struct pdate from,
                             struct pop_err *err) POP_MUST_USE;

/* The open residence of a kind; POP_ENOTFOUND when none. */
int store_residence_current(struct store *st, int64_t pid, char kind, struct residence *out,
                            struct pop_err *err) POP_MUST_USE;
/* Sets r->id; POP_ECONFLICT when the person already has an open residence of that kind. */
int store_residence_insert(struct store *st, struct residence *r, struct pop_err *err) POP_MUST_USE;
int store_residence_update(struct store *st, const struct residence *r,
                           struct pop_err *err) POP_MUST_USE;
/* Every residence of the person, oldest first. */
int store_residence_history(struct store *st, int64_t pid, store_residence_fn *fn, void *ctx,
                            struct pop_err *err) POP_MUST_USE;

/* The card with status valid; POP_ENOTFOUND when none. */
int store_card_current(struct store *st, int64_t pid, struct card *out,
                       struct pop_err *err) POP_MUST_USE;
int store_card_insert(struct store *st, struct card *c, struct pop_err *err) POP_MUST_USE;
int store_card_update(struct store *st, const struct card *c, struct pop_err *err) POP_MUST_USE;
int store_card_history(struct store *st, int64_t pid, store_card_fn *fn, void *ctx,
                       struct pop_err *err) POP_MUST_USE;

/* Appends to the journal; sets e->seq. The payload is copied. */
int store_event_append(struct store *st, struct event *e, struct pop_err *err) POP_MUST_USE;
/* Every event naming the person, in journal order. The payload pointer is valid during fn. */
int store_event_history(struct store *st, int64_t pid, store_event_fn *fn, void *ctx,
                        struct pop_err *err) POP_MUST_USE;

/* The next position of a pid allocation series (0 for a new series). */
int store_series_get(struct store *st, int64_t series, uint32_t *next,
                     struct pop_err *err) POP_MUST_USE;
int store_series_set(struct store *st, int64_t series, uint32_t next,
                     struct pop_err *err) POP_MUST_USE;

/* ---- bulk import and export ---- */

/* Every person, by date of birth (as stored: "1960" before "1960-01-01") then ID, which puts
 * parents before their children (a parent is certainly born before the child). */
int store_person_each(struct store *st, store_person_fn *fn, void *ctx,
                      struct pop_err *err) POP_MUST_USE;
/* Replaces the payload of an event appended in the current transaction (an import appends its
 * event first, so people can point at it, and fills in the counts at the end). */
int store_event_amend(struct store *st, int64_t seq, const char *payload, size_t len,
                      struct pop_err *err) POP_MUST_USE;
/*
 * Begins an import's transaction and its bookkeeping (temporary tables spilling to disk, a page
 * cache of cache_mib MiB, 0 for the default 64: the memory an import uses whatever its size);
 * with STORE_IMPORT_REBUILD_INDEXES (acted on only for an empty registry) the secondary indexes
 * of the tables it fills are dropped, to be rebuilt by store_import_rebuild before the commit.
 * store_import_end (after commit or rollback) drops the rest. Returns 1 when the registry holds
 * no person (nothing to look up in it until the import writes), 0 when it does, <0 on failure.
 */
int store_import_begin(struct store *st, unsigned flags, int cache_mib,
                       struct pop_err *err) POP_MUST_USE;
/* Ends the line-by-line phase: rebuilds dropped indexes, names every loaded person as a subject
 * of the import's journal event seq (in ID order, so the journal index grows at its end), and
 * settles the refused IDs. */
int store_import_rebuild(struct store *st, int64_t seq, struct pop_err *err) POP_MUST_USE;
/* The last line was read: the bookkeeping's cache shrinks before the bulk writes that follow. */
int store_import_lines_done(struct store *st, struct pop_err *err) POP_MUST_USE;
void store_import_end(struct store *st);
/*
 * Records that this import loads the person (from src; the caller writes the person itself, in
 * ID order, after the last line): its ID with dob and sex, for the lines after it. POP_ECONFLICT
 * when an earlier line of this import loaded the ID.
 */
int store_import_loaded(struct store *st, const struct person *p, int64_t src,
                        struct pop_err *err) POP_MUST_USE;
/* A person this import loaded: pid, dob and sex set in *out (the rest zero) and *src;
 * POP_ENOTFOUND when it did not load the ID. */
int store_import_find(struct store *st, int64_t pid, struct person *out, int64_t *src,
                      struct pop_err *err) POP_MUST_USE;
/*
 * Records that a line with this ID was refused: `loaded` when its person was already written (a
 * refusal found later, undone by store_import_purge), else the ID is not in the registry. An ID
 * refused on one line but loaded from another stops being refused at store_import_rebuild.
 */
int store_import_reject(struct store *st, int64_t pid, int loaded,
                        struct pop_err *err) POP_MUST_USE;
/* 1 when store_import_reject named the ID, 0 when not. */
int store_import_is_rejected(struct store *st, int64_t pid, struct pop_err *err) POP_MUST_USE;
/* The household created for a file key (id, address) and its loaded heads; POP_ENOTFOUND. */
int store_import_household_find(struct store *st, const char *key, struct household *out,
                                int *heads, struct pop_err *err) POP_MUST_USE;
/* Creates the household for a key: with h->id > 0 that id when it is free, else a new one;
 * sets h->id. */
int store_import_household_add(struct store *st, const char *key, struct household *h,
                               struct pop_err *err) POP_MUST_USE;
/* Counts a loaded head of household hh (key), which had `heads` before; the first one becomes
 * its head from `from`. */
int store_import_household_head(struct store *st, const char *key, int64_t hh, int64_t pid,
                                struct pdate from, int heads, struct pop_err *err) POP_MUST_USE;
/* Counts a refused line that would have headed the household of key. */
int store_import_household_refused_head(struct store *st, const char *key,
                                        struct pop_err *err) POP_MUST_USE;
/* Matches a loaded person's spouse claim with the partner's (STORE_SPOUSE_*); `dead`: the
 * claimant is deceased. */
int store_import_spouse(struct store *st, int64_t pid, enum sex sex, int dead, int64_t spouse,
                        int *outcome, struct pop_err *err) POP_MUST_USE;
/* Runs one of the end checks; fn may call store_import_reject. */
int store_import_deferred(struct store *st, enum store_import_query q, store_import_fn *fn,
                          void *ctx, struct pop_err *err) POP_MUST_USE;
/* Removes every row this import (journal event seq) wrote for the people it loaded and then
 * refused, and the households left empty; *n counts the people. */
int store_import_purge(struct store *st, int64_t seq, int64_t *n, struct pop_err *err) POP_MUST_USE;

/*
 * The audit log. audit_append writes one entry as given (seq and hash computed by the caller,
 * inside its transaction); POP_ECONFLICT when the seq is taken. audit_last gives the head: seq 0
 * and a zero hash when the log is empty. audit_iter calls fn for every entry from from_seq on, in
 * seq order. audit_by_subject calls fn for up to limit entries about pid with seq < before_seq
 * (0: no bound), newest first. Checkpoints likewise: checkpoint_last is POP_ENOTFOUND when there
 * is none; checkpoint_iter goes in seq order from from_seq.
 */
int store_audit_append(struct store *st, const struct store_audit_entry *e,
                       struct pop_err *err) POP_MUST_USE;
/* e[0..n) in order, as n audit_append calls would (the audit writer's group commit: several rows
 * per statement). On failure some may be written: the caller rolls its transaction back. */
int store_audit_append_many(struct store *st, const struct store_audit_entry *e, size_t n,
                            struct pop_err *err) POP_MUST_USE;
int store_audit_last(struct store *st, int64_t *seq, uint8_t hash[STORE_AUDIT_HASH_BYTES],
                     struct pop_err *err) POP_MUST_USE;
int store_audit_iter(struct store *st, int64_t from_seq, store_audit_fn *fn, void *ctx,
                     struct pop_err *err) POP_MUST_USE;
int store_audit_by_subject(struct store *st, int64_t pid, int64_t before_seq, int limit,
                           store_audit_fn *fn, void *ctx, struct pop_err *err) POP_MUST_USE;
int store_checkpoint_insert(struct store *st, const struct store_audit_checkpoint *c,
                            struct pop_err *err) POP_MUST_USE;
int store_checkpoint_last(struct store *st, struct store_audit_checkpoint *out,
                          struct pop_err *err) POP_MUST_USE;
int store_checkpoint_iter(struct store *st, int64_t from_seq, store_checkpoint_fn *fn, void *ctx,
                          struct pop_err *err) POP_MUST_USE;
/*
 * On a connection opened with STORE_OPEN_AUDIT, whose commits leave the write-ahead log to grow
 * (so that no commit waits for a checkpoint): copies the log back into the database once it
 * holds at least min_pages pages as this connection's last commit left it, without waiting for
 * readers or blocking the writer (SQLite's PASSIVE checkpoint). min_pages 0: now, whatever the
 * size (from any connection outside a transaction); < 0: only *n_pages. *n_pages (may be NULL)
 * gets the pages the log held at this connection's last commit. A backend without such a log
 * does nothing.
 */
int store_wal_checkpoint(struct store *st, int min_pages, int *n_pages,
                         struct pop_err *err) POP_MUST_USE;
/*
 * The audit log's subject index (what audit_by_subject reads) is kept apart from the entries and
 * brought up to date after them, so that a group commit appends rows at the end of one table
 * instead of writing a random index page per entry. audit_index indexes up to max_entries of the
 * entries not indexed yet, inside the caller's write transaction, and sets *n_pending to those
 * still left. audit_by_subject reads the index and the entries past it, so it never misses one.
 */
int store_audit_index(struct store *st, int max_entries, int64_t *n_pending,
                      struct pop_err *err) POP_MUST_USE;
/*
 * Checks the subject index against the entries, for audit_verify: the index is derived data, not
 * covered by the hash chain, yet it decides what a citizen's access log shows. out->seq is 0 when
 * it holds; else the smallest seq found wrong and out->kind: "upto" (the index claims to reach
 * past the last entry, so entries after its true end would be skipped), "missing" (an entry with
 * a subject, within the index's reach, without its row: hidden from that person's access log) or
 * "extra" (a row with no entry of that seq and subject, or in the wrong bucket).
 */
int store_audit_index_check(struct store *st, struct store_audit_index_problem *out,
                            struct pop_err *err) POP_MUST_USE;

/*
 * API clients. client_insert: POP_ECONFLICT when the id or a secret id is taken. client_update
 * replaces the record with the same id: POP_ENOTFOUND when there is none. client_get and
 * client_by_secret_id (matching the current or the previous secret): POP_ENOTFOUND (rule
 * client-not-found) when none. client_list: every client in id order.
 */
int store_client_insert(struct store *st, const struct store_client *c,
                        struct pop_err *err) POP_MUST_USE;
int store_client_update(struct store *st, const struct store_client *c,
                        struct pop_err *err) POP_MUST_USE;
int store_client_get(struct store *st, const char *id, struct store_client *out,
                     struct pop_err *err) POP_MUST_USE;
int store_client_list(struct store *st, store_client_fn *fn, void *ctx,
                      struct pop_err *err) POP_MUST_USE;
int store_client_by_secret_id(struct store *st, const char *secret_id, struct store_client *out,
                              struct pop_err *err) POP_MUST_USE;

/*
 * The change feed's walk of the journal: fn for up to limit events with seq > after_seq, in seq
 * order (seq is the journal's primary key: an index range scan). store_event_units records the
 * units an event touched (inside the transaction that appended it); POP_ENOTFOUND without it.
 */
int store_event_after(struct store *st, int64_t after_seq, int limit, store_journal_fn *fn,
                      void *ctx, struct pop_err *err) POP_MUST_USE;
int store_event_units(struct store *st, int64_t seq, const char *units,
                      struct pop_err *err) POP_MUST_USE;

/*
 * Idempotency records. idem_get: the answer kept for (client, key) if it was made at or after
 * not_before_ms, else POP_ENOTFOUND (an expired record counts as none). idem_put: keeps r,
 * replacing a record of (client, key) made before expired_before_ms, and removes a few expired
 * records of any client; POP_ECONFLICT (rule idempotency-key-taken) when a live record exists,
 * e.g. a concurrent request with the same key committed first.
 */
int store_idem_get(struct store *st, const char *client, const char *key, int64_t not_before_ms,
                   struct store_idem *out, struct pop_err *err) POP_MUST_USE;
int store_idem_put(struct store *st, const struct store_idem *r, int64_t expired_before_ms,
                   struct pop_err *err) POP_MUST_USE;

/*
 * eID accounts (src/eid/, docs/EID.md). eid_account_get: POP_ENOTFOUND when the person has
 * none. eid_account_insert: POP_ECONFLICT when one exists. eid_account_update replaces the row
 * of a->pid: POP_ENOTFOUND when there is none. eid_cred_get: the credential of a kind,
 * POP_ENOTFOUND when none. eid_cred_put inserts or replaces the (pid, kind) row.
 * eid_cred_delete removes the (pid, kind) row, or every credential of pid when kind is NULL
 * (removing none is not an error).
 */
int store_eid_account_get(struct store *st, int64_t pid, struct store_eid_account *out,
                          struct pop_err *err) POP_MUST_USE;
/*
 * Verification subject: what a verification compares (src/eid/verify.c) and the eID account's
 * state (enum eid_state; -1 without an account), in one read. POP_ENOTFOUND (rule
 * person-not-found) for an unknown pid.
 */
int store_verify_subject(struct store *st, int64_t pid, struct store_verify_subject *out,
                         struct pop_err *err) POP_MUST_USE;
int store_eid_account_insert(struct store *st, const struct store_eid_account *a,
                             struct pop_err *err) POP_MUST_USE;
int store_eid_account_update(struct store *st, const struct store_eid_account *a,
                             struct pop_err *err) POP_MUST_USE;
int store_eid_cred_get(struct store *st, int64_t pid, const char *kind, struct store_eid_cred *out,
                       struct pop_err *err) POP_MUST_USE;
int store_eid_cred_put(struct store *st, const struct store_eid_cred *c,
                       struct pop_err *err) POP_MUST_USE;
int store_eid_cred_delete(struct store *st, int64_t pid, const char *kind,
                          struct pop_err *err) POP_MUST_USE;

/*
 * One-time passwords (src/eid/otp.c, docs/AUTH.md) and the durable outbox (src/hub/outbox.c). An
 * OTP is kept only as a keyed hash, under its transaction id (txn); otp_get: POP_ENOTFOUND when
 * there is no such txn; otp_update writes attempts and used of the row of o->txn; otp_count
 * counts the OTPs issued since since_ms to pid and, separately, to client (the rate limits).
 * The outbox holds messages for the notification webhook, each body sealed by the caller
 * (secretbox): outbox_insert sets m->id; outbox_due calls fn for up to limit pending messages
 * whose next_ms <= now_ms, oldest first (body valid during the call); outbox_update writes state,
 * attempts, next_ms, updated_ms and last_error of the row m->id and empties its body unless it
 * stays pending; outbox_count gives the number of rows in each state.
 */

int store_otp_insert(struct store *st, const struct store_otp *o, struct pop_err *err) POP_MUST_USE;
int store_otp_get(struct store *st, const char *txn, struct store_otp *out,
                  struct pop_err *err) POP_MUST_USE;
int store_otp_update(struct store *st, const struct store_otp *o, struct pop_err *err) POP_MUST_USE;
int store_otp_count(struct store *st, int64_t pid, const char *client, int64_t since_ms, int *n_pid,
                    int *n_client, struct pop_err *err) POP_MUST_USE;
/* Removes pid's OTPs created before before_ms (the index (pid, created_ms) bounds the work). */
int store_otp_purge(struct store *st, int64_t pid, int64_t before_ms,
                    struct pop_err *err) POP_MUST_USE;
int store_outbox_insert(struct store *st, struct store_outbox *m, struct pop_err *err) POP_MUST_USE;
int store_outbox_due(struct store *st, int64_t now_ms, int limit, store_outbox_fn *fn, void *ctx,
                     struct pop_err *err) POP_MUST_USE;
int store_outbox_update(struct store *st, const struct store_outbox *m,
                        struct pop_err *err) POP_MUST_USE;
int store_outbox_count(struct store *st, int64_t n[STORE_OUTBOX_N_STATES],
                       struct pop_err *err) POP_MUST_USE;

#endif
