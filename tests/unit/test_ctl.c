/* Tests for orchestrate/ctl: Events recorded, repeated and expired; times. */
#include "orchestrate/ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tests/unit/ctl_fixture.h"
#include "tests/unit/test.h"


static void setup(void)
{
    ctl_env_up("system:admin", true);
}

static void teardown(void)
{
    ctl_env_down();
}

struct seen {
    int n;
    char last[4096];
};

static int count_events(void *arg, const struct reef_store_item *it)
{
    struct seen *s = arg;
    s->n++;
    snprintf(s->last, sizeof(s->last), "%.*s", (int)it->len, it->object);
    return 0;
}

static const char *POD = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
                         "\"namespace\":\"prod\",\"uid\":\"u-1\",\"resourceVersion\":\"7\"}}";

static void test_events(void)
{
    setup();
    struct reef_err err = {0};
    const char *ns = "{\"metadata\":{\"name\":\"prod\"}}";
    CHECK_INT(reef_ctl_call(&env, "POST", "/api/v1/namespaces", NULL, ns, strlen(ns), NULL, &err),
              ==, 201);
    reef_ctl_event(&env, "default-scheduler", NULL, POD, strlen(POD), "Normal", "Scheduled",
                   "Successfully assigned prod/web to %s", "n1");
    reef_ctl_event(&env, "kubelet", "n1", POD, strlen(POD), "Warning", "BackOff",
                   "Back-off restarting failed container");
    reef_ctl_event(&env, "kubelet", "n1", POD, strlen(POD), "Warning", "BackOff",
                   "Back-off restarting failed container");
    struct seen s = {0};
    CHECK_INT(reef_store_list(env.store, "events", NULL, count_events, &s, NULL, &err), ==, 0);
    CHECK_INT(s.n, ==, 2); /* the repeat counted, not created */
    struct seen b = {0};
    struct reef_store_list_opts lo = {.namespace = "prod"};
    CHECK_INT(reef_store_list(env.store, "events", &lo, count_events, &b, NULL, &err), ==, 0);
    CHECK_INT(b.n, ==, 2);
    /* field selectors as kubectl describe sends them find them */
    struct reef_buf out = REEF_BUF_INIT;
    CHECK_INT(reef_ctl_call(&env, "GET",
                            "/api/v1/namespaces/prod/events?fieldSelector=involvedObject.name%3Dweb"
                            "%2CinvolvedObject.uid%3Du-1%2Creason%3DBackOff",
                            NULL, NULL, 0, &out, &err),
              ==, 200);
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, out.data, out.len, NULL, NULL), ==, 0);
    int64_t count = 0;
    int v = reef_json_find(&d, REEF_JSON_ROOT, "items[0].count", NULL);
    CHECK(v >= 0);
    reef_json_get_int(&d, v, &count, NULL);
    CHECK_INT(count, ==, 2);
    CHECK(reef_json_str_eq(&d, reef_json_find(&d, REEF_JSON_ROOT, "items[0].source.host", NULL),
                           "n1"));
    CHECK(reef_json_str_eq(&d, reef_json_find(&d, REEF_JSON_ROOT, "items[0].type", NULL),
                           "Warning"));
    reef_json_doc_free(&d);
    reef_buf_free(&out);

    /* a cluster-scoped object's events go to default */
    const char *node = "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"n1\"}}";
    reef_ctl_event(&env, "kubelet", "n1", node, strlen(node), "Normal", "Starting", "Starting");
    struct seen c = {0};
    lo.namespace = "default";
    CHECK_INT(reef_store_list(env.store, "events", &lo, count_events, &c, NULL, &err), ==, 0);
    CHECK_INT(c.n, ==, 1);

    /* expiry: nothing is an hour old yet; two hours later everything is */
    int64_t now = reef__api_now_ms();
    CHECK_INT(reef_ctl_events_expire(&env, now, 0), ==, 0);
    CHECK_INT(reef_ctl_events_expire(&env, now + 2 * 3600 * 1000, 0), ==, 3);
    struct seen e = {0};
    CHECK_INT(reef_store_list(env.store, "events", NULL, count_events, &e, NULL, &err), ==, 0);
    CHECK_INT(e.n, ==, 0);
    teardown();
}

static void test_time(void)
{
    char t[32];
    reef_ctl_time(1795883721000LL, t);
    CHECK_STR(t, "2026-11-28T16:35:21Z");
    CHECK_INT(reef_ctl_parse_time(t), ==, 1795883721000LL);
    CHECK_INT(reef_ctl_parse_time("2026-11-28T16:35:21.250Z"), ==, 1795883721250LL);
    CHECK_INT(reef_ctl_parse_time("2026-11-28 16:35"), ==, -1);
    CHECK_INT(reef_ctl_parse_time(NULL), ==, -1);
    CHECK_INT(reef_ctl_parse_time("2026-11-28T16:35:21+01:00"), ==, -1);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_events);
    TEST_RUN(test_time);
    return test_done();
}
