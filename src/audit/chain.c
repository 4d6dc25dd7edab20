/*
 * The audit log's cryptography and canonical forms: what an entry may hold, the bytes that are
 * hashed into the chain, and the message a checkpoint signs. docs/AUDIT.md is the specification;
 * a change here is a change of format (and of AUDIT__ENTRY_VERSION or the checkpoint label).
 */
#include "audit/audit_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t audit__now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- texts ---- */

/* Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), no control
 * characters: what JSON carries unescaped and what a person reading the log can see. */
static bool utf8_text_ok(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s, *end = p + len;
        while (p < end) {
                unsigned c = *p;
                if (c < 0x80) {
                        if (c < 0x20 || c == 0x7f)
                                return false;
                        p++;
                        continue;
                }
                int n;
                unsigned cp, min;
                if ((c & 0xe0) == 0xc0) {
                        n = 1, cp = c & 0x1f, min = 0x80;
                } else if ((c & 0xf0) == 0xe0) {
                        n = 2, cp = c & 0x0f, min = 0x800;
                } else if ((c & 0xf8) == 0xf0) {
                        n = 3, cp = c & 0x07, min = 0x10000;
                } else {
                        return false;
                }
                if (end - p <= n)
                        return false;
                for (int i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
                    (cp >= 0x80 && cp < 0xa0))
                        return false;
                p += n + 1;
        }
        return true;
}

/* A name: [a-z0-9_.-], or with upper case too when `upper`. */
static bool name_ok(const char *s, size_t len, size_t max, bool upper)
{
        if (len == 0 || len > max)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                          c == '.' || c == '-' || (upper && c >= 'A' && c <= 'Z');
                if (!ok)
                        return false;
        }
        return true;
}

bool audit__text_ok(enum audit__text kind, const char *s, size_t len)
{
        if (memchr(s, '\0', len))
                return false;
        switch (kind) {
        case AUDIT__T_ACTOR:
                return len >= 1 && len <= AUDIT_ACTOR_MAX && utf8_text_ok(s, len);
        case AUDIT__T_ACTION:
                return name_ok(s, len, AUDIT_ACTION_MAX, false);
        case AUDIT__T_FIELD:
                return name_ok(s, len, AUDIT_FIELD_MAX, true);
        case AUDIT__T_PURPOSE:
                return len <= AUDIT_PURPOSE_MAX && utf8_text_ok(s, len);
        case AUDIT__T_OUTCOME:
                return (len == 2 && !memcmp(s, "ok", 2)) || (len == 6 && !memcmp(s, "denied", 6)) ||
                       (len == 9 && !memcmp(s, "not-found", 9)) ||
                       (len == 5 && !memcmp(s, "error", 5));
        case AUDIT__T_RULE:
                return len == 0 || name_ok(s, len, AUDIT_RULE_MAX, false);
        case AUDIT__T_REQID:
                if (len > AUDIT_REQID_MAX)
                        return false;
                for (size_t i = 0; i < len; i++)
                        if (s[i] < 0x21 || s[i] > 0x7e)
                                return false;
                return true;
        }
        return false;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits a comma-separated list, checks each name, sorts, drops duplicates and joins. */
int audit__canon_fields(const char *in, char out[AUDIT_FIELDS_MAX + 1], struct pop_err *err)
{
        char buf[AUDIT_FIELDS_MAX + 1];
        char *names[AUDIT_FIELDS_MAX / 2 + 1];
        size_t len = strlen(in), n = 0;
        out[0] = '\0';
        if (len > AUDIT_FIELDS_MAX)
                return pop_fail(err, POP_EINVAL, "audit-fields", "the field list is over %d bytes",
                                AUDIT_FIELDS_MAX);
        memcpy(buf, in, len + 1);
        for (char *p = buf; *p;) {
                char *comma = strchr(p, ',');
                size_t nlen = comma ? (size_t)(comma - p) : strlen(p);
                if (!audit__text_ok(AUDIT__T_FIELD, p, nlen))
                        return pop_fail(err, POP_EINVAL, "audit-fields",
                                        "bad field name '%.*s' in the audit entry", (int)nlen, p);
                names[n++] = p;
                if (!comma)
                        break;
                *comma = '\0';
                p = comma + 1;
                if (!*p)
                        return pop_fail(err, POP_EINVAL, "audit-fields",
                                        "empty field name in the audit entry");
        }
        qsort(names, n, sizeof names[0], cmp_str);
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                if (i && !strcmp(names[i], names[i - 1]))
                        continue;
                size_t nl = strlen(names[i]);
                if (o)
                        out[o++] = ',';
                memcpy(out + o, names[i], nl);
                o += nl;
        }
        out[o] = '\0';
        return 0;
}

int audit__check_text(enum audit__text kind, const char *what, const char *in, size_t len,
                      size_t cap, struct pop_err *err)
{
        if (len >= cap || !audit__text_ok(kind, in, len))
                return pop_fail(err, POP_EINVAL, "audit-entry",
                                "the audit entry's %s is missing, too long or malformed", what);
        return 0;
}

static int copy_text(enum audit__text kind, const char *what, const char *in, char *out, size_t cap,
                     struct pop_err *err)
{
        if (!in)
                in = "";
        size_t len = strlen(in);
        int rc = audit__check_text(kind, what, in, len, cap, err);
        if (rc == 0)
                memcpy(out, in, len + 1);
        return rc;
}

int audit__check_scalars(const struct audit_entry *e, struct pop_err *err)
{
        /* A personal identification number has 12 digits (Decree 137/2015/ND-CP art. 13). */
        if (e->subject < 0 || e->subject > 999999999999LL)
                return pop_fail(err, POP_EINVAL, "audit-entry",
                                "the audit entry's subject is not a personal ID");
        if (e->time_ms < 0)
                return pop_fail(err, POP_EINVAL, "audit-entry",
                                "the audit entry's time is negative");
        return 0;
}

int audit__canonicalize(const struct audit_entry *e, struct audit__canon *c, struct pop_err *err)
{
        int rc;
        if ((rc = copy_text(AUDIT__T_ACTOR, "actor", e->actor, c->actor, sizeof c->actor, err)) ||
            (rc = copy_text(AUDIT__T_ACTION, "action", e->action, c->action, sizeof c->action,
                            err)) ||
            (rc = copy_text(AUDIT__T_PURPOSE, "purpose", e->purpose, c->purpose, sizeof c->purpose,
                            err)) ||
            (rc = copy_text(AUDIT__T_OUTCOME, "outcome", e->outcome, c->outcome, sizeof c->outcome,
                            err)) ||
            (rc = copy_text(AUDIT__T_RULE, "rule", e->rule, c->rule, sizeof c->rule, err)) ||
            (rc = copy_text(AUDIT__T_REQID, "request id", e->request_id, c->request_id,
                            sizeof c->request_id, err)) ||
            (rc = audit__canon_fields(e->fields ? e->fields : "", c->fields, err)) ||
            (rc = audit__check_scalars(e, err)))
                return rc;
        c->subject = e->subject;
        c->time_ms = e->time_ms ? e->time_ms : audit__now_ms();
        return 0;
}

/* ---- the chain ---- */

static void put_u64(uint8_t *p, uint64_t v)
{
        for (int i = 7; i >= 0; i--, v >>= 8)
                p[i] = (uint8_t)v;
}

static void hash_text(crypto_generichash_state *h, const char *s)
{
        size_t len = s ? strlen(s) : 0;
        uint8_t n[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                        (uint8_t)len};
        crypto_generichash_update(h, n, sizeof n);
        if (len)
                crypto_generichash_update(h, (const uint8_t *)s, len);
}

/* Appends u32be len || s to buf at *at. */
static void put_text(uint8_t *buf, size_t *at, const char *s, size_t len)
{
        uint8_t *p = buf + *at;
        p[0] = (uint8_t)(len >> 24);
        p[1] = (uint8_t)(len >> 16);
        p[2] = (uint8_t)(len >> 8);
        p[3] = (uint8_t)len;
        if (len)
                memcpy(p + 4, s, len);
        *at += 4 + len;
}

/* The canonical bytes of an entry under AUDIT__CHAIN_BUF fit in a buffer hashed in one call
 * (one BLAKE2b pass instead of 16 small updates: the writer hashes every entry); a longer one
 * (only a stored entry being verified can be) is hashed piece by piece. Same bytes either way. */
#define AUDIT__CHAIN_BUF 4096

void audit__chain(const uint8_t prev[AUDIT_HASH_BYTES], const struct store_audit_entry *e,
                  uint8_t out[AUDIT_HASH_BYTES])
{
        uint8_t head[1 + 3 * 8];
        head[0] = AUDIT__ENTRY_VERSION;
        put_u64(head + 1, (uint64_t)e->seq);
        put_u64(head + 9, (uint64_t)e->time_ms);
        put_u64(head + 17, (uint64_t)e->subject);
        const char *t[7] = {e->actor,   e->action, e->fields,    e->purpose,
                            e->outcome, e->rule,   e->request_id};
        size_t len[7], total = AUDIT_HASH_BYTES + sizeof head;
        for (int i = 0; i < 7; i++) {
                len[i] = t[i] ? strlen(t[i]) : 0;
                total += 4 + len[i];
        }
        if (total <= AUDIT__CHAIN_BUF) {
                uint8_t buf[AUDIT__CHAIN_BUF];
                size_t at = AUDIT_HASH_BYTES + sizeof head;
                memcpy(buf, prev, AUDIT_HASH_BYTES);
                memcpy(buf + AUDIT_HASH_BYTES, head, sizeof head);
                for (int i = 0; i < 7; i++)
                        put_text(buf, &at, t[i], len[i]);
                crypto_generichash(out, AUDIT_HASH_BYTES, buf, at, NULL, 0);
                return;
        }
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, AUDIT_HASH_BYTES);
        crypto_generichash_update(&h, prev, AUDIT_HASH_BYTES);
        crypto_generichash_update(&h, head, sizeof head);
        for (int i = 0; i < 7; i++)
                hash_text(&h, t[i]);
        crypto_generichash_final(&h, out, AUDIT_HASH_BYTES);
}

/* ---- checkpoints ---- */

void audit__checkpoint_msg(const struct store_audit_checkpoint *c, uint8_t msg[AUDIT__CP_MSG_LEN])
{
        size_t l = sizeof AUDIT_CHECKPOINT_LABEL - 1;
        memcpy(msg, AUDIT_CHECKPOINT_LABEL, l);
        put_u64(msg + l, (uint64_t)c->seq);
        memcpy(msg + l + 8, c->hash, AUDIT_HASH_BYTES);
        put_u64(msg + l + 8 + AUDIT_HASH_BYTES, (uint64_t)c->time_ms);
}

void audit__checkpoint_sign(struct store_audit_checkpoint *c, const uint8_t sk[AUDIT__SK_BYTES])
{
        uint8_t msg[AUDIT__CP_MSG_LEN];
        audit__checkpoint_msg(c, msg);
        crypto_sign_detached(c->sig, NULL, msg, sizeof msg, sk);
}

bool audit__checkpoint_ok(const struct store_audit_checkpoint *c, const uint8_t pk[AUDIT_PK_BYTES])
{
        if (c->malformed)
                return false;
        uint8_t msg[AUDIT__CP_MSG_LEN];
        audit__checkpoint_msg(c, msg);
        return crypto_sign_verify_detached(c->sig, msg, sizeof msg, pk) == 0;
}

/* ---- text forms of keys, signatures and hashes ---- */

void audit__b64(const uint8_t *bin, size_t len, char *text, size_t cap)
{
        sodium_bin2base64(text, cap, bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool audit__unb64(const char *text, size_t text_len, uint8_t *bin, size_t len)
{
        size_t got = 0;
        const char *end = NULL;
        if (sodium_base642bin(bin, len, text, text_len, NULL, &got, &end,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
                return false;
        return got == len && end == text + text_len;
}

void audit__hex(const uint8_t hash[AUDIT_HASH_BYTES], char text[2 * AUDIT_HASH_BYTES + 1])
{
        sodium_bin2hex(text, 2 * AUDIT_HASH_BYTES + 1, hash, AUDIT_HASH_BYTES);
}

bool audit__unhex(const char *text, size_t text_len, uint8_t hash[AUDIT_HASH_BYTES])
{
        if (text_len != 2 * AUDIT_HASH_BYTES)
                return false;
        /* Lower case only: one text per hash. */
        for (size_t i = 0; i < text_len; i++)
                if (!((text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f')))
                        return false;
        size_t got = 0;
        return sodium_hex2bin(hash, AUDIT_HASH_BYTES, text, text_len, NULL, &got, NULL) == 0 &&
               got == AUDIT_HASH_BYTES;
}
