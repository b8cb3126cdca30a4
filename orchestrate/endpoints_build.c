/* endpoints_build: what a Service's Endpoints and EndpointSlice should hold, computed from the
 * Service and its pods alone (no store, no loop), and whether the stored objects differ. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "orchestrate/endpoints_int.h"

#define LABEL_HEADLESS "service.kubernetes.io/headless"

static void str_at(const struct reef_json_doc *d, int obj, const char *path, char *out, size_t size)
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

void reef__ep_desired_free(struct reef__ep_desired *w)
{
    for (size_t i = 0; i < w->nports; i++)
        free(w->ports[i].app_protocol);
    free(w->ports);
    for (size_t i = 0; i < w->npods; i++)
        free(w->pods[i].ports);
    free(w->pods);
}

static int read_ports(const struct reef_json_doc *d, struct reef__ep_desired *w)
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
        struct reef__ep_port *p = &w->ports[w->nports++];
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
static int64_t find_port(const struct reef_json_doc *d, const struct reef__ep_port *p)
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

int reef__ep_add_pod(void *arg, const struct reef_store_item *item)
{
    struct reef__ep_desired *w = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, item->object, item->len, NULL, NULL) < 0)
        return 0;
    int labels = reef_json_find(&d, REEF_JSON_ROOT, "metadata.labels", NULL);
    char phase[32];
    str_at(&d, REEF_JSON_ROOT, "status.phase", phase, sizeof(phase));
    struct reef__ep_pod p = {0};
    str_at(&d, REEF_JSON_ROOT, "status.podIP", p.ip, sizeof(p.ip));
    /* endpointsliceutil.ShouldPodBeInEndpoints: an address, not finished, not being deleted;
     * and an IPv4 one, the family of reef's Services and slices */
    if (!reef_label_selector_matches(w->sel, &d, labels) || !p.ip[0] || strchr(p.ip, ':') ||
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
    struct reef__ep_pod *n = realloc(w->pods, (w->npods + 1) * sizeof(*n));
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
    const struct reef__ep_pod *x = a, *y = b;
    int c = cmp_ip(x->ip, y->ip);
    return c ? c : strcmp(x->uid, y->uid);
}

static bool same_set(const struct reef__ep_pod *a, const struct reef__ep_pod *b, size_t n)
{
    return n == 0 || memcmp(a->ports, b->ports, n * sizeof(*a->ports)) == 0;
}

/* Groups the pods by their resolved ports (RepackSubsets), in address order. */
static size_t group_pods(struct reef__ep_desired *w)
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

static void put_target_ref(struct reef_json_writer *jw, const struct reef__ep_desired *w,
                           const struct reef__ep_pod *p)
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

static void put_ports(struct reef_json_writer *jw, const struct reef__ep_desired *w,
                      const struct reef__ep_pod *p)
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

static void put_addresses(struct reef_json_writer *jw, const struct reef__ep_desired *w, size_t set,
                          bool ready)
{
    reef_json_begin_array(jw);
    for (size_t i = 0; i < w->npods; i++) {
        const struct reef__ep_pod *p = &w->pods[i];
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
static void put_subsets(struct reef_json_writer *jw, const struct reef__ep_desired *w, size_t nsets)
{
    reef_json_begin_array(jw);
    for (size_t s = 0; s < nsets; s++) {
        const struct reef__ep_pod *first = NULL;
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
static size_t slice_set(const struct reef__ep_desired *w, size_t nsets)
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

static void put_slice_endpoints(struct reef_json_writer *jw, const struct reef__ep_desired *w,
                                size_t set)
{
    reef_json_begin_array(jw);
    for (size_t i = 0; i < w->npods; i++) {
        const struct reef__ep_pod *p = &w->pods[i];
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
static void put_labels(struct reef_json_writer *jw, const struct reef_json_doc *svc, bool headless,
                       const char *const *extra)
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

bool reef__ep_has_selector(const struct reef_json_doc *svc, int *sel)
{
    *sel = reef_json_find(svc, REEF_JSON_ROOT, "spec.selector", NULL);
    return !empty_value(svc, *sel);
}

int reef__ep_desired_init(struct reef__ep_desired *w, const struct reef_json_doc *svc,
                          const struct reef_label_selector *sel, const char *ns, const char *name,
                          struct reef_err *err)
{
    memset(w, 0, sizeof(*w));
    w->svc = svc;
    w->sel = sel;
    w->ns = ns;
    w->name = name;
    char cip[64];
    str_at(svc, REEF_JSON_ROOT, "spec.clusterIP", cip, sizeof(cip));
    w->headless = strcmp(cip, "None") == 0;
    int v = reef_json_find(svc, REEF_JSON_ROOT, "spec.publishNotReadyAddresses", NULL);
    if (v >= 0)
        reef_json_get_bool(svc, v, &w->publish_not_ready, NULL);
    if (read_ports(svc, w) < 0)
        return reef_err_set(err, -ENOMEM, "out of memory");
    return 0;
}

int reef__ep_finish(struct reef__ep_desired *w, struct reef_err *err)
{
    if (w->err)
        return reef_err_set(err, w->err, "out of memory");
    w->nsets = group_pods(w);
    return 0;
}

int reef__ep_endpoints(const struct reef__ep_desired *w, const char *cur, size_t curlen,
                       struct reef_buf *out, bool *changed, struct reef_err *err)
{
    int rc;
    struct reef_json_doc old = REEF_JSON_DOC_INIT, want = REEF_JSON_DOC_INIT;
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, out, 0);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "apiVersion");
    reef_json_put_str(&jw, "v1");
    reef_json_key(&jw, "kind");
    reef_json_put_str(&jw, "Endpoints");
    reef_json_key(&jw, "metadata");
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "name");
    reef_json_put_str(&jw, w->name);
    reef_json_key(&jw, "namespace");
    reef_json_put_str(&jw, w->ns);
    bool have_old = cur && reef_json_parse(&old, cur, curlen, NULL, NULL) == 0;
    if (have_old) {
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
    put_labels(&jw, w->svc, w->headless, NULL);
    reef_json_end_object(&jw);
    if (w->nsets) {
        reef_json_key(&jw, "subsets");
        put_subsets(&jw, w, w->nsets);
    }
    reef_json_end_object(&jw);
    rc = reef_json_finish(&jw, err);
    if (rc < 0)
        goto out;
    rc = reef_json_parse(&want, out->data, out->len, NULL, err);
    if (rc < 0)
        goto out;
    *changed = true;
    if (have_old) {
        int om = reef_json_member(&old, REEF_JSON_ROOT, "metadata");
        int wm = reef_json_member(&want, REEF_JSON_ROOT, "metadata");
        *changed = !same_member(&old, REEF_JSON_ROOT, &want, REEF_JSON_ROOT, "subsets") ||
                   !same_member(&old, om, &want, wm, "labels");
    }
out:
    reef_json_doc_free(&old);
    reef_json_doc_free(&want);
    return rc;
}

int reef__ep_slice(const struct reef__ep_desired *w, const char *cur, size_t curlen,
                   const char *cur_name, struct reef_buf *out, bool *changed, struct reef_err *err)
{
    int rc;
    struct reef_json_doc old = REEF_JSON_DOC_INIT, want = REEF_JSON_DOC_INIT;
    char uid[REEF_STORE_UID_LEN + 1];
    str_at(w->svc, REEF_JSON_ROOT, "metadata.uid", uid, sizeof(uid));
    bool have_old = cur && reef_json_parse(&old, cur, curlen, NULL, NULL) == 0;
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, out, 0);
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
        reef_json_put_str(&jw, cur_name);
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
        snprintf(gen, sizeof(gen), "%.*s-", 57, w->name);
        reef_json_key(&jw, "generateName");
        reef_json_put_str(&jw, gen);
    }
    reef_json_key(&jw, "namespace");
    reef_json_put_str(&jw, w->ns);
    reef_json_key(&jw, "labels");
    static const char *const extra[] = {REEF__EP_LABEL_SERVICE, NULL, REEF__EP_LABEL_MANAGED,
                                        REEF__EP_MANAGED_BY, NULL};
    const char *ex[5];
    memcpy(ex, extra, sizeof(ex));
    ex[1] = w->name;
    put_labels(&jw, w->svc, w->headless, ex);
    reef_json_key(&jw, "ownerReferences");
    reef_json_begin_array(&jw);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "apiVersion");
    reef_json_put_str(&jw, "v1");
    reef_json_key(&jw, "kind");
    reef_json_put_str(&jw, "Service");
    reef_json_key(&jw, "name");
    reef_json_put_str(&jw, w->name);
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
    size_t set = slice_set(w, w->nsets);
    reef_json_key(&jw, "endpoints");
    put_slice_endpoints(&jw, w, w->nsets ? set : (size_t)-1);
    reef_json_key(&jw, "ports");
    const struct reef__ep_pod *first = NULL;
    for (size_t i = 0; w->nsets && i < w->npods && !first; i++)
        if (w->pods[i].set == set)
            first = &w->pods[i];
    put_ports(&jw, w, first);
    reef_json_end_object(&jw);
    rc = reef_json_finish(&jw, err);
    if (rc < 0)
        goto out;
    rc = reef_json_parse(&want, out->data, out->len, NULL, err);
    if (rc < 0)
        goto out;
    *changed = true;
    if (have_old) {
        int om = reef_json_member(&old, REEF_JSON_ROOT, "metadata");
        int wm = reef_json_member(&want, REEF_JSON_ROOT, "metadata");
        static const char *const top[] = {"addressType", "endpoints", "ports", NULL};
        bool same = same_member(&old, om, &want, wm, "labels") &&
                    same_member(&old, om, &want, wm, "ownerReferences");
        for (size_t i = 0; same && top[i]; i++)
            same = same_member(&old, REEF_JSON_ROOT, &want, REEF_JSON_ROOT, top[i]);
        *changed = !same;
    }
out:
    reef_json_doc_free(&old);
    reef_json_doc_free(&want);
    return rc;
}
