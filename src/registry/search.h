/*
 * Name search: people found by name, with optional filters, a page at a time. The CLI
 * (`popid person search`) and the API (POST /v1/persons/search) pass the query as text (struct
 * reg_search_args); reg_search_parse validates and normalizes it into a store query,
 * reg_search_json runs it and renders {"results": [...], "next": cursor-or-null}.
 *
 * Matching (the name is normalized like a stored one: NFC, whitespace collapsed, so NFD input
 * and stray spaces find the same people):
 *   exact   same name up to case (name_fold): "NGUYỄN VĂN AN" finds Nguyễn Văn An only;
 *   folded  also ignoring diacritics, đ = d (name_key): "nguyen van an" finds Nguyễn Văn An,
 *           Nguyễn Vân An...; the default;
 *   prefix  the name starts with the query's words, whole words (name_key): "nguyen van" finds
 *           Nguyễn Văn An and Nguyễn Văn, not Nguyễn Vănh.
 * Filters:
 *   dob       partial allowed; a date matches every stored date that may be the same day: a
 *             query 1990 finds all born in 1990 (whatever is known of the day), a query
 *             1990-05-12 finds 1990-05-12 and also the records that know only 1990-05 or 1990
 *             (legacy records with partial dates must stay findable by someone who knows the
 *             full date);
 *   year, born_from/born_to   birth year, or an inclusive range of them;
 *   sex, status   status defaults to living (deceased, missing, any);
 *   province  the province of the person's current permanent residence, resolved to its 2025
 *             unit (Resolution 202/2025/QH15): a residence recorded under Hà Giang (02) is in
 *             Tuyên Quang (08); a legacy code in the query is resolved the same way. People with
 *             no current permanent residence match no province.
 * Order and pages: results are ordered by the compared name form, date of birth and personal
 * ID. "next" is an opaque cursor for the following page (null on the last); it is bound to the
 * query and authenticated with a key derived from the registry's secret, so a cursor that was
 * altered or belongs to another query is refused. The limit is 1..100 (default 20). Filters the
 * index does not order by (sex, status, province) are checked within a bounded amount of work per
 * page (see store_person_search): a page may then hold fewer results than the limit, even none,
 * with a "next" cursor to continue.
 */
#ifndef POP_REGISTRY_SEARCH_H
#define POP_REGISTRY_SEARCH_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"
#include "store/store.h"

#define REG_SEARCH_LIMIT_DEFAULT 20
#define REG_SEARCH_LIMIT_MAX     STORE_SEARCH_LIMIT_MAX
#define REG_SEARCH_CURSOR_MAX    1024 /* longest cursor text accepted, in bytes */
#define REG_SEARCH_KEY_LEN       32   /* the cursor authentication key */

struct reg;

/* A query as text, as the CLI and the API receive it. NULL: not given. */
struct reg_search_args {
        const char *name;
        const char *match; /* exact | folded (default) | prefix */
        const char *dob;   /* YYYY, YYYY-MM or YYYY-MM-DD */
        const char *year;  /* YYYY; not with born_from/born_to */
        const char *born_from, *born_to;
        const char *sex;      /* male | female */
        const char *province; /* two digits */
        const char *status;   /* living (default) | deceased | missing | any */
        const char *limit;    /* 1..100, default 20 */
        const char *cursor;   /* "next" of the previous page */
        int max_work;         /* for tests and benchmarks: the store's work budget; 0: default */
};

/* A parsed query. q.name and q.after point into the struct itself: do not copy it. */
struct reg_search {
        struct store_search q;
        char name[STORE_SEARCH_KEY_MAX];
        struct store_search_pos after;
};

/*
 * Validates and normalizes a; a cursor is checked against the query and key. Errors are
 * POP_EINVAL or POP_ETOOBIG with a message naming the field.
 */
int reg_search_parse(const struct reg_search_args *a, const uint8_t key[REG_SEARCH_KEY_LEN],
                     struct reg_search *out, struct pop_err *err) POP_MUST_USE;

/* The cursor text for resuming the search s after pos, into out (REG_SEARCH_CURSOR_MAX + 1). */
int reg_search_cursor(const struct reg_search *s, const struct store_search_pos *pos,
                      const uint8_t key[REG_SEARCH_KEY_LEN], char out[REG_SEARCH_CURSOR_MAX + 1],
                      struct pop_err *err) POP_MUST_USE;

/* Runs the search; *out (owned by the caller) is {"results": [...], "next": ...}. */
int reg_search_json(struct reg *r, const struct reg_search_args *a, json_t **out,
                    struct pop_err *err) POP_MUST_USE;

#endif
