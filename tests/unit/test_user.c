/* Unit tests for runtime/user: users and groups from the image's files, read inside its root. */
#include <fcntl.h>
#include <sys/stat.h>

#include "runtime/user.h"
#include "tests/unit/test.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# a comment\n"
                             "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
                             "broken line\n"
                             "app:x:1000:1001:App:/home/app:/bin/sh\n"
                             "nohome:x:1002:1002:::/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false";
static const char group[] = "root:x:0:\n"
                            "staff:x:50:app,other\n"
                            "app:x:1001:\n"
                            "audio:x:29:other,app\n"
                            "video:x:44:other\n"
                            "nogroup:x:65534:\n";

static void check_user(const char *spec, unsigned uid, unsigned gid, const char *home,
                       int ngroups)
{
    struct reef_user u;
    struct reef_err err = {0};
    if (reef_user_resolve_text(passwd, group, spec, &u, &err) != 0)
        TEST_FAIL("%s: %s", spec, err.msg);
    if (u.uid != uid || u.gid != gid || strcmp(u.home, home) != 0 || u.ngroups != ngroups)
        TEST_FAIL("%s: got uid %u gid %u home %s ngroups %d", spec, u.uid, u.gid, u.home,
                  u.ngroups);
}

static void test_resolve(void)
{
    check_user("", 0, 0, "/root", 0);
    check_user("root", 0, 0, "/root", 0);
    check_user("app", 1000, 1001, "/home/app", 2);
    check_user("1000", 1000, 1001, "/home/app", 2);
    check_user("app:staff", 1000, 50, "/home/app", 2);
    check_user("app:7", 1000, 7, "/home/app", 2);
    check_user("4242", 4242, 0, "/", 0); /* unknown uid: allowed, group 0 */
    check_user("4242:4242", 4242, 4242, "/", 0);
    check_user("nohome", 1002, 1002, "/", 0);
    check_user("nobody", 65534, 65534, "/nonexistent", 0);
    struct reef_user u;
    struct reef_err err = {0};
    CHECK_OK(reef_user_resolve_text(passwd, group, "app", &u, &err), &err);
    CHECK_INT(u.groups[0], ==, 50);
    CHECK_INT(u.groups[1], ==, 29);
    CHECK_STR(u.name, "app");
}

static void test_errors(void)
{
    struct reef_user u;
    struct reef_err err = {0};
    CHECK_INT(reef_user_resolve_text(passwd, group, "ghost", &u, &err), ==, -ENOENT);
    CHECK_STR(err.msg, "unable to find user ghost: no matching entries in passwd file");
    CHECK_INT(reef_user_resolve_text(passwd, group, "app:ghosts", &u, &err), ==, -ENOENT);
    CHECK_STR(err.msg, "unable to find group ghosts: no matching entries in group file");
    CHECK_INT(reef_user_resolve_text(passwd, group, "app:", &u, &err), ==, -EINVAL);
    /* No files at all: numeric ids still work, names do not. */
    CHECK_OK(reef_user_resolve_text(NULL, NULL, "1000:1000", &u, &err), &err);
    CHECK_INT(u.uid, ==, 1000);
    CHECK_INT(reef_user_resolve_text(NULL, NULL, "app", &u, &err), ==, -ENOENT);
    CHECK_OK(reef_user_resolve_text(NULL, NULL, "", &u, &err), &err);
    CHECK_INT(u.uid, ==, 0);
    CHECK_STR(u.home, "/");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs(text, f);
    fclose(f);
}

/* The image's /etc/passwd is a symlink to an absolute host path: it must resolve inside the
 * root, never to the host's file. */
static void test_symlink_stays_inside(void)
{
    char root[] = "/tmp/reef-user-XXXXXX";
    CHECK(mkdtemp(root));
    char p[512];
    snprintf(p, sizeof(p), "%s/etc", root);
    CHECK(mkdir(p, 0755) == 0);
    snprintf(p, sizeof(p), "%s/data", root);
    CHECK(mkdir(p, 0755) == 0);
    snprintf(p, sizeof(p), "%s/data/passwd", root);
    write_file(p, "inside:x:77:77::/in:/bin/sh\n");
    /* /etc/passwd -> /data/passwd (absolute: must mean <root>/data/passwd) */
    snprintf(p, sizeof(p), "%s/etc/passwd", root);
    CHECK(symlink("/data/passwd", p) == 0);
    /* /etc/group -> ../../../../etc/shadow (must not climb out: the image has none) */
    snprintf(p, sizeof(p), "%s/etc/group", root);
    CHECK(symlink("../../../../../../etc/shadow", p) == 0);
    int fd = open(root, O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    struct reef_user u;
    struct reef_err err = {0};
    CHECK_OK(reef_user_resolve(fd, "inside", &u, &err), &err);
    CHECK_INT(u.uid, ==, 77);
    /* root exists on the host's /etc/passwd but not in this image */
    CHECK_INT(reef_user_resolve(fd, "root", &u, &err), ==, -ENOENT);
    /* the host's groups are not visible either */
    CHECK_INT(reef_user_resolve(fd, "inside:root", &u, &err), ==, -ENOENT);
    close(fd);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    CHECK(system(cmd) == 0);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_resolve);
    TEST_RUN(test_errors);
    TEST_RUN(test_symlink_stays_inside);
    return test_done();
}
