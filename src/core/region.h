/*
 * Administrative regions: the 63 provinces in force until 30 June 2025 (whose statistics-office
 * codes make the first three digits of personal ID numbers), the 34 provincial units in force from
 * 1 July 2025 (Resolution 202/2025/QH15) with the merge mapping, the country codes 101-295 used
 * as ID prefixes for births registered abroad, and 5-digit commune codes. The tables are generated
 * from the CSV files in data/ by scripts/gen-regions.sh into region_data.c. Pure and read-only.
 *
 * Province codes share one space: every 2025 unit kept the code of one of the provinces merged into
 * it, so a code names a legacy province, a current unit, or both (01 Hà Nội). An address recorded
 * with a legacy code resolves to the current unit that absorbed it.
 */
#ifndef POP_CORE_REGION_H
#define POP_CORE_REGION_H

#include <stdbool.h>

#include "core/date.h"
#include "core/err.h"

/* Resolution 202/2025/QH15: the 34 provincial units take effect on 1 July 2025. */
#define REGION_MERGER_YEAR  2025
#define REGION_MERGER_MONTH 7
#define REGION_MERGER_DAY   1

#define REGION_N_LEGACY 63
#define REGION_N_UNITS  34

/* Country codes used as ID prefixes for births registered abroad (Circular 07/2016). */
#define REGION_COUNTRY_MIN 101
#define REGION_COUNTRY_MAX 295

struct region_legacy {
        int code;               /* GSO code, 1..96 */
        const char *name;       /* NFC, with diacritics */
        const char *name_ascii; /* without */
        const char *kind;       /* "province" or "city" */
        int unit_code;          /* the 2025 unit it was merged into */
};

struct region_unit {
        int code;
        const char *name;
        const char *name_ascii;
        const char *kind;
        int n_merged;
        const int *merged_from; /* GSO codes of the legacy provinces it absorbed */
};

struct region_country {
        int code; /* 101..295 */
        const char *name;
};

/* The legacy province with this GSO code, or NULL. */
const struct region_legacy *region_legacy(int code);

/* The 2025 unit with this code, or NULL. */
const struct region_unit *region_unit(int code);

/* The 2025 unit that a legacy or current code belongs to today, or NULL for an unknown code. */
const struct region_unit *region_current_unit(int code);

/* The country with this code when the project knows its name, else NULL (even in range). */
const struct region_country *region_country(int code);

/* Tables, for listing. */
const struct region_legacy *region_legacy_at(int i); /* 0 <= i < REGION_N_LEGACY */
const struct region_unit *region_unit_at(int i);     /* 0 <= i < REGION_N_UNITS */

/*
 * Checks a province code for an address valid on `on` (full date): before 1 July 2025 it must be
 * a legacy province, from that day a current unit. A legacy-only code used after the merger is
 * refused with a message naming the unit that absorbed it.
 */
int region_check_province(int code, struct pdate on, struct pop_err *err) POP_MUST_USE;

/* Parses a province code "01".."99" (1 or 2 digits accepted) into *out; checks only syntax. */
int region_parse_province(const char *s, size_t len, int *out, struct pop_err *err) POP_MUST_USE;

/* Checks a commune code: exactly 5 ASCII digits (3,321 communes since 2025; no list shipped). */
int region_check_commune(const char *s, size_t len, struct pop_err *err) POP_MUST_USE;

#endif
