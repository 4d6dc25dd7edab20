/*
 * The client cache: an in-memory copy of the client table, indexed by secret id, so that
 * authenticating a request costs one keyed hash and a binary search instead of a database read.
 * The copy is reloaded when the table's version (meta client_version, advanced by every change
 * in client.c) has moved; the version itself is read at most every ttl_ms. One cache per thread,
 * no locks. See access.h for the staleness bound.
 */
#include "access/access.h"
#include "access/access_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct entry {
        char secret_id[ACCESS_SECRET_ID_LEN + 1];
        size_t client;
};

struct access_cache {
        struct store *st;
        uint8_t pepper[ACCESS_PEPPER_LEN];
        int64_t ttl_ms;
        bool loaded, stale;
        int64_t checked_ms; /* when the version was last read */
        uint64_t version;   /* of the copy */
        struct access_client *clients;
        size_t n_clients;
        struct entry *index; /* by secret_id: current and previous secrets */
        size_t n_index;
};

int access_cache_new(struct store *st, const uint8_t pepper[ACCESS_PEPPER_LEN], int64_t ttl_ms,
                     struct access_cache **out, struct pop_err *err)
{
        *out = NULL;
        if (sodium_init() < 0)
                return pop_fail(err, POP_EIO, "sodium", "libsodium cannot start");
        struct access_cache *c = calloc(1, sizeof *c);
        if (!c)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        c->st = st;
        memcpy(c->pepper, pepper, ACCESS_PEPPER_LEN);
        c->ttl_ms = ttl_ms < 0 ? 0 : ttl_ms;
        *out = c;
        return 0;
}

static void drop_copy(struct access_client *clients, size_t n, struct entry *index)
{
        if (clients)
                sodium_memzero(clients, n * sizeof *clients);
        free(clients);
        free(index);
}

void access_cache_free(struct access_cache *c)
{
        if (!c)
                return;
        drop_copy(c->clients, c->n_clients, c->index);
        sodium_memzero(c->pepper, sizeof c->pepper);
        free(c);
}

void access_cache_invalidate(struct access_cache *c)
{
        c->stale = true;
}

struct load {
        struct access_client *clients;
        size_t n, cap;
};

static int load_one(void *ctx, const struct access_client *cl)
{
        struct load *l = ctx;
        if (l->n == l->cap) {
                size_t cap = l->cap ? 2 * l->cap : 64;
                struct access_client *nc = realloc(l->clients, cap * sizeof *nc);
                if (!nc)
                        return POP_ENOMEM;
                l->clients = nc;
                l->cap = cap;
        }
        l->clients[l->n++] = *cl;
        return 0;
}

static int by_secret_id(const void *a, const void *b)
{
        return strcmp(((const struct entry *)a)->secret_id, ((const struct entry *)b)->secret_id);
}

/* Reads the table into a new copy; the old one stays on failure. */
static int reload(struct access_cache *c, uint64_t version, struct pop_err *err)
{
        struct load l = {0};
        int rc = access_client_list(c->st, load_one, &l, err);
        if (rc == POP_ENOMEM)
                pop_fail(err, rc, "nomem", "out of memory");
        struct entry *index = NULL;
        if (rc == 0 && l.n && !(index = calloc(2 * l.n, sizeof *index)))
                rc = pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        if (rc) {
                drop_copy(l.clients, l.n, NULL);
                return rc;
        }
        size_t n = 0;
        for (size_t i = 0; i < l.n; i++) {
                const struct access_client *cl = &l.clients[i];
                if (cl->secret.id[0]) {
                        memcpy(index[n].secret_id, cl->secret.id, sizeof index[n].secret_id);
                        index[n++].client = i;
                }
                if (cl->prev.id[0]) {
                        memcpy(index[n].secret_id, cl->prev.id, sizeof index[n].secret_id);
                        index[n++].client = i;
                }
        }
        qsort(index, n, sizeof *index, by_secret_id);
        drop_copy(c->clients, c->n_clients, c->index);
        c->clients = l.clients;
        c->n_clients = l.n;
        c->index = index;
        c->n_index = n;
        c->version = version;
        c->loaded = true;
        return 0;
}

/* Brings the copy up to date when it may be stale. */
static int refresh(struct access_cache *c, int64_t now_ms, struct pop_err *err)
{
        if (c->loaded && !c->stale && now_ms >= c->checked_ms && now_ms - c->checked_ms < c->ttl_ms)
                return 0;
        /* The version and the rows from one snapshot: a change committed between the two reads
         * cannot leave a copy that claims a version it does not hold. */
        int rc = store_read_begin(c->st, err);
        if (rc)
                return rc;
        uint64_t version;
        rc = access__version(c->st, &version, err);
        if (rc == 0 && (!c->loaded || version != c->version))
                rc = reload(c, version, err);
        store_read_end(c->st);
        if (rc == 0) {
                c->checked_ms = now_ms;
                c->stale = false;
        }
        return rc;
}

int access_authenticate(struct access_cache *c, const char *header, int64_t now_ms,
                        const struct access_client **out, struct access_denial *d,
                        struct pop_err *err)
{
        *out = NULL;
        struct access_token t;
        uint8_t hash[ACCESS_HASH_LEN];
        struct entry key;
        int rc = access_bearer_parse(header, &t, d);
        if (rc)
                return rc;
        access_token_hash(c->pepper, t.text, t.len, hash, key.secret_id);
        if ((rc = refresh(c, now_ms, err)))
                goto out;
        const struct entry *e =
            c->n_index ? bsearch(&key, c->index, c->n_index, sizeof key, by_secret_id) : NULL;
        if (!e && c->checked_ms != now_ms) {
                /* A client added since the last check must not wait out the ttl: an unknown
                 * token re-reads the version (one meta read) before it is refused. */
                c->stale = true;
                if ((rc = refresh(c, now_ms, err)))
                        goto out;
                e = c->n_index ? bsearch(&key, c->index, c->n_index, sizeof key, by_secret_id)
                               : NULL;
        }
        if (!e) {
                rc = access__deny(d, 401, "token-unknown", "the token is not valid");
                goto out;
        }
        const struct access_client *cl = &c->clients[e->client];
        if ((rc = access_verify(cl, &t, hash, now_ms, d)))
                goto out;
        *out = cl;
out:
        sodium_memzero(&t, sizeof t);
        sodium_memzero(hash, sizeof hash);
        return rc;
}

int access_authenticate_store(struct store *st, const uint8_t pepper[ACCESS_PEPPER_LEN],
                              const char *header, int64_t now_ms, struct access_client *out,
                              struct access_denial *d, struct pop_err *err)
{
        struct access_token t;
        uint8_t hash[ACCESS_HASH_LEN];
        char secret_id[ACCESS_SECRET_ID_LEN + 1];
        memset(out, 0, sizeof *out);
        int rc = access_bearer_parse(header, &t, d);
        if (rc)
                return rc;
        if (sodium_init() < 0)
                return pop_fail(err, POP_EIO, "sodium", "libsodium cannot start");
        access_token_hash(pepper, t.text, t.len, hash, secret_id);
        rc = access_client_by_secret_id(st, secret_id, out, err);
        if (rc == POP_ENOTFOUND) {
                pop_err_clear(err);
                rc = access__deny(d, 401, "token-unknown", "the token is not valid");
        }
        if (rc == 0)
                rc = access_verify(out, &t, hash, now_ms, d);
        sodium_memzero(&t, sizeof t);
        sodium_memzero(hash, sizeof hash);
        return rc;
}
