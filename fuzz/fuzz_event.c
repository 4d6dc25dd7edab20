/*
 * Fuzz target: an event as the CLI's `event apply` and the API receive it (bytes -> JSON ->
 * reg_event_apply) on a scratch registry seeded with a small family. Inputs whose first byte is
 * odd go through the API's path (reg_event_apply_opts with a registrar scoped to Hà Nội, 01, and
 * a before-commit hook). Invariants: every outcome is one of the documented codes, a refusal
 * carries a message, a refused event leaves the person count and the journal unchanged, and the
 * hook runs exactly for the events that are applied.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/registry.h"

static struct reg *reg;
static struct reg_ctx ctx;

static void seed(void)
{
        static const char *const events[] = {
            "{\"type\":\"enrol\",\"pid\":\"001080000001\",\"name\":\"Trần Văn Nam\","
            "\"dob\":\"1980-03-02\",\"sex\":\"male\",\"date\":\"2020-01-01\",\"address\":"
            "{\"province\":\"01\",\"commune\":\"00004\",\"line\":\"12 Phố Huế\"}}",
            "{\"type\":\"enrol\",\"pid\":\"001182000002\",\"name\":\"Lê Thị Mai\","
            "\"dob\":\"1982\",\"sex\":\"female\",\"household\":1,\"relation\":\"spouse\","
            "\"date\":\"2020-01-01\"}",
        };
        for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
                json_t *ev = json_loads(events[i], 0, NULL), *res = NULL;
                if (!ev || reg_event_apply(reg, &ctx, ev, &res, NULL) != 0)
                        abort();
                json_decref(ev);
                json_decref(res);
        }
}

static void setup(void)
{
        char dir[] = "/tmp/popid-fuzz-event-XXXXXX";
        if (!mkdtemp(dir))
                abort();
        static char path[64];
        snprintf(path, sizeof path, "%s/r.db", dir);
        if (reg_init(path, "fuzz", NULL) != 0 || reg_open(path, &reg, NULL) != 0)
                abort();
        reg_ctx_now(&ctx, "fuzz");
        ctx.today = (struct pdate){2026, 11, 23};
        seed();
}

static bool scope_01(void *c, int unit)
{
        (void)c;
        return unit == 1;
}

static int hooked;

static int before_commit(void *c, struct store *st, const json_t *result, struct pop_err *err)
{
        (void)c;
        (void)st;
        (void)err;
        if (!json_is_integer(json_object_get(result, "seq")))
                abort();
        hooked++;
        return 0;
}

static int count_event(void *c, const struct event *e, const char *units)
{
        (void)e;
        (void)units;
        ++*(int64_t *)c;
        return 0;
}

static int64_t journal_len(void)
{
        int64_t n = 0;
        if (store_event_after(reg->st, 0, 1 << 30, count_event, &n, NULL) != 0)
                abort();
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!reg)
                setup();
        if (size > 65536)
                return 0;
        json_t *ev = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
        if (!ev)
                return 0;
        int64_t before = 0, after = 0, journal = journal_len();
        if (store_person_count(reg->st, &before, NULL) != 0)
                abort();
        json_t *res = NULL;
        struct pop_err err = {0};
        bool api = size > 0 && (data[0] & 1);
        struct reg_apply_opts o = {.in_scope = scope_01, .before_commit = before_commit};
        hooked = 0;
        int rc = reg_event_apply_opts(reg, &ctx, ev, api ? &o : NULL, &res, &err);
        json_decref(ev);
        if (rc == 0) {
                if (!res || hooked != api)
                        abort();
                json_decref(res);
                return 0;
        }
        if (res || !err.msg[0] || journal_len() != journal)
                abort();
        if (rc != POP_EINVAL && rc != POP_ENOTFOUND && rc != POP_ERULE && rc != POP_ECONFLICT &&
            rc != POP_ETOOBIG && rc != POP_EFULL)
                abort();
        if (store_person_count(reg->st, &after, NULL) != 0 || after != before)
                abort();
        return 0;
}
