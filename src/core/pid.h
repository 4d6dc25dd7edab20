/*
 * Personal identification numbers: PPP G YY RRRRRR, 12 digits, no check digit.
 *   PPP  the province where the birth was registered ("0" + GSO code of one of the 63 legacy
 *        provinces, kept for life after the 2025 merger) or a country code 101-295 for births
 *        registered abroad (Decree 137/2015 art. 13; Circular 07/2016 appendix 1; Law on Identity
 *        2023).
 *   G    century and sex: 1900s 0 male 1 female, 2000s 2/3, 2100s 4/5, 2200s 6/7, 2300s 8/9.
 *   YY   last two digits of the birth year.
 *   R    six digits chosen at random.
 * Parse, validate, format, explain and allocate. Pure: allocation asks a callback whether a number
 * is already used, so the store (or a test's bitmap) answers.
 */
#ifndef POP_CORE_PID_H
#define POP_CORE_PID_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/region.h"

#define PID_LEN         12
#define PID_SUFFIX_SPAN 1000000u

enum sex { SEX_UNKNOWN = 0, SEX_MALE = 1, SEX_FEMALE = 2 };

struct pid_info {
        char pid[PID_LEN + 1];
        int prefix;      /* 1..295 */
        int gso;         /* GSO province code when prefix <= 99, else 0 */
        int country;     /* country code when prefix >= 101, else 0 */
        int century_sex; /* G */
        int birth_year;
        enum sex sex;
        uint32_t suffix;                           /* 0..999999 */
        const struct region_legacy *province;      /* NULL when born abroad */
        const struct region_country *country_info; /* NULL when unknown or not abroad */
};

/*
 * Parses exactly len bytes: 12 ASCII digits whose prefix names a legacy province or a country code.
 * The message says what is wrong ("character 4 (' ') is not a digit", "11 digits, expected 12",
 * "prefix 003 is not a province code"). *out is cleared first, so it is zero on failure.
 */
int pid_parse(const char *s, size_t len, struct pid_info *out, struct pop_err *err) POP_MUST_USE;

/*
 * Checks that a parsed number agrees with what is known of its holder: the birth year encoded
 * must equal the year of the date of birth, the sex digit the sex (SEX_UNKNOWN skips the check).
 */
int pid_check_person(const struct pid_info *id, struct pdate dob, enum sex sex,
                     struct pop_err *err) POP_MUST_USE;

/* The G digit for a birth year 1900..2399 and a sex; -1 when out of range. */
int pid_century_sex(int birth_year, enum sex sex);

/* Builds the 12 digits for prefix, birth year, sex and suffix into out (NUL-terminated). */
int pid_format(int prefix, int birth_year, enum sex sex, uint32_t suffix, char out[PID_LEN + 1],
               struct pop_err *err) POP_MUST_USE;

/* A number as an integer (for storage keys) and back; pid_to_int returns -1 when one of the 12
 * characters is not a digit, pid_from_int writes 12 digits, or "" for v outside 0..999999999999. */
int64_t pid_to_int(const char pid[PID_LEN]);
void pid_from_int(int64_t v, char out[PID_LEN + 1]);

/* One English sentence that explains the number, e.g. "Male born in 1990, birth registered in
 * Hà Nội (prefix 001); random part 234567." Truncated to cap (never inside a UTF-8 character);
 * nothing is written when cap is 0. */
void pid_explain(const struct pid_info *id, char *out, size_t cap);

/*
 * Allocation. The suffixes of one series (prefix, G, YY) are visited in the order of a keyed
 * permutation of 0..999999: `counter` counts the positions used so far in that series, so the
 * numbers look random, none repeats, and exhaustion is detected after exactly a million. The key
 * is the registry's secret (PID_ALLOC_KEY_LEN bytes), so the order cannot be predicted outside.
 */
#define PID_ALLOC_KEY_LEN 16

/* The suffix at position counter (0..999999; larger values are taken modulo a million) of the
 * series; a bijection for each key and series. */
uint32_t pid_series_suffix(const uint8_t key[PID_ALLOC_KEY_LEN], int prefix, int century_sex,
                           int yy, uint32_t counter);

/* Returns 1 when the number is already used, 0 when free, a negative POP_E* code on failure. */
typedef int pid_used_fn(void *ctx, const char pid[PID_LEN + 1]);

/*
 * Allocates the next free number of the series for a newborn: advances *counter past every used
 * number and past the chosen one, writes the chosen one into out. POP_EFULL when the series is
 * exhausted. When the callback fails its code is returned and *counter stays at that position.
 */
int pid_allocate(const uint8_t key[PID_ALLOC_KEY_LEN], int prefix, int birth_year, enum sex sex,
                 uint32_t *counter, pid_used_fn *used, void *ctx, char out[PID_LEN + 1],
                 struct pop_err *err) POP_MUST_USE;

const char *sex_name(enum sex s); /* "male", "female", "unknown" */
int sex_parse(const char *s, enum sex *out, struct pop_err *err) POP_MUST_USE; /* male|female|m|f */

#endif
