/* Tests for orchestrate/endpoints: Endpoints and EndpointSlices follow Services and pods through
 * an in-memory store and the in-process API server, the loop stepped by hand. */
#include "orchestrate/endpoints.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tests/unit/ctl_fixture.h"
#include "tests/unit/test.h"

static struct reef_endpoints *ctl;
/* Parsed documents point into their text: kept until the test ends. */
static char *held[256];
static size_t nheld;

static void setup(void)
{
    ctl_env_up("system:admin", true);
}

static void spin(void)
{
    for (int i = 0; i < 8; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
}

static void start(void)
{
    struct reef_err err = {0};
    CHECK_INT(reef_endpoints_start(&env, &ctl, &err), ==, 0);
    spin();
}

static void teardown(void)
{
    reef_endpoints_stop(ctl);
    ctl = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(ctl_env_down(), ==, 0);
    for (size_t i = 0; i < nheld; i++)
        free(held[i]);
    nheld = 0;
}

static int api(const char *method, const char *target, const char *ctype, const char *body)
{
    struct reef_err err = {0};
    int st = reef_ctl_call(&env, method, target, ctype, body, body ? strlen(body) : 0, NULL, &err);
    if (st >= 300)
        fprintf(stderr, "# %s %s: %d %s\n", method, target, st, err.msg);
    return st;
}

static void service(const char *name, const char *spec)
{
    char b[2048];
    snprintf(b, sizeof(b),
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"tier\":\"front\"}},"
             "\"spec\":%s}",
             name, spec);
    CHECK_INT(api("POST", "/api/v1/namespaces/default/services", NULL, b), ==, 201);
}

static const char *WEB_SVC =
    "{\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":\"http\",\"port\":80,"
    "\"targetPort\":\"http\"},{\"name\":\"metrics\",\"port\":9090,\"targetPort\":9100}]}";

static void pod(const char *name, const char *app, int http_port)
{
    char b[2048];
    snprintf(b, sizeof(b),
             "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"%s\"}},\"spec\":{\"nodeName\":"
             "\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"ports\":[{\"name\":"
             "\"http\",\"containerPort\":%d}]}]}}",
             name, app, http_port);
    CHECK_INT(api("POST", "/api/v1/namespaces/default/pods", NULL, b), ==, 201);
}

static void pod_status(const char *name, const char *ip, bool ready)
{
    char b[1024], t[256];
    snprintf(b, sizeof(b),
             "{\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\",\"conditions\":[{\"type\":"
             "\"Ready\",\"status\":\"%s\"}]}}",
             ip, ready ? "True" : "False");
    snprintf(t, sizeof(t), "/api/v1/namespaces/default/pods/%s/status", name);
    CHECK_INT(api("PATCH", t, "application/merge-patch+json", b), ==, 200);
}

/* The stored object, parsed into d; false when absent. */
static bool get(const char *resource, const char *name, struct reef_json_doc *d, int64_t *rev)
{
    char *obj = NULL;
    size_t len = 0;
    if (reef_store_get(env.store, resource, "default", name, &obj, &len, rev, NULL) < 0)
        return false;
    reef_json_doc_free(d);
    CHECK_INT(reef_json_parse(d, obj, len, NULL, NULL), ==, 0);
    CHECK(nheld < sizeof(held) / sizeof(held[0]));
    held[nheld++] = obj;
    return true;
}

static const char *str(const struct reef_json_doc *d, const char *path)
{
    static char buf[8][256];
    static int n;
    char *b = buf[n++ % 8];
    b[0] = 0;
    int v = reef_json_find(d, REEF_JSON_ROOT, path, NULL);
    if (v >= 0 && reef_json_kind(d, v) == REEF_JSON_STRING)
        reef_json_get_str(d, v, b, 256, NULL);
    else if (v >= 0) {
        size_t l;
        const char *r = reef_json_raw(d, v, &l);
        snprintf(b, 256, "%.*s", (int)l, r);
    }
    return b;
}

struct names {
    int n;
    char name[8][254];
};

static int collect(void *arg, const struct reef_store_item *it)
{
    struct names *s = arg;
    if (s->n < 8)
        snprintf(s->name[s->n], sizeof(s->name[0]), "%s", it->name);
    s->n++;
    return 0;
}

/* The slices of service svc by their label. */
static struct names slices(const char *svc)
{
    struct names s = {0};
    struct reef_store_label l = {"kubernetes.io/service-name", svc};
    struct reef_store_list_opts o = {.namespace = "default", .labels = &l, .nlabels = 1};
    CHECK_INT(
        reef_store_list(env.store, "endpointslices.discovery.k8s.io", &o, collect, &s, NULL, NULL),
        ==, 0);
    return s;
}

static void test_ready_and_not_ready(void)
{
    setup();
    service("web", WEB_SVC);
    pod("p1", "web", 8080);
    pod("p2", "web", 8081);
    pod("p3", "web", 8080); /* no address yet */
    pod("other", "db", 8080);
    pod_status("p1", "10.42.0.5", true);
    pod_status("p2", "10.42.0.6", false);
    pod_status("other", "10.42.0.7", true);
    start();

    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK(get("endpoints", "web", &d, NULL));
    CHECK_STR(str(&d, "metadata.labels.tier"), "front");
    /* p1 and p2 resolve "http" differently: two subsets */
    CHECK_INT(reef_json_count(&d, reef_json_find(&d, REEF_JSON_ROOT, "subsets", NULL)), ==, 2);
    CHECK_STR(str(&d, "subsets[0].addresses[0].ip"), "10.42.0.5");
    CHECK_STR(str(&d, "subsets[0].addresses[0].nodeName"), "n1");
    CHECK_STR(str(&d, "subsets[0].addresses[0].targetRef.kind"), "Pod");
    CHECK_STR(str(&d, "subsets[0].addresses[0].targetRef.name"), "p1");
    CHECK_INT(strlen(str(&d, "subsets[0].addresses[0].targetRef.uid")), ==, 36);
    CHECK_STR(str(&d, "subsets[0].ports[0].name"), "http");
    CHECK_STR(str(&d, "subsets[0].ports[0].port"), "8080");
    CHECK_STR(str(&d, "subsets[0].ports[0].protocol"), "TCP");
    CHECK_STR(str(&d, "subsets[0].ports[1].name"), "metrics");
    CHECK_STR(str(&d, "subsets[0].ports[1].port"), "9100");
    CHECK(reef_json_find(&d, REEF_JSON_ROOT, "subsets[0].notReadyAddresses", NULL) < 0);
    CHECK_STR(str(&d, "subsets[1].notReadyAddresses[0].ip"), "10.42.0.6");
    CHECK_STR(str(&d, "subsets[1].ports[0].port"), "8081");
    CHECK(reef_json_find(&d, REEF_JSON_ROOT, "subsets[1].addresses", NULL) < 0);

    struct names s = slices("web");
    CHECK_INT(s.n, ==, 1);
    CHECK_INT(strlen(s.name[0]), ==, 9); /* "web-" and five characters */
    CHECK(strncmp(s.name[0], "web-", 4) == 0);
    CHECK(get("endpointslices.discovery.k8s.io", s.name[0], &d, NULL));
    CHECK_STR(str(&d, "metadata.generateName"), "web-");
    CHECK_STR(str(&d, "metadata.labels[\"endpointslice.kubernetes.io/managed-by\"]"),
              "endpointslice-controller.k8s.io");
    CHECK_STR(str(&d, "metadata.labels[\"kubernetes.io/service-name\"]"), "web");
    CHECK_STR(str(&d, "metadata.ownerReferences[0].kind"), "Service");
    CHECK_STR(str(&d, "addressType"), "IPv4");
    CHECK_INT(reef_json_count(&d, reef_json_find(&d, REEF_JSON_ROOT, "endpoints", NULL)), ==, 1);
    CHECK_STR(str(&d, "endpoints[0].addresses[0]"), "10.42.0.5");
    CHECK_STR(str(&d, "endpoints[0].conditions.ready"), "true");
    CHECK_STR(str(&d, "endpoints[0].nodeName"), "n1");
    CHECK_STR(str(&d, "endpoints[0].targetRef.name"), "p1");
    CHECK_STR(str(&d, "ports[0].port"), "8080");
    CHECK_STR(str(&d, "ports[1].port"), "9100");
    reef_json_doc_free(&d);
    teardown();
}

static void test_follows_pods(void)
{
    setup();
    service("web", WEB_SVC);
    start();
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    /* no pods yet: an empty Endpoints and an empty slice */
    CHECK(get("endpoints", "web", &d, NULL));
    CHECK(reef_json_find(&d, REEF_JSON_ROOT, "subsets[0]", NULL) < 0);
    struct names s = slices("web");
    CHECK_INT(s.n, ==, 1);

    pod("p1", "web", 8080);
    pod("p2", "web", 8080);
    pod_status("p1", "10.42.0.9", false);
    pod_status("p2", "10.42.0.10", true);
    spin();
    CHECK(get("endpoints", "web", &d, NULL));
    CHECK_STR(str(&d, "subsets[0].addresses[0].ip"), "10.42.0.10");
    CHECK_STR(str(&d, "subsets[0].notReadyAddresses[0].ip"), "10.42.0.9");
    CHECK(get("endpointslices.discovery.k8s.io", s.name[0], &d, NULL));
    /* in address order: .9 before .10 */
    CHECK_STR(str(&d, "endpoints[0].addresses[0]"), "10.42.0.9");
    CHECK_STR(str(&d, "endpoints[0].conditions.ready"), "false");
    CHECK_STR(str(&d, "endpoints[1].conditions.ready"), "true");

    /* p1 becomes ready */
    pod_status("p1", "10.42.0.9", true);
    spin();
    CHECK(get("endpoints", "web", &d, NULL));
    CHECK_STR(str(&d, "subsets[0].addresses[0].ip"), "10.42.0.9");
    CHECK_STR(str(&d, "subsets[0].addresses[1].ip"), "10.42.0.10");
    CHECK(reef_json_find(&d, REEF_JSON_ROOT, "subsets[0].notReadyAddresses", NULL) < 0);

    /* p2 stops matching: its new labels do not say which Service had it */
    CHECK_INT(api("PATCH", "/api/v1/namespaces/default/pods/p2", "application/merge-patch+json",
                  "{\"metadata\":{\"labels\":{\"app\":\"other\"}}}"),
              ==, 200);
    spin();
    CHECK(get("endpoints", "web", &d, NULL));
    CHECK_INT(reef_json_count(&d, reef_json_find(&d, REEF_JSON_ROOT, "subsets[0].addresses", NULL)),
              ==, 1);
    CHECK_STR(str(&d, "subsets[0].addresses[0].targetRef.name"), "p1");

    /* p1 deleted: nothing left */
    CHECK_INT(api("DELETE", "/api/v1/namespaces/default/pods/p1", NULL, NULL), ==, 200);
    spin();
    CHECK(get("endpoints", "web", &d, NULL));
    CHECK(reef_json_find(&d, REEF_JSON_ROOT, "subsets[0]", NULL) < 0);
    CHECK(get("endpointslices.discovery.k8s.io", s.name[0], &d, NULL));
    CHECK_INT(reef_json_count(&d, reef_json_find(&d, REEF_JSON_ROOT, "endpoints", NULL)), ==, 0);
    reef_json_doc_free(&d);
    teardown();
}

struct count {
    int n;
};

static void count_ev(void *arg, const struct reef_store_event *ev)
{
    (void)ev;
    ((struct count *)arg)->n++;
}

static void test_no_op_and_bursts(void)
{
    setup();
    service("web", WEB_SVC);
    pod("p1", "web", 8080);
    pod_status("p1", "10.42.0.5", true);
    start();
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int64_t rev1 = 0, rev2 = 0, srev1 = 0, srev2 = 0;
    struct names s = slices("web");
    CHECK(get("endpoints", "web", &d, &rev1));
    CHECK(get("endpointslices.discovery.k8s.io", s.name[0], &d, &srev1));
    struct count c = {0};
    struct reef_store_watch *w = NULL;
    CHECK_INT(reef_store_watch(env.store, "endpoints", NULL, 0, NULL, NULL, count_ev, &c, &w, NULL),
              ==, 0);
    struct count cs = {0};
    struct reef_store_watch *ws = NULL;
    CHECK_INT(reef_store_watch(env.store, "endpointslices.discovery.k8s.io", NULL, 0, NULL, NULL,
                               count_ev, &cs, &ws, NULL),
              ==, 0);

    /* a change that does not alter the endpoints: nothing written */
    CHECK_INT(api("PATCH", "/api/v1/namespaces/default/pods/p1", "application/merge-patch+json",
                  "{\"metadata\":{\"annotations\":{\"x\":\"y\"}}}"),
              ==, 200);
    spin();
    CHECK(get("endpoints", "web", &d, &rev2));
    CHECK(get("endpointslices.discovery.k8s.io", s.name[0], &d, &srev2));
    CHECK_INT(rev2, ==, rev1);
    CHECK_INT(srev2, ==, srev1);
    CHECK_INT(c.n, ==, 0);
    CHECK_INT(cs.n, ==, 0);

    /* twenty pods in one turn of the loop: one write of each object */
    for (int i = 0; i < 20; i++) {
        char n[16], ip[32];
        snprintf(n, sizeof(n), "b%d", i);
        snprintf(ip, sizeof(ip), "10.42.1.%d", i + 1);
        pod(n, "web", 8080);
        pod_status(n, ip, true);
    }
    spin();
    CHECK_INT(c.n, ==, 1);
    CHECK_INT(cs.n, ==, 1);
    CHECK(get("endpoints", "web", &d, NULL));
    CHECK_INT(reef_json_count(&d, reef_json_find(&d, REEF_JSON_ROOT, "subsets[0].addresses", NULL)),
              ==, 21);
    /* a restarted controller finds everything up to date */
    reef_endpoints_stop(ctl);
    spin();
    start();
    CHECK_INT(c.n, ==, 1);
    CHECK_INT(cs.n, ==, 1);
    reef_store_unwatch(w);
    reef_store_unwatch(ws);
    reef_json_doc_free(&d);
    teardown();
}

static void test_service_changes(void)
{
    setup();
    service("web", WEB_SVC);
    /* a Service without a selector keeps its hand-made Endpoints */
    service("manual", "{\"ports\":[{\"port\":80}]}");
    const char *ep = "{\"metadata\":{\"name\":\"manual\"},\"subsets\":[{\"addresses\":[{\"ip\":"
                     "\"192.168.1.1\"}],\"ports\":[{\"port\":80}]}]}";
    CHECK_INT(api("POST", "/api/v1/namespaces/default/endpoints", NULL, ep), ==, 201);
    int64_t mrev1 = 0, mrev2 = 0, krev1 = 0, krev2 = 0;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK(get("endpoints", "manual", &d, &mrev1));
    bool kube = get("endpoints", "kubernetes", &d, &krev1);
    pod("p1", "web", 8080);
    pod_status("p1", "10.42.0.5", true);
    pod("q1", "api", 7000);
    pod_status("q1", "10.42.0.8", true);
    start();
    CHECK(get("endpoints", "manual", &d, &mrev2));
    CHECK_INT(mrev2, ==, mrev1);
    CHECK_STR(str(&d, "subsets[0].addresses[0].ip"), "192.168.1.1");
    CHECK_INT(slices("manual").n, ==, 0);
    CHECK_INT(slices("kubernetes").n, ==, 0);
    if (kube) {
        CHECK(get("endpoints", "kubernetes", &d, &krev2));
        CHECK_INT(krev2, ==, krev1);
    }

    /* a new selector moves the endpoints to other pods */
    CHECK_INT(api("PATCH", "/api/v1/namespaces/default/services/web",
                  "application/merge-patch+json",
                  "{\"spec\":{\"selector\":{\"app\":\"api\"},\"ports\":[{\"name\":\"http\","
                  "\"port\":80,\"targetPort\":7000}]}}"),
              ==, 200);
    spin();
    CHECK(get("endpoints", "web", &d, NULL));
    CHECK_STR(str(&d, "subsets[0].addresses[0].targetRef.name"), "q1");
    CHECK_STR(str(&d, "subsets[0].ports[0].port"), "7000");

    /* the Service goes, and its objects with it; the selector-less one's stay */
    CHECK_INT(api("DELETE", "/api/v1/namespaces/default/services/web", NULL, NULL), ==, 200);
    CHECK_INT(api("DELETE", "/api/v1/namespaces/default/services/manual", NULL, NULL), ==, 200);
    spin();
    CHECK(!get("endpoints", "web", &d, NULL));
    CHECK_INT(slices("web").n, ==, 0);
    CHECK(get("endpoints", "manual", &d, NULL));
    reef_json_doc_free(&d);
    teardown();
}

static void test_headless_and_publish(void)
{
    setup();
    /* headless without ports: bare addresses; publishNotReadyAddresses: not-ready pods count */
    service("db", "{\"clusterIP\":\"None\",\"selector\":{\"app\":\"db\"},"
                  "\"publishNotReadyAddresses\":true}");
    pod("d1", "db", 5432);
    pod("d2", "db", 5432);
    pod("d3", "db", 5432);
    pod_status("d1", "10.42.0.21", false);
    pod_status("d2", "10.42.0.22", true);
    pod_status("d3", "10.42.0.23", true);
    /* a finished pod is no endpoint */
    CHECK_INT(api("PATCH", "/api/v1/namespaces/default/pods/d3/status",
                  "application/merge-patch+json", "{\"status\":{\"phase\":\"Failed\"}}"),
              ==, 200);
    start();
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK(get("endpoints", "db", &d, NULL));
    CHECK_STR(str(&d, "metadata.labels[\"service.kubernetes.io/headless\"]"), "");
    CHECK_INT(reef_json_count(&d, reef_json_find(&d, REEF_JSON_ROOT, "subsets[0].addresses", NULL)),
              ==, 2);
    CHECK(reef_json_find(&d, REEF_JSON_ROOT, "subsets[0].ports", NULL) < 0);
    struct names s = slices("db");
    CHECK_INT(s.n, ==, 1);
    CHECK(get("endpointslices.discovery.k8s.io", s.name[0], &d, NULL));
    /* ready as published, but not serving */
    CHECK_STR(str(&d, "endpoints[0].conditions.ready"), "true");
    CHECK_STR(str(&d, "endpoints[0].conditions.serving"), "false");
    CHECK_STR(str(&d, "endpoints[1].conditions.serving"), "true");
    CHECK_INT(reef_json_count(&d, reef_json_find(&d, REEF_JSON_ROOT, "endpoints", NULL)), ==, 2);
    reef_json_doc_free(&d);
    teardown();
}

static void test_orphans_at_start(void)
{
    setup();
    /* a slice of ours whose Service went while the controller was down */
    const char *sl = "{\"metadata\":{\"name\":\"gone-abcde\",\"labels\":{\"kubernetes.io/"
                     "service-name\":\"gone\",\"endpointslice.kubernetes.io/managed-by\":"
                     "\"endpointslice-controller.k8s.io\"}},\"addressType\":\"IPv4\","
                     "\"endpoints\":[],\"ports\":[]}";
    CHECK_INT(api("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", NULL, sl),
              ==, 201);
    /* and one somebody else manages */
    const char *other = "{\"metadata\":{\"name\":\"gone-x\",\"labels\":{\"kubernetes.io/"
                        "service-name\":\"gone\"}},\"addressType\":\"IPv4\",\"endpoints\":[],"
                        "\"ports\":[]}";
    CHECK_INT(
        api("POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", NULL, other), ==,
        201);
    start();
    struct names s = slices("gone");
    CHECK_INT(s.n, ==, 1);
    CHECK_STR(s.name[0], "gone-x");
    teardown();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_ready_and_not_ready);
    TEST_RUN(test_follows_pods);
    TEST_RUN(test_no_op_and_bursts);
    TEST_RUN(test_service_changes);
    TEST_RUN(test_headless_and_publish);
    TEST_RUN(test_orphans_at_start);
    return test_done();
}
