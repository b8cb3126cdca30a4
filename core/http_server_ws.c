/* http_server_ws: the server side of WebSocket (RFC 6455): the upgrade handshake, message
 * delivery, automatic pongs and the close handshake. Framing is core/ws. */
#include "core/http_server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

/* True when the comma-separated list contains tok (case-insensitive, whitespace around items). */
static bool list_has(const char *list, const char *tok)
{
    size_t tl = strlen(tok);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *end = e;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - p) == tl && strncasecmp(p, tok, tl) == 0)
            return true;
        p = e;
    }
    return false;
}

bool reef_http_req_is_websocket(const struct reef_http_req *req)
{
    const char *up = reef_http_msg_header(req->msg, "upgrade");
    return req->msg->upgrade && up && list_has(up, "websocket") && strcmp(req->method, "GET") == 0;
}

/* The first of the server's protocols the client offered, over all Sec-WebSocket-Protocol lines.
 * Returns "" when the client offered none, NULL when it offered some but none fits. */
static const char *choose_protocol(const struct reef_http_msg *m, const char *const *protocols)
{
    bool offered = false;
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, "sec-websocket-protocol") == 0 && m->headers[i].value[0])
            offered = true;
    if (!offered)
        return "";
    for (size_t p = 0; protocols && protocols[p]; p++)
        for (size_t i = 0; i < m->nheaders; i++)
            if (strcasecmp(m->headers[i].name, "sec-websocket-protocol") == 0 &&
                list_has(m->headers[i].value, protocols[p]))
                return protocols[p];
    return NULL;
}

static void ws_forgotten(void *ud, struct reef_ws_conn *ws, int code)
{
}

struct reef_ws_conn *reef_http_res_websocket(struct reef_http_res *res,
                                             const char *const *protocols,
                                             const struct reef_ws_cb *cb, void *ud,
                                             struct reef_err *err)
{
    if (res->finished || res->began || !cb || !cb->on_close) {
        reef_err_set(err, -EINVAL, "websocket: response already answered or no callbacks");
        return NULL;
    }
    struct conn *c = res->c;
    if (res->local) {
        reef_http_res_send(res, 400, "text/plain; charset=utf-8", "not over a connection\n", 22);
        reef_err_set(err, -EINVAL, "websocket: an in-process request cannot upgrade");
        return NULL;
    }
    if (!c) {
        reef_http_res_send(res, 500, NULL, NULL, 0);
        reef_err_set(err, -EPIPE, "websocket: the client is gone");
        return NULL;
    }
    const struct reef_http_msg *m = res->req.msg;
    const char *version = reef_http_msg_header(m, "sec-websocket-version");
    const char *key = reef_http_msg_header(m, "sec-websocket-key");
    char accept[29];
    if (!reef_http_req_is_websocket(&res->req) || !res->msg_complete) {
        reef__http_res_refuse(res, 400, "not a websocket upgrade request\n");
        reef_err_set(err, -EINVAL, "websocket: not an upgrade request");
        return NULL;
    }
    if (!version || strcmp(version, "13") != 0) {
        reef_http_res_header(res, "Sec-WebSocket-Version", "13");
        reef__http_res_refuse(res, 426, "unsupported websocket version\n");
        reef_err_set(err, -EINVAL, "websocket: unsupported version \"%s\"", version ? version : "");
        return NULL;
    }
    if (!key || reef_ws_accept_key(key, accept) < 0) {
        reef__http_res_refuse(res, 400, "bad Sec-WebSocket-Key\n");
        reef_err_set(err, -EINVAL, "websocket: bad Sec-WebSocket-Key");
        return NULL;
    }
    const char *proto = choose_protocol(m, protocols);
    if (!proto) {
        reef__http_res_refuse(res, 400, "no acceptable websocket subprotocol\n");
        reef_err_set(err, -EPROTO, "websocket: no acceptable subprotocol offered");
        return NULL;
    }
    struct reef_ws_conn *ws = calloc(1, sizeof(*ws));
    if (!ws || !(ws->reader = reef_ws_reader_new(true, c->srv->opts.max_ws_message))) {
        free(ws);
        reef__http_res_refuse(res, 503, "out of memory\n");
        reef_err_set(err, -ENOMEM, "websocket: out of memory");
        return NULL;
    }
    reef_strlcpy(ws->protocol, proto, sizeof(ws->protocol));
    ws->cb = *cb;
    ws->ud = ud;
    ws->c = c;
    struct reef_buf b = REEF_BUF_INIT;
    reef_buf_printf(&b,
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
                    accept);
    if (*proto)
        reef_buf_printf(&b, "Sec-WebSocket-Protocol: %s\r\n", proto);
    if (res->headers.len)
        reef_buf_append(&b, res->headers.data, res->headers.len);
    reef_buf_puts(&b, "\r\n");
    c->ws = ws;
    reef__http_res_upgraded(res);
    if (!b.data || reef__http_send_buf(c, &b) < 0) {
        /* the connection closed; the caller never gets ws, so it hears nothing more of it */
        ws->cb.on_close = ws_forgotten;
        ws->cb.on_drain = NULL;
        reef_err_set(err, -EPIPE, "websocket: the client is gone");
        return NULL;
    }
    /* Frames that arrived with the upgrade request are delivered from the loop, after the
     * caller has its ws pointer. */
    reef__http_conn_kick(c);
    return ws;
}

const char *reef_ws_protocol(const struct reef_ws_conn *ws)
{
    return ws->protocol;
}

static int send_frame(struct reef_ws_conn *ws, enum reef_ws_opcode op, const void *data, size_t len)
{
    struct reef_buf b = REEF_BUF_INIT;
    int r = reef_ws_write_frame(&b, true, op, data, len, NULL);
    if (r < 0) {
        reef_buf_free(&b);
        return r;
    }
    return reef__http_send_buf(ws->c, &b);
}

int reef_ws_send(struct reef_ws_conn *ws, enum reef_ws_opcode op, const void *data, size_t len)
{
    if (op != REEF_WS_TEXT && op != REEF_WS_BINARY && op != REEF_WS_PING)
        return -EINVAL;
    if (!ws->c || ws->close_sent)
        return -EPIPE;
    if (op == REEF_WS_TEXT && !reef_ws_utf8_valid(data, len))
        return -EINVAL;
    return send_frame(ws, op, data, len);
}

static int send_close(struct reef_ws_conn *ws, int code, const char *reason)
{
    ws->close_sent = true;
    if (code == 1005) { /* the peer gave no code: answer without one */
        return send_frame(ws, REEF_WS_CLOSE, NULL, 0);
    }
    struct reef_buf b = REEF_BUF_INIT;
    int r = reef_ws_write_close(&b, code, reason ? reason : "", NULL);
    if (r < 0) {
        reef_buf_free(&b);
        return r;
    }
    return reef__http_send_buf(ws->c, &b);
}

int reef_ws_close(struct reef_ws_conn *ws, int code, const char *reason)
{
    if (!ws->c || ws->close_sent)
        return -EPIPE;
    struct conn *c = ws->c;
    int r = send_close(ws, code, reason);
    if (c->closing)
        return r;
    if (ws->close_received) {
        reef__http_close_after_write(c);
    } else if (!c->kick) { /* a pending kick arms the wait itself */
        reef__http_conn_timer(c, REEF__WS_CLOSE_WAIT_MS);
    }
    return r;
}

size_t reef_ws_queued(const struct reef_ws_conn *ws)
{
    return ws->c ? ws->c->queued : 0;
}

static int on_frame(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    struct reef_ws_conn *ws = ud;
    struct conn *c = ws->c;
    switch (op) {
    case REEF_WS_TEXT:
    case REEF_WS_BINARY:
        if (!ws->close_received)
            ws->cb.on_message(ws->ud, ws, op, data, len);
        break;
    case REEF_WS_PING:
        if (!ws->close_sent)
            send_frame(ws, REEF_WS_PONG, data, len);
        break;
    case REEF_WS_CLOSE: {
        ws->close_received = true;
        ws->peer_code = len >= 2 ? (data[0] << 8 | data[1]) : 1005;
        if (!ws->close_sent)
            send_close(ws, ws->peer_code, NULL);
        /* the server closes the TCP connection first (RFC 6455 section 7.1.1) */
        if (!c->closing)
            reef__http_close_after_write(c);
        return -ECANCELED;
    }
    default:
        break;
    }
    return c->closing || !ws->c ? -ECANCELED : 0;
}

void reef__http_ws_feed(struct reef_ws_conn *ws)
{
    struct conn *c = ws->c;
    while (!c->closing && ws->c == c && !ws->close_received && c->in.len > c->in_off) {
        struct reef_err err;
        int close_code = 0;
        size_t avail = c->in.len - c->in_off;
        ssize_t n = reef_ws_reader_feed(ws->reader, (const uint8_t *)c->in.data + c->in_off, avail,
                                        on_frame, ws, &close_code, &err);
        if (c->closing)
            return;
        if (n < 0) {
            if (n != -ECANCELED && !ws->close_sent) {
                LOG_DEBUG("http", "websocket remote=%s: %s", c->remote, err.msg);
                send_close(ws, close_code ? close_code : REEF_WS_CLOSE_PROTOCOL, "protocol error");
                reef__http_close_after_write(c);
            }
            break;
        }
        c->in_off += (size_t)n;
    }
    /* after CLOSE nothing more is read as WebSocket */
    if (!c->closing && (ws->close_received || c->close_after_write)) {
        reef_buf_reset(&c->in);
        c->in_off = 0;
    } else if (c->in_off == c->in.len) {
        reef_buf_reset(&c->in);
        c->in_off = 0;
    }
}

void reef__http_ws_conn_gone(struct reef_ws_conn *ws)
{
    ws->c = NULL; /* sends fail from now on; on_close comes from the loop */
}

void reef__http_ws_free(struct reef_ws_conn *ws)
{
    int code = ws->close_received ? ws->peer_code : 1006;
    ws->cb.on_close(ws->ud, ws, code);
    reef_ws_reader_free(ws->reader);
    free(ws);
}

void reef__http_ws_drained(struct reef_ws_conn *ws)
{
    if (ws->cb.on_drain && !ws->close_sent)
        ws->cb.on_drain(ws->ud, ws);
}
