/*
 * Fuzz target for the chip card QR parser (src/core/cardqr.c). Any input must be parsed or
 * refused with a message, never crash. A refusal leaves the record zeroed and names a rule; an
 * accepted text holds a full date of birth not after the issue date, a sex, an ID number that
 * agrees with both, and written back in the canonical 7-field form (ddmmyyyy) parses to the same
 * record. A broken invariant aborts, so libFuzzer (or the corpus replayer) reports it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cardqr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cardqr c, again;
        struct pop_err err;
        pop_err_clear(&err);
        int rc = cardqr_parse((const char *)data, size, &c, &err);
        if (rc != 0) {
                static const struct cardqr zero;
                if ((rc != POP_EINVAL && rc != POP_ETOOBIG) || err.code != rc ||
                    err.msg[0] == '\0' || strncmp(err.rule, "cardqr-", 7) != 0 ||
                    memchr(err.msg, '\0', sizeof err.msg) == NULL ||
                    memcmp(&c, &zero, sizeof c) != 0)
                        abort();
                return 0;
        }
        if (size > CARDQR_MAX_BYTES || (c.n_fields != 6 && c.n_fields != 7) ||
            !pdate_is_full(c.dob) || !pdate_is_full(c.issued) ||
            date_to_days(c.issued) < date_to_days(c.dob) ||
            (c.sex != SEX_MALE && c.sex != SEX_FEMALE) || strlen(c.id.pid) != PID_LEN ||
            c.id.birth_year != c.dob.y || c.id.sex != c.sex ||
            (c.old_id[0] && strlen(c.old_id) != CARDQR_OLD_ID_LEN) || !c.full_name[0] ||
            !c.address[0])
                abort();

        char text[CARDQR_MAX_BYTES * 2];
        int n = snprintf(text, sizeof text, "%s|%s|%s|%02d%02d%04d|%s|%s|%02d%02d%04d", c.id.pid,
                         c.old_id, c.full_name, c.dob.d, c.dob.m, c.dob.y,
                         c.sex == SEX_MALE ? "Nam" : "N\xe1\xbb\xaf", c.address, c.issued.d,
                         c.issued.m, c.issued.y);
        if (n < 0 || (size_t)n >= sizeof text)
                abort();
        /* Normalization can only shorten or keep the text, so the canonical form fits the cap. */
        if (cardqr_parse(text, (size_t)n, &again, &err) != 0)
                abort();
        c.n_fields = 7;
        c.slashed_dates = false;
        if (memcmp(&c, &again, sizeof c) != 0)
                abort();
        return 0;
}
