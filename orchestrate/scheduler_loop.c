/* scheduler: the control loop. Keeps the cluster model current from watches on nodes and pods,
 * queues pending pods, and writes bindings, PodScheduled conditions and events through the API.
 *
 * Queue states, as kube-scheduler's: active (a cycle is due), back-off (tried and failed, waiting
 * out 1 s doubling to 10 s), unschedulable (waiting for a change that could help: a node added
 * or changed in what scheduling reads, a pod gone or finished; or 60 s at the latest). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/scheduler_int.h"

/* ---- a string-keyed hash map (open addressing, tombstones) ---- */

#define TOMB ((char *)1)

struct smap {
    struct sent {
        char *key; /* NULL: empty; TOMB: deleted */
        void *val;
    } * e;
    size_t cap, n, used;
};

static uint64_t shash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static struct sent *smap_find(const struct smap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = shash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        struct sent *e = &m->e[i];
        if (!e->key)
            return NULL;
        if (e->key != TOMB && strcmp(e->key, key) == 0)
            return e;
    }
}

static void *smap_get(const struct smap *m, const char *key)
{
    struct sent *e = smap_find(m, key);
    return e ? e->val : NULL;
}

/* Inserts key (copied) -> val; key must be absent. 0 or -ENOMEM. */
static int smap_put(struct smap *m, const char *key, void *val)
{
    if ((m->used + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? (m->n * 2 >= m->cap ? m->cap * 2 : m->cap) : 64;
        struct sent *ne = calloc(cap, sizeof(*ne));
        if (!ne)
            return -ENOMEM;
        for (size_t i = 0; i < m->cap; i++) {
            struct sent *o = &m->e[i];
            if (!o->key || o->key == TOMB)
                continue;
            size_t j = shash(o->key) & (cap - 1);
            while (ne[j].key)
                j = (j + 1) & (cap - 1);
            ne[j] = *o;
        }
        free(m->e);
        m->e = ne;
        m->cap = cap;
        m->used = m->n;
    }
    char *k = strdup(key);
    if (!k)
        return -ENOMEM;
    size_t i = shash(key) & (m->cap - 1);
    while (m->e[i].key && m->e[i].key != TOMB)
        i = (i + 1) & (m->cap - 1);
    if (!m->e[i].key)
        m->used++;
    m->e[i] = (struct sent){k, val};
    m->n++;
    return 0;
}

static void *smap_del(struct smap *m, const char *key)
{
    struct sent *e = smap_find(m, key);
    if (!e)
        return NULL;
    void *v = e->val;
    free(e->key);
    e->key = TOMB;
    e->val = NULL;
    m->n--;
    return v;
}

/* ---- state ---- */

enum qstate { Q_ACTIVE, Q_BACKOFF, Q_UNSCHED };

struct qent {
    struct qent *prev, *next; /* in the list of its state */
    enum qstate state;
    unsigned attempts;
    uint64_t ready_at;  /* back-off ends (loop ms) */
    uint64_t since;     /* unschedulable since */
    int64_t generation; /* of the pod when it was last tried */
    char key[];         /* "ns/name" */
};

struct qlist {
    struct qent *head, *tail;
    size_t n;
};

/* A pod bound to a node and accounted there. */
struct bound {
    struct reef_sched_pod *p;
    int slot;
    bool assumed; /* accounted by the scheduler before the binding's write was seen */
};

struct reef_scheduler {
    struct reef_ctl_env env;
    struct reef_sched_cluster *cluster;
    struct reef_store_watch *wnodes, *wpods;
    uv_timer_t *timer; /* a separate allocation: it outlives the scheduler until closed */
    struct smap queue; /* key -> struct qent */
    struct smap bound; /* key -> struct bound */
    struct qlist lists[3];
    uint64_t backoff_due; /* no back-off list entry is due before this (may be early) */
    uint64_t backoff_initial, backoff_max, flush_ms;
    bool in_cycle;
    bool starting; /* the first list of every pod is coming: no per-node lists */
    struct reef_scheduler_stats stats;
};

static void q_unlink(struct reef_scheduler *s, struct qent *q)
{
    struct qlist *l = &s->lists[q->state];
    if (q->prev)
        q->prev->next = q->next;
    else
        l->head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        l->tail = q->prev;
    q->prev = q->next = NULL;
    l->n--;
}

static void q_link(struct reef_scheduler *s, struct qent *q, enum qstate st)
{
    struct qlist *l = &s->lists[st];
    q->state = st;
    q->prev = l->tail;
    q->next = NULL;
    if (l->tail)
        l->tail->next = q;
    else
        l->head = q;
    l->tail = q;
    l->n++;
}

static void q_move(struct reef_scheduler *s, struct qent *q, enum qstate st)
{
    q_unlink(s, q);
    q_link(s, q, st);
    if (st == Q_BACKOFF && (s->lists[Q_BACKOFF].n == 1 || q->ready_at < s->backoff_due))
        s->backoff_due = q->ready_at;
}

static void arm(struct reef_scheduler *s);

static void q_remove(struct reef_scheduler *s, const char *key)
{
    struct qent *q = smap_del(&s->queue, key);
    if (q) {
        q_unlink(s, q);
        free(q);
    }
}

/* A pending pod of ours was seen (created, listed or updated). */
static void q_offer(struct reef_scheduler *s, const char *key, int64_t generation)
{
    struct qent *q = smap_get(&s->queue, key);
    if (q) {
        /* a change of the pod's spec may make it fit: retry after its back-off */
        if (q->state == Q_UNSCHED && generation != q->generation)
            q_move(s, q, Q_BACKOFF);
        arm(s);
        return;
    }
    size_t n = strlen(key) + 1;
    q = calloc(1, sizeof(*q) + n);
    if (!q || smap_put(&s->queue, key, q) < 0) {
        free(q);
        LOG_ERROR("scheduler", "out of memory queueing pod %s", key);
        return;
    }
    memcpy(q->key, key, n);
    q->generation = generation;
    q_link(s, q, Q_ACTIVE);
    arm(s);
}

/* Something changed that could let unschedulable pods fit. */
static void cluster_changed(struct reef_scheduler *s)
{
    while (s->lists[Q_UNSCHED].head)
        q_move(s, s->lists[Q_UNSCHED].head, Q_BACKOFF);
    arm(s);
}

/* ---- accounting ---- */

static void unaccount(struct reef_scheduler *s, const char *key, bool *freed)
{
    struct bound *b = smap_del(&s->bound, key);
    if (!b)
        return;
    reef_sched_cluster_account(s->cluster, b->p, b->slot, -1);
    reef_sched_pod_free(b->p);
    free(b);
    if (freed)
        *freed = true;
}

static void list_node_pods(struct reef_scheduler *s, const char *node);

/* Accounts p (taken) under key on its node, replacing what key held. */
static void account(struct reef_scheduler *s, const char *key, struct reef_sched_pod *p,
                    bool assumed, const char *node)
{
    unaccount(s, key, NULL);
    int slot = reef_sched_cluster_slot(s->cluster, node, false);
    bool fresh = slot < 0;
    if (fresh)
        slot = reef_sched_cluster_slot(s->cluster, node, true);
    struct bound *b = slot >= 0 ? calloc(1, sizeof(*b)) : NULL;
    if (!b || smap_put(&s->bound, key, b) < 0) {
        free(b);
        reef_sched_pod_free(p);
        LOG_ERROR("scheduler", "out of memory accounting pod %s", key);
        return;
    }
    *b = (struct bound){p, slot, assumed};
    if (reef_sched_cluster_account(s->cluster, p, slot, +1) < 0) {
        /* nothing was added: forget the pod rather than subtract it later */
        smap_del(&s->bound, key);
        free(b);
        reef_sched_pod_free(p);
        LOG_ERROR("scheduler", "out of memory accounting pod %s", key);
        return;
    }
    if (fresh && !s->starting)
        list_node_pods(s, node); /* pods bound before this node was known */
}

static void pod_key(char *out, size_t size, const char *ns, const char *name)
{
    snprintf(out, size, "%s/%s", ns, name);
}

/* A pod's state as read from the store or a watch. */
static void pod_seen(struct reef_scheduler *s, const char *ns, const char *name, const char *json,
                     size_t len)
{
    char key[2 * REEF_STORE_MAX_NAME + 2];
    pod_key(key, sizeof(key), ns, name);
    struct reef_sched_pod *p;
    struct reef_err err = {0};
    if (reef_sched_pod_parse(json, len, &p, &err) < 0) {
        LOG_WARN("scheduler", "pod %s: %s", key, err.msg);
        q_remove(s, key);
        return;
    }
    if (p->node_name[0]) {
        q_remove(s, key);
        if (p->terminal) {
            bool freed = false;
            unaccount(s, key, &freed);
            reef_sched_pod_free(p);
            if (freed)
                cluster_changed(s);
            return;
        }
        struct bound *b = smap_get(&s->bound, key);
        bool moved = b && strcmp(b->p->node_name, p->node_name) != 0;
        char node[REEF_STORE_MAX_NAME + 1];
        reef_strlcpy(node, p->node_name, sizeof(node));
        account(s, key, p, false, node);
        if (moved)
            cluster_changed(s);
        return;
    }
    bool ours = strcmp(p->scheduler_name, "default-scheduler") == 0;
    if (ours && !p->deleting && !p->terminal && !p->gated)
        q_offer(s, key, p->generation);
    else
        q_remove(s, key);
    reef_sched_pod_free(p);
}

struct lister {
    struct reef_scheduler *s;
    struct item {
        char ns[REEF_STORE_MAX_NAME + 1], name[REEF_STORE_MAX_NAME + 1];
        char *json;
        size_t len;
    } * items;
    size_t n, cap;
};

/* List callbacks may not write, and accounting can list again: collect, then handle. */
static int collect(void *arg, const struct reef_store_item *it)
{
    struct lister *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        void *p = realloc(l->items, cap * sizeof(*l->items));
        if (!p)
            return -ENOMEM;
        l->items = p;
        l->cap = cap;
    }
    struct item *i = &l->items[l->n];
    reef_strlcpy(i->ns, it->namespace, sizeof(i->ns));
    reef_strlcpy(i->name, it->name, sizeof(i->name));
    i->json = reef_strndup(it->object, it->len);
    if (!i->json)
        return -ENOMEM;
    i->len = it->len;
    l->n++;
    return 0;
}

static void lister_free(struct lister *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].json);
    free(l->items);
}

static int list_pods(struct reef_scheduler *s, const char *node, struct reef_err *err)
{
    struct lister l = {.s = s};
    struct reef_store_list_opts o = {.node_name = node};
    int r = reef_store_list(s->env.store, "pods", &o, collect, &l, NULL, err);
    for (size_t i = 0; r == 0 && i < l.n; i++)
        pod_seen(s, l.items[i].ns, l.items[i].name, l.items[i].json, l.items[i].len);
    lister_free(&l);
    return r;
}

static void list_node_pods(struct reef_scheduler *s, const char *node)
{
    struct reef_err err = {0};
    char copy[REEF_STORE_MAX_NAME + 1];
    reef_strlcpy(copy, node, sizeof(copy));
    if (list_pods(s, copy, &err) < 0)
        LOG_ERROR("scheduler", "listing the pods of node %s: %s", copy, err.msg);
}

/* What scheduling reads of a node, hashed: a heartbeat changes none of it. */
static uint64_t node_sig(const struct reef_sched_node *n)
{
    if (!n || !n->present)
        return 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%d/%lld/%lld/%lld", n->unschedulable, (long long)n->alloc_cpu,
             (long long)n->alloc_mem, (long long)n->alloc_pods);
    uint64_t h = shash(buf);
    for (size_t i = 0; i < n->nlabels; i++)
        h = (h ^ shash(n->labels[i].key) ^ (shash(n->labels[i].value) << 1)) * 31;
    for (size_t i = 0; i < n->ntaints; i++)
        h = (h ^ shash(n->taints[i].key) ^ (shash(n->taints[i].value) << 1) ^
             (uint64_t)n->taints[i].effect) *
            37;
    return h | 1;
}

static void node_seen(struct reef_scheduler *s, const char *name, const char *json, size_t len)
{
    int old = reef_sched_cluster_slot(s->cluster, name, false);
    uint64_t before = node_sig(reef_sched_cluster_node(s->cluster, old));
    struct reef_err err = {0};
    int slot;
    if (reef_sched_cluster_set_node(s->cluster, json, len, &slot, &err) < 0) {
        LOG_WARN("scheduler", "node %s: %s", name, err.msg);
        return;
    }
    if (old < 0 && !s->starting)
        list_node_pods(s, name); /* pods bound before this node was known */
    if (node_sig(reef_sched_cluster_node(s->cluster, slot)) != before)
        cluster_changed(s);
}

static void on_node(void *arg, const struct reef_store_event *ev)
{
    struct reef_scheduler *s = arg;
    if (ev->type == REEF_STORE_DELETED)
        reef_sched_cluster_remove_node(s->cluster, ev->name);
    else
        node_seen(s, ev->name, ev->object, ev->len);
}

static void on_pod(void *arg, const struct reef_store_event *ev)
{
    struct reef_scheduler *s = arg;
    if (ev->type != REEF_STORE_DELETED)
        return pod_seen(s, ev->namespace, ev->name, ev->object, ev->len);
    char key[2 * REEF_STORE_MAX_NAME + 2];
    pod_key(key, sizeof(key), ev->namespace, ev->name);
    q_remove(s, key);
    bool freed = false;
    unaccount(s, key, &freed);
    if (freed)
        cluster_changed(s);
}

/* ---- one scheduling cycle ---- */

static void split_key(const char *key, char *ns, char *name)
{
    const char *slash = strchr(key, '/');
    size_t n = (size_t)(slash - key);
    memcpy(ns, key, n);
    ns[n] = '\0';
    reef_strlcpy(name, slash + 1, REEF_STORE_MAX_NAME + 1);
}

/* The PodScheduled condition of the stored pod equals (False, Unschedulable, msg)? Its
 * lastTransitionTime when it was False already. */
static bool condition_same(const char *json, size_t len, const char *msg, char *since, size_t size)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    bool same = false;
    since[0] = '\0';
    if (reef_json_parse(&d, json, len, NULL, NULL) == 0) {
        struct reef_json_iter it =
            reef_json_iter(&d, reef_json_find(&d, REEF_JSON_ROOT, "status.conditions", NULL));
        while (reef_json_next(&d, &it)) {
            if (!reef_json_str_eq(&d, reef_json_member(&d, it.val, "type"), "PodScheduled"))
                continue;
            if (!reef_json_str_eq(&d, reef_json_member(&d, it.val, "status"), "False"))
                break;
            int t = reef_json_member(&d, it.val, "lastTransitionTime");
            if (t < 0 || reef_json_get_str(&d, t, since, size, NULL) < 0)
                since[0] = '\0';
            same = reef_json_str_eq(&d, reef_json_member(&d, it.val, "reason"), "Unschedulable") &&
                   reef_json_str_eq(&d, reef_json_member(&d, it.val, "message"), msg);
        }
    }
    reef_json_doc_free(&d);
    return same;
}

static void report_unschedulable(struct reef_scheduler *s, const char *ns, const char *name,
                                 const char *json, size_t len, const char *msg)
{
    char since[40];
    if (!condition_same(json, len, msg, since, sizeof(since))) {
        if (!since[0])
            reef_ctl_time(reef__api_now_ms(), since);
        struct reef_buf b = REEF_BUF_INIT;
        struct reef_json_writer w;
        reef_json_writer_init(&w, &b, 0);
        reef_json_begin_object(&w);
        reef_json_key(&w, "status");
        reef_json_begin_object(&w);
        reef_json_key(&w, "conditions");
        reef_json_begin_array(&w);
        reef_json_begin_object(&w);
        reef_json_key(&w, "type");
        reef_json_put_str(&w, "PodScheduled");
        reef_json_key(&w, "status");
        reef_json_put_str(&w, "False");
        reef_json_key(&w, "lastProbeTime");
        reef_json_put_null(&w);
        reef_json_key(&w, "lastTransitionTime");
        reef_json_put_str(&w, since);
        reef_json_key(&w, "reason");
        reef_json_put_str(&w, "Unschedulable");
        reef_json_key(&w, "message");
        reef_json_put_str(&w, msg);
        reef_json_end_object(&w);
        reef_json_end_array(&w);
        reef_json_end_object(&w);
        reef_json_end_object(&w);
        struct reef_err err = {0};
        char path[600];
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/status", ns, name);
        int st =
            reef_json_finish(&w, &err) < 0
                ? -EINVAL
                : reef_ctl_call(&s->env, "PATCH", path, "application/strategic-merge-patch+json",
                                b.data, b.len, NULL, &err);
        if (st != 200)
            LOG_WARN("scheduler", "pod %s/%s: setting PodScheduled: %s", ns, name, err.msg);
        reef_buf_free(&b);
    }
    reef_ctl_event(&s->env, "default-scheduler", NULL, json, len, "Warning", "FailedScheduling",
                   "%s", msg);
}

/* Binds the pod to the node in slot. Returns the HTTP status (or a negative code). */
static int bind_pod(struct reef_scheduler *s, const char *key, const char *ns, const char *name,
                    struct reef_sched_pod *p, int slot)
{
    char node[REEF_STORE_MAX_NAME + 1];
    reef_strlcpy(node, reef_sched_cluster_node(s->cluster, slot)->name, sizeof(node));
    /* assume: account the pod now, so the next cycle sees the node's usage at once */
    account(s, key, p, true, node);
    char path[600];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/binding", ns, name);
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_json_writer w;
    reef_json_writer_init(&w, &b, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "apiVersion");
    reef_json_put_str(&w, "v1");
    reef_json_key(&w, "kind");
    reef_json_put_str(&w, "Binding");
    reef_json_key(&w, "metadata");
    reef_json_begin_object(&w);
    reef_json_key(&w, "name");
    reef_json_put_str(&w, name);
    reef_json_end_object(&w);
    reef_json_key(&w, "target");
    reef_json_begin_object(&w);
    reef_json_key(&w, "kind");
    reef_json_put_str(&w, "Node");
    reef_json_key(&w, "name");
    reef_json_put_str(&w, node);
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    struct reef_err err = {0};
    int st = reef_json_finish(&w, &err) < 0
                 ? -EINVAL
                 : reef_ctl_call(&s->env, "POST", path, NULL, b.data, b.len, NULL, &err);
    reef_buf_free(&b);
    /* on success the pod's watch event replaced the assumption with the stored pod */
    struct bound *bd = smap_get(&s->bound, key);
    if (st != 201 && bd && bd->assumed) {
        unaccount(s, key, NULL);
        LOG_INFO("scheduler", "binding %s to %s: %s", key, node, err.msg);
    }
    return st;
}

static uint64_t backoff(const struct reef_scheduler *s, unsigned attempts)
{
    uint64_t d = s->backoff_initial;
    for (unsigned i = 1; i < attempts && d < s->backoff_max; i++)
        d *= 2;
    return d < s->backoff_max ? d : s->backoff_max;
}

static void cycle(struct reef_scheduler *s, struct qent *q, uint64_t now)
{
    char key[2 * REEF_STORE_MAX_NAME + 2], ns[REEF_STORE_MAX_NAME + 1],
        name[REEF_STORE_MAX_NAME + 1];
    reef_strlcpy(key, q->key, sizeof(key));
    split_key(key, ns, name);
    char *json = NULL;
    size_t len = 0;
    struct reef_err err = {0};
    int r = reef_store_get(s->env.store, "pods", ns, name, &json, &len, NULL, &err);
    struct reef_sched_pod *p = NULL;
    if (r == 0)
        r = reef_sched_pod_parse(json, len, &p, &err);
    if (r < 0 || p->node_name[0] || p->deleting || p->terminal || p->gated ||
        strcmp(p->scheduler_name, "default-scheduler") != 0) {
        q_remove(s, key);
        reef_sched_pod_free(p);
        free(json);
        return;
    }
    s->stats.attempts++;
    q->generation = p->generation;
    struct reef_sched_result res;
    reef_sched_pick(s->cluster, p, &res);
    if (res.slot >= 0) {
        q_remove(s, key); /* q is gone from here on */
        char node[REEF_STORE_MAX_NAME + 1];
        reef_strlcpy(node, reef_sched_cluster_node(s->cluster, res.slot)->name, sizeof(node));
        int st = bind_pod(s, key, ns, name, p, res.slot); /* takes p */
        if (st == 201) {
            s->stats.bound++;
            reef_ctl_event(&s->env, "default-scheduler", NULL, json, len, "Normal", "Scheduled",
                           "Successfully assigned %s/%s to %s", ns, name, node);
        } else if (st == 409 || st == 404) {
            s->stats.conflicts++; /* the watch tells what became of the pod */
        } else {
            /* the API failed: try again after a back-off */
            q_offer(s, key, 0);
            struct qent *nq = smap_get(&s->queue, key);
            if (nq) {
                nq->attempts = 1;
                nq->ready_at = now + backoff(s, 1);
                q_move(s, nq, Q_BACKOFF);
            }
        }
    } else {
        s->stats.unschedulable++;
        q->attempts++;
        q->ready_at = now + backoff(s, q->attempts);
        q->since = now;
        q_move(s, q, Q_UNSCHED);
        reef_sched_pod_free(p);
        report_unschedulable(s, ns, name, json, len, res.message);
    }
    free(json);
}

#define CYCLE_BUDGET_NS (20 * 1000 * 1000) /* the loop's other work waits at most this long */

static void on_timer(uv_timer_t *t)
{
    struct reef_scheduler *s = t->data;
    uint64_t now = uv_now(s->env.loop);
    /* unschedulable pods are kept in the order they failed: the head is the oldest */
    struct qent *u;
    while ((u = s->lists[Q_UNSCHED].head) && u->since + s->flush_ms <= now)
        q_move(s, u, Q_BACKOFF);
    if (s->lists[Q_BACKOFF].n && s->backoff_due <= now) {
        s->backoff_due = UINT64_MAX;
        for (struct qent *q = s->lists[Q_BACKOFF].head, *next; q; q = next) {
            next = q->next;
            if (q->ready_at <= now)
                q_move(s, q, Q_ACTIVE);
            else if (q->ready_at < s->backoff_due)
                s->backoff_due = q->ready_at;
        }
    }
    uint64_t start = uv_hrtime();
    s->in_cycle = true;
    while (s->lists[Q_ACTIVE].head && uv_hrtime() - start < CYCLE_BUDGET_NS)
        cycle(s, s->lists[Q_ACTIVE].head, now);
    s->in_cycle = false;
    arm(s);
}

/* (Re)starts the timer for the earliest work due. */
static void arm(struct reef_scheduler *s)
{
    if (s->in_cycle || !s->timer)
        return;
    uint64_t now = uv_now(s->env.loop), due = UINT64_MAX;
    if (s->lists[Q_ACTIVE].n)
        due = now;
    if (s->lists[Q_BACKOFF].n && s->backoff_due < due)
        due = s->backoff_due;
    struct qent *u = s->lists[Q_UNSCHED].head;
    if (u && u->since + s->flush_ms < due)
        due = u->since + s->flush_ms;
    if (due == UINT64_MAX) {
        uv_timer_stop(s->timer);
        return;
    }
    uv_timer_start(s->timer, on_timer, due > now ? due - now : 0, 0);
}

/* ---- lifecycle ---- */

static void free_timer(uv_handle_t *h)
{
    free(h);
}

void reef__scheduler_set_backoff(struct reef_scheduler *s, uint64_t initial_ms, uint64_t max_ms,
                                 uint64_t flush_ms)
{
    s->backoff_initial = initial_ms;
    s->backoff_max = max_ms;
    s->flush_ms = flush_ms;
}

void reef_scheduler_stats(const struct reef_scheduler *s, struct reef_scheduler_stats *out)
{
    *out = s->stats;
    out->queued = s->lists[Q_ACTIVE].n + s->lists[Q_BACKOFF].n;
    out->waiting = s->lists[Q_UNSCHED].n;
}

static int list_nodes(struct reef_scheduler *s, struct reef_err *err)
{
    struct lister l = {.s = s};
    int r = reef_store_list(s->env.store, "nodes", NULL, collect, &l, NULL, err);
    for (size_t i = 0; r == 0 && i < l.n; i++)
        node_seen(s, l.items[i].name, l.items[i].json, l.items[i].len);
    lister_free(&l);
    return r;
}

int reef_scheduler_start(const struct reef_ctl_env *env, struct reef_scheduler **out,
                         struct reef_err *err)
{
    *out = NULL;
    struct reef_scheduler *s = calloc(1, sizeof(*s));
    if (!s || !(s->cluster = reef_sched_cluster_new()) ||
        !(s->timer = malloc(sizeof(uv_timer_t)))) {
        if (s)
            reef_sched_cluster_free(s->cluster);
        free(s);
        return reef_err_set(err, -ENOMEM, "scheduler: out of memory");
    }
    s->env = *env;
    s->backoff_initial = 1000;
    s->backoff_max = 10000;
    s->flush_ms = 60000;
    uv_timer_init(env->loop, s->timer);
    s->timer->data = s;
    /* Every pod bound to a node must be read once for the accounting, so the start lists all
     * pods in one pass (pending ones are queued by the same pass) rather than one list per
     * node; later a node that appears lists its pods through the store's node index. */
    int64_t rev = reef_store_rev(env->store);
    s->starting = true;
    int r = list_nodes(s, err);
    if (r == 0)
        r = list_pods(s, NULL, err);
    s->starting = false;
    if (r == 0)
        r = reef_store_watch(env->store, "nodes", NULL, rev, NULL, NULL, on_node, s, &s->wnodes,
                             err);
    if (r == 0)
        r = reef_store_watch(env->store, "pods", NULL, rev, NULL, NULL, on_pod, s, &s->wpods, err);
    if (r < 0) {
        reef_err_wrap(err, "scheduler");
        reef_scheduler_stop(s);
        return r;
    }
    arm(s);
    *out = s;
    return 0;
}

void reef_scheduler_stop(struct reef_scheduler *s)
{
    if (!s)
        return;
    reef_store_unwatch(s->wnodes);
    reef_store_unwatch(s->wpods);
    uv_timer_stop(s->timer);
    uv_close((uv_handle_t *)s->timer, free_timer);
    for (size_t i = 0; i < s->queue.cap; i++) {
        struct sent *e = &s->queue.e[i];
        if (e->key && e->key != TOMB) {
            free(e->key);
            free(e->val);
        }
    }
    free(s->queue.e);
    for (size_t i = 0; i < s->bound.cap; i++) {
        struct sent *e = &s->bound.e[i];
        if (e->key && e->key != TOMB) {
            struct bound *b = e->val;
            reef_sched_pod_free(b->p);
            free(b);
            free(e->key);
        }
    }
    free(s->bound.e);
    reef_sched_cluster_free(s->cluster);
    free(s);
}
