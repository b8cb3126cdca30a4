/* Tests for orchestrate/store: writes and their metadata, conflicts, lists, watches, compaction,
 * determinism, heartbeat batching, crashes and restarts, and fan-out to many watchers. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core/db.h"
#include "orchestrate/store.h"
#include "tests/unit/test.h"

static char dir[64];
static char path[128];

static void cleanup_dir(void)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    char p[160];
    for (size_t i = 0; i < REEF_ARRAY_LEN(suffix); i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/reef-test-store.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/state.db", dir);
    atexit(cleanup_dir);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 2026-11-28T12:00:00Z */
#define T0 1795867200000LL

static struct reef_err err;

static int apply(struct reef_store *s, enum reef_store_op op, const char *res, const char *ns,
                 const char *name, int64_t expected, const char *obj, int64_t ts,
                 struct reef_store_result *out)
{
    struct reef_store_cmd c = {
        .op = op,
        .resource = res,
        .namespace = ns,
        .name = name,
        .expected_rev = expected,
        .object = obj,
        .object_len = obj ? strlen(obj) : 0,
        .timestamp_ms = ts,
    };
    if (op == REEF_STORE_CREATE && reef_store_new_uid(c.uid, &err) < 0)
        return -EIO;
    struct reef_store_result tmp;
    int r = reef_store_apply(s, &c, out ? out : &tmp, &err);
    if (!out)
        reef_store_result_free(&tmp);
    return r;
}

static int64_t create(struct reef_store *s, const char *res, const char *ns, const char *name,
                      const char *obj)
{
    struct reef_store_result r;
    CHECK_OK(apply(s, REEF_STORE_CREATE, res, ns, name, 0, obj, T0, &r), &err);
    reef_store_result_free(&r);
    return r.rev;
}

static int64_t update(struct reef_store *s, const char *res, const char *ns, const char *name,
                      const char *obj)
{
    struct reef_store_result r;
    CHECK_OK(apply(s, REEF_STORE_UPDATE, res, ns, name, 0, obj, T0 + 1000, &r), &err);
    reef_store_result_free(&r);
    return r.rev;
}

static struct reef_store *open_mem(void)
{
    struct reef_store *s;
    CHECK_OK(reef_store_open(NULL, NULL, &s, &err), &err);
    return s;
}

/* The value at path of a JSON text, as a string (numbers as written). */
static char *field(const char *json, const char *p)
{
    static char out[512];
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    out[0] = '\0';
    if (reef_json_parse(&d, json, strlen(json), NULL, NULL) == 0) {
        int v = reef_json_find(&d, REEF_JSON_ROOT, p, NULL);
        if (v >= 0 && reef_json_kind(&d, v) == REEF_JSON_STRING) {
            reef_json_get_str(&d, v, out, sizeof(out), NULL);
        } else if (v >= 0) {
            size_t n;
            const char *raw = reef_json_raw(&d, v, &n);
            snprintf(out, sizeof(out), "%.*s", (int)n, raw);
        } else {
            snprintf(out, sizeof(out), "<none>");
        }
    }
    reef_json_doc_free(&d);
    return out;
}

#define POD(name, node, phase, app)                                                                \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name                       \
    "\",\"labels\":{\"app\":\"" app "\"}},\"spec\":{\"nodeName\":\"" node                          \
    "\",\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]},\"status\":{\"phase\":\"" phase   \
    "\"}}"

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

struct names {
    char buf[4096];
    int n;
};

static int collect(void *arg, const struct reef_store_item *it)
{
    struct names *n = arg;
    size_t l = strlen(n->buf);
    snprintf(n->buf + l, sizeof(n->buf) - l, "%s%s/%s", l ? " " : "", it->namespace, it->name);
    n->n++;
    CHECK_STR(field(it->object, "metadata.name"), it->name);
    return 0;
}

static const char *list(struct reef_store *s, const char *res, const struct reef_store_list_opts *o,
                        struct reef_store_list_result *lr)
{
    static struct names n;
    memset(&n, 0, sizeof(n));
    struct reef_store_list_result tmp;
    CHECK_OK(reef_store_list(s, res, o, collect, &n, lr ? lr : &tmp, &err), &err);
    CHECK_INT((lr ? lr : &tmp)->count, ==, n.n);
    return n.buf;
}

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

struct rec {
    char log[8192];
    int n;
    int64_t last_rev;
    bool ordered;
};

static void on_event(void *arg, const struct reef_store_event *ev)
{
    struct rec *r = arg;
    size_t l = strlen(r->log);
    snprintf(r->log + l, sizeof(r->log) - l, "%s%s %s/%s@%lld", l ? " " : "",
             reef_store_event_name(ev->type), ev->namespace, ev->name, (long long)ev->rev);
    if (r->n && ev->rev <= r->last_rev)
        r->ordered = false;
    r->last_rev = ev->rev;
    r->n++;
    char rv[24];
    snprintf(rv, sizeof(rv), "%lld", (long long)ev->rev);
    CHECK_STR(field(ev->object, "metadata.resourceVersion"), rv);
}

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
    {
        struct reef_db *db;
        CHECK_OK(reef_db_open(path, NULL, &db, &err), &err);
        CHECK_OK(reef_db_size(db, &before, &err), &err);
        reef_db_close(db);
    }
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
    {
        struct reef_db *db;
        CHECK_OK(reef_db_open(path, NULL, &db, &err), &err);
        CHECK_OK(reef_db_size(db, &after, &err), &err);
        reef_db_close(db);
    }
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

static void test_heartbeat_crash(void)
{
    make_dir();
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        struct reef_store *s;
        struct reef_store_opts so = {.rev_block = 50};
        if (reef_store_open(path, &so, &s, &err) < 0)
            _exit(2);
        const char *L = "leases.coordination.k8s.io";
        create(s, L, "kube-node-lease", "n1", LEASE("t0"));
        create(s, "configmaps", "a", "durable", "{\"data\":{\"v\":\"1\"}}");
        for (int i = 1;; i++) {
            char o[200];
            snprintf(
                o, sizeof(o),
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
            int64_t rev = reef_store_rev(s);
            /* Every revision handed out is reported before the next write. */
            if (write(fds[1], &rev, sizeof(rev)) != sizeof(rev))
                _exit(4);
        }
    }
    close(fds[1]);
    int64_t seen = 0, rev;
    while (seen < 730 && read(fds[0], &rev, sizeof(rev)) == sizeof(rev))
        seen = rev;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    while (read(fds[0], &rev, sizeof(rev)) == sizeof(rev))
        seen = rev;
    close(fds[0]);
    CHECK(WIFSIGNALED(status));
    CHECK_INT(seen, >=, 730);

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
    TEST_RUN(test_compaction_and_expiry);
    TEST_RUN(test_deterministic_apply);
    TEST_RUN(test_cmd_encoding);
    TEST_RUN(test_mangled_objects);
    TEST_RUN(test_heartbeat_batching);
    TEST_RUN(test_replay_merges_pending);
    TEST_RUN(test_heartbeat_crash);
    TEST_RUN(test_restart);
    TEST_RUN(test_ten_thousand_watchers);
    return test_done();
}
