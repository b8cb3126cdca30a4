/* apiserver: JSON types of typed fields. kube-apiserver decodes a body into Go structs, so a
 * value of the wrong JSON type (YAML's `image: y` is a boolean) is a 400 before defaults or
 * validation run. This is a table of the Go structs behind the fields clients write most,
 * walked in document order; fields of custom Go types (Quantity, IntOrString, Time) and
 * fields not listed are left to validation. */
#include <stdio.h>
#include <string.h>

#include "orchestrate/apiserver_int2.h"
#include "orchestrate/patch.h"

enum gt {
    G_STR,
    G_BOOL,
    G_I32,
    G_I64,
    G_STRMAP, /* map[string]string */
    G_STRS,   /* []string */
    G_STRUCT, /* go: the struct's type, s: its fields */
    G_LIST,   /* go: "[]v1.X", s: the element struct */
    G_QTYMAP, /* v1.ResourceList: resource.Quantity values */
};

struct gfield;
struct gstruct {
    const char *name; /* reflect's Name(): "Container" */
    const struct gfield *f;
};
struct gfield {
    const char *json;
    enum gt t;
    const char *go;
    const struct gstruct *s;
};

/* clang-format off */
#define STR(j) {j, G_STR, "string", NULL}
#define BOOL(j) {j, G_BOOL, "bool", NULL}
#define I32(j) {j, G_I32, "int32", NULL}
#define I64(j) {j, G_I64, "int64", NULL}
#define STRMAP(j) {j, G_STRMAP, "map[string]string", NULL}
#define STRS(j) {j, G_STRS, "[]string", NULL}
#define STRUCT(j, go, s) {j, G_STRUCT, go, &s}
#define LIST(j, go, s) {j, G_LIST, go, &s}
#define END {NULL, G_STR, NULL, NULL}
/* clang-format on */

static const struct gfield f_owner_ref[] = {
    STR("apiVersion"),          STR("kind"), STR("name"), STR("uid"), BOOL("controller"),
    BOOL("blockOwnerDeletion"), END};
static const struct gstruct s_owner_ref = {"OwnerReference", f_owner_ref};
static const struct gfield f_meta[] = {STR("name"),
                                       STR("generateName"),
                                       STR("namespace"),
                                       STR("selfLink"),
                                       STR("uid"),
                                       STR("resourceVersion"),
                                       I64("generation"),
                                       I64("deletionGracePeriodSeconds"),
                                       STRMAP("labels"),
                                       STRMAP("annotations"),
                                       LIST("ownerReferences", "[]v1.OwnerReference", s_owner_ref),
                                       STRS("finalizers"),
                                       END};
static const struct gstruct s_meta = {"ObjectMeta", f_meta};

static const struct gfield f_field_sel[] = {STR("apiVersion"), STR("fieldPath"), END};
static const struct gstruct s_field_sel = {"ObjectFieldSelector", f_field_sel};
static const struct gfield f_key_sel[] = {STR("name"), STR("key"), BOOL("optional"), END};
static const struct gstruct s_cm_key = {"ConfigMapKeySelector", f_key_sel};
static const struct gstruct s_secret_key = {"SecretKeySelector", f_key_sel};
static const struct gfield f_env_source[] = {
    STRUCT("fieldRef", "v1.ObjectFieldSelector", s_field_sel),
    STRUCT("configMapKeyRef", "v1.ConfigMapKeySelector", s_cm_key),
    STRUCT("secretKeyRef", "v1.SecretKeySelector", s_secret_key), END};
static const struct gstruct s_env_source = {"EnvVarSource", f_env_source};
static const struct gfield f_env[] = {STR("name"), STR("value"),
                                      STRUCT("valueFrom", "v1.EnvVarSource", s_env_source), END};
static const struct gstruct s_env = {"EnvVar", f_env};
static const struct gfield f_cport[] = {STR("name"),     I32("hostPort"), I32("containerPort"),
                                        STR("protocol"), STR("hostIP"),   END};
static const struct gstruct s_cport = {"ContainerPort", f_cport};
static const struct gfield f_resources[] = {{"limits", G_QTYMAP, "v1.ResourceList", NULL},
                                            {"requests", G_QTYMAP, "v1.ResourceList", NULL},
                                            END};
static const struct gstruct s_resources = {"ResourceRequirements", f_resources};
static const struct gfield f_exec[] = {STRS("command"), END};
static const struct gstruct s_exec = {"ExecAction", f_exec};
static const struct gfield f_header[] = {STR("name"), STR("value"), END};
static const struct gstruct s_header = {"HTTPHeader", f_header};
static const struct gfield f_http_get[] = {STR("path"), STR("host"), STR("scheme"),
                                           LIST("httpHeaders", "[]v1.HTTPHeader", s_header), END};
static const struct gstruct s_http_get = {"HTTPGetAction", f_http_get};
static const struct gfield f_tcp[] = {STR("host"), END};
static const struct gstruct s_tcp = {"TCPSocketAction", f_tcp};
static const struct gfield f_grpc[] = {I32("port"), STR("service"), END};
static const struct gstruct s_grpc = {"GRPCAction", f_grpc};
/* ProbeHandler is embedded: its fields are the Probe's (and reported under it, as Go does) */
static const struct gfield f_probe[] = {STRUCT("exec", "v1.ExecAction", s_exec),
                                        STRUCT("httpGet", "v1.HTTPGetAction", s_http_get),
                                        STRUCT("tcpSocket", "v1.TCPSocketAction", s_tcp),
                                        STRUCT("grpc", "v1.GRPCAction", s_grpc),
                                        I32("initialDelaySeconds"),
                                        I32("timeoutSeconds"),
                                        I32("periodSeconds"),
                                        I32("successThreshold"),
                                        I32("failureThreshold"),
                                        I64("terminationGracePeriodSeconds"),
                                        END};
static const struct gstruct s_probe = {"Probe", f_probe};
static const struct gfield f_handler[] = {STRUCT("exec", "v1.ExecAction", s_exec),
                                          STRUCT("httpGet", "v1.HTTPGetAction", s_http_get),
                                          STRUCT("tcpSocket", "v1.TCPSocketAction", s_tcp), END};
static const struct gstruct s_handler = {"LifecycleHandler", f_handler};
static const struct gfield f_lifecycle[] = {STRUCT("postStart", "v1.LifecycleHandler", s_handler),
                                            STRUCT("preStop", "v1.LifecycleHandler", s_handler),
                                            END};
static const struct gstruct s_lifecycle = {"Lifecycle", f_lifecycle};
static const struct gfield f_mount[] = {STR("name"), BOOL("readOnly"), STR("mountPath"),
                                        STR("subPath"), END};
static const struct gstruct s_mount = {"VolumeMount", f_mount};
static const struct gfield f_container[] = {
    STR("name"),
    STR("image"),
    STRS("command"),
    STRS("args"),
    STR("workingDir"),
    LIST("ports", "[]v1.ContainerPort", s_cport),
    LIST("env", "[]v1.EnvVar", s_env),
    STRUCT("resources", "v1.ResourceRequirements", s_resources),
    STR("restartPolicy"),
    LIST("volumeMounts", "[]v1.VolumeMount", s_mount),
    STRUCT("livenessProbe", "v1.Probe", s_probe),
    STRUCT("readinessProbe", "v1.Probe", s_probe),
    STRUCT("startupProbe", "v1.Probe", s_probe),
    STRUCT("lifecycle", "v1.Lifecycle", s_lifecycle),
    STR("terminationMessagePath"),
    STR("terminationMessagePolicy"),
    STR("imagePullPolicy"),
    BOOL("stdin"),
    BOOL("stdinOnce"),
    BOOL("tty"),
    END};
static const struct gstruct s_container = {"Container", f_container};
static const struct gfield f_toleration[] = {STR("key"),    STR("operator"),          STR("value"),
                                             STR("effect"), I64("tolerationSeconds"), END};
static const struct gstruct s_toleration = {"Toleration", f_toleration};
static const struct gfield f_local_ref[] = {STR("name"), END};
static const struct gstruct s_local_ref = {"LocalObjectReference", f_local_ref};
static const struct gfield f_volume[] = {STR("name"), END};
static const struct gstruct s_volume = {"Volume", f_volume};
static const struct gfield f_pod_spec[] = {
    LIST("volumes", "[]v1.Volume", s_volume),
    LIST("initContainers", "[]v1.Container", s_container),
    LIST("containers", "[]v1.Container", s_container),
    STR("restartPolicy"),
    I64("terminationGracePeriodSeconds"),
    I64("activeDeadlineSeconds"),
    STR("dnsPolicy"),
    STRMAP("nodeSelector"),
    STR("serviceAccountName"),
    STR("serviceAccount"),
    BOOL("automountServiceAccountToken"),
    STR("nodeName"),
    BOOL("hostNetwork"),
    BOOL("hostPID"),
    BOOL("hostIPC"),
    BOOL("shareProcessNamespace"),
    LIST("imagePullSecrets", "[]v1.LocalObjectReference", s_local_ref),
    STR("hostname"),
    STR("subdomain"),
    STR("schedulerName"),
    LIST("tolerations", "[]v1.Toleration", s_toleration),
    STR("priorityClassName"),
    I32("priority"),
    STR("runtimeClassName"),
    BOOL("enableServiceLinks"),
    STR("preemptionPolicy"),
    BOOL("setHostnameAsFQDN"),
    BOOL("hostUsers"),
    END};
static const struct gstruct s_pod_spec = {"PodSpec", f_pod_spec};
static const struct gfield f_template[] = {STRUCT("metadata", "v1.ObjectMeta", s_meta),
                                           STRUCT("spec", "v1.PodSpec", s_pod_spec), END};
static const struct gstruct s_template = {"PodTemplateSpec", f_template};
static const struct gfield f_sel_req[] = {STR("key"), STR("operator"), STRS("values"), END};
static const struct gstruct s_sel_req = {"LabelSelectorRequirement", f_sel_req};
static const struct gfield f_selector[] = {
    STRMAP("matchLabels"), LIST("matchExpressions", "[]v1.LabelSelectorRequirement", s_sel_req),
    END};
static const struct gstruct s_selector = {"LabelSelector", f_selector};
static const struct gfield f_strategy[] = {STR("type"), END};
static const struct gstruct s_strategy = {"DeploymentStrategy", f_strategy};
static const struct gfield f_deploy_spec[] = {
    I32("replicas"),
    STRUCT("selector", "v1.LabelSelector", s_selector),
    STRUCT("template", "v1.PodTemplateSpec", s_template),
    STRUCT("strategy", "v1.DeploymentStrategy", s_strategy),
    I32("minReadySeconds"),
    I32("revisionHistoryLimit"),
    BOOL("paused"),
    I32("progressDeadlineSeconds"),
    END};
static const struct gstruct s_deploy_spec = {"DeploymentSpec", f_deploy_spec};
static const struct gfield f_rs_spec[] = {
    I32("replicas"), I32("minReadySeconds"), STRUCT("selector", "v1.LabelSelector", s_selector),
    STRUCT("template", "v1.PodTemplateSpec", s_template), END};
static const struct gstruct s_rs_spec = {"ReplicaSetSpec", f_rs_spec};
static const struct gfield f_sport[] = {STR("name"), STR("protocol"), STR("appProtocol"),
                                        I32("port"), I32("nodePort"), END};
static const struct gstruct s_sport = {"ServicePort", f_sport};
static const struct gfield f_service_spec[] = {LIST("ports", "[]v1.ServicePort", s_sport),
                                               STRMAP("selector"),
                                               STR("clusterIP"),
                                               STRS("clusterIPs"),
                                               STR("type"),
                                               STRS("externalIPs"),
                                               STR("sessionAffinity"),
                                               STR("loadBalancerIP"),
                                               STRS("loadBalancerSourceRanges"),
                                               STR("externalName"),
                                               STR("externalTrafficPolicy"),
                                               I32("healthCheckNodePort"),
                                               BOOL("publishNotReadyAddresses"),
                                               STRS("ipFamilies"),
                                               STR("ipFamilyPolicy"),
                                               BOOL("allocateLoadBalancerNodePorts"),
                                               STR("loadBalancerClass"),
                                               STR("internalTrafficPolicy"),
                                               END};
static const struct gstruct s_service_spec = {"ServiceSpec", f_service_spec};

/* The top level of each kind checked: TypeMeta is embedded, so apiVersion and kind are the
 * kind's own fields. */
/* clang-format off */
#define TOP(spec_go, spec_s)                                                                       \
    {STR("apiVersion"), STR("kind"), STRUCT("metadata", "v1.ObjectMeta", s_meta),                \
     STRUCT("spec", spec_go, spec_s), END}
/* clang-format on */
static const struct gfield f_pod[] = TOP("v1.PodSpec", s_pod_spec);
static const struct gfield f_deploy[] = TOP("v1.DeploymentSpec", s_deploy_spec);
static const struct gfield f_rs[] = TOP("v1.ReplicaSetSpec", s_rs_spec);
static const struct gfield f_service[] = TOP("v1.ServiceSpec", s_service_spec);
static const struct gfield f_configmap[] = {
    STR("apiVersion"), STR("kind"),    STRUCT("metadata", "v1.ObjectMeta", s_meta),
    BOOL("immutable"), STRMAP("data"), END};
static const struct gfield f_secret[] = {STR("apiVersion"),
                                         STR("kind"),
                                         STRUCT("metadata", "v1.ObjectMeta", s_meta),
                                         BOOL("immutable"),
                                         STRMAP("stringData"),
                                         STR("type"),
                                         END};
static const struct gfield f_other[] = {STR("apiVersion"), STR("kind"),
                                        STRUCT("metadata", "v1.ObjectMeta", s_meta), END};

/* Go saves the first type mismatch and decodes on, but a custom decoder's error (Quantity's)
 * ends decoding at once and is the one reported. */
struct walk {
    char path[512];
    char at[512];                   /* the path of the first mismatch */
    const char *value, *go, *strct; /* the first mismatch; go NULL: none */
    char number[64];                /* "number 1.5" */
    const char *hard;               /* the error that ended decoding */
};

#define QTY_FORMAT                                                                                 \
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
#define QTY_SUFFIX "unable to parse quantity's suffix"

/* resource.ParseQuantity's verdict on a Quantity's JSON value: NULL when it parses, else its
 * error. */
static const char *quantity_error(const struct reef__jv *v)
{
    const char *p, *end;
    if (v->kind == REEF_JSON_STRING || v->kind == REEF_JSON_NUMBER) {
        p = v->s.p;
        end = v->s.p + v->s.n;
    } else {
        return QTY_FORMAT; /* true, [..], {..} are not quantities */
    }
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    if (p == end)
        return QTY_FORMAT;
    if (*p == '+' || *p == '-')
        p++;
    const char *num = p;
    while (p < end && ((*p >= '0' && *p <= '9') || *p == '.'))
        p++;
    if (p == num)
        return QTY_FORMAT;
    const char *sfx = p;
    while (p < end && strchr("eEinumkKMGTP", *p))
        p++;
    const char *exp = p;
    if (p < end && (*p == '+' || *p == '-'))
        p++;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    if (p != end)
        return QTY_FORMAT;
    size_t n = (size_t)(end - sfx);
    static const char *const known[] = {"",  "n", "u",  "m",  "k",  "M",  "G",  "T",
                                        "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i]) == n && memcmp(known[i], sfx, n) == 0)
            return NULL;
    /* a decimal exponent: e or E, then an optionally signed integer */
    if (exp == sfx + 1 && (*sfx == 'e' || *sfx == 'E') && end > exp &&
        (end - exp > 1 || (*exp >= '0' && *exp <= '9')))
        return NULL;
    return QTY_SUFFIX;
}

static bool is_int(const struct reef__jv *v, long long lo, long long hi)
{
    long long x;
    return reef_str_to_ll(v->s.p, lo, hi, &x) == 0;
}

static const char *kind_name(const struct reef__jv *v)
{
    switch (v->kind) {
    case REEF_JSON_STRING:
        return "string";
    case REEF_JSON_NUMBER:
        return "number";
    case REEF_JSON_BOOL:
        return "bool";
    case REEF_JSON_ARRAY:
        return "array";
    default:
        return "object";
    }
}

/* Records the mismatch of v against Go type go, as field path of struct strct, when it is the
 * first. Decoding goes on (true). */
static bool mismatch(struct walk *w, const char *strct, const struct reef__jv *v, const char *go)
{
    if (w->go)
        return true;
    w->strct = strct;
    w->go = go;
    w->value = kind_name(v);
    memcpy(w->at, w->path, sizeof(w->at));
    return true;
}

static bool check_struct(struct walk *w, const struct gstruct *s, struct reef__jv *o);

/* Whether v fits field f of struct strct; w->path is the field's path. */
static bool check_value(struct walk *w, const char *strct, const struct gfield *f,
                        struct reef__jv *v)
{
    if (v->kind == REEF_JSON_NULL)
        return true;
    switch (f->t) {
    case G_STR:
        return v->kind == REEF_JSON_STRING || mismatch(w, strct, v, f->go);
    case G_BOOL:
        return v->kind == REEF_JSON_BOOL || mismatch(w, strct, v, f->go);
    case G_I32:
    case G_I64:
        if (v->kind != REEF_JSON_NUMBER)
            return mismatch(w, strct, v, f->go);
        if (f->t == G_I32 ? is_int(v, INT32_MIN, INT32_MAX) : is_int(v, INT64_MIN, INT64_MAX))
            return true;
        /* Go names the literal it could not fit */
        if (!w->go) {
            mismatch(w, strct, v, f->go);
            snprintf(w->number, sizeof(w->number), "number %.*s", (int)(v->s.n < 40 ? v->s.n : 40),
                     v->s.p);
            w->value = w->number;
        }
        return true;
    case G_STRMAP:
        if (v->kind != REEF_JSON_OBJECT)
            return mismatch(w, strct, v, f->go);
        for (size_t i = 0; i < v->len; i++)
            if (v->items[i]->kind != REEF_JSON_STRING && v->items[i]->kind != REEF_JSON_NULL)
                return mismatch(w, strct, v->items[i], "string");
        return true;
    case G_STRS:
        if (v->kind != REEF_JSON_ARRAY)
            return mismatch(w, strct, v, f->go);
        for (size_t i = 0; i < v->len; i++)
            if (v->items[i]->kind != REEF_JSON_STRING && v->items[i]->kind != REEF_JSON_NULL)
                return mismatch(w, strct, v->items[i], "string");
        return true;
    case G_QTYMAP:
        if (v->kind != REEF_JSON_OBJECT)
            return mismatch(w, strct, v, f->go);
        for (size_t i = 0; i < v->len; i++)
            if (v->items[i]->kind != REEF_JSON_NULL && (w->hard = quantity_error(v->items[i])))
                return false;
        return true;
    case G_STRUCT:
        if (v->kind != REEF_JSON_OBJECT)
            return mismatch(w, strct, v, f->go);
        return check_struct(w, f->s, v);
    case G_LIST:
        if (v->kind != REEF_JSON_ARRAY)
            return mismatch(w, strct, v, f->go);
        for (size_t i = 0; i < v->len; i++) {
            struct reef__jv *it = v->items[i];
            if (it->kind == REEF_JSON_NULL)
                continue;
            if (it->kind != REEF_JSON_OBJECT) {
                mismatch(w, strct, it, f->go + 2); /* the element type */
                continue;
            }
            if (!check_struct(w, f->s, it))
                return false;
        }
        return true;
    }
    return true;
}

/* Walks o's members in document order (Go reports the first mismatch it meets). A null
 * member the table knows is dropped: Go decodes it as nil, which is written back as absent. */
static bool check_struct(struct walk *w, const struct gstruct *s, struct reef__jv *o)
{
    size_t base = strlen(w->path);
    for (size_t i = 0; i < o->len; i++) {
        const struct gfield *f = s->f;
        while (f->json && strcmp(f->json, o->keys[i].p) != 0)
            f++;
        if (!f->json)
            continue;
        if (o->items[i]->kind == REEF_JSON_NULL) {
            reef__jv_free(reef__jv_take(o, i--));
            continue;
        }
        int n = snprintf(w->path + base, sizeof(w->path) - base, "%s%s", base ? "." : "", f->json);
        if (n < 0 || (size_t)n >= sizeof(w->path) - base)
            continue;
        if (!check_value(w, s->name, f, o->items[i]))
            return false;
        w->path[base] = '\0';
    }
    return true;
}

int reef__api_check_types(const struct reef__api_res *r, struct reef__jv *obj, struct reef_err *err)
{
    if (!obj || obj->kind != REEF_JSON_OBJECT)
        return 0;
    static const struct {
        const char *kind;
        const struct gfield *f;
    } kinds[] = {{"Pod", f_pod},         {"Deployment", f_deploy},   {"ReplicaSet", f_rs},
                 {"Service", f_service}, {"ConfigMap", f_configmap}, {"Secret", f_secret}};
    const struct gfield *top = f_other;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].kind, r->kind) == 0)
            top = kinds[i].f;
    const struct gstruct s = {r->kind, top};
    struct walk w = {.path = ""};
    if (!check_struct(&w, &s, obj) && w.hard)
        return reef_err_set(err, -EINVAL, "%s in version \"%s\" cannot be handled as a %s: %s",
                            r->kind, r->version, r->kind, w.hard);
    if (!w.go)
        return 0;
    return reef_err_set(err, -EINVAL,
                        "%s in version \"%s\" cannot be handled as a %s: json: cannot unmarshal %s "
                        "into Go struct field %s.%s of type %s",
                        r->kind, r->version, r->kind, w.value, w.strct, w.at, w.go);
}
