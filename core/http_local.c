/* http_local: requests a process makes to its own HTTP handlers, without a socket. */
#include "core/http_server_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const no_orgs[] = {NULL};

struct reef_http_res *reef_http_local_new(const char *method, const char *target,
                                          const struct reef_http_header *headers, size_t nheaders,
                                          const char *body, size_t len,
                                          const struct reef_http_local *cb)
{
    struct reef_http_res *res = calloc(1, sizeof(*res));
    if (!res)
        return NULL;
    /* method, target and header strings in one allocation */
    size_t need = strlen(method) + 1 + strlen(target) + 1;
    for (size_t i = 0; i < nheaders; i++)
        need += strlen(headers[i].name) + 1 + strlen(headers[i].value) + 1;
    size_t tlen = strlen(target);
    res->local_strings = malloc(need);
    res->path = malloc(tlen + 2);
    res->local_headers = calloc(nheaders ? nheaders : 1, sizeof(*res->local_headers));
    if (!res->local_strings || !res->path || !res->local_headers ||
        (len && reef_buf_append(&res->body, body, len) < 0)) {
        reef__http_res_free(res);
        return NULL;
    }
    char *p = res->local_strings;
#define COPY(dst, src)                                                                            \
    do {                                                                                          \
        size_t n_ = strlen(src) + 1;                                                              \
        memcpy(p, src, n_);                                                                       \
        (dst) = p;                                                                                \
        p += n_;                                                                                  \
    } while (0)
    const char *m, *t;
    COPY(m, method);
    COPY(t, target);
    for (size_t i = 0; i < nheaders; i++) {
        COPY(res->local_headers[i].name, headers[i].name);
        COPY(res->local_headers[i].value, headers[i].value);
    }
#undef COPY
    const char *q = strchr(t, '?');
    size_t plen = q ? (size_t)(q - t) : tlen;
    memcpy(res->path, t, plen);
    res->path[plen] = '\0';
    strcpy(res->path + plen + 1, q ? q + 1 : "");

    struct reef_http_msg *msg = &res->local_msg;
    msg->kind = REEF_HTTP_REQUEST;
    msg->method = m;
    msg->target = t;
    msg->version_minor = 1;
    msg->nheaders = nheaders;
    msg->headers = res->local_headers;
    msg->content_length = (int64_t)len;
    msg->keep_alive = true;

    struct reef_http_req *req = &res->req;
    req->method = m;
    req->target = t;
    req->path = res->path;
    req->query = res->path + plen + 1;
    req->msg = msg;
    req->peer_cn = "";
    req->peer_orgs = no_orgs;
    req->remote_addr = "local";
    if (res->body.len) {
        req->body = res->body.data;
        req->body_len = res->body.len;
    }
    res->local = cb;
    res->head_request = strcmp(m, "HEAD") == 0;
    res->msg_complete = true;
    res->dispatched = true;
    return res;
}

void reef_http_local_cancel(struct reef_http_res *res)
{
    if (!res || res->finished)
        return;
    res->local = NULL; /* from now on it is a response whose client left */
    if (res->close_cb) {
        res->close_cb(res->close_ud, res);
        reef__http_res_free(res);
    }
    /* else the handler still holds it and frees it by finishing it */
}
