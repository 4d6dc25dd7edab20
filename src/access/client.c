/*
 * API clients: the model's names and validation, the text forms an operator types, the JSON
 * `popid client` shows, the conversion to the store's record, the pepper file, and the calls
 * that create, change and rotate clients in the store. Every change of a client advances the
 * table's version (meta client_version) in the same transaction, which is how the caches of
 * running servers notice it (cache.c). See access.h.
 */
#include "access/access.h"
#include "access/access_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utf8proc.h>

#include "core/name.h"
#include "core/region.h"

static const char *const kind_names[ACCESS_N_KINDS] = {
    [ACCESS_KIND_MINISTRY] = "ministry", [ACCESS_KIND_PROVINCE] = "province",
    [ACCESS_KIND_INSURER] = "insurer",   [ACCESS_KIND_BANK] = "bank",
    [ACCESS_KIND_TELCO] = "telco",       [ACCESS_KIND_PORTAL] = "portal",
};

static const char *const role_names[ACCESS_N_ROLES] = {"registrar", "reader", "verifier", "admin"};

/* ---- small parsers ---- */

int access__each_item(const char *list, const char *what, access__item_fn *fn, void *ctx,
                      struct pop_err *err)
{
        const char *p = list ? list : "";
        if (!*p)
                return 0;
        for (;;) {
                const char *end = strchr(p, ',');
                const char *a = p, *b = end ? end : p + strlen(p);
                while (a < b && (*a == ' ' || *a == '\t'))
                        a++;
                while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
                        b--;
                if (a == b)
                        return pop_fail(err, POP_EINVAL, "list-empty-item",
                                        "empty %s in the list '%.64s'", what, list);
                int rc = fn(ctx, a, (size_t)(b - a), err);
                if (rc)
                        return rc;
                if (!end)
                        return 0;
                p = end + 1;
        }
}

int access__deny(struct access_denial *d, int status, const char *rule, const char *fmt, ...)
{
        if (d) {
                d->status = status;
                d->rule = rule;
                d->retry_after = 0;
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(d->detail, sizeof d->detail, fmt, ap);
                va_end(ap);
        }
        return POP_ERULE;
}

/* [a-z0-9-] */
static bool slug_char(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

/* Quotes at most 40 bytes of untrusted text into a message, non-printable bytes as '?'. */
static const char *quote(const char *s, size_t len, char out[48])
{
        size_t n = len > 40 ? 40 : len;
        for (size_t i = 0; i < n; i++)
                out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        if (len > 40) {
                memcpy(out + 40, "...", 3);
                n = 43;
        }
        out[n] = '\0';
        return out;
}

const char *access_kind_name(enum access_kind k)
{
        return (int)k >= 0 && k < ACCESS_N_KINDS ? kind_names[k] : "unknown";
}

int access_kind_parse(const char *s, enum access_kind *out, struct pop_err *err)
{
        for (int k = 0; k < ACCESS_N_KINDS; k++) {
                if (strcmp(s, kind_names[k]) == 0) {
                        *out = (enum access_kind)k;
                        return 0;
                }
        }
        char q[48];
        return pop_fail(
            err, POP_EINVAL, "client-kind",
            "unknown client kind '%s' (ministry, province, insurer, bank, telco, portal)",
            quote(s, strlen(s), q));
}

const char *access_role_name(unsigned role)
{
        for (int i = 0; i < ACCESS_N_ROLES; i++)
                if (role == 1u << i)
                        return role_names[i];
        return NULL;
}

static int add_role(void *ctx, const char *item, size_t len, struct pop_err *err)
{
        for (int i = 0; i < ACCESS_N_ROLES; i++) {
                if (strlen(role_names[i]) == len && memcmp(role_names[i], item, len) == 0) {
                        *(unsigned *)ctx |= 1u << i;
                        return 0;
                }
        }
        char q[48];
        return pop_fail(err, POP_EINVAL, "client-role",
                        "unknown role '%s' (registrar, reader, verifier, admin)",
                        quote(item, len, q));
}

int access_roles_parse(const char *list, unsigned *out, struct pop_err *err)
{
        *out = 0;
        return access__each_item(list, "role", add_role, out, err);
}

int access_purpose_check(const char *s, size_t len, struct pop_err *err)
{
        char q[48];
        if (len == 0 || len > ACCESS_PURPOSE_MAX)
                return pop_fail(err, POP_EINVAL, "client-purpose",
                                "purpose '%s' must be 1 to %d characters", quote(s, len, q),
                                ACCESS_PURPOSE_MAX);
        for (size_t i = 0; i < len; i++)
                if (!slug_char(s[i]))
                        return pop_fail(err, POP_EINVAL, "client-purpose",
                                        "purpose '%s' may hold only a-z, 0-9 and '-'",
                                        quote(s, len, q));
        return 0;
}

int access_id_check(const char *s, size_t len, struct pop_err *err)
{
        char q[48];
        if (len == 0 || len > ACCESS_ID_MAX)
                return pop_fail(err, POP_EINVAL, "client-id",
                                "client id '%s' must be 1 to %d characters", quote(s, len, q),
                                ACCESS_ID_MAX);
        for (size_t i = 0; i < len; i++)
                if (!slug_char(s[i]))
                        return pop_fail(err, POP_EINVAL, "client-id",
                                        "client id '%s' may hold only a-z, 0-9 and '-'",
                                        quote(s, len, q));
        if (s[0] == '-' || s[len - 1] == '-')
                return pop_fail(err, POP_EINVAL, "client-id",
                                "client id '%s' may not start or end with '-'", quote(s, len, q));
        return 0;
}

int access_id_from_name(const char *name, char out[ACCESS_ID_MAX + 1], struct pop_err *err)
{
        out[0] = '\0';
        utf8proc_uint8_t *folded = NULL;
        utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)name, 0, &folded,
                                          UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_DECOMPOSE |
                                              UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD);
        if (n < 0)
                return pop_fail(err, POP_EINVAL, "client-name", "the name is not valid UTF-8");
        size_t len = 0;
        bool dash = false;
        for (utf8proc_ssize_t i = 0; i < n && len < ACCESS_ID_MAX; i++) {
                unsigned char ch = folded[i];
                /* đ (U+0111) is a letter of its own that no decomposition maps to d. */
                if (ch == 0xc4 && i + 1 < n && folded[i + 1] == 0x91) {
                        ch = 'd';
                        i++;
                }
                if (slug_char((char)ch) && ch != '-') {
                        if (dash && len > 0 && len < ACCESS_ID_MAX - 1)
                                out[len++] = '-';
                        dash = false;
                        out[len++] = (char)ch;
                } else {
                        dash = true;
                }
        }
        free(folded);
        out[len] = '\0';
        if (len == 0)
                return pop_fail(err, POP_EINVAL, "client-id",
                                "no client id can be made from the name: give one with --id");
        return 0;
}

bool access_scope_has(const struct access_scope *s, int unit_code)
{
        if (s->all)
                return true;
        if (unit_code <= 0 || unit_code >= 128)
                return false;
        return (s->bits[unit_code / 64] >> (unit_code % 64)) & 1;
}

static void scope_set(struct access_scope *s, int code, bool on)
{
        uint64_t bit = (uint64_t)1 << (code % 64);
        if (on)
                s->bits[code / 64] |= bit;
        else
                s->bits[code / 64] &= ~bit;
}

static bool scope_empty(const struct access_scope *s)
{
        return !s->all && s->bits[0] == 0 && s->bits[1] == 0;
}

/* A 2025 unit code, with a message naming the unit that absorbed a legacy one. */
static int parse_unit(const char *s, size_t len, int *out, struct pop_err *err)
{
        char q[48];
        int code = 0;
        if (region_parse_province(s, len, &code, NULL) != 0)
                return pop_fail(err, POP_EINVAL, "client-province",
                                "province '%s' is not a two-digit code (or all)", quote(s, len, q));
        if (!region_unit(code)) {
                const struct region_legacy *l = region_legacy(code);
                const struct region_unit *u = region_current_unit(code);
                if (l && u)
                        return pop_fail(err, POP_EINVAL, "client-province",
                                        "province %02d (%s) is not a unit since 1 July 2025: it is "
                                        "part of %02d (%s)",
                                        code, l->name, u->code, u->name);
                return pop_fail(err, POP_EINVAL, "client-province",
                                "no province with the code '%s'", quote(s, len, q));
        }
        *out = code;
        return 0;
}

struct list_ctx {
        struct access_client *c;
        enum access_change how;
        struct access_scope scope; /* provinces: parsed first, applied after */
        bool saw_all;
};

static int add_purpose(void *ctx, const char *item, size_t len, struct pop_err *err)
{
        struct list_ctx *x = ctx;
        struct access_client *c = x->c;
        int rc = access_purpose_check(item, len, err);
        if (rc)
                return rc;
        int at = -1;
        for (int i = 0; i < c->n_purposes; i++)
                if (strlen(c->purposes[i]) == len && memcmp(c->purposes[i], item, len) == 0)
                        at = i;
        if (x->how == ACCESS_REVOKE) {
                if (at >= 0) {
                        memmove(c->purposes[at], c->purposes[at + 1],
                                (size_t)(c->n_purposes - at - 1) * sizeof c->purposes[0]);
                        c->n_purposes--;
                }
                return 0;
        }
        if (at >= 0)
                return 0;
        if (c->n_purposes == ACCESS_PURPOSES_MAX)
                return pop_fail(err, POP_EINVAL, "client-purpose",
                                "a client has at most %d purposes", ACCESS_PURPOSES_MAX);
        memcpy(c->purposes[c->n_purposes], item, len);
        c->purposes[c->n_purposes][len] = '\0';
        c->n_purposes++;
        return 0;
}

static int add_province(void *ctx, const char *item, size_t len, struct pop_err *err)
{
        struct list_ctx *x = ctx;
        if (len == 3 && memcmp(item, "all", 3) == 0) {
                x->saw_all = true;
                return 0;
        }
        int code = 0, rc = parse_unit(item, len, &code, err);
        if (rc)
                return rc;
        scope_set(&x->scope, code, true);
        return 0;
}

static int parse_count(const char *s, const char *what, long max, uint32_t *out,
                       struct pop_err *err)
{
        char *end;
        char q[48];
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end || v < 1 || v > max)
                return pop_fail(err, POP_EINVAL, "client-rate",
                                "%s '%s' must be a whole number 1 to %ld", what,
                                quote(s, strlen(s), q), max);
        *out = (uint32_t)v;
        return 0;
}

static void apply_set(uint64_t *into, uint64_t mask, uint64_t given, enum access_change how)
{
        if (how == ACCESS_SET)
                *into = (*into & ~mask) | given;
        else if (how == ACCESS_GRANT)
                *into |= given;
        else
                *into &= ~given;
}

static int change_grants(struct access_client *c, const struct access_client_args *a,
                         enum access_change how, struct pop_err *err)
{
        uint64_t set;
        int rc;
        if (a->fields) {
                if ((rc = access_grants_parse(a->fields, &set, err)))
                        return rc;
                uint64_t calls = set & ~ACCESS_FIELDS_ALL;
                if (calls) {
                        int g = __builtin_ctzll(calls);
                        return pop_fail(err, POP_EINVAL, "grant-not-field",
                                        "'%s' is not a field: give it with --grants",
                                        access_grant_info(g)->name);
                }
                apply_set(&c->grants, ACCESS_FIELDS_ALL, set, how);
        }
        if (a->grants) {
                if ((rc = access_grants_parse(a->grants, &set, err)))
                        return rc;
                uint64_t fields = set & ACCESS_FIELDS_ALL;
                if (fields) {
                        int g = __builtin_ctzll(fields);
                        return pop_fail(err, POP_EINVAL, "grant-is-field",
                                        "'%s' is a field: give it with --fields",
                                        access_grant_info(g)->name);
                }
                apply_set(&c->grants, ACCESS_GRANTS_ALL & ~ACCESS_FIELDS_ALL, set, how);
        }
        return 0;
}

static int change_provinces(struct access_client *c, const char *list, enum access_change how,
                            struct pop_err *err)
{
        struct list_ctx x = {.c = c, .how = how};
        int rc = access__each_item(list, "province", add_province, &x, err);
        if (rc)
                return rc;
        if (x.saw_all && (x.scope.bits[0] || x.scope.bits[1]))
                return pop_fail(err, POP_EINVAL, "client-province",
                                "give either 'all' or province codes, not both");
        if (how == ACCESS_SET) {
                c->scope = x.scope;
                c->scope.all = x.saw_all;
        } else if (how == ACCESS_GRANT) {
                if (x.saw_all) {
                        memset(&c->scope, 0, sizeof c->scope);
                        c->scope.all = true;
                } else if (!c->scope.all) {
                        c->scope.bits[0] |= x.scope.bits[0];
                        c->scope.bits[1] |= x.scope.bits[1];
                }
        } else if (x.saw_all) {
                memset(&c->scope, 0, sizeof c->scope);
        } else if (c->scope.all) {
                return pop_fail(err, POP_EINVAL, "client-province",
                                "the scope is every province: set a list with popid client set "
                                "--provinces");
        } else {
                c->scope.bits[0] &= ~x.scope.bits[0];
                c->scope.bits[1] &= ~x.scope.bits[1];
        }
        return 0;
}

int access_client_change(struct access_client *c, const struct access_client_args *a,
                         enum access_change how, struct pop_err *err)
{
        int rc;
        bool fresh = how == ACCESS_SET && c->id[0] == '\0';
        if (how != ACCESS_SET) {
                const char *fixed = a->id      ? "id"
                                    : a->name  ? "name"
                                    : a->kind  ? "kind"
                                    : a->rate  ? "rate"
                                    : a->burst ? "burst"
                                               : NULL;
                if (fixed)
                        return pop_fail(err, POP_EINVAL, "client-change",
                                        "--%s is set (popid client set), not granted or revoked",
                                        fixed);
        }
        if (a->id) {
                if (!fresh)
                        return pop_fail(err, POP_EINVAL, "client-id",
                                        "a client's id cannot change");
                if ((rc = access_id_check(a->id, strlen(a->id), err)))
                        return rc;
                snprintf(c->id, sizeof c->id, "%s", a->id);
        }
        if (a->name) {
                struct pop_err e = {0};
                if (text_normalize(a->name, strlen(a->name), c->name, sizeof c->name, &e) != 0)
                        return pop_fail(err, POP_EINVAL, "client-name", "bad client name: %s",
                                        e.msg);
        } else if (fresh) {
                return pop_fail(err, POP_EINVAL, "client-name", "a client needs --name");
        }
        if (fresh && !c->id[0] && (rc = access_id_from_name(c->name, c->id, err)))
                return rc;
        if (a->kind) {
                if ((rc = access_kind_parse(a->kind, &c->kind, err)))
                        return rc;
        } else if (fresh) {
                return pop_fail(err, POP_EINVAL, "client-kind",
                                "a client needs --kind (ministry, province, insurer, bank, telco, "
                                "portal)");
        }
        if (a->roles) {
                unsigned r;
                if ((rc = access_roles_parse(a->roles, &r, err)))
                        return rc;
                c->roles = how == ACCESS_SET     ? r
                           : how == ACCESS_GRANT ? c->roles | r
                                                 : c->roles & ~r;
        } else if (fresh) {
                return pop_fail(err, POP_EINVAL, "client-role",
                                "a client needs --roles (registrar, reader, verifier, admin)");
        }
        if ((rc = change_grants(c, a, how, err)))
                return rc;
        if (a->purposes) {
                struct list_ctx x = {.c = c, .how = how};
                int saved_n = c->n_purposes;
                if (how == ACCESS_SET)
                        c->n_purposes = 0;
                if ((rc = access__each_item(a->purposes, "purpose", add_purpose, &x, err))) {
                        if (how == ACCESS_SET)
                                c->n_purposes = saved_n;
                        return rc;
                }
        }
        if (a->provinces) {
                if ((rc = change_provinces(c, a->provinces, how, err)))
                        return rc;
        } else if (fresh && !(c->roles & ACCESS_ROLE_REGISTRAR)) {
                c->scope.all = true;
        }
        if (a->rate && (rc = parse_count(a->rate, "rate", ACCESS_RATE_MAX, &c->rate, err)))
                return rc;
        if (fresh && !a->rate)
                c->rate = ACCESS_RATE_DEFAULT;
        if (a->burst && (rc = parse_count(a->burst, "burst", ACCESS_BURST_MAX, &c->burst, err)))
                return rc;
        if (fresh && !a->burst)
                c->burst = c->rate * 2 > ACCESS_BURST_MAX ? ACCESS_BURST_MAX : c->rate * 2;
        return access_client_validate(c, err);
}

int access_client_validate(const struct access_client *c, struct pop_err *err)
{
        int rc = access_id_check(c->id, strnlen(c->id, sizeof c->id), err);
        if (rc)
                return rc;
        if (!c->name[0])
                return pop_fail(err, POP_EINVAL, "client-name", "client %s has no name", c->id);
        if ((int)c->kind < 0 || c->kind >= ACCESS_N_KINDS)
                return pop_fail(err, POP_EINVAL, "client-kind", "client %s has no valid kind",
                                c->id);
        if (!(c->roles & ACCESS_ROLES_ALL) || (c->roles & ~ACCESS_ROLES_ALL))
                return pop_fail(err, POP_EINVAL, "client-role",
                                "client %s needs at least one role (registrar, reader, verifier, "
                                "admin)",
                                c->id);
        if ((c->roles & ~ACCESS_ROLE_ADMIN) && c->n_purposes == 0)
                return pop_fail(err, POP_EINVAL, "client-purpose-required",
                                "client %s needs --purposes: the purposes it may declare "
                                "(kyc, tax, ...)",
                                c->id);
        if ((c->roles & ACCESS_ROLE_REGISTRAR) && scope_empty(&c->scope))
                return pop_fail(err, POP_EINVAL, "client-scope-required",
                                "a registrar needs --provinces: the 2025 unit codes it records "
                                "events for (or all)");
        if (c->rate < 1 || c->rate > ACCESS_RATE_MAX)
                return pop_fail(err, POP_EINVAL, "client-rate", "rate must be 1 to %d per second",
                                ACCESS_RATE_MAX);
        if (c->burst < 1 || c->burst > ACCESS_BURST_MAX)
                return pop_fail(err, POP_EINVAL, "client-rate", "burst must be 1 to %d",
                                ACCESS_BURST_MAX);
        if (c->grants & ~ACCESS_GRANTS_ALL)
                return pop_fail(err, POP_EINVAL, "grant-unknown", "unknown grant bits");
        return 0;
}

/* ---- JSON ---- */

/* RFC 3339 UTC, seconds. */
static json_t *time_json(int64_t ms)
{
        if (ms <= 0)
                return json_null();
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        char buf[32];
        if (!gmtime_r(&t, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                return json_null();
        return json_string(buf);
}

static json_t *roles_json(unsigned roles)
{
        json_t *a = json_array();
        for (int i = 0; a && i < ACCESS_N_ROLES; i++)
                if (roles & (1u << i))
                        json_array_append_new(a, json_string(role_names[i]));
        return a;
}

static json_t *purposes_json(const struct access_client *c)
{
        json_t *a = json_array();
        for (int i = 0; a && i < c->n_purposes; i++)
                json_array_append_new(a, json_string(c->purposes[i]));
        return a;
}

static json_t *scope_json(const struct access_scope *s)
{
        if (s->all)
                return json_string("all");
        json_t *a = json_array();
        for (int code = 1; a && code < 128; code++) {
                if (access_scope_has(s, code)) {
                        char b[4];
                        snprintf(b, sizeof b, "%02d", code);
                        json_array_append_new(a, json_string(b));
                }
        }
        return a;
}

json_t *access_client_json(const struct access_client *c)
{
        json_t *prev = json_null();
        if (c->prev.id[0])
                prev = json_pack("{s:s, s:o}", "id", c->prev.id, "valid_until",
                                 time_json(c->prev.expires_ms));
        return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:{s:i, s:i}, s:{s:s, s:o},"
                         " s:o, s:o}",
                         "id", c->id, "name", c->name, "kind", access_kind_name(c->kind), "status",
                         c->disabled ? "disabled" : "active", "roles", roles_json(c->roles),
                         "fields", access_grants_json(c->grants & ACCESS_FIELDS_ALL), "grants",
                         access_grants_json(c->grants & ~ACCESS_FIELDS_ALL), "purposes",
                         purposes_json(c), "provinces", scope_json(&c->scope), "rate", "per_second",
                         (int)c->rate, "burst", (int)c->burst, "secret", "id", c->secret.id,
                         "previous", prev, "created_at", time_json(c->created_ms), "updated_at",
                         time_json(c->updated_ms));
}

/* ---- the store's record ---- */

static int dump_into(json_t *j, char *out, size_t cap, const char *what, struct pop_err *err)
{
        if (!j)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        size_t n = json_dumpb(j, out, cap - 1, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(j);
        if (n == 0 || n >= cap)
                return pop_fail(err, POP_ETOOBIG, "client-too-big", "the client's %s do not fit",
                                what);
        out[n] = '\0';
        return 0;
}

int access__to_store(const struct access_client *c, struct store_client *out, struct pop_err *err)
{
        memset(out, 0, sizeof *out);
        snprintf(out->id, sizeof out->id, "%s", c->id);
        snprintf(out->name, sizeof out->name, "%s", c->name);
        snprintf(out->kind, sizeof out->kind, "%s", access_kind_name(c->kind));
        int rc;
        if ((rc = dump_into(roles_json(c->roles), out->roles, sizeof out->roles, "roles", err)) ||
            (rc = dump_into(access_grants_json(c->grants), out->grants, sizeof out->grants,
                            "grants", err)) ||
            (rc = dump_into(purposes_json(c), out->purposes, sizeof out->purposes, "purposes",
                            err)) ||
            (rc = dump_into(scope_json(&c->scope), out->provinces, sizeof out->provinces,
                            "provinces", err)))
                return rc;
        out->rate = c->rate;
        out->burst = c->burst;
        out->disabled = c->disabled;
        out->created_ms = c->created_ms;
        out->updated_ms = c->updated_ms;
        snprintf(out->secret_id, sizeof out->secret_id, "%s", c->secret.id);
        memcpy(out->secret_hash, c->secret.hash, sizeof out->secret_hash);
        if (c->prev.id[0]) {
                snprintf(out->prev_secret_id, sizeof out->prev_secret_id, "%s", c->prev.id);
                memcpy(out->prev_secret_hash, c->prev.hash, sizeof out->prev_secret_hash);
                out->prev_expires_ms = c->prev.expires_ms;
        }
        return 0;
}

static int corrupt(const struct store_client *s, const char *what, struct pop_err *err)
{
        return pop_fail(err, POP_ESTORE, "store-corrupt", "client '%s' has a corrupt %s", s->id,
                        what);
}

int access__from_store(const struct store_client *s, struct access_client *out, struct pop_err *err)
{
        struct access_client *c = out;
        memset(c, 0, sizeof *c);
        snprintf(c->id, sizeof c->id, "%s", s->id);
        snprintf(c->name, sizeof c->name, "%s", s->name);
        if (access_kind_parse(s->kind, &c->kind, NULL) != 0)
                return corrupt(s, "kind", err);
        json_error_t je;
        int rc = 0;
        json_t *roles = json_loads(s->roles, 0, &je);
        json_t *grants = json_loads(s->grants, 0, &je);
        json_t *purposes = json_loads(s->purposes, 0, &je);
        json_t *provinces = json_loads(s->provinces, JSON_DECODE_ANY, &je);
        size_t i;
        json_t *v;
        if (!json_is_array(roles)) {
                rc = corrupt(s, "role list", err);
                goto out;
        }
        json_array_foreach(roles, i, v)
        {
                unsigned r = 0;
                /* A role this version does not know gives nothing. */
                if (json_is_string(v) &&
                    add_role(&r, json_string_value(v), json_string_length(v), NULL) == 0)
                        c->roles |= r;
        }
        if (access_grants_from_json(grants, &c->grants, NULL) != 0) {
                rc = corrupt(s, "grant list", err);
                goto out;
        }
        if (!json_is_array(purposes) || json_array_size(purposes) > ACCESS_PURPOSES_MAX) {
                rc = corrupt(s, "purpose list", err);
                goto out;
        }
        json_array_foreach(purposes, i, v)
        {
                if (!json_is_string(v) ||
                    access_purpose_check(json_string_value(v), json_string_length(v), NULL) != 0) {
                        rc = corrupt(s, "purpose list", err);
                        goto out;
                }
                snprintf(c->purposes[c->n_purposes++], sizeof c->purposes[0], "%s",
                         json_string_value(v));
        }
        if (json_is_string(provinces) && strcmp(json_string_value(provinces), "all") == 0) {
                c->scope.all = true;
        } else if (json_is_array(provinces)) {
                json_array_foreach(provinces, i, v)
                {
                        int code = 0;
                        if (!json_is_string(v) ||
                            parse_unit(json_string_value(v), json_string_length(v), &code, NULL)) {
                                rc = corrupt(s, "province scope", err);
                                goto out;
                        }
                        scope_set(&c->scope, code, true);
                }
        } else {
                rc = corrupt(s, "province scope", err);
                goto out;
        }
        if (s->rate < 1 || s->rate > ACCESS_RATE_MAX || s->burst < 1 ||
            s->burst > ACCESS_BURST_MAX) {
                rc = corrupt(s, "rate limit", err);
                goto out;
        }
        c->rate = (uint32_t)s->rate;
        c->burst = (uint32_t)s->burst;
        c->disabled = s->disabled;
        c->created_ms = s->created_ms;
        c->updated_ms = s->updated_ms;
        snprintf(c->secret.id, sizeof c->secret.id, "%s", s->secret_id);
        memcpy(c->secret.hash, s->secret_hash, sizeof c->secret.hash);
        if (s->prev_secret_id[0]) {
                snprintf(c->prev.id, sizeof c->prev.id, "%s", s->prev_secret_id);
                memcpy(c->prev.hash, s->prev_secret_hash, sizeof c->prev.hash);
                c->prev.expires_ms = s->prev_expires_ms;
        }
out:
        json_decref(roles);
        json_decref(grants);
        json_decref(purposes);
        json_decref(provinces);
        return rc;
}

/* ---- the pepper ---- */

/* rule + "-" + suffix in buf: the rule ids of one key file's failures. */
static const char *key_rule(char *buf, size_t cap, const char *rule, const char *suffix)
{
        snprintf(buf, cap, "%s-%s", rule, suffix);
        return buf;
}

int access_keyfile_path(const char *uri, const char *suffix, const char *rule, const char *what,
                        char *buf, size_t cap, struct pop_err *err)
{
        char r[32];
        if (!uri || !*uri)
                return pop_fail(err, POP_EINVAL, "store-uri",
                                "no database given: use --db PATH or set POPID_DB");
        if (strncmp(uri, "fault:", 6) == 0)
                uri += 6;
        if (strncmp(uri, "sqlite:", 7) == 0)
                uri += 7;
        if (strstr(uri, "://"))
                return pop_fail(err, POP_EINVAL, key_rule(r, sizeof r, rule, "path"),
                                "no %s file can be derived from '%s'", what, uri);
        int n = snprintf(buf, cap, "%s%s", uri, suffix);
        if (n < 0 || (size_t)n >= cap)
                return pop_fail(err, POP_ETOOBIG, key_rule(r, sizeof r, rule, "path"),
                                "the database path is too long");
        return 0;
}

static int keyfile_create(const char *path, const char *rule, const char *what,
                          uint8_t out[ACCESS_KEYFILE_LEN], struct pop_err *err)
{
        char hex[2 * ACCESS_KEYFILE_LEN + 2], r[32];
        randombytes_buf(out, ACCESS_KEYFILE_LEN);
        sodium_bin2hex(hex, sizeof hex - 1, out, ACCESS_KEYFILE_LEN);
        size_t n = strlen(hex);
        hex[n++] = '\n';
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        int rc = 0;
        if (fd < 0 || write(fd, hex, n) != (ssize_t)n || fsync(fd) != 0) {
                rc = pop_fail(err, POP_EIO, key_rule(r, sizeof r, rule, "write"),
                              "cannot write the %s %s: %s", what, path, strerror(errno));
                if (fd >= 0)
                        unlink(path);
        }
        if (fd >= 0)
                close(fd);
        sodium_memzero(hex, sizeof hex);
        if (rc)
                sodium_memzero(out, ACCESS_KEYFILE_LEN);
        return rc;
}

int access_keyfile_load(const char *path, bool create, const char *rule, const char *what,
                        uint8_t out[ACCESS_KEYFILE_LEN], struct pop_err *err)
{
        char r[32];
        if (sodium_init() < 0)
                return pop_fail(err, POP_EIO, "sodium", "libsodium cannot start");
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create)
                return keyfile_create(path, rule, what, out, err);
        if (fd < 0)
                return pop_fail(err, POP_EIO, key_rule(r, sizeof r, rule, "missing"),
                                "cannot open the %s %s: %s", what, path, strerror(errno));
        struct stat sb;
        char buf[2 * ACCESS_KEYFILE_LEN + 8];
        ssize_t n = -1;
        int rc = 0;
        if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
                rc = pop_fail(err, POP_EIO, key_rule(r, sizeof r, rule, "invalid"),
                              "%s is not a regular file", path);
        } else if (sb.st_mode & 077) {
                rc = pop_fail(err, POP_EIO, key_rule(r, sizeof r, rule, "mode"),
                              "the %s %s is readable by others (mode %03o): chmod 600 %s", what,
                              path, (unsigned)(sb.st_mode & 0777), path);
        } else {
                n = read(fd, buf, sizeof buf - 1);
                if (n >= 0)
                        buf[n] = '\0'; /* strspn below reads up to the NUL */
        }
        close(fd);
        if (rc)
                return rc;
        size_t bin_len = 0;
        const char *end = NULL;
        if (n < 2 * ACCESS_KEYFILE_LEN ||
            sodium_hex2bin(out, ACCESS_KEYFILE_LEN, buf, (size_t)n, NULL, &bin_len, &end) != 0 ||
            bin_len != ACCESS_KEYFILE_LEN || strspn(end, "\r\n") != (size_t)(buf + n - end))
                rc = pop_fail(err, POP_EIO, key_rule(r, sizeof r, rule, "invalid"),
                              "the %s %s is not 64 hex digits", what, path);
        sodium_memzero(buf, sizeof buf);
        return rc;
}

int access_pepper_path(const char *uri, char *buf, size_t cap, struct pop_err *err)
{
        return access_keyfile_path(uri, ".pepper", "pepper", "pepper", buf, cap, err);
}

/* Without it, clients' tokens cannot be checked: losing it invalidates every credential. */
int access_pepper_load(const char *path, bool create, uint8_t out[ACCESS_PEPPER_LEN],
                       struct pop_err *err)
{
        _Static_assert(ACCESS_PEPPER_LEN == ACCESS_KEYFILE_LEN, "the pepper is a key file");
        return access_keyfile_load(path, create, "pepper", "credential pepper", out, err);
}

/* ---- clients in the store ---- */

int access__version(struct store *st, uint64_t *out, struct pop_err *err)
{
        char buf[24];
        size_t len = 0;
        *out = 0;
        int rc = store_meta_get(st, ACCESS_META_VERSION, buf, sizeof buf - 1, &len, err);
        if (rc == POP_ENOTFOUND) {
                pop_err_clear(err);
                return 0;
        }
        if (rc)
                return rc;
        buf[len] = '\0';
        char *end;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno || end == buf || *end)
                return pop_fail(err, POP_ESTORE, "store-corrupt", "corrupt %s",
                                ACCESS_META_VERSION);
        *out = v;
        return 0;
}

/* Advances the client table's version; inside the caller's transaction. */
static int bump_version(struct store *st, struct pop_err *err)
{
        uint64_t v;
        int rc = access__version(st, &v, err);
        if (rc)
                return rc;
        char buf[24];
        int n = snprintf(buf, sizeof buf, "%" PRIu64, v + 1);
        return store_meta_set(st, ACCESS_META_VERSION, buf, (size_t)n, err);
}

/* A new secret for client id: the token and its stored form. */
static void new_secret(const uint8_t pepper[ACCESS_PEPPER_LEN], const char *id,
                       char token[ACCESS_TOKEN_MAX + 1], struct access_secret *out)
{
        uint8_t raw[ACCESS_SECRET_BYTES];
        char b64[ACCESS_SECRET_B64 + 1];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(b64, sizeof b64, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        int n = snprintf(token, ACCESS_TOKEN_MAX + 1, ACCESS_TOKEN_PREFIX "%s_%s", id, b64);
        memset(out, 0, sizeof *out);
        access_token_hash(pepper, token, (size_t)n, out->hash, out->id);
        sodium_memzero(raw, sizeof raw);
        sodium_memzero(b64, sizeof b64);
}

/* Inserts c, advances the version and commits. */
static int insert_client(struct store *st, const struct access_client *c, struct pop_err *err)
{
        struct store_client rec;
        int rc = access__to_store(c, &rec, err);
        if (rc)
                return rc;
        if ((rc = store_begin(st, err)))
                return rc;
        if ((rc = store_client_insert(st, &rec, err)) == 0 && (rc = bump_version(st, err)) == 0)
                rc = store_commit(st, err);
        if (rc)
                store_rollback(st);
        return rc;
}

int access_client_create(struct store *st, const uint8_t pepper[ACCESS_PEPPER_LEN],
                         struct access_client *c, int64_t now_ms, char token[ACCESS_TOKEN_MAX + 1],
                         struct pop_err *err)
{
        token[0] = '\0';
        int rc = access_client_validate(c, err);
        if (rc)
                return rc;
        if (sodium_init() < 0)
                return pop_fail(err, POP_EIO, "sodium", "libsodium cannot start");
        new_secret(pepper, c->id, token, &c->secret);
        memset(&c->prev, 0, sizeof c->prev);
        c->created_ms = c->updated_ms = now_ms;
        if ((rc = insert_client(st, c, err)))
                sodium_memzero(token, ACCESS_TOKEN_MAX + 1);
        return rc;
}

int access_client_get(struct store *st, const char *id, struct access_client *out,
                      struct pop_err *err)
{
        struct store_client rec;
        int rc = store_client_get(st, id, &rec, err);
        return rc ? rc : access__from_store(&rec, out, err);
}

int access_client_by_secret_id(struct store *st, const char *secret_id, struct access_client *out,
                               struct pop_err *err)
{
        struct store_client rec;
        int rc = store_client_by_secret_id(st, secret_id, &rec, err);
        return rc ? rc : access__from_store(&rec, out, err);
}

struct list_fwd {
        access_client_fn *fn;
        void *ctx;
        struct pop_err *err;
};

static int list_one(void *ctx, const struct store_client *rec)
{
        struct list_fwd *f = ctx;
        struct access_client c;
        int rc = access__from_store(rec, &c, f->err);
        return rc ? rc : f->fn(f->ctx, &c);
}

int access_client_list(struct store *st, access_client_fn *fn, void *ctx, struct pop_err *err)
{
        struct list_fwd f = {fn, ctx, err};
        return store_client_list(st, list_one, &f, err);
}

int access_client_modify(struct store *st, const char *id, access_modify_fn *fn, void *ctx,
                         int64_t now_ms, struct access_client *out, struct pop_err *err)
{
        struct store_client rec;
        int rc = store_begin(st, err);
        if (rc)
                return rc;
        if ((rc = access_client_get(st, id, out, err)) || (rc = fn(ctx, out, err)) ||
            (rc = access_client_validate(out, err)))
                goto fail;
        out->updated_ms = now_ms;
        if ((rc = access__to_store(out, &rec, err)) || (rc = store_client_update(st, &rec, err)) ||
            (rc = bump_version(st, err)) || (rc = store_commit(st, err)))
                goto fail;
        return 0;
fail:
        store_rollback(st);
        return rc;
}

struct rotate_ctx {
        const uint8_t *pepper;
        int64_t grace_ms, now_ms;
        char *token;
};

static int rotate_one(void *ctx, struct access_client *c, struct pop_err *err)
{
        (void)err;
        struct rotate_ctx *r = ctx;
        if (r->grace_ms > 0) {
                c->prev = c->secret;
                c->prev.expires_ms = r->now_ms + r->grace_ms;
        } else {
                memset(&c->prev, 0, sizeof c->prev);
        }
        new_secret(r->pepper, c->id, r->token, &c->secret);
        return 0;
}

int access_client_rotate(struct store *st, const uint8_t pepper[ACCESS_PEPPER_LEN], const char *id,
                         int64_t grace_ms, int64_t now_ms, struct access_client *out,
                         char token[ACCESS_TOKEN_MAX + 1], struct pop_err *err)
{
        token[0] = '\0';
        if (grace_ms < 0 || grace_ms > (int64_t)ACCESS_GRACE_MAX_S * 1000)
                return pop_fail(err, POP_EINVAL, "client-grace",
                                "the grace period must be 0 to %d seconds", ACCESS_GRACE_MAX_S);
        if (sodium_init() < 0)
                return pop_fail(err, POP_EIO, "sodium", "libsodium cannot start");
        struct rotate_ctx r = {pepper, grace_ms, now_ms, token};
        int rc = access_client_modify(st, id, rotate_one, &r, now_ms, out, err);
        if (rc)
                sodium_memzero(token, ACCESS_TOKEN_MAX + 1);
        return rc;
}
