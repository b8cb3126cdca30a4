/* The ReplicaSet controller (pkg/controller/replicaset in kube-controller-manager 1.32): claims
 * the active pods its selector matches, creates or deletes pods to reach spec.replicas, and
 * reports the counts in status. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "orchestrate/workload_int.h"

#define COMPONENT "replicaset-controller"

/* ---- scale-down order (controller.ActivePodsWithRanks.Less) ---- */

static const int phase_ordinal[] = {0, 1, 2, 3, 3}; /* Pending < Unknown < Running */

static bool after_or_zero(int64_t t1, int64_t t2)
{
    if (t1 == 0 || t2 == 0)
        return t1 == 0;
    return t1 > t2;
}

static int64_t log_rank(int64_t t, int64_t now)
{
    double d = (double)(now - t) * 1e6; /* nanoseconds, as time.Duration */
    return d > 0 ? (int64_t)log2(d) : -1;
}

/* Whether a should be deleted before b. */
static bool pod_less(const struct wl_pod *a, const struct wl_pod *b, int64_t now)
{
    if (strcmp(a->node, b->node) != 0 && (!a->node[0] || !b->node[0]))
        return !a->node[0];
    if (phase_ordinal[a->phase] != phase_ordinal[b->phase])
        return phase_ordinal[a->phase] < phase_ordinal[b->phase];
    if (a->ready != b->ready)
        return !a->ready;
    if (a->deletion_cost != b->deletion_cost)
        return a->deletion_cost < b->deletion_cost;
    if (a->rank != b->rank)
        return a->rank > b->rank;
    if (a->ready && b->ready && a->ready_ms != b->ready_ms) {
        if (a->ready_ms == 0 || b->ready_ms == 0 || now == 0)
            return after_or_zero(a->ready_ms, b->ready_ms);
        int64_t diff = log_rank(a->ready_ms, now) - log_rank(b->ready_ms, now);
        if (diff == 0)
            return strcmp(a->uid, b->uid) < 0;
        return diff < 0;
    }
    if (a->restarts != b->restarts)
        return a->restarts > b->restarts;
    if (a->sidecar_restarts != b->sidecar_restarts)
        return a->sidecar_restarts > b->sidecar_restarts;
    if (a->created_ms != b->created_ms) {
        if (a->created_ms == 0 || b->created_ms == 0 || now == 0)
            return after_or_zero(a->created_ms, b->created_ms);
        int64_t diff = log_rank(a->created_ms, now) - log_rank(b->created_ms, now);
        if (diff == 0)
            return strcmp(a->uid, b->uid) < 0;
        return diff < 0;
    }
    return false;
}

void reef__wl_rank_pods(struct wl_pod **pods, size_t n, int64_t now_ms)
{
    /* a stable insertion sort: the lists are one ReplicaSet's pods */
    for (size_t i = 1; i < n; i++) {
        struct wl_pod *p = pods[i];
        size_t j = i;
        while (j > 0 && pod_less(p, pods[j - 1], now_ms)) {
            pods[j] = pods[j - 1];
            j--;
        }
        pods[j] = p;
    }
}

static bool pod_active(const struct wl_pod *p)
{
    return p->phase != 3 && p->phase != 4 && !p->deleting;
}

/* ---- pods from the template ---- */

static int create_pod(struct reef_workload *w, const struct wl_rs *rs, const char *ns,
                      struct reef_err *err)
{
    const struct wl_obj *o = &rs->o;
    struct reef_buf body = REEF_BUF_INIT, ref = REEF_BUF_INIT, out = REEF_BUF_INIT;
    reef__wl_controller_ref(&ref, "apps/v1", "ReplicaSet", rs->name, rs->uid);
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, &body, 0);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "apiVersion");
    reef_json_put_str(&jw, "v1");
    reef_json_key(&jw, "kind");
    reef_json_put_str(&jw, "Pod");
    reef_json_key(&jw, "metadata");
    reef_json_begin_object(&jw);
    char prefix[WL_NAME_MAX + 1];
    snprintf(prefix, sizeof(prefix), "%.*s-", (int)(sizeof(prefix) - 2), rs->name);
    reef_json_key(&jw, "generateName");
    reef_json_put_str(&jw, prefix);
    reef_json_key(&jw, "namespace");
    reef_json_put_str(&jw, ns);
    static const char *const copied[] = {"labels", "annotations", "finalizers"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(copied); i++) {
        char path[64];
        snprintf(path, sizeof(path), "spec.template.metadata.%s", copied[i]);
        int v = reef__wl_find(o, path);
        if (v >= 0 && !reef_json_is_null(&o->d, v)) {
            reef_json_key(&jw, copied[i]);
            reef_json_put_value(&jw, &o->d, v);
        }
    }
    reef_json_key(&jw, "ownerReferences");
    reef_json_begin_array(&jw);
    reef_json_put_raw(&jw, ref.data, ref.len);
    reef_json_end_array(&jw);
    reef_json_end_object(&jw);
    int spec = reef__wl_find(o, "spec.template.spec");
    reef_json_key(&jw, "spec");
    if (spec >= 0)
        reef_json_put_value(&jw, &o->d, spec);
    else
        reef_json_put_raw(&jw, "{}", 2);
    reef_json_end_object(&jw);
    int r = reef_json_finish(&jw, err);
    char target[600];
    snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods", ns);
    if (r == 0)
        r = reef__wl_call(w, "POST", target, body.data, body.len, &out, err);
    const struct reef_ctl_env *env = reef__wl_env(w);
    if (r == 0) {
        struct wl_obj pod;
        char name[WL_NAME_MAX] = "";
        size_t len = out.len;
        char *json = reef_buf_steal(&out);
        if (json && reef__wl_obj_parse(&pod, json, len) == 0)
            reef__wl_str(&pod, "metadata.name", name, sizeof(name));
        if (json)
            reef__wl_obj_free(&pod);
        reef_ctl_event(env, COMPONENT, NULL, o->json, o->len, "Normal", "SuccessfulCreate",
                       "Created pod: %s", name);
    } else {
        reef_ctl_event(env, COMPONENT, NULL, o->json, o->len, "Warning", "FailedCreate",
                       "Error creating: %s", err ? err->msg : "");
    }
    reef_buf_free(&body);
    reef_buf_free(&ref);
    reef_buf_free(&out);
    return r;
}

static int delete_pod(struct reef_workload *w, const struct wl_rs *rs, const char *ns,
                      const char *name, struct reef_err *err)
{
    char target[800];
    snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods/%s", ns, name);
    int r = reef__wl_call(w, "DELETE", target, NULL, 0, NULL, err);
    const struct reef_ctl_env *env = reef__wl_env(w);
    if (r == -ENOENT)
        return 0; /* someone else got there first */
    if (r == 0)
        reef_ctl_event(env, COMPONENT, NULL, rs->o.json, rs->o.len, "Normal", "SuccessfulDelete",
                       "Deleted pod: %s", name);
    else
        reef_ctl_event(env, COMPONENT, NULL, rs->o.json, rs->o.len, "Warning", "FailedDelete",
                       "Error deleting: %s", err ? err->msg : "");
    return r;
}

/* Pods owned by the ReplicaSets of the same controller (or by this one), for the ranks. */
static void rank_related(struct reef_workload *w, const struct wl_rs *rs, const char *ns,
                         const struct wl_pod *all, size_t nall, struct wl_pod **cand, size_t n)
{
    struct wl_rs *rss = NULL;
    size_t nrs = 0;
    if (rs->ctrl_uid[0])
        reef__wl_list_rs(w, ns, &rss, &nrs);
    for (size_t i = 0; i < n; i++) {
        int rank = 0;
        for (size_t j = 0; j < nall; j++) {
            const struct wl_pod *p = &all[j];
            if (!pod_active(p) || strcmp(p->node, cand[i]->node) != 0 || !p->ctrl_uid[0])
                continue;
            bool related = strcmp(p->ctrl_uid, rs->uid) == 0;
            for (size_t k = 0; !related && k < nrs; k++)
                related = strcmp(rss[k].uid, p->ctrl_uid) == 0 &&
                          strcmp(rss[k].ctrl_uid, rs->ctrl_uid) == 0;
            if (related)
                rank++;
        }
        cand[i]->rank = rank;
    }
    reef__wl_rs_free(rss, nrs);
}

/* ---- status ---- */

static bool pod_available(const struct wl_pod *p, int64_t min_ready_s, int64_t now)
{
    if (!p->ready)
        return false;
    return min_ready_s == 0 || (p->ready_ms != 0 && p->ready_ms + min_ready_s * 1000 < now);
}

static int write_status(struct reef_workload *w, struct wl_rs *rs, const char *ns,
                        struct wl_pod **claimed, size_t n, const char *fail_reason,
                        const char *fail_msg)
{
    const struct wl_obj *o = &rs->o;
    int64_t now = reef__wl_now(w);
    int64_t min_ready = reef__wl_int(o, "spec.minReadySeconds", 0);
    struct reef_label_selector *tl = NULL;
    int tv = reef__wl_find(o, "spec.template.metadata.labels");
    if (reef_label_selector_from_map(&o->d, tv, &tl, NULL) < 0)
        tl = NULL;
    int64_t fully = 0, ready = 0, available = 0, next_ms = 0;
    for (size_t i = 0; i < n; i++) {
        const struct wl_pod *p = claimed[i];
        if (tl && reef_label_selector_matches(tl, &p->o.d, reef__wl_find(&p->o, "metadata.labels")))
            fully++;
        if (p->ready) {
            ready++;
            if (pod_available(p, min_ready, now)) {
                available++;
            } else if (p->ready_ms) {
                int64_t at = p->ready_ms + min_ready * 1000 + 1;
                if (!next_ms || at < next_ms)
                    next_ms = at;
            }
        }
    }
    reef_label_selector_free(tl);

    struct reef_buf st = REEF_BUF_INIT;
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, &st, 0);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "replicas");
    reef_json_put_int(&jw, (int64_t)n);
    if (fully) {
        reef_json_key(&jw, "fullyLabeledReplicas");
        reef_json_put_int(&jw, fully);
    }
    if (ready) {
        reef_json_key(&jw, "readyReplicas");
        reef_json_put_int(&jw, ready);
    }
    if (available) {
        reef_json_key(&jw, "availableReplicas");
        reef_json_put_int(&jw, available);
    }
    if (rs->generation) {
        reef_json_key(&jw, "observedGeneration");
        reef_json_put_int(&jw, rs->generation);
    }
    /* the ReplicaFailure condition: set on a failed create/delete, cleared after a good sync */
    int conds = reef__wl_find(o, "status.conditions");
    bool had_failure = false, any = false;
    struct reef_json_iter it = reef_json_iter(&o->d, conds);
    while (reef_json_next(&o->d, &it)) {
        int t = reef_json_member(&o->d, it.val, "type");
        bool failure = t >= 0 && reef_json_str_eq(&o->d, t, "ReplicaFailure");
        had_failure |= failure;
        if (failure && !fail_reason)
            continue;
        if (!any) {
            reef_json_key(&jw, "conditions");
            reef_json_begin_array(&jw);
            any = true;
        }
        reef_json_put_value(&jw, &o->d, it.val);
    }
    if (fail_reason && !had_failure) {
        if (!any) {
            reef_json_key(&jw, "conditions");
            reef_json_begin_array(&jw);
            any = true;
        }
        char ts[32];
        reef_ctl_time(now, ts);
        reef_json_begin_object(&jw);
        reef_json_key(&jw, "type");
        reef_json_put_str(&jw, "ReplicaFailure");
        reef_json_key(&jw, "status");
        reef_json_put_str(&jw, "True");
        reef_json_key(&jw, "lastTransitionTime");
        reef_json_put_str(&jw, ts);
        reef_json_key(&jw, "reason");
        reef_json_put_str(&jw, fail_reason);
        reef_json_key(&jw, "message");
        reef_json_put_str(&jw, fail_msg);
        reef_json_end_object(&jw);
    }
    if (any)
        reef_json_end_array(&jw);
    reef_json_end_object(&jw);
    int r = reef_json_finish(&jw, NULL);
    if (r < 0) {
        reef_buf_free(&st);
        return r;
    }
    struct reef_json_doc nd = REEF_JSON_DOC_INIT;
    int sv = reef__wl_find(o, "status");
    bool same = reef_json_parse(&nd, st.data, st.len, NULL, NULL) == 0 && sv >= 0 &&
                reef_json_equal(&o->d, sv, &nd, REEF_JSON_ROOT);
    reef_json_doc_free(&nd);
    if (!same) {
        struct reef_buf body = REEF_BUF_INIT, out = REEF_BUF_INIT;
        struct wl_set set = {{"status", NULL}, st.data, st.len};
        char target[800];
        snprintf(target, sizeof(target), "/apis/apps/v1/namespaces/%s/replicasets/%s/status", ns,
                 rs->name);
        r = reef__wl_rewrite(o, &set, 1, &body);
        if (r == 0)
            r = reef__wl_call(w, "PUT", target, body.data, body.len, &out, NULL);
        reef_buf_free(&body);
        reef_buf_free(&out);
    }
    reef_buf_free(&st);
    if (r == 0 && next_ms)
        reef__wl_enqueue_after(w, WL_RS, ns, rs->name, next_ms - now);
    return r;
}

/* ---- sync ---- */

int reef__wl_sync_rs(struct reef_workload *w, const char *ns, const char *name)
{
    const struct reef_ctl_env *env = reef__wl_env(w);
    char *json = NULL;
    size_t len = 0;
    if (reef_store_get(env->store, "replicasets.apps", ns, name, &json, &len, NULL, NULL) < 0)
        return 0; /* gone: its pods go with it (ownerReferences) */
    struct wl_rs rs;
    if (reef__wl_rs_load(&rs, json, len) < 0) {
        reef__wl_obj_free(&rs.o);
        return 0;
    }
    struct reef_label_selector *sel = NULL;
    int sv = reef__wl_find(&rs.o, "spec.selector");
    if (reef_label_selector_from_json(&rs.o.d, sv, &sel, NULL) < 0) {
        REEF_LOG(REEF_LOG_WARN, "workload", "replicaset %s/%s: bad selector", ns, name);
        reef__wl_obj_free(&rs.o);
        return 0;
    }
    struct wl_pod *pods = NULL;
    size_t npods = 0;
    int r = reef__wl_list_pods(w, ns, &pods, &npods);
    struct wl_pod **claimed = calloc(npods + 1, sizeof(*claimed));
    if (r < 0 || !claimed) {
        reef_label_selector_free(sel);
        reef__wl_pods_free(pods, npods);
        reef__wl_obj_free(&rs.o);
        free(claimed);
        return r < 0 ? r : -ENOMEM;
    }
    size_t nclaimed = 0;
    struct reef_buf ref = REEF_BUF_INIT;
    reef__wl_controller_ref(&ref, "apps/v1", "ReplicaSet", rs.name, rs.uid);
    int err_r = 0;
    for (size_t i = 0; i < npods; i++) {
        struct wl_pod *p = &pods[i];
        if (!pod_active(p))
            continue;
        bool match = !reef_label_selector_empty(sel) && reef__wl_matches(sel, &p->o);
        char target[800];
        snprintf(target, sizeof(target), "/api/v1/namespaces/%s/pods/%s", ns, p->name);
        if (p->ctrl_uid[0]) {
            if (strcmp(p->ctrl_uid, rs.uid) != 0)
                continue;
            if (match) {
                claimed[nclaimed++] = p;
            } else if (!rs.deleting) {
                int x = reef__wl_set_owner(w, target, &p->o, NULL, rs.uid, NULL, NULL);
                if (x < 0 && x != -ENOENT)
                    err_r = x;
            }
            continue;
        }
        if (rs.deleting || !match)
            continue;
        struct reef_buf out = REEF_BUF_INIT;
        int x = reef__wl_set_owner(w, target, &p->o, ref.data, NULL, &out, NULL);
        if (x == 0) {
            /* adopted: its state is the answer */
            if (reef__wl_obj_replace(&p->o, &out) == 0) {
                reef__wl_pod_load_fields(p);
                claimed[nclaimed++] = p;
            }
        } else if (x != -ENOENT) {
            err_r = x;
        }
        reef_buf_free(&out);
    }
    reef_buf_free(&ref);

    const char *fail_reason = NULL;
    struct reef_err ferr = {0};
    if (err_r == 0 && !rs.deleting) {
        int64_t diff = (int64_t)nclaimed - rs.replicas;
        if (diff < 0) {
            int64_t want = -diff > WL_BURST ? WL_BURST : -diff;
            for (int64_t i = 0; i < want; i++) {
                if (create_pod(w, &rs, ns, &ferr) < 0) {
                    fail_reason = "FailedCreate";
                    break;
                }
            }
        } else if (diff > 0) {
            if (diff > WL_BURST)
                diff = WL_BURST;
            int64_t now = reef__wl_now(w);
            rank_related(w, &rs, ns, pods, npods, claimed, nclaimed);
            if ((size_t)diff < nclaimed) {
                struct wl_pod **order = malloc(nclaimed * sizeof(*order));
                if (order) {
                    memcpy(order, claimed, nclaimed * sizeof(*order));
                    reef__wl_rank_pods(order, nclaimed, now);
                    for (int64_t i = 0; i < diff && !fail_reason; i++)
                        if (delete_pod(w, &rs, ns, order[i]->name, &ferr) < 0)
                            fail_reason = "FailedDelete";
                    free(order);
                }
            } else {
                for (int64_t i = 0; i < diff && !fail_reason; i++)
                    if (delete_pod(w, &rs, ns, claimed[i]->name, &ferr) < 0)
                        fail_reason = "FailedDelete";
            }
        }
    }
    /* the status counts the pods as this sync found them, as upstream: the watch events of the
     * creations and deletions bring the next sync */
    int s = write_status(w, &rs, ns, claimed, nclaimed, fail_reason, ferr.msg);
    free(claimed);
    reef__wl_pods_free(pods, npods);
    reef_label_selector_free(sel);
    reef__wl_obj_free(&rs.o);
    if (err_r < 0)
        return err_r;
    if (fail_reason)
        return ferr.code == -EAGAIN ? -EAGAIN : -EIO;
    return s;
}
