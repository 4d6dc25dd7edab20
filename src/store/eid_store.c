/*
 * The store's wrappers of the eID operations (store.h "eID accounts"), kept apart from store.c
 * so the eID work touches the shared front as little as possible. Nothing here knows SQL.
 */
#include "store/store.h"

int store_eid_account_get(struct store *st, int64_t pid, struct store_eid_account *out,
                          struct pop_err *err)
{
        return st->ops->eid_account_get(st, pid, out, err);
}

int store_verify_subject(struct store *st, int64_t pid, struct store_verify_subject *out,
                         struct pop_err *err)
{
        return st->ops->verify_subject(st, pid, out, err);
}

int store_eid_account_insert(struct store *st, const struct store_eid_account *a,
                             struct pop_err *err)
{
        return st->ops->eid_account_insert(st, a, err);
}

int store_eid_account_update(struct store *st, const struct store_eid_account *a,
                             struct pop_err *err)
{
        return st->ops->eid_account_update(st, a, err);
}

int store_eid_cred_get(struct store *st, int64_t pid, const char *kind, struct store_eid_cred *out,
                       struct pop_err *err)
{
        return st->ops->eid_cred_get(st, pid, kind, out, err);
}

int store_eid_cred_put(struct store *st, const struct store_eid_cred *c, struct pop_err *err)
{
        return st->ops->eid_cred_put(st, c, err);
}

int store_eid_cred_delete(struct store *st, int64_t pid, const char *kind, struct pop_err *err)
{
        return st->ops->eid_cred_delete(st, pid, kind, err);
}
