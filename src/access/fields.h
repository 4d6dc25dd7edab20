/*
 * The field catalogue: every piece of person data the API can release, by the name a client is
 * granted it under, plus the grants that are not fields (calls a client may make: search, the
 * change feed, confirmation of residence, the access log). A client's grants are a bit set over
 * this catalogue (enum access_grant); the store keeps them as names, so the order below may
 * change between versions but a name, once shipped, may not.
 *
 * The catalogue also says where each field lives in the JSON the registry renders
 * (reg_person_json, reg_residence_json, reg_household_json, reg_search_json), and
 * access_filter_grants removes from such a document every key the grants do not cover. The
 * filter is deny-by-default: a key the catalogue does not know is removed, so a key added to a
 * renderer stays invisible to clients until it is catalogued here. Pure.
 */
#ifndef POP_ACCESS_FIELDS_H
#define POP_ACCESS_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum access_grant {
        /* identity */
        ACCESS_G_PID,
        ACCESS_G_NAME,
        ACCESS_G_DOB,
        ACCESS_G_SEX,
        ACCESS_G_BIRTH_PROVINCE,
        ACCESS_G_HOMETOWN,
        ACCESS_G_NATIONALITY,
        /* sensitive personal data (Decree 13/2023/ND-CP art. 2(4): ethnic origin, religion) */
        ACCESS_G_ETHNICITY,
        ACCESS_G_RELIGION,
        /* family */
        ACCESS_G_FATHER,
        ACCESS_G_MOTHER,
        ACCESS_G_SPOUSE,
        ACCESS_G_CHILDREN,
        /* civil status */
        ACCESS_G_STATUS,
        ACCESS_G_DEATH_DATE,
        /* residence and household */
        ACCESS_G_PERMANENT_RESIDENCE,
        ACCESS_G_TEMPORARY_RESIDENCE,
        ACCESS_G_HOUSEHOLD,
        /* documents */
        ACCESS_G_CARDS,
        /* record keeping: created_at, updated_at, version */
        ACCESS_G_RECORD,
        ACCESS_N_FIELDS,
        /* grants that are not fields */
        ACCESS_G_SEARCH = ACCESS_N_FIELDS, /* may call person search */
        ACCESS_G_CHANGES,                  /* may read the change feed */
        ACCESS_G_CONFIRMATION,             /* may obtain a confirmation of residence */
        ACCESS_G_ACCESS_LOG,               /* may read the access log */
        ACCESS_G_VERIFY_CODES,             /* verification answers carry their reason code */
        ACCESS_N_GRANTS
};

_Static_assert(ACCESS_N_GRANTS <= 64, "grant sets are 64-bit masks");

#define ACCESS_BIT(g)      ((uint64_t)1 << (g))
#define ACCESS_FIELDS_ALL  (ACCESS_BIT(ACCESS_N_FIELDS) - 1)
#define ACCESS_GRANTS_ALL  (ACCESS_BIT(ACCESS_N_GRANTS) - 1)
#define ACCESS_GRANT_NAMES 24 /* longest grant name, NUL included */

/*
 * The fields a confirmation of residence (CT07, registry/confirm.h) carries. It is a signed
 * document and cannot be filtered, so the call needs every one of them granted.
 */
#define ACCESS_CONFIRMATION_FIELDS                                                                 \
        (ACCESS_BIT(ACCESS_G_PID) | ACCESS_BIT(ACCESS_G_NAME) | ACCESS_BIT(ACCESS_G_DOB) |         \
         ACCESS_BIT(ACCESS_G_SEX) | ACCESS_BIT(ACCESS_G_STATUS) |                                  \
         ACCESS_BIT(ACCESS_G_PERMANENT_RESIDENCE) | ACCESS_BIT(ACCESS_G_TEMPORARY_RESIDENCE) |     \
         ACCESS_BIT(ACCESS_G_HOUSEHOLD))

struct access_grant_info {
        const char *name; /* "dob", "permanent_residence", "search" */
        const char
            *group; /* "identity", "sensitive", ... or "call" for grants that are not fields */
        const char *summary; /* one line, for `popid client fields` and docs/ACCESS.md */
        const char *keys;    /* the JSON keys it releases, for the same listing */
        bool sensitive;      /* sensitive personal data under Decree 13/2023/ND-CP art. 2(4) */
};

/* The entry of a grant (0 <= g < ACCESS_N_GRANTS). */
const struct access_grant_info *access_grant_info(int g);

/* The grant with this name (len bytes, not NUL-terminated), or -1. */
int access_grant_lookup(const char *name, size_t len);

/*
 * Parses a comma-separated list of grant names ("name,dob,sex") into a set. Spaces around names
 * are ignored; an empty list is the empty set. POP_EINVAL naming the first unknown name.
 */
int access_grants_parse(const char *list, uint64_t *out, struct pop_err *err) POP_MUST_USE;

/* The names of a set, in catalogue order, as a new JSON array. */
json_t *access_grants_json(uint64_t set);

/*
 * Reads a JSON array of grant names (as access_grants_json writes it). Names this version does
 * not know are skipped: an unknown grant releases nothing. POP_EINVAL when not an array of
 * strings.
 */
int access_grants_from_json(const json_t *arr, uint64_t *out, struct pop_err *err) POP_MUST_USE;

/* The documents the filter knows, and where the catalogue maps into them. */
enum access_doc {
        ACCESS_DOC_PERSON,    /* reg_person_json */
        ACCESS_DOC_RESIDENCE, /* reg_residence_json */
        ACCESS_DOC_HOUSEHOLD, /* reg_household_json: needs household */
        ACCESS_DOC_SEARCH,    /* reg_search_json: needs search */
};

/*
 * Removes from doc (in place) every key the grant set does not cover, recursively: a key whose
 * field is not granted goes with everything under it, a key the catalogue does not know goes
 * too, and an object that held only such keys goes as well. Returns the set of fields actually
 * released (present in what remains), for the audit entry. A document whose call grant is
 * missing (household, search) is emptied and releases nothing.
 */
uint64_t access_filter_grants(uint64_t granted, enum access_doc kind, json_t *doc);

#endif
