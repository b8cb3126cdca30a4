/* apiserver: defaults, validation and strict field checks of the built-in kinds. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/apiserver.h"
#include "orchestrate/patch.h"
#include "orchestrate/selector.h"

/* ---- tree helpers ---- */

struct reef__jv *reef__api_jv_obj(struct reef__jv *o, const char *key)
{
    if (!o || o->kind != REEF_JSON_OBJECT)
        return NULL;
    struct reef__jv *v = reef__jv_get(o, key);
    if (v)
        return v->kind == REEF_JSON_OBJECT ? v : NULL;
    v = reef__jv_new(REEF_JSON_OBJECT);
    if (!v || reef__jv_set(o, key, strlen(key), v) < 0)
        return NULL;
    return v;
}

const char *reef__api_jv_str(const struct reef__jv *o, const char *key)
{
    if (!o || o->kind != REEF_JSON_OBJECT)
        return NULL;
    const struct reef__jv *v = reef__jv_get(o, key);
    return v && v->kind == REEF_JSON_STRING ? v->s.p : NULL;
}

int reef__api_jv_set_str(struct reef__jv *o, const char *key, const char *val)
{
    struct reef__jv *v = reef__jv_new_str(val, strlen(val));
    if (!v)
        return -ENOMEM;
    return reef__jv_set(o, key, strlen(key), v);
}

int reef__api_jv_set_int(struct reef__jv *o, const char *key, int64_t val)
{
    char n[32];
    snprintf(n, sizeof(n), "%lld", (long long)val);
    struct reef__jv *v = reef__jv_new_str(n, strlen(n));
    if (!v)
        return -ENOMEM;
    v->kind = REEF_JSON_NUMBER;
    return reef__jv_set(o, key, strlen(key), v);
}

static struct reef__jv *member(const struct reef__jv *o, const char *key)
{
    return o && o->kind == REEF_JSON_OBJECT ? reef__jv_get(o, key) : NULL;
}

bool reef__api_jv_int(const struct reef__jv *v, int64_t *out)
{
    if (!v || v->kind != REEF_JSON_NUMBER)
        return false;
    long long x;
    if (reef_str_to_ll(v->s.p, INT64_MIN, INT64_MAX, &x) < 0)
        return false;
    *out = x;
    return true;
}

/* ---- names ---- */

static bool dns_label_n(const char *s, size_t n, bool alpha_first)
{
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && !(ch == '-' && i > 0 && i < n - 1))
            return false;
    }
    if (alpha_first && !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    return true;
}

bool reef__api_dns_label(const char *s)
{
    return dns_label_n(s, strlen(s), false);
}

bool reef__api_dns_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    const char *p = s;
    while (true) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        if (!dns_label_n(p, l, false))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}

/* ---- validation ---- */

struct verrs {
    struct reef_buf *causes;
    struct reef_buf msg;
    int n;
};

static void verr(struct verrs *e, const char *reason, const char *field, const char *fmt, ...)
    REEF_PRINTF(4, 5);
static void verr(struct verrs *e, const char *reason, const char *field, const char *fmt, ...)
{
    char m[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof(m), fmt, ap);
    va_end(ap);
    if (e->n)
        reef_buf_puts(&e->msg, ", ");
    reef_buf_printf(&e->msg, "%s: %s", field, m);
    if (e->n)
        reef_buf_putc(e->causes, ',');
    reef_buf_printf(e->causes, "{\"reason\":");
    reef_buf_json_str(e->causes, reason, strlen(reason));
    reef_buf_puts(e->causes, ",\"message\":");
    reef_buf_json_str(e->causes, m, strlen(m));
    reef_buf_puts(e->causes, ",\"field\":");
    reef_buf_json_str(e->causes, field, strlen(field));
    reef_buf_putc(e->causes, '}');
    e->n++;
}

#define SUBDOMAIN_MSG                                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_MSG                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define DNS1035_MSG                                                                                \
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "   \
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "           \
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"

static void validate_containers(struct verrs *e, const struct reef__jv *spec, const char *path)
{
    const struct reef__jv *cs = member(spec, "containers");
    char f[256];
    snprintf(f, sizeof(f), "%s.containers", path);
    if (!cs || cs->kind != REEF_JSON_ARRAY || cs->len == 0) {
        verr(e, "FieldValueRequired", f, "Required value");
        return;
    }
    for (size_t i = 0; i < cs->len; i++) {
        const struct reef__jv *c = cs->items[i];
        const char *name = reef__api_jv_str(c, "name");
        snprintf(f, sizeof(f), "%s.containers[%zu].name", path, i);
        if (!name || !name[0])
            verr(e, "FieldValueRequired", f, "Required value");
        else if (!reef__api_dns_label(name))
            verr(e, "FieldValueInvalid", f, "Invalid value: \"%s\": %s", name, LABEL_MSG);
        const char *image = reef__api_jv_str(c, "image");
        snprintf(f, sizeof(f), "%s.containers[%zu].image", path, i);
        if (!image || !image[0])
            verr(e, "FieldValueRequired", f, "Required value");
    }
}

static void validate_replicas(struct verrs *e, const struct reef__jv *spec)
{
    int64_t n;
    if (reef__api_jv_int(member(spec, "replicas"), &n) && n < 0)
        verr(e, "FieldValueInvalid", "spec.replicas",
             "Invalid value: %lld: must be greater than or equal to 0", (long long)n);
}

static void validate_selector(struct verrs *e, const struct reef__jv *spec)
{
    const struct reef__jv *sel = member(spec, "selector");
    if (!sel || sel->kind != REEF_JSON_OBJECT) {
        verr(e, "FieldValueRequired", "spec.selector", "Required value");
        return;
    }
    struct reef_buf b;
    reef_buf_init(&b);
    struct reef__jv *tmpl = member(spec, "template");
    struct reef__jv *labels = member(member(tmpl, "metadata"), "labels");
    /* compile the selector and match it against the template's labels */
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_label_selector *ls = NULL;
    struct reef_err err = {0};
    reef_buf_puts(&b, "{\"s\":");
    reef__jv_to_buf(sel, &b, NULL);
    reef_buf_puts(&b, ",\"l\":");
    if (labels)
        reef__jv_to_buf(labels, &b, NULL);
    else
        reef_buf_puts(&b, "null");
    reef_buf_putc(&b, '}');
    if (reef_json_parse(&d, b.data, b.len, NULL, &err) == 0) {
        int sv = reef_json_member(&d, REEF_JSON_ROOT, "s");
        if (reef_label_selector_from_json(&d, sv, &ls, &err) < 0) {
            verr(e, "FieldValueInvalid", "spec.selector", "Invalid value: %s", err.msg);
        } else {
            if (reef_label_selector_empty(ls))
                verr(e, "FieldValueInvalid", "spec.selector",
                     "Invalid value: \"null\": empty selector is invalid for deployment");
            else if (!reef_label_selector_matches(ls, &d,
                                                  reef_json_member(&d, REEF_JSON_ROOT, "l")))
                verr(e, "FieldValueInvalid", "spec.template.metadata.labels",
                     "Invalid value: %s: `selector` does not match template `labels`",
                     reef_json_raw(&d, reef_json_member(&d, REEF_JSON_ROOT, "l"), NULL) ? "map"
                                                                                        : "null");
            reef_label_selector_free(ls);
        }
    }
    reef_json_doc_free(&d);
    reef_buf_free(&b);
}

/* A qualified name's name part, or a label value when empty is allowed: at most 63 of
 * [A-Za-z0-9_.-], alphanumeric at both ends. */
static bool label_name(const char *s, size_t n, bool empty_ok)
{
    if (n == 0)
        return empty_ok;
    if (n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && ((i == 0 || i == n - 1) || !(ch == '-' || ch == '_' || ch == '.')))
            return false;
    }
    return true;
}

/* prefix/name with an optional DNS-subdomain prefix (label keys, annotation keys). */
static bool qualified_name(const char *k)
{
    const char *slash = strchr(k, '/');
    if (!slash)
        return label_name(k, strlen(k), false);
    size_t pl = (size_t)(slash - k);
    if (pl == 0 || pl > 253)
        return false;
    char prefix[254];
    memcpy(prefix, k, pl);
    prefix[pl] = '\0';
    return reef__api_dns_subdomain(prefix) && label_name(slash + 1, strlen(slash + 1), false);
}

#define QNAME_MSG                                                                                  \
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "  \
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for " \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LVALUE_MSG                                                                                 \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

int reef__api_validate(const struct reef__api_res *r, const struct reef__jv *obj,
                       struct reef_buf *causes, struct reef_err *err)
{
    struct verrs e = {.causes = causes};
    reef_buf_init(&e.msg);
    const struct reef__jv *md = member(obj, "metadata");
    const char *name = reef__api_jv_str(md, "name");
    const char *k = r->kind;
    if (name) {
        if (strcmp(k, "Service") == 0) {
            if (!dns_label_n(name, strlen(name), true))
                verr(&e, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s", name,
                     DNS1035_MSG);
        } else if (strcmp(k, "Namespace") == 0) {
            if (!reef__api_dns_label(name))
                verr(&e, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s", name,
                     LABEL_MSG);
        } else if (!reef__api_dns_subdomain(name)) {
            verr(&e, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s", name,
                 SUBDOMAIN_MSG);
        }
    }
    const struct reef__jv *labels = member(md, "labels");
    if (labels && labels->kind != REEF_JSON_OBJECT)
        verr(&e, "FieldValueInvalid", "metadata.labels", "Invalid value: must be an object");
    for (size_t i = 0; labels && labels->kind == REEF_JSON_OBJECT && i < labels->len; i++) {
        const char *key = labels->keys[i].p;
        const struct reef__jv *val = labels->items[i];
        if (strlen(key) != labels->keys[i].n || !qualified_name(key))
            verr(&e, "FieldValueInvalid", "metadata.labels", "Invalid value: \"%s\": %s", key,
                 QNAME_MSG);
        else if (val->kind != REEF_JSON_STRING)
            verr(&e, "FieldValueInvalid", "metadata.labels",
                 "Invalid value: \"%s\": must be a string", key);
        else if (strlen(val->s.p) != val->s.n || !label_name(val->s.p, val->s.n, true))
            verr(&e, "FieldValueInvalid", "metadata.labels", "Invalid value: \"%s\": %s", val->s.p,
                 LVALUE_MSG);
    }
    const struct reef__jv *ann = member(md, "annotations");
    if (ann && ann->kind != REEF_JSON_OBJECT)
        verr(&e, "FieldValueInvalid", "metadata.annotations", "Invalid value: must be an object");
    for (size_t i = 0; ann && ann->kind == REEF_JSON_OBJECT && i < ann->len; i++) {
        if (strlen(ann->keys[i].p) != ann->keys[i].n || !qualified_name(ann->keys[i].p))
            verr(&e, "FieldValueInvalid", "metadata.annotations", "Invalid value: \"%s\": %s",
                 ann->keys[i].p, QNAME_MSG);
        else if (ann->items[i]->kind != REEF_JSON_STRING)
            verr(&e, "FieldValueInvalid", "metadata.annotations",
                 "Invalid value: \"%s\": must be a string", ann->keys[i].p);
    }
    const struct reef__jv *spec = member(obj, "spec");
    if (strcmp(k, "Pod") == 0) {
        validate_containers(&e, spec, "spec");
    } else if (strcmp(k, "Deployment") == 0 || strcmp(k, "ReplicaSet") == 0) {
        validate_replicas(&e, spec);
        validate_selector(&e, spec);
        const struct reef__jv *tmpl = member(spec, "template");
        validate_containers(&e, member(tmpl, "spec"), "spec.template.spec");
    } else if (strcmp(k, "Service") == 0) {
        const struct reef__jv *ports = member(spec, "ports");
        const char *type = reef__api_jv_str(spec, "type");
        const char *cip = reef__api_jv_str(spec, "clusterIP");
        bool headless = cip && strcmp(cip, "None") == 0;
        bool external = type && strcmp(type, "ExternalName") == 0;
        if ((!ports || ports->kind != REEF_JSON_ARRAY || ports->len == 0) && !headless && !external)
            verr(&e, "FieldValueRequired", "spec.ports", "Required value");
        for (size_t i = 0; ports && ports->kind == REEF_JSON_ARRAY && i < ports->len; i++) {
            int64_t p;
            char f[64];
            snprintf(f, sizeof(f), "spec.ports[%zu].port", i);
            if (!reef__api_jv_int(member(ports->items[i], "port"), &p))
                verr(&e, "FieldValueRequired", f, "Required value");
            else if (p < 1 || p > 65535)
                verr(&e, "FieldValueInvalid", f,
                     "Invalid value: %lld: must be between 1 and 65535, inclusive", (long long)p);
        }
    }
    int rc = 0;
    if (e.n) {
        if (e.n == 1)
            reef_err_set(err, -EINVAL, "%s", e.msg.data);
        else
            reef_err_set(err, -EINVAL, "[%s]", e.msg.data);
        rc = -EINVAL;
    }
    reef_buf_free(&e.msg);
    return rc;
}

/* ---- fieldValidation=Strict ---- */

static const char *const meta_fields[] = {"name",
                                          "generateName",
                                          "namespace",
                                          "selfLink",
                                          "uid",
                                          "resourceVersion",
                                          "generation",
                                          "creationTimestamp",
                                          "deletionTimestamp",
                                          "deletionGracePeriodSeconds",
                                          "labels",
                                          "annotations",
                                          "ownerReferences",
                                          "finalizers",
                                          "managedFields",
                                          NULL};

struct kind_fields {
    const char *kind;
    const char *const fields[16];
};
static const struct kind_fields top_fields[] = {
    {"ConfigMap", {"data", "binaryData", "immutable", NULL}},
    {"Secret", {"data", "stringData", "type", "immutable", NULL}},
    {"Event",
     {"involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
      "type", "eventTime", "series", "action", "related", "reportingComponent", "reportingInstance",
      NULL}},
    {"Endpoints", {"subsets", NULL}},
    {"EndpointSlice", {"addressType", "endpoints", "ports", NULL}},
};

static const char *const spec_pod[] = {"volumes",
                                       "initContainers",
                                       "containers",
                                       "ephemeralContainers",
                                       "restartPolicy",
                                       "terminationGracePeriodSeconds",
                                       "activeDeadlineSeconds",
                                       "dnsPolicy",
                                       "nodeSelector",
                                       "serviceAccountName",
                                       "serviceAccount",
                                       "automountServiceAccountToken",
                                       "nodeName",
                                       "hostNetwork",
                                       "hostPID",
                                       "hostIPC",
                                       "shareProcessNamespace",
                                       "securityContext",
                                       "imagePullSecrets",
                                       "hostname",
                                       "subdomain",
                                       "affinity",
                                       "schedulerName",
                                       "tolerations",
                                       "hostAliases",
                                       "priorityClassName",
                                       "priority",
                                       "dnsConfig",
                                       "readinessGates",
                                       "runtimeClassName",
                                       "enableServiceLinks",
                                       "preemptionPolicy",
                                       "overhead",
                                       "topologySpreadConstraints",
                                       "setHostnameAsFQDN",
                                       "os",
                                       "hostUsers",
                                       "schedulingGates",
                                       "resourceClaims",
                                       "resources",
                                       NULL};
static const char *const spec_container[] = {"name",
                                             "image",
                                             "command",
                                             "args",
                                             "workingDir",
                                             "ports",
                                             "envFrom",
                                             "env",
                                             "resources",
                                             "resizePolicy",
                                             "restartPolicy",
                                             "volumeMounts",
                                             "volumeDevices",
                                             "livenessProbe",
                                             "readinessProbe",
                                             "startupProbe",
                                             "lifecycle",
                                             "terminationMessagePath",
                                             "terminationMessagePolicy",
                                             "imagePullPolicy",
                                             "securityContext",
                                             "stdin",
                                             "stdinOnce",
                                             "tty",
                                             NULL};
static const char *const spec_deploy[] = {"replicas",
                                          "selector",
                                          "template",
                                          "strategy",
                                          "minReadySeconds",
                                          "revisionHistoryLimit",
                                          "paused",
                                          "progressDeadlineSeconds",
                                          NULL};
static const char *const spec_service[] = {"ports",
                                           "selector",
                                           "clusterIP",
                                           "clusterIPs",
                                           "type",
                                           "externalIPs",
                                           "sessionAffinity",
                                           "loadBalancerIP",
                                           "loadBalancerSourceRanges",
                                           "externalName",
                                           "externalTrafficPolicy",
                                           "healthCheckNodePort",
                                           "publishNotReadyAddresses",
                                           "sessionAffinityConfig",
                                           "ipFamilies",
                                           "ipFamilyPolicy",
                                           "allocateLoadBalancerNodePorts",
                                           "loadBalancerClass",
                                           "internalTrafficPolicy",
                                           "trafficDistribution",
                                           NULL};

static bool listed(const char *const *l, const char *k)
{
    for (; *l; l++)
        if (strcmp(*l, k) == 0)
            return true;
    return false;
}

static int check_keys(const struct reef__jv *o, const char *const *known, const char *path,
                      struct reef_err *err)
{
    if (!o || o->kind != REEF_JSON_OBJECT)
        return 0;
    for (size_t i = 0; i < o->len; i++)
        if (!listed(known, o->keys[i].p))
            return reef_err_set(err, -EINVAL, "strict decoding error: unknown field \"%s%s%s\"",
                                path, path[0] ? "." : "", o->keys[i].p);
    return 0;
}

static int check_pod_spec(const struct reef__jv *spec, const char *path, struct reef_err *err)
{
    int r = check_keys(spec, spec_pod, path, err);
    if (r < 0)
        return r;
    const struct reef__jv *cs = member(spec, "containers");
    for (size_t i = 0; cs && cs->kind == REEF_JSON_ARRAY && i < cs->len; i++) {
        char p[128];
        snprintf(p, sizeof(p), "%s.containers[%zu]", path, i);
        if ((r = check_keys(cs->items[i], spec_container, p, err)) < 0)
            return r;
    }
    return 0;
}

int reef__api_strict(const struct reef__api_res *r, const struct reef__jv *obj,
                     struct reef_err *err)
{
    const char *const *extra = NULL;
    for (size_t i = 0; i < sizeof(top_fields) / sizeof(top_fields[0]); i++)
        if (strcmp(top_fields[i].kind, r->kind) == 0)
            extra = top_fields[i].fields;
    for (size_t i = 0; i < obj->len; i++) {
        const char *k = obj->keys[i].p;
        if (strcmp(k, "apiVersion") == 0 || strcmp(k, "kind") == 0 || strcmp(k, "metadata") == 0)
            continue;
        if (extra ? listed(extra, k) : (strcmp(k, "spec") == 0 || strcmp(k, "status") == 0))
            continue;
        return reef_err_set(err, -EINVAL, "strict decoding error: unknown field \"%s\"", k);
    }
    int rc = check_keys(member(obj, "metadata"), meta_fields, "metadata", err);
    if (rc < 0)
        return rc;
    const struct reef__jv *spec = member(obj, "spec");
    if (strcmp(r->kind, "Pod") == 0)
        return check_pod_spec(spec, "spec", err);
    if (strcmp(r->kind, "Deployment") == 0) {
        if ((rc = check_keys(spec, spec_deploy, "spec", err)) < 0)
            return rc;
        return check_pod_spec(member(member(spec, "template"), "spec"), "spec.template.spec", err);
    }
    if (strcmp(r->kind, "Service") == 0)
        return check_keys(spec, spec_service, "spec", err);
    return 0;
}

/* ---- updates: immutable fields ---- */

static bool same(const struct reef__jv *a, const struct reef__jv *b)
{
    if (!a || !b)
        return a == b;
    return reef__jv_equal(a, b);
}

/* Pods: only images, activeDeadlineSeconds, tolerations and a first spec.nodeName may change. */
static bool pod_spec_update_ok(const struct reef__jv *nspec, const struct reef__jv *ospec)
{
    if (!nspec || !ospec)
        return same(nspec, ospec);
    struct reef__jv *a = reef__jv_clone(nspec), *b = reef__jv_clone(ospec);
    bool ok = false;
    if (!a || !b)
        goto out;
    static const char *const loose[] = {"activeDeadlineSeconds", "tolerations",
                                        "terminationGracePeriodSeconds"};
    for (size_t i = 0; i < sizeof(loose) / sizeof(loose[0]); i++) {
        reef__jv_del(a, loose[i], strlen(loose[i]));
        reef__jv_del(b, loose[i], strlen(loose[i]));
    }
    const char *on = reef__api_jv_str(b, "nodeName");
    if (!on || !on[0]) {
        reef__jv_del(a, "nodeName", 8);
        reef__jv_del(b, "nodeName", 8);
    }
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        struct reef__jv *ca = member(a, lists[l]), *cb = member(b, lists[l]);
        for (size_t i = 0; ca && cb && ca->kind == REEF_JSON_ARRAY && cb->kind == REEF_JSON_ARRAY &&
                           i < ca->len && i < cb->len;
             i++) {
            reef__jv_del(ca->items[i], "image", 5);
            reef__jv_del(cb->items[i], "image", 5);
        }
    }
    ok = reef__jv_equal(a, b);
out:
    reef__jv_free(a);
    reef__jv_free(b);
    return ok;
}

int reef__api_validate_update(const struct reef__api_res *r, const struct reef__jv *obj,
                              const struct reef__jv *old, struct reef_buf *causes,
                              struct reef_err *err)
{
    struct verrs e = {.causes = causes};
    reef_buf_init(&e.msg);
    const char *k = r->kind;
    const struct reef__jv *spec = member(obj, "spec"), *ospec = member(old, "spec");
    /* an object being deleted takes no new finalizers */
    const struct reef__jv *omd = member(old, "metadata");
    const struct reef__jv *of = member(omd, "finalizers");
    const struct reef__jv *nf = member(member(obj, "metadata"), "finalizers");
    if (member(omd, "deletionTimestamp") && nf && nf->kind == REEF_JSON_ARRAY) {
        struct reef_buf extra;
        reef_buf_init(&extra);
        for (size_t i = 0; i < nf->len; i++) {
            bool known = false;
            for (size_t j = 0; of && of->kind == REEF_JSON_ARRAY && j < of->len && !known; j++)
                known = reef__jv_equal(nf->items[i], of->items[j]);
            if (!known && nf->items[i]->kind == REEF_JSON_STRING) {
                reef_buf_puts(&extra, extra.len ? ", " : "");
                reef_buf_json_str(&extra, nf->items[i]->s.p, nf->items[i]->s.n);
            }
        }
        if (extra.len)
            verr(&e, "FieldValueForbidden", "metadata.finalizers",
                 "Forbidden: no new finalizers can be added if the object is being deleted, found "
                 "new finalizers []string{%s}",
                 extra.data);
        reef_buf_free(&extra);
    }
    if (strcmp(k, "Deployment") == 0 || strcmp(k, "ReplicaSet") == 0) {
        if (!same(member(spec, "selector"), member(ospec, "selector")))
            verr(&e, "FieldValueInvalid", "spec.selector", "Invalid value: %s: field is immutable",
                 "v1.LabelSelector");
    } else if (strcmp(k, "ConfigMap") == 0 || strcmp(k, "Secret") == 0) {
        const struct reef__jv *im = member(old, "immutable");
        if (im && im->kind == REEF_JSON_BOOL && im->b) {
            const struct reef__jv *nim = member(obj, "immutable");
            if (!nim || nim->kind != REEF_JSON_BOOL || !nim->b)
                verr(&e, "FieldValueForbidden", "immutable",
                     "Forbidden: field is immutable when `immutable` is set");
            static const char *const data[] = {"data", "binaryData"};
            for (size_t i = 0; i < 2; i++)
                if (!same(member(obj, data[i]), member(old, data[i])))
                    verr(&e, "FieldValueForbidden", data[i],
                         "Forbidden: field is immutable when `immutable` is set");
        }
    } else if (strcmp(k, "Service") == 0) {
        const char *oip = reef__api_jv_str(ospec, "clusterIP");
        const char *nip = reef__api_jv_str(spec, "clusterIP");
        if (oip && oip[0] && (!nip || strcmp(oip, nip) != 0))
            verr(&e, "FieldValueInvalid", "spec.clusterIPs[0]",
                 "Invalid value: []string{\"%s\"}: may not change once set", nip ? nip : "");
    } else if (strcmp(k, "Pod") == 0) {
        if (!pod_spec_update_ok(spec, ospec))
            verr(&e, "FieldValueForbidden", "spec",
                 "Forbidden: pod updates may not change fields other than "
                 "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                 "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
                 "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
                 "was previously negative)");
    }
    int rc = 0;
    if (e.n) {
        if (e.n == 1)
            reef_err_set(err, -EINVAL, "%s", e.msg.data);
        else
            reef_err_set(err, -EINVAL, "[%s]", e.msg.data);
        rc = -EINVAL;
    }
    reef_buf_free(&e.msg);
    return rc;
}
