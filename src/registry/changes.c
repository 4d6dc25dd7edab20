/*
 * The change feed (GET /v1/changes, docs/API.md): the journal read forward from a position and
 * rendered as change items, each saying what one event changed about whom, in the shape of the
 * person document (reg_person_json) so that the access filter (src/access/) can remove what a
 * client was not granted. Which items a client sees is decided by the units the event touched
 * (recorded by reg_event_apply, events.c "where an event happens"); events journalled before
 * that was recorded fall back to their subjects' current residences. Reads only: the caller
 * holds a read snapshot around a page.
 */
#include "registry/registry.h"
#include "registry/registry_int.h"

#include <string.h>

#include "core/region.h"

#define CHANGES_LIMIT_MAX 1000

struct walk {
        struct reg *r;
        const struct reg_changes_query *q;
        json_t *items;
        int n_items;
        int scanned;
        int64_t last;
        struct pop_err *err;
};

static int two_digits(const char *s)
{
        if (!s || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                return 0;
        return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool reach(const struct walk *w, int code)
{
        const struct region_unit *u = code > 0 ? region_current_unit(code) : NULL;
        return w->q->in_scope(w->q->ctx, u ? u->code : 0);
}

/* Recorded units "01,79": is one of them within reach? */
static bool units_reach(const struct walk *w, const char *units)
{
        for (const char *p = units; *p;) {
                if (reach(w, two_digits(p)))
                        return true;
                p = strchr(p, ',');
                if (!p)
                        break;
                p++;
        }
        return false;
}

static const char *const named_keys[] = {"pid", "a", "b", "new_head", "father", "mother"};

static int64_t payload_pid(json_t *ev, const char *key)
{
        json_t *v = json_object_get(ev, key);
        int64_t pid = 0;
        struct pop_err e = {0};
        if (!json_is_string(v) || reg_parse_pid(json_string_value(v), &pid, &e))
                return 0;
        return pid;
}

/* An event without recorded units: the current residences of the people it names. */
static int fallback_reach(struct walk *w, json_t *ev, bool *out)
{
        *out = false;
        for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0] && !*out; i++) {
                int64_t pid = payload_pid(ev, named_keys[i]);
                if (!pid)
                        continue;
                static const char kinds[] = {RESIDENCE_PERMANENT, RESIDENCE_TEMPORARY};
                for (int k = 0; k < 2 && !*out; k++) {
                        struct residence res;
                        struct pop_err e = {0};
                        int rc = store_residence_current(w->r->st, pid, kinds[k], &res, &e);
                        if (rc == 0)
                                *out = reach(w, res.province);
                        else if (rc != POP_ENOTFOUND) {
                                *w->err = e;
                                return rc;
                        }
                }
        }
        return 0;
}

static void copy(json_t *to, const char *to_key, json_t *ev, const char *key)
{
        json_t *v = json_object_get(ev, key);
        if (v)
                json_object_set(to, to_key, v);
}

/* The payload's address {"province": "01", ...} with the province rendered as elsewhere. */
static json_t *address(json_t *ev)
{
        json_t *a = json_object_get(ev, "address");
        if (!json_is_object(a))
                return NULL;
        json_t *out = json_deep_copy(a);
        json_t *p = json_object_get(a, "province");
        if (out && json_is_string(p))
                json_object_set_new(out, "province",
                                    reg_render_province(two_digits(json_string_value(p))));
        return out;
}

static json_t *with_residence(json_t *doc, const char *kind, json_t *one)
{
        json_object_set_new(doc, "residence", json_pack("{s:o}", kind, one));
        return doc;
}

/* The permanent residence a person joined or founded: household, relation, address, date. */
static json_t *joined(json_t *ev, json_t *date)
{
        json_t *one = json_pack("{s:s}", "kind", "permanent");
        copy(one, "household", ev, "household");
        copy(one, "relation", ev, "relation");
        json_t *a = address(ev);
        if (a) {
                json_object_set_new(one, "address", a);
                if (!json_object_get(one, "relation"))
                        json_object_set_new(one, "relation", json_string("head"));
        }
        json_object_set(one, "valid_from", date);
        return one;
}

static json_t *person_of(json_t *ev, const char *key)
{
        json_t *doc = json_object();
        copy(doc, "pid", ev, key);
        return doc;
}

/* What one event changed, per person, in the shape of the person document. */
static json_t *changes_of(const char *type, json_t *ev, json_t *date)
{
        json_t *list = json_array();
        if (!strcmp(type, "marriage") || !strcmp(type, "divorce")) {
                bool m = type[0] == 'm';
                json_t *a = person_of(ev, "a"), *b = person_of(ev, "b");
                json_object_set(a, "spouse", m ? json_object_get(ev, "b") : json_null());
                json_object_set(b, "spouse", m ? json_object_get(ev, "a") : json_null());
                json_array_append_new(list, a);
                json_array_append_new(list, b);
                return list;
        }
        json_t *doc = person_of(ev, "pid");
        if (!strcmp(type, "birth") || !strcmp(type, "enrol") || !strcmp(type, "correction")) {
                copy(doc, "full_name", ev, "name");
                static const char *const same[] = {"dob",       "sex",      "hometown",
                                                   "ethnicity", "religion", "nationality",
                                                   "father",    "mother"};
                for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
                        copy(doc, same[i], ev, same[i]);
                json_t *bp = json_object_get(ev, "birth_province");
                if (json_is_string(bp))
                        json_object_set_new(doc, "birth_province",
                                            reg_render_province(two_digits(json_string_value(bp))));
                if (strcmp(type, "correction") != 0) {
                        json_object_set_new(doc, "status", json_string("living"));
                        if (json_object_get(ev, "household") || json_object_get(ev, "address"))
                                with_residence(doc, "permanent", joined(ev, date));
                }
        } else if (!strcmp(type, "death")) {
                json_object_set_new(doc, "status", json_string("deceased"));
                json_object_set(doc, "death_date", date);
        } else if (!strcmp(type, "residence.register") || !strcmp(type, "residence.move")) {
                with_residence(doc, "permanent", joined(ev, date));
        } else if (!strcmp(type, "residence.deregister") || !strcmp(type, "temporary.deregister")) {
                json_t *one = json_pack("{s:s,s:O}", "kind",
                                        type[0] == 'r' ? "permanent" : "temporary", "ended", date);
                copy(one, "end_reason", ev, "reason");
                with_residence(doc, type[0] == 'r' ? "permanent" : "temporary", one);
        } else if (!strcmp(type, "temporary.register")) {
                json_t *one = json_pack("{s:s}", "kind", "temporary");
                json_t *a = address(ev);
                if (a)
                        json_object_set_new(one, "address", a);
                json_object_set(one, "valid_from", date);
                copy(one, "valid_to", ev, "until");
                with_residence(doc, "temporary", one);
        } else if (!strcmp(type, "temporary.extend")) {
                json_t *one = json_pack("{s:s}", "kind", "temporary");
                copy(one, "valid_to", ev, "until");
                with_residence(doc, "temporary", one);
        } else if (!strcmp(type, "household.head")) {
                json_t *one = json_pack("{s:s,s:s}", "kind", "permanent", "relation", "head");
                copy(one, "household", ev, "household");
                with_residence(doc, "permanent", one);
        } else if (!strncmp(type, "card.", 5)) {
                const char *what = type + 5;
                json_t *card = json_object();
                if (!strcmp(what, "issue") || !strcmp(what, "renew")) {
                        copy(card, "number", ev, "pid");
                        json_object_set(card, "issued", date);
                        json_object_set_new(card, "status", json_string("valid"));
                } else {
                        json_object_set_new(
                            card, "status",
                            json_string(!strcmp(what, "lost") ? "lost" : "revoked"));
                        json_object_set(card, "status_date", date);
                }
                json_object_set_new(doc, "cards", json_pack("[o]", card));
        }
        json_array_append_new(list, doc);
        return list;
}

json_t *reg_change_docs(const char *type, json_t *ev, json_t *date)
{
        return changes_of(type, ev, date);
}

static int on_event(void *ctx, const struct event *e, const char *units)
{
        struct walk *w = ctx;
        w->scanned++;
        w->last = e->seq;
        if (!strcmp(e->type, "import"))
                return 0;
        json_error_t je;
        json_t *ev = json_loadb(e->payload, e->payload_len, 0, &je);
        if (!json_is_object(ev)) {
                json_decref(ev);
                return pop_fail(w->err, POP_ESTORE, "store-corrupt",
                                "journal event %lld has a malformed payload", (long long)e->seq);
        }
        int rc = 0;
        bool visible = true;
        if (w->q->in_scope) {
                if (units)
                        visible = units_reach(w, units);
                else if ((rc = fallback_reach(w, ev, &visible)))
                        goto out;
        }
        if (!visible)
                goto out;
        json_t *date = reg__date_json(e->effective);
        json_t *subjects = json_array();
        for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++) {
                json_t *v = json_object_get(ev, named_keys[i]);
                if (json_is_string(v))
                        json_array_append(subjects, v);
        }
        json_t *item =
            json_pack("{s:I,s:s,s:O,s:o,s:o}", "seq", (json_int_t)e->seq, "type", e->type, "date",
                      date, "subjects", subjects, "changes", changes_of(e->type, ev, date));
        json_decref(date);
        if (!item) {
                rc = pop_fail(w->err, POP_ENOMEM, "nomem", "out of memory");
                goto out;
        }
        json_array_append_new(w->items, item);
        w->n_items++;
        if (w->n_items >= w->q->limit)
                rc = 1; /* the page is full */
out:
        json_decref(ev);
        return rc;
}

int reg_changes(struct reg *r, const struct reg_changes_query *q, json_t **items, int64_t *next,
                bool *more, struct pop_err *err)
{
        *items = NULL;
        *more = false;
        *next = q->after;
        if (q->limit < 1 || q->limit > CHANGES_LIMIT_MAX || q->max_scan < 1 || q->after < 0)
                return pop_fail(err, POP_EINVAL, "changes-query", "limit must be 1..%d",
                                CHANGES_LIMIT_MAX);
        struct walk w = {.r = r, .q = q, .items = json_array(), .last = q->after, .err = err};
        if (!w.items)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        int rc = store_event_after(r->st, q->after, q->max_scan, on_event, &w, err);
        if (rc < 0) {
                json_decref(w.items);
                return rc;
        }
        /* Full page or a full scan budget: later rows may follow. */
        *more = rc == 1 || w.scanned >= q->max_scan;
        *next = w.last;
        *items = w.items;
        return 0;
}
