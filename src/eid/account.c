/*
 * The eID account record as other services see it (eid.h): the lookup by pid, the conversion
 * from the store's row, the state names, and the closure of an account when its holder dies
 * (called from the death event's transaction in src/registry/events.c).
 */
#include "eid/eid.h"

#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {
    [EID_PENDING] = "pending",     [EID_ACTIVE] = "active",   [EID_LOCKED] = "locked",
    [EID_SUSPENDED] = "suspended", [EID_DELETED] = "deleted",
};

const char *eid_state_name(enum eid_state s)
{
        if ((unsigned)s < sizeof state_names / sizeof state_names[0] && state_names[s])
                return state_names[s];
        return "unknown";
}

bool eid_account_usable(const struct eid_account *a)
{
        return a->state == EID_ACTIVE;
}

int eid_account_load(struct store *st, int64_t pid, struct eid_account *out, struct pop_err *err)
{
        struct store_eid_account r;
        memset(out, 0, sizeof *out);
        int rc = store_eid_account_get(st, pid, &r, err);
        if (rc)
                return rc;
        if ((r.level != EID_LEVEL_1 && r.level != EID_LEVEL_2) || r.state < EID_PENDING ||
            r.state > EID_DELETED)
                return pop_fail(err, POP_ESTORE, "store-corrupt",
                                "corrupt value in the eid_account table");
        out->pid = r.pid;
        out->level = (enum eid_level)r.level;
        out->state = (enum eid_state)r.state;
        memcpy(out->phone, r.phone, sizeof out->phone);
        memcpy(out->email, r.email, sizeof out->email);
        out->creds = r.creds;
        memcpy(out->reason, r.reason, sizeof out->reason);
        out->created_ms = r.created_ms;
        out->updated_ms = r.updated_ms;
        return 0;
}

int eid_account_get(struct store *st, int64_t pid, struct eid_account *out)
{
        return eid_account_load(st, pid, out, NULL);
}

/*
 * Law on Identity 2023 art. 34(1)(d) and Decree 69/2024/ND-CP art. 15: the account of a person
 * who died is locked by the system as soon as the death is recorded. Here it is closed for good:
 * every
 * credential is erased (nothing remains to authenticate with); the row stays as the record that
 * the account existed.
 */
int eid_close_on_death(struct store *st, int64_t pid, int64_t now_ms, struct pop_err *err)
{
        struct store_eid_account r;
        int rc = store_eid_account_get(st, pid, &r, err);
        if (rc == POP_ENOTFOUND) {
                pop_err_clear(err);
                return 0;
        }
        if (rc)
                return rc;
        if (r.state == EID_DELETED)
                return 0;
        r.state = EID_DELETED;
        r.creds = 0;
        snprintf(r.reason, sizeof r.reason, "%s", "death recorded in the registry");
        r.updated_ms = now_ms;
        if ((rc = store_eid_account_update(st, &r, err)))
                return rc;
        return store_eid_cred_delete(st, pid, NULL, err);
}
