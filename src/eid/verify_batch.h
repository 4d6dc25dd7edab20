/*
 * The line parser of batch verification (POST /v1/auth/verify-batch, docs/AUTH.md "Batch"): a
 * telco or bank sends CSV (a header naming the columns pid, name, dob and optionally sex, in any
 * order) or JSON lines ({"pid", "name", "dob", "sex"?}), one record per line. Each line is parsed
 * on its own, so one malformed line gets its own answer naming the problem and the rest go on.
 * A CSV record is one line: a quoted field may not hold a line break (RFC 4180 allows it; a
 * record spanning lines could not be answered line for line). Pure; fuzzed by
 * fuzz/fuzz_verify_batch.c. libcsv parses CSV, jansson JSON.
 */
#ifndef POP_EID_VERIFY_BATCH_H
#define POP_EID_VERIFY_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "eid/verify.h"

#define VB_LINE_MAX  4096                       /* bytes of one line, line break excluded */
#define VB_LINES_MAX 20000000LL                 /* lines of one batch, the header included */
#define VB_BYTES_MAX (2LL * 1024 * 1024 * 1024) /* bytes of one batch */

enum vb_format { VB_CSV, VB_JSONL };

/* CSV columns: the index of pid and of each attribute's column, -1 when absent. */
struct vb_header {
        int n_cols;
        int pid;
        int col[VERIFY_N_ATTRS];
};

/*
 * Parses the CSV header line: names among pid, name, dob, sex (each once; pid, name and dob
 * required). POP_EINVAL naming the problem.
 */
int vb_header_parse(const char *line, size_t len, struct vb_header *h,
                    struct pop_err *err) POP_MUST_USE;

/* One parsed line: the request (claims point into buf) and the pid as sent, for the answer. */
struct vb_line {
        struct verify_request rq;
        char pid_text[13]; /* "" when the pid is missing or malformed */
        char buf[VB_LINE_MAX + 16];
};

/*
 * Parses one line (len bytes, no line break; a trailing CR is ignored) of format f (h: the CSV
 * header, unused for JSONL) with match mode mode. POP_EINVAL with err.rule one of utf8-invalid,
 * line-too-long, csv-quoting, csv-columns, json-invalid, json-not-object, unknown-field,
 * field-type, field-missing, pid-malformed, and a message naming the problem.
 */
int vb_line_parse(enum vb_format f, const struct vb_header *h, const char *line, size_t len,
                  enum match_mode mode, struct vb_line *out, struct pop_err *err) POP_MUST_USE;

#endif
