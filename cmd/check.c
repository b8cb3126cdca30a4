/* reef check: placeholder until the kernel inspection lands in runtime/check. */
#include "cmd/cmd.h"

static int run(int argc, char **argv)
{
    int c;
    while ((c = reef_cmd_getopt(&reef_cmd_check, argc, argv, "", NULL)) != -1)
        return c == 'h' ? 0 : REEF_EXIT_USAGE;
    fputs("reef check: not implemented yet\n", stderr);
    return 1;
}

const struct reef_cmd reef_cmd_check = {
    .name = "check",
    .summary = "check that this kernel can run reef",
    .usage = "usage: reef check\n",
    .run = run,
};
