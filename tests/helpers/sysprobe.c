/* sysprobe: makes one system call and reports how it went, for container tests:
 *   sysprobe keyctl|unshare|mount|caps
 * prints "ok" or the error name (e.g. "EPERM") and exits 0 / 1. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static int report(long r)
{
    if (r >= 0) {
        puts("ok");
        return 0;
    }
    const char *name = errno == EPERM    ? "EPERM"
                       : errno == EACCES ? "EACCES"
                       : errno == ENOSYS ? "ENOSYS"
                                         : strerror(errno);
    puts(name);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: sysprobe keyctl|unshare|mount\n", stderr);
        return 2;
    }
    if (strcmp(argv[1], "keyctl") == 0)
        return report(syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0, 0, 0));
    if (strcmp(argv[1], "unshare") == 0)
        return report(unshare(CLONE_NEWNS));
    if (strcmp(argv[1], "mount") == 0)
        return report(mount("none", "/tmp", "tmpfs", 0, NULL));
    fprintf(stderr, "sysprobe: unknown probe %s\n", argv[1]);
    return 2;
}
