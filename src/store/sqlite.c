/*
 * The SQLite backend of the store: the embedded default.
 *
 * One connection per struct store (SQLITE_OPEN_NOMUTEX: a connection belongs to one thread), WAL
 * so readers never wait for the writer, synchronous=FULL so a commit that returned survives power
 * loss (DESIGN.md's durability rule; WAL with NORMAL may lose the last commits on power failure).
 * Statements are prepared once per connection, on first use, and reused. Schema changes are the
 * numbered migrations below, applied in one transaction each, recorded in PRAGMA user_version.
 * Invariants the services rely on are also enforced here as constraints (one open residence of a
 * kind per person, one valid card per person), so a bug above cannot break them silently.
 */
#include "store/store.h"
#include "store/sqlite_int.h"

#include "core/region.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

/* Each entry moves the schema from version i to i + 1. Never edit one that has shipped. */
static const char *const migrations[] = {
    /* 1: the registry core */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE person("
    " pid INTEGER PRIMARY KEY,"
    " full_name TEXT NOT NULL, name_fold TEXT NOT NULL, name_key TEXT NOT NULL,"
    " dob TEXT NOT NULL, sex INTEGER NOT NULL, birth_province INTEGER NOT NULL,"
    " hometown TEXT NOT NULL, ethnicity TEXT NOT NULL, religion TEXT NOT NULL,"
    " nationality TEXT NOT NULL,"
    " father INTEGER, mother INTEGER, spouse INTEGER,"
    " status INTEGER NOT NULL, death_date TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, version INTEGER NOT NULL);"
    "CREATE INDEX person_name_key ON person(name_key, dob);"
    "CREATE INDEX person_name_fold ON person(name_fold, dob);"
    "CREATE INDEX person_father ON person(father) WHERE father IS NOT NULL;"
    "CREATE INDEX person_mother ON person(mother) WHERE mother IS NOT NULL;"
    "CREATE TABLE household("
    " id INTEGER PRIMARY KEY, head INTEGER NOT NULL, province INTEGER NOT NULL,"
    " commune TEXT NOT NULL, address TEXT NOT NULL, created TEXT NOT NULL);"
    "CREATE TABLE household_head("
    " household INTEGER NOT NULL, pid INTEGER NOT NULL, valid_from TEXT NOT NULL, ended TEXT);"
    "CREATE INDEX household_head_hh ON household_head(household, valid_from);"
    "CREATE UNIQUE INDEX household_head_open ON household_head(household) WHERE ended IS NULL;"
    "CREATE TABLE residence("
    " id INTEGER PRIMARY KEY, pid INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('P', 'T')),"
    " household INTEGER, relation TEXT NOT NULL, province INTEGER NOT NULL,"
    " commune TEXT NOT NULL, address TEXT NOT NULL,"
    " valid_from TEXT NOT NULL, valid_to TEXT, ended TEXT, end_reason TEXT NOT NULL);"
    "CREATE INDEX residence_pid ON residence(pid, id);"
    "CREATE INDEX residence_household ON residence(household, valid_from)"
    " WHERE household IS NOT NULL;"
    "CREATE UNIQUE INDEX residence_open ON residence(pid, kind) WHERE ended IS NULL;"
    "CREATE TABLE card("
    " id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, issued TEXT NOT NULL, expires TEXT,"
    " status INTEGER NOT NULL, status_date TEXT, reason TEXT NOT NULL);"
    "CREATE INDEX card_pid ON card(pid, id);"
    "CREATE UNIQUE INDEX card_valid ON card(pid) WHERE status = 0;"
    "CREATE TABLE event("
    " seq INTEGER PRIMARY KEY, type TEXT NOT NULL, effective TEXT NOT NULL,"
    " recorded_at INTEGER NOT NULL, actor TEXT NOT NULL, legal_basis TEXT NOT NULL,"
    " payload TEXT NOT NULL);"
    "CREATE TABLE event_subject(pid INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY (pid, seq)) WITHOUT ROWID;"
    "CREATE TABLE pid_series(series INTEGER PRIMARY KEY, next INTEGER NOT NULL);",
    /* 2: the audit log (src/audit/, docs/AUDIT.md): hash-chained entries, signed checkpoints */
    "CREATE TABLE audit_entry("
    " seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, actor TEXT NOT NULL,"
    " subject INTEGER NOT NULL, action TEXT NOT NULL, fields TEXT NOT NULL,"
    " purpose TEXT NOT NULL, outcome TEXT NOT NULL, rule TEXT NOT NULL,"
    " request_id TEXT NOT NULL, hash BLOB NOT NULL);"
    "CREATE INDEX audit_entry_subject ON audit_entry(subject, seq);"
    "CREATE TABLE audit_checkpoint("
    " seq INTEGER PRIMARY KEY, hash BLOB NOT NULL, time_ms INTEGER NOT NULL,"
    " sig BLOB NOT NULL);",
    /* 3: API clients (src/access/, docs/ACCESS.md): lists as JSON text, secrets as keyed hashes */
    "CREATE TABLE client("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, roles TEXT NOT NULL,"
    " grants TEXT NOT NULL, purposes TEXT NOT NULL, provinces TEXT NOT NULL,"
    " rate INTEGER NOT NULL, burst INTEGER NOT NULL, disabled INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " secret_id TEXT NOT NULL, secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),"
    " prev_secret_id TEXT, prev_secret_hash BLOB, prev_expires_ms INTEGER) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX client_secret ON client(secret_id);"
    "CREATE UNIQUE INDEX client_prev_secret ON client(prev_secret_id)"
    " WHERE prev_secret_id IS NOT NULL;",
    /* 4: name search (src/registry/search.c, docs/SEARCH.md): 1's two name indexes, extended
     * with pid (the search's order is (key, dob, pid)), sex and status, so a search checks
     * those filters in the index without reading the row. Replaces them (prefixes of these). */
    "DROP INDEX person_name_key;"
    "DROP INDEX person_name_fold;"
    "CREATE INDEX person_search_key ON person(name_key, dob, pid, sex, status);"
    "CREATE INDEX person_search_fold ON person(name_fold, dob, pid, sex, status);",
    /* 5: the data-sharing API's writes and change feed (docs/API.md): the 2025 units each
     * journal event touched (its subjects' residences before and after, "01,79"; NULL for
     * events from before), and the answers to requests with an Idempotency-Key, kept in the
     * transaction of the write they answer. The change feed walks event by seq (its rowid). */
    "ALTER TABLE event ADD COLUMN units TEXT;"
    "CREATE TABLE idempotency("
    " client TEXT NOT NULL, key TEXT NOT NULL,"
    " request_hash BLOB NOT NULL CHECK (length(request_hash) = 32),"
    " status INTEGER NOT NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " PRIMARY KEY (client, key));"
    "CREATE INDEX idempotency_created ON idempotency(created_ms);",
    /* 6: name search by province (src/registry/search.c): the province of each open permanent
     * residence by pid, read from the index alone for the rows a search looks at. */
    "CREATE INDEX residence_open_province ON residence(pid, province)"
    " WHERE kind = 'P'"
    " AND ended IS NULL;",
    /* 7: eID accounts (src/eid/, docs/EID.md): one account per person, one credential per
     * (pid, kind); secrets only as hashes, ciphertexts or public keys. */
    "CREATE TABLE eid_account("
    " pid INTEGER PRIMARY KEY, level INTEGER NOT NULL CHECK (level IN (1, 2)),"
    " state INTEGER NOT NULL, phone TEXT NOT NULL, email TEXT NOT NULL,"
    " creds INTEGER NOT NULL, reason TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE eid_credential("
    " pid INTEGER NOT NULL, kind TEXT NOT NULL, secret BLOB NOT NULL,"
    " confirmed INTEGER NOT NULL, failures INTEGER NOT NULL,"
    " locked_until_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, counter INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY (pid, kind)) WITHOUT ROWID;",
    /* 8: one-time passwords and the outbox (src/eid/otp.c, src/hub/outbox.c, docs/AUTH.md):
     * an OTP only as a keyed hash; outbox bodies sealed (secretbox), emptied once delivered. */
    "CREATE TABLE otp("
    " txn TEXT PRIMARY KEY, pid INTEGER NOT NULL, client TEXT NOT NULL, channel TEXT NOT NULL,"
    " hash BLOB NOT NULL CHECK (length(hash) = 32), created_ms INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, used INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE INDEX otp_pid ON otp(pid, created_ms);"
    "CREATE INDEX otp_client ON otp(client, created_ms);"
    "CREATE TABLE outbox("
    " id INTEGER PRIMARY KEY, topic TEXT NOT NULL, subject INTEGER NOT NULL, ref TEXT NOT NULL,"
    " body BLOB NOT NULL, state INTEGER NOT NULL CHECK (state IN (0, 1, 2)),"
    " attempts INTEGER NOT NULL, next_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL, last_error TEXT NOT NULL);"
    "CREATE INDEX outbox_due ON outbox(next_ms, id) WHERE state = 0;",
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
#define CLIENT_COLS                                                                                \
        "id, name, kind, roles, grants, purposes, provinces, rate, burst, disabled, created_ms, "  \
        "updated_ms, secret_id, secret_hash, prev_secret_id, prev_secret_hash, prev_expires_ms"

#define PERSON_COLS                                                                                \
        "pid, full_name, name_fold, name_key, dob, sex, birth_province, hometown, ethnicity, "     \
        "religion, nationality, father, mother, spouse, status, death_date, created_at, "          \
        "updated_at, version"
#define RESIDENCE_COLS                                                                             \
        "id, pid, kind, household, relation, province, commune, address, valid_from, valid_to, "   \
        "ended, end_reason"
#define CARD_COLS "id, pid, issued, expires, status, status_date, reason"
/*
 * A search row, from the search indexes, and the province of the open permanent residence only
 * when sex (?5, 0: any) and status (?6, -1: any) are as wanted: a correlated subquery keeps its
 * cursors open over the scan, which a statement per row would not. The province comes from
 * residence_open_province (migration 6) alone; left to itself SQLite takes residence_open, unique
 * on (pid, kind), and reads the residence row as well, which halves the rate at 10M people.
 */
#define SEARCH_COLS                                                                                \
        "pid, dob, sex, status, CASE WHEN (?5 = 0 OR sex = ?5) AND (?6 < 0 OR status = ?6)"        \
        " THEN (SELECT province FROM residence r INDEXED BY residence_open_province"               \
        " WHERE r.pid = person.pid AND r.kind = 'P' AND r.ended IS NULL) END"

#define AUDIT_COLS                                                                                 \
        "seq, time_ms, actor, subject, action, fields, purpose, outcome, rule, request_id, "       \
        "hash"

enum stmt_id {
        S_BEGIN,
        S_BEGIN_READ,
        S_COMMIT,
        S_ROLLBACK,
        S_META_GET,
        S_META_SET,
        S_PERSON_GET,
        S_PERSON_EXISTS,
        S_PERSON_INSERT,
        S_PERSON_UPDATE,
        S_PERSON_CHILDREN,
        S_PERSON_COUNT,
        S_HH_GET,
        S_HH_INSERT,
        S_HH_UPDATE,
        S_HH_MEMBERS,
        S_HH_HEAD_ON,
        S_HH_HEAD_END,
        S_HH_HEAD_START,
        S_HH_SET_HEAD,
        S_RES_CURRENT_P,
        S_RES_CURRENT_T,
        S_RES_INSERT,
        S_RES_UPDATE,
        S_RES_HISTORY,
        S_CARD_CURRENT,
        S_CARD_INSERT,
        S_CARD_UPDATE,
        S_CARD_HISTORY,
        S_EVENT_INSERT,
        S_EVENT_SUBJECT,
        S_EVENT_HISTORY,
        S_SERIES_GET,
        S_SERIES_SET,
        S_SEARCH_FOLD,
        S_SEARCH_KEY,
        S_SEARCH_RANGE,
        S_SEARCH_FIRST_KEY,
        S_SEARCH_NEXT_KEY,
        S_SEARCH_NAME,
        S_PERSON_EACH,
        S_IMP_SUBJECTS,
        S_EVENT_AMEND,
        S_IMP_LOADED,
        S_IMP_FIND,
        S_IMP_SETTLE,
        S_IMP_REJECT,
        S_IMP_IS_REJECTED,
        S_IMP_HH_FIND,
        S_IMP_HH_FREE,
        S_IMP_HH_INSERT,
        S_IMP_HH_KEY,
        S_IMP_HH_HEAD,
        S_IMP_HH_REFUSED,
        S_IMP_SPOUSE_FIND,
        S_IMP_SPOUSE_DEL,
        S_IMP_SPOUSE_ADD,
        S_IMP_Q_SPOUSES,
        S_IMP_Q_HOUSEHOLDS,
        S_IMP_Q_DEPENDENTS,
        S_AUDIT_INSERT,
        S_AUDIT_LAST,
        S_AUDIT_ITER,
        S_AUDIT_SUBJECT,
        S_CHECKPOINT_INSERT,
        S_CHECKPOINT_LAST,
        S_CHECKPOINT_ITER,
        S_CLIENT_INSERT,
        S_CLIENT_UPDATE,
        S_CLIENT_GET,
        S_CLIENT_LIST,
        S_CLIENT_BY_SECRET,
        S_EVENT_AFTER,
        S_EVENT_UNITS,
        S_IDEM_GET,
        S_IDEM_PUT,
        S_IDEM_PURGE,
        N_STMT
};

static const char *const stmt_sql[N_STMT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_BEGIN_READ] = "BEGIN DEFERRED",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [S_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [S_PERSON_GET] = "SELECT " PERSON_COLS " FROM person WHERE pid = ?1",
    [S_PERSON_EXISTS] = "SELECT 1 FROM person WHERE pid = ?1",
    [S_PERSON_INSERT] = "INSERT INTO person(" PERSON_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                        " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    [S_PERSON_UPDATE] = "UPDATE person SET full_name = ?2, name_fold = ?3, name_key = ?4,"
                        " dob = ?5, sex = ?6, birth_province = ?7, hometown = ?8,"
                        " ethnicity = ?9, religion = ?10, nationality = ?11, father = ?12,"
                        " mother = ?13, spouse = ?14, status = ?15, death_date = ?16,"
                        " created_at = ?17, updated_at = ?18, version = ?19 WHERE pid = ?1",
    [S_PERSON_CHILDREN] = "SELECT " PERSON_COLS " FROM person WHERE father = ?1"
                          " UNION SELECT " PERSON_COLS " FROM person WHERE mother = ?1"
                          " ORDER BY dob, pid",
    [S_PERSON_COUNT] = "SELECT count(*) FROM person",
    [S_HH_GET] = "SELECT id, head, province, commune, address, created FROM household"
                 " WHERE id = ?1",
    [S_HH_INSERT] = "INSERT INTO household(head, province, commune, address, created)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_HH_UPDATE] = "UPDATE household SET head = ?2, province = ?3, commune = ?4,"
                    " address = ?5, created = ?6 WHERE id = ?1",
    [S_HH_MEMBERS] = "SELECT " RESIDENCE_COLS " FROM residence WHERE household = ?1"
                     " AND kind = 'P' AND ((?2 IS NULL AND ended IS NULL) OR (?2 IS NOT NULL"
                     " AND valid_from <= ?2 AND (ended IS NULL OR ended > ?2)))"
                     " ORDER BY valid_from, id",
    [S_HH_HEAD_ON] = "SELECT pid FROM household_head WHERE household = ?1"
                     " AND ((?2 IS NULL AND ended IS NULL) OR (?2 IS NOT NULL"
                     " AND valid_from <= ?2 AND (ended IS NULL OR ended > ?2)))"
                     " ORDER BY valid_from DESC, rowid DESC LIMIT 1",
    [S_HH_HEAD_END] = "UPDATE household_head SET ended = ?2 WHERE household = ?1"
                      " AND ended IS NULL",
    [S_HH_HEAD_START] = "INSERT INTO household_head(household, pid, valid_from)"
                        " VALUES (?1, ?2, ?3)",
    [S_HH_SET_HEAD] = "UPDATE household SET head = ?2 WHERE id = ?1",
    /* The kind is a literal, one statement each, not a parameter: the partial indexes on
     * residence (WHERE kind = 'P' ...) make the plan depend on a bound kind, and SQLite then
     * re-prepares the statement at every new binding (sqlite3_prepare_v3, "the specific value
     * bound to a host parameter ... might influence the choice of query plan"): a parse per
     * API request. */
    [S_RES_CURRENT_P] = "SELECT " RESIDENCE_COLS " FROM residence WHERE pid = ?1"
                        " AND kind = 'P' AND ended IS NULL",
    [S_RES_CURRENT_T] = "SELECT " RESIDENCE_COLS " FROM residence WHERE pid = ?1"
                        " AND kind = 'T' AND ended IS NULL",
    [S_RES_INSERT] = "INSERT INTO residence(pid, kind, household, relation, province, commune,"
                     " address, valid_from, valid_to, ended, end_reason)"
                     " VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [S_RES_UPDATE] = "UPDATE residence SET pid = ?2, kind = ?3, household = ?4,"
                     " relation = ?5, province = ?6, commune = ?7, address = ?8,"
                     " valid_from = ?9, valid_to = ?10, ended = ?11, end_reason = ?12"
                     " WHERE id = ?1",
    [S_RES_HISTORY] = "SELECT " RESIDENCE_COLS " FROM residence WHERE pid = ?1 ORDER BY id",
    [S_CARD_CURRENT] = "SELECT " CARD_COLS " FROM card WHERE pid = ?1 AND status = 0",
    [S_CARD_INSERT] = "INSERT INTO card(pid, issued, expires, status, status_date, reason)"
                      " VALUES (?2, ?3, ?4, ?5, ?6, ?7)",
    [S_CARD_UPDATE] = "UPDATE card SET pid = ?2, issued = ?3, expires = ?4, status = ?5,"
                      " status_date = ?6, reason = ?7 WHERE id = ?1",
    [S_CARD_HISTORY] = "SELECT " CARD_COLS " FROM card WHERE pid = ?1 ORDER BY id",
    [S_EVENT_INSERT] = "INSERT INTO event(type, effective, recorded_at, actor, legal_basis,"
                       " payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_EVENT_SUBJECT] = "INSERT OR IGNORE INTO event_subject(pid, seq) VALUES (?1, ?2)",
    [S_EVENT_HISTORY] = "SELECT e.seq, e.type, e.effective, e.recorded_at, e.actor,"
                        " e.legal_basis, e.payload FROM event_subject s"
                        " JOIN event e ON e.seq = s.seq WHERE s.pid = ?1 ORDER BY s.seq",
    [S_SERIES_GET] = "SELECT next FROM pid_series WHERE series = ?1",
    [S_SERIES_SET] = "INSERT INTO pid_series(series, next) VALUES (?1, ?2)"
                     " ON CONFLICT(series) DO UPDATE SET next = excluded.next",
    /* Name search: see "name search" below. (dob, pid) > (?2, ?3) resumes after a position. */
    [S_SEARCH_FOLD] = "SELECT " SEARCH_COLS ", name_fold FROM person WHERE name_fold = ?1"
                      " AND (dob, pid) > (?2, ?3) AND dob < ?4 ORDER BY dob, pid",
    [S_SEARCH_KEY] = "SELECT " SEARCH_COLS ", name_key FROM person WHERE name_key = ?1"
                     " AND (dob, pid) > (?2, ?3) AND dob < ?4 ORDER BY dob, pid",
    [S_SEARCH_RANGE] = "SELECT " SEARCH_COLS ", name_key FROM person"
                       " WHERE (name_key, dob, pid) > (?1, ?2, ?3) AND name_key < ?4"
                       " ORDER BY name_key, dob, pid",
    [S_SEARCH_FIRST_KEY] = "SELECT name_key FROM person WHERE name_key >= ?1"
                           " AND name_key < ?2 ORDER BY name_key LIMIT 1",
    [S_SEARCH_NEXT_KEY] = "SELECT name_key FROM person WHERE name_key > ?1"
                          " AND name_key < ?2 ORDER BY name_key LIMIT 1",
    [S_SEARCH_NAME] = "SELECT full_name FROM person WHERE pid = ?1",
    [S_PERSON_EACH] = "SELECT " PERSON_COLS " FROM person ORDER BY dob, pid",
    [S_IMP_SUBJECTS] = "INSERT OR IGNORE INTO event_subject(pid, seq)"
                       " SELECT pid, ?1 FROM temp.imp_p ORDER BY pid",
    [S_EVENT_AMEND] = "UPDATE event SET payload = ?2 WHERE seq = ?1",
    [S_IMP_LOADED] = "INSERT INTO temp.imp_p(pid, src, dob, sex) VALUES (?1, ?2, ?3, ?4)",
    [S_IMP_FIND] = "SELECT src, dob, sex FROM temp.imp_p WHERE pid = ?1",
    /* An ID refused on one line and loaded from a later one is not refused. */
    [S_IMP_SETTLE] = "DELETE FROM temp.imp_rej WHERE loaded = 0 AND EXISTS"
                     " (SELECT 1 FROM temp.imp_p p WHERE p.pid = imp_rej.pid)",
    [S_IMP_REJECT] = "INSERT INTO temp.imp_rej(pid, done, loaded) VALUES (?1, 0, ?2)"
                     " ON CONFLICT(pid) DO UPDATE SET loaded = max(loaded, excluded.loaded)",
    [S_IMP_IS_REJECTED] = "SELECT 1 FROM temp.imp_rej WHERE pid = ?1",
    [S_IMP_HH_FIND] = "SELECT h.id, h.heads, d.head, d.province, d.commune, d.address,"
                      " d.created FROM temp.imp_hh h JOIN household d ON d.id = h.id"
                      " WHERE h.key = ?1",
    [S_IMP_HH_FREE] = "SELECT 1 FROM household WHERE id = ?1",
    [S_IMP_HH_INSERT] = "INSERT INTO household(id, head, province, commune, address, created)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [S_IMP_HH_KEY] = "INSERT INTO temp.imp_hh(key, id) VALUES (?1, ?2)"
                     " ON CONFLICT(key) DO UPDATE SET id = excluded.id",
    [S_IMP_HH_HEAD] = "UPDATE temp.imp_hh SET heads = heads + 1 WHERE key = ?1",
    [S_IMP_HH_REFUSED] = "INSERT INTO temp.imp_hh(key, refused_heads) VALUES (?1, 1)"
                         " ON CONFLICT(key) DO UPDATE SET refused_heads = refused_heads + 1",
    [S_IMP_SPOUSE_FIND] = "SELECT sex FROM temp.imp_spouse WHERE pid = ?1 AND spouse = ?2",
    [S_IMP_SPOUSE_DEL] = "DELETE FROM temp.imp_spouse WHERE pid = ?1",
    [S_IMP_SPOUSE_ADD] = "INSERT OR REPLACE INTO temp.imp_spouse(pid, spouse, sex, dead)"
                         " VALUES (?1, ?2, ?3, ?4)",
    [S_IMP_Q_SPOUSES] = "SELECT s.pid, p.src, s.spouse, NULL,"
                        " EXISTS (SELECT 1 FROM temp.imp_rej j WHERE j.pid = s.spouse), s.dead"
                        " FROM temp.imp_spouse s CROSS JOIN temp.imp_p p ON p.pid = s.pid"
                        " WHERE s.pid NOT IN (SELECT pid FROM temp.imp_rej) ORDER BY p.src",
    [S_IMP_Q_HOUSEHOLDS] = "SELECT r.pid, p.src, 0, h.key, h.heads, h.refused_heads"
                           " FROM temp.imp_hh h"
                           " CROSS JOIN residence r ON r.household = h.id AND r.kind = 'P'"
                           " AND r.ended IS NULL CROSS JOIN temp.imp_p p ON p.pid = r.pid"
                           " WHERE +h.id IS NOT NULL AND h.heads != 1"
                           " AND r.pid NOT IN (SELECT pid FROM temp.imp_rej) ORDER BY p.src",
    /* Who depends on the IDs refused since the last call (done = 2 while this runs). The
     * temporary tables have no statistics: CROSS JOIN makes the few refused IDs drive. */
    [S_IMP_Q_DEPENDENTS] =
        "SELECT x.pid, p.src, j.pid, 'father', 0, 0 FROM temp.imp_rej j"
        " CROSS JOIN person x ON x.father = j.pid CROSS JOIN temp.imp_p p ON p.pid = x.pid"
        " WHERE j.done = 2 AND x.pid NOT IN (SELECT pid FROM temp.imp_rej)"
        " UNION ALL SELECT x.pid, p.src, j.pid, 'mother', 0, 0 FROM temp.imp_rej j"
        " CROSS JOIN person x ON x.mother = j.pid CROSS JOIN temp.imp_p p ON p.pid = x.pid"
        " WHERE j.done = 2 AND x.pid NOT IN (SELECT pid FROM temp.imp_rej)"
        " UNION ALL SELECT x.pid, p.src, j.pid, 'spouse', 0, 0 FROM temp.imp_rej j"
        " CROSS JOIN person y ON y.pid = j.pid CROSS JOIN person x ON x.pid = y.spouse"
        " AND x.spouse = j.pid CROSS JOIN temp.imp_p p ON p.pid = x.pid"
        " WHERE j.done = 2 AND x.pid NOT IN (SELECT pid FROM temp.imp_rej)"
        " UNION ALL SELECT x.pid, p.src, j.pid, 'household', 0, 0 FROM temp.imp_rej j"
        " CROSS JOIN residence r ON r.pid = j.pid AND r.kind = 'P' AND r.ended IS NULL"
        " AND r.relation = 'head' CROSS JOIN temp.imp_hh h ON h.id = r.household"
        " CROSS JOIN residence x ON x.household = r.household AND x.kind = 'P'"
        " AND x.ended IS NULL CROSS JOIN temp.imp_p p ON p.pid = x.pid"
        " WHERE j.done = 2 AND x.pid != j.pid"
        " AND x.pid NOT IN (SELECT pid FROM temp.imp_rej)",
    [S_AUDIT_INSERT] = "INSERT INTO audit_entry(" AUDIT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5,"
                       " ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_AUDIT_LAST] = "SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1",
    [S_AUDIT_ITER] = "SELECT " AUDIT_COLS " FROM audit_entry WHERE seq >= ?1 ORDER BY seq",
    /* The entries not indexed yet, then the audit database's subject index (sqlite_audit.c),
     * one lookup per bucket b, newest first (CROSS JOIN: the buckets drive). */
    [S_AUDIT_SUBJECT] = "WITH RECURSIVE u(upto) AS (SELECT coalesce(max(value), 0) FROM meta"
                        " WHERE key = 'audit_subject_upto'),"
                        " b(x) AS (SELECT min(?2 - 1, upto) >> " STORE__AUDIT_BUCKET_SHIFT
                        " FROM u UNION ALL SELECT x - 1 FROM b WHERE x > 0)"
                        " SELECT " AUDIT_COLS " FROM audit_entry WHERE seq > (SELECT upto FROM u)"
                        " AND seq < ?2 AND subject = ?1"
                        " UNION ALL SELECT e.seq, e.time_ms, e.actor, e.subject, e.action,"
                        " e.fields, e.purpose, e.outcome, e.rule, e.request_id, e.hash"
                        " FROM b CROSS JOIN audit_subject s ON s.bucket = b.x AND s.subject = ?1"
                        " AND s.seq < ?2 JOIN audit_entry e ON e.seq = s.seq AND e.subject = ?1"
                        " ORDER BY 1 DESC LIMIT ?3",
    [S_CHECKPOINT_INSERT] = "INSERT INTO audit_checkpoint(seq, hash, time_ms, sig)"
                            " VALUES (?1, ?2, ?3, ?4)",
    [S_CHECKPOINT_LAST] = "SELECT seq, hash, time_ms, sig FROM audit_checkpoint"
                          " ORDER BY seq DESC LIMIT 1",
    [S_CHECKPOINT_ITER] = "SELECT seq, hash, time_ms, sig FROM audit_checkpoint"
                          " WHERE seq >= ?1 ORDER BY seq",
    [S_CLIENT_INSERT] = "INSERT INTO client(" CLIENT_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                        " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [S_CLIENT_UPDATE] = "UPDATE client SET name = ?2, kind = ?3, roles = ?4, grants = ?5,"
                        " purposes = ?6, provinces = ?7, rate = ?8, burst = ?9, disabled = ?10,"
                        " created_ms = ?11, updated_ms = ?12, secret_id = ?13, secret_hash = ?14,"
                        " prev_secret_id = ?15, prev_secret_hash = ?16, prev_expires_ms = ?17"
                        " WHERE id = ?1",
    [S_CLIENT_GET] = "SELECT " CLIENT_COLS " FROM client WHERE id = ?1",
    [S_CLIENT_LIST] = "SELECT " CLIENT_COLS " FROM client ORDER BY id",
    [S_CLIENT_BY_SECRET] = "SELECT " CLIENT_COLS " FROM client WHERE secret_id = ?1"
                           " UNION ALL SELECT " CLIENT_COLS " FROM client"
                           " WHERE prev_secret_id = ?1 LIMIT 1",
    [S_EVENT_AFTER] = "SELECT seq, type, effective, recorded_at, actor, legal_basis, payload,"
                      " units FROM event WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [S_EVENT_UNITS] = "UPDATE event SET units = ?2 WHERE seq = ?1",
    [S_IDEM_GET] = "SELECT request_hash, status, body, created_ms FROM idempotency"
                   " WHERE client = ?1 AND key = ?2 AND created_ms >= ?3",
    /* A record past its lifetime (created before ?7) is replaced; a live one is kept, and
     * the statement then changes nothing (the caller's conflict). */
    [S_IDEM_PUT] = "INSERT INTO idempotency(client, key, request_hash, status, body, created_ms)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(client, key) DO UPDATE SET"
                   " request_hash = excluded.request_hash, status = excluded.status,"
                   " body = excluded.body, created_ms = excluded.created_ms"
                   " WHERE idempotency.created_ms < ?7",
    [S_IDEM_PURGE] = "DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency"
                     " WHERE created_ms < ?1 ORDER BY created_ms LIMIT ?2)",
};

struct sqlite_store {
        struct store base;
        sqlite3 *db;
        sqlite3_stmt *stmt[N_STMT];
        int reading;  /* depth of the open read snapshot (a deferred BEGIN); 0: none */
        int in_write; /* depth of read_begin calls made inside a write transaction */
        struct store__sqlite_ext ext; /* statements of the topic files (sqlite_int.h) */
        int wal_pages;                /* STORE_OPEN_AUDIT: the log's pages at the last commit */
};

static struct sqlite_store *S(struct store *st)
{
        return (struct sqlite_store *)st;
}

sqlite3 *store__sqlite_db(struct store *st)
{
        return S(st)->db;
}

struct store__sqlite_ext *store__sqlite_ext(struct store *st)
{
        return &S(st)->ext;
}

/* Maps a SQLite result to a POP_E* code, filling err with SQLite's own message. */
static int fail_db(struct sqlite_store *s, int rc, struct pop_err *err)
{
        int prim = rc & 0xff;
        if (prim == SQLITE_CONSTRAINT)
                return pop_fail(err, POP_ECONFLICT, "store-constraint", "%s",
                                sqlite3_errmsg(s->db));
        if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
                return pop_fail(err, POP_EAGAIN, "store-busy", "the database is busy: %s",
                                sqlite3_errmsg(s->db));
        if (prim == SQLITE_NOMEM)
                return pop_fail(err, POP_ENOMEM, "store-nomem", "out of memory in SQLite");
        return pop_fail(err, POP_ESTORE, "store-failure", "SQLite: %s", sqlite3_errmsg(s->db));
}

/* The cached statement id, prepared on first use. NULL (with err filled) on failure. */
static sqlite3_stmt *prep(struct sqlite_store *s, enum stmt_id id, struct pop_err *err)
{
        if (!s->stmt[id]) {
                int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                            &s->stmt[id], NULL);
                if (rc != SQLITE_OK) {
                        fail_db(s, rc, err);
                        return NULL;
                }
        }
        return s->stmt[id];
}

/* Resets a statement after use and passes rc through. */
static int done(sqlite3_stmt *q, int rc)
{
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        return rc;
}

static void bind_date(sqlite3_stmt *q, int i, struct pdate d)
{
        if (pdate_is_none(d)) {
                sqlite3_bind_null(q, i);
        } else {
                char buf[11];
                pdate_format(d, buf);
                sqlite3_bind_text(q, i, buf, -1, SQLITE_TRANSIENT);
        }
}

static void bind_pid(sqlite3_stmt *q, int i, int64_t pid)
{
        if (pid)
                sqlite3_bind_int64(q, i, pid);
        else
                sqlite3_bind_null(q, i);
}

static void bind_str(sqlite3_stmt *q, int i, const char *s)
{
        sqlite3_bind_text(q, i, s, -1, SQLITE_STATIC);
}

/* Reads a date column; a NULL column is the none value. -1 on a corrupt value. */
static int col_date(sqlite3_stmt *q, int i, struct pdate *out)
{
        memset(out, 0, sizeof *out);
        if (sqlite3_column_type(q, i) == SQLITE_NULL)
                return 0;
        const char *t = (const char *)sqlite3_column_text(q, i);
        int n = sqlite3_column_bytes(q, i);
        return pdate_parse(t, (size_t)n, out, NULL) == 0 ? 0 : -1;
}

static int corrupt(struct pop_err *err, const char *what)
{
        return pop_fail(err, POP_ESTORE, "store-corrupt", "corrupt value in the %s table", what);
}

static int exec(struct sqlite_store *s, const char *sql, struct pop_err *err)
{
        char *msg = NULL;
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
                int code = fail_db(s, rc, err);
                if (msg && err)
                        snprintf(err->msg, sizeof err->msg, "SQLite: %s", msg);
                sqlite3_free(msg);
                return code;
        }
        return 0;
}

/* Runs a statement that returns no row. */
static int step_done(struct sqlite_store *s, sqlite3_stmt *q, struct pop_err *err)
{
        int rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return done(q, fail_db(s, rc, err));
        return done(q, 0);
}

/* ---- transactions and meta ---- */

static void snapshot_close(struct sqlite_store *s)
{
        s->reading = 0;
        sqlite3_stmt *q = prep(s, S_COMMIT, NULL);
        if (q)
                (void)step_done(s, q, NULL);
}

static void sq_read_end(struct store *st)
{
        struct sqlite_store *s = S(st);
        if (s->in_write > 0)
                s->in_write--;
        else if (s->reading > 0 && --s->reading == 0)
                snapshot_close(s);
}

/* Snapshots nest (the outermost one counts); inside a write transaction they change nothing. */
static int sq_read_begin(struct store *st, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        if (s->reading > 0) {
                s->reading++;
                return 0;
        }
        if (!sqlite3_get_autocommit(s->db)) {
                s->in_write++;
                return 0;
        }
        sqlite3_stmt *q = prep(s, S_BEGIN_READ, err);
        if (!q)
                return POP_ESTORE;
        int rc = step_done(s, q, err);
        if (rc == 0)
                s->reading = 1;
        return rc;
}

static int sq_begin(struct store *st, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        if (s->reading > 0)
                snapshot_close(s); /* a write starts from the newest state */
        sqlite3_stmt *q = prep(s, S_BEGIN, err);
        return q ? step_done(s, q, err) : POP_ESTORE;
}

static int sq_commit(struct store *st, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_COMMIT, err);
        if (!q)
                return POP_ESTORE;
        return step_done(s, q, err);
}

static void sq_rollback(struct store *st)
{
        struct sqlite_store *s = S(st);
        s->reading = 0;
        if (!sqlite3_get_autocommit(s->db)) {
                sqlite3_stmt *q = prep(s, S_ROLLBACK, NULL);
                if (q)
                        (void)step_done(s, q, NULL);
        }
}

static int sq_integrity_check(struct store *st, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = NULL;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q, NULL);
        if (rc != SQLITE_OK)
                return fail_db(s, rc, err);
        int result = 0;
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW) {
                result = fail_db(s, rc, err);
        } else {
                const char *t = (const char *)sqlite3_column_text(q, 0);
                if (!t || strcmp(t, "ok") != 0)
                        result = pop_fail(err, POP_ESTORE, "store-integrity",
                                          "integrity check failed: %s", t ? t : "(null)");
        }
        sqlite3_finalize(q);
        return result;
}

static int sq_meta_get(struct store *st, const char *key, void *buf, size_t cap, size_t *len,
                       struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_META_GET, err);
        if (!q)
                return POP_ESTORE;
        bind_str(q, 1, key);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, pop_fail(err, POP_ENOTFOUND, "not-found", "no meta key '%s'", key));
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        const void *v = sqlite3_column_blob(q, 0);
        if (len)
                *len = n;
        if (n > cap)
                return done(q,
                            pop_fail(err, POP_ETOOBIG, "meta-too-big", "meta '%s' too big", key));
        if (n)
                memcpy(buf, v, n);
        return done(q, 0);
}

static int sq_meta_set(struct store *st, const char *key, const void *val, size_t len,
                       struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_META_SET, err);
        if (!q)
                return POP_ESTORE;
        bind_str(q, 1, key);
        sqlite3_bind_blob(q, 2, val, (int)len, SQLITE_STATIC);
        return step_done(s, q, err);
}

/* ---- persons ---- */

static int read_person(sqlite3_stmt *q, struct person *p)
{
        p->pid = sqlite3_column_int64(q, 0);
        store__sqlite_col_text(q, 1, p->full_name, sizeof p->full_name);
        store__sqlite_col_text(q, 2, p->name_fold, sizeof p->name_fold);
        store__sqlite_col_text(q, 3, p->name_key, sizeof p->name_key);
        if (col_date(q, 4, &p->dob) != 0)
                return -1;
        p->sex = (enum sex)sqlite3_column_int(q, 5);
        p->birth_province = sqlite3_column_int(q, 6);
        store__sqlite_col_text(q, 7, p->hometown, sizeof p->hometown);
        store__sqlite_col_text(q, 8, p->ethnicity, sizeof p->ethnicity);
        store__sqlite_col_text(q, 9, p->religion, sizeof p->religion);
        store__sqlite_col_text(q, 10, p->nationality, sizeof p->nationality);
        p->father = sqlite3_column_int64(q, 11);
        p->mother = sqlite3_column_int64(q, 12);
        p->spouse = sqlite3_column_int64(q, 13);
        p->status = (enum person_status)sqlite3_column_int(q, 14);
        if (col_date(q, 15, &p->death_date) != 0)
                return -1;
        p->created_at = sqlite3_column_int64(q, 16);
        p->updated_at = sqlite3_column_int64(q, 17);
        p->version = sqlite3_column_int64(q, 18);
        return 0;
}

static void bind_person(sqlite3_stmt *q, const struct person *p)
{
        sqlite3_bind_int64(q, 1, p->pid);
        bind_str(q, 2, p->full_name);
        bind_str(q, 3, p->name_fold);
        bind_str(q, 4, p->name_key);
        bind_date(q, 5, p->dob);
        sqlite3_bind_int(q, 6, (int)p->sex);
        sqlite3_bind_int(q, 7, p->birth_province);
        bind_str(q, 8, p->hometown);
        bind_str(q, 9, p->ethnicity);
        bind_str(q, 10, p->religion);
        bind_str(q, 11, p->nationality);
        bind_pid(q, 12, p->father);
        bind_pid(q, 13, p->mother);
        bind_pid(q, 14, p->spouse);
        sqlite3_bind_int(q, 15, (int)p->status);
        bind_date(q, 16, p->death_date);
        sqlite3_bind_int64(q, 17, p->created_at);
        sqlite3_bind_int64(q, 18, p->updated_at);
        sqlite3_bind_int64(q, 19, p->version);
}

static int sq_person_get(struct store *st, int64_t pid, struct person *out, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_PERSON_GET, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) {
                char buf[PID_LEN + 1];
                pid_from_int(pid, buf);
                return done(q, pop_fail(err, POP_ENOTFOUND, "person-not-found",
                                        "no person with ID %s", buf));
        }
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        if (read_person(q, out) != 0)
                return done(q, corrupt(err, "person"));
        return done(q, 0);
}

static int sq_person_exists(struct store *st, int64_t pid, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_PERSON_EXISTS, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
                return done(q, 1);
        if (rc == SQLITE_DONE)
                return done(q, 0);
        return done(q, fail_db(s, rc, err));
}

static int person_write(struct store *st, enum stmt_id id, const struct person *p,
                        struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, id, err);
        if (!q)
                return POP_ESTORE;
        bind_person(q, p);
        int rc = step_done(s, q, err);
        if (rc == 0 && id == S_PERSON_UPDATE && sqlite3_changes(s->db) != 1)
                return pop_fail(err, POP_ENOTFOUND, "person-not-found", "no such person to update");
        return rc;
}

static int sq_person_insert(struct store *st, const struct person *p, struct pop_err *err)
{
        return person_write(st, S_PERSON_INSERT, p, err);
}

static int sq_person_update(struct store *st, const struct person *p, struct pop_err *err)
{
        return person_write(st, S_PERSON_UPDATE, p, err);
}

static int sq_person_children(struct store *st, int64_t pid, store_person_fn *fn, void *ctx,
                              struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_PERSON_CHILDREN, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc;
        struct person p;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                if (read_person(q, &p) != 0)
                        return done(q, corrupt(err, "person"));
                int stop = fn(ctx, &p);
                if (stop)
                        return done(q, stop);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

static int sq_person_count(struct store *st, int64_t *n, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_PERSON_COUNT, err);
        if (!q)
                return POP_ESTORE;
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        *n = sqlite3_column_int64(q, 0);
        return done(q, 0);
}

/* ---- households ---- */

static int sq_household_get(struct store *st, int64_t id, struct household *out,
                            struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_HH_GET, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, id);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, pop_fail(err, POP_ENOTFOUND, "household-not-found",
                                        "no household %lld", (long long)id));
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        out->id = sqlite3_column_int64(q, 0);
        out->head = sqlite3_column_int64(q, 1);
        out->province = sqlite3_column_int(q, 2);
        store__sqlite_col_text(q, 3, out->commune, sizeof out->commune);
        store__sqlite_col_text(q, 4, out->address, sizeof out->address);
        if (col_date(q, 5, &out->created) != 0)
                return done(q, corrupt(err, "household"));
        return done(q, 0);
}

static void bind_household(sqlite3_stmt *q, const struct household *h, int first)
{
        sqlite3_bind_int64(q, first, h->head);
        sqlite3_bind_int(q, first + 1, h->province);
        bind_str(q, first + 2, h->commune);
        bind_str(q, first + 3, h->address);
        bind_date(q, first + 4, h->created);
}

static int sq_household_insert(struct store *st, struct household *h, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_HH_INSERT, err);
        if (!q)
                return POP_ESTORE;
        bind_household(q, h, 1);
        int rc = step_done(s, q, err);
        if (rc == 0)
                h->id = sqlite3_last_insert_rowid(s->db);
        return rc;
}

static int sq_household_update(struct store *st, const struct household *h, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_HH_UPDATE, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, h->id);
        bind_household(q, h, 2);
        return step_done(s, q, err);
}

static int read_residence(sqlite3_stmt *q, struct residence *r)
{
        r->id = sqlite3_column_int64(q, 0);
        r->pid = sqlite3_column_int64(q, 1);
        const unsigned char *k = sqlite3_column_text(q, 2);
        r->kind = k ? (char)k[0] : 0;
        r->household = sqlite3_column_int64(q, 3);
        store__sqlite_col_text(q, 4, r->relation, sizeof r->relation);
        r->province = sqlite3_column_int(q, 5);
        store__sqlite_col_text(q, 6, r->commune, sizeof r->commune);
        store__sqlite_col_text(q, 7, r->address, sizeof r->address);
        if (col_date(q, 8, &r->valid_from) || col_date(q, 9, &r->valid_to) ||
            col_date(q, 10, &r->ended))
                return -1;
        store__sqlite_col_text(q, 11, r->end_reason, sizeof r->end_reason);
        return 0;
}

static int each_residence(struct sqlite_store *s, sqlite3_stmt *q, store_residence_fn *fn,
                          void *ctx, struct pop_err *err)
{
        int rc;
        struct residence r;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                if (read_residence(q, &r) != 0)
                        return done(q, corrupt(err, "residence"));
                int stop = fn(ctx, &r);
                if (stop)
                        return done(q, stop);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

static int sq_household_members(struct store *st, int64_t household, struct pdate on,
                                store_residence_fn *fn, void *ctx, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_HH_MEMBERS, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, household);
        bind_date(q, 2, on);
        return each_residence(s, q, fn, ctx, err);
}

static int sq_household_head_on(struct store *st, int64_t household, struct pdate on, int64_t *head,
                                struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_HH_HEAD_ON, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, household);
        bind_date(q, 2, on);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, pop_fail(err, POP_ENOTFOUND, "household-no-head",
                                        "household %lld had no head on that date",
                                        (long long)household));
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        *head = sqlite3_column_int64(q, 0);
        return done(q, 0);
}

static int sq_household_head_set(struct store *st, int64_t household, int64_t head,
                                 struct pdate from, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_HH_HEAD_END, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, household);
        bind_date(q, 2, from);
        int rc = step_done(s, q, err);
        if (rc)
                return rc;
        if (!(q = prep(s, S_HH_HEAD_START, err)))
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, household);
        sqlite3_bind_int64(q, 2, head);
        bind_date(q, 3, from);
        if ((rc = step_done(s, q, err)))
                return rc;
        if (!(q = prep(s, S_HH_SET_HEAD, err)))
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, household);
        sqlite3_bind_int64(q, 2, head);
        return step_done(s, q, err);
}

/* ---- residence ---- */

static int sq_residence_current(struct store *st, int64_t pid, char kind, struct residence *out,
                                struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        if (kind != RESIDENCE_PERMANENT && kind != RESIDENCE_TEMPORARY)
                return pop_fail(err, POP_ENOTFOUND, "residence-not-found",
                                "no current residence of kind '%c'", kind);
        sqlite3_stmt *q =
            prep(s, kind == RESIDENCE_PERMANENT ? S_RES_CURRENT_P : S_RES_CURRENT_T, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, pop_fail(err, POP_ENOTFOUND, "residence-not-found",
                                        "no current %s residence",
                                        kind == RESIDENCE_PERMANENT ? "permanent" : "temporary"));
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        if (read_residence(q, out) != 0)
                return done(q, corrupt(err, "residence"));
        return done(q, 0);
}

static void bind_residence(sqlite3_stmt *q, const struct residence *r)
{
        char k[2] = {r->kind, 0};
        sqlite3_bind_int64(q, 1, r->id);
        sqlite3_bind_int64(q, 2, r->pid);
        sqlite3_bind_text(q, 3, k, 1, SQLITE_TRANSIENT);
        bind_pid(q, 4, r->household);
        bind_str(q, 5, r->relation);
        sqlite3_bind_int(q, 6, r->province);
        bind_str(q, 7, r->commune);
        bind_str(q, 8, r->address);
        bind_date(q, 9, r->valid_from);
        bind_date(q, 10, r->valid_to);
        bind_date(q, 11, r->ended);
        bind_str(q, 12, r->end_reason);
}

static int sq_residence_insert(struct store *st, struct residence *r, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_RES_INSERT, err);
        if (!q)
                return POP_ESTORE;
        bind_residence(q, r);
        int rc = step_done(s, q, err);
        if (rc == 0)
                r->id = sqlite3_last_insert_rowid(s->db);
        return rc;
}

static int sq_residence_update(struct store *st, const struct residence *r, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_RES_UPDATE, err);
        if (!q)
                return POP_ESTORE;
        bind_residence(q, r);
        return step_done(s, q, err);
}

static int sq_residence_history(struct store *st, int64_t pid, store_residence_fn *fn, void *ctx,
                                struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_RES_HISTORY, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        return each_residence(s, q, fn, ctx, err);
}

/* ---- cards ---- */

static int read_card(sqlite3_stmt *q, struct card *c)
{
        c->id = sqlite3_column_int64(q, 0);
        c->pid = sqlite3_column_int64(q, 1);
        if (col_date(q, 2, &c->issued) || col_date(q, 3, &c->expires))
                return -1;
        c->never_expires = pdate_is_none(c->expires);
        c->status = (enum card_status)sqlite3_column_int(q, 4);
        if (col_date(q, 5, &c->status_date))
                return -1;
        store__sqlite_col_text(q, 6, c->reason, sizeof c->reason);
        return 0;
}

static void bind_card(sqlite3_stmt *q, const struct card *c)
{
        sqlite3_bind_int64(q, 1, c->id);
        sqlite3_bind_int64(q, 2, c->pid);
        bind_date(q, 3, c->issued);
        struct pdate none = {0, 0, 0};
        bind_date(q, 4, c->never_expires ? none : c->expires);
        sqlite3_bind_int(q, 5, (int)c->status);
        bind_date(q, 6, c->status_date);
        bind_str(q, 7, c->reason);
}

static int sq_card_current(struct store *st, int64_t pid, struct card *out, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_CARD_CURRENT, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, pop_fail(err, POP_ENOTFOUND, "card-not-found", "no valid card"));
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        if (read_card(q, out) != 0)
                return done(q, corrupt(err, "card"));
        return done(q, 0);
}

static int sq_card_insert(struct store *st, struct card *c, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_CARD_INSERT, err);
        if (!q)
                return POP_ESTORE;
        bind_card(q, c);
        int rc = step_done(s, q, err);
        if (rc == 0)
                c->id = sqlite3_last_insert_rowid(s->db);
        return rc;
}

static int sq_card_update(struct store *st, const struct card *c, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_CARD_UPDATE, err);
        if (!q)
                return POP_ESTORE;
        bind_card(q, c);
        return step_done(s, q, err);
}

static int sq_card_history(struct store *st, int64_t pid, store_card_fn *fn, void *ctx,
                           struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_CARD_HISTORY, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc;
        struct card c;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                if (read_card(q, &c) != 0)
                        return done(q, corrupt(err, "card"));
                int stop = fn(ctx, &c);
                if (stop)
                        return done(q, stop);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

/* ---- journal ---- */

static int sq_event_append(struct store *st, struct event *e, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_EVENT_INSERT, err);
        if (!q)
                return POP_ESTORE;
        bind_str(q, 1, e->type);
        bind_date(q, 2, e->effective);
        sqlite3_bind_int64(q, 3, e->recorded_at);
        bind_str(q, 4, e->actor);
        bind_str(q, 5, e->legal_basis);
        sqlite3_bind_text(q, 6, e->payload, (int)e->payload_len, SQLITE_STATIC);
        int rc = step_done(s, q, err);
        if (rc)
                return rc;
        e->seq = sqlite3_last_insert_rowid(s->db);
        for (int i = 0; i < e->n_subjects; i++) {
                if (!e->subjects[i])
                        continue;
                if (!(q = prep(s, S_EVENT_SUBJECT, err)))
                        return POP_ESTORE;
                sqlite3_bind_int64(q, 1, e->subjects[i]);
                sqlite3_bind_int64(q, 2, e->seq);
                if ((rc = step_done(s, q, err)))
                        return rc;
        }
        return 0;
}

static int sq_event_history(struct store *st, int64_t pid, store_event_fn *fn, void *ctx,
                            struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_EVENT_HISTORY, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                struct event e;
                memset(&e, 0, sizeof e);
                e.seq = sqlite3_column_int64(q, 0);
                store__sqlite_col_text(q, 1, e.type, sizeof e.type);
                if (col_date(q, 2, &e.effective))
                        return done(q, corrupt(err, "event"));
                e.recorded_at = sqlite3_column_int64(q, 3);
                store__sqlite_col_text(q, 4, e.actor, sizeof e.actor);
                store__sqlite_col_text(q, 5, e.legal_basis, sizeof e.legal_basis);
                e.payload = (const char *)sqlite3_column_text(q, 6);
                e.payload_len = (size_t)sqlite3_column_bytes(q, 6);
                e.subjects[0] = pid;
                e.n_subjects = 1;
                int stop = fn(ctx, &e);
                if (stop)
                        return done(q, stop);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

static int sq_series_get(struct store *st, int64_t series, uint32_t *next, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_SERIES_GET, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, series);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE) {
                *next = 0;
                return done(q, 0);
        }
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        *next = (uint32_t)sqlite3_column_int64(q, 0);
        return done(q, 0);
}

static int sq_series_set(struct store *st, int64_t series, uint32_t next, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_SERIES_SET, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, series);
        sqlite3_bind_int64(q, 2, next);
        return step_done(s, q, err);
}

/* ---- bulk import and export ---- */

static int sq_person_each(struct store *st, store_person_fn *fn, void *ctx, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_PERSON_EACH, err);
        if (!q)
                return POP_ESTORE;
        int rc;
        struct person p;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                if (read_person(q, &p) != 0)
                        return done(q, corrupt(err, "person"));
                int stop = fn(ctx, &p);
                if (stop)
                        return done(q, stop);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

/* Runs a cached statement binding two integers. */
static int run2(struct sqlite_store *s, enum stmt_id id, int64_t a, int64_t b, struct pop_err *err)
{
        sqlite3_stmt *q = prep(s, id, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, a);
        sqlite3_bind_int64(q, 2, b);
        return step_done(s, q, err);
}

/* Runs a cached query binding one integer: 1 when it returns a row (its first column in *out
 * when out is not NULL), 0 when none. */
static int probe(struct sqlite_store *s, enum stmt_id id, int64_t a, int64_t *out,
                 struct pop_err *err)
{
        sqlite3_stmt *q = prep(s, id, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, a);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
                if (out)
                        *out = sqlite3_column_int64(q, 0);
                return done(q, 1);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

static int sq_event_amend(struct store *st, int64_t seq, const char *payload, size_t len,
                          struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_EVENT_AMEND, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, seq);
        sqlite3_bind_text(q, 2, payload, (int)len, SQLITE_STATIC);
        return step_done(s, q, err);
}

/* The tables an import fills, whose secondary indexes may be rebuilt after a bulk load. */
#define IMPORT_TABLES                                                                              \
        "'person', 'household', 'household_head', 'residence', 'card', 'event_subject'"

/*
 * The import's bookkeeping lives in TEMP tables spilling to a file (temp_store = FILE), so its
 * memory is the page caches, whatever the size of the input. The main cache holds the bulk
 * writes until it is full, then spills them to the WAL, still uncommitted: 64 MiB by default,
 * which a million people fill (the bulk writes append). The bookkeeping gets 16 MiB: its tables
 * are written at their end (household keys in file order, the ID list in sorted batches from
 * src/import/ids.c) and read near it, so a larger cache only held pages no one reads again, and
 * grew the import's memory with N up to its size. No memory map during
 * the import: every page of the file the index builds read would count in the process's memory
 * (up to the 1 GiB map) and the import's memory would grow with the registry. These pragmas
 * must be set outside a transaction; the transaction begins here. Returns 1 when the registry
 * holds no person (an import's lines then need not look anyone up in it), else 0.
 */
static int sq_import_begin(struct store *st, unsigned flags, int cache_mib, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        char cache[64];
        snprintf(cache, sizeof cache, "PRAGMA main.cache_size = -%lld;",
                 (long long)(cache_mib > 0 ? cache_mib : 64) * 1024);
        int rc = exec(s, cache, err);
        if (rc)
                return rc;
        rc = exec(s,
                  "PRAGMA temp_store = FILE; PRAGMA mmap_size = 0;"
                  " PRAGMA temp.cache_size = -16384;"
                  " CREATE TEMP TABLE IF NOT EXISTS imp_p(pid INTEGER PRIMARY KEY,"
                  " src INTEGER NOT NULL, dob INTEGER NOT NULL, sex INTEGER NOT NULL);"
                  " CREATE TEMP TABLE IF NOT EXISTS imp_rej(pid INTEGER PRIMARY KEY,"
                  " done INTEGER NOT NULL, loaded INTEGER NOT NULL);"
                  " CREATE TEMP TABLE IF NOT EXISTS imp_hh(key TEXT PRIMARY KEY, id INTEGER,"
                  " heads INTEGER NOT NULL DEFAULT 0, refused_heads INTEGER NOT NULL DEFAULT 0)"
                  " WITHOUT ROWID;"
                  " CREATE TEMP TABLE IF NOT EXISTS imp_spouse(pid INTEGER PRIMARY KEY,"
                  " spouse INTEGER NOT NULL, sex INTEGER NOT NULL, dead INTEGER NOT NULL);"
                  " CREATE TEMP TABLE IF NOT EXISTS imp_idx(sql TEXT NOT NULL);",
                  err);
        if (rc || (rc = sq_begin(st, err)))
                return rc;
        int64_t any = 0;
        sqlite3_stmt *q = NULL;
        if ((rc = sqlite3_prepare_v2(s->db, "SELECT EXISTS (SELECT 1 FROM person)", -1, &q,
                                     NULL)) != SQLITE_OK ||
            (rc = sqlite3_step(q)) != SQLITE_ROW) {
                rc = fail_db(s, rc, err);
                sqlite3_finalize(q);
                return rc;
        }
        any = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        if (any)
                return 0;
        if (!(flags & STORE_IMPORT_REBUILD_INDEXES))
                return 1;
        /* An empty registry: build the indexes once at the end, by sorting, rather than growing
         * them row by row. Inside the transaction, so a crash leaves them as they were. */
        if ((rc = exec(s,
                       "INSERT INTO temp.imp_idx(sql) SELECT sql FROM main.sqlite_master"
                       " WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (" IMPORT_TABLES
                       ")",
                       err)))
                return rc;
        if ((rc = sqlite3_prepare_v2(s->db,
                                     "SELECT name FROM main.sqlite_master WHERE type = 'index'"
                                     " AND sql IS NOT NULL AND tbl_name IN (" IMPORT_TABLES ")",
                                     -1, &q, NULL)) != SQLITE_OK)
                return fail_db(s, rc, err);
        /* Names first, drops after: the schema must not change under the running query. */
        char *drops = sqlite3_mprintf("%s", "");
        while (drops && (rc = sqlite3_step(q)) == SQLITE_ROW) {
                char *more = sqlite3_mprintf("%sDROP INDEX main.\"%w\";", drops,
                                             (const char *)sqlite3_column_text(q, 0));
                sqlite3_free(drops);
                drops = more;
        }
        sqlite3_finalize(q);
        if (!drops)
                return pop_fail(err, POP_ENOMEM, "store-nomem", "out of memory in SQLite");
        rc = exec(s, drops, err);
        sqlite3_free(drops);
        return rc ? rc : 1;
}

/* The import's own tables are only read from now on (the ID list, scanned in order): their cache
 * gives its memory back to the bulk writes and index builds that follow. */
static int sq_import_lines_done(struct store *st, struct pop_err *err)
{
        return exec(S(st), "PRAGMA temp.cache_size = -16384", err);
}

static int sq_import_rebuild(struct store *st, int64_t seq, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = NULL;
        /*
         * CREATE INDEX sorts in lists of up to the page cache's size (sqlite3 vdbesort.c,
         * mxPmaSize) and hands each full list to a helper thread to sort and write while the
         * table scan fills the next. Lists of a fixed 16 MiB, whatever the import's cache, keep
         * the sort's memory the same at any N (at most one list per thread) and give the helpers
         * work from the first 16 MiB: with the quarter of a 256 MiB cache used before, a million
         * people fitted one list and the whole sort ran on the scanning thread. The scan reads
         * the table in order, which a small cache serves as well as a large one.
         */
        int rc = exec(s, "PRAGMA main.cache_size = -16384; PRAGMA threads = 4;", err);
        if (rc)
                return rc;
        rc = sqlite3_prepare_v2(s->db, "SELECT sql FROM temp.imp_idx", -1, &q, NULL);
        if (rc != SQLITE_OK)
                return fail_db(s, rc, err);
        char *all = sqlite3_mprintf("%s", "");
        while (all && (rc = sqlite3_step(q)) == SQLITE_ROW) {
                char *more = sqlite3_mprintf("%s%s;", all, (const char *)sqlite3_column_text(q, 0));
                sqlite3_free(all);
                all = more;
        }
        sqlite3_finalize(q);
        if (!all)
                return pop_fail(err, POP_ENOMEM, "store-nomem", "out of memory in SQLite");
        rc = exec(s, all, err);
        sqlite3_free(all);
        /* The loaded IDs were appended in file order; the end checks look them up by ID. */
        if (rc || (rc = exec(s,
                             "DELETE FROM temp.imp_idx;"
                             " CREATE INDEX IF NOT EXISTS temp.imp_hh_id ON imp_hh(id);"
                             " PRAGMA threads = 0;",
                             err)))
                return rc;
        sqlite3_stmt *subj = prep(s, S_IMP_SUBJECTS, err);
        if (!subj)
                return POP_ESTORE;
        sqlite3_bind_int64(subj, 1, seq);
        if ((rc = step_done(s, subj, err)))
                return rc;
        sqlite3_stmt *settle = prep(s, S_IMP_SETTLE, err);
        return settle ? step_done(s, settle, err) : POP_ESTORE;
}

static void sq_import_end(struct store *st)
{
        struct sqlite_store *s = S(st);
        sq_rollback(st);
        exec(s,
             "DROP TABLE IF EXISTS temp.imp_p; DROP TABLE IF EXISTS temp.imp_rej;"
             " DROP TABLE IF EXISTS temp.imp_hh; DROP TABLE IF EXISTS temp.imp_spouse;"
             " DROP TABLE IF EXISTS temp.imp_idx; PRAGMA temp_store = MEMORY;"
             " PRAGMA main.cache_size = -65536; PRAGMA mmap_size = 1073741824;",
             NULL);
}

/* The import's own list of the people it loads, by ID (a compact row: the people themselves are
 * written in ID order at the end), with what the lines after need of them: dob as yyyymmdd. */
static int sq_import_loaded(struct store *st, const struct person *p, int64_t src,
                            struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_IMP_LOADED, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, p->pid);
        sqlite3_bind_int64(q, 2, src);
        sqlite3_bind_int(q, 3, p->dob.y * 10000 + p->dob.m * 100 + p->dob.d);
        sqlite3_bind_int(q, 4, (int)p->sex);
        return step_done(s, q, err);
}

static int sq_import_find(struct store *st, int64_t pid, struct person *out, int64_t *src,
                          struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_IMP_FIND, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, POP_ENOTFOUND);
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        memset(out, 0, sizeof *out);
        out->pid = pid;
        *src = sqlite3_column_int64(q, 0);
        int d = sqlite3_column_int(q, 1);
        out->dob = (struct pdate){(int16_t)(d / 10000), (int8_t)(d / 100 % 100), (int8_t)(d % 100)};
        out->sex = (enum sex)sqlite3_column_int(q, 2);
        return done(q, 0);
}

static int sq_import_reject(struct store *st, int64_t pid, int loaded, struct pop_err *err)
{
        return run2(S(st), S_IMP_REJECT, pid, loaded, err);
}

static int sq_import_is_rejected(struct store *st, int64_t pid, struct pop_err *err)
{
        return probe(S(st), S_IMP_IS_REJECTED, pid, NULL, err);
}

static int sq_import_household_find(struct store *st, const char *key, struct household *out,
                                    int *heads, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_IMP_HH_FIND, err);
        if (!q)
                return POP_ESTORE;
        bind_str(q, 1, key);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, POP_ENOTFOUND);
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        out->id = sqlite3_column_int64(q, 0);
        *heads = sqlite3_column_int(q, 1);
        out->head = sqlite3_column_int64(q, 2);
        out->province = sqlite3_column_int(q, 3);
        store__sqlite_col_text(q, 4, out->commune, sizeof out->commune);
        store__sqlite_col_text(q, 5, out->address, sizeof out->address);
        if (col_date(q, 6, &out->created) != 0)
                return done(q, corrupt(err, "household"));
        return done(q, 0);
}

static int sq_import_household_add(struct store *st, const char *key, struct household *h,
                                   struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        int rc = 0;
        if (h->id > 0 && (rc = probe(s, S_IMP_HH_FREE, h->id, NULL, err)) < 0)
                return rc;
        sqlite3_stmt *q = prep(s, S_IMP_HH_INSERT, err);
        if (!q)
                return POP_ESTORE;
        bind_pid(q, 1, rc == 0 ? h->id : 0);
        bind_household(q, h, 2);
        if ((rc = step_done(s, q, err)))
                return rc;
        h->id = sqlite3_last_insert_rowid(s->db);
        if (!(q = prep(s, S_IMP_HH_KEY, err)))
                return POP_ESTORE;
        bind_str(q, 1, key);
        sqlite3_bind_int64(q, 2, h->id);
        return step_done(s, q, err);
}

static int sq_import_household_head(struct store *st, const char *key, int64_t hh, int64_t pid,
                                    struct pdate from, int heads, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_IMP_HH_HEAD, err);
        if (!q)
                return POP_ESTORE;
        bind_str(q, 1, key);
        int rc = step_done(s, q, err);
        if (rc || heads > 0)
                return rc;
        if (!(q = prep(s, S_HH_HEAD_START, err)))
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, hh);
        sqlite3_bind_int64(q, 2, pid);
        bind_date(q, 3, from);
        if ((rc = step_done(s, q, err)))
                return rc;
        return run2(s, S_HH_SET_HEAD, hh, pid, err);
}

static int sq_import_household_refused_head(struct store *st, const char *key, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_IMP_HH_REFUSED, err);
        if (!q)
                return POP_ESTORE;
        bind_str(q, 1, key);
        return step_done(s, q, err);
}

static int sq_import_spouse(struct store *st, int64_t pid, enum sex sex, int dead, int64_t spouse,
                            int *outcome, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_IMP_SPOUSE_FIND, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, spouse);
        sqlite3_bind_int64(q, 2, pid);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
                int other = sqlite3_column_int(q, 0);
                done(q, 0);
                if (other == (int)sex) {
                        *outcome = STORE_SPOUSE_SAME_SEX;
                        return 0;
                }
                *outcome = STORE_SPOUSE_MATCHED;
                if (!(q = prep(s, S_IMP_SPOUSE_DEL, err)))
                        return POP_ESTORE;
                sqlite3_bind_int64(q, 1, spouse);
                return step_done(s, q, err);
        }
        if ((rc = done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err))))
                return rc;
        *outcome = STORE_SPOUSE_PENDING;
        if (!(q = prep(s, S_IMP_SPOUSE_ADD, err)))
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        sqlite3_bind_int64(q, 2, spouse);
        sqlite3_bind_int(q, 3, (int)sex);
        sqlite3_bind_int(q, 4, dead);
        return step_done(s, q, err);
}

static int sq_import_deferred(struct store *st, enum store_import_query which, store_import_fn *fn,
                              void *ctx, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        enum stmt_id id = which == STORE_IMPORT_SPOUSES      ? S_IMP_Q_SPOUSES
                          : which == STORE_IMPORT_HOUSEHOLDS ? S_IMP_Q_HOUSEHOLDS
                                                             : S_IMP_Q_DEPENDENTS;
        int rc;
        if (which == STORE_IMPORT_DEPENDENTS &&
            (rc = exec(s, "UPDATE temp.imp_rej SET done = 2 WHERE done = 0", err)))
                return rc;
        sqlite3_stmt *q = prep(s, id, err);
        if (!q)
                return POP_ESTORE;
        struct store_import_row row;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                row.pid = sqlite3_column_int64(q, 0);
                row.src = sqlite3_column_int64(q, 1);
                row.other = sqlite3_column_int64(q, 2);
                row.key = (const char *)sqlite3_column_text(q, 3);
                row.n = sqlite3_column_int(q, 4);
                row.m = sqlite3_column_int(q, 5);
                int stop = fn(ctx, &row);
                if (stop)
                        return done(q, stop);
        }
        if ((rc = done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err))))
                return rc;
        if (which == STORE_IMPORT_DEPENDENTS)
                return exec(s, "UPDATE temp.imp_rej SET done = 1 WHERE done = 2", err);
        return 0;
}

static int sq_import_purge(struct store *st, int64_t seq, int64_t *n, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        *n = 0;
        int rc = exec(s,
                      "CREATE TEMP TABLE imp_gone AS SELECT j.pid AS pid FROM temp.imp_rej j"
                      " CROSS JOIN temp.imp_p p ON p.pid = j.pid;"
                      " DELETE FROM person WHERE pid IN (SELECT pid FROM temp.imp_gone);"
                      " DELETE FROM residence WHERE pid IN (SELECT pid FROM temp.imp_gone);"
                      " DELETE FROM card WHERE pid IN (SELECT pid FROM temp.imp_gone);"
                      " DELETE FROM household_head WHERE pid IN (SELECT pid FROM temp.imp_gone);"
                      " DELETE FROM temp.imp_p WHERE pid IN (SELECT pid FROM temp.imp_gone);"
                      " DELETE FROM household WHERE id IN (SELECT id FROM temp.imp_hh"
                      " WHERE id IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM residence r"
                      " WHERE r.household = household.id);",
                      err);
        if (rc == 0) {
                sqlite3_stmt *q = NULL;
                rc = sqlite3_prepare_v2(s->db,
                                        "DELETE FROM event_subject WHERE seq = ?1 AND pid IN"
                                        " (SELECT pid FROM temp.imp_gone)",
                                        -1, &q, NULL);
                if (rc == SQLITE_OK) {
                        sqlite3_bind_int64(q, 1, seq);
                        rc = sqlite3_step(q);
                }
                rc = rc == SQLITE_DONE ? 0 : fail_db(s, rc, err);
                sqlite3_finalize(q);
        }
        if (rc == 0) {
                sqlite3_stmt *q = NULL;
                if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM temp.imp_gone", -1, &q, NULL) ==
                        SQLITE_OK &&
                    sqlite3_step(q) == SQLITE_ROW)
                        *n = sqlite3_column_int64(q, 0);
                sqlite3_finalize(q);
        }
        exec(s, "DROP TABLE IF EXISTS temp.imp_gone", NULL);
        return rc;
}

/* ---- name search ---- */

/*
 * A search walks person_search_fold (exact) or person_search_key (folded, prefix), whose order
 * is the search's, (key, dob, pid), so nothing is sorted and a page seeks straight to where the
 * last one stopped. Dates of birth are stored as "YYYY[-MM[-DD]]", whose byte order is that of
 * struct pdate with unknown parts first, so the dates a query accepts are at most three ranges
 * of one key: for 1990-05-12 the rows dated exactly "1990", exactly "1990-05" and "1990-05-12".
 * A prefix with a date filter visits the keys under the prefix one by one and seeks those ranges
 * in each (a skip-scan), instead of reading every row under the prefix. Sex and status are
 * in those indexes, so they are checked here without reading the row; the province
 * (residence_open_province) and the name are read only for the rows that pass them. Rows,
 * residences read and keys probed count against the budget max_work (see store.h).
 */

#define SEARCH_DOB_RANGES 3
#define SEARCH_DOB_TEXT   12
#define SEARCH_KEY_END    "~" /* sorts after every stored date: past all rows of a key */

/* lo <= dob < hi, as text. */
struct dob_range {
        char lo[SEARCH_DOB_TEXT], hi[SEARCH_DOB_TEXT];
};

struct search {
        struct sqlite_store *s;
        const struct store_search *q;
        store_search_fn *fn;
        void *ctx;
        struct store_search_end *end;
        struct pop_err *err;
        struct dob_range ranges[SEARCH_DOB_RANGES];
        int n_ranges;
        bool filtered_dob; /* ranges narrow the dates (else one range holds every date) */
        int max_work;
        int hits;
        bool stop;                   /* the page is complete: end->more and end->next are set */
        bool have_pos;               /* pos holds a position (else: the start of the search) */
        struct store_search_pos pos; /* the last row or key looked at */
        char pos_dob[SEARCH_DOB_TEXT];
};

/* Every stored date a "may be the same day" match accepts: the query's date and its prefixes. */
static void search_ranges(struct search *x)
{
        const struct store_search *q = x->q;
        struct dob_range *r = x->ranges;
        int from = q->year_from ? q->year_from : 0, to = q->year_to ? q->year_to : 9999;
        x->n_ranges = 0;
        x->filtered_dob = q->year_from || q->year_to || !pdate_is_none(q->dob);
        if (pdate_is_none(q->dob)) {
                /* "YYYY" sorts before "YYYY-..." and both before "YYYY+1". */
                snprintf(r[0].lo, sizeof r[0].lo, "%04d", from);
                if (q->year_to)
                        snprintf(r[0].hi, sizeof r[0].hi, "%04d", to + 1);
                else
                        snprintf(r[0].hi, sizeof r[0].hi, "%s", SEARCH_KEY_END);
                x->n_ranges = from <= to;
                return;
        }
        if (q->dob.y < from || q->dob.y > to)
                return;
        struct pdate parts[3] = {{q->dob.y, 0, 0}, {q->dob.y, q->dob.m, 0}, q->dob};
        int n = q->dob.d ? 3 : q->dob.m ? 2 : 1;
        for (int i = 0; i < n; i++) {
                char t[11];
                pdate_format(parts[i], t);
                snprintf(r[i].lo, sizeof r[i].lo, "%s", t);
                /* The query's own date takes every longer date under it ('.' follows '-'); a
                 * prefix of it only itself ("1990" < "1990-" <= "1990-01"). */
                snprintf(r[i].hi, sizeof r[i].hi, "%s%c", t, i == n - 1 ? '.' : '-');
        }
        x->n_ranges = n;
}

/* Counts work against the budget; false (and the page ends) once it is spent. */
static bool search_spend(struct search *x, int cost)
{
        if (x->end->work >= x->max_work) {
                x->stop = true;
                return false;
        }
        x->end->work += cost;
        return true;
}

/* Sex and status, as SEARCH_COLS checks them before it reads the residence. */
static bool search_sex_status(const struct store_search *q, const struct store_search_hit *h)
{
        return (q->sex == SEX_UNKNOWN || h->sex == q->sex) &&
               (q->status == STORE_SEARCH_STATUS_ANY || (int)h->status == q->status);
}

static bool search_in_province(const struct store_search *q, const struct store_search_hit *h)
{
        if (q->province) {
                /* Resolution 202/2025/QH15: a residence recorded under a legacy province is in the
                 * unit that absorbed it. */
                const struct region_unit *u = region_current_unit(h->province);
                if (!u || u->code != q->province)
                        return false;
        }
        return true;
}

/* Binds the filters SEARCH_COLS uses. */
static void search_bind_filters(struct search *x, sqlite3_stmt *q)
{
        sqlite3_bind_int(q, 5, (int)x->q->sex);
        sqlite3_bind_int(q, 6, x->q->status);
}

/* Hands a hit to fn with its name, read from the row only now. */
static int search_emit(struct search *x, struct store_search_hit *h)
{
        sqlite3_stmt *q = prep(x->s, S_SEARCH_NAME, x->err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, h->pid);
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return done(q, rc == SQLITE_DONE ? corrupt(x->err, "person")
                                                 : fail_db(x->s, rc, x->err));
        h->full_name = (const char *)sqlite3_column_text(q, 0);
        if (!h->full_name)
                return done(q, corrupt(x->err, "person"));
        return done(q, x->fn(x->ctx, h));
}

/*
 * Steps q (columns: pid, dob, sex, status, province, key; the person table is not read) until
 * done, the page is full or the budget is spent.
 */
static int search_rows(struct search *x, sqlite3_stmt *q)
{
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                if (!search_spend(x, 1))
                        return done(q, 0);
                struct store_search_hit h;
                h.pid = sqlite3_column_int64(q, 0);
                h.full_name = NULL;
                if (col_date(q, 1, &h.dob) != 0)
                        return done(q, corrupt(x->err, "person"));
                h.sex = (enum sex)sqlite3_column_int(q, 2);
                h.status = (enum person_status)sqlite3_column_int(q, 3);
                h.province = sqlite3_column_int(q, 4);
                bool read = search_sex_status(x->q, &h);
                if (read)
                        x->end->work += STORE_SEARCH_SEEK_COST; /* the residence was read */
                if (read && search_in_province(x->q, &h)) {
                        if (x->hits == x->q->limit) {
                                /* One more than the page: the next page starts after the last hit.
                                 */
                                x->stop = true;
                                return done(q, 0);
                        }
                        x->hits++;
                        int stop = search_emit(x, &h);
                        if (stop)
                                return done(q, stop);
                }
                store__sqlite_col_text(q, 5, x->pos.key, sizeof x->pos.key);
                x->pos.dob = h.dob;
                x->pos.pid = h.pid;
                x->pos.key_end = false;
                x->have_pos = true;
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(x->s, rc, x->err));
}

/* The rows of one key within the date ranges, after the current position when it is in key. */
static int search_key(struct search *x, enum stmt_id id, const char *key)
{
        bool inside = x->have_pos && strcmp(x->pos.key, key) == 0;
        if (inside && x->pos.key_end)
                return 0;
        char from[SEARCH_DOB_TEXT] = "";
        int64_t from_pid = 0;
        if (inside) {
                pdate_format(x->pos.dob, from);
                from_pid = x->pos.pid;
        }
        for (int i = 0; i < x->n_ranges && !x->stop; i++) {
                const struct dob_range *r = &x->ranges[i];
                if (inside && strcmp(from, r->hi) >= 0)
                        continue;
                bool mid = inside && strcmp(from, r->lo) >= 0;
                sqlite3_stmt *q = prep(x->s, id, x->err);
                if (!q)
                        return POP_ESTORE;
                sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(q, 2, mid ? from : r->lo, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(q, 3, mid ? from_pid : 0);
                sqlite3_bind_text(q, 4, r->hi, -1, SQLITE_STATIC);
                search_bind_filters(x, q);
                int rc = search_rows(x, q);
                if (rc)
                        return rc;
        }
        if (!x->stop) {
                snprintf(x->pos.key, sizeof x->pos.key, "%s", key);
                x->pos.key_end = true;
                x->have_pos = true;
        }
        return 0;
}

/* A prefix without a date filter: one pass over the index range of the prefix. */
static int search_range(struct search *x, const char *hi)
{
        sqlite3_stmt *q = prep(x->s, S_SEARCH_RANGE, x->err);
        if (!q)
                return POP_ESTORE;
        char dob[SEARCH_DOB_TEXT] = "";
        if (x->have_pos && x->pos.key_end)
                snprintf(dob, sizeof dob, "%s", SEARCH_KEY_END);
        else if (x->have_pos)
                pdate_format(x->pos.dob, dob);
        sqlite3_bind_text(q, 1, x->have_pos ? x->pos.key : x->q->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, dob, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, x->have_pos && !x->pos.key_end ? x->pos.pid : 0);
        sqlite3_bind_text(q, 4, hi, -1, SQLITE_STATIC);
        search_bind_filters(x, q);
        return search_rows(x, q);
}

/* A prefix with a date filter: each key under the prefix in turn, its date ranges sought. */
static int search_keys(struct search *x, const char *hi)
{
        int rc;
        char key[STORE_SEARCH_KEY_MAX];
        if (x->have_pos && !x->pos.key_end) {
                snprintf(key, sizeof key, "%s", x->pos.key);
                if ((rc = search_key(x, S_SEARCH_KEY, key)))
                        return rc;
        }
        while (!x->stop) {
                if (!search_spend(x, STORE_SEARCH_SEEK_COST))
                        break;
                sqlite3_stmt *q =
                    prep(x->s, x->have_pos ? S_SEARCH_NEXT_KEY : S_SEARCH_FIRST_KEY, x->err);
                if (!q)
                        return POP_ESTORE;
                sqlite3_bind_text(q, 1, x->have_pos ? x->pos.key : x->q->name, -1,
                                  SQLITE_TRANSIENT);
                sqlite3_bind_text(q, 2, hi, -1, SQLITE_STATIC);
                rc = sqlite3_step(q);
                if (rc == SQLITE_DONE)
                        return done(q, 0);
                if (rc != SQLITE_ROW)
                        return done(q, fail_db(x->s, rc, x->err));
                store__sqlite_col_text(q, 0, key, sizeof key);
                done(q, 0);
                if ((rc = search_key(x, S_SEARCH_KEY, key)))
                        return rc;
        }
        return 0;
}

static int sq_person_search(struct store *st, const struct store_search *q, store_search_fn *fn,
                            void *ctx, struct store_search_end *end, struct pop_err *err)
{
        struct search x = {.s = S(st), .q = q, .fn = fn, .ctx = ctx, .end = end, .err = err};
        memset(end, 0, sizeof *end);
        size_t len = q->name ? strlen(q->name) : 0;
        if (len == 0 || len >= STORE_SEARCH_KEY_MAX)
                return pop_fail(err, POP_EINVAL, "search-name", "the search needs a name");
        if (q->limit < 1 || q->limit > STORE_SEARCH_LIMIT_MAX)
                return pop_fail(err, POP_EINVAL, "search-limit", "limit must be 1 to %d",
                                STORE_SEARCH_LIMIT_MAX);
        /* At least a key probe and a row, so every call moves on even when nothing matches. */
        x.max_work = q->max_work <= 0 ? STORE_SEARCH_WORK : q->max_work;
        if (x.max_work <= STORE_SEARCH_SEEK_COST)
                x.max_work = STORE_SEARCH_SEEK_COST + 1;
        if (q->after) {
                x.pos = *q->after;
                x.have_pos = true;
                if (!memchr(x.pos.key, '\0', sizeof x.pos.key) ||
                    (q->match == STORE_MATCH_PREFIX ? strncmp(x.pos.key, q->name, len) != 0
                                                    : strcmp(x.pos.key, q->name) != 0))
                        return pop_fail(err, POP_EINVAL, "search-cursor",
                                        "the position does not belong to this search");
        }
        search_ranges(&x);
        int rc = 0;
        if (q->match == STORE_MATCH_PREFIX) {
                /* Whole words: the key itself or the key and a space and more. No other byte
                 * below '!' can follow in a key (control characters are refused in names). */
                char hi[STORE_SEARCH_KEY_MAX + 1];
                snprintf(hi, sizeof hi, "%s!", q->name);
                if (x.n_ranges)
                        rc = x.filtered_dob ? search_keys(&x, hi) : search_range(&x, hi);
        } else if (x.n_ranges) {
                rc = search_key(&x, q->match == STORE_MATCH_EXACT ? S_SEARCH_FOLD : S_SEARCH_KEY,
                                q->name);
        }
        if (rc == 0 && x.stop) {
                end->more = x.have_pos;
                end->next = x.pos;
        }
        return rc;
}

/* ---- audit log ---- */

/*
 * Entries and checkpoints of the audit log (src/audit/). The rows are written once and never
 * updated; an iteration hands each row to the caller as stored, flagging a row whose columns do
 * not have the type or size an entry has (a text with a NUL inside, a hash that is not 32 bytes),
 * because the verifier must see a tampered row rather than a silently converted one.
 */

/* A text column as stored: false when it is not text or holds a NUL. */
static bool col_text_ok(sqlite3_stmt *q, int i, const char **out)
{
        *out = "";
        if (sqlite3_column_type(q, i) != SQLITE_TEXT)
                return false;
        const char *t = (const char *)sqlite3_column_text(q, i);
        int n = sqlite3_column_bytes(q, i);
        if (!t || (int)strlen(t) != n)
                return false;
        *out = t;
        return true;
}

static bool col_blob_ok(sqlite3_stmt *q, int i, uint8_t *out, size_t len)
{
        memset(out, 0, len);
        if (sqlite3_column_type(q, i) != SQLITE_BLOB || (size_t)sqlite3_column_bytes(q, i) != len)
                return false;
        memcpy(out, sqlite3_column_blob(q, i), len);
        return true;
}

static bool col_int_ok(sqlite3_stmt *q, int i, int64_t *out)
{
        *out = sqlite3_column_int64(q, i);
        return sqlite3_column_type(q, i) == SQLITE_INTEGER;
}

/* Columns: AUDIT_COLS. */
static void read_audit(sqlite3_stmt *q, struct store_audit_entry *e)
{
        bool ok = col_int_ok(q, 0, &e->seq);
        ok &= col_int_ok(q, 1, &e->time_ms);
        ok &= col_text_ok(q, 2, &e->actor);
        ok &= col_int_ok(q, 3, &e->subject);
        ok &= col_text_ok(q, 4, &e->action);
        ok &= col_text_ok(q, 5, &e->fields);
        ok &= col_text_ok(q, 6, &e->purpose);
        ok &= col_text_ok(q, 7, &e->outcome);
        ok &= col_text_ok(q, 8, &e->rule);
        ok &= col_text_ok(q, 9, &e->request_id);
        ok &= col_blob_ok(q, 10, e->hash, sizeof e->hash);
        e->malformed = !ok;
}

static int each_audit(struct sqlite_store *s, sqlite3_stmt *q, store_audit_fn *fn, void *ctx,
                      struct pop_err *err)
{
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                struct store_audit_entry e;
                read_audit(q, &e);
                int stop = fn(ctx, &e);
                if (stop)
                        return done(q, stop);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

static void bind_text_or_empty(sqlite3_stmt *q, int i, const char *t)
{
        sqlite3_bind_text(q, i, t ? t : "", -1, SQLITE_STATIC);
}

static int sq_audit_append(struct store *st, const struct store_audit_entry *e, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_AUDIT_INSERT, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, e->seq);
        sqlite3_bind_int64(q, 2, e->time_ms);
        bind_text_or_empty(q, 3, e->actor);
        sqlite3_bind_int64(q, 4, e->subject);
        bind_text_or_empty(q, 5, e->action);
        bind_text_or_empty(q, 6, e->fields);
        bind_text_or_empty(q, 7, e->purpose);
        bind_text_or_empty(q, 8, e->outcome);
        bind_text_or_empty(q, 9, e->rule);
        bind_text_or_empty(q, 10, e->request_id);
        sqlite3_bind_blob(q, 11, e->hash, (int)sizeof e->hash, SQLITE_STATIC);
        return step_done(s, q, err);
}

static int sq_audit_last(struct store *st, int64_t *seq, uint8_t hash[STORE_AUDIT_HASH_BYTES],
                         struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        *seq = 0;
        memset(hash, 0, STORE_AUDIT_HASH_BYTES);
        sqlite3_stmt *q = prep(s, S_AUDIT_LAST, err);
        if (!q)
                return POP_ESTORE;
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, 0);
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        if (!col_int_ok(q, 0, seq) || !col_blob_ok(q, 1, hash, STORE_AUDIT_HASH_BYTES))
                return done(q, corrupt(err, "audit_entry"));
        return done(q, 0);
}

static int sq_audit_iter(struct store *st, int64_t from_seq, store_audit_fn *fn, void *ctx,
                         struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_AUDIT_ITER, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, from_seq);
        return each_audit(s, q, fn, ctx, err);
}

static int sq_audit_by_subject(struct store *st, int64_t pid, int64_t before_seq, int limit,
                               store_audit_fn *fn, void *ctx, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_AUDIT_SUBJECT, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, pid);
        sqlite3_bind_int64(q, 2, before_seq > 0 ? before_seq : INT64_MAX);
        sqlite3_bind_int(q, 3, limit);
        return each_audit(s, q, fn, ctx, err);
}

/* Columns: seq, hash, time_ms, sig. */
static void read_checkpoint(sqlite3_stmt *q, struct store_audit_checkpoint *c)
{
        bool ok = col_int_ok(q, 0, &c->seq);
        ok &= col_blob_ok(q, 1, c->hash, sizeof c->hash);
        ok &= col_int_ok(q, 2, &c->time_ms);
        ok &= col_blob_ok(q, 3, c->sig, sizeof c->sig);
        c->malformed = !ok;
}

static int sq_checkpoint_insert(struct store *st, const struct store_audit_checkpoint *c,
                                struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_CHECKPOINT_INSERT, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, c->seq);
        sqlite3_bind_blob(q, 2, c->hash, (int)sizeof c->hash, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, c->time_ms);
        sqlite3_bind_blob(q, 4, c->sig, (int)sizeof c->sig, SQLITE_STATIC);
        return step_done(s, q, err);
}

static int sq_checkpoint_last(struct store *st, struct store_audit_checkpoint *out,
                              struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        memset(out, 0, sizeof *out);
        sqlite3_stmt *q = prep(s, S_CHECKPOINT_LAST, err);
        if (!q)
                return POP_ESTORE;
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, pop_fail(err, POP_ENOTFOUND, "not-found", "no audit checkpoint"));
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        read_checkpoint(q, out);
        return done(q, 0);
}

/* The audit database's commit hook: replaces SQLite's auto-checkpoint (which would run inside
 * the commit, so the batch's answers would wait for it) with a note of the log's size. */
static int wal_noted(void *ctx, sqlite3 *db, const char *name, int pages)
{
        (void)db;
        (void)name;
        ((struct sqlite_store *)ctx)->wal_pages = pages;
        return SQLITE_OK;
}

static int sq_wal_checkpoint(struct store *st, int min_pages, int *n_pages, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        if (n_pages)
                *n_pages = s->wal_pages;
        if (min_pages < 0 || (min_pages > 0 && s->wal_pages < min_pages))
                return 0;
        s->wal_pages = 0;
        int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        return rc == SQLITE_OK ? 0 : fail_db(s, rc, err);
}

static int sq_checkpoint_iter(struct store *st, int64_t from_seq, store_checkpoint_fn *fn,
                              void *ctx, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_CHECKPOINT_ITER, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, from_seq);
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                struct store_audit_checkpoint c;
                read_checkpoint(q, &c);
                int stop = fn(ctx, &c);
                if (stop)
                        return done(q, stop);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

/* ---- API clients ---- */

static void bind_client(sqlite3_stmt *q, const struct store_client *c)
{
        bind_str(q, 1, c->id);
        bind_str(q, 2, c->name);
        bind_str(q, 3, c->kind);
        bind_str(q, 4, c->roles);
        bind_str(q, 5, c->grants);
        bind_str(q, 6, c->purposes);
        bind_str(q, 7, c->provinces);
        sqlite3_bind_int64(q, 8, c->rate);
        sqlite3_bind_int64(q, 9, c->burst);
        sqlite3_bind_int(q, 10, c->disabled ? 1 : 0);
        sqlite3_bind_int64(q, 11, c->created_ms);
        sqlite3_bind_int64(q, 12, c->updated_ms);
        bind_str(q, 13, c->secret_id);
        sqlite3_bind_blob(q, 14, c->secret_hash, STORE_CLIENT_HASH, SQLITE_STATIC);
        if (c->prev_secret_id[0]) {
                bind_str(q, 15, c->prev_secret_id);
                sqlite3_bind_blob(q, 16, c->prev_secret_hash, STORE_CLIENT_HASH, SQLITE_STATIC);
                sqlite3_bind_int64(q, 17, c->prev_expires_ms);
        } else {
                sqlite3_bind_null(q, 15);
                sqlite3_bind_null(q, 16);
                sqlite3_bind_null(q, 17);
        }
}

/* Copies a hash column; -1 when it is not STORE_CLIENT_HASH bytes. */
static int col_hash(sqlite3_stmt *q, int i, uint8_t out[STORE_CLIENT_HASH])
{
        const void *b = sqlite3_column_blob(q, i);
        if (!b || sqlite3_column_bytes(q, i) != STORE_CLIENT_HASH)
                return -1;
        memcpy(out, b, STORE_CLIENT_HASH);
        return 0;
}

static int read_client(sqlite3_stmt *q, struct store_client *c)
{
        memset(c, 0, sizeof *c);
        store__sqlite_col_text(q, 0, c->id, sizeof c->id);
        store__sqlite_col_text(q, 1, c->name, sizeof c->name);
        store__sqlite_col_text(q, 2, c->kind, sizeof c->kind);
        store__sqlite_col_text(q, 3, c->roles, sizeof c->roles);
        store__sqlite_col_text(q, 4, c->grants, sizeof c->grants);
        store__sqlite_col_text(q, 5, c->purposes, sizeof c->purposes);
        store__sqlite_col_text(q, 6, c->provinces, sizeof c->provinces);
        c->rate = sqlite3_column_int64(q, 7);
        c->burst = sqlite3_column_int64(q, 8);
        c->disabled = sqlite3_column_int(q, 9) != 0;
        c->created_ms = sqlite3_column_int64(q, 10);
        c->updated_ms = sqlite3_column_int64(q, 11);
        store__sqlite_col_text(q, 12, c->secret_id, sizeof c->secret_id);
        if (col_hash(q, 13, c->secret_hash) != 0)
                return -1;
        if (sqlite3_column_type(q, 14) != SQLITE_NULL) {
                store__sqlite_col_text(q, 14, c->prev_secret_id, sizeof c->prev_secret_id);
                if (col_hash(q, 15, c->prev_secret_hash) != 0)
                        return -1;
                c->prev_expires_ms = sqlite3_column_int64(q, 16);
        }
        return 0;
}

static int sq_client_insert(struct store *st, const struct store_client *c, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_CLIENT_INSERT, err);
        if (!q)
                return POP_ESTORE;
        bind_client(q, c);
        int rc = step_done(s, q, err);
        if (rc == POP_ECONFLICT)
                pop_fail(err, rc, "client-exists", "a client with the id '%s' exists", c->id);
        return rc;
}

static int sq_client_update(struct store *st, const struct store_client *c, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_CLIENT_UPDATE, err);
        if (!q)
                return POP_ESTORE;
        bind_client(q, c);
        int rc = step_done(s, q, err);
        if (rc == 0 && sqlite3_changes(s->db) != 1)
                return pop_fail(err, POP_ENOTFOUND, "client-not-found", "no client '%s'", c->id);
        return rc;
}

/* Runs a statement bound to one text key that returns at most one client. */
static int client_one(struct sqlite_store *s, enum stmt_id id, const char *key,
                      struct store_client *out, struct pop_err *err)
{
        sqlite3_stmt *q = prep(s, id, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, pop_fail(err, POP_ENOTFOUND, "client-not-found", "no client %s'%s'",
                                        id == S_CLIENT_GET ? "" : "with the secret id ", key));
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        if (read_client(q, out) != 0)
                return done(q, corrupt(err, "client"));
        return done(q, 0);
}

static int sq_client_get(struct store *st, const char *id, struct store_client *out,
                         struct pop_err *err)
{
        return client_one(S(st), S_CLIENT_GET, id, out, err);
}

static int sq_client_by_secret_id(struct store *st, const char *secret_id, struct store_client *out,
                                  struct pop_err *err)
{
        return client_one(S(st), S_CLIENT_BY_SECRET, secret_id, out, err);
}

static int sq_client_list(struct store *st, store_client_fn *fn, void *ctx, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_CLIENT_LIST, err);
        if (!q)
                return POP_ESTORE;
        int rc;
        struct store_client c;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                if (read_client(q, &c) != 0)
                        return done(q, corrupt(err, "client"));
                int stop = fn(ctx, &c);
                if (stop)
                        return done(q, stop);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

/* ---- open, migrate, close ---- */

/* ---- the API's writes and change feed ---- */

static int sq_event_after(struct store *st, int64_t after_seq, int limit, store_journal_fn *fn,
                          void *ctx, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_EVENT_AFTER, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, after_seq);
        sqlite3_bind_int(q, 2, limit);
        int rc;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                struct event e;
                memset(&e, 0, sizeof e);
                e.seq = sqlite3_column_int64(q, 0);
                store__sqlite_col_text(q, 1, e.type, sizeof e.type);
                if (col_date(q, 2, &e.effective))
                        return done(q, corrupt(err, "event"));
                e.recorded_at = sqlite3_column_int64(q, 3);
                store__sqlite_col_text(q, 4, e.actor, sizeof e.actor);
                store__sqlite_col_text(q, 5, e.legal_basis, sizeof e.legal_basis);
                e.payload = (const char *)sqlite3_column_text(q, 6);
                e.payload_len = (size_t)sqlite3_column_bytes(q, 6);
                if (!e.payload)
                        return done(q, corrupt(err, "event"));
                const char *units = (const char *)sqlite3_column_text(q, 7);
                int stop = fn(ctx, &e, units);
                if (stop)
                        return done(q, stop);
        }
        return done(q, rc == SQLITE_DONE ? 0 : fail_db(s, rc, err));
}

static int sq_event_units(struct store *st, int64_t seq, const char *units, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_EVENT_UNITS, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, seq);
        bind_str(q, 2, units);
        int rc = step_done(s, q, err);
        if (rc == 0 && sqlite3_changes(s->db) != 1)
                return pop_fail(err, POP_ENOTFOUND, "event-not-found", "no journal event %lld",
                                (long long)seq);
        return rc;
}

static int sq_idem_get(struct store *st, const char *client, const char *key, int64_t not_before_ms,
                       struct store_idem *out, struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_IDEM_GET, err);
        if (!q)
                return POP_ESTORE;
        bind_str(q, 1, client);
        bind_str(q, 2, key);
        sqlite3_bind_int64(q, 3, not_before_ms);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return done(q, pop_fail(err, POP_ENOTFOUND, "idempotency-not-found",
                                        "no answer kept for this key"));
        if (rc != SQLITE_ROW)
                return done(q, fail_db(s, rc, err));
        const void *h = sqlite3_column_blob(q, 0);
        int hl = sqlite3_column_bytes(q, 0);
        const char *body = (const char *)sqlite3_column_text(q, 2);
        size_t bl = (size_t)sqlite3_column_bytes(q, 2);
        if (!h || hl != STORE_IDEM_HASH || !body)
                return done(q, corrupt(err, "idempotency"));
        if (bl >= sizeof out->body)
                return done(q, pop_fail(err, POP_ETOOBIG, "idempotency-body",
                                        "a kept answer is over %zu bytes", sizeof out->body));
        snprintf(out->client, sizeof out->client, "%s", client);
        snprintf(out->key, sizeof out->key, "%s", key);
        memcpy(out->request_hash, h, STORE_IDEM_HASH);
        out->status = sqlite3_column_int(q, 1);
        memcpy(out->body, body, bl);
        out->body[bl] = '\0';
        out->body_len = bl;
        out->created_ms = sqlite3_column_int64(q, 3);
        return done(q, 0);
}

#define IDEM_PURGE_BATCH 16 /* expired records removed by each put, so the table stays small */

static int sq_idem_put(struct store *st, const struct store_idem *r, int64_t expired_before_ms,
                       struct pop_err *err)
{
        struct sqlite_store *s = S(st);
        sqlite3_stmt *q = prep(s, S_IDEM_PURGE, err);
        if (!q)
                return POP_ESTORE;
        sqlite3_bind_int64(q, 1, expired_before_ms);
        sqlite3_bind_int(q, 2, IDEM_PURGE_BATCH);
        int rc = step_done(s, q, err);
        if (rc)
                return rc;
        if (!(q = prep(s, S_IDEM_PUT, err)))
                return POP_ESTORE;
        bind_str(q, 1, r->client);
        bind_str(q, 2, r->key);
        sqlite3_bind_blob(q, 3, r->request_hash, STORE_IDEM_HASH, SQLITE_STATIC);
        sqlite3_bind_int(q, 4, r->status);
        sqlite3_bind_text(q, 5, r->body, (int)r->body_len, SQLITE_STATIC);
        sqlite3_bind_int64(q, 6, r->created_ms);
        sqlite3_bind_int64(q, 7, expired_before_ms);
        if ((rc = step_done(s, q, err)))
                return rc;
        if (sqlite3_changes(s->db) != 1)
                return pop_fail(err, POP_ECONFLICT, "idempotency-key-taken",
                                "the key already has an answer");
        return 0;
}

static void sq_close(struct store *st)
{
        struct sqlite_store *s = S(st);
        for (int i = 0; i < N_STMT; i++)
                sqlite3_finalize(s->stmt[i]);
        store__sqlite_ext_close(&s->ext);
        sqlite3_close(s->db);
        free(s);
}

/* PRAGMA name's integer value, or -1 with err set. */
static int pragma_int(struct sqlite_store *s, const char *sql, struct pop_err *err)
{
        sqlite3_stmt *q = NULL;
        int v = -1;
        if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
                v = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
        if (v < 0)
                fail_db(s, sqlite3_errcode(s->db), err);
        return v;
}

/*
 * Applies the pending migrations of the registry's schema, or with `audit` of the audit
 * database's (sqlite_audit.c); the files are told apart by PRAGMA application_id.
 */
static int migrate(struct sqlite_store *s, bool audit, struct pop_err *err)
{
        const char *const *list = audit ? store__sqlite_audit_migrations : migrations;
        int n = audit ? store__sqlite_audit_n_migrations : N_MIGRATIONS;
        for (;;) {
                int rc = exec(s, "BEGIN IMMEDIATE", err);
                if (rc)
                        return rc;
                int version = pragma_int(s, "PRAGMA user_version", err);
                int app = pragma_int(s, "PRAGMA application_id", err);
                if (version < 0 || app < 0) {
                        rc = POP_ESTORE;
                        goto fail;
                }
                if (!audit && app == STORE__AUDIT_APP_ID) {
                        rc = pop_fail(err, POP_ESTORE, "store-kind",
                                      "this is an audit log database, not a registry");
                        goto fail;
                }
                if (audit && app != STORE__AUDIT_APP_ID) {
                        int now = 0;
                        if ((rc = store__sqlite_audit_adopt(&s->base, version, &now, err)))
                                goto fail;
                        char pragma[64];
                        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", now);
                        if ((rc = exec(s, pragma, err)) || (rc = exec(s, "COMMIT", err)))
                                goto fail;
                        continue;
                }
                if (version > n) {
                        rc = pop_fail(err, POP_ESTORE, "store-version",
                                      "the %s has schema version %d, newer than this popid "
                                      "(%d): upgrade popid",
                                      audit ? "audit database" : "database", version, n);
                        goto fail;
                }
                if (version == n)
                        return exec(s, "COMMIT", err);
                if ((rc = exec(s, list[version], err)))
                        goto fail;
                char pragma[64];
                snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version + 1);
                if ((rc = exec(s, pragma, err)) || (rc = exec(s, "COMMIT", err)))
                        goto fail;
                continue;
        fail:
                exec(s, "ROLLBACK", NULL);
                return rc;
        }
}

static const struct store_ops sqlite_ops = {
    .version = STORE_OPS_VERSION,
    .caps = STORE_CAP_INTEGRITY,
    .name = "sqlite",
    .close = sq_close,
    .begin = sq_begin,
    .commit = sq_commit,
    .read_begin = sq_read_begin,
    .read_end = sq_read_end,
    .rollback = sq_rollback,
    .integrity_check = sq_integrity_check,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .person_get = sq_person_get,
    .person_exists = sq_person_exists,
    .person_insert = sq_person_insert,
    .person_update = sq_person_update,
    .person_children = sq_person_children,
    .person_count = sq_person_count,
    .person_search = sq_person_search,
    .household_get = sq_household_get,
    .household_insert = sq_household_insert,
    .household_update = sq_household_update,
    .household_members = sq_household_members,
    .household_head_on = sq_household_head_on,
    .household_head_set = sq_household_head_set,
    .residence_current = sq_residence_current,
    .residence_insert = sq_residence_insert,
    .residence_update = sq_residence_update,
    .residence_history = sq_residence_history,
    .card_current = sq_card_current,
    .card_insert = sq_card_insert,
    .card_update = sq_card_update,
    .card_history = sq_card_history,
    .event_append = sq_event_append,
    .event_history = sq_event_history,
    .series_get = sq_series_get,
    .series_set = sq_series_set,
    .person_each = sq_person_each,
    .event_amend = sq_event_amend,
    .import_begin = sq_import_begin,
    .import_rebuild = sq_import_rebuild,
    .import_lines_done = sq_import_lines_done,
    .import_end = sq_import_end,
    .import_loaded = sq_import_loaded,
    .import_find = sq_import_find,
    .import_reject = sq_import_reject,
    .import_is_rejected = sq_import_is_rejected,
    .import_household_find = sq_import_household_find,
    .import_household_add = sq_import_household_add,
    .import_household_head = sq_import_household_head,
    .import_household_refused_head = sq_import_household_refused_head,
    .import_spouse = sq_import_spouse,
    .import_deferred = sq_import_deferred,
    .import_purge = sq_import_purge,
    .audit_append = sq_audit_append,
    .audit_append_many = store__sqlite_audit_append_many,
    .audit_last = sq_audit_last,
    .audit_iter = sq_audit_iter,
    .audit_by_subject = sq_audit_by_subject,
    .checkpoint_insert = sq_checkpoint_insert,
    .checkpoint_last = sq_checkpoint_last,
    .checkpoint_iter = sq_checkpoint_iter,
    .wal_checkpoint = sq_wal_checkpoint,
    .audit_index = store__sqlite_audit_index,
    .audit_index_check = store__sqlite_audit_index_check,
    .client_insert = sq_client_insert,
    .client_update = sq_client_update,
    .client_get = sq_client_get,
    .client_list = sq_client_list,
    .client_by_secret_id = sq_client_by_secret_id,
    .event_after = sq_event_after,
    .event_units = sq_event_units,
    .idem_get = sq_idem_get,
    .idem_put = sq_idem_put,
    .eid_account_get = store__sqlite_eid_account_get,
    .verify_subject = store__sqlite_verify_subject,
    .eid_account_insert = store__sqlite_eid_account_insert,
    .eid_account_update = store__sqlite_eid_account_update,
    .eid_cred_get = store__sqlite_eid_cred_get,
    .eid_cred_put = store__sqlite_eid_cred_put,
    .eid_cred_delete = store__sqlite_eid_cred_delete,
    .otp_insert = store__sqlite_otp_insert,
    .otp_get = store__sqlite_otp_get,
    .otp_update = store__sqlite_otp_update,
    .otp_count = store__sqlite_otp_count,
    .otp_purge = store__sqlite_otp_purge,
    .outbox_insert = store__sqlite_outbox_insert,
    .outbox_due = store__sqlite_outbox_due,
    .outbox_update = store__sqlite_outbox_update,
    .outbox_count = store__sqlite_outbox_count,
};

/*
 * Process-wide settings, made once before SQLite initializes: without memory statistics
 * sqlite3_malloc takes no global mutex, so connections on different threads do not contend.
 * Fails harmlessly (SQLITE_MISUSE) when something else in the process initialized SQLite first.
 */
static void sqlite_global_init(void)
{
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store__sqlite_open(const char *path, int create, struct store **out, struct pop_err *err)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, sqlite_global_init);
        *out = NULL;
        if (!path || !*path)
                return pop_fail(err, POP_EINVAL, "store-uri", "empty database path");
        struct stat sb;
        if (!(create & STORE_OPEN_CREATE) && stat(path, &sb) != 0)
                return pop_fail(err, POP_ENOTFOUND, "store-missing",
                                "no registry at %s (create one with: popid init --db %s)", path,
                                path);
        struct sqlite_store *s = calloc(1, sizeof *s);
        if (!s)
                return pop_fail(err, POP_ENOMEM, "nomem", "out of memory");
        s->base.ops = &sqlite_ops;
        int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                    (create & STORE_OPEN_CREATE ? SQLITE_OPEN_CREATE : 0);
        int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
        if (rc != SQLITE_OK) {
                rc = pop_fail(err, POP_ESTORE, "store-open", "cannot open %s: %s", path,
                              s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
                goto fail;
        }
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, 10000);
        /* WAL: readers never block the writer. FULL: a returned commit survives power loss. */
        /* The migrations' sorts (an index built, audit migration 3's rows moved over in a new
         * order) spill to temporary files: with temp_store = MEMORY the sort's memory grew with
         * the file (peak RSS 394 MB moving the 5M index rows of an audit file, 224 MB with FILE,
         * most of it the page cache and the file's memory map, both capped). */
        if ((rc = exec(s,
                       "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                       " PRAGMA foreign_keys = OFF; PRAGMA temp_store = FILE;"
                       " PRAGMA cache_size = -65536; PRAGMA mmap_size = 1073741824;",
                       err)))
                goto fail;
        if ((rc = migrate(s, (create & STORE_OPEN_AUDIT) != 0, err)) ||
            (rc = exec(s, "PRAGMA temp_store = MEMORY;", err)))
                goto fail;
        if (create & STORE_OPEN_AUDIT) {
                /* The audit log is appended to, not searched: a small page cache (SQLite scans
                 * the whole cache's hash table at the end of each write transaction; measured
                 * 29-32 us of writer CPU per entry with 64 MiB against 21-24 us with 4-16 MiB,
                 * docs/BENCHMARKS.md), and checkpoints left to the writer, after it answered
                 * (store_wal_checkpoint), instead of inside a commit. */
                sqlite3_wal_hook(s->db, wal_noted, s);
                if ((rc = exec(s, "PRAGMA cache_size = -8192;", err)))
                        goto fail;
        }
        *out = &s->base;
        return 0;
fail:
        sq_close(&s->base);
        return rc;
}
