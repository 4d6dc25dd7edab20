/*
 * Attribute matching for verification (see match.h for the rules, docs/AUTH.md for why).
 * Names reuse the registry's own forms (name_fold, name_key), so a claim is compared exactly as
 * the registry stored the name; addresses, which hold digits and punctuation a name may not, get
 * the same folding here through utf8proc directly. The similarity measure works on code points,
 * not bytes, so a Vietnamese letter counts once whatever its encoded length.
 */
#include "core/match.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/name.h"

#define WORD_CP_MAX NAME_MAX_BYTES /* code points of one word at most */

int match_mode_parse(const char *s, size_t len, enum match_mode *out, struct pop_err *err)
{
        if (len == 5 && !memcmp(s, "exact", 5)) {
                *out = MATCH_EXACT;
                return 0;
        }
        if (len == 7 && !memcmp(s, "partial", 7)) {
                *out = MATCH_PARTIAL;
                return 0;
        }
        return pop_fail(err, POP_EINVAL, "match-invalid", "match must be \"exact\" or \"partial\"");
}

const char *match_mode_name(enum match_mode m)
{
        return m == MATCH_PARTIAL ? "partial" : "exact";
}

const char *match_how_name(enum match_how h)
{
        static const char *const names[] = {"none", "same", "key", "similar", "within", "words"};
        return (unsigned)h < sizeof names / sizeof names[0] ? names[h] : "none";
}

/* ---- similarity ---- */

/* Decodes one word (up to a space or the end) into cp; returns the bytes consumed. */
static size_t word_cps(const char *s, int32_t *cp, size_t *n)
{
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
        size_t i = 0;
        *n = 0;
        while (p[i] && p[i] != ' ') {
                utf8proc_int32_t c;
                utf8proc_ssize_t k = utf8proc_iterate(p + i, -1, &c);
                if (k <= 0) {
                        c = 0xFFFD;
                        k = 1;
                }
                if (*n < WORD_CP_MAX)
                        cp[(*n)++] = c;
                i += (size_t)k;
        }
        return i;
}

/*
 * Jaro-Winkler similarity in thousandths (W. E. Winkler, "String Comparator Metrics and
 * Enhanced Decision Rules in the Fellegi-Sunter Model of Record Linkage", 1990): Jaro's matches
 * within half the longer length, transpositions halved, then a bonus of 0.1 per common prefix
 * code point, up to 4.
 */
static int jaro_winkler(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
        if (na == 0 && nb == 0)
                return MATCH_SCORE_MAX;
        if (na == 0 || nb == 0)
                return 0;
        size_t win = (na > nb ? na : nb) / 2;
        win = win ? win - 1 : 0;
        bool ma[WORD_CP_MAX] = {0}, mb[WORD_CP_MAX] = {0};
        size_t m = 0;
        for (size_t i = 0; i < na; i++) {
                size_t lo = i > win ? i - win : 0, hi = i + win + 1 < nb ? i + win + 1 : nb;
                for (size_t j = lo; j < hi; j++) {
                        if (!mb[j] && a[i] == b[j]) {
                                ma[i] = mb[j] = true;
                                m++;
                                break;
                        }
                }
        }
        if (!m)
                return 0;
        size_t t = 0;
        for (size_t i = 0, j = 0; i < na; i++) {
                if (!ma[i])
                        continue;
                while (!mb[j])
                        j++;
                if (a[i] != b[j])
                        t++;
                j++;
        }
        double md = (double)m;
        double jaro = (md / (double)na + md / (double)nb + (md - (double)t / 2.0) / md) / 3.0;
        size_t l = 0;
        while (l < 4 && l < na && l < nb && a[l] == b[l])
                l++;
        double jw = jaro + (double)l * 0.1 * (1.0 - jaro);
        int s = (int)(jw * MATCH_SCORE_MAX + 0.5);
        return s > MATCH_SCORE_MAX ? MATCH_SCORE_MAX : s;
}

static size_t count_words(const char *s)
{
        size_t n = 0;
        for (const char *p = s; *p;) {
                while (*p == ' ')
                        p++;
                if (!*p)
                        break;
                n++;
                while (*p && *p != ' ')
                        p++;
        }
        return n;
}

int match_name_similarity(const char *a, const char *b)
{
        size_t wa = count_words(a), wb = count_words(b);
        if (wa != wb || wa == 0 || wa > MATCH_WORDS_MAX)
                return 0;
        int32_t ca[WORD_CP_MAX], cb[WORD_CP_MAX];
        int worst = MATCH_SCORE_MAX;
        while (*a && *b) {
                while (*a == ' ')
                        a++;
                while (*b == ' ')
                        b++;
                size_t na, nb;
                a += word_cps(a, ca, &na);
                b += word_cps(b, cb, &nb);
                int s;
                if (na < MATCH_SHORT_WORD || nb < MATCH_SHORT_WORD)
                        s = na == nb && !memcmp(ca, cb, na * sizeof *ca) ? MATCH_SCORE_MAX : 0;
                else
                        s = jaro_winkler(ca, na, cb, nb);
                if (s < worst)
                        worst = s;
        }
        return worst;
}

/* ---- attributes ---- */

static void result(struct match_result *out, bool ok, int score, enum match_how how)
{
        out->ok = ok;
        out->score = score;
        out->how = ok ? how : MATCH_NONE;
}

int match_name(const char *claimed, size_t len, const char *stored_fold, const char *stored_key,
               enum match_mode mode, struct match_result *out, struct pop_err *err)
{
        char fold[2 * NAME_MAX_BYTES + 1], key[2 * NAME_MAX_BYTES + 1];
        result(out, false, 0, MATCH_NONE);
        int rc = name_fold(claimed, len, fold, sizeof fold, err);
        if (rc)
                return rc;
        if (!strcmp(fold, stored_fold)) {
                result(out, true, MATCH_SCORE_MAX, MATCH_SAME);
                return 0;
        }
        if (mode == MATCH_EXACT)
                return 0;
        if ((rc = name_key(claimed, len, key, sizeof key, err)))
                return rc;
        if (!strcmp(key, stored_key)) {
                result(out, true, MATCH_SCORE_MAX, MATCH_KEY);
                return 0;
        }
        int s = match_name_similarity(key, stored_key);
        result(out, s >= MATCH_NAME_THRESHOLD, s, MATCH_SIMILAR);
        out->score = s;
        return 0;
}

/* The precision of a partial date: 1 year, 2 month, 3 day. */
static int precision(struct pdate d)
{
        return d.d ? 3 : d.m ? 2 : 1;
}

int match_dob(const char *claimed, size_t len, struct pdate stored, enum match_mode mode,
              struct match_result *out, struct pop_err *err)
{
        struct pdate c;
        result(out, false, 0, MATCH_NONE);
        int rc = pdate_parse(claimed, len, &c, err);
        if (rc)
                return rc;
        if (pdate_is_none(stored))
                return 0;
        if (precision(c) == precision(stored) && c.y == stored.y && c.m == stored.m &&
            c.d == stored.d) {
                result(out, true, MATCH_SCORE_MAX, MATCH_SAME);
                return 0;
        }
        /* Partial: a claimed year matches a stored full date of that year, and a claimed day a
         * stored year-month holding it; the date ranges overlap exactly when they agree on
         * every component both know. */
        if (mode == MATCH_PARTIAL && pdate_cmp(c, stored) == 0)
                result(out, true, MATCH_SCORE_MAX * 1 / 2, MATCH_WITHIN);
        return 0;
}

int match_sex(const char *claimed, size_t len, enum sex stored, enum match_mode mode,
              struct match_result *out, struct pop_err *err)
{
        (void)mode;
        char buf[16];
        enum sex c;
        result(out, false, 0, MATCH_NONE);
        if (len == 0 || len >= sizeof buf)
                return pop_fail(err, POP_EINVAL, "sex-invalid", "sex must be male, female, m or f");
        memcpy(buf, claimed, len);
        buf[len] = '\0';
        if (strlen(buf) != len)
                return pop_fail(err, POP_EINVAL, "sex-invalid", "sex holds a NUL byte");
        int rc = sex_parse(buf, &c, err);
        if (rc)
                return rc;
        if (stored != SEX_UNKNOWN && c == stored)
                result(out, true, MATCH_SCORE_MAX, MATCH_SAME);
        return 0;
}

/* ---- addresses ---- */

/* đ/Đ map to d in the key, as name_key does (they do not decompose in Unicode). */
static utf8proc_int32_t addr_custom(utf8proc_int32_t c, void *data)
{
        (void)data;
        return c == 0x0110 || c == 0x0111 ? 'd' : c;
}

/* utf8proc_map of NFC text: folded (key false) or key (true). NULL without memory. */
static char *addr_map(const char *norm, bool key)
{
        utf8proc_uint8_t *out = NULL;
        utf8proc_option_t o = UTF8PROC_STABLE | UTF8PROC_CASEFOLD | UTF8PROC_NULLTERM;
        o |= key ? UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK : UTF8PROC_COMPOSE;
        utf8proc_ssize_t n = utf8proc_map_custom((const utf8proc_uint8_t *)norm, 0, &out, o,
                                                 key ? addr_custom : NULL, NULL);
        if (n < 0) {
                free(out);
                return NULL;
        }
        return (char *)out;
}

/* The words of a key: runs of letters and digits, in place (NUL-separated). */
struct words {
        const char *w[MATCH_WORDS_MAX * 2];
        size_t n;
};

static void split_words(char *s, struct words *ws, size_t max)
{
        const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
        ws->n = 0;
        size_t i = 0;
        char *start = NULL;
        while (p[i]) {
                utf8proc_int32_t c;
                utf8proc_ssize_t k = utf8proc_iterate(p + i, -1, &c);
                if (k <= 0)
                        k = 1, c = ' ';
                utf8proc_category_t cat = utf8proc_category(c);
                bool alnum = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
                             (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
                if (alnum && !start)
                        start = s + i;
                if (!alnum) {
                        if (start && ws->n < max)
                                ws->w[ws->n++] = start;
                        start = NULL;
                        for (utf8proc_ssize_t j = 0; j < k; j++)
                                s[i + (size_t)j] = '\0';
                }
                i += (size_t)k;
        }
        if (start && ws->n < max)
                ws->w[ws->n++] = start;
}

static bool has_digit(const char *w)
{
        for (; *w; w++)
                if (*w >= '0' && *w <= '9')
                        return true;
        return false;
}

int match_address(const char *claimed, size_t len, const char *stored_line, const char *extra,
                  enum match_mode mode, struct match_result *out, struct pop_err *err)
{
        char norm[TEXT_MAX_BYTES + 1], snorm[2 * TEXT_MAX_BYTES + 2];
        char *cf = NULL, *sf = NULL, *ck = NULL, *sk = NULL;
        result(out, false, 0, MATCH_NONE);
        int rc = text_normalize(claimed, len, norm, sizeof norm, err);
        if (rc)
                return rc;
        if (!stored_line || !*stored_line)
                return 0;
        struct pop_err e2 = {0};
        if (text_normalize(stored_line, strlen(stored_line), snorm, sizeof snorm, &e2))
                return 0; /* a stored line that is not text matches nothing */
        cf = addr_map(norm, false);
        sf = addr_map(snorm, false);
        if (!cf || !sf) {
                rc = pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
                goto out;
        }
        if (!strcmp(cf, sf)) {
                result(out, true, MATCH_SCORE_MAX, MATCH_SAME);
                goto out;
        }
        if (mode == MATCH_EXACT)
                goto out;
        /* The registry's side: the line and the extra (province name) as one text. */
        size_t ll = strlen(snorm);
        if (extra && *extra && ll + 2 + strlen(extra) < sizeof snorm) {
                snorm[ll] = ' ';
                memcpy(snorm + ll + 1, extra, strlen(extra) + 1);
        }
        ck = addr_map(norm, true);
        sk = addr_map(snorm, true);
        if (!ck || !sk) {
                rc = pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
                goto out;
        }
        struct words cw, sw;
        split_words(ck, &cw, MATCH_WORDS_MAX);
        split_words(sk, &sw, MATCH_WORDS_MAX * 2);
        /* Fewer than two claimed words is too little to call a partial match of an address. */
        if (cw.n < 2)
                goto out;
        size_t found = 0;
        bool numbers_ok = true;
        for (size_t i = 0; i < cw.n; i++) {
                bool in = false;
                for (size_t j = 0; j < sw.n && !in; j++)
                        in = !strcmp(cw.w[i], sw.w[j]);
                found += in;
                if (!in && has_digit(cw.w[i]))
                        numbers_ok = false;
        }
        int s = (int)(found * MATCH_SCORE_MAX / cw.n);
        result(out, numbers_ok && s >= MATCH_ADDRESS_THRESHOLD, s, MATCH_WORDS);
        out->score = s;
out:
        free(cf);
        free(sf);
        free(ck);
        free(sk);
        return rc;
}
