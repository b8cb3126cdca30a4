/* endpoints: Endpoints and EndpointSlices for Services with a selector (docs/ENDPOINTS.md).
 *
 * Watches on services and pods only mark Services dirty; a zero-delay timer then syncs each
 * dirty Service once, so a burst of pod changes in one loop turn costs one sync per Service. A
 * sync computes the whole desired content from the store and compares it with what is stored;
 * only a difference is written (PUT with the read resourceVersion, so a concurrent writer makes it
 * fail with 409 and the Service is retried later rather than overwritten blindly). */
#include "orchestrate/endpoints.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "orchestrate/selector.h"

#define MOD "endpoints"
#define MANAGED_BY "endpointslice-controller.k8s.io"
#define LABEL_SERVICE "kubernetes.io/service-name"
#define LABEL_MANAGED "endpointslice.kubernetes.io/managed-by"
#define LABEL_HEADLESS "service.kubernetes.io/headless"
#define RETRY_MS 1000

/* What the controller remembers of a Service between syncs: enough to route a pod's change to
 * the Services it concerns (its selector, and the pods its endpoints list now, which a pod that
 * stopped matching is still among). */
struct svc {
    char *ns, *name;
    struct reef_label_selector *sel; /* NULL: no selector, not ours */
    char **members;
    size_t nmembers;
};

struct key {
    char *ns, *name;
};

struct reef_endpoints {
    struct reef_ctl_env env;
    struct reef_store_watch *wsvc, *wpod;
    uv_timer_t timer;
    uint64_t due; /* loop time the armed timer fires at */
    bool armed;
    struct svc **svcs;
    size_t nsvcs;
    struct key *dirty;
    size_t ndirty, capdirty;
};

/* ---- the Service cache and the dirty set ---- */

static void svc_members_clear(struct svc *s)
{
    for (size_t i = 0; i < s->nmembers; i++)
        free(s->members[i]);
    free(s->members);
    s->members = NULL;
    s->nmembers = 0;
}

static void svc_free(struct svc *s)
{
    if (!s)
        return;
    svc_members_clear(s);
    reef_label_selector_free(s->sel);
    free(s->ns);
    free(s->name);
    free(s);
}

static struct svc *svc_find(struct reef_endpoints *e, const char *ns, const char *name,
                            size_t *at)
{
    for (size_t i = 0; i < e->nsvcs; i++) {
        if (strcmp(e->svcs[i]->ns, ns) == 0 && strcmp(e->svcs[i]->name, name) == 0) {
            if (at)
                *at = i;
            return e->svcs[i];
        }
    }
    return NULL;
}

static void svc_remove(struct reef_endpoints *e, const char *ns, const char *name)
{
    size_t at;
    struct svc *s = svc_find(e, ns, name, &at);
    if (!s)
        return;
    svc_free(s);
    e->svcs[at] = e->svcs[--e->nsvcs];
}

static struct svc *svc_get(struct reef_endpoints *e, const char *ns, const char *name)
{
    struct svc *s = svc_find(e, ns, name, NULL);
    if (s)
        return s;
    struct svc **n = realloc(e->svcs, (e->nsvcs + 1) * sizeof(*n));
    if (!n)
        return NULL;
    e->svcs = n;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->ns = strdup(ns);
    s->name = strdup(name);
    if (!s->ns || !s->name) {
        svc_free(s);
        return NULL;
    }
    e->svcs[e->nsvcs++] = s;
    return s;
}

static bool svc_has_member(const struct svc *s, const char *pod)
{
    for (size_t i = 0; i < s->nmembers; i++)
        if (strcmp(s->members[i], pod) == 0)
            return true;
    return false;
}

static void on_timer(uv_timer_t *t);

static void arm(struct reef_endpoints *e, uint64_t delay)
{
    uint64_t due = uv_now(e->env.loop) + delay;
    if (e->armed && e->due <= due)
        return;
    e->armed = true;
    e->due = due;
    uv_timer_start(&e->timer, on_timer, delay, 0);
}

static void mark(struct reef_endpoints *e, const char *ns, const char *name, uint64_t delay)
{
    for (size_t i = 0; i < e->ndirty; i++)
        if (strcmp(e->dirty[i].ns, ns) == 0 && strcmp(e->dirty[i].name, name) == 0) {
            arm(e, delay);
            return;
        }
    if (e->ndirty == e->capdirty) {
        size_t cap = e->capdirty ? e->capdirty * 2 : 16;
        struct key *n = realloc(e->dirty, cap * sizeof(*n));
        if (!n) {
            LOG_ERROR(MOD, "out of memory: service %s/%s not synced", ns, name);
            return;
        }
        e->dirty = n;
        e->capdirty = cap;
    }
    struct key k = {strdup(ns), strdup(name)};
    if (!k.ns || !k.name) {
        free(k.ns);
        free(k.name);
        LOG_ERROR(MOD, "out of memory: service %s/%s not synced", ns, name);
        return;
    }
    e->dirty[e->ndirty++] = k;
    arm(e, delay);
}

/* ---- small JSON helpers ---- */

static void str_at(const struct reef_json_doc *d, int obj, const char *path, char *out,
                   size_t size)
{
    out[0] = 0;
    int v = obj >= 0 ? reef_json_find(d, obj, path, NULL) : -ENOENT;
    if (v >= 0 && reef_json_get_str(d, v, out, size, NULL) < 0)
        out[0] = 0;
}

static int64_t int_at(const struct reef_json_doc *d, int obj, const char *path)
{
    int64_t n = 0;
    int v = reef_json_find(d, obj, path, NULL);
    if (v < 0 || reef_json_get_int(d, v, &n, NULL) < 0)
        return 0;
    return n;
}

/* A value absent, null, or an empty array or object: Go's nil and empty slices alike. */
static bool empty_value(const struct reef_json_doc *d, int v)
{
    if (v < 0)
        return true;
    enum reef_json_kind k = reef_json_kind(d, v);
    if (k == REEF_JSON_NULL)
        return true;
    return (k == REEF_JSON_ARRAY || k == REEF_JSON_OBJECT) && reef_json_count(d, v) == 0;
}

/* Whether member key of a's object va equals that of b's vb, absent and empty being equal. */
static bool same_member(const struct reef_json_doc *a, int va, const struct reef_json_doc *b,
                        int vb, const char *key)
{
    int x = reef_json_member(a, va, key), y = reef_json_member(b, vb, key);
    if (empty_value(a, x) || empty_value(b, y))
        return empty_value(a, x) && empty_value(b, y);
    return reef_json_equal(a, x, b, y);
}

/* ---- a Service's desired endpoints ---- */

struct sport {
    char name[64], protocol[16], target_name[64];
    char *app_protocol;
    int64_t port, target;
};

struct pod {
    char name[254], uid[REEF_STORE_UID_LEN + 1], ip[64], node[254];
    bool ready;
    int64_t *ports; /* per Service port: the resolved target port, 0 when it does not resolve */
    size_t set;     /* its group: pods with the same resolved ports share one */
};

struct desired {
    struct sport *ports;
    size_t nports;
    bool headless, publish_not_ready;
    const struct reef_label_selector *sel;
    const char *ns;
    struct pod *pods;
    size_t npods;
    int err;
};

static void desired_free(struct desired *w)
{
    for (size_t i = 0; i < w->nports; i++)
        free(w->ports[i].app_protocol);
    free(w->ports);
    for (size_t i = 0; i < w->npods; i++)
        free(w->pods[i].ports);
    free(w->pods);
}

static int read_ports(const struct reef_json_doc *d, struct desired *w)
{
    int arr = reef_json_find(d, REEF_JSON_ROOT, "spec.ports", NULL);
    int n = arr >= 0 ? reef_json_count(d, arr) : 0;
    if (n <= 0)
        return 0;
    w->ports = calloc((size_t)n, sizeof(*w->ports));
    if (!w->ports)
        return -ENOMEM;
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it) && w->nports < (size_t)n) {
        struct sport *p = &w->ports[w->nports++];
        str_at(d, it.val, "name", p->name, sizeof(p->name));
        str_at(d, it.val, "protocol", p->protocol, sizeof(p->protocol));
        if (!p->protocol[0])
            strcpy(p->protocol, "TCP");
        p->port = int_at(d, it.val, "port");
        int tp = reef_json_member(d, it.val, "targetPort");
        if (tp >= 0 && reef_json_kind(d, tp) == REEF_JSON_STRING)
            reef_json_get_str(d, tp, p->target_name, sizeof(p->target_name), NULL);
        else if (tp >= 0)
            reef_json_get_int(d, tp, &p->target, NULL);
        if (!p->target_name[0] && p->target <= 0)
            p->target = p->port;
        int ap = reef_json_member(d, it.val, "appProtocol");
        if (ap >= 0 && reef_json_kind(d, ap) == REEF_JSON_STRING)
            reef_json_get_strdup(d, ap, &p->app_protocol, NULL);
    }
    return 0;
}

/* podutil.FindPort: a named target port is the container port of that name and protocol. */
static int64_t find_port(const struct reef_json_doc *d, const struct sport *p)
{
    if (!p->target_name[0])
        return p->target;
    int cs = reef_json_find(d, REEF_JSON_ROOT, "spec.containers", NULL);
    struct reef_json_iter c = reef_json_iter(d, cs);
    while (cs >= 0 && reef_json_next(d, &c)) {
        int ps = reef_json_member(d, c.val, "ports");
        struct reef_json_iter it = reef_json_iter(d, ps);
        while (ps >= 0 && reef_json_next(d, &it)) {
            char name[64], proto[16];
            str_at(d, it.val, "name", name, sizeof(name));
            str_at(d, it.val, "protocol", proto, sizeof(proto));
            if (strcmp(name, p->target_name) == 0 &&
                strcmp(proto[0] ? proto : "TCP", p->protocol) == 0)
                return int_at(d, it.val, "containerPort");
        }
    }
    return 0;
}

static bool pod_ready(const struct reef_json_doc *d)
{
    int cs = reef_json_find(d, REEF_JSON_ROOT, "status.conditions", NULL);
    struct reef_json_iter it = reef_json_iter(d, cs);
    while (cs >= 0 && reef_json_next(d, &it)) {
        if (reef_json_str_eq(d, reef_json_member(d, it.val, "type"), "Ready"))
            return reef_json_str_eq(d, reef_json_member(d, it.val, "status"), "True");
    }
    return false;
}

static int add_pod(void *arg, const struct reef_store_item *item)
{
    struct desired *w = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, item->object, item->len, NULL, NULL) < 0)
        return 0;
    int labels = reef_json_find(&d, REEF_JSON_ROOT, "metadata.labels", NULL);
    char phase[32];
    str_at(&d, REEF_JSON_ROOT, "status.phase", phase, sizeof(phase));
    struct pod p = {0};
    str_at(&d, REEF_JSON_ROOT, "status.podIP", p.ip, sizeof(p.ip));
    /* endpointsliceutil.ShouldPodBeInEndpoints: an address, not finished, not being deleted */
    if (!reef_label_selector_matches(w->sel, &d, labels) || !p.ip[0] ||
        strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0 ||
        reef_json_find(&d, REEF_JSON_ROOT, "metadata.deletionTimestamp", NULL) >= 0)
        goto out;
    str_at(&d, REEF_JSON_ROOT, "metadata.name", p.name, sizeof(p.name));
    str_at(&d, REEF_JSON_ROOT, "metadata.uid", p.uid, sizeof(p.uid));
    str_at(&d, REEF_JSON_ROOT, "spec.nodeName", p.node, sizeof(p.node));
    p.ready = pod_ready(&d);
    size_t resolved = 0;
    if (w->nports) {
        p.ports = calloc(w->nports, sizeof(*p.ports));
        if (!p.ports) {
            w->err = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < w->nports; i++)
            if ((p.ports[i] = find_port(&d, &w->ports[i])) > 0)
                resolved++;
    }
    /* a pod none of whose ports resolve serves nothing; only a headless Service without ports
     * lists bare addresses */
    if (w->nports ? resolved == 0 : !w->headless) {
        free(p.ports);
        goto out;
    }
    struct pod *n = realloc(w->pods, (w->npods + 1) * sizeof(*n));
    if (!n) {
        free(p.ports);
        w->err = -ENOMEM;
        goto out;
    }
    w->pods = n;
    w->pods[w->npods++] = p;
out:
    reef_json_doc_free(&d);
    return 0;
}

static int cmp_ip(const char *a, const char *b)
{
    struct in_addr x, y;
    if (inet_pton(AF_INET, a, &x) == 1 && inet_pton(AF_INET, b, &y) == 1) {
        uint32_t p = ntohl(x.s_addr), q = ntohl(y.s_addr);
        return (p > q) - (p < q);
    }
    return strcmp(a, b);
}

static int cmp_pod(const void *a, const void *b)
{
    const struct pod *x = a, *y = b;
    int c = cmp_ip(x->ip, y->ip);
    return c ? c : strcmp(x->uid, y->uid);
}

static bool same_set(const struct pod *a, const struct pod *b, size_t n)
{
    return n == 0 || memcmp(a->ports, b->ports, n * sizeof(*a->ports)) == 0;
}

/* Groups the pods by their resolved ports (RepackSubsets), in address order. */
static size_t group_pods(struct desired *w)
{
    if (w->npods)
        qsort(w->pods, w->npods, sizeof(*w->pods), cmp_pod);
    size_t nsets = 0;
    for (size_t i = 0; i < w->npods; i++) {
        size_t j = 0;
        for (; j < i; j++)
            if (same_set(&w->pods[j], &w->pods[i], w->nports))
                break;
        w->pods[i].set = j < i ? w->pods[j].set : nsets++;
    }
    return nsets;
}

static void put_target_ref(struct reef_json_writer *jw, const struct desired *w,
                           const struct pod *p)
{
    reef_json_key(jw, "targetRef");
    reef_json_begin_object(jw);
    reef_json_key(jw, "kind");
    reef_json_put_str(jw, "Pod");
    reef_json_key(jw, "namespace");
    reef_json_put_str(jw, w->ns);
    reef_json_key(jw, "name");
    reef_json_put_str(jw, p->name);
    reef_json_key(jw, "uid");
    reef_json_put_str(jw, p->uid);
    reef_json_end_object(jw);
}

static void put_ports(struct reef_json_writer *jw, const struct desired *w, const struct pod *p)
{
    reef_json_begin_array(jw);
    for (size_t i = 0; p && i < w->nports; i++) {
        if (p->ports[i] <= 0)
            continue;
        reef_json_begin_object(jw);
        if (w->ports[i].name[0]) {
            reef_json_key(jw, "name");
            reef_json_put_str(jw, w->ports[i].name);
        }
        reef_json_key(jw, "port");
        reef_json_put_int(jw, p->ports[i]);
        reef_json_key(jw, "protocol");
        reef_json_put_str(jw, w->ports[i].protocol);
        if (w->ports[i].app_protocol) {
            reef_json_key(jw, "appProtocol");
            reef_json_put_str(jw, w->ports[i].app_protocol);
        }
        reef_json_end_object(jw);
    }
    reef_json_end_array(jw);
}

static void put_addresses(struct reef_json_writer *jw, const struct desired *w, size_t set,
                          bool ready)
{
    reef_json_begin_array(jw);
    for (size_t i = 0; i < w->npods; i++) {
        const struct pod *p = &w->pods[i];
        if (p->set != set || (p->ready || w->publish_not_ready) != ready)
            continue;
        reef_json_begin_object(jw);
        reef_json_key(jw, "ip");
        reef_json_put_str(jw, p->ip);
        if (p->node[0]) {
            reef_json_key(jw, "nodeName");
            reef_json_put_str(jw, p->node);
        }
        put_target_ref(jw, w, p);
        reef_json_end_object(jw);
    }
    reef_json_end_array(jw);
}

/* Endpoints' subsets: one per group of pods with the same ports. */
static void put_subsets(struct reef_json_writer *jw, const struct desired *w, size_t nsets)
{
    reef_json_begin_array(jw);
    for (size_t s = 0; s < nsets; s++) {
        const struct pod *first = NULL;
        size_t nready = 0, nnot = 0;
        for (size_t i = 0; i < w->npods; i++) {
            if (w->pods[i].set != s)
                continue;
            if (!first)
                first = &w->pods[i];
            if (w->pods[i].ready || w->publish_not_ready)
                nready++;
            else
                nnot++;
        }
        reef_json_begin_object(jw);
        if (nready) {
            reef_json_key(jw, "addresses");
            put_addresses(jw, w, s, true);
        }
        if (nnot) {
            reef_json_key(jw, "notReadyAddresses");
            put_addresses(jw, w, s, false);
        }
        if (w->nports) {
            reef_json_key(jw, "ports");
            put_ports(jw, w, first);
        }
        reef_json_end_object(jw);
    }
    reef_json_end_array(jw);
}

/* The slice lists the largest group (one slice per Service: pods whose named ports resolve
 * differently from that group's are in the Endpoints only). */
static size_t slice_set(const struct desired *w, size_t nsets)
{
    size_t best = 0, bestn = 0;
    for (size_t s = 0; s < nsets; s++) {
        size_t n = 0;
        for (size_t i = 0; i < w->npods; i++)
            n += w->pods[i].set == s;
        if (n > bestn)
            best = s, bestn = n;
    }
    return best;
}

static void put_slice_endpoints(struct reef_json_writer *jw, const struct desired *w, size_t set)
{
    reef_json_begin_array(jw);
    for (size_t i = 0; i < w->npods; i++) {
        const struct pod *p = &w->pods[i];
        if (p->set != set)
            continue;
        reef_json_begin_object(jw);
        reef_json_key(jw, "addresses");
        reef_json_begin_array(jw);
        reef_json_put_str(jw, p->ip);
        reef_json_end_array(jw);
        reef_json_key(jw, "conditions");
        reef_json_begin_object(jw);
        reef_json_key(jw, "ready");
        reef_json_put_bool(jw, p->ready || w->publish_not_ready);
        reef_json_key(jw, "serving");
        reef_json_put_bool(jw, p->ready);
        reef_json_key(jw, "terminating");
        reef_json_put_bool(jw, false);
        reef_json_end_object(jw);
        if (p->node[0]) {
            reef_json_key(jw, "nodeName");
            reef_json_put_str(jw, p->node);
        }
        put_target_ref(jw, w, p);
        reef_json_end_object(jw);
    }
    reef_json_end_array(jw);
}

/* The Service's labels, the headless marker as upstream sets it, then extra pairs. */
static void put_labels(struct reef_json_writer *jw, const struct reef_json_doc *svc,
                       bool headless, const char *const *extra)
{
    reef_json_begin_object(jw);
    int l = reef_json_find(svc, REEF_JSON_ROOT, "metadata.labels", NULL);
    struct reef_json_iter it = reef_json_iter(svc, l);
    while (l >= 0 && reef_json_next(svc, &it)) {
        if (reef_json_str_eq(svc, it.key, LABEL_HEADLESS))
            continue;
        bool overridden = false;
        for (size_t i = 0; extra && extra[i]; i += 2)
            overridden |= reef_json_str_eq(svc, it.key, extra[i]);
        if (overridden)
            continue;
        reef_json_key_from(jw, svc, it.key);
        reef_json_put_value(jw, svc, it.val);
    }
    if (headless) {
        reef_json_key(jw, LABEL_HEADLESS);
        reef_json_put_str(jw, "");
    }
    for (size_t i = 0; extra && extra[i]; i += 2) {
        reef_json_key(jw, extra[i]);
        reef_json_put_str(jw, extra[i + 1]);
    }
    reef_json_end_object(jw);
}

/* ---- writes ---- */

static int call(struct reef_endpoints *e, const char *method, const char *target,
                const struct reef_buf *body, struct reef_err *err)
{
    int st = reef_ctl_call(&e->env, method, target, NULL, body ? body->data : NULL,
                           body ? body->len : 0, NULL, err);
    if (st < 0)
        return st;
    if (st == 404 && strcmp(method, "DELETE") == 0)
        return 0;
    if (st >= 300) {
        reef_err_wrap(err, "%s %s: %d", method, target, st);
        return -EIO;
    }
    return 0;
}

/* The Endpoints object: created, replaced when its subsets or labels differ, else untouched. */
static int write_endpoints(struct reef_endpoints *e, const struct reef_json_doc *svc,
                           const char *ns, const char *name, const struct desired *w,
                           size_t nsets, struct reef_err *err)
{
    char *cur = NULL;
    size_t curlen = 0;
    int rc = reef_store_get(e->env.store, "endpoints", ns, name, &cur, &curlen, NULL, err);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    struct reef_json_doc old = REEF_JSON_DOC_INIT, want = REEF_JSON_DOC_INIT;
    struct reef_buf b = REEF_BUF_INIT, path = REEF_BUF_INIT;
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, &b, 0);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "apiVersion");
    reef_json_put_str(&jw, "v1");
    reef_json_key(&jw, "kind");
    reef_json_put_str(&jw, "Endpoints");
    reef_json_key(&jw, "metadata");
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "name");
    reef_json_put_str(&jw, name);
    reef_json_key(&jw, "namespace");
    reef_json_put_str(&jw, ns);
    if (cur && reef_json_parse(&old, cur, curlen, NULL, NULL) == 0) {
        /* a replacement keeps what others put there, and fails on a concurrent change */
        int md = reef_json_member(&old, REEF_JSON_ROOT, "metadata");
        int v = reef_json_member(&old, md, "resourceVersion");
        if (v >= 0) {
            reef_json_key(&jw, "resourceVersion");
            reef_json_put_value(&jw, &old, v);
        }
        v = reef_json_member(&old, md, "annotations");
        if (v >= 0) {
            reef_json_key(&jw, "annotations");
            reef_json_put_value(&jw, &old, v);
        }
    }
    reef_json_key(&jw, "labels");
    put_labels(&jw, svc, w->headless, NULL);
    reef_json_end_object(&jw);
    if (nsets) {
        reef_json_key(&jw, "subsets");
        put_subsets(&jw, w, nsets);
    }
    reef_json_end_object(&jw);
    rc = reef_json_finish(&jw, err);
    if (rc < 0)
        goto out;
    rc = reef_json_parse(&want, b.data, b.len, NULL, err);
    if (rc < 0)
        goto out;
    reef_buf_printf(&path, "/api/v1/namespaces/%s/endpoints", ns);
    if (!cur) {
        rc = call(e, "POST", path.data, &b, err);
        goto out;
    }
    int om = reef_json_member(&old, REEF_JSON_ROOT, "metadata");
    int wm = reef_json_member(&want, REEF_JSON_ROOT, "metadata");
    if (same_member(&old, REEF_JSON_ROOT, &want, REEF_JSON_ROOT, "subsets") &&
        same_member(&old, om, &want, wm, "labels"))
        goto out;
    reef_buf_printf(&path, "/%s", name);
    rc = call(e, "PUT", path.data, &b, err);
out:
    reef_json_doc_free(&old);
    reef_json_doc_free(&want);
    reef_buf_free(&b);
    reef_buf_free(&path);
    free(cur);
    return rc;
}

struct slices {
    char **names;
    char **objects;
    size_t n;
};

static int collect_slice(void *arg, const struct reef_store_item *it)
{
    struct slices *s = arg;
    char **n = realloc(s->names, (s->n + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    s->names = n;
    char **o = realloc(s->objects, (s->n + 1) * sizeof(*o));
    if (!o)
        return -ENOMEM;
    s->objects = o;
    s->names[s->n] = strdup(it->name);
    s->objects[s->n] = reef_strndup(it->object, it->len);
    if (!s->names[s->n] || !s->objects[s->n]) {
        free(s->names[s->n]);
        free(s->objects[s->n]);
        return -ENOMEM;
    }
    s->n++;
    return 0;
}

static void slices_free(struct slices *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->objects[i]);
    }
    free(s->names);
    free(s->objects);
}

static int list_slices(struct reef_endpoints *e, const char *ns, const char *name,
                       struct slices *out, struct reef_err *err)
{
    struct reef_store_label l[2] = {{LABEL_SERVICE, name}, {LABEL_MANAGED, MANAGED_BY}};
    struct reef_store_list_opts o = {.namespace = ns, .labels = l, .nlabels = 2};
    return reef_store_list(e->env.store, "endpointslices.discovery.k8s.io", &o, collect_slice,
                           out, NULL, err);
}

static int delete_slice(struct reef_endpoints *e, const char *ns, const char *name,
                        struct reef_err *err)
{
    struct reef_buf path = REEF_BUF_INIT;
    reef_buf_printf(&path, "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s", ns, name);
    int rc = call(e, "DELETE", path.data, NULL, err);
    reef_buf_free(&path);
    return rc;
}

/* The Service's one slice: created with generateName, replaced when it differs; extra managed
 * slices (from an earlier writer) are deleted. */
static int write_slice(struct reef_endpoints *e, const struct reef_json_doc *svc, const char *ns,
                       const char *name, const struct desired *w, size_t nsets,
                       struct reef_err *err)
{
    struct slices have = {0};
    int rc = list_slices(e, ns, name, &have, err);
    if (rc < 0) {
        slices_free(&have);
        return rc;
    }
    struct reef_json_doc old = REEF_JSON_DOC_INIT, want = REEF_JSON_DOC_INIT;
    struct reef_buf b = REEF_BUF_INIT, path = REEF_BUF_INIT;
    char uid[REEF_STORE_UID_LEN + 1];
    str_at(svc, REEF_JSON_ROOT, "metadata.uid", uid, sizeof(uid));
    bool have_old = have.n && reef_json_parse(&old, have.objects[0], strlen(have.objects[0]),
                                              NULL, NULL) == 0;
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, &b, 0);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "apiVersion");
    reef_json_put_str(&jw, "discovery.k8s.io/v1");
    reef_json_key(&jw, "kind");
    reef_json_put_str(&jw, "EndpointSlice");
    reef_json_key(&jw, "metadata");
    reef_json_begin_object(&jw);
    if (have_old) {
        int md = reef_json_member(&old, REEF_JSON_ROOT, "metadata");
        reef_json_key(&jw, "name");
        reef_json_put_str(&jw, have.names[0]);
        static const char *const keep[] = {"resourceVersion", "annotations", NULL};
        for (size_t i = 0; keep[i]; i++) {
            int v = reef_json_member(&old, md, keep[i]);
            if (v >= 0) {
                reef_json_key(&jw, keep[i]);
                reef_json_put_value(&jw, &old, v);
            }
        }
    } else {
        char gen[REEF_STORE_MAX_NAME + 1];
        /* upstream's generateName: the Service's name cut so the suffix fits */
        snprintf(gen, sizeof(gen), "%.*s-", 57, name);
        reef_json_key(&jw, "generateName");
        reef_json_put_str(&jw, gen);
    }
    reef_json_key(&jw, "namespace");
    reef_json_put_str(&jw, ns);
    reef_json_key(&jw, "labels");
    static const char *const extra[] = {LABEL_SERVICE, NULL, LABEL_MANAGED, MANAGED_BY, NULL};
    const char *ex[5];
    memcpy(ex, extra, sizeof(ex));
    ex[1] = name;
    put_labels(&jw, svc, w->headless, ex);
    reef_json_key(&jw, "ownerReferences");
    reef_json_begin_array(&jw);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "apiVersion");
    reef_json_put_str(&jw, "v1");
    reef_json_key(&jw, "kind");
    reef_json_put_str(&jw, "Service");
    reef_json_key(&jw, "name");
    reef_json_put_str(&jw, name);
    reef_json_key(&jw, "uid");
    reef_json_put_str(&jw, uid);
    reef_json_key(&jw, "controller");
    reef_json_put_bool(&jw, true);
    reef_json_key(&jw, "blockOwnerDeletion");
    reef_json_put_bool(&jw, true);
    reef_json_end_object(&jw);
    reef_json_end_array(&jw);
    reef_json_end_object(&jw);
    reef_json_key(&jw, "addressType");
    reef_json_put_str(&jw, "IPv4");
    size_t set = slice_set(w, nsets);
    reef_json_key(&jw, "endpoints");
    put_slice_endpoints(&jw, w, nsets ? set : (size_t)-1);
    reef_json_key(&jw, "ports");
    const struct pod *first = NULL;
    for (size_t i = 0; nsets && i < w->npods && !first; i++)
        if (w->pods[i].set == set)
            first = &w->pods[i];
    put_ports(&jw, w, first);
    reef_json_end_object(&jw);
    rc = reef_json_finish(&jw, err);
    if (rc < 0)
        goto out;
    rc = reef_json_parse(&want, b.data, b.len, NULL, err);
    if (rc < 0)
        goto out;
    reef_buf_printf(&path, "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices", ns);
    if (!have_old) {
        rc = call(e, "POST", path.data, &b, err);
    } else {
        int om = reef_json_member(&old, REEF_JSON_ROOT, "metadata");
        int wm = reef_json_member(&want, REEF_JSON_ROOT, "metadata");
        static const char *const top[] = {"addressType", "endpoints", "ports", NULL};
        bool same = same_member(&old, om, &want, wm, "labels") &&
                    same_member(&old, om, &want, wm, "ownerReferences");
        for (size_t i = 0; same && top[i]; i++)
            same = same_member(&old, REEF_JSON_ROOT, &want, REEF_JSON_ROOT, top[i]);
        if (!same) {
            reef_buf_printf(&path, "/%s", have.names[0]);
            rc = call(e, "PUT", path.data, &b, err);
        }
    }
    for (size_t i = have_old ? 1 : 0; rc == 0 && i < have.n; i++)
        rc = delete_slice(e, ns, have.names[i], err);
out:
    reef_json_doc_free(&old);
    reef_json_doc_free(&want);
    reef_buf_free(&b);
    reef_buf_free(&path);
    slices_free(&have);
    return rc;
}

/* The Service is gone: its Endpoints (when it had a selector, so they were ours) and slices. */
static int remove_service(struct reef_endpoints *e, const char *ns, const char *name,
                          bool had_selector, struct reef_err *err)
{
    int rc = 0;
    if (had_selector) {
        struct reef_buf path = REEF_BUF_INIT;
        reef_buf_printf(&path, "/api/v1/namespaces/%s/endpoints/%s", ns, name);
        char *cur = NULL;
        if (reef_store_get(e->env.store, "endpoints", ns, name, &cur, NULL, NULL, NULL) == 0)
            rc = call(e, "DELETE", path.data, NULL, err);
        free(cur);
        reef_buf_free(&path);
    }
    struct slices have = {0};
    if (rc == 0)
        rc = list_slices(e, ns, name, &have, err);
    for (size_t i = 0; rc == 0 && i < have.n; i++)
        rc = delete_slice(e, ns, have.names[i], err);
    slices_free(&have);
    return rc;
}

static int sync_service(struct reef_endpoints *e, const char *ns, const char *name,
                        struct reef_err *err)
{
    struct svc *cached = svc_find(e, ns, name, NULL);
    char *obj = NULL;
    size_t len = 0;
    int rc = reef_store_get(e->env.store, "services", ns, name, &obj, &len, NULL, err);
    if (rc == -ENOENT) {
        rc = remove_service(e, ns, name, cached && cached->sel, err);
        if (rc == 0)
            svc_remove(e, ns, name);
        return rc;
    }
    if (rc < 0)
        return rc;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct desired w = {.ns = ns};
    rc = reef_json_parse(&d, obj, len, NULL, err);
    if (rc < 0)
        goto out;
    struct svc *s = svc_get(e, ns, name);
    if (!s) {
        rc = reef_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    /* the selector as stored now (the watch may have fallen behind) */
    reef_label_selector_free(s->sel);
    s->sel = NULL;
    int sel = reef_json_find(&d, REEF_JSON_ROOT, "spec.selector", NULL);
    if (empty_value(&d, sel)) {
        svc_members_clear(s);
        goto out;
    }
    rc = reef_label_selector_from_map(&d, sel, &s->sel, err);
    if (rc < 0)
        goto out;
    char cip[64];
    str_at(&d, REEF_JSON_ROOT, "spec.clusterIP", cip, sizeof(cip));
    w.headless = strcmp(cip, "None") == 0;
    bool pna = false;
    int v = reef_json_find(&d, REEF_JSON_ROOT, "spec.publishNotReadyAddresses", NULL);
    if (v >= 0)
        reef_json_get_bool(&d, v, &pna, NULL);
    w.publish_not_ready = pna;
    w.sel = s->sel;
    rc = read_ports(&d, &w);
    if (rc < 0)
        goto out;
    struct reef_store_list_opts o = {.namespace = ns};
    rc = reef_store_list(e->env.store, "pods", &o, add_pod, &w, NULL, err);
    if (rc == 0 && w.err)
        rc = reef_err_set(err, w.err, "out of memory");
    if (rc < 0)
        goto out;
    size_t nsets = group_pods(&w);
    rc = write_endpoints(e, &d, ns, name, &w, nsets, err);
    if (rc == 0)
        rc = write_slice(e, &d, ns, name, &w, nsets, err);
    /* the members are what the next pod change is routed by, whatever was written */
    svc_members_clear(s);
    s->members = calloc(w.npods ? w.npods : 1, sizeof(*s->members));
    for (size_t i = 0; s->members && i < w.npods; i++)
        if ((s->members[s->nmembers] = strdup(w.pods[i].name)))
            s->nmembers++;
out:
    desired_free(&w);
    reef_json_doc_free(&d);
    free(obj);
    return rc;
}

static void on_timer(uv_timer_t *t)
{
    struct reef_endpoints *e = t->data;
    e->armed = false;
    /* syncs write, and writes may mark more Services: work on a list of our own */
    struct key *todo = e->dirty;
    size_t n = e->ndirty;
    e->dirty = NULL;
    e->ndirty = e->capdirty = 0;
    for (size_t i = 0; i < n; i++) {
        struct reef_err err = {0};
        if (sync_service(e, todo[i].ns, todo[i].name, &err) < 0) {
            LOG_WARN(MOD, "service %s/%s: %s (retrying)", todo[i].ns, todo[i].name, err.msg);
            mark(e, todo[i].ns, todo[i].name, RETRY_MS);
        }
        free(todo[i].ns);
        free(todo[i].name);
    }
    free(todo);
}

/* ---- watches ---- */

static void on_service(void *arg, const struct reef_store_event *ev)
{
    struct reef_endpoints *e = arg;
    mark(e, ev->namespace, ev->name, 0);
}

static void on_pod(void *arg, const struct reef_store_event *ev)
{
    struct reef_endpoints *e = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, ev->object, ev->len, NULL, NULL) < 0)
        return;
    int labels = reef_json_find(&d, REEF_JSON_ROOT, "metadata.labels", NULL);
    for (size_t i = 0; i < e->nsvcs; i++) {
        struct svc *s = e->svcs[i];
        if (!s->sel || strcmp(s->ns, ev->namespace) != 0)
            continue;
        if (reef_label_selector_matches(s->sel, &d, labels) || svc_has_member(s, ev->name))
            mark(e, s->ns, s->name, 0);
    }
    reef_json_doc_free(&d);
}

/* Every Service now, and slices of ours whose Service went while the controller was not
 * running. */
static int mark_all(void *arg, const struct reef_store_item *it)
{
    struct reef_endpoints *e = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, it->object, it->len, NULL, NULL) == 0) {
        int sel = reef_json_find(&d, REEF_JSON_ROOT, "spec.selector", NULL);
        struct svc *s = svc_get(e, it->namespace, it->name);
        if (s && !empty_value(&d, sel) && !s->sel)
            reef_label_selector_from_map(&d, sel, &s->sel, NULL);
    }
    reef_json_doc_free(&d);
    mark(e, it->namespace, it->name, 0);
    return 0;
}

static int mark_orphan(void *arg, const struct reef_store_item *it)
{
    struct reef_endpoints *e = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, it->object, it->len, NULL, NULL) == 0) {
        char svc[254];
        str_at(&d, REEF_JSON_ROOT, "metadata.labels[\"" LABEL_SERVICE "\"]", svc, sizeof(svc));
        if (svc[0] && !svc_find(e, it->namespace, svc, NULL))
            mark(e, it->namespace, svc, 0);
    }
    reef_json_doc_free(&d);
    return 0;
}

static void free_cb(uv_handle_t *h)
{
    struct reef_endpoints *e = h->data;
    for (size_t i = 0; i < e->nsvcs; i++)
        svc_free(e->svcs[i]);
    free(e->svcs);
    for (size_t i = 0; i < e->ndirty; i++) {
        free(e->dirty[i].ns);
        free(e->dirty[i].name);
    }
    free(e->dirty);
    free(e);
}

int reef_endpoints_start(const struct reef_ctl_env *env, struct reef_endpoints **out,
                         struct reef_err *err)
{
    *out = NULL;
    struct reef_endpoints *e = calloc(1, sizeof(*e));
    if (!e)
        return reef_err_set(err, -ENOMEM, "endpoints: out of memory");
    e->env = *env;
    int rc = uv_timer_init(env->loop, &e->timer);
    if (rc < 0) {
        free(e);
        return reef_err_set(err, rc, "endpoints: timer: %s", uv_strerror(rc));
    }
    e->timer.data = e;
    /* the list and the watches start at one revision, so nothing falls between them */
    int64_t rev = reef_store_rev(env->store);
    rc = reef_store_list(env->store, "services", NULL, mark_all, e, NULL, err);
    if (rc == 0) {
        struct reef_store_label l = {LABEL_MANAGED, MANAGED_BY};
        struct reef_store_list_opts o = {.labels = &l, .nlabels = 1};
        rc = reef_store_list(env->store, "endpointslices.discovery.k8s.io", &o, mark_orphan, e,
                             NULL, err);
    }
    if (rc == 0)
        rc = reef_store_watch(env->store, "services", NULL, rev, NULL, NULL, on_service, e,
                              &e->wsvc, err);
    if (rc == 0)
        rc = reef_store_watch(env->store, "pods", NULL, rev, NULL, NULL, on_pod, e, &e->wpod,
                              err);
    if (rc < 0) {
        reef_err_wrap(err, "endpoints");
        reef_endpoints_stop(e);
        return rc;
    }
    *out = e;
    return 0;
}

void reef_endpoints_stop(struct reef_endpoints *e)
{
    if (!e)
        return;
    reef_store_unwatch(e->wsvc);
    reef_store_unwatch(e->wpod);
    e->wsvc = e->wpod = NULL;
    uv_timer_stop(&e->timer);
    uv_close((uv_handle_t *)&e->timer, free_cb);
}
