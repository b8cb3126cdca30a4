/* pod: a Kubernetes pod's sandbox on this node, the namespaces its containers share.
 *
 * A pod's containers share its network, IPC and UTS namespaces (each keeps its own PID and mount
 * namespaces). They are made by a short-lived child and held by bind mounts of its namespace
 * files onto <pods_dir>/<uid>/ns/{net,ipc,uts}, so no process has to stay alive to keep them:
 * the files outlive the node agent, which finds them again after a restart. Containers join them
 * by path (reef_ctr_config netns/ipcns/utsns). <pods_dir> is made a private mount point, so the
 * namespace mounts never propagate into other mount namespaces (where they would keep a pod's
 * network alive after its removal). Everything else in <pods_dir>/<uid> (/etc/hosts and the like,
 * volumes) is the agent's.
 *
 * Synchronous (a fork and a few mounts): any thread, off a libuv loop's thread when it must not
 * block; calls for one pod are not made concurrently (the agent serialises each pod's work). The caller is root in the host's mount namespace (or the one its containers run in). */
#ifndef REEF_RUNTIME_POD_H
#define REEF_RUNTIME_POD_H

#include <stdbool.h>

#include "core/err.h"

/* Paths of one pod's sandbox. netns is "" for a pod on the host's network. */
struct reef_pod_sandbox {
    char dir[4096];   /* <pods_dir>/<uid> */
    char netns[4096]; /* <dir>/ns/net */
    char ipcns[4096];
    char utsns[4096];
};

/* Creates the sandbox of pod uid (a UID as Kubernetes makes them: letters, digits, '-', '_',
 * '.'; at most 128), with hostname (1-64 bytes) set in its UTS namespace; host_network: no
 * network namespace. Idempotent: an existing sandbox is kept and its paths returned (its
 * host name is not changed); one left half made by a crash is made anew. */
int reef_pod_sandbox_create(const char *pods_dir, const char *uid, const char *hostname,
                            bool host_network, struct reef_pod_sandbox *out,
                            struct reef_err *err);

/* Unmounts the namespace files (MNT_DETACH: a namespace lives on while a container is in it)
 * and removes <pods_dir>/<uid> with everything in it; missing pieces are not errors. The agent
 * unmounts whatever it mounted there itself first (removal never crosses into another file
 * system). */
int reef_pod_sandbox_remove(const char *pods_dir, const char *uid, struct reef_err *err);

/* The sandbox's paths without touching anything (for a pod known to have one). -EINVAL for a
 * bad uid, -ENAMETOOLONG. */
int reef_pod_sandbox_paths(const char *pods_dir, const char *uid, bool host_network,
                           struct reef_pod_sandbox *out, struct reef_err *err);

#endif
