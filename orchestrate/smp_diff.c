/* smp_diff: computing strategic merge patches (strategicpatch.CreateThreeWayMergePatch,
 * CreateTwoWayMergePatch and diffMaps), as kubectl's client-side apply does.
 *
 * The three-way patch is built from two diffs: `delta` (current -> modified, ignoring deletions:
 * what the manifest sets that the live object lacks or has differently) and `deletions`
 * (original -> modified, ignoring changes: what the manifest no longer has since the last apply).
 * Merging delta into deletions with the client-side merge options gives the patch. Fields only the
 * server set appear in neither, so they survive; fields removed from the manifest are deleted even
 * though the server still has them. */
#include "orchestrate/smp.h"

#include <stdlib.h>
#include <string.h>

#include "orchestrate/patch.h"

struct diff_opts {
    bool set_order;      /* SetElementOrder */
    bool ignore_changes; /* IgnoreChangesAndAdditions */
    bool ignore_deletes; /* IgnoreDeletions */
    bool build_retain;   /* BuildRetainKeysDirective */
};

static int nomem(struct reef_err *err)
{
    return reef_err_set(err, -ENOMEM, "out of memory");
}

static int put(struct reef__jv *obj, const char *k, size_t n, const struct reef__jv *v,
               struct reef_err *err)
{
    struct reef__jv *c = v ? reef__jv_clone(v) : reef__jv_new(REEF_JSON_NULL);
    if (!c || reef__jv_set(obj, k, n, c) < 0)
        return nomem(err);
    return 0;
}

static int put_owned(struct reef__jv *obj, const char *k, size_t n, struct reef__jv *v,
                     struct reef_err *err)
{
    if (reef__jv_set(obj, k, n, v) < 0)
        return nomem(err);
    return 0;
}

/* Sorting by %v, as sortScalars and sortMergeListsByNameArray do. */

struct keyed {
    char *s;
    struct reef__jv *v; /* borrowed */
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    return strcmp(x->s, y->s);
}

/* list's elements with their %v strings (of the merge key's value when mk is set), sorted. */
static int sorted_keys(const struct reef__jv *list, const char *mk, struct keyed **out,
                       struct reef_err *err)
{
    *out = calloc(list->len + 1, sizeof(**out));
    if (!*out)
        return nomem(err);
    for (size_t i = 0; i < list->len; i++) {
        struct reef__jv *e = list->items[i], *kv = e;
        if (mk) {
            if (e->kind != REEF_JSON_OBJECT)
                return reef_err_set(err, -EINVAL, "expected a map in a merging list, found %s",
                                    reef_json_kind_name(e->kind));
            if (!(kv = reef__jv_get(e, mk))) {
                struct reef_buf b = REEF_BUF_INIT;
                reef__jv_to_buf(e, &b, NULL);
                int r = reef_err_set(err, -EINVAL,
                                     "map: %.120s does not contain declared merge key: %s",
                                     b.data ? b.data : "", mk);
                reef_buf_free(&b);
                return r;
            }
        }
        struct reef_buf b = REEF_BUF_INIT;
        if (reef__smp_gofmt(kv, &b) < 0 || reef_buf_putc(&b, '\0') < 0) {
            reef_buf_free(&b);
            return nomem(err);
        }
        (*out)[i].s = b.data;
        (*out)[i].v = e;
    }
    /* qsort is not stable, but neither is upstream's sort.Sort; equal keys are equal items. */
    qsort(*out, list->len, sizeof(**out), cmp_keyed);
    return 0;
}

static void free_keyed(struct keyed *k, size_t n)
{
    for (size_t i = 0; k && i < n; i++)
        free(k[i].s);
    free(k);
}

static int diff_maps(const struct reef__jv *orig, const struct reef__jv *mod,
                     const struct reef__smp_type *t, struct diff_opts o, struct reef__jv **out,
                     struct reef_err *err);

/* diffListsOfMaps: changed and added elements, and `$patch: delete` elements for removed ones. */
static int diff_list_of_maps(const struct reef__jv *orig, const struct reef__jv *mod,
                             const struct reef__smp_type *t, const char *mk, struct diff_opts o,
                             struct reef__jv *patch, struct reef__jv *deletions,
                             struct reef_err *err)
{
    struct keyed *a = NULL, *b = NULL;
    int rc;
    if ((rc = sorted_keys(orig, mk, &a, err)) < 0 || (rc = sorted_keys(mod, mk, &b, err)) < 0)
        goto out;
    size_t i = 0, j = 0;
    while (i < orig->len || j < mod->len) {
        int c = i >= orig->len ? 1 : j >= mod->len ? -1 : strcmp(a[i].s, b[j].s);
        if (c == 0) {
            struct reef__jv *pv = NULL;
            if ((rc = diff_maps(a[i].v, b[j].v, t, o, &pv, err)) < 0)
                goto out;
            if (pv->len) {
                if ((rc = put(pv, mk, strlen(mk), reef__jv_get(b[j].v, mk), err)) < 0) {
                    reef__jv_free(pv);
                    goto out;
                }
                if (reef__jv_push(patch, pv) < 0) { /* push frees pv */
                    rc = nomem(err);
                    goto out;
                }
            } else {
                reef__jv_free(pv);
            }
            i++;
            j++;
        } else if (c > 0) {
            if (!o.ignore_changes) {
                struct reef__jv *cl = reef__jv_clone(b[j].v);
                if (!cl || reef__jv_push(patch, cl) < 0) {
                    rc = nomem(err);
                    goto out;
                }
            }
            j++;
        } else {
            if (!o.ignore_deletes) {
                /* CreateDeleteDirective; set and push free what they are given on failure. */
                struct reef__jv *d = reef__jv_new(REEF_JSON_OBJECT);
                struct reef__jv *del = d ? reef__jv_new_str("delete", 6) : NULL;
                if (!del || reef__jv_set(d, "$patch", 6, del) < 0 ||
                    put(d, mk, strlen(mk), reef__jv_get(a[i].v, mk), err) < 0) {
                    reef__jv_free(d);
                    rc = nomem(err);
                    goto out;
                }
                if (reef__jv_push(deletions, d) < 0) {
                    rc = nomem(err);
                    goto out;
                }
            }
            i++;
        }
    }
    rc = 0;
out:
    free_keyed(a, orig->len);
    free_keyed(b, mod->len);
    return rc;
}

/* diffListsOfScalars: additions and (deduplicated) deletions. */
static int diff_list_of_scalars(const struct reef__jv *orig, const struct reef__jv *mod,
                                struct diff_opts o, struct reef__jv *add, struct reef__jv *del,
                                struct reef_err *err)
{
    struct keyed *a = NULL, *b = NULL;
    int rc;
    if ((rc = sorted_keys(orig, NULL, &a, err)) < 0 || (rc = sorted_keys(mod, NULL, &b, err)) < 0)
        goto out;
    size_t i = 0, j = 0;
    while (i < orig->len || j < mod->len) {
        int c = i >= orig->len ? 1 : j >= mod->len ? -1 : strcmp(a[i].s, b[j].s);
        struct reef__jv *target = NULL, *v = NULL;
        if (c == 0) {
            i++;
            j++;
        } else if (c > 0) {
            target = o.ignore_changes ? NULL : add;
            v = b[j++].v;
        } else {
            target = o.ignore_deletes ? NULL : del;
            v = a[i++].v;
        }
        if (!target)
            continue;
        bool dup = false;
        for (size_t k = 0; target == del && k < del->len && !dup; k++)
            dup = reef__jv_equal(del->items[k], v);
        if (dup)
            continue;
        struct reef__jv *cl = reef__jv_clone(v);
        if (!cl || reef__jv_push(target, cl) < 0) {
            rc = nomem(err);
            goto out;
        }
    }
    rc = 0;
out:
    free_keyed(a, orig->len);
    free_keyed(b, mod->len);
    return rc;
}

static bool order_same(const struct reef__jv *a, const struct reef__jv *b, const char *mk)
{
    if (a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++) {
        const struct reef__jv *x = reef__jv_get(a->items[i], mk),
                              *y = reef__jv_get(b->items[i], mk);
        if (!x || !y || !reef__jv_equal(x, y))
            return false;
    }
    return true;
}

/* diffLists for a merge list at key: fills patch[key], the parallel deletion list and the
 * $setElementOrder list. */
static int diff_lists(const char *key, size_t kn, const struct reef__jv *orig,
                      const struct reef__jv *mod, const struct reef__smp_field *f,
                      struct diff_opts o, struct reef__jv *patch, struct reef_err *err)
{
    const char *mk = f->merge_key;
    if (orig->len == 0) {
        if (mod->len == 0 || o.ignore_changes)
            return 0;
        return put(patch, key, kn, mod, err);
    }
    enum reef_json_kind kind;
    int rc = reef__smp_elem_kind(orig, mod, &kind, err);
    if (rc < 0)
        return rc;
    if ((rc = reef__smp_check_cost(orig->len, mod->len, err)) < 0)
        return rc;
    struct reef__jv *list = reef__jv_new(REEF_JSON_ARRAY), *del = reef__jv_new(REEF_JSON_ARRAY);
    struct reef__jv *order = NULL;
    struct reef_buf name = REEF_BUF_INIT;
    if (!list || !del)
        goto nomem;
    if (kind == REEF_JSON_OBJECT) {
        if (!mk) {
            rc = reef_err_set(err, -EINVAL, "cannot merge lists without merge key");
            goto out;
        }
        if ((rc = diff_list_of_maps(orig, mod, f->type, mk, o, list, del, err)) < 0 ||
            (rc = reef__smp_sort_by_order(list, mod, mk, err)) < 0)
            goto out;
        bool same_order = order_same(orig, mod, mk);
        while (del->len)
            if (reef__jv_push(list, reef__jv_take(del, 0)) < 0)
                goto nomem;
        if (o.set_order && ((!o.ignore_changes && (list->len > 0 || !same_order)) ||
                            (!o.ignore_deletes && list->len > 0))) {
            if (!(order = reef__jv_new(REEF_JSON_ARRAY)))
                goto nomem;
            for (size_t i = 0; i < mod->len; i++) {
                struct reef__jv *e = reef__jv_new(REEF_JSON_OBJECT);
                if (!e || reef__jv_push(order, e) < 0 ||
                    put(e, mk, strlen(mk), reef__jv_get(mod->items[i], mk), err) < 0)
                    goto nomem;
            }
        }
    } else {
        if ((rc = diff_list_of_scalars(orig, mod, o, list, del, err)) < 0 ||
            (rc = reef__smp_sort_by_order(list, mod, NULL, err)) < 0)
            goto out;
        if (o.set_order && ((!o.ignore_deletes && del->len > 0) ||
                            (!o.ignore_changes && !reef__jv_equal(orig, mod)))) {
            if (!(order = reef__jv_clone(mod)))
                goto nomem;
        }
    }
    if (list->len) {
        if ((rc = put_owned(patch, key, kn, list, err)) < 0) {
            list = NULL;
            goto out;
        }
        list = NULL;
    }
    if (del->len) {
        if (reef_buf_printf(&name, "$deleteFromPrimitiveList/%.*s", (int)kn, key) < 0)
            goto nomem;
        rc = put_owned(patch, name.data, name.len, del, err);
        del = NULL;
        if (rc < 0)
            goto out;
    }
    if (order && order->len) { /* an empty order list is left out, as upstream */
        reef_buf_reset(&name);
        if (reef_buf_printf(&name, "$setElementOrder/%.*s", (int)kn, key) < 0)
            goto nomem;
        rc = put_owned(patch, name.data, name.len, order, err);
        order = NULL;
        if (rc < 0)
            goto out;
    }
    rc = 0;
    goto out;
nomem:
    rc = nomem(err);
out:
    reef__jv_free(list);
    reef__jv_free(del);
    reef__jv_free(order);
    reef_buf_free(&name);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    const struct reef__jv *x = *(struct reef__jv *const *)a, *y = *(struct reef__jv *const *)b;
    size_t n = x->s.n < y->s.n ? x->s.n : y->s.n;
    int c = memcmp(x->s.p, y->s.p, n);
    return c ? c : (x->s.n > y->s.n) - (x->s.n < y->s.n);
}

/* diffMaps */
static int diff_maps(const struct reef__jv *orig, const struct reef__jv *mod,
                     const struct reef__smp_type *t, struct diff_opts o, struct reef__jv **out,
                     struct reef_err *err)
{
    struct reef__jv *patch = reef__jv_new(REEF_JSON_OBJECT);
    struct reef__jv *retain = reef__jv_new(REEF_JSON_ARRAY);
    int rc = 0;
    *out = NULL;
    if (!patch || !retain)
        goto nomem;
    for (size_t i = 0; i < mod->len; i++) {
        const struct reef__jstr *k = &mod->keys[i];
        const struct reef__jv *mv = mod->items[i];
        if (o.build_retain && mv->kind != REEF_JSON_NULL) {
            struct reef__jv *name = reef__jv_new_str(k->p, k->n);
            if (!name || reef__jv_push(retain, name) < 0)
                goto nomem;
        }
        long j = reef__jv_find(orig, k->p, k->n);
        if (j < 0) {
            if (!o.ignore_changes && (rc = put(patch, k->p, k->n, mv, err)) < 0)
                goto out;
            continue;
        }
        const struct reef__jv *ov = orig->items[j];
        if (k->n == 6 && memcmp(k->p, "$patch", 6) == 0) {
            if (ov->kind != REEF_JSON_STRING || mv->kind != REEF_JSON_STRING) {
                rc = reef_err_set(err, -EINVAL, "invalid value for special key: $patch");
                goto out;
            }
            if (!reef__jv_equal(ov, mv) && (rc = put(patch, k->p, k->n, mv, err)) < 0)
                goto out;
            continue;
        }
        if (ov->kind != mv->kind) {
            if (!o.ignore_changes && (rc = put(patch, k->p, k->n, mv, err)) < 0)
                goto out;
            continue;
        }
        const struct reef__smp_field *f = reef__smp_lookup(t, k->p, k->n);
        if (mv->kind == REEF_JSON_OBJECT) {
            if (f && (f->strategy & REEF__SMP_REPLACE)) {
                if (!o.ignore_changes && (rc = put(patch, k->p, k->n, mv, err)) < 0)
                    goto out;
                continue;
            }
            struct diff_opts so = o;
            so.build_retain = f && (f->strategy & REEF__SMP_RETAIN_KEYS);
            struct reef__jv *pv;
            if ((rc = diff_maps(ov, mv, f ? f->type : NULL, so, &pv, err)) < 0)
                goto out;
            if (pv->len)
                rc = put_owned(patch, k->p, k->n, pv, err);
            else
                reef__jv_free(pv);
        } else if (mv->kind == REEF_JSON_ARRAY && f && (f->strategy & REEF__SMP_MERGE)) {
            struct diff_opts so = o;
            so.build_retain = f->strategy & REEF__SMP_RETAIN_KEYS;
            rc = diff_lists(k->p, k->n, ov, mv, f, so, patch, err);
        } else if (!o.ignore_changes && !reef__jv_equal(ov, mv)) {
            rc = put(patch, k->p, k->n, mv, err);
        }
        if (rc < 0)
            goto out;
    }
    if (!o.ignore_deletes) {
        for (size_t i = 0; i < orig->len; i++)
            if (reef__jv_find(mod, orig->keys[i].p, orig->keys[i].n) < 0 &&
                (rc = put(patch, orig->keys[i].p, orig->keys[i].n, NULL, err)) < 0)
                goto out;
    }
    if (retain->len) {
        bool extra = false; /* hasAdditionalNewField */
        for (size_t i = 0; i < orig->len && !extra; i++)
            extra = orig->items[i]->kind != REEF_JSON_NULL &&
                    reef__jv_find(mod, orig->keys[i].p, orig->keys[i].n) < 0;
        if (patch->len || extra) {
            qsort(retain->items, retain->len, sizeof(*retain->items), cmp_str);
            rc = put_owned(patch, "$retainKeys", 11, retain, err);
            retain = NULL;
            if (rc < 0)
                goto out;
        }
    }
    *out = patch;
    patch = NULL;
    rc = 0;
    goto out;
nomem:
    rc = nomem(err);
out:
    reef__jv_free(patch);
    reef__jv_free(retain);
    return rc;
}

/* Go's encoding/json writes map keys sorted by their bytes. */
static void sort_keys(struct reef__jv *v)
{
    for (size_t i = 0; i < v->len; i++)
        sort_keys(v->items[i]);
    if (v->kind != REEF_JSON_OBJECT)
        return;
    for (size_t i = 1; i < v->len; i++) {
        struct reef__jstr k = v->keys[i];
        struct reef__jv *val = v->items[i];
        size_t j = i;
        while (j > 0) {
            const struct reef__jstr *p = &v->keys[j - 1];
            size_t n = p->n < k.n ? p->n : k.n;
            int c = memcmp(p->p, k.p, n);
            if (c < 0 || (c == 0 && p->n <= k.n))
                break;
            v->keys[j] = v->keys[j - 1];
            v->items[j] = v->items[j - 1];
            j--;
        }
        v->keys[j] = k;
        v->items[j] = val;
    }
}

/* An object document, or an empty one for NULL/"" input. */
static struct reef__jv *parse_obj(const char *text, size_t len, const char *what,
                                  struct reef_err *err)
{
    if (!text || len == 0) {
        struct reef__jv *v = reef__jv_new(REEF_JSON_OBJECT);
        if (!v)
            nomem(err);
        return v;
    }
    struct reef__jv *v = reef__jv_parse(text, len, what, err);
    if (v && v->kind != REEF_JSON_OBJECT) {
        reef__jv_free(v);
        reef_err_set(err, -EINVAL, "%s: invalid JSON document", what);
        return NULL;
    }
    return v;
}

static int finish(struct reef__jv *patch, struct reef_buf *out, struct reef_err *err)
{
    sort_keys(patch);
    return reef__jv_to_buf(patch, out, err);
}

int reef_smp_create_three_way(const char *kind, const char *original, size_t original_len,
                              const char *modified, size_t modified_len, const char *current,
                              size_t current_len, struct reef_buf *out, struct reef_err *err)
{
    struct reef_err local;
    if (!err)
        err = &local;
    const struct reef__smp_type *root = reef__smp_root(kind);
    if (!root)
        return reef_err_set(err, -EOPNOTSUPP,
                            "strategic merge patch format is not supported for kind %.64s",
                            kind ? kind : "(none)");
    struct reef__jv *o = NULL, *m = NULL, *c = NULL, *delta = NULL, *deletions = NULL;
    int rc = -EINVAL;
    err->code = 0;
    if (!(o = parse_obj(original, original_len, "original", err)) ||
        !(m = parse_obj(modified, modified_len, "modified", err)) ||
        !(c = parse_obj(current, current_len, "current", err)))
        goto out;
    struct diff_opts dopt = {.set_order = true, .ignore_deletes = true};
    if ((rc = diff_maps(c, m, root, dopt, &delta, err)) < 0)
        goto out;
    struct diff_opts xopt = {.set_order = true, .ignore_changes = true};
    if ((rc = diff_maps(o, m, root, xopt, &deletions, err)) < 0)
        goto out;
    struct reef__smp_opts mo = {false, false};
    if ((rc = reef__smp_merge_map(&deletions, delta, root, &mo, err)) < 0)
        goto out;
    rc = finish(deletions, out, err);
out:
    if (rc < 0 && !err->code)
        rc = reef_err_set(err, -EINVAL, "invalid JSON document");
    else if (rc < 0)
        rc = err->code;
    reef__jv_free(o);
    reef__jv_free(m);
    reef__jv_free(c);
    reef__jv_free(delta);
    reef__jv_free(deletions);
    return rc;
}

int reef_smp_create_two_way(const char *kind, const char *original, size_t original_len,
                            const char *modified, size_t modified_len, struct reef_buf *out,
                            struct reef_err *err)
{
    struct reef_err local;
    if (!err)
        err = &local;
    const struct reef__smp_type *root = reef__smp_root(kind);
    if (!root)
        return reef_err_set(err, -EOPNOTSUPP,
                            "strategic merge patch format is not supported for kind %.64s",
                            kind ? kind : "(none)");
    err->code = 0;
    struct reef__jv *o = parse_obj(original, original_len, "original", err);
    struct reef__jv *m = o ? parse_obj(modified, modified_len, "modified", err) : NULL;
    struct reef__jv *patch = NULL;
    int rc = err->code ? err->code : -EINVAL;
    if (o && m) {
        struct diff_opts dopt = {.set_order = true};
        rc = diff_maps(o, m, root, dopt, &patch, err);
        if (rc == 0)
            rc = finish(patch, out, err);
    }
    reef__jv_free(o);
    reef__jv_free(m);
    reef__jv_free(patch);
    return rc;
}

/* kubectl's GetModifiedConfiguration(annotate=true). */
int reef_smp_last_applied(const char *manifest, size_t len, struct reef_buf *annotation,
                          struct reef_buf *modified, struct reef_err *err)
{
    static const char key[] = REEF_SMP_LAST_APPLIED;
    struct reef_err local;
    if (!err)
        err = &local;
    struct reef__jv *m = parse_obj(manifest, len, "manifest", err);
    struct reef_buf text = REEF_BUF_INIT;
    int rc = -EINVAL;
    if (!m)
        return err->code ? err->code : -EINVAL;
    if (!manifest || !len) {
        rc = reef_err_set(err, -EINVAL, "manifest: empty");
        goto out;
    }
    /* metadata and metadata.annotations become objects (an empty one when absent), without
     * the annotation itself: that is the text the annotation holds. */
    struct reef__jv *meta = reef__jv_get(m, "metadata"), *ann;
    if (!meta || meta->kind != REEF_JSON_OBJECT) {
        if (!(meta = reef__jv_new(REEF_JSON_OBJECT)) || reef__jv_set(m, "metadata", 8, meta) < 0)
            goto nomem;
    }
    ann = reef__jv_get(meta, "annotations");
    if (!ann || ann->kind != REEF_JSON_OBJECT) {
        if (!(ann = reef__jv_new(REEF_JSON_OBJECT)) ||
            reef__jv_set(meta, "annotations", 11, ann) < 0)
            goto nomem;
    }
    reef__jv_del(ann, key, strlen(key));
    sort_keys(m);
    if ((rc = reef__jv_to_buf(m, &text, err)) < 0 || (rc = reef_buf_putc(&text, '\n')) < 0)
        goto out;
    struct reef__jv *v = reef__jv_new_str(text.data, text.len);
    if (!v || reef__jv_set(ann, key, strlen(key), v) < 0)
        goto nomem;
    sort_keys(ann);
    if (annotation && (rc = reef_buf_append(annotation, text.data, text.len)) < 0)
        goto nomem;
    if (modified && (rc = reef__jv_to_buf(m, modified, err)) < 0)
        goto out;
    rc = 0;
    goto out;
nomem:
    rc = nomem(err);
out:
    reef_buf_free(&text);
    reef__jv_free(m);
    return rc;
}
