/*
 * The registry's read calls: a person with residence, card and children; the journal of a
 * person; a household with its head and members on a date; a person's residence on a date.
 * Each renders JSON for the CLI and (later) the API. See registry.h.
 */
#include "registry/registry.h"
#include "registry/registry_int.h"

#include <string.h>

static int add_child(void *ctx, const struct person *p)
{
        json_array_append_new(ctx, reg__pid_json(p->pid));
        return 0;
}

static int add_card(void *ctx, const struct card *c)
{
        json_array_append_new(ctx, reg_render_card(c));
        return 0;
}

/* The current residence of a kind as JSON (null when none), its province into *province. */
static int current_residence(struct reg *r, int64_t pid, char kind, json_t **out, int *province,
                             struct pop_err *err)
{
        struct residence res;
        *out = NULL;
        int rc = store_residence_current(r->st, pid, kind, &res, err);
        if (rc == POP_ENOTFOUND) {
                pop_err_clear(err);
                *out = json_null();
                return 0;
        }
        if (rc)
                return rc;
        if (province)
                *province = res.province;
        *out = reg_render_residence(&res);
        return *out ? 0 : POP_ENOMEM;
}

static int person_json_in(struct reg *r, int64_t pid, unsigned parts, json_t **out, int *province,
                          struct pop_err *err)
{
        struct person p;
        int prov = 0;
        *out = NULL;
        int rc = store_person_get(r->st, pid, &p, err);
        if (rc)
                return rc;
        json_t *o = reg__render_person_parts(&p, parts);
        if (!o)
                return POP_ENOMEM;
        if (parts & (REG_PERSON_PERMANENT | REG_PERSON_TEMPORARY)) {
                /* The shape of reg_residence_json with no date. */
                json_t *res = json_object(), *v = NULL;
                json_object_set_new(o, "residence", res);
                if (parts & REG_PERSON_PERMANENT) {
                        if ((rc = current_residence(r, pid, RESIDENCE_PERMANENT, &v, &prov, err)))
                                goto fail;
                        json_object_set_new(res, "permanent", v);
                }
                if (parts & REG_PERSON_TEMPORARY) {
                        if ((rc = current_residence(r, pid, RESIDENCE_TEMPORARY, &v, NULL, err)))
                                goto fail;
                        json_object_set_new(res, "temporary", v);
                }
        } else if (parts & REG_PERSON_PROVINCE) {
                struct residence res;
                rc = store_residence_current(r->st, pid, RESIDENCE_PERMANENT, &res, err);
                if (rc == 0)
                        prov = res.province;
                else if (rc == POP_ENOTFOUND)
                        pop_err_clear(err);
                else
                        goto fail;
        }
        if (parts & REG_PERSON_CARDS) {
                json_t *cards = json_array();
                json_object_set_new(o, "cards", cards);
                if ((rc = store_card_history(r->st, pid, add_card, cards, err)))
                        goto fail;
        }
        if (parts & REG_PERSON_CHILDREN) {
                json_t *children = json_array();
                json_object_set_new(o, "children", children);
                if ((rc = store_person_children(r->st, pid, add_child, children, err)))
                        goto fail;
        }
        if (province)
                *province = prov;
        *out = o;
        return 0;
fail:
        json_decref(o);
        return rc;
}

static int add_event(void *ctx, const struct event *e)
{
        json_error_t jerr;
        json_t *payload = json_loadb(e->payload, e->payload_len, 0, &jerr);
        json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:s, s:s}", "seq", (json_int_t)e->seq, "type",
                              e->type, "date", reg__date_json(e->effective), "recorded_at",
                              reg__time_json(e->recorded_at), "actor", e->actor, "legal_basis",
                              e->legal_basis);
        if (!o || !payload) {
                json_decref(o);
                json_decref(payload);
                return POP_ESTORE;
        }
        json_object_del(payload, "type");
        json_object_del(payload, "date");
        json_object_set_new(o, "details", payload);
        json_array_append_new(ctx, o);
        return 0;
}

static int history_json_in(struct reg *r, int64_t pid, json_t **out, struct pop_err *err)
{
        *out = NULL;
        int rc = store_person_exists(r->st, pid, err);
        if (rc < 0)
                return rc;
        if (rc == 0) {
                char b[PID_LEN + 1];
                pid_from_int(pid, b);
                return pop_fail(err, POP_ENOTFOUND, "person-not-found", "no person with ID %s", b);
        }
        json_t *events = json_array();
        rc = store_event_history(r->st, pid, add_event, events, err);
        if (rc == POP_ESTORE && err && !err->msg[0])
                pop_fail(err, rc, "store-corrupt", "an event's payload is not valid JSON");
        if (rc) {
                json_decref(events);
                return rc;
        }
        *out = json_pack("{s:o, s:o}", "pid", reg__pid_json(pid), "events", events);
        return 0;
}

struct member_ctx {
        struct reg *r;
        json_t *arr;
        struct pop_err *err;
};

static int add_member(void *ctx, const struct residence *res)
{
        struct member_ctx *m = ctx;
        struct person p;
        int rc = store_person_get(m->r->st, res->pid, &p, m->err);
        if (rc)
                return rc;
        json_array_append_new(m->arr,
                              json_pack("{s:o, s:s, s:s, s:o}", "pid", reg__pid_json(res->pid),
                                        "full_name", p.full_name, "relation", res->relation,
                                        "since", reg__date_json(res->valid_from)));
        return 0;
}

static int household_json_in(struct reg *r, int64_t household, struct pdate on, json_t **out,
                             struct pop_err *err)
{
        struct household h;
        *out = NULL;
        int rc = store_household_get(r->st, household, &h, err);
        if (rc)
                return rc;
        json_t *o = json_pack("{s:I, s:{s:o, s:s, s:s}, s:o}", "id", (json_int_t)h.id, "address",
                              "province", reg_render_province(h.province), "commune", h.commune,
                              "line", h.address, "created", reg__date_json(h.created));
        if (!pdate_is_none(on))
                json_object_set_new(o, "on", reg__date_json(on));
        int64_t head = 0;
        rc = store_household_head_on(r->st, household, on, &head, err);
        if (rc && rc != POP_ENOTFOUND)
                goto fail;
        json_object_set_new(o, "head", reg__pid_json(rc == 0 ? head : 0));
        json_t *members = json_array();
        json_object_set_new(o, "members", members);
        struct member_ctx m = {r, members, err};
        if ((rc = store_household_members(r->st, household, on, add_member, &m, err)))
                goto fail;
        *out = o;
        return 0;
fail:
        json_decref(o);
        return rc;
}

/* The residence of a kind in force on `on`: started on or before, not ended by then. */
struct on_ctx {
        struct pdate on;
        char kind;
        struct residence found;
        int n;
};

static int pick_on(void *ctx, const struct residence *res)
{
        struct on_ctx *c = ctx;
        if (res->kind != c->kind || pdate_cmp(res->valid_from, c->on) > 0)
                return 0;
        if (!pdate_is_none(res->ended) && pdate_cmp(res->ended, c->on) <= 0)
                return 0;
        if (res->kind == RESIDENCE_TEMPORARY && pdate_cmp(res->valid_to, c->on) < 0)
                return 0;
        c->found = *res;
        c->n++;
        return 0;
}

static int residence_json_in(struct reg *r, int64_t pid, struct pdate on, json_t **out,
                             struct pop_err *err)
{
        *out = NULL;
        int rc = store_person_exists(r->st, pid, err);
        if (rc < 0)
                return rc;
        if (rc == 0) {
                char b[PID_LEN + 1];
                pid_from_int(pid, b);
                return pop_fail(err, POP_ENOTFOUND, "person-not-found", "no person with ID %s", b);
        }
        json_t *o = json_object();
        const char kinds[2] = {RESIDENCE_PERMANENT, RESIDENCE_TEMPORARY};
        const char *names[2] = {"permanent", "temporary"};
        for (int i = 0; i < 2; i++) {
                struct residence res;
                int found = 0;
                if (pdate_is_none(on)) {
                        rc = store_residence_current(r->st, pid, kinds[i], &res, err);
                        if (rc && rc != POP_ENOTFOUND)
                                goto fail;
                        found = rc == 0;
                } else {
                        struct on_ctx c = {.on = on, .kind = kinds[i]};
                        if ((rc = store_residence_history(r->st, pid, pick_on, &c, err)))
                                goto fail;
                        found = c.n > 0;
                        res = c.found;
                }
                json_object_set_new(o, names[i], found ? reg_render_residence(&res) : json_null());
        }
        if (!pdate_is_none(on))
                json_object_set_new(o, "on", reg__date_json(on));
        *out = o;
        return 0;
fail:
        json_decref(o);
        return rc;
}

/*
 * The public views read inside one snapshot, so a person's record, cards and children (or a
 * household and its members) are from the same moment even while other connections write.
 */
int reg_person_json(struct reg *r, int64_t pid, json_t **out, struct pop_err *err)
{
        return reg_person_json_parts(r, pid, REG_PERSON_ALL, out, NULL, err);
}

int reg_person_json_parts(struct reg *r, int64_t pid, unsigned parts, json_t **out, int *province,
                          struct pop_err *err)
{
        if (province)
                *province = 0;
        int rc = store_read_begin(r->st, err);
        if (rc == 0)
                rc = person_json_in(r, pid, parts, out, province, err);
        store_read_end(r->st);
        return rc;
}

int reg_history_json(struct reg *r, int64_t pid, json_t **out, struct pop_err *err)
{
        int rc = store_read_begin(r->st, err);
        if (rc == 0)
                rc = history_json_in(r, pid, out, err);
        store_read_end(r->st);
        return rc;
}

int reg_household_json(struct reg *r, int64_t household, struct pdate on, json_t **out,
                       struct pop_err *err)
{
        int rc = store_read_begin(r->st, err);
        if (rc == 0)
                rc = household_json_in(r, household, on, out, err);
        store_read_end(r->st);
        return rc;
}

int reg_residence_json(struct reg *r, int64_t pid, struct pdate on, json_t **out,
                       struct pop_err *err)
{
        int rc = store_read_begin(r->st, err);
        if (rc == 0)
                rc = residence_json_in(r, pid, on, out, err);
        store_read_end(r->st);
        return rc;
}
