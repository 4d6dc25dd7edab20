/*
 * Unit tests of src/core/name.c: UTF-8 validation with byte offsets, NFC and NFD input giving
 * the same normalized, folded and key forms, whitespace collapsing, the characters a name may
 * hold (ethnic minority names included), đ/Đ in the key, the size caps and the output buffer
 * never being written past `cap`. Non-ASCII literals are UTF-8 (NFC); NFD input is spelled with
 * explicit escapes so an editor cannot silently recompose it.
 */
#include "testutil.h"

#include <string.h>

#include "core/name.h"

#include <utf8proc.h>

/* 2 * NAME_MAX_BYTES + 1 holds any folded form or key (case folding at most doubles a name). */
#define BIG (2 * NAME_MAX_BYTES + 1)

typedef int norm_fn(const char *in, size_t len, char *out, size_t cap, struct pop_err *err);

/* Output buffers of the tests, with a canary after cap. */
#define OUT_MAX 1024

/* Runs f on len bytes of in with an output of cap bytes and expects success with want. */
static void ok_cap(norm_fn *f, const char *in, size_t len, size_t cap, const char *want)
{
        char out[OUT_MAX];
        memset(out, 'X', sizeof out);
        struct pop_err err = {0};
        assert_true(cap <= sizeof out);
        int rc = f(in, len, out, cap, &err);
        if (rc != 0)
                fail_msg("'%.*s': unexpected error %d: %s", (int)len, in, rc, err.msg);
        assert_string_equal(out, want);
        for (size_t i = cap; i < sizeof out; i++)
                assert_int_equal(out[i], 'X');
}

static void ok_with(norm_fn *f, const char *in, size_t len, const char *want)
{
        ok_cap(f, in, len, BIG, want);
}

static void ok(norm_fn *f, const char *in, const char *want)
{
        ok_with(f, in, strlen(in), want);
}

/* Runs f on in and expects failure with code, rule and (when not NULL) the exact message. */
static void fails_with(norm_fn *f, const char *in, size_t len, size_t cap, int code,
                       const char *rule, const char *msg)
{
        char out[OUT_MAX];
        memset(out, 'X', sizeof out);
        struct pop_err err = {0};
        assert_true(cap <= sizeof out);
        int rc = f(in, len, out, cap, &err);
        if (rc != code)
                fail_msg("'%.*s': got %d (%s), want %d", (int)len, in, rc, err.msg, code);
        assert_int_equal(err.code, code);
        assert_string_equal(err.rule, rule);
        if (msg)
                assert_string_equal(err.msg, msg);
        if (cap > 0)
                assert_int_equal(out[0], '\0');
        for (size_t i = cap; i < sizeof out; i++)
                assert_int_equal(out[i], 'X');
}

static void fails(norm_fn *f, const char *in, int code, const char *rule, const char *msg)
{
        fails_with(f, in, strlen(in), BIG, code, rule, msg);
}

static void check_fails(const char *in, size_t len, const char *rule, const char *msg)
{
        struct pop_err err = {0};
        assert_int_equal(utf8_check(in, len, &err), POP_EINVAL);
        assert_string_equal(err.rule, rule);
        assert_string_equal(err.msg, msg);
}

static void test_utf8_valid(void **state)
{
        (void)state;
        struct pop_err err = {0};
        const char *good[] = {
            "",
            "Nguyễn Văn An",
            "Nguye\xcc\x82\xcc\x83n",   /* NFD */
            "\xf0\x9f\x98\x80",         /* U+1F600, 4 bytes */
            "\xf4\x8f\xbf\xbd",         /* U+10FFFD, last non-noncharacter */
            "\xc2\xa0 \xe3\x80\x80",    /* NBSP, ideographic space */
            "\xef\xbf\xbd",             /* U+FFFD replacement character */
            "\xed\x9f\xbf\xee\x80\x80", /* U+D7FF and U+E000 around the surrogates */
        };
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
                assert_int_equal(utf8_check(good[i], strlen(good[i]), &err), 0);
        assert_int_equal(utf8_check(NULL, 0, &err), 0);
        assert_int_equal(utf8_check("abc", 3, NULL), 0);
}

static void test_utf8_invalid(void **state)
{
        (void)state;
        check_fails("Nguyễ\xffn", 9, "text-utf8", "invalid UTF-8 at byte 7");
        check_fails("Nguyễn\xff", 9, "text-utf8", "invalid UTF-8 at byte 8");
        check_fails("ab\x80", 3, "text-utf8", "invalid UTF-8 at byte 2"); /* lone continuation */
        check_fails("Nguy\xe1\xbb", 6, "text-utf8", "invalid UTF-8 at byte 4"); /* truncated */
        check_fails("Nguy\xe1\xbbn", 7, "text-utf8", "invalid UTF-8 at byte 4");
        check_fails("\xc0\xaf", 2, "text-utf8", "invalid UTF-8 at byte 0");     /* overlong / */
        check_fails("\xe0\x80\xaf", 3, "text-utf8", "invalid UTF-8 at byte 0"); /* overlong / */
        check_fails("\xf0\x80\x80\xaf", 4, "text-utf8", "invalid UTF-8 at byte 0");
        check_fails("x\xed\xa0\x80", 4, "text-utf8", "invalid UTF-8 at byte 1");    /* U+D800 */
        check_fails("\xed\xbf\xbf", 3, "text-utf8", "invalid UTF-8 at byte 0");     /* U+DFFF */
        check_fails("\xf4\x90\x80\x80", 4, "text-utf8", "invalid UTF-8 at byte 0"); /* >10FFFF */
        check_fails("\xf8\x88\x80\x80\x80", 5, "text-utf8", "invalid UTF-8 at byte 0");
        check_fails("\xfe", 1, "text-utf8", "invalid UTF-8 at byte 0");
        /* The check stops at len: a truncated sequence at the end is caught, not over-read. */
        check_fails("ab\xe1\xbb\x85", 4, "text-utf8", "invalid UTF-8 at byte 2");
        /* A NULL err is allowed. */
        assert_int_equal(utf8_check("\xff", 1, NULL), POP_EINVAL);
}

static void test_utf8_controls(void **state)
{
        (void)state;
        check_fails("abc\tx", 5, "text-control", "control character U+0009 at byte 3");
        check_fails("line\n", 5, "text-control", "control character U+000A at byte 4");
        check_fails("\r", 1, "text-control", "control character U+000D at byte 0");
        check_fails("a\0b", 3, "text-control", "control character U+0000 at byte 1");
        check_fails("\x1b[31m", 5, "text-control", "control character U+001B at byte 0");
        check_fails("ab\x7f", 3, "text-control", "control character U+007F at byte 2");
        check_fails("é\xc2\x85", 4, "text-control", "control character U+0085 at byte 2");
        check_fails("\xc2\x80", 2, "text-control", "control character U+0080 at byte 0");
        check_fails("\xc2\x9f", 2, "text-control", "control character U+009F at byte 0");
        check_fails("a\xef\xbf\xbe", 4, "text-noncharacter", "noncharacter U+FFFE at byte 1");
        check_fails("\xef\xbf\xbf", 3, "text-noncharacter", "noncharacter U+FFFF at byte 0");
        check_fails("\xef\xb7\x90", 3, "text-noncharacter", "noncharacter U+FDD0 at byte 0");
        check_fails("\xef\xb7\xaf", 3, "text-noncharacter", "noncharacter U+FDEF at byte 0");
        check_fails("\xf0\x9f\xbf\xbe", 4, "text-noncharacter", "noncharacter U+1FFFE at byte 0");
        check_fails("\xf4\x8f\xbf\xbf", 4, "text-noncharacter", "noncharacter U+10FFFF at byte 0");
        /* Every normalizer refuses them too, with the same message. */
        fails(text_normalize, "H\tA", POP_EINVAL, "text-control",
              "control character U+0009 at byte 1");
        fails(name_normalize, "Nguyễn\nAn", POP_EINVAL, "text-control",
              "control character U+000A at byte 8");
        fails(name_fold, "\xc0\xaf", POP_EINVAL, "text-utf8", "invalid UTF-8 at byte 0");
        fails(name_key, "x\xed\xa0\x80", POP_EINVAL, "text-utf8", "invalid UTF-8 at byte 1");
}

/* The same name in NFC and NFD has the same normalized, folded and key forms. */
static void test_nfc_nfd(void **state)
{
        (void)state;
        static const char *pairs[][2] = {
            /* ễ = e + circumflex U+0302 + tilde U+0303 */
            {"Nguy\xe1\xbb\x85n", "Nguye\xcc\x82\xcc\x83n"},
            /* ặ = a + dot below U+0323 + breve U+0306, in either mark order (canonical
             * ordering puts the dot below, class 220, before the breve, class 230) */
            {"\xc4\x90\xe1\xba\xb7ng", "\xc4\x90"
                                       "a\xcc\xa3\xcc\x86ng"},
            {"\xc4\x90\xe1\xba\xb7ng", "\xc4\x90"
                                       "a\xcc\x86\xcc\xa3ng"},
            /* ư = u + horn U+031B; ờ = o + horn + grave U+0300 */
            {"Tr\xc6\xb0\xe1\xbb\x9dng", "Tru\xcc\x9bo\xcc\x9b\xcc\x80ng"},
            /* Â (uppercase) + acute: Ấ */
            {"\xe1\xba\xa4U", "A\xcc\x82\xcc\x81U"},
        };
        for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
                norm_fn *fns[] = {text_normalize, name_normalize, name_fold, name_key};
                for (size_t j = 0; j < 4; j++) {
                        char a[BIG], b[BIG];
                        struct pop_err err;
                        assert_int_equal(
                            fns[j](pairs[i][0], strlen(pairs[i][0]), a, sizeof a, &err), 0);
                        assert_int_equal(
                            fns[j](pairs[i][1], strlen(pairs[i][1]), b, sizeof b, &err), 0);
                        assert_string_equal(a, b);
                }
        }
        /* And the normalized form is the NFC bytes. */
        ok(name_normalize, "Nguye\xcc\x82\xcc\x83n V\x61\xcc\x86n", "Nguyễn Văn");
        ok(name_fold, "NGUYE\xcc\x82\xcc\x83N", "nguyễn");
        ok(name_key, "Nguye\xcc\x82\xcc\x83n", "nguyen");
        /* Singletons are replaced by their canonical equivalents: U+212B ANGSTROM SIGN is Å. */
        ok(name_normalize,
           "\xe2\x84\xab"
           "ke",
           "Åke");
}

static void test_fold_and_key(void **state)
{
        (void)state;
        ok(name_fold, "NGUYỄN", "nguyễn");
        ok(name_key, "NGUYỄN", "nguyen");
        ok(name_fold, "Đặng Văn Đức", "đặng văn đức");
        ok(name_key, "Đặng Văn Đức", "dang van duc");
        ok(name_key, "đĐ", "dd");
        ok(name_fold, "TRƯƠNG Thị Ánh", "trương thị ánh");
        ok(name_key, "TRƯƠNG Thị Ánh", "truong thi anh");
        ok(name_key, "Lê  Phương\xc2\xa0Thảo", "le phuong thao");
        /* The key gives both apostrophes the ASCII form; the folded form keeps them. */
        ok(name_key, "H\xe2\x80\x99Hen Niê", "h'hen nie");
        ok(name_key, "H'Hen Niê", "h'hen nie");
        ok(name_fold, "H\xe2\x80\x99Hen", "h\xe2\x80\x99hen");
        /* Full case folding, not lowercasing: ß folds to ss, ẞ too. */
        ok(name_fold,
           "Stra\xc3\x9f"
           "e",
           "strasse");
        ok(name_fold, "\xe1\xba\x9e", "ss");
        /* İ folds to i + U+0307: the folded form may be longer than the name... */
        ok(name_fold, "\xc4\xb0", "i\xcc\x87");
        ok(name_key, "\xc4\xb0", "i");
        /* ...at most twice as long, so a buffer of 2 * NAME_MAX_BYTES + 1 always holds it. */
        char in[NAME_MAX_BYTES + 1], want[BIG];
        for (size_t i = 0; i < NAME_MAX_BYTES / 2; i++) {
                memcpy(in + 2 * i, "\xc4\xb0", 2);
                memcpy(want + 3 * i, "i\xcc\x87", 3);
        }
        in[NAME_MAX_BYTES] = '\0';
        want[NAME_MAX_BYTES / 2 * 3] = '\0';
        ok(name_fold, in, want);
        fails_with(name_fold, in, strlen(in), NAME_MAX_BYTES + 1, POP_ETOOBIG, "text-too-big",
                   "folded name is too long: 288 bytes after normalization, the limit is 192");
}

static void test_whitespace(void **state)
{
        (void)state;
        ok(name_normalize, "  Nguyễn   Văn  An  ", "Nguyễn Văn An");
        ok(name_normalize, "Nguyễn\xc2\xa0Văn", "Nguyễn Văn");             /* NBSP */
        ok(name_normalize, "Nguyễn \xc2\xa0\xe2\x80\x83 An", "Nguyễn An"); /* run, em space */
        ok(name_normalize,
           "\xe3\x80\x80"
           "An\xe2\x80\xaf",
           "An"); /* U+3000, U+202F */
        ok(name_fold, "  AN  ", "an");
        ok(name_key, " Đức  Anh ", "duc anh");
        ok(text_normalize, "  Số 12,   ngõ 34/5  ", "Số 12, ngõ 34/5");
        ok(text_normalize, "a", "a");
        /* Tab and newline are controls, not whitespace: names and address lines are one line. */
        fails(name_normalize, "Nguyễn\tAn", POP_EINVAL, "text-control",
              "control character U+0009 at byte 8");
        fails(text_normalize, "Số 12\r\nngõ 3", POP_EINVAL, "text-control",
              "control character U+000D at byte 7");
        fails(text_normalize, "Số 12\xe2\x80\xa8ngõ 3", POP_EINVAL, "text-line-break",
              "line break U+2028 is not allowed: text is one line");
        fails(text_normalize, "a\xe2\x80\xa9", POP_EINVAL, "text-line-break", NULL);
}

static void test_empty(void **state)
{
        (void)state;
        const char *empty[] = {"", " ", "     ", "\xc2\xa0\xc2\xa0", " \xe3\x80\x80 "};
        for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
                fails(text_normalize, empty[i], POP_EINVAL, "text-empty", "text is empty");
                fails(name_normalize, empty[i], POP_EINVAL, "text-empty", "name is empty");
                fails(name_fold, empty[i], POP_EINVAL, "text-empty", "name is empty");
                fails(name_key, empty[i], POP_EINVAL, "text-empty", "name is empty");
        }
        fails_with(text_normalize, NULL, 0, 10, POP_EINVAL, "text-empty", "text is empty");
}

static void test_name_characters(void **state)
{
        (void)state;
        fails(name_normalize, "Nguyễn Văn 3", POP_EINVAL, "name-character",
              "character '3' (U+0033) is not allowed in a name");
        fails(name_fold, "An2", POP_EINVAL, "name-character",
              "character '2' (U+0032) is not allowed in a name");
        fails(name_key, "An@", POP_EINVAL, "name-character",
              "character '@' (U+0040) is not allowed in a name");
        fails(name_normalize, "Nguyễn, An", POP_EINVAL, "name-character",
              "character ',' (U+002C) is not allowed in a name");
        fails(name_normalize, "An.", POP_EINVAL, "name-character", NULL);
        fails(name_normalize,
              "An\xe2\x80\x90"
              "Bình",
              POP_EINVAL, "name-character",
              "character '\xe2\x80\x90' (U+2010) is not allowed in a name");
        fails(name_normalize, "\xd9\xa3", POP_EINVAL, "name-character",
              "character '\xd9\xa3' (U+0663) is not allowed in a name"); /* Arabic-Indic 3 */
        /* Invisible characters are named by number only. */
        fails(name_normalize,
              "An\xe2\x80\x8b"
              "Bình",
              POP_EINVAL, "name-character",
              "character U+200B is not allowed in a name"); /* zero width space */
        fails(name_normalize,
              "\xe2\x80\xae"
              "An",
              POP_EINVAL, "name-character",
              "character U+202E is not allowed in a name"); /* right-to-left override */
        fails(name_normalize, "\xf3\xb0\x80\x80", POP_EINVAL, "name-character",
              "character U+F0000 is not allowed in a name"); /* private use */
        fails(name_normalize, "A\xe2\x80\xa8", POP_EINVAL, "text-line-break", NULL);
        /* A combining mark must sit on a letter. */
        fails(name_normalize,
              "\xcc\x81"
              "An",
              POP_EINVAL, "name-mark", "combining mark U+0301 does not follow a letter");
        fails(name_normalize, "An \xcc\x81", POP_EINVAL, "name-mark", NULL);
        fails(name_normalize, "An-\xcc\x81", POP_EINVAL, "name-mark", NULL);
        /* Hyphens and apostrophes alone are not a name. */
        fails(name_normalize, "-", POP_EINVAL, "name-no-letter", "a name needs a letter");
        fails(name_normalize, "' - \xe2\x80\x99", POP_EINVAL, "name-no-letter", NULL);
        /* Free text takes what names do not. */
        ok(text_normalize, "Số 3, đường 3/2, P.12 \xe2\x80\x94 Q.10 (TP. HCM) @ 100%",
           "Số 3, đường 3/2, P.12 \xe2\x80\x94 Q.10 (TP. HCM) @ 100%");
}

/* Names of Vietnam's ethnic minorities use other letters, apostrophes and hyphens. */
static void test_minority_names(void **state)
{
        (void)state;
        const char *names[] = {
            "H'Hen Niê",     "H\xe2\x80\x99Hen Niê", "Y Bhin Byă",
            "Ksor H'Luân",   "Rơ Châm Tơ",           "Nay Y Blông",
            "Bế Văn Đàn",    "Hà Thị Xuân-Mai",      "Lò Văn Pọm",
            "Vàng A Páo",    "Thào Mí Dùng",         "Kpă Y Ơn",
            "Ma Seo Chúng",  "Đinh Y Krơ",           "Tòng Thị Ỏn",
            "Ông Ích Khiêm", "Chamaléa Thị Đào",     "Ay Trêu",
        };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                ok(name_normalize, names[i], names[i]);
        ok(name_fold, "Y Bhin Byă", "y bhin byă");
        ok(name_key, "Y Bhin Byă", "y bhin bya");
        ok(name_key, "Kpă Y Ơn", "kpa y on");
        ok(name_fold, "Hà Thị Xuân-Mai", "hà thị xuân-mai");
        /* Letters beyond Vietnamese are letters too. */
        ok(name_normalize, "Ørsted Łukasz Þór", "Ørsted Łukasz Þór");
        ok(name_normalize, "Σωκράτης 李小龍", "Σωκράτης 李小龍");
}

/* The normalized name (or text) may have up to cap - 1 bytes, a name no more than 192. */
static void test_caps(void **state)
{
        (void)state;
        char in[4 * TEXT_MAX_BYTES + 16], want[TEXT_MAX_BYTES + 1];

        /* 192 ASCII letters pass, 193 do not. */
        memset(in, 'a', NAME_MAX_BYTES + 1);
        in[NAME_MAX_BYTES] = '\0';
        ok(name_normalize, in, in);
        ok(name_key, in, in);
        in[NAME_MAX_BYTES] = 'a';
        in[NAME_MAX_BYTES + 1] = '\0';
        fails(name_normalize, in, POP_ETOOBIG, "text-too-big",
              "name is too long: 193 bytes after normalization, the limit is 192");
        fails(name_fold, in, POP_ETOOBIG, "text-too-big", NULL);
        fails(name_key, in, POP_ETOOBIG, "text-too-big", NULL);

        /* The cap applies after normalization: 64 × ễ is 192 bytes in NFC, 320 in NFD. */
        size_t n = 0;
        for (int i = 0; i < 64; i++) {
                memcpy(in + n, "e\xcc\x82\xcc\x83", 5);
                memcpy(want + 3 * i, "\xe1\xbb\x85", 3);
                n += 5;
        }
        want[192] = '\0';
        ok_with(name_normalize, in, n, want);
        memcpy(in + n, "e", 1);
        fails_with(name_normalize, in, n + 1, BIG, POP_ETOOBIG, "text-too-big",
                   "name is too long: 193 bytes after normalization, the limit is 192");

        /* Surrounding whitespace does not count. */
        memset(in, ' ', 100);
        memset(in + 100, 'b', NAME_MAX_BYTES);
        memset(in + 100 + NAME_MAX_BYTES, ' ', 100);
        in[200 + NAME_MAX_BYTES] = '\0';
        memset(want, 'b', NAME_MAX_BYTES);
        want[NAME_MAX_BYTES] = '\0';
        ok(name_normalize, in, want);

        /* Input over 4 times the cap is refused before it is decoded, even if it would fit. */
        memset(in, ' ', sizeof in);
        in[0] = 'a';
        ok_cap(name_normalize, in, 4 * (NAME_MAX_BYTES + 1), OUT_MAX, "a");
        in[4 * (NAME_MAX_BYTES + 1)] = '\xff';
        fails_with(name_normalize, in, 4 * (NAME_MAX_BYTES + 1) + 1, OUT_MAX, POP_ETOOBIG,
                   "text-too-big", "name is too long: 773 bytes, the limit is 192");
        fails_with(name_key, in, 4 * (NAME_MAX_BYTES + 1) + 1, OUT_MAX, POP_ETOOBIG, "text-too-big",
                   "name is too long: 773 bytes, the limit is 192");
        ok_cap(text_normalize, in, 40, 10, "a");
        fails_with(text_normalize, in, 41, 10, POP_ETOOBIG, "text-too-big",
                   "text is too long: 41 bytes, the limit is 9");

        /* Free text: the caller's cap. */
        memset(in, 'x', TEXT_MAX_BYTES + 1);
        in[TEXT_MAX_BYTES] = '\0';
        ok_cap(text_normalize, in, TEXT_MAX_BYTES, TEXT_MAX_BYTES + 1, in);
        fails_with(text_normalize, in, TEXT_MAX_BYTES, TEXT_MAX_BYTES, POP_ETOOBIG, "text-too-big",
                   "text is too long: 512 bytes after normalization, the limit is 511");
        in[TEXT_MAX_BYTES] = 'x';
        fails_with(text_normalize, in, TEXT_MAX_BYTES + 1, TEXT_MAX_BYTES + 1, POP_ETOOBIG,
                   "text-too-big", NULL);
        /* Long text goes past the stack buffer of code points (1024) to the heap. */
        n = 0;
        while (n + 3 <= 4 * TEXT_MAX_BYTES) {
                memcpy(in + n, "a\xcc\x81", 3);
                n += 3;
        }
        fails_with(text_normalize, in, n, TEXT_MAX_BYTES + 1, POP_ETOOBIG, "text-too-big",
                   "text is too long: 1364 bytes after normalization, the limit is 512");
        memset(in, ' ', 1100);
        in[1100] = 'a';
        ok_cap(text_normalize, in, 1101, OUT_MAX, "a");
}

/* An output buffer too small for the result is an error, and nothing is written past cap. */
static void test_small_buffer(void **state)
{
        (void)state;
        ok_cap(name_normalize, "Nguyễn", 8, 9, "Nguyễn");
        fails_with(name_normalize, "Nguyễn", 8, 8, POP_ETOOBIG, "text-too-big",
                   "name is too long: 8 bytes after normalization, the limit is 7");
        fails_with(name_normalize, "Nguyễn", 8, 1, POP_ETOOBIG, "text-too-big", NULL);
        fails_with(name_normalize, "Nguyễn", 8, 0, POP_ETOOBIG, "text-too-big",
                   "name is too long: 8 bytes, the limit is 0");
        fails_with(name_normalize, "An", 2, 1, POP_ETOOBIG, "text-too-big",
                   "name is too long: 2 bytes after normalization, the limit is 0");
        /* ễ does not fit whole at the end: no partial character is written either. */
        fails_with(text_normalize, "ab ễ", 6, 6, POP_ETOOBIG, "text-too-big", NULL);
        ok_cap(text_normalize, "ab ễ", 6, 7, "ab ễ");
        fails_with(text_normalize, "x", 1, 0, POP_ETOOBIG, "text-too-big", NULL);
        fails_with(text_normalize, "", 0, 0, POP_EINVAL, "text-empty", NULL);
        ok_cap(name_fold, "AN", 2, 3, "an");
        fails_with(name_fold, "AN", 2, 2, POP_ETOOBIG, "text-too-big",
                   "folded name is too long: 2 bytes after normalization, the limit is 1");
        fails_with(name_fold, "AN", 2, 0, POP_ETOOBIG, "text-too-big", NULL);
        ok_cap(name_key, "Đức", 6, 4, "duc");
        fails_with(name_key, "Đức", 6, 3, POP_ETOOBIG, "text-too-big",
                   "name key is too long: 3 bytes after normalization, the limit is 2");
        fails_with(name_key, "Đức", 6, 0, POP_ETOOBIG, "text-too-big", NULL);
        /* Validation errors come first, whatever the buffer. */
        fails_with(name_key, "Đức2", 7, 0, POP_EINVAL, "name-character", NULL);
        /* A NULL err is allowed. */
        char out[4];
        assert_int_equal(name_normalize("Nguyễn", 8, out, sizeof out, NULL), POP_ETOOBIG);
        assert_int_equal(name_normalize("An", 2, out, sizeof out, NULL), 0);
        assert_string_equal(out, "An");
}

/* Free text refuses what would display differently from what it holds. */
static void test_text_invisible(void **state)
{
        (void)state;
        const char *bad[] = {"12 Ph\xe1\xbb\x91 Hu\xe1\xba\xbf\xe2\x80\xae", /* U+202E RLO */
                             "S\xe1\xbb\x91 \xe2\x80\x8b"
                             "1", /* U+200B ZWSP */
                             "\xef\xbb\xbf"
                             "12 Ph\xe1\xbb\x91 Hu\xe1\xba\xbf", /* BOM */
                             "Ph\xcd\xb8"};                      /* U+0378, unassigned */
        char out[TEXT_MAX_BYTES + 1];
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct pop_err e = {0};
                assert_int_equal(text_normalize(bad[i], strlen(bad[i]), out, sizeof out, &e),
                                 POP_EINVAL);
                assert_string_equal(e.rule, "text-invisible");
                assert_string_equal(out, "");
        }
}

/* NFC of a few code points, through utf8proc (decompose, then compose), into out. */
static utf8proc_ssize_t nfc_of(const utf8proc_int32_t *in, int n, utf8proc_int32_t out[16])
{
        utf8proc_uint8_t u[16];
        utf8proc_ssize_t len = 0;
        for (int i = 0; i < n; i++)
                len += utf8proc_encode_char(in[i], u + len);
        utf8proc_ssize_t k =
            utf8proc_decompose(u, len, out, 16, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
        assert_true(k > 0 && k <= 16);
        return utf8proc_normalize_utf32(out, k, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
}

/* The code points name.c takes as NFC without asking utf8proc (below U+0300 and U+1E00..1EFF):
 * each one, and each pair of them, is its own NFC. So is text made only of them. */
static void test_nfc_quick_check_ranges(void **state)
{
        (void)state;
        utf8proc_int32_t cps[0x300 + 0x100];
        int n = 0;
        for (utf8proc_int32_t c = 0x20; c < 0x300; c++)
                if (c < 0x7F || c >= 0xA0)
                        cps[n++] = c;
        for (utf8proc_int32_t c = 0x1E00; c <= 0x1EFF; c++)
                cps[n++] = c;
        utf8proc_int32_t out[16];
        for (int i = 0; i < n; i++) {
                assert_int_equal(nfc_of(&cps[i], 1, out), 1);
                assert_int_equal(out[0], cps[i]);
                for (int j = 0; j < n; j++) {
                        utf8proc_int32_t two[2] = {cps[i], cps[j]};
                        utf8proc_ssize_t k = nfc_of(two, 2, out);
                        if (k != 2 || out[0] != two[0] || out[1] != two[1])
                                fail_msg("U+%04X U+%04X is not its own NFC", (unsigned)two[0],
                                         (unsigned)two[1]);
                }
        }
        /* Just outside: a combining mark composes with the letter before it. */
        ok(text_normalize, "Vie\xcc\x82\xcc\xa3t", "Việt");
}

/* name_forms gives what the three functions give one by one, and "" in all three on failure. */
static void test_name_forms(void **state)
{
        (void)state;
        static const char *const names[] = {"Nguyễn Văn An",
                                            "  NGUYỄN   thị  Đào ",
                                            "Nguye\xcc\x82\xcc\x83n Va\xcc\x86n",
                                            "H\xe2\x80\x99Hen Niê",
                                            "Y-Moan Êban",
                                            "Lò Văn Páo",
                                            "Ksor H'Biu",
                                            "Trần",
                                            "Ánh Tuyết"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                char n1[NAME_MAX_BYTES + 1], f1[BIG], k1[BIG], n2[NAME_MAX_BYTES + 1], f2[BIG],
                    k2[BIG];
                struct pop_err e = {0};
                size_t len = strlen(names[i]);
                assert_int_equal(
                    name_forms(names[i], len, n1, sizeof n1, f1, sizeof f1, k1, sizeof k1, &e), 0);
                assert_int_equal(name_normalize(names[i], len, n2, sizeof n2, &e), 0);
                assert_int_equal(name_fold(names[i], len, f2, sizeof f2, &e), 0);
                assert_int_equal(name_key(names[i], len, k2, sizeof k2, &e), 0);
                assert_string_equal(n1, n2);
                assert_string_equal(f1, f2);
                assert_string_equal(k1, k2);
        }
        char n[NAME_MAX_BYTES + 1], f[BIG], k[BIG];
        struct pop_err e = {0};
        assert_int_equal(name_forms("An 3", 4, n, sizeof n, f, sizeof f, k, sizeof k, &e),
                         POP_EINVAL);
        assert_string_equal(e.rule, "name-character");
        assert_string_equal(n, "");
        assert_string_equal(f, "");
        assert_string_equal(k, "");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_utf8_valid),
            cmocka_unit_test(test_utf8_invalid),
            cmocka_unit_test(test_utf8_controls),
            cmocka_unit_test(test_nfc_nfd),
            cmocka_unit_test(test_fold_and_key),
            cmocka_unit_test(test_whitespace),
            cmocka_unit_test(test_empty),
            cmocka_unit_test(test_name_characters),
            cmocka_unit_test(test_minority_names),
            cmocka_unit_test(test_caps),
            cmocka_unit_test(test_small_buffer),
            cmocka_unit_test(test_text_invisible),
            cmocka_unit_test(test_nfc_quick_check_ranges),
            cmocka_unit_test(test_name_forms),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
