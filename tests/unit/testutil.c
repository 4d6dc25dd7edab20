/*
 * Helpers shared by the unit tests; see testutil.h.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static void rm_tmpdir(void)
{
        if (tmpdir[0]) {
                char cmd[300];
                snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
                if (system(cmd) != 0)
                        fprintf(stderr, "could not remove %s\n", tmpdir);
        }
}

const char *tu_tmpdir(void)
{
        static int registered;
        rm_tmpdir();
        snprintf(tmpdir, sizeof tmpdir, "/tmp/popid-test-XXXXXX");
        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                abort();
        }
        if (!registered) {
                atexit(rm_tmpdir);
                registered = 1;
        }
        return tmpdir;
}

const char *tu_path(char *buf, size_t cap, const char *name)
{
        snprintf(buf, cap, "%s/%s", tmpdir[0] ? tmpdir : tu_tmpdir(), name);
        return buf;
}

const char *tu_source_dir(void)
{
        const char *s = getenv("POPID_SOURCE_DIR");
        return s && *s ? s : ".";
}
