/*
 * Helpers of the SQLite backend's topic files (sqlite_int.h): a per-connection cache of
 * statements keyed by their static SQL text, and the mapping of SQLite's results to POP_E*
 * codes (the same as sqlite.c's own).
 */
#include "store/sqlite_int.h"

int store__sqlite_fail(struct store *st, int rc, struct pop_err *err)
{
        sqlite3 *db = store__sqlite_db(st);
        int prim = rc & 0xff;
        if (prim == SQLITE_CONSTRAINT)
                return pop_fail(err, POP_ECONFLICT, "store-constraint", "%s", sqlite3_errmsg(db));
        if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
                return pop_fail(err, POP_EAGAIN, "store-busy", "the database is busy: %s",
                                sqlite3_errmsg(db));
        if (prim == SQLITE_NOMEM)
                return pop_fail(err, POP_ENOMEM, "store-nomem", "out of memory in SQLite");
        return pop_fail(err, POP_ESTORE, "store-failure", "SQLite: %s", sqlite3_errmsg(db));
}

sqlite3_stmt *store__sqlite_prepare(struct store *st, const char *sql, struct pop_err *err)
{
        struct store__sqlite_ext *x = store__sqlite_ext(st);
        for (int i = 0; i < x->n; i++)
                if (x->sql[i] == sql)
                        return x->stmt[i];
        if (x->n == STORE__SQLITE_EXT_MAX) {
                pop_fail(err, POP_ESTORE, "store-failure",
                         "too many statements for the cache (STORE__SQLITE_EXT_MAX)");
                return NULL;
        }
        sqlite3_stmt *q = NULL;
        int rc =
            sqlite3_prepare_v3(store__sqlite_db(st), sql, -1, SQLITE_PREPARE_PERSISTENT, &q, NULL);
        if (rc != SQLITE_OK) {
                store__sqlite_fail(st, rc, err);
                return NULL;
        }
        x->sql[x->n] = sql;
        x->stmt[x->n++] = q;
        return q;
}

void store__sqlite_ext_close(struct store__sqlite_ext *x)
{
        for (int i = 0; i < x->n; i++)
                sqlite3_finalize(x->stmt[i]);
        x->n = 0;
}

int store__sqlite_done(sqlite3_stmt *q, int rc)
{
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        return rc;
}

int store__sqlite_step_done(struct store *st, sqlite3_stmt *q, struct pop_err *err)
{
        int rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        return store__sqlite_done(q, 0);
}
