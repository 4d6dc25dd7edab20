/*
 * Names of record enums, as they appear in JSON output. See records.h.
 */
#include "core/records.h"

const char *person_status_name(enum person_status s)
{
        switch (s) {
        case PERSON_LIVING:
                return "living";
        case PERSON_DECEASED:
                return "deceased";
        case PERSON_MISSING:
                return "missing";
        }
        return "unknown";
}

const char *card_status_name(enum card_status s)
{
        switch (s) {
        case CARD_VALID:
                return "valid";
        case CARD_LOST:
                return "lost";
        case CARD_REVOKED:
                return "revoked";
        case CARD_REPLACED:
                return "replaced";
        }
        return "unknown";
}
