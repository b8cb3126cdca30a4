/* Tests for orchestrate/scheduler: quantities, the filters, scores and FitError messages on
 * synthetic clusters, pods/binding, and the control loop on an in-memory store. */
#include "orchestrate/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "tests/unit/ctl_fixture.h"
#include "tests/unit/test.h"

/* ---- quantities ---- */

static int64_t q(const char *s, int scale)
{
    int64_t v = -777;
    int r = reef_sched_quantity(s, scale, &v);
    return r < 0 ? r : v;
}

static void test_quantity(void)
{
    CHECK_INT(q("500m", 3), ==, 500);
    CHECK_INT(q("1", 3), ==, 1000);
    CHECK_INT(q("1.5", 3), ==, 1500);
    CHECK_INT(q(".5", 3), ==, 500);
    CHECK_INT(q("+2", 0), ==, 2);
    CHECK_INT(q("0.1m", 3), ==, 1); /* MilliValue rounds up */
    CHECK_INT(q("1m", 0), ==, 1);   /* Value rounds up */
    CHECK_INT(q("128Mi", 0), ==, 134217728);
    CHECK_INT(q("1.5Gi", 0), ==, 1610612736);
    CHECK_INT(q("1Ki", 3), ==, 1024000);
    CHECK_INT(q("1G", 0), ==, 1000000000);
    CHECK_INT(q("1k", 0), ==, 1000);
    CHECK_INT(q("1e3", 0), ==, 1000);
    CHECK_INT(q("1E3", 3), ==, 1000000);
    CHECK_INT(q("12e-1", 0), ==, 2);
    CHECK_INT(q("1E", 0), ==, 1000000000000000000LL); /* exa, not an exponent */
    CHECK_INT(q("100n", 3), ==, 1);
    CHECK_INT(q("0", 3), ==, 0);
    CHECK_INT(q("0.000", 0), ==, 0);
    CHECK_INT(q("9223372036854775807", 0), ==, INT64_MAX);
    CHECK_INT(q("9223372036854775808", 0), ==, -ERANGE);
    CHECK_INT(q("10E", 0), ==, -ERANGE);
    CHECK_INT(q("8Ei", 0), ==, -ERANGE);
    CHECK_INT(q("1e400", 0), ==, -ERANGE);
    CHECK_INT(q("1e-400", 3), ==, 1);
    CHECK_INT(q("0.00000000000000000000000000000000000000000001", 0), ==, 1);
    CHECK_INT(q("", 0), ==, -EINVAL);
    CHECK_INT(q("m", 0), ==, -EINVAL);
    CHECK_INT(q("1Zi", 0), ==, -EINVAL);
    CHECK_INT(q("1 Gi", 0), ==, -EINVAL);
    CHECK_INT(q("1e", 0), ==, -EINVAL);
    CHECK_INT(q("1Gii", 0), ==, -EINVAL);
    CHECK_INT(q("--1", 0), ==, -EINVAL);
    CHECK_INT(q("1.2.3", 0), ==, -EINVAL);
}

/* ---- synthetic clusters ---- */

static struct reef_sched_pod *pod(const char *spec)
{
    char json[8192];
    snprintf(json, sizeof(json),
             "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\",\"uid\":\"u\"},\"spec\":%s}",
             spec);
    struct reef_sched_pod *p = NULL;
    struct reef_err err = {0};
    CHECK_OK(reef_sched_pod_parse(json, strlen(json), &p, &err), &err);
    return p;
}

/* A Ready node: cpu, memory, pods allocatable; extra: more members of "spec" and labels. */
static int node(struct reef_sched_cluster *c, const char *name, const char *cpu, const char *mem,
                const char *pods, const char *spec_extra, const char *labels, const char *ready)
{
    char json[8192];
    snprintf(json, sizeof(json),
             "{\"kind\":\"Node\",\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},\"spec\":{%s},"
             "\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"%s\"},"
             "\"conditions\":[{\"type\":\"MemoryPressure\",\"status\":\"False\"},"
             "{\"type\":\"Ready\",\"status\":\"%s\"}]}}",
             name, labels ? labels : "", spec_extra ? spec_extra : "", cpu, mem, pods,
             ready ? ready : "True");
    int slot = -1;
    struct reef_err err = {0};
    CHECK_OK(reef_sched_cluster_set_node(c, json, strlen(json), &slot, &err), &err);
    return slot;
}

static const char *C1 = "{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}";

static void test_requests(void)
{
    struct reef_sched_pod *p =
        pod("{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\","
            "\"memory\":\"64Mi\"}}},{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"200m\"},"
            "\"limits\":{\"memory\":\"1Gi\"}}}],\"initContainers\":[{\"name\":\"i\",\"resources\":{"
            "\"requests\":{\"cpu\":\"500m\",\"memory\":\"10Mi\"}}}]}");
    CHECK_INT(p->cpu, ==, 500);               /* the init container needs more */
    CHECK_INT(p->mem, ==, (64 + 1024) << 20); /* limits stand in for requests */
    CHECK_INT(p->nz_cpu, ==, 500);
    CHECK_INT(p->nz_mem, ==, (64 + 1024) << 20);
    reef_sched_pod_free(p);
    /* a sidecar (restartable init container) runs beside everything after it */
    p = pod("{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"300m\"}}}],"
            "\"initContainers\":[{\"name\":\"s\",\"restartPolicy\":\"Always\",\"resources\":{"
            "\"requests\":{\"cpu\":\"50m\"}}},{\"name\":\"i\",\"resources\":{\"requests\":{"
            "\"cpu\":\"400m\"}}}],\"overhead\":{\"cpu\":\"10m\"}}");
    CHECK_INT(p->cpu, ==, 460); /* max(300+50, 400+50) + 10 */
    CHECK_INT(p->mem, ==, 0);
    CHECK_INT(p->nz_mem, ==, 400 << 20); /* scoring counts 200Mi per container without one */
    reef_sched_pod_free(p);
    p = pod(C1);
    CHECK_INT(p->cpu, ==, 0);
    CHECK_INT(p->nz_cpu, ==, 100);
    CHECK_STR(p->scheduler_name, "default-scheduler");
    reef_sched_pod_free(p);
    /* a number where a quantity string belongs (YAML `cpu: 2`) */
    p = pod("{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":2}}}]}");
    CHECK_INT(p->cpu, ==, 2000);
    reef_sched_pod_free(p);
    const char *bad =
        "{\"spec\":{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"2x\"}}}]}}";
    struct reef_sched_pod *bp = NULL;
    struct reef_err err = {0};
    CHECK_INT(reef_sched_pod_parse(bad, strlen(bad), &bp, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "containers[0]") != NULL);
    CHECK(bp == NULL);
}

static void test_message(void)
{
    struct reef_sched_cluster *c = reef_sched_cluster_new();
    node(c, "n1", "4", "8Gi", "110",
         "\"taints\":[{\"key\":\"node-role\",\"value\":\"x\","
         "\"effect\":\"NoSchedule\"}]",
         NULL, NULL);
    node(c, "n2", "4", "1Gi", "110", NULL, NULL, NULL);
    node(c, "n3", "4", "1Gi", "110", NULL, NULL, NULL);
    struct reef_sched_pod *p = pod(
        "{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"memory\":\"2Gi\"}}}]}");
    struct reef_sched_result r;
    reef_sched_pick(c, p, &r);
    CHECK_INT(r.slot, ==, -1);
    CHECK_STR(r.message, "0/3 nodes are available: 1 node(s) had untolerated taint {node-role: x}, "
                         "2 Insufficient memory. preemption: 0/3 nodes are available: 3 Preemption "
                         "is not helpful for scheduling.");
    reef_sched_pod_free(p);

    /* requests that fit an empty node are resolvable by preemption (in kube-scheduler) */
    p = pod("{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"memory\":\"1Gi\","
            "\"cpu\":\"3\"}}}]}");
    struct reef_sched_pod *big =
        pod("{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]}");
    CHECK_INT(reef_sched_cluster_account(c, big, 1, +1), ==, 0);
    CHECK_INT(reef_sched_cluster_account(c, big, 2, +1), ==, 0);
    reef_sched_pick(c, p, &r);
    CHECK_STR(r.message, "0/3 nodes are available: 1 node(s) had untolerated taint {node-role: x}, "
                         "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption "
                         "is not helpful for scheduling, 2 No preemption victims found for "
                         "incoming pod.");
    char why[256];
    CHECK_INT(reef_sched_filter(c, p, 1, why, sizeof(why)), ==, 2);
    CHECK_STR(why, "Insufficient cpu");
    CHECK_INT(reef_sched_filter(c, p, 0, why, sizeof(why)), ==, 1);
    CHECK_STR(why, "node(s) had untolerated taint {node-role: x}");
    reef_sched_cluster_account(c, big, 2, -1);
    CHECK_INT(reef_sched_filter(c, p, 2, why, sizeof(why)), ==, 0);
    reef_sched_cluster_account(c, big, 1, -1);
    reef_sched_pod_free(big);

    /* several reasons on one node all count; preemptionPolicy Never */
    reef_sched_pod_free(p);
    p = pod("{\"preemptionPolicy\":\"Never\",\"containers\":[{\"name\":\"a\",\"resources\":{"
            "\"requests\":{\"memory\":\"3Gi\",\"cpu\":\"5\"}}}]}");
    reef_sched_pick(c, p, &r);
    CHECK_STR(r.message, "0/3 nodes are available: 1 node(s) had untolerated taint {node-role: x}, "
                         "2 Insufficient cpu, 2 Insufficient memory. preemption: not eligible due "
                         "to preemptionPolicy=Never.");
    reef_sched_pod_free(p);
    reef_sched_cluster_free(c);

    /* counts sort as strings, as Go's sort.Strings does: "10 ..." before "2 ..." */
    c = reef_sched_cluster_new();
    char name[16];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        node(c, name, "4", "8Gi", "110", "\"unschedulable\":true", NULL, NULL);
    }
    node(c, "small1", "1", "8Gi", "110", NULL, NULL, NULL);
    node(c, "small2", "1", "8Gi", "110", NULL, NULL, NULL);
    p = pod("{\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}}]}");
    reef_sched_pick(c, p, &r);
    CHECK_STR(r.message, "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient "
                         "cpu. preemption: 0/12 nodes are available: 12 Preemption is not "
                         "helpful for scheduling.");
    reef_sched_pod_free(p);
    reef_sched_cluster_free(c);

    /* no nodes at all */
    c = reef_sched_cluster_new();
    p = pod(C1);
    reef_sched_pick(c, p, &r);
    CHECK_STR(r.message, "no nodes available to schedule pods");
    reef_sched_pod_free(p);
    reef_sched_cluster_free(c);
}

static void test_taints(void)
{
    struct reef_sched_cluster *c = reef_sched_cluster_new();
    int a = node(c, "a", "4", "8Gi", "110",
                 "\"taints\":[{\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"},"
                 "{\"key\":\"gpu\",\"value\":\"yes\",\"effect\":\"NoExecute\"}]",
                 NULL, NULL);
    int nr = node(c, "nr", "4", "8Gi", "110", NULL, NULL, "False");
    int un = node(c, "un", "4", "8Gi", "110", NULL, NULL, "Unknown");
    int cord = node(c, "cord", "4", "8Gi", "110", "\"unschedulable\":true", NULL, NULL);
    char why[256];
    struct reef_sched_pod *p = pod(C1);
    CHECK_INT(reef_sched_filter(c, p, a, why, sizeof(why)), ==, 1);
    CHECK_STR(why, "node(s) had untolerated taint {gpu: yes}"); /* PreferNoSchedule is no filter */
    CHECK_INT(reef_sched_filter(c, p, nr, why, sizeof(why)), ==, 1);
    CHECK_STR(why, "node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
    CHECK_INT(reef_sched_filter(c, p, un, why, sizeof(why)), ==, 1);
    CHECK_STR(why, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }");
    CHECK_INT(reef_sched_filter(c, p, cord, why, sizeof(why)), ==, 1);
    CHECK_STR(why, "node(s) were unschedulable");
    reef_sched_pod_free(p);
    static const struct {
        const char *tols;
        int fits_a;
    } cases[] = {
        {"[{\"key\":\"gpu\",\"operator\":\"Equal\",\"value\":\"yes\",\"effect\":\"NoExecute\"}]",
         1},
        {"[{\"key\":\"gpu\",\"value\":\"yes\"}]", 1},
        {"[{\"key\":\"gpu\",\"operator\":\"Exists\"}]", 1},
        {"[{\"operator\":\"Exists\"}]", 1},
        {"[{\"key\":\"gpu\",\"value\":\"no\"}]", 0},
        {"[{\"key\":\"gpu\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]", 0},
        {"[{\"key\":\"other\",\"operator\":\"Exists\"}]", 0},
        {"[{\"operator\":\"Exists\",\"effect\":\"Sometimes\"}]", 0},
        {"[{\"key\":\"gpu\",\"operator\":\"Like\",\"value\":\"yes\"}]", 0},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        char spec[512];
        snprintf(spec, sizeof(spec), "{\"tolerations\":%s,\"containers\":[{\"name\":\"a\"}]}",
                 cases[i].tols);
        p = pod(spec);
        if ((reef_sched_filter(c, p, a, why, sizeof(why)) == 0) != cases[i].fits_a)
            TEST_FAIL("toleration case %zu: %s", i, why);
        reef_sched_pod_free(p);
    }
    /* tolerating the readiness and cordon taints */
    p = pod("{\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\"},"
            "{\"key\":\"node.kubernetes.io/unschedulable\",\"operator\":\"Exists\"}],"
            "\"containers\":[{\"name\":\"a\"}]}");
    CHECK_INT(reef_sched_filter(c, p, nr, why, sizeof(why)), ==, 0);
    CHECK_INT(reef_sched_filter(c, p, cord, why, sizeof(why)), ==, 0);
    CHECK_INT(reef_sched_filter(c, p, un, why, sizeof(why)), ==, 1);
    reef_sched_pod_free(p);
    reef_sched_cluster_free(c);
}

static void test_affinity(void)
{
    struct reef_sched_cluster *c = reef_sched_cluster_new();
    int n1 = node(c, "n1", "4", "8Gi", "110", NULL,
                  "\"zone\":\"a\",\"disk\":\"ssd\",\"cores\":\"16\"", NULL);
    int n2 = node(c, "n2", "4", "8Gi", "110", NULL, "\"zone\":\"b\",\"cores\":\"4\"", NULL);
    static const struct {
        const char *aff;
        int fits1, fits2;
    } cases[] = {
        {"\"nodeSelector\":{\"zone\":\"a\"}", 1, 0},
        {"\"nodeSelector\":{\"zone\":\"a\",\"disk\":\"hdd\"}", 0, 0},
#define REQ(terms)                                                                                 \
    "\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{"         \
    "\"nodeSelectorTerms\":" terms "}}}"
        {REQ("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"b\","
             "\"c\"]}]}]"),
         0, 1},
        {REQ("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"b\"]}"
             "]}]"),
         1, 0},
        {REQ("[{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"Exists\"}]}]"), 1, 0},
        {REQ("[{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"DoesNotExist\"}]}]"), 0, 1},
        {REQ("[{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Gt\",\"values\":[\"8\"]}]"
             "}]"),
         1, 0},
        {REQ("[{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Lt\",\"values\":[\"8\"]}]"
             "}]"),
         0, 1},
        {REQ("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Gt\",\"values\":[\"1\"]}]"
             "}]"),
         0, 0},
        {REQ("[{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":["
             "\"n2\"]}]}]"),
         0, 1},
        {REQ("[{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"NotIn\",\"values\":["
             "\"n2\"]}]}]"),
         1, 0},
        /* terms are ORed, expressions in a term ANDed; an empty term matches nothing */
        {REQ("[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\"]},"
             "{\"key\":\"cores\",\"operator\":\"Lt\",\"values\":[\"8\"]}]},{\"matchExpressions\":"
             "[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"b\"]}]}]"),
         0, 1},
        {REQ("[{}]"), 0, 0},
        {"\"nodeSelector\":{\"zone\":\"a\"}," REQ(
             "[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"Exists\"}]}]"),
         1, 0},
    };
    char why[256];
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        char spec[1024];
        snprintf(spec, sizeof(spec), "{%s,\"containers\":[{\"name\":\"a\"}]}", cases[i].aff);
        struct reef_sched_pod *p = pod(spec);
        int f1 = reef_sched_filter(c, p, n1, why, sizeof(why)) == 0;
        int f2 = reef_sched_filter(c, p, n2, why, sizeof(why)) == 0;
        if (f1 != cases[i].fits1 || f2 != cases[i].fits2)
            TEST_FAIL("affinity case %zu: %d %d", i, f1, f2);
        if (!f2)
            CHECK_STR(why, "node(s) didn't match Pod's node affinity/selector");
        reef_sched_pod_free(p);
    }
    reef_sched_cluster_free(c);
}

static void test_ports_and_pods(void)
{
    struct reef_sched_cluster *c = reef_sched_cluster_new();
    int n = node(c, "n", "4", "8Gi", "2", NULL, NULL, NULL);
    struct reef_sched_pod *a = pod("{\"containers\":[{\"name\":\"a\",\"ports\":[{"
                                   "\"containerPort\":80,\"hostPort\":8080}]}]}");
    struct reef_sched_pod *udp = pod("{\"containers\":[{\"name\":\"a\",\"ports\":[{"
                                     "\"containerPort\":80,\"hostPort\":8080,\"protocol\":\"UDP\"}"
                                     "]}]}");
    struct reef_sched_pod *ip = pod("{\"containers\":[{\"name\":\"a\",\"ports\":[{"
                                    "\"containerPort\":80,\"hostPort\":8080,\"hostIP\":"
                                    "\"127.0.0.1\"}]}]}");
    char why[256];
    CHECK_INT(reef_sched_cluster_account(c, a, n, +1), ==, 0);
    CHECK_INT(reef_sched_filter(c, a, n, why, sizeof(why)), ==, 2);
    CHECK_STR(why, "node(s) didn't have free ports for the requested pod ports");
    CHECK_INT(reef_sched_filter(c, udp, n, why, sizeof(why)), ==, 0);
    CHECK_INT(reef_sched_filter(c, ip, n, why, sizeof(why)), ==, 2); /* 0.0.0.0 covers it */
    CHECK_INT(reef_sched_cluster_account(c, udp, n, +1), ==, 0);
    struct reef_sched_pod *plain = pod(C1);
    CHECK_INT(reef_sched_filter(c, plain, n, why, sizeof(why)), ==, 2);
    CHECK_STR(why, "Too many pods");
    reef_sched_cluster_account(c, a, n, -1);
    CHECK_INT(reef_sched_filter(c, ip, n, why, sizeof(why)), ==, 0);
    CHECK_INT(reef_sched_cluster_node(c, n)->used_pods, ==, 1);
    reef_sched_cluster_account(c, udp, n, -1);
    CHECK_INT(reef_sched_cluster_node(c, n)->nused_ports, ==, 0);
    CHECK_INT(reef_sched_cluster_node(c, n)->used_nz_mem, ==, 0);
    /* usage survives an update of the Node and its removal (pods still name it) */
    reef_sched_cluster_account(c, a, n, +1);
    node(c, "n", "8", "8Gi", "2", NULL, NULL, NULL);
    CHECK_INT(reef_sched_cluster_node(c, n)->alloc_cpu, ==, 8000);
    CHECK_INT(reef_sched_filter(c, a, n, why, sizeof(why)), ==, 2);
    reef_sched_cluster_remove_node(c, "n");
    CHECK_INT(reef_sched_cluster_nodes(c), ==, 0);
    CHECK_INT(reef_sched_cluster_node(c, n)->used_pods, ==, 1);
    CHECK_INT(reef_sched_cluster_slot(c, "n", false), ==, n);
    reef_sched_cluster_account(c, a, n, -1);
    reef_sched_pod_free(a);
    reef_sched_pod_free(udp);
    reef_sched_pod_free(ip);
    reef_sched_pod_free(plain);
    reef_sched_cluster_free(c);
}

static struct reef_sched_pod *owned(const char *owner, const char *cpu)
{
    char json[1024];
    snprintf(
        json, sizeof(json),
        "{\"metadata\":{\"name\":\"r\",\"namespace\":\"d\",\"ownerReferences\":[{\"uid\":"
        "\"other\"},{\"uid\":\"%s\",\"controller\":true}]},\"spec\":{\"containers\":[{"
        "\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"%s\",\"memory\":\"100Mi\"}}}]}}",
        owner, cpu);
    struct reef_sched_pod *p = NULL;
    CHECK_INT(reef_sched_pod_parse(json, strlen(json), &p, NULL), ==, 0);
    CHECK_STR(p->owner_uid, owner);
    return p;
}

static void test_scores(void)
{
    struct reef_sched_cluster *c = reef_sched_cluster_new();
    node(c, "b", "4", "8Gi", "110", NULL, NULL, NULL);
    node(c, "a", "4", "8Gi", "110", NULL, NULL, NULL);
    node(c, "c", "2", "8Gi", "110", NULL, NULL, NULL);
    struct reef_sched_result r;
    /* equal nodes: the tie goes to the first name; a smaller node scores less */
    struct reef_sched_pod *p = owned("rs1", "100m");
    reef_sched_pick(c, p, &r);
    CHECK_STR(reef_sched_cluster_node(c, r.slot)->name, "a");
    CHECK_INT(r.feasible, ==, 3);
    /* replicas of one owner spread over the nodes, then start again */
    struct reef_sched_pod *placed[6];
    char order[8] = "";
    for (int i = 0; i < 6; i++) {
        placed[i] = owned("rs1", "100m");
        reef_sched_pick(c, placed[i], &r);
        CHECK(r.slot >= 0);
        CHECK_INT(reef_sched_cluster_account(c, placed[i], r.slot, +1), ==, 0);
        order[i] = reef_sched_cluster_node(c, r.slot)->name[0];
    }
    CHECK_STR(order, "abcabc");
    /* another owner's pods ignore rs1's spread and go by free resources: the big nodes */
    struct reef_sched_pod *o = owned("rs2", "1");
    reef_sched_pick(c, o, &r);
    CHECK_STR(reef_sched_cluster_node(c, r.slot)->name, "a");
    /* least allocated: load a, then b wins */
    struct reef_sched_pod *heavy = owned("x", "3");
    reef_sched_cluster_account(c, heavy, reef_sched_cluster_slot(c, "a", false), +1);
    reef_sched_pick(c, o, &r);
    CHECK_STR(reef_sched_cluster_node(c, r.slot)->name, "b");
    reef_sched_cluster_account(c, heavy, reef_sched_cluster_slot(c, "a", false), -1);
    for (int i = 0; i < 6; i++) {
        char nm[2] = {order[i], 0};
        reef_sched_cluster_account(c, placed[i], reef_sched_cluster_slot(c, nm, false), -1);
        reef_sched_pod_free(placed[i]);
    }
    for (int s = 0; s < 3; s++)
        CHECK_INT(reef_sched_cluster_node(c, s)->used_pods, ==, 0);
    reef_sched_pod_free(heavy);
    reef_sched_pod_free(o);
    reef_sched_pod_free(p);
    reef_sched_cluster_free(c);
}

/* ---- the API server and the control loop ---- */


static void setup(void)
{
    ctl_env_up("system:kube-scheduler", false);
}

static void teardown(void)
{
    CHECK_INT(ctl_env_down(), ==, 0);
}

static int call(const char *method, const char *path, const char *body, struct reef_buf *out)
{
    struct reef_err err = {0};
    return reef_ctl_call(&env, method, path,
                         strcmp(method, "PATCH") == 0 ? "application/merge-patch+json" : NULL, body,
                         body ? strlen(body) : 0, out, &err);
}

static void mk_node(const char *name, const char *cpu, const char *mem, const char *pods)
{
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\"},"
             "\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"%s\"},"
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
             name, cpu, mem, pods);
    CHECK_INT(call("POST", "/api/v1/nodes", json, NULL), ==, 201);
}

static void mk_pod(const char *name, const char *mem, const char *extra)
{
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"%s\"},\"spec\":{%s"
             "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"resources\":{\"requests\":"
             "{\"memory\":\"%s\"}}}]}}",
             name, extra ? extra : "", mem);
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods", json, NULL), ==, 201);
}

/* A string at path in pod name ("" when absent). */
static void pod_field(const char *name, const char *path, char *out, size_t size)
{
    char target[300];
    snprintf(target, sizeof(target), "/api/v1/namespaces/default/pods/%s", name);
    struct reef_buf b = REEF_BUF_INIT;
    out[0] = '\0';
    if (call("GET", target, NULL, &b) == 200) {
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        CHECK_INT(reef_json_parse(&d, b.data, b.len, NULL, NULL), ==, 0);
        int v = reef_json_find(&d, REEF_JSON_ROOT, path, NULL);
        if (v >= 0 && reef_json_get_str(&d, v, out, size, NULL) < 0)
            out[0] = '\0';
        reef_json_doc_free(&d);
    }
    reef_buf_free(&b);
}

static void test_binding(void)
{
    setup();
    mk_pod("web", "1Mi", NULL);
    const char *bind =
        "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"web\"},"
        "\"target\":{\"kind\":\"Node\",\"name\":\"n1\"}}";
    struct reef_buf out = REEF_BUF_INIT;
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods/web/binding", bind, &out), ==, 201);
    CHECK(strstr(out.data, "\"status\":\"Success\"") != NULL);
    char v[256];
    pod_field("web", "spec.nodeName", v, sizeof(v));
    CHECK_STR(v, "n1");
    pod_field("web", "status.conditions[0].type", v, sizeof(v));
    CHECK_STR(v, "PodScheduled");
    pod_field("web", "status.conditions[0].status", v, sizeof(v));
    CHECK_STR(v, "True");
    out.len = 0;
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods/web/binding", bind, &out), ==, 409);
    reef_buf_putc(&out, '\0');
    CHECK(strstr(out.data, "Operation cannot be fulfilled on pods/binding \\\"web\\\": pod web is "
                           "already assigned to node \\\"n1\\\"") != NULL);
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods/gone/binding",
                   "{\"target\":{\"name\":\"n1\"}}", NULL),
              ==, 404);
    mk_pod("other", "1Mi", NULL);
    CHECK_INT(
        call("POST", "/api/v1/namespaces/default/pods/other/binding", "{\"target\":{}}", NULL), ==,
        422);
    CHECK_INT(call("POST", "/api/v1/namespaces/default/pods/other/binding",
                   "{\"metadata\":{\"name\":\"web\"},\"target\":{\"name\":\"n1\"}}", NULL),
              ==, 400);
    CHECK_INT(call("GET", "/api/v1/namespaces/default/pods/other/binding", NULL, NULL), ==, 405);
    CHECK_INT(call("POST", "/api/v1/namespaces/default/services/kubernetes/binding",
                   "{\"target\":{\"name\":\"n1\"}}", NULL),
              ==, 404);
    /* discovery lists it */
    out.len = 0;
    CHECK_INT(call("GET", "/api/v1", NULL, &out), ==, 200);
    reef_buf_putc(&out, '\0');
    CHECK(strstr(out.data, "\"name\":\"pods/binding\"") != NULL);
    reef_buf_free(&out);
    teardown();
}

static struct reef_scheduler *sched;

/* Runs the loop (without blocking) until cond holds, for up to about 2 s. */
#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        for (int i_ = 0; i_ < 2000 && !(cond); i_++) {                                             \
            uv_run(&loop, UV_RUN_NOWAIT);                                                          \
            if (!(cond))                                                                           \
                usleep(1000);                                                                      \
        }                                                                                          \
        CHECK(cond);                                                                               \
    } while (0)

static bool bound_to(const char *pod, const char *node)
{
    char v[256];
    pod_field(pod, "spec.nodeName", v, sizeof(v));
    return node ? strcmp(v, node) == 0 : v[0] != '\0';
}

struct evs {
    int n;
    char all[16384];
};

static int collect_events(void *arg, const struct reef_store_item *it)
{
    struct evs *e = arg;
    e->n++;
    size_t l = strlen(e->all);
    snprintf(e->all + l, sizeof(e->all) - l, "%.*s\n", (int)it->len, it->object);
    return 0;
}

static void events(struct evs *e)
{
    memset(e, 0, sizeof(*e));
    CHECK_INT(reef_store_list(env.store, "events", NULL, collect_events, e, NULL, NULL), ==, 0);
}

static void stop_sched(void)
{
    reef_scheduler_stop(sched);
    sched = NULL;
}

static void test_loop_binds(void)
{
    setup();
    mk_node("n1", "2", "1Gi", "110");
    mk_pod("before", "100Mi", NULL); /* pending when the scheduler starts */
    struct reef_err err = {0};
    CHECK_OK(reef_scheduler_start(&env, &sched, &err), &err);
    RUN_UNTIL(bound_to("before", "n1"));
    mk_node("n2", "2", "1Gi", "110");
    mk_pod("after", "100Mi", NULL);
    RUN_UNTIL(bound_to("after", "n2")); /* the emptier node */
    mk_pod("theirs", "1Mi", "\"schedulerName\":\"other\",");
    mk_pod("gated", "1Mi", "\"schedulingGates\":[{\"name\":\"wait\"}],");
    mk_pod("ours", "1Mi", "\"schedulerName\":\"default-scheduler\",");
    RUN_UNTIL(bound_to("ours", NULL));
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(!bound_to("theirs", NULL));
    CHECK(!bound_to("gated", NULL));
    struct evs e;
    events(&e);
    CHECK(strstr(e.all, "\"message\":\"Successfully assigned default/before to n1\"") != NULL);
    CHECK(strstr(e.all, "\"reason\":\"Scheduled\"") != NULL);
    CHECK(strstr(e.all, "\"component\":\"default-scheduler\"") != NULL);
    struct reef_scheduler_stats st;
    reef_scheduler_stats(sched, &st);
    CHECK_INT(st.bound, ==, 3);
    CHECK_INT(st.queued, ==, 0);
    stop_sched();
    teardown();
}

static void test_loop_unschedulable(void)
{
    setup();
    mk_node("small", "2", "1Gi", "2");
    struct reef_err err = {0};
    CHECK_OK(reef_scheduler_start(&env, &sched, &err), &err);
    reef__scheduler_set_backoff(sched, 1, 2, 3600 * 1000);
    mk_pod("huge", "4Gi", NULL);
    char v[1024];
    for (int i = 0; i < 2000; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        pod_field("huge", "status.conditions[0].reason", v, sizeof(v));
        if (strcmp(v, "Unschedulable") == 0)
            break;
        usleep(1000);
    }
    CHECK_STR(v, "Unschedulable");
    const char *msg = "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are "
                      "available: 1 Preemption is not helpful for scheduling.";
    pod_field("huge", "status.conditions[0].message", v, sizeof(v));
    CHECK_STR(v, msg);
    pod_field("huge", "status.conditions[0].status", v, sizeof(v));
    CHECK_STR(v, "False");
    struct evs e;
    events(&e);
    CHECK(strstr(e.all, "\"reason\":\"FailedScheduling\"") != NULL);
    CHECK(strstr(e.all, "\"type\":\"Warning\"") != NULL);
    CHECK(strstr(e.all, msg) != NULL);
    /* nothing changes: no retry, however long the loop runs (no busy loop) */
    struct reef_scheduler_stats st, st2;
    reef_scheduler_stats(sched, &st);
    for (int i = 0; i < 50; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
    reef_scheduler_stats(sched, &st2);
    CHECK_INT(st2.attempts, ==, st.attempts);
    CHECK_INT(st2.waiting, ==, 1);
    /* a pod bound elsewhere changes nothing that helps either */
    mk_pod("p1", "100Mi", NULL);
    mk_pod("p2", "100Mi", NULL);
    RUN_UNTIL(bound_to("p1", "small") && bound_to("p2", "small"));
    /* the node is full now (pods: 2) */
    mk_pod("p3", "1Mi", NULL);
    for (int i = 0; i < 2000; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        pod_field("p3", "status.conditions[0].message", v, sizeof(v));
        if (v[0])
            break;
        usleep(1000);
    }
    CHECK_STR(v, "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: "
                 "1 No preemption victims found for incoming pod.");
    /* a pod that goes frees its place: p3 is retried and bound */
    CHECK_INT(call("DELETE", "/api/v1/namespaces/default/pods/p1?gracePeriodSeconds=0", NULL, NULL),
              ==, 200);
    RUN_UNTIL(bound_to("p3", "small"));
    /* a finished pod frees its place too */
    mk_pod("p4", "1Mi", NULL);
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(!bound_to("p4", NULL));
    CHECK_INT(call("PATCH", "/api/v1/namespaces/default/pods/p2/status",
                   "{\"status\":{\"phase\":\"Succeeded\"}}", NULL),
              ==, 200);
    RUN_UNTIL(bound_to("p4", "small"));
    /* a node big enough arrives: huge is retried and bound */
    mk_node("big", "8", "16Gi", "110");
    RUN_UNTIL(bound_to("huge", "big"));
    pod_field("huge", "status.conditions[0].status", v, sizeof(v));
    CHECK_STR(v, "True");
    stop_sched();
    teardown();
}

static void test_loop_restart(void)
{
    setup();
    mk_node("n1", "1", "1Gi", "110");
    /* usage of pods already bound is counted at start */
    mk_pod("old", "900Mi", "\"nodeName\":\"n1\",");
    mk_pod("new", "200Mi", NULL);
    struct reef_err err = {0};
    CHECK_OK(reef_scheduler_start(&env, &sched, &err), &err);
    reef__scheduler_set_backoff(sched, 1, 2, 3600 * 1000);
    char v[1024];
    for (int i = 0; i < 2000; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        pod_field("new", "status.conditions[0].message", v, sizeof(v));
        if (v[0])
            break;
        usleep(1000);
    }
    CHECK(strstr(v, "1 Insufficient memory") != NULL);
    /* a node object that arrives after pods were bound to it counts them */
    mk_pod("ghostpod", "900Mi", "\"nodeName\":\"n2\",");
    mk_node("n2", "1", "1Gi", "110");
    for (int i = 0; i < 100; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(200);
    }
    CHECK(!bound_to("new", NULL));
    /* a node with room arrives */
    mk_node("n3", "1", "1Gi", "110");
    RUN_UNTIL(bound_to("new", "n3"));
    stop_sched();
    teardown();
}

static void test_loop_wakeups(void)
{
    setup();
    const char *tainted = "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                          "\"t\"},\"spec\":{\"taints\":[{\"key\":\"gpu\",\"effect\":"
                          "\"NoSchedule\"}]},\"status\":{\"allocatable\":{\"cpu\":\"1\","
                          "\"memory\":\"1Gi\",\"pods\":\"10\"},\"conditions\":[{\"type\":"
                          "\"Ready\",\"status\":\"True\",\"lastHeartbeatTime\":"
                          "\"2026-11-28T10:00:00Z\"}]}}";
    CHECK_INT(call("POST", "/api/v1/nodes", tainted, NULL), ==, 201);
    struct reef_err err = {0};
    CHECK_OK(reef_scheduler_start(&env, &sched, &err), &err);
    reef__scheduler_set_backoff(sched, 1, 2, 3600 * 1000);
    mk_pod("p", "1Mi", NULL);
    char v[1024];
    for (int i = 0; i < 2000; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        pod_field("p", "status.conditions[0].message", v, sizeof(v));
        if (v[0])
            break;
        usleep(1000);
    }
    CHECK_STR(v, "0/1 nodes are available: 1 node(s) had untolerated taint {gpu: }. preemption: "
                 "0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
    /* a heartbeat changes nothing scheduling reads: no new attempt */
    struct reef_scheduler_stats st, st2;
    reef_scheduler_stats(sched, &st);
    CHECK_INT(call("PATCH", "/api/v1/nodes/t/status",
                   "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
                   "\"lastHeartbeatTime\":\"2026-11-28T10:00:10Z\"}]}}",
                   NULL),
              ==, 200);
    for (int i = 0; i < 50; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
    reef_scheduler_stats(sched, &st2);
    CHECK_INT(st2.attempts, ==, st.attempts);
    /* a label on the pod (no spec change) does not either */
    CHECK_INT(call("PATCH", "/api/v1/namespaces/default/pods/p",
                   "{\"metadata\":{\"labels\":{\"a\":\"b\"}}}", NULL),
              ==, 200);
    for (int i = 0; i < 50; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
    reef_scheduler_stats(sched, &st2);
    CHECK_INT(st2.attempts, ==, st.attempts);
    /* a toleration added to the pod's spec retries it */
    CHECK_INT(call("PATCH", "/api/v1/namespaces/default/pods/p",
                   "{\"spec\":{\"tolerations\":[{\"key\":\"gpu\",\"operator\":\"Exists\"}]}}",
                   NULL),
              ==, 200);
    RUN_UNTIL(bound_to("p", "t"));
    /* with no change at all a pod is still retried after the flush period */
    reef__scheduler_set_backoff(sched, 1, 2, 30);
    mk_pod("q", "2Gi", NULL);
    RUN_UNTIL(sched && (reef_scheduler_stats(sched, &st), st.unschedulable >= 2));
    RUN_UNTIL((reef_scheduler_stats(sched, &st2), st2.unschedulable >= st.unschedulable + 2));
    stop_sched();
    teardown();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_quantity);
    TEST_RUN(test_requests);
    TEST_RUN(test_message);
    TEST_RUN(test_taints);
    TEST_RUN(test_affinity);
    TEST_RUN(test_ports_and_pods);
    TEST_RUN(test_scores);
    TEST_RUN(test_binding);
    TEST_RUN(test_loop_binds);
    TEST_RUN(test_loop_unschedulable);
    TEST_RUN(test_loop_restart);
    TEST_RUN(test_loop_wakeups);
    return test_done();
}
