/*
 * Unit tests of the outbox (src/hub/outbox.c): the retry schedule (exponential, capped, with
 * jitter in its documented bounds), sealing (a body opens only under its key, a changed byte is
 * refused), the webhook signature against Python's hmac (computed once, below), the key file's
 * checks, and delivery passes driven by hand (no thread, no sleeping) against a port where
 * nothing listens: attempts counted, next attempt scheduled by the backoff, dead after the last
 * attempt with the body emptied, and a body that does not open given up at once. Delivery to a
 * live receiver is tested end to end in tests/cli/otp_test.sh.
 */
#include "testutil.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hub/outbox.h"

#define NOW 1795428000000LL

#define ok(expr)                                                                                   \
        do {                                                                                       \
                int rc_ = (expr);                                                                  \
                if (rc_) {                                                                         \
                        print_error("%s: %d %s\n", #expr, rc_, err.msg);                           \
                        fail();                                                                    \
                }                                                                                  \
        } while (0)

static void test_backoff(void **state)
{
        (void)state;
        /* Attempt k waits between half and all of base * 2^(k-1), capped. */
        for (int k = 1; k <= 12; k++) {
                int64_t full = 1000;
                for (int i = 1; i < k; i++)
                        full *= 2;
                if (full > 60000)
                        full = 60000;
                assert_int_equal(hub_backoff_ms(k, 1000, 60000, 0), full - full / 2);
                assert_int_equal(hub_backoff_ms(k, 1000, 60000, (uint32_t)(full / 2)), full);
                assert_int_equal(hub_backoff_ms(k, 1000, 60000, UINT32_MAX) >= full - full / 2, 1);
                assert_true(hub_backoff_ms(k, 1000, 60000, UINT32_MAX) <= full);
        }
        /* No overflow for a huge attempt count; never below half the cap there. */
        assert_int_equal(hub_backoff_ms(1000000, 1000, 300000, 0), 150000);
        assert_int_equal(hub_backoff_ms(0, 1000, 300000, 0), 500);
}

static void test_seal_open(void **state)
{
        (void)state;
        struct pop_err err = {0};
        uint8_t key[HUB_OUTBOX_KEY_BYTES], other[HUB_OUTBOX_KEY_BYTES];
        randombytes_buf(key, sizeof key);
        randombytes_buf(other, sizeof other);
        const char msg[] = "{\"otp\":\"123456\"}";
        uint8_t blob[256];
        size_t n = 0, m = 0;
        ok(hub_outbox_seal(key, msg, strlen(msg), blob, sizeof blob, &n, &err));
        assert_int_equal(n, strlen(msg) + HUB_OUTBOX_SEAL_OVERHEAD);
        assert_null(memmem(blob, n, "123456", 6));
        char out[256];
        ok(hub_outbox_open(key, blob, n, out, sizeof out, &m, &err));
        assert_string_equal(out, msg);
        assert_int_equal(hub_outbox_open(other, blob, n, out, sizeof out, &m, &err), POP_EVERIFY);
        blob[n - 1] ^= 1;
        assert_int_equal(hub_outbox_open(key, blob, n, out, sizeof out, &m, &err), POP_EVERIFY);
        assert_int_equal(hub_outbox_open(key, blob, 10, out, sizeof out, &m, &err), POP_EVERIFY);
        static char big[HUB_OUTBOX_MSG_MAX + 2];
        memset(big, 'a', sizeof big - 1);
        uint8_t bigblob[HUB_OUTBOX_MSG_MAX + 64];
        assert_int_equal(hub_outbox_seal(key, big, strlen(big), bigblob, sizeof bigblob, &n, &err),
                         POP_ETOOBIG);
}

static void test_sign(void **state)
{
        (void)state;
        /* python3 -c "import hmac,hashlib; print(hmac.new(b'gateway-secret',
         *   b'1700000000.{\"otp\":\"123456\"}', hashlib.sha256).hexdigest())" */
        const char body[] = "{\"otp\":\"123456\"}";
        char sig[3 + HUB_SIG_HEX];
        hub_sign((const uint8_t *)"gateway-secret", 14, 1700000000, body, strlen(body), sig);
        assert_string_equal(sig,
                            "v1=39e4659207f7b2f759179646fa00df9a222be7010b1af4c035fb3cab8f363f40");
}

static void test_key_file(void **state)
{
        (void)state;
        struct pop_err err = {0};
        char path[512], buf[600];
        tu_tmpdir();
        tu_path(path, sizeof path, "r.db");
        ok(hub_outbox_key_path(path, buf, sizeof buf, &err));
        assert_non_null(strstr(buf, "r.db.outbox.key"));
        uint8_t k1[HUB_OUTBOX_KEY_BYTES], k2[HUB_OUTBOX_KEY_BYTES];
        assert_int_equal(hub_outbox_key_load(buf, false, k1, &err), POP_EIO);
        ok(hub_outbox_key_load(buf, true, k1, &err));
        ok(hub_outbox_key_load(buf, false, k2, &err));
        assert_memory_equal(k1, k2, sizeof k1);
        chmod(buf, 0644);
        assert_int_equal(hub_outbox_key_load(buf, false, k2, &err), POP_EIO);
        assert_string_equal(err.rule, "outbox-key-mode");
        assert_int_equal(hub_outbox_key_path("postgresql://x/y", buf, sizeof buf, &err),
                         POP_EINVAL);
}

struct seen {
        int n;
        struct store_outbox m;
};

static int grab(void *ctx, const struct store_outbox *m)
{
        struct seen *s = ctx;
        s->n++;
        s->m = *m;
        s->m.body = NULL;
        return 0;
}

/* Reads row id's state through a due query far in the future (pending rows only). */
static struct seen pending(struct store *st)
{
        struct seen s = {0};
        struct pop_err err = {0};
        ok(store_outbox_due(st, INT64_MAX, 10, grab, &s, &err));
        return s;
}

static void test_delivery_schedule(void **state)
{
        (void)state;
        struct pop_err err = {0};
        char path[512], uri[600];
        tu_tmpdir();
        tu_path(path, sizeof path, "d.db");
        snprintf(uri, sizeof uri, "sqlite:%s", path);
        struct store *st = NULL;
        ok(store_open(uri, 1, &st, &err));
        uint8_t key[HUB_OUTBOX_KEY_BYTES];
        randombytes_buf(key, sizeof key);
        const char msg[] = "{\"topic\":\"otp\",\"otp\":\"654321\"}";
        uint8_t blob[128];
        size_t n = 0;
        ok(hub_outbox_seal(key, msg, strlen(msg), blob, sizeof blob, &n, &err));
        struct store_outbox m = {.subject = 79092026135LL,
                                 .body = blob,
                                 .body_len = n,
                                 .next_ms = NOW,
                                 .created_ms = NOW,
                                 .updated_ms = NOW};
        snprintf(m.topic, sizeof m.topic, "otp");
        snprintf(m.ref, sizeof m.ref, "t1");
        struct store_outbox bad = m;
        uint8_t junk[60] = {0};
        bad.body = junk;
        bad.body_len = sizeof junk;
        snprintf(bad.ref, sizeof bad.ref, "t2");
        ok(store_begin(st, &err));
        ok(store_outbox_insert(st, &m, &err));
        ok(store_outbox_insert(st, &bad, &err));
        ok(store_commit(st, &err));

        /* Port 1 on loopback: nothing listens, the connection is refused at once. */
        struct hub_outbox_cfg cfg = {.db = uri,
                                     .url = "http://127.0.0.1:1/hook",
                                     .secret = (const uint8_t *)"s",
                                     .secret_len = 1,
                                     .key = key,
                                     .max_attempts = 3,
                                     .base_ms = 1000,
                                     .cap_ms = 60000,
                                     .timeout_ms = 2000,
                                     .no_thread = true};
        struct hub_outbox *ob = NULL;
        ok(hub_outbox_start(&cfg, &ob, &err));
        struct hub_outbox_stats s;
        hub_outbox_get_stats(ob, &s);
        assert_int_equal(s.pending, 2);

        int tried = 0;
        ok(hub_outbox_run_once(ob, NOW, &tried, &err));
        assert_int_equal(tried, 2);
        /* The body that does not open is dead at once; the other waits 500..1000 ms. */
        hub_outbox_get_stats(ob, &s);
        assert_int_equal(s.dead, 1);
        assert_int_equal(s.pending, 1);
        assert_int_equal(s.attempts, 1); /* the dead one was never posted */
        struct seen p = pending(st);
        assert_int_equal(p.n, 1);
        assert_int_equal(p.m.attempts, 1);
        assert_true(p.m.next_ms >= NOW + 500 && p.m.next_ms <= NOW + 1000);
        assert_true(strlen(p.m.last_error) > 0);

        /* Not due yet: nothing is tried. */
        ok(hub_outbox_run_once(ob, p.m.next_ms - 1, &tried, &err));
        assert_int_equal(tried, 0);
        int64_t t2 = p.m.next_ms;
        ok(hub_outbox_run_once(ob, t2, &tried, &err));
        assert_int_equal(tried, 1);
        p = pending(st);
        assert_int_equal(p.m.attempts, 2);
        assert_true(p.m.next_ms >= t2 + 1000 && p.m.next_ms <= t2 + 2000);

        /* The third attempt is the last: dead, body emptied, nothing pending. */
        ok(hub_outbox_run_once(ob, p.m.next_ms, &tried, &err));
        assert_int_equal(tried, 1);
        assert_int_equal(pending(st).n, 0);
        hub_outbox_get_stats(ob, &s);
        assert_int_equal(s.dead, 2);
        assert_int_equal(s.pending, 0);
        assert_int_equal(s.delivered, 0);
        assert_int_equal(s.failures, 4);
        hub_outbox_stop(ob);
        store_close(st);
}

int main(void)
{
        if (sodium_init() < 0)
                return 1;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_backoff),
            cmocka_unit_test(test_seal_open),
            cmocka_unit_test(test_sign),
            cmocka_unit_test(test_key_file),
            cmocka_unit_test(test_delivery_schedule),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
