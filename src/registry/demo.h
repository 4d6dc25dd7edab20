/*
 * A small synthetic registry for the demo and the tests: families enrolled from "legacy
 * records", married, with children born through the birth event (which allocates their IDs),
 * identity cards, temporary residence, moves and deaths. Every record goes through the real
 * event services, so the demo exercises the rules. Deterministic for a seed. The national-scale
 * streaming generator is `popid gen` (a separate, much faster path).
 */
#ifndef POP_REGISTRY_DEMO_H
#define POP_REGISTRY_DEMO_H

#include <stdint.h>

#include "registry/registry.h"

struct demo_stats {
        int64_t persons, events, households, refused;
        char sample_pid[PID_LEN + 1]; /* a living adult with a household, for the tour */
};

/* Adds about n people. Events the rules refuse are counted, not fatal. */
int reg_demo_seed(struct reg *r, const struct reg_ctx *ctx, long n, uint64_t seed,
                  struct demo_stats *stats, struct pop_err *err) POP_MUST_USE;

#endif
