/*
 * Internals of the SQLite backend shared between sqlite.c and its topic files
 * (sqlite_<topic>.c), as SQLite shares btreeInt.h: the connection handle, a per-connection cache
 * of statements prepared from static SQL strings, and the helpers that map SQLite's results to
 * POP_E* codes. A topic file keeps its SQL text static (the cache is keyed by the pointer) and
 * its op functions named store__sqlite_<op>; sqlite.c puts them in its operation table.
 */
#ifndef POP_STORE_SQLITE_INT_H
#define POP_STORE_SQLITE_INT_H

#include "store/store.h"

#include <sqlite3.h>
#include <string.h>

#define STORE__SQLITE_EXT_MAX 64 /* statements of all topic files together */

struct store__sqlite_ext {
        const char *sql[STORE__SQLITE_EXT_MAX];
        sqlite3_stmt *stmt[STORE__SQLITE_EXT_MAX];
        int n;
};

/* From sqlite.c: the connection and its statement cache for topic files. */
sqlite3 *store__sqlite_db(struct store *st);
struct store__sqlite_ext *store__sqlite_ext(struct store *st);

/* From sqlite_ext.c. */
/* The statement for a static SQL string, prepared once per connection; NULL with err filled. */
sqlite3_stmt *store__sqlite_prepare(struct store *st, const char *sql, struct pop_err *err);
/* Finalizes every cached statement (sqlite.c's close). */
void store__sqlite_ext_close(struct store__sqlite_ext *x);
/* Maps a SQLite result code to POP_E*, filling err with SQLite's message. */
int store__sqlite_fail(struct store *st, int rc, struct pop_err *err);
/* Column i of q's row as text into out (cap bytes, NUL-terminated, cut to fit; "" for NULL). */
static inline void store__sqlite_col_text(sqlite3_stmt *q, int i, char *out, size_t cap)
{
        const unsigned char *t = sqlite3_column_text(q, i);
        size_t n = t ? (size_t)sqlite3_column_bytes(q, i) : 0;
        if (n >= cap)
                n = cap - 1;
        if (n)
                memcpy(out, t, n);
        out[n] = '\0';
}
/* Resets q, clears its bindings, returns rc. */
int store__sqlite_done(sqlite3_stmt *q, int rc);
/* Steps q that returns no row; resets it. */
int store__sqlite_step_done(struct store *st, sqlite3_stmt *q, struct pop_err *err);

/* sqlite_eid.c: eID accounts and credentials. */
int store__sqlite_eid_account_get(struct store *st, int64_t pid, struct store_eid_account *out,
                                  struct pop_err *err);
int store__sqlite_eid_account_insert(struct store *st, const struct store_eid_account *a,
                                     struct pop_err *err);
int store__sqlite_eid_account_update(struct store *st, const struct store_eid_account *a,
                                     struct pop_err *err);
int store__sqlite_eid_cred_get(struct store *st, int64_t pid, const char *kind,
                               struct store_eid_cred *out, struct pop_err *err);
int store__sqlite_eid_cred_put(struct store *st, const struct store_eid_cred *c,
                               struct pop_err *err);
int store__sqlite_eid_cred_delete(struct store *st, int64_t pid, const char *kind,
                                  struct pop_err *err);

/* sqlite_verify.c: the one read of a verification. */
int store__sqlite_verify_subject(struct store *st, int64_t pid, struct store_verify_subject *out,
                                 struct pop_err *err);

/* sqlite_otp.c: one-time passwords and the outbox. */
int store__sqlite_otp_insert(struct store *st, const struct store_otp *o, struct pop_err *err);
int store__sqlite_otp_get(struct store *st, const char *txn, struct store_otp *out,
                          struct pop_err *err);
int store__sqlite_otp_update(struct store *st, const struct store_otp *o, struct pop_err *err);
int store__sqlite_otp_count(struct store *st, int64_t pid, const char *client, int64_t since_ms,
                            int *n_pid, int *n_client, struct pop_err *err);
int store__sqlite_otp_purge(struct store *st, int64_t pid, int64_t before_ms, struct pop_err *err);
int store__sqlite_outbox_insert(struct store *st, struct store_outbox *m, struct pop_err *err);
int store__sqlite_outbox_due(struct store *st, int64_t now_ms, int limit, store_outbox_fn *fn,
                             void *ctx, struct pop_err *err);
int store__sqlite_outbox_update(struct store *st, const struct store_outbox *m,
                                struct pop_err *err);
int store__sqlite_outbox_count(struct store *st, int64_t n[STORE_OUTBOX_N_STATES],
                               struct pop_err *err);

/* sqlite_audit.c: the audit database's own schema (STORE_OPEN_AUDIT). Its files carry this
 * PRAGMA application_id ("popa"); a registry's carry 0. */
#define STORE__AUDIT_APP_ID      1886351457
#define STORE__AUDIT_APP_ID_TEXT "1886351457"
/* The audit database's subject index is kept by bucket of 2^16 seqs (audit migration 3,
 * sqlite_audit.c): its rows are (seq >> 16, subject, seq). */
#define STORE__AUDIT_BUCKET_SHIFT "16"
extern const char *const *const store__sqlite_audit_migrations;
extern const int store__sqlite_audit_n_migrations;
/*
 * Inside the migration transaction of a file opened as an audit database whose application_id
 * is not STORE__AUDIT_APP_ID: marks a new file (version 0), or converts an audit file made with
 * the registry's schema (drops the registry's tables, all empty, keeps the audit tables) and sets
 * *new_version to the audit schema version it now has. POP_ESTORE (rule store-kind) for a file
 * that is not an audit log.
 */
int store__sqlite_audit_adopt(struct store *st, int version, int *new_version, struct pop_err *err);
/* The op audit_append_many (store.h): 16 entries per INSERT statement. */
int store__sqlite_audit_append_many(struct store *st, const struct store_audit_entry *e, size_t n,
                                    struct pop_err *err);
/* The op audit_index (store.h) on the audit database's audit_subject table. */
int store__sqlite_audit_index_check(struct store *st, struct store_audit_index_problem *out,
                                    struct pop_err *err);
int store__sqlite_audit_index(struct store *st, int max_entries, int64_t *n_pending,
                              struct pop_err *err);

#endif
