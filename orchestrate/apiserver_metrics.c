/* apiserver_metrics: the metrics.k8s.io/v1beta1 API (NodeMetrics, PodMetrics) that `kubectl top`
 * reads, answered from the figures of the node agents (reef_apiserver_set_metrics) rather than a
 * separate metrics server. */
#include "orchestrate/apiserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orchestrate/selector.h"

#define MAX_CONTAINERS 64

void reef_apiserver_set_metrics(struct reef_apiserver *a, const struct reef_apiserver_metrics *m)
{
    if (m)
        a->metrics = *m;
    else
        memset(&a->metrics, 0, sizeof(a->metrics));
}

/* ---- discovery ---- */

static void strs(struct reef_json_writer *w, const char *const *s, size_t n)
{
    reef_json_begin_array(w);
    for (size_t i = 0; i < n; i++)
        reef_json_put_str(w, s[i]);
    reef_json_end_array(w);
}

static const char *const read_verbs[] = {"get", "list"};

void reef__api_metrics_aggregated(struct reef_json_writer *w)
{
    reef_json_begin_object(w);
    reef_json_key(w, "metadata");
    reef_json_begin_object(w);
    reef_json_key(w, "name");
    reef_json_put_str(w, REEF__API_METRICS_GROUP);
    reef_json_key(w, "creationTimestamp");
    reef_json_put_null(w);
    reef_json_end_object(w);
    reef_json_key(w, "versions");
    reef_json_begin_array(w);
    reef_json_begin_object(w);
    reef_json_key(w, "version");
    reef_json_put_str(w, REEF__API_METRICS_VERSION);
    reef_json_key(w, "resources");
    reef_json_begin_array(w);
    for (int i = 0; i < 2; i++) {
        reef_json_begin_object(w);
        reef_json_key(w, "resource");
        reef_json_put_str(w, i ? "pods" : "nodes");
        reef_json_key(w, "responseKind");
        reef_json_begin_object(w);
        reef_json_key(w, "group");
        reef_json_put_str(w, REEF__API_METRICS_GROUP);
        reef_json_key(w, "version");
        reef_json_put_str(w, REEF__API_METRICS_VERSION);
        reef_json_key(w, "kind");
        reef_json_put_str(w, i ? "PodMetrics" : "NodeMetrics");
        reef_json_end_object(w);
        reef_json_key(w, "scope");
        reef_json_put_str(w, i ? "Namespaced" : "Cluster");
        reef_json_key(w, "singularResource");
        reef_json_put_str(w, "");
        reef_json_key(w, "verbs");
        strs(w, read_verbs, 2);
        reef_json_end_object(w);
    }
    reef_json_end_array(w);
    reef_json_key(w, "freshness");
    reef_json_put_str(w, "Current");
    reef_json_end_object(w);
    reef_json_end_array(w);
    reef_json_end_object(w);
}

void reef__api_metrics_group(struct reef_json_writer *w, bool with_kind)
{
    const char *gv = REEF__API_METRICS_GROUP "/" REEF__API_METRICS_VERSION;
    reef_json_begin_object(w);
    if (with_kind) {
        reef_json_key(w, "kind");
        reef_json_put_str(w, "APIGroup");
        reef_json_key(w, "apiVersion");
        reef_json_put_str(w, "v1");
    }
    reef_json_key(w, "name");
    reef_json_put_str(w, REEF__API_METRICS_GROUP);
    for (int i = 0; i < 2; i++) {
        reef_json_key(w, i ? "preferredVersion" : "versions");
        if (!i)
            reef_json_begin_array(w);
        reef_json_begin_object(w);
        reef_json_key(w, "groupVersion");
        reef_json_put_str(w, gv);
        reef_json_key(w, "version");
        reef_json_put_str(w, REEF__API_METRICS_VERSION);
        reef_json_end_object(w);
        if (!i)
            reef_json_end_array(w);
    }
    reef_json_end_object(w);
}

void reef__api_metrics_resources(struct reef_json_writer *w)
{
    reef_json_begin_object(w);
    reef_json_key(w, "kind");
    reef_json_put_str(w, "APIResourceList");
    reef_json_key(w, "apiVersion");
    reef_json_put_str(w, "v1");
    reef_json_key(w, "groupVersion");
    reef_json_put_str(w, REEF__API_METRICS_GROUP "/" REEF__API_METRICS_VERSION);
    reef_json_key(w, "resources");
    reef_json_begin_array(w);
    for (int i = 0; i < 2; i++) {
        reef_json_begin_object(w);
        reef_json_key(w, "name");
        reef_json_put_str(w, i ? "pods" : "nodes");
        reef_json_key(w, "singularName");
        reef_json_put_str(w, "");
        reef_json_key(w, "namespaced");
        reef_json_put_bool(w, i);
        reef_json_key(w, "kind");
        reef_json_put_str(w, i ? "PodMetrics" : "NodeMetrics");
        reef_json_key(w, "verbs");
        strs(w, read_verbs, 2);
        reef_json_end_object(w);
    }
    reef_json_end_array(w);
    reef_json_end_object(w);
}

/* ---- figures ---- */

static void put_time(struct reef_json_writer *w, const char *key, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char s[32];
    gmtime_r(&t, &tm);
    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
    reef_json_key(w, key);
    reef_json_put_str(w, s);
}

static void put_usage(struct reef_json_writer *w, const struct reef_apiserver_usage *u)
{
    char cpu[32], mem[32];
    snprintf(cpu, sizeof(cpu), "%llun", (unsigned long long)u->cpu_nanocores);
    snprintf(mem, sizeof(mem), "%lluKi", (unsigned long long)(u->memory_bytes / 1024));
    reef_json_key(w, "usage");
    reef_json_begin_object(w);
    reef_json_key(w, "cpu");
    reef_json_put_str(w, cpu);
    reef_json_key(w, "memory");
    reef_json_put_str(w, mem);
    reef_json_end_object(w);
}

static void put_window(struct reef_json_writer *w, int64_t window_ms)
{
    char win[32];
    snprintf(win, sizeof(win), "%llds", (long long)(window_ms / 1000));
    reef_json_key(w, "window");
    reef_json_put_str(w, win);
}

/* One NodeMetrics or PodMetrics item for the stored object it (name, namespace, labels); false
 * when the provider has no figures. */
static bool put_item(struct reef_apiserver *a, struct reef_json_writer *w, bool pod,
                     const struct reef_store_item *it, const struct reef_json_doc *d)
{
    struct reef_apiserver_usage u[MAX_CONTAINERS];
    size_t n = 0;
    memset(u, 0, sizeof(u));
    if (pod ? (!a->metrics.pod || a->metrics.pod(a->metrics.ud, it->namespace, it->name, u,
                                                 MAX_CONTAINERS, &n) < 0)
            : (!a->metrics.node || a->metrics.node(a->metrics.ud, it->name, &u[0]) < 0))
        return false;
    reef_json_begin_object(w);
    reef_json_key(w, "metadata");
    reef_json_begin_object(w);
    reef_json_key(w, "name");
    reef_json_put_str(w, it->name);
    if (pod) {
        reef_json_key(w, "namespace");
        reef_json_put_str(w, it->namespace);
    }
    put_time(w, "creationTimestamp", reef__api_now_ms());
    int labels = reef_json_find(d, REEF_JSON_ROOT, "metadata.labels", NULL);
    if (labels >= 0) {
        reef_json_key(w, "labels");
        reef_json_put_value(w, d, labels);
    }
    reef_json_end_object(w);
    put_time(w, "timestamp", u[0].timestamp_ms);
    put_window(w, u[0].window_ms);
    if (pod) {
        reef_json_key(w, "containers");
        reef_json_begin_array(w);
        for (size_t i = 0; i < n; i++) {
            reef_json_begin_object(w);
            reef_json_key(w, "name");
            reef_json_put_str(w, u[i].name);
            put_usage(w, &u[i]);
            reef_json_end_object(w);
        }
        reef_json_end_array(w);
    } else {
        put_usage(w, &u[0]);
    }
    reef_json_end_object(w);
    return true;
}

struct listing {
    struct reef_apiserver *a;
    struct reef_json_writer *w;
    bool pod;
    struct reef__api_sel *sel;
    size_t n;
};

static int list_item(void *arg, const struct reef_store_item *it)
{
    struct listing *l = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, it->object, it->len, NULL, NULL) == 0 &&
        reef__api_sel_match(l->sel, &d) && put_item(l->a, l->w, l->pod, it, &d))
        l->n++;
    reef_json_doc_free(&d);
    return 0;
}

static void not_found(struct reef__api_call *c)
{
    reef__api_status(c->res, 404, "NotFound", NULL, NULL, NULL,
                     "the server could not find the requested resource");
}

/* seg[0] is "metrics.k8s.io": v1beta1/nodes[/NAME], v1beta1[/namespaces/NS]/pods[/NAME]. */
void reef__api_metrics(struct reef__api_call *c, char **seg, int n)
{
    if (n < 2 || strcmp(seg[1], REEF__API_METRICS_VERSION) != 0)
        return not_found(c);
    int i = 2;
    const char *ns = NULL;
    if (n >= 5 && strcmp(seg[2], "namespaces") == 0) {
        ns = seg[3];
        i = 4;
    }
    if (i >= n || n - i > 2)
        return not_found(c);
    bool pod = strcmp(seg[i], "pods") == 0;
    if (!pod && (strcmp(seg[i], "nodes") != 0 || ns))
        return not_found(c);
    if (strcmp(c->req->method, "GET") != 0) {
        reef__api_status(c->res, 405, "MethodNotAllowed", NULL, NULL, NULL,
                         "the server does not allow this method on the requested resource");
        return;
    }
    const char *name = n - i == 2 ? seg[i + 1] : NULL;
    c->r = reef__api_res_find("", "v1", pod ? "pods" : "nodes"); /* for the selectors */
    struct reef__api_sel sel;
    if (reef__api_sel_parse(c, &sel) < 0)
        return;
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_json_writer w;
    reef_json_writer_init(&w, &b, 0);
    struct listing l = {c->a, &w, pod, &sel, 0};
    struct reef_store_list_opts lo = {.namespace = ns, .name = name};
    struct reef_err err = {0};
    const char *kind = pod ? "PodMetrics" : "NodeMetrics";
    if (name) {
        int r = reef_store_list(c->a->store, pod ? "pods" : "nodes", &lo, list_item, &l, NULL,
                                &err);
        if (r < 0 || l.n == 0) {
            reef_buf_free(&b);
            reef__api_sel_free(&sel);
            reef__api_status(c->res, 404, "NotFound", name, NULL, NULL,
                             "%s.metrics.k8s.io \"%s\" not found", pod ? "podmetrics" : "nodemetrics",
                             name);
            return;
        }
        /* the one item, with its kind */
        struct reef_buf one = REEF_BUF_INIT;
        reef_buf_printf(&one, "{\"kind\":\"%s\",\"apiVersion\":\"%s/%s\",", kind,
                        REEF__API_METRICS_GROUP, REEF__API_METRICS_VERSION);
        reef_buf_append(&one, b.data + 1, b.len - 1);
        reef__api_send_json(c->res, 200, &one);
        reef_buf_free(&one);
    } else {
        struct reef_buf list = REEF_BUF_INIT;
        reef_json_begin_array(&w);
        int r = reef_store_list(c->a->store, pod ? "pods" : "nodes", &lo, list_item, &l, NULL,
                                &err);
        reef_json_end_array(&w);
        if (r < 0 || reef_json_finish(&w, &err) < 0) {
            reef__api_status(c->res, 500, "InternalError", NULL, NULL, NULL, "%s", err.msg);
        } else {
            reef_buf_printf(&list,
                            "{\"kind\":\"%sList\",\"apiVersion\":\"%s/%s\",\"metadata\":{},"
                            "\"items\":",
                            kind, REEF__API_METRICS_GROUP, REEF__API_METRICS_VERSION);
            reef_buf_append(&list, b.data, b.len);
            reef_buf_puts(&list, "}");
            reef__api_send_json(c->res, 200, &list);
        }
        reef_buf_free(&list);
    }
    reef_buf_free(&b);
    reef__api_sel_free(&sel);
}
