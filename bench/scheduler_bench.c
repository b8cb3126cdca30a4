/* Scheduler benchmark: PODS pending pods onto NODES synthetic nodes.
 *
 *   decision  the pure logic: reef_sched_pick + accounting for every pod on a cluster model
 *             (parsing the pods' JSON is timed apart);
 *   memory    the whole loop (reef_scheduler_start): store reads, decisions, the Binding through
 *             the in-process API and the Scheduled event, on an in-memory store;
 *   disk      the same on an on-disk store (every write a fsync'd SQLite transaction).
 *
 * Usage: scheduler_bench PODS NODES DIR [disk-only]   (DIR: where the on-disk store goes) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orchestrate/apiserver.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int node_json(char *buf, size_t size, int i)
{
    /* every tenth node is tainted; the others differ in size a little */
    return snprintf(buf, size,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node-%04d\","
                    "\"labels\":{\"kubernetes.io/hostname\":\"node-%04d\",\"zone\":\"z%d\"}},"
                    "\"spec\":{%s},\"status\":{\"allocatable\":{\"cpu\":\"%d\",\"memory\":\"%dGi\","
                    "\"pods\":\"110\"},\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
                    i, i, i % 3,
                    i % 10 == 9 ? "\"taints\":[{\"key\":\"dedicated\",\"value\":\"db\","
                                  "\"effect\":\"NoSchedule\"}]"
                                : "",
                    8 + i % 4, 32 + 8 * (i % 2));
}

static int pod_json(char *buf, size_t size, int i)
{
    /* 100 replicas per ReplicaSet; a nodeSelector on a third of them */
    return snprintf(buf, size,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"pod-%05d\","
                    "\"namespace\":\"default\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
                    "\"kind\":\"ReplicaSet\",\"name\":\"rs-%d\",\"uid\":\"rs-uid-%d\","
                    "\"controller\":true}]},\"spec\":{%s\"containers\":[{\"name\":\"app\","
                    "\"image\":\"busybox\",\"resources\":{\"requests\":{\"cpu\":\"100m\","
                    "\"memory\":\"128Mi\"}}}]}}",
                    i, i / 100, i / 100, i % 3 == 0 ? "\"nodeSelector\":{\"zone\":\"z0\"}," : "");
}

static int decision(int npods, int nnodes)
{
    struct reef_sched_cluster *c = reef_sched_cluster_new();
    char buf[2048];
    struct reef_err err = {0};
    for (int i = 0; i < nnodes; i++) {
        int n = node_json(buf, sizeof(buf), i);
        if (reef_sched_cluster_set_node(c, buf, (size_t)n, NULL, &err) < 0) {
            fprintf(stderr, "node: %s\n", err.msg);
            return 1;
        }
    }
    struct reef_sched_pod **pods = calloc((size_t)npods, sizeof(*pods));
    double t0 = now_s();
    for (int i = 0; i < npods; i++) {
        int n = pod_json(buf, sizeof(buf), i);
        if (reef_sched_pod_parse(buf, (size_t)n, &pods[i], &err) < 0) {
            fprintf(stderr, "pod: %s\n", err.msg);
            return 1;
        }
    }
    double t1 = now_s();
    int placed = 0;
    size_t feasible = 0;
    for (int i = 0; i < npods; i++) {
        struct reef_sched_result r;
        reef_sched_pick(c, pods[i], &r);
        if (r.slot >= 0 && reef_sched_cluster_account(c, pods[i], r.slot, +1) == 0)
            placed++;
        feasible += r.feasible;
    }
    double t2 = now_s();
    printf("decision: %d pods onto %d nodes: %d placed in %.3f s (%.1f us/pod, %.0f feasible "
           "nodes/pod on average); parsing the pods' JSON %.3f s\n",
           npods, nnodes, placed, t2 - t1, (t2 - t1) * 1e6 / npods, (double)feasible / npods,
           t1 - t0);
    /* the spread of one ReplicaSet: pods per node */
    int maxper = 0, minper = 1 << 30;
    for (int s = 0; s < nnodes; s++) {
        int u = (int)reef_sched_cluster_node(c, s)->used_pods;
        if (s % 10 == 9)
            continue;
        maxper = u > maxper ? u : maxper;
        minper = u < minper ? u : minper;
    }
    printf("decision: pods per untainted node: min %d, max %d\n", minper, maxper);
    for (int i = 0; i < npods; i++)
        reef_sched_pod_free(pods[i]);
    free(pods);
    reef_sched_cluster_free(c);
    return placed == npods ? 0 : 1;
}

static int put(struct reef_store *st, const char *res, const char *ns, const char *name,
               const char *json, int len)
{
    struct reef_store_cmd cmd = {.op = REEF_STORE_CREATE,
                                 .resource = res,
                                 .namespace = ns,
                                 .name = name,
                                 .object = json,
                                 .object_len = (size_t)len,
                                 .timestamp_ms = 1795883721000LL};
    struct reef_err err = {0};
    if (reef_store_new_uid(cmd.uid, &err) < 0 || reef_store_apply(st, &cmd, NULL, &err) < 0) {
        fprintf(stderr, "create %s/%s: %s\n", res, name, err.msg);
        return -1;
    }
    return 0;
}

/* group: the store commits without syncing and the loop below syncs once per iteration, as the
 * API server's group commit does in `reef server`. */
static int full(const char *label, const char *path, int npods, int nnodes, bool group)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct reef_err err = {0};
    struct reef_ctl_env env = {.loop = &loop};
    struct reef_store_opts so = {.group_commit = group};
    if (reef_store_open(path, &so, &env.store, &err) < 0) {
        fprintf(stderr, "store: %s\n", err.msg);
        return 1;
    }
    struct reef_apiserver_opts o = {.loop = &loop, .store = env.store};
    if (reef_apiserver_new(&o, &env.api, &err) < 0) {
        fprintf(stderr, "apiserver: %s\n", err.msg);
        return 1;
    }
    snprintf(env.user.name, sizeof(env.user.name), "system:kube-scheduler");
    char buf[2048], name[32];
    double t0 = now_s();
    for (int i = 0; i < nnodes; i++) {
        int n = node_json(buf, sizeof(buf), i);
        snprintf(name, sizeof(name), "node-%04d", i);
        if (put(env.store, "nodes", "", name, buf, n) < 0)
            return 1;
    }
    for (int i = 0; i < npods; i++) {
        int n = pod_json(buf, sizeof(buf), i);
        snprintf(name, sizeof(name), "pod-%05d", i);
        if (put(env.store, "pods", "default", name, buf, n) < 0)
            return 1;
    }
    double t1 = now_s();
    struct reef_store_stats s0, s1;
    reef_store_stats(env.store, &s0);
    struct reef_scheduler *sched;
    double t2 = now_s();
    if (reef_scheduler_start(&env, &sched, &err) < 0) {
        fprintf(stderr, "scheduler: %s\n", err.msg);
        return 1;
    }
    double t3 = now_s();
    struct reef_scheduler_stats st;
    do {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (group && reef_store_sync(env.store, &err) < 0) {
            fprintf(stderr, "sync: %s\n", err.msg);
            return 1;
        }
        reef_scheduler_stats(sched, &st);
    } while (st.queued > 0);
    double t4 = now_s();
    reef_store_stats(env.store, &s1);
    char syncs[64] = "";
    if (group)
        snprintf(syncs, sizeof(syncs), " in %llu disk syncs",
                 (unsigned long long)(s1.syncs - s0.syncs));
    printf("%s: setup (%d nodes + %d pods created) %.2f s; start (lists) %.3f s; all bound in "
           "%.3f s from start (%.1f us/pod), %llu bound, %llu unschedulable; %llu store commits "
           "(%.1f per pod: the Binding and the Scheduled event)%s\n",
           label, nnodes, npods, t1 - t0, t3 - t2, t4 - t2, (t4 - t2) * 1e6 / npods,
           (unsigned long long)st.bound, (unsigned long long)st.unschedulable,
           (unsigned long long)(s1.commits - s0.commits), (double)(s1.commits - s0.commits) / npods,
           syncs);
    reef_scheduler_stop(sched);
    reef_apiserver_shutdown(env.api);
    reef_apiserver_free(env.api);
    reef_store_close(env.store);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    return st.bound == (uint64_t)npods ? 0 : 1;
}

int main(int argc, char **argv)
{
    int npods = argc > 1 ? atoi(argv[1]) : 10000;
    int nnodes = argc > 2 ? atoi(argv[2]) : 500;
    const char *dir = argc > 3 ? argv[3] : NULL;
    if (npods <= 0 || nnodes <= 0)
        return 2;
    bool disk_only = argc > 4 && strcmp(argv[4], "disk-only") == 0;
    int r = 0;
    if (!disk_only) {
        r |= decision(npods, nnodes);
        r |= full("memory", NULL, npods, nnodes, false);
    }
    if (dir) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/state.db", dir);
        r |= full("disk", path, npods, nnodes, false);
        snprintf(path, sizeof(path), "%s/group.db", dir);
        r |= full("disk, group commit", path, npods, nnodes, true);
    }
    return r;
}
