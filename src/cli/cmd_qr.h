/*
 * `popid qr issue|verify|parse-card` (cmd_qr.c): the identity QR credential and the chip card QR
 * parser. Parses its own arguments (those after "qr"); verify and parse-card need no registry.
 */
#ifndef POP_CLI_CMD_QR_H
#define POP_CLI_CMD_QR_H

/* Runs `popid qr ...`; returns an exit code of cli.h. */
int cli__qr(int argc, char **argv);

#endif
