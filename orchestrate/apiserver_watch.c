/* apiserver: watch streams. Each watch is one kept HTTP response fed by a store watch callback;
 * a client that stops reading is cut off instead of buffered without bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/apiserver.h"
#include "orchestrate/selector.h"

/* A connection with this much unsent output is not reading: end its watch (the client re-lists). */
#define WATCH_MAX_QUEUED (4u << 20)

struct reef__api_watch {
    struct reef__api_watch *prev, *next;
    struct reef_apiserver *a; /* NULL once the API server is gone */
    const struct reef__api_res *r;
    struct reef_http_res *res; /* NULL once finished */
    struct reef_store_watch *sw;
    struct reef__api_sel sel;
    uv_timer_t timer;
    bool table;
    enum reef_table_include include;
    size_t tables; /* Table events sent: the column definitions go with the first only */
    struct reef_buf scratch;
    struct reef_json_doc d;
    struct reef_buf line;
};

static void unlink_watch(struct reef__api_watch *w)
{
    if (!w->a)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        w->a->watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->a->nwatches--;
    w->a = NULL;
}

static void timer_closed(uv_handle_t *h)
{
    struct reef__api_watch *w = h->data;
    reef__api_sel_free(&w->sel);
    reef_json_doc_free(&w->d);
    reef_buf_free(&w->line);
    reef_buf_free(&w->scratch);
    free(w);
}

/* Stops everything and finishes the response when it is still ours (a response whose client
 * left must be finished too, or the server never frees it). */
static void watch_stop(struct reef__api_watch *w)
{
    reef_store_unwatch(w->sw);
    w->sw = NULL;
    if (w->res) {
        reef_http_res_on_close(w->res, NULL, NULL);
        reef_http_res_on_drain(w->res, NULL, NULL);
        reef_http_res_end(w->res);
        w->res = NULL;
    }
    unlink_watch(w);
    uv_timer_stop(&w->timer);
    if (!uv_is_closing((uv_handle_t *)&w->timer))
        uv_close((uv_handle_t *)&w->timer, timer_closed);
}

static void on_close(void *ud, struct reef_http_res *res)
{
    struct reef__api_watch *w = ud;
    (void)res;
    w->res = NULL;
    watch_stop(w);
}

static void on_timeout(uv_timer_t *t)
{
    watch_stop(t->data);
}

/* Writes {"type":T,"object":...}\n with the object (or a one-row Table of it). */
static int write_event(struct reef__api_watch *w, const char *type, const char *obj, size_t len)
{
    reef_buf_reset(&w->line);
    struct reef_json_writer jw;
    reef_json_writer_init(&jw, &w->line, 0);
    reef_json_begin_object(&jw);
    reef_json_key(&jw, "type");
    reef_json_put_str(&jw, type);
    reef_json_key(&jw, "object");
    if (w->table && strcmp(type, "ERROR") != 0) {
        if (reef_json_parse(&w->d, obj, len, NULL, NULL) < 0)
            return 0;
        reef_buf_reset(&w->scratch);
        if (reef__api_table_one(w->r, w->include, w->tables > 0, &w->d, &w->scratch, NULL) < 0)
            return 0;
        w->tables++;
        reef_json_put_raw(&jw, w->scratch.data, w->scratch.len);
    } else {
        reef_json_put_raw(&jw, obj, len);
    }
    reef_json_end_object(&jw);
    if (reef_json_finish(&jw, NULL) < 0)
        return 0;
    reef_buf_putc(&w->line, '\n');
    return reef_http_res_write(w->res, w->line.data, w->line.len);
}

/* Gives back the buffers an event was built in (reef_http_res_write copied the line). With
 * thousands of watches open and quiet, buffers kept per watch between events would hold more
 * memory than the connections themselves use; a burst (the initial listing) reuses them. */
static void release_scratch(struct reef__api_watch *w)
{
    reef_buf_free(&w->line);
    reef_buf_free(&w->scratch);
    reef_json_doc_free(&w->d);
}

static void on_event(void *ud, const struct reef_store_event *ev)
{
    struct reef__api_watch *w = ud;
    if (!w->res || !w->a)
        return;
    if (reef_http_res_queued(w->res) > WATCH_MAX_QUEUED) {
        watch_stop(w);
        return;
    }
    int r = write_event(w, reef_store_event_name(ev->type), ev->object, ev->len);
    release_scratch(w);
    if (r == -EPIPE)
        watch_stop(w);
}

static void write_expired(struct reef__api_watch *w, int64_t from, int64_t compacted)
{
    char obj[256];
    int n = snprintf(obj, sizeof(obj),
                     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                     "\"Failure\",\"message\":\"too old resource version: %lld (%lld)\","
                     "\"reason\":\"Expired\",\"code\":410}",
                     (long long)from, (long long)compacted);
    write_event(w, "ERROR", obj, (size_t)n);
}

struct initial {
    struct reef__api_watch *w;
};

static int initial_item(void *arg, const struct reef_store_item *it)
{
    struct initial *in = arg;
    int r = write_event(in->w, "ADDED", it->object, it->len);
    return r == -EPIPE ? r : 0;
}

void reef__api_watch(struct reef__api_call *c)
{
    struct reef__api_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return reef__api_error(c, -ENOMEM, NULL);
    reef_json_doc_init(&w->d);
    reef_buf_init(&w->line);
    reef_buf_init(&w->scratch);
    if (reef__api_sel_parse(c, &w->sel) < 0) {
        free(w);
        return;
    }
    char q[64];
    int64_t from = 0;
    bool initial = true;
    ssize_t qn = reef_http_req_query(c->req, "resourceVersion", q, sizeof(q));
    if (qn < 0 && qn != -ENOENT) {
        reef__api_sel_free(&w->sel);
        free(w);
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                "invalid resource version");
    }
    if (qn > 0 && q[0] && strcmp(q, "0") != 0) {
        long long v;
        if (reef_str_to_ll(q, 1, INT64_MAX, &v) < 0) {
            reef__api_sel_free(&w->sel);
            free(w);
            return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                    "invalid resource version: %s", q);
        }
        from = v;
        initial = false;
    }
    uint64_t timeout_s =
        c->a->watch_max_s ? c->a->watch_max_s : 1800 + (uint64_t)(reef__api_now_ms() % 1800);
    if (reef_http_req_query(c->req, "timeoutSeconds", q, sizeof(q)) > 0) {
        long long v;
        if (reef_str_to_ll(q, 0, 24 * 3600, &v) == 0 && v > 0 && (uint64_t)v < timeout_s)
            timeout_s = (uint64_t)v;
    }
    w->a = c->a;
    w->r = c->r;
    w->res = c->res;
    w->table = c->table;
    w->include = c->include;
    uv_timer_init(c->a->loop, &w->timer);
    w->timer.data = w;
    w->next = c->a->watches;
    if (w->next)
        w->next->prev = w;
    c->a->watches = w;
    c->a->nwatches++;
    reef_http_res_on_close(c->res, on_close, w);
    reef_http_res_begin(c->res, 200, "application/json");
    const char *ns = c->ns[0] ? c->ns : NULL;
    struct reef_err err = {0};
    if (initial) {
        struct reef_store_list_opts o = {
            .namespace = ns, .pred = reef__api_sel_match, .pred_arg = &w->sel};
        struct initial in = {w};
        struct reef_store_list_result lr = {0};
        int r = reef_store_list(c->a->store, c->r->store_key, &o, initial_item, &in, &lr, &err);
        if (r < 0) {
            watch_stop(w);
            return;
        }
        from = lr.rev;
        release_scratch(w);
    }
    int r = reef_store_watch(c->a->store, c->r->store_key, ns, from, reef__api_sel_match, &w->sel,
                             on_event, w, &w->sw, &err);
    if (r == REEF_STORE_EXPIRED) {
        write_expired(w, from, reef_store_compacted_rev(c->a->store));
        watch_stop(w);
        return;
    }
    if (r < 0 || !w->res) {
        if (w->res || w->a)
            watch_stop(w);
        return;
    }
    uv_timer_start(&w->timer, on_timeout, timeout_s * 1000, 0);
}

void reef__api_watches_end(struct reef_apiserver *a)
{
    while (a->watches)
        watch_stop(a->watches);
}
