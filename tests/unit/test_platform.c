/* Unit tests for runtime/platform. */
#include "runtime/platform.h"
#include "tests/unit/test.h"

static struct reef_platform P(const char *s)
{
    struct reef_platform p;
    struct reef_err err = {0};
    if (reef_platform_parse(s, &p, &err) != 0)
        TEST_FAIL("%s: %s", s, err.msg);
    return p;
}

static void test_parse(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"linux/amd64", "linux/amd64"},     {"amd64", "linux/amd64"},
        {"x86_64", "linux/amd64"},          {"linux/arm64", "linux/arm64/v8"},
        {"aarch64", "linux/arm64/v8"},      {"linux/arm/v7", "linux/arm/v7"},
        {"armhf", "linux/arm/v7"},          {"linux/arm", "linux/arm/v7"},
        {"armel", "linux/arm/v6"},          {"LINUX/ARM64/V8", "linux/arm64/v8"},
        {"linux/riscv64", "linux/riscv64"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        struct reef_platform p = P(cases[i].in);
        char buf[96];
        reef_platform_format(&p, buf, sizeof(buf));
        CHECK_STR(buf, cases[i].out);
    }
    const char *bad[] = {"", "/", "linux/", "windows/amd64", "linux/amd64/v2/x", "a b", "linux//v7"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        struct reef_platform p;
        struct reef_err err = {0};
        if (reef_platform_parse(bad[i], &p, &err) != -EINVAL)
            TEST_FAIL("\"%s\" accepted", bad[i]);
        CHECK(strstr(err.msg, "invalid platform"));
    }
}

static void test_score(void)
{
    struct reef_platform host;
    reef_platform_host(&host);
    CHECK_STR(host.os, "linux");
    CHECK(reef_platform_score(&host, &host) > 0);
    struct reef_platform a = P("linux/amd64"), b = P("linux/arm64"), v7 = P("linux/arm/v7"),
                         v6 = P("linux/arm/v6"), v5 = P("linux/arm/v5"), v8 = P("linux/arm/v8");
    CHECK_INT(reef_platform_score(&a, &b), ==, 0);
    CHECK_INT(reef_platform_score(&b, &a), ==, 0);
    CHECK(reef_platform_score(&b, &b) > 0);
    /* arm/v7 host: v7 best, v6 and v5 usable, v8 not */
    CHECK(reef_platform_score(&v7, &v7) > reef_platform_score(&v7, &v6));
    CHECK(reef_platform_score(&v7, &v6) > reef_platform_score(&v7, &v5));
    CHECK(reef_platform_score(&v7, &v5) > 0);
    CHECK_INT(reef_platform_score(&v7, &v8), ==, 0);
    CHECK_INT(reef_platform_score(&v6, &v7), ==, 0);
    /* an image entry with no variant */
    struct reef_platform novar = {"linux", "arm64", ""};
    CHECK(reef_platform_score(&b, &novar) > 0);
    struct reef_platform amd_v3 = {"linux", "amd64", "v3"};
    CHECK_INT(reef_platform_score(&a, &amd_v3), ==, 0);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_parse);
    TEST_RUN(test_score);
    return test_done();
}
