/*
 * The registry handle (open, init, close), the clock, and the JSON renderings of records shared
 * by the read calls and the event results. See registry.h.
 */
#include "registry/registry.h"
#include "registry/registry_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define META_ALLOC_KEY "pid_alloc_key"
#define META_AUTHORITY "authority"

void reg_ctx_now(struct reg_ctx *ctx, const char *actor)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ctx->actor = actor;
        ctx->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        ctx->today = date_from_days((int32_t)(ts.tv_sec / 86400));
}

int reg_init(const char *uri, const char *authority, struct pop_err *err)
{
        struct store *st = NULL;
        int rc = store_open(uri, 1, &st, err);
        if (rc)
                return rc;
        if (sodium_init() < 0) {
                rc = pop_fail(err, POP_EIO, "sodium", "libsodium failed to initialise");
                goto out;
        }
        if ((rc = store_begin(st, err)))
                goto out;
        uint8_t key[PID_ALLOC_KEY_LEN];
        size_t len = 0;
        rc = store_meta_get(st, META_ALLOC_KEY, key, sizeof key, &len, err);
        if (rc == POP_ENOTFOUND) {
                /* The key orders each series of ID suffixes; secret so numbers can't be predicted.
                 */
                randombytes_buf(key, sizeof key);
                rc = store_meta_set(st, META_ALLOC_KEY, key, sizeof key, err);
        }
        sodium_memzero(key, sizeof key);
        if (rc)
                goto rollback;
        char name[128];
        rc = store_meta_get(st, META_AUTHORITY, name, sizeof name - 1, &len, err);
        if (rc == POP_ENOTFOUND || (rc == 0 && authority && *authority)) {
                const char *a = authority && *authority ? authority : "Population Registry";
                rc = store_meta_set(st, META_AUTHORITY, a, strlen(a), err);
        }
        if (rc)
                goto rollback;
        rc = store_commit(st, err);
        if (rc == 0)
                goto out;
rollback:
        store_rollback(st);
out:
        store_close(st);
        return rc;
}

int reg_open(const char *uri, struct reg **out, struct pop_err *err)
{
        *out = NULL;
        struct reg *r = calloc(1, sizeof *r);
        if (!r)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        int rc = store_open(uri, 0, &r->st, err);
        if (rc)
                goto fail;
        size_t len = 0;
        rc = store_meta_get(r->st, META_ALLOC_KEY, r->alloc_key, sizeof r->alloc_key, &len, err);
        if (rc == 0 && len != sizeof r->alloc_key)
                rc = pop_fail(err, POP_ESTORE, "store-corrupt", "bad allocation key in meta");
        if (rc == POP_ENOTFOUND)
                rc = pop_fail(err, POP_ENOTFOUND, "registry-uninitialised",
                              "%s is not an initialised registry (run popid init)", uri);
        if (rc)
                goto fail;
        rc = store_meta_get(r->st, META_AUTHORITY, r->name, sizeof r->name - 1, &len, err);
        if (rc)
                goto fail;
        r->name[len] = '\0';
        *out = r;
        return 0;
fail:
        reg_close(r);
        return rc;
}

void reg_close(struct reg *r)
{
        if (!r)
                return;
        store_close(r->st);
        sodium_memzero(r->alloc_key, sizeof r->alloc_key);
        free(r);
}

int reg_parse_pid(const char *s, int64_t *out, struct pop_err *err)
{
        struct pid_info id;
        int rc = pid_parse(s, strlen(s), &id, err);
        if (rc == 0)
                *out = pid_to_int(id.pid);
        return rc;
}

/* ---- renderings ---- */

json_t *reg__pid_json(int64_t pid)
{
        if (!pid)
                return json_null();
        char buf[PID_LEN + 1];
        pid_from_int(pid, buf);
        return json_string(buf);
}

json_t *reg__date_json(struct pdate d)
{
        if (pdate_is_none(d))
                return json_null();
        char buf[11];
        pdate_format(d, buf);
        return json_string(buf);
}

json_t *reg__time_json(int64_t unix_ms)
{
        time_t t = (time_t)(unix_ms / 1000);
        struct tm tm;
        char buf[32];
        gmtime_r(&t, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return json_string(buf);
}

json_t *reg_render_province(int code)
{
        const struct region_legacy *l = region_legacy(code);
        const struct region_unit *u = region_unit(code);
        const struct region_unit *cur = region_current_unit(code);
        if (!l && !u)
                return code ? json_pack("{s:s}", "code", "unknown") : json_null();
        char c[4];
        snprintf(c, sizeof c, "%02d", code);
        json_t *o = json_pack("{s:s, s:s}", "code", c, "name", l ? l->name : u->name);
        if (cur && cur->code != code) {
                char cc[4];
                snprintf(cc, sizeof cc, "%02d", cur->code);
                /* Resolution 202/2025/QH15: a legacy province resolves to the unit absorbing it. */
                json_object_set_new(o, "current",
                                    json_pack("{s:s, s:s}", "code", cc, "name", cur->name));
        }
        return o;
}

json_t *reg_render_person(const struct person *p)
{
        return reg__render_person_parts(p, REG_PERSON_ALL);
}

json_t *reg__render_person_parts(const struct person *p, unsigned parts)
{
        json_t *o = json_object();
        json_object_set_new(o, "pid", reg__pid_json(p->pid));
        json_object_set_new(o, "full_name", json_string(p->full_name));
        json_object_set_new(o, "dob", reg__date_json(p->dob));
        json_object_set_new(o, "sex", json_string(sex_name(p->sex)));
        if (parts & REG_PERSON_BIRTH_PROVINCE)
                json_object_set_new(o, "birth_province", reg_render_province(p->birth_province));
        json_object_set_new(o, "hometown", json_string(p->hometown));
        json_object_set_new(o, "ethnicity", json_string(p->ethnicity));
        json_object_set_new(o, "religion", json_string(p->religion));
        json_object_set_new(o, "nationality", json_string(p->nationality));
        json_object_set_new(o, "father", reg__pid_json(p->father));
        json_object_set_new(o, "mother", reg__pid_json(p->mother));
        json_object_set_new(o, "spouse", reg__pid_json(p->spouse));
        json_object_set_new(o, "status", json_string(person_status_name(p->status)));
        json_object_set_new(o, "death_date", reg__date_json(p->death_date));
        if (parts & REG_PERSON_RECORD) {
                json_object_set_new(o, "created_at", reg__time_json(p->created_at * 1000));
                json_object_set_new(o, "updated_at", reg__time_json(p->updated_at * 1000));
                json_object_set_new(o, "version", json_integer(p->version));
        }
        return o;
}

json_t *reg_render_residence(const struct residence *res)
{
        json_t *o = json_object();
        json_object_set_new(
            o, "kind", json_string(res->kind == RESIDENCE_PERMANENT ? "permanent" : "temporary"));
        if (res->household)
                json_object_set_new(o, "household", json_integer(res->household));
        if (res->relation[0])
                json_object_set_new(o, "relation", json_string(res->relation));
        json_object_set_new(o, "address",
                            json_pack("{s:o, s:s, s:s}", "province",
                                      reg_render_province(res->province), "commune", res->commune,
                                      "line", res->address));
        json_object_set_new(o, "valid_from", reg__date_json(res->valid_from));
        if (!pdate_is_none(res->valid_to))
                json_object_set_new(o, "valid_to", reg__date_json(res->valid_to));
        if (!pdate_is_none(res->ended)) {
                json_object_set_new(o, "ended", reg__date_json(res->ended));
                json_object_set_new(o, "end_reason", json_string(res->end_reason));
        }
        return o;
}

json_t *reg_render_card(const struct card *c)
{
        json_t *o = json_object();
        json_object_set_new(o, "number", reg__pid_json(c->pid));
        json_object_set_new(o, "issued", reg__date_json(c->issued));
        json_object_set_new(o, "expires",
                            c->never_expires ? json_null() : reg__date_json(c->expires));
        json_object_set_new(o, "status", json_string(card_status_name(c->status)));
        if (c->status != CARD_VALID) {
                json_object_set_new(o, "status_date", reg__date_json(c->status_date));
                json_object_set_new(o, "reason", json_string(c->reason));
        }
        return o;
}
