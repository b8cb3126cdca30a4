/* apiserver_commit: group commit on the loop. The store commits each write without a disk sync;
 * at the end of every loop iteration that wrote (a check handle, after the I/O callbacks) one
 * fdatasync makes the iteration's writes durable, and only then does the output held by the
 * HTTP server's barrier go out. An idle handle keeps the loop from sleeping in poll while
 * anything waits, so writes made outside I/O callbacks (timers, in-process callers) are synced
 * within the same turn of the loop. */
#include "orchestrate/apiserver.h"

#include <stdlib.h>

#include "core/log.h"

struct reef__api_commit {
    struct reef_apiserver *a;
    struct reef_http_server *http;
    uv_prepare_t prepare;
    uv_check_t check;
    uv_idle_t idle;
    int closed;
    bool failed_logged;
};

static bool waiting(struct reef__api_commit *g)
{
    return reef_store_unsynced(g->a->store) || reef_http_server_held(g->http);
}

static void on_idle(uv_idle_t *h)
{
    (void)h; /* its being active keeps poll from blocking; the work is in on_check */
}

static void on_prepare(uv_prepare_t *h)
{
    struct reef__api_commit *g = h->data;
    if (waiting(g))
        uv_idle_start(&g->idle, on_idle);
    else
        uv_idle_stop(&g->idle);
}

static void sync_and_release(struct reef__api_commit *g)
{
    if (reef_store_unsynced(g->a->store)) {
        struct reef_err err = {0};
        if (reef_store_sync(g->a->store, &err) < 0) {
            if (!g->failed_logged)
                LOG_ERROR("apiserver", "%s", err.msg);
            g->failed_logged = true;
            /* What is held may report writes the disk does not have. */
            reef_http_server_discard_held(g->http);
            return;
        }
    }
    reef_http_server_release(g->http);
}

static void on_check(uv_check_t *h)
{
    sync_and_release(h->data);
}

static void on_closed(uv_handle_t *h)
{
    struct reef__api_commit *g = h->data;
    if (++g->closed == 3)
        free(g);
}

int reef_apiserver_group_commit(struct reef_apiserver *a, struct reef_http_server *http,
                                struct reef_err *err)
{
    struct reef__api_commit *g = a->commit;
    if (g) {
        a->commit = NULL;
        sync_and_release(g);
        reef_http_server_hold(g->http, false);
        uv_close((uv_handle_t *)&g->prepare, on_closed);
        uv_close((uv_handle_t *)&g->check, on_closed);
        uv_close((uv_handle_t *)&g->idle, on_closed);
    }
    if (!http)
        return 0;
    g = calloc(1, sizeof(*g));
    if (!g)
        return reef_err_set(err, -ENOMEM, "apiserver: out of memory");
    g->a = a;
    g->http = http;
    uv_prepare_init(a->loop, &g->prepare);
    uv_check_init(a->loop, &g->check);
    uv_idle_init(a->loop, &g->idle);
    g->prepare.data = g->check.data = g->idle.data = g;
    uv_prepare_start(&g->prepare, on_prepare);
    uv_check_start(&g->check, on_check);
    /* they follow the loop's life, they do not extend it */
    uv_unref((uv_handle_t *)&g->prepare);
    uv_unref((uv_handle_t *)&g->check);
    uv_unref((uv_handle_t *)&g->idle);
    reef_http_server_hold(http, true);
    a->commit = g;
    return 0;
}
