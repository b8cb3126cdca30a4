/* scheduler: the cluster model, the filters, the scores and kube-scheduler's FitError message. */
#include "orchestrate/scheduler.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/scheduler_int.h"

/* Replicas of one controller on each node slot. */
struct owner {
    char *uid;
    int *counts;
    size_t cap;
};

struct reef_sched_cluster {
    struct reef_sched_node **nodes; /* by slot; slots are never freed, a gone node is a ghost */
    size_t nslots, cap;
    size_t present;
    int *index; /* open addressing: name -> slot + 1 */
    size_t index_cap;
    struct owner **owners; /* open addressing by uid */
    size_t nowners, owners_cap;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

struct reef_sched_cluster *reef_sched_cluster_new(void)
{
    return calloc(1, sizeof(struct reef_sched_cluster));
}

static void free_node(struct reef_sched_node *n)
{
    if (!n)
        return;
    free(n->used_ports);
    reef__sched_node_free(n);
}

void reef_sched_cluster_free(struct reef_sched_cluster *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nslots; i++)
        free_node(c->nodes[i]);
    for (size_t i = 0; i < c->owners_cap; i++) {
        if (c->owners[i]) {
            free(c->owners[i]->uid);
            free(c->owners[i]->counts);
            free(c->owners[i]);
        }
    }
    free(c->owners);
    free(c->nodes);
    free(c->index);
    free(c);
}

static int find_slot(const struct reef_sched_cluster *c, const char *name)
{
    if (!c->index_cap)
        return -1;
    for (size_t i = hash(name) & (c->index_cap - 1);; i = (i + 1) & (c->index_cap - 1)) {
        int s = c->index[i] - 1;
        if (s < 0)
            return -1;
        if (strcmp(c->nodes[s]->name, name) == 0)
            return s;
    }
}

static void index_put(struct reef_sched_cluster *c, int slot)
{
    size_t i = hash(c->nodes[slot]->name) & (c->index_cap - 1);
    while (c->index[i])
        i = (i + 1) & (c->index_cap - 1);
    c->index[i] = slot + 1;
}

/* Appends n as a new slot. */
static int add_slot(struct reef_sched_cluster *c, struct reef_sched_node *n)
{
    if (c->nslots == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        void *p = realloc(c->nodes, cap * sizeof(*c->nodes));
        if (!p)
            return -ENOMEM;
        c->nodes = p;
        c->cap = cap;
    }
    if ((c->nslots + 1) * 2 > c->index_cap) {
        size_t cap = c->index_cap ? c->index_cap * 2 : 32;
        int *idx = calloc(cap, sizeof(int));
        if (!idx)
            return -ENOMEM;
        free(c->index);
        c->index = idx;
        c->index_cap = cap;
        for (size_t s = 0; s < c->nslots; s++)
            index_put(c, (int)s);
    }
    int slot = (int)c->nslots++;
    c->nodes[slot] = n;
    index_put(c, slot);
    return slot;
}

static struct reef_sched_node *ghost(const char *name)
{
    void *mem = NULL;
    struct reef_sched_node *g = reef__sched_alloc(&mem, sizeof(*g));
    char *nm = g ? reef__sched_alloc(&mem, strlen(name) + 1) : NULL;
    if (!nm) {
        reef__sched_free_all(mem);
        return NULL;
    }
    strcpy(nm, name);
    g->name = nm;
    g->mem_ = mem;
    return g;
}

/* Moves the usage of old onto n. */
static void take_usage(struct reef_sched_node *n, struct reef_sched_node *old)
{
    n->used_cpu = old->used_cpu;
    n->used_mem = old->used_mem;
    n->used_pods = old->used_pods;
    n->used_nz_cpu = old->used_nz_cpu;
    n->used_nz_mem = old->used_nz_mem;
    n->used_ports = old->used_ports;
    n->nused_ports = old->nused_ports;
    n->cap_used_ports = old->cap_used_ports;
    old->used_ports = NULL;
}

int reef_sched_cluster_slot(struct reef_sched_cluster *c, const char *name, bool create)
{
    int s = find_slot(c, name);
    if (s >= 0 || !create)
        return s;
    struct reef_sched_node *g = ghost(name);
    if (!g)
        return -ENOMEM;
    s = add_slot(c, g);
    if (s < 0)
        free_node(g);
    return s;
}

int reef_sched_cluster_set_node(struct reef_sched_cluster *c, const char *json, size_t len,
                                int *slot, struct reef_err *err)
{
    struct reef_sched_node *n;
    int r = reef__sched_node_parse(json, len, &n, err);
    if (r < 0)
        return r;
    if (!n->name[0]) {
        free_node(n);
        return reef_err_set(err, -EINVAL, "node without a name");
    }
    int s = find_slot(c, n->name);
    if (s >= 0) {
        struct reef_sched_node *old = c->nodes[s];
        take_usage(n, old);
        if (!old->present)
            c->present++;
        free_node(old);
        c->nodes[s] = n;
    } else {
        s = add_slot(c, n);
        if (s < 0) {
            free_node(n);
            return reef_err_set(err, -ENOMEM, "out of memory");
        }
        c->present++;
    }
    if (slot)
        *slot = s;
    return 0;
}

void reef_sched_cluster_remove_node(struct reef_sched_cluster *c, const char *name)
{
    int s = find_slot(c, name);
    if (s < 0 || !c->nodes[s]->present)
        return;
    struct reef_sched_node *old = c->nodes[s], *g = ghost(name);
    if (!g) { /* keep the node but make it no candidate */
        old->present = false;
    } else {
        take_usage(g, old);
        free_node(old);
        c->nodes[s] = g;
    }
    c->present--;
}

struct reef_sched_node *reef_sched_cluster_node(struct reef_sched_cluster *c, int slot)
{
    return slot >= 0 && (size_t)slot < c->nslots ? c->nodes[slot] : NULL;
}

size_t reef_sched_cluster_nodes(const struct reef_sched_cluster *c)
{
    return c->present;
}

/* ---- owners ---- */

static struct owner *owner_find(const struct reef_sched_cluster *c, const char *uid)
{
    if (!c->owners_cap || !uid[0])
        return NULL;
    for (size_t i = hash(uid) & (c->owners_cap - 1);; i = (i + 1) & (c->owners_cap - 1)) {
        struct owner *o = c->owners[i];
        if (!o || strcmp(o->uid, uid) == 0)
            return o;
    }
}

static void owner_put(struct owner **tab, size_t cap, struct owner *o)
{
    size_t i = hash(o->uid) & (cap - 1);
    while (tab[i])
        i = (i + 1) & (cap - 1);
    tab[i] = o;
}

static struct owner *owner_get(struct reef_sched_cluster *c, const char *uid)
{
    struct owner *o = owner_find(c, uid);
    if (o)
        return o;
    if ((c->nowners + 1) * 2 > c->owners_cap) {
        size_t cap = c->owners_cap ? c->owners_cap * 2 : 64;
        struct owner **tab = calloc(cap, sizeof(*tab));
        if (!tab)
            return NULL;
        for (size_t i = 0; i < c->owners_cap; i++)
            if (c->owners[i])
                owner_put(tab, cap, c->owners[i]);
        free(c->owners);
        c->owners = tab;
        c->owners_cap = cap;
    }
    o = calloc(1, sizeof(*o));
    if (!o || !(o->uid = strdup(uid))) {
        free(o);
        return NULL;
    }
    owner_put(c->owners, c->owners_cap, o);
    c->nowners++;
    return o;
}

int reef_sched_cluster_account(struct reef_sched_cluster *c, const struct reef_sched_pod *p,
                               int slot, int sign)
{
    struct reef_sched_node *n = reef_sched_cluster_node(c, slot);
    if (REEF_NEVER(!n))
        return -EINVAL;
    if (sign > 0) {
        struct owner *o = p->owner_uid[0] ? owner_get(c, p->owner_uid) : NULL;
        if (p->owner_uid[0] && !o)
            return -ENOMEM;
        if (o && (size_t)slot >= o->cap) {
            size_t cap = c->cap > (size_t)slot ? c->cap : (size_t)slot + 1;
            int *cn = realloc(o->counts, cap * sizeof(int));
            if (!cn)
                return -ENOMEM;
            memset(cn + o->cap, 0, (cap - o->cap) * sizeof(int));
            o->counts = cn;
            o->cap = cap;
        }
        if (n->nused_ports + p->nports > n->cap_used_ports) {
            size_t cap = (n->nused_ports + p->nports) * 2;
            void *np = realloc(n->used_ports, cap * sizeof(*n->used_ports));
            if (!np)
                return -ENOMEM;
            n->used_ports = np;
            n->cap_used_ports = cap;
        }
        for (size_t i = 0; i < p->nports; i++)
            n->used_ports[n->nused_ports++] = p->ports[i];
        if (o)
            o->counts[slot]++;
    } else {
        /* the pod's own entries: same ip pointer (into the pod), port and protocol */
        for (size_t i = 0; i < p->nports; i++) {
            for (size_t j = 0; j < n->nused_ports; j++) {
                struct reef_sched_port *u = &n->used_ports[j];
                if (u->ip == p->ports[i].ip && u->port == p->ports[i].port &&
                    u->proto == p->ports[i].proto) {
                    *u = n->used_ports[--n->nused_ports];
                    break;
                }
            }
        }
        struct owner *o = owner_find(c, p->owner_uid);
        if (o && (size_t)slot < o->cap && o->counts[slot] > 0)
            o->counts[slot]--;
    }
    n->used_cpu += sign * p->cpu;
    n->used_mem += sign * p->mem;
    n->used_nz_cpu += sign * p->nz_cpu;
    n->used_nz_mem += sign * p->nz_mem;
    n->used_pods += sign;
    return 0;
}

/* ---- filters (kube-scheduler's order: NodeUnschedulable, TaintToleration, NodeAffinity,
 * NodePorts, NodeResourcesFit; the first plugin that fails decides the node's reasons) ---- */

enum {
    W_UNSCHEDULABLE = 1,
    W_TAINT = 2,
    W_AFFINITY = 4,
    W_PORTS = 8,
    W_PODS = 16,
    W_CPU = 32,
    W_MEM = 64,
};

struct why {
    unsigned bits;
    const struct reef_sched_taint *taint;
    bool unresolvable;
};

static bool tolerates(const struct reef_sched_toleration *t, const char *key, const char *value,
                      enum reef_sched_effect effect)
{
    if (t->effect == REEF_SCHED_UNKNOWN_EFFECT ||
        (t->effect != REEF_SCHED_ANY && t->effect != effect))
        return false;
    if (t->key[0] && strcmp(t->key, key) != 0)
        return false;
    return t->exists || strcmp(t->value, value) == 0;
}

static bool tolerated(const struct reef_sched_pod *p, const char *key, const char *value,
                      enum reef_sched_effect effect)
{
    for (size_t i = 0; i < p->ntols; i++)
        if (tolerates(&p->tols[i], key, value, effect))
            return true;
    return false;
}

static const char *label(const struct reef_sched_node *n, const char *key)
{
    for (size_t i = 0; i < n->nlabels; i++)
        if (strcmp(n->labels[i].key, key) == 0)
            return n->labels[i].value;
    return NULL;
}

static bool in_values(const struct reef_sched_expr *e, const char *v)
{
    for (size_t i = 0; i < e->nvalues; i++)
        if (strcmp(e->values[i], v) == 0)
            return true;
    return false;
}

static bool to_int(const char *s, long long *out)
{
    return s && reef_str_to_ll(s, INT64_MIN, INT64_MAX, out) == 0;
}

static bool expr_match(const struct reef_sched_expr *e, const char *v)
{
    long long a, b;
    switch (e->op) {
    case REEF_SCHED_IN:
        return v && in_values(e, v);
    case REEF_SCHED_NOT_IN:
        return !v || !in_values(e, v);
    case REEF_SCHED_EXISTS:
        return v != NULL;
    case REEF_SCHED_DOES_NOT_EXIST:
        return v == NULL;
    case REEF_SCHED_GT:
    case REEF_SCHED_LT:
        if (e->nvalues != 1 || !to_int(v, &a) || !to_int(e->values[0], &b))
            return false;
        return e->op == REEF_SCHED_GT ? a > b : a < b;
    }
    return false;
}

static bool term_match(const struct reef_sched_term *t, const struct reef_sched_node *n)
{
    if (!t->nexprs && !t->nfields)
        return false; /* an empty term matches no node */
    for (size_t i = 0; i < t->nexprs; i++)
        if (!expr_match(&t->exprs[i], label(n, t->exprs[i].key)))
            return false;
    for (size_t i = 0; i < t->nfields; i++) {
        const struct reef_sched_expr *e = &t->fields[i];
        if (strcmp(e->key, "metadata.name") != 0 ||
            (e->op != REEF_SCHED_IN && e->op != REEF_SCHED_NOT_IN) || !expr_match(e, n->name))
            return false;
    }
    return true;
}

static bool affinity_match(const struct reef_sched_pod *p, const struct reef_sched_node *n)
{
    for (size_t i = 0; i < p->nselector; i++) {
        const char *v = label(n, p->selector[i].key);
        if (!v || strcmp(v, p->selector[i].value) != 0)
            return false;
    }
    if (!p->has_required)
        return true;
    for (size_t i = 0; i < p->nterms; i++)
        if (term_match(&p->terms[i], n))
            return true;
    return false;
}

static bool wildcard_ip(const char *ip)
{
    return !ip[0] || strcmp(ip, "0.0.0.0") == 0 || strcmp(ip, "::") == 0;
}

static bool ports_conflict(const struct reef_sched_pod *p, const struct reef_sched_node *n)
{
    for (size_t i = 0; i < p->nports; i++) {
        const struct reef_sched_port *a = &p->ports[i];
        for (size_t j = 0; j < n->nused_ports; j++) {
            const struct reef_sched_port *b = &n->used_ports[j];
            if (a->port == b->port && a->proto == b->proto &&
                (wildcard_ip(a->ip) || wildcard_ip(b->ip) || strcmp(a->ip, b->ip) == 0))
                return true;
        }
    }
    return false;
}

static bool filter_node(const struct reef_sched_pod *p, const struct reef_sched_node *n,
                        struct why *w)
{
    *w = (struct why){0};
    if (n->unschedulable &&
        !tolerated(p, "node.kubernetes.io/unschedulable", "", REEF_SCHED_NO_SCHEDULE)) {
        w->bits = W_UNSCHEDULABLE;
        w->unresolvable = true;
        return false;
    }
    for (size_t i = 0; i < n->ntaints; i++) {
        const struct reef_sched_taint *t = &n->taints[i];
        if (t->effect != REEF_SCHED_NO_SCHEDULE && t->effect != REEF_SCHED_NO_EXECUTE)
            continue;
        if (!tolerated(p, t->key, t->value, t->effect)) {
            w->bits = W_TAINT;
            w->taint = t;
            w->unresolvable = true;
            return false;
        }
    }
    if (!affinity_match(p, n)) {
        w->bits = W_AFFINITY;
        w->unresolvable = true;
        return false;
    }
    if (p->nports && ports_conflict(p, n)) {
        w->bits = W_PORTS;
        return false;
    }
    if (n->used_pods + 1 > n->alloc_pods)
        w->bits |= W_PODS;
    if (p->cpu > 0 && p->cpu > n->alloc_cpu - n->used_cpu) {
        w->bits |= W_CPU;
        w->unresolvable |= p->cpu > n->alloc_cpu;
    }
    if (p->mem > 0 && p->mem > n->alloc_mem - n->used_mem) {
        w->bits |= W_MEM;
        w->unresolvable |= p->mem > n->alloc_mem;
    }
    return w->bits == 0;
}

static const char *const fixed_reasons[] = {
    "node(s) were unschedulable",
    NULL, /* the taint's own text */
    "node(s) didn't match Pod's node affinity/selector",
    "node(s) didn't have free ports for the requested pod ports",
    "Too many pods",
    "Insufficient cpu",
    "Insufficient memory",
};

/* Calls fn for each reason of w, in kube-scheduler's order. */
static void each_reason(const struct why *w, void (*fn)(void *arg, const char *reason), void *arg)
{
    for (size_t b = 0; b < REEF_ARRAY_LEN(fixed_reasons); b++) {
        if (!(w->bits & (1u << b)))
            continue;
        if (b == 1) {
            char t[600];
            snprintf(t, sizeof(t), "node(s) had untolerated taint {%s: %s}", w->taint->key,
                     w->taint->value);
            fn(arg, t);
        } else {
            fn(arg, fixed_reasons[b]);
        }
    }
}

struct joined {
    char *out;
    size_t size, len;
};

static void join_reason(void *arg, const char *reason)
{
    struct joined *j = arg;
    if (j->len >= j->size)
        return;
    int n = snprintf(j->out + j->len, j->size - j->len, "%s%s", j->len ? ", " : "", reason);
    if (n > 0)
        j->len += (size_t)n;
}

int reef_sched_filter(const struct reef_sched_cluster *c, const struct reef_sched_pod *p, int slot,
                      char *why, size_t size)
{
    if (size)
        why[0] = '\0';
    if (slot < 0 || (size_t)slot >= c->nslots)
        return 1;
    struct why w;
    if (filter_node(p, c->nodes[slot], &w))
        return 0;
    struct joined j = {why, size, 0};
    each_reason(&w, join_reason, &j);
    return w.unresolvable ? 1 : 2;
}

/* ---- the message ---- */

struct hist {
    struct {
        char reason[600];
        int count;
    } e[32];
    size_t n;
};

static void count_reason(void *arg, const char *reason)
{
    struct hist *h = arg;
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->e[i].reason, reason) == 0) {
            h->e[i].count++;
            return;
        }
    }
    if (h->n == REEF_ARRAY_LEN(h->e))
        return; /* a 33rd distinct taint: left out of the message */
    snprintf(h->e[h->n].reason, sizeof(h->e[h->n].reason), "%s", reason);
    h->e[h->n++].count = 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "1 x, 2 y" from h, sorted as Go's sort.Strings sorts the "count reason" strings. */
static void histogram(const struct hist *h, struct joined *j)
{
    char items[32][620];
    char *ptr[32];
    for (size_t i = 0; i < h->n; i++) {
        snprintf(items[i], sizeof(items[i]), "%d %s", h->e[i].count, h->e[i].reason);
        ptr[i] = items[i];
    }
    qsort(ptr, h->n, sizeof(ptr[0]), cmp_str);
    for (size_t i = 0; i < h->n; i++)
        join_reason(j, ptr[i]);
}

static void appendf(char *out, size_t size, const char *fmt, ...) REEF_PRINTF(3, 4);
static void appendf(char *out, size_t size, const char *fmt, ...)
{
    size_t len = strlen(out);
    if (len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + len, size - len, fmt, ap);
    va_end(ap);
}

/* ---- scores ---- */

static int64_t least(int64_t cap, int64_t req)
{
    if (cap <= 0 || req > cap)
        return 0;
    return (cap - req) * 100 / cap;
}

struct cand {
    int slot;
    int64_t base; /* least allocated */
    int count;    /* replicas of the pod's owner there */
};

#define SPREAD_WEIGHT 2 /* PodTopologySpread's weight in the default profile */

void reef_sched_pick(const struct reef_sched_cluster *c, const struct reef_sched_pod *p,
                     struct reef_sched_result *out)
{
    out->slot = -1;
    out->score = 0;
    out->feasible = 0;
    out->message[0] = '\0';
    if (c->present == 0) {
        snprintf(out->message, sizeof(out->message), "no nodes available to schedule pods");
        return;
    }
    struct cand stack[256];
    struct cand *cands =
        c->present <= REEF_ARRAY_LEN(stack) ? stack : malloc(c->present * sizeof(*cands));
    struct hist *h = NULL;
    size_t unresolvable = 0, nf = 0;
    const struct owner *o = owner_find(c, p->owner_uid);
    int maxc = 0;
    for (size_t s = 0; s < c->nslots; s++) {
        const struct reef_sched_node *n = c->nodes[s];
        if (!n->present)
            continue;
        struct why w;
        if (filter_node(p, n, &w)) {
            int cnt = o && s < o->cap ? o->counts[s] : 0;
            if (cnt > maxc)
                maxc = cnt;
            if (cands) {
                int64_t la = (least(n->alloc_cpu, n->used_nz_cpu + p->nz_cpu) +
                              least(n->alloc_mem, n->used_nz_mem + p->nz_mem)) /
                             2;
                cands[nf] = (struct cand){(int)s, la, cnt};
            }
            nf++;
            continue;
        }
        if (nf == 0) { /* the reasons only matter when nothing fits */
            if (!h && !(h = calloc(1, sizeof(*h))))
                continue;
            each_reason(&w, count_reason, h);
            unresolvable += w.unresolvable;
        }
    }
    out->feasible = nf;
    if (nf > 0) {
        if (!cands) { /* out of memory for the scores: the first node that fits */
            for (size_t s = 0; s < c->nslots && out->slot < 0; s++) {
                struct why w;
                if (c->nodes[s]->present && filter_node(p, c->nodes[s], &w))
                    out->slot = (int)s;
            }
        }
        for (size_t i = 0; cands && i < nf; i++) {
            int64_t spread = maxc ? (int64_t)(maxc - cands[i].count) * 100 / maxc : 100;
            int64_t score = cands[i].base + SPREAD_WEIGHT * spread;
            if (out->slot < 0 || score > out->score ||
                (score == out->score &&
                 strcmp(c->nodes[cands[i].slot]->name, c->nodes[out->slot]->name) < 0)) {
                out->slot = cands[i].slot;
                out->score = score;
            }
        }
    } else {
        size_t total = c->present;
        snprintf(out->message, sizeof(out->message), "0/%zu nodes are available", total);
        if (h && h->n) {
            char body[REEF_SCHED_MSG_MAX] = "";
            struct joined j = {body, sizeof(body), 0};
            histogram(h, &j);
            appendf(out->message, sizeof(out->message), ": %s.", body);
        } else {
            appendf(out->message, sizeof(out->message), ".");
        }
        if (p->never_preempt) {
            appendf(out->message, sizeof(out->message),
                    " preemption: not eligible due to preemptionPolicy=Never.");
        } else {
            /* reef never preempts: nodes where removing pods could help report that no victim
             * was found, as kube-scheduler does when no pod has a lower priority */
            struct hist ph = {0};
            if (unresolvable) {
                snprintf(ph.e[ph.n].reason, sizeof(ph.e[0].reason), "%s",
                         "Preemption is not helpful for scheduling");
                ph.e[ph.n++].count = (int)unresolvable;
            }
            if (total > unresolvable) {
                snprintf(ph.e[ph.n].reason, sizeof(ph.e[0].reason), "%s",
                         "No preemption victims found for incoming pod");
                ph.e[ph.n++].count = (int)(total - unresolvable);
            }
            char body[REEF_SCHED_MSG_MAX] = "";
            struct joined j = {body, sizeof(body), 0};
            histogram(&ph, &j);
            appendf(out->message, sizeof(out->message),
                    " preemption: 0/%zu nodes are available: %s.", total, body);
        }
    }
    if (cands != stack)
        free(cands);
    free(h);
}
