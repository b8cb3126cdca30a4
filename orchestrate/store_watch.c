/* Watches: the ring of recent events, per-resource watcher lists, replay and live delivery.
 *
 * A write publishes one event (refcounted, shared by the ring, the delivery queue and every
 * watcher), then delivery walks only the watchers of that resource. Nothing here touches the disk
 * except a replay older than the ring, which reads the change log once for that one watcher. */
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "orchestrate/store_int.h"

const char *reef_store_event_name(enum reef_store_event_type t)
{
    switch (t) {
    case REEF_STORE_ADDED:
        return "ADDED";
    case REEF_STORE_MODIFIED:
        return "MODIFIED";
    case REEF_STORE_DELETED:
        return "DELETED";
    }
    return "UNKNOWN";
}

static struct reef__wlist *find_list(struct reef_store *s, const char *resource)
{
    for (size_t i = 0; i < s->nwl; i++)
        if (strcmp(s->wl[i].resource, resource) == 0)
            return &s->wl[i];
    return NULL;
}

int reef__store_publish(struct reef_store *s, struct reef__sev *e)
{
    /* The ring: evicting the oldest raises the floor below which replays go to disk. */
    size_t cap = s->o.ring_size;
    if (s->ring_n == cap) {
        struct reef__sev *old = s->ring[s->ring_head];
        s->ring_floor = old->rev;
        reef__sev_unref(old);
        s->ring_head = (s->ring_head + 1) % cap;
        s->ring_n--;
    }
    s->ring[(s->ring_head + s->ring_n) % cap] = reef__sev_ref(e);
    s->ring_n++;

    if (!find_list(s, e->resource))
        return 0; /* nobody watches this resource: nothing to queue */
    if (s->q_n == s->q_cap) {
        size_t ncap = s->q_cap ? s->q_cap * 2 : 16;
        struct reef__sev **nq = malloc(ncap * sizeof(*nq));
        if (!nq)
            return -ENOMEM;
        for (size_t i = 0; i < s->q_n; i++)
            nq[i] = s->q[(s->q_head + i) % s->q_cap];
        free(s->q);
        s->q = nq;
        s->q_cap = ncap;
        s->q_head = 0;
    }
    s->q[(s->q_head + s->q_n) % s->q_cap] = reef__sev_ref(e);
    s->q_n++;
    return 0;
}

static bool eval(struct reef_store_watch *w, struct reef__sobj *o, struct reef_json_doc *doc,
                 int *parsed)
{
    if (*parsed == 0)
        *parsed = reef_json_parse(doc, o->data, o->len, NULL, NULL) == 0 ? 1 : -1;
    return *parsed > 0 && w->pred(w->pred_arg, doc);
}

/* The event's type as this watcher sees it through its predicate; 0 to skip it. A MODIFIED
 * event whose previous state is unknown counts as having matched before. */
static enum reef_store_event_type seen_as(struct reef_store_watch *w, struct reef__sev *e)
{
    if (!w->pred)
        return e->type;
    bool now = eval(w, e->obj, &e->obj_doc, &e->obj_parsed);
    if (e->type != REEF_STORE_MODIFIED)
        return now ? e->type : 0;
    bool before = e->prev ? eval(w, e->prev, &e->prev_doc, &e->prev_parsed) : true;
    if (before && now)
        return REEF_STORE_MODIFIED;
    if (now)
        return REEF_STORE_ADDED;
    if (before)
        return REEF_STORE_DELETED;
    return 0;
}

static void deliver_one(struct reef_store_watch *w, struct reef__sev *e)
{
    if (w->dead || e->rev <= w->rev)
        return;
    if (w->ns && strcmp(w->ns, e->ns) != 0)
        return;
    w->rev = e->rev; /* before the callback, so a write from inside it cannot re-deliver */
    enum reef_store_event_type t = seen_as(w, e);
    if (!t)
        return;
    struct reef_store_event ev = {
        .type = t,
        .rev = e->rev,
        .resource = e->resource,
        .namespace = e->ns,
        .name = e->name,
        .object = e->obj->data,
        .len = e->obj->len,
    };
    w->cb(w->cb_arg, &ev);
}

static void unlink_watch(struct reef_store *s, struct reef_store_watch *w)
{
    struct reef__wlist *l = w->list;
    if (w->prev)
        w->prev->next = w->next;
    else
        l->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        l->tail = w->prev;
    l->n--;
    s->nwatch--;
    free(w->ns);
    free(w);
}

static void sweep(struct reef_store *s)
{
    for (size_t i = 0; i < s->nwl && s->ndead; i++) {
        struct reef_store_watch *w = s->wl[i].head;
        while (w) {
            struct reef_store_watch *next = w->next;
            if (w->dead) {
                unlink_watch(s, w);
                s->ndead--;
            }
            w = next;
        }
    }
}

void reef__store_deliver(struct reef_store *s)
{
    if (s->delivering)
        return; /* a callback wrote: the loop further up delivers the new event next */
    s->delivering = 1;
    /* Events above visible_rev wait in the queue for reef_store_sync (group commit). */
    while (s->q_n && s->q[s->q_head]->rev <= s->visible_rev) {
        struct reef__sev *e = s->q[s->q_head];
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_n--;
        /* The list is looked up per event: a callback may add a resource's first watcher and so
         * grow the array of lists. New watchers are appended and skip this event by revision. */
        struct reef__wlist *l = find_list(s, e->resource);
        /* Watchers are separate allocations, freed only by the sweep below, so the saved next
         * pointer stays valid whatever the callback does. */
        for (struct reef_store_watch *w = l ? l->head : NULL; w;) {
            struct reef_store_watch *next = w->next;
            deliver_one(w, e);
            w = next;
        }
        reef__sev_unref(e);
    }
    s->delivering = 0;
    if (s->ndead)
        sweep(s);
}

/* ---- replay ---- */

struct evs {
    struct reef__sev **v;
    size_t n, cap;
};

static int evs_push(struct evs *a, struct reef__sev *e)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct reef__sev **nv = realloc(a->v, cap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = e;
    return 0;
}

static void evs_free(struct evs *a)
{
    for (size_t i = 0; i < a->n; i++)
        reef__sev_unref(a->v[i]);
    free(a->v);
}

static bool wants(const struct reef__sev *e, const char *resource, const char *ns, int64_t from)
{
    return e->rev > from && strcmp(e->resource, resource) == 0 && (!ns || strcmp(e->ns, ns) == 0);
}

/* The state before rev of one object, from the change log; NULL when compacted away. */
static int load_prev(struct reef_store *s, const struct reef__sev *e, struct reef__sobj **out,
                     struct reef_err *err)
{
    *out = NULL;
    _cleanup_db_query_ struct reef_db_query q = {0};
    int r = reef_db_query(s->db, &q, err, "read previous state",
                          "SELECT data FROM change WHERE resource=? AND namespace=? AND name=?"
                          " AND rev<? ORDER BY rev DESC LIMIT 1",
                          "sssI", e->resource, e->ns, e->name, e->rev);
    if (r == 0)
        r = reef_db_next(&q, err);
    if (r <= 0)
        return r;
    const char *d = reef_db_col_text(&q, 0);
    *out = reef__sobj_new(d ? d : "", (size_t)sqlite3_column_bytes(q.stmt, 0));
    return *out ? 0 : -ENOMEM;
}

/* Everything after from in the change log, merged with heartbeat events not yet flushed. */
static int replay_disk(struct reef_store *s, const char *resource, const char *ns, int64_t from,
                       bool want_prev, struct evs *out, struct reef_err *err)
{
    _cleanup_db_query_ struct reef_db_query q = {0};
    int r = ns ? reef_db_query(s->db, &q, err, "replay changes",
                               "SELECT rev, type, namespace, name, data, ts FROM change"
                               " WHERE resource=? AND namespace=? AND rev>? ORDER BY rev",
                               "ssI", resource, ns, from)
               : reef_db_query(s->db, &q, err, "replay changes",
                               "SELECT rev, type, namespace, name, data, ts FROM change"
                               " WHERE resource=? AND rev>? ORDER BY rev",
                               "sI", resource, from);
    size_t pi = 0;
    while (r == 0 && (r = reef_db_next(&q, err)) == 1) {
        int64_t rev = reef_db_col_int(&q, 0);
        for (; pi < s->npending && s->pending[pi]->rev < rev; pi++)
            if (wants(s->pending[pi], resource, ns, from) &&
                (r = evs_push(out, reef__sev_ref(s->pending[pi]))) < 0)
                break;
        if (r < 0)
            break;
        int type = (int)reef_db_col_int(&q, 1);
        const char *rns = reef_db_col_text(&q, 2), *name = reef_db_col_text(&q, 3);
        const char *data = reef_db_col_text(&q, 4);
        if (type < REEF_STORE_ADDED || type > REEF_STORE_DELETED || !rns || !name || !data ||
            strlen(rns) > REEF_STORE_MAX_NAME || strlen(name) > REEF_STORE_MAX_NAME) {
            r = reef_err_set(err, -EUCLEAN, "store: change %lld is malformed", (long long)rev);
            break;
        }
        struct reef__sobj *o = reef__sobj_new(data, (size_t)sqlite3_column_bytes(q.stmt, 4));
        struct reef__sev *e =
            o ? reef__sev_new((enum reef_store_event_type)type, rev, reef_db_col_int(&q, 5),
                              resource, rns, name, o, NULL)
              : NULL;
        reef__sobj_unref(o);
        if (!e || evs_push(out, e) < 0) {
            reef__sev_unref(e);
            r = -ENOMEM;
            break;
        }
        s->st.events_replayed++;
        r = 0;
    }
    reef_db_query_done(&q);
    if (r == -ENOMEM)
        return reef_err_set(err, -ENOMEM, "store: out of memory");
    if (r < 0)
        return r;
    for (; pi < s->npending; pi++)
        if (wants(s->pending[pi], resource, ns, from) &&
            evs_push(out, reef__sev_ref(s->pending[pi])) < 0)
            return reef_err_set(err, -ENOMEM, "store: out of memory");
    if (!want_prev)
        return 0;
    for (size_t i = 0; i < out->n; i++) {
        struct reef__sev *e = out->v[i];
        if (e->prev || e->type != REEF_STORE_MODIFIED)
            continue;
        if ((r = load_prev(s, e, &e->prev, err)) < 0)
            return r;
    }
    return 0;
}

static int replay_ring(struct reef_store *s, const char *resource, const char *ns, int64_t from,
                       struct evs *out)
{
    for (size_t i = 0; i < s->ring_n; i++) {
        struct reef__sev *e = s->ring[(s->ring_head + i) % s->o.ring_size];
        if (wants(e, resource, ns, from) && evs_push(out, reef__sev_ref(e)) < 0)
            return -ENOMEM;
    }
    return 0;
}

int reef_store_watch(struct reef_store *s, const char *resource, const char *namespace,
                     int64_t from_rev, reef_store_pred pred, void *pred_arg, reef_store_watch_cb cb,
                     void *cb_arg, struct reef_store_watch **out, struct reef_err *err)
{
    *out = NULL;
    if (!resource || !*resource || strlen(resource) > REEF_STORE_MAX_NAME || !cb || from_rev < 0)
        return reef_err_set(err, -EINVAL, "store: watch: resource and callback required");
    if (from_rev && from_rev < s->compact_rev)
        return reef_err_set(err, REEF_STORE_EXPIRED, "too old resource version: %lld (%lld)",
                            (long long)from_rev, (long long)s->compact_rev);
    struct evs ev = {0};
    int r = 0;
    /* What a watcher may see ends at visible_rev: later events wait in the delivery queue for
     * the sync (group commit) and reach this watcher from there. */
    int64_t upto = s->visible_rev;
    if (!from_rev)
        from_rev = upto;
    if (from_rev < upto) {
        /* Within the ring, the replay is a walk over memory. A store that has not yet
         * published anything since it opened has an empty ring and a floor at its revision. */
        if (from_rev >= s->ring_floor)
            r = replay_ring(s, resource, namespace, from_rev, &ev) < 0
                    ? reef_err_set(err, -ENOMEM, "store: out of memory")
                    : 0;
        else
            r = replay_disk(s, resource, namespace, from_rev, pred != NULL, &ev, err);
        if (r < 0) {
            evs_free(&ev);
            return reef_err_wrap(err, "store: watch %s from %lld", resource, (long long)from_rev);
        }
        while (ev.n && ev.v[ev.n - 1]->rev > upto)
            reef__sev_unref(ev.v[--ev.n]);
    }
    struct reef_store_watch *w = calloc(1, sizeof(*w));
    struct reef__wlist *l = find_list(s, resource);
    if (w && !l) {
        struct reef__wlist *nl = realloc(s->wl, (s->nwl + 1) * sizeof(*nl));
        if (nl) {
            s->wl = nl;
            l = &s->wl[s->nwl];
            memset(l, 0, sizeof(*l));
            l->resource = strdup(resource);
            if (l->resource) {
                s->nwl++;
                /* Lists moved: fix the back pointers of every watcher. */
                for (size_t i = 0; i < s->nwl; i++)
                    for (struct reef_store_watch *x = s->wl[i].head; x; x = x->next)
                        x->list = &s->wl[i];
            } else {
                l = NULL;
            }
        }
    }
    if (w && namespace && !(w->ns = strdup(namespace)))
        l = NULL;
    if (!w || !l) {
        if (w)
            free(w->ns);
        free(w);
        evs_free(&ev);
        return reef_err_set(err, -ENOMEM, "store: out of memory");
    }
    w->s = s;
    w->pred = pred;
    w->pred_arg = pred_arg;
    w->cb = cb;
    w->cb_arg = cb_arg;
    w->rev = from_rev;
    w->list = l;
    w->prev = l->tail;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    l->n++;
    s->nwatch++;
    *out = w;

    /* Replay to this watcher only, then it follows live writes: everything up to upto was in
     * the replay, so queued events at or below it are skipped by revision. */
    s->delivering++;
    for (size_t i = 0; i < ev.n; i++)
        deliver_one(w, ev.v[i]);
    s->delivering--;
    if (w->rev < upto)
        w->rev = upto;
    evs_free(&ev);
    if (w->dead)
        *out = NULL; /* it cancelled itself during the replay */
    if (!s->delivering && s->ndead)
        sweep(s);
    if (!s->delivering)
        reef__store_deliver(s);
    return r;
}

void reef_store_unwatch(struct reef_store_watch *w)
{
    if (!w || w->dead)
        return;
    struct reef_store *s = w->s;
    if (s->delivering) {
        w->dead = true;
        s->ndead++;
        return;
    }
    unlink_watch(s, w);
}

void reef__store_watch_free_all(struct reef_store *s)
{
    for (size_t i = 0; i < s->nwl; i++) {
        struct reef_store_watch *w = s->wl[i].head;
        while (w) {
            struct reef_store_watch *next = w->next;
            free(w->ns);
            free(w);
            w = next;
        }
        free(s->wl[i].resource);
    }
    free(s->wl);
    s->wl = NULL;
    s->nwl = 0;
    s->nwatch = 0;
    while (s->q_n) {
        reef__sev_unref(s->q[s->q_head]);
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_n--;
    }
    free(s->q);
    s->q = NULL;
}

void reef__store_ring_free(struct reef_store *s)
{
    for (size_t i = 0; i < s->ring_n; i++)
        reef__sev_unref(s->ring[(s->ring_head + i) % s->o.ring_size]);
    free(s->ring);
    s->ring = NULL;
    s->ring_n = 0;
}
