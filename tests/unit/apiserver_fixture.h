/* apiserver_fixture: what the orchestrate/apiserver unit tests share (static, included by each
 * test program): the server (store in memory, API server, HTTP server) on its own loop in a thread
 * on 127.0.0.1, a synchronous HTTP client for requests to it, and the ConfigMap manifest macro CM.
 * Each test runs in a forked child, so the static state here is per test. */
#ifndef REEF_TESTS_UNIT_APISERVER_FIXTURE_H
#define REEF_TESTS_UNIT_APISERVER_FIXTURE_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/http_client.h"
#include "core/json.h"
#include "orchestrate/apiserver.h"
#include "tests/unit/test.h"

#define TOKEN "good-token"

struct srv {
    pthread_t th;
    uv_loop_t loop;
    uv_async_t stop, compact;
    struct reef_store *store;
    struct reef_apiserver *api;
    struct reef_http_server *http;
    int ready[2];
    int port;
    atomic_int compacted;
};
static struct srv S;

static inline int check_token(void *ud, const char *token, struct reef_apiserver_user *user)
{
    (void)ud;
    if (strcmp(token, TOKEN) != 0)
        return 0;
    snprintf(user->name, sizeof(user->name), "admin");
    return 1;
}

static inline void on_closed(void *ud)
{
    struct srv *s = ud;
    reef_http_server_free(s->http);
    reef_apiserver_free(s->api);
    uv_close((uv_handle_t *)&s->compact, NULL);
}

static inline void on_stop(uv_async_t *a)
{
    struct srv *s = a->data;
    uv_close((uv_handle_t *)&s->stop, NULL);
    reef_apiserver_shutdown(s->api);
    reef_http_server_shutdown(s->http, 500, on_closed, s);
}

static inline void on_compact(uv_async_t *a)
{
    struct srv *s = a->data;
    struct reef_store_opts o = {0};
    (void)o;
    int64_t c = 0;
    /* far in the future: everything but the last revisions goes */
    reef_store_compact(s->store, reef__api_now_ms() + 365LL * 86400 * 1000, &c, NULL);
    atomic_store(&s->compacted, (int)c);
}

static inline void *srv_main(void *arg)
{
    struct srv *s = arg;
    struct reef_err err = {0};
    uv_loop_init(&s->loop);
    uv_async_init(&s->loop, &s->stop, on_stop);
    uv_async_init(&s->loop, &s->compact, on_compact);
    s->stop.data = s->compact.data = s;
    struct reef_store_opts so = {.keep_revisions = 2};
    if (reef_store_open(NULL, &so, &s->store, &err) < 0) {
        fprintf(stderr, "store: %s\n", err.msg);
        exit(1);
    }
    struct reef_apiserver_opts ao = {
        .loop = &s->loop, .store = s->store, .authn_token = check_token};
    if (reef_apiserver_new(&ao, &s->api, &err) < 0) {
        fprintf(stderr, "apiserver: %s\n", err.msg);
        exit(1);
    }
    struct reef_http_server_opts ho = {.addr = "127.0.0.1",
                                       .handler = reef_apiserver_handle,
                                       .on_head = reef_apiserver_on_head,
                                       .ud = s->api,
                                       .max_connections = 8192};
    s->http = reef_http_server_new(&s->loop, &ho, &err);
    if (!s->http) {
        fprintf(stderr, "http: %s\n", err.msg);
        exit(1);
    }
    s->port = reef_http_server_port(s->http);
    (void)!write(s->ready[1], "x", 1);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    reef_store_close(s->store);
    uv_loop_close(&s->loop);
    return NULL;
}

static inline void srv_start(void)
{
    signal(SIGPIPE, SIG_IGN);
    memset(&S, 0, sizeof(S));
    CHECK(pipe(S.ready) == 0);
    CHECK(pthread_create(&S.th, NULL, srv_main, &S) == 0);
    char c;
    CHECK(read(S.ready[0], &c, 1) == 1);
}

static inline void srv_stop(void)
{
    uv_async_send(&S.stop);
    pthread_join(S.th, NULL);
    close(S.ready[0]);
    close(S.ready[1]);
}

/* ---- client ---- */

struct resp {
    int status;
    char *body;
    char ctype[256];
    struct reef_json_doc d;
    bool json;
};

static inline void resp_free(struct resp *r)
{
    reef_json_doc_free(&r->d);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static inline struct resp reqn(const char *method, const char *path, const char *ctype,
                               const char *body, size_t body_len, const char *token,
                               const char *accept);
static inline struct resp req(const char *method, const char *path, const char *ctype,
                              const char *body, const char *token, const char *accept)
{
    return reqn(method, path, ctype, body, body ? strlen(body) : 0, token, accept);
}

static inline struct resp reqn(const char *method, const char *path, const char *ctype,
                               const char *body, size_t body_len, const char *token,
                               const char *accept)
{
    char url[2048];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", S.port, path);
    struct reef_http_header h[2];
    size_t nh = 0;
    if (ctype)
        h[nh++] = (struct reef_http_header){"Content-Type", ctype};
    if (accept)
        h[nh++] = (struct reef_http_header){"Accept", accept};
    struct reef_http_request rq = {.method = method,
                                   .url = url,
                                   .headers = h,
                                   .nheaders = nh,
                                   .body = body,
                                   .body_len = body_len,
                                   .bearer_token = token};
    struct reef_http_result res = {0};
    struct reef_err err = {0};
    struct resp r = {0};
    reef_json_doc_init(&r.d);
    if (reef_http_fetch(NULL, &rq, &res, &err) < 0)
        TEST_FAIL("%s %s: %s", method, path, err.msg);
    r.status = res.status;
    r.body = res.body;
    res.body = NULL;
    const char *ct = reef_http_result_header(&res, "Content-Type");
    snprintf(r.ctype, sizeof(r.ctype), "%s", ct ? ct : "");
    reef_http_result_free(&res);
    r.json = r.body && reef_json_parse(&r.d, r.body, strlen(r.body), NULL, NULL) == 0;
    return r;
}

static inline struct resp get(const char *path)
{
    return req("GET", path, NULL, NULL, TOKEN, NULL);
}
static inline struct resp post(const char *path, const char *body)
{
    return req("POST", path, "application/json", body, TOKEN, NULL);
}

/* A string at path of the response's JSON, or "" */
static inline const char *js(struct resp *r, const char *path)
{
    static char buf[4][1024];
    static int i;
    char *b = buf[i++ % 4];
    b[0] = '\0';
    if (!r->json)
        return b;
    int v = reef_json_find(&r->d, REEF_JSON_ROOT, path, NULL);
    if (v < 0)
        return b;
    if (reef_json_kind(&r->d, v) == REEF_JSON_STRING) {
        reef_json_get_str(&r->d, v, b, 1024, NULL);
    } else {
        size_t n;
        const char *raw = reef_json_raw(&r->d, v, &n);
        snprintf(b, 1024, "%.*s", (int)n, raw);
    }
    return b;
}

#define CM(name, extra)                                                                            \
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" name "\"" extra      \
    "},\"data\":{\"a\":\"1\"}}"

#endif
