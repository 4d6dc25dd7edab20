/*
 * When a chip citizen-ID card (thẻ căn cước) expires, from its holder's date of birth and the day
 * it was issued. Pure rules, no storage: the registry calls this when it issues or renews a card
 * and when it shows one. See idcard.h.
 */
#include "core/idcard.h"

#include <stddef.h>

#define RULE_DOB    "idcard-dob"
#define RULE_ISSUED "idcard-issued"
#define RULE_BEFORE "idcard-before-birth"

/*
 * Law on Identity 2023 (26/2023/QH15) art. 21(1): the card is renewed on reaching 14, 25, 40 and
 * 60 years of age (also art. 24(1)(a)).
 */
static const int renewal_ages[] = {14, 25, 40, 60};

/*
 * Law on Identity 2023 art. 21(2): a card issued, renewed or re-issued within the 2 years before
 * a renewal age stays valid until the next renewal age.
 */
#define GRACE_YEARS 2

/* A partial date of birth is usable when what is known of it is a real calendar date. */
static bool dob_usable(struct pdate dob)
{
        if (dob.m == 0)
                return dob.d == 0 && date_valid(dob.y, 1, 1);
        if (dob.d == 0)
                return date_valid(dob.y, dob.m, 1);
        return date_valid(dob.y, dob.m, dob.d);
}

int idcard_expiry(struct pdate dob, struct pdate issued, struct pdate *expires, bool *never,
                  struct pop_err *err)
{
        char b_txt[11], i_txt[11];

        *expires = (struct pdate){0};
        *never = false;
        if (!dob_usable(dob))
                return pop_fail(err, POP_EINVAL, RULE_DOB,
                                "the date of birth is missing or not a real date");
        if (!pdate_is_full(issued) || !date_valid(issued.y, issued.m, issued.d))
                return pop_fail(err, POP_EINVAL, RULE_ISSUED,
                                "the issue date must be a full, real date");

        struct pdate b = pdate_birthday_basis(dob);
        int32_t issued_days = date_to_days(issued);
        if (issued_days < date_to_days(b)) {
                pdate_format(dob, b_txt);
                pdate_format(issued, i_txt);
                return pop_fail(err, POP_EINVAL, RULE_BEFORE,
                                "the card was issued on %s, before the birth (%s)", i_txt, b_txt);
        }

        for (size_t i = 0; i < sizeof renewal_ages / sizeof renewal_ages[0]; i++) {
                int age = renewal_ages[i];
                if (issued_days < date_to_days(date_add_years(b, age - GRACE_YEARS))) {
                        *expires = date_add_years(b, age);
                        return POP_OK;
                }
                /* Issued within the grace years before this age, or on or after it: the card lasts
                 * to a later age. */
        }
        /* Issued from 58 on: no renewal age is left, so the card has no expiry. */
        *never = true;
        return POP_OK;
}
