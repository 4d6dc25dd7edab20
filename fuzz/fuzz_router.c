/*
 * Fuzz target for the HTTP router (src/http/router.c) and the wire checks (src/http/wire.c).
 * The input is "METHOD PATH": the bytes before the first space are the method, the rest the
 * raw request target. It is routed through the server's own table and a table with parameter
 * routes; whatever is found must hold: a found route fits the method, its parameters are
 * slices of the path made only of unreserved characters and within their cap, nothing is read
 * past the given length (the replayer and libFuzzer hand over exact-size buffers, so ASan sees
 * an overread). The UTF-8 validator must agree with a plain decoder written from RFC 3629, and
 * the request id check with its definition, on the whole input. A broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "http/router.h"
#include "http/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int h_dummy(struct http_req *rq, const struct http_match *m)
{
        (void)rq;
        (void)m;
        return 0;
}

static const struct http_route param_routes[] = {
    {"GET", "/v1/persons/search", h_dummy},
    {"GET", "/v1/persons/{pid}", h_dummy},
    {"DELETE", "/v1/persons/{pid}", h_dummy},
    {"POST", "/v1/persons", h_dummy},
    {"GET", "/v1/households/{id}/members/{pid}", h_dummy},
    {"GET", "/", h_dummy},
};

/* RFC 3629 the slow way: decode each sequence, then check its length is minimal and the code
 * point is a Unicode scalar value. */
static int utf8_reference(const uint8_t *s, size_t len)
{
        size_t i = 0;
        while (i < len) {
                uint8_t c = s[i];
                size_t n;
                uint32_t cp;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if ((c & 0xE0) == 0xC0) {
                        n = 2;
                        cp = c & 0x1F;
                } else if ((c & 0xF0) == 0xE0) {
                        n = 3;
                        cp = c & 0x0F;
                } else if ((c & 0xF8) == 0xF0) {
                        n = 4;
                        cp = c & 0x07;
                } else {
                        return 0;
                }
                if (i + n > len)
                        return 0;
                for (size_t k = 1; k < n; k++) {
                        if ((s[i + k] & 0xC0) != 0x80)
                                return 0;
                        cp = (cp << 6) | (s[i + k] & 0x3F);
                }
                uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
                if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        return 0;
                i += n;
        }
        return 1;
}

static int unreserved(uint8_t c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_' || c == '~';
}

static void check_route(const struct http_route *routes, size_t n, const char *method,
                        const char *path, size_t len)
{
        struct http_match m;
        enum http_route_result r = http_route_find(routes, n, method, path, len, &m);
        const char *q = memchr(path, '?', len);
        size_t plen = q ? (size_t)(q - path) : len;
        switch (r) {
        case HTTP_ROUTE_FOUND:
                if (m.route < 0 || (size_t)m.route >= n || plen > HTTP_PATH_MAX || plen == 0 ||
                    path[0] != '/')
                        abort();
                if (strcmp(routes[m.route].method, method) &&
                    !(strcmp(method, "HEAD") == 0 && strcmp(routes[m.route].method, "GET") == 0))
                        abort();
                if (memchr(path, '%', plen))
                        abort();
                for (int i = 0; i < m.n_params; i++) {
                        const struct http_param *p = &m.params[i];
                        if (p->val < path || p->val + p->val_len > path + plen || p->val_len == 0 ||
                            p->val_len > HTTP_PARAM_MAX)
                                abort();
                        for (size_t k = 0; k < p->val_len; k++)
                                if (!unreserved((uint8_t)p->val[k]))
                                        abort();
                        if ((p->val_len == 1 && p->val[0] == '.') ||
                            (p->val_len == 2 && p->val[0] == '.' && p->val[1] == '.'))
                                abort();
                        size_t vlen;
                        if (http_match_param(&m, "nonexistent-name", &vlen) != NULL || vlen != 0)
                                abort();
                }
                break;
        case HTTP_ROUTE_BAD_METHOD:
                if (m.route != -1 || m.allow[0] == '\0' ||
                    memchr(m.allow, '\0', sizeof m.allow) == NULL)
                        abort();
                break;
        case HTTP_ROUTE_BAD_PARAM:
                if (m.route != -1 || !m.bad_param || m.bad_param_len == 0)
                        abort();
                break;
        case HTTP_ROUTE_TOO_LONG:
                if (plen <= HTTP_PATH_MAX)
                        abort();
                break;
        case HTTP_ROUTE_NOT_FOUND:
                if (m.route != -1)
                        abort();
                break;
        default:
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (http_utf8_valid((const char *)data, size) != utf8_reference(data, size))
                abort();
        int id_ok = size >= 1 && size <= HTTP_REQID_MAX;
        for (size_t i = 0; i < size && id_ok; i++)
                id_ok = unreserved(data[i]);
        if (http_reqid_ok((const char *)data, size) != id_ok)
                abort();

        const uint8_t *sp = memchr(data, ' ', size < HTTP_METHOD_MAX ? size : HTTP_METHOD_MAX);
        if (!sp)
                return 0;
        char method[HTTP_METHOD_MAX];
        size_t mlen = (size_t)(sp - data);
        memcpy(method, data, mlen);
        method[mlen] = '\0';
        /* An exact-size copy of the path, so any read past len is an overread. */
        size_t len = size - mlen - 1;
        char *path = malloc(len ? len : 1);
        if (!path)
                return 0;
        memcpy(path, sp + 1, len);
        check_route(http__routes, http__n_routes, method, path, len);
        check_route(param_routes, sizeof param_routes / sizeof param_routes[0], method, path, len);
        free(path);
        return 0;
}
