/* tables: printers of the core group (pods, nodes, namespaces, services, endpoints, configmaps,
 * secrets, events). Columns, cells and their quirks follow upstream
 * pkg/printers/internalversion/printers.go; descriptions are the v1 API field docs upstream
 * takes them from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/tables.h"

#define NAME_COL                                                                                   \
    {                                                                                              \
        "Name", "string", "name", reef__table_desc_name, 0                                         \
    }
#define AGE_COL                                                                                    \
    {                                                                                              \
        "Age", "string", "", reef__table_desc_age, 0                                               \
    }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct reef__table_row row_t;

static int get(const row_t *r, int v, const char *path)
{
    return reef__table_get(r, v, path);
}

static int get_obj(const row_t *r, int v, const char *path)
{
    return reef__table_get_kind(r, v, path, REEF_JSON_OBJECT);
}

static int get_arr(const row_t *r, int v, const char *path)
{
    return reef__table_get_kind(r, v, path, REEF_JSON_ARRAY);
}

static bool str_is(const row_t *r, int v, const char *s)
{
    return v >= 0 && reef_json_str_eq(r->d, v, s);
}

static int count(const row_t *r, int v)
{
    if (v < 0)
        return 0;
    enum reef_json_kind k = reef_json_kind(r->d, v);
    return k == REEF_JSON_OBJECT || k == REEF_JSON_ARRAY ? reef_json_count(r->d, v) : 0;
}

static bool is_true(const row_t *r, int v)
{
    bool b = false;
    return v >= 0 && reef_json_get_bool(r->d, v, &b, NULL) == 0 && b;
}

/* A pointer field that is set: present and not null. */
static bool present(const row_t *r, int v)
{
    return v >= 0 && !reef_json_is_null(r->d, v);
}

/* Pods */

static const struct reef__table_col pod_cols[] = {
    NAME_COL,
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    AGE_COL,
    {"IP", "string", "",
     "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet "
     "allocated.",
     1},
    {"Node", "string", "",
     "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate "
     "for scheduling by the scheduler defined in schedulerName. Once this field is set, the "
     "kubelet for this node becomes responsible for the lifecycle of this pod. This field should "
     "not be used to express a desire for the pod to be scheduled on a specific node. "
     "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
     1},
    {"Nominated Node", "string", "",
     "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot "
     "be scheduled right away as preemption victims receive their graceful termination periods. "
     "This field does not guarantee that the pod will be scheduled on this node. Scheduler may "
     "decide to place the pod elsewhere if other nodes become available sooner. Scheduler may "
     "also decide to give the resources on this node to a higher priority pod that is created "
     "after preemption. As a result, this field may be different than PodSpec.nodeName when the "
     "pod is scheduled.",
     1},
    {"Readiness Gates", "string", "",
     "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when "
     "all its containers are ready AND all conditions specified in the readiness gates have "
     "status equal to \"True\" More info: "
     "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
     1},
};

/* The STATUS cell: a string token of the object, optionally behind "Init:", or a literal. */
struct reason {
    int tok;
    bool init;
    char lit[48];
};

static void reason_tok(struct reason *s, int tok, bool init)
{
    s->tok = tok;
    s->init = init;
    s->lit[0] = 0;
}

static void reason_lit(struct reason *s, const char *lit)
{
    s->tok = -1;
    s->init = false;
    snprintf(s->lit, sizeof(s->lit), "%s", lit);
}

static bool reason_is(const row_t *r, const struct reason *s, const char *what)
{
    if (s->tok >= 0)
        return !s->init && reef_json_str_eq(r->d, s->tok, what);
    return strcmp(s->lit, what) == 0;
}

/* The latest finishedAt among lastState.terminated of container statuses; 0 = none (Go's zero
 * time, which no real timestamp equals). */
static void last_terminated(const row_t *r, int cs, bool *has, int64_t *when)
{
    int fin = get(r, cs, "lastState.terminated.finishedAt");
    int64_t ms;
    if (!present(r, get(r, cs, "lastState.terminated")) || !reef__table_time(r, fin, &ms))
        return;
    if (!*has || *when < ms) {
        *has = true;
        *when = ms;
    }
}

/* Whether init container `name` of the pod spec has restartPolicy Always (a sidecar). */
static bool restartable(const row_t *r, int inits, int name)
{
    struct reef_json_iter it = reef_json_iter(r->d, inits);
    const char *p;
    size_t n;
    if (inits < 0 || name < 0 || reef_json_str_view(r->d, name, &p, &n) < 0)
        return false;
    while (reef_json_next(r->d, &it)) {
        if (reef_json_str_eqn(r->d, get(r, it.val, "name"), p, n))
            return str_is(r, get(r, it.val, "restartPolicy"), "Always");
    }
    return false;
}

static bool condition_true(const row_t *r, int conds, const char *type)
{
    struct reef_json_iter it = reef_json_iter(r->d, conds);
    while (conds >= 0 && reef_json_next(r->d, &it))
        if (str_is(r, get(r, it.val, "type"), type) && str_is(r, get(r, it.val, "status"), "True"))
            return true;
    return false;
}

/* Init:Signal:N / Init:ExitCode:N / Signal:N / ExitCode:N for a terminated state without a
 * reason. */
static void reason_exit(const row_t *r, struct reason *s, int term, const char *prefix)
{
    int64_t sig = reef__table_get_int(r, term, "signal");
    int64_t code = reef__table_get_int(r, term, "exitCode");
    s->tok = -1;
    s->init = false;
    if (sig != 0)
        snprintf(s->lit, sizeof(s->lit), "%sSignal:%lld", prefix, (long long)sig);
    else
        snprintf(s->lit, sizeof(s->lit), "%sExitCode:%lld", prefix, (long long)code);
}

static void pod_row(row_t *r)
{
    int spec = get_obj(r, r->obj, "spec");
    int status = get_obj(r, r->obj, "status");
    int conds = get_arr(r, status, "conditions");
    int inits = get_arr(r, spec, "initContainers");
    int phase = get(r, status, "phase");
    int64_t restarts = 0, side_restarts = 0;
    long long total = count(r, get_arr(r, spec, "containers")), ready = 0;
    bool has_last = false, has_side_last = false;
    int64_t last = 0, side_last = 0;
    struct reason reason;

    reason_tok(&reason, phase, false);
    if (reef__table_nonempty(r, get(r, status, "reason")))
        reason_tok(&reason, get(r, status, "reason"), false);
    struct reef_json_iter it = reef_json_iter(r->d, conds);
    while (conds >= 0 && reef_json_next(r->d, &it))
        if (str_is(r, get(r, it.val, "type"), "PodScheduled") &&
            str_is(r, get(r, it.val, "reason"), "SchedulingGated"))
            reason_lit(&reason, "SchedulingGated");

    if (str_is(r, phase, "Succeeded"))
        r->condition = 1;
    else if (str_is(r, phase, "Failed"))
        r->condition = 2;

    it = reef_json_iter(r->d, inits);
    while (inits >= 0 && reef_json_next(r->d, &it))
        if (str_is(r, get(r, it.val, "restartPolicy"), "Always"))
            total++;

    bool initializing = false;
    int ics = get_arr(r, status, "initContainerStatuses");
    int ninit = count(r, inits);
    it = reef_json_iter(r->d, ics);
    while (ics >= 0 && reef_json_next(r->d, &it)) {
        int c = it.val;
        int64_t rc = reef__table_get_int(r, c, "restartCount");
        bool side = restartable(r, inits, get(r, c, "name"));
        int term = get_obj(r, c, "state.terminated");
        int wait = get_obj(r, c, "state.waiting");
        restarts += rc;
        last_terminated(r, c, &has_last, &last);
        if (side) {
            side_restarts += rc;
            last_terminated(r, c, &has_side_last, &side_last);
        }
        if (term >= 0 && reef__table_get_int(r, term, "exitCode") == 0)
            continue;
        if (side && is_true(r, get(r, c, "started"))) {
            if (is_true(r, get(r, c, "ready")))
                ready++;
            continue;
        }
        if (term >= 0) {
            if (reef__table_nonempty(r, get(r, term, "reason")))
                reason_tok(&reason, get(r, term, "reason"), true);
            else
                reason_exit(r, &reason, term, "Init:");
        } else if (wait >= 0 && reef__table_nonempty(r, get(r, wait, "reason")) &&
                   !str_is(r, get(r, wait, "reason"), "PodInitializing")) {
            reason_tok(&reason, get(r, wait, "reason"), true);
        } else {
            reason.tok = -1;
            snprintf(reason.lit, sizeof(reason.lit), "Init:%d/%d", it.index, ninit);
        }
        initializing = true;
        break;
    }

    if (!initializing || condition_true(r, conds, "Initialized")) {
        restarts = side_restarts;
        has_last = has_side_last;
        last = side_last;
        bool running = false;
        int cs = get_arr(r, status, "containerStatuses");
        for (int i = count(r, cs) - 1; i >= 0; i--) {
            int c = reef_json_index(r->d, cs, (size_t)i);
            int term = get_obj(r, c, "state.terminated");
            int wait = get_obj(r, c, "state.waiting");
            restarts += reef__table_get_int(r, c, "restartCount");
            last_terminated(r, c, &has_last, &last);
            if (wait >= 0 && reef__table_nonempty(r, get(r, wait, "reason"))) {
                reason_tok(&reason, get(r, wait, "reason"), false);
            } else if (term >= 0 && reef__table_nonempty(r, get(r, term, "reason"))) {
                reason_tok(&reason, get(r, term, "reason"), false);
            } else if (term >= 0) {
                reason_exit(r, &reason, term, "");
            } else if (is_true(r, get(r, c, "ready")) &&
                       present(r, get_obj(r, c, "state.running"))) {
                running = true;
                ready++;
            }
        }
        if (running && reason_is(r, &reason, "Completed"))
            reason_lit(&reason, condition_true(r, conds, "Ready") ? "Running" : "NotReady");
    }

    if (present(r, get(r, r->obj, "metadata.deletionTimestamp"))) {
        if (str_is(r, get(r, status, "reason"), "NodeLost"))
            reason_lit(&reason, "Unknown");
        else if (!str_is(r, phase, "Succeeded") && !str_is(r, phase, "Failed"))
            reason_lit(&reason, "Terminating");
    }

    char buf[64];
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    snprintf(buf, sizeof(buf), "%lld/%lld", ready, total);
    reef__table_cell_str(r, buf);
    struct reef_buf *b = reef__table_scratch(r);
    if (reason.tok >= 0) {
        if (reason.init)
            reef_buf_puts(b, "Init:");
        reef__table_append(r, b, reason.tok);
    } else {
        reef_buf_puts(b, reason.lit);
    }
    reef__table_cell_scratch(r);
    if (restarts != 0 && has_last) {
        char ago[32];
        reef__table_since(r, last, ago, sizeof(ago));
        snprintf(buf, sizeof(buf), "%lld (%s ago)", (long long)restarts, ago);
    } else {
        snprintf(buf, sizeof(buf), "%lld", (long long)restarts);
    }
    reef__table_cell_str(r, buf);
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));

    /* v1 podIP stands in when podIPs is empty, as the v1 to internal conversion does. */
    int ip = get(r, status, "podIPs[0].ip");
    if (!reef__table_nonempty(r, ip))
        ip = get(r, status, "podIP");
    reef__table_cell_copy(r, ip, "<none>");
    reef__table_cell_copy(r, get(r, spec, "nodeName"), "<none>");
    reef__table_cell_copy(r, get(r, status, "nominatedNodeName"), "<none>");
    int gates = get_arr(r, spec, "readinessGates");
    int ngates = count(r, gates);
    if (ngates == 0) {
        reef__table_cell_str(r, "<none>");
        return;
    }
    int true_conds = 0;
    it = reef_json_iter(r->d, gates);
    while (reef_json_next(r->d, &it)) {
        int type = get(r, it.val, "conditionType");
        struct reef_json_iter ci = reef_json_iter(r->d, conds);
        const char *p;
        size_t n;
        if (type < 0 || reef_json_str_view(r->d, type, &p, &n) < 0)
            continue;
        while (conds >= 0 && reef_json_next(r->d, &ci)) {
            if (reef_json_str_eqn(r->d, get(r, ci.val, "type"), p, n)) {
                if (str_is(r, get(r, ci.val, "status"), "True"))
                    true_conds++;
                break;
            }
        }
    }
    snprintf(buf, sizeof(buf), "%d/%d", true_conds, ngates);
    reef__table_cell_str(r, buf);
}

/* Nodes */

static const char node_addresses_desc[] =
    "List of addresses reachable to the node. Queried from cloud provider, if available. More "
    "info: https://kubernetes.io/docs/concepts/nodes/node/#addresses Note: This field is "
    "declared as mergeable, but the merge key is not sufficiently unique, which can cause data "
    "corruption when it is merged. Callers should instead use a full-replacement patch. See "
    "https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change "
    "during the lifetime of a Node. However, there are some exceptions where this may not be "
    "possible, such as Pods that inherit a Node's address in its own status or consumers of the "
    "downward API (status.hostIP).";

static const struct reef__table_col node_cols[] = {
    NAME_COL,
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    AGE_COL,
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "", node_addresses_desc, 1},
    {"External-IP", "string", "", node_addresses_desc, 1},
    {"OS-Image", "string", "",
     "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1},
    {"Kernel-Version", "string", "",
     "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
    {"Container-Runtime", "string", "",
     "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
     "containerd://1.4.2).",
     1},
};

#define ROLE_PREFIX "node-role.kubernetes.io/"
#define MAX_ROLES 64

struct role {
    const char *p;
    size_t n;
};

static int role_cmp(const void *a, const void *b)
{
    const struct role *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);
    return c ? c : (x->n < y->n ? -1 : x->n > y->n);
}

static void node_roles(row_t *r)
{
    struct role roles[MAX_ROLES];
    size_t nr = 0;
    int labels = get_obj(r, r->obj, "metadata.labels");
    struct reef_json_iter it = reef_json_iter(r->d, labels);
    while (labels >= 0 && reef_json_next(r->d, &it) && nr < MAX_ROLES) {
        const char *k, *v;
        size_t kn, vn;
        if (reef_json_str_view(r->d, it.key, &k, &kn) < 0)
            continue;
        if (kn > strlen(ROLE_PREFIX) && memcmp(k, ROLE_PREFIX, strlen(ROLE_PREFIX)) == 0) {
            roles[nr].p = k + strlen(ROLE_PREFIX);
            roles[nr++].n = kn - strlen(ROLE_PREFIX);
        } else if (kn == strlen("kubernetes.io/role") && memcmp(k, "kubernetes.io/role", kn) == 0 &&
                   reef_json_str_view(r->d, it.val, &v, &vn) == 0 && vn > 0) {
            roles[nr].p = v;
            roles[nr++].n = vn;
        }
    }
    qsort(roles, nr, sizeof(roles[0]), role_cmp);
    struct reef_buf *b = reef__table_scratch(r);
    for (size_t i = 0; i < nr; i++) {
        if (i > 0 && role_cmp(&roles[i], &roles[i - 1]) == 0)
            continue;
        if (b->len)
            reef_buf_putc(b, ',');
        reef_buf_append(b, roles[i].p, roles[i].n);
    }
    if (b->len == 0)
        reef_buf_puts(b, "<none>");
    reef__table_cell_scratch(r);
}

static void node_address(row_t *r, int addrs, const char *type)
{
    struct reef_json_iter it = reef_json_iter(r->d, addrs);
    while (addrs >= 0 && reef_json_next(r->d, &it)) {
        if (str_is(r, get(r, it.val, "type"), type)) {
            int a = get(r, it.val, "address");
            if (a >= 0 && reef_json_kind(r->d, a) == REEF_JSON_STRING) {
                /* Upstream prints the first such address even when it is empty. */
                struct reef_buf *b = reef__table_scratch(r);
                reef__table_append(r, b, a);
                reef__table_cell_scratch(r);
            } else {
                reef__table_cell_str(r, "");
            }
            return;
        }
    }
    reef__table_cell_str(r, "<none>");
}

static void node_row(row_t *r)
{
    int status = get_obj(r, r->obj, "status");
    int conds = get_arr(r, status, "conditions");
    int ready = -1;
    struct reef_json_iter it = reef_json_iter(r->d, conds);
    while (conds >= 0 && reef_json_next(r->d, &it))
        if (str_is(r, get(r, it.val, "type"), "Ready"))
            ready = it.val; /* the last one wins, as in upstream's map */
    struct reef_buf *b = reef__table_scratch(r);
    if (ready < 0)
        reef_buf_puts(b, "Unknown");
    else if (str_is(r, get(r, ready, "status"), "True"))
        reef_buf_puts(b, "Ready");
    else
        reef_buf_puts(b, "NotReady");
    if (is_true(r, get(r, r->obj, "spec.unschedulable")))
        reef_buf_puts(b, ",SchedulingDisabled");
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    reef__table_cell_scratch(r);
    node_roles(r);
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
    int info = get_obj(r, status, "nodeInfo");
    reef__table_cell_copy(r, get(r, info, "kubeletVersion"), "");
    int addrs = get_arr(r, status, "addresses");
    node_address(r, addrs, "InternalIP");
    node_address(r, addrs, "ExternalIP");
    reef__table_cell_copy(r, get(r, info, "osImage"), "<unknown>");
    reef__table_cell_copy(r, get(r, info, "kernelVersion"), "<unknown>");
    reef__table_cell_copy(r, get(r, info, "containerRuntimeVersion"), "<unknown>");
}

/* Namespaces */

static const struct reef__table_col namespace_cols[] = {
    NAME_COL,
    {"Status", "string", "", "The status of the namespace", 0},
    AGE_COL,
};

static void namespace_row(row_t *r)
{
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    reef__table_cell_copy(r, get(r, r->obj, "status.phase"), "");
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
}

/* Services */

static const struct reef__table_col service_cols[] = {
    NAME_COL,
    {"Type", "string", "",
     "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
     "ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a "
     "cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by "
     "the selector or if that is not specified, by manual construction of an Endpoints object or "
     "EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the "
     "endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds "
     "on ClusterIP and allocates a port on every node which routes to the same endpoints as the "
     "clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if "
     "supported in the current cloud) which routes to the same endpoints as the clusterIP. "
     "\"ExternalName\" aliases this service to the specified externalName. Several other fields "
     "do not apply to ExternalName services. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/"
     "#publishing-services-service-types",
     0},
    {"Cluster-IP", "string", "",
     "clusterIP is the IP address of the service and is usually assigned randomly. If an address "
     "is specified manually, is in-range (as per system configuration), and is not in use, it "
     "will be allocated to the service; otherwise creation of the service will fail. This field "
     "may not be changed through updates unless the type field is also being changed to "
     "ExternalName (which requires this field to be blank) or the type field is being changed "
     "from ExternalName (in which case this field may optionally be specified, as describe "
     "above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting "
     "this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct "
     "endpoint connections are preferred and proxying is not required.  Only applies to types "
     "ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service "
     "of type ExternalName, creation will fail. This field will be wiped when updating a Service "
     "to type ExternalName. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/"
     "#virtual-ips-and-service-proxies",
     0},
    {"External-IP", "string", "",
     "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
     "traffic for this service.  These IPs are not managed by Kubernetes.  The user is "
     "responsible for ensuring that traffic arrives at a node with this IP.  A common example is "
     "external load-balancers that are not part of the Kubernetes system.",
     0},
    {"Port(s)", "string", "",
     "The list of ports that are exposed by this service. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/"
     "#virtual-ips-and-service-proxies",
     0},
    AGE_COL,
    {"Selector", "string", "",
     "Route service traffic to pods with label keys and values matching this selector. If empty "
     "or not present, the service is assumed to have an external process managing its "
     "endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and "
     "LoadBalancer. Ignored if type is ExternalName. More info: "
     "https://kubernetes.io/docs/concepts/services-networking/service/",
     1},
};

/* Appends the strings of array arr joined by ","; returns how many. */
static int join_strings(const row_t *r, struct reef_buf *b, int arr)
{
    int n = 0;
    struct reef_json_iter it = reef_json_iter(r->d, arr);
    while (arr >= 0 && reef_json_next(r->d, &it)) {
        if (reef_json_kind(r->d, it.val) != REEF_JSON_STRING)
            continue;
        if (n++ > 0 || b->len > 0)
            reef_buf_putc(b, ',');
        reef__table_append(r, b, it.val);
    }
    return n;
}

#define LB_WIDTH 16
#define MAX_LB 64

/* The load balancer's ingress IPs (or host names), sorted and without repeats. */
static void lb_ingress(row_t *r, struct reef_buf *b)
{
    struct role v[MAX_LB];
    size_t n = 0;
    int arr = get_arr(r, r->obj, "status.loadBalancer.ingress");
    struct reef_json_iter it = reef_json_iter(r->d, arr);
    while (arr >= 0 && reef_json_next(r->d, &it) && n < MAX_LB) {
        int x = get(r, it.val, "ip");
        if (!reef__table_nonempty(r, x))
            x = get(r, it.val, "hostname");
        if (!reef__table_nonempty(r, x) || reef_json_str_view(r->d, x, &v[n].p, &v[n].n) < 0)
            continue;
        n++;
    }
    qsort(v, n, sizeof(v[0]), role_cmp);
    size_t start = b->len;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && role_cmp(&v[i], &v[i - 1]) == 0)
            continue;
        if (b->len > start)
            reef_buf_putc(b, ',');
        reef_buf_append(b, v[i].p, v[i].n);
    }
    if (!r->t->o.wide && b->len - start > LB_WIDTH) {
        b->len = start + LB_WIDTH - 3;
        reef_buf_puts(b, "...");
    }
}

static void service_external_ip(row_t *r, int spec)
{
    int type = get(r, spec, "type");
    int ext = get_arr(r, spec, "externalIPs");
    struct reef_buf *b = reef__table_scratch(r);
    if (str_is(r, type, "ClusterIP") || str_is(r, type, "NodePort")) {
        if (join_strings(r, b, ext) == 0)
            reef_buf_puts(b, "<none>");
    } else if (str_is(r, type, "LoadBalancer")) {
        lb_ingress(r, b);
        join_strings(r, b, ext);
        if (b->len == 0)
            reef_buf_puts(b, "<pending>");
    } else if (str_is(r, type, "ExternalName")) {
        reef__table_append(r, b, get(r, spec, "externalName"));
    } else {
        reef_buf_puts(b, "<unknown>");
    }
    reef__table_cell_scratch(r);
}

static void service_row(row_t *r)
{
    int spec = get_obj(r, r->obj, "spec");
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    reef__table_cell_copy(r, get(r, spec, "type"), "");
    /* clusterIP stands in for an object stored without clusterIPs. */
    int ip = get(r, spec, "clusterIPs[0]");
    if (ip < 0)
        ip = get(r, spec, "clusterIP");
    reef__table_cell_copy(r, ip, "<none>");
    service_external_ip(r, spec);
    struct reef_buf *b = reef__table_scratch(r);
    int ports = get_arr(r, spec, "ports");
    struct reef_json_iter it = reef_json_iter(r->d, ports);
    while (ports >= 0 && reef_json_next(r->d, &it)) {
        int64_t node_port = reef__table_get_int(r, it.val, "nodePort");
        int proto = get(r, it.val, "protocol");
        if (it.index > 0)
            reef_buf_putc(b, ',');
        reef_buf_printf(b, "%lld", (long long)reef__table_get_int(r, it.val, "port"));
        if (node_port > 0)
            reef_buf_printf(b, ":%lld", (long long)node_port);
        reef_buf_putc(b, '/');
        if (proto >= 0)
            reef__table_append(r, b, proto);
        else
            reef_buf_puts(b, "TCP"); /* the v1 default */
    }
    if (b->len == 0)
        reef_buf_puts(b, "<none>");
    reef__table_cell_scratch(r);
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
    b = reef__table_scratch(r);
    reef__table_append_labels(r, b, get_obj(r, spec, "selector"));
    reef__table_cell_scratch(r);
}

/* Endpoints */

static const struct reef__table_col endpoints_cols[] = {
    NAME_COL,
    {"Endpoints", "string", "",
     "The set of all endpoints is the union of all subsets. Addresses are placed into subsets "
     "according to the IPs they share. A single address with multiple ports, some of which are "
     "ready and some of which are not (because they come from different containers) will result "
     "in the address being displayed in different subsets for the different ports. No address "
     "will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses "
     "and ports that comprise a service.",
     0},
    AGE_COL,
};

#define MAX_SHOWN 3

static void host_port(const row_t *r, struct reef_buf *b, int ip, int64_t port)
{
    const char *p;
    size_t n;
    bool v6 = ip >= 0 && reef_json_str_view(r->d, ip, &p, &n) == 0 && memchr(p, ':', n);
    if (v6)
        reef_buf_putc(b, '[');
    reef__table_append(r, b, ip);
    reef_buf_printf(b, "%s:%lld", v6 ? "]" : "", (long long)port);
}

static void endpoints_row(row_t *r)
{
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    struct reef_buf *b = reef__table_scratch(r);
    int subsets = get_arr(r, r->obj, "subsets");
    if (count(r, subsets) == 0) {
        reef_buf_puts(b, "<none>");
    } else {
        int shown = 0, total = 0;
        bool more = false;
        struct reef_json_iter s = reef_json_iter(r->d, subsets);
        while (reef_json_next(r->d, &s)) {
            int addrs = get_arr(r, s.val, "addresses");
            int ports = get_arr(r, s.val, "ports");
            int naddr = count(r, addrs);
            if (count(r, ports) == 0) {
                /* A headless service may have no ports. */
                total += naddr;
                struct reef_json_iter a = reef_json_iter(r->d, addrs);
                while (addrs >= 0 && reef_json_next(r->d, &a)) {
                    if (shown == MAX_SHOWN) {
                        more = true;
                        break;
                    }
                    if (shown++ > 0)
                        reef_buf_putc(b, ',');
                    reef__table_append(r, b, get(r, a.val, "ip"));
                }
                continue;
            }
            struct reef_json_iter p = reef_json_iter(r->d, ports);
            while (reef_json_next(r->d, &p)) {
                int64_t port = reef__table_get_int(r, p.val, "port");
                total += naddr;
                struct reef_json_iter a = reef_json_iter(r->d, addrs);
                while (addrs >= 0 && reef_json_next(r->d, &a)) {
                    if (shown == MAX_SHOWN) {
                        more = true;
                        break;
                    }
                    if (shown++ > 0)
                        reef_buf_putc(b, ',');
                    host_port(r, b, get(r, a.val, "ip"), port);
                }
            }
        }
        if (more)
            reef_buf_printf(b, " + %d more...", total - MAX_SHOWN);
    }
    reef__table_cell_scratch(r);
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
}

/* ConfigMaps and Secrets */

static const struct reef__table_col configmap_cols[] = {
    NAME_COL,
    {"Data", "string", "",
     "Data contains the configuration data. Each key must consist of alphanumeric characters, "
     "'-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The "
     "keys stored in Data must not overlap with the keys in the BinaryData field, this is "
     "enforced during validation process.",
     0},
    AGE_COL,
};

static void configmap_row(row_t *r)
{
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    reef__table_cell_int(r, count(r, get_obj(r, r->obj, "data")) +
                                count(r, get_obj(r, r->obj, "binaryData")));
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
}

static const struct reef__table_col secret_cols[] = {
    NAME_COL,
    {"Type", "string", "",
     "Used to facilitate programmatic handling of secret data. More info: "
     "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
     0},
    {"Data", "string", "",
     "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' "
     "or '.'. The serialized form of the secret data is a base64 encoded string, representing "
     "the arbitrary (possibly non-string) data value here. Described in "
     "https://tools.ietf.org/html/rfc4648#section-4",
     0},
    AGE_COL,
};

static void secret_row(row_t *r)
{
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    reef__table_cell_copy(r, get(r, r->obj, "type"), "");
    reef__table_cell_int(r, count(r, get_obj(r, r->obj, "data")));
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
}

/* Events */

static const struct reef__table_col event_cols[] = {
    {"Last Seen", "string", "",
     "The time at which the most recent occurrence of this event was recorded.", 0},
    {"Type", "string", "",
     "Type of this event (Normal, Warning), new types could be added in the "
     "future",
     0},
    {"Reason", "string", "",
     "This should be a short, machine understandable string that gives the reason for the "
     "transition into the object's current status.",
     0},
    {"Object", "string", "", "The object that this event is about.", 0},
    {"Subobject", "string", "",
     "If referring to a piece of an object instead of an entire object, this string should "
     "contain a valid JSON/Go field access statement, such as "
     "desiredState.manifest.containers[2]. For example, if the object reference is to a "
     "container within a pod, this would take on a value like: \"spec.containers{name}\" (where "
     "\"name\" refers to the name of the container that triggered the event) or if no container "
     "name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax "
     "is chosen only to have some well-defined way of referencing a part of an object.",
     1},
    {"Source", "string", "",
     "The component reporting this event. Should be a short machine understandable string.", 1},
    {"Message", "string", "", "A human-readable description of the status of this operation.", 0},
    {"First Seen", "string", "",
     "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", 1},
    {"Count", "string", "", "The number of times this event has occurred.", 1},
    {"Name", "string", "name", reef__table_desc_name, 1},
};

static void since_or_unknown(row_t *r, int v, char *dst, size_t size)
{
    int64_t ms;
    if (reef__table_time(r, v, &ms))
        reef__table_since(r, ms, dst, size);
    else
        snprintf(dst, size, "<unknown>");
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void event_row(row_t *r)
{
    char first[32], last[32];
    int ft = get(r, r->obj, "firstTimestamp");
    int lt = get(r, r->obj, "lastTimestamp");
    int64_t ms;
    if (reef__table_time(r, ft, &ms))
        reef__table_since(r, ms, first, sizeof(first));
    else
        since_or_unknown(r, get(r, r->obj, "eventTime"), first, sizeof(first));
    if (reef__table_time(r, lt, &ms))
        reef__table_since(r, ms, last, sizeof(last));
    else
        snprintf(last, sizeof(last), "%s", first);
    int64_t n = reef__table_get_int(r, r->obj, "count");
    int series = get_obj(r, r->obj, "series");
    if (series >= 0) {
        since_or_unknown(r, get(r, series, "lastObservedTime"), last, sizeof(last));
        n = reef__table_get_int(r, series, "count");
    } else if (n == 0) {
        n = 1; /* singleton events of the events.k8s.io API carry no count */
    }

    reef__table_cell_str(r, last);
    reef__table_cell_copy(r, get(r, r->obj, "type"), "");
    reef__table_cell_copy(r, get(r, r->obj, "reason"), "");
    struct reef_buf *b = reef__table_scratch(r);
    int io = get_obj(r, r->obj, "involvedObject");
    reef__table_append(r, b, get(r, io, "kind"));
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] >= 'A' && b->data[i] <= 'Z')
            b->data[i] = (char)(b->data[i] - 'A' + 'a');
    if (reef__table_nonempty(r, get(r, io, "name"))) {
        reef_buf_putc(b, '/');
        reef__table_append(r, b, get(r, io, "name"));
    }
    reef__table_cell_scratch(r);
    reef__table_cell_copy(r, get(r, io, "fieldPath"), "");
    b = reef__table_scratch(r);
    int comp = get(r, r->obj, "source.component");
    int host = get(r, r->obj, "source.host");
    if (!reef__table_nonempty(r, comp))
        comp = get(r, r->obj, "reportingComponent");
    if (!reef__table_nonempty(r, host))
        host = get(r, r->obj, "reportingInstance");
    reef__table_append(r, b, comp);
    if (reef__table_nonempty(r, host)) {
        reef_buf_puts(b, ", ");
        reef__table_append(r, b, host);
    }
    reef__table_cell_scratch(r);
    b = reef__table_scratch(r);
    reef__table_append(r, b, get(r, r->obj, "message"));
    size_t s = 0, e = b->len;
    while (s < e && is_space(b->data[s]))
        s++;
    while (e > s && is_space(b->data[e - 1]))
        e--;
    reef__table_cell_strn(r, b->data ? b->data + s : "", e - s);
    reef__table_cell_str(r, first);
    reef__table_cell_int(r, n);
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
}

const struct reef__table_printer reef__table_core_printers[] = {
    {"pods", "", pod_cols, COUNT(pod_cols), pod_row},
    {"nodes", "", node_cols, COUNT(node_cols), node_row},
    {"namespaces", "", namespace_cols, COUNT(namespace_cols), namespace_row},
    {"services", "", service_cols, COUNT(service_cols), service_row},
    {"endpoints", "", endpoints_cols, COUNT(endpoints_cols), endpoints_row},
    {"configmaps", "", configmap_cols, COUNT(configmap_cols), configmap_row},
    {"secrets", "", secret_cols, COUNT(secret_cols), secret_row},
    {"events", "", event_cols, COUNT(event_cols), event_row},
};
const size_t reef__table_core_nprinters = COUNT(reef__table_core_printers);
