/*
 * Reading the audit log: verification of the stored chain and checkpoints (audit_verify), the
 * export a third party verifies with only the public key (audit_export, and the streaming
 * verifier of such a file, audit_xv_*), and a person's access log (audit_access_log).
 *
 * Both verifiers walk the entries in seq order keeping only the running chain hash, and meet
 * each checkpoint at the entry it seals, so memory stays constant whatever the log's length.
 * They stop at the first bad entry, which is what they report.
 */
#include "audit/audit_int.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT_LINE_MAX (16 * 1024)
#define ACCESS_LOG_MAX  500

static void set_bad(struct audit_verify_result *res, int64_t seq, const char *rule, const char *fmt,
                    ...) POP_PRINTF(4, 5);

static void set_bad(struct audit_verify_result *res, int64_t seq, const char *rule, const char *fmt,
                    ...)
{
        if (res->bad_seq)
                return;
        res->bad_seq = seq;
        snprintf(res->rule, sizeof res->rule, "%s", rule);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(res->reason, sizeof res->reason, fmt, ap);
        va_end(ap);
}

/*
 * The checks both verifiers share, on one checkpoint met at the entry it seals (chain = the
 * recomputed hash at c->seq). False when it fails (res says why).
 */
static bool check_checkpoint(struct audit_verify_result *res, const uint8_t pk[AUDIT_PK_BYTES],
                             const struct store_audit_checkpoint *c,
                             const uint8_t chain[AUDIT_HASH_BYTES])
{
        if (!audit__checkpoint_ok(c, pk)) {
                set_bad(res, c->seq, "audit-checkpoint-signature",
                        "the checkpoint at seq %" PRId64 " has no valid signature under the audit "
                        "key (forged or altered)",
                        c->seq);
                return false;
        }
        if (sodium_memcmp(c->hash, chain, AUDIT_HASH_BYTES) != 0) {
                /* Every entry matched its stored hash, yet the signed head differs: the entries
                 * after the last good checkpoint were rewritten with fresh hashes. */
                set_bad(res, res->last_checkpoint_seq + 1, "audit-checkpoint-mismatch",
                        "the checkpoint at seq %" PRId64
                        " seals a different chain: entries %" PRId64 " to %" PRId64
                        " were rewritten",
                        c->seq, res->last_checkpoint_seq + 1, c->seq);
                return false;
        }
        res->checkpoints++;
        res->last_checkpoint_seq = c->seq;
        return true;
}

/* Checks an entry against the running chain; false when bad. Advances the chain when good. */
static bool check_entry(struct audit_verify_result *res, int64_t *expect,
                        uint8_t chain[AUDIT_HASH_BYTES], const struct store_audit_entry *e)
{
        if (e->malformed) {
                set_bad(res, *expect, "audit-entry-malformed",
                        "the entry at seq %" PRId64 " is malformed (a column was altered)",
                        *expect);
                return false;
        }
        if (e->seq != *expect) {
                if (e->seq > *expect)
                        set_bad(res, *expect, "audit-entry-missing",
                                "entry %" PRId64 " is missing (the next is %" PRId64 ")", *expect,
                                e->seq);
                else
                        set_bad(res, *expect, "audit-entry-order",
                                "entry %" PRId64 " is out of order (found seq %" PRId64 ")",
                                *expect, e->seq);
                return false;
        }
        uint8_t h[AUDIT_HASH_BYTES];
        audit__chain(chain, e, h);
        if (sodium_memcmp(h, e->hash, AUDIT_HASH_BYTES) != 0) {
                set_bad(res, e->seq, "audit-entry-hash",
                        "entry %" PRId64 " does not match the chain (altered, moved or replaced)",
                        e->seq);
                return false;
        }
        memcpy(chain, h, AUDIT_HASH_BYTES);
        res->entries++;
        res->last_seq = e->seq;
        (*expect)++;
        return true;
}

/* ---- the stored log ---- */

struct dbv {
        struct store *st;
        uint8_t pk[AUDIT_PK_BYTES];
        struct audit_verify_result *res;
        int64_t expect;
        uint8_t chain[AUDIT_HASH_BYTES];
        bool have_cp; /* cp holds the next checkpoint not yet met */
        struct store_audit_checkpoint cp;
        int rc; /* a store failure inside the walk */
        struct pop_err *err;
};

static int copy_cp(void *ctx, const struct store_audit_checkpoint *c)
{
        struct dbv *v = ctx;
        v->cp = *c;
        v->have_cp = true;
        return 1;
}

/* Fetches the first checkpoint with seq >= from into v->cp. */
static int next_cp(struct dbv *v, int64_t from)
{
        v->have_cp = false;
        int rc = store_checkpoint_iter(v->st, from, copy_cp, v, v->err);
        return rc < 0 ? rc : 0;
}

static int verify_one(void *ctx, const struct store_audit_entry *e)
{
        struct dbv *v = ctx;
        if (!check_entry(v->res, &v->expect, v->chain, e))
                return 1;
        while (v->have_cp && v->cp.seq <= e->seq) {
                if (v->cp.seq < e->seq) {
                        /* Only possible for a checkpoint below seq 1 or between rows. */
                        set_bad(v->res, v->cp.seq, "audit-checkpoint-orphan",
                                "a checkpoint at seq %" PRId64 " seals no entry", v->cp.seq);
                        return 1;
                }
                if (!check_checkpoint(v->res, v->pk, &v->cp, v->chain))
                        return 1;
                if ((v->rc = next_cp(v, v->cp.seq + 1)))
                        return 2;
        }
        return 0;
}

int audit_verify(struct store *st, const uint8_t *pk, struct audit_verify_result *res,
                 struct pop_err *err)
{
        memset(res, 0, sizeof *res);
        struct dbv v = {.st = st, .res = res, .expect = 1, .err = err};
        int rc;
        if (sodium_init() < 0)
                return pop_fail(err, POP_EIO, "sodium", "libsodium failed to initialize");
        if ((rc = store_read_begin(st, err)))
                return rc;
        int64_t head;
        uint8_t h[AUDIT_HASH_BYTES];
        if ((rc = store_audit_last(st, &head, h, err)))
                goto out;
        rc = audit_public_key(st, v.pk, NULL, err);
        if (rc == POP_ENOTFOUND && head == 0) {
                rc = 0; /* no key and no entries: an empty log holds */
                goto out;
        }
        if (rc == 0 && pk && sodium_memcmp(pk, v.pk, AUDIT_PK_BYTES) != 0) {
                /* Someone may have put their own key in the database, and re-signed. */
                set_bad(res, 1, "audit-key-mismatch",
                        "the registry records another audit key than the one given");
                rc = pop_fail(err, POP_EVERIFY, res->rule, "%s", res->reason);
                goto out;
        }
        if (rc == POP_ENOTFOUND && head > 0 && pk) {
                memcpy(v.pk, pk, AUDIT_PK_BYTES);
                rc = 0;
        }
        if (rc || (rc = next_cp(&v, 1)))
                goto out;
        rc = store_audit_iter(st, 1, verify_one, &v, err);
        if (rc == 2)
                rc = v.rc;
        else if (rc > 0)
                rc = 0;
        if (rc)
                goto out;
        if (!res->bad_seq && v.have_cp)
                set_bad(res, res->last_seq + 1, "audit-truncated",
                        "entries from seq %" PRId64
                        " on are missing: a checkpoint seals seq %" PRId64,
                        res->last_seq + 1, v.cp.seq);
        /* The subject index is derived, outside the chain, yet it is what a citizen's access
         * log reads: a row deleted or a reach claimed too far would hide entries from it, a row
         * added would show another person's entry (docs/AUDIT.md "The access log"). */
        struct store_audit_index_problem ip;
        if (!res->bad_seq && (rc = store_audit_index_check(st, &ip, err)))
                goto out;
        if (!res->bad_seq && ip.seq) {
                if (!strcmp(ip.kind, "upto"))
                        set_bad(res, ip.seq, "audit-index-upto",
                                "the subject index claims to reach past the last entry: entries "
                                "from seq %" PRId64 " on would be missing from access logs",
                                ip.seq);
                else if (!strcmp(ip.kind, "missing"))
                        set_bad(res, ip.seq, "audit-index-missing",
                                "entry %" PRId64
                                " is missing from the subject index: its subject's "
                                "access log would not show it",
                                ip.seq);
                else
                        set_bad(res, ip.seq, "audit-index-extra",
                                "the subject index has a row for seq %" PRId64
                                " that matches no entry of that subject (or lies in the wrong "
                                "bucket)",
                                ip.seq);
        }
        memcpy(res->head, v.chain, sizeof res->head);
        if (res->bad_seq)
                rc = pop_fail(err, POP_EVERIFY, res->rule, "%s", res->reason);
out:
        store_read_end(st);
        return rc;
}

json_t *audit_verify_json(const struct audit_verify_result *res, bool valid)
{
        char head[2 * AUDIT_HASH_BYTES + 1];
        audit__hex(res->head, head);
        json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}", "valid", valid, "entries",
                              (json_int_t)res->entries, "checkpoints", (json_int_t)res->checkpoints,
                              "last_seq", (json_int_t)res->last_seq, "last_checkpoint_seq",
                              (json_int_t)res->last_checkpoint_seq, "unsealed",
                              (json_int_t)(res->last_seq - res->last_checkpoint_seq));
        if (!j)
                return NULL;
        if (valid) {
                json_object_set_new(j, "head", json_string(head));
        } else if (res->bad_seq) {
                json_object_set_new(j, "bad_seq", json_integer(res->bad_seq));
                json_object_set_new(j, "reason", json_string(res->reason));
                json_object_set_new(j, "rule", json_string(res->rule));
        }
        return j;
}

/* ---- export ---- */

static json_t *subject_json(int64_t pid)
{
        if (!pid)
                return json_null();
        char b[24];
        snprintf(b, sizeof b, "%012" PRId64, pid);
        return json_string(b);
}

/* "a,b" as ["a", "b"]. */
static json_t *fields_json(const char *fields)
{
        json_t *a = json_array();
        for (const char *p = fields; p && *p;) {
                const char *c = strchr(p, ',');
                size_t n = c ? (size_t)(c - p) : strlen(p);
                json_array_append_new(a, json_stringn(p, n));
                if (!c)
                        break;
                p = c + 1;
        }
        return a;
}

static int write_line(FILE *f, json_t *j, struct pop_err *err)
{
        if (!j)
                return pop_fail(err, POP_ESTORE, "audit-export",
                                "an audit row cannot be exported (run popid audit verify)");
        int rc = json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (rc != 0 || fputc('\n', f) == EOF)
                return pop_fail(err, POP_EIO, "audit-export-write", "cannot write the export");
        return 0;
}

static json_t *entry_json(const struct store_audit_entry *e)
{
        char hash[2 * AUDIT_HASH_BYTES + 1];
        audit__hex(e->hash, hash);
        json_t *j = json_object();
        json_t *actor = json_string(e->actor), *action = json_string(e->action),
               *purpose = json_string(e->purpose), *outcome = json_string(e->outcome),
               *rule = json_string(e->rule), *reqid = json_string(e->request_id);
        bool ok = actor && action && purpose && outcome && rule && reqid && !e->malformed;
        json_object_set_new(j, "type", json_string("entry"));
        json_object_set_new(j, "seq", json_integer(e->seq));
        json_object_set_new(j, "time", json_integer(e->time_ms));
        json_object_set_new(j, "actor", actor ? actor : json_null());
        json_object_set_new(j, "subject", subject_json(e->subject));
        json_object_set_new(j, "action", action ? action : json_null());
        json_object_set_new(j, "fields", fields_json(e->fields));
        json_object_set_new(j, "purpose", purpose ? purpose : json_null());
        json_object_set_new(j, "outcome", outcome ? outcome : json_null());
        json_object_set_new(j, "rule", rule ? rule : json_null());
        json_object_set_new(j, "request_id", reqid ? reqid : json_null());
        json_object_set_new(j, "hash", json_string(hash));
        if (!ok) {
                json_decref(j);
                return NULL;
        }
        return j;
}

static json_t *checkpoint_json(const struct store_audit_checkpoint *c)
{
        char hash[2 * AUDIT_HASH_BYTES + 1], sig[2 * AUDIT_SIG_BYTES];
        audit__hex(c->hash, hash);
        audit__b64(c->sig, AUDIT_SIG_BYTES, sig, sizeof sig);
        return json_pack("{s:s, s:I, s:s, s:I, s:s}", "type", "checkpoint", "seq",
                         (json_int_t)c->seq, "hash", hash, "time", (json_int_t)c->time_ms, "sig",
                         sig);
}

struct exp {
        struct dbv v; /* the checkpoint cursor */
        FILE *f;
        int64_t n;
};

static int export_one(void *ctx, const struct store_audit_entry *e)
{
        struct exp *x = ctx;
        if ((x->v.rc = write_line(x->f, entry_json(e), x->v.err)))
                return 2;
        x->n++;
        while (x->v.have_cp && x->v.cp.seq <= e->seq) {
                if ((x->v.rc = write_line(x->f, checkpoint_json(&x->v.cp), x->v.err)) ||
                    (x->v.rc = next_cp(&x->v, x->v.cp.seq + 1)))
                        return 2;
        }
        return 0;
}

struct first_entry {
        struct store_audit_entry e;
        bool found;
};

static int take_first(void *ctx, const struct store_audit_entry *e)
{
        struct first_entry *fe = ctx;
        fe->e = *e;
        fe->found = true;
        return 1;
}

int audit_export(struct store *st, int64_t from_seq, FILE *f, int64_t *n_entries,
                 struct pop_err *err)
{
        struct exp x = {.v = {.st = st, .err = err}, .f = f};
        uint8_t prev[AUDIT_HASH_BYTES] = {0};
        char pk_text[AUDIT_PK_TEXT], prev_text[2 * AUDIT_HASH_BYTES + 1];
        if (from_seq <= 0)
                from_seq = 1;
        if (n_entries)
                *n_entries = 0;
        int rc = store_read_begin(st, err);
        if (rc)
                return rc;
        if ((rc = audit_public_key(st, x.v.pk, pk_text, err)))
                goto out;
        if (from_seq > 1) {
                /* The chain hash the first exported entry builds on. */
                struct first_entry fe = {0};
                rc = store_audit_iter(st, from_seq - 1, take_first, &fe, err);
                if (rc < 0)
                        goto out;
                if (!fe.found || fe.e.seq != from_seq - 1 || fe.e.malformed) {
                        rc = pop_fail(err, POP_ENOTFOUND, "audit-export-from",
                                      "the log has no entry %" PRId64 " to start after",
                                      from_seq - 1);
                        goto out;
                }
                memcpy(prev, fe.e.hash, sizeof prev);
        }
        audit__hex(prev, prev_text);
        json_t *h = json_pack("{s:s, s:s, s:s, s:I, s:s}", "type", "header", "format",
                              AUDIT_EXPORT_FORMAT, "public_key", pk_text, "from_seq",
                              (json_int_t)from_seq, "prev_hash", prev_text);
        if ((rc = write_line(f, h, err)) || (rc = next_cp(&x.v, from_seq)))
                goto out;
        rc = store_audit_iter(st, from_seq, export_one, &x, err);
        if (rc == 2)
                rc = x.v.rc;
        if (rc)
                goto out;
        /* Checkpoints past the last entry stay in: a verifier must see the log was cut. */
        while (x.v.have_cp) {
                if ((rc = write_line(f, checkpoint_json(&x.v.cp), err)) ||
                    (rc = next_cp(&x.v, x.v.cp.seq + 1)))
                        goto out;
        }
        if (fflush(f) != 0 || ferror(f))
                rc = pop_fail(err, POP_EIO, "audit-export-write", "cannot write the export");
        if (n_entries)
                *n_entries = x.n;
out:
        store_read_end(st);
        return rc;
}

/* ---- verifying an export ---- */

struct audit_xv {
        uint8_t pk[AUDIT_PK_BYTES];
        struct audit_verify_result res;
        bool header;
        bool failed; /* a malformed line was seen: the export cannot be judged */
        struct pop_err fail_err;
        int64_t expect;
        uint8_t chain[AUDIT_HASH_BYTES];
        bool have_ahead; /* a checkpoint beyond the last entry, waiting for its entry */
        struct store_audit_checkpoint ahead;
        long line;
};

int audit_xv_new(const uint8_t pk[AUDIT_PK_BYTES], struct audit_xv **out, struct pop_err *err)
{
        *out = NULL;
        if (sodium_init() < 0)
                return pop_fail(err, POP_EIO, "sodium", "libsodium failed to initialize");
        struct audit_xv *v = calloc(1, sizeof *v);
        if (!v)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        memcpy(v->pk, pk, AUDIT_PK_BYTES);
        *out = v;
        return 0;
}

void audit_xv_free(struct audit_xv *v)
{
        free(v);
}

static int malformed(struct audit_xv *v, struct pop_err *err, const char *what)
{
        v->failed = true;
        pop_fail(&v->fail_err, POP_EINVAL, "audit-export-malformed", "line %ld: %s", v->line, what);
        if (err)
                *err = v->fail_err;
        return POP_EINVAL;
}

/* Checks that o has exactly the n keys named. */
static bool keys_are(json_t *o, const char *const *keys, size_t n)
{
        if (json_object_size(o) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!json_object_get(o, keys[i]))
                        return false;
        return true;
}

static bool get_int(json_t *o, const char *k, int64_t *out)
{
        json_t *j = json_object_get(o, k);
        if (!json_is_integer(j))
                return false;
        *out = json_integer_value(j);
        return true;
}

/* A string member that passes audit__text_ok. */
static const char *get_text(json_t *o, const char *k, enum audit__text kind)
{
        json_t *j = json_object_get(o, k);
        if (!json_is_string(j))
                return NULL;
        const char *s = json_string_value(j);
        return audit__text_ok(kind, s, json_string_length(j)) ? s : NULL;
}

static bool get_hash(json_t *o, const char *k, uint8_t hash[AUDIT_HASH_BYTES])
{
        json_t *j = json_object_get(o, k);
        return json_is_string(j) && audit__unhex(json_string_value(j), json_string_length(j), hash);
}

static int xv_header(struct audit_xv *v, json_t *o, struct pop_err *err)
{
        static const char *const keys[] = {"type", "format", "public_key", "from_seq", "prev_hash"};
        json_t *fmt = json_object_get(o, "format");
        json_t *pk = json_object_get(o, "public_key");
        uint8_t key[AUDIT_PK_BYTES];
        int64_t from;
        if (!keys_are(o, keys, 5) || !json_is_string(fmt) ||
            strcmp(json_string_value(fmt), AUDIT_EXPORT_FORMAT) != 0 || !json_is_string(pk) ||
            !audit__unb64(json_string_value(pk), json_string_length(pk), key, sizeof key) ||
            !get_int(o, "from_seq", &from) || from < 1 || !get_hash(o, "prev_hash", v->chain))
                return malformed(v, err, "not a popid audit export header");
        if (sodium_memcmp(key, v->pk, sizeof key) != 0) {
                v->failed = true;
                pop_fail(&v->fail_err, POP_EVERIFY, "audit-export-key",
                         "the export was made with another audit key than the one given");
                if (err)
                        *err = v->fail_err;
                return POP_EVERIFY;
        }
        static const uint8_t zero[AUDIT_HASH_BYTES];
        if (from == 1 && sodium_memcmp(v->chain, zero, sizeof zero) != 0)
                return malformed(v, err, "an export from seq 1 starts from the zero hash");
        v->expect = from;
        v->res.last_seq = from - 1;
        v->res.last_checkpoint_seq = from - 1; /* nothing before the export is judged */
        v->header = true;
        return 0;
}

static int xv_entry(struct audit_xv *v, json_t *o, struct pop_err *err)
{
        static const char *const keys[] = {"type",    "seq",    "time",       "actor",
                                           "subject", "action", "fields",     "purpose",
                                           "outcome", "rule",   "request_id", "hash"};
        struct store_audit_entry e;
        memset(&e, 0, sizeof e);
        char fields[AUDIT_FIELDS_MAX + 1];
        size_t flen = 0;
        json_t *subj = json_object_get(o, "subject"), *fl = json_object_get(o, "fields");
        if (!keys_are(o, keys, 12) || !get_int(o, "seq", &e.seq) || e.seq < 1 ||
            !get_int(o, "time", &e.time_ms) || e.time_ms < 0 ||
            !(e.actor = get_text(o, "actor", AUDIT__T_ACTOR)) ||
            !(e.action = get_text(o, "action", AUDIT__T_ACTION)) ||
            !(e.purpose = get_text(o, "purpose", AUDIT__T_PURPOSE)) ||
            !(e.outcome = get_text(o, "outcome", AUDIT__T_OUTCOME)) ||
            !(e.rule = get_text(o, "rule", AUDIT__T_RULE)) ||
            !(e.request_id = get_text(o, "request_id", AUDIT__T_REQID)) ||
            !get_hash(o, "hash", e.hash) || !json_is_array(fl))
                return malformed(v, err, "not an audit entry");
        if (json_is_string(subj)) {
                const char *s = json_string_value(subj);
                if (json_string_length(subj) != 12 || strspn(s, "0123456789") != 12)
                        return malformed(v, err, "the subject is not a personal ID");
                e.subject = strtoll(s, NULL, 10);
                if (e.subject == 0)
                        return malformed(v, err, "the subject is not a personal ID");
        } else if (!json_is_null(subj)) {
                return malformed(v, err, "the subject is not a personal ID");
        }
        size_t i;
        json_t *f;
        json_array_foreach(fl, i, f)
        {
                const char *s = json_string_value(f);
                size_t n = json_string_length(f);
                if (!s || !audit__text_ok(AUDIT__T_FIELD, s, n) ||
                    flen + (i ? 1 : 0) + n > AUDIT_FIELDS_MAX)
                        return malformed(v, err, "bad field list");
                if (i)
                        fields[flen++] = ',';
                memcpy(fields + flen, s, n);
                flen += n;
        }
        fields[flen] = '\0';
        e.fields = fields;
        if (v->res.bad_seq)
                return 0; /* already judged: the rest is only checked for form */
        if (!check_entry(&v->res, &v->expect, v->chain, &e))
                return 0;
        if (v->have_ahead && v->ahead.seq == e.seq) {
                v->have_ahead = false;
                check_checkpoint(&v->res, v->pk, &v->ahead, v->chain);
        }
        return 0;
}

static int xv_checkpoint(struct audit_xv *v, json_t *o, struct pop_err *err)
{
        static const char *const keys[] = {"type", "seq", "hash", "time", "sig"};
        struct store_audit_checkpoint c;
        memset(&c, 0, sizeof c);
        json_t *sig = json_object_get(o, "sig");
        if (!keys_are(o, keys, 5) || !get_int(o, "seq", &c.seq) || c.seq < 1 ||
            !get_hash(o, "hash", c.hash) || !get_int(o, "time", &c.time_ms) ||
            !json_is_string(sig) ||
            !audit__unb64(json_string_value(sig), json_string_length(sig), c.sig, sizeof c.sig))
                return malformed(v, err, "not an audit checkpoint");
        if (v->res.bad_seq)
                return 0;
        if (v->res.entries > 0 && c.seq == v->res.last_seq) {
                check_checkpoint(&v->res, v->pk, &c, v->chain);
                return 0;
        }
        if (c.seq <= v->res.last_seq)
                return malformed(v, err, "a checkpoint not right after the entry it seals");
        /* Beyond the entries so far: it must hold on its own, and meet its entry later. */
        if (!audit__checkpoint_ok(&c, v->pk)) {
                check_checkpoint(&v->res, v->pk, &c, v->chain);
                return 0;
        }
        if (!v->have_ahead) {
                v->ahead = c;
                v->have_ahead = true;
        }
        return 0;
}

int audit_xv_line(struct audit_xv *v, const char *line, size_t len, struct pop_err *err)
{
        v->line++;
        if (v->failed) {
                if (err)
                        *err = v->fail_err;
                return v->fail_err.code;
        }
        size_t blank = 0;
        while (blank < len && (line[blank] == ' ' || line[blank] == '\t' || line[blank] == '\r' ||
                               line[blank] == '\n'))
                blank++;
        if (blank == len)
                return 0;
        if (len > EXPORT_LINE_MAX)
                return malformed(v, err, "line too long");
        json_error_t je;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(o)) {
                json_decref(o);
                return malformed(v, err, "not a JSON object");
        }
        const char *type = json_string_value(json_object_get(o, "type"));
        int rc;
        if (!type)
                rc = malformed(v, err, "no type");
        else if (!v->header)
                rc = strcmp(type, "header") ? malformed(v, err, "the export has no header")
                                            : xv_header(v, o, err);
        else if (!strcmp(type, "entry"))
                rc = xv_entry(v, o, err);
        else if (!strcmp(type, "checkpoint"))
                rc = xv_checkpoint(v, o, err);
        else
                rc = malformed(v, err, "unknown line type");
        json_decref(o);
        return rc;
}

int audit_xv_finish(struct audit_xv *v, struct audit_verify_result *res, struct pop_err *err)
{
        struct audit_verify_result *r = &v->res;
        if (!v->failed && !v->header)
                malformed(v, NULL, "the export is empty");
        if (!r->bad_seq && v->have_ahead)
                set_bad(r, r->last_seq + 1, "audit-truncated",
                        "entries from seq %" PRId64
                        " on are missing: a checkpoint seals seq %" PRId64,
                        r->last_seq + 1, v->ahead.seq);
        memcpy(r->head, v->chain, sizeof r->head);
        *res = *r;
        if (v->failed) {
                if (!res->bad_seq)
                        res->bad_seq = v->expect ? v->expect : 1;
                if (err)
                        *err = v->fail_err;
                return v->fail_err.code;
        }
        if (r->bad_seq)
                return pop_fail(err, POP_EVERIFY, r->rule, "%s", r->reason);
        return 0;
}

int audit_verify_export(const char *data, size_t len, const uint8_t pk[AUDIT_PK_BYTES],
                        struct audit_verify_result *res, struct pop_err *err)
{
        struct audit_xv *v = NULL;
        memset(res, 0, sizeof *res);
        int rc = audit_xv_new(pk, &v, err);
        if (rc)
                return rc;
        size_t at = 0;
        while (at < len) {
                const char *nl = memchr(data + at, '\n', len - at);
                size_t n = nl ? (size_t)(nl - (data + at)) : len - at;
                if (audit_xv_line(v, data + at, n, NULL) != 0)
                        break; /* audit_xv_finish reports it */
                at += n + 1;
        }
        rc = audit_xv_finish(v, res, err);
        audit_xv_free(v);
        return rc;
}

/* ---- the access log ---- */

static json_t *time_json(int64_t ms)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        char b[64];
        if (!gmtime_r(&t, &tm))
                return json_null();
        snprintf(b, sizeof b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        return json_string(b);
}

struct alog {
        json_t *arr;
        int limit;
        int n;
        int64_t next;
};

static int add_access(void *ctx, const struct store_audit_entry *e)
{
        struct alog *l = ctx;
        if (l->n == l->limit)
                return 1; /* there is more: the next page starts below l->next */
        json_t *j = json_object();
        json_object_set_new(j, "seq", json_integer(e->seq));
        json_object_set_new(j, "time", time_json(e->time_ms));
        json_object_set_new(j, "actor", json_string(e->actor));
        json_object_set_new(j, "action", json_string(e->action));
        json_object_set_new(j, "fields", fields_json(e->fields));
        json_object_set_new(j, "purpose", json_string(e->purpose));
        json_object_set_new(j, "outcome", json_string(e->outcome));
        if (e->rule[0])
                json_object_set_new(j, "rule", json_string(e->rule));
        json_array_append_new(l->arr, j);
        l->n++;
        l->next = e->seq;
        return 0;
}

int audit_access_log(struct store *st, int64_t pid, int64_t before, int limit, json_t **out,
                     struct pop_err *err)
{
        *out = NULL;
        if (limit < 1 || limit > ACCESS_LOG_MAX)
                return pop_fail(err, POP_EINVAL, "audit-limit", "limit must be 1 to %d",
                                ACCESS_LOG_MAX);
        if (pid <= 0)
                return pop_fail(err, POP_EINVAL, "audit-subject", "the access log needs a person");
        struct alog l = {.arr = json_array(), .limit = limit};
        /* One more than the page tells whether there is a next one. */
        int rc = store_audit_by_subject(st, pid, before, limit + 1, add_access, &l, err);
        if (rc < 0) {
                json_decref(l.arr);
                return rc;
        }
        json_t *j = json_object();
        json_object_set_new(j, "pid", subject_json(pid));
        json_object_set_new(j, "entries", l.arr);
        if (rc == 1)
                json_object_set_new(j, "next", json_integer(l.next));
        *out = j;
        return 0;
}
