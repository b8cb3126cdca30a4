/* Tests for runtime/cgroup without the kernel: layout detection and planning on synthetic hosts,
 * stats parsing, and the v1/v2 file paths through plain directories standing in for cgroupfs.
 * The real-kernel tests are in test_cgroup_kernel.c. */

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

/* ---- Synthetic layouts ----------------------------------------------------------------------- */

/* This machine's layout: v1 controllers, each alone, plus cgroup2 at unified. */
static const char hybrid_mountinfo[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char hybrid_proc_cgroups[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                                          "cpuset\t3\t1\t1\ncpu\t1\t1\t1\ncpuacct\t2\t1\t1\n"
                                          "blkio\t7\t1\t1\nmemory\t4\t58\t1\ndevices\t5\t1\t1\n"
                                          "freezer\t6\t1\t1\nnet_cls\t0\t1\t1\n"
                                          "hugetlb\t0\t1\t1\npids\t8\t1\t1\n";

static const char hybrid_self[] = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n"
                                  "5:devices:/\n4:memory:/process_api/abc\n3:cpuset:/\n"
                                  "2:cpuacct:/\n1:cpu:/\n0::/\n";

/* Fedora / Ubuntu / Raspberry Pi OS: cgroup2 at /sys/fs/cgroup, optional fields present. */
static const char v2_mountinfo[] =
    "25 1 259:2 / / rw,relatime shared:1 - ext4 /dev/root rw\n"
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

/* Older Debian/CentOS: cpu,cpuacct and net_cls,net_prio co-mounted, no cgroup2. */
static const char v1_mountinfo[] =
    "24 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
    "25 24 0:22 / /sys/fs/cgroup/systemd rw shared:10 - cgroup cgroup rw,xattr,name=systemd\n"
    "28 24 0:25 / /sys/fs/cgroup/cpu,cpuacct rw shared:13 - cgroup cgroup rw,cpu,cpuacct\n"
    "29 24 0:26 / /sys/fs/cgroup/net_cls,net_prio rw shared:14 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "30 24 0:27 / /sys/fs/cgroup/memory rw shared:15 - cgroup cgroup rw,memory\n"
    "31 24 0:28 / /sys/fs/cgroup/pids rw shared:16 - cgroup cgroup rw,pids\n"
    "32 24 0:29 / /sys/fs/cgroup/cpuset rw shared:17 - cgroup cgroup rw,cpuset,clone_children\n"
    "33 24 0:30 / /sys/fs/cgroup/freezer rw shared:18 - cgroup cgroup rw,freezer\n";

static struct reef_cgroup_layout *parse(const char *mi, const char *pc, const char *self,
                                        const char *v2c, const char *root)
{
    struct reef_cgroup_sources src = {.mountinfo = mi,
                                      .proc_cgroups = pc,
                                      .self_cgroup = self,
                                      .v2_controllers = v2c,
                                      .root = root};
    struct reef_cgroup_layout *l = NULL;
    struct reef_err err = {0};
    CHECK_OK(reef_cgroup_layout_parse(&src, &l, &err), &err);
    CHECK(l != NULL);
    return l;
}

static void test_layout_hybrid(void)
{
    struct reef_cgroup_layout *l =
        parse(hybrid_mountinfo, hybrid_proc_cgroups, hybrid_self, "hugetlb\n", NULL);
    CHECK_INT(reef_cgroup_layout_mode(l), ==, REEF_CGROUP_HYBRID);
    CHECK_STR(reef_cgroup_mode_name(reef_cgroup_layout_mode(l)), "hybrid");
    CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_MEMORY), "/sys/fs/cgroup/memory");
    CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_CPUACCT), "/sys/fs/cgroup/cpuacct");
    CHECK_STR(reef_cgroup_layout_v2_mount(l), "/sys/fs/cgroup/unified");
    CHECK_INT(l->nv1, ==, 8); /* name=systemd carries no controller */
    unsigned all =
        B(CPU) | B(CPUACCT) | B(CPUSET) | B(MEMORY) | B(DEVICES) | B(FREEZER) | B(BLKIO) | B(PIDS);
    CHECK_INT(reef_cgroup_layout_ctrls(l), ==, all); /* hybrid uses v1 */
    CHECK_INT(reef_cgroup_layout_kernel_ctrls(l), ==, all);
    CHECK_INT(l->v2_ctrls, ==, 0);
    CHECK_STR(l->v1[3].self, "/process_api/abc");
    CHECK_STR(l->v2.self, "/");

    /* Relative parents hang below reef's own cgroup, absolute ones below the mount. */
    struct reef_err err = {0};
    char *dir = NULL;
    CHECK_OK(reef__cg_base_dir(&l->v1[3], "reef-test-1", &dir, &err), &err);
    CHECK_STR(dir, "/sys/fs/cgroup/memory/process_api/abc");
    free(dir);
    CHECK_OK(reef__cg_base_dir(&l->v1[3], "/reef", &dir, &err), &err);
    CHECK_STR(dir, "/sys/fs/cgroup/memory");
    free(dir);
    CHECK_OK(reef__cg_base_dir(&l->v2, "reef", &dir, &err), &err);
    CHECK_STR(dir, "/sys/fs/cgroup/unified");
    free(dir);
    reef_cgroup_layout_free(l);
}

static void test_layout_v2(void)
{
    struct reef_cgroup_layout *l = parse(v2_mountinfo, NULL, "0::/user.slice/session-1.scope\n",
                                         "cpuset cpu io memory hugetlb pids rdma misc\n", NULL);
    CHECK_INT(reef_cgroup_layout_mode(l), ==, REEF_CGROUP_V2);
    CHECK_STR(reef_cgroup_layout_v2_mount(l), "/sys/fs/cgroup");
    CHECK(reef_cgroup_layout_v1_mount(l, REEF_CG_MEMORY) == NULL);
    CHECK_INT(reef_cgroup_layout_ctrls(l), ==, B(CPUSET) | B(CPU) | B(BLKIO) | B(MEMORY) | B(PIDS));
    struct reef_err err = {0};
    char *dir = NULL;
    CHECK_OK(reef__cg_base_dir(&l->v2, "k", &dir, &err), &err);
    CHECK_STR(dir, "/sys/fs/cgroup/user.slice/session-1.scope");
    free(dir);
    reef_cgroup_layout_free(l);
}

static void test_layout_v1_comounted(void)
{
    struct reef_cgroup_layout *l =
        parse(v1_mountinfo, NULL, "4:cpu,cpuacct:/user.slice\n2:memory:/\n", NULL, "");
    CHECK_INT(reef_cgroup_layout_mode(l), ==, REEF_CGROUP_V1);
    CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_CPU), "/sys/fs/cgroup/cpu,cpuacct");
    CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_CPUACCT), "/sys/fs/cgroup/cpu,cpuacct");
    CHECK(reef_cgroup_layout_v1_mount(l, REEF_CG_DEVICES) == NULL);
    CHECK(reef_cgroup_layout_v1_mount(l, REEF_CG_BLKIO) == NULL);
    CHECK(reef_cgroup_layout_v2_mount(l) == NULL);
    CHECK_INT(l->nv1, ==, 5);
    CHECK_STR(l->v1[0].self, "/user.slice");
    CHECK(l->v1[3].self == NULL); /* freezer: not in the self text */
    reef_cgroup_layout_free(l);
}

/* Odd places: a root prefix (tests, chroots), escaped spaces, a bind mount of a sub-tree, a
 * duplicate mount, a cgroup2 mount somewhere else entirely. */
static void test_layout_nonstandard(void)
{
    static const char mi[] = "50 1 0:40 /docker/abc /cg/mem\\040ory rw - cgroup cgroup rw,memory\n"
                             "51 1 0:40 / /other/memory rw - cgroup cgroup rw,memory\n"
                             "52 1 0:41 /docker/abc /cg/pids rw - cgroup cgroup rw,pids\n"
                             "53 1 0:42 / /run/u2 rw master:3 shared:7 - cgroup2 none rw\n";
    struct reef_cgroup_layout *l =
        parse(mi, NULL, "3:pids:/docker/abc/sub\n2:memory:/docker/abc\n0::/x\n", NULL, "/tmp/r");
    CHECK_INT(reef_cgroup_layout_mode(l), ==, REEF_CGROUP_HYBRID);
    /* The mount showing the whole hierarchy wins over the bind-mounted sub-tree. */
    CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_MEMORY), "/tmp/r/other/memory");
    CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_PIDS), "/tmp/r/cg/pids");
    CHECK_STR(reef_cgroup_layout_v2_mount(l), "/tmp/r/run/u2");
    struct reef_err err = {0};
    char *dir = NULL;
    CHECK_OK(reef__cg_base_dir(&l->v1[1], "t", &dir, &err), &err);
    CHECK_STR(dir, "/tmp/r/cg/pids/sub"); /* /docker/abc/sub seen through the /docker/abc mount */
    free(dir);
    CHECK_OK(reef__cg_base_dir(&l->v2, "t", &dir, &err), &err);
    CHECK_STR(dir, "/tmp/r/run/u2/x");
    free(dir);
    reef_cgroup_layout_free(l);

    l = parse(mi, NULL, "3:pids:/elsewhere\n", NULL, NULL);
    CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_MEMORY), "/other/memory");
    CHECK(reef__cg_base_dir(&l->v1[1], "t", &dir, &err) == -ENOENT);
    CHECK(strstr(err.msg, "outside") != NULL);
    CHECK(reef__cg_base_dir(&l->v2, "t", &dir, &err) == -ENOENT); /* own v2 cgroup unknown */
    CHECK_OK(reef__cg_base_dir(&l->v2, "/t", &dir, &err), &err);
    CHECK_STR(dir, "/run/u2");
    free(dir);
    reef_cgroup_layout_free(l);

    /* Escapes: "mem\040ory" is "mem ory". */
    l = parse("1 0 0:1 / /a\\040b rw - cgroup2 cgroup2 rw\n", NULL, NULL, NULL, NULL);
    CHECK_STR(reef_cgroup_layout_v2_mount(l), "/a b");
    reef_cgroup_layout_free(l);
}

/* A Raspberry Pi booted without cgroup_enable=memory: the kernel lists memory as disabled. */
static void test_layout_pi_without_memory(void)
{
    static const char pc[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                             "cpuset\t0\t60\t1\ncpu\t0\t60\t1\ncpuacct\t0\t60\t1\n"
                             "blkio\t0\t60\t1\nmemory\t0\t60\t0\ndevices\t0\t60\t1\n"
                             "freezer\t0\t60\t1\npids\t0\t60\t1\n";
    struct reef_cgroup_layout *l = parse(v2_mountinfo, pc, "0::/\n", "cpuset cpu io pids\n", NULL);
    CHECK_INT(reef_cgroup_layout_mode(l), ==, REEF_CGROUP_V2);
    CHECK(!(reef_cgroup_layout_kernel_ctrls(l) & B(MEMORY)));
    CHECK(!(reef_cgroup_layout_ctrls(l) & B(MEMORY)));
    struct reef__cgroup_plan plan;
    struct reef_err err = {0};
    struct reef_cgroup_limits lim = {.memory_bytes = 64 << 20};
    int r = reef__cgroup_plan_limits(true, reef_cgroup_layout_ctrls(l),
                                     reef_cgroup_layout_kernel_ctrls(l), REEF__CG_F_CFS, &lim,
                                     &plan, &err);
    CHECK_INT(r, ==, -EOPNOTSUPP);
    CHECK_STR(err.msg, "memory limit: the memory cgroup controller is not enabled; add "
                       "cgroup_memory=1 cgroup_enable=memory to the kernel command line");
    /* The other limits still work. */
    lim = (struct reef_cgroup_limits){.cpus = 1.5, .pids_max = 100};
    CHECK_OK(reef__cgroup_plan_limits(true, reef_cgroup_layout_ctrls(l),
                                      reef_cgroup_layout_kernel_ctrls(l), REEF__CG_F_CFS, &lim,
                                      &plan, &err),
             &err);
    CHECK_INT(plan.n, ==, 2);
    CHECK_STR(plan.w[0].value, "150000 100000");
    reef_cgroup_layout_free(l);

    /* The same Pi on its older v1 image: no memory hierarchy mounted, memory disabled. */
    static const char mi[] =
        "20 1 0:20 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "21 1 0:21 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
    l = parse(mi, pc, NULL, NULL, NULL);
    CHECK_INT(reef_cgroup_layout_mode(l), ==, REEF_CGROUP_V1);
    lim = (struct reef_cgroup_limits){.memory_bytes = 1 << 20};
    r = reef__cgroup_plan_limits(false, reef_cgroup_layout_ctrls(l),
                                 reef_cgroup_layout_kernel_ctrls(l), REEF__CG_F_CFS, &lim, &plan,
                                 &err);
    CHECK_INT(r, ==, -EOPNOTSUPP);
    CHECK(strstr(err.msg, "cgroup_enable=memory") != NULL);
    reef_cgroup_layout_free(l);
}

static void test_layout_none_and_malformed(void)
{
    struct reef_cgroup_layout *l =
        parse("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", NULL, NULL, NULL, NULL);
    CHECK_INT(reef_cgroup_layout_mode(l), ==, REEF_CGROUP_NONE);
    struct reef_err err = {0};
    struct reef_cgroup *cg = NULL;
    struct reef_cgroup_opts o = {.name = "c"};
    CHECK_INT(reef_cgroup_create(l, &o, &cg, &err), ==, -ENODEV);
    CHECK(strstr(err.msg, "no cgroup filesystem") != NULL);
    o.driver = REEF_CGROUP_DRIVER_V2;
    CHECK_INT(reef_cgroup_create(l, &o, &cg, &err), ==, -ENODEV);
    reef_cgroup_layout_free(l);

    static const char *const bad[] = {
        "1 2 3\n",                                   /* too few fields */
        "1 0 0:1 / /x rw cgroup cgroup rw,memory\n", /* no separator */
        "1 0 0:1 / /x rw -\n",                       /* nothing after it */
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        struct reef_cgroup_sources src = {.mountinfo = bad[i]};
        l = (void *)1;
        CHECK_INT(reef_cgroup_layout_parse(&src, &l, &err), ==, -EINVAL);
        CHECK(l == NULL);
        CHECK(strstr(err.msg, "malformed") != NULL);
    }
    /* Two mounts claiming one controller cannot both be right: the first one counts. */
    l = parse("1 0 0:1 / /a rw - cgroup c rw,memory\n1 0 0:1 / /b rw - cgroup c rw,memory,pids\n",
              NULL, NULL, NULL, NULL);
    CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_MEMORY), "/a");
    CHECK(reef_cgroup_layout_v1_mount(l, REEF_CG_PIDS) == NULL);
    reef_cgroup_layout_free(l);
    /* Lines without a trailing newline and blank lines are fine. */
    l = parse("\n1 0 0:1 / /m rw - cgroup c rw,memory", NULL, NULL, NULL, NULL);
    CHECK_STR(reef_cgroup_layout_v1_mount(l, REEF_CG_MEMORY), "/m");
    reef_cgroup_layout_free(l);
}

/* ---- Pure logic ------------------------------------------------------------------------------ */

static void test_plan_v1(void)
{
    unsigned all = B(CPU) | B(CPUACCT) | B(MEMORY) | B(PIDS);
    unsigned f = REEF__CG_F_MEMSW | REEF__CG_F_CFS;
    struct reef__cgroup_plan plan;
    struct reef_err err = {0};
    struct reef_cgroup_limits lim = {.memory_bytes = 16 << 20, .cpus = 0.5, .pids_max = 10};
    CHECK_OK(reef__cgroup_plan_limits(false, all, all, f, &lim, &plan, &err), &err);
    CHECK_INT(plan.n, ==, 4); /* no memsw write unless swap is asked */
    CHECK_INT(plan.w[0].ctrl, ==, REEF_CG_MEMORY);
    CHECK_STR(plan.w[0].file, "memory.limit_in_bytes");
    CHECK_STR(plan.w[0].value, "16777216");
    CHECK_STR(plan.w[1].file, "cpu.cfs_period_us");
    CHECK_STR(plan.w[1].value, "100000");
    CHECK_STR(plan.w[2].file, "cpu.cfs_quota_us");
    CHECK_STR(plan.w[2].value, "50000");
    CHECK_INT(plan.w[3].ctrl, ==, REEF_CG_PIDS);
    CHECK_STR(plan.w[3].file, "pids.max");
    CHECK_STR(plan.w[3].value, "10");
    CHECK_STR(plan.w[3].what, "pids limit");

    lim = (struct reef_cgroup_limits){.memory_bytes = 100, .swap_set = true, .swap_bytes = 50};
    CHECK_OK(reef__cgroup_plan_limits(false, all, all, f, &lim, &plan, &err), &err);
    CHECK_INT(plan.n, ==, 2);
    CHECK_STR(plan.w[1].file, "memory.memsw.limit_in_bytes");
    CHECK_STR(plan.w[1].value, "150"); /* v1 limits memory and swap together */
    CHECK_INT(reef__cgroup_plan_limits(false, all, all, REEF__CG_F_CFS, &lim, &plan, &err), ==,
              -EOPNOTSUPP);
    CHECK(strstr(err.msg, "swapaccount=1") != NULL);

    /* Missing controllers name the limit; a disabled CFS says so. */
    lim = (struct reef_cgroup_limits){.cpus = 1};
    CHECK_INT(reef__cgroup_plan_limits(false, B(MEMORY), all, f, &lim, &plan, &err), ==,
              -EOPNOTSUPP);
    CHECK(strstr(err.msg, "cpu limit: the cpu cgroup controller is enabled but not mounted"));
    CHECK_INT(reef__cgroup_plan_limits(false, all, all, REEF__CG_F_MEMSW, &lim, &plan, &err), ==,
              -EOPNOTSUPP);
    CHECK(strstr(err.msg, "CONFIG_CFS_BANDWIDTH"));
    lim = (struct reef_cgroup_limits){.pids_max = 5};
    CHECK_INT(reef__cgroup_plan_limits(false, B(CPU), B(CPU), f, &lim, &plan, &err), ==,
              -EOPNOTSUPP);
    CHECK(strstr(err.msg, "pids limit: the pids cgroup controller is not enabled"));
    lim = (struct reef_cgroup_limits){.pids_max = 1u << 30};
    CHECK_OK(reef__cgroup_plan_limits(false, all, all, f, &lim, &plan, &err), &err);
    CHECK_STR(plan.w[0].value, "max");
    lim = (struct reef_cgroup_limits){.swap_set = true};
    CHECK_INT(reef__cgroup_plan_limits(false, all, all, f, &lim, &plan, &err), ==, -EINVAL);
    lim = (struct reef_cgroup_limits){0};
    CHECK_OK(reef__cgroup_plan_limits(false, 0, 0, 0, &lim, &plan, &err), &err);
    CHECK_INT(plan.n, ==, 0); /* nothing asked, nothing needed */
}

static void test_plan_v2(void)
{
    unsigned all = B(CPU) | B(MEMORY) | B(PIDS) | B(CPUACCT);
    struct reef__cgroup_plan plan;
    struct reef_err err = {0};
    struct reef_cgroup_limits lim = {.memory_bytes = 1 << 30, .cpus = 2.25, .pids_max = 4096};
    CHECK_OK(reef__cgroup_plan_limits(true, all, all, REEF__CG_F_SWAP_MAX | REEF__CG_F_CFS, &lim,
                                      &plan, &err),
             &err);
    CHECK_INT(plan.n, ==, 4);
    CHECK_STR(plan.w[0].file, "memory.max");
    CHECK_STR(plan.w[0].value, "1073741824");
    CHECK_STR(plan.w[1].file, "memory.swap.max"); /* an OOM is an OOM, not swapping */
    CHECK_STR(plan.w[1].value, "0");
    CHECK_STR(plan.w[2].file, "cpu.max");
    CHECK_STR(plan.w[2].value, "225000 100000");
    CHECK_STR(plan.w[3].file, "pids.max");
    CHECK_STR(plan.w[3].value, "4096");
    /* No memory.swap.max (no swap accounting): only memory.max. */
    CHECK_OK(reef__cgroup_plan_limits(true, all, all, REEF__CG_F_CFS, &lim, &plan, &err), &err);
    CHECK_INT(plan.n, ==, 3);
    lim = (struct reef_cgroup_limits){.memory_bytes = 100, .swap_set = true, .swap_bytes = 50};
    CHECK_OK(reef__cgroup_plan_limits(true, all, all, REEF__CG_F_SWAP_MAX, &lim, &plan, &err),
             &err);
    CHECK_STR(plan.w[1].value, "50"); /* v2 limits swap alone */
    /* Kernel has memory but the parent does not delegate it. */
    lim = (struct reef_cgroup_limits){.memory_bytes = 100};
    CHECK_INT(reef__cgroup_plan_limits(true, B(CPU), all, 0, &lim, &plan, &err), ==, -EOPNOTSUPP);
    CHECK(strstr(err.msg, "memory limit: the memory controller is not available"));
}

static void test_cpu_quota(void)
{
    struct reef_err err = {0};
    uint64_t q;
    CHECK_OK(reef__cgroup_cpu_quota(0.5, 100000, &q, &err), &err);
    CHECK_INT(q, ==, 50000);
    CHECK_OK(reef__cgroup_cpu_quota(1.0 / 3, 100000, &q, &err), &err);
    CHECK_INT(q, ==, 33333);
    CHECK_OK(reef__cgroup_cpu_quota(0.001, 100000, &q, &err), &err);
    CHECK_INT(q, ==, 1000); /* the kernel's minimum */
    CHECK_OK(reef__cgroup_cpu_quota(64, 100000, &q, &err), &err);
    CHECK_INT(q, ==, 6400000);
    CHECK_INT(reef__cgroup_cpu_quota(0, 100000, &q, &err), ==, -EINVAL);
    CHECK_INT(reef__cgroup_cpu_quota(-1, 100000, &q, &err), ==, -EINVAL);
    CHECK_INT(reef__cgroup_cpu_quota(1e9, 100000, &q, &err), ==, -EINVAL);
    CHECK_INT(reef__cgroup_cpu_quota(__builtin_nan(""), 100000, &q, &err), ==, -EINVAL);
    struct reef__cgroup_plan plan;
    struct reef_cgroup_limits lim = {.cpus = -2};
    CHECK_INT(reef__cgroup_plan_limits(true, ~0u, ~0u, ~0u, &lim, &plan, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "cpu limit"));
}

static void test_parse_stats(void)
{
    uint64_t v;
    static const char oom_control[] = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
    CHECK_INT(reef__cgroup_kv(oom_control, "oom_kill", &v), ==, 0);
    CHECK_INT(v, ==, 3);
    CHECK_INT(reef__cgroup_kv(oom_control, "under_oom", &v), ==, 0);
    CHECK_INT(v, ==, 0);
    CHECK_INT(reef__cgroup_kv(oom_control, "oom", &v), ==, -ENOENT); /* whole keys only */
    static const char events[] = "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n";
    CHECK_INT(reef__cgroup_kv(events, "oom_kill", &v), ==, 0);
    CHECK_INT(v, ==, 1);
    CHECK_INT(reef__cgroup_kv(events, "max", &v), ==, 0);
    CHECK_INT(v, ==, 12);
    static const char stat[] = "cache 1000\nrss 5000\ntotal_inactive_file 4096\n"
                               "inactive_file 8192";
    CHECK_INT(reef__cgroup_kv(stat, "inactive_file", &v), ==, 0);
    CHECK_INT(v, ==, 8192);
    CHECK_INT(reef__cgroup_kv(stat, "total_inactive_file", &v), ==, 0);
    CHECK_INT(v, ==, 4096);
    CHECK_INT(reef__cgroup_kv("usage_usec 18446744073709551616\n", "usage_usec", &v), ==, -EINVAL);
    CHECK_INT(reef__cgroup_kv("usage_usec\n", "usage_usec", &v), ==, -EINVAL);
    CHECK_INT(reef__cgroup_kv("usage_usec x1\n", "usage_usec", &v), ==, -EINVAL);
    CHECK_INT(reef__cgroup_kv("", "a", &v), ==, -ENOENT);

    CHECK_INT(reef__cgroup_u64("123\n", &v), ==, 0);
    CHECK_INT(v, ==, 123);
    CHECK_INT(reef__cgroup_u64("max\n", &v), ==, 0);
    CHECK(v == UINT64_MAX);
    CHECK_INT(reef__cgroup_u64("9223372036854771712\n", &v), ==, 0);
    CHECK(v == 9223372036854771712ull);
    CHECK_INT(reef__cgroup_u64("", &v), ==, -EINVAL);
    CHECK_INT(reef__cgroup_u64("1 2\n", &v), ==, -EINVAL);
    CHECK_INT(reef__cgroup_u64("-1\n", &v), ==, -EINVAL);

    uint64_t q, p;
    CHECK_INT(reef__cgroup_parse_cpu_max("max 100000\n", &q, &p), ==, 0);
    CHECK(q == UINT64_MAX);
    CHECK_INT(p, ==, 100000);
    CHECK_INT(reef__cgroup_parse_cpu_max("50000 100000\n", &q, &p), ==, 0);
    CHECK_INT(q, ==, 50000);
    CHECK_INT(reef__cgroup_parse_cpu_max("50000\n", &q, &p), ==, -EINVAL);
    CHECK_INT(reef__cgroup_parse_cpu_max("50000 0\n", &q, &p), ==, -EINVAL);
    CHECK_INT(reef__cgroup_parse_cpu_max("1 2 3\n", &q, &p), ==, -EINVAL);

    CHECK_INT(reef__cgroup_working_set(10000, 4000), ==, 6000);
    CHECK_INT(reef__cgroup_working_set(1000, 4000), ==, 0);
}

static void test_check_path(void)
{
    struct reef_err err = {0};
    CHECK_OK(reef__cgroup_check_path("/reef", false, &err), &err);
    CHECK_OK(reef__cgroup_check_path("kubepods/burstable/pod-1", false, &err), &err);
    CHECK_OK(reef__cgroup_check_path("reef-test-12/", false, &err), &err);
    CHECK_OK(reef__cgroup_check_path("abc_1.2:x@y-z", true, &err), &err);
    static const char *const bad[] = {"",     "/",   "a//b", "../x",         "a/./b",
                                      "a/..", "a b", "a\nb", "cgroup.procs", "x/cgroup.kill"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++)
        CHECK_INT(reef__cgroup_check_path(bad[i], false, &err), <, 0);
    CHECK_INT(reef__cgroup_check_path("a/b", true, &err), ==, -EINVAL);
    CHECK_INT(reef__cgroup_check_path("/a", true, &err), ==, -EINVAL);
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_INT(reef__cgroup_check_path(longname, true, &err), ==, -ENAMETOOLONG);
}

/* ---- Synthetic v2 trees (plain directories standing in for cgroupfs) ------------------------- */

static void put(const char *dir, const char *file, const char *text)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void rm_rf(const char *path)
{
    char cmd[4400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    CHECK(system(cmd) == 0);
}

/* The v2 file paths and parsing, end to end, through a tree that looks like a v2 cgroup whose
 * files already exist. Until an emulated pure-v2 kernel test exists, this and the plan tests are
 * what verifies the v2 limit and stats paths (this host's cgroup2 has no controllers). */
static void test_v2_synthetic_tree(void)
{
    char root[] = "/tmp/reef-cgtest-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char top[4200], reef[4300], leaf[4400];
    snprintf(top, sizeof(top), "%s/sys/fs/cgroup", root);
    snprintf(reef, sizeof(reef), "%s/reef", top);
    snprintf(leaf, sizeof(leaf), "%s/c1", reef);
    char cmd[5000];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", leaf);
    CHECK(system(cmd) == 0);
    put(top, "cgroup.controllers", "cpuset cpu io memory pids\n");
    put(top, "cgroup.subtree_control", "cpu io memory pids\n");
    put(reef, "cgroup.controllers", "cpu io memory pids\n");
    put(reef, "cgroup.subtree_control", "cpu memory pids\n");
    put(leaf, "cgroup.controllers", "cpu memory pids\n");
    static const char *const empty[] = {"memory.max",   "memory.swap.max", "cpu.max",
                                        "pids.max",     "cgroup.procs",    "cgroup.kill",
                                        "cgroup.freeze"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(empty); i++)
        put(leaf, empty[i], "");
    put(leaf, "memory.current", "10485760\n");
    put(leaf, "memory.peak", "20971520\n");
    put(leaf, "memory.stat",
        "anon 6291456\nfile 4194304\nactive_file 1048576\n"
        "inactive_file 3145728\n");
    put(leaf, "memory.events", "low 0\nhigh 0\nmax 40\noom 2\noom_kill 2\n");
    put(leaf, "cpu.stat", "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n");
    put(leaf, "pids.current", "7\n");

    struct reef_cgroup_layout *l = parse(v2_mountinfo, NULL, "0::/\n", "cpu memory pids", root);
    struct reef_err err = {0};
    struct reef_cgroup *cg = NULL;
    struct reef_cgroup_opts o = {.parent = "/reef", .name = "c1"};
    /* It exists already: create refuses, open attaches. */
    CHECK_INT(reef_cgroup_create(l, &o, &cg, &err), ==, -EEXIST);
    CHECK(strstr(err.msg, "already exists"));
    CHECK(access(leaf, F_OK) == 0); /* a failed create removes nothing it did not make */
    CHECK_OK(reef_cgroup_open(l, &o, &cg, &err), &err);
    CHECK(reef_cgroup_is_v2(cg));
    CHECK_STR(reef_cgroup_dir(cg, REEF_CG_MEMORY), leaf);
    CHECK(reef_cgroup_dir(cg, REEF_CG_BLKIO) == NULL);
    struct reef_cgroup_limits lim = {.memory_bytes = 16 << 20, .cpus = 0.25, .pids_max = 10};
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    CHECK_STR(get(leaf, "memory.max"), "16777216");
    CHECK_STR(get(leaf, "memory.swap.max"), "0");
    CHECK_STR(get(leaf, "cpu.max"), "25000 100000");
    CHECK_STR(get(leaf, "pids.max"), "10");

    struct reef_cgroup_stats st;
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK_INT(st.have, ==,
              REEF_CGROUP_HAVE_MEMORY | REEF_CGROUP_HAVE_PEAK | REEF_CGROUP_HAVE_CPU |
                  REEF_CGROUP_HAVE_PIDS | REEF_CGROUP_HAVE_OOM);
    CHECK_INT(st.memory_usage, ==, 10485760);
    CHECK_INT(st.memory_working_set, ==, 10485760 - 3145728);
    CHECK_INT(st.memory_peak, ==, 20971520);
    CHECK_INT(st.cpu_usage_ns, ==, 1234567000ll);
    CHECK_INT(st.pids_current, ==, 7);
    CHECK_INT(st.oom_kills, ==, 2);
    uint64_t ooms;
    CHECK_OK(reef_cgroup_oom_kills(cg, &ooms, &err), &err);
    CHECK_INT(ooms, ==, 2);

    /* add writes the pid to cgroup.procs; kill asks cgroup.kill, then sees an empty cgroup. */
    CHECK_OK(reef_cgroup_add(cg, 4321, &err), &err);
    CHECK_STR(get(leaf, "cgroup.procs"), "4321");
    put(leaf, "cgroup.procs", "");
    CHECK_OK(reef_cgroup_kill(cg, &err), &err);
    CHECK_STR(get(leaf, "cgroup.kill"), "1");
    reef_cgroup_free(cg);

    /* A missing memory.swap.max file (no swap accounting) means no swap write; a garbage
     * memory.current is an error, not a crash. */
    put(leaf, "memory.current", "lots\n");
    snprintf(cmd, sizeof(cmd), "%s/memory.swap.max", leaf);
    CHECK(unlink(cmd) == 0);
    CHECK_OK(reef_cgroup_open(l, &o, &cg, &err), &err);
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    CHECK_INT(reef_cgroup_stats(cg, &st, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "memory.current: not a number"));
    reef_cgroup_free(cg);

    /* Creating a sibling: reef/c2 gets made, reef's subtree_control already has what is needed;
     * the leaf lacks cgroup.controllers in a plain directory, so no controller is usable there
     * and the memory limit is refused with the delegation message. */
    o.name = "c2";
    CHECK_OK(reef_cgroup_create(l, &o, &cg, &err), &err);
    CHECK(reef_cgroup_dir(cg, REEF_CG_MEMORY) == NULL);
    lim = (struct reef_cgroup_limits){.memory_bytes = 1 << 20};
    CHECK_INT(reef_cgroup_apply(cg, &lim, &err), ==, -EOPNOTSUPP);
    CHECK(strstr(err.msg, "cgroup /reef/c2: memory limit: the memory controller is not "
                          "available"));
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    snprintf(cmd, sizeof(cmd), "%s/c2", reef);
    CHECK(access(cmd, F_OK) < 0);
    reef_cgroup_free(cg);
    o.name = "c3";
    CHECK_INT(reef_cgroup_open(l, &o, &cg, &err), ==, -ENOENT);

    /* Ancestors missing controllers get exactly those switched on, in one write; ancestors that
     * have them, or do not offer them, are not written to. */
    put(top, "cgroup.subtree_control", "cpu io pids\n");
    put(reef, "cgroup.subtree_control", "");
    CHECK_OK(reef_cgroup_create(l, &o, &cg, &err), &err); /* c2 again */
    /* (a plain file is overwritten in place: "+memory" over "cpu io ") */
    CHECK_STR(get(top, "cgroup.subtree_control"), "+memorypids");
    CHECK_STR(get(reef, "cgroup.subtree_control"), "+cpu +memory +pids");
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    reef_cgroup_free(cg);
    put(top, "cgroup.controllers", "cpuset io\n");
    put(top, "cgroup.subtree_control", "io\n");
    put(reef, "cgroup.controllers", "io\n");
    put(reef, "cgroup.subtree_control", "io\n");
    CHECK_OK(reef_cgroup_create(l, &o, &cg, &err), &err);
    CHECK_STR(get(top, "cgroup.subtree_control"), "io");
    CHECK_STR(get(reef, "cgroup.subtree_control"), "io");
    CHECK_OK(reef_cgroup_remove(cg, &err), &err);
    reef_cgroup_free(cg);
    /* A new parent component is made, and rolled back when the leaf cannot be made. */
    o.parent = "/reef/deeper";
    o.name = "c5";
    char deeper[4500];
    snprintf(deeper, sizeof(deeper), "%s/deeper", reef);
    CHECK_INT(reef_cgroup_create(l, &o, &cg, &err), ==, -ENOENT); /* no cgroup.controllers */
    CHECK(strstr(err.msg, "deeper/cgroup.controllers"));
    CHECK(access(deeper, F_OK) < 0);
    reef_cgroup_layout_free(l);
    rm_rf(root);
}

/* v1 stats and limits through plain directories: working set from total_inactive_file (or
 * inactive_file on kernels without the total_ entries), peak, OOM count, cpuacct. */
static void test_v1_synthetic_tree(void)
{
    char root[] = "/tmp/reef-cgtest-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    static const char mi[] = "1 0 0:1 / /cg/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                             "2 0 0:2 / /cg/memory rw - cgroup cgroup rw,memory\n"
                             "3 0 0:3 / /cg/pids rw - cgroup cgroup rw,pids\n";
    char cpu[4200], mem[4200], pids[4200], cmd[13000];
    snprintf(cpu, sizeof(cpu), "%s/cg/cpu,cpuacct/k/c", root);
    snprintf(mem, sizeof(mem), "%s/cg/memory/k/c", root);
    snprintf(pids, sizeof(pids), "%s/cg/pids/k/c", root);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s' '%s'", cpu, mem, pids);
    CHECK(system(cmd) == 0);
    put(mem, "memory.usage_in_bytes", "10000000\n");
    put(mem, "memory.max_usage_in_bytes", "12000000\n");
    put(mem, "memory.stat",
        "cache 5000000\nrss 4000000\ninactive_file 1000\n"
        "total_inactive_file 3000000\n");
    put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
    put(mem, "memory.limit_in_bytes", "");
    put(cpu, "cpuacct.usage", "987654321\n");
    put(cpu, "cpu.cfs_quota_us", "");
    put(cpu, "cpu.cfs_period_us", "");
    put(pids, "pids.current", "3\n");
    put(pids, "pids.max", "");

    struct reef_cgroup_layout *l = parse(mi, NULL, NULL, NULL, root);
    struct reef_err err = {0};
    struct reef_cgroup *cg = NULL;
    struct reef_cgroup_opts o = {.parent = "/k", .name = "c"};
    CHECK_OK(reef_cgroup_open(l, &o, &cg, &err), &err);
    CHECK_INT(cg->nd, ==, 3);
    CHECK_STR(reef_cgroup_dir(cg, REEF_CG_CPUACCT), cpu);
    CHECK(reef_cgroup_dir(cg, REEF_CG_FREEZER) == NULL);
    struct reef_cgroup_stats st;
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK_INT(st.have, ==,
              REEF_CGROUP_HAVE_MEMORY | REEF_CGROUP_HAVE_PEAK | REEF_CGROUP_HAVE_CPU |
                  REEF_CGROUP_HAVE_PIDS | REEF_CGROUP_HAVE_OOM);
    CHECK_INT(st.memory_usage, ==, 10000000);
    CHECK_INT(st.memory_working_set, ==, 7000000);
    CHECK_INT(st.memory_peak, ==, 12000000);
    CHECK_INT(st.oom_kills, ==, 4);
    CHECK_INT(st.cpu_usage_ns, ==, 987654321);
    CHECK_INT(st.pids_current, ==, 3);
    put(mem, "memory.stat", "cache 5000000\ninactive_file 2000000\n");
    put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n"); /* before 4.13 */
    CHECK_OK(reef_cgroup_stats(cg, &st, &err), &err);
    CHECK_INT(st.memory_working_set, ==, 8000000);
    CHECK(!(st.have & REEF_CGROUP_HAVE_OOM));
    uint64_t n;
    CHECK_INT(reef_cgroup_oom_kills(cg, &n, &err), ==, -EOPNOTSUPP);
    CHECK(strstr(err.msg, "oom_kill counter"));

    struct reef_cgroup_limits lim = {.memory_bytes = 1 << 20, .cpus = 1.5, .pids_max = 7};
    CHECK_OK(reef_cgroup_apply(cg, &lim, &err), &err);
    CHECK_STR(get(mem, "memory.limit_in_bytes"), "1048576");
    CHECK_STR(get(cpu, "cpu.cfs_quota_us"), "150000");
    CHECK_STR(get(cpu, "cpu.cfs_period_us"), "100000");
    CHECK_STR(get(pids, "pids.max"), "7");
    lim = (struct reef_cgroup_limits){.memory_bytes = 1 << 20, .swap_set = true};
    CHECK_INT(reef_cgroup_apply(cg, &lim, &err), ==, -EOPNOTSUPP); /* no memsw file */
    CHECK(strstr(err.msg, "cgroup /k/c: swap limit:"));
    reef_cgroup_free(cg);

    /* Only some hierarchies have the cgroup: open takes those; none at all is ENOENT. */
    rm_rf(pids);
    CHECK_OK(reef_cgroup_open(l, &o, &cg, &err), &err);
    CHECK_INT(cg->nd, ==, 2);
    CHECK(reef_cgroup_dir(cg, REEF_CG_PIDS) == NULL);
    lim = (struct reef_cgroup_limits){.pids_max = 7};
    CHECK_INT(reef_cgroup_apply(cg, &lim, &err), ==, -EOPNOTSUPP);
    reef_cgroup_free(cg);
    o.name = "nope";
    CHECK_INT(reef_cgroup_open(l, &o, &cg, &err), ==, -ENOENT);
    reef_cgroup_layout_free(l);
    rm_rf(root);
}

/* A parent removed between its mkdir and its child's (another reef's last container leaving):
 * the chain starts over and ends complete. */
static int removals;

static int remove_once(const char *parent, const char *dir, void *ud)
{
    (void)ud;
    if (parent && removals == 0 && strstr(dir, "/reef") && !strstr(dir, "/ctr")) {
        removals++;
        return rmdir(dir) == 0 ? 0 : -errno;
    }
    return 0;
}

static char chain_base[] = "/tmp/reef-t-chain.XXXXXX";

static void remove_chain_base(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", chain_base);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", chain_base);
}

static void test_mkdir_chain_parent_vanishes(void)
{
    char *base = chain_base;
    CHECK(mkdtemp(base) != NULL);
    atexit(remove_chain_base); /* failed or not */
    struct reef_err err = {0};
    int made = 0;
    removals = 0;
    CHECK_OK(reef__cg_mkdir_chain(base, "reef/ctr", remove_once, NULL, &made, &err), &err);
    CHECK_INT(removals, ==, 1);
    CHECK_INT(made, ==, 2);
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/reef/ctr", base);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_layout_hybrid);
    TEST_RUN(test_layout_v2);
    TEST_RUN(test_layout_v1_comounted);
    TEST_RUN(test_layout_nonstandard);
    TEST_RUN(test_layout_pi_without_memory);
    TEST_RUN(test_layout_none_and_malformed);
    TEST_RUN(test_plan_v1);
    TEST_RUN(test_plan_v2);
    TEST_RUN(test_cpu_quota);
    TEST_RUN(test_parse_stats);
    TEST_RUN(test_check_path);
    TEST_RUN(test_v2_synthetic_tree);
    TEST_RUN(test_v1_synthetic_tree);
    TEST_RUN(test_mkdir_chain_parent_vanishes);
    return test_done();
}
