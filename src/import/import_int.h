/*
 * Internals of the bulk import shared by its files (parse.c, import.c, export.c) and its fuzz
 * targets: the line reader, the record one line becomes, and the pure per-line parser and
 * validator. Everything here is free of storage: a line is checked on its own (syntax, codes,
 * dates, the personal ID against dob and sex, names and text normalized); the rules between
 * lines and against the registry are import.c's. Not for use outside src/import/ and fuzz/.
 */
#ifndef POP_IMPORT_INT_H
#define POP_IMPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/records.h"
#include "import/import.h"

/* FORMATS.md: a line is at most 16 KiB (its end of line not counted). */
#define IMP_LINE_MAX (16 * 1024)
#define IMP_KEY_MAX  32 /* a household key, in bytes */

/* The columns of the CSV header, in order; JSONL keys map onto the same list. */
enum imp_col {
        C_PID,
        C_NAME,
        C_DOB,
        C_SEX,
        C_BIRTH_PROVINCE,
        C_HOMETOWN,
        C_ETHNICITY,
        C_RELIGION,
        C_NATIONALITY,
        C_FATHER,
        C_MOTHER,
        C_SPOUSE,
        C_STATUS,
        C_DEATH_DATE,
        C_HOUSEHOLD,
        C_RELATION,
        C_PROVINCE,
        C_COMMUNE,
        C_ADDRESS,
        C_SINCE,
        C_TMP_PROVINCE,
        C_TMP_COMMUNE,
        C_TMP_ADDRESS,
        C_TMP_FROM,
        C_TMP_UNTIL,
        C_CARD_ISSUED,
        N_COLS
};

/* The name of a column in the report: its CSV name, or its JSONL key ("address.province"). */
const char *imp_col_name(enum imp_format fmt, enum imp_col c);

/* Why a line was refused. pid is the line's personal ID when it parsed, else "". */
struct imp_reject {
        char field[32]; /* "" when the line as a whole is refused */
        char rule[48];
        char reason[256];
};

/* One line made into a person with residence and card, normalized and checked on its own. */
struct imp_rec {
        struct person p; /* pid ... death_date; created_at, updated_at, version are left 0 */
        char pid_text[PID_LEN + 1];
        /* Household membership and permanent address (household[0] == 0: none). */
        char household[IMP_KEY_MAX + 1];
        char relation[REC_SHORT];
        int province;
        char commune[6];
        char address[REC_TEXT];
        struct pdate since;
        /* Temporary residence. */
        bool has_temp;
        int tmp_province;
        char tmp_commune[6];
        char tmp_address[REC_TEXT];
        struct pdate tmp_from, tmp_until;
        /* The valid card. */
        bool has_card;
        struct pdate card_issued, card_expires;
        bool card_never;
};

/*
 * Parses and checks one line (without its end of line) of a file in fmt. `today` bounds the
 * dates. Returns 0 with *rec filled, or POP_EINVAL with *rej saying why; on refusal rec still
 * carries what was read before the problem that import.c needs (pid_text when the ID parsed,
 * household and relation), so the rules between lines can name it. Pure.
 */
int imp_parse_line(enum imp_format fmt, const char *line, size_t len, struct pdate today,
                   struct imp_rec *rec, struct imp_reject *rej);

/*
 * Reads a file line by line with the 16 KiB cap: an over-long line is reported (its number and
 * length) and skipped up to the next newline, where reading resumes. Hashes every byte read
 * (SHA-256) and counts them for progress.
 */
struct imp_reader;

int imp_reader_open(const char *path, struct imp_reader **out, struct pop_err *err);
/*
 * The next line: 1 with the line and its length (valid until the next call; no end of line) and
 * *lineno, 0 at the end of the file, POP_ETOOBIG for an over-long line (*lineno and *len set, *line
 * NULL), POP_EIO on a read error.
 */
int imp_reader_next(struct imp_reader *r, const char **line, size_t *len, long *lineno,
                    struct pop_err *err);
uint64_t imp_reader_offset(const struct imp_reader *r); /* bytes consumed so far */
uint64_t imp_reader_size(const struct imp_reader *r);   /* file size, 0 when unknown */
/* The SHA-256 of everything read, as 64 hex digits; call after the end was reached. */
void imp_reader_sha256(struct imp_reader *r, char hex[65]);
void imp_reader_close(struct imp_reader *r);

/*
 * An external merge sort of records by a 64-bit key in a memory budget (sorter.c): the import
 * writes the people in personal-ID order. Records of equal keys come back in the order they were
 * added. A record is at most IMP_SORTER_REC_MAX bytes; the budget is at least IMP_SORTER_MIN.
 * Add everything, finish, then take the records in order with next (1 with a record valid until
 * the next call, 0 at the end).
 */
#define IMP_SORTER_REC_MAX (64 * 1024)
#define IMP_SORTER_MIN     (4 << 20)

struct imp_sorter;

int imp_sorter_new(size_t budget, struct imp_sorter **out, struct pop_err *err) POP_MUST_USE;
int imp_sorter_add(struct imp_sorter *s, int64_t key, const void *rec, size_t len,
                   struct pop_err *err) POP_MUST_USE;
int imp_sorter_finish(struct imp_sorter *s, struct pop_err *err) POP_MUST_USE;
int imp_sorter_next(struct imp_sorter *s, int64_t *key, const void **rec, size_t *len,
                    struct pop_err *err) POP_MUST_USE;
int64_t imp_sorter_count(const struct imp_sorter *s); /* records added */
void imp_sorter_free(struct imp_sorter *s);

/*
 * The IDs loaded so far (ids.c): up to `cap` of the newest wait in memory behind a hash table
 * and go to the store's list sorted by ID (flush, given the batch in ID order); a Bloom filter of
 * 2^bloom_log2 bits of every ID added tells a new ID without asking the store (find, which
 * answers 0 with *out or POP_ENOTFOUND). Memory is fixed by cap and bloom_log2 (24 bytes + 8 per
 * ID waiting, 2^bloom_log2 / 8 bytes).
 */
#define IMP_IDS_BLOOM_K 4 /* bits set per ID */

struct imp_id {
        int64_t pid, src; /* src: the line (file << 32 | line) */
        struct pdate dob;
        int32_t sex;
};

struct imp_ids;

typedef int imp_ids_flush_fn(void *ctx, const struct imp_id *v, size_t n, struct pop_err *err);
typedef int imp_ids_find_fn(void *ctx, int64_t pid, struct imp_id *out, struct pop_err *err);

int imp_ids_new(size_t cap, unsigned bloom_log2, imp_ids_flush_fn *flush, imp_ids_find_fn *find,
                void *ctx, struct imp_ids **out, struct pop_err *err) POP_MUST_USE;
/* Adds a loaded ID: POP_ECONFLICT when it was added before. May flush. */
int imp_ids_add(struct imp_ids *d, const struct imp_id *id, struct pop_err *err) POP_MUST_USE;
/* 0 with *out when the ID was added, POP_ENOTFOUND when not, <0 on failure. */
int imp_ids_find(struct imp_ids *d, int64_t pid, struct imp_id *out,
                 struct pop_err *err) POP_MUST_USE;
/* Hands the waiting IDs to the store (the end of the lines; also when cap are waiting). */
int imp_ids_flush(struct imp_ids *d, struct pop_err *err) POP_MUST_USE;
size_t imp_ids_waiting(const struct imp_ids *d);
void imp_ids_free(struct imp_ids *d);

#endif
