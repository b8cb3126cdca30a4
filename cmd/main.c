/* reef: one binary for the control plane, the node agent, the container shim and the client. */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/log.h"

extern const struct reef_cmd *const __start_reef_cmds[];
extern const struct reef_cmd *const __stop_reef_cmds[];

static const struct reef_cmd *sorted[128];
static size_t ncmds;

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const struct reef_cmd *const *)a)->name,
                  (*(const struct reef_cmd *const *)b)->name);
}

static void gather_commands(void)
{
    for (const struct reef_cmd *const *c = __start_reef_cmds;
         c < __stop_reef_cmds && ncmds < REEF_ARRAY_LEN(sorted); c++)
        sorted[ncmds++] = *c;
    qsort(sorted, ncmds, sizeof(sorted[0]), by_name);
}

static const struct reef_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < ncmds; i++)
        if (strcmp(sorted[i]->name, name) == 0)
            return sorted[i];
    return NULL;
}

static void print_help(FILE *f)
{
    fputs("usage: reef [--help] [--version] COMMAND [ARGS...]\n"
          "\n"
          "reef is a small container cluster in one binary.\n"
          "\n"
          "Commands:\n",
          f);
    for (size_t i = 0; i < ncmds; i++)
        if (sorted[i]->summary)
            fprintf(f, "  %-10s %s\n", sorted[i]->name, sorted[i]->summary);
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
    /* Sockets are written with write(2): a peer that left must be an EPIPE, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    gather_commands();
    if (argc < 2) {
        print_help(stderr);
        return REEF_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            const struct reef_cmd *c = find_command(argv[2]);
            if (c) {
                fputs(c->usage, stdout);
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
    const struct reef_cmd *c = find_command(name);
    if (c) {
        optind = 1; /* argv[1..] is the command's own argv */
        return c->run(argc - 1, argv + 1);
    }
    if (name[0] == '-')
        fprintf(stderr, "reef: unknown option '%s'\n", name);
    else
        fprintf(stderr, "reef: unknown command '%s'\n", name);
    fputs("usage: reef [--help] [--version] COMMAND [ARGS...]\n", stderr);
    return REEF_EXIT_USAGE;
}
