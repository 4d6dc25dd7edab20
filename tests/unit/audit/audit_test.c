/*
 * Unit tests of src/audit/: the entry format (a known-answer test built byte by byte from
 * docs/AUDIT.md), the chain and its checkpoints, entry validation, tamper detection on the
 * stored log (each tampering edits the database with raw SQLite, as an attacker with the file
 * would, and must be reported at the right first bad seq), export and verification with only
 * the public key, group commit under many threads, durability, store faults in the middle of a
 * batch, audit_log_async (one callback per request, after the commit; a failed batch reported to
 * each of its requests; the queue cap), the access log, the key file, timed checkpoints, and two
 * writers on one database.
 */
#include "testutil.h"

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "store/store.h"

struct fx {
        char path[512];
        char uri[600];
        char key[600];
        char apath[600]; /* the audit database beside it */
};

static struct fx fx;

/* A fresh database in a fresh directory; uri_prefix "" or "fault:". */
static void fresh(const char *uri_prefix)
{
        tu_tmpdir();
        tu_path(fx.path, sizeof fx.path, "audit.db");
        snprintf(fx.uri, sizeof fx.uri, "%s%s", uri_prefix, fx.path);
        snprintf(fx.key, sizeof fx.key, "%s.audit.key", fx.path);
        snprintf(fx.apath, sizeof fx.apath, "%s.audit", fx.path);
        struct store *st = NULL;
        struct pop_err err = {0};
        assert_int_equal(store_open(fx.path, 1, &st, &err), 0);
        store_close(st);
}

static struct audit *open_audit(int every, int interval_ms)
{
        struct audit_opts o = {.checkpoint_every = every, .checkpoint_interval_ms = interval_ms};
        struct audit *a = NULL;
        struct pop_err err = {0};
        int rc = audit_open(fx.uri, fx.key, &o, &a, &err);
        if (rc)
                print_error("audit_open: %d %s: %s\n", rc, err.rule, err.msg);
        assert_int_equal(rc, 0);
        return a;
}

static int64_t log_one(struct audit *a, const char *actor, int64_t subject, const char *fields)
{
        struct audit_entry e = {.actor = actor,
                                .subject = subject,
                                .action = "person.read",
                                .fields = fields,
                                .purpose = "test",
                                .outcome = "ok",
                                .request_id = "req-1"};
        int64_t seq = 0;
        struct pop_err err = {0};
        int rc = audit_log(a, &e, &seq, &err);
        if (rc)
                print_error("audit_log: %d %s: %s\n", rc, err.rule, err.msg);
        assert_int_equal(rc, 0);
        return seq;
}

static void close_audit(struct audit *a)
{
        struct pop_err err = {0};
        assert_int_equal(audit_close(a, &err), 0);
}

static struct store *open_store(void)
{
        struct store *st = NULL;
        struct pop_err err = {0};
        assert_int_equal(audit_store_open(fx.path, &st, &err), 0);
        return st;
}

/* Runs audit_verify on a fresh connection; returns its code and fills res. */
static int verify(struct audit_verify_result *res)
{
        struct store *st = open_store();
        struct pop_err err = {0};
        int rc = audit_verify(st, NULL, res, &err);
        store_close(st);
        return rc;
}

static void sql(const char *q)
{
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(fx.apath, &db), SQLITE_OK);
        char *msg = NULL;
        if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK) {
                print_error("%s: %s\n", q, msg);
                fail();
        }
        sqlite3_close(db);
}

static int64_t sql_int(const char *q)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *s = NULL;
        assert_int_equal(sqlite3_open(fx.apath, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        int64_t v = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        sqlite3_close(db);
        return v;
}

/* A log of n entries with a checkpoint every `every` and a final one at n. */
static void make_log(int n, int every)
{
        fresh("");
        struct audit *a = open_audit(every, 3600000);
        for (int i = 1; i <= n; i++) {
                char actor[32];
                snprintf(actor, sizeof actor, "client:agency-%d", i % 3);
                assert_int_equal(log_one(a, actor, 1090000000LL + i, "full_name,dob"), i);
        }
        close_audit(a);
}

static void expect_bad(int64_t seq, const char *rule)
{
        struct audit_verify_result res;
        assert_int_equal(verify(&res), POP_EVERIFY);
        if (res.bad_seq != seq || strcmp(res.rule, rule) != 0)
                print_error("got bad seq %lld [%s] %s\n", (long long)res.bad_seq, res.rule,
                            res.reason);
        assert_int_equal(res.bad_seq, seq);
        assert_string_equal(res.rule, rule);
}

/* ---- format ---- */

static size_t put_str(uint8_t *p, const char *s)
{
        size_t n = strlen(s);
        p[0] = (uint8_t)(n >> 24), p[1] = (uint8_t)(n >> 16), p[2] = (uint8_t)(n >> 8);
        p[3] = (uint8_t)n;
        memcpy(p + 4, s, n);
        return 4 + n;
}

static size_t put_be(uint8_t *p, uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
        return 8;
}

/* The first entry's hash, built from docs/AUDIT.md by hand, equals the stored one; the
 * checkpoint signature verifies over the documented message. */
static void test_format_known_answer(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(1, 3600000);
        struct audit_entry e = {.time_ms = 1795428000123LL,
                                .actor = "client:bank-abc",
                                .subject = 1090012345LL,
                                .action = "person.read",
                                .fields = "full_name,dob,dob,address",
                                .purpose = "eKYC",
                                .outcome = "denied",
                                .rule = "grant-field",
                                .request_id = "r-42"};
        struct pop_err err = {0};
        int64_t seq = 0;
        assert_int_equal(audit_log(a, &e, &seq, &err), 0);
        assert_int_equal(seq, 1);
        close_audit(a);

        uint8_t buf[512], want[32];
        size_t n = 0;
        memset(buf, 0, 32); /* genesis: 32 zero bytes */
        n = 32;
        buf[n++] = 1;
        n += put_be(buf + n, 1);
        n += put_be(buf + n, 1795428000123ULL);
        n += put_be(buf + n, 1090012345ULL);
        n += put_str(buf + n, "client:bank-abc");
        n += put_str(buf + n, "person.read");
        n += put_str(buf + n, "address,dob,full_name"); /* sorted, deduplicated */
        n += put_str(buf + n, "eKYC");
        n += put_str(buf + n, "denied");
        n += put_str(buf + n, "grant-field");
        n += put_str(buf + n, "r-42");
        crypto_generichash(want, 32, buf, n, NULL, 0);

        struct store *st = open_store();
        struct store_audit_checkpoint cp;
        assert_int_equal(store_checkpoint_last(st, &cp, &err), 0);
        assert_int_equal(cp.seq, 1);
        assert_memory_equal(cp.hash, want, 32);
        uint8_t pk[32], msg[128];
        char pk_text[AUDIT_PK_TEXT];
        assert_int_equal(audit_public_key(st, pk, pk_text, &err), 0);
        assert_int_equal(strlen(pk_text), 43);
        n = 0;
        memcpy(msg, "popid-audit-checkpoint-v1", 25);
        n = 25;
        n += put_be(msg + n, 1);
        memcpy(msg + n, want, 32);
        n += 32;
        n += put_be(msg + n, (uint64_t)cp.time_ms);
        assert_int_equal(crypto_sign_verify_detached(cp.sig, msg, n, pk), 0);
        store_close(st);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry WHERE fields = "
                                 "'address,dob,full_name' AND rule = 'grant-field'"),
                         1);
}

/* audit__chain hashes what the format says whether the entry fits its one-shot buffer or not
 * (a stored entry being verified may hold any length). */
static void test_chain_long_entry(void **state)
{
        (void)state;
        static char fields[5000], purpose[300];
        memset(fields, 'f', sizeof fields - 1);
        memset(purpose, 'p', sizeof purpose - 1);
        for (int big = 0; big < 2; big++) {
                struct store_audit_entry e = {.seq = 7,
                                              .time_ms = 1795428000123LL,
                                              .actor = "client:x",
                                              .subject = 1090012345LL,
                                              .action = "person.read",
                                              .fields = big ? fields : "dob,name",
                                              .purpose = purpose,
                                              .outcome = "ok",
                                              .rule = NULL,
                                              .request_id = "r"};
                static uint8_t buf[8192];
                uint8_t prev[32], want[32], got[32];
                for (int i = 0; i < 32; i++)
                        prev[i] = (uint8_t)i;
                size_t n = 32;
                memcpy(buf, prev, 32);
                buf[n++] = 1;
                n += put_be(buf + n, 7);
                n += put_be(buf + n, 1795428000123ULL);
                n += put_be(buf + n, 1090012345ULL);
                n += put_str(buf + n, "client:x");
                n += put_str(buf + n, "person.read");
                n += put_str(buf + n, e.fields);
                n += put_str(buf + n, purpose);
                n += put_str(buf + n, "ok");
                n += put_str(buf + n, "");
                n += put_str(buf + n, "r");
                assert_true(big ? n > 4096 : n < 4096);
                crypto_generichash(want, 32, buf, n, NULL, 0);
                audit__chain(prev, &e, got);
                assert_memory_equal(got, want, 32);
        }
}

/* A request whose entries share strings (as a batch's do: one actor, purpose and request id
 * given by pointer, field lists equal in different buffers, outcomes and rules varying) stores
 * every entry exactly as one request per entry would; a bad entry anywhere refuses the whole
 * request, shared strings or not. */
static void test_many_shared_strings(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(0, 0);
        struct pop_err err = {0};
        enum { N = 40 };
        struct audit_entry e[N];
        char fields[N][32];
        for (int i = 0; i < N; i++) {
                snprintf(fields[i], sizeof fields[i], "%s",
                         i % 7 == 3   ? "sex,dob,name,dob"
                         : i % 5 == 0 ? "name"
                                      : "name,dob");
                e[i] = (struct audit_entry){.actor = "client:bank-abc",
                                            .subject = 1090000000LL + i,
                                            .action = "auth.verify-batch",
                                            .fields = fields[i],
                                            .purpose = "kyc",
                                            .outcome = i % 4 == 1 ? "not-found" : "ok",
                                            .rule = i % 4 == 1 ? "pid-unknown" : "",
                                            .request_id = i < 20 ? "txn-1" : "txn-2"};
        }
        int64_t seqs[N];
        /* A bad entry in the middle: a field list, then a subject, then an actor of its own. */
        snprintf(fields[17], sizeof fields[17], "name,,dob");
        assert_int_equal(audit_log_many(a, e, N, seqs, &err), POP_EINVAL);
        snprintf(fields[17], sizeof fields[17], "sex,dob,name,dob");
        e[30].subject = -1;
        assert_int_equal(audit_log_many(a, e, N, seqs, &err), POP_EINVAL);
        e[30].subject = 1090000030LL;
        e[31].actor = "bad\x01"
                      "actor";
        assert_int_equal(audit_log_many(a, e, N, seqs, &err), POP_EINVAL);
        e[31].actor = "client:bank-abc";
        assert_int_equal(audit_log_many(a, e, N, seqs, &err), 0);
        /* The same entries one request each, for comparison. */
        for (int i = 0; i < N; i++)
                assert_int_equal(audit_log(a, &e[i], NULL, &err), 0);
        close_audit(a);
        assert_int_equal(seqs[0], 1);
        assert_int_equal(seqs[N - 1], N);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 2 * N);
        /* Entry i of the shared request equals entry N + i field by field (time aside). */
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry x JOIN audit_entry y"
                                 " ON y.seq = x.seq + 40 WHERE x.seq <= 40 AND x.actor = y.actor"
                                 " AND x.subject = y.subject AND x.action = y.action"
                                 " AND x.fields = y.fields AND x.purpose = y.purpose"
                                 " AND x.outcome = y.outcome AND x.rule = y.rule"
                                 " AND x.request_id = y.request_id"),
                         N);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry WHERE fields = 'dob,name,sex'"),
                         2 * 6);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry WHERE request_id = 'txn-2'"
                                 " AND seq <= 40"),
                         20);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, 2 * N);
}

static void test_validation(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(0, 0);
        struct pop_err err = {0};
        char long_actor[AUDIT_ACTOR_MAX + 2];
        memset(long_actor, 'a', sizeof long_actor - 1);
        long_actor[sizeof long_actor - 1] = '\0';
        struct audit_entry bad[] = {
            {.actor = "x", .action = "person.read", .outcome = "maybe"},
            {.actor = "x", .action = "Person Read", .outcome = "ok"},
            {.actor = "", .action = "person.read", .outcome = "ok"},
            {.actor = long_actor, .action = "person.read", .outcome = "ok"},
            {.actor = "x", .action = "person.read", .outcome = "ok", .fields = "a,,b"},
            {.actor = "x", .action = "person.read", .outcome = "ok", .fields = "a b"},
            {.actor = "x", .action = "person.read", .outcome = "ok", .subject = 1000000000000LL},
            {.actor = "x\n", .action = "person.read", .outcome = "ok"},
            {.actor = "x\xc3", .action = "person.read", .outcome = "ok"},
            {.actor = "x", .action = "person.read", .outcome = "ok", .rule = "Bad Rule"},
            {.actor = "x", .action = "person.read", .outcome = "ok", .request_id = "a b"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(audit_log(a, &bad[i], NULL, &err), POP_EINVAL);
        /* Vietnamese text in actor and purpose is fine. */
        struct audit_entry good = {.actor = "operator:Nguyễn Văn An@host",
                                   .action = "person.read",
                                   .purpose = "xác minh cư trú",
                                   .outcome = "ok"};
        assert_int_equal(audit_log(a, &good, NULL, &err), 0);
        close_audit(a);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 1);
}

/* ---- chain, checkpoints, verification ---- */

static void test_chain_and_checkpoints(void **state)
{
        (void)state;
        make_log(12, 5);
        assert_int_equal(sql_int("SELECT group_concat(seq) = '5,10,12' FROM audit_checkpoint"), 1);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, 12);
        assert_int_equal(res.checkpoints, 3);
        assert_int_equal(res.last_seq, 12);
        assert_int_equal(res.last_checkpoint_seq, 12);
        assert_int_equal(res.bad_seq, 0);
        /* Reopening continues the chain. */
        struct audit *a = open_audit(5, 3600000);
        assert_int_equal(log_one(a, "client:x", 0, ""), 13);
        close_audit(a);
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, 13);
        assert_int_equal(res.last_checkpoint_seq, 13);
}

static void test_empty_log_verifies(void **state)
{
        (void)state;
        fresh("");
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, 0);
}

static void test_tamper_field(void **state)
{
        (void)state;
        make_log(20, 5);
        sql("UPDATE audit_entry SET actor = 'client:someone-else' WHERE seq = 7");
        expect_bad(7, "audit-entry-hash");
        make_log(20, 5);
        sql("UPDATE audit_entry SET subject = 1 WHERE seq = 1");
        expect_bad(1, "audit-entry-hash");
        make_log(20, 5);
        sql("UPDATE audit_entry SET fields = 'dob' WHERE seq = 20");
        expect_bad(20, "audit-entry-hash");
        make_log(20, 5);
        sql("UPDATE audit_entry SET time_ms = time_ms + 1 WHERE seq = 9");
        expect_bad(9, "audit-entry-hash");
}

static void test_tamper_type_and_nul(void **state)
{
        (void)state;
        make_log(20, 5);
        sql("UPDATE audit_entry SET hash = X'00' WHERE seq = 3");
        expect_bad(3, "audit-entry-malformed");
        /* A NUL hides the rest of a text from C strings: still caught. */
        make_log(20, 5);
        sql("UPDATE audit_entry SET purpose = purpose || char(0) || 'hidden' WHERE seq = 4");
        expect_bad(4, "audit-entry-malformed");
        make_log(20, 5);
        sql("UPDATE audit_entry SET actor = CAST(actor AS BLOB) WHERE seq = 5");
        expect_bad(5, "audit-entry-malformed");
}

static void test_tamper_delete(void **state)
{
        (void)state;
        make_log(20, 5);
        sql("DELETE FROM audit_entry WHERE seq = 7");
        expect_bad(7, "audit-entry-missing");
        make_log(20, 5);
        sql("DELETE FROM audit_entry WHERE seq = 1");
        expect_bad(1, "audit-entry-missing");
        /* Moving an entry out of the numbering is a deletion. */
        make_log(20, 5);
        sql("UPDATE audit_entry SET seq = -8 WHERE seq = 8");
        expect_bad(8, "audit-entry-missing");
}

static void test_tamper_swap(void **state)
{
        (void)state;
        make_log(20, 5);
        sql("UPDATE audit_entry SET seq = -7 WHERE seq = 7;"
            "UPDATE audit_entry SET seq = 7 WHERE seq = 8;"
            "UPDATE audit_entry SET seq = 8 WHERE seq = -7");
        expect_bad(7, "audit-entry-hash");
}

/* The subject index is outside the chain but decides what an access log shows: a row deleted,
 * added or moved, or a reach claimed past the entries, fails verification (each failed before
 * audit_verify checked the index). */
static void test_tamper_subject_index(void **state)
{
        (void)state;
        make_log(20, 5);
        assert_int_equal(sql_int("SELECT value FROM meta WHERE key = 'audit_subject_upto'"), 20);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        sql("DELETE FROM audit_subject WHERE seq = 7");
        expect_bad(7, "audit-index-missing");
        /* Another subject's entry added to a person's access log. */
        make_log(20, 5);
        sql("INSERT INTO audit_subject(bucket, subject, seq) VALUES (0, 1090000001, 9)");
        expect_bad(9, "audit-index-extra");
        /* and the access log does not show it meanwhile. */
        struct store *st = open_store();
        struct pop_err err = {0};
        json_t *j = NULL;
        assert_int_equal(audit_access_log(st, 1090000001LL, 0, 50, &j, &err), 0);
        json_t *es = json_object_get(j, "entries");
        assert_int_equal(json_array_size(es), 1);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(es, 0), "seq")), 1);
        json_decref(j);
        store_close(st);
        /* A row in the wrong bucket. */
        make_log(20, 5);
        sql("UPDATE audit_subject SET bucket = 1 WHERE seq = 12");
        expect_bad(12, "audit-index-missing"); /* and extra: the smaller kind is named */
        /* The reach raised past the head, which would hide the next entries. */
        make_log(20, 5);
        sql("UPDATE meta SET value = 40 WHERE key = 'audit_subject_upto'");
        expect_bad(21, "audit-index-upto");
        /* Lowered under rows it has: those entries would be read twice. */
        make_log(20, 5);
        sql("UPDATE meta SET value = 10 WHERE key = 'audit_subject_upto'");
        expect_bad(11, "audit-index-extra");
        /* Lowered with its rows: nothing hidden, the entries past it are read from the log. */
        sql("DELETE FROM audit_subject WHERE seq > 10");
        assert_int_equal(verify(&res), 0);
}

static void test_tamper_truncate(void **state)
{
        (void)state;
        /* Cut across a checkpoint: the checkpoint at 15 seals entries that are gone. */
        make_log(20, 5);
        sql("DELETE FROM audit_entry WHERE seq > 12");
        expect_bad(13, "audit-truncated");
        /* Everything gone but a checkpoint. */
        make_log(20, 5);
        sql("DELETE FROM audit_entry");
        expect_bad(1, "audit-truncated");
        /* The documented limit: entries after the last checkpoint, removed together with
         * nothing else, cannot be told from entries never written. Here the attacker also
         * deletes the final checkpoint; the log verifies up to seq 15. */
        make_log(20, 5);
        sql("DELETE FROM audit_checkpoint WHERE seq = 20; DELETE FROM audit_entry WHERE seq > 15");
        /* The subject index still reaches to 20 and gives it away ... */
        expect_bad(16, "audit-index-upto");
        /* ... unless the attacker cuts it back too. */
        sql("DELETE FROM audit_subject WHERE seq > 15;"
            "UPDATE meta SET value = 15 WHERE key = 'audit_subject_upto'");
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.last_seq, 15);
        assert_int_equal(res.last_checkpoint_seq, 15);
}

/* Rewrites entry seq's actor and recomputes every hash from there: a consistent forged chain. */
static void rewrite_chain_from(int64_t seq)
{
        struct store *st = open_store();
        struct pop_err err = {0};
        sqlite3 *db = NULL;
        assert_int_equal(sqlite3_open(fx.apath, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_stmt *q = NULL, *u = NULL;
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT seq, time_ms, actor, subject, action, fields,"
                                            " purpose, outcome, rule, request_id, hash FROM"
                                            " audit_entry ORDER BY seq",
                                            -1, &q, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "UPDATE audit_entry SET actor = ?2, hash = ?3"
                                            " WHERE seq = ?1",
                                            -1, &u, NULL),
                         SQLITE_OK);
        uint8_t prev[32] = {0};
        char actor[256];
        while (sqlite3_step(q) == SQLITE_ROW) {
                struct store_audit_entry e = {0};
                e.seq = sqlite3_column_int64(q, 0);
                e.time_ms = sqlite3_column_int64(q, 1);
                snprintf(actor, sizeof actor, "%s", (const char *)sqlite3_column_text(q, 2));
                if (e.seq == seq)
                        snprintf(actor, sizeof actor, "client:forger");
                e.actor = actor;
                e.subject = sqlite3_column_int64(q, 3);
                e.action = (const char *)sqlite3_column_text(q, 4);
                e.fields = (const char *)sqlite3_column_text(q, 5);
                e.purpose = (const char *)sqlite3_column_text(q, 6);
                e.outcome = (const char *)sqlite3_column_text(q, 7);
                e.rule = (const char *)sqlite3_column_text(q, 8);
                e.request_id = (const char *)sqlite3_column_text(q, 9);
                if (e.seq < seq) {
                        memcpy(prev, sqlite3_column_blob(q, 10), 32);
                        continue;
                }
                audit__chain(prev, &e, e.hash);
                memcpy(prev, e.hash, 32);
                sqlite3_bind_int64(u, 1, e.seq);
                sqlite3_bind_text(u, 2, actor, -1, SQLITE_TRANSIENT);
                sqlite3_bind_blob(u, 3, e.hash, 32, SQLITE_TRANSIENT);
                assert_int_equal(sqlite3_step(u), SQLITE_DONE);
                sqlite3_reset(u);
        }
        sqlite3_finalize(q);
        sqlite3_finalize(u);
        assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        (void)err;
        store_close(st);
}

static void test_tamper_rehashed_chain(void **state)
{
        (void)state;
        /* Every entry matches its hash, but the checkpoint at 10 seals the old chain: the
         * rewrite is somewhere in 6..10. */
        make_log(20, 5);
        rewrite_chain_from(7);
        expect_bad(6, "audit-checkpoint-mismatch");
}

static void test_tamper_forged_checkpoint(void **state)
{
        (void)state;
        make_log(20, 5);
        sql("UPDATE audit_checkpoint SET sig = randomblob(64) WHERE seq = 10");
        expect_bad(10, "audit-checkpoint-signature");
        /* A new checkpoint over a rewritten chain, signed with another key. */
        make_log(20, 5);
        rewrite_chain_from(17);
        uint8_t pk[32], sk[64];
        crypto_sign_keypair(pk, sk);
        struct store_audit_checkpoint cp = {.seq = 20, .time_ms = 1};
        struct store *st = open_store();
        int64_t head;
        struct pop_err err = {0};
        assert_int_equal(store_audit_last(st, &head, cp.hash, &err), 0);
        store_close(st);
        audit__checkpoint_sign(&cp, sk);
        char q[512], hex[65], sig[200];
        audit__hex(cp.hash, hex);
        sodium_bin2hex(sig, sizeof sig, cp.sig, 64);
        snprintf(
            q, sizeof q,
            "UPDATE audit_checkpoint SET hash = X'%s', sig = X'%s', time_ms = 1 WHERE seq = 20",
            hex, sig);
        sql(q);
        expect_bad(20, "audit-checkpoint-signature");
        /* A checkpoint re-signed over the same data but with its time changed. */
        make_log(20, 5);
        sql("UPDATE audit_checkpoint SET time_ms = time_ms + 1 WHERE seq = 5");
        expect_bad(5, "audit-checkpoint-signature");
}

/* ---- export ---- */

static char *export_text(int64_t from, size_t *len)
{
        char *buf = NULL;
        FILE *f = open_memstream(&buf, len);
        assert_non_null(f);
        struct store *st = open_store();
        struct pop_err err = {0};
        int64_t n = 0;
        int rc = audit_export(st, from, f, &n, &err);
        if (rc)
                print_error("export: %s\n", err.msg);
        assert_int_equal(rc, 0);
        store_close(st);
        fclose(f);
        return buf;
}

static void get_pk(uint8_t pk[32])
{
        struct store *st = open_store();
        struct pop_err err = {0};
        assert_int_equal(audit_public_key(st, pk, NULL, &err), 0);
        store_close(st);
}

/* Replaces the first occurrence of `from` after the line starting with `line_prefix`. */
static void edit(char *text, const char *line_prefix, const char *from, const char *to)
{
        char *l = strstr(text, line_prefix);
        assert_non_null(l);
        char *p = strstr(l, from);
        assert_non_null(p);
        assert_int_equal(strlen(from), strlen(to));
        memcpy(p, to, strlen(to));
}

static void test_export_verify(void **state)
{
        (void)state;
        make_log(20, 5);
        uint8_t pk[32];
        get_pk(pk);
        size_t len;
        char *text = export_text(0, &len);
        struct audit_verify_result res;
        struct pop_err err = {0};
        assert_int_equal(audit_verify_export(text, len, pk, &res, &err), 0);
        assert_int_equal(res.entries, 20);
        assert_int_equal(res.checkpoints, 4);
        assert_int_equal(res.last_checkpoint_seq, 20);

        /* The header names the key; the verifier trusts only the key it is given. */
        uint8_t other[32], osk[64];
        crypto_sign_keypair(other, osk);
        assert_int_equal(audit_verify_export(text, len, other, &res, &err), POP_EVERIFY);
        assert_string_equal(err.rule, "audit-export-key");

        /* A changed entry. */
        char *t2 = strdup(text);
        edit(t2, "{\"type\":\"entry\",\"seq\":9,", "agency-0", "agency-7");
        assert_int_equal(audit_verify_export(t2, len, pk, &res, &err), POP_EVERIFY);
        assert_int_equal(res.bad_seq, 9);
        free(t2);

        /* The last entry removed, its checkpoint left: cut. */
        t2 = strdup(text);
        char *l = strstr(t2, "{\"type\":\"entry\",\"seq\":20,");
        char *nl = strchr(l, '\n');
        memmove(l, nl + 1, strlen(nl + 1) + 1);
        assert_int_equal(audit_verify_export(t2, strlen(t2), pk, &res, &err), POP_EVERIFY);
        assert_int_equal(res.bad_seq, 20);
        assert_string_equal(res.rule, "audit-truncated");
        free(t2);

        /* Malformed lines are refused with a line number. */
        t2 = strdup(text);
        edit(t2, "{\"type\":\"entry\",\"seq\":3,", "\"seq\":3", "\"seq\":x");
        assert_int_equal(audit_verify_export(t2, len, pk, &res, &err), POP_EINVAL);
        assert_non_null(strstr(err.msg, "line 4"));
        free(t2);
        free(text);

        /* From the middle: chains from the header's prev_hash, pinned by the checkpoints. */
        text = export_text(8, &len);
        assert_int_equal(audit_verify_export(text, len, pk, &res, &err), 0);
        assert_int_equal(res.entries, 13);
        assert_int_equal(res.checkpoints, 3);
        /* A false prev_hash makes the first entry fail. */
        char *ph = strstr(text, "\"prev_hash\":\"");
        assert_non_null(ph);
        ph += strlen("\"prev_hash\":\"");
        *ph = *ph == '0' ? '1' : '0';
        assert_int_equal(audit_verify_export(text, len, pk, &res, &err), POP_EVERIFY);
        assert_int_equal(res.bad_seq, 8);
        free(text);

        /* An export of a stored log that was cut carries the orphan checkpoint along. */
        sql("DELETE FROM audit_entry WHERE seq > 12");
        text = export_text(0, &len);
        assert_int_equal(audit_verify_export(text, len, pk, &res, &err), POP_EVERIFY);
        assert_int_equal(res.bad_seq, 13);
        free(text);
}

/* Whoever can write the database can put their own key in it and re-sign every checkpoint: the
 * database's verifier is fooled, one given the real key is not. */
static void test_key_replaced(void **state)
{
        (void)state;
        make_log(12, 5);
        uint8_t real[32], pk[32], sk[64];
        get_pk(real);
        crypto_sign_keypair(pk, sk);
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL, *u = NULL;
        assert_int_equal(sqlite3_open(fx.apath, &db), SQLITE_OK);
        assert_int_equal(
            sqlite3_prepare_v2(db, "SELECT seq, hash, time_ms FROM audit_checkpoint", -1, &q, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "UPDATE audit_checkpoint SET sig = ?2 WHERE seq = ?1",
                                            -1, &u, NULL),
                         SQLITE_OK);
        static struct store_audit_checkpoint cps[16];
        int n = 0;
        while (sqlite3_step(q) == SQLITE_ROW && n < 16) {
                struct store_audit_checkpoint *c = &cps[n++];
                c->seq = sqlite3_column_int64(q, 0);
                memcpy(c->hash, sqlite3_column_blob(q, 1), 32);
                c->time_ms = sqlite3_column_int64(q, 2);
                audit__checkpoint_sign(c, sk);
        }
        sqlite3_finalize(q);
        for (int i = 0; i < n; i++) {
                sqlite3_bind_int64(u, 1, cps[i].seq);
                sqlite3_bind_blob(u, 2, cps[i].sig, 64, SQLITE_STATIC);
                assert_int_equal(sqlite3_step(u), SQLITE_DONE);
                sqlite3_reset(u);
        }
        sqlite3_finalize(u);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "UPDATE meta SET value = ?1 WHERE key ="
                                            " 'audit_public_key'",
                                            -1, &u, NULL),
                         SQLITE_OK);
        sqlite3_bind_blob(u, 1, pk, 32, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(u), SQLITE_DONE);
        sqlite3_finalize(u);
        sqlite3_close(db);

        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0); /* the recorded key is the forger's */
        struct store *st = open_store();
        struct pop_err err = {0};
        assert_int_equal(audit_verify(st, real, &res, &err), POP_EVERIFY);
        assert_string_equal(res.rule, "audit-key-mismatch");
        assert_int_equal(audit_verify(st, pk, &res, &err), 0);
        store_close(st);
}

/* ---- concurrency, durability, faults ---- */

#define N_THREADS  16
#define PER_THREAD 150

struct worker {
        struct audit *a;
        int id;
        int64_t seqs[PER_THREAD];
        int failures;
};

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        char actor[32];
        snprintf(actor, sizeof actor, "client:thread-%d", w->id);
        for (int i = 0; i < PER_THREAD; i++) {
                struct audit_entry e = {.actor = actor,
                                        .subject = 1000 + w->id,
                                        .action = "person.read",
                                        .fields = "dob",
                                        .outcome = "ok"};
                struct pop_err err = {0};
                if (audit_log(w->a, &e, &w->seqs[i], &err) != 0)
                        w->failures++;
        }
        return NULL;
}

static int cmp64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

static void test_concurrent_logging(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(100, 3600000);
        static struct worker w[N_THREADS];
        pthread_t t[N_THREADS];
        for (int i = 0; i < N_THREADS; i++) {
                w[i] = (struct worker){.a = a, .id = i};
                assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
        }
        for (int i = 0; i < N_THREADS; i++)
                pthread_join(t[i], NULL);
        struct audit_stats stats;
        audit_get_stats(a, &stats);
        assert_int_equal(audit_queue_depth(a), 0);
        close_audit(a);
        static int64_t all[N_THREADS * PER_THREAD];
        int n = 0;
        for (int i = 0; i < N_THREADS; i++) {
                assert_int_equal(w[i].failures, 0);
                for (int k = 0; k < PER_THREAD; k++) {
                        /* One thread's entries are in its order. */
                        if (k)
                                assert_true(w[i].seqs[k] > w[i].seqs[k - 1]);
                        all[n++] = w[i].seqs[k];
                }
        }
        qsort(all, (size_t)n, sizeof all[0], cmp64);
        for (int i = 0; i < n; i++)
                assert_int_equal(all[i], i + 1);
        assert_int_equal(stats.entries, N_THREADS * PER_THREAD);
        assert_true(stats.batches >= 1 && stats.batches <= stats.entries);
        print_message("concurrent: %lld entries in %lld batches\n", (long long)stats.entries,
                      (long long)stats.batches);
        for (int i = 0; i < N_THREADS; i++) {
                char q[128];
                snprintf(q, sizeof q,
                         "SELECT count(*) FROM audit_entry WHERE actor = 'client:thread-%d'"
                         " AND subject = %d",
                         i, 1000 + i);
                assert_int_equal(sql_int(q), PER_THREAD);
        }
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, N_THREADS * PER_THREAD);
}

/* Callers that log until told to stop (or a cap), for the write-ahead log test. */
struct steady {
        struct audit *a;
        int id;
        volatile int *stop;
        int n, failures;
};

static void *steady_main(void *arg)
{
        struct steady *w = arg;
        while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE) && w->n < 4000) {
                struct audit_entry e = {.actor = "client:steady",
                                        .subject = 2000 + w->id,
                                        .action = "person.read",
                                        .fields = "dob,full_name",
                                        .outcome = "ok"};
                struct pop_err err = {0};
                w->failures += audit_log(w->a, &e, NULL, &err) != 0;
                /* atomic: the main thread reads it while this one runs (ThreadSanitizer) */
                __atomic_store_n(&w->n, w->n + 1, __ATOMIC_RELAXED);
        }
        return NULL;
}

/* Under a steady load from many callers the audit database's write-ahead log starts over
 * (writer.c: the checkpointer woken per AUDIT_WAL_PAGES pages added, the writer copying what
 * was committed during a pass): before, it never emptied while callers kept it busy and grew
 * without end. The callers stop once a restart was seen (at most 8 x 4,000 entries). */
static void test_wal_starts_over(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(1000, 3600000);
        enum { T = 8 };
        static struct steady w[T];
        pthread_t t[T];
        volatile int stop = 0;
        for (int i = 0; i < T; i++) {
                w[i] = (struct steady){.a = a, .id = i, .stop = &stop};
                assert_int_equal(pthread_create(&t[i], NULL, steady_main, &w[i]), 0);
        }
        int running = T;
        int64_t restarts = 0, passes = 0;
        while ((audit__wal_counts(a, &restarts, &passes), restarts < 1) && running) {
                usleep(10000);
                running = 0;
                for (int i = 0; i < T; i++)
                        running += __atomic_load_n(&w[i].n, __ATOMIC_RELAXED) < 4000;
        }
        __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
        int n = 0;
        for (int i = 0; i < T; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(w[i].failures, 0);
                n += w[i].n;
        }
        audit__wal_counts(a, &restarts, &passes);
        print_message("wal: %d entries, %lld restarts\n", n, (long long)restarts);
        assert_true(restarts >= 1);
        close_audit(a);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, n);
}

/* A reader on an old snapshot of the audit database (another process's `audit verify`, here a
 * raw connection in a read transaction) keeps SQLite from starting the log over; the
 * checkpointer must still run per AUDIT_WAL_PAGES pages added, not after every batch. */
static void test_wal_reader_no_busy_checkpoints(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(1000, 3600000);
        struct audit_entry e = {.actor = "client:first", .action = "person.read", .outcome = "ok"};
        struct pop_err err = {0};
        assert_int_equal(audit_log(a, &e, NULL, &err), 0);
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        assert_int_equal(sqlite3_open(fx.apath, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_entry", -1, &q, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW); /* the snapshot is held from here */
        enum { T = 8 };
        static struct steady w[T];
        pthread_t t[T];
        volatile int stop = 0;
        for (int i = 0; i < T; i++) {
                w[i] = (struct steady){.a = a, .id = i, .stop = &stop, .n = 4000 - 600};
                assert_int_equal(pthread_create(&t[i], NULL, steady_main, &w[i]), 0);
        }
        for (int i = 0; i < T; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(w[i].failures, 0);
        }
        struct audit_stats stats;
        audit_get_stats(a, &stats);
        int64_t restarts = 0, passes = 0;
        audit__wal_counts(a, &restarts, &passes);
        print_message("wal with a reader: %lld batches, %lld passes, %lld restarts\n",
                      (long long)stats.batches, (long long)passes, (long long)restarts);
        assert_int_equal(restarts, 0); /* the reader's snapshot is still in the log */
        assert_true(passes * 20 < stats.batches);
        sqlite3_finalize(q);
        assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        close_audit(a);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, 1 + T * 600);
}

struct found {
        int64_t seq;
        char actor[64];
};

static int find_one(void *ctx, const struct store_audit_entry *e)
{
        struct found *f = ctx;
        f->seq = e->seq;
        snprintf(f->actor, sizeof f->actor, "%s", e->actor);
        return 1;
}

static void test_durable_on_return(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(0, 0);
        for (int i = 0; i < 5; i++) {
                char actor[32];
                snprintf(actor, sizeof actor, "client:d%d", i);
                int64_t seq = log_one(a, actor, 0, "");
                /* Another connection sees it at once: it was committed before audit_log
                 * returned. */
                struct store *st = open_store();
                struct found f = {0};
                struct pop_err err = {0};
                assert_int_equal(store_audit_iter(st, seq, find_one, &f, &err), 1);
                assert_int_equal(f.seq, seq);
                assert_string_equal(f.actor, actor);
                store_close(st);
        }
        close_audit(a);
}

struct fault_worker {
        struct audit *a;
        int rc;
        struct pop_err err;
};

static void *fault_worker_main(void *arg)
{
        struct fault_worker *w = arg;
        struct audit_entry e = {.actor = "client:f", .action = "person.read", .outcome = "ok"};
        w->rc = audit_log(w->a, &e, NULL, &w->err);
        return NULL;
}

/* n callers queue up behind a paused writer, which is armed to fail its fail_at-th write. */
static void batch_with_fault(struct audit *a, int n, int fail_at, int want_rc)
{
        struct fault_worker w[8];
        pthread_t t[8];
        audit__pause(a, true);
        for (int i = 0; i < n; i++) {
                w[i] = (struct fault_worker){.a = a};
                assert_int_equal(pthread_create(&t[i], NULL, fault_worker_main, &w[i]), 0);
        }
        while (audit_queue_depth(a) < (size_t)n)
                usleep(1000);
        audit__fault_arm(a, fail_at);
        audit__pause(a, false);
        for (int i = 0; i < n; i++) {
                pthread_join(t[i], NULL);
                assert_int_equal(w[i].rc, want_rc);
                if (want_rc)
                        assert_string_equal(w[i].err.rule, "store-fault");
        }
}

static void test_fault_fails_whole_batch(void **state)
{
        (void)state;
        fresh("fault:");
        struct audit *a = open_audit(1000, 3600000);
        log_one(a, "client:before", 0, "");
        /* The writes of a batch of 8: 8 appends, then the commit (no checkpoint is due). */
        batch_with_fault(a, 8, 1, POP_ESTORE); /* the first append */
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 1);
        batch_with_fault(a, 8, 5, POP_ESTORE); /* an append in the middle */
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 1);
        batch_with_fault(a, 8, 9, POP_ESTORE); /* the commit */
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 1);
        struct audit_stats stats;
        audit_get_stats(a, &stats);
        assert_int_equal(stats.failed, 24);
        /* The writer goes on from the unchanged head. */
        batch_with_fault(a, 8, 0, 0);
        assert_int_equal(log_one(a, "client:after", 0, ""), 10);
        close_audit(a);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 10);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, 10);
}

static void test_fault_on_checkpoint(void **state)
{
        (void)state;
        fresh("fault:");
        struct audit *a = open_audit(4, 3600000);
        log_one(a, "client:a", 0, "");
        log_one(a, "client:a", 0, "");
        /* A batch of 2 reaching seq 4: 2 appends, the checkpoint, the commit. */
        batch_with_fault(a, 2, 3, POP_ESTORE);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 2);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_checkpoint"), 0);
        batch_with_fault(a, 2, 0, 0);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_checkpoint"), 1);
        close_audit(a);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.checkpoints, 1);
        assert_int_equal(res.last_checkpoint_seq, 4);
}

/* ---- audit_log_async ---- */

#define N_ASYNC 12

/* What the callbacks of one test saw; each request's ctx is its index. */
static struct {
        pthread_mutex_t mu;
        pthread_cond_t cv;
        int calls[N_ASYNC];
        int rc[N_ASYNC];
        char rule[N_ASYNC][48];
        int64_t seqs[N_ASYNC][3];
        bool durable[N_ASYNC]; /* every seq of the request seen by another connection */
        int total;
} cbs = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void async_done(void *ctx, int rc, const struct pop_err *err, const int64_t *seqs)
{
        size_t i = (size_t)(uintptr_t)ctx;
        size_t n = i % 3 + 1; /* request i has i % 3 + 1 entries */
        bool durable = rc == 0;
        if (rc == 0) {
                /* Called after the commit: a connection of its own sees every entry. */
                struct store *st = open_store();
                for (size_t k = 0; k < n; k++) {
                        struct found f = {0};
                        struct pop_err e = {0};
                        durable = durable && store_audit_iter(st, seqs[k], find_one, &f, &e) == 1 &&
                                  f.seq == seqs[k];
                }
                store_close(st);
        }
        pthread_mutex_lock(&cbs.mu);
        cbs.calls[i]++;
        cbs.rc[i] = rc;
        snprintf(cbs.rule[i], sizeof cbs.rule[i], "%s", err ? err->rule : "");
        memcpy(cbs.seqs[i], seqs, n * sizeof *seqs);
        cbs.durable[i] = durable;
        cbs.total++;
        pthread_cond_broadcast(&cbs.cv);
        pthread_mutex_unlock(&cbs.mu);
}

static void cbs_reset(void)
{
        pthread_mutex_lock(&cbs.mu);
        memset(cbs.calls, 0, sizeof cbs.calls);
        memset(cbs.rc, 0, sizeof cbs.rc);
        memset(cbs.rule, 0, sizeof cbs.rule);
        memset(cbs.seqs, 0, sizeof cbs.seqs);
        memset(cbs.durable, 0, sizeof cbs.durable);
        cbs.total = 0;
        pthread_mutex_unlock(&cbs.mu);
}

static void cbs_wait(int total)
{
        pthread_mutex_lock(&cbs.mu);
        while (cbs.total < total)
                pthread_cond_wait(&cbs.cv, &cbs.mu);
        pthread_mutex_unlock(&cbs.mu);
}

static int cbs_total(void)
{
        pthread_mutex_lock(&cbs.mu);
        int n = cbs.total;
        pthread_mutex_unlock(&cbs.mu);
        return n;
}

/* Queues request i (i % 3 + 1 entries); returns audit_log_async's code. */
static int queue_async(struct audit *a, size_t i, struct pop_err *err)
{
        struct audit_entry e[3];
        char actor[32];
        snprintf(actor, sizeof actor, "client:async-%zu", i);
        for (size_t k = 0; k < 3; k++)
                e[k] = (struct audit_entry){.actor = actor,
                                            .subject = 1000 + (int64_t)k,
                                            .action = "person.read",
                                            .fields = "dob,full_name",
                                            .outcome = "ok",
                                            .request_id = "req-async"};
        return audit_log_async(a, e, i % 3 + 1, async_done, (void *)(uintptr_t)i, err);
}

static void test_async_callbacks(void **state)
{
        (void)state;
        fresh("");
        cbs_reset();
        struct audit *a = open_audit(1000, 3600000);
        struct pop_err err = {0};
        audit__pause(a, true);
        size_t entries = 0;
        for (size_t i = 0; i < N_ASYNC; i++) {
                assert_int_equal(queue_async(a, i, &err), 0);
                entries += i % 3 + 1;
        }
        /* Queued, not written: no callback yet, and the caller was not held. */
        usleep(20000);
        assert_int_equal(cbs_total(), 0);
        assert_int_equal(audit_queue_depth(a), entries);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 0);
        audit__pause(a, false);
        cbs_wait(N_ASYNC);
        struct audit_stats stats;
        audit_get_stats(a, &stats);
        close_audit(a);
        /* Exactly once each, after durability, seqs in queue order with none missing. */
        int64_t next = 1;
        for (size_t i = 0; i < N_ASYNC; i++) {
                assert_int_equal(cbs.calls[i], 1);
                assert_int_equal(cbs.rc[i], 0);
                assert_true(cbs.durable[i]);
                for (size_t k = 0; k < i % 3 + 1; k++)
                        assert_int_equal(cbs.seqs[i][k], next++);
        }
        assert_int_equal(stats.entries, (int64_t)entries);
        assert_int_equal(stats.batches, 1); /* everything queued went in one commit */
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), (int64_t)entries);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        /* Refused before anything is queued: no callback. */
        cbs_reset();
        a = open_audit(1000, 3600000);
        struct audit_entry bad = {.actor = "client:x", .action = "Bad Action", .outcome = "ok"};
        assert_int_equal(audit_log_async(a, &bad, 1, async_done, NULL, &err), POP_EINVAL);
        assert_int_equal(audit_log_async(a, &bad, 0, async_done, NULL, &err), POP_EINVAL);
        close_audit(a);
        assert_int_equal(cbs_total(), 0);
}

static void test_async_fault(void **state)
{
        (void)state;
        fresh("fault:");
        cbs_reset();
        struct audit *a = open_audit(1000, 3600000);
        struct pop_err err = {0};
        log_one(a, "client:before", 0, "");
        audit__pause(a, true);
        size_t entries = 0;
        for (size_t i = 0; i < 6; i++) {
                assert_int_equal(queue_async(a, i, &err), 0);
                entries += i % 3 + 1;
        }
        /* The batch's fourth append fails: every request of the batch hears of it, even those
         * whose entries were appended before the fault, and nothing of it stays. */
        audit__fault_arm(a, 4);
        audit__pause(a, false);
        cbs_wait(6);
        for (size_t i = 0; i < 6; i++) {
                assert_int_equal(cbs.calls[i], 1);
                assert_int_equal(cbs.rc[i], POP_ESTORE);
                assert_string_equal(cbs.rule[i], "store-fault");
                assert_int_equal(cbs.seqs[i][0], 0);
        }
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 1);
        struct audit_stats stats;
        audit_get_stats(a, &stats);
        assert_int_equal(stats.failed, (int64_t)entries);
        assert_int_equal(audit_queue_depth(a), 0);
        /* The writer goes on from the unchanged head. */
        cbs_reset();
        assert_int_equal(queue_async(a, 2, &err), 0);
        cbs_wait(1);
        assert_int_equal(cbs.rc[2], 0);
        assert_int_equal(cbs.seqs[2][0], 2);
        assert_int_equal(cbs.seqs[2][2], 4);
        close_audit(a);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, 4);
}

static void test_async_busy(void **state)
{
        (void)state;
        fresh("");
        cbs_reset();
        struct audit_opts o = {.max_queue = 4};
        struct audit *a = NULL;
        struct pop_err err = {0};
        assert_int_equal(audit_open(fx.uri, fx.key, &o, &a, &err), 0);
        audit__pause(a, true);
        assert_int_equal(queue_async(a, 0, &err), 0); /* 1 entry */
        assert_int_equal(queue_async(a, 2, &err), 0); /* 3: the queue is full */
        assert_int_equal(queue_async(a, 3, &err), POP_EAGAIN);
        assert_string_equal(err.rule, "audit-busy");
        audit__pause(a, false);
        cbs_wait(2);
        /* Room again once the writer took the queue. */
        assert_int_equal(queue_async(a, 3, &err), 0);
        cbs_wait(3);
        close_audit(a);
        assert_int_equal(cbs.calls[0] + cbs.calls[2] + cbs.calls[3], 3);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_entry"), 5);
}

/* ---- access log, key, timer, two writers ---- */

static void test_access_log(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(0, 0);
        const int64_t pid = 1090012345LL;
        log_one(a, "client:bank", pid, "full_name");
        log_one(a, "client:other", 42, "dob");
        log_one(a, "client:telco", pid, "dob,full_name");
        log_one(a, "citizen:001090012345", pid, "");
        close_audit(a);
        struct store *st = open_store();
        struct pop_err err = {0};
        json_t *j = NULL;
        assert_int_equal(audit_access_log(st, pid, 0, 2, &j, &err), 0);
        assert_string_equal(json_string_value(json_object_get(j, "pid")), "001090012345");
        json_t *es = json_object_get(j, "entries");
        assert_int_equal(json_array_size(es), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(es, 0), "actor")),
                            "citizen:001090012345");
        json_t *f1 = json_object_get(json_array_get(es, 1), "fields");
        assert_int_equal(json_array_size(f1), 2);
        assert_string_equal(json_string_value(json_array_get(f1, 0)), "dob");
        assert_string_equal(json_string_value(json_object_get(json_array_get(es, 1), "purpose")),
                            "test");
        int64_t next = json_integer_value(json_object_get(j, "next"));
        assert_int_equal(next, 3);
        json_decref(j);
        assert_int_equal(audit_access_log(st, pid, next, 2, &j, &err), 0);
        es = json_object_get(j, "entries");
        assert_int_equal(json_array_size(es), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(es, 0), "actor")),
                            "client:bank");
        assert_null(json_object_get(j, "next"));
        json_decref(j);
        assert_int_equal(audit_access_log(st, pid, 0, 0, &j, &err), POP_EINVAL);
        store_close(st);
}

static void test_key_file(void **state)
{
        (void)state;
        fresh("");
        struct pop_err err = {0};
        assert_int_equal(audit_key_init(fx.uri, fx.key, &err), 0);
        struct stat sb;
        assert_int_equal(stat(fx.key, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        /* Idempotent: the same key. */
        uint8_t pk1[32], pk2[32];
        get_pk(pk1);
        assert_int_equal(audit_key_init(fx.uri, fx.key, &err), 0);
        get_pk(pk2);
        assert_memory_equal(pk1, pk2, 32);
        /* Another key file is refused. */
        char other[700];
        snprintf(other, sizeof other, "%s.other", fx.key);
        uint8_t sk[64], pk[32];
        /* (made for a scratch database so the registry's recorded key stays) */
        char scratch[600];
        tu_path(scratch, sizeof scratch, "scratch.db");
        struct store *s2 = NULL;
        assert_int_equal(store_open(scratch, 1, &s2, &err), 0);
        assert_int_equal(audit__key_load(s2, other, sk, pk, &err), 0);
        store_close(s2);
        struct audit *a = NULL;
        assert_int_equal(audit_open(fx.uri, other, NULL, &a, &err), POP_EVERIFY);
        assert_string_equal(err.rule, "audit-key-mismatch");
        /* A lost key file is not silently replaced. */
        assert_int_equal(unlink(fx.key), 0);
        assert_int_equal(audit_open(fx.uri, fx.key, NULL, &a, &err), POP_EIO);
        assert_string_equal(err.rule, "audit-key-missing");
        /* A key file others can read is refused. */
        assert_int_equal(chmod(other, 0644), 0);
        assert_int_equal(audit_key_init(scratch, other, &err), POP_EIO);
        assert_string_equal(err.rule, "audit-key-mode");
}

static void test_timed_checkpoint(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(1000, 50);
        log_one(a, "client:t", 0, "");
        int64_t n = 0;
        for (int i = 0; i < 200 && n == 0; i++) {
                usleep(10000);
                n = sql_int("SELECT count(*) FROM audit_checkpoint WHERE seq = 1");
        }
        assert_int_equal(n, 1);
        close_audit(a);
        assert_int_equal(sql_int("SELECT count(*) FROM audit_checkpoint"), 1);
}

static void test_two_writers_one_chain(void **state)
{
        (void)state;
        fresh("");
        struct audit *a = open_audit(3, 3600000), *b = open_audit(3, 3600000);
        for (int i = 0; i < 10; i++) {
                assert_int_equal(log_one(a, "client:a", 0, ""), 2 * i + 1);
                assert_int_equal(log_one(b, "client:b", 0, ""), 2 * i + 2);
        }
        close_audit(a);
        close_audit(b);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, 20);
        assert_int_equal(res.last_checkpoint_seq, 20);
}

static void test_log_once(void **state)
{
        (void)state;
        fresh("");
        struct audit_entry e = {.actor = "operator:root@host",
                                .subject = 1090012345LL,
                                .action = "person.read",
                                .fields = "full_name",
                                .outcome = "ok"};
        struct pop_err err = {0};
        assert_int_equal(audit_log_once(fx.uri, fx.key, &e, &err), 0);
        assert_int_equal(audit_log_once(fx.uri, fx.key, &e, &err), 0);
        struct audit_verify_result res;
        assert_int_equal(verify(&res), 0);
        assert_int_equal(res.entries, 2);
        assert_int_equal(res.last_checkpoint_seq, 2);
        e.outcome = "perhaps";
        assert_int_equal(audit_log_once(fx.uri, fx.key, &e, &err), POP_EINVAL);
        /* A missing registry is not created by auditing. */
        char missing[600];
        tu_path(missing, sizeof missing, "none.db");
        e.outcome = "ok";
        assert_int_equal(audit_log_once(missing, fx.key, &e, &err), POP_ENOTFOUND);
        /* The entries are in the audit database, none in the registry's. */
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        assert_int_equal(sqlite3_open(fx.path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit_entry", -1, &q, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(q, 0), 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
}

static void test_store_uri(void **state)
{
        (void)state;
        char buf[64];
        struct pop_err err = {0};
        assert_int_equal(audit_store_uri("fault:sqlite:/x/r.db", buf, sizeof buf, &err), 0);
        assert_string_equal(buf, "fault:sqlite:/x/r.db.audit");
        assert_int_equal(audit_store_uri("/x/r.db", buf, sizeof buf, &err), 0);
        assert_string_equal(buf, "/x/r.db.audit");
        assert_int_equal(audit_store_uri("postgres://h/db", buf, sizeof buf, &err), POP_EINVAL);
        assert_int_equal(audit_store_uri("", buf, sizeof buf, &err), POP_EINVAL);
        assert_int_equal(
            audit_store_uri("/x/a-path-much-too-long-for-the-buffer-given-here.db", buf, 16, &err),
            POP_ETOOBIG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_format_known_answer),
            cmocka_unit_test(test_validation),
            cmocka_unit_test(test_chain_long_entry),
            cmocka_unit_test(test_many_shared_strings),
            cmocka_unit_test(test_chain_and_checkpoints),
            cmocka_unit_test(test_empty_log_verifies),
            cmocka_unit_test(test_tamper_field),
            cmocka_unit_test(test_tamper_type_and_nul),
            cmocka_unit_test(test_tamper_delete),
            cmocka_unit_test(test_tamper_swap),
            cmocka_unit_test(test_tamper_subject_index),
            cmocka_unit_test(test_tamper_truncate),
            cmocka_unit_test(test_tamper_rehashed_chain),
            cmocka_unit_test(test_tamper_forged_checkpoint),
            cmocka_unit_test(test_key_replaced),
            cmocka_unit_test(test_export_verify),
            cmocka_unit_test(test_concurrent_logging),
            cmocka_unit_test(test_wal_starts_over),
            cmocka_unit_test(test_wal_reader_no_busy_checkpoints),
            cmocka_unit_test(test_durable_on_return),
            cmocka_unit_test(test_fault_fails_whole_batch),
            cmocka_unit_test(test_fault_on_checkpoint),
            cmocka_unit_test(test_async_callbacks),
            cmocka_unit_test(test_async_fault),
            cmocka_unit_test(test_async_busy),
            cmocka_unit_test(test_access_log),
            cmocka_unit_test(test_key_file),
            cmocka_unit_test(test_timed_checkpoint),
            cmocka_unit_test(test_two_writers_one_chain),
            cmocka_unit_test(test_log_once),
            cmocka_unit_test(test_store_uri),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
