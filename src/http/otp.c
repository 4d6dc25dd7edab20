/*
 * POST /v1/auth/otp and POST /v1/ekyc (docs/API.md "OTP and eKYC", docs/AUTH.md): a relying party
 * with the verifier role has the registry send a one-time password to the person's registered
 * channel (eid/otp.h; the message leaves through the durable outbox, hub/outbox.h), then presents
 * the code the person gave it. A right code is the person's consent to this one transaction: the
 * eKYC answer carries the person's fields the client is granted (access_filter_json: the grants
 * decide, never more) and a JWS over them signed with the registry's ES256 key.
 *
 * The guard pipeline as in persons.c. Every OTP request and every eKYC about a named person is
 * audited with its outcome (refusals included, 400s excepted, as guard.h says), and an answer is
 * released only once its entry is durable. The person's access log shows the request, each
 * delivery attempt (actor system:outbox) and the eKYC with the fields released.
 */
#include "http/otp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/pid.h"
#include "eid/otp.h"
#include "eid/verify.h"
#include "http/auth.h"
#include "http/guard.h"
#include "hub/outbox.h"

static const char *const otp_keys[] = {"pid", "channel", NULL};
static const char *const ekyc_keys[] = {"pid", "txn", "otp", "purpose", NULL};

static int64_t wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int bad(struct http_req *rq, const char *rule, const char *detail)
{
        int rc = http__problem(rq, 400, rule, "Invalid request", detail, NULL);
        return rc ? rc : HTTP_GUARD_DONE;
}

/* A member that must be a string when present; *out NULL when absent. */
static int opt_string(struct http_req *rq, json_t *body, const char *key, const char **out)
{
        json_t *v = json_object_get(body, key);
        *out = NULL;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v)) {
                char d[96];
                snprintf(d, sizeof d, "'%s' must be a string", key);
                return bad(rq, "body-invalid", d);
        }
        *out = json_string_value(v);
        return 0;
}

/* The needs of the call, checked without and then with the subject's province. For a scoped
 * client an unknown ID is outside the scope like a person without a permanent residence
 * (docs/ACCESS.md "Province scopes"): the same 403 as a person of another province, so the
 * refusal does not tell whether the ID exists. */
static int check_subject(struct http_guard *g, struct access_need *n, int64_t pid)
{
        n->province = ACCESS_NO_SUBJECT;
        int rc = http_guard_check(g, n, pid);
        if (rc || g->client->scope.all)
                return rc;
        int prov = 0;
        rc = http_guard_province(g, pid, &prov);
        if (rc && rc != POP_ENOTFOUND) {
                struct pop_err e = {0};
                pop_fail(&e, rc, "store", "reading the subject's residence failed");
                rc = http_guard_store_error(g, pid, &e);
                return rc ? rc : HTTP_GUARD_DONE;
        }
        n->province = rc == POP_ENOTFOUND ? 0 : prov;
        return http_guard_check(g, n, pid);
}

/* A copy of s in the request's arena: a held answer's header outlives the caller's buffer. */
static const char *arena_copy(struct http_req *rq, const char *s)
{
        size_t n = strlen(s) + 1;
        char *p = http_arena_alloc(&rq->arena, n);
        if (p)
                memcpy(p, s, n);
        return p;
}

/* An audit entry about pid with this outcome, then a problem with an optional header. The
 * entry's rule is audit_rule when not NULL (the real reason behind a uniform answer), else rule. */
static int refuse_audited(struct http_guard *g, int64_t pid, unsigned status, const char *rule,
                          const char *title, const char *detail, const char *audit_rule,
                          const char *hname, const char *hval)
{
        if (status == 404 || status == 403 || status >= 500) {
                int rc = http_guard_fail(g, pid, status, rule, title, detail);
                return rc ? rc : HTTP_GUARD_DONE;
        }
        /* The guard audits neither 422 nor 429; an OTP refusal about a named person is. The
         * answer is held with the connection suspended until its entry is durable, not the
         * worker thread (http_guard_answer_audited). */
        if (!g->rq->srv->cfg.audit) {
                int rc = http_guard_audit_failed(g);
                return rc ? rc : HTTP_GUARD_DONE;
        }
        const char *body;
        size_t len;
        if (hval) /* NULL when out of memory: the answer goes without the header */
                hval = arena_copy(g->rq, hval);
        int rc = http__problem_render(g->rq, status, rule, title, detail, &body, &len);
        if (rc)
                rc = http__send(g->rq, 500, "application/problem+json", body, len);
        else
                rc = http_guard_answer_audited(g, &pid, NULL, 1, "denied",
                                               audit_rule ? audit_rule : rule, status,
                                               "application/problem+json", body, len, hname, hval);
        return rc ? rc : HTTP_GUARD_DONE;
}

/*
 * The answer to a refusal of the OTP service (eid/otp.h's rules). Why no OTP can be used for a
 * person (unknown ID, deceased, no account or channel, the account's state) is a reason code in
 * the sense of docs/AUTH.md: shown only to a client with the verify_codes grant, as on
 * POST /v1/auth/verify (Decree 13/2023/ND-CP art. 3, data minimization). Others get one answer
 * for all of them, so it tells neither whether the ID exists nor whether the person died; the
 * audit entry keeps the real rule.
 */
static int otp_refused(struct http_guard *g, int64_t pid, int code, const struct pop_err *e,
                       int64_t retry_after_s)
{
        bool about_code = (code == POP_ERULE || code == POP_EVERIFY) &&
                          !strncmp(e->rule, "otp-", 4) && strcmp(e->rule, "otp-no-channel");
        bool about_subject = code == POP_ENOTFOUND || (code == POP_ERULE && !about_code);
        if (about_subject && !(g->client->grants & ACCESS_BIT(ACCESS_G_VERIFY_CODES)))
                return refuse_audited(g, pid, 422, "otp-not-possible", "Cannot use an OTP",
                                      "no OTP can be used for this personal ID (the reason is "
                                      "shown to clients granted verify_codes)",
                                      code == POP_ENOTFOUND ? "person-not-found" : e->rule, NULL,
                                      NULL);
        if (code == POP_ENOTFOUND)
                return refuse_audited(g, pid, 404, "person-not-found", "Not found",
                                      "no person with this personal ID", NULL, NULL, NULL);
        if (code == POP_EAGAIN) {
                char ra[24];
                snprintf(ra, sizeof ra, "%" PRId64, retry_after_s > 0 ? retry_after_s : 1);
                return refuse_audited(g, pid, 429, e->rule, "Too many OTPs", e->msg, NULL,
                                      MHD_HTTP_HEADER_RETRY_AFTER, ra);
        }
        if (code == POP_ERULE || code == POP_EVERIFY) {
                /* otp-* (the code) is 403: the consent was not given; the person's or the
                 * account's state is 422. The messages name no data beyond that state. */
                return refuse_audited(g, pid, about_code ? 403 : 422, e->rule,
                                      about_code ? "OTP refused" : "Cannot use an OTP", e->msg,
                                      NULL, NULL, NULL);
        }
        int rc = http_guard_store_error(g, pid, e);
        return rc ? rc : HTTP_GUARD_DONE;
}

/* Answers an audited document: held until the entry is durable. */
static int send_audited(struct http_guard *g, unsigned status, json_t *doc,
                        const struct audit_entry *en)
{
        struct pop_err e = {0};
        int rc = http__send_audited(g->rq, status, doc, en, 1, &e);
        if (rc) {
                fprintf(stderr, "popid http: audit write failed: %s [%s] id=%s\n", e.msg, e.rule,
                        g->rq->id);
                rc = !strcmp(e.rule, "audit-busy")
                         ? http__problem_hdr(g->rq, 503, "audit-busy", "Audit log busy",
                                             "too many accesses are waiting to be recorded in the "
                                             "audit log; no answer is released",
                                             MHD_HTTP_HEADER_RETRY_AFTER, "1")
                         : http_guard_audit_failed(g);
        }
        return rc;
}

static int unavailable(struct http_guard *g)
{
        int rc = http__problem(g->rq, 503, "otp-unavailable", "OTP unavailable",
                               "this server has no outbox key: OTPs cannot be sent", NULL);
        return rc ? rc : HTTP_GUARD_DONE;
}

int http__h_auth_otp(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        struct http_guard g;
        json_t *body = NULL, *doc = NULL;
        const char *pid_s = NULL, *ch_s = NULL;
        int64_t pid = 0;
        enum eid_otp_channel ch;
        struct pop_err e = {0};
        int rc = http_guard_begin(rq, "auth.otp", 0, &g);
        if (rc)
                goto out;
        if ((rc = http_guard_body(&g, &body)) || (rc = http_guard_known_keys(&g, body, otp_keys)) ||
            (rc = opt_string(rq, body, "pid", &pid_s)) ||
            (rc = opt_string(rq, body, "channel", &ch_s)))
                goto out;
        if (!pid_s || reg_parse_pid(pid_s, &pid, &e)) {
                rc = bad(rq, "pid-malformed", "pid must be a 12-digit personal ID");
                goto out;
        }
        if (eid_otp_channel_parse(ch_s, &ch, &e)) {
                rc = bad(rq, "otp-channel", e.msg);
                goto out;
        }
        if (!rq->srv->cfg.outbox_key) {
                rc = unavailable(&g);
                goto out;
        }
        /* Sending a code reads no personal data for the client: no purpose needed. */
        struct access_need n = {.role = ACCESS_ROLE_VERIFIER, .no_purpose = true};
        if ((rc = check_subject(&g, &n, pid)))
                goto out;
        struct eid_otp_ticket t;
        /* The code and its message commit only once their own entry is durable. */
        struct eid_otp_audit au = {
            .audit = rq->srv->cfg.audit, .actor = g.actor, .purpose = g.purpose};
        rc = eid_otp_request(g.reg->st, NULL, rq->srv->pepper, rq->srv->cfg.outbox_key, pid,
                             g.client->id, ch, wall_ms(), &au, &t, &e);
        if (rc == POP_EIO) {
                fprintf(stderr, "popid http: audit write failed: %s [%s] id=%s\n", e.msg, e.rule,
                        rq->id);
                rc = http_guard_audit_failed(&g);
                goto out;
        }
        if (rc) {
                rc = otp_refused(&g, pid, rc, &e, t.retry_after_s);
                goto out;
        }
        hub_outbox_kick(rq->srv->cfg.outbox);
        doc = json_pack("{s:s, s:s, s:s, s:I}", "txn", t.txn, "channel", t.channel, "sent_to",
                        t.sent_to, "expires_in", (json_int_t)((t.expires_ms - wall_ms()) / 1000));
        if (!doc) {
                rc = http__problem(rq, 500, "internal", "Internal error", "out of memory", NULL);
                goto out;
        }
        /* The OTP row and its message are durable (committed); the answer waits for the entry. */
        struct audit_entry en = {.actor = g.actor,
                                 .subject = pid,
                                 .action = g.action,
                                 .fields = "contact",
                                 .purpose = g.purpose,
                                 .outcome = "ok",
                                 .request_id = t.txn};
        rc = send_audited(&g, 202, doc, &en);
out:
        json_decref(doc);
        json_decref(body);
        http_guard_end(&g);
        return rc > 0 ? 0 : rc;
}

int http__h_ekyc(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        struct http_guard g;
        json_t *body = NULL, *person = NULL, *signed_doc = NULL, *ans = NULL;
        char *jws = NULL;
        const char *pid_s = NULL, *txn = NULL, *code = NULL, *purpose = NULL;
        int64_t pid = 0;
        struct pop_err e = {0};
        int rc = http_guard_begin(rq, "ekyc", 0, &g);
        if (rc)
                goto out;
        if ((rc = http_guard_body(&g, &body)) ||
            (rc = http_guard_known_keys(&g, body, ekyc_keys)) ||
            (rc = opt_string(rq, body, "pid", &pid_s)) ||
            (rc = opt_string(rq, body, "txn", &txn)) || (rc = opt_string(rq, body, "otp", &code)) ||
            (rc = opt_string(rq, body, "purpose", &purpose)))
                goto out;
        if (!pid_s || reg_parse_pid(pid_s, &pid, &e)) {
                rc = bad(rq, "pid-malformed", "pid must be a 12-digit personal ID");
                goto out;
        }
        if (!txn || !code) {
                rc = bad(rq, "body-invalid", "txn and otp are required");
                goto out;
        }
        /* The purpose is in the body (or ?purpose=, as on the read endpoints). */
        if (!purpose)
                purpose = http_guard_query(&g, "purpose");
        if (!purpose || access_purpose_check(purpose, strlen(purpose), &e)) {
                rc = bad(rq, "purpose-malformed", "purpose must be a code of 1 to 32 characters");
                goto out;
        }
        snprintf(g.purpose, sizeof g.purpose, "%s", purpose);
        struct access_need n = {.role = ACCESS_ROLE_VERIFIER, .purpose = g.purpose};
        if ((rc = check_subject(&g, &n, pid)))
                goto out;
        /* Nothing would be released: refuse before the code is spent. */
        if (!(g.client->grants & ACCESS_FIELDS_ALL)) {
                rc = http_guard_fail(&g, pid, 403, "grant-missing", "Forbidden",
                                     "none of the fields of a person is granted to the client");
                goto out;
        }
        /* The signer is loaded before the code is spent: when the key cannot be read, no answer
         * could be given, and the person's code stays usable for a retry (docs/AUTH.md). */
        const struct verify_signer *signer = http__signer(rq->srv->key_path, &e);
        if (!signer) {
                fprintf(stderr, "popid http: ekyc: %s [%s] id=%s\n", e.msg, e.rule, rq->id);
                rc = http_guard_fail(&g, pid, 503, "signing-unavailable", "Signing unavailable",
                                     "the registry cannot sign answers now");
                goto out;
        }
        /* The spend (or counted attempt) commits only once its own entry is durable. */
        struct eid_otp_audit au = {
            .audit = rq->srv->cfg.audit, .actor = g.actor, .purpose = g.purpose, .request_id = txn};
        rc = eid_otp_check(g.reg->st, NULL, rq->srv->pepper, txn, pid, g.client->id, code,
                           wall_ms(), &au, &e);
        if (rc == POP_EIO) {
                fprintf(stderr, "popid http: audit write failed: %s [%s] id=%s\n", e.msg, e.rule,
                        rq->id);
                rc = http_guard_audit_failed(&g);
                goto out;
        }
        if (rc == POP_EINVAL) {
                rc = bad(rq, e.rule, e.msg);
                goto out;
        }
        if (rc) {
                rc = otp_refused(&g, pid, rc, &e, 0);
                goto out;
        }
        if ((rc = http_guard_snapshot(&g)))
                goto out;
        if ((rc = reg_person_json(g.reg, pid, &person, &e))) {
                rc = rc == POP_ENOTFOUND
                         ? http_guard_fail(&g, pid, 404, "person-not-found", "Not found",
                                           "no person with this personal ID")
                         : http_guard_store_error(&g, pid, &e);
                goto out;
        }
        uint64_t released = access_filter_json(g.client, ACCESS_DOC_PERSON, person);
        char pid_text[PID_LEN + 1];
        pid_from_int(pid, pid_text);
        signed_doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:I}", "typ", "popid-ekyc", "txn",
                               txn, "client", g.client->id, "pid", pid_text, "purpose", g.purpose,
                               "person", person, "iat", (json_int_t)(wall_ms() / 1000));
        if (!signed_doc || verify_sign(signer, signed_doc, &jws, &e)) {
                fprintf(stderr, "popid http: ekyc: sign: %s [%s] id=%s\n", e.msg, e.rule, rq->id);
                rc = http_guard_fail(&g, pid, 503, "signing-unavailable", "Signing unavailable",
                                     "the registry cannot sign answers now");
                goto out;
        }
        ans = json_pack("{s:s, s:O, s:s}", "txn", txn, "person", person, "signed", jws);
        json_t *names = access_grants_json(released);
        char fields[AUDIT_FIELDS_MAX + 1];
        size_t fl = 0, i;
        json_t *v;
        fields[0] = '\0';
        json_array_foreach(names, i, v)
        {
                int k = snprintf(fields + fl, sizeof fields - fl, "%s%s", fl ? "," : "",
                                 json_string_value(v));
                if (k < 0 || (size_t)k >= sizeof fields - fl)
                        break;
                fl += (size_t)k;
        }
        json_decref(names);
        if (!ans) {
                rc = http__problem(rq, 500, "internal", "Internal error", "out of memory", NULL);
                goto out;
        }
        /* Audited with the fields released before anything is sent. */
        struct audit_entry en = {.actor = g.actor,
                                 .subject = pid,
                                 .action = g.action,
                                 .fields = fields,
                                 .purpose = g.purpose,
                                 .outcome = "ok",
                                 .request_id = txn};
        rc = send_audited(&g, 200, ans, &en);
out:
        if (body) {
                /* The OTP is a secret: its parsed copy wiped now, the raw body in the arena
                 * when the request ends (docs/AUTH.md "What is wiped"). */
                eid_json_wipe(body);
                http_arena_wipe_on_reset(&rq->arena);
        }
        free(jws);
        json_decref(ans);
        json_decref(signed_doc);
        json_decref(person);
        json_decref(body);
        http_guard_end(&g);
        return rc > 0 ? 0 : rc;
}
