/*
 * The text QR code printed on chip citizen-ID cards (thẻ Căn cước công dân gắn chip, Circular
 * 06/2021/TT-BCA; kept on the cards issued under the Law on Identity 2023). Scanning it gives
 * one line of UTF-8 text, the fields joined by '|':
 *
 *   ID number | old 9-digit ID (may be empty) | full name | date of birth | sex | permanent
 *   address | issue date
 *
 * with dates written ddmmyyyy. Readers in the field also meet a 6-field variant without the old
 * ID and dates written dd/mm/yyyy; both are accepted, anything else is refused with a message
 * naming the field and the problem. The parser checks what can be checked without the registry:
 * the ID number, its century-sex digit against the birth year and sex (pid.h), real calendar
 * dates, an issue date not before the birth, a name (name.h: NFC, letters only), a free-text
 * address. It does not read a clock, so an issue date in the future is the caller's check.
 * Pure; see docs/FORMATS.md "Chip card QR".
 */
#ifndef POP_CORE_CARDQR_H
#define POP_CORE_CARDQR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/date.h"
#include "core/err.h"
#include "core/name.h"
#include "core/pid.h"

/* Input cap: a version-40 QR code holds at most 2,953 bytes; card texts are ~150-250 bytes. */
#define CARDQR_MAX_BYTES  1024
#define CARDQR_OLD_ID_LEN 9 /* the 9-digit identity card number (CMND) it replaced */

struct cardqr {
        struct pid_info id;                 /* the 12-digit personal ID number, parsed */
        char old_id[CARDQR_OLD_ID_LEN + 1]; /* "" when the field is empty or absent */
        char full_name[NAME_MAX_BYTES + 1]; /* NFC, whitespace collapsed */
        struct pdate dob;                   /* full date */
        enum sex sex;                       /* male or female */
        char address[TEXT_MAX_BYTES];       /* NFC, whitespace collapsed */
        struct pdate issued;                /* full date */
        int n_fields;                       /* 7, or 6 for the variant without the old ID */
        bool slashed_dates;                 /* dates were written dd/mm/yyyy */
};

/*
 * Parses exactly len bytes of a card's QR text into *out (cleared first). Rule ids of refusals:
 * cardqr-too-big (over CARDQR_MAX_BYTES: POP_ETOOBIG), cardqr-utf8, cardqr-fields (not 6 or 7
 * fields), cardqr-pid, cardqr-old-id, cardqr-name, cardqr-date, cardqr-sex, cardqr-address,
 * cardqr-pid-mismatch (the century-sex digit or year disagrees with the date of birth or sex),
 * cardqr-issued-before-birth; all POP_EINVAL except the first. The message names the field
 * ("field 4 (date of birth): ...").
 *
 * The sex word is matched after NFC normalization and Unicode case folding, so "Nam", "NAM",
 * "Nữ" in NFC or NFD and "NỮ" are accepted; nothing else ("Nu", "Male", "F") is.
 */
int cardqr_parse(const char *s, size_t len, struct cardqr *out, struct pop_err *err) POP_MUST_USE;

#endif
