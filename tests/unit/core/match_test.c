/*
 * Unit tests of src/core/match.c: names in NFC and NFD, đ/Đ, upper case, extra spacing, the
 * partial modes (diacritics, similarity on both sides of MATCH_NAME_THRESHOLD), partial dates in
 * both modes, sex, addresses (exact and word overlap, house numbers), and client input refused
 * (invalid UTF-8, bad dates, bad mode). NFD input is spelled with escapes so an editor cannot
 * recompose it.
 */
#include "testutil.h"

#include <string.h>

#include "core/match.h"
#include "core/name.h"

#define BIG (2 * NAME_MAX_BYTES + 1)

/* The stored forms of a registry name, as the store keeps them. */
struct stored {
        char fold[BIG], key[BIG];
};

static struct stored store_name(const char *name)
{
        struct stored s;
        struct pop_err e = {0};
        assert_int_equal(name_fold(name, strlen(name), s.fold, sizeof s.fold, &e), 0);
        assert_int_equal(name_key(name, strlen(name), s.key, sizeof s.key, &e), 0);
        return s;
}

static struct match_result name_m(const char *claimed, const char *stored, enum match_mode mode)
{
        struct stored s = store_name(stored);
        struct match_result r;
        struct pop_err e = {0};
        int rc = match_name(claimed, strlen(claimed), s.fold, s.key, mode, &r, &e);
        if (rc)
                fail_msg("'%s': %d %s", claimed, rc, e.msg);
        return r;
}

static void test_name_exact(void **state)
{
        (void)state;
        const char *stored = "Nguyễn Văn Đức";
        /* NFC, NFD (e + U+0302 + U+0303, a + U+0306), upper case, extra spaces. */
        assert_true(name_m("Nguyễn Văn Đức", stored, MATCH_EXACT).ok);
        assert_true(name_m("Nguye\xcc\x82\xcc\x83n Va\xcc\x86n \xc4\x90u\xcc\x9b\xcc\x81"
                           "c",
                           stored, MATCH_EXACT)
                        .ok);
        assert_true(name_m("NGUYỄN VĂN ĐỨC", stored, MATCH_EXACT).ok);
        assert_true(name_m("  nguyễn   văn  đức ", stored, MATCH_EXACT).ok);
        struct match_result r = name_m("Nguyễn Văn Đức", stored, MATCH_EXACT);
        assert_int_equal(r.how, MATCH_SAME);
        assert_int_equal(r.score, MATCH_SCORE_MAX);
        /* Exact does not forgive diacritics nor đ written as d. */
        assert_false(name_m("Nguyen Van Duc", stored, MATCH_EXACT).ok);
        assert_false(name_m("Nguyễn Văn Dức", stored, MATCH_EXACT).ok);
        assert_false(name_m("Nguyễn Văn Đực", stored, MATCH_EXACT).ok);
}

static void test_name_partial_key(void **state)
{
        (void)state;
        const char *stored = "Nguyễn Văn Đức";
        struct match_result r = name_m("NGUYEN VAN DUC", stored, MATCH_PARTIAL);
        assert_true(r.ok);
        assert_int_equal(r.how, MATCH_KEY);
        assert_true(name_m("nguyễn văn dức", stored, MATCH_PARTIAL).ok);
        assert_true(name_m("Nguye\xcc\x82\xcc\x83n Van DUC", stored, MATCH_PARTIAL).ok);
        /* đ/Đ and d are one letter in the key, both ways. */
        assert_true(name_m("Đinh Thị Hoa", "Dinh Thi Hoa", MATCH_PARTIAL).ok);
        assert_true(name_m("dinh thi hoa", "Đinh Thị Hoa", MATCH_PARTIAL).ok);
}

static void test_similarity(void **state)
{
        (void)state;
        /* One letter dropped from a long word: above the threshold. */
        struct match_result r = name_m("Nguyn Van Duc", "Nguyễn Văn Đức", MATCH_PARTIAL);
        assert_int_equal(r.how, MATCH_SIMILAR);
        assert_true(r.ok);
        assert_true(r.score >= MATCH_NAME_THRESHOLD);
        /* Two long words with a transposition: still above. */
        assert_true(name_m("Tran Thi Huogn", "Trần Thị Hương", MATCH_PARTIAL).ok);
        /* A different given name of similar shape: below. */
        r = name_m("Nguyen Van Hung", "Nguyễn Văn Hưng", MATCH_PARTIAL);
        assert_true(r.ok); /* same key */
        r = name_m("Nguyen Van Hung", "Nguyễn Văn Hoàng", MATCH_PARTIAL);
        assert_false(r.ok);
        assert_true(r.score < MATCH_NAME_THRESHOLD);
        /* Short words must be equal: An is not Anh. */
        r = name_m("Nguyen Van An", "Nguyễn Văn Anh", MATCH_PARTIAL);
        assert_false(r.ok);
        assert_int_equal(r.score, 0);
        /* A missing middle name is a different number of words. */
        assert_false(name_m("Nguyen Duc", "Nguyễn Văn Đức", MATCH_PARTIAL).ok);
        /* A near miss below: Phuong / Phuc share a prefix but differ too much. */
        r = name_m("Le Thi Phuong", "Lê Thị Phúc", MATCH_PARTIAL);
        assert_false(r.ok);
        /* Exact never uses similarity. */
        assert_false(name_m("Nguyn Van Duc", "Nguyễn Văn Đức", MATCH_EXACT).ok);
}

static void test_similarity_values(void **state)
{
        (void)state;
        /* The classic Jaro-Winkler examples (Winkler 1990): MARTHA/MARHTA 0.961,
         * DWAYNE/DUANE 0.840, DIXON/DICKSONX 0.813. */
        assert_int_equal(match_name_similarity("martha", "marhta"), 961);
        assert_int_equal(match_name_similarity("dwayne", "duane"), 840);
        assert_int_equal(match_name_similarity("dixon", "dicksonx"), 813);
        assert_int_equal(match_name_similarity("a b", "a b"), MATCH_SCORE_MAX);
        assert_int_equal(match_name_similarity("", ""), 0);
        assert_int_equal(match_name_similarity("nguyen", "nguyen van"), 0);
}

static void test_name_invalid(void **state)
{
        (void)state;
        struct stored s = store_name("Nguyễn Văn Đức");
        struct match_result r;
        struct pop_err e = {0};
        assert_int_equal(match_name("Nguy\xff", 5, s.fold, s.key, MATCH_PARTIAL, &r, &e),
                         POP_EINVAL);
        assert_non_null(strstr(e.msg, "UTF-8"));
        assert_false(r.ok);
        assert_int_equal(match_name("", 0, s.fold, s.key, MATCH_EXACT, &r, &e), POP_EINVAL);
        assert_int_equal(match_name("R2D2", 4, s.fold, s.key, MATCH_EXACT, &r, &e), POP_EINVAL);
        char big[NAME_MAX_BYTES + 10];
        memset(big, 'a', sizeof big);
        assert_int_not_equal(match_name(big, sizeof big, s.fold, s.key, MATCH_EXACT, &r, &e), 0);
}

static struct pdate pd(int y, int m, int d)
{
        struct pdate p = {(int16_t)y, (int8_t)m, (int8_t)d};
        return p;
}

static bool dob(const char *claimed, struct pdate stored, enum match_mode mode)
{
        struct match_result r;
        struct pop_err e = {0};
        int rc = match_dob(claimed, strlen(claimed), stored, mode, &r, &e);
        if (rc)
                fail_msg("'%s': %s", claimed, e.msg);
        return r.ok;
}

static void test_dob(void **state)
{
        (void)state;
        struct pdate full = pd(1990, 5, 12), ym = pd(1990, 5, 0), y = pd(1990, 0, 0);
        assert_true(dob("1990-05-12", full, MATCH_EXACT));
        assert_false(dob("1990-05-13", full, MATCH_EXACT));
        assert_false(dob("1990-05", full, MATCH_EXACT)); /* less precise than the registry */
        assert_false(dob("1990", full, MATCH_EXACT));
        assert_true(dob("1990-05", ym, MATCH_EXACT));
        assert_false(dob("1990-05-12", ym, MATCH_EXACT)); /* the registry knows no day */
        assert_true(dob("1990", y, MATCH_EXACT));
        /* Partial: agree where both know. */
        assert_true(dob("1990-05", full, MATCH_PARTIAL));
        assert_true(dob("1990", full, MATCH_PARTIAL));
        assert_true(dob("1990-05-12", ym, MATCH_PARTIAL));
        assert_true(dob("1990-12-31", y, MATCH_PARTIAL));
        assert_false(dob("1990-06", full, MATCH_PARTIAL));
        assert_false(dob("1991", full, MATCH_PARTIAL));
        assert_false(dob("1990-06-01", ym, MATCH_PARTIAL));
        struct pdate none = {0, 0, 0};
        assert_false(dob("1990", none, MATCH_PARTIAL));
}

static void test_dob_invalid(void **state)
{
        (void)state;
        const char *bad[] = {"1990-02-30", "1990/05/12", "90-05-12",   "1990-5-12",  " 1990",
                             "1990-00",    "",           "2023-02-29", "1990-05-12x"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct match_result r;
                struct pop_err e = {0};
                assert_int_equal(
                    match_dob(bad[i], strlen(bad[i]), pd(1990, 5, 12), MATCH_PARTIAL, &r, &e),
                    POP_EINVAL);
                assert_true(e.msg[0] != '\0');
                assert_false(r.ok);
        }
}

static void test_sex(void **state)
{
        (void)state;
        struct match_result r;
        struct pop_err e = {0};
        assert_int_equal(match_sex("female", 6, SEX_FEMALE, MATCH_EXACT, &r, &e), 0);
        assert_true(r.ok);
        assert_int_equal(match_sex("f", 1, SEX_FEMALE, MATCH_EXACT, &r, &e), 0);
        assert_true(r.ok);
        assert_int_equal(match_sex("male", 4, SEX_FEMALE, MATCH_PARTIAL, &r, &e), 0);
        assert_false(r.ok);
        assert_int_equal(match_sex("male", 4, SEX_UNKNOWN, MATCH_PARTIAL, &r, &e), 0);
        assert_false(r.ok);
        assert_int_equal(match_sex("x", 1, SEX_MALE, MATCH_EXACT, &r, &e), POP_EINVAL);
        assert_int_equal(match_sex("ma\0le", 5, SEX_MALE, MATCH_EXACT, &r, &e), POP_EINVAL);
        assert_int_equal(match_sex("", 0, SEX_MALE, MATCH_EXACT, &r, &e), POP_EINVAL);
}

static struct match_result addr(const char *claimed, const char *line, const char *extra,
                                enum match_mode mode)
{
        struct match_result r;
        struct pop_err e = {0};
        int rc = match_address(claimed, strlen(claimed), line, extra, mode, &r, &e);
        if (rc)
                fail_msg("'%s': %s", claimed, e.msg);
        return r;
}

static void test_address(void **state)
{
        (void)state;
        const char *line = "Số 12 ngõ 34 phố Hàng Bạc";
        assert_true(addr("Số 12 ngõ 34 phố Hàng Bạc", line, "Hà Nội", MATCH_EXACT).ok);
        assert_true(addr("  SỐ 12  NGÕ 34 PHỐ HÀNG BẠC ", line, NULL, MATCH_EXACT).ok);
        assert_true(
            addr("So\xcc\x82\xcc\x81 12 ngo\xcc\x83 34 pho\xcc\x82\xcc\x81 Ha\xcc\x80ng Ba\xcc\xa3"
                 "c",
                 line, NULL, MATCH_EXACT)
                .ok);
        assert_false(addr("So 12 ngo 34 pho Hang Bac", line, NULL, MATCH_EXACT).ok);
        /* Partial: words in any order, punctuation ignored, the province counts. */
        struct match_result r = addr("12, ngo 34, Hang Bac, Ha Noi", line, "Hà Nội", MATCH_PARTIAL);
        assert_true(r.ok);
        assert_int_equal(r.how, MATCH_WORDS);
        /* A wrong house number fails whatever else matches. */
        assert_false(addr("So 14 ngo 34 pho Hang Bac", line, NULL, MATCH_PARTIAL).ok);
        /* Too few words in common. */
        r = addr("Phố Hàng Đào Hoàn Kiếm", line, "Hà Nội", MATCH_PARTIAL);
        assert_false(r.ok);
        assert_true(r.score < MATCH_ADDRESS_THRESHOLD);
        /* One word is not an address. */
        assert_false(addr("Bạc", line, NULL, MATCH_PARTIAL).ok);
        /* Nothing stored: no match. */
        assert_false(addr("Số 12", "", NULL, MATCH_PARTIAL).ok);
}

static void test_address_invalid(void **state)
{
        (void)state;
        struct match_result r;
        struct pop_err e = {0};
        assert_int_equal(match_address("S\xc3", 2, "x", NULL, MATCH_EXACT, &r, &e), POP_EINVAL);
        assert_int_equal(match_address("a\x01z", 3, "x", NULL, MATCH_EXACT, &r, &e), POP_EINVAL);
        char big[TEXT_MAX_BYTES + 8];
        memset(big, 'a', sizeof big);
        assert_int_not_equal(match_address(big, sizeof big, "x", NULL, MATCH_EXACT, &r, &e), 0);
}

static void test_mode(void **state)
{
        (void)state;
        enum match_mode m;
        struct pop_err e = {0};
        assert_int_equal(match_mode_parse("exact", 5, &m, &e), 0);
        assert_int_equal(m, MATCH_EXACT);
        assert_int_equal(match_mode_parse("partial", 7, &m, &e), 0);
        assert_int_equal(m, MATCH_PARTIAL);
        assert_int_equal(match_mode_parse("fuzzy", 5, &m, &e), POP_EINVAL);
        assert_int_equal(match_mode_parse("Exact", 5, &m, &e), POP_EINVAL);
        assert_string_equal(match_mode_name(MATCH_PARTIAL), "partial");
        assert_string_equal(match_how_name(MATCH_WORDS), "words");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_name_exact),   cmocka_unit_test(test_name_partial_key),
            cmocka_unit_test(test_similarity),   cmocka_unit_test(test_similarity_values),
            cmocka_unit_test(test_name_invalid), cmocka_unit_test(test_dob),
            cmocka_unit_test(test_dob_invalid),  cmocka_unit_test(test_sex),
            cmocka_unit_test(test_address),      cmocka_unit_test(test_address_invalid),
            cmocka_unit_test(test_mode),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
