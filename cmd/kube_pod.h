/* kube_pod: what reef's pod commands share (logs, exec): the pod a TYPE/NAME argument names, the
 * container kubectl would pick, and a blocking WebSocket client for the remote command protocol.
 *
 * Command-line only: single-threaded, synchronous. */
#ifndef REEF_CMD_KUBE_POD_H
#define REEF_CMD_KUBE_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/kube.h"
#include "core/json.h"
#include "core/ws_client.h"

/* ---- entry points (cmd/logs.c and cmd/exec.c hand pods over to these) ---- */

/* `reef logs` for pods, as kubectl logs: argv as the command got it. Returns the exit status. */
int reef__kube_logs_run(int argc, char **argv);
/* `reef exec` for pods, as kubectl exec. */
int reef__kube_exec_run(int argc, char **argv);
/* True when an argv of `reef logs` / `reef exec` names a pod rather than a local container:
 * a pod-only flag, TYPE/NAME, or a NAME that is no local container while a kubeconfig exists.
 * data_dir: the local containers' data directory flag (may be NULL). */
bool reef__kube_wants_pod(int argc, char **argv, bool exec);

/* ---- the pod behind an argument ---- */

/* How kubectl picks one pod of many: logs prefer the pod with more restarts, exec (attach) the
 * one with fewer; otherwise both prefer a scheduled, running, ready, long-ready, older pod. */
enum reef_kube_pick { REEF_KUBE_PICK_LOGS, REEF_KUBE_PICK_EXEC };

/* A pod read from the server: the response and the document parsed from it. */
struct reef_kube_podobj {
    struct reef_http_result res;
    struct reef_json_doc d;
};
void reef__kube_podobj_free(struct reef_kube_podobj *p);

/* Resolves "NAME", "pod/NAME" or "TYPE/NAME" (a deployment, replica set or service: the first pod
 * of its selector, as kubectl picks it, waiting up to timeout_s seconds for one to exist, as its
 * --pod-running-timeout) to a pod in k->ns, GETting it into *pod (the caller frees
 * it with reef__kube_podobj_free, also after a failure). Returns 0, or 1 after printing kubectl's
 * error (logs and exec word a missing object differently). */
int reef__kube_pod_get(struct reef_kube *k, const char *arg, enum reef_kube_pick pick,
                       long long timeout_s, struct reef_kube_podobj *pod);
/* Go's time.ParseDuration ("1m30s", "500ms", "2h"), rounded to whole seconds as kubectl rounds
 * --since; -1 when s is not a duration. */
long long reef__kube_duration_s(const char *s);

/* The container kubectl defaults to: the kubectl.kubernetes.io/default-container annotation when
 * it names one, else the first, with "Defaulted container "a" out of: a, b, init (init)" on
 * stderr when the pod has others (unless quiet). out gets the name. 0, or -ENOENT. */
int reef__kube_pod_default_container(const struct reef_json_doc *pod, bool quiet, char *out,
                                     size_t outsz);
/* True when the pod spec has a container (or init or ephemeral container) of that name. */
bool reef__kube_pod_has_container(const struct reef_json_doc *pod, const char *name);
/* metadata.name / metadata.namespace of the pod. */
void reef__kube_pod_name(const struct reef_json_doc *pod, char *name, size_t namesz, char *ns,
                         size_t nssz);

/* ---- WebSocket connections to the API server (cmd/kube_ws.c) ---- */

/* Opens path (query included) on k's server as a WebSocket (core/ws_client) with the
 * kubeconfig's credentials, offering protocols (NULL-terminated, in order of preference). On
 * success *out is the caller's (reef_ws_client_free). When the server answers without upgrading,
 * returns -EPROTO with its status and body in *refused (the caller frees it with
 * reef_http_result_free); a refused connection is worded as kubectl words it. */
int reef__kube_ws_open(struct reef_kube *k, const char *path, const char *const *protocols,
                       struct reef_ws_client **out, struct reef_http_result *refused,
                       struct reef_err *err);

#endif
