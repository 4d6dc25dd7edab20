/*
 * Confirmation of residence (xác nhận thông tin về cư trú, form CT07): a JSON document of a
 * person's current and past residence, signed by the registry as a compact JWS (ES256 over P-256,
 * through cjose; cjose has no EdDSA, and ES256 is what any JOSE library verifies). The registry's
 * private key lives in a key file (mode 0600) created by `popid init`; its public JWK is kept in
 * the store so documents can be verified by the registry, and exported for third parties.
 */
#ifndef POP_REGISTRY_CONFIRM_H
#define POP_REGISTRY_CONFIRM_H

#include <jansson.h>

#include "registry/registry.h"

/* Creates the signing key file at path (refusing to overwrite) and records the public key in the
 * registry at uri. When the file exists already, checks it matches the recorded public key. */
int reg_key_init(const char *uri, const char *path, struct pop_err *err) POP_MUST_USE;

/* The registry's public JWK (a new reference). */
int reg_public_jwk(struct reg *r, json_t **out, struct pop_err *err) POP_MUST_USE;

/*
 * Builds and signs the confirmation for pid: {"document": {...}, "jws": "..."}. The key file is
 * read for this call only and its secret wiped afterwards. POP_ENOTFOUND (person-not-found) for
 * an unknown ID; POP_ERULE for a deceased person (person-deceased) or one with no residence on
 * record (residence-none); a person no longer resident gets the places they lived.
 */
int reg_residence_confirm(struct reg *r, const struct reg_ctx *ctx, int64_t pid,
                          const char *key_path, json_t **out, struct pop_err *err) POP_MUST_USE;

/*
 * Verifies a confirmation (the JSON printed by reg_residence_confirm, or a bare compact JWS)
 * against a public JWK. Returns 0 and *out = {"valid": true|false, "reason"?: ..., "document":
 * ...}: false with reason "expired" when the validity has passed on `today`. POP_EVERIFY when the
 * signature does not hold or the document differs from what was signed; POP_EINVAL when the
 * input is malformed.
 */
int reg_confirmation_verify(const char *text, size_t len, json_t *jwk, struct pdate today,
                            json_t **out, struct pop_err *err) POP_MUST_USE;

#endif
