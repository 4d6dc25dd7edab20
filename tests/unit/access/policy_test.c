/*
 * Unit tests for the pure parts of src/access/: the field catalogue, the 403 rules
 * (access_check: the grant matrix of every role by every field, purposes, province scopes with
 * legacy codes), the response filter (nested keys, unknown keys, containers, household and
 * search documents, the released list), the rate limiter with an injected clock (single thread
 * and racing threads), the token and Authorization header parsers' edge cases, and the
 * constant-time verification path (current and previous secrets, expiry, disabled clients).
 */
#include "testutil.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"

static const unsigned all_roles[] = {ACCESS_ROLE_REGISTRAR, ACCESS_ROLE_READER,
                                     ACCESS_ROLE_VERIFIER, ACCESS_ROLE_ADMIN};

static struct access_client mk(unsigned roles, uint64_t grants)
{
        struct access_client c;
        memset(&c, 0, sizeof c);
        snprintf(c.id, sizeof c.id, "test-client");
        snprintf(c.name, sizeof c.name, "Test client");
        c.kind = ACCESS_KIND_BANK;
        c.roles = roles;
        c.grants = grants;
        snprintf(c.purposes[0], sizeof c.purposes[0], "kyc");
        snprintf(c.purposes[1], sizeof c.purposes[1], "health-insurance");
        c.n_purposes = 2;
        c.scope.all = true;
        c.rate = 10;
        c.burst = 20;
        return c;
}

static struct access_need need(unsigned role, const char *purpose)
{
        struct access_need n = {.role = role, .purpose = purpose, .province = ACCESS_NO_SUBJECT};
        return n;
}

/* A person as reg_person_json renders it, every key filled. */
static const char person_text[] =
    "{\"pid\": \"001090012345\", \"full_name\": \"Nguyễn Văn An\", \"dob\": \"1990-05-12\","
    " \"sex\": \"male\", \"birth_province\": {\"code\": \"01\", \"name\": \"Hà Nội\"},"
    " \"hometown\": \"Hà Nội\", \"ethnicity\": \"Kinh\", \"religion\": \"\","
    " \"nationality\": \"VNM\", \"father\": \"001060000001\", \"mother\": \"001165000002\","
    " \"spouse\": null, \"status\": \"living\", \"death_date\": null,"
    " \"created_at\": \"2026-01-01T00:00:00Z\", \"updated_at\": \"2026-01-01T00:00:00Z\","
    " \"version\": 7,"
    " \"residence\": {\"permanent\": {\"kind\": \"permanent\", \"household\": 3,"
    "   \"relation\": \"son\", \"address\": {\"province\": {\"code\": \"01\"},"
    "   \"commune\": \"00004\", \"line\": \"12 Phố Huế\"}, \"valid_from\": \"2020-01-01\"},"
    "  \"temporary\": {\"kind\": \"temporary\", \"address\": {\"province\": {\"code\": \"79\"},"
    "   \"commune\": \"26734\", \"line\": \"1 Lê Lợi\"}, \"valid_from\": \"2025-01-01\","
    "   \"valid_to\": \"2027-01-01\"}},"
    " \"cards\": [{\"number\": \"001090012345\", \"issued\": \"2024-01-01\","
    "   \"expires\": \"2030-05-12\", \"status\": \"valid\"}],"
    " \"children\": [\"001220000003\"]}";

/* The top-level keys each field releases from person_text (NULL: none at the top). */
static const char *const person_keys[ACCESS_N_FIELDS][3] = {
    [ACCESS_G_PID] = {"pid"},
    [ACCESS_G_NAME] = {"full_name"},
    [ACCESS_G_DOB] = {"dob"},
    [ACCESS_G_SEX] = {"sex"},
    [ACCESS_G_BIRTH_PROVINCE] = {"birth_province"},
    [ACCESS_G_HOMETOWN] = {"hometown"},
    [ACCESS_G_NATIONALITY] = {"nationality"},
    [ACCESS_G_ETHNICITY] = {"ethnicity"},
    [ACCESS_G_RELIGION] = {"religion"},
    [ACCESS_G_FATHER] = {"father"},
    [ACCESS_G_MOTHER] = {"mother"},
    [ACCESS_G_SPOUSE] = {"spouse"},
    [ACCESS_G_CHILDREN] = {"children"},
    [ACCESS_G_STATUS] = {"status"},
    [ACCESS_G_DEATH_DATE] = {"death_date"},
    [ACCESS_G_PERMANENT_RESIDENCE] = {"residence"},
    [ACCESS_G_TEMPORARY_RESIDENCE] = {"residence"},
    [ACCESS_G_HOUSEHOLD] = {NULL}, /* only inside a residence */
    [ACCESS_G_CARDS] = {"cards"},
    [ACCESS_G_RECORD] = {"created_at", "updated_at", "version"},
};

static json_t *load(const char *text)
{
        json_error_t je;
        json_t *j = json_loads(text, 0, &je);
        if (!j) {
                print_error("bad test JSON: %s at %d\n", je.text, je.position);
                fail();
        }
        return j;
}

static json_t *person(void)
{
        return load(person_text);
}

/* ---- catalogue ---- */

static void test_catalogue(void **state)
{
        (void)state;
        for (int g = 0; g < ACCESS_N_GRANTS; g++) {
                const struct access_grant_info *i = access_grant_info(g);
                assert_non_null(i);
                assert_non_null(i->name);
                assert_true(strlen(i->name) < ACCESS_GRANT_NAMES);
                assert_int_equal(access_grant_lookup(i->name, strlen(i->name)), g);
                assert_true(strcmp(i->group, "call") == 0 ? g >= ACCESS_N_FIELDS
                                                          : g < ACCESS_N_FIELDS);
                for (int h = 0; h < g; h++)
                        assert_string_not_equal(access_grant_info(h)->name, i->name);
        }
        assert_null(access_grant_info(ACCESS_N_GRANTS));
        assert_null(access_grant_info(-1));
        assert_int_equal(access_grant_lookup("nam", 3), -1);
        assert_int_equal(access_grant_lookup("names", 5), -1);
        assert_true(access_grant_info(ACCESS_G_RELIGION)->sensitive);
        assert_true(access_grant_info(ACCESS_G_ETHNICITY)->sensitive);
        assert_false(access_grant_info(ACCESS_G_NAME)->sensitive);

        uint64_t set;
        struct pop_err err = {0};
        assert_int_equal(access_grants_parse("name, dob ,sex,search", &set, &err), 0);
        assert_true(set == (ACCESS_BIT(ACCESS_G_NAME) | ACCESS_BIT(ACCESS_G_DOB) |
                            ACCESS_BIT(ACCESS_G_SEX) | ACCESS_BIT(ACCESS_G_SEARCH)));
        json_t *names = access_grants_json(set);
        char *text = json_dumps(names, JSON_COMPACT);
        assert_string_equal(text, "[\"name\",\"dob\",\"sex\",\"search\"]");
        free(text);
        uint64_t back;
        assert_int_equal(access_grants_from_json(names, &back, &err), 0);
        assert_true(back == set);
        json_decref(names);
        assert_int_equal(access_grants_parse("", &set, &err), 0);
        assert_true(set == 0);
        assert_int_equal(access_grants_parse("name,nme", &set, &err), POP_EINVAL);
        assert_string_equal(err.rule, "grant-unknown");
        assert_non_null(strstr(err.msg, "'nme'"));
        assert_int_equal(access_grants_parse("name,,dob", &set, &err), POP_EINVAL);
        assert_int_equal(access_grants_parse("name,", &set, &err), POP_EINVAL);
        /* Unknown names from a newer version's store release nothing. */
        json_t *future = load("[\"name\", \"biometrics\"]");
        assert_int_equal(access_grants_from_json(future, &back, &err), 0);
        assert_true(back == ACCESS_BIT(ACCESS_G_NAME));
        json_decref(future);
}

/* ---- the grant matrix ---- */

static void test_grant_matrix(void **state)
{
        (void)state;
        struct access_denial d;
        for (size_t r = 0; r < sizeof all_roles / sizeof all_roles[0]; r++) {
                for (int f = 0; f < ACCESS_N_FIELDS; f++) {
                        struct access_client c = mk(all_roles[r], ACCESS_BIT(f));
                        /* Its own role: allowed; every other role: role-missing. */
                        for (size_t o = 0; o < sizeof all_roles / sizeof all_roles[0]; o++) {
                                struct access_need n = need(all_roles[o], "kyc");
                                int rc = access_check(&c, &n, &d);
                                if (o == r) {
                                        assert_int_equal(rc, 0);
                                } else {
                                        assert_int_equal(rc, POP_ERULE);
                                        assert_int_equal(d.status, 403);
                                        assert_string_equal(d.rule, "role-missing");
                                }
                        }
                        /* The field is released, every other one is not. */
                        struct access_need n = need(all_roles[r], "kyc");
                        n.grants = ACCESS_BIT(f);
                        assert_int_equal(access_check(&c, &n, &d), 0);
                        for (int g = 0; g < ACCESS_N_GRANTS; g++) {
                                if (g == f)
                                        continue;
                                n.grants = ACCESS_BIT(g);
                                assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
                                assert_string_equal(d.rule, "grant-missing");
                                assert_non_null(strstr(d.detail, access_grant_info(g)->name));
                        }
                        json_t *p = person();
                        uint64_t rel = access_filter_json(&c, ACCESS_DOC_PERSON, p);
                        size_t want = 0;
                        for (int k = 0; k < 3 && person_keys[f][k]; k++, want++)
                                assert_non_null(json_object_get(p, person_keys[f][k]));
                        assert_int_equal(json_object_size(p), want);
                        assert_true(rel == (want ? ACCESS_BIT(f) : 0));
                        json_decref(p);
                }
        }
}

static void test_roles_combined(void **state)
{
        (void)state;
        struct access_denial d;
        struct access_client c = mk(ACCESS_ROLE_READER | ACCESS_ROLE_VERIFIER, 0);
        struct access_need n = need(ACCESS_ROLE_VERIFIER, "kyc");
        assert_int_equal(access_check(&c, &n, &d), 0);
        n.role = ACCESS_ROLE_REGISTRAR;
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "role-missing");
        assert_non_null(strstr(d.detail, "registrar"));
        /* A disabled client passes nothing, whatever its grants. */
        c.disabled = true;
        n.role = ACCESS_ROLE_READER;
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_int_equal(d.status, 401);
        assert_string_equal(d.rule, "client-disabled");
        json_t *p = person();
        c.grants = ACCESS_FIELDS_ALL;
        assert_true(access_filter_json(&c, ACCESS_DOC_PERSON, p) == 0);
        assert_int_equal(json_object_size(p), 0);
        json_decref(p);
}

/* ---- purposes ---- */

static void test_purposes(void **state)
{
        (void)state;
        struct access_denial d;
        struct access_client c = mk(ACCESS_ROLE_READER, ACCESS_BIT(ACCESS_G_NAME));
        struct access_need n = need(ACCESS_ROLE_READER, NULL);
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "purpose-missing");
        n.purpose = "";
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "purpose-missing");
        n.purpose = "tax";
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "purpose-not-allowed");
        assert_non_null(strstr(d.detail, "'tax'"));
        n.purpose = "health-insurance";
        assert_int_equal(access_check(&c, &n, &d), 0);
        n.purpose = "kyc";
        assert_int_equal(access_check(&c, &n, &d), 0);
        /* Not a purpose code: refused without echoing the request's text. */
        n.purpose = "<script>";
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "purpose-not-allowed");
        assert_null(strstr(d.detail, "<script>"));
        n.purpose = "KYC";
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "purpose-not-allowed");
        /* A call that reads no personal data needs no purpose. */
        n.purpose = NULL;
        n.no_purpose = true;
        assert_int_equal(access_check(&c, &n, &d), 0);
        /* Role is checked before grants, grants before purposes. */
        n = need(ACCESS_ROLE_ADMIN, "tax");
        n.grants = ACCESS_BIT(ACCESS_G_SEARCH);
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "role-missing");
        n.role = ACCESS_ROLE_READER;
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "grant-missing");
        n.grants = 0;
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "purpose-not-allowed");

        struct pop_err err;
        assert_int_equal(access_purpose_check("a", 1, &err), 0);
        assert_int_equal(access_purpose_check("abcdefghijklmnopqrstuvwxyz012345", 32, &err), 0);
        assert_int_equal(access_purpose_check("abcdefghijklmnopqrstuvwxyz0123456", 33, &err),
                         POP_EINVAL);
        assert_int_equal(access_purpose_check("", 0, &err), POP_EINVAL);
        assert_int_equal(access_purpose_check("a_b", 3, &err), POP_EINVAL);
        assert_int_equal(access_purpose_check("thuế", strlen("thuế"), &err), POP_EINVAL);
}

/* ---- province scope ---- */

static void test_scope(void **state)
{
        (void)state;
        struct access_denial d;
        struct access_client c = mk(ACCESS_ROLE_REGISTRAR, 0);
        c.scope.all = false;
        c.scope.bits[0] = ((uint64_t)1 << 1) | ((uint64_t)1 << 8); /* Hà Nội, Tuyên Quang */
        c.scope.bits[1] = (uint64_t)1 << (79 - 64);                /* Hồ Chí Minh City */
        struct access_need n = need(ACCESS_ROLE_REGISTRAR, "kyc");
        n.province = 1;
        assert_int_equal(access_check(&c, &n, &d), 0);
        n.province = 79;
        assert_int_equal(access_check(&c, &n, &d), 0);
        /* Hà Giang (02) was merged into Tuyên Quang (08): a legacy record is in scope. */
        n.province = 2;
        assert_int_equal(access_check(&c, &n, &d), 0);
        n.province = 48; /* Đà Nẵng */
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_int_equal(d.status, 403);
        assert_string_equal(d.rule, "province-out-of-scope");
        /* The detail names no province: that is residence data. */
        assert_null(strstr(d.detail, "48"));
        assert_null(strstr(d.detail, "Đà Nẵng"));
        /* No permanent residence, or an unknown code: out of a limited scope. */
        n.province = 0;
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        assert_string_equal(d.rule, "province-out-of-scope");
        n.province = 99;
        assert_int_equal(access_check(&c, &n, &d), POP_ERULE);
        /* No single subject: the scope does not apply. */
        n.province = ACCESS_NO_SUBJECT;
        assert_int_equal(access_check(&c, &n, &d), 0);
        /* Every province. */
        c.scope.all = true;
        n.province = 0;
        assert_int_equal(access_check(&c, &n, &d), 0);
        n.province = 48;
        assert_int_equal(access_check(&c, &n, &d), 0);
        assert_true(access_scope_has(&c.scope, 48));
        c.scope.all = false;
        assert_false(access_scope_has(&c.scope, 48));
        assert_false(access_scope_has(&c.scope, -1));
        assert_false(access_scope_has(&c.scope, 128));
}

/* ---- the filter ---- */

static void test_filter_nested(void **state)
{
        (void)state;
        /* Permanent residence without household: the household and relation keys go. */
        struct access_client c =
            mk(ACCESS_ROLE_READER,
               ACCESS_BIT(ACCESS_G_NAME) | ACCESS_BIT(ACCESS_G_PERMANENT_RESIDENCE));
        json_t *p = person();
        uint64_t rel = access_filter_json(&c, ACCESS_DOC_PERSON, p);
        assert_true(rel == (ACCESS_BIT(ACCESS_G_NAME) | ACCESS_BIT(ACCESS_G_PERMANENT_RESIDENCE)));
        json_t *perm = json_object_get(json_object_get(p, "residence"), "permanent");
        assert_non_null(perm);
        assert_null(json_object_get(perm, "household"));
        assert_null(json_object_get(perm, "relation"));
        assert_non_null(json_object_get(perm, "address"));
        assert_non_null(json_object_get(perm, "valid_from"));
        assert_null(json_object_get(json_object_get(p, "residence"), "temporary"));
        assert_int_equal(json_object_size(p), 2);
        json_t *names = access_grants_json(rel);
        char *text = json_dumps(names, JSON_COMPACT);
        assert_string_equal(text, "[\"name\",\"permanent_residence\"]");
        free(text);
        json_decref(names);
        json_decref(p);

        /* With household, they stay and household counts as released. */
        c.grants |= ACCESS_BIT(ACCESS_G_HOUSEHOLD);
        p = person();
        rel = access_filter_json(&c, ACCESS_DOC_PERSON, p);
        perm = json_object_get(json_object_get(p, "residence"), "permanent");
        assert_non_null(json_object_get(perm, "household"));
        assert_non_null(json_object_get(perm, "relation"));
        assert_true(rel & ACCESS_BIT(ACCESS_G_HOUSEHOLD));
        json_decref(p);

        /* No residence grant: the residence object goes, its "on" with it. */
        c.grants = ACCESS_BIT(ACCESS_G_NAME) | ACCESS_BIT(ACCESS_G_HOUSEHOLD);
        p = person();
        json_object_set_new(json_object_get(p, "residence"), "on", json_string("2026-01-01"));
        rel = access_filter_json(&c, ACCESS_DOC_PERSON, p);
        assert_null(json_object_get(p, "residence"));
        assert_true(rel == ACCESS_BIT(ACCESS_G_NAME));
        json_decref(p);

        /* Everything granted: nothing goes but keys the catalogue does not know. */
        c.grants = ACCESS_GRANTS_ALL;
        p = person();
        json_t *want = json_deep_copy(p);
        json_object_set_new(p, "internal_note", json_string("do not leak"));
        json_object_set_new(json_object_get(json_object_get(p, "residence"), "permanent"),
                            "officer", json_string("x"));
        rel = access_filter_json(&c, ACCESS_DOC_PERSON, p);
        assert_true(json_equal(p, want));
        assert_true(rel == ACCESS_FIELDS_ALL);
        json_decref(want);
        json_decref(p);

        /* Nothing granted: nothing left. */
        c.grants = 0;
        p = person();
        assert_true(access_filter_json(&c, ACCESS_DOC_PERSON, p) == 0);
        assert_int_equal(json_object_size(p), 0);
        json_decref(p);

        /* A wrong shape under a key with sub-keys is removed, not passed through. */
        c.grants = ACCESS_BIT(ACCESS_G_PERMANENT_RESIDENCE);
        p = load("{\"residence\": \"everything as text\", \"pid\": \"1\"}");
        assert_true(access_filter_json(&c, ACCESS_DOC_PERSON, p) == 0);
        assert_int_equal(json_object_size(p), 0);
        json_decref(p);
        p = load("{\"residence\": {\"permanent\": 5}}");
        assert_true(access_filter_json(&c, ACCESS_DOC_PERSON, p) == 0);
        assert_int_equal(json_object_size(p), 0);
        json_decref(p);
        /* A null residence is the field's value ("none"), so it is released. */
        p = load("{\"residence\": {\"permanent\": null, \"temporary\": null}}");
        assert_true(access_filter_json(&c, ACCESS_DOC_PERSON, p) ==
                    ACCESS_BIT(ACCESS_G_PERMANENT_RESIDENCE));
        assert_true(json_is_null(json_object_get(json_object_get(p, "residence"), "permanent")));
        assert_null(json_object_get(json_object_get(p, "residence"), "temporary"));
        json_decref(p);
}

static const char household_text[] =
    "{\"id\": 3, \"address\": {\"province\": {\"code\": \"01\"}, \"commune\": \"00004\","
    " \"line\": \"12 Phố Huế\"}, \"created\": \"2020-01-01\", \"on\": \"2026-01-01\","
    " \"head\": \"001060000001\", \"members\": ["
    "  {\"pid\": \"001060000001\", \"full_name\": \"Trần Văn Nam\", \"relation\": \"head\","
    "   \"since\": \"2020-01-01\"},"
    "  {\"pid\": \"001090012345\", \"full_name\": \"Nguyễn Văn An\", \"relation\": \"son\","
    "   \"since\": \"2020-01-01\"}]}";

static void test_filter_household(void **state)
{
        (void)state;
        struct access_client c =
            mk(ACCESS_ROLE_READER, ACCESS_FIELDS_ALL & ~ACCESS_BIT(ACCESS_G_HOUSEHOLD));
        json_t *h = load(household_text);
        assert_true(access_filter_json(&c, ACCESS_DOC_HOUSEHOLD, h) == 0);
        assert_int_equal(json_object_size(h), 0);
        json_decref(h);

        /* Household without pid or name: the roster keeps relations and dates only. */
        c.grants = ACCESS_BIT(ACCESS_G_HOUSEHOLD);
        h = load(household_text);
        assert_true(access_filter_json(&c, ACCESS_DOC_HOUSEHOLD, h) ==
                    ACCESS_BIT(ACCESS_G_HOUSEHOLD));
        assert_null(json_object_get(h, "head"));
        json_t *m = json_object_get(h, "members");
        assert_int_equal(json_array_size(m), 2);
        for (size_t i = 0; i < 2; i++) {
                json_t *e = json_array_get(m, i);
                assert_null(json_object_get(e, "pid"));
                assert_null(json_object_get(e, "full_name"));
                assert_non_null(json_object_get(e, "relation"));
        }
        assert_non_null(json_object_get(h, "on"));
        json_decref(h);

        c.grants = ACCESS_BIT(ACCESS_G_HOUSEHOLD) | ACCESS_BIT(ACCESS_G_PID);
        h = load(household_text);
        uint64_t rel = access_filter_json(&c, ACCESS_DOC_HOUSEHOLD, h);
        assert_true(rel == (ACCESS_BIT(ACCESS_G_HOUSEHOLD) | ACCESS_BIT(ACCESS_G_PID)));
        assert_non_null(json_object_get(h, "head"));
        assert_null(json_object_get(json_array_get(json_object_get(h, "members"), 0), "full_name"));
        json_decref(h);
}

static const char search_text[] =
    "{\"results\": [{\"pid\": \"001090012345\", \"name\": \"Nguyễn Văn An\","
    " \"dob\": \"1990-05-12\", \"sex\": \"male\", \"status\": \"living\","
    " \"province\": {\"code\": \"01\", \"name\": \"Hà Nội\"}},"
    " {\"pid\": \"001090012346\", \"name\": \"Nguyễn Văn An\", \"dob\": \"1990\","
    " \"sex\": \"male\", \"status\": \"living\", \"province\": null}],"
    " \"next\": \"cursor\"}";

static void test_filter_search(void **state)
{
        (void)state;
        struct access_client c = mk(ACCESS_ROLE_READER, ACCESS_FIELDS_ALL);
        json_t *s = load(search_text);
        assert_true(access_filter_json(&c, ACCESS_DOC_SEARCH, s) == 0);
        assert_int_equal(json_object_size(s), 0);
        json_decref(s);

        c.grants =
            ACCESS_BIT(ACCESS_G_SEARCH) | ACCESS_BIT(ACCESS_G_PID) | ACCESS_BIT(ACCESS_G_DOB);
        s = load(search_text);
        uint64_t rel = access_filter_json(&c, ACCESS_DOC_SEARCH, s);
        assert_true(rel == (ACCESS_BIT(ACCESS_G_PID) | ACCESS_BIT(ACCESS_G_DOB)));
        json_t *r = json_object_get(s, "results");
        assert_int_equal(json_array_size(r), 2);
        assert_int_equal(json_object_size(json_array_get(r, 0)), 2);
        assert_null(json_object_get(json_array_get(r, 0), "name"));
        assert_null(json_object_get(json_array_get(r, 0), "province"));
        assert_string_equal(json_string_value(json_object_get(s, "next")), "cursor");
        json_decref(s);

        /* Search alone releases no field; results left empty go, the cursor stays. */
        c.grants = ACCESS_BIT(ACCESS_G_SEARCH);
        s = load(search_text);
        assert_true(access_filter_json(&c, ACCESS_DOC_SEARCH, s) == 0);
        assert_null(json_object_get(s, "results"));
        assert_non_null(json_object_get(s, "next"));
        json_decref(s);

        /* Not an object: nothing to release. */
        json_t *arr = json_array();
        assert_true(access_filter_json(&c, ACCESS_DOC_SEARCH, arr) == 0);
        json_decref(arr);
}

/* ---- the rate limiter ---- */

#define S_NS 1000000000LL

static void test_limiter(void **state)
{
        (void)state;
        struct access_limiter *l;
        struct pop_err err = {0};
        struct access_denial d;
        assert_int_equal(access_limiter_new(2, &l, &err), 0);
        struct access_client c = mk(ACCESS_ROLE_READER, 0);
        c.rate = 1;
        c.burst = 3;
        int64_t t0 = 1000 * S_NS;
        for (int i = 0; i < 3; i++)
                assert_int_equal(access_limit(l, &c, t0, &d, &err), 0);
        assert_int_equal(access_limit(l, &c, t0, &d, &err), POP_ERULE);
        assert_int_equal(d.status, 429);
        assert_string_equal(d.rule, "rate-limited");
        assert_int_equal(d.retry_after, 1);
        /* Half a second later: still over; a second later: one more. */
        assert_int_equal(access_limit(l, &c, t0 + S_NS / 2, &d, &err), POP_ERULE);
        assert_int_equal(d.retry_after, 1);
        assert_int_equal(access_limit(l, &c, t0 + S_NS, &d, &err), 0);
        assert_int_equal(access_limit(l, &c, t0 + S_NS, &d, &err), POP_ERULE);
        /* Idle for long: the bucket is full again, not fuller. */
        int64_t t1 = t0 + 3600 * S_NS;
        for (int i = 0; i < 3; i++)
                assert_int_equal(access_limit(l, &c, t1, &d, &err), 0);
        assert_int_equal(access_limit(l, &c, t1, &d, &err), POP_ERULE);

        /* Retry-After grows with the wait: rate 1 per 10 s is not expressible; use a slow
         * client with rate 1, burst 1, hammered: the wait stays 1 s (one interval). */
        struct access_client s = mk(ACCESS_ROLE_READER, 0);
        snprintf(s.id, sizeof s.id, "slow");
        s.rate = 1;
        s.burst = 1;
        assert_int_equal(access_limit(l, &s, t0, &d, &err), 0);
        assert_int_equal(access_limit(l, &s, t0, &d, &err), POP_ERULE);
        assert_int_equal(d.retry_after, 1);
        assert_int_equal(access_limit(l, &s, t0 + S_NS - 1, &d, &err), POP_ERULE);
        assert_int_equal(access_limit(l, &s, t0 + S_NS, &d, &err), 0);

        /* A rate change applies at the next request. */
        c.rate = 1000;
        c.burst = 1000;
        int64_t t2 = t1 + 3600 * S_NS;
        for (int i = 0; i < 1000; i++)
                assert_int_equal(access_limit(l, &c, t2, &d, &err), 0);
        assert_int_equal(access_limit(l, &c, t2, &d, &err), POP_ERULE);
        assert_int_equal(access_limit(l, &c, t2 + S_NS / 1000, &d, &err), 0);

        /* Clients are separate, and the limiter tracks at most max_clients. */
        struct access_client third = mk(ACCESS_ROLE_READER, 0);
        snprintf(third.id, sizeof third.id, "third");
        assert_int_equal(access_limit(l, &third, t0, &d, &err), POP_EFULL);
        assert_string_equal(err.rule, "limiter-full");
        access_limiter_free(l);
}

struct race {
        struct access_limiter *l;
        const struct access_client *c;
        int64_t now;
        int allowed;
};

static void *race_run(void *arg)
{
        struct race *r = arg;
        struct access_denial d;
        struct pop_err err;
        for (int i = 0; i < 20000; i++)
                if (access_limit(r->l, r->c, r->now, &d, &err) == 0)
                        r->allowed++;
        return NULL;
}

static void test_limiter_threads(void **state)
{
        (void)state;
        struct access_limiter *l;
        struct pop_err err = {0};
        assert_int_equal(access_limiter_new(0, &l, &err), 0);
        struct access_client c = mk(ACCESS_ROLE_READER, 0);
        c.rate = 100;
        c.burst = 5000;
        struct race r[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
                r[i] = (struct race){l, &c, 42 * S_NS, 0};
                assert_int_equal(pthread_create(&th[i], NULL, race_run, &r[i]), 0);
        }
        int total = 0;
        for (int i = 0; i < 4; i++) {
                pthread_join(th[i], NULL);
                total += r[i].allowed;
        }
        /* At one instant exactly the burst passes, however the threads interleave. */
        assert_int_equal(total, 5000);
        access_limiter_free(l);
}

/* ---- tokens ---- */

static const char good_secret[] = "hotr_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn8";

static int parse(const char *s, struct access_token *t)
{
        return access_token_parse(s, strlen(s), t, NULL);
}

static void test_token_parse(void **state)
{
        (void)state;
        struct access_token t;
        char buf[256];
        snprintf(buf, sizeof buf, "popid_bo-y-te_%s", good_secret);
        assert_int_equal(parse(buf, &t), 0);
        assert_string_equal(t.client_id, "bo-y-te");
        assert_string_equal(t.secret, good_secret);
        assert_string_equal(t.text, buf);
        assert_int_equal(t.len, strlen(buf));
        /* Longest id. */
        snprintf(buf, sizeof buf, "popid_%s_%s", "abcdefghijklmnopqrstuvwxyz012345", good_secret);
        assert_int_equal(parse(buf, &t), 0);
        assert_int_equal(strlen(buf), ACCESS_TOKEN_MAX);

        const char *bad_ids[] = {
            "", "-a", "a-", "Bo", "a_b", "b\xc3\xa0", "abcdefghijklmnopqrstuvwxyz0123456"};
        for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
                snprintf(buf, sizeof buf, "popid_%s_%s", bad_ids[i], good_secret);
                /* "a_b": the id is "a" and the secret too long. */
                assert_int_equal(parse(buf, &t), POP_EINVAL);
        }
        const char *bad[] = {
            "",
            "popid_",
            "popid_x",
            "popid_x_",
            "Popid_x_hotr_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn8",
            "popidx_x_hotr_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn8",
            "popid_x_hotr_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn",   /* 42 */
            "popid_x_hotr_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn8A", /* 44 */
            "popid_x_hotr_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn9",  /* not canonical */
            "popid_x_hotr_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclv=8",  /* padding char */
            "popid_x_hotr+V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn8",  /* standard base64 */
            "popid_x_hotr V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn8",
            "popid_xhotr_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn8", /* id swallowed */
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct pop_err err = {0};
                int rc = access_token_parse(bad[i], strlen(bad[i]), &t, &err);
                if (rc != POP_EINVAL)
                        print_error("accepted: '%s'\n", bad[i]);
                assert_int_equal(rc, POP_EINVAL);
                assert_string_equal(err.rule, "token-malformed");
        }
        /* An embedded NUL is a byte like any other: refused. */
        char nul[128];
        int n = snprintf(nul, sizeof nul, "popid_x_%s", good_secret);
        nul[10] = '\0';
        assert_int_equal(access_token_parse(nul, (size_t)n, &t, NULL), POP_EINVAL);
        /* A secret may start with '_' (it is base64url). */
        snprintf(buf, sizeof buf, "popid_x__otr_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn8");
        assert_int_equal(parse(buf, &t), 0);
        assert_string_equal(t.client_id, "x");
        assert_int_equal(t.secret[0], '_');
}

static void test_bearer(void **state)
{
        (void)state;
        struct access_token t;
        struct access_denial d;
        char tok[128], h[700];
        snprintf(tok, sizeof tok, "popid_viettel_%s", good_secret);
        const char *ok[] = {"Bearer %s",   "bearer %s",  "BEARER %s",  "Bearer   %s",
                            "Bearer %s  ", " Bearer %s", "Bearer %s\t"};
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
                snprintf(h, sizeof h, ok[i], tok);
                assert_int_equal(access_bearer_parse(h, &t, &d), 0);
                assert_string_equal(t.text, tok);
                assert_string_equal(t.client_id, "viettel");
        }
        const char *missing[] = {NULL, "", "   ", "\t"};
        for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
                assert_int_equal(access_bearer_parse(missing[i], &t, &d), POP_ERULE);
                assert_int_equal(d.status, 401);
                assert_string_equal(d.rule, "token-missing");
        }
        const char *bad[] = {"Basic %s",     "Bearer",       "Bearer ",    "Bearer\t%s",
                             "Bearer%s",     "Bearer %s x",  "Bearer x%s", "Token %s",
                             "Bearer %s,%s", "Bearer \"%s\""};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                snprintf(h, sizeof h, bad[i], tok, tok);
                assert_int_equal(access_bearer_parse(h, &t, &d), POP_ERULE);
                assert_int_equal(d.status, 401);
                assert_string_equal(d.rule, "token-malformed");
                /* The detail never echoes what was sent. */
                assert_null(strstr(d.detail, good_secret));
        }
        /* Over the header cap. */
        char big[ACCESS_HEADER_MAX + 64];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        memcpy(big, "Bearer ", 7);
        assert_int_equal(access_bearer_parse(big, &t, &d), POP_ERULE);
        assert_string_equal(d.rule, "token-malformed");
}

/* ---- verification ---- */

static const uint8_t pepper[ACCESS_PEPPER_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static void test_verify(void **state)
{
        (void)state;
        assert_true(sodium_init() >= 0);
        char tok[128], tok2[128];
        snprintf(tok, sizeof tok, "popid_bank_%s", good_secret);
        snprintf(tok2, sizeof tok2, "popid_bank_%s", "AAAA_V4qYCFyudAG7ErrHdbnMhM7Uf0ZngCOnjclvn8");
        struct access_token t, t2;
        assert_int_equal(parse(tok, &t), 0);
        assert_int_equal(parse(tok2, &t2), 0);
        struct access_client c = mk(ACCESS_ROLE_READER, 0);
        snprintf(c.id, sizeof c.id, "bank");
        uint8_t h[ACCESS_HASH_LEN], h2[ACCESS_HASH_LEN];
        char id[ACCESS_SECRET_ID_LEN + 1], id2[ACCESS_SECRET_ID_LEN + 1];
        access_token_hash(pepper, t.text, t.len, h, id);
        access_token_hash(pepper, t2.text, t2.len, h2, id2);
        assert_int_equal(strlen(id), ACCESS_SECRET_ID_LEN);
        assert_string_not_equal(id, id2);
        /* The hash is keyed: another pepper, another hash. */
        uint8_t other[ACCESS_PEPPER_LEN] = {0}, h3[ACCESS_HASH_LEN];
        char id3[ACCESS_SECRET_ID_LEN + 1];
        access_token_hash(other, t.text, t.len, h3, id3);
        assert_memory_not_equal(h, h3, ACCESS_HASH_LEN);

        memcpy(c.secret.hash, h, sizeof h);
        memcpy(c.secret.id, id, sizeof id);
        struct access_denial d;
        assert_int_equal(access_verify(&c, &t, h, 0, &d), 0);
        /* One bit off anywhere: refused (the compare covers every byte). */
        for (int byte = 0; byte < ACCESS_HASH_LEN; byte += 31) {
                uint8_t x[ACCESS_HASH_LEN];
                memcpy(x, h, sizeof x);
                x[byte] ^= 1;
                assert_int_equal(access_verify(&c, &t, x, 0, &d), POP_ERULE);
                assert_string_equal(d.rule, "token-unknown");
        }
        assert_int_equal(access_verify(&c, &t2, h2, 0, &d), POP_ERULE);
        /* The right hash under another client's id: refused. */
        struct access_token wrong = t;
        snprintf(wrong.client_id, sizeof wrong.client_id, "telco");
        assert_int_equal(access_verify(&c, &wrong, h, 0, &d), POP_ERULE);
        assert_string_equal(d.rule, "token-unknown");

        /* The previous secret until it expires. */
        c.prev = c.secret;
        c.prev.expires_ms = 5000;
        memcpy(c.secret.hash, h2, sizeof h2);
        memcpy(c.secret.id, id2, sizeof id2);
        assert_int_equal(access_verify(&c, &t2, h2, 4999, &d), 0);
        assert_int_equal(access_verify(&c, &t, h, 4999, &d), 0);
        assert_int_equal(access_verify(&c, &t, h, 5000, &d), POP_ERULE);
        assert_string_equal(d.rule, "token-unknown");
        assert_int_equal(access_verify(&c, &t2, h2, 99999, &d), 0);

        /* Disabled: said only to the holder of a valid token. */
        c.disabled = true;
        assert_int_equal(access_verify(&c, &t2, h2, 0, &d), POP_ERULE);
        assert_int_equal(d.status, 401);
        assert_string_equal(d.rule, "client-disabled");
        uint8_t x[ACCESS_HASH_LEN];
        memcpy(x, h2, sizeof x);
        x[0] ^= 0x80;
        assert_int_equal(access_verify(&c, &t2, x, 0, &d), POP_ERULE);
        assert_string_equal(d.rule, "token-unknown");
        /* A client with no secret matches nothing, not even a zero hash. */
        struct access_client none = mk(ACCESS_ROLE_READER, 0);
        snprintf(none.id, sizeof none.id, "bank");
        uint8_t zero[ACCESS_HASH_LEN] = {0};
        assert_int_equal(access_verify(&none, &t, zero, 0, &d), POP_ERULE);
}

/* ---- ids and names ---- */

static void test_ids(void **state)
{
        (void)state;
        char id[ACCESS_ID_MAX + 1];
        struct pop_err err = {0};
        assert_int_equal(access_id_from_name("Bộ Y tế", id, &err), 0);
        assert_string_equal(id, "bo-y-te");
        assert_int_equal(access_id_from_name("  Đà Nẵng -- Telecom!! ", id, &err), 0);
        assert_string_equal(id, "da-nang-telecom");
        assert_int_equal(access_id_from_name("BHXH Việt Nam 2", id, &err), 0);
        assert_string_equal(id, "bhxh-viet-nam-2");
        assert_int_equal(
            access_id_from_name("Ngân hàng Thương mại Cổ phần Ngoại thương Việt Nam", id, &err), 0);
        assert_true(strlen(id) <= ACCESS_ID_MAX);
        assert_int_equal(access_id_check(id, strlen(id), &err), 0);
        assert_int_equal(access_id_from_name("!!!", id, &err), POP_EINVAL);
        assert_string_equal(err.rule, "client-id");
        assert_int_equal(access_id_from_name("\xff", id, &err), POP_EINVAL);

        unsigned roles;
        assert_int_equal(access_roles_parse("reader, verifier", &roles, &err), 0);
        assert_int_equal(roles, ACCESS_ROLE_READER | ACCESS_ROLE_VERIFIER);
        assert_int_equal(access_roles_parse("reader,owner", &roles, &err), POP_EINVAL);
        assert_non_null(strstr(err.msg, "'owner'"));
        enum access_kind k;
        assert_int_equal(access_kind_parse("telco", &k, &err), 0);
        assert_int_equal(k, ACCESS_KIND_TELCO);
        assert_string_equal(access_kind_name(k), "telco");
        assert_int_equal(access_kind_parse("Telco", &k, &err), POP_EINVAL);
        assert_string_equal(access_role_name(ACCESS_ROLE_ADMIN), "admin");
        assert_null(access_role_name(ACCESS_ROLE_ADMIN | ACCESS_ROLE_READER));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_catalogue),
            cmocka_unit_test(test_grant_matrix),
            cmocka_unit_test(test_roles_combined),
            cmocka_unit_test(test_purposes),
            cmocka_unit_test(test_scope),
            cmocka_unit_test(test_filter_nested),
            cmocka_unit_test(test_filter_household),
            cmocka_unit_test(test_filter_search),
            cmocka_unit_test(test_limiter),
            cmocka_unit_test(test_limiter_threads),
            cmocka_unit_test(test_token_parse),
            cmocka_unit_test(test_bearer),
            cmocka_unit_test(test_verify),
            cmocka_unit_test(test_ids),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
