/*
 * Helpers shared by the unit tests: temporary directories that clean up after themselves and
 * the path of the source tree (for data files).
 */
#ifndef POP_TESTUTIL_H
#define POP_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

/* Makes a fresh temporary directory; returns its path (static storage until the next call). */
const char *tu_tmpdir(void);

/* Joins the temporary directory and a name into buf. */
const char *tu_path(char *buf, size_t cap, const char *name);

/* The source tree root (POPID_SOURCE_DIR, set by ctest), or "." */
const char *tu_source_dir(void);

#endif
