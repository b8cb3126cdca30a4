/* probe: a container's liveness, readiness or startup probe (docs/PODIO.md), run by Kubernetes'
 * rules on the node agent's loop.
 *
 * A probe owns its timers, its HTTP client, its TCP connection (and gRPC call) and, for exec
 * probes, the process it started in the container (through the container's shim) with the pipe
 * capturing its output. Handlers: exec (exit code 0 is success, output up to 10 KiB is the message), httpGet
 * (status 200-399 is success; redirects are not followed; https is not verified, as the kubelet
 * does), tcpSocket (a connection within the timeout), grpc (gRPC's health check answering
 * SERVING on that connection; orchestrate/grpc_health). Timing: the first attempt after
 * initialDelaySeconds, then every periodSeconds [10]; each attempt is given timeoutSeconds [1];
 * successThreshold [1] consecutive successes or failureThreshold [3] consecutive failures change
 * the result. Nothing blocks the loop: the shim request runs on libuv's thread pool, the rest is
 * event-driven.
 *
 * All functions on the loop's thread; the callback runs there. */
#ifndef REEF_ORCHESTRATE_PROBE_H
#define REEF_ORCHESTRATE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/err.h"

enum reef_probe_result { REEF_PROBE_UNKNOWN, REEF_PROBE_SUCCESS, REEF_PROBE_FAILURE };

/* Strings are copied by reef_probe_start. */
struct reef_probe_target {
    const char *containers_dir, *id; /* exec probes run in this container (reef_shim_exec_start) */
    const char *pod_ip;              /* httpGet/tcpSocket default host */
    const char *ports_json;          /* the container's "ports" array (named ports), may be NULL */
};

/* Called when the probe's result changes by Kubernetes' rules (the first result counts as a
 * change from UNKNOWN); message says why ("HTTP probe failed with statuscode: 500", an exec
 * probe's output). Never called from inside reef_probe_start or reef_probe_stop. */
typedef void (*reef_probe_cb)(void *ud, enum reef_probe_result r, const char *message);

struct reef_probe;

/* Parses probe_json (a v1 Probe) and schedules the first attempt. -EINVAL for a probe that is not
 * valid JSON or has no handler. *out is freed by reef_probe_stop. */
int reef_probe_start(uv_loop_t *loop, const char *probe_json, size_t len,
                     const struct reef_probe_target *t, reef_probe_cb cb, void *ud,
                     struct reef_probe **out, struct reef_err *err);
/* Stops the probe (NULL ignored): cb is not called again. An exec probe's process still running
 * is killed. The memory is released once the loop has closed the probe's handles. */
void reef_probe_stop(struct reef_probe *p);

/* The result reported last (UNKNOWN before the first change). */
enum reef_probe_result reef_probe_result(const struct reef_probe *p);

/* Kubernetes' threshold rules alone, without I/O or time (what a probe applies to each attempt's
 * outcome): successThreshold consecutive successes make SUCCESS, failureThreshold consecutive
 * failures make FAILURE, anything shorter keeps the result. Embedded by the caller; start it as
 * {.success_threshold = s, .failure_threshold = f} (result UNKNOWN). */
struct reef_probe_rules {
    int success_threshold, failure_threshold;
    enum reef_probe_result result;
    int success_run, failure_run;
};
/* Records one attempt's outcome; true when the result changed. */
bool reef_probe_rules_record(struct reef_probe_rules *r, bool ok);

#endif
