/* probe_net: tcpSocket probes (a connection within the timeout) and grpc probes (gRPC's health
 * check on that connection, orchestrate/grpc_health) for orchestrate/probe. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "orchestrate/grpc_health.h"
#include "orchestrate/probe_int.h"

/* ---------------- tcpSocket ---------------- */

struct tcp_run {
    struct reef_probe *p, *owner;
    uv_getaddrinfo_t gai;
    uv_tcp_t h;
    uv_connect_t req;
    char hostport[300];
    bool open;
    bool connected;                       /* grpc: the health call is under way */
    struct reef_grpc_health_reader reader; /* grpc: the server's answer */
    char rbuf[4096];
};

static void tcp_closed(uv_handle_t *h)
{
    struct tcp_run *t = h->data;
    struct reef_probe *owner = t->owner;
    reef_grpc_health_reader_free(&t->reader);
    free(t);
    reef__probe_unref(owner);
}

void reef__probe_tcp_release(struct tcp_run *t)
{
    if (t->p && t->p->tcp == t)
        t->p->tcp = NULL;
    t->p = NULL;
    if (t->open) {
        t->open = false;
        uv_close((uv_handle_t *)&t->h, tcp_closed);
    }
    /* else: the name lookup is in flight and frees it */
}

/* ---------------- grpc: the health check over the tcpSocket connection ---------------- */

struct grpc_write {
    uv_write_t req;
    char data[];
};

static void grpc_written(uv_write_t *req, int status)
{
    (void)status; /* a failed write shows as a read error or the deadline */
    free(req);
}

static int grpc_send(struct tcp_run *t, const struct reef_buf *b)
{
    if (!b->len)
        return 0;
    struct grpc_write *w = malloc(sizeof(*w) + b->len);
    if (!w)
        return UV_ENOMEM;
    memcpy(w->data, b->data, b->len);
    uv_buf_t ub = uv_buf_init(w->data, (unsigned)b->len);
    int r = uv_write(&w->req, (uv_stream_t *)&t->h, &ub, 1, grpc_written);
    if (r < 0)
        free(w);
    return r;
}

static void grpc_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    struct tcp_run *t = h->data;
    *buf = uv_buf_init(t->rbuf, sizeof(t->rbuf));
}

static void grpc_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct tcp_run *t = s->data;
    struct reef_probe *p = t->p;
    if (!p || n == 0)
        return;
    char msg[512];
    if (n < 0) {
        snprintf(msg, sizeof(msg), "error: health rpc probe failed: %s",
                 n == UV_EOF ? "connection closed before an answer" : uv_strerror((int)n));
        reef__probe_attempt_done(p, true, false, msg);
        reef__probe_tcp_release(t);
        return;
    }
    struct reef_buf reply = REEF_BUF_INIT;
    int v = reef_grpc_health_feed(&t->reader, buf->base, (size_t)n, &reply);
    int w = v >= 0 ? grpc_send(t, &reply) : 0;
    reef_buf_free(&reply);
    if (v < 0 || w < 0) {
        reef__probe_attempt_done(p, false, false, "out of memory");
        reef__probe_tcp_release(t);
    } else if (v == REEF_GRPC_HEALTH_SERVING || v == REEF_GRPC_HEALTH_NOT_SERVING) {
        reef__probe_attempt_done(p, true, v == REEF_GRPC_HEALTH_SERVING, t->reader.message);
        reef__probe_tcp_release(t);
    } else if (v == REEF_GRPC_HEALTH_FAILED) {
        snprintf(msg, sizeof(msg), "error: %s", t->reader.message);
        reef__probe_attempt_done(p, true, false, msg);
        reef__probe_tcp_release(t);
    }
}

static void grpc_call(struct tcp_run *t)
{
    struct reef_probe *p = t->p;
    struct reef_buf req = REEF_BUF_INIT;
    int r = reef_grpc_health_request(t->hostport, p->grpc_service, &req);
    if (r == 0)
        r = grpc_send(t, &req);
    reef_buf_free(&req);
    if (r == 0)
        r = uv_read_start((uv_stream_t *)&t->h, grpc_alloc, grpc_read);
    if (r < 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "error: health rpc probe failed: %s", uv_strerror(r));
        reef__probe_attempt_done(p, true, false, msg);
        reef__probe_tcp_release(t);
        return;
    }
    t->connected = true;
}

static void tcp_connected(uv_connect_t *req, int status)
{
    struct tcp_run *t = req->data;
    struct reef_probe *p = t->p;
    if (!p)
        return; /* timed out or stopped: already released */
    if (status == 0 && p->kind == K_GRPC) {
        grpc_call(t);
        return;
    }
    if (status == 0) {
        reef__probe_attempt_done(p, true, true, "");
    } else {
        char msg[512];
        const char *why = status == UV_ECONNREFUSED ? "connection refused" : uv_strerror(status);
        if (p->kind == K_GRPC)
            snprintf(msg, sizeof(msg), "error: failed to connect service at \"%s\": %s",
                     t->hostport, why);
        else
            snprintf(msg, sizeof(msg), "dial tcp %s: connect: %s", t->hostport, why);
        reef__probe_attempt_done(p, true, false, msg);
    }
    reef__probe_tcp_release(t);
}

static void tcp_connect(struct tcp_run *t, const struct sockaddr *sa)
{
    struct reef_probe *p = t->p;
    int r = uv_tcp_init(p->loop, &t->h);
    if (r == 0) {
        t->open = true;
        t->h.data = t;
        t->req.data = t;
        r = uv_tcp_connect(&t->req, &t->h, sa, tcp_connected);
    }
    if (r < 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "dial tcp %s: %s", t->hostport, uv_strerror(r));
        reef__probe_attempt_done(p, true, false, msg);
        if (t->open) {
            reef__probe_tcp_release(t);
        } else {
            struct reef_probe *owner = t->owner;
            p->tcp = NULL;
            free(t);
            reef__probe_unref(owner);
        }
    }
}

static void tcp_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct tcp_run *t = req->data;
    if (!t->p) {
        uv_freeaddrinfo(res);
        struct reef_probe *owner = t->owner;
        free(t);
        reef__probe_unref(owner);
        return;
    }
    if (status < 0 || !res) {
        char msg[512];
        snprintf(msg, sizeof(msg), "dial tcp: lookup %s: %s", t->p->host, uv_strerror(status));
        reef__probe_attempt_done(t->p, true, false, msg);
        t->p->tcp = NULL;
        struct reef_probe *owner = t->owner;
        uv_freeaddrinfo(res);
        free(t);
        reef__probe_unref(owner);
        return;
    }
    struct sockaddr_storage ss;
    memcpy(&ss, res->ai_addr, res->ai_addrlen);
    ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)t->p->port);
    uv_freeaddrinfo(res);
    tcp_connect(t, (struct sockaddr *)&ss);
}

void reef__probe_tcp_attempt(struct reef_probe *p)
{
    struct tcp_run *t = calloc(1, sizeof(*t));
    if (!t) {
        reef__probe_attempt_done(p, false, false, "out of memory");
        return;
    }
    t->p = t->owner = p;
    p->refs++;
    p->tcp = t;
    bool v6 = strchr(p->host, ':') != NULL;
    snprintf(t->hostport, sizeof(t->hostport), v6 ? "[%s]:%d" : "%s:%d", p->host, p->port);
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    if (uv_ip4_addr(p->host, p->port, &a4) == 0) {
        tcp_connect(t, (struct sockaddr *)&a4);
    } else if (uv_ip6_addr(p->host, p->port, &a6) == 0) {
        tcp_connect(t, (struct sockaddr *)&a6);
    } else {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        t->gai.data = t;
        int r = uv_getaddrinfo(p->loop, &t->gai, tcp_resolved, p->host, NULL, &hints);
        if (r < 0) {
            char msg[512];
            snprintf(msg, sizeof(msg), "dial tcp: lookup %s: %s", p->host, uv_strerror(r));
            reef__probe_attempt_done(p, true, false, msg);
            p->tcp = NULL;
            free(t);
            reef__probe_unref(p);
        }
    }
}

void reef__probe_tcp_timeout(struct reef_probe *p)
{
    if (!p->tcp)
        return;
    char msg[512];
    if (p->kind == K_TCP)
        snprintf(msg, sizeof(msg), "dial tcp %s: i/o timeout", p->tcp->hostport);
    else if (p->tcp->connected)
        snprintf(msg, sizeof(msg), "timeout: health rpc did not complete within %ds", p->timeout_s);
    else
        snprintf(msg, sizeof(msg), "timeout: failed to connect service \"%s\" within %ds",
                 p->tcp->hostport, p->timeout_s);
    reef__probe_tcp_release(p->tcp);
    reef__probe_attempt_done(p, true, false, msg);
}
