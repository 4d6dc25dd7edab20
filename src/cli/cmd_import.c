/*
 * `popid import FILE... --mode all-or-nothing|valid-only [--rejects FILE] [--format csv|jsonl]`
 * (FILE "-": standard input, with --format and --rejects) and `popid export [--format jsonl|csv]
 * [--out FILE]`: thin wrappers over src/import/. They parse their own options (cli.c dispatches
 * them with the raw arguments), print a JSON summary on stdout and, on a terminal, a one-line
 * progress bar on stderr.
 */
#include "cli/cli.h"
#include "cli/cli_int.h"

#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_audit.h"
#include "import/import.h"

#define MAX_FILES 64

struct iopts {
        const char *db;
        const char *actor;
        const char *mode;
        const char *rejects;
        const char *format;
        const char *out;
        const char *purpose;
        const char *cache_mib;
        int compact;
        const char *files[MAX_FILES];
        int n_files;
};

static int usage(const char *fmt, const char *arg)
{
        fprintf(stderr, "popid: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, " (see popid help)\n");
        return CLI_EUSAGE;
}

static int parse(int argc, char **argv, struct iopts *o)
{
        static const char *const names[] = {"db",     "actor", "mode",    "rejects",
                                            "format", "out",   "purpose", "cache-mib"};
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
                        if (o->n_files == MAX_FILES)
                                return usage("at most %s files at once", "64");
                        o->files[o->n_files++] = a;
                        continue;
                }
                if (!strcmp(a, "--compact")) {
                        o->compact = 1;
                        continue;
                }
                const char **slot[] = {&o->db,     &o->actor, &o->mode,    &o->rejects,
                                       &o->format, &o->out,   &o->purpose, &o->cache_mib};
                int k = -1;
                for (int j = 0; j < 8 && k < 0; j++)
                        if (!strcmp(a + 2, names[j]))
                                k = j;
                if (k < 0)
                        return usage("unknown option %s", a);
                if (i + 1 >= argc)
                        return usage("option %s needs a value", a);
                *slot[k] = argv[++i];
        }
        if (!o->db) {
                const char *e = getenv("POPID_DB");
                o->db = e && *e ? e : NULL;
        }
        return 0;
}

static int open_registry(const struct iopts *o, struct reg **r)
{
        struct pop_err e = {0};
        int rc = reg_open(o->db, r, &e);
        return rc ? cli__fail(&e, rc) : 0;
}

static int parse_format(const char *s, enum imp_format *out)
{
        if (!s)
                return 0;
        if (!strcmp(s, "csv"))
                *out = IMP_CSV;
        else if (!strcmp(s, "jsonl"))
                *out = IMP_JSONL;
        else
                return usage("--format is csv or jsonl, not '%s'", s);
        return 0;
}

/*
 * One audit entry for the whole run (docs/AUDIT.md): action "import" or "export", no single
 * subject, the fields of docs/FORMATS.md. The journal names each imported person; an export is
 * recorded before any data is written.
 */
static int audit(const struct iopts *o, const char *actor, const char *action, int prc,
                 const struct pop_err *perr)
{
        json_t *fields = json_object();
        char name[32];
        for (const char *s = imp_csv_header; *s;) {
                size_t n = strcspn(s, ",");
                snprintf(name, sizeof name, "%.*s", (int)n, s);
                json_object_set_new(fields, name, json_true());
                s += n + (s[n] == ',');
        }
        struct pop_err ae = {0};
        int rc = cli__audit_read_once(o->db, actor, o->purpose, action, 0, fields, prc, perr, &ae);
        json_decref(fields);
        if (!rc)
                return 0;
        fprintf(stderr, "popid: the %s could not be audited\n", action);
        cli__fail(&ae, rc);
        return rc == POP_EINVAL ? CLI_EUSAGE : CLI_EFAIL;
}

/* ---- progress ---- */

struct progress {
        bool tty;
        double start, last;
        bool shown;
};

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* On a terminal a bar redrawn at most 5 times a second; elsewhere a line every 10 seconds. The
 * steps after the last line (indexes, checks, commit) are shown as they start. */
static void on_progress(void *ctx, uint64_t done, uint64_t total, int64_t records,
                        const char *phase)
{
        struct progress *p = ctx;
        double t = now_s();
        if (phase) {
                if (p->tty) {
                        fprintf(stderr, "\r\033[K%lld records read, %s...", (long long)records,
                                phase);
                        p->shown = true;
                }
                return;
        }
        if (t - p->last < (p->tty ? 0.2 : 10.0))
                return;
        p->last = t;
        double el = t - p->start;
        double rate = el > 0 ? (double)records / el : 0;
        double frac = total ? (double)done / (double)total : 0;
        double eta = frac > 0 ? el * (1 - frac) / frac : 0;
        if (p->tty) {
                char bar[31];
                int fill = (int)(frac * 30);
                for (int i = 0; i < 30; i++)
                        bar[i] = i < fill ? '#' : '.';
                bar[30] = '\0';
                fprintf(stderr, "\r[%s] %3.0f%% %lld records %.0f/s ETA %.0fs  ", bar, frac * 100,
                        (long long)records, rate, eta);
                p->shown = true;
        } else {
                fprintf(stderr, "popid: import %.0f%%, %lld records, %.0f/s, ETA %.0fs\n",
                        frac * 100, (long long)records, rate, eta);
        }
}

static void make_actor(const struct iopts *o, char *buf, size_t cap, struct reg_ctx *ctx)
{
        reg_ctx_now(ctx, cli__actor(o->actor, buf, cap));
}

int cli_import(int argc, char **argv)
{
        struct iopts o = {0};
        int rc = parse(argc, argv, &o);
        if (rc)
                return rc;
        if (o.n_files == 0)
                return usage("usage: popid import FILE... --mode all-or-nothing|valid-only "
                             "[--rejects FILE] [--format csv|jsonl] [--cache-mib N]%s",
                             "");
        if (o.out)
                return usage("unknown option %s for import", "--out");
        struct imp_opts io = {0};
        if (!o.mode)
                return usage("choose what happens to refused lines: --mode all-or-nothing (nothing "
                             "is stored) or --mode valid-only (the valid lines are stored)%s",
                             "");
        if (!strcmp(o.mode, "all-or-nothing"))
                io.mode = IMP_ALL_OR_NOTHING;
        else if (!strcmp(o.mode, "valid-only"))
                io.mode = IMP_VALID_ONLY;
        else
                return usage("--mode is all-or-nothing or valid-only, not '%s'", o.mode);
        if ((rc = parse_format(o.format, &io.format)))
                return rc;
        if (o.cache_mib) {
                char *end;
                long v = strtol(o.cache_mib, &end, 10);
                if (*end || v < 16 || v > 1 << 20)
                        return usage("--cache-mib is a number of MiB from 16, not '%s'",
                                     o.cache_mib);
                io.cache_mib = (int)v;
        }
        int n_stdin = 0;
        for (int i = 0; i < o.n_files; i++)
                n_stdin += !strcmp(o.files[i], "-");
        if (n_stdin > 1)
                return usage("standard input (-) can be read only once%s", "");
        if (n_stdin && !o.rejects)
                return usage("reading standard input (-): name the reject report with --rejects "
                             "FILE%s",
                             "");
        if (n_stdin && !o.format)
                return usage("reading standard input (-): give its format with --format csv or "
                             "--format jsonl%s",
                             "");
        char rejects[4096];
        if (!o.rejects) {
                snprintf(rejects, sizeof rejects, "%s.rejects.jsonl", o.files[0]);
                o.rejects = rejects;
        }
        io.rejects = o.rejects;
        /* The page cache grows and shrinks by the megabyte during a bulk load: keep freed memory
         * instead of returning it to the system at every shrink (glibc's default trims above
         * 128 KiB, which cost a tenth of the import in brk calls). */
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
        mallopt(M_TOP_PAD, 64 << 20);
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
        struct progress pr = {.tty = isatty(2), .start = now_s()};
        pr.last = pr.start;
        io.progress = on_progress;
        io.progress_ctx = &pr;
        struct reg *r;
        if ((rc = open_registry(&o, &r)))
                return rc;
        char ab[160];
        struct reg_ctx ctx;
        make_actor(&o, ab, sizeof ab, &ctx);
        struct imp_stats st;
        struct pop_err e = {0};
        int prc = imp_run(r, &ctx, o.files, o.n_files, &io, &st, &e);
        reg_close(r);
        if (prc != POP_EINVAL && (rc = audit(&o, ctx.actor, "import", prc, &e)))
                return rc;
        if (pr.shown)
                fputs("\r\033[K", stderr);
        double el = now_s() - pr.start;
        if (prc && prc != POP_ERULE)
                return cli__fail(&e, prc);
        json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:f, s:I}", "mode", o.mode, "records",
                              (json_int_t)st.lines, "loaded", (json_int_t)st.loaded, "rejected",
                              (json_int_t)st.rejected, "households", (json_int_t)st.households,
                              "rejects", o.rejects, "seconds", el, "seq", (json_int_t)st.seq);
        json_dumpf(j, stdout, (o.compact ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(j);
        if (prc)
                return cli__fail(&e, prc);
        if (st.rejected)
                fprintf(stderr, "popid: %lld line(s) refused, see %s\n", (long long)st.rejected,
                        o.rejects);
        return CLI_OK;
}

int cli_export(int argc, char **argv)
{
        struct iopts o = {0};
        int rc = parse(argc, argv, &o);
        if (rc)
                return rc;
        if (o.n_files)
                return usage("unexpected argument '%s'", o.files[0]);
        if (o.mode || o.rejects || o.cache_mib)
                return usage("unknown option for export%s", "");
        enum imp_format fmt = IMP_JSONL;
        if (!o.format && o.out && imp_format_of(o.out))
                fmt = imp_format_of(o.out);
        if ((rc = parse_format(o.format, &fmt)))
                return rc;
        FILE *out = stdout;
        if (o.out && strcmp(o.out, "-") && !(out = fopen(o.out, "w")))
                return usage("cannot create %s", o.out);
        struct reg *r = NULL;
        char ab[160];
        struct reg_ctx ctx;
        make_actor(&o, ab, sizeof ab, &ctx);
        if ((rc = open_registry(&o, &r)) || (rc = audit(&o, ctx.actor, "export", 0, NULL))) {
                reg_close(r);
                if (out != stdout)
                        fclose(out);
                return rc;
        }
        int64_t n = 0;
        struct pop_err e = {0};
        int prc = imp_export(r, out, fmt, &n, &e);
        reg_close(r);
        if (out != stdout && fclose(out) != 0 && prc == 0)
                prc = pop_fail(&e, POP_EIO, "export-write", "cannot write %s", o.out);
        if (prc)
                return cli__fail(&e, prc);
        if (out != stdout) {
                json_t *j = json_pack("{s:I, s:s}", "exported", (json_int_t)n, "out", o.out);
                if (j)
                        json_dumpf(j, stdout, JSON_COMPACT);
                fputc('\n', stdout);
                json_decref(j);
        }
        return CLI_OK;
}
