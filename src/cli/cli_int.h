/*
 * Internals shared by the files of the command line: commands that live in files of their own
 * (cmd_*.c) and parse their own arguments.
 */
#ifndef POP_CLI_CLI_INT_H
#define POP_CLI_CLI_INT_H

/* `popid serve ...` (cmd_serve.c): argv holds the arguments after "serve". */
int cli__serve(int argc, char **argv);

#endif
