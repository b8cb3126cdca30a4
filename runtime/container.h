/* container: starting a process inside new namespaces, and entering a running container.
 *
 * reef_container_spawn clones the container's init process into new namespaces, lets the caller
 * place it (cgroups) before it runs anything, builds its root filesystem (runtime/mounts), drops
 * to its user, capabilities, no_new_privs and seccomp filter, and execs the command. Every failure
 * in the child comes back as a message through a close-on-exec pipe, so the caller reports
 * `exec: "nosuch": executable file not found in $PATH` instead of a bare exit status.
 * reef_container_exec does the same for a new process joining a running container.
 * Called from a single-threaded process (the shim); the children never return into the caller. */
#ifndef REEF_RUNTIME_CONTAINER_H
#define REEF_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "core/err.h"
#include "runtime/mounts.h"
#include "runtime/seccomp.h"
#include "runtime/user.h"

/* Exit statuses a runtime reports for its own failures, as Docker does. */
#define REEF_EXIT_RUNTIME 125
#define REEF_EXIT_NOEXEC 126
#define REEF_EXIT_NOTFOUND 127

struct reef_rlimit {
    int resource; /* RLIMIT_* */
    rlim_t soft, hard;
};

/* What the new process runs as and runs; shared by spawn and exec. */
struct reef_process_spec {
    char *const *argv; /* argv[0] without '/' is looked up in the container's PATH */
    char *const *env;  /* NULL-terminated "K=V" strings */
    const char *cwd;   /* created when missing (an image's WorkingDir); NULL for "/" */
    const struct reef_user *user; /* resolved already, or NULL to resolve user_spec */
    const char *user_spec;        /* "app", "1000:50": looked up in the container's own
                                     /etc/passwd and /etc/group after pivot_root; NULL = root */
    const gid_t *groups_add;      /* more supplementary groups (a pod's fsGroup and
                                     supplementalGroups), after the user's own */
    int ngroups_add;
    uint64_t caps;                          /* runtime/caps.h */
    const struct reef_seccomp_prog *seccomp; /* NULL: unconfined */
    bool no_new_privs;
    int stdio[3]; /* the child's 0, 1, 2; -1 for /dev/null */
    bool tty;     /* stdio[0] is a terminal: it becomes the controlling terminal */
    /* Allocate the terminal inside the container, from its own /dev/pts (so `tty` names it
     * there): the master end is sent over console_socket with SCM_RIGHTS and the slave becomes
     * stdin, stdout, stderr and the controlling terminal. stdio and tty are then ignored. */
    bool console;
    int console_socket;
    unsigned short rows, cols; /* the console's size from the start; 0: 24 x 80 */
    const struct reef_rlimit *rlimits; /* clamped to the caller's hard limits, never raised */
    int nrlimits;
    /* reef_container_exec only: called in its helper (a single-threaded child of the caller)
     * before it joins the container's namespaces, so that the new process starts inside the
     * container's cgroup (reef_cgroup_join: no RCU grace period, unlike moving it by pid
     * afterwards). Async-signal-safe; 0 or -errno, which fails the exec. */
    int (*join)(void *ud);
    void *join_ud;
};

struct reef_container_spec {
    struct reef_process_spec proc;
    const struct reef_rootfs_spec *rootfs;
    int clone_flags;      /* CLONE_NEWNS is implied; add CLONE_NEWPID|NEWUTS|NEWIPC|NEWNET... */
    bool cgroup_ns;       /* unshare the cgroup namespace after being placed */
    const char *hostname; /* with CLONE_NEWUTS */
    /* Namespace files (a pod's, runtime/pod) the child joins before building its root, instead
     * of new namespaces: NULL or "" for none. The matching CLONE_NEW* flag must not be set.
     * Not with CLONE_NEWUSER (a child in a new user namespace may not join the host's). */
    const char *join_net, *join_ipc, *join_uts;
    /* "name=value" kernel parameters written under /proc/sys in the container's namespaces
     * (joined or new) before its root is built: the namespaced ones a pod may set
     * (net.ipv4.ip_unprivileged_port_start=0, ...). NULL-terminated, or NULL. */
    char *const *sysctls;
    /* With CLONE_NEWUSER: the mappings written for the child ("0 100000 65536"). */
    const char *uid_map, *gid_map;
    /* Called in the parent after clone, before the child does anything: put pid in its cgroup.
     * A negative return aborts the start (the child is killed). */
    int (*placed)(void *ud, pid_t pid, struct reef_err *err);
    /* Called in the child first thing after clone (after placed and the user namespace maps,
     * when there are any): the child moves itself into its cgroup (reef_cgroup_join). On a
     * cgroup v1 hierarchy a thread moving itself is immediate, where moving another process
     * waits for an RCU grace period (several milliseconds). Async-signal-safe; 0 or -errno,
     * which aborts the start with "join the container's cgroup". */
    int (*join)(void *ud);
    /* With into_cgroup, cgroup_fd is a cgroup2 directory (open O_RDONLY or O_PATH) that the
     * child is created in (clone3 with CLONE_INTO_CGROUP): already placed, it skips join. On
     * cgroup2, join's move through cgroup.procs would wait for an RCU grace period. Kernels
     * without clone3 or CLONE_INTO_CGROUP (before 5.7) get a plain clone and join. */
    bool into_cgroup;
    int cgroup_fd;
    /* Called in the parent once the child runs on its own, while it builds its root and execs:
     * work the start needs but the child does not, done alongside it. A negative return kills
     * the child and fails the start. */
    int (*meanwhile)(void *ud, pid_t pid, struct reef_err *err);
    void *ud;
};

/* Starts the container. On success *pid is its init process (the caller reaps it). On failure the
 * child has been reaped and *exit_code says what `reef run` should exit with (125, 126, 127). */
int reef_container_spawn(const struct reef_container_spec *spec, pid_t *pid, int *exit_code,
                         struct reef_err *err);

/* Starts proc inside the running container whose init is target (joining its namespaces and, when
 * cgroup_procs is not NULL, writing the new pid to that cgroup.procs file first). */
int reef_container_exec(pid_t target, const struct reef_process_spec *proc,
                        const char *cgroup_procs, pid_t *pid, int *exit_code,
                        struct reef_err *err);

/* A user namespace with the given mappings, held by the returned fd (a namespace file: close it
 * to let the namespace go). Used to make idmapped mounts before the container exists. */
int reef_userns_create(const char *uid_map, const char *gid_map, int *fd, struct reef_err *err);

/* Receives the terminal master sent by a child started with console set. Returns the fd or
 * -errno. */
int reef_container_recv_console(int sock);

#endif
