/* smp: applying a strategic merge patch (strategicpatch.StrategicMergePatch and mergeMap).
 *
 * The structure follows upstream's patch.go function by function (mergeMap, mergeSlice,
 * mergePatchIntoOriginal, normalizeElementOrder, ...), because kubectl computes patches against
 * exactly that behaviour, including how lists are ordered afterwards: items named by the patch in
 * the patch's (or $setElementOrder's) order, interleaved with the items only the server had in
 * their old order.
 *
 * Where upstream leaves directives or nulls inside values it copies verbatim (a new container
 * carrying `$setElementOrder/env`), the typed decoding after the patch drops them; reef stores
 * JSON as it is, so on the server side such values are cleaned here instead. */
#include "orchestrate/smp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/patch.h"

#define DIRECTIVE "$patch"
#define RETAIN_KEYS "$retainKeys"
#define SET_ORDER "$setElementOrder"
#define DELETE_PRIM "$deleteFromPrimitiveList"

/* Upstream compares lists pairwise; bound the work a hostile patch can cause. */
#define MAX_PAIRS 20000000.0

int reef__smp_check_cost(size_t a, size_t b, struct reef_err *err)
{
    if ((double)a * (double)(b ? b : 1) > MAX_PAIRS)
        return reef_err_set(err, -E2BIG, "strategic merge patch: lists too long to merge");
    return 0;
}

static bool has_prefix(const struct reef__jstr *k, const char *prefix)
{
    size_t n = strlen(prefix);
    return k->n >= n && memcmp(k->p, prefix, n) == 0;
}

static bool is_directive_key(const struct reef__jstr *k)
{
    return (k->n == strlen(DIRECTIVE) && has_prefix(k, DIRECTIVE)) ||
           (k->n == strlen(RETAIN_KEYS) && has_prefix(k, RETAIN_KEYS)) ||
           has_prefix(k, SET_ORDER "/") || has_prefix(k, DELETE_PRIM "/");
}

static bool is_delete_elem(const struct reef__jv *v)
{
    return v->kind == REEF_JSON_OBJECT && reef__jv_is_str(reef__jv_get(v, DIRECTIVE), "delete");
}

/* A value taken from the patch as it is, on the server side: without nulls (which would only
 * delete what is not there), directives, or list elements that delete. */
static void clean(struct reef__jv *v)
{
    for (size_t i = 0; i < v->len;) {
        struct reef__jv *c = v->items[i];
        bool drop = v->kind == REEF_JSON_OBJECT
                        ? c->kind == REEF_JSON_NULL || is_directive_key(&v->keys[i])
                        : is_delete_elem(c);
        if (drop) {
            reef__jv_free(reef__jv_take(v, i));
            continue;
        }
        clean(c);
        i++;
    }
}

/* A copy of patch value v for the result. */
static struct reef__jv *take_value(const struct reef__jv *v, const struct reef__smp_opts *o,
                                   struct reef_err *err)
{
    struct reef__jv *c = reef__jv_clone(v);
    if (!c) {
        reef_err_set(err, -ENOMEM, "out of memory");
        return NULL;
    }
    if (o->ignore_nulls)
        clean(c);
    return c;
}

static int set_copy(struct reef__jv *obj, const struct reef__jstr *k, const struct reef__jv *v,
                    const struct reef__smp_opts *o, struct reef_err *err)
{
    struct reef__jv *c = take_value(v, o, err);
    if (!c || reef__jv_set(obj, k->p, k->n, c) < 0)
        return reef_err_set(err, -ENOMEM, "out of memory");
    return 0;
}

/* %v */

static void go_float(double d, char *out, size_t size)
{
    /* fmt's %v: strconv's shortest 'g', which switches to %e when exp < -4 || exp >= 6
     * (fmt.Println(1000000.0) prints 1e+06). */
    char digits[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(digits, sizeof(digits), "%.*e", prec - 1, d);
        if (strtod(digits, NULL) == d)
            break;
    }
    int exp = atoi(strchr(digits, 'e') + 1);
    if (exp < -4 || exp >= 6) {
        char mant[32];
        snprintf(mant, sizeof(mant), "%.*s", (int)(strchr(digits, 'e') - digits), digits);
        snprintf(out, size, "%se%c%02d", mant, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    } else {
        int decimals = prec - 1 - exp;
        snprintf(out, size, "%.*f", decimals > 0 ? decimals : 0, d);
    }
}

int reef__smp_gofmt(const struct reef__jv *v, struct reef_buf *out)
{
    char tmp[64];
    switch (v->kind) {
    case REEF_JSON_STRING:
        return reef_buf_append(out, v->s.p, v->s.n);
    case REEF_JSON_NUMBER: {
        double d = strtod(v->s.p, NULL);
        if (!isfinite(d))
            return reef_buf_append(out, v->s.p, v->s.n);
        go_float(d, tmp, sizeof(tmp));
        return reef_buf_puts(out, tmp);
    }
    case REEF_JSON_BOOL:
        return reef_buf_puts(out, v->b ? "true" : "false");
    case REEF_JSON_NULL:
        return reef_buf_puts(out, "<nil>");
    default: {
        struct reef_err e;
        return reef__jv_to_buf(v, out, &e);
    }
    }
}

/* Element kinds */

int reef__smp_elem_kind(const struct reef__jv *a, const struct reef__jv *b,
                        enum reef_json_kind *kind, struct reef_err *err)
{
    *kind = REEF_JSON_NONE;
    const struct reef__jv *lists[2] = {a, b};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; lists[l] && i < lists[l]->len; i++) {
            enum reef_json_kind k = lists[l]->items[i]->kind;
            if (*kind == REEF_JSON_NONE) {
                if (k == REEF_JSON_ARRAY)
                    return reef_err_set(err, -EBADMSG, "lists of lists are not supported");
                *kind = k;
            } else if (k != *kind) {
                return reef_err_set(err, -EINVAL, "list element types are not identical");
            }
        }
    }
    if (*kind == REEF_JSON_NONE)
        return reef_err_set(err, -ENOENT, "no elements in any of the given slices");
    return 0;
}

/* Ordering (normalizeElementOrder and friends) */

static int no_merge_key(const struct reef__jv *elem, const char *mk, struct reef_err *err)
{
    struct reef_buf b = REEF_BUF_INIT;
    reef__jv_to_buf(elem, &b, NULL);
    int r = reef_err_set(err, -EINVAL, "map: %.120s does not contain declared merge key: %s",
                         b.data ? b.data : "", mk);
    reef_buf_free(&b);
    return r;
}

static int not_a_map(const struct reef__jv *elem, struct reef_err *err)
{
    return reef_err_set(err, -EINVAL, "expected a map in a merging list, found %s",
                        reef_json_kind_name(elem->kind));
}

/* The value elements are compared by: the merge key's value for lists of maps, else the element.
 * NULL when a map lacks the key (which matches another such map, as nil == nil in Go). */
static const struct reef__jv *cmp_value(const struct reef__jv *e, const char *mk)
{
    if (!mk)
        return e;
    return e->kind == REEF_JSON_OBJECT ? reef__jv_get(e, mk) : NULL;
}

static bool same(const struct reef__jv *a, const struct reef__jv *b)
{
    if (!a || !b)
        return a == b;
    return reef__jv_equal(a, b);
}

/* index(): the first position in order whose value equals item's, or -1. */
static long index_of(const struct reef__jv *order, const struct reef__jv *item, const char *mk)
{
    const struct reef__jv *want = cmp_value(item, mk);
    for (size_t i = 0; order && i < order->len; i++)
        if (same(want, cmp_value(order->items[i], mk)))
            return (long)i;
    return -1;
}

/* validateMergeKeyInLists */
static int check_keys(const struct reef__jv *list, const char *mk, struct reef_err *err)
{
    for (size_t i = 0; list && i < list->len; i++) {
        if (list->items[i]->kind != REEF_JSON_OBJECT)
            return not_a_map(list->items[i], err);
        if (!reef__jv_get(list->items[i], mk))
            return no_merge_key(list->items[i], mk, err);
    }
    return 0;
}

struct ranked {
    long pos;
    struct reef__jv *v;
};

/* sort.SliceStable with upstream's less: by position when both are in the order list, and
 * "less" whenever either is not, which only an insertion sort reproduces exactly. Go's stable sort
 * is an insertion sort for up to 20 elements; longer lists whose elements are all found sort the
 * same with any stable sort, and the rare rest is approximated by putting the unknown first. */
static void rank_sort(struct ranked *r, size_t n)
{
    if (n <= 20) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0; j--) {
                bool less = r[j].pos >= 0 && r[j - 1].pos >= 0 ? r[j].pos < r[j - 1].pos : true;
                if (!less)
                    break;
                struct ranked t = r[j];
                r[j] = r[j - 1];
                r[j - 1] = t;
            }
        return;
    }
    /* Bottom-up merge sort, stable. */
    struct ranked *tmp = malloc(n * sizeof(*tmp));
    if (!tmp) {
        /* Fall back to the quadratic sort rather than fail: n is bounded by the patch. */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && r[j].pos < r[j - 1].pos; j--) {
                struct ranked t = r[j];
                r[j] = r[j - 1];
                r[j - 1] = t;
            }
        return;
    }
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid || b < hi)
                tmp[k++] = (b >= hi || (a < mid && r[a].pos <= r[b].pos)) ? r[a++] : r[b++];
        }
        memcpy(r, tmp, n * sizeof(*r));
    }
    free(tmp);
}

int reef__smp_sort_by_order(struct reef__jv *list, const struct reef__jv *order, const char *mk,
                            struct reef_err *err)
{
    int rc;
    if (mk && ((rc = check_keys(list, mk, err)) < 0 || (rc = check_keys(order, mk, err)) < 0))
        return rc;
    if (list->len < 2)
        return 0;
    if ((rc = reef__smp_check_cost(list->len, order ? order->len : 0, err)) < 0)
        return rc;
    struct ranked *r = malloc(list->len * sizeof(*r));
    if (!r)
        return reef_err_set(err, -ENOMEM, "out of memory");
    size_t n = 0;
    /* Deletions are taken out first and put back at the end, in their order. */
    for (size_t i = 0; i < list->len; i++)
        if (!mk || !is_delete_elem(list->items[i]))
            r[n++] = (struct ranked){index_of(order, list->items[i], mk), list->items[i]};
    size_t keep = n;
    rank_sort(r, keep);
    for (size_t i = 0; i < list->len; i++)
        if (mk && is_delete_elem(list->items[i]))
            r[n++] = (struct ranked){-1, list->items[i]};
    for (size_t i = 0; i < n; i++)
        list->items[i] = r[i].v;
    free(r);
    return 0;
}

/* Moves every element of merged into patch_items (those found in by) or server_only. */
static int partition(struct reef__jv *merged, const struct reef__jv *by, const char *mk,
                     struct reef__jv *patch_items, struct reef__jv *server_only,
                     struct reef_err *err)
{
    int rc;
    if (mk && (rc = check_keys(merged, mk, err)) < 0)
        return rc;
    if ((rc = reef__smp_check_cost(merged->len, by ? by->len : 0, err)) < 0)
        return rc;
    while (merged->len) {
        struct reef__jv *e = reef__jv_take(merged, 0);
        bool found = false;
        for (size_t i = 0; by && i < by->len && !found; i++) {
            if (mk && by->items[i]->kind != REEF_JSON_OBJECT) {
                reef__jv_free(e);
                return not_a_map(by->items[i], err);
            }
            const struct reef__jv *bv = mk ? reef__jv_get(by->items[i], mk) : by->items[i];
            found = bv && same(cmp_value(e, mk), bv);
        }
        if (reef__jv_push(found ? patch_items : server_only, e) < 0)
            return reef_err_set(err, -ENOMEM, "out of memory");
    }
    return 0;
}

/* normalizeElementOrder + mergeSortedSlice: the patch's items in patch_order, the server's own
 * items in server_order, interleaved by their places in server_order. Consumes both lists and
 * returns the result in *out. */
static int normalize(struct reef__jv *patch_items, struct reef__jv *server_only,
                     const struct reef__jv *patch_order, const struct reef__jv *server_order,
                     const char *mk, struct reef__jv **out, struct reef_err *err)
{
    int rc;
    *out = NULL;
    if ((rc = reef__smp_sort_by_order(patch_items, patch_order, mk, err)) < 0 ||
        (rc = reef__smp_sort_by_order(server_only, server_order, mk, err)) < 0)
        return rc;
    /* Room for every element up front, so that moving them cannot fail half way. */
    struct reef__jv *all = reef__jv_new(REEF_JSON_ARRAY);
    size_t total = server_only->len + patch_items->len;
    if (!all || !(all->items = malloc((total ? total : 1) * sizeof(*all->items)))) {
        reef__jv_free(all);
        return reef_err_set(err, -ENOMEM, "out of memory");
    }
    all->cap = total ? total : 1;
    size_t i = 0, j = 0;
    while (i < server_only->len || j < patch_items->len) {
        struct reef__jv *e;
        if (i >= server_only->len) {
            e = patch_items->items[j++];
        } else if (j >= patch_items->len) {
            e = server_only->items[i++];
        } else {
            long li = index_of(server_order, server_only->items[i], mk);
            long ri = index_of(server_order, patch_items->items[j], mk);
            e = li >= 0 && ri >= 0 && li < ri ? server_only->items[i++] : patch_items->items[j++];
        }
        all->items[all->len++] = e;
    }
    /* Every element now belongs to all. */
    server_only->len = 0;
    patch_items->len = 0;
    *out = all;
    return 0;
}

/* mergeSlice */

/* mergeSliceWithSpecialElements: applies `$patch: delete` elements to orig and collects the
 * rest of the patch into plain (borrowed pointers). Sets *replace for `$patch: replace`. */
static int special_elements(struct reef__jv *orig, const struct reef__jv *patch, const char *mk,
                            struct reef__jv *plain, bool *replace, struct reef_err *err)
{
    *replace = false;
    for (size_t i = 0; i < patch->len; i++) {
        struct reef__jv *e = patch->items[i];
        struct reef__jv *d = reef__jv_get(e, DIRECTIVE);
        if (!d) {
            if (reef__jv_push(plain, e) < 0)
                return reef_err_set(err, -ENOMEM, "out of memory");
            continue;
        }
        if (reef__jv_is_str(d, "delete")) {
            const struct reef__jv *kv = reef__jv_get(e, mk);
            if (!kv)
                return no_merge_key(e, mk, err);
            /* deleteMatchingEntry: one element per directive, so that duplicates can be
             * removed one at a time. */
            for (size_t j = 0; j < orig->len; j++) {
                if (orig->items[j]->kind != REEF_JSON_OBJECT)
                    return reef_err_set(err, -EINVAL, "value for key %zu is not a map", j);
                if (same(reef__jv_get(orig->items[j], mk), kv)) {
                    reef__jv_free(reef__jv_take(orig, j));
                    break;
                }
            }
        } else if (reef__jv_is_str(d, "replace")) {
            *replace = true;
        } else if (reef__jv_is_str(d, "merge")) {
            return reef_err_set(err, -EINVAL, "merging lists cannot yet be specified in the patch");
        } else {
            struct reef_buf b = REEF_BUF_INIT;
            reef__smp_gofmt(d, &b);
            int r = reef_err_set(err, -EINVAL, "unknown patch type: %.64s in map", b.data);
            reef_buf_free(&b);
            return r;
        }
    }
    return 0;
}

/* Empties a list of borrowed pointers without freeing them, then frees it. */
static void free_borrowed(struct reef__jv *list)
{
    if (list)
        list->len = 0;
    reef__jv_free(list);
}

static int merge_slice(struct reef__jv **orig_io, struct reef__jv *patch, const char *mk,
                       const struct reef__smp_type *elem_type, const struct reef__smp_opts *o,
                       bool delete_list, struct reef_err *err)
{
    struct reef__jv *orig = *orig_io;
    if (orig->len == 0 && patch->len == 0)
        return 0;
    enum reef_json_kind kind;
    int rc = reef__smp_elem_kind(orig, patch, &kind, err);
    if (rc < 0)
        return rc;
    if ((rc = reef__smp_check_cost(orig->len + patch->len, patch->len, err)) < 0)
        return rc;

    struct reef__jv *plain = NULL, *server_order = NULL, *pi = NULL, *so = NULL, *all = NULL;
    const struct reef__jv *patch_order = patch;
    if (kind != REEF_JSON_OBJECT) {
        mk = NULL;
        if (o->parallel && delete_list) {
            for (size_t j = 0; j < orig->len;) {
                if (index_of(patch, orig->items[j], NULL) >= 0)
                    reef__jv_free(reef__jv_take(orig, j));
                else
                    j++;
            }
            return 0;
        }
        server_order = reef__jv_clone(orig);
        if (!server_order)
            goto nomem;
        for (size_t i = 0; i < patch->len; i++) {
            struct reef__jv *c = reef__jv_clone(patch->items[i]);
            if (!c || reef__jv_push(orig, c) < 0)
                goto nomem;
        }
        /* deduplicateScalars; the order is settled by normalize below. */
        for (size_t i = 0; i < orig->len; i++)
            for (size_t j = orig->len - 1; j > i; j--)
                if (reef__jv_equal(orig->items[i], orig->items[j]))
                    reef__jv_free(reef__jv_take(orig, j));
    } else {
        if (!mk) {
            rc = reef_err_set(err, -EINVAL, "cannot merge lists without merge key for type map");
            goto out;
        }
        plain = reef__jv_new(REEF_JSON_ARRAY);
        if (!plain)
            goto nomem;
        bool replace;
        if ((rc = special_elements(orig, patch, mk, plain, &replace, err)) < 0)
            goto out;
        if (replace) {
            /* The patch's plain elements are the whole list. */
            struct reef__jv *n = reef__jv_new(REEF_JSON_ARRAY);
            if (!n)
                goto nomem;
            for (size_t i = 0; i < plain->len; i++) {
                struct reef__jv *c = take_value(plain->items[i], o, err);
                if (!c || reef__jv_push(n, c) < 0) {
                    reef__jv_free(n);
                    goto nomem;
                }
            }
            reef__jv_free(orig);
            *orig_io = orig = n;
            plain->len = 0;
        }
        server_order = reef__jv_clone(orig);
        if (!server_order)
            goto nomem;
        /* mergeSliceWithoutSpecialElements */
        for (size_t i = 0; i < plain->len; i++) {
            struct reef__jv *pe = plain->items[i];
            const struct reef__jv *kv = reef__jv_get(pe, mk);
            if (!kv) {
                rc = no_merge_key(pe, mk, err);
                goto out;
            }
            long found = -1;
            for (size_t j = 0; j < orig->len && found < 0; j++) {
                if (orig->items[j]->kind != REEF_JSON_OBJECT) {
                    rc = reef_err_set(err, -EINVAL, "value for key %zu is not a map", j);
                    goto out;
                }
                if (same(reef__jv_get(orig->items[j], mk), kv))
                    found = (long)j;
            }
            if (found >= 0) {
                /* mergeMap consumes its patch; merge a copy, the element stays for ordering. */
                struct reef__jv *pc = reef__jv_clone(pe);
                if (!pc)
                    goto nomem;
                rc = reef__smp_merge_map(&orig->items[found], pc, elem_type, o, err);
                reef__jv_free(pc);
                if (rc < 0)
                    goto out;
            } else {
                struct reef__jv *c = take_value(pe, o, err);
                if (!c || reef__jv_push(orig, c) < 0)
                    goto nomem;
            }
        }
        patch_order = plain;
    }

    pi = reef__jv_new(REEF_JSON_ARRAY);
    so = reef__jv_new(REEF_JSON_ARRAY);
    if (!pi || !so)
        goto nomem;
    if ((rc = partition(orig, patch_order, mk, pi, so, err)) < 0)
        goto out;
    if ((rc = normalize(pi, so, patch_order, server_order, mk, &all, err)) < 0)
        goto out;
    reef__jv_free(orig);
    *orig_io = all;
    rc = 0;
    goto out;
nomem:
    rc = reef_err_set(err, -ENOMEM, "out of memory");
out:
    free_borrowed(plain);
    reef__jv_free(server_order);
    reef__jv_free(pi);
    reef__jv_free(so);
    return rc;
}

/* mergeSliceHandler: merge lists merge, all others are replaced by the patch's. */
static int merge_slice_handler(struct reef__jv **orig, struct reef__jv *patch,
                               const struct reef__smp_field *f, bool delete_list,
                               const struct reef__smp_opts *o, struct reef_err *err)
{
    if (f && (f->strategy & REEF__SMP_MERGE))
        return merge_slice(orig, patch, f->merge_key, f->type, o, delete_list, err);
    struct reef__jv *c = take_value(patch, o, err);
    if (!c)
        return -ENOMEM;
    reef__jv_free(*orig);
    *orig = c;
    return 0;
}

/* Directives in maps */

static int bad_format(struct reef_err *err, const char *what)
{
    return reef_err_set(err, -EBADMSG, "invalid patch format of %s", what);
}

/* applyRetainKeysDirective */
static int retain_keys(struct reef__jv *orig, struct reef__jv *patch,
                       const struct reef__smp_opts *o, struct reef_err *err)
{
    long i = reef__jv_find(patch, RETAIN_KEYS, strlen(RETAIN_KEYS));
    if (i < 0)
        return 0;
    struct reef__jv *list = reef__jv_take(patch, (size_t)i);
    int rc = 0;
    if (!o->parallel) {
        struct reef__jv *have = reef__jv_get(orig, RETAIN_KEYS);
        if (have) {
            if (!reef__jv_equal(have, list))
                rc = reef_err_set(err, -EINVAL,
                                  "$retainKeys lists are not deep equal: this may happen when "
                                  "calculating the 3-way diff patch");
            reef__jv_free(list);
        } else if (reef__jv_set(orig, RETAIN_KEYS, strlen(RETAIN_KEYS), list) < 0) {
            rc = reef_err_set(err, -ENOMEM, "out of memory");
        }
        return rc;
    }
    if (list->kind != REEF_JSON_ARRAY) {
        reef__jv_free(list);
        return bad_format(err, "retainKeys");
    }
    for (size_t k = 0; k < patch->len; k++) {
        if (patch->items[k]->kind == REEF_JSON_NULL || has_prefix(&patch->keys[k], DELETE_PRIM) ||
            has_prefix(&patch->keys[k], SET_ORDER))
            continue;
        struct reef__jv *name = reef__jv_new_str(patch->keys[k].p, patch->keys[k].n);
        bool found = name && index_of(list, name, NULL) >= 0;
        reef__jv_free(name);
        if (!found) {
            reef__jv_free(list);
            return bad_format(err, "retainKeys");
        }
    }
    for (size_t k = 0; k < orig->len;) {
        struct reef__jv *name = reef__jv_new_str(orig->keys[k].p, orig->keys[k].n);
        bool keep = name && index_of(list, name, NULL) >= 0;
        reef__jv_free(name);
        if (keep)
            k++;
        else
            reef__jv_free(reef__jv_take(orig, k));
    }
    reef__jv_free(list);
    return 0;
}

/* validatePatchWithSetOrderList: the patch's items appear in the order list, in its order. */
static int check_order(const struct reef__jv *patch_list, const struct reef__jv *order,
                       const char *mk, struct reef_err *err)
{
    if (!patch_list || !order->len || !patch_list->len)
        return 0;
    size_t pi = 0, si = 0;
    int rc;
    if ((rc = reef__smp_check_cost(patch_list->len, 1, err)) < 0)
        return rc;
    while (pi < patch_list->len && si < order->len) {
        const struct reef__jv *p = patch_list->items[pi];
        if (mk && p->kind != REEF_JSON_OBJECT)
            return not_a_map(p, err);
        if (mk && (is_delete_elem(p) || reef__jv_get(p, DIRECTIVE))) {
            pi++;
            continue;
        }
        const struct reef__jv *s = order->items[si];
        bool eq;
        if (mk) {
            if (s->kind != REEF_JSON_OBJECT)
                return not_a_map(s, err);
            if (!reef__jv_get(p, mk))
                return no_merge_key(p, mk, err);
            if (!reef__jv_get(s, mk))
                return no_merge_key(s, mk, err);
            eq = same(reef__jv_get(p, mk), reef__jv_get(s, mk));
        } else {
            eq = same(p, s);
        }
        if (eq)
            pi++;
        si++;
    }
    /* Deletions do not count; were any of the rest left unmatched? */
    for (; pi < patch_list->len; pi++) {
        const struct reef__jv *p = patch_list->items[pi];
        if (!(mk && (is_delete_elem(p) || reef__jv_get(p, DIRECTIVE))))
            return reef_err_set(err, -EINVAL,
                                "the order in the patch list doesn't match the %s list", SET_ORDER);
    }
    return 0;
}

/* mergePatchIntoOriginal: one $setElementOrder/<key> directive at patch->keys[di]. */
static int set_element_order(struct reef__jv *orig, struct reef__jv *patch, size_t di,
                             const struct reef__smp_type *t, const struct reef__smp_opts *o,
                             struct reef_err *err)
{
    struct reef__jstr dk = patch->keys[di];
    char *key = reef_strndup(dk.p + strlen(SET_ORDER "/"), dk.n - strlen(SET_ORDER "/"));
    size_t key_n = dk.n - strlen(SET_ORDER "/");
    struct reef__jv *order = NULL, *server_order = NULL, *merged = NULL, *pi = NULL, *so = NULL;
    struct reef__jv *all = NULL;
    int rc = 0;
    if (!key)
        goto nomem;
    if (!o->parallel) {
        struct reef__jv *have = reef__jv_get(orig, patch->keys[di].p);
        if (have && !reef__jv_equal(have, patch->items[di])) {
            rc = bad_format(err, "setElementOrder list");
            goto out;
        }
        if (!have) {
            struct reef__jv *c = reef__jv_clone(patch->items[di]);
            if (!c || reef__jv_set(orig, dk.p, dk.n, c) < 0)
                goto nomem;
        }
    }
    order = reef__jv_take(patch, di);
    if (order->kind != REEF_JSON_ARRAY) {
        rc = bad_format(err, "setElementOrder list");
        goto out;
    }
    long oi = reef__jv_find(orig, key, key_n), pj = reef__jv_find(patch, key, key_n);
    struct reef__jv *ol = oi >= 0 ? orig->items[oi] : NULL;
    struct reef__jv *pl = pj >= 0 ? patch->items[pj] : NULL;
    if ((ol && ol->kind != REEF_JSON_ARRAY) || (pl && pl->kind != REEF_JSON_ARRAY)) {
        rc = reef_err_set(err, -EINVAL, "%s/%s: the field is not a list", SET_ORDER, key);
        goto out;
    }
    const struct reef__smp_field *f = reef__smp_lookup(t, key, key_n);
    const char *mk = f ? f->merge_key : NULL;
    if ((rc = check_order(pl, order, mk, err)) < 0)
        goto out;
    if (!ol && !pl)
        goto out;
    enum reef_json_kind kind;
    if ((rc = reef__smp_elem_kind(ol, pl, &kind, err)) < 0)
        goto out;
    if (kind != REEF_JSON_OBJECT && mk) {
        rc = not_a_map(ol && ol->len ? ol->items[0] : pl->items[0], err);
        goto out;
    }
    if (ol && !(server_order = reef__jv_clone(ol)))
        goto nomem;
    if (ol && pl) {
        if ((rc = merge_slice_handler(&orig->items[oi], pl, f, false, o, err)) < 0)
            goto out;
        merged = reef__jv_take(orig, (size_t)oi);
    } else if (ol) {
        merged = reef__jv_take(orig, (size_t)oi);
    } else {
        if (!(merged = take_value(pl, o, err)))
            goto nomem;
    }
    pi = reef__jv_new(REEF_JSON_ARRAY);
    so = reef__jv_new(REEF_JSON_ARRAY);
    if (!pi || !so)
        goto nomem;
    if ((rc = partition(merged, order, mk, pi, so, err)) < 0)
        goto out;
    if ((rc = normalize(pi, so, order, server_order, mk, &all, err)) < 0)
        goto out;
    /* Back at its old place when it was there (take removed it; set appends). */
    if (reef__jv_set(orig, key, key_n, all) < 0) {
        all = NULL;
        goto nomem;
    }
    if (oi >= 0 && (size_t)oi < orig->len - 1) {
        struct reef__jv *v = orig->items[orig->len - 1];
        struct reef__jstr k = orig->keys[orig->len - 1];
        size_t n = orig->len - 1 - (size_t)oi;
        memmove(orig->items + oi + 1, orig->items + oi, n * sizeof(*orig->items));
        memmove(orig->keys + oi + 1, orig->keys + oi, n * sizeof(*orig->keys));
        orig->items[oi] = v;
        orig->keys[oi] = k;
    }
    all = NULL;
    reef__jv_del(patch, key, key_n);
    rc = 0;
    goto out;
nomem:
    rc = reef_err_set(err, -ENOMEM, "out of memory");
out:
    free(key);
    reef__jv_free(order);
    reef__jv_free(server_order);
    reef__jv_free(merged);
    reef__jv_free(pi);
    reef__jv_free(so);
    reef__jv_free(all);
    return rc;
}

/* mergeMap */

int reef__smp_merge_map(struct reef__jv **orig_io, struct reef__jv *patch,
                        const struct reef__smp_type *t, const struct reef__smp_opts *o,
                        struct reef_err *err)
{
    struct reef__jv *d = reef__jv_get(patch, DIRECTIVE);
    if (d) {
        struct reef__jv *n;
        if (reef__jv_is_str(d, "replace")) {
            reef__jv_del(patch, DIRECTIVE, strlen(DIRECTIVE));
            n = take_value(patch, o, err);
        } else if (reef__jv_is_str(d, "delete")) {
            n = reef__jv_new(REEF_JSON_OBJECT);
        } else {
            struct reef_buf b = REEF_BUF_INIT;
            reef__smp_gofmt(d, &b);
            int r = reef_err_set(err, -EINVAL, "unknown patch type: %.64s in map", b.data);
            reef_buf_free(&b);
            return r;
        }
        if (!n)
            return reef_err_set(err, -ENOMEM, "out of memory");
        reef__jv_free(*orig_io);
        *orig_io = n;
        return 0;
    }
    if (!*orig_io && !(*orig_io = reef__jv_new(REEF_JSON_OBJECT)))
        return reef_err_set(err, -ENOMEM, "out of memory");
    struct reef__jv *orig = *orig_io;
    int rc = retain_keys(orig, patch, o, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < patch->len;) {
        if (has_prefix(&patch->keys[i], SET_ORDER "/")) {
            if ((rc = set_element_order(orig, patch, i, t, o, err)) < 0)
                return rc;
            i = 0; /* members before i may have moved */
            continue;
        }
        if (has_prefix(&patch->keys[i], SET_ORDER))
            return bad_format(err, "setElementOrder list");
        i++;
    }

    for (size_t i = 0; i < patch->len; i++) {
        struct reef__jstr k = patch->keys[i];
        struct reef__jv *pv = patch->items[i];
        bool delete_list = false;
        if (has_prefix(&k, DELETE_PRIM)) {
            if (!o->parallel) {
                if ((rc = set_copy(orig, &k, pv, o, err)) < 0)
                    return rc;
                continue;
            }
            if (!has_prefix(&k, DELETE_PRIM "/"))
                return bad_format(err, "primitive list");
            k.p += strlen(DELETE_PRIM "/");
            k.n -= strlen(DELETE_PRIM "/");
            delete_list = true;
        }
        if (pv->kind == REEF_JSON_NULL) {
            reef__jv_del(orig, k.p, k.n);
            if (o->ignore_nulls)
                continue;
        }
        long j = reef__jv_find(orig, k.p, k.n);
        if (j < 0 || orig->items[j]->kind != pv->kind || pv->kind == REEF_JSON_NULL) {
            if (!delete_list && (rc = set_copy(orig, &k, pv, o, err)) < 0)
                return rc;
            continue;
        }
        const struct reef__smp_field *f = reef__smp_lookup(t, k.p, k.n);
        if (pv->kind == REEF_JSON_OBJECT) {
            if (f && (f->strategy & REEF__SMP_REPLACE))
                rc = set_copy(orig, &k, pv, o, err);
            else
                rc = reef__smp_merge_map(&orig->items[j], pv, f ? f->type : NULL, o, err);
        } else if (pv->kind == REEF_JSON_ARRAY) {
            rc = merge_slice_handler(&orig->items[j], pv, f, delete_list, o, err);
        } else {
            rc = set_copy(orig, &k, pv, o, err);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int reef_smp_apply(const char *kind, const char *doc, size_t doc_len, const char *patch,
                   size_t patch_len, struct reef_buf *out, struct reef_err *err)
{
    struct reef_err local;
    if (!err)
        err = &local;
    const struct reef__smp_type *root = reef__smp_root(kind);
    if (!root)
        return reef_err_set(err, -EOPNOTSUPP,
                            "strategic merge patch format is not supported for kind %.64s",
                            kind ? kind : "(none)");
    struct reef__jv *p = reef__jv_parse(patch, patch_len, "strategic merge patch", err);
    if (!p)
        return err->code == -EINVAL ? (err->code = -EBADMSG) : err->code;
    struct reef__jv *d = reef__jv_parse(doc, doc_len, "document", err);
    if (!d) {
        reef__jv_free(p);
        return err->code ? err->code : -EINVAL;
    }
    int rc;
    if (p->kind != REEF_JSON_OBJECT || d->kind != REEF_JSON_OBJECT) {
        rc = reef_err_set(err, p->kind != REEF_JSON_OBJECT ? -EBADMSG : -EINVAL,
                          "invalid JSON document");
    } else {
        struct reef__smp_opts o = {true, true};
        rc = reef__smp_merge_map(&d, p, root, &o, err);
        if (rc == -EINVAL || rc == -EBADMSG)
            reef_err_wrap(err, "strategic merge patch");
        if (rc == 0)
            rc = reef__jv_to_buf(d, out, err);
    }
    reef__jv_free(d);
    reef__jv_free(p);
    return rc;
}
