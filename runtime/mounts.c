#include "runtime/mounts.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cleanup.h"

const char *const reef_masked_paths[] = {
    "/proc/asound",          "/proc/acpi",         "/proc/kcore",         "/proc/keys",
    "/proc/latency_stats",   "/proc/timer_list",   "/proc/timer_stats",   "/proc/sched_debug",
    "/proc/scsi",            "/sys/firmware",      "/sys/devices/virtual/powercap",
    NULL,
};

const char *const reef_readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static int openat2_in_root(int rootfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/')
        path++;
    long fd = syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
    return fd < 0 ? -errno : (int)fd;
}

/* Resolves path inside the root as the kernel would if rootfd were "/": symlinks are expanded
 * (absolute ones from the root), ".." stops at the root. The result (relative to rootfd, no
 * symlinks in it) names existing components followed by the ones still missing. */
static int secure_join(int rootfd, const char *path, char *out, size_t outsz)
{
    char rest[PATH_MAX * 2], resolved[PATH_MAX] = "";
    if (reef_strlcpy(rest, path, sizeof(rest)) >= sizeof(rest))
        return -ENAMETOOLONG;
    int hops = 0;
    bool missing = false;
    char *cur = rest;
    while (*cur) {
        while (*cur == '/')
            cur++;
        if (!*cur)
            break;
        char *end = strchr(cur, '/');
        size_t n = end ? (size_t)(end - cur) : strlen(cur);
        char comp[NAME_MAX + 1];
        if (n > NAME_MAX)
            return -ENAMETOOLONG;
        memcpy(comp, cur, n);
        comp[n] = '\0';
        cur += n;
        if (strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0) {
            char *slash = strrchr(resolved, '/');
            if (slash)
                *slash = '\0';
            else
                resolved[0] = '\0';
            continue;
        }
        size_t rl = strlen(resolved);
        if (rl + 1 + n + 1 > sizeof(resolved))
            return -ENAMETOOLONG;
        char candidate[PATH_MAX];
        memcpy(candidate, resolved, rl);
        if (rl)
            candidate[rl++] = '/';
        memcpy(candidate + rl, comp, n + 1);
        if (missing) {
            memcpy(resolved, candidate, strlen(candidate) + 1);
            continue;
        }
        struct stat st;
        if (fstatat(rootfd, candidate, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno != ENOENT)
                return -errno;
            missing = true;
            memcpy(resolved, candidate, strlen(candidate) + 1);
            continue;
        }
        if (!S_ISLNK(st.st_mode)) {
            memcpy(resolved, candidate, strlen(candidate) + 1);
            continue;
        }
        if (++hops > 40)
            return -ELOOP;
        char target[PATH_MAX];
        ssize_t tl = readlinkat(rootfd, candidate, target, sizeof(target) - 1);
        if (tl < 0)
            return -errno;
        target[tl] = '\0';
        if (target[0] == '/')
            resolved[0] = '\0';
        char next[PATH_MAX * 2];
        int k = snprintf(next, sizeof(next), "%s/%s", target, cur);
        if (k < 0 || (size_t)k >= sizeof(next))
            return -ENAMETOOLONG;
        memcpy(rest, next, (size_t)k + 1);
        cur = rest;
    }
    if (reef_strlcpy(out, resolved, outsz) >= outsz)
        return -ENAMETOOLONG;
    return 0;
}

int reef_rootfs_mkpath(int rootfd, const char *path, bool last_is_file)
{
    char p[PATH_MAX];
    int r = secure_join(rootfd, path, p, sizeof(p));
    if (r < 0)
        return r;
    if (!p[0]) {
        int fd = openat(rootfd, ".", O_PATH | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
    }
    /* p has no symlinks: create what is missing, refusing any symlink that appears meanwhile. */
    int dir = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -errno;
    char *save = NULL;
    char *comp = strtok_r(p, "/", &save);
    while (comp) {
        char *next = strtok_r(NULL, "/", &save);
        bool last = next == NULL;
        if (last && last_is_file)
            r = mknodat(dir, comp, S_IFREG | 0644, 0);
        else
            r = mkdirat(dir, comp, 0755);
        if (r < 0 && errno != EEXIST) {
            r = -errno;
            close(dir);
            return r;
        }
        int f = openat(dir, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
        r = -errno;
        close(dir);
        if (f < 0)
            return r;
        dir = f;
        comp = next;
    }
    return dir;
}

struct mount_ctx {
    int rootfd;
    struct reef_err *err;
};

/* Mounts onto path inside the root. src may itself be a /proc/self/fd path. */
static int mount_in(struct mount_ctx *c, const char *src, const char *path, const char *fstype,
                    unsigned long flags, const char *data, bool is_file)
{
    _cleanup_close_ int fd = reef_rootfs_mkpath(c->rootfd, path, is_file);
    if (fd < 0)
        return reef_err_errno(c->err, fd, "mount %s: create mount point", path);
    char target[64];
    snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
    if (mount(src, target, fstype, flags, data) < 0)
        return reef_err_errno(c->err, -errno, "mount %s on %s", fstype ? fstype : src, path);
    return 0;
}

static int make_dev(struct mount_ctx *c)
{
    static const struct {
        const char *name;
        unsigned maj, min;
    } nodes[] = {{"null", 1, 3},    {"zero", 1, 5},    {"full", 1, 7},
                 {"random", 1, 8},  {"urandom", 1, 9}, {"tty", 5, 0}};
    static const struct {
        const char *name, *target;
    } links[] = {{"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
                 {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
                 {"core", "/proc/kcore"},       {"ptmx", "pts/ptmx"}};
    int r = mount_in(c, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                     "mode=755,size=65536k", false);
    if (r < 0)
        return r;
    _cleanup_close_ int dev = openat2_in_root(c->rootfd, "/dev", O_RDONLY | O_DIRECTORY);
    if (dev < 0)
        return reef_err_errno(c->err, dev, "open /dev");
    mode_t old = umask(0);
    for (size_t i = 0; i < REEF_ARRAY_LEN(nodes); i++) {
        if (mknodat(dev, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) ==
            0)
            continue;
        /* Without CAP_MKNOD (a user namespace) bind the host's node instead. */
        int e = errno;
        char host[64];
        snprintf(host, sizeof(host), "/dev/%s", nodes[i].name);
        int f = openat(dev, nodes[i].name, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (f < 0) {
            umask(old);
            return reef_err_errno(c->err, -e, "mknod /dev/%s", nodes[i].name);
        }
        char target[64];
        snprintf(target, sizeof(target), "/proc/self/fd/%d", f);
        int mr = mount(host, target, NULL, MS_BIND, NULL);
        e = errno;
        close(f);
        if (mr < 0) {
            umask(old);
            return reef_err_errno(c->err, -e, "bind /dev/%s", nodes[i].name);
        }
    }
    umask(old);
    for (size_t i = 0; i < REEF_ARRAY_LEN(links); i++)
        if (symlinkat(links[i].target, dev, links[i].name) < 0 && errno != EEXIST)
            return reef_err_errno(c->err, -errno, "symlink /dev/%s", links[i].name);
    r = mount_in(c, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620,gid=5", false);
    if (r == 0)
        r = mount_in(c, "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "mode=1777,size=65536k", false);
    if (r == 0)
        r = mount_in(c, "mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     NULL, false);
    return r;
}

static int mount_sys(struct mount_ctx *c, bool new_netns)
{
    unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
    if (new_netns)
        return mount_in(c, "sysfs", "/sys", "sysfs", fl, NULL, false);
    /* Sharing the host's network: sysfs cannot be mounted anew, so bind the host's read-only. */
    /* made read-only by path after pivot_root */
    return mount_in(c, "/sys", "/sys", NULL, MS_BIND | MS_REC, NULL, false);
}

static int overlay_data(const struct reef_rootfs_spec *s, struct reef_buf *data,
                        struct reef_err *err)
{
    int r = reef_buf_puts(data, "lowerdir=");
    for (size_t i = 0; i < s->nlowers && r == 0; i++) {
        if (strpbrk(s->lowers[i], ":,"))
            return reef_err_set(err, -EINVAL, "layer path %s contains ':' or ','", s->lowers[i]);
        r = reef_buf_printf(data, "%s%s", i ? ":" : "", s->lowers[i]);
    }
    if (r == 0)
        r = reef_buf_printf(data, ",upperdir=%s,workdir=%s%s", s->upper, s->work,
                            s->volatile_upper ? ",volatile" : "");
    if (r < 0)
        return reef_err_set(err, r, "out of memory");
    if (data->len >= (size_t)getpagesize() - 1)
        return reef_err_set(err, -E2BIG,
                            "overlay: %zu layers make mount options longer than a page", s->nlowers);
    return 0;
}

static int remount_ro(const char *path, struct reef_err *err)
{
    /* A bind mount must be made first so the flags apply to this mount point only. */
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
        return reef_err_errno(err, -errno, "bind %s", path);
    if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
            0 &&
        mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
        return reef_err_errno(err, -errno, "make %s read-only", path);
    return 0;
}

static int mask_paths(struct reef_err *err)
{
    for (size_t i = 0; reef_masked_paths[i]; i++) {
        const char *p = reef_masked_paths[i];
        struct stat st;
        if (lstat(p, &st) < 0)
            continue;
        int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0")
                                    : mount("/dev/null", p, NULL, MS_BIND, NULL);
        if (r < 0)
            return reef_err_errno(err, -errno, "mask %s", p);
    }
    for (size_t i = 0; reef_readonly_paths[i]; i++) {
        if (access(reef_readonly_paths[i], F_OK) < 0)
            continue;
        int r = remount_ro(reef_readonly_paths[i], err);
        if (r < 0)
            return r;
    }
    return 0;
}

int reef_rootfs_enter(const struct reef_rootfs_spec *s, struct reef_err *err)
{
    /* Nothing done here may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        return reef_err_errno(err, -errno, "make / a slave mount");
    struct reef_buf data = REEF_BUF_INIT;
    int r;
    if (s->premounted) {
        /* Mounts inherited into a less privileged namespace are locked, and pivot_root refuses
         * a locked new root: a bind of it made here is ours. */
        r = mount(s->rootfs, s->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0 ? -errno : 0;
        if (r < 0)
            return reef_err_errno(err, r, "bind the root %s", s->rootfs);
    } else if (s->nlowers == 0) {
        r = mount(s->upper, s->rootfs, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
        if (r < 0)
            return reef_err_errno(err, r, "bind %s as the root", s->upper);
    } else {
        r = overlay_data(s, &data, err);
        if (r == 0 && mount("overlay", s->rootfs, "overlay", 0, data.data) < 0)
            r = reef_err_errno(err, -errno, "mount overlay on %s", s->rootfs);
        reef_buf_free(&data);
        if (r < 0)
            return r;
    }
    int rootfd = open(s->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return reef_err_errno(err, -errno, "open %s", s->rootfs);
    struct mount_ctx c = {rootfd, err};
    r = mount_in(&c, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, false);
    if (r == 0)
        r = make_dev(&c);
    if (r == 0)
        r = mount_sys(&c, s->new_netns);
    const struct {
        const char *src, *dst;
    } etc[] = {{s->hosts, "/etc/hosts"}, {s->hostname, "/etc/hostname"},
               {s->resolv, "/etc/resolv.conf"}};
    for (size_t i = 0; i < REEF_ARRAY_LEN(etc) && r == 0; i++)
        if (etc[i].src)
            r = mount_in(&c, etc[i].src, etc[i].dst, NULL, MS_BIND, NULL, true);
    for (size_t i = 0; i < s->nvolumes && r == 0; i++) {
        const struct reef_volume *v = &s->volumes[i];
        if (v->kind == REEF_VOLUME_TMPFS) {
            char opts[256];
            snprintf(opts, sizeof(opts), "mode=1777%s%s", v->options ? "," : "",
                     v->options ? v->options : "");
            r = mount_in(&c, "tmpfs", v->target, "tmpfs",
                         MS_NOSUID | MS_NODEV | (v->readonly ? MS_RDONLY : 0), opts, false);
            continue;
        }
        struct stat st;
        if (stat(v->source, &st) < 0) {
            r = reef_err_errno(err, -errno, "volume %s", v->source);
            break;
        }
        r = mount_in(&c, v->source, v->target, NULL, MS_BIND | MS_REC, NULL,
                     !S_ISDIR(st.st_mode));
    }
    close(rootfd);
    if (r < 0)
        return r;

    /* pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the
     * container's root, with no directory of the host reachable. */
    if (chdir(s->rootfs) < 0)
        return reef_err_errno(err, -errno, "chdir %s", s->rootfs);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return reef_err_errno(err, -errno, "pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
        return reef_err_errno(err, -errno, "detach the old root");
    if (chdir("/") < 0)
        return reef_err_errno(err, -errno, "chdir /");

    if (!s->new_netns && (r = remount_ro("/sys", err)) < 0)
        return r;
    for (size_t i = 0; i < s->nvolumes; i++)
        if (s->volumes[i].kind == REEF_VOLUME_BIND && s->volumes[i].readonly &&
            (r = remount_ro(s->volumes[i].target, err)) < 0)
            return r;
    if ((r = mask_paths(err)) < 0)
        return r;
    if (s->readonly &&
        mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
        return reef_err_errno(err, -errno, "make / read-only");
    return 0;
}

int reef_rootfs_mount_idmapped(const struct reef_rootfs_spec *s, int userns_fd,
                               const char *lower_base, struct reef_err *err)
{
    if (mkdir(lower_base, 0700) < 0 && errno != EEXIST)
        return reef_err_errno(err, -errno, "create %s", lower_base);
    char **paths = calloc(s->nlowers + 1, sizeof(char *));
    if (!paths)
        return reef_err_set(err, -ENOMEM, "out of memory");
    int r = 0;
    for (size_t i = 0; i < s->nlowers && r == 0; i++) {
        char target[PATH_MAX];
        snprintf(target, sizeof(target), "%s/%zu", lower_base, i);
        if (mkdir(target, 0700) < 0 && errno != EEXIST) {
            r = reef_err_errno(err, -errno, "create %s", target);
            break;
        }
        int fd = open_tree(AT_FDCWD, s->lowers[i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0) {
            r = reef_err_errno(err, -errno, "idmapped layer %s: open_tree", s->lowers[i]);
            break;
        }
        struct mount_attr attr = {
            .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY,
            .userns_fd = (uint64_t)userns_fd,
        };
        if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
            r = reef_err_errno(err, -errno, "idmapped layer %s: mount_setattr", s->lowers[i]);
        else if (move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
            r = reef_err_errno(err, -errno, "idmapped layer %s: move_mount", s->lowers[i]);
        close(fd);
        if (r == 0 && !(paths[i] = strdup(target)))
            r = reef_err_set(err, -ENOMEM, "out of memory");
    }
    if (r == 0) {
        struct reef_rootfs_spec shifted = *s;
        shifted.lowers = (const char *const *)paths;
        struct reef_buf data = REEF_BUF_INIT;
        r = overlay_data(&shifted, &data, err);
        if (r == 0 && mount("overlay", s->rootfs, "overlay", 0, data.data) < 0)
            r = reef_err_errno(err, -errno, "mount overlay on %s", s->rootfs);
        reef_buf_free(&data);
    }
    for (size_t i = 0; i < s->nlowers; i++)
        free(paths[i]);
    free(paths);
    return r;
}
