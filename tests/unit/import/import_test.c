/*
 * Unit tests of src/import/: the line parser on its own (imp_parse_line), then imp_run on small
 * files against a fresh registry, one kind of bad input per test: the refused line is reported
 * with its line number, field and rule, and in all-or-nothing mode nothing at all is stored
 * (no person, household, residence, card, journal event). Valid-only mode stores the rest and
 * refuses what depends on a refused line. A fault-injecting store fails every write of an import
 * in turn: each failure leaves the registry as it was. Export then import gives the same bytes.
 */
#include "testutil.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/import.h"
#include "import/import_int.h"

static const struct pdate today = {2026, 11, 23};

#define ADDR "\"address\":{\"province\":\"01\",\"commune\":\"00004\",\"line\":\"12 Hàng Bạc\"}"
/* A family: head, wife, son; the three lines are valid together. */
#define HEAD                                                                                       \
        "{\"pid\":\"001080000001\",\"name\":\"Trần Văn Nam\",\"dob\":\"1980-03-02\",\"sex\":"   \
        "\"male\",\"birth_province\":\"01\",\"spouse\":\"001182000002\",\"household\":\"H1\","     \
        "\"relation\":\"head\"," ADDR ",\"card_issued\":\"2020-01-01\"}\n"
#define WIFE                                                                                       \
        "{\"pid\":\"001182000002\",\"name\":\"Lê Thị Hoa\",\"dob\":\"1982-05\",\"sex\":"        \
        "\"female\",\"birth_province\":\"01\",\"spouse\":\"001080000001\",\"household\":\"H1\","   \
        "\"relation\":\"spouse\"," ADDR "}\n"
#define SON                                                                                        \
        "{\"pid\":\"001210000003\",\"name\":\"Trần Văn An\",\"dob\":\"2010-01-01\",\"sex\":"    \
        "\"male\",\"birth_province\":\"01\",\"father\":\"001080000001\",\"mother\":"               \
        "\"001182000002\",\"household\":\"H1\",\"relation\":\"child\"," ADDR "}\n"

#define CSV_HEAD                                                                                   \
        "pid,name,dob,sex,birth_province,hometown,ethnicity,religion,nationality,father,mother,"   \
        "spouse,status,death_date,household,relation,province,commune,address,since,"              \
        "tmp_province,tmp_commune,tmp_address,tmp_from,tmp_until,card_issued\n"
#define CSV_ROW1                                                                                          \
        "001080000001,Trần Văn Nam,1980-03-02,male,01,\"Hà Nội, Việt Nam\",Kinh,,VNM,,,,living,," \
        "H1,head,01,00004,12 Hàng Bạc,,79,26734,5 Lê Lợi,2025-01-01,2026-12-31,2020-01-01\n"
#define CSV_ROW2                                                                                   \
        "001210000003,Trần Văn An,2010-01-01,male,01,,,,,001080000001,,,,,H1,child,01,00004,"   \
        "12 Hàng Bạc,2010-02-01,,,,,,\n"

struct fx {
        char db[512];
        char uri[600];
        char rejects[512];
        struct reg *r;
        struct reg_ctx ctx;
        struct imp_stats stats;
        struct pop_err err;
        char indexes[8192]; /* the schema's indexes after init (an import must restore them) */
};

static void indexes(struct fx *f, char *out, size_t cap);

static int setup_uri(void **state, const char *prefix)
{
        struct fx *f = calloc(1, sizeof *f);
        if (!f)
                return -1;
        tu_tmpdir();
        tu_path(f->db, sizeof f->db, "r.db");
        tu_path(f->rejects, sizeof f->rejects, "rejects.jsonl");
        snprintf(f->uri, sizeof f->uri, "%s%s", prefix, f->db);
        struct pop_err e = {0};
        if (reg_init(f->db, "Test", &e) || reg_open(f->uri, &f->r, &e)) {
                fprintf(stderr, "setup: %s\n", e.msg);
                free(f);
                return -1;
        }
        indexes(f, f->indexes, sizeof f->indexes);
        f->ctx.actor = "test:import";
        f->ctx.today = today;
        f->ctx.now_ms = 1795428000000LL;
        *state = f;
        return 0;
}

static int setup(void **state)
{
        return setup_uri(state, "sqlite:");
}

static int setup_fault(void **state)
{
        return setup_uri(state, "fault:sqlite:");
}

static int teardown(void **state)
{
        struct fx *f = *state;
        reg_close(f->r);
        free(f);
        return 0;
}

static void write_file(const char *path, const char *content, size_t len)
{
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(content, 1, len, fp), len);
        assert_int_equal(fclose(fp), 0);
}

/* Imports content (named name, so its extension gives the format); returns imp_run's code. */
static int run_n(struct fx *f, const char *name, const char *content, size_t len,
                 enum imp_mode mode)
{
        char path[512];
        tu_path(path, sizeof path, name);
        write_file(path, content, len);
        const char *files[] = {path};
        struct imp_opts o = {.mode = mode, .rejects = f->rejects};
        memset(&f->err, 0, sizeof f->err);
        return imp_run(f->r, &f->ctx, files, 1, &o, &f->stats, &f->err);
}

static int run(struct fx *f, const char *name, const char *content, enum imp_mode mode)
{
        return run_n(f, name, content, strlen(content), mode);
}

/* One number from the database, read with a connection of its own. */
static long long count(struct fx *f, const char *sql)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        long long n = -1;
        assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
                n = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
        return n;
}

/* Every index of the schema, as text. */
static void indexes(struct fx *f, char *out, size_t cap)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        out[0] = '\0';
        assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT group_concat(sql, ';') FROM (SELECT sql FROM"
                                            " sqlite_master WHERE type = 'index' AND sql IS NOT"
                                            " NULL ORDER BY name)",
                                            -1, &q, NULL),
                         SQLITE_OK);
        if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
                snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
        sqlite3_close(db);
}

/* The indexes dropped for a bulk load are all back, as they were. */
static void assert_indexes(struct fx *f)
{
        char now[sizeof f->indexes];
        indexes(f, now, sizeof now);
        assert_true(strstr(now, "CREATE INDEX residence_pid") != NULL);
        assert_string_equal(now, f->indexes);
}

/* Nothing of any import is in the registry. */
static void assert_empty(struct fx *f)
{
        assert_int_equal(count(f, "SELECT count(*) FROM person"), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM household"), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM household_head"), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM residence"), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM card"), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM event"), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM event_subject"), 0);
        assert_indexes(f);
}

/* The reject report holds a line for `line` with this rule (and field when not NULL). */
static void assert_rejected(struct fx *f, long line, const char *rule, const char *field)
{
        FILE *fp = fopen(f->rejects, "r");
        assert_non_null(fp);
        char buf[4096];
        int found = 0;
        while (!found && fgets(buf, sizeof buf, fp)) {
                json_error_t je;
                json_t *o = json_loads(buf, 0, &je);
                assert_non_null(o);
                assert_non_null(json_object_get(o, "file"));
                assert_non_null(json_object_get(o, "pid"));
                assert_non_null(json_object_get(o, "reason"));
                if (json_integer_value(json_object_get(o, "line")) == line &&
                    !strcmp(json_string_value(json_object_get(o, "rule")), rule) &&
                    (!field || !strcmp(json_string_value(json_object_get(o, "field")), field)))
                        found = 1;
                json_decref(o);
        }
        fclose(fp);
        if (!found) {
                print_error("no reject of line %ld with rule %s (field %s); the report:\n", line,
                            rule, field ? field : "any");
                if ((fp = fopen(f->rejects, "r"))) {
                        while (fgets(buf, sizeof buf, fp))
                                print_error("  %s", buf);
                        fclose(fp);
                }
                fail();
        }
}

/* An all-or-nothing import of content is refused at line/rule and stores nothing. */
static void refused(struct fx *f, const char *name, const char *content, long line,
                    const char *rule, const char *field)
{
        assert_int_equal(run(f, name, content, IMP_ALL_OR_NOTHING), POP_ERULE);
        assert_true(f->stats.rejected >= 1);
        assert_int_equal(f->stats.loaded, 0);
        assert_rejected(f, line, rule, field);
        assert_empty(f);
}

/* ---- the line parser alone ---- */

static void test_parse_line(void **state)
{
        (void)state;
        struct imp_rec rec;
        struct imp_reject rej;
        const char *l = HEAD;
        assert_int_equal(imp_parse_line(IMP_JSONL, l, strlen(l) - 1, today, &rec, &rej), 0);
        assert_string_equal(rec.pid_text, "001080000001");
        assert_string_equal(rec.p.name_key, "tran van nam");
        assert_string_equal(rec.household, "H1");
        assert_true(rec.has_card);
        /* Card issued at 39 (within 2 years of 40): valid to the 60th birthday (LI art. 21). */
        assert_int_equal(rec.card_expires.y, 2040);
        const char *row = CSV_ROW1;
        assert_int_equal(imp_parse_line(IMP_CSV, row, strlen(row) - 1, today, &rec, &rej), 0);
        assert_string_equal(rec.p.hometown, "Hà Nội, Việt Nam");
        assert_true(rec.has_temp);
        /* NFD input is stored in NFC. */
        const char *nfd = "{\"pid\":\"001080000001\",\"name\":\"Tra\xcc\x82\xcc\x80n Nam\","
                          "\"dob\":\"1980\",\"sex\":\"male\",\"birth_province\":\"01\"}";
        assert_int_equal(imp_parse_line(IMP_JSONL, nfd, strlen(nfd), today, &rec, &rej), 0);
        assert_string_equal(rec.p.full_name, "Trần Nam");
        /* Refusals name the field and the rule. */
        const char *dead = "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                           "\"male\",\"birth_province\":\"01\",\"status\":\"deceased\"}";
        assert_int_equal(imp_parse_line(IMP_JSONL, dead, strlen(dead), today, &rec, &rej),
                         POP_EINVAL);
        assert_string_equal(rej.field, "death_date");
        assert_string_equal(rej.rule, "field-missing");
        const char *tmp = "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                          "\"male\",\"birth_province\":\"01\",\"temporary\":{\"province\":\"79\","
                          "\"commune\":\"26734\",\"line\":\"x\",\"from\":\"2024-01-01\","
                          "\"until\":\"2026-06-01\"}}";
        assert_int_equal(imp_parse_line(IMP_JSONL, tmp, strlen(tmp), today, &rec, &rej),
                         POP_EINVAL);
        assert_string_equal(rej.rule, "temporary-too-long");
        assert_string_equal(rej.field, "temporary.until");
        const char *future = "{\"pid\":\"001280000001\",\"name\":\"A B\",\"dob\":\"2080\",\"sex\":"
                             "\"male\",\"birth_province\":\"01\"}";
        assert_int_equal(imp_parse_line(IMP_JSONL, future, strlen(future), today, &rec, &rej),
                         POP_EINVAL);
        assert_string_equal(rej.rule, "date-future");
        const char *fields = "001080000001,A B,1980,male\n";
        assert_int_equal(imp_parse_line(IMP_CSV, fields, strlen(fields) - 1, today, &rec, &rej),
                         POP_EINVAL);
        assert_string_equal(rej.rule, "csv-columns");
}

/* ---- imports ---- */

static void test_import_family(void **state)
{
        struct fx *f = *state;
        assert_int_equal(run(f, "family.jsonl", HEAD WIFE SON, IMP_ALL_OR_NOTHING), 0);
        assert_int_equal(f->stats.loaded, 3);
        assert_int_equal(f->stats.rejected, 0);
        assert_int_equal(count(f, "SELECT count(*) FROM person"), 3);
        /* The key H1 is not an id popid export writes: a new household. */
        assert_int_equal(count(f, "SELECT count(*) FROM household WHERE head = 1080000001"), 1);
        assert_int_equal(count(f, "SELECT count(*) FROM household_head"), 1);
        assert_int_equal(count(f, "SELECT count(*) FROM residence WHERE kind = 'P'"), 3);
        assert_int_equal(count(f, "SELECT count(*) FROM card WHERE expires = '2040-03-02'"), 1);
        assert_int_equal(count(f, "SELECT count(*) FROM event WHERE type = 'import'"), 1);
        assert_int_equal(count(f, "SELECT count(*) FROM event_subject"), 3);
        assert_int_equal(count(f, "SELECT count(*) FROM person WHERE version = 1"), 3);
        /* The history of each imported person shows the import. */
        json_t *h = NULL;
        assert_int_equal(reg_history_json(f->r, 1210000003, &h, &f->err), 0);
        json_t *ev = json_array_get(json_object_get(h, "events"), 0);
        assert_string_equal(json_string_value(json_object_get(ev, "type")), "import");
        json_t *d = json_object_get(ev, "details");
        assert_int_equal(json_integer_value(json_object_get(d, "loaded")), 3);
        assert_string_equal(json_string_value(json_object_get(d, "mode")), "all-or-nothing");
        json_t *file = json_array_get(json_object_get(d, "files"), 0);
        assert_int_equal(strlen(json_string_value(json_object_get(file, "sha256"))), 64);
        json_decref(h);
        /* Again: every ID is taken now. */
        assert_int_equal(run(f, "again.jsonl", HEAD WIFE SON, IMP_ALL_OR_NOTHING), POP_ERULE);
        assert_rejected(f, 1, "person-exists", "pid");
        assert_rejected(f, 3, "person-exists", "pid");
        assert_int_equal(count(f, "SELECT count(*) FROM person"), 3);
        assert_int_equal(count(f, "SELECT count(*) FROM event"), 1);
}

static void test_csv(void **state)
{
        struct fx *f = *state;
        assert_int_equal(run(f, "p.csv", CSV_HEAD CSV_ROW1 CSV_ROW2, IMP_ALL_OR_NOTHING), 0);
        assert_int_equal(f->stats.loaded, 2);
        assert_int_equal(count(f, "SELECT count(*) FROM residence WHERE kind = 'T'"
                                  " AND valid_to = '2026-12-31'"),
                         1);
        assert_int_equal(count(f, "SELECT count(*) FROM residence WHERE valid_from = '2010-02-01'"),
                         1);
}

static void test_csv_quoting(void **state)
{
        struct fx *f = *state;
        refused(f, "q.csv", CSV_HEAD CSV_ROW1 "001210000003,\"Trần \"Văn\" An,2010\n", 3,
                "csv-quoting", NULL);
        refused(f, "q.csv", CSV_HEAD CSV_ROW1 "001210000003,\"Trần Văn An,2010-01-01\n" CSV_ROW2, 3,
                "csv-quoting", NULL);
        assert_int_equal(f->stats.rejected, 1); /* the next line is read on its own */
        /* A file that does not start with the header cannot be read as CSV at all. */
        assert_int_equal(run(f, "h.csv", CSV_ROW1, IMP_VALID_ONLY), POP_EINVAL);
        assert_string_equal(f->err.rule, "csv-header");
        assert_empty(f);
}

static void test_invalid_utf8(void **state)
{
        struct fx *f = *state;
        refused(f, "u.csv",
                CSV_HEAD CSV_ROW1 "001210000003,Tr\xff n,2010,male,01,,,,,,,,,,,,,,,,,,,,,\n", 3,
                "text-utf8", "name");
        refused(f, "u.jsonl", HEAD "{\"pid\":\"001182000002\",\"name\":\"L\xc3\x28\"}\n", 2,
                "text-utf8", NULL);
}

static void test_bad_ids(void **state)
{
        struct fx *f = *state;
        refused(f, "b.jsonl",
                "{\"pid\":\"00108000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                "\"male\",\"birth_province\":\"01\"}\n",
                1, "pid-length", "pid");
        refused(f, "b.jsonl",
                "\n{\"pid\":\"003080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                "\"male\",\"birth_province\":\"01\"}\n",
                2, "pid-prefix", "pid");
        refused(f, "b.jsonl",
                "{\"pid\":\"0010800000x1\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                "\"male\",\"birth_province\":\"01\"}\n",
                1, "pid-syntax", "pid");
        /* The ID says 1980, the date of birth 1981; the ID says male, the sex is female. */
        refused(f, "b.jsonl",
                "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1981\",\"sex\":"
                "\"male\",\"birth_province\":\"01\"}\n",
                1, "pid-inconsistent", "pid");
        refused(f, "b.jsonl",
                "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                "\"female\",\"birth_province\":\"01\"}\n",
                1, "pid-inconsistent", "pid");
        refused(f, "b.jsonl",
                "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                "\"male\",\"birth_province\":\"01\",\"mother\":\"12\"}\n",
                1, "pid-length", "mother");
        refused(f, "c.jsonl",
                "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                "\"male\",\"birth_province\":\"01\",\"household\":\"H\",\"relation\":"
                "\"head\",\"address\":{\"province\":\"01\",\"commune\":\"0004\","
                "\"line\":\"x\"}}\n",
                1, "region-commune-syntax", "address.commune");
}

static void test_duplicates(void **state)
{
        struct fx *f = *state;
        refused(f, "d.jsonl", HEAD WIFE HEAD, 3, "person-duplicate", "pid");
        /* In valid-only mode the first line stays. */
        assert_int_equal(run(f, "d.jsonl", HEAD WIFE HEAD SON, IMP_VALID_ONLY), 0);
        assert_int_equal(f->stats.loaded, 3);
        assert_int_equal(f->stats.rejected, 1);
        assert_rejected(f, 3, "person-duplicate", "pid");
        assert_int_equal(count(f, "SELECT count(*) FROM person"), 3);
        assert_int_equal(count(f, "SELECT count(*) FROM household_head"), 1);
}

static void test_unknown_parent(void **state)
{
        struct fx *f = *state;
        /* The son comes before his parents: the father is not on an earlier line. */
        refused(f, "p.jsonl", SON HEAD WIFE, 1, "parent-unknown", "father");
        refused(f, "p.csv", CSV_HEAD CSV_ROW2, 2, "parent-unknown", "father");
}

static void test_spouse(void **state)
{
        struct fx *f = *state;
        /* The head names the wife, who names nobody. */
        const char *wife2 = "{\"pid\":\"001182000002\",\"name\":\"Lê Thị Hoa\",\"dob\":\"1982\","
                            "\"sex\":\"female\",\"birth_province\":\"01\"}\n";
        char buf[2048];
        snprintf(buf, sizeof buf, "%s%s", HEAD, wife2);
        refused(f, "s.jsonl", buf, 1, "spouse-not-reciprocal", "spouse");
        /* A spouse in neither the file nor the registry. */
        const char *lone = "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                           "\"male\",\"birth_province\":\"01\",\"spouse\":\"001182000009\"}\n";
        refused(f, "s.jsonl", lone, 1, "spouse-unknown", "spouse");
        /* Same sex (LMF art. 8(2)). */
        const char *m2 = "{\"pid\":\"001082000002\",\"name\":\"A C\",\"dob\":\"1982\",\"sex\":"
                         "\"male\",\"birth_province\":\"01\",\"spouse\":\"001080000001\"}\n";
        const char *m1 = "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                         "\"male\",\"birth_province\":\"01\",\"spouse\":\"001082000002\"}\n";
        snprintf(buf, sizeof buf, "%s%s", m1, m2);
        refused(f, "s.jsonl", buf, 2, "marriage-same-sex", "spouse");
        assert_rejected(f, 1, "ref-rejected", "spouse");
}

/* LMF art. 65: the survivor of a marriage names no spouse; the deceased may still name them. */
static void test_widowed(void **state)
{
        struct fx *f = *state;
        const char *dead = "{\"pid\":\"001040000001\",\"name\":\"A B\",\"dob\":\"1940\","
                           "\"sex\":\"male\",\"birth_province\":\"01\",\"spouse\":\"001182000002\","
                           "\"status\":\"deceased\",\"death_date\":\"2020-01-01\"}\n";
        const char *widow = "{\"pid\":\"001182000002\",\"name\":\"C D\",\"dob\":\"1982\","
                            "\"sex\":\"female\",\"birth_province\":\"01\"}\n";
        char buf[1024];
        snprintf(buf, sizeof buf, "%s%s", dead, widow);
        assert_int_equal(run(f, "w.jsonl", buf, IMP_ALL_OR_NOTHING), 0);
        assert_int_equal(f->stats.loaded, 2);
        /* The claim of a deceased person must still name someone. */
        const char *dead2 =
            "{\"pid\":\"001081000003\",\"name\":\"A B\",\"dob\":\"1981\","
            "\"sex\":\"male\",\"birth_province\":\"01\",\"spouse\":\"001182000009\","
            "\"status\":\"deceased\",\"death_date\":\"2020-01-01\"}\n";
        assert_int_equal(run(f, "w2.jsonl", dead2, IMP_ALL_OR_NOTHING), POP_ERULE);
        assert_rejected(f, 1, "spouse-unknown", "spouse");
}

/* A household key is local to its file: the same key in two files makes two households. */
static void test_keys_per_file(void **state)
{
        struct fx *f = *state;
        char a[512], b[512];
        tu_path(a, sizeof a, "a.jsonl");
        tu_path(b, sizeof b, "b.jsonl");
        write_file(a, HEAD WIFE, strlen(HEAD WIFE));
        const char *other = "{\"pid\":\"001075000004\",\"name\":\"Đỗ Văn Bình\",\"dob\":\"1975\","
                            "\"sex\":\"male\",\"birth_province\":\"79\",\"household\":\"H1\","
                            "\"relation\":\"head\",\"address\":{\"province\":\"79\",\"commune\":"
                            "\"26734\",\"line\":\"1 Lê Lợi\"}}\n";
        write_file(b, other, strlen(other));
        const char *files[] = {a, b};
        struct imp_opts o = {.mode = IMP_ALL_OR_NOTHING, .rejects = f->rejects};
        assert_int_equal(imp_run(f->r, &f->ctx, files, 2, &o, &f->stats, &f->err), 0);
        assert_int_equal(f->stats.loaded, 3);
        assert_int_equal(count(f, "SELECT count(*) FROM household"), 2);
        assert_int_equal(count(f, "SELECT count(*) FROM household_head"), 2);
        assert_int_equal(count(f, "SELECT count(*) FROM event"), 1);
}

static void test_two_heads(void **state)
{
        struct fx *f = *state;
        char buf[4096];
        char wife[1024];
        snprintf(wife, sizeof wife, "%s", WIFE);
        char *rel = strstr(wife, "\"spouse\",\"address\"");
        assert_non_null(rel);
        memcpy(rel, "\"head\",  ", 9);
        snprintf(buf, sizeof buf, "%s%s%s", HEAD, wife, SON);
        refused(f, "h.jsonl", buf, 1, "household-head-count", "household");
        assert_rejected(f, 2, "household-head-count", "household");
        assert_rejected(f, 3, "household-head-count", "household");
        /* No head at all. */
        refused(f, "h.jsonl",
                "{\"pid\":\"001182000002\",\"name\":\"Lê Thị Hoa\",\"dob\":\"1982\",\"sex\":"
                "\"female\",\"birth_province\":\"01\",\"household\":\"H1\",\"relation\":"
                "\"spouse\"," ADDR "}\n",
                1, "household-head-count", "household");
        /* Members with different addresses. */
        snprintf(buf, sizeof buf, "%s%s", HEAD, WIFE);
        char *p = strstr(buf + strlen(HEAD), "12 Hàng Bạc");
        assert_non_null(p);
        p[0] = '9';
        refused(f, "h.jsonl", buf, 2, "household-address", "household");
}

static void test_oversized_line(void **state)
{
        struct fx *f = *state;
        size_t big = IMP_LINE_MAX + 100;
        size_t cap = big + 4096;
        char *buf = malloc(cap);
        assert_non_null(buf);
        size_t n = (size_t)snprintf(buf, cap, "%s", HEAD);
        buf[n++] = '{';
        memset(buf + n, 'x', big);
        n += big;
        buf[n++] = '\n';
        /* Reading resumes on the next line, whose own problem is reported with its number. */
        n += (size_t)snprintf(buf + n, cap - n, "{\"pid\":\"1\"}\n%s", WIFE);
        assert_int_equal(run_n(f, "o.jsonl", buf, n, IMP_ALL_OR_NOTHING), POP_ERULE);
        assert_rejected(f, 2, "line-too-long", NULL);
        assert_rejected(f, 3, "pid-length", "pid");
        assert_int_equal(f->stats.lines, 4);
        assert_empty(f);
        /* The same over the end of the file with no newline. */
        n = (size_t)snprintf(buf, cap, "%s", HEAD);
        memset(buf + n, 'y', big);
        n += big;
        assert_int_equal(run_n(f, "o.jsonl", buf, n, IMP_ALL_OR_NOTHING), POP_ERULE);
        assert_rejected(f, 2, "line-too-long", NULL);
        free(buf);
}

static void test_unknown_keys(void **state)
{
        struct fx *f = *state;
        refused(f, "k.jsonl",
                "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                "\"male\",\"birth_province\":\"01\",\"nickname\":\"x\"}\n",
                1, "field-unknown", "nickname");
        refused(f, "k.jsonl",
                "{\"pid\":\"001080000001\",\"name\":\"A B\",\"dob\":\"1980\",\"sex\":"
                "\"male\",\"birth_province\":\"01\",\"household\":\"H\",\"relation\":"
                "\"head\",\"address\":{\"province\":\"01\",\"commune\":\"00004\","
                "\"line\":\"x\",\"ward\":\"y\"}}\n",
                1, "field-unknown", "address.ward");
        refused(f, "k.jsonl", "{\"pid\":\"001080000001\",\"pid\":\"001080000001\"}\n", 1,
                "json-malformed", NULL);
        refused(f, "k.jsonl", "[1, 2]\n", 1, "json-malformed", NULL);
}

static void test_valid_only(void **state)
{
        struct fx *f = *state;
        /* The wife's line is refused (bad date): the son names her as mother (ref-rejected), and
         * the head names her as spouse (ref-rejected, found at the end). The head gone, his
         * household has no head: the line after is refused too. */
        char wife[1024];
        snprintf(wife, sizeof wife, "%s", WIFE);
        char *d = strstr(wife, "1982-05");
        memcpy(d, "1982-13", 7);
        const char *other =
            "{\"pid\":\"001075000004\",\"name\":\"Đỗ Văn Bình\",\"dob\":\"1975\","
            "\"sex\":\"male\",\"birth_province\":\"79\",\"household\":\"H0000000042\","
            "\"relation\":\"head\",\"address\":{\"province\":\"79\",\"commune\":"
            "\"26734\",\"line\":\"1 Lê Lợi\"},\"since\":\"2000-01-01\"}\n";
        char buf[4096];
        snprintf(buf, sizeof buf, "%s%s%s%s", HEAD, wife, SON, other);
        assert_int_equal(run(f, "v.jsonl", buf, IMP_VALID_ONLY), 0);
        assert_rejected(f, 2, "date-month", "dob");
        assert_rejected(f, 3, "ref-rejected", "mother");
        assert_rejected(f, 1, "ref-rejected", "spouse");
        assert_int_equal(f->stats.rejected, 3);
        assert_int_equal(f->stats.loaded, 1);
        assert_int_equal(count(f, "SELECT count(*) FROM person"), 1);
        assert_int_equal(count(f, "SELECT count(*) FROM residence"), 1);
        assert_int_equal(count(f, "SELECT count(*) FROM card"), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM event_subject"), 1);
        /* The household of the refused head is gone; the other kept its key as id. */
        assert_int_equal(count(f, "SELECT count(*) FROM household"), 1);
        assert_int_equal(count(f, "SELECT count(*) FROM household WHERE id = 42"), 1);
        assert_int_equal(count(f, "SELECT count(*) FROM household_head WHERE household = 42"), 1);
        assert_int_equal(count(f, "SELECT count(*) FROM event"), 1);
        assert_indexes(f);
}

static void test_all_or_nothing_keeps_registry(void **state)
{
        struct fx *f = *state;
        assert_int_equal(run(f, "a.jsonl", HEAD WIFE, IMP_ALL_OR_NOTHING), 0);
        /* A second import into a non-empty registry: the son is valid, the other line not. */
        const char *son = "{\"pid\":\"001210000003\",\"name\":\"Trần Văn An\",\"dob\":"
                          "\"2010-01-01\",\"sex\":\"male\",\"birth_province\":\"01\",\"father\":"
                          "\"001080000001\",\"mother\":\"001182000002\"}\n";
        char buf[2048];
        snprintf(buf, sizeof buf, "%s{\"pid\":\"1\"}\n", son);
        assert_int_equal(run(f, "b.jsonl", buf, IMP_ALL_OR_NOTHING), POP_ERULE);
        assert_rejected(f, 2, "pid-length", "pid");
        assert_int_equal(count(f, "SELECT count(*) FROM person"), 2);
        assert_int_equal(count(f, "SELECT count(*) FROM event"), 1);
        /* Parents from the registry are accepted; a household key is local to its file, so "H1"
         * here would be a new household without a head. */
        assert_int_equal(run(f, "b.jsonl", son, IMP_ALL_OR_NOTHING), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM person"), 3);
        assert_int_equal(count(f, "SELECT count(*) FROM event"), 2);
        assert_int_equal(run(f, "c.jsonl", SON, IMP_ALL_OR_NOTHING), POP_ERULE);
        assert_rejected(f, 1, "person-exists", "pid");
}

/* Every write of an import failing in turn leaves the registry as it was. */
static void test_faults(void **state)
{
        struct fx *f = *state;
        int before = store_fault_writes(f->r->st);
        assert_int_equal(run(f, "f.jsonl", HEAD WIFE SON, IMP_VALID_ONLY), 0);
        int writes = store_fault_writes(f->r->st) - before;
        assert_true(writes > 10);
        /* Start again from an empty registry. */
        reg_close(f->r);
        f->r = NULL;
        assert_int_equal(remove(f->db), 0);
        struct pop_err e = {0};
        assert_int_equal(reg_init(f->db, "Test", &e), 0);
        assert_int_equal(reg_open(f->uri, &f->r, &e), 0);
        for (int i = 1; i <= writes; i++) {
                store_fault_arm(f->r->st, i);
                int rc = run(f, "f.jsonl", HEAD WIFE SON, IMP_VALID_ONLY);
                store_fault_arm(f->r->st, 0);
                assert_int_equal(rc, POP_ESTORE);
                assert_empty(f);
        }
        assert_int_equal(run(f, "f.jsonl", HEAD WIFE SON, IMP_VALID_ONLY), 0);
        assert_int_equal(count(f, "SELECT count(*) FROM person"), 3);
}

static void test_export_round_trip(void **state)
{
        struct fx *f = *state;
        assert_int_equal(run(f, "family.jsonl", HEAD WIFE SON, IMP_ALL_OR_NOTHING), 0);
        for (int k = 0; k < 2; k++) {
                enum imp_format fmt = k ? IMP_CSV : IMP_JSONL;
                char a[512], b[512], db2[512];
                tu_path(a, sizeof a, k ? "a.csv" : "a.jsonl");
                tu_path(b, sizeof b, k ? "b.csv" : "b.jsonl");
                tu_path(db2, sizeof db2, k ? "r3.db" : "r2.db");
                FILE *out = fopen(a, "w");
                int64_t n = 0;
                assert_int_equal(imp_export(f->r, out, fmt, &n, &f->err), 0);
                fclose(out);
                assert_int_equal(n, 3);
                struct reg *r2 = NULL;
                struct pop_err e = {0};
                assert_int_equal(reg_init(db2, "Test", &e), 0);
                assert_int_equal(reg_open(db2, &r2, &e), 0);
                const char *files[] = {a};
                struct imp_opts o = {.mode = IMP_ALL_OR_NOTHING, .rejects = f->rejects};
                assert_int_equal(imp_run(r2, &f->ctx, files, 1, &o, &f->stats, &e), 0);
                assert_int_equal(f->stats.loaded, 3);
                out = fopen(b, "w");
                assert_int_equal(imp_export(r2, out, fmt, &n, &e), 0);
                fclose(out);
                reg_close(r2);
                char cmd[1200];
                snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
                assert_int_equal(system(cmd), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_line),
            cmocka_unit_test_setup_teardown(test_import_family, setup, teardown),
            cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
            cmocka_unit_test_setup_teardown(test_csv_quoting, setup, teardown),
            cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
            cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unknown_parent, setup, teardown),
            cmocka_unit_test_setup_teardown(test_spouse, setup, teardown),
            cmocka_unit_test_setup_teardown(test_widowed, setup, teardown),
            cmocka_unit_test_setup_teardown(test_keys_per_file, setup, teardown),
            cmocka_unit_test_setup_teardown(test_two_heads, setup, teardown),
            cmocka_unit_test_setup_teardown(test_oversized_line, setup, teardown),
            cmocka_unit_test_setup_teardown(test_unknown_keys, setup, teardown),
            cmocka_unit_test_setup_teardown(test_valid_only, setup, teardown),
            cmocka_unit_test_setup_teardown(test_all_or_nothing_keeps_registry, setup, teardown),
            cmocka_unit_test_setup_teardown(test_faults, setup_fault, teardown),
            cmocka_unit_test_setup_teardown(test_export_round_trip, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
