/* Unit tests for core/err, core/buf, core/arena and core/log. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/cleanup.h"
#include "core/err.h"
#include "core/log.h"
#include "tests/unit/test.h"

static void test_err_set_wrap(void)
{
    struct reef_err err = {0};
    CHECK_INT(reef_err_set(&err, -ENOENT, "manifest %s", "busybox"), ==, -ENOENT);
    CHECK_STR(err.msg, "manifest busybox");
    CHECK_INT(reef_err_wrap(&err, "pull %s", "busybox"), ==, -ENOENT);
    CHECK_STR(err.msg, "pull busybox: manifest busybox");
    reef_err_errno(&err, -EACCES, "open %s", "/x");
    CHECK_STR(err.msg, "open /x: Permission denied");
    CHECK_INT(err.code, ==, -EACCES);
    reef_err_clear(&err);
    CHECK_INT(err.code, ==, 0);
    CHECK_STR(err.msg, "");
    /* A NULL err is allowed everywhere. */
    CHECK_INT(reef_err_set(NULL, -EINVAL, "x"), ==, -EINVAL);
}

static void test_err_truncation(void)
{
    struct reef_err err = {0};
    char big[600];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    reef_err_set(&err, -EINVAL, "%s", big);
    CHECK_INT(strlen(err.msg), ==, REEF_ERR_MSG_MAX - 1);
    CHECK(reef_str_has_suffix(err.msg, "..."));
    reef_err_wrap(&err, "context");
    CHECK(reef_str_has_prefix(err.msg, "context: aaa"));
    CHECK_INT(strlen(err.msg), ==, REEF_ERR_MSG_MAX - 1);
}

static void test_buf_basic(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_buf_puts(&b, "hello"), ==, 0);
    CHECK_INT(reef_buf_putc(&b, ' '), ==, 0);
    CHECK_INT(reef_buf_printf(&b, "%s %d", "world", 42), ==, 0);
    CHECK_STR(b.data, "hello world 42");
    CHECK_INT(b.len, ==, 14);
    reef_buf_consume(&b, 6);
    CHECK_STR(b.data, "world 42");
    reef_buf_reset(&b);
    CHECK_INT(b.len, ==, 0);
    CHECK_STR(b.data, "");
    /* A long printf goes past the small stack buffer. */
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[999] = '\0';
    CHECK_INT(reef_buf_printf(&b, "<%s>", big), ==, 0);
    CHECK_INT(b.len, ==, 1001);
    CHECK(b.data[0] == '<' && b.data[1000] == '>' && b.data[1001] == '\0');
    char *s = reef_buf_steal(&b);
    CHECK(s && strlen(s) == 1001);
    CHECK(b.data == NULL && b.len == 0);
    free(s);
    s = reef_buf_steal(&b); /* empty buffer: an empty string, not NULL */
    CHECK_STR(s, "");
    free(s);
}

static void test_buf_binary_and_growth(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    for (int i = 0; i < 100000; i++) {
        char c = (char)(i & 0xff);
        CHECK_INT(reef_buf_append(&b, &c, 1), ==, 0);
    }
    CHECK_INT(b.len, ==, 100000);
    for (int i = 0; i < 100000; i++)
        CHECK_INT((unsigned char)b.data[i], ==, i & 0xff);
    CHECK_INT(reef_buf_reserve(&b, SIZE_MAX), ==, -ENOMEM);
    reef_buf_free(&b);
}

static void test_buf_json_str(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    const char in[] = "a\"b\\c\n\r\t\b\f\x01\x1f\x7f<>&\xc3\xa9";
    CHECK_INT(reef_buf_json_str(&b, in, sizeof(in) - 1), ==, 0);
    CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f<>&\xc3\xa9\"");
    reef_buf_reset(&b);
    CHECK_INT(reef_buf_json_str(&b, "a\0b", 3), ==, 0);
    CHECK_STR(b.data, "\"a\\u0000b\"");
    reef_buf_reset(&b);
    CHECK_INT(reef_buf_json_str(&b, "", 0), ==, 0);
    CHECK_STR(b.data, "\"\"");
    reef_buf_free(&b);
}

static void test_str_helpers(void)
{
    CHECK(reef_str_has_prefix("/api/v1", "/api"));
    CHECK(!reef_str_has_prefix("/ap", "/api"));
    CHECK(reef_str_has_suffix("x.yaml", ".yaml"));
    CHECK(!reef_str_has_suffix("yaml", ".yaml"));
    char small[4];
    CHECK_INT(reef_strlcpy(small, "abcdef", sizeof(small)), ==, 6);
    CHECK_STR(small, "abc");
    long long v;
    CHECK_INT(reef_str_to_ll("42", 0, 100, &v), ==, 0);
    CHECK_INT(v, ==, 42);
    CHECK_INT(reef_str_to_ll("-5", 0, 100, &v), ==, -ERANGE);
    CHECK_INT(reef_str_to_ll("4x", 0, 100, &v), ==, -EINVAL);
    CHECK_INT(reef_str_to_ll("", 0, 100, &v), ==, -EINVAL);
    CHECK_INT(reef_str_to_ll(" 4", 0, 100, &v), ==, -EINVAL);
    CHECK_INT(reef_str_to_ll("99999999999999999999", 0, LLONG_MAX, &v), ==, -ERANGE);
}

static void test_str_to_bytes(void)
{
    static const struct {
        const char *in;
        int rc;
        unsigned long long want;
    } cases[] = {
        {"100", 0, 100},          {"64m", 0, 64ull << 20}, {"64M", 0, 64ull << 20},
        {"1g", 0, 1ull << 30},    {"512k", 0, 512 << 10},  {"1.5G", 0, 3ull << 29},
        {"128Mi", 0, 128ull << 20}, {"2Gi", 0, 2ull << 30}, {"16mb", 0, 16ull << 20},
        {"", -EINVAL, 0},         {"m", -EINVAL, 0},       {"-1m", -EINVAL, 0},
        {"10q", -EINVAL, 0},      {"1.5", -EINVAL, 0},     {"99999999999t", -ERANGE, 0},
        {"nan", -EINVAL, 0},      {"inf", -EINVAL, 0},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        unsigned long long got = 0;
        int rc = reef_str_to_bytes(cases[i].in, &got);
        if (rc != cases[i].rc || (rc == 0 && got != cases[i].want))
            TEST_FAIL("\"%s\": rc %d got %llu, want rc %d %llu", cases[i].in, rc, got,
                      cases[i].rc, cases[i].want);
    }
}

static void test_arena(void)
{
    struct reef_arena *a = reef_arena_new(0);
    CHECK(a);
    char *prev = NULL;
    for (int i = 0; i < 10000; i++) {
        char *p = reef_arena_alloc(a, 1 + (size_t)(i % 100));
        CHECK(p);
        CHECK_INT((uintptr_t)p % 16, ==, 0);
        memset(p, 0xab, 1 + (size_t)(i % 100));
        CHECK(p != prev);
        prev = p;
    }
    char *big = reef_arena_alloc(a, 1 << 20);
    CHECK(big);
    memset(big, 1, 1 << 20);
    CHECK_STR(reef_arena_strdup(a, "hello"), "hello");
    CHECK_STR(reef_arena_strndup(a, "hello", 3), "hel");
    int *z = reef_arena_calloc(a, 100, sizeof(int));
    for (int i = 0; i < 100; i++)
        CHECK_INT(z[i], ==, 0);
    CHECK(reef_arena_calloc(a, SIZE_MAX / 2, 4) == NULL);
    reef_arena_reset(a);
    CHECK_INT(reef_arena_used(a), ==, 0);
    CHECK(reef_arena_alloc(a, 10));
    reef_arena_free(a);
}

static void test_arena_limit(void)
{
    struct reef_arena *a = reef_arena_new(1000);
    CHECK(reef_arena_alloc(a, 500));
    CHECK(reef_arena_alloc(a, 400));
    CHECK(reef_arena_alloc(a, 200) == NULL); /* would pass the limit */
    CHECK(reef_arena_alloc(a, SIZE_MAX) == NULL);
    CHECK(reef_arena_alloc(a, 16));
    reef_arena_free(a);
}

static void test_cleanup_steal(void)
{
    char *kept;
    {
        _cleanup_free_ char *p = strdup("x");
        kept = REEF_STEAL(p);
        CHECK(p == NULL);
    }
    CHECK_STR(kept, "x");
    free(kept);
    int fd;
    {
        _cleanup_close_ int f = open("/dev/null", O_RDONLY);
        fd = f;
    }
    CHECK_INT(fcntl(fd, F_GETFD), ==, -1); /* closed on scope exit */
}

static void test_log_levels(void)
{
    reef_log_init(REEF_LOG_WARN, "http,raft");
    CHECK(reef_log_enabled(REEF_LOG_ERROR, "x"));
    CHECK(reef_log_enabled(REEF_LOG_WARN, "x"));
    CHECK(!reef_log_enabled(REEF_LOG_INFO, "x"));
    CHECK(reef_log_enabled(REEF_LOG_DEBUG, "http"));
    CHECK(reef_log_enabled(REEF_LOG_DEBUG, "raft"));
    CHECK(!reef_log_enabled(REEF_LOG_DEBUG, "htt"));
    CHECK(!reef_log_enabled(REEF_LOG_DEBUG, "net"));
    reef_log_init(REEF_LOG_INFO, "all");
    CHECK(reef_log_enabled(REEF_LOG_DEBUG, "net"));
    enum reef_log_level l;
    CHECK_INT(reef_log_parse_level("debug", &l), ==, 0);
    CHECK_INT(l, ==, REEF_LOG_DEBUG);
    CHECK_INT(reef_log_parse_level("loud", &l), ==, -EINVAL);
}

static void test_log_format(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    reef_log_init(REEF_LOG_INFO, "");
    LOG_INFO("http", "listening addr=%s port=%d", "127.0.0.1", 6443);
    LOG_DEBUG("http", "not shown %d", 1);
    dup2(saved, STDERR_FILENO);
    close(fds[1]);
    char line[512] = {0};
    ssize_t n = read(fds[0], line, sizeof(line) - 1);
    CHECK(n > 0);
    /* 2026-11-28T14:01:25.123Z INFO  http: listening addr=127.0.0.1 port=6443 */
    CHECK_INT(line[4], ==, '-');
    CHECK_INT(line[10], ==, 'T');
    CHECK_INT(line[23], ==, 'Z');
    CHECK(strstr(line, " INFO  http: listening addr=127.0.0.1 port=6443\n"));
    CHECK(!strstr(line, "not shown"));
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_err_set_wrap);
    TEST_RUN(test_err_truncation);
    TEST_RUN(test_buf_basic);
    TEST_RUN(test_buf_binary_and_growth);
    TEST_RUN(test_buf_json_str);
    TEST_RUN(test_str_helpers);
    TEST_RUN(test_str_to_bytes);
    TEST_RUN(test_arena);
    TEST_RUN(test_arena_limit);
    TEST_RUN(test_cleanup_steal);
    TEST_RUN(test_log_levels);
    TEST_RUN(test_log_format);
    return test_done();
}
