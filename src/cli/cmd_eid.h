/*
 * `popid eid ...` (cmd_eid.c): eID accounts from the operator's console (docs/EID.md).
 */
#ifndef POP_CLI_CMD_EID_H
#define POP_CLI_CMD_EID_H

/* argv holds the arguments after "eid". Returns a CLI exit code. */
int cli__eid(int argc, char **argv);

#endif
