/* YAML to JSON over libyaml's event API.
 *
 * Each document is read into a small tree first (nodes in an arena), because merge keys and
 * duplicate-key checks need a whole mapping, and an alias needs the node it names. Aliases are not
 * copied: the parent simply points at the anchored node again. While the tree is built every node
 * records what emitting it would cost (exact JSON bytes, alias expansions, nesting height), so the
 * bounds in yaml.h are enforced before a single output byte is written, and emitting afterwards is
 * one pass into a buffer reserved to the exact size. */
#include "core/yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/arena.h"
#include "core/cleanup.h"
#include "core/yaml_internal.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

enum kind { K_SCALAR, K_SEQ, K_MAP };

/* Sizes below are uint32_t: every one is checked against REEF_YAML_MAX_JSON (or the alias bound)
 * before it is stored, which keeps a node small. Memory per node matters: a flat list of short
 * scalars costs a node each, so the tree is the biggest thing a document makes us allocate. */
struct entry {
    const struct node *key; /* a scalar */
    const struct node *val;
};

struct node {
    uint8_t kind;      /* enum kind */
    uint8_t type;      /* enum stype, for scalars */
    bool complete;     /* an alias may only name a finished node */
    bool merge_key;    /* a plain or !!merge-tagged "<<" scalar */
    uint16_t height;   /* collection levels, 0 for a scalar */
    int32_t line, col; /* 1-based start */
    uint32_t size;     /* bytes of JSON this node emits */
    uint32_t aliases;  /* alias expansions emitting it performs */
    union {
        struct {
            const char *text; /* JSON literal, or the raw string for S_STR */
            const char *key;  /* the string this scalar becomes as a mapping key */
            uint32_t len, klen;
            uint32_t kesize; /* bytes of the key once escaped, quotes included */
        } s;
        struct {
            struct node **items;
            size_t n;
        } seq;
        struct {
            struct entry *e;
            size_t n;
        } map;
    };
};

/* A child as its parent saw it: where it was written, and whether through an alias. */
struct child {
    struct node *n;
    int32_t line;
    uint32_t col : 31;
    uint32_t alias : 1;
};

struct frame {
    struct node *node;
    struct child *kids;
    size_t n, cap;
    size_t size; /* running JSON size of a sequence */
};

struct anchor {
    const char *name;
    struct node *node;
};

struct conv {
    const char *data;
    size_t len;
    struct reef_err *err;
    struct reef_arena *arena;
    struct frame frames[REEF_YAML_MAX_DEPTH];
    size_t depth;
    struct node *root;
    struct anchor *anchors; /* open addressing, cap a power of two */
    size_t nanchors, anchors_cap;
    struct node **interned; /* scalars by content, open addressing */
    size_t ninterned, interned_cap;
    size_t merged; /* members copied by merge keys in this document */
    int doc_line;
};

static size_t sadd(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

REEF_PRINTF(5, 6)
static int fail_at(struct conv *c, int code, int line, int col, const char *fmt, ...)
{
    char msg[REEF_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return reef_err_set(c->err, code, "yaml: line %d, column %d: %s", line, col, msg);
}

static int nomem(struct conv *c)
{
    return reef_err_set(c->err, -ENOMEM, "yaml: out of memory");
}

/* Bytes reef_buf_json_str produces for s[0..n), quotes included. */
static size_t json_str_size(const char *s, size_t n)
{
    size_t size = 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\' || ch == '\n' || ch == '\r' || ch == '\t' || ch == '\b' ||
            ch == '\f')
            size += 2;
        else if (ch < 0x20)
            size += 6;
        else
            size += 1;
    }
    return size;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += need + 1;
    }
    return true;
}

static const char *stype_tag(enum stype t)
{
    switch (t) {
    case S_NULL:
        return "!!null";
    case S_BOOL:
        return "!!bool";
    case S_INT:
        return "!!int";
    case S_FLOAT:
    case S_NONFINITE:
        return "!!float";
    case S_STR:
        break;
    }
    return "!!str";
}

/* The tag, plain or not, decides how a scalar's text is read. */
static int resolve_scalar(struct conv *c, const yaml_event_t *ev, int line, int col,
                          struct resolved *r)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    const char *want = NULL; /* an explicit core tag the value must resolve to */

    r->type = S_STR;
    if (tag && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0) {
        const char *t = tag + strlen(TAG_PREFIX);
        if (strcmp(t, "str") == 0 || strcmp(t, "binary") == 0 || strcmp(t, "timestamp") == 0 ||
            strcmp(t, "merge") == 0)
            return 0;
        if (strcmp(t, "int") == 0 || strcmp(t, "float") == 0 || strcmp(t, "bool") == 0 ||
            strcmp(t, "null") == 0)
            want = t;
    } else if (tag && strcmp(tag, "!") == 0) {
        return 0; /* the non-specific tag: a string */
    }
    if (!want && !plain)
        return 0;
    if (memchr(s, '\0', len) && !want)
        return 0;
    int rc = reef__yaml_resolve_plain(s, len, r);
    if (rc < 0)
        return nomem(c);
    if (!want)
        return 0;
    bool ok;
    if (strcmp(want, "int") == 0) {
        ok = r->type == S_INT;
    } else if (strcmp(want, "bool") == 0) {
        ok = r->type == S_BOOL;
    } else if (strcmp(want, "null") == 0) {
        ok = r->type == S_NULL;
    } else {
        ok = r->type == S_FLOAT || r->type == S_NONFINITE;
        if (r->type == S_INT) { /* !!float 1 is the float 1 */
            r->f = strtod(r->text, NULL);
            r->type = S_FLOAT;
            reef__yaml_fmt_json_float(r->f, r->text, sizeof(r->text));
            ok = true;
        }
    }
    if (!ok)
        return fail_at(c, -EINVAL, line, col, "cannot decode %s `%.*s` as a !!%s",
                       stype_tag(r->type), len > 40 ? 40 : (int)len, s, want);
    return 0;
}

/* ---- building the tree ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct anchor *anchor_slot(struct conv *c, const char *name)
{
    size_t mask = c->anchors_cap - 1;
    for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask)
        if (!c->anchors[i].name || strcmp(c->anchors[i].name, name) == 0)
            return &c->anchors[i];
}

/* Anchors may be redefined; the latest definition wins for later aliases. */
static int anchor_set(struct conv *c, const char *name, struct node *node)
{
    if (c->nanchors + 1 > c->anchors_cap / 2) {
        size_t ncap = c->anchors_cap ? c->anchors_cap * 2 : 64;
        struct anchor *old = c->anchors;
        size_t ocap = c->anchors_cap;
        c->anchors = calloc(ncap, sizeof(*c->anchors));
        if (!c->anchors) {
            c->anchors = old;
            return nomem(c);
        }
        c->anchors_cap = ncap;
        for (size_t i = 0; i < ocap; i++)
            if (old[i].name)
                *anchor_slot(c, old[i].name) = old[i];
        free(old);
    }
    struct anchor *a = anchor_slot(c, name);
    if (!a->name) {
        a->name = reef_arena_strdup(c->arena, name);
        if (!a->name)
            return nomem(c);
        c->nanchors++;
    }
    a->node = node;
    return 0;
}

static struct node *anchor_get(struct conv *c, const char *name)
{
    if (!c->anchors_cap)
        return NULL;
    struct anchor *a = anchor_slot(c, name);
    return a->name ? a->node : NULL;
}

static struct node *new_node(struct conv *c, enum kind kind, const yaml_mark_t *m)
{
    struct node *n = reef_arena_calloc(c->arena, 1, sizeof(*n));
    if (n) {
        n->kind = kind;
        n->line = (int)m->line + 1;
        n->col = (int)m->column + 1;
    }
    return n;
}

/* Hands a finished node (or an alias to one) to the open collection, or makes it the root.
 * Bounds that depend on where the node lands are checked here. */
static int add_child(struct conv *c, struct node *n, int line, int col, bool alias)
{
    if (c->depth + n->height > REEF_YAML_MAX_DEPTH)
        return fail_at(c, -E2BIG, line, col, "nesting deeper than %d levels", REEF_YAML_MAX_DEPTH);
    if (c->depth == 0) {
        c->root = n;
        if (n->kind == K_SCALAR && n->type == S_NONFINITE)
            return fail_at(c, -EINVAL, line, col, "%s cannot be represented in JSON", n->s.key);
        return 0;
    }
    struct frame *f = &c->frames[c->depth - 1];
    bool is_key = f->node->kind == K_MAP && f->n % 2 == 0;
    if (is_key && n->kind != K_SCALAR)
        return fail_at(c, -EINVAL, line, col, "mapping or sequence used as a mapping key");
    if (!is_key && n->kind == K_SCALAR && n->type == S_NONFINITE)
        return fail_at(c, -EINVAL, line, col, "%s cannot be represented in JSON", n->s.key);
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 8;
        struct child *k = realloc(f->kids, ncap * sizeof(*k));
        if (!k)
            return nomem(c);
        f->kids = k;
        f->cap = ncap;
    }
    f->kids[f->n++] = (struct child){n, line, (uint32_t)col & 0x7fffffff, alias};

    struct node *p = f->node;
    size_t aliases = sadd(sadd(p->aliases, n->aliases), alias ? 1 : 0);
    if (aliases > REEF_YAML_MAX_ALIASES)
        return fail_at(c, -E2BIG, line, col,
                       "document expands more than %u aliases (an alias bomb?)",
                       REEF_YAML_MAX_ALIASES);
    p->aliases = (uint32_t)aliases;
    if (n->height + 1 > p->height)
        p->height = (uint16_t)(n->height + 1);
    if (p->kind == K_SEQ) {
        f->size = sadd(f->size, sadd(n->size, f->n > 1 ? 1 : 0));
        if (f->size > REEF_YAML_MAX_JSON)
            return fail_at(c, -E2BIG, line, col,
                           "document expands to more than %u bytes of JSON (an alias bomb?)",
                           REEF_YAML_MAX_JSON);
    }
    return 0;
}

/* What makes two scalars emit the same thing whatever their position. */
static void scalar_ident(const struct node *n, const char **p, size_t *len)
{
    *p = n->type == S_NONFINITE ? n->s.key : n->s.text;
    *len = n->type == S_NONFINITE ? n->s.klen : n->s.len;
}

static uint64_t hash_scalar(int type, bool merge, const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(type * 2 + merge);
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static struct node **intern_slot(struct conv *c, int type, bool merge, const char *p, size_t len)
{
    size_t mask = c->interned_cap - 1;
    for (size_t i = hash_scalar(type, merge, p, len) & mask;; i = (i + 1) & mask) {
        struct node *n = c->interned[i];
        if (!n)
            return &c->interned[i];
        const char *q;
        size_t qlen;
        scalar_ident(n, &q, &qlen);
        if (n->type == type && n->merge_key == merge && qlen == len && memcmp(q, p, len) == 0)
            return &c->interned[i];
    }
}

static int intern_reserve(struct conv *c)
{
    if (c->ninterned + 1 <= c->interned_cap / 2)
        return 0;
    size_t ocap = c->interned_cap, ncap = ocap ? ocap * 2 : 256;
    struct node **old = c->interned;
    c->interned = calloc(ncap, sizeof(*c->interned));
    if (!c->interned) {
        c->interned = old;
        return nomem(c);
    }
    c->interned_cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i]) {
            const char *p;
            size_t len;
            scalar_ident(old[i], &p, &len);
            *intern_slot(c, old[i]->type, old[i]->merge_key, p, len) = old[i];
        }
    }
    free(old);
    return 0;
}

/* Equal scalars share one node (positions live in the parent's struct child): a document of
 * many short repeated values, the worst case for memory per input byte, then costs little. */
static int on_scalar(struct conv *c, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (!utf8_valid((const unsigned char *)s, len))
        return fail_at(c, -EINVAL, line, col, "invalid UTF-8 in scalar");
    if (len > REEF_YAML_MAX_JSON)
        return fail_at(c, -E2BIG, line, col, "scalar longer than %u bytes", REEF_YAML_MAX_JSON);
    struct resolved r;
    int rc = resolve_scalar(c, ev, line, col, &r);
    if (rc < 0)
        return rc;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool merge = len == 2 && memcmp(s, "<<", 2) == 0 &&
                 (tag ? strcmp(tag, TAG_PREFIX "merge") == 0
                      : ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
    char kbuf[64];
    if (r.type == S_FLOAT || r.type == S_NONFINITE)
        reef__yaml_fmt_key_float(r.f, kbuf, sizeof(kbuf));
    const char *id = r.type == S_STR ? s : r.type == S_NONFINITE ? kbuf : r.text;
    size_t idlen = r.type == S_STR ? len : strlen(id);

    if ((rc = intern_reserve(c)) < 0)
        return rc;
    struct node **slot = intern_slot(c, r.type, merge, id, idlen);
    struct node *n = *slot;
    if (!n) {
        n = new_node(c, K_SCALAR, &ev->start_mark);
        if (!n)
            return nomem(c);
        n->type = r.type;
        n->merge_key = merge;
        n->complete = true;
        if (r.type != S_NONFINITE) {
            n->s.text = reef_arena_strndup(c->arena, id, idlen);
            n->s.len = (uint32_t)idlen;
            if (!n->s.text)
                return nomem(c);
        }
        if (r.type == S_FLOAT || r.type == S_NONFINITE) {
            n->s.klen = (uint32_t)strlen(kbuf);
            n->s.key = reef_arena_strndup(c->arena, kbuf, n->s.klen);
            if (!n->s.key)
                return nomem(c);
        } else { /* strings, null, bool and int keys read as their text */
            n->s.key = n->s.text;
            n->s.klen = n->s.len;
        }
        n->s.kesize = (uint32_t)json_str_size(n->s.key, n->s.klen);
        n->size = r.type == S_STR ? n->s.kesize : n->s.len;
        if (n->size > REEF_YAML_MAX_JSON)
            return fail_at(c, -E2BIG, line, col, "scalar longer than %u bytes of JSON",
                           REEF_YAML_MAX_JSON);
        *slot = n;
        c->ninterned++;
    }
    if (ev->data.scalar.anchor && (rc = anchor_set(c, (const char *)ev->data.scalar.anchor, n)))
        return rc;
    return add_child(c, n, line, col, false);
}

static int on_alias(struct conv *c, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    struct node *n = anchor_get(c, name);
    if (!n)
        return fail_at(c, -EINVAL, line, col, "unknown anchor '%.64s' referenced", name);
    if (!n->complete)
        return fail_at(c, -EINVAL, line, col, "anchor '%.64s' value contains itself", name);
    return add_child(c, n, line, col, true);
}

static int on_start(struct conv *c, const yaml_event_t *ev, enum kind kind)
{
    struct node *n = new_node(c, kind, &ev->start_mark);
    if (!n)
        return nomem(c);
    if (c->depth >= REEF_YAML_MAX_DEPTH)
        return fail_at(c, -E2BIG, n->line, n->col, "nesting deeper than %d levels",
                       REEF_YAML_MAX_DEPTH);
    n->height = 1;
    const yaml_char_t *anchor =
        kind == K_SEQ ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
    if (anchor) {
        int rc = anchor_set(c, (const char *)anchor, n);
        if (rc < 0)
            return rc;
    }
    c->frames[c->depth++] = (struct frame){.node = n, .size = 2};
    return 0;
}

/* A candidate member of a mapping, explicit or brought in by a merge key. */
struct cand {
    struct entry e;
    size_t order;
    int line, col;
    bool explicit_;
};

static int cand_by_key(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    const struct node *kx = x->e.key, *ky = y->e.key;
    size_t n = kx->s.klen < ky->s.klen ? kx->s.klen : ky->s.klen;
    int r = memcmp(kx->s.key, ky->s.key, n);
    if (r)
        return r;
    if (kx->s.klen != ky->s.klen)
        return kx->s.klen < ky->s.klen ? -1 : 1;
    if (x->explicit_ != y->explicit_)
        return x->explicit_ ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cand_by_order(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return x->order < y->order ? -1 : x->order > y->order;
}

struct cands {
    struct cand *v;
    size_t n, cap;
};

static int cands_push(struct conv *c, struct cands *cs, const struct cand *x)
{
    if (cs->n == cs->cap) {
        size_t ncap = cs->cap ? cs->cap * 2 : 16;
        struct cand *v = realloc(cs->v, ncap * sizeof(*v));
        if (!v)
            return nomem(c);
        cs->v = v;
        cs->cap = ncap;
    }
    cs->v[cs->n++] = *x;
    return 0;
}

static int merge_from(struct conv *c, struct cands *cs, const struct node *src, int line, int col)
{
    if (src->kind != K_MAP)
        return fail_at(c, -EINVAL, line, col,
                       "map merge requires map or sequence of maps as the value");
    c->merged = sadd(c->merged, src->map.n);
    if (c->merged > REEF_YAML_MAX_MERGED)
        return fail_at(c, -E2BIG, line, col, "more than %u members copied by merge keys",
                       REEF_YAML_MAX_MERGED);
    for (size_t i = 0; i < src->map.n; i++) {
        struct cand x = {src->map.e[i], cs->n, line, col, false};
        int rc = cands_push(c, cs, &x);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Resolves merge keys and duplicates into the mapping's final member list. */
static int finish_map(struct conv *c, struct frame *f)
{
    struct node *m = f->node;
    struct cands cs = {0};
    int rc = 0;
    for (size_t i = 0; i + 1 < f->n && rc == 0; i += 2) {
        struct child *k = &f->kids[i], *v = &f->kids[i + 1];
        if (!k->alias && k->n->merge_key) {
            if (v->n->kind == K_SEQ && !v->alias) {
                /* Errors name the sequence: an alias inside it keeps no position of its own. */
                for (size_t j = 0; j < v->n->seq.n && rc == 0; j++)
                    rc = merge_from(c, &cs, v->n->seq.items[j], v->line, v->col);
            } else {
                rc = merge_from(c, &cs, v->n, v->line, v->col);
            }
            continue;
        }
        struct cand x = {{k->n, v->n}, cs.n, k->line, (int)k->col, true};
        rc = cands_push(c, &cs, &x);
    }
    if (rc < 0) {
        free(cs.v);
        return rc;
    }
    if (cs.n > 1)
        qsort(cs.v, cs.n, sizeof(*cs.v), cand_by_key);
    size_t keep = 0;
    for (size_t i = 0; i < cs.n; i++) {
        struct cand *x = &cs.v[i];
        if (keep > 0) {
            struct cand *prev = &cs.v[keep - 1];
            const struct node *kp = prev->e.key, *kx = x->e.key;
            if (kp->s.klen == kx->s.klen && memcmp(kp->s.key, kx->s.key, kx->s.klen) == 0) {
                if (x->explicit_) {
                    /* prev is explicit too (explicit ones sort first) */
                    rc = fail_at(c, -EINVAL, x->line, x->col,
                                 "mapping key \"%.*s\" already defined at line %d",
                                 kx->s.klen > 64 ? 64 : (int)kx->s.klen, kx->s.key, prev->line);
                    free(cs.v);
                    return rc;
                }
                continue;
            }
        }
        cs.v[keep++] = *x;
    }
    if (keep > 1)
        qsort(cs.v, keep, sizeof(*cs.v), cand_by_order);
    m->map.e = reef_arena_calloc(c->arena, keep ? keep : 1, sizeof(struct entry));
    if (!m->map.e) {
        free(cs.v);
        return nomem(c);
    }
    size_t size = 2;
    for (size_t i = 0; i < keep; i++) {
        m->map.e[i] = cs.v[i].e;
        size = sadd(size, sadd(cs.v[i].e.key->s.kesize, sadd(1, cs.v[i].e.val->size)));
        if (i > 0)
            size = sadd(size, 1);
    }
    m->map.n = keep;
    free(cs.v);
    if (size > REEF_YAML_MAX_JSON)
        return fail_at(c, -E2BIG, m->line, m->col,
                       "document expands to more than %u bytes of JSON (an alias bomb?)",
                       REEF_YAML_MAX_JSON);
    m->size = (uint32_t)size;
    return 0;
}

static int on_end(struct conv *c)
{
    if (REEF_NEVER(c->depth == 0))
        return reef_err_set(c->err, -EINVAL, "yaml: unbalanced collection end");
    struct frame *f = &c->frames[c->depth - 1];
    struct node *n = f->node;
    int rc = 0;
    if (n->kind == K_SEQ) {
        n->seq.items = reef_arena_calloc(c->arena, f->n ? f->n : 1, sizeof(struct node *));
        if (!n->seq.items) {
            rc = nomem(c);
        } else {
            for (size_t i = 0; i < f->n; i++)
                n->seq.items[i] = f->kids[i].n;
            n->seq.n = f->n;
            n->size = (uint32_t)f->size; /* checked against the bound as it grew */
        }
    } else {
        rc = finish_map(c, f);
    }
    free(f->kids);
    f->kids = NULL;
    c->depth--;
    if (rc < 0)
        return rc;
    n->complete = true;
    return add_child(c, n, n->line, n->col, false);
}

/* ---- emitting ---- */

static int emit(struct reef_buf *b, const struct node *n)
{
    int rc = 0;
    switch (n->kind) {
    case K_SCALAR:
        if (n->type == S_STR)
            return reef_buf_json_str(b, n->s.text, n->s.len);
        return reef_buf_append(b, n->s.text, n->s.len);
    case K_SEQ:
        rc = reef_buf_putc(b, '[');
        for (size_t i = 0; i < n->seq.n && rc == 0; i++) {
            if (i > 0)
                rc = reef_buf_putc(b, ',');
            if (rc == 0)
                rc = emit(b, n->seq.items[i]);
        }
        return rc ? rc : reef_buf_putc(b, ']');
    case K_MAP:
        rc = reef_buf_putc(b, '{');
        for (size_t i = 0; i < n->map.n && rc == 0; i++) {
            const struct entry *e = &n->map.e[i];
            if (i > 0)
                rc = reef_buf_putc(b, ',');
            if (rc == 0)
                rc = reef_buf_json_str(b, e->key->s.key, e->key->s.klen);
            if (rc == 0)
                rc = reef_buf_putc(b, ':');
            if (rc == 0)
                rc = emit(b, e->val);
        }
        return rc ? rc : reef_buf_putc(b, '}');
    }
    return -EINVAL;
}

/* ---- driving libyaml ---- */

/* libyaml reports reader errors (bad UTF-8, control characters) by byte offset only. */
static void offset_to_mark(const char *data, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (data[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)data[i] & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

static int parser_error(struct conv *c, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR)
        return nomem(c);
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (p->error == YAML_READER_ERROR) {
        int line, col;
        offset_to_mark(c->data, c->len, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            return fail_at(c, -EINVAL, line, col, "%s (#%X)", problem, p->problem_value);
        return fail_at(c, -EINVAL, line, col, "%s", problem);
    }
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->context)
        return fail_at(c, -EINVAL, line, col, "%s (%s at line %d, column %d)", problem, p->context,
                       (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return fail_at(c, -EINVAL, line, col, "%s", problem);
}

static void doc_reset(struct conv *c)
{
    for (size_t i = 0; i < c->depth; i++)
        free(c->frames[i].kids);
    c->depth = 0;
    c->root = NULL;
    free(c->anchors);
    c->anchors = NULL;
    c->nanchors = c->anchors_cap = 0;
    free(c->interned);
    c->interned = NULL;
    c->ninterned = c->interned_cap = 0;
    c->merged = 0;
    if (c->arena)
        reef_arena_reset(c->arena);
}

static int doc_end(struct conv *c, struct reef_buf *out, size_t *index, reef_yaml_doc_fn fn,
                   void *ud)
{
    struct node *root = c->root;
    if (!root || (root->kind == K_SCALAR && root->type == S_NULL))
        return 0; /* nothing in it, as kubectl sees it */
    reef_buf_reset(out);
    int rc = reef_buf_reserve(out, root->size);
    if (rc == 0)
        rc = emit(out, root);
    if (rc < 0)
        return nomem(c);
    (void)REEF_ALWAYS(out->len == root->size);
    rc = fn(ud, (*index)++, out->data, out->len, c->doc_line);
    if (rc < 0 && c->err && c->err->code == 0)
        reef_err_set(c->err, rc, "yaml: document %zu (line %d) rejected", *index - 1, c->doc_line);
    return rc;
}

int reef_yaml_each(const char *data, size_t len, reef_yaml_doc_fn fn, void *ud,
                   struct reef_err *err)
{
    struct conv c = {.data = data, .len = len, .err = err};
    struct reef_buf out = REEF_BUF_INIT;
    yaml_parser_t p;
    yaml_event_t ev;
    size_t index = 0;
    int rc = 0;

    reef_err_clear(err);
    _cleanup_free_ char *fixed = NULL;
    size_t fixed_len = 0;
    if (reef__yaml_json_fixup(data, len, &fixed, &fixed_len) < 0)
        return nomem(&c);
    if (fixed) {
        c.data = data = fixed;
        c.len = len = fixed_len;
    }
    c.arena = reef_arena_new(0);
    if (!c.arena)
        return nomem(&c);
    if (!yaml_parser_initialize(&p)) {
        reef_arena_free(c.arena);
        return nomem(&c);
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
    for (bool done = false; !done && rc == 0;) {
        if (!yaml_parser_parse(&p, &ev)) {
            rc = parser_error(&c, &p);
            break;
        }
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            doc_reset(&c);
            c.doc_line = (int)ev.start_mark.line + 1;
            break;
        case YAML_DOCUMENT_END_EVENT:
            rc = doc_end(&c, &out, &index, fn, ud);
            doc_reset(&c);
            break;
        case YAML_SCALAR_EVENT:
            rc = on_scalar(&c, &ev);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(&c, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = on_start(&c, &ev, K_SEQ);
            break;
        case YAML_MAPPING_START_EVENT:
            rc = on_start(&c, &ev, K_MAP);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = on_end(&c);
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    doc_reset(&c);
    reef_arena_free(c.arena);
    reef_buf_free(&out);
    return rc;
}

struct collect {
    struct reef_buf *arr;
};

static int collect_doc(void *ud, size_t index, const char *json, size_t len, int line)
{
    struct collect *col = ud;
    int rc = reef_buf_putc(col->arr, index ? ',' : '[');
    return rc ? rc : reef_buf_append(col->arr, json, len);
}

int reef_yaml_to_json_array(const char *data, size_t len, struct reef_buf *out,
                            struct reef_err *err)
{
    struct reef_buf arr = REEF_BUF_INIT;
    struct collect col = {&arr};
    int rc = reef_yaml_each(data, len, collect_doc, &col, err);
    if (rc == 0)
        rc = reef_buf_puts(&arr, arr.len ? "]" : "[]");
    if (rc == 0)
        rc = reef_buf_append(out, arr.data, arr.len);
    if (rc < 0 && err && err->code == 0)
        reef_err_set(err, rc, "yaml: out of memory");
    reef_buf_free(&arr);
    return rc;
}
