/*
 * Internals shared by the files of the command line: commands that live in files of their own
 * (cmd_*.c) and parse their own arguments.
 */
#ifndef POP_CLI_CLI_INT_H
#define POP_CLI_CLI_INT_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"

/* `popid serve ...` (cmd_serve.c): argv holds the arguments after "serve". */
int cli__serve(int argc, char **argv);

/* The database: given (--db), else POPID_DB; NULL when neither is set. */
const char *cli__db(const char *given);
/* The registry's key file: given (--key), else POPID_KEY, else the database path + ".key";
 * NULL without a database. May use buf. */
const char *cli__key_path(const char *given, const char *db, char *buf, size_t cap);
/* The actor recorded in the journal and the audit log: given (--actor), else POPID_ACTOR, else
 * operator:USER@HOST (written in buf). */
const char *cli__actor(const char *given, char *buf, size_t cap);

/* Prints "popid: MESSAGE [RULE]" (or code's text when e has no message) to stderr and returns
 * the exit code of code (cli_exit_code). */
int cli__fail(const struct pop_err *e, int code);
/* Prints j (not consumed; NULL fails) to stdout, indented unless compact, and a newline. */
int cli__print_json(int compact, json_t *j);

#endif
