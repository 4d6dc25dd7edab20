/*
 * Fuzz target: the verifier of audit log exports (`popid audit verify --file`), which a third
 * party runs on a file from anywhere. Input bytes are given as the export; the public key is
 * fixed, the one the seed corpus was made with (its secret was thrown away, so no input can
 * carry a checkpoint signature that was not in the corpus already).
 * Invariants: no crash; a clean result has no bad seq and seals nothing past its last entry;
 * a failed verification names the first bad seq and says why; any other error carries a
 * message; the verdict does not change when the same input is verified again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

#define CORPUS_KEY "p0WzHv60JX3r4PvGpbIcwB7BP3QDm6rJc19dVE3i3fE"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t pk[AUDIT_PK_BYTES];
        static int have_pk;
        if (!have_pk) {
                if (audit_parse_public_key(CORPUS_KEY, pk, NULL) != 0)
                        abort();
                have_pk = 1;
        }
        struct audit_verify_result res, again;
        struct pop_err err = {0}, err2 = {0};
        int rc = audit_verify_export((const char *)data, size, pk, &res, &err);
        if (rc == 0 && (res.bad_seq != 0 || res.last_checkpoint_seq > res.last_seq))
                abort();
        if (rc == POP_EVERIFY && (res.bad_seq < 1 || !err.msg[0]))
                abort();
        if (rc != 0 && !err.msg[0])
                abort();
        int rc2 = audit_verify_export((const char *)data, size, pk, &again, &err2);
        if (rc2 != rc || memcmp(&res, &again, sizeof res) != 0)
                abort();
        return 0;
}
