#include "runtime/user.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cleanup.h"

#define FILE_MAX (4u << 20) /* a passwd or group file larger than this is not believable */

/* Splits one line into at most n ':'-separated fields in place. Returns the field count. */
static int split_fields(char *line, char **fields, int n)
{
    int i = 0;
    fields[i++] = line;
    for (char *p = line; *p && i < n; p++) {
        if (*p == ':') {
            *p = '\0';
            fields[i++] = p + 1;
        }
    }
    return i;
}

static bool parse_id(const char *s, unsigned *out)
{
    long long v;
    if (reef_str_to_ll(s, 0, UINT_MAX - 1, &v) < 0)
        return false;
    *out = (unsigned)v;
    return true;
}

/* Calls fn(line) for each line of text (a modifiable copy is made line by line). */
typedef bool (*line_fn)(void *ud, char *line);
static void each_line(const char *text, line_fn fn, void *ud)
{
    if (!text)
        return;
    char line[4096];
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        if (n < sizeof(line)) {
            memcpy(line, text, n);
            line[n] = '\0';
            if (line[0] && line[0] != '#' && fn(ud, line))
                return;
        }
        text += n + (nl ? 1 : 0);
    }
}

struct pw_find {
    const char *name; /* match by name, or */
    bool by_uid;
    unsigned uid;
    bool found;
    struct reef_user *u;
};

static bool pw_line(void *ud, char *line)
{
    struct pw_find *f = ud;
    char *fl[7];
    if (split_fields(line, fl, 7) < 7)
        return false;
    unsigned uid, gid;
    if (!parse_id(fl[2], &uid) || !parse_id(fl[3], &gid))
        return false;
    if (f->by_uid ? uid != f->uid : strcmp(fl[0], f->name) != 0)
        return false;
    f->found = true;
    f->u->uid = uid;
    f->u->gid = gid;
    reef_strlcpy(f->u->name, fl[0], sizeof(f->u->name));
    reef_strlcpy(f->u->home, fl[5][0] ? fl[5] : "/", sizeof(f->u->home));
    return true;
}

struct gr_find {
    const char *name;
    bool found;
    unsigned gid;
};

static bool gr_line(void *ud, char *line)
{
    struct gr_find *f = ud;
    char *fl[4];
    if (split_fields(line, fl, 4) < 3)
        return false;
    unsigned gid;
    if (strcmp(fl[0], f->name) != 0 || !parse_id(fl[2], &gid))
        return false;
    f->found = true;
    f->gid = gid;
    return true;
}

struct gr_members {
    const char *user;
    struct reef_user *u;
};

static bool member_line(void *ud, char *line)
{
    struct gr_members *m = ud;
    char *fl[4];
    unsigned gid;
    if (split_fields(line, fl, 4) < 4 || !parse_id(fl[2], &gid))
        return false;
    char *save = NULL;
    for (char *tok = strtok_r(fl[3], ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, m->user) != 0)
            continue;
        for (int i = 0; i < m->u->ngroups; i++)
            if (m->u->groups[i] == gid)
                return false;
        if (m->u->ngroups < REEF_USER_MAX_GROUPS)
            m->u->groups[m->u->ngroups++] = gid;
        break;
    }
    return false;
}

int reef_user_resolve_text(const char *passwd, const char *group, const char *spec,
                           struct reef_user *out, struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    strcpy(out->home, "/");
    if (!spec)
        spec = "";
    char user[256], grp[256];
    const char *colon = strchr(spec, ':');
    size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
    if (ulen >= sizeof(user) || (colon && strlen(colon + 1) >= sizeof(grp)))
        return reef_err_set(err, -EINVAL, "user \"%.64s\": too long", spec);
    memcpy(user, spec, ulen);
    user[ulen] = '\0';
    reef_strlcpy(grp, colon ? colon + 1 : "", sizeof(grp));
    if (colon && !grp[0])
        return reef_err_set(err, -EINVAL, "user \"%.64s\": empty group", spec);

    struct pw_find pf = {.u = out};
    unsigned id;
    if (!user[0]) {
        pf.by_uid = true; /* root, with its passwd entry when there is one */
        pf.uid = 0;
        each_line(passwd, pw_line, &pf);
    } else if (parse_id(user, &id)) {
        pf.by_uid = true;
        pf.uid = id;
        each_line(passwd, pw_line, &pf);
        out->uid = id;
        if (!pf.found)
            out->gid = 0; /* an unnamed uid runs with group 0, as Docker does */
    } else {
        pf.name = user;
        each_line(passwd, pw_line, &pf);
        if (!pf.found)
            return reef_err_set(err, -ENOENT,
                                "unable to find user %.64s: no matching entries in passwd file",
                                user);
    }
    if (grp[0]) {
        if (parse_id(grp, &id)) {
            out->gid = id;
        } else {
            struct gr_find gf = {.name = grp};
            each_line(group, gr_line, &gf);
            if (!gf.found)
                return reef_err_set(
                    err, -ENOENT,
                    "unable to find group %.64s: no matching entries in group file", grp);
            out->gid = gf.gid;
        }
    }
    if (out->name[0]) {
        struct gr_members gm = {.user = out->name, .u = out};
        each_line(group, member_line, &gm);
    }
    return 0;
}

int reef_rootfs_open(int rootfs_fd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    };
    while (*path == '/')
        path++;
    long fd = syscall(SYS_openat2, rootfs_fd, *path ? path : ".", &how, sizeof(how));
    if (fd >= 0)
        return (int)fd;
    if (errno != ENOSYS)
        return -errno;
    /* Kernels before 5.6: walk the path refusing every symlink, which is stricter than needed
     * but never leaves the root. */
    char copy[PATH_MAX];
    if (reef_strlcpy(copy, path, sizeof(copy)) >= sizeof(copy))
        return -ENAMETOOLONG;
    int dir = dup(rootfs_fd);
    if (dir < 0)
        return -errno;
    char *save = NULL;
    char *comp = strtok_r(copy, "/", &save);
    while (comp) {
        char *next = strtok_r(NULL, "/", &save);
        if (strcmp(comp, "..") == 0) {
            close(dir);
            return -EXDEV;
        }
        int f = openat(dir, comp, (next ? O_DIRECTORY | O_RDONLY : flags) | O_NOFOLLOW |
                                      O_CLOEXEC);
        int e = errno;
        close(dir);
        if (f < 0)
            return -e;
        dir = f;
        comp = next;
    }
    return dir;
}

static int read_small(int rootfs_fd, const char *path, char **out, struct reef_err *err)
{
    *out = NULL;
    _cleanup_close_ int fd = reef_rootfs_open(rootfs_fd, path, O_RDONLY);
    if (fd == -ENOENT)
        return 0;
    if (fd < 0)
        return reef_err_errno(err, fd, "open %s in the image", path);
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = -errno;
            reef_buf_free(&b);
            return reef_err_errno(err, e, "read %s in the image", path);
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > FILE_MAX || reef_buf_append(&b, chunk, (size_t)n) < 0) {
            reef_buf_free(&b);
            return reef_err_set(err, -EFBIG, "%s in the image is too large", path);
        }
    }
    *out = reef_buf_steal(&b);
    return 0;
}

int reef_user_resolve(int rootfs_fd, const char *spec, struct reef_user *out,
                      struct reef_err *err)
{
    _cleanup_free_ char *passwd = NULL;
    _cleanup_free_ char *group = NULL;
    int r = read_small(rootfs_fd, "/etc/passwd", &passwd, err);
    if (r == 0)
        r = read_small(rootfs_fd, "/etc/group", &group, err);
    if (r == 0)
        r = reef_user_resolve_text(passwd, group, spec, out, err);
    return r;
}
