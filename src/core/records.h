/*
 * The registry's records as plain structs, shared by the store backends, the services and the
 * renderers. Fixed-size fields keep a lookup free of heap allocation: each cap is the validator's
 * cap plus the NUL. Personal ID numbers are held as int64 (12 digits fit), formatted with
 * pid_from_int. Dates are `struct pdate`; the none value means "not set".
 */
#ifndef POP_CORE_RECORDS_H
#define POP_CORE_RECORDS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/date.h"
#include "core/name.h"
#include "core/pid.h"

#define REC_SHORT 64  /* ethnicity, religion, relation, reasons */
#define REC_TEXT  256 /* hometown, address lines */
#define REC_ACTOR 64
#define REC_BASIS 160

enum person_status { PERSON_LIVING = 0, PERSON_DECEASED = 1, PERSON_MISSING = 2 };

struct person {
        int64_t pid;
        char full_name[NAME_MAX_BYTES + 1]; /* NFC, normalized */
        char name_fold[NAME_MAX_BYTES + 1]; /* case-folded: exact search */
        char name_key[NAME_MAX_BYTES + 1];  /* diacritic-insensitive search */
        struct pdate dob;                   /* partial allowed */
        enum sex sex;
        int birth_province; /* province (legacy or current code) where the birth was registered */
        char hometown[REC_TEXT];   /* quê quán, free text */
        char ethnicity[REC_SHORT]; /* dân tộc */
        char religion[REC_SHORT];  /* tôn giáo; "" for none */
        char nationality[4];       /* ISO 3166-1 alpha-3, "VNM" */
        int64_t father, mother;    /* 0 when unknown */
        int64_t spouse;            /* current spouse, 0 when none */
        enum person_status status;
        struct pdate death_date;
        int64_t created_at, updated_at; /* unix seconds */
        int64_t version;                /* seq of the last event that changed the record */
};

struct household {
        int64_t id;
        int64_t head;
        int province;    /* code as recorded (legacy before the 2025 merger) */
        char commune[6]; /* 5 digits */
        char address[REC_TEXT];
        struct pdate created;
};

/* Relation to the household head, as household books record it. */
#define RESIDENCE_PERMANENT 'P'
#define RESIDENCE_TEMPORARY 'T'

struct residence {
        int64_t id;
        int64_t pid;
        char kind;         /* RESIDENCE_PERMANENT or RESIDENCE_TEMPORARY */
        int64_t household; /* permanent residence only; 0 for temporary */
        char relation[REC_SHORT];
        int province;
        char commune[6];
        char address[REC_TEXT];
        struct pdate valid_from;
        struct pdate valid_to; /* temporary: registered end; none for permanent */
        struct pdate ended;    /* actually ended (moved, deregistered, died); none while current */
        char end_reason[REC_SHORT];
};

enum card_status { CARD_VALID = 0, CARD_LOST = 1, CARD_REVOKED = 2, CARD_REPLACED = 3 };

struct card {
        int64_t id;
        int64_t pid; /* the card number is the personal ID number (Law on Identity 2023 art. 18) */
        struct pdate issued;
        struct pdate expires; /* none when never_expires */
        bool never_expires;
        enum card_status status;
        struct pdate status_date;
        char reason[REC_SHORT];
};

#define EVENT_MAX_SUBJECTS 4
#define EVENT_TYPE_LEN     32

/* A journal entry. payload is JSON text owned by whoever filled the struct (see the store call). */
struct event {
        int64_t seq;
        char type[EVENT_TYPE_LEN];
        int64_t subjects[EVENT_MAX_SUBJECTS];
        int n_subjects;
        struct pdate effective; /* the date the event took effect */
        int64_t recorded_at;    /* unix milliseconds */
        char actor[REC_ACTOR];
        char legal_basis[REC_BASIS];
        const char *payload;
        size_t payload_len;
};

const char *person_status_name(enum person_status s);
const char *card_status_name(enum card_status s);

#endif
