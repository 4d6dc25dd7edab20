/*
 * The access policy the API applies to every request: the Authorization header and token parsers,
 * the check of a presented token against a client, the 403 rules, the response filter and the
 * rate limiter. No I/O: everything here is a function of its arguments (the limiter's state
 * aside), so the unit tests drive it with made-up clients and an injected clock. See access.h.
 */
#include "access/access.h"
#include "access/access_int.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "core/region.h"

/* ---- tokens ---- */

/* The index of a base64url character, or -1. */
static int b64url_index(unsigned char ch)
{
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 52;
        if (ch == '-')
                return 62;
        if (ch == '_')
                return 63;
        return -1;
}

int access_token_parse(const char *s, size_t len, struct access_token *out, struct pop_err *err)
{
        const size_t prefix = sizeof ACCESS_TOKEN_PREFIX - 1;
        memset(out, 0, sizeof *out);
        if (len > ACCESS_TOKEN_MAX)
                return pop_fail(err, POP_EINVAL, "token-malformed", "the token is too long");
        if (len < prefix + 2 + ACCESS_SECRET_B64 || memcmp(s, ACCESS_TOKEN_PREFIX, prefix) != 0)
                return pop_fail(err, POP_EINVAL, "token-malformed",
                                "a token is popid_<client id>_<secret>");
        /* The id ends at the first '_' (ids have none); the secret may hold '_'. */
        const char *id = s + prefix;
        const char *us = memchr(id, '_', len - prefix);
        if (!us)
                return pop_fail(err, POP_EINVAL, "token-malformed", "the token has no secret part");
        size_t id_len = (size_t)(us - id);
        if (access_id_check(id, id_len, NULL) != 0)
                return pop_fail(err, POP_EINVAL, "token-malformed",
                                "the token's client id is not a client id");
        const char *sec = us + 1;
        size_t sec_len = len - prefix - id_len - 1;
        if (sec_len != ACCESS_SECRET_B64)
                return pop_fail(err, POP_EINVAL, "token-malformed",
                                "the token's secret is not %d characters", ACCESS_SECRET_B64);
        for (size_t i = 0; i < sec_len; i++) {
                int v = b64url_index((unsigned char)sec[i]);
                /* 43 characters carry 258 bits for 256: the last one's low two bits are zero in the
                 * canonical encoding (RFC 4648 3.5), so each secret has exactly one spelling. */
                if (v < 0 || (i == sec_len - 1 && (v & 3)))
                        return pop_fail(err, POP_EINVAL, "token-malformed",
                                        "the token's secret is not base64url");
        }
        memcpy(out->text, s, len);
        out->len = len;
        memcpy(out->client_id, id, id_len);
        memcpy(out->secret, sec, sec_len);
        return 0;
}

static bool is_ows(char ch)
{
        return ch == ' ' || ch == '\t';
}

int access_bearer_parse(const char *header, struct access_token *out, struct access_denial *d)
{
        memset(out, 0, sizeof *out);
        size_t len = header ? strnlen(header, ACCESS_HEADER_MAX + 1) : 0;
        size_t a = 0;
        while (a < len && is_ows(header[a]))
                a++;
        if (a == len)
                return access__deny(d, 401, "token-missing",
                                    "no credentials: send Authorization: Bearer <token>");
        if (len > ACCESS_HEADER_MAX)
                return access__deny(d, 401, "token-malformed",
                                    "the Authorization header is too long");
        /* RFC 9110 11.1: the scheme is case-insensitive; RFC 6750 2.1: one or more spaces. */
        if (len - a < 7 || strncasecmp(header + a, "Bearer", 6) != 0 || header[a + 6] != ' ')
                return access__deny(d, 401, "token-malformed",
                                    "use the Bearer scheme: Authorization: Bearer <token>");
        size_t t = a + 7;
        while (t < len && header[t] == ' ')
                t++;
        size_t e = len;
        while (e > t && is_ows(header[e - 1]))
                e--;
        if (e == t)
                return access__deny(d, 401, "token-malformed", "the Bearer credentials are empty");
        if (access_token_parse(header + t, e - t, out, NULL) != 0)
                return access__deny(d, 401, "token-malformed",
                                    "the bearer token is not a popid token");
        return 0;
}

void access_token_hash(const uint8_t pepper[ACCESS_PEPPER_LEN], const char *token, size_t len,
                       uint8_t hash[ACCESS_HASH_LEN], char secret_id[ACCESS_SECRET_ID_LEN + 1])
{
        crypto_generichash(hash, ACCESS_HASH_LEN, (const unsigned char *)token, len, pepper,
                           ACCESS_PEPPER_LEN);
        sodium_bin2hex(secret_id, ACCESS_SECRET_ID_LEN + 1, hash, ACCESS_SECRET_ID_LEN / 2);
}

int access_verify(const struct access_client *c, const struct access_token *t,
                  const uint8_t hash[ACCESS_HASH_LEN], int64_t now_ms, struct access_denial *d)
{
        /* Both comparisons always run, in constant time over the bytes (sodium_memcmp), so the
         * time taken does not tell how much of a hash matched. */
        bool cur = c->secret.id[0] && sodium_memcmp(hash, c->secret.hash, ACCESS_HASH_LEN) == 0;
        bool prev = c->prev.id[0] && sodium_memcmp(hash, c->prev.hash, ACCESS_HASH_LEN) == 0 &&
                    now_ms < c->prev.expires_ms;
        if (!(cur || prev) || strcmp(t->client_id, c->id) != 0)
                return access__deny(d, 401, "token-unknown", "the token is not valid");
        /* Said only to the holder of a valid token. */
        if (c->disabled)
                return access__deny(d, 401, "client-disabled", "the client is disabled");
        return 0;
}

/* ---- the 403 rules ---- */

static bool has_purpose(const struct access_client *c, const char *p)
{
        for (int i = 0; i < c->n_purposes; i++)
                if (strcmp(c->purposes[i], p) == 0)
                        return true;
        return false;
}

int access_check(const struct access_client *c, const struct access_need *n,
                 struct access_denial *d)
{
        if (c->disabled)
                return access__deny(d, 401, "client-disabled", "the client is disabled");
        if (n->role && !(c->roles & n->role)) {
                const char *r = access_role_name(n->role);
                return access__deny(d, 403, "role-missing", "the client lacks the role %s",
                                    r ? r : "needed");
        }
        uint64_t missing = n->grants & ~c->grants;
        if (missing)
                return access__deny(d, 403, "grant-missing", "the client is not granted '%s'",
                                    access_grant_info(__builtin_ctzll(missing))->name);
        if (!n->no_purpose) {
                if (!n->purpose || !n->purpose[0])
                        return access__deny(d, 403, "purpose-missing",
                                            "declare the purpose of the request");
                /* Echo only what is a purpose code: the detail is shown to the caller. */
                if (access_purpose_check(n->purpose, strlen(n->purpose), NULL) != 0)
                        return access__deny(d, 403, "purpose-not-allowed",
                                            "the declared purpose is not a purpose code");
                if (!has_purpose(c, n->purpose))
                        return access__deny(d, 403, "purpose-not-allowed",
                                            "the purpose '%s' is not allowed for this client",
                                            n->purpose);
        }
        if (n->province != ACCESS_NO_SUBJECT && !c->scope.all) {
                /* Resolution 202/2025/QH15: a legacy code is in the unit that absorbed it. The
                 * detail does not name the province: it is residence data the client may not
                 * be granted. */
                const struct region_unit *u = n->province ? region_current_unit(n->province) : NULL;
                if (!u || !access_scope_has(&c->scope, u->code))
                        return access__deny(d, 403, "province-out-of-scope",
                                            "the subject is outside the client's province scope");
        }
        return 0;
}

uint64_t access_filter_json(const struct access_client *c, enum access_doc kind, json_t *doc)
{
        return access_filter_grants(c->disabled ? 0 : c->grants, kind, doc);
}

/* ---- the rate limiter ---- */

#define NS_PER_S 1000000000LL

/* One client's state: the theoretical arrival time of the next request (GCRA), in ns. */
struct bucket {
        _Atomic int64_t tat;
        char id[ACCESS_ID_MAX + 1];
};

/*
 * Open addressing over client ids. A slot, once set, never changes, so readers probe without a
 * lock; adding a client (once per client per process) takes the mutex.
 */
struct access_limiter {
        size_t cap; /* slots, a power of two, at least twice max */
        size_t max;
        size_t n;
        pthread_mutex_t add;
        _Atomic(struct bucket *) *slots;
};

int access_limiter_new(size_t max_clients, struct access_limiter **out, struct pop_err *err)
{
        *out = NULL;
        if (max_clients == 0)
                max_clients = 4096;
        if (max_clients > (1u << 20))
                return pop_fail(err, POP_EINVAL, "limiter-size",
                                "too many clients for the limiter");
        size_t cap = 16;
        while (cap < 2 * max_clients)
                cap *= 2;
        struct access_limiter *l = calloc(1, sizeof *l);
        if (!l || !(l->slots = calloc(cap, sizeof *l->slots))) {
                free(l);
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        }
        for (size_t i = 0; i < cap; i++)
                atomic_init(&l->slots[i], NULL);
        l->cap = cap;
        l->max = max_clients;
        pthread_mutex_init(&l->add, NULL);
        *out = l;
        return 0;
}

void access_limiter_free(struct access_limiter *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->cap; i++)
                free(atomic_load_explicit(&l->slots[i], memory_order_relaxed));
        free(l->slots);
        pthread_mutex_destroy(&l->add);
        free(l);
}

/* FNV-1a: client ids are chosen by operators, not by the callers being limited. */
static uint64_t id_hash(const char *s)
{
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

/* The bucket of id; with add, made when missing. NULL when missing (or the table is full). */
static struct bucket *find_bucket(struct access_limiter *l, const char *id, bool add)
{
        size_t mask = l->cap - 1;
        for (size_t i = id_hash(id) & mask;; i = (i + 1) & mask) {
                struct bucket *b = atomic_load_explicit(&l->slots[i], memory_order_acquire);
                if (b && strcmp(b->id, id) == 0)
                        return b;
                if (b)
                        continue;
                if (!add)
                        return NULL;
                /* The table is at most half full, so an empty slot ends every probe. */
                pthread_mutex_lock(&l->add);
                b = atomic_load_explicit(&l->slots[i], memory_order_acquire);
                if (b) { /* taken meanwhile: go on probing from here */
                        pthread_mutex_unlock(&l->add);
                        if (strcmp(b->id, id) == 0)
                                return b;
                        continue;
                }
                struct bucket *nb = l->n < l->max ? calloc(1, sizeof *nb) : NULL;
                if (nb) {
                        atomic_init(&nb->tat, 0);
                        snprintf(nb->id, sizeof nb->id, "%s", id);
                        atomic_store_explicit(&l->slots[i], nb, memory_order_release);
                        l->n++;
                }
                pthread_mutex_unlock(&l->add);
                return nb;
        }
}

int access_limit(struct access_limiter *l, const struct access_client *c, int64_t now_ns,
                 struct access_denial *d, struct pop_err *err)
{
        struct bucket *b = find_bucket(l, c->id, false);
        if (!b && !(b = find_bucket(l, c->id, true)))
                return pop_fail(err, POP_EFULL, "limiter-full",
                                "the rate limiter tracks %zu clients already", l->max);
        uint32_t rate = c->rate ? c->rate : 1, burst = c->burst ? c->burst : 1;
        /* GCRA: each request moves the theoretical arrival time (tat) on by one emission interval;
         * a request is allowed while tat is no further ahead of now than burst - 1 intervals. */
        int64_t interval = NS_PER_S / rate;
        int64_t tolerance = interval * (int64_t)(burst - 1);
        int64_t old = atomic_load_explicit(&b->tat, memory_order_relaxed);
        for (;;) {
                int64_t t = old > now_ns ? old : now_ns;
                if (t - now_ns > tolerance) {
                        int64_t wait = t - tolerance - now_ns;
                        int rc =
                            access__deny(d, 429, "rate-limited",
                                         "over the client's rate limit of %u requests a second "
                                         "(burst %u)",
                                         rate, burst);
                        if (d) {
                                d->retry_after = (wait + NS_PER_S - 1) / NS_PER_S;
                                if (d->retry_after < 1)
                                        d->retry_after = 1;
                        }
                        return rc;
                }
                if (atomic_compare_exchange_weak_explicit(
                        &b->tat, &old, t + interval, memory_order_relaxed, memory_order_relaxed))
                        return 0;
        }
}
