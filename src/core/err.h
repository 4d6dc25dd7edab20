/*
 * Error codes and the error record that carries a human message to the edge.
 *
 * Functions that can fail return 0 or a negative POP_E* code (STYLE.md). When they also take a
 * `struct pop_err *`, they fill it with a stable rule id (used later as the problem+json `type`)
 * and a message that names the problem; the CLI prints the message, the API returns it.
 * POP_ENOTFOUND and POP_EAGAIN are ordinary outcomes, not faults.
 */
#ifndef POP_CORE_ERR_H
#define POP_CORE_ERR_H

#include <stddef.h>

#define POP_MUST_USE     __attribute__((warn_unused_result))
#define POP_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum pop_code {
        POP_OK = 0,
        POP_EINVAL = -1,    /* malformed input: a parser or validator refused it */
        POP_ENOTFOUND = -2, /* the thing asked for does not exist */
        POP_ERULE = -3,     /* a rule of the domain (law) refused the operation */
        POP_ECONFLICT = -4, /* it would duplicate something unique, or lost a race */
        POP_ESTORE = -5,    /* the store failed (I/O, corruption, injected fault) */
        POP_ENOMEM = -6,
        POP_EAGAIN = -7,   /* try again later (busy) */
        POP_EFULL = -8,    /* a number space is exhausted */
        POP_ETOOBIG = -9,  /* input over its size cap */
        POP_EVERIFY = -10, /* a signature or integrity check failed */
        POP_EIO = -11,     /* file or system I/O outside the store */
};

struct pop_err {
        int code;
        char rule[48]; /* stable id, e.g. "pid-prefix", "person-deceased" */
        char msg[256];
};

/* Fills *err (when not NULL) and returns code, so callers can write `return pop_fail(...)`. */
int pop_fail(struct pop_err *err, int code, const char *rule, const char *fmt, ...)
    POP_PRINTF(4, 5);

/* Clears *err (when not NULL). */
void pop_err_clear(struct pop_err *err);

/* A short English name of a code ("not found", "rule violated", ...). */
const char *pop_strerror(int code);

#endif
