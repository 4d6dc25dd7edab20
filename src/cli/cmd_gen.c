/*
 * `popid gen --people N --seed S [--format jsonl|csv] [--out FILE] [--today YYYY-MM-DD]`: writes
 * a synthetic population (src/gen/gen.h) to stdout or a file. Needs no registry. Usage errors
 * exit 2 with one line on stderr; write errors exit 1.
 */
#include "cli/cmd_gen.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "gen/gen.h"

static const char usage[] =
    "usage: popid gen --people N --seed S [--format jsonl|csv] [--out FILE] "
    "[--today YYYY-MM-DD]";

static int bad_usage(const char *what, const char *arg)
{
        fprintf(stderr, "popid gen: ");
        fprintf(stderr, what, arg);
        fprintf(stderr, "\n%s\n", usage);
        return CLI_EUSAGE;
}

/* A whole number 0..max in decimal, nothing else (no sign, no spaces). */
static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
        if (!s[0] || strspn(s, "0123456789") != strlen(s))
                return -1;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end || v > max)
                return -1;
        *out = v;
        return 0;
}

static int write_file(void *ctx, const char *buf, size_t len)
{
        return fwrite(buf, 1, len, (FILE *)ctx) == len ? 0 : POP_EIO;
}

int cmd_gen(int argc, char **argv)
{
        struct gen_opts o = {.format = GEN_JSONL};
        const char *out = NULL;
        bool have_people = false, have_seed = false;
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
                        printf("%s\n", usage);
                        return CLI_OK;
                }
                if (strncmp(a, "--", 2) != 0)
                        return bad_usage("unexpected argument '%s'", a);
                static const char *const known[] = {"--people", "--seed", "--format", "--out",
                                                    "--today"};
                bool is_known = false;
                for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
                        is_known |= !strcmp(a, known[k]);
                if (!is_known)
                        return bad_usage("unknown option %s", a);
                if (i + 1 >= argc)
                        return bad_usage("option %s needs a value", a);
                const char *v = argv[++i];
                if (!strcmp(a, "--people")) {
                        if (parse_count(v, GEN_MAX_PEOPLE, &o.people))
                                return bad_usage("--people needs a whole number up to 1000000000, "
                                                 "got '%s'",
                                                 v);
                        have_people = true;
                } else if (!strcmp(a, "--seed")) {
                        if (parse_count(v, UINT64_MAX, &o.seed))
                                return bad_usage(
                                    "--seed needs a whole number (0 to 2^64-1), got '%s'", v);
                        have_seed = true;
                } else if (!strcmp(a, "--format")) {
                        if (!strcmp(v, "jsonl"))
                                o.format = GEN_JSONL;
                        else if (!strcmp(v, "csv"))
                                o.format = GEN_CSV;
                        else
                                return bad_usage("--format must be jsonl or csv, got '%s'", v);
                } else if (!strcmp(a, "--out")) {
                        if (!v[0])
                                return bad_usage("--out needs a file name%s", "");
                        out = v;
                } else { /* --today */
                        struct pop_err e = {0};
                        if (pdate_parse_full(v, strlen(v), &o.today, &e) ||
                            o.today.y < GEN_TODAY_MIN_YEAR || o.today.y > GEN_TODAY_MAX_YEAR)
                                return bad_usage(
                                    "--today needs a date YYYY-MM-DD from 2000 to 2390, "
                                    "got '%s'",
                                    v);
                }
        }
        if (!have_people)
                return bad_usage("--people is required%s", "");
        if (!have_seed)
                return bad_usage("--seed is required%s", "");

        FILE *f = stdout;
        if (out && !(f = fopen(out, "wb"))) {
                fprintf(stderr, "popid gen: cannot create %s: %s\n", out, strerror(errno));
                return CLI_EFAIL;
        }
        /* The generator buffers: it hands over chunks of about a mebibyte, which go straight to
         * write(2) rather than through another copy. */
        setvbuf(f, NULL, _IONBF, 0);

        struct pop_err e = {0};
        int rc = gen_run(&o, write_file, f, NULL, &e);
        int close_rc = f == stdout ? fflush(f) : fclose(f);
        if (rc || close_rc) {
                if (rc && rc != POP_EIO)
                        fprintf(stderr, "popid gen: %s\n", e.msg);
                else
                        fprintf(stderr, "popid gen: writing %s failed: %s\n", out ? out : "stdout",
                                strerror(errno));
                return rc == POP_EINVAL ? CLI_EUSAGE : CLI_EFAIL;
        }
        return CLI_OK;
}
