/* kube_pod: the pod behind `reef logs` / `reef exec` arguments, picked as kubectl picks it, its
 * default container, and whether an argument names a pod at all (else the command works on the
 * local containers `reef run` made). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/common.h"
#include "cmd/kube_pod.h"
#include "core/buf.h"

void reef__kube_podobj_free(struct reef_kube_podobj *p)
{
    reef_json_doc_free(&p->d);
    reef_http_result_free(&p->res);
}

static void str_at(const struct reef_json_doc *d, int from, const char *path, char *out,
                   size_t outsz)
{
    out[0] = 0;
    int v = reef_json_find(d, from, path, NULL);
    if (v >= 0 && reef_json_kind(d, v) == REEF_JSON_STRING)
        reef_json_get_str(d, v, out, outsz, NULL);
}

void reef__kube_pod_name(const struct reef_json_doc *pod, char *name, size_t namesz, char *ns,
                         size_t nssz)
{
    str_at(pod, REEF_JSON_ROOT, "metadata.name", name, namesz);
    str_at(pod, REEF_JSON_ROOT, "metadata.namespace", ns, nssz);
}

/* GET path into o; 0, or the HTTP status (>= 300), or a negative code with err set. */
static int get_obj(struct reef_kube *k, const char *path, struct reef_kube_podobj *o,
                   struct reef_err *err)
{
    int rc = reef_kube_do(k, "GET", path, "application/json", NULL, NULL, 0, &o->res, err);
    if (rc < 0)
        return rc;
    if (o->res.status >= 300)
        return o->res.status;
    if (reef_json_parse(&o->d, o->res.body, o->res.body_len, NULL, err) < 0)
        return reef_err_set(err, -EINVAL, "the server's answer is not JSON");
    return 0;
}

/* kubectl logs words a missing object as its resource builder does. */
static void print_missing(const struct reef_http_result *res, const char *ns)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    char msg[1024] = "";
    if (res->body && reef_json_parse(&d, res->body, res->body_len, NULL, NULL) == 0)
        str_at(&d, REEF_JSON_ROOT, "message", msg, sizeof(msg));
    reef_json_doc_free(&d);
    fprintf(stderr, "error: error from server (NotFound): %s in namespace \"%s\"\n", msg, ns);
}

/* Reports a failed GET as kubectl does; returns 1. */
static int get_failed(int rc, const struct reef_kube_podobj *o, const struct reef_err *err,
                      enum reef_kube_pick pick, const char *ns)
{
    if (rc < 0)
        return reef_kube_fail(err->msg);
    if (rc == 404 && pick == REEF_KUBE_PICK_LOGS)
        print_missing(&o->res, ns);
    else
        reef_kube_print_status(&o->res);
    return 1;
}

/* A label selector's query form from a LabelSelector (matchLabels, matchExpressions) or, for a
 * Service, a plain map. */
static void selector_string(const struct reef_json_doc *d, int sel, bool plain,
                            struct reef_buf *out)
{
    int ml = plain ? sel : reef_json_member(d, sel, "matchLabels");
    struct reef_json_iter it;
    if (ml >= 0 && reef_json_kind(d, ml) == REEF_JSON_OBJECT) {
        it = reef_json_iter(d, ml);
        while (reef_json_next(d, &it)) {
            char k[320], v[320];
            reef_json_get_str(d, it.key, k, sizeof(k), NULL);
            reef_json_get_str(d, it.val, v, sizeof(v), NULL);
            reef_buf_printf(out, "%s%s=%s", out->len ? "," : "", k, v);
        }
    }
    int me = plain ? -1 : reef_json_member(d, sel, "matchExpressions");
    if (me < 0 || reef_json_kind(d, me) != REEF_JSON_ARRAY)
        return;
    it = reef_json_iter(d, me);
    while (reef_json_next(d, &it)) {
        char k[320], op[32];
        str_at(d, it.val, "key", k, sizeof(k));
        str_at(d, it.val, "operator", op, sizeof(op));
        if (out->len)
            reef_buf_putc(out, ',');
        if (strcmp(op, "Exists") == 0) {
            reef_buf_puts(out, k);
            continue;
        }
        if (strcmp(op, "DoesNotExist") == 0) {
            reef_buf_printf(out, "!%s", k);
            continue;
        }
        reef_buf_printf(out, "%s %s (", k, strcmp(op, "NotIn") == 0 ? "notin" : "in");
        int vals = reef_json_member(d, it.val, "values");
        struct reef_json_iter vi = reef_json_iter(d, vals);
        while (vals >= 0 && reef_json_next(d, &vi)) {
            char v[320];
            reef_json_get_str(d, vi.val, v, sizeof(v), NULL);
            reef_buf_printf(out, "%s%s", vi.index ? "," : "", v);
        }
        reef_buf_putc(out, ')');
    }
}

/* What kubectl's pod orderings look at. */
struct cand {
    char name[256];
    bool assigned, ready;
    int phase; /* Running 0, Unknown 1, Pending 2, others 3 (as a missing map key: 0) */
    char ready_since[40], created[40];
    int64_t restarts;
};

static void cand_of(const struct reef_json_doc *d, int pod, enum reef_kube_pick pick,
                    struct cand *c)
{
    memset(c, 0, sizeof(*c));
    str_at(d, pod, "metadata.name", c->name, sizeof(c->name));
    str_at(d, pod, "metadata.creationTimestamp", c->created, sizeof(c->created));
    char s[64];
    str_at(d, pod, "spec.nodeName", s, sizeof(s));
    c->assigned = s[0] != 0;
    str_at(d, pod, "status.phase", s, sizeof(s));
    /* Go's map lookup gives 0 for a phase it does not list: like Running for logs, like
     * Pending for exec (whose map runs the other way) */
    bool listed = !strcmp(s, "Running") || !strcmp(s, "Unknown") || !strcmp(s, "Pending");
    c->phase = strcmp(s, "Unknown") == 0 ? 1 : strcmp(s, "Pending") == 0 ? 2 : 0;
    if (!listed && pick == REEF_KUBE_PICK_EXEC)
        c->phase = 2;
    int conds = reef_json_find(d, pod, "status.conditions", NULL);
    struct reef_json_iter it = reef_json_iter(d, conds);
    while (conds >= 0 && reef_json_next(d, &it)) {
        char t[32], st[16];
        str_at(d, it.val, "type", t, sizeof(t));
        str_at(d, it.val, "status", st, sizeof(st));
        if (strcmp(t, "Ready") == 0 && strcmp(st, "True") == 0) {
            c->ready = true;
            str_at(d, it.val, "lastTransitionTime", c->ready_since, sizeof(c->ready_since));
        }
    }
    int cs = reef_json_find(d, pod, "status.containerStatuses", NULL);
    it = reef_json_iter(d, cs);
    while (cs >= 0 && reef_json_next(d, &it)) {
        int64_t n = 0;
        int v = reef_json_member(d, it.val, "restartCount");
        if (v >= 0 && reef_json_get_int(d, v, &n, NULL) == 0 && n > c->restarts)
            c->restarts = n;
    }
}

/* afterOrZero(t1, t2): t1 is zero, or both are set and t1 is after t2 (RFC 3339 in UTC). */
static bool after_or_zero(const char *t1, const char *t2)
{
    if (!t1[0] || !t2[0])
        return !t1[0];
    return strcmp(t1, t2) > 0;
}

/* True when a comes before b: podutils.ByLogging for logs, the reverse of ActivePods for exec. */
static bool cand_before(const struct cand *a, const struct cand *b, enum reef_kube_pick pick)
{
    if (a->assigned != b->assigned)
        return a->assigned;
    if (a->phase != b->phase)
        return a->phase < b->phase;
    if (a->ready != b->ready)
        return a->ready;
    if (a->ready && b->ready && strcmp(a->ready_since, b->ready_since) != 0)
        return after_or_zero(b->ready_since, a->ready_since);
    if (a->restarts != b->restarts)
        return pick == REEF_KUBE_PICK_LOGS ? a->restarts > b->restarts : a->restarts < b->restarts;
    if (strcmp(a->created, b->created) != 0)
        return after_or_zero(b->created, a->created);
    return false;
}

/* The first pod of a selector by kubectl's order; 0 with name set, 1 after an error. */
static int first_pod(struct reef_kube *k, const char *selector, enum reef_kube_pick pick,
                     long long timeout_s, char *name, size_t namesz)
{
    struct reef_buf path = REEF_BUF_INIT;
    reef_buf_puts(&path, "/api/v1/namespaces/");
    reef_kube_escape(&path, k->ns);
    reef_buf_puts(&path, "/pods?labelSelector=");
    reef_kube_escape(&path, selector);
    struct reef_kube_podobj o = {0};
    struct reef_err err = {0};
    int status = 0;
    /* kubectl waits for a pod to appear (its --pod-running-timeout) */
    for (int tries = 0;; tries++) {
        reef__kube_podobj_free(&o);
        memset(&o, 0, sizeof(o));
        int rc = get_obj(k, path.data, &o, &err);
        if (rc != 0) {
            status = get_failed(rc, &o, &err, REEF_KUBE_PICK_EXEC, k->ns);
            break;
        }
        int items = reef_json_member(&o.d, REEF_JSON_ROOT, "items");
        int n = items >= 0 ? reef_json_count(&o.d, items) : 0;
        if (n == 0) {
            if (tries >= timeout_s) {
                status = reef_kube_fail("timed out waiting for the condition");
                break;
            }
            sleep(1);
            continue;
        }
        /* insertion sort: stable, as Go's sort is for the few pods a selector gives */
        struct cand *c = calloc((size_t)n, sizeof(*c));
        if (!c) {
            status = reef_kube_fail("out of memory");
            break;
        }
        struct reef_json_iter it = reef_json_iter(&o.d, items);
        int m = 0;
        while (reef_json_next(&o.d, &it) && m < n) {
            struct cand x;
            cand_of(&o.d, it.val, pick, &x);
            int j = m++;
            while (j > 0 && cand_before(&x, &c[j - 1], pick)) {
                c[j] = c[j - 1];
                j--;
            }
            c[j] = x;
        }
        snprintf(name, namesz, "%s", c[0].name);
        if (pick == REEF_KUBE_PICK_LOGS && n > 1)
            fprintf(stderr, "Found %d pods, using pod/%s\n", n, name);
        free(c);
        break;
    }
    reef__kube_podobj_free(&o);
    reef_buf_free(&path);
    return status;
}

int reef__kube_pod_get(struct reef_kube *k, const char *arg, enum reef_kube_pick pick,
                       long long timeout_s, struct reef_kube_podobj *pod)
{
    memset(pod, 0, sizeof(*pod));
    const struct reef_kube_type *t = reef_kube_type_find("pods");
    const char *name = arg;
    const char *slash = strchr(arg, '/');
    char tname[128];
    if (slash) {
        snprintf(tname, sizeof(tname), "%.*s", (int)(slash - arg), arg);
        t = reef_kube_type_find(tname);
        if (!t) {
            fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", tname);
            return 1;
        }
        name = slash + 1;
    }
    char podname[256];
    struct reef_buf path = REEF_BUF_INIT;
    struct reef_err err = {0};
    int rc, status = 0;
    if (strcmp(t->kind, "Pod") != 0) {
        reef_kube_path(&path, t, k->ns, name);
        struct reef_kube_podobj o = {0};
        rc = get_obj(k, path.data, &o, &err);
        if (rc != 0) {
            status = get_failed(rc, &o, &err, pick, k->ns);
        } else {
            bool plain = strcmp(t->kind, "Service") == 0;
            int sel =
                plain || strcmp(t->kind, "Deployment") == 0 || strcmp(t->kind, "ReplicaSet") == 0
                    ? reef_json_find(&o.d, REEF_JSON_ROOT, "spec.selector", NULL)
                    : -ENOENT;
            if (sel < 0 && !plain) {
                fprintf(stderr, "error: cannot %s *%s.%s: selector for *%s.%s not implemented\n",
                        pick == REEF_KUBE_PICK_LOGS ? "get the logs from" : "attach to", t->version,
                        t->kind, t->version, t->kind);
                status = 1;
            } else {
                struct reef_buf s = REEF_BUF_INIT;
                if (sel >= 0)
                    selector_string(&o.d, sel, plain, &s);
                if (s.len == 0) {
                    fprintf(stderr,
                            "error: cannot %s *%s.%s: invalid service '%s': Service is "
                            "defined without a selector\n",
                            pick == REEF_KUBE_PICK_LOGS ? "get the logs from" : "attach to",
                            t->version, t->kind, name);
                    status = 1;
                } else {
                    status = first_pod(k, s.data, pick, timeout_s, podname, sizeof(podname));
                    name = podname;
                }
                reef_buf_free(&s);
            }
        }
        reef__kube_podobj_free(&o);
        if (status) {
            reef_buf_free(&path);
            return status;
        }
        reef_buf_reset(&path);
        t = reef_kube_type_find("pods");
    }
    reef_kube_path(&path, t, k->ns, name);
    rc = get_obj(k, path.data, pod, &err);
    if (rc != 0)
        status = get_failed(rc, pod, &err, pick, k->ns);
    reef_buf_free(&path);
    return status;
}

static int find_in(const struct reef_json_doc *pod, const char *list, const char *name)
{
    int a = reef_json_find(pod, REEF_JSON_ROOT, list, NULL);
    struct reef_json_iter it = reef_json_iter(pod, a);
    while (a >= 0 && reef_json_next(pod, &it)) {
        int n = reef_json_member(pod, it.val, "name");
        if (n >= 0 && reef_json_str_eq(pod, n, name))
            return it.val;
    }
    return -ENOENT;
}

bool reef__kube_pod_has_container(const struct reef_json_doc *pod, const char *name)
{
    return find_in(pod, "spec.containers", name) >= 0 ||
           find_in(pod, "spec.initContainers", name) >= 0 ||
           find_in(pod, "spec.ephemeralContainers", name) >= 0;
}

int reef__kube_pod_default_container(const struct reef_json_doc *pod, bool quiet, char *out,
                                     size_t outsz)
{
    char want[256];
    int ann = reef_json_find(pod, REEF_JSON_ROOT, "metadata.annotations", NULL);
    int v =
        ann >= 0 ? reef_json_member(pod, ann, "kubectl.kubernetes.io/default-container") : -ENOENT;
    if (v >= 0 && reef_json_get_str(pod, v, want, sizeof(want), NULL) >= 0 && want[0] &&
        reef__kube_pod_has_container(pod, want)) {
        snprintf(out, outsz, "%s", want);
        return 0;
    }
    int cs = reef_json_find(pod, REEF_JSON_ROOT, "spec.containers", NULL);
    int n = cs >= 0 ? reef_json_count(pod, cs) : 0;
    if (n <= 0)
        return -ENOENT;
    str_at(pod, reef_json_index(pod, cs, 0), "name", out, outsz);
    int ic = reef_json_find(pod, REEF_JSON_ROOT, "spec.initContainers", NULL);
    int ec = reef_json_find(pod, REEF_JSON_ROOT, "spec.ephemeralContainers", NULL);
    int ni = ic >= 0 ? reef_json_count(pod, ic) : 0, ne = ec >= 0 ? reef_json_count(pod, ec) : 0;
    if (quiet || (n == 1 && ni <= 0 && ne <= 0))
        return 0;
    /* containers, then ephemeral ones, then init containers, as kubectl lists them */
    struct reef_buf all = REEF_BUF_INIT;
    const char *lists[3] = {"spec.containers", "spec.ephemeralContainers", "spec.initContainers"};
    const char *tags[3] = {"", " (ephem)", " (init)"};
    for (int l = 0; l < 3; l++) {
        int a = reef_json_find(pod, REEF_JSON_ROOT, lists[l], NULL);
        struct reef_json_iter it = reef_json_iter(pod, a);
        while (a >= 0 && reef_json_next(pod, &it)) {
            char nm[256];
            str_at(pod, it.val, "name", nm, sizeof(nm));
            reef_buf_printf(&all, "%s%s%s", all.len ? ", " : "", nm, tags[l]);
        }
    }
    fprintf(stderr, "Defaulted container \"%s\" out of: %s\n", out, all.data);
    reef_buf_free(&all);
    return 0;
}

long long reef__kube_duration_s(const char *s)
{
    int64_t ms;
    if (reef_kube_parse_duration(s, &ms) < 0 || ms < 0)
        return -1;
    return (long long)((ms + 500) / 1000);
}

/* ---- does an argv name a pod? ---- */

static bool kubeconfig_exists(const char *flag)
{
    char *p = reef_kubeconfig_resolve_path(flag);
    struct stat st;
    bool ok = p && stat(p, &st) == 0;
    free(p);
    return ok;
}

bool reef__kube_wants_pod(int argc, char **argv, bool exec)
{
    /* options of the local commands that take a value; everything else is a flag */
    static const char *const local_long[] = {"--tail", "--data-dir", "--env",
                                             "--user", "--workdir",  NULL};
    const char *local_short = exec ? "euw" : "";
    const char *data = NULL;
    const char *operand[2] = {NULL, NULL};
    int nops = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (a[0] != '-' || a[1] == 0) {
            if (nops < 2)
                operand[nops] = a;
            nops++;
            if (exec)
                break; /* the rest is the command */
            continue;
        }
        if (a[1] == '-') {
            static const char *const pod_long[] = {"--namespace",
                                                   "--container",
                                                   "--previous",
                                                   "--kubeconfig",
                                                   "--all-containers",
                                                   "--selector",
                                                   "--since",
                                                   "--since-time",
                                                   "--limit-bytes",
                                                   "--prefix",
                                                   "--max-log-requests",
                                                   "--ignore-errors",
                                                   "--pod-running-timeout",
                                                   "--quiet",
                                                   NULL};
            size_t n = strcspn(a, "=");
            for (int j = 0; pod_long[j]; j++)
                if (strlen(pod_long[j]) == n && strncmp(a, pod_long[j], n) == 0)
                    return true;
            for (int j = 0; local_long[j]; j++)
                if (strlen(local_long[j]) == n && strncmp(a, local_long[j], n) == 0 && !a[n]) {
                    if (strcmp(local_long[j], "--data-dir") == 0 && i + 1 < argc)
                        data = argv[i + 1];
                    i++;
                }
            continue;
        }
        for (const char *p = a + 1; *p; p++) {
            if (strchr(exec ? "ncq" : "ncpl", *p))
                return true;
            if (strchr(local_short, *p)) {
                if (!p[1])
                    i++;
                break;
            }
        }
    }
    if (nops == 0)
        return false;
    if (strchr(operand[0], '/') || (!exec && nops == 2))
        return true;
    /* a local container of that name or ID prefix stays local */
    struct reef_ctrstore *store;
    char id[REEF_CTR_ID_LEN + 1];
    if (reef_cmd_open_containers(reef_cmd_data_dir(data), &store, NULL) == 0) {
        int r = reef_ctr_resolve(store, operand[0], id, NULL);
        reef_ctrstore_close(store);
        if (r == 0)
            return false;
    }
    return kubeconfig_exists(NULL);
}
