/*
 * `popid gen`: a synthetic population of Vietnam in the bulk formats of docs/FORMATS.md (JSON
 * Lines or CSV, one person per line), for loading tests, benchmarks and demos.
 *
 * The people come in households (one head, spouses naming each other, children after their
 * parents, widowed people whose spouse is a deceased line, three-generation families), with the
 * 2019 census age pyramid and sex ratio, provinces weighted by population, Vietnamese names with
 * diacritics (NFC) and the names of the larger ethnic minorities, temporary residents, partial
 * dates of birth and chip cards. See gen.c for the model and gen_data.c for the tables and their
 * sources.
 *
 * Streamed with constant memory: a household is built, written and forgotten. Personal ID
 * numbers are unique over the whole output without remembering any: each series (prefix,
 * century/sex digit, year) numbers its people with a counter, and a keyed permutation of
 * 0..999999 turns the counter into the six random digits. Deterministic: the same options give
 * the same bytes (the date that anchors ages is an option, never the clock).
 */
#ifndef POP_GEN_GEN_H
#define POP_GEN_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"

enum gen_format { GEN_JSONL = 0, GEN_CSV = 1 };

/* The date ages are counted to when the caller gives none: fixed, so output never depends on the
 * clock. */
#define GEN_DEFAULT_TODAY_Y 2026
#define GEN_DEFAULT_TODAY_M 1
#define GEN_DEFAULT_TODAY_D 1

/* The range of `today`: everyone's birth year must be one a personal ID number can encode
 * (from 1900), and dates written stay within DATE_MAX_YEAR. */
#define GEN_TODAY_MIN_YEAR 2000
#define GEN_TODAY_MAX_YEAR 2390

/* Ten times Vietnam. The largest series of ID numbers (a birth year and sex in Hồ Chí Minh City)
 * then holds about a million people; a birth whose series is full is registered in the next
 * province, so no run within this limit runs out of numbers. */
#define GEN_MAX_PEOPLE 1000000000ull

/* The CSV header, with its newline; docs/FORMATS.md is the contract. */
extern const char gen_csv_header[];

struct gen_opts {
        uint64_t people; /* exactly this many person lines */
        uint64_t seed;
        enum gen_format format;
        struct pdate today; /* full date; the none value means the default above */
};

/* What a run wrote. */
struct gen_stats {
        uint64_t people;     /* person lines (== opts.people) */
        uint64_t households; /* household keys used */
        uint64_t deceased;
        uint64_t bytes; /* header included */
};

/*
 * Receives the output: len bytes that always end at the end of a line (so a reader may split
 * each call into lines). Returns 0, or a negative POP_E* code that stops the run.
 */
typedef int gen_write_fn(void *ctx, const char *buf, size_t len);

/*
 * Generates opts->people people and hands them to write in chunks of about a mebibyte. Returns 0;
 * POP_EINVAL for options out of range (the message says which); POP_ENOMEM; POP_EFULL if the ID
 * numbers of a birth year and sex ran out in every province (not within GEN_MAX_PEOPLE); or the
 * code write returned. stats may be NULL.
 */
int gen_run(const struct gen_opts *opts, gen_write_fn *write, void *ctx, struct gen_stats *stats,
            struct pop_err *err) POP_MUST_USE;

#endif
