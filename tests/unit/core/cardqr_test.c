/*
 * Unit tests of src/core/cardqr.c: the QR text of chip citizen-ID cards (Circular 06/2021). The
 * 7-field form with and without an old ID, the 6-field variant, dd/mm/yyyy dates, NFD names
 * and sex words in NFC, NFD and upper case; and every refusal, each naming its field: field
 * count, invalid UTF-8 and control characters, the size cap, bad ID numbers, an ID number whose
 * century-sex digit or year disagrees with the birth date or sex, impossible dates, an issue
 * date before the birth, unknown sex words, bad old IDs, names with digits, empty addresses.
 * A refusal leaves the output zeroed.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "core/cardqr.h"

#define ADDR  "12 Lê Lợi, Phường Bến Thành, Thành phố Hồ Chí Minh"
#define GOOD7 "079092026135|123456789|Nguyễn Văn An|01051992|Nam|" ADDR "|15082021"

static struct cardqr parse_ok(const char *s)
{
        struct cardqr c;
        struct pop_err err = {0};
        int rc = cardqr_parse(s, strlen(s), &c, &err);
        if (rc != 0) {
                print_error("'%s' refused: %s [%s]\n", s, err.msg, err.rule);
                fail();
        }
        return c;
}

/* Parses s, expecting a refusal with code and rule whose message contains `needle`. */
static void parse_bad(const char *s, size_t len, int code, const char *rule, const char *needle)
{
        struct cardqr c;
        struct pop_err err = {0};
        int rc = cardqr_parse(s, len, &c, &err);
        if (rc != code || strcmp(err.rule, rule) != 0 || !strstr(err.msg, needle)) {
                print_error("'%.*s': rc %d rule '%s' msg '%s'; expected %d '%s' containing '%s'\n",
                            (int)len, s, rc, err.rule, err.msg, code, rule, needle);
                fail();
        }
        static const struct cardqr zero;
        assert_memory_equal(&c, &zero, sizeof c);
}

#define BAD(s, rule, needle) parse_bad(s, strlen(s), POP_EINVAL, rule, needle)

static void test_seven_fields(void **state)
{
        (void)state;
        struct cardqr c = parse_ok(GOOD7);
        assert_string_equal(c.id.pid, "079092026135");
        assert_int_equal(c.id.birth_year, 1992);
        assert_string_equal(c.old_id, "123456789");
        assert_string_equal(c.full_name, "Nguyễn Văn An");
        assert_int_equal(c.dob.y, 1992);
        assert_int_equal(c.dob.m, 5);
        assert_int_equal(c.dob.d, 1);
        assert_int_equal(c.sex, SEX_MALE);
        assert_string_equal(c.address, ADDR);
        assert_int_equal(c.issued.y, 2021);
        assert_int_equal(c.issued.m, 8);
        assert_int_equal(c.issued.d, 15);
        assert_int_equal(c.n_fields, 7);
        assert_false(c.slashed_dates);

        /* The old ID may be empty. */
        c = parse_ok("001195000004||Lê Thị Lan|10051995|Nữ|Số 3 phố Huế, Hà Nội|01022024");
        assert_string_equal(c.old_id, "");
        assert_int_equal(c.sex, SEX_FEMALE);
        assert_int_equal(c.n_fields, 7);
}

static void test_variants(void **state)
{
        (void)state;
        /* 6 fields: no old ID. */
        struct cardqr c = parse_ok("079092026135|Nguyễn Văn An|01051992|Nam|" ADDR "|15082021");
        assert_int_equal(c.n_fields, 6);
        assert_string_equal(c.old_id, "");
        assert_string_equal(c.full_name, "Nguyễn Văn An");
        assert_int_equal(c.issued.y, 2021);
        /* dd/mm/yyyy dates, in either form. */
        c = parse_ok("079092026135|123456789|Nguyễn Văn An|01/05/1992|Nam|" ADDR "|15/08/2021");
        assert_true(c.slashed_dates);
        assert_int_equal(c.dob.m, 5);
        assert_int_equal(c.issued.d, 15);
        c = parse_ok("079092026135|Nguyễn Văn An|01/05/1992|Nam|" ADDR "|15082021");
        assert_true(c.slashed_dates);
        /* An NFD name is stored in NFC, with whitespace collapsed. */
        c = parse_ok("001195000004||  Le\xcc\x82 Thi\xcc\xa3   Lan |10051995|Nữ|Hà Nội|01022024");
        assert_string_equal(c.full_name, "Lê Thị Lan");
        /* Sex words: NFD "Nữ" (u + U+031B + U+0303), upper case. */
        c = parse_ok("001195000004||Lê Thị Lan|10051995|Nu\xcc\x9b\xcc\x83|Hà Nội|01022024");
        assert_int_equal(c.sex, SEX_FEMALE);
        c = parse_ok("001195000004||Lê Thị Lan|10051995|NỮ|Hà Nội|01022024");
        assert_int_equal(c.sex, SEX_FEMALE);
        c = parse_ok("079092026135||Nguyễn Văn An|01051992|NAM|Hà Nội|15082021");
        assert_int_equal(c.sex, SEX_MALE);
        /* Born in the 2000s (G = 2 male, 3 female); issued on the day of birth. */
        c = parse_ok("001312000123||Trần Thị Hoa|29022012|Nữ|Hà Nội|29022012");
        assert_int_equal(c.id.birth_year, 2012);
        assert_int_equal(c.dob.d, 29);
}

static void test_field_count(void **state)
{
        (void)state;
        BAD("", "cardqr-fields", "1 field separated");
        BAD("079092026135", "cardqr-fields", "1 field separated");
        BAD("079092026135|Nguyễn Văn An|01051992|Nam|Hà Nội", "cardqr-fields", "5 fields");
        BAD(GOOD7 "|extra", "cardqr-fields", "more than 7 fields");
        BAD("||||||||||||||||||||||||||", "cardqr-fields", "more than 7 fields");
}

static void test_encoding_and_size(void **state)
{
        (void)state;
        const char bad_utf8[] = "079092026135||Nguy\xe1\xbb|01051992|Nam|Hà Nội|15082021";
        parse_bad(bad_utf8, sizeof bad_utf8 - 1, POP_EINVAL, "cardqr-utf8", "UTF-8");
        BAD("079092026135||Nguyễn Văn An|01051992|Nam|Hà Nội|15082021\n", "cardqr-utf8", "");
        const char nul[] = "079092026135||An\0B|01051992|Nam|Hà Nội|15082021";
        parse_bad(nul, sizeof nul - 1, POP_EINVAL, "cardqr-utf8", "");

        char big[CARDQR_MAX_BYTES + 2];
        memset(big, 'a', sizeof big);
        parse_bad(big, CARDQR_MAX_BYTES + 1, POP_ETOOBIG, "cardqr-too-big", "1025 bytes");
        /* Just under the cap, the address is what is too long (512-byte text cap). */
        char near[CARDQR_MAX_BYTES + 1];
        int n = snprintf(near, sizeof near, "079092026135||Nguyễn Văn An|01051992|Nam|");
        memset(near + n, 'x', CARDQR_MAX_BYTES - (size_t)n - 9);
        memcpy(near + CARDQR_MAX_BYTES - 9, "|15082021", 9);
        parse_bad(near, CARDQR_MAX_BYTES, POP_EINVAL, "cardqr-address",
                  "field 6 (permanent address)");
}

static void test_pid(void **state)
{
        (void)state;
        BAD("07909202613||Nguyễn Văn An|01051992|Nam|Hà Nội|15082021", "cardqr-pid",
            "field 1 (ID number): 11 digits");
        BAD("003092026135||Nguyễn Văn An|01051992|Nam|Hà Nội|15082021", "cardqr-pid", "prefix 003");
        BAD("07909202613X||Nguyễn Văn An|01051992|Nam|Hà Nội|15082021", "cardqr-pid",
            "field 1 (ID number)");
        /* The century-sex digit says female, the card says Nam. */
        BAD("079192026135||Nguyễn Văn An|01051992|Nam|Hà Nội|15082021", "cardqr-pid-mismatch",
            "field 1 (ID number)");
        /* The number says born 1992, the card 1993. */
        BAD("079092026135||Nguyễn Văn An|01051993|Nam|Hà Nội|15082021", "cardqr-pid-mismatch",
            "field 1 (ID number)");
        /* The number says the 2000s (G = 2), the card 1992. */
        BAD("079292026135||Nguyễn Văn An|01051992|Nam|Hà Nội|15082021", "cardqr-pid-mismatch",
            "field 1");
        /* 6-field form: the number is still field 1. */
        BAD("079192026135|Nguyễn Văn An|01051992|Nam|Hà Nội|15082021", "cardqr-pid-mismatch",
            "field 1");
}

static void test_old_id(void **state)
{
        (void)state;
        BAD("079092026135|12345678|Nguyễn Văn An|01051992|Nam|Hà Nội|15082021", "cardqr-old-id",
            "field 2 (old ID number): expected 9 digits");
        BAD("079092026135|12345678A|Nguyễn Văn An|01051992|Nam|Hà Nội|15082021", "cardqr-old-id",
            "field 2");
        BAD("079092026135|079092026135|Nguyễn Văn An|01051992|Nam|Hà Nội|15082021", "cardqr-old-id",
            "field 2");
}

static void test_dates(void **state)
{
        (void)state;
        BAD("079092026135||Nguyễn Văn An|31021992|Nam|Hà Nội|15082021", "cardqr-date",
            "field 4 (date of birth): 31/02/1992 is not a calendar day");
        BAD("079092026135||Nguyễn Văn An|1992-05-01|Nam|Hà Nội|15082021", "cardqr-date",
            "field 4 (date of birth): '1992-05-01' is not a date");
        BAD("079092026135||Nguyễn Văn An|0105992|Nam|Hà Nội|15082021", "cardqr-date", "field 4");
        BAD("079092026135||Nguyễn Văn An|01.05.1992|Nam|Hà Nội|15082021", "cardqr-date", "field 4");
        BAD("079092026135||Nguyễn Văn An|01051992|Nam|Hà Nội|29022021", "cardqr-date",
            "field 7 (issue date): 29/02/2021");
        BAD("079092026135||Nguyễn Văn An|01051992|Nam|Hà Nội|", "cardqr-date", "field 7");
        BAD("079092026135|Nguyễn Văn An|01051992|Nam|Hà Nội|1508202", "cardqr-date",
            "field 6 (issue date)");
        BAD("079092026135||Nguyễn Văn An|01051992|Nam|Hà Nội|00082021", "cardqr-date", "field 7");
        BAD("079092026135||Nguyễn Văn An|01051992|Nam|Hà Nội|15132021", "cardqr-date", "field 7");
        BAD("079092026135||Nguyễn Văn An|01051992|Nam|Hà Nội|+1/08/2021", "cardqr-date", "field 7");
        /* Issued before the birth. */
        BAD("079092026135||Nguyễn Văn An|01051992|Nam|Hà Nội|30041992",
            "cardqr-issued-before-birth", "field 7 (issue date): 30/04/1992 is before");
}

static void test_sex_name_address(void **state)
{
        (void)state;
        BAD("079092026135||Nguyễn Văn An|01051992|Male|Hà Nội|15082021", "cardqr-sex",
            "field 5 (sex): 'Male' is neither Nam nor Nữ");
        BAD("001195000004||Lê Thị Lan|10051995|Nu|Hà Nội|01022024", "cardqr-sex", "'Nu'");
        BAD("001195000004||Lê Thị Lan|10051995||Hà Nội|01022024", "cardqr-sex", "field 5");
        BAD("001195000004|Lê Thị Lan|10051995|Nữa|Hà Nội|01022024", "cardqr-sex", "field 4 (sex)");
        BAD("079092026135||Nguyễn Văn An 2|01051992|Nam|Hà Nội|15082021", "cardqr-name",
            "field 3 (full name)");
        BAD("079092026135|||01051992|Nam|Hà Nội|15082021", "cardqr-name", "field 3 (full name)");
        BAD("079092026135|Nguyễn Văn An|01051992|Nam|   |15082021", "cardqr-address",
            "field 5 (permanent address)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_seven_fields), cmocka_unit_test(test_variants),
            cmocka_unit_test(test_field_count),  cmocka_unit_test(test_encoding_and_size),
            cmocka_unit_test(test_pid),          cmocka_unit_test(test_old_id),
            cmocka_unit_test(test_dates),        cmocka_unit_test(test_sex_name_address),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
