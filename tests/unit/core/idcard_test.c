/*
 * Unit tests of src/core/idcard.c: the expiry of a chip citizen-ID card under the Law on Identity
 * 2023 art. 21 (renewal at 14, 25, 40 and 60; a card issued within 2 years before one of those ages
 * lasts to the next), at every edge of each 2-year window, with 29 February and partial dates of
 * birth, the refusals, and a day-by-day comparison with the rule restated through date_age_on.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "core/idcard.h"

/* Expiry of a card issued on `issued` to someone born `dob`, as text ("never" or a date). */
static const char *expiry(const char *dob, const char *issued)
{
        static char out[16];
        struct pdate b, i, exp;
        bool never;
        struct pop_err err;
        assert_int_equal(pdate_parse(dob, strlen(dob), &b, NULL), POP_OK);
        assert_int_equal(pdate_parse_full(issued, strlen(issued), &i, NULL), POP_OK);
        pop_err_clear(&err);
        int rc = idcard_expiry(b, i, &exp, &never, &err);
        if (rc != POP_OK) {
                print_error("born %s, issued %s: %s\n", dob, issued, err.msg);
                fail();
        }
        if (never) {
                assert_true(pdate_is_none(exp));
                return "never";
        }
        pdate_format(exp, out);
        return out;
}

static void test_before_14(void **state)
{
        (void)state;
        const char *dob = "2010-06-15";
        assert_string_equal(expiry(dob, "2010-06-15"), "2024-06-15"); /* on the day of birth */
        assert_string_equal(expiry(dob, "2020-06-15"), "2024-06-15"); /* at 10 */
        assert_string_equal(expiry(dob, "2022-06-14"), "2024-06-15"); /* the day before 12 */
        /* From 12, within 2 years before 14: valid until 25. */
        assert_string_equal(expiry(dob, "2022-06-15"), "2035-06-15"); /* on the 12th birthday */
        assert_string_equal(expiry(dob, "2022-06-16"), "2035-06-15"); /* 12 years and a day */
        assert_string_equal(expiry(dob, "2024-06-14"), "2035-06-15"); /* the day before 14 */
}

static void test_from_14(void **state)
{
        (void)state;
        const char *dob = "2010-06-15";
        assert_string_equal(expiry(dob, "2024-06-15"), "2035-06-15"); /* on the 14th birthday */
        assert_string_equal(expiry(dob, "2030-01-01"), "2035-06-15");
        assert_string_equal(expiry(dob, "2033-06-14"), "2035-06-15"); /* the day before 23 */
        assert_string_equal(expiry(dob, "2033-06-15"), "2050-06-15"); /* at 23 */
        assert_string_equal(expiry(dob, "2034-06-15"), "2050-06-15"); /* at 24 */
        assert_string_equal(expiry(dob, "2035-06-14"), "2050-06-15"); /* the day before 25 */
        assert_string_equal(expiry(dob, "2035-06-15"), "2050-06-15"); /* on the 25th birthday */
        assert_string_equal(expiry(dob, "2048-06-14"), "2050-06-15"); /* the day before 38 */
        assert_string_equal(expiry(dob, "2048-06-15"), "2070-06-15"); /* at 38 */
        assert_string_equal(expiry(dob, "2048-12-15"), "2070-06-15"); /* at 38 and a half */
        assert_string_equal(expiry(dob, "2050-06-15"), "2070-06-15"); /* at 40 */
        assert_string_equal(expiry(dob, "2068-06-14"), "2070-06-15"); /* the day before 58 */
}

static void test_no_expiry(void **state)
{
        (void)state;
        const char *dob = "2010-06-15";
        assert_string_equal(expiry(dob, "2068-06-15"), "never"); /* at 58 */
        assert_string_equal(expiry(dob, "2069-01-01"), "never");
        assert_string_equal(expiry(dob, "2070-06-14"), "never");
        assert_string_equal(expiry(dob, "2070-06-15"), "never"); /* at 60 */
        assert_string_equal(expiry(dob, "2085-06-15"), "never"); /* at 75 */
        assert_string_equal(expiry("1940-03-03", "2024-07-01"), "never");
}

static void test_29_february(void **state)
{
        (void)state;
        /* Born 29 February 2008: 12 on 2020-02-29 (leap year), 14 on 2022-03-01 (common year). */
        const char *dob = "2008-02-29";
        assert_string_equal(expiry(dob, "2020-02-28"), "2022-03-01");
        assert_string_equal(expiry(dob, "2020-02-29"), "2033-03-01");
        assert_string_equal(expiry(dob, "2022-02-28"), "2033-03-01");
        assert_string_equal(expiry(dob, "2022-03-01"), "2033-03-01");
        /* 23 on 2031-03-01: the day before still counts as 22. */
        assert_string_equal(expiry(dob, "2031-02-28"), "2033-03-01");
        assert_string_equal(expiry(dob, "2031-03-01"), "2048-02-29"); /* 40 falls in a leap year */
        assert_string_equal(expiry(dob, "2046-02-28"), "2048-02-29");
        assert_string_equal(expiry(dob, "2046-03-01"), "2068-02-29");
        assert_string_equal(expiry(dob, "2066-02-28"), "2068-02-29");
        assert_string_equal(expiry(dob, "2066-03-01"), "never");
}

static void test_partial_dob(void **state)
{
        (void)state;
        /* Year only: the ages are counted from 1 January. */
        assert_string_equal(expiry("2010", "2020-06-15"), "2024-01-01");
        assert_string_equal(expiry("2010", "2021-12-31"), "2024-01-01");
        assert_string_equal(expiry("2010", "2022-01-01"), "2035-01-01");
        assert_string_equal(expiry("2010", "2010-01-01"), "2024-01-01");
        assert_string_equal(expiry("2010", "2068-01-01"), "never");
        /* Year and month: from the 1st of the month. */
        assert_string_equal(expiry("2010-06", "2022-05-31"), "2024-06-01");
        assert_string_equal(expiry("2010-06", "2022-06-01"), "2035-06-01");
        assert_string_equal(expiry("2010-06", "2048-06-01"), "2070-06-01");
}

static void test_refusals(void **state)
{
        (void)state;
        struct pdate exp = {2000, 1, 1};
        bool never = true;
        struct pop_err err;

        /* Issued before the birth. */
        pop_err_clear(&err);
        assert_int_equal(idcard_expiry((struct pdate){2010, 6, 15}, (struct pdate){2010, 6, 14},
                                       &exp, &never, &err),
                         POP_EINVAL);
        assert_int_equal(err.code, POP_EINVAL);
        assert_string_equal(err.rule, "idcard-before-birth");
        assert_string_equal(err.msg,
                            "the card was issued on 2010-06-14, before the birth (2010-06-15)");
        assert_true(pdate_is_none(exp));
        assert_false(never);

        /* Before the earliest day a partial date of birth may stand for. */
        assert_int_equal(idcard_expiry((struct pdate){2010, 0, 0}, (struct pdate){2009, 12, 31},
                                       &exp, &never, &err),
                         POP_EINVAL);
        assert_string_equal(err.rule, "idcard-before-birth");
        assert_int_equal(idcard_expiry((struct pdate){2010, 6, 0}, (struct pdate){2010, 5, 31},
                                       &exp, &never, NULL),
                         POP_EINVAL);

        /* No date of birth, or not a real one. */
        static const struct pdate bad_dobs[] = {
            {0, 0, 0},     {1799, 1, 1},  {2400, 0, 0},  {2010, 0, 5},
            {2010, 13, 0}, {2023, 2, 29}, {2010, 4, 31},
        };
        for (size_t i = 0; i < sizeof bad_dobs / sizeof bad_dobs[0]; i++) {
                pop_err_clear(&err);
                assert_int_equal(
                    idcard_expiry(bad_dobs[i], (struct pdate){2024, 1, 1}, &exp, &never, &err),
                    POP_EINVAL);
                assert_string_equal(err.rule, "idcard-dob");
        }

        /* The issue date must be a full, real date. */
        static const struct pdate bad_issued[] = {
            {0, 0, 0}, {2024, 0, 0}, {2024, 5, 0}, {2023, 2, 29}, {2024, 13, 1}, {2400, 1, 1},
        };
        for (size_t i = 0; i < sizeof bad_issued / sizeof bad_issued[0]; i++) {
                pop_err_clear(&err);
                assert_int_equal(
                    idcard_expiry((struct pdate){2010, 6, 15}, bad_issued[i], &exp, &never, &err),
                    POP_EINVAL);
                assert_string_equal(err.rule, "idcard-issued");
                assert_false(never);
                assert_true(pdate_is_none(exp));
        }
}

/*
 * Every issue day from birth to 80 years of age, against the rule restated in whole years of age:
 * the card expires at the first renewal age A (14, 25, 40, 60) such that the holder was younger
 * than A - 2 on the day of issue, and never when there is none. A card that expires lasts more
 * than 2 years (issued the day before A - 2) and at most 22 (issued at 38, valid until 60).
 */
static void test_every_issue_day(void **state)
{
        (void)state;
        static const int ages[] = {14, 25, 40, 60};
        static const struct pdate dobs[] = {
            {2010, 6, 15}, {2008, 2, 29}, {1999, 12, 31}, {2000, 1, 1}, {1990, 0, 0}, {1990, 7, 0},
        };
        for (size_t k = 0; k < sizeof dobs / sizeof dobs[0]; k++) {
                struct pdate dob = dobs[k];
                int32_t born = date_to_days(pdate_birthday_basis(dob));
                for (int32_t n = born; n < born + 80 * 366; n++) {
                        struct pdate issued = date_from_days(n), exp;
                        bool never;
                        assert_int_equal(idcard_expiry(dob, issued, &exp, &never, NULL), POP_OK);
                        int age = date_age_on(dob, issued);
                        int want = 0;
                        for (size_t a = 0; a < 4 && !want; a++)
                                if (age < ages[a] - 2)
                                        want = ages[a];
                        if (!want) {
                                assert_true(never);
                                continue;
                        }
                        assert_false(never);
                        struct pdate want_date = date_add_years(pdate_birthday_basis(dob), want);
                        if (memcmp(&exp, &want_date, sizeof exp) != 0) {
                                char a[11], b[11];
                                pdate_format(issued, a);
                                pdate_format(exp, b);
                                print_error("issued %s at %d: expires %s, expected at %d\n", a, age,
                                            b, want);
                                fail();
                        }
                        assert_true(date_to_days(exp) - n > 2 * 365);
                        assert_true(date_to_days(exp) - n <= 22 * 366);
                }
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_before_14),       cmocka_unit_test(test_from_14),
            cmocka_unit_test(test_no_expiry),       cmocka_unit_test(test_29_february),
            cmocka_unit_test(test_partial_dob),     cmocka_unit_test(test_refusals),
            cmocka_unit_test(test_every_issue_day),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
