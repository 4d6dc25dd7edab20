/*
 * Unit tests of the router (src/http/router.c): literal and parameter routes, methods (HEAD
 * on GET routes, 405 with Allow), trailing and doubled slashes, dot segments, percent-encoding
 * and other characters in parameters, query strings, very long paths and parameters, and the
 * checks of a route table.
 */
#include "testutil.h"

#include <string.h>

#include "http/router.h"

static int h_dummy(struct http_req *rq, const struct http_match *m)
{
        (void)rq;
        (void)m;
        return 0;
}

static const struct http_route routes[] = {
    {"GET", "/healthz", h_dummy},          {"GET", "/v1/persons/search", h_dummy},
    {"GET", "/v1/persons/{pid}", h_dummy}, {"DELETE", "/v1/persons/{pid}", h_dummy},
    {"POST", "/v1/persons", h_dummy},      {"GET", "/v1/households/{id}/members/{pid}", h_dummy},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static enum http_route_result find(const char *method, const char *path, struct http_match *m)
{
        return http_route_find(routes, N_ROUTES, method, path, strlen(path), m);
}

static void param_is(const struct http_match *m, const char *name, const char *want)
{
        size_t len;
        const char *v = http_match_param(m, name, &len);
        assert_non_null(v);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(v, want, len);
}

static void test_table_is_valid(void **state)
{
        (void)state;
        struct pop_err e = {0};
        assert_int_equal(http_router_check(routes, N_ROUTES, &e), 0);
}

static void test_literal(void **state)
{
        (void)state;
        struct http_match m;
        assert_int_equal(find("GET", "/healthz", &m), HTTP_ROUTE_FOUND);
        assert_int_equal(m.route, 0);
        assert_int_equal(m.n_params, 0);
        assert_int_equal(find("GET", "/healthz?verbose=1", &m), HTTP_ROUTE_FOUND);
        assert_int_equal(find("GET", "/healthzz", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "/health", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "/HEALTHZ", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "/", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "healthz", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "*", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "http://host/healthz", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(m.route, -1);
}

static void test_params(void **state)
{
        (void)state;
        struct http_match m;
        assert_int_equal(find("GET", "/v1/persons/001090012345", &m), HTTP_ROUTE_FOUND);
        assert_int_equal(m.route, 2);
        assert_int_equal(m.n_params, 1);
        param_is(&m, "pid", "001090012345");
        size_t len;
        assert_null(http_match_param(&m, "id", &len));
        assert_int_equal(len, 0);

        assert_int_equal(find("GET", "/v1/households/42/members/079303123456?x=%41", &m),
                         HTTP_ROUTE_FOUND);
        assert_int_equal(m.route, 5);
        param_is(&m, "id", "42");
        param_is(&m, "pid", "079303123456");

        /* A literal route listed first wins over the parameter route that also fits. */
        assert_int_equal(find("GET", "/v1/persons/search", &m), HTTP_ROUTE_FOUND);
        assert_int_equal(m.route, 1);
        /* Unreserved characters other than digits are the handler's to refuse. */
        assert_int_equal(find("GET", "/v1/persons/a-b.c_d~e", &m), HTTP_ROUTE_FOUND);
        param_is(&m, "pid", "a-b.c_d~e");
}

static void test_methods(void **state)
{
        (void)state;
        struct http_match m;
        assert_int_equal(find("HEAD", "/healthz", &m), HTTP_ROUTE_FOUND);
        assert_int_equal(find("POST", "/healthz", &m), HTTP_ROUTE_BAD_METHOD);
        assert_string_equal(m.allow, "GET, HEAD");
        assert_int_equal(m.route, -1);
        assert_int_equal(find("DELETE", "/v1/persons/001090012345", &m), HTTP_ROUTE_FOUND);
        assert_int_equal(m.route, 3);
        assert_int_equal(find("PUT", "/v1/persons/001090012345", &m), HTTP_ROUTE_BAD_METHOD);
        assert_string_equal(m.allow, "GET, HEAD, DELETE");
        assert_int_equal(find("GET", "/v1/persons", &m), HTTP_ROUTE_BAD_METHOD);
        assert_string_equal(m.allow, "POST");
        assert_int_equal(find("get", "/healthz", &m), HTTP_ROUTE_BAD_METHOD);
        assert_int_equal(find("OPTIONS", "/nowhere", &m), HTTP_ROUTE_NOT_FOUND);
        assert_string_equal(m.allow, "");
}

static void test_slashes_and_dots(void **state)
{
        (void)state;
        struct http_match m;
        assert_int_equal(find("GET", "/healthz/", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "//healthz", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "/v1//persons/1", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "/v1/persons/001090012345/", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "/v1/persons/", &m), HTTP_ROUTE_BAD_PARAM);
        assert_int_equal(find("GET", "/v1/persons//", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "/v1/persons/..", &m), HTTP_ROUTE_BAD_PARAM);
        assert_int_equal(find("GET", "/v1/persons/.", &m), HTTP_ROUTE_BAD_PARAM);
        assert_int_equal(find("GET", "/v1/persons/...", &m), HTTP_ROUTE_FOUND);
        assert_int_equal(find("GET", "/v1/./healthz", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "/v1/persons/../../healthz", &m), HTTP_ROUTE_NOT_FOUND);
}

static void test_encoded_params_refused(void **state)
{
        (void)state;
        struct http_match m;
        static const char *const bad[] = {
            "/v1/persons/%30%30%31090012345", /* "001..." percent-encoded */
            "/v1/persons/001090012345%00",
            "/v1/persons/%2e%2e",
            "/v1/persons/0010900%2F12345",
            "/v1/persons/00109 0012345",
            "/v1/persons/001090012345#frag",
            "/v1/persons/0010900123+45",
            "/v1/persons/\xef\xbc\x90\xef\xbc\x90\xef\xbc\x91", /* fullwidth digits */
            "/v1/persons/a\"b",
            "/v1/persons/a\\b",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(find("GET", bad[i], &m), HTTP_ROUTE_BAD_PARAM);
                assert_int_equal(m.bad_param_len, 3);
                assert_memory_equal(m.bad_param, "pid", 3);
        }
        /* Percent-encoding in a literal segment matches nothing. */
        assert_int_equal(find("GET", "/v1/%70ersons/001090012345", &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(find("GET", "/healthz%2F", &m), HTTP_ROUTE_NOT_FOUND);
        /* The same id with a valid method elsewhere: a bad parameter is still a bad parameter. */
        assert_int_equal(find("PUT", "/v1/persons/%41", &m), HTTP_ROUTE_BAD_PARAM);
}

static void test_long_paths(void **state)
{
        (void)state;
        struct http_match m;
        static char path[HTTP_PATH_MAX + 64];
        /* A parameter of exactly HTTP_PARAM_MAX bytes, and one byte more. */
        strcpy(path, "/v1/persons/");
        size_t n = strlen(path);
        memset(path + n, '7', HTTP_PARAM_MAX);
        path[n + HTTP_PARAM_MAX] = '\0';
        assert_int_equal(find("GET", path, &m), HTTP_ROUTE_FOUND);
        path[n + HTTP_PARAM_MAX] = '7';
        path[n + HTTP_PARAM_MAX + 1] = '\0';
        assert_int_equal(find("GET", path, &m), HTTP_ROUTE_BAD_PARAM);

        /* A path of HTTP_PATH_MAX bytes is routed; one byte more is refused before matching. */
        memset(path, 'a', sizeof path);
        path[0] = '/';
        path[HTTP_PATH_MAX] = '\0';
        assert_int_equal(find("GET", path, &m), HTTP_ROUTE_NOT_FOUND);
        path[HTTP_PATH_MAX] = 'a';
        path[HTTP_PATH_MAX + 1] = '\0';
        assert_int_equal(find("GET", path, &m), HTTP_ROUTE_TOO_LONG);
        /* The query does not count. */
        memcpy(path, "/healthz?", 9);
        assert_int_equal(find("GET", path, &m), HTTP_ROUTE_FOUND);
        /* Many segments. */
        for (size_t i = 0; i < HTTP_PATH_MAX; i++)
                path[i] = (i % 2) ? 'x' : '/';
        path[HTTP_PATH_MAX] = '\0';
        assert_int_equal(find("GET", path, &m), HTTP_ROUTE_NOT_FOUND);
}

static void test_length_is_respected(void **state)
{
        (void)state;
        struct http_match m;
        /* Bytes past len are not read: "/healthz" within "/healthzXYZ". */
        assert_int_equal(http_route_find(routes, N_ROUTES, "GET", "/healthzXYZ", 8, &m),
                         HTTP_ROUTE_FOUND);
        assert_int_equal(http_route_find(routes, N_ROUTES, "GET",
                                         "/v1/persons/12\0"
                                         "3",
                                         15, &m),
                         HTTP_ROUTE_BAD_PARAM);
}

static void test_bad_tables(void **state)
{
        (void)state;
        struct pop_err e = {0};
        static const struct http_route bad[][1] = {
            {{"GET", "healthz", h_dummy}},
            {{"GET", "", h_dummy}},
            {{"GET", "/a//b", h_dummy}},
            {{"GET", "/a/", h_dummy}},
            {{"GET", "/a/../b", h_dummy}},
            {{"GET", "/a/{}", h_dummy}},
            {{"GET", "/a/{Pid}", h_dummy}},
            {{"GET", "/a/{p-d}", h_dummy}},
            {{"GET", "/a/{a}/{b}/{c}/{d}/{e}", h_dummy}},
            {{"GET", "/a\"b", h_dummy}},
            {{"GET", "/a%20b", h_dummy}},
            {{"FETCH", "/a", h_dummy}},
            {{"GET", "/a", NULL}},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(http_router_check(bad[i], 1, &e), POP_EINVAL);
                assert_string_equal(e.rule, "route-table");
        }
        static const struct http_route good[] = {
            {"GET", "/", h_dummy},
            {"PATCH", "/a/{p_1}/b/{q}", h_dummy},
        };
        assert_int_equal(http_router_check(good, 2, &e), 0);
        struct http_match m;
        assert_int_equal(http_route_find(good, 2, "GET", "/", 1, &m), HTTP_ROUTE_FOUND);
        assert_int_equal(http_route_find(good, 2, "GET", "//", 2, &m), HTTP_ROUTE_NOT_FOUND);
        assert_int_equal(http_route_find(good, 2, "PATCH", "/a/1/b/2", 8, &m), HTTP_ROUTE_FOUND);
        param_is(&m, "p_1", "1");
        param_is(&m, "q", "2");
}

static void test_unreserved(void **state)
{
        (void)state;
        int n = 0;
        for (int c = 0; c < 256; c++)
                n += http_unreserved((unsigned char)c);
        assert_int_equal(n, 26 + 26 + 10 + 4);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_table_is_valid),   cmocka_unit_test(test_literal),
            cmocka_unit_test(test_params),           cmocka_unit_test(test_methods),
            cmocka_unit_test(test_slashes_and_dots), cmocka_unit_test(test_encoded_params_refused),
            cmocka_unit_test(test_long_paths),       cmocka_unit_test(test_length_is_respected),
            cmocka_unit_test(test_bad_tables),       cmocka_unit_test(test_unreserved),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
