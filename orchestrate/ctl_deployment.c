/* The Deployment controller (pkg/controller/deployment in kube-controller-manager 1.32): the
 * ReplicaSets a Deployment owns, the new one found or created by pod-template-hash, rolling and
 * recreate rollouts, proportional scaling, revisions and history cleanup. The status and its
 * conditions are in ctl_deployment_status.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "orchestrate/ctl_deployment.h"

#define HASH_LABEL "pod-template-hash"
#define ANN_REVISION "deployment.kubernetes.io/revision"
#define ANN_HISTORY "deployment.kubernetes.io/revision-history"
#define ANN_DESIRED "deployment.kubernetes.io/desired-replicas"
#define ANN_MAX "deployment.kubernetes.io/max-replicas"
#define MAX_HISTORY_CHARS 2000

/* ---- numbers ---- */

/* intstr.GetScaledValueFromIntOrPercent; absent: def. */
static int64_t scaled_value(const struct wl_obj *o, const char *path, int64_t total, bool up,
                            int64_t def)
{
    int v = reef__wl_find(o, path);
    if (v < 0 || reef_json_is_null(&o->d, v))
        return def;
    int64_t x;
    if (reef_json_get_int(&o->d, v, &x, NULL) == 0)
        return x;
    char s[32];
    if (reef_json_get_str(&o->d, v, s, sizeof(s), NULL) < 0)
        return 0;
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != '%')
        return 0;
    s[n - 1] = '\0';
    char *end;
    long long pct = strtoll(s, &end, 10);
    if (*end)
        return 0;
    double f = (double)pct * (double)total / 100.0;
    return (int64_t)(up ? ceil(f) : floor(f));
}

static void load_deploy(struct wl_dep *d)
{
    const struct wl_obj *o = &d->o;
    reef__wl_str(o, "metadata.name", d->name, sizeof(d->name));
    reef__wl_str(o, "metadata.uid", d->uid, sizeof(d->uid));
    d->replicas = reef__wl_int(o, "spec.replicas", 1);
    d->generation = reef__wl_int(o, "metadata.generation", 0);
    char type[32];
    reef__wl_str(o, "spec.strategy.type", type, sizeof(type));
    d->recreate = strcmp(type, "Recreate") == 0;
    d->paused = reef__wl_bool(o, "spec.paused");
    d->min_ready = reef__wl_int(o, "spec.minReadySeconds", 0);
    d->history_limit = reef__wl_int(o, "spec.revisionHistoryLimit", -1);
    d->deadline = reef__wl_int(o, "spec.progressDeadlineSeconds", -1);
    if (d->deadline == INT32_MAX)
        d->deadline = -1;
    int dt = reef__wl_find(o, "metadata.deletionTimestamp");
    d->deleting = dt >= 0 && !reef_json_is_null(&o->d, dt);
    /* ResolveFenceposts */
    d->surge = d->unavailable = 0;
    if (!d->recreate) {
        d->surge = scaled_value(o, "spec.strategy.rollingUpdate.maxSurge", d->replicas, true, 0);
        d->unavailable =
            scaled_value(o, "spec.strategy.rollingUpdate.maxUnavailable", d->replicas, false, 0);
        if (d->surge == 0 && d->unavailable == 0)
            d->unavailable = 1;
    }
    reef__wl_dstatus_load(d);
}

int64_t reef__wl_max_unavailable(const struct wl_dep *d)
{
    if (d->recreate || d->replicas == 0)
        return 0;
    return d->unavailable > d->replicas ? d->replicas : d->unavailable;
}

int64_t reef__wl_max_surge(const struct wl_dep *d)
{
    return d->recreate ? 0 : d->surge;
}

/* ---- ReplicaSet lists ---- */

static bool rs_older(const struct wl_rs *a, const struct wl_rs *b)
{
    if (a->created_ms == b->created_ms)
        return strcmp(a->name, b->name) < 0;
    return a->created_ms < b->created_ms;
}

/* ReplicaSetsByCreationTimestamp */
void reef__wl_sort_rs(struct wl_rs **v, size_t n,
                      bool (*less)(const struct wl_rs *, const struct wl_rs *))
{
    for (size_t i = 1; i < n; i++) {
        struct wl_rs *x = v[i];
        size_t j = i;
        while (j > 0 && less(x, v[j - 1])) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static int64_t sum_spec(struct wl_rs **v, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i])
            s += v[i]->replicas;
    return s;
}

/* Whether member value v of d is what Go decodes as "nothing" for a slice or map: absent, null,
 * or empty (apimachinery's semantic equality does not tell nil and empty apart). */
static bool nothing(const struct reef_json_doc *d, int v, bool maps)
{
    if (v < 0 || reef_json_is_null(d, v))
        return true;
    enum reef_json_kind k = reef_json_kind(d, v);
    return (k == REEF_JSON_ARRAY || (maps && k == REEF_JSON_OBJECT)) && reef_json_count(d, v) == 0;
}

/* The members of objects va and vb (< 0: absent, as empty) equal but for skip1 and skip2; maps:
 * the object-valued members are Go maps (as in metadata), where {} is nothing too. */
static bool members_eq(const struct reef_json_doc *a, int va, const struct reef_json_doc *b, int vb,
                       const char *skip1, const char *skip2, bool maps)
{
    for (int pass = 0; pass < 2; pass++) {
        const struct reef_json_doc *x = pass ? b : a, *y = pass ? a : b;
        int vx = pass ? vb : va, vy = pass ? va : vb;
        if (vx < 0)
            continue;
        struct reef_json_iter it = reef_json_iter(x, vx);
        char key[512];
        while (reef_json_next(x, &it)) {
            if (reef_json_get_str(x, it.key, key, sizeof(key), NULL) < 0)
                return false;
            if ((skip1 && strcmp(key, skip1) == 0) || (skip2 && strcmp(key, skip2) == 0))
                continue;
            int other = vy >= 0 ? reef_json_member(y, vy, key) : -1;
            if (nothing(x, it.val, maps) || nothing(y, other, maps)) {
                if (!(nothing(x, it.val, maps) && nothing(y, other, maps)))
                    return false;
            } else if (!pass && !reef_json_equal(x, it.val, y, other)) {
                return false;
            }
        }
    }
    return true;
}

/* deploymentutil.EqualIgnoreHash: the templates of a and b equal but for the pod-template-hash
 * label (and metadata.creationTimestamp, always null in a template). */
static bool template_eq(const struct wl_obj *a, const struct wl_obj *b)
{
    int ta = reef__wl_find(a, "spec.template"), tb = reef__wl_find(b, "spec.template");
    if (ta < 0 || tb < 0 || !members_eq(&a->d, ta, &b->d, tb, "metadata", NULL, false))
        return false;
    int ma = reef_json_member(&a->d, ta, "metadata"), mb = reef_json_member(&b->d, tb, "metadata");
    if (!members_eq(&a->d, ma, &b->d, mb, "labels", "creationTimestamp", true))
        return false;
    int la = ma >= 0 ? reef_json_member(&a->d, ma, "labels") : -1;
    int lb = mb >= 0 ? reef_json_member(&b->d, mb, "labels") : -1;
    return members_eq(&a->d, la, &b->d, lb, HASH_LABEL, NULL, false);
}

/* getReplicaSetsForDeployment: adopts orphans the selector matches, releases owned ones it no
 * longer matches. */
static int claim_rs(struct reef_workload *w, struct wl_dep *d, struct wl_rs *all, size_t n,
                    struct wl_rs **owned, size_t *nowned)
{
    struct reef_label_selector *sel = NULL;
    int sv = reef__wl_find(&d->o, "spec.selector");
    if (reef_label_selector_from_json(&d->o.d, sv, &sel, NULL) < 0)
        return -EINVAL;
    struct reef_buf ref = REEF_BUF_INIT;
    reef__wl_controller_ref(&ref, "apps/v1", "Deployment", d->name, d->uid);
    int r = 0;
    *nowned = 0;
    for (size_t i = 0; i < n; i++) {
        struct wl_rs *rs = &all[i];
        bool match = reef__wl_matches(sel, &rs->o);
        char target[800];
        snprintf(target, sizeof(target), "/apis/apps/v1/namespaces/%s/replicasets/%s", d->ns,
                 rs->name);
        if (rs->ctrl_uid[0]) {
            if (strcmp(rs->ctrl_uid, d->uid) != 0)
                continue;
            if (match) {
                owned[(*nowned)++] = rs;
            } else if (!d->deleting) {
                int x = reef__wl_set_owner(w, target, &rs->o, NULL, d->uid, NULL, NULL);
                if (x < 0 && x != -ENOENT)
                    r = x;
            }
            continue;
        }
        if (d->deleting || !match || rs->deleting)
            continue;
        struct reef_buf out = REEF_BUF_INIT;
        int x = reef__wl_set_owner(w, target, &rs->o, ref.data, NULL, &out, NULL);
        if (x == 0) {
            size_t len = out.len;
            char *json = reef_buf_steal(&out);
            reef__wl_obj_free(&rs->o);
            if (json && reef__wl_rs_load(rs, json, len) == 0)
                owned[(*nowned)++] = rs;
        } else if (x != -ENOENT) {
            r = x;
        }
        reef_buf_free(&out);
    }
    reef_buf_free(&ref);
    reef_label_selector_free(sel);
    return r;
}

/* ---- annotations ---- */

static bool skip_copy(const char *k)
{
    return strcmp(k, "kubectl.kubernetes.io/last-applied-configuration") == 0 ||
           strcmp(k, ANN_REVISION) == 0 || strcmp(k, ANN_HISTORY) == 0 ||
           strcmp(k, ANN_DESIRED) == 0 || strcmp(k, ANN_MAX) == 0 ||
           strcmp(k, "deprecated.deployment.rollback.to") == 0;
}

/* The annotations one ReplicaSet write sets, and room for one more change after them. */
#define ANN_MAX_SETS 64
struct ann_set {
    char *key[ANN_MAX_SETS];
    struct reef_buf val[ANN_MAX_SETS]; /* JSON strings */
    struct wl_set sets[ANN_MAX_SETS + 1];
    size_t n;
};

static void ann_put(struct ann_set *a, const char *key, const char *val)
{
    if (a->n >= ANN_MAX_SETS || !(a->key[a->n] = strdup(key)))
        return;
    reef_buf_init(&a->val[a->n]);
    reef_buf_json_str(&a->val[a->n], val, strlen(val));
    a->n++;
}

/* The rewrite of metadata.annotations for what was put; sets[n] is free for the caller. */
static struct wl_set *ann_sets(struct ann_set *a)
{
    for (size_t i = 0; i < a->n; i++)
        a->sets[i] = (struct wl_set){
            {"metadata", "annotations", a->key[i], NULL}, a->val[i].data, a->val[i].len};
    return a->sets;
}

static void ann_free(struct ann_set *a)
{
    for (size_t i = 0; i < a->n; i++) {
        free(a->key[i]);
        reef_buf_free(&a->val[i]);
    }
    a->n = 0;
}

static bool ann_eq(const struct wl_obj *o, const char *key, const char *val)
{
    char cur[4096];
    return reef__wl_annotation(o, key, cur, sizeof(cur)) && strcmp(cur, val) == 0;
}

/* copyDeploymentAnnotationsToReplicaSet */
static bool copy_annotations(const struct wl_dep *d, const struct wl_obj *rs, struct ann_set *a)
{
    bool changed = false;
    int av = reef__wl_find(&d->o, "metadata.annotations");
    struct reef_json_iter it = reef_json_iter(&d->o.d, av);
    char key[512], *val = NULL;
    while (reef_json_next(&d->o.d, &it)) {
        if (reef_json_get_str(&d->o.d, it.key, key, sizeof(key), NULL) < 0 || skip_copy(key) ||
            reef_json_get_strdup(&d->o.d, it.val, &val, NULL) < 0)
            continue;
        if (!rs || !ann_eq(rs, key, val)) {
            ann_put(a, key, val);
            changed = true;
        }
        free(val);
        val = NULL;
    }
    return changed;
}

/* SetReplicasAnnotations */
static bool replicas_annotations(const struct wl_obj *rs, int64_t desired, int64_t max,
                                 struct ann_set *a)
{
    char ds[32], ms[32];
    snprintf(ds, sizeof(ds), "%lld", (long long)desired);
    snprintf(ms, sizeof(ms), "%lld", (long long)max);
    bool changed = false;
    if (!rs || !ann_eq(rs, ANN_DESIRED, ds)) {
        ann_put(a, ANN_DESIRED, ds);
        changed = true;
    }
    if (!rs || !ann_eq(rs, ANN_MAX, ms)) {
        ann_put(a, ANN_MAX, ms);
        changed = true;
    }
    return changed;
}

/* SetNewReplicaSetAnnotations: rs NULL for one about to be created. */
static bool new_rs_annotations(const struct wl_dep *d, const struct wl_obj *rs,
                               int64_t new_revision, bool exists, struct ann_set *a)
{
    bool changed = copy_annotations(d, rs, a);
    char old[64] = "";
    bool had = rs && reef__wl_annotation(rs, ANN_REVISION, old, sizeof(old));
    int64_t oldrev = 0;
    if (old[0]) {
        char *end;
        oldrev = strtoll(old, &end, 10);
        if (*end)
            return false;
    }
    char nrev[32];
    snprintf(nrev, sizeof(nrev), "%lld", (long long)new_revision);
    if (oldrev < new_revision) {
        ann_put(a, ANN_REVISION, nrev);
        changed = true;
    }
    if (had && oldrev < new_revision) {
        /* a rollback to this ReplicaSet: its earlier revisions stay in the history */
        char hist[MAX_HISTORY_CHARS + 64];
        reef__wl_annotation(rs, ANN_HISTORY, hist, sizeof(hist));
        if (!hist[0]) {
            ann_put(a, ANN_HISTORY, old);
        } else {
            size_t total = strlen(hist) + strlen(old) + 1;
            const char *start = hist;
            while (total > MAX_HISTORY_CHARS && *start) {
                const char *comma = strchr(start, ',');
                size_t seg = comma ? (size_t)(comma - start) : strlen(start);
                total -= seg + 1;
                start = comma ? comma + 1 : start + seg;
            }
            if (total <= MAX_HISTORY_CHARS) {
                char joined[MAX_HISTORY_CHARS + 128];
                snprintf(joined, sizeof(joined), "%s%s%s", start, *start ? "," : "", old);
                ann_put(a, ANN_HISTORY, joined);
            }
        }
    }
    if (!exists && replicas_annotations(rs, d->replicas, d->replicas + reef__wl_max_surge(d), a))
        changed = true;
    return changed;
}

/* ---- writes to ReplicaSets ---- */

static int put_rs(struct reef_workload *w, struct wl_dep *d, struct wl_rs *rs, struct wl_set *sets,
                  size_t n)
{
    char target[800];
    snprintf(target, sizeof(target), "/apis/apps/v1/namespaces/%s/replicasets/%s", d->ns, rs->name);
    struct reef_buf body = REEF_BUF_INIT, out = REEF_BUF_INIT;
    int r = reef__wl_rewrite(&rs->o, sets, n, &body);
    if (r == 0)
        r = reef__wl_call(w, "PUT", target, body.data, body.len, &out, NULL);
    if (r == 0) {
        size_t len = out.len;
        char *json = reef_buf_steal(&out);
        reef__wl_obj_free(&rs->o);
        r = json ? reef__wl_rs_load(rs, json, len) : -ENOMEM;
    }
    reef_buf_free(&body);
    reef_buf_free(&out);
    return r;
}

/* scaleReplicaSet: *scaled when the size changed. */
int reef__wl_scale_rs(struct reef_workload *w, struct wl_dep *d, struct wl_rs *rs, int64_t scale,
                      const char *op, bool *scaled)
{
    if (scaled)
        *scaled = false;
    struct ann_set a = {0};
    bool size = rs->replicas != scale;
    bool ann = replicas_annotations(&rs->o, d->replicas, d->replicas + reef__wl_max_surge(d), &a);
    int r = 0;
    if (size || ann) {
        int64_t old = rs->replicas;
        char num[32];
        snprintf(num, sizeof(num), "%lld", (long long)scale);
        struct wl_set *sets = ann_sets(&a);
        sets[a.n] = (struct wl_set){{"spec", "replicas", NULL}, num, strlen(num)};
        r = put_rs(w, d, rs, sets, a.n + 1);
        if (r == 0 && size) {
            if (scaled)
                *scaled = true;
            const struct reef_ctl_env *env = reef__wl_env(w);
            reef_ctl_event(env, "deployment-controller", NULL, d->o.json, d->o.len, "Normal",
                           "ScalingReplicaSet", "Scaled %s replica set %s from %lld to %lld", op,
                           rs->name, (long long)old, (long long)scale);
        }
    }
    ann_free(&a);
    return r;
}

int reef__wl_scale_rs_event(struct reef_workload *w, struct wl_dep *d, struct wl_rs *rs,
                            int64_t scale, bool *scaled)
{
    if (scaled)
        *scaled = false;
    if (rs->replicas == scale)
        return 0;
    return reef__wl_scale_rs(w, d, rs, scale, rs->replicas < scale ? "up" : "down", scaled);
}

/* ---- the new ReplicaSet ---- */

/* Writes template (a PodTemplateSpec value of o) with the hash label added. */
static void put_template(struct reef_json_writer *jw, const struct wl_obj *o, int t,
                         const char *hash)
{
    reef_json_begin_object(jw);
    bool md = false;
    struct reef_json_iter it = reef_json_iter(&o->d, t);
    while (reef_json_next(&o->d, &it)) {
        if (!reef_json_str_eq(&o->d, it.key, "metadata")) {
            reef_json_key_from(jw, &o->d, it.key);
            reef_json_put_value(jw, &o->d, it.val);
            continue;
        }
        md = true;
        reef_json_key(jw, "metadata");
        reef_json_begin_object(jw);
        bool labels = false;
        struct reef_json_iter mi = reef_json_iter(&o->d, it.val);
        while (reef_json_next(&o->d, &mi)) {
            reef_json_key_from(jw, &o->d, mi.key);
            if (!reef_json_str_eq(&o->d, mi.key, "labels")) {
                reef_json_put_value(jw, &o->d, mi.val);
                continue;
            }
            labels = true;
            reef_json_begin_object(jw);
            struct reef_json_iter li = reef_json_iter(&o->d, mi.val);
            while (reef_json_next(&o->d, &li)) {
                if (reef_json_str_eq(&o->d, li.key, HASH_LABEL))
                    continue;
                reef_json_key_from(jw, &o->d, li.key);
                reef_json_put_value(jw, &o->d, li.val);
            }
            reef_json_key(jw, HASH_LABEL);
            reef_json_put_str(jw, hash);
            reef_json_end_object(jw);
        }
        if (!labels) {
            reef_json_key(jw, "labels");
            reef_json_begin_object(jw);
            reef_json_key(jw, HASH_LABEL);
            reef_json_put_str(jw, hash);
            reef_json_end_object(jw);
        }
        reef_json_end_object(jw);
    }
    if (!md) {
        reef_json_key(jw, "metadata");
        reef_json_begin_object(jw);
        reef_json_key(jw, "labels");
        reef_json_begin_object(jw);
        reef_json_key(jw, HASH_LABEL);
        reef_json_put_str(jw, hash);
        reef_json_end_object(jw);
        reef_json_end_object(jw);
    }
    reef_json_end_object(jw);
}

/* labelsutil.CloneSelectorAndAddLabel */
static void put_selector(struct reef_json_writer *jw, const struct wl_obj *o, int s,
                         const char *hash)
{
    reef_json_begin_object(jw);
    bool ml = false;
    struct reef_json_iter it = reef_json_iter(&o->d, s);
    while (reef_json_next(&o->d, &it)) {
        reef_json_key_from(jw, &o->d, it.key);
        if (!reef_json_str_eq(&o->d, it.key, "matchLabels") ||
            reef_json_kind(&o->d, it.val) != REEF_JSON_OBJECT) {
            reef_json_put_value(jw, &o->d, it.val);
            continue;
        }
        ml = true;
        reef_json_begin_object(jw);
        struct reef_json_iter li = reef_json_iter(&o->d, it.val);
        while (reef_json_next(&o->d, &li)) {
            if (reef_json_str_eq(&o->d, li.key, HASH_LABEL))
                continue;
            reef_json_key_from(jw, &o->d, li.key);
            reef_json_put_value(jw, &o->d, li.val);
        }
        reef_json_key(jw, HASH_LABEL);
        reef_json_put_str(jw, hash);
        reef_json_end_object(jw);
    }
    if (!ml) {
        reef_json_key(jw, "matchLabels");
        reef_json_begin_object(jw);
        reef_json_key(jw, HASH_LABEL);
        reef_json_put_str(jw, hash);
        reef_json_end_object(jw);
    }
    reef_json_end_object(jw);
}

/* NewRSNewReplicas */
int64_t reef__wl_new_rs_replicas(const struct wl_dep *d, struct wl_rs **all, size_t n,
                                 int64_t new_replicas)
{
    if (d->recreate)
        return d->replicas;
    int64_t cur = sum_spec(all, n);
    int64_t max_total = d->replicas + d->surge;
    if (cur >= max_total)
        return new_replicas;
    int64_t up = max_total - cur;
    if (up > d->replicas - new_replicas)
        up = d->replicas - new_replicas;
    return new_replicas + up;
}

static int64_t max_revision(struct wl_rs **v, size_t n)
{
    int64_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] && v[i]->revision > m)
            m = v[i]->revision;
    return m;
}

/* Sets the Deployment's own revision annotation (SetDeploymentRevision); written at once, since
 * reef's status writes keep metadata as it was. */
static int set_deploy_revision(struct reef_workload *w, struct wl_dep *d, const char *rev)
{
    if (ann_eq(&d->o, ANN_REVISION, rev))
        return 0;
    struct reef_buf val = REEF_BUF_INIT, body = REEF_BUF_INIT, out = REEF_BUF_INIT;
    reef_buf_json_str(&val, rev, strlen(rev));
    struct wl_set set = {{"metadata", "annotations", ANN_REVISION, NULL}, val.data, val.len};
    char target[800];
    snprintf(target, sizeof(target), "/apis/apps/v1/namespaces/%s/deployments/%s", d->ns, d->name);
    int r = reef__wl_rewrite(&d->o, &set, 1, &body);
    if (r == 0)
        r = reef__wl_call(w, "PUT", target, body.data, body.len, &out, NULL);
    if (r == 0 && reef__wl_obj_replace(&d->o, &out) < 0)
        r = -ENOMEM;
    reef_buf_free(&val);
    reef_buf_free(&body);
    reef_buf_free(&out);
    return r;
}

/* getNewReplicaSet: *out is the new ReplicaSet (an element of rsets, or the created one stored
 * in d->created) or NULL. */
static int get_new_rs(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets, size_t nrs,
                      struct wl_rs **olds, size_t nold, struct wl_rs *found, bool create,
                      struct wl_rs **out)
{
    *out = NULL;
    int64_t new_rev = max_revision(olds, nold) + 1;
    char nrev[32];
    snprintf(nrev, sizeof(nrev), "%lld", (long long)new_rev);
    int64_t now = reef__wl_now(w);
    if (found) {
        struct ann_set a = {0};
        bool ann = new_rs_annotations(d, &found->o, new_rev, true, &a);
        int64_t mrs = reef__wl_int(&found->o, "spec.minReadySeconds", 0);
        int r = 0;
        if (ann || mrs != d->min_ready) {
            char num[32];
            snprintf(num, sizeof(num), "%lld", (long long)d->min_ready);
            struct wl_set *sets = ann_sets(&a);
            sets[a.n] = (struct wl_set){{"spec", "minReadySeconds", NULL}, num, strlen(num)};
            r = put_rs(w, d, found, sets, a.n + 1);
            ann_free(&a);
            if (r < 0)
                return r;
            *out = found;
            return 0;
        }
        ann_free(&a);
        char rev[64];
        reef__wl_annotation(&found->o, ANN_REVISION, rev, sizeof(rev));
        r = set_deploy_revision(w, d, rev);
        if (r < 0)
            return r;
        if (d->deadline >= 0 && !reef__wl_cond_get(&d->cur, "Progressing")) {
            char msg[600];
            snprintf(msg, sizeof(msg), "Found new replica set \"%s\"", found->name);
            reef__wl_cond_set(&d->cur, "Progressing", "True", "FoundNewReplicaSet", msg, now);
            r = reef__wl_write_status(w, d, &d->cur);
        }
        *out = found;
        return r;
    }
    if (!create)
        return 0;

    char hash[16];
    int tv = reef__wl_find(&d->o, "spec.template");
    if (tv < 0 || reef__wl_template_hash(&d->o.d, tv, d->cur.collision, hash) < 0)
        return -EINVAL;
    char name[WL_NAME_MAX];
    if ((size_t)snprintf(name, sizeof(name), "%s-%s", d->name, hash) >= sizeof(name))
        return -ENAMETOOLONG;
    /* the replica count as upstream: with the new one at 0 among the old */
    struct wl_rs **all = calloc(nold + 1, sizeof(*all));
    if (!all)
        return -ENOMEM;
    memcpy(all, olds, nold * sizeof(*all));
    int64_t replicas = reef__wl_new_rs_replicas(d, all, nold, 0);
    free(all);

    struct ann_set a = {0};
    new_rs_annotations(d, NULL, new_rev, false, &a);
    struct reef_buf body = REEF_BUF_INIT, ref = REEF_BUF_INIT, resp = REEF_BUF_INIT;
    reef__wl_controller_ref(&ref, "apps/v1", "Deployment", d->name, d->uid);
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, &body, 0);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "apiVersion");
    reef_json_put_str(&jw, "apps/v1");
    reef_json_key(&jw, "kind");
    reef_json_put_str(&jw, "ReplicaSet");
    reef_json_key(&jw, "metadata");
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "name");
    reef_json_put_str(&jw, name);
    reef_json_key(&jw, "namespace");
    reef_json_put_str(&jw, d->ns);
    reef_json_key(&jw, "labels");
    {
        /* the template's labels with the hash */
        reef_json_begin_object(&jw);
        int lv = reef__wl_find(&d->o, "spec.template.metadata.labels");
        struct reef_json_iter li = reef_json_iter(&d->o.d, lv);
        while (reef_json_next(&d->o.d, &li)) {
            if (reef_json_str_eq(&d->o.d, li.key, HASH_LABEL))
                continue;
            reef_json_key_from(&jw, &d->o.d, li.key);
            reef_json_put_value(&jw, &d->o.d, li.val);
        }
        reef_json_key(&jw, HASH_LABEL);
        reef_json_put_str(&jw, hash);
        reef_json_end_object(&jw);
    }
    reef_json_key(&jw, "annotations");
    reef_json_begin_object(&jw);
    for (size_t i = 0; i < a.n; i++) {
        reef_json_key(&jw, a.key[i]);
        reef_json_put_raw(&jw, a.val[i].data, a.val[i].len);
    }
    reef_json_end_object(&jw);
    reef_json_key(&jw, "ownerReferences");
    reef_json_begin_array(&jw);
    reef_json_put_raw(&jw, ref.data, ref.len);
    reef_json_end_array(&jw);
    reef_json_end_object(&jw);
    reef_json_key(&jw, "spec");
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "replicas");
    reef_json_put_int(&jw, replicas);
    reef_json_key(&jw, "minReadySeconds");
    reef_json_put_int(&jw, d->min_ready);
    reef_json_key(&jw, "selector");
    put_selector(&jw, &d->o, reef__wl_find(&d->o, "spec.selector"), hash);
    reef_json_key(&jw, "template");
    put_template(&jw, &d->o, tv, hash);
    reef_json_end_object(&jw);
    reef_json_end_object(&jw);
    ann_free(&a);
    int r = reef_json_finish(&jw, NULL);
    char target[600];
    snprintf(target, sizeof(target), "/apis/apps/v1/namespaces/%s/replicasets", d->ns);
    struct reef_err err = {0};
    int st = r;
    if (r == 0)
        st = reef_ctl_call(reef__wl_env(w), "POST", target, NULL, body.data, body.len, &resp, &err);
    reef_buf_free(&body);
    reef_buf_free(&ref);
    const struct reef_ctl_env *env = reef__wl_env(w);
    bool exists = false;
    if (st == 409) {
        /* the name is taken: ours with this template, or a hash collision */
        exists = true;
        reef_buf_free(&resp);
        char *json = NULL;
        size_t len = 0;
        struct wl_rs *rs = &d->created;
        if (reef_store_get(env->store, "replicasets.apps", d->ns, name, &json, &len, NULL, NULL) <
            0)
            return -EAGAIN;
        reef__wl_rs_load(rs, json, len);
        d->have_created = true;
        if (!(strcmp(rs->ctrl_uid, d->uid) == 0 && template_eq(&d->o, &rs->o))) {
            d->cur.collision = d->cur.collision < 0 ? 1 : d->cur.collision + 1;
            reef__wl_write_status(w, d, &d->cur);
            return -EAGAIN;
        }
        *out = rs;
    } else if (st != 201) {
        reef_buf_free(&resp);
        char msg[600];
        snprintf(msg, sizeof(msg), "Failed to create new replica set \"%s\": %s", name,
                 st < 0 ? "internal error" : err.msg);
        if (d->deadline >= 0) {
            reef__wl_cond_set(&d->cur, "Progressing", "False", "ReplicaSetCreateError", msg, now);
            reef__wl_write_status(w, d, &d->cur);
        }
        reef_ctl_event(env, "deployment-controller", NULL, d->o.json, d->o.len, "Warning",
                       "ReplicaSetCreateError", "%s", msg);
        return -EIO;
    } else {
        size_t len = resp.len;
        char *json = reef_buf_steal(&resp);
        if (!json || reef__wl_rs_load(&d->created, json, len) < 0)
            return -ENOMEM;
        d->have_created = true;
        *out = &d->created;
    }
    if (!exists && replicas > 0)
        reef_ctl_event(env, "deployment-controller", NULL, d->o.json, d->o.len, "Normal",
                       "ScalingReplicaSet", "Scaled up replica set %s from 0 to %lld", name,
                       (long long)replicas);
    r = set_deploy_revision(w, d, nrev);
    if (r < 0)
        return r;
    if (!exists && d->deadline >= 0) {
        char msg[600];
        snprintf(msg, sizeof(msg), "Created new replica set \"%s\"", name);
        reef__wl_cond_set(&d->cur, "Progressing", "True", "NewReplicaSetCreated", msg, now);
        r = reef__wl_write_status(w, d, &d->cur);
    }
    (void)rsets;
    (void)nrs;
    return r;
}

/* getAllReplicaSetsAndSyncRevision */
int reef__wl_new_and_old(struct reef_workload *w, struct wl_dep *d, struct wl_rs **rsets,
                         size_t nrs, bool create, struct wl_rs **newrs, struct wl_rs **olds,
                         size_t *nold)
{
    /* FindNewReplicaSet: the oldest with the Deployment's template */
    struct wl_rs **sorted = malloc((nrs + 1) * sizeof(*sorted));
    if (!sorted)
        return -ENOMEM;
    memcpy(sorted, rsets, nrs * sizeof(*sorted));
    reef__wl_sort_rs(sorted, nrs, rs_older);
    struct wl_rs *found = NULL;
    for (size_t i = 0; i < nrs && !found; i++)
        if (template_eq(&sorted[i]->o, &d->o))
            found = sorted[i];
    free(sorted);
    *nold = 0;
    for (size_t i = 0; i < nrs; i++)
        if (rsets[i] != found)
            olds[(*nold)++] = rsets[i];
    return get_new_rs(w, d, rsets, nrs, olds, *nold, found, create, newrs);
}

/* ---- cleanup ---- */

static bool by_revision(const struct wl_rs *a, const struct wl_rs *b)
{
    if (a->revision == b->revision)
        return rs_older(a, b);
    return a->revision < b->revision;
}

int reef__wl_cleanup(struct reef_workload *w, struct wl_dep *d, struct wl_rs **olds, size_t nold)
{
    if (d->history_limit < 0)
        return 0;
    struct wl_rs **alive = malloc((nold + 1) * sizeof(*alive));
    if (!alive)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < nold; i++)
        if (olds[i] && !olds[i]->deleting)
            alive[n++] = olds[i];
    int64_t diff = (int64_t)n - d->history_limit;
    int r = 0;
    if (diff > 0) {
        reef__wl_sort_rs(alive, n, by_revision);
        for (int64_t i = 0; i < diff; i++) {
            struct wl_rs *rs = alive[i];
            if (rs->st_replicas != 0 || rs->replicas != 0 || rs->generation > rs->st_observed)
                continue;
            char target[800];
            snprintf(target, sizeof(target), "/apis/apps/v1/namespaces/%s/replicasets/%s", d->ns,
                     rs->name);
            int x = reef__wl_call(w, "DELETE", target, NULL, 0, NULL, NULL);
            if (x < 0 && x != -ENOENT) {
                r = x;
                break;
            }
        }
    }
    free(alive);
    return r;
}

/* ---- sync ---- */

int reef__wl_sync_deploy(struct reef_workload *w, const char *ns, const char *name)
{
    const struct reef_ctl_env *env = reef__wl_env(w);
    char *json = NULL;
    size_t len = 0;
    if (reef_store_get(env->store, "deployments.apps", ns, name, &json, &len, NULL, NULL) < 0)
        return 0;
    struct wl_dep *d = calloc(1, sizeof(*d));
    if (!d) {
        free(json);
        return -ENOMEM;
    }
    snprintf(d->ns, sizeof(d->ns), "%s", ns);
    if (reef__wl_obj_parse(&d->o, json, len) < 0) {
        reef__wl_obj_free(&d->o);
        free(d);
        return 0;
    }
    load_deploy(d);
    struct wl_rs *all = NULL;
    size_t nall = 0;
    struct wl_rs **owned = NULL;
    size_t nowned = 0;
    struct wl_pod *pods = NULL;
    size_t npods = 0;
    int r = 0;

    int sv = reef__wl_find(&d->o, "spec.selector");
    if (sv >= 0 && reef_json_kind(&d->o.d, sv) == REEF_JSON_OBJECT) {
        int ml = reef_json_member(&d->o.d, sv, "matchLabels");
        int me = reef_json_member(&d->o.d, sv, "matchExpressions");
        if ((ml < 0 || reef_json_count(&d->o.d, ml) <= 0) &&
            (me < 0 || reef_json_count(&d->o.d, me) <= 0)) {
            reef_ctl_event(env, "deployment-controller", NULL, d->o.json, d->o.len, "Warning",
                           "SelectingAll",
                           "This deployment is selecting all pods. A non-empty selector is "
                           "required.");
            if (d->cur.observed < d->generation) {
                d->cur.observed = d->generation;
                r = reef__wl_write_status(w, d, &d->cur);
            }
            goto done;
        }
    }
    if ((r = reef__wl_list_rs(w, ns, &all, &nall)) < 0)
        goto done;
    owned = calloc(nall + 1, sizeof(*owned));
    if (!owned) {
        r = -ENOMEM;
        goto done;
    }
    if ((r = claim_rs(w, d, all, nall, owned, &nowned)) < 0)
        goto done;
    if (d->deleting) {
        r = reef__wl_sync_status_only(w, d, owned, nowned);
        goto done;
    }
    if ((r = reef__wl_paused_conditions(w, d)) < 0)
        goto done;
    if (d->paused) {
        r = reef__wl_sync_scale(w, d, owned, nowned);
        goto done;
    }
    bool scaling = false;
    if ((r = reef__wl_is_scaling(w, d, owned, nowned, &scaling)) < 0)
        goto done;
    if (scaling) {
        r = reef__wl_sync_scale(w, d, owned, nowned);
        goto done;
    }
    if (d->recreate) {
        if ((r = reef__wl_list_pods(w, ns, &pods, &npods)) < 0)
            goto done;
        r = reef__wl_rollout_recreate(w, d, owned, nowned, pods, npods);
    } else {
        r = reef__wl_rollout_rolling(w, d, owned, nowned);
    }
done:
    reef__wl_pods_free(pods, npods);
    free(owned);
    reef__wl_rs_free(all, nall);
    if (d->have_created)
        reef__wl_obj_free(&d->created.o);
    reef__wl_obj_free(&d->o);
    free(d);
    return r;
}
