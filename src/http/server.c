/*
 * The HTTP server on libmicrohttpd (MHD): start and graceful stop, the worker threads' state,
 * the life of a request (request line, headers, body, dispatch through the router, response,
 * completion) and the response helpers. Handlers live in handlers.c.
 *
 * Threads: MHD runs an epoll loop in each of `threads` pool threads, and a connection stays on
 * the thread that accepted it, so every callback of a request runs on one thread. Each thread
 * has a `struct http_worker` (made on its first request, found through a thread-local
 * pointer) holding what must not be shared: its metrics block, its registry connection and a
 * few spare request objects. The hot path takes no lock.
 *
 * A request: MHD calls uri_logged() once the request line is read (we take the request object
 * and the raw path, before MHD decodes it), then on_request() for the headers, once per piece
 * of body, and once more at the end; on_completed() when the response has been sent or the
 * connection died. Bodies are capped while they arrive: a Content-Length over the cap gets its
 * 413 before a byte of body is read, a chunked body is counted as it comes and never buffered
 * past the cap.
 *
 * An answer with personal data waits for its audit entry without holding a thread
 * (http__send_audited): the handler renders it, queues the entry with audit_log_async and
 * suspends the connection (MHD_ALLOW_SUSPEND_RESUME); the audit writer's callback, after the
 * commit, resumes it; MHD then calls on_request() again and the held answer is queued. So a
 * pool thread serves other connections meanwhile, and one commit serves every request that
 * arrived during the previous one, however few the threads.
 */
#include "http/server.h"
#include "http/http_int.h"
#include "audit/audit.h"
#include "http/auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* After the cap, this many more body bytes are read and dropped while a 413 waits to be sent;
 * a client that keeps sending is cut off. */
#define HTTP_DRAIN_MAX      (1024 * 1024)
#define HTTP_JSON_MAX       (16 * 1024 * 1024) /* a rendered JSON response */
#define HTTP_LISTEN_BACKLOG 1024

static atomic_ulong server_ids; /* tells servers apart in the thread-local cache */

/* This thread's worker, and the server it belongs to (an id, not the pointer: a freed
 * server's address may be reused by the next one). */
static _Thread_local struct {
        unsigned long srv_id;
        struct http_worker *w;
} tl;

struct http_server_ext {
        struct http_server s;
        unsigned long id;
};

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned long server_id(const struct http_server *s)
{
        return ((const struct http_server_ext *)s)->id;
}

/* ---- workers ---- */

struct http_worker *http__worker(struct http_server *srv)
{
        unsigned long id = server_id(srv);
        if (tl.w && tl.srv_id == id)
                return tl.w;
        struct http_worker *w = calloc(1, sizeof *w);
        if (!w)
                return NULL;
        w->srv = srv;
        w->m = http_metrics_new(&srv->metrics);
        if (!w->m) {
                free(w);
                return NULL;
        }
        pthread_mutex_lock(&srv->lock);
        w->next = srv->workers;
        srv->workers = w;
        pthread_mutex_unlock(&srv->lock);
        atomic_fetch_add(&srv->n_workers, 1);
        tl.srv_id = id;
        tl.w = w;
        return w;
}

int http__worker_reg(struct http_worker *w, struct reg **out, struct pop_err *err)
{
        if (!w->reg) {
                int rc = reg_open(w->srv->cfg.db, &w->reg, err);
                if (rc)
                        return rc;
                atomic_fetch_add(&w->srv->n_store_conns, 1);
        }
        *out = w->reg;
        return 0;
}

int http__worker_audit_store(struct http_worker *w, struct store **out, struct pop_err *err)
{
        if (!w->audit_st) {
                int rc = audit_store_open(w->srv->cfg.db, &w->audit_st, err);
                if (rc)
                        return rc;
                atomic_fetch_add(&w->srv->n_store_conns, 1);
        }
        *out = w->audit_st;
        return 0;
}

void http__worker_reg_drop(struct http_worker *w)
{
        if (w->audit_st) {
                store_close(w->audit_st);
                w->audit_st = NULL;
                atomic_fetch_sub(&w->srv->n_store_conns, 1);
        }
        /* The client cache reads through the connection: it goes first. */
        access_cache_free(w->cache);
        w->cache = NULL;
        if (!w->reg)
                return;
        reg_close(w->reg);
        w->reg = NULL;
        atomic_fetch_sub(&w->srv->n_store_conns, 1);
}

/* A request id of our own: hex of random bytes, drawn from the worker's pool so that most
 * requests make no system call. */
static void new_reqid(struct http_worker *w, char *out)
{
        if (w->rnd_left < HTTP_REQID_RANDOM) {
                randombytes_buf(w->rnd, sizeof w->rnd);
                w->rnd_left = sizeof w->rnd;
        }
        unsigned char *b = w->rnd + (sizeof w->rnd - w->rnd_left);
        sodium_bin2hex(out, HTTP_REQID_MAX + 1, b, HTTP_REQID_RANDOM);
        sodium_memzero(b, HTTP_REQID_RANDOM);
        w->rnd_left -= HTTP_REQID_RANDOM;
}

static struct http_req *req_get(struct http_worker *w)
{
        struct http_req *rq = w->free_reqs;
        if (rq) {
                w->free_reqs = rq->next_free;
                w->n_free--;
        } else {
                rq = malloc(sizeof *rq);
                if (!rq)
                        return NULL;
                http_arena_init(&rq->arena);
                pthread_mutex_init(&rq->wait_lock, NULL);
        }
        rq->srv = w->srv;
        rq->conn = NULL;
        rq->next_free = NULL;
        rq->status = 0;
        rq->slot = w->srv->n_routes;
        rq->started = rq->too_long = rq->body_too_big = false;
        rq->drained = 0;
        rq->client = -1;
        rq->batch = NULL;
        rq->path_len = 0;
        rq->wait = HTTP_WAIT_NONE;
        rq->method[0] = rq->path[0] = rq->id[0] = '\0';
        http_buf_init(&rq->body, &rq->arena, w->srv->max_body);
        return rq;
}

static void req_free(struct http_req *rq)
{
        http_arena_reset(&rq->arena);
        pthread_mutex_destroy(&rq->wait_lock);
        free(rq);
}

static void req_put(struct http_worker *w, struct http_req *rq)
{
        if (w && w->n_free < HTTP_FREE_REQS) {
                http_arena_reset(&rq->arena);
                rq->next_free = w->free_reqs;
                w->free_reqs = rq;
                w->n_free++;
        } else {
                req_free(rq);
        }
}

/* ---- responses ---- */

static int send_full(struct http_req *rq, unsigned status, const char *content_type,
                     const char *body, size_t len, const char *hname, const char *hval)
{
        struct MHD_Response *r =
            MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
        if (!r)
                return POP_ENOMEM;
        int ok =
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) == MHD_YES &&
            MHD_add_response_header(r, "X-Request-Id", rq->id) == MHD_YES &&
            MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") == MHD_YES &&
            MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES;
        if (ok && hname && hval && *hval)
                ok = MHD_add_response_header(r, hname, hval) == MHD_YES;
        if (ok)
                ok = MHD_queue_response(rq->conn, status, r) == MHD_YES;
        MHD_destroy_response(r);
        if (!ok)
                return POP_EIO;
        rq->status = status;
        return 0;
}

int http__send(struct http_req *rq, unsigned status, const char *content_type, const char *body,
               size_t len)
{
        return send_full(rq, status, content_type, body, len, NULL, NULL);
}

int http__send_hdr(struct http_req *rq, unsigned status, const char *content_type, const char *body,
                   size_t len, const char *hname, const char *hval)
{
        return send_full(rq, status, content_type, body, len, hname, hval);
}

static int dump_cb(const char *data, size_t n, void *ctx)
{
        struct http_buf *b = ctx;
        http_buf_add(b, data, n);
        return b->failed ? -1 : 0;
}

static int render_json(struct http_req *rq, json_t *j, struct http_buf *b)
{
        http_buf_init(b, &rq->arena, HTTP_JSON_MAX);
        if (json_dump_callback(j, dump_cb, b, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 || b->failed)
                return POP_ENOMEM;
        return 0;
}

int http__send_json(struct http_req *rq, unsigned status, json_t *j)
{
        struct http_buf b;
        int rc = render_json(rq, j, &b);
        if (rc)
                return http__problem(rq, 500, "internal", "Internal error",
                                     "the response could not be rendered", NULL);
        return send_full(rq, status, "application/json", b.p, b.len, NULL, NULL);
}

int http__problem(struct http_req *rq, unsigned status, const char *rule, const char *title,
                  const char *detail, const char *allow)
{
        return http__problem_hdr(rq, status, rule, title, detail, MHD_HTTP_HEADER_ALLOW, allow);
}

static const char problem_fallback[] = "{\"type\":\"" HTTP_PROBLEM_BASE "internal\","
                                       "\"title\":\"Internal error\",\"status\":500}";

int http__problem_render(struct http_req *rq, unsigned status, const char *rule, const char *title,
                         const char *detail, const char **body, size_t *len)
{
        char type[160];
        snprintf(type, sizeof type, "%s%s", HTTP_PROBLEM_BASE, rule);
        /* RFC 9457 section 3.1; "instance" names this occurrence: the request id, which is also
         * in the X-Request-Id header and the server log. */
        json_t *j = json_pack("{s:s, s:s, s:i, s:s, s:s}", "type", type, "title", title, "status",
                              (int)status, "detail", detail ? detail : title, "instance", rq->id);
        struct http_buf b;
        int rc = j ? render_json(rq, j, &b) : POP_ENOMEM;
        json_decref(j);
        if (rc) {
                *body = problem_fallback;
                *len = sizeof problem_fallback - 1;
                return rc;
        }
        *body = b.p;
        *len = b.len;
        return 0;
}

int http__problem_hdr(struct http_req *rq, unsigned status, const char *rule, const char *title,
                      const char *detail, const char *hname, const char *hval)
{
        const char *body;
        size_t len;
        if (http__problem_render(rq, status, rule, title, detail, &body, &len))
                return send_full(rq, 500, "application/problem+json", body, len, NULL, NULL);
        return send_full(rq, status, "application/problem+json", body, len, hname, hval);
}

/* ---- answers held for the audit log ---- */

/* The audit writer's callback (on its thread): the entries are durable, or their batch failed. */
static void audited(void *ctx, int rc, const struct pop_err *err, const int64_t *seqs)
{
        (void)seqs;
        struct http_req *rq = ctx;
        struct http_server *srv = rq->srv;
        pthread_mutex_lock(&rq->wait_lock);
        if (rq->wait == HTTP_WAIT_ORPHANED) {
                pthread_mutex_unlock(&rq->wait_lock);
                req_free(rq);
        } else {
                if (rc)
                        fprintf(stderr, "popid http: audit write failed: %s [%s] id=%s\n",
                                err ? err->msg : "", err ? err->rule : "", rq->id);
                rq->wait_rc = rc;
                rq->wait = HTTP_WAIT_DONE;
                /* Under the lock: the connection stays suspended, so alive, until this call. */
                MHD_resume_connection(rq->conn);
                pthread_mutex_unlock(&rq->wait_lock);
        }
        atomic_fetch_sub(&srv->n_waiting, 1);
}

int http__send_audited(struct http_req *rq, unsigned status, json_t *doc,
                       const struct audit_entry *e, size_t n, struct pop_err *err)
{
        struct http_buf b;
        if (!rq->srv->cfg.audit)
                return pop_fail(err, POP_EIO, "audit-none", "the server has no audit log");
        if (render_json(rq, doc, &b))
                return pop_fail(err, POP_ENOMEM, "nomem", "the response could not be rendered");
        return http__send_audited_body(rq, status, "application/json", b.p, b.len, NULL, NULL, e, n,
                                       err);
}

int http__send_audited_body(struct http_req *rq, unsigned status, const char *content_type,
                            const char *body, size_t len, const char *hname, const char *hval,
                            const struct audit_entry *e, size_t n, struct pop_err *err)
{
        struct audit *a = rq->srv->cfg.audit;
        if (!a)
                return pop_fail(err, POP_EIO, "audit-none", "the server has no audit log");
        rq->held_status = status;
        rq->held_type = content_type;
        rq->held_body = body;
        rq->held_len = len;
        rq->held_hname = hname;
        rq->held_hval = hval;
        /* The lock is held from the queueing to the suspend: the callback, which takes it to
         * resume, cannot come before the connection is suspended. */
        pthread_mutex_lock(&rq->wait_lock);
        atomic_fetch_add(&rq->srv->n_waiting, 1);
        int rc = audit_log_async(a, e, n, audited, rq, err);
        if (rc == 0) {
                rq->wait = HTTP_WAIT_AUDIT;
                MHD_suspend_connection(rq->conn);
        } else {
                atomic_fetch_sub(&rq->srv->n_waiting, 1);
        }
        pthread_mutex_unlock(&rq->wait_lock);
        return rc;
}

/* The access handler's call after the resume: the held answer, or 503 and no data. */
static int send_held(struct http_req *rq)
{
        pthread_mutex_lock(&rq->wait_lock);
        enum http_wait st = rq->wait;
        if (st == HTTP_WAIT_DONE)
                rq->wait = HTTP_WAIT_NONE;
        pthread_mutex_unlock(&rq->wait_lock);
        if (st != HTTP_WAIT_DONE)
                return 0; /* still waiting (MHD does not call a suspended connection) */
        if (rq->wait_rc)
                return http__problem(rq, 503, "audit-unavailable", "Audit log unavailable",
                                     "the access could not be recorded in the audit log, so no "
                                     "data is released",
                                     NULL);
        return send_full(rq, rq->held_status, rq->held_type, rq->held_body, rq->held_len,
                         rq->held_hname, rq->held_hval);
}

/* ---- the life of a request ---- */

static void *uri_logged(void *cls, const char *uri, struct MHD_Connection *c)
{
        (void)c;
        struct http_server *srv = cls;
        struct http_worker *w = http__worker(srv);
        if (!w)
                return NULL;
        struct http_req *rq = req_get(w);
        if (!rq)
                return NULL;
        rq->t0_ns = now_ns();
        /* The raw path, as sent (MHD percent-decodes its own copy after this call): the router
         * refuses encoded parameters instead of guessing what they meant. */
        size_t n = strcspn(uri, "?");
        if (n > HTTP_PATH_MAX) {
                rq->too_long = true;
                n = 0;
        }
        memcpy(rq->path, uri, n);
        rq->path[n] = '\0';
        rq->path_len = n;
        return rq;
}

static bool parse_length(const char *s, uint64_t *out)
{
        uint64_t v = 0;
        if (!s || !*s)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
                        return false;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        *out = v;
        return true;
}

static int too_big(struct http_req *rq)
{
        char detail[96];
        snprintf(detail, sizeof detail, "the request body is larger than %zu bytes",
                 rq->srv->max_body);
        return http__problem(rq, 413, "body-too-large", "Request body too large", detail, NULL);
}

/* The headers are in: method, request id, and the checks that need no body. */
static int on_headers(struct http_req *rq, struct MHD_Connection *c, const char *method)
{
        struct http_worker *w = http__worker(rq->srv);
        if (!w)
                return POP_ENOMEM;
        rq->started = true;
        rq->conn = c;
        http_metrics_begin(w->m);
        snprintf(rq->method, sizeof rq->method, "%s", method);
        const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
        if (id && http_reqid_ok(id, strlen(id)))
                memcpy(rq->id, id, strlen(id) + 1);
        else
                new_reqid(w, rq->id);

        if (rq->too_long)
                return http__problem(rq, 414, "uri-too-long", "URI too long",
                                     "the request path is longer than 2048 bytes", NULL);
        /* A batch upload goes to a spool file under caps of its own, once its client is
         * admitted; a refusal is queued now, before any body byte (auth_batch.c). */
        int brc = http__batch_start(rq);
        if (brc)
                return brc < 0 ? brc : 0;
        uint64_t len;
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && parse_length(cl, &len) && len > rq->srv->max_body)
                return too_big(rq);
        return 0;
}

/* A piece of body: kept while under the cap, counted and dropped past it. */
static int on_body(struct http_req *rq, const char *data, size_t n)
{
        if (rq->batch)
                return http__batch_body(rq, data, n);
        if (!rq->body_too_big && n <= rq->srv->max_body - rq->body.len) {
                http_buf_add(&rq->body, data, n);
                return rq->body.failed ? POP_ENOMEM : 0;
        }
        /* MHD 0.9 cannot queue a response while a body arrives: the 413 goes out once the
         * body has ended, or the connection is cut past HTTP_DRAIN_MAX. */
        rq->body_too_big = true;
        rq->drained += n;
        return rq->drained > HTTP_DRAIN_MAX ? POP_ETOOBIG : 0;
}

static int dispatch(struct http_req *rq)
{
        struct http_server *srv = rq->srv;
        if (rq->body_too_big)
                return too_big(rq);
        if (rq->body.len && !http_utf8_valid(rq->body.p, rq->body.len))
                return http__problem(rq, 400, "body-not-utf8", "Body is not UTF-8",
                                     "the request body is not well-formed UTF-8", NULL);
        struct http_match m;
        char detail[200];
        switch (
            http_route_find(srv->routes, srv->n_routes, rq->method, rq->path, rq->path_len, &m)) {
        case HTTP_ROUTE_FOUND: {
                rq->slot = (size_t)m.route;
                int rc = srv->routes[m.route].fn(rq, &m);
                if (rc && !rq->status)
                        return http__problem(rq, 500, "internal", "Internal error",
                                             "the request could not be answered", NULL);
                return rc;
        }
        case HTTP_ROUTE_BAD_METHOD:
                snprintf(detail, sizeof detail, "this resource answers %s", m.allow);
                return http__problem(rq, 405, "method-not-allowed", "Method not allowed", detail,
                                     m.allow);
        case HTTP_ROUTE_BAD_PARAM:
                snprintf(
                    detail, sizeof detail,
                    "path parameter '%.*s' must be 1 to %d of the characters A-Z a-z 0-9 - . _ ~ "
                    "(no percent-encoding)",
                    (int)m.bad_param_len, m.bad_param, HTTP_PARAM_MAX);
                return http__problem(rq, 400, "path-parameter", "Malformed path parameter", detail,
                                     NULL);
        case HTTP_ROUTE_TOO_LONG:
                return http__problem(rq, 414, "uri-too-long", "URI too long",
                                     "the request path is longer than 2048 bytes", NULL);
        case HTTP_ROUTE_NOT_FOUND:
                break;
        }
        return http__problem(rq, 404, "not-found", "Not found",
                             "no resource at this path (see "
                             "/v1/openapi.json)",
                             NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
        (void)cls;
        (void)url;
        (void)version;
        struct http_req *rq = *req_cls;
        if (!rq)
                return MHD_NO; /* no memory for the request: close the connection */
        if (!rq->started)
                return on_headers(rq, c, method) == 0 ? MHD_YES : MHD_NO;
        if (rq->wait != HTTP_WAIT_NONE)
                return send_held(rq) == 0 ? MHD_YES : MHD_NO;
        if (rq->status) {
                /* Answered early (413 on Content-Length); MHD drops what else comes. */
                *upload_size = 0;
                return MHD_YES;
        }
        if (*upload_size) {
                int rc = on_body(rq, upload, *upload_size);
                *upload_size = 0;
                return rc == 0 ? MHD_YES : MHD_NO;
        }
        return dispatch(rq) == 0 ? MHD_YES : MHD_NO;
}

static enum http_abort abort_reason(enum MHD_RequestTerminationCode toe)
{
        switch (toe) {
        case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
                return HTTP_ABORT_TIMEOUT;
        case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
                return HTTP_ABORT_SHUTDOWN;
        case MHD_REQUEST_TERMINATED_READ_ERROR:
        case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
                return HTTP_ABORT_CLOSED;
        default:
                return HTTP_ABORT_ERROR;
        }
}

static void log_request(const struct http_req *rq, uint64_t us, enum MHD_RequestTerminationCode toe)
{
        /* Never the raw path nor a body: a path will hold personal IDs. The route pattern says
         * which endpoint answered. */
        static const char *const reasons[HTTP_N_ABORT] = {"closed", "timeout", "error", "shutdown"};
        const char *route = rq->slot < rq->srv->n_routes ? rq->srv->routes[rq->slot].pattern : "-";
        char line[256];
        int n;
        if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && rq->status)
                n = snprintf(line, sizeof line,
                             "popid http: method=%s route=%s status=%u us=%" PRIu64 " id=%s\n",
                             rq->method[0] ? rq->method : "-", route, rq->status, us,
                             rq->id[0] ? rq->id : "-");
        else
                n = snprintf(line, sizeof line,
                             "popid http: method=%s route=%s status=- us=%" PRIu64
                             " id=%s aborted=%s\n",
                             rq->method[0] ? rq->method : "-", route, us, rq->id[0] ? rq->id : "-",
                             reasons[abort_reason(toe)]);
        if (n > 0) {
                /* One write per line, so lines of different threads do not interleave. */
                ssize_t w = write(STDERR_FILENO, line,
                                  (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
                (void)w;
        }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
        (void)c;
        struct http_server *srv = cls;
        struct http_req *rq = *req_cls;
        if (!rq)
                return;
        *req_cls = NULL;
        struct http_worker *w = http__worker(srv);
        uint64_t us = (now_ns() - rq->t0_ns) / 1000;
        if (w) {
                if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && rq->status) {
                        http_metrics_done(w->m, rq->slot, rq->status, us);
                        if (rq->client >= 0)
                                http_clients_done(&srv->clients, rq->client, rq->status, us);
                } else
                        http_metrics_abort(w->m, abort_reason(toe), rq->started);
        }
        if (srv->cfg.log)
                log_request(rq, us, toe);
        /* MHD ends no suspended connection, but should it: the audit callback still holds rq
         * and frees it. */
        pthread_mutex_lock(&rq->wait_lock);
        bool orphaned = rq->wait == HTTP_WAIT_AUDIT;
        if (orphaned)
                rq->wait = HTTP_WAIT_ORPHANED;
        pthread_mutex_unlock(&rq->wait_lock);
        http__batch_free(rq);
        if (!orphaned)
                req_put(w, rq);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode toe)
{
        (void)c;
        (void)socket_ctx;
        if (toe != MHD_CONNECTION_NOTIFY_STARTED)
                return;
        struct http_worker *w = http__worker(cls);
        if (w)
                http_metrics_connection(w->m);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        (void)cls;
        char msg[512];
        vsnprintf(msg, sizeof msg, fmt, ap);
        size_t n = strlen(msg);
        while (n && msg[n - 1] == '\n')
                msg[--n] = '\0';
        fprintf(stderr, "popid http: libmicrohttpd: %s\n", msg);
}

/* ---- start and stop ---- */

static int listen_on(struct http_server *s, struct pop_err *err)
{
        const struct http_config *cfg = &s->cfg;
        struct addrinfo hints = {0}, *res = NULL;
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        int g = getaddrinfo(cfg->host, cfg->port, &hints, &res);
        if (g != 0)
                return pop_fail(err, POP_EINVAL, "listen", "cannot listen on %s:%s: %s", cfg->host,
                                cfg->port, gai_strerror(g));
        int rc = 0, fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                rc = pop_fail(err, POP_EIO, "listen", "cannot listen on %s:%s: %s", cfg->host,
                              cfg->port, strerror(errno));
                goto out;
        }
        /* SO_REUSEADDR lets a restarted server bind past TIME_WAIT; without SO_REUSEPORT a port
         * held by a live server still fails to bind. */
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, HTTP_LISTEN_BACKLOG) != 0) {
                int e = errno;
                rc = pop_fail(err, POP_EIO, "listen", "cannot listen on %s:%s: %s%s", cfg->host,
                              cfg->port, strerror(e),
                              e == EADDRINUSE ? " (another process holds the port)" : "");
                close(fd);
                goto out;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
                s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                         : ((struct sockaddr_in *)&ss)->sin_port);
        s->listen_fd = fd;
out:
        freeaddrinfo(res);
        return rc;
}

static void free_server(struct http_server *s)
{
        struct http_worker *w = s->workers;
        while (w) {
                struct http_worker *next = w->next;
                http__worker_reg_drop(w);
                struct http_req *rq = w->free_reqs;
                while (rq) {
                        struct http_req *n = rq->next_free;
                        req_free(rq);
                        rq = n;
                }
                free(w);
                w = next;
        }
        if (s->listen_fd >= 0)
                close(s->listen_fd);
        access_limiter_free(s->limiter);
        http_clients_free(&s->clients);
        pthread_mutex_destroy(&s->pepper_lock);
        http_metrics_reg_free(&s->metrics);
        pthread_mutex_destroy(&s->lock);
        free((struct http_server_ext *)s);
}

int http_server_start(const struct http_config *cfg, struct http_server **out, struct pop_err *err)
{
        *out = NULL;
        if (sodium_init() < 0)
                return pop_fail(err, POP_EIO, "sodium", "libsodium failed to initialise");
        int rc = http_router_check(http__routes, http__n_routes, err);
        if (rc)
                return rc;
        /* Open the registry once here: a bad --db fails now, with its own message, and pending
         * migrations run before any worker connects. */
        struct reg *r = NULL;
        if ((rc = reg_open(cfg->db, &r, err)))
                return rc;
        reg_close(r);

        struct http_server_ext *x = calloc(1, sizeof *x);
        if (!x)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        struct http_server *s = &x->s;
        x->id = atomic_fetch_add(&server_ids, 1) + 1;
        s->cfg = *cfg;
        s->listen_fd = -1;
        s->routes = http__routes;
        s->n_routes = http__n_routes;
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        s->threads = cfg->threads ? cfg->threads : (unsigned)(cores > 0 ? cores : 1);
        s->max_body = cfg->max_body ? cfg->max_body : HTTP_MAX_BODY_DEFAULT;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->start_time_s = (double)ts.tv_sec + ts.tv_nsec / 1e9;
        if (pthread_mutex_init(&s->lock, NULL) != 0) {
                free(x);
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        }
        if (http_metrics_reg_init(&s->metrics, s->n_routes) != 0) {
                pthread_mutex_destroy(&s->lock);
                free(x);
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        }
        if (http_clients_init(&s->clients) != 0 || pthread_mutex_init(&s->pepper_lock, NULL) != 0) {
                /* Not worth unwinding separately: both only fail without memory. */
                http_metrics_reg_free(&s->metrics);
                pthread_mutex_destroy(&s->lock);
                free(x);
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        }
        atomic_init(&s->have_pepper, false);
        if (cfg->key_path && *cfg->key_path)
                snprintf(s->key_path, sizeof s->key_path, "%s", cfg->key_path);
        else
                snprintf(s->key_path, sizeof s->key_path, "%s.key",
                         strncmp(cfg->db, "sqlite:", 7) ? cfg->db : cfg->db + 7);
        if ((rc = access_limiter_new(0, &s->limiter, err)))
                goto fail;
        if ((rc = listen_on(s, err)))
                goto fail;

        struct MHD_OptionItem opts[12];
        int n = 0;
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, s};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, s->listen_fd, NULL};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                            cfg->max_conns ? cfg->max_conns : HTTP_MAX_CONNS, NULL};
        opts[n++] =
            (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                    cfg->timeout_s ? cfg->timeout_s : HTTP_TIMEOUT_DEFAULT, NULL};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_logged, s};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
        opts[n++] =
            (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s};
        /* Refuse sloppy HTTP (bare LF line ends, spaces in the request target, ...): what two
         * parsers read differently is how requests get smuggled past a proxy. */
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL};
        if (s->threads > 1)
                opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, s->threads, NULL};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

        unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
        if (cfg->log)
                flags |= MHD_USE_ERROR_LOG;
        s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
                                MHD_OPTION_END);
        if (!s->d) {
                rc = pop_fail(err, POP_EIO, "listen", "the HTTP server failed to start on %s:%s",
                              cfg->host, cfg->port);
                goto fail;
        }
        *out = s;
        return 0;
fail:
        free_server(s);
        return rc;
}

int http_server_port(const struct http_server *s)
{
        return s->port;
}

unsigned http_server_threads(const struct http_server *s)
{
        return s->threads;
}

void http_server_stop(struct http_server *s, unsigned grace_ms)
{
        if (!s)
                return;
        if (s->d) {
                MHD_socket l = MHD_quiesce_daemon(s->d);
                if (l != MHD_INVALID_SOCKET && l == s->listen_fd) {
                        close(l);
                        s->listen_fd = -1;
                }
                /* Requests in progress get their answer; idle keep-alive connections do not
                 * hold the stop up. */
                for (unsigned waited = 0;
                     waited < grace_ms && http_metrics_in_flight(&s->metrics) > 0; waited += 10) {
                        struct timespec ts = {0, 10 * 1000 * 1000};
                        nanosleep(&ts, NULL);
                }
                /* A suspended connection must be resumed before MHD stops (it refuses to stop
                 * with one): its audit batch ends in a commit or an error, either way soon. */
                while (atomic_load(&s->n_waiting) > 0) {
                        struct timespec ts = {0, 1000 * 1000};
                        nanosleep(&ts, NULL);
                }
                MHD_stop_daemon(s->d);
                s->d = NULL;
        }
        free_server(s);
}
