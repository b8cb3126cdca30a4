/* rollout: `reef rollout status|history|undo|pause|resume|restart` for deployments, worded and
 * decided as kubectl 1.32 does (its DeploymentStatusViewer, DeploymentHistoryViewer,
 * DeploymentRollbacker and object pauser): the revisions are the ReplicaSets the Deployment
 * controls, numbered by their deployment.kubernetes.io/revision annotation. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/kube.h"
#include "cmd/kube_rollout.h"
#include "core/json.h"
#include "orchestrate/selector.h"

#define REVISION_ANN "deployment.kubernetes.io/revision"
#define CHANGE_CAUSE_ANN "kubernetes.io/change-cause"
#define HASH_LABEL "pod-template-hash"

extern const struct reef_cmd reef_cmd_rollout;

struct opts {
    struct reef_kube_one o;
    bool watch;
    int64_t timeout_ms; /* 0: none */
    int64_t revision;   /* --revision / --to-revision */
};

/* ---- small JSON helpers ---- */

static void str_at(const struct reef_json_doc *d, int v, const char *path, char *out, size_t n)
{
    out[0] = 0;
    int x = v >= 0 ? reef_json_find(d, v, path, NULL) : -ENOENT;
    if (x >= 0 && reef_json_get_str(d, x, out, n, NULL) < 0)
        out[0] = 0;
}

static int64_t int_at(const struct reef_json_doc *d, int v, const char *path, int64_t dflt)
{
    int64_t n;
    int x = reef_json_find(d, v, path, NULL);
    if (x < 0 || reef_json_get_int(d, x, &n, NULL) < 0)
        return dflt;
    return n;
}

/* deploymentutil.Revision: the annotation as a number, 0 when absent, -1 when malformed. */
static int64_t revision_of(const struct reef_json_doc *d, int obj)
{
    int ann = reef_json_find(d, obj, "metadata.annotations", NULL);
    int v = ann >= 0 ? reef_json_member(d, ann, REVISION_ANN) : -ENOENT;
    if (v < 0)
        return 0;
    char s[32];
    long long n;
    if (reef_json_get_str(d, v, s, sizeof(s), NULL) < 0 ||
        reef_str_to_ll(s, INT64_MIN, INT64_MAX, &n) < 0)
        return -1;
    return n;
}

/* A Go zero value: absent, null, false, 0, "", or an empty list or map. */
static bool zero(const struct reef_json_doc *d, int v)
{
    if (v < 0)
        return true;
    size_t n;
    const char *raw = reef_json_raw(d, v, &n);
    switch (reef_json_kind(d, v)) {
    case REEF_JSON_NULL:
        return true;
    case REEF_JSON_BOOL:
        return raw[0] == 'f';
    case REEF_JSON_NUMBER: {
        double x = 1;
        reef_json_get_double(d, v, &x, NULL);
        return x == 0;
    }
    case REEF_JSON_STRING:
        return n == 2;
    default:
        return reef_json_count(d, v) == 0;
    }
}

/* apiequality.Semantic.DeepEqual on typed objects, seen through their JSON: a missing field and
 * its zero value are the same, as are nil and empty lists and maps. skip names a member of this
 * object (only) left out of the comparison. */
static bool zeq(const struct reef_json_doc *a, int va, const struct reef_json_doc *b, int vb,
                const char *skip)
{
    if (zero(a, va) || zero(b, vb))
        return zero(a, va) && zero(b, vb);
    enum reef_json_kind k = reef_json_kind(a, va);
    if (k != reef_json_kind(b, vb))
        return false;
    if (k == REEF_JSON_ARRAY) {
        if (reef_json_count(a, va) != reef_json_count(b, vb))
            return false;
        struct reef_json_iter x = reef_json_iter(a, va), y = reef_json_iter(b, vb);
        while (reef_json_next(a, &x) && reef_json_next(b, &y))
            if (!zeq(a, x.val, b, y.val, NULL))
                return false;
        return true;
    }
    if (k != REEF_JSON_OBJECT)
        return reef_json_equal(a, va, b, vb);
    for (int pass = 0; pass < 2; pass++) {
        const struct reef_json_doc *p = pass ? b : a, *q = pass ? a : b;
        int vp = pass ? vb : va, vq = pass ? va : vb;
        struct reef_json_iter it = reef_json_iter(p, vp);
        while (reef_json_next(p, &it)) {
            const char *key;
            size_t kn;
            if (reef_json_str_view(p, it.key, &key, &kn) < 0)
                return false;
            if (skip && strlen(skip) == kn && memcmp(skip, key, kn) == 0)
                continue;
            int other = reef_json_membern(q, vq, key, kn);
            if (pass ? !zero(p, it.val) && other < 0 : !zeq(p, it.val, q, other, NULL))
                return false;
        }
    }
    return true;
}

/* equalIgnoreHash: two pod templates alike but for the pod-template-hash label. */
static bool same_template(const struct reef_json_doc *a, int ta, const struct reef_json_doc *b,
                          int tb)
{
    int ma = reef_json_member(a, ta, "metadata"), mb = reef_json_member(b, tb, "metadata");
    return zeq(a, ta, b, tb, "metadata") && zeq(a, ma, b, mb, "labels") &&
           zeq(a, ma >= 0 ? reef_json_member(a, ma, "labels") : -1, b,
               mb >= 0 ? reef_json_member(b, mb, "labels") : -1, HASH_LABEL);
}

/* ---- the revisions: ReplicaSets the Deployment controls ---- */

struct history {
    struct reef_http_result res;
    struct reef_json_doc d;
    int *rs; /* the items that count, in list order */
    size_t n;
};

static void history_free(struct history *h)
{
    reef_json_doc_free(&h->d);
    reef_http_result_free(&h->res);
    free(h->rs);
}

/* deploymentutil.GetAllReplicaSets: the Deployment's selector lists them, its controller
 * reference keeps them. 0, or 1 after printing the error. */
static int history_load(struct opts *o, const struct reef_json_doc *dep, struct history *h)
{
    struct reef_label_selector *sel = NULL;
    struct reef_err err = {0};
    struct reef_buf path = REEF_BUF_INIT, s = REEF_BUF_INIT;
    int status = 0;
    char uid[64];
    str_at(dep, REEF_JSON_ROOT, "metadata.uid", uid, sizeof(uid));
    if (reef_label_selector_from_json(
            dep, reef_json_find(dep, REEF_JSON_ROOT, "spec.selector", NULL), &sel, &err) < 0) {
        status = reef_kube_fail(err.msg);
        goto out;
    }
    reef_label_selector_string(sel, &s);
    reef_kube_path(&path, reef_kube_type_find("replicasets.apps"), o->o.k.ns, NULL);
    reef_buf_puts(&path, "?labelSelector=");
    reef_kube_escape(&path, s.data ? s.data : "");
    int rc =
        reef_kube_do(&o->o.k, "GET", path.data, "application/json", NULL, NULL, 0, &h->res, &err);
    if ((status = reef__kube_status(rc, &h->res, &err)))
        goto out;
    if (reef_json_parse(&h->d, h->res.body, h->res.body_len, NULL, NULL) < 0) {
        status = reef_kube_fail("the server's answer is not JSON");
        goto out;
    }
    int items = reef_json_member(&h->d, REEF_JSON_ROOT, "items");
    int n = items >= 0 ? reef_json_count(&h->d, items) : 0;
    h->rs = calloc(n > 0 ? (size_t)n : 1, sizeof(*h->rs));
    if (!h->rs) {
        status = reef_kube_fail("out of memory");
        goto out;
    }
    struct reef_json_iter it = reef_json_iter(&h->d, items);
    while (items >= 0 && reef_json_next(&h->d, &it)) {
        /* metav1.IsControlledBy */
        int refs = reef_json_find(&h->d, it.val, "metadata.ownerReferences", NULL);
        struct reef_json_iter r = reef_json_iter(&h->d, refs);
        while (refs >= 0 && reef_json_next(&h->d, &r)) {
            int c = reef_json_member(&h->d, r.val, "controller");
            bool ctl = false;
            if (c >= 0)
                reef_json_get_bool(&h->d, c, &ctl, NULL);
            if (!ctl)
                continue;
            if (reef_json_str_eq(&h->d, reef_json_member(&h->d, r.val, "uid"), uid))
                h->rs[h->n++] = it.val;
            break;
        }
    }
out:
    reef_label_selector_free(sel);
    reef_buf_free(&path);
    reef_buf_free(&s);
    return status;
}

/* ---- the subcommands ---- */

/* "ConfigMap" / "ReplicaSet.apps" (schema.GroupKind's String) and "{ ConfigMap}" (its %v). */
static void group_kind(const struct reef_kube_type *t, char *s, size_t n, char *v, size_t vn)
{
    snprintf(s, n, "%s%s%s", t->kind, t->group[0] ? "." : "", t->group);
    snprintf(v, vn, "{%s %s}", t->group, t->kind);
}

static bool is_deployment(const struct reef_kube_type *t)
{
    return strcmp(t->kind, "Deployment") == 0;
}

/* kubectl's refusal of a kind without a history viewer or rollbacker: the kinds its
 * GroupKindElement visitor knows (of reef's: Pod, ReplicaSet) get "no history viewer has been
 * implemented", the others the visitor's own error. */
static int unsupported(const struct reef_kube_type *t, const char *viewer, const char *what)
{
    char gk[128], gkv[128];
    group_kind(t, gk, sizeof(gk), gkv, sizeof(gkv));
    if (strcmp(t->kind, "Pod") == 0 || strcmp(t->kind, "ReplicaSet") == 0)
        fprintf(stderr, "error: no %s has been implemented for \"%s\"\n", viewer, gk);
    else
        fprintf(stderr, "error: error retrieving %s for \"%s\", no visitor method exists for %s\n",
                what, gk, gkv);
    return 1;
}

/* "deployments.apps": how kubectl's pause, resume and restart name a resource. */
static void resource_name(const struct reef_kube_type *t, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", t->plural, t->group[0] ? "." : "", t->group);
}

static int history(struct opts *o, const struct reef_json_doc *dep)
{
    if (!is_deployment(o->o.t))
        return unsupported(o->o.t, "history viewer", "history");
    struct history h = {.d = REEF_JSON_DOC_INIT};
    int status = history_load(o, dep, &h);
    if (status)
        goto out;
    /* revision -> its ReplicaSet, the last one listed winning a repeated number */
    int64_t *revs = calloc(h.n ? h.n : 1, sizeof(*revs));
    int *rs = calloc(h.n ? h.n : 1, sizeof(*rs));
    size_t n = 0;
    for (size_t i = 0; revs && rs && i < h.n; i++) {
        int64_t r = revision_of(&h.d, h.rs[i]);
        if (r < 0)
            continue;
        size_t j = 0;
        while (j < n && revs[j] != r)
            j++;
        revs[j] = r;
        rs[j] = h.rs[i];
        n += j == n;
    }
    struct reef_buf out = REEF_BUF_INIT;
    if (n == 0) {
        reef_buf_puts(&out, "No rollout history found.");
    } else if (o->revision > 0) {
        size_t j = 0;
        while (j < n && revs[j] != o->revision)
            j++;
        if (j == n) {
            status = reef_kube_fail("unable to find the specified revision");
        } else {
            char cause[4096];
            str_at(&h.d, rs[j], "metadata.annotations[\"" CHANGE_CAUSE_ANN "\"]", cause,
                   sizeof(cause));
            reef__kube_print_pod_template(
                &out, &h.d, reef_json_find(&h.d, rs[j], "spec.template", NULL), cause);
        }
    } else {
        /* sorted, then laid out by a tab writer with padding 2 */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && revs[j - 1] > revs[j]; j--) {
                int64_t t = revs[j];
                revs[j] = revs[j - 1], revs[j - 1] = t;
                int u = rs[j];
                rs[j] = rs[j - 1], rs[j - 1] = u;
            }
        int w = 8;
        for (size_t i = 0; i < n; i++) {
            char num[32];
            int l = snprintf(num, sizeof(num), "%" PRId64, revs[i]);
            if (l > w)
                w = l;
        }
        reef_buf_printf(&out, "%-*s%s\n", w + 2, "REVISION", "CHANGE-CAUSE");
        for (size_t i = 0; i < n; i++) {
            char cause[4096], num[32];
            str_at(&h.d, rs[i], "metadata.annotations[\"" CHANGE_CAUSE_ANN "\"]", cause,
                   sizeof(cause));
            snprintf(num, sizeof(num), "%" PRId64, revs[i]);
            reef_buf_printf(&out, "%-*s%s\n", w + 2, num, cause[0] ? cause : "<none>");
        }
    }
    if (!status) {
        char with[64] = "";
        if (o->revision > 0)
            snprintf(with, sizeof(with), "with revision #%" PRId64, o->revision);
        printf("%s/%s %s\n%s\n", o->o.ref.data, o->o.name, with, out.data ? out.data : "");
    }
    reef_buf_free(&out);
    free(revs);
    free(rs);
out:
    history_free(&h);
    return status;
}

static const char *const skip_annotations[] = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANN,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
    NULL,
};

static bool skipped_annotation(const struct reef_json_doc *d, int key)
{
    for (size_t i = 0; skip_annotations[i]; i++)
        if (reef_json_str_eq(d, key, skip_annotations[i]))
            return true;
    return false;
}

/* The JSON patch kubectl's DeploymentRollbacker sends: the revision's template without its hash
 * label, and the annotations: the Deployment's own bookkeeping ones, the ReplicaSet's others. */
static int undo_patch(struct reef_buf *p, const struct reef_json_doc *dep,
                      const struct reef_json_doc *h, int rs)
{
    struct reef_json_writer w;
    reef_json_writer_init(&w, p, 0);
    reef_json_begin_array(&w);
    reef_json_begin_object(&w);
    reef_json_key(&w, "op");
    reef_json_put_str(&w, "replace");
    reef_json_key(&w, "path");
    reef_json_put_str(&w, "/spec/template");
    reef_json_key(&w, "value");
    int t = reef_json_find(h, rs, "spec.template", NULL);
    reef_json_begin_object(&w);
    struct reef_json_iter it = reef_json_iter(h, t);
    bool had_md = false;
    while (t >= 0 && reef_json_next(h, &it)) {
        reef_json_key_from(&w, h, it.key);
        if (!reef_json_str_eq(h, it.key, "metadata")) {
            reef_json_put_value(&w, h, it.val);
            continue;
        }
        had_md = true;
        reef_json_begin_object(&w);
        /* Go writes the zero creation time of the typed template as null */
        if (reef_json_member(h, it.val, "creationTimestamp") < 0) {
            reef_json_key(&w, "creationTimestamp");
            reef_json_put_null(&w);
        }
        struct reef_json_iter m = reef_json_iter(h, it.val);
        while (reef_json_next(h, &m)) {
            reef_json_key_from(&w, h, m.key);
            if (!reef_json_str_eq(h, m.key, "labels")) {
                reef_json_put_value(&w, h, m.val);
                continue;
            }
            reef_json_begin_object(&w);
            struct reef_json_iter l = reef_json_iter(h, m.val);
            while (reef_json_next(h, &l)) {
                if (reef_json_str_eq(h, l.key, HASH_LABEL))
                    continue;
                reef_json_key_from(&w, h, l.key);
                reef_json_put_value(&w, h, l.val);
            }
            reef_json_end_object(&w);
        }
        reef_json_end_object(&w);
    }
    if (!had_md) {
        reef_json_key(&w, "metadata");
        reef_json_begin_object(&w);
        reef_json_key(&w, "creationTimestamp");
        reef_json_put_null(&w);
        reef_json_end_object(&w);
    }
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    reef_json_begin_object(&w);
    reef_json_key(&w, "op");
    reef_json_put_str(&w, "replace");
    reef_json_key(&w, "path");
    reef_json_put_str(&w, "/metadata/annotations");
    reef_json_key(&w, "value");
    reef_json_begin_object(&w);
    int da = reef_json_find(dep, REEF_JSON_ROOT, "metadata.annotations", NULL);
    it = reef_json_iter(dep, da);
    while (da >= 0 && reef_json_next(dep, &it)) {
        if (!skipped_annotation(dep, it.key))
            continue;
        reef_json_key_from(&w, dep, it.key);
        reef_json_put_value(&w, dep, it.val);
    }
    int ra = reef_json_find(h, rs, "metadata.annotations", NULL);
    it = reef_json_iter(h, ra);
    while (ra >= 0 && reef_json_next(h, &it)) {
        if (skipped_annotation(h, it.key))
            continue;
        reef_json_key_from(&w, h, it.key);
        reef_json_put_value(&w, h, it.val);
    }
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    reef_json_end_array(&w);
    return reef_json_finish(&w, NULL);
}

static int undo(struct opts *o, const struct reef_json_doc *dep)
{
    if (!is_deployment(o->o.t))
        return unsupported(o->o.t, "rollbacker", "rollbacker");
    char msg[128];
    if (o->revision < 0) {
        snprintf(msg, sizeof(msg), "unable to find specified revision %" PRId64 " in history",
                 o->revision);
        return reef_kube_fail(msg);
    }
    struct history h = {.d = REEF_JSON_DOC_INIT};
    int status = history_load(o, dep, &h);
    if (status)
        goto out;
    /* deploymentRevision: the asked revision, else the second newest */
    int found = -1, latest = -1, previous = -1;
    int64_t lrev = -1, prev = -1;
    for (size_t i = 0; i < h.n && found < 0; i++) {
        int64_t v = revision_of(&h.d, h.rs[i]);
        if (v < 0)
            continue;
        if (o->revision == 0) {
            if (lrev < v) {
                prev = lrev, previous = latest;
                lrev = v, latest = h.rs[i];
            } else if (prev < v) {
                prev = v, previous = h.rs[i];
            }
        } else if (o->revision == v) {
            found = h.rs[i];
        }
    }
    if (o->revision > 0 && found < 0) {
        snprintf(msg, sizeof(msg), "unable to find specified revision %" PRId64 " in history",
                 o->revision);
        status = reef_kube_fail(msg);
        goto out;
    }
    if (o->revision == 0) {
        if (previous < 0) {
            fprintf(stderr, "error: no rollout history found for deployment \"%s\"\n", o->o.name);
            status = 1;
            goto out;
        }
        found = previous;
    }
    int paused = reef_json_find(dep, REEF_JSON_ROOT, "spec.paused", NULL);
    bool is_paused = false;
    if (paused >= 0)
        reef_json_get_bool(dep, paused, &is_paused, NULL);
    if (is_paused) {
        status = reef_kube_fail("you cannot rollback a paused deployment; resume it first with "
                                "'kubectl rollout resume' and try again");
        goto out;
    }
    if (same_template(&h.d, reef_json_find(&h.d, found, "spec.template", NULL), dep,
                      reef_json_find(dep, REEF_JSON_ROOT, "spec.template", NULL))) {
        printf("%s/%s skipped rollback (current template already matches revision %" PRId64 ")\n",
               o->o.ref.data, o->o.name, o->revision);
        goto out;
    }
    struct reef_buf p = REEF_BUF_INIT;
    if (undo_patch(&p, dep, &h.d, found) < 0) {
        reef_buf_free(&p);
        status = reef_kube_fail("out of memory");
        goto out;
    }
    struct reef_http_result res = {0};
    struct reef_err err = {0};
    int rc = reef_kube_do(&o->o.k, "PATCH", o->o.path.data, "application/json",
                          "application/json-patch+json", p.data, p.len, &res, &err);
    if (rc < 0) {
        status = reef_kube_fail(err.msg);
    } else if (res.status >= 300) {
        /* kubectl wraps the server's message */
        struct reef_json_doc e = REEF_JSON_DOC_INIT;
        char m[2048] = "";
        if (reef_json_parse(&e, res.body, res.body_len, NULL, NULL) == 0)
            str_at(&e, REEF_JSON_ROOT, "message", m, sizeof(m));
        reef_json_doc_free(&e);
        fprintf(stderr, "error: failed restoring revision %" PRId64 ": %s\n", o->revision, m);
        status = 1;
    } else {
        printf("%s/%s rolled back\n", o->o.ref.data, o->o.name);
    }
    reef_http_result_free(&res);
    reef_buf_free(&p);
out:
    history_free(&h);
    return status;
}

static int pause_resume(struct opts *o, const struct reef_json_doc *dep, bool pause)
{
    const char *verb = pause ? "pausing" : "resuming";
    char res_name[128];
    resource_name(o->o.t, res_name, sizeof(res_name));
    if (!is_deployment(o->o.t)) {
        fprintf(stderr, "error: %s \"%s\" %s is not supported\n", res_name, o->o.name, verb);
        return 1;
    }
    int v = reef_json_find(dep, REEF_JSON_ROOT, "spec.paused", NULL);
    bool paused = false;
    if (v >= 0)
        reef_json_get_bool(dep, v, &paused, NULL);
    if (paused == pause) {
        fprintf(stderr, "error: %s \"%s\" %s\n", res_name, o->o.name,
                pause ? "is already paused" : "is not paused");
        return 1;
    }
    const char *patch = pause ? "{\"spec\":{\"paused\":true}}" : "{\"spec\":{\"paused\":null}}";
    struct reef_http_result res = {0};
    struct reef_err err = {0};
    int rc =
        reef_kube_do(&o->o.k, "PATCH", o->o.path.data, "application/json",
                     "application/strategic-merge-patch+json", patch, strlen(patch), &res, &err);
    int status = 0;
    if (rc < 0) {
        status = reef_kube_fail(err.msg);
    } else if (res.status >= 300) {
        struct reef_json_doc e = REEF_JSON_DOC_INIT;
        char m[2048] = "";
        if (reef_json_parse(&e, res.body, res.body_len, NULL, NULL) == 0)
            str_at(&e, REEF_JSON_ROOT, "message", m, sizeof(m));
        reef_json_doc_free(&e);
        fprintf(stderr, "error: failed to patch: %s\n", m);
        status = 1;
    } else {
        printf("%s/%s %s\n", o->o.ref.data, o->o.name, pause ? "paused" : "resumed");
    }
    reef_http_result_free(&res);
    return status;
}

static int restart(struct opts *o)
{
    if (!is_deployment(o->o.t)) {
        /* checked after the object is found, as kubectl does */
        char rn[128];
        resource_name(o->o.t, rn, sizeof(rn));
        fprintf(stderr, "error: %s \"%s\" restarting is not supported\n", rn, o->o.name);
        return 1;
    }
    /* RFC 3339 in local time, as Go's time.Now().Format(time.RFC3339) */
    char stamp[64], zone[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    if (tm.tm_gmtoff == 0)
        strcpy(zone, "Z");
    else
        snprintf(zone, sizeof(zone), "%c%02d:%02d", tm.tm_gmtoff < 0 ? '-' : '+',
                 (int)(labs(tm.tm_gmtoff) / 3600 % 100), (int)(labs(tm.tm_gmtoff) % 3600 / 60));
    char patch[256];
    snprintf(patch, sizeof(patch),
             "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/"
             "restartedAt\":\"%s%s\"}}}}}",
             stamp, zone);
    struct reef_http_result res = {0};
    struct reef_err err = {0};
    int rc =
        reef_kube_do(&o->o.k, "PATCH", o->o.path.data, "application/json",
                     "application/strategic-merge-patch+json", patch, strlen(patch), &res, &err);
    int status = reef__kube_status(rc, &res, &err);
    if (!status)
        printf("%s/%s restarted\n", o->o.ref.data, o->o.name);
    reef_http_result_free(&res);
    return status;
}

/* ---- status ---- */

enum { ST_WAIT = 0, ST_DONE = 1, ST_FAIL = -1 };

/* DeploymentStatusViewer.Status: prints the line for object obj; ST_FAIL after printing the
 * error. */
static int status_line(const struct opts *o, const struct reef_json_doc *d, int obj)
{
    char name[256], buf[512];
    str_at(d, obj, "metadata.name", name, sizeof(name));
    if (o->revision > 0) {
        int64_t r = revision_of(d, obj);
        if (r < 0) {
            snprintf(buf, sizeof(buf), "cannot get the revision of deployment \"%s\"", name);
            return reef_kube_fail(buf), ST_FAIL;
        }
        if (r != o->revision) {
            snprintf(buf, sizeof(buf),
                     "desired revision (%" PRId64 ") is different from the running revision "
                     "(%" PRId64 ")",
                     o->revision, r);
            return reef_kube_fail(buf), ST_FAIL;
        }
    }
    if (int_at(d, obj, "metadata.generation", 0) > int_at(d, obj, "status.observedGeneration", 0)) {
        printf("Waiting for deployment spec update to be observed...\n");
        return ST_WAIT;
    }
    int conds = reef_json_find(d, obj, "status.conditions", NULL);
    struct reef_json_iter it = reef_json_iter(d, conds);
    while (conds >= 0 && reef_json_next(d, &it)) {
        if (!reef_json_str_eq(d, reef_json_member(d, it.val, "type"), "Progressing"))
            continue;
        if (reef_json_str_eq(d, reef_json_member(d, it.val, "reason"),
                             "ProgressDeadlineExceeded")) {
            snprintf(buf, sizeof(buf), "deployment \"%s\" exceeded its progress deadline", name);
            return reef_kube_fail(buf), ST_FAIL;
        }
        break;
    }
    int64_t updated = int_at(d, obj, "status.updatedReplicas", 0);
    int64_t replicas = int_at(d, obj, "status.replicas", 0);
    int64_t available = int_at(d, obj, "status.availableReplicas", 0);
    int spec = reef_json_find(d, obj, "spec.replicas", NULL);
    int64_t want = int_at(d, obj, "spec.replicas", 0);
    if (spec >= 0 && !reef_json_is_null(d, spec) && updated < want)
        printf("Waiting for deployment \"%s\" rollout to finish: %" PRId64 " out of %" PRId64
               " new replicas have been updated...\n",
               name, updated, want);
    else if (replicas > updated)
        printf("Waiting for deployment \"%s\" rollout to finish: %" PRId64
               " old replicas are pending termination...\n",
               name, replicas - updated);
    else if (available < updated)
        printf("Waiting for deployment \"%s\" rollout to finish: %" PRId64 " of %" PRId64
               " updated replicas are available...\n",
               name, available, updated);
    else {
        printf("deployment \"%s\" successfully rolled out\n", name);
        return ST_DONE;
    }
    return ST_WAIT;
}

struct watch_state {
    const struct opts *o;
    struct reef_buf line;
    char rv[64];
    int result; /* ST_* once the watch may end */
    bool ended;
};

static int on_event(void *ud, const char *data, size_t len)
{
    struct watch_state *ws = ud;
    if (reef_buf_append(&ws->line, data, len) < 0)
        return -ENOMEM;
    for (;;) {
        char *nl = memchr(ws->line.data, '\n', ws->line.len);
        if (!nl)
            return ws->line.len > (64u << 20) ? -E2BIG : 0;
        size_t n = (size_t)(nl - ws->line.data);
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        int rc = 0;
        if (reef_json_parse(&d, ws->line.data, n, NULL, NULL) == 0) {
            char type[32];
            str_at(&d, REEF_JSON_ROOT, "type", type, sizeof(type));
            int obj = reef_json_member(&d, REEF_JSON_ROOT, "object");
            if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
                str_at(&d, obj, "metadata.resourceVersion", ws->rv, sizeof(ws->rv));
                ws->result = status_line(ws->o, &d, obj);
                fflush(stdout);
                if (ws->result != ST_WAIT || !ws->o->watch)
                    ws->ended = true;
            } else if (strcmp(type, "DELETED") == 0) {
                reef_kube_fail("object has been deleted");
                ws->result = ST_FAIL;
                ws->ended = true;
            } else if (strcmp(type, "ERROR") == 0) {
                /* an expired resourceVersion: start over from the object as it is */
                ws->rv[0] = 0;
                rc = -ESTALE;
            }
        }
        reef_json_doc_free(&d);
        reef_buf_consume(&ws->line, n + 1);
        if (ws->ended)
            return -ECANCELED;
        if (rc)
            return rc;
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int status(struct opts *o, const struct reef_json_doc *dep)
{
    if (!is_deployment(o->o.t)) {
        char gk[128], gkv[128];
        group_kind(o->o.t, gk, sizeof(gk), gkv, sizeof(gkv));
        fprintf(stderr, "error: no status viewer has been implemented for %s\n", gk);
        return 1;
    }
    struct watch_state ws = {.o = o, .line = REEF_BUF_INIT};
    str_at(dep, REEF_JSON_ROOT, "metadata.resourceVersion", ws.rv, sizeof(ws.rv));
    ws.result = status_line(o, dep, REEF_JSON_ROOT);
    fflush(stdout);
    if (ws.result != ST_WAIT || !o->watch)
        return ws.result == ST_FAIL;
    int64_t deadline = o->timeout_ms ? now_ms() + o->timeout_ms : 0;
    int status = 0;
    struct reef_buf path = REEF_BUF_INIT;
    for (;;) {
        int64_t left = deadline ? deadline - now_ms() : 0;
        if (deadline && left <= 0) {
            status = reef_kube_fail("timed out waiting for the condition");
            break;
        }
        if (!ws.rv[0]) {
            /* the watch expired: the object as it is now, as an informer's relist */
            struct reef_http_result res = {0};
            struct reef_json_doc d = REEF_JSON_DOC_INIT;
            if (reef__kube_one_get(&o->o, &res, &d)) {
                reef_http_result_free(&res);
                status = 1;
                break;
            }
            str_at(&d, REEF_JSON_ROOT, "metadata.resourceVersion", ws.rv, sizeof(ws.rv));
            ws.result = status_line(o, &d, REEF_JSON_ROOT);
            fflush(stdout);
            reef_json_doc_free(&d);
            reef_http_result_free(&res);
            if (ws.result != ST_WAIT) {
                status = ws.result == ST_FAIL;
                break;
            }
        }
        reef_buf_reset(&path);
        reef_kube_path(&path, o->o.t, o->o.k.ns, NULL);
        reef_buf_puts(&path, "?fieldSelector=metadata.name%3D");
        reef_kube_escape(&path, o->o.name);
        reef_buf_puts(&path, "&watch=true&resourceVersion=");
        reef_kube_escape(&path, ws.rv);
        if (deadline)
            reef_buf_printf(&path, "&timeoutSeconds=%" PRId64, (left + 999) / 1000);
        reef_buf_reset(&ws.line);
        struct reef_err err = {0};
        int rc = reef_kube_stream(&o->o.k, path.data, "application/json", on_event, &ws, &err);
        if (ws.ended) {
            status = ws.result == ST_FAIL;
            break;
        }
        if (rc < 0 && rc != -ESTALE) {
            status = reef_kube_fail(err.msg);
            break;
        }
    }
    reef_buf_free(&path);
    reef_buf_free(&ws.line);
    return status;
}

/* Go's time.ParseDuration for the forms people type: "30s", "1m30s", "500ms", "2h", "0". */
/* reef__kube_one_get, with kubectl's resource.Info lookup: an object missing from a namespace
 * other than default is reported as its namespace missing, when that is so. */
static int get_object(struct opts *o, struct reef_http_result *res, struct reef_json_doc *d)
{
    struct reef_err err = {0};
    int rc =
        reef_kube_do(&o->o.k, "GET", o->o.path.data, "application/json", NULL, NULL, 0, res, &err);
    if (rc == 0 && res->status == 404 && o->o.t->namespaced && strcmp(o->o.k.ns, "default") != 0) {
        struct reef_buf p = REEF_BUF_INIT;
        struct reef_http_result nres = {0};
        struct reef_err nerr = {0};
        reef_buf_puts(&p, "/api/v1/namespaces/");
        reef_kube_escape(&p, o->o.k.ns);
        bool gone = reef_kube_do(&o->o.k, "GET", p.data, "application/json", NULL, NULL, 0, &nres,
                                 &nerr) == 0 &&
                    nres.status == 404;
        if (gone)
            reef_kube_print_status(&nres);
        reef_http_result_free(&nres);
        reef_buf_free(&p);
        if (gone)
            return 1;
    }
    if (reef__kube_status(rc, res, &err))
        return 1;
    if (reef_json_parse(d, res->body, res->body_len, NULL, NULL) < 0)
        return reef_kube_fail("the server's answer is not JSON");
    return 0;
}

/* "-w=false" is Go's spelling for a short boolean flag's value: getopt's is "--watch=false". */
static void long_watch(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], "-w=", 3) == 0) {
            static char buf[64];
            snprintf(buf, sizeof(buf), "--watch=%s", argv[i] + 3);
            argv[i] = buf;
            break;
        }
    }
}

static int run_rollout(int argc, char **argv)
{
    enum { O_WATCH = REEF_KUBE_O_KC + 1, O_TIMEOUT, O_REVISION, O_TO_REVISION };
    static const struct option lo[] = {{"namespace", required_argument, NULL, 'n'},
                                       {"kubeconfig", required_argument, NULL, REEF_KUBE_O_KC},
                                       {"watch", optional_argument, NULL, O_WATCH},
                                       {"timeout", required_argument, NULL, O_TIMEOUT},
                                       {"revision", required_argument, NULL, O_REVISION},
                                       {"to-revision", required_argument, NULL, O_TO_REVISION},
                                       {0}};
    struct opts o = {.watch = true};
    const char *revision_flag = NULL;
    int c;
    long_watch(argc, argv);
    reef_kube_permute(argc, argv, "n:w", lo);
    while ((c = reef_cmd_getopt(&reef_cmd_rollout, argc, argv, "n:w", lo)) != -1) {
        long long n;
        switch (c) {
        case 'h':
            return 0;
        case 'n':
            o.o.ns = optarg;
            break;
        case REEF_KUBE_O_KC:
            o.o.kcfg = optarg;
            break;
        case 'w':
        case O_WATCH:
            if (c == O_WATCH && optarg && reef_kube_parse_bool(optarg, &o.watch) < 0) {
                fprintf(stderr,
                        "error: invalid argument \"%s\" for \"-w, --watch\" flag: strconv."
                        "ParseBool: parsing \"%s\": invalid syntax\n",
                        optarg, optarg);
                return 1;
            }
            if (c == 'w' || !optarg)
                o.watch = true;
            break;
        case O_TIMEOUT:
            if (reef_kube_timeout_flag(optarg, &o.timeout_ms))
                return 1;
            break;
        case O_REVISION:
        case O_TO_REVISION:
            revision_flag = c == O_REVISION ? "--revision" : "--to-revision";
            if (reef_str_to_ll(optarg, INT64_MIN, INT64_MAX, &n) < 0) {
                fprintf(stderr,
                        "error: invalid argument \"%s\" for \"%s\" flag: strconv.ParseInt: "
                        "parsing \"%s\": invalid syntax\n",
                        optarg, revision_flag, optarg);
                return 1;
            }
            o.revision = n;
            break;
        default:
            return REEF_EXIT_USAGE;
        }
    }
    static const char *const subs[] = {"status", "history", "undo", "pause", "resume", "restart"};
    const char *sub = optind < argc ? argv[optind] : NULL;
    size_t which = 0;
    while (sub && which < 6 && strcmp(sub, subs[which]) != 0)
        which++;
    if (!sub || which == 6) {
        if (!sub) {
            fputs(reef_cmd_rollout.usage, stderr);
            return 1;
        }
        /* kubectl names the command with its operands */
        fprintf(stderr, "error: unknown command \"");
        for (int j = optind; j < argc; j++)
            fprintf(stderr, "%s%s", j > optind ? " " : "", argv[j]);
        fprintf(stderr, "\"\nSee 'reef rollout --help' for usage.\n");
        return 1;
    }
    int i = optind + 1;
    if (i >= argc) {
        fprintf(stderr, "error: required resource not specified\n");
        return 1;
    }
    /* option checks kubectl makes before it looks at the object */
    if ((which == 0 || which == 1) && o.revision < 0) {
        fprintf(stderr, "error: revision must be a positive integer: %" PRId64 "\n", o.revision);
        return 1;
    }
    if (reef__kube_type_and_name(argc, argv, &i, &o.o.t, &o.o.name) || reef__kube_one_open(&o.o))
        return 1;
    struct reef_http_result res = {0};
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int st = get_object(&o, &res, &d);
    if (!st) {
        switch (which) {
        case 0:
            st = status(&o, &d);
            break;
        case 1:
            st = history(&o, &d);
            break;
        case 2:
            st = undo(&o, &d);
            break;
        case 3:
        case 4:
            st = pause_resume(&o, &d, which == 3);
            break;
        default:
            st = restart(&o);
        }
    }
    reef_json_doc_free(&d);
    reef_http_result_free(&res);
    reef__kube_one_close(&o.o);
    return st;
}

const struct reef_cmd reef_cmd_rollout = {
    .name = "rollout",
    .summary = "status, history, undo, pause, resume or restart a deployment, as kubectl rollout",
    .usage = "usage: reef rollout SUBCOMMAND deployment NAME|deployment/NAME [-n NS] "
             "[--kubeconfig FILE]\n"
             "  status   [--watch=false] [--timeout DURATION] [--revision N]\n"
             "  history  [--revision N]\n"
             "  undo     [--to-revision N]\n"
             "  pause | resume | restart\n",
    .run = run_rollout,
};
REEF_COMMAND(reef_cmd_rollout);
