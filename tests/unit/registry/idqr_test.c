/*
 * Unit tests of src/registry/idqr.c: the identity QR credential, a compact JWS (ES256) of the
 * fields a citizen chose, verified offline with the registry's public JWK.
 *
 * Covered: field lists (known names, unknown, repeated, empty) and lifetimes (units, bounds);
 * issue and verify round trip with only the chosen fields released, under long names in the
 * output and short claims in the payload; "18 or over" on both sides of the birthday and with a
 * year-only date of birth; expiry and a future issue time with an injected clock; tampering with
 * every character of the payload and the signature; another key; a token of another algorithm
 * (HS256 with the public key as secret, "none"); a confirmation of residence signed by the same
 * key (not an identity QR); unknown or malformed claims under a valid signature; refusals for the
 * dead, unknown people and fields the registry holds no value for; garbage input.
 */
#include "regtest.h"

#include <cjose/cjose.h>
#include <sodium.h>

#include "registry/confirm.h"
#include "registry/idqr.h"

#define AN  "079092026135" /* Nguyễn Văn An, born 1992-05-01, Kinh, hometown Huế */
#define BOY "001208000007" /* Lê Minh, born 2008-11-24: 18 the day after "today" */
#define OLD "001043000008" /* Trần Văn Cả, born 1943 (year only), deceased */

#define ADDR_HN "{'province':'01','commune':'00004','line':'12 Phố Huế'}"

struct fx {
        struct rt t;
        char key[600];
        json_t *jwk; /* the registry's public key */
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
        json_t *res = rt_ok(&f->t, "{'type':'enrol','pid':'" AN "','name':'Nguyễn Văn An',"
                                   "'dob':'1992-05-01','sex':'male','ethnicity':'Kinh',"
                                   "'hometown':'Huế','address':" ADDR_HN ",'date':'2020-01-01'}");
        json_decref(res);
        json_decref(rt_ok(&f->t, "{'type':'enrol','pid':'" BOY "','name':'Lê Minh',"
                                 "'dob':'2008-11-24','sex':'male','address':" ADDR_HN
                                 ",'date':'2020-01-01'}"));
        json_decref(rt_ok(&f->t,
                          "{'type':'enrol','pid':'" OLD "','name':'Trần Văn Cả',"
                          "'dob':'1943','sex':'male','address':" ADDR_HN ",'date':'2020-01-01'}"));
        rt_do(&f->t, "{'type':'death','pid':'" OLD "','date':'2026-01-02'}");
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        json_decref(f->jwk);
        rt_close(&f->t);
        free(f);
        return 0;
}

static unsigned mask_of(const char *list)
{
        unsigned m = 0;
        struct pop_err err = {0};
        if (reg_idqr_fields_parse(list, &m, &err) != 0) {
                print_error("fields '%s': %s\n", list, err.msg);
                fail();
        }
        return m;
}

/* Issues a credential (malloc'ed) for pid with the fields in list, 30 days. */
static char *issue(struct fx *f, const char *pid, const char *list, json_t **released)
{
        char *c = NULL;
        json_t *rel = NULL;
        struct idqr_meta meta;
        struct pop_err err = {0};
        int rc = reg_idqr_issue(f->t.r, &f->t.ctx, rt_pid(pid), mask_of(list), IDQR_TTL_DEFAULT,
                                f->key, &c, &rel, &meta, &err);
        if (rc) {
                print_error("issue %s %s: %s [%s]\n", pid, list, err.msg, err.rule);
                fail();
        }
        assert_int_equal(meta.iat, RT_NOW_MS / 1000);
        assert_int_equal(meta.exp, RT_NOW_MS / 1000 + IDQR_TTL_DEFAULT);
        assert_int_equal(meta.size, (int)strlen(c));
        assert_int_equal(strlen(meta.id), 12);
        if (released)
                *released = rel;
        else
                json_decref(rel);
        return c;
}

static const int64_t now_s = RT_NOW_MS / 1000;

/* Verifies s at `at`; returns the result or NULL with *rc and *err filled. */
static json_t *verify_at(json_t *jwk, const char *s, size_t len, int64_t at, int *rc,
                         struct pop_err *err)
{
        json_t *out = NULL;
        pop_err_clear(err);
        *rc = reg_idqr_verify(s, len, jwk, at, &out, err);
        if (*rc)
                assert_null(out);
        return out;
}

static void expect_refused(json_t *jwk, const char *s, size_t len, int64_t at, int code,
                           const char *rule)
{
        int rc;
        struct pop_err err;
        json_t *out = verify_at(jwk, s, len, at, &rc, &err);
        if (rc != code || strcmp(err.rule, rule) != 0) {
                print_error("'%.60s...': rc %d [%s] %s; expected %d [%s]\n", s, rc, err.rule,
                            err.msg, code, rule);
                json_decref(out);
                fail();
        }
        assert_true(err.msg[0] != '\0');
}

static void test_fields_and_ttl(void **state)
{
        (void)state;
        assert_int_equal(mask_of("name,dob,sex"), IDQR_NAME | IDQR_DOB | IDQR_SEX);
        assert_int_equal(mask_of("over18"), IDQR_OVER18);
        assert_int_equal(mask_of("pid,name,dob,sex,nationality,ethnicity,hometown,over18"), 0xff);
        unsigned m;
        struct pop_err err = {0};
        const char *bad[] = {"",     "name,photo", "name,,dob", "name,",  ",name",
                             "Name", "name,name",  "religion",  "address"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                pop_err_clear(&err);
                assert_int_equal(reg_idqr_fields_parse(bad[i], &m, &err), POP_EINVAL);
                assert_string_equal(err.rule, "idqr-field");
                assert_int_equal(m, 0);
        }
        assert_int_equal(reg_idqr_fields_parse("name,photo", &m, &err), POP_EINVAL);
        assert_non_null(strstr(err.msg, "unknown field 'photo'"));

        int64_t s;
        assert_int_equal(reg_idqr_ttl_parse("30d", &s, &err), 0);
        assert_int_equal(s, 30 * 86400);
        assert_int_equal(reg_idqr_ttl_parse("12h", &s, &err), 0);
        assert_int_equal(s, 12 * 3600);
        assert_int_equal(reg_idqr_ttl_parse("90m", &s, &err), 0);
        assert_int_equal(s, 5400);
        assert_int_equal(reg_idqr_ttl_parse("60s", &s, &err), 0);
        assert_int_equal(reg_idqr_ttl_parse("366d", &s, &err), 0);
        const char *bad_ttl[] = {"",    "30",   "d",      "30 d",        "-1d",
                                 "59s", "367d", "30days", "9999999999d", "1.5h"};
        for (size_t i = 0; i < sizeof bad_ttl / sizeof bad_ttl[0]; i++) {
                pop_err_clear(&err);
                assert_int_equal(reg_idqr_ttl_parse(bad_ttl[i], &s, &err), POP_EINVAL);
                assert_string_equal(err.rule, "idqr-ttl");
        }
}

static void test_round_trip(void **state)
{
        struct fx *f = *state;
        json_t *rel = NULL;
        char *c = issue(f, AN, "name,dob,sex", &rel);
        json_t *want = rt_json("{'name':'Nguyễn Văn An','dob':'1992-05-01','sex':'male'}");
        rt_assert_json_equal(want, rel);
        json_decref(want);
        int rc;
        struct pop_err err;
        json_t *out = verify_at(f->jwk, c, strlen(c), now_s, &rc, &err);
        assert_int_equal(rc, 0);
        assert_true(json_is_true(json_object_get(out, "valid")));
        rt_assert_json_equal(rel, json_object_get(out, "claims"));
        assert_string_equal(rt_str(out, "issued", NULL), "2026-11-23T10:00:00Z");
        assert_string_equal(rt_str(out, "expires", NULL), "2026-12-23T10:00:00Z");
        assert_string_equal(rt_str(out, "kid", NULL),
                            json_string_value(json_object_get(f->jwk, "kid")));
        json_decref(out);

        /* The payload holds the short claims and only those chosen. */
        const char *dot1 = strchr(c, '.'), *dot2 = strchr(dot1 + 1, '.');
        unsigned char raw[1024];
        size_t raw_len = 0;
        assert_int_equal(sodium_base642bin(raw, sizeof raw - 1, dot1 + 1, (size_t)(dot2 - dot1 - 1),
                                           NULL, &raw_len, NULL,
                                           sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                         0);
        json_t *payload = json_loadb((const char *)raw, raw_len, 0, NULL);
        assert_non_null(payload);
        assert_string_equal(rt_str(payload, "t", NULL), "id1");
        assert_string_equal(rt_str(payload, "n", NULL), "Nguyễn Văn An");
        assert_string_equal(rt_str(payload, "s", NULL), "m");
        assert_null(json_object_get(payload, "p"));
        assert_int_equal(json_object_size(payload), 7); /* t jti iat exp n d s */
        json_decref(payload);
        /* Surrounding whitespace (a scanner's line end) is ignored. */
        char padded[1024];
        snprintf(padded, sizeof padded, " %s\r\n", c);
        out = verify_at(f->jwk, padded, strlen(padded), now_s, &rc, &err);
        assert_int_equal(rc, 0);
        json_decref(out);
        json_decref(rel);
        free(c);

        /* Every field. */
        c = issue(f, AN, "pid,name,dob,sex,nationality,ethnicity,hometown,over18", &rel);
        out = verify_at(f->jwk, c, strlen(c), now_s, &rc, &err);
        assert_int_equal(rc, 0);
        want = rt_json("{'pid':'" AN "','name':'Nguyễn Văn An','dob':'1992-05-01',"
                       "'sex':'male','nationality':'VNM','ethnicity':'Kinh',"
                       "'hometown':'Huế','over18':true}");
        rt_assert_json_equal(want, json_object_get(out, "claims"));
        json_decref(want);
        json_decref(out);
        json_decref(rel);
        free(c);
}

static void test_over18(void **state)
{
        struct fx *f = *state;
        json_t *rel = NULL;
        /* Born 2008-11-24: 17 on 2026-11-23, 18 the next day (Civil Code 2015 art. 20). */
        char *c = issue(f, BOY, "over18", &rel);
        assert_true(json_is_false(json_object_get(rel, "over18")));
        json_decref(rel);
        free(c);
        f->t.ctx.today = rt_date("2026-11-24");
        c = issue(f, BOY, "over18", &rel);
        assert_true(json_is_true(json_object_get(rel, "over18")));
        json_decref(rel);
        free(c);
        f->t.ctx.today = rt_today;
}

static void test_expiry(void **state)
{
        struct fx *f = *state;
        char *c = issue(f, AN, "name", NULL);
        int rc;
        struct pop_err err;
        const int64_t exp = now_s + IDQR_TTL_DEFAULT;
        json_t *out = verify_at(f->jwk, c, strlen(c), exp - 1, &rc, &err);
        assert_int_equal(rc, 0);
        json_decref(out);
        expect_refused(f->jwk, c, strlen(c), exp, POP_EVERIFY, "credential-expired");
        expect_refused(f->jwk, c, strlen(c), exp + 86400, POP_EVERIFY, "credential-expired");
        /* A verifier's clock may lag the registry's by IDQR_CLOCK_SKEW, not more. */
        out = verify_at(f->jwk, c, strlen(c), now_s - IDQR_CLOCK_SKEW, &rc, &err);
        assert_int_equal(rc, 0);
        json_decref(out);
        expect_refused(f->jwk, c, strlen(c), now_s - IDQR_CLOCK_SKEW - 1, POP_EVERIFY,
                       "credential-not-yet-valid");
        free(c);

        /* A custom lifetime. */
        char *c2 = NULL;
        json_t *rel = NULL;
        struct idqr_meta meta;
        assert_int_equal(reg_idqr_issue(f->t.r, &f->t.ctx, rt_pid(AN), IDQR_NAME, 3600, f->key, &c2,
                                        &rel, &meta, &err),
                         0);
        assert_int_equal(meta.exp - meta.iat, 3600);
        expect_refused(f->jwk, c2, strlen(c2), now_s + 3600, POP_EVERIFY, "credential-expired");
        json_decref(rel);
        free(c2);
        assert_int_equal(reg_idqr_issue(f->t.r, &f->t.ctx, rt_pid(AN), IDQR_NAME, 10, f->key, &c2,
                                        &rel, &meta, &err),
                         POP_EINVAL);
        assert_null(c2);
}

static void test_tamper(void **state)
{
        struct fx *f = *state;
        char *c = issue(f, AN, "pid,name,dob,sex", NULL);
        size_t len = strlen(c);
        char *t = malloc(len + 1);
        const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        /* Any character changed, in the header, the payload or the signature. */
        for (size_t i = 0; i < len; i++) {
                if (c[i] == '.')
                        continue;
                memcpy(t, c, len + 1);
                t[i] = strchr(alphabet, c[i])[1] ? strchr(alphabet, c[i])[1] : 'A';
                int rc;
                struct pop_err err;
                json_t *out = verify_at(f->jwk, t, len, now_s, &rc, &err);
                if (rc == 0) {
                        print_error("changed character %zu verified: %s\n", i, t);
                        json_decref(out);
                        fail();
                }
                assert_true(rc == POP_EVERIFY || rc == POP_EINVAL);
        }
        /* The payload swapped for another person's, the signature kept. */
        char *other = issue(f, BOY, "pid,name,dob,sex", NULL);
        const char *d1 = strchr(c, '.'), *d2 = strrchr(c, '.');
        const char *o1 = strchr(other, '.'), *o2 = strrchr(other, '.');
        char mix[2048];
        snprintf(mix, sizeof mix, "%.*s%.*s%s", (int)(d1 - c), c, (int)(o2 - o1), o1, d2);
        expect_refused(f->jwk, mix, strlen(mix), now_s, POP_EVERIFY, "signature-invalid");
        /* Truncated, or a signature with a spare octet. */
        expect_refused(f->jwk, c, len - 2, now_s, POP_EVERIFY, "signature-invalid");
        snprintf(mix, sizeof mix, "%sAA", c);
        expect_refused(f->jwk, mix, strlen(mix), now_s, POP_EVERIFY, "signature-invalid");
        free(other);
        free(t);
        free(c);
}

/* Signs payload with jwk under alg (a compact JWS, malloc'ed). */
static char *sign_with(cjose_jwk_t *jwk, const char *alg, const char *payload)
{
        cjose_err ce;
        cjose_header_t *h = cjose_header_new(&ce);
        assert_true(cjose_header_set(h, CJOSE_HDR_ALG, alg, &ce));
        cjose_jws_t *jws = cjose_jws_sign(jwk, h, (const uint8_t *)payload, strlen(payload), &ce);
        assert_non_null(jws);
        const char *s = NULL;
        assert_true(cjose_jws_export(jws, &s, &ce));
        char *out = strdup(s);
        cjose_jws_release(jws);
        cjose_header_release(h);
        return out;
}

static cjose_jwk_t *registry_key(struct fx *f)
{
        char buf[4096];
        FILE *kf = fopen(f->key, "rb");
        assert_non_null(kf);
        size_t n = fread(buf, 1, sizeof buf, kf);
        fclose(kf);
        cjose_err ce;
        cjose_jwk_t *k = cjose_jwk_import(buf, n, &ce);
        assert_non_null(k);
        return k;
}

static void test_other_keys_and_types(void **state)
{
        struct fx *f = *state;
        char *c = issue(f, AN, "name", NULL);
        cjose_err ce;
        /* Another P-256 key. */
        cjose_jwk_t *k2 = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
        char *pub2 = cjose_jwk_to_json(k2, false, &ce);
        json_t *jwk2 = json_loads(pub2, 0, NULL);
        expect_refused(jwk2, c, strlen(c), now_s, POP_EVERIFY, "signature-invalid");
        /* Valid claims signed by that other key. */
        char payload[256];
        snprintf(payload, sizeof payload,
                 "{\"t\":\"id1\",\"jti\":\"x\",\"iat\":%lld,\"exp\":%lld,\"n\":\"Nguyễn Văn An\"}",
                 (long long)now_s, (long long)now_s + 60);
        char *forged = sign_with(k2, CJOSE_HDR_ALG_ES256, payload);
        expect_refused(f->jwk, forged, strlen(forged), now_s, POP_EVERIFY, "signature-invalid");
        free(forged);
        /* HS256 with the public key's bytes as the secret: the algorithm is refused. */
        const char *x = json_string_value(json_object_get(f->jwk, "x"));
        cjose_jwk_t *oct = cjose_jwk_create_oct_spec((const uint8_t *)x, strlen(x), &ce);
        forged = sign_with(oct, CJOSE_HDR_ALG_HS256, payload);
        expect_refused(f->jwk, forged, strlen(forged), now_s, POP_EVERIFY, "signature-invalid");
        free(forged);
        /* alg "none" (an empty signature) is malformed. */
        const char *seg = strchr(c, '.') + 1;
        snprintf(payload, sizeof payload, "eyJhbGciOiJub25lIn0.%.*s.", (int)(strrchr(c, '.') - seg),
                 seg);
        expect_refused(f->jwk, payload, strlen(payload), now_s, POP_EINVAL, "credential-malformed");

        /* The registry's own key, but not an identity QR: a residence confirmation's payload,
         * then claims out of the format. */
        cjose_jwk_t *rk = registry_key(f);
        const char *wrong[][2] = {
            {"{\"type\":\"residence-confirmation\"}", "credential-type"},
            {"[1,2]", "credential-type"},
            {"{\"t\":\"id2\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999,\"n\":\"An\"}",
             "credential-type"},
            {"{\"t\":\"id1\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999,\"q\":\"An\"}",
             "credential-invalid"},
            {"{\"t\":\"id1\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999,\"s\":\"x\"}",
             "credential-invalid"},
            {"{\"t\":\"id1\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999,\"p\":\"003000000000\"}",
             "credential-invalid"},
            {"{\"t\":\"id1\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999,\"n\":\" An\"}",
             "credential-invalid"},
            {"{\"t\":\"id1\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999,\"o18\":1}",
             "credential-invalid"},
            {"{\"t\":\"id1\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999}", "credential-invalid"},
            {"{\"t\":\"id1\",\"iat\":1,\"exp\":9999999999,\"n\":\"An\"}", "credential-invalid"},
            {"{\"t\":\"id1\",\"jti\":\"x\",\"iat\":5,\"exp\":5,\"n\":\"An\"}",
             "credential-invalid"},
            {"{\"t\":\"id1\",\"jti\":\"x\",\"iat\":1,\"exp\":9223372036854775807,\"n\":\"An\"}",
             "credential-invalid"},
            {"{\"t\":\"id1\",\"t\":\"id1\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999}",
             "credential-type"},
        };
        for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
                char *s = sign_with(rk, CJOSE_HDR_ALG_ES256, wrong[i][0]);
                expect_refused(f->jwk, s, strlen(s), now_s, POP_EVERIFY, wrong[i][1]);
                free(s);
        }
        /* The same payloads' good twin verifies: the refusals above are the claims' doing. */
        char *good =
            sign_with(rk, CJOSE_HDR_ALG_ES256,
                      "{\"t\":\"id1\",\"jti\":\"x\",\"iat\":1,\"exp\":9999999999,\"n\":\"An\"}");
        int rc;
        struct pop_err err;
        json_t *out = verify_at(f->jwk, good, strlen(good), now_s, &rc, &err);
        assert_int_equal(rc, 0);
        json_decref(out);
        free(good);
        /* A bad JWK. */
        json_t *junk = json_pack("{s:s}", "kty", "oct");
        expect_refused(junk, c, strlen(c), now_s, POP_EINVAL, "key-invalid");
        json_decref(junk);
        cjose_jwk_release(rk);
        cjose_jwk_release(oct);
        cjose_jwk_release(k2);
        free(pub2);
        json_decref(jwk2);
        free(c);
}

static void test_garbage(void **state)
{
        struct fx *f = *state;
        const char *junk[] = {"",
                              "abc",
                              "a.b",
                              "a.b.c.d",
                              "....",
                              "eyJ.eyJ.",
                              "{\"jws\":1}",
                              "079092026135|123456789|Nguyễn Văn An|01051992|Nam|Hà Nội|15082021",
                              "a=.b.c",
                              "A.B.C"};
        for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
                expect_refused(f->jwk, junk[i], strlen(junk[i]), now_s, POP_EINVAL,
                               "credential-malformed");
        char *big = malloc(IDQR_MAX_TEXT + 1);
        memset(big, 'A', IDQR_MAX_TEXT + 1);
        expect_refused(f->jwk, big, IDQR_MAX_TEXT + 1, now_s, POP_ETOOBIG, "credential-too-big");
        free(big);
}

static void test_refusals(void **state)
{
        struct fx *f = *state;
        char *c = NULL;
        json_t *rel = NULL;
        struct idqr_meta meta;
        struct pop_err err = {0};
        assert_int_equal(reg_idqr_issue(f->t.r, &f->t.ctx, rt_pid(OLD), IDQR_NAME, 3600, f->key, &c,
                                        &rel, &meta, &err),
                         POP_ERULE);
        assert_string_equal(err.rule, "person-not-living");
        assert_int_equal(reg_idqr_issue(f->t.r, &f->t.ctx, rt_pid("001090000999"), IDQR_NAME, 3600,
                                        f->key, &c, &rel, &meta, &err),
                         POP_ENOTFOUND);
        /* Lê Minh has no ethnicity or hometown on record. */
        assert_int_equal(reg_idqr_issue(f->t.r, &f->t.ctx, rt_pid(BOY), IDQR_NAME | IDQR_HOMETOWN,
                                        3600, f->key, &c, &rel, &meta, &err),
                         POP_ERULE);
        assert_string_equal(err.rule, "idqr-field-empty");
        assert_non_null(strstr(err.msg, "hometown"));
        assert_int_equal(
            reg_idqr_issue(f->t.r, &f->t.ctx, rt_pid(AN), 0, 3600, f->key, &c, &rel, &meta, &err),
            POP_EINVAL);
        char missing[700];
        tu_path(missing, sizeof missing, "no-such.key");
        assert_int_equal(reg_idqr_issue(f->t.r, &f->t.ctx, rt_pid(AN), IDQR_NAME, 3600, missing, &c,
                                        &rel, &meta, &err),
                         POP_EIO);
        assert_null(c);
        assert_null(rel);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fields_and_ttl),
            cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
            cmocka_unit_test_setup_teardown(test_over18, setup, teardown),
            cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
            cmocka_unit_test_setup_teardown(test_other_keys_and_types, setup, teardown),
            cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
            cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
