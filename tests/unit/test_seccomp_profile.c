/* Unit tests for runtime/seccomp_profile: Docker-format profiles compiled and installed for real in
 * forked children (as root, with no_new_privs), then probed with system calls; and the exact
 * messages of invalid profiles. Profiles live in tests/unit/seccomp/ (REEF_SRC names the tree). */
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "core/buf.h"
#include "runtime/caps.h"
#include "runtime/seccomp_profile.h"
#include "tests/unit/test.h"

#define EXPECT_ERRNO(call, e)                                                                      \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long test__r = (long)(call);                                                               \
        if (test__r != -1 || errno != (e))                                                         \
            TEST_FAIL("%s: returned %ld errno %d (%s), wanted errno %d", #call, test__r, errno,    \
                      strerror(errno), (e));                                                       \
    } while (0)

#define EXPECT_OK(call)                                                                            \
    do {                                                                                           \
        errno = 0;                                                                                 \
        long test__r = (long)(call);                                                               \
        if (test__r == -1)                                                                         \
            TEST_FAIL("%s: failed with errno %d (%s)", #call, errno, strerror(errno));             \
    } while (0)

static void need_root(void)
{
    if (geteuid() != 0)
        TEST_FAIL("needs root");
}

static char *load(const char *name, size_t *len)
{
    const char *src = getenv("REEF_SRC");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/unit/seccomp/%s", src && *src ? src : ".", name);
    FILE *f = fopen(path, "r");
    if (!f)
        TEST_FAIL("cannot open %s (set REEF_SRC to the source tree)", path);
    static char text[65536];
    *len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[*len] = '\0';
    return text;
}

static void build_text(const char *json, uint64_t caps, struct reef_seccomp_prog *prog)
{
    struct reef_err err = {0};
    CHECK_OK(reef_seccomp_build_profile(json, strlen(json), caps, prog, &err), &err);
    CHECK(prog->filter && prog->len > 0);
}

static void build_file(const char *name, uint64_t caps, struct reef_seccomp_prog *prog)
{
    size_t len;
    const char *json = load(name, &len);
    struct reef_err err = {0};
    CHECK_OK(reef_seccomp_build_profile(json, len, caps, prog, &err), &err);
    CHECK(prog->filter && prog->len > 0);
}

/* Forks a child that installs prog (with no_new_privs, no core dumps) and runs fn, which exits
 * non-zero through TEST_FAIL when a probe goes wrong. Returns the child's wait status. */
static int run_filtered(const struct reef_seccomp_prog *prog, void (*fn)(void))
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            TEST_FAIL("no_new_privs: %s", strerror(errno));
        int r = reef_seccomp_install(prog);
        if (r < 0)
            TEST_FAIL("install: %s", strerror(-r));
        fn();
        fflush(stderr);
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    return st;
}

static void expect_pass(const struct reef_seccomp_prog *prog, void (*fn)(void))
{
    int st = run_filtered(prog, fn);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        TEST_FAIL("filtered child: %s %d", WIFEXITED(st) ? "exit" : "signal",
                  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static void expect_signal(const struct reef_seccomp_prog *prog, void (*fn)(void), int sig)
{
    int st = run_filtered(prog, fn);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != sig)
        TEST_FAIL("filtered child: %s %d, wanted signal %d", WIFEXITED(st) ? "exit" : "signal",
                  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), sig);
}

/* Allow-list, errno values */

static void probe_allowlist(void)
{
    EXPECT_OK(syscall(SYS_getpid));
    EXPECT_OK(syscall(SYS_getuid));
    EXPECT_ERRNO(syscall(SYS_getppid), EPERM);
    EXPECT_ERRNO(syscall(SYS_getgid), EPERM);
    EXPECT_ERRNO(mkdir("/tmp/reef-seccomp-never", 0700), EPERM);
    EXPECT_ERRNO(chdir("/"), EPERM);
}

static void test_allowlist(void)
{
    need_root();
    struct reef_seccomp_prog prog;
    build_file("allowlist.json", reef_caps_default(), &prog);
    expect_pass(&prog, probe_allowlist);
    reef_seccomp_prog_free(&prog);
    CHECK(prog.filter == NULL && prog.len == 0);
}

static void probe_errno(void)
{
    EXPECT_ERRNO(syscall(SYS_getuid), EACCES);                    /* defaultErrnoRet */
    EXPECT_ERRNO(mkdir("/tmp/reef-seccomp-never", 0700), ENOSYS); /* errnoRet */
    EXPECT_ERRNO(chdir("/"), EPERM);                              /* ERRNO without errnoRet */
    CHECK_INT(syscall(SYS_getppid), ==, 0); /* errnoRet 0: "succeeds" without running */
}

static void test_errno_ret(void)
{
    need_root();
    struct reef_seccomp_prog prog;
    build_file("errno.json", 0, &prog);
    expect_pass(&prog, probe_errno);
    reef_seccomp_prog_free(&prog);
}

/* Actions */

static void call_getppid(void)
{
    syscall(SYS_getppid);
}
static void call_getuid(void)
{
    syscall(SYS_getuid);
}
static void call_getgid(void)
{
    syscall(SYS_getgid);
}

static void *thread_getgid(void *arg)
{
    (void)arg;
    syscall(SYS_getgid);
    return NULL;
}
static void *thread_getppid(void *arg)
{
    (void)arg;
    syscall(SYS_getppid);
    return NULL;
}

/* KILL_THREAD ends only the calling thread: the process goes on. */
static void threads_kill_thread(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_getgid, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
}

/* KILL_PROCESS from a thread ends every thread. */
static void threads_kill_process(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_getppid, NULL) == 0);
    pthread_join(t, NULL); /* not reached */
}

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp SIGSYS (asm-generic/siginfo.h) */
#endif

static volatile sig_atomic_t trapped;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    trapped = si->si_code == SYS_SECCOMP ? si->si_syscall : -1;
}

static void probe_other_actions(void)
{
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
    CHECK(sigaction(SIGSYS, &sa, NULL) == 0);
    syscall(SYS_geteuid); /* TRAP: SIGSYS to a handler, the call not run */
    CHECK_INT(trapped, ==, SYS_geteuid);
    EXPECT_ERRNO(syscall(SYS_getegid), ENOSYS);      /* TRACE without a tracer */
    CHECK_INT(syscall(SYS_getpgrp), ==, getpgid(0)); /* LOG: runs */
}

static void test_actions(void)
{
    need_root();
    struct reef_seccomp_prog prog;
    build_file("actions.json", reef_caps_default(), &prog);
    expect_signal(&prog, call_getppid, SIGSYS);
    expect_signal(&prog, call_getuid, SIGSYS);
    expect_signal(&prog, call_getgid, SIGSYS);
    expect_pass(&prog, threads_kill_thread);
    expect_signal(&prog, threads_kill_process, SIGSYS);
    expect_pass(&prog, probe_other_actions);
    reef_seccomp_prog_free(&prog);
}

/* Argument conditions */

#define NS_FLAGS                                                                                   \
    (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |     \
     CLONE_NEWCGROUP)

static void probe_args(void)
{
    EXPECT_OK(personality(0xffffffff));
    EXPECT_OK(personality(0));
    EXPECT_ERRNO(personality(0x0008), EPERM);
    EXPECT_ERRNO(personality(0x0040000), EPERM);

    pid_t pid = fork(); /* clone(SIGCHLD | CLONE_CHILD_*): no namespace flag */
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(3);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3);
    EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0), EPERM);
    EXPECT_ERRNO(syscall(SYS_clone, NS_FLAGS | SIGCHLD, 0, 0, 0, 0), EPERM);

    /* Calls that ignore their arguments, so only the filter decides. */
    EXPECT_OK(syscall(SYS_getppid, 4)); /* NE 5 */
    EXPECT_ERRNO(syscall(SYS_getppid, 5), EPERM);
    EXPECT_OK(syscall(SYS_getuid, 4)); /* LT 5 */
    EXPECT_ERRNO(syscall(SYS_getuid, 5), EPERM);
    EXPECT_OK(syscall(SYS_getgid, 5)); /* LE 5 */
    EXPECT_ERRNO(syscall(SYS_getgid, 6), EPERM);
    EXPECT_OK(syscall(SYS_geteuid, 5)); /* GE 5 */
    EXPECT_ERRNO(syscall(SYS_geteuid, 4), EPERM);
    EXPECT_OK(syscall(SYS_getegid, 6)); /* GT 5 */
    EXPECT_ERRNO(syscall(SYS_getegid, 5), EPERM);
    EXPECT_ERRNO(syscall(SYS_getegid, 0), EPERM);
#if __SIZEOF_LONG__ == 8
    EXPECT_OK(syscall(SYS_gettid, 0x0123456789abcdefUL)); /* EQ on all 64 bits */
    EXPECT_ERRNO(syscall(SYS_gettid, 0x89abcdefUL), EPERM);
    EXPECT_ERRNO(syscall(SYS_gettid, 0x1123456789abcdefUL), EPERM);
#endif
    EXPECT_OK(syscall(SYS_getpgrp, 0x35)); /* (x & 0xf0) == 0x30 */
    EXPECT_OK(syscall(SYS_getpgrp, 0x130));
    EXPECT_ERRNO(syscall(SYS_getpgrp, 0x45), EPERM);
    EXPECT_OK(syscall(SYS_sched_yield, 1, 2)); /* index 0 and index 1: both */
    EXPECT_ERRNO(syscall(SYS_sched_yield, 1, 3), EPERM);
    EXPECT_ERRNO(syscall(SYS_sched_yield, 0, 2), EPERM);
    EXPECT_OK(syscall(SYS_getsid, 0)); /* index 0 twice: either */
    EXPECT_ERRNO(syscall(SYS_getsid, 2), EPERM);
    errno = 0;
    syscall(SYS_getsid, 1); /* allowed: runs, and pid 1's session is ours to read */
    CHECK(errno != EPERM);
}

static void test_args(void)
{
    need_root();
    struct reef_seccomp_prog prog;
    build_file("args.json", reef_caps_default(), &prog);
    expect_pass(&prog, probe_args);
    reef_seccomp_prog_free(&prog);
}

/* includes / excludes */

static void probe_caps_default(void)
{
    EXPECT_ERRNO(syscall(SYS_getppid), EPERM); /* includes SYS_ADMIN */
    EXPECT_ERRNO(syscall(SYS_getuid), EPERM);  /* includes SYS_ADMIN and NET_ADMIN */
    EXPECT_OK(syscall(SYS_getgid));            /* excludes SYS_ADMIN */
    EXPECT_OK(syscall(SYS_geteuid));           /* excludes SYS_PTRACE or SYS_ADMIN */
    EXPECT_ERRNO(syscall(SYS_getegid), EPERM); /* includes NET_ADMIN, excludes SYS_ADMIN */
    EXPECT_OK(syscall(SYS_gettid));            /* empty filters */
}

static void probe_caps_admin(void)
{
    EXPECT_OK(syscall(SYS_getppid));
    EXPECT_ERRNO(syscall(SYS_getuid), EPERM);
    EXPECT_ERRNO(syscall(SYS_getgid), EPERM);
    EXPECT_ERRNO(syscall(SYS_geteuid), EPERM);
    EXPECT_ERRNO(syscall(SYS_getegid), EPERM);
    EXPECT_OK(syscall(SYS_gettid));
}

static void probe_caps_admin_net(void)
{
    EXPECT_OK(syscall(SYS_getppid));
    EXPECT_OK(syscall(SYS_getuid));
    EXPECT_ERRNO(syscall(SYS_getgid), EPERM);
    EXPECT_ERRNO(syscall(SYS_getegid), EPERM);
}

static void probe_caps_net_ptrace(void)
{
    EXPECT_ERRNO(syscall(SYS_getppid), EPERM);
    EXPECT_ERRNO(syscall(SYS_getuid), EPERM);
    EXPECT_OK(syscall(SYS_getgid));
    EXPECT_ERRNO(syscall(SYS_geteuid), EPERM);
    EXPECT_OK(syscall(SYS_getegid));
}

static void test_caps(void)
{
    need_root();
    uint64_t def = reef_caps_default(), admin = REEF_CAP_BIT(CAP_SYS_ADMIN),
             net = REEF_CAP_BIT(CAP_NET_ADMIN), ptrace = REEF_CAP_BIT(CAP_SYS_PTRACE);
    struct {
        uint64_t caps;
        void (*probe)(void);
    } cases[] = {
        {def, probe_caps_default},
        {def | admin, probe_caps_admin},
        {def | admin | net, probe_caps_admin_net},
        {def | net | ptrace, probe_caps_net_ptrace},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        struct reef_seccomp_prog prog;
        build_file("caps.json", cases[i].caps, &prog);
        expect_pass(&prog, cases[i].probe);
        reef_seccomp_prog_free(&prog);
    }
}

/* Architectures */

#define BASE                                                                                       \
    "\"read\", \"write\", \"close\", \"exit\", \"exit_group\", \"rt_sigreturn\", "                 \
    "\"rt_sigprocmask\", \"rt_sigaction\", \"brk\", \"mmap\", \"munmap\", \"mprotect\", "          \
    "\"fstat\", \"newfstatat\", \"lseek\", \"getpid\", \"wait4\", \"futex\", \"madvise\", "        \
    "\"sigaltstack\""

static void probe_arches(void)
{
    EXPECT_OK(syscall(SYS_getppid));          /* includes native */
    EXPECT_ERRNO(syscall(SYS_getuid), EPERM); /* includes another */
    EXPECT_ERRNO(syscall(SYS_getgid), EPERM); /* excludes native */
    EXPECT_OK(syscall(SYS_geteuid));          /* excludes another */
    EXPECT_OK(syscall(SYS_getegid));          /* includes both */
}

static void test_arches(void)
{
    need_root();
    const char *native = reef_seccomp_profile_native_arch();
    CHECK(native != NULL);
    const char *other = strcmp(native, "s390x") == 0 ? "mips" : "s390x";
    char json[4096];
    snprintf(json, sizeof(json),
             "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
             "{\"names\": [" BASE "], \"action\": \"SCMP_ACT_ALLOW\"},"
             "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ALLOW\","
             " \"includes\": {\"arches\": [\"%s\"]}},"
             "{\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ALLOW\","
             " \"includes\": {\"arches\": [\"%s\"]}},"
             "{\"names\": [\"getgid\"], \"action\": \"SCMP_ACT_ALLOW\","
             " \"excludes\": {\"arches\": [\"%s\", \"x32\"]}},"
             "{\"names\": [\"geteuid\"], \"action\": \"SCMP_ACT_ALLOW\","
             " \"excludes\": {\"arches\": [\"%s\"]}},"
             "{\"names\": [\"getegid\"], \"action\": \"SCMP_ACT_ALLOW\","
             " \"includes\": {\"arches\": [\"%s\", \"%s\"]}}]}",
             native, other, native, other, other, native);
    struct reef_seccomp_prog prog;
    build_text(json, 0, &prog);
    expect_pass(&prog, probe_arches);
    reef_seccomp_prog_free(&prog);
}

#if defined(__x86_64__)
/* getpid through the i386 entry point: its number there is 20. */
static long getpid_i386(void)
{
    long ret = 20;
    __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
    return ret;
}

static void probe_i386_allowed(void)
{
    CHECK_INT(getpid_i386(), ==, getpid());
    CHECK_INT(syscall(SYS_getpid), ==, getpid());
}

static void probe_i386(void)
{
    getpid_i386();
}
#endif

/* architectures and archMap decide which ABIs the filter admits; a call through any other is
 * killed (libseccomp's bad-architecture action). */
static void test_arch_map(void)
{
    need_root();
#if defined(__x86_64__)
    if (access("/proc/sys/abi/vsyscall32", F_OK) != 0) /* kernel without IA32 emulation */
        TEST_FAIL("needs a kernel with IA32 emulation");
    static const char *const admitting[] = {
        "\"archMap\": [{\"architecture\": \"SCMP_ARCH_AARCH64\", "
        "\"subArchitectures\": [\"SCMP_ARCH_ARM\"]},"
        "{\"architecture\": \"SCMP_ARCH_X86_64\", "
        "\"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]}]",
        "\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"]",
    };
    static const char *const refusing[] = {
        "\"archMap\": [{\"architecture\": \"SCMP_ARCH_AARCH64\", "
        "\"subArchitectures\": [\"SCMP_ARCH_X86\"]},"
        "{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X32\"]}]",
        "\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X32\"]",
        "\"architectures\": []",
    };
    char json[2048];
    for (size_t i = 0; i < REEF_ARRAY_LEN(admitting); i++) {
        snprintf(json, sizeof(json),
                 "{\"defaultAction\": \"SCMP_ACT_ERRNO\", %s, \"syscalls\": ["
                 "{\"names\": [" BASE "], \"action\": \"SCMP_ACT_ALLOW\"}]}",
                 admitting[i]);
        struct reef_seccomp_prog prog;
        build_text(json, 0, &prog);
        expect_pass(&prog, probe_i386_allowed);
        reef_seccomp_prog_free(&prog);
    }
    for (size_t i = 0; i < REEF_ARRAY_LEN(refusing); i++) {
        snprintf(json, sizeof(json),
                 "{\"defaultAction\": \"SCMP_ACT_ERRNO\", %s, \"syscalls\": ["
                 "{\"names\": [" BASE "], \"action\": \"SCMP_ACT_ALLOW\"}]}",
                 refusing[i]);
        struct reef_seccomp_prog prog;
        build_text(json, 0, &prog);
        expect_signal(&prog, probe_i386, SIGSYS);
        reef_seccomp_prog_free(&prog);
    }
#endif
}

/* minKernel */

static void probe_kernel(void)
{
    EXPECT_OK(syscall(SYS_getppid));          /* includes 1.0 */
    EXPECT_ERRNO(syscall(SYS_getuid), EPERM); /* includes 255.255 */
    EXPECT_ERRNO(syscall(SYS_getgid), EPERM); /* excludes 2.6 */
    EXPECT_OK(syscall(SYS_geteuid));          /* excludes 200.1 */
    EXPECT_OK(syscall(SYS_getegid));          /* "": no minimum */
}

static void probe_kernel_exact(void)
{
    EXPECT_OK(syscall(SYS_getppid));          /* includes this kernel's version */
    EXPECT_ERRNO(syscall(SYS_getuid), EPERM); /* includes the next minor */
    EXPECT_ERRNO(syscall(SYS_getgid), EPERM); /* excludes this kernel's version */
}

static void test_min_kernel(void)
{
    need_root();
    struct reef_seccomp_prog prog;
    build_file("kernel.json", 0, &prog);
    expect_pass(&prog, probe_kernel);
    reef_seccomp_prog_free(&prog);

    struct utsname u;
    unsigned major, minor;
    CHECK(uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2);
    CHECK(minor < 255);
    char json[4096];
    snprintf(json, sizeof(json),
             "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
             "{\"names\": [" BASE "], \"action\": \"SCMP_ACT_ALLOW\"},"
             "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ALLOW\","
             " \"includes\": {\"minKernel\": \"%u.%u\"}},"
             "{\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ALLOW\","
             " \"includes\": {\"minKernel\": \"%u.%u\"}},"
             "{\"names\": [\"getgid\"], \"action\": \"SCMP_ACT_ALLOW\","
             " \"excludes\": {\"minKernel\": \"%u.%u\"}}]}",
             major, minor, major, minor + 1, major, minor);
    build_text(json, 0, &prog);
    expect_pass(&prog, probe_kernel_exact);
    reef_seccomp_prog_free(&prog);
}

/* Forms moby accepts */

static void probe_forms(void)
{
    EXPECT_OK(syscall(SYS_getppid));
    EXPECT_OK(syscall(SYS_getuid));
    EXPECT_ERRNO(syscall(SYS_getgid), EPERM);
}

static void test_forms(void)
{
    need_root();
    /* Keys in any case (Go's encoding/json), the legacy name, null fields as absent, unknown keys
     * and unknown system call names ignored, rules repeating the default action dropped. */
    const char *json =
        "{\"DEFAULTACTION\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": null, \"comment\": [1],"
        " \"architectures\": null, \"Syscalls\": ["
        "{\"names\": [" BASE "], \"action\": \"SCMP_ACT_ALLOW\", \"args\": null,"
        " \"includes\": null},"
        "{\"name\": \"getppid\", \"action\": \"SCMP_ACT_ALLOW\", \"names\": []},"
        "{\"Names\": [\"getuid\", \"no_such_call\", \"\\u0067etpid\", \"x\\u0000\"],"
        " \"Action\": \"SCMP_ACT_ALLOW\"},"
        "{\"names\": [\"getgid\"], \"action\": \"SCMP_ACT_ERRNO\"},"
        "{\"names\": [\"a_name_far_too_long_to_be_any_system_call_that_linux_has_ever_had\"],"
        " \"action\": \"SCMP_ACT_ALLOW\"}]}";
    struct reef_seccomp_prog prog;
    build_text(json, 0, &prog);
    expect_pass(&prog, probe_forms);
    reef_seccomp_prog_free(&prog);

    /* Everything allowed: a valid, if pointless, filter. */
    build_text("{\"defaultAction\": \"SCMP_ACT_ALLOW\"}", 0, &prog);
    reef_seccomp_prog_free(&prog);
}

/* Errors */

static void expect_error(const char *json, int code, const char *msg)
{
    struct reef_seccomp_prog prog = {(void *)1, 7};
    struct reef_err err = {0};
    int r = reef_seccomp_build_profile(json, strlen(json), reef_caps_default(), &prog, &err);
    if (r != code || strcmp(err.msg, msg) != 0)
        TEST_FAIL("profile %s:\n    got %d \"%s\"\n    wanted %d \"%s\"", json, r, err.msg, code,
                  msg);
    CHECK(prog.filter == NULL && prog.len == 0);
}

#define DEF "\"defaultAction\": \"SCMP_ACT_ERRNO\""
#define ALLOW_READ "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}"

static void test_errors(void)
{
    static const struct {
        const char *json;
        const char *msg;
    } cases[] = {
        {"[]", "seccomp profile: expected an object, found array []"},
        {"{}", "seccomp profile: defaultAction: missing"},
        {"{\"defaultAction\": \"SCMP_ACT_FOO\"}",
         "seccomp profile: defaultAction: unknown action \"SCMP_ACT_FOO\""},
        {"{\"defaultAction\": 1}",
         "seccomp profile: defaultAction: expected a string, found number 1"},
        {"{" DEF ", \"defaultErrnoRet\": 5000}",
         "seccomp profile: defaultErrnoRet: expected an integer from 0 to 4095, found 5000"},
        {"{" DEF ", \"defaultErrnoRet\": \"1\"}",
         "seccomp profile: defaultErrnoRet: expected a number, found string \"1\""},
        {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
         "seccomp profile: defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one"},
        {"{" DEF ", \"syscalls\": {}}",
         "seccomp profile: syscalls: expected an array, found object {}"},
        {"{" DEF ", \"syscalls\": [" ALLOW_READ ", 7]}",
         "seccomp profile: syscalls[1]: expected an object, found number 7"},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"]}]}",
         "seccomp profile: syscalls[0].action: missing"},
        {"{" DEF ", \"syscalls\": [" ALLOW_READ ", {\"action\": \"SCMP_ACT_ALLOW\"}]}",
         "seccomp profile: syscalls[1].names: missing"},
        {"{" DEF ", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}]}",
         "seccomp profile: syscalls[0].names: empty"},
        {"{" DEF ", \"syscalls\": [{\"name\": \"read\", \"names\": [\"write\"],"
         " \"action\": \"SCMP_ACT_ALLOW\"}]}",
         "seccomp profile: syscalls[0]: use either name or names, not both"},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\", 3], \"action\": \"SCMP_ACT_ALLOW\"}]}",
         "seccomp profile: syscalls[0].names[1]: expected a string, found number 3"},
        {"{" DEF ", \"syscalls\": [{\"names\": \"read\", \"action\": \"SCMP_ACT_ALLOW\"}]}",
         "seccomp profile: syscalls[0].names: expected an array, found string \"read\""},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"errnoRet\": 1}]}",
         "seccomp profile: syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take "
         "one"},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
         "seccomp profile: syscalls[0].action: SCMP_ACT_NOTIFY is not supported"},
        {"{" DEF ", \"syscalls\": [" ALLOW_READ ", " ALLOW_READ ", " ALLOW_READ ","
         " {\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_FOO\"}]}]}",
         "seccomp profile: syscalls[3].args[0].op: unknown operator \"SCMP_CMP_FOO\""},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
         "seccomp profile: syscalls[0].args[0].index: expected an integer from 0 to 5, found 6"},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"args\": [{\"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
         "seccomp profile: syscalls[0].args[0].value: expected an integer from 0 to "
         "18446744073709551615, found -1"},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"args\": [{\"index\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
         "seccomp profile: syscalls[0].args[0].value: missing"},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"args\": [{\"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}]}",
         "seccomp profile: syscalls[0].args[0].index: missing"},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"args\": [{\"index\": 1, \"value\": 0}]}]}",
         "seccomp profile: syscalls[0].args[0].op: missing"},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"args\": [0,0,0,0,0,0,0]}]}",
         "seccomp profile: syscalls[0].args: more than 6 entries"},
        {"{" DEF ", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_VAX\"]}",
         "seccomp profile: architectures[1]: unknown architecture \"SCMP_ARCH_VAX\""},
        {"{" DEF ", \"architectures\": [\"SCMP_ARCH_X86\"], \"archMap\": [{\"architecture\":"
         " \"SCMP_ARCH_X86_64\"}]}",
         "seccomp profile: use either architectures or archMap, not both"},
        {"{" DEF ", \"archMap\": [{\"subArchitectures\": []}]}",
         "seccomp profile: archMap[0].architecture: missing"},
        {"{" DEF ", \"archMap\": [{\"architecture\": \"SCMP_ARCH_ARM\", \"subArchitectures\":"
         " [\"SCMP_ARCH_X86\", \"arm\"]}]}",
         "seccomp profile: archMap[0].subArchitectures[1]: unknown architecture \"arm\""},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_FLY\"]}}]}",
         "seccomp profile: syscalls[0].includes.caps[1]: unknown capability \"CAP_FLY\""},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"excludes\": {\"arches\": [\"vax\"]}}]}",
         "seccomp profile: syscalls[0].excludes.arches[0]: unknown architecture \"vax\""},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"includes\": []}]}",
         "seccomp profile: syscalls[0].includes: expected an object, found array []"},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"includes\": {\"minKernel\": \"4\"}}]}",
         "seccomp profile: syscalls[0].includes.minKernel: invalid kernel version \"4\", "
         "expected \"<major>.<minor>\""},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"excludes\": {\"minKernel\": \"4.8.1\"}}]}",
         "seccomp profile: syscalls[0].excludes.minKernel: invalid kernel version \"4.8.1\", "
         "expected \"<major>.<minor>\""},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"excludes\": {\"minKernel\": \"0.0\"}}]}",
         "seccomp profile: syscalls[0].excludes.minKernel: invalid kernel version \"0.0\", "
         "expected \"<major>.<minor>\""},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"excludes\": {\"minKernel\": \"256.1\"}}]}",
         "seccomp profile: syscalls[0].excludes.minKernel: invalid kernel version \"256.1\", "
         "expected \"<major>.<minor>\""},
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"excludes\": {\"minKernel\": 4.8}}]}",
         "seccomp profile: syscalls[0].excludes.minKernel: expected a string, found number 4.8"},
        {"{" DEF ", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"]}",
         "seccomp profile: flags[0]: filter flag \"SECCOMP_FILTER_FLAG_LOG\" is not supported"},
        {"{" DEF ", \"listenerPath\": \"/run/agent.sock\"}",
         "seccomp profile: listenerPath: seccomp agents are not supported"},
        /* libseccomp mixes no byte orders (every host reef runs on is little-endian). */
        {"{" DEF ", \"architectures\": [\"SCMP_ARCH_S390X\"]}",
         "seccomp profile: architecture SCMP_ARCH_S390X cannot join a filter for this machine: "
         "Numerical argument out of domain"},
        /* The same rule with two actions: libseccomp refuses, the entry is named. */
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\","
         " \"args\": [{\"index\": 0, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]},"
         " {\"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\","
         " \"args\": [{\"index\": 0, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]}]}",
         "seccomp profile: syscalls[1]: rule for \"read\": File exists"},
        /* Checked even where a filter drops the entry. */
        {"{" DEF ", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_BOGUS\","
         " \"includes\": {\"caps\": [\"CAP_SYS_MODULE\"], \"arches\": [\"ppc64le\"],"
         " \"minKernel\": \"255.0\"}}]}",
         "seccomp profile: syscalls[0].action: unknown action \"SCMP_ACT_BOGUS\""},
        /* Long values are cut in messages. */
        {"{\"defaultAction\": \"SCMP_ACT_0123456789012345678901234567890123456789"
         "0123456789012345678901234567890123456789\"}",
         "seccomp profile: defaultAction: unknown action \"SCMP_ACT_012345678901234567890123456"
         "78901234567890123456789..."},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        int code = strstr(cases[i].msg, "more than")       ? -E2BIG
                   : strstr(cases[i].msg, "File exists")   ? -EEXIST
                   : strstr(cases[i].msg, "out of domain") ? -EDOM
                                                           : -EINVAL;
        expect_error(cases[i].json, code, cases[i].msg);
    }

    /* Not JSON at all: the reader's message, with context. */
    struct reef_seccomp_prog prog;
    struct reef_err err = {0};
    CHECK_INT(reef_seccomp_build_profile("{\"defaultAction\": }", 19, 0, &prog, &err), ==, -EINVAL);
    CHECK(strncmp(err.msg, "seccomp profile: json: line 1, column 19 (byte 18)", 50) == 0);
    CHECK_INT(reef_seccomp_build_profile("", 0, 0, &prog, &err), ==, -EINVAL);
    CHECK(strncmp(err.msg, "seccomp profile: json: ", 23) == 0);
    CHECK_INT(reef_seccomp_build_profile("{}", 2, 0, &prog, NULL), ==, -EINVAL);
}

/* Bounds */

static void test_bounds(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_seccomp_prog prog;
    struct reef_err err = {0};

    /* Too many entries. */
    CHECK(reef_buf_puts(&b, "{" DEF ", \"syscalls\": [") == 0);
    for (int i = 0; i <= REEF_SECCOMP_PROFILE_MAX_ENTRIES; i++)
        CHECK(reef_buf_puts(&b, i ? ", " ALLOW_READ : ALLOW_READ) == 0);
    CHECK(reef_buf_puts(&b, "]}") == 0);
    CHECK_INT(reef_seccomp_build_profile(b.data, b.len, 0, &prog, &err), ==, -E2BIG);
    CHECK_STR(err.msg, "seccomp profile: syscalls: more than 1024 entries");

    /* Too many names over all entries. */
    reef_buf_reset(&b);
    CHECK(reef_buf_puts(&b, "{" DEF ", \"syscalls\": [") == 0);
    for (int i = 0; i < 5; i++) {
        CHECK(reef_buf_puts(&b, i ? ", {\"names\": [" : "{\"names\": [") == 0);
        for (int k = 0; k < 1000; k++)
            CHECK(reef_buf_puts(&b, k ? ", \"read\"" : "\"read\"") == 0);
        CHECK(reef_buf_puts(&b, "], \"action\": \"SCMP_ACT_ALLOW\"}") == 0);
    }
    CHECK(reef_buf_puts(&b, "]}") == 0);
    CHECK_INT(reef_seccomp_build_profile(b.data, b.len, 0, &prog, &err), ==, -E2BIG);
    CHECK_STR(err.msg, "seccomp profile: syscalls[4].names: more than 4096 system call names in "
                       "the profile");

    /* Too big to read at all. */
    CHECK_INT(
        reef_seccomp_build_profile(b.data, REEF_SECCOMP_PROFILE_MAX_BYTES + 1, 0, &prog, &err), ==,
        -E2BIG);
    CHECK_STR(err.msg, "seccomp profile: larger than 1048576 bytes");

    /* Nesting deeper than any profile needs. */
    CHECK_INT(reef_seccomp_build_profile("[[[[[[[[[[[[]]]]]]]]]]]]", 24, 0, &prog, &err), ==,
              -E2BIG);

    /* Many conditional rules on three ABIs: refused before libseccomp's compiler, whose time
     * grows steeply with them, is given the lot. */
    reef_buf_reset(&b);
    CHECK(reef_buf_puts(&b, "{" DEF ", \"architectures\": [\"SCMP_ARCH_X86_64\", "
                            "\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], \"syscalls\": [") == 0);
    static const char *const names[] = {
        "read",     "write",   "openat",   "close", "mmap",   "getpid", "getuid", "getgid",
        "dup",      "dup2",    "pipe",     "ioctl", "lseek",  "fstat",  "brk",    "munmap",
        "mprotect", "pread64", "pwrite64", "readv", "writev", "access"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(names); i++)
        for (int v = 0; v < 40; v++) {
            char rule[256];
            snprintf(rule, sizeof(rule),
                     "%s{\"names\": [\"%s\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
                     "{\"index\": 0, \"value\": %d, \"op\": \"SCMP_CMP_EQ\"},"
                     "{\"index\": 1, \"value\": %d, \"op\": \"SCMP_CMP_GT\"}]}",
                     i || v ? ", " : "", names[i], v, (int)i * 1000 + v);
            CHECK(reef_buf_puts(&b, rule) == 0);
        }
    CHECK(reef_buf_puts(&b, "]}") == 0);
    CHECK_INT(reef_seccomp_build_profile(b.data, b.len, 0, &prog, &err), ==, -E2BIG);
    CHECK_STR(err.msg, "seccomp profile: syscalls[105]: argument conditions would take more "
                       "than 4096 instructions");
    reef_buf_free(&b);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_allowlist);
    TEST_RUN(test_errno_ret);
    TEST_RUN(test_actions);
    TEST_RUN(test_args);
    TEST_RUN(test_caps);
    TEST_RUN(test_arches);
    TEST_RUN(test_arch_map);
    TEST_RUN(test_min_kernel);
    TEST_RUN(test_forms);
    TEST_RUN(test_errors);
    TEST_RUN(test_bounds);
    return test_done();
}
