/* ws_client: a blocking WebSocket client over TCP or TLS (see ws_client.h). */
#include "core/ws_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/http_parse.h"
#include "core/tls.h"

#define MAX_MESSAGE (16u << 20)
#define MAX_REFUSAL (1u << 20)

struct reef_ws_client {
    int fd;
    struct reef_tls *tls;
    struct reef_ws_reader *rd;
    struct reef_buf early; /* bytes that came with the 101, fed at the first read */
    char protocol[64];
    bool closed; /* a close frame was sent */
    bool ended;  /* the peer closed */
    int close_code;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, int64_t deadline, struct reef_err *err)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return reef_err_set(err, -ETIMEDOUT, "timed out talking to the server");
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return reef_err_errno(err, -errno, "poll");
    }
}

static int write_all(int fd, const char *p, size_t n, struct reef_err *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return reef_err_errno(err, w < 0 ? -errno : -EPIPE, "write to the server");
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sends plaintext: through TLS when there is a session. */
static int send_raw(struct reef_ws_client *ws, const void *p, size_t n, struct reef_err *err)
{
    if (!ws->tls)
        return write_all(ws->fd, p, n, err);
    int r = reef_tls_write(ws->tls, p, n, err);
    if (r < 0)
        return r;
    struct reef_buf *o = reef_tls_out(ws->tls);
    r = write_all(ws->fd, o->data, o->len, err);
    reef_buf_reset(o);
    return r;
}

/* Reads once from the socket and appends the plaintext to out; 0 at the end of the stream,
 * > 0 when something (maybe nothing decrypted yet) was read, negative on error. */
static ssize_t recv_some(struct reef_ws_client *ws, struct reef_buf *out, struct reef_err *err)
{
    char buf[65536];
    ssize_t n;
    do
        n = read(ws->fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return reef_err_errno(err, -errno, "read from the server");
    if (!ws->tls) {
        if (n > 0)
            reef_buf_append(out, buf, (size_t)n);
        return n;
    }
    if (n == 0)
        return 0;
    if (reef_tls_feed(ws->tls, buf, (size_t)n) < 0)
        return reef_err_set(err, -ENOMEM, "out of memory");
    for (;;) {
        ssize_t m = reef_tls_read(ws->tls, buf, sizeof(buf), err);
        if (m == -EAGAIN)
            break;
        if (m == 0)
            return out->len ? 1 : 0; /* close_notify */
        if (m < 0)
            return m;
        reef_buf_append(out, buf, (size_t)m);
    }
    /* the engine may owe the peer something (alerts) */
    struct reef_buf *o = reef_tls_out(ws->tls);
    if (o->len) {
        write_all(ws->fd, o->data, o->len, NULL);
        reef_buf_reset(o);
    }
    return n;
}

/* scheme://host[:port][/path][?query]; *target points at the path (or query). */
static int parse_url(const char *url, bool *tls, char *host, size_t hostsz, char *port,
                     size_t portsz, const char **target, struct reef_err *err)
{
    const char *p;
    if (strncmp(url, "https://", 8) == 0 || strncmp(url, "wss://", 6) == 0) {
        *tls = true;
        p = strstr(url, "://") + 3;
    } else if (strncmp(url, "http://", 7) == 0 || strncmp(url, "ws://", 5) == 0) {
        *tls = false;
        p = strstr(url, "://") + 3;
    } else {
        return reef_err_set(err, -EINVAL, "unsupported URL %s", url);
    }
    const char *end = p + strcspn(p, "/?");
    const char *colon = NULL;
    const char *h = p, *he;
    if (*p == '[') {
        h = p + 1;
        he = memchr(p, ']', (size_t)(end - p));
        if (!he)
            return reef_err_set(err, -EINVAL, "bad URL %s", url);
        colon = he + 1 < end && he[1] == ':' ? he + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        he = colon ? colon : end;
    }
    if (he == h || (size_t)(he - h) >= hostsz)
        return reef_err_set(err, -EINVAL, "bad URL %s", url);
    memcpy(host, h, (size_t)(he - h));
    host[he - h] = 0;
    if (colon) {
        size_t n = (size_t)(end - colon - 1);
        if (n == 0 || n >= portsz)
            return reef_err_set(err, -EINVAL, "bad URL %s", url);
        memcpy(port, colon + 1, n);
        port[n] = 0;
    } else {
        snprintf(port, portsz, "%s", *tls ? "443" : "80");
    }
    *target = end;
    return 0;
}

static int dial(const char *host, const char *port, int64_t deadline, struct reef_err *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0)
        return reef_err_set(err, -EHOSTUNREACH, "lookup %s: %s", host, gai_strerror(g));
    int fd = -1, code = -ECONNREFUSED;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
            code = -errno;
            close(fd);
            fd = -1;
            continue;
        }
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (wait_fd(fd, POLLOUT, deadline, NULL) < 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
            code = soerr ? -soerr : -ETIMEDOUT;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return reef_err_set(err, code, "connect %s:%s: %s", host, port, strerror(-code));
    /* blocking from here: reads follow poll, writes may wait */
    fcntl(fd, F_SETFL, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int tls_handshake(struct reef_ws_client *ws, int64_t deadline, struct reef_err *err)
{
    char buf[16384];
    for (;;) {
        int r = reef_tls_handshake(ws->tls, err);
        struct reef_buf *o = reef_tls_out(ws->tls);
        if (o->len) {
            int w = write_all(ws->fd, o->data, o->len, err);
            reef_buf_reset(o);
            if (w < 0)
                return w;
        }
        if (r < 0)
            return r;
        if (r == 1)
            return 0;
        if ((r = wait_fd(ws->fd, POLLIN, deadline, err)) < 0)
            return r;
        ssize_t n = read(ws->fd, buf, sizeof(buf));
        if (n <= 0)
            return reef_err_set(err, -ECONNRESET, "tls: handshake: connection closed");
        if (reef_tls_feed(ws->tls, buf, (size_t)n) < 0)
            return reef_err_set(err, -ENOMEM, "out of memory");
    }
}

/* The answer to the upgrade request. */
struct answer {
    int status;
    bool done, upgrade;
    char accept[64], protocol[64], upgrade_hdr[32];
    struct reef_buf body;
};

static int ans_head(void *ud, const struct reef_http_msg *m)
{
    struct answer *a = ud;
    a->status = m->status;
    a->upgrade = m->upgrade;
    const char *v = reef_http_msg_header(m, "sec-websocket-accept");
    snprintf(a->accept, sizeof(a->accept), "%s", v ? v : "");
    v = reef_http_msg_header(m, "sec-websocket-protocol");
    snprintf(a->protocol, sizeof(a->protocol), "%s", v ? v : "");
    v = reef_http_msg_header(m, "upgrade");
    snprintf(a->upgrade_hdr, sizeof(a->upgrade_hdr), "%s", v ? v : "");
    return 0;
}

static int ans_body(void *ud, const char *d, size_t n)
{
    struct answer *a = ud;
    if (a->body.len + n > MAX_REFUSAL)
        return -E2BIG;
    return reef_buf_append(&a->body, d, n);
}

static int ans_end(void *ud)
{
    ((struct answer *)ud)->done = true;
    return 0;
}

int reef_ws_client_open(const struct reef_ws_client_opts *o, const char *url,
                        struct reef_ws_client **out, struct reef_http_result *refused,
                        struct reef_err *err)
{
    *out = NULL;
    if (refused)
        memset(refused, 0, sizeof(*refused));
    bool tls = false;
    char host[256], port[16];
    const char *target = "";
    int r = parse_url(url, &tls, host, sizeof(host), port, sizeof(port), &target, err);
    if (r < 0)
        return r;
    const char *const *protocols = o->protocols;
    int64_t deadline = now_ms() + (o->timeout_ms ? o->timeout_ms : 30000);
    struct reef_ws_client *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return reef_err_set(err, -ENOMEM, "out of memory");
    ws->fd = -1;
    reef_buf_init(&ws->early);
    struct reef_buf rq = REEF_BUF_INIT;
    struct answer a = {0};
    reef_buf_init(&a.body);
    struct reef_http_parser *hp = NULL;
    struct reef_tls_config *cfg = NULL;
    ws->fd = dial(host, port, deadline, err);
    if (ws->fd < 0) {
        r = ws->fd;
        goto fail;
    }
    if (tls) {
        struct reef_tls_client_opts to = {.ca_pem = o->ca_pem,
                                          .ca_file = o->ca_file,
                                          .cert_pem = o->cert_pem,
                                          .cert_file = o->cert_file,
                                          .key_pem = o->key_pem,
                                          .key_file = o->key_file,
                                          .insecure_skip_verify = o->insecure_skip_verify};
        cfg = reef_tls_config_client_new(&to, err);
        if (!cfg) {
            r = err ? err->code : -EINVAL;
            goto fail;
        }
        const char *name = o->tls_server_name && *o->tls_server_name ? o->tls_server_name : host;
        ws->tls = reef_tls_new(cfg, name, err);
        if (!ws->tls) {
            r = err ? err->code : -EINVAL;
            goto fail;
        }
        if ((r = tls_handshake(ws, deadline, err)) < 0)
            goto fail;
    }
    uint8_t nonce[16];
    if ((r = reef_crypto_random(nonce, sizeof(nonce), err)) < 0)
        goto fail;
    struct reef_buf key = REEF_BUF_INIT;
    reef_crypto_b64_encode(&key, nonce, sizeof(nonce), REEF_B64_STD);
    char want[29];
    reef_ws_accept_key(key.data, want);
    bool v6 = strchr(host, ':') != NULL;
    reef_buf_printf(&rq, "GET %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\n", *target == '/' ? "" : "/",
                    target, v6 ? "[" : "", host, v6 ? "]" : "", port);
    reef_buf_printf(&rq,
                    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                    "Sec-WebSocket-Version: 13\r\nUser-Agent: reef\r\n",
                    key.data);
    reef_buf_free(&key);
    if (protocols && protocols[0]) {
        reef_buf_puts(&rq, "Sec-WebSocket-Protocol: ");
        for (int i = 0; protocols[i]; i++)
            reef_buf_printf(&rq, "%s%s", i ? ", " : "", protocols[i]);
        reef_buf_puts(&rq, "\r\n");
    }
    if (o->bearer_token && *o->bearer_token)
        reef_buf_printf(&rq, "Authorization: Bearer %s\r\n", o->bearer_token);
    reef_buf_puts(&rq, "\r\n");
    if ((r = send_raw(ws, rq.data, rq.len, err)) < 0)
        goto fail;
    struct reef_http_parser_cb cb = {ans_head, ans_body, ans_end};
    hp = reef_http_parser_new(REEF_HTTP_RESPONSE, NULL, &cb, &a);
    if (!hp) {
        r = reef_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    struct reef_buf in = REEF_BUF_INIT;
    while (!a.done) {
        if ((r = wait_fd(ws->fd, POLLIN, deadline, err)) < 0)
            break;
        ssize_t n = recv_some(ws, &in, err);
        if (n < 0) {
            r = (int)n;
            break;
        }
        ssize_t used = in.len ? reef_http_parser_feed(hp, in.data, in.len, err) : 0;
        if (used < 0) {
            r = (int)used;
            break;
        }
        reef_buf_consume(&in, (size_t)used);
        if (n == 0 && !a.done) {
            r = reef_http_parser_eof(hp, err);
            if (r == 0 && !a.done)
                r = reef_err_set(err, -ECONNRESET, "the server closed the connection");
            if (r < 0)
                break;
        }
    }
    if (a.done && a.status == 101) {
        /* what follows the head is the first frames */
        reef_buf_append(&ws->early, in.data, in.len);
    }
    reef_buf_free(&in);
    if (!a.done)
        goto fail;
    if (a.status != 101) {
        refused->status = a.status;
        refused->body_len = a.body.len;
        refused->body = reef_buf_steal(&a.body);
        if (!refused->body)
            refused->body = strdup("");
        r = reef_err_set(err, -EPROTO, "the server did not upgrade the connection: %d", a.status);
        goto fail;
    }
    if (strcasecmp(a.upgrade_hdr, "websocket") != 0 || strcmp(a.accept, want) != 0) {
        r = reef_err_set(err, -EPROTO, "bad WebSocket handshake from the server");
        goto fail;
    }
    bool offered = !a.protocol[0];
    for (int i = 0; protocols && protocols[i] && !offered; i++)
        offered = strcmp(protocols[i], a.protocol) == 0;
    if (!offered) {
        r = reef_err_set(err, -EPROTO, "the server chose protocol %s, which was not offered",
                         a.protocol);
        goto fail;
    }
    snprintf(ws->protocol, sizeof(ws->protocol), "%s", a.protocol);
    ws->rd = reef_ws_reader_new(false, o->max_message ? o->max_message : MAX_MESSAGE);
    if (!ws->rd) {
        r = reef_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    reef_http_parser_free(hp);
    reef_tls_config_unref(cfg);
    reef_buf_free(&rq);
    reef_buf_free(&a.body);
    *out = ws;
    return 0;
fail:
    reef_http_parser_free(hp);
    reef_tls_config_unref(cfg);
    reef_buf_free(&rq);
    reef_buf_free(&a.body);
    ws->closed = true;
    reef_ws_client_free(ws);
    return r < 0 ? r : -EPROTO;
}

const char *reef_ws_client_protocol(const struct reef_ws_client *ws)
{
    return ws->protocol;
}

int reef_ws_client_fd(const struct reef_ws_client *ws)
{
    return ws->fd;
}

bool reef_ws_client_pending(const struct reef_ws_client *ws)
{
    return ws->early.len > 0;
}

static int send_frame(struct reef_ws_client *ws, enum reef_ws_opcode op, const void *data,
                      size_t len, struct reef_err *err)
{
    uint8_t mask[4];
    int r = reef_crypto_random(mask, sizeof(mask), err);
    if (r < 0)
        return r;
    struct reef_buf f = REEF_BUF_INIT;
    if (op == REEF_WS_CLOSE)
        r = reef_ws_write_close(&f, REEF_WS_CLOSE_NORMAL, "", mask);
    else
        r = reef_ws_write_frame(&f, true, op, data, len, mask);
    if (r == 0)
        r = send_raw(ws, f.data, f.len, err);
    else
        reef_err_set(err, r, "websocket: cannot write a frame");
    reef_buf_free(&f);
    return r;
}

int reef_ws_client_send(struct reef_ws_client *ws, enum reef_ws_opcode op, const void *data,
                        size_t len, struct reef_err *err)
{
    if (ws->closed || ws->ended)
        return reef_err_set(err, -EPIPE, "websocket: the connection is closed");
    if (op != REEF_WS_TEXT && op != REEF_WS_BINARY)
        return reef_err_set(err, -EINVAL, "websocket: only text and binary messages are sent");
    return send_frame(ws, op, data, len, err);
}

struct dispatch {
    struct reef_ws_client *ws;
    reef_ws_on_message cb;
    void *ud;
};

static int on_frame(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    struct dispatch *d = ud;
    switch (op) {
    case REEF_WS_PING:
        return send_frame(d->ws, REEF_WS_PONG, data, len, NULL) < 0 ? -EPIPE : 0;
    case REEF_WS_PONG:
        return 0;
    case REEF_WS_CLOSE:
        d->ws->ended = true;
        d->ws->close_code = len >= 2 ? data[0] << 8 | data[1] : 1005;
        if (!d->ws->closed) {
            d->ws->closed = true;
            send_frame(d->ws, REEF_WS_CLOSE, NULL, 0, NULL);
        }
        return 0;
    default:
        return d->ws->ended ? 0 : d->cb(d->ud, op, data, len);
    }
}

int reef_ws_client_read(struct reef_ws_client *ws, reef_ws_on_message cb, void *ud,
                        struct reef_err *err)
{
    if (ws->ended)
        return 0;
    struct dispatch d = {ws, cb, ud};
    struct reef_buf in = REEF_BUF_INIT;
    ssize_t n;
    if (ws->early.len) {
        reef_buf_append(&in, ws->early.data, ws->early.len);
        reef_buf_reset(&ws->early);
        n = 1;
    } else {
        n = recv_some(ws, &in, err);
    }
    if (n < 0) {
        reef_buf_free(&in);
        return (int)n;
    }
    if (in.len) {
        ssize_t used =
            reef_ws_reader_feed(ws->rd, (const uint8_t *)in.data, in.len, on_frame, &d, NULL, err);
        if (used < 0) {
            reef_buf_free(&in);
            return (int)used;
        }
    }
    reef_buf_free(&in);
    if (n == 0 && !ws->ended) {
        ws->ended = true;
        ws->close_code = 1006;
    }
    return ws->ended ? 0 : 1;
}

int reef_ws_client_close_code(const struct reef_ws_client *ws)
{
    return ws->close_code;
}

void reef_ws_client_free(struct reef_ws_client *ws)
{
    if (!ws)
        return;
    if (!ws->closed && ws->fd >= 0)
        send_frame(ws, REEF_WS_CLOSE, NULL, 0, NULL);
    if (ws->tls && ws->fd >= 0) {
        reef_tls_close_notify(ws->tls);
        struct reef_buf *o = reef_tls_out(ws->tls);
        write_all(ws->fd, o->data, o->len, NULL);
    }
    reef_tls_free(ws->tls);
    reef_ws_reader_free(ws->rd);
    reef_buf_free(&ws->early);
    if (ws->fd >= 0)
        close(ws->fd);
    free(ws);
}
