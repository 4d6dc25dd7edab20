/*
 * Bulk import and export of people in the file formats of docs/FORMATS.md (JSON Lines and CSV,
 * one person per line with residence and card).
 *
 * imp_run reads the files in one pass with memory independent of their size: every line is
 * parsed and checked on its own, then against the registry and the lines before it through the
 * store (temporary tables inside the open transaction, never an in-memory set of all IDs), and
 * written. The rules that look forward (spouses name each other, a household has exactly one
 * living head) are checked at the end. The whole import is one transaction: killed at any
 * moment, the registry is as it was before; an import that committed is durable. Each run
 * appends one `import` event to the journal, and each imported person's history shows it.
 *
 * Two modes, always chosen by the caller: all-or-nothing (any refused line and nothing is
 * stored) and valid-only (the valid lines are stored, the others refused, and so is every line
 * that depends on a refused one). Each refused line gets one JSON object in the reject report.
 *
 * imp_export writes every person in the same formats, by date of birth then ID (so parents come
 * before their children), such that export, import into an empty registry and export again
 * gives the same bytes.
 */
#ifndef POP_IMPORT_IMPORT_H
#define POP_IMPORT_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "registry/registry.h"

enum imp_format { IMP_JSONL = 1, IMP_CSV = 2 };
enum imp_mode { IMP_ALL_OR_NOTHING = 1, IMP_VALID_ONLY = 2 };

/* Progress: bytes of all files read so far and their total (0 when unknown); after the last
 * line, `phase` names the step that runs ("building indexes", "checking", "committing"), else it
 * is NULL. */
typedef void imp_progress_fn(void *ctx, uint64_t done, uint64_t total, int64_t records,
                             const char *phase);

struct imp_opts {
        enum imp_mode mode;
        enum imp_format format; /* 0: from each file's extension */
        const char *rejects;    /* path of the reject report (created or truncated) */
        int cache_mib;          /* the registry's page cache during the import; 0: 64 */
        imp_progress_fn *progress;
        void *progress_ctx;
};

struct imp_stats {
        int64_t lines;    /* records read (blank lines not counted) */
        int64_t loaded;   /* people stored (0 when the import was rolled back) */
        int64_t rejected; /* lines refused */
        int64_t households;
        int64_t seq; /* the journal event of the import; 0 when nothing was stored */
        int rolled_back;
};

/*
 * Imports the files. Returns 0 when the import committed (in valid-only mode also with refused
 * lines: see stats->rejected), POP_ERULE when all-or-nothing refused lines and stored nothing,
 * POP_EINVAL for a file that cannot be read as its format at all (a wrong CSV header), POP_EIO or
 * POP_ESTORE on failure (nothing stored).
 */
int imp_run(struct reg *r, const struct reg_ctx *ctx, const char *const *files, int n_files,
            const struct imp_opts *o, struct imp_stats *stats, struct pop_err *err) POP_MUST_USE;

/* Writes every person, by date of birth then ID (so parents come first); *n counts them. */
int imp_export(struct reg *r, FILE *out, enum imp_format fmt, int64_t *n,
               struct pop_err *err) POP_MUST_USE;

/* The CSV header line without its end of line: the fields of docs/FORMATS.md, in order. */
extern const char imp_csv_header[];

/* The format named by a file's extension (.jsonl, .json, .csv), or 0. */
enum imp_format imp_format_of(const char *path);

#endif
