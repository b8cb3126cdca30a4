/* Unit tests for runtime/mounts: a real root filesystem assembled in a private mount and PID
 * namespace, inspected from inside after pivot_root. Nothing outlives the namespace. */
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "runtime/mounts.h"
#include "tests/unit/test.h"

static char base[] = "/tmp/reef-mounts-XXXXXX";
static char p_lower1[300], p_lower2[300], p_upper[300], p_work[300], p_root[300];
static char p_hosts[300], p_vol[300], p_volro[300], p_canary[300];

static void mkd(const char *p)
{
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        TEST_FAIL("mkdir %s: %s", p, strerror(errno));
}

static void put(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    if (!f)
        TEST_FAIL("create %s: %s", p, strerror(errno));
    fputs(text, f);
    fclose(f);
}

static pid_t owner;
static void teardown(void);
static void teardown_at_exit(void)
{
    if (getpid() == owner)
        teardown();
}

static void setup(void)
{
    if (geteuid() != 0)
        TEST_FAIL("needs root");
    CHECK(mkdtemp(base));
    /* Removed whatever happens to the test (a failed CHECK exits through exit()). */
    owner = getpid();
    atexit(teardown_at_exit);
    char p[400];
#define PATHF(var, ...) snprintf(var, sizeof(var), __VA_ARGS__)
    PATHF(p_lower1, "%s/l1", base);
    PATHF(p_lower2, "%s/l2", base);
    PATHF(p_upper, "%s/upper", base);
    PATHF(p_work, "%s/work", base);
    PATHF(p_root, "%s/rootfs", base);
    PATHF(p_hosts, "%s/hosts", base);
    PATHF(p_vol, "%s/vol", base);
    PATHF(p_volro, "%s/volro", base);
    PATHF(p_canary, "%s/canary", base);
    const char *dirs[] = {p_lower1, p_lower2, p_upper, p_work, p_root, p_vol, p_volro, p_canary};
    for (size_t i = 0; i < REEF_ARRAY_LEN(dirs); i++)
        mkd(dirs[i]);
    /* l2 (bottom): data/a, data/b; l1 (top) overrides data/b. */
    PATHF(p, "%s/data", p_lower2);
    mkd(p);
    PATHF(p, "%s/data/a", p_lower2);
    put(p, "a-from-l2");
    PATHF(p, "%s/data/b", p_lower2);
    put(p, "b-from-l2");
    PATHF(p, "%s/data", p_lower1);
    mkd(p);
    PATHF(p, "%s/data/b", p_lower1);
    put(p, "b-from-l1");
    /* A hostile image: /etc is an absolute symlink to a host directory. */
    PATHF(p, "%s/etc", p_lower1);
    CHECK(symlink(p_canary, p) == 0);
    put(p_hosts, "127.0.0.1 localhost reef-test\n");
    PATHF(p, "%s/file", p_vol);
    put(p, "rw-volume");
    PATHF(p, "%s/file", p_volro);
    put(p, "ro-volume");
}

static void teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", base);
}

static int read_text(const char *p, char *out, size_t n)
{
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, out, n - 1);
    close(fd);
    out[r > 0 ? r : 0] = '\0';
    return 0;
}

/* Runs fn inside a fresh mount+PID+net namespace as PID 1, after entering the root. */
static void in_container(bool readonly, void (*fn)(void))
{
    pid_t outer = fork();
    CHECK(outer >= 0);
    if (outer == 0) {
        if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS) < 0)
            TEST_FAIL("unshare: %s", strerror(errno));
        pid_t inner = fork();
        if (inner == 0) {
            const char *lowers[] = {p_lower1, p_lower2};
            struct reef_volume vols[] = {
                {REEF_VOLUME_BIND, p_vol, "/mnt/rw", false, NULL},
                {REEF_VOLUME_BIND, p_volro, "/mnt/ro", true, NULL},
                {REEF_VOLUME_TMPFS, NULL, "/scratch", false, "size=1m"},
            };
            struct reef_rootfs_spec spec = {
                .lowers = lowers, .nlowers = 2, .upper = p_upper, .work = p_work,
                .rootfs = p_root, .readonly = readonly, .volumes = vols, .nvolumes = 3,
                .hosts = p_hosts, .new_netns = true,
            };
            struct reef_err err = {0};
            if (reef_rootfs_enter(&spec, &err) < 0)
                TEST_FAIL("rootfs_enter: %s", err.msg);
            fn();
            _exit(0);
        }
        int st;
        waitpid(inner, &st, 0);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 99);
    }
    int st;
    waitpid(outer, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        TEST_FAIL("container checks failed (status %d)", st);
}

static void inside_basic(void)
{
    char buf[256];
    CHECK(getpid() == 1);
    /* layers stacked in order, upper writable */
    CHECK(read_text("/data/a", buf, sizeof(buf)) == 0);
    CHECK_STR(buf, "a-from-l2");
    CHECK(read_text("/data/b", buf, sizeof(buf)) == 0);
    CHECK_STR(buf, "b-from-l1");
    put("/data/new", "written");
    /* /proc is this PID namespace's */
    CHECK(read_text("/proc/1/comm", buf, sizeof(buf)) == 0);
    CHECK(access("/proc/self/status", R_OK) == 0);
    /* /dev */
    struct stat st;
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
          minor(st.st_rdev) == 3);
    CHECK(stat("/dev/urandom", &st) == 0 && S_ISCHR(st.st_mode));
    CHECK(stat("/dev/pts/ptmx", &st) == 0);
    CHECK(lstat("/dev/ptmx", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(lstat("/dev/fd", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat("/dev/shm", &st) == 0 && (st.st_mode & 01777) == 01777);
    int fd = open("/dev/null", O_WRONLY);
    CHECK(fd >= 0 && write(fd, "x", 1) == 1);
    close(fd);
    /* /sys read-only */
    CHECK(mkdir("/sys/reef-test", 0755) < 0 && errno == EROFS);
    /* masked and read-only paths */
    /* (this kernel has no /proc/kcore; /proc/keys and /proc/timer_list exist) */
    CHECK(stat("/proc/keys", &st) == 0 && S_ISCHR(st.st_mode));
    CHECK(read_text("/proc/keys", buf, sizeof(buf)) == 0 && buf[0] == '\0');
    CHECK(stat("/proc/timer_list", &st) == 0 && S_ISCHR(st.st_mode));
    CHECK(stat("/proc/acpi", &st) < 0 || S_ISDIR(st.st_mode));
    fd = open("/proc/sys/kernel/hostname", O_WRONLY);
    CHECK(fd < 0 && errno == EROFS);
    if (access("/proc/sysrq-trigger", F_OK) == 0) { /* absent on kernels without sysrq */
        fd = open("/proc/sysrq-trigger", O_WRONLY);
        CHECK(fd < 0 && errno == EROFS);
    }
    /* /etc/hosts bound, inside the root even though /etc was a symlink to the host */
    CHECK(read_text("/etc/hosts", buf, sizeof(buf)) == 0);
    CHECK_STR(buf, "127.0.0.1 localhost reef-test\n");
    /* volumes */
    CHECK(read_text("/mnt/rw/file", buf, sizeof(buf)) == 0);
    CHECK_STR(buf, "rw-volume");
    put("/mnt/rw/created", "from-container");
    CHECK(read_text("/mnt/ro/file", buf, sizeof(buf)) == 0);
    CHECK_STR(buf, "ro-volume");
    CHECK(open("/mnt/ro/created", O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS);
    put("/scratch/x", "tmpfs");
    /* the host is out of reach */
    CHECK(access(p_upper, F_OK) < 0 && access(p_hosts, F_OK) < 0);
}

static void test_rootfs(void)
{
    setup();
    in_container(false, inside_basic);
    char p[400], buf[64];
    /* writes went to the upper layer and the rw volume; nothing landed in the host canary */
    snprintf(p, sizeof(p), "%s/data/new", p_upper);
    CHECK(read_text(p, buf, sizeof(buf)) == 0);
    CHECK_STR(buf, "written");
    snprintf(p, sizeof(p), "%s/created", p_vol);
    CHECK(read_text(p, buf, sizeof(buf)) == 0);
    snprintf(p, sizeof(p), "%s/hosts", p_canary);
    CHECK(access(p, F_OK) < 0);
    /* and no mount of the container is left in the test's namespace */
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[1024];
    while (fgets(line, sizeof(line), f))
        CHECK(!strstr(line, base));
    fclose(f);
}

static void inside_readonly(void)
{
    CHECK(mkdir("/newdir", 0755) < 0 && errno == EROFS);
    CHECK(open("/data/a", O_WRONLY) < 0 && errno == EROFS);
    /* volumes and tmpfs stay writable under --read-only */
    put("/mnt/rw/created2", "x");
    put("/scratch/y", "y");
    put("/dev/shm/z", "z");
}

static void test_readonly_root(void)
{
    setup();
    in_container(true, inside_readonly);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_rootfs);
    TEST_RUN(test_readonly_root);
    return test_done();
}
