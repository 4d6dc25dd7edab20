/*
 * Batch verification lines (see verify_batch.h). Fields are copied into the line's own buffer,
 * so a parsed line owns everything its request points to. Each thread keeps one libcsv parser
 * (a thread-specific key, freed when the thread ends): csv_fini resets it after a good line, so
 * a line costs no allocation; after a malformed one it is made anew.
 */
#include "eid/verify_batch.h"

#include <csv.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/name.h"
#include "core/pid.h"

#define VB_COLS_MAX 8

static const char *const col_names[] = {"pid", "name", "dob", "sex"};
/* col_names[i + 1] is the attribute col_attr[i]. */
static const enum verify_attr col_attr[] = {VERIFY_A_NAME, VERIFY_A_DOB, VERIFY_A_SEX};

/* Fields of one CSV line, copied into a buffer. */
struct row {
        char *buf;
        size_t cap, used;
        const char *f[VB_COLS_MAX];
        size_t len[VB_COLS_MAX];
        int n;
        bool too_many;
};

static void on_field(void *s, size_t len, void *data)
{
        struct row *r = data;
        if (r->n >= VB_COLS_MAX || r->used + len + 1 > r->cap) {
                r->too_many = true;
                return;
        }
        memcpy(r->buf + r->used, s, len);
        r->buf[r->used + len] = '\0';
        r->f[r->n] = r->buf + r->used;
        r->len[r->n++] = len;
        r->used += len + 1;
}

static void on_row(int c, void *data)
{
        (void)c;
        (void)data;
}

/* Strips one trailing CR; checks size and UTF-8 (no control characters). */
static int line_check(const char **line, size_t *len, struct pop_err *err)
{
        if (*len && (*line)[*len - 1] == '\r')
                (*len)--;
        if (*len > VB_LINE_MAX)
                return pop_fail(err, POP_EINVAL, "line-too-long",
                                "the line is longer than %d bytes", VB_LINE_MAX);
        struct pop_err e = {0};
        if (utf8_check(*line, *len, &e))
                return pop_fail(err, POP_EINVAL, "utf8-invalid", "%s", e.msg);
        return 0;
}

static pthread_key_t csv_key;
static pthread_once_t csv_once = PTHREAD_ONCE_INIT;
static bool csv_key_ok;

static void csv_drop(void *p)
{
        csv_free(p);
        free(p);
}

static void csv_key_make(void)
{
        csv_key_ok = pthread_key_create(&csv_key, csv_drop) == 0;
}

/* This thread's parser, ready for a line; NULL without memory. */
static struct csv_parser *csv_get(void)
{
        pthread_once(&csv_once, csv_key_make);
        struct csv_parser *p = csv_key_ok ? pthread_getspecific(csv_key) : NULL;
        if (p)
                return p;
        if (!(p = malloc(sizeof *p)))
                return NULL;
        if (csv_init(p, CSV_STRICT | CSV_STRICT_FINI) != 0 ||
            (csv_key_ok && pthread_setspecific(csv_key, p) != 0)) {
                csv_drop(p);
                return NULL;
        }
        return p; /* without a key, csv_put frees it after the line */
}

/* After a line: a parser left in an error state (or one without a key) is dropped. */
static void csv_put(struct csv_parser *p, bool failed)
{
        if (!csv_key_ok) {
                csv_drop(p);
        } else if (failed) {
                pthread_setspecific(csv_key, NULL);
                csv_drop(p);
        }
}

static int csv_fields(const char *line, size_t len, char *buf, size_t cap, struct row *r,
                      struct pop_err *err)
{
        memset(r, 0, sizeof *r);
        r->buf = buf;
        r->cap = cap;
        struct csv_parser *p = csv_get();
        if (!p)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        int rc = 0;
        bool failed = false;
        if (csv_parse(p, line, len, on_field, on_row, r) != len ||
            csv_fini(p, on_field, on_row, r) != 0) {
                rc = pop_fail(err, POP_EINVAL, "csv-quoting", "malformed CSV quoting: %s",
                              csv_strerror(csv_error(p)));
                failed = true;
        } else if (r->too_many) {
                rc = pop_fail(err, POP_EINVAL, "csv-columns", "more than %d columns", VB_COLS_MAX);
        }
        csv_put(p, failed);
        return rc;
}

int vb_header_parse(const char *line, size_t len, struct vb_header *h, struct pop_err *err)
{
        char buf[VB_LINE_MAX + 16];
        struct row r;
        int rc = line_check(&line, &len, err);
        if (rc || (rc = csv_fields(line, len, buf, sizeof buf, &r, err)))
                return rc;
        h->n_cols = r.n;
        h->pid = -1;
        for (int a = 0; a < VERIFY_N_ATTRS; a++)
                h->col[a] = -1;
        for (int i = 0; i < r.n; i++) {
                int k = -1;
                for (int j = 0; j < 4 && k < 0; j++)
                        if (!strcmp(r.f[i], col_names[j]))
                                k = j;
                if (k < 0)
                        return pop_fail(err, POP_EINVAL, "csv-header",
                                        "header column %d is not one of pid, name, dob, sex",
                                        i + 1);
                int *slot = k == 0 ? &h->pid : &h->col[col_attr[k - 1]];
                if (*slot >= 0)
                        return pop_fail(err, POP_EINVAL, "csv-header", "header names %s twice",
                                        col_names[k]);
                *slot = i;
        }
        if (h->pid < 0 || h->col[VERIFY_A_NAME] < 0 || h->col[VERIFY_A_DOB] < 0)
                return pop_fail(err, POP_EINVAL, "csv-header",
                                "the header must name the columns pid, name and dob");
        return 0;
}

static int set_pid(const char *s, size_t len, struct vb_line *out, struct pop_err *err)
{
        struct pid_info id;
        struct pop_err e = {0};
        if (pid_parse(s, len, &id, &e))
                return pop_fail(err, POP_EINVAL, "pid-malformed", "pid: %s", e.msg);
        memcpy(out->pid_text, s, PID_LEN);
        out->pid_text[PID_LEN] = '\0';
        out->rq.pid = pid_to_int(out->pid_text);
        return 0;
}

static int parse_csv(const struct vb_header *h, const char *line, size_t len, struct vb_line *out,
                     struct pop_err *err)
{
        struct row r;
        int rc = csv_fields(line, len, out->buf, sizeof out->buf, &r, err);
        if (rc)
                return rc;
        if (r.n != h->n_cols)
                return pop_fail(err, POP_EINVAL, "csv-columns", "%d columns, the header has %d",
                                r.n, h->n_cols);
        if ((rc = set_pid(r.f[h->pid], r.len[h->pid], out, err)))
                return rc;
        for (int a = 0; a < VERIFY_N_ATTRS; a++) {
                int c = h->col[a];
                /* An empty cell claims nothing. */
                if (c >= 0 && r.len[c]) {
                        out->rq.claim[a].s = r.f[c];
                        out->rq.claim[a].len = r.len[c];
                }
        }
        return 0;
}

static int parse_jsonl(const char *line, size_t len, struct vb_line *out, struct pop_err *err)
{
        json_error_t je;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
        int rc = 0;
        size_t used = 0;
        if (!o)
                return pop_fail(err, POP_EINVAL, "json-invalid", "not valid JSON at column %d: %s",
                                je.column, je.text);
        if (!json_is_object(o)) {
                rc = pop_fail(err, POP_EINVAL, "json-not-object", "the line is not a JSON object");
                goto out;
        }
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
                int k = -1;
                for (int j = 0; j < 4 && k < 0; j++)
                        if (!strcmp(key, col_names[j]))
                                k = j;
                if (k < 0) {
                        rc = pop_fail(err, POP_EINVAL, "unknown-field",
                                      "unknown member '%.32s' (pid, name, dob, sex)", key);
                        goto out;
                }
                if (json_is_null(v))
                        continue;
                if (!json_is_string(v)) {
                        rc = pop_fail(err, POP_EINVAL, "field-type", "'%s' must be a string",
                                      col_names[k]);
                        goto out;
                }
                const char *s = json_string_value(v);
                size_t n = json_string_length(v);
                if (k == 0) {
                        if ((rc = set_pid(s, n, out, err)))
                                goto out;
                        continue;
                }
                if (used + n + 1 > sizeof out->buf) {
                        rc = pop_fail(err, POP_EINVAL, "line-too-long", "the line is too long");
                        goto out;
                }
                memcpy(out->buf + used, s, n);
                out->buf[used + n] = '\0';
                out->rq.claim[col_attr[k - 1]].s = out->buf + used;
                out->rq.claim[col_attr[k - 1]].len = n;
                used += n + 1;
        }
        if (!out->pid_text[0])
                rc = pop_fail(err, POP_EINVAL, "field-missing", "the line has no pid");
out:
        json_decref(o);
        return rc;
}

int vb_line_parse(enum vb_format f, const struct vb_header *h, const char *line, size_t len,
                  enum match_mode mode, struct vb_line *out, struct pop_err *err)
{
        memset(&out->rq, 0, sizeof out->rq);
        out->rq.mode = mode;
        out->pid_text[0] = '\0';
        int rc = line_check(&line, &len, err);
        if (rc)
                return rc;
        rc = f == VB_CSV ? parse_csv(h, line, len, out, err) : parse_jsonl(line, len, out, err);
        if (rc)
                memset(&out->rq.claim, 0, sizeof out->rq.claim);
        return rc;
}
