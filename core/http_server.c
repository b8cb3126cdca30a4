/* http_server: connections, input, output and timers. The response API is in http_server_res.c,
 * WebSocket in http_server_ws.c; http_server_int.h is what they share. */
#include "core/http_server_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define READ_CHUNK 65536
#define LINGER_MS 2000
/* Connections past max_connections get a 503; this many at most at once, the rest are dropped. */
#define MAX_REJECTING 64
#define MAX_QUEUED_BEFORE_PAUSE (4u << 20)

static void conn_process(struct conn *c);
static void conn_update_reading(struct conn *c);

/* --- timers --- */

void reef__http_conn_timer(struct conn *c, unsigned ms)
{
    if (c->closing)
        return;
    c->kick = false; /* the timer gets another meaning */
    if (ms == 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, reef__http_on_timer, ms, 0);
}

static void linger_start(struct conn *c);

/* Input is processed from the loop after something the handler did (finishing a response,
 * resuming a body, accepting a WebSocket), so handler callbacks never nest inside its own calls. */
void reef__http_conn_kick(struct conn *c)
{
    if (c->closing || c->kick)
        return;
    c->kick = true;
    uv_timer_start(&c->timer, reef__http_on_timer, 0, 0);
}

/* After a kick the timer means again what the phase wants. */
static void phase_timer(struct conn *c)
{
    struct reef_http_server *s = c->srv;
    switch (c->phase) {
    case P_IDLE:
        reef__http_conn_timer(c, s->opts.idle_timeout_ms);
        break;
    case P_HEAD:
        reef__http_conn_timer(c, s->opts.header_timeout_ms);
        break;
    case P_BODY:
        reef__http_conn_timer(c, c->res && c->res->body_paused ? 0 : s->opts.idle_timeout_ms);
        break;
    case P_WS:
        reef__http_conn_timer(c, c->ws && c->ws->close_sent ? REEF__WS_CLOSE_WAIT_MS : 0);
        break;
    default:
        reef__http_conn_timer(c, 0);
        break;
    }
}

void reef__http_on_timer(uv_timer_t *t)
{
    struct conn *c = t->data;
    if (c->kick) {
        conn_process(c);
        return;
    }
    switch (c->phase) {
    case P_HEAD:
        /* A client that started a request and stalled: tell it, then go. Before any byte (or
         * during the TLS handshake) there is nobody to tell. */
        if (!c->tls || reef_tls_handshake_done(c->tls)) {
            if (c->in.len > c->in_off || !reef_http_parser_idle(c->parser)) {
                LOG_DEBUG("http", "header timeout remote=%s", c->remote);
                reef__http_send_error(c, 408);
                return;
            }
        }
        reef__http_conn_close(c);
        return;
    case P_WS:
        reef__http_conn_close(c);
        return;
    case P_LINGER:
    default:
        reef__http_conn_close(c);
        return;
    }
}

/* --- closing --- */

static void srv_maybe_done(struct reef_http_server *s);
static void drop_held(struct conn *c);

static void on_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (++c->nclosed < 2)
        return;
    struct reef_http_server *s = c->srv;
    /* user callbacks for what the connection took with it run here, from the loop */
    reef__http_res_notify_gone(c);
    if (c->ws)
        reef__http_ws_free(c->ws);
    reef_http_parser_free(c->parser);
    reef_tls_free(c->tls);
    reef_buf_free(&c->in);
    free(c);
    s->alive--;
    srv_maybe_done(s);
}

void reef__http_conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    c->phase = P_CLOSED;
    struct reef_http_server *s = c->srv;
    /* unlink now: the server no longer counts it, though its memory lives until the close cbs */
    if (c->prev)
        c->prev->next = c->next;
    else if (s->conns == c)
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    if (c->rejecting)
        s->nrejecting--;
    else
        s->nconns--;
    if (s->nconns + 1 < s->opts.max_connections)
        s->limit_warned = false;
    if (c->res)
        reef__http_res_conn_gone(c, c->res);
    c->res = NULL;
    if (c->ws)
        reef__http_ws_conn_gone(c->ws); /* told and freed with the connection */
    drop_held(c);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void on_linger_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    free(req);
    if (status < 0 || c->eof) /* nothing more to drain from a client that already finished */
        reef__http_conn_close(c);
}

/* A connection that answered its last response: send FIN, then read and drop whatever the client
 * still sends for a moment, so a client that was still sending does not get an RST that destroys
 * the response before it read it. */
static void linger_start(struct conn *c)
{
    if (c->closing || c->phase == P_LINGER)
        return;
    c->phase = P_LINGER;
    if (c->tls) {
        reef_tls_close_notify(c->tls);
        reef__http_flush_tls(c);
        if (c->closing)
            return;
    }
    uv_shutdown_t *req = malloc(sizeof(*req));
    if (!req) {
        reef__http_conn_close(c);
        return;
    }
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_linger_shutdown) < 0) {
        free(req);
        reef__http_conn_close(c);
        return;
    }
    reef__http_conn_timer(c, LINGER_MS);
    conn_update_reading(c);
}

void reef__http_close_after_write(struct conn *c)
{
    if (c->closing)
        return;
    c->close_after_write = true;
    if (c->queued == 0)
        linger_start(c);
}

/* --- output --- */

struct out_write {
    uv_write_t req;
    struct conn *c;
    char *data;
    size_t len;
    struct out_write *next; /* while held */
};

static void on_write(uv_write_t *req, int status)
{
    struct out_write *w = (struct out_write *)req;
    struct conn *c = w->c;
    c->queued -= w->len;
    free(w->data);
    free(w);
    if (c->closing)
        return;
    if (status < 0) {
        LOG_DEBUG("http", "write failed remote=%s: %s", c->remote, uv_strerror(status));
        reef__http_conn_close(c);
        return;
    }
    if (c->queued > 0)
        return;
    if (c->close_after_write) {
        linger_start(c);
        return;
    }
    if (c->res)
        reef__http_res_drained(c->res);
    else if (c->ws)
        reef__http_ws_drained(c->ws);
    /* a pipelining client may have been paused on output */
    conn_update_reading(c);
}

static int write_out(struct conn *c, struct out_write *w)
{
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    int r = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (r < 0) {
        c->queued -= w->len;
        free(w->data);
        free(w);
        reef__http_conn_close(c);
        return -EPIPE;
    }
    return 0;
}

/* Queues data (owned: freed after the write) for the socket, or behind the barrier. */
static int send_owned(struct conn *c, char *data, size_t len)
{
    struct out_write *w = malloc(sizeof(*w));
    if (!w) {
        free(data);
        reef__http_conn_close(c);
        return -ENOMEM;
    }
    w->c = c;
    w->data = data;
    w->len = len;
    w->next = NULL;
    c->queued += len;
    struct reef_http_server *s = c->srv;
    if (!s->hold)
        return write_out(c, w);
    if (c->held_tail)
        c->held_tail->next = w;
    else
        c->held_head = w;
    c->held_tail = w;
    if (!c->held_listed) {
        c->held_listed = true;
        c->held_next = s->held_conns;
        s->held_conns = c;
    }
    return 0;
}

/* Drops a closing connection's held output and takes it off the server's list. */
static void drop_held(struct conn *c)
{
    struct reef_http_server *s = c->srv;
    if (c->held_listed) {
        struct conn **pp = &s->held_conns;
        while (*pp && *pp != c)
            pp = &(*pp)->held_next;
        if (*pp)
            *pp = c->held_next;
        c->held_listed = false;
    }
    while (c->held_head) {
        struct out_write *w = c->held_head;
        c->held_head = w->next;
        c->queued -= w->len;
        free(w->data);
        free(w);
    }
    c->held_tail = NULL;
}

void reef_http_server_release(struct reef_http_server *s)
{
    while (s->held_conns) {
        struct conn *c = s->held_conns;
        s->held_conns = c->held_next;
        c->held_listed = false;
        struct out_write *w = c->held_head;
        c->held_head = c->held_tail = NULL;
        while (w) {
            struct out_write *next = w->next;
            if (c->closing) {
                c->queued -= w->len;
                free(w->data);
                free(w);
            } else {
                write_out(c, w); /* on failure the connection closes; the rest is dropped */
            }
            w = next;
        }
    }
}

void reef_http_server_hold(struct reef_http_server *s, bool on)
{
    s->hold = on;
    if (!on)
        reef_http_server_release(s);
}

bool reef_http_server_held(const struct reef_http_server *s)
{
    return s->held_conns != NULL;
}

void reef_http_server_discard_held(struct reef_http_server *s)
{
    while (s->held_conns)
        reef__http_conn_close(s->held_conns); /* drops its output and unlinks it */
}

int reef__http_flush_tls(struct conn *c)
{
    struct reef_buf *o = reef_tls_out(c->tls);
    if (o->len == 0)
        return 0;
    size_t len = o->len;
    char *data = reef_buf_steal(o);
    if (!data) {
        reef__http_conn_close(c);
        return -ENOMEM;
    }
    return send_owned(c, data, len);
}

/* Sends bytes (copied, or encrypted into a new buffer). */
int reef__http_send(struct conn *c, const void *data, size_t len)
{
    if (c->closing || c->phase == P_LINGER)
        return -EPIPE;
    if (len == 0)
        return 0;
    if (c->tls) {
        struct reef_err err;
        if (reef_tls_write(c->tls, data, len, &err) < 0) {
            LOG_DEBUG("http", "remote=%s: %s", c->remote, err.msg);
            reef__http_conn_close(c);
            return -EPIPE;
        }
        return reef__http_flush_tls(c);
    }
    char *copy = malloc(len);
    if (!copy) {
        reef__http_conn_close(c);
        return -ENOMEM;
    }
    memcpy(copy, data, len);
    return send_owned(c, copy, len);
}

/* Takes the buffer's memory. */
int reef__http_send_buf(struct conn *c, struct reef_buf *b)
{
    if (c->closing || c->phase == P_LINGER) {
        reef_buf_free(b);
        return -EPIPE;
    }
    if (c->tls) {
        int r = reef__http_send(c, b->data, b->len);
        reef_buf_free(b);
        return r;
    }
    if (b->len == 0) {
        reef_buf_free(b);
        return 0;
    }
    size_t len = b->len;
    return send_owned(c, reef_buf_steal(b), len);
}

/* An error status for a request the server could not take (malformed, too large, too slow), then
 * the connection ends. */
void reef__http_send_error(struct conn *c, int status)
{
    if (c->res)
        reef__http_res_conn_gone(c, c->res);
    c->res = NULL;
    struct reef_buf b = REEF_BUF_INIT;
    const char *text = reef_http_status_text(status);
    reef_buf_printf(&b,
                    "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                    status, text, strlen(text) + 1, text);
    if (!b.data) {
        reef__http_conn_close(c);
        return;
    }
    reef__http_send_buf(c, &b);
    reef__http_close_after_write(c);
}

/* --- input --- */

/* Input held while a request is being answered: enough for a pipelined request's head. */
static size_t in_cap(const struct conn *c)
{
    return c->srv->limits.max_head + READ_CHUNK;
}

static bool want_read(const struct conn *c)
{
    if (c->closing || c->eof)
        return false;
    if (c->phase == P_LINGER)
        return true;
    /* A client that does not read what it is sent (responses to pipelined requests, pongs for
     * its pings) stops being read until it catches up, so it cannot make the queue grow. */
    if (c->queued > MAX_QUEUED_BEFORE_PAUSE)
        return false;
    if (c->phase == P_WS)
        return true;
    return c->in.len - c->in_off < in_cap(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    buf->base = c->srv->readbuf;
    buf->len = READ_CHUNK;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void conn_update_reading(struct conn *c)
{
    bool want = want_read(c);
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
            c->reading = true;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

/* Decrypts buffered ciphertext into the plaintext input, up to the input cap. */
static int pull_tls(struct conn *c)
{
    struct reef_err err;
    if (!reef_tls_handshake_done(c->tls)) {
        int r = reef_tls_handshake(c->tls, &err);
        reef__http_flush_tls(c);
        if (c->closing)
            return -EPIPE;
        if (r < 0) {
            LOG_DEBUG("http", "remote=%s: %s", c->remote, err.msg);
            reef__http_conn_close(c);
            return r;
        }
        if (r == 0)
            return 0;
        reef__http_conn_identity(c);
    }
    char tmp[16384];
    while (c->phase == P_WS || c->phase == P_LINGER || c->in.len - c->in_off < in_cap(c)) {
        ssize_t n = reef_tls_read(c->tls, tmp, sizeof(tmp), &err);
        reef__http_flush_tls(c);
        if (c->closing)
            return -EPIPE;
        if (n == -EAGAIN)
            break;
        if (n == 0) {
            c->eof = true;
            break;
        }
        if (n < 0) {
            LOG_DEBUG("http", "remote=%s: %s", c->remote, err.msg);
            reef__http_conn_close(c);
            return (int)n;
        }
        if (c->phase == P_LINGER)
            continue;
        if (reef_buf_append(&c->in, tmp, (size_t)n) < 0) {
            reef__http_conn_close(c);
            return -ENOMEM;
        }
    }
    return 0;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = st->data;
    if (c->closing)
        return;
    if (nread == 0)
        return;
    if (nread < 0) {
        c->eof = true;
        uv_read_stop(st);
        c->reading = false;
        if (nread != UV_EOF || c->phase == P_LINGER) {
            reef__http_conn_close(c);
            return;
        }
        conn_process(c);
        return;
    }
    if (c->phase == P_BODY && !(c->res && c->res->body_paused))
        reef__http_conn_timer(c, c->srv->opts.idle_timeout_ms);
    if (c->tls) {
        if (reef_tls_feed(c->tls, buf->base, (size_t)nread) < 0) {
            reef__http_conn_close(c);
            return;
        }
        if (pull_tls(c) < 0)
            return;
    } else if (c->phase != P_LINGER) {
        if (reef_buf_append(&c->in, buf->base, (size_t)nread) < 0) {
            reef__http_conn_close(c);
            return;
        }
    }
    if (c->phase == P_LINGER) {
        reef_buf_reset(&c->in);
        c->in_off = 0;
        if (c->eof)
            reef__http_conn_close(c);
        return;
    }
    conn_process(c);
}

/* Parser callbacks: the request and response object live in http_server_res.c. */
static int p_on_head(void *ud, const struct reef_http_msg *msg)
{
    return reef__http_req_head(ud, msg);
}

static int p_on_body(void *ud, const char *data, size_t len)
{
    struct conn *c = ud;
    return c->res ? reef__http_req_body(c->res, data, len) : 0;
}

static int p_on_end(void *ud)
{
    struct conn *c = ud;
    if (c->res)
        reef__http_req_end(c->res);
    return 0;
}

static void compact_input(struct conn *c)
{
    if (c->in_off == c->in.len) {
        reef_buf_reset(&c->in);
        c->in_off = 0;
    } else if (c->in_off > 65536) {
        reef_buf_consume(&c->in, c->in_off);
        c->in_off = 0;
    }
}

/* Feeds input to the parser (or the WebSocket reader), one request at a time: while a request is
 * being answered its successors stay in the buffer. Re-entry (a handler answering from inside) only
 * marks that another pass is needed. */
static void conn_process(struct conn *c)
{
    if (c->processing) {
        c->again = true;
        return;
    }
    c->processing = true;
    if (c->kick) {
        c->kick = false;
        phase_timer(c);
    }
    do {
        c->again = false;
        while (!c->closing) {
            if (c->tls && c->phase != P_LINGER && pull_tls(c) < 0)
                break;
            if (c->ws) {
                reef__http_ws_feed(c->ws);
                break;
            }
            if (c->phase == P_LINGER || c->close_after_write)
                break;
            if (c->res && c->res->msg_complete) {
                reef__http_res_dispatch(c->res);
                break; /* waiting for the handler to finish */
            }
            if (c->res && c->res->body_paused)
                break; /* the body's consumer asked for a pause */
            size_t avail = c->in.len - c->in_off;
            if (avail == 0)
                break;
            if (c->phase == P_IDLE) {
                c->phase = P_HEAD;
                reef__http_conn_timer(c, c->srv->opts.header_timeout_ms);
            }
            struct reef_err err;
            ssize_t n = reef_http_parser_feed(c->parser, c->in.data + c->in_off, avail, &err);
            if (c->closing)
                break;
            if (n < 0) {
                if (c->close_after_write || c->phase == P_LINGER)
                    break; /* already answered (413, early answer) */
                int status = reef_http_parser_error_status(c->parser);
                LOG_DEBUG("http", "bad request remote=%s status=%d: %s", c->remote, status,
                          err.msg);
                reef__http_send_error(c, status);
                break;
            }
            c->in_off += (size_t)n;
            compact_input(c);
        }
        /* (an answer still being written goes out first: the write completion closes) */
        if (!c->closing && c->eof && !c->again && !c->close_after_write) {
            /* the client is gone: what is left cannot be answered */
            struct reef_err err;
            if (c->ws || c->res || reef_http_parser_eof(c->parser, &err) < 0 ||
                c->in.len == c->in_off || c->phase == P_LINGER)
                reef__http_conn_close(c);
        }
    } while (c->again && !c->closing);
    c->processing = false;
    if (!c->closing)
        conn_update_reading(c);
}

/* After a response finished and its request was fully read: the next request may start. */
void reef__http_conn_request_done(struct conn *c, bool keep)
{
    c->res = NULL;
    if (c->closing)
        return;
    if (!keep) {
        reef__http_close_after_write(c);
        return;
    }
    c->phase = P_IDLE;
    reef__http_conn_timer(c, c->srv->opts.idle_timeout_ms);
    if (c->processing)
        conn_process(c); /* marks another pass of the running loop */
    else
        reef__http_conn_kick(c);
}

/* --- accepting --- */

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        snprintf(out, cap, "%s:%d", host, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        snprintf(out, cap, "[%s]:%d", host, port);
    } else {
        snprintf(out, cap, "?");
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct reef_http_server *s = server->data;
    if (status < 0 || s->shutting_down)
        return;
    struct conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->srv = s;
    s->alive++;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    /* linked in before anything can fail, so close accounting is uniform */
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    bool reject = s->nconns >= s->opts.max_connections;
    if (reject)
        s->nrejecting++;
    else
        s->nconns++;
    c->rejecting = reject;
    c->phase = P_HEAD;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        reef__http_conn_close(c);
        return;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        format_addr(&ss, c->remote, sizeof(c->remote));
    if (reject) {
        /* once per episode: a flood must not turn into a flood of log lines */
        if (!s->limit_warned)
            LOG_WARN("http", "connection limit %u reached, refusing connections",
                     s->opts.max_connections);
        s->limit_warned = true;
        LOG_DEBUG("http", "refusing remote=%s", c->remote);
        if (s->nrejecting > MAX_REJECTING || s->tls) {
            reef__http_conn_close(c);
            return;
        }
        reef__http_send_error(c, 503);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, 60);
    struct reef_http_parser_cb cb = {p_on_head, p_on_body, p_on_end};
    c->parser = reef_http_parser_new(REEF_HTTP_REQUEST, &s->limits, &cb, c);
    struct reef_err err;
    if (!c->parser || (s->tls && !(c->tls = reef_tls_new(s->tls, NULL, &err)))) {
        reef__http_conn_close(c);
        return;
    }
    reef__http_conn_timer(c, s->opts.header_timeout_ms);
    conn_update_reading(c);
}

/* --- the server --- */

static void srv_maybe_done(struct reef_http_server *s)
{
    if (!s->shutting_down || s->conns || s->alive || !s->listener_closed || s->timer_closing)
        return;
    s->timer_closing = true;
    uv_close((uv_handle_t *)&s->grace, reef__http_srv_on_grace_closed);
}

void reef__http_srv_on_grace_closed(uv_handle_t *h)
{
    struct reef_http_server *s = h->data;
    s->done = true;
    if (s->closed_cb)
        s->closed_cb(s->closed_ud);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct reef_http_server *s = h->data;
    s->listener_closed = true;
    srv_maybe_done(s);
}

struct reef_http_server *reef_http_server_new(uv_loop_t *loop,
                                              const struct reef_http_server_opts *opts,
                                              struct reef_err *err)
{
    if (!opts->handler) {
        reef_err_set(err, -EINVAL, "http: a server needs a handler");
        return NULL;
    }
    struct sockaddr_storage ss;
    const char *addr = opts->addr ? opts->addr : "127.0.0.1";
    if (uv_ip4_addr(addr, opts->port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(addr, opts->port, (struct sockaddr_in6 *)&ss) != 0) {
        reef_err_set(err, -EINVAL, "http: listen: bad address \"%s\"", addr);
        return NULL;
    }
    if (opts->port < 0 || opts->port > 65535) {
        reef_err_set(err, -EINVAL, "http: listen: bad port %d", opts->port);
        return NULL;
    }
    struct reef_http_server *s = calloc(1, sizeof(*s));
    if (!s || !(s->readbuf = malloc(READ_CHUNK))) {
        free(s);
        reef_err_set(err, -ENOMEM, "http: out of memory");
        return NULL;
    }
    s->loop = loop;
    s->opts = *opts;
    struct reef_http_server_opts *o = &s->opts;
    if (!o->max_body)
        o->max_body = 8u << 20;
    if (!o->header_timeout_ms)
        o->header_timeout_ms = 10000;
    if (!o->idle_timeout_ms)
        o->idle_timeout_ms = 90000;
    if (!o->max_connections)
        o->max_connections = 1024;
    if (!o->max_ws_message)
        o->max_ws_message = 16u << 20;
    if (!o->backlog)
        o->backlog = 511;
    struct reef_http_limits def = REEF_HTTP_LIMITS_DEFAULT;
    s->limits = o->limits;
    if (!s->limits.max_start_line)
        s->limits.max_start_line = def.max_start_line;
    if (!s->limits.max_head)
        s->limits.max_head = def.max_head;
    if (!s->limits.max_headers)
        s->limits.max_headers = def.max_headers;
    uv_tcp_init(loop, &s->listener);
    uv_timer_init(loop, &s->grace);
    s->listener.data = s;
    s->grace.data = s;
    int r = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&s->listener, o->backlog, on_connection);
    if (r < 0) {
        reef_err_set(err, r, "http: listen %s:%d: %s", addr, opts->port, uv_strerror(r));
        /* the handles must be closed before the memory goes: run them down synchronously */
        s->shutting_down = true;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        /* The caller's loop runs the close callbacks; the server frees itself then. */
        s->closed_cb = reef__http_srv_free_cb;
        s->closed_ud = s;
        return NULL;
    }
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &blen);
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    if (o->tls)
        s->tls = reef_tls_config_ref(o->tls);
    LOG_DEBUG("http", "listening addr=%s port=%d tls=%d", addr, s->port, o->tls != NULL);
    return s;
}

void reef__http_srv_free_cb(void *ud)
{
    reef_http_server_free(ud);
}

int reef_http_server_port(const struct reef_http_server *s)
{
    return s->port;
}

unsigned reef_http_server_connections(const struct reef_http_server *s)
{
    return s->nconns;
}

static void on_grace(uv_timer_t *t)
{
    struct reef_http_server *s = t->data;
    while (s->conns)
        reef__http_conn_close(s->conns);
    srv_maybe_done(s);
}

void reef_http_server_shutdown(struct reef_http_server *s, unsigned grace_ms,
                               reef_http_server_closed_cb cb, void *ud)
{
    if (s->shutting_down)
        return;
    s->shutting_down = true;
    s->closed_cb = cb;
    s->closed_ud = ud;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    struct conn *next;
    for (struct conn *c = s->conns; c; c = next) {
        next = c->next;
        if (c->ws)
            reef_ws_close(c->ws, 1001, "server shutting down");
        else if (!c->res || c->phase == P_IDLE || c->phase == P_HEAD)
            reef__http_conn_close(c);
        /* others finish their request; keep-alive is off from now on */
    }
    if (s->conns)
        uv_timer_start(&s->grace, on_grace, grace_ms ? grace_ms : 1, 0);
    srv_maybe_done(s);
}

void reef_http_server_free(struct reef_http_server *s)
{
    if (!s)
        return;
    if (REEF_NEVER(!s->done))
        return; /* handles still open: freeing now would corrupt the loop */
    reef_tls_config_unref(s->tls);
    free(s->readbuf);
    free(s);
}
