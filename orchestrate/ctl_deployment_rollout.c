/* The Deployment controller's rollouts (rolling.go, recreate.go, sync.go, progress.go upstream):
 * scaling the new and old ReplicaSets, proportional scaling, the status and its conditions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "orchestrate/ctl_deployment.h"

#define ANN_DESIRED "deployment.kubernetes.io/desired-replicas"
#define ANN_MAX "deployment.kubernetes.io/max-replicas"

/* ---- status ---- */

void reef__wl_dstatus_load(struct wl_dep *d)
{
    struct wl_dstatus *s = &d->cur;
    const struct wl_obj *o = &d->o;
    memset(s, 0, sizeof(*s));
    s->observed = reef__wl_int(o, "status.observedGeneration", 0);
    s->replicas = reef__wl_int(o, "status.replicas", 0);
    s->updated = reef__wl_int(o, "status.updatedReplicas", 0);
    s->ready = reef__wl_int(o, "status.readyReplicas", 0);
    s->available = reef__wl_int(o, "status.availableReplicas", 0);
    s->unavailable = reef__wl_int(o, "status.unavailableReplicas", 0);
    s->collision = reef__wl_int(o, "status.collisionCount", -1);
    int conds = reef__wl_find(o, "status.conditions");
    struct reef_json_iter it = reef_json_iter(&o->d, conds);
    while (reef_json_next(&o->d, &it) && s->nc < (int)REEF_ARRAY_LEN(s->c)) {
        struct wl_cond *c = &s->c[s->nc];
        memset(c, 0, sizeof(*c));
        static const char *const keys[] = {"type", "status", "reason", "message"};
        char *dst[] = {c->type, c->status, c->reason, c->message};
        size_t sz[] = {sizeof(c->type), sizeof(c->status), sizeof(c->reason), sizeof(c->message)};
        for (size_t k = 0; k < 4; k++) {
            int v = reef_json_member(&o->d, it.val, keys[k]);
            if (v < 0 || reef_json_get_str(&o->d, v, dst[k], sz[k], NULL) < 0)
                dst[k][0] = '\0';
        }
        char t[64];
        int v = reef_json_member(&o->d, it.val, "lastUpdateTime");
        if (v >= 0 && reef_json_get_str(&o->d, v, t, sizeof(t), NULL) == 0)
            c->update_ms = reef_ctl_parse_time(t);
        v = reef_json_member(&o->d, it.val, "lastTransitionTime");
        if (v >= 0 && reef_json_get_str(&o->d, v, t, sizeof(t), NULL) == 0)
            c->transition_ms = reef_ctl_parse_time(t);
        if (c->type[0])
            s->nc++;
    }
}

const struct wl_cond *reef__wl_cond_get(const struct wl_dstatus *s, const char *type)
{
    for (int i = 0; i < s->nc; i++)
        if (strcmp(s->c[i].type, type) == 0)
            return &s->c[i];
    return NULL;
}

static void cond_remove(struct wl_dstatus *s, const char *type)
{
    int j = 0;
    for (int i = 0; i < s->nc; i++)
        if (strcmp(s->c[i].type, type) != 0)
            s->c[j++] = s->c[i];
    s->nc = j;
}

static void cond_put(struct wl_dstatus *s, const struct wl_cond *c)
{
    cond_remove(s, c->type);
    if (s->nc < (int)REEF_ARRAY_LEN(s->c))
        s->c[s->nc++] = *c;
}

static void cond_make(struct wl_cond *c, const char *type, const char *status, const char *reason,
                      const char *message, int64_t now)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->type, sizeof(c->type), "%s", type);
    snprintf(c->status, sizeof(c->status), "%s", status);
    snprintf(c->reason, sizeof(c->reason), "%s", reason);
    snprintf(c->message, sizeof(c->message), "%s", message);
    c->update_ms = c->transition_ms = now;
}

void reef__wl_cond_set(struct wl_dstatus *s, const char *type, const char *status,
                       const char *reason, const char *message, int64_t now)
{
    const struct wl_cond *cur = reef__wl_cond_get(s, type);
    if (cur && strcmp(cur->status, status) == 0 && strcmp(cur->reason, reason) == 0)
        return;
    struct wl_cond c;
    cond_make(&c, type, status, reason, message, now);
    if (cur && strcmp(cur->status, status) == 0)
        c.transition_ms = cur->transition_ms;
    cond_put(s, &c);
}

static void put_status(struct reef_json_writer *jw, const struct wl_dstatus *s)
{
    reef_json_begin_object(jw);
    const char *keys[] = {"observedGeneration", "replicas",          "updatedReplicas",
                          "readyReplicas",      "availableReplicas", "unavailableReplicas"};
    int64_t vals[] = {s->observed, s->replicas, s->updated, s->ready, s->available, s->unavailable};
    for (size_t i = 0; i < REEF_ARRAY_LEN(keys); i++) {
        if (!vals[i])
            continue;
        reef_json_key(jw, keys[i]);
        reef_json_put_int(jw, vals[i]);
    }
    if (s->nc) {
        reef_json_key(jw, "conditions");
        reef_json_begin_array(jw);
        for (int i = 0; i < s->nc; i++) {
            const struct wl_cond *c = &s->c[i];
            char u[32], t[32];
            reef_ctl_time(c->update_ms, u);
            reef_ctl_time(c->transition_ms, t);
            reef_json_begin_object(jw);
            reef_json_key(jw, "type");
            reef_json_put_str(jw, c->type);
            reef_json_key(jw, "status");
            reef_json_put_str(jw, c->status);
            reef_json_key(jw, "lastUpdateTime");
            reef_json_put_str(jw, u);
            reef_json_key(jw, "lastTransitionTime");
            reef_json_put_str(jw, t);
            reef_json_key(jw, "reason");
            reef_json_put_str(jw, c->reason);
            reef_json_key(jw, "message");
            reef_json_put_str(jw, c->message);
            reef_json_end_object(jw);
        }
        reef_json_end_array(jw);
    }
    if (s->collision >= 0) {
        reef_json_key(jw, "collisionCount");
        reef_json_put_int(jw, s->collision);
    }
    reef_json_end_object(jw);
}

int reef__wl_write_status(struct reef_workload *w, struct wl_dep *d, const struct wl_dstatus *s)
{
    struct reef_buf st = REEF_BUF_INIT;
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, &st, 0);
    put_status(&jw, s);
    int r = reef_json_finish(&jw, NULL);
    if (r < 0) {
        reef_buf_free(&st);
        return r;
    }
    struct reef_json_doc nd = REEF_JSON_DOC_INIT;
    int sv = reef__wl_find(&d->o, "status");
    bool same = reef_json_parse(&nd, st.data, st.len, NULL, NULL) == 0 &&
                (sv >= 0 ? reef_json_equal(&d->o.d, sv, &nd, REEF_JSON_ROOT)
                         : reef_json_count(&nd, REEF_JSON_ROOT) == 0);
    reef_json_doc_free(&nd);
    if (!same) {
        struct reef_buf body = REEF_BUF_INIT, out = REEF_BUF_INIT;
        struct wl_set set = {{"status", NULL}, st.data, st.len};
        char target[800];
        snprintf(target, sizeof(target), "/apis/apps/v1/namespaces/%s/deployments/%s/status", d->ns,
                 d->name);
        r = reef__wl_rewrite(&d->o, &set, 1, &body);
        if (r == 0)
            r = reef__wl_call(w, "PUT", target, body.data, body.len, &out, NULL);
        if (r == 0 && reef__wl_obj_replace(&d->o, &out) < 0)
            r = -ENOMEM;
        reef_buf_free(&body);
        reef_buf_free(&out);
    }
    reef_buf_free(&st);
    return r;
}

/* calculateStatus */
static void calc_status(const struct wl_dep *d, struct wl_rs **all, size_t n,
                        const struct wl_rs *newrs, int64_t now, struct wl_dstatus *s)
{
    *s = d->cur;
    int64_t avail = 0, total = 0, actual = 0, ready = 0;
    for (size_t i = 0; i < n; i++) {
        if (!all[i])
            continue;
        avail += all[i]->st_available;
        total += all[i]->replicas;
        actual += all[i]->st_replicas;
        ready += all[i]->st_ready;
    }
    s->observed = d->generation;
    s->replicas = actual;
    s->updated = newrs ? newrs->st_replicas : 0;
    s->ready = ready;
    s->available = avail;
    s->unavailable = total - avail < 0 ? 0 : total - avail;
    if (avail >= d->replicas - reef__wl_max_unavailable(d))
        reef__wl_cond_set(s, "Available", "True", "MinimumReplicasAvailable",
                          "Deployment has minimum availability.", now);
    else
        reef__wl_cond_set(s, "Available", "False", "MinimumReplicasUnavailable",
                          "Deployment does not have minimum availability.", now);
}

static bool deploy_complete(const struct wl_dep *d, const struct wl_dstatus *s)
{
    return s->updated == d->replicas && s->replicas == d->replicas && s->available == d->replicas &&
           s->observed >= d->generation;
}

static bool deploy_progressing(const struct wl_dstatus *old, const struct wl_dstatus *s)
{
    return s->updated > old->updated ||
           (s->replicas - s->updated) < (old->replicas - old->updated) || s->ready > old->ready ||
           s->available > old->available;
}

static bool deploy_timed_out(const struct wl_dep *d, const struct wl_dstatus *s, int64_t now)
{
    if (d->deadline < 0)
        return false;
    const struct wl_cond *c = reef__wl_cond_get(s, "Progressing");
    if (!c || strcmp(c->reason, "NewReplicaSetAvailable") == 0)
        return false;
    if (strcmp(c->reason, "ProgressDeadlineExceeded") == 0)
        return true;
    return c->update_ms + d->deadline * 1000 < now;
}

/* getReplicaFailures: the first ReplicaFailure condition of the new, then the old ReplicaSets */
static bool replica_failure(struct wl_rs **all, size_t n, const struct wl_rs *newrs,
                            struct wl_cond *out)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const struct wl_rs *rs = all[i];
            if (!rs || (pass == 0) != (rs == newrs))
                continue;
            int conds = reef__wl_find(&rs->o, "status.conditions");
            struct reef_json_iter it = reef_json_iter(&rs->o.d, conds);
            while (reef_json_next(&rs->o.d, &it)) {
                int t = reef_json_member(&rs->o.d, it.val, "type");
                if (t < 0 || !reef_json_str_eq(&rs->o.d, t, "ReplicaFailure"))
                    continue;
                memset(out, 0, sizeof(*out));
                snprintf(out->type, sizeof(out->type), "ReplicaFailure");
                int v = reef_json_member(&rs->o.d, it.val, "status");
                if (v >= 0)
                    reef_json_get_str(&rs->o.d, v, out->status, sizeof(out->status), NULL);
                if ((v = reef_json_member(&rs->o.d, it.val, "reason")) >= 0)
                    reef_json_get_str(&rs->o.d, v, out->reason, sizeof(out->reason), NULL);
                if ((v = reef_json_member(&rs->o.d, it.val, "message")) >= 0)
                    reef_json_get_str(&rs->o.d, v, out->message, sizeof(out->message), NULL);
                char ts[64];
                if ((v = reef_json_member(&rs->o.d, it.val, "lastTransitionTime")) >= 0 &&
                    reef_json_get_str(&rs->o.d, v, ts, sizeof(ts), NULL) == 0)
                    out->update_ms = out->transition_ms = reef_ctl_parse_time(ts);
                return true;
            }
        }
    }
    return false;
}

/* syncRolloutStatus */
static int sync_rollout_status(struct reef_workload *w, struct wl_dep *d, struct wl_rs **all,
                               size_t n, const struct wl_rs *newrs)
{
    int64_t now = reef__wl_now(w);
    struct wl_dstatus s;
    calc_status(d, all, n, newrs, now, &s);
    if (d->deadline < 0)
        cond_remove(&s, "Progressing");
    const struct wl_cond *cur = reef__wl_cond_get(&d->cur, "Progressing");
    bool complete =
        s.replicas == s.updated && cur && strcmp(cur->reason, "NewReplicaSetAvailable") == 0;
    char msg[600];
    if (d->deadline >= 0 && !complete) {
        if (deploy_complete(d, &s)) {
            if (newrs)
                snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" has successfully progressed.",
                         newrs->name);
            else
                snprintf(msg, sizeof(msg), "Deployment \"%s\" has successfully progressed.",
                         d->name);
            reef__wl_cond_set(&s, "Progressing", "True", "NewReplicaSetAvailable", msg, now);
        } else if (deploy_progressing(&d->cur, &s)) {
            if (newrs)
                snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" is progressing.", newrs->name);
            else
                snprintf(msg, sizeof(msg), "Deployment \"%s\" is progressing.", d->name);
            struct wl_cond c;
            cond_make(&c, "Progressing", "True", "ReplicaSetUpdated", msg, now);
            if (cur && strcmp(cur->status, "True") == 0)
                c.transition_ms = cur->transition_ms;
            cond_put(&s, &c);
        } else if (deploy_timed_out(d, &s, now)) {
            if (newrs)
                snprintf(msg, sizeof(msg), "ReplicaSet \"%s\" has timed out progressing.",
                         newrs->name);
            else
                snprintf(msg, sizeof(msg), "Deployment \"%s\" has timed out progressing.", d->name);
            reef__wl_cond_set(&s, "Progressing", "False", "ProgressDeadlineExceeded", msg, now);
        }
    }
    struct wl_cond fc;
    if (replica_failure(all, n, newrs, &fc)) {
        const struct wl_cond *x = reef__wl_cond_get(&s, "ReplicaFailure");
        if (!x || strcmp(x->status, fc.status) != 0 || strcmp(x->reason, fc.reason) != 0)
            cond_put(&s, &fc);
    } else {
        cond_remove(&s, "ReplicaFailure");
    }
    /* requeueStuckDeployment: check the deadline when it would pass */
    if (d->deadline >= 0 && cur && !deploy_complete(d, &s) &&
        strcmp(cur->reason, "ProgressDeadlineExceeded") != 0) {
        int64_t after = cur->update_ms + d->deadline * 1000 - now;
        reef__wl_enqueue_after(w, WL_DEPLOY, d->ns, d->name, after < 1000 ? 1000 : after + 1000);
    }
    int r = reef__wl_write_status(w, d, &s);
    if (r == 0)
        d->cur = s;
    return r;
}

/* syncDeploymentStatus */
static int sync_deploy_status(struct reef_workload *w, struct wl_dep *d, struct wl_rs **all,
                              size_t n, const struct wl_rs *newrs)
{
    struct wl_dstatus s;
    calc_status(d, all, n, newrs, reef__wl_now(w), &s);
    int r = reef__wl_write_status(w, d, &s);
    if (r == 0)
        d->cur = s;
    return r;
}

/* The ReplicaSets of one sync: olds then the new one (which may be NULL). */
struct rsets {
    struct wl_rs *newrs;
    struct wl_rs **olds, **all;
    size_t nold, nall;
};

static int rsets_get(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets, size_t n,
                     bool create, struct rsets *out)
{
    memset(out, 0, sizeof(*out));
    out->olds = calloc(n + 1, sizeof(*out->olds));
    out->all = calloc(n + 2, sizeof(*out->all));
    if (!out->olds || !out->all)
        return -ENOMEM;
    int r = reef__wl_new_and_old(w, d, rsets, n, create, &out->newrs, out->olds, &out->nold);
    if (r < 0)
        return r;
    memcpy(out->all, out->olds, out->nold * sizeof(*out->all));
    out->nall = out->nold;
    if (out->newrs)
        out->all[out->nall++] = out->newrs;
    return 0;
}

static void rsets_free(struct rsets *s)
{
    free(s->olds);
    free(s->all);
    memset(s, 0, sizeof(*s));
}

int reef__wl_sync_status_only(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets,
                              size_t n)
{
    struct rsets s;
    int r = rsets_get(w, d, rsets, n, false, &s);
    if (r == 0)
        r = sync_deploy_status(w, d, s.all, s.nall, s.newrs);
    rsets_free(&s);
    return r;
}

int reef__wl_paused_conditions(struct reef_workload *w, struct wl_dep *d)
{
    if (d->deadline < 0)
        return 0;
    const struct wl_cond *c = reef__wl_cond_get(&d->cur, "Progressing");
    if (c && strcmp(c->reason, "ProgressDeadlineExceeded") == 0)
        return 0;
    bool paused_cond = c && strcmp(c->reason, "DeploymentPaused") == 0;
    int64_t now = reef__wl_now(w);
    if (d->paused && !paused_cond)
        reef__wl_cond_set(&d->cur, "Progressing", "Unknown", "DeploymentPaused",
                          "Deployment is paused", now);
    else if (!d->paused && paused_cond)
        reef__wl_cond_set(&d->cur, "Progressing", "Unknown", "DeploymentResumed",
                          "Deployment is resumed", now);
    else
        return 0;
    return reef__wl_write_status(w, d, &d->cur);
}

/* ---- scaling (sync.go scale) ---- */

static bool newer_first(const struct wl_rs *a, const struct wl_rs *b)
{
    if (a->created_ms == b->created_ms)
        return strcmp(a->name, b->name) > 0;
    return a->created_ms > b->created_ms;
}

static bool older_first(const struct wl_rs *a, const struct wl_rs *b)
{
    return newer_first(b, a);
}

static bool size_newer(const struct wl_rs *a, const struct wl_rs *b)
{
    if (a->replicas == b->replicas)
        return newer_first(a, b);
    return a->replicas > b->replicas;
}

static bool size_older(const struct wl_rs *a, const struct wl_rs *b)
{
    if (a->replicas == b->replicas)
        return older_first(a, b);
    return a->replicas > b->replicas;
}

static int64_t rs_annotation_int(const struct wl_rs *rs, const char *key, bool *ok)
{
    char v[32];
    *ok = false;
    if (!reef__wl_annotation(&rs->o, key, v, sizeof(v)) || !v[0])
        return 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end)
        return 0;
    *ok = true;
    return x;
}

static bool saturated(const struct wl_dep *d, const struct wl_rs *rs)
{
    if (!rs)
        return false;
    bool ok;
    int64_t desired = rs_annotation_int(rs, ANN_DESIRED, &ok);
    return ok && rs->replicas == d->replicas && desired == d->replicas &&
           rs->st_available == d->replicas;
}

static int64_t proportion(const struct wl_rs *rs, const struct wl_dep *d, int64_t to_add,
                          int64_t added)
{
    if (rs->replicas == 0 || to_add == 0 || to_add == added)
        return 0;
    int64_t fraction;
    if (d->replicas == 0) {
        fraction = -rs->replicas;
    } else {
        int64_t dmax = d->replicas + reef__wl_max_surge(d);
        bool ok;
        int64_t before = rs_annotation_int(rs, ANN_MAX, &ok);
        if (!ok || before == 0)
            before = d->cur.replicas;
        if (before == 0) {
            fraction = 0;
        } else {
            double size = (double)(int32_t)(rs->replicas * dmax) / (double)before;
            fraction = (int64_t)round(size) - rs->replicas;
        }
    }
    int64_t allowed = to_add - added;
    if (to_add > 0)
        return fraction < allowed ? fraction : allowed;
    return fraction > allowed ? fraction : allowed;
}

static int scale(struct reef_workload *w, struct wl_dep *d, struct rsets *s)
{
    /* FindActiveOrLatest */
    struct wl_rs **active = calloc(s->nall + 1, sizeof(*active));
    if (!active)
        return -ENOMEM;
    reef__wl_sort_rs(s->olds, s->nold, newer_first);
    size_t na = 0;
    for (size_t i = 0; i < s->nold; i++)
        if (s->olds[i]->replicas > 0)
            active[na++] = s->olds[i];
    if (s->newrs && s->newrs->replicas > 0)
        active[na++] = s->newrs;
    struct wl_rs *aol = NULL;
    if (s->newrs || s->nold) {
        if (na == 0)
            aol = s->newrs ? s->newrs : s->olds[0];
        else if (na == 1)
            aol = active[0];
    }
    int r = 0;
    if (aol) {
        if (aol->replicas != d->replicas)
            r = reef__wl_scale_rs_event(w, d, aol, d->replicas, NULL);
        free(active);
        return r;
    }
    if (saturated(d, s->newrs)) {
        for (size_t i = 0; i < na && r == 0; i++)
            if (active[i] != s->newrs)
                r = reef__wl_scale_rs_event(w, d, active[i], 0, NULL);
        free(active);
        return r;
    }
    if (!d->recreate) {
        int64_t sum = 0;
        for (size_t i = 0; i < na; i++)
            sum += active[i]->replicas;
        int64_t allowed = d->replicas > 0 ? d->replicas + reef__wl_max_surge(d) : 0;
        int64_t to_add = allowed - sum;
        const char *op = "";
        if (to_add > 0) {
            reef__wl_sort_rs(active, na, size_newer);
            op = "up";
        } else if (to_add < 0) {
            reef__wl_sort_rs(active, na, size_older);
            op = "down";
        }
        int64_t *size = calloc(na + 1, sizeof(*size));
        if (!size) {
            free(active);
            return -ENOMEM;
        }
        int64_t added = 0;
        for (size_t i = 0; i < na; i++) {
            if (to_add != 0) {
                int64_t p = proportion(active[i], d, to_add, added);
                size[i] = active[i]->replicas + p;
                added += p;
            } else {
                size[i] = active[i]->replicas;
            }
        }
        for (size_t i = 0; i < na && r == 0; i++) {
            if (i == 0 && to_add != 0) {
                size[i] += to_add - added;
                if (size[i] < 0)
                    size[i] = 0;
            }
            r = reef__wl_scale_rs(w, d, active[i], size[i], op, NULL);
        }
        free(size);
    }
    free(active);
    return r;
}

int reef__wl_sync_scale(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets, size_t n)
{
    struct rsets s;
    int r = rsets_get(w, d, rsets, n, false, &s);
    if (r == 0)
        r = scale(w, d, &s);
    if (r == 0 && d->paused)
        r = reef__wl_cleanup(w, d, s.olds, s.nold);
    if (r == 0)
        r = sync_deploy_status(w, d, s.all, s.nall, s.newrs);
    rsets_free(&s);
    return r;
}

int reef__wl_is_scaling(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets, size_t n,
                        bool *scaling)
{
    struct rsets s;
    *scaling = false;
    int r = rsets_get(w, d, rsets, n, false, &s);
    for (size_t i = 0; r == 0 && i < s.nall; i++) {
        if (s.all[i]->replicas <= 0)
            continue;
        bool ok;
        int64_t desired = rs_annotation_int(s.all[i], ANN_DESIRED, &ok);
        if (ok && desired != d->replicas) {
            *scaling = true;
            break;
        }
    }
    rsets_free(&s);
    return r;
}

/* ---- rolling ---- */

static int64_t sum_spec(struct wl_rs **v, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i]->replicas;
    return s;
}

static int reconcile_old(struct reef_workload *w, struct wl_dep *d, struct rsets *s, bool *scaled)
{
    *scaled = false;
    struct wl_rs **olds = calloc(s->nold + 1, sizeof(*olds)), **all = NULL;
    if (!olds)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < s->nold; i++)
        if (s->olds[i]->replicas > 0)
            olds[n++] = s->olds[i];
    int r = 0;
    int64_t old_pods = sum_spec(olds, n);
    if (old_pods == 0)
        goto out;
    int64_t all_pods = sum_spec(s->all, s->nall);
    int64_t min_avail = d->replicas - reef__wl_max_unavailable(d);
    int64_t new_unavail = s->newrs->replicas - s->newrs->st_available;
    int64_t max_down = all_pods - min_avail - new_unavail;
    if (max_down <= 0)
        goto out;
    /* cleanupUnhealthyReplicas: the unavailable old pods go first */
    reef__wl_sort_rs(olds, n, older_first);
    int64_t cleaned = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        struct wl_rs *rs = olds[i];
        if (cleaned >= max_down)
            break;
        if (rs->replicas == 0 || rs->replicas == rs->st_available)
            continue;
        int64_t count = max_down - cleaned;
        if (rs->replicas - rs->st_available < count)
            count = rs->replicas - rs->st_available;
        r = reef__wl_scale_rs_event(w, d, rs, rs->replicas - count, NULL);
        cleaned += count;
    }
    if (r < 0)
        goto out;
    /* scaleDownOldReplicaSetsForRollingUpdate */
    all = calloc(n + 2, sizeof(*all));
    if (!all) {
        r = -ENOMEM;
        goto out;
    }
    memcpy(all, olds, n * sizeof(*all));
    all[n] = s->newrs;
    int64_t avail = 0;
    for (size_t i = 0; i <= n; i++)
        avail += all[i]->st_available;
    int64_t down = 0;
    if (avail > min_avail) {
        int64_t total = avail - min_avail;
        for (size_t i = 0; i < n && r == 0; i++) {
            struct wl_rs *rs = olds[i];
            if (down >= total)
                break;
            if (rs->replicas == 0)
                continue;
            int64_t count = rs->replicas < total - down ? rs->replicas : total - down;
            r = reef__wl_scale_rs_event(w, d, rs, rs->replicas - count, NULL);
            down += count;
        }
    }
    *scaled = cleaned + down > 0;
out:
    free(olds);
    free(all);
    return r;
}

int reef__wl_rollout_rolling(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets,
                             size_t n)
{
    struct rsets s;
    int r = rsets_get(w, d, rsets, n, true, &s);
    if (r < 0 || !s.newrs) {
        rsets_free(&s);
        return r < 0 ? r : -EIO;
    }
    bool scaled = false;
    /* reconcileNewReplicaSet */
    if (s.newrs->replicas > d->replicas) {
        r = reef__wl_scale_rs_event(w, d, s.newrs, d->replicas, &scaled);
    } else if (s.newrs->replicas < d->replicas) {
        int64_t count = reef__wl_new_rs_replicas(d, s.all, s.nall, s.newrs->replicas);
        r = reef__wl_scale_rs_event(w, d, s.newrs, count, &scaled);
    }
    if (r == 0 && !scaled)
        r = reconcile_old(w, d, &s, &scaled);
    if (r == 0 && !scaled && deploy_complete(d, &d->cur))
        r = reef__wl_cleanup(w, d, s.olds, s.nold);
    if (r == 0)
        r = sync_rollout_status(w, d, s.all, s.nall, s.newrs);
    rsets_free(&s);
    return r;
}

/* ---- recreate ---- */

static bool old_pods_running(const struct wl_rs *newrs, struct wl_rs **olds, size_t nold,
                             struct wl_rs **rsets, size_t n, const struct wl_pod *pods,
                             size_t npods)
{
    for (size_t i = 0; i < nold; i++)
        if (olds[i]->st_replicas > 0)
            return true;
    for (size_t i = 0; i < npods; i++) {
        const struct wl_pod *p = &pods[i];
        if (!p->ctrl_uid[0] || (newrs && strcmp(p->ctrl_uid, newrs->uid) == 0))
            continue;
        bool ours = false;
        for (size_t j = 0; j < n && !ours; j++)
            ours = strcmp(rsets[j]->uid, p->ctrl_uid) == 0;
        if (ours && p->phase != 3 && p->phase != 4)
            return true;
    }
    return false;
}

int reef__wl_rollout_recreate(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets,
                              size_t n, const struct wl_pod *pods, size_t npods)
{
    struct rsets s;
    int r = rsets_get(w, d, rsets, n, false, &s);
    if (r < 0) {
        rsets_free(&s);
        return r;
    }
    bool down = false;
    for (size_t i = 0; i < s.nold && r == 0; i++) {
        if (s.olds[i]->replicas <= 0)
            continue;
        bool x = false;
        r = reef__wl_scale_rs_event(w, d, s.olds[i], 0, &x);
        down |= x;
    }
    if (r == 0 && (down || old_pods_running(s.newrs, s.olds, s.nold, rsets, n, pods, npods))) {
        r = sync_rollout_status(w, d, s.all, s.nall, s.newrs);
        rsets_free(&s);
        return r;
    }
    if (r == 0 && !s.newrs) {
        rsets_free(&s);
        r = rsets_get(w, d, rsets, n, true, &s);
        if (r == 0 && !s.newrs)
            r = -EIO;
    }
    if (r == 0)
        r = reef__wl_scale_rs_event(w, d, s.newrs, d->replicas, NULL);
    if (r == 0 && deploy_complete(d, &d->cur))
        r = reef__wl_cleanup(w, d, s.olds, s.nold);
    if (r == 0)
        r = sync_rollout_status(w, d, s.all, s.nall, s.newrs);
    rsets_free(&s);
    return r;
}
