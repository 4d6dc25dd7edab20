/*
 * Internals shared by the files of the access module (fields.c, client.c, policy.c, cache.c).
 * Not for use outside src/access/.
 */
#ifndef POP_ACCESS_INT_H
#define POP_ACCESS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "core/err.h"
#include "store/store.h"

/*
 * Calls fn for every item of a comma-separated list, spaces and tabs around items trimmed. An
 * empty list has no items; an empty item ("a,,b", "a,") is refused, naming `what`.
 */
typedef int access__item_fn(void *ctx, const char *item, size_t len, struct pop_err *err);
int access__each_item(const char *list, const char *what, access__item_fn *fn, void *ctx,
                      struct pop_err *err) POP_MUST_USE;

/* Fills d and returns POP_ERULE. */
int access__deny(struct access_denial *d, int status, const char *rule, const char *fmt, ...)
    POP_PRINTF(4, 5);

/* The store's record of a client and back (the lists become JSON text). */
int access__to_store(const struct access_client *c, struct store_client *out,
                     struct pop_err *err) POP_MUST_USE;
int access__from_store(const struct store_client *s, struct access_client *out,
                       struct pop_err *err) POP_MUST_USE;

/* The client table's version (meta client_version; 0 before the first client). */
int access__version(struct store *st, uint64_t *out, struct pop_err *err) POP_MUST_USE;

#endif
