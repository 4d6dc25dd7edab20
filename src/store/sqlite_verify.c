/*
 * The one read of a verification (store.h "Verification subject", src/eid/verify.c): the
 * person's name forms, date of birth, sex and status, and the state of the eID account when
 * there is one, in one statement. A verification answers from these alone, so reading the other
 * fourteen person columns and the account in a second statement was a third of the batch
 * worker's time (docs/BENCHMARKS.md "Verification").
 */
#include "store/sqlite_int.h"

#include <string.h>

#include "core/date.h"
#include "core/pid.h"

static const char SQL_VERIFY_SUBJECT[] =
    "SELECT p.full_name, p.name_fold, p.name_key, p.dob, p.sex, p.status, a.state"
    " FROM person p LEFT JOIN eid_account a ON a.pid = p.pid WHERE p.pid = ?1";

int store__sqlite_verify_subject(struct store *st, int64_t pid, struct store_verify_subject *out,
                                 struct pop_err *err)
{
        sqlite3_stmt *q = store__sqlite_prepare(st, SQL_VERIFY_SUBJECT, err);
        if (!q)
                return err ? err->code : POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) {
                char buf[PID_LEN + 1];
                pid_from_int(pid, buf);
                return store__sqlite_done(q, pop_fail(err, POP_ENOTFOUND, "person-not-found",
                                                      "no person with ID %s", buf));
        }
        if (rc != SQLITE_ROW)
                return store__sqlite_done(q, store__sqlite_fail(st, rc, err));
        store__sqlite_col_text(q, 0, out->full_name, sizeof out->full_name);
        store__sqlite_col_text(q, 1, out->name_fold, sizeof out->name_fold);
        store__sqlite_col_text(q, 2, out->name_key, sizeof out->name_key);
        memset(&out->dob, 0, sizeof out->dob);
        if (sqlite3_column_type(q, 3) != SQLITE_NULL &&
            pdate_parse((const char *)sqlite3_column_text(q, 3), (size_t)sqlite3_column_bytes(q, 3),
                        &out->dob, NULL))
                return store__sqlite_done(q, pop_fail(err, POP_ESTORE, "store-corrupt",
                                                      "corrupt value in the person table"));
        out->sex = (enum sex)sqlite3_column_int(q, 4);
        out->status = (enum person_status)sqlite3_column_int(q, 5);
        out->eid_state = sqlite3_column_type(q, 6) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 6);
        return store__sqlite_done(q, 0);
}
