/* reef: one binary for the control plane, the node agent, the container shim and the client. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/log.h"

const struct reef_cmd *const reef_cmds[] = {
    &reef_cmd_check,
    &reef_cmd_version,
    NULL,
};

static void print_help(FILE *f)
{
    fputs("usage: reef [--help] [--version] COMMAND [ARGS...]\n"
          "\n"
          "reef is a small container cluster in one binary.\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; reef_cmds[i]; i++)
        fprintf(f, "  %-10s %s\n", reef_cmds[i]->name, reef_cmds[i]->summary);
    fputs("\nRun 'reef COMMAND --help' for a command's options.\n", f);
}

static size_t usage_line_len(const char *usage)
{
    const char *nl = strchr(usage, '\n');
    return nl ? (size_t)(nl - usage) : strlen(usage);
}

int reef_cmd_usage_error(const struct reef_cmd *cmd, const char *fmt, ...)
{
    fprintf(stderr, "reef %s: ", cmd->name);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%.*s\nRun 'reef %s --help' for more.\n", (int)usage_line_len(cmd->usage),
            cmd->usage, cmd->name);
    return REEF_EXIT_USAGE;
}

int reef_cmd_getopt(const struct reef_cmd *cmd, int argc, char **argv, const char *shortopts,
                    const struct option *longopts)
{
    /* Our own messages instead of getopt's, and "+" so options stop at the first operand (as
     * `reef run IMAGE CMD --flag` needs). --help is added to every command. */
    static struct option merged[64];
    size_t n = 0;
    for (; longopts && longopts[n].name && n < REEF_ARRAY_LEN(merged) - 2; n++)
        merged[n] = longopts[n];
    merged[n++] = (struct option){"help", no_argument, NULL, 'h'};
    merged[n] = (struct option){0};
    char spec[128];
    snprintf(spec, sizeof(spec), "+:%s", shortopts ? shortopts : "");
    int c = getopt_long(argc, argv, spec, merged, NULL);
    if (c == 'h') {
        fputs(cmd->usage, stdout);
        return 'h';
    }
    if (c == '?') {
        const char *bad = argv[optind - 1];
        if (optopt && !(bad && bad[0] == '-' && bad[1] == '-'))
            reef_cmd_usage_error(cmd, "unknown option '-%c'", optopt);
        else
            reef_cmd_usage_error(cmd, "unknown option '%s'", bad);
        return '?';
    }
    if (c == ':') {
        reef_cmd_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        return '?';
    }
    return c;
}

int main(int argc, char **argv)
{
    reef_log_init(REEF_LOG_INFO, NULL);
    if (argc < 2) {
        print_help(stderr);
        return REEF_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            for (size_t i = 0; reef_cmds[i]; i++)
                if (strcmp(reef_cmds[i]->name, argv[2]) == 0) {
                    fputs(reef_cmds[i]->usage, stdout);
                    return 0;
                }
            fprintf(stderr, "reef: unknown command '%s'\n", argv[2]);
            return REEF_EXIT_USAGE;
        }
        print_help(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0)
        name = "version";
    for (size_t i = 0; reef_cmds[i]; i++) {
        if (strcmp(reef_cmds[i]->name, name) == 0) {
            optind = 1; /* argv[1..] is the command's own argv */
            return reef_cmds[i]->run(argc - 1, argv + 1);
        }
    }
    if (name[0] == '-')
        fprintf(stderr, "reef: unknown option '%s'\n", name);
    else
        fprintf(stderr, "reef: unknown command '%s'\n", name);
    fputs("usage: reef [--help] [--version] COMMAND [ARGS...]\n", stderr);
    return REEF_EXIT_USAGE;
}
