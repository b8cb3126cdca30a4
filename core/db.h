/* db: reef's SQLite adapter. It owns one connection, its pragmas, a bounded cache of prepared
 * statements, schema migrations, write transactions with retry, and maintenance (checkpoint,
 * incremental vacuum, sizes). SQLite result codes are translated here, once, into negative errno
 * values and reef_err messages shaped "db: <what>: <sqlite message>".
 *
 * A struct reef_db belongs to one thread at a time (the connection is opened without SQLite's own
 * mutexes). Several connections, in one process or several, may share a database file: WAL lets
 * readers run beside one writer, and writers queue through reef_db_begin's retry loop.
 *
 * Error codes: -EBUSY (locked by another connection past the time limit), -ENOSPC (disk full),
 * -EIO (I/O error), -EEXIST (UNIQUE or PRIMARY KEY constraint), -EINVAL (other constraints, SQL
 * errors, misuse, wrong number of bound values), -ENOMEM, -EROFS, -EUCLEAN (corrupt file or not a
 * database), -ENOTSUP (database written by a newer reef), -ENOENT (no row where one was required,
 * or a file that cannot be opened). */
#ifndef REEF_CORE_DB_H
#define REEF_CORE_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct reef_db;

enum reef_db_sync {
    /* Commits are durable against a crash of the process; a power cut may lose the last commits
     * but never corrupts the file. */
    REEF_DB_SYNC_NORMAL = 0,
    /* Every commit is fsynced before it returns: for stores whose writes must survive power
     * loss (the object store, the Raft state machine). */
    REEF_DB_SYNC_FULL,
};

struct reef_db_opts {
    enum reef_db_sync sync;
    int busy_timeout_ms; /* SQLite's own wait on a lock per statement; 0 means 5000 */
    int txn_timeout_ms;  /* how long reef_db_begin keeps retrying; 0 means 10000 */
    int cache_kib;       /* page cache cap per connection; 0 means 8192 KiB */
    int stmt_cache;      /* prepared statements kept; 0 means 64 */
    /* The connection keeps the file to itself (locking_mode=EXCLUSIVE), from the open to the
     * close: no lock calls per transaction and the WAL's index in memory instead of a shared
     * -shm file. Another connection, in this process or another, gets -EBUSY at open. */
    bool exclusive;
};

/* Opens (creating when missing) the database at path in WAL mode with foreign keys on, temp
 * tables in memory, incremental auto-vacuum (effective only on a new file), the given synchronous
 * level and cache cap. path NULL or ":memory:" opens a private in-memory database (no WAL), for
 * tests. opts may be NULL for the defaults. On success *out is a connection the caller closes
 * with reef_db_close. */
int reef_db_open(const char *path, const struct reef_db_opts *opts, struct reef_db **out,
                 struct reef_err *err);
/* Finalizes every cached statement and closes the connection. NULL is ignored. Any open
 * transaction is rolled back. */
void reef_db_close(struct reef_db *db);
/* The raw connection, for what this module does not wrap. The db keeps ownership. */
sqlite3 *reef_db_handle(struct reef_db *db);
/* The file path given to reef_db_open (":memory:" for in-memory), owned by db. */
const char *reef_db_path(const struct reef_db *db);

/* Translates a SQLite result code (primary or extended) into a negative errno value. */
int reef_db_errno(int rc);
/* Fills err with "db: <what>: <sqlite3_errmsg>" and the translated code; returns that code.
 * Call right after the failing SQLite call, before the connection runs anything else. */
int reef_db_error(struct reef_db *db, int rc, struct reef_err *err, const char *what);

/* ---- statements ----
 * Every helper below takes SQL text and an argument format. SQL text is the statement cache's key
 * (compared by content), so pass constant strings, never SQL built around values. The format
 * has one letter per '?' parameter, in order, consuming these variadic arguments:
 *     i  int             I  int64_t          d  double
 *     s  const char *    (NUL-terminated text; NULL binds SQL NULL)
 *     t  const char *, size_t     (text of a given length)
 *     b  const void *, size_t     (blob; a NULL pointer binds SQL NULL)
 *     n  (nothing: binds SQL NULL)
 * fmt NULL or "" means no parameters. Text and blobs are copied by SQLite when bound, so the
 * caller's memory need only live for the call. A count that differs from the statement's
 * parameter count is -EINVAL. `what` names the operation for error messages ("insert object");
 * it must outlive the query (a string literal). */

/* A running query. Embedded by the caller (usually on the stack); release it with
 * reef_db_query_done, or declare it _cleanup_db_query_. */
struct reef_db_query {
    struct reef_db *db;
    sqlite3_stmt *stmt; /* read columns with sqlite3_column_*() while reef_db_next returns 1 */
    const char *what;
    int slot; /* statement cache slot, -1 when the statement is not cached */
};

/* Prepares (or takes from the cache) sql and binds the arguments. On failure nothing needs
 * releasing, but calling reef_db_query_done anyway is harmless. */
int reef_db_query(struct reef_db *db, struct reef_db_query *q, struct reef_err *err,
                  const char *what, const char *sql, const char *fmt, ...);
/* Steps: 1 when a row is ready, 0 when the query is finished, negative on error. */
int reef_db_next(struct reef_db_query *q, struct reef_err *err);
/* Resets the statement and returns it to the cache (or finalizes it when uncached). Safe to call
 * twice and on a zeroed struct. */
void reef_db_query_done(struct reef_db_query *q);
#define _cleanup_db_query_ __attribute__((cleanup(reef_db_query_done)))

/* Column helpers: the value of column col of the current row. Text is NULL for SQL NULL and is
 * owned by the statement until the next step or done. */
int64_t reef_db_col_int(struct reef_db_query *q, int col);
const char *reef_db_col_text(struct reef_db_query *q, int col);
const void *reef_db_col_blob(struct reef_db_query *q, int col, size_t *len);
bool reef_db_col_null(struct reef_db_query *q, int col);

/* Runs a statement that returns no rows we want (INSERT, UPDATE, DELETE, DDL); rows are
 * stepped over. */
int reef_db_exec(struct reef_db *db, struct reef_err *err, const char *what, const char *sql,
                 const char *fmt, ...);
/* Runs a query and stores the first column of its first row in *out. -ENOENT when there is no
 * row; a NULL value reads as 0. */
int reef_db_get_int(struct reef_db *db, struct reef_err *err, const char *what, int64_t *out,
                    const char *sql, const char *fmt, ...);
/* Like reef_db_get_int for text: *out is a malloc'd copy the caller frees (NULL for SQL NULL). */
int reef_db_get_text(struct reef_db *db, struct reef_err *err, const char *what, char **out,
                     const char *sql, const char *fmt, ...);
/* Runs a script of several statements without parameters or caching (DDL, pragmas). */
int reef_db_exec_script(struct reef_db *db, struct reef_err *err, const char *what,
                        const char *sql);

/* Rows changed by the last INSERT/UPDATE/DELETE, and the rowid of the last INSERT. */
int64_t reef_db_changes(struct reef_db *db);
int64_t reef_db_last_rowid(struct reef_db *db);

struct reef_db_stats {
    uint64_t hits;      /* reef_db_query calls served from the cache */
    uint64_t misses;    /* statements compiled */
    uint64_t evictions; /* cached statements finalized to make room */
    size_t cached;      /* statements held now */
    uint64_t syncs;     /* reef_db_sync calls that synced the WAL */
    uint64_t sync_ns;   /* time they spent in the disk sync */
};
void reef_db_stats(const struct reef_db *db, struct reef_db_stats *out);

/* ---- transactions ---- */

/* BEGIN IMMEDIATE: takes the write lock now, so the transaction can never fail later because
 * another writer came first. While another connection holds the lock it retries with growing
 * sleeps (1 ms doubling to 100 ms, with jitter) until opts.txn_timeout_ms has passed, then
 * returns -EBUSY with nothing begun. */
int reef_db_begin(struct reef_db *db, struct reef_err *err);
int reef_db_commit(struct reef_db *db, struct reef_err *err);
/* Rolls back the open transaction, if any (SQLite may already have rolled back after some
 * errors). Never fails in a way the caller could act on. */
void reef_db_rollback(struct reef_db *db);
bool reef_db_in_txn(struct reef_db *db);

/* Runs fn inside a write transaction: committed when fn returns 0, rolled back (and fn's error
 * returned) otherwise. Called inside a transaction, fn runs in a savepoint instead, so helpers
 * that need atomicity compose: an inner failure undoes only the inner work. */
typedef int (*reef_db_txn_fn)(struct reef_db *db, void *arg, struct reef_err *err);
int reef_db_txn(struct reef_db *db, reef_db_txn_fn fn, void *arg, struct reef_err *err);

/* ---- schema ---- */

/* Brings the schema up to date. scripts[i] moves the schema from version i to i+1; each runs in
 * its own transaction that also sets PRAGMA user_version, so a failing script leaves the
 * database exactly at version i. Scripts must not contain BEGIN/COMMIT. A database whose version
 * is beyond n was written by a newer reef and is refused with -ENOTSUP, untouched. *version (may
 * be NULL) receives the final version. */
int reef_db_migrate(struct reef_db *db, const char *const *scripts, size_t n, int *version,
                    struct reef_err *err);

/* ---- maintenance ---- */

/* Copies the WAL into the database file. Passive never waits and may leave frames behind;
 * truncate waits (busy timeout) for readers and writers, then empties the WAL file to zero
 * bytes. -EBUSY when truncate could not finish. log and done (may be NULL) receive the WAL's
 * frame count and how many were checkpointed. No-op for in-memory databases. */
int reef_db_checkpoint(struct reef_db *db, bool truncate, int *log, int *done,
                       struct reef_err *err);
/* Makes every transaction committed so far durable: one fdatasync of the WAL. With
 * REEF_DB_SYNC_NORMAL, commits reach the operating system but not the disk; a caller that
 * commits several transactions and then calls this gets them all on disk for the price of one
 * sync (group commit). No-op for in-memory databases and when no WAL is open yet. -EIO (and the
 * like) when the sync fails: then what reached the disk is unknown. */
int reef_db_sync(struct reef_db *db, struct reef_err *err);
/* Frees up to pages free pages (0: all) at the end of the file. The file itself shrinks once the
 * change reaches it (at the next checkpoint in WAL mode). */
int reef_db_vacuum_incremental(struct reef_db *db, int pages, struct reef_err *err);

struct reef_db_size {
    uint64_t file_bytes; /* size of the database file on disk (page bytes for in-memory) */
    uint64_t wal_bytes;  /* size of the -wal file, 0 when absent */
    uint64_t page_size;
    uint64_t page_count;
    uint64_t free_pages;
};
int reef_db_size(struct reef_db *db, struct reef_db_size *out, struct reef_err *err);

#endif
