/* Tests for runtime/cgroup on the real kernel (as root; without root these tests fail, they do
 * not skip). The synthetic-layout tests are in test_cgroup.c.
 *
 * Every real test works under a parent of its own, reef-test-<pid>, and runs its body in a forked
 * child; the test process then kills and removes whatever is left below that parent, whatever the
 * body did, and checks that no directory remains. */

#define REEF_CGROUP_IMPL
#include "runtime/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/cgroup_fixture.h"
#include "tests/unit/test.h"

/* ---- The real kernel ------------------------------------------------------------------------- */

static void need_root(void)
{
    if (geteuid() != 0)
        TEST_FAIL("the cgroup tests need root (run them as root, as CI does)");
}

static struct reef_cgroup_layout *host(void)
{
    struct reef_cgroup_layout *l = NULL;
    struct reef_err err = {0};
    CHECK_OK(reef_cgroup_layout_detect(NULL, &l, &err), &err);
    return l;
}

static char test_parent[64];

/* v1 parents are relative, so the test's cgroups stay inside the one the test runs in (and its
 * limits); the v2 parent is absolute, below the cgroup2 root, since the "no internal processes"
 * rule forbids controllers below a non-root cgroup that holds the test itself. */
static bool uses_v2(const struct reef_cgroup_layout *l, enum reef_cgroup_driver d)
{
    return d == REEF_CGROUP_DRIVER_V2 ||
           (d == REEF_CGROUP_DRIVER_AUTO && reef_cgroup_layout_mode(l) == REEF_CGROUP_V2);
}

static const char *parent_for(enum reef_cgroup_driver d)
{
    struct reef_cgroup_layout *l = host();
    snprintf(test_parent, sizeof(test_parent), "%sreef-test-%d", uses_v2(l, d) ? "/" : "",
             (int)getpid());
    reef_cgroup_layout_free(l);
    return test_parent;
}

/* Directories of the test parent in every hierarchy of the driver. */
static int parent_dirs(const struct reef_cgroup_layout *l, enum reef_cgroup_driver d,
                       const char *parent, char dirs[][4096])
{
    int n = 0;
    bool v2 = uses_v2(l, d);
    for (int i = 0; i < (v2 ? 1 : l->nv1); i++) {
        const struct reef__cg_mount *m = v2 ? &l->v2 : &l->v1[i];
        char *base = NULL;
        struct reef_err err = {0};
        CHECK_OK(reef__cg_base_dir(m, parent, &base, &err), &err);
        snprintf(dirs[n++], 4096, "%s/%s", base, parent + (parent[0] == '/'));
        free(base);
    }
    return n;
}

/* Kills and removes everything below the parent, then the parent; checks nothing is left. */
static void cleanup_parent(enum reef_cgroup_driver d, const char *parent)
{
    struct reef_cgroup_layout *l = host();
    char dirs[REEF__CG_MAX_HIER][4096];
    int n = parent_dirs(l, d, parent, dirs);
    for (int i = 0; i < n; i++) {
        DIR *dp = opendir(dirs[i]);
        if (!dp)
            continue;
        struct dirent *e;
        while ((e = readdir(dp))) {
            if (e->d_type != DT_DIR || e->d_name[0] == '.')
                continue;
            struct reef_cgroup_opts o = {.parent = parent, .name = e->d_name, .driver = d};
            struct reef_cgroup *cg = NULL;
            struct reef_err err = {0};
            if (reef_cgroup_open(l, &o, &cg, &err) == 0) {
                if (reef_cgroup_kill(cg, &err) < 0)
                    fprintf(stderr, "  cleanup: %s\n", err.msg);
                if (reef_cgroup_remove(cg, &err) < 0)
                    fprintf(stderr, "  cleanup: %s\n", err.msg);
                reef_cgroup_free(cg);
            }
        }
        closedir(dp);
    }
    struct reef_err err = {0};
    if (reef_cgroup_remove_parent(l, parent, d, &err) < 0)
        fprintf(stderr, "  cleanup: %s\n", err.msg);
    for (int i = 0; i < n; i++)
        if (access(dirs[i], F_OK) == 0)
            TEST_FAIL("cgroup directory left behind: %s", dirs[i]);
    reef_cgroup_layout_free(l);
}

/* Runs body in a child (with its own deadline) and cleans the parent up afterwards, whatever the
 * body did; then fails if the body failed. */
static void isolated(enum reef_cgroup_driver d,
                     void (*body)(struct reef_cgroup_layout *, const char *))
{
    need_root();
    const char *parent = parent_for(d);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(25);
        struct reef_cgroup_layout *l = host();
        body(l, parent);
        reef_cgroup_layout_free(l);
        exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    cleanup_parent(d, parent);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        TEST_FAIL("test body failed (status 0x%x)", status);
}

/* A real test: its body run by isolated() under the given driver. */
#define REAL_TEST(test, driver, body)                                                              \
    static void test(void)                                                                         \
    {                                                                                              \
        isolated(driver, body);                                                                    \
    }

static struct reef_cgroup *mk(struct reef_cgroup_layout *l, const char *parent, const char *name,
                              enum reef_cgroup_driver d)
{
    struct reef_cgroup_opts o = {.parent = parent, .name = name, .driver = d};
    struct reef_cgroup *cg = NULL;
    struct reef_err err = {0};
    CHECK_OK(reef_cgroup_create(l, &o, &cg, &err), &err);
    return cg;
}

static uint64_t file_u64(const char *dir, const char *file)
{
    uint64_t v;
    CHECK_INT(reef__cgroup_u64(get(dir, file), &v), ==, 0);
    return v;
}

static pid_t spawn_sleeper(void)
{
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        for (;;)
            pause();
    }
    return p;
}

static int reap(pid_t p)
{
    int status;
    while (waitpid(p, &status, 0) < 0)
        CHECK(errno == EINTR);
    return status;
}

/* /proc/<pid>/cgroup has a line ending in ":<path>" for every hierarchy the cgroup spans. */
static bool pid_in(pid_t pid, const char *suffix)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d", (int)pid);
    ssize_t n = reef__cg_read(path, "cgroup", buf, sizeof(buf));
    CHECK(n > 0);
    char want[512];
    snprintf(want, sizeof(want), "%s\n", suffix);
    return strstr(buf, want) != NULL;
}

static void test_real_detect(void)
{
    need_root();
    struct reef_cgroup_layout *l = host();
    enum reef_cgroup_mode m = reef_cgroup_layout_mode(l);
    CHECK(m != REEF_CGROUP_NONE);
    bool v1mem = access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0;
    bool v2top = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    bool unified = access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0;
    if (v1mem && unified) {
        CHECK_INT(m, ==, REEF_CGROUP_HYBRID);
        CHECK_STR(reef_cgroup_layout_v2_mount(l), "/sys/fs/cgroup/unified");
    }
    if (v1mem)
        CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_MEMORY), "/sys/fs/cgroup/memory");
    if (v2top)
        CHECK_INT(m, ==, REEF_CGROUP_V2);
    reef_cgroup_layout_free(l);
}

/* ---- v1 (the driver this hybrid host uses) ---- */

static void body_limits(struct reef_cgroup_layout *l, const char *parent)
{
    struct reef_cgroup *cg = mk(l, parent, "limits", REEF_CGROUP_DRIVER_AUTO);
    bool v2 = reef_cgroup_is_v2(cg);
    CHECK(v2 == (reef_cgroup_layout_mode(l) == REEF_CGROUP_V2)); /* v1 on a hybrid host */
    unsigned need = B(MEMORY) | B(CPU) | B(CPUACCT) | B(PIDS) | B(FREEZER) | (v2 ? 0 : B(CPUSET));
    CHECK_INT(reef_cgroup_ctrls(cg) & need, ==, need);
    struct reef_err err = {0};
    struct reef_cgroup_limits lim = {.memory_bytes = 64 << 20, .cpus = 0.5, .pids_max = 10};
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    const char *mem = reef_cgroup_dir(cg, REEF_CG_MEMORY), *cpu = reef_cgroup_dir(cg, REEF_CG_CPU);
    CHECK_INT(file_u64(reef_cgroup_dir(cg, REEF_CG_PIDS), "pids.max"), ==, 10);
    if (v2) {
        CHECK_INT(file_u64(mem, "memory.max"), ==, 64 << 20);
        if (cg->features & REEF__CG_F_SWAP_MAX)
            CHECK_INT(file_u64(mem, "memory.swap.max"), ==, 0);
        CHECK_STR(get(cpu, "cpu.max"), "50000 100000");
    } else {
        CHECK_INT(file_u64(mem, "memory.limit_in_bytes"), ==, 64 << 20);
        CHECK_INT(file_u64(cpu, "cpu.cfs_quota_us"), ==, 50000);
        CHECK_INT(file_u64(cpu, "cpu.cfs_period_us"), ==, 100000);
        /* The cpuset got cpus and mems from its parent, so tasks can join. */
        CHECK(strlen(get(reef_cgroup_dir(cg, REEF_CG_CPUSET), "cpuset.cpus")) > 0);
        CHECK(strlen(get(reef_cgroup_dir(cg, REEF_CG_CPUSET), "cpuset.mems")) > 0);
    }
    /* A second create of the same name fails and leaves the first alone. */
    struct reef_cgroup_opts o = {.parent = parent, .name = "limits"};
    struct reef_cgroup *dup = NULL;
    CHECK_INT(reef_cgroup_create(l, &o, &dup, &err), ==, -EEXIST);
    CHECK(access(reef_cgroup_dir(cg, REEF_CG_MEMORY), F_OK) == 0);
    /* Swap: without swap accounting (swapaccount=0) asking for it must fail, never be ignored. */
    lim = (struct reef_cgroup_limits){.memory_bytes = 32 << 20, .swap_set = true};
    if (v2 && (cg->features & REEF__CG_F_SWAP_MAX)) {
        CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
        CHECK_INT(file_u64(mem, "memory.max"), ==, 32 << 20);
        CHECK_INT(file_u64(mem, "memory.swap.max"), ==, 0);
        goto swap_done;
    }
    if (!(cg->features & (v2 ? REEF__CG_F_SWAP_MAX : REEF__CG_F_MEMSW))) {
        CHECK_INT(reef_cgroup_apply(cg, &lim, &err), ==, -EOPNOTSUPP);
        CHECK(strstr(err.msg, "swap limit:"));
        goto swap_done;
    }
    /* Lower the memory limit and limit swap too (memsw must stay >= memory). */
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    CHECK_INT(file_u64(reef_cgroup_dir(cg, REEF_CG_MEMORY), "memory.memsw.limit_in_bytes"), ==,
              32 << 20);
    /* Raising both again needs memsw written first; apply handles the order. */
    lim = (struct reef_cgroup_limits){
        .memory_bytes = 48 << 20, .swap_set = true, .swap_bytes = 1 << 20};
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    CHECK_INT(file_u64(reef_cgroup_dir(cg, REEF_CG_MEMORY), "memory.limit_in_bytes"), ==, 48 << 20);
    CHECK_INT(file_u64(reef_cgroup_dir(cg, REEF_CG_MEMORY), "memory.memsw.limit_in_bytes"), ==,
              49 << 20);
swap_done:;
    /* open finds the same directories. */
    struct reef_cgroup *again = NULL;
    CHECK_OK(reef_cgroup_open(l, &o, &again, &err), &err);
    CHECK_STR(reef_cgroup_dir(again, REEF_CG_PIDS), reef_cgroup_dir(cg, REEF_CG_PIDS));
    CHECK_INT(reef_cgroup_ctrls(again), ==, reef_cgroup_ctrls(cg));
    reef_cgroup_free(again);
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    for (int c = 0; c < REEF_CG_NCTRL; c++)
        if (reef_cgroup_dir(cg, c))
            CHECK(access(reef_cgroup_dir(cg, c), F_OK) < 0);
    reef_cgroup_free(cg);
}

REAL_TEST(test_real_limits, REEF_CGROUP_DRIVER_AUTO, body_limits)

static void body_add_kill_remove(struct reef_cgroup_layout *l, const char *parent)
{
    struct reef_cgroup *cg = mk(l, parent, "add", REEF_CGROUP_DRIVER_AUTO);
    struct reef_err err = {0};
    pid_t p = spawn_sleeper();
    CHECK_OK(reef_cgroup_add(cg, p, &err), &err);
    char suffix[256];
    snprintf(suffix, sizeof(suffix), "/%s/add", parent + (parent[0] == '/'));
    CHECK(pid_in(p, suffix)); /* the cgroup2 line, or the cpu, pids, freezer ... lines */
    size_t n;
    CHECK_OK(reef_cgroup_nprocs(cg, &n, &err), &err);
    CHECK_INT(n, ==, (size_t)cg->nd); /* one process, listed once per hierarchy */
    struct reef_cgroup_stats st;
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK_INT(st.pids_current, ==, 1);
    /* A sub-cgroup the container made inside its own: kill and remove must handle it. */
    char sub[4200];
    snprintf(sub, sizeof(sub), "%s/inner", reef_cgroup_dir(cg, REEF_CG_PIDS));
    CHECK(mkdir(sub, 0755) == 0);
    pid_t q = spawn_sleeper();
    char qs[16];
    snprintf(qs, sizeof(qs), "%d", (int)q);
    CHECK_INT(reef__cg_write(sub, "cgroup.procs", qs), ==, 0);
    CHECK_OK(reef_cgroup_kill(cg, &err), &err);
    int s = reap(p);
    CHECK(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
    s = reap(q);
    CHECK(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
    CHECK_OK(reef_cgroup_nprocs(cg, &n, &err), &err);
    CHECK_INT(n, ==, 0);
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    CHECK(access(sub, F_OK) < 0);
    for (int i = 0; i < cg->nd; i++)
        CHECK(access(cg->d[i].dir, F_OK) < 0);
    CHECK_OK(reef_cgroup_remove(cg, &err), &err); /* twice is fine */
    reef_cgroup_free(cg);
    /* The parent goes when empty, in every hierarchy. */
    CHECK_OK(reef_cgroup_remove_parent(l, parent, REEF_CGROUP_DRIVER_AUTO, &err), &err);
    char dirs[REEF__CG_MAX_HIER][4096];
    int nd = parent_dirs(l, REEF_CGROUP_DRIVER_AUTO, parent, dirs);
    for (int i = 0; i < nd; i++)
        CHECK(access(dirs[i], F_OK) < 0);
}

REAL_TEST(test_real_add_kill_remove, REEF_CGROUP_DRIVER_AUTO, body_add_kill_remove)

static void body_oom(struct reef_cgroup_layout *l, const char *parent)
{
    struct reef_cgroup *cg = mk(l, parent, "oom", REEF_CGROUP_DRIVER_AUTO);
    struct reef_err err = {0};
    /* Swap counted too (memsw = memory), so hitting the limit kills instead of swapping. */
    struct reef_cgroup_limits lim = {.memory_bytes = 16 << 20,
                                     .swap_set = (cg->features & REEF__CG_F_MEMSW) != 0};
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    uint64_t before;
    CHECK_OK(reef_cgroup_oom_kills(cg, &before, &err), &err);
    CHECK_INT(before, ==, 0);
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        /* Join between fork and "exec", as the container child does. */
        if (reef_cgroup_join(cg) < 0)
            _exit(3);
        size_t n = 64u << 20;
        volatile char *m = malloc(n);
        if (!m)
            _exit(4);
        memset((char *)m, 0x5a, n);
        _exit(m[n - 1] == 0x5a ? 0 : 5);
    }
    int s = reap(p);
    CHECK(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
    uint64_t after;
    CHECK_OK(reef_cgroup_oom_kills(cg, &after, &err), &err);
    CHECK_INT(after, >=, 1);
    struct reef_cgroup_stats st;
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK(st.have & REEF_CGROUP_HAVE_PEAK);
    CHECK_INT(st.memory_peak, >=, 15 << 20);
    CHECK_INT(st.memory_peak, <=, 16 << 20);
    CHECK_INT(st.oom_kills, ==, after);
    reef_cgroup_free(cg);
}

REAL_TEST(test_real_oom, REEF_CGROUP_DRIVER_AUTO, body_oom)

static void body_pids(struct reef_cgroup_layout *l, const char *parent)
{
    struct reef_cgroup *cg = mk(l, parent, "bomb", REEF_CGROUP_DRIVER_AUTO);
    struct reef_err err = {0};
    struct reef_cgroup_limits lim = {.pids_max = 10};
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        close(fds[0]);
        if (reef_cgroup_join(cg) < 0)
            _exit(3);
        int made = 0, e = 0;
        for (int i = 0; i < 1000; i++) { /* as many children as the cgroup allows */
            pid_t c = fork();
            if (c == 0) {
                for (;;)
                    pause();
            }
            if (c < 0) {
                e = errno;
                break;
            }
            made++;
        }
        int msg[2] = {made, e};
        if (write(fds[1], msg, sizeof(msg)) != (ssize_t)sizeof(msg))
            _exit(6);
        for (;;)
            pause();
    }
    close(fds[1]);
    int msg[2];
    CHECK_INT(read(fds[0], msg, sizeof(msg)), ==, (ssize_t)sizeof(msg));
    close(fds[0]);
    CHECK_INT(msg[1], ==, EAGAIN);
    CHECK_INT(msg[0], ==, 9); /* ten processes in all, the forker included */
    struct reef_cgroup_stats st;
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK_INT(st.pids_current, ==, 10);
    CHECK_OK(reef_cgroup_kill(cg, &err), &err);
    int s = reap(p);
    CHECK(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
    size_t n;
    CHECK_OK(reef_cgroup_nprocs(cg, &n, &err), &err);
    CHECK_INT(n, ==, 0);
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    reef_cgroup_free(cg);

    /* A real bomb: every process forks for ever, reporting each failure. It stays at ten
     * processes, and kill-all still gets all of them while they keep forking. */
    cg = mk(l, parent, "bomb2", REEF_CGROUP_DRIVER_AUTO);
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    CHECK(pipe(fds) == 0);
    p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        close(fds[0]);
        if (reef_cgroup_join(cg) < 0)
            _exit(3);
        for (;;) {
            pid_t c = fork();
            if (c < 0) {
                int e = errno;
                (void)!write(fds[1], &e, sizeof(e));
            }
        }
    }
    close(fds[1]);
    int e;
    CHECK_INT(read(fds[0], &e, sizeof(e)), ==, (ssize_t)sizeof(e));
    CHECK_INT(e, ==, EAGAIN);
    for (int i = 0; i < 10; i++) {
        CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
        CHECK_INT(st.pids_current, <=, 10);
        reef__cg_sleep_ms(10);
    }
    CHECK_INT(st.pids_current, ==, 10);
    CHECK_OK(reef_cgroup_kill(cg, &err), &err);
    close(fds[0]);
    s = reap(p);
    CHECK(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
    CHECK_OK(reef_cgroup_nprocs(cg, &n, &err), &err);
    CHECK_INT(n, ==, 0);
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    reef_cgroup_free(cg);
}

REAL_TEST(test_real_pids, REEF_CGROUP_DRIVER_AUTO, body_pids)

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A child that joins cg and spins until `clock` (its own CPU time, or wall time) has advanced by
 * secs, then exits. */
static void spin_in(struct reef_cgroup *cg, clockid_t clock, double secs)
{
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        if (reef_cgroup_join(cg) < 0)
            _exit(3);
        double start = seconds(clock);
        while (seconds(clock) - start < secs)
            ;
        _exit(0);
    }
    CHECK(WIFEXITED(reap(p)));
}

static void body_cpu(struct reef_cgroup_layout *l, const char *parent)
{
    struct reef_cgroup *cg = mk(l, parent, "busy", REEF_CGROUP_DRIVER_AUTO);
    struct reef_err err = {0};
    struct reef_cgroup_stats st;
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK(st.have & REEF_CGROUP_HAVE_CPU);
    CHECK_INT(st.cpu_usage_ns, <, 10000000);
    /* Unthrottled: 200 ms of CPU show up as at least 150 ms. */
    spin_in(cg, CLOCK_PROCESS_CPUTIME_ID, 0.2);
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK_INT(st.cpu_usage_ns, >=, 150000000);
    uint64_t used = st.cpu_usage_ns;

    /* Throttled to 0.1 CPU: half a second of spinning gets far less than half a second of CPU
     * and the kernel counts throttled periods. */
    struct reef_cgroup_limits lim = {.cpus = 0.1};
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    spin_in(cg, CLOCK_MONOTONIC, 0.5);
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK_INT(st.cpu_usage_ns - used, <, 300000000);
    CHECK_INT(st.cpu_usage_ns - used, >, 10000000);
    uint64_t throttled;
    char buf[1024];
    CHECK(reef__cg_read(reef_cgroup_dir(cg, REEF_CG_CPU), "cpu.stat", buf, sizeof(buf)) > 0);
    CHECK_INT(reef__cgroup_kv(buf, "nr_throttled", &throttled), ==, 0);
    CHECK_INT(throttled, >, 0);
    CHECK(st.have & REEF_CGROUP_HAVE_MEMORY);
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    reef_cgroup_free(cg);
}

REAL_TEST(test_real_cpu, REEF_CGROUP_DRIVER_AUTO, body_cpu)

/* A tree of processes, with and without the freezer. */
static void kill_tree(struct reef_cgroup_layout *l, const char *parent, const char *name,
                      enum reef_cgroup_driver d)
{
    struct reef_cgroup *cg = mk(l, parent, name, d);
    struct reef_err err = {0};
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t p = fork();
    CHECK(p >= 0);
    if (p == 0) {
        close(fds[0]);
        if (reef_cgroup_join(cg) < 0)
            _exit(3);
        for (int i = 0; i < 5; i++) {
            pid_t c = fork();
            if (c == 0) {
                if (i % 2) /* some children keep forking grandchildren */
                    for (int k = 0; k < 3; k++)
                        if (fork() == 0)
                            break;
                for (;;)
                    pause();
            }
        }
        (void)!write(fds[1], "x", 1);
        for (;;)
            pause();
    }
    close(fds[1]);
    char c;
    CHECK_INT(read(fds[0], &c, 1), ==, 1);
    close(fds[0]);
    size_t n = 0;
    for (int i = 0; i < 200 && n < 6; i++) { /* the forker and five children at least */
        CHECK_OK(reef_cgroup_nprocs(cg, &n, &err), &err);
        n /= (size_t)cg->nd;
        reef__cg_sleep_ms(5);
    }
    CHECK_INT(n, >=, 6);
    CHECK_OK(reef_cgroup_kill(cg, &err), &err);
    CHECK_OK(reef_cgroup_nprocs(cg, &n, &err), &err);
    CHECK_INT(n, ==, 0);
    int s = reap(p);
    CHECK(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    reef_cgroup_free(cg);
}

static void body_kill(struct reef_cgroup_layout *l, const char *parent)
{
    kill_tree(l, parent, "frozen", REEF_CGROUP_DRIVER_AUTO);
    reef__cgroup_test_flags = REEF__CG_TEST_NO_FREEZE;
    kill_tree(l, parent, "sweep", REEF_CGROUP_DRIVER_AUTO);
}

REAL_TEST(test_real_kill, REEF_CGROUP_DRIVER_AUTO, body_kill)

/* Several reef processes creating and removing siblings under one parent at once, including
 * removing the (momentarily empty) parent under each other's feet. */
static void body_concurrent(struct reef_cgroup_layout *l, const char *parent)
{
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        CHECK(kids[k] >= 0);
        if (kids[k] == 0) {
            for (int i = 0; i < 15; i++) {
                char name[32];
                snprintf(name, sizeof(name), "w%d-%d", k, i);
                struct reef_cgroup_opts o = {.parent = parent, .name = name};
                struct reef_cgroup *cg = NULL;
                struct reef_err err = {0};
                if (reef_cgroup_create(l, &o, &cg, &err) < 0) {
                    fprintf(stderr, "  %s\n", err.msg);
                    _exit(1);
                }
                if (reef_cgroup_add(cg, 0, &err) < 0) { /* cpuset filled, so tasks can join */
                    fprintf(stderr, "  %s\n", err.msg);
                    _exit(2);
                }
                /* Move back to where the test started (two levels up) so the directory can
                 * go. */
                for (int h = 0; h < cg->nd; h++) {
                    char up[4096];
                    snprintf(up, sizeof(up), "%s", cg->d[h].dir);
                    *strrchr(up, '/') = '\0';
                    *strrchr(up, '/') = '\0';
                    if (reef__cg_write(up, "cgroup.procs", "0") < 0)
                        _exit(4);
                }
                if (reef_cgroup_remove(cg, &err) < 0) {
                    fprintf(stderr, "  %s\n", err.msg);
                    _exit(3);
                }
                reef_cgroup_free(cg);
                reef_cgroup_remove_parent(l, parent, REEF_CGROUP_DRIVER_AUTO, NULL);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int s = reap(kids[k]);
        CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 0);
    }
}

REAL_TEST(test_real_concurrent, REEF_CGROUP_DRIVER_AUTO, body_concurrent)

/* ---- v2, on this host's cgroup2 mount (no controllers there) ---- */

static void body_v2(struct reef_cgroup_layout *l, const char *parent)
{
    if (!reef_cgroup_layout_v2_mount(l))
        TEST_FAIL("no cgroup2 mount on this host");
    struct reef_cgroup *cg = mk(l, parent, "c", REEF_CGROUP_DRIVER_V2);
    struct reef_err err = {0};
    CHECK(reef_cgroup_is_v2(cg));
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s%s/c", reef_cgroup_layout_v2_mount(l), parent);
    CHECK_STR(reef_cgroup_dir(cg, REEF_CG_CPUACCT), dir);
    /* Limits whose controllers this cgroup2 lacks are refused, never ignored. */
    unsigned have = reef_cgroup_ctrls(cg);
    if (!(have & B(MEMORY))) {
        struct reef_cgroup_limits lim = {.memory_bytes = 1 << 20};
        CHECK_INT(reef_cgroup_apply(cg, &lim, &err), ==, -EOPNOTSUPP);
        CHECK(strstr(err.msg, "memory limit:"));
        /* Booted with cgroup_disable=memory (a Raspberry Pi's default): say how to enable it. */
        if (!(reef_cgroup_layout_kernel_ctrls(l) & B(MEMORY)))
            CHECK(strstr(err.msg, "add cgroup_memory=1 cgroup_enable=memory to the kernel "
                                  "command line"));
    }
    if (!(have & B(PIDS))) {
        struct reef_cgroup_limits lim = {.pids_max = 5};
        CHECK_INT(reef_cgroup_apply(cg, &lim, &err), ==, -EOPNOTSUPP);
        CHECK(strstr(err.msg, "pids limit:"));
    }
    pid_t p = spawn_sleeper();
    CHECK_OK(reef_cgroup_add(cg, p, &err), &err);
    char suffix[256];
    snprintf(suffix, sizeof(suffix), "0::%s/c", parent);
    CHECK(pid_in(p, suffix));
    /* CPU time is core v2 accounting: a busy child shows up. */
    spin_in(cg, CLOCK_PROCESS_CPUTIME_ID, 0.1);
    struct reef_cgroup_stats st;
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK(st.have & REEF_CGROUP_HAVE_CPU);
    CHECK_INT(st.cpu_usage_ns, >=, 80000000);
    size_t n;
    CHECK_OK(reef_cgroup_nprocs(cg, &n, &err), &err);
    CHECK_INT(n, ==, 1);
    CHECK_OK(reef_cgroup_kill(cg, &err), &err); /* cgroup.kill */
    int s = reap(p);
    CHECK(WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL);
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    CHECK(access(dir, F_OK) < 0);
    reef_cgroup_free(cg);

    /* The fallbacks for kernels before cgroup.kill: freeze-and-sweep, then sweep alone. */
    reef__cgroup_test_flags = REEF__CG_TEST_NO_KILLFILE;
    kill_tree(l, parent, "freeze", REEF_CGROUP_DRIVER_V2);
    reef__cgroup_test_flags = REEF__CG_TEST_NO_KILLFILE | REEF__CG_TEST_NO_FREEZE;
    kill_tree(l, parent, "sweep", REEF_CGROUP_DRIVER_V2);
    reef__cgroup_test_flags = 0;
    kill_tree(l, parent, "killfile", REEF_CGROUP_DRIVER_V2);
    CHECK_OK(reef_cgroup_remove_parent(l, parent, REEF_CGROUP_DRIVER_V2, &err), &err);
}

REAL_TEST(test_real_v2_unified, REEF_CGROUP_DRIVER_V2, body_v2)

/* A test body that dies half-way still leaves nothing behind: the cleanup in isolated() runs. */
static void body_crash(struct reef_cgroup_layout *l, const char *parent)
{
    struct reef_cgroup *cg = mk(l, parent, "crash", REEF_CGROUP_DRIVER_AUTO);
    pid_t p = spawn_sleeper();
    CHECK(reef_cgroup_add(cg, p, NULL) == 0);
    _exit(9); /* leaks cg and the sleeper on purpose */
}

static void test_real_cleanup_after_failure(void)
{
    need_root();
    const char *parent = parent_for(REEF_CGROUP_DRIVER_AUTO);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct reef_cgroup_layout *l = host();
        body_crash(l, parent);
    }
    int s = reap(pid);
    cleanup_parent(REEF_CGROUP_DRIVER_AUTO, parent); /* fails the test if anything is left */
    CHECK(WIFEXITED(s) && WEXITSTATUS(s) == 9);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_real_detect);
    TEST_RUN(test_real_limits);
    TEST_RUN(test_real_add_kill_remove);
    TEST_RUN(test_real_oom);
    TEST_RUN(test_real_pids);
    TEST_RUN(test_real_cpu);
    TEST_RUN(test_real_kill);
    TEST_RUN(test_real_concurrent);
    TEST_RUN(test_real_v2_unified);
    TEST_RUN(test_real_cleanup_after_failure);
    return test_done();
}
