/* Tests for core/http_client against core/http_server over real loopback sockets: both on one
 * loop for the asynchronous API, the server on a thread for the synchronous wrapper. */
#include "core/http_client.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/http_server.h"
#include "tests/unit/http_fixture.h"
#include "tests/unit/test.h"

/* ---------- the server side ---------- */

static uv_loop_t *srv_loop;
static atomic_int watch_closed;

struct watch {
    uv_timer_t timer;
    struct reef_http_res *res;
    int n;
};

static void free_handle_data(uv_handle_t *h)
{
    free(h->data);
}

static void watch_tick(uv_timer_t *t)
{
    struct watch *w = t->data;
    char line[64];
    int n = snprintf(line, sizeof(line), "{\"event\":%d}\n", ++w->n);
    reef_http_res_write(w->res, line, (size_t)n);
}

static void watch_gone(void *ud, struct reef_http_res *res)
{
    struct watch *w = ud;
    uv_close((uv_handle_t *)&w->timer, free_handle_data);
    atomic_fetch_add(&watch_closed, 1);
}

struct slow {
    uv_timer_t timer;
    struct reef_http_res *res;
};

static void slow_fire(uv_timer_t *t)
{
    struct slow *s = t->data;
    if (s->res)
        reef_http_res_send(s->res, 200, "text/plain", "slow", 4);
    uv_close((uv_handle_t *)&s->timer, free_handle_data);
}

static void slow_gone(void *ud, struct reef_http_res *res)
{
    ((struct slow *)ud)->res = NULL;
}

static void handler(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    char q[256];
    const char *auth = reef_http_req_header(req, "authorization");
    if (strcmp(req->path, "/hello") == 0) {
        reef_http_res_header(res, "X-Reef", "yes");
        reef_http_res_send(res, 200, "text/plain", "hello", 5);
    } else if (strcmp(req->path, "/echo") == 0) {
        reef_http_res_send(res, 200, "application/octet-stream", req->body, req->body_len);
    } else if (strcmp(req->path, "/method") == 0) {
        char b[128];
        int n = snprintf(b, sizeof(b), "%s %zu %s", req->method, req->body_len, auth ? auth : "-");
        reef_http_res_send(res, 200, "text/plain", b, (size_t)n);
    } else if (strcmp(req->path, "/chunked") == 0 &&
               reef_http_req_query(req, "n", q, sizeof(q)) > 0) {
        size_t n = strtoul(q, NULL, 10);
        reef_http_res_begin(res, 200, "application/octet-stream");
        char buf[65536];
        for (size_t off = 0; off < n;) {
            size_t k = n - off < sizeof(buf) ? n - off : sizeof(buf);
            for (size_t i = 0; i < k; i++)
                buf[i] = (char)((off + i) * 31 + 7);
            reef_http_res_write(res, buf, k);
            off += k;
        }
        reef_http_res_end(res);
    } else if (strcmp(req->path, "/big") == 0 && reef_http_req_query(req, "n", q, sizeof(q)) > 0) {
        size_t n = strtoul(q, NULL, 10);
        char *b = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            b[i] = (char)(i * 31 + 7);
        reef_http_res_send(res, 200, "application/octet-stream", b, n);
        free(b);
    } else if (strcmp(req->path, "/watch") == 0) {
        struct watch *w = calloc(1, sizeof(*w));
        w->res = res;
        uv_timer_init(srv_loop, &w->timer);
        w->timer.data = w;
        reef_http_res_on_close(res, watch_gone, w);
        reef_http_res_begin(res, 200, "application/json");
        uv_timer_start(&w->timer, watch_tick, 10, 10);
    } else if (strcmp(req->path, "/slow") == 0) {
        struct slow *s = calloc(1, sizeof(*s));
        s->res = res;
        uv_timer_init(srv_loop, &s->timer);
        s->timer.data = s;
        reef_http_res_on_close(res, slow_gone, s);
        uv_timer_start(&s->timer, slow_fire, 300, 0);
    } else if (strcmp(req->path, "/auth") == 0) {
        if (auth && strcmp(auth, "Bearer sekret") == 0)
            reef_http_res_send(res, 200, "text/plain", "token ok", 8);
        else
            reef_http_res_send(res, 401, "text/plain", auth ? auth : "none",
                               auth ? strlen(auth) : 4);
    } else if (strcmp(req->path, "/identity") == 0) {
        char b[256];
        int n = snprintf(b, sizeof(b), "verified=%d cn=%s", req->peer_verified, req->peer_cn);
        reef_http_res_send(res, 200, "text/plain", b, (size_t)n);
    } else if (strcmp(req->path, "/redir") == 0) {
        char code[8] = "302";
        reef_http_req_query(req, "code", code, sizeof(code));
        reef_http_req_query(req, "to", q, sizeof(q));
        reef_http_res_header(res, "Location", q);
        reef_http_res_send(res, atoi(code), NULL, NULL, 0);
    } else if (strcmp(req->path, "/loop") == 0) {
        reef_http_res_header(res, "Location", "loop");
        reef_http_res_send(res, 301, NULL, NULL, 0);
    } else {
        reef_http_res_send(res, 404, "text/plain", "not found", 9);
    }
}

/* ---------- async harness: server and client on one loop ---------- */

static uv_loop_t loop;

static struct reef_http_server *server(struct reef_tls_config *tls, unsigned idle_ms)
{
    struct reef_err err = {0};
    struct reef_http_server_opts o = {
        .addr = "127.0.0.1", .handler = handler, .tls = tls, .idle_timeout_ms = idle_ms};
    struct reef_http_server *s = reef_http_server_new(srv_loop, &o, &err);
    if (!s)
        TEST_FAIL("server: %s", err.msg);
    return s;
}

static void server_closed(void *ud)
{
    reef_http_server_free(ud);
}

static void setup(void)
{
    CHECK_INT(uv_loop_init(&loop), ==, 0);
    srv_loop = &loop;
}

/* Everything closed and the loop empty. */
static void teardown(struct reef_http_client *cl, struct reef_http_server *s1,
                     struct reef_http_server *s2)
{
    if (cl)
        reef_http_client_free(cl);
    if (s1)
        reef_http_server_shutdown(s1, 0, server_closed, s1);
    if (s2)
        reef_http_server_shutdown(s2, 0, server_closed, s2);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), ==, 0);
}

struct result {
    bool done;
    int rc, status;
    struct reef_buf body;
    char err[REEF_ERR_MSG_MAX];
    char url[256];
    char xreef[32];
    /* streaming */
    int heads;
    size_t streamed;
    bool pattern_ok;
    int events;
    struct reef_http_call *call;
    bool cancel_after_3;
};

static void done(void *ud, int rc, const struct reef_http_response *res, const struct reef_err *err)
{
    struct result *r = ud;
    CHECK(!r->done);
    r->done = true;
    r->rc = rc;
    if (rc < 0) {
        CHECK(res == NULL);
        snprintf(r->err, sizeof(r->err), "%s", err->msg);
        return;
    }
    r->status = res->status;
    if (res->body_len)
        reef_buf_append(&r->body, res->body, res->body_len);
    snprintf(r->url, sizeof(r->url), "%s", res->url);
    const char *x = reef_http_msg_header(res->msg, "x-reef");
    snprintf(r->xreef, sizeof(r->xreef), "%s", x ? x : "");
}

static void run_until(struct result *r)
{
    while (!r->done)
        uv_run(&loop, UV_RUN_ONCE);
}

static void request(struct reef_http_client *cl, const struct reef_http_request *rq,
                    struct result *r)
{
    memset(r, 0, sizeof(*r));
    struct reef_err err = {0};
    CHECK_OK(reef_http_client_request(cl, rq, done, r, &r->call, &err), &err);
    run_until(r);
}

static void get(struct reef_http_client *cl, const char *url, struct result *r)
{
    struct reef_http_request rq = {.url = url};
    request(cl, &rq, r);
}

static struct reef_http_client *client(const struct reef_http_client_opts *o)
{
    struct reef_err err = {0};
    struct reef_http_client *cl = reef_http_client_new(&loop, o, &err);
    CHECK(cl != NULL);
    return cl;
}

static void url_of(char *out, size_t cap, bool https, struct reef_http_server *s, const char *p)
{
    snprintf(out, cap, "%s://127.0.0.1:%d%s", https ? "https" : "http", reef_http_server_port(s),
             p);
}

/* ---------- tests ---------- */

static void check_pattern(const char *b, size_t len, size_t n)
{
    CHECK_INT(len, ==, n);
    for (size_t i = 0; i < n; i++)
        if (b[i] != (char)(i * 31 + 7))
            TEST_FAIL("byte %zu differs", i);
}

static void basics(bool https, struct reef_http_server *s, struct reef_http_client *cl)
{
    char url[256];
    struct result r;
    url_of(url, sizeof(url), https, s, "/hello");
    get(cl, url, &r);
    if (r.rc != 0)
        TEST_FAIL("%s", r.err);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.body.len, ==, 5);
    CHECK_STR(r.body.data, "hello");
    CHECK_STR(r.xreef, "yes");
    reef_buf_free(&r.body);
    /* several MB up and down */
    size_t n = 4 * 1000 * 1000 + 3;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31 + 7);
    url_of(url, sizeof(url), https, s, "/echo");
    struct reef_http_request rq = {.method = "POST", .url = url, .body = big, .body_len = n};
    request(cl, &rq, &r);
    CHECK_INT(r.rc, ==, 0);
    check_pattern(r.body.data, r.body.len, n);
    reef_buf_free(&r.body);
    free(big);
    /* a chunked response, buffered */
    url_of(url, sizeof(url), https, s, "/chunked?n=3000001");
    get(cl, url, &r);
    CHECK_INT(r.rc, ==, 0);
    check_pattern(r.body.data, r.body.len, 3000001);
    reef_buf_free(&r.body);
    /* all on one kept-alive connection */
    CHECK_INT(reef_http_client_connects(cl), ==, 1);
    /* HEAD: no body even with a length */
    url_of(url, sizeof(url), https, s, "/hello");
    struct reef_http_request hq = {.method = "HEAD", .url = url};
    request(cl, &hq, &r);
    CHECK_INT(r.rc, ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.body.len, ==, 0);
    reef_buf_free(&r.body);
    /* a token */
    url_of(url, sizeof(url), https, s, "/auth");
    struct reef_http_request aq = {.url = url, .bearer_token = "sekret"};
    request(cl, &aq, &r);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.body.data, "token ok");
    reef_buf_free(&r.body);
    /* basic auth */
    url_of(url, sizeof(url), https, s, "/method");
    struct reef_http_request bq = {
        .method = "PUT", .url = url, .basic_user = "alice", .basic_pass = "secret"};
    request(cl, &bq, &r);
    CHECK_STR(r.body.data, "PUT 0 Basic YWxpY2U6c2VjcmV0");
    reef_buf_free(&r.body);
    CHECK_INT(reef_http_client_connects(cl), ==, 1);
}

static void test_plain(void)
{
    setup();
    struct reef_http_server *s = server(NULL, 0);
    struct reef_http_client *cl = client(NULL);
    basics(false, s, cl);
    teardown(cl, s, NULL);
}

static void test_https(void)
{
    make_certs();
    setup();
    struct reef_err err = {0};
    struct reef_tls_server_opts so = {.cert_file = path("server.crt"),
                                      .key_file = path("server.key"),
                                      .client_ca_file = path("ca.crt")};
    struct reef_tls_config *tls = reef_tls_config_server_new(&so, &err);
    CHECK(tls != NULL);
    struct reef_http_server *s = server(tls, 0);
    reef_tls_config_unref(tls);
    struct reef_http_client_opts co = {.ca_file = path("ca.crt")};
    struct reef_http_client *cl = client(&co);
    basics(true, s, cl);
    char url[256];
    struct result r;
    url_of(url, sizeof(url), true, s, "/identity");
    get(cl, url, &r);
    CHECK_STR(r.body.data, "verified=0 cn=");
    reef_buf_free(&r.body);
    reef_http_client_free(cl);
    /* with a client certificate */
    struct reef_http_client_opts cc = {
        .ca_file = path("ca.crt"), .cert_file = path("client.crt"), .key_file = path("client.key")};
    cl = client(&cc);
    get(cl, url, &r);
    CHECK_INT(r.rc, ==, 0);
    CHECK_STR(r.body.data, "verified=1 cn=alice");
    reef_buf_free(&r.body);
    reef_http_client_free(cl);
    /* a server the client does not trust */
    struct reef_http_client_opts bad = {.ca_file = path("otherca.crt")};
    cl = client(&bad);
    get(cl, url, &r);
    CHECK_INT(r.rc, <, 0);
    if (!strstr(r.err, "certificate verify failed"))
        TEST_FAIL("unexpected: %s", r.err);
    CHECK(strstr(r.err, "GET https://127.0.0.1:") != NULL);
    /* http to an https port: the server drops it, the client reports it */
    url_of(url, sizeof(url), false, s, "/hello");
    get(cl, url, &r);
    CHECK_INT(r.rc, <, 0);
    teardown(cl, s, NULL);
    rm_certs();
}

static int on_head(void *ud, const struct reef_http_response *res)
{
    struct result *r = ud;
    r->heads++;
    r->status = res->status;
    r->pattern_ok = true;
    return 0;
}

static int on_data(void *ud, const char *d, size_t n)
{
    struct result *r = ud;
    for (size_t i = 0; i < n; i++)
        if (d[i] != (char)((r->streamed + i) * 31 + 7))
            r->pattern_ok = false;
    r->streamed += n;
    return 0;
}

static int on_event(void *ud, const char *d, size_t n)
{
    struct result *r = ud;
    for (size_t i = 0; i < n; i++)
        r->events += d[i] == '\n';
    if (r->cancel_after_3 && r->events >= 3) {
        r->cancel_after_3 = false;
        reef_http_call_cancel(r->call);
    }
    return 0;
}

static void test_streaming(void)
{
    setup();
    struct reef_http_server *s = server(NULL, 0);
    /* buffering is bounded ... */
    struct reef_http_client_opts o = {.max_body = 1 << 20};
    struct reef_http_client *cl = client(&o);
    char url[256];
    struct result r;
    url_of(url, sizeof(url), false, s, "/big?n=6000000");
    get(cl, url, &r);
    CHECK_INT(r.rc, ==, -E2BIG);
    /* ... streaming is not */
    struct reef_http_request rq = {.url = url, .on_head = on_head, .on_data = on_data};
    request(cl, &rq, &r);
    CHECK_INT(r.rc, ==, 0);
    CHECK_INT(r.heads, ==, 1);
    CHECK_INT(r.streamed, ==, 6000000);
    CHECK(r.pattern_ok);
    CHECK_INT(r.body.len, ==, 0);
    url_of(url, sizeof(url), false, s, "/chunked?n=5000000");
    rq.url = url;
    request(cl, &rq, &r);
    CHECK_INT(r.streamed, ==, 5000000);
    CHECK(r.pattern_ok);
    /* a watch, canceled by the caller after three events; the server sees the client go */
    url_of(url, sizeof(url), false, s, "/watch");
    struct reef_http_request wq = {.url = url, .on_data = on_event};
    memset(&r, 0, sizeof(r));
    r.cancel_after_3 = true;
    struct reef_err err = {0};
    CHECK_OK(reef_http_client_request(cl, &wq, done, &r, &r.call, &err), &err);
    run_until(&r);
    CHECK_INT(r.rc, ==, -ECANCELED);
    CHECK_INT(r.events, >=, 3);
    while (atomic_load(&watch_closed) == 0)
        uv_run(&loop, UV_RUN_ONCE);
    /* a watch still open when the client is freed is canceled too */
    memset(&r, 0, sizeof(r));
    CHECK_OK(reef_http_client_request(cl, &wq, done, &r, &r.call, &err), &err);
    while (r.events < 1)
        uv_run(&loop, UV_RUN_ONCE);
    reef_http_client_free(cl);
    CHECK(r.done);
    CHECK_INT(r.rc, ==, -ECANCELED);
    teardown(NULL, s, NULL);
    CHECK_INT(atomic_load(&watch_closed), ==, 2);
}

static void test_redirects(void)
{
    setup();
    struct reef_http_server *a = server(NULL, 0), *b = server(NULL, 0);
    struct reef_http_client *cl = client(NULL);
    char url[512];
    struct result r;
    /* 302 with a relative path */
    url_of(url, sizeof(url), false, a, "/redir?to=/hello");
    get(cl, url, &r);
    CHECK_INT(r.rc, ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(r.body.data, "hello");
    CHECK(strstr(r.url, "/hello") != NULL);
    reef_buf_free(&r.body);
    /* 303 after POST becomes GET without the body; 307 and 308 keep both */
    const struct {
        const char *code, *want;
    } cases[] = {{"303", "GET 0 Bearer sekret"},
                 {"302", "GET 0 Bearer sekret"},
                 {"307", "POST 4 Bearer sekret"},
                 {"308", "POST 4 Bearer sekret"}};
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        char p[64];
        snprintf(p, sizeof(p), "/redir?code=%s&to=/method", cases[i].code);
        url_of(url, sizeof(url), false, a, p);
        struct reef_http_request rq = {
            .method = "POST", .url = url, .body = "data", .body_len = 4, .bearer_token = "sekret"};
        request(cl, &rq, &r);
        CHECK_INT(r.rc, ==, 0);
        CHECK_STR(r.body.data, cases[i].want);
        reef_buf_free(&r.body);
    }
    /* to another host:port: credentials are dropped (token and a header alike) */
    char to[128], p[256];
    snprintf(to, sizeof(to), "http://127.0.0.1:%d/method", reef_http_server_port(b));
    snprintf(p, sizeof(p), "/redir?to=%s", to);
    url_of(url, sizeof(url), false, a, p);
    struct reef_http_request rq = {.url = url, .bearer_token = "sekret"};
    request(cl, &rq, &r);
    CHECK_STR(r.body.data, "GET 0 -");
    reef_buf_free(&r.body);
    struct reef_http_header h = {"Authorization", "Bearer sekret"};
    struct reef_http_request rq2 = {.url = url, .headers = &h, .nheaders = 1};
    request(cl, &rq2, &r);
    CHECK_STR(r.body.data, "GET 0 -");
    reef_buf_free(&r.body);
    /* a loop ends */
    url_of(url, sizeof(url), false, a, "/loop");
    get(cl, url, &r);
    CHECK_INT(r.rc, ==, -ELOOP);
    CHECK(strstr(r.err, "redirects") != NULL);
    reef_http_client_free(cl);
    /* not following: the 3xx is the answer */
    struct reef_http_client_opts o = {.no_redirects = true};
    cl = client(&o);
    url_of(url, sizeof(url), false, a, "/redir?to=/hello");
    get(cl, url, &r);
    CHECK_INT(r.status, ==, 302);
    teardown(cl, a, b);
}

static void noop_timer(uv_timer_t *t)
{
}

static void test_errors(void)
{
    setup();
    struct reef_http_server *s = server(NULL, 150);
    struct reef_http_client_opts o = {.response_timeout_ms = 100};
    struct reef_http_client *cl = client(&o);
    struct reef_err err = {0};
    struct result r;
    /* bad input fails at once, without a callback */
    const char *bad[] = {"ftp://x/",    "http://",      "http://host:99999/",
                         "http://a b/", "http://h/p q", "http://[::1/"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        struct reef_http_request rq = {.url = bad[i]};
        CHECK_INT(reef_http_client_request(cl, &rq, done, &r, NULL, &err), ==, -EINVAL);
    }
    struct reef_http_header inj = {"X-A", "b\r\nX-Injected: 1"};
    struct reef_http_request rq = {.url = "http://127.0.0.1:1/", .headers = &inj, .nheaders = 1};
    CHECK_INT(reef_http_client_request(cl, &rq, done, &r, NULL, &err), ==, -EINVAL);
    /* a response too slow */
    char url[256];
    url_of(url, sizeof(url), false, s, "/slow");
    get(cl, url, &r);
    CHECK_INT(r.rc, ==, -ETIMEDOUT);
    CHECK(strstr(r.err, "timed out") != NULL);
    /* nothing listening */
    get(cl, "http://127.0.0.1:1/x", &r);
    CHECK_INT(r.rc, ==, -ECONNREFUSED);
    CHECK(strstr(r.err, "GET http://127.0.0.1:1/x: connect 127.0.0.1:1") != NULL);
    /* the server closes the idle kept-alive connection; the next request still works */
    unsigned long before = reef_http_client_connects(cl);
    url_of(url, sizeof(url), false, s, "/hello");
    get(cl, url, &r);
    CHECK_INT(r.rc, ==, 0);
    reef_buf_free(&r.body);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, noop_timer, 400, 0);
    while (uv_is_active((uv_handle_t *)&t))
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    get(cl, url, &r);
    CHECK_INT(r.rc, ==, 0);
    CHECK_STR(r.body.data, "hello");
    reef_buf_free(&r.body);
    CHECK_INT(reef_http_client_connects(cl) - before, ==, 2);
    teardown(cl, s, NULL);
}

/* A TLS server that never answers the handshake: the connect timeout covers it. */
static void test_connect_timeout(void)
{
    make_certs();
    setup();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(listen(fd, 4) == 0); /* the kernel completes TCP handshakes; nobody accepts */
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    struct reef_http_client_opts o = {.ca_file = path("ca.crt"), .connect_timeout_ms = 150};
    struct reef_http_client *cl = client(&o);
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", ntohs(a.sin_port));
    struct result r;
    uint64_t t0 = uv_hrtime();
    get(cl, url, &r);
    CHECK_INT(r.rc, ==, -ETIMEDOUT);
    CHECK(strstr(r.err, "connect: timed out") != NULL);
    CHECK((uv_hrtime() - t0) / 1000000 < 2000);
    teardown(cl, NULL, NULL);
    close(fd);
    rm_certs();
}

/* ---------- the synchronous wrapper, against a server on another thread ---------- */

struct srv_thread {
    uv_loop_t loop;
    uv_async_t stop;
    struct reef_http_server *s;
    int port;
    int ready[2];
};

static void th_stop(uv_async_t *a)
{
    struct srv_thread *t = a->data;
    uv_close((uv_handle_t *)&t->stop, NULL);
    reef_http_server_shutdown(t->s, 0, server_closed, t->s);
}

static void *th_main(void *arg)
{
    struct srv_thread *t = arg;
    uv_loop_init(&t->loop);
    srv_loop = &t->loop;
    uv_async_init(&t->loop, &t->stop, th_stop);
    t->stop.data = t;
    t->s = server(NULL, 0);
    t->port = reef_http_server_port(t->s);
    (void)!write(t->ready[1], "x", 1);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&t->loop), ==, 0);
    return NULL;
}

static void test_sync_fetch(void)
{
    struct srv_thread t = {0};
    pthread_t th;
    CHECK(pipe(t.ready) == 0);
    CHECK(pthread_create(&th, NULL, th_main, &t) == 0);
    char c;
    CHECK(read(t.ready[0], &c, 1) == 1);
    char url[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/redir?to=/hello", t.port);
    struct reef_http_request rq = {.url = url};
    struct reef_http_result res;
    struct reef_err err = {0};
    CHECK_OK(reef_http_fetch(NULL, &rq, &res, &err), &err);
    CHECK_INT(res.status, ==, 200);
    CHECK_STR(res.body, "hello");
    CHECK_STR(reef_http_result_header(&res, "x-reef"), "yes");
    CHECK_STR(reef_http_result_header(&res, "Content-Length"), "5");
    CHECK(reef_http_result_header(&res, "nope") == NULL);
    reef_http_result_free(&res);
    /* a failure leaves an empty result */
    struct reef_http_request bad = {.url = "http://127.0.0.1:1/"};
    CHECK_INT(reef_http_fetch(NULL, &bad, &res, &err), ==, -ECONNREFUSED);
    CHECK(res.body == NULL);
    reef_http_result_free(&res);
    uv_async_send(&t.stop);
    pthread_join(th, NULL);
    close(t.ready[0]);
    close(t.ready[1]);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    TEST_RUN(test_plain);
    TEST_RUN(test_https);
    TEST_RUN(test_streaming);
    TEST_RUN(test_redirects);
    TEST_RUN(test_errors);
    TEST_RUN(test_connect_timeout);
    TEST_RUN(test_sync_fetch);
    return test_done();
}
