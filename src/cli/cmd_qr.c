/*
 * `popid qr`: the identity QR and the chip card QR (docs/FORMATS.md "Identity QR", "Chip card
 * QR").
 *   qr issue --pid P --fields name,dob,sex[,...] [--ttl 30d] [--png F [--scale N]] [--terminal]
 *            [--text]        a signed credential of the chosen fields; the person is read within
 *                            an audit record (action idqr.issue) before anything is shown
 *   qr verify --jwk F [TEXT|-] [--at UNIX]   offline: the public key only, no registry
 *   qr parse-card [TEXT|-]    the text QR of a chip citizen-ID card, as JSON
 * Parses its own options (the shared parser of cli.c takes unknown options as event fields).
 * Exit codes as cli.h.
 */
#include "cli/cmd_qr.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_int.h"
#include "cli/cli_audit.h"
#include "core/cardqr.h"
#include "core/idcard.h"
#include "core/qrimage.h"
#include "registry/idqr.h"

#define PNG_SCALE_DEFAULT 8 /* pixels per module */

static const char usage_text[] =
    "usage: popid qr issue --pid P --fields name,dob,sex[,...] [--ttl 30d] [--png FILE]\n"
    "                      [--scale N] [--terminal] [--text] [--db D] [--key K]\n"
    "       popid qr verify --jwk PUBLIC.json [TEXT|-] [--at UNIX_SECONDS]\n"
    "       popid qr parse-card [TEXT|-]\n"
    "fields: pid, name, dob, sex, nationality, ethnicity, hometown, over18";

struct qr_opts {
        const char *db, *key, *actor, *purpose, *pid, *fields, *ttl, *png, *scale, *jwk, *at;
        int terminal, text, compact;
        const char *pos[4];
        int npos;
};

static int bad_usage(const char *what, const char *arg)
{
        fprintf(stderr, "popid qr: ");
        fprintf(stderr, what, arg);
        fprintf(stderr, "\n%s\n", usage_text);
        return CLI_EUSAGE;
}

static int parse_args(int argc, char **argv, struct qr_opts *o)
{
        static const struct {
                const char *name;
                size_t off;
        } valued[] = {
            {"db", offsetof(struct qr_opts, db)},
            {"key", offsetof(struct qr_opts, key)},
            {"actor", offsetof(struct qr_opts, actor)},
            {"purpose", offsetof(struct qr_opts, purpose)},
            {"pid", offsetof(struct qr_opts, pid)},
            {"fields", offsetof(struct qr_opts, fields)},
            {"ttl", offsetof(struct qr_opts, ttl)},
            {"png", offsetof(struct qr_opts, png)},
            {"scale", offsetof(struct qr_opts, scale)},
            {"jwk", offsetof(struct qr_opts, jwk)},
            {"at", offsetof(struct qr_opts, at)},
        };
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
                        if (o->npos == (int)(sizeof o->pos / sizeof o->pos[0]))
                                return bad_usage("unexpected argument '%s'", a);
                        o->pos[o->npos++] = a;
                        continue;
                }
                const char *name = a + 2;
                if (!strcmp(name, "terminal") || !strcmp(name, "text") ||
                    !strcmp(name, "compact")) {
                        *(!strcmp(name, "terminal") ? &o->terminal
                          : !strcmp(name, "text")   ? &o->text
                                                    : &o->compact) = 1;
                        continue;
                }
                if (!strcmp(name, "help")) {
                        printf("%s\n", usage_text);
                        return -1;
                }
                size_t k = 0;
                while (k < sizeof valued / sizeof valued[0] && strcmp(valued[k].name, name))
                        k++;
                if (k == sizeof valued / sizeof valued[0])
                        return bad_usage("unknown option %s", a);
                if (i + 1 >= argc)
                        return bad_usage("option %s needs a value", a);
                *(const char **)((char *)o + valued[k].off) = argv[++i];
        }
        return 0;
}

static const char *db_of(const struct qr_opts *o)
{
        return cli__db(o->db);
}

/*
 * The input text: the positional argument, or stdin for "-" or none. Reads at most cap + 1
 * bytes, so an oversized input reaches the parser's own size check; drops one final line end
 * (echo and scanners add it). *buf is malloc'ed.
 */
static int read_input(const struct qr_opts *o, size_t cap, char **buf, size_t *len)
{
        *buf = NULL;
        *len = 0;
        if (o->npos > 2)
                return bad_usage("unexpected argument '%s'", o->pos[2]);
        const char *arg = o->npos == 2 ? o->pos[1] : "-";
        char *b = malloc(cap + 2);
        if (!b)
                return CLI_EFAIL;
        size_t n = 0;
        if (strcmp(arg, "-")) {
                n = strlen(arg);
                if (n > cap + 1)
                        n = cap + 1;
                memcpy(b, arg, n);
        } else {
                size_t got;
                while (n < cap + 1 && (got = fread(b + n, 1, cap + 1 - n, stdin)) > 0)
                        n += got;
                if (ferror(stdin)) {
                        free(b);
                        fprintf(stderr, "popid: cannot read stdin: %s\n", strerror(errno));
                        return CLI_EFAIL;
                }
        }
        if (n && b[n - 1] == '\n')
                n--;
        if (n && b[n - 1] == '\r')
                n--;
        b[n] = '\0';
        *buf = b;
        *len = n;
        return 0;
}

static json_t *date_or_null(struct pdate d)
{
        char s[11];
        pdate_format(d, s);
        return s[0] ? json_string(s) : json_null();
}

static int qr_parse_card(const struct qr_opts *o)
{
        char *text = NULL;
        size_t len = 0;
        int rc = read_input(o, CARDQR_MAX_BYTES, &text, &len);
        if (rc)
                return rc;
        struct cardqr c;
        struct pop_err e = {0};
        rc = cardqr_parse(text, len, &c, &e);
        free(text);
        if (rc)
                return cli__fail(&e, rc);
        /* Law on Identity 2023 art. 21 (and Law on Citizen Identification 2014 art. 21 for cards
         * issued before 1 July 2024, the same ages for holders from 14): renewal at 25, 40, 60. */
        struct pdate expires = {0, 0, 0};
        bool never = false;
        struct pop_err ee = {0};
        if (idcard_expiry(c.dob, c.issued, &expires, &never, &ee) != 0)
                expires = (struct pdate){0, 0, 0};
        json_t *j =
            json_pack("{s:s, s:i, s:s, s:s, s:o, s:s, s:o, s:s, s:s, s:o, s:o, s:s}", "format",
                      "chip-card-qr", "fields", c.n_fields, "date_style",
                      c.slashed_dates ? "dd/mm/yyyy" : "ddmmyyyy", "pid", c.id.pid, "old_id",
                      c.old_id[0] ? json_string(c.old_id) : json_null(), "full_name", c.full_name,
                      "dob", date_or_null(c.dob), "sex", sex_name(c.sex), "address", c.address,
                      "issued", date_or_null(c.issued), "expires",
                      never ? json_string("never") : date_or_null(expires), "birth_registered",
                      c.id.province       ? c.id.province->name
                      : c.id.country_info ? c.id.country_info->name
                                          : "abroad");
        rc = j ? cli__print_json(o->compact, j) : CLI_EFAIL;
        json_decref(j);
        return rc;
}

static int qr_verify(const struct qr_opts *o)
{
        if (!o->jwk)
                return bad_usage("%s", "verify needs --jwk PUBLIC.json (popid key show)");
        int64_t now = (int64_t)time(NULL);
        if (o->at) {
                char *end;
                errno = 0;
                long long v = strtoll(o->at, &end, 10);
                if (errno || *end || end == o->at || v < 0)
                        return bad_usage("--at needs unix seconds, got '%s'", o->at);
                now = v;
        }
        json_error_t je;
        json_t *jwk = json_load_file(o->jwk, JSON_REJECT_DUPLICATES, &je);
        if (!jwk)
                return bad_usage("cannot read the JWK: %s", je.text);
        char *text = NULL;
        size_t len = 0;
        int rc = read_input(o, IDQR_MAX_TEXT, &text, &len);
        if (rc) {
                json_decref(jwk);
                return rc;
        }
        json_t *out = NULL;
        struct pop_err e = {0};
        rc = reg_idqr_verify(text, len, jwk, now, &out, &e);
        free(text);
        json_decref(jwk);
        if (rc)
                return cli__fail(&e, rc);
        rc = cli__print_json(o->compact, out);
        json_decref(out);
        return rc;
}

/* Writes len bytes to path, readable by the owner only (the image carries personal data). */
static int write_file(const char *path, const unsigned char *p, size_t len)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -1;
        size_t off = 0;
        while (off < len) {
                ssize_t w = write(fd, p + off, len - off);
                if (w <= 0) {
                        close(fd);
                        return -1;
                }
                off += (size_t)w;
        }
        return close(fd);
}

static int qr_issue(const struct qr_opts *o)
{
        struct pop_err e = {0};
        int rc;
        int64_t pid, ttl = IDQR_TTL_DEFAULT;
        unsigned mask;
        int scale = PNG_SCALE_DEFAULT;
        if (o->npos != 1)
                return bad_usage("unexpected argument '%s' (the person is --pid)", o->pos[1]);
        if (!o->pid)
                return bad_usage("%s", "issue needs --pid");
        if ((rc = reg_parse_pid(o->pid, &pid, &e)) ||
            (rc = reg_idqr_fields_parse(o->fields, &mask, &e)) ||
            (o->ttl && (rc = reg_idqr_ttl_parse(o->ttl, &ttl, &e))))
                return cli__fail(&e, rc);
        if (o->scale) {
                char *end;
                long v = strtol(o->scale, &end, 10);
                if (*end || end == o->scale || v < 1 || v > QRIMG_MAX_SCALE)
                        return bad_usage("--scale needs 1..32 pixels per module, got '%s'",
                                         o->scale);
                scale = (int)v;
        }
        const char *db = db_of(o);
        if (!db)
                return bad_usage("%s", "no registry: --db PATH or POPID_DB");
        struct reg *r = NULL;
        if ((rc = reg_open(db, &r, &e)))
                return cli__fail(&e, rc);
        char kb[4096], ab[160];
        struct reg_ctx ctx;
        reg_ctx_now(&ctx, cli__actor(o->actor, ab, sizeof ab));
        char *compact = NULL;
        json_t *released = NULL, *out = NULL;
        struct idqr_meta meta;
        int prc =
            reg_idqr_issue(r, &ctx, pid, mask, ttl, cli__key_path(o->key, db_of(o), kb, sizeof kb),
                           &compact, &released, &meta, &e);
        reg_close(r);
        /* The read of personal data is on the record before anything leaves (docs/AUDIT.md). */
        struct pop_err ae = {0};
        if ((rc = cli__audit_read_once(db, ctx.actor, o->purpose, "idqr.issue", pid, released, prc,
                                       &e, &ae))) {
                fprintf(stderr, "popid: the access could not be audited, so nothing is shown\n");
                cli__fail(&ae, rc);
                rc = rc == POP_EINVAL ? CLI_EUSAGE : CLI_EFAIL;
                goto out;
        }
        if (prc) {
                rc = cli__fail(&e, prc);
                goto out;
        }
        struct qrimg q = {0};
        if ((rc = qrimg_encode(compact, strlen(compact), &q, &e))) {
                rc = cli__fail(&e, rc);
                goto out;
        }
        if (o->png) {
                unsigned char *png = NULL;
                size_t png_len = 0;
                if ((rc = qrimg_png(&q, scale, &png, &png_len, &e))) {
                        qrimg_free(&q);
                        rc = cli__fail(&e, rc);
                        goto out;
                }
                int w = write_file(o->png, png, png_len);
                free(png);
                if (w) {
                        qrimg_free(&q);
                        fprintf(stderr, "popid: cannot write %s: %s\n", o->png, strerror(errno));
                        rc = CLI_EFAIL;
                        goto out;
                }
        }
        rc = CLI_OK;
        if (o->terminal) {
                char *t = NULL;
                size_t tl = 0;
                if ((rc = qrimg_terminal(&q, &t, &tl, &e)) == 0) {
                        fwrite(t, 1, tl, stdout);
                        free(t);
                } else {
                        rc = cli__fail(&e, rc);
                }
        }
        if (!rc && o->text)
                puts(compact);
        if (!rc && !o->terminal && !o->text) {
                out =
                    json_pack("{s:s, s:o, s:o, s:O, s:s, s:{s:i, s:i, s:s, s:i}}", "id", meta.id,
                              "issued", json_integer(meta.iat), "expires", json_integer(meta.exp),
                              "fields", released, "credential", compact, "qr", "version", q.version,
                              "modules", q.width, "level", QRIMG_LEVEL_NAME, "bytes", meta.size);
                if (o->png)
                        json_object_set_new(out, "png", json_string(o->png));
                rc = out ? cli__print_json(o->compact, out) : CLI_EFAIL;
        }
        if (!rc && fflush(stdout) != 0)
                rc = CLI_EFAIL;
        qrimg_free(&q);
out:
        free(compact);
        json_decref(released);
        json_decref(out);
        return rc;
}

int cli__qr(int argc, char **argv)
{
        struct qr_opts o = {0};
        int rc = parse_args(argc, argv, &o);
        if (rc)
                return rc < 0 ? CLI_OK : rc;
        const char *sub = o.npos ? o.pos[0] : "";
        if (!strcmp(sub, "issue"))
                return qr_issue(&o);
        if (!strcmp(sub, "verify"))
                return qr_verify(&o);
        if (!strcmp(sub, "parse-card"))
                return qr_parse_card(&o);
        return bad_usage(o.npos ? "unknown qr command '%s'" : "%s",
                         o.npos ? sub : "missing command");
}
