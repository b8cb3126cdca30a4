/* agent: the node agent — what kubelet is to Kubernetes (docs/AGENT.md).
 *
 * It owns this node's Node object and Lease, the pods bound to the node: their sandboxes
 * (runtime/pod), addresses (net/podnet), images, containers (one shim each, runtime/shim),
 * restarts with back-off, probes (orchestrate/probe), termination, and the pods' status; and the
 * node's answers to log/exec/attach requests (orchestrate/podio). It reads the pods bound to it
 * through the store and writes through the API server (orchestrate/ctl.h), so the same logic can
 * later talk to a remote server.
 *
 * Threads: the loop thread of `reef server`; image pulls run on libuv's thread pool. */
#ifndef REEF_ORCHESTRATE_AGENT_H
#define REEF_ORCHESTRATE_AGENT_H

#include <stdbool.h>

#include "core/err.h"
#include "orchestrate/ctl.h"

struct reef_agent;

struct reef_agent_opts {
    const struct reef_ctl_env *env;
    const char *node_name; /* the host name unless --node-name */
    const char *data_dir;  /* images in DIR/images, containers in DIR/containers, pod sandboxes
                              in DIR/pods, addresses in DIR/agent/ipam */
    const char *pod_cidr;  /* "10.42.0.0/24" */
    const char *bridge;    /* "reef0" */
    bool allow_privileged; /* privileged pods run; otherwise they are refused */
    const char *registries_yaml; /* NULL: /etc/reef/registries.yaml */
};

/* Registers the node and starts running its pods: containers found from an earlier run are
 * adopted, not restarted. */
int reef_agent_start(const struct reef_agent_opts *o, struct reef_agent **out,
                     struct reef_err *err);
/* Stops watching and reporting; every container keeps running. NULL is ignored. */
void reef_agent_stop(struct reef_agent *a);

#endif
