/*
 * The request pipeline of every /v1 endpoint that reads or writes personal data: credentials,
 * rate limit, the call's needs (role, grants, purpose, province scope), the response filter and
 * the audit log, in that order, with one rule at the end: a response carrying personal data is
 * queued only after its audit entry is durable (DESIGN.md "Durability rule"). docs/ACCESS.md has
 * the refusal rules, docs/API.md what a client sees.
 *
 * How a handler uses it (see persons.c for every read endpoint):
 *
 *     struct http_guard g;
 *     int rc = http_guard_begin(rq, "person.read", HTTP_GUARD_PURPOSE, &g);
 *     if (rc)                                   // HTTP_GUARD_DONE: a 401/429/400 is queued
 *             return rc > 0 ? 0 : rc;           // < 0: nothing could be queued
 *     ... parse the path and body: http_guard_fail(&g, 0, 400, ...) on bad input
 *     if ((rc = http_guard_snapshot(&g)))       // store_read_begin on g.reg->st (503 queued)
 *             return rc > 0 ? 0 : rc;
 *     ... read the subject's province (http_guard_province), then
 *     struct access_need n = {.role = ACCESS_ROLE_READER, .purpose = g.purpose,
 *                             .province = prov};
 *     rc = http_guard_check(&g, &n, pid);       // 403 queued and audited "denied"
 *     ... render the document (404: http_guard_fail(&g, pid, 404, "person-not-found", ...),
 *         which audits "not-found" with the pid as subject)
 *     rc = http_guard_send(&g, pid, ACCESS_DOC_PERSON, doc);   // filter, audit, then 200
 *     http_guard_end(&g);                       // ends the snapshot; always call it
 *
 * Every http_guard_* that answers returns 0 (or HTTP_GUARD_DONE from begin/snapshot/check)
 * once a response is queued, and a negative POP_E* code only when no response could be queued
 * (the connection is then closed). A handler that got HTTP_GUARD_DONE stops and returns 0.
 *
 * What is audited: every outcome of an authenticated client about personal data: "ok" with the
 * fields released, "denied" (403, rule id), "not-found" (404), "error" (a store failure after
 * the subject was named), each with actor "client:<id>", the subject pid when known, the action,
 * the purpose and the request id. Not audited: 401 (no client to name), 429 and 400 (refused
 * before anything was looked up; auditing them would let a client flood the log). When the
 * audit write fails the client gets 503 audit-unavailable and no data.
 *
 * Writes (POST /v1/events) use begin/check/fail the same way, without a snapshot, and
 * http_guard_audit + http_guard_send_raw to answer once their entries are durable.
 */
#ifndef POP_HTTP_GUARD_H
#define POP_HTTP_GUARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "access/access.h"
#include "audit/audit.h"
#include "http/http_int.h"

#define HTTP_GUARD_DONE 1 /* a response was queued: the handler stops */

/* Flags of http_guard_begin. */
#define HTTP_GUARD_PURPOSE 0x1u /* the call reads personal data: ?purpose= is required */

struct http_guard {
        struct http_req *rq;
        struct http_worker *w;
        struct reg *reg;                    /* the worker's registry connection */
        const struct access_client *client; /* valid during the request (the worker's cache) */
        const char *action;                 /* audit action, static */
        char purpose[ACCESS_PURPOSE_MAX + 1];
        char actor[8 + ACCESS_ID_MAX]; /* "client:<id>" */
        bool in_snapshot;              /* http_guard_snapshot began a read snapshot */
        bool audited;                  /* an entry of this request is durable */
};

/*
 * Starts a guarded call: the worker and its registry connection (503 store-unavailable),
 * Authorization: Bearer (401 with WWW-Authenticate), the client's rate limit (429 with
 * Retry-After) and, with HTTP_GUARD_PURPOSE, the ?purpose= query parameter's syntax (400
 * purpose-malformed; whether it is one of the client's is access_check's job). Returns 0 to go
 * on, HTTP_GUARD_DONE when a refusal was queued, or a negative code.
 */
int http_guard_begin(struct http_req *rq, const char *action, unsigned flags,
                     struct http_guard *g) POP_MUST_USE;

/* A store read snapshot around the rest of the call (ended by http_guard_end). */
int http_guard_snapshot(struct http_guard *g) POP_MUST_USE;
/* Ends the snapshot if any. Safe to call more than once. */
void http_guard_end(struct http_guard *g);

/*
 * The province of pid's current permanent residence as recorded (0: none), for
 * access_need.province. POP_ENOTFOUND when the person does not exist.
 */
int http_guard_province(struct http_guard *g, int64_t pid, int *province) POP_MUST_USE;

/*
 * access_check(client, n). On refusal audits a "denied" entry about subject (0: none) and
 * queues the 403 (type = the rule id): returns HTTP_GUARD_DONE. 0 when allowed.
 */
int http_guard_check(struct http_guard *g, const struct access_need *n,
                     int64_t subject) POP_MUST_USE;

/*
 * Audits an outcome without data about subject (0: none; outcome "not-found" for 404, "denied"
 * for 403, "error" for 5xx, nothing for 400) and queues the problem. detail must hold no person
 * data beyond what the client sent. Returns 0 or a negative code.
 */
int http_guard_fail(struct http_guard *g, int64_t subject, unsigned status, const char *rule,
                    const char *title, const char *detail) POP_MUST_USE;

/* A store failure: logs err for the operator, drops the connection, audits "error", 503. */
int http_guard_store_error(struct http_guard *g, int64_t subject,
                           const struct pop_err *err) POP_MUST_USE;

/*
 * Filters doc to the client's grants (access_filter_json), audits "ok" with the fields released
 * and, once the entry is durable, sends 200 with doc. The wait holds the answer, not the thread:
 * doc is rendered now, the entry queued and the connection suspended until the audit writer has
 * committed it (http__send_audited), so this returns 0 before anything is sent and the handler
 * ends as usual. Nothing released: audits "denied" and answers 403 grant-missing. Audit failure:
 * 503 audit-unavailable, no data; audit queue over its cap: 503 audit-busy with Retry-After.
 * doc stays the caller's.
 */
int http_guard_send(struct http_guard *g, int64_t subject, enum access_doc kind,
                    json_t *doc) POP_MUST_USE;

/*
 * Appends n entries (outcome "ok", action g->action) about subjects[i] with fields[i] released
 * (NULL: none) and waits until they are durable: 0, or a negative code (the caller answers 503
 * through http_guard_audit_failed). For calls that release several people (search) or that are
 * not filtered documents.
 */
int http_guard_audit(struct http_guard *g, const int64_t *subjects, const uint64_t *fields,
                     size_t n) POP_MUST_USE;
/* 503 audit-unavailable. */
int http_guard_audit_failed(struct http_guard *g) POP_MUST_USE;

/*
 * http_guard_audit and http_guard_send_raw in one, without holding the thread: renders doc (no
 * filter: the caller filtered it), queues the n entries and suspends the connection until they
 * are durable (http__send_audited), then status with doc; 503 audit-unavailable (or audit-busy)
 * and no data when they cannot be written. 0 once held or answered. doc stays the caller's.
 */
int http_guard_send_audited(struct http_guard *g, const int64_t *subjects, const uint64_t *fields,
                            size_t n, unsigned status, json_t *doc) POP_MUST_USE;
/*
 * The same for an answer already rendered (body static or in the arena, with its content type
 * and one extra header, hname NULL for none), with entries of any outcome and rule: for writes
 * (POST /v1/events: "ok" with the fields written, "denied" with the rule of a refusal). n 0
 * logs one entry without a subject.
 */
int http_guard_answer_audited(struct http_guard *g, const int64_t *subjects, const uint64_t *fields,
                              size_t n, const char *outcome, const char *rule, unsigned status,
                              const char *content_type, const char *body, size_t len,
                              const char *hname, const char *hval) POP_MUST_USE;

/* Queues 200 with doc, no filter and no audit: for documents already audited. */
int http_guard_send_raw(struct http_guard *g, unsigned status, json_t *doc) POP_MUST_USE;

/* Checks that every key of the JSON object body is in the NULL-terminated list allowed. On
 * failure queues 400 unknown-field naming the key (client input) and returns HTTP_GUARD_DONE. */
int http_guard_known_keys(struct http_guard *g, json_t *body,
                          const char *const *allowed) POP_MUST_USE;

/* Parses the JSON object body of the request; 400 body-json / body-not-object otherwise. */
int http_guard_body(struct http_guard *g, json_t **out) POP_MUST_USE;

/* A path parameter as a pid; 400 pid-malformed otherwise (the detail echoes nothing). */
int http_guard_pid(struct http_guard *g, const struct http_match *m, int64_t *pid) POP_MUST_USE;

/* The value of query parameter key (MHD-decoded), or NULL. */
const char *http_guard_query(struct http_guard *g, const char *key);

/* The read endpoints (persons.c), for the route table. */
http_handler_fn http__h_person, http__h_residence, http__h_household, http__h_confirmation,
    http__h_access_log, http__h_search;

#endif
