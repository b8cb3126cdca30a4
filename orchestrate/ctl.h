/* ctl: what the control loops inside `reef server` share — the scheduler, the controllers and the
 * embedded agent (docs/CONTROLLERS.md).
 *
 * A loop reads through the store (reef_store_list, reef_store_watch on the store keys "pods",
 * "deployments.apps", ...) and writes only through the API server (reef_ctl_call), so its writes
 * get the same defaults, validation, conflict checks and watch events as kubectl's. Everything
 * runs on the server's loop thread. */
#ifndef REEF_ORCHESTRATE_CTL_H
#define REEF_ORCHESTRATE_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "core/err.h"
#include "orchestrate/apiserver.h"
#include "orchestrate/store.h"

struct reef_ctl_env {
    uv_loop_t *loop;
    struct reef_store *store;
    struct reef_apiserver *api;
    struct reef_apiserver_user user; /* who the loop writes as */
};

/* An API request as env->user (reef_apiserver_call): the HTTP status, or a negative code. */
int reef_ctl_call(const struct reef_ctl_env *env, const char *method, const char *target,
                  const char *content_type, const char *body, size_t len, struct reef_buf *out,
                  struct reef_err *err);

/* Records an Event (core/v1) about obj (the involved object's JSON: kind, apiVersion, namespace,
 * name, uid, resourceVersion are taken from it) from component ("default-scheduler",
 * "deployment-controller", "kubelet"), with host for the kubelet's events (or NULL). type is
 * "Normal" or "Warning". A repeat of the same object, reason and message within the Event's life
 * increases its count and lastTimestamp instead of creating another, as Kubernetes' recorder
 * does. Failures are logged, not returned: an event is never worth failing the action. */
void reef_ctl_event(const struct reef_ctl_env *env, const char *component, const char *host,
                    const char *obj, size_t obj_len, const char *type, const char *reason,
                    const char *fmt, ...) REEF_PRINTF(8, 9);

/* Events older than ttl_ms (0: one hour) are deleted; call it now and then (the server does so
 * from its tick). Returns how many went. */
int reef_ctl_events_expire(const struct reef_ctl_env *env, int64_t now_ms, int64_t ttl_ms);

/* "2026-11-28T16:35:21Z" for Unix ms. */
void reef_ctl_time(int64_t ms, char out[32]);
/* Unix ms of an RFC 3339 time ("...Z", fractions allowed); -1 when malformed. */
int64_t reef_ctl_parse_time(const char *s);

#endif
