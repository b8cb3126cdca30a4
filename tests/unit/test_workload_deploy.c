/* Tests for the Deployment controller (orchestrate/ctl_deployment*.c): rollouts observed step by
 * step against the in-process API server with a fake kubelet. */
#include "tests/unit/workload_fixture.h"

#define DEP_PATH "/apis/apps/v1/namespaces/" NS "/deployments"

static void create_deploy(const char *extra_spec, int replicas, const char *image)
{
    CHECK_INT(apif("POST", DEP_PATH, NULL,
                   "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
                   "\"web\"},\"spec\":{%s\"replicas\":%d,\"selector\":{\"matchLabels\":{\"app\":"
                   "\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
                   "\"containers\":[{\"name\":\"web\",\"image\":\"%s\"}]}}}}",
                   extra_spec, replicas, image),
              ==, 201);
    settle();
}

static void patch_deploy(const char *patch)
{
    CHECK_INT(api("PATCH", DEP_PATH "/web", MERGE, patch, NULL), ==, 200);
    settle();
}

static void set_image(const char *image)
{
    char p[300];
    snprintf(p, sizeof(p),
             "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
             "\"%s\"}]}}}}",
             image);
    patch_deploy(p);
}

static int64_t dep_int(const char *path)
{
    struct wl_obj o;
    obj_get(&o, "deployments.apps", "web");
    int64_t v = reef__wl_int(&o, path, 0);
    reef__wl_obj_free(&o);
    return v;
}

/* The condition of type: "status/reason/message". */
static const char *dep_cond(const char *type)
{
    static char out[1024];
    struct wl_obj o;
    obj_get(&o, "deployments.apps", "web");
    out[0] = '\0';
    int c = reef__wl_find(&o, "status.conditions");
    struct reef_json_iter it = reef_json_iter(&o.d, c);
    while (reef_json_next(&o.d, &it)) {
        int t = reef_json_member(&o.d, it.val, "type");
        if (t < 0 || !reef_json_str_eq(&o.d, t, type))
            continue;
        char s[32] = "", r[128] = "", m[600] = "";
        reef_json_get_str(&o.d, reef_json_member(&o.d, it.val, "status"), s, sizeof(s), NULL);
        reef_json_get_str(&o.d, reef_json_member(&o.d, it.val, "reason"), r, sizeof(r), NULL);
        reef_json_get_str(&o.d, reef_json_member(&o.d, it.val, "message"), m, sizeof(m), NULL);
        snprintf(out, sizeof(out), "%s/%s/%s", s, r, m);
    }
    reef__wl_obj_free(&o);
    return out;
}

/* The ReplicaSets, oldest revision first: names, spec.replicas, revisions. */
struct rsinfo {
    char name[8][300];
    int64_t replicas[8], revision[8];
    char images[8][100];
    int n;
};

static void rs_info(struct rsinfo *ri)
{
    memset(ri, 0, sizeof(*ri));
    struct objs s;
    objs_list(&s, "replicasets.apps");
    for (int i = 0; i < s.n && ri->n < 8; i++) {
        char rev[32];
        reef__wl_annotation(&s.o[i], "deployment.kubernetes.io/revision", rev, sizeof(rev));
        int64_t r = atoll(rev);
        int j = ri->n++;
        while (j > 0 && ri->revision[j - 1] > r) {
            memcpy(ri->name[j], ri->name[j - 1], sizeof(ri->name[j]));
            memcpy(ri->images[j], ri->images[j - 1], sizeof(ri->images[j]));
            ri->replicas[j] = ri->replicas[j - 1];
            ri->revision[j] = ri->revision[j - 1];
            j--;
        }
        snprintf(ri->name[j], sizeof(ri->name[j]), "%s", str_of(&s.o[i], "metadata.name"));
        snprintf(ri->images[j], sizeof(ri->images[j]), "%s",
                 str_of(&s.o[i], "spec.template.spec.containers[0].image"));
        ri->replicas[j] = reef__wl_int(&s.o[i], "spec.replicas", -1);
        ri->revision[j] = r;
    }
    objs_free(&s);
}

static bool complete(int replicas)
{
    return dep_int("status.observedGeneration") >= dep_int("metadata.generation") &&
           dep_int("status.updatedReplicas") == replicas &&
           dep_int("status.replicas") == replicas &&
           dep_int("status.availableReplicas") == replicas;
}

/* Marks pods ready one at a time until the rollout completes. */
static void drive(int replicas, int max_total, int min_ready)
{
    for (int step = 0; step < 100 && !complete(replicas); step++) {
        int ready = 0, n = count_pods(&ready);
        CHECK_INT(n, <=, max_total);
        CHECK_INT(ready, >=, min_ready);
        kubelet_ready(1);
    }
    CHECK(complete(replicas));
}

static void test_create(void)
{
    setup();
    create_deploy("", 3, "nginx:1.25");
    struct rsinfo ri;
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 1);
    struct wl_obj rs, dep;
    obj_get(&rs, "replicasets.apps", ri.name[0]);
    obj_get(&dep, "deployments.apps", "web");
    /* the hash is of the Deployment's template, and names the ReplicaSet */
    int tv = reef__wl_find(&dep, "spec.template");
    size_t tl;
    const char *traw = reef_json_raw(&dep.d, tv, &tl);
    char hash[16], name[300];
    CHECK_INT(reef_workload_template_hash(traw, tl, -1, hash, NULL), ==, 0);
    snprintf(name, sizeof(name), "web-%s", hash);
    CHECK_STR(ri.name[0], name);
    CHECK_STR(str_of(&rs, "metadata.labels.pod-template-hash"), hash);
    CHECK_STR(str_of(&rs, "spec.selector.matchLabels.pod-template-hash"), hash);
    CHECK_STR(str_of(&rs, "spec.template.metadata.labels.pod-template-hash"), hash);
    CHECK_STR(str_of(&rs, "spec.template.metadata.labels.app"), "web");
    CHECK_STR(str_of(&rs, "metadata.ownerReferences[0].kind"), "Deployment");
    CHECK_STR(str_of(&rs, "metadata.ownerReferences[0].uid"), str_of(&dep, "metadata.uid"));
    CHECK_STR(str_of(&rs, "metadata.annotations[\"deployment.kubernetes.io/revision\"]"), "1");
    CHECK_STR(str_of(&rs, "metadata.annotations[\"deployment.kubernetes.io/desired-replicas\"]"),
              "3");
    /* maxSurge 25% of 3 rounds up to 1 */
    CHECK_STR(str_of(&rs, "metadata.annotations[\"deployment.kubernetes.io/max-replicas\"]"), "4");
    CHECK_STR(str_of(&dep, "metadata.annotations[\"deployment.kubernetes.io/revision\"]"), "1");
    CHECK_INT(reef__wl_int(&rs, "spec.replicas", 0), ==, 3);
    reef__wl_obj_free(&rs);
    reef__wl_obj_free(&dep);
    char msg[400];
    snprintf(msg, sizeof(msg), "Scaled up replica set %s from 0 to 3", name);
    CHECK_INT(count_events("ScalingReplicaSet", msg), ==, 1);
    CHECK_INT(count_pods(NULL), ==, 3);
    snprintf(msg, sizeof(msg), "True/ReplicaSetUpdated/ReplicaSet \"%s\" is progressing.", name);
    CHECK_STR(dep_cond("Progressing"), msg);
    CHECK_STR(dep_cond("Available"),
              "False/MinimumReplicasUnavailable/Deployment does not have minimum availability.");
    CHECK_INT(dep_int("status.unavailableReplicas"), ==, 3);

    kubelet_ready(-1);
    CHECK(complete(3));
    CHECK_INT(dep_int("status.readyReplicas"), ==, 3);
    CHECK_INT(dep_int("status.unavailableReplicas"), ==, 0);
    snprintf(msg, sizeof(msg),
             "True/NewReplicaSetAvailable/ReplicaSet \"%s\" has successfully "
             "progressed.",
             name);
    CHECK_STR(dep_cond("Progressing"), msg);
    CHECK_STR(dep_cond("Available"),
              "True/MinimumReplicasAvailable/Deployment has minimum availability.");

    /* scaling */
    patch_deploy("{\"spec\":{\"replicas\":5}}");
    rs_info(&ri);
    CHECK_INT(ri.replicas[0], ==, 5);
    CHECK_INT(count_pods(NULL), ==, 5);
    snprintf(msg, sizeof(msg), "Scaled up replica set %s from 3 to 5", name);
    CHECK_INT(count_events("ScalingReplicaSet", msg), ==, 1);
    patch_deploy("{\"spec\":{\"replicas\":2}}");
    CHECK_INT(count_pods(NULL), ==, 2);
    snprintf(msg, sizeof(msg), "Scaled down replica set %s from 5 to 2", name);
    CHECK_INT(count_events("ScalingReplicaSet", msg), ==, 1);
    kubelet_ready(-1);
    CHECK(complete(2));

    /* a settled Deployment is not written again */
    int64_t rev = reef_store_rev(env.store);
    reef__wl_enqueue(wl, WL_DEPLOY, NS, "web");
    reef__wl_enqueue(wl, WL_RS, NS, ri.name[0]);
    settle();
    CHECK_INT(reef_store_rev(env.store), ==, rev);

    /* deleting it takes the ReplicaSet and the pods */
    CHECK_INT(api("DELETE", DEP_PATH "/web", NULL, NULL, NULL), ==, 200);
    settle();
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 0);
    CHECK_INT(count_pods(NULL), ==, 0);
    teardown();
}

static void test_rolling(void)
{
    setup();
    create_deploy("\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1,"
                  "\"maxUnavailable\":1}},",
                  4, "img:a");
    kubelet_ready(-1);
    CHECK(complete(4));
    set_image("img:b");
    /* never more than 4 + 1 pods, never fewer than 4 - 1 ready */
    drive(4, 5, 3);
    struct rsinfo ri;
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 2);
    CHECK_STR(ri.images[0], "img:a");
    CHECK_INT(ri.replicas[0], ==, 0);
    CHECK_INT(ri.revision[0], ==, 1);
    CHECK_STR(ri.images[1], "img:b");
    CHECK_INT(ri.replicas[1], ==, 4);
    CHECK_INT(ri.revision[1], ==, 2);
    struct wl_obj dep;
    obj_get(&dep, "deployments.apps", "web");
    CHECK_STR(str_of(&dep, "metadata.annotations[\"deployment.kubernetes.io/revision\"]"), "2");
    reef__wl_obj_free(&dep);
    char msg[400];
    snprintf(msg, sizeof(msg), "Scaled down replica set %s from 4 to 3", ri.name[0]);
    CHECK_INT(count_events("ScalingReplicaSet", msg), ==, 1);

    /* percentages: 25% of 4 is 1 either way; 10 replicas with 30%/20%: surge 3, unavailable 2 */
    patch_deploy("{\"spec\":{\"replicas\":10,\"strategy\":{\"rollingUpdate\":{\"maxSurge\":"
                 "\"30%\",\"maxUnavailable\":\"20%\"}}}}");
    kubelet_ready(-1);
    CHECK(complete(10));
    set_image("img:c");
    drive(10, 13, 8);

    /* rollback: the template of revision 1 again reuses its ReplicaSet */
    set_image("img:a");
    drive(10, 13, 8);
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 3);
    CHECK_STR(ri.images[2], "img:a");
    CHECK_INT(ri.revision[2], ==, 4);
    CHECK_INT(ri.replicas[2], ==, 10);
    struct wl_obj rs;
    obj_get(&rs, "replicasets.apps", ri.name[2]);
    CHECK_STR(str_of(&rs, "metadata.annotations[\"deployment.kubernetes.io/revision-history\"]"),
              "1");
    reef__wl_obj_free(&rs);
    teardown();
}

/* Scaling in the middle of a rollout spreads the change over both ReplicaSets in proportion to
 * their sizes (by their max-replicas annotations). */
static void test_proportional(void)
{
    setup();
    create_deploy("\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"30%\",\"maxUnavailable\":"
                  "\"20%\"}},",
                  10, "img:a");
    kubelet_ready(-1);
    CHECK(complete(10));
    set_image("img:b");
    /* surge 3, unavailable 2: old 10 -> 8, new 0 -> 3 -> 5 (13 pods), then stuck on readiness */
    struct rsinfo ri;
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 2);
    CHECK_INT(ri.replicas[0], ==, 8);
    CHECK_INT(ri.replicas[1], ==, 5);
    patch_deploy("{\"spec\":{\"replicas\":20}}");
    /* 26 allowed (20 + 30%), 13 to add: old 8 * 26 / 13 = 16, new 5 * 26 / 13 = 10 */
    rs_info(&ri);
    CHECK_INT(ri.replicas[0], ==, 16);
    CHECK_INT(ri.replicas[1], ==, 10);
    char msg[400];
    snprintf(msg, sizeof(msg), "Scaled up replica set %s from 8 to 16", ri.name[0]);
    CHECK_INT(count_events("ScalingReplicaSet", msg), ==, 1);
    snprintf(msg, sizeof(msg), "Scaled up replica set %s from 5 to 10", ri.name[1]);
    CHECK_INT(count_events("ScalingReplicaSet", msg), ==, 1);
    struct wl_obj rs;
    obj_get(&rs, "replicasets.apps", ri.name[0]);
    CHECK_STR(str_of(&rs, "metadata.annotations[\"deployment.kubernetes.io/desired-replicas\"]"),
              "20");
    CHECK_STR(str_of(&rs, "metadata.annotations[\"deployment.kubernetes.io/max-replicas\"]"), "26");
    reef__wl_obj_free(&rs);
    drive(20, 26, 8); /* the pods of the scale-up are not ready yet */
    teardown();
}

static void test_recreate(void)
{
    setup();
    /* bound pods terminate gracefully, so the old ones linger until the kubelet is done */
    CHECK_INT(apif("POST", DEP_PATH, NULL,
                   "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":2,\"strategy\":{"
                   "\"type\":\"Recreate\"},\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                   "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
                   "\"nodeName\":\"n1\",\"containers\":[{\"name\":\"web\",\"image\":\"img:a\"}]}}"
                   "}}"),
              ==, 201);
    settle();
    kubelet_ready(-1);
    CHECK(complete(2));
    set_image("img:b");
    struct rsinfo ri;
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 1); /* no new ReplicaSet while old pods run */
    CHECK_INT(ri.replicas[0], ==, 0);
    CHECK_INT(count_pods(NULL), ==, 0);
    struct objs s;
    objs_list(&s, "pods");
    CHECK_INT(s.n, ==, 2); /* terminating */
    objs_free(&s);
    CHECK_INT(kubelet_finish_deletes(), ==, 2);
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 2);
    CHECK_STR(ri.images[1], "img:b");
    CHECK_INT(ri.replicas[1], ==, 2);
    CHECK_INT(count_pods(NULL), ==, 2);
    kubelet_ready(-1);
    CHECK(complete(2));
    teardown();
}

static void test_paused(void)
{
    setup();
    create_deploy("", 2, "img:a");
    kubelet_ready(-1);
    CHECK(complete(2));
    patch_deploy("{\"spec\":{\"paused\":true}}");
    CHECK_STR(dep_cond("Progressing"), "Unknown/DeploymentPaused/Deployment is paused");
    set_image("img:b");
    struct rsinfo ri;
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 1);
    /* scaling still applies */
    patch_deploy("{\"spec\":{\"replicas\":4}}");
    rs_info(&ri);
    CHECK_INT(ri.replicas[0], ==, 4);
    CHECK_INT(count_pods(NULL), ==, 4);
    kubelet_ready(-1);
    patch_deploy("{\"spec\":{\"paused\":false}}");
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 2);
    drive(4, 5, 3);
    teardown();
}

static void test_history_limit(void)
{
    setup();
    create_deploy("\"revisionHistoryLimit\":1,", 1, "img:a");
    kubelet_ready(-1);
    static const char *const images[] = {"img:b", "img:c", "img:d"};
    for (size_t i = 0; i < 3; i++) {
        set_image(images[i]);
        drive(1, 2, 0);
    }
    struct rsinfo ri;
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 2); /* the current one and one old */
    CHECK_STR(ri.images[0], "img:c");
    CHECK_STR(ri.images[1], "img:d");
    CHECK_INT(ri.revision[1], ==, 4);
    teardown();
}

static void test_deadline(void)
{
    setup();
    create_deploy("\"progressDeadlineSeconds\":30,", 2, "img:a");
    struct rsinfo ri;
    rs_info(&ri);
    char msg[400];
    snprintf(msg, sizeof(msg), "True/ReplicaSetUpdated/ReplicaSet \"%s\" is progressing.",
             ri.name[0]);
    CHECK_STR(dep_cond("Progressing"), msg);
    advance(20000);
    CHECK_STR(dep_cond("Progressing"), msg);
    advance(15000);
    snprintf(msg, sizeof(msg),
             "False/ProgressDeadlineExceeded/ReplicaSet \"%s\" has timed out progressing.",
             ri.name[0]);
    CHECK_STR(dep_cond("Progressing"), msg);
    /* progress afterwards completes it */
    kubelet_ready(-1);
    CHECK(complete(2));
    snprintf(msg, sizeof(msg),
             "True/NewReplicaSetAvailable/ReplicaSet \"%s\" has successfully progressed.",
             ri.name[0]);
    CHECK_STR(dep_cond("Progressing"), msg);
    teardown();
}

/* `kubectl rollout restart` changes a template annotation: a new ReplicaSet. */
static void test_restart(void)
{
    setup();
    create_deploy("", 2, "img:a");
    kubelet_ready(-1);
    patch_deploy("{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{"
                 "\"kubectl.kubernetes.io/restartedAt\":\"2026-11-28T17:00:00Z\"}}}}}");
    drive(2, 3, 1);
    struct rsinfo ri;
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 2);
    CHECK(strcmp(ri.name[0], ri.name[1]) != 0);
    struct wl_obj rs;
    obj_get(&rs, "replicasets.apps", ri.name[1]);
    CHECK_STR(str_of(&rs, "spec.template.metadata.annotations[\"kubectl.kubernetes.io/"
                          "restartedAt\"]"),
              "2026-11-28T17:00:00Z");
    reef__wl_obj_free(&rs);
    teardown();
}

/* A ReplicaSet the selector matches but nobody owns is adopted and, with the Deployment's
 * template, serves as its new ReplicaSet rather than being duplicated. */
static void test_adopt_rs(void)
{
    setup();
    CHECK_INT(api("POST", "/apis/apps/v1/namespaces/" NS "/replicasets", NULL,
                  "{\"metadata\":{\"name\":\"legacy\",\"labels\":{\"app\":\"web\"}},"
                  "\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                  "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
                  "\"containers\":[{\"name\":\"web\",\"image\":\"img:a\"}]}}}}",
                  NULL),
              ==, 201);
    settle();
    CHECK_INT(count_pods(NULL), ==, 1);
    create_deploy("", 2, "img:a");
    struct rsinfo ri;
    rs_info(&ri);
    CHECK_INT(ri.n, ==, 1);
    CHECK_STR(ri.name[0], "legacy");
    CHECK_INT(ri.replicas[0], ==, 2);
    CHECK_INT(ri.revision[0], ==, 1);
    struct wl_obj rs;
    obj_get(&rs, "replicasets.apps", "legacy");
    CHECK_STR(str_of(&rs, "metadata.ownerReferences[0].kind"), "Deployment");
    reef__wl_obj_free(&rs);
    CHECK_INT(count_pods(NULL), ==, 2);
    CHECK_INT(count_events("ScalingReplicaSet", "Scaled up replica set legacy from 1 to 2"), ==, 1);
    teardown();
}

/* A name taken by a ReplicaSet with another template is a hash collision: collisionCount goes
 * up and the next name is tried. */
static void test_collision(void)
{
    setup();
    const char *tmpl = "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":["
                       "{\"name\":\"web\",\"image\":\"img:a\",\"terminationMessagePath\":"
                       "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\","
                       "\"imagePullPolicy\":\"IfNotPresent\",\"resources\":{}}],\"restartPolicy\":"
                       "\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":"
                       "\"ClusterFirst\",\"securityContext\":{},\"schedulerName\":"
                       "\"default-scheduler\"}}";
    char h0[16], h1[16];
    CHECK_INT(reef_workload_template_hash(tmpl, strlen(tmpl), -1, h0, NULL), ==, 0);
    CHECK_INT(reef_workload_template_hash(tmpl, strlen(tmpl), 1, h1, NULL), ==, 0);
    CHECK(strcmp(h0, h1) != 0);
    /* someone else's ReplicaSet under the name the Deployment wants */
    CHECK_INT(apif("POST", "/apis/apps/v1/namespaces/" NS "/replicasets", NULL,
                   "{\"metadata\":{\"name\":\"web-%s\"},\"spec\":{\"replicas\":0,\"selector\":"
                   "{\"matchLabels\":{\"app\":\"other\"}},\"template\":{\"metadata\":{"
                   "\"labels\":{\"app\":\"other\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                   "\"image\":\"img:z\"}]}}}}",
                   h0),
              ==, 201);
    settle();
    create_deploy("", 1, "img:a");
    advance(100);
    CHECK_INT(dep_int("status.collisionCount"), ==, 1);
    struct wl_obj rs;
    char name[64];
    snprintf(name, sizeof(name), "web-%s", h1);
    obj_get(&rs, "replicasets.apps", name);
    CHECK_STR(str_of(&rs, "metadata.ownerReferences[0].kind"), "Deployment");
    reef__wl_obj_free(&rs);
    teardown();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_create);
    TEST_RUN(test_rolling);
    TEST_RUN(test_proportional);
    TEST_RUN(test_recreate);
    TEST_RUN(test_paused);
    TEST_RUN(test_history_limit);
    TEST_RUN(test_deadline);
    TEST_RUN(test_restart);
    TEST_RUN(test_adopt_rs);
    TEST_RUN(test_collision);
    return test_done();
}
