/* smp: Kubernetes strategic merge patch, applied (the API server's PATCH with
 * `application/strategic-merge-patch+json`) and computed (the three-way patch `reef apply` sends,
 * exactly as kubectl's client-side apply computes it).
 *
 * The rules are k8s.io/apimachinery/pkg/util/strategicpatch's, driven by a table of the
 * `patchStrategy`/`patchMergeKey` struct tags of the built-in types reef serves (Pod, Service,
 * Deployment, ReplicaSet, ConfigMap, Secret, Namespace, Node, Endpoints, Event, Lease,
 * EndpointSlice):
 *  - maps merge recursively and a null value deletes a key;
 *  - lists with strategy `merge` and a merge key (containers by name, ports by containerPort or
 *    port, env by name, ...) merge element by element; `merge` lists of scalars (finalizers) are
 *    set unions; every other list is replaced whole;
 *  - directives: `$patch: replace|delete|merge`, `$deleteFromPrimitiveList/<field>`,
 *    `$setElementOrder/<field>`, `$retainKeys` (strategy `retainKeys`: Deployment strategy,
 *    volumes).
 * Fields the table does not know merge as maps and replace as lists.
 *
 * Pure functions over JSON text: no I/O, no global state; any thread may call them. Results are
 * compact JSON. An applied patch keeps the document's member order and appends new members in
 * the patch's order; a computed patch has its object keys sorted, as Go's encoding/json writes
 * kubectl's. */
#ifndef REEF_ORCHESTRATE_SMP_H
#define REEF_ORCHESTRATE_SMP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

/* Whether strategic merge patch is defined for kind ("Deployment", "Pod", ...). Other kinds
 * (custom resources) get 415 from the API server, as upstream. */
bool reef_smp_supports(const char *kind);

/* Applies strategic merge patch `patch` to the object `doc` of kind `kind` and appends the result
 * to out (the caller's). Returns 0; -EBADMSG for a malformed patch, where upstream answers 400
 * (not JSON, not an object, `invalid patch format of retainKeys|primitive list|setElementOrder
 * list`, lists of lists); -EINVAL for a patch that does not apply, where upstream answers 422
 * (`strategic merge patch: map: {...} does not contain declared merge key: name`,
 * `unknown patch type: x in map`), or a stored document that is not an object; -EOPNOTSUPP for
 * a kind without strategic merge patch (415); -E2BIG; -ENOMEM. Nothing is appended on failure. */
int reef_smp_apply(const char *kind, const char *doc, size_t doc_len, const char *patch,
                   size_t patch_len, struct reef_buf *out, struct reef_err *err);

/* The three-way patch of kubectl's client-side apply (strategicpatch.CreateThreeWayMergePatch with
 * overwrite): `original` is the last-applied configuration (the annotation; NULL or "" when there
 * is none), `modified` the new manifest (with its own last-applied annotation already set, as
 * kubectl does), `current` the live object. The patch, appended to out, changes what modified
 * changes relative to current, and deletes what modified removed relative to original, leaving
 * fields that only the server set alone. It is exactly "{}" when nothing needs to change, which
 * is how `apply` knows to print "unchanged". Returns 0, -EINVAL (bad JSON, lists without their
 * merge keys), -EOPNOTSUPP, -ENOMEM. */
int reef_smp_create_three_way(const char *kind, const char *original, size_t original_len,
                              const char *modified, size_t modified_len, const char *current,
                              size_t current_len, struct reef_buf *out, struct reef_err *err);

#define REEF_SMP_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* What kubectl apply sends for a manifest (GetModifiedConfiguration): the manifest with
 * metadata.annotations (created empty when absent) holding REEF_SMP_LAST_APPLIED = the manifest
 * itself without that annotation, as compact JSON with sorted keys and a final newline. Appends
 * that annotation text to annotation and the whole object (sorted keys) to modified; either may be
 * NULL. Use the annotation of the live object as the next three-way `original`. Returns 0,
 * -EINVAL (not a JSON object), -ENOMEM. */
int reef_smp_last_applied(const char *manifest, size_t len, struct reef_buf *annotation,
                          struct reef_buf *modified, struct reef_err *err);

/* The two-way patch that turns original into modified (CreateTwoWayMergePatch). */
int reef_smp_create_two_way(const char *kind, const char *original, size_t original_len,
                            const char *modified, size_t modified_len, struct reef_buf *out,
                            struct reef_err *err);

/* Internal: the schema table (smp_schema.c) and the shared pieces of smp.c and smp_diff.c. */

enum {
    REEF__SMP_MERGE = 1,       /* patchStrategy:"merge" */
    REEF__SMP_REPLACE = 2,     /* patchStrategy:"replace" */
    REEF__SMP_RETAIN_KEYS = 4, /* patchStrategy:"retainKeys" (alone or with merge) */
};

struct reef__smp_type;

struct reef__smp_field {
    const char *name;
    unsigned strategy;
    const char *merge_key;             /* lists of maps with strategy merge */
    const struct reef__smp_type *type; /* the field's struct, or its element's; NULL: untyped */
};

struct reef__smp_type {
    const struct reef__smp_field *fields; /* ends with a NULL name */
};

/* The root type for kind, or NULL when unknown. */
const struct reef__smp_type *reef__smp_root(const char *kind);
/* Field key of type t; NULL when t is NULL or has no such field (then: no strategy, untyped). */
const struct reef__smp_field *reef__smp_lookup(const struct reef__smp_type *t, const char *key,
                                               size_t n);

struct reef__jv;

struct reef__smp_opts {
    bool parallel;     /* MergeParallelList: apply the parallel directive lists (server side) */
    bool ignore_nulls; /* IgnoreUnmatchedNulls: drop nulls that match nothing (server side) */
};

/* mergeMap: merges object patch into *orig (which may be NULL; it is replaced when a directive
 * says so). patch is consumed (members are taken out of it as they are processed). */
int reef__smp_merge_map(struct reef__jv **orig, struct reef__jv *patch,
                        const struct reef__smp_type *t, const struct reef__smp_opts *o,
                        struct reef_err *err);
/* The kind shared by the elements of a and b (either may be NULL): -EINVAL for mixed kinds or
 * lists of lists, -ENOENT when both are empty. */
int reef__smp_elem_kind(const struct reef__jv *a, const struct reef__jv *b,
                        enum reef_json_kind *kind, struct reef_err *err);
/* normalizeSliceOrder: sorts list (in place) by the position of each element (its merge key
 * value when mk is set) in order; elements with `$patch: delete` go last. */
int reef__smp_sort_by_order(struct reef__jv *list, const struct reef__jv *order, const char *mk,
                            struct reef_err *err);
/* fmt's %v of a JSON scalar, which upstream sorts merge keys and scalars by. */
int reef__smp_gofmt(const struct reef__jv *v, struct reef_buf *out);
/* Refuses lists whose pairwise comparison would cost more than a patch is worth. */
int reef__smp_check_cost(size_t a, size_t b, struct reef_err *err);

#endif
