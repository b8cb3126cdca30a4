/* Tests for the ReplicaSet controller (orchestrate/ctl_replicaset.c) and the work queue, against
 * the in-process API server with a fake kubelet. */
#include "tests/unit/workload_fixture.h"

#define RS_PATH "/apis/apps/v1/namespaces/" NS "/replicasets"

static void create_rs(const char *name, int replicas, int min_ready)
{
    CHECK_INT(apif("POST", RS_PATH, NULL,
                   "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":"
                   "\"%s\"},\"spec\":{\"replicas\":%d,\"minReadySeconds\":%d,\"selector\":{"
                   "\"matchLabels\":{\"app\":\"%s\"}},\"template\":{\"metadata\":{\"labels\":{"
                   "\"app\":\"%s\",\"extra\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                   "\"image\":\"busybox:1\"}]}}}}",
                   name, replicas, min_ready, name, name),
              ==, 201);
}

static void scale_rs(const char *name, int replicas)
{
    char target[300];
    snprintf(target, sizeof(target), RS_PATH "/%s", name);
    CHECK_INT(apif("PATCH", target, MERGE, "{\"spec\":{\"replicas\":%d}}", replicas), ==, 200);
    settle();
}

static int64_t rs_int(const char *name, const char *path)
{
    struct wl_obj o;
    obj_get(&o, "replicasets.apps", name);
    int64_t v = reef__wl_int(&o, path, 0);
    reef__wl_obj_free(&o);
    return v;
}

static void test_rs_scale(void)
{
    setup();
    create_rs("web", 3, 0);
    settle();
    struct objs s;
    objs_list(&s, "pods");
    CHECK_INT(s.n, ==, 3);
    struct wl_obj rs;
    obj_get(&rs, "replicasets.apps", "web");
    for (int i = 0; i < s.n; i++) {
        const struct wl_obj *p = &s.o[i];
        CHECK_STR(str_of(p, "metadata.generateName"), "web-");
        CHECK(strncmp(str_of(p, "metadata.name"), "web-", 4) == 0);
        CHECK_STR(str_of(p, "metadata.labels.extra"), "x");
        CHECK_STR(str_of(p, "metadata.ownerReferences[0].kind"), "ReplicaSet");
        CHECK_STR(str_of(p, "metadata.ownerReferences[0].apiVersion"), "apps/v1");
        CHECK_STR(str_of(p, "metadata.ownerReferences[0].uid"), str_of(&rs, "metadata.uid"));
        CHECK(reef__wl_bool(p, "metadata.ownerReferences[0].controller"));
        CHECK(reef__wl_bool(p, "metadata.ownerReferences[0].blockOwnerDeletion"));
        CHECK_STR(str_of(p, "spec.containers[0].image"), "busybox:1");
        char msg[300];
        snprintf(msg, sizeof(msg), "Created pod: %s", str_of(p, "metadata.name"));
        CHECK_INT(count_events("SuccessfulCreate", msg), ==, 1);
    }
    reef__wl_obj_free(&rs);
    objs_free(&s);
    CHECK_INT(rs_int("web", "status.replicas"), ==, 3);
    CHECK_INT(rs_int("web", "status.fullyLabeledReplicas"), ==, 3);
    CHECK_INT(rs_int("web", "status.readyReplicas"), ==, 0);
    CHECK_INT(rs_int("web", "status.observedGeneration"), ==, 1);

    CHECK_INT(kubelet_ready(-1), ==, 3);
    CHECK_INT(rs_int("web", "status.readyReplicas"), ==, 3);
    CHECK_INT(rs_int("web", "status.availableReplicas"), ==, 3);

    /* nothing changed: a sync writes nothing */
    int64_t rv = rs_int("web", "metadata.resourceVersion");
    int64_t store_rev = reef_store_rev(env.store);
    reef__wl_enqueue(wl, WL_RS, NS, "web");
    settle();
    CHECK_INT(rs_int("web", "metadata.resourceVersion"), ==, rv);
    CHECK_INT(reef_store_rev(env.store), ==, store_rev);

    scale_rs("web", 1);
    CHECK_INT(count_pods(NULL), ==, 1);
    CHECK_INT(count_events("SuccessfulDelete", NULL), ==, 2);
    CHECK_INT(rs_int("web", "status.replicas"), ==, 1);
    CHECK_INT(rs_int("web", "status.observedGeneration"), ==, 2);
    scale_rs("web", 4);
    CHECK_INT(count_pods(NULL), ==, 4);
    scale_rs("web", 0);
    CHECK_INT(count_pods(NULL), ==, 0);
    CHECK_INT(rs_int("web", "status.replicas"), ==, 0);
    teardown();
}

/* Surplus pods go not-ready first, then the most restarted, then the newest. */
static void test_rs_scale_down_order(void)
{
    setup();
    create_rs("web", 3, 0);
    settle();
    CHECK_INT(kubelet_ready(1), ==, 1);
    struct objs s;
    objs_list(&s, "pods");
    char ready[300] = "";
    for (int i = 0; i < s.n; i++)
        if (pod_ready(&s.o[i]))
            snprintf(ready, sizeof(ready), "%s", str_of(&s.o[i], "metadata.name"));
    objs_free(&s);
    CHECK(ready[0]);
    scale_rs("web", 1);
    objs_list(&s, "pods");
    CHECK_INT(s.n, ==, 1);
    CHECK_STR(str_of(&s.o[0], "metadata.name"), ready);
    objs_free(&s);
    teardown();
}

static void test_rank(void)
{
    static struct wl_pod p[6];
    struct wl_pod *v[6];
    int64_t now = 1800000000000LL;
    memset(p, 0, sizeof(p));
    for (int i = 0; i < 6; i++) {
        snprintf(p[i].name, sizeof(p[i].name), "p%d", i);
        snprintf(p[i].uid, sizeof(p[i].uid), "u%d", i);
        snprintf(p[i].node, sizeof(p[i].node), "n1");
        p[i].phase = 2;
        p[i].ready = true;
        p[i].ready_ms = now - 3600 * 1000;
        p[i].created_ms = now - 7200 * 1000;
    }
    p[0].restarts = 5;   /* ready but crashing */
    p[1].node[0] = '\0'; /* unscheduled */
    p[1].phase = 0;      /* Pending */
    p[1].ready = false;
    p[2].phase = 0; /* scheduled, pending */
    p[2].ready = false;
    p[3].ready = false;              /* running, not ready */
    p[4].ready_ms = now - 10 * 1000; /* ready recently */
    /* p[5]: ready for an hour, never restarted: kept longest */
    for (int i = 0; i < 6; i++)
        v[5 - i] = &p[i];
    reef__wl_rank_pods(v, 6, now);
    CHECK_STR(v[0]->name, "p1");
    CHECK_STR(v[1]->name, "p2");
    CHECK_STR(v[2]->name, "p3");
    CHECK_STR(v[3]->name, "p4");
    CHECK_STR(v[4]->name, "p0");
    CHECK_STR(v[5]->name, "p5");
    /* deletion cost outranks readiness time */
    p[4].deletion_cost = 10;
    for (int i = 0; i < 6; i++)
        v[i] = &p[i];
    reef__wl_rank_pods(v, 6, now);
    CHECK_STR(v[3]->name, "p0");
    CHECK_STR(v[5]->name, "p4");
}

/* Orphans the selector matches are adopted; owned pods that stop matching are released. */
static void test_rs_adopt_release(void)
{
    setup();
    CHECK_INT(api("POST", "/api/v1/namespaces/" NS "/pods", NULL,
                  "{\"metadata\":{\"name\":\"orphan\",\"labels\":{\"app\":\"web\"}},\"spec\":{"
                  "\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1\"}]}}",
                  NULL),
              ==, 201);
    CHECK_INT(api("POST", "/api/v1/namespaces/" NS "/pods", NULL,
                  "{\"metadata\":{\"name\":\"other\",\"labels\":{\"app\":\"db\"}},\"spec\":{"
                  "\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1\"}]}}",
                  NULL),
              ==, 201);
    settle();
    create_rs("web", 2, 0);
    settle();
    CHECK_INT(count_pods(NULL), ==, 3); /* the orphan and one new pod, and the db pod */
    struct wl_obj o, rs;
    obj_get(&o, "pods", "orphan");
    obj_get(&rs, "replicasets.apps", "web");
    CHECK_STR(str_of(&o, "metadata.ownerReferences[0].uid"), str_of(&rs, "metadata.uid"));
    CHECK(reef__wl_bool(&o, "metadata.ownerReferences[0].controller"));
    reef__wl_obj_free(&o);
    obj_get(&o, "pods", "other");
    CHECK(reef__wl_find(&o, "metadata.ownerReferences") < 0);
    reef__wl_obj_free(&o);
    CHECK_INT(count_events("SuccessfulCreate", NULL), ==, 1);

    /* relabelled: released, and replaced */
    CHECK_INT(api("PATCH", "/api/v1/namespaces/" NS "/pods/orphan", MERGE,
                  "{\"metadata\":{\"labels\":{\"app\":\"gone\"}}}", NULL),
              ==, 200);
    settle();
    obj_get(&o, "pods", "orphan");
    int refs = reef__wl_find(&o, "metadata.ownerReferences");
    CHECK(refs < 0 || reef_json_count(&o.d, refs) == 0);
    reef__wl_obj_free(&o);
    CHECK_INT(count_pods(NULL), ==, 4);
    CHECK_INT(rs_int("web", "status.replicas"), ==, 2);
    reef__wl_obj_free(&rs);
    teardown();
}

/* availableReplicas waits minReadySeconds after readiness, with a timer rather than polling. */
static void test_rs_min_ready(void)
{
    setup();
    create_rs("web", 2, 10);
    settle();
    kubelet_ready(-1);
    CHECK_INT(rs_int("web", "status.readyReplicas"), ==, 2);
    CHECK_INT(rs_int("web", "status.availableReplicas"), ==, 0);
    advance(5000);
    CHECK_INT(rs_int("web", "status.availableReplicas"), ==, 0);
    advance(6000);
    CHECK_INT(rs_int("web", "status.availableReplicas"), ==, 2);
    teardown();
}

/* The same on the real clock: the loop sleeps in the timer until the pods become available. */
static void test_rs_min_ready_real_clock(void)
{
    setup();
    reef__wl_set_clock(wl, NULL, NULL);
    fake_now = reef__api_now_ms();
    create_rs("web", 1, 1);
    settle();
    kubelet_ready(-1);
    CHECK_INT(rs_int("web", "status.availableReplicas"), ==, 0);
    for (int i = 0; i < 20 && rs_int("web", "status.availableReplicas") == 0; i++)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK_INT(rs_int("web", "status.availableReplicas"), ==, 1);
    teardown();
}

/* Pods being deleted or finished do not count: the ReplicaSet replaces them. */
static void test_rs_terminating(void)
{
    setup();
    /* bound pods are deleted gracefully: the first DELETE only marks them */
    CHECK_INT(apif("POST", RS_PATH, NULL,
                   "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":2,\"selector\":{"
                   "\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{"
                   "\"app\":\"web\"}},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":"
                   "\"c\",\"image\":\"busybox:1\"}]}}}}"),
              ==, 201);
    settle();
    struct objs s;
    objs_list(&s, "pods");
    CHECK_INT(s.n, ==, 2);
    char target[600];
    snprintf(target, sizeof(target), "/api/v1/namespaces/" NS "/pods/%s",
             str_of(&s.o[0], "metadata.name"));
    objs_free(&s);
    CHECK_INT(api("DELETE", target, NULL, NULL, NULL), ==, 200);
    settle();
    objs_list(&s, "pods");
    CHECK_INT(s.n, ==, 3); /* the terminating one and its replacement */
    objs_free(&s);
    CHECK_INT(count_pods(NULL), ==, 2);
    CHECK_INT(rs_int("web", "status.replicas"), ==, 2);
    kubelet_finish_deletes();
    objs_list(&s, "pods");
    CHECK_INT(s.n, ==, 2);
    objs_free(&s);
    teardown();
}

/* Deleting a ReplicaSet takes its pods (the API server's cascade over our ownerReferences). */
static void test_rs_cascade(void)
{
    setup();
    create_rs("web", 3, 0);
    settle();
    CHECK_INT(count_pods(NULL), ==, 3);
    CHECK_INT(api("DELETE", RS_PATH "/web", NULL, NULL, NULL), ==, 200);
    settle();
    CHECK_INT(count_pods(NULL), ==, 0);
    teardown();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_rs_scale);
    TEST_RUN(test_rs_scale_down_order);
    TEST_RUN(test_rank);
    TEST_RUN(test_rs_adopt_release);
    TEST_RUN(test_rs_min_ready);
    TEST_RUN(test_rs_min_ready_real_clock);
    TEST_RUN(test_rs_terminating);
    TEST_RUN(test_rs_cascade);
    return test_done();
}
