/*
 * Unit tests of the wire checks (src/http/wire.c): the UTF-8 validator against the cases of
 * RFC 3629 and the Unicode "best practice" table (overlongs, surrogates, beyond U+10FFFF,
 * truncation, stray continuation bytes), the eight-byte ASCII fast path at every alignment,
 * and the request id check.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "http/wire.h"

static bool valid(const char *s)
{
        return http_utf8_valid(s, strlen(s));
}

static void test_utf8_valid(void **state)
{
        (void)state;
        assert_true(http_utf8_valid("", 0));
        assert_true(valid("{\"name\":\"Nguyễn Văn An\"}\n\t"));
        assert_true(valid("\x7f"));
        assert_true(valid("\xc2\x80"));          /* U+0080 */
        assert_true(valid("\xdf\xbf"));          /* U+07FF */
        assert_true(valid("\xe0\xa0\x80"));      /* U+0800 */
        assert_true(valid("\xed\x9f\xbf"));      /* U+D7FF */
        assert_true(valid("\xee\x80\x80"));      /* U+E000 */
        assert_true(valid("\xef\xbf\xbf"));      /* U+FFFF */
        assert_true(valid("\xf0\x90\x80\x80"));  /* U+10000 */
        assert_true(valid("\xf4\x8f\xbf\xbf"));  /* U+10FFFF */
        assert_true(http_utf8_valid("a\0b", 3)); /* NUL is UTF-8; JSON parsers refuse it */
}

static void test_utf8_invalid(void **state)
{
        (void)state;
        static const char *const bad[] = {
            "\x80", /* lone continuation */
            "\xbf",
            "\xc0\x80",         /* overlong NUL */
            "\xc1\xbf",         /* overlong */
            "\xe0\x80\x80",     /* overlong */
            "\xe0\x9f\xbf",     /* overlong */
            "\xed\xa0\x80",     /* U+D800 surrogate */
            "\xed\xbf\xbf",     /* U+DFFF surrogate */
            "\xf0\x80\x80\x80", /* overlong */
            "\xf0\x8f\xbf\xbf", /* overlong */
            "\xf4\x90\x80\x80", /* U+110000 */
            "\xf5\x80\x80\x80",
            "\xff",
            "\xfe",
            "\xc2", /* truncated */
            "\xe0\xa0",
            "\xf0\x90\x80",
            "\xc2\x41", /* continuation missing */
            "\xe1\x80\x41",
            "\xf1\x80\x80\xc0",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_false(valid(bad[i]));
                /* After ASCII that takes the fast path, and before more of it. */
                char buf[64];
                snprintf(buf, sizeof buf, "0123456789abcdef%sxyz", bad[i]);
                assert_false(valid(buf));
        }
}

static void test_utf8_alignment(void **state)
{
        (void)state;
        /* A bad byte at every position of a 40-byte ASCII run, and a good 3-byte character. */
        char buf[41];
        for (size_t pos = 0; pos < 40; pos++) {
                memset(buf, 'a', 40);
                buf[40] = '\0';
                buf[pos] = (char)0x80;
                assert_false(http_utf8_valid(buf, 40));
                if (pos + 3 <= 40) {
                        memcpy(buf + pos, "\xe1\xba\xa1", 3); /* ạ */
                        assert_true(http_utf8_valid(buf, 40));
                        /* Cut in the middle of the character. */
                        assert_int_equal(http_utf8_valid(buf, pos + 2), false);
                }
        }
}

static void test_reqid(void **state)
{
        (void)state;
        assert_true(http_reqid_ok("a", 1));
        assert_true(http_reqid_ok("3f2504e0-4f89-11d3-9a0c-0305e82c3301", 36));
        assert_true(http_reqid_ok("01ARZ3NDEKTSV4RRFFQ69G5FAV", 26));
        assert_true(http_reqid_ok("a.b_c~d", 7));
        char id[HTTP_REQID_MAX + 2];
        memset(id, 'x', sizeof id);
        assert_true(http_reqid_ok(id, HTTP_REQID_MAX));
        assert_false(http_reqid_ok(id, HTTP_REQID_MAX + 1));
        assert_false(http_reqid_ok("", 0));
        assert_false(http_reqid_ok(NULL, 3));
        assert_false(http_reqid_ok("a b", 3));
        assert_false(http_reqid_ok("a\nb", 3));
        assert_false(http_reqid_ok("a\"b", 3));
        assert_false(http_reqid_ok("a%20", 4));
        assert_false(http_reqid_ok("a/b", 3));
        assert_false(http_reqid_ok("a:b", 3));
        assert_false(http_reqid_ok("\xc3\xa9", 2));
        assert_false(http_reqid_ok("a\0b", 3));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_utf8_valid),
            cmocka_unit_test(test_utf8_invalid),
            cmocka_unit_test(test_utf8_alignment),
            cmocka_unit_test(test_reqid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
