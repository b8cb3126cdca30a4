/* store_int: what the store's files (store.c, store_obj.c, store_list.c, store_watch.c,
 * store_compact.c) share. Not a public interface: only orchestrate/store*.c include it. */
#ifndef REEF_ORCHESTRATE_STORE_INT_H
#define REEF_ORCHESTRATE_STORE_INT_H

#include "core/db.h"
#include "core/json.h"
#include "orchestrate/store.h"

/* Immutable JSON text shared by the ring, the heartbeat overlay, pending events and watchers. */
struct reef__sobj {
    unsigned refs;
    size_t len;
    char data[]; /* NUL-terminated */
};

/* One change, shared by every holder (ring, delivery queue, pending list, overlay). */
struct reef__sev {
    unsigned refs;
    enum reef_store_event_type type;
    int64_t rev, ts;
    const char *resource, *ns, *name; /* point into key */
    struct reef__sobj *obj;           /* after the change */
    struct reef__sobj *prev;          /* before it; NULL for ADDED or when unknown */
    /* Parsed once, on first need, for every watcher's predicate: 0 not yet, 1 ok, -1 failed. */
    int obj_parsed, prev_parsed;
    struct reef_json_doc obj_doc, prev_doc;
    size_t keylen;
    char key[]; /* "resource\0ns\0name\0" */
};

/* The newest in-memory state of an object whose heartbeat is not yet on disk. */
struct reef__overlay {
    struct reef__overlay *next;
    uint64_t hash;
    int64_t id; /* object row */
    struct reef__sev *ev;
};

struct reef__wlist {
    char *resource;
    struct reef_store_watch *head, *tail;
    size_t n;
};

struct reef_store_watch {
    struct reef_store *s;
    struct reef__wlist *list;
    struct reef_store_watch *prev, *next;
    char *ns; /* NULL: every namespace */
    reef_store_pred pred;
    void *pred_arg;
    reef_store_watch_cb cb;
    void *cb_arg;
    int64_t rev; /* the last revision this watcher has seen (delivered or filtered) */
    bool dead;
};

struct reef_store {
    struct reef_db *db;
    struct reef_store_opts o;
    bool mem;

    int64_t rev; /* last revision handed out */
    /* Group commit: events above visible_rev wait for a sync; unsynced: commits since the last
     * sync; failed: the sync that failed (every later write refused). */
    int64_t visible_rev;
    bool unsynced;
    bool batch; /* a transaction holds the writes since the last sync */
    int failed;
    char failed_msg[160];
    int64_t ceiling;     /* durable: no revision above it was ever handed out */
    int64_t compact_rev; /* change rows up to here are gone */

    /* Heartbeats not yet on disk. */
    struct reef__overlay **ov;
    size_t ov_cap, ov_n;
    struct reef__sev **pending;
    size_t npending, pending_cap;

    /* Recent events: every event with rev > ring_floor is in the ring. */
    struct reef__sev **ring;
    size_t ring_head, ring_n;
    int64_t ring_floor;

    /* Events waiting to be delivered, in revision order. */
    struct reef__sev **q;
    size_t q_head, q_n, q_cap;
    int delivering;
    size_t ndead;

    struct reef__wlist *wl;
    size_t nwl;
    size_t nwatch;

    int64_t last_flush_ms, last_compact_ms;
    struct reef_store_stats st;
};

/* ---- store.c ---- */
uint64_t reef__store_hash(const char *key, size_t len);
/* Builds "resource\0ns\0name\0" into buf (size >= 3 * (REEF_STORE_MAX_NAME + 1)); its length. */
size_t reef__store_key(char *buf, const char *resource, const char *ns, const char *name);
struct reef__overlay *reef__store_overlay_find(struct reef_store *s, const char *key, size_t len);
void reef__store_overlay_clear(struct reef_store *s);

struct reef__sobj *reef__sobj_new(const char *data, size_t len);
void reef__sobj_unref(struct reef__sobj *o);
static inline struct reef__sobj *reef__sobj_ref(struct reef__sobj *o)
{
    if (o)
        o->refs++;
    return o;
}
/* A new event holding one reference to obj and prev (the caller's references are not taken). */
struct reef__sev *reef__sev_new(enum reef_store_event_type type, int64_t rev, int64_t ts,
                                const char *resource, const char *ns, const char *name,
                                struct reef__sobj *obj, struct reef__sobj *prev);
void reef__sev_unref(struct reef__sev *e);
static inline struct reef__sev *reef__sev_ref(struct reef__sev *e)
{
    e->refs++;
    return e;
}
/* Counts a committed transaction; with group commit it now waits for reef_store_sync. */
void reef__store_committed(struct reef_store *s);
/* Commits the group commit batch, if one is open, for work that needs a transaction of its own
 * (compaction, checkpoints); failing, the store fails as a failed sync does. */
int reef__store_batch_end(struct reef_store *s, struct reef_err *err);
/* Writes the durable ceiling (inside the caller's transaction). */
int reef__store_put_meta(struct reef_store *s, const char *key, int64_t v, struct reef_err *err);

/* ---- store_obj.c ---- */
struct reef__build {
    const char *name, *ns, *uid, *created;
    int64_t rev, generation;
};
/* Writes object (root of d) as stored: metadata's server fields replaced by b's. -EINVAL when
 * the root or metadata is not an object, or metadata.name/namespace contradict b. */
int reef__store_build(const struct reef_json_doc *d, const struct reef__build *b,
                      struct reef_buf *out, struct reef_err *err);
/* Equality ignoring the members at the given paths ("metadata.resourceVersion",
 * "status.conditions[].lastHeartbeatTime"); masks ends with NULL. */
bool reef__store_equal_masked(const struct reef_json_doc *a, const struct reef_json_doc *b,
                              const char *const *masks);
/* Whether old -> new of this resource is only a heartbeat (docs/STORE.md). */
bool reef__store_is_heartbeat(const char *resource, const struct reef_json_doc *old_doc,
                              const struct reef_json_doc *new_doc);
/* Formats Unix ms as RFC 3339 UTC with second precision into out[32]. */
int reef__store_time(int64_t ms, char out[32]);
/* Rewrites the label and owner side tables of object row id from d. */
int reef__store_index_sides(struct reef_store *s, int64_t id, const struct reef_json_doc *d,
                            bool replace, struct reef_err *err);
/* The pod columns: spec.nodeName ("" when absent) and status.phase (NULL when absent);
 * malloc'd strings the caller frees. Both NULL for other resources. */
int reef__store_pod_cols(const char *resource, const struct reef_json_doc *d, char **node,
                         char **phase);

/* ---- store_watch.c ---- */
/* Records e (taking a reference) in the ring and the delivery queue. */
int reef__store_publish(struct reef_store *s, struct reef__sev *e);
/* Delivers queued events unless a delivery is already running further up the stack. */
void reef__store_deliver(struct reef_store *s);
void reef__store_watch_free_all(struct reef_store *s);
void reef__store_ring_free(struct reef_store *s);

/* ---- store_compact.c ---- */
int reef__store_flush(struct reef_store *s, struct reef_err *err);

#endif
