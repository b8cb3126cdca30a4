/* reef shim: the supervisor of one container, started by `reef run` (internal). */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/log.h"
#include "runtime/shim.h"

extern const struct reef_cmd reef_cmd_shim;

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"containers", required_argument, NULL, 'c'},
        {"client-fd", required_argument, NULL, 'f'},
        {"attach", no_argument, NULL, 'a'},
        {"detached", no_argument, NULL, 'D'},
        {0},
    };
    struct reef_shim_opts o = {.client_fd = -1};
    int c;
    while ((c = reef_cmd_getopt(&reef_cmd_shim, argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'h': return 0;
        case '?': return REEF_EXIT_USAGE;
        case 'c': o.containers_dir = optarg; break;
        case 'f': o.client_fd = atoi(optarg); break;
        case 'a': o.attach = true; break;
        case 'D': o.attach = false; break;
        }
    }
    if (optind + 1 != argc || !o.containers_dir)
        return reef_cmd_usage_error(&reef_cmd_shim, "needs --containers DIR and one ID");
    o.id = argv[optind];
    struct reef_err err = {0};
    int r = reef_shim_run(&o, &err);
    if (r < 0) {
        if (o.client_fd < 0) /* otherwise the client has reported it */
            LOG_ERROR("shim", "container=%.12s %s", o.id, err.msg);
        return 125;
    }
    return r;
}

const struct reef_cmd reef_cmd_shim = {
    .name = "shim",
    .summary = NULL, /* internal: started by reef run */
    .usage = "usage: reef shim --containers DIR [--client-fd N] [--attach] ID\n"
             "\n"
             "Supervises one container (started by reef run; not for direct use).\n",
    .run = run,
};
REEF_COMMAND(reef_cmd_shim);
