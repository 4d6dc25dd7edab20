/*
 * Vietnamese names and free text: validation of UTF-8, NFC normalization with whitespace trimmed
 * and collapsed, and the two match forms of a name (folded, key). See name.h.
 *
 * Every entry point caps its input before any work, checks it with utf8_check, then decodes it
 * with utf8proc into code points (in a stack buffer; the heap only for long text), normalizes
 * them, and walks them once: whitespace is collapsed, the characters a name may hold are checked
 * and the result is encoded straight into the caller's buffer, which is never written past `cap`.
 * On failure the output is the empty string (when cap > 0).
 */
#include "core/name.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Rule ids carried in struct pop_err (stable: the API returns them). */
#define RULE_UTF8       "text-utf8"
#define RULE_CONTROL    "text-control"
#define RULE_NONCHAR    "text-noncharacter"
#define RULE_LINE_BREAK "text-line-break"
#define RULE_EMPTY      "text-empty"
#define RULE_TOO_BIG    "text-too-big"
#define RULE_NORMALIZE  "text-normalize"
#define RULE_NAME_CHAR  "name-character"
#define RULE_NAME_MARK  "name-mark"
#define RULE_NAME_LONE  "name-no-letter"

/*
 * Input may be at most this many times the output cap: NFD Vietnamese is under twice its NFC
 * size, so this leaves room for decomposed input and stray whitespace while refusing megabytes
 * before anything is decoded or normalized.
 */
#define INPUT_FACTOR 4

/* Code points decoded on the stack; only longer text goes to the heap. */
#define CP_STACK 1024

/* The two apostrophes a name may hold; the key maps U+2019 to ASCII. */
#define RIGHT_SINGLE_QUOTE 0x2019

/* Decoded, normalized code points. */
struct cps {
        utf8proc_int32_t *cp; /* stack, or heap when longer than CP_STACK */
        utf8proc_ssize_t n;
        utf8proc_int32_t stack[CP_STACK];
};

/*
 * The output being written: len counts every byte produced, also those that did not fit, so the
 * caller learns the full length and nothing is written at or past cap - 1 (room for the NUL).
 */
struct sink {
        char *out;
        size_t cap;
        size_t len;
};

/* Unicode noncharacters: U+FDD0..U+FDEF and the last two code points of every plane. */
static bool is_nonchar(utf8proc_int32_t c)
{
        return (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
}

/* C0, DEL and C1. */
static bool is_control(utf8proc_int32_t c)
{
        return c < 0x20 || (c >= 0x7F && c < 0xA0);
}

/* Any Unicode space separator (category Zs: U+0020, NBSP U+00A0, U+2000..U+200A, U+3000...). */
static bool is_space(utf8proc_int32_t c)
{
        return c == ' ' || utf8proc_category(c) == UTF8PROC_CATEGORY_ZS;
}

static bool is_letter(utf8proc_category_t cat)
{
        return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

static bool is_mark(utf8proc_category_t cat)
{
        return cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME;
}

int utf8_check(const char *s, size_t len, struct pop_err *err)
{
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
        size_t i = 0;
        while (i < len) {
                utf8proc_int32_t c = p[i];
                utf8proc_ssize_t n = 1;
                if (c >= 0x80) {
                        /* A sequence is at most 4 bytes; passing no more keeps the length in
                         * range of utf8proc's signed size whatever len is. */
                        size_t left = len - i < 4 ? len - i : 4;
                        n = utf8proc_iterate(p + i, (utf8proc_ssize_t)left, &c);
                        if (n <= 0)
                                return pop_fail(err, POP_EINVAL, RULE_UTF8,
                                                "invalid UTF-8 at byte %zu", i);
                }
                if (is_control(c))
                        return pop_fail(err, POP_EINVAL, RULE_CONTROL,
                                        "control character U+%04X at byte %zu", (unsigned)c, i);
                if (is_nonchar(c))
                        return pop_fail(err, POP_EINVAL, RULE_NONCHAR,
                                        "noncharacter U+%04X at byte %zu", (unsigned)c, i);
                i += (size_t)n;
        }
        return 0;
}

/*
 * Decodes len bytes of checked UTF-8 into b, transformed by utf8proc (custom, then options) and
 * normalized. UTF8PROC_STABLE is always set: without it utf8proc's composition ignores the
 * composition exclusions and the result is not NFC. Release b with cps_free, also on failure.
 */
/*
 * Code points that are NFC whatever surrounds them, within the ranges checked here: below U+0300
 * (ASCII, Latin-1, Latin Extended-A/B, IPA, spacing modifiers) and Latin Extended Additional
 * (U+1E00..U+1EFF, the precomposed Vietnamese letters such as U+1EC5). Each has
 * NFC_Quick_Check=Yes and canonical combining class 0, and none composes with a neighbour
 * (UAX #15 section 9, "Detecting Normalization Forms"; DerivedNormalizationProps.txt), so text
 * made only of them is already NFC. tests/unit/core/name_test.c checks every one of them and
 * every pair of them against utf8proc. Anything else takes the full normalization.
 */
static bool nfc_stable(utf8proc_int32_t c)
{
        return c < 0x300 || (c >= 0x1E00 && c <= 0x1EFF);
}

/* NFC's quick check: decodes checked UTF-8 into b when it is made only of nfc_stable code points
 * (then it is its own NFC), else returns false and leaves the work to utf8proc. */
static bool cps_nfc_quick(struct cps *b, const char *in, size_t len)
{
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
        utf8proc_ssize_t n = 0;
        for (size_t i = 0; i < len; n++) {
                utf8proc_int32_t c = p[i];
                utf8proc_ssize_t k = 1;
                if (c >= 0x80) {
                        size_t left = len - i < 4 ? len - i : 4;
                        k = utf8proc_iterate(p + i, (utf8proc_ssize_t)left, &c);
                }
                if (k <= 0 || n == CP_STACK || !nfc_stable(c))
                        return false;
                b->stack[n] = c;
                i += (size_t)k;
        }
        b->n = n;
        return true;
}

static int cps_map(struct cps *b, const char *in, size_t len, utf8proc_option_t options,
                   utf8proc_custom_func custom, struct pop_err *err)
{
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)in;
        b->cp = b->stack;
        b->n = 0;
        if (options == UTF8PROC_COMPOSE && !custom && cps_nfc_quick(b, in, len))
                return 0;
        options |= UTF8PROC_STABLE;
        utf8proc_ssize_t n = utf8proc_decompose_custom(p, (utf8proc_ssize_t)len, b->stack, CP_STACK,
                                                       options, custom, NULL);
        if (n > CP_STACK) {
                utf8proc_int32_t *heap = malloc((size_t)n * sizeof *heap);
                if (!heap)
                        return pop_fail(err, POP_ENOMEM, RULE_NORMALIZE,
                                        "out of memory normalizing %zu bytes of text", len);
                b->cp = heap;
                utf8proc_ssize_t again = utf8proc_decompose_custom(p, (utf8proc_ssize_t)len, heap,
                                                                   n, options, custom, NULL);
                n = again > n ? UTF8PROC_ERROR_OVERFLOW : again;
        }
        if (n >= 0)
                n = utf8proc_normalize_utf32(b->cp, n, options);
        if (n < 0)
                return pop_fail(err, POP_EINVAL, RULE_NORMALIZE, "cannot normalize text: %s",
                                utf8proc_errmsg(n));
        b->n = n;
        return 0;
}

static void cps_free(struct cps *b)
{
        if (b->cp != b->stack)
                free(b->cp);
        b->cp = b->stack;
}

static void put(struct sink *s, utf8proc_int32_t c)
{
        utf8proc_uint8_t u[4];
        size_t n = (size_t)utf8proc_encode_char(c, u);
        if (s->len + n < s->cap)
                memcpy(s->out + s->len, u, n);
        s->len += n;
}

/* "character '3' (U+0033) is not allowed in a name"; invisible characters by number only. */
static int bad_name_char(utf8proc_int32_t c, utf8proc_category_t cat, struct pop_err *err)
{
        bool visible = cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_SO;
        if (!visible)
                return pop_fail(err, POP_EINVAL, RULE_NAME_CHAR,
                                "character U+%04X is not allowed in a name", (unsigned)c);
        char u[5] = {0};
        utf8proc_encode_char(c, (utf8proc_uint8_t *)u);
        return pop_fail(err, POP_EINVAL, RULE_NAME_CHAR,
                        "character '%s' (U+%04X) is not allowed in a name", u, (unsigned)c);
}

/*
 * Writes the normalized code points of b into s with surrounding whitespace dropped and inner
 * runs of it collapsed to one ASCII space. Line separators are refused: text is one line. For
 * a name, only letters, combining marks that follow a letter, hyphen-minus and apostrophes pass,
 * and there must be a letter.
 */
static int tidy(const struct cps *b, bool name, struct sink *s, struct pop_err *err)
{
        bool space = false;     /* whitespace seen since the last character written */
        bool on_letter = false; /* the last character written is a letter, or a mark on one */
        bool letter = false;    /* a letter was written */
        for (utf8proc_ssize_t i = 0; i < b->n; i++) {
                utf8proc_int32_t c = b->cp[i];
                if (is_space(c)) {
                        space = s->len > 0;
                        on_letter = false;
                        continue;
                }
                utf8proc_category_t cat = utf8proc_category(c);
                if (cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP)
                        return pop_fail(err, POP_EINVAL, RULE_LINE_BREAK,
                                        "line break U+%04X is not allowed: text is one line",
                                        (unsigned)c);
                /* Format characters (bidi overrides such as U+202E, zero-width ones, BOM) and
                 * unassigned code points would let stored text display differently from what
                 * it holds, or change meaning with a later Unicode version (UTS #39, UTR #36). */
                if (!name && (cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CN))
                        return pop_fail(err, POP_EINVAL, "text-invisible",
                                        "invisible or unassigned character U+%04X is not "
                                        "allowed",
                                        (unsigned)c);
                if (name) {
                        if (is_letter(cat)) {
                                letter = on_letter = true;
                        } else if (is_mark(cat)) {
                                if (!on_letter)
                                        return pop_fail(err, POP_EINVAL, RULE_NAME_MARK,
                                                        "combining mark U+%04X does not follow "
                                                        "a letter",
                                                        (unsigned)c);
                        } else if (c == '-' || c == '\'' || c == RIGHT_SINGLE_QUOTE) {
                                on_letter = false;
                        } else {
                                return bad_name_char(c, cat, err);
                        }
                }
                if (space)
                        put(s, ' ');
                space = false;
                put(s, c);
        }
        if (s->len == 0)
                return pop_fail(err, POP_EINVAL, RULE_EMPTY, "%s is empty", name ? "name" : "text");
        if (name && !letter)
                return pop_fail(err, POP_EINVAL, RULE_NAME_LONE, "a name needs a letter");
        return 0;
}

/* Finishes the output: NUL-terminated on success, "" on failure. */
static int finish(struct sink *s, int rc, const char *what, struct pop_err *err)
{
        if (rc == 0 && s->len >= s->cap)
                rc = pop_fail(err, POP_ETOOBIG, RULE_TOO_BIG,
                              "%s is too long: %zu bytes after normalization, the limit is %zu",
                              what, s->len, s->cap > 0 ? s->cap - 1 : 0);
        if (s->cap > 0)
                s->out[rc == 0 ? s->len : 0] = '\0';
        return rc;
}

/* text_normalize and name_normalize; a name is also limited to NAME_MAX_BYTES. */
static int normalize(const char *in, size_t len, char *out, size_t cap, bool name,
                     struct pop_err *err)
{
        const char *what = name ? "name" : "text";
        struct sink s = {.out = out, .cap = cap, .len = 0};
        if (name && s.cap > NAME_MAX_BYTES + 1)
                s.cap = NAME_MAX_BYTES + 1;
        if (cap > 0)
                out[0] = '\0';

        size_t max_in = s.cap <= SIZE_MAX / INPUT_FACTOR ? s.cap * INPUT_FACTOR : SIZE_MAX;
        if (max_in > PTRDIFF_MAX)
                max_in = PTRDIFF_MAX;
        if (len > max_in)
                return pop_fail(err, POP_ETOOBIG, RULE_TOO_BIG,
                                "%s is too long: %zu bytes, the limit is %zu", what, len,
                                s.cap > 0 ? s.cap - 1 : 0);
        int rc = utf8_check(in, len, err);
        if (rc != 0)
                return rc;

        struct cps b;
        rc = cps_map(&b, in, len, UTF8PROC_COMPOSE, NULL, err);
        if (rc == 0)
                rc = tidy(&b, name, &s, err);
        cps_free(&b);
        return finish(&s, rc, what, err);
}

int text_normalize(const char *in, size_t len, char *out, size_t cap, struct pop_err *err)
{
        return normalize(in, len, out, cap, false, err);
}

int name_normalize(const char *in, size_t len, char *out, size_t cap, struct pop_err *err)
{
        return normalize(in, len, out, cap, true, err);
}

/*
 * đ/Đ are letters of their own (no decomposition in Unicode), so stripping marks keeps them;
 * the key maps them to d as Vietnamese users expect ("Đức" is found as "duc"). The typographic
 * apostrophe U+2019 becomes ASCII so "H’Hen" and "H'Hen" share a key.
 */
static utf8proc_int32_t key_custom(utf8proc_int32_t c, void *data)
{
        (void)data;
        if (c == 0x0110 || c == 0x0111)
                return 'd';
        if (c == RIGHT_SINGLE_QUOTE)
                return '\'';
        return c;
}

#define FOLD_OPTIONS (UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD)
#define KEY_OPTIONS  (UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK)

/* A normalized name (norm, NUL-terminated) mapped with options (and custom) into out. */
static int norm_map(const char *norm, char *out, size_t cap, utf8proc_option_t options,
                    utf8proc_custom_func custom, const char *what, struct pop_err *err)
{
        struct sink s = {.out = out, .cap = cap, .len = 0};
        if (cap > 0)
                out[0] = '\0';
        struct cps b;
        int rc = cps_map(&b, norm, strlen(norm), options, custom, err);
        for (utf8proc_ssize_t i = 0; rc == 0 && i < b.n; i++)
                put(&s, b.cp[i]);
        cps_free(&b);
        return finish(&s, rc, what, err);
}

/* name_fold and name_key: the normalized name mapped again with options (and custom). */
static int name_map(const char *in, size_t len, char *out, size_t cap, utf8proc_option_t options,
                    utf8proc_custom_func custom, const char *what, struct pop_err *err)
{
        char norm[NAME_MAX_BYTES + 1];
        if (cap > 0)
                out[0] = '\0';
        int rc = name_normalize(in, len, norm, sizeof norm, err);
        if (rc != 0)
                return rc;
        return norm_map(norm, out, cap, options, custom, what, err);
}

int name_fold(const char *in, size_t len, char *out, size_t cap, struct pop_err *err)
{
        return name_map(in, len, out, cap, FOLD_OPTIONS, NULL, "folded name", err);
}

int name_key(const char *in, size_t len, char *out, size_t cap, struct pop_err *err)
{
        return name_map(in, len, out, cap, KEY_OPTIONS, key_custom, "name key", err);
}

int name_forms(const char *in, size_t len, char *norm, size_t norm_cap, char *fold, size_t fold_cap,
               char *key, size_t key_cap, struct pop_err *err)
{
        if (fold_cap > 0)
                fold[0] = '\0';
        if (key_cap > 0)
                key[0] = '\0';
        int rc = name_normalize(in, len, norm, norm_cap, err);
        if (rc == 0)
                rc = norm_map(norm, fold, fold_cap, FOLD_OPTIONS, NULL, "folded name", err);
        if (rc == 0)
                rc = norm_map(norm, key, key_cap, KEY_OPTIONS, key_custom, "name key", err);
        if (rc != 0) {
                if (norm_cap > 0)
                        norm[0] = '\0';
                if (fold_cap > 0)
                        fold[0] = '\0';
        }
        return rc;
}
