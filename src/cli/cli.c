/*
 * The popid commands. Each parses its arguments, opens the registry named by --db (or POPID_DB),
 * calls one service and prints its JSON. Errors go to stderr as one line naming the problem and
 * the rule, with an exit code from cli.h. See docs/CLI.md for the tour.
 */
#include "cli/cli.h"
#include "cli/cmd_client.h"
#include "cli/cmd_gen.h"
#include "cli/cmd_eid.h"
#include "cli/cmd_qr.h"
#include "cli/cli_int.h"
#include "cli/cli_audit.h"

#include <errno.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/name.h"
#include "core/pid.h"
#include "registry/confirm.h"
#include "registry/demo.h"
#include "registry/registry.h"
#include "registry/search.h"

#define MAX_INPUT_LINE (1 << 20) /* one event on `popid event apply`: 1 MiB */

struct opts {
        const char *db;
        const char *key;
        const char *actor;
        const char *purpose; /* recorded in the audit log */
        const char *authority;
        const char *on;
        const char *dob;
        const char *sex;
        const char *jwk;
        int compact;
        int help; /* --help: print this command's lines of the help */
        long people;
        long seed;
        int argc; /* positional arguments left */
        char **argv;
        json_t *fields;                /* --anything value pairs, for `popid event` */
        struct reg_search_args search; /* `popid person search` */
        int n_search;                  /* search options given */
};

int cli_exit_code(int code)
{
        switch (code) {
        case POP_OK:
                return CLI_OK;
        case POP_EINVAL:
        case POP_ETOOBIG:
                return CLI_EUSAGE;
        case POP_ENOTFOUND:
                return CLI_ENOTFOUND;
        case POP_ERULE:
        case POP_ECONFLICT:
        case POP_EFULL:
                return CLI_ERULE;
        case POP_EVERIFY:
                return CLI_EVERIFY;
        }
        return CLI_EFAIL;
}

int cli__fail(const struct pop_err *e, int code)
{
        if (e->msg[0])
                fprintf(stderr, "popid: %s%s%s%s\n", e->msg, e->rule[0] ? " [" : "", e->rule,
                        e->rule[0] ? "]" : "");
        else
                fprintf(stderr, "popid: %s\n", pop_strerror(code));
        return cli_exit_code(code);
}

static int usage_error(const char *fmt, const char *arg)
{
        fprintf(stderr, "popid: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, " (see popid help)\n");
        return CLI_EUSAGE;
}

int cli__print_json(int compact, json_t *j)
{
        size_t flags = compact ? JSON_COMPACT : JSON_INDENT(2);
        if (!j || json_dumpf(j, stdout, flags | JSON_PRESERVE_ORDER) != 0)
                return CLI_EFAIL;
        fputc('\n', stdout);
        return fflush(stdout) == 0 ? CLI_OK : CLI_EFAIL;
}

static int print_json(const struct opts *o, json_t *j)
{
        return cli__print_json(o->compact, j);
}

/* Sets key (dotted: "address.province") to a string value in obj. */
static int set_field(json_t *obj, const char *key, const char *val)
{
        json_t *v = json_string(val);
        if (!v)
                return usage_error("the value of --%s is not valid UTF-8", key);
        const char *dot = strchr(key, '.');
        if (!dot) {
                json_object_set_new(obj, key, v);
                return 0;
        }
        char head[64];
        size_t n = (size_t)(dot - key);
        if (n == 0 || n >= sizeof head) {
                json_decref(v);
                return usage_error("bad option --%s", key);
        }
        memcpy(head, key, n);
        head[n] = '\0';
        json_t *sub = json_object_get(obj, head);
        if (!json_is_object(sub)) {
                sub = json_object();
                json_object_set_new(obj, head, sub);
        }
        json_decref(v);
        return set_field(sub, dot + 1, val);
}

/* An option of `popid person search` (--dob and --sex are shared); 0 when it is not one. */
static int search_opt(struct reg_search_args *a, const char *name, const char *v)
{
        const struct {
                const char *name;
                const char **field;
        } map[] = {
            {"name", &a->name},           {"match", &a->match},     {"year", &a->year},
            {"born-from", &a->born_from}, {"born-to", &a->born_to}, {"province", &a->province},
            {"status", &a->status},       {"limit", &a->limit},     {"cursor", &a->cursor},
        };
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
                if (!strcmp(name, map[i].name)) {
                        *map[i].field = v;
                        return 1;
                }
        }
        return 0;
}

/* Splits argv into known options, --field value pairs and positional arguments. */
static int parse_opts(const char *cmd, int argc, char **argv, struct opts *o)
{
        static char *pos[64];
        int npos = 0;
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
                        if (npos == 64)
                                return usage_error("too many arguments%s", "");
                        pos[npos++] = argv[i];
                        continue;
                }
                const char *name = a + 2;
                if (!strcmp(name, "compact")) {
                        o->compact = 1;
                        continue;
                }
                if (!strcmp(name, "help")) {
                        o->help = 1;
                        continue;
                }
                if (i + 1 >= argc)
                        return usage_error("option --%s needs a value", name);
                const char *v = argv[++i];
                char *end;
                if (!strcmp(name, "db"))
                        o->db = v;
                else if (!strcmp(name, "key"))
                        o->key = v;
                else if (!strcmp(name, "actor"))
                        o->actor = v;
                else if (!strcmp(name, "purpose"))
                        o->purpose = v;
                else if (!strcmp(name, "authority"))
                        o->authority = v;
                else if (!strcmp(name, "on"))
                        o->on = v;
                else if (!strcmp(name, "jwk"))
                        o->jwk = v;
                else if (!strcmp(name, "dob") && strcmp(cmd, "event") != 0)
                        o->dob = v;
                else if (!strcmp(name, "sex") && strcmp(cmd, "event") != 0)
                        o->sex = v;
                else if (!strcmp(cmd, "person") && search_opt(&o->search, name, v))
                        o->n_search++;
                else if (!strcmp(name, "people") || !strcmp(name, "seed")) {
                        errno = 0;
                        long n = strtol(v, &end, 10);
                        if (errno || *end || n < 0)
                                return usage_error("--%s needs a whole number", name);
                        *(!strcmp(name, "people") ? &o->people : &o->seed) = n;
                } else {
                        if (!o->fields)
                                o->fields = json_object();
                        if (set_field(o->fields, name, v))
                                return CLI_EUSAGE;
                }
        }
        o->argc = npos;
        o->argv = pos;
        return 0;
}

const char *cli__db(const char *given)
{
        if (given)
                return given;
        const char *e = getenv("POPID_DB");
        return e && *e ? e : NULL;
}

const char *cli__key_path(const char *given, const char *db, char *buf, size_t cap)
{
        if (given)
                return given;
        const char *e = getenv("POPID_KEY");
        if (e && *e)
                return e;
        if (!db)
                return NULL;
        if (!strncmp(db, "sqlite:", 7))
                db += 7;
        snprintf(buf, cap, "%s.key", db);
        return buf;
}

const char *cli__actor(const char *given, char *buf, size_t cap)
{
        const char *actor = given ? given : getenv("POPID_ACTOR");
        if (actor && *actor)
                return actor;
        struct passwd *pw = getpwuid(getuid());
        char host[64] = "localhost";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(buf, cap, "operator:%s@%s", pw ? pw->pw_name : "unknown", host);
        return buf;
}

static const char *db_of(const struct opts *o)
{
        return cli__db(o->db);
}

/* The key file: --key, POPID_KEY, or the database path + ".key". */
static const char *key_of(const struct opts *o, char *buf, size_t cap)
{
        return cli__key_path(o->key, db_of(o), buf, cap);
}

static int open_reg(const struct opts *o, struct reg **r)
{
        struct pop_err e = {0};
        int rc = reg_open(db_of(o), r, &e);
        return rc ? cli__fail(&e, rc) : 0;
}

static void make_ctx(const struct opts *o, struct reg_ctx *ctx, char *buf, size_t cap)
{
        reg_ctx_now(ctx, cli__actor(o->actor, buf, cap));
}

static int need_pos(const struct opts *o, int n, const char *what)
{
        if (o->argc < n)
                return usage_error("missing %s", what);
        if (o->argc > n)
                return usage_error("unexpected argument '%s'", o->argv[n]);
        return 0;
}

static int parse_pid_arg(const char *s, int64_t *out)
{
        struct pop_err e = {0};
        int rc = reg_parse_pid(s, out, &e);
        return rc ? cli__fail(&e, rc) : 0;
}

static int parse_on(const struct opts *o, struct pdate *on)
{
        memset(on, 0, sizeof *on);
        if (!o->on)
                return 0;
        struct pop_err e = {0};
        int rc = pdate_parse_full(o->on, strlen(o->on), on, &e);
        return rc ? cli__fail(&e, rc) : 0;
}

/* ---- commands ---- */

static int cmd_init(struct opts *o)
{
        const char *db = db_of(o);
        char kb[4096];
        struct pop_err e = {0};
        int rc;
        if ((rc = need_pos(o, 0, "")))
                return rc;
        if ((rc = reg_init(db, o->authority, &e)))
                return cli__fail(&e, rc);
        const char *key = key_of(o, kb, sizeof kb);
        if ((rc = reg_key_init(db, key, &e)))
                return cli__fail(&e, rc);
        char akb[4096];
        if ((rc = audit_key_path(db, akb, sizeof akb, &e)) || (rc = audit_key_init(db, akb, &e)))
                return cli__fail(&e, rc);
        json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "registry", db, "key", key, "audit_key", akb,
                              "status", "ready");
        rc = print_json(o, j);
        json_decref(j);
        return rc;
}

static int cmd_pid(struct opts *o)
{
        if (o->argc < 2)
                return usage_error("usage: popid pid parse|check|explain ID%s", "");
        const char *sub = o->argv[0], *s = o->argv[1];
        struct pid_info id;
        struct pop_err e = {0};
        int rc = pid_parse(s, strlen(s), &id, &e);
        if (rc)
                return cli__fail(&e, rc);
        if (!strcmp(sub, "explain")) {
                char text[256];
                pid_explain(&id, text, sizeof text);
                puts(text);
                return CLI_OK;
        }
        if (!strcmp(sub, "check")) {
                struct pdate dob = {0, 0, 0};
                enum sex sex = SEX_UNKNOWN;
                if (o->dob && (rc = pdate_parse(o->dob, strlen(o->dob), &dob, &e)))
                        return cli__fail(&e, rc);
                if (o->sex && (rc = sex_parse(o->sex, &sex, &e)))
                        return cli__fail(&e, rc);
                if ((rc = pid_check_person(&id, dob, sex, &e)))
                        return cli__fail(&e, rc);
        } else if (strcmp(sub, "parse")) {
                return usage_error("unknown pid command '%s'", sub);
        }
        char prefix[4], suffix[7];
        snprintf(prefix, sizeof prefix, "%03d", id.prefix);
        snprintf(suffix, sizeof suffix, "%06u", (unsigned)id.suffix);
        json_t *j = json_pack(
            "{s:s, s:s, s:o, s:o, s:o, s:s, s:i, s:i, s:s}", "pid", id.pid, "prefix", prefix,
            "province", id.province ? json_string(id.province->name) : json_null(), "province_code",
            id.gso ? reg_render_province(id.gso) : json_null(), "country_code",
            id.country ? json_integer(id.country) : json_null(), "sex", sex_name(id.sex),
            "birth_year", id.birth_year, "century_sex_digit", id.century_sex, "random", suffix);
        if (id.country)
                json_object_set_new(j, "country",
                                    id.country_info ? json_string(id.country_info->name)
                                                    : json_null());
        rc = print_json(o, j);
        json_decref(j);
        return rc;
}

static int cmd_name(struct opts *o)
{
        if (o->argc != 2)
                return usage_error("usage: popid name normalize|fold|key TEXT%s", "");
        const char *sub = o->argv[0], *s = o->argv[1];
        char out[NAME_MAX_BYTES + 1];
        struct pop_err e = {0};
        int rc;
        if (!strcmp(sub, "normalize"))
                rc = name_normalize(s, strlen(s), out, sizeof out, &e);
        else if (!strcmp(sub, "fold"))
                rc = name_fold(s, strlen(s), out, sizeof out, &e);
        else if (!strcmp(sub, "key"))
                rc = name_key(s, strlen(s), out, sizeof out, &e);
        else
                return usage_error("unknown name command '%s'", sub);
        if (rc)
                return cli__fail(&e, rc);
        puts(out);
        return CLI_OK;
}

/* Runs a read that renders one JSON object. */
typedef int read_fn(struct reg *r, int64_t id, struct pdate on, json_t **out, struct pop_err *err);

static int person_read(struct reg *r, int64_t id, struct pdate on, json_t **out,
                       struct pop_err *err)
{
        (void)on;
        return reg_person_json(r, id, out, err);
}

static int history_read(struct reg *r, int64_t id, struct pdate on, json_t **out,
                        struct pop_err *err)
{
        (void)on;
        return reg_history_json(r, id, out, err);
}

/*
 * Records a read in the audit log (docs/AUDIT.md) before anything is printed. Returns an exit
 * code when the entry could not be written: then the data must not be shown.
 */
static int audit_read(struct opts *o, const char *action, int64_t subject, json_t *out, int prc,
                      const struct pop_err *perr)
{
        char ab[160];
        struct reg_ctx ctx;
        make_ctx(o, &ctx, ab, sizeof ab);
        struct pop_err ae = {0};
        int rc = cli__audit_read_once(db_of(o), ctx.actor, o->purpose, action, subject, out, prc,
                                      perr, &ae);
        if (!rc)
                return 0;
        fprintf(stderr, "popid: the access could not be audited, so nothing is shown\n");
        cli__fail(&ae, rc);
        return rc == POP_EINVAL ? CLI_EUSAGE : CLI_EFAIL;
}

/* Records a life event (applied or refused) in the audit log; an exit code on failure. */
static int audit_event(struct cli_audit *ca, json_t *ev, json_t *res, int prc,
                       const struct pop_err *perr)
{
        struct pop_err ae = {0};
        int rc = cli__audit_event(ca, ev, res, prc, perr, &ae);
        if (!rc)
                return 0;
        if (!prc)
                fprintf(stderr,
                        "popid: the event was applied (seq %lld), but its audit entry "
                        "could not be written\n",
                        (long long)json_integer_value(json_object_get(res, "seq")));
        cli__fail(&ae, rc);
        return rc == POP_EINVAL ? CLI_EUSAGE : CLI_EFAIL;
}

/* Runs a read that renders one JSON object, audited as `action` on `subject` (0: the people
 * the output names). */
static int run_read(struct opts *o, read_fn *fn, int64_t id, const char *action, int64_t subject)
{
        struct pdate on;
        struct reg *r = NULL;
        int rc;
        if ((rc = parse_on(o, &on)) || (rc = open_reg(o, &r)))
                return rc;
        json_t *j = NULL;
        struct pop_err e = {0};
        int prc = fn(r, id, on, &j, &e);
        reg_close(r);
        if ((rc = audit_read(o, action, subject, j, prc, &e))) {
                json_decref(j);
                return rc;
        }
        rc = prc ? cli__fail(&e, prc) : print_json(o, j);
        json_decref(j);
        return rc;
}

static int person_search(struct opts *o)
{
        int rc;
        struct reg *r;
        if ((rc = need_pos(o, 1, "")) || (rc = open_reg(o, &r)))
                return rc;
        o->search.dob = o->dob;
        o->search.sex = o->sex;
        json_t *j = NULL;
        struct pop_err e = {0};
        int prc = reg_search_json(r, &o->search, &j, &e);
        if ((rc = audit_read(o, "person.search", 0, j, prc, &e))) {
                json_decref(j);
                reg_close(r);
                return rc;
        }
        rc = prc ? cli__fail(&e, prc) : print_json(o, j);
        json_decref(j);
        reg_close(r);
        return rc;
}

static int cmd_person(struct opts *o)
{
        int rc;
        int64_t pid;
        if (o->argc < 1)
                return usage_error("usage: popid person show|history PID | search --name TEXT%s",
                                   "");
        const char *sub = o->argv[0];
        if (!strcmp(sub, "search"))
                return person_search(o);
        if (o->n_search)
                return usage_error("search options are for popid person search%s", "");
        if ((rc = need_pos(o, 2, "personal ID")) || (rc = parse_pid_arg(o->argv[1], &pid)))
                return rc;
        if (!strcmp(sub, "show"))
                return run_read(o, person_read, pid, "person.read", pid);
        if (!strcmp(sub, "history"))
                return run_read(o, history_read, pid, "person.history", pid);
        return usage_error("unknown person command '%s'", sub);
}

static int cmd_household(struct opts *o)
{
        int rc;
        if (o->argc < 1 || strcmp(o->argv[0], "show"))
                return usage_error("usage: popid household show ID [--on DATE]%s", "");
        if ((rc = need_pos(o, 2, "household id")))
                return rc;
        char *end;
        errno = 0;
        long long id = strtoll(o->argv[1], &end, 10);
        if (errno || *end || id <= 0)
                return usage_error("'%s' is not a household id", o->argv[1]);
        return run_read(o, reg_household_json, id, "household.read", 0);
}

static int cmd_residence(struct opts *o)
{
        int rc;
        if (o->argc < 1)
                return usage_error("usage: popid residence show|confirm|verify ...%s", "");
        const char *sub = o->argv[0];
        if (!strcmp(sub, "verify")) {
                /* Reads the document from a file or stdin; the key from --jwk or the registry. */
                const char *path = o->argc > 1 ? o->argv[1] : "-";
                FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
                if (!f)
                        return usage_error("cannot open %s", path);
                static char buf[(1 << 20) + 2];
                size_t n = fread(buf, 1, sizeof buf, f);
                if (f != stdin)
                        fclose(f);
                json_t *jwk = NULL;
                struct pop_err e = {0};
                if (o->jwk) {
                        json_error_t je;
                        if (!(jwk = json_load_file(o->jwk, 0, &je)))
                                return usage_error("cannot read the JWK: %s", je.text);
                } else {
                        struct reg *r;
                        if ((rc = open_reg(o, &r)))
                                return rc;
                        rc = reg_public_jwk(r, &jwk, &e);
                        reg_close(r);
                        if (rc)
                                return cli__fail(&e, rc);
                }
                struct reg_ctx ctx;
                reg_ctx_now(&ctx, NULL);
                json_t *out = NULL;
                rc = reg_confirmation_verify(buf, n, jwk, ctx.today, &out, &e);
                json_decref(jwk);
                if (rc)
                        return cli__fail(&e, rc);
                int valid = json_is_true(json_object_get(out, "valid"));
                rc = print_json(o, out);
                json_decref(out);
                return rc ? rc : valid ? CLI_OK : CLI_EVERIFY;
        }
        int64_t pid;
        if ((rc = need_pos(o, 2, "personal ID")) || (rc = parse_pid_arg(o->argv[1], &pid)))
                return rc;
        if (!strcmp(sub, "show"))
                return run_read(o, reg_residence_json, pid, "residence.read", pid);
        if (strcmp(sub, "confirm"))
                return usage_error("unknown residence command '%s'", sub);
        struct reg *r;
        if ((rc = open_reg(o, &r)))
                return rc;
        char kb[4096], ab[160];
        struct reg_ctx ctx;
        make_ctx(o, &ctx, ab, sizeof ab);
        json_t *out = NULL;
        struct pop_err e = {0};
        int prc = reg_residence_confirm(r, &ctx, pid, key_of(o, kb, sizeof kb), &out, &e);
        if ((rc = audit_read(o, "residence.confirm", pid, json_object_get(out, "document"), prc,
                             &e))) {
                json_decref(out);
                reg_close(r);
                return rc;
        }
        rc = prc ? cli__fail(&e, prc) : print_json(o, out);
        json_decref(out);
        reg_close(r);
        return rc;
}

static int cmd_key(struct opts *o)
{
        int rc;
        if (o->argc != 1 || strcmp(o->argv[0], "show"))
                return usage_error("usage: popid key show%s", "");
        struct reg *r;
        if ((rc = open_reg(o, &r)))
                return rc;
        json_t *jwk = NULL;
        struct pop_err e = {0};
        int prc = reg_public_jwk(r, &jwk, &e);
        rc = prc ? cli__fail(&e, prc) : print_json(o, jwk);
        json_decref(jwk);
        reg_close(r);
        return rc;
}

static void event_help(void)
{
        fprintf(stderr, "usage: popid event TYPE --field value ... [--date YYYY-MM-DD]\n"
                        "       popid event apply FILE|-   (one JSON event object per line)\n\n"
                        "types:\n");
        for (int i = 0; reg_event_types[i].name; i++)
                fprintf(stderr, "  %-22s %-46s %s\n", reg_event_types[i].name,
                        reg_event_types[i].summary, reg_event_types[i].fields);
        fprintf(stderr, "\nNested fields use dots: --address.province 01 --address.commune 00004 "
                        "--address.line '12 Phố Huế'\n");
}

/* Applies events from a file, one JSON object per line; stops at the first refusal. */
static int apply_file(struct opts *o, struct reg *r, struct reg_ctx *ctx, const char *path)
{
        FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
        if (!f)
                return usage_error("cannot open %s", path);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long lineno = 0;
        int rc = CLI_OK;
        struct cli_audit *ca = NULL;
        struct pop_err ae = {0};
        int arc = cli__audit_open(db_of(o), ctx->actor, o->purpose, &ca, &ae);
        if (arc) {
                if (f != stdin)
                        fclose(f);
                return cli__fail(&ae, arc);
        }
        while ((n = getline(&line, &cap, f)) > 0) {
                lineno++;
                if (n > MAX_INPUT_LINE) {
                        fprintf(stderr, "popid: %s:%ld: line over %d bytes\n", path, lineno,
                                MAX_INPUT_LINE);
                        rc = CLI_EUSAGE;
                        break;
                }
                if (strspn(line, " \t\r\n") == (size_t)n)
                        continue;
                json_error_t je;
                json_t *ev = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &je);
                if (!ev) {
                        fprintf(stderr, "popid: %s:%ld: malformed JSON: %s\n", path, lineno,
                                je.text);
                        rc = CLI_EUSAGE;
                        break;
                }
                json_t *res = NULL;
                struct pop_err e = {0};
                int prc = reg_event_apply(r, ctx, ev, &res, &e);
                arc = audit_event(ca, ev, res, prc, &e);
                json_decref(ev);
                if (arc) {
                        json_decref(res);
                        rc = arc;
                        break;
                }
                if (prc) {
                        fprintf(stderr, "popid: %s:%ld: %s [%s]\n", path, lineno, e.msg, e.rule);
                        rc = cli_exit_code(prc);
                        break;
                }
                o->compact = 1;
                print_json(o, res);
                json_decref(res);
        }
        free(line);
        cli__audit_close(ca);
        if (f != stdin)
                fclose(f);
        return rc;
}

static int cmd_event(struct opts *o)
{
        int rc;
        if (o->argc < 1 || !strcmp(o->argv[0], "help") || !strcmp(o->argv[0], "types")) {
                event_help();
                return o->argc < 1 ? CLI_EUSAGE : CLI_OK;
        }
        struct reg *r;
        char ab[160];
        struct reg_ctx ctx;
        make_ctx(o, &ctx, ab, sizeof ab);
        if (!strcmp(o->argv[0], "apply")) {
                if ((rc = need_pos(o, 2, "file")) || (rc = open_reg(o, &r)))
                        return rc;
                rc = apply_file(o, r, &ctx, o->argv[1]);
                reg_close(r);
                return rc;
        }
        if ((rc = need_pos(o, 1, "event type")))
                return rc;
        json_t *ev = o->fields ? json_incref(o->fields) : json_object();
        json_object_set_new(ev, "type", json_string(o->argv[0]));
        if (o->on)
                json_object_set_new(ev, "date", json_string(o->on));
        if ((rc = open_reg(o, &r))) {
                json_decref(ev);
                return rc;
        }
        json_t *res = NULL;
        struct pop_err e = {0};
        int prc = reg_event_apply(r, &ctx, ev, &res, &e);
        struct cli_audit *ca = NULL;
        struct pop_err ae = {0};
        if ((rc = cli__audit_open(db_of(o), ctx.actor, o->purpose, &ca, &ae)))
                rc = cli__fail(&ae, rc);
        else
                rc = audit_event(ca, ev, res, prc, &e);
        cli__audit_close(ca);
        if (!rc)
                rc = prc ? cli__fail(&e, prc) : print_json(o, res);
        json_decref(res);
        json_decref(ev);
        reg_close(r);
        return rc;
}

static int cmd_region(struct opts *o)
{
        json_t *arr = json_array();
        for (int i = 0; i < REGION_N_UNITS; i++) {
                const struct region_unit *u = region_unit_at(i);
                json_t *merged = json_array();
                for (int k = 0; k < u->n_merged; k++) {
                        const struct region_legacy *l = region_legacy(u->merged_from[k]);
                        char c[4];
                        snprintf(c, sizeof c, "%02d", u->merged_from[k]);
                        json_array_append_new(
                            merged, json_pack("{s:s, s:s}", "code", c, "name", l ? l->name : "?"));
                }
                char c[4];
                snprintf(c, sizeof c, "%02d", u->code);
                json_array_append_new(arr,
                                      json_pack("{s:s, s:s, s:s, s:o}", "code", c, "name", u->name,
                                                "kind", u->kind, "merged_from", merged));
        }
        int rc = print_json(o, arr);
        json_decref(arr);
        return rc;
}

static int cmd_check(struct opts *o)
{
        struct reg *r;
        int rc;
        if ((rc = open_reg(o, &r)))
                return rc;
        struct pop_err e = {0};
        int64_t n = 0;
        int prc = store_integrity_check(r->st, &e);
        if (!prc)
                prc = store_person_count(r->st, &n, &e);
        if (prc) {
                reg_close(r);
                return cli__fail(&e, prc);
        }
        json_t *j = json_pack("{s:s, s:s, s:I}", "integrity", "ok", "backend", store_backend(r->st),
                              "persons", (json_int_t)n);
        rc = print_json(o, j);
        json_decref(j);
        reg_close(r);
        return rc;
}

static int cmd_demo(struct opts *o)
{
        struct reg *r;
        int rc;
        if ((rc = open_reg(o, &r)))
                return rc;
        char ab[160];
        struct reg_ctx ctx;
        make_ctx(o, &ctx, ab, sizeof ab);
        struct demo_stats stats;
        struct pop_err e = {0};
        int prc =
            reg_demo_seed(r, &ctx, o->people ? o->people : 3000, (uint64_t)o->seed, &stats, &e);
        if (prc) {
                reg_close(r);
                return cli__fail(&e, prc);
        }
        json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:o}", "persons", (json_int_t)stats.persons,
                              "events", (json_int_t)stats.events, "households",
                              (json_int_t)stats.households, "refused", (json_int_t)stats.refused,
                              "sample_pid", json_string(stats.sample_pid));
        rc = print_json(o, j);
        json_decref(j);
        reg_close(r);
        return rc;
}

/* `popid client ...` (cmd_client.c): its --options arrive in o->fields. */
static int cmd_client(struct opts *o)
{
        return cli_client(db_of(o), o->compact, o->argc, o->argv, o->fields);
}

static void help(FILE *f)
{
        fprintf(
            f,
            "popid: national population registry\n\n"
            "usage: popid COMMAND [ARGS] [--db PATH] [--compact]\n\n"
            "  init [--authority NAME] [--key FILE]   create a registry and its signing key\n"
            "  pid parse|explain ID                   read a personal ID number\n"
            "  pid check ID [--dob D] [--sex S]       check it against a date of birth, sex\n"
            "  name normalize|fold|key TEXT           Vietnamese name forms\n"
            "  person show|history PID                a person, or their journal\n"
            "  person search --name TEXT [--match exact|folded|prefix] [--dob D]\n"
            "      [--year Y | --born-from Y --born-to Y] [--sex S] [--province PP]\n"
            "      [--status living|deceased|missing|any] [--limit N] [--cursor C]\n"
            "                                         find people by name, a page at a time\n"
            "  household show ID [--on DATE]          a household and its members on a date\n"
            "  residence show PID [--on DATE]         permanent and temporary residence\n"
            "  residence confirm PID                  signed confirmation of residence (CT07)\n"
            "  residence verify [FILE|-] [--jwk F]    verify a confirmation\n"
            "  key show                               the registry's public signing key (JWK)\n"
            "  qr issue --pid P --fields name,dob,... [--ttl 30d] [--png F] [--terminal] [--text]\n"
            "                                         a signed identity QR (docs/FORMATS.md)\n"
            "  qr verify --jwk F [TEXT|-]             check one offline; qr parse-card [TEXT|-]\n"
            "  event TYPE --field value ...           apply a life event (popid event help)\n"
            "  event apply FILE|-                     apply JSON events, one per line\n"
            "  region list                            provincial units and the 2025 merger\n"
            "  check                                  integrity check of the store\n"
            "  client add|list|show|rotate|disable|enable|grant|revoke|set|fields|auth\n"
            "                                         API clients and their access policy\n"
            "  eid request|activate|password|totp-enrol|totp-confirm|device-add|challenge|login|\n"
            "      lock|unlock|suspend|reinstate|show PID   eID accounts (popid eid help, "
            "docs/EID.md)\n"
            "  import FILE... --mode all-or-nothing|valid-only [--rejects F] [--format csv|jsonl]\n"
            "                                         load people from bulk files, - for stdin "
            "(docs/FORMATS.md)\n"
            "  export [--format jsonl|csv] [--out F]  every person in ID order, same formats\n"
            "  audit verify [--public-key K]          check the audit log's chain and checkpoints\n"
            "  audit verify --file F --public-key K   check an export with only the public key\n"
            "  audit export [--from SEQ] [--out F]    the audit log for a third party (JSONL)\n"
            "  audit key                              the audit log's public key (base64url)\n"
            "  audit log PID [--before SEQ] [--limit N]  who accessed a person's data, and why\n"
            "  demo [--people N] [--seed S]           fill the registry with synthetic people\n"
            "  gen --people N --seed S [--format jsonl|csv] [--out F] [--today YYYY-MM-DD]\n"
            "                                         write a synthetic population (no registry)\n"
            "  serve [--listen HOST:PORT] [--threads N] [--max-body BYTES] [--timeout S] [--log]\n"
            "                                         the HTTP API (docs/API.md)\n\n"
            "The database comes from --db or POPID_DB; the actor recorded in the journal from\n"
            "--actor or POPID_ACTOR (default operator:USER@HOST). Reads and writes of personal\n"
            "data are recorded in the audit log with that actor and --purpose (or POPID_PURPOSE).\n"
            "Exit codes: 0 ok, 1 failure, 2 bad input, 3 not found, 4 refused by a rule,\n"
            "5 verification failed.\n");
}

/*
 * `popid CMD --help`: the lines of the general help about CMD (those starting "  CMD" and the
 * indented lines that continue them), or the whole help when none matches.
 */
static int help_for(const char *cmd)
{
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (!m)
                return CLI_EFAIL;
        help(m);
        fclose(m);
        size_t cmd_len = strlen(cmd);
        bool printing = false, any = false;
        for (char *line = text; line && *line;) {
                char *nl = strchr(line, '\n');
                size_t n = nl ? (size_t)(nl - line) : strlen(line);
                if (n > 2 + cmd_len && !strncmp(line, "  ", 2) &&
                    !strncmp(line + 2, cmd, cmd_len) &&
                    (line[2 + cmd_len] == ' ' || line[2 + cmd_len] == '\n'))
                        printing = true;
                else if (n < 4 || strncmp(line, "    ", 4))
                        printing = false;
                if (printing) {
                        fwrite(line, 1, n, stdout);
                        fputc('\n', stdout);
                        any = true;
                }
                line = nl ? nl + 1 : NULL;
        }
        if (!any)
                fputs(text, stdout);
        free(text);
        return CLI_OK;
}

int cli_main(int argc, char **argv)
{
        if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
            !strcmp(argv[1], "-h")) {
                help(argc < 2 ? stderr : stdout);
                return argc < 2 ? CLI_EUSAGE : CLI_OK;
        }
        /* Commands that parse their own options (src/cli/cmd_import.c). */
        if (!strcmp(argv[1], "import"))
                return cli_import(argc - 2, argv + 2);
        if (!strcmp(argv[1], "export"))
                return cli_export(argc - 2, argv + 2);
        if (!strcmp(argv[1], "audit")) /* parses its own options (src/cli/cli_audit.c) */
                return cli__audit_cmd(argc - 2, argv + 2);
        if (!strcmp(argv[1], "serve")) /* parses its own options (src/cli/cmd_serve.c) */
                return cli__serve(argc - 2, argv + 2);
        if (!strcmp(argv[1], "gen")) /* parses its own options (src/cli/cmd_gen.c) */
                return cmd_gen(argc - 2, argv + 2);
        if (!strcmp(argv[1], "qr")) /* parses its own options (src/cli/cmd_qr.c) */
                return cli__qr(argc - 2, argv + 2);
        if (!strcmp(argv[1], "eid")) /* parses its own options (src/cli/cmd_eid.c) */
                return cli__eid(argc - 2, argv + 2);
        static const struct {
                const char *name;
                int (*fn)(struct opts *o);
        } cmds[] = {
            {"init", cmd_init},
            {"pid", cmd_pid},
            {"name", cmd_name},
            {"person", cmd_person},
            {"household", cmd_household},
            {"residence", cmd_residence},
            {"key", cmd_key},
            {"event", cmd_event},
            {"region", cmd_region},
            {"check", cmd_check},
            {"demo", cmd_demo},
            {"client", cmd_client},
        };
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
                if (strcmp(argv[1], cmds[i].name))
                        continue;
                struct opts o = {0};
                int rc = parse_opts(argv[1], argc - 2, argv + 2, &o);
                if (rc == 0 && o.help) {
                        rc = help_for(argv[1]);
                } else if (rc == 0) {
                        if (o.fields && strcmp(argv[1], "event") && strcmp(argv[1], "client"))
                                rc = usage_error("unknown option for %s", argv[1]);
                        else
                                rc = cmds[i].fn(&o);
                }
                json_decref(o.fields);
                return rc;
        }
        return usage_error("unknown command '%s'", argv[1]);
}
