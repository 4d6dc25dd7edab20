/*
 * The command line: `popid <command> ...`. Thin: parses arguments, calls a service, prints
 * JSON on stdout and one-line errors on stderr. Exit codes mean something (see cli_exit_code).
 */
#ifndef POP_CLI_CLI_H
#define POP_CLI_CLI_H

/* Exit codes. */
#define CLI_OK        0
#define CLI_EFAIL     1 /* store, I/O or internal failure */
#define CLI_EUSAGE    2 /* bad arguments or malformed input */
#define CLI_ENOTFOUND 3 /* a named record does not exist */
#define CLI_ERULE     4 /* refused by a rule of the law, or a conflict with stored data */
#define CLI_EVERIFY   5 /* a signature or integrity check failed */

int cli_main(int argc, char **argv);

/* Maps a POP_E* code to an exit code. */
int cli_exit_code(int pop_code);

/* `popid import` and `popid export` (cmd_import.c): they parse their own arguments, those
 * after the command name. */
int cli_import(int argc, char **argv);
int cli_export(int argc, char **argv);

#endif
