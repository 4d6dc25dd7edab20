/*
 * Per-thread request counters and their Prometheus rendering; see metrics.h.
 */
#include "http/metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef POPID_VERSION
#define POPID_VERSION "unknown"
#endif

const uint32_t http_bucket_us[HTTP_N_BUCKETS] = {
    100,   250,    500,    1000,   2500,    5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
};

static const char *const abort_names[HTTP_N_ABORT] = {"closed", "timeout", "error", "shutdown"};

/* One writer per counter (the owning thread): a load and a store, no locked instruction. */
static inline void bump(_Atomic uint64_t *c, uint64_t d)
{
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                              memory_order_relaxed);
}

static inline uint64_t get(_Atomic uint64_t *c)
{
        return atomic_load_explicit(c, memory_order_relaxed);
}

int http_metrics_reg_init(struct http_metrics_reg *r, size_t n_routes)
{
        r->head = NULL;
        r->n_routes = n_routes;
        return pthread_mutex_init(&r->lock, NULL) == 0 ? 0 : POP_ENOMEM;
}

void http_metrics_reg_free(struct http_metrics_reg *r)
{
        struct http_metrics *m = r->head;
        while (m) {
                struct http_metrics *next = m->next;
                free(m);
                m = next;
        }
        r->head = NULL;
        pthread_mutex_destroy(&r->lock);
}

struct http_metrics *http_metrics_new(struct http_metrics_reg *r)
{
        size_t n_slots = r->n_routes + 1;
        struct http_metrics *m = calloc(1, sizeof *m + n_slots * sizeof m->slots[0]);
        if (!m)
                return NULL;
        m->n_slots = n_slots;
        pthread_mutex_lock(&r->lock);
        m->next = r->head;
        r->head = m;
        pthread_mutex_unlock(&r->lock);
        return m;
}

void http_metrics_begin(struct http_metrics *m)
{
        bump(&m->started, 1);
}

void http_metrics_connection(struct http_metrics *m)
{
        bump(&m->connections, 1);
}

void http_metrics_done(struct http_metrics *m, size_t slot, unsigned status, uint64_t us)
{
        bump(&m->finished, 1);
        if (slot >= m->n_slots)
                slot = m->n_slots - 1;
        struct http_route_stats *s = &m->slots[slot];
        if (status >= HTTP_STATUS_FIRST && status < HTTP_STATUS_FIRST + HTTP_N_STATUS)
                bump(&s->by_status[status - HTTP_STATUS_FIRST], 1);
        size_t b = 0;
        while (b < HTTP_N_BUCKETS && us > http_bucket_us[b])
                b++;
        bump(&s->bucket[b], 1);
        bump(&s->sum_us, us);
}

void http_metrics_abort(struct http_metrics *m, enum http_abort why, bool begun)
{
        if (begun)
                bump(&m->finished, 1);
        bump(&m->aborted[why < HTTP_N_ABORT ? why : HTTP_ABORT_ERROR], 1);
}

int64_t http_metrics_in_flight(struct http_metrics_reg *r)
{
        uint64_t started = 0, finished = 0;
        pthread_mutex_lock(&r->lock);
        /* finished first: a request that ends between the two reads is then never negative. */
        for (struct http_metrics *m = r->head; m; m = m->next)
                finished += get(&m->finished);
        for (struct http_metrics *m = r->head; m; m = m->next)
                started += get(&m->started);
        pthread_mutex_unlock(&r->lock);
        return started >= finished ? (int64_t)(started - finished) : 0;
}

/* Labels of a slot. Patterns are checked by http_router_check to hold no '"' or '\\', so they
 * need no escaping. */
static void labels(struct http_buf *out, const struct http_route *routes, size_t n_routes,
                   size_t slot)
{
        if (slot < n_routes)
                http_buf_printf(out, "method=\"%s\",route=\"%s\"", routes[slot].method,
                                routes[slot].pattern);
        else
                http_buf_printf(out, "method=\"any\",route=\"unmatched\"");
}

static void header(struct http_buf *out, const char *name, const char *type, const char *help)
{
        http_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void http_metrics_render(struct http_metrics_reg *r, const struct http_route *routes,
                         const struct http_metrics_gauges *g, struct http_buf *out)
{
        size_t n_slots = r->n_routes + 1;
        struct http_route_stats *sum = http_arena_alloc(out->a, n_slots * sizeof *sum);
        if (!sum) {
                out->failed = 1;
                return;
        }
        memset(sum, 0, n_slots * sizeof *sum);
        uint64_t started = 0, finished = 0, conns = 0, aborted[HTTP_N_ABORT] = {0};

        pthread_mutex_lock(&r->lock);
        for (struct http_metrics *m = r->head; m; m = m->next) {
                finished += get(&m->finished);
                conns += get(&m->connections);
                for (int a = 0; a < HTTP_N_ABORT; a++)
                        aborted[a] += get(&m->aborted[a]);
                for (size_t s = 0; s < n_slots; s++) {
                        struct http_route_stats *from = &m->slots[s], *to = &sum[s];
                        for (int k = 0; k < HTTP_N_STATUS; k++)
                                bump(&to->by_status[k], get(&from->by_status[k]));
                        for (int b = 0; b <= HTTP_N_BUCKETS; b++)
                                bump(&to->bucket[b], get(&from->bucket[b]));
                        bump(&to->sum_us, get(&from->sum_us));
                }
        }
        for (struct http_metrics *m = r->head; m; m = m->next)
                started += get(&m->started);
        pthread_mutex_unlock(&r->lock);

        header(out, "popid_http_requests_total", "counter",
               "HTTP requests answered, by route and status code.");
        for (size_t s = 0; s < n_slots; s++) {
                for (int k = 0; k < HTTP_N_STATUS; k++) {
                        uint64_t v = get(&sum[s].by_status[k]);
                        if (!v)
                                continue;
                        http_buf_printf(out, "popid_http_requests_total{");
                        labels(out, routes, r->n_routes, s);
                        http_buf_printf(out, ",code=\"%d\"} %" PRIu64 "\n", k + HTTP_STATUS_FIRST,
                                        v);
                }
        }

        header(out, "popid_http_request_duration_seconds", "histogram",
               "Time from the request line to the end of the response, by route.");
        for (size_t s = 0; s < n_slots; s++) {
                uint64_t cum = 0;
                for (int b = 0; b <= HTTP_N_BUCKETS; b++) {
                        cum += get(&sum[s].bucket[b]);
                        http_buf_printf(out, "popid_http_request_duration_seconds_bucket{");
                        labels(out, routes, r->n_routes, s);
                        if (b < HTTP_N_BUCKETS)
                                http_buf_printf(out, ",le=\"%g\"} %" PRIu64 "\n",
                                                http_bucket_us[b] / 1e6, cum);
                        else
                                http_buf_printf(out, ",le=\"+Inf\"} %" PRIu64 "\n", cum);
                }
                http_buf_printf(out, "popid_http_request_duration_seconds_sum{");
                labels(out, routes, r->n_routes, s);
                http_buf_printf(out, "} %.6f\n", get(&sum[s].sum_us) / 1e6);
                http_buf_printf(out, "popid_http_request_duration_seconds_count{");
                labels(out, routes, r->n_routes, s);
                http_buf_printf(out, "} %" PRIu64 "\n", cum);
        }

        header(out, "popid_http_requests_in_flight", "gauge",
               "Requests whose headers have arrived and that are not yet answered.");
        http_buf_printf(out, "popid_http_requests_in_flight %" PRIu64 "\n",
                        started >= finished ? started - finished : 0);
        header(out, "popid_http_requests_aborted_total", "counter",
               "Requests that ended without a response sent, by reason.");
        for (int a = 0; a < HTTP_N_ABORT; a++)
                http_buf_printf(out,
                                "popid_http_requests_aborted_total{reason=\"%s\"} %" PRIu64 "\n",
                                abort_names[a], aborted[a]);
        header(out, "popid_http_connections_total", "counter", "Connections accepted.");
        http_buf_printf(out, "popid_http_connections_total %" PRIu64 "\n", conns);
        header(out, "popid_http_worker_threads", "gauge",
               "Worker threads that have served at least one request.");
        http_buf_printf(out, "popid_http_worker_threads %ld\n", g->workers);
        header(out, "popid_store_connections", "gauge",
               "Open store connections (one per worker thread that has used the store).");
        http_buf_printf(out, "popid_store_connections %ld\n", g->store_conns);
        header(out, "popid_process_start_time_seconds", "gauge",
               "Start time of the server since the unix epoch, in seconds.");
        http_buf_printf(out, "popid_process_start_time_seconds %.3f\n", g->start_time_s);
        header(out, "popid_build_info", "gauge", "The popid version, as a label.");
        http_buf_printf(out, "popid_build_info{version=\"%s\"} 1\n", POPID_VERSION);
        if (g->has_audit) {
                header(out, "popid_audit_queue_depth", "gauge",
                       "Audit entries waiting for the audit writer's next commit.");
                http_buf_printf(out, "popid_audit_queue_depth %ld\n", g->audit_queue);
                /* Entries per commit (entries / batches) is what group commit buys. */
                header(out, "popid_audit_entries_total", "counter",
                       "Audit entries committed by this server.");
                http_buf_printf(out, "popid_audit_entries_total %" PRId64 "\n", g->audit_entries);
                header(out, "popid_audit_commits_total", "counter",
                       "Audit writer transactions that committed entries (group commits).");
                http_buf_printf(out, "popid_audit_commits_total %" PRId64 "\n", g->audit_batches);
                header(out, "popid_audit_failed_entries_total", "counter",
                       "Audit entries whose transaction failed (their requests got 503).");
                http_buf_printf(out, "popid_audit_failed_entries_total %" PRId64 "\n",
                                g->audit_failed);
                header(out, "popid_audit_checkpoints_total", "counter",
                       "Signed checkpoints written by this server.");
                http_buf_printf(out, "popid_audit_checkpoints_total %" PRId64 "\n",
                                g->audit_checkpoints);
        }
}

/* ---- per-client metrics ---- */

int http_clients_init(struct http_clients *c)
{
        memset(c->s, 0, sizeof c->s);
        snprintf(c->s[HTTP_CLIENTS_MAX].id, sizeof c->s[HTTP_CLIENTS_MAX].id, "other");
        atomic_init(&c->n, 0);
        return pthread_mutex_init(&c->lock, NULL) == 0 ? 0 : POP_ENOMEM;
}

void http_clients_free(struct http_clients *c)
{
        pthread_mutex_destroy(&c->lock);
}

static int clients_find(struct http_clients *c, int n, const char *id)
{
        for (int i = 0; i < n; i++)
                if (!strcmp(c->s[i].id, id))
                        return i;
        return -1;
}

int http_clients_slot(struct http_clients *c, const char *id)
{
        /* Slots are only ever added, their id written before n is published (release). */
        int n = atomic_load_explicit(&c->n, memory_order_acquire);
        int i = clients_find(c, n, id);
        if (i >= 0)
                return i;
        pthread_mutex_lock(&c->lock);
        n = atomic_load_explicit(&c->n, memory_order_relaxed);
        i = clients_find(c, n, id);
        if (i < 0 && n < HTTP_CLIENTS_MAX && strlen(id) <= HTTP_CLIENT_ID_MAX) {
                snprintf(c->s[n].id, sizeof c->s[n].id, "%s", id);
                atomic_store_explicit(&c->n, n + 1, memory_order_release);
                i = n;
        }
        pthread_mutex_unlock(&c->lock);
        return i >= 0 ? i : HTTP_CLIENTS_MAX;
}

void http_clients_done(struct http_clients *c, int slot, unsigned status, uint64_t us)
{
        if (slot < 0 || slot > HTTP_CLIENTS_MAX)
                return;
        struct http_client_stats *s = &c->s[slot];
        unsigned cls = status / 100;
        if (cls >= 1 && cls <= HTTP_N_CLASSES)
                atomic_fetch_add_explicit(&s->by_class[cls - 1], 1, memory_order_relaxed);
        int b = 0;
        while (b < HTTP_N_BUCKETS && us > http_bucket_us[b])
                b++;
        atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->sum_us, us, memory_order_relaxed);
}

void http_clients_render(struct http_clients *c, struct http_buf *out)
{
        int n = atomic_load_explicit(&c->n, memory_order_acquire);
        /* Client ids are [a-z0-9-] (access_id_check): no escaping needed. */
        header(out, "popid_api_client_requests_total", "counter",
               "Authenticated API requests answered, by client and status class.");
        for (int i = 0; i <= HTTP_CLIENTS_MAX; i++) {
                if (i >= n && i < HTTP_CLIENTS_MAX)
                        continue;
                for (int k = 0; k < HTTP_N_CLASSES; k++) {
                        uint64_t v = get(&c->s[i].by_class[k]);
                        if (v)
                                http_buf_printf(out,
                                                "popid_api_client_requests_total{client=\"%s\","
                                                "code=\"%dxx\"} %" PRIu64 "\n",
                                                c->s[i].id, k + 1, v);
                }
        }
        header(out, "popid_api_client_request_duration_seconds", "histogram",
               "Time from the request line to the end of the response, by client.");
        for (int i = 0; i <= HTTP_CLIENTS_MAX; i++) {
                if (i >= n && i < HTTP_CLIENTS_MAX)
                        continue;
                uint64_t cum = 0;
                for (int b = 0; b <= HTTP_N_BUCKETS; b++)
                        cum += get(&c->s[i].bucket[b]);
                if (!cum)
                        continue;
                cum = 0;
                for (int b = 0; b <= HTTP_N_BUCKETS; b++) {
                        cum += get(&c->s[i].bucket[b]);
                        if (b < HTTP_N_BUCKETS)
                                http_buf_printf(out,
                                                "popid_api_client_request_duration_seconds_bucket{"
                                                "client=\"%s\",le=\"%g\"} %" PRIu64 "\n",
                                                c->s[i].id, http_bucket_us[b] / 1e6, cum);
                        else
                                http_buf_printf(out,
                                                "popid_api_client_request_duration_seconds_bucket{"
                                                "client=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
                                                c->s[i].id, cum);
                }
                http_buf_printf(out,
                                "popid_api_client_request_duration_seconds_sum{client=\"%s\"} "
                                "%.6f\n",
                                c->s[i].id, get(&c->s[i].sum_us) / 1e6);
                http_buf_printf(out,
                                "popid_api_client_request_duration_seconds_count{client=\"%s\"} "
                                "%" PRIu64 "\n",
                                c->s[i].id, cum);
        }
}
