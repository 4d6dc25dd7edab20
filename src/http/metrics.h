/*
 * Server metrics in the Prometheus text format (version 0.0.4). Each worker thread owns one
 * `struct http_metrics` and is its only writer: counting a request is a few relaxed atomic
 * loads and stores on memory no other thread writes, with no lock and no shared cache line.
 * A scrape walks the list of blocks (the only place that takes the registry's mutex, besides
 * a thread's first request) and adds them up, so what it reports is exact up to the requests
 * in progress while it reads.
 *
 * Every number reported is counted, never made up.
 *
 * Per-client counters (struct http_clients) are shared by all threads: the first
 * HTTP_CLIENTS_MAX client ids seen get a label of their own, later ones count under
 * client="other", so the label's cardinality is bounded whatever clients exist. Counting is a
 * relaxed atomic add on the client's slot (threads serving one client share its cache lines).
 */
#ifndef POP_HTTP_METRICS_H
#define POP_HTTP_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "http/arena.h"
#include "http/router.h"

#define HTTP_N_BUCKETS    16  /* latency histogram bounds, see http_bucket_us */
#define HTTP_STATUS_FIRST 100 /* by_status[0] counts status 100 */
#define HTTP_N_STATUS     500 /* statuses 100..599 */

/* Why a request ended without a response being sent (the connection went away first). */
enum http_abort {
        HTTP_ABORT_CLOSED,   /* the client closed the connection */
        HTTP_ABORT_TIMEOUT,  /* idle longer than the connection timeout */
        HTTP_ABORT_ERROR,    /* a socket or protocol error, or a handler gave up */
        HTTP_ABORT_SHUTDOWN, /* the server stopped */
        HTTP_N_ABORT
};

/* The upper bounds of the latency buckets, in microseconds (the last bucket is +Inf). */
extern const uint32_t http_bucket_us[HTTP_N_BUCKETS];

struct http_route_stats {
        _Atomic uint64_t by_status[HTTP_N_STATUS];
        _Atomic uint64_t bucket[HTTP_N_BUCKETS + 1]; /* not cumulative; the last one is +Inf */
        _Atomic uint64_t sum_us;
};

/* One worker thread's counters: slots[i] for route i, slots[n_routes] for unmatched paths. */
struct http_metrics {
        struct http_metrics *next;
        _Atomic uint64_t started,
            finished; /* requests begun and ended (in flight: the difference) */
        _Atomic uint64_t aborted[HTTP_N_ABORT];
        _Atomic uint64_t connections; /* connections opened */
        size_t n_slots;
        struct http_route_stats slots[];
};

/* All blocks of one server. */
struct http_metrics_reg {
        pthread_mutex_t lock; /* guards the list; held to register a block and to scrape */
        struct http_metrics *head;
        size_t n_routes;
};

/* Gauges the server knows at scrape time, reported next to the counters. */
struct http_metrics_gauges {
        long workers;        /* worker threads that have served a request */
        long store_conns;    /* open store connections */
        double start_time_s; /* unix time the server started */
        bool has_audit;      /* the server writes an audit log */
        long audit_queue;    /* entries waiting for the audit writer */
        /* The audit writer's counters since start (audit_get_stats). */
        int64_t audit_entries, audit_batches, audit_failed, audit_checkpoints;
};

#define HTTP_CLIENTS_MAX   64 /* client ids with a label of their own */
#define HTTP_CLIENT_ID_MAX 32 /* ACCESS_ID_MAX */
#define HTTP_N_CLASSES     5  /* status classes 1xx..5xx */

struct http_client_stats {
        char id[HTTP_CLIENT_ID_MAX + 1]; /* written once, before n publishes it */
        _Atomic uint64_t by_class[HTTP_N_CLASSES];
        _Atomic uint64_t bucket[HTTP_N_BUCKETS + 1]; /* not cumulative */
        _Atomic uint64_t sum_us;
};

struct http_clients {
        pthread_mutex_t lock;                             /* held to add a client */
        atomic_int n;                                     /* slots in use, "other" excluded */
        struct http_client_stats s[HTTP_CLIENTS_MAX + 1]; /* s[HTTP_CLIENTS_MAX]: "other" */
};

int http_clients_init(struct http_clients *c) POP_MUST_USE;
void http_clients_free(struct http_clients *c);
/* The slot of client id (added when new and there is room; else the "other" slot). */
int http_clients_slot(struct http_clients *c, const char *id);
void http_clients_done(struct http_clients *c, int slot, unsigned status, uint64_t us);

int http_metrics_reg_init(struct http_metrics_reg *r, size_t n_routes) POP_MUST_USE;
/* Frees every block; no thread may use one any more. */
void http_metrics_reg_free(struct http_metrics_reg *r);

/* A new block for the calling thread, registered in r and owned by it; NULL without memory. */
struct http_metrics *http_metrics_new(struct http_metrics_reg *r);

/* Counting, by the block's own thread only. slot: a route index, or n_routes for unmatched. */
void http_metrics_begin(struct http_metrics *m);
void http_metrics_connection(struct http_metrics *m);
void http_metrics_done(struct http_metrics *m, size_t slot, unsigned status, uint64_t us);
/* begun: http_metrics_begin was called for the request (its headers had arrived). */
void http_metrics_abort(struct http_metrics *m, enum http_abort why, bool begun);

/* Requests begun and not yet ended, over all threads. */
int64_t http_metrics_in_flight(struct http_metrics_reg *r);

/* Appends the exposition text of every metric to out (which records any failure). */
void http_metrics_render(struct http_metrics_reg *r, const struct http_route *routes,
                         const struct http_metrics_gauges *g, struct http_buf *out);
/* Appends the per-client metrics (popid_api_client_*). */
void http_clients_render(struct http_clients *c, struct http_buf *out);

#endif
