/*
 * The fault-injecting backend, for tests of error paths (as SQLite and curl inject failures).
 *
 * "fault:URI" opens the store at URI and wraps it: every operation is forwarded, and once armed
 * with store_fault_arm(st, n) the n-th write operation from then on (commit included) fails with
 * POP_ESTORE instead of reaching the inner store. A test counts the writes a service call makes
 * (store_fault_writes), then replays the call failing at each of them in turn and checks that
 * nothing of the failed call remains.
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

struct fault_store {
        struct store base;
        struct store *inner;
        int writes;  /* write operations seen */
        int fail_at; /* fail when writes reaches this; 0: disarmed */
};

static struct fault_store *F(struct store *st)
{
        return (struct fault_store *)st;
}

void store_fault_arm(struct store *st, int n)
{
        if (strcmp(st->ops->name, "fault") != 0)
                return;
        F(st)->fail_at = n > 0 ? F(st)->writes + n : 0;
}

int store_fault_writes(struct store *st)
{
        return strcmp(st->ops->name, "fault") == 0 ? F(st)->writes : 0;
}

/* Counts a write; returns POP_ESTORE (and disarms) when it is the one to fail. */
static int count_write(struct store *st, const char *op, struct pop_err *err)
{
        struct fault_store *f = F(st);
        f->writes++;
        if (f->fail_at && f->writes == f->fail_at) {
                f->fail_at = 0;
                return pop_fail(err, POP_ESTORE, "store-fault", "injected fault in %s", op);
        }
        return 0;
}

#define FWD(name, params, args)                                                                    \
        static int fa_##name params                                                                \
        {                                                                                          \
                return F(st)->inner->ops->name args;                                               \
        }
#define FWD_WRITE(name, params, args)                                                              \
        static int fa_##name params                                                                \
        {                                                                                          \
                int rc_ = count_write(st, #name, err);                                             \
                return rc_ ? rc_ : F(st)->inner->ops->name args;                                   \
        }

static void fa_close(struct store *st)
{
        store_close(F(st)->inner);
        free(st);
}

static void fa_rollback(struct store *st)
{
        store_rollback(F(st)->inner);
}

static void fa_read_end(struct store *st)
{
        store_read_end(F(st)->inner);
}

FWD(begin, (struct store * st, struct pop_err *err), (F(st)->inner, err))
FWD(read_begin, (struct store * st, struct pop_err *err), (F(st)->inner, err))
FWD_WRITE(commit, (struct store * st, struct pop_err *err), (F(st)->inner, err))
FWD(integrity_check, (struct store * st, struct pop_err *err), (F(st)->inner, err))
FWD(meta_get,
    (struct store * st, const char *key, void *buf, size_t cap, size_t *len, struct pop_err *err),
    (F(st)->inner, key, buf, cap, len, err))
FWD_WRITE(meta_set,
          (struct store * st, const char *key, const void *val, size_t len, struct pop_err *err),
          (F(st)->inner, key, val, len, err))
FWD(person_get, (struct store * st, int64_t pid, struct person *out, struct pop_err *err),
    (F(st)->inner, pid, out, err))
FWD(person_exists, (struct store * st, int64_t pid, struct pop_err *err), (F(st)->inner, pid, err))
FWD_WRITE(person_insert, (struct store * st, const struct person *p, struct pop_err *err),
          (F(st)->inner, p, err))
FWD_WRITE(person_update, (struct store * st, const struct person *p, struct pop_err *err),
          (F(st)->inner, p, err))
FWD(person_children,
    (struct store * st, int64_t pid, store_person_fn *fn, void *ctx, struct pop_err *err),
    (F(st)->inner, pid, fn, ctx, err))
FWD(person_count, (struct store * st, int64_t *n, struct pop_err *err), (F(st)->inner, n, err))
FWD(person_search,
    (struct store * st, const struct store_search *q, store_search_fn *fn, void *ctx,
     struct store_search_end *end, struct pop_err *err),
    (F(st)->inner, q, fn, ctx, end, err))
FWD(household_get, (struct store * st, int64_t id, struct household *out, struct pop_err *err),
    (F(st)->inner, id, out, err))
FWD_WRITE(household_insert, (struct store * st, struct household *h, struct pop_err *err),
          (F(st)->inner, h, err))
FWD_WRITE(household_update, (struct store * st, const struct household *h, struct pop_err *err),
          (F(st)->inner, h, err))
FWD(household_members,
    (struct store * st, int64_t hh, struct pdate on, store_residence_fn *fn, void *ctx,
     struct pop_err *err),
    (F(st)->inner, hh, on, fn, ctx, err))
FWD(household_head_on,
    (struct store * st, int64_t hh, struct pdate on, int64_t *head, struct pop_err *err),
    (F(st)->inner, hh, on, head, err))
FWD_WRITE(household_head_set,
          (struct store * st, int64_t hh, int64_t head, struct pdate from, struct pop_err *err),
          (F(st)->inner, hh, head, from, err))
FWD(residence_current,
    (struct store * st, int64_t pid, char kind, struct residence *out, struct pop_err *err),
    (F(st)->inner, pid, kind, out, err))
FWD_WRITE(residence_insert, (struct store * st, struct residence *r, struct pop_err *err),
          (F(st)->inner, r, err))
FWD_WRITE(residence_update, (struct store * st, const struct residence *r, struct pop_err *err),
          (F(st)->inner, r, err))
FWD(residence_history,
    (struct store * st, int64_t pid, store_residence_fn *fn, void *ctx, struct pop_err *err),
    (F(st)->inner, pid, fn, ctx, err))
FWD(card_current, (struct store * st, int64_t pid, struct card *out, struct pop_err *err),
    (F(st)->inner, pid, out, err))
FWD_WRITE(card_insert, (struct store * st, struct card *c, struct pop_err *err),
          (F(st)->inner, c, err))
FWD_WRITE(card_update, (struct store * st, const struct card *c, struct pop_err *err),
          (F(st)->inner, c, err))
FWD(card_history,
    (struct store * st, int64_t pid, store_card_fn *fn, void *ctx, struct pop_err *err),
    (F(st)->inner, pid, fn, ctx, err))
FWD_WRITE(event_append, (struct store * st, struct event *e, struct pop_err *err),
          (F(st)->inner, e, err))
FWD(event_history,
    (struct store * st, int64_t pid, store_event_fn *fn, void *ctx, struct pop_err *err),
    (F(st)->inner, pid, fn, ctx, err))
FWD(series_get, (struct store * st, int64_t series, uint32_t *next, struct pop_err *err),
    (F(st)->inner, series, next, err))
FWD_WRITE(series_set, (struct store * st, int64_t series, uint32_t next, struct pop_err *err),
          (F(st)->inner, series, next, err))

FWD(person_each, (struct store * st, store_person_fn *fn, void *ctx, struct pop_err *err),
    (F(st)->inner, fn, ctx, err))
FWD_WRITE(event_amend,
          (struct store * st, int64_t seq, const char *payload, size_t len, struct pop_err *err),
          (F(st)->inner, seq, payload, len, err))
FWD_WRITE(import_begin, (struct store * st, unsigned flags, int cache_mib, struct pop_err *err),
          (F(st)->inner, flags, cache_mib, err))
FWD(import_lines_done, (struct store * st, struct pop_err *err), (F(st)->inner, err))
FWD_WRITE(import_rebuild, (struct store * st, int64_t seq, struct pop_err *err),
          (F(st)->inner, seq, err))
FWD_WRITE(import_loaded,
          (struct store * st, const struct person *p, int64_t src, struct pop_err *err),
          (F(st)->inner, p, src, err))
FWD(import_find,
    (struct store * st, int64_t pid, struct person *out, int64_t *src, struct pop_err *err),
    (F(st)->inner, pid, out, src, err))
FWD_WRITE(import_reject, (struct store * st, int64_t pid, int loaded, struct pop_err *err),
          (F(st)->inner, pid, loaded, err))
FWD(import_is_rejected, (struct store * st, int64_t pid, struct pop_err *err),
    (F(st)->inner, pid, err))
FWD(import_household_find,
    (struct store * st, const char *key, struct household *out, int *heads, struct pop_err *err),
    (F(st)->inner, key, out, heads, err))
FWD_WRITE(import_household_add,
          (struct store * st, const char *key, struct household *h, struct pop_err *err),
          (F(st)->inner, key, h, err))
FWD_WRITE(import_household_head,
          (struct store * st, const char *key, int64_t hh, int64_t pid, struct pdate from,
           int heads, struct pop_err *err),
          (F(st)->inner, key, hh, pid, from, heads, err))
FWD_WRITE(import_household_refused_head, (struct store * st, const char *key, struct pop_err *err),
          (F(st)->inner, key, err))
FWD_WRITE(import_spouse,
          (struct store * st, int64_t pid, enum sex sex, int dead, int64_t spouse, int *outcome,
           struct pop_err *err),
          (F(st)->inner, pid, sex, dead, spouse, outcome, err))
FWD(import_deferred,
    (struct store * st, enum store_import_query q, store_import_fn *fn, void *ctx,
     struct pop_err *err),
    (F(st)->inner, q, fn, ctx, err))
FWD_WRITE(import_purge, (struct store * st, int64_t seq, int64_t *n, struct pop_err *err),
          (F(st)->inner, seq, n, err))

static void fa_import_end(struct store *st)
{
        store_import_end(F(st)->inner);
}

FWD_WRITE(audit_append, (struct store * st, const struct store_audit_entry *e, struct pop_err *err),
          (F(st)->inner, e, err))
/* One counted write per entry, as the one-entry op: a fault armed at the n-th write fails the
 * same entry whichever op the writer uses. */
static int fa_audit_append_many(struct store *st, const struct store_audit_entry *e, size_t n,
                                struct pop_err *err)
{
        for (size_t i = 0; i < n; i++) {
                int rc = fa_audit_append(st, &e[i], err);
                if (rc)
                        return rc;
        }
        return 0;
}

FWD(audit_last,
    (struct store * st, int64_t *seq, uint8_t hash[STORE_AUDIT_HASH_BYTES], struct pop_err *err),
    (F(st)->inner, seq, hash, err))
FWD(audit_iter,
    (struct store * st, int64_t from, store_audit_fn *fn, void *ctx, struct pop_err *err),
    (F(st)->inner, from, fn, ctx, err))
FWD(audit_by_subject,
    (struct store * st, int64_t pid, int64_t before, int limit, store_audit_fn *fn, void *ctx,
     struct pop_err *err),
    (F(st)->inner, pid, before, limit, fn, ctx, err))
FWD_WRITE(checkpoint_insert,
          (struct store * st, const struct store_audit_checkpoint *c, struct pop_err *err),
          (F(st)->inner, c, err))
FWD(checkpoint_last, (struct store * st, struct store_audit_checkpoint *out, struct pop_err *err),
    (F(st)->inner, out, err))
FWD(checkpoint_iter,
    (struct store * st, int64_t from, store_checkpoint_fn *fn, void *ctx, struct pop_err *err),
    (F(st)->inner, from, fn, ctx, err))
static int fa_wal_checkpoint(struct store *st, int min_pages, int *n_pages, struct pop_err *err)
{
        return store_wal_checkpoint(F(st)->inner, min_pages, n_pages, err);
}
FWD_WRITE(audit_index,
          (struct store * st, int max_entries, int64_t *n_pending, struct pop_err *err),
          (F(st)->inner, max_entries, n_pending, err))
FWD(audit_index_check,
    (struct store * st, struct store_audit_index_problem *out, struct pop_err *err),
    (F(st)->inner, out, err))

FWD_WRITE(client_insert, (struct store * st, const struct store_client *c, struct pop_err *err),
          (F(st)->inner, c, err))
FWD_WRITE(client_update, (struct store * st, const struct store_client *c, struct pop_err *err),
          (F(st)->inner, c, err))
FWD(client_get, (struct store * st, const char *id, struct store_client *out, struct pop_err *err),
    (F(st)->inner, id, out, err))
FWD(client_list, (struct store * st, store_client_fn *fn, void *ctx, struct pop_err *err),
    (F(st)->inner, fn, ctx, err))
FWD(client_by_secret_id,
    (struct store * st, const char *secret_id, struct store_client *out, struct pop_err *err),
    (F(st)->inner, secret_id, out, err))

FWD(event_after,
    (struct store * st, int64_t after, int limit, store_journal_fn *fn, void *ctx,
     struct pop_err *err),
    (F(st)->inner, after, limit, fn, ctx, err))
FWD_WRITE(event_units, (struct store * st, int64_t seq, const char *units, struct pop_err *err),
          (F(st)->inner, seq, units, err))
FWD(idem_get,
    (struct store * st, const char *client, const char *key, int64_t not_before,
     struct store_idem *out, struct pop_err *err),
    (F(st)->inner, client, key, not_before, out, err))
FWD_WRITE(idem_put,
          (struct store * st, const struct store_idem *r, int64_t expired_before,
           struct pop_err *err),
          (F(st)->inner, r, expired_before, err))

FWD(eid_account_get,
    (struct store * st, int64_t pid, struct store_eid_account *out, struct pop_err *err),
    (F(st)->inner, pid, out, err))
FWD(verify_subject,
    (struct store * st, int64_t pid, struct store_verify_subject *out, struct pop_err *err),
    (F(st)->inner, pid, out, err))
FWD_WRITE(eid_account_insert,
          (struct store * st, const struct store_eid_account *a, struct pop_err *err),
          (F(st)->inner, a, err))
FWD_WRITE(eid_account_update,
          (struct store * st, const struct store_eid_account *a, struct pop_err *err),
          (F(st)->inner, a, err))
FWD(eid_cred_get,
    (struct store * st, int64_t pid, const char *kind, struct store_eid_cred *out,
     struct pop_err *err),
    (F(st)->inner, pid, kind, out, err))
FWD_WRITE(eid_cred_put, (struct store * st, const struct store_eid_cred *c, struct pop_err *err),
          (F(st)->inner, c, err))
FWD_WRITE(eid_cred_delete, (struct store * st, int64_t pid, const char *kind, struct pop_err *err),
          (F(st)->inner, pid, kind, err))

FWD_WRITE(otp_insert, (struct store * st, const struct store_otp *o, struct pop_err *err),
          (F(st)->inner, o, err))
FWD(otp_get, (struct store * st, const char *txn, struct store_otp *out, struct pop_err *err),
    (F(st)->inner, txn, out, err))
FWD_WRITE(otp_update, (struct store * st, const struct store_otp *o, struct pop_err *err),
          (F(st)->inner, o, err))
FWD(otp_count,
    (struct store * st, int64_t pid, const char *client, int64_t since, int *n_pid, int *n_client,
     struct pop_err *err),
    (F(st)->inner, pid, client, since, n_pid, n_client, err))
FWD_WRITE(otp_purge, (struct store * st, int64_t pid, int64_t before, struct pop_err *err),
          (F(st)->inner, pid, before, err))
FWD_WRITE(outbox_insert, (struct store * st, struct store_outbox *m, struct pop_err *err),
          (F(st)->inner, m, err))
FWD(outbox_due,
    (struct store * st, int64_t now, int limit, store_outbox_fn *fn, void *ctx,
     struct pop_err *err),
    (F(st)->inner, now, limit, fn, ctx, err))
FWD_WRITE(outbox_update, (struct store * st, const struct store_outbox *m, struct pop_err *err),
          (F(st)->inner, m, err))
FWD(outbox_count, (struct store * st, int64_t n[STORE_OUTBOX_N_STATES], struct pop_err *err),
    (F(st)->inner, n, err))

static const struct store_ops fault_ops = {
    .version = STORE_OPS_VERSION,
    .caps = STORE_CAP_INTEGRITY,
    .name = "fault",
    .close = fa_close,
    .begin = fa_begin,
    .commit = fa_commit,
    .read_begin = fa_read_begin,
    .read_end = fa_read_end,
    .rollback = fa_rollback,
    .integrity_check = fa_integrity_check,
    .meta_get = fa_meta_get,
    .meta_set = fa_meta_set,
    .person_get = fa_person_get,
    .person_exists = fa_person_exists,
    .person_insert = fa_person_insert,
    .person_update = fa_person_update,
    .person_children = fa_person_children,
    .person_count = fa_person_count,
    .person_search = fa_person_search,
    .household_get = fa_household_get,
    .household_insert = fa_household_insert,
    .household_update = fa_household_update,
    .household_members = fa_household_members,
    .household_head_on = fa_household_head_on,
    .household_head_set = fa_household_head_set,
    .residence_current = fa_residence_current,
    .residence_insert = fa_residence_insert,
    .residence_update = fa_residence_update,
    .residence_history = fa_residence_history,
    .card_current = fa_card_current,
    .card_insert = fa_card_insert,
    .card_update = fa_card_update,
    .card_history = fa_card_history,
    .event_append = fa_event_append,
    .event_history = fa_event_history,
    .series_get = fa_series_get,
    .series_set = fa_series_set,
    .person_each = fa_person_each,
    .event_amend = fa_event_amend,
    .import_begin = fa_import_begin,
    .import_rebuild = fa_import_rebuild,
    .import_lines_done = fa_import_lines_done,
    .import_end = fa_import_end,
    .import_loaded = fa_import_loaded,
    .import_find = fa_import_find,
    .import_reject = fa_import_reject,
    .import_is_rejected = fa_import_is_rejected,
    .import_household_find = fa_import_household_find,
    .import_household_add = fa_import_household_add,
    .import_household_head = fa_import_household_head,
    .import_household_refused_head = fa_import_household_refused_head,
    .import_spouse = fa_import_spouse,
    .import_deferred = fa_import_deferred,
    .import_purge = fa_import_purge,
    .audit_append = fa_audit_append,
    .audit_append_many = fa_audit_append_many,
    .audit_last = fa_audit_last,
    .audit_iter = fa_audit_iter,
    .audit_by_subject = fa_audit_by_subject,
    .checkpoint_insert = fa_checkpoint_insert,
    .checkpoint_last = fa_checkpoint_last,
    .checkpoint_iter = fa_checkpoint_iter,
    .wal_checkpoint = fa_wal_checkpoint,
    .audit_index = fa_audit_index,
    .audit_index_check = fa_audit_index_check,
    .client_insert = fa_client_insert,
    .client_update = fa_client_update,
    .client_get = fa_client_get,
    .client_list = fa_client_list,
    .client_by_secret_id = fa_client_by_secret_id,
    .event_after = fa_event_after,
    .event_units = fa_event_units,
    .idem_get = fa_idem_get,
    .idem_put = fa_idem_put,
    .eid_account_get = fa_eid_account_get,
    .verify_subject = fa_verify_subject,
    .eid_account_insert = fa_eid_account_insert,
    .eid_account_update = fa_eid_account_update,
    .eid_cred_get = fa_eid_cred_get,
    .eid_cred_put = fa_eid_cred_put,
    .eid_cred_delete = fa_eid_cred_delete,
    .otp_insert = fa_otp_insert,
    .otp_get = fa_otp_get,
    .otp_update = fa_otp_update,
    .otp_count = fa_otp_count,
    .otp_purge = fa_otp_purge,
    .outbox_insert = fa_outbox_insert,
    .outbox_due = fa_outbox_due,
    .outbox_update = fa_outbox_update,
    .outbox_count = fa_outbox_count,
};

int store__fault_open(const char *inner_uri, int create, struct store **out, struct pop_err *err)
{
        *out = NULL;
        struct fault_store *f = calloc(1, sizeof *f);
        if (!f)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        int rc = store_open(inner_uri, create, &f->inner, err);
        if (rc) {
                free(f);
                return rc;
        }
        f->base.ops = &fault_ops;
        *out = &f->base;
        return 0;
}
