/*
 * Internals shared by the files of the HTTP module: the server and its worker threads, the
 * request object, the response helpers handlers use, and the route table (handlers.c).
 * Not for use outside src/http/.
 */
#ifndef POP_HTTP_HTTP_INT_H
#define POP_HTTP_HTTP_INT_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "access/access.h"
#include "http/arena.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "http/wire.h"
#include "registry/registry.h"

#define HTTP_RND_POOL     480 /* random bytes a worker draws at once, for request ids */
#define HTTP_REQID_RANDOM 12  /* random bytes in a generated request id (24 hex digits) */
#define HTTP_FREE_REQS    64  /* request objects a worker keeps for reuse */

struct http_server {
        struct http_config cfg;
        struct MHD_Daemon *d;
        int listen_fd;
        int port;
        unsigned threads;
        size_t max_body;
        double start_time_s;
        const struct http_route *routes;
        size_t n_routes;
        struct http_metrics_reg metrics;
        pthread_mutex_t lock; /* guards `workers` (a thread's first request, stop, scrape) */
        struct http_worker *workers;
        atomic_long n_workers;
        atomic_long n_store_conns;
        struct access_limiter *limiter; /* one per server: rates hold across threads */
        pthread_mutex_t pepper_lock;    /* guards loading the pepper (first client request) */
        atomic_bool have_pepper;
        uint8_t pepper[ACCESS_PEPPER_LEN];
        char key_path[4096];         /* the signing key for confirmations */
        struct http_clients clients; /* per-client metrics */
        atomic_long n_waiting;       /* connections suspended for their audit entries */
};

/* What one thread keeps: its metrics block, its registry connection, spare requests. */
struct http_worker {
        struct http_server *srv;
        struct http_worker *next;
        struct http_metrics *m;
        struct reg *reg;            /* NULL until first needed, and again after a store failure */
        struct access_cache *cache; /* clients, over reg->st; freed with reg */
        struct store *audit_st;     /* the audit database (access log); NULL until needed */
        struct http_req *free_reqs;
        unsigned n_free;
        size_t rnd_left;
        unsigned char rnd[HTTP_RND_POOL];
};

/* Where a request stands with an answer held back for its audit entries (http__send_audited). */
enum http_wait {
        HTTP_WAIT_NONE,     /* no answer held */
        HTTP_WAIT_AUDIT,    /* suspended until the audit writer calls back */
        HTTP_WAIT_DONE,     /* called back (wait_rc): resumed, the answer goes out next call */
        HTTP_WAIT_ORPHANED, /* the connection ended first: the callback frees the request */
};

/* One request, from its request line to the end of its response. */
struct http_req {
        struct http_server *srv;
        struct MHD_Connection *conn;
        struct http_req *next_free;
        uint64_t t0_ns;
        unsigned status; /* of the response queued; 0 before */
        size_t slot;     /* metrics slot: route index, or n_routes when no route matched */
        bool started;    /* the handler has been called for the headers */
        bool too_long;   /* path longer than HTTP_PATH_MAX */
        bool body_too_big;
        uint64_t drained; /* body bytes read and dropped past the cap */
        int client;       /* per-client metrics slot (http_clients_slot); -1: none */
        size_t path_len;
        char method[HTTP_METHOD_MAX];
        char path[HTTP_PATH_MAX + 2];
        char id[HTTP_REQID_MAX + 1];
        struct http_buf body;
        struct http_batch *batch; /* a spooled batch upload (auth_batch.c); NULL otherwise */
        /* The held answer: wait_lock orders the handler's suspend, the writer's callback (which
         * resumes) and on_completed (which may run on another thread than the callback). */
        pthread_mutex_t wait_lock;
        enum http_wait wait;
        int wait_rc; /* the audit outcome */
        unsigned held_status;
        const char *held_type; /* static */
        const char *held_body; /* in the arena, or static */
        size_t held_len;
        const char *held_hname, *held_hval; /* one extra header, or NULL; static or arena */
        struct http_arena arena;            /* last: the request's memory */
};

/* The calling thread's worker for srv (made on first use); NULL without memory. */
struct http_worker *http__worker(struct http_server *srv);

/* The worker's registry connection, opened on first use and after a failure. */
int http__worker_reg(struct http_worker *w, struct reg **out, struct pop_err *err) POP_MUST_USE;
/* The worker's connection to the audit database (audit_store_open), opened on first use. */
int http__worker_audit_store(struct http_worker *w, struct store **out,
                             struct pop_err *err) POP_MUST_USE;
/* Closes the worker's registry and audit connections after a store failure (the next use
 * reopens). */
void http__worker_reg_drop(struct http_worker *w);

/*
 * Response helpers: each queues one response with the request id, returns 0, or a negative
 * code when nothing could be queued. Bodies must live until the request ends: static data or
 * the request's arena.
 */
int http__send(struct http_req *rq, unsigned status, const char *content_type, const char *body,
               size_t len) POP_MUST_USE;
/* The same with one extra header (Idempotent-Replayed); hname NULL: none. */
int http__send_hdr(struct http_req *rq, unsigned status, const char *content_type, const char *body,
                   size_t len, const char *hname, const char *hval) POP_MUST_USE;
/* Renders j (compact, key order kept) into the arena and sends it; j stays the caller's. */
int http__send_json(struct http_req *rq, unsigned status, json_t *j) POP_MUST_USE;
/*
 * An RFC 9457 problem: type HTTP_PROBLEM_BASE + rule, the title, status, detail and the request
 * id as instance. `allow` (may be NULL) becomes the Allow header of a 405.
 */
int http__problem(struct http_req *rq, unsigned status, const char *rule, const char *title,
                  const char *detail, const char *allow) POP_MUST_USE;
/* The same with one extra header (WWW-Authenticate, Retry-After); hname NULL: none. */
int http__problem_hdr(struct http_req *rq, unsigned status, const char *rule, const char *title,
                      const char *detail, const char *hname, const char *hval) POP_MUST_USE;

/*
 * Answers status with doc only once the n audit entries e are durable: renders doc into the
 * arena, queues e (audit_log_async) and suspends the connection; the audit writer's callback
 * resumes it and the next call of the access handler sends the held answer, or 503
 * audit-unavailable and no data when the audit batch failed. 0 once the wait began (the handler
 * ends as if it had queued a response); a negative code (err set: POP_EAGAIN with rule
 * audit-busy or audit-closing, ...) when nothing was queued nor suspended, for the caller to
 * answer.
 */
struct audit_entry;
int http__send_audited(struct http_req *rq, unsigned status, json_t *doc,
                       const struct audit_entry *e, size_t n, struct pop_err *err) POP_MUST_USE;
/* The same with a body already rendered (static or in the arena), its content type and one
 * extra header (hname NULL: none): for audited refusals (problem+json) and kept answers. */
int http__send_audited_body(struct http_req *rq, unsigned status, const char *content_type,
                            const char *body, size_t len, const char *hname, const char *hval,
                            const struct audit_entry *e, size_t n,
                            struct pop_err *err) POP_MUST_USE;
/* Renders the problem http__problem would send into the arena (*body, *len); on failure a
 * static 500 problem and a negative code. */
int http__problem_render(struct http_req *rq, unsigned status, const char *rule, const char *title,
                         const char *detail, const char **body, size_t *len) POP_MUST_USE;

extern const struct http_route http__routes[];
extern const size_t http__n_routes;

/* docs/openapi.json, embedded at build time (cmake/embed.cmake). */
extern const unsigned char http__openapi_json[];
extern const size_t http__openapi_json_len;

#endif
