/*
 * Life events: the only way the registry changes. Each event is a JSON object {"type": ...,
 * fields...}; this file checks its fields (unknown ones are refused), checks the rules of the law
 * against the current records, appends it to the journal and updates the current tables, all in
 * one transaction. A refused event leaves nothing behind and names the rule it broke.
 *
 * Layout: field readers, shared rules (living person, dates, household membership), then one
 * handler per type, then the type table and reg_event_apply. Laws cited:
 *   LCS   Law on Civil Status 2014 (60/2014/QH13)
 *   LMF   Law on Marriage and Family 2014 (52/2014/QH13)
 *   LR    Law on Residence 2020 (68/2020/QH14)
 *   LI    Law on Identity 2023 (26/2023/QH15)
 *   CC    Civil Code 2015 (91/2015/QH13)
 */
#include "registry/registry.h"
#include "registry/registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/idcard.h"
#include "core/region.h"
#include "eid/eid.h"

struct ev {
        struct reg *r;
        const struct reg_ctx *c;
        json_t *in;
        struct pop_err *err;
        const char *type;
        struct pdate date; /* effective date */
        char basis[REC_BASIS];
        json_t *payload; /* what the journal keeps: the normalized event */
        json_t *result;  /* what the caller gets back */
        int64_t subjects[EVENT_MAX_SUBJECTS];
        int n_subjects;
        int64_t seq;
};

struct addr {
        int province;
        char commune[6];
        char line[REC_TEXT];
};

/* ---- field readers: each refuses a wrong type or value, naming the field ---- */

static int field_fail(struct ev *x, int code, const char *rule, const char *key, const char *msg)
{
        return pop_fail(x->err, code, rule, "%s: field '%s': %s", x->type, key, msg);
}

/* Wraps a parser's message with the field name. */
static int field_wrap(struct ev *x, const char *key, int rc, const struct pop_err *inner)
{
        return field_fail(x, rc, inner->rule[0] ? inner->rule : "field-invalid", key, inner->msg);
}

static json_t *field(struct ev *x, const char *key)
{
        json_t *v = json_object_get(x->in, key);
        return v && !json_is_null(v) ? v : NULL;
}

static int get_str(struct ev *x, const char *key, int required, const char **out, size_t *len)
{
        json_t *v = field(x, key);
        *out = NULL;
        if (len)
                *len = 0;
        if (!v)
                return required ? field_fail(x, POP_EINVAL, "field-missing", key, "is required")
                                : 0;
        if (!json_is_string(v))
                return field_fail(x, POP_EINVAL, "field-type", key, "must be a string");
        size_t n = json_string_length(v);
        if (strlen(json_string_value(v)) != n)
                return field_fail(x, POP_EINVAL, "field-invalid", key, "contains a NUL character");
        *out = json_string_value(v);
        if (len)
                *len = n;
        return 0;
}

static int get_pid(struct ev *x, const char *key, int required, int64_t *out)
{
        const char *s;
        size_t n;
        int rc = get_str(x, key, required, &s, &n);
        *out = 0;
        if (rc || !s)
                return rc;
        struct pid_info id;
        struct pop_err e = {0};
        if ((rc = pid_parse(s, n, &id, &e)))
                return field_wrap(x, key, rc, &e);
        *out = pid_to_int(id.pid);
        json_object_set_new(x->payload, key, json_string(id.pid));
        return 0;
}

static int get_date(struct ev *x, const char *key, int required, int full, struct pdate *out)
{
        const char *s;
        size_t n;
        int rc = get_str(x, key, required, &s, &n);
        memset(out, 0, sizeof *out);
        if (rc || !s)
                return rc;
        struct pop_err e = {0};
        rc = full ? pdate_parse_full(s, n, out, &e) : pdate_parse(s, n, out, &e);
        if (rc)
                return field_wrap(x, key, rc, &e);
        json_object_set_new(x->payload, key, reg__date_json(*out));
        return 0;
}

/* An integer given as a JSON integer or a string of digits. */
static int get_int(struct ev *x, const char *key, int required, int64_t *out)
{
        json_t *v = field(x, key);
        *out = 0;
        if (!v)
                return required ? field_fail(x, POP_EINVAL, "field-missing", key, "is required")
                                : 0;
        if (json_is_integer(v)) {
                *out = json_integer_value(v);
        } else if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t n = json_string_length(v);
                if (n == 0 || n > 15 || strspn(s, "0123456789") != n)
                        return field_fail(x, POP_EINVAL, "field-invalid", key,
                                          "must be a whole number");
                *out = strtoll(s, NULL, 10);
        } else {
                return field_fail(x, POP_EINVAL, "field-type", key, "must be a number");
        }
        if (*out <= 0)
                return field_fail(x, POP_EINVAL, "field-invalid", key, "must be positive");
        json_object_set_new(x->payload, key, json_integer(*out));
        return 0;
}

static int get_sex(struct ev *x, const char *key, int required, enum sex *out)
{
        const char *s;
        int rc = get_str(x, key, required, &s, NULL);
        *out = SEX_UNKNOWN;
        if (rc || !s)
                return rc;
        struct pop_err e = {0};
        if ((rc = sex_parse(s, out, &e)))
                return field_wrap(x, key, rc, &e);
        json_object_set_new(x->payload, key, json_string(sex_name(*out)));
        return 0;
}

/* kind 'n': a person's name (name_normalize); 't': free text (text_normalize). */
static int get_text(struct ev *x, const char *key, int required, char kind, char *out, size_t cap)
{
        const char *s;
        size_t n;
        int rc = get_str(x, key, required, &s, &n);
        if (rc || !s)
                return rc;
        struct pop_err e = {0};
        rc = kind == 'n' ? name_normalize(s, n, out, cap, &e) : text_normalize(s, n, out, cap, &e);
        if (rc)
                return field_wrap(x, key, rc, &e);
        json_object_set_new(x->payload, key, json_string(out));
        return 0;
}

/* A province code valid for an address or registration on the event's date. */
static int check_province(struct ev *x, const char *key, json_t *v, int *out)
{
        char buf[16];
        const char *s;
        size_t n;
        if (json_is_integer(v)) {
                n = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
                s = buf;
        } else if (json_is_string(v)) {
                s = json_string_value(v);
                n = json_string_length(v);
        } else {
                return field_fail(x, POP_EINVAL, "field-type", key, "must be a province code");
        }
        struct pop_err e = {0};
        int rc = region_parse_province(s, n, out, &e);
        if (rc == 0)
                rc = region_check_province(*out, x->date, &e);
        return rc ? field_wrap(x, key, rc, &e) : 0;
}

static int get_province(struct ev *x, const char *key, int required, int *out)
{
        json_t *v = field(x, key);
        *out = 0;
        if (!v)
                return required ? field_fail(x, POP_EINVAL, "field-missing", key, "is required")
                                : 0;
        int rc = check_province(x, key, v, out);
        if (rc == 0) {
                char c[4];
                snprintf(c, sizeof c, "%02d", *out);
                json_object_set_new(x->payload, key, json_string(c));
        }
        return rc;
}

/* {"province": code, "commune": "12345", "line": "12 Phố Huế"}; exactly these keys. */
static int get_address(struct ev *x, const char *key, int required, struct addr *out)
{
        json_t *v = field(x, key);
        memset(out, 0, sizeof *out);
        if (!v)
                return required ? field_fail(x, POP_EINVAL, "field-missing", key, "is required")
                                : 0;
        if (!json_is_object(v))
                return field_fail(x, POP_EINVAL, "field-type", key,
                                  "must be an object {province, commune, line}");
        const char *k;
        json_t *sub;
        json_object_foreach(v, k, sub)
        {
                if (strcmp(k, "province") && strcmp(k, "commune") && strcmp(k, "line")) {
                        char msg[96];
                        snprintf(msg, sizeof msg, "unknown key '%.40s'", k);
                        return field_fail(x, POP_EINVAL, "field-unknown", key, msg);
                }
        }
        json_t *p = json_object_get(v, "province"), *c = json_object_get(v, "commune"),
               *l = json_object_get(v, "line");
        if (!p || !c || !l)
                return field_fail(x, POP_EINVAL, "field-missing", key,
                                  "needs province, commune and line");
        int rc = check_province(x, key, p, &out->province);
        if (rc)
                return rc;
        struct pop_err e = {0};
        if (!json_is_string(c) || !json_is_string(l))
                return field_fail(x, POP_EINVAL, "field-type", key,
                                  "commune and line must be strings");
        if ((rc = region_check_commune(json_string_value(c), json_string_length(c), &e)))
                return field_wrap(x, key, rc, &e);
        memcpy(out->commune, json_string_value(c), 5);
        out->commune[5] = '\0';
        if ((rc = text_normalize(json_string_value(l), json_string_length(l), out->line,
                                 sizeof out->line, &e)))
                return field_wrap(x, key, rc, &e);
        char pc[4];
        snprintf(pc, sizeof pc, "%02d", out->province);
        json_object_set_new(x->payload, key,
                            json_pack("{s:s, s:s, s:s}", "province", pc, "commune", out->commune,
                                      "line", out->line));
        return 0;
}

/* ---- shared rules ---- */

static void fmt_pid(int64_t pid, char out[PID_LEN + 1])
{
        pid_from_int(pid, out);
}

static void add_subject(struct ev *x, int64_t pid)
{
        for (int i = 0; i < x->n_subjects; i++)
                if (x->subjects[i] == pid)
                        return;
        if (pid && x->n_subjects < EVENT_MAX_SUBJECTS)
                x->subjects[x->n_subjects++] = pid;
}

/* Loads a person named by the event; role is the field name, for the message. */
static int load(struct ev *x, int64_t pid, const char *role, struct person *p)
{
        struct pop_err e = {0};
        int rc = store_person_get(x->r->st, pid, p, &e);
        if (rc == POP_ENOTFOUND) {
                char b[PID_LEN + 1];
                fmt_pid(pid, b);
                return pop_fail(x->err, rc, "person-not-found", "%s: %s %s is not in the registry",
                                x->type, role, b);
        }
        if (rc)
                *x->err = e;
        return rc;
}

static int load_living(struct ev *x, int64_t pid, const char *role, struct person *p)
{
        int rc = load(x, pid, role, p);
        if (rc)
                return rc;
        if (p->status == PERSON_DECEASED) {
                char b[PID_LEN + 1], d[11];
                fmt_pid(pid, b);
                pdate_format(p->death_date, d);
                return pop_fail(x->err, POP_ERULE, "person-deceased", "%s: %s %s (%s) died on %s",
                                x->type, role, b, p->full_name, d);
        }
        return 0;
}

/* The event's date may not lie before the person's birth. */
static int after_birth(struct ev *x, const struct person *p)
{
        if (pdate_cmp(x->date, p->dob) < 0) {
                char d[11], b[11];
                pdate_format(x->date, d);
                pdate_format(p->dob, b);
                return pop_fail(x->err, POP_ERULE, "date-before-birth",
                                "%s: date %s is before the birth of %s (%s)", x->type, d,
                                p->full_name, b);
        }
        return 0;
}

static int store_err(struct ev *x, int rc, const struct pop_err *e)
{
        if (x->err != e)
                *x->err = *e;
        return rc;
}

static int save_person(struct ev *x, struct person *p)
{
        struct pop_err e = {0};
        p->updated_at = x->c->now_ms / 1000;
        p->version = x->seq;
        int rc = store_person_update(x->r->st, p, &e);
        return rc ? store_err(x, rc, &e) : 0;
}

/* Appends the event to the journal; must come after all checks and before the projections. */
static int journal(struct ev *x)
{
        struct event e;
        memset(&e, 0, sizeof e);
        snprintf(e.type, sizeof e.type, "%s", x->type);
        memcpy(e.subjects, x->subjects, sizeof e.subjects);
        e.n_subjects = x->n_subjects;
        e.effective = x->date;
        e.recorded_at = x->c->now_ms;
        snprintf(e.actor, sizeof e.actor, "%s", x->c->actor ? x->c->actor : "unknown");
        snprintf(e.legal_basis, sizeof e.legal_basis, "%s", x->basis);
        char *text = json_dumps(x->payload, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        if (!text)
                return pop_fail(x->err, POP_ENOMEM, "nomem", "out of memory");
        e.payload = text;
        e.payload_len = strlen(text);
        struct pop_err err = {0};
        int rc = store_event_append(x->r->st, &e, &err);
        free(text);
        if (rc)
                return store_err(x, rc, &err);
        x->seq = e.seq;
        json_object_set_new(x->result, "seq", json_integer(e.seq));
        return 0;
}

/* Household membership. */
struct members {
        struct residence *v;
        int n, cap;
};

static int collect_member(void *ctx, const struct residence *r)
{
        struct members *m = ctx;
        if (m->n == m->cap) {
                int cap = m->cap ? m->cap * 2 : 16;
                struct residence *nv = realloc(m->v, (size_t)cap * sizeof *nv);
                if (!nv)
                        return POP_ENOMEM;
                m->v = nv;
                m->cap = cap;
        }
        m->v[m->n++] = *r;
        return 0;
}

static int current_members(struct ev *x, int64_t hh, struct members *m)
{
        struct pop_err e = {0};
        struct pdate none = {0, 0, 0};
        memset(m, 0, sizeof *m);
        int rc = store_household_members(x->r->st, hh, none, collect_member, m, &e);
        if (rc == POP_ENOMEM)
                return pop_fail(x->err, rc, "nomem", "out of memory");
        return rc ? store_err(x, rc, &e) : 0;
}

/* LR art. 10(1): the head must have full civil capacity: an adult (CC art. 20: 18 years). */
#define HEAD_MIN_AGE 18

/*
 * `leaver` leaves household hh (residence already ended in the store). When the leaver was its
 * head and others remain, new_head (a remaining living member, an adult if any adult remains)
 * takes over; a household keeps exactly one head (LR art. 10).
 */
static int handover_head(struct ev *x, int64_t hh, int64_t leaver, int64_t new_head)
{
        struct household h;
        struct pop_err e = {0};
        int rc = store_household_get(x->r->st, hh, &h, &e);
        if (rc)
                return store_err(x, rc, &e);
        char b[PID_LEN + 1];
        if (h.head != leaver) {
                if (new_head) {
                        fmt_pid(leaver, b);
                        return pop_fail(x->err, POP_EINVAL, "new-head-unexpected",
                                        "%s: new_head given, but %s is not the head of household "
                                        "%lld",
                                        x->type, b, (long long)hh);
                }
                return 0;
        }
        struct members m;
        if ((rc = current_members(x, hh, &m)))
                return rc;
        int n_left = 0, has_adult = 0, found = -1;
        for (int i = 0; i < m.n; i++) {
                if (m.v[i].pid == leaver)
                        continue;
                struct person p;
                if ((rc = load(x, m.v[i].pid, "member", &p)))
                        goto out;
                n_left++;
                if (date_age_on(p.dob, x->date) >= HEAD_MIN_AGE)
                        has_adult = 1;
                if (m.v[i].pid == new_head)
                        found = i;
        }
        if (n_left == 0) {
                if (new_head)
                        rc = pop_fail(x->err, POP_EINVAL, "new-head-unexpected",
                                      "%s: new_head given, but no one else lives in household %lld",
                                      x->type, (long long)hh);
                goto out;
        }
        if (!new_head) {
                fmt_pid(leaver, b);
                rc = pop_fail(x->err, POP_ERULE, "household-head-required",
                              "%s: %s heads household %lld, where %d other member(s) remain: name "
                              "the new head with new_head (LR art. 10)",
                              x->type, b, (long long)hh, n_left);
                goto out;
        }
        if (found < 0) {
                fmt_pid(new_head, b);
                rc = pop_fail(x->err, POP_ERULE, "household-head-not-member",
                              "%s: new head %s is not a member of household %lld", x->type, b,
                              (long long)hh);
                goto out;
        }
        struct person nh;
        if ((rc = load_living(x, new_head, "new_head", &nh)))
                goto out;
        if (has_adult && date_age_on(nh.dob, x->date) < HEAD_MIN_AGE) {
                rc = pop_fail(x->err, POP_ERULE, "household-head-minor",
                              "%s: the new head must be an adult while the household has one "
                              "(LR art. 10(1))",
                              x->type);
                goto out;
        }
        if ((rc = store_household_head_set(x->r->st, hh, new_head, x->date, &e)))
                rc = store_err(x, rc, &e);
out:
        free(m.v);
        return rc;
}

static const char *const relations[] = {
    "spouse", "child", "parent", "sibling", "grandchild", "grandparent", "relative", "other", NULL};

static int check_relation(struct ev *x, const char *rel)
{
        for (int i = 0; relations[i]; i++)
                if (strcmp(rel, relations[i]) == 0)
                        return 0;
        return pop_fail(x->err, POP_EINVAL, "field-invalid",
                        "%s: field 'relation': '%s' is not one of spouse, child, parent, sibling, "
                        "grandchild, grandparent, relative, other",
                        x->type, rel);
}

/*
 * Registers permanent residence for p on the event's date: in household hh (joining it with
 * `relation`) or, with hh == 0, in a new household at a, headed by p.
 */
static int settle(struct ev *x, const struct person *p, int64_t hh, const char *relation,
                  const struct addr *a, struct residence *out)
{
        struct pop_err e = {0};
        int rc;
        memset(out, 0, sizeof *out);
        out->pid = p->pid;
        out->kind = RESIDENCE_PERMANENT;
        out->valid_from = x->date;
        if (hh) {
                struct household h;
                if ((rc = store_household_get(x->r->st, hh, &h, &e)))
                        return rc == POP_ENOTFOUND ? pop_fail(x->err, rc, "household-not-found",
                                                              "%s: household %lld does not exist",
                                                              x->type, (long long)hh)
                                                   : store_err(x, rc, &e);
                struct members m;
                if ((rc = current_members(x, hh, &m)))
                        return rc;
                free(m.v);
                if (m.n == 0)
                        return pop_fail(x->err, POP_ERULE, "household-dissolved",
                                        "%s: household %lld has no members left; register a new "
                                        "household instead",
                                        x->type, (long long)hh);
                out->household = hh;
                snprintf(out->relation, sizeof out->relation, "%s", relation);
                out->province = h.province;
                memcpy(out->commune, h.commune, sizeof out->commune);
                snprintf(out->address, sizeof out->address, "%s", h.address);
        } else {
                struct household h = {0};
                h.head = p->pid;
                h.province = a->province;
                memcpy(h.commune, a->commune, sizeof h.commune);
                snprintf(h.address, sizeof h.address, "%s", a->line);
                h.created = x->date;
                if ((rc = store_household_insert(x->r->st, &h, &e)) ||
                    (rc = store_household_head_set(x->r->st, h.id, p->pid, x->date, &e)))
                        return store_err(x, rc, &e);
                out->household = h.id;
                snprintf(out->relation, sizeof out->relation, "head");
                out->province = a->province;
                memcpy(out->commune, a->commune, sizeof out->commune);
                snprintf(out->address, sizeof out->address, "%s", a->line);
        }
        if ((rc = store_residence_insert(x->r->st, out, &e)))
                return store_err(x, rc, &e);
        json_object_set_new(x->result, "household", json_integer(out->household));
        return 0;
}

/* Reads household/relation/address fields shared by enrol, birth and residence events. */
static int get_destination(struct ev *x, int64_t *hh, const char **relation, struct addr *a)
{
        int rc;
        if ((rc = get_int(x, "household", 0, hh)) ||
            (rc = get_str(x, "relation", 0, relation, NULL)))
                return rc;
        if ((rc = get_address(x, "address", 0, a)))
                return rc;
        if (*hh && a->province)
                return pop_fail(x->err, POP_EINVAL, "field-conflict",
                                "%s: give either household (to join one) or address (to found a "
                                "new one), not both",
                                x->type);
        if (*relation) {
                if (!*hh)
                        return pop_fail(x->err, POP_EINVAL, "field-conflict",
                                        "%s: relation applies only when joining a household",
                                        x->type);
                if ((rc = check_relation(x, *relation)))
                        return rc;
                json_object_set_new(x->payload, "relation", json_string(*relation));
        }
        return 0;
}

/* Ends an open residence on the event's date. */
static int end_residence(struct ev *x, struct residence *res, const char *reason)
{
        struct pop_err e = {0};
        res->ended = x->date;
        snprintf(res->end_reason, sizeof res->end_reason, "%s", reason);
        int rc = store_residence_update(x->r->st, res, &e);
        return rc ? store_err(x, rc, &e) : 0;
}

/* The open residence of a kind, or POP_ENOTFOUND without touching x->err. */
static int open_residence(struct ev *x, int64_t pid, char kind, struct residence *res)
{
        struct pop_err e = {0};
        int rc = store_residence_current(x->r->st, pid, kind, res, &e);
        if (rc && rc != POP_ENOTFOUND)
                return store_err(x, rc, &e);
        return rc;
}

/* ---- person events ---- */

/* Fills the descriptive fields shared by enrol and birth. */
static int get_person_details(struct ev *x, struct person *p)
{
        int rc;
        if ((rc = get_text(x, "name", 1, 'n', p->full_name, sizeof p->full_name)) ||
            (rc = get_text(x, "hometown", 0, 't', p->hometown, sizeof p->hometown)) ||
            (rc = get_text(x, "ethnicity", 0, 't', p->ethnicity, sizeof p->ethnicity)) ||
            (rc = get_text(x, "religion", 0, 't', p->religion, sizeof p->religion)))
                return rc;
        const char *nat;
        size_t n;
        if ((rc = get_str(x, "nationality", 0, &nat, &n)))
                return rc;
        if (nat) {
                /* ISO 3166-1 alpha-3, as the card and passport records carry it. */
                if (n != 3 || strspn(nat, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
                        return field_fail(x, POP_EINVAL, "field-invalid", "nationality",
                                          "must be an ISO 3166-1 alpha-3 code such as VNM");
                memcpy(p->nationality, nat, 4);
        } else {
                memcpy(p->nationality, "VNM", 4);
        }
        json_object_set_new(x->payload, "nationality", json_string(p->nationality));
        struct pop_err e = {0};
        if ((rc = name_fold(p->full_name, strlen(p->full_name), p->name_fold, sizeof p->name_fold,
                            &e)) ||
            (rc =
                 name_key(p->full_name, strlen(p->full_name), p->name_key, sizeof p->name_key, &e)))
                return field_wrap(x, "name", rc, &e);
        return 0;
}

/*
 * A parent named by a birth or enrolment: exists, has the right sex, was certainly born before
 * the child. Alive at the birth is checked by the caller (rules differ for father and mother).
 */
static int check_parent(struct ev *x, int64_t pid, const char *role, enum sex want,
                        const struct person *child, struct person *out)
{
        int rc = load(x, pid, role, out);
        if (rc)
                return rc;
        char b[PID_LEN + 1];
        fmt_pid(pid, b);
        if (out->sex != want)
                return pop_fail(x->err, POP_ERULE, "parent-sex", "%s: %s %s is %s", x->type, role,
                                b, sex_name(out->sex));
        if (pdate_cmp(out->dob, child->dob) >= 0)
                return pop_fail(x->err, POP_ERULE, "birth-before-parent",
                                "%s: a child cannot be born before its %s %s", x->type, role, b);
        return 0;
}

/* LMF art. 88(1): a child born within 300 days after the marriage ended (the husband's death
 * included) is the husband's; so a father may have died up to 300 days before the birth. */
#define POSTHUMOUS_DAYS 300

static int check_parents_alive(struct ev *x, const struct person *father,
                               const struct person *mother, struct pdate dob)
{
        char d[11];
        if (mother && mother->status == PERSON_DECEASED && pdate_cmp(mother->death_date, dob) < 0) {
                pdate_format(mother->death_date, d);
                return pop_fail(x->err, POP_ERULE, "parent-deceased",
                                "%s: the mother died on %s, before the birth", x->type, d);
        }
        if (father && father->status == PERSON_DECEASED && pdate_is_full(dob) &&
            pdate_cmp(father->death_date, date_add_days(dob, -POSTHUMOUS_DAYS)) < 0) {
                pdate_format(father->death_date, d);
                return pop_fail(x->err, POP_ERULE, "parent-deceased",
                                "%s: the father died on %s, more than %d days before the birth "
                                "(LMF art. 88)",
                                x->type, d, POSTHUMOUS_DAYS);
        }
        return 0;
}

static int ev_enrol(struct ev *x)
{
        struct person p;
        memset(&p, 0, sizeof p);
        int rc;
        int64_t hh;
        const char *relation;
        struct addr a;
        if ((rc = get_pid(x, "pid", 1, &p.pid)) || (rc = get_date(x, "dob", 1, 0, &p.dob)) ||
            (rc = get_sex(x, "sex", 1, &p.sex)) || (rc = get_person_details(x, &p)) ||
            (rc = get_pid(x, "father", 0, &p.father)) ||
            (rc = get_pid(x, "mother", 0, &p.mother)) ||
            (rc = get_province(x, "birth_province", 0, &p.birth_province)) ||
            (rc = get_destination(x, &hh, &relation, &a)))
                return rc;
        char b[PID_LEN + 1];
        fmt_pid(p.pid, b);
        struct pid_info id;
        struct pop_err e = {0};
        if ((rc = pid_parse(b, PID_LEN, &id, &e)) || (rc = pid_check_person(&id, p.dob, p.sex, &e)))
                return pop_fail(x->err, POP_ERULE, "pid-inconsistent", "%s: %s", x->type, e.msg);
        if (!p.birth_province)
                p.birth_province = id.gso; /* 0 for births registered abroad */
        if (pdate_cmp(p.dob, x->c->today) > 0)
                return pop_fail(x->err, POP_ERULE, "date-future", "%s: dob is in the future",
                                x->type);
        if ((rc = after_birth(x, &p)))
                return rc;
        if ((rc = store_person_exists(x->r->st, p.pid, &e)) < 0)
                return store_err(x, rc, &e);
        if (rc == 1)
                return pop_fail(x->err, POP_ECONFLICT, "person-exists",
                                "%s: %s is already in the registry", x->type, b);
        struct person father, mother;
        if (p.father && (rc = check_parent(x, p.father, "father", SEX_MALE, &p, &father)))
                return rc;
        if (p.mother && (rc = check_parent(x, p.mother, "mother", SEX_FEMALE, &p, &mother)))
                return rc;
        if (hh && !relation)
                return field_fail(x, POP_EINVAL, "field-missing", "relation",
                                  "is required when joining a household");
        add_subject(x, p.pid);
        add_subject(x, p.father);
        add_subject(x, p.mother);
        if ((rc = journal(x)))
                return rc;
        p.status = PERSON_LIVING;
        p.created_at = p.updated_at = x->c->now_ms / 1000;
        p.version = x->seq;
        if ((rc = store_person_insert(x->r->st, &p, &e)))
                return store_err(x, rc, &e);
        json_object_set_new(x->result, "pid", json_string(b));
        struct residence res;
        if (hh || a.province)
                return settle(x, &p, hh, relation, &a, &res);
        return 0;
}

/* CC art. 29(2): a child's ethnicity follows the parents; when theirs differ, they agree on it. */
static int birth_ethnicity(struct ev *x, struct person *p, const struct person *father,
                           const struct person *mother)
{
        if (p->ethnicity[0])
                return 0;
        const char *f = father ? father->ethnicity : "", *m = mother ? mother->ethnicity : "";
        if (*f && *m && strcmp(f, m) != 0)
                return pop_fail(x->err, POP_ERULE, "ethnicity-required",
                                "%s: the parents' ethnicities differ (%s, %s): give the one they "
                                "agreed on (CC art. 29)",
                                x->type, f, m);
        snprintf(p->ethnicity, sizeof p->ethnicity, "%s", *f ? f : m);
        return 0;
}

/* pid_allocate's question to the store: is this number already used? */
struct used_ctx {
        struct store *st;
        int rc;
        struct pop_err err;
};

static int pid_used(void *ctx, const char pid[PID_LEN + 1])
{
        struct used_ctx *u = ctx;
        int rc = store_person_exists(u->st, pid_to_int(pid), &u->err);
        if (rc < 0)
                u->rc = rc;
        return rc;
}

static int ev_birth(struct ev *x)
{
        struct person p;
        memset(&p, 0, sizeof p);
        int rc;
        int64_t hh;
        const char *relation;
        struct addr a;
        if ((rc = get_date(x, "dob", 1, 1, &p.dob)) || (rc = get_sex(x, "sex", 1, &p.sex)) ||
            (rc = get_person_details(x, &p)) || (rc = get_pid(x, "father", 0, &p.father)) ||
            (rc = get_pid(x, "mother", 0, &p.mother)) ||
            (rc = get_province(x, "birth_province", 1, &p.birth_province)) ||
            (rc = get_destination(x, &hh, &relation, &a)))
                return rc;
        if (pdate_cmp(p.dob, x->c->today) > 0)
                return pop_fail(x->err, POP_ERULE, "date-future", "%s: dob is in the future",
                                x->type);
        if ((rc = after_birth(x, &p)))
                return rc;
        struct person father, mother;
        const struct person *fp = NULL, *mp = NULL;
        if (p.father) {
                if ((rc = check_parent(x, p.father, "father", SEX_MALE, &p, &father)))
                        return rc;
                fp = &father;
        }
        if (p.mother) {
                if ((rc = check_parent(x, p.mother, "mother", SEX_FEMALE, &p, &mother)))
                        return rc;
                mp = &mother;
        }
        if ((rc = check_parents_alive(x, fp, mp, p.dob)) || (rc = birth_ethnicity(x, &p, fp, mp)))
                return rc;
        if (!p.hometown[0] && (fp || mp))
                snprintf(p.hometown, sizeof p.hometown, "%s", fp ? fp->hometown : mp->hometown);
        json_object_set_new(x->payload, "ethnicity", json_string(p.ethnicity));
        json_object_set_new(x->payload, "hometown", json_string(p.hometown));

        /* LR art. 12(1): a minor lives where the parents live; take the mother's household, else
         * the father's, unless the registrar names another or founds one. */
        struct residence pres;
        struct pop_err e = {0};
        if (!hh && !a.province) {
                for (int i = 0; i < 2 && !hh; i++) {
                        const struct person *par = i == 0 ? mp : fp;
                        if (!par || par->status == PERSON_DECEASED)
                                continue;
                        rc = open_residence(x, par->pid, RESIDENCE_PERMANENT, &pres);
                        if (rc == 0)
                                hh = pres.household;
                        else if (rc != POP_ENOTFOUND)
                                return rc;
                }
                if (!hh)
                        return pop_fail(x->err, POP_ERULE, "birth-household-required",
                                        "%s: no parent has a permanent residence: give household "
                                        "or address (LR art. 12)",
                                        x->type);
                json_object_set_new(x->payload, "household", json_integer(hh));
        }
        if (hh && !relation) {
                int64_t head = 0;
                if ((rc = store_household_head_on(x->r->st, hh, (struct pdate){0, 0, 0}, &head,
                                                  &e)) &&
                    rc != POP_ENOTFOUND)
                        return store_err(x, rc, &e);
                relation = (head && (head == p.father || head == p.mother)) ? "child" : "relative";
                if (head && ((fp && (fp->father == head || fp->mother == head)) ||
                             (mp && (mp->father == head || mp->mother == head))))
                        relation = "grandchild";
                json_object_set_new(x->payload, "relation", json_string(relation));
        }

        /* Decree 137/2015 art. 13: the prefix is the province where the birth is registered. */
        uint32_t next = 0;
        int g = pid_century_sex(p.dob.y, p.sex);
        int64_t series = (int64_t)p.birth_province * 1000 + g * 100 + p.dob.y % 100;
        if ((rc = store_series_get(x->r->st, series, &next, &e)))
                return store_err(x, rc, &e);
        char b[PID_LEN + 1];
        struct used_ctx uc = {.st = x->r->st};
        rc = pid_allocate(x->r->alloc_key, p.birth_province, p.dob.y, p.sex, &next, pid_used, &uc,
                          b, &e);
        if (rc)
                return uc.rc ? store_err(x, uc.rc, &uc.err) : store_err(x, rc, &e);
        if ((rc = store_series_set(x->r->st, series, next, &e)))
                return store_err(x, rc, &e);
        p.pid = pid_to_int(b);
        p.status = PERSON_LIVING;
        p.created_at = p.updated_at = x->c->now_ms / 1000;
        json_object_set_new(x->payload, "pid", json_string(b));
        add_subject(x, p.pid);
        add_subject(x, p.father);
        add_subject(x, p.mother);
        if ((rc = journal(x)))
                return rc;
        p.version = x->seq;
        if ((rc = store_person_insert(x->r->st, &p, &e)))
                return store_err(x, rc, &e);
        json_object_set_new(x->result, "pid", json_string(b));
        struct residence res;
        return settle(x, &p, hh, relation, &a, &res);
}

static int ev_death(struct ev *x)
{
        struct person p;
        int64_t pid, new_head;
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) || (rc = get_pid(x, "new_head", 0, &new_head)) ||
            (rc = load_living(x, pid, "pid", &p)) || (rc = after_birth(x, &p)))
                return rc;
        add_subject(x, pid);
        add_subject(x, p.spouse);
        if ((rc = journal(x)))
                return rc;
        struct pop_err e = {0};
        /* LR art. 24(1)(a), art. 29(1)(a): death ends permanent and temporary residence. */
        struct residence res;
        if ((rc = open_residence(x, pid, RESIDENCE_PERMANENT, &res)) == 0) {
                if ((rc = end_residence(x, &res, "deceased")) ||
                    (rc = handover_head(x, res.household, pid, new_head)))
                        return rc;
        } else if (rc != POP_ENOTFOUND) {
                return rc;
        } else if (new_head) {
                return pop_fail(x->err, POP_EINVAL, "new-head-unexpected",
                                "%s: new_head given, but the person has no household", x->type);
        }
        if ((rc = open_residence(x, pid, RESIDENCE_TEMPORARY, &res)) == 0) {
                if ((rc = end_residence(x, &res, "deceased")))
                        return rc;
        } else if (rc != POP_ENOTFOUND) {
                return rc;
        }
        /* LI art. 22(1): the card of a person who died is revoked. */
        struct card c;
        rc = store_card_current(x->r->st, pid, &c, &e);
        if (rc == 0) {
                c.status = CARD_REVOKED;
                c.status_date = x->date;
                snprintf(c.reason, sizeof c.reason, "deceased");
                if ((rc = store_card_update(x->r->st, &c, &e)))
                        return store_err(x, rc, &e);
        } else if (rc != POP_ENOTFOUND) {
                return store_err(x, rc, &e);
        }
        /* LI art. 34(1)(d): the eID account of a person who died is closed (src/eid/). */
        if ((rc = eid_close_on_death(x->r->st, pid, x->c->now_ms, &e)))
                return store_err(x, rc, &e);
        if (p.spouse) {
                struct person s;
                if ((rc = load(x, p.spouse, "spouse", &s)))
                        return rc;
                /* LMF art. 65: the marriage ends when a spouse dies, for both of them. */
                s.spouse = 0;
                if ((rc = save_person(x, &s)))
                        return rc;
                p.spouse = 0;
        }
        p.status = PERSON_DECEASED;
        p.death_date = x->date;
        return save_person(x, &p);
}

/* LMF art. 8(1)(a): men from 20, women from 18 (full years). */
#define MARRY_AGE_MALE   20
#define MARRY_AGE_FEMALE 18

/* The person, the parents and the grandparents: LMF art. 3(18) and art. 5(2)(d) forbid marriage
 * between relatives within three generations (a common ancestor no further than a grandparent).
 * Unknown links count as no link. */
static int kin_set(struct ev *x, const struct person *p, int64_t out[7])
{
        memset(out, 0, 7 * sizeof out[0]);
        out[0] = p->pid;
        out[1] = p->father;
        out[2] = p->mother;
        for (int i = 0; i < 2; i++) {
                int64_t par = i ? p->mother : p->father;
                if (!par)
                        continue;
                struct person pp;
                int rc = load(x, par, "parent", &pp);
                if (rc)
                        return rc;
                out[3 + 2 * i] = pp.father;
                out[4 + 2 * i] = pp.mother;
        }
        return 0;
}

/* LMF art. 3(17), 5(2)(d): the direct line of blood has no limit of generations, so the walk up
 * the recorded parents goes past the grandparents; it stops after ANCESTORS_MAX records, more
 * generations than living people span. */
#define ANCESTORS_MAX 256

/* 1 when anc is a recorded ancestor of p, 0 when not, negative on failure. */
static int is_ancestor(struct ev *x, const struct person *p, int64_t anc)
{
        int64_t todo[ANCESTORS_MAX];
        int n = 0;
        if (p->father)
                todo[n++] = p->father;
        if (p->mother)
                todo[n++] = p->mother;
        for (int i = 0; i < n; i++) {
                if (todo[i] == anc)
                        return 1;
                struct person q;
                int rc = load(x, todo[i], "ancestor", &q);
                if (rc)
                        return rc;
                if (q.father && n < ANCESTORS_MAX)
                        todo[n++] = q.father;
                if (q.mother && n < ANCESTORS_MAX)
                        todo[n++] = q.mother;
        }
        return 0;
}

static int ev_marriage(struct ev *x)
{
        int64_t ia, ib;
        struct person a, b;
        int rc;
        if ((rc = get_pid(x, "a", 1, &ia)) || (rc = get_pid(x, "b", 1, &ib)))
                return rc;
        if (ia == ib)
                return pop_fail(x->err, POP_EINVAL, "field-invalid",
                                "%s: a and b are the same person", x->type);
        if ((rc = load_living(x, ia, "a", &a)) || (rc = load_living(x, ib, "b", &b)) ||
            (rc = after_birth(x, &a)) || (rc = after_birth(x, &b)))
                return rc;
        const struct person *pair[2] = {&a, &b};
        for (int i = 0; i < 2; i++) {
                const struct person *q = pair[i];
                char id[PID_LEN + 1];
                fmt_pid(q->pid, id);
                if (q->spouse)
                        return pop_fail(x->err, POP_ERULE, "marriage-already-married",
                                        "%s: %s is already married (LMF art. 5(2)(c))", x->type,
                                        id);
                int min = q->sex == SEX_MALE ? MARRY_AGE_MALE : MARRY_AGE_FEMALE;
                if (date_age_on(q->dob, x->date) < min)
                        return pop_fail(
                            x->err, POP_ERULE, "marriage-age",
                            "%s: %s is under %d on the date of marriage (LMF art. 8(1))", x->type,
                            id, min);
        }
        /* LMF art. 8(2): the State does not recognise marriage between people of the same sex. */
        if (a.sex == b.sex)
                return pop_fail(x->err, POP_ERULE, "marriage-same-sex",
                                "%s: marriage between people of the same sex is not recognised "
                                "(LMF art. 8(2))",
                                x->type);
        int64_t ka[7], kb[7];
        if ((rc = kin_set(x, &a, ka)) || (rc = kin_set(x, &b, kb)))
                return rc;
        int kin = 0;
        for (int i = 0; i < 7; i++)
                for (int j = 0; j < 7; j++)
                        kin |= ka[i] && ka[i] == kb[j];
        if (!kin && (kin = is_ancestor(x, &a, ib)) == 0)
                kin = is_ancestor(x, &b, ia);
        if (kin < 0)
                return kin;
        if (kin)
                return pop_fail(x->err, POP_ERULE, "marriage-kinship",
                                "%s: the two are related in the direct line or within three "
                                "generations (LMF art. 5(2)(d))",
                                x->type);
        add_subject(x, ia);
        add_subject(x, ib);
        if ((rc = journal(x)))
                return rc;
        a.spouse = ib;
        b.spouse = ia;
        if ((rc = save_person(x, &a)))
                return rc;
        return save_person(x, &b);
}

static int ev_divorce(struct ev *x)
{
        int64_t ia, ib;
        struct person a, b;
        int rc;
        if ((rc = get_pid(x, "a", 1, &ia)) || (rc = get_pid(x, "b", 1, &ib)) ||
            (rc = load_living(x, ia, "a", &a)) || (rc = load_living(x, ib, "b", &b)))
                return rc;
        if (a.spouse != ib || b.spouse != ia)
                return pop_fail(x->err, POP_ERULE, "divorce-not-married",
                                "%s: the two are not married to each other", x->type);
        add_subject(x, ia);
        add_subject(x, ib);
        if ((rc = journal(x)))
                return rc;
        a.spouse = b.spouse = 0;
        if ((rc = save_person(x, &a)))
                return rc;
        return save_person(x, &b);
}

/* Which fields a correction may change; the rest of the record is the registry's own. */
static int ev_correction(struct ev *x)
{
        int64_t pid;
        struct person p;
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) || (rc = load(x, pid, "pid", &p)))
                return rc;
        struct person n = p;
        n.full_name[0] = n.hometown[0] = n.ethnicity[0] = n.religion[0] = '\0';
        n.dob = (struct pdate){0, 0, 0};
        n.sex = SEX_UNKNOWN;
        n.birth_province = 0;
        const char *nat = NULL;
        size_t natlen;
        if ((rc = get_text(x, "name", 0, 'n', n.full_name, sizeof n.full_name)) ||
            (rc = get_date(x, "dob", 0, 0, &n.dob)) || (rc = get_sex(x, "sex", 0, &n.sex)) ||
            (rc = get_text(x, "hometown", 0, 't', n.hometown, sizeof n.hometown)) ||
            (rc = get_text(x, "ethnicity", 0, 't', n.ethnicity, sizeof n.ethnicity)) ||
            (rc = get_province(x, "birth_province", 0, &n.birth_province)) ||
            (rc = get_str(x, "nationality", 0, &nat, &natlen)))
                return rc;
        /* Religion "" (none) clears it; get_text refuses empty text, so it is taken as given. */
        json_t *rel = field(x, "religion");
        if (rel && json_is_string(rel) && json_string_length(rel) == 0)
                json_object_set_new(x->payload, "religion", json_string(""));
        else if ((rc = get_text(x, "religion", 0, 't', n.religion, sizeof n.religion)))
                return rc;
        int changed = 0;
        json_t *old = json_object();
        json_object_set_new(x->payload, "before", old);
#define CHANGE_TEXT(f, key)                                                                        \
        if (n.f[0] && strcmp(n.f, p.f) != 0) {                                                     \
                json_object_set_new(old, key, json_string(p.f));                                   \
                memcpy(p.f, n.f, sizeof p.f);                                                      \
                changed++;                                                                         \
        }
        CHANGE_TEXT(full_name, "name")
        CHANGE_TEXT(hometown, "hometown")
        CHANGE_TEXT(ethnicity, "ethnicity")
#undef CHANGE_TEXT
        if (rel && strcmp(n.religion, p.religion) != 0) {
                json_object_set_new(old, "religion", json_string(p.religion));
                memcpy(p.religion, n.religion, sizeof p.religion);
                changed++;
        }
        if (!pdate_is_none(n.dob) && memcmp(&n.dob, &p.dob, sizeof n.dob) != 0) {
                json_object_set_new(old, "dob", reg__date_json(p.dob));
                p.dob = n.dob;
                changed++;
        }
        if (n.sex != SEX_UNKNOWN && n.sex != p.sex) {
                json_object_set_new(old, "sex", json_string(sex_name(p.sex)));
                p.sex = n.sex;
                changed++;
        }
        if (n.birth_province && n.birth_province != p.birth_province) {
                json_object_set_new(old, "birth_province", reg_render_province(p.birth_province));
                p.birth_province = n.birth_province;
                changed++;
        }
        if (nat) {
                if (natlen != 3 || strspn(nat, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
                        return field_fail(x, POP_EINVAL, "field-invalid", "nationality",
                                          "must be an ISO 3166-1 alpha-3 code such as VNM");
                json_object_set_new(x->payload, "nationality", json_string(nat));
                if (strcmp(nat, p.nationality) != 0) {
                        json_object_set_new(old, "nationality", json_string(p.nationality));
                        memcpy(p.nationality, nat, 4);
                        changed++;
                }
        }
        if (!changed)
                return pop_fail(x->err, POP_EINVAL, "correction-empty",
                                "%s: nothing to correct: give at least one field that differs",
                                x->type);
        /* LI art. 12: the personal ID number is for life and is never reissued, so a correction
         * may not contradict the birth year or sex it encodes. */
        char b[PID_LEN + 1];
        fmt_pid(pid, b);
        struct pid_info id;
        struct pop_err e = {0};
        if ((rc = pid_parse(b, PID_LEN, &id, &e)) || (rc = pid_check_person(&id, p.dob, p.sex, &e)))
                return pop_fail(x->err, POP_ERULE, "pid-inconsistent",
                                "%s: the correction contradicts the personal ID number: %s",
                                x->type, e.msg);
        if (pdate_cmp(p.dob, x->c->today) > 0)
                return pop_fail(x->err, POP_ERULE, "date-future", "%s: dob is in the future",
                                x->type);
        if ((rc = name_fold(p.full_name, strlen(p.full_name), p.name_fold, sizeof p.name_fold,
                            &e)) ||
            (rc = name_key(p.full_name, strlen(p.full_name), p.name_key, sizeof p.name_key, &e)))
                return store_err(x, rc, &e);
        add_subject(x, pid);
        if ((rc = journal(x)))
                return rc;
        return save_person(x, &p);
}

/* ---- residence events ---- */

static int ev_residence_register(struct ev *x, int move)
{
        int64_t pid, hh, new_head;
        const char *relation;
        struct addr a;
        struct person p;
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) || (rc = get_destination(x, &hh, &relation, &a)) ||
            (rc = get_pid(x, "new_head", 0, &new_head)) || (rc = load_living(x, pid, "pid", &p)) ||
            (rc = after_birth(x, &p)))
                return rc;
        if (!hh && !a.province)
                return pop_fail(x->err, POP_EINVAL, "field-missing",
                                "%s: give household (to join one) or address (to found a new one)",
                                x->type);
        if (hh && !relation)
                return field_fail(x, POP_EINVAL, "field-missing", "relation",
                                  "is required when joining a household");
        struct residence cur;
        rc = open_residence(x, pid, RESIDENCE_PERMANENT, &cur);
        if (rc && rc != POP_ENOTFOUND)
                return rc;
        /* LR art. 2(8), art. 20: one permanent residence at a time; a new one is a move. */
        if (!move && rc == 0)
                return pop_fail(x->err, POP_ERULE, "residence-exists",
                                "%s: the person already has a permanent residence (household "
                                "%lld): use residence.move",
                                x->type, (long long)cur.household);
        if (move && rc == POP_ENOTFOUND)
                return pop_fail(x->err, POP_ERULE, "residence-none",
                                "%s: the person has no permanent residence: use "
                                "residence.register",
                                x->type);
        if (!move && new_head)
                return pop_fail(x->err, POP_EINVAL, "new-head-unexpected",
                                "%s: new_head applies only to residence.move", x->type);
        add_subject(x, pid);
        if (move) {
                if (hh == cur.household)
                        return pop_fail(x->err, POP_ERULE, "residence-same",
                                        "%s: the person already lives in household %lld", x->type,
                                        (long long)hh);
                if (pdate_cmp(x->date, cur.valid_from) < 0)
                        return pop_fail(x->err, POP_ERULE, "date-order",
                                        "%s: the move predates the current residence", x->type);
                json_object_set_new(x->payload, "from_household", json_integer(cur.household));
                if ((rc = journal(x)) || (rc = end_residence(x, &cur, "moved")) ||
                    (rc = handover_head(x, cur.household, pid, new_head)))
                        return rc;
        } else if ((rc = journal(x))) {
                return rc;
        }
        struct residence res;
        return settle(x, &p, hh, relation, &a, &res);
}

static int ev_residence_register_new(struct ev *x)
{
        return ev_residence_register(x, 0);
}

static int ev_residence_move(struct ev *x)
{
        return ev_residence_register(x, 1);
}

/* LR art. 24: deregistration of permanent residence (emigration, court decision, ...). */
static int ev_residence_deregister(struct ev *x)
{
        int64_t pid, new_head;
        char reason[REC_SHORT];
        struct person p;
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) || (rc = get_pid(x, "new_head", 0, &new_head)) ||
            (rc = get_text(x, "reason", 1, 't', reason, sizeof reason)) ||
            (rc = load_living(x, pid, "pid", &p)))
                return rc;
        struct residence cur;
        if ((rc = open_residence(x, pid, RESIDENCE_PERMANENT, &cur)) == POP_ENOTFOUND)
                return pop_fail(x->err, POP_ERULE, "residence-none",
                                "%s: the person has no permanent residence", x->type);
        if (rc)
                return rc;
        if (pdate_cmp(x->date, cur.valid_from) < 0)
                return pop_fail(x->err, POP_ERULE, "date-order",
                                "%s: the date predates the current residence", x->type);
        add_subject(x, pid);
        if ((rc = journal(x)) || (rc = end_residence(x, &cur, reason)))
                return rc;
        return handover_head(x, cur.household, pid, new_head);
}

/* LR art. 27(3): a temporary residence lasts at most 2 years, and may be extended. */
#define TEMP_MAX_YEARS 2

static int temp_until_ok(struct ev *x, struct pdate from, struct pdate until)
{
        if (pdate_cmp(until, from) <= 0)
                return pop_fail(x->err, POP_EINVAL, "field-invalid",
                                "%s: field 'until' must be after the start", x->type);
        if (pdate_cmp(until, date_add_years(from, TEMP_MAX_YEARS)) > 0)
                return pop_fail(x->err, POP_ERULE, "temporary-too-long",
                                "%s: a temporary residence lasts at most %d years (LR art. 27(3))",
                                x->type, TEMP_MAX_YEARS);
        return 0;
}

/* The open temporary residence; one that lapsed before `on` is closed as expired. */
static int current_temporary(struct ev *x, int64_t pid, struct residence *res)
{
        int rc = open_residence(x, pid, RESIDENCE_TEMPORARY, res);
        if (rc)
                return rc;
        if (!pdate_is_none(res->valid_to) && pdate_cmp(res->valid_to, x->date) < 0) {
                struct pop_err e = {0};
                res->ended = res->valid_to;
                snprintf(res->end_reason, sizeof res->end_reason, "expired");
                if ((rc = store_residence_update(x->r->st, res, &e)))
                        return store_err(x, rc, &e);
                return POP_ENOTFOUND;
        }
        return 0;
}

static int ev_temporary_register(struct ev *x)
{
        int64_t pid;
        struct addr a;
        struct pdate until;
        struct person p;
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) || (rc = get_address(x, "address", 1, &a)) ||
            (rc = get_date(x, "until", 1, 1, &until)) || (rc = load_living(x, pid, "pid", &p)) ||
            (rc = after_birth(x, &p)) || (rc = temp_until_ok(x, x->date, until)))
                return rc;
        struct residence cur;
        if ((rc = current_temporary(x, pid, &cur)) == 0)
                return pop_fail(x->err, POP_ERULE, "temporary-exists",
                                "%s: the person already has a temporary residence until %s: use "
                                "temporary.extend, or deregister it first",
                                x->type, json_string_value(json_object_get(x->payload, "until")));
        if (rc != POP_ENOTFOUND)
                return rc;
        /* LR art. 27(1): temporary residence is for living outside the commune of permanent
         * residence. */
        if ((rc = open_residence(x, pid, RESIDENCE_PERMANENT, &cur)) == 0 &&
            strcmp(cur.commune, a.commune) == 0)
                return pop_fail(
                    x->err, POP_ERULE, "temporary-same-commune",
                    "%s: commune %s is the person's permanent residence (LR art. 27(1))", x->type,
                    a.commune);
        if (rc && rc != POP_ENOTFOUND)
                return rc;
        add_subject(x, pid);
        if ((rc = journal(x)))
                return rc;
        struct residence res = {0};
        res.pid = pid;
        res.kind = RESIDENCE_TEMPORARY;
        res.province = a.province;
        memcpy(res.commune, a.commune, sizeof res.commune);
        snprintf(res.address, sizeof res.address, "%s", a.line);
        res.valid_from = x->date;
        res.valid_to = until;
        struct pop_err e = {0};
        if ((rc = store_residence_insert(x->r->st, &res, &e)))
                return store_err(x, rc, &e);
        return 0;
}

/* LR art. 28: extension before the temporary residence lapses, up to 2 more years. */
static int ev_temporary_extend(struct ev *x)
{
        int64_t pid;
        struct pdate until;
        struct person p;
        struct residence cur;
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) || (rc = get_date(x, "until", 1, 1, &until)) ||
            (rc = load_living(x, pid, "pid", &p)))
                return rc;
        if ((rc = current_temporary(x, pid, &cur)) == POP_ENOTFOUND)
                return pop_fail(x->err, POP_ERULE, "temporary-none",
                                "%s: the person has no current temporary residence (a lapsed one "
                                "cannot be extended: register anew)",
                                x->type);
        if (rc)
                return rc;
        if (pdate_cmp(until, cur.valid_to) <= 0)
                return pop_fail(x->err, POP_EINVAL, "field-invalid",
                                "%s: field 'until' must be after the current end", x->type);
        if ((rc = temp_until_ok(x, cur.valid_to, until)))
                return rc;
        json_object_set_new(x->payload, "previous_until", reg__date_json(cur.valid_to));
        add_subject(x, pid);
        if ((rc = journal(x)))
                return rc;
        cur.valid_to = until;
        struct pop_err e = {0};
        if ((rc = store_residence_update(x->r->st, &cur, &e)))
                return store_err(x, rc, &e);
        return 0;
}

/* LR art. 29: deregistration of temporary residence. */
static int ev_temporary_deregister(struct ev *x)
{
        int64_t pid;
        char reason[REC_SHORT] = "deregistered";
        struct person p;
        struct residence cur;
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) ||
            (rc = get_text(x, "reason", 0, 't', reason, sizeof reason)) ||
            (rc = load_living(x, pid, "pid", &p)))
                return rc;
        if ((rc = current_temporary(x, pid, &cur)) == POP_ENOTFOUND)
                return pop_fail(x->err, POP_ERULE, "temporary-none",
                                "%s: the person has no current temporary residence", x->type);
        if (rc)
                return rc;
        if (pdate_cmp(x->date, cur.valid_from) < 0)
                return pop_fail(x->err, POP_ERULE, "date-order",
                                "%s: the date predates the temporary residence", x->type);
        add_subject(x, pid);
        if ((rc = journal(x)))
                return rc;
        return end_residence(x, &cur, reason);
}

/* LR art. 10: the members choose a new head; the head must be a member. */
static int ev_household_head(struct ev *x)
{
        int64_t hh, pid;
        struct person p;
        int rc;
        if ((rc = get_int(x, "household", 1, &hh)) || (rc = get_pid(x, "pid", 1, &pid)) ||
            (rc = load_living(x, pid, "pid", &p)))
                return rc;
        struct household h;
        struct pop_err e = {0};
        if ((rc = store_household_get(x->r->st, hh, &h, &e)))
                return rc == POP_ENOTFOUND
                           ? pop_fail(x->err, rc, "household-not-found",
                                      "%s: household %lld does not exist", x->type, (long long)hh)
                           : store_err(x, rc, &e);
        if (h.head == pid)
                return pop_fail(x->err, POP_ERULE, "household-head-same",
                                "%s: the person already heads household %lld", x->type,
                                (long long)hh);
        struct residence cur;
        rc = open_residence(x, pid, RESIDENCE_PERMANENT, &cur);
        if (rc == POP_ENOTFOUND || (rc == 0 && cur.household != hh))
                return pop_fail(x->err, POP_ERULE, "household-head-not-member",
                                "%s: the new head must live in household %lld", x->type,
                                (long long)hh);
        if (rc)
                return rc;
        if (date_age_on(p.dob, x->date) < HEAD_MIN_AGE) {
                struct members m;
                if ((rc = current_members(x, hh, &m)))
                        return rc;
                int adult = 0;
                for (int i = 0; i < m.n && !adult && rc == 0; i++) {
                        struct person q;
                        if ((rc = load(x, m.v[i].pid, "member", &q)) == 0)
                                adult = q.status == PERSON_LIVING &&
                                        date_age_on(q.dob, x->date) >= HEAD_MIN_AGE;
                }
                free(m.v);
                if (rc)
                        return rc;
                if (adult)
                        return pop_fail(x->err, POP_ERULE, "household-head-minor",
                                        "%s: the new head must be an adult while the household has "
                                        "one (LR art. 10(1))",
                                        x->type);
        }
        add_subject(x, pid);
        add_subject(x, h.head);
        if ((rc = journal(x)))
                return rc;
        if ((rc = store_household_head_set(x->r->st, hh, pid, x->date, &e)))
                return store_err(x, rc, &e);
        return 0;
}

/* ---- identity cards ---- */

static int card_new(struct ev *x, const struct person *p)
{
        struct card c = {0};
        struct pop_err e = {0};
        c.pid = p->pid;
        c.issued = x->date;
        c.status = CARD_VALID;
        int rc = idcard_expiry(p->dob, x->date, &c.expires, &c.never_expires, &e);
        if (rc)
                return store_err(x, rc, &e);
        if ((rc = store_card_insert(x->r->st, &c, &e)))
                return store_err(x, rc, &e);
        json_object_set_new(x->result, "card", reg_render_card(&c));
        return 0;
}

static int ev_card_issue(struct ev *x)
{
        int64_t pid;
        struct person p;
        struct card c;
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) || (rc = load_living(x, pid, "pid", &p)) ||
            (rc = after_birth(x, &p)))
                return rc;
        /* LI art. 18-19: the identity card is issued to Vietnamese citizens. */
        if (strcmp(p.nationality, "VNM") != 0)
                return pop_fail(
                    x->err, POP_ERULE, "card-not-citizen",
                    "%s: identity cards are issued to Vietnamese citizens (LI art. 19); "
                    "nationality is %s",
                    x->type, p.nationality);
        struct pop_err e = {0};
        rc = store_card_current(x->r->st, pid, &c, &e);
        if (rc == 0) {
                char d[11];
                pdate_format(c.issued, d);
                return pop_fail(x->err, POP_ERULE, "card-exists",
                                "%s: the person holds a valid card issued on %s: use card.renew",
                                x->type, d);
        }
        if (rc != POP_ENOTFOUND)
                return store_err(x, rc, &e);
        add_subject(x, pid);
        if ((rc = journal(x)))
                return rc;
        return card_new(x, &p);
}

/* Ends the valid card (status lost, revoked or replaced); POP_ERULE when there is none. */
static int card_end(struct ev *x, int64_t pid, enum card_status st, const char *reason)
{
        struct card c;
        struct pop_err e = {0};
        int rc = store_card_current(x->r->st, pid, &c, &e);
        if (rc == POP_ENOTFOUND)
                return pop_fail(x->err, POP_ERULE, "card-none",
                                "%s: the person holds no valid card", x->type);
        if (rc)
                return store_err(x, rc, &e);
        if (pdate_cmp(x->date, c.issued) < 0)
                return pop_fail(x->err, POP_ERULE, "date-order",
                                "%s: the date predates the card's issue", x->type);
        c.status = st;
        c.status_date = x->date;
        snprintf(c.reason, sizeof c.reason, "%s", reason);
        if ((rc = store_card_update(x->r->st, &c, &e)))
                return store_err(x, rc, &e);
        return 0;
}

/* LI art. 21-24: renewal (cấp đổi) replaces the valid card. Checks run before the journal. */
static int ev_card_renew(struct ev *x)
{
        int64_t pid;
        struct person p;
        struct card c;
        char reason[REC_SHORT] = "renewal";
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) ||
            (rc = get_text(x, "reason", 0, 't', reason, sizeof reason)) ||
            (rc = load_living(x, pid, "pid", &p)))
                return rc;
        struct pop_err e = {0};
        rc = store_card_current(x->r->st, pid, &c, &e);
        if (rc == POP_ENOTFOUND)
                return pop_fail(x->err, POP_ERULE, "card-none",
                                "%s: the person holds no valid card: use card.issue", x->type);
        if (rc)
                return store_err(x, rc, &e);
        add_subject(x, pid);
        if ((rc = journal(x)) || (rc = card_end(x, pid, CARD_REPLACED, reason)))
                return rc;
        return card_new(x, &p);
}

static int ev_card_lost(struct ev *x)
{
        int64_t pid;
        struct person p;
        struct card c;
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) || (rc = load_living(x, pid, "pid", &p)))
                return rc;
        struct pop_err e = {0};
        if ((rc = store_card_current(x->r->st, pid, &c, &e)) == POP_ENOTFOUND)
                return pop_fail(x->err, POP_ERULE, "card-none",
                                "%s: the person holds no valid card", x->type);
        if (rc)
                return store_err(x, rc, &e);
        add_subject(x, pid);
        if ((rc = journal(x)))
                return rc;
        return card_end(x, pid, CARD_LOST, "reported lost");
}

/* LI art. 22(1): revocation (thu hồi), with the reason the decision gives. */
static int ev_card_revoke(struct ev *x)
{
        int64_t pid;
        struct person p;
        struct card c;
        char reason[REC_SHORT];
        int rc;
        if ((rc = get_pid(x, "pid", 1, &pid)) ||
            (rc = get_text(x, "reason", 1, 't', reason, sizeof reason)) ||
            (rc = load(x, pid, "pid", &p)))
                return rc;
        struct pop_err e = {0};
        if ((rc = store_card_current(x->r->st, pid, &c, &e)) == POP_ENOTFOUND)
                return pop_fail(x->err, POP_ERULE, "card-none",
                                "%s: the person holds no valid card", x->type);
        if (rc)
                return store_err(x, rc, &e);
        add_subject(x, pid);
        if ((rc = journal(x)))
                return rc;
        return card_end(x, pid, CARD_REVOKED, reason);
}

/* ---- the table and the entry point ---- */

typedef int ev_fn(struct ev *x);

struct ev_type {
        const char *name;
        ev_fn *fn;
        const char *basis; /* default legal basis, recorded when the caller gives none */
        const char *const fields[16];
};

static const struct ev_type types[] = {
    {"enrol",
     ev_enrol,
     "Decree 137/2015/ND-CP art. 11: collection of citizen data into the national database",
     {"pid", "name", "dob", "sex", "birth_province", "hometown", "ethnicity", "religion",
      "nationality", "father", "mother", "household", "relation", "address"}},
    {"birth",
     ev_birth,
     "Law on Civil Status 2014 art. 13-17: birth registration",
     {"name", "dob", "sex", "birth_province", "hometown", "ethnicity", "religion", "nationality",
      "father", "mother", "household", "relation", "address"}},
    {"death",
     ev_death,
     "Law on Civil Status 2014 art. 32-34: death registration",
     {"pid", "new_head"}},
    {"marriage",
     ev_marriage,
     "Law on Civil Status 2014 art. 17-18: marriage registration",
     {"a", "b"}},
    {"divorce",
     ev_divorce,
     "Law on Marriage and Family 2014 art. 51-57: divorce by court ruling",
     {"a", "b"}},
    {"correction",
     ev_correction,
     "Law on Civil Status 2014 art. 26-28: civil status correction",
     {"pid", "name", "dob", "sex", "hometown", "ethnicity", "religion", "nationality",
      "birth_province"}},
    {"residence.register",
     ev_residence_register_new,
     "Law on Residence 2020 art. 20-22: permanent residence registration",
     {"pid", "household", "relation", "address"}},
    {"residence.move",
     ev_residence_move,
     "Law on Residence 2020 art. 20-22: permanent residence registration at a new place",
     {"pid", "household", "relation", "address", "new_head"}},
    {"residence.deregister",
     ev_residence_deregister,
     "Law on Residence 2020 art. 24: deregistration of permanent residence",
     {"pid", "reason", "new_head"}},
    {"temporary.register",
     ev_temporary_register,
     "Law on Residence 2020 art. 27-28: temporary residence registration",
     {"pid", "address", "until"}},
    {"temporary.extend",
     ev_temporary_extend,
     "Law on Residence 2020 art. 28: extension of temporary residence",
     {"pid", "until"}},
    {"temporary.deregister",
     ev_temporary_deregister,
     "Law on Residence 2020 art. 29: deregistration of temporary residence",
     {"pid", "reason"}},
    {"household.head",
     ev_household_head,
     "Law on Residence 2020 art. 10 and 26: change of household head",
     {"household", "pid"}},
    {"card.issue",
     ev_card_issue,
     "Law on Identity 2023 art. 19, 23: identity card issuance",
     {"pid"}},
    {"card.renew",
     ev_card_renew,
     "Law on Identity 2023 art. 21, 24: identity card renewal",
     {"pid", "reason"}},
    {"card.lost", ev_card_lost, "Law on Identity 2023 art. 24: loss of identity card", {"pid"}},
    {"card.revoke",
     ev_card_revoke,
     "Law on Identity 2023 art. 22: identity card revocation",
     {"pid", "reason"}},
};
#define N_TYPES ((int)(sizeof types / sizeof types[0]))

const struct reg_event_type reg_event_types[] = {
    {"enrol", "record an existing person from legacy records", "pid name dob sex [...]"},
    {"birth", "register a birth; allocates the personal ID", "name dob sex birth_province"},
    {"death", "register a death", "pid [new_head]"},
    {"marriage", "register a marriage", "a b"},
    {"divorce", "record a divorce", "a b"},
    {"correction", "correct name or details", "pid field..."},
    {"residence.register", "register permanent residence", "pid household|address"},
    {"residence.move", "move permanent residence", "pid household|address [new_head]"},
    {"residence.deregister", "deregister permanent residence", "pid reason [new_head]"},
    {"temporary.register", "register temporary residence", "pid address until"},
    {"temporary.extend", "extend temporary residence", "pid until"},
    {"temporary.deregister", "deregister temporary residence", "pid [reason]"},
    {"household.head", "change the head of a household", "household pid"},
    {"card.issue", "issue an identity card", "pid"},
    {"card.renew", "renew the identity card", "pid [reason]"},
    {"card.lost", "report the identity card lost", "pid"},
    {"card.revoke", "revoke the identity card", "pid reason"},
    {NULL, NULL, NULL},
};

static int check_fields(struct ev *x, const struct ev_type *t)
{
        const char *key;
        json_t *v;
        json_object_foreach(x->in, key, v)
        {
                if (!strcmp(key, "type") || !strcmp(key, "date") || !strcmp(key, "legal_basis"))
                        continue;
                int ok = 0;
                for (int i = 0; t->fields[i] && !ok; i++)
                        ok = strcmp(key, t->fields[i]) == 0;
                if (!ok)
                        return pop_fail(x->err, POP_EINVAL, "field-unknown",
                                        "%s: unknown field '%.64s'", t->name, key);
        }
        return 0;
}

/*
 * ---- where an event happens ----
 *
 * Every event records the 2025 units it touched (the change feed shows it to clients whose
 * scope holds one of them): the units of the permanent and temporary residence of each person
 * it names, before and after it. A registrar of the API acts only within its province scope,
 * and what "the event's province" is depends on the type (docs/API.md "Province scope of an
 * event"): the place of the registration, as the laws cited in the type table put it.
 */
enum juris {
        J_PRE_PERM,   /* the subject's permanent residence before the event */
        J_PRE_TEMP,   /* the subject's temporary residence before the event */
        J_PRE_EITHER, /* either party's permanent residence (LCS art. 17: marriage) */
        J_POST_PERM,  /* the subject's permanent residence after the event (LR art. 22) */
        J_POST_TEMP,  /* the temporary residence it registers (LR art. 27) */
        J_BIRTH,      /* the birth province and the child's permanent residence (LCS art. 13) */
};

static enum juris jurisdiction(const char *type)
{
        if (!strcmp(type, "birth"))
                return J_BIRTH;
        if (!strcmp(type, "enrol") || !strcmp(type, "residence.register") ||
            !strcmp(type, "residence.move"))
                return J_POST_PERM;
        if (!strcmp(type, "temporary.register"))
                return J_POST_TEMP;
        if (!strcmp(type, "temporary.extend") || !strcmp(type, "temporary.deregister"))
                return J_PRE_TEMP;
        if (!strcmp(type, "marriage") || !strcmp(type, "divorce"))
                return J_PRE_EITHER;
        return J_PRE_PERM;
}

struct units {
        uint64_t bits[2];
};

/* Adds the 2025 unit of a province code as recorded (a legacy code counts as its unit). */
static void units_add(struct units *u, int code)
{
        const struct region_unit *cu = code > 0 ? region_current_unit(code) : NULL;
        if (cu && cu->code > 0 && cu->code < 128)
                u->bits[cu->code / 64] |= (uint64_t)1 << (cu->code % 64);
}

static int unit_of(int code)
{
        const struct region_unit *cu = code > 0 ? region_current_unit(code) : NULL;
        return cu ? cu->code : 0;
}

/* The units of pid's current permanent and temporary residence (0: none); *exists says whether
 * the person is in the registry. */
static int residence_units(struct ev *x, int64_t pid, int *perm, int *temp, int *exists)
{
        struct pop_err e = {0};
        struct residence res;
        *perm = *temp = 0;
        int rc = store_person_exists(x->r->st, pid, &e);
        if (rc < 0)
                return store_err(x, rc, &e);
        *exists = rc;
        if (!rc)
                return 0;
        rc = store_residence_current(x->r->st, pid, RESIDENCE_PERMANENT, &res, &e);
        if (rc == 0)
                *perm = unit_of(res.province);
        else if (rc != POP_ENOTFOUND)
                return store_err(x, rc, &e);
        rc = store_residence_current(x->r->st, pid, RESIDENCE_TEMPORARY, &res, &e);
        if (rc == 0)
                *temp = unit_of(res.province);
        else if (rc != POP_ENOTFOUND)
                return store_err(x, rc, &e);
        return 0;
}

/* A personal ID the input names under key, or 0 (absent or malformed: the handler says so). */
static int64_t input_pid(json_t *in, const char *key)
{
        json_t *v = json_object_get(in, key);
        int64_t pid = 0;
        struct pop_err e = {0};
        if (!json_is_string(v) || reg_parse_pid(json_string_value(v), &pid, &e))
                return 0;
        return pid;
}

static int out_of_scope(struct ev *x)
{
        return pop_fail(x->err, POP_ERULE, "province-out-of-scope",
                        "%s: the event's province is outside the client's scope", x->type);
}

static bool reach(const struct reg_apply_opts *o, int unit)
{
        return !o || !o->in_scope || o->in_scope(o->ctx, unit);
}

static const char *const named_keys[] = {"pid", "a", "b", "new_head", "father", "mother"};
#define N_NAMED ((int)(sizeof named_keys / sizeof named_keys[0]))

/* Before the event: the units of the people it names, and the registrar's check for the types
 * whose place is known before (so an out-of-scope registrar learns nothing of the rules). */
static int scope_before(struct ev *x, const struct reg_apply_opts *o, struct units *u)
{
        int perm[N_NAMED], temp[N_NAMED], exists[N_NAMED];
        for (int i = 0; i < N_NAMED; i++) {
                perm[i] = temp[i] = exists[i] = 0;
                int64_t pid = input_pid(x->in, named_keys[i]);
                if (!pid)
                        continue;
                int rc = residence_units(x, pid, &perm[i], &temp[i], &exists[i]);
                if (rc)
                        return rc;
                units_add(u, perm[i]);
                units_add(u, temp[i]);
        }
        if (!o || !o->in_scope)
                return 0;
        /* A person not in the registry: the event's own checks answer (person-not-found). */
        switch (jurisdiction(x->type)) {
        case J_PRE_PERM:
                if (exists[0] && !reach(o, perm[0]))
                        return out_of_scope(x);
                break;
        case J_PRE_TEMP:
                if (exists[0] && !reach(o, temp[0]))
                        return out_of_scope(x);
                break;
        case J_PRE_EITHER:
                if (exists[1] && exists[2] && !reach(o, perm[1]) && !reach(o, perm[2]))
                        return out_of_scope(x);
                break;
        default:
                break;
        }
        return 0;
}

/* After the event (still in its transaction): the units of its subjects, the registrar's check
 * for the types whose place the event makes, and the units recorded in the journal. */
static int scope_after(struct ev *x, const struct reg_apply_opts *o, struct units *u)
{
        int perm0 = 0, temp0 = 0;
        int64_t main_pid = input_pid(x->in, "pid");
        if (!main_pid)
                main_pid = input_pid(x->result, "pid"); /* a birth's allocated ID */
        for (int i = 0; i < x->n_subjects; i++) {
                int p, t, ex;
                int rc = residence_units(x, x->subjects[i], &p, &t, &ex);
                if (rc)
                        return rc;
                units_add(u, p);
                units_add(u, t);
                if (x->subjects[i] == main_pid) {
                        perm0 = p;
                        temp0 = t;
                }
        }
        if (o && o->in_scope) {
                enum juris j = jurisdiction(x->type);
                if ((j == J_POST_PERM || j == J_BIRTH) && !reach(o, perm0))
                        return out_of_scope(x);
                if (j == J_POST_TEMP && !reach(o, temp0))
                        return out_of_scope(x);
                if (j == J_BIRTH) {
                        json_t *bp = json_object_get(x->payload, "birth_province");
                        const char *s = json_is_string(bp) ? json_string_value(bp) : "";
                        int code =
                            (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && !s[2])
                                ? (s[0] - '0') * 10 + (s[1] - '0')
                                : 0;
                        if (!reach(o, unit_of(code)))
                                return out_of_scope(x);
                }
        }
        char text[128 * 3 + 1];
        size_t n = 0;
        text[0] = '\0';
        for (int c = 1; c < 128; c++)
                if (u->bits[c / 64] & ((uint64_t)1 << (c % 64)))
                        n += (size_t)snprintf(text + n, sizeof text - n, "%s%02d", n ? "," : "", c);
        struct pop_err e = {0};
        int rc = store_event_units(x->r->st, x->seq, text, &e);
        return rc ? store_err(x, rc, &e) : 0;
}

int reg_event_apply(struct reg *r, const struct reg_ctx *ctx, json_t *in, json_t **result,
                    struct pop_err *err)
{
        return reg_event_apply_opts(r, ctx, in, NULL, result, err);
}

int reg_event_apply_opts(struct reg *r, const struct reg_ctx *ctx, json_t *in,
                         const struct reg_apply_opts *o, json_t **result, struct pop_err *err)
{
        *result = NULL;
        if (!json_is_object(in))
                return pop_fail(err, POP_EINVAL, "event-invalid", "an event must be a JSON object");
        json_t *jt = json_object_get(in, "type");
        if (!json_is_string(jt))
                return pop_fail(err, POP_EINVAL, "field-missing",
                                "the event needs a string field 'type'");
        const struct ev_type *t = NULL;
        for (int i = 0; i < N_TYPES && !t; i++)
                if (strcmp(types[i].name, json_string_value(jt)) == 0)
                        t = &types[i];
        if (!t)
                return pop_fail(err, POP_EINVAL, "event-unknown-type",
                                "unknown event type '%.64s' (see popid event --help)",
                                json_string_value(jt));
        struct ev x = {.r = r, .c = ctx, .in = in, .err = err, .type = t->name};
        int rc = check_fields(&x, t);
        if (rc)
                return rc;
        x.payload = json_object();
        x.result = json_pack("{s:s}", "type", t->name);
        json_object_set_new(x.payload, "type", json_string(t->name));
        if ((rc = get_date(&x, "date", 0, 1, &x.date)))
                goto out;
        if (pdate_is_none(x.date)) {
                x.date = ctx->today;
                json_object_set_new(x.payload, "date", reg__date_json(x.date));
        }
        if (pdate_cmp(x.date, ctx->today) > 0) {
                rc = pop_fail(err, POP_ERULE, "date-future", "%s: the date is in the future",
                              t->name);
                goto out;
        }
        char basis[REC_BASIS];
        basis[0] = '\0';
        if ((rc = get_text(&x, "legal_basis", 0, 't', basis, sizeof basis)))
                goto out;
        snprintf(x.basis, sizeof x.basis, "%s", basis[0] ? basis : t->basis);
        json_object_del(x.payload, "legal_basis");

        if ((rc = store_begin(r->st, err)))
                goto out;
        struct units u = {{0, 0}};
        rc = scope_before(&x, o, &u);
        if (rc == 0)
                rc = t->fn(&x);
        if (rc == 0)
                rc = scope_after(&x, o, &u);
        if (rc == 0)
                json_object_set_new(x.result, "date", reg__date_json(x.date));
        if (rc == 0 && o && o->before_commit)
                rc = o->before_commit(o->ctx, r->st, x.result, err);
        if (rc == 0)
                rc = store_commit(r->st, err);
        if (rc) {
                store_rollback(r->st);
                goto out;
        }
        *result = x.result;
        x.result = NULL;
out:
        json_decref(x.payload);
        json_decref(x.result);
        return rc;
}
