/*
 * Unit tests of eid_json_wipe (src/eid/otp.c): every string of a parsed document, nested in
 * objects and arrays, has its bytes zeroed in place (the very buffer json_string_value returns,
 * so the copy jansson made while parsing is gone before json_decref frees it); keys, numbers and
 * lengths stay; NULL and non-strings are no-ops.
 */
#include "testutil.h"

#include <string.h>

#include "eid/otp.h"

static bool zeros(const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

static void test_wipe(void **state)
{
        (void)state;
        const char *text = "{\"pid\":\"079092026135\",\"otp\":\"482913\",\"n\":7,"
                           "\"more\":{\"list\":[\"correct horse\",true,{\"deep\":\"123456\"}]}}";
        json_error_t je;
        json_t *body = json_loads(text, 0, &je);
        assert_non_null(body);
        json_t *otp = json_object_get(body, "otp");
        const char *otp_bytes = json_string_value(otp);
        json_t *deep = json_object_get(
            json_array_get(json_object_get(json_object_get(body, "more"), "list"), 2), "deep");
        const char *deep_bytes = json_string_value(deep);
        const char *horse = json_string_value(
            json_array_get(json_object_get(json_object_get(body, "more"), "list"), 0));
        eid_json_wipe(body);
        /* the same buffers, now NULs, lengths kept */
        assert_ptr_equal(json_string_value(otp), otp_bytes);
        assert_int_equal(json_string_length(otp), 6);
        assert_true(zeros(otp_bytes, 6));
        assert_true(zeros(deep_bytes, 6));
        assert_true(zeros(horse, strlen("correct horse")));
        assert_true(zeros(json_string_value(json_object_get(body, "pid")), 12));
        /* keys and other values stay */
        assert_non_null(json_object_get(body, "otp"));
        assert_int_equal(json_integer_value(json_object_get(body, "n")), 7);
        json_decref(body);
        eid_json_wipe(NULL);
        json_t *num = json_integer(5);
        eid_json_wipe(num);
        assert_int_equal(json_integer_value(num), 5);
        json_decref(num);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_wipe),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
