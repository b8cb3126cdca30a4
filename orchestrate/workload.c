/* workload: the work queue, the watches and the object helpers both controllers share. */
#include "orchestrate/workload.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "orchestrate/workload_int.h"

struct wl_delayed {
    struct wl_key key;
    int64_t due_ms;
};

/* A key whose syncs keep failing, and how many times in a row. */
struct wl_fail {
    struct wl_key key;
    int n;
};

struct reef_workload {
    struct reef_ctl_env env;
    struct reef_store_watch *w_pods, *w_rs, *w_deploy;
    uv_idle_t idle;
    uv_timer_t timer;
    bool idle_on;
    struct wl_key *queue;
    size_t nqueue, capqueue;
    struct wl_delayed *delayed;
    size_t ndelayed, capdelayed;
    struct wl_fail *fails;
    size_t nfails, capfails;
    reef__wl_clock_fn clock;
    void *clock_ud;
    int closing; /* handles still to close */
};

static int64_t wall_ms(void *ud)
{
    (void)ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct reef_ctl_env *reef__wl_env(const struct reef_workload *w)
{
    return &w->env;
}

int64_t reef__wl_now(const struct reef_workload *w)
{
    return w->clock(w->clock_ud);
}

void reef__wl_set_clock(struct reef_workload *w, reef__wl_clock_fn fn, void *ud)
{
    w->clock = fn ? fn : wall_ms;
    w->clock_ud = ud;
}

size_t reef__wl_pending(const struct reef_workload *w)
{
    return w->nqueue;
}

/* ---- the queue ---- */

static bool key_eq(const struct wl_key *k, char kind, const char *ns, const char *name)
{
    return k->kind == kind && strcmp(k->ns, ns) == 0 && strcmp(k->name, name) == 0;
}

static void on_idle(uv_idle_t *h);

void reef__wl_enqueue(struct reef_workload *w, char kind, const char *ns, const char *name)
{
    if (strlen(ns) >= WL_NAME_MAX || strlen(name) >= WL_NAME_MAX || !name[0])
        return;
    for (size_t i = 0; i < w->nqueue; i++)
        if (key_eq(&w->queue[i], kind, ns, name))
            return;
    if (w->nqueue == w->capqueue) {
        size_t cap = w->capqueue ? w->capqueue * 2 : 16;
        struct wl_key *q = realloc(w->queue, cap * sizeof(*q));
        if (!q) {
            REEF_LOG(REEF_LOG_ERROR, "workload", "queue: out of memory");
            return;
        }
        w->queue = q;
        w->capqueue = cap;
    }
    struct wl_key *k = &w->queue[w->nqueue++];
    k->kind = kind;
    snprintf(k->ns, sizeof(k->ns), "%s", ns);
    snprintf(k->name, sizeof(k->name), "%s", name);
    if (!w->idle_on && !w->closing) {
        uv_idle_start(&w->idle, on_idle);
        w->idle_on = true;
    }
}

static void on_timer(uv_timer_t *h)
{
    reef__wl_fire_timers(h->data);
}

static void arm_timer(struct reef_workload *w)
{
    if (w->closing)
        return;
    if (w->ndelayed == 0) {
        uv_timer_stop(&w->timer);
        return;
    }
    int64_t due = w->delayed[0].due_ms;
    for (size_t i = 1; i < w->ndelayed; i++)
        if (w->delayed[i].due_ms < due)
            due = w->delayed[i].due_ms;
    int64_t delay = due - reef__wl_now(w);
    uv_timer_start(&w->timer, on_timer, delay > 0 ? (uint64_t)delay : 0, 0);
}

void reef__wl_enqueue_after(struct reef_workload *w, char kind, const char *ns, const char *name,
                            int64_t delay_ms)
{
    if (strlen(ns) >= WL_NAME_MAX || strlen(name) >= WL_NAME_MAX)
        return;
    int64_t due = reef__wl_now(w) + (delay_ms > 0 ? delay_ms : 0);
    for (size_t i = 0; i < w->ndelayed; i++) {
        if (key_eq(&w->delayed[i].key, kind, ns, name)) {
            if (due < w->delayed[i].due_ms) {
                w->delayed[i].due_ms = due;
                arm_timer(w);
            }
            return;
        }
    }
    if (w->ndelayed == w->capdelayed) {
        size_t cap = w->capdelayed ? w->capdelayed * 2 : 8;
        struct wl_delayed *q = realloc(w->delayed, cap * sizeof(*q));
        if (!q)
            return;
        w->delayed = q;
        w->capdelayed = cap;
    }
    struct wl_delayed *d = &w->delayed[w->ndelayed++];
    d->key.kind = kind;
    snprintf(d->key.ns, sizeof(d->key.ns), "%s", ns);
    snprintf(d->key.name, sizeof(d->key.name), "%s", name);
    d->due_ms = due;
    arm_timer(w);
}

void reef__wl_fire_timers(struct reef_workload *w)
{
    int64_t now = reef__wl_now(w);
    size_t j = 0;
    for (size_t i = 0; i < w->ndelayed; i++) {
        if (w->delayed[i].due_ms <= now)
            reef__wl_enqueue(w, w->delayed[i].key.kind, w->delayed[i].key.ns,
                             w->delayed[i].key.name);
        else
            w->delayed[j++] = w->delayed[i];
    }
    w->ndelayed = j;
    arm_timer(w);
}

/* Retries of a failing key back off exponentially from 5 ms to 1000 s (client-go's
 * ItemExponentialFailureRateLimiter, which the controllers' queues use); a success resets it. */
static int64_t failed(struct reef_workload *w, const struct wl_key *k)
{
    size_t i;
    for (i = 0; i < w->nfails; i++)
        if (key_eq(&w->fails[i].key, k->kind, k->ns, k->name))
            break;
    if (i == w->nfails) {
        if (w->nfails == w->capfails) {
            size_t cap = w->capfails ? w->capfails * 2 : 8;
            struct wl_fail *f = realloc(w->fails, cap * sizeof(*f));
            if (!f)
                return 1000;
            w->fails = f;
            w->capfails = cap;
        }
        w->fails[w->nfails].key = *k;
        w->fails[w->nfails++].n = 0;
    }
    int n = w->fails[i].n < 30 ? w->fails[i].n++ : 30;
    int64_t delay = (int64_t)5 << (n < 18 ? n : 18);
    return delay < 1000 * 1000 ? delay : 1000 * 1000;
}

static void succeeded(struct reef_workload *w, const struct wl_key *k)
{
    for (size_t i = 0; i < w->nfails; i++) {
        if (key_eq(&w->fails[i].key, k->kind, k->ns, k->name)) {
            w->fails[i] = w->fails[--w->nfails];
            return;
        }
    }
}

/* Drains what is queued now; keys queued while syncing wait for the next round, so one busy
 * object cannot starve the loop. */
static void on_idle(uv_idle_t *h)
{
    struct reef_workload *w = h->data;
    struct wl_key *batch = w->queue;
    size_t n = w->nqueue;
    w->queue = NULL;
    w->nqueue = w->capqueue = 0;
    for (size_t i = 0; i < n; i++) {
        struct wl_key *k = &batch[i];
        int r = k->kind == WL_RS ? reef__wl_sync_rs(w, k->ns, k->name)
                                 : reef__wl_sync_deploy(w, k->ns, k->name);
        /* a conflict (-EAGAIN) or a failure: again after a back-off; the next sync reads the
         * new state */
        if (r < 0)
            reef__wl_enqueue_after(w, k->kind, k->ns, k->name, failed(w, k));
        else if (w->nfails)
            succeeded(w, k);
    }
    free(batch);
    if (w->nqueue == 0 && w->idle_on) {
        uv_idle_stop(&w->idle);
        w->idle_on = false;
    }
}

/* ---- objects ---- */

int reef__wl_obj_parse(struct wl_obj *o, char *json, size_t len)
{
    o->json = json;
    o->len = len;
    reef_json_doc_init(&o->d);
    return reef_json_parse(&o->d, json, len, NULL, NULL);
}

void reef__wl_obj_free(struct wl_obj *o)
{
    reef_json_doc_free(&o->d);
    free(o->json);
    o->json = NULL;
    o->len = 0;
}

int reef__wl_obj_replace(struct wl_obj *o, struct reef_buf *b)
{
    size_t len = b->len;
    char *json = reef_buf_steal(b);
    if (!json)
        return -ENOMEM;
    reef__wl_obj_free(o);
    return reef__wl_obj_parse(o, json, len);
}

int reef__wl_find(const struct wl_obj *o, const char *path)
{
    return reef_json_find(&o->d, REEF_JSON_ROOT, path, NULL);
}

bool reef__wl_str(const struct wl_obj *o, const char *path, char *dst, size_t size)
{
    int v = reef__wl_find(o, path);
    if (v < 0 || reef_json_get_str(&o->d, v, dst, size, NULL) < 0) {
        if (size)
            dst[0] = '\0';
        return false;
    }
    return true;
}

int64_t reef__wl_int(const struct wl_obj *o, const char *path, int64_t def)
{
    int v = reef__wl_find(o, path);
    int64_t x;
    if (v < 0 || reef_json_get_int(&o->d, v, &x, NULL) < 0)
        return def;
    return x;
}

bool reef__wl_bool(const struct wl_obj *o, const char *path)
{
    int v = reef__wl_find(o, path);
    bool b = false;
    if (v < 0 || reef_json_get_bool(&o->d, v, &b, NULL) < 0)
        return false;
    return b;
}

int64_t reef__wl_time(const struct wl_obj *o, const char *path)
{
    char t[64];
    if (!reef__wl_str(o, path, t, sizeof(t)))
        return 0;
    int64_t ms = reef_ctl_parse_time(t);
    return ms < 0 ? 0 : ms;
}

bool reef__wl_annotation(const struct wl_obj *o, const char *key, char *dst, size_t size)
{
    int a = reef__wl_find(o, "metadata.annotations");
    int v = a >= 0 ? reef_json_member(&o->d, a, key) : -1;
    if (v < 0 || reef_json_get_str(&o->d, v, dst, size, NULL) < 0) {
        dst[0] = '\0';
        return false;
    }
    return true;
}

bool reef__wl_controller(const struct wl_obj *o, char *kind, size_t ksize, char *name, size_t nsize,
                         char *uid, size_t usize)
{
    kind[0] = name[0] = uid[0] = '\0';
    int refs = reef__wl_find(o, "metadata.ownerReferences");
    struct reef_json_iter it = reef_json_iter(&o->d, refs);
    while (reef_json_next(&o->d, &it)) {
        int c = reef_json_member(&o->d, it.val, "controller");
        bool ctl = false;
        if (c < 0 || reef_json_get_bool(&o->d, c, &ctl, NULL) < 0 || !ctl)
            continue;
        int k = reef_json_member(&o->d, it.val, "kind");
        int n = reef_json_member(&o->d, it.val, "name");
        int u = reef_json_member(&o->d, it.val, "uid");
        if (k < 0 || n < 0 || u < 0 || reef_json_get_str(&o->d, k, kind, ksize, NULL) < 0 ||
            reef_json_get_str(&o->d, n, name, nsize, NULL) < 0 ||
            reef_json_get_str(&o->d, u, uid, usize, NULL) < 0) {
            kind[0] = name[0] = uid[0] = '\0';
            continue;
        }
        return true;
    }
    return false;
}

bool reef__wl_matches(const struct reef_label_selector *sel, const struct wl_obj *o)
{
    return reef_label_selector_matches(sel, &o->d, reef__wl_find(o, "metadata.labels"));
}

void reef__wl_controller_ref(struct reef_buf *b, const char *api_version, const char *kind,
                             const char *name, const char *uid)
{
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, b, 0);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "apiVersion");
    reef_json_put_str(&jw, api_version);
    reef_json_key(&jw, "kind");
    reef_json_put_str(&jw, kind);
    reef_json_key(&jw, "name");
    reef_json_put_str(&jw, name);
    reef_json_key(&jw, "uid");
    reef_json_put_str(&jw, uid);
    reef_json_key(&jw, "controller");
    reef_json_put_bool(&jw, true);
    reef_json_key(&jw, "blockOwnerDeletion");
    reef_json_put_bool(&jw, true);
    reef_json_end_object(&jw);
}

/* ---- rewriting ---- */

static bool set_applies(const struct wl_set *s, size_t depth, const char *const *prefix)
{
    for (size_t i = 0; i < depth; i++)
        if (!s->path[i] || strcmp(s->path[i], prefix[i]) != 0)
            return false;
    return s->path[depth] != NULL;
}

static void rewrite_value(const struct wl_obj *o, int v, const struct wl_set *sets, size_t n,
                          const char **prefix, size_t depth, struct reef_json_writer *jw)
{
    reef_json_begin_object(jw);
    struct reef_json_iter it = reef_json_iter(&o->d, v);
    char key[512];
    while (v >= 0 && reef_json_next(&o->d, &it)) {
        if (reef_json_get_str(&o->d, it.key, key, sizeof(key), NULL) < 0) {
            reef_json_key_from(jw, &o->d, it.key);
            reef_json_put_value(jw, &o->d, it.val);
            continue;
        }
        const struct wl_set *leaf = NULL;
        bool deeper = false;
        for (size_t i = 0; i < n; i++) {
            if (!set_applies(&sets[i], depth, prefix) || strcmp(sets[i].path[depth], key) != 0)
                continue;
            if (sets[i].path[depth + 1])
                deeper = true;
            else
                leaf = &sets[i];
        }
        if (leaf) {
            if (leaf->raw) {
                reef_json_key(jw, key);
                reef_json_put_raw(jw, leaf->raw, leaf->len);
            }
        } else if (deeper && depth + 1 < REEF_ARRAY_LEN(sets[0].path)) {
            reef_json_key(jw, key);
            prefix[depth] = key;
            int sub = reef_json_kind(&o->d, it.val) == REEF_JSON_OBJECT ? it.val : -1;
            rewrite_value(o, sub, sets, n, prefix, depth + 1, jw);
        } else {
            reef_json_key(jw, key);
            reef_json_put_value(jw, &o->d, it.val);
        }
    }
    /* members to add: the first set naming each missing key writes it */
    for (size_t i = 0; i < n; i++) {
        if (!set_applies(&sets[i], depth, prefix))
            continue;
        const char *k = sets[i].path[depth];
        if (v >= 0 && reef_json_member(&o->d, v, k) >= 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = set_applies(&sets[j], depth, prefix) && strcmp(sets[j].path[depth], k) == 0;
        if (seen)
            continue;
        if (!sets[i].path[depth + 1]) {
            if (sets[i].raw) {
                reef_json_key(jw, k);
                reef_json_put_raw(jw, sets[i].raw, sets[i].len);
            }
        } else {
            bool any = false; /* only removals below: nothing to add */
            for (size_t j = i; j < n; j++)
                if (set_applies(&sets[j], depth, prefix) && strcmp(sets[j].path[depth], k) == 0 &&
                    sets[j].raw)
                    any = true;
            if (!any)
                continue;
            reef_json_key(jw, k);
            prefix[depth] = k;
            rewrite_value(o, -1, sets, n, prefix, depth + 1, jw);
        }
    }
    reef_json_end_object(jw);
}

int reef__wl_rewrite(const struct wl_obj *o, const struct wl_set *sets, size_t n,
                     struct reef_buf *out)
{
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, out, 0);
    const char *prefix[REEF_ARRAY_LEN(sets[0].path)] = {0};
    rewrite_value(o, REEF_JSON_ROOT, sets, n, prefix, 0, &jw);
    return reef_json_finish(&jw, NULL);
}

/* ---- listing ---- */

static int phase_of(const char *p)
{
    static const char *const phases[] = {"Pending", "Unknown", "Running", "Succeeded", "Failed"};
    for (int i = 0; i < 5; i++)
        if (strcmp(p, phases[i]) == 0)
            return i;
    return 0;
}

static int64_t max_restarts(const struct wl_obj *o, const char *path, bool sidecars)
{
    int64_t m = 0;
    int arr = reef__wl_find(o, path);
    struct reef_json_iter it = reef_json_iter(&o->d, arr);
    while (reef_json_next(&o->d, &it)) {
        if (sidecars) {
            /* a sidecar is an init container with restartPolicy Always */
            char name[256], pol[32];
            int nv = reef_json_member(&o->d, it.val, "name");
            if (nv < 0 || reef_json_get_str(&o->d, nv, name, sizeof(name), NULL) < 0)
                continue;
            bool found = false;
            int ics = reef__wl_find(o, "spec.initContainers");
            struct reef_json_iter ci = reef_json_iter(&o->d, ics);
            while (reef_json_next(&o->d, &ci)) {
                int cn = reef_json_member(&o->d, ci.val, "name");
                int rp = reef_json_member(&o->d, ci.val, "restartPolicy");
                if (cn >= 0 && reef_json_str_eq(&o->d, cn, name) && rp >= 0 &&
                    reef_json_get_str(&o->d, rp, pol, sizeof(pol), NULL) == 0 &&
                    strcmp(pol, "Always") == 0)
                    found = true;
            }
            if (!found)
                continue;
        }
        int rc = reef_json_member(&o->d, it.val, "restartCount");
        int64_t x = 0;
        if (rc >= 0 && reef_json_get_int(&o->d, rc, &x, NULL) == 0 && x > m)
            m = x;
    }
    return m;
}

void reef__wl_pod_load_fields(struct wl_pod *p)
{
    const struct wl_obj *o = &p->o;
    reef__wl_str(o, "metadata.name", p->name, sizeof(p->name));
    reef__wl_str(o, "metadata.uid", p->uid, sizeof(p->uid));
    reef__wl_controller(o, p->ctrl_kind, sizeof(p->ctrl_kind), p->ctrl_name, sizeof(p->ctrl_name),
                        p->ctrl_uid, sizeof(p->ctrl_uid));
    reef__wl_str(o, "spec.nodeName", p->node, sizeof(p->node));
    char phase[32];
    reef__wl_str(o, "status.phase", phase, sizeof(phase));
    p->phase = phase_of(phase);
    p->deleting = reef__wl_find(o, "metadata.deletionTimestamp") >= 0 &&
                  !reef_json_is_null(&o->d, reef__wl_find(o, "metadata.deletionTimestamp"));
    p->created_ms = reef__wl_time(o, "metadata.creationTimestamp");
    p->ready = false;
    p->ready_ms = 0;
    int conds = reef__wl_find(o, "status.conditions");
    struct reef_json_iter it = reef_json_iter(&o->d, conds);
    while (reef_json_next(&o->d, &it)) {
        int t = reef_json_member(&o->d, it.val, "type");
        int s = reef_json_member(&o->d, it.val, "status");
        if (t < 0 || !reef_json_str_eq(&o->d, t, "Ready"))
            continue;
        p->ready = s >= 0 && reef_json_str_eq(&o->d, s, "True");
        int lt = reef_json_member(&o->d, it.val, "lastTransitionTime");
        char ts[64];
        if (lt >= 0 && reef_json_get_str(&o->d, lt, ts, sizeof(ts), NULL) == 0) {
            int64_t ms = reef_ctl_parse_time(ts);
            p->ready_ms = ms > 0 ? ms : 0;
        }
    }
    p->restarts = max_restarts(o, "status.containerStatuses", false);
    p->sidecar_restarts = max_restarts(o, "status.initContainerStatuses", true);
    char cost[32];
    p->deletion_cost = 0;
    if (reef__wl_annotation(o, "controller.kubernetes.io/pod-deletion-cost", cost, sizeof(cost))) {
        char *end;
        long long c = strtoll(cost, &end, 10);
        if (*end == '\0' && end != cost && c >= INT32_MIN && c <= INT32_MAX)
            p->deletion_cost = c;
    }
}

struct collect {
    struct wl_pod *pods;
    struct wl_rs *rss;
    size_t n, cap;
};

static int collect_pod(void *arg, const struct reef_store_item *it)
{
    struct collect *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct wl_pod *p = realloc(c->pods, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        c->pods = p;
        c->cap = cap;
    }
    struct wl_pod *p = &c->pods[c->n];
    memset(p, 0, sizeof(*p));
    char *json = strndup(it->object, it->len);
    if (!json)
        return -ENOMEM;
    if (reef__wl_obj_parse(&p->o, json, it->len) < 0) {
        reef__wl_obj_free(&p->o);
        return 0;
    }
    reef__wl_pod_load_fields(p);
    c->n++;
    return 0;
}

int reef__wl_list_pods(struct reef_workload *w, const char *ns, struct wl_pod **out, size_t *n)
{
    struct collect c = {0};
    struct reef_store_list_opts lo = {.namespace = ns};
    int r = reef_store_list(w->env.store, "pods", &lo, collect_pod, &c, NULL, NULL);
    if (r < 0) {
        reef__wl_pods_free(c.pods, c.n);
        return r;
    }
    *out = c.pods;
    *n = c.n;
    return 0;
}

void reef__wl_pods_free(struct wl_pod *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        reef__wl_obj_free(&p[i].o);
    free(p);
}

int reef__wl_rs_load(struct wl_rs *rs, char *json, size_t len)
{
    memset(rs, 0, sizeof(*rs));
    int r = reef__wl_obj_parse(&rs->o, json, len);
    if (r < 0)
        return r;
    const struct wl_obj *o = &rs->o;
    reef__wl_str(o, "metadata.name", rs->name, sizeof(rs->name));
    reef__wl_str(o, "metadata.uid", rs->uid, sizeof(rs->uid));
    reef__wl_controller(o, rs->ctrl_kind, sizeof(rs->ctrl_kind), rs->ctrl_name,
                        sizeof(rs->ctrl_name), rs->ctrl_uid, sizeof(rs->ctrl_uid));
    rs->created_ms = reef__wl_time(o, "metadata.creationTimestamp");
    rs->generation = reef__wl_int(o, "metadata.generation", 0);
    rs->replicas = reef__wl_int(o, "spec.replicas", 1);
    rs->st_replicas = reef__wl_int(o, "status.replicas", 0);
    rs->st_ready = reef__wl_int(o, "status.readyReplicas", 0);
    rs->st_available = reef__wl_int(o, "status.availableReplicas", 0);
    rs->st_observed = reef__wl_int(o, "status.observedGeneration", 0);
    int dt = reef__wl_find(o, "metadata.deletionTimestamp");
    rs->deleting = dt >= 0 && !reef_json_is_null(&o->d, dt);
    char rev[32];
    rs->revision = 0;
    if (reef__wl_annotation(o, "deployment.kubernetes.io/revision", rev, sizeof(rev))) {
        char *end;
        long long x = strtoll(rev, &end, 10);
        if (*end == '\0' && end != rev)
            rs->revision = x;
    }
    return 0;
}

static int collect_rs(void *arg, const struct reef_store_item *it)
{
    struct collect *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct wl_rs *p = realloc(c->rss, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        c->rss = p;
        c->cap = cap;
    }
    char *json = strndup(it->object, it->len);
    if (!json)
        return -ENOMEM;
    if (reef__wl_rs_load(&c->rss[c->n], json, it->len) < 0) {
        reef__wl_obj_free(&c->rss[c->n].o);
        return 0;
    }
    c->n++;
    return 0;
}

int reef__wl_list_rs(struct reef_workload *w, const char *ns, struct wl_rs **out, size_t *n)
{
    struct collect c = {0};
    struct reef_store_list_opts lo = {.namespace = ns};
    int r = reef_store_list(w->env.store, "replicasets.apps", &lo, collect_rs, &c, NULL, NULL);
    if (r < 0) {
        reef__wl_rs_free(c.rss, c.n);
        return r;
    }
    *out = c.rss;
    *n = c.n;
    return 0;
}

void reef__wl_rs_free(struct wl_rs *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        reef__wl_obj_free(&r[i].o);
    free(r);
}

/* ---- writes ---- */

int reef__wl_call(struct reef_workload *w, const char *method, const char *target, const char *body,
                  size_t len, struct reef_buf *out, struct reef_err *err)
{
    struct reef_err e = {0};
    int st = reef_ctl_call(&w->env, method, target, NULL, body, len, out, &e);
    if (st < 0) {
        if (err)
            *err = e;
        return st;
    }
    if (st >= 200 && st < 300)
        return 0;
    if (err)
        *err = e;
    if (st == 409)
        return -EAGAIN;
    if (st == 404)
        return -ENOENT;
    REEF_LOG(REEF_LOG_WARN, "workload", "%s %s: %d %s", method, target, st, e.msg);
    return st == 422 ? -EINVAL : -EIO;
}

int reef__wl_set_owner(struct reef_workload *w, const char *target, const struct wl_obj *o,
                       const char *ref_json, const char *release_uid, struct reef_buf *out,
                       struct reef_err *err)
{
    struct reef_buf refs = REEF_BUF_INIT, body = REEF_BUF_INIT;
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, &refs, 0);
    reef_json_begin_array(&jw);
    int arr = reef__wl_find(o, "metadata.ownerReferences");
    struct reef_json_iter it = reef_json_iter(&o->d, arr);
    while (reef_json_next(&o->d, &it)) {
        int u = reef_json_member(&o->d, it.val, "uid");
        if (release_uid && u >= 0 && reef_json_str_eq(&o->d, u, release_uid))
            continue;
        reef_json_put_value(&jw, &o->d, it.val);
    }
    if (ref_json)
        reef_json_put_raw(&jw, ref_json, strlen(ref_json));
    reef_json_end_array(&jw);
    int r = reef_json_finish(&jw, err);
    struct wl_set set = {{"metadata", "ownerReferences", NULL}, refs.data, refs.len};
    if (r == 0)
        r = reef__wl_rewrite(o, &set, 1, &body);
    if (r == 0)
        r = reef__wl_call(w, "PUT", target, body.data, body.len, out, err);
    reef_buf_free(&refs);
    reef_buf_free(&body);
    return r;
}

/* ---- watches ---- */

static void enqueue_matching(struct reef_workload *w, const char *resource, char kind,
                             const char *ns, const struct wl_obj *child)
{
    struct wl_rs *list = NULL;
    size_t n = 0;
    /* ReplicaSets and Deployments both have spec.selector; the RS loader reads what we need */
    struct collect c = {0};
    struct reef_store_list_opts lo = {.namespace = ns};
    if (reef_store_list(w->env.store, resource, &lo, collect_rs, &c, NULL, NULL) < 0) {
        reef__wl_rs_free(c.rss, c.n);
        return;
    }
    list = c.rss;
    n = c.n;
    for (size_t i = 0; i < n; i++) {
        struct reef_label_selector *sel = NULL;
        int sv = reef__wl_find(&list[i].o, "spec.selector");
        if (sv < 0 || reef_label_selector_from_json(&list[i].o.d, sv, &sel, NULL) < 0)
            continue;
        if (!reef_label_selector_empty(sel) && reef__wl_matches(sel, child))
            reef__wl_enqueue(w, kind, ns, list[i].name);
        reef_label_selector_free(sel);
    }
    reef__wl_rs_free(list, n);
}

static void on_pod(void *arg, const struct reef_store_event *ev)
{
    struct reef_workload *w = arg;
    struct wl_pod p;
    memset(&p, 0, sizeof(p));
    char *json = strndup(ev->object, ev->len);
    if (!json || reef__wl_obj_parse(&p.o, json, ev->len) < 0) {
        reef__wl_obj_free(&p.o);
        return;
    }
    reef__wl_pod_load_fields(&p);
    if (p.ctrl_uid[0]) {
        if (strcmp(p.ctrl_kind, "ReplicaSet") == 0) {
            reef__wl_enqueue(w, WL_RS, ev->namespace, p.ctrl_name);
            /* a Recreate rollout waits for the old pods to be gone */
            char *rs = NULL;
            size_t len = 0;
            if (reef_store_get(w->env.store, "replicasets.apps", ev->namespace, p.ctrl_name, &rs,
                               &len, NULL, NULL) == 0) {
                struct wl_obj o;
                char kind[64], name[WL_NAME_MAX], uid[REEF_STORE_UID_LEN + 1];
                if (reef__wl_obj_parse(&o, rs, len) == 0 &&
                    reef__wl_controller(&o, kind, sizeof(kind), name, sizeof(name), uid,
                                        sizeof(uid)) &&
                    strcmp(kind, "Deployment") == 0)
                    reef__wl_enqueue(w, WL_DEPLOY, ev->namespace, name);
                reef__wl_obj_free(&o);
            }
        }
    } else if (ev->type != REEF_STORE_DELETED) {
        enqueue_matching(w, "replicasets.apps", WL_RS, ev->namespace, &p.o);
    }
    reef__wl_obj_free(&p.o);
}

static void on_rs(void *arg, const struct reef_store_event *ev)
{
    struct reef_workload *w = arg;
    reef__wl_enqueue(w, WL_RS, ev->namespace, ev->name);
    struct wl_obj o;
    char *json = strndup(ev->object, ev->len);
    if (!json || reef__wl_obj_parse(&o, json, ev->len) < 0) {
        if (json)
            reef__wl_obj_free(&o);
        return;
    }
    char kind[64], name[WL_NAME_MAX], uid[REEF_STORE_UID_LEN + 1];
    if (reef__wl_controller(&o, kind, sizeof(kind), name, sizeof(name), uid, sizeof(uid))) {
        if (strcmp(kind, "Deployment") == 0)
            reef__wl_enqueue(w, WL_DEPLOY, ev->namespace, name);
    } else if (ev->type != REEF_STORE_DELETED) {
        enqueue_matching(w, "deployments.apps", WL_DEPLOY, ev->namespace, &o);
    }
    reef__wl_obj_free(&o);
}

static void on_deploy(void *arg, const struct reef_store_event *ev)
{
    struct reef_workload *w = arg;
    if (ev->type != REEF_STORE_DELETED)
        reef__wl_enqueue(w, WL_DEPLOY, ev->namespace, ev->name);
}

static int enqueue_item(void *arg, const struct reef_store_item *it)
{
    struct reef_workload *w = ((void **)arg)[0];
    const char *kind = ((void **)arg)[1];
    reef__wl_enqueue(w, kind[0], it->namespace, it->name);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    struct reef_workload *w = h->data;
    if (--w->closing == 0) {
        free(w->queue);
        free(w->delayed);
        free(w->fails);
        free(w);
    }
}

int reef_workload_start(const struct reef_ctl_env *env, struct reef_workload **out,
                        struct reef_err *err)
{
    struct reef_workload *w = calloc(1, sizeof(*w));
    if (!w)
        return reef_err_set(err, -ENOMEM, "workload: out of memory");
    w->env = *env;
    w->clock = wall_ms;
    uv_idle_init(env->loop, &w->idle);
    uv_timer_init(env->loop, &w->timer);
    w->idle.data = w->timer.data = w;
    int r;
    if ((r = reef_store_watch(env->store, "pods", NULL, 0, NULL, NULL, on_pod, w, &w->w_pods,
                              err)) < 0 ||
        (r = reef_store_watch(env->store, "replicasets.apps", NULL, 0, NULL, NULL, on_rs, w,
                              &w->w_rs, err)) < 0 ||
        (r = reef_store_watch(env->store, "deployments.apps", NULL, 0, NULL, NULL, on_deploy, w,
                              &w->w_deploy, err)) < 0) {
        reef_workload_stop(w);
        return reef_err_wrap(err, "workload: watch");
    }
    void *a1[2] = {w, "R"}, *a2[2] = {w, "D"};
    reef_store_list(env->store, "replicasets.apps", NULL, enqueue_item, a1, NULL, NULL);
    reef_store_list(env->store, "deployments.apps", NULL, enqueue_item, a2, NULL, NULL);
    *out = w;
    return 0;
}

void reef_workload_stop(struct reef_workload *w)
{
    if (!w)
        return;
    reef_store_unwatch(w->w_pods);
    reef_store_unwatch(w->w_rs);
    reef_store_unwatch(w->w_deploy);
    w->closing = 2;
    uv_idle_stop(&w->idle);
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->idle, on_closed);
    uv_close((uv_handle_t *)&w->timer, on_closed);
}

int reef_workload_template_hash(const char *tmpl, size_t len, int64_t collision_count, char out[16],
                                struct reef_err *err)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, tmpl, len, NULL, err);
    if (r == 0 && reef_json_kind(&d, REEF_JSON_ROOT) != REEF_JSON_OBJECT)
        r = reef_err_set(err, -EINVAL, "pod template: not a JSON object");
    if (r == 0)
        r = reef__wl_template_hash(&d, REEF_JSON_ROOT, collision_count, out);
    reef_json_doc_free(&d);
    return r;
}
