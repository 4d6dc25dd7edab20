/*
 * Fuzz target: the verifier of residence confirmations (`popid residence verify`), which reads
 * documents from anyone. Input bytes are given as the document; the key is a fixed P-256 JWK.
 * Invariants: no crash, an error always carries a message, and a forged document never verifies.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "registry/confirm.h"

static json_t *jwk;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!jwk) {
                jwk = json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x",
                                "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y",
                                "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
                if (!jwk)
                        abort();
        }
        json_t *out = NULL;
        struct pop_err err = {0};
        int rc = reg_confirmation_verify((const char *)data, size, jwk,
                                         (struct pdate){2026, 11, 23}, &out, &err);
        /* Nobody holds the private half of this key, so nothing may verify as valid. */
        if (rc == 0 && json_is_true(json_object_get(out, "valid")))
                abort();
        if (rc != 0 && (!err.msg[0] || out))
                abort();
        json_decref(out);
        return 0;
}
