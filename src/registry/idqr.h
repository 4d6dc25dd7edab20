/*
 * The identity QR: a compact credential of fields a citizen chooses to show (name, date of
 * birth, sex, ID number, nationality, ethnicity, hometown, "18 or over"), with an issue time and
 * an expiry, signed by the registry as a compact JWS (ES256, the same key and cjose signing as
 * the confirmation of residence, confirm.h). A verifier holding only the registry's public JWK
 * checks it offline: no network, no database. Claim names are one or two letters so the QR code
 * stays small; docs/FORMATS.md "Identity QR" has the format and typical sizes. Rendering the QR
 * is core/qrimage.h's job.
 */
#ifndef POP_REGISTRY_IDQR_H
#define POP_REGISTRY_IDQR_H

#include <jansson.h>
#include <stdint.h>

#include "registry/registry.h"

/* The fields a credential may carry (bits of a mask). */
enum {
        IDQR_PID = 1u << 0,
        IDQR_NAME = 1u << 1,
        IDQR_DOB = 1u << 2,
        IDQR_SEX = 1u << 3,
        IDQR_NATIONALITY = 1u << 4,
        IDQR_ETHNICITY = 1u << 5,
        IDQR_HOMETOWN = 1u << 6,
        IDQR_OVER18 = 1u << 7,
};

/* An offline credential cannot be revoked, so its life is short: 30 days unless asked, at most
 * a year, at least a minute. */
#define IDQR_TTL_DEFAULT (30 * 86400)
#define IDQR_TTL_MIN     60
#define IDQR_TTL_MAX     (366 * 86400)
/* A credential's cap when verifying (a QR code holds at most 2,953 bytes), and the seconds a
 * verifier's clock may lag the registry's. */
#define IDQR_MAX_TEXT   4096
#define IDQR_CLOCK_SKEW 300

/* Parses a comma-separated list of field names ("name,dob,sex") into a mask. Unknown, repeated
 * or no names: POP_EINVAL, rule idqr-field, naming the field and listing the known ones. */
int reg_idqr_fields_parse(const char *list, unsigned *mask, struct pop_err *err) POP_MUST_USE;

/* Parses a lifetime: a whole number with a unit s, m, h or d ("30d", "12h"), within
 * IDQR_TTL_MIN..IDQR_TTL_MAX seconds. POP_EINVAL, rule idqr-ttl. */
int reg_idqr_ttl_parse(const char *s, int64_t *seconds, struct pop_err *err) POP_MUST_USE;

/*
 * Issues a credential for pid with the fields in mask, valid ttl seconds from ctx->now_ms,
 * signed with the key file at key_path (read for this call only, its secret wiped after).
 * *compact is the compact JWS (malloc'ed, the caller frees it); *released (a new reference) the
 * released fields under their long names ({"pid", "name", ...}: what the audit log records);
 * *meta its id, issue time and expiry. POP_ENOTFOUND (person-not-found) for an unknown ID;
 * POP_ERULE for a person who is deceased or missing (person-not-living) or a field the registry
 * holds no value for (idqr-field-empty).
 */
struct idqr_meta {
        char id[24]; /* "jti": 9 random bytes in base64url */
        int64_t iat; /* unix seconds */
        int64_t exp; /* unix seconds */
        int size;    /* bytes of the compact JWS */
};
int reg_idqr_issue(struct reg *r, const struct reg_ctx *ctx, int64_t pid, unsigned mask,
                   int64_t ttl, const char *key_path, char **compact, json_t **released,
                   struct idqr_meta *meta, struct pop_err *err) POP_MUST_USE;

/*
 * Verifies a credential (len bytes; surrounding whitespace ignored) against a public JWK at
 * now_s (unix seconds). Returns 0 and *out = {"valid": true, "id", "kid", "issued", "expires",
 * "claims": {long names}} (a new reference), or, with a message:
 *   POP_EINVAL   credential-malformed (not a compact JWS), key-invalid (not an EC JWK)
 *   POP_ETOOBIG  credential-too-big (over IDQR_MAX_TEXT)
 *   POP_EVERIFY  signature-invalid, key-mismatch (signed under another kid), credential-type
 *                (signed by the key, but not an identity QR), credential-invalid (claims out
 *                of the format), credential-expired, credential-not-yet-valid
 */
int reg_idqr_verify(const char *text, size_t len, json_t *jwk, int64_t now_s, json_t **out,
                    struct pop_err *err) POP_MUST_USE;

#endif
