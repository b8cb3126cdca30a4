/* cgroup: the pure planning and stat-file parsing logic, shared file helpers and the
 * version-independent entry points. cgroup_layout.c finds the host's hierarchies; cgroup_v1.c and
 * cgroup_v2.c hold what differs per kernel interface. */
#define REEF_CGROUP_IMPL
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cleanup.h"
#include "runtime/cgroup_internal.h"

unsigned reef__cgroup_test_flags;

/* ---- Pure helpers: names, plans, parsing ----------------------------------------------------- */

int reef__cgroup_check_path(const char *p, bool one_component, struct reef_err *err)
{
    const char *what = one_component ? "cgroup name" : "cgroup parent";
    if (!p || !*p)
        return reef_err_set(err, -EINVAL, "%s is empty", what);
    if (strlen(p) > 1024)
        return reef_err_set(err, -ENAMETOOLONG, "%s is longer than 1024 bytes", what);
    const char *s = p;
    if (*s == '/') {
        if (one_component)
            return reef_err_set(err, -EINVAL, "%s \"%s\" contains '/'", what, p);
        s++;
        if (!*s) /* the root itself: callers that allow it check for "/" first */
            return reef_err_set(err, -EINVAL, "%s \"/\" names the root", what);
    }
    while (*s) {
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - s);
        if (n == 0 && *e)
            return reef_err_set(err, -EINVAL, "%s \"%.64s\" has an empty component", what, p);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return reef_err_set(err, -EINVAL, "%s \"%.64s\" contains \".\" or \"..\"", what, p);
        if (n > 255)
            return reef_err_set(err, -ENAMETOOLONG, "%s has a component over 255 bytes", what);
        for (const char *c = s; c < e; c++) {
            if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
                !(*c >= '0' && *c <= '9') && !strchr("_.:@-", *c))
                return reef_err_set(err, -EINVAL, "%s \"%.64s\" contains the byte 0x%02x", what, p,
                                    (unsigned char)*c);
        }
        /* A component named like a control file would collide with the kernel's files. */
        if (n >= 7 && memcmp(s, "cgroup.", 7) == 0)
            return reef_err_set(err, -EINVAL, "%s \"%.64s\" uses the reserved prefix cgroup.", what,
                                p);
        if (*e && one_component)
            return reef_err_set(err, -EINVAL, "%s \"%s\" contains '/'", what, p);
        s = *e ? e + 1 : e;
    }
    return 0;
}

int reef__cgroup_cpu_quota(double cpus, uint64_t period_us, uint64_t *quota_us,
                           struct reef_err *err)
{
    if (!(cpus > 0) || cpus > 65536 || isnan(cpus))
        return reef_err_set(err, -EINVAL, "cpu limit: %g CPUs is out of range (0, 65536]", cpus);
    if (period_us < 1000 || period_us > 1000000)
        return reef_err_set(err, -EINVAL, "cpu limit: period %llu us is out of range",
                            (unsigned long long)period_us);
    double q = nearbyint(cpus * (double)period_us);
    *quota_us = q < 1000 ? 1000 : (uint64_t)q;
    return 0;
}

static int missing_ctrl(struct reef_err *err, const char *what, enum reef_cgroup_ctrl c, bool v2,
                        unsigned kernel)
{
    const char *name = v2 && c == REEF_CG_BLKIO ? "io" : reef_cgroup_ctrl_name(c);
    if (!(kernel & REEF_CG_BIT(c))) {
        if (c == REEF_CG_MEMORY)
            return reef_err_set(err, -EOPNOTSUPP,
                                "%s: the memory cgroup controller is not enabled; add "
                                "cgroup_memory=1 cgroup_enable=memory to the kernel command line",
                                what);
        return reef_err_set(err, -EOPNOTSUPP,
                            "%s: the %s cgroup controller is not enabled in this kernel; add "
                            "cgroup_enable=%s to the kernel command line (and check it is built)",
                            what, name, name);
    }
    if (v2)
        return reef_err_set(err, -EOPNOTSUPP,
                            "%s: the %s controller is not available in this cgroup (not listed in "
                            "the parent's cgroup.controllers: not delegated to reef's parent)",
                            what, name);
    return reef_err_set(err, -EOPNOTSUPP,
                        "%s: the %s cgroup controller is enabled but not mounted as a cgroup v1 "
                        "hierarchy (on a hybrid host it may be bound to cgroup2); mount it at "
                        "/sys/fs/cgroup/%s",
                        what, name, name);
}

static void plan_add(struct reef__cgroup_plan *plan, enum reef_cgroup_ctrl c, const char *what,
                     const char *file, const char *fmt, unsigned long long v)
{
    if (REEF_NEVER(plan->n >= REEF__CG_PLAN_MAX))
        return;
    struct reef__cgroup_write *w = &plan->w[plan->n++];
    w->ctrl = c;
    w->what = what;
    reef_strlcpy(w->file, file, sizeof(w->file));
    snprintf(w->value, sizeof(w->value), fmt, v);
}

int reef__cgroup_plan_limits(bool v2, unsigned ctrls, unsigned kernel, unsigned features,
                             const struct reef_cgroup_limits *lim, struct reef__cgroup_plan *plan,
                             struct reef_err *err)
{
    plan->n = 0;
    if (lim->memory_bytes) {
        static const char what[] = "memory limit";
        if (!(ctrls & REEF_CG_BIT(REEF_CG_MEMORY)))
            return missing_ctrl(err, what, REEF_CG_MEMORY, v2, kernel);
        if (lim->memory_bytes > (uint64_t)INT64_MAX / 2)
            return reef_err_set(err, -ERANGE, "%s: %llu bytes is too large", what,
                                (unsigned long long)lim->memory_bytes);
        plan_add(plan, REEF_CG_MEMORY, what, v2 ? "memory.max" : "memory.limit_in_bytes", "%llu",
                 lim->memory_bytes);
        if (lim->swap_set) {
            if (lim->swap_bytes > (uint64_t)INT64_MAX / 2)
                return reef_err_set(err, -ERANGE, "swap limit: %llu bytes is too large",
                                    (unsigned long long)lim->swap_bytes);
            if (v2 && !(features & REEF__CG_F_SWAP_MAX))
                return reef_err_set(err, -EOPNOTSUPP,
                                    "swap limit: memory.swap.max is missing (kernel without swap "
                                    "accounting); add swapaccount=1 to the kernel command line");
            if (!v2 && !(features & REEF__CG_F_MEMSW))
                return reef_err_set(err, -EOPNOTSUPP,
                                    "swap limit: memory.memsw.limit_in_bytes is missing (swap "
                                    "accounting is off); add swapaccount=1 to the kernel command "
                                    "line");
            /* v1 limits memory+swap together; v2 limits swap alone. */
            if (v2)
                plan_add(plan, REEF_CG_MEMORY, "swap limit", "memory.swap.max", "%llu",
                         lim->swap_bytes);
            else
                plan_add(plan, REEF_CG_MEMORY, "swap limit", "memory.memsw.limit_in_bytes", "%llu",
                         lim->memory_bytes + lim->swap_bytes);
        } else if (v2 && (features & REEF__CG_F_SWAP_MAX)) {
            plan_add(plan, REEF_CG_MEMORY, what, "memory.swap.max", "%llu", 0);
        }
    } else if (lim->swap_set) {
        return reef_err_set(err, -EINVAL, "swap limit: needs a memory limit too");
    }
    if (lim->cpus != 0) {
        static const char what[] = "cpu limit";
        uint64_t quota = 0;
        int r = reef__cgroup_cpu_quota(lim->cpus, 100000, &quota, err);
        if (r < 0)
            return r;
        if (!(ctrls & REEF_CG_BIT(REEF_CG_CPU)))
            return missing_ctrl(err, what, REEF_CG_CPU, v2, kernel);
        if (!(features & REEF__CG_F_CFS))
            return reef_err_set(err, -EOPNOTSUPP,
                                "%s: the kernel lacks CFS bandwidth control (%s is missing; "
                                "it needs CONFIG_CFS_BANDWIDTH=y)",
                                what, v2 ? "cpu.max" : "cpu.cfs_quota_us");
        if (v2) {
            plan_add(plan, REEF_CG_CPU, what, "cpu.max", "%llu 100000", quota);
        } else {
            plan_add(plan, REEF_CG_CPU, what, "cpu.cfs_period_us", "%llu", 100000);
            plan_add(plan, REEF_CG_CPU, what, "cpu.cfs_quota_us", "%llu", quota);
        }
    }
    if (lim->pids_max) {
        static const char what[] = "pids limit";
        if (!(ctrls & REEF_CG_BIT(REEF_CG_PIDS)))
            return missing_ctrl(err, what, REEF_CG_PIDS, v2, kernel);
        /* The kernel rejects numbers above PID_MAX_LIMIT; anything that high means no limit. */
        if (lim->pids_max >= 4194304)
            plan_add(plan, REEF_CG_PIDS, what, "pids.max", "max", 0);
        else
            plan_add(plan, REEF_CG_PIDS, what, "pids.max", "%llu", lim->pids_max);
    }
    return 0;
}

static int parse_u64_tok(const char *s, size_t n, uint64_t *out)
{
    if (n == 3 && memcmp(s, "max", 3) == 0) {
        *out = UINT64_MAX;
        return 0;
    }
    if (n == 0 || n > 20)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int reef__cgroup_u64(const char *text, uint64_t *out)
{
    const char *end = text + strlen(text), *p = text, *f;
    size_t n;
    if (!reef__cg_next_field(&p, end, &f, &n))
        return -EINVAL;
    /* The single value may end in a newline and nothing else. */
    while (p < end && (*p == '\n' || *p == ' ' || *p == '\t'))
        p++;
    if (p != end)
        return -EINVAL;
    if (f[n - 1] == '\n')
        n--;
    return parse_u64_tok(f, n, out);
}

int reef__cgroup_kv(const char *text, const char *key, uint64_t *out)
{
    size_t kn = strlen(key);
    for (const char *s = text; *s;) {
        const char *end = strchr(s, '\n');
        if (!end)
            end = s + strlen(s);
        const char *p = s, *f;
        size_t n;
        if (reef__cg_next_field(&p, end, &f, &n) && n == kn && memcmp(f, key, kn) == 0) {
            const char *v;
            size_t vn;
            if (!reef__cg_next_field(&p, end, &v, &vn))
                return -EINVAL;
            return parse_u64_tok(v, vn, out) < 0 ? -EINVAL : 0;
        }
        s = *end ? end + 1 : end;
    }
    return -ENOENT;
}

int reef__cgroup_parse_cpu_max(const char *text, uint64_t *quota, uint64_t *period)
{
    const char *end = text + strlen(text), *p = text, *a, *b, *x;
    size_t an, bn, xn;
    if (!reef__cg_next_field(&p, end, &a, &an) || !reef__cg_next_field(&p, end, &b, &bn))
        return -EINVAL;
    if (bn && b[bn - 1] == '\n')
        bn--;
    if (reef__cg_next_field(&p, end, &x, &xn) && !(xn == 1 && x[0] == '\n'))
        return -EINVAL;
    if (parse_u64_tok(a, an, quota) < 0 || parse_u64_tok(b, bn, period) < 0 ||
        *period == UINT64_MAX || *period == 0)
        return -EINVAL;
    return 0;
}

uint64_t reef__cgroup_working_set(uint64_t usage, uint64_t inactive_file)
{
    return usage > inactive_file ? usage - inactive_file : 0;
}

/* ---- File helpers (no allocation: usable between fork and exec) ------------------------------ */

static int join_path(char *out, size_t cap, const char *dir, const char *file)
{
    size_t dn = strlen(dir), fn = strlen(file);
    if (dn + 1 + fn + 1 > cap)
        return -ENAMETOOLONG;
    memcpy(out, dir, dn);
    out[dn] = '/';
    memcpy(out + dn + 1, file, fn + 1);
    return 0;
}

int reef__cg_write(const char *dir, const char *file, const char *val)
{
    char path[4096];
    if (join_path(path, sizeof(path), dir, file) < 0)
        return -ENAMETOOLONG;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t n = strlen(val);
    ssize_t w;
    do
        w = write(fd, val, n);
    while (w < 0 && errno == EINTR);
    int r = w < 0 ? -errno : (size_t)w != n ? -EIO : 0;
    close(fd);
    return r;
}

ssize_t reef__cg_read(const char *dir, const char *file, char *buf, size_t cap)
{
    char path[4096];
    if (cap == 0 || join_path(path, sizeof(path), dir, file) < 0)
        return -ENAMETOOLONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

bool reef__cg_exists(const char *dir, const char *file)
{
    char path[4096];
    return join_path(path, sizeof(path), dir, file) == 0 && access(path, F_OK) == 0;
}

long long reef__cg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void reef__cg_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Calls fn for every pid listed in dir/cgroup.procs and, recursively, in its child cgroups
 * (a container may have made some). Streams the file: a cgroup may list many thousands. */
static int for_each_pid(const char *dir, int depth, void (*fn)(pid_t, void *), void *ud)
{
    if (depth > 16)
        return -ELOOP;
    char path[4096];
    if (join_path(path, sizeof(path), dir, "cgroup.procs") < 0)
        return -ENAMETOOLONG;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char buf[4096];
    long long cur = -1;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                cur = (cur < 0 ? 0 : cur) * 10 + (buf[i] - '0');
                if (cur > INT32_MAX)
                    return -EINVAL;
            } else if (cur >= 0) {
                fn((pid_t)cur, ud);
                cur = -1;
            }
        }
        if (n == 0)
            break;
    }
    if (cur >= 0)
        fn((pid_t)cur, ud);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    int r = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[4096];
        if (join_path(sub, sizeof(sub), dir, e->d_name) < 0)
            continue;
        int rr = for_each_pid(sub, depth + 1, fn, ud);
        if (rr < 0 && rr != -ENOENT && r == 0)
            r = rr;
    }
    closedir(d);
    return r;
}

static void count_pid(pid_t pid, void *ud)
{
    (void)pid;
    (*(size_t *)ud)++;
}

static void kill_pid(pid_t pid, void *ud)
{
    (*(size_t *)ud)++;
    /* reef never kills itself, even when someone moved it into a container's cgroup. */
    if (pid > 0 && pid != getpid())
        kill(pid, SIGKILL);
}

int reef__cg_kill_procs(const char *dir, size_t *seen)
{
    *seen = 0;
    int r = for_each_pid(dir, 0, kill_pid, seen);
    return r == -ENOENT ? 0 : r;
}

int reef__cg_count_procs(const char *dir, size_t *n)
{
    *n = 0;
    int r = for_each_pid(dir, 0, count_pid, n);
    return r == -ENOENT ? 0 : r;
}

int reef__cg_rmdir_retry(const char *dir, int timeout_ms)
{
    long long deadline = reef__cg_now_ms() + timeout_ms;
    int delay = 1;
    for (;;) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY || reef__cg_now_ms() >= deadline)
            return -errno;
        reef__cg_sleep_ms(delay);
        if (delay < 50)
            delay *= 2;
    }
}

/* Removes dir and the child cgroups a container may have made inside it, deepest first. */
static int rmdir_tree(const char *dir, int depth, int timeout_ms)
{
    if (depth > 16)
        return -ELOOP;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    int r = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[4096];
        if (join_path(sub, sizeof(sub), dir, e->d_name) < 0)
            continue;
        int rr = rmdir_tree(sub, depth + 1, timeout_ms);
        if (rr < 0 && r == 0)
            r = rr;
    }
    closedir(d);
    int rr = reef__cg_rmdir_retry(dir, timeout_ms);
    return r < 0 ? r : rr;
}

int reef__cg_base_dir(const struct reef__cg_mount *m, const char *parent, char **out,
                      struct reef_err *err)
{
    *out = NULL;
    if (parent[0] == '/') {
        *out = strdup(m->mount);
        return *out ? 0 : reef_err_set(err, -ENOMEM, "out of memory");
    }
    if (!m->self)
        return reef_err_set(err, -ENOENT,
                            "relative cgroup parent \"%s\": reef's own cgroup in %s is unknown",
                            parent, m->mount);
    /* The mount shows the hierarchy from m->root down; reef's cgroup must be inside it. */
    const char *rest = m->self;
    if (strcmp(m->root, "/") != 0) {
        size_t rn = strlen(m->root);
        if (strncmp(m->self, m->root, rn) != 0 || (m->self[rn] != '/' && m->self[rn] != '\0'))
            return reef_err_set(err, -ENOENT,
                                "relative cgroup parent \"%s\": reef's cgroup %s is outside the "
                                "part of the hierarchy mounted at %s",
                                parent, m->self, m->mount);
        rest = m->self + rn;
    }
    if (strstr(rest, "/..") || strstr(rest, "(deleted)"))
        return reef_err_set(err, -ENOENT,
                            "relative cgroup parent \"%s\": reef's cgroup %s is not reachable "
                            "from %s",
                            parent, m->self, m->mount);
    struct reef_buf b = REEF_BUF_INIT;
    if (reef_buf_puts(&b, m->mount) < 0 ||
        reef_buf_puts(&b, strcmp(rest, "/") == 0 ? "" : rest) < 0) {
        reef_buf_free(&b);
        return reef_err_set(err, -ENOMEM, "out of memory");
    }
    *out = reef_buf_steal(&b);
    return *out ? 0 : reef_err_set(err, -ENOMEM, "out of memory");
}

int reef__cg_mkdir_chain(const char *base, const char *rel,
                         int (*each_dir)(const char *parent, const char *dir, void *ud), void *ud,
                         int *created, struct reef_err *err)
{
    *created = 0;
    char dir[4096], parent[4096];
    size_t len = strlen(base);
    if (len >= sizeof(dir))
        return reef_err_set(err, -ENAMETOOLONG, "cgroup path too long");
    memcpy(dir, base, len + 1);
    if (each_dir) {
        int r = each_dir(NULL, dir, ud);
        if (r < 0)
            return r;
    }
    const char *s = rel;
    while (*s == '/')
        s++;
    size_t base_len = len;
    int restarts = 0;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (len + 1 + n + 1 > sizeof(dir))
            return reef_err_set(err, -ENAMETOOLONG, "cgroup path too long");
        memcpy(parent, dir, len + 1);
        dir[len] = '/';
        memcpy(dir + len + 1, s, n);
        len += 1 + n;
        dir[len] = '\0';
        if (mkdir(dir, 0755) == 0) {
            ++*created;
        } else if (errno == EEXIST) {
            *created = 0; /* only a trailing run of directories made here is ours to roll back */
        } else if (errno == ENOENT && restarts++ < 3) {
            /* A parent was there a moment ago: the last container of another reef process
             * left and removed it. Start over from the base. */
            len = base_len;
            dir[len] = '\0';
            *created = 0;
            for (s = rel; *s == '/'; s++)
                ;
            continue;
        } else {
            return reef_err_errno(err, -errno, "mkdir %s", dir);
        }
        if (each_dir) {
            int r = each_dir(parent, dir, ud);
            if (r < 0)
                return r;
        }
        s = e ? e + 1 : s + n;
        while (*s == '/')
            s++;
    }
    return 0;
}

void reef__cg_rmdir_chain(const char *base, const char *rel, int n)
{
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", base, rel) >= sizeof(dir))
        return;
    size_t len = strlen(dir);
    while (len && dir[len - 1] == '/')
        dir[--len] = '\0';
    for (int i = 0; i < n; i++) {
        if (rmdir(dir) < 0 && errno != ENOENT)
            return; /* EBUSY: a sibling container arrived meanwhile */
        char *slash = strrchr(dir, '/');
        if (!slash || (size_t)(slash - dir) <= strlen(base))
            return;
        *slash = '\0';
    }
}

/* ---- Entry points ---------------------------------------------------------------------------- */

void reef_cgroup_free(struct reef_cgroup *cg)
{
    if (!cg)
        return;
    for (int i = 0; i < cg->nd; i++)
        free(cg->d[i].dir);
    free(cg->label);
    free(cg);
}

static int pick_driver(const struct reef_cgroup_layout *l, enum reef_cgroup_driver d, bool *v2,
                       struct reef_err *err)
{
    if (d == REEF_CGROUP_DRIVER_AUTO) {
        if (l->mode == REEF_CGROUP_NONE)
            return reef_err_set(err, -ENODEV,
                                "no cgroup filesystem is mounted (mount cgroup2 "
                                "at /sys/fs/cgroup)");
        *v2 = l->mode == REEF_CGROUP_V2;
        return 0;
    }
    if (d == REEF_CGROUP_DRIVER_V2 && !l->has_v2)
        return reef_err_set(err, -ENODEV, "cgroup v2 requested but no cgroup2 is mounted");
    if (d == REEF_CGROUP_DRIVER_V1 && !l->nv1)
        return reef_err_set(err, -ENODEV, "cgroup v1 requested but no v1 controller is mounted");
    *v2 = d == REEF_CGROUP_DRIVER_V2;
    return 0;
}

static int open_or_create(const struct reef_cgroup_layout *l, const struct reef_cgroup_opts *o,
                          bool create, struct reef_cgroup **out, struct reef_err *err)
{
    *out = NULL;
    const char *parent = o->parent ? o->parent : REEF_CGROUP_DEFAULT_PARENT;
    int r;
    if ((strcmp(parent, "/") != 0 && (r = reef__cgroup_check_path(parent, false, err)) < 0) ||
        (r = reef__cgroup_check_path(o->name, true, err)) < 0)
        return r;
    bool v2;
    if ((r = pick_driver(l, o->driver, &v2, err)) < 0)
        return r;
    struct reef_cgroup *cg = calloc(1, sizeof(*cg));
    if (!cg)
        return reef_err_set(err, -ENOMEM, "out of memory");
    cg->v2 = v2;
    cg->kernel = l->kernel;
    size_t pn = strlen(parent);
    bool slash = pn && parent[pn - 1] == '/';
    struct reef_buf b = REEF_BUF_INIT;
    if (reef_buf_printf(&b, "%s%s%s", parent, slash ? "" : "/", o->name) < 0 ||
        !(cg->label = reef_buf_steal(&b))) {
        reef_buf_free(&b);
        free(cg);
        return reef_err_set(err, -ENOMEM, "out of memory");
    }
    r = v2 ? reef__cgroup_v2_create(l, parent, o->name, create, cg, err)
           : reef__cgroup_v1_create(l, parent, o->name, create, cg, err);
    if (r < 0) {
        reef_err_wrap(err, "%s cgroup %s", create ? "create" : "open", cg->label);
        reef_cgroup_free(cg);
        return r;
    }
    cg->features =
        v2 ? (unsigned)reef__cgroup_v2_features(cg) : (unsigned)reef__cgroup_v1_features(cg);
    *out = cg;
    return 0;
}

int reef_cgroup_create(const struct reef_cgroup_layout *l, const struct reef_cgroup_opts *o,
                       struct reef_cgroup **out, struct reef_err *err)
{
    return open_or_create(l, o, true, out, err);
}

int reef_cgroup_open(const struct reef_cgroup_layout *l, const struct reef_cgroup_opts *o,
                     struct reef_cgroup **out, struct reef_err *err)
{
    return open_or_create(l, o, false, out, err);
}

bool reef_cgroup_is_v2(const struct reef_cgroup *cg)
{
    return cg->v2;
}

unsigned reef_cgroup_ctrls(const struct reef_cgroup *cg)
{
    return cg->ctrls;
}

const char *reef_cgroup_dir(const struct reef_cgroup *cg, enum reef_cgroup_ctrl c)
{
    if ((unsigned)c >= REEF_CG_NCTRL || !(cg->ctrls & REEF_CG_BIT(c)))
        return NULL;
    for (int i = 0; i < cg->nd; i++)
        if (cg->d[i].ctrls & REEF_CG_BIT(c))
            return cg->d[i].dir;
    return NULL;
}

int reef_cgroup_apply(struct reef_cgroup *cg, const struct reef_cgroup_limits *lim,
                      struct reef_err *err)
{
    struct reef__cgroup_plan plan;
    int r = reef__cgroup_plan_limits(cg->v2, cg->ctrls, cg->kernel, cg->features, lim, &plan, err);
    if (r < 0)
        return reef_err_wrap(err, "cgroup %s", cg->label);
    for (int i = 0; i < plan.n; i++) {
        const struct reef__cgroup_write *w = &plan.w[i];
        const char *dir = reef_cgroup_dir(cg, w->ctrl);
        if (REEF_NEVER(!dir))
            return reef_err_set(err, -EINVAL, "cgroup %s: %s: no directory", cg->label, w->what);
        r = reef__cg_write(dir, w->file, w->value);
        /* v1 keeps memsw >= memory: raising both means writing memsw first. */
        if (r == -EINVAL && i + 1 < plan.n &&
            strcmp(plan.w[i + 1].file, "memory.memsw.limit_in_bytes") == 0 &&
            reef__cg_write(dir, plan.w[i + 1].file, plan.w[i + 1].value) == 0)
            r = reef__cg_write(dir, w->file, w->value);
        if (r < 0)
            return reef_err_errno(err, r, "cgroup %s: %s: write %s to %s/%s", cg->label, w->what,
                                  w->value, dir, w->file);
    }
    return 0;
}

/* Formats a non-negative pid without stdio (this runs between fork and exec). */
static void fmt_pid(char *buf, pid_t pid)
{
    char tmp[16];
    int n = 0;
    unsigned v = (unsigned)pid;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < 15);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}

int reef_cgroup_add(const struct reef_cgroup *cg, pid_t pid, struct reef_err *err)
{
    if (pid < 0)
        return reef_err_set(err, -EINVAL, "cgroup %s: bad pid %d", cg->label, (int)pid);
    char val[16];
    fmt_pid(val, pid);
    for (int i = 0; i < cg->nd; i++) {
        int r = reef__cg_write(cg->d[i].dir, "cgroup.procs", val);
        if (r < 0)
            return reef_err_errno(err, r, "cgroup %s: add pid %s to %s", cg->label, val,
                                  cg->d[i].dir);
    }
    return 0;
}

int reef_cgroup_join(const struct reef_cgroup *cg)
{
    /* v1: the calling thread through `tasks`, which the kernel does without the global
     * cgroup_threadgroup_rwsem (and so without waiting for an RCU grace period, as moving a
     * whole process through cgroup.procs does). Between fork and exec the caller is the only
     * thread of its process, so the whole process moves. */
    const char *file = cg->v2 ? "cgroup.procs" : "tasks";
    for (int i = 0; i < cg->nd; i++) {
        int r = reef__cg_write(cg->d[i].dir, file, "0");
        if (r < 0)
            return r;
    }
    return 0;
}

int reef_cgroup_stats(const struct reef_cgroup *cg, struct reef_cgroup_stats *st,
                      struct reef_err *err)
{
    memset(st, 0, sizeof(*st));
    int r = cg->v2 ? reef__cgroup_v2_stats(cg, st, err) : reef__cgroup_v1_stats(cg, st, err);
    return r < 0 ? reef_err_wrap(err, "cgroup %s: stats", cg->label) : 0;
}

int reef_cgroup_oom_kills(const struct reef_cgroup *cg, uint64_t *out, struct reef_err *err)
{
    *out = 0;
    if (!(cg->ctrls & REEF_CG_BIT(REEF_CG_MEMORY))) {
        missing_ctrl(err, "OOM count", REEF_CG_MEMORY, cg->v2, cg->kernel);
        return reef_err_wrap(err, "cgroup %s", cg->label);
    }
    /* Only the counter: the shim reads it on every start and exit. */
    const char *dir = reef_cgroup_dir(cg, REEF_CG_MEMORY);
    const char *file = cg->v2 ? "memory.events" : "memory.oom_control";
    char buf[1024];
    ssize_t n = reef__cg_read(dir, file, buf, sizeof(buf));
    if (n < 0)
        return reef_err_errno(err, (int)n, "cgroup %s: stats: read %s/%s", cg->label, dir, file);
    if (reef__cgroup_kv(buf, "oom_kill", out) < 0)
        return reef_err_set(err, -EOPNOTSUPP,
                            "cgroup %s: OOM count: the kernel reports no oom_kill counter (needs "
                            "Linux 4.13 or later)",
                            cg->label);
    return 0;
}

int reef_cgroup_nprocs(const struct reef_cgroup *cg, size_t *out, struct reef_err *err)
{
    *out = 0;
    for (int i = 0; i < cg->nd; i++) {
        size_t n;
        int r = reef__cg_count_procs(cg->d[i].dir, &n);
        if (r < 0)
            return reef_err_errno(err, r, "cgroup %s: read %s/cgroup.procs", cg->label,
                                  cg->d[i].dir);
        *out += n;
    }
    return 0;
}

int reef_cgroup_kill(const struct reef_cgroup *cg, struct reef_err *err)
{
    int r = cg->v2 ? reef__cgroup_v2_kill(cg, err) : reef__cgroup_v1_kill(cg, err);
    return r < 0 ? reef_err_wrap(err, "cgroup %s: kill", cg->label) : 0;
}

int reef_cgroup_remove(struct reef_cgroup *cg, struct reef_err *err)
{
    int first = 0;
    for (int i = 0; i < cg->nd; i++) {
        int r = rmdir_tree(cg->d[i].dir, 0, 2000);
        if (r < 0 && first == 0)
            first = reef_err_errno(err, r, "cgroup %s: remove %s%s", cg->label, cg->d[i].dir,
                                   r == -EBUSY ? " (processes still inside: kill first)" : "");
    }
    return first;
}

int reef_cgroup_remove_parent(const struct reef_cgroup_layout *l, const char *parent,
                              enum reef_cgroup_driver driver, struct reef_err *err)
{
    bool v2;
    int r = reef__cgroup_check_path(parent, false, err);
    if (r < 0 || (r = pick_driver(l, driver, &v2, err)) < 0)
        return r;
    int first = 0;
    int n = v2 ? 1 : l->nv1;
    for (int i = 0; i < n; i++) {
        const struct reef__cg_mount *m = v2 ? &l->v2 : &l->v1[i];
        _cleanup_free_ char *base = NULL;
        if ((r = reef__cg_base_dir(m, parent, &base, err)) < 0)
            return r;
        char dir[4096];
        if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", base, parent + (parent[0] == '/')) >=
            sizeof(dir))
            return reef_err_set(err, -ENAMETOOLONG, "cgroup path too long");
        /* Only the last component: higher ones may belong to someone else. */
        if (rmdir(dir) < 0 && errno != ENOENT && first == 0)
            first = reef_err_errno(err, -errno, "remove cgroup parent %s", dir);
    }
    return first;
}
