/* Tests for orchestrate/apiserver against Kubernetes 1.32's behaviour: the defaults its
 * defaulters apply (pods, pod templates, services, qosClass), Go's type errors for mistyped
 * fields, the garbage collector's Orphan and Foreground deletion and finalizers; and that the
 * store's filtered lists stay on their indexes. */
#include "orchestrate/apiserver.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/http_client.h"
#include "core/json.h"
#include "orchestrate/store_plan.h"
#include "tests/unit/apiserver_fixture.h"
#include "tests/unit/test.h"

/* ---- store: filtered lists use their index, never the walk of a whole resource ---- */

static char *plan(struct reef_store *s, const struct reef_store_list_opts *o)
{
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_INT(reef__store_list_plan(s, "pods", o, &b, &err), ==, 0);
    reef_buf_putc(&b, '\0');
    return reef_buf_steal(&b);
}

struct seen {
    char prev[2 * REEF_STORE_MAX_NAME + 2];
    size_t n;
    bool sorted;
};

static int list_cb(void *arg, const struct reef_store_item *it)
{
    struct seen *sn = arg;
    char key[sizeof(sn->prev)];
    snprintf(key, sizeof(key), "%s/%s", it->namespace, it->name);
    if (sn->n && strcmp(key, sn->prev) <= 0)
        sn->sorted = false;
    memcpy(sn->prev, key, sizeof(key));
    sn->n++;
    return 0;
}

static void test_list_plans(void)
{
    struct reef_store *s = NULL;
    struct reef_err err = {0};
    CHECK_INT(reef_store_open(NULL, NULL, &s, &err), ==, 0);
    struct {
        struct reef_store_list_opts o;
        const char *want;
    } cases[] = {
        {{.node_name = "n1"}, "USING INDEX object_node (resource=? AND node=?)"},
        {{.node_name = ""}, "USING INDEX object_node (resource=? AND node=?)"},
        {{.node_name = "n1", .namespace = "default"}, "USING INDEX object_node"},
        {{.node_name = "n1", .continue_token = "x"}, "USING INDEX object_node"},
        {{.phase = "Running"}, "USING INDEX object_phase (resource=? AND phase=?)"},
        {{.owner_uid = "u"}, "USING COVERING INDEX owner_uid (uid=?)"},
        {{.owner_uid = "u", .namespace = "default", .continue_token = "x"}, "owner_uid (uid=?)"},
        {{.namespace = "default"}, "sqlite_autoindex_object_1 (resource=? AND namespace=?)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = plan(s, &cases[i].o);
        if (!strstr(p, cases[i].want))
            fprintf(stderr, "case %zu: %s\n", i, p);
        CHECK(strstr(p, cases[i].want) != NULL);
        CHECK(strstr(p, "SCAN") == NULL);
        if (cases[i].o.node_name || cases[i].o.phase || cases[i].o.owner_uid)
            CHECK(strstr(p, "sqlite_autoindex_object_1") == NULL);
        free(p);
    }
    /* and the lists still answer in order, across pages */
    for (int i = 0; i < 40; i++) {
        char name[16], obj[256];
        snprintf(name, sizeof(name), "p%02d", 39 - i);
        snprintf(obj, sizeof(obj),
                 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"ownerReferences\":[{"
                 "\"uid\":\"own\"}]},\"spec\":{\"nodeName\":\"%s\"},\"status\":{\"phase\":"
                 "\"Running\"}}",
                 name, i % 2 ? "a" : "b", i % 4 < 2 ? "n1" : "n2");
        struct reef_store_cmd c = {.op = REEF_STORE_CREATE,
                                   .resource = "pods",
                                   .namespace = i % 2 ? "a" : "b",
                                   .name = name,
                                   .object = obj,
                                   .object_len = strlen(obj),
                                   .timestamp_ms = 1};
        CHECK_INT(reef_store_new_uid(c.uid, NULL), ==, 0);
        CHECK_INT(reef_store_apply(s, &c, NULL, &err), ==, 0);
    }
    static const struct reef_store_list_opts filters[] = {
        {.node_name = "n1", .limit = 3}, {.owner_uid = "own", .limit = 7}, {.phase = "Running"}};
    for (size_t f = 0; f < 3; f++) {
        struct reef_store_list_opts o = filters[f];
        struct reef_store_list_result lr;
        struct seen it = {.sorted = true};
        char tok[REEF_STORE_TOKEN_MAX] = "";
        do {
            o.continue_token = tok[0] ? tok : NULL;
            CHECK_INT(reef_store_list(s, "pods", &o, list_cb, &it, &lr, &err), ==, 0);
            snprintf(tok, sizeof(tok), "%s", lr.continue_token);
        } while (tok[0]);
        CHECK(it.sorted);
        CHECK_INT(it.n, ==, f == 0 ? 20 : 40);
    }
    reef_store_close(s);
}

/* ---- defaults ---- */

/* js(), but NULL when the member is absent. */
static const char *jsn(struct resp *r, const char *path)
{
    if (!r->json || reef_json_find(&r->d, REEF_JSON_ROOT, path, NULL) < 0)
        return NULL;
    return js(r, path);
}

#define CONTAINER_WITH_EVERYTHING                                                                  \
    "{\"name\":\"c\",\"image\":\"nginx:1\",\"ports\":[{\"containerPort\":80}],\"env\":[{"          \
    "\"name\":\"N\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}],"             \
    "\"livenessProbe\":{\"httpGet\":{\"port\":80}},\"readinessProbe\":{\"grpc\":{\"port\":9},"     \
    "\"periodSeconds\":0,\"timeoutSeconds\":5},\"startupProbe\":{\"exec\":{\"command\":[\"t\"]}}," \
    "\"lifecycle\":{\"preStop\":{\"httpGet\":{\"port\":81,\"path\":\"/q\"}}},\"resources\":{"      \
    "\"limits\":{\"cpu\":\"1\"}}}"
#define VOLUMES                                                                                    \
    "[{\"name\":\"e\"},{\"name\":\"cm\",\"configMap\":{\"name\":\"x\"}},{\"name\":\"s\","          \
    "\"secret\":{\"secretName\":\"x\",\"defaultMode\":256}},{\"name\":\"h\",\"hostPath\":{"        \
    "\"path\":\"/x\"}},{\"name\":\"d\",\"downwardAPI\":{\"items\":[{\"path\":\"n\",\"fieldRef\":{" \
    "\"fieldPath\":\"metadata.name\"}}]}},{\"name\":\"p\",\"projected\":{\"sources\":[{"           \
    "\"serviceAccountToken\":{\"path\":\"t\"}}]}}]"

/* What every pod spec and pod template spec gets (SetDefaults_PodSpec and the generated
 * walker), checked under prefix. */
static void check_spec_defaults(struct resp *r, const char *prefix)
{
    char f[256];
#define AT(path) (snprintf(f, sizeof(f), "%s.%s", prefix, path), jsn(r, f) ? jsn(r, f) : "(absent)")
    CHECK_STR(AT("dnsPolicy"), "ClusterFirst");
    CHECK_STR(AT("schedulerName"), "default-scheduler");
    CHECK_STR(AT("restartPolicy"), "Always");
    CHECK_STR(AT("terminationGracePeriodSeconds"), "30");
    CHECK_STR(AT("containers[0].terminationMessagePath"), "/dev/termination-log");
    CHECK_STR(AT("containers[0].terminationMessagePolicy"), "File");
    CHECK_STR(AT("containers[0].ports[0].protocol"), "TCP");
    CHECK_STR(AT("containers[0].env[0].valueFrom.fieldRef.apiVersion"), "v1");
    CHECK_STR(AT("containers[0].livenessProbe.timeoutSeconds"), "1");
    CHECK_STR(AT("containers[0].livenessProbe.periodSeconds"), "10");
    CHECK_STR(AT("containers[0].livenessProbe.successThreshold"), "1");
    CHECK_STR(AT("containers[0].livenessProbe.failureThreshold"), "3");
    CHECK_STR(AT("containers[0].livenessProbe.httpGet.path"), "/");
    CHECK_STR(AT("containers[0].livenessProbe.httpGet.scheme"), "HTTP");
    CHECK_STR(AT("containers[0].readinessProbe.grpc.service"), "");
    CHECK_STR(AT("containers[0].readinessProbe.periodSeconds"), "10"); /* 0 is unset */
    CHECK_STR(AT("containers[0].readinessProbe.timeoutSeconds"), "5"); /* given stays */
    CHECK_STR(AT("containers[0].startupProbe.failureThreshold"), "3");
    CHECK_STR(AT("containers[0].lifecycle.preStop.httpGet.scheme"), "HTTP");
    CHECK_STR(AT("containers[0].lifecycle.preStop.httpGet.path"), "/q");
    CHECK_STR(AT("volumes[0].emptyDir"), "{}");
    CHECK_STR(AT("volumes[1].configMap.defaultMode"), "420");
    CHECK_STR(AT("volumes[2].secret.defaultMode"), "256");
    CHECK_STR(AT("volumes[3].hostPath.type"), "");
    CHECK_STR(AT("volumes[4].downwardAPI.defaultMode"), "420");
    CHECK_STR(AT("volumes[4].downwardAPI.items[0].fieldRef.apiVersion"), "v1");
    CHECK_STR(AT("volumes[5].projected.defaultMode"), "420");
    CHECK_STR(AT("volumes[5].projected.sources[0].serviceAccountToken.expirationSeconds"), "3600");
    CHECK_STR(AT("securityContext"), "{}");
#undef AT
}

static void test_pod_defaults(void)
{
    srv_start();
    struct resp r = post("/api/v1/namespaces/default/pods",
                         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"volumes\":" VOLUMES
                         ",\"containers\":[" CONTAINER_WITH_EVERYTHING "]}}");
    CHECK_INT(r.status, ==, 201);
    check_spec_defaults(&r, "spec");
    /* SetDefaults_Pod: pods only */
    CHECK_STR(js(&r, "spec.enableServiceLinks"), "true");
    CHECK_STR(js(&r, "spec.containers[0].resources.requests.cpu"), "1");
    CHECK_STR(js(&r, "status.qosClass"), "Burstable");
    CHECK_STR(js(&r, "status.phase"), "Pending");
    resp_free(&r);
    /* host networking makes container ports host ports */
    r = post("/api/v1/namespaces/default/pods",
             "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"hostNetwork\":true,\"enableServiceLinks\":"
             "false,\"securityContext\":null,\"containers\":[{\"name\":\"c\",\"image\":\"i\","
             "\"resources\":null,\"ports\":[{\"containerPort\":8080}]}]}}");
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "spec.containers[0].ports[0].hostPort"), "8080");
    CHECK_STR(js(&r, "spec.enableServiceLinks"), "false");
    CHECK_STR(js(&r, "spec.securityContext"), "{}");
    CHECK_STR(js(&r, "spec.containers[0].resources"), "{}");
    CHECK_STR(js(&r, "status.qosClass"), "BestEffort");
    resp_free(&r);
    srv_stop();
}

static void test_template_defaults(void)
{
    srv_start();
    static const char *const kinds[][2] = {{"deployments", "d"}, {"replicasets", "rs"}};
    for (size_t k = 0; k < 2; k++) {
        char path[128], body[4096];
        snprintf(path, sizeof(path), "/apis/apps/v1/namespaces/default/%s", kinds[k][0]);
        snprintf(body, sizeof(body),
                 "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"selector\":{\"matchLabels\":{"
                 "\"app\":\"a\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"a\"}},"
                 "\"spec\":{\"volumes\":" VOLUMES ",\"containers\":[" CONTAINER_WITH_EVERYTHING
                 "]}}}}",
                 kinds[k][1]);
        struct resp r = post(path, body);
        CHECK_INT(r.status, ==, 201);
        check_spec_defaults(&r, "spec.template.spec");
        CHECK_STR(js(&r, "spec.replicas"), "1");
        /* SetDefaults_Pod's part is not applied to templates (it would change their hash) */
        CHECK(jsn(&r, "spec.template.spec.enableServiceLinks") == NULL);
        CHECK(jsn(&r, "spec.template.spec.containers[0].resources.requests") == NULL);
        resp_free(&r);
    }
    srv_stop();
}

static void test_service_defaults(void)
{
    srv_start();
    struct resp r = post("/api/v1/namespaces/default/services",
                         "{\"metadata\":{\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\","
                         "\"sessionAffinity\":\"ClientIP\",\"ports\":[{\"port\":80,\"targetPort\":"
                         "0},{\"port\":81,\"protocol\":\"UDP\",\"targetPort\":\"http\"}]}}");
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "spec.externalTrafficPolicy"), "Cluster");
    CHECK_STR(js(&r, "spec.internalTrafficPolicy"), "Cluster");
    CHECK_STR(js(&r, "spec.allocateLoadBalancerNodePorts"), "true");
    CHECK_STR(js(&r, "spec.sessionAffinityConfig.clientIP.timeoutSeconds"), "10800");
    CHECK_STR(js(&r, "spec.ports[0].targetPort"), "80");
    CHECK_STR(js(&r, "spec.ports[0].protocol"), "TCP");
    CHECK_STR(js(&r, "spec.ports[1].targetPort"), "http");
    CHECK_STR(js(&r, "spec.ports[1].protocol"), "UDP");
    resp_free(&r);
    r = post("/api/v1/namespaces/default/services",
             "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"sessionAffinityConfig\":{\"clientIP\":{"
             "\"timeoutSeconds\":5}},\"ports\":[{\"port\":80}]}}");
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "spec.type"), "ClusterIP");
    CHECK_STR(js(&r, "spec.sessionAffinity"), "None");
    CHECK(jsn(&r, "spec.sessionAffinityConfig") == NULL);
    CHECK(jsn(&r, "spec.externalTrafficPolicy") == NULL);
    CHECK(jsn(&r, "spec.allocateLoadBalancerNodePorts") == NULL);
    CHECK_STR(js(&r, "spec.internalTrafficPolicy"), "Cluster");
    resp_free(&r);
    /* externally reachable through externalIPs */
    r = post("/api/v1/namespaces/default/services",
             "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"externalIPs\":[\"192.0.2.1\"],\"ports\":"
             "[{\"port\":80}]}}");
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "spec.externalTrafficPolicy"), "Cluster");
    resp_free(&r);
    r = post("/api/v1/namespaces/default/services",
             "{\"metadata\":{\"name\":\"en\"},\"spec\":{\"type\":\"ExternalName\",\"externalName\":"
             "\"example.com\",\"ports\":[{\"port\":80}]}}");
    CHECK_INT(r.status, ==, 201);
    CHECK_STR(js(&r, "spec.ports[0].protocol"), "TCP");
    CHECK_STR(js(&r, "spec.ports[0].targetPort"), "80");
    CHECK(jsn(&r, "spec.internalTrafficPolicy") == NULL);
    CHECK(jsn(&r, "spec.clusterIP") == NULL);
    resp_free(&r);
    srv_stop();
}

/* status.qosClass by Kubernetes' rules (only cpu and memory, only quantities above zero). */
static void test_qos(void)
{
    srv_start();
    static const struct {
        const char *containers, *want;
    } cases[] = {
        {"{\"name\":\"a\",\"image\":\"i\"}", "BestEffort"},
        {"{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"0\"},"
         "\"limits\":{\"ephemeral-storage\":\"1Gi\"}}}",
         "BestEffort"},
        {"{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}",
         "Burstable"},
        /* limits only: requests default to them */
        {"{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":"
         "\"1Gi\"}}}",
         "Guaranteed"},
        /* equal however written */
        {"{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"1000m\","
         "\"memory\":\"1073741824\"},\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}",
         "Guaranteed"},
        {"{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"0.5\",\"memory\":"
         "\"1Gi\"},\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"}}}",
         "Burstable"},
        /* every container must limit both */
        {"{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":"
         "\"1G\"}}},{\"name\":\"b\",\"image\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"1\"}}}",
         "Burstable"},
        {"{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":"
         "\"1e9\"}}},{\"name\":\"b\",\"image\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"2\","
         "\"memory\":\"1M\"}}}",
         "Guaranteed"},
        {"{\"name\":\"a\",\"image\":\"i\"},{\"name\":\"b\",\"image\":\"i\",\"resources\":{"
         "\"limits\":{\"memory\":\"64Mi\"}}}",
         "Burstable"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[2048];
        snprintf(body, sizeof(body),
                 "{\"metadata\":{\"name\":\"q%zu\"},\"spec\":{\"containers\":[%s]},\"status\":{"
                 "\"qosClass\":\"Guaranteed\"}}",
                 i, cases[i].containers);
        struct resp r = post("/api/v1/namespaces/default/pods", body);
        CHECK_INT(r.status, ==, 201);
        if (strcmp(js(&r, "status.qosClass"), cases[i].want) != 0)
            fprintf(stderr, "case %zu: %s\n", i, js(&r, "status.qosClass"));
        CHECK_STR(js(&r, "status.qosClass"), cases[i].want);
        resp_free(&r);
    }
    /* an init container counts too */
    struct resp r = post("/api/v1/namespaces/default/pods",
                         "{\"metadata\":{\"name\":\"init\"},\"spec\":{\"initContainers\":[{"
                         "\"name\":\"i\",\"image\":\"i\",\"resources\":{\"requests\":{\"memory\":"
                         "\"1Mi\"}}}],\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}}");
    CHECK_STR(js(&r, "status.qosClass"), "Burstable");
    resp_free(&r);
    srv_stop();
}

/* ---- JSON types: Go's decoding errors, worded as kube-apiserver words them ---- */

static void test_types(void)
{
    srv_start();
    static const struct {
        const char *path, *body, *msg;
    } cases[] = {
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "true}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal bool into Go "
         "struct field Container.spec.containers.image of type string"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"i\",\"command\":[\"sh\",true]}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal bool into Go "
         "struct field Container.spec.containers.command of type string"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"i\",\"args\":\"x\"}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into "
         "Go struct field Container.spec.containers.args of type []string"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"i\",\"env\":[{\"name\":\"A\",\"value\":1}]}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into "
         "Go struct field EnvVar.spec.containers.env.value of type string"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"i\",\"ports\":[{\"containerPort\":\"80\"}]}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into "
         "Go struct field ContainerPort.spec.containers.ports.containerPort of type int32"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"i\",\"livenessProbe\":{\"periodSeconds\":1.5}}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number 1.5 "
         "into Go struct field Probe.spec.containers.livenessProbe.periodSeconds of type int32"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"i\",\"resources\":{\"limits\":[]}}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal array into "
         "Go struct field ResourceRequirements.spec.containers.resources.limits of type "
         "v1.ResourceList"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"hostNetwork\":\"yes\",\"containers\":[]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into "
         "Go struct field PodSpec.spec.hostNetwork of type bool"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[\"c\"]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal string into "
         "Go struct field PodSpec.spec.containers of type v1.Container"},
        {"/api/v1/namespaces/default/pods", "{\"metadata\":{\"name\":7}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into "
         "Go struct field ObjectMeta.metadata.name of type string"},
        {"/api/v1/namespaces/default/pods", "{\"metadata\":[],\"spec\":{}}",
         "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal array into "
         "Go struct field Pod.metadata of type v1.ObjectMeta"},
        {"/apis/apps/v1/namespaces/default/deployments",
         "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":\"3\"}}",
         "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot "
         "unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"},
        {"/apis/apps/v1/namespaces/default/deployments",
         "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":3000000000}}",
         "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot "
         "unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type "
         "int32"},
        {"/apis/apps/v1/namespaces/default/deployments",
         "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":true}}}}",
         "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot "
         "unmarshal bool into Go struct field LabelSelector.spec.selector.matchLabels of type "
         "string"},
        {"/apis/apps/v1/namespaces/default/replicasets",
         "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"template\":{\"metadata\":{\"labels\":[]}}}}",
         "ReplicaSet in version \"v1\" cannot be handled as a ReplicaSet: json: cannot "
         "unmarshal array into Go struct field ObjectMeta.spec.template.metadata.labels of type "
         "map[string]string"},
        {"/apis/apps/v1/namespaces/default/replicasets",
         "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"template\":\"t\"}}",
         "ReplicaSet in version \"v1\" cannot be handled as a ReplicaSet: json: cannot "
         "unmarshal string into Go struct field ReplicaSetSpec.spec.template of type "
         "v1.PodTemplateSpec"},
        {"/api/v1/namespaces/default/services",
         "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"ports\":[{\"port\":\"80\"}]}}",
         "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
         "string into Go struct field ServicePort.spec.ports.port of type int32"},
        {"/api/v1/namespaces/default/services",
         "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"type\":1,\"ports\":[{\"port\":80}]}}",
         "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
         "number into Go struct field ServiceSpec.spec.type of type string"},
        {"/api/v1/namespaces/default/services",
         "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"selector\":{\"app\":{}}}}",
         "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal "
         "object into Go struct field ServiceSpec.spec.selector of type string"},
        {"/api/v1/namespaces/default/configmaps",
         "{\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"x\",\"n\":1}}",
         "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal "
         "number into Go struct field ConfigMap.data of type string"},
        /* resource.Quantity's own decoder: its error ends decoding, and wins */
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":7},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"i\",\"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"lots\"}}}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular "
         "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"i\",\"resources\":{\"requests\":{\"cpu\":true}}}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular "
         "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
        {"/api/v1/namespaces/default/pods",
         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
         "\"i\",\"resources\":{\"requests\":{\"memory\":\"1iG\"}}}]}}",
         "Pod in version \"v1\" cannot be handled as a Pod: unable to parse quantity's suffix"},
        /* the first mismatch in document order is the one reported */
        {"/api/v1/namespaces/default/configmaps",
         "{\"data\":{\"n\":false},\"metadata\":{\"name\":1}}",
         "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal "
         "bool into Go struct field ConfigMap.data of type string"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct resp r = post(cases[i].path, cases[i].body);
        CHECK_INT(r.status, ==, 400);
        CHECK_STR(js(&r, "reason"), "BadRequest");
        if (strcmp(js(&r, "message"), cases[i].msg) != 0)
            fprintf(stderr, "case %zu: %s\n", i, js(&r, "message"));
        CHECK_STR(js(&r, "message"), cases[i].msg);
        resp_free(&r);
    }
    /* quantities in every spelling Kubernetes takes */
    struct resp r = post("/api/v1/namespaces/default/pods",
                         "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"containers\":[{\"name\":"
                         "\"c\",\"image\":\"i\",\"resources\":{\"limits\":{\"cpu\":1.5,"
                         "\"memory\":\"1.5Gi\",\"ephemeral-storage\":\"+2E3\"},\"requests\":{"
                         "\"cpu\":\" 100m \",\"memory\":\"1e3\",\"ephemeral-storage\":null}}}]}}");
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    /* null is Go's zero value, not a mismatch; YAML's unquoted `image: y` is a boolean */
    r = post("/api/v1/namespaces/default/pods",
             "{\"metadata\":{\"name\":\"p\",\"labels\":null},\"spec\":{\"containers\":"
             "[{\"name\":\"c\",\"image\":\"i\",\"command\":null,\"env\":[null]}]}}");
    if (r.status != 201)
        fprintf(stderr, "%s\n", r.body);
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("POST", "/api/v1/namespaces/default/pods", "application/yaml",
            "metadata:\n  name: yy\nspec:\n  containers:\n  - name: c\n    image: y\n", TOKEN,
            NULL);
    CHECK_INT(r.status, ==, 400);
    CHECK(strstr(js(&r, "message"), "cannot unmarshal bool into Go struct field "
                                    "Container.spec.containers.image of type string") != NULL);
    resp_free(&r);
    /* patches and updates are checked the same way, and nothing is written */
    r = post("/apis/apps/v1/namespaces/default/deployments",
             "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\""
             "}},\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{"
             "\"name\":\"c\",\"image\":\"i\"}]}}}}");
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("PATCH", "/apis/apps/v1/namespaces/default/deployments/d",
            "application/merge-patch+json", "{\"spec\":{\"replicas\":\"2\"}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 400);
    CHECK(strstr(js(&r, "message"), "DeploymentSpec.spec.replicas of type int32") != NULL);
    resp_free(&r);
    r = req("PUT", "/apis/apps/v1/namespaces/default/deployments/d", "application/json",
            "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"paused\":1}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    r = get("/apis/apps/v1/namespaces/default/deployments/d");
    CHECK_STR(js(&r, "spec.replicas"), "1");
    CHECK_STR(js(&r, "metadata.generation"), "1");
    resp_free(&r);
    srv_stop();
}

/* ---- deletion: Orphan, Foreground, finalizers ---- */

#define DEPS "/apis/apps/v1/namespaces/default/deployments"
#define RSS "/apis/apps/v1/namespaces/default/replicasets"
#define PODS "/api/v1/namespaces/default/pods"
#define CMS "/api/v1/namespaces/default/configmaps"

/* ownerReferences text naming a Deployment/ReplicaSet/ConfigMap by name and uid. */
static void ref(char *out, size_t size, const char *kind, const char *name, const char *uid,
                bool block)
{
    snprintf(out, size,
             "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"name\":\"%s\",\"uid\":\"%s\","
             "\"controller\":true,\"blockOwnerDeletion\":%s}",
             strcmp(kind, "ConfigMap") == 0 ? "v1" : "apps/v1", kind, name, uid,
             block ? "true" : "false");
}

/* Creates an object and returns its uid in uid. meta: extra metadata members (",..." or ""). */
static void create(const char *coll, const char *name, const char *meta, char uid[64])
{
    char body[4096];
    const char *tmpl = "\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{"
                       "\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{"
                       "\"name\":\"c\",\"image\":\"i\"}]}}}";
    if (strcmp(coll, PODS) == 0)
        tmpl = strncmp(name, "bound", 5) == 0
                   ? "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":"
                     "\"i\"}]}"
                   : "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}";
    else if (strcmp(coll, CMS) == 0)
        tmpl = "\"data\":{}";
    snprintf(body, sizeof(body), "{\"metadata\":{\"name\":\"%s\"%s},%s}", name, meta, tmpl);
    struct resp r = post(coll, body);
    if (r.status != 201)
        fprintf(stderr, "%s: %s\n", body, r.body);
    CHECK_INT(r.status, ==, 201);
    snprintf(uid, 64, "%s", js(&r, "metadata.uid"));
    resp_free(&r);
}

/* The HTTP status of a GET of coll/name. */
static int status_of(const char *coll, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", coll, name);
    struct resp r = get(path);
    int st = r.status;
    resp_free(&r);
    return st;
}

static struct resp get_item(const char *coll, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", coll, name);
    return get(path);
}

static void test_orphan(void)
{
    srv_start();
    char du[64], ru[64], pu[64], cu[64], c2u[64], meta[1200], r1[512], r2[512];
    create(DEPS, "d", "", du);
    ref(r1, sizeof(r1), "Deployment", "d", du, true);
    ref(r2, sizeof(r2), "Deployment", "other", "00000000-0000-0000-0000-000000000001", false);
    snprintf(meta, sizeof(meta), ",\"ownerReferences\":[%s,%s]", r1, r2);
    create(RSS, "rs", meta, ru);
    ref(r1, sizeof(r1), "ReplicaSet", "rs", ru, true);
    snprintf(meta, sizeof(meta), ",\"ownerReferences\":[%s]", r1);
    create(PODS, "p", meta, pu);

    /* the query's Orphan: the ReplicaSet stays, without its reference to d */
    struct resp r = req("DELETE", DEPS "/d?propagationPolicy=Orphan", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(DEPS, "d"), ==, 404);
    r = get_item(RSS, "rs");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.ownerReferences[0].name"), "other");
    CHECK(jsn(&r, "metadata.ownerReferences[1]") == NULL);
    resp_free(&r);

    /* DeleteOptions' Orphan: the pod loses its only reference, so the field goes */
    r = req("DELETE", RSS "/rs", "application/json",
            "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"Orphan\"}",
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(RSS, "rs"), ==, 404);
    r = get_item(PODS, "p");
    CHECK_INT(r.status, ==, 200);
    CHECK(jsn(&r, "metadata.ownerReferences") == NULL);
    resp_free(&r);

    /* orphanDependents: true (the older form) */
    create(CMS, "c", "", cu);
    ref(r1, sizeof(r1), "ConfigMap", "c", cu, false);
    snprintf(meta, sizeof(meta), ",\"ownerReferences\":[%s]", r1);
    create(CMS, "c2", meta, c2u);
    r = req("DELETE", CMS "/c", "application/json", "{\"orphanDependents\":true}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get_item(CMS, "c2");
    CHECK_INT(r.status, ==, 200);
    CHECK(jsn(&r, "metadata.ownerReferences") == NULL);
    resp_free(&r);

    /* Background (the default) still takes the dependents along */
    create(CMS, "c", "", cu);
    ref(r1, sizeof(r1), "ConfigMap", "c", cu, false);
    snprintf(meta, sizeof(meta), ",\"ownerReferences\":[%s]", r1);
    create(CMS, "c3", meta, c2u);
    r = req("DELETE", CMS "/c", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(CMS, "c3"), ==, 404);

    /* a dependent another owner still holds only loses the dead owner's reference */
    char o1[64], o2[64];
    create(CMS, "o1", "", o1);
    create(CMS, "o2", "", o2);
    ref(r1, sizeof(r1), "ConfigMap", "o1", o1, true);
    ref(r2, sizeof(r2), "ConfigMap", "o2", o2, false);
    snprintf(meta, sizeof(meta), ",\"ownerReferences\":[%s,%s]", r1, r2);
    create(CMS, "shared", meta, c2u);
    r = req("DELETE", CMS "/o1", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get_item(CMS, "shared");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.ownerReferences[0].name"), "o2");
    CHECK(jsn(&r, "metadata.ownerReferences[1]") == NULL);
    resp_free(&r);
    r = req("DELETE", CMS "/o2", NULL, NULL, TOKEN, NULL);
    resp_free(&r);
    CHECK_INT(status_of(CMS, "shared"), ==, 404);
    srv_stop();
}

static void test_foreground(void)
{
    srv_start();
    char du[64], ru[64], u[64], meta[1024], r1[512];
    create(DEPS, "d", "", du);
    ref(r1, sizeof(r1), "Deployment", "d", du, true);
    snprintf(meta, sizeof(meta), ",\"ownerReferences\":[%s]", r1);
    create(RSS, "rs", meta, ru);
    ref(r1, sizeof(r1), "ReplicaSet", "rs", ru, true);
    snprintf(meta, sizeof(meta), ",\"ownerReferences\":[%s]", r1);
    create(PODS, "bound-1", meta, u);
    create(PODS, "loose", meta, u);

    struct resp r = req("DELETE", DEPS "/d?propagationPolicy=Foreground", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK(jsn(&r, "metadata.deletionTimestamp") != NULL);
    CHECK_STR(js(&r, "metadata.finalizers[0]"), "foregroundDeletion");
    resp_free(&r);
    /* the owner waits for its blocking dependents: the ReplicaSet waits for its pods in turn */
    r = get_item(DEPS, "d");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.finalizers"), "[\"foregroundDeletion\"]");
    CHECK_STR(js(&r, "metadata.deletionGracePeriodSeconds"), "0");
    resp_free(&r);
    r = get_item(RSS, "rs");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.finalizers[0]"), "foregroundDeletion");
    CHECK(jsn(&r, "metadata.deletionTimestamp") != NULL);
    resp_free(&r);
    CHECK_INT(status_of(PODS, "loose"), ==, 404);
    r = get_item(PODS, "bound-1");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.deletionGracePeriodSeconds"), "30");
    resp_free(&r);
    /* a second DELETE changes nothing */
    r = req("DELETE", DEPS "/d?propagationPolicy=Foreground", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.finalizers"), "[\"foregroundDeletion\"]");
    resp_free(&r);
    /* the node agent removes the pod: the ReplicaSet, then the Deployment go */
    r = req("DELETE", PODS "/bound-1?gracePeriodSeconds=0", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(PODS, "bound-1"), ==, 404);
    CHECK_INT(status_of(RSS, "rs"), ==, 404);
    CHECK_INT(status_of(DEPS, "d"), ==, 404);

    /* a dependent without blockOwnerDeletion does not hold its owner */
    create(DEPS, "d2", "", du);
    ref(r1, sizeof(r1), "Deployment", "d2", du, false);
    snprintf(meta, sizeof(meta), ",\"ownerReferences\":[%s]", r1);
    create(PODS, "bound-2", meta, u);
    r = req("DELETE", DEPS "/d2", "application/json", "{\"propagationPolicy\":\"Foreground\"}",
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(DEPS, "d2"), ==, 404);
    r = get_item(PODS, "bound-2");
    CHECK(jsn(&r, "metadata.deletionTimestamp") != NULL);
    resp_free(&r);

    /* nothing to wait for, but another finalizer: only foregroundDeletion goes */
    create(DEPS, "d3", ",\"finalizers\":[\"example.com/keep\"]", du);
    r = req("DELETE", DEPS "/d3?propagationPolicy=Foreground", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get_item(DEPS, "d3");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.finalizers"), "[\"example.com/keep\"]");
    resp_free(&r);
    r = req("PATCH", DEPS "/d3", "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":null}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(DEPS, "d3"), ==, 404);
    srv_stop();
}

static void test_finalizers(void)
{
    srv_start();
    char cu[64], u[64], meta[1024], r1[512];
    create(CMS, "f", ",\"finalizers\":[\"example.com/a\",\"example.com/b\"]", cu);
    ref(r1, sizeof(r1), "ConfigMap", "f", cu, true);
    snprintf(meta, sizeof(meta), ",\"ownerReferences\":[%s]", r1);
    create(CMS, "dep", meta, u);
    struct resp r = req("DELETE", CMS "/f", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK(jsn(&r, "metadata.deletionTimestamp") != NULL);
    char ts[64];
    snprintf(ts, sizeof(ts), "%s", js(&r, "metadata.deletionTimestamp"));
    resp_free(&r);
    /* only marked; Background waits for the owner to go */
    r = get_item(CMS, "f");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.deletionGracePeriodSeconds"), "0");
    resp_free(&r);
    CHECK_INT(status_of(CMS, "dep"), ==, 200);
    /* updates cannot clear the mark */
    r = req("PUT", CMS "/f", "application/json",
            "{\"metadata\":{\"name\":\"f\",\"finalizers\":[\"example.com/a\"]},\"data\":{\"x\":"
            "\"1\"}}",
            TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.deletionTimestamp"), ts);
    CHECK_STR(js(&r, "data.x"), "1");
    resp_free(&r);
    CHECK_INT(status_of(CMS, "f"), ==, 200);
    /* the last finalizer removed: gone, and its dependents with it */
    r = req("PATCH", CMS "/f", "application/json-patch+json",
            "[{\"op\":\"remove\",\"path\":\"/metadata/finalizers\"}]", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(CMS, "f"), ==, 404);
    CHECK_INT(status_of(CMS, "dep"), ==, 404);

    /* finalizers of an object nobody deletes are just data */
    create(CMS, "g", ",\"finalizers\":[\"example.com/a\"]", cu);
    r = req("PATCH", CMS "/g", "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":null}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(CMS, "g"), ==, 200);

    /* cluster-scoped objects too */
    r = post("/api/v1/nodes", "{\"metadata\":{\"name\":\"nf\",\"finalizers\":[\"x.io/y\"]}}");
    CHECK_INT(r.status, ==, 201);
    resp_free(&r);
    r = req("DELETE", "/api/v1/nodes/nf?propagationPolicy=Foreground", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get("/api/v1/nodes/nf");
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.finalizers"), "[\"x.io/y\"]");
    CHECK(jsn(&r, "metadata.deletionTimestamp") != NULL);
    resp_free(&r);
    r = req("PATCH", "/api/v1/nodes/nf", "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":null}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    r = get("/api/v1/nodes/nf");
    CHECK_INT(r.status, ==, 404);
    resp_free(&r);

    /* an object being deleted takes no new finalizers */
    create(CMS, "h", ",\"finalizers\":[\"example.com/a\"]", cu);
    r = req("DELETE", CMS "/h", NULL, NULL, TOKEN, NULL);
    resp_free(&r);
    r = req("PATCH", CMS "/h", "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":[\"example.com/a\",\"example.com/new\"]}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 422);
    CHECK_STR(
        js(&r, "message"),
        "ConfigMap \"h\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be "
        "added if the object is being deleted, found new finalizers []string{\"example.com/"
        "new\"}");
    resp_free(&r);

    /* a bound pod with a finalizer: removing it within the grace period deletes nothing (the
     * node agent still has to stop the containers), and the agent's final DELETE then does */
    create(PODS, "bound-f", ",\"finalizers\":[\"example.com/a\"]", u);
    r = req("DELETE", PODS "/bound-f", NULL, NULL, TOKEN, NULL);
    CHECK_STR(js(&r, "metadata.deletionGracePeriodSeconds"), "30");
    resp_free(&r);
    r = req("PATCH", PODS "/bound-f", "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":[]}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(PODS, "bound-f"), ==, 200);
    r = req("DELETE", PODS "/bound-f?gracePeriodSeconds=0", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(PODS, "bound-f"), ==, 404);
    /* with the finalizer still there, the final DELETE only marks it */
    create(PODS, "bound-g", ",\"finalizers\":[\"example.com/a\"]", u);
    r = req("DELETE", PODS "/bound-g?gracePeriodSeconds=0", NULL, NULL, TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(js(&r, "metadata.deletionGracePeriodSeconds"), "0");
    resp_free(&r);
    CHECK_INT(status_of(PODS, "bound-g"), ==, 200);
    r = req("PATCH", PODS "/bound-g", "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":null}}", TOKEN, NULL);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    CHECK_INT(status_of(PODS, "bound-g"), ==, 404);
    srv_stop();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_list_plans);
    TEST_RUN(test_pod_defaults);
    TEST_RUN(test_template_defaults);
    TEST_RUN(test_service_defaults);
    TEST_RUN(test_qos);
    TEST_RUN(test_types);
    TEST_RUN(test_orphan);
    TEST_RUN(test_foreground);
    TEST_RUN(test_finalizers);
    return test_done();
}
