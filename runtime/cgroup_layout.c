/* cgroup_layout: which cgroup hierarchies this host has, where they are mounted and where this
 * process sits in them, parsed from /proc/self/mountinfo, /proc/cgroups, /proc/self/cgroup and
 * cgroup.controllers (see reef_cgroup_layout_parse in cgroup.h). */
#define REEF_CGROUP_IMPL
#include "runtime/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cleanup.h"
#include "runtime/cgroup_internal.h"

static const char *const ctrl_names[REEF_CG_NCTRL] = {
    [REEF_CG_CPU] = "cpu",       [REEF_CG_CPUACCT] = "cpuacct", [REEF_CG_CPUSET] = "cpuset",
    [REEF_CG_MEMORY] = "memory", [REEF_CG_DEVICES] = "devices", [REEF_CG_FREEZER] = "freezer",
    [REEF_CG_BLKIO] = "blkio",   [REEF_CG_PIDS] = "pids",
};

const char *reef_cgroup_ctrl_name(enum reef_cgroup_ctrl c)
{
    return (unsigned)c < REEF_CG_NCTRL ? ctrl_names[c] : "?";
}

const char *reef_cgroup_mode_name(enum reef_cgroup_mode m)
{
    switch (m) {
    case REEF_CGROUP_V1:
        return "v1";
    case REEF_CGROUP_V2:
        return "v2";
    case REEF_CGROUP_HYBRID:
        return "hybrid";
    default:
        return "none";
    }
}

/* Controller index for a name as it appears in mount options, /proc/cgroups or (with v2) in
 * cgroup.controllers, where block I/O is called "io". -1 for names reef does not use. */
static int ctrl_from_name(const char *s, size_t n, bool v2)
{
    if (v2 && n == 2 && memcmp(s, "io", 2) == 0)
        return REEF_CG_BLKIO;
    for (int i = 0; i < REEF_CG_NCTRL; i++)
        if (strlen(ctrl_names[i]) == n && memcmp(ctrl_names[i], s, n) == 0)
            return i;
    return -1;
}

/* Mask of known controllers in a list separated by any of seps. */
static unsigned ctrl_mask(const char *s, size_t n, const char *seps, bool v2)
{
    unsigned mask = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !strchr(seps, s[j]))
            j++;
        int c = ctrl_from_name(s + i, j - i, v2);
        if (c >= 0)
            mask |= REEF_CG_BIT(c);
        i = j + 1;
    }
    return mask;
}

/* ---- Layout parsing (pure) ------------------------------------------------------------------- */

/* Splits the next whitespace-separated field off *p (which it advances). */
bool reef__cg_next_field(const char **p, const char *end, const char **f, size_t *n)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    if (s >= end)
        return false;
    const char *e = s;
    while (e < end && *e != ' ' && *e != '\t')
        e++;
    *f = s;
    *n = (size_t)(e - s);
    *p = e;
    return true;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. Returns a malloc'd copy. */
static char *unescape(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
            s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out[o++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static void mount_free(struct reef__cg_mount *m)
{
    free(m->mount);
    free(m->root);
    free(m->self);
    memset(m, 0, sizeof(*m));
}

void reef_cgroup_layout_free(struct reef_cgroup_layout *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->nv1; i++)
        mount_free(&l->v1[i]);
    mount_free(&l->v2);
    free(l);
}

/* Fills m from one mountinfo line's mount point and root, with the root prefix. */
static int mount_set(struct reef__cg_mount *m, const char *prefix, const char *mp, size_t mpn,
                     const char *root, size_t rootn, unsigned ctrls)
{
    _cleanup_free_ char *mpu = unescape(mp, mpn);
    _cleanup_free_ char *rootu = unescape(root, rootn);
    if (!mpu || !rootu)
        return -ENOMEM;
    struct reef_buf b = REEF_BUF_INIT;
    /* "/" alone as mount point under a prefix becomes just the prefix. */
    if (reef_buf_puts(&b, prefix) < 0 ||
        reef_buf_puts(&b, strcmp(mpu, "/") == 0 && *prefix ? "" : mpu) < 0) {
        reef_buf_free(&b);
        return -ENOMEM;
    }
    free(m->mount);
    free(m->root);
    m->mount = reef_buf_steal(&b);
    m->root = REEF_STEAL(rootu);
    m->ctrls = ctrls;
    return m->mount ? 0 : -ENOMEM;
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [optional...] - fstype src sopts". */
static int parse_mount_line(struct reef_cgroup_layout *l, const char *prefix, const char *s,
                            const char *end)
{
    const char *f[5];
    size_t n[5];
    const char *p = s;
    for (int i = 0; i < 5; i++)
        if (!reef__cg_next_field(&p, end, &f[i], &n[i]))
            return -EINVAL;
    const char *x;
    size_t xn;
    do {
        if (!reef__cg_next_field(&p, end, &x,
                                 &xn)) /* mount options, then optional fields up to "-" */
            return -EINVAL;
    } while (!(xn == 1 && x[0] == '-'));
    const char *fstype, *src, *sopts;
    size_t fstypen, srcn, soptsn;
    if (!reef__cg_next_field(&p, end, &fstype, &fstypen) ||
        !reef__cg_next_field(&p, end, &src, &srcn))
        return -EINVAL;
    if (!reef__cg_next_field(&p, end, &sopts, &soptsn))
        soptsn = 0, sopts = "";
    const char *root = f[3], *mp = f[4];
    size_t rootn = n[3], mpn = n[4];
    bool root_is_top = rootn == 1 && root[0] == '/';

    if (fstypen == 7 && memcmp(fstype, "cgroup2", 7) == 0) {
        /* Several cgroup2 mounts (bind mounts, containers): prefer one showing the whole tree. */
        if (l->has_v2 && (!root_is_top || strcmp(l->v2.root, "/") == 0))
            return 0;
        l->has_v2 = true;
        return mount_set(&l->v2, prefix, mp, mpn, root, rootn, 0);
    }
    if (!(fstypen == 6 && memcmp(fstype, "cgroup", 6) == 0))
        return 0;
    unsigned ctrls = ctrl_mask(sopts, soptsn, ",", false);
    if (!ctrls) /* name=systemd and other named hierarchies carry no controller */
        return 0;
    for (int i = 0; i < l->nv1; i++) {
        if (l->v1[i].ctrls == ctrls) {
            if (!root_is_top || strcmp(l->v1[i].root, "/") == 0)
                return 0;
            return mount_set(&l->v1[i], prefix, mp, mpn, root, rootn, ctrls);
        }
        if (l->v1[i].ctrls & ctrls) /* a controller lives in one hierarchy only: keep the first */
            return 0;
    }
    if (REEF_NEVER(l->nv1 >= REEF__CG_MAX_HIER))
        return -EINVAL;
    return mount_set(&l->v1[l->nv1++], prefix, mp, mpn, root, rootn, ctrls);
}

/* /proc/self/cgroup: "hierarchy-id:controllers:path"; "0::path" is the cgroup2 one. */
static int parse_self_cgroup(struct reef_cgroup_layout *l, const char *text)
{
    const char *s = text;
    while (*s) {
        const char *end = strchr(s, '\n');
        if (!end)
            end = s + strlen(s);
        const char *c1 = memchr(s, ':', (size_t)(end - s));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        if (c2 && c2 + 1 < end && c2[1] == '/') {
            const char *path = c2 + 1;
            size_t pn = (size_t)(end - path);
            struct reef__cg_mount *m = NULL;
            if (c2 == c1 + 1) {
                if (l->has_v2)
                    m = &l->v2;
            } else {
                unsigned ctrls = ctrl_mask(c1 + 1, (size_t)(c2 - c1 - 1), ",", false);
                for (int i = 0; ctrls && i < l->nv1; i++)
                    if (l->v1[i].ctrls == ctrls)
                        m = &l->v1[i];
            }
            if (m) {
                free(m->self);
                m->self = reef_strndup(path, pn);
                if (!m->self)
                    return -ENOMEM;
            }
        }
        s = *end ? end + 1 : end;
    }
    return 0;
}

/* /proc/cgroups: "#subsys_name hierarchy num_cgroups enabled". */
static unsigned parse_proc_cgroups(const char *text)
{
    unsigned mask = 0;
    const char *s = text;
    while (*s) {
        const char *end = strchr(s, '\n');
        if (!end)
            end = s + strlen(s);
        if (*s != '#') {
            const char *f[4];
            size_t n[4];
            const char *p = s;
            int k = 0;
            while (k < 4 && reef__cg_next_field(&p, end, &f[k], &n[k]))
                k++;
            int c = k == 4 ? ctrl_from_name(f[0], n[0], false) : -1;
            if (c >= 0 && n[3] == 1 && f[3][0] == '1')
                mask |= REEF_CG_BIT(c);
        }
        s = *end ? end + 1 : end;
    }
    return mask;
}

int reef_cgroup_layout_parse(const struct reef_cgroup_sources *src, struct reef_cgroup_layout **out,
                             struct reef_err *err)
{
    *out = NULL;
    if (!src || !src->mountinfo)
        return reef_err_set(err, -EINVAL, "cgroup layout: no mountinfo text");
    const char *prefix = src->root ? src->root : "";
    struct reef_cgroup_layout *l = calloc(1, sizeof(*l));
    if (!l)
        return reef_err_set(err, -ENOMEM, "cgroup layout: out of memory");
    int line = 0;
    for (const char *s = src->mountinfo; *s;) {
        const char *end = strchr(s, '\n');
        if (!end)
            end = s + strlen(s);
        line++;
        if (end > s) {
            int r = parse_mount_line(l, prefix, s, end);
            if (r < 0) {
                reef_cgroup_layout_free(l);
                if (r == -ENOMEM)
                    return reef_err_set(err, r, "cgroup layout: out of memory");
                return reef_err_set(err, r, "cgroup layout: mountinfo line %d is malformed", line);
            }
        }
        s = *end ? end + 1 : end;
    }
    if (src->self_cgroup && parse_self_cgroup(l, src->self_cgroup) < 0) {
        reef_cgroup_layout_free(l);
        return reef_err_set(err, -ENOMEM, "cgroup layout: out of memory");
    }
    for (int i = 0; i < l->nv1; i++)
        l->v1_ctrls |= l->v1[i].ctrls;
    if (l->has_v2 && src->v2_controllers)
        l->v2_ctrls = ctrl_mask(src->v2_controllers, strlen(src->v2_controllers), " \t\n", true);
    l->kernel = l->v1_ctrls | l->v2_ctrls;
    if (src->proc_cgroups)
        l->kernel |= parse_proc_cgroups(src->proc_cgroups);
    if (l->nv1 && l->has_v2)
        l->mode = REEF_CGROUP_HYBRID;
    else if (l->nv1)
        l->mode = REEF_CGROUP_V1;
    else if (l->has_v2)
        l->mode = REEF_CGROUP_V2;
    *out = l;
    return 0;
}

/* Reads a small proc/sys file whole; NULL (errno set) when it cannot. Caller frees. */
static char *slurp(const char *root, const char *path)
{
    char full[4096];
    if ((size_t)snprintf(full, sizeof(full), "%s%s", root, path) >= sizeof(full)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    _cleanup_close_ int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct reef_buf b = REEF_BUF_INIT;
    for (;;) {
        /* mountinfo of a busy host is a few hundred KiB at most; refuse runaway sizes. */
        if (b.len > (16u << 20) || reef_buf_reserve(&b, 65536) < 0) {
            reef_buf_free(&b);
            errno = EFBIG;
            return NULL;
        }
        ssize_t n = read(fd, b.data + b.len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            reef_buf_free(&b);
            errno = e;
            return NULL;
        }
        if (n == 0)
            break;
        b.len += (size_t)n;
        b.data[b.len] = '\0';
    }
    return reef_buf_steal(&b);
}

int reef_cgroup_layout_detect(const char *root, struct reef_cgroup_layout **out,
                              struct reef_err *err)
{
    *out = NULL;
    if (!root)
        root = "";
    _cleanup_free_ char *mountinfo = slurp(root, "/proc/self/mountinfo");
    if (!mountinfo)
        return reef_err_errno(err, -errno, "cgroup layout: read %s/proc/self/mountinfo", root);
    _cleanup_free_ char *proc_cgroups = slurp(root, "/proc/cgroups");
    _cleanup_free_ char *self = slurp(root, "/proc/self/cgroup");
    struct reef_cgroup_sources src = {
        .mountinfo = mountinfo, .proc_cgroups = proc_cgroups, .self_cgroup = self, .root = root};
    struct reef_cgroup_layout *l;
    int r = reef_cgroup_layout_parse(&src, &l, err);
    if (r < 0)
        return r;
    if (l->has_v2) {
        char ctl[1024];
        if (reef__cg_read(l->v2.mount, "cgroup.controllers", ctl, sizeof(ctl)) >= 0)
            l->v2_ctrls = ctrl_mask(ctl, strlen(ctl), " \t\n", true);
        l->kernel |= l->v2_ctrls;
    }
    *out = l;
    return 0;
}

enum reef_cgroup_mode reef_cgroup_layout_mode(const struct reef_cgroup_layout *l)
{
    return l->mode;
}

const char *reef_cgroup_layout_v1_mount(const struct reef_cgroup_layout *l, enum reef_cgroup_ctrl c)
{
    for (int i = 0; i < l->nv1; i++)
        if (l->v1[i].ctrls & REEF_CG_BIT(c))
            return l->v1[i].mount;
    return NULL;
}

const char *reef_cgroup_layout_v2_mount(const struct reef_cgroup_layout *l)
{
    return l->has_v2 ? l->v2.mount : NULL;
}

unsigned reef_cgroup_layout_kernel_ctrls(const struct reef_cgroup_layout *l)
{
    return l->kernel;
}

unsigned reef_cgroup_layout_ctrls(const struct reef_cgroup_layout *l)
{
    return l->mode == REEF_CGROUP_V2 ? l->v2_ctrls : l->v1_ctrls;
}
