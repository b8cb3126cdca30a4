/* check: inspects the running kernel for what reef's runtime and network need (namespaces, the
 * cgroup layout and controllers, overlayfs, seccomp, veth, bridge, vxlan, nf_tables with NAT and
 * masquerade, IPv4 forwarding), the way `k3s check-config` does, and formats the answer.
 *
 * Every file is read below a root prefix ("/" for the real machine), so tests can describe any
 * kernel with a directory of fake /proc, /sys, /boot and /lib/modules files. Evidence is taken
 * from the live system first (/proc/filesystems, /sys/module, mountinfo, cgroup files), then
 * modules.builtin and module files under /lib/modules/<release>, then the kernel config
 * (/proc/config.gz or /boot/config-<release>) when there is one.
 *
 * Synchronous file reads only; any thread. Nothing here needs NSS or privileges. */
#ifndef REEF_RUNTIME_CHECK_H
#define REEF_RUNTIME_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

enum reef_check_state {
    REEF_CHECK_OK = 0,
    REEF_CHECK_MISSING, /* not available; fails the check when the item is required */
    REEF_CHECK_NOTE,    /* worth knowing, never a failure */
};

enum reef_cgroup_layout {
    REEF_CGROUP_NONE = 0, /* no cgroup file system mounted */
    REEF_CGROUP_V1,       /* only v1 hierarchies */
    REEF_CGROUP_V2,       /* cgroup2 alone (the unified hierarchy) */
    REEF_CGROUP_HYBRID,   /* v1 controllers plus a cgroup2 mount (often /sys/fs/cgroup/unified) */
};

struct reef_check_item {
    char name[32];
    enum reef_check_state state;
    bool required;
    bool module;     /* ok because a loadable module exists, though it is not loaded yet */
    char detail[96]; /* how it was found ("built-in", "loaded", "v1", "off") or why it is missing */
    char hint[384];  /* what to do about it; empty when ok */
};

#define REEF_CHECK_MAX_ITEMS 32

/* The whole answer; plain data the caller embeds (it is a few KiB, no allocations). */
struct reef_check_report {
    char kernel[65];         /* release, as `uname -r` */
    char config_source[128]; /* file the kernel config came from, "" when none was found */
    enum reef_cgroup_layout layout;
    char cgroup2_mount[128]; /* where cgroup2 is mounted, "" when it is not */
    bool raspberry_pi;
    char model[96]; /* device-tree model, "" when there is none */
    size_t n;
    struct reef_check_item items[REEF_CHECK_MAX_ITEMS];
};

/* Inspects the kernel whose /proc, /sys, /boot and /lib/modules are under root (NULL or "/" for
 * this machine). Missing files are evidence, not errors; fails (-ENOENT) only when root itself
 * is not a directory. */
int reef_check_run(const char *root, struct reef_check_report *out, struct reef_err *err);

/* true when no required item is missing. */
bool reef_check_passed(const struct reef_check_report *r);
/* The item named name, or NULL. */
const struct reef_check_item *reef_check_find(const struct reef_check_report *r, const char *name);

const char *reef_check_state_name(enum reef_check_state s);
const char *reef_cgroup_layout_name(enum reef_cgroup_layout l);

/* Appends a human-readable table with hints and a closing verdict line. 0 or -ENOMEM. */
int reef_check_format_table(const struct reef_check_report *r, struct reef_buf *out);
/* Appends one JSON object (with a trailing newline). 0 or -ENOMEM. */
int reef_check_format_json(const struct reef_check_report *r, struct reef_buf *out);

#endif
