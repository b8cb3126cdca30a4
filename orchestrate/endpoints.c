/* endpoints: Endpoints and EndpointSlices for Services with a selector (docs/ENDPOINTS.md).
 *
 * Watches on services and pods only mark Services dirty; a zero-delay timer then syncs each
 * dirty Service once, so a burst of pod changes in one loop turn costs one sync per Service. A
 * sync computes the whole desired content from the store and compares it with what is stored;
 * only a difference is written (PUT with the read resourceVersion, so a concurrent writer makes it
 * fail with 409 and the Service is retried later rather than overwritten blindly). */
#include "orchestrate/endpoints.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "orchestrate/endpoints_int.h"
#include "orchestrate/selector.h"

#define MOD "endpoints"
#define RETRY_MS 1000

/* What the controller remembers of a Service between syncs: enough to route a pod's change to
 * the Services it concerns (its selector, and the pods its endpoints list now, which a pod that
 * stopped matching is still among). */
struct svc {
    char *ns, *name;
    struct reef_label_selector *sel; /* NULL: no selector, not ours */
    char **members;
    size_t nmembers;
};

struct key {
    char *ns, *name;
};

struct reef_endpoints {
    struct reef_ctl_env env;
    struct reef_store_watch *wsvc, *wpod;
    uv_timer_t timer;
    uint64_t due; /* loop time the armed timer fires at */
    bool armed;
    struct svc **svcs;
    size_t nsvcs;
    struct key *dirty;
    size_t ndirty, capdirty;
};

/* ---- the Service cache and the dirty set ---- */

static void svc_members_clear(struct svc *s)
{
    for (size_t i = 0; i < s->nmembers; i++)
        free(s->members[i]);
    free(s->members);
    s->members = NULL;
    s->nmembers = 0;
}

static void svc_free(struct svc *s)
{
    if (!s)
        return;
    svc_members_clear(s);
    reef_label_selector_free(s->sel);
    free(s->ns);
    free(s->name);
    free(s);
}

static struct svc *svc_find(struct reef_endpoints *e, const char *ns, const char *name, size_t *at)
{
    for (size_t i = 0; i < e->nsvcs; i++) {
        if (strcmp(e->svcs[i]->ns, ns) == 0 && strcmp(e->svcs[i]->name, name) == 0) {
            if (at)
                *at = i;
            return e->svcs[i];
        }
    }
    return NULL;
}

static void svc_remove(struct reef_endpoints *e, const char *ns, const char *name)
{
    size_t at;
    struct svc *s = svc_find(e, ns, name, &at);
    if (!s)
        return;
    svc_free(s);
    e->svcs[at] = e->svcs[--e->nsvcs];
}

static struct svc *svc_get(struct reef_endpoints *e, const char *ns, const char *name)
{
    struct svc *s = svc_find(e, ns, name, NULL);
    if (s)
        return s;
    struct svc **n = realloc(e->svcs, (e->nsvcs + 1) * sizeof(*n));
    if (!n)
        return NULL;
    e->svcs = n;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->ns = strdup(ns);
    s->name = strdup(name);
    if (!s->ns || !s->name) {
        svc_free(s);
        return NULL;
    }
    e->svcs[e->nsvcs++] = s;
    return s;
}

static bool svc_has_member(const struct svc *s, const char *pod)
{
    for (size_t i = 0; i < s->nmembers; i++)
        if (strcmp(s->members[i], pod) == 0)
            return true;
    return false;
}

static void on_timer(uv_timer_t *t);

static void arm(struct reef_endpoints *e, uint64_t delay)
{
    uint64_t due = uv_now(e->env.loop) + delay;
    if (e->armed && e->due <= due)
        return;
    e->armed = true;
    e->due = due;
    uv_timer_start(&e->timer, on_timer, delay, 0);
}

static void mark(struct reef_endpoints *e, const char *ns, const char *name, uint64_t delay)
{
    for (size_t i = 0; i < e->ndirty; i++)
        if (strcmp(e->dirty[i].ns, ns) == 0 && strcmp(e->dirty[i].name, name) == 0) {
            arm(e, delay);
            return;
        }
    if (e->ndirty == e->capdirty) {
        size_t cap = e->capdirty ? e->capdirty * 2 : 16;
        struct key *n = realloc(e->dirty, cap * sizeof(*n));
        if (!n) {
            LOG_ERROR(MOD, "out of memory: service %s/%s not synced", ns, name);
            return;
        }
        e->dirty = n;
        e->capdirty = cap;
    }
    struct key k = {strdup(ns), strdup(name)};
    if (!k.ns || !k.name) {
        free(k.ns);
        free(k.name);
        LOG_ERROR(MOD, "out of memory: service %s/%s not synced", ns, name);
        return;
    }
    e->dirty[e->ndirty++] = k;
    arm(e, delay);
}

/* ---- writes ---- */

static int call(struct reef_endpoints *e, const char *method, const char *target,
                const struct reef_buf *body, struct reef_err *err)
{
    int st = reef_ctl_call(&e->env, method, target, NULL, body ? body->data : NULL,
                           body ? body->len : 0, NULL, err);
    if (st < 0)
        return st;
    if (st == 404 && strcmp(method, "DELETE") == 0)
        return 0;
    if (st >= 300) {
        reef_err_wrap(err, "%s %s: %d", method, target, st);
        return -EIO;
    }
    return 0;
}

/* The Endpoints object: created, replaced when its subsets or labels differ, else untouched. */
static int write_endpoints(struct reef_endpoints *e, const struct reef__ep_desired *w,
                           struct reef_err *err)
{
    char *cur = NULL;
    size_t curlen = 0;
    int rc = reef_store_get(e->env.store, "endpoints", w->ns, w->name, &cur, &curlen, NULL, err);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    struct reef_buf b = REEF_BUF_INIT, path = REEF_BUF_INIT;
    bool changed = false;
    rc = reef__ep_endpoints(w, cur, curlen, &b, &changed, err);
    reef_buf_printf(&path, "/api/v1/namespaces/%s/endpoints", w->ns);
    if (rc == 0 && !cur)
        rc = call(e, "POST", path.data, &b, err);
    else if (rc == 0 && changed) {
        reef_buf_printf(&path, "/%s", w->name);
        rc = call(e, "PUT", path.data, &b, err);
    }
    reef_buf_free(&b);
    reef_buf_free(&path);
    free(cur);
    return rc;
}

struct slices {
    char **names;
    char **objects;
    size_t n;
};

static int collect_slice(void *arg, const struct reef_store_item *it)
{
    struct slices *s = arg;
    char **n = realloc(s->names, (s->n + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    s->names = n;
    char **o = realloc(s->objects, (s->n + 1) * sizeof(*o));
    if (!o)
        return -ENOMEM;
    s->objects = o;
    s->names[s->n] = strdup(it->name);
    s->objects[s->n] = reef_strndup(it->object, it->len);
    if (!s->names[s->n] || !s->objects[s->n]) {
        free(s->names[s->n]);
        free(s->objects[s->n]);
        return -ENOMEM;
    }
    s->n++;
    return 0;
}

static void slices_free(struct slices *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        free(s->objects[i]);
    }
    free(s->names);
    free(s->objects);
}

static int list_slices(struct reef_endpoints *e, const char *ns, const char *name,
                       struct slices *out, struct reef_err *err)
{
    struct reef_store_label l[2] = {{REEF__EP_LABEL_SERVICE, name},
                                    {REEF__EP_LABEL_MANAGED, REEF__EP_MANAGED_BY}};
    struct reef_store_list_opts o = {.namespace = ns, .labels = l, .nlabels = 2};
    return reef_store_list(e->env.store, "endpointslices.discovery.k8s.io", &o, collect_slice, out,
                           NULL, err);
}

static int delete_slice(struct reef_endpoints *e, const char *ns, const char *name,
                        struct reef_err *err)
{
    struct reef_buf path = REEF_BUF_INIT;
    reef_buf_printf(&path, "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices/%s", ns, name);
    int rc = call(e, "DELETE", path.data, NULL, err);
    reef_buf_free(&path);
    return rc;
}

/* The Service's one slice: created with generateName, replaced when it differs; extra managed
 * slices (from an earlier writer) are deleted. */
static int write_slice(struct reef_endpoints *e, const struct reef__ep_desired *w,
                       struct reef_err *err)
{
    struct slices have = {0};
    int rc = list_slices(e, w->ns, w->name, &have, err);
    struct reef_buf b = REEF_BUF_INIT, path = REEF_BUF_INIT;
    bool changed = false;
    if (rc == 0)
        rc =
            reef__ep_slice(w, have.n ? have.objects[0] : NULL, have.n ? strlen(have.objects[0]) : 0,
                           have.n ? have.names[0] : NULL, &b, &changed, err);
    reef_buf_printf(&path, "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices", w->ns);
    if (rc == 0 && !have.n)
        rc = call(e, "POST", path.data, &b, err);
    else if (rc == 0 && changed) {
        reef_buf_printf(&path, "/%s", have.names[0]);
        rc = call(e, "PUT", path.data, &b, err);
    }
    for (size_t i = 1; rc == 0 && i < have.n; i++)
        rc = delete_slice(e, w->ns, have.names[i], err);
    reef_buf_free(&b);
    reef_buf_free(&path);
    slices_free(&have);
    return rc;
}

/* The Service is gone: its Endpoints (when it had a selector, so they were ours) and slices. */
static int remove_service(struct reef_endpoints *e, const char *ns, const char *name,
                          bool had_selector, struct reef_err *err)
{
    int rc = 0;
    if (had_selector) {
        struct reef_buf path = REEF_BUF_INIT;
        reef_buf_printf(&path, "/api/v1/namespaces/%s/endpoints/%s", ns, name);
        char *cur = NULL;
        if (reef_store_get(e->env.store, "endpoints", ns, name, &cur, NULL, NULL, NULL) == 0)
            rc = call(e, "DELETE", path.data, NULL, err);
        free(cur);
        reef_buf_free(&path);
    }
    struct slices have = {0};
    if (rc == 0)
        rc = list_slices(e, ns, name, &have, err);
    for (size_t i = 0; rc == 0 && i < have.n; i++)
        rc = delete_slice(e, ns, have.names[i], err);
    slices_free(&have);
    return rc;
}

static int sync_service(struct reef_endpoints *e, const char *ns, const char *name,
                        struct reef_err *err)
{
    struct svc *cached = svc_find(e, ns, name, NULL);
    char *obj = NULL;
    size_t len = 0;
    int rc = reef_store_get(e->env.store, "services", ns, name, &obj, &len, NULL, err);
    if (rc == -ENOENT) {
        rc = remove_service(e, ns, name, cached && cached->sel, err);
        if (rc == 0)
            svc_remove(e, ns, name);
        return rc;
    }
    if (rc < 0)
        return rc;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef__ep_desired w = {0};
    rc = reef_json_parse(&d, obj, len, NULL, err);
    if (rc < 0)
        goto out;
    struct svc *s = svc_get(e, ns, name);
    if (!s) {
        rc = reef_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    /* the selector as stored now (the watch may have fallen behind) */
    reef_label_selector_free(s->sel);
    s->sel = NULL;
    int sel;
    if (!reef__ep_has_selector(&d, &sel)) {
        svc_members_clear(s);
        goto out;
    }
    rc = reef_label_selector_from_map(&d, sel, &s->sel, err);
    if (rc == 0)
        rc = reef__ep_desired_init(&w, &d, s->sel, ns, name, err);
    struct reef_store_list_opts o = {.namespace = ns};
    if (rc == 0)
        rc = reef_store_list(e->env.store, "pods", &o, reef__ep_add_pod, &w, NULL, err);
    if (rc == 0)
        rc = reef__ep_finish(&w, err);
    if (rc < 0)
        goto out;
    rc = write_endpoints(e, &w, err);
    if (rc == 0)
        rc = write_slice(e, &w, err);
    /* the members are what the next pod change is routed by, whatever was written */
    svc_members_clear(s);
    s->members = calloc(w.npods ? w.npods : 1, sizeof(*s->members));
    for (size_t i = 0; s->members && i < w.npods; i++)
        if ((s->members[s->nmembers] = strdup(w.pods[i].name)))
            s->nmembers++;
out:
    reef__ep_desired_free(&w);
    reef_json_doc_free(&d);
    free(obj);
    return rc;
}

static void on_timer(uv_timer_t *t)
{
    struct reef_endpoints *e = t->data;
    e->armed = false;
    /* syncs write, and writes may mark more Services: work on a list of our own */
    struct key *todo = e->dirty;
    size_t n = e->ndirty;
    e->dirty = NULL;
    e->ndirty = e->capdirty = 0;
    for (size_t i = 0; i < n; i++) {
        struct reef_err err = {0};
        if (sync_service(e, todo[i].ns, todo[i].name, &err) < 0) {
            LOG_WARN(MOD, "service %s/%s: %s (retrying)", todo[i].ns, todo[i].name, err.msg);
            mark(e, todo[i].ns, todo[i].name, RETRY_MS);
        }
        free(todo[i].ns);
        free(todo[i].name);
    }
    free(todo);
}

/* ---- watches ---- */

static void on_service(void *arg, const struct reef_store_event *ev)
{
    struct reef_endpoints *e = arg;
    mark(e, ev->namespace, ev->name, 0);
}

static void on_pod(void *arg, const struct reef_store_event *ev)
{
    struct reef_endpoints *e = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, ev->object, ev->len, NULL, NULL) < 0)
        return;
    int labels = reef_json_find(&d, REEF_JSON_ROOT, "metadata.labels", NULL);
    for (size_t i = 0; i < e->nsvcs; i++) {
        struct svc *s = e->svcs[i];
        if (!s->sel || strcmp(s->ns, ev->namespace) != 0)
            continue;
        if (reef_label_selector_matches(s->sel, &d, labels) || svc_has_member(s, ev->name))
            mark(e, s->ns, s->name, 0);
    }
    reef_json_doc_free(&d);
}

/* Every Service now, and slices of ours whose Service went while the controller was not
 * running. */
static int mark_all(void *arg, const struct reef_store_item *it)
{
    struct reef_endpoints *e = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, it->object, it->len, NULL, NULL) == 0) {
        int sel;
        struct svc *s = svc_get(e, it->namespace, it->name);
        if (s && reef__ep_has_selector(&d, &sel) && !s->sel)
            reef_label_selector_from_map(&d, sel, &s->sel, NULL);
    }
    reef_json_doc_free(&d);
    mark(e, it->namespace, it->name, 0);
    return 0;
}

static int mark_orphan(void *arg, const struct reef_store_item *it)
{
    struct reef_endpoints *e = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, it->object, it->len, NULL, NULL) == 0) {
        char svc[254] = "";
        int v = reef_json_find(&d, REEF_JSON_ROOT,
                               "metadata.labels[\"" REEF__EP_LABEL_SERVICE "\"]", NULL);
        if (v >= 0 && reef_json_get_str(&d, v, svc, sizeof(svc), NULL) < 0)
            svc[0] = 0;
        if (svc[0] && !svc_find(e, it->namespace, svc, NULL))
            mark(e, it->namespace, svc, 0);
    }
    reef_json_doc_free(&d);
    return 0;
}

static void free_cb(uv_handle_t *h)
{
    struct reef_endpoints *e = h->data;
    for (size_t i = 0; i < e->nsvcs; i++)
        svc_free(e->svcs[i]);
    free(e->svcs);
    for (size_t i = 0; i < e->ndirty; i++) {
        free(e->dirty[i].ns);
        free(e->dirty[i].name);
    }
    free(e->dirty);
    free(e);
}

int reef_endpoints_start(const struct reef_ctl_env *env, struct reef_endpoints **out,
                         struct reef_err *err)
{
    *out = NULL;
    struct reef_endpoints *e = calloc(1, sizeof(*e));
    if (!e)
        return reef_err_set(err, -ENOMEM, "endpoints: out of memory");
    e->env = *env;
    int rc = uv_timer_init(env->loop, &e->timer);
    if (rc < 0) {
        free(e);
        return reef_err_set(err, rc, "endpoints: timer: %s", uv_strerror(rc));
    }
    e->timer.data = e;
    /* the list and the watches start at one revision, so nothing falls between them */
    int64_t rev = reef_store_rev(env->store);
    rc = reef_store_list(env->store, "services", NULL, mark_all, e, NULL, err);
    if (rc == 0) {
        struct reef_store_label l = {REEF__EP_LABEL_MANAGED, REEF__EP_MANAGED_BY};
        struct reef_store_list_opts o = {.labels = &l, .nlabels = 1};
        rc = reef_store_list(env->store, "endpointslices.discovery.k8s.io", &o, mark_orphan, e,
                             NULL, err);
    }
    if (rc == 0)
        rc = reef_store_watch(env->store, "services", NULL, rev, NULL, NULL, on_service, e,
                              &e->wsvc, err);
    if (rc == 0)
        rc = reef_store_watch(env->store, "pods", NULL, rev, NULL, NULL, on_pod, e, &e->wpod, err);
    if (rc < 0) {
        reef_err_wrap(err, "endpoints");
        reef_endpoints_stop(e);
        return rc;
    }
    *out = e;
    return 0;
}

void reef_endpoints_stop(struct reef_endpoints *e)
{
    if (!e)
        return;
    reef_store_unwatch(e->wsvc);
    reef_store_unwatch(e->wpod);
    e->wsvc = e->wpod = NULL;
    uv_timer_stop(&e->timer);
    uv_close((uv_handle_t *)&e->timer, free_cb);
}
