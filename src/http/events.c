/*
 * The write side of the data-sharing API and its change feed (docs/API.md "Life events" and
 * "Change feed"):
 *
 *   POST /v1/events    a life event, the same JSON as `popid event` (docs/EVENTS.md), by a
 *                      registrar within its province scope, with an optional Idempotency-Key;
 *   GET  /v1/changes   the journal after a cursor, a page at a time, filtered to the client's
 *                      province scope and field grants.
 *
 * Both go through the request pipeline of guard.h (credentials, rate limit, access_check,
 * audit before the answer). A write is answered only once the event's transaction (holding its
 * idempotency record) is committed and its audit entries are durable; if the audit write fails
 * the client gets 503 and its retry with the same key replays the kept answer, auditing it then.
 */
#include "http/events.h"
#include "http/guard.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDEM_TTL_MS        (24LL * 3600 * 1000) /* an Idempotency-Key's answer is kept 24 h */
#define CHANGES_LIMIT_DEF  50
#define CHANGES_LIMIT_MAX  100  /* items per page: its audit entries fit one audit_log_many */
#define CHANGES_SCAN_MAX   5000 /* journal rows looked at per page */
#define CURSOR_MAC_BYTES   8
#define EVENT_SUBJECTS_MAX 8

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int finish(struct http_guard *g, int rc)
{
        http_guard_end(g);
        return rc > 0 ? 0 : rc;
}

/* Client input errors, not audited (nothing was looked up). */
static int bad_request(struct http_guard *g, unsigned status, const char *rule, const char *title,
                       const char *detail)
{
        return http__problem(g->rq, status, rule, title, detail, NULL);
}

/*
 * A refusal about the subjects (entries "denied" with the rule; one without a subject when
 * none is named), answered once they are durable with the connection suspended meanwhile.
 */
static int refuse_subjects(struct http_guard *g, const int64_t *subjects, size_t n,
                           const char *rule, unsigned status, const char *title, const char *detail)
{
        const char *body;
        size_t len;
        if (http__problem_render(g->rq, status, rule, title, detail, &body, &len))
                return http__send(g->rq, 500, "application/problem+json", body, len);
        return http_guard_answer_audited(g, subjects, NULL, n, "denied", rule, status,
                                         "application/problem+json", body, len, NULL, NULL);
}

/* ---- POST /v1/events ---- */

static const char *const named_keys[] = {"pid", "a", "b", "new_head", "father", "mother"};

/* The personal IDs an event document names, in named_keys order, without duplicates. */
static size_t event_subjects(json_t *ev, int64_t *out)
{
        size_t n = 0;
        for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++) {
                json_t *v = json_object_get(ev, named_keys[i]);
                int64_t pid = 0;
                struct pop_err e = {0};
                if (!json_is_string(v) || reg_parse_pid(json_string_value(v), &pid, &e))
                        continue;
                bool dup = false;
                for (size_t j = 0; j < n; j++)
                        dup |= out[j] == pid;
                if (!dup && n < EVENT_SUBJECTS_MAX)
                        out[n++] = pid;
        }
        return n;
}

/* RFC draft-ietf-httpapi-idempotency-key-header: our form is 1..64 of [A-Za-z0-9_-]. */
static bool idem_key_ok(const char *k)
{
        size_t n = strlen(k);
        if (n < 1 || n > STORE_IDEM_KEY_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)k[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

struct post {
        struct http_guard *g;
        const char *key; /* Idempotency-Key, or NULL */
        uint8_t hash[STORE_IDEM_HASH];
        json_t *in;
        char *body; /* the answer, as sent and as kept (malloc) */
        size_t body_len;
        bool key_taken; /* idem_put lost a race to a concurrent request with the key */
        int64_t subjects[EVENT_SUBJECTS_MAX];
        uint64_t fields[EVENT_SUBJECTS_MAX];
        size_t n_subjects;
};

static bool in_scope(void *ctx, int unit)
{
        const struct post *p = ctx;
        return access_scope_has(&p->g->client->scope, unit);
}

/*
 * In the event's transaction: the answer (the registry's result plus the personal IDs the
 * event names, which a replay audits again) and, with a key, its idempotency record.
 */
static int before_commit(void *ctx, struct store *st, const json_t *result, struct pop_err *err)
{
        struct post *p = ctx;
        json_t *doc = json_deep_copy(result);
        if (!doc)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        /* A birth's allocated ID is among its subjects. */
        json_t *pid = json_object_get(doc, "pid");
        if (json_is_string(pid) && !json_object_get(p->in, "pid"))
                json_object_set(p->in, "pid", pid);
        p->n_subjects = event_subjects(p->in, p->subjects);
        json_t *subjects = json_array();
        for (size_t i = 0; i < p->n_subjects; i++) {
                char b[PID_LEN + 1];
                pid_from_int(p->subjects[i], b);
                json_array_append_new(subjects, json_string(b));
        }
        json_object_set_new(doc, "subjects", subjects);
        free(p->body);
        p->body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        if (!p->body)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        p->body_len = strlen(p->body);
        if (!p->key)
                return 0;
        struct store_idem *r = calloc(1, sizeof *r);
        if (!r)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        int64_t now = now_ms();
        snprintf(r->client, sizeof r->client, "%s", p->g->client->id);
        snprintf(r->key, sizeof r->key, "%s", p->key);
        memcpy(r->request_hash, p->hash, sizeof r->request_hash);
        r->status = 201;
        r->created_ms = now;
        int rc = 0;
        if (p->body_len > STORE_IDEM_BODY_MAX) {
                rc = pop_fail(err, POP_ETOOBIG, "idempotency-body", "the answer is too large");
        } else {
                memcpy(r->body, p->body, p->body_len);
                r->body_len = p->body_len;
                rc = store_idem_put(st, r, now - IDEM_TTL_MS, err);
                p->key_taken = rc == POP_ECONFLICT;
        }
        free(r);
        return rc;
}

/* The catalogue fields an applied event wrote about each subject, for the audit entries. */
static void written_fields(struct post *p, const char *type, json_t *in)
{
        json_t *date = json_object_get(in, "date");
        json_t *docs = reg_change_docs(type, in, date ? date : json_null());
        size_t i;
        json_t *d;
        json_array_foreach(docs, i, d)
        {
                int64_t pid = 0;
                struct pop_err e = {0};
                json_t *v = json_object_get(d, "pid");
                if (!json_is_string(v) || reg_parse_pid(json_string_value(v), &pid, &e))
                        continue;
                uint64_t f = access_filter_grants(ACCESS_FIELDS_ALL, ACCESS_DOC_PERSON, d);
                for (size_t j = 0; j < p->n_subjects; j++)
                        if (p->subjects[j] == pid)
                                p->fields[j] |= f;
        }
        json_decref(docs);
}

/* A kept answer: audited again (the first time may have been lost with a crash), then sent
 * with Idempotent-Replayed. */
static int replay(struct post *p, const struct store_idem *r)
{
        struct http_guard *g = p->g;
        if (sodium_memcmp(r->request_hash, p->hash, sizeof p->hash) != 0)
                return bad_request(g, 422, "idempotency-key-reused", "Idempotency key reused",
                                   "this Idempotency-Key was used with a different request "
                                   "in the last 24 hours");
        json_error_t je;
        json_t *doc = json_loadb(r->body, r->body_len, 0, &je);
        json_t *subjects = json_object_get(doc, "subjects");
        size_t i;
        json_t *v;
        p->n_subjects = 0;
        json_array_foreach(subjects, i, v)
        {
                int64_t pid = 0;
                struct pop_err e = {0};
                if (json_is_string(v) && p->n_subjects < EVENT_SUBJECTS_MAX &&
                    reg_parse_pid(json_string_value(v), &pid, &e) == 0)
                        p->subjects[p->n_subjects++] = pid;
        }
        json_decref(doc);
        char *body = http_arena_alloc(&g->rq->arena, r->body_len + 1);
        if (!body)
                return POP_ENOMEM;
        memcpy(body, r->body, r->body_len + 1);
        if (!p->n_subjects)
                return http__send_hdr(g->rq, (unsigned)r->status, "application/json", body,
                                      r->body_len, "Idempotent-Replayed", "true");
        return http_guard_answer_audited(g, p->subjects, NULL, p->n_subjects, "ok", "",
                                         (unsigned)r->status, "application/json", body, r->body_len,
                                         "Idempotent-Replayed", "true");
}

/* Looks the key up: 1 when an answer was sent (replayed or 422), 0 when there is none. */
static int lookup_key(struct post *p, int *sent)
{
        *sent = 0;
        struct store_idem *r = calloc(1, sizeof *r);
        if (!r)
                return POP_ENOMEM;
        struct pop_err e = {0};
        int rc =
            store_idem_get(p->g->reg->st, p->g->client->id, p->key, now_ms() - IDEM_TTL_MS, r, &e);
        if (rc == 0) {
                *sent = 1;
                rc = replay(p, r);
        } else if (rc == POP_ENOTFOUND) {
                rc = 0;
        } else {
                rc = http_guard_store_error(p->g, 0, &e);
                *sent = 1;
        }
        free(r);
        return rc;
}

/* docs/API.md "Life events": a refusal's status by its code and rule. */
static int refused(struct post *p, int code, const struct pop_err *e)
{
        struct http_guard *g = p->g;
        p->n_subjects = event_subjects(p->in, p->subjects);
        int64_t first = p->n_subjects ? p->subjects[0] : 0;
        switch (code) {
        case POP_EINVAL: /* malformed: the message names a field and what the client sent */
                return bad_request(g, 400, e->rule, "Malformed event", e->msg);
        case POP_ENOTFOUND: /* a named record is missing: the message holds only its ID */
                return http_guard_fail(g, first, 404, e->rule, "Not found", e->msg);
        case POP_ERULE:
        case POP_EFULL: {
                bool scope = !strcmp(e->rule, "province-out-of-scope");
                char detail[160];
                /* The registry's message may name people and dates of the records: only the
                 * rule is said (docs/ACCESS.md "Errors follow the same rule"). */
                snprintf(detail, sizeof detail,
                         scope ? "the event's province is outside the client's province scope"
                               : "the event breaks the rule '%s' (docs/EVENTS.md)",
                         e->rule);
                return refuse_subjects(g, p->subjects, p->n_subjects, e->rule, scope ? 403 : 422,
                                       scope ? "Forbidden" : "Event refused", detail);
        }
        case POP_ECONFLICT:
                return refuse_subjects(g, p->subjects, p->n_subjects, "conflict", 409, "Conflict",
                                       "a concurrent change won; retry the request");
        default:
                return http_guard_store_error(g, first, e);
        }
}

/* The audit action of each type: "event.<type>" (static strings, as audit entries borrow them). */
static const char *const event_actions[] = {
    "event.enrol",
    "event.birth",
    "event.death",
    "event.marriage",
    "event.divorce",
    "event.correction",
    "event.residence.register",
    "event.residence.move",
    "event.residence.deregister",
    "event.temporary.register",
    "event.temporary.extend",
    "event.temporary.deregister",
    "event.household.head",
    "event.card.issue",
    "event.card.renew",
    "event.card.lost",
    "event.card.revoke",
};

static const char *event_action(const char *type)
{
        for (size_t i = 0; i < sizeof event_actions / sizeof event_actions[0]; i++)
                if (!strcmp(event_actions[i] + 6, type))
                        return event_actions[i];
        return "event";
}

static int post_event(struct post *p)
{
        struct http_guard *g = p->g;
        struct http_req *rq = g->rq;
        const char *key = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Idempotency-Key");
        if (key && !idem_key_ok(key))
                return bad_request(g, 400, "idempotency-key-malformed", "Malformed Idempotency-Key",
                                   "an Idempotency-Key is 1 to 64 characters A-Z a-z 0-9 _ -");
        p->key = key;
        int rc = http_guard_body(g, &p->in);
        if (rc)
                return rc;
        json_t *jt = json_object_get(p->in, "type");
        if (json_is_string(jt))
                g->action = event_action(json_string_value(jt));
        struct access_need n = {
            .role = ACCESS_ROLE_REGISTRAR, .purpose = g->purpose, .province = ACCESS_NO_SUBJECT};
        if ((rc = http_guard_check(g, &n, 0)))
                return rc;

        /* The request as the key binds it: the purpose and the body's bytes. */
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, sizeof p->hash);
        crypto_generichash_update(&h, (const unsigned char *)g->purpose, strlen(g->purpose) + 1);
        crypto_generichash_update(&h, (const unsigned char *)rq->body.p, rq->body.len);
        crypto_generichash_final(&h, p->hash, sizeof p->hash);
        int sent = 0;
        if (p->key && ((rc = lookup_key(p, &sent)) || sent))
                return rc;

        struct reg_ctx ctx;
        reg_ctx_now(&ctx, g->actor);
        struct reg_apply_opts o = {.in_scope = in_scope, .before_commit = before_commit, .ctx = p};
        json_t *result = NULL;
        struct pop_err e = {0};
        json_t *ev = json_deep_copy(p->in); /* reg_event_apply reads it; p->in gains the pid */
        rc = reg_event_apply_opts(g->reg, &ctx, ev, &o, &result, &e);
        json_decref(ev);
        if (rc && p->key_taken) {
                /* A concurrent request with the same key committed first: answer as it was. */
                if ((rc = lookup_key(p, &sent)) || sent)
                        return rc;
                return http__problem(rq, 409, "conflict", "Conflict",
                                     "a concurrent request with this key did not keep an answer",
                                     NULL);
        }
        if (rc)
                return refused(p, rc, &e);
        json_t *date = json_object_get(result, "date");
        if (date)
                json_object_set(p->in, "date", date);
        written_fields(p, json_string_value(jt), p->in);
        json_decref(result);
        char *body = http_arena_alloc(&rq->arena, p->body_len + 1);
        if (!body)
                return POP_ENOMEM;
        memcpy(body, p->body, p->body_len + 1);
        if (!p->n_subjects)
                return http__send(rq, 201, "application/json", body, p->body_len);
        /* Written and acknowledged only once its entries are durable (no thread waits). */
        return http_guard_answer_audited(g, p->subjects, p->fields, p->n_subjects, "ok", "", 201,
                                         "application/json", body, p->body_len, NULL, NULL);
}

static bool client_in_scope(void *ctx, int unit)
{
        const struct http_guard *g = ctx;
        return access_scope_has(&g->client->scope, unit);
}

int http__h_events_post(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        struct http_guard g;
        struct post p = {.g = &g};
        int rc = http_guard_begin(rq, "event", HTTP_GUARD_PURPOSE, &g);
        if (rc == 0)
                rc = post_event(&p);
        json_decref(p.in);
        free(p.body);
        return finish(&g, rc);
}

/* ---- GET /v1/changes ---- */

/* The cursor "<seq>.<16 hex>": the position and a MAC of it and the client under the server's
 * pepper, so a cursor is the client's own and was made by this registry. */
static void cursor_mac(const struct http_guard *g, int64_t seq, char hex[2 * CURSOR_MAC_BYTES + 1])
{
        char msg[96];
        int n = snprintf(msg, sizeof msg, "changes-cursor:%s:%" PRId64, g->client->id, seq);
        uint8_t mac[CURSOR_MAC_BYTES];
        crypto_generichash(mac, sizeof mac, (const unsigned char *)msg, (size_t)n,
                           g->rq->srv->pepper, sizeof g->rq->srv->pepper);
        sodium_bin2hex(hex, 2 * CURSOR_MAC_BYTES + 1, mac, sizeof mac);
}

static bool cursor_parse(const struct http_guard *g, const char *s, int64_t *seq)
{
        char *end;
        if (!s || s[0] < '0' || s[0] > '9' || strlen(s) > 40)
                return false;
        long long v = strtoll(s, &end, 10);
        if (*end != '.' || v < 0 || (s[0] == '0' && end != s + 1))
                return false;
        char want[2 * CURSOR_MAC_BYTES + 1];
        cursor_mac(g, v, want);
        if (strlen(end + 1) != 2 * CURSOR_MAC_BYTES ||
            sodium_memcmp(want, end + 1, 2 * CURSOR_MAC_BYTES) != 0)
                return false;
        *seq = v;
        return true;
}

static int changes(struct http_guard *g)
{
        int64_t after = 0;
        long limit = CHANGES_LIMIT_DEF;
        const char *c = http_guard_query(g, "after");
        if (c && *c && !cursor_parse(g, c, &after))
                return bad_request(g, 400, "cursor-malformed", "Malformed cursor",
                                   "after must be a cursor this API returned as next");
        const char *l = http_guard_query(g, "limit");
        if (l) {
                char *end;
                limit = strtol(l, &end, 10);
                if (!*l || *end || limit < 1 || limit > CHANGES_LIMIT_MAX)
                        return bad_request(g, 400, "limit-malformed", "Malformed limit",
                                           "limit must be a whole number from 1 to 100");
        }
        struct access_need n = {
            .role = ACCESS_ROLE_READER,
            .grants = ACCESS_BIT(ACCESS_G_CHANGES) | ACCESS_BIT(ACCESS_G_PID),
            .purpose = g->purpose,
            .province = ACCESS_NO_SUBJECT,
        };
        int rc = http_guard_check(g, &n, 0);
        if (rc || (rc = http_guard_snapshot(g)))
                return rc;
        struct reg_changes_query q = {
            .after = after,
            .limit = (int)limit,
            .max_scan = CHANGES_SCAN_MAX,
            .in_scope = g->client->scope.all ? NULL : client_in_scope,
            .ctx = g,
        };
        json_t *items = NULL;
        int64_t next = after;
        bool more = false;
        struct pop_err e = {0};
        if ((rc = reg_changes(g->reg, &q, &items, &next, &more, &e)))
                return http_guard_store_error(g, 0, &e);
        http_guard_end(g);

        /* Filter each person entry; one audit entry per person named on the page, with the
         * fields released about them (pid at least: the item names them). */
        size_t max = (size_t)limit * EVENT_SUBJECTS_MAX;
        int64_t *subjects = http_arena_alloc(&g->rq->arena, max * sizeof *subjects);
        uint64_t *fields = http_arena_alloc(&g->rq->arena, max * sizeof *fields);
        size_t n_subjects = 0;
        if (!subjects || !fields) {
                json_decref(items);
                return POP_ENOMEM;
        }
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
                json_t *list = json_object_get(item, "changes");
                for (size_t k = 0; k < json_array_size(list);) {
                        json_t *d = json_array_get(list, k);
                        json_t *pv = json_object_get(d, "pid");
                        int64_t pid = 0;
                        struct pop_err pe = {0};
                        if (json_is_string(pv) &&
                            reg_parse_pid(json_string_value(pv), &pid, &pe) != 0)
                                pid = 0;
                        uint64_t rel = access_filter_json(g->client, ACCESS_DOC_PERSON, d);
                        size_t j = 0;
                        while (j < n_subjects && subjects[j] != pid)
                                j++;
                        if (j == n_subjects && n_subjects < max) {
                                subjects[n_subjects] = pid;
                                fields[n_subjects++] = ACCESS_BIT(ACCESS_G_PID);
                        }
                        if (j < n_subjects)
                                fields[j] |= rel;
                        if (!(rel & ~ACCESS_BIT(ACCESS_G_PID)))
                                json_array_remove(list, k);
                        else
                                k++;
                }
                json_t *subs = json_object_get(item, "subjects");
                json_t *sv;
                size_t si;
                json_array_foreach(subs, si, sv)
                {
                        int64_t pid = 0;
                        struct pop_err pe = {0};
                        if (!json_is_string(sv) || reg_parse_pid(json_string_value(sv), &pid, &pe))
                                continue;
                        size_t j = 0;
                        while (j < n_subjects && subjects[j] != pid)
                                j++;
                        if (j == n_subjects && n_subjects < max) {
                                subjects[n_subjects] = pid;
                                fields[n_subjects++] = ACCESS_BIT(ACCESS_G_PID);
                        }
                }
        }
        char mac[2 * CURSOR_MAC_BYTES + 1];
        cursor_mac(g, next, mac);
        char cursor[64];
        snprintf(cursor, sizeof cursor, "%" PRId64 ".%s", next, mac);
        json_t *doc = json_pack("{s:o,s:s,s:b}", "items", items, "next", cursor, "more", more);
        if (!doc)
                return POP_ENOMEM;
        /* A page naming people is held until their entries are durable (no thread waits). */
        if (n_subjects)
                rc = http_guard_send_audited(g, subjects, fields, n_subjects, 200, doc);
        else
                rc = http__send_json(g->rq, 200, doc);
        json_decref(doc);
        return rc;
}

int http__h_changes(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        struct http_guard g;
        int rc = http_guard_begin(rq, "changes.read", HTTP_GUARD_PURPOSE, &g);
        if (rc == 0)
                rc = changes(&g);
        return finish(&g, rc);
}
