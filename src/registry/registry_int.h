/*
 * Internals shared by the files of the registry service (reg.c, events.c, views.c): JSON
 * helpers for rendering. Not for use outside src/registry/.
 */
#ifndef POP_REGISTRY_INT_H
#define POP_REGISTRY_INT_H

#include <jansson.h>
#include <stdint.h>

#include "core/date.h"

json_t *reg__pid_json(int64_t pid);      /* "001090012345", or null for 0 */
json_t *reg__date_json(struct pdate d);  /* "YYYY[-MM[-DD]]", or null for none */
json_t *reg__time_json(int64_t unix_ms); /* RFC 3339 UTC, seconds */

#endif
