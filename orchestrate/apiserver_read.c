/* apiserver: the read side: get, list, label and field selectors, Table output, Scale views. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/apiserver.h"
#include "orchestrate/selector.h"

/* ---- selectors ---- */

int reef__api_sel_parse(struct reef__api_call *c, struct reef__api_sel *sel)
{
    sel->labels = NULL;
    sel->fields = NULL;
    char q[8192];
    struct reef_err err = {0};
    ssize_t n = reef_http_req_query(c->req, "labelSelector", q, sizeof(q));
    if (n < 0 && n != -ENOENT) {
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                         "labelSelector: too long or badly escaped");
        return -EINVAL;
    }
    if (n > 0 && reef_label_selector_parse(q, &sel->labels, &err) < 0) {
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
        return -EINVAL;
    }
    n = reef_http_req_query(c->req, "fieldSelector", q, sizeof(q));
    if (n < 0 && n != -ENOENT) {
        reef__api_sel_free(sel);
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                         "fieldSelector: too long or badly escaped");
        return -EINVAL;
    }
    if (n > 0 && reef_field_selector_parse(q, c->r->plural, &sel->fields, &err) < 0) {
        reef__api_sel_free(sel);
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
        return -EINVAL;
    }
    return 0;
}

void reef__api_sel_free(struct reef__api_sel *sel)
{
    reef_label_selector_free(sel->labels);
    reef_field_selector_free(sel->fields);
    sel->labels = NULL;
    sel->fields = NULL;
}

bool reef__api_sel_match(void *arg, const struct reef_json_doc *obj)
{
    const struct reef__api_sel *sel = arg;
    if (sel->labels) {
        int l = reef_json_find(obj, REEF_JSON_ROOT, "metadata.labels", NULL);
        if (!reef_label_selector_matches(sel->labels, obj, l))
            return false;
    }
    if (sel->fields && !reef_field_selector_matches(sel->fields, obj, REEF_JSON_ROOT))
        return false;
    return true;
}

/* ---- Tables ---- */

int reef__api_table_one(const struct reef__api_res *r, enum reef_table_include include,
                        bool no_headers, const struct reef_json_doc *d, struct reef_buf *out,
                        struct reef_err *err)
{
    struct reef_table_opts o = {.resource = r->store_key,
                                .now = reef__api_now_ms() / 1000,
                                .wide = true,
                                .no_headers = no_headers,
                                .include = include};
    return reef_table_write_one(out, &o, d, REEF_JSON_ROOT, err);
}

/* Sends one object as JSON or as a one-row Table. */
void reef__api_send_object(struct reef__api_call *c, int code, const char *obj, size_t len)
{
    if (!c->table) {
        reef_http_res_send(c->res, code, "application/json", obj, len);
        return;
    }
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_buf b;
    reef_buf_init(&b);
    struct reef_err err = {0};
    if (reef_json_parse(&d, obj, len, NULL, &err) < 0 ||
        reef__api_table_one(c->r, c->include, false, &d, &b, &err) < 0)
        reef__api_status(c->res, 500, "InternalError", NULL, NULL, NULL, "%s", err.msg);
    else
        reef__api_send_json(c->res, code, &b);
    reef_buf_free(&b);
    reef_json_doc_free(&d);
}

/* ---- scale ---- */

/* autoscaling/v1 Scale of a Deployment or ReplicaSet. */
int reef__api_scale_of(const char *obj, size_t len, struct reef_buf *out, struct reef_err *err)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, obj, len, NULL, err);
    if (r < 0)
        return r;
    struct reef_json_writer w;
    reef_json_writer_init(&w, out, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "kind");
    reef_json_put_str(&w, "Scale");
    reef_json_key(&w, "apiVersion");
    reef_json_put_str(&w, "autoscaling/v1");
    reef_json_key(&w, "metadata");
    reef_json_begin_object(&w);
    static const char *const keep[] = {"name", "namespace", "uid", "resourceVersion",
                                       "creationTimestamp"};
    int md = reef_json_member(&d, REEF_JSON_ROOT, "metadata");
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        int v = md >= 0 ? reef_json_member(&d, md, keep[i]) : -1;
        if (v >= 0) {
            reef_json_key(&w, keep[i]);
            reef_json_put_value(&w, &d, v);
        }
    }
    reef_json_end_object(&w);
    int64_t replicas = 1, status_replicas = 0;
    int v = reef_json_find(&d, REEF_JSON_ROOT, "spec.replicas", NULL);
    if (v >= 0)
        reef_json_get_int(&d, v, &replicas, NULL);
    v = reef_json_find(&d, REEF_JSON_ROOT, "status.replicas", NULL);
    if (v >= 0)
        reef_json_get_int(&d, v, &status_replicas, NULL);
    reef_json_key(&w, "spec");
    reef_json_begin_object(&w);
    reef_json_key(&w, "replicas");
    reef_json_put_int(&w, replicas);
    reef_json_end_object(&w);
    reef_json_key(&w, "status");
    reef_json_begin_object(&w);
    reef_json_key(&w, "replicas");
    reef_json_put_int(&w, status_replicas);
    struct reef_label_selector *sel = NULL;
    v = reef_json_find(&d, REEF_JSON_ROOT, "spec.selector", NULL);
    if (v >= 0 && reef_label_selector_from_json(&d, v, &sel, NULL) == 0) {
        struct reef_buf s;
        reef_buf_init(&s);
        reef_label_selector_string(sel, &s);
        reef_json_key(&w, "selector");
        reef_json_put_str(&w, s.data ? s.data : "");
        reef_buf_free(&s);
        reef_label_selector_free(sel);
    }
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    reef_json_doc_free(&d);
    return reef_json_finish(&w, err);
}

/* ---- get ---- */

void reef__api_get(struct reef__api_call *c)
{
    char *obj = NULL;
    size_t len = 0;
    struct reef_err err = {0};
    int r = reef_store_get(c->a->store, c->r->store_key, c->ns, c->name, &obj, &len, NULL, &err);
    if (r < 0)
        return reef__api_error(c, r, &err);
    if (strcmp(c->sub, "scale") == 0) {
        struct reef_buf b;
        reef_buf_init(&b);
        if (reef__api_scale_of(obj, len, &b, &err) < 0)
            reef__api_error(c, -EIO, &err);
        else
            reef__api_send_json(c->res, 200, &b);
        reef_buf_free(&b);
    } else {
        reef__api_send_object(c, 200, obj, len);
    }
    free(obj);
}

/* ---- list ---- */

struct list_ctx {
    struct reef_json_writer *w;
};

static int list_item(void *arg, const struct reef_store_item *it)
{
    struct list_ctx *l = arg;
    return reef_json_put_raw(l->w, it->object, it->len);
}

/* The Table of a list whose items (a JSON array) were collected. */
static int list_table(struct reef__api_call *c, const struct reef_buf *items, int64_t rev,
                      const char *cont, struct reef_buf *out, struct reef_err *err)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, items->data, items->len, NULL, err);
    if (r < 0)
        return r;
    char rv[32];
    snprintf(rv, sizeof(rv), "%lld", (long long)rev);
    struct reef_table_opts o = {.resource = c->r->store_key,
                                .now = reef__api_now_ms() / 1000,
                                .wide = true,
                                .include = c->include,
                                .resource_version = rv,
                                .continue_token = cont};
    struct reef_table t;
    reef_table_begin(&t, out, &o);
    struct reef_json_iter it = reef_json_iter(&d, REEF_JSON_ROOT);
    while (reef_json_next(&d, &it))
        reef_table_add(&t, &d, it.val);
    r = reef_table_end(&t, err);
    reef_json_doc_free(&d);
    return r;
}

void reef__api_list(struct reef__api_call *c)
{
    struct reef__api_sel sel;
    if (reef__api_sel_parse(c, &sel) < 0)
        return;
    struct reef_store_list_opts o = {
        .namespace = c->ns[0] ? c->ns : NULL, .pred = reef__api_sel_match, .pred_arg = &sel};
    if (sel.fields) {
        o.name = reef_field_selector_equal_value(sel.fields, "metadata.name");
        const char *ns = reef_field_selector_equal_value(sel.fields, "metadata.namespace");
        if (ns && !o.namespace)
            o.namespace = ns;
        if (strcmp(c->r->plural, "pods") == 0) {
            o.node_name = reef_field_selector_equal_value(sel.fields, "spec.nodeName");
            o.phase = reef_field_selector_equal_value(sel.fields, "status.phase");
        }
    }
    char lim[32], cont[REEF_STORE_TOKEN_MAX];
    if (reef_http_req_query(c->req, "limit", lim, sizeof(lim)) > 0) {
        long long l;
        if (reef_str_to_ll(lim, 0, 1000000, &l) == 0)
            o.limit = (size_t)l;
    }
    ssize_t cn = reef_http_req_query(c->req, "continue", cont, sizeof(cont));
    if (cn > 0 && cont[0]) {
        o.continue_token = cont;
    } else if (cn < 0 && cn != -ENOENT) {
        reef__api_sel_free(&sel);
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                "continue key is not valid");
    }

    struct reef_buf items;
    reef_buf_init(&items);
    struct reef_json_writer iw;
    reef_json_writer_init(&iw, &items, 0);
    reef_json_begin_array(&iw);
    struct list_ctx l = {.w = &iw};
    struct reef_store_list_result lr = {0};
    struct reef_err err = {0};
    int r = reef_store_list(c->a->store, c->r->store_key, &o, list_item, &l, &lr, &err);
    reef_json_end_array(&iw);
    reef__api_sel_free(&sel);
    if (r == 0)
        r = reef_json_finish(&iw, &err);
    if (r < 0) {
        reef_buf_free(&items);
        if (r == REEF_STORE_EXPIRED)
            return reef__api_status(c->res, 410, "Expired", NULL, NULL, NULL,
                                    "The provided continue parameter is too old to display a "
                                    "consistent list result. You can start a new list without "
                                    "the continue parameter.");
        if (r == -EINVAL)
            return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
        return reef__api_error(c, -EIO, &err);
    }
    struct reef_buf b;
    reef_buf_init(&b);
    struct reef_json_writer w;
    reef_json_writer_init(&w, &b, 0);
    if (c->table) {
        r = list_table(c, &items, lr.rev, lr.continue_token, &b, &err);
        reef_buf_free(&items);
        if (r < 0)
            reef__api_error(c, -EIO, &err);
        else
            reef__api_send_json(c->res, 200, &b);
        reef_buf_free(&b);
        return;
    }
    {
        char kind[96], rv[32];
        snprintf(kind, sizeof(kind), "%sList", c->r->kind);
        snprintf(rv, sizeof(rv), "%lld", (long long)lr.rev);
        reef_json_begin_object(&w);
        reef_json_key(&w, "kind");
        reef_json_put_str(&w, kind);
        reef_json_key(&w, "apiVersion");
        if (c->r->group[0]) {
            char gv[128];
            snprintf(gv, sizeof(gv), "%s/%s", c->r->group, c->r->version);
            reef_json_put_str(&w, gv);
        } else {
            reef_json_put_str(&w, c->r->version);
        }
        reef_json_key(&w, "metadata");
        reef_json_begin_object(&w);
        reef_json_key(&w, "resourceVersion");
        reef_json_put_str(&w, rv);
        if (lr.continue_token[0]) {
            reef_json_key(&w, "continue");
            reef_json_put_str(&w, lr.continue_token);
        }
        reef_json_end_object(&w);
        reef_json_key(&w, "items");
    }
    reef_json_put_raw(&w, items.data, items.len);
    reef_json_end_object(&w);
    reef_buf_free(&items);
    if (reef_json_finish(&w, &err) < 0)
        reef__api_error(c, -EIO, &err);
    else
        reef__api_send_json(c->res, 200, &b);
    reef_buf_free(&b);
}
