/* http_client: calls, connections, redirects and the keep-alive pool. */
#include "core/http_client_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/tls.h"

#define READ_CHUNK 65536

struct cconn {
    struct reef_http_client *cl;
    struct cconn *next; /* idle pool */
    uv_tcp_t tcp;
    uv_timer_t idle;
    uv_connect_t connect;
    int nclosed;
    bool closing, reading, pooled;
    struct reef_tls *tls;
    char key[300];
    struct reef_http_call *call;
    struct reef_buf in; /* plaintext not yet parsed, from in_off */
    size_t in_off;
};

struct gai {
    uv_getaddrinfo_t req;
    struct reef_http_call *call; /* NULL once the call gave up on it */
};

struct reef_http_call {
    struct reef_http_client *cl;
    struct reef_http_call *prev, *next;
    reef_http_done_cb cb;
    void *ud;
    char *method;
    struct reef_buf headers; /* the caller's extra headers, "Name: value\r\n" */
    char *body;
    size_t body_len;
    char *auth;       /* "Authorization: ...\r\n" or NULL */
    bool header_auth; /* the caller's headers carry Authorization */
    int (*on_head)(void *ud, const struct reef_http_response *res);
    int (*on_data)(void *ud, const char *data, size_t len);
    struct url u;
    char *url;
    unsigned redirects;
    uv_timer_t timer;
    struct gai *gai;
    struct cconn *conn;
    struct reef_http_parser *parser;
    const struct reef_http_msg *msg;
    bool reused, got_bytes, retried, redirecting, in_1xx, complete, done, connecting;
    struct sockaddr_storage addrs[4]; /* resolved, tried in order */
    int naddrs, addr_i;
    bool feeding; /* inside reef_http_parser_feed: the parser must outlive a cancel */
    char *location;
    struct reef_buf resp;
};

struct reef_http_client {
    uv_loop_t *loop;
    struct reef_http_client_opts opts;
    char *ca_pem, *ca_file, *cert_pem, *cert_file, *key_pem, *key_file;
    struct reef_tls_config *tls;
    struct reef_http_call *calls;
    struct cconn *idle;
    unsigned live; /* calls and connections whose handles are not closed yet */
    unsigned long connects;
    bool freeing;
    char readbuf[READ_CHUNK];
};

static void call_start(struct reef_http_call *call);
static void call_fail(struct reef_http_call *call, struct reef_err *err);
static void conn_feed(struct cconn *k);
static void connect_addr(struct reef_http_call *call, const struct sockaddr *sa);

static bool header_ok(const char *s, bool name)
{
    if (name && !*s)
        return false;
    for (; *s; s++) {
        if (*s == '\r' || *s == '\n')
            return false;
        if (name && (*s <= 0x20 || *s == ':' || *s == 0x7f))
            return false;
    }
    return true;
}

/* --- connections --- */

static void conn_on_closed(uv_handle_t *h)
{
    struct cconn *k = h->data;
    if (++k->nclosed < 2)
        return;
    struct reef_http_client *cl = k->cl;
    reef_tls_free(k->tls);
    reef_buf_free(&k->in);
    free(k);
    if (--cl->live == 0 && cl->freeing) {
        reef_tls_config_unref(cl->tls);
        free(cl->ca_pem), free(cl->ca_file), free(cl->cert_pem), free(cl->cert_file);
        free(cl->key_pem), free(cl->key_file);
        free(cl);
    }
}

static void pool_remove(struct cconn *k)
{
    for (struct cconn **pp = &k->cl->idle; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    k->next = NULL;
    k->pooled = false;
}

static void conn_close(struct cconn *k)
{
    if (k->closing)
        return;
    k->closing = true;
    if (k->pooled)
        pool_remove(k);
    if (k->call && k->call->conn == k)
        k->call->conn = NULL;
    k->call = NULL;
    uv_close((uv_handle_t *)&k->tcp, conn_on_closed);
    uv_close((uv_handle_t *)&k->idle, conn_on_closed);
}

static struct cconn *conn_new(struct reef_http_client *cl, const struct url *u)
{
    struct cconn *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->cl = cl;
    uv_tcp_init(cl->loop, &k->tcp);
    uv_timer_init(cl->loop, &k->idle);
    k->tcp.data = k;
    k->idle.data = k;
    k->connect.data = k;
    cl->live++;
    snprintf(k->key, sizeof(k->key), "%s://%s", u->https ? "https" : "http", u->hostport);
    return k;
}

static void on_idle_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

/* A connection whose response was read completely goes back to the pool, still read so that the
 * server closing it is noticed. */
static void conn_release(struct cconn *k, bool reusable)
{
    struct reef_http_client *cl = k->cl;
    k->call = NULL;
    reef_buf_reset(&k->in);
    k->in_off = 0;
    unsigned same = 0;
    for (struct cconn *i = cl->idle; i; i = i->next)
        same += strcmp(i->key, k->key) == 0;
    if (!reusable || cl->freeing || same >= cl->opts.max_idle_per_host) {
        conn_close(k);
        return;
    }
    k->pooled = true;
    k->next = cl->idle;
    cl->idle = k;
    uv_timer_start(&k->idle, on_idle_timeout, cl->opts.idle_timeout_ms, 0);
}

static int conn_write(struct cconn *k, const void *data, size_t len, struct reef_err *err);

static bool retry_fresh(struct reef_http_call *call);

static void on_write(uv_write_t *req, int status)
{
    struct cconn *k = req->data;
    free(req);
    if (status < 0 && !k->closing && k->call) {
        if (retry_fresh(k->call))
            return;
        struct reef_err err;
        reef_err_set(&err, status, "send: %s", uv_strerror(status));
        call_fail(k->call, &err);
    }
}

static int write_owned(struct cconn *k, char *data, size_t len, struct reef_err *err)
{
    /* the write request and the data in one allocation */
    uv_write_t *req = malloc(sizeof(*req) + len);
    if (!req) {
        free(data);
        return reef_err_set(err, -ENOMEM, "out of memory");
    }
    memcpy(req + 1, data, len);
    free(data);
    req->data = k;
    uv_buf_t b = uv_buf_init((char *)(req + 1), (unsigned)len);
    int r = uv_write(req, (uv_stream_t *)&k->tcp, &b, 1, on_write);
    if (r < 0) {
        free(req);
        return reef_err_set(err, r, "send: %s", uv_strerror(r));
    }
    return 0;
}

static int flush_tls(struct cconn *k, struct reef_err *err)
{
    struct reef_buf *o = reef_tls_out(k->tls);
    if (!o->len)
        return 0;
    size_t len = o->len;
    return write_owned(k, reef_buf_steal(o), len, err);
}

static int conn_write(struct cconn *k, const void *data, size_t len, struct reef_err *err)
{
    if (k->tls) {
        if (reef_tls_write(k->tls, data, len, err) < 0)
            return err ? err->code : -EPROTO;
        return flush_tls(k, err);
    }
    char *copy = malloc(len);
    if (!copy)
        return reef_err_set(err, -ENOMEM, "out of memory");
    memcpy(copy, data, len);
    return write_owned(k, copy, len, err);
}

/* --- calls --- */

static void call_timer_closed(uv_handle_t *h)
{
    struct reef_http_call *call = h->data;
    struct reef_http_client *cl = call->cl;
    free(call);
    if (--cl->live == 0 && cl->freeing) {
        reef_tls_config_unref(cl->tls);
        free(cl->ca_pem), free(cl->ca_file), free(cl->cert_pem), free(cl->cert_file);
        free(cl->key_pem), free(cl->key_file);
        free(cl);
    }
}

static void call_detach_conn(struct reef_http_call *call, bool reusable)
{
    struct cconn *k = call->conn;
    call->conn = NULL;
    if (!k)
        return;
    if (reusable)
        conn_release(k, true);
    else
        conn_close(k);
}

/* Ends the call: the callback runs once, then everything the call owns goes. */
static void call_finish(struct reef_http_call *call, int result, struct reef_err *err)
{
    if (call->done)
        return;
    call->done = true;
    uv_timer_stop(&call->timer);
    if (call->gai) {
        call->gai->call = NULL;
        uv_cancel((uv_req_t *)&call->gai->req);
        call->gai = NULL;
    }
    struct reef_http_client *cl = call->cl;
    if (call->prev)
        call->prev->next = call->next;
    else
        cl->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    if (result < 0) {
        call_detach_conn(call, false);
        char what[REEF_ERR_MSG_MAX];
        snprintf(what, sizeof(what), "%s %s", call->method, call->url);
        if (err->code == 0)
            err->code = result;
        reef_err_wrap(err, "%s", what);
        call->cb(call->ud, result, NULL, err);
    } else {
        struct reef_http_response res = {
            .status = call->msg ? call->msg->status : 0,
            .msg = call->msg,
            .body = call->resp.data ? call->resp.data : "",
            .body_len = call->resp.len,
            .url = call->url,
        };
        call->cb(call->ud, 0, &res, NULL);
    }
    if (!call->feeding) { /* else conn_feed frees it when the parser returns */
        reef_http_parser_free(call->parser);
        call->parser = NULL;
    }
    if (call->conn)
        call_detach_conn(call, false);
    free(call->method);
    reef_buf_free(&call->headers);
    free(call->body);
    free(call->auth);
    free(call->u.path);
    free(call->url);
    free(call->location);
    reef_buf_free(&call->resp);
    uv_close((uv_handle_t *)&call->timer, call_timer_closed);
}

static void call_fail(struct reef_http_call *call, struct reef_err *err)
{
    call_finish(call, err->code ? err->code : -EIO, err);
}

static void call_fail_code(struct reef_http_call *call, int code, const char *fmt, const char *arg)
{
    struct reef_err err;
    reef_err_set(&err, code, fmt, arg);
    call_fail(call, &err);
}

static void on_call_timer(uv_timer_t *t)
{
    struct reef_http_call *call = t->data;
    call_fail_code(call, -ETIMEDOUT, "%s: timed out",
                   call->connecting ? "connect" : "waiting for the response");
}

void reef_http_call_cancel(struct reef_http_call *call)
{
    struct reef_err err;
    reef_err_set(&err, -ECANCELED, "canceled");
    call_finish(call, -ECANCELED, &err);
}

/* Parser callbacks */
static int p_on_head(void *ud, const struct reef_http_msg *msg)
{
    struct reef_http_call *call = ud;
    struct reef_http_client *cl = call->cl;
    call->msg = msg;
    uv_timer_stop(&call->timer);
    if (msg->status >= 100 && msg->status < 200 && msg->status != 101) {
        call->in_1xx = true;
        return 0;
    }
    int st = msg->status;
    const char *loc = reef_http_msg_header(msg, "location");
    if ((st == 301 || st == 302 || st == 303 || st == 307 || st == 308) && loc &&
        !cl->opts.no_redirects) {
        if (call->redirects >= cl->opts.max_redirects)
            return -ELOOP;
        call->redirecting = true;
        call->location = reef__http_url_resolve(&call->u, loc);
        return call->location ? 0 : -ENOMEM;
    }
    if (call->on_head) {
        struct reef_http_response res = {.status = st, .msg = msg, .body = "", .url = call->url};
        int r = call->on_head(call->ud, &res);
        if (r < 0)
            return r;
    }
    return call->done ? -ECANCELED : 0;
}

static int p_on_body(void *ud, const char *data, size_t len)
{
    struct reef_http_call *call = ud;
    if (call->in_1xx || call->redirecting)
        return 0;
    if (call->on_data) {
        int r = call->on_data(call->ud, data, len);
        return call->done ? -ECANCELED : r;
    }
    if (call->resp.len + len > call->cl->opts.max_body)
        return -E2BIG;
    return reef_buf_append(&call->resp, data, len);
}

static int p_on_end(void *ud)
{
    struct reef_http_call *call = ud;
    if (call->in_1xx)
        call->in_1xx = false;
    else
        call->complete = true;
    return 0;
}

static void follow_redirect(struct reef_http_call *call)
{
    struct reef_err err;
    struct url nu;
    if (reef__http_url_parse(call->location, &nu, &err) < 0) {
        reef_err_wrap(&err, "redirect");
        call_fail(call, &err);
        return;
    }
    int st = call->msg->status;
    bool same = nu.https == call->u.https && nu.port == call->u.port &&
                strcasecmp(nu.host, call->u.host) == 0;
    if (!same) {
        /* credentials were meant for the first host only */
        free(call->auth);
        call->auth = NULL;
        if (call->header_auth) {
            struct reef_buf kept = REEF_BUF_INIT;
            const char *p = call->headers.data;
            while (p && *p) {
                const char *e = strstr(p, "\r\n");
                size_t n = (size_t)(e - p) + 2;
                if (strncasecmp(p, "authorization:", 14) != 0)
                    reef_buf_append(&kept, p, n);
                p += n;
            }
            reef_buf_free(&call->headers);
            call->headers = kept;
            call->header_auth = false;
        }
    }
    if (st == 303 || ((st == 301 || st == 302) && strcmp(call->method, "POST") == 0)) {
        if (strcmp(call->method, "HEAD") != 0) {
            free(call->method);
            call->method = strdup("GET");
        }
        free(call->body);
        call->body = NULL;
        call->body_len = 0;
    }
    free(call->u.path);
    call->u = nu;
    free(call->url);
    call->url = call->location;
    call->location = NULL;
    call->redirects++;
    call->redirecting = false;
    call->complete = false;
    call->msg = NULL;
    reef_http_parser_free(call->parser);
    call->parser = NULL;
    reef_buf_reset(&call->resp);
    if (!call->method) {
        call_fail_code(call, -ENOMEM, "%s", "out of memory");
        return;
    }
    call_start(call);
}

static void call_complete(struct reef_http_call *call, bool reusable)
{
    bool keep = reusable && call->msg && call->msg->keep_alive && call->msg->status != 101;
    call_detach_conn(call, keep);
    if (call->redirecting)
        follow_redirect(call);
    else
        call_finish(call, 0, NULL);
}

/* The server closed a kept-alive connection just as it was reused (nothing of a response came):
 * the request goes once more, on a fresh connection. */
static bool retry_fresh(struct reef_http_call *call)
{
    if (!call->reused || call->got_bytes || call->retried)
        return false;
    call->retried = true;
    call_detach_conn(call, false);
    reef_http_parser_free(call->parser);
    call->parser = NULL;
    call_start(call);
    return true;
}

static void conn_on_eof(struct cconn *k, int status)
{
    struct reef_http_call *call = k->call;
    if (!call) {
        conn_close(k);
        return;
    }
    struct reef_err err;
    if (call->parser && call->got_bytes && reef_http_parser_eof(call->parser, &err) == 0 &&
        call->complete) {
        call_complete(call, false);
        return;
    }
    if (retry_fresh(call))
        return;
    reef_err_set(&err, status == UV_EOF ? -ECONNRESET : status,
                 "connection closed before the response was complete%s%s",
                 status == UV_EOF ? "" : ": ", status == UV_EOF ? "" : uv_strerror(status));
    call_fail(call, &err);
}

static void send_request(struct reef_http_call *call)
{
    struct cconn *k = call->conn;
    struct reef_http_client *cl = call->cl;
    struct reef_buf b = REEF_BUF_INIT;
    reef_buf_printf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", call->method, call->u.path,
                    call->u.hostport);
    if (call->headers.len)
        reef_buf_append(&b, call->headers.data, call->headers.len);
    if (call->auth)
        reef_buf_puts(&b, call->auth);
    if (call->body_len || strcmp(call->method, "POST") == 0 || strcmp(call->method, "PUT") == 0 ||
        strcmp(call->method, "PATCH") == 0)
        reef_buf_printf(&b, "Content-Length: %zu\r\n", call->body_len);
    reef_buf_puts(&b, "\r\n");
    if (call->body_len)
        reef_buf_append(&b, call->body, call->body_len);
    struct reef_err err;
    if (!b.data) {
        call_fail_code(call, -ENOMEM, "%s", "out of memory");
        return;
    }
    struct reef_http_parser_cb pcb = {p_on_head, p_on_body, p_on_end};
    call->parser = reef_http_parser_new(REEF_HTTP_RESPONSE, NULL, &pcb, call);
    if (!call->parser) {
        reef_buf_free(&b);
        call_fail_code(call, -ENOMEM, "%s", "out of memory");
        return;
    }
    reef_http_parser_set_head_request(call->parser, strcmp(call->method, "HEAD") == 0);
    call->connecting = false;
    call->got_bytes = false;
    int r = conn_write(k, b.data, b.len, &err);
    reef_buf_free(&b);
    if (r < 0) {
        call_fail(call, &err);
        return;
    }
    uv_timer_start(&call->timer, on_call_timer, cl->opts.response_timeout_ms, 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct cconn *k = h->data;
    buf->base = k->cl->readbuf;
    buf->len = READ_CHUNK;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct cconn *k = st->data;
    if (k->closing || nread == 0)
        return;
    if (!k->call) { /* pooled: any byte or EOF ends it */
        conn_close(k);
        return;
    }
    struct reef_http_call *call = k->call;
    if (nread < 0) {
        conn_on_eof(k, (int)nread);
        return;
    }
    struct reef_err err;
    if (k->tls) {
        if (reef_tls_feed(k->tls, buf->base, (size_t)nread) < 0) {
            call_fail_code(call, -ENOMEM, "%s", "out of memory");
            return;
        }
        if (!reef_tls_handshake_done(k->tls)) {
            int r = reef_tls_handshake(k->tls, &err);
            if (r >= 0 && flush_tls(k, &err) < 0)
                r = err.code;
            if (r < 0) {
                call_fail(call, &err);
                return;
            }
            if (r == 0)
                return;
            send_request(call);
            if (call->done || k->call != call)
                return;
        }
        char tmp[16384];
        for (;;) {
            ssize_t n = reef_tls_read(k->tls, tmp, sizeof(tmp), &err);
            if (n == -EAGAIN)
                break;
            if (n == 0) {
                conn_on_eof(k, UV_EOF);
                return;
            }
            if (n < 0) {
                call_fail(call, &err);
                return;
            }
            if (reef_buf_append(&k->in, tmp, (size_t)n) < 0) {
                call_fail_code(call, -ENOMEM, "%s", "out of memory");
                return;
            }
            /* parse as we go so a large body never sits decrypted in full */
            conn_feed(k);
            if (k->closing || k->call != call)
                return;
        }
    } else {
        if (reef_buf_append(&k->in, buf->base, (size_t)nread) < 0) {
            call_fail_code(call, -ENOMEM, "%s", "out of memory");
            return;
        }
    }
    conn_feed(k);
}

static void conn_feed(struct cconn *k)
{
    struct reef_http_call *call = k->call;
    while (call && !call->done && call->parser && k->in.len > k->in_off) {
        struct reef_err err;
        call->got_bytes = true;
        call->feeding = true;
        ssize_t n = reef_http_parser_feed(call->parser, k->in.data + k->in_off,
                                          k->in.len - k->in_off, &err);
        call->feeding = false;
        if (call->done) {
            reef_http_parser_free(call->parser);
            call->parser = NULL;
            return;
        }
        if (n < 0) {
            if (n == -E2BIG)
                reef_err_set(&err, -E2BIG, "response body larger than %llu bytes",
                             (unsigned long long)call->cl->opts.max_body);
            else if (n == -ELOOP)
                reef_err_set(&err, -ELOOP, "more than %u redirects", call->cl->opts.max_redirects);
            else if (err.code != n)
                reef_err_set(&err, (int)n, "response: %s", strerror((int)-n));
            call_fail(call, &err);
            return;
        }
        k->in_off += (size_t)n;
        if (call->complete) {
            bool clean = k->in_off == k->in.len;
            reef_buf_reset(&k->in);
            k->in_off = 0;
            call_complete(call, clean);
            return;
        }
    }
    if (k->in_off == k->in.len) {
        reef_buf_reset(&k->in);
        k->in_off = 0;
    }
    /* A buffered body must keep arriving; a streamed one (a watch) may pause for hours. */
    if (call && !call->done && call->msg && !call->on_data)
        uv_timer_start(&call->timer, on_call_timer, call->cl->opts.response_timeout_ms, 0);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct cconn *k = req->data;
    struct reef_http_call *call = k->call;
    if (k->closing || !call)
        return;
    struct reef_err err;
    if (status < 0) {
        if (call->addr_i + 1 < call->naddrs) { /* e.g. ::1 refused, 127.0.0.1 next */
            call_detach_conn(call, false);
            connect_addr(call, (struct sockaddr *)&call->addrs[++call->addr_i]);
            return;
        }
        reef_err_set(&err, status, "connect %s: %s", call->u.hostport, uv_strerror(status));
        call_fail(call, &err);
        return;
    }
    uv_tcp_nodelay(&k->tcp, 1);
    uv_tcp_keepalive(&k->tcp, 1, 60);
    int r = uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read);
    if (r < 0) {
        reef_err_set(&err, r, "read: %s", uv_strerror(r));
        call_fail(call, &err);
        return;
    }
    if (!call->u.https) {
        send_request(call);
        return;
    }
    k->tls = reef_tls_new(call->cl->tls, call->u.host, &err);
    if (!k->tls || reef_tls_handshake(k->tls, &err) < 0 || flush_tls(k, &err) < 0) {
        call_fail(call, &err);
        return;
    }
}

static void connect_addr(struct reef_http_call *call, const struct sockaddr *sa)
{
    struct cconn *k = conn_new(call->cl, &call->u);
    if (!k) {
        call_fail_code(call, -ENOMEM, "%s", "out of memory");
        return;
    }
    call->conn = k;
    k->call = call;
    call->cl->connects++;
    int r = uv_tcp_connect(&k->connect, &k->tcp, sa, on_connect);
    if (r < 0) {
        struct reef_err err;
        reef_err_set(&err, r, "connect %s: %s", call->u.hostport, uv_strerror(r));
        call_fail(call, &err);
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct gai *g = (struct gai *)req;
    struct reef_http_call *call = g->call;
    free(g);
    if (!call) {
        uv_freeaddrinfo(res);
        return;
    }
    call->gai = NULL;
    if (status < 0 || !res) {
        struct reef_err err;
        reef_err_set(&err, status < 0 ? status : -ENOENT, "resolve %s: %s", call->u.host,
                     status < 0 ? uv_strerror(status) : "no address");
        uv_freeaddrinfo(res);
        call_fail(call, &err);
        return;
    }
    call->naddrs = 0;
    call->addr_i = 0;
    for (struct addrinfo *ai = res; ai && call->naddrs < 4; ai = ai->ai_next)
        if (ai->ai_addrlen <= sizeof(call->addrs[0]))
            memcpy(&call->addrs[call->naddrs++], ai->ai_addr, ai->ai_addrlen);
    uv_freeaddrinfo(res);
    if (call->naddrs == 0) {
        call_fail_code(call, -ENOENT, "resolve %s: no usable address", call->u.host);
        return;
    }
    connect_addr(call, (struct sockaddr *)&call->addrs[0]);
}

static void call_start(struct reef_http_call *call)
{
    struct reef_http_client *cl = call->cl;
    struct reef_err err;
    if (call->u.https && !cl->tls) {
        struct reef_tls_client_opts to = {.ca_pem = cl->ca_pem,
                                          .ca_file = cl->ca_file,
                                          .cert_pem = cl->cert_pem,
                                          .cert_file = cl->cert_file,
                                          .key_pem = cl->key_pem,
                                          .key_file = cl->key_file,
                                          .insecure_skip_verify = cl->opts.insecure_skip_verify};
        cl->tls = reef_tls_config_client_new(&to, &err);
        if (!cl->tls) {
            call_fail(call, &err);
            return;
        }
    }
    /* a kept-alive connection to the same place */
    char key[300];
    snprintf(key, sizeof(key), "%s://%s", call->u.https ? "https" : "http", call->u.hostport);
    call->reused = false;
    if (!call->retried) {
        for (struct cconn *k = cl->idle; k; k = k->next) {
            if (strcmp(k->key, key) == 0) {
                pool_remove(k);
                uv_timer_stop(&k->idle);
                k->call = call;
                call->conn = k;
                call->reused = true;
                send_request(call);
                return;
            }
        }
    }
    call->connecting = true;
    uv_timer_start(&call->timer, on_call_timer, cl->opts.connect_timeout_ms, 0);
    struct sockaddr_storage *ss = &call->addrs[0];
    call->naddrs = 1;
    call->addr_i = 0;
    if (uv_ip4_addr(call->u.host, call->u.port, (struct sockaddr_in *)ss) == 0 ||
        uv_ip6_addr(call->u.host, call->u.port, (struct sockaddr_in6 *)ss) == 0) {
        connect_addr(call, (struct sockaddr *)ss);
        return;
    }
    struct gai *g = calloc(1, sizeof(*g));
    if (!g) {
        call_fail_code(call, -ENOMEM, "%s", "out of memory");
        return;
    }
    g->call = call;
    call->gai = g;
    char port[8];
    snprintf(port, sizeof(port), "%d", call->u.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int r = uv_getaddrinfo(cl->loop, &g->req, on_resolved, call->u.host, port, &hints);
    if (r < 0) {
        call->gai = NULL;
        free(g);
        reef_err_set(&err, r, "resolve %s: %s", call->u.host, uv_strerror(r));
        call_fail(call, &err);
    }
}

static void on_call_start(uv_timer_t *t)
{
    call_start(t->data);
}

/* --- the client --- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct reef_http_client *reef_http_client_new(uv_loop_t *loop,
                                              const struct reef_http_client_opts *opts,
                                              struct reef_err *err)
{
    struct reef_http_client *cl = calloc(1, sizeof(*cl));
    if (!cl) {
        reef_err_set(err, -ENOMEM, "http client: out of memory");
        return NULL;
    }
    cl->loop = loop;
    if (opts)
        cl->opts = *opts;
    struct reef_http_client_opts *o = &cl->opts;
    if (!o->connect_timeout_ms)
        o->connect_timeout_ms = 10000;
    if (!o->response_timeout_ms)
        o->response_timeout_ms = 30000;
    if (!o->max_redirects)
        o->max_redirects = 10;
    if (!o->max_body)
        o->max_body = 64u << 20;
    if (!o->max_idle_per_host)
        o->max_idle_per_host = 4;
    if (!o->idle_timeout_ms)
        o->idle_timeout_ms = 30000;
    cl->ca_pem = dup_or_null(o->ca_pem);
    cl->ca_file = dup_or_null(o->ca_file);
    cl->cert_pem = dup_or_null(o->cert_pem);
    cl->cert_file = dup_or_null(o->cert_file);
    cl->key_pem = dup_or_null(o->key_pem);
    cl->key_file = dup_or_null(o->key_file);
    o->ca_pem = o->ca_file = o->cert_pem = o->cert_file = o->key_pem = o->key_file = NULL;
    return cl;
}

void reef_http_client_free(struct reef_http_client *cl)
{
    if (!cl)
        return;
    cl->freeing = true;
    while (cl->calls)
        reef_http_call_cancel(cl->calls);
    while (cl->idle)
        conn_close(cl->idle);
    if (cl->live == 0) {
        reef_tls_config_unref(cl->tls);
        free(cl->ca_pem), free(cl->ca_file), free(cl->cert_pem), free(cl->cert_file);
        free(cl->key_pem), free(cl->key_file);
        free(cl);
    }
}

unsigned long reef_http_client_connects(const struct reef_http_client *cl)
{
    return cl->connects;
}

int reef_http_client_request(struct reef_http_client *cl, const struct reef_http_request *rq,
                             reef_http_done_cb cb, void *ud, struct reef_http_call **out,
                             struct reef_err *err)
{
    const char *method = rq->method ? rq->method : "GET";
    if (!header_ok(method, true))
        return reef_err_set(err, -EINVAL, "http: bad method \"%.40s\"", method);
    if (!rq->url)
        return reef_err_set(err, -EINVAL, "http: no URL");
    struct reef_http_call *call = calloc(1, sizeof(*call));
    if (!call)
        return reef_err_set(err, -ENOMEM, "http: out of memory");
    int r = reef__http_url_parse(rq->url, &call->u, err);
    if (r < 0) {
        free(call);
        return reef_err_wrap(err, "http");
    }
    call->cl = cl;
    call->cb = cb;
    call->ud = ud;
    call->on_head = rq->on_head;
    call->on_data = rq->on_data;
    call->method = strdup(method);
    call->url = strdup(rq->url);
    for (size_t i = 0; i < rq->nheaders; i++) {
        const struct reef_http_header *h = &rq->headers[i];
        if (!header_ok(h->name, true) || !header_ok(h->value, false)) {
            r = reef_err_set(err, -EINVAL, "http: bad header \"%.40s\"", h->name);
            goto fail;
        }
        if (strcasecmp(h->name, "host") == 0 || strcasecmp(h->name, "content-length") == 0)
            continue;
        if (strcasecmp(h->name, "authorization") == 0)
            call->header_auth = true;
        reef_buf_printf(&call->headers, "%s: %s\r\n", h->name, h->value);
    }
    if (rq->bearer_token || rq->basic_user) {
        struct reef_buf a = REEF_BUF_INIT;
        if (rq->bearer_token) {
            if (!header_ok(rq->bearer_token, false)) {
                r = reef_err_set(err, -EINVAL, "http: bad bearer token");
                goto fail;
            }
            reef_buf_printf(&a, "Authorization: Bearer %s\r\n", rq->bearer_token);
        } else {
            struct reef_buf up = REEF_BUF_INIT;
            reef_buf_printf(&up, "%s:%s", rq->basic_user, rq->basic_pass ? rq->basic_pass : "");
            reef_buf_puts(&a, "Authorization: Basic ");
            reef__http_base64(&a, (const unsigned char *)(up.data ? up.data : ""), up.len);
            reef_buf_puts(&a, "\r\n");
            reef_buf_free(&up);
        }
        call->auth = reef_buf_steal(&a);
    }
    if (rq->body_len) {
        call->body = malloc(rq->body_len);
        if (call->body)
            memcpy(call->body, rq->body, rq->body_len);
        call->body_len = rq->body_len;
    }
    if (!call->method || !call->url || (rq->body_len && !call->body) ||
        ((rq->bearer_token || rq->basic_user) && !call->auth)) {
        r = reef_err_set(err, -ENOMEM, "http: out of memory");
        goto fail;
    }
    uv_timer_init(cl->loop, &call->timer);
    call->timer.data = call;
    cl->live++;
    call->next = cl->calls;
    if (cl->calls)
        cl->calls->prev = call;
    cl->calls = call;
    if (out)
        *out = call;
    /* started from the loop, so the callback never runs inside this call */
    uv_timer_start(&call->timer, on_call_start, 0, 0);
    return 0;
fail:
    free(call->method);
    free(call->url);
    free(call->auth);
    free(call->body);
    free(call->u.path);
    reef_buf_free(&call->headers);
    free(call);
    return r;
}
