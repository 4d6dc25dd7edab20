/*
 * Unit tests of src/core/date.c: strict parsing (every rejection and its message), formatting,
 * leap years, day numbers (every day of the supported years round-trips and follows the one
 * before), ranges and comparison of partial dates, adding years and days, and ages (29 February
 * birthdays, partial dates of birth).
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "core/date.h"

#define D(yy, mm, dd) ((struct pdate){.y = (yy), .m = (mm), .d = (dd)})

static void check_date(struct pdate p, int y, int m, int d, int line)
{
        if (p.y != y || p.m != m || p.d != d) {
                print_error("line %d: got %d-%d-%d, expected %d-%d-%d\n", line, p.y, p.m, p.d, y, m,
                            d);
                fail();
        }
}
#define assert_date(p, y, m, d) check_date((p), (y), (m), (d), __LINE__)

static struct pdate parse_ok(const char *s)
{
        struct pdate p;
        struct pop_err err;
        pop_err_clear(&err);
        int rc = pdate_parse(s, strlen(s), &p, &err);
        if (rc != POP_OK) {
                print_error("\"%s\" refused: %s\n", s, err.msg);
                fail();
        }
        return p;
}

static void test_parse_accepts(void **state)
{
        (void)state;
        assert_date(parse_ok("2023"), 2023, 0, 0);
        assert_date(parse_ok("2023-05"), 2023, 5, 0);
        assert_date(parse_ok("2023-05-17"), 2023, 5, 17);
        assert_date(parse_ok("1800-01-01"), 1800, 1, 1);
        assert_date(parse_ok("2399-12-31"), 2399, 12, 31);
        assert_date(parse_ok("1800"), 1800, 0, 0);
        assert_date(parse_ok("2399"), 2399, 0, 0);
        assert_date(parse_ok("2024-02-29"), 2024, 2, 29);
        assert_date(parse_ok("2000-02-29"), 2000, 2, 29);
        assert_date(parse_ok("2023-12-31"), 2023, 12, 31);
        assert_date(parse_ok("2024-04-30"), 2024, 4, 30);

        /* Exactly len bytes are read: what follows them does not matter. */
        struct pdate p;
        assert_int_equal(pdate_parse("2023-05-17", 4, &p, NULL), POP_OK);
        assert_date(p, 2023, 0, 0);
        assert_int_equal(pdate_parse("2023-05-17", 7, &p, NULL), POP_OK);
        assert_date(p, 2023, 5, 0);
        assert_int_equal(pdate_parse("2023-05-17garbage", 10, &p, NULL), POP_OK);
        assert_date(p, 2023, 5, 17);
}

struct reject {
        const char *in;
        size_t len; /* 0: strlen(in) */
        const char *rule;
        const char *msg; /* a part of the message */
};

static const struct reject rejects[] = {
    /* shape */
    {"", 0, "date-syntax", "empty date"},
    {"2", 0, "date-syntax", "year must have 4 digits"},
    {"202", 0, "date-syntax", "year must have 4 digits"},
    {"20234", 0, "date-syntax", "expected '-' at position 5, found '4'"},
    {"2023-", 0, "date-syntax", "month must have 2 digits"},
    {"2023-1", 0, "date-syntax", "month must have 2 digits"},
    {"2023-5", 0, "date-syntax", "month must have 2 digits"},
    {"2023-2-3", 0, "date-syntax", "expected a digit at position 7, found '-'"},
    {"2023-02-", 0, "date-syntax", "day must have 2 digits"},
    {"2023-02-3", 0, "date-syntax", "day must have 2 digits"},
    {"2023-02-031", 0, "date-syntax", "unexpected characters after the day"},
    {"2023-05-17 ", 0, "date-syntax", "unexpected characters after the day"},
    {"2023-05-17x", 0, "date-syntax", "unexpected characters after the day"},
    {"2023-05-17T00:00", 0, "date-syntax", "unexpected characters after the day"},
    {"23-05-17", 0, "date-syntax", "expected a digit at position 3, found '-'"},
    {"023-05-17", 0, "date-syntax", "expected a digit at position 4, found '-'"},
    {"20a3", 0, "date-syntax", "expected a digit at position 3, found 'a'"},
    {" 2023", 0, "date-syntax", "expected a digit at position 1, found ' '"},
    {"2023 ", 0, "date-syntax", "expected '-' at position 5, found ' '"},
    {"2023-05 ", 0, "date-syntax", "expected '-' at position 8, found ' '"},
    {" 2023-05-17", 0, "date-syntax", "position 1, found ' '"},
    {"2023-05-17\n", 0, "date-syntax", "unexpected characters after the day"},
    {"\t2023", 0, "date-syntax", "position 1, found 0x09"},
    {"+2023", 0, "date-syntax", "position 1, found '+'"},
    {"-2023", 0, "date-syntax", "position 1, found '-'"},
    {"2023-+5-01", 0, "date-syntax", "position 6, found '+'"},
    {"2023--5-01", 0, "date-syntax", "position 6, found '-'"},
    {"2023-05--1", 0, "date-syntax", "position 9, found '-'"},
    {"2023/05/17", 0, "date-syntax", "expected '-' at position 5, found '/'"},
    {"2023.05.17", 0, "date-syntax", "expected '-' at position 5, found '.'"},
    {"17-05-2023", 0, "date-syntax", "position 3, found '-'"},
    {"20230517", 0, "date-syntax", "expected '-' at position 5, found '0'"},
    {"2023-05-1\xd9", 0, "date-syntax", "position 10, found 0xd9"},
    {"\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x93", 0, "date-syntax", "found 0xef"},
    {"2023\0", 5, "date-syntax", "expected '-' at position 5, found 0x00"},
    {"2023-05-1\0", 10, "date-syntax", "position 10, found 0x00"},
    /* years */
    {"1799", 0, "date-year-range", "year 1799 is outside the supported years 1800..2399"},
    {"2400", 0, "date-year-range", "year 2400 is outside"},
    {"0000", 0, "date-year-range", "year 0000 is outside"},
    {"9999-12-31", 0, "date-year-range", "year 9999 is outside"},
    {"1799-12-31", 0, "date-year-range", "year 1799"},
    {"2400-01-01", 0, "date-year-range", "year 2400"},
    /* months */
    {"2023-00", 0, "date-month", "month 00 does not exist"},
    {"2023-13", 0, "date-month", "month 13 does not exist"},
    {"2023-99-01", 0, "date-month", "month 99 does not exist"},
    {"2023-00-15", 0, "date-month", "a day without a month"},
    {"2023-00-00", 0, "date-month", "a day without a month"},
    /* days */
    {"2023-05-00", 0, "date-day", "day 00 does not exist in 2023-05"},
    {"2023-05-32", 0, "date-day", "day 32 does not exist in 2023-05"},
    {"2023-01-99", 0, "date-day", "day 99 does not exist in 2023-01"},
    {"2023-02-29", 0, "date-day", "day 29 does not exist in 2023-02"},
    {"2024-02-30", 0, "date-day", "day 30 does not exist in 2024-02"},
    {"1900-02-29", 0, "date-day", "day 29 does not exist in 1900-02"},
    {"2100-02-29", 0, "date-day", "day 29 does not exist in 2100-02"},
    {"2024-04-31", 0, "date-day", "day 31 does not exist in 2024-04"},
    {"2023-06-31", 0, "date-day", "day 31 does not exist in 2023-06"},
    {"2023-09-31", 0, "date-day", "day 31 does not exist in 2023-09"},
    {"2023-11-31", 0, "date-day", "day 31 does not exist in 2023-11"},
};

static void test_parse_rejects(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
                const struct reject *r = &rejects[i];
                size_t len = r->len ? r->len : strlen(r->in);
                struct pdate p = D(1, 1, 1);
                struct pop_err err;
                pop_err_clear(&err);
                int rc = pdate_parse(r->in, len, &p, &err);
                if (rc != POP_EINVAL || err.code != POP_EINVAL || strcmp(err.rule, r->rule) != 0 ||
                    !strstr(err.msg, r->msg)) {
                        print_error(
                            "input #%zu \"%s\": rc %d rule \"%s\" msg \"%s\"; expected rule "
                            "\"%s\" and a message with \"%s\"\n",
                            i, r->in, rc, err.rule, err.msg, r->rule, r->msg);
                        fail();
                }
                assert_true(pdate_is_none(p));
                /* The same refusal without an error record. */
                assert_int_equal(pdate_parse(r->in, len, &p, NULL), POP_EINVAL);
        }
}

static void test_parse_message_quotes_input(void **state)
{
        (void)state;
        struct pdate p;
        struct pop_err err;
        assert_int_equal(pdate_parse("2023-2-3", 8, &p, &err), POP_EINVAL);
        assert_string_equal(err.msg,
                            "date \"2023-2-3\": expected a digit at position 7, found '-'");

        /* Unprintable bytes are not copied into the message, and long input is cut. */
        char big[4096];
        memset(big, '\x01', sizeof big);
        memcpy(big, "2023-05-17", 10);
        assert_int_equal(pdate_parse(big, sizeof big, &p, &err), POP_EINVAL);
        assert_null(strchr(err.msg, '\x01'));
        assert_non_null(strstr(err.msg, "\"2023-05-17??????????????\"..."));
        assert_true(strlen(err.msg) < 120);
}

static void test_parse_full(void **state)
{
        (void)state;
        struct pdate p;
        struct pop_err err;
        assert_int_equal(pdate_parse_full("2023-05-17", 10, &p, &err), POP_OK);
        assert_date(p, 2023, 5, 17);

        pop_err_clear(&err);
        assert_int_equal(pdate_parse_full("2023", 4, &p, &err), POP_EINVAL);
        assert_string_equal(err.rule, "date-incomplete");
        assert_non_null(strstr(err.msg, "\"2023\" is incomplete"));
        assert_true(pdate_is_none(p));

        assert_int_equal(pdate_parse_full("2023-05", 7, &p, &err), POP_EINVAL);
        assert_string_equal(err.rule, "date-incomplete");
        assert_true(pdate_is_none(p));

        /* A parse failure comes through unchanged. */
        assert_int_equal(pdate_parse_full("2023-02-29", 10, &p, &err), POP_EINVAL);
        assert_string_equal(err.rule, "date-day");
        assert_int_equal(pdate_parse_full("", 0, &p, NULL), POP_EINVAL);
}

static void test_format(void **state)
{
        (void)state;
        char buf[11];
        memset(buf, 'x', sizeof buf);
        pdate_format(D(0, 0, 0), buf);
        assert_string_equal(buf, "");
        pdate_format(D(2023, 0, 0), buf);
        assert_string_equal(buf, "2023");
        pdate_format(D(2023, 5, 0), buf);
        assert_string_equal(buf, "2023-05");
        pdate_format(D(2023, 5, 7), buf);
        assert_string_equal(buf, "2023-05-07");
        pdate_format(D(1800, 1, 1), buf);
        assert_string_equal(buf, "1800-01-01");
        pdate_format(D(2399, 12, 31), buf);
        assert_string_equal(buf, "2399-12-31");
}

static void test_valid_and_leap_years(void **state)
{
        (void)state;
        assert_true(date_valid(2000, 2, 29));  /* divisible by 400 */
        assert_false(date_valid(1900, 2, 29)); /* by 100, not 400 */
        assert_false(date_valid(2100, 2, 29));
        assert_false(date_valid(2200, 2, 29));
        assert_false(date_valid(2300, 2, 29));
        assert_true(date_valid(2024, 2, 29));
        assert_true(date_valid(1804, 2, 29));
        assert_false(date_valid(2023, 2, 29));
        assert_true(date_valid(2023, 2, 28));

        assert_true(date_valid(1800, 1, 1));
        assert_true(date_valid(2399, 12, 31));
        assert_false(date_valid(1799, 12, 31));
        assert_false(date_valid(2400, 1, 1));
        assert_false(date_valid(2023, 0, 1));
        assert_false(date_valid(2023, 13, 1));
        assert_false(date_valid(2023, 1, 0));
        assert_false(date_valid(2023, 1, 32));
        assert_false(date_valid(2023, 4, 31));
        assert_true(date_valid(2023, 12, 31));
        assert_false(date_valid(2023, -1, 1));
        assert_false(date_valid(2023, 1, -1));

        /* Counted leap days over the 600 supported years: 150 multiples of 4 less 1800, 1900,
         * 2100, 2200, 2300. */
        int n_leap = 0;
        for (int y = DATE_MIN_YEAR; y <= DATE_MAX_YEAR; y++)
                n_leap += date_valid(y, 2, 29);
        assert_int_equal(n_leap, 145);
}

static void test_is_full_is_none(void **state)
{
        (void)state;
        assert_true(pdate_is_none(D(0, 0, 0)));
        assert_false(pdate_is_none(D(2023, 0, 0)));
        assert_false(pdate_is_full(D(0, 0, 0)));
        assert_false(pdate_is_full(D(2023, 0, 0)));
        assert_false(pdate_is_full(D(2023, 5, 0)));
        assert_true(pdate_is_full(D(2023, 5, 17)));
}

static void test_days_known_values(void **state)
{
        (void)state;
        assert_int_equal(date_to_days(D(1970, 1, 1)), 0);
        assert_int_equal(date_to_days(D(1969, 12, 31)), -1);
        assert_int_equal(date_to_days(D(1970, 1, 2)), 1);
        assert_int_equal(date_to_days(D(2000, 2, 29)), 11016);
        assert_int_equal(date_to_days(D(2000, 3, 1)), 11017);
        assert_int_equal(date_to_days(D(1900, 3, 1)), -25508);
        assert_int_equal(date_to_days(D(1800, 1, 1)), -62091);
        assert_int_equal(date_to_days(D(2399, 12, 31)), 157053);
        /* 1900 is common: 28 February is the day before 1 March. */
        assert_int_equal(date_to_days(D(1900, 3, 1)) - date_to_days(D(1900, 2, 28)), 1);
        assert_int_equal(date_to_days(D(2000, 3, 1)) - date_to_days(D(2000, 2, 28)), 2);
        assert_int_equal(date_to_days(D(2100, 3, 1)) - date_to_days(D(2100, 2, 28)), 1);
        /* A partial date counts as its earliest day. */
        assert_int_equal(date_to_days(D(1970, 0, 0)), 0);
        assert_int_equal(date_to_days(D(2000, 3, 0)), 11017);

        assert_date(date_from_days(0), 1970, 1, 1);
        assert_date(date_from_days(-1), 1969, 12, 31);
        assert_date(date_from_days(11016), 2000, 2, 29);
        assert_date(date_from_days(-62091), 1800, 1, 1);
        assert_date(date_from_days(157053), 2399, 12, 31);
        /* Days whose year a struct pdate cannot hold give the none value, not garbage. */
        assert_true(pdate_is_none(date_from_days(INT32_MAX)));
        assert_true(pdate_is_none(date_from_days(INT32_MIN)));
}

/* Every day of the supported years: the day numbers round-trip, the dates are valid, and each
 * is the calendar successor of the one before (checked by hand, not by the same algorithm). */
static void test_days_round_trip_all(void **state)
{
        (void)state;
        int32_t first = date_to_days(D(DATE_MIN_YEAR, 1, 1));
        int32_t last = date_to_days(D(DATE_MAX_YEAR, 12, 31));
        assert_int_equal(last - first + 1, 600 * 365 + 145);

        struct pdate prev = {0};
        for (int32_t n = first; n <= last; n++) {
                struct pdate p = date_from_days(n);
                if (!date_valid(p.y, p.m, p.d) || date_to_days(p) != n) {
                        print_error("day %d gave %d-%d-%d\n", (int)n, p.y, p.m, p.d);
                        fail();
                }
                if (n == first) {
                        assert_date(p, DATE_MIN_YEAR, 1, 1);
                } else {
                        struct pdate want = prev;
                        want.d++;
                        if (!date_valid(want.y, want.m, want.d)) {
                                want.d = 1;
                                if (++want.m > 12) {
                                        want.m = 1;
                                        want.y++;
                                }
                        }
                        if (p.y != want.y || p.m != want.m || p.d != want.d) {
                                print_error("day %d is %d-%d-%d, after %d-%d-%d\n", (int)n, p.y,
                                            p.m, p.d, prev.y, prev.m, prev.d);
                                fail();
                        }
                }
                /* Text round trip too. */
                char txt[11];
                struct pdate back;
                pdate_format(p, txt);
                if (pdate_parse(txt, strlen(txt), &back, NULL) != POP_OK ||
                    memcmp(&back, &p, sizeof p) != 0) {
                        print_error("\"%s\" does not parse back\n", txt);
                        fail();
                }
                prev = p;
        }
        assert_date(prev, DATE_MAX_YEAR, 12, 31);
}

/* Far outside the supported years the arithmetic stays exact (e.g. dates computed from them). */
static void test_days_round_trip_wide(void **state)
{
        (void)state;
        int32_t lo = date_to_days(D(1, 1, 1));
        int32_t hi = date_to_days(D(9999, 12, 31));
        for (int32_t n = lo; n <= hi; n += 7) {
                struct pdate p = date_from_days(n);
                assert_int_equal(date_to_days(p), n);
        }
        assert_date(date_from_days(lo), 1, 1, 1);
        assert_date(date_from_days(hi), 9999, 12, 31);
}

static void test_earliest_latest(void **state)
{
        (void)state;
        assert_date(pdate_earliest(D(1990, 0, 0)), 1990, 1, 1);
        assert_date(pdate_latest(D(1990, 0, 0)), 1990, 12, 31);
        assert_date(pdate_earliest(D(2024, 2, 0)), 2024, 2, 1);
        assert_date(pdate_latest(D(2024, 2, 0)), 2024, 2, 29);
        assert_date(pdate_latest(D(2023, 2, 0)), 2023, 2, 28);
        assert_date(pdate_latest(D(1900, 2, 0)), 1900, 2, 28);
        assert_date(pdate_latest(D(2023, 4, 0)), 2023, 4, 30);
        assert_date(pdate_latest(D(2023, 12, 0)), 2023, 12, 31);
        assert_date(pdate_earliest(D(2023, 5, 17)), 2023, 5, 17);
        assert_date(pdate_latest(D(2023, 5, 17)), 2023, 5, 17);
        assert_true(pdate_is_none(pdate_earliest(D(0, 0, 0))));
        assert_true(pdate_is_none(pdate_latest(D(0, 0, 0))));
}

static void test_cmp(void **state)
{
        (void)state;
        assert_int_equal(pdate_cmp(D(1990, 0, 0), D(1990, 5, 0)), 0);
        assert_int_equal(pdate_cmp(D(1990, 5, 0), D(1990, 0, 0)), 0);
        assert_int_equal(pdate_cmp(D(1989, 0, 0), D(1990, 1, 1)), -1);
        assert_int_equal(pdate_cmp(D(1990, 1, 1), D(1989, 0, 0)), 1);
        assert_int_equal(pdate_cmp(D(1989, 12, 31), D(1990, 0, 0)), -1);
        assert_int_equal(pdate_cmp(D(1990, 1, 1), D(1990, 0, 0)), 0);
        assert_int_equal(pdate_cmp(D(1990, 12, 31), D(1990, 0, 0)), 0);
        assert_int_equal(pdate_cmp(D(1990, 5, 0), D(1990, 6, 1)), -1);
        assert_int_equal(pdate_cmp(D(1990, 5, 31), D(1990, 5, 0)), 0);
        assert_int_equal(pdate_cmp(D(1990, 6, 1), D(1990, 5, 0)), 1);
        assert_int_equal(pdate_cmp(D(2024, 2, 29), D(2024, 2, 0)), 0);
        assert_int_equal(pdate_cmp(D(2024, 3, 1), D(2024, 2, 0)), 1);
        assert_int_equal(pdate_cmp(D(1990, 0, 0), D(1991, 0, 0)), -1);
        assert_int_equal(pdate_cmp(D(1990, 0, 0), D(1990, 0, 0)), 0);
        assert_int_equal(pdate_cmp(D(2023, 5, 17), D(2023, 5, 17)), 0);
        assert_int_equal(pdate_cmp(D(2023, 5, 17), D(2023, 5, 18)), -1);
        assert_int_equal(pdate_cmp(D(2023, 5, 18), D(2023, 5, 17)), 1);
        /* "No date" may be any day. */
        assert_int_equal(pdate_cmp(D(0, 0, 0), D(2023, 5, 17)), 0);
        assert_int_equal(pdate_cmp(D(2023, 5, 17), D(0, 0, 0)), 0);

        /* Antisymmetric over a mix of full and partial dates. */
        static const struct pdate mix[] = {
            {1989, 0, 0}, {1989, 12, 0}, {1989, 12, 31}, {1990, 0, 0}, {1990, 1, 0},
            {1990, 1, 1}, {1990, 5, 0},  {1990, 5, 31},  {1990, 6, 1}, {1990, 12, 31},
            {1991, 1, 1}, {2024, 2, 0},  {2024, 2, 29},  {2024, 3, 1}, {0, 0, 0},
        };
        size_t n = sizeof mix / sizeof mix[0];
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                        assert_int_equal(pdate_cmp(mix[i], mix[j]), -pdate_cmp(mix[j], mix[i]));
}

static void test_add_years(void **state)
{
        (void)state;
        assert_date(date_add_years(D(2023, 5, 17), 10), 2033, 5, 17);
        assert_date(date_add_years(D(2023, 5, 17), 0), 2023, 5, 17);
        assert_date(date_add_years(D(2023, 5, 17), -23), 2000, 5, 17);
        /* 29 February: 1 March in a common year, 29 February in a leap year. */
        assert_date(date_add_years(D(2000, 2, 29), 1), 2001, 3, 1);
        assert_date(date_add_years(D(2000, 2, 29), 4), 2004, 2, 29);
        assert_date(date_add_years(D(2000, 2, 29), 100), 2100, 3, 1);
        assert_date(date_add_years(D(2000, 2, 29), 400), 2400, 2, 29);
        assert_date(date_add_years(D(2004, 2, 29), -1), 2003, 3, 1);
        assert_date(date_add_years(D(2004, 2, 29), -4), 2000, 2, 29);
        assert_date(date_add_years(D(2023, 2, 28), 1), 2024, 2, 28);
        assert_date(date_add_years(D(2023, 3, 1), 1), 2024, 3, 1);
}

static void test_add_days(void **state)
{
        (void)state;
        assert_date(date_add_days(D(2023, 12, 31), 1), 2024, 1, 1);
        assert_date(date_add_days(D(2024, 1, 1), -1), 2023, 12, 31);
        assert_date(date_add_days(D(2024, 2, 28), 1), 2024, 2, 29);
        assert_date(date_add_days(D(2024, 3, 1), -1), 2024, 2, 29);
        assert_date(date_add_days(D(2023, 3, 1), -1), 2023, 2, 28);
        assert_date(date_add_days(D(1900, 2, 28), 1), 1900, 3, 1);
        assert_date(date_add_days(D(2023, 5, 17), 0), 2023, 5, 17);
        assert_date(date_add_days(D(2023, 1, 1), 365), 2024, 1, 1);
        assert_date(date_add_days(D(2024, 1, 1), 366), 2025, 1, 1);
        assert_date(date_add_days(D(1970, 1, 1), 11016), 2000, 2, 29);
        /* Past the supported years is still arithmetic, not an error. */
        assert_date(date_add_days(D(2399, 12, 31), 1), 2400, 1, 1);
        assert_date(date_add_days(D(1800, 1, 1), -1), 1799, 12, 31);
        /* Out of what struct pdate holds: none, without overflow. */
        assert_true(pdate_is_none(date_add_days(D(2399, 12, 31), INT32_MAX)));
        assert_true(pdate_is_none(date_add_days(D(1800, 1, 1), INT32_MIN)));
}

static void test_birthday_basis(void **state)
{
        (void)state;
        assert_date(pdate_birthday_basis(D(1990, 0, 0)), 1990, 1, 1);
        assert_date(pdate_birthday_basis(D(1990, 7, 0)), 1990, 7, 1);
        assert_date(pdate_birthday_basis(D(1990, 7, 15)), 1990, 7, 15);
        assert_date(pdate_birthday_basis(D(2000, 2, 29)), 2000, 2, 29);
}

static void test_age_on(void **state)
{
        (void)state;
        struct pdate dob = D(2000, 5, 17);
        assert_int_equal(date_age_on(dob, D(2000, 5, 17)), 0);
        assert_int_equal(date_age_on(dob, D(2001, 5, 16)), 0);
        assert_int_equal(date_age_on(dob, D(2001, 5, 17)), 1);
        assert_int_equal(date_age_on(dob, D(2018, 5, 16)), 17);
        assert_int_equal(date_age_on(dob, D(2018, 5, 17)), 18);
        assert_int_equal(date_age_on(dob, D(2018, 12, 31)), 18);
        assert_int_equal(date_age_on(dob, D(2019, 1, 1)), 18);
        /* Before the birth: negative. */
        assert_true(date_age_on(dob, D(2000, 5, 16)) < 0);
        assert_true(date_age_on(dob, D(1999, 5, 18)) < 0);
        assert_true(date_age_on(dob, D(1990, 1, 1)) < 0);
}

static void test_age_on_29_february(void **state)
{
        (void)state;
        struct pdate dob = D(2000, 2, 29);
        assert_int_equal(date_age_on(dob, D(2000, 2, 29)), 0);
        assert_int_equal(date_age_on(dob, D(2001, 2, 28)), 0);
        assert_int_equal(date_age_on(dob, D(2001, 3, 1)), 1);
        assert_int_equal(date_age_on(dob, D(2004, 2, 28)), 3);
        assert_int_equal(date_age_on(dob, D(2004, 2, 29)), 4);
        assert_int_equal(date_age_on(dob, D(2018, 2, 28)), 17);
        assert_int_equal(date_age_on(dob, D(2018, 3, 1)), 18);
        assert_int_equal(date_age_on(dob, D(2100, 2, 28)), 99);
        assert_int_equal(date_age_on(dob, D(2100, 3, 1)), 100);
        assert_true(date_age_on(dob, D(2000, 2, 28)) < 0);
}

static void test_age_on_partial_dob(void **state)
{
        (void)state;
        /* Year only: counted from 1 January, so never younger than the person might be. */
        assert_int_equal(date_age_on(D(1990, 0, 0), D(2007, 12, 31)), 17);
        assert_int_equal(date_age_on(D(1990, 0, 0), D(2008, 1, 1)), 18);
        assert_int_equal(date_age_on(D(1990, 0, 0), D(1990, 6, 1)), 0);
        assert_true(date_age_on(D(1990, 0, 0), D(1989, 12, 31)) < 0);
        /* Year and month: counted from the 1st. */
        assert_int_equal(date_age_on(D(1990, 7, 0), D(2008, 6, 30)), 17);
        assert_int_equal(date_age_on(D(1990, 7, 0), D(2008, 7, 1)), 18);
        assert_int_equal(date_age_on(D(2000, 2, 0), D(2001, 2, 1)), 1);
}

/* date_age_on and date_add_years agree: age >= n exactly from the n-th anniversary on. */
static void test_age_agrees_with_add_years(void **state)
{
        (void)state;
        static const struct pdate dobs[] = {
            {2000, 2, 29}, {1996, 2, 29}, {2001, 3, 1}, {2000, 2, 28}, {1999, 12, 31},
            {2000, 1, 1},  {1990, 0, 0},  {1990, 7, 0}, {2024, 2, 0},
        };
        for (size_t i = 0; i < sizeof dobs / sizeof dobs[0]; i++) {
                struct pdate b = pdate_birthday_basis(dobs[i]);
                int32_t start = date_to_days(b);
                for (int32_t n = start; n < start + 70 * 366; n++) {
                        struct pdate on = date_from_days(n);
                        int age = date_age_on(dobs[i], on);
                        assert_true(age >= 0);
                        assert_true(n >= date_to_days(date_add_years(b, age)));
                        assert_true(n < date_to_days(date_add_years(b, age + 1)));
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_accepts),
            cmocka_unit_test(test_parse_rejects),
            cmocka_unit_test(test_parse_message_quotes_input),
            cmocka_unit_test(test_parse_full),
            cmocka_unit_test(test_format),
            cmocka_unit_test(test_valid_and_leap_years),
            cmocka_unit_test(test_is_full_is_none),
            cmocka_unit_test(test_days_known_values),
            cmocka_unit_test(test_days_round_trip_all),
            cmocka_unit_test(test_days_round_trip_wide),
            cmocka_unit_test(test_earliest_latest),
            cmocka_unit_test(test_cmp),
            cmocka_unit_test(test_add_years),
            cmocka_unit_test(test_add_days),
            cmocka_unit_test(test_birthday_basis),
            cmocka_unit_test(test_age_on),
            cmocka_unit_test(test_age_on_29_february),
            cmocka_unit_test(test_age_on_partial_dob),
            cmocka_unit_test(test_age_agrees_with_add_years),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
