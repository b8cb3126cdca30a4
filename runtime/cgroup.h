/* cgroup: the control groups of reef's containers.
 *
 * This module owns every cgroup directory reef creates: one per container, at <parent>/<name>
 * (parent "/reef" by default, moved by --cgroup-parent), in every relevant cgroup v1 hierarchy
 * (cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids: whichever are mounted) or in the
 * single cgroup2 tree. It creates them, writes their limits, moves processes in, reads usage and
 * OOM counts, kills everything inside and removes the directories. It never writes to a cgroup it
 * did not create, with one exception that cgroup v2 makes unavoidable: a controller must be
 * switched on in cgroup.subtree_control of every ancestor, so reef adds (never removes) missing
 * cpu/memory/pids/io entries there.
 *
 * Three host layouts are handled, detected from /proc/self/mountinfo and /proc/cgroups:
 *   - pure v2 (cgroup2 at /sys/fs/cgroup),
 *   - pure v1 (one cgroup filesystem per controller or controller group),
 *   - hybrid (v1 controllers plus a cgroup2 mount, usually /sys/fs/cgroup/unified, that holds few
 *     or no controllers). reef uses the v1 controllers there, unless told to use v2.
 * Detection is a pure function over the text of those files (reef_cgroup_layout_parse), so
 * layouts that this host does not have are tested with synthetic input.
 *
 * Parent paths: an absolute parent ("/reef") is taken from the top of each cgroup mount as this
 * process sees it; a relative one ("reef-test-42") from the cgroup this process runs in, in each
 * hierarchy. On v2 a relative parent only works when reef's own cgroup may have children with
 * controllers, i.e. it is the root (the "no internal processes" rule).
 *
 * Threads: a layout is immutable after parsing and may be shared by threads; a struct reef_cgroup
 * belongs to one thread at a time. reef_cgroup_join is safe between fork/clone and exec in a child
 * of a multi-threaded process (no allocation, no locks). Everything here blocks on the cgroup
 * filesystem (fast, in-kernel) and kill/remove poll for up to their stated time-outs: call them
 * from a worker thread, not the event loop. */
#ifndef REEF_RUNTIME_CGROUP_H
#define REEF_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

#define REEF_CGROUP_DEFAULT_PARENT "/reef"

enum reef_cgroup_mode {
    REEF_CGROUP_NONE = 0, /* no usable cgroup filesystem */
    REEF_CGROUP_V1,
    REEF_CGROUP_V2,
    REEF_CGROUP_HYBRID,
};

/* Controllers reef cares about; bit (1u << c) in the masks below. */
enum reef_cgroup_ctrl {
    REEF_CG_CPU = 0,
    REEF_CG_CPUACCT,
    REEF_CG_CPUSET,
    REEF_CG_MEMORY,
    REEF_CG_DEVICES,
    REEF_CG_FREEZER,
    REEF_CG_BLKIO, /* "io" on v2 */
    REEF_CG_PIDS,
    REEF_CG_NCTRL,
};
#define REEF_CG_BIT(c) (1u << (c))

const char *reef_cgroup_mode_name(enum reef_cgroup_mode m);
/* v1 name of a controller ("cpu", "memory", "blkio", ...). */
const char *reef_cgroup_ctrl_name(enum reef_cgroup_ctrl c);

/* ---- Layout ---------------------------------------------------------------------------------- */

struct reef_cgroup_layout; /* opaque, immutable once built */

/* The text reef_cgroup_layout_parse works from. Only mountinfo is required. */
struct reef_cgroup_sources {
    const char *mountinfo;      /* /proc/self/mountinfo */
    const char *proc_cgroups;   /* /proc/cgroups, or NULL */
    const char *self_cgroup;    /* /proc/self/cgroup, or NULL (then relative parents fail) */
    const char *v2_controllers; /* cgroup.controllers at the top of the cgroup2 mount, or NULL */
    const char *root;           /* prefix for every mount point ("" or NULL for the real host) */
};

/* Builds a layout from the text of the sources; pure, no file access. A host with no cgroup
 * filesystem yields mode REEF_CGROUP_NONE, not an error; errors are malformed input and ENOMEM.
 * The caller frees *out with reef_cgroup_layout_free. */
int reef_cgroup_layout_parse(const struct reef_cgroup_sources *src, struct reef_cgroup_layout **out,
                             struct reef_err *err);
/* Reads the sources of this host (under root, "" or NULL for "/") and parses them. */
int reef_cgroup_layout_detect(const char *root, struct reef_cgroup_layout **out,
                              struct reef_err *err);
void reef_cgroup_layout_free(struct reef_cgroup_layout *l);

enum reef_cgroup_mode reef_cgroup_layout_mode(const struct reef_cgroup_layout *l);
/* Mount directory of the v1 hierarchy carrying c (root prefix included), or NULL. Valid while l. */
const char *reef_cgroup_layout_v1_mount(const struct reef_cgroup_layout *l,
                                        enum reef_cgroup_ctrl c);
/* Mount directory of the cgroup2 filesystem, or NULL. Valid while l lives. */
const char *reef_cgroup_layout_v2_mount(const struct reef_cgroup_layout *l);
/* Mask of controllers the kernel has enabled at all (from /proc/cgroups and the mounts). */
unsigned reef_cgroup_layout_kernel_ctrls(const struct reef_cgroup_layout *l);
/* Mask of controllers usable by the driver reef picks for this layout (v1 on hybrid hosts). */
unsigned reef_cgroup_layout_ctrls(const struct reef_cgroup_layout *l);

/* ---- Container cgroups ----------------------------------------------------------------------- */

enum reef_cgroup_driver {
    REEF_CGROUP_DRIVER_AUTO = 0, /* v2 on pure v2 hosts, v1 on v1 and hybrid hosts */
    REEF_CGROUP_DRIVER_V1,
    REEF_CGROUP_DRIVER_V2, /* also on a hybrid host's cgroup2 mount */
};

struct reef_cgroup_opts {
    const char *parent; /* NULL for REEF_CGROUP_DEFAULT_PARENT; components [A-Za-z0-9_.:@-] */
    const char *name;   /* the container's directory, one component, e.g. its id */
    enum reef_cgroup_driver driver;
};

struct reef_cgroup; /* opaque: one container's cgroup, in one or several hierarchies */

/* Creates parent (if missing) and parent/name in every relevant hierarchy. A leftover
 * parent/name fails with -EEXIST (open it and kill/remove it first). On failure nothing that
 * this call created is left behind. The caller frees *out with reef_cgroup_free (which does not
 * remove the directories: see reef_cgroup_remove). */
int reef_cgroup_create(const struct reef_cgroup_layout *l, const struct reef_cgroup_opts *o,
                       struct reef_cgroup **out, struct reef_err *err);
/* Attaches to an existing parent/name (after a restart, to read stats, kill or remove it).
 * -ENOENT when it exists in no hierarchy. Freed with reef_cgroup_free. */
int reef_cgroup_open(const struct reef_cgroup_layout *l, const struct reef_cgroup_opts *o,
                     struct reef_cgroup **out, struct reef_err *err);
void reef_cgroup_free(struct reef_cgroup *cg);

bool reef_cgroup_is_v2(const struct reef_cgroup *cg);
/* Controllers present in this cgroup. */
unsigned reef_cgroup_ctrls(const struct reef_cgroup *cg);
/* Directory holding controller c's files (v2: the one directory, for any available c), or NULL
 * when c is not available. Valid while cg lives. */
const char *reef_cgroup_dir(const struct reef_cgroup *cg, enum reef_cgroup_ctrl c);

/* Limits. Zero in a field means "no limit requested". A requested limit whose controller or
 * kernel feature is missing fails with a message naming the limit and how to enable it; it is
 * never silently ignored. */
struct reef_cgroup_limits {
    uint64_t memory_bytes; /* v1 memory.limit_in_bytes, v2 memory.max */
    /* Swap on top of memory_bytes, only when swap_set. Unset: v1 leaves memsw alone, v2 writes
     * memory.swap.max=0 (when it exists) so hitting the limit is an OOM, not swapping. */
    bool swap_set;
    uint64_t swap_bytes;
    double cpus;       /* fractional CPUs, e.g. 0.5: quota = cpus * 100 ms per 100 ms */
    uint64_t pids_max; /* pids.max */
};

int reef_cgroup_apply(struct reef_cgroup *cg, const struct reef_cgroup_limits *lim,
                      struct reef_err *err);

/* Moves process pid (0: the caller) and all its threads into the cgroup, in every hierarchy.
 * err may be NULL. */
int reef_cgroup_add(const struct reef_cgroup *cg, pid_t pid, struct reef_err *err);
/* For the container's child between clone and exec: moves the caller in. Allocates nothing and
 * takes no locks (async-signal-safe). Returns 0 or a negative errno. */
int reef_cgroup_join(const struct reef_cgroup *cg);

#define REEF_CGROUP_HAVE_MEMORY (1u << 0) /* memory_* fields are valid */
#define REEF_CGROUP_HAVE_PEAK (1u << 1)
#define REEF_CGROUP_HAVE_CPU (1u << 2)
#define REEF_CGROUP_HAVE_PIDS (1u << 3)
#define REEF_CGROUP_HAVE_OOM (1u << 4)

struct reef_cgroup_stats {
    unsigned have;               /* REEF_CGROUP_HAVE_* */
    uint64_t memory_usage;       /* raw usage, page cache included */
    uint64_t memory_working_set; /* usage minus inactive file cache, what docker reports */
    uint64_t memory_peak;
    uint64_t cpu_usage_ns;
    uint64_t pids_current;
    uint64_t oom_kills;
};

/* Reads what the available controllers offer; a missing controller clears its have bit. */
int reef_cgroup_stats(const struct reef_cgroup *cg, struct reef_cgroup_stats *st,
                      struct reef_err *err);
/* Number of processes the OOM killer killed in this cgroup; the shim compares it before and
 * after the container exits to report exit 137 with reason OOMKilled. */
int reef_cgroup_oom_kills(const struct reef_cgroup *cg, uint64_t *out, struct reef_err *err);
/* Number of processes in the cgroup (all hierarchies); 0 means empty. */
int reef_cgroup_nprocs(const struct reef_cgroup *cg, size_t *out, struct reef_err *err);

/* SIGKILLs every process in the cgroup and waits (up to ~5 s) until none is left: v2
 * cgroup.kill when the kernel has it, else freeze (v1 freezer / v2 cgroup.freeze, when present),
 * signal every pid in cgroup.procs, thaw, repeat until empty. -ETIMEDOUT if processes remain. */
int reef_cgroup_kill(const struct reef_cgroup *cg, struct reef_err *err);
/* Removes parent/name in every hierarchy, retrying for up to ~2 s while exiting tasks leave;
 * directories already gone are fine. Does not kill: call reef_cgroup_kill first. */
int reef_cgroup_remove(struct reef_cgroup *cg, struct reef_err *err);
/* Removes the parent directories themselves when empty (e.g. a test parent). Returns -EBUSY,
 * leaving them, when a sibling container still lives there; -ENOENT parts are fine. */
int reef_cgroup_remove_parent(const struct reef_cgroup_layout *l, const char *parent,
                              enum reef_cgroup_driver driver, struct reef_err *err);

/* ---- Internal, shared by cgroup*.c and the unit tests ---------------------------------------- */

#define REEF__CG_F_MEMSW (1u << 0)    /* v1 memory.memsw.* exists (swap accounting on) */
#define REEF__CG_F_SWAP_MAX (1u << 1) /* v2 memory.swap.max exists */
#define REEF__CG_F_CFS (1u << 2)      /* v1 cpu.cfs_quota_us / v2 cpu.max exists */

#define REEF__CG_PLAN_MAX 8
struct reef__cgroup_write {
    enum reef_cgroup_ctrl ctrl; /* which hierarchy's directory (v1) */
    const char *what;           /* the limit, for messages: "memory limit" */
    char file[32];
    char value[48];
};
struct reef__cgroup_plan {
    int n;
    struct reef__cgroup_write w[REEF__CG_PLAN_MAX];
};

/* Turns limits into the ordered file writes for a cgroup with the given controllers (ctrls),
 * kernel-enabled controllers (kernel) and REEF__CG_F_* features. Pure. */
int reef__cgroup_plan_limits(bool v2, unsigned ctrls, unsigned kernel, unsigned features,
                             const struct reef_cgroup_limits *lim, struct reef__cgroup_plan *plan,
                             struct reef_err *err);
/* quota in µs for cpus over period µs (at least 1000, the kernel's minimum). */
int reef__cgroup_cpu_quota(double cpus, uint64_t period_us, uint64_t *quota_us,
                           struct reef_err *err);
/* Value of "key N" in a flat-keyed file (memory.stat, memory.events, cpu.stat, oom_control).
 * "max" reads as UINT64_MAX. -ENOENT when absent, -EINVAL when malformed. */
int reef__cgroup_kv(const char *text, const char *key, uint64_t *out);
/* A single-number file ("123\n" or "max\n"). */
int reef__cgroup_u64(const char *text, uint64_t *out);
/* cgroup v2 cpu.max: "max 100000" or "50000 100000"; quota UINT64_MAX for max. */
int reef__cgroup_parse_cpu_max(const char *text, uint64_t *quota, uint64_t *period);
/* Working set as docker computes it: usage minus inactive file pages, floored at 0. */
uint64_t reef__cgroup_working_set(uint64_t usage, uint64_t inactive_file);
/* Checks a parent path (absolute or relative, '/'-separated) or, with one_component, a name. */
int reef__cgroup_check_path(const char *p, bool one_component, struct reef_err *err);
/* Test knobs: make kill ignore cgroup.kill and/or the freezer, to exercise the fallbacks. */
#define REEF__CG_TEST_NO_KILLFILE (1u << 0)
#define REEF__CG_TEST_NO_FREEZE (1u << 1)
extern unsigned reef__cgroup_test_flags;

#ifdef REEF_CGROUP_IMPL
/* Private to cgroup.c, cgroup_v1.c and cgroup_v2.c. */
#include <stddef.h>

#define REEF__CG_MAX_HIER REEF_CG_NCTRL

struct reef__cg_mount {
    char *mount; /* directory, root prefix included */
    char *root;  /* the mount's root inside the hierarchy ("/" unless bind-mounted) */
    char *self;  /* this process's cgroup in the hierarchy, or NULL */
    unsigned ctrls;
};

struct reef_cgroup_layout {
    enum reef_cgroup_mode mode;
    struct reef__cg_mount v1[REEF__CG_MAX_HIER];
    int nv1;
    struct reef__cg_mount v2;
    bool has_v2;
    unsigned kernel; /* controllers enabled in the kernel */
    unsigned v1_ctrls, v2_ctrls;
};

struct reef__cg_dir {
    char *dir;
    unsigned ctrls;
    bool created; /* by this reef_cgroup_create */
};

struct reef_cgroup {
    bool v2;
    int nd;
    struct reef__cg_dir d[REEF__CG_MAX_HIER];
    unsigned ctrls, kernel, features;
    char *label; /* parent/name, for messages */
};

/* Directory for parent inside mount m: from its top when absolute, from m->self when relative.
 * The caller frees the result. */
int reef__cg_base_dir(const struct reef__cg_mount *m, const char *parent, char **out,
                      struct reef_err *err);
/* Creates every missing component of rel under base (which must exist). For each directory of
 * the chain, in order, calls each_dir(dir, userdata) when non-NULL (cpuset copy, subtree_control).
 * Records in *created the number of trailing components it made itself. */
int reef__cg_mkdir_chain(const char *base, const char *rel,
                         int (*each_dir)(const char *parent, const char *dir, void *ud), void *ud,
                         int *created, struct reef_err *err);
/* Removes the last n components of base/rel (deepest first); stops quietly at EBUSY. */
void reef__cg_rmdir_chain(const char *base, const char *rel, int n);
/* rmdir, retrying EBUSY for up to timeout_ms. ENOENT counts as success. */
int reef__cg_rmdir_retry(const char *dir, int timeout_ms);

/* File helpers; no allocation (safe after fork). Return 0 / length, or -errno. */
int reef__cg_write(const char *dir, const char *file, const char *val);
ssize_t reef__cg_read(const char *dir, const char *file, char *buf, size_t cap);
bool reef__cg_exists(const char *dir, const char *file);
/* SIGKILLs every pid in dir/cgroup.procs except the caller; *seen gets how many were listed. */
int reef__cg_kill_procs(const char *dir, size_t *seen);
int reef__cg_count_procs(const char *dir, size_t *n);
void reef__cg_sleep_ms(int ms);
/* Milliseconds on the monotonic clock. */
long long reef__cg_now_ms(void);

/* Per-version parts. */
int reef__cgroup_v1_create(const struct reef_cgroup_layout *l, const char *parent, const char *name,
                           bool create, struct reef_cgroup *cg, struct reef_err *err);
int reef__cgroup_v1_features(struct reef_cgroup *cg);
int reef__cgroup_v1_stats(const struct reef_cgroup *cg, struct reef_cgroup_stats *st,
                          struct reef_err *err);
int reef__cgroup_v1_kill(const struct reef_cgroup *cg, struct reef_err *err);
int reef__cgroup_v2_create(const struct reef_cgroup_layout *l, const char *parent, const char *name,
                           bool create, struct reef_cgroup *cg, struct reef_err *err);
int reef__cgroup_v2_features(struct reef_cgroup *cg);
int reef__cgroup_v2_stats(const struct reef_cgroup *cg, struct reef_cgroup_stats *st,
                          struct reef_err *err);
int reef__cgroup_v2_kill(const struct reef_cgroup *cg, struct reef_err *err);
#endif

#endif
