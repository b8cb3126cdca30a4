#include "runtime/caps.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const names[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

uint64_t reef_caps_default(void)
{
    static const int d[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FSETID,  CAP_FOWNER,
                            CAP_MKNOD,  CAP_NET_RAW,      CAP_SETGID,  CAP_SETUID,
                            CAP_SETFCAP, CAP_SETPCAP,     CAP_NET_BIND_SERVICE,
                            CAP_SYS_CHROOT, CAP_KILL,     CAP_AUDIT_WRITE};
    uint64_t s = 0;
    for (size_t i = 0; i < REEF_ARRAY_LEN(d); i++)
        s |= REEF_CAP_BIT(d[i]);
    return s;
}

int reef_caps_last_cap(void)
{
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    char b[16] = {0};
    ssize_t n = fd >= 0 ? read(fd, b, sizeof(b) - 1) : -1;
    if (fd >= 0)
        close(fd);
    int v = n > 0 ? atoi(b) : 0;
    if (v <= 0 || v > REEF_CAP_MAX)
        v = (int)REEF_ARRAY_LEN(names) - 1;
    return v;
}

uint64_t reef_caps_all(void)
{
    int last = reef_caps_last_cap();
    return last >= 63 ? UINT64_MAX : (REEF_CAP_BIT(last + 1) - 1);
}

const char *reef_caps_name(int cap)
{
    return cap >= 0 && (size_t)cap < REEF_ARRAY_LEN(names) ? names[cap] : NULL;
}

int reef_caps_from_name(const char *name)
{
    const char *n = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
    for (size_t i = 0; i < REEF_ARRAY_LEN(names); i++)
        if (strcasecmp(names[i] + 4, n) == 0)
            return (int)i;
    return -EINVAL;
}

static bool has_all(const char *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(list[i], "ALL") == 0 || strcasecmp(list[i], "CAP_ALL") == 0)
            return true;
    return false;
}

static int to_mask(const char *const *list, int n, uint64_t *out, const char *what,
                   struct reef_err *err)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (strcasecmp(list[i], "ALL") == 0 || strcasecmp(list[i], "CAP_ALL") == 0)
            continue;
        int c = reef_caps_from_name(list[i]);
        if (c < 0)
            return reef_err_set(err, -EINVAL, "%s: unknown capability \"%.64s\"", what, list[i]);
        *out |= REEF_CAP_BIT(c);
    }
    return 0;
}

int reef_caps_adjust(uint64_t base, const char *const *add, int nadd, const char *const *drop,
                     int ndrop, uint64_t *out, struct reef_err *err)
{
    uint64_t a, d;
    int r = to_mask(add, nadd, &a, "cap-add", err);
    if (r == 0)
        r = to_mask(drop, ndrop, &d, "cap-drop", err);
    if (r < 0)
        return r;
    if (has_all(drop, ndrop))
        *out = a;
    else if (has_all(add, nadd))
        *out = reef_caps_all() & ~d;
    else
        *out = (base | a) & ~d;
    return 0;
}

int reef_caps_format(uint64_t set, struct reef_buf *out)
{
    bool first = true;
    for (int c = 0; c <= REEF_CAP_MAX; c++) {
        if (!(set & REEF_CAP_BIT(c)))
            continue;
        const char *n = reef_caps_name(c);
        int r = n ? reef_buf_printf(out, "%s%s", first ? "" : ",", n)
                  : reef_buf_printf(out, "%s%d", first ? "" : ",", c);
        if (r < 0)
            return r;
        first = false;
    }
    if (first)
        return reef_buf_append(out, "", 0);
    return 0;
}

int reef_caps_limit_bounding(uint64_t set)
{
    int last = reef_caps_last_cap();
    for (int c = 0; c <= last; c++) {
        if (set & REEF_CAP_BIT(c))
            continue;
        /* EINVAL: the kernel does not know this capability; nothing to drop. */
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            return -errno;
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -errno;
    return 0;
}

int reef_caps_set(uint64_t set, bool keep_effective)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (keep_effective) {
        data[0].permitted = data[0].effective = (uint32_t)set;
        data[1].permitted = data[1].effective = (uint32_t)(set >> 32);
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        return -errno;
    return 0;
}

int reef_caps_apply(uint64_t set, bool keep_effective)
{
    int r = reef_caps_limit_bounding(set);
    return r < 0 ? r : reef_caps_set(set, keep_effective);
}
