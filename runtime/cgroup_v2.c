/* cgroup_v2: container cgroups on the unified cgroup2 hierarchy.
 *
 * One directory per container. A controller is usable in a cgroup only when its parent lists it
 * in cgroup.subtree_control, so creation switches cpu, memory and pids on down the chain of
 * ancestors, and the "no internal processes" rule applies: a non-root cgroup with controllers
 * switched on for its children may hold no processes itself. reef therefore only ever puts
 * processes into the leaf directories it creates. */
#define REEF_CGROUP_IMPL
#include "runtime/cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cleanup.h"

/* The controllers reef's limits need; others are left as the host configured them. */
static const char *const wanted[] = {"cpu", "memory", "pids"};

static bool has_word(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *s = list; (s = strstr(s, w)); s += n) {
        bool start = s == list || s[-1] == ' ' || s[-1] == '\n';
        bool end = s[n] == '\0' || s[n] == ' ' || s[n] == '\n';
        if (start && end)
            return true;
    }
    return false;
}

/* Adds the wanted controllers that dir offers but has not switched on for its children, in one
 * write ("+cpu +memory"), which the kernel applies all or nothing. */
static int enable_subtree(const char *parent, const char *dir, void *ud)
{
    struct reef_err *err = ud;
    (void)parent;
    char avail[1024], on[1024], val[64] = "";
    ssize_t n = reef__cg_read(dir, "cgroup.controllers", avail, sizeof(avail));
    if (n < 0)
        return reef_err_errno(err, (int)n, "read %s/cgroup.controllers", dir);
    n = reef__cg_read(dir, "cgroup.subtree_control", on, sizeof(on));
    if (n < 0)
        return reef_err_errno(err, (int)n, "read %s/cgroup.subtree_control", dir);
    for (size_t i = 0; i < REEF_ARRAY_LEN(wanted); i++) {
        if (has_word(avail, wanted[i]) && !has_word(on, wanted[i])) {
            size_t len = strlen(val);
            snprintf(val + len, sizeof(val) - len, "%s+%s", len ? " " : "", wanted[i]);
        }
    }
    if (!val[0])
        return 0;
    int r = reef__cg_write(dir, "cgroup.subtree_control", val);
    if (r == -EBUSY)
        return reef_err_set(err, r,
                            "enable %s in %s/cgroup.subtree_control: that cgroup holds processes, "
                            "and cgroup v2 forbids controllers for the children of a non-root "
                            "cgroup with processes (use an absolute cgroup parent or run reef in a "
                            "leaf cgroup)",
                            val, dir);
    if (r < 0)
        return reef_err_errno(err, r, "enable %s in %s/cgroup.subtree_control", val, dir);
    return 0;
}

static unsigned leaf_ctrls(const char *dir)
{
    char avail[1024];
    unsigned m = 0;
    if (reef__cg_read(dir, "cgroup.controllers", avail, sizeof(avail)) < 0)
        return 0;
    if (has_word(avail, "cpu"))
        m |= REEF_CG_BIT(REEF_CG_CPU);
    if (has_word(avail, "memory"))
        m |= REEF_CG_BIT(REEF_CG_MEMORY);
    if (has_word(avail, "pids"))
        m |= REEF_CG_BIT(REEF_CG_PIDS);
    if (has_word(avail, "io"))
        m |= REEF_CG_BIT(REEF_CG_BLKIO);
    if (has_word(avail, "cpuset"))
        m |= REEF_CG_BIT(REEF_CG_CPUSET);
    /* CPU time (cpu.stat usage_usec) and freezing (cgroup.freeze) are core v2 features that need
     * no controller; devices are a BPF program, not a file. */
    m |= REEF_CG_BIT(REEF_CG_CPUACCT);
    if (reef__cg_exists(dir, "cgroup.freeze"))
        m |= REEF_CG_BIT(REEF_CG_FREEZER);
    return m;
}

int reef__cgroup_v2_create(const struct reef_cgroup_layout *l, const char *parent, const char *name,
                           bool create, struct reef_cgroup *cg, struct reef_err *err)
{
    _cleanup_free_ char *base = NULL;
    int r = reef__cg_base_dir(&l->v2, parent, &base, err);
    if (r < 0)
        return r;
    const char *p = parent;
    while (*p == '/')
        p++;
    size_t pn = strlen(p);
    while (pn && p[pn - 1] == '/')
        pn--;
    _cleanup_free_ char *rel = reef_strndup(p, pn);
    struct reef_buf b = REEF_BUF_INIT;
    if (!rel || reef_buf_printf(&b, "%s%s%s/%s", base, pn ? "/" : "", rel, name) < 0) {
        reef_buf_free(&b);
        return reef_err_set(err, -ENOMEM, "out of memory");
    }
    _cleanup_free_ char *leaf = reef_buf_steal(&b);
    if (!leaf)
        return reef_err_set(err, -ENOMEM, "out of memory");
    int made = 0;
    if (!create) {
        if (access(leaf, F_OK) < 0)
            return reef_err_errno(err, -errno, "%s", leaf);
    } else {
        for (int attempt = 0;; attempt++) {
            r = reef__cg_mkdir_chain(base, rel, enable_subtree, err, &made, err);
            if (r == 0 && mkdir(leaf, 0755) < 0)
                r = errno == EEXIST ? reef_err_set(err, -EEXIST, "%s already exists", leaf)
                                    : reef_err_errno(err, -errno, "mkdir %s", leaf);
            if (r < 0 && made) { /* each attempt takes back what it made */
                reef__cg_rmdir_chain(base, rel, made);
                made = 0;
            }
            if ((r != -ENOENT && r != -ENODEV) || attempt == 9)
                break;
        }
        if (r < 0)
            return r;
    }
    cg->nd = 1;
    cg->d[0].dir = REEF_STEAL(leaf);
    cg->d[0].created = create;
    cg->d[0].ctrls = cg->ctrls = leaf_ctrls(cg->d[0].dir);
    return 0;
}

int reef__cgroup_v2_features(struct reef_cgroup *cg)
{
    unsigned f = 0;
    const char *dir = cg->d[0].dir;
    if (reef__cg_exists(dir, "memory.swap.max"))
        f |= REEF__CG_F_SWAP_MAX;
    if (reef__cg_exists(dir, "cpu.max"))
        f |= REEF__CG_F_CFS;
    return (int)f;
}

int reef__cgroup_v2_stats(const struct reef_cgroup *cg, struct reef_cgroup_stats *st,
                          struct reef_err *err)
{
    const char *dir = cg->d[0].dir;
    char buf[8192];
    ssize_t n;
    if (cg->ctrls & REEF_CG_BIT(REEF_CG_MEMORY)) {
        n = reef__cg_read(dir, "memory.current", buf, sizeof(buf));
        if (n < 0)
            return reef_err_errno(err, (int)n, "read %s/memory.current", dir);
        if (reef__cgroup_u64(buf, &st->memory_usage) < 0)
            return reef_err_set(err, -EINVAL, "%s/memory.current: not a number", dir);
        uint64_t inactive = 0;
        if (reef__cg_read(dir, "memory.stat", buf, sizeof(buf)) >= 0)
            reef__cgroup_kv(buf, "inactive_file", &inactive);
        st->memory_working_set = reef__cgroup_working_set(st->memory_usage, inactive);
        st->have |= REEF_CGROUP_HAVE_MEMORY;
        /* memory.peak arrived in Linux 5.19. */
        if (reef__cg_read(dir, "memory.peak", buf, sizeof(buf)) >= 0 &&
            reef__cgroup_u64(buf, &st->memory_peak) == 0)
            st->have |= REEF_CGROUP_HAVE_PEAK;
        if (reef__cg_read(dir, "memory.events", buf, sizeof(buf)) >= 0 &&
            reef__cgroup_kv(buf, "oom_kill", &st->oom_kills) == 0)
            st->have |= REEF_CGROUP_HAVE_OOM;
    }
    n = reef__cg_read(dir, "cpu.stat", buf, sizeof(buf));
    uint64_t usec;
    if (n >= 0 && reef__cgroup_kv(buf, "usage_usec", &usec) == 0 && usec < UINT64_MAX / 1000) {
        st->cpu_usage_ns = usec * 1000;
        st->have |= REEF_CGROUP_HAVE_CPU;
    }
    if (cg->ctrls & REEF_CG_BIT(REEF_CG_PIDS)) {
        n = reef__cg_read(dir, "pids.current", buf, sizeof(buf));
        if (n < 0)
            return reef_err_errno(err, (int)n, "read %s/pids.current", dir);
        if (reef__cgroup_u64(buf, &st->pids_current) < 0)
            return reef_err_set(err, -EINVAL, "%s/pids.current: not a number", dir);
        st->have |= REEF_CGROUP_HAVE_PIDS;
    }
    return 0;
}

/* cgroup.kill (Linux 5.14) kills the whole subtree atomically, forks in flight included. Older
 * kernels get the freeze-and-sweep loop that v1 uses. */
int reef__cgroup_v2_kill(const struct reef_cgroup *cg, struct reef_err *err)
{
    const char *dir = cg->d[0].dir;
    long long deadline = reef__cg_now_ms() + 5000;
    bool killfile = !(reef__cgroup_test_flags & REEF__CG_TEST_NO_KILLFILE) &&
                    reef__cg_exists(dir, "cgroup.kill");
    bool freeze = !(reef__cgroup_test_flags & REEF__CG_TEST_NO_FREEZE) &&
                  reef__cg_exists(dir, "cgroup.freeze");
    int delay = 1;
    for (;;) {
        size_t total = 0;
        int r;
        if (killfile) {
            r = reef__cg_write(dir, "cgroup.kill", "1");
            if (r == -ENOENT)
                return 0; /* already removed */
            if (r < 0)
                return reef_err_errno(err, r, "write %s/cgroup.kill", dir);
            if ((r = reef__cg_count_procs(dir, &total)) < 0)
                return reef_err_errno(err, r, "read %s/cgroup.procs", dir);
        } else {
            bool frozen = freeze && reef__cg_write(dir, "cgroup.freeze", "1") == 0;
            if (frozen) {
                long long until = reef__cg_now_ms() + 500;
                char ev[256];
                uint64_t v = 0;
                while (reef__cg_read(dir, "cgroup.events", ev, sizeof(ev)) > 0 &&
                       (reef__cgroup_kv(ev, "frozen", &v) < 0 || v != 1) &&
                       reef__cg_now_ms() < until)
                    reef__cg_sleep_ms(1);
            }
            r = reef__cg_kill_procs(dir, &total);
            if (frozen)
                reef__cg_write(dir, "cgroup.freeze", "0");
            if (r < 0)
                return reef_err_errno(err, r, "read %s/cgroup.procs", dir);
        }
        if (total == 0)
            return 0;
        if (reef__cg_now_ms() >= deadline)
            return reef_err_set(err, -ETIMEDOUT, "%zu processes still alive after 5 s", total);
        reef__cg_sleep_ms(delay);
        if (delay < 20)
            delay *= 2;
    }
}
