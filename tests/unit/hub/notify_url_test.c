/*
 * Unit tests of the webhook URL rule (hub_notify_url_check, src/hub/outbox.c; docs/AUTH.md
 * "OTP delivery"): https:// to any host; http:// only to a loopback host (every address of
 * 127.0.0.0/8, ::1, localhost) unless insecure is set; other schemes, URLs without a host and
 * garbage refused with their rule; the refusal names the host but nothing else of the URL.
 */
#include "testutil.h"

#include <string.h>

#include "hub/outbox.h"

static int check(const char *url, bool insecure, struct pop_err *err)
{
        pop_err_clear(err);
        return hub_notify_url_check(url, insecure, err);
}

static void test_allowed(void **state)
{
        (void)state;
        struct pop_err err;
        static const char *const ok[] = {
            "https://sms.example.vn/hook", "HTTPS://sms.example.vn:8443/hook?x=1",
            "https://203.0.113.7/hook",    "http://127.0.0.1:9000/hook",
            "http://127.255.3.4/hook",     "http://localhost/hook",
            "http://LOCALHOST:80/",        "http://[::1]:8080/hook",
        };
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
                int rc = check(ok[i], false, &err);
                if (rc)
                        print_error("%s: %s\n", ok[i], err.msg);
                assert_int_equal(rc, 0);
        }
}

static void test_insecure_refused(void **state)
{
        (void)state;
        struct pop_err err;
        static const char *const bad[] = {
            "http://sms.example.vn/hook",
            "http://203.0.113.7/hook",
            "http://128.0.0.1/hook",
            "http://10.0.0.1/hook",
            "http://[2001:db8::1]/hook",
            "http://[::ffff:10.0.0.1]/hook",
            "http://localhost.example.vn/hook",
            "http://0.0.0.0/hook",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(check(bad[i], false, &err), POP_EINVAL);
                assert_string_equal(err.rule, "notify-url-insecure");
                /* ... and allowed when the operator vouches for the network. */
                assert_int_equal(check(bad[i], true, &err), 0);
        }
        assert_int_equal(check("http://sms.example.vn:8080/hook?token=secret", false, &err),
                         POP_EINVAL);
        assert_non_null(strstr(err.msg, "'sms.example.vn'"));
        assert_null(strstr(err.msg, "secret"));
        assert_non_null(strstr(err.msg, "https://"));
}

static void test_malformed(void **state)
{
        (void)state;
        struct pop_err err;
        static const char *const bad[] = {
            "",        "sms.example.vn/hook", "ftp://sms.example.vn/hook", "file:///etc/passwd",
            "http://", "http://exa mple.vn/", "gopher://127.0.0.1/",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                int rc = check(bad[i], true, &err);
                if (rc != POP_EINVAL)
                        print_error("'%s' gave %d\n", bad[i], rc);
                assert_int_equal(rc, POP_EINVAL);
                assert_string_equal(err.rule, "notify-url");
                assert_true(err.msg[0] != '\0');
        }
        assert_int_equal(check(NULL, true, &err), POP_EINVAL);
        char longurl[2100];
        memset(longurl, 'a', sizeof longurl - 1);
        memcpy(longurl, "https://", 8);
        longurl[sizeof longurl - 1] = '\0';
        assert_int_equal(check(longurl, false, &err), POP_EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_allowed),
            cmocka_unit_test(test_insecure_refused),
            cmocka_unit_test(test_malformed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
