/*
 * Electronic identification accounts (eID), the service layer of docs/EID.md: one account per
 * person at level 1 (registered remotely) or level 2 (enrolled in person with the chip card), its
 * lifecycle (request, activation code, activate, password, TOTP, device key, lock and unlock by
 * the citizen, suspension and reinstatement by an operator, closure on death) and the
 * authentication checks other services use (password, TOTP, device challenge-response), each with
 * a growing lockout after repeated failures. The legal frame is Decree 69/2024/ND-CP on
 * electronic identification and authentication (articles cited at each rule in eid.c).
 *
 * The rules live here; the rows live in the store (store.h "eID accounts"); every step appends an
 * audit entry (actor, subject pid, action "eid.<step>", outcome) and no secret ever reaches the
 * log, the store in clear, or an error message.
 *
 * eid_account_get is the lookup other services call (verification answers "no" for an account
 * that is not active; OTP delivery uses the registered channel): these names are stable.
 */
#ifndef POP_EID_EID_H
#define POP_EID_EID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

struct audit;

/* Two levels of accounts: Decree 69/2024/ND-CP art. 7 (who gets which) and art. 10 (how). */
enum eid_level { EID_LEVEL_1 = 1, EID_LEVEL_2 = 2 };

enum eid_state {
        EID_PENDING = 0, /* requested, activation code not yet used */
        EID_ACTIVE = 1,  /* usable */
        EID_LOCKED = 2,  /* locked at the citizen's request (Law on Identity 2023 art. 34(1)(a)) */
        EID_SUSPENDED = 3, /* suspended by an operator, with a reason (art. 34(1)(b), (c), (đ)) */
        EID_DELETED = 4,   /* closed: the person died (art. 34(1)(d)), credentials erased */
};

/* Credential summary bits (struct eid_account.creds): confirmed credentials only. */
#define EID_CRED_PASSWORD 0x1u
#define EID_CRED_TOTP     0x2u
#define EID_CRED_DEVICE   0x4u

#define EID_PHONE_MAX  STORE_EID_PHONE_MAX
#define EID_EMAIL_MAX  STORE_EID_EMAIL_MAX
#define EID_REASON_MAX STORE_EID_REASON_MAX

struct eid_account {
        int64_t pid;
        enum eid_level level;
        enum eid_state state;
        char phone[EID_PHONE_MAX + 1];   /* registered channel, E.164 ("+84..."); "" when none */
        char email[EID_EMAIL_MAX + 1];   /* registered channel; "" when none */
        unsigned creds;                  /* EID_CRED_* */
        char reason[EID_REASON_MAX + 1]; /* of the last suspension, reinstatement or closure */
        int64_t created_ms, updated_ms;  /* unix milliseconds */
};

/*
 * The person's account: 0, or POP_ENOTFOUND when there is none (a closed account is returned,
 * with state EID_DELETED), or another negative code when the store fails. A pure read (the
 * caller audits its own access); safe inside the caller's transaction or read snapshot.
 */
int eid_account_get(struct store *st, int64_t pid, struct eid_account *out) POP_MUST_USE;
/* The same, with the reason of a failure in err. */
int eid_account_load(struct store *st, int64_t pid, struct eid_account *out,
                     struct pop_err *err) POP_MUST_USE;
/* True when the account may authenticate (state active). */
bool eid_account_usable(const struct eid_account *a);
/* "pending", "active", "locked", "suspended", "deleted". */
const char *eid_state_name(enum eid_state s);

/* ---- the service ---- */

#define EID_KEY_LEN          32 /* the eID key file (<db>.eid.key): secretbox and code-hash keys */
#define EID_CODE_DIGITS      8  /* activation and unlock codes */
#define EID_CODE_TTL_MS      (15 * 60 * 1000)
#define EID_CODE_ATTEMPTS    5  /* wrong codes before the code is void */
#define EID_TOTP_SECRET      20 /* bytes (160 bits, RFC 4226 section 4 R6 recommends 160) */
#define EID_TOTP_DIGITS      6
#define EID_TOTP_STEP        30 /* seconds, RFC 6238 section 5.2 */
#define EID_TOTP_B32_MAX     64 /* base32 text of the seed, NUL included */
#define EID_CHALLENGE_LEN    32
#define EID_CHALLENGE_TTL_MS (2 * 60 * 1000)
#define EID_PASSWORD_MIN     8   /* bytes; NIST SP 800-63B section 5.1.1.2 */
#define EID_PASSWORD_MAX     128 /* bytes */
#define EID_LOCK_AFTER       5   /* consecutive failures before the first lockout */
#define EID_LOCK_FIRST_MS    (60 * 1000)
#define EID_LOCK_MAX_MS      (24LL * 60 * 60 * 1000)

/* Where eid_request or eid_unlock_code queued a code (docs/EID.md "Code delivery"). */
struct eid_sent {
        int64_t outbox_id;  /* the outbox row; 0: nothing was queued */
        char channel[8];    /* "sms" or "email" */
        char sent_to[72];   /* the destination, masked as OTPs' are (eid_otp_mask) */
        int64_t expires_ms; /* when the code stops working */
};

/* What every service call needs. The caller fills it; nothing here owns its members. */
struct eid_ctx {
        struct store *st;
        struct audit *audit;      /* where each step is logged (required) */
        uint8_t key[EID_KEY_LEN]; /* from eid_key_load; the caller wipes it */
        const char *actor;        /* "operator:NAME", "citizen:PID", "client:ID" */
        int64_t now_ms;           /* the clock; 0: the system clock (tests inject time here) */
        /* Argon2id cost; 0: the documented defaults (libsodium's INTERACTIVE limits). */
        unsigned long long pw_opslimit;
        size_t pw_memlimit;
        /*
         * Code delivery: with outbox_key (HUB_OUTBOX_KEY_BYTES, hub/outbox.h) set, eid_request
         * and eid_unlock_code write the code's sealed message to the outbox, for the account's
         * registered channel, in the transaction that stores the code; NULL: the code is only
         * returned to the caller (the offline enrolment path). sent (optional) receives where
         * it was queued.
         */
        const uint8_t *outbox_key;
        struct eid_sent *sent;
        /* Internal to the service (eid__commit): the step's entry was made durable before its
         * commit, so the step's end logs no second one. Zero-initialize the context. */
        bool step_audited;
};

/* The key file of a registry: the database path + ".eid.key" (mode 0600, 64 hex digits). */
int eid_key_path(const char *uri, char *buf, size_t cap, struct pop_err *err) POP_MUST_USE;
/* Reads the key file; with create, makes one when it is missing. */
int eid_key_load(const char *path, bool create, uint8_t key[EID_KEY_LEN],
                 struct pop_err *err) POP_MUST_USE;

/*
 * Requests an account. Level 1 (remote): a living Vietnamese citizen aged 6 or more with a
 * personal ID number, and at least one channel (phone or e-mail). Level 2 (in person, the
 * operator has checked the chip card): also a valid card in the registry; an existing level-1
 * account is raised to level 2 (no new code when it is active). A pending account gets a fresh
 * code (a new request replaces the old code). code_out receives the activation code (digits,
 * NUL-terminated); "" when none was issued. With c->outbox_key the code's message is queued in
 * the outbox for the registered channel in the same transaction (c->sent says where).
 */
int eid_request(struct eid_ctx *c, int64_t pid, enum eid_level level, const char *phone,
                const char *email, char code_out[EID_CODE_DIGITS + 1],
                struct pop_err *err) POP_MUST_USE;
/* Activates a pending account with its code (single use, expiring, attempts counted). */
int eid_activate(struct eid_ctx *c, int64_t pid, const char *code,
                 struct pop_err *err) POP_MUST_USE;
/*
 * Sets the password: the first time on an active account without one (old NULL), afterwards only
 * with the current password as old. Policy in docs/EID.md.
 */
int eid_set_password(struct eid_ctx *c, int64_t pid, const char *password, const char *old,
                     struct pop_err *err) POP_MUST_USE;
/* Checks a password against the policy (without the account): 0 or POP_EINVAL naming the rule. */
int eid_password_policy(const char *password, int64_t pid, struct pop_err *err) POP_MUST_USE;
/*
 * Starts TOTP enrolment (needs the password): a new random seed, stored encrypted and unconfirmed;
 * b32_out receives it in base32 for the authenticator app (an otpauth URI in the CLI).
 */
int eid_totp_enrol(struct eid_ctx *c, int64_t pid, const char *password,
                   char b32_out[EID_TOTP_B32_MAX], struct pop_err *err) POP_MUST_USE;
/* Confirms the enrolment with a first code from the app. */
int eid_totp_confirm(struct eid_ctx *c, int64_t pid, const char *code,
                     struct pop_err *err) POP_MUST_USE;
/* Registers the device's Ed25519 public key (needs the password); confirmed by a first
 * successful challenge-response. Replaces an earlier device. */
int eid_device_add(struct eid_ctx *c, int64_t pid, const char *password, const uint8_t pk[32],
                   struct pop_err *err) POP_MUST_USE;

/* ---- authentication (for OIDC and the citizen portal) ---- */

/* 0 when the password is right and the account active; POP_EVERIFY (wrong), POP_ERULE (account
 * not usable) or POP_EAGAIN (rule eid-locked-out: the credential is locked for a while). */
int eid_login_password(struct eid_ctx *c, int64_t pid, const char *password,
                       struct pop_err *err) POP_MUST_USE;
/* The same for a TOTP code of the confirmed seed; a code is accepted once (no replay). */
int eid_check_totp(struct eid_ctx *c, int64_t pid, const char *code,
                   struct pop_err *err) POP_MUST_USE;
/* A fresh random challenge for the registered device (single use, expires). */
int eid_device_challenge(struct eid_ctx *c, int64_t pid, uint8_t out[EID_CHALLENGE_LEN],
                         struct pop_err *err) POP_MUST_USE;
/* Checks the device's Ed25519 signature over the last challenge (consumed either way). */
int eid_device_verify(struct eid_ctx *c, int64_t pid, const uint8_t sig[64],
                      struct pop_err *err) POP_MUST_USE;

/* ---- lock, suspension, closure ---- */

/* The citizen locks the account (authenticated by the password). */
int eid_lock(struct eid_ctx *c, int64_t pid, const char *password,
             struct pop_err *err) POP_MUST_USE;
/* Issues an unlock code for a locked account (code_out as in eid_request; queued for the
 * registered channel when c->outbox_key is set). */
int eid_unlock_code(struct eid_ctx *c, int64_t pid, char code_out[EID_CODE_DIGITS + 1],
                    struct pop_err *err) POP_MUST_USE;
/* The citizen unlocks: password and TOTP code (when TOTP is enrolled), or an unlock code. */
int eid_unlock(struct eid_ctx *c, int64_t pid, const char *password, const char *totp,
               const char *channel_code, struct pop_err *err) POP_MUST_USE;
/* An operator suspends or reinstates an account, with a reason. */
int eid_suspend(struct eid_ctx *c, int64_t pid, const char *reason,
                struct pop_err *err) POP_MUST_USE;
int eid_reinstate(struct eid_ctx *c, int64_t pid, const char *reason,
                  struct pop_err *err) POP_MUST_USE;
/*
 * Closes the account of a person who died, inside the caller's transaction (the death event's):
 * state deleted, every credential erased. No account: 0. No audit here (the event is journaled
 * and audited by its caller).
 */
int eid_close_on_death(struct store *st, int64_t pid, int64_t now_ms,
                       struct pop_err *err) POP_MUST_USE;
/* The account, audited as a read by c->actor (action eid.show). */
int eid_show(struct eid_ctx *c, int64_t pid, struct eid_account *out,
             struct pop_err *err) POP_MUST_USE;

/* RFC 6238 TOTP value of a seed at a unix time (HMAC-SHA-1), digits 6..8, for tests and tools. */
int eid_totp_code(const uint8_t *secret, size_t len, int64_t unix_time, int digits,
                  char out[9]) POP_MUST_USE;

#endif
