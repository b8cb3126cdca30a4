/* probe_fixture: what test_probe.c and test_podio.c share (static, included by each): a busybox
 * container started with the built reef binary (`reef image import` of the test image from
 * tests/images/mkimage.sh, then `reef run -d`), removed again by ctr_teardown, and a loop runner
 * that waits for a condition with a bound. Needs root. */
#ifndef REEF_TESTS_UNIT_PROBE_FIXTURE_H
#define REEF_TESTS_UNIT_PROBE_FIXTURE_H

#include <limits.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "tests/unit/test.h"

static char ctr_data[64];             /* the data directory */
static char ctr_containers[PATH_MAX]; /* <data>/containers */
static char ctr_id[128];              /* the running container's ID */
static char ctr_image[32];            /* its image (an ID prefix) */
static char ctr_reef[1024];           /* the reef binary */
static char ctr_setup_error[512];

/* The release binary beside the test (build/tests/x -> build/reef), or build/reef for the other
 * modes' test directories. */
static inline void find_reef(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *d = dirname(dirname(exe)); /* build or build-asan */
    snprintf(ctr_reef, sizeof(ctr_reef), "%s/reef", d);
    if (access(ctr_reef, X_OK) == 0)
        return;
    snprintf(ctr_reef, sizeof(ctr_reef), "%s/../build/reef", d);
    if (access(ctr_reef, X_OK) < 0)
        snprintf(ctr_reef, sizeof(ctr_reef), "build/reef");
}

/* Output of a shell command (first line, trimmed) into out; its exit status. */
static inline int sh_out(const char *cmd, char *out, size_t outsz)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char line[1024] = "";
    if (out)
        out[0] = '\0';
    while (fgets(line, sizeof(line), f))
        if (out && line[0] != '\n') {
            size_t n = strnlen(line, outsz - 1);
            memcpy(out, line, n);
            out[n] = '\0';
        }
    int st = pclose(f);
    if (out)
        out[strcspn(out, "\n")] = '\0';
    return st;
}

/* Starts a busybox container running `sleep 3600`; ctr_setup_error says why when it fails. */
static inline int ctr_setup(void)
{
    find_reef();
    if (getuid() != 0) {
        snprintf(ctr_setup_error, sizeof(ctr_setup_error), "needs root");
        return -1;
    }
    snprintf(ctr_data, sizeof(ctr_data), "/tmp/reef-probe-XXXXXX");
    if (!mkdtemp(ctr_data)) {
        snprintf(ctr_setup_error, sizeof(ctr_setup_error), "mkdtemp failed");
        return -1;
    }
    chmod(ctr_data, 0711);
    snprintf(ctr_containers, sizeof(ctr_containers), "%s/data/containers", ctr_data);
    char cmd[8192], img[256];
    snprintf(cmd, sizeof(cmd),
             "set -e; tests/images/mkimage.sh %s/img >/dev/null 2>&1; tar -C %s/img/oci/busybox "
             "-cf %s/bb.tar .; %s image import --data-dir %s/data %s/bb.tar 2>&1 | tail -n 1",
             ctr_data, ctr_data, ctr_data, ctr_reef, ctr_data, ctr_data);
    if (sh_out(cmd, img, sizeof(img)) != 0 || strncmp(img, "sha256:", 7) != 0) {
        snprintf(ctr_setup_error, sizeof(ctr_setup_error), "image import failed: %s", img);
        return -1;
    }
    snprintf(ctr_image, sizeof(ctr_image), "%.19s", img + 7);
    snprintf(cmd, sizeof(cmd), "%s run -d --data-dir %s/data %s sleep 3600 2>&1", ctr_reef,
             ctr_data, ctr_image);
    if (sh_out(cmd, ctr_id, sizeof(ctr_id)) != 0 || strlen(ctr_id) != 64) {
        snprintf(ctr_setup_error, sizeof(ctr_setup_error), "reef run failed: %s", ctr_id);
        ctr_id[0] = '\0';
        return -1;
    }
    return 0;
}

static inline void ctr_teardown(void)
{
    char cmd[4096];
    if (ctr_id[0]) {
        snprintf(cmd, sizeof(cmd), "%s rm -f --data-dir %s/data %s >/dev/null 2>&1", ctr_reef,
                 ctr_data, ctr_id);
        (void)system(cmd);
    }
    if (ctr_data[0]) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", ctr_data);
        (void)system(cmd);
    }
}

/* Runs loop until cond(ud) or ms milliseconds passed; returns cond's last value. */
struct run_until {
    bool (*cond)(void *ud);
    void *ud;
    uint64_t deadline;
    bool met;
};

static inline void run_until_tick(uv_timer_t *t)
{
    struct run_until *r = t->data;
    if (r->cond(r->ud)) {
        r->met = true;
        uv_stop(t->loop);
    } else if (uv_now(t->loop) >= r->deadline) {
        uv_stop(t->loop);
    }
}

static inline bool run_until(uv_loop_t *loop, bool (*cond)(void *ud), void *ud, unsigned ms)
{
    uv_timer_t t;
    struct run_until r = {cond, ud, 0, false};
    uv_update_time(loop);
    r.deadline = uv_now(loop) + ms;
    uv_timer_init(loop, &t);
    t.data = &r;
    uv_timer_start(&t, run_until_tick, 10, 10);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return r.met || cond(ud);
}

/* Lets the loop close what is closing; then it must have nothing left. */
static inline int loop_finish(uv_loop_t *loop)
{
    for (int i = 0; i < 200 && uv_run(loop, UV_RUN_NOWAIT); i++)
        usleep(10000);
    return uv_loop_close(loop);
}

#endif
