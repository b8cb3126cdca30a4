/* Unit tests for runtime/image_ref: Docker's reference grammar and normalisation. */
#include "runtime/image_ref.h"
#include "tests/unit/test.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_normalise(void)
{
    static const struct {
        const char *in, *canonical, *familiar;
    } cases[] = {
        {"busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        {"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"},
        {"library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest",
         "busybox:latest"},
        {"index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"},
        {"myorg/app", "docker.io/myorg/app:latest", "myorg/app:latest"},
        {"127.0.0.1:5000/app:v1", "127.0.0.1:5000/app:v1", "127.0.0.1:5000/app:v1"},
        {"localhost/app", "localhost/app:latest", "localhost/app:latest"},
        {"localhost:5000/a/b/c:1.0-rc_1", "localhost:5000/a/b/c:1.0-rc_1",
         "localhost:5000/a/b/c:1.0-rc_1"},
        {"ghcr.io/o/r@sha256:" D64, "ghcr.io/o/r@sha256:" D64, "ghcr.io/o/r@sha256:" D64},
        {"busybox@sha256:" D64, "docker.io/library/busybox@sha256:" D64,
         "busybox@sha256:" D64},
        {"busybox:1@sha256:" D64, "docker.io/library/busybox:1@sha256:" D64,
         "busybox:1@sha256:" D64},
        {"quay.io/a_b/c.d-e__f:tag", "quay.io/a_b/c.d-e__f:tag", "quay.io/a_b/c.d-e__f:tag"},
        {"a--b/c", "docker.io/a--b/c:latest", "a--b/c:latest"},
        {"[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest"},
        {"Registry.Example/app", "Registry.Example/app:latest", "Registry.Example/app:latest"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        struct reef_image_ref r;
        struct reef_err err = {0};
        if (reef_image_ref_parse(cases[i].in, &r, &err) != 0)
            TEST_FAIL("%s: %s", cases[i].in, err.msg);
        char buf[600];
        CHECK(reef_image_ref_format(&r, buf, sizeof(buf)) > 0);
        CHECK_STR(buf, cases[i].canonical);
        CHECK(reef_image_ref_familiar(&r, buf, sizeof(buf)) > 0);
        CHECK_STR(buf, cases[i].familiar);
        /* The canonical form parses back to itself. */
        struct reef_image_ref again;
        reef_image_ref_format(&r, buf, sizeof(buf));
        CHECK_OK(reef_image_ref_parse(buf, &again, &err), &err);
        CHECK(memcmp(&r, &again, sizeof(r)) == 0);
    }
}

static void test_parts_and_endpoint(void)
{
    struct reef_image_ref r;
    struct reef_err err = {0};
    CHECK_OK(reef_image_ref_parse("busybox", &r, &err), &err);
    CHECK_STR(r.domain, "docker.io");
    CHECK_STR(r.path, "library/busybox");
    CHECK_STR(r.tag, "latest");
    CHECK_STR(r.digest, "");
    CHECK_STR(reef_image_ref_endpoint(&r), "registry-1.docker.io");
    CHECK_OK(reef_image_ref_parse("127.0.0.1:5000/x@sha256:" D64, &r, &err), &err);
    CHECK_STR(r.tag, "");
    CHECK_STR(r.digest, "sha256:" D64);
    CHECK_STR(reef_image_ref_endpoint(&r), "127.0.0.1:5000");
}

static void test_rejects(void)
{
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"", "empty"},
        {"Busybox", "lowercase"},
        {"myorg/App", "lowercase"},
        {"busybox:", "bad tag"},
        {"busybox:-x", "bad tag"},
        {"busybox:a/b", "bad registry"},
        {"busybox@sha256:abc", "bad digest"},
        {"busybox@sha256:" D64 "0", "bad digest"},
        {"busybox@sha256:" D64 "@x", "more than one"},
        {"/busybox", "bad repository"},
        {"busybox/", "bad repository"},
        {"a//b", "bad repository"},
        {"-a", "bad repository"},
        {"a_", "bad repository"},
        {"a___b", "bad repository"},
        {"a..b", "bad repository"},
        {"exa_mple.com/app", "bad registry"},
        {"host:99999x/app", "bad registry"},
        {"host:/app", "bad registry"},
        {":tag", "no repository"},
        {"a b", "bad repository"},
        {"bad.-host/app", "bad registry"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        struct reef_image_ref r;
        struct reef_err err = {0};
        int rc = reef_image_ref_parse(cases[i].in, &r, &err);
        if (rc != -EINVAL)
            TEST_FAIL("\"%s\" accepted", cases[i].in);
        if (!strstr(err.msg, cases[i].why) || !strstr(err.msg, "invalid reference"))
            TEST_FAIL("\"%s\": message \"%s\" lacks \"%s\"", cases[i].in, err.msg, cases[i].why);
    }
    char longname[400];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    struct reef_image_ref r;
    struct reef_err err = {0};
    CHECK_INT(reef_image_ref_parse(longname, &r, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "255"));
}

static void test_format_too_small(void)
{
    struct reef_image_ref r;
    struct reef_err err = {0};
    CHECK_OK(reef_image_ref_parse("busybox", &r, &err), &err);
    char small[10];
    CHECK_INT(reef_image_ref_format(&r, small, sizeof(small)), ==, -ENAMETOOLONG);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_normalise);
    TEST_RUN(test_parts_and_endpoint);
    TEST_RUN(test_rejects);
    TEST_RUN(test_format_too_small);
    return test_done();
}
