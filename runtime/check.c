#include "runtime/check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "core/cleanup.h"

/* Limits on what is read: every file here is small on a real machine, and a fake or hostile
 * tree must not make the check allocate without bound. */
#define SMALL_MAX (64 * 1024)
#define LIST_MAX (16 * 1024 * 1024) /* mountinfo, modules.dep, the kernel config */
#define WALK_MAX_ENTRIES 200000
#define WALK_MAX_DEPTH 12

#define CGROUP_V2_FILE "/cgroup.controllers"

struct ctx {
    char root[4096]; /* "" for the real machine, else the prefix without a trailing slash */
    char release[65];
    char *config;      /* kernel config text, NULL when none was found */
    char *filesystems; /* /proc/filesystems */
    char *builtin;     /* modules.builtin */
    char *moddep;      /* modules.dep */
    bool have_moddir;  /* /lib/modules/<release> exists */
    char *mountinfo;
    char *proc_cgroups;
    char *status; /* /proc/self/status */
    char *cmdline;
    char v1_mount[16][128]; /* per controller index below: its v1 mount point, "" when none */
    char *v2_controllers;   /* cgroup.controllers of the cgroup2 mount */
};

/* ---- reading files under the root ---- */

static void path_of(const struct ctx *c, const char *rel, char *out, size_t size)
{
    snprintf(out, size, "%s%s", c->root, rel);
}

static bool exists(const struct ctx *c, const char *rel)
{
    char p[4608];
    path_of(c, rel, p, sizeof(p));
    return access(p, F_OK) == 0;
}

/* Reads a whole file (at most max bytes; longer files are cut) into a NUL-terminated malloc'd
 * string. NULL when the file cannot be read. Embedded NULs (device-tree strings) become
 * newlines so the text can be searched. */
static char *slurp_path(const char *p, size_t max)
{
    _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            reef_buf_free(&b);
            return NULL;
        }
        if (n == 0)
            break;
        size_t take = b.len + (size_t)n > max ? max - b.len : (size_t)n;
        if (reef_buf_append(&b, chunk, take) < 0) {
            reef_buf_free(&b);
            return NULL;
        }
        if (b.len >= max)
            break;
    }
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == '\0')
            b.data[i] = '\n';
    return reef_buf_steal(&b);
}

static char *slurp(const struct ctx *c, const char *rel, size_t max)
{
    char p[4608];
    path_of(c, rel, p, sizeof(p));
    return slurp_path(p, max);
}

/* zlib's gzread also passes plain files through, so one reader serves config.gz and config. */
static char *slurp_gz(const char *p, size_t max)
{
    gzFile f = gzopen(p, "rb");
    if (!f)
        return NULL;
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[16384];
    int n;
    while (b.len < max && (n = gzread(f, chunk, sizeof(chunk))) > 0) {
        size_t take = b.len + (size_t)n > max ? max - b.len : (size_t)n;
        if (reef_buf_append(&b, chunk, take) < 0)
            break;
    }
    int bad = 0;
    gzerror(f, &bad);
    gzclose(f);
    if (bad != Z_OK && bad != Z_BUF_ERROR && b.len == 0) {
        reef_buf_free(&b);
        return NULL;
    }
    return reef_buf_steal(&b);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Finds a line of text that, after leading whitespace, equals word or starts with word followed
 * by one of the characters in after. Returns a pointer just past word, or NULL. */
static const char *find_line(const char *text, const char *word, const char *after)
{
    size_t wl = strlen(word);
    for (const char *l = text; l && *l;) {
        const char *s = l;
        while (*s == ' ' || *s == '\t')
            s++;
        if (strncmp(s, word, wl) == 0 && (s[wl] == '\n' || s[wl] == '\0' || strchr(after, s[wl])))
            return s + wl;
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return NULL;
}

/* ---- kernel config ---- */

/* 'y' or 'm' when the symbol is set, 'n' when the config does not enable it, 0 without config. */
static char config_get(const struct ctx *c, const char *sym)
{
    if (!c->config)
        return 0;
    char key[64];
    snprintf(key, sizeof(key), "CONFIG_%s", sym);
    const char *v = find_line(c->config, key, "=");
    if (!v || v[0] != '=')
        return 'n';
    return v[1] == 'y' || v[1] == 'm' ? v[1] : 'n';
}

static void load_config(struct ctx *c, struct reef_check_report *r)
{
    char cand[3][160];
    snprintf(cand[0], sizeof(cand[0]), "/proc/config.gz");
    snprintf(cand[1], sizeof(cand[1]), "/boot/config-%s", c->release);
    snprintf(cand[2], sizeof(cand[2]), "/lib/modules/%s/config", c->release);
    for (size_t i = 0; i < REEF_ARRAY_LEN(cand); i++) {
        char p[4608];
        path_of(c, cand[i], p, sizeof(p));
        char *text = slurp_gz(p, LIST_MAX);
        if (text && strstr(text, "CONFIG_")) {
            c->config = text;
            reef_strlcpy(r->config_source, cand[i], sizeof(r->config_source));
            return;
        }
        free(text);
    }
}

/* ---- modules ---- */

/* Module names treat '-' and '_' alike; file names use either. */
static bool same_module(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return true;
}

/* Does a base name like "veth.ko", "veth.ko.xz" or "veth.ko.zst" name module mod? */
static bool is_module_file(const char *base, size_t len, const char *mod)
{
    static const char *const ext[] = {".ko", ".ko.xz", ".ko.zst", ".ko.gz"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(ext); i++) {
        size_t el = strlen(ext[i]);
        if (len > el && memcmp(base + len - el, ext[i], el) == 0 &&
            same_module(base, len - el, mod))
            return true;
    }
    return false;
}

/* Searches a list of module paths, one per line, each ending its first field with a file name
 * (modules.builtin: "kernel/fs/overlayfs/overlay.ko"; modules.dep: "kernel/...ko.xz: deps"). */
static bool list_has_module(const char *list, const char *mod)
{
    for (const char *l = list; l && *l;) {
        const char *end = l + strcspn(l, ":\n");
        const char *base = end;
        while (base > l && base[-1] != '/')
            base--;
        if (is_module_file(base, (size_t)(end - base), mod))
            return true;
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return false;
}

static bool walk_for_module(char *path, size_t cap, int depth, int *budget, const char *mod)
{
    if (depth > WALK_MAX_DEPTH)
        return false;
    DIR *d = opendir(path);
    if (!d)
        return false;
    size_t plen = strlen(path);
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) && --*budget > 0) {
        if (e->d_name[0] == '.')
            continue;
        size_t nl = strlen(e->d_name);
        if (is_module_file(e->d_name, nl, mod)) {
            found = true;
            break;
        }
        if (plen + 1 + nl + 1 > cap)
            continue;
        bool dir = e->d_type == DT_DIR;
        path[plen] = '/';
        memcpy(path + plen + 1, e->d_name, nl + 1);
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            dir = lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
        }
        if (dir)
            found = walk_for_module(path, cap, depth + 1, budget, mod);
        path[plen] = '\0';
    }
    closedir(d);
    return found;
}

static bool module_file_exists(const struct ctx *c, const char *mod)
{
    if (c->moddep)
        return list_has_module(c->moddep, mod);
    if (!c->have_moddir)
        return false;
    /* No modules.dep (depmod never ran): look at the files themselves. */
    char p[4608];
    char rel[128];
    snprintf(rel, sizeof(rel), "/lib/modules/%s", c->release);
    path_of(c, rel, p, sizeof(p));
    int budget = WALK_MAX_ENTRIES;
    return walk_for_module(p, sizeof(p), 0, &budget, mod);
}

/* ---- items ---- */

static struct reef_check_item *add(struct reef_check_report *r, const char *name, bool required)
{
    if (REEF_NEVER(r->n >= REEF_CHECK_MAX_ITEMS))
        return &r->items[REEF_CHECK_MAX_ITEMS - 1];
    struct reef_check_item *it = &r->items[r->n++];
    memset(it, 0, sizeof(*it));
    reef_strlcpy(it->name, name, sizeof(it->name));
    it->required = required;
    return it;
}

static void set(struct reef_check_item *it, enum reef_check_state s, const char *fmt, ...)
    REEF_PRINTF(3, 4);
static void set(struct reef_check_item *it, enum reef_check_state s, const char *fmt, ...)
{
    it->state = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
    va_end(ap);
}

static void hint(struct reef_check_item *it, const char *fmt, ...) REEF_PRINTF(2, 3);
static void hint(struct reef_check_item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->hint, sizeof(it->hint), fmt, ap);
    va_end(ap);
}

struct feature {
    const char *name;
    bool required;
    const char *fs;         /* file system name in /proc/filesystems, or NULL */
    const char *modules[3]; /* module names, any of which provides it */
    const char *config;     /* kernel config symbol without CONFIG_ */
    const char *why;        /* what reef uses it for, for the hint */
};

/* /proc/filesystems lines are "nodev\toverlay" or "\text4": the name is the last field. */
static bool fs_listed(const char *text, const char *fs)
{
    size_t fl = strlen(fs);
    for (const char *l = text; l && *l;) {
        const char *nl = l + strcspn(l, "\n");
        const char *name = nl;
        while (name > l && name[-1] != '\t' && name[-1] != ' ')
            name--;
        if ((size_t)(nl - name) == fl && memcmp(name, fs, fl) == 0)
            return true;
        l = *nl ? nl + 1 : NULL;
    }
    return false;
}

static void check_feature(struct ctx *c, struct reef_check_report *r, const struct feature *f)
{
    struct reef_check_item *it = add(r, f->name, f->required);
    const char *mod = f->modules[0];
    if (f->fs && fs_listed(c->filesystems, f->fs)) {
        set(it, REEF_CHECK_OK, "available");
        return;
    }
    for (size_t i = 0; i < REEF_ARRAY_LEN(f->modules) && f->modules[i]; i++) {
        char rel[128];
        snprintf(rel, sizeof(rel), "/sys/module/%s", f->modules[i]);
        if (exists(c, rel)) {
            /* Only loadable modules have an initstate; built-in code with parameters shows
             * up in /sys/module too. */
            reef_strlcpy(rel + strlen(rel), "/initstate", sizeof(rel) - strlen(rel));
            set(it, REEF_CHECK_OK, exists(c, rel) ? "loaded" : "built-in");
            return;
        }
    }
    for (size_t i = 0; i < REEF_ARRAY_LEN(f->modules) && f->modules[i]; i++)
        if (c->builtin && list_has_module(c->builtin, f->modules[i])) {
            set(it, REEF_CHECK_OK, "built-in");
            return;
        }
    char cfg = config_get(c, f->config);
    if (cfg == 'y') {
        set(it, REEF_CHECK_OK, "built-in");
        return;
    }
    for (size_t i = 0; i < REEF_ARRAY_LEN(f->modules) && f->modules[i]; i++) {
        if (module_file_exists(c, f->modules[i])) {
            it->module = true;
            set(it, REEF_CHECK_OK, "module %s, not loaded yet", f->modules[i]);
            return;
        }
    }
    if (cfg == 'm') {
        set(it, REEF_CHECK_MISSING, "CONFIG_%s=m but no %s module installed", f->config, mod);
        hint(it,
             "%s: install the kernel modules package for %s (the %s module is not under "
             "/lib/modules/%s)",
             f->why, c->release, mod, c->release);
    } else if (cfg == 'n') {
        set(it, REEF_CHECK_MISSING, "kernel built without CONFIG_%s", f->config);
        hint(it, "%s: use a kernel with CONFIG_%s=y or =m", f->why, f->config);
    } else {
        set(it, REEF_CHECK_MISSING, "not loaded, not built in, no %s module found", mod);
        hint(it,
             "%s: try `modprobe %s`, or use a kernel with CONFIG_%s (no kernel config was found "
             "at /proc/config.gz or /boot/config-%s to confirm)",
             f->why, mod, f->config, c->release);
    }
}

static void check_namespaces(struct ctx *c, struct reef_check_report *r)
{
    static const struct {
        const char *name, *file, *config;
        bool required;
    } ns[] = {
        {"namespace mount", "mnt", "NAMESPACES", true},
        {"namespace pid", "pid", "PID_NS", true},
        {"namespace net", "net", "NET_NS", true},
        {"namespace uts", "uts", "UTS_NS", true},
        {"namespace ipc", "ipc", "IPC_NS", true},
        {"namespace user", "user", "USER_NS", false},
        {"namespace cgroup", "cgroup", "CGROUPS", false},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(ns); i++) {
        struct reef_check_item *it = add(r, ns[i].name, ns[i].required);
        char rel[64];
        snprintf(rel, sizeof(rel), "/proc/self/ns/%s", ns[i].file);
        char cfg = config_get(c, ns[i].config);
        if (exists(c, rel) || cfg == 'y')
            set(it, REEF_CHECK_OK, "available");
        else if (cfg == 'n')
            set(it, REEF_CHECK_MISSING, "kernel built without CONFIG_%s", ns[i].config);
        else
            set(it, REEF_CHECK_MISSING, "no /proc/self/ns/%s", ns[i].file);
        if (it->state == REEF_CHECK_MISSING)
            hint(it, "use a kernel with CONFIG_NAMESPACES and CONFIG_%s", ns[i].config);
    }
    /* A kernel may have user namespaces but forbid creating them. */
    struct reef_check_item *user = &r->items[r->n - 2];
    _cleanup_free_ char *max = slurp(c, "/proc/sys/user/max_user_namespaces", SMALL_MAX);
    if (user->state == REEF_CHECK_OK && max && atol(max) == 0) {
        set(user, REEF_CHECK_MISSING, "disabled: user.max_user_namespaces is 0");
        hint(user, "only rootless containers need them: sysctl -w user.max_user_namespaces=15000");
    }
}

/* ---- cgroups ---- */

static const char *const controllers[] = {"memory", "cpu", "pids", "cpuset"};

/* Every v1 controller the kernel has had. */
#define V1_CONTROLLERS                                                                             \
    "cpu cpuacct cpuset memory devices freezer net_cls net_prio blkio perf_event hugetlb pids "    \
    "rdma misc debug"

static bool word_in(const char *list, const char *word);

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            *o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* Reads the cgroup mounts out of mountinfo: for each controller its v1 mount point, and where
 * cgroup2 is (the mount at /sys/fs/cgroup wins when there are several). */
static void parse_mountinfo(struct ctx *c, struct reef_check_report *r, int *v1_mounts)
{
    *v1_mounts = 0;
    for (char *l = c->mountinfo; l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        /* id parent major:minor root mountpoint options [optional...] - fstype source super */
        char *sep = strstr(l, " - ");
        char mp[512] = "";
        char fstype[32] = "", source[64] = "", super[512] = "";
        if (sep && sscanf(l, "%*s %*s %*s %*s %511s", mp) == 1 &&
            sscanf(sep + 3, "%31s %63s %511s", fstype, source, super) >= 1) {
            unescape(mp);
            if (strcmp(fstype, "cgroup2") == 0) {
                if (!r->cgroup2_mount[0] || strcmp(mp, "/sys/fs/cgroup") == 0)
                    reef_strlcpy(r->cgroup2_mount, mp, sizeof(r->cgroup2_mount));
            } else if (strcmp(fstype, "cgroup") == 0) {
                bool real = false;
                for (char *save = NULL, *tok = strtok_r(super, ",", &save); tok;
                     tok = strtok_r(NULL, ",", &save)) {
                    for (size_t i = 0; i < REEF_ARRAY_LEN(controllers); i++) {
                        if (strcmp(tok, controllers[i]) == 0 && !c->v1_mount[i][0])
                            reef_strlcpy(c->v1_mount[i], mp, sizeof(c->v1_mount[i]));
                    }
                    /* Named hierarchies (name=systemd) and options like xattr carry no
                     * controller. */
                    if (word_in(V1_CONTROLLERS, tok))
                        real = true;
                }
                if (real)
                    ++*v1_mounts;
            }
        }
        if (!nl)
            break;
        *nl = '\n';
        l = nl + 1;
    }
}

/* /proc/cgroups: "memory 4 38 1" -> 1 enabled, 0 disabled at boot, -1 unknown to this kernel. */
static int proc_cgroups_enabled(const struct ctx *c, const char *ctl)
{
    if (!c->proc_cgroups)
        return -1;
    const char *v = find_line(c->proc_cgroups, ctl, " \t");
    if (!v)
        return -1;
    int hier = 0, num = 0, en = 0;
    if (sscanf(v, "%d %d %d", &hier, &num, &en) != 3)
        return -1;
    return en ? 1 : 0;
}

static bool word_in(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; p && *p;) {
        p += strspn(p, " \t\n");
        size_t n = strcspn(p, " \t\n");
        if (n == wl && memcmp(p, word, wl) == 0)
            return true;
        p += n;
    }
    return false;
}

static void pi_memory_hint(struct ctx *c, struct reef_check_item *it)
{
    const char *file;
    const char *also = "";
    if (exists(c, "/boot/firmware/cmdline.txt")) {
        file = "/boot/firmware/cmdline.txt";
    } else if (exists(c, "/boot/cmdline.txt")) {
        file = "/boot/cmdline.txt";
    } else {
        file = "/boot/firmware/cmdline.txt";
        also = " (/boot/cmdline.txt on Raspberry Pi OS before Bookworm)";
    }
    hint(it,
         "Raspberry Pi kernels start with the memory controller off: add "
         "`cgroup_memory=1 cgroup_enable=memory` to the end of the single line in %s%s, then "
         "reboot",
         file, also);
}

static void check_cgroups(struct ctx *c, struct reef_check_report *r)
{
    int v1 = 0;
    parse_mountinfo(c, r, &v1);
    bool v2 = r->cgroup2_mount[0] != '\0';
    r->layout = v1 && v2 ? REEF_CGROUP_HYBRID
                : v1     ? REEF_CGROUP_V1
                : v2     ? REEF_CGROUP_V2
                         : REEF_CGROUP_NONE;
    if (v2) {
        char rel[256];
        snprintf(rel, sizeof(rel), "%s" CGROUP_V2_FILE, r->cgroup2_mount);
        c->v2_controllers = slurp(c, rel, SMALL_MAX);
    }
    struct reef_check_item *it = add(r, "cgroup layout", true);
    switch (r->layout) {
    case REEF_CGROUP_HYBRID:
        set(it, REEF_CHECK_OK, "hybrid: v1 controllers, cgroup2 at %s", r->cgroup2_mount);
        break;
    case REEF_CGROUP_V1:
        set(it, REEF_CHECK_OK, "v1");
        break;
    case REEF_CGROUP_V2:
        set(it, REEF_CHECK_OK, "v2 (unified) at %s", r->cgroup2_mount);
        break;
    case REEF_CGROUP_NONE:
        set(it, REEF_CHECK_MISSING, "no cgroup file system mounted");
        hint(it, "mount cgroup2: `mount -t cgroup2 cgroup2 /sys/fs/cgroup`");
        break;
    }

    static const char *const config[] = {"MEMCG", "CGROUP_SCHED", "CGROUP_PIDS", "CPUSETS"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(controllers); i++) {
        const char *ctl = controllers[i];
        char name[32];
        snprintf(name, sizeof(name), "cgroup %s", ctl);
        it = add(r, name, strcmp(ctl, "cpuset") != 0);
        int en = proc_cgroups_enabled(c, ctl);
        bool on_v2 = c->v2_controllers && word_in(c->v2_controllers, ctl);
        if (en != 0 && c->v1_mount[i][0]) {
            set(it, REEF_CHECK_OK, "v1 at %s", c->v1_mount[i]);
            continue;
        }
        if (en != 0 && on_v2) {
            set(it, REEF_CHECK_OK, "v2");
            continue;
        }
        if (en == 0) {
            set(it, REEF_CHECK_MISSING, "disabled on the kernel command line");
            if (strcmp(ctl, "memory") == 0 && r->raspberry_pi)
                pi_memory_hint(c, it);
            else if (c->cmdline && strstr(c->cmdline, "cgroup_disable="))
                hint(it,
                     "remove cgroup_disable=%s from the kernel command line (or add "
                     "cgroup_enable=%s), then reboot",
                     ctl, ctl);
            else
                hint(it, "add cgroup_enable=%s to the kernel command line, then reboot", ctl);
        } else if (en < 0 && config_get(c, config[i]) != 'y' && config_get(c, config[i]) != 0) {
            set(it, REEF_CHECK_MISSING, "kernel built without CONFIG_%s", config[i]);
            hint(it, "use a kernel with CONFIG_%s=y", config[i]);
        } else if (r->layout == REEF_CGROUP_NONE) {
            set(it, REEF_CHECK_MISSING, "no cgroup file system mounted");
            hint(it, "mount cgroup2 at /sys/fs/cgroup first");
        } else {
            set(it, REEF_CHECK_MISSING, "not available in any mounted hierarchy");
            if (strcmp(ctl, "memory") == 0 && r->raspberry_pi)
                pi_memory_hint(c, it);
            else if (r->layout == REEF_CGROUP_V1 || r->layout == REEF_CGROUP_HYBRID)
                hint(it,
                     "mount its v1 hierarchy: `mkdir -p /sys/fs/cgroup/%s && mount -t cgroup "
                     "-o %s cgroup /sys/fs/cgroup/%s`",
                     ctl, ctl, ctl);
            else
                hint(it,
                     "the kernel does not offer it in %s" CGROUP_V2_FILE
                     "; check the kernel command line for cgroup_disable=%s",
                     r->cgroup2_mount, ctl);
        }
    }
}

/* ---- seccomp, forwarding ---- */

static void check_seccomp(struct ctx *c, struct reef_check_report *r)
{
    struct reef_check_item *it = add(r, "seccomp", false);
    char cfg = config_get(c, "SECCOMP");
    if ((c->status && find_line(c->status, "Seccomp", ":")) || cfg == 'y')
        set(it, REEF_CHECK_OK, "available");
    else
        set(it, REEF_CHECK_MISSING,
            cfg == 'n' ? "kernel built without CONFIG_SECCOMP"
                       : "no Seccomp field in /proc/self/status");
    struct reef_check_item *f = add(r, "seccomp filter", false);
    cfg = config_get(c, "SECCOMP_FILTER");
    if ((c->status && find_line(c->status, "Seccomp_filters", ":")) ||
        exists(c, "/proc/sys/kernel/seccomp/actions_avail") || cfg == 'y')
        set(f, REEF_CHECK_OK, "available");
    else
        set(f, REEF_CHECK_MISSING,
            cfg == 'n' ? "kernel built without CONFIG_SECCOMP_FILTER" : "no seccomp filter mode");
    if (it->state != REEF_CHECK_OK || f->state != REEF_CHECK_OK) {
        const char *why = "containers would run without reef's default system-call filter: use a "
                          "kernel with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER";
        if (it->state != REEF_CHECK_OK)
            hint(it, "%s", why);
        if (f->state != REEF_CHECK_OK)
            hint(f, "%s", why);
    }
}

static void check_forwarding(struct ctx *c, struct reef_check_report *r)
{
    struct reef_check_item *it = add(r, "ip_forward", false);
    _cleanup_free_ char *v = slurp(c, "/proc/sys/net/ipv4/ip_forward", SMALL_MAX);
    if (v)
        trim(v);
    if (v && strcmp(v, "1") == 0) {
        set(it, REEF_CHECK_OK, "on");
        return;
    }
    set(it, REEF_CHECK_NOTE, v ? "off" : "unknown (cannot read /proc/sys/net/ipv4/ip_forward)");
    hint(it, "reef turns IPv4 forwarding on (net.ipv4.ip_forward=1) when it starts; nothing to do");
}

/* ---- the whole check ---- */

static const struct feature features[] = {
    {"overlayfs",
     true,
     "overlay",
     {"overlay"},
     "OVERLAY_FS",
     "container root file systems are overlay mounts"},
    {"veth",
     true,
     NULL,
     {"veth"},
     "VETH",
     "every pod's network interface is one end of a veth pair"},
    {"bridge", true, NULL, {"bridge"}, "BRIDGE", "pods on a node share a bridge"},
    {"vxlan",
     false,
     NULL,
     {"vxlan"},
     "VXLAN",
     "only pod traffic between several nodes needs it (the overlay network)"},
    {"nf_tables",
     true,
     NULL,
     {"nf_tables"},
     "NF_TABLES",
     "services and pod egress are nf_tables rules"},
    {"nf_tables nat",
     true,
     NULL,
     {"nft_nat", "nft_chain_nat"},
     "NFT_NAT",
     "service addresses are translated by nf_tables NAT"},
    {"nf_tables masquerade",
     true,
     NULL,
     {"nft_masq"},
     "NFT_MASQ",
     "pod traffic leaving the node is masqueraded"},
};

static void free_ctx(struct ctx *c)
{
    free(c->config);
    free(c->filesystems);
    free(c->builtin);
    free(c->moddep);
    free(c->mountinfo);
    free(c->proc_cgroups);
    free(c->status);
    free(c->cmdline);
    free(c->v2_controllers);
}

int reef_check_run(const char *root, struct reef_check_report *out, struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    struct ctx *c = calloc(1, sizeof(*c));
    if (!c)
        return reef_err_set(err, -ENOMEM, "check: out of memory");
    if (root && *root) {
        struct stat st;
        if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
            free(c);
            return reef_err_set(err, -ENOENT, "root %s is not a directory", root);
        }
        reef_strlcpy(c->root, root, sizeof(c->root));
        size_t n = strlen(c->root);
        while (n && c->root[n - 1] == '/')
            c->root[--n] = '\0';
    }

    _cleanup_free_ char *rel = slurp(c, "/proc/sys/kernel/osrelease", SMALL_MAX);
    if (rel) {
        trim(rel);
        reef_strlcpy(c->release, rel, sizeof(c->release));
    }
    if (!c->release[0]) {
        struct utsname u;
        if (uname(&u) == 0)
            reef_strlcpy(c->release, u.release, sizeof(c->release));
    }
    /* The release names directories: one that could climb out of the root is not a release. */
    if (strchr(c->release, '/') || strcmp(c->release, "..") == 0 || strcmp(c->release, ".") == 0)
        c->release[0] = '\0';
    reef_strlcpy(out->kernel, c->release, sizeof(out->kernel));

    char mdir[128];
    snprintf(mdir, sizeof(mdir), "/lib/modules/%s", c->release);
    c->have_moddir = c->release[0] && exists(c, mdir);
    if (c->have_moddir) {
        char p[192];
        snprintf(p, sizeof(p), "%s/modules.builtin", mdir);
        c->builtin = slurp(c, p, LIST_MAX);
        snprintf(p, sizeof(p), "%s/modules.dep", mdir);
        c->moddep = slurp(c, p, LIST_MAX);
    }
    load_config(c, out);
    c->filesystems = slurp(c, "/proc/filesystems", SMALL_MAX);
    c->mountinfo = slurp(c, "/proc/self/mountinfo", LIST_MAX);
    c->proc_cgroups = slurp(c, "/proc/cgroups", SMALL_MAX);
    c->status = slurp(c, "/proc/self/status", SMALL_MAX);
    c->cmdline = slurp(c, "/proc/cmdline", SMALL_MAX);

    _cleanup_free_ char *model = slurp(c, "/proc/device-tree/model", 4096);
    if (!model)
        model = slurp(c, "/sys/firmware/devicetree/base/model", 4096);
    if (model) {
        trim(model);
        reef_strlcpy(out->model, model, sizeof(out->model));
        out->raspberry_pi = strstr(model, "Raspberry Pi") != NULL;
    }

    check_namespaces(c, out);
    check_cgroups(c, out);
    for (size_t i = 0; i < REEF_ARRAY_LEN(features); i++)
        check_feature(c, out, &features[i]);
    check_seccomp(c, out);
    check_forwarding(c, out);
    free_ctx(c);
    free(c);
    return 0;
}

bool reef_check_passed(const struct reef_check_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].required && r->items[i].state == REEF_CHECK_MISSING)
            return false;
    return true;
}

const struct reef_check_item *reef_check_find(const struct reef_check_report *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].name, name) == 0)
            return &r->items[i];
    return NULL;
}

const char *reef_check_state_name(enum reef_check_state s)
{
    switch (s) {
    case REEF_CHECK_OK:
        return "ok";
    case REEF_CHECK_MISSING:
        return "missing";
    case REEF_CHECK_NOTE:
        return "note";
    }
    return "?";
}

const char *reef_cgroup_layout_name(enum reef_cgroup_layout l)
{
    switch (l) {
    case REEF_CGROUP_NONE:
        return "none";
    case REEF_CGROUP_V1:
        return "v1";
    case REEF_CGROUP_V2:
        return "v2";
    case REEF_CGROUP_HYBRID:
        return "hybrid";
    }
    return "?";
}

/* ---- output ---- */

int reef_check_format_table(const struct reef_check_report *r, struct reef_buf *out)
{
    int e = reef_buf_printf(out, "kernel %s, config %s, cgroups %s%s%s\n\n", r->kernel,
                            r->config_source[0] ? r->config_source : "not found",
                            reef_cgroup_layout_name(r->layout), r->model[0] ? ", " : "", r->model);
    e |= reef_buf_printf(out, "%-22s %-12s %-9s %s\n", "ITEM", "STATE", "NEED", "DETAIL");
    size_t hints = 0, missing = 0;
    for (size_t i = 0; i < r->n; i++) {
        const struct reef_check_item *it = &r->items[i];
        e |= reef_buf_printf(out, "%-22s %-12s %-9s %s\n", it->name,
                             it->module ? "ok (module)" : reef_check_state_name(it->state),
                             it->required ? "required" : "optional", it->detail);
        hints += it->hint[0] != '\0';
        missing += it->required && it->state == REEF_CHECK_MISSING;
    }
    if (hints) {
        e |= reef_buf_puts(out, "\nHints:\n");
        for (size_t i = 0; i < r->n; i++)
            if (r->items[i].hint[0])
                e |= reef_buf_printf(out, "  %s: %s\n", r->items[i].name, r->items[i].hint);
    }
    if (!missing) {
        e |= reef_buf_puts(out, "\nok: this kernel has everything reef requires\n");
    } else {
        e |= reef_buf_printf(out, "\nfailed: %zu required item%s missing:", missing,
                             missing == 1 ? "" : "s");
        for (size_t i = 0; i < r->n; i++)
            if (r->items[i].required && r->items[i].state == REEF_CHECK_MISSING)
                e |= reef_buf_printf(out, " %s;", r->items[i].name);
        out->data[out->len - 1] = '\n';
    }
    return e ? -ENOMEM : 0;
}

static int json_field(struct reef_buf *out, const char *key, const char *val)
{
    int e = reef_buf_printf(out, "\"%s\":", key);
    e |= reef_buf_json_str(out, val, strlen(val));
    return e;
}

int reef_check_format_json(const struct reef_check_report *r, struct reef_buf *out)
{
    int e = reef_buf_putc(out, '{');
    e |= json_field(out, "kernel", r->kernel);
    e |= reef_buf_putc(out, ',');
    e |= json_field(out, "config", r->config_source);
    e |= reef_buf_puts(out, ",\"cgroup\":{");
    e |= json_field(out, "layout", reef_cgroup_layout_name(r->layout));
    e |= reef_buf_putc(out, ',');
    e |= json_field(out, "cgroup2", r->cgroup2_mount);
    e |= reef_buf_puts(out, "},");
    e |= json_field(out, "model", r->model);
    e |= reef_buf_printf(out, ",\"raspberry_pi\":%s,\"passed\":%s,\"items\":[",
                         r->raspberry_pi ? "true" : "false",
                         reef_check_passed(r) ? "true" : "false");
    for (size_t i = 0; i < r->n; i++) {
        const struct reef_check_item *it = &r->items[i];
        e |= reef_buf_puts(out, i ? ",{" : "{");
        e |= json_field(out, "name", it->name);
        e |= reef_buf_putc(out, ',');
        e |= json_field(out, "state", reef_check_state_name(it->state));
        e |= reef_buf_printf(out, ",\"required\":%s,\"module\":%s,",
                             it->required ? "true" : "false", it->module ? "true" : "false");
        e |= json_field(out, "detail", it->detail);
        e |= reef_buf_putc(out, ',');
        e |= json_field(out, "hint", it->hint);
        e |= reef_buf_putc(out, '}');
    }
    e |= reef_buf_puts(out, "]}\n");
    return e ? -ENOMEM : 0;
}
