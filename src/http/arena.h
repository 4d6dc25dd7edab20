/*
 * The per-request arena (nginx pools, h2o pools): a request allocates from it and frees
 * nothing individually; http_arena_reset gives everything back when the request is done. The
 * first block lives inside the (pooled) request object, so a small request makes no malloc at
 * all; larger needs (a body near the cap, a /metrics page) get blocks of their own, freed on
 * reset. One thread at a time, like the request that owns it.
 */
#ifndef POP_HTTP_ARENA_H
#define POP_HTTP_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_ARENA_INLINE 8192 /* bytes of the first block, inside struct http_arena */

struct http_arena_block;

struct http_arena {
        size_t used;                   /* of inline_buf */
        struct http_arena_block *more; /* extra blocks, newest first */
        bool wipe;                     /* http_arena_wipe_on_reset was called */
        _Alignas(max_align_t) char inline_buf[HTTP_ARENA_INLINE];
};

/* Makes an empty arena (the memory of *a is the caller's). */
void http_arena_init(struct http_arena *a);

/* n bytes aligned for any type, or NULL when out of memory. Valid until the next reset. */
void *http_arena_alloc(struct http_arena *a, size_t n);

/* Frees every extra block and makes the arena empty again. */
void http_arena_reset(struct http_arena *a);

/*
 * Has the next http_arena_reset wipe (sodium_memzero) every byte handed out since the last one,
 * inline and in blocks, before giving it back: for a request whose body held a secret (an OTP),
 * whose raw bytes sit in the arena (the body buffer and the copies its growth left behind) until
 * the request ends. Requests that never call it pay nothing.
 */
void http_arena_wipe_on_reset(struct http_arena *a);

/*
 * A growing byte buffer in an arena (for rendering responses): appends copy, growth doubles
 * and abandons the old space to the arena. `max` caps it; past it, or out of memory, `failed`
 * is set and further appends do nothing, so a renderer checks once at the end.
 */
struct http_buf {
        struct http_arena *a;
        char *p;
        size_t len, cap, max;
        int failed;
};

void http_buf_init(struct http_buf *b, struct http_arena *a, size_t max);
void http_buf_add(struct http_buf *b, const void *data, size_t n);
void http_buf_printf(struct http_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
