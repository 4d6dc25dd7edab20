/*
 * Vietnamese names and free text. Input arrives in NFC or NFD (macOS, some keyboards); the
 * registry stores NFC. Three forms:
 *   normalized  NFC, surrounding whitespace trimmed, inner runs collapsed to one space
 *   folded      normalized + Unicode case folding: the key for exact, case-insensitive match
 *   key         folded with diacritics removed, đ/Đ mapped to d (utf8proc does not decompose
 *               đ, which is a letter of its own, not d with a mark) and the apostrophe U+2019 to
 *               ASCII ': the diacritic-insensitive key
 * Invalid UTF-8, control characters and over-long input are refused with a message that says so.
 * Built on utf8proc. Pure.
 */
#ifndef POP_CORE_NAME_H
#define POP_CORE_NAME_H

#include <stddef.h>

#include "core/err.h"

#define NAME_MAX_BYTES 192 /* a normalized name's cap, in bytes, NUL excluded */
#define TEXT_MAX_BYTES 512 /* a free-text field's cap (address lines, places) */

/*
 * Checks that len bytes are valid UTF-8 with no control characters (C0, DEL, C1) and no
 * noncharacters. The message gives the byte offset of the first problem.
 */
int utf8_check(const char *s, size_t len, struct pop_err *err) POP_MUST_USE;

/*
 * Free text (addresses, places): utf8_check, NFC, whitespace trimmed and collapsed, at most
 * `cap - 1` bytes after normalization (POP_ETOOBIG otherwise), not empty. Writes into out.
 */
int text_normalize(const char *in, size_t len, char *out, size_t cap,
                   struct pop_err *err) POP_MUST_USE;

/*
 * A person's name: as text_normalize, plus only letters, combining marks, spaces, hyphens and
 * apostrophes are allowed (no digits or other symbols), at most NAME_MAX_BYTES bytes.
 */
int name_normalize(const char *in, size_t len, char *out, size_t cap,
                   struct pop_err *err) POP_MUST_USE;

/*
 * The folded form of a name (validates like name_normalize). Case folding can lengthen a name
 * (İ becomes i + U+0307), at most doubling it: 2 * NAME_MAX_BYTES + 1 bytes always hold the
 * folded form and the key. POP_ETOOBIG when they do not fit cap.
 */
int name_fold(const char *in, size_t len, char *out, size_t cap, struct pop_err *err) POP_MUST_USE;

/* The diacritic-insensitive key of a name (validates like name_normalize). */
int name_key(const char *in, size_t len, char *out, size_t cap, struct pop_err *err) POP_MUST_USE;

/*
 * The three forms of one name at once, normalizing it once (bulk import): the same results as
 * name_normalize, name_fold and name_key (norm_cap of at least NAME_MAX_BYTES + 1). On failure
 * all three are "".
 */
int name_forms(const char *in, size_t len, char *norm, size_t norm_cap, char *fold, size_t fold_cap,
               char *key, size_t key_cap, struct pop_err *err) POP_MUST_USE;

#endif
