/*
 * popid's entry point: everything else, commands included, lives in the library (cli/cli.c).
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
        return cli_main(argc, argv);
}
