/*
 * Calendar dates, whole and partial. Real civil records hold dates of birth with only a year, or
 * a year and a month; `struct pdate` keeps what is known (m == 0: month unknown, d == 0: day
 * unknown) and the functions here answer questions that stay honest about the unknown part.
 * Proleptic Gregorian calendar; years 1800..2399 (the personal ID number encodes 1900..2399, and
 * legacy records of the oldest living people reach back before 1900). Pure: no clock is read, the
 * caller passes "today".
 */
#ifndef POP_CORE_DATE_H
#define POP_CORE_DATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

#define DATE_MIN_YEAR 1800
#define DATE_MAX_YEAR 2399

struct pdate {
        int16_t y; /* 0 only in the "no date" value */
        int8_t m;  /* 1..12, or 0 when unknown */
        int8_t d;  /* 1..31, or 0 when unknown (then m may be known or not) */
};

/* True when y/m/d is a real calendar day within the supported years. */
bool date_valid(int y, int m, int d);

/* True for a date with day, month and year all known. */
bool pdate_is_full(struct pdate p);

/* True for the all-zero "no date" value. */
bool pdate_is_none(struct pdate p);

/*
 * Parses "YYYY", "YYYY-MM" or "YYYY-MM-DD" (exactly; no spaces, no other separators) of exactly
 * len bytes. Rejects impossible days (2023-02-29), years outside the supported range, and a day
 * without a month. The message names the problem.
 */
int pdate_parse(const char *s, size_t len, struct pdate *out, struct pop_err *err) POP_MUST_USE;

/* As pdate_parse, but only a full date is accepted. */
int pdate_parse_full(const char *s, size_t len, struct pdate *out,
                     struct pop_err *err) POP_MUST_USE;

/* Writes "YYYY", "YYYY-MM" or "YYYY-MM-DD" (NUL-terminated) into out; "" for the none value. */
void pdate_format(struct pdate p, char out[11]);

/* Days since 1970-01-01 of a full date, and back. */
int32_t date_to_days(struct pdate p);
struct pdate date_from_days(int32_t days);

/* The first and last calendar day a partial date may stand for (identity for a full date). */
struct pdate pdate_earliest(struct pdate p);
struct pdate pdate_latest(struct pdate p);

/*
 * Compares two possibly partial dates: -1 when a is certainly before b (a's latest day is before
 * b's earliest), +1 when certainly after, 0 when they may be the same day (overlapping ranges).
 */
int pdate_cmp(struct pdate a, struct pdate b);

/*
 * The day someone born on `full` turns n years old: the same month and day n years later; a
 * 29 February birthday falls on 1 March in common years (the person has not yet completed the
 * year on 28 February).
 */
struct pdate date_add_years(struct pdate full, int n);

/* Adds (or subtracts) days to a full date. */
struct pdate date_add_days(struct pdate full, int32_t n);

/*
 * The anniversary date used for rules on ages when the date of birth is partial: the earliest day
 * it may stand for (1 January for a year-only date, the 1st for year and month). Using the earliest
 * day means a rule on age never treats someone as younger than they might be.
 */
struct pdate pdate_birthday_basis(struct pdate dob);

/* Whole years of age on `on` (full) for a date of birth (partial allowed, via the basis above);
 * negative when `on` is before the birth. */
int date_age_on(struct pdate dob, struct pdate on);

#endif
