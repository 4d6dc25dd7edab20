/*
 * Fuzz target for what the outbox reads back (src/hub/outbox.c): a stored body is opened with
 * hub_outbox_open under a fixed key. Any bytes must be refused with POP_EVERIFY and a message, or
 * open to text that seals and opens again to the same text; the output buffer is never overrun
 * (ASan) and is NUL-terminated. The same bytes also go to the OTP channel parser and to the
 * masking of a destination (eid/otp.h), which must stay within its buffer and keep its length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eid/otp.h"
#include "hub/outbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[HUB_OUTBOX_KEY_BYTES] = {
    0x3c, 0x11, 0x8e, 0x02, 0x5a, 0xf0, 0x9d, 0x44, 0x07, 0x61, 0xbb, 0x2e, 0x90, 0x13, 0x7a, 0xc5,
    0xd8, 0x26, 0x4f, 0x39, 0xe1, 0x0b, 0x72, 0xa4, 0x5e, 0x88, 0x1d, 0xc0, 0x6b, 0xf7, 0x33, 0x09};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char out[HUB_OUTBOX_MSG_MAX + 1];
        struct pop_err err;
        pop_err_clear(&err);
        size_t n = 0;
        int rc = hub_outbox_open(key, data, size, out, sizeof out, &n, &err);
        if (rc) {
                if (rc != POP_EVERIFY || err.msg[0] == '\0')
                        abort();
        } else {
                if (n + HUB_OUTBOX_SEAL_OVERHEAD != size || out[n] != '\0')
                        abort();
                static uint8_t again[HUB_OUTBOX_MSG_MAX + HUB_OUTBOX_SEAL_OVERHEAD];
                static char back[HUB_OUTBOX_MSG_MAX + 1];
                size_t m = 0, k = 0;
                if (hub_outbox_seal(key, out, n, again, sizeof again, &m, &err) ||
                    hub_outbox_open(key, again, m, back, sizeof back, &k, &err) || k != n ||
                    memcmp(back, out, n) != 0)
                        abort();
        }

        /* The same bytes as a NUL-terminated string (cut at the first NUL, capped). */
        char s[300];
        size_t len = size < sizeof s - 1 ? size : sizeof s - 1;
        memcpy(s, data, len);
        s[len] = '\0';
        enum eid_otp_channel ch;
        if (eid_otp_channel_parse(s, &ch, &err) == 0 && strcmp(s, "sms") && strcmp(s, "email"))
                abort();
        char masked[72];
        eid_otp_mask(s, size > 0 && (data[0] & 1), masked, sizeof masked);
        size_t sl = strlen(s), ml = strlen(masked);
        if (ml >= sizeof masked || (sl < sizeof masked && ml != sl))
                abort();
        /* A value longer than 5 bytes never comes back whole. */
        if (sl > 5 && ml == sl && !memchr(masked, '*', ml))
                abort();
        return 0;
}
