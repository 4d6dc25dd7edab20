/*
 * Unit tests for src/core/region.c and the generated region_data.c: the 63 legacy provinces, the
 * 34 units of 1 July 2025 and the merge between them, the date rule for province codes, the
 * syntax of province and commune codes, and that region_data.c is exactly what
 * scripts/gen-regions.sh makes of the CSV files today.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/region.h"

static struct pdate day(int y, int m, int d)
{
        struct pdate p = {(int16_t)y, (int8_t)m, (int8_t)d};
        return p;
}

static void test_legacy_table(void **state)
{
        (void)state;
        int prev = 0;
        for (int i = 0; i < REGION_N_LEGACY; i++) {
                const struct region_legacy *l = region_legacy_at(i);
                assert_non_null(l);
                assert_true(l->code > prev); /* ascending, no duplicates */
                assert_true(l->code >= 1 && l->code <= 96);
                prev = l->code;
                assert_ptr_equal(region_legacy(l->code), l);
                assert_true(strcmp(l->kind, "province") == 0 || strcmp(l->kind, "city") == 0);
                assert_true(l->name[0] && l->name_ascii[0]);
                for (const char *c = l->name_ascii; *c; c++)
                        assert_true((unsigned char)*c < 0x80);
        }
        assert_null(region_legacy_at(-1));
        assert_null(region_legacy_at(REGION_N_LEGACY));

        assert_string_equal(region_legacy(1)->name, "Hà Nội");
        assert_string_equal(region_legacy(1)->name_ascii, "Ha Noi");
        assert_string_equal(region_legacy(1)->kind, "city");
        assert_string_equal(region_legacy(2)->name, "Hà Giang");
        assert_string_equal(region_legacy(79)->name, "Thành phố Hồ Chí Minh");
        assert_string_equal(region_legacy(96)->name, "Cà Mau");

        /* Codes that never named a province. */
        static const int absent[] = {0, 3, 5, 7, 9, 13, 16, 18, 21, 97, 99, 100, -1};
        for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
                assert_null(region_legacy(absent[i]));
}

static void test_unit_table(void **state)
{
        (void)state;
        int prev = 0, n_merged = 0;
        for (int i = 0; i < REGION_N_UNITS; i++) {
                const struct region_unit *u = region_unit_at(i);
                assert_non_null(u);
                assert_true(u->code > prev);
                prev = u->code;
                assert_ptr_equal(region_unit(u->code), u);
                assert_true(u->n_merged >= 1 && u->n_merged <= 3);
                n_merged += u->n_merged;
                /* Every unit kept the code of one of the provinces it absorbed. */
                int keeps = 0;
                for (int j = 0; j < u->n_merged; j++)
                        keeps += u->merged_from[j] == u->code;
                assert_int_equal(keeps, 1);
        }
        assert_int_equal(n_merged, REGION_N_LEGACY);
        assert_null(region_unit_at(-1));
        assert_null(region_unit_at(REGION_N_UNITS));
        assert_string_equal(region_unit(46)->name, "Huế");
        assert_string_equal(region_unit(46)->kind, "city");
        assert_null(region_unit(2));  /* Hà Giang is gone */
        assert_null(region_unit(74)); /* Bình Dương is gone */
        assert_null(region_unit(0));
}

/* Every legacy province lies in exactly one unit, and that is the unit it names. */
static void test_merge_mapping(void **state)
{
        (void)state;
        for (int i = 0; i < REGION_N_LEGACY; i++) {
                const struct region_legacy *l = region_legacy_at(i);
                int found = 0;
                const struct region_unit *in = NULL;
                for (int k = 0; k < REGION_N_UNITS; k++) {
                        const struct region_unit *u = region_unit_at(k);
                        for (int j = 0; j < u->n_merged; j++)
                                if (u->merged_from[j] == l->code) {
                                        found++;
                                        in = u;
                                }
                }
                assert_int_equal(found, 1);
                assert_int_equal(in->code, l->unit_code);
                assert_ptr_equal(region_current_unit(l->code), in);
        }

        /* Resolution 202/2025/QH15, examples. */
        assert_int_equal(region_legacy(2)->unit_code, 8);
        assert_string_equal(region_current_unit(2)->name, "Tuyên Quang");
        assert_int_equal(region_current_unit(74)->code, 79);
        assert_string_equal(region_current_unit(74)->name, "Thành phố Hồ Chí Minh");
        assert_int_equal(region_current_unit(77)->code, 79);
        assert_int_equal(region_current_unit(1)->code, 1);
        assert_int_equal(region_current_unit(24)->code, 24); /* Bắc Giang kept its code ... */
        assert_string_equal(region_current_unit(24)->name, "Bắc Ninh"); /* ... for Bắc Ninh */
        assert_int_equal(region_current_unit(27)->code, 24);
        assert_int_equal(region_current_unit(46)->code, 46);
        assert_int_equal(region_current_unit(95)->code, 96);
        assert_null(region_current_unit(3));
        assert_null(region_current_unit(97));
        assert_null(region_current_unit(0));
}

static void test_country(void **state)
{
        (void)state;
        /* No code-to-country list could be confirmed; see region.c. */
        for (int c = 0; c < 1000; c++)
                assert_null(region_country(c));
}

static void test_check_province(void **state)
{
        (void)state;
        struct pop_err err;
        struct pdate before = day(2025, 6, 30), on = day(2025, 7, 1), later = day(2030, 1, 1);
        struct pdate old = day(1999, 12, 31);

        for (int i = 0; i < REGION_N_LEGACY; i++) {
                int code = region_legacy_at(i)->code;
                assert_int_equal(region_check_province(code, before, &err), 0);
                assert_int_equal(region_check_province(code, old, &err), 0);
                int rc = region_check_province(code, on, &err);
                if (region_unit(code)) {
                        assert_int_equal(rc, 0);
                } else {
                        assert_int_equal(rc, POP_ERULE);
                        assert_string_equal(err.rule, "region-province-merged");
                }
        }
        for (int i = 0; i < REGION_N_UNITS; i++) {
                assert_int_equal(region_check_province(region_unit_at(i)->code, on, &err), 0);
                assert_int_equal(region_check_province(region_unit_at(i)->code, later, &err), 0);
        }

        /* A legacy-only code after the merger names the unit that absorbed it. */
        assert_int_equal(region_check_province(2, on, &err), POP_ERULE);
        assert_int_equal(err.code, POP_ERULE);
        assert_non_null(strstr(err.msg, "Hà Giang"));
        assert_non_null(strstr(err.msg, "08 (Tuyên Quang)"));
        assert_int_equal(region_check_province(74, later, &err), POP_ERULE);
        assert_non_null(strstr(err.msg, "79 (Thành phố Hồ Chí Minh)"));

        /* Unknown codes, both sides of the date. */
        assert_int_equal(region_check_province(3, before, &err), POP_EINVAL);
        assert_string_equal(err.rule, "region-province");
        assert_int_equal(region_check_province(3, on, &err), POP_EINVAL);
        assert_int_equal(region_check_province(0, on, &err), POP_EINVAL);
        assert_int_equal(region_check_province(100, before, &err), POP_EINVAL);

        /* The date must be full. */
        assert_int_equal(region_check_province(1, day(2025, 0, 0), &err), POP_EINVAL);
        assert_string_equal(err.rule, "region-date");
        assert_int_equal(region_check_province(1, day(2025, 7, 0), &err), POP_EINVAL);
        assert_int_equal(region_check_province(1, day(0, 0, 0), &err), POP_EINVAL);
        assert_int_equal(region_check_province(1, day(2025, 13, 1), &err), POP_EINVAL);

        /* NULL err is allowed. */
        assert_int_equal(region_check_province(2, on, NULL), POP_ERULE);
        assert_int_equal(region_check_province(1, on, NULL), 0);
}

static int parse_prov(const char *s, int *out, struct pop_err *err)
{
        return region_parse_province(s, strlen(s), out, err);
}

static void test_parse_province(void **state)
{
        (void)state;
        struct pop_err err;
        int v = -1;
        assert_int_equal(parse_prov("1", &v, &err), 0);
        assert_int_equal(v, 1);
        assert_int_equal(parse_prov("01", &v, &err), 0);
        assert_int_equal(v, 1);
        assert_int_equal(parse_prov("79", &v, &err), 0);
        assert_int_equal(v, 79);
        assert_int_equal(parse_prov("99", &v, &err), 0); /* syntax only */
        assert_int_equal(v, 99);

        static const char *bad[] = {"",   "0",  "00", "001", "100", "a1",
                                    "1a", " 1", "-1", "+1",  "1 "};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                v = -1;
                assert_int_equal(parse_prov(bad[i], &v, &err), POP_EINVAL);
                assert_int_equal(v, -1);
                assert_true(err.msg[0] != '\0');
        }
        assert_int_equal(region_parse_province(NULL, 0, &v, &err), POP_EINVAL);
        assert_int_equal(region_parse_province("12", 1, &v, NULL), 0); /* only len bytes */
        assert_int_equal(v, 1);
}

static void test_check_commune(void **state)
{
        (void)state;
        struct pop_err err;
        assert_int_equal(region_check_commune("00001", 5, &err), 0);
        assert_int_equal(region_check_commune("26734", 5, &err), 0);
        assert_int_equal(region_check_commune("267345", 5, &err), 0); /* only len bytes */

        static const char *bad[] = {"",      "1234",  "123456", "12a45",
                                    " 1234", "1234 ", "-1234",  "1.234"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(region_check_commune(bad[i], strlen(bad[i]), &err), POP_EINVAL);
                assert_string_equal(err.rule, "region-commune-syntax");
        }
        assert_int_equal(region_check_commune("123\0"
                                              "5",
                                              5, &err),
                         POP_EINVAL);
        assert_int_equal(region_check_commune(NULL, 0, &err), POP_EINVAL);
}

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        char *buf = NULL;
        size_t n = 0, cap = 0;
        for (;;) {
                if (n == cap) {
                        cap = cap ? cap * 2 : 16384;
                        char *nb = realloc(buf, cap);
                        if (!nb) {
                                free(buf);
                                fclose(f);
                                return NULL;
                        }
                        buf = nb;
                }
                size_t r = fread(buf + n, 1, cap - n, f);
                if (r == 0)
                        break;
                n += r;
        }
        fclose(f);
        *len = n;
        return buf;
}

/* The committed region_data.c is what the generator makes of the committed CSV files. */
static void test_generated_file_is_current(void **state)
{
        (void)state;
        const char *src = tu_source_dir();
        char out[512], cmd[2048], committed[1024];
        tu_path(out, sizeof out, "region_data.c");
        int n =
            snprintf(cmd, sizeof cmd, "sh '%s/scripts/gen-regions.sh' '%s' '%s'", src, src, out);
        assert_true(n > 0 && (size_t)n < sizeof cmd);
        assert_int_equal(system(cmd), 0);

        n = snprintf(committed, sizeof committed, "%s/src/core/region_data.c", src);
        assert_true(n > 0 && (size_t)n < sizeof committed);
        size_t a_len = 0, b_len = 0;
        char *a = slurp(committed, &a_len);
        char *b = slurp(out, &b_len);
        assert_non_null(a);
        assert_non_null(b);
        if (a_len != b_len || memcmp(a, b, a_len) != 0)
                fail_msg("src/core/region_data.c is stale: rerun scripts/gen-regions.sh");
        free(a);
        free(b);
}

/* The generator refuses inconsistent data and leaves the output alone. */
static void test_generator_rejects_bad_data(void **state)
{
        (void)state;
        const char *src = tu_source_dir();
        char dir[512], data[600], out[600], cmd[4096];
        snprintf(dir, sizeof dir, "%s", tu_tmpdir());
        snprintf(data, sizeof data, "%s/data", dir);
        snprintf(out, sizeof out, "%s/out.c", dir);

        /* Hà Giang (02) merged into a second unit as well. */
        int n = snprintf(
            cmd, sizeof cmd,
            "mkdir -p '%s' && cp '%s/data/provinces_legacy63.csv' '%s/' && "
            "sed 's/^04,Cao Bằng,Cao Bang,province,04$/04,Cao Bằng,Cao Bang,province,04 02/' "
            "'%s/data/provinces_2025.csv' >'%s/provinces_2025.csv' && "
            "echo keep >'%s' && "
            "! sh '%s/scripts/gen-regions.sh' '%s' '%s' 2>/dev/null && "
            "test \"$(cat '%s')\" = keep",
            data, src, data, src, data, out, src, dir, out, out);
        assert_true(n > 0 && (size_t)n < sizeof cmd);
        assert_int_equal(system(cmd), 0);

        /* A legacy province merged nowhere. */
        n = snprintf(cmd, sizeof cmd,
                     "sed 's/^08,Tuyên Quang,Tuyen Quang,province,08 02$/08,Tuyên Quang,Tuyen "
                     "Quang,province,08/' '%s/data/provinces_2025.csv' >'%s/provinces_2025.csv' && "
                     "! sh '%s/scripts/gen-regions.sh' '%s' '%s' 2>/dev/null && "
                     "test \"$(cat '%s')\" = keep",
                     src, data, src, dir, out, out);
        assert_true(n > 0 && (size_t)n < sizeof cmd);
        assert_int_equal(system(cmd), 0);

        /* And the untouched data generates fine into the same place. */
        n = snprintf(
            cmd, sizeof cmd,
            "cp '%s/data/provinces_2025.csv' '%s/' && sh '%s/scripts/gen-regions.sh' '%s' '%s'"
            " && cmp -s '%s' '%s/src/core/region_data.c'",
            src, data, src, dir, out, out, src);
        assert_true(n > 0 && (size_t)n < sizeof cmd);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_legacy_table),
            cmocka_unit_test(test_unit_table),
            cmocka_unit_test(test_merge_mapping),
            cmocka_unit_test(test_country),
            cmocka_unit_test(test_check_province),
            cmocka_unit_test(test_parse_province),
            cmocka_unit_test(test_check_commune),
            cmocka_unit_test(test_generated_file_is_current),
            cmocka_unit_test(test_generator_rejects_bad_data),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
