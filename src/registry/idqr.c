/*
 * The identity QR credential: issue (read the person, pick the fields, sign) and verify (offline,
 * with the public JWK only). See idqr.h; the format is in docs/FORMATS.md "Identity QR".
 *
 * The payload is a JSON object with one- to three-letter claim names:
 *   t   "id1", the credential type and version (a confirmation of residence signed by the same
 *       key is not an identity QR)
 *   jti 9 random bytes in base64url, iat / exp issue and expiry times in unix seconds (RFC 7519
 *       §4.1.6, §4.1.4, §4.1.7 use the same names)
 *   p pid, n name, d dob, s sex ("m"/"f"), c nationality, e ethnicity, h hometown, o18 "18 or
 *   over" (a boolean): only the fields the citizen chose.
 */
#include "registry/idqr.h"
#include "registry/registry_int.h"

#include <cjose/cjose.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/name.h"
#include "core/pid.h"

#define IDQR_TYPE     "id1"
#define IDQR_MAX_TIME 253402300799LL /* 9999-12-31T23:59:59Z: times beyond are malformed */
#define ADULT_AGE     18 /* Civil Code 2015 art. 20(1): an adult is a person of full 18 years */

enum kind { K_PID, K_NAME, K_DOB, K_SEX, K_NATION, K_TEXT, K_BOOL };

static const struct field {
        const char *name;  /* on the command line and in the verified output */
        const char *claim; /* in the signed payload */
        unsigned bit;
        enum kind kind;
} fields[] = {
    {"pid", "p", IDQR_PID, K_PID},
    {"name", "n", IDQR_NAME, K_NAME},
    {"dob", "d", IDQR_DOB, K_DOB},
    {"sex", "s", IDQR_SEX, K_SEX},
    {"nationality", "c", IDQR_NATIONALITY, K_NATION},
    {"ethnicity", "e", IDQR_ETHNICITY, K_TEXT},
    {"hometown", "h", IDQR_HOMETOWN, K_TEXT},
    {"over18", "o18", IDQR_OVER18, K_BOOL},
};
#define N_FIELDS (sizeof fields / sizeof fields[0])
#define KNOWN    "pid, name, dob, sex, nationality, ethnicity, hometown, over18"

int reg_idqr_fields_parse(const char *list, unsigned *mask, struct pop_err *err)
{
        unsigned m = 0;
        *mask = 0;
        const char *p = list ? list : "";
        if (!*p)
                return pop_fail(err, POP_EINVAL, "idqr-field", "no fields chosen (known: %s)",
                                KNOWN);
        while (*p) {
                size_t n = strcspn(p, ",");
                size_t k = 0;
                while (k < N_FIELDS &&
                       !(strlen(fields[k].name) == n && !memcmp(fields[k].name, p, n)))
                        k++;
                if (k == N_FIELDS)
                        return pop_fail(err, POP_EINVAL, "idqr-field",
                                        "unknown field '%.*s' (known: %s)", (int)(n > 32 ? 32 : n),
                                        p, KNOWN);
                if (m & fields[k].bit)
                        return pop_fail(err, POP_EINVAL, "idqr-field", "field '%s' given twice",
                                        fields[k].name);
                m |= fields[k].bit;
                p += n;
                if (*p == ',' && !*++p)
                        return pop_fail(err, POP_EINVAL, "idqr-field",
                                        "empty field name after the last comma");
        }
        *mask = m;
        return 0;
}

int reg_idqr_ttl_parse(const char *s, int64_t *seconds, struct pop_err *err)
{
        *seconds = 0;
        size_t nd = strspn(s, "0123456789");
        static const struct {
                char unit;
                int64_t mult;
        } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
        int64_t mult = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
                if (s[nd] == units[i].unit && s[nd + 1] == '\0')
                        mult = units[i].mult;
        if (nd == 0 || nd > 9 || mult == 0)
                return pop_fail(err, POP_EINVAL, "idqr-ttl",
                                "lifetime '%.*s' is not a whole number with a unit s, m, h or d "
                                "(e.g. 30d)",
                                (int)strnlen(s, 32), s);
        int64_t v = strtoll(s, NULL, 10) * mult;
        if (v < IDQR_TTL_MIN || v > IDQR_TTL_MAX)
                return pop_fail(err, POP_EINVAL, "idqr-ttl",
                                "lifetime %s is outside %d seconds..%d days: an offline "
                                "credential cannot be revoked, so it must expire",
                                s, IDQR_TTL_MIN, IDQR_TTL_MAX / 86400);
        *seconds = v;
        return 0;
}

static int cjose_fail(struct pop_err *err, int code, const char *what, const cjose_err *ce)
{
        return pop_fail(err, code, "jose", "%s: %s", what, ce->message ? ce->message : "failed");
}

/* Adds field f of person p to the payload (short claim) and to released (long name). */
static int add_field(const struct field *f, const struct person *p, const struct reg_ctx *ctx,
                     json_t *payload, json_t *released, struct pop_err *err)
{
        json_t *v = NULL, *shown = NULL;
        char buf[PID_LEN + 1];
        switch (f->kind) {
        case K_PID:
                pid_from_int(p->pid, buf);
                v = json_string(buf);
                break;
        case K_NAME:
                v = json_string(p->full_name);
                break;
        case K_DOB:
                v = reg__date_json(p->dob);
                break;
        case K_SEX:
                if (p->sex != SEX_MALE && p->sex != SEX_FEMALE)
                        break;
                v = json_string(p->sex == SEX_MALE ? "m" : "f");
                shown = json_string(sex_name(p->sex));
                break;
        case K_NATION:
                v = p->nationality[0] ? json_string(p->nationality) : NULL;
                break;
        case K_TEXT:
                if (f->bit == IDQR_ETHNICITY)
                        v = p->ethnicity[0] ? json_string(p->ethnicity) : NULL;
                else
                        v = p->hometown[0] ? json_string(p->hometown) : NULL;
                break;
        case K_BOOL:
                /* Counted from the latest day a partial date of birth may stand for, so nobody
                 * is called an adult who might not be one yet. */
                v = json_boolean(date_age_on(pdate_latest(p->dob), ctx->today) >= ADULT_AGE);
                break;
        }
        if (!v || json_is_null(v)) {
                json_decref(v);
                json_decref(shown);
                return pop_fail(err, POP_ERULE, "idqr-field-empty",
                                "the registry holds no %s for this person", f->name);
        }
        json_object_set(payload, f->claim, v);
        json_object_set_new(released, f->name, shown ? shown : json_incref(v));
        json_decref(v);
        return 0;
}

int reg_idqr_issue(struct reg *r, const struct reg_ctx *ctx, int64_t pid, unsigned mask,
                   int64_t ttl, const char *key_path, char **compact, json_t **released,
                   struct idqr_meta *meta, struct pop_err *err)
{
        *compact = NULL;
        *released = NULL;
        memset(meta, 0, sizeof *meta);
        struct person p;
        json_t *payload = NULL, *rel = NULL;
        cjose_jwk_t *jwk = NULL;
        cjose_header_t *hdr = NULL;
        cjose_jws_t *jws = NULL;
        char *text = NULL;
        int rc;
        if (!mask || (mask & ~0xffu))
                return pop_fail(err, POP_EINVAL, "idqr-field", "no fields chosen (known: %s)",
                                KNOWN);
        if (ttl < IDQR_TTL_MIN || ttl > IDQR_TTL_MAX)
                return pop_fail(err, POP_EINVAL, "idqr-ttl", "lifetime %lld s is outside %d..%d",
                                (long long)ttl, IDQR_TTL_MIN, IDQR_TTL_MAX);
        if ((rc = store_person_get(r->st, pid, &p, err)))
                goto out;
        /* A credential says who someone is now: none for the dead or the missing (Law on
         * Identity 2023 art. 21(1)(c)-(d): their card is withdrawn). */
        if (p.status != PERSON_LIVING) {
                char id[PID_LEN + 1];
                pid_from_int(pid, id);
                rc = pop_fail(err, POP_ERULE, "person-not-living", "%s (%s) is %s", id, p.full_name,
                              person_status_name(p.status));
                goto out;
        }
        unsigned char nonce[9];
        randombytes_buf(nonce, sizeof nonce);
        sodium_bin2base64(meta->id, sizeof meta->id, nonce, sizeof nonce,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        meta->iat = ctx->now_ms / 1000;
        meta->exp = meta->iat + ttl;
        payload = json_pack("{s:s, s:s, s:I, s:I}", "t", IDQR_TYPE, "jti", meta->id, "iat",
                            (json_int_t)meta->iat, "exp", (json_int_t)meta->exp);
        rel = json_object();
        for (size_t k = 0; k < N_FIELDS; k++)
                if ((mask & fields[k].bit) &&
                    (rc = add_field(&fields[k], &p, ctx, payload, rel, err)))
                        goto out;
        if ((rc = reg__load_key(key_path, &jwk, err)))
                goto out;
        text = json_dumps(payload, JSON_COMPACT);
        cjose_err ce;
        /* The protected header names only the algorithm (RFC 7515 §4.1.1): {"alg":"ES256"}, 20
         * characters. A "kid" (RFC 7515 §4.1.4) would add 71 and the QR code two versions; a
         * verifier holding several registry keys tries each. No "typ" either: the payload's "t"
         * says what it is. */
        if (!text || !(hdr = cjose_header_new(&ce)) ||
            !cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &ce)) {
                rc = cjose_fail(err, POP_EIO, "JWS header", &ce);
                goto out;
        }
        if (!(jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)text, strlen(text), &ce))) {
                rc = cjose_fail(err, POP_EIO, "sign", &ce);
                goto out;
        }
        const char *c = NULL;
        if (!cjose_jws_export(jws, &c, &ce) || !(*compact = strdup(c))) {
                rc = cjose_fail(err, POP_EIO, "export JWS", &ce);
                goto out;
        }
        meta->size = (int)strlen(*compact);
        *released = rel;
        rel = NULL;
out:
        if (rc)
                memset(meta, 0, sizeof *meta);
        free(text);
        cjose_jws_release(jws);
        cjose_header_release(hdr);
        cjose_jwk_release(jwk);
        json_decref(payload);
        json_decref(rel);
        return rc;
}

/* Checks one claim's value against the format and renders it under its long name. */
static json_t *claim_value(const struct field *f, json_t *v)
{
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        char buf[TEXT_MAX_BYTES];
        struct pid_info id;
        struct pdate d;
        switch (f->kind) {
        case K_PID:
                return s && pid_parse(s, len, &id, NULL) == 0 ? json_string(s) : NULL;
        case K_NAME:
                return s && name_normalize(s, len, buf, sizeof buf, NULL) == 0 && !strcmp(buf, s)
                           ? json_string(s)
                           : NULL;
        case K_DOB:
                return s && pdate_parse(s, len, &d, NULL) == 0 ? json_string(s) : NULL;
        case K_SEX:
                if (s && !strcmp(s, "m"))
                        return json_string(sex_name(SEX_MALE));
                if (s && !strcmp(s, "f"))
                        return json_string(sex_name(SEX_FEMALE));
                return NULL;
        case K_NATION: /* ISO 3166-1 alpha-3 */
                return s && len == 3 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3
                           ? json_string(s)
                           : NULL;
        case K_TEXT:
                return s && text_normalize(s, len, buf, sizeof buf, NULL) == 0 && !strcmp(buf, s)
                           ? json_string(s)
                           : NULL;
        case K_BOOL:
                return json_is_boolean(v) ? json_incref(v) : NULL;
        }
        return NULL;
}

/* The claims of a verified payload, under their long names; NULL with a message when the
 * payload is not an identity QR of this format. */
static json_t *read_claims(json_t *payload, int64_t *iat, int64_t *exp, struct pop_err *err)
{
        json_t *claims = json_object();
        const char *key;
        json_t *v;
        json_object_foreach(payload, key, v)
        {
                if (!strcmp(key, "t") || !strcmp(key, "jti") || !strcmp(key, "iat") ||
                    !strcmp(key, "exp"))
                        continue;
                size_t k = 0;
                while (k < N_FIELDS && strcmp(fields[k].claim, key))
                        k++;
                json_t *val = k < N_FIELDS ? claim_value(&fields[k], v) : NULL;
                if (!val) {
                        pop_fail(err, POP_EVERIFY, "credential-invalid",
                                 k < N_FIELDS ? "claim '%.16s' has a malformed value"
                                              : "unknown claim '%.16s'",
                                 key);
                        json_decref(claims);
                        return NULL;
                }
                json_object_set_new(claims, fields[k].name, val);
        }
        json_t *ji = json_object_get(payload, "iat"), *je = json_object_get(payload, "exp");
        const char *jti = json_string_value(json_object_get(payload, "jti"));
        if (!json_is_integer(ji) || !json_is_integer(je) || !jti || json_object_size(claims) == 0 ||
            json_integer_value(ji) < 0 || json_integer_value(je) > IDQR_MAX_TIME ||
            json_integer_value(je) <= json_integer_value(ji)) {
                pop_fail(err, POP_EVERIFY, "credential-invalid",
                         "the credential lacks an id, a valid issue and expiry time, or claims");
                json_decref(claims);
                return NULL;
        }
        *iat = json_integer_value(ji);
        *exp = json_integer_value(je);
        return claims;
}

int reg_idqr_verify(const char *text, size_t len, json_t *jwk_json, int64_t now_s, json_t **out,
                    struct pop_err *err)
{
        *out = NULL;
        if (len > IDQR_MAX_TEXT)
                return pop_fail(err, POP_ETOOBIG, "credential-too-big",
                                "%zu bytes, over the %d-byte cap of a credential", len,
                                IDQR_MAX_TEXT);
        while (len && strchr(" \t\r\n", text[len - 1]))
                len--;
        while (len && strchr(" \t\r\n", text[0])) {
                text++;
                len--;
        }
        json_t *payload = NULL, *claims = NULL;
        const char *want_kid = json_string_value(json_object_get(jwk_json, "kid"));
        int rc = reg__jws_verify_es256(text, len, jwk_json, "credential", "credential-malformed",
                                       "credential-type", &payload, err);
        if (rc)
                goto out;
        const char *type = json_string_value(json_object_get(payload, "t"));
        if (!type || strcmp(type, IDQR_TYPE)) {
                rc = pop_fail(err, POP_EVERIFY, "credential-type",
                              "signed by the key, but not an identity QR (type %.16s)",
                              type ? type : "missing");
                goto out;
        }
        int64_t iat = 0, exp = 0;
        if (!(claims = read_claims(payload, &iat, &exp, err))) {
                rc = POP_EVERIFY;
                goto out;
        }
        /* RFC 7519 §4.1.4: not accepted on or after its expiry; a little skew allowed for a
         * verifier whose clock lags the registry's. */
        if (now_s >= exp) {
                rc = pop_fail(err, POP_EVERIFY, "credential-expired",
                              "the credential expired %lld seconds ago", (long long)(now_s - exp));
                goto out;
        }
        if (now_s + IDQR_CLOCK_SKEW < iat) {
                rc = pop_fail(err, POP_EVERIFY, "credential-not-yet-valid",
                              "the credential is issued %lld seconds in the future (check the "
                              "clock)",
                              (long long)(iat - now_s));
                goto out;
        }
        *out = json_pack("{s:b, s:s, s:o, s:o, s:o, s:O}", "valid", 1, "id",
                         json_string_value(json_object_get(payload, "jti")), "kid",
                         want_kid ? json_string(want_kid) : json_null(), "issued",
                         reg__time_json(iat * 1000), "expires", reg__time_json(exp * 1000),
                         "claims", claims);
        if (!*out)
                rc = pop_fail(err, POP_ENOMEM, "oom", "out of memory");
out:
        json_decref(payload);
        json_decref(claims);
        return rc;
}
