/*
 * The chip citizen-ID card's QR text: split, check each field, check the fields against each
 * other. See cardqr.h for the format and the rules; docs/FORMATS.md "Chip card QR".
 */
#include "core/cardqr.h"

#include <string.h>

#define CARDQR_MAX_FIELDS 7

/* What each field is, for messages, in the 7-field layout (Circular 06/2021/TT-BCA). */
enum { F_PID, F_OLD_ID, F_NAME, F_DOB, F_SEX, F_ADDRESS, F_ISSUED };
static const char *const field_names[CARDQR_MAX_FIELDS] = {
    "ID number", "old ID number",     "full name", "date of birth",
    "sex",       "permanent address", "issue date"};

struct field {
        const char *s;
        size_t len;
        int pos; /* 1-based position in the input, for messages */
};

/* Prefixes a sub-parser's message with the field it came from, keeping the sub-parser's code. */
static int field_fail(struct pop_err *err, int code, const char *rule, const struct field *f,
                      int what, const struct pop_err *sub)
{
        return pop_fail(err, code, rule, "field %d (%s): %s", f->pos, field_names[what],
                        sub->msg[0] ? sub->msg : "invalid");
}

static int digits(const char *s, size_t n, int *out)
{
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        *out = v;
        return 0;
}

/* ddmmyyyy or dd/mm/yyyy, a real calendar day (date.h). */
static int parse_date(const struct field *f, int what, struct pdate *out, bool *slashed,
                      struct pop_err *err)
{
        int d = 0, m = 0, y = 0;
        const char *s = f->s;
        bool ok;
        if (f->len == 8) {
                ok = !digits(s, 2, &d) && !digits(s + 2, 2, &m) && !digits(s + 4, 4, &y);
        } else if (f->len == 10 && s[2] == '/' && s[5] == '/') {
                ok = !digits(s, 2, &d) && !digits(s + 3, 2, &m) && !digits(s + 6, 4, &y);
                *slashed = true;
        } else {
                ok = false;
        }
        if (!ok) {
                if (f->len <= 16)
                        return pop_fail(err, POP_EINVAL, "cardqr-date",
                                        "field %d (%s): '%.*s' is not a date written ddmmyyyy "
                                        "or dd/mm/yyyy",
                                        f->pos, field_names[what], (int)f->len, s);
                return pop_fail(err, POP_EINVAL, "cardqr-date",
                                "field %d (%s): %zu bytes is not a date written ddmmyyyy or "
                                "dd/mm/yyyy",
                                f->pos, field_names[what], f->len);
        }
        if (!date_valid(y, m, d))
                return pop_fail(err, POP_EINVAL, "cardqr-date",
                                "field %d (%s): %02d/%02d/%04d is not a calendar day in %d-%d",
                                f->pos, field_names[what], d, m, y, DATE_MIN_YEAR, DATE_MAX_YEAR);
        *out = (struct pdate){(int16_t)y, (int8_t)m, (int8_t)d};
        return 0;
}

/* "Nam" (male) or "Nữ" (female), compared on the NFC case-folded form so NFD and upper case
 * input match too. */
static int parse_sex(const struct field *f, enum sex *out, struct pop_err *err)
{
        char folded[32];
        struct pop_err sub = {0};
        if (f->len < sizeof folded && name_fold(f->s, f->len, folded, sizeof folded, &sub) == 0) {
                if (!strcmp(folded, "nam")) {
                        *out = SEX_MALE;
                        return 0;
                }
                if (!strcmp(folded, "n\xe1\xbb\xaf")) { /* "nữ", U+1EEF */
                        *out = SEX_FEMALE;
                        return 0;
                }
        }
        if (f->len <= 16)
                return pop_fail(err, POP_EINVAL, "cardqr-sex",
                                "field %d (sex): '%.*s' is neither Nam nor Nữ", f->pos, (int)f->len,
                                f->s);
        return pop_fail(err, POP_EINVAL, "cardqr-sex",
                        "field %d (sex): %zu bytes is neither Nam nor Nữ", f->pos, f->len);
}

int cardqr_parse(const char *s, size_t len, struct cardqr *out, struct pop_err *err)
{
        memset(out, 0, sizeof *out);
        if (len > CARDQR_MAX_BYTES)
                return pop_fail(err, POP_ETOOBIG, "cardqr-too-big",
                                "%zu bytes, over the %d-byte cap of a card QR text", len,
                                CARDQR_MAX_BYTES);
        struct pop_err sub = {0};
        if (utf8_check(s, len, &sub) != 0)
                return pop_fail(err, POP_EINVAL, "cardqr-utf8", "%s", sub.msg);

        /* Split on '|'. */
        struct field in[CARDQR_MAX_FIELDS];
        int n = 0;
        size_t start = 0;
        for (size_t i = 0; i <= len; i++) {
                if (i < len && s[i] != '|')
                        continue;
                if (n == CARDQR_MAX_FIELDS) {
                        n++;
                        break;
                }
                in[n] = (struct field){s + start, i - start, n + 1};
                n++;
                start = i + 1;
        }
        if (n != 6 && n != 7) {
                if (n > CARDQR_MAX_FIELDS)
                        return pop_fail(err, POP_EINVAL, "cardqr-fields",
                                        "more than 7 fields separated by '|', expected 7 (or 6 "
                                        "without the old ID)");
                return pop_fail(err, POP_EINVAL, "cardqr-fields",
                                "%d field%s separated by '|', expected 7 (or 6 without the old ID)",
                                n, n == 1 ? "" : "s");
        }
        /* Map the input onto the 7-field layout; the 6-field variant has no old ID. */
        const struct field none = {"", 0, 0};
        const struct field *f[CARDQR_MAX_FIELDS];
        f[F_PID] = &in[0];
        f[F_OLD_ID] = n == 7 ? &in[1] : &none;
        for (int k = F_NAME; k < CARDQR_MAX_FIELDS; k++)
                f[k] = &in[k - (n == 7 ? 0 : 1)];
        out->n_fields = n;

        int rc;
        if ((rc = pid_parse(f[F_PID]->s, f[F_PID]->len, &out->id, &sub)))
                goto bad_pid;
        if (f[F_OLD_ID]->len) {
                int ignored;
                if (f[F_OLD_ID]->len != CARDQR_OLD_ID_LEN ||
                    digits(f[F_OLD_ID]->s, f[F_OLD_ID]->len, &ignored)) {
                        rc = pop_fail(err, POP_EINVAL, "cardqr-old-id",
                                      "field 2 (old ID number): expected %d digits or nothing, "
                                      "got %zu bytes",
                                      CARDQR_OLD_ID_LEN, f[F_OLD_ID]->len);
                        goto fail;
                }
                memcpy(out->old_id, f[F_OLD_ID]->s, CARDQR_OLD_ID_LEN);
        }
        if ((rc = name_normalize(f[F_NAME]->s, f[F_NAME]->len, out->full_name,
                                 sizeof out->full_name, &sub))) {
                rc = field_fail(err, POP_EINVAL, "cardqr-name", f[F_NAME], F_NAME, &sub);
                goto fail;
        }
        if ((rc = parse_date(f[F_DOB], F_DOB, &out->dob, &out->slashed_dates, err)) ||
            (rc = parse_sex(f[F_SEX], &out->sex, err)))
                goto fail;
        if ((rc = text_normalize(f[F_ADDRESS]->s, f[F_ADDRESS]->len, out->address,
                                 sizeof out->address, &sub))) {
                rc = field_fail(err, POP_EINVAL, "cardqr-address", f[F_ADDRESS], F_ADDRESS, &sub);
                goto fail;
        }
        if ((rc = parse_date(f[F_ISSUED], F_ISSUED, &out->issued, &out->slashed_dates, err)))
                goto fail;
        /* Decree 137/2015 art. 13 (kept by the Law on Identity 2023): the ID number encodes the
         * century and sex in its 4th digit and the birth year's last two digits after it. */
        if ((rc = pid_check_person(&out->id, out->dob, out->sex, &sub))) {
                rc = field_fail(err, POP_EINVAL, "cardqr-pid-mismatch", f[F_PID], F_PID, &sub);
                goto fail;
        }
        /* A card is issued to a living person: not before the birth (Law on Identity 2023
         * art. 19 lets it be issued from birth). */
        if (date_to_days(out->issued) < date_to_days(out->dob)) {
                rc = pop_fail(err, POP_EINVAL, "cardqr-issued-before-birth",
                              "field %d (issue date): %02d/%02d/%04d is before the date of birth",
                              f[F_ISSUED]->pos, out->issued.d, out->issued.m, out->issued.y);
                goto fail;
        }
        return 0;
bad_pid:
        rc = field_fail(err, POP_EINVAL, "cardqr-pid", f[F_PID], F_PID, &sub);
fail:
        memset(out, 0, sizeof *out);
        return rc;
}
