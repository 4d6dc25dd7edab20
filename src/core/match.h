/*
 * Matching a claimed identity attribute against the registry's value, for the verification
 * service (src/eid/verify.h, docs/AUTH.md "Matching"). A relying party claims a name, a date of
 * birth, a sex or an address; the registry answers whether the claim matches what it holds, in
 * one of two modes, as Aadhaar's demographic authentication does with its "ms" (match strategy
 * E/P) attribute:
 *
 *   exact    name: NFC, case-folded, whitespace trimmed and collapsed (name_fold) equal;
 *            date: the same precision and the same value (a claimed day does not match a stored
 *            year-only date: the registry cannot confirm a day it does not know);
 *            sex: equal; address: the folded, normalized address line equal.
 *   partial  name: the diacritic-insensitive key (name_key, đ = d) equal, or the name similarity
 *            (match_name_similarity) at least MATCH_NAME_THRESHOLD;
 *            date: every component both dates know agrees (the ranges overlap: pdate_cmp == 0);
 *            sex: equal; address: at least MATCH_ADDRESS_THRESHOLD of the claimed words (keys)
 *            appear in the registry's address (line and province name), every word holding a
 *            digit (house and lane numbers) among them.
 *
 * Claimed values are client input: invalid UTF-8, control characters, over-long text and
 * malformed dates are refused with POP_EINVAL (or POP_ETOOBIG) and a message naming the
 * problem. Stored values are trusted (the registry normalized them). Pure: no I/O.
 */
#ifndef POP_CORE_MATCH_H
#define POP_CORE_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/date.h"
#include "core/err.h"
#include "core/pid.h"

/* Scores are in thousandths: 1000 is identical. */
#define MATCH_SCORE_MAX 1000
/* Partial name match: the weakest word pair's Jaro-Winkler similarity (docs/AUTH.md). */
#define MATCH_NAME_THRESHOLD 900
/* Words shorter than this (in code points) must be equal: Jaro-Winkler is lenient on them. */
#define MATCH_SHORT_WORD 4
/* Partial address match: share of the claimed words found in the registry's address. */
#define MATCH_ADDRESS_THRESHOLD 800
#define MATCH_WORDS_MAX         32 /* words of a name or address compared at most */

enum match_mode { MATCH_EXACT, MATCH_PARTIAL };

/* How an attribute matched (or did not). */
enum match_how {
        MATCH_NONE,    /* no match */
        MATCH_SAME,    /* equal in the exact form */
        MATCH_KEY,     /* equal once diacritics are ignored (partial) */
        MATCH_SIMILAR, /* similarity at or above the threshold (partial) */
        MATCH_WITHIN,  /* partial date: the dates agree where both are known */
        MATCH_WORDS,   /* partial address: enough words in common */
};

struct match_result {
        bool ok;
        int score; /* 0..MATCH_SCORE_MAX */
        enum match_how how;
};

/* "exact" or "partial" (len bytes). POP_EINVAL otherwise. */
int match_mode_parse(const char *s, size_t len, enum match_mode *out,
                     struct pop_err *err) POP_MUST_USE;
const char *match_mode_name(enum match_mode m);
const char *match_how_name(enum match_how h);

/*
 * The similarity of two name keys (name_key forms: lower case, no diacritics, single spaces),
 * 0..1000: the two must have the same number of words; each word pair scores its Jaro-Winkler
 * similarity (Winkler 1990, prefix scale 0.1 over at most 4 code points), pairs of short words
 * (< MATCH_SHORT_WORD code points) 1000 when equal and 0 otherwise; the name scores its weakest
 * pair. Inputs must be valid UTF-8 (the keys are); more than MATCH_WORDS_MAX words score 0.
 */
int match_name_similarity(const char *a, const char *b);

/*
 * The claimed name (len bytes, client input) against a stored name's folded form and key
 * (struct person's name_fold and name_key).
 */
int match_name(const char *claimed, size_t len, const char *stored_fold, const char *stored_key,
               enum match_mode mode, struct match_result *out, struct pop_err *err) POP_MUST_USE;

/* A claimed date of birth "YYYY", "YYYY-MM" or "YYYY-MM-DD" against the stored (partial) one. */
int match_dob(const char *claimed, size_t len, struct pdate stored, enum match_mode mode,
              struct match_result *out, struct pop_err *err) POP_MUST_USE;

/* A claimed sex (sex_parse: male, female, m, f) against the stored one; unknown never matches. */
int match_sex(const char *claimed, size_t len, enum sex stored, enum match_mode mode,
              struct match_result *out, struct pop_err *err) POP_MUST_USE;

/*
 * A claimed address (free text, len bytes) against the stored address line of the current
 * permanent residence; extra (may be NULL) is more of the registry's address for partial matching
 * (the province's name).
 */
int match_address(const char *claimed, size_t len, const char *stored_line, const char *extra,
                  enum match_mode mode, struct match_result *out, struct pop_err *err) POP_MUST_USE;

#endif
