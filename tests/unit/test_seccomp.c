/* Unit tests for runtime/seccomp: the default profile installed for real in forked children. */
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "runtime/caps.h"
#include "runtime/seccomp.h"
#include "tests/unit/test.h"

static void install(uint64_t caps)
{
    struct reef_seccomp_prog prog;
    struct reef_err err = {0};
    CHECK_OK(reef_seccomp_build_default(caps, &prog, &err), &err);
    CHECK(prog.len > 10);
    CHECK_INT(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), ==, 0);
    CHECK_INT(reef_seccomp_install(&prog), ==, 0);
    reef_seccomp_prog_free(&prog);
}

#define EXPECT_ERRNO(call, e)                                                                     \
    do {                                                                                          \
        errno = 0;                                                                                \
        long test__r = (long)(call);                                                              \
        if (test__r != -1 || errno != (e))                                                        \
            TEST_FAIL("%s: returned %ld errno %d (%s), wanted errno %d", #call, test__r, errno,   \
                      strerror(errno), (e));                                                      \
    } while (0)

static void test_default_denies(void)
{
    if (geteuid() != 0)
        TEST_FAIL("needs root");
    install(reef_caps_default());
    EXPECT_ERRNO(unshare(CLONE_NEWNS), EPERM);
    EXPECT_ERRNO(unshare(CLONE_NEWNET), EPERM);
    EXPECT_ERRNO(mount("none", "/tmp", "tmpfs", 0, NULL), EPERM);
    EXPECT_ERRNO(umount2("/proc", MNT_DETACH), EPERM);
    EXPECT_ERRNO(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_add_key, "user", "x", "y", 1, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_setns, 0, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_init_module, NULL, 0, ""), EPERM);
    EXPECT_ERRNO(syscall(SYS_reboot, 0, 0, 0, NULL), EPERM);
    EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);
    EXPECT_ERRNO(personality(0x0040000), EPERM);
}

static void test_default_allows(void)
{
    if (geteuid() != 0)
        TEST_FAIL("needs root");
    install(reef_caps_default());
    CHECK(getpid() > 0);
    CHECK(personality(0xffffffff) >= 0);
    /* fork goes through clone without namespace flags */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(7);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7);
    /* a thread-style clone too (what pthread_create and posix_spawn do) */
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f);
    fclose(f);
    int fds[2];
    CHECK(pipe(fds) == 0);
    CHECK(chdir("/") == 0);
    CHECK(syscall(SYS_getrandom, fds, 0, 0) == 0);
}

static void test_sys_admin_allows_unshare(void)
{
    if (geteuid() != 0)
        TEST_FAIL("needs root");
    install(reef_caps_default() | REEF_CAP_BIT(CAP_SYS_ADMIN));
    CHECK_INT(unshare(CLONE_NEWNS), ==, 0);
    CHECK_INT(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
}

#if defined(__x86_64__)
static long int80(long nr, long a, long b)
{
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b) : "memory");
    return ret;
}
#endif

/* The 32-bit ABI is filtered too: keyctl through int 0x80 is refused. */
static void test_compat_abi(void)
{
#if defined(__x86_64__)
    if (geteuid() != 0)
        TEST_FAIL("needs root");
    install(reef_caps_default());
    long pid = int80(20 /* i386 getpid */, 0, 0);
    if (pid == -ENOSYS)
        TEST_SKIP("kernel built without IA32 emulation");
    CHECK_INT(pid, ==, getpid());
    CHECK_INT(int80(288 /* i386 keyctl */, 0, 0), ==, -EPERM);
    CHECK_INT(int80(310 /* i386 unshare */, CLONE_NEWNS, 0), ==, -EPERM);
#else
    TEST_SKIP("no compat ABI test for this architecture");
#endif
}

static void test_counts(void)
{
    int base = reef_seccomp_default_count(reef_caps_default());
    int admin = reef_seccomp_default_count(reef_caps_default() | REEF_CAP_BIT(CAP_SYS_ADMIN));
    CHECK(base > 250);
    CHECK(admin > base + 10);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_default_denies);
    TEST_RUN(test_default_allows);
    TEST_RUN(test_sys_admin_allows_unshare);
    TEST_RUN(test_compat_abi);
    TEST_RUN(test_counts);
    return test_done();
}
