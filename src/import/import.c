/*
 * `popid import`: loads the bulk files of docs/FORMATS.md into the registry. See import.h.
 *
 * Parser threads read the files batch after batch and parse and check each line on its own
 * (parse.c: pure, the costly Unicode work), two batches at once; this thread takes the batches in
 * file order, applies the rules between lines and against the registry and writes, all inside
 * one transaction opened by store_import_begin. What must be
 * remembered between lines lives in the store's temporary tables (loaded IDs with their line,
 * dob and sex, refused IDs, households by key, spouses waiting for their partner), so memory
 * stays the same whatever the size of the files. The people themselves wait in an external sort
 * (sorter.c, a fixed memory budget) and are written in ID order after the last line, so the
 * person table grows at its end instead of at random IDs. At the end come the checks that look
 * forward (a household has exactly one living head, spouses name each other) and the refusals they
 * propagate to the lines that depend on a refused one; then either a rollback (all-or-nothing with
 * refusals) or a commit.
 *
 * Crash safety is SQLite's: nothing is visible or durable before the one COMMIT, and a process
 * killed before it leaves uncommitted WAL frames that recovery ignores.
 */
#include "import/import_int.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Decree 137/2015 art. 11 governs collecting existing citizen records into the database, as an
 * `enrol` event does one by one. */
#define IMPORT_BASIS                                                                               \
        "Decree 137/2015/ND-CP art. 11: collection of citizen data into the national "             \
        "database (bulk import)"

/* Lines travel from the parsers in batches; a few batches in flight absorb the parsers' and the
 * writer's uneven pace (about 0.6 MB each). */
#define BATCH  256
#define N_BUFS 8

/* Threads that parse, each a batch at a time: the reading of the files is shared (under a lock,
 * batch after batch in file order) and the parsing (CSV, the ID checks, the Unicode work of every
 * name, about 4 us a line) runs on both at once, so the writer no longer waits for one parser. */
#define N_PARSERS 2

enum item_state { IT_OK, IT_REJECTED, IT_PARSE };

struct item {
        int state;
        long line;
        size_t off, len; /* IT_PARSE: the line's bytes in the batch's raw */
        struct imp_rec rec;
        struct imp_reject rej;
};

struct batch {
        int n;
        int file;
        uint64_t offset; /* bytes of the file read up to the end of this batch */
        bool file_end;   /* the last batch of the file: sha256 is set */
        bool last;       /* the last batch of all */
        int err;         /* a fatal error of the reading */
        struct pop_err perr;
        char sha256[65];
        bool busy; /* claimed by a parser, until the writer is done with it */
        bool full; /* parsed: the writer's */
        char *raw; /* the batch's lines as read, one after the other */
        size_t raw_len, raw_cap;
        struct item v[BATCH];
};

struct reader {
        pthread_mutex_t mu; /* the ring: busy, full, stop */
        pthread_cond_t cv;
        struct batch *b; /* N_BUFS */
        bool stop;
        const char *const *files;
        const enum imp_format *fmts;
        int n_files;
        struct pdate today;
        /* The input, read by one parser at a time (in_mu): the next batch's number, the file
         * being read and whether its header is still to come. */
        pthread_mutex_t in_mu;
        int seq;
        int f;
        struct imp_reader *in;
        bool header, done;
};

struct file_stat {
        char sha256[65];
        int64_t lines, loaded, rejected;
        enum imp_format fmt;
};

/* The household of the last line: members of a household usually come together. */
#define HH_KEY_MAX (IMP_KEY_MAX + 12)

struct hh_cache {
        char key[HH_KEY_MAX]; /* "" when empty */
        struct household h;
        int heads;
};

/* A spouse claim held back one line: a couple usually comes on two lines in a row, and then
 * the claims meet here without the store. */
struct spouse_hold {
        int64_t pid, spouse, src;
        enum sex sex;
        int dead;
};

/* The last people loaded: a child's parents are usually a few lines up. */
#define N_RECENT 16
struct recent {
        int64_t pid;
        struct pdate dob;
        enum sex sex;
};

/* The memory the people wait in, sorted by ID, for their ordered write after the last line. */
#define SORT_BUDGET (64 << 20)

/* The IDs loaded so far (ids.c): 1M wait in memory (32 MiB with their hash table) before a
 * sorted batch goes to the store, and a 32 MiB Bloom filter of all of them (2^28 bits in blocks
 * of 512, 4 bits per ID: about 1 false positive in 2,000 at 10M IDs, 1 in 3 at 100M, each
 * costing one lookup in the store). A million people fill the first; the filter is touched all over
 * by a million too: the same memory at 1M and 100M. */
#define IDS_CAP        (1 << 20)
#define IDS_BLOOM_LOG2 28

struct imp {
        /* Seconds waiting for the parsers, and writing (shown with POPID_IMPORT_TRACE). */
        double t_wait, t_load;
        struct imp_sorter *people;
        struct recent recent[N_RECENT];
        unsigned n_recent;
        struct hh_cache hc;
        struct spouse_hold held; /* pid 0: none */
        struct imp_ids *ids;
        /* The registry held no person when the import began: until the ordered write after the
         * last line (the person table is written only then), no line need look anyone up in it. */
        bool empty;
        struct reg *r;
        struct store *st;
        const struct reg_ctx *ctx;
        const struct imp_opts *o;
        const char *const *files;
        struct file_stat *fs;
        FILE *rej;
        int64_t seq;
        struct imp_stats *stats;
        struct pop_err *err;
};

enum imp_format imp_format_of(const char *path)
{
        const char *dot = strrchr(path, '.');
        if (!dot)
                return 0;
        if (!strcmp(dot, ".jsonl") || !strcmp(dot, ".json") || !strcmp(dot, ".ndjson"))
                return IMP_JSONL;
        if (!strcmp(dot, ".csv"))
                return IMP_CSV;
        return 0;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The process's CPU time: next to the wall clock it tells the work from the waiting on a shared
 * machine. */
static double cpu_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* With POPID_IMPORT_TRACE set, where the time went goes to stderr. */
static void trace(const char *what, double since, double cpu_since)
{
        if (getenv("POPID_IMPORT_TRACE"))
                fprintf(stderr, "import: %s %.3fs (cpu %.3fs)\n", what, now_s() - since,
                        cpu_s() - cpu_since);
}

/* ---- the parser threads ---- */

/* The ring's slot for batch seq, once the writer is done with what it held; NULL on stop. */
static struct batch *reader_slot(struct reader *rd, int seq)
{
        struct batch *b = &rd->b[seq % N_BUFS];
        pthread_mutex_lock(&rd->mu);
        while (b->busy && !rd->stop)
                pthread_cond_wait(&rd->cv, &rd->mu);
        bool stop = rd->stop;
        if (!stop)
                b->busy = true;
        pthread_mutex_unlock(&rd->mu);
        if (stop)
                return NULL;
        b->n = 0;
        b->raw_len = 0;
        b->file_end = b->last = false;
        b->err = 0;
        return b;
}

static void reader_push(struct reader *rd, struct batch *b)
{
        pthread_mutex_lock(&rd->mu);
        b->full = true;
        pthread_cond_broadcast(&rd->cv);
        pthread_mutex_unlock(&rd->mu);
}

static bool blank(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] != ' ' && s[i] != '\t')
                        return false;
        return true;
}

/* Keeps a copy of a line in the batch (the reader's buffer is reused by the next line). */
static int keep(struct batch *b, struct item *it, const char *line, size_t len)
{
        if (b->raw_len + len > b->raw_cap) {
                size_t cap = b->raw_cap ? b->raw_cap : 64 * 1024;
                while (cap < b->raw_len + len)
                        cap *= 2;
                char *raw = realloc(b->raw, cap);
                if (!raw)
                        return pop_fail(&b->perr, POP_ENOMEM, "nomem", "out of memory");
                b->raw = raw;
                b->raw_cap = cap;
        }
        memcpy(b->raw + b->raw_len, line, len);
        it->off = b->raw_len;
        it->len = len;
        b->raw_len += len;
        return 0;
}

/*
 * Reads the next batch's lines (under in_mu): at most BATCH, all of one file; a file's last batch
 * carries its SHA-256, the batch after it starts the next file. A read error or a file that is
 * not of its format ends everything (b->err, b->last).
 */
static void fill(struct reader *rd, struct batch *b)
{
        int rc = 0;
        while (rd->f < rd->n_files) {
                int f = rd->f;
                b->file = f;
                if (!rd->in) {
                        if ((rc = imp_reader_open(rd->files[f], &rd->in, &b->perr)))
                                break;
                        rd->header = rd->fmts[f] == IMP_CSV;
                }
                const char *line;
                size_t len;
                long lineno = 0;
                rc = imp_reader_next(rd->in, &line, &len, &lineno, &b->perr);
                if (rc == 0) {
                        if (rd->header) {
                                rc = pop_fail(&b->perr, POP_EINVAL, "csv-header",
                                              "%s is empty: a CSV file starts with the header",
                                              rd->files[f]);
                                break;
                        }
                        b->offset = imp_reader_offset(rd->in);
                        b->file_end = true;
                        imp_reader_sha256(rd->in, b->sha256);
                        imp_reader_close(rd->in);
                        rd->in = NULL;
                        if (++rd->f == rd->n_files)
                                b->last = true;
                        return;
                }
                if (rc < 0 && rc != POP_ETOOBIG)
                        break;
                if (rd->header) {
                        rd->header = false;
                        if (rc == 1 && len == strlen(imp_csv_header) &&
                            !memcmp(line, imp_csv_header, len)) {
                                rc = 0;
                                continue;
                        }
                        rc = pop_fail(&b->perr, POP_EINVAL, "csv-header",
                                      "%s: line 1 is not the CSV header of docs/FORMATS.md "
                                      "(pid,name,dob,...,card_issued)",
                                      rd->files[f]);
                        break;
                }
                if (rc == 1 && blank(line, len)) {
                        rc = 0;
                        continue;
                }
                struct item *it = &b->v[b->n++];
                it->line = lineno;
                if (rc == POP_ETOOBIG) {
                        memset(&it->rec, 0, sizeof it->rec);
                        memset(&it->rej, 0, sizeof it->rej);
                        snprintf(it->rej.rule, sizeof it->rej.rule, "line-too-long");
                        snprintf(it->rej.reason, sizeof it->rej.reason,
                                 "line of %zu bytes, over the %d-byte cap", len, IMP_LINE_MAX);
                        it->state = IT_REJECTED;
                } else {
                        it->state = IT_PARSE;
                        if ((rc = keep(b, it, line, len)))
                                break;
                }
                rc = 0;
                if (b->n == BATCH) {
                        b->offset = imp_reader_offset(rd->in);
                        return;
                }
        }
        if (rc) {
                b->err = rc;
                imp_reader_close(rd->in);
                rd->in = NULL;
        }
        b->last = true;
}

static void *parser_main(void *arg)
{
        struct reader *rd = arg;
        for (;;) {
                pthread_mutex_lock(&rd->in_mu);
                struct batch *b = rd->done ? NULL : reader_slot(rd, rd->seq);
                if (!b) {
                        rd->done = true;
                        pthread_mutex_unlock(&rd->in_mu);
                        return NULL;
                }
                rd->seq++;
                fill(rd, b);
                rd->done = b->last;
                pthread_mutex_unlock(&rd->in_mu);
                for (int k = 0; k < b->n && !b->err; k++) {
                        struct item *it = &b->v[k];
                        if (it->state == IT_PARSE)
                                it->state = imp_parse_line(rd->fmts[b->file], b->raw + it->off,
                                                           it->len, rd->today, &it->rec, &it->rej)
                                                ? IT_REJECTED
                                                : IT_OK;
                }
                reader_push(rd, b);
        }
}

/* A household key is local to its file (FORMATS.md): the store knows it as "FILE:KEY". */
static const char *hh_key(int file, const char *key, char out[HH_KEY_MAX])
{
        snprintf(out, HH_KEY_MAX, "%d:%s", file, key);
        return out;
}

/* The key as the file wrote it. */
static const char *hh_key_shown(const char *key)
{
        const char *colon = key ? strchr(key, ':') : NULL;
        return colon ? colon + 1 : "";
}

/* ---- the people, held for their write in ID order ---- */

/*
 * What a loaded line writes, as the sorter holds it: the person, the permanent and temporary
 * residence and the card when the line has them. Numbers are copied whole; texts go with their
 * NUL. Written in ID order after the last line, the residence and card tables also grow in ID
 * order, and their indexes that lead with the ID are built from sorted rows.
 */
struct held {
        struct person p;
        struct residence res, tmp;
        struct card card;
        bool has_res, has_tmp, has_card;
};

struct codec {
        char *buf;
        size_t n, cap;
        bool bad;
};

static void put(struct codec *c, const void *v, size_t len)
{
        if (c->bad || c->n + len > c->cap) {
                c->bad = true;
                return;
        }
        memcpy(c->buf + c->n, v, len);
        c->n += len;
}

static void put_str(struct codec *c, const char *s)
{
        put(c, s, strlen(s) + 1);
}

static void get(struct codec *c, void *v, size_t len)
{
        if (c->bad || c->n + len > c->cap) {
                c->bad = true;
                return;
        }
        memcpy(v, c->buf + c->n, len);
        c->n += len;
}

static void get_str(struct codec *c, char *out, size_t cap)
{
        const char *nul = c->bad ? NULL : memchr(c->buf + c->n, '\0', c->cap - c->n);
        size_t len = nul ? (size_t)(nul - (c->buf + c->n)) : 0;
        if (!nul || len >= cap) {
                c->bad = true;
                out[0] = '\0';
                return;
        }
        memcpy(out, c->buf + c->n, len + 1);
        c->n += len + 1;
}

/* A field copied whole into (enc) or out of the record. */
static void num(struct codec *c, void *v, size_t len, bool enc)
{
        if (enc)
                put(c, v, len);
        else
                get(c, v, len);
}

static void person_code(struct codec *c, struct person *p, bool enc)
{
        num(c, &p->pid, sizeof p->pid, enc);
        num(c, &p->dob, sizeof p->dob, enc);
        num(c, &p->sex, sizeof p->sex, enc);
        num(c, &p->birth_province, sizeof p->birth_province, enc);
        num(c, &p->father, sizeof p->father, enc);
        num(c, &p->mother, sizeof p->mother, enc);
        num(c, &p->spouse, sizeof p->spouse, enc);
        num(c, &p->status, sizeof p->status, enc);
        num(c, &p->death_date, sizeof p->death_date, enc);
        num(c, &p->created_at, sizeof p->created_at, enc);
        num(c, &p->updated_at, sizeof p->updated_at, enc);
        num(c, &p->version, sizeof p->version, enc);
        char *t[] = {p->full_name, p->name_fold, p->name_key,   p->hometown,
                     p->ethnicity, p->religion,  p->nationality};
        size_t caps[] = {sizeof p->full_name,  sizeof p->name_fold, sizeof p->name_key,
                         sizeof p->hometown,   sizeof p->ethnicity, sizeof p->religion,
                         sizeof p->nationality};
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                if (enc)
                        put_str(c, t[i]);
                else
                        get_str(c, t[i], caps[i]);
        }
}

static void residence_code(struct codec *c, struct residence *r, bool enc)
{
        num(c, &r->kind, sizeof r->kind, enc);
        num(c, &r->household, sizeof r->household, enc);
        num(c, &r->province, sizeof r->province, enc);
        num(c, r->commune, sizeof r->commune, enc);
        num(c, &r->valid_from, sizeof r->valid_from, enc);
        num(c, &r->valid_to, sizeof r->valid_to, enc);
        if (enc) {
                put_str(c, r->relation);
                put_str(c, r->address);
        } else {
                get_str(c, r->relation, sizeof r->relation);
                get_str(c, r->address, sizeof r->address);
        }
}

static void card_code(struct codec *c, struct card *k, bool enc)
{
        num(c, &k->issued, sizeof k->issued, enc);
        num(c, &k->expires, sizeof k->expires, enc);
        num(c, &k->never_expires, sizeof k->never_expires, enc);
        num(c, &k->status, sizeof k->status, enc);
}

/* Encodes (enc) or decodes h; false when it does not fit or is damaged. */
static bool held_code(struct codec *c, struct held *h, bool enc)
{
        uint8_t has = (uint8_t)(h->has_res | h->has_tmp << 1 | h->has_card << 2);
        num(c, &has, sizeof has, enc);
        h->has_res = has & 1;
        h->has_tmp = has >> 1 & 1;
        h->has_card = has >> 2 & 1;
        person_code(c, &h->p, enc);
        if (h->has_res)
                residence_code(c, &h->res, enc);
        if (h->has_tmp)
                residence_code(c, &h->tmp, enc);
        if (h->has_card)
                card_code(c, &h->card, enc);
        return !c->bad && (enc || c->n == c->cap);
}

/* Holds a loaded line for the ordered write. */
static int hold(struct imp *m, struct held *h)
{
        char buf[sizeof(struct held)];
        struct codec c = {.buf = buf, .cap = sizeof buf};
        if (!held_code(&c, h, true))
                return pop_fail(m->err, POP_EINVAL, "import-sort", "a line too large to hold");
        return imp_sorter_add(m->people, h->p.pid, buf, c.n, m->err);
}

/*
 * Writes the lines held, in ID order: each insert appends to the person, residence and card
 * B-trees. Their IDs were checked against the registry and each other as their lines came.
 */
static int write_people(struct imp *m)
{
        int rc = imp_sorter_finish(m->people, m->err);
        int64_t key;
        const void *rec;
        size_t len;
        struct held h;
        struct pop_err e = {0};
        while (rc == 0 && (rc = imp_sorter_next(m->people, &key, &rec, &len, m->err)) == 1) {
                memset(&h, 0, sizeof h);
                struct codec c = {.buf = (char *)rec, .cap = len};
                if (!held_code(&c, &h, false) || h.p.pid != key)
                        return pop_fail(m->err, POP_EIO, "import-sort",
                                        "the import's temporary sort file is damaged");
                h.res.pid = h.tmp.pid = h.card.pid = h.p.pid;
                if ((rc = store_person_insert(m->st, &h.p, &e)) ||
                    (h.has_res && (rc = store_residence_insert(m->st, &h.res, &e))) ||
                    (h.has_tmp && (rc = store_residence_insert(m->st, &h.tmp, &e))) ||
                    (h.has_card && (rc = store_card_insert(m->st, &h.card, &e))))
                        return *m->err = e, rc;
        }
        return rc;
}

/* ---- the IDs loaded so far ---- */

/* A sorted batch of loaded IDs to the store's list. */
static int ids_to_store(void *ctx, const struct imp_id *v, size_t n, struct pop_err *err)
{
        struct imp *m = ctx;
        struct person p; /* only pid, dob and sex are read */
        memset(&p, 0, sizeof p);
        for (size_t i = 0; i < n; i++) {
                p.pid = v[i].pid;
                p.dob = v[i].dob;
                p.sex = (enum sex)v[i].sex;
                int rc = store_import_loaded(m->st, &p, v[i].src, err);
                if (rc)
                        return rc;
        }
        return 0;
}

static int ids_from_store(void *ctx, int64_t pid, struct imp_id *out, struct pop_err *err)
{
        struct imp *m = ctx;
        struct person p;
        int rc = store_import_find(m->st, pid, &p, &out->src, err);
        if (rc == 0) {
                out->pid = pid;
                out->dob = p.dob;
                out->sex = (int32_t)p.sex;
        }
        return rc;
}

/* A loaded ID: 0 with its dob and sex in *out (the rest zero) and *src, POP_ENOTFOUND when this
 * import did not load it. */
static int ids_find(struct imp *m, int64_t pid, struct person *out, int64_t *src, struct pop_err *e)
{
        struct imp_id x;
        int rc = imp_ids_find(m->ids, pid, &x, e);
        if (rc)
                return rc;
        memset(out, 0, sizeof *out);
        out->pid = pid;
        out->dob = x.dob;
        out->sex = (enum sex)x.sex;
        *src = x.src;
        return 0;
}

/* 1 when the ID is in the registry or loaded by this import, 0 when not, <0 on failure. */
static int known(struct imp *m, int64_t pid, struct pop_err *e)
{
        struct person p;
        int64_t src;
        int rc = ids_find(m, pid, &p, &src, e);
        if (rc == 0)
                return 1;
        if (rc != POP_ENOTFOUND)
                return rc;
        return m->empty ? 0 : store_person_exists(m->st, pid, e);
}

/* ---- refusals ---- */

static json_t *jstr(const char *s)
{
        json_t *v = s && *s ? json_string(s) : json_null();
        return v ? v : json_string("(not valid UTF-8)");
}

/* Writes one line of the reject report. */
static int report(struct imp *m, int file, long line, const char *pid, const char *field,
                  const char *rule, const char *reason)
{
        json_t *o = json_object();
        json_object_set_new(o, "file", jstr(m->files[file]));
        json_object_set_new(o, "line", json_integer(line));
        json_object_set_new(o, "pid", jstr(pid));
        json_object_set_new(o, "field", jstr(field));
        json_object_set_new(o, "rule", jstr(rule));
        json_object_set_new(o, "reason", jstr(reason));
        int rc = json_dumpf(o, m->rej, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (rc || fputc('\n', m->rej) == EOF)
                return pop_fail(m->err, POP_EIO, "rejects-write", "cannot write the reject report");
        m->stats->rejected++;
        m->fs[file].rejected++;
        return 0;
}

/*
 * Refuses a line. `loaded`: its person was already written (a refusal found afterwards), so the
 * ID is now refused for those who depend on it. A line whose ID is taken (in the registry or by
 * an earlier line) leaves that ID alone.
 */
static int refuse(struct imp *m, int file, long line, const struct imp_rec *rec, bool loaded,
                  const char *field, const char *rule, const char *reason)
{
        char key[HH_KEY_MAX];
        int rc = report(m, file, line, rec->pid_text, field, rule, reason);
        if (rc)
                return rc;
        struct pop_err e = {0};
        if (rec->pid_text[0] && strcmp(rule, "person-exists") && strcmp(rule, "person-duplicate")) {
                int64_t pid = pid_to_int(rec->pid_text);
                rc = loaded ? 0 : known(m, pid, &e);
                if (rc == 0)
                        rc = store_import_reject(m->st, pid, loaded, &e);
                if (rc < 0)
                        return *m->err = e, rc;
        }
        if (!loaded && rec->household[0] && !strcmp(rec->relation, "head") &&
            (rc =
                 store_import_household_refused_head(m->st, hh_key(file, rec->household, key), &e)))
                return *m->err = e, rc;
        return 0;
}

static int refusef(struct imp *m, int file, long line, const struct imp_rec *rec, bool loaded,
                   const char *field, const char *rule, const char *fmt, ...) POP_PRINTF(8, 9);

static int refusef(struct imp *m, int file, long line, const struct imp_rec *rec, bool loaded,
                   const char *field, const char *rule, const char *fmt, ...)
{
        char reason[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof reason, fmt, ap);
        va_end(ap);
        return refuse(m, file, line, rec, loaded, field, rule, reason);
}

static const char *fname(const struct imp *m, int file, enum imp_col c)
{
        return imp_col_name(m->fs[file].fmt, c);
}

/* ---- one line against the registry and the lines before it ---- */

/* The ID a household key "H" + 10 digits (as popid export writes) asks to keep, or 0. */
static int64_t key_id(const char *key)
{
        if (key[0] != 'H' || strlen(key) != 11 || strspn(key + 1, "0123456789") != 10)
                return 0;
        return strtoll(key + 1, NULL, 10);
}

/* Hands the held spouse claim to the store, which matches it with the partner's. */
static int flush_spouse(struct imp *m)
{
        struct spouse_hold hd = m->held;
        if (!hd.pid)
                return 0;
        m->held.pid = 0;
        int outcome;
        struct pop_err e = {0};
        int rc = store_import_spouse(m->st, hd.pid, hd.sex, hd.dead, hd.spouse, &outcome, &e);
        if (rc)
                return *m->err = e, rc;
        if (outcome != STORE_SPOUSE_SAME_SEX)
                return 0;
        /* LMF art. 8(2): the State does not recognise marriage between people of the same sex. */
        struct imp_rec rec;
        memset(&rec, 0, sizeof rec);
        pid_from_int(hd.pid, rec.pid_text);
        int file = (int)(hd.src >> 32);
        m->stats->loaded--;
        m->fs[file].loaded--;
        return refuse(m, file, (long)(hd.src & 0xffffffff), &rec, true, fname(m, file, C_SPOUSE),
                      "marriage-same-sex", "the spouse has the same sex (LMF art. 8(2))");
}

/* 1 when the parent named in col is acceptable, 0 when the line was refused, <0 on failure. */
static int check_parent(struct imp *m, int file, long line, const struct imp_rec *rec,
                        enum imp_col col, int64_t pid, enum sex want)
{
        struct person par;
        struct pop_err e = {0};
        char b[PID_LEN + 1];
        pid_from_int(pid, b);
        const char *role = col == C_FATHER ? "father" : "mother";
        int rc = POP_EAGAIN;
        for (unsigned i = 0; i < N_RECENT && rc == POP_EAGAIN; i++) {
                if (m->recent[i].pid == pid) {
                        par.sex = m->recent[i].sex;
                        par.dob = m->recent[i].dob;
                        rc = 0;
                }
        }
        int64_t src;
        if (rc == POP_EAGAIN && (rc = ids_find(m, pid, &par, &src, &e)) == POP_ENOTFOUND &&
            !m->empty)
                rc = store_person_get(m->st, pid, &par, &e);
        if (rc == POP_ENOTFOUND) {
                if ((rc = store_import_is_rejected(m->st, pid, &e)) < 0)
                        return *m->err = e, rc;
                if (rc == 1)
                        rc = refusef(m, file, line, rec, false, fname(m, file, col), "ref-rejected",
                                     "the %s %s was refused", role, b);
                else
                        rc = refusef(
                            m, file, line, rec, false, fname(m, file, col), "parent-unknown",
                            "the %s %s is neither on an earlier line nor in the registry", role, b);
                return rc;
        }
        if (rc)
                return *m->err = e, rc;
        /* Refused lines return 0 from here, as above: the line is done. */
        if (par.sex != want)
                return refusef(m, file, line, rec, false, fname(m, file, col), "parent-sex",
                               "the %s %s is %s", role, b, sex_name(par.sex));
        if (pdate_cmp(par.dob, rec->p.dob) >= 0)
                return refusef(m, file, line, rec, false, fname(m, file, col),
                               "birth-before-parent", "the %s %s was not born before the person",
                               role, b);
        return 1;
}

static int load(struct imp *m, int file, long line, struct imp_rec *rec)
{
        struct store *st = m->st;
        struct person *p = &rec->p;
        struct pop_err e = {0};
        int rc;
        int64_t src = ((int64_t)file << 32) | line;
        if (p->father &&
            (rc = check_parent(m, file, line, rec, C_FATHER, p->father, SEX_MALE)) <= 0)
                return rc;
        if (p->mother &&
            (rc = check_parent(m, file, line, rec, C_MOTHER, p->mother, SEX_FEMALE)) <= 0)
                return rc;
        struct household h = {0};
        int heads = 0;
        bool hh_known = false;
        char key[HH_KEY_MAX];
        hh_key(file, rec->household, key);
        if (rec->household[0]) {
                if (!strcmp(m->hc.key, key)) {
                        h = m->hc.h;
                        heads = m->hc.heads;
                        rc = 0;
                } else {
                        rc = store_import_household_find(st, key, &h, &heads, &e);
                }
                if (rc == 0) {
                        hh_known = true;
                        if (h.province != rec->province || strcmp(h.commune, rec->commune) ||
                            strcmp(h.address, rec->address))
                                return refusef(m, file, line, rec, false,
                                               fname(m, file, C_HOUSEHOLD), "household-address",
                                               "household '%s' has another address on an earlier "
                                               "line (%02d, %s, %s)",
                                               rec->household, h.province, h.commune, h.address);
                } else if (rc != POP_ENOTFOUND) {
                        return *m->err = e, rc;
                }
        }
        p->created_at = p->updated_at = m->ctx->now_ms / 1000;
        p->version = m->seq;
        /* The people of the registry, then those of the lines before. */
        if ((rc = m->empty ? 0 : store_person_exists(st, p->pid, &e)) == 1)
                return refuse(m, file, line, rec, false, fname(m, file, C_PID), "person-exists",
                              "the ID is already in the registry");
        if (rc < 0)
                return *m->err = e, rc;
        rc = imp_ids_add(
            m->ids, &(struct imp_id){.pid = p->pid, .src = src, .dob = p->dob, .sex = p->sex}, &e);
        if (rc == POP_ECONFLICT)
                return refuse(m, file, line, rec, false, fname(m, file, C_PID), "person-duplicate",
                              "the ID is on an earlier line of this import");
        if (rc)
                return *m->err = e, rc;
        /* What the line writes waits for the ordered write after the last line. */
        struct held hl;
        memset(&hl, 0, sizeof hl);
        if (rec->household[0]) {
                if (!hh_known) {
                        h.id = key_id(rec->household);
                        h.head = 0;
                        h.province = rec->province;
                        memcpy(h.commune, rec->commune, sizeof h.commune);
                        snprintf(h.address, sizeof h.address, "%s", rec->address);
                        h.created = rec->since;
                        if ((rc = store_import_household_add(st, key, &h, &e)))
                                return *m->err = e, rc;
                        m->stats->households++;
                }
                struct residence res = {0};
                res.pid = p->pid;
                res.kind = RESIDENCE_PERMANENT;
                res.household = h.id;
                snprintf(res.relation, sizeof res.relation, "%s", rec->relation);
                res.province = rec->province;
                memcpy(res.commune, rec->commune, sizeof res.commune);
                snprintf(res.address, sizeof res.address, "%s", rec->address);
                res.valid_from = rec->since;
                hl.res = res;
                hl.has_res = true;
                /* Only a living member heads a household (LR art. 10); deceased lines have none. */
                if (!strcmp(rec->relation, "head") && p->status != PERSON_DECEASED) {
                        if ((rc = store_import_household_head(st, key, h.id, p->pid, rec->since,
                                                              heads, &e)))
                                return *m->err = e, rc;
                        if (heads == 0)
                                h.head = p->pid;
                        heads++;
                }
                snprintf(m->hc.key, sizeof m->hc.key, "%s", key);
                m->hc.h = h;
                m->hc.heads = heads;
        }
        if (rec->has_temp) {
                struct residence t = {0};
                t.pid = p->pid;
                t.kind = RESIDENCE_TEMPORARY;
                t.province = rec->tmp_province;
                memcpy(t.commune, rec->tmp_commune, sizeof t.commune);
                snprintf(t.address, sizeof t.address, "%s", rec->tmp_address);
                t.valid_from = rec->tmp_from;
                t.valid_to = rec->tmp_until;
                hl.tmp = t;
                hl.has_tmp = true;
        }
        if (rec->has_card) {
                struct card c = {0};
                c.pid = p->pid;
                c.issued = rec->card_issued;
                c.expires = rec->card_expires;
                c.never_expires = rec->card_never;
                c.status = CARD_VALID;
                hl.card = c;
                hl.has_card = true;
        }
        hl.p = *p;
        if ((rc = hold(m, &hl)))
                return rc;
        m->stats->loaded++;
        m->fs[file].loaded++;
        m->recent[m->n_recent++ % N_RECENT] = (struct recent){p->pid, p->dob, p->sex};
        if (!p->spouse)
                return 0;
        struct spouse_hold *hd = &m->held;
        if (hd->pid && hd->pid == p->spouse && hd->spouse == p->pid && hd->sex != p->sex) {
                hd->pid = 0; /* the two name each other: done */
                return 0;
        }
        if ((rc = flush_spouse(m)))
                return rc;
        *hd = (struct spouse_hold){.pid = p->pid,
                                   .spouse = p->spouse,
                                   .src = src,
                                   .sex = p->sex,
                                   .dead = p->status == PERSON_DECEASED};
        return 0;
}

/* ---- the checks at the end ---- */

struct deferred {
        struct imp *m;
        enum store_import_query q;
        int64_t n;
};

static int on_deferred(void *ctx, const struct store_import_row *row)
{
        struct deferred *d = ctx;
        struct imp *m = d->m;
        struct pop_err e = {0};
        int rc = store_import_is_rejected(m->st, row->pid, &e);
        if (rc < 0)
                return *m->err = e, rc;
        if (rc == 1)
                return 0;
        /* LMF art. 65: a marriage ends when a spouse dies, and the survivor's record names no
         * spouse any more (as a death event leaves it): a deceased person's spouse need not name
         * them back, only exist. */
        bool exists = false;
        if (d->q == STORE_IMPORT_SPOUSES && !row->n) {
                if ((rc = store_person_exists(m->st, row->other, &e)) < 0)
                        return *m->err = e, rc;
                exists = rc == 1;
                if (exists && row->m)
                        return 0;
        }
        struct imp_rec rec;
        memset(&rec, 0, sizeof rec);
        pid_from_int(row->pid, rec.pid_text);
        int file = (int)(row->src >> 32);
        long line = (long)(row->src & 0xffffffff);
        char other[PID_LEN + 1];
        pid_from_int(row->other, other);
        m->stats->loaded--;
        m->fs[file].loaded--;
        d->n++;
        if (d->q == STORE_IMPORT_HOUSEHOLDS) {
                if (row->n == 0 && row->m > 0)
                        return refusef(
                            m, file, line, &rec, true, fname(m, file, C_HOUSEHOLD), "ref-rejected",
                            "the line heading household '%s' was refused", hh_key_shown(row->key));
                if (row->n == 0)
                        return refusef(
                            m, file, line, &rec, true, fname(m, file, C_HOUSEHOLD),
                            "household-head-count",
                            "household '%s' has no living head (exactly one is required, "
                            "LR art. 10)",
                            hh_key_shown(row->key));
                return refusef(m, file, line, &rec, true, fname(m, file, C_HOUSEHOLD),
                               "household-head-count",
                               "household '%s' has %d living heads (exactly one is required, LR "
                               "art. 10)",
                               hh_key_shown(row->key), row->n);
        }
        if (d->q == STORE_IMPORT_SPOUSES) {
                if (row->n)
                        return refusef(m, file, line, &rec, true, fname(m, file, C_SPOUSE),
                                       "ref-rejected", "the spouse %s was refused", other);
                if (!exists)
                        return refusef(
                            m, file, line, &rec, true, fname(m, file, C_SPOUSE), "spouse-unknown",
                            "the spouse %s is neither in the file nor in the registry", other);
                return refusef(m, file, line, &rec, true, fname(m, file, C_SPOUSE),
                               "spouse-not-reciprocal",
                               "the spouse %s does not name this person back", other);
        }
        enum imp_col col = !strcmp(row->key, "father")   ? C_FATHER
                           : !strcmp(row->key, "mother") ? C_MOTHER
                           : !strcmp(row->key, "spouse") ? C_SPOUSE
                                                         : C_HOUSEHOLD;
        return refusef(m, file, line, &rec, true, fname(m, file, col), "ref-rejected",
                       "%s %s was refused", col == C_HOUSEHOLD ? "the household head" : row->key,
                       other);
}

static int deferred_checks(struct imp *m)
{
        struct pop_err e = {0};
        struct deferred d = {.m = m, .q = STORE_IMPORT_HOUSEHOLDS};
        double t = now_s(), c = cpu_s();
        int rc = store_import_deferred(m->st, d.q, on_deferred, &d, &e);
        trace("end check of households", t, c);
        if (rc == 0) {
                t = now_s();
                c = cpu_s();
                d.q = STORE_IMPORT_SPOUSES;
                rc = store_import_deferred(m->st, d.q, on_deferred, &d, &e);
                trace("end check of spouses", t, c);
        }
        /* A refusal refuses who depends on it, and so on: until nothing more is refused. */
        d.q = STORE_IMPORT_DEPENDENTS;
        for (int64_t before = -1; rc == 0 && d.n != before;) {
                before = d.n;
                t = now_s();
                c = cpu_s();
                rc = store_import_deferred(m->st, d.q, on_deferred, &d, &e);
                trace("end check of dependents", t, c);
        }
        if (rc && !m->err->msg[0])
                *m->err = e;
        return rc;
}

/* ---- the run ---- */

static void phase(const struct imp *m, uint64_t total, const char *what)
{
        if (m->o->progress)
                m->o->progress(m->o->progress_ctx, total, total, m->stats->lines, what);
}

static const char *mode_name(enum imp_mode mode)
{
        return mode == IMP_VALID_ONLY ? "valid-only" : "all-or-nothing";
}

static json_t *payload(const struct imp *m, int n_files)
{
        json_t *files = json_array();
        for (int i = 0; i < n_files; i++)
                json_array_append_new(
                    files, json_pack("{s:o, s:s, s:s, s:I, s:I, s:I}", "name", jstr(m->files[i]),
                                     "format", m->fs[i].fmt == IMP_CSV ? "csv" : "jsonl", "sha256",
                                     m->fs[i].sha256, "records", (json_int_t)m->fs[i].lines,
                                     "loaded", (json_int_t)m->fs[i].loaded, "rejected",
                                     (json_int_t)m->fs[i].rejected));
        char date[11];
        pdate_format(m->ctx->today, date);
        return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:I}", "type", "import", "date", date,
                         "mode", mode_name(m->o->mode), "files", files, "loaded",
                         (json_int_t)m->stats->loaded, "rejected", (json_int_t)m->stats->rejected,
                         "households", (json_int_t)m->stats->households);
}

static int journal(struct imp *m, int n_files, bool amend)
{
        json_t *j = payload(m, n_files);
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII) : NULL;
        json_decref(j);
        if (!text)
                return pop_fail(m->err, POP_ENOMEM, "nomem", "out of memory");
        int rc;
        if (amend) {
                rc = store_event_amend(m->st, m->seq, text, strlen(text), m->err);
        } else {
                struct event ev;
                memset(&ev, 0, sizeof ev);
                snprintf(ev.type, sizeof ev.type, "import");
                ev.effective = m->ctx->today;
                ev.recorded_at = m->ctx->now_ms;
                snprintf(ev.actor, sizeof ev.actor, "%s",
                         m->ctx->actor ? m->ctx->actor : "unknown");
                snprintf(ev.legal_basis, sizeof ev.legal_basis, "%s", IMPORT_BASIS);
                ev.payload = text;
                ev.payload_len = strlen(text);
                rc = store_event_append(m->st, &ev, m->err);
                m->seq = ev.seq;
        }
        free(text);
        return rc;
}

static int consume(struct imp *m, struct reader *rd, uint64_t total)
{
        uint64_t before = 0; /* bytes of the files finished */
        int rc = 0;
        for (int i = 0;; i++) {
                struct batch *b = &rd->b[i % N_BUFS];
                double t0 = now_s();
                pthread_mutex_lock(&rd->mu);
                while (!b->full)
                        pthread_cond_wait(&rd->cv, &rd->mu);
                pthread_mutex_unlock(&rd->mu);
                double t1 = now_s();
                m->t_wait += t1 - t0;
                if (b->err) {
                        *m->err = b->perr;
                        return b->err;
                }
                for (int k = 0; k < b->n && rc == 0; k++) {
                        struct item *it = &b->v[k];
                        m->stats->lines++;
                        m->fs[b->file].lines++;
                        if (it->state == IT_REJECTED)
                                rc = refuse(m, b->file, it->line, &it->rec, false, it->rej.field,
                                            it->rej.rule, it->rej.reason);
                        else
                                rc = load(m, b->file, it->line, &it->rec);
                }
                m->t_load += now_s() - t1;
                if (rc)
                        return rc;
                if (m->o->progress)
                        m->o->progress(m->o->progress_ctx, before + b->offset, total,
                                       m->stats->lines, NULL);
                if (b->file_end) {
                        memcpy(m->fs[b->file].sha256, b->sha256, sizeof b->sha256);
                        before += b->offset;
                }
                bool last = b->last;
                pthread_mutex_lock(&rd->mu);
                b->full = b->busy = false;
                pthread_cond_broadcast(&rd->cv);
                pthread_mutex_unlock(&rd->mu);
                if (last)
                        return flush_spouse(m);
        }
}

int imp_run(struct reg *r, const struct reg_ctx *ctx, const char *const *files, int n_files,
            const struct imp_opts *o, struct imp_stats *stats, struct pop_err *err)
{
        memset(stats, 0, sizeof *stats);
        if (n_files < 1)
                return pop_fail(err, POP_EINVAL, "import-usage", "no file to import");
        if (o->mode != IMP_ALL_OR_NOTHING && o->mode != IMP_VALID_ONLY)
                return pop_fail(err, POP_EINVAL, "import-usage",
                                "choose --mode all-or-nothing or --mode valid-only");
        struct imp m = {
            .r = r, .st = r->st, .ctx = ctx, .o = o, .files = files, .stats = stats, .err = err};
        enum imp_format *fmts = calloc((size_t)n_files, sizeof *fmts);
        m.fs = calloc((size_t)n_files, sizeof *m.fs);
        struct batch *bufs = calloc(N_BUFS, sizeof *bufs);
        int rc = 0;
        uint64_t total = 0;
        if (!fmts || !m.fs || !bufs) {
                rc = pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
                goto out;
        }
        if ((rc = imp_sorter_new(SORT_BUDGET, &m.people, err)) ||
            (rc = imp_ids_new(IDS_CAP, IDS_BLOOM_LOG2, ids_to_store, ids_from_store, &m, &m.ids,
                              err)))
                goto out;
        for (int i = 0; i < n_files; i++) {
                fmts[i] = m.fs[i].fmt = o->format ? o->format : imp_format_of(files[i]);
                if (!fmts[i]) {
                        rc = pop_fail(
                            err, POP_EINVAL, "import-format",
                            "%s: cannot tell the format from the name: use --format csv or "
                            "--format jsonl",
                            files[i]);
                        goto out;
                }
                if (!strcmp(files[i], "-")) /* standard input: its size is not known */
                        continue;
                FILE *f = fopen(files[i], "rb");
                if (!f) {
                        rc = pop_fail(err, POP_EIO, "file-open", "cannot open %s", files[i]);
                        goto out;
                }
                if (fseek(f, 0, SEEK_END) == 0 && ftell(f) > 0)
                        total += (uint64_t)ftell(f);
                fclose(f);
        }
        /* The report is created or truncated: never over one of the files being read. */
        struct stat rs, fs;
        for (int i = 0; i < n_files && stat(o->rejects, &rs) == 0; i++) {
                if (stat(files[i], &fs) == 0 && fs.st_dev == rs.st_dev && fs.st_ino == rs.st_ino) {
                        rc = pop_fail(err, POP_EINVAL, "import-usage",
                                      "the reject report %s would overwrite an input file",
                                      o->rejects);
                        goto out;
                }
        }
        m.rej = fopen(o->rejects, "w");
        if (!m.rej) {
                rc = pop_fail(err, POP_EIO, "rejects-open", "cannot create the reject report %s",
                              o->rejects);
                goto out;
        }
        double t_start = now_s(), c_start = cpu_s();
        if ((rc = store_import_begin(m.st, STORE_IMPORT_REBUILD_INDEXES, o->cache_mib, err)) < 0)
                goto end;
        m.empty = rc == 1;
        rc = 0;
        if ((rc = journal(&m, n_files, false)))
                goto rollback;

        struct reader rd = {
            .b = bufs, .files = files, .fmts = fmts, .n_files = n_files, .today = ctx->today};
        pthread_mutex_init(&rd.mu, NULL);
        pthread_mutex_init(&rd.in_mu, NULL);
        pthread_cond_init(&rd.cv, NULL);
        pthread_t th[N_PARSERS];
        int n_th = 0;
        while (n_th < N_PARSERS && pthread_create(&th[n_th], NULL, parser_main, &rd) == 0)
                n_th++;
        if (n_th == 0)
                rc = pop_fail(err, POP_ENOMEM, "thread", "cannot start the parser thread");
        else
                rc = consume(&m, &rd, total);
        pthread_mutex_lock(&rd.mu);
        rd.stop = true;
        pthread_cond_broadcast(&rd.cv);
        pthread_mutex_unlock(&rd.mu);
        for (int i = 0; i < n_th; i++)
                pthread_join(th[i], NULL);
        imp_reader_close(rd.in);
        pthread_cond_destroy(&rd.cv);
        pthread_mutex_destroy(&rd.in_mu);
        pthread_mutex_destroy(&rd.mu);
        if (rc)
                goto rollback;
        if (getenv("POPID_IMPORT_TRACE"))
                fprintf(stderr,
                        "import: lines %.3fs (cpu %.3fs of all threads; waiting for the parsers "
                        "%.3fs, writing %.3fs)\n",
                        now_s() - t_start, cpu_s() - c_start, m.t_wait, m.t_load);
        double t = now_s(), c = cpu_s();
        phase(&m, total, "writing people");
        /* The last IDs to the store; their memory goes to the phases that follow. */
        rc = imp_ids_flush(m.ids, err);
        imp_ids_free(m.ids);
        m.ids = NULL;
        if (rc || (rc = store_import_lines_done(m.st, err)) || (rc = write_people(&m)))
                goto rollback;
        trace("people in ID order", t, c);
        t = now_s();
        c = cpu_s();
        phase(&m, total, "building indexes");
        if ((rc = store_import_rebuild(m.st, m.seq, err)))
                goto rollback;
        trace("index rebuild", t, c);
        t = now_s();
        c = cpu_s();
        phase(&m, total, "checking");
        if ((rc = deferred_checks(&m)))
                goto rollback;
        trace("end checks", t, c);
        if (stats->rejected && o->mode == IMP_ALL_OR_NOTHING) {
                rc = pop_fail(err, POP_ERULE, "import-rejected",
                              "%lld line(s) refused: nothing was imported (see %s)",
                              (long long)stats->rejected, o->rejects);
                goto rollback;
        }
        int64_t purged = 0;
        if (stats->rejected && (rc = store_import_purge(m.st, m.seq, &purged, err)))
                goto rollback;
        t = now_s();
        c = cpu_s();
        phase(&m, total, "committing");
        if ((rc = journal(&m, n_files, true)) || (rc = store_commit(m.st, err)))
                goto rollback;
        trace("commit", t, c);
        stats->seq = m.seq;
        goto end;
rollback:
        store_rollback(m.st);
        stats->rolled_back = 1;
        stats->loaded = 0;
        stats->seq = 0;
end:
        store_import_end(m.st);
        if (fclose(m.rej) != 0 && rc == 0)
                rc = pop_fail(err, POP_EIO, "rejects-write", "cannot write the reject report %s",
                              o->rejects);
out:
        for (int i = 0; bufs && i < N_BUFS; i++)
                free(bufs[i].raw);
        imp_ids_free(m.ids);
        imp_sorter_free(m.people);
        free(fmts);
        free(m.fs);
        free(bufs);
        return rc;
}
