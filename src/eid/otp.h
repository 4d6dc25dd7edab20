/*
 * One-time passwords for relying parties (issue 5, docs/AUTH.md "OTP"): a bank or telco asks the
 * registry to send a person a code on the channel registered with their eID account, then
 * presents the code the person gives it (POST /v1/ekyc, or the otp attribute of
 * POST /v1/auth/verify): the person's consent to this one transaction.
 *
 * An OTP is 6 digits from libsodium's CSPRNG (randombytes_uniform: no modulo bias), tied to a
 * transaction id (txn, 128 random bits), a person and the client that asked. It is stored only as
 * a BLAKE2b hash keyed with the credential pepper (as client tokens are, access.h), expires after
 * EID_OTP_TTL_MS, is accepted once, and is void after EID_OTP_ATTEMPTS wrong codes. Issuing is
 * rate-limited per person and per client (the counts are read from the store, so they hold across
 * threads and restarts). The code leaves the registry only through the outbox (hub/outbox.h): the
 * OTP row and its sealed message are written in one transaction.
 *
 * Time is injected (now_ms) so tests drive expiry without sleeping. The caller (the HTTP
 * handler) audits each request and check with its outcome; a check that spends a code or counts
 * a wrong one also has its own entry made durable before that commits (struct eid_otp_audit).
 */
#ifndef POP_EID_OTP_H
#define POP_EID_OTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "hub/outbox.h"
#include "store/store.h"

struct audit;

#define EID_OTP_DIGITS  6
#define EID_OTP_TXN_LEN 32 /* hex digits */
#define EID_OTP_KEY_LEN 32 /* the hash key: the credential pepper (ACCESS_PEPPER_LEN) */

/*
 * Defaults. NIST SP 800-63B section 5.1.3.2 (out-of-band authenticators): a code valid for at
 * most 10 minutes, used once; section 5.2.2: limit failed attempts. We take 5 minutes and 3
 * attempts per code; 5 codes per person per 15 minutes (an SMS-bombing bound) and 600 per client
 * per minute (a runaway relying party).
 */
#define EID_OTP_TTL_MS           (5 * 60 * 1000)
#define EID_OTP_ATTEMPTS         3
#define EID_OTP_PERSON_MAX       5
#define EID_OTP_PERSON_WINDOW_MS (15 * 60 * 1000)
#define EID_OTP_CLIENT_MAX       600
#define EID_OTP_CLIENT_WINDOW_MS (60 * 1000)

/* The limits; a zero member takes its default above. */
struct eid_otp_policy {
        int64_t ttl_ms;
        int attempts;
        int person_max;
        int64_t person_window_ms;
        int client_max;
        int64_t client_window_ms;
};

enum eid_otp_channel { EID_OTP_ANY = 0, EID_OTP_SMS, EID_OTP_EMAIL };

/* "sms" / "email" (NULL or absent: any, the phone first). POP_EINVAL otherwise. */
int eid_otp_channel_parse(const char *s, enum eid_otp_channel *out,
                          struct pop_err *err) POP_MUST_USE;

/* What a request produced. */
struct eid_otp_ticket {
        char txn[EID_OTP_TXN_LEN + 1];
        char channel[8];  /* "sms" or "email" */
        char sent_to[72]; /* the destination, masked ("+84*******567", "n***@example.vn") */
        int64_t expires_ms;
        int64_t outbox_id;
        int64_t retry_after_s; /* set with POP_EAGAIN (rate limit): when to ask again */
};

/* Masks a phone number or e-mail address for display (keeps a little of each end). */
void eid_otp_mask(const char *dest, bool email, char *out, size_t cap);

/* The caller of an OTP step, for the entry the step makes durable before its transaction commits
 * (eid_otp_request, eid_otp_check; DESIGN.md "Durability rule", EID.md "Audit"). */
struct eid_otp_audit {
        struct audit *audit;
        const char *actor, *purpose, *request_id;
};

/*
 * Issues an OTP for (pid, client) at now_ms: checks the person (POP_ENOTFOUND person-not-found;
 * POP_ERULE person-deceased), the eID account (POP_ERULE eid-none, eid-not-active, eid-locked,
 * eid-suspended, eid-closed), the channel (POP_ERULE otp-no-channel when the account has no
 * registered channel of the kind asked), the rate limits (POP_EAGAIN otp-rate-person or
 * otp-rate-client, with out->retry_after_s); then writes the OTP's hash and the sealed outbox
 * message in one transaction. 0 once that transaction is durable. The code itself exists only in
 * the sealed message and is wiped from memory here. With au, that transaction commits only once
 * its audit entry (action "otp.issue", field "contact", request id the new txn) is durable: when
 * it cannot be written nothing is committed (no code, no message) and the answer is POP_EIO with
 * the audit's rule. au NULL: no entry.
 */
int eid_otp_request(struct store *st, const struct eid_otp_policy *pol,
                    const uint8_t hash_key[EID_OTP_KEY_LEN],
                    const uint8_t box_key[HUB_OUTBOX_KEY_BYTES], int64_t pid, const char *client,
                    enum eid_otp_channel channel, int64_t now_ms, const struct eid_otp_audit *au,
                    struct eid_otp_ticket *out, struct pop_err *err) POP_MUST_USE;

/*
 * Checks a code for txn, which must have been issued to pid at the request of client (else
 * POP_ERULE otp-unknown: another client's txn is indistinguishable from none). POP_ERULE
 * otp-used, otp-expired, otp-locked (attempts used up), or an account no longer usable (the
 * eid_* rules above); POP_EVERIFY otp-wrong (the attempt is counted, durably); POP_EINVAL
 * otp-malformed for a code that is not 6 digits (not counted). 0: the code is right and is now
 * used up. One transaction. With au, the transaction that spends the code or counts a wrong one
 * commits only once its audit entry (action "otp.check", subject pid, outcome "ok" or "denied"
 * otp-wrong, au's actor, purpose and request id) is durable (EID.md "Audit"): when that entry
 * cannot be written, nothing is committed (the code stays as it was) and the answer is POP_EIO
 * with the audit's rule; a commit failing after it adds an "error" entry. au NULL: no entry.
 */
int eid_otp_check(struct store *st, const struct eid_otp_policy *pol,
                  const uint8_t hash_key[EID_OTP_KEY_LEN], const char *txn, int64_t pid,
                  const char *client, const char *code, int64_t now_ms,
                  const struct eid_otp_audit *au, struct pop_err *err) POP_MUST_USE;

/*
 * Wipes (sodium_memzero) the text of every string in v, recursively (object values and array
 * items; not object keys, which are field names), before the caller's json_decref: jansson frees
 * its strings without wiping them, and these hold one-time codes (a parsed request body, a
 * message being built). The bytes are those of v's own string objects, reached through
 * json_string_value (written through a cast: they are heap copies jansson made for v, never
 * shared); lengths stay, the text becomes NULs. NULL allowed. What this cannot reach (jansson's
 * parser buffers, the HTTP library's) is listed in docs/AUTH.md "What is wiped".
 */
void eid_json_wipe(json_t *v);

#endif
