#include "runtime/blobstore.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/crypto.h"

struct reef_blobstore {
    char dir[PATH_MAX - 128];
};

struct reef_blob_writer {
    struct reef_blobstore *bs;
    char expected[REEF_DIGEST_MAX];
    int64_t size; /* -1 when unknown */
    int64_t written;
    int fd;
    int lock_fd;
    char tmp[PATH_MAX];
    char lock[PATH_MAX];
    struct reef_crypto_sha256 sha;
};

bool reef_digest_valid(const char *d)
{
    if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64)
        return false;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int reef_blobstore_open(const char *dir, struct reef_blobstore **out, struct reef_err *err)
{
    struct reef_blobstore *bs = calloc(1, sizeof(*bs));
    if (!bs)
        return reef_err_set(err, -ENOMEM, "blobstore: out of memory");
    if (reef_strlcpy(bs->dir, dir, sizeof(bs->dir)) >= sizeof(bs->dir)) {
        free(bs);
        return reef_err_set(err, -ENAMETOOLONG, "blobstore: path too long: %s", dir);
    }
    char sub[PATH_MAX];
    int r = 0;
    snprintf(sub, sizeof(sub), "%s/sha256", dir);
    if ((r = reef_fs_mkdir_p(sub, 0755)) == 0) {
        snprintf(sub, sizeof(sub), "%s/tmp", dir);
        r = reef_fs_mkdir_p(sub, 0755);
    }
    if (r < 0) {
        free(bs);
        return reef_err_errno(err, r, "blobstore: create %s", sub);
    }
    *out = bs;
    return 0;
}

void reef_blobstore_close(struct reef_blobstore *bs)
{
    free(bs);
}

int reef_blobstore_path(struct reef_blobstore *bs, const char *digest, char *out, size_t outsz)
{
    if (!reef_digest_valid(digest))
        return -EINVAL;
    int n = snprintf(out, outsz, "%s/sha256/%s", bs->dir, digest + 7);
    return n < 0 || (size_t)n >= outsz ? -ENAMETOOLONG : 0;
}

bool reef_blobstore_has(struct reef_blobstore *bs, const char *digest)
{
    char path[PATH_MAX];
    return reef_blobstore_path(bs, digest, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

int64_t reef_blobstore_size(struct reef_blobstore *bs, const char *digest)
{
    char path[PATH_MAX];
    int r = reef_blobstore_path(bs, digest, path, sizeof(path));
    if (r < 0)
        return r;
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    return st.st_size;
}

static void hex_digest(const unsigned char sum[32], char out[REEF_DIGEST_MAX])
{
    memcpy(out, "sha256:", 7);
    reef_crypto_hex_encode(out + 7, sum, 32);
}

int reef_blobstore_read(struct reef_blobstore *bs, const char *digest, size_t max,
                        struct reef_buf *out, struct reef_err *err)
{
    char path[PATH_MAX];
    if (reef_blobstore_path(bs, digest, path, sizeof(path)) < 0)
        return reef_err_set(err, -EINVAL, "blobstore: invalid digest \"%.80s\"", digest);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return reef_err_errno(err, -errno, "blobstore: open %s", digest);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return reef_err_errno(err, -errno, "blobstore: stat %s", digest);
    if ((uint64_t)st.st_size > max)
        return reef_err_set(err, -EFBIG, "blobstore: %s is %lld bytes, more than %zu", digest,
                            (long long)st.st_size, max);
    size_t start = out->len;
    int r = reef_buf_reserve(out, (size_t)st.st_size);
    if (r < 0)
        return reef_err_set(err, r, "blobstore: out of memory");
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, out->data + start + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return reef_err_errno(err, n < 0 ? -errno : -EIO, "blobstore: read %s", digest);
        got += (size_t)n;
    }
    out->len = start + got;
    out->data[out->len] = '\0';
    unsigned char sum[32];
    char actual[REEF_DIGEST_MAX];
    reef_crypto_sha256(out->data + start, got, sum);
    hex_digest(sum, actual);
    if (strcmp(actual, digest) != 0) {
        out->len = start;
        out->data[start] = '\0';
        return reef_err_set(err, -EBADMSG, "blobstore: %s is corrupt on disk (content is %s)",
                            digest, actual);
    }
    return 0;
}

int reef_blob_writer_begin(struct reef_blobstore *bs, const char *expected, int64_t size,
                           struct reef_blob_writer **out, struct reef_err *err)
{
    *out = NULL;
    if (!reef_digest_valid(expected))
        return reef_err_set(err, -EINVAL, "blobstore: unsupported digest \"%.80s\"", expected);
    if (reef_blobstore_has(bs, expected))
        return 0;
    struct reef_blob_writer *w = calloc(1, sizeof(*w));
    if (!w)
        return reef_err_set(err, -ENOMEM, "blobstore: out of memory");
    w->bs = bs;
    w->size = size;
    w->fd = -1;
    snprintf(w->expected, sizeof(w->expected), "%s", expected);
    snprintf(w->lock, sizeof(w->lock), "%s/tmp/%s.lock", bs->dir, expected + 7);
    w->lock_fd = open(w->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (w->lock_fd < 0) {
        int e = -errno;
        free(w);
        return reef_err_errno(err, e, "blobstore: lock %s", expected);
    }
    while (flock(w->lock_fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int e = -errno;
            close(w->lock_fd);
            free(w);
            return reef_err_errno(err, e, "blobstore: lock %s", expected);
        }
    }
    /* Whoever held the lock may have completed the blob meanwhile. */
    if (reef_blobstore_has(bs, expected)) {
        close(w->lock_fd);
        free(w);
        return 0;
    }
    snprintf(w->tmp, sizeof(w->tmp), "%s/tmp/%s.XXXXXX", bs->dir, expected + 7);
    w->fd = mkostemp(w->tmp, O_CLOEXEC);
    if (w->fd < 0) {
        int e = -errno;
        close(w->lock_fd);
        free(w);
        return reef_err_errno(err, e, "blobstore: create temporary file for %s", expected);
    }
    reef_crypto_sha256_init(&w->sha);
    *out = w;
    return 0;
}

int reef_blob_writer_write(struct reef_blob_writer *w, const void *data, size_t len,
                           struct reef_err *err)
{
    if (w->size >= 0 && (uint64_t)w->written + len > (uint64_t)w->size)
        return reef_err_set(err, -EFBIG, "blob %s: more data than its declared size %lld",
                            w->expected, (long long)w->size);
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(w->fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return reef_err_errno(err, -errno, "blob %s: write", w->expected);
        p += n;
        left -= (size_t)n;
    }
    reef_crypto_sha256_update(&w->sha, data, len);
    w->written += (int64_t)len;
    return 0;
}

int64_t reef_blob_writer_written(const struct reef_blob_writer *w)
{
    return w->written;
}

static void writer_free(struct reef_blob_writer *w, bool delete_tmp)
{
    if (w->fd >= 0)
        close(w->fd);
    if (delete_tmp && w->tmp[0])
        unlink(w->tmp);
    /* Unlink the lock before releasing it: a waiter then wakes on a lock nobody else can take,
     * sees the blob (or its absence) and proceeds; temporary names are unique, so even two
     * writers of one digest at once cannot corrupt each other. */
    unlink(w->lock);
    close(w->lock_fd);
    free(w);
}

void reef_blob_writer_abort(struct reef_blob_writer *w)
{
    if (w)
        writer_free(w, true);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

int reef_blob_writer_commit(struct reef_blob_writer *w, struct reef_err *err)
{
    int r = 0;
    if (w->size >= 0 && w->written != w->size) {
        r = reef_err_set(err, -EPIPE, "blob %s: got %lld bytes, expected %lld", w->expected,
                         (long long)w->written, (long long)w->size);
        goto fail;
    }
    unsigned char sum[32];
    char actual[REEF_DIGEST_MAX];
    reef_crypto_sha256_final(&w->sha, sum);
    hex_digest(sum, actual);
    if (strcmp(actual, w->expected) != 0) {
        r = reef_err_set(err, -EBADMSG, "blob digest mismatch: expected %s, got %s",
                         w->expected, actual);
        goto fail;
    }
    if (fsync(w->fd) < 0 || fchmod(w->fd, 0644) < 0) {
        r = reef_err_errno(err, -errno, "blob %s: fsync", w->expected);
        goto fail;
    }
    char path[PATH_MAX], dir[PATH_MAX];
    reef_blobstore_path(w->bs, w->expected, path, sizeof(path));
    if (rename(w->tmp, path) < 0) {
        r = reef_err_errno(err, -errno, "blob %s: rename into place", w->expected);
        goto fail;
    }
    w->tmp[0] = '\0';
    snprintf(dir, sizeof(dir), "%s/sha256", w->bs->dir);
    r = fsync_dir(dir);
    if (r < 0)
        reef_err_errno(err, r, "blob %s: fsync directory", w->expected);
    writer_free(w, false);
    return r;
fail:
    writer_free(w, true);
    return r;
}

int reef_blobstore_put(struct reef_blobstore *bs, const void *data, size_t len,
                       const char *expected, char *digest_out, struct reef_err *err)
{
    unsigned char sum[32];
    char actual[REEF_DIGEST_MAX];
    reef_crypto_sha256(data, len, sum);
    hex_digest(sum, actual);
    if (expected && strcmp(expected, actual) != 0)
        return reef_err_set(err, -EBADMSG, "blob digest mismatch: expected %.80s, got %s",
                            expected, actual);
    if (digest_out)
        memcpy(digest_out, actual, strlen(actual) + 1);
    struct reef_blob_writer *w;
    int r = reef_blob_writer_begin(bs, actual, (int64_t)len, &w, err);
    if (r < 0 || !w)
        return r;
    r = reef_blob_writer_write(w, data, len, err);
    if (r < 0) {
        reef_blob_writer_abort(w);
        return r;
    }
    return reef_blob_writer_commit(w, err);
}

int reef_blobstore_delete(struct reef_blobstore *bs, const char *digest, struct reef_err *err)
{
    char path[PATH_MAX];
    if (reef_blobstore_path(bs, digest, path, sizeof(path)) < 0)
        return reef_err_set(err, -EINVAL, "blobstore: invalid digest \"%.80s\"", digest);
    if (unlink(path) < 0)
        return reef_err_errno(err, -errno, "blobstore: delete %s", digest);
    return 0;
}

int reef_blobstore_list(struct reef_blobstore *bs,
                        int (*fn)(void *ud, const char *digest, int64_t size), void *ud,
                        struct reef_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/sha256", bs->dir);
    DIR *d = opendir(dir);
    if (!d)
        return reef_err_errno(err, -errno, "blobstore: list %s", dir);
    struct dirent *e;
    int r = 0;
    while (r == 0 && (e = readdir(d))) {
        char digest[REEF_DIGEST_MAX];
        if (snprintf(digest, sizeof(digest), "sha256:%s", e->d_name) >= (int)sizeof(digest) ||
            !reef_digest_valid(digest))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        r = fn(ud, digest, st.st_size);
    }
    closedir(d);
    return r;
}
