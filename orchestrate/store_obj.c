/* The object side of the store: how a command's JSON becomes the stored object, which changes
 * count as heartbeats, and the columns and side tables extracted on write. */
#include <string.h>
#include <time.h>

#include "core/cleanup.h"
#include "orchestrate/store_int.h"

/* Members of metadata the store owns: whatever a client sends for them is replaced. */
static const char *const owned_meta[] = {"name",       "namespace",        "uid", "resourceVersion",
                                         "generation", "creationTimestamp"};

static bool is_owned_meta(const struct reef_json_doc *d, int key)
{
    for (size_t i = 0; i < REEF_ARRAY_LEN(owned_meta); i++)
        if (reef_json_str_eq(d, key, owned_meta[i]))
            return true;
    return false;
}

int reef__store_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms < 0 || !gmtime_r(&t, &tm))
        return -EINVAL;
    return strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0 ? 0 : -EINVAL;
}

static int check_meta_str(const struct reef_json_doc *d, int meta, const char *key,
                          const char *want, struct reef_err *err)
{
    int v = reef_json_member(d, meta, key);
    if (v < 0)
        return 0;
    if (reef_json_kind(d, v) == REEF_JSON_NULL)
        return 0;
    if (reef_json_kind(d, v) != REEF_JSON_STRING)
        return reef_err_set(err, -EINVAL, "metadata.%s: expected a string", key);
    /* An empty namespace in the body means "the one in the URL", as kube-apiserver takes it. */
    if (strcmp(key, "namespace") == 0 && reef_json_str_eq(d, v, ""))
        return 0;
    if (!reef_json_str_eq(d, v, want))
        return reef_err_set(err, -EINVAL, "metadata.%s in the object does not match \"%s\"", key,
                            want);
    return 0;
}

static void put_server_meta(struct reef_json_writer *w, const struct reef__build *b)
{
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)b->rev);
    reef_json_key(w, "name");
    reef_json_put_str(w, b->name);
    if (b->ns[0]) {
        reef_json_key(w, "namespace");
        reef_json_put_str(w, b->ns);
    }
    reef_json_key(w, "uid");
    reef_json_put_str(w, b->uid);
    reef_json_key(w, "resourceVersion");
    reef_json_put_str(w, rv);
    reef_json_key(w, "generation");
    reef_json_put_int(w, b->generation);
    reef_json_key(w, "creationTimestamp");
    reef_json_put_str(w, b->created);
}

int reef__store_build(const struct reef_json_doc *d, const struct reef__build *b,
                      struct reef_buf *out, struct reef_err *err)
{
    if (reef_json_kind(d, REEF_JSON_ROOT) != REEF_JSON_OBJECT)
        return reef_err_set(err, -EINVAL, "object: expected a JSON object");
    int meta = reef_json_member(d, REEF_JSON_ROOT, "metadata");
    if (meta >= 0) {
        if (reef_json_kind(d, meta) != REEF_JSON_OBJECT)
            return reef_err_set(err, -EINVAL, "metadata: expected an object");
        int r = check_meta_str(d, meta, "name", b->name, err);
        if (r == 0)
            r = check_meta_str(d, meta, "namespace", b->ns, err);
        if (r < 0)
            return r;
    }
    struct reef_json_writer w;
    reef_json_writer_init(&w, out, 0);
    reef_json_begin_object(&w);
    struct reef_json_iter it = reef_json_iter(d, REEF_JSON_ROOT);
    while (reef_json_next(d, &it)) {
        if (reef_json_str_eq(d, it.key, "metadata")) {
            if (it.val != meta)
                continue; /* a repeated key: only the last one counts, as for lookups */
            reef_json_key(&w, "metadata");
            reef_json_begin_object(&w);
            put_server_meta(&w, b);
            struct reef_json_iter mi = reef_json_iter(d, meta);
            while (reef_json_next(d, &mi)) {
                if (is_owned_meta(d, mi.key))
                    continue;
                reef_json_key_from(&w, d, mi.key);
                reef_json_put_value(&w, d, mi.val);
            }
            reef_json_end_object(&w);
            continue;
        }
        reef_json_key_from(&w, d, it.key);
        reef_json_put_value(&w, d, it.val);
    }
    if (meta < 0) {
        reef_json_key(&w, "metadata");
        reef_json_begin_object(&w);
        put_server_meta(&w, b);
        reef_json_end_object(&w);
    }
    reef_json_end_object(&w);
    return reef_json_finish(&w, err);
}

/* ---- masked equality ---- */

static bool masked(const char *path, const char *const *masks)
{
    for (size_t i = 0; masks[i]; i++)
        if (strcmp(path, masks[i]) == 0)
            return true;
    return false;
}

/* Appends ".key" (or "key" at the root) to path[0..plen); the new length, or 0 when the key
 * cannot be named (too long, escaped): such members are compared, never masked. */
static size_t path_push(char *path, size_t plen, size_t cap, const struct reef_json_doc *d, int key)
{
    const char *k;
    size_t kn;
    if (reef_json_str_view(d, key, &k, &kn) < 0)
        return 0;
    size_t need = plen + (plen ? 1 : 0) + kn;
    if (need + 1 > cap)
        return 0;
    if (plen)
        path[plen++] = '.';
    memcpy(path + plen, k, kn);
    path[need] = '\0';
    return need;
}

static bool eq_rec(const struct reef_json_doc *a, int va, const struct reef_json_doc *b, int vb,
                   const char *const *masks, char *path, size_t plen, size_t cap)
{
    enum reef_json_kind ka = reef_json_kind(a, va), kb = reef_json_kind(b, vb);
    if (ka != kb)
        return false;
    if (ka == REEF_JSON_ARRAY) {
        if (reef_json_count(a, va) != reef_json_count(b, vb))
            return false;
        size_t n = plen;
        if (plen + 3 > cap)
            return reef_json_equal(a, va, b, vb);
        memcpy(path + plen, "[]", 3);
        n = plen + 2;
        struct reef_json_iter ia = reef_json_iter(a, va), ib = reef_json_iter(b, vb);
        while (reef_json_next(a, &ia) && reef_json_next(b, &ib)) {
            if (!eq_rec(a, ia.val, b, ib.val, masks, path, n, cap))
                return false;
            path[n] = '\0';
        }
        path[plen] = '\0';
        return true;
    }
    if (ka != REEF_JSON_OBJECT)
        return reef_json_equal(a, va, b, vb);
    int na = 0, nb = 0;
    struct reef_json_iter it = reef_json_iter(a, va);
    while (reef_json_next(a, &it)) {
        size_t n = path_push(path, plen, cap, a, it.key);
        if (n && masked(path, masks)) {
            path[plen] = '\0';
            continue;
        }
        na++;
        const char *k;
        size_t kn;
        int other;
        if (reef_json_str_view(a, it.key, &k, &kn) == 0) {
            other = reef_json_membern(b, vb, k, kn);
        } else {
            struct reef_buf kb2 = REEF_BUF_INIT;
            other = reef_json_get_strbuf(a, it.key, &kb2, NULL) == 0
                        ? reef_json_membern(b, vb, kb2.data ? kb2.data : "", kb2.len)
                        : -EINVAL;
            reef_buf_free(&kb2);
        }
        if (other < 0) {
            path[plen] = '\0';
            return false;
        }
        bool eq = n ? eq_rec(a, it.val, b, other, masks, path, n, cap)
                    : reef_json_equal(a, it.val, b, other);
        path[plen] = '\0';
        if (!eq)
            return false;
    }
    it = reef_json_iter(b, vb);
    while (reef_json_next(b, &it)) {
        size_t n = path_push(path, plen, cap, b, it.key);
        if (!(n && masked(path, masks)))
            nb++;
        path[plen] = '\0';
    }
    return na == nb;
}

bool reef__store_equal_masked(const struct reef_json_doc *a, const struct reef_json_doc *b,
                              const char *const *masks)
{
    char path[512] = "";
    return eq_rec(a, REEF_JSON_ROOT, b, REEF_JSON_ROOT, masks, path, 0, sizeof(path));
}

bool reef__store_is_heartbeat(const char *resource, const struct reef_json_doc *old_doc,
                              const struct reef_json_doc *new_doc)
{
    static const char *const lease[] = {"metadata.resourceVersion", "metadata.generation",
                                        "metadata.managedFields", "spec.renewTime", NULL};
    static const char *const node[] = {"metadata.resourceVersion", "metadata.generation",
                                       "metadata.managedFields",
                                       "status.conditions[].lastHeartbeatTime", NULL};
    if (strcmp(resource, "leases.coordination.k8s.io") == 0)
        return reef__store_equal_masked(old_doc, new_doc, lease);
    if (strcmp(resource, "nodes") == 0)
        return reef__store_equal_masked(old_doc, new_doc, node);
    return false;
}

/* ---- extracted columns ---- */

static char *str_at(const struct reef_json_doc *d, const char *path)
{
    int v = reef_json_find(d, REEF_JSON_ROOT, path, NULL);
    char *s = NULL;
    if (v >= 0 && reef_json_kind(d, v) == REEF_JSON_STRING)
        reef_json_get_strdup(d, v, &s, NULL);
    return s;
}

int reef__store_pod_cols(const char *resource, const struct reef_json_doc *d, char **node,
                         char **phase)
{
    *node = *phase = NULL;
    if (strcmp(resource, "pods") != 0)
        return 0;
    *node = str_at(d, "spec.nodeName");
    if (!*node)
        *node = strdup("");
    *phase = str_at(d, "status.phase");
    return *node ? 0 : -ENOMEM;
}

int reef__store_index_sides(struct reef_store *s, int64_t id, const struct reef_json_doc *d,
                            bool replace, struct reef_err *err)
{
    int r;
    if (replace) {
        r = reef_db_exec(s->db, err, "clear labels", "DELETE FROM label WHERE obj=?", "I", id);
        if (r == 0)
            r = reef_db_exec(s->db, err, "clear owners", "DELETE FROM owner WHERE obj=?", "I", id);
        if (r < 0)
            return r;
    }
    struct reef_buf k = REEF_BUF_INIT, v = REEF_BUF_INIT;
    r = 0;
    int labels = reef_json_find(d, REEF_JSON_ROOT, "metadata.labels", NULL);
    struct reef_json_iter it = reef_json_iter(d, labels >= 0 ? labels : -1);
    while (r == 0 && labels >= 0 && reef_json_next(d, &it)) {
        if (reef_json_kind(d, it.val) != REEF_JSON_STRING)
            continue;
        reef_buf_reset(&k);
        reef_buf_reset(&v);
        if (reef_json_get_strbuf(d, it.key, &k, err) < 0 ||
            reef_json_get_strbuf(d, it.val, &v, err) < 0) {
            r = -EINVAL;
            break;
        }
        r = reef_db_exec(s->db, err, "index label",
                         "INSERT OR REPLACE INTO label(obj,key,value) VALUES(?,?,?)", "Itt", id,
                         k.data ? k.data : "", k.len, v.data ? v.data : "", v.len);
    }
    int owners = reef_json_find(d, REEF_JSON_ROOT, "metadata.ownerReferences", NULL);
    it = reef_json_iter(d, owners >= 0 ? owners : -1);
    while (r == 0 && owners >= 0 && reef_json_next(d, &it)) {
        int u = reef_json_member(d, it.val, "uid");
        if (u < 0 || reef_json_kind(d, u) != REEF_JSON_STRING)
            continue;
        reef_buf_reset(&v);
        if (reef_json_get_strbuf(d, u, &v, err) < 0) {
            r = -EINVAL;
            break;
        }
        r = reef_db_exec(s->db, err, "index owner",
                         "INSERT OR IGNORE INTO owner(obj,uid) VALUES(?,?)", "It", id,
                         v.data ? v.data : "", v.len);
    }
    reef_buf_free(&k);
    reef_buf_free(&v);
    return r;
}
