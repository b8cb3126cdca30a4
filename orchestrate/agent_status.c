/* agent_status: the pod's status as the API shows it: phase, conditions, addresses and the
 * containers' states. */
#include "orchestrate/agent_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define jstr reef__agent_jstr
#define spec_of reef__agent_spec_of

static void ns_time(int64_t ns, char out[32])
{
    reef_ctl_time(ns / 1000000, out);
}

static void put_ctr_status(struct reef_json_writer *w, const struct agent_ctr *c,
                           const char *image)
{
    char t[32];
    reef_json_begin_object(w);
    reef_json_key(w, "name");
    reef_json_put_str(w, c->name);
    reef_json_key(w, "state");
    reef_json_begin_object(w);
    if (c->state == ACTR_RUNNING) {
        reef_json_key(w, "running");
        reef_json_begin_object(w);
        ns_time(c->started_ns, t);
        reef_json_key(w, "startedAt");
        reef_json_put_str(w, t);
        reef_json_end_object(w);
    } else if (c->state == ACTR_EXITED && !c->wait_reason[0]) {
        reef_json_key(w, "terminated");
        reef_json_begin_object(w);
        reef_json_key(w, "exitCode");
        reef_json_put_int(w, c->exit_code);
        reef_json_key(w, "reason");
        reef_json_put_str(w, c->term_reason);
        ns_time(c->started_ns, t);
        reef_json_key(w, "startedAt");
        reef_json_put_str(w, t);
        ns_time(c->finished_ns, t);
        reef_json_key(w, "finishedAt");
        reef_json_put_str(w, t);
        if (c->id[0]) {
            char cid[80];
            snprintf(cid, sizeof(cid), "reef://%s", c->id);
            reef_json_key(w, "containerID");
            reef_json_put_str(w, cid);
        }
        reef_json_end_object(w);
    } else {
        reef_json_key(w, "waiting");
        reef_json_begin_object(w);
        reef_json_key(w, "reason");
        reef_json_put_str(w, c->wait_reason[0] ? c->wait_reason : "ContainerCreating");
        if (c->wait_msg[0]) {
            reef_json_key(w, "message");
            reef_json_put_str(w, c->wait_msg);
        }
        reef_json_end_object(w);
    }
    reef_json_end_object(w);
    /* waiting to restart: the attempt that ended is the last state */
    bool again = c->state == ACTR_EXITED && c->wait_reason[0];
    reef_json_key(w, "lastState");
    reef_json_begin_object(w);
    if (again || c->has_last) {
        reef_json_key(w, "terminated");
        reef_json_begin_object(w);
        reef_json_key(w, "exitCode");
        reef_json_put_int(w, again ? c->exit_code : c->last_exit);
        reef_json_key(w, "reason");
        reef_json_put_str(w, again ? c->term_reason : c->last_reason);
        ns_time(again ? c->started_ns : c->last_started_ns, t);
        reef_json_key(w, "startedAt");
        reef_json_put_str(w, t);
        ns_time(again ? c->finished_ns : c->last_finished_ns, t);
        reef_json_key(w, "finishedAt");
        reef_json_put_str(w, t);
        const char *lid = again ? c->id : c->prev_id;
        if (lid[0]) {
            char cid[80];
            snprintf(cid, sizeof(cid), "reef://%s", lid);
            reef_json_key(w, "containerID");
            reef_json_put_str(w, cid);
        }
        reef_json_end_object(w);
    }
    reef_json_end_object(w);
    reef_json_key(w, "ready");
    reef_json_put_bool(w, c->state == ACTR_RUNNING && c->ready);
    reef_json_key(w, "restartCount");
    reef_json_put_int(w, c->attempt > 1 ? c->attempt - 1 : 0);
    reef_json_key(w, "image");
    reef_json_put_str(w, c->image_ref[0] ? c->image_ref : image);
    reef_json_key(w, "imageID");
    reef_json_put_str(w, c->image_id);
    if (c->id[0]) {
        char cid[80];
        snprintf(cid, sizeof(cid), "reef://%s", c->id);
        reef_json_key(w, "containerID");
        reef_json_put_str(w, cid);
    }
    if (!c->init) {
        reef_json_key(w, "started");
        reef_json_put_bool(w, c->state == ACTR_RUNNING && c->started);
    }
    reef_json_end_object(w);
}

struct cond {
    const char *type;
    bool ok;
    const char *reason; /* when not ok */
    bool init;          /* about the init containers */
};

/* lastTransitionTime of a condition: kept from the stored status while its value holds. */
static void transition_time(const struct reef_json_doc *d, const char *type, bool ok,
                            char out[40])
{
    out[0] = '\0';
    int conds = reef_json_find(d, REEF_JSON_ROOT, "status.conditions", NULL);
    struct reef_json_iter it = reef_json_iter(d, conds);
    while (reef_json_next(d, &it)) {
        int t = reef_json_member(d, it.val, "type");
        if (t < 0 || !reef_json_str_eq(d, t, type))
            continue;
        int st = reef_json_member(d, it.val, "status");
        if (st >= 0 && reef_json_str_eq(d, st, ok ? "True" : "False"))
            jstr(d, it.val, "lastTransitionTime", out, 40);
    }
    if (!out[0])
        reef_ctl_time(reef__agent_now_ms(), out);
}

void reef__agent_write_status(struct agent_pod *p, const struct reef_json_doc *d, const char *phase,
                         bool initialized)
{
    struct reef_agent *a = p->a;
    bool all_ready = true;
    for (size_t i = p->ninit; i < p->nctrs; i++)
        all_ready &= p->ctrs[i].state == ACTR_RUNNING && p->ctrs[i].ready;
    struct cond conds[] = {{"PodReadyToStartContainers", p->sandbox_ready, NULL, false},
                           {"Initialized", initialized, "ContainersNotInitialized", true},
                           {"Ready", all_ready, "ContainersNotReady", false},
                           {"ContainersReady", all_ready, "ContainersNotReady", false},
                           {"PodScheduled", true, NULL, false}};
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_json_writer w;
    reef_json_writer_init(&w, &b, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "status");
    reef_json_begin_object(&w);
    reef_json_key(&w, "phase");
    reef_json_put_str(&w, phase);
    reef_json_key(&w, "conditions");
    reef_json_begin_array(&w);
    for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
        char t[40];
        transition_time(d, conds[i].type, conds[i].ok, t);
        reef_json_begin_object(&w);
        reef_json_key(&w, "type");
        reef_json_put_str(&w, conds[i].type);
        reef_json_key(&w, "status");
        reef_json_put_str(&w, conds[i].ok ? "True" : "False");
        reef_json_key(&w, "lastProbeTime");
        reef_json_put_null(&w);
        reef_json_key(&w, "lastTransitionTime");
        reef_json_put_str(&w, t);
        if (!conds[i].ok && conds[i].reason) {
            char msg[1024] = "";
            size_t n = 0;
            for (size_t k = conds[i].init ? 0 : p->ninit; k < (conds[i].init ? p->ninit : p->nctrs);
                 k++) {
                const struct agent_ctr *c = &p->ctrs[k];
                bool ok = c->init ? c->state == ACTR_EXITED && c->exit_code == 0
                                  : c->state == ACTR_RUNNING && c->ready;
                if (!ok)
                    n += (size_t)snprintf(msg + n, n < sizeof(msg) ? sizeof(msg) - n : 0, "%s%s",
                                          n ? " " : "", c->name);
            }
            char full[1200];
            snprintf(full, sizeof(full), "containers with %s: [%s]",
                     conds[i].init ? "incomplete status" : "unready status", msg);
            reef_json_key(&w, "reason");
            reef_json_put_str(&w, conds[i].reason);
            reef_json_key(&w, "message");
            reef_json_put_str(&w, full);
        }
        reef_json_end_object(&w);
    }
    reef_json_end_array(&w);
    reef_json_key(&w, "hostIP");
    reef_json_put_str(&w, a->host_ip);
    reef_json_key(&w, "hostIPs");
    reef_json_begin_array(&w);
    reef_json_begin_object(&w);
    reef_json_key(&w, "ip");
    reef_json_put_str(&w, a->host_ip);
    reef_json_end_object(&w);
    reef_json_end_array(&w);
    if (p->ip[0]) {
        reef_json_key(&w, "podIP");
        reef_json_put_str(&w, p->ip);
        reef_json_key(&w, "podIPs");
        reef_json_begin_array(&w);
        reef_json_begin_object(&w);
        reef_json_key(&w, "ip");
        reef_json_put_str(&w, p->ip);
        reef_json_end_object(&w);
        reef_json_end_array(&w);
    }
    if (p->start_ms) {
        char t[32];
        reef_ctl_time(p->start_ms, t);
        reef_json_key(&w, "startTime");
        reef_json_put_str(&w, t);
    }
    for (int k = 0; k < 2; k++) {
        size_t from = k == 0 ? 0 : p->ninit, to = k == 0 ? p->ninit : p->nctrs;
        if (from == to)
            continue;
        reef_json_key(&w, k == 0 ? "initContainerStatuses" : "containerStatuses");
        reef_json_begin_array(&w);
        for (size_t i = from; i < to; i++) {
            char image[512] = "";
            int spec = spec_of(d, &p->ctrs[i]);
            if (spec >= 0)
                jstr(d, spec, "image", image, sizeof(image));
            put_ctr_status(&w, &p->ctrs[i], image);
        }
        reef_json_end_array(&w);
    }
    char qos[16] = "";
    if (!jstr(d, REEF_JSON_ROOT, "status.qosClass", qos, sizeof(qos)) || !qos[0])
        snprintf(qos, sizeof(qos), "BestEffort");
    reef_json_key(&w, "qosClass");
    reef_json_put_str(&w, qos);
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    struct reef_err err = {0};
    if (reef_json_finish(&w, &err) < 0 ||
        (p->last_status && strcmp(p->last_status, b.data) == 0)) {
        reef_buf_free(&b);
        return;
    }
    char path[600];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/status", p->ns, p->name);
    int st = reef_ctl_call(&a->env, "PATCH", path, "application/merge-patch+json", b.data, b.len,
                           NULL, &err);
    if (st == 200) {
        free(p->last_status);
        p->last_status = strdup(b.data);
    } else if (st != 404) {
        LOG_WARN("agent", "status of pod %s/%s: %s", p->ns, p->name, err.msg);
        reef__agent_arm(p, reef__agent_now_ms() + 1000);
    }
    reef_buf_free(&b);
}

