/*
 * The store's front: picks a backend from the URI and forwards each wrapper to the connection's
 * operation table. Nothing here knows SQL. See store.h.
 */
#include "store/store.h"

#include <string.h>

int store_open(const char *uri, int create, struct store **out, struct pop_err *err)
{
        *out = NULL;
        if (!uri || !*uri)
                return pop_fail(err, POP_EINVAL, "store-uri",
                                "no database given: use --db PATH or set POPID_DB");
        if (strncmp(uri, "fault:", 6) == 0)
                return store__fault_open(uri + 6, create, out, err);
        if (strncmp(uri, "sqlite:", 7) == 0)
                return store__sqlite_open(uri + 7, create, out, err);
        if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0)
                return pop_fail(err, POP_EINVAL, "store-uri",
                                "the PostgreSQL backend is not built yet; use sqlite:PATH");
        if (strstr(uri, "://"))
                return pop_fail(err, POP_EINVAL, "store-uri", "unknown store URI scheme in '%s'",
                                uri);
        return store__sqlite_open(uri, create, out, err);
}

void store_close(struct store *st)
{
        if (st)
                st->ops->close(st);
}

const char *store_backend(const struct store *st)
{
        return st->ops->name;
}

int store_begin(struct store *st, struct pop_err *err)
{
        return st->ops->begin(st, err);
}

int store_commit(struct store *st, struct pop_err *err)
{
        return st->ops->commit(st, err);
}

void store_rollback(struct store *st)
{
        st->ops->rollback(st);
}

int store_read_begin(struct store *st, struct pop_err *err)
{
        return st->ops->read_begin(st, err);
}

void store_read_end(struct store *st)
{
        st->ops->read_end(st);
}

int store_integrity_check(struct store *st, struct pop_err *err)
{
        return st->ops->integrity_check(st, err);
}

int store_meta_get(struct store *st, const char *key, void *buf, size_t cap, size_t *len,
                   struct pop_err *err)
{
        return st->ops->meta_get(st, key, buf, cap, len, err);
}

int store_meta_set(struct store *st, const char *key, const void *val, size_t len,
                   struct pop_err *err)
{
        return st->ops->meta_set(st, key, val, len, err);
}

int store_person_get(struct store *st, int64_t pid, struct person *out, struct pop_err *err)
{
        return st->ops->person_get(st, pid, out, err);
}

int store_person_exists(struct store *st, int64_t pid, struct pop_err *err)
{
        return st->ops->person_exists(st, pid, err);
}

int store_person_insert(struct store *st, const struct person *p, struct pop_err *err)
{
        return st->ops->person_insert(st, p, err);
}

int store_person_update(struct store *st, const struct person *p, struct pop_err *err)
{
        return st->ops->person_update(st, p, err);
}

int store_person_children(struct store *st, int64_t pid, store_person_fn *fn, void *ctx,
                          struct pop_err *err)
{
        return st->ops->person_children(st, pid, fn, ctx, err);
}

int store_person_count(struct store *st, int64_t *n, struct pop_err *err)
{
        return st->ops->person_count(st, n, err);
}

int store_person_search(struct store *st, const struct store_search *q, store_search_fn *fn,
                        void *ctx, struct store_search_end *end, struct pop_err *err)
{
        return st->ops->person_search(st, q, fn, ctx, end, err);
}

int store_household_get(struct store *st, int64_t id, struct household *out, struct pop_err *err)
{
        return st->ops->household_get(st, id, out, err);
}

int store_household_insert(struct store *st, struct household *h, struct pop_err *err)
{
        return st->ops->household_insert(st, h, err);
}

int store_household_update(struct store *st, const struct household *h, struct pop_err *err)
{
        return st->ops->household_update(st, h, err);
}

int store_household_members(struct store *st, int64_t household, struct pdate on,
                            store_residence_fn *fn, void *ctx, struct pop_err *err)
{
        return st->ops->household_members(st, household, on, fn, ctx, err);
}

int store_household_head_on(struct store *st, int64_t household, struct pdate on, int64_t *head,
                            struct pop_err *err)
{
        return st->ops->household_head_on(st, household, on, head, err);
}

int store_household_head_set(struct store *st, int64_t household, int64_t head, struct pdate from,
                             struct pop_err *err)
{
        return st->ops->household_head_set(st, household, head, from, err);
}

int store_residence_current(struct store *st, int64_t pid, char kind, struct residence *out,
                            struct pop_err *err)
{
        return st->ops->residence_current(st, pid, kind, out, err);
}

int store_residence_insert(struct store *st, struct residence *r, struct pop_err *err)
{
        return st->ops->residence_insert(st, r, err);
}

int store_residence_update(struct store *st, const struct residence *r, struct pop_err *err)
{
        return st->ops->residence_update(st, r, err);
}

int store_residence_history(struct store *st, int64_t pid, store_residence_fn *fn, void *ctx,
                            struct pop_err *err)
{
        return st->ops->residence_history(st, pid, fn, ctx, err);
}

int store_card_current(struct store *st, int64_t pid, struct card *out, struct pop_err *err)
{
        return st->ops->card_current(st, pid, out, err);
}

int store_card_insert(struct store *st, struct card *c, struct pop_err *err)
{
        return st->ops->card_insert(st, c, err);
}

int store_card_update(struct store *st, const struct card *c, struct pop_err *err)
{
        return st->ops->card_update(st, c, err);
}

int store_card_history(struct store *st, int64_t pid, store_card_fn *fn, void *ctx,
                       struct pop_err *err)
{
        return st->ops->card_history(st, pid, fn, ctx, err);
}

int store_event_append(struct store *st, struct event *e, struct pop_err *err)
{
        return st->ops->event_append(st, e, err);
}

int store_event_history(struct store *st, int64_t pid, store_event_fn *fn, void *ctx,
                        struct pop_err *err)
{
        return st->ops->event_history(st, pid, fn, ctx, err);
}

int store_series_get(struct store *st, int64_t series, uint32_t *next, struct pop_err *err)
{
        return st->ops->series_get(st, series, next, err);
}

int store_series_set(struct store *st, int64_t series, uint32_t next, struct pop_err *err)
{
        return st->ops->series_set(st, series, next, err);
}

/* ---- bulk import and export ---- */

int store_person_each(struct store *st, store_person_fn *fn, void *ctx, struct pop_err *err)
{
        return st->ops->person_each(st, fn, ctx, err);
}

int store_event_amend(struct store *st, int64_t seq, const char *payload, size_t len,
                      struct pop_err *err)
{
        return st->ops->event_amend(st, seq, payload, len, err);
}

int store_import_begin(struct store *st, unsigned flags, int cache_mib, struct pop_err *err)
{
        return st->ops->import_begin(st, flags, cache_mib, err);
}

int store_import_lines_done(struct store *st, struct pop_err *err)
{
        return st->ops->import_lines_done(st, err);
}

int store_import_rebuild(struct store *st, int64_t seq, struct pop_err *err)
{
        return st->ops->import_rebuild(st, seq, err);
}

void store_import_end(struct store *st)
{
        st->ops->import_end(st);
}

int store_import_loaded(struct store *st, const struct person *p, int64_t src, struct pop_err *err)
{
        return st->ops->import_loaded(st, p, src, err);
}

int store_import_find(struct store *st, int64_t pid, struct person *out, int64_t *src,
                      struct pop_err *err)
{
        return st->ops->import_find(st, pid, out, src, err);
}

int store_import_reject(struct store *st, int64_t pid, int loaded, struct pop_err *err)
{
        return st->ops->import_reject(st, pid, loaded, err);
}

int store_import_is_rejected(struct store *st, int64_t pid, struct pop_err *err)
{
        return st->ops->import_is_rejected(st, pid, err);
}

int store_import_household_find(struct store *st, const char *key, struct household *out,
                                int *heads, struct pop_err *err)
{
        return st->ops->import_household_find(st, key, out, heads, err);
}

int store_import_household_add(struct store *st, const char *key, struct household *h,
                               struct pop_err *err)
{
        return st->ops->import_household_add(st, key, h, err);
}

int store_import_household_head(struct store *st, const char *key, int64_t hh, int64_t pid,
                                struct pdate from, int heads, struct pop_err *err)
{
        return st->ops->import_household_head(st, key, hh, pid, from, heads, err);
}

int store_import_household_refused_head(struct store *st, const char *key, struct pop_err *err)
{
        return st->ops->import_household_refused_head(st, key, err);
}

int store_import_spouse(struct store *st, int64_t pid, enum sex sex, int dead, int64_t spouse,
                        int *outcome, struct pop_err *err)
{
        return st->ops->import_spouse(st, pid, sex, dead, spouse, outcome, err);
}

int store_import_deferred(struct store *st, enum store_import_query q, store_import_fn *fn,
                          void *ctx, struct pop_err *err)
{
        return st->ops->import_deferred(st, q, fn, ctx, err);
}

int store_import_purge(struct store *st, int64_t seq, int64_t *n, struct pop_err *err)
{
        return st->ops->import_purge(st, seq, n, err);
}

int store_audit_append(struct store *st, const struct store_audit_entry *e, struct pop_err *err)
{
        return st->ops->audit_append(st, e, err);
}

int store_audit_append_many(struct store *st, const struct store_audit_entry *e, size_t n,
                            struct pop_err *err)
{
        return st->ops->audit_append_many(st, e, n, err);
}

int store_audit_last(struct store *st, int64_t *seq, uint8_t hash[STORE_AUDIT_HASH_BYTES],
                     struct pop_err *err)
{
        return st->ops->audit_last(st, seq, hash, err);
}

int store_audit_iter(struct store *st, int64_t from_seq, store_audit_fn *fn, void *ctx,
                     struct pop_err *err)
{
        return st->ops->audit_iter(st, from_seq, fn, ctx, err);
}

int store_audit_by_subject(struct store *st, int64_t pid, int64_t before_seq, int limit,
                           store_audit_fn *fn, void *ctx, struct pop_err *err)
{
        return st->ops->audit_by_subject(st, pid, before_seq, limit, fn, ctx, err);
}

int store_checkpoint_insert(struct store *st, const struct store_audit_checkpoint *c,
                            struct pop_err *err)
{
        return st->ops->checkpoint_insert(st, c, err);
}

int store_checkpoint_last(struct store *st, struct store_audit_checkpoint *out, struct pop_err *err)
{
        return st->ops->checkpoint_last(st, out, err);
}

int store_checkpoint_iter(struct store *st, int64_t from_seq, store_checkpoint_fn *fn, void *ctx,
                          struct pop_err *err)
{
        return st->ops->checkpoint_iter(st, from_seq, fn, ctx, err);
}

int store_wal_checkpoint(struct store *st, int min_pages, int *n_pages, struct pop_err *err)
{
        if (n_pages)
                *n_pages = 0;
        return st->ops->wal_checkpoint ? st->ops->wal_checkpoint(st, min_pages, n_pages, err) : 0;
}

int store_audit_index(struct store *st, int max_entries, int64_t *n_pending, struct pop_err *err)
{
        *n_pending = 0;
        return st->ops->audit_index(st, max_entries, n_pending, err);
}

int store_audit_index_check(struct store *st, struct store_audit_index_problem *out,
                            struct pop_err *err)
{
        out->seq = 0;
        out->kind = "";
        return st->ops->audit_index_check(st, out, err);
}

int store_client_insert(struct store *st, const struct store_client *c, struct pop_err *err)
{
        return st->ops->client_insert(st, c, err);
}

int store_client_update(struct store *st, const struct store_client *c, struct pop_err *err)
{
        return st->ops->client_update(st, c, err);
}

int store_client_get(struct store *st, const char *id, struct store_client *out,
                     struct pop_err *err)
{
        return st->ops->client_get(st, id, out, err);
}

int store_client_list(struct store *st, store_client_fn *fn, void *ctx, struct pop_err *err)
{
        return st->ops->client_list(st, fn, ctx, err);
}

int store_client_by_secret_id(struct store *st, const char *secret_id, struct store_client *out,
                              struct pop_err *err)
{
        return st->ops->client_by_secret_id(st, secret_id, out, err);
}

int store_event_after(struct store *st, int64_t after_seq, int limit, store_journal_fn *fn,
                      void *ctx, struct pop_err *err)
{
        return st->ops->event_after(st, after_seq, limit, fn, ctx, err);
}

int store_event_units(struct store *st, int64_t seq, const char *units, struct pop_err *err)
{
        return st->ops->event_units(st, seq, units, err);
}

int store_idem_get(struct store *st, const char *client, const char *key, int64_t not_before_ms,
                   struct store_idem *out, struct pop_err *err)
{
        return st->ops->idem_get(st, client, key, not_before_ms, out, err);
}

int store_idem_put(struct store *st, const struct store_idem *r, int64_t expired_before_ms,
                   struct pop_err *err)
{
        return st->ops->idem_put(st, r, expired_before_ms, err);
}
