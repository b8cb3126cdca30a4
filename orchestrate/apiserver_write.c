/* apiserver: the write side: create, update, patch (four content types), delete with its
 * cascade, and the status and scale subresources. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/yaml.h"
#include "orchestrate/apiserver.h"
#include "orchestrate/apiserver_int2.h"
#include "orchestrate/patch.h"
#include "orchestrate/selector.h"
#include "orchestrate/smp.h"

/* ---- writes ---- */

/* The request body as JSON text (YAML converted), malloc'd into *out. Answers 400 itself. */
static int body_json(struct reef__api_call *c, char **out, size_t *len)
{
    *out = NULL;
    if (!c->req->body || c->req->body_len == 0) {
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                         "the body of the request was empty");
        return -EINVAL;
    }
    const char *ct = reef_http_req_header(c->req, "Content-Type");
    if (ct && reef_str_has_prefix(ct, "application/vnd.kubernetes.protobuf")) {
        struct reef_buf b;
        reef_buf_init(&b);
        struct reef_err err = {0};
        int r = reef__api_proto_to_json(c->r->kind, c->req->body, c->req->body_len, &b, &err);
        if (r < 0) {
            reef_buf_free(&b);
            if (r == -EOPNOTSUPP)
                reef__api_status(c->res, 415, "UnsupportedMediaType", NULL, NULL, NULL, "%s",
                                 err.msg);
            else
                reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
            return r;
        }
        *len = b.len;
        *out = reef_buf_steal(&b);
        return *out ? 0 : -ENOMEM;
    }
    if (ct && strstr(ct, "yaml")) {
        struct reef_buf arr;
        reef_buf_init(&arr);
        struct reef_err err = {0};
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        int r = reef_yaml_to_json_array(c->req->body, c->req->body_len, &arr, &err);
        int v = -1;
        if (r == 0 && (r = reef_json_parse(&d, arr.data, arr.len, NULL, &err)) == 0)
            v = reef_json_index(&d, REEF_JSON_ROOT, 0);
        if (r < 0 || v < 0) {
            reef_json_doc_free(&d);
            reef_buf_free(&arr);
            reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s",
                             r < 0 ? err.msg : "the body of the request was empty");
            return -EINVAL;
        }
        size_t n;
        const char *raw = reef_json_raw(&d, v, &n);
        *out = reef_strndup(raw, n);
        *len = n;
        reef_json_doc_free(&d);
        reef_buf_free(&arr);
        return *out ? 0 : -ENOMEM;
    }
    *out = reef_strndup(c->req->body, c->req->body_len);
    *len = c->req->body_len;
    return *out ? 0 : -ENOMEM;
}

static int64_t rev_of(const struct reef__jv *obj)
{
    const struct reef__jv *md = reef__jv_get(obj, "metadata");
    const char *rv = md ? reef__api_jv_str(md, "resourceVersion") : NULL;
    if (!rv || !rv[0])
        return 0;
    long long v;
    if (reef_str_to_ll(rv, 1, INT64_MAX, &v) < 0)
        return -1;
    return v;
}

/* dryRun=All: everything but the write (kubectl --dry-run=server, kubectl diff). */
static bool dry_run(struct reef__api_call *c)
{
    char v[16];
    return reef_http_req_query(c->req, "dryRun", v, sizeof(v)) > 0 && strcmp(v, "All") == 0;
}

static bool strict(struct reef__api_call *c)
{
    char v[32];
    return reef_http_req_query(c->req, "fieldValidation", v, sizeof(v)) > 0 &&
           strcmp(v, "Strict") == 0;
}

/* Random suffix for generateName, from the alphabet upstream uses. */
static void name_suffix(char out[6])
{
    static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
    char uid[REEF_STORE_UID_LEN + 1];
    if (reef_store_new_uid(uid, NULL) < 0)
        snprintf(uid, sizeof(uid), "%llx", (unsigned long long)reef__api_now_ms());
    for (int i = 0; i < 5; i++)
        out[i] = alpha[(unsigned char)uid[i * 2 + (i > 3)] % (sizeof(alpha) - 1)];
    out[5] = '\0';
}

/* The checks every write shares: kind/apiVersion, namespace, name, defaults, validation. Then the
 * store command; answers the request either way. old is the stored object (update/patch). */
static void finish_write(struct reef__api_call *c, struct reef__jv *obj, enum reef_store_op op,
                         int64_t expected_rev, const struct reef__jv *old, bool check_strict)
{
    struct reef_err err = {0};
    char qk[128];
    reef__api_qualified_kind(c->r, qk, sizeof(qk));
    if (!obj || obj->kind != REEF_JSON_OBJECT)
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                "the object provided is not a JSON object");
    /* Go's decoding comes first upstream: a mistyped field is a 400 before anything else */
    if (reef__api_check_types(c->r, obj, &err) < 0)
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
    char gv[128];
    if (c->r->group[0])
        snprintf(gv, sizeof(gv), "%s/%s", c->r->group, c->r->version);
    else
        snprintf(gv, sizeof(gv), "%s", c->r->version);
    const char *kind = reef__api_jv_str(obj, "kind");
    const char *apiv = reef__api_jv_str(obj, "apiVersion");
    if ((kind && kind[0] && strcmp(kind, c->r->kind) != 0) ||
        (apiv && apiv[0] && strcmp(apiv, gv) != 0))
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                "the API version in the data (%s) does not match the expected "
                                "API version (%s) or the kind (%s) is not %s",
                                apiv ? apiv : "", gv, kind ? kind : "", c->r->kind);
    if (check_strict && strict(c) && reef__api_strict(c->r, obj, &err) < 0)
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
    if (reef__api_jv_set_str(obj, "apiVersion", gv) < 0 ||
        reef__api_jv_set_str(obj, "kind", c->r->kind) < 0)
        return reef__api_error(c, -ENOMEM, NULL);
    /* keep apiVersion and kind first, as upstream writes them */
    struct reef__jv *md = reef__api_jv_obj(obj, "metadata");
    if (!md)
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                "metadata must be an object");
    const char *ns = reef__api_jv_str(md, "namespace");
    if (c->r->namespaced) {
        if (ns && ns[0] && strcmp(ns, c->ns) != 0)
            return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                    "the namespace of the provided object does not match the "
                                    "namespace sent on the request");
        if (reef__api_jv_set_str(md, "namespace", c->ns) < 0)
            return reef__api_error(c, -ENOMEM, NULL);
    } else {
        reef__jv_del(md, "namespace", 9);
    }
    const char *name = reef__api_jv_str(md, "name");
    if (op == REEF_STORE_CREATE) {
        const char *gen = reef__api_jv_str(md, "generateName");
        if ((!name || !name[0]) && gen && gen[0] && strlen(gen) < REEF_STORE_MAX_NAME - 5) {
            char full[REEF_STORE_MAX_NAME + 1], sfx[6];
            name_suffix(sfx);
            snprintf(full, sizeof(full), "%s%s", gen, sfx);
            if (reef__api_jv_set_str(md, "name", full) < 0)
                return reef__api_error(c, -ENOMEM, NULL);
            name = reef__api_jv_str(md, "name");
        }
        if (!name || !name[0])
            return reef__api_status(c->res, 422, "Invalid", "", c->r,
                                    "[{\"reason\":\"FieldValueRequired\",\"message\":\"Required "
                                    "value: name or generateName is required\",\"field\":"
                                    "\"metadata.name\"}]",
                                    "%s \"\" is invalid: metadata.name: Required value: name or "
                                    "generateName is required",
                                    qk);
        reef__jv_del(md, "resourceVersion", 15);
        reef__jv_del(md, "uid", 3);
        reef__jv_del(md, "creationTimestamp", 17);
        reef__jv_del(md, "deletionTimestamp", 17);
        reef__jv_del(md, "generation", 10);
    } else {
        if (!name || !name[0]) {
            if (reef__api_jv_set_str(md, "name", c->name) < 0)
                return reef__api_error(c, -ENOMEM, NULL);
            name = reef__api_jv_str(md, "name");
        } else if (strcmp(name, c->name) != 0) {
            return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                    "the name of the object (%s) does not match the name on the "
                                    "URL (%s)",
                                    name, c->name);
        }
    }
    if (strlen(name) >= sizeof(c->name))
        return reef__api_status(c->res, 422, "Invalid", NULL, NULL, NULL,
                                "%s is invalid: metadata.name: Too long: must have at most 253 "
                                "bytes",
                                qk);
    reef_strlcpy(c->name, name, sizeof(c->name));
    /* a namespaced object needs its namespace */
    if (op == REEF_STORE_CREATE && c->r->namespaced) {
        struct reef_err nerr = {0};
        int r = reef__api_exists(c->a->store, "namespaces", "", c->ns, &nerr);
        if (r < 0)
            return reef__api_status(c->res, 500, "InternalError", NULL, NULL, NULL, "%s",
                                    nerr.msg);
        if (r == 0)
            return reef__api_status(c->res, 404, "NotFound", c->ns,
                                    reef__api_res_find("", "v1", "namespaces"), NULL,
                                    "namespaces \"%s\" not found", c->ns);
    }
    /* an update never sets, moves or clears a deletion mark: only DELETE does */
    if (old) {
        static const char *const del_meta[] = {"deletionTimestamp", "deletionGracePeriodSeconds"};
        const struct reef__jv *omd = reef__jv_get(old, "metadata");
        for (size_t i = 0; i < 2; i++) {
            const struct reef__jv *ov =
                omd && omd->kind == REEF_JSON_OBJECT ? reef__jv_get(omd, del_meta[i]) : NULL;
            struct reef__jv *cp = ov ? reef__jv_clone(ov) : NULL;
            if (ov && (!cp || reef__jv_set(md, del_meta[i], strlen(del_meta[i]), cp) < 0))
                return reef__api_error(c, -ENOMEM, NULL);
            if (!ov)
                reef__jv_del(md, del_meta[i], strlen(del_meta[i]));
        }
    }
    int r = reef__api_default(c->a, c->r, obj, old, &err);
    if (r < 0)
        return reef__api_status(c->res, 422, "Invalid", c->name, c->r, NULL, "%s", err.msg);
    struct reef_buf causes;
    reef_buf_init(&causes);
    reef_buf_putc(&causes, '[');
    if (reef__api_validate(c->r, obj, &causes, &err) < 0 ||
        (old && reef__api_validate_update(c->r, obj, old, &causes, &err) < 0)) {
        reef_buf_putc(&causes, ']');
        reef__api_status(c->res, 422, "Invalid", c->name, c->r, causes.data,
                         "%s \"%s\" is invalid: %s", qk, c->name, err.msg);
        reef_buf_free(&causes);
        return;
    }
    reef_buf_free(&causes);
    struct reef_buf text;
    reef_buf_init(&text);
    if (reef__jv_to_buf(obj, &text, &err) < 0) {
        reef_buf_free(&text);
        return reef__api_error(c, -EIO, &err);
    }
    struct reef_store_cmd cmd = {.op = op,
                                 .resource = c->r->store_key,
                                 .namespace = c->r->namespaced ? c->ns : "",
                                 .name = c->name,
                                 .expected_rev = expected_rev,
                                 .object = text.data,
                                 .object_len = text.len,
                                 .timestamp_ms = reef__api_now_ms()};
    if (op == REEF_STORE_CREATE && reef_store_new_uid(cmd.uid, &err) < 0) {
        reef_buf_free(&text);
        return reef__api_error(c, -EIO, &err);
    }
    struct reef_store_result res = {0};
    if (dry_run(c)) {
        /* what the store would check, without writing */
        char *cur = NULL;
        int64_t currev = 0;
        r = reef_store_get(c->a->store, cmd.resource, cmd.namespace, cmd.name, &cur, NULL, &currev,
                           &err);
        free(cur);
        if (op == REEF_STORE_CREATE)
            r = r == 0 ? -EEXIST : r == -ENOENT ? 0 : r;
        else if (r == 0 && expected_rev && expected_rev != currev)
            r = -ESTALE;
        if (r == 0) {
            res.object = reef_buf_steal(&text);
            res.len = strlen(res.object);
        }
    } else {
        r = reef_store_apply(c->a->store, &cmd, &res, &err);
        if (r == 0 && old)
            reef__api_after_update(c->a, c->r, c->ns, old, res.object, res.len);
    }
    reef_buf_free(&text);
    if (r < 0)
        return reef__api_error(c, r == -EINVAL ? -EBADMSG : r, &err);
    if (strcmp(c->sub, "scale") == 0) {
        struct reef_buf b;
        reef_buf_init(&b);
        if (reef__api_scale_of(res.object, res.len, &b, &err) < 0)
            reef__api_error(c, -EIO, &err);
        else
            reef__api_send_json(c->res, 200, &b);
        reef_buf_free(&b);
    } else {
        reef__api_send_object(c, op == REEF_STORE_CREATE ? 201 : 200, res.object, res.len);
    }
    reef_store_result_free(&res);
}

void reef__api_create(struct reef__api_call *c)
{
    char *body;
    size_t len;
    if (body_json(c, &body, &len) < 0)
        return;
    struct reef_err err = {0};
    struct reef__jv *obj = reef__jv_parse(body, len, "object", &err);
    free(body);
    if (!obj)
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
    finish_write(c, obj, REEF_STORE_CREATE, 0, NULL, true);
    reef__jv_free(obj);
}

/* Moves the subresource's part into place: a status write changes only status, a main write
 * keeps the stored status (for kinds with a status subresource). Takes obj; returns the object
 * to store (NULL on ENOMEM). */
static struct reef__jv *merge_sub(struct reef__api_call *c, struct reef__jv *obj,
                                  const struct reef__jv *old)
{
    if (strcmp(c->sub, "status") == 0) {
        struct reef__jv *n = reef__jv_clone(old);
        if (!n)
            goto fail;
        struct reef__jv *st = reef__jv_get(obj, "status");
        reef__jv_del(n, "status", 6);
        if (st) {
            struct reef__jv *cp = reef__jv_clone(st);
            if (!cp || reef__jv_set(n, "status", 6, cp) < 0) {
                reef__jv_free(n);
                goto fail;
            }
        }
        /* the body's resourceVersion stays the precondition */
        struct reef__jv *md = reef__api_jv_obj(n, "metadata");
        const struct reef__jv *omd = reef__jv_get(obj, "metadata");
        const char *rv = omd ? reef__api_jv_str(omd, "resourceVersion") : NULL;
        if (md && rv)
            reef__api_jv_set_str(md, "resourceVersion", rv);
        reef__jv_free(obj);
        return n;
    }
    if (c->r->subs & REEF__API_SUB_STATUS && strcmp(c->r->plural, "namespaces") != 0) {
        reef__jv_del(obj, "status", 6);
        const struct reef__jv *st = reef__jv_get(old, "status");
        if (st) {
            struct reef__jv *cp = reef__jv_clone(st);
            if (!cp || reef__jv_set(obj, "status", 6, cp) < 0)
                goto fail;
        }
    }
    return obj;
fail:
    reef__jv_free(obj);
    return NULL;
}

/* Sets spec.replicas of a Deployment/ReplicaSet from a Scale object. */
static struct reef__jv *apply_scale(struct reef__api_call *c, const struct reef__jv *scale,
                                    const struct reef__jv *old)
{
    const struct reef__jv *spec = reef__jv_get(scale, "spec");
    const struct reef__jv *rep = spec ? reef__jv_get(spec, "replicas") : NULL;
    struct reef__jv *n = reef__jv_clone(old);
    if (!n)
        return NULL;
    (void)c;
    if (rep && rep->kind == REEF_JSON_NUMBER) {
        struct reef__jv *sp = reef__api_jv_obj(n, "spec");
        struct reef__jv *cp = reef__jv_clone(rep);
        if (!sp || !cp || reef__jv_set(sp, "replicas", 8, cp) < 0) {
            reef__jv_free(n);
            return NULL;
        }
    }
    return n;
}

void reef__api_update(struct reef__api_call *c)
{
    char *body;
    size_t len;
    if (body_json(c, &body, &len) < 0)
        return;
    struct reef_err err = {0};
    struct reef__jv *obj = reef__jv_parse(body, len, "object", &err);
    free(body);
    if (!obj)
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
    if (obj->kind != REEF_JSON_OBJECT) {
        reef__jv_free(obj);
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                "the object provided is not a JSON object");
    }
    const char *bname = reef__api_jv_str(reef__jv_get(obj, "metadata"), "name");
    if (bname && bname[0] && strcmp(bname, c->name) != 0) {
        reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                         "the name of the object (%s) does not match the name on the URL (%s)",
                         bname, c->name);
        reef__jv_free(obj);
        return;
    }
    char *cur = NULL;
    size_t curlen = 0;
    int64_t currev = 0;
    int r =
        reef_store_get(c->a->store, c->r->store_key, c->ns, c->name, &cur, &curlen, &currev, &err);
    if (r < 0) {
        reef__jv_free(obj);
        return reef__api_error(c, r, &err);
    }
    struct reef__jv *old = reef__jv_parse(cur, curlen, "stored object", &err);
    free(cur);
    if (!old) {
        reef__jv_free(obj);
        return reef__api_error(c, -EIO, &err);
    }
    int64_t expected = rev_of(obj);
    if (expected < 0) {
        reef__jv_free(obj);
        reef__jv_free(old);
        return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                "metadata.resourceVersion: Invalid value: not a number");
    }
    if (strcmp(c->sub, "scale") == 0) {
        struct reef__jv *n = apply_scale(c, obj, old);
        reef__jv_free(obj);
        obj = n;
    } else {
        obj = merge_sub(c, obj, old);
    }
    if (obj)
        finish_write(c, obj, REEF_STORE_UPDATE, expected, old, strcmp(c->sub, "") == 0);
    else
        reef__api_error(c, -ENOMEM, NULL);
    reef__jv_free(obj);
    reef__jv_free(old);
}

enum patch_type { P_JSON, P_MERGE, P_SMP, P_APPLY };

void reef__api_patch(struct reef__api_call *c)
{
    const char *ct = reef_http_req_header(c->req, "Content-Type");
    char t[128] = "";
    if (ct) {
        reef_strlcpy(t, ct, sizeof(t));
        char *semi = strchr(t, ';');
        if (semi)
            *semi = '\0';
        while (strlen(t) && t[strlen(t) - 1] == ' ')
            t[strlen(t) - 1] = '\0';
    }
    enum patch_type pt;
    if (strcmp(t, "application/json-patch+json") == 0)
        pt = P_JSON;
    else if (strcmp(t, "application/merge-patch+json") == 0)
        pt = P_MERGE;
    else if (strcmp(t, "application/strategic-merge-patch+json") == 0)
        pt = P_SMP;
    else if (strcmp(t, "application/apply-patch+yaml") == 0)
        pt = P_APPLY;
    else
        return reef__api_status(c->res, 415, "UnsupportedMediaType", NULL, NULL, NULL,
                                "the body of the request was in an unknown format - accepted "
                                "media types include: application/json-patch+json, "
                                "application/merge-patch+json, application/apply-patch+yaml, "
                                "application/strategic-merge-patch+json");
    char *body;
    size_t len;
    if (body_json(c, &body, &len) < 0)
        return;
    struct reef_err err = {0};
    char *cur = NULL;
    size_t curlen = 0;
    int64_t currev = 0;
    int r =
        reef_store_get(c->a->store, c->r->store_key, c->ns, c->name, &cur, &curlen, &currev, &err);
    if (r == -ENOENT && pt == P_APPLY && !c->sub[0]) {
        /* server-side apply creates what is missing */
        struct reef__jv *obj = reef__jv_parse(body, len, "object", &err);
        free(body);
        if (!obj)
            return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
        struct reef__jv *md =
            obj->kind == REEF_JSON_OBJECT ? reef__api_jv_obj(obj, "metadata") : NULL;
        const char *name = md ? reef__api_jv_str(md, "name") : NULL;
        if (name && strcmp(name, c->name) != 0) {
            reef__jv_free(obj);
            return reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL,
                                    "the name of the object (%s) does not match the name on the "
                                    "URL (%s)",
                                    name, c->name);
        }
        if (md && !name)
            reef__api_jv_set_str(md, "name", c->name);
        finish_write(c, obj, REEF_STORE_CREATE, 0, NULL, true);
        reef__jv_free(obj);
        return;
    }
    if (r < 0) {
        free(body);
        return reef__api_error(c, r, &err);
    }
    struct reef_buf base, out;
    reef_buf_init(&base);
    reef_buf_init(&out);
    bool scale = strcmp(c->sub, "scale") == 0;
    if (scale) {
        if (reef__api_scale_of(cur, curlen, &base, &err) < 0) {
            r = -EIO;
            goto done;
        }
    } else if (reef_buf_append(&base, cur, curlen) < 0) {
        r = -ENOMEM;
        goto done;
    }
    switch (pt) {
    case P_JSON:
        r = reef_patch_json_apply(base.data, base.len, body, len, &out, &err);
        break;
    case P_MERGE:
        r = reef_patch_merge_apply(base.data, base.len, body, len, &out, &err);
        break;
    case P_SMP:
    case P_APPLY:
        if (scale)
            r = reef_patch_merge_apply(base.data, base.len, body, len, &out, &err);
        else
            r = reef_smp_apply(c->r->kind, base.data, base.len, body, len, &out, &err);
        break;
    }
    if (r < 0) {
        if (r == -EOPNOTSUPP)
            reef__api_status(c->res, 415, "UnsupportedMediaType", NULL, NULL, NULL, "%s", err.msg);
        else if (r == -EBADMSG)
            reef__api_status(c->res, 400, "BadRequest", NULL, NULL, NULL, "%s", err.msg);
        else if (r == -EINVAL || r == -E2BIG)
            reef__api_status(c->res, 422, "Invalid", c->name, c->r, NULL, "%s", err.msg);
        else
            reef__api_error(c, r, &err);
        r = 0;
        goto done;
    }
    struct reef__jv *obj = reef__jv_parse(out.data, out.len, "patched object", &err);
    struct reef__jv *old = reef__jv_parse(cur, curlen, "stored object", &err);
    if (!obj || !old) {
        reef__jv_free(obj);
        reef__jv_free(old);
        r = -EIO;
        goto done;
    }
    /* a resourceVersion in the patch is a precondition */
    int64_t want = obj->kind == REEF_JSON_OBJECT ? rev_of(obj) : 0;
    if (want != 0 && want != currev) {
        reef__jv_free(obj);
        reef__jv_free(old);
        reef__api_error(c, -ESTALE, NULL);
        r = 0;
        goto done;
    }
    if (obj->kind != REEF_JSON_OBJECT) {
        reef__jv_free(obj);
        reef__jv_free(old);
        reef__api_status(c->res, 422, "Invalid", c->name, c->r, NULL,
                         "the patched object is not a JSON object");
        r = 0;
        goto done;
    }
    if (scale) {
        struct reef__jv *n = apply_scale(c, obj, old);
        reef__jv_free(obj);
        obj = n;
    } else {
        obj = merge_sub(c, obj, old);
    }
    if (obj) {
        struct reef__jv *md = reef__api_jv_obj(obj, "metadata");
        if (md)
            reef__jv_del(md, "resourceVersion", 15);
        finish_write(c, obj, REEF_STORE_UPDATE, currev, old, false);
    } else {
        reef__api_error(c, -ENOMEM, NULL);
    }
    reef__jv_free(obj);
    reef__jv_free(old);
    r = 0;
done:
    if (r < 0)
        reef__api_error(c, r, &err);
    free(body);
    free(cur);
    reef_buf_free(&base);
    reef_buf_free(&out);
}
