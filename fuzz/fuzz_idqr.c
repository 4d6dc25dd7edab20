/*
 * Fuzz target for the identity QR verifier (src/registry/idqr.c): the credential text a verifier
 * scans is untrusted input. Any input must verify or be refused with a message and a rule,
 * never crash. The key is a fixed public JWK whose private half was thrown away after signing
 * the seeds in fuzz/corpus/idqr/ (so the fuzzer starts from real signatures); the clock is
 * fixed at their issue time. An accepted credential must carry claims, and must be refused once
 * expired.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/idqr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char public_jwk[] =
    "{\"alg\":\"ES256\",\"crv\":\"P-256\",\"kid\":\"FmpQWy74jYmS4Wk7m0DhkXsZpxR8HP7xCLdMhJd-f4s\","
    "\"kty\":\"EC\",\"use\":\"sig\",\"x\":\"wDMslZx1QxMlrRn_YpHbEmHchneylYB_lYBgHSmeYKw\","
    "\"y\":\"UrKU_Qo0LXxc6u2oEdtIfYk2i9U7yXcdpKmxH0Z1CvM\"}";
#define SEED_NOW 1795440294 /* the seeds' issue time */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static json_t *jwk;
        if (!jwk && !(jwk = json_loads(public_jwk, 0, NULL)))
                abort();
        json_t *out = NULL;
        struct pop_err err;
        pop_err_clear(&err);
        int rc = reg_idqr_verify((const char *)data, size, jwk, SEED_NOW, &out, &err);
        if (rc != 0) {
                if (out || err.code != rc || err.msg[0] == '\0' || err.rule[0] == '\0' ||
                    memchr(err.msg, '\0', sizeof err.msg) == NULL)
                        abort();
                return 0;
        }
        json_t *claims = json_object_get(out, "claims");
        if (!json_is_true(json_object_get(out, "valid")) || !json_is_object(claims) ||
            json_object_size(claims) == 0)
                abort();
        json_decref(out);
        /* Past any expiry the format allows (year 9999): refused as expired. */
        out = NULL;
        pop_err_clear(&err);
        rc = reg_idqr_verify((const char *)data, size, jwk, 253402300800LL, &out, &err);
        if (rc != POP_EVERIFY || out || strcmp(err.rule, "credential-expired") != 0)
                abort();
        return 0;
}
