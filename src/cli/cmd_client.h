/*
 * `popid client ...`: the API clients and their access policy (src/access/), for operators on
 * the host. cli.c parses the common options and hands over the rest.
 */
#ifndef POP_CLI_CMD_CLIENT_H
#define POP_CLI_CMD_CLIENT_H

#include <jansson.h>

/*
 * Runs `popid client SUB ARGS...`: db is the store URI (--db or POPID_DB; may be NULL), compact
 * asks for one-line JSON, argv holds the positional arguments after "client", opts the other
 * --name value options as a JSON object of strings (NULL when none). Returns an exit code.
 */
int cli_client(const char *db, int compact, int argc, char **argv, json_t *opts);

#endif
