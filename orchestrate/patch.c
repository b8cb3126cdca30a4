/* patch: the mutable JSON tree, RFC 6902 JSON Patch and RFC 7386 JSON Merge Patch.
 *
 * Both patch formats are applied to a tree built from the parsed document rather than to the token
 * array: JSON Patch operations apply one after another, each seeing the result of the one before,
 * which a read-only token index cannot express. The tree is written back with core/json's writer.
 */
#include "orchestrate/patch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Tree */

struct reef__jv *reef__jv_new(enum reef_json_kind kind)
{
    struct reef__jv *v = calloc(1, sizeof(*v));
    if (v)
        v->kind = kind;
    return v;
}

static int jstr_set(struct reef__jstr *s, const char *p, size_t n)
{
    s->p = malloc(n + 1);
    if (!s->p)
        return -ENOMEM;
    if (n)
        memcpy(s->p, p, n);
    s->p[n] = '\0';
    s->n = n;
    return 0;
}

struct reef__jv *reef__jv_new_str(const char *s, size_t n)
{
    struct reef__jv *v = reef__jv_new(REEF_JSON_STRING);
    if (v && jstr_set(&v->s, s, n) < 0) {
        free(v);
        return NULL;
    }
    return v;
}

void reef__jv_free(struct reef__jv *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->len; i++) {
        reef__jv_free(v->items[i]);
        if (v->keys)
            free(v->keys[i].p);
    }
    free(v->items);
    free(v->keys);
    free(v->s.p);
    free(v);
}

static int grow(struct reef__jv *v)
{
    if (v->len < v->cap)
        return 0;
    size_t cap = v->cap ? v->cap * 2 : 4;
    struct reef__jv **items = realloc(v->items, cap * sizeof(*items));
    if (!items)
        return -ENOMEM;
    v->items = items;
    if (v->kind == REEF_JSON_OBJECT) {
        struct reef__jstr *keys = realloc(v->keys, cap * sizeof(*keys));
        if (!keys)
            return -ENOMEM;
        v->keys = keys;
    }
    v->cap = cap;
    return 0;
}

long reef__jv_find(const struct reef__jv *obj, const char *key, size_t n)
{
    if (!obj || obj->kind != REEF_JSON_OBJECT)
        return -1;
    for (size_t i = 0; i < obj->len; i++)
        if (obj->keys[i].n == n && memcmp(obj->keys[i].p, key, n) == 0)
            return (long)i;
    return -1;
}

struct reef__jv *reef__jv_get(const struct reef__jv *obj, const char *key)
{
    long i = reef__jv_find(obj, key, strlen(key));
    return i < 0 ? NULL : obj->items[i];
}

int reef__jv_set(struct reef__jv *obj, const char *key, size_t n, struct reef__jv *val)
{
    long i = reef__jv_find(obj, key, n);
    if (i >= 0) {
        reef__jv_free(obj->items[i]);
        obj->items[i] = val;
        return 0;
    }
    if (grow(obj) < 0 || jstr_set(&obj->keys[obj->len], key, n) < 0) {
        reef__jv_free(val);
        return -ENOMEM;
    }
    obj->items[obj->len++] = val;
    return 0;
}

struct reef__jv *reef__jv_take(struct reef__jv *v, size_t i)
{
    if (REEF_NEVER(i >= v->len))
        return NULL;
    struct reef__jv *out = v->items[i];
    memmove(v->items + i, v->items + i + 1, (v->len - i - 1) * sizeof(*v->items));
    if (v->kind == REEF_JSON_OBJECT) {
        free(v->keys[i].p);
        memmove(v->keys + i, v->keys + i + 1, (v->len - i - 1) * sizeof(*v->keys));
    }
    v->len--;
    return out;
}

void reef__jv_del(struct reef__jv *obj, const char *key, size_t n)
{
    long i = reef__jv_find(obj, key, n);
    if (i >= 0)
        reef__jv_free(reef__jv_take(obj, (size_t)i));
}

int reef__jv_insert(struct reef__jv *arr, size_t i, struct reef__jv *val)
{
    if (REEF_NEVER(i > arr->len) || grow(arr) < 0) {
        reef__jv_free(val);
        return -ENOMEM;
    }
    memmove(arr->items + i + 1, arr->items + i, (arr->len - i) * sizeof(*arr->items));
    arr->items[i] = val;
    arr->len++;
    return 0;
}

int reef__jv_push(struct reef__jv *arr, struct reef__jv *val)
{
    return reef__jv_insert(arr, arr->len, val);
}

struct reef__jv *reef__jv_clone(const struct reef__jv *v)
{
    struct reef__jv *c = reef__jv_new(v->kind);
    if (!c)
        return NULL;
    c->b = v->b;
    if (v->s.p && jstr_set(&c->s, v->s.p, v->s.n) < 0)
        goto fail;
    for (size_t i = 0; i < v->len; i++) {
        struct reef__jv *item = reef__jv_clone(v->items[i]);
        if (!item)
            goto fail;
        int r = v->kind == REEF_JSON_OBJECT ? reef__jv_set(c, v->keys[i].p, v->keys[i].n, item)
                                            : reef__jv_push(c, item);
        if (r < 0)
            goto fail;
    }
    return c;
fail:
    reef__jv_free(c);
    return NULL;
}

size_t reef__jv_count(const struct reef__jv *v, size_t limit)
{
    size_t n = 1;
    for (size_t i = 0; i < v->len && n < limit; i++)
        n += reef__jv_count(v->items[i], limit - n);
    return n;
}

/* Numbers compare by value when both read as doubles exactly enough for merge keys and tests
 * (ports, counts); spelling differences such as 80 and 80.0 must not make two values differ. */
static bool number_eq(const struct reef__jstr *a, const struct reef__jstr *b)
{
    if (a->n == b->n && memcmp(a->p, b->p, a->n) == 0)
        return true;
    return strtod(a->p, NULL) == strtod(b->p, NULL);
}

bool reef__jv_equal(const struct reef__jv *a, const struct reef__jv *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case REEF_JSON_NULL:
        return true;
    case REEF_JSON_BOOL:
        return a->b == b->b;
    case REEF_JSON_NUMBER:
        return number_eq(&a->s, &b->s);
    case REEF_JSON_STRING:
        return a->s.n == b->s.n && memcmp(a->s.p, b->s.p, a->s.n) == 0;
    case REEF_JSON_ARRAY:
        if (a->len != b->len)
            return false;
        for (size_t i = 0; i < a->len; i++)
            if (!reef__jv_equal(a->items[i], b->items[i]))
                return false;
        return true;
    case REEF_JSON_OBJECT:
        if (a->len != b->len)
            return false;
        for (size_t i = 0; i < a->len; i++) {
            long j = reef__jv_find(b, a->keys[i].p, a->keys[i].n);
            if (j < 0 || !reef__jv_equal(a->items[i], b->items[j]))
                return false;
        }
        return true;
    default:
        return false;
    }
}

bool reef__jv_is_str(const struct reef__jv *v, const char *s)
{
    size_t n = strlen(s);
    return v && v->kind == REEF_JSON_STRING && v->s.n == n && memcmp(v->s.p, s, n) == 0;
}

struct reef__jv *reef__jv_from_doc(const struct reef_json_doc *d, int v, struct reef_err *err)
{
    enum reef_json_kind k = reef_json_kind(d, v);
    struct reef__jv *out = reef__jv_new(k);
    struct reef_buf b = REEF_BUF_INIT;
    if (!out)
        goto nomem;
    if (k == REEF_JSON_BOOL) {
        reef_json_get_bool(d, v, &out->b, NULL);
    } else if (k == REEF_JSON_NUMBER) {
        size_t n;
        const char *raw = reef_json_raw(d, v, &n);
        if (jstr_set(&out->s, raw, n) < 0)
            goto nomem;
    } else if (k == REEF_JSON_STRING) {
        if (reef_json_get_strbuf(d, v, &b, err) < 0)
            goto fail;
        if (jstr_set(&out->s, b.data ? b.data : "", b.len) < 0)
            goto nomem;
    } else if (k == REEF_JSON_ARRAY || k == REEF_JSON_OBJECT) {
        struct reef_json_iter it = reef_json_iter(d, v);
        while (reef_json_next(d, &it)) {
            struct reef__jv *item = reef__jv_from_doc(d, it.val, err);
            if (!item)
                goto fail;
            int r;
            if (k == REEF_JSON_OBJECT) {
                reef_buf_reset(&b);
                if (reef_json_get_strbuf(d, it.key, &b, err) < 0) {
                    reef__jv_free(item);
                    goto fail;
                }
                r = reef__jv_set(out, b.data ? b.data : "", b.len, item);
            } else {
                r = reef__jv_push(out, item);
            }
            if (r < 0)
                goto nomem;
        }
    }
    reef_buf_free(&b);
    return out;
nomem:
    reef_err_set(err, -ENOMEM, "out of memory");
fail:
    reef_buf_free(&b);
    reef__jv_free(out);
    return NULL;
}

struct reef__jv *reef__jv_parse(const char *text, size_t len, const char *what,
                                struct reef_err *err)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, text, len, NULL, err) < 0) {
        reef_err_wrap(err, "%s", what);
        return NULL;
    }
    struct reef__jv *v = reef__jv_from_doc(&d, REEF_JSON_ROOT, err);
    reef_json_doc_free(&d);
    return v;
}

int reef__jv_write(struct reef_json_writer *w, const struct reef__jv *v)
{
    switch (v->kind) {
    case REEF_JSON_NULL:
        return reef_json_put_null(w);
    case REEF_JSON_BOOL:
        return reef_json_put_bool(w, v->b);
    case REEF_JSON_NUMBER:
        return reef_json_put_raw(w, v->s.p, v->s.n);
    case REEF_JSON_STRING:
        return reef_json_put_strn(w, v->s.p, v->s.n);
    case REEF_JSON_ARRAY:
    case REEF_JSON_OBJECT: {
        bool obj = v->kind == REEF_JSON_OBJECT;
        int r = obj ? reef_json_begin_object(w) : reef_json_begin_array(w);
        for (size_t i = 0; r == 0 && i < v->len; i++) {
            if (obj)
                r = reef_json_keyn(w, v->keys[i].p, v->keys[i].n);
            if (r == 0)
                r = reef__jv_write(w, v->items[i]);
        }
        if (r)
            return r;
        return obj ? reef_json_end_object(w) : reef_json_end_array(w);
    }
    default:
        return -EINVAL;
    }
}

int reef__jv_to_buf(const struct reef__jv *v, struct reef_buf *out, struct reef_err *err)
{
    /* The writer stops at its own nesting ceiling, so the recursion here is bounded by it, even
     * for trees that patches made deeper than any parsed document. */
    struct reef_json_writer w;
    size_t mark = out->len;
    reef_json_writer_init(&w, out, 0);
    reef__jv_write(&w, v);
    int r = reef_json_finish(&w, err);
    if (r < 0)
        out->len = mark;
    if (out->data)
        out->data[out->len] = '\0';
    return r;
}

/* JSON Pointer (RFC 6901) */

/* One decoded reference token. */
struct ptr_tok {
    char *p;
    size_t n;
};

struct ptr {
    struct ptr_tok *t;
    size_t n;
};

static void ptr_free(struct ptr *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->t[i].p);
    free(p->t);
    p->t = NULL;
    p->n = 0;
}

/* Splits s into tokens, turning ~1 into '/' and ~0 into '~'. */
static int ptr_parse(const char *s, size_t len, struct ptr *out, const char **why)
{
    out->t = NULL;
    out->n = 0;
    if (len == 0)
        return 0;
    if (s[0] != '/') {
        *why = "a JSON pointer must be empty or start with '/'";
        return -EINVAL;
    }
    size_t slashes = 0;
    for (size_t i = 0; i < len; i++)
        slashes += s[i] == '/';
    out->t = calloc(slashes, sizeof(*out->t));
    if (!out->t)
        return -ENOMEM;
    size_t i = 1;
    for (;;) {
        struct ptr_tok *t = &out->t[out->n++];
        size_t end = i;
        while (end < len && s[end] != '/')
            end++;
        t->p = malloc(end - i + 1);
        if (!t->p)
            return -ENOMEM;
        for (size_t j = i; j < end; j++) {
            char c = s[j];
            if (c == '~') {
                char e = j + 1 < end ? s[j + 1] : 0;
                if (e != '0' && e != '1') {
                    *why = "'~' must be followed by '0' or '1' in a JSON pointer";
                    return -EINVAL;
                }
                c = e == '0' ? '~' : '/';
                j++;
            }
            t->p[t->n++] = c;
        }
        t->p[t->n] = '\0';
        if (end >= len)
            break;
        i = end + 1;
    }
    return 0;
}

/* An array index token: digits without leading zeros. "-" (one past the end) only when dash. */
static int ptr_index(const struct ptr_tok *t, size_t len, bool dash, size_t *out, const char **why)
{
    if (dash && t->n == 1 && t->p[0] == '-') {
        *out = len;
        return 0;
    }
    if (t->n == 0 || t->n > 18 || (t->n > 1 && t->p[0] == '0')) {
        *why = "invalid array index";
        return -EINVAL;
    }
    size_t v = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->p[i] < '0' || t->p[i] > '9') {
            *why = "invalid array index";
            return -EINVAL;
        }
        v = v * 10 + (size_t)(t->p[i] - '0');
    }
    if (v > len || (!dash && v == len)) {
        *why = "array index out of range";
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Walks all tokens of p but the last; the container that the last token names a member of. */
static struct reef__jv *ptr_parent(struct reef__jv *root, const struct ptr *p, const char **why)
{
    struct reef__jv *v = root;
    for (size_t i = 0; i + 1 < p->n; i++) {
        const struct ptr_tok *t = &p->t[i];
        if (v->kind == REEF_JSON_OBJECT) {
            long j = reef__jv_find(v, t->p, t->n);
            if (j < 0) {
                *why = "a parent of the target does not exist";
                return NULL;
            }
            v = v->items[j];
        } else if (v->kind == REEF_JSON_ARRAY) {
            size_t j;
            if (ptr_index(t, v->len, false, &j, why) < 0)
                return NULL;
            v = v->items[j];
        } else {
            *why = "a parent of the target is not an object or array";
            return NULL;
        }
    }
    return v;
}

/* The value p names, or NULL with why set. */
static struct reef__jv *ptr_get(struct reef__jv *root, const struct ptr *p, const char **why)
{
    if (p->n == 0)
        return root;
    struct reef__jv *parent = ptr_parent(root, p, why);
    if (!parent)
        return NULL;
    const struct ptr_tok *t = &p->t[p->n - 1];
    if (parent->kind == REEF_JSON_OBJECT) {
        long j = reef__jv_find(parent, t->p, t->n);
        if (j < 0) {
            *why = "member not found";
            return NULL;
        }
        return parent->items[j];
    }
    if (parent->kind == REEF_JSON_ARRAY) {
        size_t j;
        if (ptr_index(t, parent->len, false, &j, why) < 0)
            return NULL;
        return parent->items[j];
    }
    *why = "the target's parent is not an object or array";
    return NULL;
}

/* JSON Patch (RFC 6902) */

enum op { OP_ADD, OP_REMOVE, OP_REPLACE, OP_MOVE, OP_COPY, OP_TEST };
static const char *const op_names[] = {"add", "remove", "replace", "move", "copy", "test"};

struct jp_state {
    struct reef__jv *root;
    size_t nodes; /* values in root, kept up to date only where copies add to it */
};

/* Adds val (owned) at p: RFC 6902 section 4.1. */
static int jp_add(struct jp_state *st, const struct ptr *p, struct reef__jv *val, const char **why)
{
    if (p->n == 0) {
        reef__jv_free(st->root);
        st->root = val;
        return 0;
    }
    struct reef__jv *parent = ptr_parent(st->root, p, why);
    const struct ptr_tok *t = &p->t[p->n - 1];
    int r = -EINVAL;
    if (!parent) {
        /* why is set */
    } else if (parent->kind == REEF_JSON_OBJECT) {
        return reef__jv_set(parent, t->p, t->n, val);
    } else if (parent->kind == REEF_JSON_ARRAY) {
        size_t j;
        if (ptr_index(t, parent->len, true, &j, why) == 0)
            return reef__jv_insert(parent, j, val);
    } else {
        *why = "the target's parent is not an object or array";
    }
    reef__jv_free(val);
    return r;
}

/* Detaches the value at p and returns it (the caller owns it), or NULL. */
static struct reef__jv *jp_detach(struct jp_state *st, const struct ptr *p, const char **why)
{
    if (p->n == 0) {
        *why = "the whole document cannot be removed";
        return NULL;
    }
    struct reef__jv *parent = ptr_parent(st->root, p, why);
    if (!parent)
        return NULL;
    const struct ptr_tok *t = &p->t[p->n - 1];
    if (parent->kind == REEF_JSON_OBJECT) {
        long j = reef__jv_find(parent, t->p, t->n);
        if (j < 0) {
            *why = "member not found";
            return NULL;
        }
        return reef__jv_take(parent, (size_t)j);
    }
    if (parent->kind == REEF_JSON_ARRAY) {
        size_t j;
        if (ptr_index(t, parent->len, false, &j, why) < 0)
            return NULL;
        return reef__jv_take(parent, j);
    }
    *why = "the target's parent is not an object or array";
    return NULL;
}

static bool ptr_is_proper_prefix(const struct ptr *a, const struct ptr *b)
{
    if (a->n >= b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->t[i].n != b->t[i].n || memcmp(a->t[i].p, b->t[i].p, a->t[i].n) != 0)
            return false;
    return true;
}

/* A string member of an operation: 0 with *s, *n set; -ENOENT when absent; -EINVAL otherwise. */
static int op_str(const struct reef__jv *op, const char *key, const char **s, size_t *n)
{
    struct reef__jv *v = reef__jv_get(op, key);
    if (!v)
        return -ENOENT;
    if (v->kind != REEF_JSON_STRING)
        return -EINVAL;
    *s = v->s.p;
    *n = v->s.n;
    return 0;
}

static int jp_one(struct jp_state *st, const struct reef__jv *op, size_t index,
                  struct reef_err *err)
{
    const char *name, *path = "", *from = "";
    size_t name_n, path_n = 0, from_n = 0;
    const char *why = NULL;
    struct ptr pp = {0}, fp = {0};
    int r = 0;

    if (op->kind != REEF_JSON_OBJECT)
        return reef_err_set(err, -EINVAL, "json patch: operation %zu: not an object", index);
    if (op_str(op, "op", &name, &name_n) < 0)
        return reef_err_set(err, -EINVAL, "json patch: operation %zu: missing or non-string \"op\"",
                            index);
    enum op kind = OP_ADD;
    bool known = false;
    for (size_t i = 0; i < REEF_ARRAY_LEN(op_names); i++)
        if (strlen(op_names[i]) == name_n && memcmp(op_names[i], name, name_n) == 0) {
            kind = (enum op)i;
            known = true;
        }
    if (!known)
        return reef_err_set(err, -EINVAL, "json patch: operation %zu: unknown op \"%.*s\"", index,
                            (int)(name_n > 32 ? 32 : name_n), name);
    const char *oname = op_names[kind];
    if (op_str(op, "path", &path, &path_n) < 0)
        return reef_err_set(err, -EINVAL,
                            "json patch: operation %zu (%s): missing or non-string \"path\"", index,
                            oname);
#define OPERR(code, ...)                                                                           \
    do {                                                                                           \
        r = reef_err_set(err, code, "json patch: operation %zu (%s) path \"%.*s\": " __VA_ARGS__); \
        goto out;                                                                                  \
    } while (0)
#define PATHARGS index, oname, (int)(path_n > 128 ? 128 : path_n), path
    if ((r = ptr_parse(path, path_n, &pp, &why)) < 0) {
        if (r == -ENOMEM)
            OPERR(-ENOMEM, "%s", PATHARGS, "out of memory");
        OPERR(-EINVAL, "%s", PATHARGS, why);
    }
    if (kind == OP_MOVE || kind == OP_COPY) {
        if (op_str(op, "from", &from, &from_n) < 0)
            OPERR(-EINVAL, "%s", PATHARGS, "missing or non-string \"from\"");
        if ((r = ptr_parse(from, from_n, &fp, &why)) < 0)
            OPERR(r, "from \"%.*s\": %s", PATHARGS, (int)(from_n > 128 ? 128 : from_n), from,
                  r == -ENOMEM ? "out of memory" : why);
    }
    const struct reef__jv *value = reef__jv_get(op, "value");
    if ((kind == OP_ADD || kind == OP_REPLACE || kind == OP_TEST) && !value)
        OPERR(-EINVAL, "%s", PATHARGS, "missing \"value\"");

    switch (kind) {
    case OP_ADD:
    case OP_REPLACE: {
        struct reef__jv *tgt = NULL;
        if (kind == OP_REPLACE && !(tgt = ptr_get(st->root, &pp, &why)))
            OPERR(-EINVAL, "%s", PATHARGS, why);
        size_t vn = reef__jv_count(value, REEF_PATCH_MAX_NODES);
        if (st->nodes + vn > REEF_PATCH_MAX_NODES)
            OPERR(-E2BIG, "%s", PATHARGS, "the document would grow too large");
        struct reef__jv *c = reef__jv_clone(value);
        if (!c)
            OPERR(-ENOMEM, "%s", PATHARGS, "out of memory");
        if (tgt) {
            /* Swapping contents keeps the target where it is: same member position, same index. */
            struct reef__jv tmp = *tgt;
            *tgt = *c;
            *c = tmp;
            reef__jv_free(c);
        } else if ((r = jp_add(st, &pp, c, &why)) < 0) {
            OPERR(r, "%s", PATHARGS, r == -ENOMEM ? "out of memory" : why);
        }
        st->nodes += vn;
        break;
    }
    case OP_REMOVE: {
        struct reef__jv *v = jp_detach(st, &pp, &why);
        if (!v)
            OPERR(-EINVAL, "%s", PATHARGS, why);
        reef__jv_free(v);
        break;
    }
    case OP_MOVE: {
        if (ptr_is_proper_prefix(&fp, &pp))
            OPERR(-EINVAL, "%s", PATHARGS, "cannot move a value into one of its own children");
        if (!ptr_get(st->root, &fp, &why))
            OPERR(-EINVAL, "from: %s", PATHARGS, why);
        if (fp.n == pp.n && from_n == path_n && memcmp(from, path, path_n) == 0)
            break;
        struct reef__jv *v = jp_detach(st, &fp, &why);
        if (!v)
            OPERR(-EINVAL, "from: %s", PATHARGS, why);
        if ((r = jp_add(st, &pp, v, &why)) < 0)
            OPERR(r, "%s", PATHARGS, r == -ENOMEM ? "out of memory" : why);
        break;
    }
    case OP_COPY: {
        struct reef__jv *src = ptr_get(st->root, &fp, &why);
        if (!src)
            OPERR(-EINVAL, "from: %s", PATHARGS, why);
        size_t vn = reef__jv_count(src, REEF_PATCH_MAX_NODES);
        if (st->nodes + vn > REEF_PATCH_MAX_NODES)
            OPERR(-E2BIG, "%s", PATHARGS, "the document would grow too large");
        struct reef__jv *c = reef__jv_clone(src);
        if (!c)
            OPERR(-ENOMEM, "%s", PATHARGS, "out of memory");
        if ((r = jp_add(st, &pp, c, &why)) < 0)
            OPERR(r, "%s", PATHARGS, r == -ENOMEM ? "out of memory" : why);
        st->nodes += vn;
        break;
    }
    case OP_TEST: {
        struct reef__jv *v = ptr_get(st->root, &pp, &why);
        if (!v)
            OPERR(-EINVAL, "%s", PATHARGS, why);
        if (!reef__jv_equal(v, value))
            OPERR(-EINVAL, "%s", PATHARGS, "test failed: value differs");
        break;
    }
    }
    r = 0;
out:
    ptr_free(&pp);
    ptr_free(&fp);
    return r;
#undef OPERR
#undef PATHARGS
}

int reef_patch_json_apply(const char *doc, size_t doc_len, const char *patch, size_t patch_len,
                          struct reef_buf *out, struct reef_err *err)
{
    struct reef_err local;
    if (!err)
        err = &local;
    struct reef__jv *ops = reef__jv_parse(patch, patch_len, "json patch", err);
    if (!ops)
        return err->code == -EINVAL ? (err->code = -EBADMSG) : err->code;
    if (ops->kind != REEF_JSON_ARRAY) {
        reef__jv_free(ops);
        return reef_err_set(err, -EBADMSG, "json patch: must be an array of operations");
    }
    struct jp_state st = {reef__jv_parse(doc, doc_len, "document", err), 0};
    if (!st.root) {
        reef__jv_free(ops);
        return err->code ? err->code : -EINVAL;
    }
    st.nodes = reef__jv_count(st.root, REEF_PATCH_MAX_NODES);
    int r = 0;
    for (size_t i = 0; r == 0 && i < ops->len; i++)
        r = jp_one(&st, ops->items[i], i, err);
    if (r == 0)
        r = reef__jv_to_buf(st.root, out, err);
    reef__jv_free(st.root);
    reef__jv_free(ops);
    return r;
}

/* JSON Merge Patch (RFC 7386) */

/* MergePatch(target, patch) from RFC 7386 section 2, in place: *target is replaced or edited.
 * Recursion follows the patch, whose depth the parser bounded. */
static int merge(struct reef__jv **target, const struct reef__jv *patch)
{
    if (patch->kind != REEF_JSON_OBJECT) {
        struct reef__jv *c = reef__jv_clone(patch);
        if (!c)
            return -ENOMEM;
        reef__jv_free(*target);
        *target = c;
        return 0;
    }
    if (!*target || (*target)->kind != REEF_JSON_OBJECT) {
        reef__jv_free(*target);
        *target = reef__jv_new(REEF_JSON_OBJECT);
        if (!*target)
            return -ENOMEM;
    }
    struct reef__jv *t = *target;
    for (size_t i = 0; i < patch->len; i++) {
        const struct reef__jstr *k = &patch->keys[i];
        if (patch->items[i]->kind == REEF_JSON_NULL) {
            reef__jv_del(t, k->p, k->n);
            continue;
        }
        long j = reef__jv_find(t, k->p, k->n);
        if (j >= 0) {
            int r = merge(&t->items[j], patch->items[i]);
            if (r < 0)
                return r;
            continue;
        }
        struct reef__jv *nv = NULL;
        int r = merge(&nv, patch->items[i]);
        if (r == 0)
            r = reef__jv_set(t, k->p, k->n, nv);
        else
            reef__jv_free(nv);
        if (r < 0)
            return r;
    }
    return 0;
}

int reef_patch_merge_apply(const char *doc, size_t doc_len, const char *patch, size_t patch_len,
                           struct reef_buf *out, struct reef_err *err)
{
    struct reef_err local;
    if (!err)
        err = &local;
    struct reef__jv *p = reef__jv_parse(patch, patch_len, "merge patch", err);
    if (!p)
        return err->code == -EINVAL ? (err->code = -EBADMSG) : err->code;
    struct reef__jv *t = reef__jv_parse(doc, doc_len, "document", err);
    if (!t) {
        reef__jv_free(p);
        return err->code ? err->code : -EINVAL;
    }
    int r = merge(&t, p);
    if (r < 0)
        r = reef_err_set(err, r, "merge patch: out of memory");
    else
        r = reef__jv_to_buf(t, out, err);
    reef__jv_free(t);
    reef__jv_free(p);
    return r;
}
