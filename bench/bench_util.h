/*
 * Helpers every benchmark program shares: a monotonic clock, fatal errors, checked allocation,
 * a deterministic generator (splitmix64), count parsing and a double comparator for medians.
 * Include after defining BENCH_NAME (the prefix of error messages). Header-only because each
 * bench_*.c is its own program.
 */
#ifndef POP_BENCH_UTIL_H
#define POP_BENCH_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/err.h"

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench_util.h"
#endif

static inline double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void die(const char *fmt, ...) POP_PRINTF(1, 2) __attribute__((noreturn));

static inline void die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs(BENCH_NAME ": ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

static inline void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n, size);
        if (!p)
                die("out of memory");
        return p;
}

/* splitmix64: fast, deterministic, good enough to spread keys. */
static inline uint64_t next_u64(uint64_t *s)
{
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static inline uint32_t rnd(uint64_t *s, uint32_t n)
{
        return (uint32_t)(next_u64(s) % n);
}

static inline int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static inline int64_t parse_count(const char *flag, const char *v)
{
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno || end == v || *end || n <= 0)
                die("%s: expected a positive whole number, got '%s'", flag, v);
        return n;
}

#endif
