/*
 * The registry service: people, households, residence, identity cards and the life events that
 * change them. Every change is an event (a JSON object, the same from the CLI and the API) that is
 * validated against the rules of the law, appended to the journal and projected onto the current
 * tables in one transaction: a rejected or failed event changes nothing, and says which rule it
 * broke. Reads render records as JSON (jansson). Knows nothing of HTTP or the command line.
 */
#ifndef POP_REGISTRY_REGISTRY_H
#define POP_REGISTRY_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/records.h"
#include "store/store.h"

/* A registry handle: one store connection plus the registry's settings. One thread at a time. */
struct reg {
        struct store *st;
        uint8_t alloc_key[PID_ALLOC_KEY_LEN];
        char name[128]; /* the issuing authority's name, shown on documents */
};

/* Who acts and when: passed to every call so rules and the journal agree on "now". */
struct reg_ctx {
        const char *actor;  /* "operator:root@host", "client:ministry-of-health", ... */
        struct pdate today; /* the registry's current date */
        int64_t now_ms;     /* unix milliseconds */
};

/* Fills ctx->today/now_ms from the system clock (the actor is left to the caller). */
void reg_ctx_now(struct reg_ctx *ctx, const char *actor);

/*
 * Creates a registry at uri (or opens an existing one and applies migrations), with its own
 * number-allocation key and authority name. Idempotent: an existing registry keeps its keys.
 */
int reg_init(const char *uri, const char *authority, struct pop_err *err) POP_MUST_USE;

/* Opens an existing registry. The caller owns *out (reg_close). */
int reg_open(const char *uri, struct reg **out, struct pop_err *err) POP_MUST_USE;
void reg_close(struct reg *r);

/*
 * Applies one event. `ev` is a JSON object with "type" and the type's fields (see
 * docs/EVENTS.md); unknown fields are refused. On success *result (owned by the caller) says what
 * happened: {"seq": N, "type": ..., "pid": ... , ...}. On refusal nothing is stored, err names the
 * rule and the return is POP_EINVAL (malformed), POP_ENOTFOUND (a named record is missing),
 * POP_ERULE (a rule forbids it) or POP_ESTORE.
 */
int reg_event_apply(struct reg *r, const struct reg_ctx *ctx, json_t *ev, json_t **result,
                    struct pop_err *err) POP_MUST_USE;

/*
 * reg_event_apply for the API: the same, plus, inside the event's transaction,
 *   in_scope (may be NULL: everywhere): whether the caller may act in a 2025 unit (0: a subject
 *     without residence there); an event whose province (docs/API.md "Province scope of an
 *     event") is not within reach is refused with POP_ERULE, rule province-out-of-scope;
 *   before_commit (may be NULL): called once the event is journalled and projected, with the
 *     result the caller will get; a non-zero return rolls everything back and is returned (the
 *     API keeps its idempotency record here, so the record exists exactly when the event does).
 */
struct reg_apply_opts {
        bool (*in_scope)(void *ctx, int unit);
        int (*before_commit)(void *ctx, struct store *st, const json_t *result,
                             struct pop_err *err);
        void *ctx;
};
int reg_event_apply_opts(struct reg *r, const struct reg_ctx *ctx, json_t *ev,
                         const struct reg_apply_opts *o, json_t **result,
                         struct pop_err *err) POP_MUST_USE;

/*
 * The change feed: journal events with seq > after, rendered as change items
 *   {"seq", "type", "date", "subjects": [pid...], "changes": [{"pid", changed keys...}]}
 * where each entry of "changes" has the shape of a person document (reg_person_json) holding only
 * what the event changed, so access_filter_json can filter it. Items whose units (the
 * residences the event touched) are not within in_scope (NULL: everywhere) are skipped, as are
 * bulk imports (their people are loaded, not changed one by one). At most limit items and
 * max_scan journal rows per call; *next is the seq of the last row looked at (pass it as after
 * for the next page) and *more says whether rows may follow. *items is the caller's.
 */
struct reg_changes_query {
        int64_t after;
        int limit;
        int max_scan;
        bool (*in_scope)(void *ctx, int unit);
        void *ctx;
};
int reg_changes(struct reg *r, const struct reg_changes_query *q, json_t **items, int64_t *next,
                bool *more, struct pop_err *err) POP_MUST_USE;

/*
 * What an event (its JSON, with the personal IDs it names or allocated) changes about each
 * person, as the entries of a change item's "changes": a new array, one person document per
 * person, holding only the changed keys. date is the event's effective date (a JSON string).
 */
json_t *reg_change_docs(const char *type, json_t *ev, json_t *date);

/* The event types, for help texts: a NULL-terminated list of {name, summary}. */
struct reg_event_type {
        const char *name;
        const char *summary;
        const char *fields; /* "pid date [new_head]" */
};
extern const struct reg_event_type reg_event_types[];

/* Parses a personal ID string into the integer key, with the parser's message on failure. */
int reg_parse_pid(const char *s, int64_t *out, struct pop_err *err) POP_MUST_USE;

/* Reads, rendered as JSON objects owned by the caller. */
int reg_person_json(struct reg *r, int64_t pid, json_t **out, struct pop_err *err) POP_MUST_USE;
/*
 * Parts of a person document for reg_person_json_parts. The record (reg_render_person) is always
 * read, its cheap keys always rendered; each other part costs its own store read or rendering, so a
 * caller that will release only some keys asks for those alone (the API's person read: one row for
 * a client granted identity fields).
 */
#define REG_PERSON_PERMANENT 0x1u /* residence.permanent */
#define REG_PERSON_TEMPORARY 0x2u /* residence.temporary */
#define REG_PERSON_CARDS     0x4u
#define REG_PERSON_CHILDREN  0x8u
#define REG_PERSON_PROVINCE  0x10u /* only *province: the current permanent residence's */
/* Keys of the record itself that cost more than a copy to render: asked for, or absent. */
#define REG_PERSON_BIRTH_PROVINCE 0x20u /* birth_province (a region lookup, an object) */
#define REG_PERSON_RECORD         0x40u /* created_at, updated_at, version (two time formats) */
#define REG_PERSON_ALL            0x6fu
/*
 * reg_person_json with only the parts asked for: the keys of the parts not asked for are absent
 * (residence too when neither residence is asked for), the others are as reg_person_json renders
 * them. *province (may be NULL) is the province of the current permanent residence, 0 when
 * there is none or neither REG_PERSON_PERMANENT nor REG_PERSON_PROVINCE was asked for.
 * POP_ENOTFOUND when the person does not exist. Reads in one snapshot.
 */
int reg_person_json_parts(struct reg *r, int64_t pid, unsigned parts, json_t **out, int *province,
                          struct pop_err *err) POP_MUST_USE;
int reg_history_json(struct reg *r, int64_t pid, json_t **out, struct pop_err *err) POP_MUST_USE;
/* The household with its head and members on `on` (none: today). */
int reg_household_json(struct reg *r, int64_t household, struct pdate on, json_t **out,
                       struct pop_err *err) POP_MUST_USE;
/* The permanent and temporary residence of a person on `on` (none: current). */
int reg_residence_json(struct reg *r, int64_t pid, struct pdate on, json_t **out,
                       struct pop_err *err) POP_MUST_USE;

/* JSON renderings of records (new references). */
json_t *reg_render_person(const struct person *p);
json_t *reg_render_residence(const struct residence *res);
json_t *reg_render_card(const struct card *c);
json_t *reg_render_province(int code);

#endif
