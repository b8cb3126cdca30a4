/* ctrstore: containers on disk (docs/SHIM.md): their directories, names, configuration and state.
 *
 * <dir>/<id>/config.json is written once when the container is created; state.json is rewritten
 * (temporary file + rename) by the shim at each transition; names/<name> is a symlink to the ID,
 * created atomically so two `reef run --name x` at once cannot both win. The liveness of a
 * container's shim is its flock on <id>/shim.lock. Any process may read; one shim writes state.
 * Functions are synchronous; any thread. */
#ifndef REEF_RUNTIME_CTRSTORE_H
#define REEF_RUNTIME_CTRSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "runtime/mounts.h"

#define REEF_CTR_ID_LEN 64

enum reef_restart { REEF_RESTART_NO, REEF_RESTART_ON_FAILURE, REEF_RESTART_ALWAYS };

struct reef_ctr_volume {
    enum reef_volume_kind kind;
    char *source; /* bind: absolute host path */
    char *target;
    bool readonly;
    char *options; /* tmpfs mount data, may be NULL */
};

/* Everything needed to run the container, resolved at creation. Strings are owned by the struct
 * (free with reef_ctr_config_free). */
struct reef_ctr_config {
    char id[REEF_CTR_ID_LEN + 1];
    char name[128];
    char *image;    /* as the user named it, normalised ("docker.io/library/busybox:latest") */
    char *image_id; /* config digest */
    char **layers;  /* unpacked layer directories, topmost first */
    size_t nlayers;
    char **argv; /* entrypoint + command, final */
    size_t argc;
    char **env; /* "K=V" */
    size_t nenv;
    char *workdir;  /* "" for the image's default "/" */
    char *user;     /* "" for root, else USER[:GROUP] */
    char *hostname;
    bool tty, interactive, readonly, remove; /* -t, -i, --read-only, --rm */
    /* interactive without a terminal and without a client at the start: stdin is a pipe the shim
     * holds open; with stdin_once the first attached input's end closes it (a pod's stdinOnce) */
    bool stdin_once;
    uint64_t caps;
    bool seccomp;         /* false = unconfined */
    char *seccomp_profile; /* a Docker-format profile (JSON text); "" for reef's default */
    bool no_new_privs;
    int64_t memory;       /* bytes, 0 = no limit */
    double cpus;          /* 0 = no limit */
    int64_t pids_limit;   /* 0 = no limit */
    struct reef_ctr_volume *volumes;
    size_t nvolumes;
    bool host_network;    /* --network host; else none */
    bool host_pid;        /* the host's PID namespace (a pod's hostPID) instead of its own */
    bool host_ipc;        /* the host's IPC namespace (a pod's hostIPC): ipcns is not joined */
    bool userns;          /* --userns remap: root in the container is uid 100000 on the host */
    enum reef_restart restart;
    int max_retries;      /* on-failure:N, 0 = unlimited */
    int stop_signal;
    int stop_timeout;     /* seconds */
    char *cgroup_parent;  /* "" = "/reef" */
    int64_t created;      /* unix time in nanoseconds */
    /* A pod's namespaces (runtime/pod): files of namespaces to join instead of creating new
     * ones; "" (or NULL before saving) for a new one. With utsns the host name is the pod's and
     * is not set again. */
    char *netns, *ipcns, *utsns;
    /* "key=value" strings (reef.pod.uid=..., reef.container.name=...): who made the container
     * and why, so the node agent finds its containers again after a restart. */
    char **labels;
    size_t nlabels;
    /* Numeric group IDs added to the process's supplementary groups (a pod's supplementalGroups
     * and fsGroup), as decimal strings. */
    char **groups_add;
    size_t ngroups_add;
    /* "name=value" kernel parameters set in the container's namespaces (a pod's sysctls) */
    char **sysctls;
    size_t nsysctls;
    /* Do not write and bind /etc/hosts, /etc/hostname and /etc/resolv.conf: the caller provides
     * its own as volumes (the node agent's per-pod files). */
    bool no_etc_files;
};

enum reef_ctr_status {
    REEF_CTR_CREATED,
    REEF_CTR_RUNNING,
    REEF_CTR_RESTARTING,
    REEF_CTR_EXITED,
};

struct reef_ctr_state {
    enum reef_ctr_status status;
    int pid;      /* the container's init, in the host's PID namespace; 0 when not running */
    int shim_pid;
    int64_t started_at, finished_at; /* unix ns, 0 when never */
    int exit_code;
    bool oom_killed;
    int restart_count;
    char error[256];
};

struct reef_ctrstore;

int reef_ctrstore_open(const char *dir, struct reef_ctrstore **out, struct reef_err *err);
void reef_ctrstore_close(struct reef_ctrstore *s);
const char *reef_ctrstore_dir(const struct reef_ctrstore *s);

/* Fills cfg->id with a new random ID and, when cfg->name is empty, a random name; reserves the
 * name (-EEXIST "container name \"x\" is already in use by <id>"), creates the directory and
 * writes config.json and an initial state. */
int reef_ctr_create(struct reef_ctrstore *s, struct reef_ctr_config *cfg, struct reef_err *err);

/* Finds a container by name, full ID or unique ID prefix. id gets the full ID. -ENOENT
 * ("no such container: x"), -EINVAL for an ambiguous prefix. */
int reef_ctr_resolve(struct reef_ctrstore *s, const char *what, char id[REEF_CTR_ID_LEN + 1],
                     struct reef_err *err);

/* Path of a file in the container's directory ("config.json", "shim.sock", ...). */
int reef_ctr_path(struct reef_ctrstore *s, const char *id, const char *file, char *out,
                  size_t outsz);

int reef_ctr_load_config(struct reef_ctrstore *s, const char *id, struct reef_ctr_config *cfg,
                         struct reef_err *err);
void reef_ctr_config_free(struct reef_ctr_config *cfg);
int reef_ctr_load_state(struct reef_ctrstore *s, const char *id, struct reef_ctr_state *st,
                        struct reef_err *err);
int reef_ctr_save_state(struct reef_ctrstore *s, const char *id, const struct reef_ctr_state *st,
                        struct reef_err *err);
const char *reef_ctr_status_name(enum reef_ctr_status st);

/* The value of label key ("reef.pod.uid"), or NULL when the container has none. Points into
 * cfg. */
const char *reef_ctr_label(const struct reef_ctr_config *cfg, const char *key);

/* True while the container's shim holds its lock. */
bool reef_ctr_shim_alive(struct reef_ctrstore *s, const char *id);

/* Calls fn for every container (in no particular order); fn returns 0 to go on. */
int reef_ctr_list(struct reef_ctrstore *s, int (*fn)(void *ud, const char *id), void *ud,
                  struct reef_err *err);

/* Removes the container's directory and its name. The caller has made sure nothing runs. */
int reef_ctr_remove(struct reef_ctrstore *s, const char *id, struct reef_err *err);
/* The fast half of removal: drops the name and moves the directory to <dir>/.trash/<id> (path in
 * trash), after which no command sees the container; the caller deletes that tree. */
int reef_ctr_unlist(struct reef_ctrstore *s, const char *id, const char *name, char *trash,
                    size_t trashsz, struct reef_err *err);

/* JSON forms (used for config.json, state.json and `reef inspect`). */
int reef_ctr_config_to_json(const struct reef_ctr_config *cfg, struct reef_buf *out);
int reef_ctr_config_from_json(const char *json, size_t len, struct reef_ctr_config *cfg,
                              struct reef_err *err);
int reef_ctr_state_to_json(const struct reef_ctr_state *st, struct reef_buf *out);
int reef_ctr_state_from_json(const char *json, size_t len, struct reef_ctr_state *st,
                             struct reef_err *err);

#endif
