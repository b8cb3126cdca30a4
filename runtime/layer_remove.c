/* layer_remove: removing a (partially) unpacked layer tree. The tree came from an untrusted tar,
 * so it may hold symlinks to anywhere, directories without permissions and paths deeper than
 * PATH_MAX allows to name. The walk therefore goes by descriptor: down with openat(O_NOFOLLOW),
 * back up with openat(".."), checking each step against the device and inode recorded on the way
 * down, so it holds one directory descriptor at a time however deep the tree is and never leaves
 * it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/layer.h"

/* Subdirectories remembered per scan; a directory with more is scanned again once these are gone,
 * which bounds memory per level while keeping the walk linear for ordinary trees. */
#define PENDING_MAX 1024

struct level {
    char *name; /* this directory's name in its parent */
    dev_t dev;
    ino_t ino;
    char **pend;
    size_t npend, ipend;
    bool full;
};

static void level_clear_pending(struct level *l)
{
    for (size_t i = 0; i < l->npend; i++)
        free(l->pend[i]);
    l->npend = l->ipend = 0;
    l->full = false;
}

static int open_subdir(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
        /* Unprivileged, a directory without r/x cannot be listed: grant them to ourselves. */
        if (fchmodat(dfd, name, S_IRWXU, 0) == 0)
            fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    return fd < 0 ? -errno : fd;
}

static int unlink_in(int dfd, const char *name, int flags)
{
    if (unlinkat(dfd, name, flags) == 0 || errno == ENOENT)
        return 0;
    if (errno == EACCES && fchmod(dfd, S_IRWXU) == 0 && unlinkat(dfd, name, flags) == 0)
        return 0;
    return -errno;
}

/* Unlinks every non-directory in dfd and remembers up to PENDING_MAX subdirectories in l. */
static int scan(int dfd, struct level *l, struct reef_err *err)
{
    int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
    if (dup_fd < 0)
        return reef_err_errno(err, -errno, "layer: remove: dup");
    DIR *d = fdopendir(dup_fd);
    if (!d) {
        int e = errno;
        close(dup_fd);
        return reef_err_errno(err, -e, "layer: remove: opendir");
    }
    if (!l->pend) {
        l->pend = calloc(PENDING_MAX, sizeof(char *));
        if (!l->pend) {
            closedir(d);
            return reef_err_set(err, -ENOMEM, "layer: remove: out of memory");
        }
    }
    int r = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno != 0)
                r = reef_err_errno(err, -errno, "layer: remove: readdir");
            break;
        }
        const char *n = de->d_name;
        if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
            continue;
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                    continue;
                r = reef_err_errno(err, -errno, "layer: remove: stat %s", n);
                break;
            }
            is_dir = S_ISDIR(st.st_mode);
        }
        if (!is_dir) {
            r = unlink_in(dfd, n, 0);
            if (r < 0) {
                reef_err_errno(err, r, "layer: remove: unlink %s", n);
                break;
            }
            continue;
        }
        if (l->npend == PENDING_MAX) {
            l->full = true;
            continue;
        }
        l->pend[l->npend] = strdup(n);
        if (!l->pend[l->npend]) {
            r = reef_err_set(err, -ENOMEM, "layer: remove: out of memory");
            break;
        }
        l->npend++;
    }
    closedir(d);
    return r;
}

int reef__layer_remove_at(int dirfd, const char *name, struct reef_err *err)
{
    struct stat st, pst;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : reef_err_errno(err, -errno, "layer: remove: stat %s", name);
    if (!S_ISDIR(st.st_mode)) {
        int r = unlink_in(dirfd, name, 0);
        return r < 0 ? reef_err_errno(err, r, "layer: remove: unlink %s", name) : 0;
    }
    if (fstat(dirfd, &pst) < 0)
        return reef_err_errno(err, -errno, "layer: remove: stat parent");
    if (st.st_dev != pst.st_dev)
        return reef_err_set(err, -EXDEV, "layer: remove: %s is a mount point", name);

    struct level *levels = NULL;
    size_t depth = 0, cap = 0;
    int r = 0;
    int cur = open_subdir(dirfd, name);
    if (cur < 0)
        return reef_err_errno(err, cur, "layer: remove: open %s", name);
    cap = 16;
    levels = calloc(cap, sizeof(*levels));
    if (!levels) {
        close(cur);
        return reef_err_set(err, -ENOMEM, "layer: remove: out of memory");
    }
    levels[0].dev = st.st_dev;
    levels[0].ino = st.st_ino;
    depth = 1;
    r = scan(cur, &levels[0], err);
    while (r == 0) {
        struct level *l = &levels[depth - 1];
        if (l->ipend < l->npend) {
            const char *child = l->pend[l->ipend++];
            int nfd = open_subdir(cur, child);
            if (nfd == -ENOENT)
                continue;
            if (nfd == -ELOOP || nfd == -ENOTDIR) {
                /* It stopped being a directory since the scan. */
                r = unlink_in(cur, child, 0);
                if (r < 0)
                    reef_err_errno(err, r, "layer: remove: unlink %s", child);
                continue;
            }
            if (nfd < 0) {
                r = reef_err_errno(err, nfd, "layer: remove: open %s", child);
                break;
            }
            struct stat cst;
            if (fstat(nfd, &cst) < 0) {
                r = reef_err_errno(err, -errno, "layer: remove: stat %s", child);
                close(nfd);
                break;
            }
            if (cst.st_dev != l->dev) {
                close(nfd);
                r = reef_err_set(err, -EXDEV, "layer: remove: %s is a mount point", child);
                break;
            }
            if (depth == cap) {
                struct level *nl = realloc(levels, cap * 2 * sizeof(*nl));
                if (!nl) {
                    close(nfd);
                    r = reef_err_set(err, -ENOMEM, "layer: remove: out of memory");
                    break;
                }
                memset(nl + cap, 0, cap * sizeof(*nl));
                levels = nl;
                cap *= 2;
                l = &levels[depth - 1];
            }
            struct level *nlv = &levels[depth++];
            memset(nlv, 0, sizeof(*nlv));
            nlv->name = strdup(child);
            nlv->dev = cst.st_dev;
            nlv->ino = cst.st_ino;
            close(cur);
            cur = nfd;
            if (!nlv->name) {
                r = reef_err_set(err, -ENOMEM, "layer: remove: out of memory");
                break;
            }
            r = scan(cur, nlv, err);
            continue;
        }
        if (l->full) {
            level_clear_pending(l);
            r = scan(cur, l, err);
            continue;
        }
        /* cur is empty now. */
        if (depth == 1) {
            close(cur);
            cur = -1;
            r = unlink_in(dirfd, name, AT_REMOVEDIR);
            if (r < 0)
                reef_err_errno(err, r, "layer: remove: rmdir %s", name);
            break;
        }
        int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0) {
            r = reef_err_errno(err, -errno, "layer: remove: open ..");
            break;
        }
        struct stat ps;
        struct level *up = &levels[depth - 2];
        if (fstat(parent, &ps) < 0 || ps.st_dev != up->dev || ps.st_ino != up->ino) {
            close(parent);
            r = reef_err_set(err, -ESTALE, "layer: remove: tree moved during removal");
            break;
        }
        close(cur);
        cur = parent;
        r = unlink_in(cur, l->name, AT_REMOVEDIR);
        if (r < 0) {
            reef_err_errno(err, r, "layer: remove: rmdir %s", l->name);
            break;
        }
        level_clear_pending(l);
        free(l->pend);
        free(l->name);
        depth--;
    }
    if (cur >= 0)
        close(cur);
    for (size_t i = 0; i < depth; i++) {
        level_clear_pending(&levels[i]);
        free(levels[i].pend);
        free(levels[i].name);
    }
    free(levels);
    return r;
}

int reef_layer_remove_tree(const char *path, struct reef_err *err)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    char *copy = strndup(path, len);
    if (!copy)
        return reef_err_set(err, -ENOMEM, "layer: remove: out of memory");
    char *slash = strrchr(copy, '/');
    const char *dir = ".", *base = copy;
    if (slash) {
        *slash = '\0';
        dir = slash == copy ? "/" : copy;
        base = slash + 1;
    }
    int r;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        r = reef_err_set(err, -EINVAL, "layer: remove: refusing to remove \"%s\"", path);
    } else {
        /* The caller's own path up to the last component is trusted and may use symlinks. */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            r = errno == ENOENT ? 0 : reef_err_errno(err, -errno, "layer: remove: open %s", dir);
        } else {
            r = reef__layer_remove_at(dfd, base, err);
            close(dfd);
        }
    }
    free(copy);
    return r;
}
