/* test: the in-tree unit test runner.
 *
 * A test program lists its tests in main():
 *
 *     int main(int argc, char **argv) {
 *         TEST_RUN(test_roundtrip);
 *         TEST_RUN(test_bad_input);
 *         return test_done();
 *     }
 *
 * Each test runs in its own forked child (a crash or hang fails that test only; the timeout is
 * REEF_TEST_TIMEOUT seconds, default 60). Output: one `ok N - name` / `not ok N - name` /
 * `skip N - name: why` line per test, then `# N passed, N failed, N skipped` (tests/run sums
 * these over every program and prints the final line). A test skips with TEST_SKIP("why").
 * A single test is selected with `prog NAME`. Set REEF_TEST_NOFORK=1 to run in-process (gdb). */
#ifndef REEF_TEST_H
#define REEF_TEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_EXIT_SKIP 77

static int test__argc;
static char **test__argv;
static int test__n, test__passed, test__failed, test__skipped;
static char test__skip_why[256];

#define TEST_FAIL(...)                                                                            \
    do {                                                                                          \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                         \
        fprintf(stderr, __VA_ARGS__);                                                             \
        fputc('\n', stderr);                                                                      \
        exit(1);                                                                                  \
    } while (0)

#define TEST_SKIP(...)                                                                            \
    do {                                                                                          \
        fprintf(stdout, "# skip: ");                                                              \
        fprintf(stdout, __VA_ARGS__);                                                             \
        fputc('\n', stdout);                                                                      \
        fflush(stdout);                                                                           \
        exit(TEST_EXIT_SKIP);                                                                     \
    } while (0)

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond))                                                                              \
            TEST_FAIL("check failed: %s", #cond);                                                 \
    } while (0)

#define CHECK_INT(a, op, b)                                                                       \
    do {                                                                                          \
        long long test__a = (long long)(a), test__b = (long long)(b);                             \
        if (!(test__a op test__b))                                                                \
            TEST_FAIL("check failed: %s %s %s (%lld vs %lld)", #a, #op, #b, test__a, test__b);    \
    } while (0)

#define CHECK_STR(a, b)                                                                           \
    do {                                                                                          \
        const char *test__a = (a), *test__b = (b);                                                \
        if (!test__a || !test__b || strcmp(test__a, test__b) != 0)                                \
            TEST_FAIL("check failed: %s == %s (\"%s\" vs \"%s\")", #a, #b,                        \
                      test__a ? test__a : "(null)", test__b ? test__b : "(null)");                \
    } while (0)

/* Checks a call returning 0 on success, printing the reef_err message when it did not. */
#define CHECK_OK(call, errp)                                                                      \
    do {                                                                                          \
        int test__r = (call);                                                                     \
        if (test__r != 0)                                                                         \
            TEST_FAIL("%s returned %d: %s", #call, test__r, (errp)->msg);                         \
    } while (0)

static inline int test__selected(const char *name)
{
    if (test__argc < 2)
        return 1;
    for (int i = 1; i < test__argc; i++)
        if (strcmp(test__argv[i], name) == 0)
            return 1;
    return 0;
}

static inline void test__run(const char *name, void (*fn)(void))
{
    if (!test__selected(name))
        return;
    test__n++;
    fflush(stdout);
    fflush(stderr);
    int status;
    if (getenv("REEF_TEST_NOFORK")) {
        fn();
        status = 0;
    } else {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            exit(2);
        }
        if (pid == 0) {
            setpgid(0, 0);
            const char *t = getenv("REEF_TEST_TIMEOUT");
            alarm(t ? (unsigned)atoi(t) : 60);
            fn();
            fflush(stdout);
            exit(0);
        }
        while (waitpid(pid, &status, 0) < 0)
            ;
        kill(-pid, SIGKILL); /* anything the test left behind in its group */
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        test__passed++;
        printf("ok %d - %s\n", test__n, name);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_EXIT_SKIP) {
        test__skipped++;
        printf("skip %d - %s\n", test__n, name);
    } else {
        test__failed++;
        if (WIFSIGNALED(status))
            printf("not ok %d - %s (signal %d%s)\n", test__n, name, WTERMSIG(status),
                   WTERMSIG(status) == SIGALRM ? ": timed out" : "");
        else
            printf("not ok %d - %s\n", test__n, name);
    }
    fflush(stdout);
    (void)test__skip_why;
}

#define TEST_MAIN_INIT(argc, argv) (test__argc = (argc), test__argv = (argv))
#define TEST_RUN(fn) test__run(#fn, fn)

static inline int test_done(void)
{
    printf("# %d passed, %d failed, %d skipped\n", test__passed, test__failed, test__skipped);
    return test__failed ? 1 : 0;
}

#endif
