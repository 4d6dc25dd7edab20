/*
 * `popid client`: registers API clients, shows them, changes their grants, rotates and disables
 * their credentials. A new secret is printed once, in the JSON on stdout ("token"), with a warning
 * on stderr; it is never stored or shown again (the store keeps a keyed hash). The pepper that
 * keys those hashes lives next to the database (<db>.pepper) and is made with the first client.
 * See docs/ACCESS.md.
 */
#include "cli/cmd_client.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/access.h"
#include "cli/cli.h"
#include "cli/cli_int.h"
#include "store/store.h"

#define PATH_CAP 4096

struct cctx {
        const char *db;
        int compact;
        int argc;
        char **argv;
        json_t *opts;
        struct store *st;
};

static int usage(const char *msg, const char *arg)
{
        fprintf(stderr, "popid: ");
        fprintf(stderr, msg, arg);
        fprintf(stderr, " (see popid client help)\n");
        return CLI_EUSAGE;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The option `name` as a string, or NULL. */
static const char *opt(const struct cctx *x, const char *name)
{
        return json_string_value(json_object_get(x->opts, name));
}

/* Refuses options other than the NULL-terminated list `allowed`. */
static int only_opts(const struct cctx *x, const char *const *allowed)
{
        const char *key;
        json_t *v;
        json_object_foreach(x->opts, key, v)
        {
                bool ok = false;
                for (const char *const *a = allowed; *a && !ok; a++)
                        ok = strcmp(*a, key) == 0;
                if (!ok || !json_is_string(v))
                        return usage("unknown option --%s for this client command", key);
        }
        return 0;
}

static int need_args(const struct cctx *x, int n, const char *what)
{
        if (x->argc < n)
                return usage("missing %s", what);
        if (x->argc > n)
                return usage("unexpected argument '%s'", x->argv[n]);
        return 0;
}

static int open_store(struct cctx *x)
{
        struct pop_err e = {0};
        int rc = store_open(x->db, 0, &x->st, &e);
        return rc ? cli__fail(&e, rc) : 0;
}

static int first_client(void *ctx, const struct access_client *c)
{
        (void)c;
        *(bool *)ctx = true;
        return 1;
}

/*
 * Loads the pepper; with may_create, makes it when missing and no client exists yet (a new one
 * while clients exist would silently invalidate all their tokens).
 */
static int load_pepper(struct cctx *x, bool may_create, uint8_t pepper[ACCESS_PEPPER_LEN])
{
        char path[PATH_CAP];
        struct pop_err e = {0};
        int rc = access_pepper_path(x->db, path, sizeof path, &e);
        if (rc)
                return cli__fail(&e, rc);
        bool any = false;
        if (may_create) {
                rc = access_client_list(x->st, first_client, &any, &e);
                if (rc < 0)
                        return cli__fail(&e, rc);
        }
        rc = access_pepper_load(path, may_create && !any, pepper, &e);
        if (rc && any && !strcmp(e.rule, "pepper-missing")) {
                fprintf(stderr,
                        "popid: the credential pepper %s is missing while clients exist: "
                        "restore it from backup (every client's token depends on it) "
                        "[pepper-missing]\n",
                        path);
                return cli_exit_code(rc);
        }
        return rc ? cli__fail(&e, rc) : 0;
}

static void args_from_opts(const struct cctx *x, struct access_client_args *a)
{
        memset(a, 0, sizeof *a);
        a->id = opt(x, "id");
        a->name = opt(x, "name");
        a->kind = opt(x, "kind");
        a->roles = opt(x, "roles");
        a->fields = opt(x, "fields");
        a->grants = opt(x, "grants");
        a->purposes = opt(x, "purposes");
        a->provinces = opt(x, "provinces");
        a->rate = opt(x, "rate");
        a->burst = opt(x, "burst");
}

/*
 * A note on stderr when --fields grants sensitive personal data (Decree 13/2023/ND-CP art. 2(4)),
 * which needs its own legal basis for the client.
 */
static void note_sensitive(const struct cctx *x)
{
        uint64_t set = 0;
        const char *f = opt(x, "fields");
        if (!f || access_grants_parse(f, &set, NULL) != 0)
                return;
        for (int g = 0; g < ACCESS_N_FIELDS; g++)
                if ((set & ACCESS_BIT(g)) && access_grant_info(g)->sensitive)
                        fprintf(stderr,
                                "popid: note: %s is sensitive personal data (Decree "
                                "13/2023/ND-CP art. 2(4)): record the client's legal basis\n",
                                access_grant_info(g)->name);
}

/* Prints the client with its new token, and says on stderr that it will not be shown again. */
static int print_with_token(struct cctx *x, const struct access_client *c, char *token)
{
        json_t *j = access_client_json(c);
        json_object_set_new(j, "token", json_string(token));
        sodium_memzero(token, ACCESS_TOKEN_MAX + 1);
        int rc = cli__print_json(x->compact, j);
        /* jansson keeps its own copy of the string: wipe it before it goes back to the heap. */
        json_t *t = json_object_get(j, "token");
        if (t)
                sodium_memzero((char *)json_string_value(t), json_string_length(t));
        json_decref(j);
        fprintf(stderr,
                "popid: the token above is shown this once and cannot be recovered: hand "
                "it to the client now (popid client rotate %s makes a new one)\n",
                c->id);
        return rc;
}

static int cmd_add(struct cctx *x)
{
        static const char *const allowed[] = {"id",     "name",   "kind",     "roles",
                                              "fields", "grants", "purposes", "provinces",
                                              "rate",   "burst",  NULL};
        int rc;
        if ((rc = only_opts(x, allowed)) || (rc = need_args(x, 0, "")))
                return rc;
        struct access_client_args a;
        struct access_client c;
        struct pop_err e = {0};
        memset(&c, 0, sizeof c);
        args_from_opts(x, &a);
        if ((rc = access_client_change(&c, &a, ACCESS_SET, &e)))
                return cli__fail(&e, rc);
        uint8_t pepper[ACCESS_PEPPER_LEN];
        char token[ACCESS_TOKEN_MAX + 1];
        if ((rc = open_store(x)) || (rc = load_pepper(x, true, pepper)))
                return rc;
        rc = access_client_create(x->st, pepper, &c, now_ms(), token, &e);
        sodium_memzero(pepper, sizeof pepper);
        if (rc)
                return cli__fail(&e, rc);
        note_sensitive(x);
        return print_with_token(x, &c, token);
}

static int add_to_list(void *ctx, const struct access_client *c)
{
        return json_array_append_new(ctx, access_client_json(c)) ? POP_ENOMEM : 0;
}

static int cmd_list(struct cctx *x)
{
        static const char *const allowed[] = {NULL};
        int rc;
        if ((rc = only_opts(x, allowed)) || (rc = need_args(x, 0, "")) || (rc = open_store(x)))
                return rc;
        json_t *arr = json_array();
        struct pop_err e = {0};
        int prc = access_client_list(x->st, add_to_list, arr, &e);
        rc = prc ? cli__fail(&e, prc) : cli__print_json(x->compact, arr);
        json_decref(arr);
        return rc;
}

static int cmd_show(struct cctx *x)
{
        static const char *const allowed[] = {NULL};
        int rc;
        if ((rc = only_opts(x, allowed)) || (rc = need_args(x, 1, "client id")) ||
            (rc = open_store(x)))
                return rc;
        struct access_client c;
        struct pop_err e = {0};
        int prc = access_client_get(x->st, x->argv[0], &c, &e);
        if (prc)
                return cli__fail(&e, prc);
        json_t *j = access_client_json(&c);
        rc = cli__print_json(x->compact, j);
        json_decref(j);
        return rc;
}

static int cmd_rotate(struct cctx *x)
{
        static const char *const allowed[] = {"grace", NULL};
        int rc;
        if ((rc = only_opts(x, allowed)) || (rc = need_args(x, 1, "client id")))
                return rc;
        long grace = 0;
        const char *g = opt(x, "grace");
        if (g) {
                char *end;
                errno = 0;
                grace = strtol(g, &end, 10);
                if (errno || end == g || *end || grace < 0 || grace > ACCESS_GRACE_MAX_S) {
                        fprintf(
                            stderr,
                            "popid: --grace '%s' must be whole seconds, 0 to %d [client-grace]\n",
                            g, ACCESS_GRACE_MAX_S);
                        return CLI_EUSAGE;
                }
        }
        uint8_t pepper[ACCESS_PEPPER_LEN];
        if ((rc = open_store(x)) || (rc = load_pepper(x, false, pepper)))
                return rc;
        struct access_client c;
        char token[ACCESS_TOKEN_MAX + 1];
        struct pop_err e = {0};
        int prc = access_client_rotate(x->st, pepper, x->argv[0], (int64_t)grace * 1000, now_ms(),
                                       &c, token, &e);
        sodium_memzero(pepper, sizeof pepper);
        if (prc)
                return cli__fail(&e, prc);
        return print_with_token(x, &c, token);
}

struct change {
        const struct access_client_args *a;
        enum access_change how;
        int disable; /* -1: leave; 0: enable; 1: disable */
};

static int apply_change(void *ctx, struct access_client *c, struct pop_err *err)
{
        struct change *ch = ctx;
        if (ch->disable >= 0)
                c->disabled = ch->disable;
        return ch->a ? access_client_change(c, ch->a, ch->how, err) : 0;
}

static int run_change(struct cctx *x, struct change *ch)
{
        int rc;
        if ((rc = need_args(x, 1, "client id")) || (rc = open_store(x)))
                return rc;
        struct access_client c;
        struct pop_err e = {0};
        int prc = access_client_modify(x->st, x->argv[0], apply_change, ch, now_ms(), &c, &e);
        if (prc)
                return cli__fail(&e, prc);
        if (ch->a && ch->how != ACCESS_REVOKE)
                note_sensitive(x);
        json_t *j = access_client_json(&c);
        rc = cli__print_json(x->compact, j);
        json_decref(j);
        return rc;
}

static int cmd_status(struct cctx *x, int disable)
{
        static const char *const allowed[] = {NULL};
        int rc = only_opts(x, allowed);
        if (rc)
                return rc;
        struct change ch = {NULL, ACCESS_SET, disable};
        return run_change(x, &ch);
}

static int cmd_change(struct cctx *x, enum access_change how)
{
        /* Grant and revoke take the same options: access_client_change says which ones are
         * only set. */
        static const char *const allowed[] = {"name",     "kind",      "roles", "fields", "grants",
                                              "purposes", "provinces", "rate",  "burst",  NULL};
        int rc = only_opts(x, allowed);
        if (rc)
                return rc;
        if (!x->opts || json_object_size(x->opts) == 0)
                return usage("nothing to change: give --fields, --purposes, ...%s", "");
        struct access_client_args a;
        args_from_opts(x, &a);
        struct change ch = {&a, how, -1};
        return run_change(x, &ch);
}

static int cmd_fields(struct cctx *x)
{
        json_t *arr = json_array();
        for (int g = 0; g < ACCESS_N_GRANTS; g++) {
                const struct access_grant_info *i = access_grant_info(g);
                json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "name", i->name, "group", i->group,
                                      "summary", i->summary, "sensitive", i->sensitive);
                if (i->keys[0])
                        json_object_set_new(o, "keys", json_string(i->keys));
                json_array_append_new(arr, o);
        }
        int rc = cli__print_json(x->compact, arr);
        json_decref(arr);
        return rc;
}

/* Reads an Authorization value (or a bare token) from stdin and says whom it authenticates. */
static int cmd_auth(struct cctx *x)
{
        static const char *const allowed[] = {NULL};
        int rc;
        if ((rc = only_opts(x, allowed)) || (rc = need_args(x, 0, "")))
                return rc;
        char line[ACCESS_HEADER_MAX + 16];
        char header[ACCESS_HEADER_MAX + 16];
        if (!fgets(line, sizeof line, stdin))
                line[0] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        if (!strncmp(line, ACCESS_TOKEN_PREFIX, sizeof ACCESS_TOKEN_PREFIX - 1))
                snprintf(header, sizeof header, "Bearer %.*s", ACCESS_HEADER_MAX, line);
        else
                snprintf(header, sizeof header, "%s", line);
        sodium_memzero(line, sizeof line);
        uint8_t pepper[ACCESS_PEPPER_LEN];
        if ((rc = open_store(x)) || (rc = load_pepper(x, false, pepper))) {
                sodium_memzero(header, sizeof header);
                return rc;
        }
        struct access_client c;
        struct access_denial d = {0};
        struct pop_err e = {0};
        int prc = access_authenticate_store(x->st, pepper, header, now_ms(), &c, &d, &e);
        sodium_memzero(pepper, sizeof pepper);
        sodium_memzero(header, sizeof header);
        json_t *j;
        if (prc == 0)
                j = json_pack("{s:b, s:s, s:s}", "authenticated", 1, "client", c.id, "status",
                              c.disabled ? "disabled" : "active");
        else if (prc == POP_ERULE)
                j = json_pack("{s:b, s:i, s:s, s:s}", "authenticated", 0, "status", d.status,
                              "rule", d.rule, "detail", d.detail);
        else
                return cli__fail(&e, prc);
        rc = cli__print_json(x->compact, j);
        json_decref(j);
        return rc ? rc : prc ? CLI_EVERIFY : CLI_OK;
}

static void client_help(FILE *f)
{
        fprintf(
            f,
            "usage: popid client COMMAND [ARGS] [--db PATH]\n\n"
            "  add --name N --kind K --roles R [--fields F] [--grants G] [--purposes P]\n"
            "      [--provinces CODES|all] [--rate N] [--burst N] [--id ID]\n"
            "                               register a client; prints its token once\n"
            "  list | show ID               clients (never their secrets)\n"
            "  rotate ID [--grace SECONDS]  a new token; the old one ends now or after SECONDS\n"
            "  disable ID | enable ID       refuse or accept the client's token\n"
            "  grant ID | revoke ID  [--roles R] [--fields F] [--grants G] [--purposes P]\n"
            "                        [--provinces CODES|all]\n"
            "  set ID [--name ...] [--kind ...] [--rate N] [--burst N] [any of the above]\n"
            "  fields                       the field catalogue and the other grants\n"
            "  auth                         reads a token (or Authorization value) on stdin,\n"
            "                               says which client it authenticates (exit 5: none)\n\n"
            "kinds: ministry province insurer bank telco portal\n"
            "roles: registrar reader verifier admin (registrars need --provinces)\n"
            "lists are comma-separated: --fields name,dob,sex --purposes kyc,tax\n"
            "--provinces takes 2025 unit codes (popid region list) or all (the default but for\n"
            "registrars). See docs/ACCESS.md.\n");
}

int cli_client(const char *db, int compact, int argc, char **argv, json_t *opts)
{
        struct cctx x = {db, compact, argc - 1, argv + 1, opts, NULL};
        if (argc < 1) {
                client_help(stderr);
                return CLI_EUSAGE;
        }
        const char *sub = argv[0];
        int rc;
        if (!strcmp(sub, "help")) {
                client_help(stdout);
                return CLI_OK;
        }
        if (sodium_init() < 0) {
                fprintf(stderr, "popid: libsodium cannot start\n");
                return CLI_EFAIL;
        }
        if (!strcmp(sub, "add"))
                rc = cmd_add(&x);
        else if (!strcmp(sub, "list"))
                rc = cmd_list(&x);
        else if (!strcmp(sub, "show"))
                rc = cmd_show(&x);
        else if (!strcmp(sub, "rotate"))
                rc = cmd_rotate(&x);
        else if (!strcmp(sub, "disable"))
                rc = cmd_status(&x, 1);
        else if (!strcmp(sub, "enable"))
                rc = cmd_status(&x, 0);
        else if (!strcmp(sub, "grant"))
                rc = cmd_change(&x, ACCESS_GRANT);
        else if (!strcmp(sub, "revoke"))
                rc = cmd_change(&x, ACCESS_REVOKE);
        else if (!strcmp(sub, "set"))
                rc = cmd_change(&x, ACCESS_SET);
        else if (!strcmp(sub, "fields"))
                rc = cmd_fields(&x);
        else if (!strcmp(sub, "auth"))
                rc = cmd_auth(&x);
        else
                rc = usage("unknown client command '%s'", sub);
        store_close(x.st);
        return rc;
}
