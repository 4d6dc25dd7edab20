/*
 * Internals shared by the files of the registry service (reg.c, events.c, views.c): JSON
 * helpers for rendering. Not for use outside src/registry/.
 */
#ifndef POP_REGISTRY_INT_H
#define POP_REGISTRY_INT_H

#include <cjose/cjose.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/date.h"
#include "core/err.h"

json_t *reg__pid_json(int64_t pid);      /* "001090012345", or null for 0 */
json_t *reg__date_json(struct pdate d);  /* "YYYY[-MM[-DD]]", or null for none */
json_t *reg__time_json(int64_t unix_ms); /* RFC 3339 UTC, seconds */
struct person;
/* reg_render_person with the costly keys of parts only (REG_PERSON_BIRTH_PROVINCE, _RECORD). */
json_t *reg__render_person_parts(const struct person *p, unsigned parts);

/* The registry's ES256 signing key and compact JWS checks (confirm.c), shared with the identity
 * QR (idqr.c). reg__load_key reads the private JWK from a key file (the caller releases it with
 * cjose_jwk_release; the file's bytes are wiped). reg__compact_jws_ok: three base64url segments
 * (RFC 7515 §7.1), checked before cjose sees them; reg__es256_sig_canonical: the signature is
 * exactly the 64 octets R || S in canonical base64url (RFC 7518 §3.4). */
int reg__load_key(const char *path, cjose_jwk_t **out, struct pop_err *err) POP_MUST_USE;
int reg__compact_jws_ok(const char *s, size_t len);
int reg__es256_sig_canonical(const char *compact, size_t len);
/*
 * Verifies a compact JWS made with the registry's key, for the signed documents of confirm.c and
 * idqr.c (WHAT names the document in messages): jwk_json an EC public JWK (else POP_EINVAL
 * key-invalid); text three base64url segments cjose reads (else POP_EINVAL with rule malformed);
 * the header's alg ES256 and no other (RFC 8725 §3.1: the verifier decides the algorithm, not the
 * token) and its kid the JWK's when both have one (POP_EVERIFY signature-invalid, key-mismatch); a
 * canonical signature that verifies (signature-invalid); a JSON object as payload, duplicate
 * members refused (POP_EVERIFY with rule bad_payload). *payload is the caller's.
 */
int reg__jws_verify_es256(const char *text, size_t len, json_t *jwk_json, const char *what,
                          const char *malformed, const char *bad_payload, json_t **payload,
                          struct pop_err *err) POP_MUST_USE;

#endif
