/* apiserver: lifecycle, authentication, routing, Status bodies and the small fixed endpoints. */
#include "orchestrate/apiserver.h"
#include "orchestrate/apiserver_bind.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

int64_t reef__api_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void reef__api_send_json(struct reef_http_res *res, int code, const struct reef_buf *b)
{
    reef_http_res_send(res, code, "application/json", b->data, b->len);
}

void reef__api_status(struct reef_http_res *res, int code, const char *reason, const char *name,
                      const struct reef__api_res *r, const char *causes, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct reef_buf b;
    reef_buf_init(&b);
    struct reef_json_writer w;
    reef_json_writer_init(&w, &b, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "kind");
    reef_json_put_str(&w, "Status");
    reef_json_key(&w, "apiVersion");
    reef_json_put_str(&w, "v1");
    reef_json_key(&w, "metadata");
    reef_json_begin_object(&w);
    reef_json_end_object(&w);
    reef_json_key(&w, "status");
    reef_json_put_str(&w, "Failure");
    reef_json_key(&w, "message");
    reef_json_put_str(&w, msg);
    reef_json_key(&w, "reason");
    reef_json_put_str(&w, reason);
    if (name || r || causes) {
        reef_json_key(&w, "details");
        reef_json_begin_object(&w);
        if (name) {
            reef_json_key(&w, "name");
            reef_json_put_str(&w, name);
        }
        if (r) {
            reef_json_key(&w, "group");
            reef_json_put_str(&w, r->group);
            reef_json_key(&w, "kind");
            reef_json_put_str(&w, code == 422 ? r->kind : r->plural);
        }
        if (causes) {
            reef_json_key(&w, "causes");
            reef_json_put_raw(&w, causes, strlen(causes));
        }
        reef_json_end_object(&w);
    }
    reef_json_key(&w, "code");
    reef_json_put_int(&w, code);
    reef_json_end_object(&w);
    if (reef_json_finish(&w, NULL) < 0) {
        reef_http_res_send(res, 500, "text/plain", "internal error", 14);
    } else {
        reef__api_send_json(res, code, &b);
    }
    reef_buf_free(&b);
}

void reef__api_qualified(const struct reef__api_res *r, char *out, size_t size)
{
    if (r->group[0])
        snprintf(out, size, "%s.%s", r->plural, r->group);
    else
        snprintf(out, size, "%s", r->plural);
}

void reef__api_qualified_kind(const struct reef__api_res *r, char *out, size_t size)
{
    if (r->group[0])
        snprintf(out, size, "%s.%s", r->kind, r->group);
    else
        snprintf(out, size, "%s", r->kind);
}

void reef__api_error(struct reef__api_call *c, int code, const struct reef_err *err)
{
    char q[128];
    reef__api_qualified(c->r, q, sizeof(q));
    const char *msg = err && err->msg[0] ? err->msg : "internal error";
    switch (code) {
    case -ENOENT:
        reef__api_status(c->res, 404, "NotFound", c->name, c->r, NULL, "%s \"%s\" not found", q,
                         c->name);
        return;
    case -EEXIST:
        reef__api_status(c->res, 409, "AlreadyExists", c->name, c->r, NULL,
                         "%s \"%s\" already exists", q, c->name);
        return;
    case -ESTALE:
        reef__api_status(c->res, 409, "Conflict", c->name, c->r, NULL,
                         "Operation cannot be fulfilled on %s \"%s\": the object has been "
                         "modified; please apply your changes to the latest version and try "
                         "again",
                         q, c->name);
        return;
    case REEF_STORE_EXPIRED:
        reef__api_status(c->res, 410, "Expired", NULL, NULL, NULL, "%s", msg);
        return;
    case -E2BIG:
        reef__api_status(c->res, 413, "RequestEntityTooLarge", NULL, NULL, NULL, "%s", msg);
        return;
    case -EINVAL:
    case -EBADMSG:
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", msg);
        return;
    default:
        reef__api_status(c->res, 500, "InternalError", NULL, NULL, NULL, "%s", msg);
        return;
    }
}

/* ---- authentication ---- */

static bool authenticate(struct reef__api_call *c)
{
    struct reef_http_req *req = c->req;
    if (req->peer_verified && req->peer_cn && req->peer_cn[0]) {
        reef_strlcpy(c->user.name, req->peer_cn, sizeof(c->user.name));
        for (size_t i = 0; req->peer_orgs && req->peer_orgs[i] && i < REEF_APISERVER_MAX_GROUPS;
             i++)
            reef_strlcpy(c->user.groups[c->user.ngroups++], req->peer_orgs[i],
                         sizeof(c->user.groups[0]));
        return true;
    }
    const char *h = reef_http_req_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !c->a->authn_token)
        return false;
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    if (!*tok)
        return false;
    return c->a->authn_token(c->a->authn_ud, tok, &c->user) == 1;
}

/* ---- routing ---- */

static bool accept_has(const struct reef_http_req *req, const char *param)
{
    const char *acc = reef_http_req_header(req, "Accept");
    return acc && strstr(acc, param) != NULL;
}

/* Splits path into segments (in place in buf). Returns the count, or -1 when too many. */
static int split_path(const char *path, char *buf, size_t size, char **seg, int max)
{
    if (reef_strlcpy(buf, path, size) >= size)
        return -1;
    int n = 0;
    char *p = buf;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        if (n == max)
            return -1;
        seg[n++] = p;
        while (*p && *p != '/')
            p++;
        if (*p)
            *p++ = '\0';
    }
    return n;
}

static void send_version(struct reef_http_res *res)
{
    static const char v[] = "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.0+reef\","
                            "\"gitCommit\":\"0\",\"gitTreeState\":\"clean\","
                            "\"buildDate\":\"2026-01-01T00:00:00Z\",\"goVersion\":\"go1.23\","
                            "\"compiler\":\"gc\",\"platform\":\"linux/amd64\"}";
    reef_http_res_send(res, 200, "application/json", v, sizeof(v) - 1);
}

static void method_not_allowed(struct reef__api_call *c)
{
    reef__api_status(c->res, 405, "MethodNotAllowed", NULL, NULL, NULL,
                     "the server does not allow this method on the requested resource");
}

static void not_found(struct reef__api_call *c)
{
    reef__api_status(c->res, 404, "NotFound", NULL, NULL, NULL,
                     "the server could not find the requested resource");
}

/* log, exec and attach: handed to the agent of the pod's node. */
static void pod_stream(struct reef__api_call *c)
{
    if (c->local) {
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                         "%s cannot be called in-process", c->sub);
        return;
    }
    bool get = strcmp(c->req->method, "GET") == 0;
    if (strcmp(c->sub, "log") == 0 ? !get : !(get || strcmp(c->req->method, "POST") == 0))
        return method_not_allowed(c);
    char *obj = NULL;
    size_t len = 0;
    struct reef_err err = {0};
    int r = reef_store_get(c->a->store, c->r->store_key, c->ns, c->name, &obj, &len, NULL, &err);
    if (r < 0) {
        reef__api_error(c, r, &err);
        return;
    }
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    char node[REEF_STORE_MAX_NAME + 1] = "";
    if (reef_json_parse(&d, obj, len, NULL, NULL) == 0) {
        int v = reef_json_find(&d, REEF_JSON_ROOT, "spec.nodeName", NULL);
        if (v >= 0 && reef_json_get_str(&d, v, node, sizeof(node), NULL) < 0)
            node[0] = '\0';
    }
    reef_json_doc_free(&d);
    struct reef__api_node_handler *h = c->a->node_handlers;
    while (h && (!node[0] || strcmp(h->node, node) != 0))
        h = h->next;
    if (!node[0]) {
        reef__api_status(c->res, 400, "BadRequest", c->name, c->r, NULL,
                         "pod %s does not have a host assigned", c->name);
    } else if (!h) {
        reef__api_status(c->res, 503, "ServiceUnavailable", c->name, c->r, NULL,
                         "no agent of node %s is connected to this server", node);
    } else {
        h->fn(h->ud, c->sub, obj, len, c->req, c->res);
    }
    free(obj);
}

static void dispatch(struct reef__api_call *c)
{
    const char *m = c->req->method;
    bool is_get = strcmp(m, "GET") == 0;
    if (!c->name[0]) {
        if (is_get) {
            char w[16] = "";
            if (reef_http_req_query(c->req, "watch", w, sizeof(w)) > 0 &&
                (strcmp(w, "true") == 0 || strcmp(w, "1") == 0))
                reef__api_watch(c);
            else
                reef__api_list(c);
        } else if (strcmp(m, "POST") == 0) {
            if (c->r->namespaced && !c->ns[0])
                return method_not_allowed(c);
            reef__api_create(c);
        } else if (strcmp(m, "DELETE") == 0 && strcmp(c->r->plural, "namespaces") != 0) {
            reef__api_delete_collection(c);
        } else {
            method_not_allowed(c);
        }
        return;
    }
    if (strcmp(c->sub, "binding") == 0 && (c->r->subs & REEF__API_SUB_BINDING))
        return reef__api_bind(c);
    if (c->sub[0]) {
        bool ok = (strcmp(c->sub, "status") == 0 && (c->r->subs & REEF__API_SUB_STATUS)) ||
                  (strcmp(c->sub, "scale") == 0 && (c->r->subs & REEF__API_SUB_SCALE));
        if (!ok) {
            if ((strcmp(c->sub, "log") == 0 && (c->r->subs & REEF__API_SUB_LOG)) ||
                (strcmp(c->sub, "exec") == 0 && (c->r->subs & REEF__API_SUB_EXEC)) ||
                (strcmp(c->sub, "attach") == 0 && (c->r->subs & REEF__API_SUB_EXEC)))
                pod_stream(c);
            else
                not_found(c);
            return;
        }
    }
    if (is_get)
        reef__api_get(c);
    else if (strcmp(m, "PUT") == 0)
        reef__api_update(c);
    else if (strcmp(m, "PATCH") == 0)
        reef__api_patch(c);
    else if (strcmp(m, "DELETE") == 0 && !c->sub[0])
        reef__api_delete(c);
    else
        method_not_allowed(c);
}

static bool copy_seg(char *dst, size_t size, const char *s)
{
    return reef_strlcpy(dst, s, size) < size;
}

/* /api/v1/... or /apis/g/v/...: seg points after the group/version. */
static void route_resource(struct reef__api_call *c, const char *group, const char *version,
                           char **seg, int n)
{
    int i = 0;
    /* namespaces/{ns}/{resource}... ; namespaces/{name}[/status] is the namespace itself */
    if (n >= 3 && strcmp(seg[0], "namespaces") == 0 &&
        !(n == 3 && !reef__api_res_find(group, version, seg[2]))) {
        if (!copy_seg(c->ns, sizeof(c->ns), seg[1]))
            return not_found(c);
        i = 2;
    }
    if (i >= n)
        return not_found(c);
    c->r = reef__api_res_find(group, version, seg[i]);
    if (!c->r)
        return not_found(c);
    if (c->r->namespaced != (c->ns[0] != '\0') && !(c->r->namespaced && n - i == 1 && !c->ns[0]))
        return not_found(c);
    if (n - i >= 2 && !copy_seg(c->name, sizeof(c->name), seg[i + 1]))
        return not_found(c);
    if (n - i >= 3 && !copy_seg(c->sub, sizeof(c->sub), seg[i + 2]))
        return not_found(c);
    if (n - i > 3)
        return not_found(c);
    dispatch(c);
}

/* The Prometheus text format, as kube-apiserver serves /metrics: the store's and the API
 * server's own counters. */
static void send_metrics(struct reef_apiserver *a, struct reef_http_res *res)
{
    struct reef_store_stats st;
    reef_store_stats(a->store, &st);
    const struct {
        const char *name, *type, *help;
        double v;
    } m[] = {
        {"reef_store_revision", "gauge", "The store's last revision.", (double)st.rev},
        {"reef_store_compacted_revision", "gauge", "Watches from below this revision expire.",
         (double)st.compacted_rev},
        {"reef_store_commits_total", "counter", "Write transactions committed.",
         (double)st.commits},
        {"reef_store_syncs_total", "counter",
         "Disk syncs of the store's log, each making every write committed before it durable.",
         (double)st.syncs},
        {"reef_store_sync_duration_seconds_sum", "counter",
         "Time the store's syncs spent in the disk (with reef_store_syncs_total: the mean).",
         (double)st.sync_ns / 1e9},
        {"reef_store_heartbeats_total", "counter", "Heartbeat writes held in memory.",
         (double)st.heartbeats},
        {"reef_store_heartbeats_pending", "gauge", "Heartbeat changes not yet on disk.",
         (double)st.pending},
        {"reef_store_watchers", "gauge", "Watchers of the store, in-process ones included.",
         (double)st.watchers},
        {"reef_apiserver_watches", "gauge", "Watch requests open.", (double)a->nwatches},
    };
    struct reef_buf b;
    reef_buf_init(&b);
    for (size_t i = 0; i < REEF_ARRAY_LEN(m); i++)
        reef_buf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", m[i].name, m[i].help,
                        m[i].name, m[i].type, m[i].name, m[i].v);
    reef_http_res_send(res, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
    reef_buf_free(&b);
}

static void handle(struct reef_apiserver *a, struct reef_http_req *req, struct reef_http_res *res,
                   const struct reef_apiserver_user *local)
{
    struct reef__api_call call = {.a = a, .req = req, .res = res, .local = local != NULL};
    struct reef__api_call *c = &call;
    const char *p = req->path;
    if (strcmp(p, "/healthz") == 0 || strcmp(p, "/readyz") == 0 || strcmp(p, "/livez") == 0) {
        /* A store that can no longer write is not healthy: a restart recovers it. */
        const char *failed = reef_store_failure(a->store);
        if (failed)
            reef_http_res_send(res, 500, "text/plain", failed, strlen(failed));
        else
            reef_http_res_send(res, 200, "text/plain", "ok", 2);
        return;
    }
    if (local)
        c->user = *local;
    else if (!authenticate(c)) {
        reef__api_status(res, 401, "Unauthorized", NULL, NULL, NULL, "Unauthorized");
        return;
    }
    if (c->a->stopping) {
        reef__api_status(res, 503, "ServiceUnavailable", NULL, NULL, NULL,
                         "the server is shutting down");
        return;
    }
    /* A store that lost writes takes no more: say why rather than what a read on the failed
     * disk happens to return. */
    const char *failed = reef_store_failure(a->store);
    if (failed && strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        reef__api_status(res, 500, "InternalError", NULL, NULL, NULL, "%s", failed);
        return;
    }
    c->table = accept_has(req, "as=Table");
    if (c->table) {
        char inc[32];
        ssize_t n = reef_http_req_query(req, "includeObject", inc, sizeof(inc));
        if (reef_table_parse_include(n > 0 ? inc : NULL, &c->include) < 0) {
            reef__api_status(res, 400, "BadRequest", NULL, NULL, NULL,
                             "includeObject: unsupported value");
            return;
        }
    }
    if (strcmp(p, "/version") == 0 || strcmp(p, "/version/") == 0)
        return send_version(res);
    if (strcmp(p, "/metrics") == 0)
        return send_metrics(a, res);
    if (strcmp(p, "/openapi/v2") == 0) {
        reef_http_res_send(res, 200, "application/octet-stream", NULL, 0);
        return;
    }
    char buf[2048];
    char *seg[12];
    int n = split_path(p, buf, sizeof(buf), seg, 12);
    if (n < 0)
        return not_found(c);
    if (n >= 1 && strcmp(seg[0], "api") == 0) {
        if (n <= 2)
            return reef__api_discovery(c, p);
        if (strcmp(seg[1], "v1") != 0)
            return not_found(c);
        return route_resource(c, "", "v1", seg + 2, n - 2);
    }
    if (n >= 1 && strcmp(seg[0], "apis") == 0) {
        if (n >= 4 && strcmp(seg[1], REEF__API_METRICS_GROUP) == 0)
            return reef__api_metrics(c, seg + 1, n - 1);
        if (n <= 3)
            return reef__api_discovery(c, p);
        return route_resource(c, seg[1], seg[2], seg + 3, n - 3);
    }
    not_found(c);
}

void reef_apiserver_handle(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    handle(ud, req, res, NULL);
}

struct local_call {
    int status;
    bool done;
    struct reef_buf *out;
    struct reef_buf body; /* when the caller passed no out: to read a Status message */
};

static void local_head(void *ud, int status, const char *ctype, const char *headers)
{
    struct local_call *l = ud;
    (void)ctype;
    (void)headers;
    l->status = status;
}

static void local_data(void *ud, const void *data, size_t len)
{
    struct local_call *l = ud;
    reef_buf_append(l->out ? l->out : &l->body, data, len);
}

static void local_end(void *ud)
{
    struct local_call *l = ud;
    l->done = true;
}

int reef_apiserver_call(struct reef_apiserver *a, const struct reef_apiserver_user *user,
                        const char *method, const char *target, const char *content_type,
                        const char *body, size_t len, struct reef_buf *out, struct reef_err *err)
{
    const char *q = strchr(target, '?');
    if (q && (strstr(q, "watch=true") || strstr(q, "watch=1"))) {
        return reef_err_set(err, -EOPNOTSUPP, "%s %s: watches are not in-process calls", method,
                            target);
    }
    struct local_call l = {.out = out};
    size_t out_start = out ? out->len : 0;
    struct reef_http_local cb = {local_head, local_data, local_end, &l};
    struct reef_http_header h[2] = {
        {"Content-Type", content_type ? content_type : "application/json"},
        {"Accept", "application/json"}};
    struct reef_http_res *res = reef_http_local_new(method, target, h, 2, body, len, &cb);
    if (!res)
        return reef_err_set(err, -ENOMEM, "%s %s: out of memory", method, target);
    handle(a, reef_http_res_req(res), res, user);
    if (!l.done) {
        reef_http_local_cancel(res);
        reef_buf_free(&l.body);
        return reef_err_set(err, -EOPNOTSUPP, "%s %s: not answered at once", method, target);
    }
    if (l.status >= 400 && err) {
        const struct reef_buf *b = out ? out : &l.body;
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        char msg[REEF_ERR_MSG_MAX] = "";
        if (b->len > out_start &&
            reef_json_parse(&d, b->data + out_start, b->len - out_start, NULL, NULL) == 0) {
            int v = reef_json_member(&d, REEF_JSON_ROOT, "message");
            if (v >= 0 && reef_json_get_str(&d, v, msg, sizeof(msg), NULL) < 0)
                msg[0] = '\0';
        }
        reef_err_set(err, -EIO, "%s", msg[0] ? msg : reef_http_status_text(l.status));
        reef_json_doc_free(&d);
    }
    reef_buf_free(&l.body);
    return l.status;
}

int reef_apiserver_set_node_handler(struct reef_apiserver *a, const char *node,
                                    reef_apiserver_pod_stream_fn fn, void *ud)
{
    struct reef__api_node_handler **pp = &a->node_handlers;
    while (*pp && strcmp((*pp)->node, node) != 0)
        pp = &(*pp)->next;
    if (*pp) {
        struct reef__api_node_handler *h = *pp;
        if (fn) {
            h->fn = fn;
            h->ud = ud;
        } else {
            *pp = h->next;
            free(h);
        }
        return 0;
    }
    if (!fn)
        return 0;
    size_t n = strlen(node) + 1;
    struct reef__api_node_handler *h = malloc(sizeof(*h) + n);
    if (!h)
        return -ENOMEM;
    memcpy(h->node, node, n);
    h->fn = fn;
    h->ud = ud;
    h->next = a->node_handlers;
    a->node_handlers = h;
    return 0;
}

void reef_apiserver_on_head(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    struct reef__api_call call = {.a = ud, .req = req, .res = res};
    const char *p = req->path;
    if (strcmp(p, "/healthz") == 0 || strcmp(p, "/readyz") == 0 || strcmp(p, "/livez") == 0)
        return;
    if (!authenticate(&call))
        reef__api_status(res, 401, "Unauthorized", NULL, NULL, NULL, "Unauthorized");
}

/* ---- lifecycle ---- */

int reef__api_exists(struct reef_store *s, const char *resource, const char *ns, const char *name,
                     struct reef_err *err)
{
    char *obj = NULL;
    int r = reef_store_get(s, resource, ns, name, &obj, NULL, NULL, err);
    free(obj);
    return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

static int ensure_namespace(struct reef_store *s, const char *name, struct reef_err *err)
{
    int r = reef__api_exists(s, "namespaces", "", name, err);
    if (r != 0)
        return r < 0 ? r : 0;
    char obj[512];
    int len =
        snprintf(obj, sizeof(obj),
                 "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\","
                 "\"labels\":{\"kubernetes.io/metadata.name\":\"%s\"}},\"spec\":{"
                 "\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}",
                 name, name);
    struct reef_store_cmd cmd = {.op = REEF_STORE_CREATE,
                                 .resource = "namespaces",
                                 .namespace = "",
                                 .name = name,
                                 .object = obj,
                                 .object_len = (size_t)len,
                                 .timestamp_ms = reef__api_now_ms()};
    r = reef_store_new_uid(cmd.uid, err);
    if (r < 0)
        return r;
    r = reef_store_apply(s, &cmd, NULL, err);
    return r == -EEXIST ? 0 : r;
}

static int ensure_kubernetes_service(struct reef_store *s, int port, struct reef_err *err)
{
    int r = reef__api_exists(s, "services", "default", "kubernetes", err);
    if (r != 0)
        return r < 0 ? r : 0;
    char obj[1024];
    int len = snprintf(obj, sizeof(obj),
                       "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":"
                       "\"kubernetes\",\"namespace\":\"default\",\"labels\":{\"component\":"
                       "\"apiserver\",\"provider\":\"kubernetes\"}},\"spec\":{\"ports\":[{"
                       "\"name\":\"https\",\"protocol\":\"TCP\",\"port\":443,\"targetPort\":%d}],"
                       "\"clusterIP\":\"10.43.0.1\",\"clusterIPs\":[\"10.43.0.1\"],\"type\":"
                       "\"ClusterIP\",\"sessionAffinity\":\"None\",\"ipFamilies\":[\"IPv4\"],"
                       "\"ipFamilyPolicy\":\"SingleStack\",\"internalTrafficPolicy\":\"Cluster\"},"
                       "\"status\":{\"loadBalancer\":{}}}",
                       port);
    struct reef_store_cmd cmd = {.op = REEF_STORE_CREATE,
                                 .resource = "services",
                                 .namespace = "default",
                                 .name = "kubernetes",
                                 .object = obj,
                                 .object_len = (size_t)len,
                                 .timestamp_ms = reef__api_now_ms()};
    r = reef_store_new_uid(cmd.uid, err);
    if (r < 0)
        return r;
    r = reef_store_apply(s, &cmd, NULL, err);
    return r == -EEXIST ? 0 : r;
}

int reef_apiserver_new(const struct reef_apiserver_opts *opts, struct reef_apiserver **out,
                       struct reef_err *err)
{
    *out = NULL;
    if (!opts || !opts->loop || !opts->store)
        return reef_err_set(err, -EINVAL, "apiserver: loop and store are required");
    struct reef_apiserver *a = calloc(1, sizeof(*a));
    if (!a)
        return reef_err_set(err, -ENOMEM, "apiserver: out of memory");
    a->loop = opts->loop;
    a->store = opts->store;
    a->authn_token = opts->authn_token;
    a->authn_ud = opts->authn_ud;
    a->watch_max_s = opts->watch_max_s;
    static const char *const ns[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
    for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        int r = ensure_namespace(a->store, ns[i], err);
        if (r < 0) {
            free(a);
            return reef_err_wrap(err, "apiserver: namespace %s", ns[i]);
        }
    }
    if (ensure_kubernetes_service(a->store, opts->https_port ? opts->https_port : 6443, err) < 0) {
        free(a);
        return reef_err_wrap(err, "apiserver: service kubernetes");
    }
    *out = a;
    return 0;
}

void reef_apiserver_shutdown(struct reef_apiserver *a)
{
    a->stopping = true;
    reef__api_watches_end(a);
}

void reef_apiserver_free(struct reef_apiserver *a)
{
    if (!a)
        return;
    reef__api_watches_end(a);
    reef_apiserver_group_commit(a, NULL, NULL);
    while (a->node_handlers) {
        struct reef__api_node_handler *h = a->node_handlers;
        a->node_handlers = h->next;
        free(h);
    }
    free(a);
}

size_t reef_apiserver_watches(const struct reef_apiserver *a)
{
    return a->nwatches;
}
