/*
 * POST /v1/auth/verify-batch (docs/API.md "Verification", docs/AUTH.md "Batch"): millions of
 * lines without holding them in memory. libmicrohttpd cannot answer before the upload has
 * ended, so the upload is spooled to an unnamed temporary file (O_TMPFILE: gone when closed)
 * under caps of VB_BYTES_MAX bytes and VB_LINES_MAX lines (413 past them). Then the answer streams
 * from a content-reader callback that reads the spool a chunk of lines at a time: parses each
 * line (eid/verify_batch.h), verifies the well-formed ones in one read snapshot, queues one
 * audit entry per verified line for the whole chunk with audit_log_async and only once they are
 * durable (the writer's callback) hands the chunk's result lines to MHD. Up to PIPE_CHUNKS chunks
 * are in flight: while the audit writer commits chunk N, the worker thread verifies chunks N+1..
 * (the writer takes several queued chunks in one group commit). Results still leave in order and
 * none before its own chunk's entries are durable.
 *
 * The client is authenticated and its call checked (role, grants, purpose, scope, content type,
 * match mode: batch_admit) at the headers, before any body byte is read: a refused request gets
 * its 401/403/415/400 queued on MHD's first call, so MHD reads no body (it answers an "Expect:
 * 100-continue" with the refusal, else skips the upload and closes the connection after the
 * answer) and no spool is made. Only an admitted client's upload is spooled, and the handler
 * uses what was admitted instead of checking again (one rate-limit charge per request).
 */
#include "http/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "eid/verify_batch.h"
#include "http/guard.h"

#define SPOOL_WBUF   (256 * 1024)
#define SPOOL_RBUF   (256 * 1024)
#define CHUNK_LINES  AUDIT_MANY_MAX
#define OUT_LINE_MAX 400 /* one result line at most (JSONL with a detail) */
#define PIPE_CHUNKS  4   /* chunks verified ahead of the one being sent */
/* audit-busy (the writer's queue is full, e.g. under other requests' load): waits this long
 * between tries, at most BUSY_TRIES times, before the answer ends with an error. */
#define BUSY_WAIT_NS (5 * 1000 * 1000)
#define BUSY_TRIES   2000

struct http_batch {
        int fd;
        int64_t bytes, lines;
        bool too_big, io_error, last_nl;
        size_t wlen;
        char *wbuf;
        /* what batch_admit allowed at the headers */
        enum vb_format fmt;
        enum match_mode mode;
        bool show_code;
        uint64_t grants;
        char actor[8 + ACCESS_ID_MAX];
        char purpose[ACCESS_PURPOSE_MAX + 1];
};

enum slot_state { SLOT_FREE, SLOT_WAIT, SLOT_DONE, SLOT_FAILED };

/* One chunk's results, held until its audit entries are durable. */
struct slot {
        struct stream *s;
        char *buf;
        size_t len;
        enum slot_state state; /* guarded by stream.mu once the chunk is queued */
};

/* The answer's state, owned by the MHD response (freed by stream_free). */
struct stream {
        struct http_server *srv;
        int fd;
        enum vb_format fmt;
        enum match_mode mode;
        struct vb_header hdr;
        bool show_code;
        uint64_t grants;  /* the client's: a line may claim only granted attributes */
        unsigned granted; /* bits (1 << VERIFY_A_*) of the attributes those grants allow */
        char actor[8 + ACCESS_ID_MAX];
        char purpose[ACCESS_PURPOSE_MAX + 1];
        char txn[VERIFY_TXN_LEN];
        int64_t line_no;
        bool eof, header_done, skipping;
        /* read side */
        char *rbuf;
        size_t rpos, rlen;
        /* write side: the chunk being filled (obuf is a slot's buffer) */
        char *obuf;
        size_t olen, ocap;
        /* the ring of chunks: head is the one being sent (opos bytes of it sent), n in use */
        pthread_mutex_t mu;
        pthread_cond_t cv;
        struct slot slot[PIPE_CHUNKS];
        int head, n;
        size_t opos;
        bool end; /* every line has been read and answered into a slot */
        struct vb_line *vl;
        /* JSONL: one result object, its members set anew for each line (no allocation of a
         * whole object per line); jline, jpid, jresult are its first three members. */
        json_t *jo, *jline, *jpid, *jresult;
        struct audit_entry *ents;
        char (*fields)[64];
};

static const char *tmp_dir(void)
{
        const char *t = getenv("TMPDIR");
        return t && *t ? t : "/tmp";
}

/*
 * The guard of a batch, run at the headers: credentials, rate limit, role verifier with the name
 * and dob grants and the purpose, a scope of every province, the content type and the match mode.
 * 0 with adm filled when the call may go on; HTTP_GUARD_DONE when a refusal was queued (a 403
 * held until its audit entry is durable, like every refusal about a call: guard.h); < 0 when
 * nothing could be queued.
 */
static int batch_admit(struct http_req *rq, struct http_batch *adm)
{
        struct http_guard g;
        int rc = http_guard_begin(rq, "auth.verify-batch", HTTP_GUARD_PURPOSE, &g);
        if (rc)
                goto out;
        const char *ct =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (ct && !strncmp(ct, "text/csv", 8))
                adm->fmt = VB_CSV;
        else if (ct && !strncmp(ct, "application/x-ndjson", 20))
                adm->fmt = VB_JSONL;
        else {
                rc = http__problem(rq, 415, "content-type", "Unsupported media type",
                                   "the body must be text/csv or application/x-ndjson", NULL);
                goto refused;
        }
        adm->mode = MATCH_EXACT;
        const char *ms = http_guard_query(&g, "match");
        struct pop_err e = {0};
        if (ms && match_mode_parse(ms, strlen(ms), &adm->mode, &e)) {
                rc = http__problem(rq, 400, "match-invalid", "Invalid verification request",
                                   "match must be exact or partial", NULL);
                goto refused;
        }
        /* Every line compares a name and a date of birth; a line that also claims sex needs the
         * sex grant, checked line by line (ungranted_claim). */
        struct access_need n = {.role = ACCESS_ROLE_VERIFIER,
                                .grants = ACCESS_BIT(ACCESS_G_NAME) | ACCESS_BIT(ACCESS_G_DOB),
                                .purpose = g.purpose,
                                .province = ACCESS_NO_SUBJECT};
        if ((rc = http_guard_check(&g, &n, 0)))
                goto out;
        if (!g.client->scope.all) {
                rc = http_guard_fail(&g, 0, 403, "province-out-of-scope", "Forbidden",
                                     "batch verification needs a client whose scope is every "
                                     "province");
                goto refused;
        }
        adm->show_code = g.client->grants & ACCESS_BIT(ACCESS_G_VERIFY_CODES);
        adm->grants = g.client->grants;
        memcpy(adm->actor, g.actor, sizeof adm->actor);
        memcpy(adm->purpose, g.purpose, sizeof adm->purpose);
        rc = 0;
        goto out;
refused:
        rc = rc ? rc : HTTP_GUARD_DONE;
out:
        http_guard_end(&g);
        return rc;
}

static int too_large(struct http_req *rq)
{
        char detail[128];
        snprintf(detail, sizeof detail, "a batch holds at most %lld bytes and %lld lines",
                 (long long)VB_BYTES_MAX, (long long)VB_LINES_MAX);
        return http__problem(rq, 413, "batch-too-large", "Batch too large", detail, NULL);
}

/* A Content-Length over VB_BYTES_MAX: refused with the headers, not after reading the cap. */
static bool declared_too_big(struct http_req *rq)
{
        const char *cl =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t v = 0;
        if (!cl || !*cl)
                return false;
        for (; *cl; cl++) {
                if (*cl < '0' || *cl > '9')
                        return false; /* MHD itself refuses a malformed length */
                v = v * 10 + (uint64_t)(*cl - '0');
                if (v > (uint64_t)VB_BYTES_MAX)
                        return true;
        }
        return false;
}

int http__batch_start(struct http_req *rq)
{
        if (strcmp(rq->method, "POST") || strcmp(rq->path, "/v1/auth/verify-batch"))
                return 0;
        struct http_batch adm = {0};
        int rc = batch_admit(rq, &adm);
        if (rc)
                return rc < 0 ? rc : 1; /* refused: no spool, MHD reads no body */
        if (declared_too_big(rq)) {
                rc = too_large(rq);
                return rc < 0 ? rc : 1;
        }
        struct http_batch *b = calloc(1, sizeof *b);
        if (b && !(b->wbuf = malloc(SPOOL_WBUF))) {
                free(b);
                b = NULL;
        }
        if (!b) {
                rq->body_too_big = true;
                return 1;
        }
        b->fmt = adm.fmt;
        b->mode = adm.mode;
        b->show_code = adm.show_code;
        b->grants = adm.grants;
        memcpy(b->actor, adm.actor, sizeof b->actor);
        memcpy(b->purpose, adm.purpose, sizeof b->purpose);
        b->fd = open(tmp_dir(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (b->fd < 0) {
                /* No O_TMPFILE on this file system: a named file, unlinked at once. */
                char path[4096];
                snprintf(path, sizeof path, "%s/popid-batch-XXXXXX", tmp_dir());
                b->fd = mkstemp(path);
                if (b->fd >= 0)
                        unlink(path);
        }
        if (b->fd < 0)
                b->io_error = true;
        b->last_nl = true;
        rq->batch = b;
        return 1;
}

static void spool_flush(struct http_batch *b)
{
        size_t off = 0;
        while (off < b->wlen && !b->io_error) {
                ssize_t w = write(b->fd, b->wbuf + off, b->wlen - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        b->io_error = true;
                else
                        off += (size_t)w;
        }
        b->wlen = 0;
}

int http__batch_body(struct http_req *rq, const char *data, size_t n)
{
        struct http_batch *b = rq->batch;
        if (!b || b->too_big || b->io_error)
                return 0; /* dropped: the handler answers 413 or 503 */
        b->bytes += (int64_t)n;
        for (const char *p = data; (p = memchr(p, '\n', (size_t)(data + n - p))); p++)
                b->lines++;
        if (b->bytes > VB_BYTES_MAX || b->lines > VB_LINES_MAX) {
                b->too_big = true;
                return 0;
        }
        b->last_nl = data[n - 1] == '\n';
        while (n) {
                size_t k = SPOOL_WBUF - b->wlen < n ? SPOOL_WBUF - b->wlen : n;
                memcpy(b->wbuf + b->wlen, data, k);
                b->wlen += k;
                data += k;
                n -= k;
                if (b->wlen == SPOOL_WBUF)
                        spool_flush(b);
        }
        return 0;
}

void http__batch_free(struct http_req *rq)
{
        struct http_batch *b = rq->batch;
        if (!b)
                return;
        if (b->fd >= 0)
                close(b->fd);
        free(b->wbuf);
        free(b);
        rq->batch = NULL;
}

/* ---- the answer ---- */

static void stream_free(void *cls)
{
        struct stream *s = cls;
        if (!s)
                return;
        /* The audit writer calls back into the slots: wait for every queued chunk. */
        pthread_mutex_lock(&s->mu);
        for (int i = 0; i < PIPE_CHUNKS; i++)
                while (s->slot[i].state == SLOT_WAIT)
                        pthread_cond_wait(&s->cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        if (s->fd >= 0)
                close(s->fd);
        free(s->rbuf);
        for (int i = 0; i < PIPE_CHUNKS; i++)
                free(s->slot[i].buf);
        free(s->vl);
        json_decref(s->jo);
        free(s->ents);
        free(s->fields);
        free(s);
}

/* The next line of the spool (without its '\n'): 1 with line and len set, 0 at the end, -1 on
 * error. A line longer than the read buffer's room is returned cut at VB_LINE_MAX + 1 bytes (so the
 * parser calls it too long) and the rest skipped. */
static int next_line(struct stream *s, const char **line, size_t *len)
{
        for (;;) {
                char *nl = memchr(s->rbuf + s->rpos, '\n', s->rlen - s->rpos);
                if (nl) {
                        *line = s->rbuf + s->rpos;
                        *len = (size_t)(nl - *line);
                        s->rpos += *len + 1;
                        if (s->skipping) {
                                s->skipping = false;
                                continue;
                        }
                        return 1;
                }
                size_t have = s->rlen - s->rpos;
                if (s->eof) {
                        if (!have)
                                return 0;
                        *line = s->rbuf + s->rpos;
                        *len = have;
                        s->rpos = s->rlen;
                        if (s->skipping) {
                                s->skipping = false;
                                return 0;
                        }
                        return 1;
                }
                if (have > VB_LINE_MAX && !s->skipping) {
                        /* An over-long line: answered now, the rest of it skipped. */
                        *line = s->rbuf + s->rpos;
                        *len = VB_LINE_MAX + 1;
                        s->rpos = s->rlen;
                        s->skipping = true;
                        return 1;
                }
                if (s->skipping) {
                        s->rpos = s->rlen;
                        have = 0;
                }
                memmove(s->rbuf, s->rbuf + s->rpos, have);
                s->rpos = 0;
                s->rlen = have;
                ssize_t r = read(s->fd, s->rbuf + s->rlen, SPOOL_RBUF - s->rlen);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -1;
                if (r == 0)
                        s->eof = true;
                s->rlen += (size_t)r;
        }
}

/* Appends text to the chunk's output; the buffer holds a chunk's worst case. */
static void out_add(struct stream *s, const char *t, size_t n)
{
        if (s->olen + n <= s->ocap) {
                memcpy(s->obuf + s->olen, t, n);
                s->olen += n;
        }
}

/* One result line. pid: as sent when well-formed, else "". detail for malformed lines. */
static void out_result(struct stream *s, int64_t line, const char *pid, const char *result,
                       const char *code, const char *detail)
{
        char b[OUT_LINE_MAX];
        int n;
        bool code_shown = code && (s->show_code || !strcmp(result, "invalid"));
        if (s->fmt == VB_CSV) {
                /* line,pid,result,code: a number, 12 digits or "", and fixed tokens
                 * ([a-z0-9-]): no cell needs quoting (RFC 4180 section 2). Written by hand as
                 * snprintf's format parsing was a tenth of a line's cost. */
                char num[24];
                size_t k = sizeof num;
                unsigned long long v = (unsigned long long)line;
                do
                        num[--k] = (char)('0' + v % 10);
                while (v /= 10);
                const char *parts[] = {num + k, pid, result, code_shown ? code : ""};
                size_t lens[] = {sizeof num - k, strlen(pid), strlen(result),
                                 code_shown ? strlen(code) : 0};
                size_t at = 0;
                for (int i = 0; i < 4; i++) {
                        if (at + lens[i] + 1 >= sizeof b)
                                return;
                        memcpy(b + at, parts[i], lens[i]);
                        at += lens[i];
                        b[at++] = i < 3 ? ',' : '\n';
                }
                n = (int)at;
        } else {
                /* Every input line gets its result line: a detail too long for OUT_LINE_MAX
                 * once escaped (a message quoting the client's bytes) is dropped, not the line. */
                json_t *o = s->jo;
                json_integer_set(s->jline, (json_int_t)line);
                bool ok = !json_string_set(s->jpid, pid) && !json_string_set(s->jresult, result);
                for (int with_detail = detail != NULL;; with_detail = 0) {
                        json_object_del(o, "code");
                        json_object_del(o, "detail");
                        if (ok && code_shown)
                                ok = !json_object_set_new(o, "code", json_string(code));
                        if (ok && with_detail)
                                ok = !json_object_set_new(o, "detail", json_string(detail));
                        n = ok ? (int)json_dumpb(o, b, sizeof b - 1,
                                                 JSON_COMPACT | JSON_PRESERVE_ORDER)
                               : -1;
                        if (n > 0 && (size_t)n < sizeof b - 1) {
                                b[n++] = '\n';
                                break;
                        }
                        n = -1;
                        if (!with_detail)
                                break;
                }
        }
        if (n > 0 && (size_t)n < sizeof b)
                out_add(s, b, (size_t)n);
}

/* The first attribute a line claims that the client is not granted (a verification is an oracle
 * on it: docs/ACCESS.md), or NULL. The batch as a whole needs only name and dob, so a sex cell
 * is checked here, line by line. */
static const char *ungranted_claim(const struct stream *s, const struct verify_request *rq)
{
        for (int a = 0; a < VERIFY_N_ATTRS; a++)
                if (rq->claim[a].s && !(s->granted & (1u << a)))
                        return verify_attr_info((enum verify_attr)a)->field;
        return NULL;
}

/* The attributes the client's grants allow a line to claim, looked up once per batch. */
static unsigned granted_attrs(uint64_t grants)
{
        unsigned bits = 0;
        for (int a = 0; a < VERIFY_N_ATTRS; a++) {
                const char *f = verify_attr_info((enum verify_attr)a)->field;
                int gi = access_grant_lookup(f, strlen(f));
                if (gi >= 0 && (grants & ACCESS_BIT(gi)))
                        bits |= 1u << a;
        }
        return bits;
}

static void chunk_done(void *ctx, int rc, const struct pop_err *err, const int64_t *seqs)
{
        (void)seqs;
        struct slot *sl = ctx;
        if (rc)
                fprintf(stderr, "popid http: batch audit write failed: %s [%s]\n", err->msg,
                        err->rule);
        pthread_mutex_lock(&sl->s->mu);
        sl->state = rc ? SLOT_FAILED : SLOT_DONE;
        pthread_cond_broadcast(&sl->s->cv);
        pthread_mutex_unlock(&sl->s->mu);
}

/* Queues a chunk's entries; the callback marks the slot. Waits out a full queue (audit-busy). */
static int chunk_queue(struct stream *s, struct slot *sl, size_t n_ents)
{
        struct pop_err e = {0};
        sl->state = SLOT_WAIT;
        for (int tries = 0;; tries++) {
                int rc = audit_log_async(s->srv->cfg.audit, s->ents, n_ents, chunk_done, sl, &e);
                if (!rc)
                        return 0;
                if (rc != POP_EAGAIN || strcmp(e.rule, "audit-busy") || tries >= BUSY_TRIES) {
                        fprintf(stderr, "popid http: batch audit write failed: %s [%s]\n", e.msg,
                                e.rule);
                        sl->state = SLOT_FAILED;
                        return POP_EIO;
                }
                nanosleep(&(struct timespec){.tv_nsec = BUSY_WAIT_NS}, NULL);
        }
}

/* Fills the next free slot with the next chunk of results and queues its audit entries.
 * 0, 1 at the end of the spool (no slot used), <0 error. */
static int next_chunk(struct stream *s)
{
        struct http_worker *w = http__worker(s->srv);
        struct reg *reg = NULL;
        struct pop_err e = {0};
        if (!w || http__worker_reg(w, &reg, &e))
                return POP_ESTORE;
        struct slot *sl = &s->slot[(s->head + s->n) % PIPE_CHUNKS];
        s->obuf = sl->buf;
        s->olen = 0;
        size_t n_ents = 0;
        int rc = 0, got = 1;
        if (store_read_begin(reg->st, &e))
                return POP_ESTORE;
        for (int i = 0; i < CHUNK_LINES; i++) {
                const char *line;
                size_t len;
                if ((got = next_line(s, &line, &len)) <= 0)
                        break;
                s->line_no++;
                if (!s->header_done && s->fmt == VB_CSV) {
                        s->header_done = true;
                        if (vb_header_parse(line, len, &s->hdr, &e)) {
                                out_result(s, s->line_no, "", "invalid", e.rule, e.msg);
                                got = 0; /* nothing can be read without a header */
                                s->eof = true;
                                s->rpos = s->rlen;
                                break;
                        }
                        const char *t = "line,pid,result,code\n";
                        out_add(s, t, strlen(t));
                        continue;
                }
                if (len == 0 || (len == 1 && line[0] == '\r')) {
                        out_result(s, s->line_no, "", "invalid", "line-empty", "the line is empty");
                        continue;
                }
                struct vb_line *vl = &s->vl[n_ents];
                if (vb_line_parse(s->fmt, &s->hdr, line, len, s->mode, vl, &e)) {
                        out_result(s, s->line_no, vl->pid_text, "invalid", e.rule, e.msg);
                        continue;
                }
                const char *ungranted = ungranted_claim(s, &vl->rq);
                if (ungranted) {
                        char d[96];
                        snprintf(d, sizeof d, "the client is not granted '%s'", ungranted);
                        out_result(s, s->line_no, vl->pid_text, "invalid", "grant-missing", d);
                        continue;
                }
                struct verify_answer va;
                int vrc = verify_check(reg->st, &vl->rq, &va, &e);
                if (vrc == POP_EINVAL || vrc == POP_ETOOBIG) {
                        out_result(s, s->line_no, vl->pid_text, "invalid", e.rule, e.msg);
                        continue;
                }
                if (vrc) {
                        rc = POP_ESTORE;
                        break;
                }
                out_result(s, s->line_no, vl->pid_text, va.yes ? "yes" : "no", va.code, NULL);
                verify_fields(va.compared, s->fields[n_ents], sizeof s->fields[n_ents]);
                s->ents[n_ents] = (struct audit_entry){
                    .actor = s->actor,
                    .subject = vl->rq.pid,
                    .action = "auth.verify-batch",
                    .fields = s->fields[n_ents],
                    .purpose = s->purpose,
                    .outcome = !strcmp(va.code, "pid-unknown") ? "not-found" : "ok",
                    .rule = va.yes ? "" : va.code,
                    .request_id = s->txn,
                };
                n_ents++;
        }
        store_read_end(reg->st);
        if (rc || got < 0) {
                if (rc)
                        http__worker_reg_drop(w);
                return rc ? rc : POP_EIO;
        }
        if (got == 0 && s->olen == 0)
                return 1;
        sl->len = s->olen;
        s->n++;
        /* Every verified line's entry is durable before any result of the chunk is sent
         * (stream_read waits for the slot's callback). */
        if (!n_ents) {
                sl->state = SLOT_DONE;
                return 0;
        }
        return chunk_queue(s, sl, n_ents);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        (void)pos;
        struct stream *s = cls;
        for (;;) {
                /* Verify ahead while earlier chunks commit. */
                while (!s->end && s->n < PIPE_CHUNKS) {
                        int rc = next_chunk(s);
                        if (rc < 0)
                                return MHD_CONTENT_READER_END_WITH_ERROR;
                        if (rc == 1 || (s->eof && s->rpos == s->rlen))
                                s->end = true;
                }
                if (!s->n)
                        return MHD_CONTENT_READER_END_OF_STREAM;
                struct slot *sl = &s->slot[s->head];
                pthread_mutex_lock(&s->mu);
                while (sl->state == SLOT_WAIT)
                        pthread_cond_wait(&s->cv, &s->mu);
                enum slot_state st = sl->state;
                pthread_mutex_unlock(&s->mu);
                if (st != SLOT_DONE)
                        return MHD_CONTENT_READER_END_WITH_ERROR;
                if (s->opos < sl->len) {
                        size_t n = sl->len - s->opos < max ? sl->len - s->opos : max;
                        memcpy(buf, sl->buf + s->opos, n);
                        s->opos += n;
                        return (ssize_t)n;
                }
                sl->state = SLOT_FREE;
                s->head = (s->head + 1) % PIPE_CHUNKS;
                s->n--;
                s->opos = 0;
        }
}

int http__h_verify_batch(struct http_req *rq, const struct http_match *m)
{
        (void)m;
        struct stream *s = NULL;
        struct http_batch *b = rq->batch;
        int rc;
        /* The client and its call were checked at the headers (batch_admit): b exists only for
         * an admitted one. */
        if (!b || b->too_big) {
                rc = too_large(rq);
                goto out;
        }
        spool_flush(b);
        if (b->io_error || lseek(b->fd, 0, SEEK_SET) != 0) {
                rc = http__problem(rq, 503, "spool-unavailable", "Service unavailable",
                                   "the batch could not be stored for processing", NULL);
                goto out;
        }
        s = calloc(1, sizeof *s);
        if (!s)
                goto nomem;
        s->fd = -1;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
        s->srv = rq->srv;
        s->fmt = b->fmt;
        s->mode = b->mode;
        s->show_code = b->show_code;
        s->grants = b->grants;
        s->granted = granted_attrs(s->grants);
        s->header_done = b->fmt == VB_JSONL;
        memcpy(s->actor, b->actor, sizeof s->actor);
        memcpy(s->purpose, b->purpose, sizeof s->purpose);
        verify_txn(s->txn);
        s->ocap = (size_t)(CHUNK_LINES + 1) * OUT_LINE_MAX;
        s->rbuf = malloc(SPOOL_RBUF);
        s->vl = malloc(CHUNK_LINES * sizeof *s->vl);
        s->ents = malloc(CHUNK_LINES * sizeof *s->ents);
        s->fields = malloc(CHUNK_LINES * sizeof *s->fields);
        if (!s->rbuf || !s->vl || !s->ents || !s->fields)
                goto nomem;
        if (s->fmt == VB_JSONL) {
                s->jo =
                    json_pack("{s:I, s:s, s:s}", "line", (json_int_t)0, "pid", "", "result", "");
                if (!s->jo)
                        goto nomem;
                s->jline = json_object_get(s->jo, "line");
                s->jpid = json_object_get(s->jo, "pid");
                s->jresult = json_object_get(s->jo, "result");
        }
        for (int i = 0; i < PIPE_CHUNKS; i++) {
                s->slot[i].s = s;
                if (!(s->slot[i].buf = malloc(s->ocap)))
                        goto nomem;
        }
        /* The spool now belongs to the stream. */
        s->fd = b->fd;
        b->fd = -1;
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                                                   stream_read, s, stream_free);
        if (!r)
                goto nomem;
        s = NULL;
        bool ok =
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    b->fmt == VB_CSV ? "text/csv; charset=utf-8"
                                                     : "application/x-ndjson") == MHD_YES &&
            MHD_add_response_header(r, "X-Request-Id", rq->id) == MHD_YES &&
            MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_YES &&
            MHD_queue_response(rq->conn, 200, r) == MHD_YES;
        MHD_destroy_response(r);
        if (!ok) {
                rc = POP_EIO;
                goto out;
        }
        rq->status = 200;
        rc = 0;
        goto out;
nomem:
        rc = http__problem(rq, 500, "internal", "Internal error", "out of memory", NULL);
out:
        stream_free(s);
        http__batch_free(rq);
        return rc > 0 ? 0 : rc;
}
