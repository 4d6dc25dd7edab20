/*
 * The embedded OpenAPI document (docs/openapi.json, built into the binary) and the route table
 * agree: the document is valid JSON of OpenAPI 3.1, every route is an operation of the
 * document and every operation is a route, and every operation has responses.
 */
#include "testutil.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"

static void test_document_parses(void **state)
{
        (void)state;
        assert_true(http__openapi_json_len > 100);
        assert_int_equal(http__openapi_json[http__openapi_json_len], '\0');
        json_error_t je;
        json_t *doc = json_loadb((const char *)http__openapi_json, http__openapi_json_len,
                                 JSON_REJECT_DUPLICATES, &je);
        if (!doc)
                fail_msg("docs/openapi.json: %s at line %d", je.text, je.line);
        assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
        json_t *problem = json_object_get(
            json_object_get(json_object_get(doc, "components"), "schemas"), "Problem");
        assert_non_null(json_object_get(json_object_get(problem, "properties"), "instance"));
        json_decref(doc);
}

static void test_routes_match_document(void **state)
{
        (void)state;
        json_t *doc = json_loadb((const char *)http__openapi_json, http__openapi_json_len, 0, NULL);
        json_t *paths = json_object_get(doc, "paths");
        assert_non_null(paths);
        /* Route table -> document. */
        for (size_t i = 0; i < http__n_routes; i++) {
                char op[16];
                size_t n = strlen(http__routes[i].method);
                assert_true(n < sizeof op);
                for (size_t k = 0; k <= n; k++)
                        op[k] = (char)tolower((unsigned char)http__routes[i].method[k]);
                json_t *item = json_object_get(paths, http__routes[i].pattern);
                if (!json_object_get(item, op))
                        fail_msg("%s %s is not in docs/openapi.json", http__routes[i].method,
                                 http__routes[i].pattern);
                assert_non_null(json_object_get(json_object_get(item, op), "responses"));
        }
        /* Document -> route table. */
        const char *path;
        json_t *item;
        json_object_foreach(paths, path, item)
        {
                const char *op;
                json_t *v;
                json_object_foreach(item, op, v)
                {
                        if (!strcmp(op, "parameters") || !strcmp(op, "summary") ||
                            !strcmp(op, "description"))
                                continue;
                        int found = 0;
                        for (size_t i = 0; i < http__n_routes; i++)
                                if (!strcmp(http__routes[i].pattern, path) &&
                                    !strcasecmp(http__routes[i].method, op))
                                        found = 1;
                        if (!found)
                                fail_msg(
                                    "docs/openapi.json has %s %s, the server has no such route", op,
                                    path);
                }
        }
        json_decref(doc);
}

static void test_route_table_is_valid(void **state)
{
        (void)state;
        struct pop_err e = {0};
        assert_int_equal(http_router_check(http__routes, http__n_routes, &e), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_document_parses),
            cmocka_unit_test(test_routes_match_document),
            cmocka_unit_test(test_route_table_is_valid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
