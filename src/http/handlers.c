/*
 * The endpoints of the HTTP core and the route table. None of them touches personal data:
 * /healthz (a read through the store), /metrics, the API index /v1 and its OpenAPI document.
 * Every route here is described in docs/openapi.json; tests/unit/http/openapi_test.c keeps the
 * two in step.
 */
#include "http/http_int.h"

#include "audit/audit.h"
#include "http/auth.h"
#include "http/otp.h"
#include "hub/outbox.h"
#include "http/events.h"
#include "http/guard.h"

#include <stdio.h>
#include <time.h>

#ifndef POPID_VERSION
#define POPID_VERSION "unknown"
#endif

#define METRICS_MAX (4 * 1024 * 1024)

/*
 * 200 when this thread's store connection answers a read, 503 otherwise. The read is a
 * primary-key probe of the person table inside a read snapshot: it goes through the schema,
 * the WAL and an index page, and costs microseconds at any registry size. A failed check drops
 * the connection, so the next probe reopens it and the server recovers by itself.
 */
static int h_healthz(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        struct http_worker *w = http__worker(rq->srv);
        struct pop_err e = {0};
        struct reg *r = NULL;
        int rc = w ? http__worker_reg(w, &r, &e) : pop_fail(&e, POP_ENOMEM, "nomem", "no memory");
        if (rc == 0 && (rc = store_read_begin(r->st, &e)) == 0) {
                int found = store_person_exists(r->st, 0, &e);
                store_read_end(r->st);
                rc = found < 0 ? found : 0;
        }
        if (rc) {
                /* The store's message (a path, an SQLite error) goes to the operator, not the
                 * client. */
                fprintf(stderr, "popid http: healthz: store unusable: %s [%s] id=%s\n", e.msg,
                        e.rule, rq->id);
                if (w)
                        http__worker_reg_drop(w);
                return http__problem(rq, 503, "store-unavailable", "Store unavailable",
                                     "the registry store cannot be read", NULL);
        }
        static const char ok[] = "{\"status\":\"ok\"}";
        return http__send(rq, 200, "application/json", ok, sizeof ok - 1);
}

static int h_metrics(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        struct http_server *s = rq->srv;
        struct http_metrics_gauges g = {
            .workers = atomic_load(&s->n_workers),
            .store_conns = atomic_load(&s->n_store_conns),
            .start_time_s = s->start_time_s,
            .has_audit = s->cfg.audit != NULL,
            .audit_queue = s->cfg.audit ? (long)audit_queue_depth(s->cfg.audit) : 0,
        };
        if (s->cfg.audit) {
                struct audit_stats as;
                audit_get_stats(s->cfg.audit, &as);
                g.audit_entries = as.entries;
                g.audit_batches = as.batches;
                g.audit_failed = as.failed;
                g.audit_checkpoints = as.checkpoints;
        }
        struct http_buf b;
        http_buf_init(&b, &rq->arena, METRICS_MAX);
        http_metrics_render(&s->metrics, s->routes, &g, &b);
        http_clients_render(&s->clients, &b);
        if (s->cfg.outbox) {
                /* The OTP outbox (hub/outbox.h): rows by state as of the delivery thread's last
                 * pass, and this process's attempts. */
                struct hub_outbox_stats os;
                hub_outbox_get_stats(s->cfg.outbox, &os);
                http_buf_printf(&b,
                                "# HELP popid_outbox_messages Outbox messages by state.\n"
                                "# TYPE popid_outbox_messages gauge\n"
                                "popid_outbox_messages{state=\"pending\"} %lld\n"
                                "popid_outbox_messages{state=\"delivered\"} %lld\n"
                                "popid_outbox_messages{state=\"dead\"} %lld\n"
                                "# HELP popid_outbox_attempts_total Webhook delivery attempts.\n"
                                "# TYPE popid_outbox_attempts_total counter\n"
                                "popid_outbox_attempts_total %lld\n"
                                "# HELP popid_outbox_failures_total Failed delivery attempts.\n"
                                "# TYPE popid_outbox_failures_total counter\n"
                                "popid_outbox_failures_total %lld\n",
                                (long long)os.pending, (long long)os.delivered, (long long)os.dead,
                                (long long)os.attempts, (long long)os.failures);
        }
        if (b.failed)
                return http__problem(rq, 500, "internal", "Internal error",
                                     "the metrics could not be rendered", NULL);
        return http__send(rq, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.len);
}

/* The API index: where the description and the operational endpoints are. */
static int h_index(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        static const char index[] = "{\"service\":\"popid\",\"version\":\"" POPID_VERSION "\","
                                    "\"openapi\":\"/v1/openapi.json\",\"health\":\"/healthz\","
                                    "\"metrics\":\"/metrics\"}";
        return http__send(rq, 200, "application/json", index, sizeof index - 1);
}

static int h_openapi(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        return http__send(rq, 200, "application/json", (const char *)http__openapi_json,
                          http__openapi_json_len);
}

/* Literal routes before parameter routes that could shadow them (router.h). */
const struct http_route http__routes[] = {
    {"GET", "/healthz", h_healthz},
    {"GET", "/metrics", h_metrics},
    {"GET", "/v1", h_index},
    {"GET", "/v1/openapi.json", h_openapi},
    {"POST", "/v1/auth/verify", http__h_verify},
    {"POST", "/v1/auth/otp", http__h_auth_otp},
    {"POST", "/v1/ekyc", http__h_ekyc},
    {"POST", "/v1/auth/verify-batch", http__h_verify_batch},
    {"POST", "/v1/persons/search", http__h_search},
    {"GET", "/v1/persons/{pid}", http__h_person},
    {"GET", "/v1/persons/{pid}/residence", http__h_residence},
    {"GET", "/v1/persons/{pid}/household", http__h_household},
    {"GET", "/v1/persons/{pid}/access-log", http__h_access_log},
    {"GET", "/v1/residence-confirmations/{pid}", http__h_confirmation},
    {"POST", "/v1/events", http__h_events_post},
    {"GET", "/v1/changes", http__h_changes},
};
const size_t http__n_routes = sizeof http__routes / sizeof http__routes[0];
