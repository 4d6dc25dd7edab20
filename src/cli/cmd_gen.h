/*
 * `popid gen`: the synthetic population command (cmd_gen.c). It takes its own arguments rather
 * than the shared option parser of cli.c, because its options (--format, --out, --today) are its
 * alone and it opens no registry.
 */
#ifndef POP_CLI_CMD_GEN_H
#define POP_CLI_CMD_GEN_H

/* Runs `popid gen` with the arguments after the command name; returns an exit code of cli.h. */
int cmd_gen(int argc, char **argv);

#endif
