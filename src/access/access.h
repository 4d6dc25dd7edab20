/*
 * API clients and their access policy: who may call the data-sharing API, with which
 * credentials, in which roles, for which purposes, over which provinces, how often, and which
 * fields of a person they may see. DESIGN.md "Access and audit"; docs/ACCESS.md is the operator's
 * and integrator's view of the same rules.
 *
 * The module has four parts:
 *   the client model and its text forms (client.c): validation of what an operator types, the
 *     JSON shown by `popid client`, the conversion to and from the store's record;
 *   credentials (client.c): bearer tokens "popid_<client id>_<32 random bytes, base64url>",
 *     stored only as a keyed BLAKE2b hash under a server pepper (see access_token_hash);
 *   the policy (policy.c), pure and cheap enough for every request: parsing the Authorization
 *     header, access_check (403 rules), access_filter_json (field grants), the rate limiter (429);
 *   the client cache (cache.c): authentication against an in-memory copy of the client table,
 *     refreshed when the table's version changes, so a request does not read the database.
 *
 * Refusals carry a stable rule id and an HTTP status in struct access_denial; their detail text
 * names a role, grant, purpose or province and never any person data, so it may go into the
 * problem+json body as it is. The HTTP layer decides the order: authenticate (401), rate limit
 * (429), access_check (403) before any personal data is read, then filter the response.
 * Knows nothing of HTTP beyond the status numbers.
 */
#ifndef POP_ACCESS_ACCESS_H
#define POP_ACCESS_ACCESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/fields.h"
#include "core/err.h"
#include "store/store.h"

#define ACCESS_ID_MAX        32  /* a client id: [a-z0-9-], 1..32, no '-' at either end */
#define ACCESS_NAME_MAX      128 /* bytes of NFC UTF-8 */
#define ACCESS_PURPOSE_MAX   32  /* a purpose code: [a-z0-9-]{1,32} */
#define ACCESS_PURPOSES_MAX  16
#define ACCESS_SECRET_ID_LEN 16 /* hex digits */
#define ACCESS_HASH_LEN      32
#define ACCESS_PEPPER_LEN    32
#define ACCESS_SECRET_BYTES  32
#define ACCESS_SECRET_B64    43 /* base64url without padding of ACCESS_SECRET_BYTES */
#define ACCESS_TOKEN_PREFIX  "popid_"
#define ACCESS_TOKEN_MAX     (6 + ACCESS_ID_MAX + 1 + ACCESS_SECRET_B64)
#define ACCESS_HEADER_MAX    512     /* longest Authorization header value looked at */
#define ACCESS_RATE_MAX      100000  /* requests per second */
#define ACCESS_BURST_MAX     1000000 /* requests */
#define ACCESS_RATE_DEFAULT  10
#define ACCESS_GRACE_MAX_S   (30 * 86400) /* longest overlap of an old secret after rotate */
#define ACCESS_CACHE_TTL_MS  1000         /* default staleness bound of the client cache */
#define ACCESS_META_VERSION  "client_version"

enum access_kind {
        ACCESS_KIND_MINISTRY,
        ACCESS_KIND_PROVINCE,
        ACCESS_KIND_INSURER,
        ACCESS_KIND_BANK,
        ACCESS_KIND_TELCO,
        ACCESS_KIND_PORTAL,
        ACCESS_N_KINDS
};

/* Roles, a bit set. */
#define ACCESS_ROLE_REGISTRAR 0x1u /* records life events, within its province scope */
#define ACCESS_ROLE_READER    0x2u /* reads person data (granted fields only) */
#define ACCESS_ROLE_VERIFIER  0x4u /* yes/no verification of identity attributes */
#define ACCESS_ROLE_ADMIN     0x8u /* manages clients; reads the access log */
#define ACCESS_ROLES_ALL      0xfu
#define ACCESS_N_ROLES        4

/* A province scope: a set of 2025 unit codes (1..99), or every province. */
struct access_scope {
        bool all;
        uint64_t bits[2]; /* bit c of the 128: code c is in scope */
};

/* One credential: its public id (shown by `client show`) and keyed hash. */
struct access_secret {
        char id[ACCESS_SECRET_ID_LEN + 1]; /* "" when there is none */
        uint8_t hash[ACCESS_HASH_LEN];
        int64_t expires_ms; /* unix ms after which it is refused; 0: never (the current one) */
};

struct access_client {
        char id[ACCESS_ID_MAX + 1];
        char name[ACCESS_NAME_MAX + 1];
        enum access_kind kind;
        unsigned roles;
        uint64_t grants; /* over enum access_grant */
        char purposes[ACCESS_PURPOSES_MAX][ACCESS_PURPOSE_MAX + 1];
        int n_purposes;
        struct access_scope scope;
        uint32_t rate;  /* requests per second, sustained */
        uint32_t burst; /* requests at once */
        bool disabled;
        int64_t created_ms, updated_ms;
        struct access_secret secret; /* current */
        struct access_secret prev;   /* the one before a rotate with grace; id "" when none */
};

/* A refusal: the HTTP status, a stable rule id and a detail free of person data. */
struct access_denial {
        int status;          /* 401, 403 or 429 */
        const char *rule;    /* static: "token-unknown", "role-missing", ... (docs/ACCESS.md) */
        int64_t retry_after; /* seconds (429 only): the Retry-After header */
        char detail[192];
};

/* ---- names and validation ---- */

const char *access_kind_name(enum access_kind k);
int access_kind_parse(const char *s, enum access_kind *out, struct pop_err *err) POP_MUST_USE;
/* The name of one role bit ("reader"), or NULL. */
const char *access_role_name(unsigned role);
/* "reader,verifier" into a bit set; POP_EINVAL naming an unknown role. */
int access_roles_parse(const char *list, unsigned *out, struct pop_err *err) POP_MUST_USE;
/* Checks a purpose code: [a-z0-9-]{1,32}. */
int access_purpose_check(const char *s, size_t len, struct pop_err *err) POP_MUST_USE;
/* Checks a client id: [a-z0-9-]{1,32}, no '-' first or last. */
int access_id_check(const char *s, size_t len, struct pop_err *err) POP_MUST_USE;
/*
 * The default id of a client named `name`: lower case ASCII letters and digits, diacritics
 * removed (đ is d), every other run of characters one '-', at most ACCESS_ID_MAX. POP_EINVAL
 * when nothing is left (the operator then gives --id).
 */
int access_id_from_name(const char *name, char out[ACCESS_ID_MAX + 1],
                        struct pop_err *err) POP_MUST_USE;

bool access_scope_has(const struct access_scope *s, int unit_code);

/* Text as the CLI (or a future admin API) gives it; NULL: not given. */
struct access_client_args {
        const char *id;        /* add only; default: access_id_from_name(name) */
        const char *name;      /* display name */
        const char *kind;      /* ministry | province | insurer | bank | telco | portal */
        const char *roles;     /* "reader,verifier" */
        const char *fields;    /* field names: "name,dob,sex" */
        const char *grants;    /* grants that are not fields: "search,changes" */
        const char *purposes;  /* "kyc,health-insurance" */
        const char *provinces; /* "01,79" (2025 unit codes) or "all" */
        const char *rate;      /* requests per second */
        const char *burst;     /* default: twice the rate */
};

enum access_change {
        ACCESS_SET,    /* given values replace the client's */
        ACCESS_GRANT,  /* roles, fields, grants, purposes, provinces are added */
        ACCESS_REVOKE, /* ... are removed */
};

/*
 * Applies a to c. ACCESS_SET on a zeroed client builds a new one (name, kind and roles are then
 * required; provinces default to all except for registrars, the rate to ACCESS_RATE_DEFAULT).
 * Then checks the whole client (access_client_validate). POP_EINVAL with a message naming the
 * bad value; c may be partly changed then.
 */
int access_client_change(struct access_client *c, const struct access_client_args *a,
                         enum access_change how, struct pop_err *err) POP_MUST_USE;

/*
 * The client's invariants: a valid id and name, at least one role, a purpose for every role but
 * admin alone, a province scope for registrars, rate and burst in range.
 */
int access_client_validate(const struct access_client *c, struct pop_err *err) POP_MUST_USE;

/*
 * The client as JSON for operators: everything but credentials' hashes (the secret ids are
 * shown: they name a credential without revealing it). A new reference.
 */
json_t *access_client_json(const struct access_client *c);

/* ---- credentials ---- */

/*
 * The pepper: ACCESS_PEPPER_LEN random bytes in a file next to the database ("<db>.pepper", 64
 * hex digits, mode 0600) that keys the hash of every token. access_pepper_path derives the path
 * from a store URI. access_pepper_load reads it (refusing a file others can read), or with
 * create makes it when missing. Losing it invalidates every client's credentials.
 */
int access_pepper_path(const char *uri, char *buf, size_t cap, struct pop_err *err) POP_MUST_USE;
int access_pepper_load(const char *path, bool create, uint8_t out[ACCESS_PEPPER_LEN],
                       struct pop_err *err) POP_MUST_USE;

/*
 * The key files beside the database share the pepper's format and protection: ACCESS_KEYFILE_LEN
 * random bytes as 64 hex digits, mode 0600, created with O_EXCL from libsodium's CSPRNG, refused
 * when others can read them. access_keyfile_path derives "<db><suffix>" from a store URI;
 * access_keyfile_load reads (or with create makes) one. `rule` prefixes the rule ids of failures
 * ("<rule>-path", "-missing", "-mode", "-invalid", "-write") and `what` names the file in
 * messages. Used for the pepper, the eID key (src/eid) and the outbox key (src/hub).
 */
#define ACCESS_KEYFILE_LEN 32
int access_keyfile_path(const char *uri, const char *suffix, const char *rule, const char *what,
                        char *buf, size_t cap, struct pop_err *err) POP_MUST_USE;
int access_keyfile_load(const char *path, bool create, const char *rule, const char *what,
                        uint8_t out[ACCESS_KEYFILE_LEN], struct pop_err *err) POP_MUST_USE;

/* A token, whole and split into its parts (all NUL-terminated). Wipe it after use. */
struct access_token {
        char text[ACCESS_TOKEN_MAX + 1];
        size_t len; /* of text */
        char client_id[ACCESS_ID_MAX + 1];
        char secret[ACCESS_SECRET_B64 + 1];
};

/*
 * Parses "popid_<client id>_<43 base64url characters>" (the canonical encoding of 32 bytes).
 * POP_EINVAL with a message on anything else.
 */
int access_token_parse(const char *s, size_t len, struct access_token *out,
                       struct pop_err *err) POP_MUST_USE;

/*
 * Parses an Authorization header value: "Bearer" (any case, RFC 9110 11.1), one or more
 * spaces, a token (RFC 6750 2.1), optional trailing spaces. header NULL: no header. On refusal
 * returns POP_ERULE with d filled: 401 token-missing or token-malformed.
 */
int access_bearer_parse(const char *header, struct access_token *out,
                        struct access_denial *d) POP_MUST_USE;

/*
 * The stored form of a token: BLAKE2b-256 keyed with the pepper over the whole token, and its
 * first 8 bytes in hex as the secret id, which the store indexes for lookup.
 *
 * Why a fast keyed hash and not a password hash (Argon2id, crypto_pwhash_str): a password hash is
 * slow on purpose so that guessing low-entropy passwords from a stolen table is expensive. A token
 * holds 256 random bits: no guessing succeeds however fast the hash, so the slowness would buy
 * nothing and would cost tens of milliseconds of CPU and megabytes of memory on every request
 * (the API must verify ~40,000 requests a second). A stolen table still gives nothing usable: the
 * hash cannot be inverted, and without the pepper (kept outside the database) a candidate token
 * cannot even be tested against it.
 */
void access_token_hash(const uint8_t pepper[ACCESS_PEPPER_LEN], const char *token, size_t len,
                       uint8_t hash[ACCESS_HASH_LEN], char secret_id[ACCESS_SECRET_ID_LEN + 1]);

/*
 * Checks a presented token against the client it names: the hash against the current secret, or
 * the previous one while it has not expired; constant time (sodium_memcmp) in the bytes compared.
 * On refusal POP_ERULE and d: 401 token-unknown or client-disabled.
 */
int access_verify(const struct access_client *c, const struct access_token *t,
                  const uint8_t hash[ACCESS_HASH_LEN], int64_t now_ms,
                  struct access_denial *d) POP_MUST_USE;

/* ---- clients in the store ---- */

/*
 * Stores a new client (c validated, id free) with a fresh secret: sets c->secret, created and
 * updated, and writes the token into `token`, the only time it exists outside the client's hands.
 * The caller shows it once and wipes it (sodium_memzero). POP_ECONFLICT when the id is taken.
 */
int access_client_create(struct store *st, const uint8_t pepper[ACCESS_PEPPER_LEN],
                         struct access_client *c, int64_t now_ms, char token[ACCESS_TOKEN_MAX + 1],
                         struct pop_err *err) POP_MUST_USE;
/* POP_ENOTFOUND (rule client-not-found) when there is no such client. */
int access_client_get(struct store *st, const char *id, struct access_client *out,
                      struct pop_err *err) POP_MUST_USE;
typedef int access_client_fn(void *ctx, const struct access_client *c);
/* Every client in id order; fn returns non-zero to stop (that value is returned). */
int access_client_list(struct store *st, access_client_fn *fn, void *ctx,
                       struct pop_err *err) POP_MUST_USE;
/*
 * Changes a client in one transaction: reads it, lets fn change *out (fn returns 0 or an error
 * that aborts), validates, sets updated and stores it. The read and the write are one
 * transaction, so two operators changing one client do not lose each other's changes.
 */
typedef int access_modify_fn(void *ctx, struct access_client *c, struct pop_err *err);
int access_client_modify(struct store *st, const char *id, access_modify_fn *fn, void *ctx,
                         int64_t now_ms, struct access_client *out,
                         struct pop_err *err) POP_MUST_USE;
/*
 * Gives the client a new secret (written into token) and ends the old one: at once, or with
 * grace_ms > 0 after that long (one previous secret is kept; a second rotate ends the first
 * at once). *out is the client after the change.
 */
int access_client_rotate(struct store *st, const uint8_t pepper[ACCESS_PEPPER_LEN], const char *id,
                         int64_t grace_ms, int64_t now_ms, struct access_client *out,
                         char token[ACCESS_TOKEN_MAX + 1], struct pop_err *err) POP_MUST_USE;
/* The client that owns this secret id (current or previous), without the cache. */
int access_client_by_secret_id(struct store *st, const char *secret_id, struct access_client *out,
                               struct pop_err *err) POP_MUST_USE;

/* ---- the policy (policy.c) ---- */

#define ACCESS_NO_SUBJECT (-1)

/* What a call needs; the HTTP handler fills it per endpoint. */
struct access_need {
        unsigned role;       /* the role the call needs: one ACCESS_ROLE_* bit (0: any) */
        uint64_t grants;     /* grants it needs: a call grant (search, changes...), or fields it
                                cannot filter out (a verification compares them; a signed document
                                carries them) */
        const char *purpose; /* the purpose the request declared; NULL or "": none */
        bool no_purpose;     /* the call reads no personal data, so needs no purpose */
        int province;        /* the province of the subject's current permanent residence as
                                recorded (a legacy code counts as the 2025 unit that absorbed it);
                                0: the subject has none; ACCESS_NO_SUBJECT: no single subject */
};

/*
 * Decides whether c may make the call. Checks, in this order, and refuses with 403 and the rule
 * of the first that fails: role-missing, grant-missing, purpose-missing, purpose-not-allowed,
 * province-out-of-scope. A client with a province scope reaches no subject without a permanent
 * residence. 0 or POP_ERULE with d filled.
 */
int access_check(const struct access_client *c, const struct access_need *n,
                 struct access_denial *d) POP_MUST_USE;

/*
 * Removes from doc every key c was not granted (access_filter_grants) and returns the fields
 * released, for the audit entry (access_grants_json renders them). A handler answers 403
 * grant-missing instead when nothing is released.
 */
uint64_t access_filter_json(const struct access_client *c, enum access_doc kind, json_t *doc);

/*
 * The rate limiter: one token bucket per client, shared by every server thread. The bucket is
 * kept as GCRA (the generic cell rate algorithm, ITU-T I.371), which behaves exactly like a token
 * bucket of c->burst tokens refilled at c->rate per second but needs one 64-bit word of state,
 * updated with compare-and-swap: no lock on the request path. A client's rate may change at any
 * time; the next request uses the new one. Time is injected (a monotonic clock, ns).
 */
struct access_limiter;

/* max_clients bounds the clients the limiter tracks (0: 4096). The caller frees it. */
int access_limiter_new(size_t max_clients, struct access_limiter **out,
                       struct pop_err *err) POP_MUST_USE;
void access_limiter_free(struct access_limiter *l);

/*
 * Takes one request of c at now_ns. 0 when allowed; POP_ERULE with d filled (429 rate-limited
 * and retry_after, whole seconds >= 1) when over the limit; POP_EFULL when the limiter already
 * tracks max_clients others. Thread-safe.
 */
int access_limit(struct access_limiter *l, const struct access_client *c, int64_t now_ns,
                 struct access_denial *d, struct pop_err *err) POP_MUST_USE;

/* ---- the client cache (cache.c) ---- */

/*
 * An in-memory copy of the client table for authenticating requests without a database read.
 * Staleness: every ttl_ms at most the cache reads the table's version (meta client_version,
 * which every change of a client advances in the same transaction) and reloads the table when it
 * moved. So a client added, rotated, disabled or changed is seen by a server within ttl_ms (plus
 * the time of one reload); a token presented in that window is judged by the old state. An expired
 * previous secret is refused at once (its expiry time is in the copy). ttl_ms 0 reads the version
 * on every call.
 *
 * One cache belongs to one thread, like the store connection it reads (a server keeps one per
 * worker thread): no locks.
 */
struct access_cache;

/* st stays the caller's and must outlive the cache. The pepper is copied. */
int access_cache_new(struct store *st, const uint8_t pepper[ACCESS_PEPPER_LEN], int64_t ttl_ms,
                     struct access_cache **out, struct pop_err *err) POP_MUST_USE;
void access_cache_free(struct access_cache *c);
/* Marks the copy stale: the next call reads the version. */
void access_cache_invalidate(struct access_cache *c);

/*
 * Authenticates an Authorization header value (NULL: none) at now_ms (unix ms). On success *out
 * points to the client in the cache, valid until the next call on this cache. POP_ERULE with d
 * (401: token-missing, token-malformed, token-unknown, client-disabled), or a store error with
 * err (the handler answers 500 or 503, never 401, so a failing database does not look like bad
 * credentials).
 */
int access_authenticate(struct access_cache *c, const char *header, int64_t now_ms,
                        const struct access_client **out, struct access_denial *d,
                        struct pop_err *err) POP_MUST_USE;

/* The same against the store directly (one lookup by secret id): for the CLI and tests. */
int access_authenticate_store(struct store *st, const uint8_t pepper[ACCESS_PEPPER_LEN],
                              const char *header, int64_t now_ms, struct access_client *out,
                              struct access_denial *d, struct pop_err *err) POP_MUST_USE;

#endif
