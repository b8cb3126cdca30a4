/* selector: Kubernetes label selectors and field selectors, compiled once and matched against
 * parsed objects (core/json.h documents).
 *
 * Label selectors come as the `labelSelector` query string (`app=web,tier!=db,env in (a,b),
 * !legacy`) or as a LabelSelector object (`{"matchLabels":{..},"matchExpressions":[..]}` in a
 * Deployment, ReplicaSet or Service). Parsing follows k8s.io/apimachinery/pkg/labels: the same
 * tokens, the same validation of keys (an optional DNS-subdomain prefix of at most 253 characters,
 * '/', a name of at most 63) and values, and the same error texts, e.g.
 *   `unable to parse requirement: found '', expected: identifier`.
 *
 * Field selectors (`metadata.name=web,status.phase!=Failed`) follow
 * k8s.io/apimachinery/pkg/fields, and are checked against the fields the API server supports for
 * each resource: an unsupported one fails with `field label not supported: <field>`.
 *
 * A compiled selector is immutable and may be shared between threads; compiling allocates and
 * matching does not. */
#ifndef REEF_ORCHESTRATE_SELECTOR_H
#define REEF_ORCHESTRATE_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

/* Label selectors */

struct reef_label_selector;

enum reef_label_op {
    REEF_LABEL_EQUALS,        /* a=b */
    REEF_LABEL_DOUBLE_EQUALS, /* a==b */
    REEF_LABEL_NOT_EQUALS,    /* a!=b */
    REEF_LABEL_IN,            /* a in (x,y) */
    REEF_LABEL_NOT_IN,        /* a notin (x,y) */
    REEF_LABEL_EXISTS,        /* a */
    REEF_LABEL_NOT_EXISTS,    /* !a */
    REEF_LABEL_GT,            /* a>1 (integers, as in node affinity) */
    REEF_LABEL_LT,            /* a<1 */
};

/* Compiles the string form; "" selects everything. *out is set on success and freed with
 * reef_label_selector_free. Returns 0 or -EINVAL with the apiserver's message, -ENOMEM. Selectors
 * longer than 64 KiB are refused (-E2BIG). */
int reef_label_selector_parse(const char *s, struct reef_label_selector **out,
                              struct reef_err *err);

/* Compiles LabelSelector object v of d (metav1.LabelSelectorAsSelector): matchLabels become `=`
 * requirements, matchExpressions `In`/`NotIn`/`Exists`/`DoesNotExist` ones. An empty object selects
 * everything; JSON null (or v < 0, an absent selector) selects nothing. Errors as the apiserver's:
 * `"Foo" is not a valid label selector operator`, `values: Invalid value: ...`. */
int reef_label_selector_from_json(const struct reef_json_doc *d, int v,
                                  struct reef_label_selector **out, struct reef_err *err);

/* Compiles a plain map of labels (a Service's spec.selector, labels.SelectorFromSet): one `=`
 * requirement per member. An empty or absent map selects everything; callers for which an empty
 * Service selector means "select nothing" check for that first. Errors as above. */
int reef_label_selector_from_map(const struct reef_json_doc *d, int v,
                                 struct reef_label_selector **out, struct reef_err *err);

void reef_label_selector_free(struct reef_label_selector *sel);

/* Whether the labels object `labels` of d (a JSON object of strings; < 0 or null when the object
 * has no labels) satisfies every requirement. */
bool reef_label_selector_matches(const struct reef_label_selector *sel,
                                 const struct reef_json_doc *d, int labels);
/* Whether it selects everything / nothing (without looking at labels). */
bool reef_label_selector_empty(const struct reef_label_selector *sel);
bool reef_label_selector_is_nothing(const struct reef_label_selector *sel);

/* Appends the canonical string form (requirements sorted by key, set values sorted), e.g.
 * `app=web,env in (a,b),!legacy`, as the apiserver prints it (and `Scale.status.selector`
 * holds). 0 or -ENOMEM. A selector that selects nothing prints as "". */
int reef_label_selector_string(const struct reef_label_selector *sel, struct reef_buf *out);

/* For an index: when the selector requires key to equal one value (`key=v`, `key==v` or
 * `key in (v)`), that value (owned by sel); else NULL. */
const char *reef_label_selector_equal_value(const struct reef_label_selector *sel, const char *key);

/* Field selectors */

struct reef_field_selector;

/* Compiles s for resource (the plural, lower-case resource name: "pods", "events", "nodes", ...;
 * NULL accepts any dotted path, matched on the JSON). "" selects everything. Returns 0, or -EINVAL
 * with the apiserver's message: `invalid selector: 'x'; can't understand 'x'`,
 * `field label not supported: spec.foo`; -ENOMEM; -E2BIG over 64 KiB. */
int reef_field_selector_parse(const char *s, const char *resource, struct reef_field_selector **out,
                              struct reef_err *err);
void reef_field_selector_free(struct reef_field_selector *sel);

/* Whether object obj of d satisfies every term. A field that is absent reads as "". */
bool reef_field_selector_matches(const struct reef_field_selector *sel,
                                 const struct reef_json_doc *d, int obj);
bool reef_field_selector_empty(const struct reef_field_selector *sel);

/* For an index (metadata.name, metadata.namespace, spec.nodeName, status.phase, ...): the value a
 * `field=value` / `field==value` term requires, owned by sel; NULL when there is none. */
const char *reef_field_selector_equal_value(const struct reef_field_selector *sel,
                                            const char *field);

#endif
