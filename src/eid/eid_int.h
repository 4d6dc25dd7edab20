/*
 * Internals shared by the files of the eID service (eid.c: lifecycle, auth.c: credentials and
 * their checks, otp.c: relying parties' one-time codes). Not for other modules: they use eid.h.
 */
#ifndef POP_EID_EID_INT_H
#define POP_EID_EID_INT_H

#include <stdbool.h>

#include "audit/audit.h"
#include "eid/eid.h"

/* Credential kinds (store.h "eID accounts"). */
#define EID_KIND_PASSWORD   "password"
#define EID_KIND_TOTP       "totp"
#define EID_KIND_DEVICE     "device"
#define EID_KIND_ACTIVATION "activation"
#define EID_KIND_UNLOCK     "unlock"
#define EID_KIND_CHALLENGE  "challenge"

/* The clock: c->now_ms when set, else the system clock (unix milliseconds). */
int64_t eid__now(const struct eid_ctx *c);
/* Starts libsodium and liboath once; POP_EIO when they cannot. */
int eid__init(struct pop_err *err) POP_MUST_USE;
/* Appends the audit entry of one step with the outcome of rc (and err's rule); returns rc, or
 * the audit's failure when the entry could not be made durable. Writes nothing when the step's
 * entry was already made durable by eid__commit (its end is then only reported). */
int eid__audited(struct eid_ctx *c, int64_t pid, const char *action, int rc, struct pop_err *err);
/*
 * Commits the step's open transaction under the audit rule (DESIGN.md "Durability rule": no
 * personal data is written without a durable audit record): the step's entry (action, outcome of
 * rc: "ok", or "denied" with err's rule for a refusal that keeps its counted attempt) is made
 * durable FIRST, then the transaction commits. The audit write failing rolls the transaction back
 * (nothing changed) and returns its error. The commit failing after the entry rolls back and
 * appends an "error" entry with the same request id, so the log says the step did not take
 * effect. Returns rc, or the failure. Every commit of an eID step goes through here.
 */
int eid__commit(struct eid_ctx *c, int64_t pid, const char *action, int rc,
                struct pop_err *err) POP_MUST_USE;
/*
 * The audit rule's mechanism under eid__commit and the OTP's issue and check: makes e durable in
 * a, then commits st's open transaction. e not durable: the transaction is rolled back,
 * *audit_failed set, the audit's error returned (nothing changed). The commit failing after the
 * entry: rolled back, an entry like e with outcome "error" and the store's rule appended (best
 * effort: should it fail too, the log over-reports, never under-reports), the commit's error
 * returned. 0 when both held.
 */
int eid__entry_then_commit(struct store *st, struct audit *a, const struct audit_entry *e,
                           bool *audit_failed, struct pop_err *err) POP_MUST_USE;
/* Loads the account, POP_ENOTFOUND with a message when none. */
int eid__account(struct eid_ctx *c, int64_t pid, struct store_eid_account *out,
                 struct pop_err *err) POP_MUST_USE;
/* Refuses unless the account is active (rule eid-not-active naming the state). */
int eid__require_active(const struct store_eid_account *a, struct pop_err *err) POP_MUST_USE;

/* A fresh numeric code and its credential row (keyed hash, expiry, attempts 0). */
void eid__code_new(const struct eid_ctx *c, int64_t pid, const char *kind,
                   char code[EID_CODE_DIGITS + 1], struct store_eid_cred *out);
/* Queues code's sealed message for a's registered channel in the outbox, inside the caller's
 * transaction, when c->outbox_key is set (notify.c); fills c->sent. 0 with nothing done when
 * c->outbox_key is NULL. */
int eid__code_queue(struct eid_ctx *c, const struct store_eid_account *a, const char *kind,
                    const char *code, int64_t expires_ms, struct pop_err *err) POP_MUST_USE;
/* Checks a code against the (pid, kind) row inside the caller's transaction: 0 and the row
 * deleted (single use); POP_EVERIFY and the attempt counted (the row deleted at the last
 * attempt); POP_ERULE when it expired (row deleted) or none was issued. The caller commits
 * in every case but a store failure. */
int eid__code_use(struct eid_ctx *c, int64_t pid, const char *kind, const char *code,
                  struct pop_err *err) POP_MUST_USE;

/* The lockout: POP_EAGAIN (eid-locked-out) while the credential is locked. */
int eid__lock_check(const struct eid_ctx *c, const struct store_eid_cred *cr,
                    struct pop_err *err) POP_MUST_USE;
/* Counts a failure (and locks after EID_LOCK_AFTER), or resets after a success. */
void eid__lock_fail(const struct eid_ctx *c, struct store_eid_cred *cr);
void eid__lock_ok(const struct eid_ctx *c, struct store_eid_cred *cr);
/* The lock that follows the n-th consecutive failure: 0 below EID_LOCK_AFTER, then
 * EID_LOCK_FIRST_MS doubling per failure up to EID_LOCK_MAX_MS. */
int64_t eid__lockout_ms(int failures);

/* Checks the password credential of an active account inside the caller's transaction,
 * counting failures (the caller commits unless a store failure). */
int eid__password_check(struct eid_ctx *c, int64_t pid, const char *password,
                        struct pop_err *err) POP_MUST_USE;
/* Same for a TOTP code; confirmed: only a confirmed seed (else the pending one). */
int eid__totp_check(struct eid_ctx *c, int64_t pid, const char *code, bool confirmed,
                    struct pop_err *err) POP_MUST_USE;

#endif
