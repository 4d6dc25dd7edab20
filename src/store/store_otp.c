/*
 * The store's wrappers of the one-time password and outbox operations (store.h), kept apart
 * from store.c so the topic's interface lives in one place.
 */
#include "store/store.h"

int store_otp_insert(struct store *st, const struct store_otp *o, struct pop_err *err)
{
        return st->ops->otp_insert(st, o, err);
}

int store_otp_get(struct store *st, const char *txn, struct store_otp *out, struct pop_err *err)
{
        return st->ops->otp_get(st, txn, out, err);
}

int store_otp_update(struct store *st, const struct store_otp *o, struct pop_err *err)
{
        return st->ops->otp_update(st, o, err);
}

int store_otp_count(struct store *st, int64_t pid, const char *client, int64_t since_ms, int *n_pid,
                    int *n_client, struct pop_err *err)
{
        return st->ops->otp_count(st, pid, client, since_ms, n_pid, n_client, err);
}

int store_otp_purge(struct store *st, int64_t pid, int64_t before_ms, struct pop_err *err)
{
        return st->ops->otp_purge(st, pid, before_ms, err);
}

int store_outbox_insert(struct store *st, struct store_outbox *m, struct pop_err *err)
{
        return st->ops->outbox_insert(st, m, err);
}

int store_outbox_due(struct store *st, int64_t now_ms, int limit, store_outbox_fn *fn, void *ctx,
                     struct pop_err *err)
{
        return st->ops->outbox_due(st, now_ms, limit, fn, ctx, err);
}

int store_outbox_update(struct store *st, const struct store_outbox *m, struct pop_err *err)
{
        return st->ops->outbox_update(st, m, err);
}

int store_outbox_count(struct store *st, int64_t n[STORE_OUTBOX_N_STATES], struct pop_err *err)
{
        return st->ops->outbox_count(st, n, err);
}
