/* workload: the Deployment and ReplicaSet controllers of `reef server` (docs/CONTROLLERS.md), with
 * the semantics of kube-controller-manager 1.32.
 *
 * The ReplicaSet controller keeps spec.replicas active pods that match the selector and name the
 * ReplicaSet as their controller (adopting orphans, releasing pods that stop matching) and
 * reports replicas, fullyLabeledReplicas, readyReplicas and availableReplicas. The Deployment
 * controller owns ReplicaSets named "<deployment>-<pod-template-hash>" and rolls them
 * (RollingUpdate with maxSurge/maxUnavailable, Recreate), scales them proportionally, keeps the
 * revision annotations, the Progressing and Available conditions and revisionHistoryLimit.
 *
 * Both read through the store (watches on "deployments.apps", "replicasets.apps" and "pods") and
 * write only through reef_ctl_call. Watch events map to the keys of the owning objects, which are
 * coalesced in a work queue drained from the loop (a uv_idle handle that runs only while there is
 * work); delayed checks (minReadySeconds, progress deadlines, retries) use one timer. Nothing
 * runs while nothing changes. Everything runs on the env's loop thread. */
#ifndef REEF_ORCHESTRATE_WORKLOAD_H
#define REEF_ORCHESTRATE_WORKLOAD_H

#include "core/err.h"
#include "orchestrate/ctl.h"

struct reef_workload;

/* Starts both controllers on env (which must outlive them; it is copied). Every Deployment and
 * ReplicaSet already stored is synced once, soon. *out is freed by reef_workload_stop. */
int reef_workload_start(const struct reef_ctl_env *env, struct reef_workload **out,
                        struct reef_err *err);
/* Cancels the watches and the timer; NULL is ignored. The memory goes with the close callbacks
 * of its two handles, so the loop must run once more after this (call it from a loop callback,
 * e.g. the signal handler that stops the server, or run the loop with UV_RUN_NOWAIT after it). */
void reef_workload_stop(struct reef_workload *w);

/* The pod-template-hash of a pod template (a PodTemplateSpec JSON as stored, defaults applied)
 * and a Deployment's status.collisionCount (< 0: none): FNV-32a of the template as
 * Kubernetes' controller.ComputeHash prints it, in SafeEncodeString's alphabet. out gets at most
 * 10 characters and the NUL. -EINVAL when the template is not a JSON object. */
int reef_workload_template_hash(const char *tmpl, size_t len, int64_t collision_count, char out[16],
                                struct reef_err *err);

#endif
