/* Tests for orchestrate/apiserver's in-process calls (reef_apiserver_call) and the node handlers
 * of pods' log/exec/attach: the store in memory, no HTTP server. */
#include "orchestrate/apiserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tests/unit/test.h"

static uv_loop_t loop;
static struct reef_store *store;
static struct reef_apiserver *api;
static const struct reef_apiserver_user admin = {
    .name = "system:admin", .groups = {"system:masters"}, .ngroups = 1};

static void setup(void)
{
    struct reef_err err = {0};
    uv_loop_init(&loop);
    CHECK_INT(reef_store_open(NULL, NULL, &store, &err), ==, 0);
    struct reef_apiserver_opts o = {.loop = &loop, .store = store};
    CHECK_INT(reef_apiserver_new(&o, &api, &err), ==, 0);
}

static void teardown(void)
{
    reef_apiserver_shutdown(api);
    reef_apiserver_free(api);
    reef_store_close(store);
    uv_loop_close(&loop);
}

static int call(const char *method, const char *target, const char *ctype, const char *body,
                struct reef_buf *out, struct reef_err *err)
{
    out->len = 0;
    return reef_apiserver_call(api, &admin, method, target, ctype, body, body ? strlen(body) : 0,
                               out, err);
}

static const char *field(struct reef_buf *b, const char *path)
{
    static char v[256];
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    v[0] = '\0';
    if (reef_json_parse(&d, b->data, b->len, NULL, NULL) == 0) {
        int i = reef_json_find(&d, REEF_JSON_ROOT, path, NULL);
        if (i >= 0 && reef_json_get_str(&d, i, v, sizeof(v), NULL) < 0) {
            size_t n = 0;
            const char *raw = reef_json_raw(&d, i, &n);
            snprintf(v, sizeof(v), "%.*s", (int)n, raw);
        }
    }
    reef_json_doc_free(&d);
    return v;
}

static void test_verbs(void)
{
    setup();
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    const char *pod = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"generateName\":"
                      "\"web-\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}";
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods", NULL, pod, &out, &err), ==, 201);
    char name[64];
    snprintf(name, sizeof(name), "%s", field(&out, "metadata.name"));
    CHECK(strncmp(name, "web-", 4) == 0 && strlen(name) == 9);
    /* defaults applied as for a client */
    CHECK_STR(field(&out, "spec.restartPolicy"), "Always");
    CHECK_STR(field(&out, "spec.containers[0].imagePullPolicy"), "Always");

    char path[256];
    snprintf(path, sizeof(path), "/api/v1/namespaces/default/pods/%s", name);
    CHECK_INT(call("GET", path, NULL, NULL, &out, &err), ==, 200);
    CHECK_STR(field(&out, "metadata.name"), name);

    snprintf(path, sizeof(path), "/api/v1/namespaces/default/pods/%s/status", name);
    CHECK_INT(call("PATCH", path, "application/merge-patch+json",
                   "{\"status\":{\"phase\":\"Running\"}}", &out, &err),
              ==, 200);
    CHECK_STR(field(&out, "status.phase"), "Running");

    CHECK_INT(call("GET", "/api/v1/pods?fieldSelector=status.phase%3DRunning", NULL, NULL, &out,
                   &err),
              ==, 200);
    CHECK_STR(field(&out, "items[0].metadata.name"), name);

    /* errors: the status and the Status message */
    CHECK_INT(call("GET", "/api/v1/namespaces/default/pods/nosuch", NULL, NULL, &out, &err), ==,
              404);
    CHECK_STR(err.msg, "pods \"nosuch\" not found");
    CHECK_INT(call("POST", "/api/v1/namespaces/default/configmaps", NULL, "{", &out, &err), ==,
              400);
    /* no out buffer: the message still arrives */
    CHECK_INT(reef_apiserver_call(api, &admin, "GET", "/api/v1/namespaces/x/pods/y", NULL, NULL, 0,
                                  NULL, &err),
              ==, 404);
    CHECK(strstr(err.msg, "not found") != NULL);

    /* watches cannot be answered in-process */
    CHECK_INT(call("GET", "/api/v1/pods?watch=true", NULL, NULL, &out, &err), ==, -EOPNOTSUPP);
    snprintf(path, sizeof(path), "/api/v1/namespaces/default/pods/%s/log", name);
    CHECK_INT(call("GET", path, NULL, NULL, &out, &err), ==, 400);
    reef_buf_free(&out);
    teardown();
}

/* ---- node handlers ---- */

static int handled;
static char handled_sub[16];

static void on_pod_stream(void *ud, const char *sub, const char *pod, size_t len,
                          struct reef_http_req *req, struct reef_http_res *res)
{
    (void)req;
    handled = *(int *)ud;
    snprintf(handled_sub, sizeof(handled_sub), "%s", sub);
    CHECK(memmem(pod, len, "\"nodeName\":\"n1\"", 15) != NULL);
    reef_http_res_send(res, 200, "text/plain", "hello\n", 6);
}

struct captured {
    int status;
    struct reef_buf body;
    int done;
};
static void cap_head(void *ud, int status, const char *ct, const char *h)
{
    (void)ct;
    (void)h;
    ((struct captured *)ud)->status = status;
}
static void cap_data(void *ud, const void *d, size_t n)
{
    reef_buf_append(&((struct captured *)ud)->body, d, n);
}
static void cap_end(void *ud)
{
    ((struct captured *)ud)->done = 1;
}

/* A request as a network client would make it, through the HTTP handler (local transport). */
static int raw(const char *method, const char *target, struct captured *cap)
{
    static const struct reef_http_header h[] = {{"Accept", "application/json"}};
    static struct reef_http_local cb = {cap_head, cap_data, cap_end, NULL};
    cb.ud = cap;
    memset(cap, 0, sizeof(*cap));
    struct reef_http_res *res = reef_http_local_new(method, target, h, 1, NULL, 0, &cb);
    CHECK(res != NULL);
    /* authenticated as a verified client certificate would be */
    struct reef_http_req *req = reef_http_res_req(res);
    static const char *const orgs[] = {"system:masters", NULL};
    req->peer_verified = true;
    req->peer_cn = "admin";
    req->peer_orgs = orgs;
    reef_apiserver_handle(api, req, res);
    return cap->status;
}

static void test_node_handler(void)
{
    setup();
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods", NULL,
                   "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":"
                   "[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                   &out, &err),
              ==, 201);
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods", NULL,
                   "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"containers\":"
                   "[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                   &out, &err),
              ==, 201);
    struct captured cap;
    /* no agent yet: 503 naming the node */
    CHECK_INT(raw("GET", "/api/v1/namespaces/default/pods/p/log", &cap), ==, 503);
    CHECK(strstr(cap.body.data, "n1") != NULL);
    reef_buf_free(&cap.body);

    int tag = 7;
    CHECK_INT(reef_apiserver_set_node_handler(api, "n1", on_pod_stream, &tag), ==, 0);
    CHECK_INT(raw("GET", "/api/v1/namespaces/default/pods/p/log?follow=true", &cap), ==, 200);
    CHECK_INT(handled, ==, 7);
    CHECK_STR(handled_sub, "log");
    CHECK(cap.done && cap.body.len == 6 && memcmp(cap.body.data, "hello\n", 6) == 0);
    reef_buf_free(&cap.body);
    CHECK_INT(raw("POST", "/api/v1/namespaces/default/pods/p/exec?command=ls", &cap), ==, 200);
    CHECK_STR(handled_sub, "exec");
    reef_buf_free(&cap.body);
    /* log is GET only; unscheduled pods and missing pods */
    CHECK_INT(raw("POST", "/api/v1/namespaces/default/pods/p/log", &cap), ==, 405);
    reef_buf_free(&cap.body);
    CHECK_INT(raw("GET", "/api/v1/namespaces/default/pods/q/log", &cap), ==, 400);
    reef_buf_free(&cap.body);
    CHECK_INT(raw("GET", "/api/v1/namespaces/default/pods/zz/log", &cap), ==, 404);
    reef_buf_free(&cap.body);
    /* removed again */
    CHECK_INT(reef_apiserver_set_node_handler(api, "n1", NULL, NULL), ==, 0);
    CHECK_INT(raw("GET", "/api/v1/namespaces/default/pods/p/log", &cap), ==, 503);
    reef_buf_free(&cap.body);
    reef_buf_free(&out);
    teardown();
}

/* ---- metrics.k8s.io ---- */

static int fake_node(void *ud, const char *node, struct reef_apiserver_usage *u)
{
    (void)ud;
    if (strcmp(node, "n1") != 0)
        return -ENOENT;
    u->cpu_nanocores = 250000000;
    u->memory_bytes = 512 * 1024 * 1024;
    u->timestamp_ms = 1795883721000LL;
    u->window_ms = 15000;
    return 0;
}

static int fake_pod(void *ud, const char *ns, const char *name, struct reef_apiserver_usage *u,
                    size_t max, size_t *n)
{
    (void)ud;
    (void)ns;
    if (strcmp(name, "p") != 0 || max < 2)
        return -ENOENT;
    snprintf(u[0].name, sizeof(u[0].name), "c");
    u[0].cpu_nanocores = 1000000;
    u[0].memory_bytes = 4096;
    u[0].timestamp_ms = 1795883721000LL;
    u[0].window_ms = 15000;
    *n = 1;
    return 0;
}

static void test_metrics(void)
{
    setup();
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_INT(call("POST", "/api/v1/nodes", NULL,
                   "{\"metadata\":{\"name\":\"n1\",\"labels\":{\"role\":\"edge\"}}}", &out,
                   &err),
              ==, 201);
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods", NULL,
                   "{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\"}},\"spec\":{"
                   "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                   &out, &err),
              ==, 201);
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods", NULL,
                   "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"containers\":[{\"name\":"
                   "\"c\",\"image\":\"busybox\"}]}}",
                   &out, &err),
              ==, 201);
    /* discovered, but no figures without a provider */
    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v1beta1", NULL, NULL, &out, &err), ==, 200);
    CHECK_STR(field(&out, "resources[1].kind"), "PodMetrics");
    CHECK_INT(call("GET", "/apis", NULL, NULL, &out, &err), ==, 200);
    CHECK(strstr(out.data, "\"metrics.k8s.io/v1beta1\"") != NULL);
    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v1beta1/nodes", NULL, NULL, &out, &err), ==, 200);
    CHECK_STR(field(&out, "items"), "[]");

    struct reef_apiserver_metrics m = {fake_node, fake_pod, NULL};
    reef_apiserver_set_metrics(api, &m);
    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v1beta1/nodes", NULL, NULL, &out, &err), ==, 200);
    CHECK_STR(field(&out, "kind"), "NodeMetricsList");
    CHECK_STR(field(&out, "items[0].metadata.name"), "n1");
    CHECK_STR(field(&out, "items[0].usage.cpu"), "250000000n");
    CHECK_STR(field(&out, "items[0].usage.memory"), "524288Ki");
    CHECK_STR(field(&out, "items[0].window"), "15s");
    CHECK_STR(field(&out, "items[0].timestamp"), "2026-11-28T16:35:21Z");
    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=role%3Dcore", NULL,
                   NULL, &out, &err),
              ==, 200);
    CHECK_STR(field(&out, "items"), "[]");
    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v1beta1/nodes/n1", NULL, NULL, &out, &err), ==,
              200);
    CHECK_STR(field(&out, "kind"), "NodeMetrics");
    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v1beta1/nodes/n2", NULL, NULL, &out, &err), ==,
              404);
    CHECK_STR(err.msg, "nodemetrics.metrics.k8s.io \"n2\" not found");

    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods", NULL, NULL,
                   &out, &err),
              ==, 200);
    CHECK_STR(field(&out, "items[0].metadata.name"), "p");
    CHECK_STR(field(&out, "items[0].containers[0].name"), "c");
    CHECK_STR(field(&out, "items[0].containers[0].usage.cpu"), "1000000n");
    CHECK_STR(field(&out, "items[1]"), ""); /* q has no figures */
    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3Dweb", NULL, NULL,
                   &out, &err),
              ==, 200);
    CHECK_STR(field(&out, "items[0].metadata.namespace"), "default");
    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/q", NULL, NULL,
                   &out, &err),
              ==, 404);
    CHECK_INT(call("DELETE", "/apis/metrics.k8s.io/v1beta1/nodes/n1", NULL, NULL, &out, &err), ==,
              405);
    CHECK_INT(call("GET", "/apis/metrics.k8s.io/v2/nodes", NULL, NULL, &out, &err), ==, 404);
    reef_buf_free(&out);
    teardown();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_verbs);
    TEST_RUN(test_node_handler);
    TEST_RUN(test_metrics);
    return test_done();
}
