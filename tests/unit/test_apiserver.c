/* Tests for orchestrate/apiserver through the real HTTP server on 127.0.0.1, the reading side:
 * authentication, discovery, lists (and Table output), watches and their limits. Writes and input
 * validation are in test_apiserver_write.c; the shared fixture is in apiserver_fixture.h. */
#include "orchestrate/apiserver.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/http_client.h"
#include "core/json.h"
#include "tests/unit/apiserver_fixture.h"
#include "tests/unit/test.h"

/* ---- tests ---- */

static void test_auth(void)
{
    srv_start();
    struct resp r = req("GET", "/api/v1/pods", NULL, NULL, NULL, NULL);
    CHECK_INT(r.status, ==, 401);
    CHECK_STR(js(&r, "kind"), "Status");
    CHECK_STR(js(&r, "reason"), "Unauthorized");
    CHECK_STR(js(&r, "code"), "401");
    resp_free(&r);
    r = req("GET", "/api/v1/pods", NULL, NULL, "bad", NULL);
    CHECK_INT(r.status, ==, 401);
    resp_free(&r);
    /* refused before its body is read */
    r = req("POST", "/api/v1/namespaces/default/configmaps", "application/json", CM("x", ""), "bad",
            NULL);
    CHECK_INT(r.status, ==, 401);
    CHECK_STR(js(&r, "reason"), "Unauthorized");
    resp_free(&r);
    r = req("GET", "/readyz", NULL, NULL, NULL, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get("/api/v1/pods");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "kind"), "PodList");
    resp_free(&r);
    /* what every cluster has */
    r = get("/api/v1/namespaces/default/services/kubernetes");
    CHECK_STR(js(&r, "spec.clusterIP"), "10.43.0.1");
    CHECK_STR(js(&r, "spec.ports[0].targetPort"), "6443");
    resp_free(&r);
    r = get("/api/v1/namespaces/kube-system");
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    srv_stop();
}

static void test_discovery(void)
{
    srv_start();
    struct resp r = get("/version");
    CHECK_STR(js(&r, "major"), "1");
    CHECK_STR(js(&r, "minor"), "32");
    resp_free(&r);
    const char *agg = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                      "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                      "application/json";
    r = req("GET", "/api", NULL, NULL, TOKEN, agg);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.ctype, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    CHECK_STR(js(&r, "kind"), "APIGroupDiscoveryList");
    CHECK_STR(js(&r, "items[0].versions[0].resources[2].resource"), "pods");
    CHECK_STR(js(&r, "items[0].versions[0].resources[2].shortNames[0]"), "po");
    resp_free(&r);
    r = req("GET", "/apis", NULL, NULL, TOKEN, agg);
    CHECK_STR(js(&r, "items[0].metadata.name"), "apps");
    CHECK_STR(js(&r, "items[0].versions[0].resources[0].subresources[0].responseKind.kind"),
              "Scale");
    resp_free(&r);
    /* v2beta1 alone is not v2: legacy */
    r = req("GET", "/api", NULL, NULL, TOKEN,
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList");
    CHECK_STR(js(&r, "kind"), "APIVersions");
    CHECK_STR(js(&r, "versions[0]"), "v1");
    resp_free(&r);
    r = get("/apis");
    CHECK_STR(js(&r, "kind"), "APIGroupList");
    CHECK_STR(js(&r, "groups[0].preferredVersion.groupVersion"), "apps/v1");
    resp_free(&r);
    r = get("/apis/apps/v1");
    CHECK_STR(js(&r, "kind"), "APIResourceList");
    CHECK_STR(js(&r, "groupVersion"), "apps/v1");
    CHECK(strstr(r.body, "\"deployments/scale\"") != NULL);
    resp_free(&r);
    r = get("/api/v1");
    CHECK(strstr(r.body, "\"pods/log\"") != NULL);
    resp_free(&r);
    r = get("/apis/nosuch.io/v1");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    r = get("/openapi/v2");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.body, "");
    resp_free(&r);
    r = get("/openapi/v3");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    srv_stop();
}

static const char *TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

static void test_list(void)
{
    srv_start();
    static const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"tier\":\"%s\"}},\"data\":{}}",
                 names[i], i % 2 ? "back" : "front");
        struct resp r = post("/api/v1/namespaces/default/configmaps", body);
        CHECK_INT(r.status, ==, 201);
        resp_free(&r);
    }
    struct resp r = post("/api/v1/namespaces/kube-system/configmaps", CM("k", ""));
    resp_free(&r);
    r = get("/api/v1/namespaces/default/configmaps");
    CHECK_STR(js(&r, "kind"), "ConfigMapList");
    CHECK_STR(js(&r, "apiVersion"), "v1");
    CHECK(atoi(js(&r, "metadata.resourceVersion")) > 0);
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 4);
    resp_free(&r);
    r = get("/api/v1/configmaps");
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 5);
    resp_free(&r);
    r = get("/api/v1/configmaps?labelSelector=tier%3Dback");
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 2);
    CHECK_STR(js(&r, "items[0].metadata.name"), "b");
    resp_free(&r);
    r = get("/api/v1/configmaps?labelSelector=tier+in+(front)&fieldSelector=metadata.name!%3Da");
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 1);
    CHECK_STR(js(&r, "items[0].metadata.name"), "c");
    resp_free(&r);
    r = get("/api/v1/configmaps?fieldSelector=metadata.namespace%3Dkube-system");
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 1);
    resp_free(&r);
    r = get("/api/v1/configmaps?labelSelector=%3D%3D");
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    r = get("/api/v1/configmaps?fieldSelector=spec.nodeName%3Dx");
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    /* a badly escaped selector is refused, not ignored */
    r = get("/api/v1/configmaps?labelSelector=tier%3");
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    /* pages */
    r = get("/api/v1/namespaces/default/configmaps?limit=3");
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 3);
    char cont[1200], path[1400];
    snprintf(cont, sizeof(cont), "%s", js(&r, "metadata.continue"));
    CHECK(cont[0] != '\0');
    resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/namespaces/default/configmaps?limit=3&continue=%s", cont);
    r = get(path);
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 1);
    CHECK_STR(js(&r, "items[0].metadata.name"), "d");
    CHECK_STR(js(&r, "metadata.continue"), "");
    resp_free(&r);
    /* Tables */
    r = req("GET", "/api/v1/namespaces/default/configmaps", NULL, NULL, TOKEN, TABLE_ACCEPT);
    CHECK_STR(js(&r, "kind"), "Table");
    CHECK_STR(js(&r, "apiVersion"), "meta.k8s.io/v1");
    CHECK(atoi(js(&r, "metadata.resourceVersion")) > 0);
    CHECK_STR(js(&r, "columnDefinitions[0].name"), "Name");
    CHECK_STR(js(&r, "rows[0].cells[0]"), "a");
    CHECK_STR(js(&r, "rows[0].object.kind"), "PartialObjectMetadata");
    CHECK_STR(js(&r, "rows[0].object.metadata.labels.tier"), "front");
    CHECK_STR(js(&r, "rows[0].object.data"), "");
    resp_free(&r);
    r = req("GET", "/api/v1/namespaces/default/configmaps/b?includeObject=Object", NULL, NULL,
            TOKEN, TABLE_ACCEPT);
    CHECK_STR(js(&r, "kind"), "Table");
    CHECK_STR(js(&r, "rows[0].object.kind"), "ConfigMap");
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "rows", NULL)), ==, 1);
    resp_free(&r);
    srv_stop();
}

struct watch_thread {
    pthread_t th;
    char path[512];
    const char *accept;
    struct resp r;
};

static void *watch_main(void *arg)
{
    struct watch_thread *w = arg;
    w->r = req("GET", w->path, NULL, NULL, TOKEN, w->accept);
    return NULL;
}

static void test_watch(void)
{
    srv_start();
    struct resp r = post("/api/v1/namespaces/default/configmaps", CM("before", ""));
    char rv[32];
    snprintf(rv, sizeof(rv), "%s", js(&r, "metadata.resourceVersion"));
    resp_free(&r);
    /* from a revision, filtered by label; a second one from "now" with the initial ADDED, as
     * Tables */
    struct watch_thread w1 = {0}, w2 = {0};
    snprintf(w1.path, sizeof(w1.path),
             "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=%s&"
             "timeoutSeconds=2&labelSelector=w%%3D1",
             rv);
    snprintf(w2.path, sizeof(w2.path), "/api/v1/configmaps?watch=1&timeoutSeconds=2");
    w2.accept = TABLE_ACCEPT;
    CHECK(pthread_create(&w1.th, NULL, watch_main, &w1) == 0);
    CHECK(pthread_create(&w2.th, NULL, watch_main, &w2) == 0);
    usleep(300 * 1000);
    r = post("/api/v1/namespaces/default/configmaps", CM("x", ",\"labels\":{\"w\":\"1\"}"));
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = post("/api/v1/namespaces/default/configmaps", CM("other", ""));
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/configmaps/x", "application/merge-patch+json",
            "{\"data\":{\"a\":\"2\"}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = req("DELETE", "/api/v1/namespaces/default/configmaps/x", NULL, NULL, TOKEN, NULL);
    resp_free(&r);
    pthread_join(w1.th, NULL);
    pthread_join(w2.th, NULL);
    CHECK_INT(w1.r.status, ==, 200);
    /* exactly three lines: ADDED, MODIFIED, DELETED of x */
    const char *b = w1.r.body;
    CHECK(strncmp(b, "{\"type\":\"ADDED\",\"object\":{", 26) == 0);
    const char *m = strstr(b, "\n{\"type\":\"MODIFIED\"");
    CHECK(m != NULL);
    const char *d = strstr(m + 1, "\n{\"type\":\"DELETED\"");
    CHECK(d != NULL);
    CHECK(strchr(d + 1, '\n') == strrchr(b, '\n'));
    CHECK(strstr(b, "\"other\"") == NULL);
    CHECK(strstr(b, "\"before\"") == NULL);
    /* the Table watch: "before" first (initial state), then every change */
    b = w2.r.body;
    CHECK(strncmp(b, "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Table\"", 40) == 0);
    CHECK(strstr(b, "\"cells\":[\"before\"") != NULL);
    CHECK(strstr(b, "\"cells\":[\"other\"") != NULL);
    CHECK(strstr(b, "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Table\"") != NULL);
    resp_free(&w1.r);
    resp_free(&w2.r);

    /* compacted history: 410 Expired as an ERROR event */
    uv_async_send(&S.compact);
    for (int i = 0; i < 100 && atomic_load(&S.compacted) == 0; i++)
        usleep(10 * 1000);
    CHECK(atomic_load(&S.compacted) > 2);
    r = get("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1");
    CHECK_INT(r.status, ==, 200);
    CHECK(strstr(r.body, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\"") == r.body);
    CHECK(strstr(r.body, "\"reason\":\"Expired\"") != NULL);
    CHECK(strstr(r.body, "\"code\":410") != NULL);
    resp_free(&r);

    /* a watch open at shutdown is ended, not waited for */
    struct watch_thread w3 = {0};
    snprintf(w3.path, sizeof(w3.path), "/api/v1/configmaps?watch=true");
    CHECK(pthread_create(&w3.th, NULL, watch_main, &w3) == 0);
    usleep(200 * 1000);
    int64_t t0 = reef__api_now_ms();
    srv_stop();
    pthread_join(w3.th, NULL);
    CHECK(reef__api_now_ms() - t0 < 400);
    CHECK_INT(w3.r.status, ==, 200);
    CHECK(strstr(w3.r.body, "\"name\":\"before\"") != NULL);
    resp_free(&w3.r);
}

/* Many open watches do not slow a plain request; a client that leaves frees its watch. */
static void test_many_watches(void)
{
    srv_start();
    enum { N = 200 };
    struct watch_thread *w = calloc(N, sizeof(*w));
    for (int i = 0; i < N; i++) {
        snprintf(w[i].path, sizeof(w[i].path),
                 "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2");
        CHECK(pthread_create(&w[i].th, NULL, watch_main, &w[i]) == 0);
    }
    usleep(500 * 1000);
    int64_t t0 = reef__api_now_ms();
    struct resp r = post("/api/v1/namespaces/default/configmaps", CM("z", ""));
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = get("/api/v1/namespaces/default/configmaps/z");
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK(reef__api_now_ms() - t0 < 500);
    for (int i = 0; i < N; i++) {
        pthread_join(w[i].th, NULL);
        CHECK(strstr(w[i].r.body, "\"name\":\"z\"") != NULL);
        resp_free(&w[i].r);
    }
    free(w);
    srv_stop();
}

/* Thousands of watches on one client loop in another thread: an update reaches all of them
 * within a second, and a plain request meanwhile is answered at once. */
struct mass {
    pthread_t th;
    uv_loop_t loop;
    uv_async_t stop;
    struct reef_http_client *cl;
    int n;
    atomic_int heads, got, done;
};

static int mass_head(void *ud, const struct reef_http_response *res)
{
    struct mass *m = ud;
    if (res->status == 200)
        atomic_fetch_add(&m->heads, 1);
    return 0;
}

static int mass_data(void *ud, const char *data, size_t len)
{
    struct mass *m = ud;
    if (memmem(data, len, "\"name\":\"z\"", 10))
        atomic_fetch_add(&m->got, 1);
    return 0;
}

static void mass_done(void *ud, int result, const struct reef_http_response *res,
                      const struct reef_err *err)
{
    (void)result;
    (void)res;
    (void)err;
    struct mass *m = ud;
    atomic_fetch_add(&m->done, 1);
}

static void mass_stop(uv_async_t *a)
{
    struct mass *m = a->data;
    uv_close((uv_handle_t *)&m->stop, NULL);
    reef_http_client_free(m->cl);
}

static void *mass_main(void *arg)
{
    struct mass *m = arg;
    char url[256];
    snprintf(url, sizeof(url),
             "http://127.0.0.1:%d/api/v1/namespaces/default/configmaps?watch=1&"
             "timeoutSeconds=30",
             S.port);
    for (int i = 0; i < m->n; i++) {
        struct reef_http_request rq = {
            .url = url, .bearer_token = TOKEN, .on_head = mass_head, .on_data = mass_data};
        if (reef_http_client_request(m->cl, &rq, mass_done, m, NULL, NULL) < 0)
            break;
    }
    uv_run(&m->loop, UV_RUN_DEFAULT);
    uv_loop_close(&m->loop);
    return NULL;
}

static void test_thousands_of_watches(void)
{
    srv_start();
    static struct mass m;
    memset(&m, 0, sizeof(m));
    m.n = 3000;
    uv_loop_init(&m.loop);
    uv_async_init(&m.loop, &m.stop, mass_stop);
    m.stop.data = &m;
    struct reef_http_client_opts co = {.max_idle_per_host = 4};
    m.cl = reef_http_client_new(&m.loop, &co, NULL);
    CHECK(m.cl != NULL);
    CHECK(pthread_create(&m.th, NULL, mass_main, &m) == 0);
    for (int i = 0; i < 1000 && atomic_load(&m.heads) < m.n; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&m.heads), ==, m.n);
    int64_t t0 = reef__api_now_ms();
    struct resp r = get("/api/v1/namespaces/default/configmaps");
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK(reef__api_now_ms() - t0 < 200);
    t0 = reef__api_now_ms();
    r = post("/api/v1/namespaces/default/configmaps", CM("z", ""));
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    while (atomic_load(&m.got) < m.n && reef__api_now_ms() - t0 < 5000)
        usleep(1000);
    int64_t took = reef__api_now_ms() - t0;
    CHECK_INT(atomic_load(&m.got), ==, m.n);
    CHECK(took < 1000);
    CHECK_INT(reef_apiserver_watches(S.api), ==, (size_t)m.n);
    uv_async_send(&m.stop);
    pthread_join(m.th, NULL);
    CHECK_INT(atomic_load(&m.done), ==, m.n);
    /* the clients left: their watches are gone (the count is read across threads, once it
     * settled) */
    for (int i = 0; i < 200 && reef_apiserver_watches(S.api) > 0; i++)
        usleep(10 * 1000);
    CHECK_INT(reef_apiserver_watches(S.api), ==, 0);
    srv_stop();
}

/* A watcher that never reads is cut off once its connection holds a few MiB, instead of the
 * server buffering without bound; other clients are served meanwhile. */
static void test_stuck_watcher(void)
{
    srv_start();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    int small = 16384;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)S.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    char rq[512];
    int n = snprintf(rq, sizeof(rq),
                     "GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\n"
                     "Host: x\r\nAuthorization: Bearer " TOKEN "\r\n\r\n");
    CHECK(write(fd, rq, (size_t)n) == n);
    for (int i = 0; i < 50 && reef_apiserver_watches(S.api) == 0; i++)
        usleep(10 * 1000);
    CHECK_INT(reef_apiserver_watches(S.api), ==, 1);
    /* 200 objects of 64 KiB: 12.5 MiB of events for a client that reads nothing */
    size_t big = 64 * 1024;
    char *body = malloc(big + 128);
    int64_t worst = 0;
    for (int i = 0; i < 200; i++) {
        int h = snprintf(body, 128, "{\"metadata\":{\"name\":\"b%d\"},\"data\":{\"a\":\"", i);
        memset(body + h, 'x', big);
        strcpy(body + h + big, "\"}}");
        int64_t t0 = reef__api_now_ms();
        struct resp r = post("/api/v1/namespaces/default/configmaps", body);
        CHECK_INT(r.status, ==, 201);
        resp_free(&r);
        if (reef__api_now_ms() - t0 > worst)
            worst = reef__api_now_ms() - t0;
    }
    free(body);
    CHECK(worst < 500);
    CHECK_INT(reef_apiserver_watches(S.api), ==, 0);
    close(fd);
    srv_stop();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_auth);
    TEST_RUN(test_discovery);
    TEST_RUN(test_list);
    TEST_RUN(test_watch);
    TEST_RUN(test_many_watches);
    TEST_RUN(test_thousands_of_watches);
    TEST_RUN(test_stuck_watcher);
    return test_done();
}
