/*
 * Personal identification numbers: parsing and validation of the 12 digits PPP G YY RRRRRR,
 * formatting, a one-sentence explanation, and allocation of new numbers. See pid.h.
 *
 * Allocation walks a keyed permutation of the million suffixes of a series (prefix, G, YY): a
 * balanced Feistel network over the two 3-digit halves, with SipHash-2-4 (libsodium's
 * crypto_shorthash) keyed by the registry's secret as the round function. A Feistel network is a
 * bijection whatever its round function, so walking positions 0..999999 visits every suffix once,
 * and without the key the next number cannot be guessed from the previous ones.
 */
#include "core/pid.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

_Static_assert(PID_ALLOC_KEY_LEN == crypto_shorthash_KEYBYTES, "the key is a SipHash key");

/* Decree 137/2015 art. 13 and Circular 07/2016 appendix 1: legacy provinces are "0" + GSO code. */
#define PROVINCE_PREFIX_MAX 96

/* Birth years the G digit can encode: 1900-1999 (0/1) up to 2300-2399 (8/9). */
#define PID_YEAR_MIN 1900
#define PID_YEAR_MAX 2399

/* The Feistel network works on two halves in [0, HALF_SPAN). */
#define HALF_SPAN      1000u
#define FEISTEL_ROUNDS 8

/* Writes the 12 digits of a number whose parts are already checked to be in range. */
static void put_pid(char out[PID_LEN + 1], int prefix, int century_sex, int yy, uint32_t suffix)
{
        uint32_t parts[4] = {(uint32_t)prefix, (uint32_t)century_sex, (uint32_t)yy, suffix};
        static const int widths[4] = {3, 1, 2, 6};
        int at = PID_LEN;
        out[at] = '\0';
        for (int i = 3; i >= 0; i--)
                for (int w = 0; w < widths[i]; w++) {
                        out[--at] = (char)('0' + parts[i] % 10);
                        parts[i] /= 10;
                }
}

static bool prefix_valid(int prefix)
{
        if (prefix >= 1 && prefix <= PROVINCE_PREFIX_MAX)
                return region_legacy(prefix) != NULL;
        return prefix >= REGION_COUNTRY_MIN && prefix <= REGION_COUNTRY_MAX;
}

static int fail_prefix(struct pop_err *err, int prefix)
{
        /* Only the 63 GSO codes of the provinces in force until 30 June 2025 are province prefixes
         * (Circular 07/2016 appendix 1); numbers issued before the merger keep them for life. */
        if (prefix >= 0 && prefix < 100)
                return pop_fail(err, POP_EINVAL, "pid-prefix", "prefix %03d is not a province code",
                                prefix);
        return pop_fail(err, POP_EINVAL, "pid-prefix",
                        "prefix %03d is neither a province code (001-096) nor a country code "
                        "(%d-%d)",
                        prefix, REGION_COUNTRY_MIN, REGION_COUNTRY_MAX);
}

int pid_parse(const char *s, size_t len, struct pid_info *out, struct pop_err *err)
{
        memset(out, 0, sizeof *out);
        if (!s && len > 0)
                return pop_fail(err, POP_EINVAL, "pid-syntax", "no number given");
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c < '0' || c > '9') {
                        if (c >= 0x20 && c < 0x7f)
                                return pop_fail(err, POP_EINVAL, "pid-syntax",
                                                "character %zu ('%c') is not a digit", i + 1, c);
                        return pop_fail(err, POP_EINVAL, "pid-syntax",
                                        "character %zu (byte 0x%02x) is not a digit", i + 1, c);
                }
        }
        if (len != PID_LEN)
                return pop_fail(err, POP_EINVAL, "pid-length", "%zu digit%s, expected %d", len,
                                len == 1 ? "" : "s", PID_LEN);

        int d[PID_LEN];
        for (int i = 0; i < PID_LEN; i++)
                d[i] = s[i] - '0';
        int prefix = d[0] * 100 + d[1] * 10 + d[2];
        if (!prefix_valid(prefix))
                return fail_prefix(err, prefix);

        memcpy(out->pid, s, PID_LEN);
        out->pid[PID_LEN] = '\0';
        out->prefix = prefix;
        if (prefix <= PROVINCE_PREFIX_MAX) {
                out->gso = prefix;
                out->province = region_legacy(prefix);
        } else {
                out->country = prefix;
                out->country_info = region_country(prefix);
        }
        /* G: even for men, odd for women; each pair of digits a century from 1900 (Circular 07/2016
         * art. 7). Every digit 0..9 is valid, so the year is always within 1900..2399. */
        out->century_sex = d[3];
        out->birth_year = PID_YEAR_MIN + 100 * (d[3] / 2) + d[4] * 10 + d[5];
        out->sex = d[3] % 2 ? SEX_FEMALE : SEX_MALE;
        uint32_t suffix = 0;
        for (int i = 6; i < PID_LEN; i++)
                suffix = suffix * 10 + (uint32_t)d[i];
        out->suffix = suffix;
        return 0;
}

int pid_check_person(const struct pid_info *id, struct pdate dob, enum sex sex, struct pop_err *err)
{
        /* A partial date of birth still knows its year; the "no date" value (y == 0) does not. */
        if (dob.y != 0 && dob.y != id->birth_year)
                return pop_fail(err, POP_ERULE, "pid-birth-year",
                                "number %s encodes birth year %d, but the date of birth is in %d",
                                id->pid, id->birth_year, dob.y);
        if (sex != SEX_UNKNOWN && sex != id->sex)
                return pop_fail(err, POP_ERULE, "pid-sex",
                                "number %s encodes sex %s, but the person is %s", id->pid,
                                sex_name(id->sex), sex_name(sex));
        return 0;
}

int pid_century_sex(int birth_year, enum sex sex)
{
        if (birth_year < PID_YEAR_MIN || birth_year > PID_YEAR_MAX)
                return -1;
        if (sex != SEX_MALE && sex != SEX_FEMALE)
                return -1;
        return 2 * ((birth_year - PID_YEAR_MIN) / 100) + (sex == SEX_FEMALE);
}

int pid_format(int prefix, int birth_year, enum sex sex, uint32_t suffix, char out[PID_LEN + 1],
               struct pop_err *err)
{
        out[0] = '\0';
        if (!prefix_valid(prefix))
                return fail_prefix(err, prefix);
        int g = pid_century_sex(birth_year, sex);
        if (g < 0) {
                if (sex != SEX_MALE && sex != SEX_FEMALE)
                        return pop_fail(err, POP_EINVAL, "pid-sex",
                                        "a number needs the sex of its holder, got %s",
                                        sex_name(sex));
                return pop_fail(err, POP_EINVAL, "pid-birth-year",
                                "birth year %d cannot be encoded (%d-%d)", birth_year, PID_YEAR_MIN,
                                PID_YEAR_MAX);
        }
        if (suffix >= PID_SUFFIX_SPAN)
                return pop_fail(err, POP_EINVAL, "pid-suffix", "suffix %u has more than 6 digits",
                                (unsigned)suffix);
        put_pid(out, prefix, g, birth_year % 100, suffix);
        return 0;
}

int64_t pid_to_int(const char pid[PID_LEN])
{
        int64_t v = 0;
        for (int i = 0; i < PID_LEN; i++) {
                if (pid[i] < '0' || pid[i] > '9')
                        return -1;
                v = v * 10 + (pid[i] - '0');
        }
        return v;
}

void pid_from_int(int64_t v, char out[PID_LEN + 1])
{
        if (v < 0 || v > INT64_C(999999999999)) {
                out[0] = '\0';
                return;
        }
        for (int i = PID_LEN - 1; i >= 0; i--) {
                out[i] = (char)('0' + v % 10);
                v /= 10;
        }
        out[PID_LEN] = '\0';
}

/* Cuts a string truncated by snprintf back to the last whole UTF-8 character. */
static void trim_utf8_tail(char *s, size_t len)
{
        size_t i = len;
        while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
                i--;
        if (i == 0)
                return;
        unsigned char lead = (unsigned char)s[i - 1];
        size_t need = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if (len - (i - 1) < need)
                s[i - 1] = '\0';
}

void pid_explain(const struct pid_info *id, char *out, size_t cap)
{
        if (!out || cap == 0)
                return;
        const char *who = id->sex == SEX_FEMALE ? "Female"
                          : id->sex == SEX_MALE ? "Male"
                                                : "Person";
        int n;
        if (id->province)
                n = snprintf(
                    out, cap,
                    "%s born in %d, birth registered in %s (prefix %03d); random part %06u.", who,
                    id->birth_year, id->province->name, id->prefix, (unsigned)id->suffix);
        else if (id->country_info)
                n = snprintf(
                    out, cap,
                    "%s born in %d, birth registered abroad in %s (country code %03d); random "
                    "part %06u.",
                    who, id->birth_year, id->country_info->name, id->prefix, (unsigned)id->suffix);
        else
                n = snprintf(
                    out, cap,
                    "%s born in %d, birth registered abroad (country code %03d); random part "
                    "%06u.",
                    who, id->birth_year, id->prefix, (unsigned)id->suffix);
        if (n >= 0 && (size_t)n >= cap)
                trim_utf8_tail(out, cap - 1);
}

/* The Feistel round function: SipHash of (series, round, half), reduced to [0, HALF_SPAN). The
 * reduction of a 64-bit hash modulo 1000 has a bias below 1e-16, far below anything observable. */
static uint32_t feistel_round(const uint8_t key[PID_ALLOC_KEY_LEN], int prefix, int century_sex,
                              int yy, int round, uint32_t half)
{
        const uint8_t msg[8] = {
            'p',
            (uint8_t)(prefix & 0xff),
            (uint8_t)((prefix >> 8) & 0xff),
            (uint8_t)century_sex,
            (uint8_t)yy,
            (uint8_t)round,
            (uint8_t)(half & 0xff),
            (uint8_t)((half >> 8) & 0xff),
        };
        uint8_t h[crypto_shorthash_BYTES];
        crypto_shorthash(h, msg, sizeof msg, key);
        uint64_t v = 0;
        for (int i = crypto_shorthash_BYTES - 1; i >= 0; i--)
                v = v << 8 | h[i];
        return (uint32_t)(v % HALF_SPAN);
}

uint32_t pid_series_suffix(const uint8_t key[PID_ALLOC_KEY_LEN], int prefix, int century_sex,
                           int yy, uint32_t counter)
{
        counter %= PID_SUFFIX_SPAN;
        uint32_t left = counter / HALF_SPAN, right = counter % HALF_SPAN;
        for (int r = 0; r < FEISTEL_ROUNDS; r++) {
                uint32_t next =
                    (left + feistel_round(key, prefix, century_sex, yy, r, right)) % HALF_SPAN;
                left = right;
                right = next;
        }
        return left * HALF_SPAN + right;
}

int pid_allocate(const uint8_t key[PID_ALLOC_KEY_LEN], int prefix, int birth_year, enum sex sex,
                 uint32_t *counter, pid_used_fn *used, void *ctx, char out[PID_LEN + 1],
                 struct pop_err *err)
{
        out[0] = '\0';
        if (!key || !counter || !used)
                return pop_fail(err, POP_EINVAL, "pid-allocate",
                                "allocation needs a key, a counter and a callback");
        if (!prefix_valid(prefix))
                return fail_prefix(err, prefix);
        int g = pid_century_sex(birth_year, sex);
        if (g < 0)
                return pid_format(prefix, birth_year, sex, 0, out, err);
        int yy = birth_year % 100;

        while (*counter < PID_SUFFIX_SPAN) {
                char cand[PID_LEN + 1];
                uint32_t suffix = pid_series_suffix(key, prefix, g, yy, *counter);
                put_pid(cand, prefix, g, yy, suffix);
                int rc = used(ctx, cand);
                if (rc < 0)
                        /* The counter stays: the same position is tried again next time. */
                        return pop_fail(err, rc, "pid-allocate",
                                        "could not check whether %s is in use (%s)", cand,
                                        pop_strerror(rc));
                (*counter)++;
                if (rc == 0) {
                        memcpy(out, cand, sizeof cand);
                        return 0;
                }
        }
        return pop_fail(err, POP_EFULL, "pid-series-full",
                        "all %u numbers of series %03d %d %02d are used", PID_SUFFIX_SPAN, prefix,
                        g, yy);
}

const char *sex_name(enum sex s)
{
        switch (s) {
        case SEX_MALE:
                return "male";
        case SEX_FEMALE:
                return "female";
        case SEX_UNKNOWN:
                break;
        }
        return "unknown";
}

int sex_parse(const char *s, enum sex *out, struct pop_err *err)
{
        if (s && (strcasecmp(s, "male") == 0 || strcasecmp(s, "m") == 0)) {
                *out = SEX_MALE;
                return 0;
        }
        if (s && (strcasecmp(s, "female") == 0 || strcasecmp(s, "f") == 0)) {
                *out = SEX_FEMALE;
                return 0;
        }
        return pop_fail(err, POP_EINVAL, "sex-syntax", "sex must be male, female, m or f");
}
