/* cgroup_v1: container cgroups on cgroup v1 hierarchies (pure v1 and hybrid hosts).
 *
 * Each controller (or co-mounted group such as cpu,cpuacct) is its own tree, so a container's
 * cgroup is one directory per mounted hierarchy and every operation loops over them. */
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

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\n' && *s != '\t')
            return false;
    return true;
}

/* A new cpuset cgroup starts with empty cpus and mems, and the kernel refuses to move a task into
 * it (ENOSPC) until both are set; copy them from the parent unless already set (also when another
 * reef process created the directory a moment ago and has not copied them yet). */
static int cpuset_fill(const char *parent, const char *dir, void *ud)
{
    struct reef_err *err = ud;
    if (!parent)
        return 0;
    static const char *const files[2][2] = {{"cpuset.cpus", "cpus"}, {"cpuset.mems", "mems"}};
    for (int i = 0; i < 2; i++) {
        /* A hierarchy mounted with "noprefix" drops the "cpuset." part. */
        const char *f = reef__cg_exists(dir, files[i][0]) ? files[i][0] : files[i][1];
        char cur[4096], up[4096];
        ssize_t n = reef__cg_read(dir, f, cur, sizeof(cur));
        if (n < 0)
            return reef_err_errno(err, (int)n, "read %s/%s", dir, f);
        if (!blank(cur))
            continue;
        n = reef__cg_read(parent, f, up, sizeof(up));
        if (n < 0)
            return reef_err_errno(err, (int)n, "read %s/%s", parent, f);
        int r = reef__cg_write(dir, f, up);
        if (r < 0)
            return reef_err_errno(err, r, "copy %s from %s to %s", f, parent, dir);
    }
    return 0;
}

static char *join3(const char *a, const char *b, const char *c)
{
    struct reef_buf buf = REEF_BUF_INIT;
    if (reef_buf_puts(&buf, a) < 0 || (*b && reef_buf_printf(&buf, "/%s", b) < 0) ||
        reef_buf_printf(&buf, "/%s", c) < 0) {
        reef_buf_free(&buf);
        return NULL;
    }
    return reef_buf_steal(&buf);
}

/* The parent path without its leading slash and trailing slashes, as mkdir_chain wants it. */
static char *rel_parent(const char *parent)
{
    while (*parent == '/')
        parent++;
    size_t n = strlen(parent);
    while (n && parent[n - 1] == '/')
        n--;
    return reef_strndup(parent, n);
}

int reef__cgroup_v1_create(const struct reef_cgroup_layout *l, const char *parent, const char *name,
                           bool create, struct reef_cgroup *cg, struct reef_err *err)
{
    _cleanup_free_ char *rel = rel_parent(parent);
    char *bases[REEF__CG_MAX_HIER] = {0};
    int made[REEF__CG_MAX_HIER] = {0};
    int r = 0;
    if (!rel)
        return reef_err_set(err, -ENOMEM, "out of memory");
    for (int i = 0; i < l->nv1; i++) {
        const struct reef__cg_mount *m = &l->v1[i];
        bool cpuset = m->ctrls & REEF_CG_BIT(REEF_CG_CPUSET);
        if ((r = reef__cg_base_dir(m, parent, &bases[i], err)) < 0)
            goto fail;
        _cleanup_free_ char *leaf = join3(bases[i], rel, name);
        if (!leaf) {
            r = reef_err_set(err, -ENOMEM, "out of memory");
            goto fail;
        }
        if (!create) {
            if (access(leaf, F_OK) < 0)
                continue;
        } else {
            /* A sibling reef may remove an empty parent between our mkdirs (ENOENT, or ENODEV
             * from the files of a directory being removed): start over then. */
            for (int attempt = 0;; attempt++) {
                r = reef__cg_mkdir_chain(bases[i], rel, cpuset ? cpuset_fill : NULL, err, &made[i],
                                         err);
                if (r == 0 && mkdir(leaf, 0755) < 0)
                    r = errno == EEXIST ? reef_err_set(err, -EEXIST, "%s already exists", leaf)
                                        : reef_err_errno(err, -errno, "mkdir %s", leaf);
                if (r < 0 && made[i]) { /* each attempt takes back what it made */
                    reef__cg_rmdir_chain(bases[i], rel, made[i]);
                    made[i] = 0;
                }
                if ((r != -ENOENT && r != -ENODEV) || attempt == 9)
                    break;
            }
            if (r < 0)
                goto fail;
        }
        struct reef__cg_dir *d = &cg->d[cg->nd++];
        d->dir = REEF_STEAL(leaf);
        d->ctrls = m->ctrls;
        d->created = create;
        cg->ctrls |= m->ctrls;
        if (create && cpuset) {
            char up[4096];
            if ((size_t)snprintf(up, sizeof(up), "%s%s%s", bases[i], *rel ? "/" : "", rel) >=
                sizeof(up)) {
                r = reef_err_set(err, -ENAMETOOLONG, "cgroup path too long");
                goto fail;
            }
            if ((r = cpuset_fill(up, d->dir, err)) < 0)
                goto fail;
        }
    }
    if (!create && cg->nd == 0)
        r = reef_err_set(err, -ENOENT, "it exists in no cgroup v1 hierarchy");
fail:
    if (r < 0 && create) {
        for (int i = 0; i < cg->nd; i++)
            if (cg->d[i].created)
                rmdir(cg->d[i].dir);
        for (int i = 0; i < l->nv1; i++)
            if (bases[i] && made[i])
                reef__cg_rmdir_chain(bases[i], rel, made[i]);
    }
    for (int i = 0; i < l->nv1; i++)
        free(bases[i]);
    return r;
}

int reef__cgroup_v1_features(struct reef_cgroup *cg)
{
    unsigned f = 0;
    const char *mem = reef_cgroup_dir(cg, REEF_CG_MEMORY);
    const char *cpu = reef_cgroup_dir(cg, REEF_CG_CPU);
    if (mem && reef__cg_exists(mem, "memory.memsw.limit_in_bytes"))
        f |= REEF__CG_F_MEMSW;
    if (cpu && reef__cg_exists(cpu, "cpu.cfs_quota_us"))
        f |= REEF__CG_F_CFS;
    return (int)f;
}

static int read_u64(const char *dir, const char *file, uint64_t *out, struct reef_err *err)
{
    char buf[128];
    ssize_t n = reef__cg_read(dir, file, buf, sizeof(buf));
    if (n < 0)
        return reef_err_errno(err, (int)n, "read %s/%s", dir, file);
    if (reef__cgroup_u64(buf, out) < 0)
        return reef_err_set(err, -EINVAL, "%s/%s: not a number", dir, file);
    return 0;
}

int reef__cgroup_v1_stats(const struct reef_cgroup *cg, struct reef_cgroup_stats *st,
                          struct reef_err *err)
{
    char buf[8192];
    int r;
    const char *mem = reef_cgroup_dir(cg, REEF_CG_MEMORY);
    if (mem) {
        if ((r = read_u64(mem, "memory.usage_in_bytes", &st->memory_usage, err)) < 0)
            return r;
        uint64_t inactive = 0;
        if (reef__cg_read(mem, "memory.stat", buf, sizeof(buf)) >= 0 &&
            reef__cgroup_kv(buf, "total_inactive_file", &inactive) < 0)
            reef__cgroup_kv(buf, "inactive_file", &inactive);
        st->memory_working_set = reef__cgroup_working_set(st->memory_usage, inactive);
        st->have |= REEF_CGROUP_HAVE_MEMORY;
        if (read_u64(mem, "memory.max_usage_in_bytes", &st->memory_peak, NULL) == 0)
            st->have |= REEF_CGROUP_HAVE_PEAK;
        if (reef__cg_read(mem, "memory.oom_control", buf, sizeof(buf)) >= 0 &&
            reef__cgroup_kv(buf, "oom_kill", &st->oom_kills) == 0)
            st->have |= REEF_CGROUP_HAVE_OOM;
    }
    const char *acct = reef_cgroup_dir(cg, REEF_CG_CPUACCT);
    if (acct) {
        if ((r = read_u64(acct, "cpuacct.usage", &st->cpu_usage_ns, err)) < 0)
            return r;
        st->have |= REEF_CGROUP_HAVE_CPU;
    }
    const char *pids = reef_cgroup_dir(cg, REEF_CG_PIDS);
    if (pids) {
        if ((r = read_u64(pids, "pids.current", &st->pids_current, err)) < 0)
            return r;
        st->have |= REEF_CGROUP_HAVE_PIDS;
    }
    return 0;
}

/* Freezing first means no process can fork or exit between reading cgroup.procs and signalling
 * it; a frozen task takes the SIGKILL once thawed. Without a freezer, repeating the sweep until
 * the cgroup is empty still terminates because every round kills what it sees. */
int reef__cgroup_v1_kill(const struct reef_cgroup *cg, struct reef_err *err)
{
    const char *fz = (reef__cgroup_test_flags & REEF__CG_TEST_NO_FREEZE)
                         ? NULL
                         : reef_cgroup_dir(cg, REEF_CG_FREEZER);
    long long deadline = reef__cg_now_ms() + 5000;
    int delay = 1;
    /* Usually empty by now (the container's init exited and its PID namespace went with it):
     * with nobody inside to fork, there is nothing to freeze. */
    size_t n = 0;
    if (reef_cgroup_nprocs(cg, &n, NULL) == 0 && n == 0)
        return 0;
    for (;;) {
        bool frozen = fz && reef__cg_write(fz, "freezer.state", "FROZEN") == 0;
        if (frozen) {
            long long until = reef__cg_now_ms() + 500;
            char state[64];
            while (reef__cg_read(fz, "freezer.state", state, sizeof(state)) > 0 &&
                   strncmp(state, "FROZEN", 6) != 0 && reef__cg_now_ms() < until)
                reef__cg_sleep_ms(1);
        }
        size_t total = 0;
        int r = 0;
        for (int i = 0; i < cg->nd && r == 0; i++) {
            size_t seen = 0;
            r = reef__cg_kill_procs(cg->d[i].dir, &seen);
            total += seen;
            if (r < 0)
                reef_err_errno(err, r, "read %s/cgroup.procs", cg->d[i].dir);
        }
        if (frozen)
            reef__cg_write(fz, "freezer.state", "THAWED");
        if (r < 0)
            return r;
        if (total == 0)
            return 0;
        if (reef__cg_now_ms() >= deadline)
            return reef_err_set(err, -ETIMEDOUT, "%zu processes still alive after 5 s", total);
        reef__cg_sleep_ms(delay);
        if (delay < 20)
            delay *= 2;
    }
}
