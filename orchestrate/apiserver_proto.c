/* apiserver: Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) turned
 * into JSON.
 *
 * kubectl's typed clients (`kubectl create configmap|secret|namespace|deployment|service`) send
 * their objects as protobuf and cannot fall back to JSON, so the API server decodes the kinds they
 * create. Decoding is driven by a table of field numbers (k8s.io/api generated.proto) and is
 * strict: a field the table does not know is refused (415) rather than dropped, so nothing a
 * client sends is lost silently. Bounded: nesting is limited by the schema, every length is
 * checked against what is left of the input. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "orchestrate/apiserver.h"
#include "orchestrate/patch.h"

enum pk {
    PK_STR = 1, /* string */
    PK_BYTES,   /* bytes → base64 */
    PK_INT,     /* varint (int32/int64); zero is left out (omitempty) */
    PK_BOOL,    /* false is left out */
    PK_PINT,    /* a pointer int: present means set, zero included */
    PK_PBOOL,   /* a pointer bool */
    PK_MSG,     /* embedded message */
    PK_MAP_S,   /* map<string,string> */
    PK_MAP_B,   /* map<string,bytes> */
    PK_MAP_Q,   /* map<string,Quantity> */
    PK_TIME,    /* metav1.Time → RFC 3339 */
    PK_INTSTR,  /* intstr.IntOrString */
};

struct pmsg;
struct pf {
    int num;
    const char *name;
    enum pk kind;
    bool repeated;
    const struct pmsg *msg;
};
struct pmsg {
    const struct pf *f; /* ends with num 0 */
};

#define END                                                                                        \
    {                                                                                              \
        0, NULL, 0, false, NULL                                                                    \
    }

static const struct pmsg m_owner = {
    (const struct pf[]){{1, "kind", PK_STR, false, NULL},
                        {3, "name", PK_STR, false, NULL},
                        {4, "uid", PK_STR, false, NULL},
                        {5, "apiVersion", PK_STR, false, NULL},
                        {6, "controller", PK_PBOOL, false, NULL},
                        {7, "blockOwnerDeletion", PK_PBOOL, false, NULL},
                        END}};
static const struct pmsg m_meta = {
    (const struct pf[]){{1, "name", PK_STR, false, NULL},
                        {2, "generateName", PK_STR, false, NULL},
                        {3, "namespace", PK_STR, false, NULL},
                        {4, "selfLink", PK_STR, false, NULL},
                        {5, "uid", PK_STR, false, NULL},
                        {6, "resourceVersion", PK_STR, false, NULL},
                        {7, "generation", PK_INT, false, NULL},
                        {8, "creationTimestamp", PK_TIME, false, NULL},
                        {9, "deletionTimestamp", PK_TIME, false, NULL},
                        {10, "deletionGracePeriodSeconds", PK_PINT, false, NULL},
                        {11, "labels", PK_MAP_S, false, NULL},
                        {12, "annotations", PK_MAP_S, false, NULL},
                        {13, "ownerReferences", PK_MSG, true, &m_owner},
                        {14, "finalizers", PK_STR, true, NULL},
                        END}};
static const struct pmsg m_empty = {(const struct pf[]){END}};

static const struct pmsg m_configmap = {
    (const struct pf[]){{1, "metadata", PK_MSG, false, &m_meta},
                        {2, "data", PK_MAP_S, false, NULL},
                        {3, "binaryData", PK_MAP_B, false, NULL},
                        {4, "immutable", PK_PBOOL, false, NULL},
                        END}};
static const struct pmsg m_secret = {(const struct pf[]){{1, "metadata", PK_MSG, false, &m_meta},
                                                         {2, "data", PK_MAP_B, false, NULL},
                                                         {3, "type", PK_STR, false, NULL},
                                                         {4, "stringData", PK_MAP_S, false, NULL},
                                                         {5, "immutable", PK_PBOOL, false, NULL},
                                                         END}};
static const struct pmsg m_ns_spec = {
    (const struct pf[]){{1, "finalizers", PK_STR, true, NULL}, END}};
static const struct pmsg m_ns_status = {
    (const struct pf[]){{1, "phase", PK_STR, false, NULL}, END}};
static const struct pmsg m_namespace = {
    (const struct pf[]){{1, "metadata", PK_MSG, false, &m_meta},
                        {2, "spec", PK_MSG, false, &m_ns_spec},
                        {3, "status", PK_MSG, false, &m_ns_status},
                        END}};

static const struct pmsg m_req = {(const struct pf[]){{1, "key", PK_STR, false, NULL},
                                                      {2, "operator", PK_STR, false, NULL},
                                                      {3, "values", PK_STR, true, NULL},
                                                      END}};
static const struct pmsg m_selector = {(const struct pf[]){
    {1, "matchLabels", PK_MAP_S, false, NULL}, {2, "matchExpressions", PK_MSG, true, &m_req}, END}};
static const struct pmsg m_port = {(const struct pf[]){{1, "name", PK_STR, false, NULL},
                                                       {2, "hostPort", PK_INT, false, NULL},
                                                       {3, "containerPort", PK_INT, false, NULL},
                                                       {4, "protocol", PK_STR, false, NULL},
                                                       {5, "hostIP", PK_STR, false, NULL},
                                                       END}};
static const struct pmsg m_env = {
    (const struct pf[]){{1, "name", PK_STR, false, NULL}, {2, "value", PK_STR, false, NULL}, END}};
static const struct pmsg m_resources = {(const struct pf[]){
    {1, "limits", PK_MAP_Q, false, NULL}, {2, "requests", PK_MAP_Q, false, NULL}, END}};
static const struct pmsg m_container = {
    (const struct pf[]){{1, "name", PK_STR, false, NULL},
                        {2, "image", PK_STR, false, NULL},
                        {3, "command", PK_STR, true, NULL},
                        {4, "args", PK_STR, true, NULL},
                        {5, "workingDir", PK_STR, false, NULL},
                        {6, "ports", PK_MSG, true, &m_port},
                        {7, "env", PK_MSG, true, &m_env},
                        {8, "resources", PK_MSG, false, &m_resources},
                        {13, "terminationMessagePath", PK_STR, false, NULL},
                        {14, "imagePullPolicy", PK_STR, false, NULL},
                        {16, "stdin", PK_BOOL, false, NULL},
                        {17, "stdinOnce", PK_BOOL, false, NULL},
                        {18, "tty", PK_BOOL, false, NULL},
                        {20, "terminationMessagePolicy", PK_STR, false, NULL},
                        END}};
static const struct pmsg m_podspec = {
    (const struct pf[]){{2, "containers", PK_MSG, true, &m_container},
                        {3, "restartPolicy", PK_STR, false, NULL},
                        {4, "terminationGracePeriodSeconds", PK_PINT, false, NULL},
                        {5, "activeDeadlineSeconds", PK_PINT, false, NULL},
                        {6, "dnsPolicy", PK_STR, false, NULL},
                        {7, "nodeSelector", PK_MAP_S, false, NULL},
                        {8, "serviceAccountName", PK_STR, false, NULL},
                        {10, "nodeName", PK_STR, false, NULL},
                        {11, "hostNetwork", PK_BOOL, false, NULL},
                        {16, "hostname", PK_STR, false, NULL},
                        {17, "subdomain", PK_STR, false, NULL},
                        {19, "schedulerName", PK_STR, false, NULL},
                        {20, "initContainers", PK_MSG, true, &m_container},
                        END}};
static const struct pmsg m_template = {(const struct pf[]){
    {1, "metadata", PK_MSG, false, &m_meta}, {2, "spec", PK_MSG, false, &m_podspec}, END}};
static const struct pmsg m_rolling = {(const struct pf[]){
    {1, "maxUnavailable", PK_INTSTR, false, NULL}, {2, "maxSurge", PK_INTSTR, false, NULL}, END}};
static const struct pmsg m_strategy = {(const struct pf[]){
    {1, "type", PK_STR, false, NULL}, {2, "rollingUpdate", PK_MSG, false, &m_rolling}, END}};
static const struct pmsg m_deploy_spec = {
    (const struct pf[]){{1, "replicas", PK_PINT, false, NULL},
                        {2, "selector", PK_MSG, false, &m_selector},
                        {3, "template", PK_MSG, false, &m_template},
                        {4, "strategy", PK_MSG, false, &m_strategy},
                        {5, "minReadySeconds", PK_INT, false, NULL},
                        {6, "revisionHistoryLimit", PK_PINT, false, NULL},
                        {7, "paused", PK_BOOL, false, NULL},
                        {9, "progressDeadlineSeconds", PK_PINT, false, NULL},
                        END}};
static const struct pmsg m_deployment = {
    (const struct pf[]){{1, "metadata", PK_MSG, false, &m_meta},
                        {2, "spec", PK_MSG, false, &m_deploy_spec},
                        {3, "status", PK_MSG, false, &m_empty},
                        END}};

static const struct pmsg m_svc_port = {
    (const struct pf[]){{1, "name", PK_STR, false, NULL},
                        {2, "protocol", PK_STR, false, NULL},
                        {3, "port", PK_INT, false, NULL},
                        {4, "targetPort", PK_INTSTR, false, NULL},
                        {5, "nodePort", PK_INT, false, NULL},
                        {6, "appProtocol", PK_STR, false, NULL},
                        END}};
static const struct pmsg m_svc_spec = {
    (const struct pf[]){{1, "ports", PK_MSG, true, &m_svc_port},
                        {2, "selector", PK_MAP_S, false, NULL},
                        {3, "clusterIP", PK_STR, false, NULL},
                        {4, "type", PK_STR, false, NULL},
                        {5, "externalIPs", PK_STR, true, NULL},
                        {7, "sessionAffinity", PK_STR, false, NULL},
                        {8, "loadBalancerIP", PK_STR, false, NULL},
                        {10, "externalName", PK_STR, false, NULL},
                        {11, "externalTrafficPolicy", PK_STR, false, NULL},
                        END}};
static const struct pmsg m_service = {(const struct pf[]){{1, "metadata", PK_MSG, false, &m_meta},
                                                          {2, "spec", PK_MSG, false, &m_svc_spec},
                                                          {3, "status", PK_MSG, false, &m_empty},
                                                          END}};

struct kind_msg {
    const char *kind;
    const struct pmsg *msg;
};
static const struct kind_msg kinds[] = {{"ConfigMap", &m_configmap},
                                        {"Secret", &m_secret},
                                        {"Namespace", &m_namespace},
                                        {"Deployment", &m_deployment},
                                        {"Service", &m_service}};

/* ---- wire format ---- */

struct rd {
    const uint8_t *p, *end;
};

static int varint(struct rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return -EINVAL;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -EINVAL;
}

/* A length-delimited field's bytes. */
static int bytes(struct rd *r, struct rd *out)
{
    uint64_t n;
    if (varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
        return -EINVAL;
    out->p = r->p;
    out->end = r->p + n;
    r->p += n;
    return 0;
}

static int skip(struct rd *r, unsigned wt)
{
    uint64_t v;
    struct rd b;
    switch (wt) {
    case 0:
        return varint(r, &v);
    case 1:
        if (r->end - r->p < 8)
            return -EINVAL;
        r->p += 8;
        return 0;
    case 2:
        return bytes(r, &b);
    case 5:
        if (r->end - r->p < 4)
            return -EINVAL;
        r->p += 4;
        return 0;
    default:
        return -EINVAL;
    }
}

static struct reef__jv *str_jv(const uint8_t *p, size_t n)
{
    return reef__jv_new_str((const char *)p, n);
}

static struct reef__jv *int_jv(int64_t v)
{
    char s[32];
    snprintf(s, sizeof(s), "%lld", (long long)v);
    struct reef__jv *j = reef__jv_new_str(s, strlen(s));
    if (j)
        j->kind = REEF_JSON_NUMBER;
    return j;
}

static struct reef__jv *b64_jv(const uint8_t *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    struct reef_buf b;
    reef_buf_init(&b);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {tbl[v >> 18 & 63], tbl[v >> 12 & 63], i + 1 < n ? tbl[v >> 6 & 63] : '=',
                     i + 2 < n ? tbl[v & 63] : '='};
        reef_buf_append(&b, q, 4);
    }
    struct reef__jv *j = reef__jv_new_str(b.data ? b.data : "", b.len);
    reef_buf_free(&b);
    return j;
}

static int decode_msg(struct rd *r, const struct pmsg *m, struct reef__jv *obj, int depth,
                      const char *path, struct reef_err *err);

/* A map entry {1: key, 2: value}. */
static int decode_entry(struct rd *r, enum pk kind, struct reef__jv *map, struct reef_err *err)
{
    struct rd key = {NULL, NULL}, val = {NULL, NULL};
    while (r->p < r->end) {
        uint64_t tag;
        if (varint(r, &tag) < 0)
            return -EINVAL;
        if ((tag & 7) != 2)
            return reef_err_set(err, -EINVAL, "map entry field is not length-delimited");
        struct rd b;
        if (bytes(r, &b) < 0)
            return -EINVAL;
        if (tag >> 3 == 1)
            key = b;
        else if (tag >> 3 == 2)
            val = b;
    }
    if (!key.p)
        key.p = key.end = (const uint8_t *)"";
    if (!val.p)
        val.p = val.end = (const uint8_t *)"";
    struct reef__jv *v;
    if (kind == PK_MAP_S) {
        v = str_jv(val.p, (size_t)(val.end - val.p));
    } else if (kind == PK_MAP_B) {
        v = b64_jv(val.p, (size_t)(val.end - val.p));
    } else {
        /* Quantity {1: string} */
        struct rd q = {NULL, NULL};
        while (val.p < val.end) {
            uint64_t tag;
            struct rd b;
            if (varint(&val, &tag) < 0 || (tag & 7) != 2 || bytes(&val, &b) < 0)
                return -EINVAL;
            if (tag >> 3 == 1)
                q = b;
        }
        v = q.p ? str_jv(q.p, (size_t)(q.end - q.p)) : str_jv((const uint8_t *)"0", 1);
    }
    if (!v)
        return -ENOMEM;
    return reef__jv_set(map, (const char *)key.p, (size_t)(key.end - key.p), v);
}

static int decode_field(struct rd *r, const struct pf *f, unsigned wt, struct reef__jv *obj,
                        int depth, const char *path, struct reef_err *err)
{
    struct reef__jv *v = NULL;
    uint64_t x;
    struct rd b;
    switch (f->kind) {
    case PK_INT:
    case PK_BOOL:
    case PK_PINT:
    case PK_PBOOL:
        if (wt != 0 || varint(r, &x) < 0)
            return -EINVAL;
        if (x == 0 && (f->kind == PK_INT || f->kind == PK_BOOL) && !f->repeated)
            return 0;
        if (f->kind == PK_BOOL || f->kind == PK_PBOOL) {
            v = reef__jv_new(REEF_JSON_BOOL);
            if (v)
                v->b = x != 0;
        } else {
            v = int_jv((int64_t)x);
        }
        break;
    case PK_STR:
    case PK_BYTES:
        if (wt != 2 || bytes(r, &b) < 0)
            return -EINVAL;
        if (b.p == b.end && f->kind == PK_STR && !f->repeated)
            return 0; /* empty strings are left out (omitempty) */
        v = f->kind == PK_STR ? str_jv(b.p, (size_t)(b.end - b.p))
                              : b64_jv(b.p, (size_t)(b.end - b.p));
        break;
    case PK_MAP_S:
    case PK_MAP_B:
    case PK_MAP_Q: {
        if (wt != 2 || bytes(r, &b) < 0)
            return -EINVAL;
        struct reef__jv *map = reef__api_jv_obj(obj, f->name);
        if (!map)
            return -ENOMEM;
        return decode_entry(&b, f->kind, map, err);
    }
    case PK_TIME: {
        if (wt != 2 || bytes(r, &b) < 0)
            return -EINVAL;
        int64_t secs = 0;
        while (b.p < b.end) {
            uint64_t tag;
            if (varint(&b, &tag) < 0)
                return -EINVAL;
            if (tag == (1 << 3 | 0)) {
                if (varint(&b, &x) < 0)
                    return -EINVAL;
                secs = (int64_t)x;
            } else if (skip(&b, tag & 7) < 0) {
                return -EINVAL;
            }
        }
        if (secs == 0)
            return 0; /* the zero time is JSON null: leave it out */
        time_t t = (time_t)secs;
        struct tm tm;
        char s[32];
        if (!gmtime_r(&t, &tm))
            return -EINVAL;
        strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
        v = reef__jv_new_str(s, strlen(s));
        break;
    }
    case PK_INTSTR: {
        if (wt != 2 || bytes(r, &b) < 0)
            return -EINVAL;
        int64_t type = 0, iv = 0;
        struct rd sv = {(const uint8_t *)"", (const uint8_t *)""};
        while (b.p < b.end) {
            uint64_t tag;
            if (varint(&b, &tag) < 0)
                return -EINVAL;
            if (tag >> 3 == 1 && (tag & 7) == 0) {
                if (varint(&b, &x) < 0)
                    return -EINVAL;
                type = (int64_t)x;
            } else if (tag >> 3 == 2 && (tag & 7) == 0) {
                if (varint(&b, &x) < 0)
                    return -EINVAL;
                iv = (int32_t)x;
            } else if (tag >> 3 == 3 && (tag & 7) == 2) {
                if (bytes(&b, &sv) < 0)
                    return -EINVAL;
            } else if (skip(&b, tag & 7) < 0) {
                return -EINVAL;
            }
        }
        v = type == 1 ? str_jv(sv.p, (size_t)(sv.end - sv.p)) : int_jv(iv);
        break;
    }
    case PK_MSG: {
        if (wt != 2 || bytes(r, &b) < 0)
            return -EINVAL;
        v = reef__jv_new(REEF_JSON_OBJECT);
        if (!v)
            return -ENOMEM;
        char sub[256];
        snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", f->name);
        int rc = decode_msg(&b, f->msg, v, depth + 1, sub, err);
        if (rc < 0) {
            reef__jv_free(v);
            return rc;
        }
        break;
    }
    }
    if (!v)
        return -ENOMEM;
    if (!f->repeated)
        return reef__jv_set(obj, f->name, strlen(f->name), v);
    struct reef__jv *arr = reef__jv_get(obj, f->name);
    if (!arr) {
        arr = reef__jv_new(REEF_JSON_ARRAY);
        if (!arr || reef__jv_set(obj, f->name, strlen(f->name), arr) < 0) {
            reef__jv_free(v);
            return -ENOMEM;
        }
    }
    return reef__jv_push(arr, v);
}

static int decode_msg(struct rd *r, const struct pmsg *m, struct reef__jv *obj, int depth,
                      const char *path, struct reef_err *err)
{
    if (depth > 16)
        return reef_err_set(err, -EINVAL, "protobuf: nested too deep");
    while (r->p < r->end) {
        uint64_t tag;
        if (varint(r, &tag) < 0)
            return reef_err_set(err, -EINVAL, "protobuf: truncated field tag");
        int num = (int)(tag >> 3);
        const struct pf *f = m->f;
        while (f->num && f->num != num)
            f++;
        if (!f->num) {
            /* Go's protobuf writes every non-pointer field, set or not: an unknown field holding
             * its zero value carries nothing and is skipped; anything else is refused. */
            const uint8_t *at = r->p;
            uint64_t x;
            struct rd b;
            if (((tag & 7) == 0 && varint(r, &x) == 0 && x == 0) ||
                ((tag & 7) == 2 && bytes(r, &b) == 0 && b.p == b.end))
                continue;
            r->p = at;
            return reef_err_set(err, -EOPNOTSUPP,
                                "protobuf: field %d of %s is not supported; send JSON", num,
                                path[0] ? path : "the object");
        }
        int rc = decode_field(r, f, (unsigned)(tag & 7), obj, depth, path, err);
        if (rc < 0) {
            if (err && !err->code)
                reef_err_set(err, rc, "protobuf: malformed field %s%s%s", path, path[0] ? "." : "",
                             f->name);
            return rc;
        }
    }
    return 0;
}

int reef__api_proto_to_json(const char *kind, const char *data, size_t len, struct reef_buf *out,
                            struct reef_err *err)
{
    const struct pmsg *m = NULL;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            m = kinds[i].msg;
    if (!m)
        return reef_err_set(err, -EOPNOTSUPP,
                            "protobuf bodies are not supported for %s; send "
                            "JSON",
                            kind);
    if (len < 4 || memcmp(data, "k8s\0", 4) != 0)
        return reef_err_set(err, -EINVAL, "protobuf: missing the k8s envelope");
    /* runtime.Unknown {1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding,
     * 4: contentType} */
    struct rd r = {(const uint8_t *)data + 4, (const uint8_t *)data + len};
    struct rd raw = {NULL, NULL}, apiv = {NULL, NULL}, k = {NULL, NULL};
    while (r.p < r.end) {
        uint64_t tag;
        struct rd b;
        if (varint(&r, &tag) < 0 || (tag & 7) != 2 || bytes(&r, &b) < 0)
            return reef_err_set(err, -EINVAL, "protobuf: malformed envelope");
        if (tag >> 3 == 1) {
            while (b.p < b.end) {
                uint64_t t2;
                struct rd s;
                if (varint(&b, &t2) < 0 || (t2 & 7) != 2 || bytes(&b, &s) < 0)
                    return reef_err_set(err, -EINVAL, "protobuf: malformed type meta");
                if (t2 >> 3 == 1)
                    apiv = s;
                else if (t2 >> 3 == 2)
                    k = s;
            }
        } else if (tag >> 3 == 2) {
            raw = b;
        }
    }
    if (!raw.p)
        return reef_err_set(err, -EINVAL, "protobuf: envelope without an object");
    struct reef__jv *obj = reef__jv_new(REEF_JSON_OBJECT);
    if (!obj)
        return -ENOMEM;
    int rc = 0;
    if (apiv.p && apiv.end > apiv.p)
        rc = reef__jv_set(obj, "apiVersion", 10, str_jv(apiv.p, (size_t)(apiv.end - apiv.p)));
    if (rc == 0 && k.p && k.end > k.p)
        rc = reef__jv_set(obj, "kind", 4, str_jv(k.p, (size_t)(k.end - k.p)));
    if (rc == 0)
        rc = decode_msg(&raw, m, obj, 0, "", err);
    if (rc == 0)
        rc = reef__jv_to_buf(obj, out, err);
    reef__jv_free(obj);
    return rc;
}
