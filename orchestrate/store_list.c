/* Lists: one indexed query per page over the extracted columns and side tables, with the
 * heartbeat overlay substituted for rows whose newest state is still in memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "orchestrate/store_int.h"
#include "orchestrate/store_plan.h"

/* Continue tokens are base64url("<rev>\n<namespace>\n<name>"): the first page's revision and the
 * last key returned. They come back from clients, so they are parsed strictly. */
static int token_encode(int64_t rev, const char *ns, const char *name, char *out, size_t size)
{
    char raw[32 + 2 * (REEF_STORE_MAX_NAME + 1)];
    int n = snprintf(raw, sizeof(raw), "%lld\n%s\n%s", (long long)rev, ns, name);
    if (n < 0 || (size_t)n >= sizeof(raw))
        return -EINVAL;
    struct reef_buf b = REEF_BUF_INIT;
    int r = reef_crypto_b64_encode(&b, raw, (size_t)n, REEF_B64_URL | REEF_B64_NOPAD);
    if (r == 0 && b.len >= size)
        r = -EINVAL;
    if (r == 0)
        memcpy(out, b.data, b.len + 1);
    reef_buf_free(&b);
    return r;
}

static int token_decode(const char *tok, int64_t *rev, char *ns, char *name, struct reef_err *err)
{
    size_t tl = strlen(tok);
    if (tl >= REEF_STORE_TOKEN_MAX)
        return reef_err_set(err, -EINVAL, "store: continue token too long");
    struct reef_buf b = REEF_BUF_INIT;
    int r = reef_crypto_b64_decode(&b, tok, tl, REEF_B64_URL | REEF_B64_NOPAD, NULL);
    char *p = b.data, *nl1 = NULL, *nl2 = NULL;
    if (r == 0 && p && memchr(p, '\0', b.len) == NULL) {
        nl1 = strchr(p, '\n');
        nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
    }
    long long v;
    if (!nl2 || strchr(nl2 + 1, '\n')) {
        r = -EINVAL;
    } else {
        *nl1 = *nl2 = '\0';
        if (reef_str_to_ll(p, 1, INT64_MAX, &v) < 0 || strlen(nl1 + 1) > REEF_STORE_MAX_NAME ||
            strlen(nl2 + 1) > REEF_STORE_MAX_NAME || !nl2[1]) {
            r = -EINVAL;
        } else {
            *rev = v;
            strcpy(ns, nl1 + 1);
            strcpy(name, nl2 + 1);
        }
    }
    reef_buf_free(&b);
    return r < 0 ? reef_err_set(err, -EINVAL, "store: malformed continue token") : 0;
}

struct binds {
    const char *v[16];
    int n;
};

static void add(struct reef_buf *sql, struct binds *b, const char *clause, const char *v)
{
    reef_buf_puts(sql, clause);
    b->v[b->n++] = v;
}

/* The SQL's shape depends only on which filters are present, never on their values.
 *
 * Without ANALYZE statistics SQLite prefers the (resource, namespace, name) unique index for
 * every list, because it yields the ORDER BY for free: a list of one node's pods then walks
 * every pod. A node, phase or owner filter is far more selective than the sort is costly, so
 * with one of them the ordering (and the continue bound) is written on `+column`, which no
 * index can serve, and owners are joined from their index with CROSS JOIN (SQLite keeps the
 * written order of a CROSS JOIN's tables). after_ns NULL: no continue bound. */
static int build_sql(const char *resource, const struct reef_store_list_opts *o,
                     const char *after_ns, const char *after_name, struct reef_buf *sql,
                     struct binds *b, struct reef_err *err)
{
    bool narrow = o->node_name || o->phase || o->owner_uid;
    const char *plus = narrow ? "+" : "";
    if (o->owner_uid) {
        add(sql, b,
            "SELECT o.namespace, o.name, o.rev, o.data FROM owner w CROSS JOIN object o"
            " WHERE w.uid=? AND o.id=w.obj",
            o->owner_uid);
        add(sql, b, " AND o.resource=?", resource);
    } else {
        add(sql, b, "SELECT o.namespace, o.name, o.rev, o.data FROM object o WHERE o.resource=?",
            resource);
    }
    if (o->namespace)
        add(sql, b, " AND o.namespace=?", o->namespace);
    if (o->name)
        add(sql, b, " AND o.name=?", o->name);
    if (o->node_name)
        add(sql, b, " AND o.node=?", o->node_name);
    if (o->phase)
        add(sql, b, " AND o.phase=?", o->phase);
    for (size_t i = 0; i < o->nlabels; i++) {
        if (!o->labels[i].key || !o->labels[i].value) {
            reef_buf_free(sql);
            return reef_err_set(err, -EINVAL, "store: list: label filter without key or value");
        }
        add(sql, b, " AND EXISTS(SELECT 1 FROM label l WHERE l.obj=o.id AND l.key=?",
            o->labels[i].key);
        add(sql, b, " AND l.value=?)", o->labels[i].value);
    }
    if (after_ns) {
        reef_buf_printf(sql, " AND (%so.namespace, %so.name) > (?", plus, plus);
        b->v[b->n++] = after_ns;
        add(sql, b, ", ?)", after_name);
    }
    reef_buf_printf(sql, " ORDER BY %so.namespace, %so.name", plus, plus);
    if (!sql->data) {
        reef_buf_free(sql);
        return reef_err_set(err, -ENOMEM, "store: out of memory");
    }
    return 0;
}

int reef__store_list_plan(struct reef_store *s, const char *resource,
                          const struct reef_store_list_opts *o, struct reef_buf *out,
                          struct reef_err *err)
{
    struct reef_buf sql = REEF_BUF_INIT;
    struct binds b = {.n = 0};
    reef_buf_puts(&sql, "EXPLAIN QUERY PLAN ");
    int r = build_sql(resource, o, o->continue_token ? "" : NULL, "", &sql, &b, err);
    if (r < 0)
        return r;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(reef_db_handle(s->db), sql.data, (int)sql.len, &st, NULL);
    reef_buf_free(&sql);
    if (rc != SQLITE_OK)
        return reef_db_error(s->db, rc, err, "list plan");
    for (int i = 0; i < b.n; i++)
        sqlite3_bind_text(st, i + 1, b.v[i], -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 3);
        reef_buf_printf(out, "%s\n", d ? d : "");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : reef_db_error(s->db, rc, err, "list plan");
}

int reef_store_list(struct reef_store *s, const char *resource,
                    const struct reef_store_list_opts *opts, reef_store_list_cb cb, void *arg,
                    struct reef_store_list_result *res, struct reef_err *err)
{
    static const struct reef_store_list_opts none = {0};
    const struct reef_store_list_opts *o = opts ? opts : &none;
    struct reef_store_list_result unused;
    if (!res)
        res = &unused;
    memset(res, 0, sizeof(*res));
    if (!resource || !*resource || strlen(resource) > REEF_STORE_MAX_NAME)
        return reef_err_set(err, -EINVAL, "store: list: resource required");
    if (o->nlabels > REEF_STORE_MAX_LABELS)
        return reef_err_set(err, -EINVAL, "store: list: more than %d label filters",
                            REEF_STORE_MAX_LABELS);
    int64_t list_rev = s->rev;
    char after_ns[REEF_STORE_MAX_NAME + 1], after_name[REEF_STORE_MAX_NAME + 1];
    bool cont = o->continue_token && *o->continue_token;
    if (cont) {
        int r = token_decode(o->continue_token, &list_rev, after_ns, after_name, err);
        if (r < 0)
            return r;
        if (list_rev > s->rev)
            return reef_err_set(err, -EINVAL, "store: continue token from the future");
        if (list_rev < s->compact_rev)
            return reef_err_set(err, REEF_STORE_EXPIRED,
                                "the continue token's revision %lld was compacted",
                                (long long)list_rev);
    }

    struct reef_buf sql = REEF_BUF_INIT;
    struct binds b = {.n = 0};
    int r = build_sql(resource, o, cont ? after_ns : NULL, after_name, &sql, &b, err);
    if (r < 0)
        return r;
    sqlite3 *h = reef_db_handle(s->db);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(h, sql.data, (int)sql.len, &st, NULL);
    reef_buf_free(&sql);
    if (rc != SQLITE_OK)
        return reef_db_error(s->db, rc, err, "list");
    for (int i = 0; i < b.n; i++)
        sqlite3_bind_text(st, i + 1, b.v[i], -1, SQLITE_STATIC);

    struct reef_json_doc doc = REEF_JSON_DOC_INIT;
    char key[3 * (REEF_STORE_MAX_NAME + 1)];
    char last_ns[REEF_STORE_MAX_NAME + 1] = "", last_name[REEF_STORE_MAX_NAME + 1] = "";
    r = 0;
    size_t count = 0;
    bool more = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *ns = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        struct reef_store_item it = {
            .namespace = ns ? ns : "",
            .name = name ? name : "",
            .rev = sqlite3_column_int64(st, 2),
            .object = (const char *)sqlite3_column_text(st, 3),
            .len = (size_t)sqlite3_column_bytes(st, 3),
        };
        if (!it.object || strlen(it.namespace) > REEF_STORE_MAX_NAME ||
            strlen(it.name) > REEF_STORE_MAX_NAME)
            continue;
        if (s->ov_n) {
            size_t kl = reef__store_key(key, resource, it.namespace, it.name);
            struct reef__overlay *ov = reef__store_overlay_find(s, key, kl);
            if (ov) {
                it.rev = ov->ev->rev;
                it.object = ov->ev->obj->data;
                it.len = ov->ev->obj->len;
            }
        }
        if (o->pred && (reef_json_parse(&doc, it.object, it.len, NULL, NULL) < 0 ||
                        !o->pred(o->pred_arg, &doc)))
            continue;
        if (o->limit && count == o->limit) {
            more = true; /* one more match exists: the caller gets a token */
            break;
        }
        if ((r = cb(arg, &it)) < 0)
            break;
        count++;
        snprintf(last_ns, sizeof(last_ns), "%s", it.namespace);
        snprintf(last_name, sizeof(last_name), "%s", it.name);
    }
    if (r == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = reef_db_error(s->db, rc, err, "list");
    else if (r < 0)
        reef_err_set(err, r, "store: list %s: stopped by the caller (%d)", resource, r);
    sqlite3_finalize(st);
    reef_json_doc_free(&doc);
    if (r < 0)
        return r;
    res->rev = list_rev;
    res->count = count;
    if (more && token_encode(list_rev, last_ns, last_name, res->continue_token,
                             sizeof(res->continue_token)) < 0)
        return reef_err_set(err, -ENOMEM, "store: list: cannot make a continue token");
    return 0;
}
