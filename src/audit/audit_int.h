/*
 * Internals shared by the files of the audit module (chain.c, key.c, writer.c, verify.c): the
 * canonical encoding and hash of an entry, the checkpoint message, entry validation, the key
 * file, and hooks the unit tests use to hold the writer still. Not for use outside src/audit/
 * and its tests.
 */
#ifndef POP_AUDIT_INT_H
#define POP_AUDIT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"

#define AUDIT__ENTRY_VERSION 1
#define AUDIT__SK_BYTES      64
/* "popid-audit-checkpoint-v1" || u64be seq || hash || i64be time_ms */
#define AUDIT__CP_MSG_LEN (sizeof AUDIT_CHECKPOINT_LABEL - 1 + 8 + AUDIT_HASH_BYTES + 8)
#define AUDIT__META_PK    "audit_public_key"

/* An entry in canonical form, ready to store: validated, fields sorted and deduplicated. */
struct audit__canon {
        char actor[AUDIT_ACTOR_MAX + 1];
        char action[AUDIT_ACTION_MAX + 1];
        char fields[AUDIT_FIELDS_MAX + 1];
        char purpose[AUDIT_PURPOSE_MAX + 1];
        char outcome[16];
        char rule[AUDIT_RULE_MAX + 1];
        char request_id[AUDIT_REQID_MAX + 1];
        int64_t time_ms;
        int64_t subject;
};

/* Validates e against the caps and charsets of docs/AUDIT.md and fills c. POP_EINVAL. */
int audit__canonicalize(const struct audit_entry *e, struct audit__canon *c,
                        struct pop_err *err) POP_MUST_USE;

/* Checks one text as an entry field would be after audit__canonicalize (for parsers). */
enum audit__text {
        AUDIT__T_ACTOR,
        AUDIT__T_ACTION,
        AUDIT__T_FIELD, /* one name of the fields list */
        AUDIT__T_PURPOSE,
        AUDIT__T_OUTCOME,
        AUDIT__T_RULE,
        AUDIT__T_REQID,
};
bool audit__text_ok(enum audit__text kind, const char *s, size_t len);

/* The pieces of audit__canonicalize, for a request of many entries that share strings
 * (writer.c): one text of len bytes against its cap (the buffer size, NUL included) and charset;
 * a field list sorted and deduplicated into out; the subject and time. POP_EINVAL. */
int audit__check_text(enum audit__text kind, const char *what, const char *in, size_t len,
                      size_t cap, struct pop_err *err) POP_MUST_USE;
int audit__canon_fields(const char *in, char out[AUDIT_FIELDS_MAX + 1],
                        struct pop_err *err) POP_MUST_USE;
int audit__check_scalars(const struct audit_entry *e, struct pop_err *err) POP_MUST_USE;

/* out = BLAKE2b-256(prev || canonical(e)); e->hash is not read. Any string length is taken. */
void audit__chain(const uint8_t prev[AUDIT_HASH_BYTES], const struct store_audit_entry *e,
                  uint8_t out[AUDIT_HASH_BYTES]);

/* The message a checkpoint signs. */
void audit__checkpoint_msg(const struct store_audit_checkpoint *c, uint8_t msg[AUDIT__CP_MSG_LEN]);
void audit__checkpoint_sign(struct store_audit_checkpoint *c, const uint8_t sk[AUDIT__SK_BYTES]);
bool audit__checkpoint_ok(const struct store_audit_checkpoint *c, const uint8_t pk[AUDIT_PK_BYTES]);

/* base64url without padding; text holds AUDIT_PK_TEXT (a key) or 88 bytes (a signature). */
void audit__b64(const uint8_t *bin, size_t len, char *text, size_t cap);
/* Decodes exactly len bytes; false otherwise. */
bool audit__unb64(const char *text, size_t text_len, uint8_t *bin, size_t len);
void audit__hex(const uint8_t hash[AUDIT_HASH_BYTES], char text[2 * AUDIT_HASH_BYTES + 1]);
bool audit__unhex(const char *text, size_t text_len, uint8_t hash[AUDIT_HASH_BYTES]);

/*
 * Loads the secret key at path, or creates it when missing (mode 0600, written to a temporary
 * file and linked into place so two processes cannot both create one), and records or checks
 * the public key in st's meta. sk is wiped by the caller (sodium_memzero).
 */
int audit__key_load(struct store *st, const char *path, uint8_t sk[AUDIT__SK_BYTES],
                    uint8_t pk[AUDIT_PK_BYTES], struct pop_err *err) POP_MUST_USE;

int64_t audit__now_ms(void);

/*
 * Test hooks. audit__pause holds the writer before it takes the next batch (entries queue up);
 * audit__fault_arm has the writer arm its own store connection (a "fault:" URI) with
 * store_fault_arm(n) before its next batch, on the writer's thread.
 */
void audit__pause(struct audit *a, bool paused);
void audit__fault_arm(struct audit *a, int n);
/* How many times the writer saw its write-ahead log start over (a commit that left fewer pages
 * in it than the one before), and how many passes the checkpointer made. */
void audit__wal_counts(struct audit *a, int64_t *restarts, int64_t *passes);

#endif
