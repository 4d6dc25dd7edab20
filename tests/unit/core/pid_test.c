/*
 * Unit tests for src/core/pid.c: every prefix (the 63 legacy provinces and 101-295 accepted,
 * everything else refused), every G digit, syntax errors and their messages, the check against a
 * person's date of birth and sex, formatting and integer round trips, the explanation sentence,
 * and allocation: the keyed permutation is a bijection, a whole series of a million numbers is
 * handed out without a repeat before POP_EFULL, and numbers already in use are skipped.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pid.h"

static const uint8_t key1[PID_ALLOC_KEY_LEN] = {1, 2,  3,  4,  5,  6,  7,  8,
                                                9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t key2[PID_ALLOC_KEY_LEN] = {0xde, 0xad, 0xbe, 0xef};

static int parse(const char *s, struct pid_info *out, struct pop_err *err)
{
        return pid_parse(s, strlen(s), out, err);
}

static bool prefix_expected_valid(int p)
{
        if (p >= REGION_COUNTRY_MIN && p <= REGION_COUNTRY_MAX)
                return true;
        return p >= 1 && p <= 96 && region_legacy(p) != NULL;
}

static void test_all_prefixes(void **state)
{
        (void)state;
        struct pid_info id;
        struct pop_err err;
        char s[32];
        int n_province = 0, n_country = 0;
        for (int p = 0; p < 1000; p++) {
                snprintf(s, sizeof s, "%03d090123456", p);
                int rc = parse(s, &id, &err);
                if (!prefix_expected_valid(p)) {
                        assert_int_equal(rc, POP_EINVAL);
                        assert_string_equal(err.rule, "pid-prefix");
                        continue;
                }
                assert_int_equal(rc, 0);
                assert_int_equal(id.prefix, p);
                if (p < 100) {
                        n_province++;
                        assert_int_equal(id.gso, p);
                        assert_int_equal(id.country, 0);
                        assert_non_null(id.province);
                        assert_int_equal(id.province->code, p);
                        assert_null(id.country_info);
                } else {
                        n_country++;
                        assert_int_equal(id.gso, 0);
                        assert_int_equal(id.country, p);
                        assert_null(id.province);
                }
        }
        assert_int_equal(n_province, 63);
        assert_int_equal(n_country, 195);

        /* Each of the 63 legacy provinces, from the table itself. */
        for (int i = 0; i < REGION_N_LEGACY; i++) {
                snprintf(s, sizeof s, "%03d305000001", region_legacy_at(i)->code);
                assert_int_equal(parse(s, &id, &err), 0);
                assert_ptr_equal(id.province, region_legacy_at(i));
        }
}

static void test_bad_prefix_messages(void **state)
{
        (void)state;
        struct pid_info id;
        struct pop_err err;
        static const char *not_province[] = {"000", "003", "005", "097", "099"};
        char s[32];
        for (size_t i = 0; i < sizeof not_province / sizeof not_province[0]; i++) {
                snprintf(s, sizeof s, "%s090123456", not_province[i]);
                assert_int_equal(parse(s, &id, &err), POP_EINVAL);
                char want[64];
                snprintf(want, sizeof want, "prefix %s is not a province code", not_province[i]);
                assert_string_equal(err.msg, want);
                assert_int_equal(err.code, POP_EINVAL);
        }
        static const char *neither[] = {"100", "296", "999"};
        for (size_t i = 0; i < sizeof neither / sizeof neither[0]; i++) {
                snprintf(s, sizeof s, "%s090123456", neither[i]);
                assert_int_equal(parse(s, &id, &err), POP_EINVAL);
                assert_non_null(strstr(err.msg, neither[i]));
                assert_non_null(strstr(err.msg, "neither"));
        }
        /* Edges of the country range. */
        assert_int_equal(parse("101090123456", &id, &err), 0);
        assert_int_equal(parse("295090123456", &id, &err), 0);
}

static void test_g_digits(void **state)
{
        (void)state;
        static const struct {
                char g;
                int year;
                enum sex sex;
        } cases[] = {
            {'0', 1905, SEX_MALE},   {'1', 1905, SEX_FEMALE}, {'2', 2005, SEX_MALE},
            {'3', 2005, SEX_FEMALE}, {'4', 2105, SEX_MALE},   {'5', 2105, SEX_FEMALE},
            {'6', 2205, SEX_MALE},   {'7', 2205, SEX_FEMALE}, {'8', 2305, SEX_MALE},
            {'9', 2305, SEX_FEMALE},
        };
        struct pid_info id;
        struct pop_err err;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char s[32];
                snprintf(s, sizeof s, "001%c05123456", cases[i].g);
                assert_int_equal(parse(s, &id, &err), 0);
                assert_int_equal(id.century_sex, cases[i].g - '0');
                assert_int_equal(id.birth_year, cases[i].year);
                assert_int_equal(id.sex, cases[i].sex);
                assert_int_equal(pid_century_sex(cases[i].year, cases[i].sex), cases[i].g - '0');
        }
        /* Extremes: YY 00 and 99. */
        assert_int_equal(parse("001000000000", &id, &err), 0);
        assert_int_equal(id.birth_year, 1900);
        assert_int_equal(parse("001999999999", &id, &err), 0);
        assert_int_equal(id.birth_year, 2399);
        assert_int_equal(id.sex, SEX_FEMALE);
        assert_int_equal(id.suffix, 999999);
}

static void test_fields(void **state)
{
        (void)state;
        struct pid_info id;
        struct pop_err err;
        assert_int_equal(parse("001090123456", &id, &err), 0);
        assert_string_equal(id.pid, "001090123456");
        assert_int_equal(id.prefix, 1);
        assert_int_equal(id.gso, 1);
        assert_int_equal(id.century_sex, 0);
        assert_int_equal(id.birth_year, 1990);
        assert_int_equal(id.sex, SEX_MALE);
        assert_int_equal(id.suffix, 123456);
        assert_string_equal(id.province->name, "Hà Nội");

        assert_int_equal(parse("079305000001", &id, &err), 0);
        assert_int_equal(id.birth_year, 2005);
        assert_int_equal(id.sex, SEX_FEMALE);
        assert_int_equal(id.suffix, 1);
        assert_string_equal(id.province->name, "Thành phố Hồ Chí Minh");

        assert_int_equal(parse("286200000002", &id, &err), 0);
        assert_int_equal(id.country, 286);
        assert_int_equal(id.birth_year, 2000);
        assert_null(id.province);

        /* Only len bytes are read. */
        assert_int_equal(pid_parse("001090123456789", 12, &id, &err), 0);
        assert_string_equal(id.pid, "001090123456");
}

static void test_syntax(void **state)
{
        (void)state;
        struct pid_info id;
        struct pop_err err;

        assert_int_equal(parse("00109012345", &id, &err), POP_EINVAL);
        assert_string_equal(err.msg, "11 digits, expected 12");
        assert_string_equal(err.rule, "pid-length");
        assert_int_equal(parse("0010901234567", &id, &err), POP_EINVAL);
        assert_string_equal(err.msg, "13 digits, expected 12");
        assert_int_equal(parse("", &id, &err), POP_EINVAL);
        assert_string_equal(err.msg, "0 digits, expected 12");
        assert_int_equal(parse("1", &id, &err), POP_EINVAL);
        assert_string_equal(err.msg, "1 digit, expected 12");
        assert_int_equal(pid_parse(NULL, 0, &id, &err), POP_EINVAL);
        assert_int_equal(pid_parse(NULL, 12, &id, &err), POP_EINVAL);

        assert_int_equal(parse("0010901234a6", &id, &err), POP_EINVAL);
        assert_string_equal(err.msg, "character 11 ('a') is not a digit");
        assert_string_equal(err.rule, "pid-syntax");
        assert_int_equal(parse("001 090123456", &id, &err), POP_EINVAL);
        assert_string_equal(err.msg, "character 4 (' ') is not a digit");
        assert_int_equal(parse("-01090123456", &id, &err), POP_EINVAL);
        assert_int_equal(parse("+01090123456", &id, &err), POP_EINVAL);
        assert_int_equal(parse("\xef\xbc\x90"
                               "01090123456",
                               &id, &err),
                         POP_EINVAL); /* fullwidth 0 */
        assert_string_equal(err.msg, "character 1 (byte 0xef) is not a digit");
        assert_int_equal(pid_parse("00109012345\0"
                                   "6",
                                   12, &id, &err),
                         POP_EINVAL);
        assert_string_equal(err.msg, "character 12 (byte 0x00) is not a digit");

        /* The output is cleared on failure. */
        assert_int_equal(parse("001090123456", &id, &err), 0);
        assert_int_equal(parse("003090123456", &id, &err), POP_EINVAL);
        assert_int_equal(id.prefix, 0);
        assert_string_equal(id.pid, "");
        assert_null(id.province);

        /* NULL err is allowed. */
        assert_int_equal(parse("x", &id, NULL), POP_EINVAL);
}

static struct pdate pd(int y, int m, int d)
{
        struct pdate p = {(int16_t)y, (int8_t)m, (int8_t)d};
        return p;
}

static void test_check_person(void **state)
{
        (void)state;
        struct pid_info id;
        struct pop_err err;
        assert_int_equal(parse("001090123456", &id, &err), 0);

        assert_int_equal(pid_check_person(&id, pd(1990, 5, 17), SEX_MALE, &err), 0);
        assert_int_equal(pid_check_person(&id, pd(1990, 5, 0), SEX_MALE, &err), 0);
        assert_int_equal(pid_check_person(&id, pd(1990, 0, 0), SEX_MALE, &err), 0);
        assert_int_equal(pid_check_person(&id, pd(1990, 12, 31), SEX_UNKNOWN, &err), 0);
        assert_int_equal(pid_check_person(&id, pd(0, 0, 0), SEX_MALE, &err), 0);

        assert_int_equal(pid_check_person(&id, pd(1991, 1, 1), SEX_MALE, &err), POP_ERULE);
        assert_string_equal(err.rule, "pid-birth-year");
        assert_non_null(strstr(err.msg, "1990"));
        assert_non_null(strstr(err.msg, "1991"));
        assert_int_equal(pid_check_person(&id, pd(2090, 0, 0), SEX_UNKNOWN, &err), POP_ERULE);
        assert_int_equal(pid_check_person(&id, pd(1890, 0, 0), SEX_MALE, &err), POP_ERULE);

        assert_int_equal(pid_check_person(&id, pd(1990, 5, 17), SEX_FEMALE, &err), POP_ERULE);
        assert_string_equal(err.rule, "pid-sex");
        assert_non_null(strstr(err.msg, "male"));
        assert_non_null(strstr(err.msg, "female"));

        /* Both wrong: the year is reported. */
        assert_int_equal(pid_check_person(&id, pd(1991, 0, 0), SEX_FEMALE, &err), POP_ERULE);
        assert_string_equal(err.rule, "pid-birth-year");

        assert_int_equal(parse("038321000777", &id, &err), 0);
        assert_int_equal(pid_check_person(&id, pd(2021, 2, 0), SEX_FEMALE, &err), 0);
        assert_int_equal(pid_check_person(&id, pd(2021, 2, 3), SEX_MALE, NULL), POP_ERULE);
}

static void test_century_sex(void **state)
{
        (void)state;
        assert_int_equal(pid_century_sex(1900, SEX_MALE), 0);
        assert_int_equal(pid_century_sex(1999, SEX_FEMALE), 1);
        assert_int_equal(pid_century_sex(2000, SEX_MALE), 2);
        assert_int_equal(pid_century_sex(2099, SEX_FEMALE), 3);
        assert_int_equal(pid_century_sex(2100, SEX_MALE), 4);
        assert_int_equal(pid_century_sex(2250, SEX_FEMALE), 7);
        assert_int_equal(pid_century_sex(2399, SEX_FEMALE), 9);
        assert_int_equal(pid_century_sex(1899, SEX_MALE), -1);
        assert_int_equal(pid_century_sex(2400, SEX_MALE), -1);
        assert_int_equal(pid_century_sex(1990, SEX_UNKNOWN), -1);
        assert_int_equal(pid_century_sex(1990, (enum sex)7), -1);
}

static void test_format(void **state)
{
        (void)state;
        char out[PID_LEN + 1];
        struct pop_err err;
        assert_int_equal(pid_format(1, 1990, SEX_MALE, 123456, out, &err), 0);
        assert_string_equal(out, "001090123456");
        assert_int_equal(pid_format(79, 2005, SEX_FEMALE, 1, out, &err), 0);
        assert_string_equal(out, "079305000001");
        assert_int_equal(pid_format(286, 2000, SEX_MALE, 2, out, &err), 0);
        assert_string_equal(out, "286200000002");
        assert_int_equal(pid_format(96, 2399, SEX_FEMALE, 999999, out, &err), 0);
        assert_string_equal(out, "096999999999");

        static const int bad_prefix[] = {0, 3, 97, 100, 296, 1000, -1};
        for (size_t i = 0; i < sizeof bad_prefix / sizeof bad_prefix[0]; i++) {
                assert_int_equal(pid_format(bad_prefix[i], 1990, SEX_MALE, 0, out, &err),
                                 POP_EINVAL);
                assert_string_equal(err.rule, "pid-prefix");
                assert_string_equal(out, "");
        }
        assert_int_equal(pid_format(1, 1899, SEX_MALE, 0, out, &err), POP_EINVAL);
        assert_string_equal(err.rule, "pid-birth-year");
        assert_int_equal(pid_format(1, 2400, SEX_MALE, 0, out, &err), POP_EINVAL);
        assert_int_equal(pid_format(1, 1990, SEX_UNKNOWN, 0, out, &err), POP_EINVAL);
        assert_string_equal(err.rule, "pid-sex");
        assert_int_equal(pid_format(1, 1990, SEX_MALE, PID_SUFFIX_SPAN, out, &err), POP_EINVAL);
        assert_string_equal(err.rule, "pid-suffix");
        assert_string_equal(out, "");
}

/* format then parse gives back every field, for every prefix, century and sex. */
static void test_format_parse_round_trip(void **state)
{
        (void)state;
        char out[PID_LEN + 1];
        struct pid_info id;
        struct pop_err err;
        for (int p = 0; p < 1000; p++) {
                if (!prefix_expected_valid(p))
                        continue;
                for (int year = 1900; year <= 2399; year += 37) {
                        for (int sx = SEX_MALE; sx <= SEX_FEMALE; sx++) {
                                uint32_t suffix =
                                    (uint32_t)(p * 7919 + year * 31 + sx) % PID_SUFFIX_SPAN;
                                assert_int_equal(
                                    pid_format(p, year, (enum sex)sx, suffix, out, &err), 0);
                                assert_int_equal(pid_parse(out, strlen(out), &id, &err), 0);
                                assert_int_equal(id.prefix, p);
                                assert_int_equal(id.birth_year, year);
                                assert_int_equal(id.sex, sx);
                                assert_int_equal(id.suffix, suffix);
                                assert_int_equal(id.century_sex,
                                                 pid_century_sex(year, (enum sex)sx));
                                assert_string_equal(id.pid, out);
                        }
                }
        }
}

static void test_int(void **state)
{
        (void)state;
        char out[PID_LEN + 1];
        assert_int_equal(pid_to_int("001090123456"), INT64_C(1090123456));
        assert_int_equal(pid_to_int("000000000000"), 0);
        assert_int_equal(pid_to_int("999999999999"), INT64_C(999999999999));
        assert_int_equal(pid_to_int("00109012345x"), -1);

        pid_from_int(INT64_C(1090123456), out);
        assert_string_equal(out, "001090123456");
        pid_from_int(0, out);
        assert_string_equal(out, "000000000000");
        pid_from_int(INT64_C(999999999999), out);
        assert_string_equal(out, "999999999999");
        pid_from_int(INT64_C(1000000000000), out);
        assert_string_equal(out, "");
        pid_from_int(-1, out);
        assert_string_equal(out, "");

        static const char *ids[] = {"001090123456", "079305000001", "286200000002", "096999999999"};
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
                pid_from_int(pid_to_int(ids[i]), out);
                assert_string_equal(out, ids[i]);
        }
}

static void test_explain(void **state)
{
        (void)state;
        struct pid_info id;
        struct pop_err err;
        char out[256];

        assert_int_equal(parse("001090234567", &id, &err), 0);
        pid_explain(&id, out, sizeof out);
        assert_string_equal(out,
                            "Male born in 1990, birth registered in Hà Nội (prefix 001); random "
                            "part 234567.");

        assert_int_equal(parse("074305000001", &id, &err), 0);
        pid_explain(&id, out, sizeof out);
        assert_string_equal(out,
                            "Female born in 2005, birth registered in Bình Dương (prefix 074); "
                            "random part 000001.");

        assert_int_equal(parse("286200000002", &id, &err), 0);
        pid_explain(&id, out, sizeof out);
        assert_string_equal(out, "Male born in 2000, birth registered abroad (country code 286); "
                                 "random part 000002.");

        /* A known country is named (no list ships today; see region.c). */
        static const struct region_country narnia = {200, "Narnia"};
        id.country_info = &narnia;
        pid_explain(&id, out, sizeof out);
        assert_string_equal(out,
                            "Male born in 2000, birth registered abroad in Narnia (country code "
                            "286); random part 000002.");

        /* Truncation to cap, never splitting a UTF-8 character ("à" is 2 bytes at 40-41). */
        assert_int_equal(parse("001090234567", &id, &err), 0);
        pid_explain(&id, out, 42);
        assert_string_equal(out, "Male born in 1990, birth registered in H");
        pid_explain(&id, out, 43);
        assert_string_equal(out, "Male born in 1990, birth registered in Hà");
        pid_explain(&id, out, 5);
        assert_string_equal(out, "Male");
        pid_explain(&id, out, 1);
        assert_string_equal(out, "");
        out[0] = 'x';
        pid_explain(&id, out, 0);
        assert_int_equal(out[0], 'x');
}

static void test_sex(void **state)
{
        (void)state;
        struct pop_err err;
        enum sex s = SEX_UNKNOWN;
        assert_string_equal(sex_name(SEX_MALE), "male");
        assert_string_equal(sex_name(SEX_FEMALE), "female");
        assert_string_equal(sex_name(SEX_UNKNOWN), "unknown");
        assert_string_equal(sex_name((enum sex)42), "unknown");

        assert_int_equal(sex_parse("male", &s, &err), 0);
        assert_int_equal(s, SEX_MALE);
        assert_int_equal(sex_parse("f", &s, &err), 0);
        assert_int_equal(s, SEX_FEMALE);
        assert_int_equal(sex_parse("m", &s, &err), 0);
        assert_int_equal(s, SEX_MALE);
        assert_int_equal(sex_parse("Female", &s, &err), 0);
        assert_int_equal(s, SEX_FEMALE);
        static const char *bad[] = {"", "unknown", "x", "males", "ma", "fem", " m", "Nam"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                s = SEX_MALE;
                assert_int_equal(sex_parse(bad[i], &s, &err), POP_EINVAL);
                assert_string_equal(err.rule, "sex-syntax");
                assert_int_equal(s, SEX_MALE);
        }
        assert_int_equal(sex_parse(NULL, &s, &err), POP_EINVAL);
}

/* One bit per suffix of a series. */
struct bitmap {
        uint8_t bits[PID_SUFFIX_SPAN / 8];
};

static bool bit_get(const struct bitmap *b, uint32_t i)
{
        return b->bits[i / 8] >> (i % 8) & 1;
}

static void bit_set(struct bitmap *b, uint32_t i)
{
        b->bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

static void check_bijection(const uint8_t *key, int prefix, int g, int yy)
{
        struct bitmap *seen = calloc(1, sizeof *seen);
        assert_non_null(seen);
        uint32_t fixed = 0;
        for (uint32_t c = 0; c < PID_SUFFIX_SPAN; c++) {
                uint32_t s = pid_series_suffix(key, prefix, g, yy, c);
                assert_true(s < PID_SUFFIX_SPAN);
                if (bit_get(seen, s))
                        fail_msg("suffix %u repeats at position %u", s, c);
                bit_set(seen, s);
                fixed += s == c;
        }
        /* A random permutation of a million has about one fixed point. */
        assert_true(fixed < 20);
        free(seen);
}

static void test_series_bijection(void **state)
{
        (void)state;
        check_bijection(key1, 1, 0, 90);
        check_bijection(key1, 79, 3, 5);
        check_bijection(key2, 1, 0, 90);
        check_bijection(key2, 286, 9, 99);
}

static void test_series_keyed(void **state)
{
        (void)state;
        /* Deterministic for one key and series; different for another key or series. */
        uint32_t same_key = 0, same_series = 0;
        for (uint32_t c = 0; c < 10000; c++) {
                uint32_t a = pid_series_suffix(key1, 1, 0, 90, c);
                assert_int_equal(a, pid_series_suffix(key1, 1, 0, 90, c));
                same_key += a == pid_series_suffix(key2, 1, 0, 90, c);
                same_series += a == pid_series_suffix(key1, 1, 0, 91, c);
                same_series += a == pid_series_suffix(key1, 1, 1, 90, c);
                same_series += a == pid_series_suffix(key1, 2, 0, 90, c);
        }
        assert_true(same_key < 5);
        assert_true(same_series < 5);
        /* Consecutive positions do not give consecutive numbers. */
        uint32_t steps = 0;
        for (uint32_t c = 0; c < 1000; c++)
                steps += pid_series_suffix(key1, 1, 0, 90, c + 1) ==
                         pid_series_suffix(key1, 1, 0, 90, c) + 1;
        assert_true(steps < 5);
}

/* The store stand-in: a bitmap of used suffixes of one series, and counts of what was asked. */
struct used_ctx {
        struct bitmap used;
        const char *series; /* the first 6 digits every asked number must carry */
        uint32_t n_calls, n_used;
        int fail_with;
};

static uint32_t suffix_of(const char pid[PID_LEN + 1])
{
        uint32_t v = 0;
        for (int i = 6; i < PID_LEN; i++)
                v = v * 10 + (uint32_t)(pid[i] - '0');
        return v;
}

static int used_cb(void *vctx, const char pid[PID_LEN + 1])
{
        struct used_ctx *ctx = vctx;
        ctx->n_calls++;
        if (ctx->fail_with)
                return ctx->fail_with;
        if (strlen(pid) != PID_LEN || memcmp(pid, ctx->series, 6) != 0)
                return POP_EINVAL;
        if (bit_get(&ctx->used, suffix_of(pid))) {
                ctx->n_used++;
                return 1;
        }
        return 0;
}

/* REQUIRED: a million allocations in one series, no duplicate, then POP_EFULL. */
static void test_allocate_million(void **state)
{
        (void)state;
        struct used_ctx *ctx = calloc(1, sizeof *ctx);
        assert_non_null(ctx);
        ctx->series = "001090";
        uint32_t counter = 0;
        char out[PID_LEN + 1];
        struct pop_err err;
        for (uint32_t i = 0; i < PID_SUFFIX_SPAN; i++) {
                int rc = pid_allocate(key1, 1, 1990, SEX_MALE, &counter, used_cb, ctx, out, &err);
                if (rc != 0)
                        fail_msg("allocation %u failed: %d %s", i, rc, err.msg);
                assert_int_equal(counter, i + 1);
                assert_memory_equal(out, "001090", 6);
                assert_int_equal(strlen(out), PID_LEN);
                uint32_t s = suffix_of(out);
                if (bit_get(&ctx->used, s))
                        fail_msg("allocation %u returned %s twice", i, out);
                bit_set(&ctx->used, s);
        }
        /* Never was a number offered that had been handed out before. */
        assert_int_equal(ctx->n_used, 0);
        assert_int_equal(ctx->n_calls, PID_SUFFIX_SPAN);
        for (uint32_t i = 0; i < PID_SUFFIX_SPAN / 8; i++)
                assert_int_equal(ctx->used.bits[i], 0xff);

        /* The 1,000,001st. */
        out[0] = 'x';
        assert_int_equal(pid_allocate(key1, 1, 1990, SEX_MALE, &counter, used_cb, ctx, out, &err),
                         POP_EFULL);
        assert_string_equal(err.rule, "pid-series-full");
        assert_string_equal(out, "");
        assert_int_equal(counter, PID_SUFFIX_SPAN);
        assert_int_equal(ctx->n_calls, PID_SUFFIX_SPAN);
        free(ctx);
}

static void test_allocate_skips_used(void **state)
{
        (void)state;
        struct used_ctx *ctx = calloc(1, sizeof *ctx);
        assert_non_null(ctx);
        ctx->series = "079305";
        /* Positions 0, 1 and 3 of the series are already taken (e.g. imported records). */
        uint32_t pos[5];
        for (uint32_t c = 0; c < 5; c++)
                pos[c] = pid_series_suffix(key2, 79, 3, 5, c);
        bit_set(&ctx->used, pos[0]);
        bit_set(&ctx->used, pos[1]);
        bit_set(&ctx->used, pos[3]);

        uint32_t counter = 0;
        char out[PID_LEN + 1], want[PID_LEN + 1];
        struct pop_err err;
        assert_int_equal(
            pid_allocate(key2, 79, 2005, SEX_FEMALE, &counter, used_cb, ctx, out, &err), 0);
        assert_int_equal(pid_format(79, 2005, SEX_FEMALE, pos[2], want, &err), 0);
        assert_string_equal(out, want);
        assert_int_equal(counter, 3);
        assert_int_equal(ctx->n_used, 2);

        assert_int_equal(
            pid_allocate(key2, 79, 2005, SEX_FEMALE, &counter, used_cb, ctx, out, &err), 0);
        assert_int_equal(pid_format(79, 2005, SEX_FEMALE, pos[4], want, &err), 0);
        assert_string_equal(out, want);
        assert_int_equal(counter, 5);
        assert_int_equal(ctx->n_used, 3);
        free(ctx);
}

/* Everything used but the last position: the search walks the whole series to find it. */
static void test_allocate_last_free(void **state)
{
        (void)state;
        struct used_ctx *ctx = calloc(1, sizeof *ctx);
        assert_non_null(ctx);
        ctx->series = "286200";
        uint32_t last = pid_series_suffix(key1, 286, 2, 0, PID_SUFFIX_SPAN - 1);
        memset(ctx->used.bits, 0xff, sizeof ctx->used.bits);
        ctx->used.bits[last / 8] &= (uint8_t) ~(1u << (last % 8));

        uint32_t counter = 0;
        char out[PID_LEN + 1], want[PID_LEN + 1];
        struct pop_err err;
        assert_int_equal(pid_allocate(key1, 286, 2000, SEX_MALE, &counter, used_cb, ctx, out, &err),
                         0);
        assert_int_equal(pid_format(286, 2000, SEX_MALE, last, want, &err), 0);
        assert_string_equal(out, want);
        assert_int_equal(counter, PID_SUFFIX_SPAN);
        assert_int_equal(ctx->n_used, PID_SUFFIX_SPAN - 1);
        assert_int_equal(pid_allocate(key1, 286, 2000, SEX_MALE, &counter, used_cb, ctx, out, &err),
                         POP_EFULL);
        free(ctx);
}

static void test_allocate_errors(void **state)
{
        (void)state;
        struct used_ctx *ctx = calloc(1, sizeof *ctx);
        assert_non_null(ctx);
        ctx->series = "001090";
        uint32_t counter = 7;
        char out[PID_LEN + 1];
        struct pop_err err;

        /* The store fails: the error is passed on and the counter stays. */
        ctx->fail_with = POP_ESTORE;
        assert_int_equal(pid_allocate(key1, 1, 1990, SEX_MALE, &counter, used_cb, ctx, out, &err),
                         POP_ESTORE);
        assert_int_equal(counter, 7);
        assert_string_equal(out, "");
        assert_int_equal(err.code, POP_ESTORE);
        ctx->fail_with = 0;

        assert_int_equal(pid_allocate(key1, 3, 1990, SEX_MALE, &counter, used_cb, ctx, out, &err),
                         POP_EINVAL);
        assert_string_equal(err.rule, "pid-prefix");
        assert_int_equal(pid_allocate(key1, 1, 1899, SEX_MALE, &counter, used_cb, ctx, out, &err),
                         POP_EINVAL);
        assert_int_equal(
            pid_allocate(key1, 1, 1990, SEX_UNKNOWN, &counter, used_cb, ctx, out, &err),
            POP_EINVAL);
        assert_int_equal(pid_allocate(key1, 1, 1990, SEX_MALE, NULL, used_cb, ctx, out, &err),
                         POP_EINVAL);
        assert_int_equal(pid_allocate(key1, 1, 1990, SEX_MALE, &counter, NULL, ctx, out, &err),
                         POP_EINVAL);
        assert_int_equal(counter, 7);
        assert_int_equal(ctx->n_calls, 1);

        counter = PID_SUFFIX_SPAN + 5;
        assert_int_equal(pid_allocate(key1, 1, 1990, SEX_MALE, &counter, used_cb, ctx, out, &err),
                         POP_EFULL);
        assert_int_equal(counter, PID_SUFFIX_SPAN + 5);

        /* The counter position decides the number. */
        counter = 7;
        assert_int_equal(pid_allocate(key1, 1, 1990, SEX_MALE, &counter, used_cb, ctx, out, NULL),
                         0);
        assert_int_equal(suffix_of(out), pid_series_suffix(key1, 1, 0, 90, 7));
        assert_int_equal(counter, 8);
        free(ctx);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_all_prefixes),
            cmocka_unit_test(test_bad_prefix_messages),
            cmocka_unit_test(test_g_digits),
            cmocka_unit_test(test_fields),
            cmocka_unit_test(test_syntax),
            cmocka_unit_test(test_check_person),
            cmocka_unit_test(test_century_sex),
            cmocka_unit_test(test_format),
            cmocka_unit_test(test_format_parse_round_trip),
            cmocka_unit_test(test_int),
            cmocka_unit_test(test_explain),
            cmocka_unit_test(test_sex),
            cmocka_unit_test(test_series_bijection),
            cmocka_unit_test(test_series_keyed),
            cmocka_unit_test(test_allocate_million),
            cmocka_unit_test(test_allocate_skips_used),
            cmocka_unit_test(test_allocate_last_free),
            cmocka_unit_test(test_allocate_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
