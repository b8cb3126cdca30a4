#include "runtime/pod.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fs.h"
#include "runtime/layer.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

#define HOSTNAME_MAX 64 /* the kernel's limit */
#define UID_MAX_LEN 128

enum { NS_NET, NS_IPC, NS_UTS, NS_COUNT };

static const struct {
    const char *name;
    int flag;
} kinds[NS_COUNT] = {{"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}};

/* Kubernetes UIDs are UUIDs; anything that is one path component and no surprise is taken. */
static bool uid_valid(const char *uid)
{
    size_t n = strlen(uid);
    if (n == 0 || n > UID_MAX_LEN || strcmp(uid, ".") == 0 || strcmp(uid, "..") == 0)
        return false;
    for (const char *p = uid; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static char *ns_path(struct reef_pod_sandbox *sb, int kind)
{
    return kind == NS_NET ? sb->netns : kind == NS_IPC ? sb->ipcns : sb->utsns;
}

/* All three paths, whatever host_network says. */
static int all_paths(const char *pods_dir, const char *uid, struct reef_pod_sandbox *out,
                     struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!uid_valid(uid))
        return reef_err_set(err, -EINVAL, "pod sandbox: invalid pod UID \"%.140s\"", uid);
    if (pods_dir[0] != '/')
        return reef_err_set(err, -EINVAL, "pod sandbox: %.200s is not an absolute path",
                            pods_dir);
    int n = snprintf(out->dir, sizeof(out->dir), "%s/%s", pods_dir, uid);
    /* Room for "/ns/net" below it, and for the path of the ns directory itself. */
    if (n < 0 || (size_t)n + 8 >= sizeof(out->dir))
        return reef_err_set(err, -ENAMETOOLONG, "pod sandbox: path too long");
    for (int k = 0; k < NS_COUNT; k++)
        snprintf(ns_path(out, k), sizeof(out->netns), "%.4080s/ns/%s", out->dir, kinds[k].name);
    return 0;
}

int reef_pod_sandbox_paths(const char *pods_dir, const char *uid, bool host_network,
                           struct reef_pod_sandbox *out, struct reef_err *err)
{
    int r = all_paths(pods_dir, uid, out, err);
    if (r == 0 && host_network)
        out->netns[0] = '\0';
    return r;
}

static bool is_nsfs(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && sf.f_type == NSFS_MAGIC;
}

/* True when path is the root of a mount (a bind of a directory onto itself is one, though it
 * has the same device as its parent). */
static int is_mount_root(const char *path, bool *root)
{
    struct statx sx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
        return -errno;
    if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) {
        *root = (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
        return 0;
    }
    /* Before Linux 5.8: the mount IDs of the directory and its parent differ. */
    char parent[PATH_MAX];
    if ((size_t)snprintf(parent, sizeof(parent), "%s/..", path) >= sizeof(parent))
        return -ENAMETOOLONG;
    struct {
        struct file_handle h;
        unsigned char space[MAX_HANDLE_SZ];
    } a, b;
    int ida, idb;
    a.h.handle_bytes = b.h.handle_bytes = MAX_HANDLE_SZ;
    if (name_to_handle_at(AT_FDCWD, path, &a.h, &ida, 0) < 0 ||
        name_to_handle_at(AT_FDCWD, parent, &b.h, &idb, 0) < 0)
        return -errno;
    *root = ida != idb;
    return 0;
}

/* <pods_dir> becomes a private mount point (a bind onto itself when it is not a mount yet):
 * namespace files mounted below it then stay in this mount namespace. Idempotent. */
static int make_private(const char *pods_dir, struct reef_err *err)
{
    int r = reef_fs_mkdir_p(pods_dir, 0711);
    if (r < 0)
        return reef_err_errno(err, r, "pod sandbox: create %s", pods_dir);
    bool root = false;
    r = is_mount_root(pods_dir, &root);
    if (r < 0)
        return reef_err_errno(err, r, "pod sandbox: %s", pods_dir);
    if (!root && mount(pods_dir, pods_dir, NULL, MS_BIND | MS_REC, NULL) < 0)
        return reef_err_errno(err, -errno, "pod sandbox: bind %s onto itself", pods_dir);
    if (mount(NULL, pods_dir, NULL, MS_PRIVATE, NULL) < 0)
        return reef_err_errno(err, -errno, "pod sandbox: make %s a private mount", pods_dir);
    return 0;
}

/* Unmounts every namespace file of the sandbox (stacked ones too) and deletes the files. */
static void unmount_all(struct reef_pod_sandbox *sb)
{
    for (int k = 0; k < NS_COUNT; k++) {
        const char *p = ns_path(sb, k);
        for (int i = 0; i < 16 && umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
            ;
        unlink(p);
    }
}

/* What the namespace-making child reports when a step fails. */
struct report {
    int step; /* 0 unshare, 1 sethostname, 2 loopback, 3 + kind: mount */
    int err;
};

/* The child: only system calls (the caller may have had other threads when it forked). */
static __attribute__((noreturn)) void make_namespaces(int fd, int flags, const char *hostname,
                                                      char (*targets)[4096])
{
    struct report rep = {0, 0};
    if (unshare(flags) < 0)
        goto fail;
    rep.step = 1;
    if (sethostname(hostname, strlen(hostname)) < 0)
        goto fail;
    rep.step = 2;
    if (flags & CLONE_NEWNET) {
        /* A new network namespace's loopback is down; a pod's containers talk over it. */
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, "lo", 3);
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
            goto fail;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            goto fail;
        close(s);
    }
    for (int k = 0; k < NS_COUNT; k++) {
        rep.step = 3 + k;
        if (!(flags & kinds[k].flag))
            continue;
        char src[32] = "/proc/self/ns/";
        memcpy(src + 14, kinds[k].name, 4);
        if (mount(src, targets[k], NULL, MS_BIND, NULL) < 0)
            goto fail;
    }
    _exit(0);
fail:
    rep.err = errno;
    ssize_t n = write(fd, &rep, sizeof(rep));
    (void)n;
    _exit(1);
}

static int spawn_namespaces(struct reef_pod_sandbox *sb, int flags, const char *hostname,
                            struct reef_err *err)
{
    char targets[NS_COUNT][4096];
    for (int k = 0; k < NS_COUNT; k++)
        memcpy(targets[k], ns_path(sb, k), sizeof(targets[k]));
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return reef_err_errno(err, -errno, "pod sandbox: pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        make_namespaces(p[1], flags, hostname, targets);
    }
    int e = -errno;
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return reef_err_errno(err, e, "pod sandbox: fork");
    }
    struct report rep;
    ssize_t n;
    while ((n = read(p[0], &rep, sizeof(rep))) < 0 && errno == EINTR)
        ;
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)sizeof(rep)) {
        static const char *const steps[] = {"create namespaces", "set the host name",
                                            "bring the loopback up"};
        if (rep.step < 3)
            return reef_err_errno(err, -rep.err, "pod sandbox: %s", steps[rep.step]);
        int k = rep.step - 3 < NS_COUNT ? rep.step - 3 : 0;
        return reef_err_errno(err, -rep.err, "pod sandbox: bind the %s namespace onto %s",
                              kinds[k].name, ns_path(sb, k));
    }
    if (n != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return reef_err_set(err, -EIO, "pod sandbox: the namespace helper died");
    return 0;
}

int reef_pod_sandbox_create(const char *pods_dir, const char *uid, const char *hostname,
                            bool host_network, struct reef_pod_sandbox *out,
                            struct reef_err *err)
{
    struct reef_pod_sandbox sb;
    int r = all_paths(pods_dir, uid, &sb, err);
    if (r < 0)
        return r;
    size_t hl = strlen(hostname);
    if (hl == 0 || hl > HOSTNAME_MAX)
        return reef_err_set(err, -EINVAL, "pod sandbox: invalid host name \"%.80s\"", hostname);
    bool want[NS_COUNT] = {!host_network, true, true};
    bool complete = true, any = false;
    for (int k = 0; k < NS_COUNT; k++) {
        bool there = is_nsfs(ns_path(&sb, k));
        any |= there;
        complete &= there || !want[k];
    }
    if (complete) {
        *out = sb;
        if (host_network)
            out->netns[0] = '\0';
        return 0;
    }
    if (any) /* a crash halfway through an earlier create: nothing can be using it yet */
        unmount_all(&sb);
    r = make_private(pods_dir, err);
    if (r < 0)
        return r;
    char nsdir[sizeof(sb.dir) + 8];
    snprintf(nsdir, sizeof(nsdir), "%s/ns", sb.dir);
    if ((mkdir(sb.dir, 0711) < 0 && errno != EEXIST) ||
        (mkdir(nsdir, 0700) < 0 && errno != EEXIST))
        return reef_err_errno(err, -errno, "pod sandbox: create %s", nsdir);
    int flags = 0;
    for (int k = 0; k < NS_COUNT; k++) {
        if (!want[k])
            continue;
        flags |= kinds[k].flag;
        int fd = open(ns_path(&sb, k), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0400);
        if (fd < 0) {
            r = reef_err_errno(err, -errno, "pod sandbox: create %s", ns_path(&sb, k));
            unmount_all(&sb);
            return r;
        }
        close(fd);
    }
    r = spawn_namespaces(&sb, flags, hostname, err);
    if (r < 0) {
        unmount_all(&sb);
        return r;
    }
    *out = sb;
    if (host_network)
        out->netns[0] = '\0';
    return 0;
}

int reef_pod_sandbox_remove(const char *pods_dir, const char *uid, struct reef_err *err)
{
    struct reef_pod_sandbox sb;
    int r = all_paths(pods_dir, uid, &sb, err);
    if (r < 0)
        return r;
    unmount_all(&sb);
    r = reef_layer_remove_tree(sb.dir, err);
    return r < 0 ? reef_err_wrap(err, "pod sandbox %s", uid) : 0;
}
