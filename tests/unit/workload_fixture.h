/* Shared by the workload tests: an in-memory store, the API server in process, the controllers
 * on a fake clock, and a fake kubelet that reports pods Running and Ready through pods/status. */
#ifndef REEF_TESTS_WORKLOAD_FIXTURE_H
#define REEF_TESTS_WORKLOAD_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "orchestrate/ctl.h"
#include "orchestrate/workload.h"
#include "orchestrate/workload_int.h"
#include "tests/unit/test.h"

#define NS "team"

static uv_loop_t loop;
static struct reef_ctl_env env;
static struct reef_workload *wl;
static int64_t fake_now;

static int64_t fake_clock(void *ud)
{
    (void)ud;
    return fake_now;
}

/* The controllers' next round: everything queued, until nothing is. */
static void settle(void)
{
    for (int i = 0; i < 1000 && reef__wl_pending(wl) > 0; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_INT(reef__wl_pending(wl), ==, 0);
}

/* Time passes: delayed checks that are due run. */
static void advance(int64_t ms)
{
    fake_now += ms;
    reef__wl_fire_timers(wl);
    settle();
}

static int api(const char *method, const char *target, const char *ctype, const char *body,
               struct reef_buf *out)
{
    struct reef_err err = {0};
    int st = reef_ctl_call(&env, method, target, ctype, body, body ? strlen(body) : 0, out, &err);
    if (st >= 300 && st != 404 && st != 409)
        fprintf(stderr, "  %s %s: %d %s\n", method, target, st, err.msg);
    return st;
}

static int apif(const char *method, const char *target, const char *ctype, const char *fmt, ...)
    REEF_PRINTF(4, 5);
static int apif(const char *method, const char *target, const char *ctype, const char *fmt, ...)
{
    struct reef_buf b = REEF_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    reef_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    int st = api(method, target, ctype, b.data, NULL);
    reef_buf_free(&b);
    return st;
}

#define MERGE "application/merge-patch+json"

static void setup(void)
{
    struct reef_err err = {0};
    uv_loop_init(&loop);
    env.loop = &loop;
    CHECK_INT(reef_store_open(NULL, NULL, &env.store, &err), ==, 0);
    struct reef_apiserver_opts o = {.loop = &loop, .store = env.store};
    CHECK_INT(reef_apiserver_new(&o, &env.api, &err), ==, 0);
    snprintf(env.user.name, sizeof(env.user.name), "system:admin");
    snprintf(env.user.groups[0], sizeof(env.user.groups[0]), "system:masters");
    env.user.ngroups = 1;
    CHECK_INT(api("POST", "/api/v1/namespaces", NULL, "{\"metadata\":{\"name\":\"" NS "\"}}", NULL),
              ==, 201);
    CHECK_INT(reef_workload_start(&env, &wl, &err), ==, 0);
    fake_now = reef__api_now_ms();
    reef__wl_set_clock(wl, fake_clock, NULL);
}

static void teardown(void)
{
    reef_workload_stop(wl);
    uv_run(&loop, UV_RUN_NOWAIT);
    reef_apiserver_shutdown(env.api);
    reef_apiserver_free(env.api);
    reef_store_close(env.store);
    CHECK_INT(uv_loop_close(&loop), ==, 0);
}

/* ---- reading objects ---- */

struct objs {
    struct wl_obj o[64];
    int n;
};

static int collect_objs(void *arg, const struct reef_store_item *it)
{
    struct objs *s = arg;
    if (s->n >= 64)
        return -E2BIG;
    char *j = strndup(it->object, it->len);
    CHECK(j);
    CHECK_INT(reef__wl_obj_parse(&s->o[s->n], j, it->len), ==, 0);
    s->n++;
    return 0;
}

static void objs_list(struct objs *s, const char *resource)
{
    memset(s, 0, sizeof(*s));
    struct reef_store_list_opts lo = {.namespace = NS};
    CHECK_INT(reef_store_list(env.store, resource, &lo, collect_objs, s, NULL, NULL), ==, 0);
}

static void objs_free(struct objs *s)
{
    for (int i = 0; i < s->n; i++)
        reef__wl_obj_free(&s->o[i]);
    s->n = 0;
}

static void obj_get(struct wl_obj *o, const char *resource, const char *name)
{
    char *j = NULL;
    size_t len = 0;
    CHECK_INT(reef_store_get(env.store, resource, NS, name, &j, &len, NULL, NULL), ==, 0);
    CHECK_INT(reef__wl_obj_parse(o, j, len), ==, 0);
}

static const char *str_of(const struct wl_obj *o, const char *path)
{
    static char buf[8][1024];
    static int k;
    char *b = buf[k++ % 8];
    reef__wl_str(o, path, b, 1024);
    return b;
}

static bool pod_ready(const struct wl_obj *p)
{
    int c = reef__wl_find(p, "status.conditions");
    struct reef_json_iter it = reef_json_iter(&p->d, c);
    while (reef_json_next(&p->d, &it)) {
        int t = reef_json_member(&p->d, it.val, "type");
        int s = reef_json_member(&p->d, it.val, "status");
        if (t >= 0 && reef_json_str_eq(&p->d, t, "Ready") && s >= 0 &&
            reef_json_str_eq(&p->d, s, "True"))
            return true;
    }
    return false;
}

static bool pod_deleting(const struct wl_obj *p)
{
    return reef__wl_find(p, "metadata.deletionTimestamp") >= 0;
}

/* Pods not being deleted, and how many are ready. */
static int count_pods(int *ready)
{
    struct objs s;
    objs_list(&s, "pods");
    int n = 0, r = 0;
    for (int i = 0; i < s.n; i++) {
        if (pod_deleting(&s.o[i]))
            continue;
        n++;
        r += pod_ready(&s.o[i]);
    }
    objs_free(&s);
    if (ready)
        *ready = r;
    return n;
}

/* The fake kubelet: up to max pods (< 0: all) become Running and Ready now. */
static int kubelet_ready(int max)
{
    struct objs s;
    objs_list(&s, "pods");
    int done = 0;
    char ts[32];
    reef_ctl_time(fake_now, ts);
    for (int i = 0; i < s.n && (max < 0 || done < max); i++) {
        if (pod_ready(&s.o[i]) || pod_deleting(&s.o[i]))
            continue;
        char target[600];
        snprintf(target, sizeof(target), "/api/v1/namespaces/" NS "/pods/%s/status",
                 str_of(&s.o[i], "metadata.name"));
        CHECK_INT(apif("PATCH", target, MERGE,
                       "{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
                       "\"status\":\"True\",\"lastTransitionTime\":\"%s\"}]}}",
                       ts),
                  ==, 200);
        done++;
    }
    objs_free(&s);
    settle();
    return done;
}

/* The fake kubelet removes the pods being deleted (their containers stopped). */
static int kubelet_finish_deletes(void)
{
    struct objs s;
    objs_list(&s, "pods");
    int done = 0;
    for (int i = 0; i < s.n; i++) {
        if (!pod_deleting(&s.o[i]))
            continue;
        char target[600];
        snprintf(target, sizeof(target), "/api/v1/namespaces/" NS "/pods/%s?gracePeriodSeconds=0",
                 str_of(&s.o[i], "metadata.name"));
        CHECK_INT(api("DELETE", target, NULL, NULL, NULL), ==, 200);
        done++;
    }
    objs_free(&s);
    settle();
    return done;
}

/* How many events of reason have exactly this message. */
static int count_events(const char *reason, const char *message)
{
    struct objs s;
    objs_list(&s, "events");
    int n = 0;
    for (int i = 0; i < s.n; i++)
        if (strcmp(str_of(&s.o[i], "reason"), reason) == 0 &&
            (!message || strcmp(str_of(&s.o[i], "message"), message) == 0))
            n++;
    objs_free(&s);
    return n;
}

#endif
