/*
 * The request pipeline of the /v1 data endpoints (guard.h has the contract and the order of
 * the checks). Everything a guarded call allocates comes from the request's arena, except the
 * jansson documents, which the handler owns; the client record is borrowed from the worker's
 * client cache and stays valid for the request (the cache only reloads on the next
 * authentication on this thread).
 */
#include "http/guard.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A problem with no audit entry; 0 once queued (the guard's callers stop). */
static int refuse(struct http_req *rq, unsigned status, const char *rule, const char *title,
                  const char *detail)
{
        int rc = http__problem(rq, status, rule, title, detail, NULL);
        return rc ? rc : HTTP_GUARD_DONE;
}

static int store_unavailable(struct http_req *rq, struct http_worker *w, const struct pop_err *e)
{
        fprintf(stderr, "popid http: store unusable: %s [%s] id=%s\n", e->msg, e->rule, rq->id);
        if (w)
                http__worker_reg_drop(w);
        return refuse(rq, 503, "store-unavailable", "Store unavailable",
                      "the registry store cannot be read");
}

/* The pepper, read once per server from <db>.pepper; missing until the first client exists. */
static bool load_pepper(struct http_server *s)
{
        if (atomic_load(&s->have_pepper))
                return true;
        pthread_mutex_lock(&s->pepper_lock);
        if (!atomic_load(&s->have_pepper)) {
                char path[4096];
                struct pop_err e = {0};
                if (access_pepper_path(s->cfg.db, path, sizeof path, &e) == 0 &&
                    access_pepper_load(path, false, s->pepper, &e) == 0)
                        atomic_store(&s->have_pepper, true);
        }
        pthread_mutex_unlock(&s->pepper_lock);
        return atomic_load(&s->have_pepper);
}

static int unauthorized(struct http_req *rq, const struct access_denial *d)
{
        /* RFC 6750 section 3.1: error="invalid_token" once a token was presented. */
        bool presented = strcmp(d->rule, "token-missing") != 0;
        int rc = http__problem_hdr(rq, 401, d->rule, "Unauthorized", d->detail,
                                   MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                   presented ? "Bearer realm=\"popid\", error=\"invalid_token\""
                                             : "Bearer realm=\"popid\"");
        return rc ? rc : HTTP_GUARD_DONE;
}

int http_guard_begin(struct http_req *rq, const char *action, unsigned flags, struct http_guard *g)
{
        memset(g, 0, sizeof *g);
        g->rq = rq;
        g->action = action;
        struct http_server *s = rq->srv;
        struct pop_err e = {0};
        struct access_denial d = {0};
        if (!(g->w = http__worker(s)))
                return POP_ENOMEM;
        int rc = http__worker_reg(g->w, &g->reg, &e);
        if (rc)
                return store_unavailable(rq, g->w, &e);

        const char *hdr =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!load_pepper(s)) {
                /* No pepper: no client was ever made, so no token can be valid. The header's
                 * form is still judged first, as it is with clients. */
                struct access_token t;
                rc = access_bearer_parse(hdr, &t, &d);
                sodium_memzero(&t, sizeof t);
                if (!rc) {
                        d.status = 401;
                        d.rule = "token-unknown";
                        snprintf(d.detail, sizeof d.detail, "no such credential");
                }
                return unauthorized(rq, &d);
        }
        if (!g->w->cache &&
            (rc = access_cache_new(g->reg->st, s->pepper, ACCESS_CACHE_TTL_MS, &g->w->cache, &e)))
                return store_unavailable(rq, g->w, &e);
        rc = access_authenticate(g->w->cache, hdr, now_ms(), &g->client, &d, &e);
        if (rc == POP_ERULE)
                return unauthorized(rq, &d);
        if (rc)
                return store_unavailable(rq, g->w, &e);
        rq->client = http_clients_slot(&s->clients, g->client->id);
        snprintf(g->actor, sizeof g->actor, "client:%s", g->client->id);

        rc = access_limit(s->limiter, g->client, mono_ns(), &d, &e);
        if (rc == POP_ERULE) {
                char ra[24];
                snprintf(ra, sizeof ra, "%" PRId64, d.retry_after);
                rc = http__problem_hdr(rq, 429, d.rule, "Too many requests", d.detail,
                                       MHD_HTTP_HEADER_RETRY_AFTER, ra);
                return rc ? rc : HTTP_GUARD_DONE;
        }
        if (rc) /* POP_EFULL: more clients than the limiter tracks */
                return refuse(rq, 503, "limiter-full", "Service unavailable",
                              "the rate limiter tracks too many clients");

        if (flags & HTTP_GUARD_PURPOSE) {
                const char *p = http_guard_query(g, "purpose");
                if (p && *p) {
                        if (access_purpose_check(p, strlen(p), &e))
                                return refuse(rq, 400, "purpose-malformed", "Malformed purpose",
                                              "purpose must be a code of 1 to 32 characters "
                                              "a-z 0-9 -");
                        snprintf(g->purpose, sizeof g->purpose, "%s", p);
                }
        }
        return 0;
}

int http_guard_snapshot(struct http_guard *g)
{
        struct pop_err e = {0};
        if (store_read_begin(g->reg->st, &e))
                return store_unavailable(g->rq, g->w, &e);
        g->in_snapshot = true;
        return 0;
}

void http_guard_end(struct http_guard *g)
{
        if (g->in_snapshot) {
                store_read_end(g->reg->st);
                g->in_snapshot = false;
        }
}

int http_guard_province(struct http_guard *g, int64_t pid, int *province)
{
        struct pop_err e = {0};
        struct residence res;
        *province = 0;
        int rc = store_person_exists(g->reg->st, pid, &e);
        if (rc == 0)
                return POP_ENOTFOUND;
        if (rc < 0)
                return rc;
        rc = store_residence_current(g->reg->st, pid, RESIDENCE_PERMANENT, &res, &e);
        if (rc == POP_ENOTFOUND)
                return 0;
        if (rc)
                return rc;
        *province = res.province;
        return 0;
}

/* The names of a field set, comma-separated, into the arena. */
static const char *field_names(struct http_req *rq, uint64_t set)
{
        char *out = http_arena_alloc(&rq->arena, AUDIT_FIELDS_MAX + 1);
        size_t n = 0;
        if (!out)
                return "";
        out[0] = '\0';
        for (int f = 0; f < ACCESS_N_GRANTS; f++) {
                if (!(set & ACCESS_BIT(f)))
                        continue;
                const char *name = access_grant_info(f)->name;
                size_t l = strlen(name);
                if (n + l + 2 > AUDIT_FIELDS_MAX)
                        break;
                if (n)
                        out[n++] = ',';
                memcpy(out + n, name, l + 1);
                n += l;
        }
        return out;
}

int http_guard_audit_failed(struct http_guard *g)
{
        return http__problem(g->rq, 503, "audit-unavailable", "Audit log unavailable",
                             "the access could not be recorded in the audit log, so no data is "
                             "released",
                             NULL);
}

/* The answer when entries could not even be queued (e from http__send_audited*): 503, and
 * audit-busy with Retry-After when the writer's queue is full. */
static int queue_failed(struct http_guard *g, const struct pop_err *e)
{
        fprintf(stderr, "popid http: audit write failed: %s [%s] id=%s\n", e->msg, e->rule,
                g->rq->id);
        if (!strcmp(e->rule, "audit-busy"))
                return http__problem_hdr(g->rq, 503, "audit-busy", "Audit log busy",
                                         "too many accesses are waiting to be recorded in the "
                                         "audit log; no data is released",
                                         MHD_HTTP_HEADER_RETRY_AFTER, "1");
        return http_guard_audit_failed(g);
}

/*
 * A refusal about subject (403, 404, 5xx) answered once its audit entry (outcome, rule) is
 * durable, like a released document (DESIGN.md "Durability rule": the refusal too tells the
 * client something about the subject). The problem is rendered now and held with the connection
 * suspended, so no thread waits for the commit. 0 once held or answered.
 */
static int refuse_audited(struct http_guard *g, int64_t subject, const char *outcome,
                          const char *rule, unsigned status, const char *title, const char *detail)
{
        const char *body;
        size_t len;
        struct pop_err e = {0};
        if (!g->rq->srv->cfg.audit)
                return http_guard_audit_failed(g);
        if (http__problem_render(g->rq, status, rule, title, detail, &body, &len))
                return http__send(g->rq, 500, "application/problem+json", body, len);
        struct audit_entry en = {
            .actor = g->actor,
            .subject = subject,
            .action = g->action,
            .fields = "",
            .purpose = g->purpose,
            .outcome = outcome,
            .rule = rule,
            .request_id = g->rq->id,
        };
        int rc = http__send_audited_body(g->rq, status, "application/problem+json", body, len, NULL,
                                         NULL, &en, 1, &e);
        if (rc)
                return queue_failed(g, &e);
        g->audited = true;
        return 0;
}

int http_guard_check(struct http_guard *g, const struct access_need *n, int64_t subject)
{
        struct access_denial d = {0};
        if (access_check(g->client, n, &d) == 0)
                return 0;
        int rc =
            refuse_audited(g, subject, "denied", d.rule, (unsigned)d.status, "Forbidden", d.detail);
        return rc ? rc : HTTP_GUARD_DONE;
}

int http_guard_fail(struct http_guard *g, int64_t subject, unsigned status, const char *rule,
                    const char *title, const char *detail)
{
        const char *outcome = status == 404   ? "not-found"
                              : status == 403 ? "denied"
                              : status >= 500 ? "error"
                                              : NULL;
        if (outcome)
                return refuse_audited(g, subject, outcome, rule, status, title, detail);
        return http__problem(g->rq, status, rule, title, detail, NULL);
}

int http_guard_store_error(struct http_guard *g, int64_t subject, const struct pop_err *err)
{
        fprintf(stderr, "popid http: store error: %s [%s] id=%s\n", err->msg, err->rule, g->rq->id);
        http_guard_end(g);
        /* The cache goes with the connection: g->client must not be used after this. */
        g->client = NULL;
        http__worker_reg_drop(g->w);
        g->reg = NULL;
        return refuse_audited(g, subject, "error", "store-unavailable", 503, "Store unavailable",
                              "the registry store cannot be read");
}

int http_guard_send(struct http_guard *g, int64_t subject, enum access_doc kind, json_t *doc)
{
        uint64_t released = access_filter_json(g->client, kind, doc);
        if (!released)
                return http_guard_fail(g, subject, 403, "grant-missing", "Forbidden",
                                       "none of the fields of this document is granted to the "
                                       "client");
        /* The answer is held, not the thread: the connection is suspended until the writer
         * has committed the entry (http__send_audited). */
        struct audit_entry en = {
            .actor = g->actor,
            .subject = subject,
            .action = g->action,
            .fields = field_names(g->rq, released),
            .purpose = g->purpose,
            .outcome = "ok",
            .request_id = g->rq->id,
        };
        struct pop_err e = {0};
        int rc = http__send_audited(g->rq, 200, doc, &en, 1, &e);
        return rc ? queue_failed(g, &e) : 0;
}

/* The entries of http_guard_audit (outcome "ok"), or with another outcome and rule, in the
 * arena; NULL when n is 0 or over the cap. */
static struct audit_entry *entries(struct http_guard *g, const int64_t *subjects,
                                   const uint64_t *fields, size_t n, const char *outcome,
                                   const char *rule)
{
        if (n == 0 || n > AUDIT_MANY_MAX)
                return NULL;
        struct audit_entry *en = http_arena_alloc(&g->rq->arena, n * sizeof *en);
        for (size_t i = 0; en && i < n; i++)
                en[i] = (struct audit_entry){
                    .actor = g->actor,
                    .subject = subjects[i],
                    .action = g->action,
                    .fields = fields ? field_names(g->rq, fields[i]) : "",
                    .purpose = g->purpose,
                    .outcome = outcome,
                    .rule = rule,
                    .request_id = g->rq->id,
                };
        return en;
}

int http_guard_send_audited(struct http_guard *g, const int64_t *subjects, const uint64_t *fields,
                            size_t n, unsigned status, json_t *doc)
{
        struct pop_err e = {0};
        struct audit_entry *en = entries(g, subjects, fields, n, "ok", "");
        if (!en) {
                pop_fail(&e, n ? POP_ENOMEM : POP_EINVAL, "audit-entries",
                         "%zu audit entries for one answer", n);
                return queue_failed(g, &e);
        }
        int rc = http__send_audited(g->rq, status, doc, en, n, &e);
        if (rc)
                return queue_failed(g, &e);
        g->audited = true;
        return 0;
}

int http_guard_answer_audited(struct http_guard *g, const int64_t *subjects, const uint64_t *fields,
                              size_t n, const char *outcome, const char *rule, unsigned status,
                              const char *content_type, const char *body, size_t len,
                              const char *hname, const char *hval)
{
        struct pop_err e = {0};
        int64_t none = 0;
        if (n == 0) {
                subjects = &none;
                fields = NULL;
                n = 1;
        }
        struct audit_entry *en = entries(g, subjects, fields, n, outcome, rule ? rule : "");
        if (!en) {
                pop_fail(&e, POP_ENOMEM, "audit-entries", "%zu audit entries for one answer", n);
                return queue_failed(g, &e);
        }
        int rc =
            http__send_audited_body(g->rq, status, content_type, body, len, hname, hval, en, n, &e);
        if (rc)
                return queue_failed(g, &e);
        g->audited = true;
        return 0;
}

int http_guard_audit(struct http_guard *g, const int64_t *subjects, const uint64_t *fields,
                     size_t n)
{
        struct audit *a = g->rq->srv->cfg.audit;
        struct pop_err e = {0};
        if (!a)
                return POP_EIO;
        if (n == 0)
                return 0;
        if (n > AUDIT_MANY_MAX)
                return POP_ETOOBIG;
        struct audit_entry *en = entries(g, subjects, fields, n, "ok", "");
        if (!en)
                return POP_ENOMEM;
        int rc = audit_log_many(a, en, n, NULL, &e);
        if (rc)
                fprintf(stderr, "popid http: audit write failed: %s [%s] id=%s\n", e.msg, e.rule,
                        g->rq->id);
        else
                g->audited = true;
        return rc;
}

int http_guard_send_raw(struct http_guard *g, unsigned status, json_t *doc)
{
        return http__send_json(g->rq, status, doc);
}

int http_guard_known_keys(struct http_guard *g, json_t *body, const char *const *allowed)
{
        const char *key;
        json_t *v;
        json_object_foreach(body, key, v)
        {
                (void)v;
                bool known = false;
                for (const char *const *a = allowed; *a && !known; a++)
                        known = !strcmp(*a, key);
                if (!known) {
                        char detail[160];
                        snprintf(detail, sizeof detail,
                                 "unknown member '%.64s' in the request body", key);
                        return refuse(g->rq, 400, "unknown-field", "Unknown field", detail);
                }
        }
        return 0;
}

int http_guard_body(struct http_guard *g, json_t **out)
{
        json_error_t je;
        *out = NULL;
        if (!g->rq->body.len)
                return refuse(g->rq, 400, "body-json", "Malformed JSON",
                              "the request needs a JSON object body");
        json_t *j = json_loadb(g->rq->body.p, g->rq->body.len, JSON_REJECT_DUPLICATES, &je);
        if (!j) {
                char detail[200];
                snprintf(detail, sizeof detail, "the body is not valid JSON: line %d column %d",
                         je.line, je.column);
                return refuse(g->rq, 400, "body-json", "Malformed JSON", detail);
        }
        if (!json_is_object(j)) {
                json_decref(j);
                return refuse(g->rq, 400, "body-not-object", "Malformed JSON",
                              "the body must be a JSON object");
        }
        *out = j;
        return 0;
}

int http_guard_pid(struct http_guard *g, const struct http_match *m, int64_t *pid)
{
        size_t len;
        const char *v = http_match_param(m, "pid", &len);
        char buf[HTTP_PARAM_MAX + 1];
        struct pop_err e = {0};
        if (v && len <= HTTP_PARAM_MAX) {
                memcpy(buf, v, len);
                buf[len] = '\0';
                if (reg_parse_pid(buf, pid, &e) == 0)
                        return 0;
        }
        return refuse(g->rq, 400, "pid-malformed", "Malformed personal ID",
                      "a personal ID is 12 digits with a valid province, century and sex code");
}

const char *http_guard_query(struct http_guard *g, const char *key)
{
        return MHD_lookup_connection_value(g->rq->conn, MHD_GET_ARGUMENT_KIND, key);
}
