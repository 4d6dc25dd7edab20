/*
 * Unit tests of src/registry/confirm.c: the confirmation of residence (form CT07) as a compact
 * JWS (ES256) signed with the registry's key.
 *
 * Covered: the key file (created with mode 0600 whatever the umask, never overwritten, checked
 * against the registry's public key); the document's contents and its validity of one year
 * (Circular 55/2021 art. 17, as amended by Circular 66/2023); verification with the registry's key
 * and with the exported public JWK, as a third party does; tampering with any byte of the
 * payload, the signature or the header, and with the readable copy of the document; tokens signed
 * with another algorithm or key; refusals (unknown person, no residence on record, deceased,
 * missing key); and garbage (not a JWS, bad base64url, JSON junk, oversized input, a bad JWK).
 */
#include "regtest.h"

#include <cjose/cjose.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/confirm.h"

#define DAD "001080000001"
#define MUM "001182000002"
#define LAN "001195000004" /* enrolled, never registered anywhere */

#define ADDR_HN "{'province':'01','commune':'00004','line':'12 Phố Huế'}"
#define ADDR_DN "{'province':'48','commune':'20194','line':'1 Bạch Đằng'}"

struct fx {
        struct rt t;
        char key[600];
        json_t *jwk;  /* the registry's public key */
        json_t *conf; /* a confirmation for MUM: {"document", "jws"} */
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        if (!f || sodium_init() < 0)
                return -1;
        tu_tmpdir();
        rt_create(&f->t, "registry.db", "sqlite:");
        tu_path(f->key, sizeof f->key, "registry.key");
        struct pop_err err = {0};
        assert_int_equal(reg_key_init(f->t.uri, f->key, &err), 0);
        assert_int_equal(reg_public_jwk(f->t.r, &f->jwk, &err), 0);

        json_t *res = rt_ok(&f->t, "{'type':'enrol','pid':'" DAD "','name':'Trần Văn Nam',"
                                   "'dob':'1980-03-02','sex':'male','address':" ADDR_HN ","
                                   "'date':'2020-01-01'}");
        json_int_t hh = json_integer_value(json_object_get(res, "household"));
        json_decref(res);
        rt_do(&f->t,
              "{'type':'enrol','pid':'" MUM "','name':'Lê Thị Mai','dob':'1982-05-10',"
              "'sex':'female','household':%lld,'relation':'spouse','date':'2020-01-01'}",
              (long long)hh);
        rt_do(&f->t, "{'type':'temporary.register','pid':'" MUM "','address':" ADDR_DN ","
                     "'until':'2027-01-01','date':'2025-08-01'}");
        assert_int_equal(
            reg_residence_confirm(f->t.r, &f->t.ctx, rt_pid(MUM), f->key, &f->conf, &err), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        json_decref(f->conf);
        json_decref(f->jwk);
        rt_close(&f->t);
        free(f);
        return 0;
}

static const char *jws_of(struct fx *f)
{
        return json_string_value(json_object_get(f->conf, "jws"));
}

/* Verifies text; on success returns the result (the caller decrefs), else NULL with *rc set. */
static json_t *verify_on(const char *text, json_t *jwk, const char *today, int *rc,
                         struct pop_err *err)
{
        json_t *out = NULL;
        pop_err_clear(err);
        *rc = reg_confirmation_verify(text, strlen(text), jwk, rt_date(today), &out, err);
        if (*rc) {
                assert_null(out);
                assert_true(err->msg[0] != '\0');
        } else {
                assert_non_null(out);
        }
        return out;
}

/* Must verify as valid today; returns the signed document (a new reference). */
static json_t *verify_valid(const char *text, json_t *jwk)
{
        int rc;
        struct pop_err err = {0};
        json_t *out = verify_on(text, jwk, "2026-11-23", &rc, &err);
        if (rc)
                print_error("verify: %d [%s] %s\n", rc, err.rule, err.msg);
        assert_int_equal(rc, 0);
        assert_true(json_is_true(json_object_get(out, "valid")));
        assert_null(json_object_get(out, "reason"));
        json_t *doc = json_incref(json_object_get(out, "document"));
        json_decref(out);
        return doc;
}

/* Must be refused with code and rule. */
static void verify_refused(const char *text, json_t *jwk, int code, const char *rule)
{
        int rc;
        struct pop_err err = {0};
        json_t *out = verify_on(text, jwk, "2026-11-23", &rc, &err);
        json_decref(out);
        if (rc != code || strcmp(err.rule, rule) != 0)
                print_error("%.200s\n  expected %d [%s], got %d [%s] %s\n", text, code, rule, rc,
                            err.rule, err.msg);
        assert_int_equal(rc, code);
        assert_string_equal(err.rule, rule);
}

/* Must not verify: refused with any error, never a result. */
static void verify_fails(const char *text, size_t len, json_t *jwk)
{
        json_t *out = NULL;
        struct pop_err err = {0};
        int rc = reg_confirmation_verify(text, len, jwk, rt_date("2026-11-23"), &out, &err);
        if (rc == 0)
                print_error("verified: %.200s\n", text);
        assert_true(rc == POP_EVERIFY || rc == POP_EINVAL || rc == POP_ETOOBIG);
        assert_null(out);
        assert_true(err.msg[0] != '\0');
}

/* ---- base64url (RFC 4648 §5, unpadded) and compact JWS parts ---- */

static char *b64_encode(const unsigned char *bin, size_t len)
{
        size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        char *out = malloc(cap);
        assert_non_null(out);
        sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        return out;
}

static unsigned char *b64_decode(const char *s, size_t s_len, size_t *len)
{
        unsigned char *out = malloc(s_len + 1);
        assert_non_null(out);
        assert_int_equal(sodium_base642bin(out, s_len + 1, s, s_len, NULL, len, NULL,
                                           sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                         0);
        return out;
}

/* Splits a compact JWS into its three decoded parts. */
struct jws_parts {
        unsigned char *part[3];
        size_t len[3];
};

static void jws_split(const char *jws, struct jws_parts *p)
{
        const char *seg = jws;
        for (int i = 0; i < 3; i++) {
                const char *end = i < 2 ? strchr(seg, '.') : seg + strlen(seg);
                assert_non_null(end);
                p->part[i] = b64_decode(seg, (size_t)(end - seg), &p->len[i]);
                seg = end + 1;
        }
}

/* Joins three parts (given decoded) into a compact JWS; the caller frees it. */
static char *jws_join(const unsigned char *const part[3], const size_t len[3])
{
        char *enc[3];
        size_t n = 3;
        for (int i = 0; i < 3; i++) {
                enc[i] = b64_encode(part[i], len[i]);
                n += strlen(enc[i]);
        }
        char *out = malloc(n);
        assert_non_null(out);
        snprintf(out, n, "%s.%s.%s", enc[0], enc[1], enc[2]);
        for (int i = 0; i < 3; i++)
                free(enc[i]);
        return out;
}

static void jws_free(struct jws_parts *p)
{
        for (int i = 0; i < 3; i++)
                free(p->part[i]);
}

/* Signs payload with key under a header of the given alg (and kid, when not NULL). */
static char *sign_with(cjose_jwk_t *key, const char *alg, const char *kid, const char *payload)
{
        cjose_err ce;
        cjose_header_t *hdr = cjose_header_new(&ce);
        assert_non_null(hdr);
        assert_true(cjose_header_set(hdr, CJOSE_HDR_ALG, alg, &ce));
        if (kid)
                assert_true(cjose_header_set(hdr, CJOSE_HDR_KID, kid, &ce));
        cjose_jws_t *jws = cjose_jws_sign(key, hdr, (const uint8_t *)payload, strlen(payload), &ce);
        if (!jws)
                print_error("cjose_jws_sign(%s): %s\n", alg, ce.message);
        assert_non_null(jws);
        const char *compact = NULL;
        assert_true(cjose_jws_export(jws, &compact, &ce));
        char *out = strdup(compact);
        cjose_jws_release(jws);
        cjose_header_release(hdr);
        return out;
}

/* The registry's private key, read from its key file. */
static cjose_jwk_t *registry_key(struct fx *f)
{
        char buf[4096];
        FILE *fp = fopen(f->key, "rb");
        assert_non_null(fp);
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        cjose_err ce;
        cjose_jwk_t *k = cjose_jwk_import(buf, n, &ce);
        assert_non_null(k);
        return k;
}

/* ---- the key ---- */

static void test_key_file(void **state)
{
        struct fx *f = *state;
        struct stat sb;
        assert_int_equal(stat(f->key, &sb), 0);
        assert_true(S_ISREG(sb.st_mode));
        assert_int_equal(sb.st_mode & 07777, 0600);

        /* 0600 even under a permissive umask. */
        char other[600], uri[700];
        tu_path(other, sizeof other, "other.db");
        snprintf(uri, sizeof uri, "sqlite:%s", other);
        assert_int_equal(reg_init(uri, "Other Registry", NULL), 0);
        char other_key[600];
        tu_path(other_key, sizeof other_key, "other.key");
        mode_t old = umask(0);
        int rc = reg_key_init(uri, other_key, NULL);
        umask(old);
        assert_int_equal(rc, 0);
        assert_int_equal(stat(other_key, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0600);

        /* Init again: the existing key is kept (it matches); never overwritten. */
        char before[4096], after[4096];
        FILE *fp = fopen(f->key, "rb");
        size_t n1 = fread(before, 1, sizeof before, fp);
        fclose(fp);
        struct pop_err err = {0};
        assert_int_equal(reg_key_init(f->t.uri, f->key, &err), 0);
        fp = fopen(f->key, "rb");
        size_t n2 = fread(after, 1, sizeof after, fp);
        fclose(fp);
        assert_int_equal(n1, n2);
        assert_memory_equal(before, after, n1);
        /* Another registry's key file is refused. */
        assert_int_equal(reg_key_init(f->t.uri, other_key, &err), POP_EVERIFY);
        assert_string_equal(err.rule, "key-mismatch");
        /* A key file that cannot be created. */
        assert_int_equal(reg_key_init(f->t.uri, "/nonexistent-dir/registry.key", &err), POP_EIO);
        assert_string_equal(err.rule, "key-write");

        /* The public JWK: P-256, no private part, kid the RFC 7638 thumbprint. */
        assert_string_equal(rt_str(f->jwk, "kty", NULL), "EC");
        assert_string_equal(rt_str(f->jwk, "crv", NULL), "P-256");
        assert_string_equal(rt_str(f->jwk, "alg", NULL), "ES256");
        assert_string_equal(rt_str(f->jwk, "use", NULL), "sig");
        assert_null(json_object_get(f->jwk, "d"));
        char canon[512];
        snprintf(canon, sizeof canon,
                 "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                 rt_str(f->jwk, "x", NULL), rt_str(f->jwk, "y", NULL));
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)canon, strlen(canon));
        char *kid = b64_encode(h, sizeof h);
        assert_string_equal(rt_str(f->jwk, "kid", NULL), kid);
        free(kid);
}

/* ---- the document and its verification ---- */

static void test_document(void **state)
{
        struct fx *f = *state;
        json_t *doc = json_object_get(f->conf, "document");
        assert_string_equal(rt_str(doc, "type", NULL), "residence-confirmation");
        assert_string_equal(rt_str(doc, "form", NULL), "CT07");
        assert_string_equal(rt_str(doc, "issuer", NULL), "Test Registry");
        assert_string_equal(rt_str(doc, "issued", NULL), "2026-11-23");
        /* Valid for one year (Circular 55/2021 art. 17, as amended by Circular 66/2023). */
        assert_string_equal(rt_str(doc, "valid_until", NULL), "2027-11-23");
        assert_string_equal(rt_str(doc, "subject", "pid", NULL), MUM);
        assert_string_equal(rt_str(doc, "subject", "full_name", NULL), "Lê Thị Mai");
        assert_string_equal(rt_str(doc, "subject", "dob", NULL), "1982-05-10");
        assert_string_equal(rt_str(doc, "subject", "status", NULL), "living");
        assert_string_equal(rt_str(doc, "permanent", "relation", NULL), "spouse");
        assert_string_equal(rt_str(doc, "temporary", "address", "commune", NULL), "20194");
        assert_int_equal(json_array_size(json_object_get(doc, "history")), 2);
        assert_true(json_integer_value(json_object_get(doc, "basis_seq")) > 0);
        assert_non_null(rt_str(doc, "id", NULL));

        /* The header: ES256 with the registry's kid. */
        struct jws_parts p;
        jws_split(jws_of(f), &p);
        json_t *hdr = json_loadb((const char *)p.part[0], p.len[0], 0, NULL);
        assert_string_equal(rt_str(hdr, "alg", NULL), "ES256");
        assert_string_equal(rt_str(hdr, "kid", NULL), rt_str(f->jwk, "kid", NULL));
        json_decref(hdr);
        assert_int_equal(p.len[2], 64); /* R || S, RFC 7518 §3.4 */
        jws_free(&p);

        /* Two confirmations differ in their id. */
        json_t *again = NULL;
        assert_int_equal(
            reg_residence_confirm(f->t.r, &f->t.ctx, rt_pid(MUM), f->key, &again, NULL), 0);
        assert_string_not_equal(rt_str(again, "document", "id", NULL), rt_str(doc, "id", NULL));
        json_decref(again);
}

static void test_verify(void **state)
{
        struct fx *f = *state;
        /* The whole confirmation, with the registry's key. */
        char *text = json_dumps(f->conf, JSON_INDENT(2));
        json_t *doc = verify_valid(text, f->jwk);
        rt_assert_json_equal(json_object_get(f->conf, "document"), doc);
        json_decref(doc);
        /* Trailing newline, as a file has. */
        size_t n = strlen(text);
        char *nl = malloc(n + 3);
        snprintf(nl, n + 3, "%s\r\n", text);
        json_decref(verify_valid(nl, f->jwk));
        free(nl);
        free(text);
        /* The bare compact JWS. */
        doc = verify_valid(jws_of(f), f->jwk);
        rt_assert_json_equal(json_object_get(f->conf, "document"), doc);
        json_decref(doc);

        /* A third party with the exported public JWK only (written out and read back). */
        char *exported = json_dumps(f->jwk, JSON_COMPACT);
        json_t *theirs = json_loads(exported, 0, NULL);
        free(exported);
        json_decref(verify_valid(jws_of(f), theirs));
        /* Even without the optional members. */
        json_object_del(theirs, "kid");
        json_object_del(theirs, "use");
        json_object_del(theirs, "alg");
        json_decref(verify_valid(jws_of(f), theirs));
        json_decref(theirs);

        /* Another registry's key does not verify it. */
        cjose_err ce;
        cjose_jwk_t *k = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
        char *pub = cjose_jwk_to_json(k, false, &ce);
        json_t *stranger = json_loads(pub, 0, NULL);
        free(pub);
        cjose_jwk_release(k);
        verify_refused(jws_of(f), stranger, POP_EVERIFY, "signature-invalid");
        json_decref(stranger);
}

/* Valid for one year from issue: on the last day still, the day after not. */
static void test_expiry(void **state)
{
        struct fx *f = *state;
        static const struct {
                const char *today;
                int valid;
        } cases[] = {
            {"2026-11-23", 1}, {"2027-11-22", 1}, {"2027-11-23", 1},
            {"2027-11-24", 0}, {"2030-01-01", 0},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                int rc;
                struct pop_err err = {0};
                json_t *out = verify_on(jws_of(f), f->jwk, cases[i].today, &rc, &err);
                assert_int_equal(rc, 0);
                assert_int_equal(json_is_true(json_object_get(out, "valid")), cases[i].valid);
                if (!cases[i].valid)
                        assert_string_equal(rt_str(out, "reason", NULL), "expired");
                json_decref(out);
        }
        /* A confirmation made on 29 February lasts to 1 March of the next year. */
        f->t.ctx.today = rt_date("2028-02-29");
        json_t *leap = NULL;
        assert_int_equal(reg_residence_confirm(f->t.r, &f->t.ctx, rt_pid(MUM), f->key, &leap, NULL),
                         0);
        assert_string_equal(rt_str(leap, "document", "valid_until", NULL), "2029-03-01");
        json_decref(leap);
}

/* Any changed byte of the signed payload breaks the signature. */
static void test_tamper_payload(void **state)
{
        struct fx *f = *state;
        struct jws_parts p;
        jws_split(jws_of(f), &p);
        const unsigned char *part[3] = {p.part[0], p.part[1], p.part[2]};
        unsigned char *changed = malloc(p.len[1]);
        for (size_t i = 0; i < p.len[1]; i++) {
                memcpy(changed, p.part[1], p.len[1]);
                changed[i] ^= 0x01;
                part[1] = changed;
                char *jws = jws_join(part, p.len);
                verify_refused(jws, f->jwk, POP_EVERIFY, "signature-invalid");
                free(jws);
        }
        /* A byte cut off or added. */
        size_t len[3] = {p.len[0], p.len[1] - 1, p.len[2]};
        part[1] = p.part[1];
        char *jws = jws_join(part, len);
        verify_refused(jws, f->jwk, POP_EVERIFY, "signature-invalid");
        free(jws);
        unsigned char *longer = malloc(p.len[1] + 1);
        memcpy(longer, p.part[1], p.len[1]);
        longer[p.len[1]] = ' ';
        len[1] = p.len[1] + 1;
        part[1] = longer;
        jws = jws_join(part, len);
        verify_refused(jws, f->jwk, POP_EVERIFY, "signature-invalid");
        free(jws);
        free(longer);
        free(changed);
        jws_free(&p);

        /* The readable copy of the document must be what was signed. */
        json_t *forged = json_deep_copy(f->conf);
        json_object_set_new(json_object_get(json_object_get(forged, "document"), "subject"),
                            "full_name", json_string("Lê Thị Mây"));
        char *text = json_dumps(forged, 0);
        verify_refused(text, f->jwk, POP_EVERIFY, "document-altered");
        free(text);
        json_object_set_new(json_object_get(forged, "document"), "valid_until",
                            json_string("2099-01-01"));
        json_object_set_new(json_object_get(forged, "document"), "subject", json_null());
        text = json_dumps(forged, 0);
        verify_refused(text, f->jwk, POP_EVERIFY, "document-altered");
        free(text);
        json_decref(forged);
}

/* Any changed byte of the signature, or another document's signature, fails. */
static void test_tamper_signature(void **state)
{
        struct fx *f = *state;
        struct jws_parts p;
        jws_split(jws_of(f), &p);
        const unsigned char *part[3] = {p.part[0], p.part[1], p.part[2]};
        unsigned char sig[64];
        assert_int_equal(p.len[2], sizeof sig);
        for (size_t i = 0; i < sizeof sig; i++) {
                memcpy(sig, p.part[2], sizeof sig);
                sig[i] ^= 0x80;
                part[2] = sig;
                char *jws = jws_join(part, p.len);
                verify_refused(jws, f->jwk, POP_EVERIFY, "signature-invalid");
                free(jws);
        }
        /* Too short, too long, all zero. */
        size_t len[3] = {p.len[0], p.len[1], 63};
        part[2] = p.part[2];
        char *jws = jws_join(part, len);
        verify_fails(jws, strlen(jws), f->jwk);
        free(jws);
        unsigned char big[65] = {0};
        memcpy(big, p.part[2], 64);
        len[2] = sizeof big;
        part[2] = big;
        jws = jws_join(part, len);
        verify_fails(jws, strlen(jws), f->jwk);
        free(jws);
        memset(sig, 0, sizeof sig);
        part[2] = sig;
        jws = jws_join(part, p.len);
        verify_fails(jws, strlen(jws), f->jwk);
        free(jws);

        /* The same 64 octets with the spare bits of the last character set (RFC 4648 §3.5):
         * only the canonical encoding verifies. */
        const char *orig = jws_of(f);
        size_t n = strlen(orig);
        char *variant = strdup(orig);
        static const char b64url[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (const char *c = b64url; *c; c++) {
                variant[n - 1] = *c;
                if (*c == orig[n - 1])
                        json_decref(verify_valid(variant, f->jwk));
                else
                        verify_fails(variant, n, f->jwk);
        }
        free(variant);

        /* The signature of another confirmation (of DAD) on MUM's payload. */
        json_t *other = NULL;
        assert_int_equal(
            reg_residence_confirm(f->t.r, &f->t.ctx, rt_pid(DAD), f->key, &other, NULL), 0);
        struct jws_parts q;
        jws_split(json_string_value(json_object_get(other, "jws")), &q);
        part[2] = q.part[2];
        jws = jws_join(part, p.len);
        verify_refused(jws, f->jwk, POP_EVERIFY, "signature-invalid");
        free(jws);
        jws_free(&q);
        json_decref(other);
        jws_free(&p);
}

/* The header is signed too: any changed byte, or another alg claimed, fails. */
static void test_tamper_header(void **state)
{
        struct fx *f = *state;
        struct jws_parts p;
        jws_split(jws_of(f), &p);
        const unsigned char *part[3] = {p.part[0], p.part[1], p.part[2]};
        unsigned char *changed = malloc(p.len[0]);
        for (size_t i = 0; i < p.len[0]; i++) {
                memcpy(changed, p.part[0], p.len[0]);
                changed[i] ^= 0x01;
                part[0] = changed;
                char *jws = jws_join(part, p.len);
                verify_fails(jws, strlen(jws), f->jwk);
                free(jws);
        }
        free(changed);
        static const char *const headers[] = {
            "{\"alg\":\"none\"}",
            "{\"alg\":\"HS256\"}",
            "{\"alg\":\"ES384\"}",
            "{\"alg\":\"ES512\"}",
            "{\"alg\":\"RS256\"}",
            "{\"alg\":\"PS256\"}",
            "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}",
            "{\"typ\":\"JOSE\"}",
            "{}",
            "[]",
            "\"ES256\"",
            "not json",
        };
        for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
                size_t len[3] = {strlen(headers[i]), p.len[1], p.len[2]};
                part[0] = (const unsigned char *)headers[i];
                char *jws = jws_join(part, len);
                verify_fails(jws, strlen(jws), f->jwk);
                free(jws);
        }
        jws_free(&p);
}

/* Tokens properly signed, but not by the registry's ES256 key. */
static void test_wrong_alg(void **state)
{
        struct fx *f = *state;
        struct jws_parts p;
        jws_split(jws_of(f), &p);
        char *payload = strndup((const char *)p.part[1], p.len[1]);
        jws_free(&p);
        const char *kid = rt_str(f->jwk, "kid", NULL);
        cjose_err ce;

        /* HS256 keyed with the public key's own text: the classic algorithm confusion. */
        char *pub = json_dumps(f->jwk, JSON_COMPACT | JSON_SORT_KEYS);
        cjose_jwk_t *oct = cjose_jwk_create_oct_spec((const uint8_t *)pub, strlen(pub), &ce);
        assert_non_null(oct);
        char *jws = sign_with(oct, CJOSE_HDR_ALG_HS256, kid, payload);
        verify_fails(jws, strlen(jws), f->jwk);
        /* Refused for its algorithm (RFC 8725 §3.1), before any HMAC is computed. */
        verify_refused(jws, f->jwk, POP_EVERIFY, "signature-invalid");
        free(jws);
        cjose_jwk_release(oct);
        /* And keyed with the x coordinate's bytes. */
        const char *x = rt_str(f->jwk, "x", NULL);
        oct = cjose_jwk_create_oct_spec((const uint8_t *)x, strlen(x), &ce);
        jws = sign_with(oct, CJOSE_HDR_ALG_HS256, kid, payload);
        verify_fails(jws, strlen(jws), f->jwk);
        free(jws);
        cjose_jwk_release(oct);
        free(pub);

        /* ES384 with a P-384 key, ES256 with another P-256 key claiming the registry's kid. */
        cjose_jwk_t *k384 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_384, &ce);
        jws = sign_with(k384, CJOSE_HDR_ALG_ES384, kid, payload);
        verify_fails(jws, strlen(jws), f->jwk);
        free(jws);
        cjose_jwk_release(k384);
        cjose_jwk_t *k256 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
        jws = sign_with(k256, CJOSE_HDR_ALG_ES256, kid, payload);
        verify_refused(jws, f->jwk, POP_EVERIFY, "signature-invalid");
        free(jws);
        cjose_jwk_release(k256);

        /* alg none, with an empty and with a non-empty signature. */
        char *none_hdr = b64_encode((const unsigned char *)"{\"alg\":\"none\"}", 14);
        char *body = b64_encode((const unsigned char *)payload, strlen(payload));
        char buf[4096];
        snprintf(buf, sizeof buf, "%s.%s.", none_hdr, body);
        verify_fails(buf, strlen(buf), f->jwk);
        snprintf(buf, sizeof buf, "%s.%s.AAAA", none_hdr, body);
        verify_fails(buf, strlen(buf), f->jwk);
        free(none_hdr);
        free(body);

        /* The registry's own key and alg, but a payload that is not a confirmation. */
        cjose_jwk_t *reg_key = registry_key(f);
        /* Its key, but the header names another key: refused as such. */
        jws = sign_with(reg_key, CJOSE_HDR_ALG_ES256, "another-key", payload);
        verify_refused(jws, f->jwk, POP_EVERIFY, "key-mismatch");
        free(jws);
        /* A key id with a terminal escape and UTF-8 past the message's cut: not echoed, the
         * message stays printable and valid UTF-8 (it goes to stderr and into JSON). */
        jws = sign_with(reg_key, CJOSE_HDR_ALG_ES256,
                        "\x1b[2J\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
                        payload);
        {
                int rc;
                struct pop_err err = {0};
                json_t *out = verify_on(jws, f->jwk, "2026-11-23", &rc, &err);
                json_decref(out);
                assert_int_equal(rc, POP_EVERIFY);
                assert_string_equal(err.rule, "key-mismatch");
                for (const char *c = err.msg; *c; c++)
                        assert_true((unsigned char)*c >= 0x20 && (unsigned char)*c != 0x7f);
                json_t *m = json_string(err.msg);
                assert_non_null(m); /* valid UTF-8 */
                json_decref(m);
        }
        free(jws);
        jws = sign_with(reg_key, CJOSE_HDR_ALG_ES256, kid, "not json");
        verify_refused(jws, f->jwk, POP_EVERIFY, "document-invalid");
        free(jws);
        jws = sign_with(reg_key, CJOSE_HDR_ALG_ES256, kid, "{\"valid_until\":\"someday\"}");
        verify_refused(jws, f->jwk, POP_EVERIFY, "document-invalid");
        free(jws);
        jws = sign_with(reg_key, CJOSE_HDR_ALG_ES256, kid, "[]");
        verify_refused(jws, f->jwk, POP_EVERIFY, "document-invalid");
        free(jws);
        cjose_jwk_release(reg_key);
        free(payload);
}

/* ---- refusals and garbage ---- */

static void test_confirm_refusals(void **state)
{
        struct fx *f = *state;
        struct reg *r = f->t.r;
        const struct reg_ctx *ctx = &f->t.ctx;
        json_t *out = NULL;
        struct pop_err err = {0};

        assert_int_equal(reg_residence_confirm(r, ctx, rt_pid("001090099999"), f->key, &out, &err),
                         POP_ENOTFOUND);
        assert_string_equal(err.rule, "person-not-found");
        assert_null(out);

        /* Never registered anywhere: nothing to confirm. */
        rt_do(&f->t, "{'type':'enrol','pid':'" LAN "','name':'Nguyễn Thị Lan',"
                     "'dob':'1995-09-20','sex':'female'}");
        assert_int_equal(reg_residence_confirm(r, ctx, rt_pid(LAN), f->key, &out, &err), POP_ERULE);
        assert_string_equal(err.rule, "residence-none");
        assert_null(out);

        /* Deceased. */
        rt_do(&f->t, "{'type':'death','pid':'" DAD "','new_head':'" MUM "'}");
        assert_int_equal(reg_residence_confirm(r, ctx, rt_pid(DAD), f->key, &out, &err), POP_ERULE);
        assert_string_equal(err.rule, "person-deceased");
        assert_null(out);

        /* No longer resident, but with places on record: those are confirmed (art. 17(2)). */
        rt_do(&f->t, "{'type':'residence.deregister','pid':'" MUM "','reason':'emigrated'}");
        rt_do(&f->t, "{'type':'temporary.deregister','pid':'" MUM "'}");
        assert_int_equal(reg_residence_confirm(r, ctx, rt_pid(MUM), f->key, &out, &err), 0);
        assert_true(json_is_null(rt_get(out, "document", "permanent", NULL)));
        assert_true(json_is_null(rt_get(out, "document", "temporary", NULL)));
        assert_int_equal(json_array_size(rt_get(out, "document", "history", NULL)), 2);
        json_decref(verify_valid(json_string_value(json_object_get(out, "jws")), f->jwk));
        json_decref(out);
        out = NULL;

        /* The key file is missing. */
        char missing[600];
        tu_path(missing, sizeof missing, "missing.key");
        assert_int_equal(reg_residence_confirm(r, ctx, rt_pid(MUM), missing, &out, &err), POP_EIO);
        assert_string_equal(err.rule, "key-missing");
        assert_null(out);

        /* A registry that never got a signing key. */
        struct rt bare;
        rt_create(&bare, "bare.db", "sqlite:");
        json_t *jwk = NULL;
        assert_int_equal(reg_public_jwk(bare.r, &jwk, &err), POP_ENOTFOUND);
        assert_string_equal(err.rule, "key-missing");
        rt_close(&bare);
}

static void test_garbage(void **state)
{
        struct fx *f = *state;
        static const char *const inputs[] = {
            "",
            " ",
            "\n",
            "not a jws",
            "abc",
            "a.b",
            "a.b.c.d",
            "....",
            "AAAA..AAAA",
            ".AAAA.AAAA",
            "AAAA.AAAA.",
            "A.AAAA.AAAA",                           /* a segment of length 1 mod 4 */
            "AAAAA.AAAA.AAAA",                       /* likewise */
            "AAAA.AAAA.AAAA=",                       /* padding */
            "e30=.e30=.AAAA",                        /* padding */
            "e30.e30.AAAA",                          /* header {}: no alg */
            "e30+.e30/.AAAA",                        /* standard base64, not base64url */
            "e30.e30.AA AA",                         /* a space */
            "e30.e30.\xc3\xa9",                      /* UTF-8 */
            "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.AAAA", /* {"alg":"ES256"}, short signature */
            "{",
            "{}",
            "[]",
            "null",
            "{\"jws\": 5}",
            "{\"jws\": null}",
            "{\"jws\": \"x\"}",
            "{\"jws\": \"e30.e30.AAAA\"}",
            "{\"document\": {}}",
            "{\"jws\": \"a.b.c\", \"jws\": \"a.b.c\"}", /* duplicate keys */
            "{\"jws\": \"a.b.c\"} trailing",
            "\xef\xbb\xbf{\"jws\": \"a.b.c\"}", /* a byte order mark */
        };
        for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
                verify_fails(inputs[i], strlen(inputs[i]), f->jwk);
        /* Embedded NUL: only len bytes count, and a NUL is no base64url. */
        const char *jws = jws_of(f);
        size_t n = strlen(jws);
        char *nul = malloc(n + 1);
        memcpy(nul, jws, n + 1);
        nul[n / 2] = '\0';
        verify_fails(nul, n, f->jwk);
        free(nul);
        /* A valid JWS inside a wrong wrapper, or with a wrong document type. */
        char buf[8192];
        snprintf(buf, sizeof buf, "{\"jws\": \"%s\", \"document\": []}", jws);
        verify_refused(buf, f->jwk, POP_EVERIFY, "document-altered");
        snprintf(buf, sizeof buf, "[\"%s\"]", jws);
        verify_fails(buf, strlen(buf), f->jwk);

        /* Over the size cap. */
        size_t big = (1 << 20) + 1;
        char *huge = malloc(big);
        memset(huge, 'A', big);
        json_t *out = NULL;
        struct pop_err err = {0};
        assert_int_equal(reg_confirmation_verify(huge, big, f->jwk, rt_today, &out, &err),
                         POP_ETOOBIG);
        assert_null(out);
        free(huge);

        /* Unusable keys. */
        json_t *bad[] = {json_object(), json_pack("{s:s}", "kty", "EC"), json_string("key"),
                         json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", "AAAA",
                                   "y", "AAAA")};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                pop_err_clear(&err);
                int rc = reg_confirmation_verify(jws, strlen(jws), bad[i], rt_today, &out, &err);
                assert_true(rc == POP_EINVAL || rc == POP_EVERIFY);
                assert_null(out);
                json_decref(bad[i]);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
            T(test_key_file),      T(test_document),       T(test_verify),
            T(test_expiry),        T(test_tamper_payload), T(test_tamper_signature),
            T(test_tamper_header), T(test_wrong_alg),      T(test_confirm_refusals),
            T(test_garbage),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
