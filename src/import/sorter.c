/*
 * An external merge sort of records by a 64-bit key in a fixed memory budget (import_int.h).
 *
 * The import writes each person once, in personal-ID order, at the end of the line phase: an
 * ordered insert appends to the table's B-tree (SQLite fills each page and moves on), where
 * inserts in file order land at random IDs, split pages and, once the table outgrows the page
 * cache, read and rewrite pages from disk for every person. Records are gathered in one buffer;
 * a full buffer is sorted (qsort of small entries pointing into it) and written out as a run
 * to an unlinked temporary file; at the end the runs are merged through a binary heap, each read
 * through its own slice of the same buffer. Memory is the budget whatever the number of records;
 * the disk holds one copy of them while the import runs. When everything fits, nothing is
 * written and the records come back from memory.
 */
#include "import/import_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A record in the buffer or a run: key, length, bytes. */
struct hdr {
        int64_t key;
        uint32_t len;
};

struct ent {
        int64_t key;
        uint64_t seq; /* order of arrival: equal keys keep it */
        size_t off;   /* of the header in buf */
};

/* A run being merged: its unread bytes in the file and a window on them in buf. */
struct run {
        uint64_t pos, end; /* file offsets */
        char *win;
        size_t win_cap, start, stop; /* window bytes [start, stop) are read, not consumed */
        struct hdr h;                /* the current record's header (valid while pos < end) */
};

/* Runs are written through this much of the budget. */
#define WBUF (1 << 20)

struct imp_sorter {
        char *wbuf; /* WBUF bytes */
        char *buf;
        size_t cap, used;
        struct ent *ents;
        size_t n_ents, ents_cap;
        uint64_t seq;
        int fd; /* -1 until the first run */
        uint64_t file_end;
        struct run *runs;
        int n_runs, runs_cap;
        int *heap; /* run indices, smallest key first */
        int n_heap;
        size_t next; /* in-memory path: the next entry */
        bool merging, finished;
        int64_t total;
};

int imp_sorter_new(size_t budget, struct imp_sorter **out, struct pop_err *err)
{
        *out = NULL;
        if (budget < IMP_SORTER_MIN)
                budget = IMP_SORTER_MIN;
        struct imp_sorter *s = calloc(1, sizeof *s);
        if (!s)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        /* A seventh of the budget for the entries: records average well over 100 bytes. */
        s->ents_cap = budget / 7 / sizeof(struct ent);
        s->cap = budget - s->ents_cap * sizeof(struct ent) - WBUF;
        s->buf = malloc(s->cap);
        s->ents = malloc(s->ents_cap * sizeof *s->ents);
        s->wbuf = malloc(WBUF);
        s->fd = -1;
        if (!s->buf || !s->ents || !s->wbuf) {
                imp_sorter_free(s);
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        }
        *out = s;
        return 0;
}

void imp_sorter_free(struct imp_sorter *s)
{
        if (!s)
                return;
        if (s->fd >= 0)
                close(s->fd);
        free(s->buf);
        free(s->wbuf);
        free(s->ents);
        free(s->runs);
        free(s->heap);
        free(s);
}

int64_t imp_sorter_count(const struct imp_sorter *s)
{
        return s->total;
}

static int cmp_ent(const void *a, const void *b)
{
        const struct ent *x = a, *y = b;
        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int io_fail(struct pop_err *err, const char *what)
{
        return pop_fail(err, POP_EIO, "import-sort", "the import's temporary sort file: %s: %s",
                        what, strerror(errno));
}

/* An unlinked file in $TMPDIR (else /tmp), as SQLite places its own temporary files: nothing is
 * left behind whatever ends the process. */
static int open_tmp(struct imp_sorter *s, struct pop_err *err)
{
        const char *dir = getenv("TMPDIR");
        char path[4096];
        snprintf(path, sizeof path, "%s/popid-sort-XXXXXX", dir && *dir ? dir : "/tmp");
        s->fd = mkstemp(path);
        if (s->fd < 0)
                return io_fail(err, "cannot create it");
        unlink(path);
        return 0;
}

static int write_all(int fd, const void *p, size_t n, uint64_t at)
{
        const char *c = p;
        while (n > 0) {
                ssize_t k = pwrite(fd, c, n, (off_t)at);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                c += k;
                n -= (size_t)k;
                at += (uint64_t)k;
        }
        return 0;
}

/* Sorts the buffer's records and appends them to the file as one run; empties the buffer. */
static int flush_run(struct imp_sorter *s, struct pop_err *err)
{
        if (s->n_ents == 0)
                return 0;
        if (s->fd < 0 && open_tmp(s, err))
                return POP_EIO;
        if (s->n_runs == s->runs_cap) {
                int cap = s->runs_cap ? s->runs_cap * 2 : 16;
                struct run *r = realloc(s->runs, (size_t)cap * sizeof *r);
                if (!r)
                        return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
                s->runs = r;
                s->runs_cap = cap;
        }
        qsort(s->ents, s->n_ents, sizeof *s->ents, cmp_ent);
        /* Copied in order into the write buffer, written when it is full. */
        uint64_t at = s->file_end;
        size_t w = 0;
        for (size_t i = 0; i < s->n_ents; i++) {
                struct hdr h;
                memcpy(&h, s->buf + s->ents[i].off, sizeof h);
                size_t n = sizeof h + h.len;
                if (w + n > WBUF) {
                        if (write_all(s->fd, s->wbuf, w, at))
                                return io_fail(err, "cannot write it");
                        at += w;
                        w = 0;
                }
                memcpy(s->wbuf + w, s->buf + s->ents[i].off, n);
                w += n;
        }
        if (w && write_all(s->fd, s->wbuf, w, at))
                return io_fail(err, "cannot write it");
        at += w;
        s->runs[s->n_runs++] = (struct run){.pos = s->file_end, .end = at};
        s->file_end = at;
        s->used = 0;
        s->n_ents = 0;
        return 0;
}

int imp_sorter_add(struct imp_sorter *s, int64_t key, const void *rec, size_t len,
                   struct pop_err *err)
{
        size_t need = (sizeof(struct hdr) + len + 7) & ~(size_t)7;
        if (s->finished || len > IMP_SORTER_REC_MAX)
                return pop_fail(err, POP_EINVAL, "import-sort", "a record of %zu bytes to sort",
                                len);
        if (s->used + need > s->cap || s->n_ents == s->ents_cap) {
                int rc = flush_run(s, err);
                if (rc)
                        return rc;
        }
        struct hdr h;
        memset(&h, 0, sizeof h); /* no uninitialized padding goes to the file */
        h.key = key;
        h.len = (uint32_t)len;
        memcpy(s->buf + s->used, &h, sizeof h);
        memcpy(s->buf + s->used + sizeof h, rec, len);
        s->ents[s->n_ents++] = (struct ent){.key = key, .seq = s->seq++, .off = s->used};
        s->used += need;
        s->total++;
        return 0;
}

/* Reads run r's next header and makes its record whole in the window; 0 at the run's end. */
static int run_load(struct imp_sorter *s, struct run *r, struct pop_err *err)
{
        if (r->pos >= r->end)
                return 0;
        for (int pass = 0; pass < 2; pass++) {
                size_t have = r->stop - r->start;
                if (have >= sizeof r->h) {
                        memcpy(&r->h, r->win + r->start, sizeof r->h);
                        if (have >= sizeof r->h + r->h.len)
                                return 1;
                }
                /* Move what is left to the window's start and read on. */
                memmove(r->win, r->win + r->start, have);
                r->start = 0;
                r->stop = have;
                uint64_t file_pos = r->pos + have;
                size_t want = r->win_cap - have;
                if (want > r->end - file_pos)
                        want = (size_t)(r->end - file_pos);
                while (want > 0) {
                        ssize_t k = pread(s->fd, r->win + r->stop, want, (off_t)file_pos);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                return io_fail(err, "cannot read it back");
                        r->stop += (size_t)k;
                        file_pos += (uint64_t)k;
                        want -= (size_t)k;
                }
        }
        return pop_fail(err, POP_EIO, "import-sort", "the import's temporary sort file is damaged");
}

static bool heap_less(const struct imp_sorter *s, int a, int b)
{
        const struct run *x = &s->runs[a], *y = &s->runs[b];
        if (x->h.key != y->h.key)
                return x->h.key < y->h.key;
        return a < b; /* earlier runs hold earlier records */
}

static void heap_down(struct imp_sorter *s, int i)
{
        for (;;) {
                int l = 2 * i + 1, m = i;
                if (l < s->n_heap && heap_less(s, s->heap[l], s->heap[m]))
                        m = l;
                if (l + 1 < s->n_heap && heap_less(s, s->heap[l + 1], s->heap[m]))
                        m = l + 1;
                if (m == i)
                        return;
                int t = s->heap[i];
                s->heap[i] = s->heap[m];
                s->heap[m] = t;
                i = m;
        }
}

int imp_sorter_finish(struct imp_sorter *s, struct pop_err *err)
{
        if (s->finished)
                return 0;
        s->finished = true;
        if (s->n_runs == 0) {
                qsort(s->ents, s->n_ents, sizeof *s->ents, cmp_ent);
                return 0;
        }
        int rc = flush_run(s, err);
        if (rc)
                return rc;
        /* The buffer is free now: one window of it per run, or windows of their own when the
         * runs are too many for it. */
        size_t win = s->cap / (size_t)s->n_runs;
        size_t min_win = sizeof(struct hdr) + IMP_SORTER_REC_MAX;
        if (win < min_win) {
                free(s->buf);
                s->cap = (size_t)s->n_runs * min_win;
                if (!(s->buf = malloc(s->cap)))
                        return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
                win = min_win;
        }
        s->heap = malloc((size_t)s->n_runs * sizeof *s->heap);
        if (!s->heap)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        for (int i = 0; i < s->n_runs; i++) {
                struct run *r = &s->runs[i];
                r->win = s->buf + (size_t)i * win;
                r->win_cap = win;
                r->start = r->stop = 0;
                if ((rc = run_load(s, r, err)) < 0)
                        return rc;
                if (rc == 1)
                        s->heap[s->n_heap++] = i;
        }
        for (int i = s->n_heap / 2 - 1; i >= 0; i--)
                heap_down(s, i);
        s->merging = true;
        return 0;
}

int imp_sorter_next(struct imp_sorter *s, int64_t *key, const void **rec, size_t *len,
                    struct pop_err *err)
{
        if (!s->finished)
                return pop_fail(err, POP_EINVAL, "import-sort", "the sort is not finished");
        if (!s->merging) {
                if (s->next == s->n_ents)
                        return 0;
                const struct ent *e = &s->ents[s->next++];
                struct hdr h;
                memcpy(&h, s->buf + e->off, sizeof h);
                *key = h.key;
                *rec = s->buf + e->off + sizeof h;
                *len = h.len;
                return 1;
        }
        /* The record returned last is consumed now: its bytes stayed valid until this call. */
        if (s->n_heap == 0)
                return 0;
        if (s->next) {
                struct run *r = &s->runs[s->heap[0]];
                size_t n = sizeof r->h + r->h.len;
                r->start += n;
                r->pos += n;
                int rc = run_load(s, r, err);
                if (rc < 0)
                        return rc;
                if (rc == 0) {
                        s->heap[0] = s->heap[--s->n_heap];
                        if (s->n_heap == 0)
                                return 0;
                }
                heap_down(s, 0);
        }
        s->next = 1;
        struct run *r = &s->runs[s->heap[0]];
        *key = r->h.key;
        *rec = r->win + r->start + sizeof r->h;
        *len = r->h.len;
        return 1;
}
