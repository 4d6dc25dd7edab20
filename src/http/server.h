/*
 * popid's HTTP server (`popid serve`): libmicrohttpd with an epoll thread pool, one registry
 * connection per worker thread (opened on the thread's first request that needs the store),
 * RFC 9457 problem+json errors, a request id on every response, capped and UTF-8-checked
 * bodies, Prometheus metrics. See docs/API.md for what a client sees and DESIGN.md "HTTP
 * conventions" for why. This slice serves no personal data: /healthz, /metrics, /v1 and
 * /v1/openapi.json; the person endpoints come with client credentials and the audit log.
 */
#ifndef POP_HTTP_SERVER_H
#define POP_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct audit;
struct hub_outbox;

#define HTTP_MAX_BODY_DEFAULT (64 * 1024)
#define HTTP_MAX_BODY_LIMIT   (64 * 1024 * 1024) /* --max-body may not exceed this */
#define HTTP_TIMEOUT_DEFAULT  30                 /* seconds a connection may sit idle */
#define HTTP_MAX_CONNS        1024
#define HTTP_PROBLEM_BASE     "https://popid.example/problems/"

struct http_config {
        const char *db;       /* registry URI each worker thread opens */
        const char *host;     /* address to listen on ("127.0.0.1", "::1", "0.0.0.0") */
        const char *port;     /* decimal; "0" picks a free port (see http_server_port) */
        unsigned threads;     /* worker threads; 0: one per online core */
        size_t max_body;      /* request body cap in bytes; 0: HTTP_MAX_BODY_DEFAULT */
        unsigned timeout_s;   /* idle connection timeout; 0: HTTP_TIMEOUT_DEFAULT */
        unsigned max_conns;   /* concurrent connections; 0: HTTP_MAX_CONNS */
        bool log;             /* one line per request on stderr */
        struct audit *audit;  /* the audit log the data endpoints write (the caller's; must
                                 outlive the server); NULL: they answer 503 */
        const char *key_path; /* the registry's signing key (confirmations); NULL: db + ".key" */
        /* OTPs (POST /v1/auth/otp, /v1/ekyc): the outbox key (HUB_OUTBOX_KEY_BYTES, the
         * caller's; NULL: those endpoints answer 503) and the delivery thread to wake and to
         * report in /metrics (NULL: none). */
        const uint8_t *outbox_key;
        struct hub_outbox *outbox;
};

struct http_server;

/*
 * Checks that the registry opens, binds the listening socket and starts the workers. The
 * strings of cfg must outlive the server. On failure nothing is left running and err says
 * why (rule "listen" when the address cannot be bound, e.g. the port is taken). The caller
 * owns *out and ends it with http_server_stop.
 */
int http_server_start(const struct http_config *cfg, struct http_server **out,
                      struct pop_err *err) POP_MUST_USE;

/* The port listened on (the one picked, when cfg->port was "0"). */
int http_server_port(const struct http_server *s);
/* The number of worker threads. */
unsigned http_server_threads(const struct http_server *s);

/*
 * Graceful stop: stops accepting, waits up to grace_ms for requests in progress to be
 * answered, then closes every connection and store connection and frees s.
 */
void http_server_stop(struct http_server *s, unsigned grace_ms);

#endif
