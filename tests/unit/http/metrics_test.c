/*
 * Unit tests of the metrics (src/http/metrics.c): blocks of several threads add up at scrape
 * time, statuses and latency buckets land where they should, the histogram is cumulative and
 * ends in +Inf = count, in flight is begun minus ended, and the text is in the Prometheus
 * exposition format (every sample line preceded by its HELP and TYPE).
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/metrics.h"

static int h_dummy(struct http_req *rq, const struct http_match *m)
{
        (void)rq;
        (void)m;
        return 0;
}

static const struct http_route routes[] = {
    {"GET", "/healthz", h_dummy},
    {"GET", "/metrics", h_dummy},
};

#define N_THREADS 4
#define N_PER     10000

struct work {
        struct http_metrics_reg *reg;
};

static void *count_some(void *arg)
{
        struct work *w = arg;
        struct http_metrics *m = http_metrics_new(w->reg);
        assert_non_null(m);
        http_metrics_connection(m);
        for (int i = 0; i < N_PER; i++) {
                http_metrics_begin(m);
                http_metrics_done(m, 0, i % 10 ? 200 : 503, 50);
        }
        http_metrics_begin(m);
        http_metrics_abort(m, HTTP_ABORT_TIMEOUT, true);
        http_metrics_abort(m, HTTP_ABORT_CLOSED, false);
        return NULL;
}

/* The value of the sample line that starts with `prefix` (labels included), or -1. */
static double sample(const char *text, const char *prefix)
{
        size_t n = strlen(prefix);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                if (!strncmp(p, prefix, n) && p[n] == ' ')
                        return strtod(p + n + 1, NULL);
        }
        return -1;
}

static void render(struct http_metrics_reg *reg, struct http_arena *a, struct http_buf *b)
{
        struct http_metrics_gauges g = {.workers = 3, .store_conns = 2, .start_time_s = 1.5};
        http_buf_init(b, a, 1 << 22);
        http_metrics_render(reg, routes, &g, b);
        assert_false(b->failed);
        http_buf_add(b, "", 1);
}

static void test_threads_add_up(void **state)
{
        (void)state;
        struct http_metrics_reg reg;
        assert_int_equal(http_metrics_reg_init(&reg, 2), 0);
        pthread_t t[N_THREADS];
        struct work w = {&reg};
        for (int i = 0; i < N_THREADS; i++)
                assert_int_equal(pthread_create(&t[i], NULL, count_some, &w), 0);
        for (int i = 0; i < N_THREADS; i++)
                pthread_join(t[i], NULL);
        assert_int_equal(http_metrics_in_flight(&reg), 0);

        struct http_metrics *mine = http_metrics_new(&reg);
        http_metrics_begin(mine);
        http_metrics_begin(mine);
        http_metrics_done(mine, 1, 200, 3000000);
        http_metrics_done(mine, 2, 404, 100); /* slot 2: unmatched */
        http_metrics_begin(mine);
        assert_int_equal(http_metrics_in_flight(&reg), 1);

        struct http_arena *a = malloc(sizeof *a);
        http_arena_init(a);
        struct http_buf b;
        render(&reg, a, &b);
        const char *text = b.p;
        double total = N_THREADS * N_PER;
        assert_true(sample(text, "popid_http_requests_total{method=\"GET\",route=\"/healthz\","
                                 "code=\"200\"}") == total * 9 / 10);
        assert_true(sample(text, "popid_http_requests_total{method=\"GET\",route=\"/healthz\","
                                 "code=\"503\"}") == total / 10);
        assert_true(sample(text, "popid_http_requests_total{method=\"any\",route=\"unmatched\","
                                 "code=\"404\"}") == 1);
        assert_true(sample(text, "popid_http_requests_total{method=\"GET\",route=\"/metrics\","
                                 "code=\"404\"}") == -1);
        /* 50 µs is in the first bucket (0.0001 s); 3 s between 2.5 and 5. */
        assert_true(sample(text, "popid_http_request_duration_seconds_bucket{method=\"GET\","
                                 "route=\"/healthz\",le=\"0.0001\"}") == total);
        assert_true(sample(text, "popid_http_request_duration_seconds_bucket{method=\"GET\","
                                 "route=\"/metrics\",le=\"2.5\"}") == 0);
        assert_true(sample(text, "popid_http_request_duration_seconds_bucket{method=\"GET\","
                                 "route=\"/metrics\",le=\"5\"}") == 1);
        assert_true(sample(text, "popid_http_request_duration_seconds_bucket{method=\"GET\","
                                 "route=\"/metrics\",le=\"+Inf\"}") == 1);
        assert_true(sample(text, "popid_http_request_duration_seconds_count{method=\"GET\","
                                 "route=\"/healthz\"}") == total);
        double sum = sample(text, "popid_http_request_duration_seconds_sum{method=\"GET\","
                                  "route=\"/healthz\"}");
        assert_true(sum > total * 50e-6 - 1e-6 && sum < total * 50e-6 + 1e-6);
        assert_true(sample(text, "popid_http_requests_in_flight") == 1);
        assert_true(sample(text, "popid_http_requests_aborted_total{reason=\"timeout\"}") ==
                    N_THREADS);
        assert_true(sample(text, "popid_http_requests_aborted_total{reason=\"closed\"}") ==
                    N_THREADS);
        assert_true(sample(text, "popid_http_connections_total") == N_THREADS);
        assert_true(sample(text, "popid_http_worker_threads") == 3);
        assert_true(sample(text, "popid_store_connections") == 2);

        /* Format: every sample's metric family has HELP and TYPE lines before it. */
        char family[128] = "";
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                assert_non_null(nl);
                size_t n = (size_t)(nl - p);
                if (!strncmp(p, "# TYPE ", 7)) {
                        size_t k = strcspn(p + 7, " ");
                        snprintf(family, sizeof family, "%.*s", (int)k, p + 7);
                } else if (p[0] != '#') {
                        assert_true(n > 0);
                        assert_true(family[0] != '\0');
                        assert_int_equal(strncmp(p, family, strlen(family)), 0);
                        const char *sp = memchr(p, ' ', n);
                        assert_non_null(sp);
                }
                p = nl + 1;
        }
        http_arena_reset(a);
        free(a);
        http_metrics_reg_free(&reg);
}

static void test_bucket_bounds(void **state)
{
        (void)state;
        for (int i = 1; i < HTTP_N_BUCKETS; i++)
                assert_true(http_bucket_us[i] > http_bucket_us[i - 1]);
        struct http_metrics_reg reg;
        assert_int_equal(http_metrics_reg_init(&reg, 0), 0);
        struct http_metrics *m = http_metrics_new(&reg);
        /* A bound is inclusive (le = less or equal). */
        http_metrics_done(m, 0, 200, 100);
        http_metrics_done(m, 0, 200, 101);
        http_metrics_done(m, 0, 200, UINT64_MAX / 4);
        http_metrics_done(m, 0, 99, 1);  /* out of the status range: timed, not counted by code */
        http_metrics_done(m, 7, 600, 1); /* slot out of range: unmatched */
        assert_int_equal(m->slots[0].bucket[0], 3);
        assert_int_equal(m->slots[0].bucket[1], 1);
        assert_int_equal(m->slots[0].bucket[HTTP_N_BUCKETS], 1);
        http_metrics_reg_free(&reg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_threads_add_up),
            cmocka_unit_test(test_bucket_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
