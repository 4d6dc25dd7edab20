/*
 * eID accounts and credentials on SQLite (store.h "eID accounts"; the tables come from the
 * eid_account / eid_credential migration in sqlite.c). One row per account keyed by pid, one per
 * (pid, kind) credential. Statements are cached per connection through sqlite_int.h.
 */
#include "store/sqlite_int.h"

#include <string.h>

#define ACCOUNT_COLS "pid, level, state, phone, email, creds, reason, created_ms, updated_ms"
#define CRED_COLS                                                                                  \
        "pid, kind, secret, confirmed, failures, locked_until_ms, expires_ms, counter, "           \
        "created_ms, updated_ms"

static const char SQL_ACCOUNT_GET[] = "SELECT " ACCOUNT_COLS " FROM eid_account WHERE pid = ?1";
static const char SQL_ACCOUNT_INSERT[] = "INSERT INTO eid_account(" ACCOUNT_COLS ")"
                                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_ACCOUNT_UPDATE[] =
    "UPDATE eid_account SET level = ?2, state = ?3, phone = ?4, email = ?5, creds = ?6,"
    " reason = ?7, created_ms = ?8, updated_ms = ?9 WHERE pid = ?1";
static const char SQL_CRED_GET[] = "SELECT " CRED_COLS " FROM eid_credential"
                                   " WHERE pid = ?1 AND kind = ?2";
static const char SQL_CRED_PUT[] = "INSERT OR REPLACE INTO eid_credential(" CRED_COLS ")"
                                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char SQL_CRED_DELETE[] = "DELETE FROM eid_credential WHERE pid = ?1 AND kind = ?2";
static const char SQL_CRED_DELETE_ALL[] = "DELETE FROM eid_credential WHERE pid = ?1";

static void bind_account(sqlite3_stmt *q, const struct store_eid_account *a)
{
        sqlite3_bind_int64(q, 1, a->pid);
        sqlite3_bind_int(q, 2, a->level);
        sqlite3_bind_int(q, 3, a->state);
        sqlite3_bind_text(q, 4, a->phone, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, a->email, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 6, (int64_t)a->creds);
        sqlite3_bind_text(q, 7, a->reason, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 8, a->created_ms);
        sqlite3_bind_int64(q, 9, a->updated_ms);
}

int store__sqlite_eid_account_get(struct store *st, int64_t pid, struct store_eid_account *out,
                                  struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, SQL_ACCOUNT_GET, err);
        if (!q)
                return err ? err->code : POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return store__sqlite_done(q,
                                          pop_fail(err, POP_ENOTFOUND, "eid-no-account",
                                                   "%012lld has no eID account", (long long)pid));
        if (rc != SQLITE_ROW)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        memset(out, 0, sizeof *out);
        out->pid = sqlite3_column_int64(q, 0);
        out->level = sqlite3_column_int(q, 1);
        out->state = sqlite3_column_int(q, 2);
        store__sqlite_col_text(q, 3, out->phone, sizeof out->phone);
        store__sqlite_col_text(q, 4, out->email, sizeof out->email);
        out->creds = (unsigned)sqlite3_column_int64(q, 5);
        store__sqlite_col_text(q, 6, out->reason, sizeof out->reason);
        out->created_ms = sqlite3_column_int64(q, 7);
        out->updated_ms = sqlite3_column_int64(q, 8);
        return store__sqlite_done(q, 0);
}

int store__sqlite_eid_account_insert(struct store *st, const struct store_eid_account *a,
                                     struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, SQL_ACCOUNT_INSERT, err);
        if (!q)
                return err ? err->code : POP_ESTORE;
        bind_account(q, a);
        int rc = store__sqlite_step_done(st, q, err);
        if (rc == POP_ECONFLICT)
                return pop_fail(err, POP_ECONFLICT, "eid-duplicate",
                                "%012lld already has an eID account", (long long)a->pid);
        return rc;
}

int store__sqlite_eid_account_update(struct store *st, const struct store_eid_account *a,
                                     struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, SQL_ACCOUNT_UPDATE, err);
        if (!q)
                return err ? err->code : POP_ESTORE;
        bind_account(q, a);
        int rc = store__sqlite_step_done(st, q, err);
        if (rc)
                return rc;
        if (sqlite3_changes(store__sqlite_db(st)) != 1)
                return pop_fail(err, POP_ENOTFOUND, "eid-no-account", "%012lld has no eID account",
                                (long long)a->pid);
        return 0;
}

int store__sqlite_eid_cred_get(struct store *st, int64_t pid, const char *kind,
                               struct store_eid_cred *out, struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, SQL_CRED_GET, err);
        if (!q)
                return err ? err->code : POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return store__sqlite_done(
                    q, pop_fail(err, POP_ENOTFOUND, "eid-no-credential", "no %s credential", kind));
        if (rc != SQLITE_ROW)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        memset(out, 0, sizeof *out);
        out->pid = sqlite3_column_int64(q, 0);
        store__sqlite_col_text(q, 1, out->kind, sizeof out->kind);
        int n = sqlite3_column_bytes(q, 2);
        const void *b = sqlite3_column_blob(q, 2);
        if (n < 0 || (size_t)n > sizeof out->secret)
                return store__sqlite_done(q, pop_fail(err, POP_ESTORE, "store-corrupt",
                                                      "corrupt value in the eid_credential table"));
        if (n)
                memcpy(out->secret, b, (size_t)n);
        out->secret_len = (size_t)n;
        out->confirmed = sqlite3_column_int(q, 3) != 0;
        out->failures = sqlite3_column_int(q, 4);
        out->locked_until_ms = sqlite3_column_int64(q, 5);
        out->expires_ms = sqlite3_column_int64(q, 6);
        out->counter = sqlite3_column_int64(q, 7);
        out->created_ms = sqlite3_column_int64(q, 8);
        out->updated_ms = sqlite3_column_int64(q, 9);
        return store__sqlite_done(q, 0);
}

int store__sqlite_eid_cred_put(struct store *st, const struct store_eid_cred *c,
                               struct pop_err *err)
{
        if (c->secret_len > sizeof c->secret)
                return pop_fail(err, POP_EINVAL, "eid-secret-size", "credential too large");
        sqlite3_stmt *q = store__sqlite_prepare(st, SQL_CRED_PUT, err);
        if (!q)
                return err ? err->code : POP_ESTORE;
        sqlite3_bind_int64(q, 1, c->pid);
        sqlite3_bind_text(q, 2, c->kind, -1, SQLITE_STATIC);
        sqlite3_bind_blob(q, 3, c->secret, (int)c->secret_len, SQLITE_STATIC);
        sqlite3_bind_int(q, 4, c->confirmed ? 1 : 0);
        sqlite3_bind_int(q, 5, c->failures);
        sqlite3_bind_int64(q, 6, c->locked_until_ms);
        sqlite3_bind_int64(q, 7, c->expires_ms);
        sqlite3_bind_int64(q, 8, c->counter);
        sqlite3_bind_int64(q, 9, c->created_ms);
        sqlite3_bind_int64(q, 10, c->updated_ms);
        return store__sqlite_step_done(st, q, err);
}

int store__sqlite_eid_cred_delete(struct store *st, int64_t pid, const char *kind,
                                  struct pop_err *err)
{
        sqlite3_stmt *q =
            store__sqlite_prepare(st, kind ? SQL_CRED_DELETE : SQL_CRED_DELETE_ALL, err);
        if (!q)
                return err ? err->code : POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        if (kind)
                sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
        return store__sqlite_step_done(st, q, err);
}
