/* Tests for core/db: pragmas, statement cache, errors, migrations, transactions, contention
 * between connections, and maintenance. */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "core/db.h"
#include "tests/unit/test.h"

static char dir[64];
static char path[128];

/* A fresh directory per test with one database path in it; removed when the test exits. */
static void cleanup_dir(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[160];
    for (size_t i = 0; i < REEF_ARRAY_LEN(suffix); i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/junk", dir);
    unlink(p);
    rmdir(dir);
}

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/reef-test-db.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/state.db", dir);
    atexit(cleanup_dir);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t get_int(struct reef_db *db, const char *sql)
{
    struct reef_err err = {0};
    int64_t v = -999;
    CHECK_OK(reef_db_get_int(db, &err, "test", &v, sql, NULL), &err);
    return v;
}

static struct reef_db *open_file(const struct reef_db_opts *o)
{
    struct reef_err err = {0};
    struct reef_db *db = NULL;
    CHECK_OK(reef_db_open(path, o, &db, &err), &err);
    return db;
}

static void test_pragmas_full(void)
{
    make_dir();
    struct reef_db_opts o = {.sync = REEF_DB_SYNC_FULL, .busy_timeout_ms = 1234, .cache_kib = 2048};
    struct reef_db *db = open_file(&o);
    struct reef_err err = {0};
    CHECK_OK(reef_db_exec(db, &err, "create", "CREATE TABLE t(x)", NULL), &err);
    char *mode = NULL;
    CHECK_OK(reef_db_get_text(db, &err, "mode", &mode, "PRAGMA journal_mode", NULL), &err);
    CHECK_STR(mode, "wal");
    free(mode);
    CHECK_INT(get_int(db, "PRAGMA synchronous"), ==, 2); /* FULL */
    CHECK_INT(get_int(db, "PRAGMA foreign_keys"), ==, 1);
    CHECK_INT(get_int(db, "PRAGMA busy_timeout"), ==, 1234);
    CHECK_INT(get_int(db, "PRAGMA temp_store"), ==, 2);  /* MEMORY */
    CHECK_INT(get_int(db, "PRAGMA auto_vacuum"), ==, 2); /* INCREMENTAL */
    CHECK_INT(get_int(db, "PRAGMA cache_size"), ==, -2048);
    CHECK_INT(get_int(db, "PRAGMA journal_size_limit"), ==, 64 * 1024 * 1024);
    CHECK_STR(reef_db_path(db), path);
    reef_db_close(db);

    /* Reopened: WAL and auto_vacuum are properties of the file and persist. */
    o.sync = REEF_DB_SYNC_NORMAL;
    db = open_file(&o);
    CHECK_INT(get_int(db, "PRAGMA synchronous"), ==, 1); /* NORMAL */
    CHECK_INT(get_int(db, "PRAGMA auto_vacuum"), ==, 2);
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    CHECK(access(wal, F_OK) == 0);
    reef_db_close(db);
}

static void test_defaults_and_memory(void)
{
    struct reef_err err = {0};
    struct reef_db *db = NULL;
    CHECK_OK(reef_db_open(NULL, NULL, &db, &err), &err);
    CHECK_STR(reef_db_path(db), ":memory:");
    CHECK_INT(get_int(db, "PRAGMA synchronous"), ==, 1);
    CHECK_INT(get_int(db, "PRAGMA busy_timeout"), ==, 5000);
    CHECK_INT(get_int(db, "PRAGMA cache_size"), ==, -8192);
    CHECK_INT(get_int(db, "PRAGMA foreign_keys"), ==, 1);
    CHECK_OK(
        reef_db_exec(db, &err, "create", "CREATE TABLE t(a INTEGER, b TEXT, c BLOB, d REAL)", NULL),
        &err);
    CHECK_OK(reef_db_exec(db, &err, "insert", "INSERT INTO t VALUES(?, ?, ?, ?)", "Itbd",
                          (int64_t)1 << 40, "hello world", (size_t)5, "\0\1\2", (size_t)3, 2.5),
             &err);
    CHECK_INT(reef_db_changes(db), ==, 1);
    CHECK_INT(reef_db_last_rowid(db), ==, 1);
    CHECK_OK(reef_db_exec(db, &err, "insert", "INSERT INTO t VALUES(?, ?, ?, ?)", "isnn", 7, NULL),
             &err);
    struct reef_db_query q;
    CHECK_OK(reef_db_query(db, &q, &err, "select", "SELECT a, b, c, d FROM t ORDER BY rowid", NULL),
             &err);
    CHECK_INT(reef_db_next(&q, &err), ==, 1);
    CHECK_INT(reef_db_col_int(&q, 0), ==, (int64_t)1 << 40);
    CHECK_STR(reef_db_col_text(&q, 1), "hello");
    size_t len;
    const unsigned char *blob = reef_db_col_blob(&q, 2, &len);
    CHECK_INT(len, ==, 3);
    CHECK(blob[0] == 0 && blob[1] == 1 && blob[2] == 2);
    CHECK(sqlite3_column_double(q.stmt, 3) == 2.5);
    CHECK_INT(reef_db_next(&q, &err), ==, 1);
    CHECK_INT(reef_db_col_int(&q, 0), ==, 7);
    CHECK(reef_db_col_null(&q, 1));
    CHECK(reef_db_col_text(&q, 1) == NULL);
    CHECK(reef_db_col_null(&q, 2));
    CHECK_INT(reef_db_next(&q, &err), ==, 0);
    reef_db_query_done(&q);
    reef_db_query_done(&q); /* twice is harmless */

    char *text = (char *)1;
    CHECK_OK(reef_db_get_text(db, &err, "get", &text, "SELECT b FROM t WHERE a = ?", "i", 7), &err);
    CHECK(text == NULL);
    int64_t v;
    CHECK_INT(reef_db_get_int(db, &err, "find row", &v, "SELECT a FROM t WHERE a = ?", "i", 99), ==,
              -ENOENT);
    CHECK_STR(err.msg, "db: find row: no row");
    /* The size of an in-memory database is its pages. */
    struct reef_db_size sz;
    CHECK_OK(reef_db_size(db, &sz, &err), &err);
    CHECK_INT(sz.file_bytes, ==, sz.page_size * sz.page_count);
    CHECK_INT(sz.wal_bytes, ==, 0);
    CHECK_OK(reef_db_checkpoint(db, true, NULL, NULL, &err), &err);
    reef_db_close(db);
    reef_db_close(NULL);
}

static void test_stmt_cache(void)
{
    struct reef_err err = {0};
    struct reef_db *db = NULL;
    struct reef_db_opts o = {.stmt_cache = 2};
    CHECK_OK(reef_db_open(":memory:", &o, &db, &err), &err);
    CHECK_OK(reef_db_exec_script(db, &err, "schema",
                                 "CREATE TABLE t(x); INSERT INTO t VALUES(1);"
                                 " INSERT INTO t VALUES(2)"),
             &err);
    static const char sql_a[] = "SELECT x FROM t WHERE x = ?";
    struct reef_db_stats s0, s;
    reef_db_stats(db, &s0);
    struct reef_db_query q;
    CHECK_OK(reef_db_query(db, &q, &err, "a", sql_a, "i", 1), &err);
    sqlite3_stmt *first = q.stmt;
    CHECK_INT(reef_db_next(&q, &err), ==, 1);
    /* Left mid-row: done must reset it so the read transaction ends and the next use starts
     * fresh. */
    reef_db_query_done(&q);
    CHECK(!reef_db_in_txn(db));
    CHECK(sqlite3_stmt_busy(first) == 0);
    /* Same text in a different buffer is the same cache key. */
    char copy[sizeof(sql_a)];
    memcpy(copy, sql_a, sizeof(sql_a));
    CHECK_OK(reef_db_query(db, &q, &err, "a", copy, "i", 2), &err);
    CHECK(q.stmt == first);
    CHECK_INT(reef_db_next(&q, &err), ==, 1);
    CHECK_INT(reef_db_col_int(&q, 0), ==, 2);

    /* Nested use of the same SQL while the first is open gets a private statement. */
    struct reef_db_query inner;
    CHECK_OK(reef_db_query(db, &inner, &err, "a", sql_a, "i", 1), &err);
    CHECK(inner.stmt != first);
    CHECK_INT(inner.slot, ==, -1);
    CHECK_INT(reef_db_next(&inner, &err), ==, 1);
    CHECK_INT(reef_db_col_int(&inner, 0), ==, 1);
    CHECK_INT(reef_db_col_int(&q, 0), ==, 2); /* the outer row is untouched */
    reef_db_query_done(&inner);
    reef_db_query_done(&q);
    reef_db_stats(db, &s);
    CHECK_INT(s.hits - s0.hits, ==, 1);
    CHECK_INT(s.misses - s0.misses, ==, 2);

    /* Bindings are cleared after use, so a cached statement holds no caller's values. */
    CHECK_OK(reef_db_query(db, &q, &err, "a", sql_a, "i", 12345), &err);
    char *bound = sqlite3_expanded_sql(first);
    CHECK_STR(bound, "SELECT x FROM t WHERE x = 12345");
    sqlite3_free(bound);
    reef_db_query_done(&q);
    bound = sqlite3_expanded_sql(first);
    CHECK_STR(bound, "SELECT x FROM t WHERE x = NULL");
    sqlite3_free(bound);

    /* The cache is bounded: two more statements evict the least recently used one. */
    CHECK_INT(get_int(db, "SELECT count(*) FROM t"), ==, 2);
    CHECK_INT(get_int(db, "SELECT max(x) FROM t"), ==, 2);
    reef_db_stats(db, &s);
    CHECK_INT(s.cached, ==, 2);
    CHECK_INT(s.evictions, >=, 1);
    uint64_t misses = s.misses;
    CHECK_OK(reef_db_query(db, &q, &err, "a", sql_a, "i", 1), &err);
    reef_db_query_done(&q);
    reef_db_stats(db, &s);
    CHECK_INT(s.misses, ==, misses + 1); /* sql_a was evicted and compiled again */

    /* A query declared _cleanup_db_query_ goes back to the cache when its scope ends, even when
     * left mid-row: the next use is a cache hit, not a private copy. */
    {
        _cleanup_db_query_ struct reef_db_query scoped = {0};
        CHECK_OK(reef_db_query(db, &scoped, &err, "a", sql_a, "i", 1), &err);
        CHECK_INT(reef_db_next(&scoped, &err), ==, 1);
    }
    reef_db_stats(db, &s0);
    CHECK_OK(reef_db_query(db, &q, &err, "a", sql_a, "i", 1), &err);
    CHECK_INT(q.slot, >=, 0);
    reef_db_query_done(&q);
    reef_db_stats(db, &s);
    CHECK_INT(s.hits, ==, s0.hits + 1);

    /* Mistakes are reported, not crashed on. */
    CHECK_INT(reef_db_query(db, &q, &err, "count", sql_a, "ii", 1, 2), ==, -EINVAL);
    CHECK_STR(err.msg, "db: count: statement has 1 parameters but 2 values given");
    CHECK_INT(reef_db_exec(db, &err, "two", "SELECT 1; SELECT 2", NULL), ==, -EINVAL);
    CHECK_INT(reef_db_exec(db, &err, "fmt", sql_a, "x", 1), ==, -EINVAL);
    CHECK_INT(reef_db_exec(db, &err, "syntax", "SELEC 1", NULL), ==, -EINVAL);
    CHECK(strstr(err.msg, "db: syntax: near \"SELEC\": syntax error") == err.msg);
    reef_db_stats(db, &s);
    CHECK_INT(s.cached, <=, 2);
    reef_db_close(db);
}

static void test_errors(void)
{
    struct reef_err err = {0};
    struct reef_db *db = NULL;
    CHECK_OK(reef_db_open(NULL, NULL, &db, &err), &err);
    CHECK_OK(reef_db_exec_script(db, &err, "schema",
                                 "CREATE TABLE objects(id INTEGER PRIMARY KEY, name TEXT UNIQUE);"
                                 "CREATE TABLE refs(obj INTEGER NOT NULL REFERENCES objects(id))"),
             &err);
    CHECK_OK(
        reef_db_exec(db, &err, "insert object", "INSERT INTO objects(name) VALUES(?)", "s", "a"),
        &err);
    CHECK_INT(
        reef_db_exec(db, &err, "insert object", "INSERT INTO objects(name) VALUES(?)", "s", "a"),
        ==, -EEXIST);
    CHECK_STR(err.msg, "db: insert object: UNIQUE constraint failed: objects.name");
    CHECK_INT(err.code, ==, -EEXIST);
    CHECK_INT(reef_db_exec(db, &err, "insert object", "INSERT INTO objects(id) VALUES(1)", NULL),
              ==, -EEXIST);
    /* foreign_keys=ON is really in force. */
    CHECK_INT(reef_db_exec(db, &err, "insert ref", "INSERT INTO refs VALUES(42)", NULL), ==,
              -EINVAL);
    CHECK_STR(err.msg, "db: insert ref: FOREIGN KEY constraint failed");
    CHECK_INT(reef_db_exec(db, &err, "insert ref", "INSERT INTO refs VALUES(NULL)", NULL), ==,
              -EINVAL);
    CHECK_INT(reef_db_exec_script(db, &err, "bad", "DROP TABLE nope"), ==, -EINVAL);
    CHECK_STR(err.msg, "db: bad: no such table: nope");
    reef_db_close(db);

    CHECK_INT(reef_db_errno(SQLITE_BUSY), ==, -EBUSY);
    CHECK_INT(reef_db_errno(SQLITE_LOCKED), ==, -EBUSY);
    CHECK_INT(reef_db_errno(SQLITE_FULL), ==, -ENOSPC);
    CHECK_INT(reef_db_errno(SQLITE_IOERR_WRITE), ==, -EIO);
    CHECK_INT(reef_db_errno(SQLITE_IOERR_NOMEM), ==, -ENOMEM);
    CHECK_INT(reef_db_errno(SQLITE_READONLY), ==, -EROFS);
    CHECK_INT(reef_db_errno(SQLITE_CORRUPT), ==, -EUCLEAN);
    CHECK_INT(reef_db_errno(SQLITE_CONSTRAINT_NOTNULL), ==, -EINVAL);
    CHECK_INT(reef_db_errno(SQLITE_OK), ==, 0);
    CHECK_INT(reef_db_error(NULL, SQLITE_FULL, &err, "write"), ==, -ENOSPC);
    CHECK_STR(err.msg, "db: write: database or disk is full");

    /* A file that is not a database, and a path that cannot be created. */
    make_dir();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    char junk[4096];
    memset(junk, 'x', sizeof(junk));
    CHECK(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
    close(fd);
    CHECK_INT(reef_db_open(path, NULL, &db, &err), ==, -EUCLEAN);
    CHECK(db == NULL);
    CHECK(strstr(err.msg, "open ") && strstr(err.msg, "file is not a database"));
    char bad[160];
    snprintf(bad, sizeof(bad), "%s/missing/dir/x.db", dir);
    CHECK_INT(reef_db_open(bad, NULL, &db, &err), <, 0);
    CHECK(db == NULL);
    CHECK(strstr(err.msg, "db: open ") == err.msg);
}

static const char *const schema_v3[] = {
    "CREATE TABLE objects(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "ALTER TABLE objects ADD COLUMN body TEXT; CREATE INDEX objects_body ON objects(body)",
    "CREATE TABLE events(rev INTEGER PRIMARY KEY, obj INTEGER REFERENCES objects(id))",
};

static int64_t count_tables(struct reef_db *db, const char *name)
{
    struct reef_err err = {0};
    int64_t n = -1;
    CHECK_OK(reef_db_get_int(db, &err, "count", &n,
                             "SELECT count(*) FROM sqlite_master WHERE name = ?", "s", name),
             &err);
    return n;
}

static void test_migrate_fresh_and_incremental(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_db *db = open_file(NULL);
    int v = -1;
    CHECK_OK(reef_db_migrate(db, schema_v3, 2, &v, &err), &err);
    CHECK_INT(v, ==, 2);
    CHECK_INT(get_int(db, "PRAGMA user_version"), ==, 2);
    CHECK_INT(count_tables(db, "objects"), ==, 1);
    CHECK_INT(count_tables(db, "objects_body"), ==, 1);
    CHECK_INT(count_tables(db, "events"), ==, 0);
    /* auto_vacuum was set before the first table, so it stuck. */
    CHECK_INT(get_int(db, "PRAGMA auto_vacuum"), ==, 2);
    CHECK_OK(
        reef_db_exec(db, &err, "insert", "INSERT INTO objects(name, body) VALUES('a', 'b')", NULL),
        &err);
    reef_db_close(db);

    /* A newer build knows one more script: only that one runs, data is kept. */
    db = open_file(NULL);
    CHECK_OK(reef_db_migrate(db, schema_v3, 3, &v, &err), &err);
    CHECK_INT(v, ==, 3);
    CHECK_INT(count_tables(db, "events"), ==, 1);
    CHECK_INT(get_int(db, "SELECT count(*) FROM objects"), ==, 1);
    /* Up to date: running again changes nothing. */
    CHECK_OK(reef_db_migrate(db, schema_v3, 3, &v, &err), &err);
    CHECK_INT(v, ==, 3);
    CHECK_INT(get_int(db, "PRAGMA user_version"), ==, 3);
    CHECK(!reef_db_in_txn(db));
    reef_db_close(db);
}

static void test_migrate_newer_refused(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_db *db = open_file(NULL);
    CHECK_OK(reef_db_migrate(db, schema_v3, 3, NULL, &err), &err);
    reef_db_close(db);
    /* An older build that knows only two scripts must not touch this database. */
    db = open_file(NULL);
    int v = -1;
    CHECK_INT(reef_db_migrate(db, schema_v3, 2, &v, &err), ==, -ENOTSUP);
    CHECK_INT(v, ==, -1);
    CHECK(strstr(err.msg, "has schema version 3 but this reef knows only up to 2"));
    CHECK(strstr(err.msg, "newer reef"));
    CHECK(strstr(err.msg, path));
    CHECK_INT(get_int(db, "PRAGMA user_version"), ==, 3);
    CHECK(!reef_db_in_txn(db));
    reef_db_close(db);
}

static void test_migrate_failure_rolls_back(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_db *db = open_file(NULL);
    static const char *const broken[] = {
        "CREATE TABLE a(x)",
        /* The first two statements succeed, the third fails: all of script 2 must vanish. */
        "CREATE TABLE b(y); INSERT INTO a VALUES(1); INSERT INTO nope VALUES(2)",
        "CREATE TABLE c(z)",
    };
    int v = -1;
    int r = reef_db_migrate(db, broken, 3, &v, &err);
    CHECK_INT(r, ==, -EINVAL);
    CHECK_STR(err.msg, "db: migrate to schema version 2: no such table: nope");
    CHECK_INT(get_int(db, "PRAGMA user_version"), ==, 1);
    CHECK_INT(count_tables(db, "a"), ==, 1);
    CHECK_INT(count_tables(db, "b"), ==, 0);
    CHECK_INT(count_tables(db, "c"), ==, 0);
    CHECK_INT(get_int(db, "SELECT count(*) FROM a"), ==, 0);
    CHECK(!reef_db_in_txn(db));
    reef_db_close(db);
    /* Another connection sees the same: nothing of the failed step reached the file. */
    db = open_file(NULL);
    CHECK_INT(get_int(db, "PRAGMA user_version"), ==, 1);
    CHECK_INT(count_tables(db, "b"), ==, 0);
    reef_db_close(db);
}

static int txn_insert(struct reef_db *db, void *arg, struct reef_err *err)
{
    const char *name = arg;
    return reef_db_exec(db, err, "insert", "INSERT INTO t(name) VALUES(?)", "s", name);
}

static int txn_insert_then_fail(struct reef_db *db, void *arg, struct reef_err *err)
{
    int r = txn_insert(db, arg, err);
    if (r < 0)
        return r;
    return reef_err_set(err, -ECANCELED, "changed my mind");
}

static int txn_outer(struct reef_db *db, void *arg, struct reef_err *err)
{
    int r = txn_insert(db, "outer", err);
    if (r < 0)
        return r;
    /* The inner failure undoes only the inner insert. */
    struct reef_err inner = {0};
    r = reef_db_txn(db, txn_insert_then_fail, "inner-bad", &inner);
    CHECK_INT(r, ==, -ECANCELED);
    CHECK(reef_db_in_txn(db));
    r = reef_db_txn(db, txn_insert, "inner-good", err);
    return r;
}

static void test_transactions(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_db *db = open_file(NULL);
    CHECK_OK(reef_db_exec(db, &err, "create", "CREATE TABLE t(name TEXT UNIQUE)", NULL), &err);

    CHECK_OK(reef_db_txn(db, txn_insert, "one", &err), &err);
    CHECK_INT(reef_db_txn(db, txn_insert_then_fail, "two", &err), ==, -ECANCELED);
    CHECK_STR(err.msg, "changed my mind");
    CHECK(!reef_db_in_txn(db));
    /* A constraint failure inside the transaction rolls back too. */
    CHECK_INT(reef_db_txn(db, txn_insert, "one", &err), ==, -EEXIST);
    CHECK(!reef_db_in_txn(db));
    CHECK_OK(reef_db_txn(db, txn_outer, NULL, &err), &err);
    CHECK(!reef_db_in_txn(db));

    /* What a second connection sees is what was committed. */
    struct reef_db *other = open_file(NULL);
    struct reef_db_query q;
    CHECK_OK(reef_db_query(other, &q, &err, "list", "SELECT name FROM t ORDER BY name", NULL),
             &err);
    const char *want[] = {"inner-good", "one", "outer"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(want); i++) {
        CHECK_INT(reef_db_next(&q, &err), ==, 1);
        CHECK_STR(reef_db_col_text(&q, 0), want[i]);
    }
    CHECK_INT(reef_db_next(&q, &err), ==, 0);
    reef_db_query_done(&q);

    /* Explicit begin / rollback / commit. */
    CHECK_OK(reef_db_begin(db, &err), &err);
    CHECK(reef_db_in_txn(db));
    CHECK_OK(txn_insert(db, "rolled-back", &err), &err);
    reef_db_rollback(db);
    reef_db_rollback(db); /* nothing open: harmless */
    CHECK_OK(reef_db_begin(db, &err), &err);
    CHECK_OK(txn_insert(db, "committed", &err), &err);
    CHECK_OK(reef_db_commit(db, &err), &err);
    CHECK_INT(get_int(other, "SELECT count(*) FROM t WHERE name = 'rolled-back'"), ==, 0);
    CHECK_INT(get_int(other, "SELECT count(*) FROM t WHERE name = 'committed'"), ==, 1);
    reef_db_close(other);
    reef_db_close(db);
}

static void test_contention_timeout(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_db *holder = open_file(NULL);
    CHECK_OK(reef_db_exec(holder, &err, "create", "CREATE TABLE t(x)", NULL), &err);
    struct reef_db_opts o = {.txn_timeout_ms = 300, .busy_timeout_ms = 50};
    struct reef_db *db = open_file(&o);
    CHECK_OK(reef_db_begin(holder, &err), &err);

    int64_t t0 = now_ms();
    CHECK_INT(reef_db_begin(db, &err), ==, -EBUSY);
    int64_t waited = now_ms() - t0;
    CHECK_INT(waited, >=, 290);
    CHECK_INT(waited, <, 2000);
    CHECK(strstr(err.msg, "is locked by another writer"));
    CHECK(!reef_db_in_txn(db));
    /* A plain write outside a transaction gives up after the busy timeout with -EBUSY. */
    CHECK_INT(reef_db_exec(db, &err, "insert", "INSERT INTO t VALUES(1)", NULL), ==, -EBUSY);
    CHECK(strstr(err.msg, "db: insert: database is locked"));
    /* Readers are not blocked by the writer in WAL mode. */
    CHECK_INT(get_int(db, "SELECT count(*) FROM t"), ==, 0);

    CHECK_OK(reef_db_commit(holder, &err), &err);
    CHECK_OK(reef_db_begin(db, &err), &err);
    CHECK_OK(reef_db_exec(db, &err, "insert", "INSERT INTO t VALUES(1)", NULL), &err);
    CHECK_OK(reef_db_commit(db, &err), &err);
    reef_db_close(db);
    reef_db_close(holder);
}

static void test_contention_waits_for_release(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_db *db = open_file(NULL);
    CHECK_OK(reef_db_exec(db, &err, "create", "CREATE TABLE t(x)", NULL), &err);
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* Another process holds the write lock for 400 ms, then commits a row. */
        close(ready[0]);
        struct reef_db *c = NULL;
        struct reef_err cerr = {0};
        if (reef_db_open(path, NULL, &c, &cerr) < 0 || reef_db_begin(c, &cerr) < 0 ||
            reef_db_exec(c, &cerr, "insert", "INSERT INTO t VALUES(?)", "i", 1) < 0)
            _exit(1);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        usleep(400 * 1000);
        int r = reef_db_commit(c, &cerr);
        reef_db_close(c);
        _exit(r < 0 ? 1 : 0);
    }
    close(ready[1]);
    char b;
    CHECK(read(ready[0], &b, 1) == 1);
    close(ready[0]);
    int64_t t0 = now_ms();
    CHECK_OK(reef_db_begin(db, &err), &err);
    int64_t waited = now_ms() - t0;
    CHECK_INT(waited, >=, 300);
    CHECK_INT(waited, <, 5000);
    /* The child's row is visible: our transaction started after its commit. */
    CHECK_INT(get_int(db, "SELECT count(*) FROM t"), ==, 1);
    CHECK_OK(reef_db_exec(db, &err, "insert", "INSERT INTO t VALUES(?)", "i", 2), &err);
    CHECK_OK(reef_db_commit(db, &err), &err);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(get_int(db, "SELECT count(*) FROM t"), ==, 2);
    reef_db_close(db);
}

static void test_checkpoint_and_vacuum(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_db *db = open_file(NULL);
    static const char *const schema[] = {"CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB)"};
    CHECK_OK(reef_db_migrate(db, schema, 1, NULL, &err), &err);
    static char data[4000];
    memset(data, 'z', sizeof(data));
    CHECK_OK(reef_db_begin(db, &err), &err);
    for (int i = 0; i < 1000; i++)
        CHECK_OK(reef_db_exec(db, &err, "insert", "INSERT INTO blobs(data) VALUES(?)", "b", data,
                              sizeof(data)),
                 &err);
    CHECK_OK(reef_db_commit(db, &err), &err);
    /* reef_db_sync syncs the WAL, and counts it */
    struct reef_db_stats st0, st1;
    reef_db_stats(db, &st0);
    CHECK_OK(reef_db_sync(db, &err), &err);
    reef_db_stats(db, &st1);
    CHECK_INT(st1.syncs, ==, st0.syncs + 1);
    CHECK_INT(st1.sync_ns, >, st0.sync_ns);

    struct reef_db_size before, mid, after;
    CHECK_OK(reef_db_size(db, &before, &err), &err);
    CHECK_INT(before.wal_bytes, >, 2000000); /* the rows are still in the WAL */
    int log = -1, done = -1;
    CHECK_OK(reef_db_checkpoint(db, false, &log, &done, &err), &err);
    CHECK_INT(log, >, 0);
    CHECK_INT(done, ==, log);
    CHECK_OK(reef_db_checkpoint(db, true, &log, &done, &err), &err);
    CHECK_OK(reef_db_size(db, &mid, &err), &err);
    CHECK_INT(mid.wal_bytes, ==, 0);
    CHECK_INT(mid.file_bytes, >, 4000000);

    CHECK_OK(reef_db_exec(db, &err, "delete", "DELETE FROM blobs", NULL), &err);
    CHECK_OK(reef_db_checkpoint(db, true, NULL, NULL, &err), &err);
    CHECK_OK(reef_db_size(db, &after, &err), &err);
    CHECK_INT(after.free_pages, >, 900);
    CHECK_INT(after.file_bytes, ==, mid.file_bytes); /* freed pages stay in the file */

    /* Partial vacuum first, then the rest. */
    CHECK_OK(reef_db_vacuum_incremental(db, 10, &err), &err);
    CHECK_OK(reef_db_size(db, &after, &err), &err);
    CHECK_INT(after.free_pages, >, 800);
    CHECK_OK(reef_db_vacuum_incremental(db, 0, &err), &err);
    CHECK_OK(reef_db_checkpoint(db, true, NULL, NULL, &err), &err);
    CHECK_OK(reef_db_size(db, &after, &err), &err);
    CHECK_INT(after.free_pages, ==, 0);
    CHECK_INT(after.wal_bytes, ==, 0);
    CHECK_INT(after.file_bytes, <, mid.file_bytes / 20);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_INT(st.st_size, ==, after.file_bytes);

    /* A truncating checkpoint cannot finish while another connection reads an old snapshot. */
    struct reef_db_opts o = {.busy_timeout_ms = 50};
    struct reef_db *reader = open_file(&o);
    struct reef_db_query q;
    CHECK_OK(reef_db_query(reader, &q, &err, "scan", "SELECT count(*) FROM blobs", NULL), &err);
    CHECK_INT(reef_db_next(&q, &err), ==, 1);
    CHECK_OK(reef_db_exec(db, &err, "insert", "INSERT INTO blobs(data) VALUES(x'00')", NULL), &err);
    reef_db_close(db);
    db = open_file(&o);
    CHECK_OK(reef_db_exec(db, &err, "insert", "INSERT INTO blobs(data) VALUES(x'01')", NULL), &err);
    CHECK_INT(reef_db_checkpoint(db, true, NULL, NULL, &err), ==, -EBUSY);
    CHECK(strstr(err.msg, "db: checkpoint (truncate): "));
    reef_db_query_done(&q);
    CHECK_OK(reef_db_checkpoint(db, true, NULL, NULL, &err), &err);
    reef_db_close(reader);
    reef_db_close(db);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_pragmas_full);
    TEST_RUN(test_defaults_and_memory);
    TEST_RUN(test_stmt_cache);
    TEST_RUN(test_errors);
    TEST_RUN(test_migrate_fresh_and_incremental);
    TEST_RUN(test_migrate_newer_refused);
    TEST_RUN(test_migrate_failure_rolls_back);
    TEST_RUN(test_transactions);
    TEST_RUN(test_contention_timeout);
    TEST_RUN(test_contention_waits_for_release);
    TEST_RUN(test_checkpoint_and_vacuum);
    return test_done();
}
