/* Helpers shared by the orchestrate/store test programs (test_store.c, test_store_durability.c):
 * a temporary database directory removed at exit, store commands, lists and recorded watch
 * events. */
#ifndef REEF_TEST_STORE_FIXTURE_H
#define REEF_TEST_STORE_FIXTURE_H

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

#endif
