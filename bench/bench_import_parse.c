/*
 * Benchmark of the import's line phase alone: the reader (imp_reader_next: buffered reads,
 * SHA-256 of every byte) and the pure per-line parser and validator (imp_parse_line: CSV or JSON,
 * the personal ID against dob and sex, codes, dates, names normalized to NFC with their folded
 * form and key, text normalized) on one thread, with no store. This is the work `popid import`
 * puts on its reader thread; the writer thread cannot go faster than it.
 *
 *   bench_import_parse FILE [--reps R]   (FILE: a .csv or .jsonl from `popid gen`)
 *
 * Reports lines/s (median of R passes over the file, file in the page cache after the first)
 * with the thread's CPU time, and prints one JSON line (starting with '{').
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "import/import_int.h"

#define BENCH_NAME "bench_import_parse"
#include "bench_util.h"

static double cpu_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One pass: the lines read and refused, wall and CPU seconds. */
static void pass(const char *path, enum imp_format fmt, long *lines, long *refused, double *wall,
                 double *cpu)
{
        static const struct pdate today = {2026, 11, 23};
        struct imp_reader *in = NULL;
        struct pop_err e = {0};
        struct imp_rec rec;
        struct imp_reject rej;
        if (imp_reader_open(path, &in, &e))
                die("%s", e.msg);
        double t0 = now_s(), c0 = cpu_s();
        *lines = *refused = 0;
        bool header = fmt == IMP_CSV;
        for (;;) {
                const char *line;
                size_t len;
                long lineno;
                int rc = imp_reader_next(in, &line, &len, &lineno, &e);
                if (rc == 0)
                        break;
                if (rc < 0 && rc != POP_ETOOBIG)
                        die("%s", e.msg);
                if (header) {
                        header = false;
                        continue;
                }
                (*lines)++;
                if (rc != 1 || imp_parse_line(fmt, line, len, today, &rec, &rej))
                        (*refused)++;
        }
        *wall = now_s() - t0;
        *cpu = cpu_s() - c0;
        imp_reader_close(in);
}

int main(int argc, char **argv)
{
        const char *path = NULL;
        int reps = 3;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--reps") && i + 1 < argc)
                        reps = (int)strtol(argv[++i], NULL, 10);
                else
                        path = argv[i];
        }
        if (!path || reps < 1 || reps > 100)
                die("usage: bench_import_parse FILE [--reps R]");
        enum imp_format fmt = imp_format_of(path);
        if (!fmt)
                die("%s: not .csv or .jsonl", path);
        double *wall = xcalloc((size_t)reps, sizeof *wall);
        double *cpu = xcalloc((size_t)reps, sizeof *cpu);
        long lines = 0, refused = 0;
        for (int r = 0; r < reps; r++)
                pass(path, fmt, &lines, &refused, &wall[r], &cpu[r]);
        qsort(wall, (size_t)reps, sizeof *wall, cmp_double);
        qsort(cpu, (size_t)reps, sizeof *cpu, cmp_double);
        double w = wall[reps / 2], c = cpu[reps / 2];
        printf("%-8s %10s %10s %8s %12s %12s\n", "format", "lines", "refused", "reps", "lines/s",
               "cpu lines/s");
        printf("%-8s %10ld %10ld %8d %12.0f %12.0f\n", fmt == IMP_CSV ? "csv" : "jsonl", lines,
               refused, reps, (double)lines / w, (double)lines / c);
        printf("{\"bench\":\"import_parse\",\"format\":\"%s\",\"lines\":%ld,\"refused\":%ld,"
               "\"reps\":%d,\"median_s\":%.3f,\"lines_per_s\":%.0f,\"cpu_lines_per_s\":%.0f}\n",
               fmt == IMP_CSV ? "csv" : "jsonl", lines, refused, reps, w, (double)lines / w,
               (double)lines / c);
        free(wall);
        free(cpu);
        return 0;
}
