/*
 * A test allocator for jansson (json_set_alloc_funcs) that can keep what jansson frees instead
 * of freeing it, so a test can look for a secret in memory jansson let go of without wiping:
 * jfreed_install() in main before any use of jansson, jfreed_keep(true) around the call under
 * test, then jfreed_find(needle) searches every block freed meanwhile, frees them and says
 * whether the needle was in one. Shared by the eID tests (account_test.c, otp_test.c); static,
 * one copy per test binary. Thread-safe (the audit writer may use jansson meanwhile).
 */
#ifndef POP_TEST_JFREED_H
#define POP_TEST_JFREED_H

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Blocks are plain malloc blocks (popid frees json_dumps' result with free()); a kept one is
 * listed here, its size from malloc_usable_size. */
#define JFREED_MAX 65536

static pthread_mutex_t jfreed_mu = PTHREAD_MUTEX_INITIALIZER;
static void *jfreed_list[JFREED_MAX];
static size_t jfreed_n;
static bool jfreed_keeping, jfreed_overflow;

static void jfreed_free(void *p)
{
        if (!p)
                return;
        pthread_mutex_lock(&jfreed_mu);
        if (jfreed_keeping && jfreed_n < JFREED_MAX) {
                jfreed_list[jfreed_n++] = p;
                p = NULL;
        } else if (jfreed_keeping) {
                jfreed_overflow = true;
        }
        pthread_mutex_unlock(&jfreed_mu);
        free(p);
}

static inline void jfreed_install(void)
{
        json_set_alloc_funcs(malloc, jfreed_free);
}

static inline void jfreed_keep(bool on)
{
        pthread_mutex_lock(&jfreed_mu);
        jfreed_keeping = on;
        pthread_mutex_unlock(&jfreed_mu);
}

/* Whether needle is in a block kept since jfreed_keep(true) (or some could not be kept: then
 * true as well, the answer unknown); frees them all. */
static inline bool jfreed_find(const char *needle)
{
        pthread_mutex_lock(&jfreed_mu);
        bool found = jfreed_overflow;
        size_t n = strlen(needle);
        for (size_t i = 0; i < jfreed_n; i++) {
                if (memmem(jfreed_list[i], malloc_usable_size(jfreed_list[i]), needle, n))
                        found = true;
                free(jfreed_list[i]);
        }
        jfreed_n = 0;
        jfreed_overflow = false;
        pthread_mutex_unlock(&jfreed_mu);
        return found;
}

#endif
