/*
 * The command line's side of the audit log (cli_audit.c): the entries that CLI commands reading
 * or writing personal data append (through audit/audit.h, synchronously: a command prints data
 * only after its entry is durable), and the `popid audit` command. Used by cli.c only.
 */
#ifndef POP_CLI_AUDIT_H
#define POP_CLI_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "core/err.h"

/* The audit log open for one command: one actor, purpose and request id for its entries. */
struct cli_audit;

int cli__audit_open(const char *db, const char *actor, const char *purpose, struct cli_audit **out,
                    struct pop_err *err) POP_MUST_USE;
/* Writes the final checkpoint and frees ca (NULL is fine). */
void cli__audit_close(struct cli_audit *ca);

/*
 * Records a read: `action` on `subject` (0: the people named in `out`, for a household), the
 * fields released being the keys of `out` (NULL when the read failed with prc and perr).
 */
int cli__audit_read(struct cli_audit *ca, const char *action, int64_t subject, json_t *out, int prc,
                    const struct pop_err *perr, struct pop_err *err) POP_MUST_USE;

/* Records a life event (the input ev, its result when it was applied): one entry per person
 * the event names, action "event.TYPE", the fields it wrote. */
int cli__audit_event(struct cli_audit *ca, json_t *ev, json_t *result, int prc,
                     const struct pop_err *perr, struct pop_err *err) POP_MUST_USE;

/* One-shot forms: open, record, close. */
int cli__audit_read_once(const char *db, const char *actor, const char *purpose, const char *action,
                         int64_t subject, json_t *out, int prc, const struct pop_err *perr,
                         struct pop_err *err) POP_MUST_USE;
int cli__audit_event_once(const char *db, const char *actor, const char *purpose, json_t *ev,
                          json_t *result, int prc, const struct pop_err *perr,
                          struct pop_err *err) POP_MUST_USE;

/*
 * `popid audit verify|export|key|log ...`: argv holds the arguments after "audit" (it parses its
 * own options: --db, --actor, --purpose, --compact, --file, --public-key, --from, --out,
 * --before, --limit). Returns an exit code.
 */
int cli__audit_cmd(int argc, char **argv);

#endif
