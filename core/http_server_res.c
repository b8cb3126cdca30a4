/* http_server_res: one request in progress and the response API handlers use. */
#include "core/http_server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

static const char *const no_orgs[] = {NULL};

void reef__http_conn_identity(struct conn *c)
{
    size_t i = 0;
    if (c->tls)
        for (const char *o; i < REEF_TLS_MAX_ORGS && (o = reef_tls_peer_o(c->tls, i)); i++)
            c->orgs[i] = o;
    c->orgs[i] = NULL;
}

void reef__http_res_free(struct reef_http_res *res)
{
    free(res->local_headers);
    free(res->local_strings);
    free(res->path);
    reef_buf_free(&res->body);
    reef_buf_free(&res->headers);
    free(res);
}

static bool body_expected(const struct reef_http_msg *m)
{
    return m->chunked || m->content_length > 0;
}

/* Refuses a body larger than the buffering limit: answered at once, the rest is not read. */
static int reject_too_large(struct reef_http_res *res)
{
    struct conn *c = res->c;
    res->rejected = true;
    reef__http_send_error(c, 413); /* frees res: the handler never saw it */
    return -E2BIG;
}

int reef__http_req_head(struct conn *c, const struct reef_http_msg *msg)
{
    struct reef_http_server *s = c->srv;
    struct reef_http_res *res = calloc(1, sizeof(*res));
    size_t tlen = strlen(msg->target);
    if (!res || !(res->path = malloc(tlen + 2))) {
        free(res);
        reef__http_send_error(c, 503);
        return -ENOMEM;
    }
    res->c = c;
    c->res = res;
    /* path '\0' query '\0' in one allocation */
    const char *q = strchr(msg->target, '?');
    size_t plen = q ? (size_t)(q - msg->target) : tlen;
    memcpy(res->path, msg->target, plen);
    res->path[plen] = '\0';
    strcpy(res->path + plen + 1, q ? q + 1 : "");
    struct reef_http_req *req = &res->req;
    req->method = msg->method;
    req->target = msg->target;
    req->path = res->path;
    req->query = res->path + plen + 1;
    req->msg = msg;
    req->tls = c->tls != NULL;
    req->peer_verified = c->tls && reef_tls_peer_verified(c->tls);
    req->peer_cn = c->tls ? reef_tls_peer_cn(c->tls) : "";
    req->peer_orgs = c->tls ? c->orgs : no_orgs;
    req->remote_addr = c->remote;
    res->head_request = strcmp(msg->method, "HEAD") == 0;
    res->http10 = msg->version_minor == 0;
    /* after an upgrade request the client may already be sending the new protocol, so a refused
     * upgrade ends the connection instead of parsing that as HTTP */
    res->keep = msg->keep_alive && !s->shutting_down && !msg->upgrade;

    if (body_expected(msg)) {
        c->phase = P_BODY;
        reef__http_conn_timer(c, s->opts.idle_timeout_ms);
    } else {
        c->phase = P_HANDLER;
        reef__http_conn_timer(c, 0);
    }
    if (s->opts.on_head) {
        s->opts.on_head(s->opts.ud, req, res);
        if (c->closing || c->res != res)
            return -ECANCELED; /* answered early; the rest is not read */
    }
    if (!res->body_cb && msg->content_length > 0 &&
        (uint64_t)msg->content_length > s->opts.max_body)
        return reject_too_large(res);
    if (body_expected(msg)) {
        const char *expect = reef_http_msg_header(msg, "expect");
        if (expect && strcasecmp(expect, "100-continue") == 0 && !res->http10) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (reef__http_send(c, cont, sizeof(cont) - 1) < 0)
                return -EPIPE;
        }
    }
    return 0;
}

int reef__http_req_body(struct reef_http_res *res, const char *data, size_t len)
{
    struct conn *c = res->c;
    if (res->body_cb) {
        int r = res->body_cb(res->body_ud, data, len);
        if (c->closing)
            return -ECANCELED;
        if (r < 0) {
            reef__http_send_error(c, 400);
            return r;
        }
        return 0;
    }
    if (res->body.len + len > c->srv->opts.max_body)
        return reject_too_large(res);
    if (reef_buf_append(&res->body, data, len) < 0) {
        reef__http_send_error(c, 503);
        return -ENOMEM;
    }
    return 0;
}

void reef__http_req_end(struct reef_http_res *res)
{
    struct conn *c = res->c;
    res->msg_complete = true;
    c->phase = P_HANDLER;
    reef__http_conn_timer(c, 0);
}

void reef__http_res_dispatch(struct reef_http_res *res)
{
    if (res->dispatched)
        return;
    res->dispatched = true;
    struct reef_http_server *s = res->c->srv;
    if (res->body.len) {
        res->req.body = res->body.data;
        res->req.body_len = res->body.len;
    }
    s->opts.handler(s->opts.ud, &res->req, res);
}

/* The handler is done with res: free it and let the connection go on. */
static void finish(struct reef_http_res *res)
{
    res->finished = true;
    if (res->local) {
        const struct reef_http_local *l = res->local;
        l->on_end(l->ud);
        reef__http_res_free(res);
        return;
    }
    struct conn *c = res->c;
    if (!c) {
        if (res->gone)
            res->gone->gone_res = NULL; /* finished before the close callback came */
        reef__http_res_free(res);
        return;
    }
    bool complete = res->msg_complete && !res->upgraded;
    bool keep = res->keep && complete && !c->srv->shutting_down;
    c->res = NULL;
    reef__http_res_free(res);
    if (!complete) {
        /* answered before the request was read: the rest of it is drained, then closed */
        reef__http_close_after_write(c);
        return;
    }
    reef__http_conn_request_done(c, keep);
}

void reef__http_res_conn_gone(struct conn *c, struct reef_http_res *res)
{
    res->c = NULL;
    if (res->finished)
        return;
    if (!res->dispatched && !res->close_cb) {
        reef__http_res_free(res); /* nobody holds it */
        return;
    }
    /* told later, from the loop (see reef__http_res_notify_gone) */
    res->gone = c;
    c->gone_res = res;
}

void reef__http_res_notify_gone(struct conn *c)
{
    struct reef_http_res *res = c->gone_res;
    if (!res)
        return;
    c->gone_res = NULL;
    res->gone = NULL;
    if (res->close_cb) {
        res->close_cb(res->close_ud, res);
        reef__http_res_free(res);
    }
    /* else the handler still holds it and frees it by finishing it */
}

void reef__http_res_drained(struct reef_http_res *res)
{
    if (res->drain_cb && !res->finished)
        res->drain_cb(res->drain_ud, res);
}

/* Header names are tokens; values carry no CR, LF or NUL (response splitting). */
static bool valid_header(const char *name, const char *value)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *p))
            return false;
    for (const char *p = value; *p; p++)
        if (*p == '\r' || *p == '\n')
            return false;
    return true;
}

int reef_http_res_header(struct reef_http_res *res, const char *name, const char *value)
{
    if (res->finished || res->began || !valid_header(name, value))
        return -EINVAL;
    if (strcasecmp(name, "content-length") == 0 || strcasecmp(name, "transfer-encoding") == 0 ||
        strcasecmp(name, "connection") == 0)
        return -EINVAL;
    return reef_buf_printf(&res->headers, "%s: %s\r\n", name, value);
}

static bool status_has_body(int status)
{
    return !(status / 100 == 1 || status == 204 || status == 304);
}

/* length: the body length, or -1 for a streamed body. */
static int build_head(struct reef_http_res *res, struct reef_buf *b, int status, const char *ctype,
                      int64_t length)
{
    struct conn *c = res->c;
    if (status < 100 || status > 999)
        return -EINVAL;
    if (ctype && !valid_header("Content-Type", ctype))
        return -EINVAL;
    if (!res->msg_complete || c->srv->shutting_down)
        res->keep = false;
    if (length < 0 && res->http10) {
        res->close_delimited = true;
        res->keep = false;
    }
    LOG_DEBUG("http", "remote=%s method=%s path=%s status=%d", c->remote, res->req.method,
              res->req.path, status);
    reef_buf_printf(b, "HTTP/1.%d %d %s\r\n", res->http10 ? 0 : 1, status,
                    reef_http_status_text(status));
    if (ctype)
        reef_buf_printf(b, "Content-Type: %s\r\n", ctype);
    if (res->headers.len)
        reef_buf_append(b, res->headers.data, res->headers.len);
    if (status_has_body(status)) {
        if (length >= 0)
            reef_buf_printf(b, "Content-Length: %lld\r\n", (long long)length);
        else if (!res->close_delimited)
            reef_buf_puts(b, "Transfer-Encoding: chunked\r\n");
    }
    if (!res->keep)
        reef_buf_puts(b, "Connection: close\r\n");
    else if (res->http10)
        reef_buf_puts(b, "Connection: keep-alive\r\n");
    reef_buf_puts(b, "\r\n");
    return b->data ? 0 : -ENOMEM;
}

int reef_http_res_send(struct reef_http_res *res, int status, const char *content_type,
                       const void *body, size_t len)
{
    if (res->finished || res->began)
        return -EINVAL;
    if (res->local) {
        res->local->on_head(res->local->ud, status, content_type,
                            res->headers.data ? res->headers.data : "");
        if (len && status_has_body(status) && !res->head_request)
            res->local->on_data(res->local->ud, body, len);
        finish(res);
        return 0;
    }
    if (!res->c) {
        finish(res);
        return -EPIPE;
    }
    struct reef_buf b = REEF_BUF_INIT;
    int r = build_head(res, &b, status, content_type, status_has_body(status) ? (int64_t)len : 0);
    if (r < 0) {
        reef_buf_free(&b);
        return r;
    }
    if (len && status_has_body(status) && !res->head_request &&
        reef_buf_append(&b, body, len) < 0) {
        reef_buf_free(&b);
        return -ENOMEM;
    }
    res->finished = true; /* a write error closing the connection leaves res to us */
    r = reef__http_send_buf(res->c, &b);
    finish(res);
    return r;
}

int reef_http_res_begin(struct reef_http_res *res, int status, const char *content_type)
{
    if (res->finished || res->began)
        return -EINVAL;
    if (res->local) {
        res->began = true;
        res->local->on_head(res->local->ud, status, content_type,
                            res->headers.data ? res->headers.data : "");
        return 0;
    }
    if (!res->c)
        return -EPIPE;
    struct reef_buf b = REEF_BUF_INIT;
    int r = build_head(res, &b, status, content_type, -1);
    if (r < 0) {
        reef_buf_free(&b);
        return r;
    }
    res->began = true;
    return reef__http_send_buf(res->c, &b);
}

int reef_http_res_write(struct reef_http_res *res, const void *data, size_t len)
{
    if (res->finished || !res->began)
        return -EINVAL;
    if (res->local) {
        if (len)
            res->local->on_data(res->local->ud, data, len);
        return 0;
    }
    if (!res->c)
        return -EPIPE;
    if (len == 0 || res->head_request)
        return 0;
    if (res->close_delimited)
        return reef__http_send(res->c, data, len);
    struct reef_buf b = REEF_BUF_INIT;
    if (reef_http_write_chunk(&b, data, len) < 0) {
        reef_buf_free(&b);
        return -ENOMEM;
    }
    return reef__http_send_buf(res->c, &b);
}

int reef_http_res_end(struct reef_http_res *res)
{
    if (res->finished || !res->began)
        return -EINVAL;
    int r = 0;
    res->finished = true; /* a write error closing the connection leaves res to us */
    if (res->local) {
        finish(res);
        return 0;
    }
    if (!res->c) {
        r = -EPIPE;
    } else if (!res->close_delimited && !res->head_request) {
        static const char last[] = "0\r\n\r\n";
        r = reef__http_send(res->c, last, sizeof(last) - 1);
    }
    finish(res);
    return r;
}

size_t reef_http_res_queued(const struct reef_http_res *res)
{
    return res->c ? res->c->queued : 0;
}

void reef_http_res_on_drain(struct reef_http_res *res,
                            void (*cb)(void *ud, struct reef_http_res *res), void *ud)
{
    res->drain_cb = cb;
    res->drain_ud = ud;
}

void reef_http_res_on_close(struct reef_http_res *res,
                            void (*cb)(void *ud, struct reef_http_res *res), void *ud)
{
    res->close_cb = cb;
    res->close_ud = ud;
}

struct reef_http_req *reef_http_res_req(struct reef_http_res *res)
{
    return &res->req;
}

void reef_http_res_stream_body(struct reef_http_res *res,
                               int (*on_data)(void *ud, const char *data, size_t len), void *ud)
{
    if (res->dispatched || res->finished)
        return;
    res->body_cb = on_data;
    res->body_ud = ud;
}

void reef_http_res_pause_body(struct reef_http_res *res, bool paused)
{
    if (res->local)
        return;
    struct conn *c = res->c;
    if (res->body_paused == paused || res->finished)
        return;
    res->body_paused = paused;
    if (!c || res->msg_complete)
        return;
    if (paused)
        reef__http_conn_timer(c, 0);
    else
        reef__http_conn_kick(c);
}

const char *reef_http_req_header(const struct reef_http_req *req, const char *name)
{
    return reef_http_msg_header(req->msg, name);
}

ssize_t reef_http_req_query(const struct reef_http_req *req, const char *key, char *out,
                            size_t outsz)
{
    return reef_http_query_get(req->target, key, out, outsz);
}

/* The 101 went out: the connection now belongs to the WebSocket. */
void reef__http_res_upgraded(struct reef_http_res *res)
{
    struct conn *c = res->c;
    res->finished = true;
    c->res = NULL;
    reef__http_res_free(res);
    c->phase = P_WS;
    reef__http_conn_timer(c, 0);
}

/* Answers a request that is not an acceptable upgrade; the connection is not reused. */
int reef__http_res_refuse(struct reef_http_res *res, int status, const char *why)
{
    res->upgraded = true; /* the connection is not reused after a refused upgrade */
    return reef_http_res_send(res, status, "text/plain; charset=utf-8", why, strlen(why));
}
