/* Fuzz target for runtime/check: every run writes the input as the files of a fake root and runs
 * reef_check_run on it, then formats the report both ways. Nothing may crash, leak or hang, and
 * the report must stay well formed. The fake root is removed after every run.
 *
 * Input: one option byte, then the texts of the files below separated by NUL bytes (a file the
 * input does not reach is not created; an empty text makes an empty file). The kernel release is
 * fixed, so every path check.c builds from it stays inside the fake root.
 *   option bits 0-1: where the kernel config goes: /proc/config.gz (gzip-compressed here),
 *                    /boot/config-<release>, /lib/modules/<release>/config, or /proc/config.gz
 *                    as given (gzread passes plain text through; other bytes are a corrupt file)
 *   option bit 2:    create /proc/self/ns/{mnt,pid,net,uts,ipc,user,cgroup}
 *   option bit 3:    create /boot/firmware/cmdline.txt
 *   option bit 4:    create /proc/sys/kernel/seccomp/actions_avail
 *   option bit 5:    pass the root with a trailing '/' */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/buf.h"
#include "runtime/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REL "6.1.0-fuzz"
#define MAX_LIST_FILES 32

enum part {
    P_MOUNTINFO,
    P_PROC_CGROUPS,
    P_FILESYSTEMS,
    P_CONFIG,
    P_V2_CONTROLLERS,
    P_BUILTIN,
    P_MODDEP,
    P_STATUS,
    P_CMDLINE,
    P_MODEL,
    P_IP_FORWARD,
    P_MAX_USERNS,
    P_SYS_MODULES,  /* one name per line: /sys/module/<name>, with initstate when it ends in '+' */
    P_MODULE_FILES, /* one path per line under /lib/modules/<release>/ (module files found by
                       walking) */
    NPARTS
};

static const char *const part_path[NPARTS] = {
    [P_MOUNTINFO] = "/proc/self/mountinfo",
    [P_PROC_CGROUPS] = "/proc/cgroups",
    [P_FILESYSTEMS] = "/proc/filesystems",
    [P_V2_CONTROLLERS] = "/sys/fs/cgroup/cgroup.controllers",
    [P_BUILTIN] = "/lib/modules/" REL "/modules.builtin",
    [P_MODDEP] = "/lib/modules/" REL "/modules.dep",
    [P_STATUS] = "/proc/self/status",
    [P_CMDLINE] = "/proc/cmdline",
    [P_MODEL] = "/proc/device-tree/model",
    [P_IP_FORWARD] = "/proc/sys/net/ipv4/ip_forward",
    [P_MAX_USERNS] = "/proc/sys/user/max_user_namespaces",
};

static char base[64], root[96];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static void remove_tree(const char *dir)
{
    if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
        abort();
}

static void remove_base(void)
{
    remove_tree(base);
}

/* Every run makes and removes a few dozen files and directories: on tmpfs (/dev/shm) that costs
 * microseconds, on a disk file system it can cost milliseconds per directory. */
static void setup(void)
{
    strcpy(base, "/dev/shm/reef-fuzz-check-XXXXXX");
    if (!mkdtemp(base)) {
        strcpy(base, "/tmp/reef-fuzz-check-XXXXXX");
        if (!mkdtemp(base))
            abort();
    }
    atexit(remove_base);
    snprintf(root, sizeof(root), "%s/root", base);
}

/* mkdir -p of the directory part of root + rel, then the file itself. false when a path from
 * the input collides with a file or directory made before (then nothing is written). */
static bool try_put(const char *rel, const void *content, size_t n, bool gz)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s%s", root, rel);
    for (char *s = p + strlen(root) + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return false;
        *s = '/';
    }
    if (gz) {
        gzFile f = gzopen(p, "wb");
        if (!f)
            return false;
        if ((n > 0 && gzwrite(f, content, (unsigned)n) != (int)n) || gzclose(f) != Z_OK)
            abort();
        return true;
    }
    FILE *f = fopen(p, "w");
    if (!f)
        return false;
    if (fwrite(content, 1, n, f) != n || fclose(f) != 0)
        abort();
    return true;
}

/* The fixed files must always be writable. */
static void put(const char *rel, const void *content, size_t n)
{
    if (!try_put(rel, content, n, false))
        abort();
}

/* A name from a list line that is safe as one path component. */
static bool component_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64 || (n <= 2 && s[0] == '.' && s[n - 1] == '.'))
        return false;
    return memchr(s, '/', n) == NULL;
}

/* P_SYS_MODULES: a directory per line, and initstate when the line ends in '+'. */
static void put_sys_modules(const char *text)
{
    int count = 0;
    for (const char *l = text; *l && count < MAX_LIST_FILES; count++) {
        size_t n = strcspn(l, "\n");
        bool loaded = n > 0 && l[n - 1] == '+';
        size_t nn = loaded ? n - 1 : n;
        if (component_ok(l, nn)) {
            char rel[128];
            snprintf(rel, sizeof(rel), "/sys/module/%.*s/%s", (int)nn, l,
                     loaded ? "initstate" : "parameters");
            try_put(rel, "live\n", loaded ? 5 : 0, false);
        }
        l += n + (l[n] == '\n');
    }
}

/* P_MODULE_FILES: relative paths under /lib/modules/<release>, components checked one by one. */
static void put_module_files(const char *text)
{
    int count = 0;
    for (const char *l = text; *l && count < MAX_LIST_FILES; count++) {
        size_t n = strcspn(l, "\n");
        bool ok = n > 0 && n < 200;
        for (size_t i = 0; ok && i < n;) {
            size_t c = strcspn(l + i, "/\n");
            if (c > n - i)
                c = n - i;
            ok = component_ok(l + i, c);
            i += c + 1;
        }
        if (ok) {
            char rel[320];
            snprintf(rel, sizeof(rel), "/lib/modules/" REL "/%.*s", (int)n, l);
            try_put(rel, "", 0, false);
        }
        l += n + (l[n] == '\n');
    }
}

static void check_report(const struct reef_check_report *r)
{
    if (r->n > REEF_CHECK_MAX_ITEMS || (int)r->layout < REEF_CGROUP_NONE ||
        (int)r->layout > REEF_CGROUP_HYBRID || !memchr(r->kernel, 0, sizeof(r->kernel)) ||
        !memchr(r->config_source, 0, sizeof(r->config_source)) ||
        !memchr(r->cgroup2_mount, 0, sizeof(r->cgroup2_mount)) ||
        !memchr(r->model, 0, sizeof(r->model)) || strcmp(r->kernel, REL) != 0)
        abort();
    for (size_t i = 0; i < r->n; i++) {
        const struct reef_check_item *it = &r->items[i];
        if (!memchr(it->name, 0, sizeof(it->name)) || !memchr(it->detail, 0, sizeof(it->detail)) ||
            !memchr(it->hint, 0, sizeof(it->hint)) || it->state > REEF_CHECK_NOTE ||
            reef_check_find(r, it->name) == NULL || !reef_check_state_name(it->state))
            abort();
    }
    if (!reef_cgroup_layout_name(r->layout))
        abort();
    (void)reef_check_passed(r);
    struct reef_buf b = REEF_BUF_INIT;
    if (reef_check_format_table(r, &b) < 0 || b.len == 0)
        abort();
    reef_buf_reset(&b);
    if (reef_check_format_json(r, &b) < 0 || b.len < 2 || b.data[0] != '{' ||
        b.data[b.len - 1] != '\n' || strlen(b.data) != b.len)
        abort();
    /* Mount points and file contents reach the details: JSON must escape every control byte. */
    for (size_t i = 0; i + 1 < b.len; i++)
        if ((unsigned char)b.data[i] < 0x20) {
            fprintf(stderr, "raw control byte 0x%02x at %zu in: %s\n", (unsigned char)b.data[i], i,
                    b.data);
            abort();
        }
    reef_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base[0])
        setup();
    if (size == 0)
        return 0;
    unsigned opt = data[0];
    char *buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    const char *part[NPARTS] = {0};
    size_t len[NPARTS] = {0};
    size_t off = 0;
    for (int i = 0; i < NPARTS && off <= size - 1; i++) {
        part[i] = buf + off;
        len[i] = strlen(buf + off);
        off += len[i] + 1;
    }

    if (mkdir(root, 0755) < 0)
        abort();
    put("/proc/sys/kernel/osrelease", REL "\n", strlen(REL) + 1);
    for (int i = 0; i < NPARTS; i++)
        if (part[i] && part_path[i])
            put(part_path[i], part[i], len[i]);
    if (part[P_CONFIG]) {
        switch (opt & 3) {
        case 0:
            if (!try_put("/proc/config.gz", part[P_CONFIG], len[P_CONFIG], true))
                abort();
            break;
        case 1:
            put("/boot/config-" REL, part[P_CONFIG], len[P_CONFIG]);
            break;
        case 2:
            put("/lib/modules/" REL "/config", part[P_CONFIG], len[P_CONFIG]);
            break;
        default:
            put("/proc/config.gz", part[P_CONFIG], len[P_CONFIG]);
            break;
        }
    }
    if (part[P_SYS_MODULES])
        put_sys_modules(part[P_SYS_MODULES]);
    if (part[P_MODULE_FILES])
        put_module_files(part[P_MODULE_FILES]);
    if (opt & 4) {
        static const char *const ns[] = {"mnt", "pid", "net", "uts", "ipc", "user", "cgroup"};
        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
            char rel[64];
            snprintf(rel, sizeof(rel), "/proc/self/ns/%s", ns[i]);
            put(rel, "", 0);
        }
    }
    if (opt & 8)
        put("/boot/firmware/cmdline.txt", "console=tty1\n", 13);
    if (opt & 16)
        put("/proc/sys/kernel/seccomp/actions_avail", "kill_process kill_thread\n", 25);

    char arg[128];
    snprintf(arg, sizeof(arg), "%s%s", root, opt & 32 ? "/" : "");
    struct reef_check_report report;
    struct reef_err err = {0};
    if (reef_check_run(arg, &report, &err) != 0)
        abort(); /* the root exists, so nothing may fail */
    check_report(&report);

    remove_tree(root);
    free(buf);
    return 0;
}
