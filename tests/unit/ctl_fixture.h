/* ctl_fixture: what the control-loop tests share (static, included by each test program): the
 * environment a loop gets in `reef server` (orchestrate/ctl.h) over an in-memory store and the
 * API server in process, without HTTP. Each test runs in a forked child, so the state here is
 * per test. */
#ifndef REEF_TESTS_UNIT_CTL_FIXTURE_H
#define REEF_TESTS_UNIT_CTL_FIXTURE_H

#include <stdio.h>

#include "orchestrate/ctl.h"
#include "tests/unit/test.h"

static uv_loop_t loop;
static struct reef_ctl_env env;

/* The environment, writing as user (in group system:masters when masters). */
static inline void ctl_env_up(const char *user, bool masters)
{
    struct reef_err err = {0};
    uv_loop_init(&loop);
    env.loop = &loop;
    CHECK_INT(reef_store_open(NULL, NULL, &env.store, &err), ==, 0);
    struct reef_apiserver_opts o = {.loop = &loop, .store = env.store};
    CHECK_INT(reef_apiserver_new(&o, &env.api, &err), ==, 0);
    snprintf(env.user.name, sizeof(env.user.name), "%s", user);
    env.user.ngroups = 0;
    if (masters)
        snprintf(env.user.groups[env.user.ngroups++], sizeof(env.user.groups[0]),
                 "system:masters");
}

/* Frees it; the loop closes (0 when nothing was left on it). */
static inline int ctl_env_down(void)
{
    reef_apiserver_shutdown(env.api);
    reef_apiserver_free(env.api);
    reef_store_close(env.store);
    uv_run(&loop, UV_RUN_NOWAIT);
    return uv_loop_close(&loop);
}

#endif
