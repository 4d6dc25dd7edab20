/*
 * Unit tests of API clients in the store (src/access/client.c, cache.c and the store's client
 * operations), run on "sqlite:" and on "fault:sqlite:": the round trip of every attribute, the
 * secret never written anywhere (the raw database and WAL files are searched for the token),
 * rotation with and without a grace period, the changes operators make (grant, revoke, set,
 * disable) and their validation, the client table's version, the cache's staleness bound and
 * invalidation, authentication against the store and the cache, corrupt rows, the pepper file,
 * and on the fault backend every failure point of create and rotate (nothing of a failed call
 * remains). A last test renders real registry documents (a demo registry) and checks that the
 * field catalogue covers every key they hold.
 */
#include "testutil.h"

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/access.h"
#include "access/access_int.h"
#include "registry/demo.h"
#include "registry/registry.h"
#include "registry/search.h"

#define NOW 1795428000000LL /* 2026-11-23T10:00:00Z */

static const char *uri_prefix;

struct fx {
        char path[512];
        char uri[600];
        struct store *st;
        uint8_t pepper[ACCESS_PEPPER_LEN];
};

static struct store *open_uri(const char *uri)
{
        struct store *st = NULL;
        struct pop_err err = {0};
        int rc = store_open(uri, 1, &st, &err);
        if (rc) {
                print_error("store_open(%s): %d %s\n", uri, rc, err.msg);
                fail();
        }
        return st;
}

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        if (!f)
                return -1;
        tu_tmpdir();
        tu_path(f->path, sizeof f->path, "clients.db");
        snprintf(f->uri, sizeof f->uri, "%s%s", uri_prefix, f->path);
        f->st = open_uri(f->uri);
        char pp[600];
        struct pop_err err = {0};
        if (access_pepper_path(f->uri, pp, sizeof pp, &err) ||
            access_pepper_load(pp, true, f->pepper, &err)) {
                print_error("pepper: %s\n", err.msg);
                return -1;
        }
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        store_close(f->st);
        free(f);
        return 0;
}

#define ok(expr)                                                                                   \
        do {                                                                                       \
                struct pop_err e_ = {0};                                                           \
                int rc_ = (expr);                                                                  \
                (void)e_;                                                                          \
                if (rc_ != 0)                                                                      \
                        print_error("%s: %d\n", #expr, rc_);                                       \
                assert_int_equal(rc_, 0);                                                          \
        } while (0)

/* A client from CLI-style text; fails the test when it does not validate. */
static struct access_client make(const char *name, const char *kind, const char *roles,
                                 const char *fields, const char *purposes, const char *provinces)
{
        struct access_client c;
        memset(&c, 0, sizeof c);
        struct access_client_args a = {.name = name,
                                       .kind = kind,
                                       .roles = roles,
                                       .fields = fields,
                                       .purposes = purposes,
                                       .provinces = provinces};
        struct pop_err err = {0};
        int rc = access_client_change(&c, &a, ACCESS_SET, &err);
        if (rc) {
                print_error("client %s: %s\n", name, err.msg);
                fail();
        }
        return c;
}

static void create(struct fx *f, struct access_client *c, char token[ACCESS_TOKEN_MAX + 1])
{
        struct pop_err err = {0};
        int rc = access_client_create(f->st, f->pepper, c, NOW, token, &err);
        if (rc) {
                print_error("create %s: %s\n", c->id, err.msg);
                fail();
        }
}

static uint64_t version(struct fx *f)
{
        uint64_t v = 0;
        struct pop_err err = {0};
        assert_int_equal(access__version(f->st, &v, &err), 0);
        return v;
}

static void assert_same(const struct access_client *a, const struct access_client *b)
{
        json_t *ja = access_client_json(a), *jb = access_client_json(b);
        if (!json_equal(ja, jb)) {
                char *x = json_dumps(ja, JSON_COMPACT), *y = json_dumps(jb, JSON_COMPACT);
                print_error("differ:\n%s\n%s\n", x, y);
                free(x);
                free(y);
        }
        assert_true(json_equal(ja, jb));
        json_decref(ja);
        json_decref(jb);
        assert_memory_equal(a->secret.hash, b->secret.hash, ACCESS_HASH_LEN);
        assert_memory_equal(a->prev.hash, b->prev.hash, ACCESS_HASH_LEN);
        assert_true(a->prev.expires_ms == b->prev.expires_ms);
        assert_true(a->grants == b->grants);
        assert_int_equal(a->roles, b->roles);
}

/* Authenticates a token against the store: 0 or the rule id of the refusal. */
static const char *auth(struct fx *f, const char *token, int64_t now)
{
        char h[256];
        snprintf(h, sizeof h, "Bearer %s", token);
        struct access_client c;
        struct access_denial d = {0};
        struct pop_err err = {0};
        int rc = access_authenticate_store(f->st, f->pepper, h, now, &c, &d, &err);
        if (rc == 0)
                return NULL;
        assert_int_equal(rc, POP_ERULE);
        assert_int_equal(d.status, 401);
        return d.rule;
}

static void test_round_trip(void **state)
{
        struct fx *f = *state;
        struct pop_err err = {0};
        assert_true(version(f) == 0);
        struct access_client c = make("Bảo hiểm Xã hội Việt Nam", "insurer", "reader,verifier",
                                      "pid,name,dob,sex,permanent_residence,household",
                                      "health-insurance,statistics", "01,79,08");
        struct access_client_args g = {.grants = "search,changes", .rate = "250", .burst = "500"};
        ok(access_client_change(&c, &g, ACCESS_SET, &e_));
        char token[ACCESS_TOKEN_MAX + 1];
        create(f, &c, token);
        assert_string_equal(c.id, "bao-hiem-xa-hoi-viet-nam");
        assert_true(strncmp(token, "popid_bao-hiem-xa-hoi-viet-nam_", 31) == 0);
        assert_int_equal(strlen(token), 31 + ACCESS_SECRET_B64);
        assert_true(version(f) == 1);

        struct access_client got;
        ok(access_client_get(f->st, c.id, &got, &e_));
        assert_same(&c, &got);
        assert_true(got.created_ms == NOW && got.updated_ms == NOW);
        assert_true(access_scope_has(&got.scope, 8) && !got.scope.all);
        assert_int_equal(got.rate, 250);
        assert_int_equal(got.burst, 500);
        assert_int_equal(got.n_purposes, 2);
        assert_string_equal(got.purposes[1], "statistics");
        assert_int_equal(got.kind, ACCESS_KIND_INSURER);

        ok(access_client_by_secret_id(f->st, c.secret.id, &got, &e_));
        assert_string_equal(got.id, c.id);
        assert_int_equal(access_client_by_secret_id(f->st, "0000000000000000", &got, &err),
                         POP_ENOTFOUND);
        assert_int_equal(access_client_get(f->st, "nobody", &got, &err), POP_ENOTFOUND);
        assert_string_equal(err.rule, "client-not-found");

        /* The JSON shows no hash and no token. */
        json_t *j = access_client_json(&got);
        char *text = json_dumps(j, JSON_COMPACT);
        assert_null(strstr(text, token + 31));
        char hex[2 * ACCESS_HASH_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, got.secret.hash, ACCESS_HASH_LEN);
        assert_null(strstr(text, hex));
        assert_non_null(strstr(text, got.secret.id));
        free(text);
        json_decref(j);

        /* A second client, in id order after the first; a taken id is refused. */
        struct access_client v = make("Viettel", "telco", "verifier", "name,dob", "kyc", NULL);
        char t2[ACCESS_TOKEN_MAX + 1];
        create(f, &v, t2);
        assert_true(v.scope.all);
        assert_true(version(f) == 2);
        struct access_client dup = make("Viettel", "bank", "reader", "", "kyc", NULL);
        char t3[ACCESS_TOKEN_MAX + 1];
        assert_int_equal(access_client_create(f->st, f->pepper, &dup, NOW, t3, &err),
                         POP_ECONFLICT);
        assert_string_equal(t3, "");
        assert_true(version(f) == 2);

        assert_null(auth(f, token, NOW));
        assert_null(auth(f, t2, NOW));
        /* A token of one client with the other's id: unknown. */
        char swapped[ACCESS_TOKEN_MAX + 1];
        snprintf(swapped, sizeof swapped, "popid_viettel_%s", token + 31);
        assert_string_equal(auth(f, swapped, NOW), "token-unknown");
}

struct ids {
        char ids[8][ACCESS_ID_MAX + 1];
        int n;
};

static int collect(void *ctx, const struct access_client *c)
{
        struct ids *x = ctx;
        snprintf(x->ids[x->n++], sizeof x->ids[0], "%s", c->id);
        return 0;
}

static void test_list(void **state)
{
        struct fx *f = *state;
        const char *names[] = {"Zeta Bank", "Alpha Bank", "Mid Bank"};
        char token[ACCESS_TOKEN_MAX + 1];
        for (int i = 0; i < 3; i++) {
                struct access_client c = make(names[i], "bank", "reader", "name", "kyc", NULL);
                create(f, &c, token);
        }
        struct ids x = {0};
        ok(access_client_list(f->st, collect, &x, &e_));
        assert_int_equal(x.n, 3);
        assert_string_equal(x.ids[0], "alpha-bank");
        assert_string_equal(x.ids[1], "mid-bank");
        assert_string_equal(x.ids[2], "zeta-bank");
}

/* Reads a whole file (empty when missing). */
static char *slurp(const char *path, size_t *len)
{
        *len = 0;
        FILE *fp = fopen(path, "rb");
        if (!fp)
                return calloc(1, 1);
        fseek(fp, 0, SEEK_END);
        long n = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        char *buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        *len = fread(buf, 1, (size_t)n, fp);
        fclose(fp);
        return buf;
}

static void assert_absent(const char *path, const void *needle, size_t n)
{
        size_t len;
        char *buf = slurp(path, &len);
        if (memmem(buf, len, needle, n)) {
                print_error("%s holds a secret\n", path);
                fail();
        }
        free(buf);
}

static void assert_no_secrets(struct fx *f, const char *token, const uint8_t *pepper)
{
        const char *secret =
            strrchr(token, '_') ? token + strlen(token) - ACCESS_SECRET_B64 : token;
        char hex[2 * ACCESS_PEPPER_LEN + 1];
        sodium_bin2hex(hex, sizeof hex, pepper, ACCESS_PEPPER_LEN);
        const char *suffix[] = {"", "-wal", "-journal"};
        for (int i = 0; i < 3; i++) {
                char p[600];
                snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
                assert_absent(p, token, strlen(token));
                assert_absent(p, secret, ACCESS_SECRET_B64);
                /* Half the secret would already be too much. */
                assert_absent(p, secret + 10, 20);
                assert_absent(p, hex, strlen(hex));
                assert_absent(p, pepper, ACCESS_PEPPER_LEN);
        }
}

static void test_secret_not_stored(void **state)
{
        struct fx *f = *state;
        struct access_client c = make("Bank", "bank", "reader", "name", "kyc", NULL);
        char token[ACCESS_TOKEN_MAX + 1], t2[ACCESS_TOKEN_MAX + 1];
        create(f, &c, token);
        struct access_client out;
        ok(access_client_rotate(f->st, f->pepper, "bank", 60000, NOW, &out, t2, &e_));
        /* While the WAL holds the writes, and after they reach the database file. */
        assert_no_secrets(f, token, f->pepper);
        assert_no_secrets(f, t2, f->pepper);
        store_close(f->st);
        f->st = open_uri(f->uri);
        assert_no_secrets(f, token, f->pepper);
        assert_no_secrets(f, t2, f->pepper);
        /* The secret id and the keyed hash are what is stored. */
        size_t len;
        char *db = slurp(f->path, &len);
        assert_non_null(memmem(db, len, out.secret.id, ACCESS_SECRET_ID_LEN));
        free(db);
        assert_null(auth(f, token, NOW));
        assert_null(auth(f, t2, NOW));
}

static void test_rotate(void **state)
{
        struct fx *f = *state;
        struct access_client c = make("Bank", "bank", "reader", "name", "kyc", NULL), out;
        char t1[ACCESS_TOKEN_MAX + 1], t2[ACCESS_TOKEN_MAX + 1], t3[ACCESS_TOKEN_MAX + 1];
        create(f, &c, t1);
        /* At once: the old token is gone. */
        ok(access_client_rotate(f->st, f->pepper, "bank", 0, NOW + 1, &out, t2, &e_));
        assert_string_not_equal(t1, t2);
        assert_string_equal(auth(f, t1, NOW + 1), "token-unknown");
        assert_null(auth(f, t2, NOW + 1));
        assert_string_equal(out.prev.id, "");
        assert_true(out.updated_ms == NOW + 1 && out.created_ms == NOW);
        /* With grace: both until it ends. */
        ok(access_client_rotate(f->st, f->pepper, "bank", 60000, NOW + 2, &out, t3, &e_));
        assert_null(auth(f, t2, NOW + 2));
        assert_null(auth(f, t3, NOW + 2));
        assert_null(auth(f, t2, NOW + 60001));
        assert_string_equal(auth(f, t2, NOW + 60002), "token-unknown");
        assert_null(auth(f, t3, NOW + 60002));
        struct access_client got;
        ok(access_client_by_secret_id(f->st, out.prev.id, &got, &e_));
        assert_string_equal(got.id, "bank");
        /* A second rotate ends the first grace at once. */
        char t4[ACCESS_TOKEN_MAX + 1];
        ok(access_client_rotate(f->st, f->pepper, "bank", 60000, NOW + 3, &out, t4, &e_));
        assert_string_equal(auth(f, t2, NOW + 3), "token-unknown");
        assert_null(auth(f, t3, NOW + 3));
        assert_null(auth(f, t4, NOW + 3));

        struct pop_err err = {0};
        char t5[ACCESS_TOKEN_MAX + 1];
        assert_int_equal(access_client_rotate(f->st, f->pepper, "nobody", 0, NOW, &out, t5, &err),
                         POP_ENOTFOUND);
        assert_string_equal(t5, "");
        assert_int_equal(access_client_rotate(f->st, f->pepper, "bank", -1, NOW, &out, t5, &err),
                         POP_EINVAL);
        assert_int_equal(access_client_rotate(f->st, f->pepper, "bank",
                                              (int64_t)ACCESS_GRACE_MAX_S * 1000 + 1, NOW, &out, t5,
                                              &err),
                         POP_EINVAL);
        /* Another pepper: no token verifies. */
        uint8_t saved[ACCESS_PEPPER_LEN];
        memcpy(saved, f->pepper, sizeof saved);
        f->pepper[0] ^= 1;
        assert_string_equal(auth(f, t4, NOW + 3), "token-unknown");
        memcpy(f->pepper, saved, sizeof saved);
}

struct change {
        struct access_client_args a;
        enum access_change how;
        int disable;
};

static int do_change(void *ctx, struct access_client *c, struct pop_err *err)
{
        struct change *ch = ctx;
        if (ch->disable >= 0)
                c->disabled = ch->disable;
        return access_client_change(c, &ch->a, ch->how, err);
}

static int change(struct fx *f, const char *id, struct change *ch, struct access_client *out,
                  struct pop_err *err)
{
        return access_client_modify(f->st, id, do_change, ch, NOW + 10, out, err);
}

static void test_modify(void **state)
{
        struct fx *f = *state;
        struct access_client c = make("Sở Tư pháp Hà Nội", "province", "registrar", "pid,name",
                                      "civil-registration", "01"),
                             out, got;
        char token[ACCESS_TOKEN_MAX + 1];
        create(f, &c, token);
        assert_string_equal(c.id, "so-tu-phap-ha-noi");
        struct pop_err err = {0};
        uint64_t v = version(f);

        struct change ch = {.a = {.fields = "dob,religion",
                                  .purposes = "statistics",
                                  .provinces = "79",
                                  .roles = "reader"},
                            .how = ACCESS_GRANT,
                            .disable = -1};
        ok(change(f, c.id, &ch, &out, &e_));
        assert_true(version(f) == v + 1);
        ok(access_client_get(f->st, c.id, &got, &e_));
        assert_same(&out, &got);
        assert_true(got.grants == (ACCESS_BIT(ACCESS_G_PID) | ACCESS_BIT(ACCESS_G_NAME) |
                                   ACCESS_BIT(ACCESS_G_DOB) | ACCESS_BIT(ACCESS_G_RELIGION)));
        assert_int_equal(got.n_purposes, 2);
        assert_true(access_scope_has(&got.scope, 1) && access_scope_has(&got.scope, 79));
        assert_int_equal(got.roles, ACCESS_ROLE_REGISTRAR | ACCESS_ROLE_READER);
        assert_true(got.updated_ms == NOW + 10);

        ch = (struct change){
            .a = {.fields = "religion", .purposes = "civil-registration", .provinces = "01"},
            .how = ACCESS_REVOKE,
            .disable = -1};
        ok(change(f, c.id, &ch, &out, &e_));
        assert_false(out.grants & ACCESS_BIT(ACCESS_G_RELIGION));
        assert_int_equal(out.n_purposes, 1);
        assert_string_equal(out.purposes[0], "statistics");
        assert_false(access_scope_has(&out.scope, 1));

        /* A registrar's scope may not become empty: refused, nothing stored. */
        v = version(f);
        ch = (struct change){.a = {.provinces = "79"}, .how = ACCESS_REVOKE, .disable = -1};
        assert_int_equal(change(f, c.id, &ch, &out, &err), POP_EINVAL);
        assert_string_equal(err.rule, "client-scope-required");
        assert_true(version(f) == v);
        ok(access_client_get(f->st, c.id, &got, &e_));
        assert_true(access_scope_has(&got.scope, 79));

        /* Set replaces; rate and name are set, not granted. */
        ch = (struct change){
            .a = {.rate = "5", .name = "Sở Tư pháp"}, .how = ACCESS_GRANT, .disable = -1};
        assert_int_equal(change(f, c.id, &ch, &out, &err), POP_EINVAL);
        assert_string_equal(err.rule, "client-change");
        ch = (struct change){.a = {.rate = "5",
                                   .burst = "7",
                                   .name = "Sở Tư pháp",
                                   .provinces = "all",
                                   .fields = "name"},
                             .how = ACCESS_SET,
                             .disable = -1};
        ok(change(f, c.id, &ch, &out, &e_));
        assert_int_equal(out.rate, 5);
        assert_int_equal(out.burst, 7);
        assert_string_equal(out.name, "Sở Tư pháp");
        assert_string_equal(out.id, "so-tu-phap-ha-noi");
        assert_true(out.scope.all);
        assert_true(out.grants == ACCESS_BIT(ACCESS_G_NAME));
        /* Revoking one province from "all" is refused with a hint. */
        ch = (struct change){.a = {.provinces = "01"}, .how = ACCESS_REVOKE, .disable = -1};
        assert_int_equal(change(f, c.id, &ch, &out, &err), POP_EINVAL);
        assert_non_null(strstr(err.msg, "popid client set"));
        /* Bad values are named. */
        const struct {
                struct access_client_args a;
                const char *rule, *named;
        } bad[] = {
            {{.kind = "church"}, "client-kind", "'church'"},
            {{.roles = "reader,root"}, "client-role", "'root'"},
            {{.fields = "name,password"}, "grant-unknown", "'password'"},
            {{.fields = "name,search"}, "grant-not-field", "'search'"},
            {{.grants = "dob"}, "grant-is-field", "'dob'"},
            {{.purposes = "kyc,Tax"}, "client-purpose", "'Tax'"},
            {{.provinces = "01,02"}, "client-province", "Tuyên Quang"},
            {{.provinces = "01,100"}, "client-province", "'100'"},
            {{.provinces = "all,01"}, "client-province", "all"},
            {{.rate = "0"}, "client-rate", "'0'"},
            {{.rate = "12x"}, "client-rate", "'12x'"},
            {{.burst = "2000000"}, "client-rate", "'2000000'"},
            {{.name = ""}, "client-name", ""},
            {{.id = "other"}, "client-id", ""},
            {{.roles = ""}, "client-role", ""},
            {{.purposes = ""}, "client-purpose-required", ""},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                ch = (struct change){.a = bad[i].a, .how = ACCESS_SET, .disable = -1};
                pop_err_clear(&err);
                int rc = change(f, c.id, &ch, &out, &err);
                if (rc != POP_EINVAL || strcmp(err.rule, bad[i].rule) != 0 ||
                    !strstr(err.msg, bad[i].named))
                        print_error("case %zu: %d [%s] %s\n", i, rc, err.rule, err.msg);
                assert_int_equal(rc, POP_EINVAL);
                assert_string_equal(err.rule, bad[i].rule);
                assert_non_null(strstr(err.msg, bad[i].named));
        }
        ok(access_client_get(f->st, c.id, &got, &e_));
        assert_int_equal(got.rate, 5);

        /* Disable, enable. */
        ch = (struct change){.how = ACCESS_SET, .disable = 1};
        ok(change(f, c.id, &ch, &out, &e_));
        assert_string_equal(auth(f, token, NOW), "client-disabled");
        ch.disable = 0;
        ok(change(f, c.id, &ch, &out, &e_));
        assert_null(auth(f, token, NOW));
        assert_int_equal(change(f, "nobody", &ch, &out, &err), POP_ENOTFOUND);
}

static void test_new_client_rules(void **state)
{
        (void)state;
        struct access_client c;
        struct pop_err err = {0};
        const struct {
                struct access_client_args a;
                const char *rule;
        } bad[] = {
            {{.kind = "bank", .roles = "reader", .purposes = "kyc"}, "client-name"},
            {{.name = "X", .roles = "reader", .purposes = "kyc"}, "client-kind"},
            {{.name = "X", .kind = "bank", .purposes = "kyc"}, "client-role"},
            {{.name = "X", .kind = "bank", .roles = "reader"}, "client-purpose-required"},
            {{.name = "X", .kind = "bank", .roles = "registrar", .purposes = "kyc"},
             "client-scope-required"},
            {{.name = "!!", .kind = "bank", .roles = "reader", .purposes = "kyc"}, "client-id"},
            {{.id = "Bad_Id", .name = "X", .kind = "bank", .roles = "reader", .purposes = "kyc"},
             "client-id"},
            {{.name = "X", .kind = "bank", .roles = "reader", .purposes = "kyc,kyc2,,x"},
             "list-empty-item"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                memset(&c, 0, sizeof c);
                pop_err_clear(&err);
                assert_int_equal(access_client_change(&c, &bad[i].a, ACCESS_SET, &err), POP_EINVAL);
                if (strcmp(err.rule, bad[i].rule) != 0)
                        print_error("case %zu: [%s] %s\n", i, err.rule, err.msg);
                assert_string_equal(err.rule, bad[i].rule);
        }
        /* Defaults: every province (not for registrars), 10/s with a burst of 20. */
        memset(&c, 0, sizeof c);
        struct access_client_args a = {
            .name = "Cổng Dịch vụ công", .kind = "portal", .roles = "admin"};
        assert_int_equal(access_client_change(&c, &a, ACCESS_SET, &err), 0);
        assert_string_equal(c.id, "cong-dich-vu-cong");
        assert_true(c.scope.all);
        assert_int_equal(c.rate, ACCESS_RATE_DEFAULT);
        assert_int_equal(c.burst, 2 * ACCESS_RATE_DEFAULT);
        assert_int_equal(c.n_purposes, 0); /* an admin alone needs none */
        /* A purpose appears once; at most ACCESS_PURPOSES_MAX. */
        memset(&c, 0, sizeof c);
        a = (struct access_client_args){
            .name = "X", .kind = "bank", .roles = "reader", .purposes = "kyc,kyc,tax"};
        assert_int_equal(access_client_change(&c, &a, ACCESS_SET, &err), 0);
        assert_int_equal(c.n_purposes, 2);
        char many[1024] = "";
        for (int i = 0; i <= ACCESS_PURPOSES_MAX; i++) {
                char p[16];
                snprintf(p, sizeof p, "%sp%d", i ? "," : "", i);
                strncat(many, p, sizeof many - strlen(many) - 1);
        }
        a.purposes = many;
        memset(&c, 0, sizeof c);
        assert_int_equal(access_client_change(&c, &a, ACCESS_SET, &err), POP_EINVAL);
        assert_string_equal(err.rule, "client-purpose");
}

static const char *cache_auth(struct access_cache *cache, const char *token, int64_t now,
                              const char **client)
{
        char h[256];
        snprintf(h, sizeof h, "Bearer %s", token);
        const struct access_client *c = NULL;
        struct access_denial d = {0};
        struct pop_err err = {0};
        int rc = access_authenticate(cache, h, now, &c, &d, &err);
        if (client)
                *client = c ? c->id : NULL;
        if (rc == 0) {
                assert_non_null(c);
                return NULL;
        }
        if (rc != POP_ERULE)
                print_error("authenticate: %d %s\n", rc, err.msg);
        assert_int_equal(rc, POP_ERULE);
        assert_null(c);
        return d.rule;
}

static void test_cache(void **state)
{
        struct fx *f = *state;
        struct access_client c = make("Bank", "bank", "reader", "name", "kyc", NULL), out;
        char token[ACCESS_TOKEN_MAX + 1];
        create(f, &c, token);
        /* The server's own connection, as a worker thread would hold it. */
        struct store *srv = open_uri(f->uri);
        struct access_cache *cache;
        ok(access_cache_new(srv, f->pepper, 1000, &cache, &e_));
        const char *who;
        assert_null(cache_auth(cache, token, NOW, &who));
        assert_string_equal(who, "bank");
        assert_string_equal(cache_auth(cache, "popid_bank_x", NOW, NULL), "token-malformed");
        char forged[ACCESS_TOKEN_MAX + 1];
        snprintf(forged, sizeof forged, "popid_bank_%s",
                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        assert_string_equal(cache_auth(cache, forged, NOW, NULL), "token-unknown");
        {
                const struct access_client *none;
                struct access_denial d;
                struct pop_err err;
                assert_int_equal(access_authenticate(cache, NULL, NOW, &none, &d, &err), POP_ERULE);
                assert_string_equal(d.rule, "token-missing");
        }

        /* An operator disables it through another connection (the CLI). */
        struct change ch = {.how = ACCESS_SET, .disable = 1};
        ok(change(f, "bank", &ch, &out, &e_));
        /* Within the staleness bound the old state may still answer... */
        assert_null(cache_auth(cache, token, NOW + 999, NULL));
        /* ...and at the bound the change is seen. */
        assert_string_equal(cache_auth(cache, token, NOW + 1000, NULL), "client-disabled");

        /* A clock that went back does not extend staleness. */
        ch.disable = 0;
        ok(change(f, "bank", &ch, &out, &e_));
        assert_null(cache_auth(cache, token, NOW - 5000, NULL));

        /* A token the copy does not know re-reads the version: a new secret works at once
         * (the old one may answer until the bound or an invalidation). */
        char t2[ACCESS_TOKEN_MAX + 1];
        ok(access_client_rotate(f->st, f->pepper, "bank", 0, NOW, &out, t2, &e_));
        assert_null(cache_auth(cache, t2, NOW - 4999, NULL));
        /* Invalidation: seen at once. */
        access_cache_invalidate(cache);
        assert_null(cache_auth(cache, t2, NOW - 4999, NULL));
        assert_string_equal(cache_auth(cache, token, NOW - 4999, NULL), "token-unknown");

        /* A new client becomes known, a previous secret expires on time from the copy. */
        struct access_client n = make("New Bank", "bank", "reader", "name", "kyc", NULL);
        char t3[ACCESS_TOKEN_MAX + 1], t4[ACCESS_TOKEN_MAX + 1];
        create(f, &n, t3);
        ok(access_client_rotate(f->st, f->pepper, "new-bank", 5000, NOW, &out, t4, &e_));
        assert_null(cache_auth(cache, t3, NOW + 2000, &who));
        assert_string_equal(who, "new-bank");
        assert_null(cache_auth(cache, t4, NOW + 2000, NULL));
        assert_null(cache_auth(cache, t3, NOW + 4999, NULL));
        assert_string_equal(cache_auth(cache, t3, NOW + 5000, NULL), "token-unknown");
        access_cache_free(cache);

        /* ttl 0: every call reads the version. */
        ok(access_cache_new(srv, f->pepper, 0, &cache, &e_));
        assert_null(cache_auth(cache, t2, NOW, NULL));
        ch.disable = 1;
        ok(change(f, "bank", &ch, &out, &e_));
        assert_string_equal(cache_auth(cache, t2, NOW, NULL), "client-disabled");
        access_cache_free(cache);
        store_close(srv);
}

static void test_corrupt(void **state)
{
        struct fx *f = *state;
        struct access_client c = make("Bank", "bank", "reader", "name", "kyc", NULL), got;
        char token[ACCESS_TOKEN_MAX + 1];
        create(f, &c, token);
        const char *updates[] = {
            "UPDATE client SET roles = 'not json'",
            "UPDATE client SET purposes = '[\"Not A Code\"]'",
            "UPDATE client SET provinces = '[\"02\"]'",
            "UPDATE client SET provinces = '\"some\"'",
            "UPDATE client SET kind = 'church'",
            "UPDATE client SET rate = 0",
            "UPDATE client SET grants = '{}'",
        };
        for (size_t i = 0; i < sizeof updates / sizeof updates[0]; i++) {
                sqlite3 *db;
                assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
                sqlite3_busy_timeout(db, 5000);
                assert_int_equal(sqlite3_exec(db, "SAVEPOINT x", NULL, NULL, NULL), SQLITE_OK);
                assert_int_equal(sqlite3_exec(db, updates[i], NULL, NULL, NULL), SQLITE_OK);
                assert_int_equal(sqlite3_exec(db, "RELEASE x", NULL, NULL, NULL), SQLITE_OK);
                struct pop_err err = {0};
                int rc = access_client_get(f->st, "bank", &got, &err);
                if (rc != POP_ESTORE)
                        print_error("%s: %d\n", updates[i], rc);
                assert_int_equal(rc, POP_ESTORE);
                assert_string_equal(err.rule, "store-corrupt");
                /* Put the row back. */
                struct store_client rec;
                ok(access__to_store(&c, &rec, &e_));
                ok(store_begin(f->st, &e_));
                ok(store_client_update(f->st, &rec, &e_));
                ok(store_commit(f->st, &e_));
                sqlite3_close(db);
        }
        /* Roles and grants a newer version wrote: ignored, the rest loads. */
        sqlite3 *db;
        assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "UPDATE client SET roles = '[\"reader\",\"owner\"]',"
                                      " grants = '[\"name\",\"iris\"]'",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
        ok(access_client_get(f->st, "bank", &got, &e_));
        assert_int_equal(got.roles, ACCESS_ROLE_READER);
        assert_true(got.grants == ACCESS_BIT(ACCESS_G_NAME));
}

static void test_pepper(void **state)
{
        struct fx *f = *state;
        char p[600];
        struct pop_err err = {0};
        ok(access_pepper_path("sqlite:/a/b.db", p, sizeof p, &e_));
        assert_string_equal(p, "/a/b.db.pepper");
        ok(access_pepper_path("fault:sqlite:/a/b.db", p, sizeof p, &e_));
        assert_string_equal(p, "/a/b.db.pepper");
        ok(access_pepper_path("/a/b.db", p, sizeof p, &e_));
        assert_string_equal(p, "/a/b.db.pepper");
        assert_int_equal(access_pepper_path("postgresql://h/db", p, sizeof p, &err), POP_EINVAL);
        assert_int_equal(access_pepper_path(NULL, p, sizeof p, &err), POP_EINVAL);

        ok(access_pepper_path(f->uri, p, sizeof p, &e_));
        struct stat sb;
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_int_equal(sb.st_size, 2 * ACCESS_PEPPER_LEN + 1);
        uint8_t again[ACCESS_PEPPER_LEN];
        ok(access_pepper_load(p, true, again, &e_));
        assert_memory_equal(again, f->pepper, ACCESS_PEPPER_LEN);
        /* Readable by others: refused. */
        assert_int_equal(chmod(p, 0644), 0);
        assert_int_equal(access_pepper_load(p, false, again, &err), POP_EIO);
        assert_string_equal(err.rule, "pepper-mode");
        assert_int_equal(chmod(p, 0600), 0);
        /* Missing, without create. */
        char q[600];
        tu_path(q, sizeof q, "other.pepper");
        assert_int_equal(access_pepper_load(q, false, again, &err), POP_EIO);
        assert_string_equal(err.rule, "pepper-missing");
        /* Not 64 hex digits. */
        const char *bad[] = {"abcd\n", "zz", "",
                             "00000000000000000000000000000000000000000000000"
                             "00000000000000000 extra\n"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                unlink(q);
                int fd = open(q, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, bad[i], strlen(bad[i])), (ssize_t)strlen(bad[i]));
                close(fd);
                assert_int_equal(access_pepper_load(q, true, again, &err), POP_EIO);
                assert_string_equal(err.rule, "pepper-invalid");
        }
}

/* The fault backend: every write of create and rotate fails in turn; nothing remains. */
static void test_faults(void **state)
{
        struct fx *f = *state;
        if (strcmp(uri_prefix, "fault:sqlite:") != 0)
                skip();
        struct pop_err err = {0};
        struct access_client c = make("Bank", "bank", "reader", "name", "kyc", NULL), out;
        char token[ACCESS_TOKEN_MAX + 1];
        int before = store_fault_writes(f->st);
        create(f, &c, token);
        int n = store_fault_writes(f->st) - before;
        assert_true(n >= 3); /* the row, the version, the commit */
        for (int i = 1; i <= n; i++) {
                struct access_client d = make("Other", "bank", "reader", "name", "kyc", NULL);
                uint64_t v = version(f);
                store_fault_arm(f->st, i);
                char t[ACCESS_TOKEN_MAX + 1];
                assert_int_equal(access_client_create(f->st, f->pepper, &d, NOW, t, &err),
                                 POP_ESTORE);
                assert_string_equal(t, "");
                assert_int_equal(access_client_get(f->st, "other", &out, &err), POP_ENOTFOUND);
                assert_true(version(f) == v);
        }
        before = store_fault_writes(f->st);
        char t2[ACCESS_TOKEN_MAX + 1];
        ok(access_client_rotate(f->st, f->pepper, "bank", 0, NOW, &out, t2, &e_));
        n = store_fault_writes(f->st) - before;
        for (int i = 1; i <= n; i++) {
                uint64_t v = version(f);
                store_fault_arm(f->st, i);
                char t[ACCESS_TOKEN_MAX + 1];
                assert_int_equal(
                    access_client_rotate(f->st, f->pepper, "bank", 0, NOW, &out, t, &err),
                    POP_ESTORE);
                assert_string_equal(t, "");
                assert_null(auth(f, t2, NOW));
                assert_true(version(f) == v);
        }
        /* A failing store is an error for the server (500), never a 401. */
        struct access_cache *cache;
        ok(access_cache_new(f->st, f->pepper, 0, &cache, &e_));
        assert_null(cache_auth(cache, t2, NOW, NULL));
        access_cache_free(cache);
}

/* ---- the catalogue against real documents ---- */

struct walk {
        struct reg *r;
        int persons, households, temporary, checked;
};

/* Filters a copy with every grant (must change nothing) and with none (must release nothing). */
static void check_doc(enum access_doc kind, json_t *doc)
{
        json_t *all = json_deep_copy(doc), *none = json_deep_copy(doc);
        uint64_t rel = access_filter_grants(ACCESS_GRANTS_ALL, kind, all);
        if (!json_equal(all, doc)) {
                char *a = json_dumps(doc, JSON_COMPACT), *b = json_dumps(all, JSON_COMPACT);
                print_error("the catalogue misses a key (doc %d):\n%s\n%s\n", (int)kind, a, b);
                free(a);
                free(b);
                fail();
        }
        assert_true(rel != 0);
        assert_true(access_filter_grants(0, kind, none) == 0);
        /* What is left with no grant is metadata only. */
        const char *key;
        json_t *v;
        json_object_foreach(none, key, v)
        {
                if (strcmp(key, "on") != 0 && strcmp(key, "next") != 0) {
                        print_error("left with no grant: %s\n", key);
                        fail();
                }
        }
        json_decref(all);
        json_decref(none);
}

static int walk_person(void *ctx, const struct person *p)
{
        struct walk *w = ctx;
        if (w->persons++ > 150)
                return 0;
        json_t *doc = NULL;
        struct pop_err err = {0};
        assert_int_equal(reg_person_json(w->r, p->pid, &doc, &err), 0);
        check_doc(ACCESS_DOC_PERSON, doc);
        json_t *perm = json_object_get(json_object_get(doc, "residence"), "permanent");
        if (json_is_object(json_object_get(json_object_get(doc, "residence"), "temporary")))
                w->temporary++;
        json_int_t hh = json_integer_value(json_object_get(perm, "household"));
        json_decref(doc);
        assert_int_equal(reg_residence_json(w->r, p->pid, (struct pdate){2025, 1, 1}, &doc, &err),
                         0);
        check_doc(ACCESS_DOC_RESIDENCE, doc);
        json_decref(doc);
        if (hh > 0) {
                assert_int_equal(reg_household_json(w->r, hh, (struct pdate){0, 0, 0}, &doc, &err),
                                 0);
                check_doc(ACCESS_DOC_HOUSEHOLD, doc);
                json_decref(doc);
                w->households++;
        }
        if (w->persons % 25 == 1) {
                struct reg_search_args a = {.name = p->full_name, .status = "any"};
                assert_int_equal(reg_search_json(w->r, &a, &doc, &err), 0);
                if (json_array_size(json_object_get(doc, "results")))
                        check_doc(ACCESS_DOC_SEARCH, doc);
                json_decref(doc);
        }
        w->checked++;
        return 0;
}

static void test_real_documents(void **state)
{
        (void)state;
        if (strcmp(uri_prefix, "sqlite:") != 0)
                skip();
        char path[512], uri[600];
        tu_path(path, sizeof path, "demo.db");
        snprintf(uri, sizeof uri, "sqlite:%s", path);
        struct pop_err err = {0};
        struct reg *r;
        ok(reg_init(uri, "Test Registry", &e_));
        ok(reg_open(uri, &r, &e_));
        struct reg_ctx ctx;
        reg_ctx_now(&ctx, "test:access");
        struct demo_stats stats;
        ok(reg_demo_seed(r, &ctx, 200, 7, &stats, &e_));
        struct walk w = {.r = r};
        assert_int_equal(store_person_each(r->st, walk_person, &w, &err), 0);
        assert_true(w.checked > 100);
        assert_true(w.households > 10);
        reg_close(r);
}

static int run(const char *prefix)
{
        uri_prefix = prefix;
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
            cmocka_unit_test_setup_teardown(test_list, setup, teardown),
            cmocka_unit_test_setup_teardown(test_secret_not_stored, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
            cmocka_unit_test_setup_teardown(test_modify, setup, teardown),
            cmocka_unit_test(test_new_client_rules),
            cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
            cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
            cmocka_unit_test_setup_teardown(test_pepper, setup, teardown),
            cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
            cmocka_unit_test(test_real_documents),
        };
        return cmocka_run_group_tests_name(prefix, tests, NULL, NULL);
}

int main(void)
{
        if (sodium_init() < 0)
                return 1;
        return run("sqlite:") | run("fault:sqlite:");
}
