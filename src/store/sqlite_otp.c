/*
 * The SQLite backend's one-time passwords and outbox (store.h "One-time passwords"), a topic
 * file of sqlite.c (sqlite_int.h). The tables come from the migration "otp and outbox" in
 * sqlite.c. An OTP row holds a keyed hash, never the code; an outbox row holds a sealed body
 * (secretbox under <db>.outbox.key), emptied once the message leaves the pending state.
 */
#include "store/sqlite_int.h"

#include <stdio.h>
#include <string.h>

#define OTP_COLS "txn, pid, client, channel, hash, created_ms, expires_ms, attempts, used"
#define OUTBOX_COLS                                                                                \
        "id, topic, subject, ref, body, state, attempts, next_ms, created_ms, updated_ms, "        \
        "last_error"

static const char sql_otp_insert[] = "INSERT INTO otp(" OTP_COLS ")"
                                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char sql_otp_get[] = "SELECT " OTP_COLS " FROM otp WHERE txn = ?1";
static const char sql_otp_update[] = "UPDATE otp SET attempts = ?2, used = ?3 WHERE txn = ?1";
/* Both counts read the (pid, created_ms) and (client, created_ms) indexes only. */
static const char sql_otp_count[] =
    "SELECT (SELECT count(*) FROM otp WHERE pid = ?1 AND created_ms >= ?3),"
    " (SELECT count(*) FROM otp WHERE client = ?2 AND created_ms >= ?3)";
static const char sql_otp_purge[] = "DELETE FROM otp WHERE pid = ?1 AND created_ms < ?2";
static const char sql_outbox_insert[] =
    "INSERT INTO outbox(topic, subject, ref, body, state, attempts, next_ms, created_ms,"
    " updated_ms, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char sql_outbox_due[] = "SELECT " OUTBOX_COLS " FROM outbox WHERE state = 0"
                                     " AND next_ms <= ?1 ORDER BY next_ms, id LIMIT ?2";
/* Leaving the pending state empties the body (the sealed OTP is not kept once delivered or
 * given up). */
static const char sql_outbox_update[] =
    "UPDATE outbox SET state = ?2, attempts = ?3, next_ms = ?4, updated_ms = ?5,"
    " last_error = ?6, body = CASE WHEN ?2 = 0 THEN body ELSE zeroblob(0) END WHERE id = ?1";
static const char sql_outbox_count[] = "SELECT state, count(*) FROM outbox GROUP BY state";

int store__sqlite_otp_insert(struct store *st, const struct store_otp *o, struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, sql_otp_insert, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_text(q, 1, o->txn, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, o->pid);
        sqlite3_bind_text(q, 3, o->client, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 4, o->channel, -1, SQLITE_STATIC);
        sqlite3_bind_blob(q, 5, o->hash, STORE_OTP_HASH, SQLITE_STATIC);
        sqlite3_bind_int64(q, 6, o->created_ms);
        sqlite3_bind_int64(q, 7, o->expires_ms);
        sqlite3_bind_int(q, 8, o->attempts);
        sqlite3_bind_int(q, 9, o->used ? 1 : 0);
        return store__sqlite_step_done(st, q, err);
}

int store__sqlite_otp_get(struct store *st, const char *txn, struct store_otp *out,
                          struct pop_err *err)
{
        memset(out, 0, sizeof *out);
        sqlite3_stmt *q = store__sqlite_prepare(st, sql_otp_get, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_text(q, 1, txn, -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return store__sqlite_done(
                    q, pop_fail(err, POP_ENOTFOUND, "otp-unknown", "no such OTP transaction"));
        if (rc != SQLITE_ROW)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        store__sqlite_col_text(q, 0, out->txn, sizeof out->txn);
        out->pid = sqlite3_column_int64(q, 1);
        store__sqlite_col_text(q, 2, out->client, sizeof out->client);
        store__sqlite_col_text(q, 3, out->channel, sizeof out->channel);
        if (sqlite3_column_bytes(q, 4) != STORE_OTP_HASH)
                return store__sqlite_done(q, pop_fail(err, POP_ESTORE, "store-corrupt",
                                                      "corrupt value in the otp table"));
        memcpy(out->hash, sqlite3_column_blob(q, 4), STORE_OTP_HASH);
        out->created_ms = sqlite3_column_int64(q, 5);
        out->expires_ms = sqlite3_column_int64(q, 6);
        out->attempts = sqlite3_column_int(q, 7);
        out->used = sqlite3_column_int(q, 8) != 0;
        return store__sqlite_done(q, 0);
}

int store__sqlite_otp_update(struct store *st, const struct store_otp *o, struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, sql_otp_update, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_text(q, 1, o->txn, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 2, o->attempts);
        sqlite3_bind_int(q, 3, o->used ? 1 : 0);
        int rc = store__sqlite_step_done(st, q, err);
        if (rc == 0 && sqlite3_changes(store__sqlite_db(st)) == 0)
                rc = pop_fail(err, POP_ENOTFOUND, "otp-unknown", "no such OTP transaction");
        return rc;
}

int store__sqlite_otp_count(struct store *st, int64_t pid, const char *client, int64_t since_ms,
                            int *n_pid, int *n_client, struct pop_err *err)
{
        *n_pid = *n_client = 0;
        sqlite3_stmt *q = store__sqlite_prepare(st, sql_otp_count, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        sqlite3_bind_text(q, 2, client, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, since_ms);
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        *n_pid = sqlite3_column_int(q, 0);
        *n_client = sqlite3_column_int(q, 1);
        return store__sqlite_done(q, 0);
}

int store__sqlite_otp_purge(struct store *st, int64_t pid, int64_t before_ms, struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, sql_otp_purge, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        sqlite3_bind_int64(q, 2, before_ms);
        return store__sqlite_step_done(st, q, err);
}

int store__sqlite_outbox_insert(struct store *st, struct store_outbox *m, struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, sql_outbox_insert, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_text(q, 1, m->topic, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, m->subject);
        sqlite3_bind_text(q, 3, m->ref, -1, SQLITE_STATIC);
        sqlite3_bind_blob(q, 4, m->body, (int)m->body_len, SQLITE_STATIC);
        sqlite3_bind_int(q, 5, m->state);
        sqlite3_bind_int(q, 6, m->attempts);
        sqlite3_bind_int64(q, 7, m->next_ms);
        sqlite3_bind_int64(q, 8, m->created_ms);
        sqlite3_bind_int64(q, 9, m->updated_ms);
        sqlite3_bind_text(q, 10, m->last_error, -1, SQLITE_STATIC);
        int rc = store__sqlite_step_done(st, q, err);
        if (rc == 0)
                m->id = sqlite3_last_insert_rowid(store__sqlite_db(st));
        return rc;
}

int store__sqlite_outbox_due(struct store *st, int64_t now_ms, int limit, store_outbox_fn *fn,
                             void *ctx, struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, sql_outbox_due, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, now_ms);
        sqlite3_bind_int(q, 2, limit);
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                struct store_outbox m;
                memset(&m, 0, sizeof m);
                m.id = sqlite3_column_int64(q, 0);
                store__sqlite_col_text(q, 1, m.topic, sizeof m.topic);
                m.subject = sqlite3_column_int64(q, 2);
                store__sqlite_col_text(q, 3, m.ref, sizeof m.ref);
                m.body = sqlite3_column_blob(q, 4);
                m.body_len = (size_t)sqlite3_column_bytes(q, 4);
                m.state = sqlite3_column_int(q, 5);
                m.attempts = sqlite3_column_int(q, 6);
                m.next_ms = sqlite3_column_int64(q, 7);
                m.created_ms = sqlite3_column_int64(q, 8);
                m.updated_ms = sqlite3_column_int64(q, 9);
                store__sqlite_col_text(q, 10, m.last_error, sizeof m.last_error);
                int r = fn(ctx, &m);
                if (r)
                        return store__sqlite_done(q, r);
        }
        if (rc != SQLITE_DONE)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        return store__sqlite_done(q, 0);
}

int store__sqlite_outbox_update(struct store *st, const struct store_outbox *m, struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, sql_outbox_update, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, m->id);
        sqlite3_bind_int(q, 2, m->state);
        sqlite3_bind_int(q, 3, m->attempts);
        sqlite3_bind_int64(q, 4, m->next_ms);
        sqlite3_bind_int64(q, 5, m->updated_ms);
        sqlite3_bind_text(q, 6, m->last_error, -1, SQLITE_STATIC);
        int rc = store__sqlite_step_done(st, q, err);
        if (rc == 0 && sqlite3_changes(store__sqlite_db(st)) == 0)
                rc = pop_fail(err, POP_ENOTFOUND, "outbox-unknown", "no outbox message %lld",
                              (long long)m->id);
        return rc;
}

int store__sqlite_outbox_count(struct store *st, int64_t n[STORE_OUTBOX_N_STATES],
                               struct pop_err *err)
{
        for (int i = 0; i < STORE_OUTBOX_N_STATES; i++)
                n[i] = 0;
        sqlite3_stmt *q = store__sqlite_prepare(st, sql_outbox_count, err);
        if (!q)
                return POP_ESTORE;
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                int s = sqlite3_column_int(q, 0);
                if (s >= 0 && s < STORE_OUTBOX_N_STATES)
                        n[s] = sqlite3_column_int64(q, 1);
        }
        if (rc != SQLITE_DONE)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        return store__sqlite_done(q, 0);
}
