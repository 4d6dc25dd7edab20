/*
 * Confirmation of residence: the document, its signature and its verification. See confirm.h.
 *
 * Circular 55/2021/TT-BCA art. 17, as amended by Circular 66/2023/TT-BCA: the confirmation
 * states the current place of residence, earlier places, the time lived at each and the form of
 * registration; it is valid for one year from issue, and stops being valid when the residence
 * information it states changes (the registry can tell: see the "basis_seq" field).
 */
#include "registry/confirm.h"
#include "registry/registry_int.h"

#include <cjose/cjose.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_PUBLIC_JWK     "signing_jwk_public"
#define KEY_FILE_MAX        4096
#define DOC_MAX             (1 << 20)
#define CONFIRM_VALID_YEARS 1 /* Circular 55/2021 art. 17(4) as amended by 66/2023 */

static int cjose_fail(struct pop_err *err, int code, const char *what, const cjose_err *ce)
{
        return pop_fail(err, code, "jose", "%s: %s", what, ce->message ? ce->message : "failed");
}

/* RFC 7638: the thumbprint of an EC key is the SHA-256 of {"crv","kty","x","y"} in that order. */
static int jwk_thumbprint(json_t *pub, char out[64])
{
        const char *crv = json_string_value(json_object_get(pub, "crv"));
        const char *x = json_string_value(json_object_get(pub, "x"));
        const char *y = json_string_value(json_object_get(pub, "y"));
        if (!crv || !x || !y)
                return -1;
        char buf[512];
        int n = snprintf(buf, sizeof buf,
                         "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, x, y);
        if (n < 0 || (size_t)n >= sizeof buf)
                return -1;
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)buf, (unsigned long long)n);
        sodium_bin2base64(out, 64, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        return 0;
}

/* The public half of a JWK (a new reference), with "kid", "use" and "alg" set. */
static json_t *public_half(cjose_jwk_t *jwk, struct pop_err *err)
{
        cjose_err ce;
        char *pub = cjose_jwk_to_json(jwk, false, &ce);
        if (!pub) {
                cjose_fail(err, POP_EIO, "export public key", &ce);
                return NULL;
        }
        json_t *o = json_loads(pub, 0, NULL);
        free(pub);
        char kid[64];
        if (!o || jwk_thumbprint(o, kid) != 0) {
                json_decref(o);
                pop_fail(err, POP_EIO, "jose", "cannot read the public key");
                return NULL;
        }
        json_object_set_new(o, "kid", json_string(kid));
        json_object_set_new(o, "use", json_string("sig"));
        json_object_set_new(o, "alg", json_string("ES256"));
        return o;
}

/* Reads the private JWK from a key file; the caller releases it with cjose_jwk_release. */
int reg__load_key(const char *path, cjose_jwk_t **out, struct pop_err *err)
{
        *out = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return pop_fail(err, POP_EIO, "key-missing", "cannot open the signing key %s: %s",
                                path, strerror(errno));
        char buf[KEY_FILE_MAX + 1];
        ssize_t n = read(fd, buf, KEY_FILE_MAX + 1);
        close(fd);
        if (n < 0 || n > KEY_FILE_MAX) {
                sodium_memzero(buf, sizeof buf);
                return pop_fail(err, POP_EIO, "key-invalid", "cannot read the signing key %s",
                                path);
        }
        cjose_err ce;
        *out = cjose_jwk_import(buf, (size_t)n, &ce);
        sodium_memzero(buf, sizeof buf);
        if (!*out)
                return cjose_fail(err, POP_EIO, "signing key", &ce);
        return 0;
}

int reg_key_init(const char *uri, const char *path, struct pop_err *err)
{
        struct store *st = NULL;
        cjose_jwk_t *jwk = NULL;
        json_t *pub = NULL;
        char *priv = NULL;
        int fd = -1;
        int rc = store_open(uri, 0, &st, err);
        if (rc)
                return rc;
        struct stat sb;
        if (stat(path, &sb) == 0) {
                /* Existing key: it must be the one the registry knows. */
                if ((rc = reg__load_key(path, &jwk, err)))
                        goto out;
                if (!(pub = public_half(jwk, err))) {
                        rc = POP_EIO;
                        goto out;
                }
                char known[1024];
                size_t len = 0;
                rc = store_meta_get(st, META_PUBLIC_JWK, known, sizeof known - 1, &len, err);
                if (rc == POP_ENOTFOUND)
                        goto record;
                if (rc)
                        goto out;
                known[len] = '\0';
                json_t *k = json_loads(known, 0, NULL);
                int same = k && json_equal(k, pub);
                json_decref(k);
                if (!same)
                        rc = pop_fail(err, POP_EVERIFY, "key-mismatch",
                                      "the key file %s is not the registry's signing key", path);
                goto out;
        }
        cjose_err ce;
        if (!(jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce))) {
                rc = cjose_fail(err, POP_EIO, "create key", &ce);
                goto out;
        }
        if (!(priv = cjose_jwk_to_json(jwk, true, &ce))) {
                rc = cjose_fail(err, POP_EIO, "export key", &ce);
                goto out;
        }
        if (!(pub = public_half(jwk, err))) {
                rc = POP_EIO;
                goto out;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        size_t plen = strlen(priv);
        if (fd < 0 || write(fd, priv, plen) != (ssize_t)plen || fsync(fd) != 0) {
                rc = pop_fail(err, POP_EIO, "key-write", "cannot write the signing key %s: %s",
                              path, strerror(errno));
                if (fd >= 0)
                        unlink(path);
                goto out;
        }
record:;
        char *text = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
        if ((rc = store_begin(st, err)) == 0) {
                rc = store_meta_set(st, META_PUBLIC_JWK, text, strlen(text), err);
                if (rc == 0)
                        rc = store_commit(st, err);
                if (rc)
                        store_rollback(st);
        }
        free(text);
out:
        if (fd >= 0)
                close(fd);
        if (priv) {
                sodium_memzero(priv, strlen(priv));
                free(priv);
        }
        json_decref(pub);
        cjose_jwk_release(jwk);
        store_close(st);
        return rc;
}

int reg_public_jwk(struct reg *r, json_t **out, struct pop_err *err)
{
        char buf[1024];
        size_t len = 0;
        *out = NULL;
        int rc = store_meta_get(r->st, META_PUBLIC_JWK, buf, sizeof buf - 1, &len, err);
        if (rc == POP_ENOTFOUND)
                return pop_fail(err, rc, "key-missing",
                                "the registry has no signing key (run popid init)");
        if (rc)
                return rc;
        buf[len] = '\0';
        if (!(*out = json_loads(buf, 0, NULL)))
                return pop_fail(err, POP_ESTORE, "store-corrupt",
                                "the stored public key is corrupt");
        return 0;
}

static int add_residence(void *ctx, const struct residence *res)
{
        json_array_append_new(ctx, reg_render_residence(res));
        return 0;
}

int reg_residence_confirm(struct reg *r, const struct reg_ctx *ctx, int64_t pid,
                          const char *key_path, json_t **out, struct pop_err *err)
{
        *out = NULL;
        struct person p;
        json_t *doc = NULL, *cur = NULL, *hist = NULL, *pub = NULL;
        cjose_jwk_t *jwk = NULL;
        cjose_header_t *hdr = NULL;
        cjose_jws_t *jws = NULL;
        char *payload = NULL;
        char id[PID_LEN + 1];
        pid_from_int(pid, id);
        int rc = store_person_get(r->st, pid, &p, err);
        if (rc)
                goto out;
        /* Circular 55/2021 art. 17(1)-(2): a citizen asks for the confirmation of their own
         * residence, and it states the places they lived; so none for the dead, nor for someone
         * with no residence on record. */
        if (p.status == PERSON_DECEASED) {
                rc = pop_fail(err, POP_ERULE, "person-deceased", "%s (%s) is deceased", id,
                              p.full_name);
                goto out;
        }
        if ((rc = reg_residence_json(r, pid, (struct pdate){0, 0, 0}, &cur, err)))
                goto out;
        hist = json_array();
        if ((rc = store_residence_history(r->st, pid, add_residence, hist, err)))
                goto out;
        if (json_array_size(hist) == 0) {
                rc = pop_fail(err, POP_ERULE, "residence-none",
                              "%s (%s) has no residence on record to confirm", id, p.full_name);
                goto out;
        }
        if ((rc = reg__load_key(key_path, &jwk, err)) || (rc = reg_public_jwk(r, &pub, err)))
                goto out;
        unsigned char nonce[16];
        char jti[32];
        randombytes_buf(nonce, sizeof nonce);
        sodium_bin2base64(jti, sizeof jti, nonce, sizeof nonce,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:{s:o, s:s, s:o, s:s, s:s}, s:I}", "type",
                        "residence-confirmation", "form", "CT07", "id", jti, "issuer", r->name,
                        "issued", reg__date_json(ctx->today), "valid_until",
                        reg__date_json(date_add_years(ctx->today, CONFIRM_VALID_YEARS)), "subject",
                        "pid", reg__pid_json(pid), "full_name", p.full_name, "dob",
                        reg__date_json(p.dob), "sex", sex_name(p.sex), "status",
                        person_status_name(p.status), "basis_seq", (json_int_t)p.version);
        json_object_set(doc, "permanent", json_object_get(cur, "permanent"));
        json_object_set(doc, "temporary", json_object_get(cur, "temporary"));
        json_object_set(doc, "history", hist);
        payload = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        cjose_err ce;
        if (!(hdr = cjose_header_new(&ce)) ||
            !cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &ce) ||
            !cjose_header_set(hdr, CJOSE_HDR_KID, json_string_value(json_object_get(pub, "kid")),
                              &ce) ||
            !cjose_header_set(hdr, "typ", "JOSE", &ce)) {
                rc = cjose_fail(err, POP_EIO, "JWS header", &ce);
                goto out;
        }
        if (!(jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)payload, strlen(payload), &ce))) {
                rc = cjose_fail(err, POP_EIO, "sign", &ce);
                goto out;
        }
        const char *compact = NULL;
        if (!cjose_jws_export(jws, &compact, &ce)) {
                rc = cjose_fail(err, POP_EIO, "export JWS", &ce);
                goto out;
        }
        *out = json_pack("{s:O, s:s}", "document", doc, "jws", compact);
out:
        free(payload);
        cjose_jws_release(jws);
        cjose_header_release(hdr);
        cjose_jwk_release(jwk);
        json_decref(pub);
        json_decref(doc);
        json_decref(cur);
        json_decref(hist);
        return rc;
}

/*
 * RFC 7515 §7.1: a compact JWS is three base64url segments (RFC 4648 §5, unpadded) joined by
 * dots. Checked here before cjose sees the bytes: cjose asserts, and so aborts the process, on some
 * malformed base64url (found by fuzz/fuzz_confirm.c).
 */
int reg__compact_jws_ok(const char *s, size_t len)
{
        int dots = 0;
        size_t seg = 0;
        for (size_t i = 0; i <= len; i++) {
                if (i == len || s[i] == '.') {
                        /* A base64 segment of length 1 mod 4 cannot encode whole bytes. */
                        if (seg == 0 || seg % 4 == 1)
                                return 0;
                        seg = 0;
                        if (i < len && ++dots > 2)
                                return 0;
                        continue;
                }
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_'))
                        return 0;
                seg++;
        }
        return dots == 2;
}

/*
 * RFC 7518 §3.4: an ES256 signature is R || S, 64 octets, so 86 base64url characters whose last
 * one carries 4 zero bits (RFC 4648 §3.5). cjose accepts a 65th octet (it halves the length
 * for R and S) and ignores the spare bits, so without this check one signature has several
 * encodings that verify.
 */
#define ES256_SIG_B64_LEN 86

int reg__es256_sig_canonical(const char *compact, size_t len)
{
        size_t n = 0;
        while (n < len && compact[len - 1 - n] != '.')
                n++;
        if (n != ES256_SIG_B64_LEN)
                return 0;
        char last = compact[len - 1];
        return last == 'A' || last == 'Q' || last == 'g' || last == 'w';
}

int reg__jws_verify_es256(const char *text, size_t len, json_t *jwk_json, const char *what,
                          const char *malformed, const char *bad_payload, json_t **payload,
                          struct pop_err *err)
{
        *payload = NULL;
        cjose_jwk_t *jwk = NULL;
        cjose_jws_t *jws = NULL;
        cjose_err ce;
        int rc = 0;
        char *jwk_text = jwk_json ? json_dumps(jwk_json, JSON_COMPACT) : NULL;
        if (!jwk_text || !(jwk = cjose_jwk_import(jwk_text, strlen(jwk_text), &ce)) ||
            cjose_jwk_get_kty(jwk, &ce) != CJOSE_JWK_KTY_EC) {
                rc = pop_fail(err, POP_EINVAL, "key-invalid",
                              "the public key is not a usable EC JWK");
                goto out;
        }
        if (!reg__compact_jws_ok(text, len)) {
                rc = pop_fail(err, POP_EINVAL, malformed,
                              "not a %s: expected three base64url segments separated by dots (a "
                              "compact JWS)",
                              what);
                goto out;
        }
        if (!(jws = cjose_jws_import(text, len, &ce))) {
                rc = pop_fail(err, POP_EINVAL, malformed, "malformed JWS: %s",
                              ce.message ? ce.message : "unreadable");
                goto out;
        }
        cjose_header_t *hdr = cjose_jws_get_protected(jws);
        const char *alg = hdr ? cjose_header_get(hdr, CJOSE_HDR_ALG, &ce) : NULL;
        const char *kid = hdr ? cjose_header_get(hdr, CJOSE_HDR_KID, &ce) : NULL;
        const char *want_kid = json_string_value(json_object_get(jwk_json, "kid"));
        /* RFC 8725 §3.1: accept only the algorithm this key is for, never the token's say. */
        if (!alg || strcmp(alg, CJOSE_HDR_ALG_ES256)) {
                rc = pop_fail(err, POP_EVERIFY, "signature-invalid",
                              "the %s is not signed with ES256", what);
                goto out;
        }
        if (want_kid && kid && strcmp(want_kid, kid)) {
                /* The token's kid is the sender's text, read before any signature check: named
                 * only when it is short printable ASCII (no terminal escapes, no UTF-8 sequence
                 * cut by a precision, in a message that goes to stderr and into JSON). */
                bool plain = strlen(kid) <= 48;
                for (const char *k = kid; plain && *k; k++)
                        plain = *k >= 0x20 && *k < 0x7f;
                rc = pop_fail(err, POP_EVERIFY, "key-mismatch",
                              "signed with key %s, not with the given key %.48s",
                              plain ? kid : "(an unprintable or over-long key id)", want_kid);
                goto out;
        }
        if (!reg__es256_sig_canonical(text, len) || !cjose_jws_verify(jws, jwk, &ce)) {
                rc = pop_fail(err, POP_EVERIFY, "signature-invalid",
                              "the signature does not verify with the registry's key");
                goto out;
        }
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &ce) ||
            !(*payload =
                  json_loadb((const char *)plain, plain_len, JSON_REJECT_DUPLICATES, NULL)) ||
            !json_is_object(*payload)) {
                json_decref(*payload);
                *payload = NULL;
                rc = pop_fail(err, POP_EVERIFY, bad_payload,
                              "signed by the key, but the payload is not a JSON object");
                goto out;
        }
out:
        free(jwk_text);
        cjose_jws_release(jws);
        cjose_jwk_release(jwk);
        return rc;
}

int reg_confirmation_verify(const char *text, size_t len, json_t *jwk_json, struct pdate today,
                            json_t **out, struct pop_err *err)
{
        *out = NULL;
        if (len > DOC_MAX)
                return pop_fail(err, POP_ETOOBIG, "too-big", "the document is over %d bytes",
                                DOC_MAX);
        while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
                len--;
        json_t *in = NULL, *signed_doc = NULL, *given = NULL;
        const char *compact = NULL;
        size_t compact_len = 0;
        int rc = 0;
        if (len && text[0] == '{') {
                json_error_t je;
                in = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
                if (!in || !json_is_string(json_object_get(in, "jws"))) {
                        rc = pop_fail(err, POP_EINVAL, "document-invalid",
                                      "not a confirmation: %s (line %d)",
                                      in ? "no \"jws\" field" : je.text, in ? 0 : je.line);
                        goto out;
                }
                compact = json_string_value(json_object_get(in, "jws"));
                compact_len = json_string_length(json_object_get(in, "jws"));
                given = json_object_get(in, "document");
        } else {
                compact = text;
                compact_len = len;
        }
        if ((rc = reg__jws_verify_es256(compact, compact_len, jwk_json, "confirmation",
                                        "document-invalid", "document-invalid", &signed_doc, err)))
                goto out;
        if (given && !json_equal(given, signed_doc)) {
                rc = pop_fail(err, POP_EVERIFY, "document-altered",
                              "the document differs from what was signed");
                goto out;
        }
        struct pdate until;
        const char *u = json_string_value(json_object_get(signed_doc, "valid_until"));
        if (!u || pdate_parse_full(u, strlen(u), &until, NULL) != 0) {
                rc = pop_fail(err, POP_EVERIFY, "document-invalid",
                              "no valid_until in the document");
                goto out;
        }
        int expired = pdate_cmp(until, today) < 0;
        *out = json_pack("{s:b, s:O}", "valid", !expired, "document", signed_doc);
        if (expired)
                json_object_set_new(*out, "reason", json_string("expired"));
out:
        json_decref(signed_doc);
        json_decref(in);
        return rc;
}
