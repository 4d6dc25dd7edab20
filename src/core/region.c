/*
 * Administrative regions: lookups over the province tables that scripts/gen-regions.sh generates
 * into region_data.c (which also defines region_legacy_at and region_unit_at), the date rule for
 * province codes around the 1 July 2025 merger, and the syntax of province and commune codes.
 * See region.h. The tables are tiny (63 and 34 rows), so lookups are linear scans.
 */
#include "core/region.h"

#include <pthread.h>
#include <stddef.h>

/* The legacy provinces by code, built once: pid_parse looks a prefix up for every ID parsed (a
 * batch verification parses millions), where a scan of the 63 rows was 2 % of the work. */
#define LEGACY_CODE_MAX 127
static const struct region_legacy *legacy_by_code[LEGACY_CODE_MAX + 1];
static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;

static void legacy_index(void)
{
        for (int i = 0; i < REGION_N_LEGACY; i++) {
                const struct region_legacy *l = region_legacy_at(i);
                if (l->code >= 0 && l->code <= LEGACY_CODE_MAX && !legacy_by_code[l->code])
                        legacy_by_code[l->code] = l;
        }
}

const struct region_legacy *region_legacy(int code)
{
        if (code < 0 || code > LEGACY_CODE_MAX)
                return NULL; /* GSO codes are 1..96 */
        pthread_once(&legacy_once, legacy_index);
        return legacy_by_code[code];
}

const struct region_unit *region_unit(int code)
{
        for (int i = 0; i < REGION_N_UNITS; i++) {
                const struct region_unit *u = region_unit_at(i);
                if (u->code == code)
                        return u;
        }
        return NULL;
}

const struct region_unit *region_current_unit(int code)
{
        const struct region_legacy *l = region_legacy(code);
        /* gen-regions.sh checks that every legacy province is merged into exactly one unit and that
         * every unit keeps the code of a province it absorbed, so both paths agree for shared
         * codes. */
        return l ? region_unit(l->unit_code) : region_unit(code);
}

/*
 * Country codes 101-295 name the country where a birth abroad was registered (Decree 137/2015
 * art. 13; Circular 07/2016/TT-BCA art. 7 and appendix 2, kept by Circular 59/2021/TT-BCA). The
 * project could not confirm the code-to-country list against the text of the appendix, so it
 * ships no names: the range check alone validates such a prefix, and this returns NULL for every
 * code. When the official appendix is at hand, add its rows here as a sorted table, citing it.
 */
const struct region_country *region_country(int code)
{
        (void)code;
        return NULL;
}

/* Compares a full date with the day the 34 units took effect: <0 before, >=0 on or after. */
static int cmp_merger(struct pdate on)
{
        if (on.y != REGION_MERGER_YEAR)
                return on.y < REGION_MERGER_YEAR ? -1 : 1;
        if (on.m != REGION_MERGER_MONTH)
                return on.m < REGION_MERGER_MONTH ? -1 : 1;
        return on.d < REGION_MERGER_DAY ? -1 : on.d > REGION_MERGER_DAY;
}

int region_check_province(int code, struct pdate on, struct pop_err *err)
{
        if (on.y <= 0 || on.m < 1 || on.m > 12 || on.d < 1 || on.d > 31)
                return pop_fail(err, POP_EINVAL, "region-date",
                                "checking province %02d needs a full date (year, month and day)",
                                code);

        /* Resolution 202/2025/QH15: the 63 provinces are replaced by 34 units on 1 July 2025. */
        if (cmp_merger(on) < 0) {
                if (!region_legacy(code))
                        return pop_fail(err, POP_EINVAL, "region-province",
                                        "%02d is not a province code in force before 1 July 2025",
                                        code);
                return 0;
        }
        if (region_unit(code))
                return 0;
        const struct region_legacy *l = region_legacy(code);
        if (l) {
                const struct region_unit *u = region_unit(l->unit_code);
                return pop_fail(err, POP_ERULE, "region-province-merged",
                                "province %02d (%s) was merged into %02d (%s) on 1 July 2025", code,
                                l->name, l->unit_code, u ? u->name : "?");
        }
        return pop_fail(err, POP_EINVAL, "region-province",
                        "%02d is not a province code in force from 1 July 2025", code);
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

int region_parse_province(const char *s, size_t len, int *out, struct pop_err *err)
{
        if (!s || len < 1 || len > 2)
                return pop_fail(err, POP_EINVAL, "region-province-syntax",
                                "a province code has 1 or 2 digits, got %zu characters",
                                s ? len : 0);
        int v = 0;
        for (size_t i = 0; i < len; i++) {
                if (!is_digit(s[i]))
                        return pop_fail(err, POP_EINVAL, "region-province-syntax",
                                        "a province code has only digits");
                v = v * 10 + (s[i] - '0');
        }
        if (v == 0)
                return pop_fail(err, POP_EINVAL, "region-province-syntax",
                                "province code 0 does not exist (codes run 01..99)");
        *out = v;
        return 0;
}

/* Communes carry 5-digit codes in the statistics-office list of administrative units (3,321
 * communes since 1 July 2025, when districts were abolished). No list is shipped: syntax only. */
#define COMMUNE_LEN 5

int region_check_commune(const char *s, size_t len, struct pop_err *err)
{
        if (!s || len != COMMUNE_LEN)
                return pop_fail(err, POP_EINVAL, "region-commune-syntax",
                                "a commune code has %d digits, got %zu characters", COMMUNE_LEN,
                                s ? len : 0);
        for (size_t i = 0; i < len; i++)
                if (!is_digit(s[i]))
                        return pop_fail(err, POP_EINVAL, "region-commune-syntax",
                                        "a commune code has only digits");
        return 0;
}
