/* Unit tests for runtime/container: real containers from a busybox root filesystem (Debian's
 * busybox-static), run in new namespaces as root. Everything is torn down with the namespaces. */
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include "runtime/caps.h"
#include "runtime/container.h"
#include "tests/unit/test.h"

static char base[] = "/tmp/reef-ctr-XXXXXX";
static char lower[300], upper[300], work[300], rootfs[300];
static pid_t owner;

static void teardown(void)
{
    if (getpid() != owner)
        return;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", base);
}

static void setup(void)
{
    if (geteuid() != 0)
        TEST_FAIL("needs root");
    if (access("/bin/busybox", X_OK) < 0)
        TEST_FAIL("/bin/busybox missing: install busybox-static (vendor/packages.txt)");
    CHECK(mkdtemp(base));
    owner = getpid();
    atexit(teardown);
    snprintf(lower, sizeof(lower), "%s/lower", base);
    snprintf(upper, sizeof(upper), "%s/upper", base);
    snprintf(work, sizeof(work), "%s/work", base);
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", base);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "set -e; mkdir -p %s/bin %s/etc %s/tmp %s %s %s; cp /bin/busybox %s/bin/; "
             "for a in sh echo id cat hostname grep sleep unshare ls true; do "
             "ln -s busybox %s/bin/$a; done; "
             "printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000::/home/app:/bin/sh\\n' "
             "> %s/etc/passwd; printf 'root:x:0:\\napp:x:1000:\\nstaff:x:50:app\\n' > "
             "%s/etc/group",
             lower, lower, lower, upper, work, rootfs, lower, lower, lower, lower);
    CHECK(system(cmd) == 0);
}

static char *env[] = {"PATH=/bin", "HOME=/root", NULL};

struct run {
    int exit_code; /* of reef_container_spawn on failure */
    int status;    /* wait status on success */
    char out[4096];
    int placed_pid;
};

static int placed(void *ud, pid_t pid, struct reef_err *err)
{
    ((struct run *)ud)->placed_pid = pid;
    return 0;
}

/* Runs argv in a fresh container; returns spawn's result. */
static int run_in(char **argv, const struct reef_user *user, uint64_t caps, bool seccomp,
                  const char *cwd, struct run *res, struct reef_err *err)
{
    memset(res, 0, sizeof(*res));
    const char *lowers[] = {lower};
    struct reef_rootfs_spec rs = {.lowers = lowers, .nlowers = 1, .upper = upper, .work = work,
                                  .rootfs = rootfs, .new_netns = true};
    struct reef_seccomp_prog prog = {0};
    if (seccomp)
        CHECK_OK(reef_seccomp_build_default(caps, &prog, err), err);
    int out[2];
    CHECK(pipe2(out, O_CLOEXEC) == 0);
    struct reef_container_spec s = {
        .proc = {.argv = argv, .env = env, .cwd = cwd, .user = user, .caps = caps,
                 .seccomp = seccomp ? &prog : NULL, .no_new_privs = true,
                 .stdio = {-1, out[1], out[1]}},
        .rootfs = &rs,
        .clone_flags = CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET,
        .cgroup_ns = true,
        .hostname = "reef-box",
        .placed = placed,
        .ud = res,
    };
    pid_t pid;
    int r = reef_container_spawn(&s, &pid, &res->exit_code, err);
    close(out[1]);
    if (r == 0) {
        size_t got = 0;
        ssize_t n;
        while ((n = read(out[0], res->out + got, sizeof(res->out) - 1 - got)) > 0)
            got += (size_t)n;
        res->out[got] = '\0';
        CHECK(waitpid(pid, &res->status, 0) == pid);
        CHECK(res->placed_pid == pid);
    }
    close(out[0]);
    reef_seccomp_prog_free(&prog);
    return r;
}

static void test_run_basics(void)
{
    setup();
    struct reef_err err = {0};
    struct run res;
    char *argv[] = {"sh", "-c", "echo hello; echo pid=$$; hostname; exit 3", NULL};
    CHECK_OK(run_in(argv, NULL, reef_caps_default(), true, NULL, &res, &err), &err);
    CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 3);
    CHECK_STR(res.out, "hello\npid=1\nreef-box\n");
}

static void test_user_and_caps(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_user u;
    CHECK_OK(reef_user_resolve_text("app:x:1000:1000::/home/app:/bin/sh\n",
                                    "staff:x:50:app\n", "app", &u, &err), &err);
    struct run res;
    char *argv[] = {"sh", "-c", "id -u; id -g; id -G; grep -E '^Cap(Eff|Bnd)' /proc/self/status; pwd",
                    NULL};
    CHECK_OK(run_in(argv, &u, reef_caps_default(), true, "/work/dir", &res, &err), &err);
    CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0);
    CHECK_STR(res.out, "1000\n1000\n1000 50\nCapEff:\t0000000000000000\n"
                       "CapBnd:\t00000000a80425fb\n/work/dir\n");
    /* root keeps the default set effective */
    char *argv2[] = {"grep", "CapEff", "/proc/self/status", NULL};
    CHECK_OK(run_in(argv2, NULL, reef_caps_default(), true, NULL, &res, &err), &err);
    CHECK_STR(res.out, "CapEff:\t00000000a80425fb\n");
}

static void test_seccomp_blocks_unshare(void)
{
    setup();
    struct reef_err err = {0};
    struct run res;
    char *argv[] = {"unshare", "-m", "true", NULL};
    CHECK_OK(run_in(argv, NULL, reef_caps_default(), true, NULL, &res, &err), &err);
    CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) != 0);
    CHECK(strstr(res.out, "Operation not permitted"));
    /* unconfined with CAP_SYS_ADMIN it works */
    CHECK_OK(run_in(argv, NULL, reef_caps_default() | REEF_CAP_BIT(21), false, NULL, &res, &err),
             &err);
    CHECK(WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0);
}

static void test_exec_failures(void)
{
    setup();
    struct reef_err err = {0};
    struct run res;
    char *nf[] = {"nosuchcmd", NULL};
    CHECK_INT(run_in(nf, NULL, reef_caps_default(), true, NULL, &res, &err), ==, -ENOENT);
    CHECK_INT(res.exit_code, ==, REEF_EXIT_NOTFOUND);
    CHECK_STR(err.msg, "exec: \"nosuchcmd\": executable file not found in $PATH");
    char *nf2[] = {"/bin/nosuch", NULL};
    CHECK_INT(run_in(nf2, NULL, reef_caps_default(), true, NULL, &res, &err), ==, -ENOENT);
    CHECK_INT(res.exit_code, ==, REEF_EXIT_NOTFOUND);
    CHECK_STR(err.msg, "exec: \"/bin/nosuch\": No such file or directory");
    char *nx[] = {"/etc/passwd", NULL};
    CHECK(run_in(nx, NULL, reef_caps_default(), true, NULL, &res, &err) < 0);
    CHECK_INT(res.exit_code, ==, REEF_EXIT_NOEXEC);
    CHECK(strstr(err.msg, "Permission denied"));
}

static void test_exec_into(void)
{
    setup();
    struct reef_err err = {0};
    const char *lowers[] = {lower};
    struct reef_rootfs_spec rs = {.lowers = lowers, .nlowers = 1, .upper = upper, .work = work,
                                  .rootfs = rootfs, .new_netns = true};
    char *argv[] = {"sleep", "30", NULL};
    struct reef_container_spec s = {
        .proc = {.argv = argv, .env = env, .caps = reef_caps_default(), .stdio = {-1, -1, -1}},
        .rootfs = &rs,
        .clone_flags = CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET,
        .hostname = "reef-exec",
    };
    pid_t pid;
    int code;
    CHECK_OK(reef_container_spawn(&s, &pid, &code, &err), &err);
    int out[2];
    CHECK(pipe2(out, O_CLOEXEC) == 0);
    char *eargv[] = {"sh", "-c", "cat /proc/1/comm; hostname; echo $$; ls /tmp", NULL};
    struct reef_process_spec p = {.argv = eargv, .env = env, .caps = reef_caps_default(),
                                  .stdio = {-1, out[1], out[1]}};
    pid_t epid;
    int r = reef_container_exec(pid, &p, NULL, &epid, &code, &err);
    close(out[1]);
    if (r < 0) {
        kill(pid, SIGKILL);
        TEST_FAIL("exec: %s", err.msg);
    }
    char buf[512] = {0};
    size_t got = 0;
    ssize_t n;
    while ((n = read(out[0], buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    int st;
    CHECK(waitpid(epid, &st, 0) == epid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* exec of a missing command reports 127 with a message */
    char *bad[] = {"nosuch", NULL};
    p.argv = bad;
    p.stdio[1] = p.stdio[2] = -1;
    CHECK_INT(reef_container_exec(pid, &p, NULL, &epid, &code, &err), ==, -ENOENT);
    CHECK_INT(code, ==, REEF_EXIT_NOTFOUND);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* joined the container: its PID 1, its hostname, a small PID of its own */
    CHECK(strncmp(buf, "sleep\nreef-exec\n", 16) == 0);
    int epid_inside = atoi(buf + 16);
    CHECK(epid_inside > 1 && epid_inside < 100);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_run_basics);
    TEST_RUN(test_user_and_caps);
    TEST_RUN(test_seccomp_blocks_unshare);
    TEST_RUN(test_exec_failures);
    TEST_RUN(test_exec_into);
    return test_done();
}
