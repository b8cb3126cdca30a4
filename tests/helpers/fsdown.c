/* fsdown: shuts down the file system holding PATH, as a disk that stops answering would:
 *   fsdown PATH
 * Every later read, write and sync on that file system fails with EIO (ext4's and XFS's
 * "going down" ioctl, without flushing the journal). For tests that made the file system
 * themselves (a loop-mounted image): never point it at a real one. Needs CAP_SYS_ADMIN. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define GOING_DOWN _IOR('X', 125, uint32_t) /* EXT4_IOC_SHUTDOWN, XFS_IOC_GOINGDOWN */
#define GOING_DOWN_NOLOGFLUSH 2

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: fsdown PATH\n", stderr);
        return 2;
    }
    int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "fsdown: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    uint32_t how = GOING_DOWN_NOLOGFLUSH;
    if (ioctl(fd, GOING_DOWN, &how) < 0) {
        fprintf(stderr, "fsdown: shut down %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    close(fd);
    return 0;
}
