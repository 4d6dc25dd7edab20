/*
 * Fuzz target for the date parser (src/core/date.c). Any input may be refused, but never with a
 * crash or an empty message; an accepted input must format back to exactly its bytes, stand for a
 * non-empty range of real days, and its day numbers must round-trip. Run under libFuzzer with
 * POPID_FUZZ=ON, or as a corpus replayer (fuzz/replay.c) in every ctest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
        if (!ok)
                abort();
}

static void check_round_trip(struct pdate p)
{
        check(date_valid(p.y, p.m, p.d));
        struct pdate back = date_from_days(date_to_days(p));
        check(back.y == p.y && back.m == p.m && back.d == p.d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *s = (const char *)data;
        struct pdate p;
        struct pop_err err;
        pop_err_clear(&err);
        int rc = pdate_parse(s, size, &p, &err);
        if (rc != POP_OK) {
                check(rc == POP_EINVAL && err.code == POP_EINVAL);
                check(err.rule[0] != '\0' && err.msg[0] != '\0');
                check(memchr(err.msg, '\0', sizeof err.msg) != NULL);
                check(pdate_is_none(p));
                return 0;
        }

        char txt[11];
        pdate_format(p, txt);
        check(strlen(txt) == size && memcmp(txt, s, size) == 0);

        struct pdate lo = pdate_earliest(p), hi = pdate_latest(p);
        check_round_trip(lo);
        check_round_trip(hi);
        check(date_to_days(lo) <= date_to_days(hi));
        check(pdate_cmp(p, p) == 0 && pdate_cmp(lo, p) == 0 && pdate_cmp(hi, p) == 0);
        check(pdate_cmp(date_add_days(lo, -1), p) == -1 && pdate_cmp(date_add_days(hi, 1), p) == 1);
        check(pdate_birthday_basis(p).y == lo.y && date_age_on(p, lo) == 0);

        struct pdate full;
        rc = pdate_parse_full(s, size, &full, NULL);
        check(pdate_is_full(p) ? rc == POP_OK && memcmp(&full, &p, sizeof p) == 0
                               : rc == POP_EINVAL && pdate_is_none(full));
        return 0;
}
