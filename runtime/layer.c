/* layer: the tar side of unpacking a layer. libarchive parses the headers (tar format only, no
 * filters: layer_decompress.c feeds it uncompressed bytes); every entry is then written here with
 * *at system calls relative to a descriptor of dest_dir, never through a path the process resolves
 * from its working directory and never through a symlink. libarchive's archive_write_disk is not
 * used: it resolves paths from the working directory (chdir is process-wide, so not thread-safe),
 * and it would look users up through NSS, which a static binary must not do. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/cleanup.h"
#include "core/log.h"
#include "runtime/layer.h"

#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

/* A directory whose times (and, when unprivileged, mode) are set after its contents, because
 * creating an entry inside it changes its mtime. */
struct dir_rec {
    char *path;
    struct timespec ts[2];
    mode_t mode;
    bool fix_mode;
};

struct unpack {
    struct archive *a;
    struct reef__layer_stream *st;
    const struct reef_layer_opts *o;
    struct reef_err *err;
    int root;
    bool no_openat2;
    bool privileged; /* euid 0: directory permissions do not stop us */
    struct reef_err read_err;
    bool read_failed;
    struct dir_rec *dirs;
    size_t ndirs, capdirs;
    const char *raw_name; /* the entry's name as in the tar, for messages */
    char path[PATH_MAX];  /* the entry's normalised name */
    char target[PATH_MAX];
};

/* Quotes a name from the tar for a message: non-printable bytes as \xNN, long names shortened. */
static void quote_name(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    for (; *s && o + 8 < outsz; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (*s && o + 4 <= outsz) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Fails the current entry: `layer: entry "NAME": REASON`. errnum > 0 appends strerror. */
REEF_PRINTF(4, 5)
static int entry_fail(struct unpack *u, int code, int errnum, const char *fmt, ...)
{
    char reason[160], q[100];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    quote_name(u->raw_name ? u->raw_name : "", q, sizeof(q));
    if (errnum > 0)
        return reef_err_set(u->err, code, "layer: entry \"%s\": %s: %s", q, reason,
                            strerror(errnum));
    return reef_err_set(u->err, code, "layer: entry \"%s\": %s", q, reason);
}

static int entry_errno(struct unpack *u, const char *fmt, const char *arg)
{
    int e = errno;
    char q[100];
    quote_name(arg ? arg : "", q, sizeof(q));
    return entry_fail(u, -e, e, fmt, q);
}

/* Normalises a tar name into out: "./a//b/" -> "a/b", "/etc/x" -> "etc/x" (Docker treats absolute
 * names as relative to the layer root), "a/../b" -> "b". ".." above the root is an error rather
 * than being clamped, since no honest layer contains it. "" means the root itself. */
static int normalise(struct unpack *u, const char *in, char *out, const char *what)
{
    size_t o = 0;
    const char *p = in;
    while (*p) {
        const char *c = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - c);
        if (*p == '/')
            p++;
        if (n == 0 || (n == 1 && c[0] == '.'))
            continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (o == 0)
                return entry_fail(u, -EPERM, 0, "%s escapes the layer", what);
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        if (n > NAME_MAX)
            return entry_fail(u, -ENAMETOOLONG, 0, "%s has a component longer than %d bytes", what,
                              NAME_MAX);
        if (o + (o > 0) + n >= PATH_MAX)
            return entry_fail(u, -ENAMETOOLONG, 0, "%s is longer than %d bytes", what,
                              PATH_MAX - 1);
        if (o > 0)
            out[o++] = '/';
        memcpy(out + o, c, n);
        o += n;
    }
    out[o] = '\0';
    return 0;
}

/* Splits "a/b/c" into dir "a/b" (written over path) and leaf "c". Returns the leaf. */
static char *split_leaf(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash) {
        memmove(path + 1, path, strlen(path) + 1);
        path[0] = '\0';
        return path + 1;
    }
    *slash = '\0';
    return slash + 1;
}

static int openat2_beneath(struct unpack *u, const char *dir)
{
    if (u->no_openat2)
        return -ENOSYS;
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    };
    long fd = syscall(SYS_openat2, u->root, dir, &how, sizeof(how));
    if (fd >= 0)
        return (int)fd;
    if (errno == ENOSYS || errno == EPERM) /* EPERM: a seccomp filter that denies it */
        u->no_openat2 = true;
    return -errno;
}

/* Opens the directory dir (normalised, relative to the root) without following any symlink,
 * creating missing components with mode 0755 when create is set. Returns an fd or an error. */
static int open_dir(struct unpack *u, const char *dir, bool create)
{
    if (dir[0] == '\0') {
        int fd = fcntl(u->root, F_DUPFD_CLOEXEC, 3);
        return fd >= 0 ? fd : entry_fail(u, -errno, errno, "dup");
    }
    int fd = openat2_beneath(u, dir);
    if (fd >= 0)
        return fd;
    if (fd == -EXDEV)
        return entry_fail(u, -EXDEV, 0, "a parent directory is a mount point");
    /* The component walk: slower, but creates what is missing and says exactly what is wrong. */
    fd = fcntl(u->root, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return entry_fail(u, -errno, errno, "dup");
    char comp[NAME_MAX + 1];
    const char *p = dir;
    while (*p) {
        const char *c = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - c);
        memcpy(comp, c, n);
        comp[n] = '\0';
        if (*p == '/')
            p++;
        int next;
        bool made = false;
        for (int tries = 0;; tries++) {
            next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (next >= 0 || errno != ENOENT || !create || tries > 0)
                break;
            if (mkdirat(fd, comp, 0755) == 0)
                made = true;
            else if (errno != EEXIST)
                break;
        }
        /* mkdirat applied the process umask; implicit parents are 0755 whatever it is. */
        if (made && next >= 0 && fchmod(next, 0755) < 0) {
            int e = errno;
            close(next);
            close(fd);
            return entry_fail(u, -e, e, "chmod new parent directory");
        }
        if (next < 0) {
            int e = errno;
            struct stat st;
            char q[100];
            quote_name(dir, q, sizeof(q));
            if ((e == ELOOP || e == ENOTDIR) && fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                close(fd);
                if (S_ISLNK(st.st_mode))
                    return entry_fail(u, -ELOOP, 0,
                                      "parent \"%s\" is or passes through a symlink; refusing to "
                                      "follow it",
                                      q);
                return entry_fail(u, -ENOTDIR, 0, "parent \"%s\" is not a directory", q);
            }
            close(fd);
            if (e == ENOENT && !create)
                return -ENOENT;
            return entry_fail(u, -e, e, "open parent \"%s\"", q);
        }
        close(fd);
        fd = next;
    }
    return fd;
}

/* Makes room for a new leaf: later entries replace earlier ones, as tar extraction does. An
 * existing directory is kept when the new entry is a directory too (*kept then tells). */
static int clear_leaf(struct unpack *u, int pfd, const char *leaf, bool keep_dir, bool *kept)
{
    struct stat st;
    if (kept)
        *kept = false;
    if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return entry_fail(u, -errno, errno, "stat");
    }
    if (S_ISDIR(st.st_mode)) {
        if (keep_dir) {
            *kept = true;
            return 0;
        }
        struct reef_err e2 = {0};
        int r = reef__layer_remove_at(pfd, leaf, &e2);
        if (r < 0)
            return entry_fail(u, r, 0, "replace directory: %s", e2.msg);
        return 0;
    }
    if (unlinkat(pfd, leaf, 0) < 0)
        return entry_fail(u, -errno, errno, "replace existing entry");
    return 0;
}

static bool xattr_ignored(const char *name)
{
    /* The layer format expresses overlay metadata through whiteout files; a layer that carried
     * trusted.overlay.* (redirect, metacopy, origin...) could steer the overlay mount. */
    return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

static int set_xattrs(struct unpack *u, struct archive_entry *e, int fd)
{
    const char *name;
    const void *val;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
        if (!name || !*name || xattr_ignored(name))
            continue;
        if (fsetxattr(fd, name, val, size, 0) == 0)
            continue;
        if (errno == ENOTSUP) {
            /* A namespace this file system does not store (or that needs an LSM that is off). */
            LOG_WARN("layer", "xattr not supported here, dropped name=%s", name);
            continue;
        }
        return entry_errno(u, "set xattr \"%s\"", name);
    }
    return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[1].tv_sec = archive_entry_mtime(e);
    ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    if (archive_entry_atime_is_set(e)) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = archive_entry_atime_nsec(e);
    } else {
        ts[0] = ts[1];
    }
    for (int i = 0; i < 2; i++)
        if (ts[i].tv_nsec < 0 || ts[i].tv_nsec > 999999999)
            ts[i].tv_nsec = 0;
}

static int owner(struct unpack *u, struct archive_entry *e, uid_t *uid, gid_t *gid)
{
    la_int64_t ou = archive_entry_uid(e), og = archive_entry_gid(e);
    /* (uid_t)-1 means "leave unchanged" to chown, so it is not a usable id either. */
    if (ou < 0 || og < 0 || ou >= (la_int64_t)UINT32_MAX || og >= (la_int64_t)UINT32_MAX)
        return entry_fail(u, -EINVAL, 0, "uid/gid %lld/%lld out of range", (long long)ou,
                          (long long)og);
    *uid = (uid_t)ou;
    *gid = (gid_t)og;
    return 0;
}

/* Owner, then mode (chown clears setuid/setgid), then xattrs (chown also clears
 * security.capability), on an open file or directory. */
static int fd_metadata(struct unpack *u, struct archive_entry *e, int fd, mode_t mode)
{
    uid_t uid;
    gid_t gid;
    int r = owner(u, e, &uid, &gid);
    if (r < 0)
        return r;
    if (!u->o->no_chown && fchown(fd, uid, gid) < 0)
        return entry_fail(u, -errno, errno, "chown %u:%u", (unsigned)uid, (unsigned)gid);
    if (fchmod(fd, mode) < 0)
        return entry_fail(u, -errno, errno, "chmod");
    return set_xattrs(u, e, fd);
}

/* Owner, mode and times of a node that cannot be opened for writing (fifo, device). Only this
 * unpack writes below dest_dir, and it just created leaf, so leaf is not a symlink here. */
static int node_metadata(struct unpack *u, struct archive_entry *e, int pfd, const char *leaf,
                         mode_t mode)
{
    uid_t uid;
    gid_t gid;
    int r = owner(u, e, &uid, &gid);
    if (r < 0)
        return r;
    if (!u->o->no_chown && fchownat(pfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_fail(u, -errno, errno, "chown %u:%u", (unsigned)uid, (unsigned)gid);
    if (fchmodat(pfd, leaf, mode, 0) < 0)
        return entry_fail(u, -errno, errno, "chmod");
    struct timespec ts[2];
    entry_times(e, ts);
    if (utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_fail(u, -errno, errno, "set times");
    return 0;
}

static int archive_fail(struct unpack *u, const char *what)
{
    if (u->read_failed) {
        *u->err = u->read_err;
        return u->read_err.code;
    }
    const char *msg = archive_error_string(u->a);
    int e = archive_errno(u->a);
    int code = e > 0 ? -e : -EPROTO;
    if (u->raw_name) {
        char q[100];
        quote_name(u->raw_name, q, sizeof(q));
        return reef_err_set(u->err, code, "layer: entry \"%s\": %s: %s", q, what,
                            msg ? msg : "error");
    }
    return reef_err_set(u->err, code, "layer: %s: %s", what, msg ? msg : "error");
}

static int write_file(struct unpack *u, struct archive_entry *e, int pfd, const char *leaf)
{
    int r = clear_leaf(u, pfd, leaf, false, NULL);
    if (r < 0)
        return r;
    _cleanup_close_ int fd =
        openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return entry_fail(u, -errno, errno, "create file");
    const void *buf;
    size_t len;
    la_int64_t off, end = 0;
    for (;;) {
        r = archive_read_data_block(u->a, &buf, &len, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return archive_fail(u, "read data");
        if (off < 0)
            return entry_fail(u, -EPROTO, 0, "negative data offset");
        const char *p = buf;
        while (len > 0) {
            ssize_t w = pwrite(fd, p, len, off);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return entry_fail(u, -errno, errno, "write");
            }
            p += w;
            len -= (size_t)w;
            off += w;
        }
        if (off > end)
            end = off;
    }
    /* A sparse file may end in a hole that no data block covers. */
    la_int64_t size = archive_entry_size(e);
    if (archive_entry_size_is_set(e) && size > end) {
        if (u->o->max_size && (uint64_t)size > u->o->max_size)
            return entry_fail(u, -EFBIG, 0, "sparse file larger than the size limit");
        if (ftruncate(fd, size) < 0)
            return entry_fail(u, -errno, errno, "extend sparse file");
    }
    r = fd_metadata(u, e, fd, archive_entry_perm(e));
    if (r < 0)
        return r;
    struct timespec ts[2];
    entry_times(e, ts);
    if (futimens(fd, ts) < 0)
        return entry_fail(u, -errno, errno, "set times");
    return 0;
}

static int write_dir(struct unpack *u, struct archive_entry *e, int pfd, const char *leaf,
                     const char *path)
{
    bool kept;
    int r = clear_leaf(u, pfd, leaf, true, &kept);
    if (r < 0)
        return r;
    if (!kept && mkdirat(pfd, leaf, 0700) < 0)
        return entry_fail(u, -errno, errno, "mkdir");
    _cleanup_close_ int fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return entry_fail(u, -errno, errno, "open directory");
    mode_t mode = archive_entry_perm(e);
    /* Unprivileged, a 0555 directory would refuse its own contents: keep it writable until the
     * final pass. Root ignores directory permissions. */
    bool fix = !u->privileged && (mode & S_IRWXU) != S_IRWXU;
    r = fd_metadata(u, e, fd, fix ? (mode | S_IRWXU) : mode);
    if (r < 0)
        return r;
    if (u->ndirs == u->capdirs) {
        size_t cap = u->capdirs ? u->capdirs * 2 : 64;
        struct dir_rec *d = realloc(u->dirs, cap * sizeof(*d));
        if (!d)
            return reef_err_set(u->err, -ENOMEM, "layer: out of memory");
        u->dirs = d;
        u->capdirs = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return reef_err_set(u->err, -ENOMEM, "layer: out of memory");
    struct dir_rec *d = &u->dirs[u->ndirs++];
    d->path = copy;
    entry_times(e, d->ts);
    d->mode = mode;
    d->fix_mode = fix;
    return 0;
}

static int write_symlink(struct unpack *u, struct archive_entry *e, int pfd, const char *leaf)
{
    const char *target = archive_entry_symlink(e);
    if (!target)
        target = archive_entry_symlink_utf8(e);
    if (!target || !*target)
        return entry_fail(u, -EINVAL, 0, "symlink with an empty target");
    int r = clear_leaf(u, pfd, leaf, false, NULL);
    if (r < 0)
        return r;
    /* The target is never resolved here, wherever it points: it is the container's business. */
    if (symlinkat(target, pfd, leaf) < 0)
        return entry_fail(u, -errno, errno, "symlink");
    uid_t uid;
    gid_t gid;
    r = owner(u, e, &uid, &gid);
    if (r < 0)
        return r;
    if (!u->o->no_chown && fchownat(pfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_fail(u, -errno, errno, "chown symlink");
    struct timespec ts[2];
    entry_times(e, ts);
    if (utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_fail(u, -errno, errno, "set symlink times");
    return 0;
}

static int write_hardlink(struct unpack *u, const char *link, int pfd, const char *leaf,
                          const char *path)
{
    int r = normalise(u, link, u->target, "hard link target");
    if (r < 0)
        return r;
    if (strcmp(u->target, path) == 0)
        return 0; /* a link to itself: nothing to do */
    if (u->target[0] == '\0')
        return entry_fail(u, -EPERM, 0, "hard link to the layer root");
    r = clear_leaf(u, pfd, leaf, false, NULL);
    if (r < 0)
        return r;
    char q[100];
    quote_name(u->target, q, sizeof(q));
    char *tleaf = split_leaf(u->target);
    int tfd = open_dir(u, u->target, false);
    if (tfd == -ENOENT)
        return entry_fail(u, -ENOENT, 0, "hard link target \"%s\" is not in the layer", q);
    if (tfd < 0)
        return tfd;
    struct stat st;
    if (fstatat(tfd, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        close(tfd);
        return entry_fail(u, -ENOENT, 0, "hard link target \"%s\" is not in the layer", q);
    }
    if (S_ISDIR(st.st_mode)) {
        close(tfd);
        return entry_fail(u, -EPERM, 0, "hard link to directory \"%s\"", q);
    }
    /* No AT_SYMLINK_FOLLOW: a symlink target is linked as the symlink itself. */
    r = linkat(tfd, tleaf, pfd, leaf, 0);
    int e = errno;
    close(tfd);
    if (r < 0)
        return entry_fail(u, -e, e, "hard link to \"%s\"", q);
    return 0;
}

static int write_whiteout(struct unpack *u, struct archive_entry *e, int pfd, const char *leaf)
{
    if (strcmp(leaf, WH_OPAQUE) == 0) {
        if (fsetxattr(pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return entry_fail(u, -errno, errno, "mark directory opaque");
        return 0;
    }
    if (strncmp(leaf, WH_META_PREFIX, strlen(WH_META_PREFIX)) == 0)
        return 0; /* other AUFS metadata (.wh..wh.plnk, ...) means nothing to overlayfs */
    const char *name = leaf + strlen(WH_PREFIX);
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return entry_fail(u, -EINVAL, 0, "whiteout without a valid name");
    int r = clear_leaf(u, pfd, name, false, NULL);
    if (r < 0)
        return r;
    uid_t uid;
    gid_t gid;
    r = owner(u, e, &uid, &gid);
    if (r < 0)
        return r;
    if (u->o->whiteouts == REEF_LAYER_WHITEOUT_XATTR) {
        _cleanup_close_ int fd =
            openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0000);
        if (fd < 0)
            return entry_fail(u, -errno, errno, "create whiteout");
        if (fsetxattr(fd, "trusted.overlay.whiteout", "", 0, 0) < 0)
            return entry_fail(u, -errno, errno, "set trusted.overlay.whiteout");
        char v[4];
        ssize_t n = fgetxattr(pfd, "trusted.overlay.opaque", v, sizeof(v));
        if (!(n == 1 && v[0] == 'y') && fsetxattr(pfd, "trusted.overlay.opaque", "x", 1, 0) < 0)
            return entry_fail(u, -errno, errno, "mark directory as holding xattr whiteouts");
        if (!u->o->no_chown && fchown(fd, uid, gid) < 0)
            return entry_fail(u, -errno, errno, "chown whiteout");
        return 0;
    }
    if (mknodat(pfd, name, S_IFCHR | 0000, makedev(0, 0)) < 0) {
        if (errno == EPERM)
            return entry_fail(u, -EPERM, 0,
                              "cannot create whiteout: a 0:0 character device needs CAP_MKNOD "
                              "(xattr whiteouts do not)");
        return entry_fail(u, -errno, errno, "create whiteout");
    }
    if (!u->o->no_chown && fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return entry_fail(u, -errno, errno, "chown whiteout");
    return 0;
}

static int write_node(struct unpack *u, struct archive_entry *e, int pfd, const char *leaf,
                      mode_t type)
{
    dev_t dev = 0;
    if (type == S_IFCHR || type == S_IFBLK) {
        if (u->o->devices == REEF_LAYER_DEVICES_SKIP)
            return 0;
        if (u->o->devices != REEF_LAYER_DEVICES_CREATE)
            return entry_fail(u, -EPERM, 0, "device nodes are not allowed in this layer");
        dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
    }
    int r = clear_leaf(u, pfd, leaf, false, NULL);
    if (r < 0)
        return r;
    mode_t perm = archive_entry_perm(e);
    if (mknodat(pfd, leaf, type | (perm & 0777), dev) < 0)
        return entry_fail(u, -errno, errno, type == S_IFIFO ? "mkfifo" : "mknod");
    return node_metadata(u, e, pfd, leaf, perm);
}

static int write_entry(struct unpack *u, struct archive_entry *e)
{
    const char *name = archive_entry_pathname(e);
    if (!name)
        name = archive_entry_pathname_utf8(e);
    u->raw_name = name;
    if (!name || !*name)
        return entry_fail(u, -EINVAL, 0, "entry without a name");
    int r = normalise(u, name, u->path, "path");
    if (r < 0)
        return r;
    if (u->path[0] == '\0') {
        /* The layer root ("./"): dest_dir's own owner and mode belong to the caller. */
        if (archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e))
            return 0;
        return entry_fail(u, -EINVAL, 0, "only a directory can name the layer root");
    }
    char dir[PATH_MAX];
    memcpy(dir, u->path, strlen(u->path) + 1);
    char *leaf = split_leaf(dir);
    const char *link = archive_entry_hardlink(e);
    if (!link)
        link = archive_entry_hardlink_utf8(e);
    mode_t type = archive_entry_filetype(e);

    _cleanup_close_ int pfd = open_dir(u, dir, true);
    if (pfd < 0)
        return pfd;
    if (strncmp(leaf, WH_PREFIX, strlen(WH_PREFIX)) == 0)
        return write_whiteout(u, e, pfd, leaf);
    if (link)
        return write_hardlink(u, link, pfd, leaf, u->path);
    switch (type) {
    case AE_IFREG:
        return write_file(u, e, pfd, leaf);
    case AE_IFDIR:
        return write_dir(u, e, pfd, leaf, u->path);
    case AE_IFLNK:
        return write_symlink(u, e, pfd, leaf);
    case AE_IFIFO:
        return write_node(u, e, pfd, leaf, S_IFIFO);
    case AE_IFCHR:
        return write_node(u, e, pfd, leaf, S_IFCHR);
    case AE_IFBLK:
        return write_node(u, e, pfd, leaf, S_IFBLK);
    default:
        return entry_fail(u, -EINVAL, 0, "unsupported entry type 0%o", (unsigned)type);
    }
}

/* Directory times last: every entry written inside a directory moved its mtime. */
static int finish_dirs(struct unpack *u)
{
    for (size_t i = u->ndirs; i-- > 0;) {
        struct dir_rec *d = &u->dirs[i];
        u->raw_name = d->path;
        int fd = openat2_beneath(u, d->path);
        if (fd < 0) {
            char tmp[PATH_MAX];
            memcpy(tmp, d->path, strlen(d->path) + 1);
            struct reef_err quiet = {0};
            struct reef_err *saved = u->err;
            u->err = &quiet;
            fd = open_dir(u, tmp, false);
            u->err = saved;
            if (fd < 0)
                continue; /* replaced by a later entry */
        }
        int r = 0;
        if (d->fix_mode && fchmod(fd, d->mode) < 0)
            r = entry_fail(u, -errno, errno, "chmod directory");
        else if (futimens(fd, d->ts) < 0)
            r = entry_fail(u, -errno, errno, "set directory times");
        close(fd);
        if (r < 0)
            return r;
    }
    return 0;
}

static la_ssize_t archive_read_cb(struct archive *a, void *ud, const void **buf)
{
    struct unpack *u = ud;
    ssize_t n = reef__layer_stream_next(u->st, buf, &u->read_err);
    if (n < 0) {
        u->read_failed = true;
        archive_set_error(a, -(int)n, "%s", u->read_err.msg);
        return -1;
    }
    return n;
}

static int unpack(struct unpack *u, struct reef_layer_result *res)
{
    u->a = archive_read_new();
    if (!u->a)
        return reef_err_set(u->err, -ENOMEM, "layer: out of memory");
    /* The tar reader alone (ustar, pax and GNU extensions all live in it). No filters: the
     * stream is already decompressed, and registering all of them would link every codec. */
    if (archive_read_support_format_tar(u->a) != ARCHIVE_OK)
        return archive_fail(u, "tar");
    if (archive_read_open(u->a, u, NULL, archive_read_cb, NULL) != ARCHIVE_OK)
        return archive_fail(u, "tar");
    uint64_t max_entries = u->o->max_entries ? u->o->max_entries : REEF_LAYER_DEFAULT_MAX_ENTRIES;
    uint64_t entries = 0;
    for (;;) {
        struct archive_entry *e;
        u->raw_name = NULL;
        int r = archive_read_next_header(u->a, &e);
        if (r == ARCHIVE_EOF)
            break;
        /* WARN is for things like a name that does not convert to the locale; FAILED and RETRY
         * (a damaged header libarchive would skip) are not acceptable in a layer. */
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return archive_fail(u, "tar");
        if (++entries > max_entries)
            return reef_err_set(u->err, -E2BIG, "layer: more than %llu entries",
                                (unsigned long long)max_entries);
        r = write_entry(u, e);
        if (r < 0)
            return r;
    }
    int r = reef__layer_stream_finish(u->st, res, u->err);
    if (r < 0)
        return r;
    res->entries = entries;
    if (u->o->diff_id && strcmp(u->o->diff_id, res->diff_id) != 0)
        return reef_err_set(u->err, -EBADMSG, "layer: diff_id mismatch: expected %.80s, got %s",
                            u->o->diff_id, res->diff_id);
    return finish_dirs(u);
}

int reef_layer_unpack(reef_layer_read_fn read, void *ud, const char *dest_dir,
                      const struct reef_layer_opts *opts, struct reef_layer_result *res,
                      struct reef_err *err)
{
    static const struct reef_layer_opts defaults;
    struct reef_err local = {0};
    struct unpack *u = calloc(1, sizeof(*u));
    if (!u)
        return reef_err_set(err, -ENOMEM, "layer: out of memory");
    u->o = opts ? opts : &defaults;
    u->err = err ? err : &local;
    u->privileged = geteuid() == 0;
    u->root = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r;
    if (u->root < 0) {
        r = reef_err_errno(u->err, -errno, "layer: open %s", dest_dir);
        goto out;
    }
    r = reef__layer_stream_new(read, ud, u->o->max_size, &u->st, u->err);
    if (r < 0)
        goto out;
    struct reef_layer_result tmp;
    memset(&tmp, 0, sizeof(tmp));
    r = unpack(u, &tmp);
    if (r == 0 && res)
        *res = tmp;
out:
    if (u->a)
        archive_read_free(u->a);
    reef__layer_stream_free(u->st);
    if (u->root >= 0)
        close(u->root);
    for (size_t i = 0; i < u->ndirs; i++)
        free(u->dirs[i].path);
    free(u->dirs);
    free(u);
    return r;
}

static ssize_t fd_read(void *ud, void *buf, size_t len)
{
    ssize_t n = read(*(int *)ud, buf, len);
    return n < 0 ? -errno : n;
}

int reef_layer_unpack_fd(int fd, const char *dest_dir, const struct reef_layer_opts *opts,
                         struct reef_layer_result *res, struct reef_err *err)
{
    return reef_layer_unpack(fd_read, &fd, dest_dir, opts, res, err);
}
