/* Unit tests for runtime/logfile: Docker json-file lines, partial lines, rotation. */
#include <sys/stat.h>

#include "runtime/logfile.h"
#include "tests/unit/test.h"

static char dir[] = "/tmp/reef-log-XXXXXX";
static char path[300];
static pid_t owner;

static void cleanup(void)
{
    if (getpid() == owner) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cleanup failed\n");
    }
}

static void setup(void)
{
    CHECK(mkdtemp(dir));
    owner = getpid();
    atexit(cleanup);
    snprintf(path, sizeof(path), "%s/ctr.log", dir);
}

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_lines(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_logfile *lf;
    CHECK_OK(reef_logfile_open(path, 0, 0, &lf, &err), &err);
    struct timespec t = {1764338485, 123456789};
    CHECK_OK(reef_logfile_write(lf, REEF_LOG_STDOUT, "hello\nwor", 9, &t, &err), &err);
    struct timespec t2 = {1764338486, 5};
    CHECK_OK(reef_logfile_write(lf, REEF_LOG_STDERR, "oops \"x\"\t\n", 10, &t2, &err), &err);
    CHECK_OK(reef_logfile_write(lf, REEF_LOG_STDOUT, "ld\n", 3, &t2, &err), &err);
    CHECK_OK(reef_logfile_write(lf, REEF_LOG_STDOUT, "no newline", 10, &t2, &err), &err);
    reef_logfile_close(lf);
    CHECK_STR(slurp(path),
              "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2025-11-28T14:01:25.123456789Z\"}\n"
              "{\"log\":\"oops \\\"x\\\"\\t\\n\",\"stream\":\"stderr\",\"time\":\"2025-11-28T14:01:26.000000005Z\"}\n"
              /* the held tail keeps the time its first byte arrived */
              "{\"log\":\"world\\n\",\"stream\":\"stdout\",\"time\":\"2025-11-28T14:01:25.123456789Z\"}\n"
              "{\"log\":\"no newline\",\"stream\":\"stdout\",\"time\":\"2025-11-28T14:01:26.000000005Z\"}\n");
}

static void test_long_lines_split(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_logfile *lf;
    CHECK_OK(reef_logfile_open(path, 0, 0, &lf, &err), &err);
    size_t n = REEF_LOG_LINE_MAX * 2 + 100;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\n';
    CHECK_OK(reef_logfile_write(lf, REEF_LOG_STDOUT, big, 5000, NULL, &err), &err);
    CHECK_OK(reef_logfile_write(lf, REEF_LOG_STDOUT, big + 5000, n + 1 - 5000, NULL, &err), &err);
    reef_logfile_close(lf);
    free(big);
    char *s = slurp(path);
    int lines = 0, newlines_in_log = 0;
    for (char *p = s; (p = strchr(p, '\n')); p++)
        lines++;
    for (char *p = s; (p = strstr(p, "\\n\",")); p++)
        newlines_in_log++;
    CHECK_INT(lines, ==, 3); /* 16K + 16K partial pieces, then the 100-byte end */
    CHECK_INT(newlines_in_log, ==, 1);
}

static void test_rotation(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_logfile *lf;
    CHECK_OK(reef_logfile_open(path, 1000, 3, &lf, &err), &err);
    char line[64];
    for (int i = 0; i < 100; i++) {
        int k = snprintf(line, sizeof(line), "line %03d\n", i);
        CHECK_OK(reef_logfile_write(lf, REEF_LOG_STDOUT, line, (size_t)k, NULL, &err), &err);
    }
    reef_logfile_close(lf);
    struct stat st;
    char p[400];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), i ? "%s.%d" : "%s", path, i);
        CHECK(stat(p, &st) == 0);
        CHECK(st.st_size <= 1000);
    }
    snprintf(p, sizeof(p), "%s.3", path);
    CHECK(stat(p, &st) < 0);
    /* the newest lines are in the current file, the oldest kept in .2 */
    CHECK(strstr(slurp(path), "line 099"));
    snprintf(p, sizeof(p), "%s.1", path);
    char *one = slurp(p);
    CHECK(one && !strstr(one, "line 099"));
    /* reopening appends */
    CHECK_OK(reef_logfile_open(path, 1000, 3, &lf, &err), &err);
    CHECK_OK(reef_logfile_write(lf, REEF_LOG_STDERR, "again\n", 6, NULL, &err), &err);
    reef_logfile_close(lf);
    CHECK(strstr(slurp(path), "again"));
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_lines);
    TEST_RUN(test_long_lines_split);
    TEST_RUN(test_rotation);
    return test_done();
}
