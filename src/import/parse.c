/*
 * The line side of the bulk import: a reader that caps lines at 16 KiB and resynchronizes after
 * an over-long one, the CSV (libcsv, strict) and JSONL (jansson, duplicate keys refused) parsers
 * that turn a line into the 26 fields of docs/FORMATS.md, and the checks of one line on its own
 * with the core validators (pid_parse and pid_check_person, name_normalize, pdate_parse, region
 * codes, idcard_expiry), as an `enrol` event checks its fields. No storage: fuzzed as is.
 *
 * A field value never holds a line break (text refuses control characters), so a CSV record is
 * one physical line: a quoted field left open at the end of its line is malformed quoting, and
 * the next line starts a new record. That keeps line numbers exact and resynchronization simple.
 */
#include "import/import_int.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/idcard.h"

const char imp_csv_header[] =
    "pid,name,dob,sex,birth_province,hometown,ethnicity,religion,nationality,father,mother,"
    "spouse,status,death_date,household,relation,province,commune,address,since,tmp_province,"
    "tmp_commune,tmp_address,tmp_from,tmp_until,card_issued";

static const char *const csv_names[N_COLS] = {
    "pid",       "name",        "dob",          "sex",         "birth_province", "hometown",
    "ethnicity", "religion",    "nationality",  "father",      "mother",         "spouse",
    "status",    "death_date",  "household",    "relation",    "province",       "commune",
    "address",   "since",       "tmp_province", "tmp_commune", "tmp_address",    "tmp_from",
    "tmp_until", "card_issued",
};

/* JSONL: top-level keys, and the members of the two objects. */
static const char *const json_names[N_COLS] = {
    [C_PID] = "pid",
    [C_NAME] = "name",
    [C_DOB] = "dob",
    [C_SEX] = "sex",
    [C_BIRTH_PROVINCE] = "birth_province",
    [C_HOMETOWN] = "hometown",
    [C_ETHNICITY] = "ethnicity",
    [C_RELIGION] = "religion",
    [C_NATIONALITY] = "nationality",
    [C_FATHER] = "father",
    [C_MOTHER] = "mother",
    [C_SPOUSE] = "spouse",
    [C_STATUS] = "status",
    [C_DEATH_DATE] = "death_date",
    [C_HOUSEHOLD] = "household",
    [C_RELATION] = "relation",
    [C_PROVINCE] = "address.province",
    [C_COMMUNE] = "address.commune",
    [C_ADDRESS] = "address.line",
    [C_SINCE] = "since",
    [C_TMP_PROVINCE] = "temporary.province",
    [C_TMP_COMMUNE] = "temporary.commune",
    [C_TMP_ADDRESS] = "temporary.line",
    [C_TMP_FROM] = "temporary.from",
    [C_TMP_UNTIL] = "temporary.until",
    [C_CARD_ISSUED] = "card_issued",
};

const char *imp_col_name(enum imp_format fmt, enum imp_col c)
{
        if ((int)c < 0 || c >= N_COLS)
                return "";
        return fmt == IMP_CSV ? csv_names[c] : json_names[c];
}

/* ---- the reader ---- */

#define READ_BUF (256 * 1024)

struct imp_reader {
        FILE *f;
        char *buf;
        size_t start, end; /* unread bytes are buf[start..end) */
        bool eof;
        long lineno;
        uint64_t offset; /* bytes of the lines returned, ends of line included */
        uint64_t size;
        crypto_hash_sha256_state sha;
};

int imp_reader_open(const char *path, struct imp_reader **out, struct pop_err *err)
{
        *out = NULL;
        struct imp_reader *r = calloc(1, sizeof *r);
        if (!r || !(r->buf = malloc(READ_BUF))) {
                free(r);
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        }
        /* "-" is standard input (`popid import - --format csv`), read once, never closed here. */
        r->f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
        if (!r->f) {
                int e = errno;
                free(r->buf);
                free(r);
                return pop_fail(err, POP_EIO, "file-open", "cannot open %s: %s", path, strerror(e));
        }
        struct stat sb;
        if (fstat(fileno(r->f), &sb) == 0 && S_ISREG(sb.st_mode))
                r->size = (uint64_t)sb.st_size;
        crypto_hash_sha256_init(&r->sha);
        *out = r;
        return 0;
}

/* Reads more into the buffer after moving the unread bytes to its start. */
static int fill(struct imp_reader *r, struct pop_err *err)
{
        if (r->start > 0) {
                memmove(r->buf, r->buf + r->start, r->end - r->start);
                r->end -= r->start;
                r->start = 0;
        }
        size_t n = fread(r->buf + r->end, 1, READ_BUF - r->end, r->f);
        if (n > 0)
                crypto_hash_sha256_update(&r->sha, (const unsigned char *)r->buf + r->end, n);
        r->end += n;
        if (n == 0) {
                if (ferror(r->f))
                        return pop_fail(err, POP_EIO, "file-read", "read error: %s",
                                        strerror(errno));
                r->eof = true;
        }
        return 0;
}

int imp_reader_next(struct imp_reader *r, const char **line, size_t *len, long *lineno,
                    struct pop_err *err)
{
        *line = NULL;
        *len = 0;
        for (;;) {
                char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
                size_t avail = r->end - r->start;
                if (nl || (r->eof && avail > 0)) {
                        size_t n = nl ? (size_t)(nl - (r->buf + r->start)) : avail;
                        const char *s = r->buf + r->start;
                        r->start += n + (nl ? 1 : 0);
                        r->offset += n + (nl ? 1 : 0);
                        *lineno = ++r->lineno;
                        if (n > 0 && s[n - 1] == '\r')
                                n--;
                        *len = n;
                        if (n > IMP_LINE_MAX)
                                return POP_ETOOBIG;
                        *line = s;
                        return 1;
                }
                if (r->eof)
                        return 0;
                if (avail > IMP_LINE_MAX + 1) {
                        /* Over the cap with no end in sight: skip to the next newline. */
                        uint64_t n = avail;
                        r->start = r->end = 0;
                        r->offset += n;
                        for (;;) {
                                int rc = fill(r, err);
                                if (rc)
                                        return rc;
                                char *e = memchr(r->buf, '\n', r->end);
                                if (e) {
                                        size_t k = (size_t)(e - r->buf);
                                        n += k;
                                        r->start = k + 1;
                                        r->offset += k + 1;
                                        break;
                                }
                                n += r->end;
                                r->offset += r->end;
                                r->end = 0;
                                if (r->eof)
                                        break;
                        }
                        *lineno = ++r->lineno;
                        *len = (size_t)n;
                        return POP_ETOOBIG;
                }
                int rc = fill(r, err);
                if (rc)
                        return rc;
        }
}

uint64_t imp_reader_offset(const struct imp_reader *r)
{
        return r->offset;
}

uint64_t imp_reader_size(const struct imp_reader *r)
{
        return r->size;
}

void imp_reader_sha256(struct imp_reader *r, char hex[65])
{
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256_final(&r->sha, d);
        sodium_bin2hex(hex, 65, d, sizeof d);
}

void imp_reader_close(struct imp_reader *r)
{
        if (!r)
                return;
        if (r->f && r->f != stdin)
                fclose(r->f);
        free(r->buf);
        free(r);
}

/* ---- fields ---- */

struct raw {
        const char *s; /* NULL: absent (empty and null count as absent) */
        size_t len;
};

struct line_ctx {
        enum imp_format fmt;
        struct imp_reject *rej;
};

static int bad(struct line_ctx *x, int col, const char *rule, const char *fmt, ...)
    POP_PRINTF(4, 5);

static int bad(struct line_ctx *x, int col, const char *rule, const char *fmt, ...)
{
        snprintf(x->rej->field, sizeof x->rej->field, "%s",
                 col < 0 ? "" : imp_col_name(x->fmt, (enum imp_col)col));
        snprintf(x->rej->rule, sizeof x->rej->rule, "%s", rule);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->rej->reason, sizeof x->rej->reason, fmt, ap);
        va_end(ap);
        return POP_EINVAL;
}

/* A core validator's refusal, on a field. */
static int bad_core(struct line_ctx *x, int col, const struct pop_err *e)
{
        return bad(x, col, e->rule[0] ? e->rule : "field-invalid", "%s", e->msg);
}

/* ---- CSV ---- */

struct csv_row {
        char *buf; /* field bytes, each followed by a NUL */
        size_t used, cap;
        size_t off[N_COLS], len[N_COLS];
        int n_fields;
        int n_rows;
        bool too_big;
};

static void csv_field(void *s, size_t len, void *data)
{
        struct csv_row *row = data;
        if (row->n_rows > 0)
                return;
        if (row->n_fields >= N_COLS) {
                row->n_fields++;
                return;
        }
        if (row->used + len + 1 > row->cap) {
                row->too_big = true;
                return;
        }
        if (len)
                memcpy(row->buf + row->used, s, len);
        row->off[row->n_fields] = row->used;
        row->len[row->n_fields] = len;
        row->used += len;
        row->buf[row->used++] = '\0';
        row->n_fields++;
}

static void csv_row_end(int c, void *data)
{
        (void)c;
        struct csv_row *row = data;
        row->n_rows++;
}

/* Spaces around an unquoted value are part of it (and then refused by the validators). */
static int no_space(unsigned char c)
{
        (void)c;
        return 0;
}

static int parse_csv(struct line_ctx *x, const char *line, size_t len, char *scratch,
                     size_t scratch_cap, struct raw raw[N_COLS])
{
        if (memchr(line, '\r', len))
                return bad(x, -1, "text-control", "a carriage return inside the line");
        struct csv_parser p;
        if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
                return bad(x, -1, "nomem", "out of memory");
        csv_set_space_func(&p, no_space);
        struct csv_row row = {.buf = scratch, .cap = scratch_cap};
        int rc = 0;
        if (csv_parse(&p, line, len, csv_field, csv_row_end, &row) != len) {
                rc = bad(x, row.n_fields < N_COLS ? row.n_fields : -1, "csv-quoting",
                         "malformed CSV quoting in field %d: %s", row.n_fields + 1,
                         csv_strerror(csv_error(&p)));
        } else if (csv_fini(&p, csv_field, csv_row_end, &row) != 0) {
                rc = bad(x, row.n_fields < N_COLS ? row.n_fields : -1, "csv-quoting",
                         "malformed CSV quoting: a quoted field is not closed on its line (values "
                         "cannot hold line breaks)");
        }
        csv_free(&p);
        if (rc)
                return rc;
        if (row.too_big)
                return bad(x, -1, "line-too-long", "line over %d bytes", IMP_LINE_MAX);
        if (row.n_fields != N_COLS)
                return bad(x, -1, "csv-columns", "%d fields, expected %d (see the header)",
                           row.n_fields, N_COLS);
        for (int i = 0; i < N_COLS; i++) {
                raw[i].s = row.len[i] ? row.buf + row.off[i] : NULL;
                raw[i].len = row.len[i];
        }
        return 0;
}

/* ---- JSONL ---- */

/* Reads a string or null member into raw[col]; anything else is refused. */
static int json_value(struct line_ctx *x, json_t *v, int col, struct raw raw[N_COLS])
{
        if (json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return bad(x, col, "field-type", "must be a string");
        size_t n = json_string_length(v);
        const char *s = json_string_value(v);
        if (strlen(s) != n)
                return bad(x, col, "text-control", "contains a NUL character");
        raw[col].s = n ? s : NULL;
        raw[col].len = n;
        return 0;
}

static int json_object_fields(struct line_ctx *x, json_t *obj, int first, int n,
                              const char *const *keys, int top_col, struct raw raw[N_COLS])
{
        if (json_is_null(obj))
                return 0;
        if (!json_is_object(obj))
                return bad(x, top_col, "field-type", "must be an object");
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v)
        {
                int col = -1;
                for (int i = 0; i < n && col < 0; i++)
                        if (!strcmp(k, keys[i]))
                                col = first + i;
                if (col < 0) {
                        bad(x, top_col, "field-unknown", "unknown key '%.40s'", k);
                        const char *dot = strchr(x->rej->field, '.');
                        if (dot)
                                snprintf(x->rej->field + (dot - x->rej->field) + 1,
                                         sizeof x->rej->field - (size_t)(dot - x->rej->field) - 1,
                                         "%s", k);
                        return POP_EINVAL;
                }
                int rc = json_value(x, v, col, raw);
                if (rc)
                        return rc;
        }
        return 0;
}

static int parse_jsonl(struct line_ctx *x, const char *line, size_t len, json_t **keep,
                       struct raw raw[N_COLS])
{
        json_error_t je;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
                const char *rule = strstr(je.text, "UTF-8") || strstr(je.text, "decode byte")
                                       ? "text-utf8"
                                       : "json-malformed";
                return bad(x, -1, rule, "malformed JSON at column %d: %s", je.column, je.text);
        }
        *keep = o;
        if (!json_is_object(o))
                return bad(x, -1, "json-malformed", "a line must hold one JSON object");
        static const char *const addr_keys[] = {"province", "commune", "line"};
        static const char *const tmp_keys[] = {"province", "commune", "line", "from", "until"};
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
                int rc;
                if (!strcmp(k, "address")) {
                        rc = json_object_fields(x, v, C_PROVINCE, 3, addr_keys, C_PROVINCE, raw);
                } else if (!strcmp(k, "temporary")) {
                        rc = json_object_fields(x, v, C_TMP_PROVINCE, 5, tmp_keys, C_TMP_PROVINCE,
                                                raw);
                } else {
                        int col = -1;
                        for (int i = 0; i < N_COLS && col < 0; i++)
                                if (!strchr(json_names[i], '.') && !strcmp(k, json_names[i]))
                                        col = i;
                        if (col < 0) {
                                bad(x, -1, "field-unknown", "unknown key '%.40s'", k);
                                snprintf(x->rej->field, sizeof x->rej->field, "%.31s", k);
                                return POP_EINVAL;
                        }
                        rc = json_value(x, v, col, raw);
                }
                if (rc)
                        return rc;
        }
        return 0;
}

/* ---- checks of one line ---- */

static bool raw_is(const struct raw *r, const char *s)
{
        return r->s && r->len == strlen(s) && !memcmp(r->s, s, r->len);
}

static int get_pid(struct line_ctx *x, const struct raw *r, int col, int64_t *out)
{
        struct pid_info id;
        struct pop_err e = {0};
        *out = 0;
        if (!r->s)
                return 0;
        if (pid_parse(r->s, r->len, &id, &e))
                return bad_core(x, col, &e);
        *out = pid_to_int(id.pid);
        return 0;
}

static int get_date(struct line_ctx *x, const struct raw *r, int col, bool full, struct pdate today,
                    struct pdate *out)
{
        struct pop_err e = {0};
        memset(out, 0, sizeof *out);
        if (!r->s)
                return 0;
        if (full ? pdate_parse_full(r->s, r->len, out, &e) : pdate_parse(r->s, r->len, out, &e))
                return bad_core(x, col, &e);
        if (pdate_cmp(*out, today) > 0)
                return bad(x, col, "date-future", "%.*s is in the future", (int)r->len, r->s);
        return 0;
}

static int get_text(struct line_ctx *x, const struct raw *r, int col, bool name, char *out,
                    size_t cap)
{
        struct pop_err e = {0};
        out[0] = '\0';
        if (!r->s)
                return 0;
        int rc = name ? name_normalize(r->s, r->len, out, cap, &e)
                      : text_normalize(r->s, r->len, out, cap, &e);
        return rc ? bad_core(x, col, &e) : 0;
}

/*
 * A province code as recorded on a date that may be partial: legacy codes are the ones in force
 * before 1 July 2025, the 34 units from then (Resolution 202/2025/QH15). A partial date accepts a
 * code valid on any day it may stand for.
 */
static int get_province(struct line_ctx *x, const struct raw *r, int col, struct pdate on, int *out)
{
        struct pop_err e = {0};
        *out = 0;
        if (!r->s)
                return 0;
        if (region_parse_province(r->s, r->len, out, &e))
                return bad_core(x, col, &e);
        if (region_check_province(*out, pdate_earliest(on), &e) == 0)
                return 0;
        struct pop_err e2 = {0};
        if (region_check_province(*out, pdate_latest(on), &e2) == 0)
                return 0;
        return bad_core(x, col, &e);
}

static int get_commune(struct line_ctx *x, const struct raw *r, int col, char out[6])
{
        struct pop_err e = {0};
        out[0] = '\0';
        if (!r->s)
                return 0;
        if (region_check_commune(r->s, r->len, &e))
                return bad_core(x, col, &e);
        memcpy(out, r->s, 5);
        out[5] = '\0';
        return 0;
}

static const char *const relations[] = {"head",    "spouse",     "child",       "parent",
                                        "sibling", "grandchild", "grandparent", "relative",
                                        "other",   NULL};

/* The parts that name the line for the rules between lines, read before anything can fail. */
static void early(const struct raw raw[N_COLS], struct imp_rec *rec)
{
        struct pid_info id;
        if (raw[C_PID].s && pid_parse(raw[C_PID].s, raw[C_PID].len, &id, NULL) == 0)
                memcpy(rec->pid_text, id.pid, sizeof rec->pid_text);
        const struct raw *h = &raw[C_HOUSEHOLD];
        if (h->s && h->len <= IMP_KEY_MAX && utf8_check(h->s, h->len, NULL) == 0) {
                memcpy(rec->household, h->s, h->len);
                rec->household[h->len] = '\0';
        }
        for (int i = 0; relations[i]; i++)
                if (raw_is(&raw[C_RELATION], relations[i]))
                        snprintf(rec->relation, sizeof rec->relation, "%s", relations[i]);
}

static int check_person(struct line_ctx *x, const struct raw *raw, struct pdate today,
                        struct imp_rec *rec)
{
        struct person *p = &rec->p;
        int rc;
        if (!raw[C_PID].s)
                return bad(x, C_PID, "field-missing", "is required");
        if ((rc = get_pid(x, &raw[C_PID], C_PID, &p->pid)))
                return rc;
        for (int c = C_NAME; c <= C_SEX; c++)
                if (!raw[c].s)
                        return bad(x, c, "field-missing", "is required");
        /* The name's three forms from one normalization. */
        struct pop_err e = {0};
        if (name_forms(raw[C_NAME].s, raw[C_NAME].len, p->full_name, sizeof p->full_name,
                       p->name_fold, sizeof p->name_fold, p->name_key, sizeof p->name_key, &e))
                return bad_core(x, C_NAME, &e);
        if ((rc = get_date(x, &raw[C_DOB], C_DOB, false, today, &p->dob)))
                return rc;
        if (raw_is(&raw[C_SEX], "male"))
                p->sex = SEX_MALE;
        else if (raw_is(&raw[C_SEX], "female"))
                p->sex = SEX_FEMALE;
        else
                return bad(x, C_SEX, "field-invalid", "must be male or female");
        struct pid_info id;
        if (pid_parse(rec->pid_text, PID_LEN, &id, &e) || pid_check_person(&id, p->dob, p->sex, &e))
                return bad(x, C_PID, "pid-inconsistent", "%s", e.msg);
        /* A birth registered abroad carries a country code, not a province (Decree 137/2015
         * art. 13); elsewhere the province of registration is required. */
        if (!raw[C_BIRTH_PROVINCE].s && !id.country)
                return bad(x, C_BIRTH_PROVINCE, "field-missing", "is required");
        if ((rc = get_province(x, &raw[C_BIRTH_PROVINCE], C_BIRTH_PROVINCE, p->dob,
                               &p->birth_province)) ||
            (rc = get_text(x, &raw[C_HOMETOWN], C_HOMETOWN, false, p->hometown,
                           sizeof p->hometown)) ||
            (rc = get_text(x, &raw[C_ETHNICITY], C_ETHNICITY, false, p->ethnicity,
                           sizeof p->ethnicity)) ||
            (rc =
                 get_text(x, &raw[C_RELIGION], C_RELIGION, false, p->religion, sizeof p->religion)))
                return rc;
        const struct raw *nat = &raw[C_NATIONALITY];
        if (!nat->s) {
                memcpy(p->nationality, "VNM", 4);
        } else if (nat->len != 3 || strspn(nat->s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") < 3) {
                return bad(x, C_NATIONALITY, "field-invalid",
                           "must be an ISO 3166-1 alpha-3 code such as VNM");
        } else {
                memcpy(p->nationality, nat->s, 3);
                p->nationality[3] = '\0';
        }
        if ((rc = get_pid(x, &raw[C_FATHER], C_FATHER, &p->father)) ||
            (rc = get_pid(x, &raw[C_MOTHER], C_MOTHER, &p->mother)) ||
            (rc = get_pid(x, &raw[C_SPOUSE], C_SPOUSE, &p->spouse)))
                return rc;
        if (p->father == p->pid || p->mother == p->pid)
                return bad(x, p->father == p->pid ? C_FATHER : C_MOTHER, "field-invalid",
                           "a person is not their own parent");
        if (p->father && p->father == p->mother)
                return bad(x, C_MOTHER, "field-invalid", "father and mother are the same person");
        if (p->spouse == p->pid)
                return bad(x, C_SPOUSE, "field-invalid", "a person is not their own spouse");
        const struct raw *st = &raw[C_STATUS];
        if (!st->s || raw_is(st, "living"))
                p->status = PERSON_LIVING;
        else if (raw_is(st, "deceased"))
                p->status = PERSON_DECEASED;
        else if (raw_is(st, "missing"))
                p->status = PERSON_MISSING;
        else
                return bad(x, C_STATUS, "field-invalid", "must be living, deceased or missing");
        if ((rc = get_date(x, &raw[C_DEATH_DATE], C_DEATH_DATE, true, today, &p->death_date)))
                return rc;
        if (p->status == PERSON_DECEASED && pdate_is_none(p->death_date))
                return bad(x, C_DEATH_DATE, "field-missing", "is required for a deceased person");
        if (p->status != PERSON_DECEASED && !pdate_is_none(p->death_date))
                return bad(x, C_DEATH_DATE, "field-conflict", "only a deceased person has one");
        if (p->status == PERSON_DECEASED && pdate_cmp(p->death_date, p->dob) < 0)
                return bad(x, C_DEATH_DATE, "date-before-birth", "the death precedes the birth");
        return 0;
}

static int check_residence(struct line_ctx *x, const struct raw *raw, struct pdate today,
                           struct imp_rec *rec)
{
        const struct person *p = &rec->p;
        bool dead = p->status == PERSON_DECEASED;
        int rc;
        if (!raw[C_HOUSEHOLD].s) {
                for (int c = C_RELATION; c <= C_SINCE; c++)
                        if (raw[c].s)
                                return bad(x, c, "field-conflict", "applies only with household");
        } else {
                /* A deceased person has no residence (LR art. 24(1)(a)): their file line has none.
                 */
                if (dead)
                        return bad(x, C_HOUSEHOLD, "person-deceased",
                                   "a deceased person has no household");
                if (!rec->household[0])
                        return bad(x, C_HOUSEHOLD, "field-invalid",
                                   "a household key is valid UTF-8 text of at most %d bytes",
                                   IMP_KEY_MAX);
                for (int c = C_RELATION; c <= C_ADDRESS; c++)
                        if (!raw[c].s)
                                return bad(x, c, "field-missing", "is required with household");
                if (!rec->relation[0])
                        return bad(x, C_RELATION, "field-invalid",
                                   "must be head, spouse, child, parent, sibling, grandchild, "
                                   "grandparent, relative or other");
                if ((rc = get_date(x, &raw[C_SINCE], C_SINCE, false, today, &rec->since)))
                        return rc;
                if (pdate_is_none(rec->since))
                        rec->since = p->dob;
                if (pdate_cmp(rec->since, p->dob) < 0)
                        return bad(x, C_SINCE, "date-before-birth",
                                   "the residence precedes the birth");
                if ((rc = get_province(x, &raw[C_PROVINCE], C_PROVINCE, rec->since,
                                       &rec->province)) ||
                    (rc = get_commune(x, &raw[C_COMMUNE], C_COMMUNE, rec->commune)) ||
                    (rc = get_text(x, &raw[C_ADDRESS], C_ADDRESS, false, rec->address,
                                   sizeof rec->address)))
                        return rc;
        }
        bool any_tmp = false;
        for (int c = C_TMP_PROVINCE; c <= C_TMP_UNTIL; c++)
                any_tmp |= raw[c].s != NULL;
        if (any_tmp) {
                if (dead)
                        return bad(x, C_TMP_PROVINCE, "person-deceased",
                                   "a deceased person has no temporary residence");
                for (int c = C_TMP_PROVINCE; c <= C_TMP_UNTIL; c++)
                        if (!raw[c].s)
                                return bad(x, c, "field-missing",
                                           "is required with a temporary residence");
                rec->has_temp = true;
                if ((rc = get_date(x, &raw[C_TMP_FROM], C_TMP_FROM, true, today, &rec->tmp_from)))
                        return rc;
                struct pop_err e = {0};
                if (pdate_parse_full(raw[C_TMP_UNTIL].s, raw[C_TMP_UNTIL].len, &rec->tmp_until, &e))
                        return bad_core(x, C_TMP_UNTIL, &e);
                if (pdate_cmp(rec->tmp_from, p->dob) < 0)
                        return bad(x, C_TMP_FROM, "date-before-birth",
                                   "the temporary residence precedes the birth");
                if (pdate_cmp(rec->tmp_until, rec->tmp_from) <= 0)
                        return bad(x, C_TMP_UNTIL, "date-order", "must be after the start");
                /* LR art. 27(3): a temporary residence lasts at most 2 years. */
                if (pdate_cmp(rec->tmp_until, date_add_years(rec->tmp_from, 2)) > 0)
                        return bad(x, C_TMP_UNTIL, "temporary-too-long",
                                   "a temporary residence lasts at most 2 years (LR art. 27(3))");
                if ((rc = get_province(x, &raw[C_TMP_PROVINCE], C_TMP_PROVINCE, rec->tmp_from,
                                       &rec->tmp_province)) ||
                    (rc = get_commune(x, &raw[C_TMP_COMMUNE], C_TMP_COMMUNE, rec->tmp_commune)) ||
                    (rc = get_text(x, &raw[C_TMP_ADDRESS], C_TMP_ADDRESS, false, rec->tmp_address,
                                   sizeof rec->tmp_address)))
                        return rc;
                /* LR art. 27(1): temporary residence is outside the commune of permanent residence.
                 */
                if (rec->household[0] && !strcmp(rec->tmp_commune, rec->commune))
                        return bad(x, C_TMP_COMMUNE, "temporary-same-commune",
                                   "commune %s is the permanent residence (LR art. 27(1))",
                                   rec->commune);
        }
        if (raw[C_CARD_ISSUED].s) {
                if (dead)
                        return bad(x, C_CARD_ISSUED, "person-deceased",
                                   "a deceased person holds no valid card");
                /* LI art. 19: the identity card is issued to Vietnamese citizens. */
                if (strcmp(p->nationality, "VNM"))
                        return bad(x, C_CARD_ISSUED, "card-not-citizen",
                                   "identity cards are issued to Vietnamese citizens (LI art. 19)");
                if ((rc = get_date(x, &raw[C_CARD_ISSUED], C_CARD_ISSUED, true, today,
                                   &rec->card_issued)))
                        return rc;
                struct pop_err e = {0};
                if (idcard_expiry(p->dob, rec->card_issued, &rec->card_expires, &rec->card_never,
                                  &e))
                        return bad(x, C_CARD_ISSUED, "date-before-birth", "%s", e.msg);
                rec->has_card = true;
        }
        return 0;
}

int imp_parse_line(enum imp_format fmt, const char *line, size_t len, struct pdate today,
                   struct imp_rec *rec, struct imp_reject *rej)
{
        struct line_ctx x = {.fmt = fmt, .rej = rej};
        struct raw raw[N_COLS];
        memset(raw, 0, sizeof raw);
        memset(rec, 0, sizeof *rec);
        memset(rej, 0, sizeof *rej);
        if (len > IMP_LINE_MAX)
                return bad(&x, -1, "line-too-long", "line of %zu bytes, over %d", len,
                           IMP_LINE_MAX);
        int rc;
        json_t *keep = NULL;
        char scratch[IMP_LINE_MAX + N_COLS + 1];
        if (fmt == IMP_CSV)
                rc = parse_csv(&x, line, len, scratch, sizeof scratch, raw);
        else
                rc = parse_jsonl(&x, line, len, &keep, raw);
        if (rc == 0) {
                early(raw, rec);
                rc = check_person(&x, raw, today, rec);
                if (rc == 0)
                        rc = check_residence(&x, raw, today, rec);
        }
        json_decref(keep);
        return rc;
}
