/*
 * Verification of claimed identity attributes (see verify.h for the order of the answer and
 * docs/AUTH.md for the codes). One store read (store_verify_subject: the compared columns of
 * the person and the eID account's state in one statement), one more of the current permanent
 * residence only when an address is claimed: cheap enough for the tens of thousands of
 * verifications a second the API serves.
 */
#include "eid/verify.h"

#include <cjose/cjose.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/region.h"

#if __has_include("eid/eid.h")
#include "eid/eid.h"
#define VERIFY_HAVE_EID 1
#endif

#define KEY_FILE_MAX 4096

const char *const verify_codes[] = {
    "ok",
    "no-attribute",
    "pid-unknown",
    "deceased",
    "person-missing",
    "account-locked",
    "account-suspended",
    "account-closed",
    "name-mismatch",
    "dob-mismatch",
    "sex-mismatch",
    "address-mismatch",
    "otp-mismatch",
    NULL,
};

/* What the checks compare against: the person, and the residence when an address is claimed. */
struct subject {
        struct store_verify_subject p;
        struct residence res; /* address "" when none */
        const char *province; /* name of the residence's 2025 unit, or NULL */
        bool otp_ok;          /* verify_request.otp_ok */
};

typedef int check_fn(const struct verify_claim *c, const struct subject *s, enum match_mode mode,
                     struct match_result *r, struct pop_err *err);

static int check_name(const struct verify_claim *c, const struct subject *s, enum match_mode mode,
                      struct match_result *r, struct pop_err *err)
{
        /* The claim byte for byte the stored name (already NFC, normalized): its folded form is
         * the stored name_fold, so the answer is "same" without normalizing it again (most
         * claims of a relying party come from the ID card itself). */
        size_t n = strlen(s->p.full_name);
        if (n && c->len == n && !memcmp(c->s, s->p.full_name, n)) {
                r->ok = true;
                r->score = MATCH_SCORE_MAX;
                r->how = MATCH_SAME;
                return 0;
        }
        return match_name(c->s, c->len, s->p.name_fold, s->p.name_key, mode, r, err);
}

static int check_dob(const struct verify_claim *c, const struct subject *s, enum match_mode mode,
                     struct match_result *r, struct pop_err *err)
{
        return match_dob(c->s, c->len, s->p.dob, mode, r, err);
}

static int check_sex(const struct verify_claim *c, const struct subject *s, enum match_mode mode,
                     struct match_result *r, struct pop_err *err)
{
        return match_sex(c->s, c->len, s->p.sex, mode, r, err);
}

static int check_address(const struct verify_claim *c, const struct subject *s,
                         enum match_mode mode, struct match_result *r, struct pop_err *err)
{
        return match_address(c->s, c->len, s->res.address, s->province, mode, r, err);
}

/* The OTP was checked by the caller (verify_request.otp_ok); here only its form: 6 digits. */
static int check_otp(const struct verify_claim *c, const struct subject *s, enum match_mode mode,
                     struct match_result *r, struct pop_err *err)
{
        (void)mode;
        bool digits = c->len == 6;
        for (size_t i = 0; i < c->len && digits; i++)
                digits = c->s[i] >= '0' && c->s[i] <= '9';
        if (!digits)
                return pop_fail(err, POP_EINVAL, "otp-malformed", "must be 6 digits");
        r->ok = s->otp_ok;
        r->score = s->otp_ok ? MATCH_SCORE_MAX : 0;
        r->how = s->otp_ok ? MATCH_SAME : MATCH_NONE;
        return 0;
}

/* The table: one row per attribute, in checking order (enum verify_attr). */
static const struct {
        struct verify_attr_info info;
        check_fn *check;
} attrs[VERIFY_N_ATTRS] = {
    [VERIFY_A_NAME] = {{"name", "name", "name-mismatch"}, check_name},
    [VERIFY_A_DOB] = {{"dob", "dob", "dob-mismatch"}, check_dob},
    [VERIFY_A_SEX] = {{"sex", "sex", "sex-mismatch"}, check_sex},
    [VERIFY_A_ADDRESS] = {{"address", "permanent_residence", "address-mismatch"}, check_address},
    /* "otp" is no grant: an OTP compares nothing of the registry's data. */
    [VERIFY_A_OTP] = {{"otp", "otp", "otp-mismatch"}, check_otp},
};

const struct verify_attr_info *verify_attr_info(enum verify_attr a)
{
        return (unsigned)a < VERIFY_N_ATTRS ? &attrs[a].info : NULL;
}

/* The subject's status as a code, or NULL when it may be verified. */
static const char *status_code(const struct store_verify_subject *p)
{
        if (p->status == PERSON_DECEASED)
                return "deceased";
        if (p->status == PERSON_MISSING)
                return "person-missing";
        return NULL;
}

/* An eID account that blocks authentication (Decree 69/2024/ND-CP art. 18: locked by the
 * citizen, suspended by the authority): its code, or NULL. No account blocks nothing:
 * demographic verification does not need one. */
static int account_code(int state, const char **code, struct pop_err *err)
{
        *code = NULL;
#ifdef VERIFY_HAVE_EID
        if (state < 0)
                return 0;
        if (state > EID_DELETED)
                return pop_fail(err, POP_ESTORE, "store-corrupt",
                                "corrupt value in the eid_account table");
        if (state == EID_LOCKED)
                *code = "account-locked";
        else if (state == EID_SUSPENDED)
                *code = "account-suspended";
        else if (state == EID_DELETED)
                *code = "account-closed";
#else
        (void)state;
        (void)err;
#endif
        return 0;
}

int verify_check(struct store *st, const struct verify_request *rq, struct verify_answer *out,
                 struct pop_err *err)
{
        memset(out, 0, sizeof *out);
        out->code = "no-attribute";
        for (int a = 0; a < VERIFY_N_ATTRS; a++)
                if (rq->claim[a].s)
                        out->compared |= 1u << a;
        /* Nothing claimed proves nothing; answered before any read, so it tells nothing. */
        if (!out->compared)
                return 0;

        static struct subject empty; /* compared against to check claims' form only */
        struct subject s;
        const struct subject *against = &s;
        const char *code = NULL;
        int rc = store_verify_subject(st, rq->pid, &s.p, err);
        if (rc == POP_ENOTFOUND) {
                code = "pid-unknown";
                against = &empty;
        } else if (rc) {
                return rc;
        }
        s.res.address[0] = '\0';
        s.province = NULL;
        s.otp_ok = rq->otp_ok;
        if (!code && rq->claim[VERIFY_A_ADDRESS].s) {
                rc = store_residence_current(st, rq->pid, RESIDENCE_PERMANENT, &s.res, err);
                if (rc == POP_ENOTFOUND) {
                        s.res.address[0] = '\0';
                } else if (rc) {
                        return rc;
                } else {
                        const struct region_unit *u = region_current_unit(s.res.province);
                        s.province = u ? u->name : NULL;
                }
        }
        const char *mismatch = NULL;
        for (int a = 0; a < VERIFY_N_ATTRS; a++) {
                if (!rq->claim[a].s)
                        continue;
                struct match_result r;
                struct pop_err e = {0};
                if ((rc = attrs[a].check(&rq->claim[a], against, rq->mode, &r, &e))) {
                        return pop_fail(err, rc, e.rule[0] ? e.rule : "claim-invalid", "%s: %s",
                                        attrs[a].info.name, e.msg);
                }
                out->scores[a] = r.score;
                if (!r.ok && !mismatch)
                        mismatch = attrs[a].info.mismatch;
        }
        if (!code)
                code = status_code(&s.p);
        if (!code && (rc = account_code(s.p.eid_state, &code, err)))
                return rc;
        if (!code)
                code = mismatch;
        out->yes = code == NULL;
        out->code = code ? code : "ok";
        return 0;
}

void verify_fields(unsigned compared, char *buf, size_t cap)
{
        size_t n = 0;
        if (!cap)
                return;
        buf[0] = '\0';
        for (int a = 0; a < VERIFY_N_ATTRS; a++) {
                if (!(compared & (1u << a)))
                        continue;
                /* memcpy, not snprintf: this runs for every line of a batch. */
                const char *f = attrs[a].info.field;
                size_t fl = strlen(f), w = fl + (n ? 1 : 0);
                if (w >= cap - n) {
                        buf[n] = '\0';
                        return;
                }
                if (n)
                        buf[n++] = ',';
                memcpy(buf + n, f, fl + 1);
                n += fl;
        }
}

void verify_txn(char out[VERIFY_TXN_LEN])
{
        unsigned char r[12];
        randombytes_buf(r, sizeof r);
        memcpy(out, "vt-", 3);
        sodium_bin2hex(out + 3, VERIFY_TXN_LEN - 3, r, sizeof r);
}

/* ---- signer ---- */

struct verify_signer {
        cjose_jwk_t *jwk;
        char kid[64];
};

static int cjose_fail(struct pop_err *err, int code, const char *what, const cjose_err *ce)
{
        return pop_fail(err, code, "jose", "%s: %s", what, ce->message ? ce->message : "failed");
}

/* RFC 7638 section 3.2: the thumbprint of an EC key hashes {"crv","kty","x","y"} in order. */
static int thumbprint(cjose_jwk_t *jwk, char out[64], struct pop_err *err)
{
        cjose_err ce;
        char *pub = cjose_jwk_to_json(jwk, false, &ce);
        if (!pub)
                return cjose_fail(err, POP_EIO, "export public key", &ce);
        json_t *o = json_loads(pub, 0, NULL);
        free(pub);
        const char *crv = json_string_value(json_object_get(o, "crv"));
        const char *x = json_string_value(json_object_get(o, "x"));
        const char *y = json_string_value(json_object_get(o, "y"));
        char buf[512];
        int n =
            crv && x && y
                ? snprintf(buf, sizeof buf,
                           "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, x, y)
                : -1;
        json_decref(o);
        if (n < 0 || (size_t)n >= sizeof buf)
                return pop_fail(err, POP_EIO, "jose", "the signing key is not an EC key");
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)buf, (unsigned long long)n);
        sodium_bin2base64(out, 64, h, sizeof h, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        return 0;
}

int verify_signer_open(const char *key_path, struct verify_signer **out, struct pop_err *err)
{
        *out = NULL;
        char buf[KEY_FILE_MAX + 1];
        int fd = open(key_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return pop_fail(err, POP_EIO, "key-missing", "cannot open the signing key %s: %s",
                                key_path, strerror(errno));
        ssize_t n = read(fd, buf, KEY_FILE_MAX + 1);
        close(fd);
        if (n < 0 || n > KEY_FILE_MAX) {
                sodium_memzero(buf, sizeof buf);
                return pop_fail(err, POP_EIO, "key-invalid", "cannot read the signing key %s",
                                key_path);
        }
        struct verify_signer *s = calloc(1, sizeof *s);
        cjose_err ce;
        int rc = 0;
        if (!s) {
                rc = pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
                goto out;
        }
        if (!(s->jwk = cjose_jwk_import(buf, (size_t)n, &ce))) {
                rc = cjose_fail(err, POP_EIO, "signing key", &ce);
                goto out;
        }
        if ((rc = thumbprint(s->jwk, s->kid, err)))
                goto out;
        *out = s;
        s = NULL;
out:
        sodium_memzero(buf, sizeof buf);
        verify_signer_free(s);
        return rc;
}

void verify_signer_free(struct verify_signer *s)
{
        if (!s)
                return;
        cjose_jwk_release(s->jwk);
        free(s);
}

int verify_sign(const struct verify_signer *s, json_t *payload, char **out, struct pop_err *err)
{
        *out = NULL;
        cjose_header_t *hdr = NULL;
        cjose_jws_t *jws = NULL;
        cjose_err ce;
        int rc = 0;
        char *text = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        if (!(hdr = cjose_header_new(&ce)) ||
            !cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &ce) ||
            !cjose_header_set(hdr, CJOSE_HDR_KID, s->kid, &ce) ||
            !cjose_header_set(hdr, "typ", "JOSE", &ce)) {
                rc = cjose_fail(err, POP_EIO, "JWS header", &ce);
                goto out;
        }
        if (!(jws = cjose_jws_sign(s->jwk, hdr, (const uint8_t *)text, strlen(text), &ce))) {
                rc = cjose_fail(err, POP_EIO, "sign", &ce);
                goto out;
        }
        const char *compact = NULL;
        if (!cjose_jws_export(jws, &compact, &ce)) {
                rc = cjose_fail(err, POP_EIO, "export JWS", &ce);
                goto out;
        }
        if (!(*out = strdup(compact)))
                rc = pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
out:
        free(text);
        cjose_jws_release(jws);
        cjose_header_release(hdr);
        return rc;
}
