/*
 * Calendar dates, whole and partial: strict parsing and formatting of "YYYY", "YYYY-MM" and
 * "YYYY-MM-DD", day numbers since 1970-01-01, and the questions the registry asks of dates that
 * may be known only in part (the range of days they stand for, comparison, ages). Everything
 * else that handles a date (persons, ID cards, the store) goes through here. See date.h.
 *
 * Day numbers use the proleptic Gregorian calendar and are computed in 64-bit arithmetic with
 * floored division, so they are exact for any year an int16_t holds, not only 1800..2399.
 */
#include "core/date.h"

#include <stdio.h>

/* Rule ids carried in struct pop_err (stable: the API returns them). */
#define RULE_SYNTAX     "date-syntax"
#define RULE_YEAR       "date-year-range"
#define RULE_MONTH      "date-month"
#define RULE_DAY        "date-day"
#define RULE_INCOMPLETE "date-incomplete"

/* Input is quoted in messages up to this many bytes, so a huge input cannot flood a message. */
#define QUOTE_MAX 24

static bool is_leap(int64_t y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
        static const int8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (m < 1 || m > 12)
                return 0;
        return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

bool date_valid(int y, int m, int d)
{
        return y >= DATE_MIN_YEAR && y <= DATE_MAX_YEAR && m >= 1 && m <= 12 && d >= 1 &&
               d <= days_in_month(y, m);
}

bool pdate_is_full(struct pdate p)
{
        return p.y != 0 && p.m != 0 && p.d != 0;
}

bool pdate_is_none(struct pdate p)
{
        return p.y == 0 && p.m == 0 && p.d == 0;
}

/* Writes s[0..len) into out as a quoted, printable string for a message; bytes outside printable
 * ASCII become '?', and input past QUOTE_MAX bytes is elided. */
static void quote(const char *s, size_t len, char out[QUOTE_MAX + 6])
{
        size_t n = 0;
        out[n++] = '"';
        for (size_t i = 0; i < len && i < QUOTE_MAX; i++) {
                unsigned char c = (unsigned char)s[i];
                out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        out[n++] = '"';
        if (len > QUOTE_MAX) {
                out[n++] = '.';
                out[n++] = '.';
                out[n++] = '.';
        }
        out[n] = '\0';
}

/* Describes one input byte for a message: 'x' when printable, else its hex value. */
static void describe_byte(unsigned char c, char out[8])
{
        if (c >= 0x20 && c < 0x7f)
                snprintf(out, 8, "'%c'", c);
        else
                snprintf(out, 8, "0x%02x", c);
}

static int digits(const char *s, size_t n)
{
        int v = 0;
        for (size_t i = 0; i < n; i++)
                v = v * 10 + (s[i] - '0');
        return v;
}

int pdate_parse(const char *s, size_t len, struct pdate *out, struct pop_err *err)
{
        /* The only shapes accepted; positions 4 and 7 hold '-', all others a digit. */
        static const char shape[] = "DDDD-DD-DD";
        char q[QUOTE_MAX + 6];

        *out = (struct pdate){0};
        if (len == 0)
                return pop_fail(err, POP_EINVAL, RULE_SYNTAX,
                                "empty date: expected YYYY, YYYY-MM or YYYY-MM-DD");
        quote(s, len, q);
        for (size_t i = 0; i < len && i < sizeof shape - 1; i++) {
                unsigned char c = (unsigned char)s[i];
                bool want_dash = shape[i] == '-';
                if (want_dash ? c != '-' : !(c >= '0' && c <= '9')) {
                        char found[8];
                        describe_byte(c, found);
                        return pop_fail(err, POP_EINVAL, RULE_SYNTAX,
                                        "date %s: expected %s at position %zu, found %s", q,
                                        want_dash ? "'-'" : "a digit", i + 1, found);
                }
        }
        if (len > sizeof shape - 1)
                return pop_fail(err, POP_EINVAL, RULE_SYNTAX,
                                "date %s: unexpected characters after the day, from position 11",
                                q);
        if (len < 4)
                return pop_fail(err, POP_EINVAL, RULE_SYNTAX,
                                "date %s: the year must have 4 digits", q);
        if (len == 5 || len == 6)
                return pop_fail(err, POP_EINVAL, RULE_SYNTAX,
                                "date %s: the month must have 2 digits", q);
        if (len == 8 || len == 9)
                return pop_fail(err, POP_EINVAL, RULE_SYNTAX, "date %s: the day must have 2 digits",
                                q);

        /* len is now 4, 7 or 10 and every byte has the right kind. */
        int y = digits(s, 4);
        int m = len >= 7 ? digits(s + 5, 2) : 0;
        int d = len == 10 ? digits(s + 8, 2) : 0;
        if (y < DATE_MIN_YEAR || y > DATE_MAX_YEAR)
                return pop_fail(err, POP_EINVAL, RULE_YEAR,
                                "date %s: year %04d is outside the supported years %d..%d", q, y,
                                DATE_MIN_YEAR, DATE_MAX_YEAR);
        if (len == 10 && m == 0)
                return pop_fail(
                    err, POP_EINVAL, RULE_MONTH,
                    "date %s: a day without a month (month 00); write YYYY when only the "
                    "year is known",
                    q);
        if (len >= 7 && (m < 1 || m > 12))
                return pop_fail(err, POP_EINVAL, RULE_MONTH,
                                "date %s: month %02d does not exist (01..12)", q, m);
        if (len == 10 && (d < 1 || d > days_in_month(y, m)))
                return pop_fail(err, POP_EINVAL, RULE_DAY, "day %02d does not exist in %04d-%02d",
                                d, y, m);

        out->y = (int16_t)y;
        out->m = (int8_t)m;
        out->d = (int8_t)d;
        return POP_OK;
}

int pdate_parse_full(const char *s, size_t len, struct pdate *out, struct pop_err *err)
{
        int rc = pdate_parse(s, len, out, err);
        if (rc != POP_OK)
                return rc;
        if (!pdate_is_full(*out)) {
                char q[QUOTE_MAX + 6];
                quote(s, len, q);
                *out = (struct pdate){0};
                return pop_fail(err, POP_EINVAL, RULE_INCOMPLETE,
                                "date %s is incomplete: a full date YYYY-MM-DD is required", q);
        }
        return POP_OK;
}

/* Writes n as exactly `width` decimal digits (n is reduced modulo 10^width; callers pass values
 * in range). */
static char *put_digits(char *p, int n, int width)
{
        if (n < 0)
                n = -n;
        for (int i = width - 1; i >= 0; i--) {
                p[i] = (char)('0' + n % 10);
                n /= 10;
        }
        return p + width;
}

void pdate_format(struct pdate p, char out[11])
{
        char *w = out;
        if (!pdate_is_none(p)) {
                w = put_digits(w, p.y, 4);
                if (p.m != 0) {
                        *w++ = '-';
                        w = put_digits(w, p.m, 2);
                        if (p.d != 0) {
                                *w++ = '-';
                                w = put_digits(w, p.d, 2);
                        }
                }
        }
        *w = '\0';
}

/* Floored division: the calendar arithmetic below must round towards minus infinity. */
static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/*
 * Gregorian days-from-civil. Years are counted from 1 March, so the leap day is the last day of a
 * counted year and the month lengths from March on follow a regular 153-days-per-5-months pattern;
 * the 400-year cycle has exactly 146097 days. Day 0 of that count is 0000-03-01, which lies 719468
 * days before 1970-01-01.
 */
#define DAYS_PER_400Y 146097
#define EPOCH_SHIFT   719468 /* days from 0000-03-01 to 1970-01-01 */

static int64_t days_from_civil(int64_t y, int m, int d)
{
        if (m <= 2)
                y -= 1;
        int64_t cycle = floor_div(y, 400);
        int64_t yoc = y - cycle * 400;                       /* year of cycle, 0..399 */
        int64_t mar = m > 2 ? m - 3 : m + 9;                 /* March = 0 .. February = 11 */
        int64_t doy = (153 * mar + 2) / 5 + d - 1;           /* day of counted year, 0..365 */
        int64_t doc = yoc * 365 + yoc / 4 - yoc / 100 + doy; /* day of cycle, 0..146096 */
        return cycle * DAYS_PER_400Y + doc - EPOCH_SHIFT;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
        z += EPOCH_SHIFT;
        int64_t cycle = floor_div(z, DAYS_PER_400Y);
        int64_t doc = z - cycle * DAYS_PER_400Y; /* 0..146096 */
        /* Remove the leap days before doc (one per 4 years, less per 100, more per 400; the last
         * day of the cycle is the extra one) to find the year of the cycle. */
        int64_t yoc = (doc - doc / 1460 + doc / 36524 - doc / (DAYS_PER_400Y - 1)) / 365;
        int64_t doy = doc - (yoc * 365 + yoc / 4 - yoc / 100);
        int64_t mar = (5 * doy + 2) / 153;
        *d = (int)(doy - (153 * mar + 2) / 5 + 1);
        *m = (int)(mar < 10 ? mar + 3 : mar - 9);
        *y = yoc + cycle * 400 + (*m <= 2 ? 1 : 0);
}

/* A partial date counts as its earliest day here, so the function stays total. */
int32_t date_to_days(struct pdate p)
{
        return (int32_t)days_from_civil(p.y, p.m ? p.m : 1, p.d ? p.d : 1);
}

/* Days outside years 1..INT16_MAX (what struct pdate holds; y == 0 means "no date") give the
 * none value. */
static struct pdate from_days64(int64_t days)
{
        int64_t y;
        int m, d;
        civil_from_days(days, &y, &m, &d);
        if (y < 1 || y > INT16_MAX)
                return (struct pdate){0};
        return (struct pdate){.y = (int16_t)y, .m = (int8_t)m, .d = (int8_t)d};
}

struct pdate date_from_days(int32_t days)
{
        return from_days64(days);
}

struct pdate pdate_earliest(struct pdate p)
{
        if (pdate_is_none(p))
                return p;
        if (p.m == 0)
                return (struct pdate){.y = p.y, .m = 1, .d = 1};
        if (p.d == 0)
                return (struct pdate){.y = p.y, .m = p.m, .d = 1};
        return p;
}

struct pdate pdate_latest(struct pdate p)
{
        if (pdate_is_none(p))
                return p;
        if (p.m == 0)
                return (struct pdate){.y = p.y, .m = 12, .d = 31};
        if (p.d == 0)
                return (struct pdate){.y = p.y, .m = p.m, .d = (int8_t)days_in_month(p.y, p.m)};
        return p;
}

/* The none value is unknown, so it may be any day: it compares 0 with everything. */
int pdate_cmp(struct pdate a, struct pdate b)
{
        if (pdate_is_none(a) || pdate_is_none(b))
                return 0;
        if (date_to_days(pdate_latest(a)) < date_to_days(pdate_earliest(b)))
                return -1;
        if (date_to_days(pdate_earliest(a)) > date_to_days(pdate_latest(b)))
                return 1;
        return 0;
}

/*
 * A person born on 29 February completes a year of age on 1 March in a common year: on 28
 * February the year since the last birthday is not yet complete. This is popid's convention (see
 * date.h), chosen so that an age is never reached early; no statute we know of settles the case.
 */
struct pdate date_add_years(struct pdate full, int n)
{
        struct pdate r = full;
        int y = full.y + n;
        r.y = (int16_t)y;
        if (full.m == 2 && full.d == 29 && !is_leap(y)) {
                r.m = 3;
                r.d = 1;
        }
        return r;
}

struct pdate date_add_days(struct pdate full, int32_t n)
{
        return from_days64(days_from_civil(full.y, full.m ? full.m : 1, full.d ? full.d : 1) + n);
}

struct pdate pdate_birthday_basis(struct pdate dob)
{
        return pdate_earliest(dob);
}

/*
 * The age goes up on the anniversary of the basis; comparing (month, day) puts a 29 February
 * birthday after 28 February and before 1 March, which agrees with date_add_years.
 */
int date_age_on(struct pdate dob, struct pdate on)
{
        struct pdate b = pdate_birthday_basis(dob);
        int age = on.y - b.y;
        if (on.m < b.m || (on.m == b.m && on.d < b.d))
                age--;
        return age;
}
