/*
 * POST /v1/auth/verify (docs/API.md "Verification", docs/AUTH.md): a relying party with the
 * verifier role asks whether claimed attributes of a person are right and gets yes or no, a
 * transaction id, the reason code when its policy allows (grant verify_codes), and a JWS over
 * the answer signed with the registry's ES256 key, so it can later prove what the registry said.
 * Nothing of the registry's data is in the answer.
 *
 * The guard pipeline as in persons.c: authenticate, rate limit, role and the grants of the
 * compared attributes (a verification is an oracle on them: docs/ACCESS.md), then the answer is
 * held until its audit entry is durable (http__send_audited: the thread is not blocked). The
 * entry names the compared attributes, never their values, and carries the txn as request id.
 */
#include "http/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eid/otp.h"
#include "eid/verify.h"
#include "http/guard.h"

static const char *const verify_keys[] = {"pid", "name",    "dob",   "sex", "address",
                                          "otp", "otp_txn", "match", NULL};

/* ---- the signer, one per key file for the life of the process ---- */

#define SIGNERS_MAX 4

static pthread_mutex_t signers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
        char path[4096];
        struct verify_signer *s;
} signers[SIGNERS_MAX];

/* The signer of key_path, loaded on first use; NULL with err on failure. */
const struct verify_signer *http__signer(const char *key_path, struct pop_err *err)
{
        const struct verify_signer *found = NULL;
        pthread_mutex_lock(&signers_lock);
        int free_slot = -1;
        for (int i = 0; i < SIGNERS_MAX && !found; i++) {
                if (signers[i].s && !strcmp(signers[i].path, key_path))
                        found = signers[i].s;
                else if (!signers[i].s && free_slot < 0)
                        free_slot = i;
        }
        if (!found && free_slot >= 0) {
                struct verify_signer *s = NULL;
                if (verify_signer_open(key_path, &s, err) == 0) {
                        snprintf(signers[free_slot].path, sizeof signers[free_slot].path, "%s",
                                 key_path);
                        signers[free_slot].s = s;
                        found = s;
                }
        } else if (!found) {
                pop_fail(err, POP_EFULL, "signers-full", "too many signing keys in one process");
        }
        pthread_mutex_unlock(&signers_lock);
        return found;
}

/* ---- the request ---- */

static int bad_request(struct http_req *rq, const char *rule, const char *detail)
{
        return http__problem(rq, 400, rule, "Invalid verification request", detail, NULL);
}

/* Reads body into req; 0, or a queued 400 (HTTP_GUARD_DONE) / negative code. */
static int parse_request(struct http_guard *g, json_t *body, struct verify_request *req,
                         const char **otp_txn)
{
        char detail[200];
        memset(req, 0, sizeof *req);
        struct pop_err e = {0};
        json_t *pid = json_object_get(body, "pid"), *match = json_object_get(body, "match");
        int rc;
        if (!json_is_string(pid) || reg_parse_pid(json_string_value(pid), &req->pid, &e)) {
                rc = bad_request(g->rq, "pid-malformed", "pid must be a 12-digit personal ID");
                return rc ? rc : HTTP_GUARD_DONE;
        }
        if (!json_is_string(match) ||
            match_mode_parse(json_string_value(match), json_string_length(match), &req->mode, &e)) {
                rc = bad_request(g->rq, "match-invalid", "match must be \"exact\" or \"partial\"");
                return rc ? rc : HTTP_GUARD_DONE;
        }
        for (int a = 0; a < VERIFY_N_ATTRS; a++) {
                const char *k = verify_attr_info((enum verify_attr)a)->name;
                json_t *v = json_object_get(body, k);
                if (!v || json_is_null(v))
                        continue;
                if (!json_is_string(v)) {
                        snprintf(detail, sizeof detail, "'%s' must be a string", k);
                        rc = bad_request(g->rq, "attribute-type", detail);
                        return rc ? rc : HTTP_GUARD_DONE;
                }
                req->claim[a].s = json_string_value(v);
                req->claim[a].len = json_string_length(v);
        }
        /* An OTP (POST /v1/auth/otp) comes with the txn it was issued under. */
        json_t *txn = json_object_get(body, "otp_txn");
        if (!req->claim[VERIFY_A_OTP].s != (!txn || json_is_null(txn)) ||
            (txn && !json_is_null(txn) && !json_is_string(txn))) {
                rc = bad_request(g->rq, "otp-txn",
                                 "otp and otp_txn (the txn of POST /v1/auth/otp) go together");
                return rc ? rc : HTTP_GUARD_DONE;
        }
        *otp_txn = txn ? json_string_value(txn) : NULL;
        return 0;
}

static int64_t now_s(void)
{
        return (int64_t)time(NULL);
}

int http__h_verify(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        struct http_guard g;
        json_t *body = NULL, *signed_doc = NULL, *ans = NULL, *attrs = NULL;
        char *jws = NULL;
        struct pop_err e = {0};
        struct verify_request req;
        struct verify_answer va;
        const char *otp_txn = NULL;
        int rc = http_guard_begin(rq, "auth.verify", HTTP_GUARD_PURPOSE, &g);
        if (rc)
                goto out;
        if ((rc = http_guard_body(&g, &body)) ||
            (rc = http_guard_known_keys(&g, body, verify_keys)) ||
            (rc = parse_request(&g, body, &req, &otp_txn)))
                goto out;
        /* The role, and every compared attribute granted: a verification is an oracle. */
        struct access_need n = {
            .role = ACCESS_ROLE_VERIFIER, .purpose = g.purpose, .province = ACCESS_NO_SUBJECT};
        for (int a = 0; a < VERIFY_N_ATTRS; a++) {
                if (!req.claim[a].s)
                        continue;
                const char *f = verify_attr_info((enum verify_attr)a)->field;
                int gi = access_grant_lookup(f, strlen(f));
                if (gi >= 0)
                        n.grants |= ACCESS_BIT(gi);
        }
        if ((rc = http_guard_check(&g, &n, req.pid)))
                goto out;
        /* The signer is loaded before an OTP is spent: when the key cannot be read, the answer
         * could not be given, and the person's code stays usable for a retry (docs/AUTH.md). */
        const struct verify_signer *signer = http__signer(rq->srv->key_path, &e);
        if (!signer) {
                fprintf(stderr, "popid http: verify: %s [%s] id=%s\n", e.msg, e.rule, rq->id);
                rc = http_guard_fail(&g, req.pid, 503, "signing-unavailable", "Signing unavailable",
                                     "the registry cannot sign answers now");
                goto out;
        }
        /* The OTP is checked (and spent: a write) before the read snapshot; verify_check then
         * answers otp-mismatch, or a code of the person or account that comes first. A wrong or
         * malformed code, or another client's txn, is a mismatch (a malformed one a 400 below). */
        if (otp_txn) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                /* The spend (or counted attempt) commits only once its own entry is durable:
                 * a synchronous wait, for OTP verifications only (docs/AUTH.md). */
                struct eid_otp_audit au = {.audit = rq->srv->cfg.audit,
                                           .actor = g.actor,
                                           .purpose = g.purpose,
                                           .request_id = rq->id};
                int orc = eid_otp_check(g.reg->st, NULL, rq->srv->pepper, otp_txn, req.pid,
                                        g.client->id, req.claim[VERIFY_A_OTP].s,
                                        (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &au, &e);
                if (orc == POP_EIO) {
                        fprintf(stderr, "popid http: audit write failed: %s [%s] id=%s\n", e.msg,
                                e.rule, rq->id);
                        rc = http_guard_audit_failed(&g);
                        goto out;
                }
                if (orc == POP_ESTORE || orc == POP_ENOMEM || orc == POP_EAGAIN) {
                        rc = http_guard_store_error(&g, req.pid, &e);
                        goto out;
                }
                req.otp_ok = orc == 0;
        }
        if ((rc = http_guard_snapshot(&g)))
                goto out;
        /* A client with a province scope verifies only people whose residence is in it. An
         * unknown ID is outside every limited scope, as a person without a permanent residence
         * is (docs/ACCESS.md "Province scopes"): the same 403, so that a scoped client cannot
         * tell an unknown ID ("no") from a person of another province (403). */
        if (!g.client->scope.all) {
                int prov = 0;
                int prc = http_guard_province(&g, req.pid, &prov);
                if (prc && prc != POP_ENOTFOUND) {
                        pop_fail(&e, prc, "store", "reading the subject's residence failed");
                        rc = http_guard_store_error(&g, req.pid, &e);
                        goto out;
                }
                n.province = prc == POP_ENOTFOUND ? 0 : prov;
                if ((rc = http_guard_check(&g, &n, req.pid)))
                        goto out;
        }
        rc = verify_check(g.reg->st, &req, &va, &e);
        if (rc == POP_EINVAL || rc == POP_ETOOBIG) {
                /* The message names the attribute and echoes at most what the client sent. */
                rc = bad_request(rq, "claim-invalid", e.msg);
                goto out;
        }
        if (rc) {
                rc = http_guard_store_error(&g, req.pid, &e);
                goto out;
        }
        char txn[VERIFY_TXN_LEN], pid_text[PID_LEN + 1], fields[128];
        verify_txn(txn);
        pid_from_int(req.pid, pid_text);
        verify_fields(va.compared, fields, sizeof fields);
        bool show_code = g.client->grants & ACCESS_BIT(ACCESS_G_VERIFY_CODES);
        attrs = json_array();
        for (int a = 0; a < VERIFY_N_ATTRS; a++)
                if (va.compared & (1u << a))
                        json_array_append_new(
                            attrs, json_string(verify_attr_info((enum verify_attr)a)->name));
        /* What is signed: the question as asked (the relying party's own data) and the answer. */
        signed_doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:I}", "typ",
                               "popid-verification", "txn", txn, "client", g.client->id, "pid",
                               pid_text, "match", match_mode_name(req.mode), "attributes", attrs,
                               "result", va.yes ? "yes" : "no", "iat", (json_int_t)now_s());
        if (signed_doc && show_code)
                json_object_set_new(signed_doc, "code", json_string(va.code));
        if (!signed_doc || verify_sign(signer, signed_doc, &jws, &e)) {
                fprintf(stderr, "popid http: verify: sign: %s id=%s\n", e.msg, rq->id);
                rc = http_guard_fail(&g, req.pid, 503, "signing-unavailable", "Signing unavailable",
                                     "the registry cannot sign answers now");
                goto out;
        }
        ans = json_pack("{s:s, s:s}", "result", va.yes ? "yes" : "no", "txn", txn);
        if (ans && show_code)
                json_object_set_new(ans, "code", json_string(va.code));
        if (ans)
                json_object_set_new(ans, "signed", json_string(jws));
        if (!ans) {
                rc = http__problem(rq, 500, "internal", "Internal error", "out of memory", NULL);
                goto out;
        }
        struct audit_entry en = {
            .actor = g.actor,
            .subject = req.pid,
            .action = g.action,
            .fields = fields,
            .purpose = g.purpose,
            .outcome = !strcmp(va.code, "pid-unknown") ? "not-found" : "ok",
            .rule = va.yes ? "" : va.code,
            .request_id = txn,
        };
        rc = http__send_audited(rq, 200, ans, &en, 1, &e);
        if (rc) {
                fprintf(stderr, "popid http: audit write failed: %s [%s] id=%s\n", e.msg, e.rule,
                        rq->id);
                rc = !strcmp(e.rule, "audit-busy")
                         ? http__problem_hdr(rq, 503, "audit-busy", "Audit log busy",
                                             "too many accesses are waiting to be recorded in the "
                                             "audit log; no answer is released",
                                             MHD_HTTP_HEADER_RETRY_AFTER, "1")
                         : http_guard_audit_failed(&g);
        }
out:
        if (json_object_get(body, "otp")) {
                /* The OTP is a secret: its parsed copy wiped now, the raw body in the arena
                 * when the request ends (docs/AUTH.md "What is wiped"). */
                eid_json_wipe(body);
                http_arena_wipe_on_reset(&rq->arena);
        }
        free(jws);
        json_decref(ans);
        json_decref(signed_doc);
        json_decref(attrs);
        json_decref(body);
        http_guard_end(&g);
        return rc > 0 ? 0 : rc;
}
