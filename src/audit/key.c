/*
 * The audit signing key: an Ed25519 key pair (libsodium crypto_sign) whose secret seed lives in
 * a key file next to the database ("<db>.audit.key", mode 0600, never in the database) and whose
 * public key is recorded in the meta table of the audit database ("<db>.audit", see
 * audit_store_open), so verification and exports need only that file. It is a separate key from the
 * registry's document-signing key (confirm.c): a leak of one does not let anyone forge the other's
 * signatures, and each can be rotated alone.
 *
 * File format, one line: "popid-audit-key-v1 " + base64url(32-byte seed) + "\n".
 */
#include "audit/audit_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_PREFIX   "popid-audit-key-v1 "
#define KEY_FILE_MAX 256
#define SEED_BYTES   crypto_sign_SEEDBYTES

int audit_key_path(const char *uri, char *buf, size_t cap, struct pop_err *err)
{
        const char *env = getenv("POPID_AUDIT_KEY");
        if (env && *env) {
                if ((size_t)snprintf(buf, cap, "%s", env) >= cap)
                        return pop_fail(err, POP_ETOOBIG, "audit-key-path",
                                        "POPID_AUDIT_KEY too long");
                return 0;
        }
        if (!uri || !*uri)
                return pop_fail(err, POP_EINVAL, "store-uri",
                                "no database given: use --db PATH or set POPID_DB");
        while (!strncmp(uri, "fault:", 6))
                uri += 6;
        if (!strncmp(uri, "sqlite:", 7))
                uri += 7;
        if (strstr(uri, "://"))
                return pop_fail(err, POP_EINVAL, "audit-key-path",
                                "give the audit key file with POPID_AUDIT_KEY for %s", uri);
        if ((size_t)snprintf(buf, cap, "%s.audit.key", uri) >= cap)
                return pop_fail(err, POP_ETOOBIG, "audit-key-path", "database path too long");
        return 0;
}

/* The path in a registry URI, past its "fault:" and "sqlite:" prefixes (at *path). */
static int uri_path(const char *uri, const char **path, struct pop_err *err)
{
        if (!uri || !*uri)
                return pop_fail(err, POP_EINVAL, "store-uri",
                                "no database given: use --db PATH or set POPID_DB");
        while (!strncmp(uri, "fault:", 6))
                uri += 6;
        if (!strncmp(uri, "sqlite:", 7))
                uri += 7;
        *path = uri;
        return 0;
}

int audit_store_uri(const char *uri, char *buf, size_t cap, struct pop_err *err)
{
        const char *path = NULL;
        int rc = uri_path(uri, &path, err);
        if (rc)
                return rc;
        if (strstr(path, "://"))
                return pop_fail(err, POP_EINVAL, "store-uri",
                                "the audit log needs a file database, not %s", path);
        if ((size_t)snprintf(buf, cap, "%s.audit", uri) >= cap)
                return pop_fail(err, POP_ETOOBIG, "store-uri", "database path too long");
        return 0;
}

int audit_store_open(const char *uri, struct store **out, struct pop_err *err)
{
        char auri[4096];
        const char *path = NULL;
        struct stat sb;
        *out = NULL;
        int rc = audit_store_uri(uri, auri, sizeof auri, err);
        if (rc || (rc = uri_path(uri, &path, err)))
                return rc;
        /* The audit file is made on first use, but only beside an existing registry. */
        if (stat(path, &sb) != 0)
                return pop_fail(err, POP_ENOTFOUND, "store-missing",
                                "no registry at %s (create one with: popid init --db %s)", path,
                                path);
        return store_open(auri, STORE_OPEN_CREATE | STORE_OPEN_AUDIT, out, err);
}

int audit_parse_public_key(const char *text, uint8_t pk[AUDIT_PK_BYTES], struct pop_err *err)
{
        if (!text || !audit__unb64(text, strlen(text), pk, AUDIT_PK_BYTES))
                return pop_fail(err, POP_EINVAL, "audit-public-key",
                                "not an audit public key (43 characters of base64url)");
        return 0;
}

int audit_public_key(struct store *st, uint8_t pk[AUDIT_PK_BYTES], char text[AUDIT_PK_TEXT],
                     struct pop_err *err)
{
        size_t len = 0;
        int rc = store_meta_get(st, AUDIT__META_PK, pk, AUDIT_PK_BYTES, &len, err);
        if (rc == POP_ENOTFOUND)
                return pop_fail(err, rc, "audit-key-missing",
                                "the registry has no audit key yet (run popid init)");
        if (rc == POP_ETOOBIG || (rc == 0 && len != AUDIT_PK_BYTES))
                return pop_fail(err, POP_ESTORE, "store-corrupt",
                                "the stored audit key is corrupt");
        if (rc)
                return rc;
        if (text)
                audit__b64(pk, AUDIT_PK_BYTES, text, AUDIT_PK_TEXT);
        return 0;
}

/* Reads the seed from the key file. POP_ENOTFOUND when the file does not exist. */
static int read_seed(const char *path, uint8_t seed[SEED_BYTES], struct pop_err *err)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT)
                return POP_ENOTFOUND;
        if (fd < 0)
                return pop_fail(err, POP_EIO, "audit-key-read", "cannot open the audit key %s: %s",
                                path, strerror(errno));
        struct stat sb;
        char buf[KEY_FILE_MAX + 1];
        ssize_t n = -1;
        int rc = 0;
        if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
                rc = pop_fail(err, POP_EIO, "audit-key-read", "the audit key %s is not a file",
                              path);
                goto out;
        }
        /* The secret is protected by the file's permissions: refuse one others may read. */
        if (sb.st_mode & 077) {
                rc = pop_fail(err, POP_EIO, "audit-key-mode",
                              "the audit key %s is readable by others (chmod 600 it)", path);
                goto out;
        }
        n = read(fd, buf, KEY_FILE_MAX + 1);
        size_t pl = sizeof KEY_PREFIX - 1;
        if (n < (ssize_t)pl + 1 || n > KEY_FILE_MAX || memcmp(buf, KEY_PREFIX, pl) != 0 ||
            buf[n - 1] != '\n' || !audit__unb64(buf + pl, (size_t)n - pl - 1, seed, SEED_BYTES))
                rc = pop_fail(err, POP_EIO, "audit-key-invalid", "%s is not an audit key file",
                              path);
out:
        sodium_memzero(buf, sizeof buf);
        close(fd);
        return rc;
}

/* Writes a new key file atomically; POP_ECONFLICT when another process made one first. */
static int write_seed(const char *path, const uint8_t seed[SEED_BYTES], struct pop_err *err)
{
        char tmp[PATH_MAX], line[KEY_FILE_MAX];
        if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
                return pop_fail(err, POP_ETOOBIG, "audit-key-path", "key path too long");
        size_t pl = sizeof KEY_PREFIX - 1;
        memcpy(line, KEY_PREFIX, pl);
        audit__b64(seed, SEED_BYTES, line + pl, sizeof line - pl);
        size_t len = strlen(line);
        line[len++] = '\n';
        int rc = 0;
        unlink(tmp);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || write(fd, line, len) != (ssize_t)len || fsync(fd) != 0) {
                rc = pop_fail(err, POP_EIO, "audit-key-write", "cannot write the audit key %s: %s",
                              tmp, strerror(errno));
                goto out;
        }
        /* link() fails when the name exists: of two processes creating a key, one wins. */
        if (link(tmp, path) != 0) {
                rc = errno == EEXIST
                         ? POP_ECONFLICT
                         : pop_fail(err, POP_EIO, "audit-key-write",
                                    "cannot create the audit key %s: %s", path, strerror(errno));
                goto out;
        }
        /* Make the new name durable too. */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = '\0';
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
        }
out:
        sodium_memzero(line, sizeof line);
        if (fd >= 0)
                close(fd);
        unlink(tmp);
        return rc;
}

static int record_pk(struct store *st, const uint8_t pk[AUDIT_PK_BYTES], struct pop_err *err)
{
        int rc = store_begin(st, err);
        if (rc)
                return rc;
        if ((rc = store_meta_set(st, AUDIT__META_PK, pk, AUDIT_PK_BYTES, err)) == 0)
                rc = store_commit(st, err);
        if (rc)
                store_rollback(st);
        return rc;
}

int audit__key_load(struct store *st, const char *path, uint8_t sk[AUDIT__SK_BYTES],
                    uint8_t pk[AUDIT_PK_BYTES], struct pop_err *err)
{
        uint8_t seed[SEED_BYTES], known[AUDIT_PK_BYTES];
        int rc;
        if (sodium_init() < 0)
                return pop_fail(err, POP_EIO, "sodium", "libsodium failed to initialize");
        int have = audit_public_key(st, known, NULL, err);
        if (have != 0 && have != POP_ENOTFOUND)
                return have;
        for (int attempt = 0; attempt < 2; attempt++) {
                rc = read_seed(path, seed, err);
                if (rc == 0)
                        break;
                if (rc != POP_ENOTFOUND)
                        goto out;
                if (have == 0) {
                        rc = pop_fail(err, POP_EIO, "audit-key-missing",
                                      "the audit key %s is missing, and the registry's log is "
                                      "sealed with a key (restore the file)",
                                      path);
                        goto out;
                }
                randombytes_buf(seed, sizeof seed);
                rc = write_seed(path, seed, err);
                if (rc == 0)
                        break;
                if (rc != POP_ECONFLICT)
                        goto out;
                /* Lost the race to another process: use its key. */
        }
        if (rc)
                goto out;
        crypto_sign_seed_keypair(pk, sk, seed);
        if (have == 0) {
                if (sodium_memcmp(known, pk, AUDIT_PK_BYTES) != 0)
                        rc = pop_fail(err, POP_EVERIFY, "audit-key-mismatch",
                                      "the key file %s is not the registry's audit key", path);
        } else {
                rc = record_pk(st, pk, err);
        }
out:
        sodium_memzero(seed, sizeof seed);
        if (rc)
                sodium_memzero(sk, AUDIT__SK_BYTES);
        return rc;
}

int audit_key_init(const char *uri, const char *key_path, struct pop_err *err)
{
        struct store *st = NULL;
        uint8_t sk[AUDIT__SK_BYTES], pk[AUDIT_PK_BYTES];
        int rc = audit_store_open(uri, &st, err);
        if (rc)
                return rc;
        rc = audit__key_load(st, key_path, sk, pk, err);
        sodium_memzero(sk, sizeof sk);
        store_close(st);
        return rc;
}
