/* The Deployment controller's pieces: ctl_deployment.c (ReplicaSets, revisions, the sync) and
 * ctl_deployment_rollout.c (rollouts, scaling, status and conditions). Loop thread only. */
#ifndef REEF_ORCHESTRATE_CTL_DEPLOYMENT_H
#define REEF_ORCHESTRATE_CTL_DEPLOYMENT_H

#include "orchestrate/workload_int.h"

struct wl_cond {
    char type[32], status[16], reason[64], message[512];
    int64_t update_ms, transition_ms;
};

/* DeploymentStatus; collision < 0 when nil. */
struct wl_dstatus {
    int64_t observed, replicas, updated, ready, available, unavailable, collision;
    struct wl_cond c[6];
    int nc;
};

struct wl_dep {
    struct wl_obj o;
    char ns[WL_NAME_MAX], name[WL_NAME_MAX], uid[REEF_STORE_UID_LEN + 1];
    int64_t replicas, generation, min_ready, history_limit, deadline; /* < 0: none */
    int64_t surge, unavailable;                                       /* resolved fenceposts */
    bool recreate, paused, deleting;
    struct wl_dstatus cur; /* the status as this sync changes it (upstream's d.Status) */
    struct wl_rs created;  /* a ReplicaSet created (or found by name) in this sync */
    bool have_created;
};

int64_t reef__wl_max_unavailable(const struct wl_dep *d);
int64_t reef__wl_max_surge(const struct wl_dep *d);
int64_t reef__wl_new_rs_replicas(const struct wl_dep *d, struct wl_rs **all, size_t n,
                                 int64_t new_replicas);
void reef__wl_sort_rs(struct wl_rs **v, size_t n,
                      bool (*less)(const struct wl_rs *, const struct wl_rs *));
int reef__wl_scale_rs(struct reef_workload *w, struct wl_dep *d, struct wl_rs *rs, int64_t scale,
                      const char *op, bool *scaled);
int reef__wl_scale_rs_event(struct reef_workload *w, struct wl_dep *d, struct wl_rs *rs,
                            int64_t scale, bool *scaled);
/* olds has room for nrs entries. */
int reef__wl_new_and_old(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets,
                         size_t nrs, bool create, struct wl_rs **newrs, struct wl_rs **olds,
                         size_t *nold);
int reef__wl_cleanup(struct reef_workload *w, struct wl_dep *d, struct wl_rs **olds, size_t nold);

/* ctl_deployment_rollout.c */
void reef__wl_dstatus_load(struct wl_dep *d);
const struct wl_cond *reef__wl_cond_get(const struct wl_dstatus *s, const char *type);
/* SetDeploymentCondition (NewDeploymentCondition at now). */
void reef__wl_cond_set(struct wl_dstatus *s, const char *type, const char *status,
                       const char *reason, const char *message, int64_t now);
/* UpdateStatus with s, when it differs from the stored status. */
int reef__wl_write_status(struct reef_workload *w, struct wl_dep *d, const struct wl_dstatus *s);
int reef__wl_sync_status_only(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets,
                              size_t n);
int reef__wl_paused_conditions(struct reef_workload *w, struct wl_dep *d);
int reef__wl_sync_scale(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets, size_t n);
int reef__wl_is_scaling(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets, size_t n,
                        bool *scaling);
int reef__wl_rollout_rolling(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets,
                             size_t n);
int reef__wl_rollout_recreate(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets,
                              size_t n, const struct wl_pod *pods, size_t npods);

#endif
