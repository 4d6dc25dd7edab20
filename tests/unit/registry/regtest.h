/*
 * Helpers shared by the registry service tests (events, fault injection, confirmation): a fresh
 * registry in the test's temporary directory with a fixed clock, events written as JSON text,
 * and a snapshot of everything the public read calls show (people with residence, cards and
 * children, every residence ever, the journal rows naming each person, households with head and
 * members, the person count), so a test can prove that a refused or failed event changed nothing.
 *
 * Header-only, every function static inline: each test is one executable built from one source
 * file plus testutil.c, and not every test uses every helper.
 */
#ifndef POP_TEST_REGTEST_H
#define POP_TEST_REGTEST_H

#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

/* "Today" for every registry test: after the 1 July 2025 province merger, so only the 34
 * current units are valid in new addresses. RT_NOW_MS is 2026-11-23T10:00:00Z. */
#define RT_NOW_MS 1795428000000LL
static const struct pdate rt_today = {2026, 11, 23};

#define RT_MAX_PIDS 64

/* A registry under test, and every person it created (for snapshots). */
struct rt {
        char path[512];
        char uri[600];
        struct reg *r;
        struct reg_ctx ctx;
        int64_t pids[RT_MAX_PIDS];
        int n_pids;
};

static inline struct pdate rt_date(const char *s)
{
        struct pdate d;
        assert_int_equal(pdate_parse(s, strlen(s), &d, NULL), POP_OK);
        return d;
}

static inline int64_t rt_pid(const char *s)
{
        int64_t v = 0;
        struct pop_err err = {0};
        if (reg_parse_pid(s, &v, &err) != 0) {
                print_error("bad pid '%s': %s\n", s, err.msg);
                fail();
        }
        return v;
}

static inline void rt_remember(struct rt *t, int64_t pid)
{
        for (int i = 0; i < t->n_pids; i++)
                if (t->pids[i] == pid)
                        return;
        assert_true(t->n_pids < RT_MAX_PIDS);
        t->pids[t->n_pids++] = pid;
}

/* Opens the registry at t->path through uri_prefix ("sqlite:", "fault:sqlite:"). */
static inline void rt_open(struct rt *t, const char *uri_prefix)
{
        struct pop_err err = {0};
        snprintf(t->uri, sizeof t->uri, "%s%s", uri_prefix, t->path);
        int rc = reg_open(t->uri, &t->r, &err);
        if (rc) {
                print_error("reg_open(%s): %d %s: %s\n", t->uri, rc, err.rule, err.msg);
                fail();
        }
        t->ctx.actor = "test:registry";
        t->ctx.today = rt_today;
        t->ctx.now_ms = RT_NOW_MS;
}

/* Creates a registry named `name` in the current temporary directory and opens it. */
static inline void rt_create(struct rt *t, const char *name, const char *uri_prefix)
{
        memset(t, 0, sizeof *t);
        tu_path(t->path, sizeof t->path, name);
        char uri[600];
        snprintf(uri, sizeof uri, "sqlite:%s", t->path);
        struct pop_err err = {0};
        int rc = reg_init(uri, "Test Registry", &err);
        if (rc) {
                print_error("reg_init(%s): %d %s: %s\n", uri, rc, err.rule, err.msg);
                fail();
        }
        rt_open(t, uri_prefix);
}

static inline void rt_close(struct rt *t)
{
        reg_close(t->r);
        t->r = NULL;
}

/*
 * Parses the event text; a test's own JSON must be well formed. For readability events are
 * written with ' for " ({'type':'death','pid':'%s'}): the tests' names and addresses contain no
 * apostrophe.
 */
static inline json_t *rt_event(const char *fmt, va_list ap)
{
        char buf[4096];
        int n = vsnprintf(buf, sizeof buf, fmt, ap);
        assert_true(n > 0 && (size_t)n < sizeof buf);
        for (char *c = buf; *c; c++)
                if (*c == '\'')
                        *c = '"';
        json_error_t je;
        json_t *ev = json_loads(buf, JSON_DECODE_ANY, &je);
        if (!ev) {
                print_error("test event is not JSON: %s: %s\n", je.text, buf);
                fail();
        }
        return ev;
}

static inline json_t *rt_json(const char *fmt, ...) POP_PRINTF(1, 2);
static inline json_t *rt_json(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        json_t *v = rt_event(fmt, ap);
        va_end(ap);
        return v;
}

/* Applies an event; returns reg_event_apply's code. *result is set only on success. */
static inline int rt_applyv(struct rt *t, json_t **result, struct pop_err *err, const char *fmt,
                            va_list ap)
{
        json_t *ev = rt_event(fmt, ap);
        json_t *res = NULL;
        pop_err_clear(err);
        int rc = reg_event_apply(t->r, &t->ctx, ev, &res, err);
        json_decref(ev);
        if (rc) {
                assert_null(res);
                assert_true(err->msg[0] != '\0');
        } else {
                const char *pid = json_string_value(json_object_get(res, "pid"));
                if (pid)
                        rt_remember(t, rt_pid(pid));
        }
        *result = res;
        return rc;
}

static inline int rt_try(struct rt *t, struct pop_err *err, const char *fmt, ...) POP_PRINTF(3, 4);
static inline int rt_try(struct rt *t, struct pop_err *err, const char *fmt, ...)
{
        va_list ap;
        json_t *res;
        va_start(ap, fmt);
        int rc = rt_applyv(t, &res, err, fmt, ap);
        va_end(ap);
        json_decref(res);
        return rc;
}

/* Applies an event that must succeed; returns its result (the caller decrefs). */
static inline json_t *rt_ok(struct rt *t, const char *fmt, ...) POP_PRINTF(2, 3);
static inline json_t *rt_ok(struct rt *t, const char *fmt, ...)
{
        va_list ap;
        json_t *res;
        struct pop_err err = {0};
        va_start(ap, fmt);
        int rc = rt_applyv(t, &res, &err, fmt, ap);
        va_end(ap);
        if (rc) {
                va_start(ap, fmt);
                json_t *ev = rt_event(fmt, ap);
                va_end(ap);
                char *text = json_dumps(ev, JSON_COMPACT);
                print_error("event refused: %d [%s] %s\n  %s\n", rc, err.rule, err.msg, text);
                free(text);
                json_decref(ev);
                fail();
        }
        return res;
}

/* As rt_ok, for events whose result is not needed. */
#define rt_do(t, ...) json_decref(rt_ok((t), __VA_ARGS__))

/* The person as reg_person_json renders it (must exist; the caller decrefs). */
static inline json_t *rt_person(struct rt *t, const char *pid)
{
        json_t *o = NULL;
        struct pop_err err = {0};
        int rc = reg_person_json(t->r, rt_pid(pid), &o, &err);
        if (rc) {
                print_error("reg_person_json(%s): %d %s\n", pid, rc, err.msg);
                fail();
        }
        return o;
}

/* The household on `on` (NULL: today), as reg_household_json renders it. */
static inline json_t *rt_household(struct rt *t, int64_t hh, const char *on)
{
        json_t *o = NULL;
        struct pop_err err = {0};
        struct pdate d = on ? rt_date(on) : (struct pdate){0, 0, 0};
        int rc = reg_household_json(t->r, hh, d, &o, &err);
        if (rc) {
                print_error("reg_household_json(%lld): %d %s\n", (long long)hh, rc, err.msg);
                fail();
        }
        return o;
}

/* A string member at a path of object keys, e.g. rt_str(o, "residence", "permanent", "relation",
 * NULL); NULL when absent or not a string. */
static inline const char *rt_str(json_t *o, ...)
{
        va_list ap;
        va_start(ap, o);
        const char *k;
        while (o && (k = va_arg(ap, const char *)))
                o = json_object_get(o, k);
        va_end(ap);
        return json_string_value(o);
}

static inline json_t *rt_get(json_t *o, ...)
{
        va_list ap;
        va_start(ap, o);
        const char *k;
        while (o && (k = va_arg(ap, const char *)))
                o = json_object_get(o, k);
        va_end(ap);
        return o;
}

/* Fails the test, printing both documents, unless they are equal. */
static inline void rt_assert_json_equal(json_t *want, json_t *got)
{
        if (json_equal(want, got))
                return;
        char *a = json_dumps(want, JSON_INDENT(1) | JSON_SORT_KEYS);
        char *b = json_dumps(got, JSON_INDENT(1) | JSON_SORT_KEYS);
        print_error("JSON differs.\nwant: %s\ngot:  %s\n", a ? a : "?", b ? b : "?");
        free(a);
        free(b);
        fail();
}

/* ---- snapshots ---- */

static inline int rt__add_residence(void *ctx, const struct residence *res)
{
        json_array_append_new(ctx, reg_render_residence(res));
        return 0;
}

struct rt__journal {
        json_t *rows;
        int64_t max_seq;
};

static inline int rt__add_event(void *ctx, const struct event *e)
{
        struct rt__journal *j = ctx;
        char eff[11];
        pdate_format(e->effective, eff);
        json_array_append_new(j->rows, json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s%}", "seq",
                                                 (json_int_t)e->seq, "type", e->type, "date", eff,
                                                 "recorded_at", (json_int_t)e->recorded_at, "actor",
                                                 e->actor, "legal_basis", e->legal_basis, "payload",
                                                 e->payload, e->payload_len));
        if (e->seq > j->max_seq)
                j->max_seq = e->seq;
        return 0;
}

/* Households are numbered from 1: probe until this many ids in a row do not exist. */
#define RT_HOUSEHOLD_GAP 4

/*
 * Everything the read calls show about the people the test created plus `extra` (people that
 * must not exist may be named too: they show as null): for each, the person (reg_person_json:
 * record, current residence, cards, children), every residence ever held, and the journal rows
 * naming them; every household (head and members today); the person count; the journal length
 * (the highest sequence number seen).
 */
static inline json_t *rt_snapshot(struct rt *t, const int64_t *extra, int n_extra)
{
        struct store *st = t->r->st;
        json_t *snap = json_object(), *people = json_object(), *hhs = json_object();
        struct rt__journal j = {0};
        for (int i = 0; i < t->n_pids + n_extra; i++) {
                int64_t pid = i < t->n_pids ? t->pids[i] : extra[i - t->n_pids];
                char key[PID_LEN + 1];
                pid_from_int(pid, key);
                json_t *p = NULL, *res = json_array();
                j.rows = json_array();
                struct pop_err err = {0};
                int rc = reg_person_json(t->r, pid, &p, &err);
                assert_true(rc == 0 || rc == POP_ENOTFOUND);
                assert_int_equal(store_residence_history(st, pid, rt__add_residence, res, &err), 0);
                assert_int_equal(store_event_history(st, pid, rt__add_event, &j, &err), 0);
                json_object_set_new(people, key,
                                    json_pack("{s:o, s:o, s:o}", "person", p ? p : json_null(),
                                              "residences", res, "journal", j.rows));
        }
        for (int64_t id = 1, misses = 0; misses < RT_HOUSEHOLD_GAP; id++) {
                json_t *h = NULL;
                struct pop_err err = {0};
                int rc = reg_household_json(t->r, id, (struct pdate){0, 0, 0}, &h, &err);
                if (rc == POP_ENOTFOUND) {
                        misses++;
                        continue;
                }
                assert_int_equal(rc, 0);
                misses = 0;
                char key[24];
                snprintf(key, sizeof key, "%lld", (long long)id);
                json_object_set_new(hhs, key, h);
        }
        int64_t count = -1;
        assert_int_equal(store_person_count(st, &count, NULL), 0);
        json_object_set_new(snap, "people", people);
        json_object_set_new(snap, "households", hhs);
        json_object_set_new(snap, "person_count", json_integer(count));
        json_object_set_new(snap, "journal_length", json_integer(j.max_seq));
        return snap;
}

/* The personal IDs an event names, for the snapshot around a refusal (malformed ones skipped). */
static inline int rt_event_pids(json_t *ev, int64_t out[8])
{
        static const char *const keys[] = {"pid", "a", "b", "father", "mother", "new_head"};
        int n = 0;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                const char *s = json_string_value(json_object_get(ev, keys[i]));
                int64_t v;
                if (s && reg_parse_pid(s, &v, NULL) == 0)
                        out[n++] = v;
        }
        return n;
}

/*
 * Applies an event that must be refused with `code` and `rule`, and checks that it changed
 * nothing: the snapshot (including the people it names) is the same before and after.
 */
static inline void rt_refuse(struct rt *t, int code, const char *rule, const char *fmt, ...)
    POP_PRINTF(4, 5);
static inline void rt_refuse(struct rt *t, int code, const char *rule, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        json_t *ev = rt_event(fmt, ap);
        va_end(ap);
        int64_t named[8];
        int n = rt_event_pids(ev, named);
        json_t *before = rt_snapshot(t, named, n);
        json_t *res = NULL;
        struct pop_err err = {0};
        int rc = reg_event_apply(t->r, &t->ctx, ev, &res, &err);
        if (rc != code || strcmp(err.rule, rule) != 0) {
                char *text = json_dumps(ev, JSON_COMPACT);
                print_error("%s\n  expected %d [%s], got %d [%s] %s\n", text, code, rule, rc,
                            err.rule, err.msg);
                free(text);
        }
        json_decref(ev);
        assert_int_equal(rc, code);
        assert_string_equal(err.rule, rule);
        assert_null(res);
        assert_true(err.msg[0] != '\0');
        json_t *after = rt_snapshot(t, named, n);
        rt_assert_json_equal(before, after);
        json_decref(before);
        json_decref(after);
}

#endif
