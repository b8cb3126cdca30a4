/* endpoints: the Endpoints and EndpointSlice controller of `reef server` (docs/ENDPOINTS.md).
 *
 * For every Service with a selector it keeps an Endpoints object of the same name and one
 * EndpointSlice (generateName "<service>-", labels kubernetes.io/service-name and
 * endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io) listing the pods the
 * selector matches that have an address: ready pods as ready addresses, the others as not ready,
 * with the Service's ports resolved against each pod (target port numbers and named container
 * ports). Services without a selector are left alone: their Endpoints belong to someone else (the
 * API server's own for default/kubernetes). When a Service goes, its Endpoints and slices go.
 *
 * It reads through store watches on services and pods, coalesces the changes of one loop turn
 * per Service, and writes through the API server only when the content changed, so a repeated
 * change never consumes a revision.
 *
 * Threads: the loop thread of the env (the store's and the API server's) only. */
#ifndef REEF_ORCHESTRATE_ENDPOINTS_H
#define REEF_ORCHESTRATE_ENDPOINTS_H

#include "core/err.h"
#include "orchestrate/ctl.h"

struct reef_endpoints;

/* Starts the controller on env (borrowed: it must outlive the controller). Every Service is
 * synced once soon after. *out is stopped with reef_endpoints_stop. */
int reef_endpoints_start(const struct reef_ctl_env *env, struct reef_endpoints **out,
                         struct reef_err *err);
/* Cancels its watches and timer; the memory goes once the loop has run the timer's close
 * callback. NULL is ignored. */
void reef_endpoints_stop(struct reef_endpoints *e);

#endif
