/* The store's core: opening and closing, the command format, and apply, the one write path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/crypto.h"
#include "core/log.h"
#include "orchestrate/store_int.h"

/* Schema. Objects are keyed by (resource, namespace, name) with a rowid the side tables point at;
 * the change log is keyed by revision. node/phase are only set for pods (NULL elsewhere), so their
 * indexes stay small. */
static const char *const schema[] = {
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE object(id INTEGER PRIMARY KEY, resource TEXT NOT NULL,"
    " namespace TEXT NOT NULL, name TEXT NOT NULL, rev INTEGER NOT NULL,"
    " uid TEXT NOT NULL, node TEXT, phase TEXT, data TEXT NOT NULL,"
    " UNIQUE(resource, namespace, name));"
    "CREATE INDEX object_node ON object(resource, node) WHERE node IS NOT NULL;"
    "CREATE INDEX object_phase ON object(resource, phase) WHERE phase IS NOT NULL;"
    "CREATE TABLE label(obj INTEGER NOT NULL REFERENCES object(id) ON DELETE CASCADE,"
    " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(obj, key)) WITHOUT ROWID;"
    "CREATE INDEX label_kv ON label(key, value);"
    "CREATE TABLE owner(obj INTEGER NOT NULL REFERENCES object(id) ON DELETE CASCADE,"
    " uid TEXT NOT NULL, PRIMARY KEY(obj, uid)) WITHOUT ROWID;"
    "CREATE INDEX owner_uid ON owner(uid);"
    "CREATE TABLE change(rev INTEGER PRIMARY KEY, type INTEGER NOT NULL,"
    " resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,"
    " data TEXT NOT NULL, ts INTEGER NOT NULL);"
    "CREATE INDEX change_key ON change(resource, namespace, name, rev);"
    "CREATE INDEX change_ts ON change(ts);",
    /* 2: compaction finds its age bound by walking the change log in revision order, so the
     * timestamp index, one more page written by every write, goes. */
    "DROP INDEX change_ts;",
};

/* ---- shared helpers ---- */

uint64_t reef__store_hash(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    return h;
}

size_t reef__store_key(char *buf, const char *resource, const char *ns, const char *name)
{
    size_t a = strlen(resource) + 1, b = strlen(ns) + 1, c = strlen(name) + 1;
    memcpy(buf, resource, a);
    memcpy(buf + a, ns, b);
    memcpy(buf + a + b, name, c);
    return a + b + c;
}

struct reef__sobj *reef__sobj_new(const char *data, size_t len)
{
    struct reef__sobj *o = malloc(sizeof(*o) + len + 1);
    if (!o)
        return NULL;
    o->refs = 1;
    o->len = len;
    memcpy(o->data, data, len);
    o->data[len] = '\0';
    return o;
}

void reef__sobj_unref(struct reef__sobj *o)
{
    if (o && --o->refs == 0)
        free(o);
}

struct reef__sev *reef__sev_new(enum reef_store_event_type type, int64_t rev, int64_t ts,
                                const char *resource, const char *ns, const char *name,
                                struct reef__sobj *obj, struct reef__sobj *prev)
{
    char key[3 * (REEF_STORE_MAX_NAME + 1)];
    size_t kl = reef__store_key(key, resource, ns, name);
    struct reef__sev *e = calloc(1, sizeof(*e) + kl);
    if (!e)
        return NULL;
    e->refs = 1;
    e->type = type;
    e->rev = rev;
    e->ts = ts;
    memcpy(e->key, key, kl);
    e->keylen = kl;
    e->resource = e->key;
    e->ns = e->resource + strlen(e->resource) + 1;
    e->name = e->ns + strlen(e->ns) + 1;
    e->obj = reef__sobj_ref(obj);
    e->prev = reef__sobj_ref(prev);
    reef_json_doc_init(&e->obj_doc);
    reef_json_doc_init(&e->prev_doc);
    return e;
}

void reef__sev_unref(struct reef__sev *e)
{
    if (!e || --e->refs > 0)
        return;
    reef_json_doc_free(&e->obj_doc);
    reef_json_doc_free(&e->prev_doc);
    reef__sobj_unref(e->obj);
    reef__sobj_unref(e->prev);
    free(e);
}

int reef__store_put_meta(struct reef_store *s, const char *key, int64_t v, struct reef_err *err)
{
    return reef_db_exec(s->db, err, "write meta",
                        "INSERT INTO meta(key,value) VALUES(?,?)"
                        " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        "sI", key, v);
}

/* ---- heartbeat overlay: a chained hash table keyed like events ---- */

struct reef__overlay *reef__store_overlay_find(struct reef_store *s, const char *key, size_t len)
{
    if (s->ov_n == 0)
        return NULL;
    uint64_t h = reef__store_hash(key, len);
    for (struct reef__overlay *o = s->ov[h & (s->ov_cap - 1)]; o; o = o->next)
        if (o->hash == h && o->ev->keylen == len && memcmp(o->ev->key, key, len) == 0)
            return o;
    return NULL;
}

static void overlay_remove(struct reef_store *s, const char *key, size_t len)
{
    if (s->ov_n == 0)
        return;
    uint64_t h = reef__store_hash(key, len);
    for (struct reef__overlay **p = &s->ov[h & (s->ov_cap - 1)]; *p; p = &(*p)->next) {
        struct reef__overlay *o = *p;
        if (o->hash == h && o->ev->keylen == len && memcmp(o->ev->key, key, len) == 0) {
            *p = o->next;
            reef__sev_unref(o->ev);
            free(o);
            s->ov_n--;
            return;
        }
    }
}

static int overlay_grow(struct reef_store *s)
{
    size_t cap = s->ov_cap ? s->ov_cap * 2 : 64;
    struct reef__overlay **nv = calloc(cap, sizeof(*nv));
    if (!nv)
        return -ENOMEM;
    for (size_t i = 0; i < s->ov_cap; i++) {
        struct reef__overlay *o = s->ov[i];
        while (o) {
            struct reef__overlay *next = o->next;
            o->next = nv[o->hash & (cap - 1)];
            nv[o->hash & (cap - 1)] = o;
            o = next;
        }
    }
    free(s->ov);
    s->ov = nv;
    s->ov_cap = cap;
    return 0;
}

/* Makes e (a new reference is taken) the in-memory state of its object. */
static int overlay_put(struct reef_store *s, int64_t id, struct reef__sev *e)
{
    struct reef__overlay *o = reef__store_overlay_find(s, e->key, e->keylen);
    if (o) {
        reef__sev_unref(o->ev);
        o->ev = reef__sev_ref(e);
        return 0;
    }
    if (s->ov_n + 1 > s->ov_cap && overlay_grow(s) < 0)
        return -ENOMEM;
    o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    o->hash = reef__store_hash(e->key, e->keylen);
    o->id = id;
    o->ev = reef__sev_ref(e);
    o->next = s->ov[o->hash & (s->ov_cap - 1)];
    s->ov[o->hash & (s->ov_cap - 1)] = o;
    s->ov_n++;
    return 0;
}

void reef__store_overlay_clear(struct reef_store *s)
{
    for (size_t i = 0; i < s->ov_cap; i++) {
        struct reef__overlay *o = s->ov[i];
        while (o) {
            struct reef__overlay *next = o->next;
            reef__sev_unref(o->ev);
            free(o);
            o = next;
        }
        s->ov[i] = NULL;
    }
    s->ov_n = 0;
}

/* ---- open / close ---- */

static int load_state(struct reef_store *s, struct reef_err *err)
{
    int64_t ceiling = 0, compact = 0, maxc = 0, maxo = 0;
    int r = reef_db_get_int(s->db, err, "read ceiling", &ceiling,
                            "SELECT value FROM meta WHERE key='ceiling'", NULL);
    if (r == -ENOENT)
        r = 0;
    if (r == 0)
        r = reef_db_get_int(s->db, err, "read compacted revision", &compact,
                            "SELECT value FROM meta WHERE key='compacted'", NULL);
    if (r == -ENOENT)
        r = 0;
    if (r == 0)
        r = reef_db_get_int(s->db, err, "read last change", &maxc, "SELECT max(rev) FROM change",
                            NULL);
    if (r == 0)
        r = reef_db_get_int(s->db, err, "read last object revision", &maxo,
                            "SELECT max(rev) FROM object", NULL);
    if (r < 0)
        return r;
    /* Revisions up to the ceiling may have been handed out to heartbeats a crash lost: start
     * above all of them. */
    int64_t rev = ceiling;
    if (maxc > rev)
        rev = maxc;
    if (maxo > rev)
        rev = maxo;
    if (compact > rev)
        rev = compact;
    s->rev = rev;
    s->visible_rev = rev;
    s->ceiling = rev;
    s->compact_rev = compact;
    s->ring_floor = rev;
    return 0;
}

int reef_store_open(const char *path, const struct reef_store_opts *opts, struct reef_store **out,
                    struct reef_err *err)
{
    *out = NULL;
    struct reef_store *s = calloc(1, sizeof(*s));
    if (!s)
        return reef_err_set(err, -ENOMEM, "store: out of memory");
    if (opts)
        s->o = *opts;
    if (s->o.keep_revisions <= 0)
        s->o.keep_revisions = 10000;
    if (s->o.keep_ms <= 0)
        s->o.keep_ms = 3600 * 1000;
    if (s->o.flush_interval_ms == 0)
        s->o.flush_interval_ms = 10000;
    if (s->o.compact_interval_ms <= 0)
        s->o.compact_interval_ms = 60000;
    if (s->o.ring_size == 0)
        s->o.ring_size = 4096;
    if (s->o.rev_block <= 0)
        s->o.rev_block = 1000;
    if (s->o.max_pending == 0)
        s->o.max_pending = 10000;
    s->mem = !path || strcmp(path, ":memory:") == 0;
    s->last_flush_ms = s->last_compact_ms = -1;
    s->ring = calloc(s->o.ring_size, sizeof(*s->ring));
    if (!s->ring) {
        free(s);
        return reef_err_set(err, -ENOMEM, "store: out of memory");
    }
    /* Group commit: SQLite's NORMAL level commits to the WAL without a sync (the WAL is still
     * synced before every checkpoint), and reef_store_sync syncs it for a whole batch. One
     * store per file: the connection keeps it to itself, which spares the lock calls of every
     * transaction and keeps a second server on the same data directory out. */
    struct reef_db_opts dbo = {.sync = s->o.group_commit ? REEF_DB_SYNC_NORMAL : REEF_DB_SYNC_FULL,
                               .exclusive = true};
    int r = reef_db_open(path, &dbo, &s->db, err);
    if (r == -EBUSY) {
        reef_err_set(err, r,
                     "store: %s is in use by another process (another reef server on this "
                     "data directory?)",
                     path);
        free(s->ring);
        free(s);
        return r;
    }
    if (r == 0)
        r = reef_db_migrate(s->db, schema, REEF_ARRAY_LEN(schema), NULL, err);
    if (r == 0)
        r = load_state(s, err);
    if (r < 0) {
        reef_err_wrap(err, "store: open %s", path ? path : ":memory:");
        reef_db_close(s->db);
        free(s->ring);
        free(s);
        return r;
    }
    *out = s;
    return 0;
}

void reef_store_close(struct reef_store *s)
{
    if (!s)
        return;
    struct reef_err err = {0};
    if (reef__store_batch_end(s, &err) < 0)
        LOG_ERROR("store", "close: %s", err.msg);
    if (reef__store_flush(s, &err) < 0)
        LOG_ERROR("store", "close: heartbeats lost: %s", err.msg);
    /* A clean close records the exact counter, so the next start does not skip revisions. */
    if (s->ceiling != s->rev && reef_db_begin(s->db, &err) == 0) {
        if (reef__store_put_meta(s, "ceiling", s->rev, &err) == 0 &&
            reef_db_commit(s->db, &err) == 0)
            reef__store_committed(s);
        else
            reef_db_rollback(s->db);
    }
    if (s->unsynced && !s->failed && reef_db_sync(s->db, &err) < 0)
        LOG_ERROR("store", "close: %s", err.msg);
    reef__store_watch_free_all(s);
    reef__store_ring_free(s);
    reef__store_overlay_clear(s);
    free(s->ov);
    for (size_t i = 0; i < s->npending; i++)
        reef__sev_unref(s->pending[i]);
    free(s->pending);
    reef_db_close(s->db);
    free(s);
}

void reef__store_committed(struct reef_store *s)
{
    s->st.commits++;
    if (s->o.group_commit && !s->mem)
        s->unsynced = true;
}

bool reef_store_unsynced(const struct reef_store *s)
{
    /* after a failure nothing waits: those writes will never be synced */
    return !s->failed && (s->unsynced || s->visible_rev != s->rev);
}

/* Group commit's failure: what the disk kept is unknown, so the store takes no more writes. */
static int fail(struct reef_store *s, int r, struct reef_err *err)
{
    s->failed = r;
    snprintf(s->failed_msg, sizeof(s->failed_msg),
             "store: writes since the last sync may be lost: %.100s",
             err ? err->msg : strerror(-r));
    return reef_err_set(err, r, "%s", s->failed_msg);
}

int reef__store_batch_end(struct reef_store *s, struct reef_err *err)
{
    if (!s->batch)
        return s->failed ? reef_err_set(err, s->failed, "%s", s->failed_msg) : 0;
    s->batch = false;
    int r = reef_db_commit(s->db, err);
    if (r < 0) {
        reef_db_rollback(s->db);
        return fail(s, r, err);
    }
    return 0;
}

int reef_store_sync(struct reef_store *s, struct reef_err *err)
{
    int r = reef__store_batch_end(s, err);
    if (r < 0)
        return r;
    if (s->unsynced) {
        r = reef_db_sync(s->db, err);
        if (r < 0)
            return fail(s, r, err);
        s->unsynced = false;
        s->st.syncs++;
    }
    if (s->visible_rev != s->rev) {
        s->visible_rev = s->rev;
        reef__store_deliver(s);
    }
    return 0;
}

const char *reef_store_failure(const struct reef_store *s)
{
    return s->failed ? s->failed_msg : NULL;
}

int64_t reef_store_rev(const struct reef_store *s)
{
    return s->rev;
}

int64_t reef_store_compacted_rev(const struct reef_store *s)
{
    return s->compact_rev;
}

int reef_store_size(struct reef_store *s, struct reef_db_size *out, struct reef_err *err)
{
    return reef_db_size(s->db, out, err);
}

void reef_store_stats(const struct reef_store *s, struct reef_store_stats *out)
{
    *out = s->st;
    out->pending = s->npending;
    out->watchers = s->nwatch;
    out->rev = s->rev;
    out->compacted_rev = s->compact_rev;
    out->reserved_rev = s->ceiling;
    struct reef_db_stats d;
    reef_db_stats(s->db, &d);
    out->sync_ns = d.sync_ns;
}

/* ---- uids and the command format ---- */

int reef_store_new_uid(char out[REEF_STORE_UID_LEN + 1], struct reef_err *err)
{
    unsigned char b[16];
    int r = reef_crypto_random(b, sizeof(b), err);
    if (r < 0)
        return r;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
    return 0;
}

static bool valid_uid(const char *u)
{
    for (int i = 0; i < REEF_STORE_UID_LEN; i++) {
        char c = u[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return u[REEF_STORE_UID_LEN] == '\0';
}

#define CMD_MAGIC "RSC1"

static void put_u64(struct reef_buf *b, uint64_t v, int *r)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    if (*r == 0)
        *r = reef_buf_append(b, x, 8);
}

static void put_field(struct reef_buf *b, const char *p, size_t n, int *r)
{
    put_u64(b, n, r);
    if (*r == 0)
        *r = reef_buf_append(b, p ? p : "", n);
    if (*r == 0)
        *r = reef_buf_putc(b, '\0');
}

int reef_store_cmd_encode(const struct reef_store_cmd *cmd, struct reef_buf *out,
                          struct reef_err *err)
{
    const char *ns = cmd->namespace ? cmd->namespace : "";
    if (!cmd->resource || !cmd->name)
        return reef_err_set(err, -EINVAL, "store: encode command: resource and name required");
    int r = reef_buf_append(out, CMD_MAGIC, 4);
    unsigned char op = (unsigned char)cmd->op;
    if (r == 0)
        r = reef_buf_append(out, &op, 1);
    put_u64(out, (uint64_t)cmd->expected_rev, &r);
    put_u64(out, (uint64_t)cmd->timestamp_ms, &r);
    put_field(out, cmd->resource, strlen(cmd->resource), &r);
    put_field(out, ns, strlen(ns), &r);
    put_field(out, cmd->name, strlen(cmd->name), &r);
    put_field(out, cmd->uid, strnlen(cmd->uid, REEF_STORE_UID_LEN), &r);
    put_field(out, cmd->object, cmd->object ? cmd->object_len : 0, &r);
    return r < 0 ? reef_err_set(err, r, "store: encode command: out of memory") : 0;
}

struct rd {
    const unsigned char *p;
    size_t n, at;
};

static int get_u64(struct rd *d, uint64_t *v)
{
    if (d->n - d->at < 8)
        return -EINVAL;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)d->p[d->at + i] << (8 * i);
    d->at += 8;
    *v = x;
    return 0;
}

/* A field of at most max bytes, NUL-terminated in the buffer; text fields have no NUL inside. */
static int get_field(struct rd *d, size_t max, bool text, const char **out, size_t *len)
{
    uint64_t n;
    if (get_u64(d, &n) < 0 || n > max || d->n - d->at < n + 1)
        return -EINVAL;
    const char *s = (const char *)d->p + d->at;
    if (s[n] != '\0' || (text && memchr(s, '\0', n)))
        return -EINVAL;
    d->at += n + 1;
    *out = s;
    if (len)
        *len = n;
    return 0;
}

int reef_store_cmd_decode(const void *p, size_t n, struct reef_store_cmd *out, struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    struct rd d = {p, n, 0};
    if (n < 5 || memcmp(p, CMD_MAGIC, 4) != 0)
        return reef_err_set(err, -EINVAL, "store: decode command: bad magic");
    unsigned op = d.p[4];
    d.at = 5;
    uint64_t exp, ts;
    const char *uid;
    size_t uidlen;
    if (op < REEF_STORE_CREATE || op > REEF_STORE_DELETE || get_u64(&d, &exp) < 0 ||
        get_u64(&d, &ts) < 0 ||
        get_field(&d, REEF_STORE_MAX_NAME, true, &out->resource, NULL) < 0 ||
        get_field(&d, REEF_STORE_MAX_NAME, true, &out->namespace, NULL) < 0 ||
        get_field(&d, REEF_STORE_MAX_NAME, true, &out->name, NULL) < 0 ||
        get_field(&d, REEF_STORE_UID_LEN, true, &uid, &uidlen) < 0 ||
        get_field(&d, REEF_STORE_MAX_OBJECT, false, &out->object, &out->object_len) < 0 ||
        d.at != n) {
        memset(out, 0, sizeof(*out));
        return reef_err_set(err, -EINVAL, "store: decode command: malformed (%zu bytes)", n);
    }
    out->op = (enum reef_store_op)op;
    out->expected_rev = (int64_t)exp;
    out->timestamp_ms = (int64_t)ts;
    memcpy(out->uid, uid, uidlen);
    out->uid[uidlen] = '\0';
    if (out->object_len == 0)
        out->object = NULL;
    return 0;
}

void reef_store_result_free(struct reef_store_result *r)
{
    if (!r)
        return;
    free(r->object);
    r->object = NULL;
    r->len = 0;
}

/* ---- reads ---- */

/* The object's row and current state (the heartbeat overlay wins over the row). */
struct cur {
    bool exists;
    int64_t id, rev;
    struct reef__sobj *obj; /* one reference, the caller's */
    bool from_overlay;
};

static int load_cur(struct reef_store *s, const char *key, size_t kl, const char *resource,
                    const char *ns, const char *name, struct cur *c, struct reef_err *err)
{
    memset(c, 0, sizeof(*c));
    struct reef__overlay *o = reef__store_overlay_find(s, key, kl);
    if (o) {
        c->exists = true;
        c->id = o->id;
        c->rev = o->ev->rev;
        c->obj = reef__sobj_ref(o->ev->obj);
        c->from_overlay = true;
        return 0;
    }
    _cleanup_db_query_ struct reef_db_query q = {0};
    int r = reef_db_query(s->db, &q, err, "read object",
                          "SELECT id, rev, data FROM object"
                          " WHERE resource=? AND namespace=? AND name=?",
                          "sss", resource, ns, name);
    if (r == 0)
        r = reef_db_next(&q, err);
    if (r <= 0)
        return r;
    c->exists = true;
    c->id = reef_db_col_int(&q, 0);
    c->rev = reef_db_col_int(&q, 1);
    const char *data = reef_db_col_text(&q, 2);
    size_t len = (size_t)sqlite3_column_bytes(q.stmt, 2);
    c->obj = reef__sobj_new(data ? data : "", data ? len : 0);
    return c->obj ? 0 : reef_err_set(err, -ENOMEM, "store: out of memory");
}

static int check_names(const char *resource, const char *ns, const char *name, struct reef_err *err)
{
    if (!resource || !*resource || !name || !*name)
        return reef_err_set(err, -EINVAL, "store: resource and name are required");
    if (strlen(resource) > REEF_STORE_MAX_NAME || strlen(ns) > REEF_STORE_MAX_NAME ||
        strlen(name) > REEF_STORE_MAX_NAME)
        return reef_err_set(err, -EINVAL, "store: resource, namespace or name longer than %d",
                            REEF_STORE_MAX_NAME);
    return 0;
}

int reef_store_get(struct reef_store *s, const char *resource, const char *namespace,
                   const char *name, char **json, size_t *len, int64_t *rev, struct reef_err *err)
{
    *json = NULL;
    const char *ns = namespace ? namespace : "";
    int r = check_names(resource, ns, name, err);
    if (r < 0)
        return r;
    char key[3 * (REEF_STORE_MAX_NAME + 1)];
    size_t kl = reef__store_key(key, resource, ns, name);
    struct cur c;
    r = load_cur(s, key, kl, resource, ns, name, &c, err);
    if (r < 0)
        return r;
    if (!c.exists)
        return reef_err_set(err, -ENOENT, "%s \"%s\" not found", resource, name);
    *json = reef_strndup(c.obj->data, c.obj->len);
    if (len)
        *len = c.obj->len;
    if (rev)
        *rev = c.rev;
    reef__sobj_unref(c.obj);
    return *json ? 0 : reef_err_set(err, -ENOMEM, "store: out of memory");
}

/* ---- apply ---- */

struct applying {
    struct reef_store *s;
    const struct reef_store_cmd *cmd;
    const char *ns;
    enum reef_store_event_type type;
    int64_t rev;
    struct cur cur;
    struct reef_json_doc *newdoc; /* the stored new state (create/update) */
    const char *data;
    size_t len;
    bool sides_changed;
    int64_t new_ceiling; /* 0 when no reservation is needed */
};

static int write_durable(struct reef_db *db, void *arg, struct reef_err *err)
{
    struct applying *a = arg;
    struct reef_store *s = a->s;
    const struct reef_store_cmd *cmd = a->cmd;
    int r = 0;
    if (a->new_ceiling)
        r = reef__store_put_meta(s, "ceiling", a->new_ceiling, err);
    if (r < 0)
        return r;
    if (a->type == REEF_STORE_DELETED) {
        r = reef_db_exec(db, err, "delete object", "DELETE FROM object WHERE id=?", "I", a->cur.id);
    } else {
        _cleanup_free_ char *node = NULL, *phase = NULL;
        if (reef__store_pod_cols(cmd->resource, a->newdoc, &node, &phase) < 0)
            return reef_err_set(err, -ENOMEM, "store: out of memory");
        if (a->type == REEF_STORE_ADDED) {
            r = reef_db_exec(db, err, "insert object",
                             "INSERT INTO object(resource,namespace,name,rev,uid,node,phase,data)"
                             " VALUES(?,?,?,?,?,?,?,?)",
                             "sssIssst", cmd->resource, a->ns, cmd->name, a->rev, cmd->uid, node,
                             phase, a->data, a->len);
            a->cur.id = reef_db_last_rowid(db);
        } else {
            r = reef_db_exec(db, err, "update object",
                             "UPDATE object SET rev=?, node=?, phase=?, data=? WHERE id=?", "IsstI",
                             a->rev, node, phase, a->data, a->len, a->cur.id);
        }
        if (r == 0 && a->sides_changed)
            r = reef__store_index_sides(s, a->cur.id, a->newdoc, a->type != REEF_STORE_ADDED, err);
    }
    if (r == 0)
        r = reef_db_exec(db, err, "append change",
                         "INSERT INTO change(rev,type,resource,namespace,name,data,ts)"
                         " VALUES(?,?,?,?,?,?,?)",
                         "IissstI", a->rev, (int)a->type, cmd->resource, a->ns, cmd->name, a->data,
                         a->len, cmd->timestamp_ms);
    return r;
}

static int64_t meta_int(const struct reef_json_doc *d, const char *path)
{
    int v = reef_json_find(d, REEF_JSON_ROOT, path, NULL);
    int64_t x = 0;
    if (v >= 0 && reef_json_get_int(d, v, &x, NULL) == 0)
        return x;
    return 0;
}

static bool same_member(const struct reef_json_doc *a, const struct reef_json_doc *b,
                        const char *path)
{
    int va = reef_json_find(a, REEF_JSON_ROOT, path, NULL);
    int vb = reef_json_find(b, REEF_JSON_ROOT, path, NULL);
    if (va < 0 || vb < 0)
        return va < 0 && vb < 0;
    return reef_json_equal(a, va, b, vb);
}

/* Holds the heartbeat in memory: a revision (reserving a block durably when the ceiling is
 * reached), the overlay entry and a pending change for the next flush. */
static int write_heartbeat(struct reef_store *s, struct applying *a, struct reef__sev *e,
                           struct reef_err *err)
{
    if (s->npending >= s->o.max_pending) {
        int r = reef__store_flush(s, err);
        if (r < 0)
            return r;
    }
    if (a->new_ceiling) {
        int r = reef__store_batch_end(s, err);
        if (r == 0)
            r = reef_db_begin(s->db, err);
        if (r == 0)
            r = reef__store_put_meta(s, "ceiling", a->new_ceiling, err);
        if (r == 0)
            r = reef_db_commit(s->db, err);
        if (r < 0) {
            reef_db_rollback(s->db);
            return r;
        }
        reef__store_committed(s);
    }
    if (s->npending == s->pending_cap) {
        size_t cap = s->pending_cap ? s->pending_cap * 2 : 256;
        struct reef__sev **np = realloc(s->pending, cap * sizeof(*np));
        if (!np)
            return reef_err_set(err, -ENOMEM, "store: out of memory");
        s->pending = np;
        s->pending_cap = cap;
    }
    if (overlay_put(s, a->cur.id, e) < 0)
        return reef_err_set(err, -ENOMEM, "store: out of memory");
    s->pending[s->npending++] = reef__sev_ref(e);
    s->st.heartbeats++;
    return 0;
}

int reef_store_apply(struct reef_store *s, const struct reef_store_cmd *cmd,
                     struct reef_store_result *res, struct reef_err *err)
{
    if (res)
        memset(res, 0, sizeof(*res));
    const char *ns = cmd->namespace ? cmd->namespace : "";
    int r = check_names(cmd->resource, ns, cmd->name, err);
    if (r < 0)
        return r;
    if (cmd->op < REEF_STORE_CREATE || cmd->op > REEF_STORE_DELETE)
        return reef_err_set(err, -EINVAL, "store: unknown operation %d", (int)cmd->op);
    if (cmd->op != REEF_STORE_DELETE && (!cmd->object || cmd->object_len == 0))
        return reef_err_set(err, -EINVAL, "store: %s without an object",
                            cmd->op == REEF_STORE_CREATE ? "create" : "update");
    if (cmd->op != REEF_STORE_DELETE && cmd->object_len > REEF_STORE_MAX_OBJECT)
        return reef_err_set(err, -E2BIG, "store: object of %zu bytes exceeds %d", cmd->object_len,
                            REEF_STORE_MAX_OBJECT);
    if (cmd->op == REEF_STORE_CREATE && !valid_uid(cmd->uid))
        return reef_err_set(err, -EINVAL, "store: create without a valid uid");
    if (cmd->expected_rev < 0)
        return reef_err_set(err, -EINVAL, "store: negative expected revision");
    char created[32];
    if (reef__store_time(cmd->timestamp_ms, created) < 0)
        return reef_err_set(err, -EINVAL, "store: bad timestamp %lld",
                            (long long)cmd->timestamp_ms);

    if (s->failed)
        return reef_err_set(err, s->failed, "%s", s->failed_msg);

    char key[3 * (REEF_STORE_MAX_NAME + 1)];
    size_t kl = reef__store_key(key, cmd->resource, ns, cmd->name);
    struct applying a = {.s = s, .cmd = cmd, .ns = ns, .rev = s->rev + 1};
    struct reef_json_doc in = REEF_JSON_DOC_INIT, old = REEF_JSON_DOC_INIT,
                         stored = REEF_JSON_DOC_INIT;
    struct reef_buf out = REEF_BUF_INIT;
    struct reef__sev *e = NULL;
    struct reef__sobj *obj = NULL;
    bool heartbeat = false;

    r = load_cur(s, key, kl, cmd->resource, ns, cmd->name, &a.cur, err);
    if (r < 0)
        goto done;
    if (cmd->op == REEF_STORE_CREATE && a.cur.exists) {
        r = reef_err_set(err, -EEXIST, "%s \"%s\" already exists", cmd->resource, cmd->name);
        goto done;
    }
    if (cmd->op != REEF_STORE_CREATE && !a.cur.exists) {
        r = reef_err_set(err, -ENOENT, "%s \"%s\" not found", cmd->resource, cmd->name);
        goto done;
    }
    if (cmd->op != REEF_STORE_CREATE && cmd->expected_rev && cmd->expected_rev != a.cur.rev) {
        r = reef_err_set(
            err, -ESTALE, "%s \"%s\": the object has been modified (revision %lld, expected %lld)",
            cmd->resource, cmd->name, (long long)a.cur.rev, (long long)cmd->expected_rev);
        goto done;
    }
    if (a.cur.exists && (r = reef_json_parse(&old, a.cur.obj->data, a.cur.obj->len, NULL, err)) < 0)
        goto done;

    struct reef__build b = {.name = cmd->name, .ns = ns, .rev = a.rev, .created = created};
    char uid[REEF_STORE_UID_LEN + 1];
    if (cmd->op == REEF_STORE_CREATE) {
        b.uid = cmd->uid;
        b.generation = 1;
    } else {
        int u = reef_json_find(&old, REEF_JSON_ROOT, "metadata.uid", NULL);
        if (u < 0 || reef_json_get_str(&old, u, uid, sizeof(uid), NULL) < 0)
            uid[0] = '\0';
        b.uid = uid;
        int c = reef_json_find(&old, REEF_JSON_ROOT, "metadata.creationTimestamp", NULL);
        if (c < 0 || reef_json_get_str(&old, c, created, sizeof(created), NULL) < 0)
            reef__store_time(cmd->timestamp_ms, created);
        b.generation = meta_int(&old, "metadata.generation");
    }
    if (cmd->op == REEF_STORE_DELETE) {
        r = reef__store_build(&old, &b, &out, err);
        a.type = REEF_STORE_DELETED;
    } else {
        r = reef_json_parse(&in, cmd->object, cmd->object_len, NULL, err);
        if (r < 0) {
            reef_err_wrap(err, "store: object");
            goto done;
        }
        if (cmd->op == REEF_STORE_UPDATE && !same_member(&old, &in, "spec"))
            b.generation++;
        r = reef__store_build(&in, &b, &out, err);
        a.type = cmd->op == REEF_STORE_CREATE ? REEF_STORE_ADDED : REEF_STORE_MODIFIED;
    }
    if (r < 0)
        goto done;
    if (cmd->op != REEF_STORE_DELETE) {
        if ((r = reef_json_parse(&stored, out.data, out.len, NULL, err)) < 0)
            goto done;
        a.newdoc = &stored;
        a.sides_changed = cmd->op == REEF_STORE_CREATE ||
                          !same_member(&old, &stored, "metadata.labels") ||
                          !same_member(&old, &stored, "metadata.ownerReferences");
    }
    if (cmd->op == REEF_STORE_UPDATE) {
        static const char *const rv_only[] = {"metadata.resourceVersion", NULL};
        if (reef__store_equal_masked(&old, &stored, rv_only)) {
            /* Nothing changed: kube-apiserver answers with the current object and writes nothing;
             * so do we, which keeps idle controllers from churning revisions. */
            if (res) {
                res->rev = a.cur.rev;
                res->object = reef_strndup(a.cur.obj->data, a.cur.obj->len);
                res->len = a.cur.obj->len;
                res->durable = !a.cur.from_overlay;
                res->unchanged = true;
                if (!res->object)
                    r = reef_err_set(err, -ENOMEM, "store: out of memory");
            }
            goto done;
        }
        heartbeat = s->o.flush_interval_ms > 0 && !s->mem &&
                    reef__store_is_heartbeat(cmd->resource, &old, &stored);
    }
    a.data = out.data;
    a.len = out.len;
    if (a.rev > s->ceiling)
        a.new_ceiling = a.rev + s->o.rev_block - 1;

    obj = reef__sobj_new(out.data, out.len);
    e = obj ? reef__sev_new(a.type, a.rev, cmd->timestamp_ms, cmd->resource, ns, cmd->name, obj,
                            a.type == REEF_STORE_ADDED ? NULL : a.cur.obj)
            : NULL;
    if (!e) {
        r = reef_err_set(err, -ENOMEM, "store: out of memory");
        goto done;
    }
    if (heartbeat) {
        r = write_heartbeat(s, &a, e, err);
    } else {
        /* Group commit: the writes until the next sync share one transaction, each in a
         * savepoint of its own (a failed one undoes only itself), so a page they all touch
         * reaches the WAL once per batch, not once per write. */
        if (s->o.group_commit && !s->mem && !s->batch && (r = reef_db_begin(s->db, err)) == 0)
            s->batch = true;
        if (r == 0)
            r = reef_db_txn(s->db, write_durable, &a, err);
        if (r < 0 && s->batch && !reef_db_in_txn(s->db)) {
            /* After an I/O error, a full disk or no memory SQLite may roll back the whole
             * transaction: the batch's earlier writes, already answered once synced, are gone. */
            s->batch = false;
            fail(s, r, err);
        }
        if (r == 0) {
            reef__store_committed(s);
            /* The row now holds the newest state; pending heartbeat changes of this object
             * still reach the change log at the next flush. */
            overlay_remove(s, key, kl);
        }
    }
    if (r < 0)
        goto done;
    if (a.new_ceiling)
        s->ceiling = a.new_ceiling;
    s->rev = a.rev;
    if (!s->unsynced)
        s->visible_rev = s->rev; /* nothing waits for a sync: the event may go out now */
    if (res) {
        res->rev = a.rev;
        res->len = out.len;
        res->object = reef_buf_steal(&out);
        res->durable = !heartbeat && !s->unsynced;
    }
    if (reef__store_publish(s, e) < 0)
        /* The write stands; watchers of this resource miss one event. Only memory exhaustion
         * gets here, and the API layer's watches re-list on their next timeout. */
        LOG_ERROR("store", "out of memory queueing event rev=%lld resource=%s", (long long)a.rev,
                  cmd->resource);
    reef__store_deliver(s);
done:
    reef__sev_unref(e);
    reef__sobj_unref(obj);
    reef__sobj_unref(a.cur.obj);
    reef_json_doc_free(&in);
    reef_json_doc_free(&old);
    reef_json_doc_free(&stored);
    reef_buf_free(&out);
    return r;
}
