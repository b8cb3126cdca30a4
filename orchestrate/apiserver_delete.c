/* apiserver: deletion. What kube-apiserver and its garbage collector do, done at once where
 * upstream works asynchronously:
 * - a pod bound to a node is deleted gracefully (marked; its node agent deletes it with grace 0);
 * - an object with metadata.finalizers, or deleted with propagationPolicy Foreground, is only
 *   marked (deletionTimestamp, deletionGracePeriodSeconds 0); it goes when an update empties
 *   its finalizers, or, for the foregroundDeletion finalizer this file adds, when its last
 *   dependent with blockOwnerDeletion is gone (each delete of a dependent looks at its owners);
 * - Background deletes the dependents (ownerReferences naming the object's uid) with the object,
 *   Foreground before it, and Orphan strips that ownerReference from them so that another
 *   owner can adopt them (the garbage collector's "orphan" finalizer, done synchronously). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "orchestrate/apiserver.h"
#include "orchestrate/apiserver_int2.h"
#include "orchestrate/patch.h"

#define FOREGROUND_FINALIZER "foregroundDeletion"
#define MAX_DEPTH 8 /* Deployment → ReplicaSet → Pod is 2 */

enum policy { POL_BACKGROUND, POL_FOREGROUND, POL_ORPHAN };

static bool dry_run(struct reef__api_call *c)
{
    char v[16];
    return reef_http_req_query(c->req, "dryRun", v, sizeof(v)) > 0 && strcmp(v, "All") == 0;
}

static int delete_one(struct reef_apiserver *a, const char *resource, const char *ns,
                      const char *name, int64_t rev, struct reef_store_result *res,
                      struct reef_err *err)
{
    struct reef_store_cmd cmd = {.op = REEF_STORE_DELETE,
                                 .resource = resource,
                                 .namespace = ns,
                                 .name = name,
                                 .expected_rev = rev,
                                 .timestamp_ms = reef__api_now_ms()};
    return reef_store_apply(a->store, &cmd, res, err);
}

static int store_update(struct reef_apiserver *a, const char *resource, const char *ns,
                        const char *name, int64_t rev, const struct reef__jv *obj,
                        struct reef_store_result *res, struct reef_err *err)
{
    struct reef_buf b;
    reef_buf_init(&b);
    int rc = reef__jv_to_buf(obj, &b, err);
    if (rc == 0) {
        struct reef_store_cmd cmd = {.op = REEF_STORE_UPDATE,
                                     .resource = resource,
                                     .namespace = ns,
                                     .name = name,
                                     .expected_rev = rev,
                                     .object = b.data,
                                     .object_len = b.len,
                                     .timestamp_ms = reef__api_now_ms()};
        rc = reef_store_apply(a->store, &cmd, res, err);
    }
    reef_buf_free(&b);
    return rc;
}

static void now_rfc3339(int64_t plus_s, char ts[32])
{
    time_t when = (time_t)(reef__api_now_ms() / 1000 + plus_s);
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(ts, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct ns_item {
    char name[REEF_STORE_MAX_NAME + 1];
};
struct ns_collect {
    struct ns_item *items;
    size_t n, cap;
};

static int collect(void *arg, const struct reef_store_item *it)
{
    struct ns_collect *nc = arg;
    if (nc->n == nc->cap) {
        size_t cap = nc->cap ? nc->cap * 2 : 64;
        struct ns_item *p = realloc(nc->items, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        nc->items = p;
        nc->cap = cap;
    }
    reef_strlcpy(nc->items[nc->n++].name, it->name, sizeof(nc->items[0].name));
    return 0;
}

/* The names of r's objects in ns whose ownerReferences name uid (owner index). */
static void owned_by(struct reef_apiserver *a, const struct reef__api_res *r, const char *ns,
                     const char *uid, struct ns_collect *nc)
{
    struct reef_store_list_opts o = {.namespace = ns, .owner_uid = uid};
    struct reef_store_list_result lr;
    if (reef_store_list(a->store, r->store_key, &o, collect, nc, &lr, NULL) < 0)
        nc->n = 0;
}

/* ---- object helpers ---- */

static struct reef__jv *meta_of(struct reef__jv *obj)
{
    return reef__api_jv_obj(obj, "metadata");
}

static const char *uid_of(const struct reef__jv *obj)
{
    return reef__api_jv_str(reef__jv_get(obj, "metadata"), "uid");
}

static struct reef__jv *finalizers_of(const struct reef__jv *obj)
{
    const struct reef__jv *md = reef__jv_get(obj, "metadata");
    struct reef__jv *f = md && md->kind == REEF_JSON_OBJECT ? reef__jv_get(md, "finalizers") : NULL;
    return f && f->kind == REEF_JSON_ARRAY ? f : NULL;
}

static size_t nfinalizers(const struct reef__jv *obj)
{
    const struct reef__jv *f = finalizers_of(obj);
    return f ? f->len : 0;
}

static long finalizer_index(const struct reef__jv *obj, const char *name)
{
    const struct reef__jv *f = finalizers_of(obj);
    for (size_t i = 0; f && i < f->len; i++)
        if (reef__jv_is_str(f->items[i], name))
            return (long)i;
    return -1;
}

static bool terminating(const struct reef__jv *obj)
{
    const struct reef__jv *md = reef__jv_get(obj, "metadata");
    const struct reef__jv *dt =
        md && md->kind == REEF_JSON_OBJECT ? reef__jv_get(md, "deletionTimestamp") : NULL;
    return dt && dt->kind == REEF_JSON_STRING;
}

/* The stored object, parsed; NULL when missing or unreadable. */
static struct reef__jv *load(struct reef_apiserver *a, const char *resource, const char *ns,
                             const char *name, int64_t *rev)
{
    char *cur = NULL;
    size_t len = 0;
    if (reef_store_get(a->store, resource, ns, name, &cur, &len, rev, NULL) < 0)
        return NULL;
    struct reef__jv *obj = reef__jv_parse(cur, len, "stored object", NULL);
    free(cur);
    if (obj && obj->kind != REEF_JSON_OBJECT) {
        reef__jv_free(obj);
        obj = NULL;
    }
    return obj;
}

/* The built-in namespaced resource an ownerReference's apiVersion and kind name. */
static const struct reef__api_res *owner_res(const struct reef__jv *ref)
{
    const char *apiv = reef__api_jv_str(ref, "apiVersion");
    const char *kind = reef__api_jv_str(ref, "kind");
    if (!apiv || !kind)
        return NULL;
    const char *slash = strchr(apiv, '/');
    for (size_t i = 0; i < reef__api_nresources; i++) {
        const struct reef__api_res *r = &reef__api_resources[i];
        if (!r->namespaced || strcmp(r->kind, kind) != 0)
            continue;
        size_t gl = slash ? (size_t)(slash - apiv) : 0;
        if (strlen(r->group) == gl && strncmp(r->group, apiv, gl) == 0 &&
            strcmp(r->version, slash ? slash + 1 : apiv) == 0)
            return r;
    }
    return NULL;
}

static int delete_object(struct reef_apiserver *a, const struct reef__api_res *r, const char *ns,
                         const char *name, int64_t expected, int64_t grace, enum policy pol,
                         int depth, struct reef_store_result *res, struct reef_err *err);
static void finalize_owners(struct reef_apiserver *a, const char *ns, const struct reef__jv *obj,
                            int depth);

/* ---- dependents ---- */

/* Whether anything in ns names uid as its owner. */
static bool has_dependents(struct reef_apiserver *a, const char *ns, const char *uid)
{
    for (size_t i = 0; i < reef__api_nresources; i++) {
        const struct reef__api_res *r = &reef__api_resources[i];
        if (!r->namespaced)
            continue;
        struct ns_collect nc = {0};
        struct reef_store_list_opts o = {.namespace = ns, .owner_uid = uid, .limit = 1};
        struct reef_store_list_result lr;
        int rc = reef_store_list(a->store, r->store_key, &o, collect, &nc, &lr, NULL);
        free(nc.items);
        if (rc == 0 && nc.n)
            return true;
    }
    return false;
}

struct block_count {
    const char *uid;
    size_t n;
};

static int count_blocking(void *arg, const struct reef_store_item *it)
{
    struct block_count *bc = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, it->object, it->len, NULL, NULL) == 0) {
        int refs = reef_json_find(&d, REEF_JSON_ROOT, "metadata.ownerReferences", NULL);
        struct reef_json_iter i = reef_json_iter(&d, refs);
        while (reef_json_next(&d, &i)) {
            int u = reef_json_member(&d, i.val, "uid");
            int b = reef_json_member(&d, i.val, "blockOwnerDeletion");
            bool block = false;
            if (u >= 0 && reef_json_str_eq(&d, u, bc->uid) && b >= 0 &&
                reef_json_get_bool(&d, b, &block, NULL) == 0 && block)
                bc->n++;
        }
    }
    reef_json_doc_free(&d);
    return 0;
}

/* Dependents of uid in ns that hold their owner's foreground deletion. */
static size_t blocking_dependents(struct reef_apiserver *a, const char *ns, const char *uid)
{
    struct block_count bc = {.uid = uid};
    for (size_t i = 0; i < reef__api_nresources; i++) {
        const struct reef__api_res *r = &reef__api_resources[i];
        if (!r->namespaced)
            continue;
        struct reef_store_list_opts o = {.namespace = ns, .owner_uid = uid};
        struct reef_store_list_result lr;
        reef_store_list(a->store, r->store_key, &o, count_blocking, &bc, &lr, NULL);
    }
    return bc.n;
}

/* Another owner than uid that exists and is not itself waiting for its dependents to go: the
 * garbage collector's "solid" owner, which keeps a dependent alive. */
static bool solid_owner(struct reef_apiserver *a, const char *ns, const struct reef__jv *dep,
                        const char *uid)
{
    const struct reef__jv *md = reef__jv_get(dep, "metadata");
    const struct reef__jv *refs =
        md && md->kind == REEF_JSON_OBJECT ? reef__jv_get(md, "ownerReferences") : NULL;
    for (size_t i = 0; refs && refs->kind == REEF_JSON_ARRAY && i < refs->len; i++) {
        const struct reef__jv *ref = refs->items[i];
        const struct reef__api_res *r = owner_res(ref);
        const char *name = reef__api_jv_str(ref, "name");
        const char *ouid = reef__api_jv_str(ref, "uid");
        if (!r || !name || !ouid || strcmp(ouid, uid) == 0 || strlen(name) > REEF_STORE_MAX_NAME)
            continue;
        int64_t rev;
        struct reef__jv *owner = load(a, r->store_key, ns, name, &rev);
        const char *cur = owner ? uid_of(owner) : NULL;
        bool solid = cur && strcmp(cur, ouid) == 0 &&
                     !(terminating(owner) && finalizer_index(owner, FOREGROUND_FINALIZER) >= 0);
        reef__jv_free(owner);
        if (solid)
            return true;
    }
    return false;
}

/* Removes dep's ownerReferences to uid (the field goes with the last) and stores it. */
static void strip_ref(struct reef_apiserver *a, const struct reef__api_res *r, const char *ns,
                      const char *name, struct reef__jv *dep, int64_t rev, const char *uid)
{
    struct reef__jv *md = meta_of(dep);
    struct reef__jv *refs = md ? reef__jv_get(md, "ownerReferences") : NULL;
    if (!refs || refs->kind != REEF_JSON_ARRAY)
        return;
    for (size_t k = refs->len; k-- > 0;)
        if (reef__jv_is_str(reef__jv_get(refs->items[k], "uid"), uid))
            reef__jv_free(reef__jv_take(refs, k));
    if (refs->len == 0)
        reef__jv_del(md, "ownerReferences", 15);
    struct reef_store_result res = {0};
    store_update(a, r->store_key, ns, name, rev, dep, &res, NULL);
    reef_store_result_free(&res);
}

/* Calls fn for every object in ns (of every namespaced resource) with an ownerReference to uid,
 * loaded with its revision; fn takes dep. */
static void each_dependent(struct reef_apiserver *a, const char *ns, const char *uid,
                           void (*fn)(struct reef_apiserver *a, const struct reef__api_res *r,
                                      const char *ns, const char *name, struct reef__jv *dep,
                                      int64_t rev, const char *uid, void *ud),
                           void *ud)
{
    if (!uid || !uid[0])
        return;
    for (size_t i = 0; i < reef__api_nresources; i++) {
        const struct reef__api_res *r = &reef__api_resources[i];
        if (!r->namespaced)
            continue;
        struct ns_collect nc = {0};
        owned_by(a, r, ns, uid, &nc);
        for (size_t j = 0; j < nc.n; j++) {
            int64_t rev;
            struct reef__jv *dep = load(a, r->store_key, ns, nc.items[j].name, &rev);
            if (dep)
                fn(a, r, ns, nc.items[j].name, dep, rev, uid, ud);
        }
        free(nc.items);
    }
}

struct cascade {
    bool foreground;
    int depth;
};

/* One dependent of a Background or Foreground deletion: deleted, unless another solid owner
 * keeps it (then it only loses its reference to uid). Under a foreground deletion, a dependent
 * with dependents of its own is deleted in the foreground too, so the chain of
 * blockOwnerDeletion holds (as the garbage collector does). */
static void cascade_one(struct reef_apiserver *a, const struct reef__api_res *r, const char *ns,
                        const char *name, struct reef__jv *dep, int64_t rev, const char *uid,
                        void *ud)
{
    const struct cascade *c = ud;
    if (solid_owner(a, ns, dep, uid)) {
        strip_ref(a, r, ns, name, dep, rev, uid);
        reef__jv_free(dep);
        return;
    }
    enum policy pol = POL_BACKGROUND;
    const char *duid = uid_of(dep);
    if (c->foreground && strcmp(r->plural, "pods") != 0 && duid && has_dependents(a, ns, duid))
        pol = POL_FOREGROUND;
    reef__jv_free(dep);
    struct reef_store_result res = {0};
    delete_object(a, r, ns, name, 0, -1, pol, c->depth + 1, &res, NULL);
    reef_store_result_free(&res);
}

static void delete_dependents(struct reef_apiserver *a, const char *ns, const char *uid,
                              bool foreground, int depth)
{
    struct cascade c = {foreground, depth};
    if (depth <= MAX_DEPTH)
        each_dependent(a, ns, uid, cascade_one, &c);
}

/* Orphan: a dependent of uid loses its ownerReference to it. */
static void orphan_one(struct reef_apiserver *a, const struct reef__api_res *r, const char *ns,
                       const char *name, struct reef__jv *dep, int64_t rev, const char *uid,
                       void *ud)
{
    (void)ud;
    strip_ref(a, r, ns, name, dep, rev, uid);
    reef__jv_free(dep);
}

static void orphan_dependents(struct reef_apiserver *a, const char *ns, const char *uid)
{
    each_dependent(a, ns, uid, orphan_one, NULL);
}

/* ---- finalizers ---- */

/* After the object went: its dependents follow (Background), and owners waiting for it in the
 * foreground may go in turn. */
static void after_delete(struct reef_apiserver *a, const char *ns, const char *text, size_t len,
                         int depth)
{
    struct reef__jv *obj = reef__jv_parse(text, len, "deleted object", NULL);
    if (!obj)
        return;
    if (ns[0]) {
        delete_dependents(a, ns, uid_of(obj), false, depth);
        finalize_owners(a, ns, obj, depth);
    }
    reef__jv_free(obj);
}

/* A terminating owner in the foreground loses its foregroundDeletion finalizer once no
 * dependent blocks it, and goes when no finalizer is left. */
static void finalize_foreground(struct reef_apiserver *a, const struct reef__api_res *r,
                                const char *ns, const char *name, const char *uid, int depth)
{
    if (depth > MAX_DEPTH)
        return;
    int64_t rev;
    struct reef__jv *obj = load(a, r->store_key, ns, name, &rev);
    long fi = obj ? finalizer_index(obj, FOREGROUND_FINALIZER) : -1;
    const char *ouid = obj ? uid_of(obj) : NULL;
    if (fi < 0 || !terminating(obj) || !ouid || strcmp(ouid, uid) != 0 ||
        blocking_dependents(a, ns, uid) > 0) {
        reef__jv_free(obj);
        return;
    }
    struct reef__jv *f = finalizers_of(obj);
    reef__jv_free(reef__jv_take(f, (size_t)fi));
    struct reef_store_result res = {0};
    if (f->len == 0) {
        reef__jv_del(meta_of(obj), "finalizers", 10);
        if (delete_one(a, r->store_key, ns, name, rev, &res, NULL) == 0)
            after_delete(a, ns, res.object, res.len, depth + 1);
    } else {
        store_update(a, r->store_key, ns, name, rev, obj, &res, NULL);
    }
    reef_store_result_free(&res);
    reef__jv_free(obj);
}

static void finalize_owners(struct reef_apiserver *a, const char *ns, const struct reef__jv *obj,
                            int depth)
{
    const struct reef__jv *md = reef__jv_get(obj, "metadata");
    const struct reef__jv *refs =
        md && md->kind == REEF_JSON_OBJECT ? reef__jv_get(md, "ownerReferences") : NULL;
    for (size_t i = 0; refs && refs->kind == REEF_JSON_ARRAY && i < refs->len; i++) {
        const struct reef__jv *ref = refs->items[i];
        const struct reef__api_res *r = owner_res(ref);
        const char *name = reef__api_jv_str(ref, "name");
        const char *uid = reef__api_jv_str(ref, "uid");
        if (r && name && uid && strlen(name) <= REEF_STORE_MAX_NAME)
            finalize_foreground(a, r, ns, name, uid, depth + 1);
    }
}

void reef__api_after_update(struct reef_apiserver *a, const struct reef__api_res *r, const char *ns,
                            const struct reef__jv *old, const char *stored, size_t len)
{
    if (nfinalizers(old) == 0)
        return;
    struct reef__jv *obj = reef__jv_parse(stored, len, "stored object", NULL);
    const struct reef__jv *md = obj && obj->kind == REEF_JSON_OBJECT ? meta_of(obj) : NULL;
    const struct reef__jv *g = md ? reef__jv_get(md, "deletionGracePeriodSeconds") : NULL;
    const char *name = md ? reef__api_jv_str(md, "name") : NULL;
    /* a pod still in its grace period waits for its node agent instead */
    bool zero = g && g->kind == REEF_JSON_NUMBER && strcmp(g->s.p, "0") == 0;
    struct reef_store_result res = {0};
    if (name && zero && terminating(obj) && nfinalizers(obj) == 0 &&
        delete_one(a, r->store_key, r->namespaced ? ns : "", name, 0, &res, NULL) == 0 &&
        r->namespaced)
        after_delete(a, ns, res.object, res.len, 0);
    reef_store_result_free(&res);
    reef__jv_free(obj);
}

/* ---- delete ---- */

/* Graceful deletion of a pod bound to a node: the first DELETE only marks it (deletionTimestamp
 * = now + grace, deletionGracePeriodSeconds); the node agent stops its containers and deletes it
 * with grace 0. grace < 0 means the pod's own terminationGracePeriodSeconds. Returns 1 with the
 * pod's state in *res (marked now or before), 0 when it is to be deleted at once, or an error. */
static int pod_mark(struct reef_apiserver *a, const char *ns, const char *name, int64_t grace,
                    int64_t expected, struct reef_store_result *res, struct reef_err *err)
{
    char *cur = NULL;
    size_t len = 0;
    int64_t rev = 0;
    if (reef_store_get(a->store, "pods", ns, name, &cur, &len, &rev, NULL) < 0)
        return 0; /* the delete reports it */
    struct reef__jv *obj = reef__jv_parse(cur, len, "stored object", NULL);
    if (!obj) {
        free(cur);
        return 0;
    }
    int rc = 0;
    struct reef__jv *spec = reef__jv_get(obj, "spec");
    const char *node = reef__api_jv_str(spec, "nodeName");
    struct reef__jv *md = reef__api_jv_obj(obj, "metadata");
    if (grace < 0) {
        const struct reef__jv *g =
            spec ? reef__jv_get(spec, "terminationGracePeriodSeconds") : NULL;
        long long x = 30;
        if (g && g->kind == REEF_JSON_NUMBER && reef_str_to_ll(g->s.p, 0, 1LL << 40, &x) == 0)
            grace = x;
        else
            grace = 30;
    }
    if (!node || !node[0] || grace == 0 || !md)
        goto out;
    if (expected && expected != rev) {
        rc = -ESTALE;
        goto out;
    }
    if (reef__jv_get(md, "deletionTimestamp")) {
        /* already terminating: the object as it is */
        res->object = cur;
        res->len = len;
        res->rev = rev;
        cur = NULL;
        rc = 1;
        goto out;
    }
    time_t when = (time_t)(reef__api_now_ms() / 1000 + grace);
    struct tm tm;
    char ts[32];
    gmtime_r(&when, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct reef_buf b;
    reef_buf_init(&b);
    if (reef__api_jv_set_str(md, "deletionTimestamp", ts) < 0 ||
        reef__api_jv_set_int(md, "deletionGracePeriodSeconds", grace) < 0 ||
        reef__jv_to_buf(obj, &b, err) < 0) {
        reef_buf_free(&b);
        rc = reef_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    struct reef_store_cmd cmd = {.op = REEF_STORE_UPDATE,
                                 .resource = "pods",
                                 .namespace = ns,
                                 .name = name,
                                 .expected_rev = rev,
                                 .object = b.data,
                                 .object_len = b.len,
                                 .timestamp_ms = reef__api_now_ms()};
    rc = reef_store_apply(a->store, &cmd, res, err);
    reef_buf_free(&b);
    if (rc == 0)
        rc = 1;
out:
    free(cur);
    reef__jv_free(obj);
    return rc;
}

/* Marks obj (stored at rev) as terminating: deletionTimestamp now, grace 0, and the
 * foregroundDeletion finalizer for pol Foreground. Answers its state in *res. */
static int mark(struct reef_apiserver *a, const struct reef__api_res *r, const char *ns,
                const char *name, struct reef__jv *obj, int64_t rev, enum policy pol,
                struct reef_store_result *res, struct reef_err *err)
{
    struct reef__jv *md = meta_of(obj);
    if (!md)
        return reef_err_set(err, -ENOMEM, "out of memory");
    bool change = false;
    if (!terminating(obj)) {
        char ts[32];
        now_rfc3339(0, ts);
        if (reef__api_jv_set_str(md, "deletionTimestamp", ts) < 0)
            return reef_err_set(err, -ENOMEM, "out of memory");
        change = true;
    }
    const struct reef__jv *g = reef__jv_get(md, "deletionGracePeriodSeconds");
    if (!g || g->kind != REEF_JSON_NUMBER || strcmp(g->s.p, "0") != 0) {
        if (reef__api_jv_set_int(md, "deletionGracePeriodSeconds", 0) < 0)
            return reef_err_set(err, -ENOMEM, "out of memory");
        change = true;
    }
    if (pol == POL_FOREGROUND && finalizer_index(obj, FOREGROUND_FINALIZER) < 0) {
        struct reef__jv *f = finalizers_of(obj);
        if (!f) {
            f = reef__jv_new(REEF_JSON_ARRAY);
            if (!f || reef__jv_set(md, "finalizers", 10, f) < 0)
                return reef_err_set(err, -ENOMEM, "out of memory");
        }
        struct reef__jv *s = reef__jv_new_str(FOREGROUND_FINALIZER, strlen(FOREGROUND_FINALIZER));
        if (!s || reef__jv_push(f, s) < 0)
            return reef_err_set(err, -ENOMEM, "out of memory");
        change = true;
    }
    if (change)
        return store_update(a, r->store_key, ns, name, rev, obj, res, err);
    struct reef_buf b;
    reef_buf_init(&b);
    if (reef__jv_to_buf(obj, &b, err) < 0) {
        reef_buf_free(&b);
        return -ENOMEM;
    }
    res->len = b.len;
    res->rev = rev;
    res->object = reef_buf_steal(&b);
    return res->object ? 0 : -ENOMEM;
}

/* Deletes (0, the last state in *res) or marks (1, the current state in *res) one object, with
 * everything that follows from it. grace < 0: the pod's own. */
static int delete_object(struct reef_apiserver *a, const struct reef__api_res *r, const char *ns,
                         const char *name, int64_t expected, int64_t grace, enum policy pol,
                         int depth, struct reef_store_result *res, struct reef_err *err)
{
    if (depth > MAX_DEPTH)
        return 0;
    int rc;
    if (strcmp(r->plural, "pods") == 0 &&
        (rc = pod_mark(a, ns, name, grace, expected, res, err)) != 0)
        return rc;
    int64_t rev = 0;
    struct reef__jv *obj = load(a, r->store_key, ns, name, &rev);
    if (!obj) /* missing or unreadable: the store's delete reports it */
        return delete_one(a, r->store_key, ns, name, expected, res, err);
    if (expected && expected != rev) {
        reef__jv_free(obj);
        return reef_err_set(err, -ESTALE, "the object has been modified");
    }
    char uid[REEF_STORE_UID_LEN + 1] = "";
    if (uid_of(obj))
        reef_strlcpy(uid, uid_of(obj), sizeof(uid));
    if (pol == POL_FOREGROUND || nfinalizers(obj) > 0) {
        rc = mark(a, r, ns, name, obj, rev, pol, res, err);
        reef__jv_free(obj);
        if (rc < 0)
            return rc;
        /* dependents are namespaced objects in their owner's namespace */
        if (!r->namespaced) {
            if (pol == POL_FOREGROUND)
                finalize_foreground(a, r, ns, name, uid, depth);
            return 1;
        }
        if (pol == POL_ORPHAN) {
            orphan_dependents(a, ns, uid);
        } else if (pol == POL_FOREGROUND) {
            delete_dependents(a, ns, uid, true, depth);
            finalize_foreground(a, r, ns, name, uid, depth);
        }
        return 1;
    }
    reef__jv_free(obj);
    rc = delete_one(a, r->store_key, ns, name, rev, res, err);
    if (rc < 0)
        return rc;
    if (r->namespaced && pol == POL_ORPHAN) {
        orphan_dependents(a, ns, uid);
        struct reef__jv *gone = reef__jv_parse(res->object, res->len, "deleted object", NULL);
        if (gone)
            finalize_owners(a, ns, gone, depth);
        reef__jv_free(gone);
    } else if (r->namespaced) {
        after_delete(a, ns, res->object, res->len, depth);
    }
    return 0;
}

/* A namespace goes with everything in it (upstream's namespace controller, done at once). */
static void delete_namespace_contents(struct reef_apiserver *a, const char *ns)
{
    for (size_t i = 0; i < reef__api_nresources; i++) {
        const struct reef__api_res *r = &reef__api_resources[i];
        if (!r->namespaced)
            continue;
        struct ns_collect nc = {0};
        struct reef_store_list_opts o = {.namespace = ns};
        struct reef_store_list_result lr;
        if (reef_store_list(a->store, r->store_key, &o, collect, &nc, &lr, NULL) == 0) {
            for (size_t j = 0; j < nc.n; j++)
                delete_one(a, r->store_key, ns, nc.items[j].name, 0, NULL, NULL);
        }
        free(nc.items);
    }
}

/* propagationPolicy of the query; -1 (and a 400 answered) when it is not one of the three. */
static int query_policy(struct reef__api_call *c, enum policy *pol)
{
    char pp[32];
    if (reef_http_req_query(c->req, "propagationPolicy", pp, sizeof(pp)) <= 0)
        return 0;
    if (strcmp(pp, "Orphan") == 0)
        *pol = POL_ORPHAN;
    else if (strcmp(pp, "Foreground") == 0)
        *pol = POL_FOREGROUND;
    else if (strcmp(pp, "Background") == 0)
        *pol = POL_BACKGROUND;
    else
        return -1;
    return 0;
}

void reef__api_delete(struct reef__api_call *c)
{
    struct reef_err err = {0};
    int64_t expected = 0, grace = -1;
    char gq[32];
    if (reef_http_req_query(c->req, "gracePeriodSeconds", gq, sizeof(gq)) > 0) {
        long long x;
        if (reef_str_to_ll(gq, 0, 1LL << 40, &x) == 0)
            grace = x;
    }
    enum policy pol = POL_BACKGROUND;
    if (query_policy(c, &pol) < 0)
        return reef__api_status(c->res, 422, "Invalid", c->name, c->r, NULL,
                                "propagationPolicy: Unsupported value");
    char od[16];
    if (reef_http_req_query(c->req, "orphanDependents", od, sizeof(od)) > 0)
        pol = strcmp(od, "true") == 0 ? POL_ORPHAN : pol;
    if (c->req->body && c->req->body_len) {
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        if (reef_json_parse(&d, c->req->body, c->req->body_len, NULL, &err) < 0) {
            reef_json_doc_free(&d);
            return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
        }
        int v = reef_json_find(&d, REEF_JSON_ROOT, "preconditions.resourceVersion", NULL);
        char rv[32];
        if (v >= 0 && reef_json_get_str(&d, v, rv, sizeof(rv), NULL) == 0) {
            long long x;
            if (reef_str_to_ll(rv, 1, INT64_MAX, &x) == 0)
                expected = x;
        }
        v = reef_json_member(&d, REEF_JSON_ROOT, "gracePeriodSeconds");
        int64_t g;
        if (v >= 0 && reef_json_get_int(&d, v, &g, NULL) == 0 && g >= 0)
            grace = g;
        v = reef_json_member(&d, REEF_JSON_ROOT, "orphanDependents");
        bool orphan = false;
        if (v >= 0 && reef_json_get_bool(&d, v, &orphan, NULL) == 0)
            pol = orphan ? POL_ORPHAN : pol;
        v = reef_json_member(&d, REEF_JSON_ROOT, "propagationPolicy");
        if (v >= 0 && reef_json_kind(&d, v) != REEF_JSON_NULL) {
            if (reef_json_str_eq(&d, v, "Orphan"))
                pol = POL_ORPHAN;
            else if (reef_json_str_eq(&d, v, "Foreground"))
                pol = POL_FOREGROUND;
            else if (reef_json_str_eq(&d, v, "Background"))
                pol = POL_BACKGROUND;
            else {
                reef_json_doc_free(&d);
                return reef__api_status(c->res, 422, "Invalid", c->name, c->r, NULL,
                                        "propagationPolicy: Unsupported value");
            }
        }
        reef_json_doc_free(&d);
    }
    if (strcmp(c->r->plural, "namespaces") == 0 &&
        (strcmp(c->name, "default") == 0 || strcmp(c->name, "kube-system") == 0 ||
         strcmp(c->name, "kube-public") == 0))
        return reef__api_status(c->res, 403, "Forbidden", c->name, c->r, NULL,
                                "namespaces \"%s\" is forbidden: this namespace may not be "
                                "deleted",
                                c->name);
    struct reef_store_result res = {0};
    int r;
    if (dry_run(c)) {
        int64_t currev = 0;
        r = reef_store_get(c->a->store, c->r->store_key, c->r->namespaced ? c->ns : "", c->name,
                           &res.object, &res.len, &currev, &err);
        if (r == 0 && expected && expected != currev)
            r = -ESTALE;
        if (r < 0)
            return reef__api_error(c, r, &err);
        reef__api_send_object(c, 200, res.object, res.len);
        free(res.object);
        return;
    }
    if (strcmp(c->r->plural, "namespaces") == 0) {
        r = delete_one(c->a, c->r->store_key, "", c->name, expected, &res, &err);
        if (r == 0)
            delete_namespace_contents(c->a, c->name);
    } else {
        r = delete_object(c->a, c->r, c->r->namespaced ? c->ns : "", c->name, expected, grace, pol,
                          0, &res, &err);
    }
    if (r < 0)
        return reef__api_error(c, r, &err);
    reef__api_send_object(c, 200, res.object, res.len);
    reef_store_result_free(&res);
}

/* DELETE on a collection (deletecollection): every object the selectors match, each as a
 * DELETE of its own would go (graceful pods, finalizers, cascade). Answers a Success Status. */
void reef__api_delete_collection(struct reef__api_call *c)
{
    enum policy pol = POL_BACKGROUND;
    if (query_policy(c, &pol) < 0)
        return reef__api_status(c->res, 422, "Invalid", "", c->r, NULL,
                                "propagationPolicy: Unsupported value");
    struct reef__api_sel sel;
    if (reef__api_sel_parse(c, &sel) < 0)
        return;
    struct ns_collect nc = {0};
    struct reef_store_list_opts o = {
        .namespace = c->ns[0] ? c->ns : NULL, .pred = reef__api_sel_match, .pred_arg = &sel};
    struct reef_store_list_result lr;
    struct reef_err err = {0};
    int r = reef_store_list(c->a->store, c->r->store_key, &o, collect, &nc, &lr, &err);
    reef__api_sel_free(&sel);
    if (r < 0) {
        free(nc.items);
        return reef__api_error(c, -EIO, &err);
    }
    for (size_t i = 0; i < nc.n && !dry_run(c); i++) {
        struct reef_store_result res = {0};
        delete_object(c->a, c->r, c->r->namespaced ? c->ns : "", nc.items[i].name, 0, -1, pol, 0,
                      &res, NULL);
        reef_store_result_free(&res);
    }
    free(nc.items);
    static const char ok[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                             "\"status\":\"Success\"}";
    reef_http_res_send(c->res, 200, "application/json", ok, sizeof(ok) - 1);
}
