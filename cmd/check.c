/* reef check: tells whether this kernel can run reef, like `k3s check-config`, as a table (or
 * JSON) of kernel features with hints for whatever is missing. Exit 0 when everything required is
 * there, 1 when something required is missing, 2 on usage errors. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"

extern const struct reef_cmd reef_cmd_check;
#include "core/buf.h"
#include "runtime/check.h"

static int run(int argc, char **argv)
{
    /* --root is for tests: it reads /proc, /sys, /boot and /lib/modules below DIR. It is left
     * out of the usage text on purpose (docs/CHECK.md describes it). */
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"root", required_argument, NULL, 'R'},
        {0},
    };
    int c, json = 0;
    const char *root = NULL;
    while ((c = reef_cmd_getopt(&reef_cmd_check, argc, argv, "", opts)) != -1) {
        if (c == 'h')
            return 0;
        if (c == '?')
            return REEF_EXIT_USAGE;
        if (c == 'j')
            json = 1;
        else if (c == 'R')
            root = optarg;
    }
    if (optind < argc)
        return reef_cmd_usage_error(&reef_cmd_check, "unexpected argument '%s'", argv[optind]);
    if (root && !*root)
        return reef_cmd_usage_error(&reef_cmd_check, "--root needs a directory");

    struct reef_check_report *report = calloc(1, sizeof(*report));
    if (!report) {
        fputs("reef check: out of memory\n", stderr);
        return 1;
    }
    struct reef_err err = {0};
    if (reef_check_run(root, report, &err) < 0) {
        fprintf(stderr, "reef check: %s\n", err.msg);
        free(report);
        return 1;
    }
    struct reef_buf out = REEF_BUF_INIT;
    int r = json ? reef_check_format_json(report, &out) : reef_check_format_table(report, &out);
    if (r == 0)
        fwrite(out.data, 1, out.len, stdout);
    else
        fputs("reef check: out of memory\n", stderr);
    int rc = r == 0 && reef_check_passed(report) ? 0 : 1;
    reef_buf_free(&out);
    free(report);
    return rc;
}

const struct reef_cmd reef_cmd_check = {
    .name = "check",
    .summary = "check that this kernel can run reef",
    .usage = "usage: reef check [--json]\n"
             "\n"
             "Inspects the running kernel for what reef needs: namespaces, the cgroup layout and\n"
             "controllers (memory, cpu, pids, cpuset), overlayfs, seccomp, veth, bridge, vxlan,\n"
             "nf_tables with NAT and masquerade, and IPv4 forwarding. Prints one line per item\n"
             "(ok, missing or note; required or optional) and a hint for anything to fix.\n"
             "\n"
             "Exit status: 0 when everything required is present, 1 when something required is\n"
             "missing, 2 on usage errors.\n"
             "\n"
             "Options:\n"
             "  --json   print the result as one JSON object\n",
    .run = run,
};
REEF_COMMAND(reef_cmd_check);
