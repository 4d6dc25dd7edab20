/*
 * One-time passwords: issue (hash + sealed outbox message in one transaction) and check. See
 * otp.h for the rules and their sources.
 */
#include "eid/otp.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "eid/eid.h"
#include "eid/eid_int.h"

static struct eid_otp_policy effective(const struct eid_otp_policy *p)
{
        struct eid_otp_policy e = {0};
        if (p)
                e = *p;
        if (e.ttl_ms <= 0)
                e.ttl_ms = EID_OTP_TTL_MS;
        if (e.attempts <= 0)
                e.attempts = EID_OTP_ATTEMPTS;
        if (e.person_max <= 0)
                e.person_max = EID_OTP_PERSON_MAX;
        if (e.person_window_ms <= 0)
                e.person_window_ms = EID_OTP_PERSON_WINDOW_MS;
        if (e.client_max <= 0)
                e.client_max = EID_OTP_CLIENT_MAX;
        if (e.client_window_ms <= 0)
                e.client_window_ms = EID_OTP_CLIENT_WINDOW_MS;
        return e;
}

int eid_otp_channel_parse(const char *s, enum eid_otp_channel *out, struct pop_err *err)
{
        if (!s)
                *out = EID_OTP_ANY;
        else if (!strcmp(s, "sms"))
                *out = EID_OTP_SMS;
        else if (!strcmp(s, "email"))
                *out = EID_OTP_EMAIL;
        else
                return pop_fail(err, POP_EINVAL, "otp-channel",
                                "channel must be \"sms\" or "
                                "\"email\"");
        return 0;
}

void eid_otp_mask(const char *dest, bool email, char *out, size_t cap)
{
        size_t n = strlen(dest), keep_head, keep_tail;
        const char *at = email ? strchr(dest, '@') : NULL;
        if (at) {
                /* The first character of the local part and the whole domain. */
                keep_head = 1;
                keep_tail = n - (size_t)(at - dest);
        } else {
                /* The country code of an E.164 number ("+84") and the last 3 digits. */
                keep_head = dest[0] == '+' ? 3 : 0;
                keep_tail = 3;
        }
        if (keep_head + keep_tail >= n) {
                keep_head = 0;
                keep_tail = n > 2 ? 2 : 0;
        }
        size_t o = 0;
        for (size_t i = 0; i < n && o + 1 < cap; i++)
                out[o++] = (i < keep_head || i >= n - keep_tail) ? dest[i] : '*';
        out[o < cap ? o : cap - 1] = '\0';
}

/* BLAKE2b-256 keyed with the pepper over "popid-otp-v1" NUL txn NUL code. */
static void otp_hash(const uint8_t key[EID_OTP_KEY_LEN], const char *txn, const char *code,
                     uint8_t out[STORE_OTP_HASH])
{
        crypto_generichash_state h;
        static const char label[] = "popid-otp-v1";
        crypto_generichash_init(&h, key, EID_OTP_KEY_LEN, STORE_OTP_HASH);
        crypto_generichash_update(&h, (const uint8_t *)label, sizeof label);
        crypto_generichash_update(&h, (const uint8_t *)txn, strlen(txn) + 1);
        crypto_generichash_update(&h, (const uint8_t *)code, strlen(code));
        crypto_generichash_final(&h, out, STORE_OTP_HASH);
        sodium_memzero(&h, sizeof h);
}

/* The account's refusal, or 0 when it may receive and use an OTP. */
static int account_ok(const struct eid_account *a, struct pop_err *err)
{
        switch (a->state) {
        case EID_ACTIVE:
                return 0;
        case EID_PENDING:
                return pop_fail(err, POP_ERULE, "eid-not-active",
                                "the person's eID account is not activated yet");
        case EID_LOCKED:
                return pop_fail(err, POP_ERULE, "eid-locked",
                                "the person's eID account is locked by its holder");
        case EID_SUSPENDED:
                return pop_fail(err, POP_ERULE, "eid-suspended",
                                "the person's eID account is suspended");
        case EID_DELETED:
                return pop_fail(err, POP_ERULE, "eid-closed", "the person's eID account is closed");
        }
        return pop_fail(err, POP_ESTORE, "store-corrupt", "unknown eID account state");
}

/* The person exists, is not deceased, and has a usable account: *a filled. */
static int subject_ok(struct store *st, int64_t pid, struct eid_account *a, struct pop_err *err)
{
        struct person p;
        int rc = store_person_get(st, pid, &p, err);
        if (rc == POP_ENOTFOUND)
                return pop_fail(err, POP_ENOTFOUND, "person-not-found",
                                "no person with this personal ID");
        if (rc)
                return rc;
        /* Decree 69/2024/ND-CP art. 18(1)(c): the account of a deceased person is closed. */
        if (p.status == PERSON_DECEASED)
                return pop_fail(err, POP_ERULE, "person-deceased", "the person is deceased");
        rc = eid_account_load(st, pid, a, err);
        if (rc == POP_ENOTFOUND)
                return pop_fail(err, POP_ERULE, "eid-none", "the person has no eID account");
        if (rc)
                return rc;
        return account_ok(a, err);
}

void eid_json_wipe(json_t *v)
{
        const char *k;
        json_t *item;
        size_t i;
        if (!v)
                return;
        switch (json_typeof(v)) {
        case JSON_STRING:
                sodium_memzero((char *)json_string_value(v), json_string_length(v));
                break;
        case JSON_OBJECT:
                json_object_foreach(v, k, item)
                {
                        eid_json_wipe(item);
                }
                break;
        case JSON_ARRAY:
                json_array_foreach(v, i, item)
                {
                        eid_json_wipe(item);
                }
                break;
        default:
                break;
        }
}

/*
 * Commits the step's transaction, its entry (action otp.issue or otp.check) made durable first
 * when au is given (eid__entry_then_commit): POP_EIO with the audit's error in err when the entry
 * could not be made (nothing committed), else the commit's outcome.
 */
static int commit_logged(struct store *st, const struct eid_otp_audit *au, int64_t pid,
                         const char *action, const char *fields, const char *outcome,
                         const char *rule, const char *request_id, struct pop_err *err)
{
        if (!au)
                return store_commit(st, err);
        if (!au->audit)
                return pop_fail(err, POP_EIO, "audit-none", "no audit log to record %s", action);
        struct audit_entry e = {.actor = au->actor,
                                .subject = pid,
                                .action = action,
                                .fields = fields,
                                .purpose = au->purpose ? au->purpose : "",
                                .outcome = outcome,
                                .rule = rule,
                                .request_id = request_id ? request_id : ""};
        bool audit_failed;
        int rc = eid__entry_then_commit(st, au->audit, &e, &audit_failed, err);
        return audit_failed ? POP_EIO : rc;
}

/* The clear message into out (HUB_OUTBOX_MSG_MAX bytes, not NUL-terminated; the caller wipes
 * it): dumped there, not by json_dumps, which grows a heap buffer by copying it and frees the
 * copies (and its last one) with the code in them. */
static int build_message(const struct eid_otp_ticket *t, const char *to, const char *code,
                         int64_t ttl_ms, char out[HUB_OUTBOX_MSG_MAX], size_t *out_len,
                         struct pop_err *err)
{
        char text[160];
        /* The text the gateway sends as it is; the code also comes as its own member. */
        snprintf(text, sizeof text,
                 "popid: ma OTP cua ban la %s, hieu luc %d phut. Khong chia se ma nay. "
                 "(Your code: %s)",
                 code, (int)(ttl_ms / 60000), code);
        json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "topic", "otp", "channel",
                              t->channel, "to", to, "otp", code, "txn", t->txn, "expires_ms",
                              (json_int_t)t->expires_ms, "text", text);
        sodium_memzero(text, sizeof text);
        *out_len = m ? json_dumpb(m, out, HUB_OUTBOX_MSG_MAX, JSON_COMPACT) : 0;
        eid_json_wipe(m); /* its copies of the code and text */
        json_decref(m);
        if (!m || !*out_len)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        if (*out_len > HUB_OUTBOX_MSG_MAX)
                return pop_fail(err, POP_ETOOBIG, "outbox-too-big",
                                "the OTP message is over %d bytes", HUB_OUTBOX_MSG_MAX);
        return 0;
}

int eid_otp_request(struct store *st, const struct eid_otp_policy *pol,
                    const uint8_t hash_key[EID_OTP_KEY_LEN],
                    const uint8_t box_key[HUB_OUTBOX_KEY_BYTES], int64_t pid, const char *client,
                    enum eid_otp_channel channel, int64_t now_ms, const struct eid_otp_audit *au,
                    struct eid_otp_ticket *out, struct pop_err *err)
{
        struct eid_otp_policy p = effective(pol);
        struct eid_account a;
        struct store_otp o;
        char code[EID_OTP_DIGITS + 1];
        char msg[HUB_OUTBOX_MSG_MAX];
        size_t msg_len = 0;
        uint8_t sealed[HUB_OUTBOX_MSG_MAX + HUB_OUTBOX_SEAL_OVERHEAD];
        size_t sealed_len = 0;
        memset(out, 0, sizeof *out);
        memset(&o, 0, sizeof o);
        if (strlen(client) >= sizeof o.client)
                return pop_fail(err, POP_EINVAL, "otp-client", "client id too long");
        int rc = store_begin(st, err);
        if (rc)
                return rc;
        if ((rc = subject_ok(st, pid, &a, err)))
                goto out;
        const char *to = NULL;
        bool email = false;
        if (channel != EID_OTP_EMAIL && a.phone[0]) {
                to = a.phone;
        } else if (channel != EID_OTP_SMS && a.email[0]) {
                to = a.email;
                email = true;
        }
        if (!to) {
                rc = pop_fail(err, POP_ERULE, "otp-no-channel",
                              channel == EID_OTP_ANY
                                  ? "the person's eID account has no registered channel"
                                  : "the person's eID account has no registered channel of "
                                    "this kind");
                goto out;
        }
        /*
         * Data minimization (Decree 13/2023/ND-CP art. 3): an OTP created before the person's
         * rate window and past its validity serves nothing (it can be neither used nor
         * counted), so the person's old rows go in this transaction; the audit log keeps the
         * history.
         */
        int64_t window = p.person_window_ms > p.ttl_ms ? p.person_window_ms : p.ttl_ms;
        if ((rc = store_otp_purge(st, pid, now_ms - window, err)))
                goto out;
        int n_pid = 0, n_client = 0;
        if ((rc = store_otp_count(st, pid, client, now_ms - p.person_window_ms, &n_pid, &n_client,
                                  err)))
                goto out;
        if (n_pid >= p.person_max) {
                out->retry_after_s = p.person_window_ms / 1000;
                rc = pop_fail(err, POP_EAGAIN, "otp-rate-person",
                              "too many OTPs for this person: at most %d per %lld minutes",
                              p.person_max, (long long)(p.person_window_ms / 60000));
                goto out;
        }
        if ((rc = store_otp_count(st, pid, client, now_ms - p.client_window_ms, &n_pid, &n_client,
                                  err)))
                goto out;
        if (n_client >= p.client_max) {
                out->retry_after_s = p.client_window_ms / 1000 > 0 ? p.client_window_ms / 1000 : 1;
                rc = pop_fail(err, POP_EAGAIN, "otp-rate-client",
                              "too many OTPs for this client: at most %d per %lld seconds",
                              p.client_max, (long long)(p.client_window_ms / 1000));
                goto out;
        }
        uint8_t rnd[EID_OTP_TXN_LEN / 2];
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(out->txn, sizeof out->txn, rnd, sizeof rnd);
        snprintf(out->channel, sizeof out->channel, "%s", email ? "email" : "sms");
        eid_otp_mask(to, email, out->sent_to, sizeof out->sent_to);
        out->expires_ms = now_ms + p.ttl_ms;
        snprintf(code, sizeof code, "%06u", (unsigned)randombytes_uniform(1000000));
        memcpy(o.txn, out->txn, sizeof o.txn);
        o.pid = pid;
        snprintf(o.client, sizeof o.client, "%s", client);
        memcpy(o.channel, out->channel, sizeof o.channel);
        otp_hash(hash_key, o.txn, code, o.hash);
        o.created_ms = now_ms;
        o.expires_ms = out->expires_ms;
        if ((rc = build_message(out, to, code, p.ttl_ms, msg, &msg_len, err)) ||
            (rc = hub_outbox_seal(box_key, msg, msg_len, sealed, sizeof sealed, &sealed_len, err)))
                goto out;
        struct store_outbox m = {.subject = pid,
                                 .body = sealed,
                                 .body_len = sealed_len,
                                 .state = STORE_OUTBOX_PENDING,
                                 .next_ms = now_ms,
                                 .created_ms = now_ms,
                                 .updated_ms = now_ms};
        snprintf(m.topic, sizeof m.topic, "otp");
        memcpy(m.ref, o.txn, sizeof m.ref);
        /* The entry before the commit: no code is issued, nor its message sent, without one
         * (DESIGN.md "Durability rule"). */
        if ((rc = store_otp_insert(st, &o, err)) || (rc = store_outbox_insert(st, &m, err)) ||
            (rc = commit_logged(st, au, pid, "otp.issue", "contact", "ok", "", o.txn, err)))
                goto out;
        out->outbox_id = m.id;
out:
        if (rc)
                store_rollback(st);
        sodium_memzero(code, sizeof code);
        sodium_memzero(msg, sizeof msg);
        return rc;
}

static bool code_well_formed(const char *code)
{
        size_t n = 0;
        for (; code[n]; n++)
                if (code[n] < '0' || code[n] > '9' || n >= EID_OTP_DIGITS)
                        return false;
        return n == EID_OTP_DIGITS;
}

int eid_otp_check(struct store *st, const struct eid_otp_policy *pol,
                  const uint8_t hash_key[EID_OTP_KEY_LEN], const char *txn, int64_t pid,
                  const char *client, const char *code, int64_t now_ms,
                  const struct eid_otp_audit *au, struct pop_err *err)
{
        struct eid_otp_policy p = effective(pol);
        if (!code || !code_well_formed(code))
                return pop_fail(err, POP_EINVAL, "otp-malformed", "otp must be 6 digits");
        if (!txn || strlen(txn) != EID_OTP_TXN_LEN)
                return pop_fail(err, POP_ERULE, "otp-unknown", "no such OTP transaction");
        struct store_otp o;
        struct eid_account a;
        uint8_t h[STORE_OTP_HASH];
        int rc = store_begin(st, err);
        if (rc)
                return rc;
        rc = store_otp_get(st, txn, &o, err);
        if (rc == POP_ENOTFOUND || (rc == 0 && (o.pid != pid || strcmp(o.client, client) != 0))) {
                rc = pop_fail(err, POP_ERULE, "otp-unknown", "no such OTP transaction");
                goto out;
        }
        if (rc)
                goto out;
        if (o.used) {
                rc = pop_fail(err, POP_ERULE, "otp-used", "this OTP was used already");
                goto out;
        }
        if (now_ms >= o.expires_ms) {
                rc = pop_fail(err, POP_ERULE, "otp-expired", "this OTP has expired");
                goto out;
        }
        if (o.attempts >= p.attempts) {
                rc = pop_fail(err, POP_ERULE, "otp-locked",
                              "too many wrong codes for this OTP: ask for a new one");
                goto out;
        }
        /* The account may have been locked or suspended since the code was sent. */
        if ((rc = subject_ok(st, pid, &a, err)))
                goto out;
        otp_hash(hash_key, txn, code, h);
        bool right = sodium_memcmp(h, o.hash, sizeof h) == 0;
        sodium_memzero(h, sizeof h);
        if (right)
                o.used = true;
        else
                o.attempts++;
        /* The entry before the commit: a spent code or a counted attempt is never without one
         * (DESIGN.md "Durability rule"). */
        if ((rc = store_otp_update(st, &o, err)) ||
            (rc = commit_logged(st, au, pid, "otp.check", "otp", right ? "ok" : "denied",
                                right ? "" : "otp-wrong", au ? au->request_id : "", err)))
                goto out;
        if (!right)
                return pop_fail(err, POP_EVERIFY, "otp-wrong", "wrong OTP (%d of %d attempts left)",
                                p.attempts - o.attempts, p.attempts);
        return 0;
out:
        store_rollback(st);
        return rc;
}
