/*
 * Fuzz target for the search query and cursor parser (src/registry/search.c). The input is
 * lines "field=value" (name, match, dob, year, born_from, born_to, sex, province, status, limit,
 * cursor; a field not given is NULL), parsed with a fixed cursor key. Any query may be refused,
 * but only with POP_EINVAL or POP_ETOOBIG and a message; an accepted one must hold:
 *   - a non-empty name form of valid UTF-8 within its cap, limit 1..100, years in order, a
 *     province that is a 2025 unit, a known status;
 *   - a cursor made for it (from a position taken from the input) parses back to the same
 *     position, and the same cursor with one character changed is refused or means the same;
 *   - the whole input taken as a cursor is refused cleanly (it cannot carry a valid MAC).
 * Corpus: fuzz/corpus/search/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/name.h"
#include "core/region.h"
#include "registry/search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 8192

static const uint8_t key[REG_SEARCH_KEY_LEN] = "fuzz key: 32 bytes of anything!";

static void check(int ok, const char *what)
{
        if (!ok) {
                fprintf(stderr, "invariant broken: %s\n", what);
                abort();
        }
}

static void check_refusal(int rc, const struct pop_err *err)
{
        check(rc == POP_EINVAL || rc == POP_ETOOBIG, "refused with another code");
        check(err->code == rc && err->rule[0] && err->msg[0], "refusal without a message");
        check(memchr(err->msg, '\0', sizeof err->msg) != NULL, "message not terminated");
}

static int same_pos(const struct store_search_pos *a, const struct store_search_pos *b)
{
        return !strcmp(a->key, b->key) && a->key_end == b->key_end &&
               (a->key_end || (a->pid == b->pid && !memcmp(&a->dob, &b->dob, sizeof a->dob)));
}

/* A cursor for s at a position drawn from the input parses back to it; altered, it does not. */
static void check_cursor(const struct reg_search_args *a, const struct reg_search *s,
                         const uint8_t *data, size_t size)
{
        struct store_search_pos pos;
        memset(&pos, 0, sizeof pos);
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < size; i++)
                h = (h ^ data[i]) * 1099511628211ULL;
        if (s->q.match == STORE_MATCH_PREFIX && (h & 1))
                snprintf(pos.key, sizeof pos.key, "%.*s a", (int)(sizeof pos.key - 4), s->q.name);
        else
                snprintf(pos.key, sizeof pos.key, "%s", s->q.name);
        pos.key_end = (h >> 1) % 5 == 0;
        if (!pos.key_end) {
                pos.dob =
                    (struct pdate){(int16_t)(1800 + (h >> 8) % 600), (int8_t)((h >> 20) % 13), 0};
                if (pos.dob.m)
                        pos.dob.d = (int8_t)((h >> 24) % 29);
                pos.pid = (int64_t)(1 + (h >> 30) % 999999999999ULL);
        }
        char c[REG_SEARCH_CURSOR_MAX + 1];
        struct pop_err err = {0};
        check(reg_search_cursor(s, &pos, key, c, &err) == 0, "cannot make a cursor");
        struct reg_search_args b = *a;
        b.cursor = c;
        struct reg_search back;
        int rc = reg_search_parse(&b, key, &back, &err);
        check(rc == 0 && back.q.after == &back.after, "own cursor refused");
        check(same_pos(&pos, &back.after), "cursor round trip changed the position");

        size_t n = strlen(c);
        size_t i = (size_t)(h >> 40) % n;
        c[i] = c[i] == 'A' ? 'B' : 'A';
        rc = reg_search_parse(&b, key, &back, &err);
        if (rc)
                check_refusal(rc, &err);
        else
                check(same_pos(&pos, &back.after), "altered cursor accepted");
}

static void check_query(const struct reg_search *s)
{
        size_t n = strnlen(s->name, sizeof s->name);
        check(n > 0 && n < sizeof s->name && s->q.name == s->name, "bad name form");
        check(utf8_check(s->name, n, NULL) == 0, "name form is not UTF-8");
        check(s->q.limit >= 1 && s->q.limit <= REG_SEARCH_LIMIT_MAX, "limit out of range");
        check(!s->q.year_from || !s->q.year_to || s->q.year_from <= s->q.year_to, "years");
        check(!s->q.province || region_unit(s->q.province) != NULL, "province not a 2025 unit");
        check(s->q.status >= STORE_SEARCH_STATUS_ANY && s->q.status <= PERSON_MISSING, "status");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > MAX_INPUT)
                return 0;
        static char buf[MAX_INPUT + 1];
        memcpy(buf, data, size);
        buf[size] = '\0';

        struct reg_search_args a = {0};
        struct {
                const char *name;
                const char **field;
        } map[] = {
            {"name", &a.name},   {"match", &a.match},         {"dob", &a.dob},
            {"year", &a.year},   {"born_from", &a.born_from}, {"born_to", &a.born_to},
            {"sex", &a.sex},     {"province", &a.province},   {"status", &a.status},
            {"limit", &a.limit}, {"cursor", &a.cursor},
        };
        for (char *line = buf, *end; line; line = end) {
                end = strchr(line, '\n');
                if (end)
                        *end++ = '\0';
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = '\0';
                for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
                        if (!strcmp(line, map[k].name))
                                *map[k].field = eq + 1;
        }

        struct reg_search s;
        struct pop_err err = {0};
        int rc = reg_search_parse(&a, key, &s, &err);
        if (rc) {
                check_refusal(rc, &err);
        } else {
                check_query(&s);
                check(!a.cursor || s.q.after == &s.after, "cursor accepted but not used");
                check_cursor(&a, &s, data, size);
        }

        /* The raw input as a cursor of a fixed query. */
        memcpy(buf, data, size);
        buf[size] = '\0';
        struct reg_search_args raw = {.name = "an", .match = "prefix", .cursor = buf};
        rc = reg_search_parse(&raw, key, &s, &err);
        if (rc)
                check_refusal(rc, &err);
        return 0;
}
