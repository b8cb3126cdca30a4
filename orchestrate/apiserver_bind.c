/* apiserver: pods/binding, the scheduler's way of assigning a pod to a node. */
#include "orchestrate/apiserver_bind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/ctl.h"
#include "orchestrate/patch.h"

static void conflict(struct reef__api_call *c, const char *why)
{
    reef__api_status(c->res, 409, "Conflict", c->name, c->r, NULL,
                     "Operation cannot be fulfilled on pods/binding \"%s\": %s", c->name, why);
}

/* Sets status.conditions[type=PodScheduled] to True (replacing one that is there). */
static int set_scheduled(struct reef__jv *pod, const char *now)
{
    struct reef__jv *st = reef__api_jv_obj(pod, "status");
    if (!st)
        return -ENOMEM;
    struct reef__jv *conds = reef__jv_get(st, "conditions");
    if (!conds || conds->kind != REEF_JSON_ARRAY) {
        conds = reef__jv_new(REEF_JSON_ARRAY);
        if (!conds || reef__jv_set(st, "conditions", 10, conds) < 0)
            return -ENOMEM;
    }
    struct reef__jv *cond = reef__jv_new(REEF_JSON_OBJECT), *nul = reef__jv_new(REEF_JSON_NULL);
    if (!cond || !nul) {
        reef__jv_free(cond);
        reef__jv_free(nul);
        return -ENOMEM;
    }
    if (reef__api_jv_set_str(cond, "type", "PodScheduled") < 0 ||
        reef__api_jv_set_str(cond, "status", "True") < 0 ||
        reef__jv_set(cond, "lastProbeTime", 13, nul) < 0 ||
        reef__api_jv_set_str(cond, "lastTransitionTime", now) < 0) {
        reef__jv_free(cond);
        return -ENOMEM;
    }
    for (size_t i = 0; i < conds->len; i++) {
        struct reef__jv *t = conds->items[i]->kind == REEF_JSON_OBJECT
                                 ? reef__jv_get(conds->items[i], "type")
                                 : NULL;
        if (reef__jv_is_str(t, "PodScheduled")) {
            reef__jv_free(conds->items[i]);
            conds->items[i] = cond;
            return 0;
        }
    }
    return reef__jv_push(conds, cond);
}

static void bind_pod(struct reef__api_call *c, const char *node, struct reef__jv *pod, int64_t rev)
{
    struct reef_err err = {0};
    struct reef__jv *spec = reef__api_jv_obj(pod, "spec");
    if (!spec)
        return reef__api_error(c, -EIO, NULL);
    const char *cur = reef__api_jv_str(spec, "nodeName");
    if (cur && cur[0]) {
        char why[600];
        snprintf(why, sizeof(why), "pod %s is already assigned to node \"%s\"", c->name, cur);
        return conflict(c, why);
    }
    const struct reef__jv *md = reef__jv_get(pod, "metadata");
    const struct reef__jv *del = md ? reef__jv_get(md, "deletionTimestamp") : NULL;
    if (del && del->kind != REEF_JSON_NULL) {
        char why[600];
        snprintf(why, sizeof(why), "pod %s is being deleted, cannot be assigned to a host",
                 c->name);
        return conflict(c, why);
    }
    char now[32];
    reef_ctl_time(reef__api_now_ms(), now);
    if (reef__api_jv_set_str(spec, "nodeName", node) < 0 || set_scheduled(pod, now) < 0)
        return reef__api_error(c, -ENOMEM, NULL);
    struct reef_buf text = REEF_BUF_INIT;
    if (reef__jv_to_buf(pod, &text, &err) < 0) {
        reef_buf_free(&text);
        return reef__api_error(c, -EIO, &err);
    }
    char dry[16];
    int r = 0;
    if (reef_http_req_query(c->req, "dryRun", dry, sizeof(dry)) <= 0 || strcmp(dry, "All") != 0) {
        struct reef_store_cmd cmd = {.op = REEF_STORE_UPDATE,
                                     .resource = "pods",
                                     .namespace = c->ns,
                                     .name = c->name,
                                     .expected_rev = rev,
                                     .object = text.data,
                                     .object_len = text.len,
                                     .timestamp_ms = reef__api_now_ms()};
        r = reef_store_apply(c->a->store, &cmd, NULL, &err);
    }
    reef_buf_free(&text);
    if (r < 0)
        return reef__api_error(c, r, &err);
    static const char ok[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                             "\"status\":\"Success\",\"code\":201}";
    reef_http_res_send(c->res, 201, "application/json", ok, sizeof(ok) - 1);
}

void reef__api_bind(struct reef__api_call *c)
{
    if (strcmp(c->req->method, "POST") != 0)
        return reef__api_status(c->res, 405, "MethodNotAllowed", NULL, NULL, NULL,
                                "the server does not allow this method on the requested resource");
    struct reef_err err = {0};
    if (!c->req->body || !c->req->body_len)
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                "the body of the request was empty");
    struct reef__jv *b = reef__jv_parse(c->req->body, c->req->body_len, "object", &err);
    if (!b || b->kind != REEF_JSON_OBJECT) {
        reef__jv_free(b);
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s",
                                err.msg[0] ? err.msg : "the object provided is not a JSON object");
    }
    const char *kind = reef__api_jv_str(b, "kind");
    const struct reef__jv *md = reef__jv_get(b, "metadata");
    const char *name = md ? reef__api_jv_str(md, "name") : NULL;
    const struct reef__jv *target = reef__jv_get(b, "target");
    const char *tkind = target ? reef__api_jv_str(target, "kind") : NULL;
    const char *node = target ? reef__api_jv_str(target, "name") : NULL;
    if (kind && kind[0] && strcmp(kind, "Binding") != 0) {
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                         "the kind of the body (%s) is not Binding", kind);
    } else if (name && name[0] && strcmp(name, c->name) != 0) {
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                         "name in URL does not match name in Binding object");
    } else if (!node || !node[0] || (tkind && tkind[0] && strcmp(tkind, "Node") != 0) ||
               strlen(node) > REEF_STORE_MAX_NAME) {
        reef__api_status(c->res, 422, "Invalid", c->name, c->r,
                         "[{\"reason\":\"FieldValueRequired\",\"message\":\"Required value: a "
                         "Node name\",\"field\":\"target.name\"}]",
                         "Binding \"%s\" is invalid: target.name: Required value: a Node name",
                         c->name);
    } else {
        char *obj = NULL;
        size_t len = 0;
        int64_t rev = 0;
        int r = reef_store_get(c->a->store, "pods", c->ns, c->name, &obj, &len, &rev, &err);
        if (r < 0) {
            reef__api_error(c, r, &err);
        } else {
            struct reef__jv *pod = reef__jv_parse(obj, len, "stored object", &err);
            if (!pod || pod->kind != REEF_JSON_OBJECT)
                reef__api_error(c, -EIO, &err);
            else
                bind_pod(c, node, pod, rev);
            reef__jv_free(pod);
            free(obj);
        }
    }
    reef__jv_free(b);
}
