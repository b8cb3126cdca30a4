/* Fuzz target for runtime/cgroup's parsers: the layout parser (mountinfo, /proc/cgroups,
 * /proc/self/cgroup, cgroup.controllers) and the stat-file readers (flat-keyed files, single
 * numbers, cpu.max), plus the cgroup path checker.
 *
 * The input is split at NUL bytes into up to six texts: mountinfo, /proc/cgroups,
 * /proc/self/cgroup, cgroup.controllers, a stat file, and a cgroup path. A text the input does not
 * reach is NULL (the optional sources) or "" (the rest). The layout that comes out must be
 * consistent with itself: what its accessors report is checked against its mode. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cgroup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NPARTS 6

static volatile size_t sink;

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* true when some '/'-separated component of p is "." or "..". */
static bool has_dot_component(const char *p)
{
    for (const char *s = p; *s;) {
        size_t n = strcspn(s, "/");
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return true;
        s += n;
        if (*s)
            s++;
    }
    return false;
}

static void check_layout(const struct reef_cgroup_layout *l, const char *root)
{
    enum reef_cgroup_mode m = reef_cgroup_layout_mode(l);
    check(m >= REEF_CGROUP_NONE && m <= REEF_CGROUP_HYBRID, "mode in range");
    check(strcmp(reef_cgroup_mode_name(m), "?") != 0, "mode has a name");
    const char *v2 = reef_cgroup_layout_v2_mount(l);
    bool any_v1 = false;
    unsigned v1_mask = 0;
    for (int c = 0; c < REEF_CG_NCTRL; c++) {
        const char *mp = reef_cgroup_layout_v1_mount(l, (enum reef_cgroup_ctrl)c);
        check(strcmp(reef_cgroup_ctrl_name((enum reef_cgroup_ctrl)c), "?") != 0, "ctrl name");
        if (!mp)
            continue;
        any_v1 = true;
        v1_mask |= REEF_CG_BIT(c);
        /* Reading the whole string lets ASan see that it is terminated and alive. */
        sink += strlen(mp);
        check(has_prefix(mp, root), "v1 mount under the root prefix");
    }
    if (v2) {
        sink += strlen(v2);
        check(has_prefix(v2, root), "v2 mount under the root prefix");
    }
    switch (m) {
    case REEF_CGROUP_NONE:
        check(!any_v1 && !v2, "mode none has no mounts");
        break;
    case REEF_CGROUP_V1:
        check(any_v1 && !v2, "mode v1 has v1 mounts only");
        break;
    case REEF_CGROUP_V2:
        check(!any_v1 && v2, "mode v2 has the cgroup2 mount only");
        break;
    case REEF_CGROUP_HYBRID:
        check(any_v1 && v2, "mode hybrid has both");
        break;
    }
    unsigned kernel = reef_cgroup_layout_kernel_ctrls(l);
    unsigned usable = reef_cgroup_layout_ctrls(l);
    unsigned all = REEF_CG_BIT(REEF_CG_NCTRL) - 1;
    check((kernel & ~all) == 0 && (usable & ~all) == 0, "masks name known controllers");
    check((usable & ~kernel) == 0, "usable controllers are enabled in the kernel");
    check((v1_mask & ~kernel) == 0, "mounted v1 controllers count as enabled");
    if (m != REEF_CGROUP_V2)
        check(usable == v1_mask, "v1 driver uses exactly the mounted v1 controllers");
}

static void stat_files(const char *text)
{
    static const char *const keys[] = {
        "inactive_file", "total_inactive_file", "oom_kill", "oom",
        "usage_usec",    "under_oom",           "max",      "",
    };
    uint64_t v, quota, period;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        int r = reef__cgroup_kv(text, keys[i], &v);
        check(r == 0 || r == -ENOENT || r == -EINVAL, "kv result");
    }
    int r = reef__cgroup_u64(text, &v);
    check(r == 0 || r == -EINVAL || r == -ERANGE, "u64 result");
    r = reef__cgroup_parse_cpu_max(text, &quota, &period);
    check(r == 0 || r < 0, "cpu.max result");
    if (r == 0)
        check(period != 0 && period != UINT64_MAX, "cpu.max period is a number");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* One copy, NUL-terminated, whose NULs then end the parts. */
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *part[NPARTS] = {0};
    size_t off = 0;
    for (int i = 0; i < NPARTS && off <= size; i++) {
        part[i] = buf + off;
        off += strlen(buf + off) + 1;
    }

    /* Half the inputs describe a host seen under a root prefix, as tests and `reef check` do. */
    const char *root = size % 2 ? "/fake/root" : "";
    struct reef_cgroup_sources src = {
        .mountinfo = part[0] ? part[0] : "",
        .proc_cgroups = part[1],
        .self_cgroup = part[2],
        .v2_controllers = part[3],
        .root = root,
    };
    struct reef_cgroup_layout *l = NULL;
    struct reef_err err = {0};
    int r = reef_cgroup_layout_parse(&src, &l, &err);
    if (r == 0) {
        check(l != NULL, "layout on success");
        check_layout(l, root);
        reef_cgroup_layout_free(l);
    } else {
        check(l == NULL && err.code == r && err.msg[0], "error reported");
    }

    for (int i = 0; i < NPARTS; i++)
        if (part[i])
            stat_files(part[i]);

    const char *path = part[5] ? part[5] : "";
    r = reef__cgroup_check_path(path, false, &err);
    check(r == 0 || (r < 0 && err.msg[0]), "parent check result");
    if (r == 0)
        check(!has_dot_component(path), "no . or .. component");
    r = reef__cgroup_check_path(path, true, &err);
    if (r == 0)
        check(strchr(path, '/') == NULL, "a name has no '/'");
    free(buf);
    return 0;
}
