/* workload: what workload.c (queue, watches, object helpers), ctl_replicaset.c, ctl_deployment*.c
 * and workload_hash*.c share. Loop thread only. */
#ifndef REEF_ORCHESTRATE_WORKLOAD_INT_H
#define REEF_ORCHESTRATE_WORKLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/json.h"
#include "orchestrate/selector.h"
#include "orchestrate/store.h"
#include "orchestrate/workload.h"

#define WL_NAME_MAX (REEF_STORE_MAX_NAME + 1)
#define WL_BURST 500 /* pods created or deleted by one ReplicaSet sync, as upstream */

enum wl_kind { WL_RS = 'R', WL_DEPLOY = 'D' };

/* Wall-clock source (Unix ms); tests substitute their own. */
typedef int64_t (*reef__wl_clock_fn)(void *ud);

/* One stored object: its text (malloc'd) and the parsed document over it. */
struct wl_obj {
    char *json;
    size_t len;
    struct reef_json_doc d;
};

/* A pod, as the ReplicaSet controller looks at it. */
struct wl_pod {
    struct wl_obj o;
    char name[WL_NAME_MAX], uid[REEF_STORE_UID_LEN + 1];
    char ctrl_uid[REEF_STORE_UID_LEN + 1]; /* the controller ownerReference's uid, "" when none */
    char ctrl_kind[64], ctrl_name[WL_NAME_MAX];
    char node[WL_NAME_MAX];
    int phase; /* 0 Pending, 1 Unknown, 2 Running, 3 Succeeded, 4 Failed */
    bool ready, deleting;
    int64_t ready_ms;   /* Ready condition's lastTransitionTime (0: none) */
    int64_t created_ms; /* creationTimestamp (0: none) */
    int64_t restarts, sidecar_restarts, deletion_cost;
    int rank; /* active related pods on the same node */
};

/* A ReplicaSet. */
struct wl_rs {
    struct wl_obj o;
    char name[WL_NAME_MAX], uid[REEF_STORE_UID_LEN + 1];
    char ctrl_uid[REEF_STORE_UID_LEN + 1], ctrl_kind[64], ctrl_name[WL_NAME_MAX];
    int64_t created_ms, generation, revision; /* revision: the annotation, 0 when none */
    int64_t replicas;                         /* spec.replicas */
    int64_t st_replicas, st_ready, st_available, st_observed;
    bool deleting;
};

struct wl_key {
    char kind;
    char ns[WL_NAME_MAX];
    char name[WL_NAME_MAX];
};

struct reef_workload;

/* ---- workload.c ---- */

const struct reef_ctl_env *reef__wl_env(const struct reef_workload *w);
int64_t reef__wl_now(const struct reef_workload *w);
/* Queues a sync of the key (coalesced with a pending one). */
void reef__wl_enqueue(struct reef_workload *w, char kind, const char *ns, const char *name);
/* Queues it again in delay_ms (the earlier of two requests wins). */
void reef__wl_enqueue_after(struct reef_workload *w, char kind, const char *ns, const char *name,
                            int64_t delay_ms);

/* Tests: the clock, and running the delayed keys that are due by that clock. */
void reef__wl_set_clock(struct reef_workload *w, reef__wl_clock_fn fn, void *ud);
void reef__wl_fire_timers(struct reef_workload *w);
size_t reef__wl_pending(const struct reef_workload *w);

int reef__wl_obj_parse(struct wl_obj *o, char *json, size_t len); /* takes json */
void reef__wl_obj_free(struct wl_obj *o);
/* Replaces o with the text in b (stolen). */
int reef__wl_obj_replace(struct wl_obj *o, struct reef_buf *b);

/* Values of o by path (reef_json_find syntax). */
int reef__wl_find(const struct wl_obj *o, const char *path);
bool reef__wl_str(const struct wl_obj *o, const char *path, char *dst, size_t size);
int64_t reef__wl_int(const struct wl_obj *o, const char *path, int64_t def);
bool reef__wl_bool(const struct wl_obj *o, const char *path);
int64_t reef__wl_time(const struct wl_obj *o, const char *path); /* Unix ms, 0 when none */
/* metadata.annotations[key] into dst; false when absent. */
bool reef__wl_annotation(const struct wl_obj *o, const char *key, char *dst, size_t size);
/* The controller ownerReference (kind, name, uid); false when none. */
bool reef__wl_controller(const struct wl_obj *o, char *kind, size_t ksize, char *name, size_t nsize,
                         char *uid, size_t usize);

/* Object rewriting: a copy of the object with values at paths replaced, added or removed. A
 * path is a NULL-terminated list of keys; raw NULL removes the member. */
struct wl_set {
    const char *path[6];
    const char *raw; /* a JSON value, or NULL */
    size_t len;
};
int reef__wl_rewrite(const struct wl_obj *o, const struct wl_set *sets, size_t n,
                     struct reef_buf *out);

/* Lists of pods and ReplicaSets in a namespace; freed with the matching free. */
int reef__wl_list_pods(struct reef_workload *w, const char *ns, struct wl_pod **out, size_t *n);
void reef__wl_pods_free(struct wl_pod *p, size_t n);
int reef__wl_list_rs(struct reef_workload *w, const char *ns, struct wl_rs **out, size_t *n);
void reef__wl_rs_free(struct wl_rs *r, size_t n);
int reef__wl_rs_load(struct wl_rs *rs, char *json, size_t len); /* takes json */
void reef__wl_pod_load_fields(struct wl_pod *p);

/* An ownerReference naming the object as controller, as metav1.NewControllerRef writes it. */
void reef__wl_controller_ref(struct reef_buf *b, const char *api_version, const char *kind,
                             const char *name, const char *uid);

/* Whether the labels at metadata.labels of o match sel. */
bool reef__wl_matches(const struct reef_label_selector *sel, const struct wl_obj *o);

/* The answer of a write: 0, -EAGAIN for a conflict (409: sync again soon), -ENOENT (404), or
 * another negative code (err says why). The body is appended to out (may be NULL). */
int reef__wl_call(struct reef_workload *w, const char *method, const char *target, const char *body,
                  size_t len, struct reef_buf *out, struct reef_err *err);

/* Sets the owner's controller reference in the object's ownerReferences (adopt) or removes the
 * reference to owner_uid (release), with a PUT at the object's resourceVersion. */
int reef__wl_set_owner(struct reef_workload *w, const char *target, const struct wl_obj *o,
                       const char *ref_json, const char *release_uid, struct reef_buf *out,
                       struct reef_err *err);

/* ---- ctl_replicaset.c ---- */
int reef__wl_sync_rs(struct reef_workload *w, const char *ns, const char *name);
/* Pod ordering for scale-down (controller.ActivePodsWithRanks); now for the logarithmic scale. */
void reef__wl_rank_pods(struct wl_pod **pods, size_t n, int64_t now_ms);

/* ---- ctl_deployment.c ---- */
int reef__wl_sync_deploy(struct reef_workload *w, const char *ns, const char *name);

/* ---- workload_hash.c ---- */
/* SafeEncodeString of FNV-32a over the spew rendering (see reef_workload_template_hash). */
int reef__wl_template_hash(const struct reef_json_doc *d, int v, int64_t collision_count,
                           char out[16]);

#endif
