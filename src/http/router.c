/*
 * The router: matches the raw request path against the route table segment by segment. See
 * router.h for the rules; this file only walks strings.
 */
#include "http/router.h"

#include <string.h>

#define PARAM_NAME_MAX 32

bool http_unreserved(unsigned char c)
{
        /* RFC 3986 section 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~" */
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~';
}

/* The segment of s[0..len) that starts after the '/' at *pos; moves *pos to the next '/' or
 * to len. */
static void next_seg(const char *s, size_t len, size_t *pos, const char **seg, size_t *seg_len)
{
        size_t start = *pos + 1, end = start;
        while (end < len && s[end] != '/')
                end++;
        *seg = s + start;
        *seg_len = end - start;
        *pos = end;
}

static bool is_param(const char *seg, size_t n)
{
        return n >= 2 && seg[0] == '{' && seg[n - 1] == '}';
}

static bool dot_segment(const char *seg, size_t n)
{
        return (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.');
}

static bool param_ok(const char *v, size_t n)
{
        if (n == 0 || n > HTTP_PARAM_MAX || dot_segment(v, n))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!http_unreserved((unsigned char)v[i]))
                        return false;
        return true;
}

static bool known_method(const char *m)
{
        static const char *const methods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                              "PATCH", "DELETE", "OPTIONS"};
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
                if (!strcmp(m, methods[i]))
                        return true;
        return false;
}

int http_router_check(const struct http_route *routes, size_t n_routes, struct pop_err *err)
{
        for (size_t r = 0; r < n_routes; r++) {
                const char *p = routes[r].pattern;
                if (!routes[r].method || !known_method(routes[r].method) || !routes[r].fn)
                        return pop_fail(err, POP_EINVAL, "route-table", "route %zu: bad method", r);
                size_t len = p ? strlen(p) : 0;
                if (len == 0 || p[0] != '/' || len > HTTP_PATH_MAX)
                        return pop_fail(err, POP_EINVAL, "route-table",
                                        "route %zu: a pattern starts with '/'", r);
                if (len == 1)
                        continue; /* "/" */
                size_t pos = 0;
                int n_params = 0;
                while (pos < len) {
                        const char *seg;
                        size_t n;
                        next_seg(p, len, &pos, &seg, &n);
                        if (n == 0 || dot_segment(seg, n))
                                return pop_fail(err, POP_EINVAL, "route-table",
                                                "%s: empty or dot segment", p);
                        if (is_param(seg, n)) {
                                if (++n_params > HTTP_MAX_PARAMS || n == 2 ||
                                    n - 2 > PARAM_NAME_MAX)
                                        return pop_fail(err, POP_EINVAL, "route-table",
                                                        "%s: too many or too long parameters", p);
                                for (size_t i = 1; i + 1 < n; i++) {
                                        char c = seg[i];
                                        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                              c == '_'))
                                                return pop_fail(err, POP_EINVAL, "route-table",
                                                                "%s: bad parameter name", p);
                                }
                                continue;
                        }
                        for (size_t i = 0; i < n; i++)
                                if (!http_unreserved((unsigned char)seg[i]))
                                        return pop_fail(err, POP_EINVAL, "route-table",
                                                        "%s: bad character in a literal segment",
                                                        p);
                }
        }
        return 0;
}

enum shape { SHAPE_NO, SHAPE_OK, SHAPE_BAD_PARAM };

/* Compares one pattern with the path: same segments, literals equal, parameters well formed. */
static enum shape match_shape(const char *pat, const char *path, size_t len, struct http_match *m)
{
        size_t plen = strlen(pat), pp = 0, qp = 0;
        enum shape result = SHAPE_OK;
        m->n_params = 0;
        while (pp < plen && qp < len) {
                const char *ps, *qs;
                size_t pn, qn;
                next_seg(pat, plen, &pp, &ps, &pn);
                next_seg(path, len, &qp, &qs, &qn);
                if (is_param(ps, pn)) {
                        if (!param_ok(qs, qn)) {
                                if (result == SHAPE_OK) {
                                        m->bad_param = ps + 1;
                                        m->bad_param_len = pn - 2;
                                }
                                result = SHAPE_BAD_PARAM;
                                continue;
                        }
                        struct http_param *prm = &m->params[m->n_params++];
                        prm->name = ps + 1;
                        prm->name_len = pn - 2;
                        prm->val = qs;
                        prm->val_len = qn;
                } else if (pn != qn || memcmp(ps, qs, pn) != 0) {
                        return SHAPE_NO;
                }
        }
        /* Both must end together: "/healthz/" has one segment more than "/healthz". */
        return pp == plen && qp == len ? result : SHAPE_NO;
}

static bool method_fits(const char *route_method, const char *method)
{
        return !strcmp(route_method, method) ||
               (!strcmp(method, "HEAD") && !strcmp(route_method, "GET"));
}

/* Appends a method to the Allow list unless it is there. */
static void allow_add(char *allow, const char *method)
{
        size_t mlen = strlen(method), have = strlen(allow);
        for (const char *p = allow; *p;) {
                size_t n = strcspn(p, ",");
                if (n == mlen && !memcmp(p, method, n))
                        return;
                p += n;
                while (*p == ',' || *p == ' ')
                        p++;
        }
        if (have + mlen + 3 > HTTP_ALLOW_MAX)
                return;
        if (have) {
                memcpy(allow + have, ", ", 2);
                have += 2;
        }
        memcpy(allow + have, method, mlen + 1);
}

enum http_route_result http_route_find(const struct http_route *routes, size_t n_routes,
                                       const char *method, const char *path, size_t len,
                                       struct http_match *m)
{
        memset(m, 0, sizeof *m);
        m->route = -1;
        const char *q = memchr(path, '?', len);
        if (q)
                len = (size_t)(q - path);
        if (len > HTTP_PATH_MAX)
                return HTTP_ROUTE_TOO_LONG;
        if (len == 0 || path[0] != '/')
                return HTTP_ROUTE_NOT_FOUND;

        bool other_method = false, bad_param = false;
        struct http_match t;
        for (size_t r = 0; r < n_routes; r++) {
                memset(&t, 0, sizeof t);
                enum shape s = match_shape(routes[r].pattern, path, len, &t);
                if (s == SHAPE_NO)
                        continue;
                if (s == SHAPE_BAD_PARAM) {
                        if (!bad_param) {
                                m->bad_param = t.bad_param;
                                m->bad_param_len = t.bad_param_len;
                        }
                        bad_param = true;
                        continue;
                }
                if (method_fits(routes[r].method, method)) {
                        memcpy(m->params, t.params, sizeof t.params);
                        m->n_params = t.n_params;
                        m->route = (int)r;
                        m->allow[0] = '\0';
                        m->bad_param = NULL;
                        m->bad_param_len = 0;
                        return HTTP_ROUTE_FOUND;
                }
                other_method = true;
                allow_add(m->allow, routes[r].method);
                if (!strcmp(routes[r].method, "GET"))
                        allow_add(m->allow, "HEAD");
        }
        if (other_method) {
                m->bad_param = NULL;
                m->bad_param_len = 0;
                return HTTP_ROUTE_BAD_METHOD;
        }
        return bad_param ? HTTP_ROUTE_BAD_PARAM : HTTP_ROUTE_NOT_FOUND;
}

const char *http_match_param(const struct http_match *m, const char *name, size_t *len)
{
        size_t n = strlen(name);
        for (int i = 0; i < m->n_params; i++) {
                if (m->params[i].name_len == n && !memcmp(m->params[i].name, name, n)) {
                        *len = m->params[i].val_len;
                        return m->params[i].val;
                }
        }
        *len = 0;
        return NULL;
}
