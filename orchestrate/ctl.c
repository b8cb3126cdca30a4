/* ctl: API calls and Events for the control loops. */
#include "orchestrate/ctl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"

int reef_ctl_call(const struct reef_ctl_env *env, const char *method, const char *target,
                  const char *content_type, const char *body, size_t len, struct reef_buf *out,
                  struct reef_err *err)
{
    return reef_apiserver_call(env->api, &env->user, method, target, content_type, body, len, out,
                               err);
}

void reef_ctl_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t reef_ctl_parse_time(const char *s)
{
    struct tm tm = {0};
    const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!p)
        return -1;
    int64_t ms = 0;
    if (*p == '.') {
        int64_t scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            ms += (*p - '0') * scale;
    }
    if (*p != 'Z' || p[1])
        return -1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h ^ 0xff; /* a separator, so ("ab","c") and ("a","bc") differ */
}

/* A member of the involved object's metadata (or the root for kind/apiVersion) into out. */
static void member(const struct reef_json_doc *d, const char *path, char *out, size_t size)
{
    out[0] = '\0';
    int v = reef_json_find(d, REEF_JSON_ROOT, path, NULL);
    if (v >= 0 && reef_json_get_str(d, v, out, size, NULL) < 0)
        out[0] = '\0';
}

void reef_ctl_event(const struct reef_ctl_env *env, const char *component, const char *host,
                    const char *obj, size_t obj_len, const char *type, const char *reason,
                    const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    char kind[64], api_version[64], ns[254], name[254], uid[64], rv[32];
    if (reef_json_parse(&d, obj, obj_len, NULL, NULL) < 0) {
        LOG_WARN("events", "event %s about an unreadable object dropped", reason);
        return;
    }
    member(&d, "kind", kind, sizeof(kind));
    member(&d, "apiVersion", api_version, sizeof(api_version));
    member(&d, "metadata.namespace", ns, sizeof(ns));
    member(&d, "metadata.name", name, sizeof(name));
    member(&d, "metadata.uid", uid, sizeof(uid));
    member(&d, "metadata.resourceVersion", rv, sizeof(rv));
    reef_json_doc_free(&d);
    const char *event_ns = ns[0] ? ns : "default";

    uint64_t h = fnv1a(fnv1a(fnv1a(fnv1a(0xcbf29ce484222325ULL, uid), reason), msg), component);
    char ev_name[300];
    snprintf(ev_name, sizeof(ev_name), "%.200s.%016llx", name, (unsigned long long)h);
    char now[32];
    reef_ctl_time(reef__api_now_ms(), now);

    struct reef_err err = {0};
    char path[600];
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events/%s", event_ns, ev_name);
    struct reef_buf out = REEF_BUF_INIT;
    int st = reef_ctl_call(env, "GET", path, NULL, NULL, 0, &out, &err);
    if (st == 200) {
        int64_t count = 1;
        reef_json_doc_init(&d);
        if (reef_json_parse(&d, out.data, out.len, NULL, NULL) == 0) {
            int v = reef_json_member(&d, REEF_JSON_ROOT, "count");
            if (v >= 0)
                reef_json_get_int(&d, v, &count, NULL);
        }
        reef_json_doc_free(&d);
        char patch[128];
        int n = snprintf(patch, sizeof(patch), "{\"count\":%lld,\"lastTimestamp\":\"%s\"}",
                         (long long)count + 1, now);
        out.len = 0;
        st = reef_ctl_call(env, "PATCH", path, "application/merge-patch+json", patch, (size_t)n,
                           &out, &err);
    } else {
        struct reef_buf b = REEF_BUF_INIT;
        struct reef_json_writer w;
        reef_json_writer_init(&w, &b, 0);
        reef_json_begin_object(&w);
        reef_json_key(&w, "apiVersion");
        reef_json_put_str(&w, "v1");
        reef_json_key(&w, "kind");
        reef_json_put_str(&w, "Event");
        reef_json_key(&w, "metadata");
        reef_json_begin_object(&w);
        reef_json_key(&w, "name");
        reef_json_put_str(&w, ev_name);
        reef_json_key(&w, "namespace");
        reef_json_put_str(&w, event_ns);
        reef_json_end_object(&w);
        reef_json_key(&w, "involvedObject");
        reef_json_begin_object(&w);
        const char *keys[] = {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion"};
        const char *vals[] = {kind, ns, name, uid, api_version, rv};
        for (size_t i = 0; i < 6; i++)
            if (vals[i][0]) {
                reef_json_key(&w, keys[i]);
                reef_json_put_str(&w, vals[i]);
            }
        reef_json_end_object(&w);
        reef_json_key(&w, "reason");
        reef_json_put_str(&w, reason);
        reef_json_key(&w, "message");
        reef_json_put_str(&w, msg);
        reef_json_key(&w, "source");
        reef_json_begin_object(&w);
        reef_json_key(&w, "component");
        reef_json_put_str(&w, component);
        if (host) {
            reef_json_key(&w, "host");
            reef_json_put_str(&w, host);
        }
        reef_json_end_object(&w);
        reef_json_key(&w, "firstTimestamp");
        reef_json_put_str(&w, now);
        reef_json_key(&w, "lastTimestamp");
        reef_json_put_str(&w, now);
        reef_json_key(&w, "count");
        reef_json_put_int(&w, 1);
        reef_json_key(&w, "type");
        reef_json_put_str(&w, type);
        reef_json_key(&w, "reportingComponent");
        reef_json_put_str(&w, component);
        reef_json_key(&w, "reportingInstance");
        reef_json_put_str(&w, host ? host : "");
        reef_json_end_object(&w);
        if (reef_json_finish(&w, &err) == 0) {
            snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events", event_ns);
            out.len = 0;
            st = reef_ctl_call(env, "POST", path, NULL, b.data, b.len, &out, &err);
        } else {
            st = -1;
        }
        reef_buf_free(&b);
    }
    if (st < 200 || st >= 300)
        LOG_WARN("events", "event %s for %s/%s: %s", reason, event_ns, name, err.msg);
    reef_buf_free(&out);
}

struct expired {
    int64_t before;
    char (*keys)[2][254];
    size_t n, cap;
};

static int collect_expired(void *arg, const struct reef_store_item *it)
{
    struct expired *e = arg;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    char last[40] = "";
    if (reef_json_parse(&d, it->object, it->len, NULL, NULL) == 0) {
        member(&d, "lastTimestamp", last, sizeof(last));
        if (!last[0])
            member(&d, "metadata.creationTimestamp", last, sizeof(last));
    }
    reef_json_doc_free(&d);
    int64_t t = reef_ctl_parse_time(last);
    if (t < 0 || t >= e->before)
        return 0;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        void *p = realloc(e->keys, cap * sizeof(*e->keys));
        if (!p)
            return -ENOMEM;
        e->keys = p;
        e->cap = cap;
    }
    snprintf(e->keys[e->n][0], 254, "%s", it->namespace);
    snprintf(e->keys[e->n][1], 254, "%s", it->name);
    e->n++;
    return 0;
}

int reef_ctl_events_expire(const struct reef_ctl_env *env, int64_t now_ms, int64_t ttl_ms)
{
    struct expired e = {.before = now_ms - (ttl_ms > 0 ? ttl_ms : 3600 * 1000)};
    struct reef_err err = {0};
    int r = reef_store_list(env->store, "events", NULL, collect_expired, &e, NULL, &err);
    int gone = 0;
    for (size_t i = 0; r == 0 && i < e.n; i++) {
        char path[600];
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events/%s", e.keys[i][0],
                 e.keys[i][1]);
        int st = reef_ctl_call(env, "DELETE", path, NULL, NULL, 0, NULL, &err);
        if (st == 200 || st == 202)
            gone++;
    }
    free(e.keys);
    if (r < 0)
        LOG_WARN("events", "expiring events: %s", err.msg);
    return gone;
}
