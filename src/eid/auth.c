/*
 * eID credentials and their checks (eid.h "authentication"): passwords (Argon2id), TOTP seeds
 * (RFC 6238 with liboath, the seed kept in a libsodium secretbox), device keys (Ed25519
 * challenge-response), one-time activation and unlock codes (a keyed BLAKE2b hash), and the
 * lockout that follows repeated failures of any of them. docs/EID.md has the parameters.
 */
#include "eid/eid_int.h"

#include "audit/audit.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Subkeys of the eID key file (crypto_kdf contexts are 8 bytes). */
#define KDF_CTX       "popideid"
#define KDF_CODE_HASH 1
#define KDF_TOTP_BOX  2

int64_t eid__now(const struct eid_ctx *c)
{
        if (c->now_ms)
                return c->now_ms;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int init_rc;
static void init_once(void)
{
        if (sodium_init() < 0 || oath_init() != OATH_OK)
                init_rc = POP_EIO;
}

int eid__init(struct pop_err *err)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, init_once);
        if (init_rc)
                return pop_fail(err, POP_EIO, "eid-crypto", "libsodium or liboath cannot start");
        return 0;
}

/* ---- lockout ---- */

/*
 * NIST SP 800-63B section 5.2.2 (rate limiting): a verifier limits consecutive failed attempts
 * on an account; increasing waits between attempts are one of its listed means. Ours: the 5th
 * consecutive failure locks the credential for 1 minute, each further failure doubles the lock,
 * up to 24 hours; a success resets the count. Attempts during a lock are refused unchecked and
 * not counted (so a locked credential cannot be probed).
 */
int64_t eid__lockout_ms(int failures)
{
        if (failures < EID_LOCK_AFTER)
                return 0;
        int k = failures - EID_LOCK_AFTER;
        if (k >= 20)
                return EID_LOCK_MAX_MS;
        int64_t d = (int64_t)EID_LOCK_FIRST_MS << k;
        return d > EID_LOCK_MAX_MS ? EID_LOCK_MAX_MS : d;
}

int eid__lock_check(const struct eid_ctx *c, const struct store_eid_cred *cr, struct pop_err *err)
{
        int64_t now = eid__now(c);
        if (cr->locked_until_ms > now)
                return pop_fail(err, POP_EAGAIN, "eid-locked-out",
                                "the %s is locked for %lld more seconds after %d failed attempts",
                                cr->kind, (long long)((cr->locked_until_ms - now + 999) / 1000),
                                cr->failures);
        return 0;
}

void eid__lock_fail(const struct eid_ctx *c, struct store_eid_cred *cr)
{
        int64_t now = eid__now(c);
        if (cr->failures < 1000000)
                cr->failures++;
        int64_t d = eid__lockout_ms(cr->failures);
        cr->locked_until_ms = d ? now + d : 0;
        cr->updated_ms = now;
}

void eid__lock_ok(const struct eid_ctx *c, struct store_eid_cred *cr)
{
        cr->failures = 0;
        cr->locked_until_ms = 0;
        cr->updated_ms = eid__now(c);
}

/* ---- one-time codes ---- */

static void code_hash(const struct eid_ctx *c, int64_t pid, const char *kind, const char *code,
                      uint8_t out[32])
{
        uint8_t k[32];
        crypto_kdf_derive_from_key(k, sizeof k, KDF_CODE_HASH, KDF_CTX, c->key);
        crypto_generichash_state h;
        crypto_generichash_init(&h, k, sizeof k, 32);
        uint8_t p[8];
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t)((uint64_t)pid >> (8 * i));
        crypto_generichash_update(&h, p, sizeof p);
        crypto_generichash_update(&h, (const uint8_t *)kind, strlen(kind) + 1);
        crypto_generichash_update(&h, (const uint8_t *)code, strlen(code));
        crypto_generichash_final(&h, out, 32);
        sodium_memzero(k, sizeof k);
        sodium_memzero(&h, sizeof h);
}

void eid__code_new(const struct eid_ctx *c, int64_t pid, const char *kind,
                   char code[EID_CODE_DIGITS + 1], struct store_eid_cred *out)
{
        for (int i = 0; i < EID_CODE_DIGITS; i++)
                code[i] = (char)('0' + randombytes_uniform(10));
        code[EID_CODE_DIGITS] = '\0';
        memset(out, 0, sizeof *out);
        out->pid = pid;
        snprintf(out->kind, sizeof out->kind, "%s", kind);
        code_hash(c, pid, kind, code, out->secret);
        out->secret_len = 32;
        out->created_ms = out->updated_ms = eid__now(c);
        out->expires_ms = out->created_ms + EID_CODE_TTL_MS;
}

static bool code_well_formed(const char *code)
{
        if (!code || strlen(code) != EID_CODE_DIGITS)
                return false;
        for (int i = 0; i < EID_CODE_DIGITS; i++)
                if (code[i] < '0' || code[i] > '9')
                        return false;
        return true;
}

int eid__code_use(struct eid_ctx *c, int64_t pid, const char *kind, const char *code,
                  struct pop_err *err)
{
        struct store_eid_cred cr;
        int rc = store_eid_cred_get(c->st, pid, kind, &cr, err);
        if (rc == POP_ENOTFOUND)
                return pop_fail(err, POP_ERULE, "eid-no-code",
                                "no %s code is pending (request a new one)", kind);
        if (rc)
                return rc;
        int64_t now = eid__now(c);
        if (cr.expires_ms <= now) {
                if ((rc = store_eid_cred_delete(c->st, pid, kind, err)))
                        return rc;
                return pop_fail(err, POP_ERULE, "eid-code-expired",
                                "the %s code expired (it is valid %d minutes): request a new one",
                                kind, EID_CODE_TTL_MS / 60000);
        }
        uint8_t h[32];
        bool good = code_well_formed(code);
        if (good) {
                code_hash(c, pid, kind, code, h);
                good = cr.secret_len == 32 && sodium_memcmp(h, cr.secret, 32) == 0;
        }
        if (good) /* single use: gone once accepted */
                return store_eid_cred_delete(c->st, pid, kind, err);
        cr.failures++;
        cr.updated_ms = now;
        if (cr.failures >= EID_CODE_ATTEMPTS) {
                if ((rc = store_eid_cred_delete(c->st, pid, kind, err)))
                        return rc;
                return pop_fail(err, POP_EVERIFY, "eid-code-wrong",
                                "wrong %s code; that was the last of %d attempts: request a new "
                                "one",
                                kind, EID_CODE_ATTEMPTS);
        }
        if ((rc = store_eid_cred_put(c->st, &cr, err)))
                return rc;
        return pop_fail(err, POP_EVERIFY, "eid-code-wrong", "wrong %s code (%d attempts left)",
                        kind, EID_CODE_ATTEMPTS - cr.failures);
}

/* ---- passwords ---- */

int eid__password_check(struct eid_ctx *c, int64_t pid, const char *password, struct pop_err *err)
{
        struct store_eid_cred cr;
        int rc = store_eid_cred_get(c->st, pid, EID_KIND_PASSWORD, &cr, err);
        if (rc == POP_ENOTFOUND)
                return pop_fail(err, POP_ERULE, "eid-no-password", "the account has no password");
        if (rc)
                return rc;
        if ((rc = eid__lock_check(c, &cr, err)))
                return rc;
        char hash[crypto_pwhash_STRBYTES];
        if (cr.secret_len == 0 || cr.secret_len >= sizeof hash)
                return pop_fail(err, POP_ESTORE, "store-corrupt", "corrupt password credential");
        memcpy(hash, cr.secret, cr.secret_len);
        hash[cr.secret_len] = '\0';
        bool good = password && strlen(password) <= EID_PASSWORD_MAX &&
                    crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
        sodium_memzero(hash, sizeof hash);
        if (good) {
                if (cr.failures == 0)
                        return 0;
                eid__lock_ok(c, &cr);
                return store_eid_cred_put(c->st, &cr, err);
        }
        eid__lock_fail(c, &cr);
        if ((rc = store_eid_cred_put(c->st, &cr, err)))
                return rc;
        if (cr.locked_until_ms)
                return pop_fail(err, POP_EVERIFY, "eid-wrong-password",
                                "wrong password; locked for %lld seconds after %d failures",
                                (long long)(eid__lockout_ms(cr.failures) / 1000), cr.failures);
        return pop_fail(err, POP_EVERIFY, "eid-wrong-password", "wrong password");
}

/* ---- TOTP ---- */

int eid_totp_code(const uint8_t *secret, size_t len, int64_t unix_time, int digits, char out[9])
{
        if (digits < 6 || digits > 8 || unix_time < 0 || eid__init(NULL))
                return POP_EINVAL;
        /* RFC 6238 section 4: T = floor((now - T0) / X), T0 = 0, X = 30, HMAC-SHA-1. */
        if (oath_totp_generate2((const char *)secret, len, (time_t)unix_time, EID_TOTP_STEP, 0,
                                (unsigned)digits, 0, out) != OATH_OK)
                return POP_EINVAL;
        return 0;
}

static void totp_box_key(const struct eid_ctx *c, uint8_t k[crypto_secretbox_KEYBYTES])
{
        crypto_kdf_derive_from_key(k, crypto_secretbox_KEYBYTES, KDF_TOTP_BOX, KDF_CTX, c->key);
}

/* The seed sealed for the store: nonce || secretbox(seed). */
static void totp_seal(const struct eid_ctx *c, const uint8_t seed[EID_TOTP_SECRET],
                      struct store_eid_cred *cr)
{
        uint8_t k[crypto_secretbox_KEYBYTES];
        totp_box_key(c, k);
        randombytes_buf(cr->secret, crypto_secretbox_NONCEBYTES);
        crypto_secretbox_easy(cr->secret + crypto_secretbox_NONCEBYTES, seed, EID_TOTP_SECRET,
                              cr->secret, k);
        cr->secret_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + EID_TOTP_SECRET;
        sodium_memzero(k, sizeof k);
}

static int totp_open(const struct eid_ctx *c, const struct store_eid_cred *cr,
                     uint8_t seed[EID_TOTP_SECRET], struct pop_err *err)
{
        uint8_t k[crypto_secretbox_KEYBYTES];
        if (cr->secret_len !=
            crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + EID_TOTP_SECRET)
                return pop_fail(err, POP_ESTORE, "store-corrupt", "corrupt TOTP credential");
        totp_box_key(c, k);
        int bad =
            crypto_secretbox_open_easy(seed, cr->secret + crypto_secretbox_NONCEBYTES,
                                       cr->secret_len - crypto_secretbox_NONCEBYTES, cr->secret, k);
        sodium_memzero(k, sizeof k);
        if (bad)
                return pop_fail(err, POP_EVERIFY, "eid-key-mismatch",
                                "the TOTP seed does not open with this eID key (wrong "
                                "<db>.eid.key?)");
        return 0;
}

int eid__totp_check(struct eid_ctx *c, int64_t pid, const char *code, bool confirmed,
                    struct pop_err *err)
{
        struct store_eid_cred cr;
        int rc = store_eid_cred_get(c->st, pid, EID_KIND_TOTP, &cr, err);
        if (rc == POP_ENOTFOUND || (!rc && cr.confirmed != confirmed))
                return pop_fail(err, POP_ERULE, "eid-no-totp",
                                confirmed ? "the account has no confirmed TOTP authenticator"
                                          : "no TOTP enrolment is waiting for confirmation");
        if (rc)
                return rc;
        if ((rc = eid__lock_check(c, &cr, err)))
                return rc;
        uint8_t seed[EID_TOTP_SECRET];
        if ((rc = totp_open(c, &cr, seed, err)))
                return rc;
        int64_t now_s = eid__now(c) / 1000;
        int64_t step = now_s / EID_TOTP_STEP;
        int64_t hit = -1;
        size_t n = code ? strlen(code) : 0;
        /* RFC 6238 section 5.2: accept the previous step too (transmission delay), and the next
         * (clock drift); a code of a step at or before the last one accepted is a replay
         * (section 5.2: "MUST NOT accept the second attempt of the same OTP"). */
        for (int64_t s = step - 1; s <= step + 1 && n == EID_TOTP_DIGITS; s++) {
                char want[9];
                if (s < 0 ||
                    eid_totp_code(seed, sizeof seed, s * EID_TOTP_STEP, EID_TOTP_DIGITS, want))
                        continue;
                if (sodium_memcmp(want, code, EID_TOTP_DIGITS) == 0 && s > cr.counter)
                        hit = s;
                sodium_memzero(want, sizeof want);
        }
        sodium_memzero(seed, sizeof seed);
        if (hit >= 0) {
                eid__lock_ok(c, &cr);
                cr.counter = hit;
                if (!confirmed)
                        cr.confirmed = true;
                return store_eid_cred_put(c->st, &cr, err);
        }
        eid__lock_fail(c, &cr);
        if ((rc = store_eid_cred_put(c->st, &cr, err)))
                return rc;
        return pop_fail(err, POP_EVERIFY, "eid-wrong-totp", "wrong or already used TOTP code%s",
                        cr.locked_until_ms ? "; the authenticator is locked for a while" : "");
}

/* ---- the checks as transactions, audited ---- */

/* Ends a step's transaction: committed on success and on refusals that counted an attempt, its
 * audit entry durable first (eid__commit), else rolled back. Returns rc, or the failure. */
static int tx_end(struct eid_ctx *c, int64_t pid, const char *action, int rc, struct pop_err *err)
{
        if (rc == 0 || rc == POP_EVERIFY || rc == POP_ERULE)
                return eid__commit(c, pid, action, rc, err);
        store_rollback(c->st);
        return rc;
}

static int begin_active(struct eid_ctx *c, int64_t pid, struct store_eid_account *a,
                        struct pop_err *err)
{
        int rc = eid__init(err);
        if (rc || (rc = store_begin(c->st, err)))
                return rc;
        if ((rc = eid__account(c, pid, a, err)) || (rc = eid__require_active(a, err))) {
                store_rollback(c->st);
                return rc;
        }
        return 0;
}

int eid_login_password(struct eid_ctx *c, int64_t pid, const char *password, struct pop_err *err)
{
        struct store_eid_account a;
        int rc = begin_active(c, pid, &a, err);
        if (!rc)
                rc = tx_end(c, pid, "eid.login", eid__password_check(c, pid, password, err), err);
        return eid__audited(c, pid, "eid.login", rc, err);
}

int eid_check_totp(struct eid_ctx *c, int64_t pid, const char *code, struct pop_err *err)
{
        struct store_eid_account a;
        int rc = begin_active(c, pid, &a, err);
        if (!rc)
                rc =
                    tx_end(c, pid, "eid.totp-check", eid__totp_check(c, pid, code, true, err), err);
        return eid__audited(c, pid, "eid.totp-check", rc, err);
}

int eid_totp_enrol(struct eid_ctx *c, int64_t pid, const char *password,
                   char b32_out[EID_TOTP_B32_MAX], struct pop_err *err)
{
        b32_out[0] = '\0';
        struct store_eid_account a;
        uint8_t seed[EID_TOTP_SECRET];
        int rc = begin_active(c, pid, &a, err);
        if (rc)
                goto out;
        if ((rc = eid__password_check(c, pid, password, err))) {
                rc = tx_end(c, pid, "eid.totp-enrol", rc, err);
                goto out;
        }
        randombytes_buf(seed, sizeof seed);
        struct store_eid_cred cr = {0};
        cr.pid = pid;
        snprintf(cr.kind, sizeof cr.kind, "%s", EID_KIND_TOTP);
        totp_seal(c, seed, &cr);
        cr.created_ms = cr.updated_ms = eid__now(c);
        cr.counter = -1;
        a.creds &= ~EID_CRED_TOTP; /* a new seed replaces the old one once confirmed */
        a.updated_ms = cr.updated_ms;
        char *b32 = NULL;
        size_t b32_len = 0;
        if (oath_base32_encode((const char *)seed, sizeof seed, &b32, &b32_len) != OATH_OK ||
            b32_len >= EID_TOTP_B32_MAX) {
                rc = pop_fail(err, POP_ENOMEM, "nomem", "cannot encode the TOTP seed");
                store_rollback(c->st);
                free(b32);
                goto out;
        }
        if ((rc = store_eid_cred_put(c->st, &cr, err)) ||
            (rc = store_eid_account_update(c->st, &a, err))) {
                store_rollback(c->st);
        } else if (!(rc = tx_end(c, pid, "eid.totp-enrol", 0, err))) {
                memcpy(b32_out, b32, b32_len);
                b32_out[b32_len] = '\0';
        }
        sodium_memzero(b32, b32_len);
        free(b32);
out:
        sodium_memzero(seed, sizeof seed);
        return eid__audited(c, pid, "eid.totp-enrol", rc, err);
}

int eid_totp_confirm(struct eid_ctx *c, int64_t pid, const char *code, struct pop_err *err)
{
        struct store_eid_account a;
        int rc = begin_active(c, pid, &a, err);
        if (rc)
                goto out;
        rc = eid__totp_check(c, pid, code, false, err);
        if (!rc) {
                a.creds |= EID_CRED_TOTP;
                a.updated_ms = eid__now(c);
                rc = store_eid_account_update(c->st, &a, err);
        }
        rc = tx_end(c, pid, "eid.totp-confirm", rc, err);
out:
        return eid__audited(c, pid, "eid.totp-confirm", rc, err);
}

/* ---- devices ---- */

int eid_device_add(struct eid_ctx *c, int64_t pid, const char *password, const uint8_t pk[32],
                   struct pop_err *err)
{
        struct store_eid_account a;
        int rc = begin_active(c, pid, &a, err);
        if (rc)
                goto out;
        if ((rc = eid__password_check(c, pid, password, err))) {
                rc = tx_end(c, pid, "eid.device-add", rc, err);
                goto out;
        }
        /* An Ed25519 public key is any 32 bytes in principle; refuse the small-order points
         * that libsodium's verifier would never accept anyway. */
        uint8_t probe[crypto_scalarmult_curve25519_BYTES];
        if (crypto_sign_ed25519_pk_to_curve25519(probe, pk) != 0) {
                store_rollback(c->st);
                rc = pop_fail(err, POP_EINVAL, "eid-device-key",
                              "the device key is not a usable Ed25519 public key");
                goto out;
        }
        struct store_eid_cred cr = {0};
        cr.pid = pid;
        snprintf(cr.kind, sizeof cr.kind, "%s", EID_KIND_DEVICE);
        memcpy(cr.secret, pk, 32);
        cr.secret_len = 32;
        cr.created_ms = cr.updated_ms = eid__now(c);
        a.creds &= ~EID_CRED_DEVICE; /* confirmed by its first challenge-response */
        a.updated_ms = cr.updated_ms;
        if ((rc = store_eid_cred_put(c->st, &cr, err)) ||
            (rc = store_eid_account_update(c->st, &a, err)) ||
            (rc = store_eid_cred_delete(c->st, pid, EID_KIND_CHALLENGE, err)))
                store_rollback(c->st);
        else
                rc = tx_end(c, pid, "eid.device-add", 0, err);
out:
        return eid__audited(c, pid, "eid.device-add", rc, err);
}

int eid_device_challenge(struct eid_ctx *c, int64_t pid, uint8_t out[EID_CHALLENGE_LEN],
                         struct pop_err *err)
{
        struct store_eid_account a;
        struct store_eid_cred dev;
        int rc = begin_active(c, pid, &a, err);
        if (rc)
                goto out;
        rc = store_eid_cred_get(c->st, pid, EID_KIND_DEVICE, &dev, err);
        if (rc == POP_ENOTFOUND)
                rc = pop_fail(err, POP_ERULE, "eid-no-device", "the account has no device key");
        if (!rc)
                rc = eid__lock_check(c, &dev, err);
        if (rc) {
                store_rollback(c->st);
                goto out;
        }
        struct store_eid_cred ch = {0};
        ch.pid = pid;
        snprintf(ch.kind, sizeof ch.kind, "%s", EID_KIND_CHALLENGE);
        randombytes_buf(ch.secret, EID_CHALLENGE_LEN);
        ch.secret_len = EID_CHALLENGE_LEN;
        ch.created_ms = ch.updated_ms = eid__now(c);
        ch.expires_ms = ch.created_ms + EID_CHALLENGE_TTL_MS;
        if ((rc = store_eid_cred_put(c->st, &ch, err)))
                store_rollback(c->st);
        else if (!(rc = tx_end(c, pid, "eid.challenge", 0, err)))
                memcpy(out, ch.secret, EID_CHALLENGE_LEN);
out:
        return eid__audited(c, pid, "eid.challenge", rc, err);
}

static int device_verify_tx(struct eid_ctx *c, int64_t pid, struct store_eid_account *a,
                            const uint8_t sig[64], struct pop_err *err)
{
        struct store_eid_cred dev, ch;
        int rc = store_eid_cred_get(c->st, pid, EID_KIND_DEVICE, &dev, err);
        if (rc == POP_ENOTFOUND)
                return pop_fail(err, POP_ERULE, "eid-no-device", "the account has no device key");
        if (rc || (rc = eid__lock_check(c, &dev, err)))
                return rc;
        rc = store_eid_cred_get(c->st, pid, EID_KIND_CHALLENGE, &ch, err);
        if (rc == POP_ENOTFOUND)
                return pop_fail(err, POP_ERULE, "eid-no-challenge",
                                "no challenge is pending (ask for one first)");
        if (rc)
                return rc;
        /* single use: the challenge goes whatever the outcome */
        if ((rc = store_eid_cred_delete(c->st, pid, EID_KIND_CHALLENGE, err)))
                return rc;
        if (ch.expires_ms <= eid__now(c))
                return pop_fail(err, POP_ERULE, "eid-challenge-expired",
                                "the challenge expired (it is valid %d seconds)",
                                EID_CHALLENGE_TTL_MS / 1000);
        if (dev.secret_len != 32 || ch.secret_len != EID_CHALLENGE_LEN)
                return pop_fail(err, POP_ESTORE, "store-corrupt", "corrupt device credential");
        if (crypto_sign_verify_detached(sig, ch.secret, EID_CHALLENGE_LEN, dev.secret) != 0) {
                eid__lock_fail(c, &dev);
                if ((rc = store_eid_cred_put(c->st, &dev, err)))
                        return rc;
                return pop_fail(err, POP_EVERIFY, "eid-wrong-signature",
                                "the device's signature does not verify");
        }
        eid__lock_ok(c, &dev);
        if (!dev.confirmed) {
                dev.confirmed = true;
                a->creds |= EID_CRED_DEVICE;
                a->updated_ms = eid__now(c);
                if ((rc = store_eid_account_update(c->st, a, err)))
                        return rc;
        }
        return store_eid_cred_put(c->st, &dev, err);
}

int eid_device_verify(struct eid_ctx *c, int64_t pid, const uint8_t sig[64], struct pop_err *err)
{
        struct store_eid_account a;
        int rc = begin_active(c, pid, &a, err);
        if (!rc)
                rc = tx_end(c, pid, "eid.device-verify", device_verify_tx(c, pid, &a, sig, err),
                            err);
        return eid__audited(c, pid, "eid.device-verify", rc, err);
}
