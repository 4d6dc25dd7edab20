/*
 * The audit database's own schema (the "<db>.audit" file of src/audit/, opened with
 * STORE_OPEN_AUDIT): the meta table (the audit public key), the hash-chained entries and the
 * signed checkpoints, and nothing of the registry. Its migrations are numbered apart from the
 * registry's, and the file is marked with its own PRAGMA application_id, so neither kind of file
 * can be opened (and migrated) as the other.
 *
 * Audit files made before this schema existed got the registry's whole schema (empty registry
 * tables, user_version in the registry's numbering, application_id 0). store__sqlite_audit_adopt
 * converts such a file in place inside the migration transaction: it drops the registry tables,
 * which must be empty (a table with rows means the file is not what it claims: it is refused,
 * nothing dropped), keeps meta and the audit tables as they are (same DDL as the registry's
 * migration 2, so no entry is rewritten and every hash still holds), and renumbers the file.
 */
#include "store/sqlite_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Each entry moves the audit schema from version i to i + 1. Never edit one that has shipped. */
static const char *const audit_migrations[] = {
    /* 1: meta, entries and checkpoints, as the registry's migrations 1 (meta) and 2 made them */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE audit_entry("
    " seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, actor TEXT NOT NULL,"
    " subject INTEGER NOT NULL, action TEXT NOT NULL, fields TEXT NOT NULL,"
    " purpose TEXT NOT NULL, outcome TEXT NOT NULL, rule TEXT NOT NULL,"
    " request_id TEXT NOT NULL, hash BLOB NOT NULL);"
    "CREATE INDEX audit_entry_subject ON audit_entry(subject, seq);"
    "CREATE TABLE audit_checkpoint("
    " seq INTEGER PRIMARY KEY, hash BLOB NOT NULL, time_ms INTEGER NOT NULL,"
    " sig BLOB NOT NULL);",
    /* 2: the subject index apart from the entries, brought up to date after them
     * (store_audit_index), with how far it goes in meta; entries without a subject are not in
     * it (no access log is asked for pid 0). */
    "CREATE TABLE audit_subject(subject INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY (subject, seq)) WITHOUT ROWID;"
    "INSERT INTO audit_subject(subject, seq)"
    " SELECT subject, seq FROM audit_entry WHERE subject <> 0 ORDER BY subject, seq;"
    "DROP INDEX audit_entry_subject;"
    "INSERT OR REPLACE INTO meta(key, value)"
    " SELECT 'audit_subject_upto', coalesce(max(seq), 0) FROM audit_entry;",
    /* 3: the subject index by bucket of 65,536 seqs, (seq >> 16, subject, seq): the entries of
     * an indexing transaction (random subjects) land in the pages of the newest bucket only, a
     * few hundred that stay in the cache, instead of one page per entry anywhere in an index
     * of the whole log; the access log looks a subject up once per bucket (docs/AUDIT.md). */
    "CREATE TABLE audit_subject_b(bucket INTEGER NOT NULL, subject INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, PRIMARY KEY (bucket, subject, seq)) WITHOUT ROWID;"
    "INSERT INTO audit_subject_b(bucket, subject, seq)"
    " SELECT seq >> " STORE__AUDIT_BUCKET_SHIFT ", subject, seq FROM audit_subject"
    " ORDER BY 1, 2, 3;"
    "DROP TABLE audit_subject;"
    "ALTER TABLE audit_subject_b RENAME TO audit_subject;",
};

const char *const *const store__sqlite_audit_migrations = audit_migrations;
const int store__sqlite_audit_n_migrations =
    (int)(sizeof audit_migrations / sizeof audit_migrations[0]);

/* The tables audit migration 1 makes: what a converted legacy file keeps. */
static bool audit_table(const char *name)
{
        return !strcmp(name, "meta") || !strcmp(name, "audit_entry") ||
               !strcmp(name, "audit_checkpoint");
}

static int exec(struct store *st, const char *sql, struct pop_err *err)
{
        int rc = sqlite3_exec(store__sqlite_db(st), sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : store__sqlite_fail(st, rc, err);
}

/* Identifiers here come from sqlite_master of our own files; quoted all the same. */
static int quoted(char *buf, size_t cap, const char *fmt, const char *name, struct pop_err *err)
{
        char *q = sqlite3_mprintf(fmt, name);
        if (!q)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        int n = snprintf(buf, cap, "%s", q);
        sqlite3_free(q);
        if (n < 0 || (size_t)n >= cap)
                return pop_fail(err, POP_ETOOBIG, "store-schema", "a table name is too long");
        return 0;
}

#define INDEX_UPTO_SELECT                                                                          \
        "SELECT coalesce(max(value), 0), (SELECT coalesce(max(seq), 0) FROM audit_entry)"          \
        " FROM meta WHERE key = 'audit_subject_upto'"
static const char index_upto_sql[] = INDEX_UPTO_SELECT;
/* In seq order, not sorted by key first: the rows go to the newest bucket, whose pages are in
 * the cache, so the sort bought no locality and cost the writer ~10 % of its CPU in a 10M-line
 * verify-batch (docs/BENCHMARKS.md). */
static const char index_sql[] =
    "INSERT INTO audit_subject(bucket, subject, seq) SELECT seq >> " STORE__AUDIT_BUCKET_SHIFT
    ", subject, seq FROM audit_entry WHERE seq > ?1 AND seq <= ?2 AND subject <> 0";
static const char index_set_sql[] =
    "INSERT OR REPLACE INTO meta(key, value) VALUES ('audit_subject_upto', ?1)";

/* Appending: one statement of 16 rows (the writer appends thousands per transaction: one step,
 * reset and statement start per 16 entries instead of per entry), the rest one row each. The
 * columns as sqlite.c's one-row insert. */
#define APPEND_ROWS 16
#define ROW1        "(?,?,?,?,?,?,?,?,?,?,?)"
#define ROW4        ROW1 "," ROW1 "," ROW1 "," ROW1
#define APPEND_SQL                                                                                 \
        "INSERT INTO audit_entry(seq, time_ms, actor, subject, action, fields, purpose, outcome,"  \
        " rule, request_id, hash) VALUES "
static const char append1_sql[] = APPEND_SQL ROW1;
static const char append16_sql[] = APPEND_SQL ROW4 "," ROW4 "," ROW4 "," ROW4;

static void bind_text(sqlite3_stmt *q, int i, const char *t)
{
        sqlite3_bind_text(q, i, t ? t : "", -1, SQLITE_STATIC);
}

int store__sqlite_audit_append_many(struct store *st, const struct store_audit_entry *e, size_t n,
                                    struct pop_err *err)
{
        while (n) {
                size_t k = n >= APPEND_ROWS ? APPEND_ROWS : 1;
                sqlite3_stmt *q =
                    store__sqlite_prepare(st, k > 1 ? append16_sql : append1_sql, err);
                if (!q)
                        return POP_ESTORE;
                for (size_t r = 0; r < k; r++) {
                        const struct store_audit_entry *x = &e[r];
                        int b = (int)r * 11;
                        sqlite3_bind_int64(q, b + 1, x->seq);
                        sqlite3_bind_int64(q, b + 2, x->time_ms);
                        bind_text(q, b + 3, x->actor);
                        sqlite3_bind_int64(q, b + 4, x->subject);
                        bind_text(q, b + 5, x->action);
                        bind_text(q, b + 6, x->fields);
                        bind_text(q, b + 7, x->purpose);
                        bind_text(q, b + 8, x->outcome);
                        bind_text(q, b + 9, x->rule);
                        bind_text(q, b + 10, x->request_id);
                        sqlite3_bind_blob(q, b + 11, x->hash, (int)sizeof x->hash, SQLITE_STATIC);
                }
                int rc = store__sqlite_step_done(st, q, err);
                if (rc)
                        return rc;
                e += k;
                n -= k;
        }
        return 0;
}

int store__sqlite_audit_index(struct store *st, int max_entries, int64_t *n_pending,
                              struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, index_upto_sql, err);
        if (!q)
                return POP_ESTORE;
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        int64_t upto = sqlite3_column_int64(q, 0), head = sqlite3_column_int64(q, 1);
        store__sqlite_done(q, 0);
        int64_t to = head - upto > max_entries ? upto + max_entries : head;
        *n_pending = head - to;
        if (to <= upto)
                return 0;
        if (!(q = store__sqlite_prepare(st, index_sql, err)))
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, upto);
        sqlite3_bind_int64(q, 2, to);
        if ((rc = store__sqlite_step_done(st, q, err)))
                return rc;
        if (!(q = store__sqlite_prepare(st, index_set_sql, err)))
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, to);
        return store__sqlite_step_done(st, q, err);
}

/* The smallest seq each check finds wrong (NULL when none): the index reaching past the entries;
 * an entry with a subject within its reach and no row (hidden from that access log); a row that
 * has no entry of its seq and subject, lies in the wrong bucket or beyond the index's reach. */
static const char index_check_sql[] =
    "WITH u(upto, head) AS (" INDEX_UPTO_SELECT ")"
    " SELECT (SELECT CASE WHEN upto > head THEN head + 1 END FROM u),"
    " (SELECT min(e.seq) FROM audit_entry e, u WHERE e.seq <= u.upto AND e.subject <> 0"
    " AND NOT EXISTS (SELECT 1 FROM audit_subject s WHERE s.bucket = e.seq "
    ">> " STORE__AUDIT_BUCKET_SHIFT " AND s.subject = e.subject AND s.seq = e.seq)),"
    " (SELECT min(s.seq) FROM audit_subject s, u WHERE s.bucket <> s.seq "
    ">> " STORE__AUDIT_BUCKET_SHIFT " OR s.seq > u.upto OR NOT EXISTS (SELECT 1 FROM audit_entry e"
    " WHERE e.seq = s.seq AND e.subject = s.subject))";

int store__sqlite_audit_index_check(struct store *st, struct store_audit_index_problem *out,
                                    struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, index_check_sql, err);
        if (!q)
                return POP_ESTORE;
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        static const char *const kinds[] = {"upto", "missing", "extra"};
        for (int i = 0; i < 3; i++) {
                if (sqlite3_column_type(q, i) == SQLITE_NULL)
                        continue;
                int64_t seq = sqlite3_column_int64(q, i);
                if (!out->seq || seq < out->seq) {
                        out->seq = seq;
                        out->kind = kinds[i];
                }
        }
        store__sqlite_done(q, 0);
        return 0;
}

int store__sqlite_audit_adopt(struct store *st, int version, int *new_version, struct pop_err *err)
{
        sqlite3 *db = store__sqlite_db(st);
        sqlite3_stmt *q = NULL;
        char names[64][64];
        int n = 0, kept = 0, rc = 0;
        *new_version = 0;
        if (version == 0) {
                /* A new file (or one that never got a table): the audit schema from scratch. */
                return exec(st, "PRAGMA application_id = " STORE__AUDIT_APP_ID_TEXT, err);
        }
        rc = sqlite3_prepare_v2(db,
                                "SELECT name FROM sqlite_master WHERE type = 'table'"
                                " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
                                -1, &q, NULL);
        if (rc != SQLITE_OK)
                return store__sqlite_fail(st, rc, err);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                const char *name = (const char *)sqlite3_column_text(q, 0);
                if (!name || strlen(name) >= sizeof names[0] ||
                    n == (int)(sizeof names / sizeof names[0])) {
                        sqlite3_finalize(q);
                        return pop_fail(err, POP_ESTORE, "store-kind",
                                        "the audit database holds tables popid does not know");
                }
                if (audit_table(name)) {
                        kept++;
                        continue;
                }
                snprintf(names[n++], sizeof names[0], "%s", name);
        }
        sqlite3_finalize(q);
        if (rc != SQLITE_DONE)
                return store__sqlite_fail(st, rc, err);
        if (kept != 3)
                return pop_fail(err, POP_ESTORE, "store-kind",
                                "the audit database (schema version %d) lacks the audit tables",
                                version);
        /* A registry table with rows: this is a registry, or the audit file of a registry
         * that kept data in it; either way not ours to drop. */
        for (int i = 0; i < n; i++) {
                char sql[160];
                if ((rc = quoted(sql, sizeof sql, "SELECT 1 FROM \"%w\" LIMIT 1", names[i], err)))
                        return rc;
                if ((rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL)) != SQLITE_OK)
                        return store__sqlite_fail(st, rc, err);
                rc = sqlite3_step(q);
                sqlite3_finalize(q);
                if (rc == SQLITE_ROW)
                        return pop_fail(err, POP_ESTORE, "store-kind",
                                        "the audit database has rows in registry table '%s': is "
                                        "it a registry?",
                                        names[i]);
                if (rc != SQLITE_DONE)
                        return store__sqlite_fail(st, rc, err);
        }
        for (int i = 0; i < n; i++) {
                char sql[160];
                if ((rc = quoted(sql, sizeof sql, "DROP TABLE \"%w\"", names[i], err)) ||
                    (rc = exec(st, sql, err)))
                        return rc;
        }
        if ((rc = exec(st, "PRAGMA application_id = " STORE__AUDIT_APP_ID_TEXT, err)))
                return rc;
        *new_version = 1;
        return 0;
}
