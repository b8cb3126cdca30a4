/* http_fixture: what the HTTP and TLS unit tests share (static, included by each test program).
 *
 * Always: certificates made at test time by the openssl command-line tool in a fresh temporary
 * directory — an EC P-256 CA, a server certificate for 127.0.0.1 and localhost, a client
 * certificate with a CN and two O values, and a second CA (otherca) with a client certificate of
 * its own (rogue, not trusted by ca).
 *
 * With HTTP_FIXTURE_SERVER defined before inclusion: the core/http_server under test on its own
 * loop in a thread, with the handlers test_http_server*.c drive, and a blocking raw-socket client
 * (optionally TLS via core/tls) that writes exact bytes. Each test runs in a forked child, so the
 * static state here is per test. */
#ifndef REEF_TESTS_UNIT_HTTP_FIXTURE_H
#define REEF_TESTS_UNIT_HTTP_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/test.h"

/* ---------- certificates (openssl CLI, at test time) ---------- */

static char dir[64];

static inline char *path(const char *name)
{
    static char p[8][128];
    static int i;
    char *r = p[i++ % 8];
    snprintf(r, 128, "%s/%s", dir, name);
    return r;
}

static inline void make_certs(void)
{
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        TEST_SKIP("no openssl command");
    snprintf(dir, sizeof(dir), "/tmp/reef-certs-XXXXXX");
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
             "n=100; ca ca; ca otherca\n"
             "leaf server /CN=localhost ca 'subjectAltName=IP:127.0.0.1,DNS:localhost'\n"
             "leaf client '/O=system:masters/O=reef:nodes/CN=alice' ca "
             "'extendedKeyUsage=clientAuth'\n"
             "leaf rogue '/O=system:masters/CN=mallory' otherca 'extendedKeyUsage=clientAuth'\n",
             dir);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof(cmd), "cat %s/log >&2", dir);
        (void)system(cmd);
        TEST_FAIL("openssl failed (see %s/log)", dir);
    }
}

static inline void rm_certs(void)
{
    if (!dir[0])
        return;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)system(cmd);
}

#ifdef HTTP_FIXTURE_SERVER

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/http_server.h"
#include "core/ws.h"

/* ---------- the server under test, on its own thread ---------- */

static atomic_int watch_closed, watches_open, ws_close_code, handler_calls;

struct watch {
    uv_timer_t timer;
    struct reef_http_res *res;
    int n;
};

static inline void watch_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static inline void watch_tick(uv_timer_t *t)
{
    struct watch *w = t->data;
    char line[64];
    int n = snprintf(line, sizeof(line), "event %d\n", ++w->n);
    /* back-pressure: a slow reader does not make the queue grow */
    if (reef_http_res_queued(w->res) < 65536)
        reef_http_res_write(w->res, line, (size_t)n);
}

static inline void watch_gone(void *ud, struct reef_http_res *res)
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

static inline void slow_closed(uv_handle_t *h)
{
    free(h->data);
}

static inline void slow_fire(uv_timer_t *t)
{
    struct slow *s = t->data;
    if (s->res)
        reef_http_res_send(s->res, 200, "text/plain", "slow", 4);
    uv_close((uv_handle_t *)&s->timer, slow_closed);
}

static inline void slow_gone(void *ud, struct reef_http_res *res)
{
    struct slow *s = ud;
    s->res = NULL;
}

/* chunked generator with back-pressure via the drain callback */
struct gen {
    struct reef_http_res *res;
    size_t left, off;
};

static inline void gen_pump(void *ud, struct reef_http_res *res)
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

static inline void gen_gone(void *ud, struct reef_http_res *res)
{
    free(ud);
}

static inline void ws_msg(void *ud, struct reef_ws_conn *ws, enum reef_ws_opcode op,
                          const uint8_t *data, size_t len)
{
    if (op == REEF_WS_TEXT && len == 5 && memcmp(data, "close", 5) == 0) {
        reef_ws_close(ws, 1000, "bye");
        return;
    }
    reef_ws_send(ws, op, data, len);
}

static atomic_int ws_drains;

static inline void ws_drained(void *ud, struct reef_ws_conn *ws)
{
    CHECK_INT(reef_ws_queued(ws), ==, 0);
    atomic_fetch_add(&ws_drains, 1);
}

static inline void ws_closed(void *ud, struct reef_ws_conn *ws, int code)
{
    atomic_store(&ws_close_code, code);
}

static uv_loop_t *srv_loop;
static size_t upload_bytes;

/* /hold: answered 300 ms later from a timer, without a close callback */
static atomic_int held_rc = 1;
static uv_timer_t hold_timer;

static inline void hold_fire(uv_timer_t *t)
{
    atomic_store(&held_rc, reef_http_res_send(t->data, 200, "text/plain", "late", 4));
    uv_close((uv_handle_t *)t, NULL);
}

static inline int upload_data(void *ud, const char *d, size_t n)
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

static inline void resume_body(uv_timer_t *t)
{
    paused_now = false;
    if (paused_res)
        reef_http_res_pause_body(paused_res, false);
}

static inline void resume_timer_closed(uv_handle_t *h)
{
}

static inline void paused_gone(void *ud, struct reef_http_res *res)
{
    paused_res = NULL;
}

static inline int upload_data_paced(void *ud, const char *d, size_t n)
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
static inline void head_hook(void *ud, struct reef_http_req *req, struct reef_http_res *res)
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

static struct reef_http_server *fixture_srv; /* for the output barrier routes */

static inline void handler(void *ud, struct reef_http_req *req, struct reef_http_res *res)
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
    } else if (strcmp(req->path, "/barrier-on") == 0) {
        reef_http_server_hold(fixture_srv, true);
        reef_http_res_send(res, 200, "text/plain", "on", 2);
    } else if (strcmp(req->path, "/barrier-discard") == 0) {
        reef_http_res_send(res, 200, "text/plain", "never seen", 10);
        reef_http_server_discard_held(fixture_srv);
        reef_http_server_hold(fixture_srv, false);
    } else if (strcmp(req->path, "/barrier-off") == 0) {
        char b[16];
        int n = snprintf(b, sizeof(b), "off %d", reef_http_server_held(fixture_srv));
        reef_http_server_hold(fixture_srv, false);
        reef_http_res_send(res, 200, "text/plain", b, (size_t)n);
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

static inline void on_server_closed(void *ud)
{
    struct srv *s = ud;
    reef_http_server_free(s->s);
    s->s = NULL;
    atomic_store(&s->done, 1);
}

static inline void on_stop(uv_async_t *a)
{
    struct srv *s = a->data;
    uv_close((uv_handle_t *)&s->stop, NULL);
    reef_http_server_shutdown(s->s, s->grace_ms, on_server_closed, s);
}

static inline void *srv_main(void *arg)
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
    fixture_srv = s->s;
    (void)!write(s->ready[1], "x", 1);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    s->loop_close = uv_loop_close(&s->loop);
    return NULL;
}

static inline void srv_start(const struct reef_http_server_opts *o)
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

static inline void srv_start_tls(const struct reef_http_server_opts *o, bool client_ca)
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
static inline void srv_stop(void)
{
    uv_async_send(&S.stop);
    pthread_join(S.th, NULL);
    CHECK_INT(atomic_load(&S.done), ==, 1);
    CHECK_INT(S.loop_close, ==, 0);
    close(S.ready[0]);
    close(S.ready[1]);
}

static inline double now_ms(void)
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

static inline int raw_connect(int port)
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

static inline void bc_flush(struct bc *c)
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

static inline struct bc *bc_open(void)
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

static inline void bc_close(struct bc *c)
{
    close(c->fd);
    reef_tls_free(c->tls);
    reef_buf_free(&c->in);
    free(c);
}

static inline void bc_write(struct bc *c, const void *data, size_t len)
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

static inline void bc_puts(struct bc *c, const char *s)
{
    bc_write(c, s, strlen(s));
}

/* Reads more plaintext into c->in. Returns bytes added, 0 on EOF, -1 on error or timeout. */
static inline ssize_t bc_fill(struct bc *c)
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

static inline int r_head(void *ud, const struct reef_http_msg *m)
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

static inline int r_body(void *ud, const char *d, size_t n)
{
    return reef_buf_append(&((struct resp *)ud)->body, d, n);
}

static inline int r_end(void *ud)
{
    ((struct resp *)ud)->done = true;
    return 0;
}

static inline void resp_free(struct resp *r)
{
    reef_buf_free(&r->headers);
    reef_buf_free(&r->body);
}

/* Reads one response. Returns 0, or -1 when the connection ended first. */
static inline int bc_response(struct bc *c, struct resp *r, bool head)
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
static inline bool bc_eof(struct bc *c)
{
    for (;;) {
        ssize_t n = bc_fill(c);
        if (n == 0)
            return true;
        if (n < 0)
            return errno == ECONNRESET;
    }
}

static inline const char *hdr(struct resp *r, const char *name)
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

static inline void get_ok(struct bc *c, const char *target, const char *want_body)
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
static inline void still_serving(void)
{
    struct bc *c = bc_open();
    get_ok(c, "/hello", "hello");
    bc_close(c);
}

#endif /* HTTP_FIXTURE_SERVER */

#endif
