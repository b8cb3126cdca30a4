/* scheduler: quantities, and Pods and Nodes read into the decision logic's structs. */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/scheduler_int.h"

/* ---- quantities ---- */

typedef unsigned __int128 u128;
#define Q_LIMIT ((u128)1 << 100) /* mantissa bound that keeps every step below 2^128 */

int reef_sched_quantity(const char *s, int scale, int64_t *out)
{
    if (!s || !*s)
        return -EINVAL;
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    u128 m = 0;
    int exp10 = 0;
    bool digits = false, sticky = false; /* sticky: nonzero digits dropped (value is larger) */
    for (; *p >= '0' && *p <= '9'; p++, digits = true) {
        if (m < Q_LIMIT / 10)
            m = m * 10 + (u128)(*p - '0');
        else {
            exp10++;
            sticky |= *p != '0';
        }
    }
    if (*p == '.') {
        p++;
        for (; *p >= '0' && *p <= '9'; p++, digits = true) {
            if (m < Q_LIMIT / 10) {
                m = m * 10 + (u128)(*p - '0');
                exp10--;
            } else {
                sticky |= *p != '0';
            }
        }
    }
    if (!digits)
        return -EINVAL;
    int exp2 = 0;
    static const struct {
        const char *s;
        int e10, e2;
    } sfx[] = {{"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50},
               {"Ei", 0, 60}, {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},
               {"M", 6, 0},   {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0}};
    if ((*p == 'e' || *p == 'E') &&
        ((p[1] >= '0' && p[1] <= '9') ||
         ((p[1] == '+' || p[1] == '-') && p[2] >= '0' && p[2] <= '9'))) {
        p++;
        bool eneg = false;
        if (*p == '+' || *p == '-')
            eneg = *p++ == '-';
        int e = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (e > 100000)
                return -ERANGE;
            e = e * 10 + (*p - '0');
        }
        exp10 += eneg ? -e : e;
    } else if (*p) {
        size_t i = 0;
        while (i < REEF_ARRAY_LEN(sfx) && strcmp(p, sfx[i].s) != 0)
            i++;
        if (i == REEF_ARRAY_LEN(sfx))
            return -EINVAL;
        exp10 += sfx[i].e10;
        exp2 = sfx[i].e2;
        p += strlen(sfx[i].s);
    }
    if (*p)
        return -EINVAL;
    exp10 += scale;
    const u128 max = (u128)INT64_MAX;
    if (m == 0 && !sticky) {
        *out = 0;
        return 0;
    }
    /* value = m * 2^exp2 * 10^exp10 (+ a little when sticky), rounded up */
    for (int i = 0; i < exp2; i++) {
        m <<= 1;
        if (m > max)
            return -ERANGE;
    }
    if (exp10 >= 0) {
        if (sticky)
            return -ERANGE; /* dropped digits only happen for values far beyond int64 */
        for (int i = 0; i < exp10 && m <= max; i++)
            m *= 10;
        if (m > max)
            return -ERANGE;
    } else {
        bool rem = sticky;
        for (int i = 0; i < -exp10 && m; i++) {
            rem |= m % 10 != 0;
            m /= 10;
        }
        if (rem && !neg)
            m++;
        if (m > max)
            return -ERANGE;
    }
    *out = neg ? -(int64_t)m : (int64_t)m;
    return 0;
}

int reef__sched_qty_at(const struct reef_json_doc *d, int v, int scale, int64_t *out)
{
    char q[64];
    if (reef_json_kind(d, v) == REEF_JSON_NUMBER) {
        size_t n;
        const char *raw = reef_json_raw(d, v, &n);
        if (n >= sizeof(q))
            return -ERANGE;
        memcpy(q, raw, n);
        q[n] = '\0';
    } else if (reef_json_get_str(d, v, q, sizeof(q), NULL) < 0) {
        return -EINVAL;
    }
    return reef_sched_quantity(q, scale, out);
}

/* ---- a small bump allocator: one per parsed pod or node ---- */

struct blk {
    struct blk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

void *reef__sched_alloc(void **mem, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct blk *b = *mem;
    if (!b || b->cap - b->used < n) {
        size_t cap = b ? b->cap * 2 : 512;
        if (cap < n)
            cap = n;
        struct blk *nb = malloc(sizeof(*nb) + cap);
        if (!nb)
            return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        *mem = b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

void reef__sched_free_all(void *mem)
{
    for (struct blk *b = mem; b;) {
        struct blk *n = b->next;
        free(b);
        b = n;
    }
}

/* Decoded string v of d (NULL when v is not a string), in mem. */
static const char *str_at(void **mem, const struct reef_json_doc *d, int v)
{
    if (reef_json_kind(d, v) != REEF_JSON_STRING)
        return NULL;
    size_t n;
    reef_json_raw(d, v, &n);
    char *s = reef__sched_alloc(mem, n + 1);
    if (!s || reef_json_get_str(d, v, s, n + 1, NULL) < 0)
        return NULL;
    return s;
}

static const char *str_path(void **mem, const struct reef_json_doc *d, int from, const char *path)
{
    int v = reef_json_find(d, from, path, NULL);
    const char *s = v >= 0 ? str_at(mem, d, v) : NULL;
    return s ? s : "";
}

/* A string map (labels, nodeSelector) into *kv. */
static int kv_map(void **mem, const struct reef_json_doc *d, int obj, struct reef_sched_kv **kv,
                  size_t *n)
{
    *n = 0;
    *kv = NULL;
    if (reef_json_kind(d, obj) != REEF_JSON_OBJECT)
        return 0;
    int cnt = reef_json_count(d, obj);
    *kv = reef__sched_alloc(mem, sizeof(**kv) * (size_t)(cnt ? cnt : 1));
    if (!*kv)
        return -ENOMEM;
    struct reef_json_iter it = reef_json_iter(d, obj);
    while (reef_json_next(d, &it)) {
        const char *k = str_at(mem, d, it.key), *v = str_at(mem, d, it.val);
        if (!k)
            return -ENOMEM;
        (*kv)[(*n)++] = (struct reef_sched_kv){k, v ? v : ""};
    }
    return 0;
}

static enum reef_sched_effect effect_of(const char *s)
{
    if (strcmp(s, "NoSchedule") == 0)
        return REEF_SCHED_NO_SCHEDULE;
    if (strcmp(s, "PreferNoSchedule") == 0)
        return REEF_SCHED_PREFER_NO_SCHEDULE;
    if (strcmp(s, "NoExecute") == 0)
        return REEF_SCHED_NO_EXECUTE;
    return s[0] ? REEF_SCHED_UNKNOWN_EFFECT : REEF_SCHED_ANY;
}

/* ---- pods ---- */

struct req {
    int64_t cpu, mem, nz_cpu, nz_mem;
};

#define NZ_CPU 100                 /* milli-cpu a container without a cpu request counts as */
#define NZ_MEM (200 * 1024 * 1024) /* bytes for one without a memory request */

/* One quantity of a container: requests.name, else limits.name (the API's defaulting of
 * requests from limits). *set says whether either was there. */
static int res_of(const struct reef_json_doc *d, int res, const char *name, int scale, int64_t *out,
                  bool *set, struct reef_err *err)
{
    *out = 0;
    *set = false;
    static const char *const where[] = {"requests", "limits"};
    for (int i = 0; i < 2; i++) {
        int m = reef_json_member(d, res, where[i]);
        int v = m >= 0 ? reef_json_member(d, m, name) : -1;
        if (v < 0)
            continue;
        if (reef__sched_qty_at(d, v, scale, out) < 0 || *out < 0)
            return reef_err_set(err, -EINVAL, "%s.%s: invalid quantity", where[i], name);
        *set = true;
        return 0;
    }
    return 0;
}

static int container_req(const struct reef_json_doc *d, int c, struct req *r, struct reef_err *err)
{
    int res = reef_json_member(d, c, "resources");
    bool cs = false, ms = false;
    *r = (struct req){0};
    if (res >= 0) {
        int e = res_of(d, res, "cpu", 3, &r->cpu, &cs, err);
        if (e == 0)
            e = res_of(d, res, "memory", 0, &r->mem, &ms, err);
        if (e < 0)
            return e;
    }
    r->nz_cpu = cs ? r->cpu : NZ_CPU;
    r->nz_mem = ms ? r->mem : NZ_MEM;
    return 0;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Kubernetes' PodRequests: the containers' sum; init containers run one at a time (beside the
 * restartable ones started before them), so the pod needs the larger of the two; then the
 * pod overhead. */
static int pod_requests(const struct reef_json_doc *d, int spec, struct req *out,
                        struct reef_err *err)
{
    struct req sum = {0}, side = {0}, init = {0}, r;
    int cs = reef_json_member(d, spec, "containers");
    struct reef_json_iter it = reef_json_iter(d, cs);
    while (reef_json_next(d, &it)) {
        if (container_req(d, it.val, &r, err) < 0)
            return reef_err_wrap(err, "containers[%d]", it.index);
        sum.cpu += r.cpu, sum.mem += r.mem, sum.nz_cpu += r.nz_cpu, sum.nz_mem += r.nz_mem;
    }
    int ics = reef_json_member(d, spec, "initContainers");
    it = reef_json_iter(d, ics);
    while (reef_json_next(d, &it)) {
        if (container_req(d, it.val, &r, err) < 0)
            return reef_err_wrap(err, "initContainers[%d]", it.index);
        int rp = reef_json_member(d, it.val, "restartPolicy");
        struct req cur;
        if (rp >= 0 && reef_json_str_eq(d, rp, "Always")) {
            sum.cpu += r.cpu, sum.mem += r.mem, sum.nz_cpu += r.nz_cpu, sum.nz_mem += r.nz_mem;
            side.cpu += r.cpu, side.mem += r.mem, side.nz_cpu += r.nz_cpu;
            side.nz_mem += r.nz_mem;
            cur = side;
        } else {
            cur = (struct req){r.cpu + side.cpu, r.mem + side.mem, r.nz_cpu + side.nz_cpu,
                               r.nz_mem + side.nz_mem};
        }
        init.cpu = max64(init.cpu, cur.cpu), init.mem = max64(init.mem, cur.mem);
        init.nz_cpu = max64(init.nz_cpu, cur.nz_cpu), init.nz_mem = max64(init.nz_mem, cur.nz_mem);
    }
    out->cpu = max64(sum.cpu, init.cpu), out->mem = max64(sum.mem, init.mem);
    out->nz_cpu = max64(sum.nz_cpu, init.nz_cpu), out->nz_mem = max64(sum.nz_mem, init.nz_mem);
    int ov = reef_json_member(d, spec, "overhead");
    if (ov >= 0) {
        int64_t cpu = 0, mem = 0;
        int c = reef_json_member(d, ov, "cpu"), m = reef_json_member(d, ov, "memory");
        if ((c >= 0 && reef__sched_qty_at(d, c, 3, &cpu) < 0) ||
            (m >= 0 && reef__sched_qty_at(d, m, 0, &mem) < 0))
            return reef_err_set(err, -EINVAL, "overhead: invalid quantity");
        out->cpu += cpu, out->mem += mem, out->nz_cpu += cpu, out->nz_mem += mem;
    }
    return 0;
}

static enum reef_sched_op op_of(const char *s, bool *ok)
{
    static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(ops); i++)
        if (strcmp(s, ops[i]) == 0)
            return (enum reef_sched_op)i;
    *ok = false;
    return REEF_SCHED_IN;
}

static int exprs(void **mem, const struct reef_json_doc *d, int arr, struct reef_sched_expr **out,
                 size_t *n, struct reef_err *err)
{
    *n = 0;
    int cnt = reef_json_count(d, arr);
    if (cnt <= 0)
        return 0;
    *out = reef__sched_alloc(mem, sizeof(**out) * (size_t)cnt);
    if (!*out)
        return -ENOMEM;
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        struct reef_sched_expr *e = &(*out)[(*n)++];
        bool ok = true;
        e->key = str_path(mem, d, it.val, "key");
        e->op = op_of(str_path(mem, d, it.val, "operator"), &ok);
        if (!ok)
            return reef_err_set(err, -EINVAL, "node affinity: unknown operator");
        int vals = reef_json_member(d, it.val, "values");
        int vc = reef_json_count(d, vals);
        if (vc > 0) {
            e->values = reef__sched_alloc(mem, sizeof(char *) * (size_t)vc);
            if (!e->values)
                return -ENOMEM;
            struct reef_json_iter vi = reef_json_iter(d, vals);
            while (reef_json_next(d, &vi)) {
                const char *s = str_at(mem, d, vi.val);
                e->values[e->nvalues++] = s ? s : "";
            }
        }
    }
    return 0;
}

static int affinity(void **mem, const struct reef_json_doc *d, int spec, struct reef_sched_pod *p,
                    struct reef_err *err)
{
    int req = reef_json_find(d, spec,
                             "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuring"
                             "Execution",
                             NULL);
    if (req < 0 || reef_json_kind(d, req) != REEF_JSON_OBJECT)
        return 0;
    p->has_required = true;
    int terms = reef_json_member(d, req, "nodeSelectorTerms");
    int cnt = reef_json_count(d, terms);
    if (cnt <= 0)
        return 0;
    p->terms = reef__sched_alloc(mem, sizeof(*p->terms) * (size_t)cnt);
    if (!p->terms)
        return -ENOMEM;
    struct reef_json_iter it = reef_json_iter(d, terms);
    while (reef_json_next(d, &it)) {
        struct reef_sched_term *t = &p->terms[p->nterms++];
        int r = exprs(mem, d, reef_json_member(d, it.val, "matchExpressions"), &t->exprs,
                      &t->nexprs, err);
        if (r == 0)
            r = exprs(mem, d, reef_json_member(d, it.val, "matchFields"), &t->fields, &t->nfields,
                      err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int tolerations(void **mem, const struct reef_json_doc *d, int spec,
                       struct reef_sched_pod *p)
{
    int arr = reef_json_member(d, spec, "tolerations");
    int cnt = reef_json_count(d, arr);
    if (cnt <= 0)
        return 0;
    p->tols = reef__sched_alloc(mem, sizeof(*p->tols) * (size_t)cnt);
    if (!p->tols)
        return -ENOMEM;
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        struct reef_sched_toleration *t = &p->tols[p->ntols++];
        t->key = str_path(mem, d, it.val, "key");
        t->value = str_path(mem, d, it.val, "value");
        t->effect = effect_of(str_path(mem, d, it.val, "effect"));
        const char *op = str_path(mem, d, it.val, "operator");
        t->exists = strcmp(op, "Exists") == 0;
        if (!t->exists && op[0] && strcmp(op, "Equal") != 0)
            t->effect = REEF_SCHED_UNKNOWN_EFFECT; /* an unknown operator tolerates nothing */
    }
    return 0;
}

static int host_ports(void **mem, const struct reef_json_doc *d, int spec, struct reef_sched_pod *p)
{
    int cs = reef_json_member(d, spec, "containers");
    size_t cap = 0;
    struct reef_json_iter it = reef_json_iter(d, cs);
    while (reef_json_next(d, &it)) {
        struct reef_json_iter pi = reef_json_iter(d, reef_json_member(d, it.val, "ports"));
        while (reef_json_next(d, &pi)) {
            int hp = reef_json_member(d, pi.val, "hostPort");
            int64_t port = 0;
            if (hp < 0 || reef_json_get_int(d, hp, &port, NULL) < 0 || port <= 0 || port > 65535)
                continue;
            if (p->nports == cap) {
                size_t ncap = cap ? cap * 2 : 4;
                struct reef_sched_port *n = reef__sched_alloc(mem, sizeof(*n) * ncap);
                if (!n)
                    return -ENOMEM;
                if (p->nports)
                    memcpy(n, p->ports, sizeof(*n) * p->nports);
                p->ports = n;
                cap = ncap;
            }
            const char *proto = str_path(mem, d, pi.val, "protocol");
            struct reef_sched_port *o = &p->ports[p->nports++];
            o->port = (int)port;
            o->proto = proto[0] ? proto[0] : 'T';
            o->ip = str_path(mem, d, pi.val, "hostIP");
        }
    }
    return 0;
}

int reef_sched_pod_parse(const char *json, size_t len, struct reef_sched_pod **out,
                         struct reef_err *err)
{
    *out = NULL;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, json, len, NULL, err);
    if (r < 0)
        return r;
    void *mem = NULL;
    struct reef_sched_pod *p = reef__sched_alloc(&mem, sizeof(*p));
    if (!p) {
        reef_json_doc_free(&d);
        return reef_err_set(err, -ENOMEM, "out of memory");
    }
    p->ns = str_path(&mem, &d, REEF_JSON_ROOT, "metadata.namespace");
    p->name = str_path(&mem, &d, REEF_JSON_ROOT, "metadata.name");
    p->uid = str_path(&mem, &d, REEF_JSON_ROOT, "metadata.uid");
    int del = reef_json_find(&d, REEF_JSON_ROOT, "metadata.deletionTimestamp", NULL);
    p->deleting = del >= 0 && !reef_json_is_null(&d, del);
    int gen = reef_json_find(&d, REEF_JSON_ROOT, "metadata.generation", NULL);
    if (gen >= 0)
        reef_json_get_int(&d, gen, &p->generation, NULL);
    p->owner_uid = "";
    struct reef_json_iter it =
        reef_json_iter(&d, reef_json_find(&d, REEF_JSON_ROOT, "metadata.ownerReferences", NULL));
    while (reef_json_next(&d, &it)) {
        bool ctl = false;
        int c = reef_json_member(&d, it.val, "controller");
        if (c >= 0 && reef_json_get_bool(&d, c, &ctl, NULL) == 0 && ctl) {
            p->owner_uid = str_path(&mem, &d, it.val, "uid");
            break;
        }
    }
    const char *phase = str_path(&mem, &d, REEF_JSON_ROOT, "status.phase");
    p->terminal = strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
    int spec = reef_json_member(&d, REEF_JSON_ROOT, "spec");
    p->node_name = str_path(&mem, &d, spec, "nodeName");
    p->scheduler_name = str_path(&mem, &d, spec, "schedulerName");
    if (!p->scheduler_name[0])
        p->scheduler_name = "default-scheduler";
    p->never_preempt = strcmp(str_path(&mem, &d, spec, "preemptionPolicy"), "Never") == 0;
    p->gated = reef_json_count(&d, reef_json_member(&d, spec, "schedulingGates")) > 0;
    struct req rq = {0};
    r = spec >= 0 ? pod_requests(&d, spec, &rq, err) : 0;
    if (r == 0) {
        p->cpu = rq.cpu, p->mem = rq.mem, p->nz_cpu = rq.nz_cpu, p->nz_mem = rq.nz_mem;
        r = kv_map(&mem, &d, reef_json_member(&d, spec, "nodeSelector"), &p->selector,
                   &p->nselector);
    }
    if (r == 0)
        r = affinity(&mem, &d, spec, p, err);
    if (r == 0)
        r = tolerations(&mem, &d, spec, p);
    if (r == 0)
        r = host_ports(&mem, &d, spec, p);
    reef_json_doc_free(&d);
    if (r < 0) {
        reef__sched_free_all(mem);
        if (r == -ENOMEM)
            return reef_err_set(err, r, "out of memory");
        return reef_err_wrap(err, "pod");
    }
    p->mem_ = mem;
    *out = p;
    return 0;
}

void reef_sched_pod_free(struct reef_sched_pod *p)
{
    if (p)
        reef__sched_free_all(p->mem_);
}

void reef__sched_node_free(struct reef_sched_node *n)
{
    if (n)
        reef__sched_free_all(n->mem_);
}

/* ---- nodes ---- */

static int64_t node_quantity(const struct reef_json_doc *d, const char *name, int scale)
{
    static const char *const where[] = {"status.allocatable", "status.capacity"};
    for (int i = 0; i < 2; i++) {
        int m = reef_json_find(d, REEF_JSON_ROOT, where[i], NULL);
        int v = m >= 0 ? reef_json_member(d, m, name) : -1;
        int64_t x;
        if (v >= 0 && reef__sched_qty_at(d, v, scale, &x) == 0)
            return x;
    }
    return 0;
}

int reef__sched_node_parse(const char *json, size_t len, struct reef_sched_node **out,
                           struct reef_err *err)
{
    *out = NULL;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, json, len, NULL, err);
    if (r < 0)
        return r;
    void *mem = NULL;
    struct reef_sched_node *n = reef__sched_alloc(&mem, sizeof(*n));
    if (!n)
        goto nomem;
    n->present = true;
    n->name = str_path(&mem, &d, REEF_JSON_ROOT, "metadata.name");
    int u = reef_json_find(&d, REEF_JSON_ROOT, "spec.unschedulable", NULL);
    if (u >= 0)
        reef_json_get_bool(&d, u, &n->unschedulable, NULL);
    n->alloc_cpu = node_quantity(&d, "cpu", 3);
    n->alloc_mem = node_quantity(&d, "memory", 0);
    n->alloc_pods = node_quantity(&d, "pods", 0);
    if (kv_map(&mem, &d, reef_json_find(&d, REEF_JSON_ROOT, "metadata.labels", NULL), &n->labels,
               &n->nlabels) < 0)
        goto nomem;
    /* readiness: what the node lifecycle controller would taint a node with */
    const char *ready = NULL;
    struct reef_json_iter it =
        reef_json_iter(&d, reef_json_find(&d, REEF_JSON_ROOT, "status.conditions", NULL));
    while (reef_json_next(&d, &it)) {
        int t = reef_json_member(&d, it.val, "type");
        if (t >= 0 && reef_json_str_eq(&d, t, "Ready"))
            ready = str_path(&mem, &d, it.val, "status");
    }
    const char *implicit = NULL;
    if (!ready || strcmp(ready, "False") == 0)
        implicit = "node.kubernetes.io/not-ready";
    else if (strcmp(ready, "True") != 0)
        implicit = "node.kubernetes.io/unreachable";
    int taints = reef_json_find(&d, REEF_JSON_ROOT, "spec.taints", NULL);
    int cnt = reef_json_count(&d, taints);
    size_t cap = (size_t)(cnt > 0 ? cnt : 0) + 1;
    n->taints = reef__sched_alloc(&mem, sizeof(*n->taints) * cap);
    if (!n->taints)
        goto nomem;
    it = reef_json_iter(&d, taints);
    while (reef_json_next(&d, &it)) {
        struct reef_sched_taint *t = &n->taints[n->ntaints++];
        t->key = str_path(&mem, &d, it.val, "key");
        t->value = str_path(&mem, &d, it.val, "value");
        t->effect = effect_of(str_path(&mem, &d, it.val, "effect"));
        if (implicit && strcmp(t->key, implicit) == 0 && t->effect == REEF_SCHED_NO_SCHEDULE)
            implicit = NULL;
    }
    if (implicit)
        n->taints[n->ntaints++] = (struct reef_sched_taint){implicit, "", REEF_SCHED_NO_SCHEDULE};
    reef_json_doc_free(&d);
    n->mem_ = mem;
    *out = n;
    return 0;
nomem:
    reef_json_doc_free(&d);
    reef__sched_free_all(mem);
    return reef_err_set(err, -ENOMEM, "out of memory");
}
