/*
 * The HTTP router: a table of (method, path pattern, handler) and a matcher over the raw
 * request path. Patterns are literal segments and {name} parameters ("/v1/persons/{pid}");
 * the first route of the table whose pattern and method fit wins, so literal routes go before
 * parameter routes that could shadow them. Matching works on the path as sent (before any
 * percent-decoding), allocates nothing and never copies: parameters point into the path.
 *
 * The rules are strict on purpose, so that one resource has one spelling: no percent-encoding
 * or other characters outside RFC 3986 "unreserved" in a parameter, no empty segments (so no
 * trailing slash), no "." or ".." segments, and paths longer than HTTP_PATH_MAX are refused
 * before matching. Pure: no I/O, no HTTP library; fuzzed by fuzz/fuzz_router.c.
 */
#ifndef POP_HTTP_ROUTER_H
#define POP_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define HTTP_PATH_MAX   2048 /* bytes of a request path (query excluded) we route at all */
#define HTTP_PARAM_MAX  128  /* bytes of one path parameter */
#define HTTP_MAX_PARAMS 4    /* parameters in one pattern */
#define HTTP_ALLOW_MAX  64   /* the Allow header value of a 405 */
#define HTTP_METHOD_MAX 16

struct http_req;
struct http_match;

/* Answers one request: queues a response and returns 0, or a negative POP_E* code when no
 * response could be queued (the connection is then closed). */
typedef int http_handler_fn(struct http_req *rq, const struct http_match *m);

struct http_route {
        const char *method;  /* "GET", "POST", ... (a GET route also answers HEAD) */
        const char *pattern; /* "/v1/persons/{pid}" */
        http_handler_fn *fn;
};

/* One path parameter: name from the pattern, value a slice of the request path. */
struct http_param {
        const char *name;
        size_t name_len;
        const char *val;
        size_t val_len;
};

enum http_route_result {
        HTTP_ROUTE_FOUND,      /* m->route is the route to call */
        HTTP_ROUTE_NOT_FOUND,  /* 404 */
        HTTP_ROUTE_BAD_METHOD, /* 405: the path exists for the methods in m->allow */
        HTTP_ROUTE_BAD_PARAM,  /* 400: the path has a route's shape, but a parameter is malformed */
        HTTP_ROUTE_TOO_LONG,   /* 414: longer than HTTP_PATH_MAX */
};

struct http_match {
        int route; /* index in the table when found, else -1 */
        int n_params;
        struct http_param params[HTTP_MAX_PARAMS];
        char allow[HTTP_ALLOW_MAX]; /* "GET, HEAD" for HTTP_ROUTE_BAD_METHOD, else "" */
        const char *bad_param;      /* the malformed parameter's name, for HTTP_ROUTE_BAD_PARAM */
        size_t bad_param_len;
};

/*
 * Checks a route table once at start: every pattern starts with '/', has no empty segment,
 * well-formed {name} parameters (at most HTTP_MAX_PARAMS, names of [a-z0-9_]) and a known
 * method. POP_EINVAL with the offending pattern in err otherwise.
 */
int http_router_check(const struct http_route *routes, size_t n_routes,
                      struct pop_err *err) POP_MUST_USE;

/*
 * Finds the route for method and the raw request target path[0..len) (a query string from '?'
 * on is ignored). Fills *m and says what was found; see enum http_route_result.
 */
enum http_route_result http_route_find(const struct http_route *routes, size_t n_routes,
                                       const char *method, const char *path, size_t len,
                                       struct http_match *m);

/* The value of parameter `name` in a match, or NULL (with *len 0) when there is none. */
const char *http_match_param(const struct http_match *m, const char *name, size_t *len);

/* True when c may appear in a path parameter: RFC 3986 section 2.3 "unreserved". */
bool http_unreserved(unsigned char c);

#endif
