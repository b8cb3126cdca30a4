#include "core/fs.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"

int reef_fs_mkdir_p(const char *path, mode_t mode)
{
    char p[PATH_MAX];
    if (reef_strlcpy(p, path, sizeof(p)) >= sizeof(p))
        return -ENAMETOOLONG;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return -errno;
        *s = c;
        if (!c)
            break;
    }
    return 0;
}

int reef_fs_read_file(const char *path, size_t max, struct reef_buf *out, struct reef_err *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return reef_err_errno(err, -errno, "open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return reef_err_errno(err, -errno, "stat %s", path);
    if (!S_ISREG(st.st_mode))
        return reef_err_set(err, -EINVAL, "%s: not a regular file", path);
    size_t start = out->len;
    for (;;) {
        if (out->len - start > max) {
            out->len = start;
            if (out->data)
                out->data[start] = '\0';
            return reef_err_set(err, -EFBIG, "%s: larger than %zu bytes", path, max);
        }
        if (reef_buf_reserve(out, 65536) < 0)
            return reef_err_set(err, -ENOMEM, "read %s: out of memory", path);
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return reef_err_errno(err, -errno, "read %s", path);
        if (n == 0)
            return 0;
        out->len += (size_t)n;
        out->data[out->len] = '\0';
    }
}

int reef_fs_read_string(const char *path, size_t max, char **out, size_t *len,
                        struct reef_err *err)
{
    *out = NULL;
    struct reef_buf b = REEF_BUF_INIT;
    int r = reef_fs_read_file(path, max, &b, err);
    if (r < 0) {
        reef_buf_free(&b);
        return r;
    }
    if (len)
        *len = b.len;
    *out = reef_buf_steal(&b);
    return *out ? 0 : reef_err_set(err, -ENOMEM, "read %s: out of memory", path);
}

int reef_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         bool durable, struct reef_err *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
        return reef_err_set(err, -ENAMETOOLONG, "write %s: path too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return reef_err_errno(err, -errno, "write %s", path);
    const char *p = data;
    size_t off = 0;
    int r = 0;
    while (off < len && r == 0) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno != EINTR)
            r = -errno;
        else if (w > 0)
            off += (size_t)w;
    }
    if (r == 0 && fchmod(fd, mode) < 0)
        r = -errno;
    if (r == 0 && durable && fsync(fd) < 0)
        r = -errno;
    close(fd);
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return reef_err_errno(err, r, "write %s", path);
    }
    if (durable) {
        char dir[PATH_MAX];
        reef_strlcpy(dir, path, sizeof(dir));
        char *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            if (fsync(dfd) < 0)
                r = reef_err_errno(err, -errno, "fsync the directory of %s", path);
            close(dfd);
        }
    }
    return r;
}
