/*
 * The read endpoints of the data-sharing API (docs/API.md "Person data"): a person, their
 * residence (current or as of a date), their household, a name search, a signed confirmation of
 * residence, and a person's access log. Each is a thin handler over the guard pipeline
 * (guard.h): authenticate, rate-limit, check the call's needs without the subject, find the
 * subject (404), check the province scope, render through registry/, filter, audit, answer.
 *
 * The check without the subject comes first so that whether a personal ID exists is told only
 * to a client that holds the role, grant and purpose of the call.
 */
#include "http/guard.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "registry/confirm.h"
#include "registry/search.h"

#define ACCESS_LOG_LIMIT_DEFAULT 50
#define ACCESS_LOG_LIMIT_MAX     500

/* The fields a search result can carry (reg_search_json): a client with none of them gets 403. */
#define SEARCH_FIELDS                                                                              \
        (ACCESS_BIT(ACCESS_G_PID) | ACCESS_BIT(ACCESS_G_NAME) | ACCESS_BIT(ACCESS_G_DOB) |         \
         ACCESS_BIT(ACCESS_G_SEX) | ACCESS_BIT(ACCESS_G_STATUS) |                                  \
         ACCESS_BIT(ACCESS_G_PERMANENT_RESIDENCE))

static int not_found(struct http_guard *g, int64_t pid)
{
        return http_guard_fail(g, pid, 404, "person-not-found", "Not found",
                               "no person with this personal ID");
}

/*
 * The common part of a call about one person, after http_guard_begin: pid, needs without the
 * subject, snapshot, existence (404), province scope. 0 to go on, or HTTP_GUARD_DONE / a
 * negative code when answered.
 */
static int one_person(struct http_guard *g, const struct http_match *m, struct access_need *n,
                      int64_t *pid)
{
        int rc;
        if ((rc = http_guard_pid(g, m, pid)))
                return rc;
        n->purpose = g->purpose;
        n->province = ACCESS_NO_SUBJECT;
        if ((rc = http_guard_check(g, n, *pid)))
                return rc;
        if ((rc = http_guard_snapshot(g)))
                return rc;
        int prov = 0;
        rc = http_guard_province(g, *pid, &prov);
        if (rc == POP_ENOTFOUND) {
                rc = not_found(g, *pid);
                return rc ? rc : HTTP_GUARD_DONE;
        }
        if (rc) {
                struct pop_err e = {0};
                pop_fail(&e, rc, "store", "reading the subject's residence failed");
                rc = http_guard_store_error(g, *pid, &e);
                return rc ? rc : HTTP_GUARD_DONE;
        }
        n->province = prov;
        return http_guard_check(g, n, *pid);
}

/* Ends a handler: the snapshot closed, HTTP_GUARD_DONE turned into 0. */
static int finish(struct http_guard *g, int rc)
{
        http_guard_end(g);
        return rc > 0 ? 0 : rc;
}

/* The answer to a registry read that failed with rc (404 or 503). */
static int read_failed(struct http_guard *g, int64_t pid, int rc, const struct pop_err *e)
{
        if (rc == POP_ENOTFOUND)
                return not_found(g, pid);
        return http_guard_store_error(g, pid, e);
}

/*
 * The parts of a person document the client's grants can release, and the province when its
 * scope needs it: what is not granted is not read (the filter would drop it anyway), so a client
 * granted identity fields costs one row read.
 */
static unsigned person_parts(const struct access_client *c)
{
        unsigned parts = c->scope.all ? 0 : REG_PERSON_PROVINCE;
        if (c->grants & ACCESS_BIT(ACCESS_G_PERMANENT_RESIDENCE))
                parts |= REG_PERSON_PERMANENT;
        if (c->grants & ACCESS_BIT(ACCESS_G_TEMPORARY_RESIDENCE))
                parts |= REG_PERSON_TEMPORARY;
        if (c->grants & ACCESS_BIT(ACCESS_G_CARDS))
                parts |= REG_PERSON_CARDS;
        if (c->grants & ACCESS_BIT(ACCESS_G_CHILDREN))
                parts |= REG_PERSON_CHILDREN;
        if (c->grants & ACCESS_BIT(ACCESS_G_BIRTH_PROVINCE))
                parts |= REG_PERSON_BIRTH_PROVINCE;
        if (c->grants & ACCESS_BIT(ACCESS_G_RECORD))
                parts |= REG_PERSON_RECORD;
        return parts;
}

/* The steps of one_person, with the subject's record, province and document read at once. */
int http__h_person(struct http_req *rq, const struct http_match *m)
{
        struct http_guard g;
        struct access_need n = {.role = ACCESS_ROLE_READER};
        int64_t pid = 0;
        int rc = http_guard_begin(rq, "person.read", HTTP_GUARD_PURPOSE, &g);
        if (rc || (rc = http_guard_pid(&g, m, &pid)))
                return finish(&g, rc);
        n.purpose = g.purpose;
        n.province = ACCESS_NO_SUBJECT;
        if ((rc = http_guard_check(&g, &n, pid)) || (rc = http_guard_snapshot(&g)))
                return finish(&g, rc);
        json_t *doc = NULL;
        struct pop_err e = {0};
        int prov = 0;
        rc = reg_person_json_parts(g.reg, pid, person_parts(g.client), &doc, &prov, &e);
        if (rc) {
                rc = read_failed(&g, pid, rc, &e);
        } else {
                n.province = prov;
                if ((rc = http_guard_check(&g, &n, pid)) == 0)
                        rc = http_guard_send(&g, pid, ACCESS_DOC_PERSON, doc);
        }
        json_decref(doc);
        return finish(&g, rc);
}

int http__h_residence(struct http_req *rq, const struct http_match *m)
{
        struct http_guard g;
        struct access_need n = {.role = ACCESS_ROLE_READER};
        int64_t pid = 0;
        struct pdate on;
        memset(&on, 0, sizeof on);
        int rc = http_guard_begin(rq, "person.residence", HTTP_GUARD_PURPOSE, &g);
        if (rc)
                return finish(&g, rc);
        /* The date is checked before the subject is looked at: a 400 is not audited. */
        const char *ons = http_guard_query(&g, "on");
        struct pop_err e = {0};
        if (ons && pdate_parse_full(ons, strlen(ons), &on, &e))
                return finish(&g, http__problem(rq, 400, "on-malformed", "Malformed date",
                                                "on must be a full date YYYY-MM-DD", NULL));
        if ((rc = one_person(&g, m, &n, &pid)))
                return finish(&g, rc);
        json_t *doc = NULL;
        rc = reg_residence_json(g.reg, pid, on, &doc, &e);
        rc =
            rc ? read_failed(&g, pid, rc, &e) : http_guard_send(&g, pid, ACCESS_DOC_RESIDENCE, doc);
        json_decref(doc);
        return finish(&g, rc);
}

/* The personal IDs of the members of a household document (before filtering). */
static size_t member_pids(json_t *doc, int64_t self, int64_t *out, size_t cap)
{
        size_t n = 0;
        out[n++] = self;
        json_t *members = json_object_get(doc, "members"), *mem;
        size_t i;
        json_array_foreach(members, i, mem)
        {
                const char *s = json_string_value(json_object_get(mem, "pid"));
                int64_t p = 0;
                struct pop_err e = {0};
                if (s && n < cap && reg_parse_pid(s, &p, &e) == 0 && p != self)
                        out[n++] = p;
        }
        return n;
}

int http__h_household(struct http_req *rq, const struct http_match *m)
{
        struct http_guard g;
        struct access_need n = {.role = ACCESS_ROLE_READER,
                                .grants = ACCESS_BIT(ACCESS_G_HOUSEHOLD)};
        int64_t pid = 0;
        int rc = http_guard_begin(rq, "person.household", HTTP_GUARD_PURPOSE, &g);
        if (rc || (rc = one_person(&g, m, &n, &pid)))
                return finish(&g, rc);
        struct pop_err e = {0};
        struct residence res;
        rc = store_residence_current(g.reg->st, pid, RESIDENCE_PERMANENT, &res, &e);
        if (rc == 0 && !res.household)
                rc = POP_ENOTFOUND;
        if (rc == POP_ENOTFOUND)
                return finish(&g, http_guard_fail(&g, pid, 404, "household-none", "Not found",
                                                  "the person belongs to no household"));
        if (rc)
                return finish(&g, http_guard_store_error(&g, pid, &e));
        json_t *doc = NULL;
        struct pdate today;
        memset(&today, 0, sizeof today);
        if ((rc = reg_household_json(g.reg, res.household, today, &doc, &e)))
                return finish(&g, read_failed(&g, pid, rc, &e));
        /* The document releases data of every member: one audit entry per member. */
        int64_t subj[256];
        size_t ns = member_pids(doc, pid, subj, sizeof subj / sizeof subj[0]);
        uint64_t released = access_filter_json(g.client, ACCESS_DOC_HOUSEHOLD, doc);
        if (!released) {
                rc = http_guard_fail(&g, pid, 403, "grant-missing", "Forbidden",
                                     "none of the fields of this document is granted to the "
                                     "client");
        } else {
                uint64_t fields[256];
                for (size_t i = 0; i < ns; i++)
                        fields[i] = released;
                rc = http_guard_send_audited(&g, subj, fields, ns, 200, doc);
        }
        json_decref(doc);
        return finish(&g, rc);
}

int http__h_confirmation(struct http_req *rq, const struct http_match *m)
{
        struct http_guard g;
        /* A signed document cannot be filtered: every field it carries must be granted. */
        struct access_need n = {.role = ACCESS_ROLE_READER,
                                .grants =
                                    ACCESS_BIT(ACCESS_G_CONFIRMATION) | ACCESS_CONFIRMATION_FIELDS};
        int64_t pid = 0;
        int rc = http_guard_begin(rq, "residence.confirmation", HTTP_GUARD_PURPOSE, &g);
        if (rc || (rc = one_person(&g, m, &n, &pid)))
                return finish(&g, rc);
        struct reg_ctx ctx;
        reg_ctx_now(&ctx, g.actor);
        json_t *doc = NULL;
        struct pop_err e = {0};
        rc = reg_residence_confirm(g.reg, &ctx, pid, rq->srv->key_path, &doc, &e);
        if (rc == POP_ERULE) {
                /* Rules of reg_residence_confirm: person-deceased, residence-none. Their
                 * message names no person data beyond the fact the client asked about. */
                rc = http_guard_fail(&g, pid, 422, e.rule, "Cannot confirm residence",
                                     !strcmp(e.rule, "person-deceased")
                                         ? "the person is deceased"
                                         : "the person has no residence on record");
        } else if (rc == POP_ENOTFOUND) {
                rc = not_found(&g, pid);
        } else if (rc) {
                rc = http_guard_store_error(&g, pid, &e);
        } else {
                uint64_t f = ACCESS_CONFIRMATION_FIELDS;
                rc = http_guard_send_audited(&g, &pid, &f, 1, 200, doc);
        }
        json_decref(doc);
        return finish(&g, rc);
}

static bool parse_int(const char *s, long lo, long hi, long *out)
{
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < lo || v > hi)
                return false;
        *out = v;
        return true;
}

int http__h_access_log(struct http_req *rq, const struct http_match *m)
{
        struct http_guard g;
        struct access_need n = {.role = ACCESS_ROLE_ADMIN,
                                .grants = ACCESS_BIT(ACCESS_G_ACCESS_LOG),
                                .no_purpose = true};
        int64_t pid = 0;
        long before = 0, limit = ACCESS_LOG_LIMIT_DEFAULT;
        int rc = http_guard_begin(rq, "person.access-log", HTTP_GUARD_PURPOSE, &g);
        if (rc)
                return finish(&g, rc);
        const char *b = http_guard_query(&g, "before"), *l = http_guard_query(&g, "limit");
        if ((b && !parse_int(b, 1, LONG_MAX, &before)) ||
            (l && !parse_int(l, 1, ACCESS_LOG_LIMIT_MAX, &limit)))
                return finish(&g, http__problem(rq, 400, "query-parameter", "Malformed parameter",
                                                "before must be a positive sequence number and "
                                                "limit 1 to 500",
                                                NULL));
        if ((rc = one_person(&g, m, &n, &pid)))
                return finish(&g, rc);
        json_t *doc = NULL;
        struct pop_err e = {0};
        struct store *ast = NULL;
        if ((rc = http__worker_audit_store(g.w, &ast, &e)) ||
            (rc = audit_access_log(ast, pid, before, (int)limit, &doc, &e)))
                return finish(&g, http_guard_store_error(&g, pid, &e));
        uint64_t f = ACCESS_BIT(ACCESS_G_ACCESS_LOG);
        rc = http_guard_send_audited(&g, &pid, &f, 1, 200, doc);
        json_decref(doc);
        return finish(&g, rc);
}

/* ---- search ---- */

static const char *const search_keys[] = {"name",      "match",   "dob", "year",
                                          "born_from", "born_to", "sex", "province",
                                          "limit",     "cursor",  NULL};

/* A member as text: strings as they are, integers (year, limit) rendered into buf. */
static int member_text(json_t *body, const char *key, char *buf, size_t cap, const char **out)
{
        json_t *v = json_object_get(body, key);
        *out = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (json_is_string(v)) {
                *out = json_string_value(v);
                return 0;
        }
        if (json_is_integer(v)) {
                snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                *out = buf;
                return 0;
        }
        return POP_EINVAL;
}

/* The 2025 unit code of a search hit's province ({"code": "08", ...} or null): 0 when none. */
static int hit_province(json_t *hit)
{
        const char *c =
            json_string_value(json_object_get(json_object_get(hit, "province"), "code"));
        long v = 0;
        return c && parse_int(c, 1, 99, &v) ? (int)v : 0;
}

int http__h_search(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        struct http_guard g;
        json_t *body = NULL, *doc = NULL, *out = NULL;
        int64_t *subj = NULL;
        uint64_t *fields = NULL;
        struct pop_err e = {0};
        int rc = http_guard_begin(rq, "person.search", HTTP_GUARD_PURPOSE, &g);
        if (rc)
                goto out;
        if ((rc = http_guard_body(&g, &body)) ||
            (rc = http_guard_known_keys(&g, body, search_keys)))
                goto out;
        struct reg_search_args a = {0};
        char yb[24], lb[24], fb[24], tb[24];
        const char *bad = NULL;
        struct {
                const char *key;
                const char **dst;
                char *buf;
        } map[] = {
            {"name", &a.name, NULL},         {"match", &a.match, NULL},
            {"dob", &a.dob, NULL},           {"year", &a.year, yb},
            {"born_from", &a.born_from, fb}, {"born_to", &a.born_to, tb},
            {"sex", &a.sex, NULL},           {"province", &a.province, NULL},
            {"limit", &a.limit, lb},         {"cursor", &a.cursor, NULL},
        };
        for (size_t i = 0; i < sizeof map / sizeof map[0] && !bad; i++) {
                json_t *v = json_object_get(body, map[i].key);
                if (!map[i].buf && v && !json_is_string(v) && !json_is_null(v))
                        bad = map[i].key;
                else if (member_text(body, map[i].key, map[i].buf ? map[i].buf : yb, sizeof yb,
                                     map[i].dst))
                        bad = map[i].key;
        }
        if (bad) {
                char detail[128];
                snprintf(detail, sizeof detail, "'%s' has the wrong type", bad);
                rc = http__problem(rq, 400, "search-invalid", "Invalid search", detail, NULL);
                goto out;
        }
        /* Needs without a subject: role, search grant, purpose. */
        struct access_need n = {.role = ACCESS_ROLE_READER,
                                .grants = ACCESS_BIT(ACCESS_G_SEARCH),
                                .purpose = g.purpose,
                                .province = ACCESS_NO_SUBJECT};
        if ((rc = http_guard_check(&g, &n, 0)))
                goto out;
        if (!(g.client->grants & SEARCH_FIELDS)) {
                rc = http_guard_fail(&g, 0, 403, "grant-missing", "Forbidden",
                                     "none of the fields of a search result is granted to the "
                                     "client");
                goto out;
        }
        /* The query's province must itself be in scope (nothing outside it is reachable). */
        if (a.province && !g.client->scope.all) {
                int pc = 0;
                long v;
                if (parse_int(a.province, 1, 99, &v))
                        pc = (int)v;
                struct access_need np = n;
                np.province = pc;
                if ((rc = http_guard_check(&g, &np, 0)))
                        goto out;
        }
        if ((rc = http_guard_snapshot(&g)))
                goto out;
        rc = reg_search_json(g.reg, &a, &doc, &e);
        if (rc == POP_EINVAL || rc == POP_ETOOBIG) {
                /* The message names a field and at most echoes what the client sent. */
                rc = http__problem(rq, 400, e.rule[0] ? e.rule : "search-invalid", "Invalid search",
                                   e.msg, NULL);
                goto out;
        }
        if (rc) {
                rc = http_guard_store_error(&g, 0, &e);
                goto out;
        }
        /* Filter each result on its own: per person, the scope and the fields released. */
        json_t *results = json_object_get(doc, "results"), *kept = json_array(), *hit;
        size_t nres = json_array_size(results), ns = 0, i;
        subj = calloc(nres ? nres : 1, sizeof *subj);
        fields = calloc(nres ? nres : 1, sizeof *fields);
        out = json_pack("{s:o, s:O}", "results", kept, "next", json_object_get(doc, "next"));
        if (!kept || !subj || !fields || !out) {
                rc = http__problem(rq, 500, "internal", "Internal error", "out of memory", NULL);
                goto out;
        }
        json_array_foreach(results, i, hit)
        {
                int prov = hit_province(hit);
                struct access_need nh = n;
                struct access_denial d;
                nh.province = prov;
                if (!g.client->scope.all && access_check(g.client, &nh, &d))
                        continue;
                int64_t p = 0;
                const char *ps = json_string_value(json_object_get(hit, "pid"));
                if (!ps || reg_parse_pid(ps, &p, &e))
                        continue;
                json_t *one = json_pack("{s:[O]}", "results", hit);
                uint64_t rel = one ? access_filter_json(g.client, ACCESS_DOC_SEARCH, one) : 0;
                json_t *r0 = json_array_get(json_object_get(one, "results"), 0);
                if (rel && r0) {
                        json_array_append(kept, r0);
                        subj[ns] = p;
                        fields[ns] = rel;
                        ns++;
                }
                json_decref(one);
        }
        /* One entry per released subject, so each person's access log shows the search; a
         * search that released nobody leaves one entry without a subject. */
        if (ns) {
                rc = http_guard_send_audited(&g, subj, fields, ns, 200, out);
        } else {
                uint64_t none = 0;
                int64_t zero = 0;
                rc = http_guard_send_audited(&g, &zero, &none, 1, 200, out);
        }
out:
        free(subj);
        free(fields);
        json_decref(out);
        json_decref(doc);
        json_decref(body);
        return finish(&g, rc);
}
