/* Tests for orchestrate/apiserver through the real HTTP server on 127.0.0.1, the writing side:
 * create/update/delete, validation and defaults, patches, subresources, protobuf bodies, and
 * malformed or mistyped input. The server and client fixture is in apiserver_fixture.h. */
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

static const char *DEP = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{"
                         "\"name\":\"web\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":"
                         "2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
                         "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{"
                         "\"name\":\"a\",\"image\":\"nginx:1\"},{\"name\":\"b\",\"image\":"
                         "\"redis:1\"}]}}}}";

static void test_crud(void)
{
    srv_start();
    struct resp r = post("/api/v1/namespaces/default/configmaps", CM("c1", ""));
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "metadata.namespace"), "default");
    CHECK_STR(js(&r, "kind"), "ConfigMap");
    char rv[32];
    snprintf(rv, sizeof(rv), "%s", js(&r, "metadata.resourceVersion"));
    CHECK(atoi(rv) > 0);
    CHECK_INT(strlen(js(&r, "metadata.uid")), ==, 36);
    resp_free(&r);

    /* dry runs write nothing */
    r = post("/api/v1/namespaces/default/configmaps?dryRun=All", CM("dry", ""));
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "metadata.name"), "dry");
    resp_free(&r);
    r = get("/api/v1/namespaces/default/configmaps/dry");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    r = req("DELETE", "/api/v1/namespaces/default/configmaps/c1?dryRun=All", NULL, NULL, TOKEN,
            NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/configmaps/c1?dryRun=All",
            "application/merge-patch+json", "{\"data\":{\"a\":\"9\"}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "data.a"), "9");
    resp_free(&r);
    r = post("/api/v1/namespaces/default/configmaps?dryRun=All", CM("c1", ""));
    CHECK_INT(r.status, ==, 409);
    resp_free(&r);

    r = post("/api/v1/namespaces/default/configmaps", CM("c1", ""));
    CHECK_INT(r.status, ==, 409);
    CHECK_STR(js(&r, "reason"), "AlreadyExists");
    CHECK_STR(js(&r, "message"), "configmaps \"c1\" already exists");
    resp_free(&r);

    r = get("/api/v1/namespaces/default/configmaps/c1");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "data.a"), "1");
    resp_free(&r);

    r = get("/apis/apps/v1/namespaces/default/deployments/nosuch");
    CHECK_INT(r.status, ==, 404);
    CHECK_STR(js(&r, "reason"), "NotFound");
    CHECK_STR(js(&r, "message"), "deployments.apps \"nosuch\" not found");
    CHECK_STR(js(&r, "details.kind"), "deployments");
    resp_free(&r);

    /* update with the current revision, then with the stale one */
    char body[512];
    snprintf(body, sizeof(body), CM("c1", ",\"resourceVersion\":\"%s\""), rv);
    char *b2 = strdup(body);
    char *p = strstr(b2, "\"1\"}}");
    p[1] = '2';
    r = req("PUT", "/api/v1/namespaces/default/configmaps/c1", "application/json", b2, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "data.a"), "2");
    CHECK(atoi(js(&r, "metadata.resourceVersion")) > atoi(rv));
    resp_free(&r);
    r = req("PUT", "/api/v1/namespaces/default/configmaps/c1", "application/json", body, TOKEN,
            NULL);
    CHECK_INT(r.status, ==, 409);
    CHECK_STR(js(&r, "reason"), "Conflict");
    CHECK_STR(js(&r, "message"),
              "Operation cannot be fulfilled on configmaps \"c1\": the object has been "
              "modified; please apply your changes to the latest version and try again");
    resp_free(&r);
    free(b2);

    /* a PUT naming another object */
    r = req("PUT", "/api/v1/namespaces/default/configmaps/other", "application/json", CM("c1", ""),
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);

    r = req("DELETE", "/api/v1/namespaces/default/configmaps/c1", "application/json",
            "{\"propagationPolicy\":\"Background\"}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.name"), "c1");
    resp_free(&r);
    r = get("/api/v1/namespaces/default/configmaps/c1");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    r = req("DELETE", "/api/v1/namespaces/default/configmaps/c1", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);

    /* cascading: a Deployment owns a ReplicaSet that owns a Pod */
    r = post("/apis/apps/v1/namespaces/default/deployments", DEP);
    CHECK_INT(r.status, ==, 201);
    char duid[64], body2[1024];
    snprintf(duid, sizeof(duid), "%s", js(&r, "metadata.uid"));
    resp_free(&r);
    snprintf(body2, sizeof(body2),
             "{\"metadata\":{\"name\":\"web-1\",\"ownerReferences\":[{\"apiVersion\":"
             "\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"%s\"}]},\"spec\":{"
             "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{"
             "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"a\","
             "\"image\":\"x\"}]}}}}",
             duid);
    r = post("/apis/apps/v1/namespaces/default/replicasets", body2);
    CHECK_INT(r.status, ==, 201);
    snprintf(duid, sizeof(duid), "%s", js(&r, "metadata.uid"));
    resp_free(&r);
    snprintf(body2, sizeof(body2),
             "{\"metadata\":{\"name\":\"web-1-x\",\"ownerReferences\":[{\"apiVersion\":"
             "\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-1\",\"uid\":\"%s\"}]},\"spec\":{"
             "\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
             duid);
    r = post("/api/v1/namespaces/default/pods", body2);
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    /* the same pod bound to a node terminates gracefully instead */
    char *bound = strdup(body2);
    char *at = strstr(bound, "\"web-1-x\"");
    memcpy(at, "\"web-1-y\"", 9);
    at = strstr(bound, "\"spec\":{");
    char body3[1200];
    snprintf(body3, sizeof(body3), "%.*s\"spec\":{\"nodeName\":\"n1\",%s", (int)(at - bound), bound,
             at + 8);
    free(bound);
    r = post("/api/v1/namespaces/default/pods", body3);
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("DELETE", "/apis/apps/v1/namespaces/default/deployments/web", "application/json",
            "{\"propagationPolicy\":\"Background\"}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get("/apis/apps/v1/namespaces/default/replicasets/web-1");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    r = get("/api/v1/namespaces/default/pods/web-1-x");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    r = get("/api/v1/namespaces/default/pods/web-1-y");
    CHECK_INT(r.status, ==, 200);
    CHECK(js(&r, "metadata.deletionTimestamp")[0] != '\0');
    resp_free(&r);
    /* Orphan leaves the dependents */
    r = post("/apis/apps/v1/namespaces/default/deployments", DEP);
    CHECK_INT(r.status, ==, 201);
    snprintf(duid, sizeof(duid), "%s", js(&r, "metadata.uid"));
    resp_free(&r);
    snprintf(body2, sizeof(body2),
             "{\"metadata\":{\"name\":\"orphan\",\"ownerReferences\":[{\"apiVersion\":\"apps/"
             "v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"%s\"}]},\"data\":{}}",
             duid);
    r = post("/api/v1/namespaces/default/configmaps", body2);
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("DELETE", "/apis/apps/v1/namespaces/default/deployments/web", "application/json",
            "{\"propagationPolicy\":\"Orphan\"}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get("/api/v1/namespaces/default/configmaps/orphan");
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = req("DELETE", "/api/v1/namespaces/default/configmaps/orphan", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);

    /* a pod on a node is deleted gracefully: marked first, removed with grace 0 */
    r = post("/api/v1/namespaces/default/pods",
             "{\"metadata\":{\"name\":\"g\"},\"spec\":{\"nodeName\":\"n1\","
             "\"terminationGracePeriodSeconds\":5,\"containers\":[{\"name\":\"a\",\"image\":"
             "\"x\"}]}}");
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("DELETE", "/api/v1/namespaces/default/pods/g", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK(js(&r, "metadata.deletionTimestamp")[0] != '\0');
    CHECK_STR(js(&r, "metadata.deletionGracePeriodSeconds"), "5");
    resp_free(&r);
    r = get("/api/v1/namespaces/default/pods/g");
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = req("DELETE", "/api/v1/namespaces/default/pods/g", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = req("DELETE", "/api/v1/namespaces/default/pods/g", "application/json",
            "{\"gracePeriodSeconds\":0}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get("/api/v1/namespaces/default/pods/g");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);

    /* cluster-scoped: a namespace, and what is in it goes with it */
    r = post("/api/v1/namespaces", "{\"metadata\":{\"name\":\"team\"}}");
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "status.phase"), "Active");
    resp_free(&r);
    r = post("/api/v1/namespaces/team/configmaps", CM("c", ""));
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("DELETE", "/api/v1/namespaces/team", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get("/api/v1/namespaces/team/configmaps/c");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    /* a namespace that does not exist */
    r = post("/api/v1/namespaces/team/configmaps", CM("c", ""));
    CHECK_INT(r.status, ==, 404);
    CHECK_STR(js(&r, "message"), "namespaces \"team\" not found");
    resp_free(&r);
    /* wrong method, unknown resource */
    r = req("PUT", "/api/v1/namespaces/default/configmaps", "application/json", "{}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 405);
    CHECK_STR(js(&r, "reason"), "MethodNotAllowed");
    resp_free(&r);
    /* deletecollection with a selector */
    r = post("/api/v1/namespaces/default/configmaps", CM("k1", ",\"labels\":{\"x\":\"1\"}"));
    resp_free(&r);
    r = post("/api/v1/namespaces/default/configmaps", CM("k2", ",\"labels\":{\"x\":\"1\"}"));
    resp_free(&r);
    r = post("/api/v1/namespaces/default/configmaps", CM("k3", ""));
    resp_free(&r);
    r = req("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=x%3D1", NULL, NULL,
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "status"), "Success");
    resp_free(&r);
    r = get("/api/v1/namespaces/default/configmaps");
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 1);
    CHECK_STR(js(&r, "items[0].metadata.name"), "k3");
    resp_free(&r);
    r = get("/api/v1/namespaces/default/widgets");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    srv_stop();
}

static void test_validation(void)
{
    srv_start();
    struct resp r = post("/api/v1/namespaces/default/configmaps", CM("Bad_Name", ""));
    CHECK_INT(r.status, ==, 422);
    CHECK_STR(js(&r, "reason"), "Invalid");
    CHECK(strncmp(js(&r, "message"),
                  "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": "
                  "a lowercase RFC 1123 subdomain",
                  90) == 0);
    CHECK_STR(js(&r, "details.causes[0].field"), "metadata.name");
    CHECK_STR(js(&r, "details.causes[0].reason"), "FieldValueInvalid");
    resp_free(&r);

    r = post("/api/v1/namespaces/default/configmaps", CM("x", ",\"namespace\":\"kube-system\""));
    CHECK_INT(r.status, ==, 400);
    CHECK_STR(js(&r, "message"), "the namespace of the provided object does not match the "
                                 "namespace sent on the request");
    resp_free(&r);

    r = post("/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"s\"},"
             "\"dta\":{}}");
    CHECK_INT(r.status, ==, 400);
    CHECK_STR(js(&r, "message"), "strict decoding error: unknown field \"dta\"");
    resp_free(&r);

    const char *dep = "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
                      "\"d\"},\"spec\":{\"foo\":1,\"selector\":{\"matchLabels\":{\"app\":\"d\"}},"
                      "\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\"}},\"spec\":{"
                      "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}";
    r = post("/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict", dep);
    CHECK_INT(r.status, ==, 400);
    CHECK_STR(js(&r, "message"), "strict decoding error: unknown field \"spec.foo\"");
    resp_free(&r);

    /* required fields, several causes */
    r = post("/apis/apps/v1/namespaces/default/deployments",
             "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":-1,\"template\":{\"spec\":{"
             "\"containers\":[{\"name\":\"c\"}]}}}}");
    CHECK_INT(r.status, ==, 422);
    CHECK_STR(js(&r, "details.causes[0].field"), "spec.replicas");
    CHECK_STR(js(&r, "details.causes[1].field"), "spec.selector");
    CHECK_STR(js(&r, "details.causes[2].field"), "spec.template.spec.containers[0].image");
    CHECK_STR(js(&r, "details.kind"), "Deployment");
    CHECK(strncmp(js(&r, "message"), "Deployment.apps \"d\" is invalid: [spec.replicas", 46) == 0);
    resp_free(&r);

    /* wrong kind for the URL, and not JSON */
    r = post("/apis/apps/v1/namespaces/default/deployments", CM("x", ""));
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    r = post("/api/v1/namespaces/default/configmaps", "{\"metadata\":");
    CHECK_INT(r.status, ==, 400);
    CHECK_STR(js(&r, "reason"), "BadRequest");
    resp_free(&r);
    r = post("/api/v1/namespaces/default/configmaps", "{\"metadata\":{}}");
    CHECK_INT(r.status, ==, 422);
    resp_free(&r);

    /* immutable fields */
    r = post("/api/v1/namespaces/default/configmaps",
             "{\"metadata\":{\"name\":\"frozen\"},\"immutable\":true,\"data\":{\"a\":\"1\"}}");
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/configmaps/frozen", "application/merge-patch+json",
            "{\"data\":{\"a\":\"2\"}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 422);
    CHECK_STR(js(&r, "details.causes[0].field"), "data");
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/configmaps/frozen", "application/merge-patch+json",
            "{\"metadata\":{\"labels\":{\"ok\":\"yes\"}}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = post("/api/v1/namespaces/default/pods",
             "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
             "\"image\":\"busybox:1\"}]}}");
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/pods/p", "application/strategic-merge-patch+json",
            "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:2\"}]}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/pods/p", "application/merge-patch+json",
            "{\"spec\":{\"nodeName\":\"n1\"}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/pods/p", "application/merge-patch+json",
            "{\"spec\":{\"nodeName\":\"n2\"}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 422);
    CHECK_STR(js(&r, "details.causes[0].reason"), "FieldValueForbidden");
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/pods/p", "application/strategic-merge-patch+json",
            "{\"spec\":{\"containers\":[{\"name\":\"c\",\"command\":[\"sh\"]}]}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 422);
    resp_free(&r);

    /* labels and annotations */
    static const char *const bad_meta[] = {
        "{\"metadata\":{\"name\":\"l\",\"labels\":{\"a\":\"bad value!\"}}}",
        "{\"metadata\":{\"name\":\"l\",\"labels\":{\"-a\":\"x\"}}}",
        "{\"metadata\":{\"name\":\"l\",\"labels\":{\"Bad_Prefix/a\":\"x\"}}}",
        "{\"metadata\":{\"name\":\"l\",\"labels\":{\"a\":\"0123456789012345678901234567890123456789"
        "012345678901234567890123\"}}}",
        "{\"metadata\":{\"name\":\"l\",\"annotations\":{\"a b\":\"x\"}}}",
    };
    for (size_t i = 0; i < sizeof(bad_meta) / sizeof(bad_meta[0]); i++) {
        r = post("/api/v1/namespaces/default/configmaps", bad_meta[i]);
        if (r.status != 422)
            TEST_FAIL("%s: %d %s", bad_meta[i], r.status, r.body);
        resp_free(&r);
    }
    /* a value of the wrong JSON type fails Go's decoding first: 400 */
    r = post("/api/v1/namespaces/default/configmaps",
             "{\"metadata\":{\"name\":\"l\",\"annotations\":{\"a\":1}}}");
    CHECK_INT(r.status, ==, 400);
    CHECK_STR(js(&r, "message"),
              "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot "
              "unmarshal number into Go struct field ObjectMeta.metadata.annotations of type "
              "string");
    resp_free(&r);
    r = post("/api/v1/namespaces/default/configmaps",
             "{\"metadata\":{\"name\":\"l\",\"labels\":{\"app.kubernetes.io/name\":\"My_v.1\","
             "\"e\":\"\"},\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":"
             "\"{}\"}}}");
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);

    /* generateName */
    r = post("/api/v1/namespaces/default/configmaps", "{\"metadata\":{\"generateName\":\"gen-\"}}");
    CHECK_INT(r.status, ==, 201);
    CHECK_INT(strlen(js(&r, "metadata.name")), ==, 9);
    CHECK(strncmp(js(&r, "metadata.name"), "gen-", 4) == 0);
    resp_free(&r);
    srv_stop();
}

static void test_defaults(void)
{
    srv_start();
    struct resp r = post("/apis/apps/v1/namespaces/default/deployments",
                         "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchLabels\":"
                         "{\"app\":\"d\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":"
                         "\"d\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
                         "\"nginx\"},{\"name\":\"e\",\"image\":\"reg:5000/x:1.2\"}]}}}}");
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "apiVersion"), "apps/v1");
    CHECK_STR(js(&r, "spec.replicas"), "1");
    CHECK_STR(js(&r, "spec.revisionHistoryLimit"), "10");
    CHECK_STR(js(&r, "spec.progressDeadlineSeconds"), "600");
    CHECK_STR(js(&r, "spec.strategy.type"), "RollingUpdate");
    CHECK_STR(js(&r, "spec.strategy.rollingUpdate.maxSurge"), "25%");
    CHECK_STR(js(&r, "spec.template.spec.restartPolicy"), "Always");
    CHECK_STR(js(&r, "spec.template.spec.terminationGracePeriodSeconds"), "30");
    CHECK_STR(js(&r, "spec.template.spec.dnsPolicy"), "ClusterFirst");
    CHECK_STR(js(&r, "spec.template.spec.containers[0].imagePullPolicy"), "Always");
    CHECK_STR(js(&r, "spec.template.spec.containers[1].imagePullPolicy"), "IfNotPresent");
    CHECK_STR(js(&r, "metadata.generation"), "1");
    resp_free(&r);

    r = post("/api/v1/namespaces/default/pods",
             "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
             "\"image\":\"busybox:latest\"}]}}");
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "spec.containers[0].imagePullPolicy"), "Always");
    CHECK_STR(js(&r, "status.phase"), "Pending");
    resp_free(&r);

    r = post("/api/v1/namespaces/default/services",
             "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"type\":\"NodePort\",\"selector\":{"
             "\"app\":\"d\"},\"ports\":[{\"port\":80}]}}");
    CHECK_INT(r.status, ==, 201);
    CHECK(strncmp(js(&r, "spec.clusterIP"), "10.43.", 6) == 0);
    CHECK_STR(js(&r, "spec.clusterIPs[0]"), js(&r, "spec.clusterIP"));
    CHECK_STR(js(&r, "spec.ports[0].protocol"), "TCP");
    CHECK_STR(js(&r, "spec.ports[0].targetPort"), "80");
    int np = atoi(js(&r, "spec.ports[0].nodePort"));
    CHECK(np >= 30000 && np <= 32767);
    char ip[64];
    snprintf(ip, sizeof(ip), "%s", js(&r, "spec.clusterIP"));
    resp_free(&r);
    /* the same address asked for again is refused */
    char body[512];
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"name\":\"s2\"},\"spec\":{\"clusterIP\":\"%s\",\"ports\":[{"
             "\"port\":80}]}}",
             ip);
    r = post("/api/v1/namespaces/default/services", body);
    CHECK_INT(r.status, ==, 422);
    CHECK(strstr(js(&r, "message"), "provided IP is already allocated") != NULL);
    resp_free(&r);
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"name\":\"s3\"},\"spec\":{\"type\":\"NodePort\",\"ports\":[{"
             "\"port\":80,\"nodePort\":%d}]}}",
             np);
    r = post("/api/v1/namespaces/default/services", body);
    CHECK_INT(r.status, ==, 422);
    CHECK(strstr(js(&r, "message"), "provided port is already allocated") != NULL);
    resp_free(&r);
    /* an update keeps the allocation */
    r = req("PUT", "/api/v1/namespaces/default/services/s", "application/json",
            "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"type\":\"NodePort\",\"ports\":[{"
            "\"port\":80}]}}",
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "spec.clusterIP"), ip);
    CHECK_INT(atoi(js(&r, "spec.ports[0].nodePort")), ==, np);
    resp_free(&r);
    srv_stop();
}

static void test_patch(void)
{
    srv_start();
    const char *path = "/apis/apps/v1/namespaces/default/deployments/web";
    /* server-side apply creates */
    struct resp r = req("PATCH", path, "application/apply-patch+yaml", DEP, TOKEN, NULL);
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "spec.replicas"), "2");
    resp_free(&r);
    /* strategic merge: one container by its merge key, the other kept */
    r = req("PATCH", path, "application/strategic-merge-patch+json",
            "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":"
            "\"redis:2\"}]}}}}",
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "spec.template.spec.containers[0].image"), "nginx:1");
    CHECK_STR(js(&r, "spec.template.spec.containers[1].image"), "redis:2");
    CHECK_STR(js(&r, "metadata.generation"), "2");
    resp_free(&r);
    /* merge patch replaces lists */
    r = req("PATCH", path, "application/merge-patch+json",
            "{\"metadata\":{\"labels\":{\"color\":\"blue\"}}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.labels.color"), "blue");
    CHECK_STR(js(&r, "metadata.generation"), "2");
    resp_free(&r);
    r = req("PATCH", path, "application/json-patch+json",
            "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":5}]", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "spec.replicas"), "5");
    resp_free(&r);
    r = req("PATCH", path, "application/json-patch+json",
            "[{\"op\":\"test\",\"path\":\"/spec/replicas\",\"value\":7}]", TOKEN, NULL);
    CHECK_INT(r.status, ==, 422);
    resp_free(&r);
    r = req("PATCH", path, "application/json-patch+json", "{}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    r = req("PATCH", path, "text/plain", "{}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 415);
    CHECK_STR(js(&r, "reason"), "UnsupportedMediaType");
    resp_free(&r);
    /* a patch that breaks validation changes nothing */
    r = req("PATCH", path, "application/merge-patch+json", "{\"spec\":{\"replicas\":-3}}", TOKEN,
            NULL);
    CHECK_INT(r.status, ==, 422);
    resp_free(&r);
    r = req("PATCH", path, "application/merge-patch+json",
            "{\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"other\"}},\"template\":{"
            "\"metadata\":{\"labels\":{\"app\":\"other\"}}}}}",
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 422);
    CHECK(strstr(js(&r, "message"), "spec.selector: Invalid value: v1.LabelSelector: field is "
                                    "immutable") != NULL);
    resp_free(&r);
    /* a stale resourceVersion in a patch is a precondition */
    r = req("PATCH", path, "application/merge-patch+json",
            "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"replicas\":1}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 409);
    resp_free(&r);
    r = get(path);
    CHECK_STR(js(&r, "spec.replicas"), "5");
    resp_free(&r);
    /* server-side apply again merges */
    r = req("PATCH", path, "application/apply-patch+yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "spec.replicas"), "3");
    CHECK_STR(js(&r, "spec.template.spec.containers[1].image"), "redis:2");
    resp_free(&r);
    r = req("PATCH", "/apis/apps/v1/namespaces/default/deployments/none",
            "application/merge-patch+json", "{}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    srv_stop();
}

static void test_subresources(void)
{
    srv_start();
    const char *path = "/apis/apps/v1/namespaces/default/deployments/web";
    struct resp r = post("/apis/apps/v1/namespaces/default/deployments", DEP);
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = get("/apis/apps/v1/namespaces/default/deployments/web/scale");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "kind"), "Scale");
    CHECK_STR(js(&r, "apiVersion"), "autoscaling/v1");
    CHECK_STR(js(&r, "spec.replicas"), "2");
    CHECK_STR(js(&r, "status.selector"), "app=web");
    resp_free(&r);
    r = req("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale",
            "application/merge-patch+json", "{\"spec\":{\"replicas\":4}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "kind"), "Scale");
    CHECK_STR(js(&r, "spec.replicas"), "4");
    resp_free(&r);
    r = get(path);
    CHECK_STR(js(&r, "spec.replicas"), "4");
    CHECK_STR(js(&r, "metadata.generation"), "2");
    resp_free(&r);
    /* status: only status changes, generation does not */
    r = req("PUT", "/apis/apps/v1/namespaces/default/deployments/web/status", "application/json",
            "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":9},\"status\":{"
            "\"readyReplicas\":1}}",
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "spec.replicas"), "4");
    CHECK_STR(js(&r, "status.readyReplicas"), "1");
    CHECK_STR(js(&r, "metadata.generation"), "2");
    resp_free(&r);
    /* a main write keeps the status */
    r = req("PATCH", path, "application/merge-patch+json",
            "{\"status\":{\"readyReplicas\":7},\"spec\":{\"paused\":true}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "status.readyReplicas"), "1");
    CHECK_STR(js(&r, "spec.paused"), "true");
    resp_free(&r);
    r = get("/apis/apps/v1/namespaces/default/deployments/web/nosuch");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    srv_stop();
}

/* The protobuf decoder on mutated and truncated envelopes: never a crash, a leak or an invalid
 * JSON result (ASan and the JSON parser check). */
static void test_protobuf_mutations(void)
{
    static const char cm[] = "k8s\0"
                             "\x0a\x0f\x0a\x02v1\x12\x09"
                             "ConfigMap"
                             "\x12\x19"
                             "\x0a\x0d\x0a\x01p\x12\x00\x42\x06\x08\x80\x80\x80\x80\x06"
                             "\x12\x06\x0a\x01"
                             "a\x12\x01"
                             "b"
                             "\x20\x01";
    static const char *const kinds[] = {"ConfigMap", "Secret", "Namespace", "Deployment",
                                        "Service"};
    unsigned seed = 12345;
    char buf[sizeof(cm) + 8];
    size_t ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = sizeof(cm) - 1;
        memcpy(buf, cm, n);
        int muts = 1 + (int)(rand_r(&seed) % 4);
        for (int m = 0; m < muts; m++) {
            size_t at = 4 + rand_r(&seed) % (n - 4);
            switch (rand_r(&seed) % 3) {
            case 0:
                buf[at] = (char)rand_r(&seed);
                break;
            case 1:
                buf[at] ^= (char)(1u << (rand_r(&seed) % 8));
                break;
            default:
                n = at + 1;
                break;
            }
        }
        struct reef_buf out;
        reef_buf_init(&out);
        struct reef_err err = {0};
        int r = reef__api_proto_to_json(kinds[iter % 5], buf, n, &out, &err);
        if (r == 0) {
            struct reef_json_doc d = REEF_JSON_DOC_INIT;
            CHECK_OK(reef_json_parse(&d, out.data, out.len, NULL, &err), &err);
            reef_json_doc_free(&d);
            ok++;
        } else {
            CHECK(r == -EINVAL || r == -EOPNOTSUPP);
            CHECK(err.msg[0] != '\0');
        }
        reef_buf_free(&out);
    }
    CHECK(ok > 0);
    /* the unmutated envelope: creationTimestamp, immutable */
    struct reef_buf out;
    reef_buf_init(&out);
    CHECK_OK(reef__api_proto_to_json("ConfigMap", cm, sizeof(cm) - 1, &out, NULL),
             (&(struct reef_err){0}));
    CHECK(strstr(out.data, "\"immutable\":true") != NULL);
    CHECK(strstr(out.data, "\"creationTimestamp\":\"") != NULL);
    reef_buf_free(&out);
}

/* Every value of real manifests replaced in turn by values of other types, through create,
 * update and every patch type: always an answer below 500, and the server keeps serving. */
static void test_wrong_types(void)
{
    srv_start();
    static const char *const docs[][2] = {
        {"/apis/apps/v1/namespaces/default/deployments", NULL},
        {"/api/v1/namespaces/default/services",
         "{\"metadata\":{\"name\":\"s\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"type\":"
         "\"NodePort\",\"clusterIP\":\"10.43.9.9\",\"selector\":{\"app\":\"d\"},\"ports\":[{"
         "\"port\":80,\"targetPort\":8080,\"nodePort\":30001}]}}"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"x:latest\",\"ports\":[{\"containerPort\":80}],\"env\":[{\"name\":\"A\"}]}]},"
         "\"status\":{\"phase\":\"Running\"}}"},
        {"/api/v1/namespaces/default/configmaps",
         "{\"metadata\":{\"name\":\"c\",\"ownerReferences\":[{\"uid\":\"u\"}]},\"immutable\":"
         "true,\"data\":{\"a\":\"b\"}}"},
    };
    static const char *const repl[] = {"null", "1",    "-7",  "\"s\"",      "[]",
                                       "{}",   "true", "[1]", "{\"a\":{}}", "\"\""};
    static const char *const ptypes[] = {"application/merge-patch+json",
                                         "application/strategic-merge-patch+json",
                                         "application/apply-patch+yaml"};
    int n500 = 0, total = 0;
    for (size_t k = 0; k < sizeof(docs) / sizeof(docs[0]); k++) {
        const char *doc = docs[k][1] ? docs[k][1] : DEP;
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        CHECK_OK(reef_json_parse(&d, doc, strlen(doc), NULL, NULL), (&(struct reef_err){0}));
        for (int v = 1; v < d.ntok; v++) {
            size_t len;
            const char *raw = reef_json_raw(&d, v, &len);
            if (!raw || (raw > doc && raw[-1] != ':' && raw[-1] != '[' && raw[-1] != ','))
                continue; /* object keys */
            for (size_t w = 0; w < 10; w++) {
                const char *with = repl[w];
                char body[2048];
                snprintf(body, sizeof(body), "%.*s%s%s", (int)(raw - doc), doc, with, raw + len);
                struct resp r = post(docs[k][0], body);
                total++;
                n500 += r.status >= 500 || r.status == 0;
                if (r.status >= 500)
                    fprintf(stderr, "POST %s -> %d %s\n", body, r.status, r.body);
                resp_free(&r);
                /* and the same as a patch of the stored original */
                r = post(docs[k][0], doc);
                resp_free(&r);
                char item[256];
                const char *name = k == 0 ? "web" : k == 1 ? "s" : k == 2 ? "p" : "c";
                snprintf(item, sizeof(item), "%s/%s", docs[k][0], name);
                r = req("PATCH", item, ptypes[(v + w) % 3], body, TOKEN, NULL);
                total++;
                n500 += r.status >= 500 || r.status == 0;
                if (r.status >= 500)
                    fprintf(stderr, "PATCH %s -> %d %s\n", body, r.status, r.body);
                resp_free(&r);
                r = req("DELETE", item, NULL, NULL, TOKEN, NULL);
                resp_free(&r);
            }
        }
        reef_json_doc_free(&d);
    }
    CHECK(total > 1000);
    CHECK_INT(n500, ==, 0);
    struct resp r = get("/readyz");
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    srv_stop();
}

/* Malformed bodies, wrong types, deep nesting, huge bodies: a 4xx Status each, nothing written,
 * the server keeps serving. */
static void test_bad_input(void)
{
    srv_start();
    const char *cms = "/api/v1/namespaces/default/configmaps";
    static const char *const bodies[] = {
        "[1,2]",
        "{\"metadata\":\"x\"}",
        "{\"metadata\":{\"name\":\"ok\",\"labels\":{\"a\":1}}}",
        "{\"metadata\":{\"name\":5}}",
        "{\"metadata\":{\"name\":\"ok\"},\"data\":{\"a\":\"\\ud800\"",
        "\xff\xfe",
        "null",
        "{\"apiVersion\":\"v2\",\"metadata\":{\"name\":\"ok\"}}",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct resp r = post(cms, bodies[i]);
        if (r.status < 400 || r.status >= 500)
            TEST_FAIL("body %zu: status %d: %s", i, r.status, r.body);
        CHECK_STR(js(&r, "kind"), "Status");
        resp_free(&r);
    }
    /* 300 levels deep */
    struct reef_buf deep;
    reef_buf_init(&deep);
    reef_buf_puts(&deep, "{\"metadata\":{\"name\":\"deep\"},\"data\":");
    for (int i = 0; i < 300; i++)
        reef_buf_puts(&deep, "{\"a\":");
    reef_buf_puts(&deep, "1");
    for (int i = 0; i < 301; i++)
        reef_buf_putc(&deep, '}');
    struct resp r = post(cms, deep.data);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    reef_buf_free(&deep);
    /* 9 MiB */
    size_t big = 9u << 20;
    char *huge = malloc(big + 1);
    memset(huge, 'a', big);
    memcpy(huge, "{\"metadata\":{\"name\":\"huge\"},\"data\":{\"a\":\"", 40);
    huge[big] = '\0';
    r = post(cms, huge);
    CHECK_INT(r.status, ==, 413);
    resp_free(&r);
    free(huge);
    /* kinds with wrong shapes */
    r = post("/apis/apps/v1/namespaces/default/deployments", "{\"metadata\":{\"name\":\"d\"},"
                                                             "\"spec\":\"x\"}");
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    r = post("/api/v1/namespaces/default/pods",
             "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":\"x\"}}");
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    r = post("/api/v1/namespaces/default/services",
             "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"ports\":[{\"port\":70000}]}}");
    CHECK_INT(r.status, ==, 422);
    resp_free(&r);
    /* a patch that does not apply */
    r = post(cms, CM("c", ""));
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/configmaps/c",
            "application/strategic-merge-patch+json", "{\"data\":{\"$patch\":\"bogus\"}}", TOKEN,
            NULL);
    CHECK(r.status == 400 || r.status == 422);
    resp_free(&r);
    r = req("PATCH", "/api/v1/namespaces/default/configmaps/c", "application/merge-patch+json",
            "{\"data\":", TOKEN, NULL);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    /* the protected namespaces stay */
    r = req("DELETE", "/api/v1/namespaces/default", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 403);
    CHECK_STR(js(&r, "reason"), "Forbidden");
    resp_free(&r);
    /* nothing but c was written, and the server still answers */
    r = get("/api/v1/configmaps");
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 1);
    resp_free(&r);
    r = get("/api/v1/namespaces/default/configmaps/c");
    CHECK_STR(js(&r, "data.a"), "1");
    resp_free(&r);
    r = get("/api/v1/pods");
    CHECK_INT(reef_json_count(&r.d, reef_json_find(&r.d, 0, "items", NULL)), ==, 0);
    resp_free(&r);
    srv_stop();
}

/* kubectl's typed clients send protobuf: a ConfigMap in the k8s envelope, with an unknown field
 * holding its zero value (skipped) and then one holding a value (refused). */
static void test_protobuf(void)
{
    srv_start();
    static const char cm[] = "k8s\0"
                             "\x0a\x0f\x0a\x02v1\x12\x09"
                             "ConfigMap"
                             "\x12\x0f"
                             "\x0a\x05\x0a\x01p\x12\x00"
                             "\x12\x06\x0a\x01"
                             "a\x12\x01"
                             "b";
    const char *pb = "application/vnd.kubernetes.protobuf";
    struct resp r = reqn("POST", "/api/v1/namespaces/default/configmaps", pb, cm, sizeof(cm) - 1,
                         TOKEN, "application/vnd.kubernetes.protobuf,application/json");
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "metadata.name"), "p");
    CHECK_STR(js(&r, "data.a"), "b");
    CHECK_STR(js(&r, "metadata.generateName"), "");
    CHECK(strstr(r.body, "generateName") == NULL);
    resp_free(&r);
    static const char bad[] = "k8s\0"
                              "\x0a\x0f\x0a\x02v1\x12\x09"
                              "ConfigMap"
                              "\x12\x07"
                              "\x0a\x03\x0a\x01q\x48\x01";
    r = reqn("POST", "/api/v1/namespaces/default/configmaps", pb, bad, sizeof(bad) - 1, TOKEN,
             NULL);
    CHECK_INT(r.status, ==, 415);
    resp_free(&r);
    /* truncated */
    r = reqn("POST", "/api/v1/namespaces/default/configmaps", pb, cm, 20, TOKEN, NULL);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    r = reqn("POST", "/api/v1/namespaces/default/pods", pb, cm, sizeof(cm) - 1, TOKEN, NULL);
    CHECK_INT(r.status, ==, 415);
    resp_free(&r);
    r = get("/api/v1/namespaces/default/configmaps/q");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);
    srv_stop();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_crud);
    TEST_RUN(test_validation);
    TEST_RUN(test_defaults);
    TEST_RUN(test_patch);
    TEST_RUN(test_subresources);
    TEST_RUN(test_protobuf);
    TEST_RUN(test_protobuf_mutations);
    TEST_RUN(test_bad_input);
    TEST_RUN(test_wrong_types);
    return test_done();
}
