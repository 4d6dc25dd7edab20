/*
 * The verification service for relying parties (issue 5, docs/AUTH.md): given a personal ID and
 * claimed attributes (name, date of birth, sex, address) it answers yes or no with a stable
 * reason code, in the manner of Aadhaar's authentication API and MOSIP's ID Authentication: the
 * relying party learns whether what it holds is right, never the registry's data.
 *
 * The attribute checks are a table (VERIFY_A_*, one row per attribute: its claim, the grant a
 * client needs to ask about it, the check and its mismatch code), so another check (an OTP)
 * is one more row. Matching itself is core/match.h. The answer is decided in a fixed order:
 *   1. no attribute claimed                       no-attribute   (before anything is read)
 *   2. every claim well-formed                    POP_EINVAL     (the caller answers 400)
 *   3. the personal ID exists                     pid-unknown
 *   4. the person is living                       deceased, person-missing
 *   5. an eID account, if any, is not blocked     account-locked, account-suspended
 *   6. each claimed attribute matches, in order   name-, dob-, sex-, address-mismatch
 * Claims are checked for form even when the ID is unknown, so a malformed claim never tells
 * whether an ID exists. Knows nothing of HTTP; audits nothing (the caller does, per answer).
 *
 * The signer holds the registry's ES256 key (the one of registry/confirm.h) for the life of a
 * server, so an answer can be signed without reading the key file each time.
 */
#ifndef POP_EID_VERIFY_H
#define POP_EID_VERIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/match.h"
#include "store/store.h"

/* The attributes, in the order they are checked (the first mismatch names the code). */
enum verify_attr {
        VERIFY_A_NAME,
        VERIFY_A_DOB,
        VERIFY_A_SEX,
        VERIFY_A_ADDRESS,
        VERIFY_A_OTP, /* a one-time password (eid/otp.h): checked and spent by the caller */
        VERIFY_N_ATTRS
};

#define VERIFY_TXN_LEN 28 /* "vt-" + 24 hex digits + NUL */

/* A claim: s[0..len) as the client sent it; s NULL when not claimed. */
struct verify_claim {
        const char *s;
        size_t len;
};

struct verify_request {
        int64_t pid;
        struct verify_claim claim[VERIFY_N_ATTRS];
        enum match_mode mode;
        /* With an otp claim: the caller checked it with eid_otp_check (which spends it, a write
         * verify_check cannot make in its read snapshot) and says here whether it was right. */
        bool otp_ok;
};

struct verify_answer {
        bool yes;
        const char *code;  /* static: "ok" or a reason code (verify_codes[]) */
        unsigned compared; /* bits (1 << VERIFY_A_*) of the attributes compared */
        int scores[VERIFY_N_ATTRS];
};

/* One row of the attribute table, for callers that render or audit attributes. */
struct verify_attr_info {
        const char *name;     /* the request member: "name", "dob", "sex", "address" */
        const char *field;    /* the grant a client needs to ask about it (access/fields.h) */
        const char *mismatch; /* its reason code */
};
const struct verify_attr_info *verify_attr_info(enum verify_attr a);

/* Every reason code, NULL-terminated ("ok" first), for docs and tests. */
extern const char *const verify_codes[];

/*
 * Decides one verification against the store st (the caller holds a read snapshot when it
 * wants one). 0 with *out filled, POP_EINVAL (err names the attribute and the problem) for a
 * malformed claim, or a store error.
 */
int verify_check(struct store *st, const struct verify_request *rq, struct verify_answer *out,
                 struct pop_err *err) POP_MUST_USE;

/* The audit field names of the compared attributes, comma-separated, into buf. */
void verify_fields(unsigned compared, char *buf, size_t cap);

/* A fresh transaction id ("vt-" + 24 random hex digits). */
void verify_txn(char out[VERIFY_TXN_LEN]);

/* ---- signed answers ---- */

struct verify_signer;

/* Loads the ES256 key file (registry/confirm.h's). The caller frees *out with verify_signer_free.
 */
int verify_signer_open(const char *key_path, struct verify_signer **out,
                       struct pop_err *err) POP_MUST_USE;
void verify_signer_free(struct verify_signer *s);

/*
 * Signs payload (a JSON object, compact, keys in order) as a compact JWS (ES256, "kid" the key's
 * RFC 7638 thumbprint, "typ" "JOSE"). *out is malloc'ed: the caller frees it. Thread-safe.
 */
int verify_sign(const struct verify_signer *s, json_t *payload, char **out,
                struct pop_err *err) POP_MUST_USE;

#endif
