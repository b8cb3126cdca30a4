/* Tests for orchestrate/store's durability: compaction, deterministic apply, command encoding,
 * mangled objects, heartbeat batching, crashes and restarts. The API (writes, lists, watches) is
 * tested in test_store.c. */

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core/db.h"
#include "orchestrate/store.h"
#include "tests/unit/store_fixture.h"
#include "tests/unit/test.h"

/* ---- compaction ---- */

static void test_compaction_and_expiry(void)
{
    make_dir();
    struct reef_store_opts so = {.keep_revisions = 100, .ring_size = 16};
    struct reef_store *s;
    CHECK_OK(reef_store_open(path, &so, &s, &err), &err);
    char big[2048];
    memset(big, 0, sizeof(big));
    strcpy(big, "{\"data\":{\"v\":\"");
    memset(big + strlen(big), 'x', 1500);
    strcat(big, "\"}}");
    create(s, "configmaps", "a", "cm", big);
    for (int i = 0; i < 999; i++) {
        big[20] = (char)('a' + i % 26);
        big[21] = (char)('a' + i / 26 % 26);
        update(s, "configmaps", "a", "cm", big);
    }
    CHECK_INT(reef_store_rev(s), ==, 1000);
    struct reef_store_list_result lr;
    struct reef_store_list_opts lo = {.limit = 1};
    create(s, "configmaps", "b", "other", "{}"); /* 1001 */
    list(s, "configmaps", &lo, &lr);
    CHECK(lr.continue_token[0]);
    static char tok[REEF_STORE_TOKEN_MAX];
    snprintf(tok, sizeof(tok), "%s", lr.continue_token);
    for (int i = 0; i < 200; i++) {
        big[22] = (char)('a' + i % 26);
        big[23] = (char)('a' + i / 26 % 26);
        update(s, "configmaps", "a", "cm", big);
    }
    struct reef_db_size before;
    CHECK_OK(reef_store_size(s, &before, &err), &err);
    int64_t compacted;
    CHECK_OK(reef_store_compact(s, T0 + 5000, &compacted, &err), &err);
    CHECK_INT(compacted, ==, 1101);
    char walp[160];
    snprintf(walp, sizeof(walp), "%s-wal", path);
    struct stat wst;
    CHECK(stat(walp, &wst) == 0);
    CHECK_INT(wst.st_size, ==, 0);
    CHECK_INT(reef_store_compacted_rev(s), ==, 1101);
    struct reef_db_size after;
    CHECK_OK(reef_store_size(s, &after, &err), &err);
    struct stat fst;
    CHECK(stat(path, &fst) == 0);
    CHECK_INT(before.file_bytes + before.wal_bytes, >, 1800 * 1024);
    CHECK_INT(fst.st_size, <, 600 * 1024); /* 1200 rows of 1.5 KiB would be 1.8 MB */
    CHECK_INT(after.free_pages, <, 8);

    struct rec r = {.ordered = true};
    struct reef_store_watch *w;
    CHECK_INT(reef_store_watch(s, "configmaps", NULL, 1100, NULL, NULL, on_event, &r, &w, &err), ==,
              REEF_STORE_EXPIRED);
    CHECK(strstr(err.msg, "too old resource version: 1100 (1101)") != NULL);
    CHECK_INT(r.n, ==, 0);
    /* The continue token from before the compaction expired too. */
    lo.continue_token = tok;
    CHECK_INT(reef_store_list(s, "configmaps", &lo, collect, &(struct names){0}, &lr, &err), ==,
              REEF_STORE_EXPIRED);
    /* From the compacted revision itself: everything after it is there (from disk: the ring
     * holds only 16). */
    CHECK_OK(reef_store_watch(s, "configmaps", NULL, 1101, NULL, NULL, on_event, &r, &w, &err),
             &err);
    CHECK_INT(r.n, ==, 100);
    CHECK(r.ordered);

    /* Tick compacts once per interval: not at its first call, then after compact_interval_ms. */
    reef_store_close(s);
    so = (struct reef_store_opts){.keep_revisions = 10, .compact_interval_ms = 1000};
    CHECK_OK(reef_store_open(path, &so, &s, &err), &err);
    int64_t next;
    CHECK_OK(reef_store_tick(s, T0, &next, &err), &err);
    CHECK_INT(next, ==, 1000);
    CHECK_INT(reef_store_compacted_rev(s), ==, 1101);
    CHECK_OK(reef_store_tick(s, T0 + 999, &next, &err), &err);
    CHECK_INT(next, ==, 1);
    CHECK_INT(reef_store_compacted_rev(s), ==, 1101);
    CHECK_OK(reef_store_tick(s, T0 + 1000, &next, &err), &err);
    CHECK_INT(reef_store_compacted_rev(s), ==, 1191);
    CHECK_INT(next, ==, 1000);

    /* By age: everything older than keep_ms goes even though fewer than keep_revisions. */
    reef_store_close(s);
    so = (struct reef_store_opts){.keep_revisions = 100000, .keep_ms = 60000};
    CHECK_OK(reef_store_open(path, &so, &s, &err), &err);
    CHECK_INT(reef_store_compacted_rev(s), ==, 1191); /* survives a restart */
    struct reef_store_cmd c = {
        .op = REEF_STORE_UPDATE, .resource = "configmaps", .namespace = "b", .name = "other"};
    for (int i = 0; i < 10; i++) {
        char o[64];
        snprintf(o, sizeof(o), "{\"data\":{\"i\":\"%d\"}}", i);
        c.object = o;
        c.object_len = strlen(o);
        c.timestamp_ms = T0 + i * 60000; /* one a minute */
        CHECK_OK(reef_store_apply(s, &c, NULL, &err), &err);
    }
    int64_t last = reef_store_rev(s);
    /* At T0 + 10 min, keep only the last minute: updates at minute 9 (and later) stay. */
    CHECK_OK(reef_store_compact(s, T0 + 10 * 60000, &compacted, &err), &err);
    CHECK_INT(compacted, ==, last - 1);
    reef_store_close(s);
}

/* ---- determinism ---- */

static int dump_item(void *arg, const struct reef_store_item *it)
{
    reef_buf_printf(arg, "%lld %s\n", (long long)it->rev, it->object);
    return 0;
}

static void dump(struct reef_store *s, struct reef_buf *out)
{
    const char *res[] = {"pods", "configmaps", "leases.coordination.k8s.io"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(res); i++) {
        struct reef_store_list_result lr;
        CHECK_OK(reef_store_list(s, res[i], NULL, dump_item, out, &lr, &err), &err);
        reef_buf_printf(out, "rev %lld\n", (long long)lr.rev);
    }
}

static void test_deterministic_apply(void)
{
    /* The proposer's side: random uids, its clock, then bytes. */
    struct reef_buf log[64];
    size_t n = 0;
    const char *objs[] = {
        POD("obj", "n1", "Pending", "web"),
        "{\"kind\":\"ConfigMap\",\"data\":{\"a\":\"\\u00e9\\n\"},\"metadata\":{\"labels\":{}}}",
        "{\"kind\":\"Lease\",\"spec\":{\"holderIdentity\":\"n1\",\"renewTime\":\"t1\"}}",
    };
    const char *res[] = {"pods", "configmaps", "leases.coordination.k8s.io"};
    for (int round = 0; round < 12; round++) {
        for (int k = 0; k < 3; k++) {
            struct reef_store_cmd c = {
                .op = round == 0              ? REEF_STORE_CREATE
                      : round == 11 && k == 1 ? REEF_STORE_DELETE
                                              : REEF_STORE_UPDATE,
                .resource = res[k],
                .namespace = "ns",
                .name = "obj",
                .timestamp_ms = T0 + round * 1000 + k,
            };
            char o[512];
            snprintf(o, sizeof(o), "%.*s", (int)strlen(objs[k]) - 1, objs[k]);
            snprintf(o + strlen(o), sizeof(o) - strlen(o), ",\"status\":{\"r\":%d}}", round);
            if (k == 2)
                snprintf(o, sizeof(o),
                         "{\"kind\":\"Lease\",\"spec\":{\"holderIdentity\":\"n1\","
                         "\"renewTime\":\"t%d\"}}",
                         round);
            c.object = o;
            c.object_len = strlen(o);
            CHECK_OK(reef_store_new_uid(c.uid, &err), &err);
            reef_buf_init(&log[n]);
            CHECK_OK(reef_store_cmd_encode(&c, &log[n], &err), &err);
            n++;
        }
    }
    /* Two replicas, one on a file with heartbeats held in memory, one in memory. */
    make_dir();
    struct reef_store *a, *b;
    CHECK_OK(reef_store_open(path, NULL, &a, &err), &err);
    CHECK_OK(reef_store_open(NULL, NULL, &b, &err), &err);
    for (size_t i = 0; i < n; i++) {
        struct reef_store_cmd c;
        CHECK_OK(reef_store_cmd_decode(log[i].data, log[i].len, &c, &err), &err);
        struct reef_store_result ra, rb;
        CHECK_OK(reef_store_apply(a, &c, &ra, &err), &err);
        CHECK_OK(reef_store_apply(b, &c, &rb, &err), &err);
        CHECK_INT(ra.rev, ==, rb.rev);
        CHECK_INT(ra.len, ==, rb.len);
        CHECK(memcmp(ra.object, rb.object, ra.len) == 0);
        reef_store_result_free(&ra);
        reef_store_result_free(&rb);
    }
    struct reef_store_stats st;
    reef_store_stats(a, &st);
    CHECK_INT(st.heartbeats, ==, 11); /* the lease renewals */
    struct reef_buf da = REEF_BUF_INIT, db = REEF_BUF_INIT;
    dump(a, &da);
    dump(b, &db);
    CHECK_INT(da.len, ==, db.len);
    CHECK(memcmp(da.data, db.data, da.len) == 0);
    CHECK(strstr(da.data, "rev 36") != NULL);
    /* Replaying the change log gives the same bytes too. */
    struct rec ra = {.ordered = true}, rb = {.ordered = true};
    struct reef_store_watch *wa, *wb;
    CHECK_OK(reef_store_watch(a, "leases.coordination.k8s.io", NULL, 1, NULL, NULL, on_event, &ra,
                              &wa, &err),
             &err);
    CHECK_OK(reef_store_watch(b, "leases.coordination.k8s.io", NULL, 1, NULL, NULL, on_event, &rb,
                              &wb, &err),
             &err);
    CHECK_STR(ra.log, rb.log);
    CHECK_INT(ra.n, ==, 12);
    reef_buf_free(&da);
    reef_buf_free(&db);
    for (size_t i = 0; i < n; i++)
        reef_buf_free(&log[i]);
    reef_store_close(a);
    reef_store_close(b);
}

static void test_cmd_encoding(void)
{
    struct reef_store_cmd c = {.op = REEF_STORE_UPDATE,
                               .resource = "pods",
                               .namespace = "ns",
                               .name = "p",
                               .expected_rev = 42,
                               .object = "{\"a\":1}",
                               .object_len = 7,
                               .timestamp_ms = T0};
    strcpy(c.uid, "0b0a3cf6-5a0e-4d2b-9c55-6c2d1b9c0f11");
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_OK(reef_store_cmd_encode(&c, &b, &err), &err);
    struct reef_store_cmd d;
    CHECK_OK(reef_store_cmd_decode(b.data, b.len, &d, &err), &err);
    CHECK_INT(d.op, ==, REEF_STORE_UPDATE);
    CHECK_STR(d.resource, "pods");
    CHECK_STR(d.namespace, "ns");
    CHECK_STR(d.name, "p");
    CHECK_STR(d.uid, c.uid);
    CHECK_INT(d.expected_rev, ==, 42);
    CHECK_INT(d.timestamp_ms, ==, T0);
    CHECK_INT(d.object_len, ==, 7);
    CHECK(memcmp(d.object, "{\"a\":1}", 7) == 0);
    /* Every truncation and every single-byte corruption of the framing is refused or decodes to
     * something self-consistent, never read out of bounds (ASan watches). */
    for (size_t i = 0; i < b.len; i++) {
        char *cut = malloc(i ? i : 1);
        memcpy(cut, b.data, i);
        CHECK_INT(reef_store_cmd_decode(cut, i, &d, &err), ==, -EINVAL);
        free(cut);
    }
    for (size_t i = 0; i < b.len; i++) {
        char *bad = malloc(b.len);
        memcpy(bad, b.data, b.len);
        bad[i] ^= 0x80;
        if (reef_store_cmd_decode(bad, b.len, &d, &err) == 0)
            CHECK(strlen(d.resource) <= REEF_STORE_MAX_NAME);
        free(bad);
    }
    char *extra = malloc(b.len + 1);
    memcpy(extra, b.data, b.len);
    extra[b.len] = 0;
    CHECK_INT(reef_store_cmd_decode(extra, b.len + 1, &d, &err), ==, -EINVAL);
    free(extra);
    reef_buf_free(&b);
}

/* Mangled objects (bytes flipped, cut, duplicated) are refused or stored; never a crash, never a
 * half-written state: every object listed parses and carries the revision it was listed with. */
static int check_item(void *arg, const struct reef_store_item *it)
{
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)it->rev);
    CHECK_STR(field(it->object, "metadata.resourceVersion"), rv);
    (*(int *)arg)++;
    return 0;
}

static void test_mangled_objects(void)
{
    struct reef_store *s = open_mem();
    const char *base = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"labels\":{"
                       "\"app\":\"web\"},\"ownerReferences\":[{\"uid\":\"u1\"}]},\"spec\":{"
                       "\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\"}]},\"status\":{"
                       "\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\"}]}}";
    size_t bl = strlen(base);
    uint64_t x = 88172645463325252ULL;
    int created = 0;
    for (int i = 0; i < 3000; i++) {
        char o[1024];
        memcpy(o, base, bl + 1);
        int edits = 1 + i % 4;
        for (int k = 0; k < edits; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = x % bl;
            switch ((x >> 32) % 4) {
            case 0:
                o[at] = (char)(x >> 40);
                break;
            case 1:
                o[at] = "{}[]\":,\\0"[(x >> 40) % 10];
                break;
            case 2:
                o[at] = '\0';
                break;
            default:
                memmove(o + at + 1, o + at, bl - at);
                o[bl + 1] = '\0';
                break;
            }
        }
        char name[16];
        snprintf(name, sizeof(name), "p%d", i % 50);
        struct reef_store_cmd c = {.op = i % 3 ? REEF_STORE_UPDATE : REEF_STORE_CREATE,
                                   .resource = "pods",
                                   .namespace = "ns",
                                   .name = name,
                                   .object = o,
                                   .object_len = strlen(o),
                                   .timestamp_ms = T0};
        if (c.object_len == 0)
            continue;
        CHECK_OK(reef_store_new_uid(c.uid, &err), &err);
        int r = reef_store_apply(s, &c, NULL, &err);
        CHECK(r == 0 || r == -EINVAL || r == -EEXIST || r == -ENOENT);
        if (r == 0 && c.op == REEF_STORE_CREATE)
            created++;
    }
    CHECK_INT(created, >, 20);
    int listed = 0;
    struct reef_store_list_result lr;
    CHECK_OK(reef_store_list(s, "pods", NULL, check_item, &listed, &lr, &err), &err);
    CHECK_INT(listed, ==, created);
    reef_store_close(s);
}

/* ---- heartbeats ---- */

#define LEASE(t)                                                                                   \
    "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"spec\":{\"holderIdentity\":"  \
    "\"n1\",\"leaseDurationSeconds\":40,\"renewTime\":\"" t "\"}}"

static int lease_item(void *arg, const struct reef_store_item *it)
{
    *(int64_t *)arg = it->rev;
    CHECK_STR(field(it->object, "spec.renewTime"), "t3000");
    return 0;
}

static void test_heartbeat_batching(void)
{
    make_dir();
    struct reef_store_opts so = {.flush_interval_ms = 10000};
    struct reef_store *s;
    CHECK_OK(reef_store_open(path, &so, &s, &err), &err);
    const char *L = "leases.coordination.k8s.io";
    create(s, L, "kube-node-lease", "n1", LEASE("2026-11-28T12:00:00.000000Z"));
    create(s, "nodes", "", "n1",
           "{\"kind\":\"Node\",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
           "\"lastHeartbeatTime\":\"h0\"}]}}");
    struct reef_store_watch *w;
    struct rec r = {.ordered = true};
    CHECK_OK(reef_store_watch(s, L, NULL, 0, NULL, NULL, on_event, &r, &w, &err), &err);
    struct reef_store_stats st0, st;
    reef_store_stats(s, &st0);
    int64_t now = 0, next;
    CHECK_OK(reef_store_tick(s, now, &next, &err), &err);
    char o[256];
    struct reef_store_result res;
    for (int i = 1; i <= 3000; i++) {
        snprintf(o, sizeof(o),
                 "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"spec\":{"
                 "\"holderIdentity\":\"n1\",\"leaseDurationSeconds\":40,\"renewTime\":\"t%d\"}}",
                 i);
        CHECK_OK(apply(s, REEF_STORE_UPDATE, L, "kube-node-lease", "n1", 0, o, T0 + i, &res), &err);
        CHECK(!res.durable);
        reef_store_result_free(&res);
        if (i == 1500) {
            /* Between flushes: reads are served from memory. */
            char *j;
            CHECK_OK(reef_store_get(s, L, "kube-node-lease", "n1", &j, NULL, NULL, &err), &err);
            CHECK_STR(field(j, "spec.renewTime"), "t1500");
            free(j);
            reef_store_stats(s, &st);
            CHECK_INT(st.pending, ==, 500);
        }
        now += 10; /* 3000 renewals over 30 s */
        CHECK_OK(reef_store_tick(s, now, &next, &err), &err);
        reef_store_stats(s, &st);
        CHECK_INT(next, <=, st.pending ? 10000 : 60000);
    }
    reef_store_stats(s, &st);
    CHECK_INT(st.heartbeats - st0.heartbeats, ==, 3000);
    /* 30 s at one flush per 10 s: 3 flushes (plus the revision-block reservations: 3000 / 1000). */
    CHECK_INT(st.flushes - st0.flushes, ==, 3);
    CHECK_INT(st.commits - st0.commits, <=, 3 + 3);
    CHECK_INT(r.n, ==, 3000);
    CHECK(r.ordered);

    /* Reads see the newest heartbeat at once, flushed or not. */
    char *json;
    int64_t rev;
    CHECK_OK(reef_store_get(s, L, "kube-node-lease", "n1", &json, NULL, &rev, &err), &err);
    CHECK_STR(field(json, "spec.renewTime"), "t3000");
    CHECK_INT(rev, ==, reef_store_rev(s));
    free(json);
    struct reef_store_list_opts lo = {.namespace = "kube-node-lease"};
    struct reef_store_list_result lr;
    int64_t listed = 0;
    CHECK_OK(reef_store_list(s, L, &lo, lease_item, &listed, &lr, &err), &err);
    CHECK_INT(listed, ==, rev);

    /* A node heartbeat is held too; a real condition change is written at once. */
    CHECK_OK(apply(s, REEF_STORE_UPDATE, "nodes", "", "n1", 0,
                   "{\"kind\":\"Node\",\"status\":{\"conditions\":[{\"type\":\"Ready\","
                   "\"status\":\"True\",\"lastHeartbeatTime\":\"h1\"}]}}",
                   T0, &res),
             &err);
    CHECK(!res.durable);
    reef_store_result_free(&res);
    CHECK_OK(apply(s, REEF_STORE_UPDATE, "nodes", "", "n1", 0,
                   "{\"kind\":\"Node\",\"status\":{\"conditions\":[{\"type\":\"Ready\","
                   "\"status\":\"False\",\"lastHeartbeatTime\":\"h2\"}]}}",
                   T0, &res),
             &err);
    CHECK(res.durable);
    reef_store_result_free(&res);
    /* A lease whose holder changes is not a heartbeat. */
    CHECK_OK(apply(s, REEF_STORE_UPDATE, L, "kube-node-lease", "n1", 0,
                   "{\"kind\":\"Lease\",\"spec\":{\"holderIdentity\":\"n2\"}}", T0, &res),
             &err);
    CHECK(res.durable);
    reef_store_result_free(&res);
    int64_t final_rev = reef_store_rev(s);

    /* A watch from before the unflushed heartbeats merges memory and disk in order. */
    struct reef_store_opts so2 = {.ring_size = 2};
    reef_store_close(s);
    CHECK_OK(reef_store_open(path, &so2, &s, &err), &err);
    CHECK_INT(reef_store_rev(s), ==, final_rev); /* a clean close keeps the exact counter */
    struct rec r2 = {.ordered = true};
    CHECK_OK(reef_store_watch(s, L, NULL, 2, NULL, NULL, on_event, &r2, &w, &err), &err);
    CHECK_INT(r2.n, ==, 3001);
    CHECK(r2.ordered);
    CHECK_OK(reef_store_get(s, "nodes", "", "n1", &json, NULL, NULL, &err), &err);
    CHECK_STR(field(json, "status.conditions[0].lastHeartbeatTime"), "h2");
    free(json);
    reef_store_close(s);
}

/* A replay older than the ring merges the change log with heartbeats still in memory. */
static void test_replay_merges_pending(void)
{
    make_dir();
    struct reef_store_opts so = {.ring_size = 4};
    struct reef_store *s;
    CHECK_OK(reef_store_open(path, &so, &s, &err), &err);
    const char *L = "leases.coordination.k8s.io";
    create(s, L, "ns", "a", LEASE("t0")); /* 1 */
    create(s, L, "ns", "b", LEASE("t0")); /* 2 */
    char o[256];
    for (int i = 1; i <= 10; i++) {
        snprintf(o, sizeof(o),
                 "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"spec\":{"
                 "\"holderIdentity\":\"n1\",\"leaseDurationSeconds\":40,\"renewTime\":\"t%d\"}}",
                 i);
        struct reef_store_result res;
        /* a: heartbeats (memory); b: holder changes (disk), interleaved. */
        CHECK_OK(apply(s, REEF_STORE_UPDATE, L, "ns", "a", 0, o, T0, &res), &err);
        CHECK(!res.durable);
        reef_store_result_free(&res);
        snprintf(o, sizeof(o), "{\"kind\":\"Lease\",\"spec\":{\"holderIdentity\":\"h%d\"}}", i);
        CHECK_OK(apply(s, REEF_STORE_UPDATE, L, "ns", "b", 0, o, T0, &res), &err);
        CHECK(res.durable);
        reef_store_result_free(&res);
    }
    struct reef_store_stats st;
    reef_store_stats(s, &st);
    CHECK_INT(st.pending, ==, 10);
    struct rec r = {.ordered = true};
    struct reef_store_watch *w;
    CHECK_OK(reef_store_watch(s, L, NULL, 1, NULL, NULL, on_event, &r, &w, &err), &err);
    CHECK_INT(r.n, ==, 21);
    CHECK(r.ordered);
    CHECK(strstr(r.log, "ADDED ns/b@2 MODIFIED ns/a@3 MODIFIED ns/b@4 MODIFIED ns/a@5") == r.log);
    reef_store_stats(s, &st);
    CHECK_INT(st.events_replayed, ==, 11); /* from disk; the other 10 from memory */
    /* A durable write to a heartbeat object carries its newest state; the flush later adds the
     * held change rows without overwriting it. */
    update(s, L, "ns", "a", "{\"kind\":\"Lease\",\"spec\":{\"holderIdentity\":\"x\"}}");
    CHECK_OK(reef_store_flush(s, &err), &err);
    char *json;
    CHECK_OK(reef_store_get(s, L, "ns", "a", &json, NULL, NULL, &err), &err);
    CHECK_STR(field(json, "spec.holderIdentity"), "x");
    free(json);
    reef_store_close(s);
    CHECK_OK(reef_store_open(path, &so, &s, &err), &err);
    CHECK_OK(reef_store_get(s, L, "ns", "a", &json, NULL, NULL, &err), &err);
    CHECK_STR(field(json, "spec.holderIdentity"), "x");
    free(json);
    struct rec r2 = {.ordered = true};
    CHECK_OK(reef_store_watch(s, L, NULL, 1, NULL, NULL, on_event, &r2, &w, &err), &err);
    CHECK_INT(r2.n, ==, 22);
    CHECK(strncmp(r2.log, r.log, strlen(r.log)) == 0);
    reef_store_close(s);
}

/* Forks a child that opens the store at path with so and runs write_forever(s, fd), which
 * reports numbers on fd and never returns; the parent gets the read end in *rfd. */
static pid_t fork_writer(const struct reef_store_opts *so,
                         void (*write_forever)(struct reef_store *s, int fd), int *rfd)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        struct reef_store *s;
        if (reef_store_open(path, so, &s, &err) < 0)
            _exit(2);
        write_forever(s, fds[1]);
        _exit(5);
    }
    close(fds[1]);
    *rfd = fds[0];
    return pid;
}

static void report(int fd, int64_t n)
{
    if (write(fd, &n, sizeof(n)) != sizeof(n))
        _exit(4);
}

/* Reads the numbers a writing child reports on fd until one reaches want, kills the child
 * (SIGKILL: a crash), and returns the last number it reported. */
static int64_t kill_after(pid_t pid, int fd, int64_t want)
{
    int64_t seen = 0, n;
    while (seen < want && read(fd, &n, sizeof(n)) == sizeof(n))
        seen = n;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    while (read(fd, &n, sizeof(n)) == sizeof(n))
        seen = n;
    close(fd);
    CHECK(WIFSIGNALED(status));
    CHECK_INT(seen, >=, want);
    return seen;
}

static void lease_renewals(struct reef_store *s, int fd)
{
    const char *L = "leases.coordination.k8s.io";
    create(s, L, "kube-node-lease", "n1", LEASE("t0"));
    create(s, "configmaps", "a", "durable", "{\"data\":{\"v\":\"1\"}}");
    for (int i = 1;; i++) {
        char o[200];
        snprintf(o, sizeof(o),
                 "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"spec\":{"
                 "\"holderIdentity\":\"n1\",\"leaseDurationSeconds\":40,\"renewTime\":\"t%d\"}}",
                 i);
        struct reef_store_result res;
        if (apply(s, REEF_STORE_UPDATE, L, "kube-node-lease", "n1", 0, o, T0 + i, &res) < 0)
            _exit(3);
        reef_store_result_free(&res);
        if (i % 97 == 0)
            update(s, "configmaps", "a", "durable",
                   i % 2 ? "{\"data\":{\"v\":\"odd\"}}" : "{\"data\":{\"v\":\"even\"}}");
        /* Every revision handed out is reported before the next write. */
        report(fd, reef_store_rev(s));
    }
}

static void test_heartbeat_crash(void)
{
    make_dir();
    int fd;
    struct reef_store_opts so = {.rev_block = 50};
    pid_t pid = fork_writer(&so, lease_renewals, &fd);
    int64_t seen = kill_after(pid, fd, 730);

    struct reef_store *s;
    CHECK_OK(reef_store_open(path, NULL, &s, &err), &err);
    CHECK_INT(reef_store_rev(s), >=, seen);
    struct reef_store_result res;
    CHECK_OK(apply(s, REEF_STORE_CREATE, "configmaps", "a", "after", 0, "{}", T0, &res), &err);
    CHECK_INT(res.rev, >, seen);
    reef_store_result_free(&res);
    /* Ordinary writes survived; the lease is at some durable state. */
    char *json;
    CHECK_OK(reef_store_get(s, "configmaps", "a", "durable", &json, NULL, NULL, &err), &err);
    CHECK(strstr(json, "odd") || strstr(json, "even"));
    free(json);
    CHECK_OK(reef_store_get(s, "leases.coordination.k8s.io", "kube-node-lease", "n1", &json, NULL,
                            NULL, &err),
             &err);
    free(json);
    reef_store_close(s);
}

/* ---- restart ---- */

static void test_restart(void)
{
    make_dir();
    struct reef_store *s;
    CHECK_OK(reef_store_open(path, NULL, &s, &err), &err);
    create(s, "pods", "a", "p1", POD("p1", "n1", "Running", "web"));
    create(s, "pods", "a", "p2", POD("p2", "n2", "Running", "db"));
    update(s, "pods", "a", "p1", POD("p1", "n1", "Succeeded", "web"));
    char *before;
    CHECK_OK(reef_store_get(s, "pods", "a", "p1", &before, NULL, NULL, &err), &err);
    reef_store_close(s);

    CHECK_OK(reef_store_open(path, NULL, &s, &err), &err);
    CHECK_INT(reef_store_rev(s), ==, 3);
    char *after;
    int64_t rev;
    CHECK_OK(reef_store_get(s, "pods", "a", "p1", &after, NULL, &rev, &err), &err);
    CHECK_STR(after, before);
    CHECK_INT(rev, ==, 3);
    free(before);
    free(after);
    struct reef_store_list_opts o = {.phase = "Succeeded"};
    CHECK_STR(list(s, "pods", &o, NULL), "a/p1");
    struct reef_store_label l[] = {{"app", "db"}};
    o = (struct reef_store_list_opts){.labels = l, .nlabels = 1};
    CHECK_STR(list(s, "pods", &o, NULL), "a/p2");
    /* Watches resume from a retained revision, then follow. */
    struct rec r = {.ordered = true};
    struct reef_store_watch *w;
    CHECK_OK(reef_store_watch(s, "pods", NULL, 1, NULL, NULL, on_event, &r, &w, &err), &err);
    CHECK_STR(r.log, "ADDED a/p2@2 MODIFIED a/p1@3");
    CHECK_INT(create(s, "pods", "a", "p3", "{}"), ==, 4);
    CHECK_STR(r.log, "ADDED a/p2@2 MODIFIED a/p1@3 ADDED a/p3@4");
    reef_store_close(s);

    /* A file that is not a database is refused, untouched. */
    cleanup_dir();
    CHECK(mkdir(dir, 0700) == 0);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, "this is not sqlite at all, not even close........................", 64) == 64);
    close(fd);
    CHECK_INT(reef_store_open(path, NULL, &s, &err), ==, -EUCLEAN);
}

/* ---- group commit ---- */

static void test_group_commit(void)
{
    make_dir();
    struct reef_store *s;
    struct reef_store_opts so = {.group_commit = true};
    CHECK_OK(reef_store_open(path, &so, &s, &err), &err);
    int64_t r0 = reef_store_rev(s);
    CHECK(!reef_store_unsynced(s));
    struct rec early = {.ordered = true};
    struct reef_store_watch *w1, *w2, *w3;
    CHECK_OK(reef_store_watch(s, "configmaps", NULL, 0, NULL, NULL, on_event, &early, &w1, &err),
             &err);

    /* Writes are committed and readable at once, but reach no watcher before the sync. */
    struct reef_store_result res;
    CHECK_OK(apply(s, REEF_STORE_CREATE, "configmaps", "a", "one", 0, "{}", T0, &res), &err);
    CHECK(!res.durable);
    reef_store_result_free(&res);
    update(s, "configmaps", "a", "one", "{\"data\":{\"v\":\"2\"}}");
    create(s, "configmaps", "b", "two", "{}");
    CHECK(reef_store_unsynced(s));
    CHECK_INT(reef_store_rev(s), ==, r0 + 3);
    char *json;
    CHECK_OK(reef_store_get(s, "configmaps", "a", "one", &json, NULL, NULL, &err), &err);
    CHECK_STR(field(json, "data.v"), "2");
    free(json);
    CHECK_INT(early.n, ==, 0);
    /* A watch from now starts at the last synced revision; a replay stops there. */
    struct rec fresh = {.ordered = true}, replayed = {.ordered = true};
    CHECK_OK(reef_store_watch(s, "configmaps", NULL, 0, NULL, NULL, on_event, &fresh, &w2, &err),
             &err);
    CHECK_OK(
        reef_store_watch(s, "configmaps", NULL, r0, NULL, NULL, on_event, &replayed, &w3, &err),
        &err);
    CHECK_INT(fresh.n + replayed.n, ==, 0);
    /* A create that fails inside the batch changes nothing; compaction, which needs a
     * transaction of its own, commits the batch but shows nothing before the sync either. */
    CHECK_INT(apply(s, REEF_STORE_CREATE, "configmaps", "b", "two", 0, "{}", T0, NULL), ==,
              -EEXIST);
    CHECK_OK(reef_store_compact(s, T0, NULL, &err), &err);
    CHECK_INT(early.n + fresh.n + replayed.n, ==, 0);
    CHECK(reef_store_unsynced(s));

    struct reef_store_stats st;
    reef_store_stats(s, &st);
    uint64_t syncs = st.syncs;
    CHECK_OK(reef_store_sync(s, &err), &err);
    CHECK(!reef_store_unsynced(s));
    reef_store_stats(s, &st);
    CHECK_INT(st.syncs, ==, syncs + 1); /* one sync for the three writes */
    char want[256];
    snprintf(want, sizeof(want), "ADDED a/one@%lld MODIFIED a/one@%lld ADDED b/two@%lld",
             (long long)r0 + 1, (long long)r0 + 2, (long long)r0 + 3);
    CHECK_STR(early.log, want);
    CHECK_STR(fresh.log, want);
    CHECK_STR(replayed.log, want);
    CHECK(early.ordered && fresh.ordered && replayed.ordered);
    /* Nothing new: a sync costs nothing. */
    CHECK_OK(reef_store_sync(s, &err), &err);
    reef_store_stats(s, &st);
    CHECK_INT(st.syncs, ==, syncs + 1);

    /* A heartbeat behind an unsynced write waits with it, in revision order. */
    const char *L = "leases.coordination.k8s.io";
    struct rec leases = {.ordered = true};
    struct reef_store_watch *w4;
    CHECK_OK(reef_store_watch(s, L, NULL, 0, NULL, NULL, on_event, &leases, &w4, &err), &err);
    create(s, L, "kube-node-lease", "n1", LEASE("t0"));
    CHECK_OK(reef_store_sync(s, &err), &err);
    CHECK_INT(leases.n, ==, 1);
    create(s, "configmaps", "a", "three", "{}");
    CHECK_OK(apply(s, REEF_STORE_UPDATE, L, "kube-node-lease", "n1", 0, LEASE("t1"), T0, &res),
             &err);
    reef_store_result_free(&res);
    CHECK_INT(leases.n, ==, 1);
    CHECK_OK(reef_store_sync(s, &err), &err);
    CHECK_INT(leases.n, ==, 2);
    CHECK_INT(early.n, ==, 4);
    CHECK_INT(leases.last_rev, ==, early.last_rev + 1);
    reef_store_unwatch(w1);
    reef_store_unwatch(w2);
    reef_store_unwatch(w3);
    reef_store_unwatch(w4);
    reef_store_close(s);

    /* In memory (tests) and without the option, nothing waits. */
    s = open_mem();
    create(s, "configmaps", "a", "m", "{}");
    CHECK(!reef_store_unsynced(s));
    reef_store_close(s);
}

/* A process killed after a sync: everything synced is there when the store opens again, and
 * revisions go on from above it. */
static void synced_creates(struct reef_store *s, int fd)
{
    for (int i = 1;; i++) {
        char name[32];
        snprintf(name, sizeof(name), "cm-%d", i);
        create(s, "configmaps", "a", name, "{}");
        if (i % 3)
            continue;
        if (reef_store_sync(s, &err) < 0)
            _exit(3);
        report(fd, i);
    }
}

static void test_group_commit_crash(void)
{
    make_dir();
    int fd;
    struct reef_store_opts so = {.group_commit = true};
    pid_t pid = fork_writer(&so, synced_creates, &fd);
    int64_t seen = kill_after(pid, fd, 300);

    struct reef_store *s;
    CHECK_OK(reef_store_open(path, NULL, &s, &err), &err);
    struct reef_store_list_result lr;
    list(s, "configmaps", NULL, &lr);
    CHECK_INT(lr.count, >=, seen);
    CHECK_INT(reef_store_rev(s), >=, seen);
    char last[32];
    snprintf(last, sizeof(last), "cm-%lld", (long long)seen);
    char *json;
    CHECK_OK(reef_store_get(s, "configmaps", "a", last, &json, NULL, NULL, &err), &err);
    free(json);
    struct reef_store_result res;
    CHECK_OK(apply(s, REEF_STORE_CREATE, "configmaps", "a", "after", 0, "{}", T0, &res), &err);
    CHECK_INT(res.rev, >, lr.count);
    reef_store_result_free(&res);
    reef_store_close(s);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_compaction_and_expiry);
    TEST_RUN(test_deterministic_apply);
    TEST_RUN(test_cmd_encoding);
    TEST_RUN(test_mangled_objects);
    TEST_RUN(test_heartbeat_batching);
    TEST_RUN(test_replay_merges_pending);
    TEST_RUN(test_heartbeat_crash);
    TEST_RUN(test_restart);
    TEST_RUN(test_group_commit);
    TEST_RUN(test_group_commit_crash);
    return test_done();
}
