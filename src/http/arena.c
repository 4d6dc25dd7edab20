/*
 * The per-request arena and its growing buffer; see arena.h.
 */
#include "http/arena.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_arena_block {
        struct http_arena_block *next;
        size_t size; /* of data */
        _Alignas(max_align_t) char data[];
};

#define ALIGN(n) (((n) + (_Alignof(max_align_t) - 1)) & ~(size_t)(_Alignof(max_align_t) - 1))

void http_arena_init(struct http_arena *a)
{
        a->used = 0;
        a->more = NULL;
        a->wipe = false;
}

void *http_arena_alloc(struct http_arena *a, size_t n)
{
        if (n > SIZE_MAX / 2)
                return NULL;
        size_t need = ALIGN(n ? n : 1);
        if (need <= HTTP_ARENA_INLINE - a->used) {
                void *p = a->inline_buf + a->used;
                a->used += need;
                return p;
        }
        /* One block per large allocation: the arena serves few of them per request. */
        struct http_arena_block *b = malloc(sizeof *b + need);
        if (!b)
                return NULL;
        b->size = need;
        b->next = a->more;
        a->more = b;
        return b->data;
}

void http_arena_reset(struct http_arena *a)
{
        struct http_arena_block *b = a->more;
        while (b) {
                struct http_arena_block *next = b->next;
                if (a->wipe)
                        sodium_memzero(b->data, b->size);
                free(b);
                b = next;
        }
        if (a->wipe)
                sodium_memzero(a->inline_buf, a->used);
        a->more = NULL;
        a->used = 0;
        a->wipe = false;
}

void http_arena_wipe_on_reset(struct http_arena *a)
{
        a->wipe = true;
}

void http_buf_init(struct http_buf *b, struct http_arena *a, size_t max)
{
        b->a = a;
        b->p = NULL;
        b->len = b->cap = 0;
        b->max = max;
        b->failed = 0;
}

static int buf_grow(struct http_buf *b, size_t need)
{
        if (b->failed)
                return -1;
        if (need > b->max) {
                b->failed = 1;
                return -1;
        }
        if (need <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
                cap *= 2;
        if (cap > b->max)
                cap = b->max;
        char *p = http_arena_alloc(b->a, cap);
        if (!p) {
                b->failed = 1;
                return -1;
        }
        if (b->len)
                memcpy(p, b->p, b->len);
        b->p = p;
        b->cap = cap;
        return 0;
}

void http_buf_add(struct http_buf *b, const void *data, size_t n)
{
        if (buf_grow(b, b->len + n) != 0)
                return;
        memcpy(b->p + b->len, data, n);
        b->len += n;
}

void http_buf_printf(struct http_buf *b, const char *fmt, ...)
{
        char tmp[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof tmp) {
                b->failed = 1;
                return;
        }
        http_buf_add(b, tmp, (size_t)n);
}
