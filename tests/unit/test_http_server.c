/* Tests for core/http_server over real loopback sockets. The server runs on its own loop in a
 * thread; the test talks to it with blocking sockets (and core/tls for https), writing raw bytes
 * so that malformed, pipelined, slow and WebSocket traffic can be produced exactly. */
#include "core/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/ws.h"
#include "tests/unit/test.h"

/* ---------- certificates (openssl CLI, at test time) ---------- */

static char dir[64];

static char *path(const char *name)
{
    static char p[8][128];
    static int i;
    char *r = p[i++ % 8];
    snprintf(r, 128, "%s/%s", dir, name);
    return r;
}

static void make_certs(void)
{
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        TEST_SKIP("no openssl command");
    snprintf(dir, sizeof(dir), "/tmp/reef-https-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "set -e; cd %s; exec >log 2>&1\n"
             "k() { openssl ecparam -name prime256v1 -genkey -noout -out $1.key; }\n"
             "ca() { k $1; openssl req -x509 -new -key $1.key -subj \"/CN=$1\" -days 2 "
             "-out $1.crt; }\n"
             "leaf() { k $1; openssl req -new -key $1.key -subj \"$2\" -out $1.csr; "
             "printf '%%s\\n' \"$4\" > $1.ext; openssl x509 -req -in $1.csr -CA $3.crt "
             "-CAkey $3.key -set_serial $((n=n+1)) -days 2 -extfile $1.ext -out $1.crt; }\n"
             "n=100; ca ca\n"
             "leaf server /CN=localhost ca 'subjectAltName=IP:127.0.0.1,DNS:localhost'\n"
             "leaf client '/O=system:masters/O=reef:nodes/CN=alice' ca "
             "'extendedKeyUsage=clientAuth'\n",
             dir);
    if (system(cmd) != 0)
        TEST_FAIL("openssl failed (see %s/log)", dir);
}

static void rm_certs(void)
{
    if (!dir[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)system(cmd);
}

/* ---------- the server under test, on its own thread ---------- */

static atomic_int watch_closed, watches_open, ws_close_code, handler_calls;

struct watch {
    uv_timer_t timer;
    struct reef_http_res *res;
    int n;
};

static void watch_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void watch_tick(uv_timer_t *t)
{
    struct watch *w = t->data;
    char line[64];
    int n = snprintf(line, sizeof(line), "event %d\n", ++w->n);
    /* back-pressure: a slow reader does not make the queue grow */
    if (reef_http_res_queued(w->res) < 65536)
        reef_http_res_write(w->res, line, (size_t)n);
}

static void watch_gone(void *ud, struct reef_http_res *res)
{
    struct watch *w = ud;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, watch_timer_closed);
    atomic_fetch_add(&watch_closed, 1);
    atomic_fetch_sub(&watches_open, 1);
}

struct slow {
    uv_timer_t timer;
    struct reef_http_res *res;
};

static void slow_closed(uv_handle_t *h)
{
    free(h->data);
}

static void slow_fire(uv_timer_t *t)
{
    struct slow *s = t->data;
    if (s->res)
        reef_http_res_send(s->res, 200, "text/plain", "slow", 4);
    uv_close((uv_handle_t *)&s->timer, slow_closed);
}

static void slow_gone(void *ud, struct reef_http_res *res)
{
    struct slow *s = ud;
    s->res = NULL;
}

/* chunked generator with back-pressure via the drain callback */
struct gen {
    struct reef_http_res *res;
    size_t left, off;
};

static void gen_pump(void *ud, struct reef_http_res *res)
{
    struct gen *g = ud;
    char buf[65536];
    while (g->left > 0 && reef_http_res_queued(res) < 256 * 1024) {
        size_t n = g->left < sizeof(buf) ? g->left : sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)((g->off + i) * 31 + 7);
        reef_http_res_write(res, buf, n);
        g->off += n;
        g->left -= n;
    }
    if (g->left == 0) {
        reef_http_res_end(res);
        free(g);
    }
}

static void gen_gone(void *ud, struct reef_http_res *res)
{
    free(ud);
}

static void ws_msg(void *ud, struct reef_ws_conn *ws, enum reef_ws_opcode op, const uint8_t *data,
                   size_t len)
{
    if (op == REEF_WS_TEXT && len == 5 && memcmp(data, "close", 5) == 0) {
        reef_ws_close(ws, 1000, "bye");
        return;
    }
    reef_ws_send(ws, op, data, len);
}

static atomic_int ws_drains;

static void ws_drained(void *ud, struct reef_ws_conn *ws)
{
    CHECK_INT(reef_ws_queued(ws), ==, 0);
    atomic_fetch_add(&ws_drains, 1);
}

static void ws_closed(void *ud, struct reef_ws_conn *ws, int code)
{
    atomic_store(&ws_close_code, code);
}

static uv_loop_t *srv_loop;
static size_t upload_bytes;

/* /hold: answered 300 ms later from a timer, without a close callback */
static atomic_int held_rc = 1;
static uv_timer_t hold_timer;

static void hold_fire(uv_timer_t *t)
{
    atomic_store(&held_rc, reef_http_res_send(t->data, 200, "text/plain", "late", 4));
    uv_close((uv_handle_t *)t, NULL);
}

static int upload_data(void *ud, const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] != (char)((upload_bytes + i) * 31 + 7))
            return -EINVAL;
    upload_bytes += n;
    return 0;
}

/* A consumer that pauses the body after every piece and resumes from a timer. */
static int pauses;
static uv_timer_t resume_timer;
static struct reef_http_res *paused_res;

static bool paused_now, pause_violated;

static void resume_body(uv_timer_t *t)
{
    paused_now = false;
    if (paused_res)
        reef_http_res_pause_body(paused_res, false);
}

static void resume_timer_closed(uv_handle_t *h)
{
}

static void paused_gone(void *ud, struct reef_http_res *res)
{
    paused_res = NULL;
}

static int upload_data_paced(void *ud, const char *d, size_t n)
{
    int r = upload_data(ud, d, n);
    struct reef_http_res *res = paused_res;
    if (paused_now)
        pause_violated = true; /* a piece arrived while paused */
    pauses++;
    paused_now = true;
    reef_http_res_pause_body(res, true);
    uv_timer_start(&resume_timer, resume_body, 1, 0);
    return r;
}

/* Takes /upload bodies as a stream; refuses /reject before its body is read. */
static void head_hook(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    if (strcmp(req->path, "/paced") == 0) {
        upload_bytes = 0;
        pauses = 0;
        paused_res = res;
        if (!uv_is_active((uv_handle_t *)&resume_timer) && !resume_timer.loop)
            uv_timer_init(srv_loop, &resume_timer);
        reef_http_res_on_close(res, paused_gone, NULL);
        reef_http_res_stream_body(res, upload_data_paced, NULL);
    } else if (strcmp(req->path, "/upload") == 0) {
        upload_bytes = 0;
        reef_http_res_stream_body(res, upload_data, NULL);
    } else if (strcmp(req->path, "/reject") == 0) {
        reef_http_res_send(res, 401, "text/plain", "no", 2);
    }
}

static void handler(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    atomic_fetch_add(&handler_calls, 1);
    char q[32];
    if (strcmp(req->path, "/hello") == 0) {
        reef_http_res_header(res, "X-Reef", "yes");
        reef_http_res_send(res, 200, "text/plain", "hello", 5);
    } else if (strcmp(req->path, "/echo") == 0) {
        reef_http_res_send(res, 200, "application/octet-stream", req->body, req->body_len);
    } else if (strcmp(req->path, "/paced") == 0) {
        char b[64];
        int n = snprintf(b, sizeof(b), "got %zu in %s", upload_bytes,
                         pause_violated ? "violation"
                         : pauses > 10  ? "many pieces"
                                        : "few pieces");
        paused_res = NULL;
        uv_timer_stop(&resume_timer);
        uv_close((uv_handle_t *)&resume_timer, resume_timer_closed);
        reef_http_res_send(res, 200, "text/plain", b, (size_t)n);
    } else if (strcmp(req->path, "/upload") == 0) {
        char b[64];
        int n = snprintf(b, sizeof(b), "got %zu%s", upload_bytes, req->body ? " buffered" : "");
        reef_http_res_send(res, 200, "text/plain", b, (size_t)n);
    } else if (strcmp(req->path, "/big") == 0 && reef_http_req_query(req, "n", q, sizeof(q)) > 0) {
        size_t n = strtoul(q, NULL, 10);
        char *b = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            b[i] = (char)(i * 31 + 7);
        reef_http_res_send(res, 200, "application/octet-stream", b, n);
        free(b);
    } else if (strcmp(req->path, "/chunked") == 0 &&
               reef_http_req_query(req, "n", q, sizeof(q)) > 0) {
        struct gen *g = calloc(1, sizeof(*g));
        g->res = res;
        g->left = strtoul(q, NULL, 10);
        reef_http_res_on_drain(res, gen_pump, g);
        reef_http_res_on_close(res, gen_gone, g);
        reef_http_res_begin(res, 200, "application/octet-stream");
        gen_pump(g, res);
    } else if (strcmp(req->path, "/watch") == 0) {
        struct watch *w = calloc(1, sizeof(*w));
        w->res = res;
        uv_timer_init(srv_loop, &w->timer);
        w->timer.data = w;
        reef_http_res_on_close(res, watch_gone, w);
        reef_http_res_begin(res, 200, "application/json");
        reef_http_res_write(res, "event 0\n", 8);
        uv_timer_start(&w->timer, watch_tick, 20, 20);
        atomic_fetch_add(&watches_open, 1);
    } else if (strcmp(req->path, "/hold") == 0) {
        uv_timer_init(srv_loop, &hold_timer);
        hold_timer.data = res;
        uv_timer_start(&hold_timer, hold_fire, 300, 0);
    } else if (strcmp(req->path, "/slow") == 0) {
        struct slow *s = calloc(1, sizeof(*s));
        s->res = res;
        uv_timer_init(srv_loop, &s->timer);
        s->timer.data = s;
        reef_http_res_on_close(res, slow_gone, s);
        uv_timer_start(&s->timer, slow_fire, 150, 0);
    } else if (strcmp(req->path, "/identity") == 0) {
        char b[512];
        int n = snprintf(b, sizeof(b), "verified=%d cn=%s o=%s,%s", req->peer_verified,
                         req->peer_cn, req->peer_orgs[0] ? req->peer_orgs[0] : "",
                         req->peer_orgs[0] && req->peer_orgs[1] ? req->peer_orgs[1] : "");
        reef_http_res_send(res, 200, "text/plain", b, (size_t)n);
    } else if (strcmp(req->path, "/auth") == 0) {
        const char *a = reef_http_req_header(req, "authorization");
        if (a && strcmp(a, "Bearer sekret") == 0)
            reef_http_res_send(res, 200, "text/plain", "token ok", 8);
        else
            reef_http_res_send(res, 401, "text/plain", "no", 2);
    } else if (strcmp(req->path, "/ws") == 0) {
        static const char *const protos[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};
        struct reef_ws_cb cb = {ws_msg, ws_closed, ws_drained};
        struct reef_err err;
        reef_http_res_websocket(res, protos, &cb, NULL, &err);
    } else {
        reef_http_res_send(res, 404, "text/plain", "not found", 9);
    }
}

struct srv {
    pthread_t th;
    uv_loop_t loop;
    uv_async_t stop;
    struct reef_http_server *s;
    struct reef_http_server_opts opts;
    struct reef_tls_config *tls;
    unsigned grace_ms;
    int ready[2];
    int port;
    atomic_int done;
    int loop_close;
};

static struct srv S;

static void on_server_closed(void *ud)
{
    struct srv *s = ud;
    reef_http_server_free(s->s);
    s->s = NULL;
    atomic_store(&s->done, 1);
}

static void on_stop(uv_async_t *a)
{
    struct srv *s = a->data;
    uv_close((uv_handle_t *)&s->stop, NULL);
    reef_http_server_shutdown(s->s, s->grace_ms, on_server_closed, s);
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    struct reef_err err = {0};
    uv_loop_init(&s->loop);
    srv_loop = &s->loop;
    uv_async_init(&s->loop, &s->stop, on_stop);
    s->stop.data = s;
    s->opts.handler = handler;
    s->opts.addr = "127.0.0.1";
    s->opts.tls = s->tls;
    s->s = reef_http_server_new(&s->loop, &s->opts, &err);
    if (!s->s) {
        fprintf(stderr, "server: %s\n", err.msg);
        exit(1);
    }
    s->port = reef_http_server_port(s->s);
    (void)!write(s->ready[1], "x", 1);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    s->loop_close = uv_loop_close(&s->loop);
    return NULL;
}

static void srv_start(const struct reef_http_server_opts *o)
{
    memset(&S, 0, sizeof(S));
    if (o)
        S.opts = *o;
    CHECK(pipe(S.ready) == 0);
    CHECK(pthread_create(&S.th, NULL, srv_main, &S) == 0);
    char c;
    CHECK(read(S.ready[0], &c, 1) == 1);
    CHECK(S.port > 0);
}

static void srv_start_tls(const struct reef_http_server_opts *o, bool client_ca)
{
    struct reef_err err = {0};
    struct reef_tls_server_opts to = {.cert_file = path("server.crt"),
                                      .key_file = path("server.key"),
                                      .client_ca_file = client_ca ? path("ca.crt") : NULL};
    struct reef_tls_config *cfg = reef_tls_config_server_new(&to, &err);
    if (!cfg)
        TEST_FAIL("%s", err.msg);
    struct reef_http_server_opts oo = o ? *o : (struct reef_http_server_opts){0};
    memset(&S, 0, sizeof(S));
    S.opts = oo;
    S.tls = cfg;
    CHECK(pipe(S.ready) == 0);
    CHECK(pthread_create(&S.th, NULL, srv_main, &S) == 0);
    char c;
    CHECK(read(S.ready[0], &c, 1) == 1);
    reef_tls_config_unref(cfg); /* the server holds its own reference */
}

/* Shuts the server down and checks that every handle was closed. */
static void srv_stop(void)
{
    uv_async_send(&S.stop);
    pthread_join(S.th, NULL);
    CHECK_INT(atomic_load(&S.done), ==, 1);
    CHECK_INT(S.loop_close, ==, 0);
    close(S.ready[0]);
    close(S.ready[1]);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---------- a blocking client: raw TCP, optionally TLS via core/tls ---------- */

struct bc {
    int fd;
    struct reef_tls *tls;
    struct reef_buf in; /* plaintext received and not yet consumed */
};

static struct reef_tls_config *client_tls;

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static void bc_flush(struct bc *c)
{
    struct reef_buf *o = reef_tls_out(c->tls);
    size_t off = 0;
    while (off < o->len) {
        ssize_t n = write(c->fd, o->data + off, o->len - off);
        if (n <= 0)
            break; /* the server may be gone; reads will tell */
        off += (size_t)n;
    }
    reef_buf_reset(o);
}

static struct bc *bc_open(void)
{
    struct bc *c = calloc(1, sizeof(*c));
    c->fd = raw_connect(S.port);
    if (S.tls) {
        struct reef_err err = {0};
        c->tls = reef_tls_new(client_tls, "127.0.0.1", &err);
        CHECK(c->tls != NULL);
        char buf[16384];
        for (;;) {
            int r = reef_tls_handshake(c->tls, &err);
            bc_flush(c);
            if (r < 0)
                TEST_FAIL("client handshake: %s", err.msg);
            if (r == 1)
                break;
            ssize_t n = read(c->fd, buf, sizeof(buf));
            if (n <= 0)
                TEST_FAIL("handshake: connection closed");
            reef_tls_feed(c->tls, buf, (size_t)n);
        }
    }
    return c;
}

static void bc_close(struct bc *c)
{
    close(c->fd);
    reef_tls_free(c->tls);
    reef_buf_free(&c->in);
    free(c);
}

static void bc_write(struct bc *c, const void *data, size_t len)
{
    if (c->tls) {
        struct reef_err err;
        CHECK_OK(reef_tls_write(c->tls, data, len, &err), &err);
        bc_flush(c);
        return;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(c->fd, (const char *)data + off, len - off);
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

static void bc_puts(struct bc *c, const char *s)
{
    bc_write(c, s, strlen(s));
}

/* Reads more plaintext into c->in. Returns bytes added, 0 on EOF, -1 on error or timeout. */
static ssize_t bc_fill(struct bc *c)
{
    char buf[65536];
    for (;;) {
        if (c->tls) {
            struct reef_err err;
            ssize_t n = reef_tls_read(c->tls, buf, sizeof(buf), &err);
            if (n > 0) {
                reef_buf_append(&c->in, buf, (size_t)n);
                return n;
            }
            if (n == 0)
                return 0;
            if (n != -EAGAIN)
                return -1;
        }
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n <= 0)
            return n == 0 ? 0 : -1;
        if (!c->tls) {
            reef_buf_append(&c->in, buf, (size_t)n);
            return n;
        }
        reef_tls_feed(c->tls, buf, (size_t)n);
    }
}

struct resp {
    int status;
    bool keep_alive, chunked, done;
    int64_t content_length;
    struct reef_buf headers; /* "name: value\n" */
    struct reef_buf body;
};

static int r_head(void *ud, const struct reef_http_msg *m)
{
    struct resp *r = ud;
    r->status = m->status;
    r->keep_alive = m->keep_alive;
    r->chunked = m->chunked;
    r->content_length = m->content_length;
    for (size_t i = 0; i < m->nheaders; i++)
        reef_buf_printf(&r->headers, "%s: %s\n", m->headers[i].name, m->headers[i].value);
    return 0;
}

static int r_body(void *ud, const char *d, size_t n)
{
    return reef_buf_append(&((struct resp *)ud)->body, d, n);
}

static int r_end(void *ud)
{
    ((struct resp *)ud)->done = true;
    return 0;
}

static void resp_free(struct resp *r)
{
    reef_buf_free(&r->headers);
    reef_buf_free(&r->body);
}

/* Reads one response. Returns 0, or -1 when the connection ended first. */
static int bc_response(struct bc *c, struct resp *r, bool head)
{
    memset(r, 0, sizeof(*r));
    struct reef_http_parser_cb cb = {r_head, r_body, r_end};
    struct reef_http_parser *p = reef_http_parser_new(REEF_HTTP_RESPONSE, NULL, &cb, r);
    reef_http_parser_set_head_request(p, head);
    struct reef_err err;
    int rc = 0;
    for (;;) {
        if (c->in.len) {
            ssize_t n = reef_http_parser_feed(p, c->in.data, c->in.len, &err);
            if (n < 0)
                TEST_FAIL("bad response: %s", err.msg);
            reef_buf_consume(&c->in, (size_t)n);
            if (r->done)
                break;
        }
        ssize_t n = bc_fill(c);
        if (n == 0) {
            if (reef_http_parser_eof(p, &err) == 0 && r->done)
                break;
            rc = -1;
            break;
        }
        if (n < 0) {
            rc = -1;
            break;
        }
    }
    reef_http_parser_free(p);
    return rc;
}

/* True when the server closed the connection (EOF within the receive timeout). */
static bool bc_eof(struct bc *c)
{
    for (;;) {
        ssize_t n = bc_fill(c);
        if (n == 0)
            return true;
        if (n < 0)
            return errno == ECONNRESET;
    }
}

static const char *hdr(struct resp *r, const char *name)
{
    static char v[256];
    char key[64];
    snprintf(key, sizeof(key), "%s: ", name);
    const char *p = r->headers.data;
    while (p && *p) {
        const char *e = strchr(p, '\n');
        if (strncasecmp(p, key, strlen(key)) == 0) {
            snprintf(v, sizeof(v), "%.*s", (int)(e - p - strlen(key)), p + strlen(key));
            return v;
        }
        p = e + 1;
    }
    return NULL;
}

static void get_ok(struct bc *c, const char *target, const char *want_body)
{
    char req[256];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target);
    bc_puts(c, req);
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    if (want_body) {
        reef_buf_putc(&r.body, '\0');
        CHECK_STR(r.body.data, want_body);
    }
    resp_free(&r);
}

/* A fresh connection serves /hello: the server is still fine. */
static void still_serving(void)
{
    struct bc *c = bc_open();
    get_ok(c, "/hello", "hello");
    bc_close(c);
}

/* ---------- tests ---------- */

static void check_pattern(const struct reef_buf *b, size_t n)
{
    CHECK_INT(b->len, ==, n);
    for (size_t i = 0; i < n; i++)
        if (b->data[i] != (char)(i * 31 + 7))
            TEST_FAIL("byte %zu differs", i);
}

static void basic_and_keepalive(void)
{
    struct bc *c = bc_open();
    get_ok(c, "/hello", "hello");
    /* POST with a body, same connection */
    bc_puts(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK(r.keep_alive);
    CHECK_INT(r.body.len, ==, 11);
    CHECK(memcmp(r.body.data, "hello world", 11) == 0);
    resp_free(&r);
    /* HEAD: the length, no body */
    bc_puts(c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(bc_response(c, &r, true), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(hdr(&r, "content-length"), "5");
    CHECK_STR(hdr(&r, "x-reef"), "yes");
    CHECK_INT(r.body.len, ==, 0);
    resp_free(&r);
    /* chunked request body */
    bc_puts(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.body.len, ==, 11);
    CHECK(memcmp(r.body.data, "hello world", 11) == 0);
    resp_free(&r);
    /* query, 404, Connection: close ends it */
    bc_puts(c, "GET /nope?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 404);
    CHECK(!r.keep_alive);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
    /* HTTP/1.0 asking for keep-alive gets it */
    c = bc_open();
    bc_puts(c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK(r.keep_alive);
    CHECK_STR(hdr(&r, "connection"), "keep-alive");
    resp_free(&r);
    /* a streamed answer to 1.0 is delimited by the close */
    bc_puts(c, "GET /chunked?n=1000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK(!r.chunked);
    check_pattern(&r.body, 1000);
    resp_free(&r);
    bc_close(c);
    /* HEAD of a streamed answer: the head only, and the connection goes on */
    c = bc_open();
    bc_puts(c, "HEAD /chunked?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(bc_response(c, &r, true), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.body.len, ==, 0);
    resp_free(&r);
    get_ok(c, "/hello", "hello");
    bc_close(c);
    /* HTTP/1.0: answered as 1.0 and closed */
    c = bc_open();
    bc_puts(c, "GET /hello HTTP/1.0\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK(!r.keep_alive);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
}

static void test_basic(void)
{
    srv_start(NULL);
    basic_and_keepalive();
    srv_stop();
}

static void test_basic_tls(void)
{
    make_certs();
    struct reef_err err = {0};
    struct reef_tls_client_opts co = {.ca_file = path("ca.crt")};
    client_tls = reef_tls_config_client_new(&co, &err);
    CHECK(client_tls != NULL);
    srv_start_tls(NULL, true);
    basic_and_keepalive();
    srv_stop();
    reef_tls_config_unref(client_tls);
    rm_certs();
}

static void test_pipelined(void)
{
    srv_start(NULL);
    struct bc *c = bc_open();
    /* the slow one is answered from a timer; the others wait their turn */
    bc_puts(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
               "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
               "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *want[] = {"slow", "abc", "hello"};
    for (int i = 0; i < 3; i++) {
        struct resp r;
        CHECK_INT(bc_response(c, &r, false), ==, 0);
        CHECK_INT(r.status, ==, 200);
        reef_buf_putc(&r.body, '\0');
        CHECK_STR(r.body.data, want[i]);
        resp_free(&r);
    }
    bc_close(c);
    srv_stop();
}

static void large_bodies(void)
{
    size_t n = 5 * 1000 * 1000 + 17;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31 + 7);
    struct bc *c = bc_open();
    char head[128];
    snprintf(head, sizeof(head), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             n);
    bc_puts(c, head);
    /* write and read at once would need a thread; the echo is only sent after the body is read,
     * so writing all of it first is fine */
    bc_write(c, big, n);
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    check_pattern(&r.body, n);
    resp_free(&r);
    /* a large fixed-length response */
    snprintf(head, sizeof(head), "/big?n=%zu", n);
    bc_puts(c, "GET ");
    bc_puts(c, head);
    bc_puts(c, " HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    check_pattern(&r.body, n);
    resp_free(&r);
    /* a large chunked response produced under back-pressure */
    snprintf(head, sizeof(head), "GET /chunked?n=%zu HTTP/1.1\r\nHost: x\r\n\r\n", n);
    bc_puts(c, head);
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK(r.chunked);
    check_pattern(&r.body, n);
    resp_free(&r);
    /* a large chunked request */
    bc_puts(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0; off < n; off += 100000) {
        size_t k = n - off < 100000 ? n - off : 100000;
        char sz[32];
        snprintf(sz, sizeof(sz), "%zx\r\n", k);
        bc_puts(c, sz);
        bc_write(c, big + off, k);
        bc_puts(c, "\r\n");
    }
    bc_puts(c, "0\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    check_pattern(&r.body, n);
    resp_free(&r);
    bc_close(c);
    free(big);
}

static void test_large(void)
{
    srv_start(NULL);
    large_bodies();
    srv_stop();
}

static void test_large_tls(void)
{
    make_certs();
    struct reef_err err = {0};
    struct reef_tls_client_opts co = {.ca_file = path("ca.crt")};
    client_tls = reef_tls_config_client_new(&co, &err);
    srv_start_tls(NULL, false);
    large_bodies();
    srv_stop();
    reef_tls_config_unref(client_tls);
    rm_certs();
}

static void expect_status(const char *raw, size_t len, int status)
{
    struct bc *c = bc_open();
    bc_write(c, raw, len);
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    if (r.status != status)
        TEST_FAIL("%.40s...: status %d, want %d", raw, r.status, status);
    CHECK(!r.keep_alive);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
    still_serving();
}

static void test_malformed(void)
{
    struct reef_http_server_opts o = {.max_body = 1 << 20};
    srv_start(&o);
    const char *bad = "GARBAGE\r\n\r\n";
    expect_status(bad, strlen(bad), 400);
    bad = "GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n";
    expect_status(bad, strlen(bad), 400);
    bad = "GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect_status(bad, strlen(bad), 400);
    bad = "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
    expect_status(bad, strlen(bad), 400);
    bad = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
    expect_status(bad, strlen(bad), 501);
    bad = "GET / HTTP/2.0\r\n\r\n";
    expect_status(bad, strlen(bad), 505);
    bad = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    expect_status(bad, strlen(bad), 400);
    /* a long request line: 414 */
    struct reef_buf b = REEF_BUF_INIT;
    reef_buf_puts(&b, "GET /");
    for (int i = 0; i < 10000; i++)
        reef_buf_putc(&b, 'a');
    reef_buf_puts(&b, " HTTP/1.1\r\n\r\n");
    expect_status(b.data, b.len, 414);
    reef_buf_reset(&b);
    /* too many header bytes: 431 */
    reef_buf_puts(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 2000; i++)
        reef_buf_printf(&b, "X-H%d: %064d\r\n", i, i);
    reef_buf_puts(&b, "\r\n");
    expect_status(b.data, b.len, 431);
    reef_buf_reset(&b);
    /* a body over the limit: 413 from the length alone, and for a chunked one as it arrives */
    reef_buf_puts(&b, "POST /echo HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n");
    expect_status(b.data, b.len, 413);
    reef_buf_reset(&b);
    reef_buf_puts(&b, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 20; i++) {
        reef_buf_puts(&b, "10000\r\n");
        for (int j = 0; j < 0x10000; j++)
            reef_buf_putc(&b, 'z');
        reef_buf_puts(&b, "\r\n");
    }
    expect_status(b.data, b.len, 413);
    /* binary garbage */
    char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 131 + 1);
    expect_status(junk, sizeof(junk), 400);
    reef_buf_free(&b);
    /* a client that half-closes after its request still gets the answer */
    const char *reqs[] = {"GARBAGE\r\n\r\n", "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"};
    for (int i = 0; i < 2; i++) {
        struct bc *c = bc_open();
        bc_puts(c, reqs[i]);
        shutdown(c->fd, SHUT_WR);
        struct resp r;
        CHECK_INT(bc_response(c, &r, false), ==, 0);
        CHECK_INT(r.status, ==, i == 0 ? 400 : 200);
        resp_free(&r);
        CHECK(bc_eof(c));
        bc_close(c);
    }
    srv_stop();
}

static void test_streamed_upload(void)
{
    struct reef_http_server_opts o = {.max_body = 1 << 20, .on_head = head_hook};
    srv_start(&o);
    size_t n = 5000000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31 + 7);
    struct bc *c = bc_open();
    char head[160];
    snprintf(head, sizeof(head), "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             n);
    bc_puts(c, head);
    bc_write(c, big, n);
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    reef_buf_putc(&r.body, '\0');
    CHECK_STR(r.body.data, "got 5000000");
    resp_free(&r);
    /* the same connection goes on */
    get_ok(c, "/hello", "hello");
    /* a consumer that pauses after every piece gets all of it, in order */
    snprintf(head, sizeof(head), "PUT /paced HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             n);
    bc_puts(c, head);
    bc_write(c, big, n);
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    reef_buf_putc(&r.body, '\0');
    CHECK_STR(r.body.data, "got 5000000 in many pieces");
    resp_free(&r);
    /* a body the stream callback refuses: 400 */
    bc_puts(c, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
    /* answered from the head: no 100 Continue, the connection is not reused */
    c = bc_open();
    bc_puts(c, "POST /reject HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               "Content-Length: 100000\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 401);
    CHECK(!r.keep_alive);
    resp_free(&r);
    bc_write(c, big, 100000); /* sent anyway: drained, not reset */
    CHECK(bc_eof(c));
    bc_close(c);
    /* Expect: 100-continue on an accepted request */
    c = bc_open();
    bc_puts(c, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               "Content-Length: 2\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 100);
    resp_free(&r);
    bc_puts(c, "ok");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.body.len, ==, 2);
    resp_free(&r);
    bc_close(c);
    free(big);
    srv_stop();
}

/* Many connections at once, and many pipelined requests in one write. */
static void test_concurrency(void)
{
    srv_start(NULL);
    enum { N = 200 };
    static struct bc *cs[N];
    for (int i = 0; i < N; i++) {
        cs[i] = bc_open();
        bc_puts(cs[i], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    for (int i = 0; i < N; i++) {
        struct resp r;
        CHECK_INT(bc_response(cs[i], &r, false), ==, 0);
        CHECK_INT(r.status, ==, 200);
        resp_free(&r);
        bc_close(cs[i]);
    }
    struct bc *c = bc_open();
    struct reef_buf b = REEF_BUF_INIT;
    for (int i = 0; i < 2000; i++)
        reef_buf_puts(&b, i % 2
                              ? "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                              : "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd");
    /* the server answers while we write: read in a second connection-less step is not possible
     * with blocking I/O, so the write must fit the socket buffers (about 150 KB) */
    bc_write(c, b.data, b.len);
    for (int i = 0; i < 2000; i++) {
        struct resp r;
        CHECK_INT(bc_response(c, &r, false), ==, 0);
        CHECK_INT(r.status, ==, 200);
        CHECK_INT(r.body.len, ==, i % 2 ? 5 : 4);
        resp_free(&r);
    }
    reef_buf_free(&b);
    bc_close(c);
    srv_stop();
}

/* Random bytes on many connections (plain and after a valid start), then abrupt closes: the
 * server keeps serving and ends with every handle closed. */
static void test_garbage_storm(void)
{
    struct reef_http_server_opts o = {.header_timeout_ms = 300};
    srv_start(&o);
    unsigned seed = 12345;
    for (int i = 0; i < 300; i++) {
        int fd = raw_connect(S.port);
        char buf[3000];
        size_t n = 1 + (size_t)(rand_r(&seed) % sizeof(buf));
        for (size_t k = 0; k < n; k++)
            buf[k] = (char)rand_r(&seed);
        static const char *prefix[] = {"", "GET / HTTP/1.1\r\n",
                                       "POST /echo HTTP/1.1\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n",
                                       "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: "
                                       "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                       "Sec-WebSocket-Version: 13\r\n\r\n"};
        const char *p = prefix[i % 4];
        (void)!write(fd, p, strlen(p));
        (void)!write(fd, buf, n);
        if (i % 3 == 0) { /* reset instead of FIN */
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(fd);
    }
    still_serving();
    srv_stop();
}

static void test_header_timeout(void)
{
    struct reef_http_server_opts o = {.header_timeout_ms = 200, .idle_timeout_ms = 300};
    srv_start(&o);
    /* a client that stalls in the middle of its head gets 408 and is cut off */
    struct bc *slow = bc_open();
    bc_puts(slow, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    /* meanwhile others are served */
    still_serving();
    double t0 = now_ms();
    struct resp r;
    CHECK_INT(bc_response(slow, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 408);
    resp_free(&r);
    CHECK(bc_eof(slow));
    CHECK(now_ms() - t0 < 2000);
    bc_close(slow);
    /* a client that sends nothing at all is closed */
    struct bc *mute = bc_open();
    CHECK(bc_eof(mute));
    bc_close(mute);
    /* an idle keep-alive connection is closed after the idle timeout */
    struct bc *c = bc_open();
    get_ok(c, "/hello", "hello");
    t0 = now_ms();
    CHECK(bc_eof(c));
    CHECK(now_ms() - t0 >= 100);
    CHECK(now_ms() - t0 < 3000);
    bc_close(c);
    srv_stop();
}

static void test_connection_limit(void)
{
    struct reef_http_server_opts o = {.max_connections = 2};
    srv_start(&o);
    struct bc *a = bc_open(), *b = bc_open();
    get_ok(a, "/hello", "hello");
    get_ok(b, "/hello", "hello");
    struct bc *c = bc_open();
    bc_puts(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 503);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
    bc_close(a);
    usleep(100 * 1000); /* the server notices a's close */
    still_serving();
    get_ok(b, "/hello", "hello");
    bc_close(b);
    srv_stop();
}

static void test_streaming_watch(void)
{
    srv_start(NULL);
    struct bc *w = bc_open();
    bc_puts(w, "GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
    /* the head and the first event */
    while (!strstr(w->in.data ? w->in.data : "", "event 0\n"))
        CHECK_INT(bc_fill(w), >, 0);
    CHECK(strstr(w->in.data, "Transfer-Encoding: chunked") != NULL);
    /* while the watch is held open, other connections are served promptly */
    for (int i = 0; i < 5; i++) {
        double t0 = now_ms();
        still_serving();
        CHECK(now_ms() - t0 < 1000);
    }
    /* and events keep coming */
    while (!strstr(w->in.data, "event 5\n"))
        CHECK_INT(bc_fill(w), >, 0);
    CHECK_INT(atomic_load(&watch_closed), ==, 0);
    /* the client goes away: the handler is told */
    bc_close(w);
    for (int i = 0; i < 200 && atomic_load(&watch_closed) == 0; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&watch_closed), ==, 1);
    /* a watch still open at shutdown is closed after the grace period */
    w = bc_open();
    bc_puts(w, "GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(bc_fill(w), >, 0);
    S.grace_ms = 100;
    srv_stop();
    CHECK_INT(atomic_load(&watch_closed), ==, 2);
    CHECK(bc_eof(w));
    bc_close(w);
}

/* A handler that holds a response without a close callback and answers after the client left:
 * the answer fails with -EPIPE and frees everything. */
static void test_abandoned_response(void)
{
    srv_start(NULL);
    struct bc *c = bc_open();
    bc_puts(c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(50 * 1000);
    bc_close(c);
    for (int i = 0; i < 300 && atomic_load(&held_rc) == 1; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&held_rc), ==, -EPIPE);
    still_serving();
    srv_stop();
}

static void test_graceful_shutdown(void)
{
    srv_start(NULL);
    struct bc *idle = bc_open();
    get_ok(idle, "/hello", "hello");
    struct bc *busy = bc_open();
    bc_puts(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(50 * 1000); /* the request is in flight */
    S.grace_ms = 5000;
    uv_async_send(&S.stop);
    /* the idle connection is closed at once, the busy one gets its answer, then is closed */
    CHECK(bc_eof(idle));
    struct resp r;
    CHECK_INT(bc_response(busy, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK(!r.keep_alive);
    resp_free(&r);
    CHECK(bc_eof(busy));
    pthread_join(S.th, NULL);
    CHECK_INT(atomic_load(&S.done), ==, 1);
    CHECK_INT(S.loop_close, ==, 0);
    /* nothing listens any more */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)S.port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0);
    close(fd);
    bc_close(idle);
    bc_close(busy);
}

static void test_tls_identity(void)
{
    make_certs();
    struct reef_err err = {0};
    /* with a client certificate */
    struct reef_tls_client_opts co = {
        .ca_file = path("ca.crt"), .cert_file = path("client.crt"), .key_file = path("client.key")};
    client_tls = reef_tls_config_client_new(&co, &err);
    CHECK(client_tls != NULL);
    srv_start_tls(NULL, true);
    struct bc *c = bc_open();
    get_ok(c, "/identity", "verified=1 cn=alice o=system:masters,reef:nodes");
    bc_close(c);
    reef_tls_config_unref(client_tls);
    /* without one: still served, no identity, a token works */
    struct reef_tls_client_opts co2 = {.ca_file = path("ca.crt")};
    client_tls = reef_tls_config_client_new(&co2, &err);
    c = bc_open();
    get_ok(c, "/identity", "verified=0 cn= o=,");
    bc_puts(c, "GET /auth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekret\r\n\r\n");
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    bc_puts(c, "GET /auth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 401);
    resp_free(&r);
    bc_close(c);
    /* plain HTTP on the TLS port: the handshake fails, the server goes on */
    int fd = raw_connect(S.port);
    (void)!write(fd, "GET / HTTP/1.1\r\n\r\n", 18);
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
    /* random bytes, and a real handshake followed by random records */
    unsigned seed = 777;
    for (int i = 0; i < 100; i++) {
        char junk[2048];
        size_t n = 1 + (size_t)(rand_r(&seed) % sizeof(junk));
        for (size_t k = 0; k < n; k++)
            junk[k] = (char)rand_r(&seed);
        if (i % 2) {
            junk[0] = 0x16; /* looks like a handshake record */
            junk[1] = 3;
            junk[2] = 3;
            fd = raw_connect(S.port);
            (void)!write(fd, junk, n);
            close(fd);
        } else {
            c = bc_open();
            (void)!write(c->fd, junk, n);
            bc_close(c);
        }
    }
    c = bc_open();
    get_ok(c, "/hello", "hello");
    bc_close(c);
    srv_stop();
    reef_tls_config_unref(client_tls);
    rm_certs();
}

/* ---------- WebSocket ---------- */

struct wsmsg {
    int op;
    struct reef_buf data;
};

/* Messages read from the server and not yet looked at. */
static struct wsmsg wsq[16];
static int wsq_n;

static int ws_collect(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    CHECK(wsq_n < 16);
    struct wsmsg *m = &wsq[wsq_n++];
    memset(m, 0, sizeof(*m));
    m->op = op;
    reef_buf_append(&m->data, data, len);
    return 0;
}

/* Reads one frame/message from the server. */
static void ws_read(struct bc *c, struct reef_ws_reader *rd, struct wsmsg *m)
{
    while (wsq_n == 0) {
        if (c->in.len) {
            int code;
            struct reef_err err;
            ssize_t n = reef_ws_reader_feed(rd, (const uint8_t *)c->in.data, c->in.len, ws_collect,
                                            NULL, &code, &err);
            if (n < 0)
                TEST_FAIL("ws: %s", err.msg);
            reef_buf_consume(&c->in, (size_t)n);
            continue;
        }
        if (bc_fill(c) <= 0)
            TEST_FAIL("ws: connection ended");
    }
    *m = wsq[0];
    memmove(wsq, wsq + 1, sizeof(wsq[0]) * (size_t)--wsq_n);
}

static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};

static void ws_write(struct bc *c, bool fin, enum reef_ws_opcode op, const void *d, size_t n)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_ws_write_frame(&b, fin, op, d, n, mask), ==, 0);
    bc_write(c, b.data, b.len);
    reef_buf_free(&b);
}

static struct bc *ws_open(const char *protocols, struct resp *r)
{
    struct bc *c = bc_open();
    char req[512];
    snprintf(req, sizeof(req),
             "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
             "%s%s%s\r\n",
             protocols ? "Sec-WebSocket-Protocol: " : "", protocols ? protocols : "",
             protocols ? "\r\n" : "");
    bc_puts(c, req);
    CHECK_INT(bc_response(c, r, false), ==, 0);
    return c;
}

static void websocket_echo(void)
{
    atomic_store(&ws_close_code, 0);
    struct resp r;
    struct bc *c = ws_open("v4.channel.k8s.io, v5.channel.k8s.io", &r);
    CHECK_INT(r.status, ==, 101);
    CHECK_STR(hdr(&r, "sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_STR(hdr(&r, "sec-websocket-protocol"), "v5.channel.k8s.io");
    resp_free(&r);
    struct reef_ws_reader *rd = reef_ws_reader_new(false, 1 << 24);
    struct wsmsg m;
    /* text echo */
    ws_write(c, true, REEF_WS_TEXT, "hi there", 8);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_TEXT);
    CHECK_INT(m.data.len, ==, 8);
    CHECK(memcmp(m.data.data, "hi there", 8) == 0);
    reef_buf_free(&m.data);
    /* a fragmented binary message with a ping in between: pong first, then the echo */
    uint8_t bin[70000];
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (uint8_t)(i * 13);
    ws_write(c, false, REEF_WS_BINARY, bin, 30000);
    ws_write(c, true, REEF_WS_PING, "pp", 2);
    ws_write(c, true, REEF_WS_CONT, bin + 30000, sizeof(bin) - 30000);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_PONG);
    CHECK_INT(m.data.len, ==, 2);
    CHECK(memcmp(m.data.data, "pp", 2) == 0);
    reef_buf_free(&m.data);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_BINARY);
    CHECK_INT(m.data.len, ==, sizeof(bin));
    CHECK(memcmp(m.data.data, bin, sizeof(bin)) == 0);
    reef_buf_free(&m.data);
    CHECK_INT(atomic_load(&ws_drains), >, 0);
    /* client-initiated close: the server echoes the code and closes the TCP connection */
    struct reef_buf b = REEF_BUF_INIT;
    reef_ws_write_close(&b, 1000, "done", mask);
    bc_write(c, b.data, b.len);
    reef_buf_free(&b);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_CLOSE);
    CHECK_INT(m.data.len, >=, 2);
    CHECK_INT((uint8_t)m.data.data[0] << 8 | (uint8_t)m.data.data[1], ==, 1000);
    reef_buf_free(&m.data);
    CHECK(bc_eof(c));
    bc_close(c);
    reef_ws_reader_free(rd);
    for (int i = 0; i < 200 && atomic_load(&ws_close_code) == 0; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&ws_close_code), ==, 1000);

    /* server-initiated close */
    atomic_store(&ws_close_code, 0);
    c = ws_open(NULL, &r);
    CHECK_INT(r.status, ==, 101);
    CHECK(hdr(&r, "sec-websocket-protocol") == NULL);
    resp_free(&r);
    rd = reef_ws_reader_new(false, 1 << 20);
    ws_write(c, true, REEF_WS_TEXT, "close", 5);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_CLOSE);
    CHECK_INT((uint8_t)m.data.data[0] << 8 | (uint8_t)m.data.data[1], ==, 1000);
    CHECK(m.data.len == 5 && memcmp(m.data.data + 2, "bye", 3) == 0);
    reef_buf_free(&m.data);
    b = (struct reef_buf)REEF_BUF_INIT;
    reef_ws_write_close(&b, 1000, "", mask);
    bc_write(c, b.data, b.len);
    reef_buf_free(&b);
    CHECK(bc_eof(c));
    bc_close(c);
    reef_ws_reader_free(rd);
    for (int i = 0; i < 200 && atomic_load(&ws_close_code) == 0; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&ws_close_code), ==, 1000);

    /* an unmasked frame from a client is a protocol error: close 1002 */
    c = ws_open(NULL, &r);
    resp_free(&r);
    rd = reef_ws_reader_new(false, 1 << 20);
    b = (struct reef_buf)REEF_BUF_INIT;
    reef_ws_write_frame(&b, true, REEF_WS_TEXT, "x", 1, NULL);
    bc_write(c, b.data, b.len);
    reef_buf_free(&b);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_CLOSE);
    CHECK_INT((uint8_t)m.data.data[0] << 8 | (uint8_t)m.data.data[1], ==, 1002);
    reef_buf_free(&m.data);
    CHECK(bc_eof(c));
    bc_close(c);
    reef_ws_reader_free(rd);
}

static void test_websocket(void)
{
    srv_start(NULL);
    websocket_echo();
    /* refused upgrades */
    struct resp r;
    struct bc *c = ws_open("chat", &r);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    bc_close(c);
    c = bc_open();
    bc_puts(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 426);
    CHECK_STR(hdr(&r, "sec-websocket-version"), "13");
    resp_free(&r);
    bc_close(c);
    c = bc_open();
    bc_puts(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    bc_close(c);
    still_serving();
    /* shutdown tells WebSocket peers: CLOSE 1001, then the connection ends */
    c = ws_open(NULL, &r);
    CHECK_INT(r.status, ==, 101);
    resp_free(&r);
    S.grace_ms = 200;
    srv_stop();
    struct reef_ws_reader *rd = reef_ws_reader_new(false, 1 << 20);
    struct wsmsg m;
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_CLOSE);
    CHECK_INT((uint8_t)m.data.data[0] << 8 | (uint8_t)m.data.data[1], ==, 1001);
    reef_buf_free(&m.data);
    CHECK(bc_eof(c));
    bc_close(c);
    reef_ws_reader_free(rd);
}

static void test_websocket_tls(void)
{
    make_certs();
    struct reef_err err = {0};
    struct reef_tls_client_opts co = {.ca_file = path("ca.crt")};
    client_tls = reef_tls_config_client_new(&co, &err);
    srv_start_tls(NULL, true);
    websocket_echo();
    srv_stop();
    reef_tls_config_unref(client_tls);
    rm_certs();
}

static void dummy_handler(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    reef_http_res_send(res, 204, NULL, NULL, 0);
}

/* Binding a port in use fails with a clear message and leaves nothing behind. */
static void test_bind_error(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct reef_err err = {0};
    struct reef_http_server_opts o = {.addr = "127.0.0.1", .port = 0, .handler = dummy_handler};
    struct reef_http_server *s = reef_http_server_new(&loop, &o, &err);
    CHECK(s != NULL);
    o.port = reef_http_server_port(s);
    CHECK(reef_http_server_new(&loop, &o, &err) == NULL);
    CHECK(strstr(err.msg, "address already in use") != NULL);
    o.addr = "not-an-address";
    CHECK(reef_http_server_new(&loop, &o, &err) == NULL);
    CHECK(strstr(err.msg, "bad address") != NULL);
    reef_http_server_shutdown(s, 0, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    reef_http_server_free(s);
    CHECK_INT(uv_loop_close(&loop), ==, 0);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    TEST_RUN(test_basic);
    TEST_RUN(test_basic_tls);
    TEST_RUN(test_pipelined);
    TEST_RUN(test_large);
    TEST_RUN(test_large_tls);
    TEST_RUN(test_malformed);
    TEST_RUN(test_streamed_upload);
    TEST_RUN(test_concurrency);
    TEST_RUN(test_garbage_storm);
    TEST_RUN(test_header_timeout);
    TEST_RUN(test_connection_limit);
    TEST_RUN(test_streaming_watch);
    TEST_RUN(test_abandoned_response);
    TEST_RUN(test_graceful_shutdown);
    TEST_RUN(test_tls_identity);
    TEST_RUN(test_websocket);
    TEST_RUN(test_websocket_tls);
    TEST_RUN(test_bind_error);
    return test_done();
}
