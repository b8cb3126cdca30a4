/* store: the control plane's revisioned object store (docs/STORE.md).
 *
 * It owns one SQLite file holding Kubernetes-shaped JSON objects keyed by (resource, namespace,
 * name), one global strictly increasing revision (every object's metadata.resourceVersion), a
 * change log that serves watches from any retained revision, the indexed columns list filters
 * need (labels, owners, a pod's node and phase), and the in-memory watch fan-out.
 *
 * Every write is a struct reef_store_cmd applied by reef_store_apply: a deterministic function of
 * the command and the prior state (no clock, no randomness), so the same command log gives the
 * same objects and revisions on every replica.
 *
 * Threads: a struct reef_store belongs to one thread (the server's loop thread). Every function,
 * including watch callbacks, runs on it. The store never blocks on anything but its own disk.
 * Callbacks may call back into the store (write, watch, unwatch); events they cause are delivered
 * after the current one, still in revision order. No callback may close the store. */
#ifndef REEF_ORCHESTRATE_STORE_H
#define REEF_ORCHESTRATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/db.h"
#include "core/err.h"
#include "core/json.h"

struct reef_store;
struct reef_store_watch;

/* A watch or continue token asked for a revision that compaction removed (API: 410 Gone). */
#define REEF_STORE_EXPIRED (-EKEYEXPIRED)

#define REEF_STORE_UID_LEN 36                   /* UUID text, without the NUL */
#define REEF_STORE_MAX_OBJECT (3 * 1024 * 1024) /* bytes of one object's JSON */
#define REEF_STORE_MAX_NAME 253                 /* resource, namespace and name */
#define REEF_STORE_MAX_LABELS 8                 /* equality label filters in one list */
#define REEF_STORE_TOKEN_MAX 1100               /* continue token with its NUL */

struct reef_store_opts {
    int64_t keep_revisions;      /* change history kept by revisions; 0: 10,000 */
    int64_t keep_ms;             /* change history kept by age; 0: 1 hour */
    int64_t flush_interval_ms;   /* heartbeat flush interval; 0: 10 s; < 0: heartbeats are
                                    ordinary fsync'd writes */
    int64_t compact_interval_ms; /* how often tick compacts and checkpoints; 0: 60 s */
    size_t ring_size;            /* recent events kept in memory for watches; 0: 4096 */
    int64_t rev_block;           /* revisions reserved per durable ceiling write; 0: 1000 */
    size_t max_pending;          /* heartbeat events held before a forced flush; 0: 10,000 */
    /* Group commit: writes wait in one transaction, and reef_store_sync makes them all durable
     * with one disk sync. Until then the new revisions are held back from watchers (see
     * reef_store_sync). false: every write is committed and synced before apply returns. */
    bool group_commit;
};

/* Opens (creating when missing) the store at path; NULL or ":memory:" gives a private in-memory
 * store for tests (nothing durable). opts may be NULL. The caller closes *out with
 * reef_store_close. Errors from core/db.h (-EUCLEAN, -ENOTSUP, -EIO, ...). */
int reef_store_open(const char *path, const struct reef_store_opts *opts, struct reef_store **out,
                    struct reef_err *err);
/* Flushes pending heartbeats, writes the exact revision counter, cancels every watch (their
 * callbacks are not called again) and frees everything. NULL is ignored. A failed flush is
 * logged; use reef_store_flush first to see its error. */
void reef_store_close(struct reef_store *s);

/* ---- commands ---- */

enum reef_store_op {
    REEF_STORE_CREATE = 1,
    REEF_STORE_UPDATE = 2,
    REEF_STORE_DELETE = 3,
};

/* Borrowed strings: the command only points at the caller's memory. */
struct reef_store_cmd {
    enum reef_store_op op;
    const char *resource;  /* plural with group: "pods", "deployments.apps" */
    const char *namespace; /* "" (or NULL) for cluster-scoped objects */
    const char *name;
    int64_t expected_rev; /* update/delete: the revision the caller read; 0 = any */
    const char *object;   /* create/update: the object JSON; ignored for delete */
    size_t object_len;
    int64_t timestamp_ms; /* the leader's clock (Unix ms) when it proposed the command */
    char uid[REEF_STORE_UID_LEN + 1]; /* create: the uid to assign, chosen by the proposer */
};

/* A fresh random UUID v4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") for cmd.uid, from the kernel's
 * CSPRNG. Proposer side only: never called by apply. */
int reef_store_new_uid(char out[REEF_STORE_UID_LEN + 1], struct reef_err *err);

/* Appends the command's bytes to out (a versioned binary format, little-endian). */
int reef_store_cmd_encode(const struct reef_store_cmd *cmd, struct reef_buf *out,
                          struct reef_err *err);
/* Reads a command from p[0..n). Its strings point into p (which must stay alive and unchanged
 * while the command is used). -EINVAL for anything malformed, with nothing allocated. */
int reef_store_cmd_decode(const void *p, size_t n, struct reef_store_cmd *out,
                          struct reef_err *err);

struct reef_store_result {
    int64_t rev;  /* the write's revision; for a no-op update, the object's current one */
    char *object; /* the object as stored (delete: its last state with the delete's revision);
                     malloc'd, NUL-terminated, freed by reef_store_result_free */
    size_t len;
    bool durable;   /* on disk already; false for a heartbeat held in memory until a flush,
                       and with group_commit for every write until reef_store_sync */
    bool unchanged; /* an update that changed nothing: no revision consumed, no event */
};
void reef_store_result_free(struct reef_store_result *r);

/* Applies cmd. On success fills res (may be NULL) and delivers the event to watchers before
 * returning. Errors: -EEXIST (create: exists), -ENOENT (update/delete: missing), -ESTALE
 * (expected_rev is not the object's revision), -EINVAL (bad command or object JSON, or
 * metadata.name/namespace contradicting the command), -E2BIG (object too big), or a disk error;
 * on any error nothing changed. */
int reef_store_apply(struct reef_store *s, const struct reef_store_cmd *cmd,
                     struct reef_store_result *res, struct reef_err *err);

/* ---- reads ---- */

/* The current revision (the last one handed out) and the compacted one (watches from below it
 * expire). */
int64_t reef_store_rev(const struct reef_store *s);
int64_t reef_store_compacted_rev(const struct reef_store *s);

/* The current object: *json is a malloc'd NUL-terminated copy the caller frees; len and rev may
 * be NULL. -ENOENT when absent. */
int reef_store_get(struct reef_store *s, const char *resource, const char *namespace,
                   const char *name, char **json, size_t *len, int64_t *rev, struct reef_err *err);

/* A predicate on a parsed object (its root is REEF_JSON_ROOT). */
typedef bool (*reef_store_pred)(void *arg, const struct reef_json_doc *obj);

struct reef_store_label {
    const char *key, *value;
};

/* Every filter is optional (NULL / 0); all given must hold. */
struct reef_store_list_opts {
    const char *namespace;                 /* NULL: every namespace */
    const char *name;                      /* exact metadata.name */
    const struct reef_store_label *labels; /* equality on metadata.labels */
    size_t nlabels;                        /* at most REEF_STORE_MAX_LABELS */
    const char *node_name;                 /* pods: spec.nodeName ("" = unscheduled) */
    const char *phase;                     /* pods: status.phase */
    const char *owner_uid;                 /* metadata.ownerReferences[].uid */
    size_t limit;                          /* items per page; 0: all */
    const char *continue_token;            /* from the previous page's result */
    reef_store_pred pred;                  /* applied to each object after the filters */
    void *pred_arg;
};

/* One listed object; everything is borrowed for the duration of the callback. */
struct reef_store_item {
    const char *namespace, *name;
    int64_t rev;
    const char *object;
    size_t len;
};
/* Returns 0 to go on, or a negative code that stops the list and is returned by it. It may read
 * the store but must not write to it (the list's query is still running). */
typedef int (*reef_store_list_cb)(void *arg, const struct reef_store_item *it);

struct reef_store_list_result {
    int64_t rev;  /* the list's revision: the store's, or the first page's for a continuation */
    size_t count; /* items delivered */
    char continue_token[REEF_STORE_TOKEN_MAX]; /* "" on the last page */
};

/* Lists resource in (namespace, name) order, calling cb for each matching object. A continued
 * list shows the current state of the objects after the token's key and reports the first
 * page's revision (changes since then also reach a watch from that revision). Errors: -EINVAL
 * (bad token or options), REEF_STORE_EXPIRED (the token's revision was compacted), cb's code.
 * res may be NULL. */
int reef_store_list(struct reef_store *s, const char *resource,
                    const struct reef_store_list_opts *opts, reef_store_list_cb cb, void *arg,
                    struct reef_store_list_result *res, struct reef_err *err);

/* ---- watches ---- */

enum reef_store_event_type {
    REEF_STORE_ADDED = 1,
    REEF_STORE_MODIFIED = 2,
    REEF_STORE_DELETED = 3,
};
/* "ADDED", "MODIFIED", "DELETED". */
const char *reef_store_event_name(enum reef_store_event_type t);

/* Everything is borrowed for the duration of the callback. */
struct reef_store_event {
    enum reef_store_event_type type; /* as seen through the watch's predicate */
    int64_t rev;
    const char *resource, *namespace, *name;
    const char *object; /* after the change; DELETED: the last state, with the delete's rev */
    size_t len;
};
typedef void (*reef_store_watch_cb)(void *arg, const struct reef_store_event *ev);

/* Watches resource in namespace (NULL: all) for changes with revision > from_rev (0: from now),
 * in revision order: first the retained history (delivered before this returns), then live
 * writes. With a predicate, a change delivered as MODIFIED when the object matches before and
 * after, ADDED when it starts matching, DELETED (with the new state) when it stops, and not at
 * all when it matches neither. Errors: REEF_STORE_EXPIRED when from_rev is below the compacted
 * revision, -EINVAL, disk errors; on failure cb is never called. *out (set before the replay
 * starts, so callbacks may use it) is cancelled with reef_store_unwatch or by reef_store_close;
 * it is NULL on return when the watch cancelled itself during the replay. */
int reef_store_watch(struct reef_store *s, const char *resource, const char *namespace,
                     int64_t from_rev, reef_store_pred pred, void *pred_arg, reef_store_watch_cb cb,
                     void *cb_arg, struct reef_store_watch **out, struct reef_err *err);
/* Cancels the watch: its callback is never called after this returns (safe from inside any
 * callback, its own included). NULL is ignored. */
void reef_store_unwatch(struct reef_store_watch *w);

/* ---- group commit ----
 * With opts.group_commit, reef_store_apply's writes share one SQLite transaction (a savepoint
 * each) until reef_store_sync commits it and syncs once, so a loop iteration's writes share one
 * disk sync and write each page they touch once. Until reef_store_sync: watchers get no event
 * above the last synced revision (replays stop there too, and a watch "from now" starts there),
 * while get and list already see the writes. The caller must therefore hold back everything it
 * would show outside the process (API responses) until reef_store_sync returns, and call it soon
 * after writing: the API server does both once per loop iteration. */

/* Whether writes wait for reef_store_sync (always false without group_commit, and once the
 * store has failed: its unsynced writes are lost then). */
bool reef_store_unsynced(const struct reef_store *s);
/* Commits the batch and syncs it (one fdatasync of the WAL), then delivers the events held
 * back. A failed commit or sync leaves it unknown what reached the disk: the store refuses
 * every later write (-EIO and the like, naming the first failure) until it is reopened, which
 * recovers whatever the disk kept. */
int reef_store_sync(struct reef_store *s, struct reef_err *err);
/* NULL, or the message of the failure that stopped the store taking writes. */
const char *reef_store_failure(const struct reef_store *s);

/* ---- maintenance ---- */

/* Writes pending heartbeats in one transaction now. */
int reef_store_flush(struct reef_store *s, struct reef_err *err);
/* Drops change history per the options at time now_ms (the caller's clock, Unix ms), then frees
 * pages (incremental vacuum) and truncates the WAL. *compacted (may be NULL) receives the new
 * compacted revision. */
int reef_store_compact(struct reef_store *s, int64_t now_ms, int64_t *compacted,
                       struct reef_err *err);
/* Runs whatever is due at now_ms: the heartbeat flush, compaction with vacuum and checkpoint.
 * *next_ms (may be NULL) receives how long until it should be called again. The delay is computed
 * from what is pending now: after a write whose result says durable == false, the caller makes
 * sure a tick comes within flush_interval_ms (a loop timer re-armed to the smaller delay), or the
 * held heartbeats wait for the next tick. */
int reef_store_tick(struct reef_store *s, int64_t now_ms, int64_t *next_ms, struct reef_err *err);

/* The file's sizes (database, WAL, free pages; core/db.h), read through the store's own
 * connection: nothing else may open the file while the store has it. */
int reef_store_size(struct reef_store *s, struct reef_db_size *out, struct reef_err *err);

struct reef_store_stats {
    uint64_t commits;    /* write transactions committed */
    uint64_t syncs;      /* group commit: disk syncs by reef_store_sync */
    uint64_t sync_ns;    /* the time those syncs spent in the disk */
    uint64_t flushes;    /* of which heartbeat flushes */
    uint64_t heartbeats; /* writes held in memory instead of committed at once */
    uint64_t pending;    /* heartbeat events not yet on disk */
    uint64_t watchers;
    uint64_t events_replayed; /* replayed from the change log (disk) rather than memory */
    int64_t rev, compacted_rev, reserved_rev;
};
void reef_store_stats(const struct reef_store *s, struct reef_store_stats *out);

#endif
