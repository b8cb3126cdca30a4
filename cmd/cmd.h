/* cmd: reef's command-line front end. Each subcommand is a function taking its own argv (argv[0] is
 * the subcommand's name) and returning the process exit status. Usage errors exit 2. */
#ifndef REEF_CMD_H
#define REEF_CMD_H

#include <getopt.h>
#include <stdio.h>

#define REEF_EXIT_USAGE 2

struct reef_cmd {
    const char *name;
    const char *summary; /* one line for `reef --help` */
    const char *usage;   /* full text for `reef NAME --help`, starting with "usage: reef NAME ..." */
    int (*run)(int argc, char **argv);
};

/* Every command, in the order `reef --help` lists them; NULL-terminated. */
extern const struct reef_cmd *const reef_cmds[];

/* Parses argv with getopt_long, giving each command --help for free. Returns the option letter,
 * -1 at the end of options, or '?' after printing a usage error (the caller returns
 * REEF_EXIT_USAGE). 'h' is returned for --help after the usage text was printed to stdout (the
 * caller returns 0). */
int reef_cmd_getopt(const struct reef_cmd *cmd, int argc, char **argv, const char *shortopts,
                    const struct option *longopts);
/* Prints "reef NAME: message" and the usage line to stderr; returns REEF_EXIT_USAGE. */
int reef_cmd_usage_error(const struct reef_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

extern const struct reef_cmd reef_cmd_version;
extern const struct reef_cmd reef_cmd_check;

#endif
