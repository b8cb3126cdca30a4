/* Helpers shared by the runtime/cgroup test programs (test_cgroup.c: layouts, planning and
 * synthetic trees; test_cgroup_kernel.c: the real kernel). Include after runtime/cgroup.h with
 * REEF_CGROUP_IMPL defined. */
#ifndef REEF_TEST_CGROUP_FIXTURE_H
#define REEF_TEST_CGROUP_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "tests/unit/test.h"

#define B(c) REEF_CG_BIT(REEF_CG_##c)

/* The first line of dir/file, without its newline (a static buffer: valid until the next call). */
static char *get(const char *dir, const char *file)
{
    static char buf[4096];
    ssize_t n = reef__cg_read(dir, file, buf, sizeof(buf));
    if (n < 0)
        TEST_FAIL("read %s/%s: %s", dir, file, strerror((int)-n));
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    return buf;
}

#endif
