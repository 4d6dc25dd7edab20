/*
 * The durable outbox and its delivery to the notification webhook (DESIGN.md "Data sharing hub":
 * webhooks; docs/AUTH.md "OTP delivery"). A service that must tell someone outside something (an
 * OTP to the SMS or e-mail gateway) writes an outbox row in the SAME transaction as the fact it
 * announces, so the message exists exactly when the fact does, and survives a crash. A delivery
 * thread in `popid serve` (hub_outbox_start) POSTs each pending message to the configured URL with
 * libcurl, signed with HMAC-SHA256 under a shared secret, and retries with exponential backoff and
 * jitter until it is delivered or has used its attempts (then "dead", kept for the operator).
 *
 * Bodies at rest are sealed with libsodium's secretbox (XSalsa20-Poly1305) under a key file next
 * to the database ("<db>.outbox.key", 64 hex digits, mode 0600), because a body holds an OTP in
 * clear; the store empties a body when its message leaves the pending state.
 *
 * What the gateway receives (docs/AUTH.md has an example and a verifier):
 *   POST <url>  Content-Type: application/json
 *   X-Popid-Message-Id: <outbox id>          (the same on every retry: deduplicate on it)
 *   X-Popid-Timestamp: <unix seconds>
 *   X-Popid-Signature: v1=<hex HMAC-SHA256(secret, timestamp "." body)>
 *   body: the message as the service wrote it (for an OTP: {"id", "topic", "channel", "to",
 *         "otp", "txn", "expires", "text"}; for an eID activation or unlock code, src/eid/notify.c:
 *         {"topic", "channel", "to", "code", "expires_ms", "text"}).
 * The thread also wakes every poll_ms to read the store, so messages committed by another
 * process (the `popid eid` CLI) are delivered by a running server.
 * A 2xx answer is delivery; anything else, or no answer within the timeout, is a failed attempt.
 */
#ifndef POP_HUB_OUTBOX_H
#define POP_HUB_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

struct audit;

#define HUB_OUTBOX_KEY_BYTES     32   /* crypto_secretbox_KEYBYTES */
#define HUB_OUTBOX_SEAL_OVERHEAD 40   /* nonce (24) + MAC (16) */
#define HUB_OUTBOX_MSG_MAX       2048 /* bytes of a clear message */
#define HUB_SECRET_MAX           256  /* bytes of the webhook's shared secret */
#define HUB_SIG_HEX              65   /* 64 hex digits + NUL */

/* Delivery defaults (docs/AUTH.md "OTP delivery"). */
#define HUB_MAX_ATTEMPTS_DEFAULT 8
#define HUB_BACKOFF_BASE_MS      1000
#define HUB_BACKOFF_CAP_MS       (5 * 60 * 1000)
#define HUB_TIMEOUT_MS_DEFAULT   5000
#define HUB_POLL_MS_DEFAULT      1000

/* "<db path>.outbox.key" for a store URI. */
int hub_outbox_key_path(const char *uri, char *buf, size_t cap, struct pop_err *err) POP_MUST_USE;
/*
 * Reads the key file (refusing one others can read), or with create makes a random one when it is
 * missing. The caller wipes out after use (sodium_memzero).
 */
int hub_outbox_key_load(const char *path, bool create, uint8_t out[HUB_OUTBOX_KEY_BYTES],
                        struct pop_err *err) POP_MUST_USE;

/* Seals msg (len <= HUB_OUTBOX_MSG_MAX) into out (cap >= len + HUB_OUTBOX_SEAL_OVERHEAD). */
int hub_outbox_seal(const uint8_t key[HUB_OUTBOX_KEY_BYTES], const char *msg, size_t len,
                    uint8_t *out, size_t cap, size_t *out_len, struct pop_err *err) POP_MUST_USE;
/* Opens a sealed body into out, NUL-terminated; POP_EVERIFY when it was not sealed by key. */
int hub_outbox_open(const uint8_t key[HUB_OUTBOX_KEY_BYTES], const uint8_t *blob, size_t len,
                    char *out, size_t cap, size_t *out_len, struct pop_err *err) POP_MUST_USE;

/*
 * The delay before the next attempt after `attempt` failed ones (1, 2, ...): exponential,
 * base * 2^(attempt-1) capped at cap_ms, with "equal jitter" (half of it fixed, half drawn from
 * rnd) so that many messages failing together do not retry together (AWS Architecture Blog,
 * "Exponential Backoff and Jitter", 2015). Pure: rnd is the caller's random number.
 */
int64_t hub_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint32_t rnd);

/* The signature header's value: "v1=" + hex HMAC-SHA256(secret, ts "." body). */
void hub_sign(const uint8_t *secret, size_t secret_len, int64_t ts, const char *body, size_t len,
              char out[3 + HUB_SIG_HEX]);

/* Reads a secret file (1..HUB_SECRET_MAX bytes, trailing newlines dropped, mode 0600 or
 * stricter). The caller wipes it. */
int hub_secret_load(const char *path, uint8_t out[HUB_SECRET_MAX], size_t *len,
                    struct pop_err *err) POP_MUST_USE;

/*
 * Whether url may carry the messages (OTPs and activation codes in clear inside the body): an
 * https:// URL, or http:// to a loopback host (127.0.0.0/8, ::1, localhost: a relay on the same
 * machine, the traffic never leaves it), or any http:// URL when insecure is set (`popid serve
 * --notify-insecure`, a network the operator vouches for). Anything else is POP_EINVAL with a
 * message naming the problem (`notify-url` malformed, `notify-url-insecure`). NIST SP 800-63B
 * section 5.1.3.2: an out-of-band secret travels over an authenticated protected channel.
 * The URL is parsed by libcurl's URL API, the parser the delivery uses.
 */
int hub_notify_url_check(const char *url, bool insecure, struct pop_err *err) POP_MUST_USE;

struct hub_outbox_cfg {
        const char *db;  /* the registry URI (the thread opens its own connection) */
        const char *url; /* the webhook; NULL: messages stay pending */
        const uint8_t *secret;
        size_t secret_len;
        const uint8_t *key;  /* HUB_OUTBOX_KEY_BYTES, copied */
        struct audit *audit; /* every attempt is audited; NULL: not (unit tests only) */
        int max_attempts;    /* 0: HUB_MAX_ATTEMPTS_DEFAULT */
        int64_t base_ms;     /* 0: HUB_BACKOFF_BASE_MS */
        int64_t cap_ms;      /* 0: HUB_BACKOFF_CAP_MS */
        long timeout_ms;     /* per attempt; 0: HUB_TIMEOUT_MS_DEFAULT */
        int poll_ms;         /* idle wait between passes; 0: HUB_POLL_MS_DEFAULT */
        bool no_thread;      /* tests: no thread; passes only through hub_outbox_run_once */
};

struct hub_outbox_stats {
        int64_t pending, delivered, dead; /* rows in each state, as of the last pass */
        int64_t attempts, failures;       /* attempts made by this process, and failed ones */
};

struct hub_outbox;

/* Opens the store and starts the delivery thread. The caller stops it with hub_outbox_stop. */
int hub_outbox_start(const struct hub_outbox_cfg *cfg, struct hub_outbox **out,
                     struct pop_err *err) POP_MUST_USE;
/* Wakes the thread now (a message was just committed). NULL allowed. Thread-safe. */
void hub_outbox_kick(struct hub_outbox *ob);
void hub_outbox_get_stats(struct hub_outbox *ob, struct hub_outbox_stats *out);
/* One pass at now_ms: delivers what is due; *n_tried (may be NULL) counts the attempts. */
int hub_outbox_run_once(struct hub_outbox *ob, int64_t now_ms, int *n_tried,
                        struct pop_err *err) POP_MUST_USE;
/* Stops the thread (an attempt in flight finishes first), closes the store, frees ob. */
void hub_outbox_stop(struct hub_outbox *ob);

#endif
