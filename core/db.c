#include "core/db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_BUSY_MS 5000
#define DEFAULT_TXN_MS 10000
#define DEFAULT_CACHE_KIB 8192
#define DEFAULT_STMTS 64
#define MAX_STMTS 4096
/* After a checkpoint resets the WAL, SQLite truncates it to this size instead of keeping the
 * high-water mark of one big transaction on disk forever. */
#define JOURNAL_SIZE_LIMIT (64 * 1024 * 1024)
#define BACKOFF_MAX_MS 100

struct slot {
    char *sql; /* owned copy, the cache key */
    uint64_t hash;
    sqlite3_stmt *stmt;
    uint64_t last_used;
    bool busy; /* handed out by reef_db_query and not yet returned */
};

struct reef_db {
    sqlite3 *h;
    char *path;
    bool mem;
    int busy_ms;
    int txn_ms;
    struct slot *slots;
    int nslots;
    uint64_t tick;
    struct reef_db_stats stats;
    uint64_t rng;
};

int reef_db_errno(int rc)
{
    switch (rc) {
    case SQLITE_IOERR_NOMEM:
        return -ENOMEM;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_ROWID:
        return -EEXIST;
    case SQLITE_CANTOPEN_ISDIR:
        return -EISDIR;
    }
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_PERM:
        return -EPERM;
    case SQLITE_AUTH:
        return -EACCES;
    case SQLITE_INTERRUPT:
        return -EINTR;
    case SQLITE_ABORT:
        return -ECANCELED;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return -EUCLEAN;
    case SQLITE_CANTOPEN:
    case SQLITE_NOTFOUND:
        return -ENOENT;
    case SQLITE_TOOBIG:
        return -E2BIG;
    case SQLITE_NOLFS:
        return -EFBIG;
    case SQLITE_RANGE:
        return -ERANGE;
    case SQLITE_SCHEMA:
        return -EAGAIN;
    case SQLITE_CONSTRAINT:
    case SQLITE_ERROR:
    case SQLITE_MISMATCH:
    case SQLITE_MISUSE:
    case SQLITE_FORMAT:
        return -EINVAL;
    default: /* SQLITE_IOERR, SQLITE_PROTOCOL, SQLITE_EMPTY, SQLITE_INTERNAL, ... */
        return -EIO;
    }
}

int reef_db_error(struct reef_db *db, int rc, struct reef_err *err, const char *what)
{
    int code = reef_db_errno(rc);
    if (code == 0)
        code = -EIO;
    /* sqlite3_errmsg describes the connection's last failure, which carries the detail (the
     * constraint's column, the syntax error's token); fall back to the generic text when the
     * code did not come from the connection. */
    const char *msg = db && db->h && sqlite3_extended_errcode(db->h) == rc ? sqlite3_errmsg(db->h)
                                                                           : sqlite3_errstr(rc);
    return reef_err_set(err, code, "db: %s: %s", what, msg);
}

sqlite3 *reef_db_handle(struct reef_db *db)
{
    return db->h;
}

const char *reef_db_path(const struct reef_db *db)
{
    return db->path;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t next_rand(struct reef_db *db)
{
    /* xorshift64: jitter only needs to keep two waiting processes from retrying in lockstep. */
    uint64_t x = db->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    db->rng = x;
    return x;
}

/* Runs one statement outside the cache and returns SQLite's result code, leaving the message on
 * the connection for reef_db_error. */
static int run_raw(struct reef_db *db, const char *sql)
{
    return sqlite3_exec(db->h, sql, NULL, NULL, NULL);
}

static int pragma_text(struct reef_db *db, const char *sql, char *out, size_t size)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    out[0] = '\0';
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, size, "%s", t ? (const char *)t : "");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int apply_pragmas(struct reef_db *db, const struct reef_db_opts *o, struct reef_err *err)
{
    char sql[256];
    /* auto_vacuum first: it only takes effect while the file has no tables, and a fresh file
     * gets its header on the first write (the journal_mode change below). Setting it on an
     * existing file rewrites its header: a disk write on every open of a short-lived command. */
    int rc;
    if (!db->mem && o->exclusive) {
        /* before anything reads the file, so the WAL index lives in memory, never in -shm */
        rc = run_raw(db, "PRAGMA locking_mode=EXCLUSIVE");
        if (rc != SQLITE_OK)
            return reef_db_error(db, rc, err, "set locking_mode");
    }
    char vac[16];
    rc = pragma_text(db, "PRAGMA auto_vacuum", vac, sizeof(vac));
    if (rc == SQLITE_OK && strcmp(vac, "2") != 0)
        rc = run_raw(db, "PRAGMA auto_vacuum=INCREMENTAL");
    if (rc != SQLITE_OK)
        return reef_db_error(db, rc, err, "set auto_vacuum");
    if (!db->mem) {
        char mode[32];
        /* Switching a new file to WAL needs it to ourselves: another process creating the same
         * file at this moment gets SQLITE_BUSY at once, without the busy handler, so wait here. */
        int64_t deadline = (int64_t)now_ms() + db->busy_ms;
        int pause_us = 1000;
        while ((rc = pragma_text(db, "PRAGMA journal_mode=WAL", mode, sizeof(mode))) ==
                   SQLITE_BUSY &&
               (int64_t)now_ms() < deadline) {
            usleep((useconds_t)pause_us);
            if (pause_us < 50000)
                pause_us *= 2;
        }
        if (rc != SQLITE_OK)
            return reef_db_error(db, rc, err, "set journal_mode");
        if (strcmp(mode, "wal") != 0)
            return reef_err_set(err, -EIO, "db: set journal_mode: file stays in %s mode", mode);
    }
    snprintf(sql, sizeof(sql),
             "PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
             " PRAGMA cache_size=-%d; PRAGMA journal_size_limit=%d",
             o->sync == REEF_DB_SYNC_FULL ? "FULL" : "NORMAL",
             o->cache_kib > 0 ? o->cache_kib : DEFAULT_CACHE_KIB, JOURNAL_SIZE_LIMIT);
    rc = run_raw(db, sql);
    if (rc != SQLITE_OK)
        return reef_db_error(db, rc, err, "set pragmas");
    return 0;
}

int reef_db_open(const char *path, const struct reef_db_opts *opts, struct reef_db **out,
                 struct reef_err *err)
{
    static const struct reef_db_opts defaults = {0};
    const struct reef_db_opts *o = opts ? opts : &defaults;
    *out = NULL;
    struct reef_db *db = calloc(1, sizeof(*db));
    if (!db)
        return reef_err_set(err, -ENOMEM, "db: open: out of memory");
    db->mem = !path || strcmp(path, ":memory:") == 0;
    db->path = strdup(db->mem ? ":memory:" : path);
    db->busy_ms = o->busy_timeout_ms > 0 ? o->busy_timeout_ms : DEFAULT_BUSY_MS;
    db->txn_ms = o->txn_timeout_ms > 0 ? o->txn_timeout_ms : DEFAULT_TXN_MS;
    db->nslots =
        o->stmt_cache > 0 ? (o->stmt_cache < MAX_STMTS ? o->stmt_cache : MAX_STMTS) : DEFAULT_STMTS;
    db->slots = calloc((size_t)db->nslots, sizeof(*db->slots));
    db->rng = ((uint64_t)getpid() << 32) ^ (uint64_t)now_ms() ^ (uintptr_t)db;
    if (!db->rng)
        db->rng = 1;
    if (!db->path || !db->slots) {
        reef_db_close(db);
        return reef_err_set(err, -ENOMEM, "db: open: out of memory");
    }
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    if (db->mem)
        flags |= SQLITE_OPEN_MEMORY;
    int rc = sqlite3_open_v2(db->path, &db->h, flags, NULL);
    if (rc != SQLITE_OK) {
        int code = reef_db_errno(rc);
        int sys = db->h ? sqlite3_system_errno(db->h) : 0;
        if (sys > 0)
            code = -sys;
        reef_err_set(err, code ? code : -EIO, "db: open %s: %s%s%s", db->path,
                     db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc), sys > 0 ? ": " : "",
                     sys > 0 ? strerror(sys) : "");
        reef_db_close(db);
        return code ? code : -EIO;
    }
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, db->busy_ms);
    /* The last connection to close would checkpoint the WAL into the database (two fsyncs) and
     * delete it: too costly for every command reef runs. Checkpoints happen as the WAL grows and
     * when asked (reef_db_checkpoint). */
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    int r = apply_pragmas(db, o, err);
    if (r < 0) {
        reef_err_wrap(err, "open %s", db->path);
        reef_db_close(db);
        return r;
    }
    *out = db;
    return 0;
}

void reef_db_close(struct reef_db *db)
{
    if (!db)
        return;
    if (db->slots) {
        for (int i = 0; i < db->nslots; i++) {
            sqlite3_finalize(db->slots[i].stmt);
            free(db->slots[i].sql);
        }
    }
    if (db->h) {
        if (!sqlite3_get_autocommit(db->h))
            run_raw(db, "ROLLBACK");
        /* sqlite3_close_v2 defers the close until stray statements are finalized instead of
         * failing, so a leaked uncached statement cannot keep the file open forever. */
        sqlite3_close_v2(db->h);
    }
    free(db->slots);
    free(db->path);
    free(db);
}

/* ---- statements ---- */

static uint64_t hash_sql(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static bool only_space(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != ';')
            return false;
    return true;
}

/* Finds sql in the cache or compiles it. *slot is -1 for a statement the caller must finalize:
 * the cached copy is in use by an enclosing query, or every slot is. */
static int get_stmt(struct reef_db *db, const char *sql, sqlite3_stmt **out, int *slot,
                    struct reef_err *err, const char *what)
{
    uint64_t h = hash_sql(sql);
    bool dup = false;
    for (int i = 0; i < db->nslots; i++) {
        struct slot *s = &db->slots[i];
        if (!s->stmt || s->hash != h || strcmp(s->sql, sql) != 0)
            continue;
        if (s->busy) {
            dup = true; /* nested use of the same SQL: compile a private copy */
            break;
        }
        s->busy = true;
        s->last_used = ++db->tick;
        db->stats.hits++;
        *out = s->stmt;
        *slot = i;
        return 0;
    }
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(db->h, sql, -1, dup ? 0 : SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK)
        return reef_db_error(db, rc, err, what);
    if (!st || !only_space(tail)) {
        sqlite3_finalize(st);
        return reef_err_set(err, -EINVAL, "db: %s: expected exactly one SQL statement", what);
    }
    db->stats.misses++;
    *out = st;
    *slot = -1;
    if (dup)
        return 0;
    int victim = -1;
    for (int i = 0; i < db->nslots; i++) {
        struct slot *s = &db->slots[i];
        if (!s->stmt) {
            victim = i;
            break;
        }
        if (!s->busy && (victim < 0 || s->last_used < db->slots[victim].last_used))
            victim = i;
    }
    if (victim < 0)
        return 0;
    char *copy = strdup(sql);
    if (!copy)
        return 0; /* run uncached rather than fail */
    struct slot *s = &db->slots[victim];
    if (s->stmt) {
        sqlite3_finalize(s->stmt);
        free(s->sql);
        db->stats.evictions++;
        db->stats.cached--;
    }
    *s = (struct slot){.sql = copy, .hash = h, .stmt = st, .last_used = ++db->tick, .busy = true};
    db->stats.cached++;
    *slot = victim;
    return 0;
}

static int bind_args(struct reef_db_query *q, struct reef_err *err, const char *fmt, va_list ap)
{
    sqlite3_stmt *st = q->stmt;
    size_t n = fmt ? strlen(fmt) : 0;
    int want = sqlite3_bind_parameter_count(st);
    if ((size_t)want != n)
        return reef_err_set(err, -EINVAL,
                            "db: %s: statement has %d parameters but %zu values given", q->what,
                            want, n);
    for (int i = 1; i <= want; i++) {
        int rc;
        switch (fmt[i - 1]) {
        case 'i':
            rc = sqlite3_bind_int(st, i, va_arg(ap, int));
            break;
        case 'I':
            rc = sqlite3_bind_int64(st, i, (sqlite3_int64)va_arg(ap, int64_t));
            break;
        case 'd':
            rc = sqlite3_bind_double(st, i, va_arg(ap, double));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
            break;
        }
        case 't': {
            const char *s = va_arg(ap, const char *);
            size_t len = va_arg(ap, size_t);
            rc = s ? sqlite3_bind_text64(st, i, s, len, SQLITE_TRANSIENT, SQLITE_UTF8)
                   : sqlite3_bind_null(st, i);
            break;
        }
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t len = va_arg(ap, size_t);
            rc =
                p ? sqlite3_bind_blob64(st, i, p, len, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
            break;
        }
        case 'n':
            rc = sqlite3_bind_null(st, i);
            break;
        default:
            return reef_err_set(err, -EINVAL, "db: %s: unknown bind format '%c'", q->what,
                                fmt[i - 1]);
        }
        if (rc != SQLITE_OK)
            return reef_db_error(q->db, rc, err, q->what);
    }
    return 0;
}

static int vquery(struct reef_db *db, struct reef_db_query *q, struct reef_err *err,
                  const char *what, const char *sql, const char *fmt, va_list ap)
{
    *q = (struct reef_db_query){.db = db, .what = what, .slot = -1};
    int r = get_stmt(db, sql, &q->stmt, &q->slot, err, what);
    if (r < 0) {
        q->stmt = NULL;
        return r;
    }
    r = bind_args(q, err, fmt, ap);
    if (r < 0)
        reef_db_query_done(q);
    return r;
}

int reef_db_query(struct reef_db *db, struct reef_db_query *q, struct reef_err *err,
                  const char *what, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vquery(db, q, err, what, sql, fmt, ap);
    va_end(ap);
    return r;
}

int reef_db_next(struct reef_db_query *q, struct reef_err *err)
{
    if (REEF_NEVER(!q->stmt))
        return reef_err_set(err, -EINVAL, "db: step on a finished query");
    int rc = sqlite3_step(q->stmt);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return reef_db_error(q->db, rc, err, q->what);
}

void reef_db_query_done(struct reef_db_query *q)
{
    if (!q || !q->stmt)
        return;
    struct reef_db *db = q->db;
    if (q->slot >= 0 && q->slot < db->nslots && db->slots[q->slot].stmt == q->stmt) {
        sqlite3_reset(q->stmt);
        sqlite3_clear_bindings(q->stmt);
        db->slots[q->slot].busy = false;
    } else {
        sqlite3_finalize(q->stmt);
    }
    q->stmt = NULL;
    q->slot = -1;
}

int64_t reef_db_col_int(struct reef_db_query *q, int col)
{
    return sqlite3_column_int64(q->stmt, col);
}

const char *reef_db_col_text(struct reef_db_query *q, int col)
{
    return (const char *)sqlite3_column_text(q->stmt, col);
}

const void *reef_db_col_blob(struct reef_db_query *q, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(q->stmt, col);
    *len = (size_t)sqlite3_column_bytes(q->stmt, col);
    return p;
}

bool reef_db_col_null(struct reef_db_query *q, int col)
{
    return sqlite3_column_type(q->stmt, col) == SQLITE_NULL;
}

int reef_db_exec(struct reef_db *db, struct reef_err *err, const char *what, const char *sql,
                 const char *fmt, ...)
{
    struct reef_db_query q;
    va_list ap;
    va_start(ap, fmt);
    int r = vquery(db, &q, err, what, sql, fmt, ap);
    va_end(ap);
    if (r < 0)
        return r;
    while ((r = reef_db_next(&q, err)) > 0)
        ;
    reef_db_query_done(&q);
    return r;
}

int reef_db_get_int(struct reef_db *db, struct reef_err *err, const char *what, int64_t *out,
                    const char *sql, const char *fmt, ...)
{
    struct reef_db_query q;
    va_list ap;
    va_start(ap, fmt);
    int r = vquery(db, &q, err, what, sql, fmt, ap);
    va_end(ap);
    if (r < 0)
        return r;
    r = reef_db_next(&q, err);
    if (r > 0) {
        *out = sqlite3_column_int64(q.stmt, 0);
        r = 0;
    } else if (r == 0) {
        r = reef_err_set(err, -ENOENT, "db: %s: no row", what);
    }
    reef_db_query_done(&q);
    return r;
}

int reef_db_get_text(struct reef_db *db, struct reef_err *err, const char *what, char **out,
                     const char *sql, const char *fmt, ...)
{
    struct reef_db_query q;
    *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    int r = vquery(db, &q, err, what, sql, fmt, ap);
    va_end(ap);
    if (r < 0)
        return r;
    r = reef_db_next(&q, err);
    if (r > 0) {
        const unsigned char *t = sqlite3_column_text(q.stmt, 0);
        r = 0;
        if (t && !(*out = strdup((const char *)t)))
            r = reef_err_set(err, -ENOMEM, "db: %s: out of memory", what);
    } else if (r == 0) {
        r = reef_err_set(err, -ENOENT, "db: %s: no row", what);
    }
    reef_db_query_done(&q);
    return r;
}

int reef_db_exec_script(struct reef_db *db, struct reef_err *err, const char *what, const char *sql)
{
    int rc = run_raw(db, sql);
    return rc == SQLITE_OK ? 0 : reef_db_error(db, rc, err, what);
}

int64_t reef_db_changes(struct reef_db *db)
{
    return sqlite3_changes64(db->h);
}

int64_t reef_db_last_rowid(struct reef_db *db)
{
    return sqlite3_last_insert_rowid(db->h);
}

void reef_db_stats(const struct reef_db *db, struct reef_db_stats *out)
{
    *out = db->stats;
}

/* ---- transactions ---- */

bool reef_db_in_txn(struct reef_db *db)
{
    return !sqlite3_get_autocommit(db->h);
}

/* Transaction control through the statement cache: it runs for every write, and compiling it
 * each time (sqlite3_exec) cost more than some of the writes. SQLite's result code, the message
 * left on the connection for reef_db_error, as run_raw. */
static int run_cached(struct reef_db *db, const char *sql)
{
    sqlite3_stmt *st;
    int slot;
    if (get_stmt(db, sql, &st, &slot, NULL, "transaction control") < 0)
        return run_raw(db, sql);
    int rc = sqlite3_step(st);
    struct reef_db_query q = {.db = db, .stmt = st, .slot = slot};
    reef_db_query_done(&q);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int reef_db_begin(struct reef_db *db, struct reef_err *err)
{
    int64_t start = now_ms(), deadline = start + db->txn_ms;
    int delay = 1;
    /* The loop below does the waiting, so that the deadline is ours and not SQLite's per-call
     * busy timeout multiplied by the number of tries. */
    sqlite3_busy_timeout(db->h, 0);
    int rc;
    for (;;) {
        rc = run_cached(db, "BEGIN IMMEDIATE");
        int prim = rc & 0xff;
        if (rc == SQLITE_OK || (prim != SQLITE_BUSY && prim != SQLITE_LOCKED))
            break;
        int64_t now = now_ms();
        if (now >= deadline)
            break;
        int64_t sleep_ms = delay + (int64_t)(next_rand(db) % (uint64_t)delay);
        if (sleep_ms > deadline - now)
            sleep_ms = deadline - now;
        struct timespec ts = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        delay = delay * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay * 2;
    }
    sqlite3_busy_timeout(db->h, db->busy_ms);
    if (rc == SQLITE_OK)
        return 0;
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
        return reef_err_set(
            err, -EBUSY, "db: begin transaction: %s is locked by another writer (waited %lld ms)",
            db->path, (long long)(now_ms() - start));
    return reef_db_error(db, rc, err, "begin transaction");
}

int reef_db_commit(struct reef_db *db, struct reef_err *err)
{
    int rc = run_cached(db, "COMMIT");
    return rc == SQLITE_OK ? 0 : reef_db_error(db, rc, err, "commit");
}

void reef_db_rollback(struct reef_db *db)
{
    /* After SQLITE_FULL, IOERR, BUSY or NOMEM SQLite may have rolled back on its own; a second
     * ROLLBACK would only report "no transaction is active". */
    if (!sqlite3_get_autocommit(db->h))
        run_raw(db, "ROLLBACK");
}

int reef_db_txn(struct reef_db *db, reef_db_txn_fn fn, void *arg, struct reef_err *err)
{
    if (reef_db_in_txn(db)) {
        int rc = run_cached(db, "SAVEPOINT reef_txn");
        if (rc != SQLITE_OK)
            return reef_db_error(db, rc, err, "savepoint");
        int r = fn(db, arg, err);
        if (r < 0) {
            /* Rolling back to a savepoint keeps it open; release it so the nesting unwinds. */
            if (reef_db_in_txn(db))
                run_raw(db, "ROLLBACK TO reef_txn; RELEASE reef_txn");
            return r;
        }
        rc = run_cached(db, "RELEASE reef_txn");
        return rc == SQLITE_OK ? 0 : reef_db_error(db, rc, err, "release savepoint");
    }
    int r = reef_db_begin(db, err);
    if (r < 0)
        return r;
    r = fn(db, arg, err);
    if (r == 0)
        r = reef_db_commit(db, err);
    if (r < 0)
        reef_db_rollback(db);
    return r;
}

/* ---- schema ---- */

int reef_db_migrate(struct reef_db *db, const char *const *scripts, size_t n, int *version,
                    struct reef_err *err)
{
    /* Almost every open finds the schema current: see that without the write lock, which a
     * long writer elsewhere (a pull) would make us wait for. */
    int64_t cur;
    if (reef_db_get_int(db, NULL, "read schema version", &cur, "PRAGMA user_version", NULL) == 0 &&
        cur >= 0 && (size_t)cur == n) {
        if (version)
            *version = (int)cur;
        return 0;
    }
    for (;;) {
        /* One transaction per step, re-reading the version under the write lock, so two
         * processes starting at once cannot both apply the same script. */
        int r = reef_db_begin(db, err);
        if (r < 0)
            return reef_err_wrap(err, "migrate %s", db->path);
        int64_t v;
        r = reef_db_get_int(db, err, "read schema version", &v, "PRAGMA user_version", NULL);
        if (r < 0) {
            reef_db_rollback(db);
            return r;
        }
        if (v < 0 || (uint64_t)v > n) {
            reef_db_rollback(db);
            return reef_err_set(err, -ENOTSUP,
                                "db: %s has schema version %lld but this reef knows only up to "
                                "%zu: it was written by a newer reef; run that version or "
                                "restore a backup",
                                db->path, (long long)v, n);
        }
        if ((size_t)v == n) {
            reef_db_rollback(db); /* nothing was written */
            if (version)
                *version = (int)v;
            return 0;
        }
        char what[64], sql[64];
        snprintf(what, sizeof(what), "migrate to schema version %lld", (long long)v + 1);
        r = reef_db_exec_script(db, err, what, scripts[v]);
        if (r == 0) {
            snprintf(sql, sizeof(sql), "PRAGMA user_version=%lld", (long long)v + 1);
            r = reef_db_exec_script(db, err, what, sql);
        }
        if (r == 0)
            r = reef_db_commit(db, err);
        if (r < 0) {
            reef_db_rollback(db);
            return r;
        }
    }
}

/* ---- maintenance ---- */

int reef_db_checkpoint(struct reef_db *db, bool truncate, int *log, int *done, struct reef_err *err)
{
    int l = 0, d = 0;
    if (!db->mem) {
        int rc = sqlite3_wal_checkpoint_v2(
            db->h, "main", truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, &l,
            &d);
        if (rc != SQLITE_OK)
            return reef_db_error(db, rc, err, truncate ? "checkpoint (truncate)" : "checkpoint");
    }
    if (log)
        *log = l;
    if (done)
        *done = d;
    return 0;
}

int reef_db_sync(struct reef_db *db, struct reef_err *err)
{
    if (db->mem)
        return 0;
    /* The WAL's own file handle: syncing it through SQLite keeps SQLite's view of the file (and
     * its directory sync on first use) in one place. */
    sqlite3_file *f = NULL;
    int rc = sqlite3_file_control(db->h, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
    if (rc != SQLITE_OK)
        return reef_db_error(db, rc, err, "sync");
    if (!f || !f->pMethods)
        return 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    errno = 0;
    rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
    int sys = errno;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    db->stats.syncs++;
    db->stats.sync_ns +=
        (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
    if (rc != SQLITE_OK) {
        return reef_err_set(err, sys > 0 ? -sys : reef_db_errno(rc), "db: sync %s-wal: %s",
                            db->path, sys > 0 ? strerror(sys) : sqlite3_errstr(rc));
    }
    return 0;
}

int reef_db_vacuum_incremental(struct reef_db *db, int pages, struct reef_err *err)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%d)", pages > 0 ? pages : 0);
    return reef_db_exec_script(db, err, "incremental vacuum", sql);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int reef_db_size(struct reef_db *db, struct reef_db_size *out, struct reef_err *err)
{
    int64_t ps, pc, fl;
    int r = reef_db_get_int(db, err, "read page size", &ps, "PRAGMA page_size", NULL);
    if (r == 0)
        r = reef_db_get_int(db, err, "read page count", &pc, "PRAGMA page_count", NULL);
    if (r == 0)
        r = reef_db_get_int(db, err, "read free pages", &fl, "PRAGMA freelist_count", NULL);
    if (r < 0)
        return r;
    *out = (struct reef_db_size){
        .page_size = (uint64_t)ps, .page_count = (uint64_t)pc, .free_pages = (uint64_t)fl};
    if (db->mem) {
        out->file_bytes = (uint64_t)ps * (uint64_t)pc;
        return 0;
    }
    out->file_bytes = file_size(db->path);
    size_t n = strlen(db->path);
    char *wal = malloc(n + 5);
    if (!wal)
        return reef_err_set(err, -ENOMEM, "db: size: out of memory");
    memcpy(wal, db->path, n);
    memcpy(wal + n, "-wal", 5);
    out->wal_bytes = file_size(wal);
    free(wal);
    return 0;
}
