/*
 * Rules of the chip citizen-ID card (thẻ căn cước) that need no storage: when a card expires.
 *
 * Law on Identity 2023 (26/2023/QH15) art. 21: a card must be renewed when its holder reaches
 * 14, 25, 40 and 60 years of age; a card issued or renewed within the 2 years before one of those
 * ages stays valid until the next one; a card issued from 60 has no expiry. A card issued before
 * 14 therefore expires at 14 (or at 25 when issued from 12).
 */
#ifndef POP_CORE_IDCARD_H
#define POP_CORE_IDCARD_H

#include <stdbool.h>

#include "core/date.h"
#include "core/err.h"

/*
 * Computes the expiry of a card issued on `issued` (full date) to someone born `dob` (partial
 * allowed: see pdate_birthday_basis). Sets *expires to the day the card stops being valid (the
 * birthday of the renewal age) and *never to false, or *never to true when it has no expiry.
 * POP_EINVAL when issued is before the birth.
 */
int idcard_expiry(struct pdate dob, struct pdate issued, struct pdate *expires, bool *never,
                  struct pop_err *err) POP_MUST_USE;

#endif
