/*
 * Name search: the query's text parsed and normalized into a store query, the cursor that
 * carries a search's position from one page to the next, and the JSON of a page. See search.h.
 *
 * A cursor is base64url (no padding) of: version (1), flags (1: past every row of the key),
 * date of birth (year: 2 bytes, month, day), personal ID (8 bytes), key length (2 bytes) and the
 * key (only for a prefix search: otherwise the key is the query's own), then a 16-byte keyed
 * BLAKE2b of the query's canonical form and all of the above. Integers are big-endian. The key
 * is derived from the registry's secret allocation key, so cursors are worth nothing to anyone
 * else and cannot be altered; the position itself reveals nothing a search does not show.
 */
#include "registry/search.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/name.h"
#include "core/region.h"
#include "registry/registry.h"
#include "registry/registry_int.h"

#define CURSOR_VERSION  1
#define CURSOR_KEY_END  0x01
#define CURSOR_HEAD     16 /* version, flags, dob (4), pid (8), key length (2) */
#define CURSOR_MAC      16
#define CURSOR_BIN_MAX  (CURSOR_HEAD + STORE_SEARCH_KEY_MAX + CURSOR_MAC)
#define QUERY_CANON_MAX (STORE_SEARCH_KEY_MAX + 64)
#define SMALL_ARG_MAX   32 /* every argument but the name and the cursor is short */

static const char *const match_names[] = {
    [STORE_MATCH_EXACT] = "exact",
    [STORE_MATCH_FOLDED] = "folded",
    [STORE_MATCH_PREFIX] = "prefix",
};

static int bad_arg(struct pop_err *err, const char *rule, const char *field, const char *fmt,
                   const char *val)
{
        char msg[160];
        snprintf(msg, sizeof msg, fmt, val);
        return pop_fail(err, POP_EINVAL, rule, "%s: %s", field, msg);
}

/* A short argument, checked for length and UTF-8 before it is echoed in a message. */
static int short_arg(const char *field, const char *v, struct pop_err *err)
{
        size_t n = strnlen(v, SMALL_ARG_MAX + 1);
        if (n > SMALL_ARG_MAX)
                return pop_fail(err, POP_ETOOBIG, "search-argument", "%s: too long", field);
        if (utf8_check(v, n, NULL) != 0)
                return pop_fail(err, POP_EINVAL, "search-argument", "%s: not valid UTF-8 text",
                                field);
        return 0;
}

/* A whole number lo..hi, digits only. */
static int parse_int(const char *field, const char *v, int lo, int hi, int *out,
                     struct pop_err *err)
{
        int rc = short_arg(field, v, err);
        if (rc)
                return rc;
        long n = 0;
        size_t len = strlen(v);
        if (len == 0 || len > 9)
                return bad_arg(err, "search-argument", field, "'%s' is not a whole number", v);
        for (size_t i = 0; i < len; i++) {
                if (v[i] < '0' || v[i] > '9')
                        return bad_arg(err, "search-argument", field, "'%s' is not a whole number",
                                       v);
                n = n * 10 + (v[i] - '0');
        }
        if (n < lo || n > hi) {
                char range[48];
                snprintf(range, sizeof range, "must be %d to %d, not %%s", lo, hi);
                return bad_arg(err, "search-argument", field, range, v);
        }
        *out = (int)n;
        return 0;
}

static int parse_year(const char *field, const char *v, int *out, struct pop_err *err)
{
        int rc = short_arg(field, v, err);
        if (rc)
                return rc;
        if (strlen(v) != 4)
                return bad_arg(err, "search-argument", field, "'%s' is not a year (YYYY)", v);
        return parse_int(field, v, DATE_MIN_YEAR, DATE_MAX_YEAR, out, err);
}

static int parse_enum(const char *field, const char *v, const char *const *names, int n, int *out,
                      struct pop_err *err)
{
        int rc = short_arg(field, v, err);
        if (rc)
                return rc;
        for (int i = 0; i < n; i++) {
                if (names[i] && !strcmp(v, names[i])) {
                        *out = i;
                        return 0;
                }
        }
        return bad_arg(err, "search-argument", field, "unknown value '%s'", v);
}

static void put_u16(uint8_t *p, unsigned v)
{
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
}

static unsigned get_u16(const uint8_t *p)
{
        return (unsigned)p[0] << 8 | p[1];
}

static void put_u32(uint8_t *p, uint32_t v)
{
        put_u16(p, v >> 16);
        put_u16(p + 2, v & 0xffff);
}

/* The query as the cursor's authentication covers it: everything but the limit. */
static size_t query_canon(const struct store_search *q, uint8_t out[QUERY_CANON_MAX])
{
        size_t n = strlen(q->name), at = 0;
        static const char tag[] = "popid search v1";
        memcpy(out, tag, sizeof tag);
        at += sizeof tag;
        out[at++] = (uint8_t)q->match;
        put_u16(out + at, (unsigned)n);
        at += 2;
        memcpy(out + at, q->name, n);
        at += n;
        put_u16(out + at, (unsigned)q->dob.y);
        out[at + 2] = (uint8_t)q->dob.m;
        out[at + 3] = (uint8_t)q->dob.d;
        at += 4;
        put_u32(out + at, (uint32_t)q->year_from);
        put_u32(out + at + 4, (uint32_t)q->year_to);
        put_u32(out + at + 8, (uint32_t)q->sex);
        put_u32(out + at + 12, (uint32_t)q->province);
        put_u32(out + at + 16, (uint32_t)q->status);
        return at + 20;
}

static void cursor_mac(const struct store_search *q, const uint8_t *bin, size_t len,
                       const uint8_t key[REG_SEARCH_KEY_LEN], uint8_t mac[CURSOR_MAC])
{
        uint8_t canon[QUERY_CANON_MAX];
        crypto_generichash_state st;
        crypto_generichash_init(&st, key, REG_SEARCH_KEY_LEN, CURSOR_MAC);
        crypto_generichash_update(&st, canon, query_canon(q, canon));
        crypto_generichash_update(&st, bin, len);
        crypto_generichash_final(&st, mac, CURSOR_MAC);
}

static int cursor_bad(struct pop_err *err, const char *why)
{
        return pop_fail(err, POP_EINVAL, "search-cursor", "cursor: %s", why);
}

static void sodium_once(void)
{
        /* -1 only when no random source exists, which nothing here needs. */
        int rc = sodium_init();
        (void)rc;
}

static void sodium_ready(void)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, sodium_once);
}

int reg_search_cursor(const struct reg_search *s, const struct store_search_pos *pos,
                      const uint8_t key[REG_SEARCH_KEY_LEN], char out[REG_SEARCH_CURSOR_MAX + 1],
                      struct pop_err *err)
{
        uint8_t bin[CURSOR_BIN_MAX];
        size_t klen = s->q.match == STORE_MATCH_PREFIX ? strnlen(pos->key, sizeof pos->key) : 0;
        if (klen >= sizeof pos->key)
                return cursor_bad(err, "position without a key");
        sodium_ready();
        memset(bin, 0, CURSOR_HEAD);
        bin[0] = CURSOR_VERSION;
        bin[1] = pos->key_end ? CURSOR_KEY_END : 0;
        if (!pos->key_end) {
                put_u16(bin + 2, (unsigned)pos->dob.y);
                bin[4] = (uint8_t)pos->dob.m;
                bin[5] = (uint8_t)pos->dob.d;
                put_u32(bin + 6, (uint32_t)((uint64_t)pos->pid >> 32));
                put_u32(bin + 10, (uint32_t)pos->pid);
        }
        put_u16(bin + 14, (unsigned)klen);
        memcpy(bin + CURSOR_HEAD, pos->key, klen);
        size_t len = CURSOR_HEAD + klen;
        cursor_mac(&s->q, bin, len, key, bin + len);
        len += CURSOR_MAC;
        sodium_bin2base64(out, REG_SEARCH_CURSOR_MAX + 1, bin, len,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        return 0;
}

/* Decodes and checks a cursor of the query s into s->after. */
static int cursor_parse(struct reg_search *s, const char *text,
                        const uint8_t key[REG_SEARCH_KEY_LEN], struct pop_err *err)
{
        size_t n = strnlen(text, REG_SEARCH_CURSOR_MAX + 1);
        if (n == 0)
                return cursor_bad(err, "empty");
        if (n > REG_SEARCH_CURSOR_MAX)
                return pop_fail(err, POP_ETOOBIG, "search-cursor", "cursor: longer than %d bytes",
                                REG_SEARCH_CURSOR_MAX);
        uint8_t bin[CURSOR_BIN_MAX];
        size_t len = 0;
        const char *stop = NULL;
        sodium_ready();
        if (sodium_base642bin(bin, sizeof bin, text, n, NULL, &len, &stop,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            stop != text + n)
                return cursor_bad(err, "not a cursor of this registry");
        if (len < CURSOR_HEAD + CURSOR_MAC || bin[0] != CURSOR_VERSION ||
            (bin[1] & ~CURSOR_KEY_END) != 0)
                return cursor_bad(err, "not a cursor of this registry");
        size_t klen = get_u16(bin + 14);
        if (klen != len - CURSOR_HEAD - CURSOR_MAC ||
            (klen != 0) != (s->q.match == STORE_MATCH_PREFIX))
                return cursor_bad(err, "it belongs to another search");
        uint8_t mac[CURSOR_MAC];
        cursor_mac(&s->q, bin, CURSOR_HEAD + klen, key, mac);
        if (crypto_verify_16(mac, bin + CURSOR_HEAD + klen) != 0)
                return cursor_bad(err, "it belongs to another search, or was altered");

        /* Authentic, so made by reg_search_cursor; still checked, as a store would be. */
        struct store_search_pos *p = &s->after;
        memset(p, 0, sizeof *p);
        p->key_end = bin[1] & CURSOR_KEY_END;
        p->dob.y = (int16_t)get_u16(bin + 2);
        p->dob.m = (int8_t)bin[4];
        p->dob.d = (int8_t)bin[5];
        p->pid = (int64_t)((uint64_t)get_u16(bin + 6) << 48 | (uint64_t)get_u16(bin + 8) << 32 |
                           (uint64_t)get_u16(bin + 10) << 16 | get_u16(bin + 12));
        char d[11];
        struct pdate back;
        if (!p->key_end) {
                pdate_format(p->dob, d);
                if (pdate_parse(d, strlen(d), &back, NULL) != 0 ||
                    memcmp(&back, &p->dob, sizeof back) != 0 || p->pid <= 0 ||
                    p->pid > 999999999999LL)
                        return cursor_bad(err, "bad position");
        } else if (!pdate_is_none(p->dob) || p->pid != 0) {
                return cursor_bad(err, "bad position");
        }
        if (klen) {
                memcpy(p->key, bin + CURSOR_HEAD, klen);
                if (memchr(p->key, '\0', klen) || utf8_check(p->key, klen, NULL) != 0)
                        return cursor_bad(err, "bad position");
        } else {
                snprintf(p->key, sizeof p->key, "%s", s->name);
        }
        s->q.after = p;
        return 0;
}

static int parse_name(const struct reg_search_args *a, struct reg_search *s, struct pop_err *err)
{
        if (!a->name)
                return pop_fail(err, POP_EINVAL, "search-name", "name: required");
        /* The name functions cap the input before any work (a few times NAME_MAX_BYTES). */
        size_t n = strnlen(a->name, 8 * NAME_MAX_BYTES + 1);
        struct pop_err e = {0};
        int rc = s->q.match == STORE_MATCH_EXACT
                     ? name_fold(a->name, n, s->name, sizeof s->name, &e)
                     : name_key(a->name, n, s->name, sizeof s->name, &e);
        if (rc)
                return pop_fail(err, rc, e.rule, "name: %s", e.msg);
        s->q.name = s->name;
        return 0;
}

int reg_search_parse(const struct reg_search_args *a, const uint8_t key[REG_SEARCH_KEY_LEN],
                     struct reg_search *s, struct pop_err *err)
{
        static const char *const statuses[] = {
            [PERSON_LIVING] = "living",
            [PERSON_DECEASED] = "deceased",
            [PERSON_MISSING] = "missing",
            [PERSON_MISSING + 1] = "any",
        };
        int rc, v = 0;
        memset(s, 0, sizeof *s);
        s->q.match = STORE_MATCH_FOLDED;
        s->q.status = PERSON_LIVING;
        s->q.limit = REG_SEARCH_LIMIT_DEFAULT;
        s->q.max_work = a->max_work;
        if (a->match) {
                if ((rc = parse_enum("match", a->match, match_names, 3, &v, err)))
                        return rc;
                s->q.match = (enum store_match)v;
        }
        if ((rc = parse_name(a, s, err)))
                return rc;
        struct pop_err e = {0};
        if (a->dob) {
                if ((rc = short_arg("dob", a->dob, err)))
                        return rc;
                if ((rc = pdate_parse(a->dob, strlen(a->dob), &s->q.dob, &e)))
                        return pop_fail(err, rc, e.rule, "dob: %s", e.msg);
        }
        if (a->year && (a->born_from || a->born_to))
                return pop_fail(err, POP_EINVAL, "search-argument",
                                "year: give a year or a range (born_from, born_to), not both");
        if (a->year) {
                if ((rc = parse_year("year", a->year, &s->q.year_from, err)))
                        return rc;
                s->q.year_to = s->q.year_from;
        }
        if (a->born_from && (rc = parse_year("born_from", a->born_from, &s->q.year_from, err)))
                return rc;
        if (a->born_to && (rc = parse_year("born_to", a->born_to, &s->q.year_to, err)))
                return rc;
        if (s->q.year_from && s->q.year_to && s->q.year_from > s->q.year_to)
                return pop_fail(err, POP_EINVAL, "search-argument",
                                "born_from: %d is after born_to %d", s->q.year_from, s->q.year_to);
        if (a->sex) {
                if ((rc = short_arg("sex", a->sex, err)))
                        return rc;
                if ((rc = sex_parse(a->sex, &s->q.sex, &e)))
                        return pop_fail(err, rc, e.rule, "sex: %s", e.msg);
        }
        if (a->province) {
                int code;
                if ((rc = short_arg("province", a->province, err)))
                        return rc;
                if ((rc = region_parse_province(a->province, strlen(a->province), &code, &e)))
                        return pop_fail(err, rc, e.rule, "province: %s", e.msg);
                /* Resolution 202/2025/QH15: a legacy code stands for the unit that absorbed it. */
                const struct region_unit *u = region_current_unit(code);
                if (!u)
                        return bad_arg(err, "search-argument", "province",
                                       "no province has code %s", a->province);
                s->q.province = u->code;
        }
        if (a->status) {
                if ((rc = parse_enum("status", a->status, statuses, 4, &v, err)))
                        return rc;
                s->q.status = v == PERSON_MISSING + 1 ? STORE_SEARCH_STATUS_ANY : v;
        }
        if (a->limit &&
            (rc = parse_int("limit", a->limit, 1, REG_SEARCH_LIMIT_MAX, &s->q.limit, err)))
                return rc;
        if (a->cursor && (rc = cursor_parse(s, a->cursor, key, err)))
                return rc;
        return 0;
}

/* The cursor key: a keyed hash of a fixed label under the registry's secret. */
static void cursor_key(const struct reg *r, uint8_t key[REG_SEARCH_KEY_LEN])
{
        static const char label[] = "popid search cursor key v1";
        sodium_ready();
        crypto_generichash(key, REG_SEARCH_KEY_LEN, (const uint8_t *)label, sizeof label - 1,
                           r->alloc_key, sizeof r->alloc_key);
}

static int add_hit(void *ctx, const struct store_search_hit *h)
{
        const struct region_unit *u = region_current_unit(h->province);
        json_t *o = json_pack("{s:o, s:s, s:o, s:s, s:s, s:o}", "pid", reg__pid_json(h->pid),
                              "name", h->full_name, "dob", reg__date_json(h->dob), "sex",
                              sex_name(h->sex), "status", person_status_name(h->status), "province",
                              u ? reg_render_province(u->code) : json_null());
        if (!o || json_array_append_new(ctx, o) != 0)
                return POP_ENOMEM;
        return 0;
}

int reg_search_json(struct reg *r, const struct reg_search_args *a, json_t **out,
                    struct pop_err *err)
{
        *out = NULL;
        uint8_t key[REG_SEARCH_KEY_LEN];
        struct reg_search s;
        struct store_search_end end;
        json_t *results = NULL, *next = NULL;
        cursor_key(r, key);
        int rc = reg_search_parse(a, key, &s, err);
        if (rc)
                goto out;
        if (!(results = json_array())) {
                rc = pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
                goto out;
        }
        /* One snapshot: the probes and ranges of a page see one state of the registry. */
        if ((rc = store_read_begin(r->st, err)))
                goto out;
        rc = store_person_search(r->st, &s.q, add_hit, results, &end, err);
        store_read_end(r->st);
        if (rc == POP_ENOMEM && err && !err->msg[0])
                pop_fail(err, rc, "nomem", "out of memory");
        if (rc)
                goto out;
        if (end.more) {
                char c[REG_SEARCH_CURSOR_MAX + 1];
                if ((rc = reg_search_cursor(&s, &end.next, key, c, err)))
                        goto out;
                next = json_string(c);
        } else {
                next = json_null();
        }
        *out = json_pack("{s:o, s:o}", "results", results, "next", next);
        results = NULL;
        if (!*out)
                rc = pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
out:
        json_decref(results);
        sodium_memzero(key, sizeof key);
        return rc;
}
