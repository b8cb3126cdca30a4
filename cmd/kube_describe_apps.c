/* reef describe: deployments (with their replica sets), replica sets and nodes, as kubectl
 * describe 1.32 prints them. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/kube.h"
#include "cmd/kube_describe.h"
#include "core/json.h"
#include "orchestrate/tables.h"

#define W reef__desc_w
#define S reef__ds
#define J reef__dj
#define I reef__di
#define N reef__dn

static const __int128 BILLION = 1000000000;

static const char *tf(bool b)
{
    return b ? "true" : "false";
}

/* IntOrString.String() of a pointer: "<nil>" when missing */
static const char *int_or_string(struct reef__desc *c, const struct reef_json_doc *d, int v,
                                 const char *path)
{
    int x = J(d, v, path);
    if (x < 0)
        return "<nil>";
    return S(c, d, x, "");
}

static int64_t replicas(const struct reef_json_doc *d, int v)
{
    return J(d, v, "spec.replicas") >= 0 ? I(d, v, "spec.replicas") : 1;
}

/* Lists objects at path (a query included) into *body/ld; the items, or -1. */
static int list_items(struct reef__desc *c, const char *path, char **body, struct reef_json_doc *ld)
{
    if (reef__desc_get(c, path, body, ld) != 0)
        return -1;
    return J(ld, REEF_JSON_ROOT, "items");
}

static bool owned_by(struct reef__desc *c, const struct reef_json_doc *d, int v, const char *uid)
{
    int refs = J(d, v, "metadata.ownerReferences");
    struct reef_json_iter it = reef_json_iter(d, refs);
    while (refs >= 0 && reef_json_next(d, &it))
        if (reef__db(d, it.val, "controller"))
            return strcmp(S(c, d, it.val, "uid"), uid) == 0;
    return false;
}

static void conditions_short(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    if (N(d, v, "status.conditions") <= 0)
        return;
    W(c, 0, "Conditions:\n  Type\tStatus\tReason\n");
    W(c, 1, "----\t------\t------\n");
    struct reef_json_iter it = reef_json_iter(d, J(d, v, "status.conditions"));
    while (reef_json_next(d, &it))
        W(c, 1, "%s \t%s\t%s\n", S(c, d, it.val, "type"), S(c, d, it.val, "status"),
          S(c, d, it.val, "reason"));
}

void reef__describe_replicaset(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    const char *ns = S(c, d, v, "metadata.namespace");
    struct reef_buf sel;
    reef_buf_init(&sel);
    reef__desc_selector(&sel, d, J(d, v, "spec.selector"));
    /* the pods it controls, by phase */
    struct reef_buf path;
    reef_buf_init(&path);
    reef_buf_puts(&path, "/api/v1/namespaces/");
    reef_kube_escape(&path, ns);
    reef_buf_puts(&path, "/pods?labelSelector=");
    reef_kube_escape(&path, sel.data ? sel.data : "");
    reef_buf_puts(&path, "&limit=500");
    char *body = NULL;
    struct reef_json_doc pd = REEF_JSON_DOC_INIT;
    int items = list_items(c, path.data, &body, &pd);
    int running = 0, waiting = 0, succeeded = 0, failed = 0;
    const char *uid = S(c, d, v, "metadata.uid");
    struct reef_json_iter it = reef_json_iter(&pd, items);
    while (items >= 0 && reef_json_next(&pd, &it)) {
        if (!owned_by(c, &pd, it.val, uid))
            continue;
        const char *ph = S(c, &pd, it.val, "status.phase");
        running += strcmp(ph, "Running") == 0;
        waiting += strcmp(ph, "Pending") == 0;
        succeeded += strcmp(ph, "Succeeded") == 0;
        failed += strcmp(ph, "Failed") == 0;
    }
    W(c, 0, "Name:\t%s\n", S(c, d, v, "metadata.name"));
    W(c, 0, "Namespace:\t%s\n", ns);
    W(c, 0, "Selector:\t%s\n", sel.len ? sel.data : "<none>");
    reef__desc_labels(c, "Labels", d, J(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, J(d, v, "metadata.annotations"));
    const char *cb = reef__desc_controlled_by(c, d, v);
    if (*cb)
        W(c, 0, "Controlled By:\t%s\n", cb);
    W(c, 0, "Replicas:\t%lld current / %lld desired\n", (long long)I(d, v, "status.replicas"),
      (long long)replicas(d, v));
    W(c, 0, "Pods Status:\t");
    if (items < 0)
        W(c, 0, "error in fetching pods: the server could not list them\n");
    else
        W(c, 0, "%d Running / %d Waiting / %d Succeeded / %d Failed\n", running, waiting, succeeded,
          failed);
    reef__desc_pod_template(c, d, J(d, v, "spec.template"));
    conditions_short(c, d, v);
    reef__desc_events(c, d, v, "ReplicaSet", NULL);
    reef_json_doc_free(&pd);
    free(body);
    reef_buf_free(&path);
    reef_buf_free(&sel);
}

static bool zeroish(const struct reef_json_doc *d, int v)
{
    if (v < 0)
        return true;
    switch (reef_json_kind(d, v)) {
    case REEF_JSON_NULL:
        return true;
    case REEF_JSON_BOOL:
        return !reef__db(d, v, "");
    case REEF_JSON_STRING:
        return reef_json_str_eq(d, v, "");
    case REEF_JSON_NUMBER:
        return reef__di(d, v, "") == 0 && reef_json_raw(d, v, &(size_t){0})[0] != '1';
    case REEF_JSON_ARRAY:
    case REEF_JSON_OBJECT:
        return reef_json_count(d, v) == 0;
    default:
        return true;
    }
}

/* apiequality.Semantic.DeepEqual on decoded JSON: a missing field equals its zero value. skip is
 * a label ignored at the top of metadata.labels (the template hash). */
static bool sem_equal(const struct reef_json_doc *a, int va, const struct reef_json_doc *b, int vb,
                      int depth, const char *path)
{
    if (depth > 64)
        return false;
    if (zeroish(a, va) && zeroish(b, vb))
        return true;
    if (va < 0 || vb < 0)
        return false;
    enum reef_json_kind ka = reef_json_kind(a, va), kb = reef_json_kind(b, vb);
    if (ka != kb)
        return false;
    if (ka == REEF_JSON_OBJECT) {
        bool labels = strcmp(path, "metadata.labels") == 0;
        for (int side = 0; side < 2; side++) {
            const struct reef_json_doc *x = side ? b : a, *y = side ? a : b;
            int vx = side ? vb : va, vy = side ? va : vb;
            struct reef_json_iter it = reef_json_iter(x, vx);
            while (reef_json_next(x, &it)) {
                char key[256] = "";
                reef_json_get_str(x, it.key, key, sizeof(key), NULL);
                if (labels && strcmp(key, "pod-template-hash") == 0)
                    continue;
                char sub[512];
                snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
                int my = reef_json_member(y, vy, key);
                if (!sem_equal(x, it.val, y, my, depth + 1, sub))
                    return false;
            }
        }
        return true;
    }
    if (ka == REEF_JSON_ARRAY) {
        int n = reef_json_count(a, va);
        if (n != reef_json_count(b, vb))
            return false;
        for (int i = 0; i < n; i++)
            if (!sem_equal(a, reef_json_index(a, va, (size_t)i), b,
                           reef_json_index(b, vb, (size_t)i), depth + 1, "[]"))
                return false;
        return true;
    }
    return reef_json_equal(a, va, b, vb);
}

struct rs {
    int v;
    int64_t created;
    const char *name;
};

void reef__describe_deployment(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    const char *ns = S(c, d, v, "metadata.namespace");
    struct reef_buf sel;
    reef_buf_init(&sel);
    reef__desc_selector(&sel, d, J(d, v, "spec.selector"));
    W(c, 0, "Name:\t%s\n", S(c, d, v, "metadata.name"));
    W(c, 0, "Namespace:\t%s\n", ns);
    W(c, 0, "CreationTimestamp:\t%s\n", reef__desc_time(c, d, v, "metadata.creationTimestamp"));
    reef__desc_labels(c, "Labels", d, J(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, J(d, v, "metadata.annotations"));
    W(c, 0, "Selector:\t%s\n", sel.data ? sel.data : "");
    W(c, 0,
      "Replicas:\t%lld desired | %lld updated | %lld total | %lld available | %lld unavailable\n",
      (long long)replicas(d, v), (long long)I(d, v, "status.updatedReplicas"),
      (long long)I(d, v, "status.replicas"), (long long)I(d, v, "status.availableReplicas"),
      (long long)I(d, v, "status.unavailableReplicas"));
    W(c, 0, "StrategyType:\t%s\n", S(c, d, v, "spec.strategy.type"));
    W(c, 0, "MinReadySeconds:\t%lld\n", (long long)I(d, v, "spec.minReadySeconds"));
    int ru = J(d, v, "spec.strategy.rollingUpdate");
    if (ru >= 0)
        W(c, 0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n",
          int_or_string(c, d, ru, "maxUnavailable"), int_or_string(c, d, ru, "maxSurge"));
    int tmpl = J(d, v, "spec.template");
    reef__desc_pod_template(c, d, tmpl);
    conditions_short(c, d, v);
    /* its replica sets: listed by its selector, kept when it controls them; kubectl shows every
     * old one, scaled to zero or not */
    struct reef_buf path;
    reef_buf_init(&path);
    reef_buf_puts(&path, "/apis/apps/v1/namespaces/");
    reef_kube_escape(&path, ns);
    reef_buf_puts(&path, "/replicasets?labelSelector=");
    reef_kube_escape(&path, sel.data ? sel.data : "");
    reef_buf_puts(&path, "&limit=500");
    char *body = NULL;
    struct reef_json_doc rd = REEF_JSON_DOC_INIT;
    int items = list_items(c, path.data, &body, &rd);
    int cnt = items >= 0 ? reef_json_count(&rd, items) : 0;
    struct rs *r = calloc((size_t)(cnt > 0 ? cnt : 1), sizeof(*r));
    size_t n = 0;
    const char *uid = S(c, d, v, "metadata.uid");
    struct reef_json_iter it = reef_json_iter(&rd, items);
    while (r && items >= 0 && reef_json_next(&rd, &it) && n < (size_t)cnt) {
        if (!owned_by(c, &rd, it.val, uid))
            continue;
        int64_t ms = 0;
        const char *ts = S(c, &rd, it.val, "metadata.creationTimestamp");
        reef_table_parse_time(ts, strlen(ts), &ms);
        r[n++] = (struct rs){it.val, ms, S(c, &rd, it.val, "metadata.name")};
    }
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0; b--) {
            bool less = r[b].created != r[b - 1].created ? r[b].created < r[b - 1].created
                                                         : strcmp(r[b].name, r[b - 1].name) < 0;
            if (!less)
                break;
            struct rs x = r[b];
            r[b] = r[b - 1];
            r[b - 1] = x;
        }
    long newi = -1;
    for (size_t a = 0; a < n && newi < 0; a++)
        if (sem_equal(&rd, J(&rd, r[a].v, "spec.template"), d, tmpl, 0, ""))
            newi = (long)a;
    if (n > 0) {
        struct reef_buf olds, news;
        reef_buf_init(&olds);
        reef_buf_init(&news);
        for (size_t a = 0; a < n; a++) {
            struct reef_buf *b = (long)a == newi ? &news : &olds;
            reef_buf_printf(b, "%s%s (%lld/%lld replicas created)", b->len ? ", " : "", r[a].name,
                            (long long)I(&rd, r[a].v, "status.replicas"),
                            (long long)replicas(&rd, r[a].v));
        }
        W(c, 0, "OldReplicaSets:\t%s\n", olds.len ? olds.data : "<none>");
        W(c, 0, "NewReplicaSet:\t%s\n", news.len ? news.data : "<none>");
        reef_buf_free(&olds);
        reef_buf_free(&news);
    }
    free(r);
    reef__desc_events(c, d, v, "Deployment", NULL);
    reef_json_doc_free(&rd);
    free(body);
    reef_buf_free(&path);
    reef_buf_free(&sel);
}

/* ---- nodes ---- */

struct res_sum {
    char name[128];
    struct reef__qty req, lim;
    bool has_req, has_lim;
};

static struct res_sum *res_find(struct res_sum *s, size_t *n, size_t cap, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(s[i].name, name) == 0)
            return &s[i];
    if (*n == cap)
        return NULL;
    struct res_sum *r = &s[(*n)++];
    memset(r, 0, sizeof(*r));
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->req.ok = r->lim.ok = true;
    return r;
}

/* PodRequestsAndLimits, for the regular containers (sum) and init containers (max) */
static size_t pod_resources(struct reef__desc *c, const struct reef_json_doc *d, int pod,
                            struct res_sum *s, size_t cap)
{
    size_t n = 0;
    static const char *const lists[] = {"spec.containers", "spec.initContainers"};
    for (int l = 0; l < 2; l++) {
        int arr = J(d, pod, lists[l]);
        struct reef_json_iter it = reef_json_iter(d, arr);
        while (arr >= 0 && reef_json_next(d, &it)) {
            for (int k = 0; k < 2; k++) {
                int m = J(d, it.val, k ? "resources.limits" : "resources.requests");
                struct reef_json_iter mi = reef_json_iter(d, m);
                while (m >= 0 && reef_json_next(d, &mi)) {
                    char name[128] = "";
                    reef_json_get_str(d, mi.key, name, sizeof(name), NULL);
                    struct res_sum *r = res_find(s, &n, cap, name);
                    if (!r)
                        continue;
                    struct reef__qty q = reef__qty_parse(S(c, d, mi.val, ""));
                    struct reef__qty *t = k ? &r->lim : &r->req;
                    bool *has = k ? &r->has_lim : &r->has_req;
                    if (l == 0) {
                        if (!*has)
                            *t = q;
                        else
                            reef__qty_add(t, &q);
                    } else if (!*has || q.nano > t->nano) {
                        *t = q;
                    }
                    *has = true;
                }
            }
        }
    }
    return n;
}

/* int64(float64(part) / float64(whole) * 100) as Go computes it on amd64: a division by zero
 * gives an infinity or NaN, which converts to the lowest int64. */
static int64_t pct_raw(__int128 part, __int128 whole)
{
    double f = (double)part / (double)whole * 100;
    if (isnan(f) || f >= 9223372036854775807.0 || f < -9223372036854775807.0)
        return INT64_MIN;
    return (int64_t)f;
}

/* the same where kubectl checks the divisor first */
static int64_t pct(__int128 part, __int128 whole)
{
    return whole == 0 ? 0 : pct_raw(part, whole);
}

static __int128 milli(const struct reef__qty *q)
{
    return q->nano >= 0 ? (q->nano + 999999) / 1000000 : q->nano / 1000000;
}
static __int128 whole(const struct reef__qty *q)
{
    return q->nano >= 0 ? (q->nano + BILLION - 1) / BILLION : q->nano / BILLION;
}

static const char *qs(struct reef__desc *c, const struct reef__qty *q)
{
    char buf[96];
    reef__qty_string(q, buf, sizeof(buf));
    return reef__desc_keep(c, strdup(buf));
}

static void node_resources(struct reef__desc *c, const struct reef_json_doc *d, int node,
                           const struct reef_json_doc *pd, int items)
{
    int npods = items >= 0 ? reef_json_count(pd, items) : 0;
    W(c, 0, "Non-terminated Pods:\t(%d in total)\n", npods);
    W(c, 1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n");
    W(c, 1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n");
    int alloc = N(d, node, "status.allocatable") > 0 ? J(d, node, "status.allocatable")
                                                     : J(d, node, "status.capacity");
    int x;
    struct reef__qty acpu = reef__qty_parse(
        (x = alloc >= 0 ? reef_json_member(d, alloc, "cpu") : -1) >= 0 ? S(c, d, x, "") : "0");
    struct reef__qty amem = reef__qty_parse(
        (x = alloc >= 0 ? reef_json_member(d, alloc, "memory") : -1) >= 0 ? S(c, d, x, "") : "0");
    struct reef__qty aeph =
        reef__qty_parse((x = alloc >= 0 ? reef_json_member(d, alloc, "ephemeral-storage") : -1) >= 0
                            ? S(c, d, x, "")
                            : "0");
    enum { CAP = 64 };
    struct res_sum tot[CAP];
    size_t ntot = 0;
    struct reef__qty zero = reef__qty_parse("0");
    zero.s = NULL;
    struct reef_json_iter it = reef_json_iter(pd, items);
    while (items >= 0 && reef_json_next(pd, &it)) {
        struct res_sum s[CAP];
        size_t n = pod_resources(c, pd, it.val, s, CAP);
        const struct reef__qty *cr = &zero, *cl = &zero, *mr = &zero, *ml = &zero;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(s[i].name, "cpu") == 0) {
                cr = s[i].has_req ? &s[i].req : &zero;
                cl = s[i].has_lim ? &s[i].lim : &zero;
            } else if (strcmp(s[i].name, "memory") == 0) {
                mr = s[i].has_req ? &s[i].req : &zero;
                ml = s[i].has_lim ? &s[i].lim : &zero;
            }
            struct res_sum *t = res_find(tot, &ntot, CAP, s[i].name);
            if (!t)
                continue;
            for (int k = 0; k < 2; k++) {
                bool has = k ? s[i].has_lim : s[i].has_req;
                if (!has)
                    continue;
                struct reef__qty *dst = k ? &t->lim : &t->req;
                bool *th = k ? &t->has_lim : &t->has_req;
                if (!*th) {
                    *dst = k ? s[i].lim : s[i].req;
                    *th = true;
                } else {
                    reef__qty_add(dst, k ? &s[i].lim : &s[i].req);
                }
            }
        }
        W(c, 1, "%s\t%s\t\t%s (%lld%%)\t%s (%lld%%)\t%s (%lld%%)\t%s (%lld%%)\t%s\n",
          S(c, pd, it.val, "metadata.namespace"), S(c, pd, it.val, "metadata.name"), qs(c, cr),
          (long long)pct_raw(milli(cr), milli(&acpu)), qs(c, cl),
          (long long)pct_raw(milli(cl), milli(&acpu)), qs(c, mr),
          (long long)pct_raw(whole(mr), whole(&amem)), qs(c, ml),
          (long long)pct_raw(whole(ml), whole(&amem)),
          reef__desc_since(c, pd, it.val, "metadata.creationTimestamp"));
    }
    W(c, 0,
      "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n");
    W(c, 1, "Resource\tRequests\tLimits\n");
    W(c, 1, "--------\t--------\t------\n");
    static const char *const std[] = {"cpu", "memory", "ephemeral-storage"};
    const struct reef__qty *al[] = {&acpu, &amem, &aeph};
    for (int i = 0; i < 3; i++) {
        const struct reef__qty *rq = &zero, *lq = &zero;
        for (size_t j = 0; j < ntot; j++)
            if (strcmp(tot[j].name, std[i]) == 0) {
                if (tot[j].has_req)
                    rq = &tot[j].req;
                if (tot[j].has_lim)
                    lq = &tot[j].lim;
            }
        long long pr, pl;
        if (i == 0) {
            pr = pct(milli(rq), milli(al[i]));
            pl = pct(milli(lq), milli(al[i]));
        } else {
            pr = pct(whole(rq), whole(al[i]));
            pl = pct(whole(lq), whole(al[i]));
        }
        W(c, 1, "%s\t%s (%lld%%)\t%s (%lld%%)\n", std[i], qs(c, rq), pr, qs(c, lq), pl);
    }
    /* hugepages first, then the extended resources, each sorted */
    size_t nk;
    const char **keys = reef__desc_keys(c, d, alloc, &nk);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; keys && k < nk; k++) {
            bool huge = strncmp(keys[k], "hugepages-", 10) == 0;
            bool stdr = strcmp(keys[k], "cpu") == 0 || strcmp(keys[k], "memory") == 0 ||
                        strcmp(keys[k], "ephemeral-storage") == 0 || strcmp(keys[k], "pods") == 0;
            if (pass == 0 ? !huge : (huge || stdr))
                continue;
            const struct reef__qty *rq = &zero, *lq = &zero;
            for (size_t j = 0; j < ntot; j++)
                if (strcmp(tot[j].name, keys[k]) == 0) {
                    if (tot[j].has_req)
                        rq = &tot[j].req;
                    if (tot[j].has_lim)
                        lq = &tot[j].lim;
                }
            if (pass == 0) {
                struct reef__qty a =
                    reef__qty_parse(S(c, d, reef_json_member(d, alloc, keys[k]), ""));
                W(c, 1, "%s\t%s (%lld%%)\t%s (%lld%%)\n", keys[k], qs(c, rq),
                  (long long)pct(whole(rq), whole(&a)), qs(c, lq),
                  (long long)pct(whole(lq), whole(&a)));
            } else {
                W(c, 1, "%s\t%s\t%s\n", keys[k], qs(c, rq), qs(c, lq));
            }
        }
    }
}

void reef__describe_node(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    const char *name = S(c, d, v, "metadata.name");
    /* its pods that have not terminated, and its lease */
    struct reef_buf path;
    reef_buf_init(&path);
    reef_buf_puts(&path, "/api/v1/pods?fieldSelector=");
    char *fs = NULL;
    if (asprintf(&fs, "spec.nodeName=%s,status.phase!=Succeeded,status.phase!=Failed", name) >= 0)
        reef_kube_escape(&path, fs);
    free(fs);
    reef_buf_puts(&path, "&limit=500");
    char *pbody = NULL;
    struct reef_json_doc pd = REEF_JSON_DOC_INIT;
    int items = list_items(c, path.data, &pbody, &pd);
    W(c, 0, "Name:\t%s\n", name);
    int labels = J(d, v, "metadata.labels");
    size_t nk;
    const char **keys = reef__desc_keys(c, d, labels, &nk);
    struct reef_buf roles;
    reef_buf_init(&roles);
    const char **rl = calloc(nk + 1, sizeof(*rl));
    size_t nr = 0;
    for (size_t k = 0; rl && keys && k < nk; k++) {
        const char *role = NULL;
        if (strncmp(keys[k], "node-role.kubernetes.io/", 24) == 0 && keys[k][24])
            role = keys[k] + 24;
        else if (strcmp(keys[k], "kubernetes.io/role") == 0)
            role = S(c, d, reef_json_member(d, labels, keys[k]), "");
        if (!role || !*role)
            continue;
        bool dup = false;
        for (size_t j = 0; j < nr; j++)
            dup = dup || strcmp(rl[j], role) == 0;
        if (!dup)
            rl[nr++] = role;
    }
    for (size_t a = 1; a < nr; a++)
        for (size_t b = a; b > 0 && strcmp(rl[b], rl[b - 1]) < 0; b--) {
            const char *t = rl[b];
            rl[b] = rl[b - 1];
            rl[b - 1] = t;
        }
    for (size_t j = 0; j < nr; j++)
        reef_buf_printf(&roles, "%s%s", j ? "," : "", rl[j]);
    free(rl);
    W(c, 0, "Roles:\t%s\n", roles.len ? roles.data : "<none>");
    reef_buf_free(&roles);
    reef__desc_labels(c, "Labels", d, labels);
    reef__desc_annotations(c, "Annotations", d, J(d, v, "metadata.annotations"));
    W(c, 0, "CreationTimestamp:\t%s\n", reef__desc_time(c, d, v, "metadata.creationTimestamp"));
    /* taints sorted by effect,key */
    W(c, 0, "Taints:\t");
    int taints = J(d, v, "spec.taints");
    int nt = N(d, v, "spec.taints");
    if (nt <= 0) {
        W(c, 0, "<none>\n");
    } else {
        char **t = calloc((size_t)nt, sizeof(*t));
        char **sk = calloc((size_t)nt, sizeof(*sk));
        size_t n = 0;
        struct reef_json_iter it = reef_json_iter(d, taints);
        while (t && sk && reef_json_next(d, &it) && n < (size_t)nt) {
            const char *k = S(c, d, it.val, "key"), *val = S(c, d, it.val, "value"),
                       *eff = S(c, d, it.val, "effect");
            if (asprintf(&sk[n], "%s,%s", eff, k) < 0)
                sk[n] = NULL;
            if (asprintf(&t[n], "%s%s%s%s%s", k, *val ? "=" : "", val, *eff ? ":" : "", eff) < 0)
                t[n] = NULL;
            reef__desc_keep(c, sk[n]);
            reef__desc_keep(c, t[n]);
            if (!sk[n] || !t[n])
                continue;
            n++;
        }
        for (size_t a = 1; a < n; a++)
            for (size_t b = a; b > 0 && strcmp(sk[b], sk[b - 1]) < 0; b--) {
                char *x = sk[b];
                sk[b] = sk[b - 1];
                sk[b - 1] = x;
                x = t[b];
                t[b] = t[b - 1];
                t[b - 1] = x;
            }
        for (size_t a = 0; a < n; a++)
            W(c, 0, "%s%s\n", a ? "\t" : "", t[a]);
        free(t);
        free(sk);
    }
    W(c, 0, "Unschedulable:\t%s\n", tf(reef__db(d, v, "spec.unschedulable")));
    reef_buf_reset(&path);
    reef_buf_puts(&path, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/");
    reef_kube_escape(&path, name);
    char *lbody = NULL;
    struct reef_json_doc ld = REEF_JSON_DOC_INIT;
    int rc = reef__desc_get(c, path.data, &lbody, &ld);
    if (rc == 0) {
        W(c, 0, "Lease:\n");
        W(c, 1, "HolderIdentity:\t%s\n",
          J(&ld, 0, "spec.holderIdentity") >= 0 ? S(c, &ld, 0, "spec.holderIdentity") : "<unset>");
        W(c, 1, "AcquireTime:\t%s\n",
          J(&ld, 0, "spec.acquireTime") >= 0 ? reef__desc_time(c, &ld, 0, "spec.acquireTime")
                                             : "<unset>");
        W(c, 1, "RenewTime:\t%s\n",
          J(&ld, 0, "spec.renewTime") >= 0 ? reef__desc_time(c, &ld, 0, "spec.renewTime")
                                           : "<unset>");
    } else if (rc == 404) {
        W(c, 0, "Lease:\tFailed to get lease: leases.coordination.k8s.io \"%s\" not found\n", name);
    } else {
        W(c, 0, "Lease:\tFailed to get lease: the server could not be reached\n");
    }
    reef_json_doc_free(&ld);
    free(lbody);
    int conds = J(d, v, "status.conditions");
    if (N(d, v, "status.conditions") > 0) {
        W(c, 0,
          "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
        W(c, 1, "----\t------\t-----------------\t------------------\t------\t-------\n");
        struct reef_json_iter it = reef_json_iter(d, conds);
        while (reef_json_next(d, &it))
            W(c, 1, "%s \t%s \t%s \t%s \t%s \t%s\n", S(c, d, it.val, "type"),
              S(c, d, it.val, "status"), reef__desc_time(c, d, it.val, "lastHeartbeatTime"),
              reef__desc_time(c, d, it.val, "lastTransitionTime"), S(c, d, it.val, "reason"),
              S(c, d, it.val, "message"));
    }
    W(c, 0, "Addresses:\n");
    int addrs = J(d, v, "status.addresses");
    struct reef_json_iter ai = reef_json_iter(d, addrs);
    while (addrs >= 0 && reef_json_next(d, &ai))
        W(c, 1, "%s:\t%s\n", S(c, d, ai.val, "type"), S(c, d, ai.val, "address"));
    static const char *const rl2[] = {"status.capacity", "status.allocatable"};
    static const char *const rt[] = {"Capacity", "Allocatable"};
    for (int i = 0; i < 2; i++) {
        int m = J(d, v, rl2[i]);
        if (N(d, v, rl2[i]) <= 0)
            continue;
        W(c, 0, "%s:\n", rt[i]);
        const char **rk = reef__desc_keys(c, d, m, &nk);
        for (size_t k = 0; rk && k < nk; k++)
            W(c, 0, "  %s:\t%s\n", rk[k],
              reef__desc_qty_text(c, S(c, d, reef_json_member(d, m, rk[k]), "")));
    }
    W(c, 0, "System Info:\n");
    static const char *const si[][2] = {
        {"Machine ID", "machineID"},
        {"System UUID", "systemUUID"},
        {"Boot ID", "bootID"},
        {"Kernel Version", "kernelVersion"},
        {"OS Image", "osImage"},
        {"Operating System", "operatingSystem"},
        {"Architecture", "architecture"},
        {"Container Runtime Version", "containerRuntimeVersion"},
        {"Kubelet Version", "kubeletVersion"},
        {"Kube-Proxy Version", "kubeProxyVersion"},
    };
    int info = J(d, v, "status.nodeInfo");
    for (size_t i = 0; i < sizeof(si) / sizeof(si[0]); i++)
        W(c, 0, "  %s:\t%s\n", si[i][0], S(c, d, info, si[i][1]));
    if (*S(c, d, v, "spec.podCIDR"))
        W(c, 0, "PodCIDR:\t%s\n", S(c, d, v, "spec.podCIDR"));
    int cidrs = J(d, v, "spec.podCIDRs");
    if (N(d, v, "spec.podCIDRs") > 0) {
        struct reef_buf b;
        reef_buf_init(&b);
        struct reef_json_iter it = reef_json_iter(d, cidrs);
        while (reef_json_next(d, &it))
            reef_buf_printf(&b, "%s%s", it.index ? "," : "", S(c, d, it.val, ""));
        W(c, 0, "PodCIDRs:\t%s\n", b.data ? b.data : "");
        reef_buf_free(&b);
    }
    if (*S(c, d, v, "spec.providerID"))
        W(c, 0, "ProviderID:\t%s\n", S(c, d, v, "spec.providerID"));
    if (items >= 0)
        node_resources(c, d, v, &pd, items);
    else
        W(c, 0, "Pods:\tnot authorized\n");
    reef__desc_events(c, d, v, "Node", NULL);
    reef_json_doc_free(&pd);
    free(pbody);
    reef_buf_free(&path);
}
