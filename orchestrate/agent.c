/* agent: the node's registration, its lease, the watch on the pods bound to it, adoption of
 * containers from an earlier run, and the node handler for log/exec/attach. */
#include "orchestrate/agent_int.h"

#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/fs.h"
#include "core/log.h"
#include "orchestrate/podio.h"
#include "runtime/cgroup.h"
#include "runtime/shim.h"

#ifndef REEF_VERSION
#define REEF_VERSION "dev"
#endif

int64_t reef__agent_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the sync queue ---- */

static void on_idle(uv_idle_t *h)
{
    struct reef_agent *a = h->data;
    uv_idle_stop(&a->idle);
    a->idle_active = false;
    /* a sync may queue pods again (its own writes come back as watch events) */
    for (struct agent_pod *p = a->pods, *next; p; p = next) {
        next = p->next;
        if (p->queued && !p->closing) {
            p->queued = false;
            reef__agent_sync(p);
        }
    }
}

void reef__agent_queue(struct agent_pod *p)
{
    struct reef_agent *a = p->a;
    p->queued = true;
    if (!a->idle_active && !a->stopping) {
        a->idle_active = true;
        uv_idle_start(&a->idle, on_idle);
    }
}

/* ---- node ---- */

static const char *arch_name(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#else
    return "unknown";
#endif
}

static void host_address(char out[64])
{
    snprintf(out, 64, "127.0.0.1");
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
            !(i->ifa_flags & IFF_UP))
            continue;
        if (strncmp(i->ifa_name, "veth", 4) == 0 || strncmp(i->ifa_name, "reef", 4) == 0)
            continue;
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out, 64);
        break;
    }
    freeifaddrs(ifs);
}

static void os_image(char *out, size_t size)
{
    snprintf(out, size, "Linux");
    char *text = NULL;
    size_t len = 0;
    if (reef_fs_read_string("/etc/os-release", 65536, &text, &len, NULL) < 0)
        return;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strncmp(line, "PRETTY_NAME=", 12) == 0) {
            char *v = line + 12;
            size_t n = strlen(v);
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
                v[n - 1] = '\0';
                v++;
            }
            snprintf(out, size, "%s", v);
        }
    free(text);
}

static void write_condition(struct reef_json_writer *w, const char *type, const char *status,
                            const char *reason, const char *message, const char *now,
                            const char *since)
{
    reef_json_begin_object(w);
    reef_json_key(w, "type");
    reef_json_put_str(w, type);
    reef_json_key(w, "status");
    reef_json_put_str(w, status);
    reef_json_key(w, "lastHeartbeatTime");
    reef_json_put_str(w, now);
    reef_json_key(w, "lastTransitionTime");
    reef_json_put_str(w, since);
    reef_json_key(w, "reason");
    reef_json_put_str(w, reason);
    reef_json_key(w, "message");
    reef_json_put_str(w, message);
    reef_json_end_object(w);
}

/* The Node's status: capacity, conditions, addresses, nodeInfo. */
static int node_status(struct reef_agent *a, struct reef_buf *b, bool whole_object)
{
    struct sysinfo si;
    sysinfo(&si);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t mem_ki = (uint64_t)si.totalram * si.mem_unit / 1024;
    struct utsname u;
    uname(&u);
    char osimg[256], now[32], since[32], cpu[32], mem[64];
    os_image(osimg, sizeof(osimg));
    reef_ctl_time(reef__agent_now_ms(), now);
    reef_ctl_time(a->node_status_at ? a->node_status_at : reef__agent_now_ms(), since);
    snprintf(cpu, sizeof(cpu), "%ld", cpus > 0 ? cpus : 1);
    snprintf(mem, sizeof(mem), "%lluKi", (unsigned long long)mem_ki);
    char machine_id[64] = "";
    char *mid = NULL;
    size_t mlen = 0;
    if (reef_fs_read_string("/etc/machine-id", 256, &mid, &mlen, NULL) == 0) {
        snprintf(machine_id, sizeof(machine_id), "%.*s", (int)strcspn(mid, "\n"), mid);
        free(mid);
    }

    struct reef_json_writer w;
    reef_json_writer_init(&w, b, 0);
    reef_json_begin_object(&w);
    if (whole_object) {
        reef_json_key(&w, "apiVersion");
        reef_json_put_str(&w, "v1");
        reef_json_key(&w, "kind");
        reef_json_put_str(&w, "Node");
        reef_json_key(&w, "metadata");
        reef_json_begin_object(&w);
        reef_json_key(&w, "name");
        reef_json_put_str(&w, a->node);
        reef_json_key(&w, "labels");
        reef_json_begin_object(&w);
        reef_json_key(&w, "beta.kubernetes.io/arch");
        reef_json_put_str(&w, arch_name());
        reef_json_key(&w, "beta.kubernetes.io/os");
        reef_json_put_str(&w, "linux");
        reef_json_key(&w, "kubernetes.io/arch");
        reef_json_put_str(&w, arch_name());
        reef_json_key(&w, "kubernetes.io/hostname");
        reef_json_put_str(&w, a->node);
        reef_json_key(&w, "kubernetes.io/os");
        reef_json_put_str(&w, "linux");
        reef_json_key(&w, "node-role.kubernetes.io/control-plane");
        reef_json_put_str(&w, "true");
        reef_json_end_object(&w);
        reef_json_end_object(&w);
        reef_json_key(&w, "spec");
        reef_json_begin_object(&w);
        reef_json_key(&w, "podCIDR");
        reef_json_put_str(&w, a->pod_cidr);
        reef_json_key(&w, "podCIDRs");
        reef_json_begin_array(&w);
        reef_json_put_str(&w, a->pod_cidr);
        reef_json_end_array(&w);
        reef_json_end_object(&w);
    }
    reef_json_key(&w, "status");
    reef_json_begin_object(&w);
    for (int i = 0; i < 2; i++) {
        reef_json_key(&w, i ? "allocatable" : "capacity");
        reef_json_begin_object(&w);
        reef_json_key(&w, "cpu");
        reef_json_put_str(&w, cpu);
        reef_json_key(&w, "memory");
        reef_json_put_str(&w, mem);
        reef_json_key(&w, "pods");
        reef_json_put_str(&w, "110");
        reef_json_end_object(&w);
    }
    reef_json_key(&w, "conditions");
    reef_json_begin_array(&w);
    write_condition(&w, "MemoryPressure", "False", "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available", now, since);
    write_condition(&w, "DiskPressure", "False", "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure", now, since);
    write_condition(&w, "PIDPressure", "False", "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available", now, since);
    write_condition(&w, "Ready", "True", "KubeletReady", "kubelet is posting ready status", now,
                    since);
    reef_json_end_array(&w);
    reef_json_key(&w, "addresses");
    reef_json_begin_array(&w);
    reef_json_begin_object(&w);
    reef_json_key(&w, "type");
    reef_json_put_str(&w, "InternalIP");
    reef_json_key(&w, "address");
    reef_json_put_str(&w, a->host_ip);
    reef_json_end_object(&w);
    reef_json_begin_object(&w);
    reef_json_key(&w, "type");
    reef_json_put_str(&w, "Hostname");
    reef_json_key(&w, "address");
    reef_json_put_str(&w, a->node);
    reef_json_end_object(&w);
    reef_json_end_array(&w);
    reef_json_key(&w, "daemonEndpoints");
    reef_json_begin_object(&w);
    reef_json_key(&w, "kubeletEndpoint");
    reef_json_begin_object(&w);
    reef_json_key(&w, "Port");
    reef_json_put_int(&w, 10250);
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    reef_json_key(&w, "nodeInfo");
    reef_json_begin_object(&w);
    const char *k[] = {"machineID",        "systemUUID",    "bootID",
                       "kernelVersion",    "osImage",       "containerRuntimeVersion",
                       "kubeletVersion",   "kubeProxyVersion", "operatingSystem",
                       "architecture"};
    char rt[64];
    snprintf(rt, sizeof(rt), "reef://%s", REEF_VERSION);
    const char *v[] = {machine_id, machine_id, "",           u.release,     osimg,
                       rt,         "v1.32.0+reef", "v1.32.0+reef", "linux", arch_name()};
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        reef_json_key(&w, k[i]);
        reef_json_put_str(&w, v[i]);
    }
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    return reef_json_finish(&w, NULL);
}

static int register_node(struct reef_agent *a, struct reef_err *err)
{
    struct reef_buf b = REEF_BUF_INIT;
    int r = node_status(a, &b, true);
    if (r < 0) {
        reef_buf_free(&b);
        return reef_err_set(err, r, "node %s: out of memory", a->node);
    }
    int st = reef_ctl_call(&a->env, "POST", "/api/v1/nodes", NULL, b.data, b.len, NULL, err);
    if (st == 409) {
        /* known from an earlier start: labels and status brought up to date */
        char path[400];
        snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", a->node);
        st = reef_ctl_call(&a->env, "PATCH", path, "application/merge-patch+json", b.data, b.len,
                           NULL, err);
    }
    reef_buf_free(&b);
    if (st != 200 && st != 201)
        return reef_err_wrap(err, "register node %s", a->node);
    a->node_status_at = reef__agent_now_ms();
    return 0;
}

static void renew_lease(struct reef_agent *a)
{
    char now[40], path[400];
    int64_t ms = reef__agent_now_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(now + strlen(now), sizeof(now) - strlen(now), ".%06lldZ",
             (long long)(ms % 1000) * 1000);
    struct reef_err err = {0};
    char body[1024];
    snprintf(path, sizeof(path), "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s",
             a->node);
    int n = snprintf(body, sizeof(body), "{\"spec\":{\"renewTime\":\"%s\"}}", now);
    int st = reef_ctl_call(&a->env, "PATCH", path, "application/merge-patch+json", body, (size_t)n,
                           NULL, &err);
    if (st == 404) {
        n = snprintf(body, sizeof(body),
                     "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":"
                     "{\"name\":\"%s\",\"namespace\":\"kube-node-lease\"},\"spec\":{"
                     "\"holderIdentity\":\"%s\",\"leaseDurationSeconds\":40,\"renewTime\":\"%s\"}}",
                     a->node, a->node, now);
        st = reef_ctl_call(&a->env, "POST",
                           "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", NULL,
                           body, (size_t)n, NULL, &err);
    }
    if (st != 200 && st != 201)
        LOG_WARN("agent", "lease of node %s: %s", a->node, err.msg);
}

static void on_lease(uv_timer_t *t)
{
    struct reef_agent *a = t->data;
    renew_lease(a);
    /* the Node's own status is rewritten rarely: the Lease is the heartbeat */
    if (reef__agent_now_ms() - a->node_status_at > 5 * 60 * 1000) {
        struct reef_err err = {0};
        if (register_node(a, &err) < 0)
            LOG_WARN("agent", "%s", err.msg);
    }
}

/* ---- pods ---- */

static struct agent_pod *find_pod(struct reef_agent *a, const char *ns, const char *name)
{
    for (struct agent_pod *p = a->pods; p; p = p->next)
        if (strcmp(p->ns, ns) == 0 && strcmp(p->name, name) == 0 && !p->closing)
            return p;
    return NULL;
}

static void timer_closed(uv_handle_t *h)
{
    struct agent_pod *p = h->data;
    free(p->json);
    free(p->last_status);
    free(p->ctrs);
    free(p);
}

void reef__agent_pod_free(struct agent_pod *p)
{
    struct reef_agent *a = p->a;
    if (!p->closing) {
        for (struct agent_pod **pp = &a->pods; *pp; pp = &(*pp)->next)
            if (*pp == p) {
                *pp = p->next;
                break;
            }
        p->closing = true;
        for (size_t i = 0; i < p->nctrs; i++) {
            struct agent_ctr *c = &p->ctrs[i];
            reef_probe_stop(c->liveness);
            reef_probe_stop(c->readiness);
            reef_probe_stop(c->startup);
            c->liveness = c->readiness = c->startup = NULL;
            reef__agent_hook_end(c, false);
            reef__agent_ctr_unwatch(c);
        }
        uv_timer_stop(&p->timer);
    }
    /* an image pull holds the pod until it ends; its completion calls this again */
    if (p->pulling || p->timer_closing)
        return;
    p->timer_closing = true;
    uv_close((uv_handle_t *)&p->timer, timer_closed);
}

static struct agent_pod *new_pod(struct reef_agent *a, const char *ns, const char *name,
                                 const char *uid)
{
    struct agent_pod *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->a = a;
    snprintf(p->ns, sizeof(p->ns), "%s", ns);
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->uid, sizeof(p->uid), "%s", uid);
    uv_timer_init(a->env.loop, &p->timer);
    p->timer.data = p;
    p->next = a->pods;
    a->pods = p;
    return p;
}

static void pod_seen(struct reef_agent *a, const char *obj, size_t len, int64_t rev, bool deleted)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, obj, len, NULL, NULL) < 0)
        return;
    char ns[254] = "", name[254] = "", uid[64] = "";
    int v = reef_json_find(&d, REEF_JSON_ROOT, "metadata.namespace", NULL);
    if (v >= 0)
        reef_json_get_str(&d, v, ns, sizeof(ns), NULL);
    v = reef_json_find(&d, REEF_JSON_ROOT, "metadata.name", NULL);
    if (v >= 0)
        reef_json_get_str(&d, v, name, sizeof(name), NULL);
    v = reef_json_find(&d, REEF_JSON_ROOT, "metadata.uid", NULL);
    if (v >= 0)
        reef_json_get_str(&d, v, uid, sizeof(uid), NULL);
    bool terminating = reef_json_find(&d, REEF_JSON_ROOT, "metadata.deletionTimestamp", NULL) >= 0;
    struct agent_pod *p = find_pod(a, ns, name);
    if (p && strcmp(p->uid, uid) != 0) {
        /* a new pod of the same name: the old one is gone */
        p->gone = p->terminating = true;
        reef__agent_queue(p);
        p = NULL;
    }
    if (!p && deleted) {
        reef_json_doc_free(&d);
        return;
    }
    if (!p && !(p = new_pod(a, ns, name, uid))) {
        reef_json_doc_free(&d);
        return;
    }
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, obj, len);
        copy[len] = '\0';
        free(p->json);
        p->json = copy;
        p->len = len;
        p->rv = rev;
        /* downwardAPI files follow the pod's labels and annotations (rewritten only if changed) */
        p->refresh_volumes = reef_json_find(&d, REEF_JSON_ROOT, "spec.volumes", NULL) >= 0;
    }
    reef__agent_pod_layout(p, &d);
    reef_json_doc_free(&d);
    if (terminating)
        p->terminating = true;
    if (deleted)
        p->gone = p->terminating = true;
    reef__agent_queue(p);
}

static bool on_my_node(void *arg, const struct reef_json_doc *d)
{
    struct reef_agent *a = arg;
    int v = reef_json_find(d, REEF_JSON_ROOT, "spec.nodeName", NULL);
    return v >= 0 && reef_json_str_eq(d, v, a->node);
}

static void on_pod_event(void *arg, const struct reef_store_event *ev)
{
    struct reef_agent *a = arg;
    if (a->stopping)
        return;
    pod_seen(a, ev->object, ev->len, ev->rev, ev->type == REEF_STORE_DELETED);
}

static int list_pod(void *arg, const struct reef_store_item *it)
{
    pod_seen(arg, it->object, it->len, it->rev, false);
    return 0;
}

/* ---- adoption ---- */

static const char *label_of(const struct reef_ctr_config *cfg, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < cfg->nlabels; i++)
        if (strncmp(cfg->labels[i], key, kl) == 0 && cfg->labels[i][kl] == '=')
            return cfg->labels[i] + kl + 1;
    return NULL;
}

/* Removes a container that belongs to no pod of this node (its shim is stopped first). */
static void remove_container(struct reef_agent *a, const char *id)
{
    if (reef_ctr_shim_alive(a->cs, id)) {
        char reply[256];
        reef_shim_call(a->containers_dir, id, "kill 9", NULL, 0, reply, sizeof(reply), 2000,
                       NULL);
        for (int i = 0; i < 100 && reef_ctr_shim_alive(a->cs, id); i++)
            usleep(10000);
    }
    reef_shim_cleanup_orphan(a->containers_dir, id, NULL);
    reef_ctr_remove(a->cs, id, NULL);
}

struct adopt {
    struct reef_agent *a;
};

static int adopt_one(void *ud, const char *id)
{
    struct adopt *ad = ud;
    struct reef_agent *a = ad->a;
    struct reef_ctr_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    if (reef_ctr_load_config(a->cs, id, &cfg, NULL) < 0)
        return 0;
    const char *uid = label_of(&cfg, "reef.pod.uid");
    const char *cname = label_of(&cfg, "reef.container.name");
    const char *att = label_of(&cfg, "reef.container.attempt");
    if (!uid || !cname) {
        reef_ctr_config_free(&cfg);
        return 0; /* `reef run` containers are not the agent's */
    }
    struct agent_ctr *found = NULL;
    for (struct agent_pod *p = a->pods; p && !found; p = p->next)
        if (strcmp(p->uid, uid) == 0)
            for (size_t i = 0; i < p->nctrs; i++)
                if (strcmp(p->ctrs[i].name, cname) == 0)
                    found = &p->ctrs[i];
    int attempt = att ? atoi(att) : 1;
    if (!found) {
        LOG_INFO("agent", "removing container %.12s of a pod no longer on this node", id);
        remove_container(a, id);
    } else if (attempt > found->attempt) {
        if (found->id[0])
            memcpy(found->prev_id, found->id, sizeof(found->id));
        snprintf(found->id, sizeof(found->id), "%s", id);
        found->attempt = attempt;
        snprintf(found->image_ref, sizeof(found->image_ref), "%s", cfg.image ? cfg.image : "");
        snprintf(found->image_id, sizeof(found->image_id), "%s", cfg.image_id ? cfg.image_id : "");
        found->state = ACTR_RUNNING; /* corrected from its state file below */
    } else if (attempt == found->attempt - 1 || !found->prev_id[0]) {
        snprintf(found->prev_id, sizeof(found->prev_id), "%s", id);
    }
    reef_ctr_config_free(&cfg);
    return 0;
}

static void adopt(struct reef_agent *a)
{
    struct adopt ad = {a};
    reef_ctr_list(a->cs, adopt_one, &ad, NULL);
    for (struct agent_pod *p = a->pods; p; p = p->next)
        for (size_t i = 0; i < p->nctrs; i++)
            if (p->ctrs[i].id[0]) {
                reef__agent_ctr_watch(&p->ctrs[i]);
                reef__agent_ctr_changed(&p->ctrs[i]);
                /* a container found running keeps running: its start is not repeated */
                p->ctrs[i].started = true;
            }
    /* sandboxes of pods that are gone */
    DIR *dir = opendir(a->pods_dir);
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        bool known = false;
        for (struct agent_pod *p = a->pods; p && !known; p = p->next)
            known = strcmp(p->uid, de->d_name) == 0;
        if (!known) {
            reef_pod_sandbox_remove(a->pods_dir, de->d_name, NULL);
            if (a->net)
                reef_podnet_detach(a->net, de->d_name, NULL);
        }
    }
    if (dir)
        closedir(dir);
}

/* ---- log / exec / attach ---- */

static void pod_stream(void *ud, const char *sub, const char *pod, size_t len,
                       struct reef_http_req *req, struct reef_http_res *res)
{
    struct reef_agent *a = ud;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    char ns[254] = "", name[254] = "";
    if (reef_json_parse(&d, pod, len, NULL, NULL) == 0) {
        int v = reef_json_find(&d, REEF_JSON_ROOT, "metadata.namespace", NULL);
        if (v >= 0)
            reef_json_get_str(&d, v, ns, sizeof(ns), NULL);
        v = reef_json_find(&d, REEF_JSON_ROOT, "metadata.name", NULL);
        if (v >= 0)
            reef_json_get_str(&d, v, name, sizeof(name), NULL);
    }
    reef_json_doc_free(&d);
    struct agent_pod *p = find_pod(a, ns, name);
    char cname[128] = "", prev[16] = "", msg[1200];
    reef_http_req_query(req, "container", cname, sizeof(cname));
    reef_http_req_query(req, "previous", prev, sizeof(prev));
    if (!p || p->nctrs == 0) {
        snprintf(msg, sizeof(msg), "pod %s/%s is not running on node %s", ns, name, a->node);
        return reef__api_status(res, 404, "NotFound", NULL, NULL, NULL, "%s", msg);
    }
    struct agent_ctr *c = NULL;
    for (size_t i = 0; i < p->nctrs && !c; i++)
        if (cname[0] ? strcmp(p->ctrs[i].name, cname) == 0 : !p->ctrs[i].init)
            c = &p->ctrs[i];
    if (!c) {
        snprintf(msg, sizeof(msg), "container %s is not valid for pod %s", cname, name);
        return reef__api_status(res, 400, "BadRequest", NULL, NULL, NULL, "%s", msg);
    }
    bool previous = strcmp(prev, "true") == 0 || strcmp(prev, "1") == 0;
    const char *id = previous ? c->prev_id : c->id;
    if (!id[0]) {
        if (previous)
            snprintf(msg, sizeof(msg),
                     "previous terminated container \"%s\" in pod \"%s\" not found", c->name,
                     name);
        else
            snprintf(msg, sizeof(msg), "container \"%s\" in pod \"%s\" is waiting to start: %s",
                     c->name, name, c->wait_reason[0] ? c->wait_reason : "ContainerCreating");
        return reef__api_status(res, 400, "BadRequest", NULL, NULL, NULL, "%s", msg);
    }
    if (strcmp(sub, "log") == 0) {
        reef_podio_logs(a->env.loop, a->containers_dir, id, req, res);
    } else if (c->state != ACTR_RUNNING || previous) {
        snprintf(msg, sizeof(msg), "container %s is not running", c->name);
        reef__api_status(res, 400, "BadRequest", NULL, NULL, NULL, "%s", msg);
    } else if (strcmp(sub, "exec") == 0) {
        reef_podio_exec(a->env.loop, a->containers_dir, id, req, res);
    } else {
        reef_podio_attach(a->env.loop, a->containers_dir, id, req, res);
    }
}

/* ---- lifecycle ---- */

static void on_resync(uv_timer_t *t)
{
    struct reef_agent *a = t->data;
    for (struct agent_pod *p = a->pods; p; p = p->next) {
        p->refresh_volumes = true;
        reef__agent_queue(p);
    }
}

/* A ConfigMap or Secret changed: the pods of its namespace that mount it update their volumes. */
static void volume_source_changed(struct reef_agent *a, const struct reef_store_event *ev,
                                  bool secret)
{
    if (a->stopping)
        return;
    for (struct agent_pod *p = a->pods; p; p = p->next) {
        if (!p->json || strcmp(p->ns, ev->namespace) != 0)
            continue;
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        if (reef_json_parse(&d, p->json, p->len, NULL, NULL) == 0 &&
            reef__agent_pod_uses(&d, secret, ev->name)) {
            p->refresh_volumes = true;
            reef__agent_queue(p);
        }
        reef_json_doc_free(&d);
    }
}

static void on_configmap_event(void *arg, const struct reef_store_event *ev)
{
    volume_source_changed(arg, ev, false);
}

static void on_secret_event(void *arg, const struct reef_store_event *ev)
{
    volume_source_changed(arg, ev, true);
}

int reef_agent_start(const struct reef_agent_opts *o, struct reef_agent **out,
                     struct reef_err *err)
{
    struct reef_agent *a = calloc(1, sizeof(*a));
    if (!a)
        return reef_err_set(err, -ENOMEM, "agent: out of memory");
    a->env = *o->env;
    snprintf(a->node, sizeof(a->node), "%s", o->node_name);
    snprintf(a->data_dir, sizeof(a->data_dir), "%s", o->data_dir);
    snprintf(a->containers_dir, sizeof(a->containers_dir), "%s/containers", o->data_dir);
    snprintf(a->pods_dir, sizeof(a->pods_dir), "%s/pods", o->data_dir);
    snprintf(a->ipam_dir, sizeof(a->ipam_dir), "%s/agent/ipam", o->data_dir);
    snprintf(a->images_dir, sizeof(a->images_dir), "%s/images", o->data_dir);
    snprintf(a->pod_cidr, sizeof(a->pod_cidr), "%s", o->pod_cidr ? o->pod_cidr : "10.42.0.0/24");
    a->registries_yaml = o->registries_yaml ? strdup(o->registries_yaml) : NULL;
    a->allow_privileged = o->allow_privileged;
    host_address(a->host_ip);
    int r;
    const char *dirs[] = {a->pods_dir, a->ipam_dir, a->containers_dir};
    for (size_t i = 0; i < 3; i++)
        if ((r = reef_fs_mkdir_p(dirs[i], 0700)) < 0) {
            reef_err_set(err, r, "create %s: %s", dirs[i], strerror(-r));
            goto fail;
        }
    if ((r = reef_ctrstore_open(a->containers_dir, &a->cs, err)) < 0 ||
        (r = reef_images_open(a->images_dir, &a->images, err)) < 0)
        goto fail;
    struct reef_podnet_opts no = {.bridge = o->bridge ? o->bridge : "reef0",
                                  .cidr = a->pod_cidr,
                                  .state_dir = a->ipam_dir};
    if ((r = reef_podnet_open(&no, &a->net, err)) < 0)
        goto fail;
    if ((r = register_node(a, err)) < 0)
        goto fail;
    renew_lease(a);
    uv_idle_init(a->env.loop, &a->idle);
    a->idle.data = a;
    uv_timer_init(a->env.loop, &a->lease_timer);
    a->lease_timer.data = a;
    uv_timer_start(&a->lease_timer, on_lease, 10000, 10000);
    uv_timer_init(a->env.loop, &a->resync_timer);
    a->resync_timer.data = a;
    uv_timer_start(&a->resync_timer, on_resync, 60000, 60000);

    struct reef_store_list_opts lo = {.node_name = a->node};
    struct reef_store_list_result lr;
    if ((r = reef_store_list(a->env.store, "pods", &lo, list_pod, a, &lr, err)) < 0)
        goto fail_handles;
    adopt(a);
    if ((r = reef_store_watch(a->env.store, "pods", NULL, lr.rev, on_my_node, a, on_pod_event, a,
                              &a->pod_watch, err)) < 0 ||
        (r = reef_store_watch(a->env.store, "configmaps", NULL, 0, NULL, NULL, on_configmap_event,
                              a, &a->cm_watch, err)) < 0 ||
        (r = reef_store_watch(a->env.store, "secrets", NULL, 0, NULL, NULL, on_secret_event, a,
                              &a->secret_watch, err)) < 0)
        goto fail_handles;
    reef_apiserver_set_node_handler(a->env.api, a->node, pod_stream, a);
    if (reef__agent_metrics_start(a, err) < 0)
        LOG_WARN("agent", "no metrics: %s", err->msg);
    LOG_INFO("agent", "node %s ready (pods %s on %s)", a->node, a->pod_cidr,
             o->bridge ? o->bridge : "reef0");
    *out = a;
    return 0;
fail_handles:
    reef_agent_stop(a);
    return r;
fail:
    reef_podnet_close(a->net);
    reef_ctrstore_close(a->cs);
    reef_images_close(a->images);
    free(a->registries_yaml);
    free(a);
    return r;
}

static void agent_closed(uv_handle_t *h)
{
    struct reef_agent *a = h->data;
    reef_cgroup_layout_free(a->cg_layout);
    reef_podnet_close(a->net);
    reef_ctrstore_close(a->cs);
    reef_images_close(a->images);
    free(a->registries_yaml);
    free(a);
}

void reef_agent_stop(struct reef_agent *a)
{
    if (!a)
        return;
    a->stopping = true;
    reef_apiserver_set_node_handler(a->env.api, a->node, NULL, NULL);
    if (a->cg_layout)
        reef__agent_metrics_stop(a);
    reef_store_unwatch(a->pod_watch);
    reef_store_unwatch(a->cm_watch);
    reef_store_unwatch(a->secret_watch);
    a->pod_watch = a->cm_watch = a->secret_watch = NULL;
    while (a->pods)
        reef__agent_pod_free(a->pods);
    uv_close((uv_handle_t *)&a->idle, NULL);
    uv_close((uv_handle_t *)&a->lease_timer, NULL);
    uv_close((uv_handle_t *)&a->resync_timer, agent_closed);
}
