/* http_client_sync: one request run to completion on a private loop, for command-line use. */
#include "core/http_client.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

struct fetch_state {
    struct reef_http_result *out;
    struct reef_err *err;
    int result;
};

static void fetch_done(void *ud, int result, const struct reef_http_response *res,
                       const struct reef_err *err)
{
    struct fetch_state *fs = ud;
    fs->result = result;
    if (result < 0) {
        if (fs->err)
            *fs->err = *err;
        return;
    }
    struct reef_http_result *o = fs->out;
    o->status = res->status;
    o->body = malloc(res->body_len + 1);
    if (!o->body) {
        fs->result = reef_err_set(fs->err, -ENOMEM, "http: out of memory");
        return;
    }
    memcpy(o->body, res->body, res->body_len);
    o->body[res->body_len] = '\0';
    o->body_len = res->body_len;
    for (size_t i = 0; i < res->msg->nheaders; i++) {
        const struct reef_http_header *h = &res->msg->headers[i];
        reef_buf_append(&o->headers, h->name, strlen(h->name) + 1);
        reef_buf_append(&o->headers, h->value, strlen(h->value) + 1);
    }
}

int reef_http_fetch(const struct reef_http_client_opts *opts, const struct reef_http_request *rq,
                    struct reef_http_result *out, struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    uv_loop_t loop;
    int r = uv_loop_init(&loop);
    if (r < 0)
        return reef_err_set(err, r, "http: loop: %s", uv_strerror(r));
    struct reef_http_client *cl = reef_http_client_new(&loop, opts, err);
    if (!cl) {
        uv_loop_close(&loop);
        return err ? err->code : -ENOMEM;
    }
    struct fetch_state fs = {out, err, -EINPROGRESS};
    r = reef_http_client_request(cl, rq, fetch_done, &fs, NULL, err);
    if (r == 0) {
        /* until the callback ran: a kept-alive connection would keep the loop alive */
        while (fs.result == -EINPROGRESS && uv_run(&loop, UV_RUN_ONCE))
            ;
        r = fs.result;
    }
    reef_http_client_free(cl);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (REEF_NEVER(uv_loop_close(&loop) != 0))
        LOG_WARN("http", "fetch: loop still had handles");
    if (r < 0)
        reef_http_result_free(out);
    return r;
}

void reef_http_result_free(struct reef_http_result *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    reef_buf_free(&r->headers);
}

const char *reef_http_result_header(const struct reef_http_result *r, const char *name)
{
    const char *p = r->headers.data, *end = p + r->headers.len;
    while (p && p < end) {
        const char *v = p + strlen(p) + 1;
        if (strcasecmp(p, name) == 0)
            return v;
        p = v + strlen(v) + 1;
    }
    return NULL;
}
