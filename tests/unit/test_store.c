/* Tests for orchestrate/store's API: writes and their metadata, conflicts, lists, watches, and
 * fan-out to many watchers. Compaction, determinism, heartbeats and restarts are tested in
 * test_store_durability.c. */

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

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- writes ---- */

static void test_create_get_update_delete(void)
{
    struct reef_store *s = open_mem();
    struct reef_store_result r;
    CHECK_OK(apply(s, REEF_STORE_CREATE, "pods", "default", "web", 0,
                   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
                   "\"resourceVersion\":\"999\",\"uid\":\"spoofed\",\"annotations\":{\"a\":\"{"
                   "\\\"x\\\": 1}\"}},"
                   "\"spec\":{\"containers\":[]}}",
                   T0 + 1500, &r),
             &err);
    CHECK_INT(r.rev, ==, 1);
    CHECK(r.durable);
    CHECK_STR(field(r.object, "metadata.resourceVersion"), "1");
    CHECK_STR(field(r.object, "metadata.name"), "web");
    CHECK_STR(field(r.object, "metadata.namespace"), "default");
    CHECK_STR(field(r.object, "metadata.generation"), "1");
    CHECK_STR(field(r.object, "metadata.creationTimestamp"), "2026-11-28T12:00:01Z");
    CHECK_STR(field(r.object, "metadata.annotations.a"), "{\"x\": 1}");
    char uid[64];
    snprintf(uid, sizeof(uid), "%s", field(r.object, "metadata.uid"));
    CHECK_INT(strlen(uid), ==, 36);
    CHECK(uid[14] == '4'); /* version 4 */
    CHECK(strchr("89ab", uid[19]) != NULL);
    reef_store_result_free(&r);

    char *json;
    size_t len;
    int64_t rev;
    CHECK_OK(reef_store_get(s, "pods", "default", "web", &json, &len, &rev, &err), &err);
    CHECK_INT(rev, ==, 1);
    CHECK_INT(strlen(json), ==, len);
    CHECK_STR(field(json, "metadata.uid"), uid);
    free(json);
    CHECK_INT(reef_store_get(s, "pods", "other", "web", &json, NULL, NULL, &err), ==, -ENOENT);
    CHECK(json == NULL);

    /* Update: uid and creationTimestamp stay, whatever the body says. */
    CHECK_OK(apply(s, REEF_STORE_UPDATE, "pods", "default", "web", 1,
                   "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
                   "\"uid\":\"x\",\"creationTimestamp\":\"1999-01-01T00:00:00Z\"},"
                   "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}",
                   T0 + 60000, &r),
             &err);
    CHECK_INT(r.rev, ==, 2);
    CHECK_STR(field(r.object, "metadata.uid"), uid);
    CHECK_STR(field(r.object, "metadata.creationTimestamp"), "2026-11-28T12:00:01Z");
    CHECK_STR(field(r.object, "metadata.generation"), "2");
    CHECK_STR(field(r.object, "metadata.resourceVersion"), "2");
    reef_store_result_free(&r);

    /* Cluster-scoped objects have no namespace member. */
    CHECK_OK(apply(s, REEF_STORE_CREATE, "nodes", NULL, "n1", 0,
                   "{\"kind\":\"Node\",\"apiVersion\":\"v1\"}", T0, &r),
             &err);
    CHECK_INT(r.rev, ==, 3);
    CHECK_STR(field(r.object, "metadata.namespace"), "<none>");
    CHECK_STR(field(r.object, "metadata.name"), "n1");
    reef_store_result_free(&r);

    CHECK_OK(apply(s, REEF_STORE_DELETE, "pods", "default", "web", 0, NULL, T0, &r), &err);
    CHECK_INT(r.rev, ==, 4);
    /* The last state, carrying the delete's revision. */
    CHECK_STR(field(r.object, "metadata.resourceVersion"), "4");
    CHECK_STR(field(r.object, "spec.containers[0].name"), "c");
    reef_store_result_free(&r);
    CHECK_INT(reef_store_get(s, "pods", "default", "web", &json, NULL, NULL, &err), ==, -ENOENT);
    CHECK_INT(reef_store_rev(s), ==, 4);
    reef_store_close(s);
}

static void test_conflicts_and_bad_commands(void)
{
    struct reef_store *s = open_mem();
    const char *obj = "{\"kind\":\"ConfigMap\",\"data\":{\"k\":\"v\"}}";
    CHECK_INT(create(s, "configmaps", "ns", "cm", obj), ==, 1);
    CHECK_INT(apply(s, REEF_STORE_CREATE, "configmaps", "ns", "cm", 0, obj, T0, NULL), ==, -EEXIST);
    CHECK_INT(apply(s, REEF_STORE_UPDATE, "configmaps", "ns", "nope", 0, obj, T0, NULL), ==,
              -ENOENT);
    CHECK_INT(apply(s, REEF_STORE_DELETE, "configmaps", "ns", "nope", 0, NULL, T0, NULL), ==,
              -ENOENT);
    CHECK_INT(apply(s, REEF_STORE_UPDATE, "configmaps", "ns", "cm", 7, "{\"data\":{\"k\":\"w\"}}",
                    T0, NULL),
              ==, -ESTALE);
    CHECK(strstr(err.msg, "modified") != NULL);
    CHECK_INT(apply(s, REEF_STORE_DELETE, "configmaps", "ns", "cm", 7, NULL, T0, NULL), ==,
              -ESTALE);
    CHECK_INT(apply(s, REEF_STORE_UPDATE, "configmaps", "ns", "cm", 0, "{\"data\":", T0, NULL), ==,
              -EINVAL);
    CHECK_INT(apply(s, REEF_STORE_UPDATE, "configmaps", "ns", "cm", 0, "[1,2]", T0, NULL), ==,
              -EINVAL);
    CHECK_INT(apply(s, REEF_STORE_UPDATE, "configmaps", "ns", "cm", 0,
                    "{\"metadata\":{\"name\":\"other\"}}", T0, NULL),
              ==, -EINVAL);
    CHECK_INT(apply(s, REEF_STORE_UPDATE, "configmaps", "ns", "cm", 0,
                    "{\"metadata\":{\"namespace\":\"elsewhere\"}}", T0, NULL),
              ==, -EINVAL);
    CHECK_INT(
        apply(s, REEF_STORE_UPDATE, "configmaps", "ns", "cm", 0, "{\"metadata\":[]}", T0, NULL), ==,
        -EINVAL);
    CHECK_INT(apply(s, REEF_STORE_CREATE, "configmaps", "ns", "", 0, obj, T0, NULL), ==, -EINVAL);
    CHECK_INT(apply(s, REEF_STORE_CREATE, "", "ns", "x", 0, obj, T0, NULL), ==, -EINVAL);
    CHECK_INT(apply(s, REEF_STORE_CREATE, "configmaps", "ns", "x", 0, obj, -5, NULL), ==, -EINVAL);
    struct reef_store_cmd c = {.op = REEF_STORE_CREATE,
                               .resource = "configmaps",
                               .name = "nouid",
                               .object = obj,
                               .object_len = strlen(obj),
                               .timestamp_ms = T0};
    CHECK_INT(reef_store_apply(s, &c, NULL, &err), ==, -EINVAL);
    c.op = 9;
    CHECK_INT(reef_store_apply(s, &c, NULL, &err), ==, -EINVAL);
    /* An empty namespace in the body means the command's. */
    CHECK_INT(update(s, "configmaps", "ns", "cm",
                     "{\"metadata\":{\"namespace\":\"\"},\"data\":{\"k\":\"w\"}}"),
              ==, 2);
    /* The right expected revision works; nothing above consumed a revision. */
    struct reef_store_result r;
    CHECK_OK(apply(s, REEF_STORE_UPDATE, "configmaps", "ns", "cm", 2, "{\"data\":{\"k\":\"z\"}}",
                   T0, &r),
             &err);
    CHECK_INT(r.rev, ==, 3);
    reef_store_result_free(&r);
    CHECK_INT(reef_store_rev(s), ==, 3);
    reef_store_close(s);
}

static void test_generation_rules(void)
{
    struct reef_store *s = open_mem();
    struct reef_store_result r;
    create(s, "deployments.apps", "d", "web",
           "{\"metadata\":{\"labels\":{\"a\":\"1\"}},\"spec\":{\"replicas\":1},\"status\":{}}");
    /* Status only: no bump. */
    CHECK_OK(apply(s, REEF_STORE_UPDATE, "deployments.apps", "d", "web", 0,
                   "{\"metadata\":{\"labels\":{\"a\":\"1\"}},\"spec\":{\"replicas\":1},"
                   "\"status\":{\"replicas\":1}}",
                   T0, &r),
             &err);
    CHECK_STR(field(r.object, "metadata.generation"), "1");
    reef_store_result_free(&r);
    /* Labels only: no bump. Same spec spelled differently: no bump. */
    CHECK_OK(apply(s, REEF_STORE_UPDATE, "deployments.apps", "d", "web", 0,
                   "{\"metadata\":{\"labels\":{\"a\":\"2\"}},\"spec\":{\"replicas\":1.0},"
                   "\"status\":{\"replicas\":1}}",
                   T0, &r),
             &err);
    CHECK_STR(field(r.object, "metadata.generation"), "1");
    CHECK_INT(r.rev, ==, 3);
    reef_store_result_free(&r);
    /* Spec: bump. */
    CHECK_OK(apply(s, REEF_STORE_UPDATE, "deployments.apps", "d", "web", 0,
                   "{\"metadata\":{\"labels\":{\"a\":\"2\"}},\"spec\":{\"replicas\":3},"
                   "\"status\":{\"replicas\":1}}",
                   T0, &r),
             &err);
    CHECK_STR(field(r.object, "metadata.generation"), "2");
    CHECK_INT(r.rev, ==, 4);
    reef_store_result_free(&r);
    /* Spec removed: a change too. */
    CHECK_OK(apply(s, REEF_STORE_UPDATE, "deployments.apps", "d", "web", 0,
                   "{\"metadata\":{\"labels\":{\"a\":\"2\"}},\"status\":{\"replicas\":1}}", T0, &r),
             &err);
    CHECK_STR(field(r.object, "metadata.generation"), "3");
    reef_store_result_free(&r);
    /* The same object again (with a stale resourceVersion in it): unchanged, no revision. */
    CHECK_OK(apply(s, REEF_STORE_UPDATE, "deployments.apps", "d", "web", 0,
                   "{\"metadata\":{\"resourceVersion\":\"1\",\"labels\":{\"a\":\"2\"}},"
                   "\"status\":{\"replicas\":1}}",
                   T0 + 99000, &r),
             &err);
    CHECK(r.unchanged);
    CHECK_INT(r.rev, ==, 5);
    CHECK_STR(field(r.object, "metadata.resourceVersion"), "5");
    reef_store_result_free(&r);
    CHECK_INT(reef_store_rev(s), ==, 5);
    reef_store_close(s);
}

/* ---- lists ---- */

static bool pred_web(void *arg, const struct reef_json_doc *d)
{
    (void)arg;
    int v = reef_json_find(d, REEF_JSON_ROOT, "metadata.labels.app", NULL);
    return v >= 0 && reef_json_str_eq(d, v, "web");
}

static void test_list_filters(void)
{
    struct reef_store *s = open_mem();
    create(s, "pods", "a", "p1", POD("p1", "n1", "Running", "web"));
    create(s, "pods", "a", "p2", POD("p2", "n2", "Pending", "db"));
    create(s, "pods", "b", "p3", POD("p3", "n1", "Running", "db"));
    create(s, "pods", "b", "p4", "{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}}}");
    create(s, "services", "a", "p1", "{}");
    struct reef_store_list_result lr;
    CHECK_STR(list(s, "pods", NULL, &lr), "a/p1 a/p2 b/p3 b/p4");
    CHECK_INT(lr.rev, ==, 5);
    CHECK_STR(lr.continue_token, "");
    struct reef_store_list_opts o = {.namespace = "b"};
    CHECK_STR(list(s, "pods", &o, NULL), "b/p3 b/p4");
    o = (struct reef_store_list_opts){.node_name = "n1"};
    CHECK_STR(list(s, "pods", &o, NULL), "a/p1 b/p3");
    o = (struct reef_store_list_opts){.node_name = ""}; /* unscheduled */
    CHECK_STR(list(s, "pods", &o, NULL), "b/p4");
    o = (struct reef_store_list_opts){.phase = "Running", .namespace = "a"};
    CHECK_STR(list(s, "pods", &o, NULL), "a/p1");
    struct reef_store_label l1[] = {{"app", "web"}};
    o = (struct reef_store_list_opts){.labels = l1, .nlabels = 1};
    CHECK_STR(list(s, "pods", &o, NULL), "a/p1 b/p4");
    struct reef_store_label l2[] = {{"app", "web"}, {"tier", "fe"}};
    o = (struct reef_store_list_opts){.labels = l2, .nlabels = 2};
    CHECK_STR(list(s, "pods", &o, NULL), "b/p4");
    o = (struct reef_store_list_opts){.name = "p1"};
    CHECK_STR(list(s, "pods", &o, NULL), "a/p1");
    o = (struct reef_store_list_opts){.pred = pred_web};
    CHECK_STR(list(s, "pods", &o, NULL), "a/p1 b/p4");
    CHECK_STR(list(s, "services", NULL, NULL), "a/p1");
    CHECK_STR(list(s, "nothing", NULL, NULL), "");

    /* Labels follow updates (the side table is rewritten), and go with deletes. */
    update(s, "pods", "a", "p2", POD("p2", "n2", "Running", "web"));
    o = (struct reef_store_list_opts){.labels = l1, .nlabels = 1};
    CHECK_STR(list(s, "pods", &o, NULL), "a/p1 a/p2 b/p4");
    o = (struct reef_store_list_opts){.phase = "Pending"};
    CHECK_STR(list(s, "pods", &o, NULL), "");
    CHECK_OK(apply(s, REEF_STORE_DELETE, "pods", "a", "p1", 0, NULL, T0, NULL), &err);
    o = (struct reef_store_list_opts){.labels = l1, .nlabels = 1};
    CHECK_STR(list(s, "pods", &o, NULL), "a/p2 b/p4");

    struct reef_store_label many[REEF_STORE_MAX_LABELS + 1];
    o = (struct reef_store_list_opts){.labels = many, .nlabels = REEF_STORE_MAX_LABELS + 1};
    struct reef_store_list_result x;
    CHECK_INT(reef_store_list(s, "pods", &o, collect, &(struct names){0}, &x, &err), ==, -EINVAL);
    reef_store_close(s);
}

static void test_owner_lookup(void)
{
    struct reef_store *s = open_mem();
    create(s, "replicasets.apps", "d", "rs1",
           "{\"metadata\":{\"ownerReferences\":[{\"kind\":\"Deployment\",\"name\":\"web\","
           "\"uid\":\"u-dep\",\"controller\":true}]}}");
    create(s, "pods", "d", "a",
           "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u-rs1\"},{\"uid\":\"u-other\"}]}}");
    create(s, "pods", "d", "b", "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u-rs1\"}]}}");
    create(s, "pods", "d", "c", "{}");
    struct reef_store_list_opts o = {.owner_uid = "u-rs1"};
    CHECK_STR(list(s, "pods", &o, NULL), "d/a d/b");
    o.owner_uid = "u-other";
    CHECK_STR(list(s, "pods", &o, NULL), "d/a");
    o.owner_uid = "u-dep";
    CHECK_STR(list(s, "replicasets.apps", &o, NULL), "d/rs1");
    /* Orphaning: the owner reference removed, the lookup forgets it. */
    update(s, "pods", "d", "b", "{\"metadata\":{}}");
    o.owner_uid = "u-rs1";
    CHECK_STR(list(s, "pods", &o, NULL), "d/a");
    reef_store_close(s);
}

static void test_list_pagination(void)
{
    struct reef_store *s = open_mem();
    char name[32];
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof(name), "cm%02d", i);
        create(s, "configmaps", i % 2 ? "odd" : "even", name, "{}");
    }
    struct reef_store_list_opts o = {.limit = 10};
    struct reef_store_list_result lr;
    char seen[4096] = "";
    int pages = 0, total = 0;
    int64_t first_rev = 0;
    for (;;) {
        const char *page = list(s, "configmaps", &o, &lr);
        pages++;
        total += (int)lr.count;
        if (pages == 1) {
            first_rev = lr.rev;
            /* Writes between pages: the continuation keeps the first page's revision. */
            create(s, "configmaps", "zzz", "late", "{}");
        }
        CHECK_INT(lr.rev, ==, first_rev);
        strcat(seen, page);
        strcat(seen, "|");
        if (!lr.continue_token[0])
            break;
        static char tok[REEF_STORE_TOKEN_MAX];
        snprintf(tok, sizeof(tok), "%s", lr.continue_token);
        o.continue_token = tok;
        CHECK(pages < 10);
    }
    CHECK_INT(pages, ==, 3);
    CHECK_INT(total, ==, 26);
    CHECK(strstr(seen, "even/cm00 even/cm02") == seen);
    CHECK(strstr(seen, "zzz/late|") != NULL);

    /* Exactly `limit` items left: no token. */
    o = (struct reef_store_list_opts){.limit = 13, .namespace = "even"};
    list(s, "configmaps", &o, &lr);
    CHECK_INT(lr.count, ==, 13);
    CHECK_STR(lr.continue_token, "");
    /* With a predicate, the limit counts matches. */
    o = (struct reef_store_list_opts){.limit = 1, .pred = pred_web};
    create(s, "configmaps", "a", "x", "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
    create(s, "configmaps", "b", "y", "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
    CHECK_STR(list(s, "configmaps", &o, &lr), "a/x");
    CHECK(lr.continue_token[0]);
    static char tok2[REEF_STORE_TOKEN_MAX];
    snprintf(tok2, sizeof(tok2), "%s", lr.continue_token);
    o.continue_token = tok2;
    CHECK_STR(list(s, "configmaps", &o, &lr), "b/y");
    CHECK_STR(lr.continue_token, "");

    /* Bad tokens are refused. */
    const char *bad[] = {"!!!", "MTIz", "", "eA", "OTk5OTk5OTk5CmEKYg"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        if (!bad[i][0])
            continue;
        o = (struct reef_store_list_opts){.continue_token = bad[i]};
        CHECK_INT(reef_store_list(s, "configmaps", &o, collect, &(struct names){0}, &lr, &err), ==,
                  -EINVAL);
    }
    reef_store_close(s);
}

/* ---- watches ---- */

static void test_watch_replay_then_live(void)
{
    struct reef_store *s = open_mem();
    create(s, "pods", "a", "p1", "{}");                                                /* 1 */
    create(s, "pods", "b", "p2", "{}");                                                /* 2 */
    update(s, "pods", "a", "p1", "{\"spec\":{\"x\":1}}");                              /* 3 */
    create(s, "services", "a", "s", "{}");                                             /* 4 */
    CHECK_OK(apply(s, REEF_STORE_DELETE, "pods", "b", "p2", 0, NULL, T0, NULL), &err); /* 5 */

    struct rec all = {.ordered = true}, ns_a = {.ordered = true}, now = {.ordered = true};
    struct reef_store_watch *w1, *w2, *w3;
    CHECK_OK(reef_store_watch(s, "pods", NULL, 1, NULL, NULL, on_event, &all, &w1, &err), &err);
    CHECK_STR(all.log, "ADDED b/p2@2 MODIFIED a/p1@3 DELETED b/p2@5");
    CHECK_OK(reef_store_watch(s, "pods", "a", 0, NULL, NULL, on_event, &now, &w3, &err), &err);
    CHECK_INT(now.n, ==, 0);
    CHECK_OK(
        reef_store_watch(s, "pods", "a", 0 + 1 - 1 + 2, NULL, NULL, on_event, &ns_a, &w2, &err),
        &err);
    CHECK_STR(ns_a.log, "MODIFIED a/p1@3");
    create(s, "pods", "a", "p9", "{}");    /* 6 */
    create(s, "services", "a", "x", "{}"); /* 7: not pods */
    create(s, "pods", "c", "p7", "{}");    /* 8 */
    CHECK_STR(all.log, "ADDED b/p2@2 MODIFIED a/p1@3 DELETED b/p2@5 ADDED a/p9@6 ADDED c/p7@8");
    CHECK_STR(ns_a.log, "MODIFIED a/p1@3 ADDED a/p9@6");
    CHECK_STR(now.log, "ADDED a/p9@6");
    CHECK(all.ordered);
    reef_store_unwatch(w2);
    create(s, "pods", "a", "p10", "{}"); /* 9 */
    CHECK_STR(ns_a.log, "MODIFIED a/p1@3 ADDED a/p9@6");
    CHECK_STR(now.log, "ADDED a/p9@6 ADDED a/p10@9");
    /* From the current revision, or beyond it: nothing to replay. */
    struct rec cur = {.ordered = true};
    struct reef_store_watch *w4;
    CHECK_OK(reef_store_watch(s, "pods", NULL, 9, NULL, NULL, on_event, &cur, &w4, &err), &err);
    CHECK_INT(cur.n, ==, 0);
    struct reef_store_stats st;
    reef_store_stats(s, &st);
    CHECK_INT(st.watchers, ==, 3);
    CHECK_INT(st.events_replayed, ==, 0); /* everything came from the ring */
    reef_store_unwatch(w1);
    reef_store_unwatch(w3);
    reef_store_unwatch(w4);
    reef_store_stats(s, &st);
    CHECK_INT(st.watchers, ==, 0);
    reef_store_close(s);
}

static void test_watch_predicate_transitions(void)
{
    struct reef_store *s = open_mem();
    struct rec r = {.ordered = true};
    struct reef_store_watch *w;
    CHECK_OK(reef_store_watch(s, "pods", NULL, 0, pred_web, NULL, on_event, &r, &w, &err), &err);
    create(s, "pods", "a", "p", "{\"metadata\":{\"labels\":{\"app\":\"db\"}}}");  /* 1 skip */
    update(s, "pods", "a", "p", "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}"); /* 2 ADDED */
    update(s, "pods", "a", "p",
           "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{}}");          /* 3 MOD */
    update(s, "pods", "a", "p", "{\"metadata\":{\"labels\":{\"app\":\"x\"}}}");   /* 4 DELETED */
    update(s, "pods", "a", "p", "{\"metadata\":{\"labels\":{\"app\":\"y\"}}}");   /* 5 skip */
    create(s, "pods", "a", "q", "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}"); /* 6 ADDED */
    CHECK_OK(apply(s, REEF_STORE_DELETE, "pods", "a", "q", 0, NULL, T0, NULL), &err); /* 7 */
    CHECK_OK(apply(s, REEF_STORE_DELETE, "pods", "a", "p", 0, NULL, T0, NULL), &err); /* 8 */
    const char *want = "ADDED a/p@2 MODIFIED a/p@3 DELETED a/p@4 ADDED a/q@6 DELETED a/q@7";
    CHECK_STR(r.log, want);

    /* The same transitions replayed from memory and, with a one-event ring, from disk. */
    struct rec r2 = {.ordered = true};
    struct reef_store_watch *w2;
    CHECK_OK(reef_store_watch(s, "pods", NULL, 1, pred_web, NULL, on_event, &r2, &w2, &err), &err);
    CHECK_STR(r2.log, want);
    reef_store_close(s);

    make_dir();
    struct reef_store_opts so = {.ring_size = 1};
    CHECK_OK(reef_store_open(path, &so, &s, &err), &err);
    create(s, "pods", "a", "p", "{\"metadata\":{\"labels\":{\"app\":\"db\"}}}");
    update(s, "pods", "a", "p", "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
    update(s, "pods", "a", "p", "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{}}");
    update(s, "pods", "a", "p", "{\"metadata\":{\"labels\":{\"app\":\"x\"}}}");
    update(s, "pods", "a", "p", "{\"metadata\":{\"labels\":{\"app\":\"y\"}}}");
    create(s, "pods", "a", "q", "{\"metadata\":{\"labels\":{\"app\":\"web\"}}}");
    CHECK_OK(apply(s, REEF_STORE_DELETE, "pods", "a", "q", 0, NULL, T0, NULL), &err);
    CHECK_OK(apply(s, REEF_STORE_DELETE, "pods", "a", "p", 0, NULL, T0, NULL), &err);
    struct rec r3 = {.ordered = true};
    CHECK_OK(reef_store_watch(s, "pods", NULL, 1, pred_web, NULL, on_event, &r3, &w2, &err), &err);
    CHECK_STR(r3.log, want);
    struct reef_store_stats st;
    reef_store_stats(s, &st);
    CHECK_INT(st.events_replayed, ==, 7);
    reef_store_close(s);
}

/* A callback that writes and cancels: events it causes come after the current one, in order. */
struct reent {
    struct reef_store *s;
    struct reef_store_watch *self, *victim;
    struct rec r;
};

static void on_reent(void *arg, const struct reef_store_event *ev)
{
    struct reent *x = arg;
    on_event(&x->r, ev);
    if (strcmp(ev->name, "trigger") == 0 && ev->type == REEF_STORE_ADDED) {
        create(x->s, "pods", "a", "from-callback", "{}");
        reef_store_unwatch(x->victim);
    }
    if (strcmp(ev->name, "stop") == 0)
        reef_store_unwatch(x->self);
}

static void test_watch_reentrancy(void)
{
    struct reef_store *s = open_mem();
    struct reent x = {.s = s, .r = {.ordered = true}};
    struct rec other = {.ordered = true};
    CHECK_OK(reef_store_watch(s, "pods", NULL, 0, NULL, NULL, on_reent, &x, &x.self, &err), &err);
    CHECK_OK(reef_store_watch(s, "pods", NULL, 0, NULL, NULL, on_event, &other, &x.victim, &err),
             &err);
    create(s, "pods", "a", "trigger", "{}");
    CHECK_STR(x.r.log, "ADDED a/trigger@1 ADDED a/from-callback@2");
    CHECK_STR(other.log, ""); /* cancelled before its turn */
    create(s, "pods", "a", "stop", "{}");
    create(s, "pods", "a", "after", "{}");
    CHECK_STR(x.r.log, "ADDED a/trigger@1 ADDED a/from-callback@2 ADDED a/stop@3");
    struct reef_store_stats st;
    reef_store_stats(s, &st);
    CHECK_INT(st.watchers, ==, 0);
    reef_store_close(s);
}

/* ---- fan-out ---- */

static int delivered;
static void on_count(void *arg, const struct reef_store_event *ev)
{
    (void)ev;
    (*(int *)arg)++;
    delivered++;
}

static void test_ten_thousand_watchers(void)
{
    struct reef_store *s = open_mem();
    create(s, "pods", "default", "web", POD("web", "n1", "Running", "web"));
    enum { N = 10000 };
    static struct reef_store_watch *w[N];
    static int got[N];
    for (int i = 0; i < N; i++) {
        /* Mixed: all namespaces, this namespace, another namespace, a predicate. */
        const char *ns = i % 4 == 1 ? "default" : i % 4 == 2 ? "other" : NULL;
        CHECK_OK(reef_store_watch(s, "pods", ns, 0, i % 4 == 3 ? pred_web : NULL, NULL, on_count,
                                  &got[i], &w[i], &err),
                 &err);
    }
    int64_t t0 = mono_ms();
    update(s, "pods", "default", "web", POD("web", "n1", "Succeeded", "web"));
    int64_t took = mono_ms() - t0;
    CHECK_INT(delivered, ==, N - N / 4);
    for (int i = 0; i < N; i++)
        CHECK_INT(got[i], ==, i % 4 == 2 ? 0 : 1);
    CHECK_INT(took, <, 1000);
    printf("# 10000 watchers: one update delivered in %lld ms\n", (long long)took);
    /* Another resource's write touches none of them. */
    create(s, "services", "default", "web", "{}");
    CHECK_INT(delivered, ==, N - N / 4);
    for (int i = 0; i < N; i += 2)
        reef_store_unwatch(w[i]);
    update(s, "pods", "default", "web", POD("web", "n1", "Failed", "web"));
    CHECK_INT(delivered, ==, (N - N / 4) + N / 2); /* the odd ones: i % 4 == 1 and 3 */
    reef_store_close(s);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_create_get_update_delete);
    TEST_RUN(test_conflicts_and_bad_commands);
    TEST_RUN(test_generation_rules);
    TEST_RUN(test_list_filters);
    TEST_RUN(test_owner_lookup);
    TEST_RUN(test_list_pagination);
    TEST_RUN(test_watch_replay_then_live);
    TEST_RUN(test_watch_predicate_transitions);
    TEST_RUN(test_watch_reentrancy);
    TEST_RUN(test_ten_thousand_watchers);
    return test_done();
}
