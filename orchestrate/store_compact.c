/* Keeping the disk small and quiet: the heartbeat flush (many in-memory writes, one transaction),
 * compaction of the change log, incremental vacuum and WAL truncation. */
#include <string.h>

#include "core/log.h"
#include "orchestrate/store_int.h"

static int flush_txn(struct reef_db *db, void *arg, struct reef_err *err)
{
    struct reef_store *s = arg;
    int r = 0;
    for (size_t i = 0; r == 0 && i < s->ov_cap; i++)
        for (struct reef__overlay *o = s->ov[i]; r == 0 && o; o = o->next)
            r = reef_db_exec(db, err, "flush object", "UPDATE object SET rev=?, data=? WHERE id=?",
                             "ItI", o->ev->rev, o->ev->obj->data, o->ev->obj->len, o->id);
    for (size_t i = 0; r == 0 && i < s->npending; i++) {
        struct reef__sev *e = s->pending[i];
        if (e->rev <= s->compact_rev)
            continue; /* compacted while it waited */
        r = reef_db_exec(db, err, "flush change",
                         "INSERT OR IGNORE INTO change(rev,type,resource,namespace,name,data,ts)"
                         " VALUES(?,?,?,?,?,?,?)",
                         "IissstI", e->rev, (int)e->type, e->resource, e->ns, e->name, e->obj->data,
                         e->obj->len, e->ts);
    }
    return r;
}

int reef__store_flush(struct reef_store *s, struct reef_err *err)
{
    if (s->npending == 0 && s->ov_n == 0)
        return 0;
    int r = reef_db_txn(s->db, flush_txn, s, err);
    if (r < 0)
        return reef_err_wrap(err, "store: flush heartbeats");
    reef__store_committed(s);
    s->st.flushes++;
    for (size_t i = 0; i < s->npending; i++)
        reef__sev_unref(s->pending[i]);
    s->npending = 0;
    reef__store_overlay_clear(s);
    return 0;
}

int reef_store_flush(struct reef_store *s, struct reef_err *err)
{
    return reef__store_flush(s, err);
}

/* Moves *target up over the changes after it that are older than cutoff. Timestamps (the
 * leader's clock) rise with revisions, so this walks the log in revision order and stops at the
 * first newer change: no index on ts to update on every write, and a walk as long as what it
 * lets compaction drop. A clock that stepped back only ends the walk early, keeping more. */
static int age_bound(struct reef_store *s, int64_t cutoff, int64_t *target, struct reef_err *err)
{
    _cleanup_db_query_ struct reef_db_query q = {0};
    int r = reef_db_query(s->db, &q, err, "find old changes",
                          "SELECT rev, ts FROM change WHERE rev > ? ORDER BY rev", "I", *target);
    while (r == 0 && (r = reef_db_next(&q, err)) == 1) {
        if (reef_db_col_int(&q, 1) >= cutoff)
            return 0;
        *target = reef_db_col_int(&q, 0);
        r = 0;
    }
    return r;
}

int reef_store_compact(struct reef_store *s, int64_t now_ms, int64_t *compacted,
                       struct reef_err *err)
{
    int r = reef__store_batch_end(s, err);
    if (r < 0)
        return r;
    /* Keep the newer of the two bounds, i.e. whichever keeps less history. */
    int64_t target = s->rev - s->o.keep_revisions;
    if (target < s->compact_rev)
        target = s->compact_rev;
    r = age_bound(s, now_ms - s->o.keep_ms, &target, err);
    if (r < 0)
        return reef_err_wrap(err, "store: compact");
    if (target > s->rev)
        target = s->rev;
    if (target > s->compact_rev) {
        r = reef_db_begin(s->db, err);
        if (r == 0)
            r = reef_db_exec(s->db, err, "drop changes", "DELETE FROM change WHERE rev<=?", "I",
                             target);
        if (r == 0)
            r = reef__store_put_meta(s, "compacted", target, err);
        if (r == 0)
            r = reef_db_commit(s->db, err);
        if (r < 0) {
            reef_db_rollback(s->db);
            return reef_err_wrap(err, "store: compact to %lld", (long long)target);
        }
        reef__store_committed(s);
        s->compact_rev = target;
        /* Freed pages go back to the file system: vacuum moves them to the end and cuts them
         * off; the checkpoint below carries that into the main file and empties the WAL. */
        r = reef_db_vacuum_incremental(s->db, 0, err);
        if (r < 0)
            return reef_err_wrap(err, "store: compact");
    }
    if (compacted)
        *compacted = s->compact_rev;
    r = reef_db_checkpoint(s->db, true, NULL, NULL, err);
    if (r == -EBUSY) {
        /* Another connection (a backup) is reading: the next round truncates. */
        LOG_DEBUG("store", "checkpoint postponed: %s", err ? err->msg : "busy");
        if (err)
            reef_err_clear(err);
        return 0;
    }
    return r < 0 ? reef_err_wrap(err, "store: compact") : 0;
}

int reef_store_tick(struct reef_store *s, int64_t now_ms, int64_t *next_ms, struct reef_err *err)
{
    if (s->last_flush_ms < 0)
        s->last_flush_ms = now_ms;
    if (s->last_compact_ms < 0)
        s->last_compact_ms = now_ms;
    int r = 0;
    if (!s->npending && !s->ov_n)
        s->last_flush_ms =
            now_ms; /* the first heartbeat after a quiet spell waits a full interval */
    else if (now_ms - s->last_flush_ms >= s->o.flush_interval_ms) {
        /* A failed flush keeps everything in memory; the next tick tries again. */
        r = reef__store_flush(s, err);
        s->last_flush_ms = now_ms;
    }
    if (r == 0 && now_ms - s->last_compact_ms >= s->o.compact_interval_ms) {
        r = reef_store_compact(s, now_ms, NULL, err);
        s->last_compact_ms = now_ms;
    }
    if (next_ms) {
        int64_t next = s->last_compact_ms + s->o.compact_interval_ms - now_ms;
        if ((s->npending || s->ov_n) && s->o.flush_interval_ms > 0) {
            int64_t f = s->last_flush_ms + s->o.flush_interval_ms - now_ms;
            if (f < next)
                next = f;
        }
        *next_ms = next > 0 ? next : 0;
    }
    return r;
}
