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

/* Registers a command defined in any cmd/ file: `REEF_COMMAND(reef_cmd_version);` after its
 * definition (declare it `extern` at the top of the file to use it before). The linker gathers
 * them into one section; `reef --help` lists them by name, leaving out those without a summary
 * (internal commands such as the shim).
 */
#define REEF_COMMAND(var)                                                                         \
    __attribute__((used, section("reef_cmds"))) static const struct reef_cmd *const var##_entry = \
        &(var)

/* Parses argv with getopt_long, giving each command --help for free. Returns the option letter,
 * -1 at the end of options, or '?' after printing a usage error (the caller returns
 * REEF_EXIT_USAGE). 'h' is returned for --help after the usage text was printed to stdout (the
 * caller returns 0). */
int reef_cmd_getopt(const struct reef_cmd *cmd, int argc, char **argv, const char *shortopts,
                    const struct option *longopts);
/* Prints "reef NAME: message" and the usage line to stderr; returns REEF_EXIT_USAGE. */
int reef_cmd_usage_error(const struct reef_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


#endif
