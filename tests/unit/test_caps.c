/* Unit tests for runtime/caps: names, Docker's add/drop rules, and applying a set for real. */
#include <linux/capability.h>
#include <sys/prctl.h>

#include "runtime/caps.h"
#include "tests/unit/test.h"

static void test_names(void)
{
    CHECK_INT(reef_caps_from_name("NET_ADMIN"), ==, CAP_NET_ADMIN);
    CHECK_INT(reef_caps_from_name("CAP_NET_ADMIN"), ==, CAP_NET_ADMIN);
    CHECK_INT(reef_caps_from_name("net_admin"), ==, CAP_NET_ADMIN);
    CHECK_INT(reef_caps_from_name("cap_chown"), ==, CAP_CHOWN);
    CHECK_INT(reef_caps_from_name("CHECKPOINT_RESTORE"), ==, 40);
    CHECK_INT(reef_caps_from_name("NET_ADMINX"), ==, -EINVAL);
    CHECK_INT(reef_caps_from_name(""), ==, -EINVAL);
    CHECK_STR(reef_caps_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
    CHECK(reef_caps_name(63) == NULL);
    for (int c = 0; c <= 40; c++)
        CHECK_INT(reef_caps_from_name(reef_caps_name(c)), ==, c);
}

static void test_default_set(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_OK(reef_caps_format(reef_caps_default(), &b), &(struct reef_err){0});
    CHECK_STR(b.data, "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,"
                      "CAP_SETUID,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_NET_RAW,CAP_SYS_CHROOT,"
                      "CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP");
    reef_buf_reset(&b);
    CHECK_INT(reef_caps_format(0, &b), ==, 0);
    CHECK_STR(b.data, "");
    reef_buf_free(&b);
}

static void test_adjust(void)
{
    struct reef_err err = {0};
    uint64_t d = reef_caps_default(), out;
    const char *add1[] = {"NET_ADMIN"}, *drop1[] = {"CHOWN"};
    CHECK_OK(reef_caps_adjust(d, add1, 1, drop1, 1, &out, &err), &err);
    CHECK(out & REEF_CAP_BIT(CAP_NET_ADMIN));
    CHECK(!(out & REEF_CAP_BIT(CAP_CHOWN)));
    CHECK_INT(out & ~(REEF_CAP_BIT(CAP_NET_ADMIN) | REEF_CAP_BIT(CAP_CHOWN)), ==,
              d & ~REEF_CAP_BIT(CAP_CHOWN));
    /* drop ALL, then add */
    const char *dropall[] = {"all"}, *add2[] = {"NET_BIND_SERVICE", "KILL"};
    CHECK_OK(reef_caps_adjust(d, add2, 2, dropall, 1, &out, &err), &err);
    CHECK_INT(out, ==, REEF_CAP_BIT(CAP_NET_BIND_SERVICE) | REEF_CAP_BIT(CAP_KILL));
    /* add ALL, then drop */
    const char *addall[] = {"ALL"}, *drop2[] = {"SYS_ADMIN"};
    CHECK_OK(reef_caps_adjust(d, addall, 1, drop2, 1, &out, &err), &err);
    CHECK_INT(out, ==, reef_caps_all() & ~REEF_CAP_BIT(CAP_SYS_ADMIN));
    /* both added and dropped: dropped */
    const char *both[] = {"SYS_TIME"};
    CHECK_OK(reef_caps_adjust(d, both, 1, both, 1, &out, &err), &err);
    CHECK(!(out & REEF_CAP_BIT(CAP_SYS_TIME)));
    /* unknown names are named */
    const char *bad[] = {"NET_ADMIN", "WARP_DRIVE"};
    CHECK_INT(reef_caps_adjust(d, bad, 2, NULL, 0, &out, &err), ==, -EINVAL);
    CHECK_STR(err.msg, "cap-add: unknown capability \"WARP_DRIVE\"");
    CHECK_INT(reef_caps_adjust(d, NULL, 0, bad + 1, 1, &out, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "cap-drop"));
}

static unsigned long long status_field(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f);
    char line[256];
    unsigned long long v = ~0ull;
    size_t n = strlen(name);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, name, n) == 0 && line[n] == ':')
            v = strtoull(line + n + 1, NULL, 16);
    fclose(f);
    CHECK(v != ~0ull);
    return v;
}

static void test_apply_root(void)
{
    if (geteuid() != 0)
        TEST_FAIL("needs root");
    uint64_t set = reef_caps_default();
    CHECK_INT(reef_caps_apply(set, true), ==, 0);
    CHECK_INT(status_field("CapEff"), ==, set);
    CHECK_INT(status_field("CapPrm"), ==, set);
    CHECK_INT(status_field("CapBnd"), ==, set);
    CHECK_INT(status_field("CapInh"), ==, 0);
    CHECK_INT(status_field("CapAmb"), ==, 0);
    /* The bounding set really lost SYS_ADMIN. */
    CHECK_INT(prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0), ==, 0);
    CHECK_INT(prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0), ==, 1);
}

static void test_apply_non_root(void)
{
    if (geteuid() != 0)
        TEST_FAIL("needs root");
    uint64_t set = reef_caps_default();
    CHECK_INT(reef_caps_apply(set, false), ==, 0);
    CHECK_INT(status_field("CapEff"), ==, 0);
    CHECK_INT(status_field("CapPrm"), ==, 0);
    CHECK_INT(status_field("CapBnd"), ==, set);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_names);
    TEST_RUN(test_default_set);
    TEST_RUN(test_adjust);
    TEST_RUN(test_apply_root);
    TEST_RUN(test_apply_non_root);
    return test_done();
}
