/*
 * Unit tests of the audit database's own schema (src/store/sqlite_audit.c, STORE_OPEN_AUDIT):
 * a new audit file gets the audit tables only and its application_id; an audit file made by an
 * older popid with the registry's whole schema is converted in place, its entries kept; a file
 * whose registry tables hold rows is refused and left as it was; and neither kind of file opens
 * as the other. Each runs on "sqlite:" and on "fault:sqlite:" (unarmed, transparent).
 */
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "store/store.h"

static const char *prefix = "";

static int sql_int(const char *path, const char *sql)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        int v = -1;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
                v = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
        return v;
}

static void sql_exec(const char *path, const char *sql)
{
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
}

/* A registry at <tmp>/r.db; its audit file's path into apath. */
static void registry(char *uri, size_t cap, char *apath, size_t acap)
{
        char path[512];
        struct store *st = NULL;
        struct pop_err e = {0};
        tu_tmpdir();
        tu_path(path, sizeof path, "r.db");
        snprintf(uri, cap, "%s%s", prefix, path);
        snprintf(apath, acap, "%s.audit", path);
        assert_int_equal(store_open(uri, STORE_OPEN_CREATE, &st, &e), 0);
        store_close(st);
}

static void append_one(struct store *st, int64_t seq)
{
        struct pop_err e = {0};
        struct store_audit_entry en = {.seq = seq,
                                       .time_ms = 1,
                                       .actor = "operator:test",
                                       .subject = 100000000001,
                                       .action = "person.read",
                                       .fields = "name",
                                       .purpose = "",
                                       .outcome = "ok",
                                       .rule = "",
                                       .request_id = ""};
        memset(en.hash, (int)seq, sizeof en.hash);
        assert_int_equal(store_begin(st, &e), 0);
        assert_int_equal(store_audit_append(st, &en, &e), 0);
        assert_int_equal(store_commit(st, &e), 0);
}

static const char tables_sql[] = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                 " AND name NOT LIKE 'sqlite%'";

static void test_new_audit_file(void **state)
{
        (void)state;
        char uri[600], apath[600];
        struct store *st = NULL;
        struct pop_err e = {0};
        registry(uri, sizeof uri, apath, sizeof apath);
        assert_int_equal(audit_store_open(uri, &st, &e), 0);
        append_one(st, 1);
        store_close(st);
        assert_int_equal(sql_int(apath, "PRAGMA application_id"), 1886351457);
        assert_int_equal(sql_int(apath, "PRAGMA user_version"), 3);
        /* meta, audit_entry, audit_checkpoint, audit_subject */
        assert_int_equal(sql_int(apath, tables_sql), 4);
        assert_int_equal(sql_int(apath, "SELECT count(*) FROM sqlite_master WHERE name = 'person'"),
                         0);
        /* Reopening changes nothing. */
        assert_int_equal(audit_store_open(uri, &st, &e), 0);
        int64_t seq = 0;
        uint8_t h[STORE_AUDIT_HASH_BYTES];
        assert_int_equal(store_audit_last(st, &seq, h, &e), 0);
        assert_int_equal(seq, 1);
        store_close(st);
        assert_int_equal(sql_int(apath, tables_sql), 4);
}

/* An audit file as popid made them before: the registry's schema, opened as a registry. */
static void legacy_file(const char *apath)
{
        char auri[700];
        struct store *st = NULL;
        struct pop_err e = {0};
        snprintf(auri, sizeof auri, "%s%s", prefix, apath);
        assert_int_equal(store_open(auri, STORE_OPEN_CREATE, &st, &e), 0);
        append_one(st, 1);
        append_one(st, 2);
        store_close(st);
        assert_int_equal(sql_int(apath, "PRAGMA application_id"), 0);
        assert_true(sql_int(apath, tables_sql) > 3);
}

static void test_legacy_converted(void **state)
{
        (void)state;
        char uri[600], apath[600];
        struct store *st = NULL;
        struct pop_err e = {0};
        registry(uri, sizeof uri, apath, sizeof apath);
        legacy_file(apath);
        assert_int_equal(audit_store_open(uri, &st, &e), 0);
        int64_t seq = 0;
        uint8_t h[STORE_AUDIT_HASH_BYTES], want[STORE_AUDIT_HASH_BYTES];
        assert_int_equal(store_audit_last(st, &seq, h, &e), 0);
        assert_int_equal(seq, 2);
        memset(want, 2, sizeof want);
        assert_memory_equal(h, want, sizeof want); /* the entries are kept byte for byte */
        append_one(st, 3);
        store_close(st);
        assert_int_equal(sql_int(apath, "PRAGMA application_id"), 1886351457);
        assert_int_equal(sql_int(apath, "PRAGMA user_version"), 3);
        assert_int_equal(sql_int(apath, tables_sql), 4);
        assert_int_equal(sql_int(apath, "SELECT count(*) FROM audit_entry"), 3);
        /* Migration 2 indexed the two kept entries; the third waits for store_audit_index. */
        assert_int_equal(sql_int(apath, "SELECT count(*) FROM audit_subject"), 2);
}

static void test_legacy_with_rows_refused(void **state)
{
        (void)state;
        char uri[600], apath[600];
        struct store *st = NULL;
        struct pop_err e = {0};
        registry(uri, sizeof uri, apath, sizeof apath);
        legacy_file(apath);
        sql_exec(apath, "INSERT INTO pid_series(series, next) VALUES (1, 2)");
        int before = sql_int(apath, tables_sql);
        assert_int_equal(audit_store_open(uri, &st, &e), POP_ESTORE);
        assert_null(st);
        assert_string_equal(e.rule, "store-kind");
        assert_non_null(strstr(e.msg, "pid_series"));
        /* Nothing dropped, nothing renumbered. */
        assert_int_equal(sql_int(apath, tables_sql), before);
        assert_int_equal(sql_int(apath, "PRAGMA application_id"), 0);
        assert_int_equal(sql_int(apath, "SELECT count(*) FROM audit_entry"), 2);
}

static void test_kinds_not_mixed(void **state)
{
        (void)state;
        char uri[600], apath[600], auri[700];
        struct store *st = NULL;
        struct pop_err e = {0};
        registry(uri, sizeof uri, apath, sizeof apath);
        assert_int_equal(audit_store_open(uri, &st, &e), 0);
        store_close(st);
        /* The audit file as a registry. */
        snprintf(auri, sizeof auri, "%s%s", prefix, apath);
        assert_int_equal(store_open(auri, 0, &st, &e), POP_ESTORE);
        assert_string_equal(e.rule, "store-kind");
        assert_int_equal(sql_int(apath, tables_sql), 4);
        /* A registry with people as an audit file. */
        char rpath[600];
        snprintf(rpath, sizeof rpath, "%s", apath);
        rpath[strlen(rpath) - strlen(".audit")] = '\0';
        sql_exec(rpath, "INSERT INTO pid_series(series, next) VALUES (1, 2)");
        snprintf(auri, sizeof auri, "%s%s", prefix, rpath);
        memset(&e, 0, sizeof e);
        assert_int_equal(store_open(auri, STORE_OPEN_AUDIT, &st, &e), POP_ESTORE);
        assert_string_equal(e.rule, "store-kind");
        /* and the registry still opens as one */
        assert_int_equal(store_open(auri, 0, &st, &e), 0);
        store_close(st);
}

/* audit_by_subject finds entries whether or not audit_index has reached them. */
static int count_cb(void *ctx, const struct store_audit_entry *e)
{
        (void)e;
        ++*(int *)ctx;
        return 0;
}

static int by_subject(struct store *st, int64_t pid)
{
        int n = 0;
        struct pop_err e = {0};
        assert_int_equal(store_audit_by_subject(st, pid, 0, 100, count_cb, &n, &e), 0);
        return n;
}

static void test_subject_index(void **state)
{
        (void)state;
        char uri[600], apath[600];
        struct store *st = NULL;
        struct pop_err e = {0};
        int64_t pending = -1;
        registry(uri, sizeof uri, apath, sizeof apath);
        assert_int_equal(audit_store_open(uri, &st, &e), 0);
        for (int64_t s = 1; s <= 5; s++)
                append_one(st, s);
        assert_int_equal(by_subject(st, 100000000001), 5); /* all past the index */
        assert_int_equal(sql_int(apath, "SELECT count(*) FROM audit_subject"), 0);
        assert_int_equal(store_begin(st, &e), 0);
        assert_int_equal(store_audit_index(st, 3, &pending, &e), 0);
        assert_int_equal(store_commit(st, &e), 0);
        assert_int_equal(pending, 2);
        assert_int_equal(sql_int(apath, "SELECT count(*) FROM audit_subject"), 3);
        assert_int_equal(by_subject(st, 100000000001), 5); /* 3 indexed + 2 past the index */
        assert_int_equal(by_subject(st, 100000000002), 0);
        assert_int_equal(store_begin(st, &e), 0);
        assert_int_equal(store_audit_index(st, 100, &pending, &e), 0);
        assert_int_equal(store_commit(st, &e), 0);
        assert_int_equal(pending, 0);
        assert_int_equal(by_subject(st, 100000000001), 5);
        assert_int_equal(sql_int(apath, "SELECT count(*) FROM audit_subject"), 5);
        store_close(st);
}

/* Seqs of an access log, newest first. */
struct seqs {
        int n;
        int64_t v[16];
};

static int seq_cb(void *ctx, const struct store_audit_entry *e)
{
        struct seqs *l = ctx;
        assert_true(l->n < 16);
        l->v[l->n++] = e->seq;
        return 0;
}

static void append_about(struct store *st, int64_t seq, int64_t subject)
{
        struct pop_err e = {0};
        struct store_audit_entry en = {.seq = seq,
                                       .time_ms = 1,
                                       .actor = "operator:test",
                                       .subject = subject,
                                       .action = "person.read",
                                       .fields = "name",
                                       .outcome = "ok"};
        assert_int_equal(store_begin(st, &e), 0);
        assert_int_equal(store_audit_append(st, &en, &e), 0);
        assert_int_equal(store_commit(st, &e), 0);
}

static void index_upto(struct store *st, int max)
{
        struct pop_err e = {0};
        int64_t pending = 0;
        assert_int_equal(store_begin(st, &e), 0);
        assert_int_equal(store_audit_index(st, max, &pending, &e), 0);
        assert_int_equal(store_commit(st, &e), 0);
}

/* The subject index by bucket of 65,536 seqs (audit migration 3): an access log spanning
 * buckets, the index reaching into the middle of one, before and limit at bucket edges. */
static void test_subject_buckets(void **state)
{
        (void)state;
        char uri[600], apath[600];
        struct store *st = NULL;
        struct pop_err e = {0};
        const int64_t A = 100000000001, B = 100000000002;
        static const int64_t a_seqs[] = {1, 65535, 65536, 131071, 131072, 131073, 262150};
        static const int64_t b_seqs[] = {2, 65537, 131074, 200000};
        registry(uri, sizeof uri, apath, sizeof apath);
        assert_int_equal(audit_store_open(uri, &st, &e), 0);
        for (size_t i = 0, j = 0; i < 7 || j < 4;) {
                if (j == 4 || (i < 7 && a_seqs[i] < b_seqs[j]))
                        append_about(st, a_seqs[i++], A);
                else
                        append_about(st, b_seqs[j++], B);
        }
        append_about(st, 262151, 0); /* no subject: never indexed */
        /* The index up to 131072 (mid-bucket 2), then all of it. */
        for (int round = 0; round < 2; round++) {
                index_upto(st, round == 0 ? 131072 : 1000000);
                struct seqs l = {0};
                assert_int_equal(store_audit_by_subject(st, A, 0, 16, seq_cb, &l, &e), 0);
                assert_int_equal(l.n, 7);
                for (int i = 0; i < 7; i++)
                        assert_int_equal(l.v[i], a_seqs[6 - i]);
                memset(&l, 0, sizeof l);
                assert_int_equal(store_audit_by_subject(st, A, 131072, 16, seq_cb, &l, &e), 0);
                assert_int_equal(l.n, 4);
                assert_int_equal(l.v[0], 131071);
                assert_int_equal(l.v[1], 65536);
                assert_int_equal(l.v[3], 1);
                memset(&l, 0, sizeof l);
                assert_int_equal(store_audit_by_subject(st, A, 131074, 2, seq_cb, &l, &e), 0);
                assert_int_equal(l.n, 2);
                assert_int_equal(l.v[0], 131073);
                assert_int_equal(l.v[1], 131072);
                memset(&l, 0, sizeof l);
                assert_int_equal(store_audit_by_subject(st, B, 65537, 16, seq_cb, &l, &e), 0);
                assert_int_equal(l.n, 1);
                assert_int_equal(l.v[0], 2);
                memset(&l, 0, sizeof l);
                assert_int_equal(store_audit_by_subject(st, B, 0, 16, seq_cb, &l, &e), 0);
                assert_int_equal(l.n, 4);
        }
        store_close(st);
        assert_int_equal(sql_int(apath, "SELECT count(*) FROM audit_subject"), 11);
        assert_int_equal(sql_int(apath, "SELECT count(DISTINCT bucket) FROM audit_subject"), 5);
        assert_int_equal(
            sql_int(apath, "SELECT count(*) FROM audit_subject WHERE bucket <> seq >> 16"), 0);
}

static int run(const char *p)
{
        prefix = p;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_new_audit_file),
            cmocka_unit_test(test_legacy_converted),
            cmocka_unit_test(test_legacy_with_rows_refused),
            cmocka_unit_test(test_kinds_not_mixed),
            cmocka_unit_test(test_subject_index),
            cmocka_unit_test(test_subject_buckets),
        };
        return cmocka_run_group_tests_name(p, tests, NULL, NULL);
}

int main(void)
{
        return run("sqlite:") | run("fault:sqlite:");
}
