/*
 * Fuzz target for src/core/name.c: feeds arbitrary bytes to utf8_check, text_normalize,
 * name_normalize, name_fold and name_key and aborts when an invariant breaks:
 *   - every output that succeeds passes utf8_check, has no leading, trailing or double space and
 *     fits its cap; text and name normalization are idempotent;
 *   - a name is also valid text, with the same normalized form;
 *   - a valid name always has a folded form and a key (in 2 * NAME_MAX_BYTES + 1 bytes), and the
 *     key holds no đ/Đ and no combining marks;
 *   - with an output buffer of a size taken from the input (often too small), nothing is
 *     written past cap (the buffer is exactly cap bytes of heap, so ASan sees any overflow) and
 *     the result is the same as with a large buffer, or POP_ETOOBIG.
 * Corpus: fuzz/corpus/name/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/name.h"

#define BIG (2 * NAME_MAX_BYTES + 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int norm_fn(const char *in, size_t len, char *out, size_t cap, struct pop_err *err);

static void die(const char *what, const char *out)
{
        fprintf(stderr, "invariant broken: %s (output '%s')\n", what, out ? out : "");
        abort();
}

/* A successful output: valid, trimmed, collapsed, NUL-terminated within cap. */
static void check_output(const char *out, size_t cap)
{
        size_t len = strnlen(out, cap);
        if (len == cap)
                die("output not NUL-terminated within cap", NULL);
        if (len == 0)
                die("empty output", out);
        if (utf8_check(out, len, NULL) != 0)
                die("output fails utf8_check", out);
        if (out[0] == ' ' || out[len - 1] == ' ' || strstr(out, "  "))
                die("output not trimmed and collapsed", out);
}

/* The key: no đ (U+0111), no Đ (U+0110) and no combining marks. */
static void check_key(const char *key)
{
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)key;
        utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(key);
        while (len > 0) {
                utf8proc_int32_t c;
                utf8proc_ssize_t n = utf8proc_iterate(p, len, &c);
                if (n <= 0)
                        die("key is not UTF-8", key);
                utf8proc_category_t cat = utf8proc_category(c);
                if (c == 0x0110 || c == 0x0111)
                        die("key holds đ or Đ", key);
                if (cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME)
                        die("key holds a combining mark", key);
                p += n;
                len -= n;
        }
}

/* f applied to its own output gives it back. */
static void check_idempotent(norm_fn *f, const char *out, size_t cap)
{
        char again[TEXT_MAX_BYTES + 1];
        if (f(out, strlen(out), again, cap, NULL) != 0)
                die("normalizing a normalized string fails", out);
        if (strcmp(again, out) != 0)
                die("normalization is not idempotent", out);
}

/*
 * f with an output of exactly cap heap bytes: the same result as with a large buffer (rc_big,
 * big), or POP_ETOOBIG when it does not fit or the input is over max_in bytes (refused before
 * any work). Anything written past cap is an ASan report.
 */
static void check_small(norm_fn *f, const char *in, size_t len, size_t cap, size_t max_in,
                        int rc_big, const char *big)
{
        char *out = malloc(cap ? cap : 1);
        if (!out)
                return;
        int rc = f(in, len, out, cap, NULL);
        if (rc == 0) {
                if (rc_big != 0 || strcmp(out, big) != 0)
                        die("a small buffer gives another result", out);
        } else if (rc == POP_ETOOBIG) {
                if (rc_big == 0 && strlen(big) < cap && len <= max_in)
                        die("POP_ETOOBIG although the result fits", big);
                if (cap > 0 && out[0] != '\0')
                        die("output not emptied on failure", NULL);
        } else if (rc != rc_big) {
                die("a small buffer gives another error", NULL);
        }
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *in = (const char *)data;
        char text[TEXT_MAX_BYTES + 1], name[BIG], fold[BIG], key[BIG];
        struct pop_err err;

        int rc_check = utf8_check(in, size, &err);
        int rc_text = text_normalize(in, size, text, sizeof text, &err);
        if (rc_text == 0) {
                if (rc_check != 0)
                        die("text_normalize accepts what utf8_check refuses", NULL);
                check_output(text, sizeof text);
                check_idempotent(text_normalize, text, sizeof text);
        }

        int rc_name = name_normalize(in, size, name, sizeof name, &err);
        int rc_fold = name_fold(in, size, fold, sizeof fold, &err);
        int rc_key = name_key(in, size, key, sizeof key, &err);
        if (rc_name == 0) {
                check_output(name, NAME_MAX_BYTES + 1);
                check_idempotent(name_normalize, name, sizeof name);
                if (rc_text != 0 || strcmp(name, text) != 0)
                        die("a name is not the same as text", name);
                if (rc_fold != 0 || rc_key != 0)
                        die("a valid name has no folded form or key", name);
                check_output(fold, sizeof fold);
                check_output(key, sizeof key);
                check_key(key);
                /* Fold and key of the normalized name are those of the input. */
                char fold2[BIG], key2[BIG];
                if (name_fold(name, strlen(name), fold2, sizeof fold2, NULL) != 0 ||
                    strcmp(fold, fold2) != 0)
                        die("fold differs for the normalized name", name);
                if (name_key(name, strlen(name), key2, sizeof key2, NULL) != 0 ||
                    strcmp(key, key2) != 0)
                        die("key differs for the normalized name", name);
        } else if (rc_fold != rc_name || rc_key != rc_name) {
                die("fold or key accept what name_normalize refuses", NULL);
        }

        /* The same again with a small output buffer, sized by the first byte. */
        size_t cap = size > 0 ? data[0] % 64 : 0;
        size_t max_in = 4 * cap; /* name.c's INPUT_FACTOR; cap < NAME_MAX_BYTES */
        check_small(text_normalize, in, size, cap, max_in, rc_text, text);
        check_small(name_normalize, in, size, cap, max_in, rc_name, name);
        check_small(name_fold, in, size, cap, SIZE_MAX, rc_fold, fold);
        check_small(name_key, in, size, cap, SIZE_MAX, rc_key, key);
        return 0;
}
