/*
 * Unit tests of the request arena's wipe (src/http/arena.c, http_arena_wipe_on_reset): after a
 * flagged reset the inline block's used bytes are zero (a body holding an OTP, and the copy its
 * buffer's growth left behind, included); an unflagged reset leaves bytes as they were (the
 * cost is paid only by requests that ask); the flag lasts one reset. Extra blocks are wiped by
 * the same loop before free, which a test cannot observe without reading freed memory.
 */
#include "testutil.h"

#include <string.h>

#include "http/arena.h"

static const char secret[] = "{\"pid\":\"079092026135\",\"otp\":\"482913\",\"otp_txn\":\"9f0c\"}";

static struct http_arena a;

static bool has(const struct http_arena *ar, const char *needle)
{
        return memmem(ar->inline_buf, sizeof ar->inline_buf, needle, strlen(needle)) != NULL;
}

static void test_wipe_on_reset(void **state)
{
        (void)state;
        http_arena_init(&a);
        struct http_buf b;
        http_buf_init(&b, &a, 4096);
        /* a body that outgrows the first 256 bytes: the old copy stays in the arena */
        http_buf_add(&b, secret, sizeof secret - 1);
        char pad[300];
        memset(pad, ' ', sizeof pad);
        http_buf_add(&b, pad, sizeof pad);
        assert_false(b.failed);
        assert_true(b.cap > 256);
        char *old = a.inline_buf;
        assert_memory_equal(old, secret, sizeof secret - 1); /* the abandoned first copy */
        size_t used = a.used;
        assert_non_null(http_arena_alloc(&a, 20000)); /* an extra block, wiped and freed */
        http_arena_wipe_on_reset(&a);
        http_arena_reset(&a);
        assert_false(has(&a, "482913"));
        for (size_t i = 0; i < used; i++)
                assert_int_equal(a.inline_buf[i], 0);
        assert_int_equal(a.used, 0);
        assert_null(a.more);
}

static void test_no_wipe_unless_asked(void **state)
{
        (void)state;
        http_arena_init(&a);
        char *p = http_arena_alloc(&a, sizeof secret);
        memcpy(p, secret, sizeof secret);
        http_arena_reset(&a);
        assert_true(has(&a, "482913")); /* not asked: left as it was */
        /* the flag lasts one reset */
        p = http_arena_alloc(&a, sizeof secret);
        memcpy(p, secret, sizeof secret);
        http_arena_wipe_on_reset(&a);
        http_arena_reset(&a);
        assert_false(has(&a, "482913"));
        p = http_arena_alloc(&a, sizeof secret);
        memcpy(p, secret, sizeof secret);
        http_arena_reset(&a);
        assert_true(has(&a, "482913"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_wipe_on_reset),
            cmocka_unit_test(test_no_wipe_unless_asked),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
