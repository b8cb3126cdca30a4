/* selector_field: field selectors (k8s.io/apimachinery/pkg/fields), as the apiserver accepts them
 * per resource: `label=value`, `label==value` and `label!=value` terms joined by commas, with the
 * value unescaped like fields.UnescapeValue, and matched against the object's JSON. */
#include "orchestrate/selector.h"
#include "orchestrate/selector_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field selectors */

/* A field label the apiserver accepts for a resource, where its value is in the object, and
 * what an absent value reads as (Go's zero value, printed). */
struct field_def {
    const char *label;
    const char *path; /* reef_json_find path */
    const char *dflt;
};

#define META_FIELDS                                                                                \
    {                                                                                              \
        "metadata.name", "metadata.name", ""                                                       \
    }
#define NS_FIELD                                                                                   \
    {                                                                                              \
        "metadata.namespace", "metadata.namespace", ""                                             \
    }

static const struct field_def pod_fields[] = {
    META_FIELDS,
    NS_FIELD,
    {"spec.nodeName", "spec.nodeName", ""},
    {"spec.restartPolicy", "spec.restartPolicy", ""},
    {"spec.schedulerName", "spec.schedulerName", ""},
    {"spec.serviceAccountName", "spec.serviceAccountName", ""},
    {"spec.hostNetwork", "spec.hostNetwork", "false"},
    {"status.phase", "status.phase", ""},
    {"status.podIP", "status.podIP", ""},
    {"status.nominatedNodeName", "status.nominatedNodeName", ""},
    {0},
};
static const struct field_def event_fields[] = {
    META_FIELDS,
    NS_FIELD,
    {"involvedObject.kind", "involvedObject.kind", ""},
    {"involvedObject.namespace", "involvedObject.namespace", ""},
    {"involvedObject.name", "involvedObject.name", ""},
    {"involvedObject.uid", "involvedObject.uid", ""},
    {"involvedObject.apiVersion", "involvedObject.apiVersion", ""},
    {"involvedObject.resourceVersion", "involvedObject.resourceVersion", ""},
    {"involvedObject.fieldPath", "involvedObject.fieldPath", ""},
    {"reason", "reason", ""},
    {"reportingComponent", "reportingController", ""},
    {"source", "source.component", ""}, /* falls back to reportingController, see field_value */
    {"type", "type", ""},
    {0},
};
static const struct field_def node_fields[] = {
    META_FIELDS,
    {"spec.unschedulable", "spec.unschedulable", "false"},
    {0},
};
static const struct field_def namespace_fields[] = {
    META_FIELDS,
    {"status.phase", "status.phase", ""},
    {0},
};
static const struct field_def secret_fields[] = {META_FIELDS, NS_FIELD, {"type", "type", ""}, {0}};
static const struct field_def replicaset_fields[] = {
    META_FIELDS,
    NS_FIELD,
    {"status.replicas", "status.replicas", "0"},
    {0},
};
static const struct field_def service_fields[] = {
    META_FIELDS, NS_FIELD, {"spec.clusterIP", "spec.clusterIP", ""}, {"spec.type", "spec.type", ""},
    {0},
};
static const struct field_def default_fields[] = {META_FIELDS, NS_FIELD, {0}};
static const struct field_def cluster_fields[] = {META_FIELDS, {0}};

static const struct {
    const char *resource;
    const struct field_def *fields;
} resource_fields[] = {
    {"pods", pod_fields},
    {"events", event_fields},
    {"nodes", node_fields},
    {"namespaces", namespace_fields},
    {"secrets", secret_fields},
    {"replicasets", replicaset_fields},
    {"services", service_fields},
    {"persistentvolumes", cluster_fields},
    {"clusterroles", cluster_fields},
    {"clusterrolebindings", cluster_fields},
};

struct term {
    char *field;
    char *value;
    bool neg;
    const struct field_def *def; /* NULL: any dotted path */
    char *path;                  /* when def is NULL */
};

struct reef_field_selector {
    struct term *terms;
    size_t n;
};

void reef_field_selector_free(struct reef_field_selector *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++) {
        free(sel->terms[i].field);
        free(sel->terms[i].value);
        free(sel->terms[i].path);
    }
    free(sel->terms);
    free(sel);
}

/* fields.UnescapeValue: \\ \, \= are escapes; a bare , or = is an error. */
static int unescape(const char *s, size_t n, char **out, struct reef_err *err)
{
    char *v = malloc(n + 1);
    size_t o = 0;
    if (!v)
        return reef_err_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\') {
            if (i + 1 >= n) {
                free(v);
                return reef_err_set(err, -EINVAL,
                                    "invalid field selector: invalid escape sequence: \\");
            }
            c = s[++i];
            if (c != '\\' && c != ',' && c != '=') {
                free(v);
                return reef_err_set(err, -EINVAL,
                                    "invalid field selector: invalid escape sequence: \\%c", c);
            }
        } else if (c == ',' || c == '=') {
            free(v);
            return reef_err_set(err, -EINVAL, "invalid field selector: unescaped character: %c", c);
        }
        v[o++] = c;
    }
    v[o] = '\0';
    *out = v;
    return 0;
}

static const struct field_def *fields_for(const char *resource)
{
    for (size_t i = 0; i < REEF_ARRAY_LEN(resource_fields); i++)
        if (strcmp(resource_fields[i].resource, resource) == 0)
            return resource_fields[i].fields;
    return default_fields;
}

/* "a.b.c" as a reef_json_find path with each segment quoted, so that labels with odd characters
 * cannot be read as brackets. */
static char *quoted_path(const char *field)
{
    struct reef_buf b = REEF_BUF_INIT;
    const char *p = field;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        reef_buf_puts(&b, "[\"");
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '"' || p[i] == '\\')
                reef_buf_putc(&b, '\\');
            reef_buf_putc(&b, p[i]);
        }
        if (reef_buf_puts(&b, "\"]") < 0) {
            reef_buf_free(&b);
            return NULL;
        }
        if (!dot)
            break;
        p = dot + 1;
    }
    return reef_buf_steal(&b);
}

static int add_term(struct reef_field_selector *sel, const char *whole, const char *part, size_t n,
                    const char *resource, struct reef_err *err)
{
    /* splitTerm: the first position where "!=", "==" or "=" starts, tried in that order. */
    size_t i, oplen = 0;
    bool neg = false;
    for (i = 0; i < n; i++) {
        if (i + 1 < n && part[i] == '!' && part[i + 1] == '=') {
            oplen = 2;
            neg = true;
        } else if (i + 1 < n && part[i] == '=' && part[i + 1] == '=') {
            oplen = 2;
        } else if (part[i] == '=') {
            oplen = 1;
        }
        if (oplen)
            break;
    }
    if (!oplen)
        return reef_err_set(err, -EINVAL, "invalid selector: '%.100s'; can't understand '%.*s'",
                            whole, (int)(n > 100 ? 100 : n), part);
    struct term t = {0};
    t.neg = neg;
    t.field = reef_strndup(part, i);
    if (!t.field)
        return reef_err_set(err, -ENOMEM, "out of memory");
    int r = unescape(part + i + oplen, n - i - oplen, &t.value, err);
    if (r < 0) {
        free(t.field);
        return r;
    }
    if (!resource && !(t.path = quoted_path(t.field))) {
        r = reef_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    struct term *terms = realloc(sel->terms, (sel->n + 1) * sizeof(*terms));
    if (!terms) {
        r = reef_err_set(err, -ENOMEM, "out of memory");
        goto fail;
    }
    sel->terms = terms;
    sel->terms[sel->n++] = t;
    return 0;
fail:
    free(t.field);
    free(t.value);
    free(t.path);
    return r;
}

static int cmp_term(const void *a, const void *b)
{
    const struct term *x = a, *y = b;
    int c = strcmp(x->field, y->field);
    return c ? c : (int)x->neg - (int)y->neg;
}

int reef_field_selector_parse(const char *s, const char *resource, struct reef_field_selector **out,
                              struct reef_err *err)
{
    *out = NULL;
    size_t len = strlen(s);
    if (len > MAX_SELECTOR_LEN)
        return reef_err_set(err, -E2BIG, "field selector longer than %d bytes", MAX_SELECTOR_LEN);
    struct reef_field_selector *sel = calloc(1, sizeof(*sel));
    if (!sel)
        return reef_err_set(err, -ENOMEM, "out of memory");
    /* splitTerms: commas not escaped by a backslash separate terms; empty terms are skipped. */
    size_t start = 0;
    bool slash = false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            if (slash) {
                slash = false;
                continue;
            }
            if (s[i] == '\\') {
                slash = true;
                continue;
            }
            if (s[i] != ',')
                continue;
        }
        if (i > start) {
            int r = add_term(sel, s, s + start, i - start, resource, err);
            if (r < 0) {
                reef_field_selector_free(sel);
                return r;
            }
        }
        start = i + 1;
    }
    if (sel->n)
        qsort(sel->terms, sel->n, sizeof(*sel->terms), cmp_term);
    /* Labels are checked after the syntax of the whole selector, as the apiserver converts
     * field labels only once fields.ParseSelector has succeeded. */
    for (size_t i = 0; resource && i < sel->n; i++) {
        struct term *t = &sel->terms[i];
        for (const struct field_def *f = fields_for(resource); f->label && !t->def; f++)
            if (strcmp(f->label, t->field) == 0)
                t->def = f;
        if (!t->def) {
            int r = reef_err_set(err, -EINVAL, "field label not supported: %.200s", t->field);
            reef_field_selector_free(sel);
            return r;
        }
    }
    *out = sel;
    return 0;
}

/* Whether the field's value in obj equals want. */
static bool field_equals(const struct term *t, const struct reef_json_doc *d, int obj,
                         const char *want)
{
    const char *path = t->def ? t->def->path : t->path;
    const char *dflt = t->def ? t->def->dflt : "";
    int v = reef_json_find(d, obj, path, NULL);
    if (v >= 0 && reef_json_kind(d, v) == REEF_JSON_STRING && reef_json_str_eq(d, v, "") &&
        t->def && strcmp(t->def->label, "source") == 0)
        v = -ENOENT;
    if (v < 0 && t->def && strcmp(t->def->label, "source") == 0)
        v = reef_json_member(d, obj, "reportingController");
    size_t n = strlen(want);
    switch (reef_json_kind(d, v)) {
    case REEF_JSON_STRING:
        return reef_json_str_eqn(d, v, want, n);
    case REEF_JSON_BOOL:
    case REEF_JSON_NUMBER: {
        size_t rn;
        const char *raw = reef_json_raw(d, v, &rn);
        return rn == n && memcmp(raw, want, n) == 0;
    }
    case REEF_JSON_NONE:
    case REEF_JSON_NULL:
        return strcmp(dflt, want) == 0;
    default:
        return false; /* objects and arrays have no selectable string form */
    }
}

bool reef_field_selector_matches(const struct reef_field_selector *sel,
                                 const struct reef_json_doc *d, int obj)
{
    for (size_t i = 0; i < sel->n; i++) {
        const struct term *t = &sel->terms[i];
        if (field_equals(t, d, obj, t->value) == t->neg)
            return false;
    }
    return true;
}

bool reef_field_selector_empty(const struct reef_field_selector *sel)
{
    return sel->n == 0;
}

const char *reef_field_selector_equal_value(const struct reef_field_selector *sel,
                                            const char *field)
{
    for (size_t i = 0; i < sel->n; i++)
        if (!sel->terms[i].neg && strcmp(sel->terms[i].field, field) == 0)
            return sel->terms[i].value;
    return NULL;
}
