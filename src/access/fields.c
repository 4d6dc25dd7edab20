/*
 * The field catalogue and the response filter; see fields.h.
 *
 * Each document the API releases is described by a tree of the keys it may hold (struct node):
 * a key names the field that releases it, or inherits the field of the key above it, or is
 * metadata of the response (a cursor, the date asked for) that is not person data. The filter
 * walks the document against its tree and deletes what the grants do not cover. The trees are
 * written against the renderers in src/registry/ (reg.c, views.c, search.c); a renderer that adds
 * a key must add it here, or clients never see it.
 */
#include "access/fields.h"
#include "access/access_int.h"

#include <string.h>

static const struct access_grant_info catalogue[ACCESS_N_GRANTS] = {
    [ACCESS_G_PID] = {"pid", "identity", "personal identification number", "pid", false},
    [ACCESS_G_NAME] = {"name", "identity", "full name", "full_name (name in search results)",
                       false},
    [ACCESS_G_DOB] = {"dob", "identity", "date of birth (may be partial)", "dob", false},
    [ACCESS_G_SEX] = {"sex", "identity", "sex", "sex", false},
    [ACCESS_G_BIRTH_PROVINCE] = {"birth_province", "identity",
                                 "province where the birth was registered", "birth_province",
                                 false},
    [ACCESS_G_HOMETOWN] = {"hometown", "identity", "place of origin (que quan)", "hometown", false},
    [ACCESS_G_NATIONALITY] = {"nationality", "identity", "nationality (ISO 3166-1 alpha-3)",
                              "nationality", false},
    [ACCESS_G_ETHNICITY] = {"ethnicity", "sensitive", "ethnic group", "ethnicity", true},
    [ACCESS_G_RELIGION] = {"religion", "sensitive", "religion", "religion", true},
    [ACCESS_G_FATHER] = {"father", "family", "father's personal ID", "father", false},
    [ACCESS_G_MOTHER] = {"mother", "family", "mother's personal ID", "mother", false},
    [ACCESS_G_SPOUSE] = {"spouse", "family", "current spouse's personal ID", "spouse", false},
    [ACCESS_G_CHILDREN] = {"children", "family", "children's personal IDs", "children", false},
    [ACCESS_G_STATUS] = {"status", "civil-status", "living, deceased or missing", "status", false},
    [ACCESS_G_DEATH_DATE] = {"death_date", "civil-status", "date of death", "death_date", false},
    [ACCESS_G_PERMANENT_RESIDENCE] = {"permanent_residence", "residence",
                                      "current permanent residence (address, dates)",
                                      "residence.permanent (province in search results)", false},
    [ACCESS_G_TEMPORARY_RESIDENCE] = {"temporary_residence", "residence",
                                      "current temporary residence (address, dates)",
                                      "residence.temporary", false},
    [ACCESS_G_HOUSEHOLD] = {"household", "residence",
                            "household: its id, the relation to the head, the household record",
                            "residence.*.household, residence.*.relation, household documents",
                            false},
    [ACCESS_G_CARDS] = {"cards", "documents", "identity cards: numbers, dates, status", "cards",
                        false},
    [ACCESS_G_RECORD] = {"record", "record", "record keeping: creation, last change, version",
                         "created_at, updated_at, version", false},
    [ACCESS_G_SEARCH] = {"search", "call", "may search people by name", "", false},
    [ACCESS_G_CHANGES] = {"changes", "call", "may read the change feed", "", false},
    [ACCESS_G_CONFIRMATION] = {"confirmation", "call",
                               "may obtain a signed confirmation of residence", "", false},
    [ACCESS_G_ACCESS_LOG] = {"access_log", "call", "may read the access log", "", false},
    [ACCESS_G_VERIFY_CODES] = {"verify_codes", "call",
                               "verification answers say which check failed (docs/AUTH.md)", "code",
                               false},
};

const struct access_grant_info *access_grant_info(int g)
{
        return g >= 0 && g < ACCESS_N_GRANTS ? &catalogue[g] : NULL;
}

int access_grant_lookup(const char *name, size_t len)
{
        for (int g = 0; g < ACCESS_N_GRANTS; g++)
                if (strlen(catalogue[g].name) == len && memcmp(catalogue[g].name, name, len) == 0)
                        return g;
        return -1;
}

static int add_grant(void *ctx, const char *item, size_t len, struct pop_err *err)
{
        int g = access_grant_lookup(item, len);
        if (g < 0)
                return pop_fail(err, POP_EINVAL, "grant-unknown",
                                "unknown field or grant '%.*s' (popid client fields lists them)",
                                (int)(len > 64 ? 64 : len), item);
        *(uint64_t *)ctx |= ACCESS_BIT(g);
        return 0;
}

int access_grants_parse(const char *list, uint64_t *out, struct pop_err *err)
{
        *out = 0;
        return access__each_item(list, "field", add_grant, out, err);
}

json_t *access_grants_json(uint64_t set)
{
        json_t *arr = json_array();
        for (int g = 0; arr && g < ACCESS_N_GRANTS; g++)
                if (set & ACCESS_BIT(g))
                        json_array_append_new(arr, json_string(catalogue[g].name));
        return arr;
}

int access_grants_from_json(const json_t *arr, uint64_t *out, struct pop_err *err)
{
        *out = 0;
        if (!json_is_array(arr))
                return pop_fail(err, POP_EINVAL, "grant-list", "grants are not a JSON array");
        size_t i;
        const json_t *v;
        json_array_foreach(arr, i, v)
        {
                if (!json_is_string(v))
                        return pop_fail(err, POP_EINVAL, "grant-list", "a grant is not a string");
                int g = access_grant_lookup(json_string_value(v), json_string_length(v));
                if (g >= 0)
                        *out |= ACCESS_BIT(g);
        }
        return 0;
}

/* ---- the filter ---- */

#define F_INHERIT (-1) /* covered by the field of the key above (or of the document) */
#define F_META    (-2) /* metadata of the response, not person data: always kept */

struct node {
        const char *key;
        int field;              /* an enum access_grant, F_INHERIT or F_META */
        const struct node *sub; /* the keys of an object (or of each object in an array); NULL:
                                   released whole */
};

/* One residence (reg_render_residence), under permanent or temporary. */
static const struct node residence_one[] = {
    {"kind", F_INHERIT, NULL},
    {"household", ACCESS_G_HOUSEHOLD, NULL},
    {"relation", ACCESS_G_HOUSEHOLD, NULL},
    {"address", F_INHERIT, NULL},
    {"valid_from", F_INHERIT, NULL},
    {"valid_to", F_INHERIT, NULL},
    {"ended", F_INHERIT, NULL},
    {"end_reason", F_INHERIT, NULL},
    {NULL, 0, NULL},
};

/* reg_residence_json, also the "residence" key of a person. */
static const struct node residence_doc[] = {
    {"permanent", ACCESS_G_PERMANENT_RESIDENCE, residence_one},
    {"temporary", ACCESS_G_TEMPORARY_RESIDENCE, residence_one},
    {"on", F_META, NULL},
    {NULL, 0, NULL},
};

/* reg_person_json: reg_render_person plus residence, cards and children. */
static const struct node person_doc[] = {
    {"pid", ACCESS_G_PID, NULL},
    {"full_name", ACCESS_G_NAME, NULL},
    {"dob", ACCESS_G_DOB, NULL},
    {"sex", ACCESS_G_SEX, NULL},
    {"birth_province", ACCESS_G_BIRTH_PROVINCE, NULL},
    {"hometown", ACCESS_G_HOMETOWN, NULL},
    {"ethnicity", ACCESS_G_ETHNICITY, NULL},
    {"religion", ACCESS_G_RELIGION, NULL},
    {"nationality", ACCESS_G_NATIONALITY, NULL},
    {"father", ACCESS_G_FATHER, NULL},
    {"mother", ACCESS_G_MOTHER, NULL},
    {"spouse", ACCESS_G_SPOUSE, NULL},
    {"status", ACCESS_G_STATUS, NULL},
    {"death_date", ACCESS_G_DEATH_DATE, NULL},
    {"created_at", ACCESS_G_RECORD, NULL},
    {"updated_at", ACCESS_G_RECORD, NULL},
    {"version", ACCESS_G_RECORD, NULL},
    {"residence", F_INHERIT, residence_doc},
    {"cards", ACCESS_G_CARDS, NULL},
    {"children", ACCESS_G_CHILDREN, NULL},
    {NULL, 0, NULL},
};

/* A member of a household: another person, so their pid and name need those grants. */
static const struct node household_member[] = {
    {"pid", ACCESS_G_PID, NULL},
    {"full_name", ACCESS_G_NAME, NULL},
    {"relation", F_INHERIT, NULL},
    {"since", F_INHERIT, NULL},
    {NULL, 0, NULL},
};

/* reg_household_json; the document as a whole needs household. */
static const struct node household_doc[] = {
    {"id", F_INHERIT, NULL}, {"address", F_INHERIT, NULL}, {"created", F_INHERIT, NULL},
    {"on", F_META, NULL},    {"head", ACCESS_G_PID, NULL}, {"members", F_INHERIT, household_member},
    {NULL, 0, NULL},
};

/* One search result (search.c add_hit); province is that of the permanent residence. */
static const struct node search_hit[] = {
    {"pid", ACCESS_G_PID, NULL},
    {"name", ACCESS_G_NAME, NULL},
    {"dob", ACCESS_G_DOB, NULL},
    {"sex", ACCESS_G_SEX, NULL},
    {"status", ACCESS_G_STATUS, NULL},
    {"province", ACCESS_G_PERMANENT_RESIDENCE, NULL},
    {NULL, 0, NULL},
};

static const struct node search_doc[] = {
    {"results", F_INHERIT, search_hit},
    {"next", F_META, NULL},
    {NULL, 0, NULL},
};

static const struct node *find(const struct node *spec, const char *key, size_t len)
{
        for (; spec->key; spec++)
                if (strlen(spec->key) == len && memcmp(spec->key, key, len) == 0)
                        return spec;
        return NULL;
}

static size_t filter_object(json_t *obj, const struct node *spec, uint64_t granted,
                            uint64_t *released);

/*
 * Filters the value of a key with sub-keys: an object, or an array whose elements are objects
 * (an element left with no person data goes). Anything else under such a key is not the shape
 * the renderer makes, and is removed by the caller. Returns the person-data keys kept.
 */
static size_t filter_value(json_t *v, const struct node *sub, uint64_t granted, uint64_t *released,
                           bool *bad_shape)
{
        *bad_shape = false;
        if (json_is_object(v))
                return filter_object(v, sub, granted, released);
        if (!json_is_array(v)) {
                *bad_shape = !json_is_null(v);
                return 0;
        }
        size_t kept = 0;
        for (size_t i = json_array_size(v); i-- > 0;) {
                json_t *e = json_array_get(v, i);
                size_t n = json_is_object(e) ? filter_object(e, sub, granted, released) : 0;
                if (n == 0)
                        json_array_remove(v, i);
                kept += n;
        }
        return kept;
}

static size_t filter_object(json_t *obj, const struct node *spec, uint64_t granted,
                            uint64_t *released)
{
        const char *key;
        size_t key_len, kept = 0;
        json_t *v;
        void *tmp;
        json_object_keylen_foreach_safe(obj, tmp, key, key_len, v)
        {
                const struct node *n = find(spec, key, key_len);
                if (!n || (n->field >= 0 && !(granted & ACCESS_BIT(n->field)))) {
                        json_object_deln(obj, key, key_len);
                        continue;
                }
                if (n->field == F_META)
                        continue;
                if (n->sub) {
                        bool bad;
                        size_t inner = filter_value(v, n->sub, granted, released, &bad);
                        if (bad || (n->field == F_INHERIT && inner == 0)) {
                                /* A container left with no person data goes with its metadata. */
                                json_object_deln(obj, key, key_len);
                                continue;
                        }
                }
                if (n->field >= 0)
                        *released |= ACCESS_BIT(n->field);
                kept++;
        }
        return kept;
}

uint64_t access_filter_grants(uint64_t granted, enum access_doc kind, json_t *doc)
{
        const struct node *spec = NULL;
        int needs = -1;
        switch (kind) {
        case ACCESS_DOC_PERSON:
                spec = person_doc;
                break;
        case ACCESS_DOC_RESIDENCE:
                spec = residence_doc;
                break;
        case ACCESS_DOC_HOUSEHOLD:
                spec = household_doc;
                needs = ACCESS_G_HOUSEHOLD;
                break;
        case ACCESS_DOC_SEARCH:
                spec = search_doc;
                needs = ACCESS_G_SEARCH;
                break;
        }
        if (!json_is_object(doc))
                return 0;
        if (!spec || (needs >= 0 && !(granted & ACCESS_BIT(needs)))) {
                json_object_clear(doc);
                return 0;
        }
        uint64_t released = 0;
        size_t kept = filter_object(doc, spec, granted, &released);
        if (kind == ACCESS_DOC_HOUSEHOLD && kept > 0)
                released |= ACCESS_BIT(ACCESS_G_HOUSEHOLD);
        return released & ACCESS_FIELDS_ALL;
}
