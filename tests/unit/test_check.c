/* Tests for runtime/check: each test builds a fake root (/proc, /sys, /boot, /lib/modules) that
 * describes one kind of kernel and checks what reef_check_run makes of it. */
#include <ftw.h>
#include <sys/stat.h>
#include <zlib.h>

#include "runtime/check.h"
#include "tests/unit/test.h"

#define REL "6.1.0-test"

static char root[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void cleanup_root(void)
{
    if (root[0])
        nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_root(void)
{
    snprintf(root, sizeof(root), "/tmp/reef-test-check.XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    atexit(cleanup_root);
}

static void mkdirs(const char *path)
{
    char p[512];
    snprintf(p, sizeof(p), "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    mkdir(p, 0755);
}

static void put_n(const char *rel, const char *content, size_t n)
{
    char p[512];
    snprintf(p, sizeof(p), "%s%s", root, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdirs(p);
    *slash = '/';
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    CHECK(fwrite(content, 1, n, f) == n);
    fclose(f);
}

static void put(const char *rel, const char *content)
{
    put_n(rel, content, strlen(content));
}

static void put_gz(const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof(p), "%s%s", root, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdirs(p);
    *slash = '/';
    gzFile f = gzopen(p, "wb");
    CHECK(f != NULL);
    CHECK(gzwrite(f, content, (unsigned)strlen(content)) == (int)strlen(content));
    gzclose(f);
}

static void dir(const char *rel)
{
    char p[512];
    snprintf(p, sizeof(p), "%s%s", root, rel);
    mkdirs(p);
}

/* What every fake kernel has: a release, all namespaces, seccomp, a filesystems list. */
static void base_tree(bool overlay)
{
    put("/proc/sys/kernel/osrelease", REL "\n");
    static const char *const ns[] = {"mnt", "pid", "net", "uts", "ipc", "user", "cgroup"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(ns); i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "/proc/self/ns/%s", ns[i]);
        put(rel, "");
    }
    put("/proc/self/status", "Name:\tcat\nSeccomp:\t0\nSeccomp_filters:\t0\n");
    put("/proc/filesystems", overlay ? "nodev\tsysfs\nnodev\tcgroup2\n\text4\nnodev\toverlay\n"
                                     : "nodev\tsysfs\nnodev\tcgroup2\n\text4\n");
    put("/proc/cmdline", "console=ttyS0 quiet\n");
    put("/proc/sys/net/ipv4/ip_forward", "0\n");
}

static const char hybrid_mountinfo[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char hybrid_cgroups[] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                                     "cpuset\t3\t1\t1\n"
                                     "cpu\t1\t1\t1\n"
                                     "cpuacct\t2\t1\t1\n"
                                     "memory\t4\t38\t1\n"
                                     "devices\t5\t1\t1\n"
                                     "hugetlb\t0\t1\t1\n"
                                     "pids\t8\t1\t1\n";

static const char full_config[] = "#\n# Automatically generated file; DO NOT EDIT.\n"
                                  "CONFIG_NAMESPACES=y\nCONFIG_UTS_NS=y\nCONFIG_IPC_NS=y\n"
                                  "CONFIG_USER_NS=y\nCONFIG_PID_NS=y\nCONFIG_NET_NS=y\n"
                                  "CONFIG_CGROUPS=y\nCONFIG_MEMCG=y\nCONFIG_CGROUP_SCHED=y\n"
                                  "CONFIG_CGROUP_PIDS=y\nCONFIG_CPUSETS=y\nCONFIG_SECCOMP=y\n"
                                  "CONFIG_SECCOMP_FILTER=y\nCONFIG_OVERLAY_FS=y\nCONFIG_VETH=y\n"
                                  "CONFIG_BRIDGE=y\nCONFIG_VXLAN=y\nCONFIG_NF_TABLES=y\n"
                                  "CONFIG_NFT_NAT=y\nCONFIG_NFT_MASQ=y\n";

/* This development machine: v1 controllers, cgroup2 at /sys/fs/cgroup/unified holding only
 * hugetlb, built-in netfilter known only from /proc/config.gz, bridge and vxlan in /sys/module,
 * no /lib/modules at all. */
static void hybrid_tree(void)
{
    base_tree(true);
    put("/proc/self/mountinfo", hybrid_mountinfo);
    put("/proc/cgroups", hybrid_cgroups);
    put("/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
    put_gz("/proc/config.gz", full_config);
    dir("/sys/module/bridge");
    put("/sys/module/vxlan/initstate", "live\n");
}

static struct reef_check_report report;

static const struct reef_check_item *item(const char *name)
{
    const struct reef_check_item *it = reef_check_find(&report, name);
    if (!it)
        TEST_FAIL("no item %s", name);
    return it;
}

static void run_check(void)
{
    struct reef_err err = {0};
    CHECK_OK(reef_check_run(root, &report, &err), &err);
}

static char *table(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK(reef_check_format_table(&report, &b) == 0);
    /* What is printed is len bytes: it must be one NUL-free text ending in a newline. */
    CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
    CHECK_INT(strlen(b.data), ==, b.len);
    return reef_buf_steal(&b);
}

static char *json(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK(reef_check_format_json(&report, &b) == 0);
    CHECK(b.len > 2 && b.data[0] == '{' && memcmp(b.data + b.len - 2, "}\n", 2) == 0);
    CHECK_INT(strlen(b.data), ==, b.len);
    return reef_buf_steal(&b);
}

static void all_ok_except_forwarding(void)
{
    for (size_t i = 0; i < report.n; i++) {
        const struct reef_check_item *it = &report.items[i];
        if (strcmp(it->name, "ip_forward") == 0)
            continue;
        if (it->state != REEF_CHECK_OK)
            TEST_FAIL("%s is %s: %s", it->name, reef_check_state_name(it->state), it->detail);
    }
}

static void test_hybrid_machine(void)
{
    make_root();
    hybrid_tree();
    run_check();
    CHECK_STR(report.kernel, REL);
    CHECK_STR(report.config_source, "/proc/config.gz");
    CHECK_INT(report.layout, ==, REEF_CGROUP_HYBRID);
    CHECK_STR(report.cgroup2_mount, "/sys/fs/cgroup/unified");
    CHECK(!report.raspberry_pi);
    all_ok_except_forwarding();
    CHECK(reef_check_passed(&report));
    CHECK_STR(item("cgroup layout")->detail,
              "hybrid: v1 controllers, cgroup2 at /sys/fs/cgroup/unified");
    CHECK_STR(item("cgroup memory")->detail, "v1 at /sys/fs/cgroup/memory");
    CHECK_STR(item("cgroup cpu")->detail, "v1 at /sys/fs/cgroup/cpu");
    CHECK_STR(item("cgroup pids")->detail, "v1 at /sys/fs/cgroup/pids");
    CHECK_STR(item("overlayfs")->detail, "available");
    CHECK_STR(item("veth")->detail, "built-in");
    CHECK_STR(item("bridge")->detail, "built-in");
    CHECK_STR(item("vxlan")->detail, "loaded");
    CHECK_STR(item("nf_tables masquerade")->detail, "built-in");
    CHECK(!item("veth")->module);
    const struct reef_check_item *fw = item("ip_forward");
    CHECK_INT(fw->state, ==, REEF_CHECK_NOTE);
    CHECK(!fw->required);
    CHECK_STR(fw->detail, "off");
    CHECK(strstr(fw->hint, "reef turns IPv4 forwarding on"));
    CHECK(item("namespace mount")->required);
    CHECK(!item("namespace user")->required);
    CHECK(!item("cgroup cpuset")->required);

    char *t = table();
    CHECK(strstr(t, "cgroups hybrid"));
    CHECK(strstr(t, "ip_forward             note         optional  off\n"));
    CHECK(strstr(t, "\nok: this kernel has everything reef requires\n"));
    free(t);
    char *j = json();
    CHECK(strstr(j, "\"cgroup\":{\"layout\":\"hybrid\",\"cgroup2\":\"/sys/fs/cgroup/unified\"}"));
    CHECK(strstr(j, "\"passed\":true"));
    CHECK(strstr(j, "{\"name\":\"ip_forward\",\"state\":\"note\",\"required\":false,"));
    free(j);
}

static const char v2_controllers[] = "cpuset cpu io memory hugetlb pids rdma misc\n";

/* A pure cgroup v2 host with a distribution kernel: netfilter and veth are modules that are
 * installed but not loaded, no kernel config file. */
static void v2_tree(const char *controllers, bool memory_enabled)
{
    base_tree(true);
    put("/proc/self/mountinfo",
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/mmcblk0p2 rw\n"
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
        "rw,nsdelegate,memory_recursiveprot\n");
    char cg[512];
    snprintf(cg, sizeof(cg),
             "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
             "cpuset\t0\t90\t1\ncpu\t0\t90\t1\ncpuacct\t0\t90\t1\nmemory\t0\t90\t%d\n"
             "pids\t0\t90\t1\n",
             memory_enabled ? 1 : 0);
    put("/proc/cgroups", cg);
    put("/sys/fs/cgroup/cgroup.controllers", controllers);
    put("/lib/modules/" REL "/modules.builtin", "kernel/net/netfilter/nf_tables.ko\n"
                                                "kernel/net/bridge/bridge.ko\n");
    put("/lib/modules/" REL "/modules.dep",
        "kernel/drivers/net/veth.ko.xz:\n"
        "kernel/drivers/net/vxlan/vxlan.ko.xz: kernel/net/ipv4/udp_tunnel.ko.xz\n"
        "kernel/net/netfilter/nft_chain_nat.ko.xz: kernel/net/netfilter/nf_nat.ko.xz\n"
        "kernel/net/netfilter/nft_masq.ko.zst: kernel/net/netfilter/nf_nat.ko.xz\n");
    put("/proc/sys/net/ipv4/ip_forward", "1\n");
}

static void test_pure_v2(void)
{
    make_root();
    v2_tree(v2_controllers, true);
    run_check();
    CHECK_INT(report.layout, ==, REEF_CGROUP_V2);
    CHECK_STR(report.cgroup2_mount, "/sys/fs/cgroup");
    CHECK_STR(report.config_source, "");
    all_ok_except_forwarding();
    CHECK(reef_check_passed(&report));
    CHECK_STR(item("cgroup layout")->detail, "v2 (unified) at /sys/fs/cgroup");
    CHECK_STR(item("cgroup memory")->detail, "v2");
    CHECK_STR(item("cgroup cpuset")->detail, "v2");
    CHECK_STR(item("nf_tables")->detail, "built-in");
    CHECK(!item("nf_tables")->module);
    CHECK(item("veth")->module);
    CHECK_STR(item("veth")->detail, "module veth, not loaded yet");
    CHECK(item("nf_tables nat")->module);
    CHECK_STR(item("nf_tables nat")->detail, "module nft_chain_nat, not loaded yet");
    CHECK(item("nf_tables masquerade")->module);
    CHECK_INT(item("ip_forward")->state, ==, REEF_CHECK_OK);
    char *t = table();
    CHECK(strstr(t, "veth                   ok (module)  required  module veth"));
    CHECK(!strstr(t, "Hints:"));
    free(t);
}

static void test_pi_without_memory(void)
{
    make_root();
    v2_tree("cpuset cpu io pids\n", false);
    put_n("/proc/device-tree/model", "Raspberry Pi 4 Model B Rev 1.4", 31);
    put("/boot/firmware/cmdline.txt", "console=serial0,115200 root=PARTUUID=1234-02 rootwait\n");
    run_check();
    CHECK(report.raspberry_pi);
    CHECK_STR(report.model, "Raspberry Pi 4 Model B Rev 1.4");
    CHECK(!reef_check_passed(&report));
    const struct reef_check_item *mem = item("cgroup memory");
    CHECK_INT(mem->state, ==, REEF_CHECK_MISSING);
    CHECK(mem->required);
    CHECK(strstr(mem->hint, "`cgroup_memory=1 cgroup_enable=memory`"));
    CHECK(strstr(mem->hint, "in /boot/firmware/cmdline.txt, then reboot"));
    CHECK(!strstr(mem->hint, "/boot/cmdline.txt"));
    CHECK_INT(item("cgroup cpu")->state, ==, REEF_CHECK_OK);
    char *t = table();
    CHECK(strstr(t, "cgroup memory          missing      required"));
    CHECK(strstr(t, "Hints:\n  cgroup memory: Raspberry Pi kernels"));
    CHECK(strstr(t, "\nfailed: 1 required item missing: cgroup memory\n"));
    free(t);
    char *j = json();
    CHECK(strstr(j, "\"raspberry_pi\":true,\"passed\":false"));
    free(j);
}

static void test_pi_cmdline_file(void)
{
    /* Older Raspberry Pi OS: the file is /boot/cmdline.txt; found through the sysfs model path,
     * and the memory controller is absent from cgroup.controllers though /proc/cgroups has it. */
    make_root();
    v2_tree("cpuset cpu io pids\n", true);
    put_n("/sys/firmware/devicetree/base/model", "Raspberry Pi 3 Model B Plus Rev 1.3\0", 36);
    put("/boot/cmdline.txt", "console=tty1\n");
    run_check();
    CHECK(report.raspberry_pi);
    const struct reef_check_item *mem = item("cgroup memory");
    CHECK_INT(mem->state, ==, REEF_CHECK_MISSING);
    CHECK(strstr(mem->hint, "cgroup_memory=1 cgroup_enable=memory"));
    CHECK(strstr(mem->hint, "in /boot/cmdline.txt, then reboot"));
    CHECK(!reef_check_passed(&report));

    /* Neither file visible (boot partition not mounted): name both. */
    char p[128];
    snprintf(p, sizeof(p), "%s/boot/cmdline.txt", root);
    CHECK(unlink(p) == 0);
    run_check();
    mem = item("cgroup memory");
    CHECK(strstr(mem->hint, "/boot/firmware/cmdline.txt (/boot/cmdline.txt on Raspberry Pi OS "
                            "before Bookworm)"));
}

static void test_memory_disabled_not_pi(void)
{
    make_root();
    v2_tree("cpuset cpu io pids\n", false);
    put("/proc/cmdline", "root=/dev/sda1 cgroup_disable=memory\n");
    run_check();
    const struct reef_check_item *mem = item("cgroup memory");
    CHECK_INT(mem->state, ==, REEF_CHECK_MISSING);
    CHECK(!strstr(mem->hint, "Raspberry"));
    CHECK(strstr(mem->hint, "remove cgroup_disable=memory"));
}

static void test_no_overlayfs(void)
{
    make_root();
    hybrid_tree();
    put("/proc/filesystems", "nodev\tsysfs\n\text4\nnodev\tcgroup2\n");
    /* A config where overlayfs is not set; everything else stays. */
    static const char cfg[] = "CONFIG_NAMESPACES=y\nCONFIG_VETH=y\nCONFIG_BRIDGE=y\n"
                              "# CONFIG_OVERLAY_FS is not set\nCONFIG_NF_TABLES=y\n"
                              "CONFIG_NFT_NAT=y\nCONFIG_NFT_MASQ=y\n";
    put_gz("/proc/config.gz", cfg);
    run_check();
    const struct reef_check_item *ov = item("overlayfs");
    CHECK_INT(ov->state, ==, REEF_CHECK_MISSING);
    CHECK(ov->required);
    CHECK_STR(ov->detail, "kernel built without CONFIG_OVERLAY_FS");
    CHECK(strstr(ov->hint, "CONFIG_OVERLAY_FS=y or =m"));
    CHECK(!reef_check_passed(&report));
    char *t = table();
    CHECK(strstr(t, "\nfailed: 1 required item missing: overlayfs\n"));
    free(t);

    /* Built as a module whose file is missing: still missing, with the package hint. */
    put("/boot/config-" REL, "CONFIG_OVERLAY_FS=m\nCONFIG_VETH=y\n");
    char p[128];
    snprintf(p, sizeof(p), "%s/proc/config.gz", root);
    CHECK(unlink(p) == 0);
    run_check();
    CHECK_STR(report.config_source, "/boot/config-" REL);
    ov = item("overlayfs");
    CHECK_INT(ov->state, ==, REEF_CHECK_MISSING);
    CHECK(strstr(ov->detail, "CONFIG_OVERLAY_FS=m but no overlay module installed"));

    /* Once the module file is there (no modules.dep: found by walking the tree), it is ok. */
    put("/lib/modules/" REL "/kernel/fs/overlayfs/overlay.ko.zst", "");
    run_check();
    ov = item("overlayfs");
    CHECK_INT(ov->state, ==, REEF_CHECK_OK);
    CHECK(ov->module);
}

static void test_no_kernel_config_no_evidence(void)
{
    make_root();
    base_tree(false);
    put("/proc/self/mountinfo", hybrid_mountinfo);
    put("/proc/cgroups", hybrid_cgroups);
    run_check();
    const struct reef_check_item *v = item("veth");
    CHECK_INT(v->state, ==, REEF_CHECK_MISSING);
    CHECK(strstr(v->hint, "modprobe veth"));
    CHECK(strstr(v->hint, "no kernel config was found"));
    CHECK_INT(item("overlayfs")->state, ==, REEF_CHECK_MISSING);
    /* vxlan is optional: missing but not among the failures. */
    CHECK(!item("vxlan")->required);
    char *t = table();
    CHECK(strstr(t, "failed: 6 required items missing: overlayfs; veth; bridge; nf_tables; "
                    "nf_tables nat; nf_tables masquerade\n"));
    free(t);
}

static void test_no_cgroups_and_namespaces(void)
{
    make_root();
    put("/proc/sys/kernel/osrelease", REL "\n");
    put("/proc/self/mountinfo", "22 1 8:1 / / rw - ext4 /dev/vda rw\n");
    put("/proc/self/ns/mnt", "");
    put("/proc/sys/user/max_user_namespaces", "0\n");
    put("/proc/self/ns/user", "");
    put_gz("/proc/config.gz", "# CONFIG_PID_NS is not set\nCONFIG_NAMESPACES=y\n");
    run_check();
    CHECK_INT(report.layout, ==, REEF_CGROUP_NONE);
    CHECK_INT(item("cgroup layout")->state, ==, REEF_CHECK_MISSING);
    CHECK(strstr(item("cgroup layout")->hint, "mount -t cgroup2"));
    CHECK_INT(item("cgroup memory")->state, ==, REEF_CHECK_MISSING);
    CHECK_INT(item("namespace mount")->state, ==, REEF_CHECK_OK);
    CHECK_STR(item("namespace pid")->detail, "kernel built without CONFIG_PID_NS");
    const struct reef_check_item *user = item("namespace user");
    CHECK_INT(user->state, ==, REEF_CHECK_MISSING);
    CHECK(strstr(user->detail, "max_user_namespaces is 0"));
    CHECK_INT(item("ip_forward")->state, ==, REEF_CHECK_NOTE);
    CHECK(strstr(item("ip_forward")->detail, "unknown"));
    CHECK_INT(item("seccomp")->state, ==, REEF_CHECK_MISSING);
    CHECK(!reef_check_passed(&report));
}

static void test_v1_and_escapes(void)
{
    /* Pure v1, a combined cpu,cpuacct hierarchy, and a mount point with an escaped space. */
    make_root();
    base_tree(true);
    put("/proc/self/mountinfo",
        "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "35 31 0:32 / /sys/fs/cgroup/my\\040memory rw - cgroup cgroup rw,memory\n"
        "36 31 0:33 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n");
    put("/proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\n"
                         "memory\t4\t1\t1\npids\t8\t1\t1\ncpuset\t0\t1\t1\n");
    put_gz("/proc/config.gz", full_config);
    run_check();
    CHECK_INT(report.layout, ==, REEF_CGROUP_V1);
    CHECK_STR(item("cgroup memory")->detail, "v1 at /sys/fs/cgroup/my memory");
    CHECK_STR(item("cgroup cpu")->detail, "v1 at /sys/fs/cgroup/cpu,cpuacct");
    const struct reef_check_item *cs = item("cgroup cpuset");
    CHECK_INT(cs->state, ==, REEF_CHECK_MISSING);
    CHECK(strstr(cs->hint, "mount -t cgroup -o cpuset"));
    CHECK(reef_check_passed(&report)); /* cpuset is optional */

    /* Only a named systemd hierarchy plus cgroup2 at /sys/fs/cgroup is a v2 host. */
    put("/proc/self/mountinfo",
        "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n");
    put("/sys/fs/cgroup/cgroup.controllers", v2_controllers);
    run_check();
    CHECK_INT(report.layout, ==, REEF_CGROUP_V2);
}

static void test_bad_root_and_garbage(void)
{
    struct reef_err err = {0};
    CHECK_INT(reef_check_run("/nonexistent/reef/root", &report, &err), ==, -ENOENT);
    CHECK(strstr(err.msg, "not a directory"));

    /* Garbage and truncated files must not crash anything. */
    make_root();
    put("/proc/sys/kernel/osrelease", "");
    put("/proc/self/mountinfo", "garbage\n - \n1 2 3\n\\\\\\ - cgroup2\n4 5 6 7 /x\\0 - cgroup\n");
    put("/proc/cgroups", "memory\nmemory x y z\ncpu 1\n");
    put("/proc/filesystems", "\t\n\n\t\t\n");
    char big[70000];
    memset(big, 'A', sizeof(big));
    put_n("/proc/self/status", big, sizeof(big));
    put_gz("/proc/config.gz", "CONFIG_\nCONFIG_VETH\nCONFIG_BRIDGE=\n");
    char rootslash[80];
    snprintf(rootslash, sizeof(rootslash), "%s///", root);
    CHECK_OK(reef_check_run(rootslash, &report, &err), &err);
    CHECK(report.kernel[0] != '\0'); /* fell back to uname */
    CHECK_INT(item("veth")->state, ==, REEF_CHECK_MISSING);
    CHECK(!reef_check_passed(&report));
    char *j = json();
    free(j);
}

static void test_this_machine(void)
{
    struct reef_err err = {0};
    CHECK_OK(reef_check_run(NULL, &report, &err), &err);
    CHECK(report.kernel[0] != '\0');
    CHECK_INT(report.n, >, 15);
    CHECK(reef_check_find(&report, "overlayfs") != NULL);
    CHECK_INT(item("namespace mount")->state, ==, REEF_CHECK_OK);
    CHECK(reef_check_find(&report, "no such item") == NULL);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_hybrid_machine);
    TEST_RUN(test_pure_v2);
    TEST_RUN(test_pi_without_memory);
    TEST_RUN(test_pi_cmdline_file);
    TEST_RUN(test_memory_disabled_not_pi);
    TEST_RUN(test_no_overlayfs);
    TEST_RUN(test_no_kernel_config_no_evidence);
    TEST_RUN(test_no_cgroups_and_namespaces);
    TEST_RUN(test_v1_and_escapes);
    TEST_RUN(test_bad_root_and_garbage);
    TEST_RUN(test_this_machine);
    return test_done();
}
