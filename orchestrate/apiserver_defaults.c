/* apiserver: the defaults Kubernetes 1.32's defaulters apply to the built-in kinds
 * (k8s.io/kubernetes/pkg/apis/core/v1/defaults.go and the generated walkers that call it, and
 * apps/v1's), and the allocation of Service addresses and node ports. Pod templates get what
 * pods get except SetDefaults_Pod's part (enableServiceLinks, requests from limits): the
 * Deployment controller hashes templates, and pod-template-hash must match upstream's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/apiserver.h"
#include "orchestrate/patch.h"

static struct reef__jv *member(const struct reef__jv *o, const char *key)
{
    return o && o->kind == REEF_JSON_OBJECT ? reef__jv_get(o, key) : NULL;
}

/* Go decodes null into a nil pointer, map or slice: for defaults it is the same as absent. */
static bool present(const struct reef__jv *o, const char *key)
{
    const struct reef__jv *v = reef__jv_get(o, key);
    return v && v->kind != REEF_JSON_NULL;
}

static int set_default_str(struct reef__jv *o, const char *key, const char *val)
{
    if (!o || o->kind != REEF_JSON_OBJECT || present(o, key))
        return 0;
    return reef__api_jv_set_str(o, key, val);
}

static int set_default_int(struct reef__jv *o, const char *key, int64_t val)
{
    if (!o || o->kind != REEF_JSON_OBJECT || present(o, key))
        return 0;
    return reef__api_jv_set_int(o, key, val);
}

static int set_default_bool(struct reef__jv *o, const char *key, bool val)
{
    if (!o || o->kind != REEF_JSON_OBJECT || present(o, key))
        return 0;
    struct reef__jv *v = reef__jv_new(REEF_JSON_BOOL);
    if (!v)
        return -ENOMEM;
    v->b = val;
    return reef__jv_set(o, key, strlen(key), v);
}

/* For Go's non-pointer numbers, whose zero means "not set": absent, null or 0 get val. */
static int set_default_nonzero(struct reef__jv *o, const char *key, int64_t val)
{
    const struct reef__jv *v = o && o->kind == REEF_JSON_OBJECT ? reef__jv_get(o, key) : NULL;
    if (!o || o->kind != REEF_JSON_OBJECT ||
        (v && !(v->kind == REEF_JSON_NULL ||
                (v->kind == REEF_JSON_NUMBER && v->s.n == 1 && v->s.p[0] == '0'))))
        return 0;
    return reef__api_jv_set_int(o, key, val);
}

/* Member key of o as an object, created (or replacing null) when absent; NULL when o is not an
 * object, the member is of another type, or on ENOMEM. *fail is set only for ENOMEM. */
static struct reef__jv *ensure_obj(struct reef__jv *o, const char *key, bool *fail)
{
    if (!o || o->kind != REEF_JSON_OBJECT)
        return NULL;
    struct reef__jv *v = reef__jv_get(o, key);
    if (v && v->kind == REEF_JSON_NULL)
        reef__jv_del(o, key, strlen(key));
    else if (v)
        return v->kind == REEF_JSON_OBJECT ? v : NULL;
    v = reef__api_jv_obj(o, key);
    if (!v)
        *fail = true;
    return v;
}

/* Array member key of o (NULL when absent or not an array), and its object elements. */
static struct reef__jv *arr(const struct reef__jv *o, const char *key)
{
    struct reef__jv *a = member(o, key);
    return a && a->kind == REEF_JSON_ARRAY ? a : NULL;
}

static struct reef__jv *item_obj(const struct reef__jv *a, size_t i)
{
    return a->items[i]->kind == REEF_JSON_OBJECT ? a->items[i] : NULL;
}

/* ---- defaults ---- */

/* SetDefaults_HTTPGetAction. */
static int default_http_get(struct reef__jv *handler)
{
    struct reef__jv *hg = member(handler, "httpGet");
    if (set_default_str(hg, "path", "/") < 0 || set_default_str(hg, "scheme", "HTTP") < 0)
        return -ENOMEM;
    return 0;
}

/* SetDefaults_Probe with its handler's defaults (gRPC's service is `+default=""`). */
static int default_probe(struct reef__jv *p)
{
    if (!p || p->kind != REEF_JSON_OBJECT)
        return 0;
    if (set_default_nonzero(p, "timeoutSeconds", 1) < 0 ||
        set_default_nonzero(p, "periodSeconds", 10) < 0 ||
        set_default_nonzero(p, "successThreshold", 1) < 0 ||
        set_default_nonzero(p, "failureThreshold", 3) < 0 || default_http_get(p) < 0 ||
        set_default_str(member(p, "grpc"), "service", "") < 0)
        return -ENOMEM;
    return 0;
}

/* SetDefaults_ObjectFieldSelector on fieldRef of o. */
static int default_field_ref(struct reef__jv *o)
{
    return set_default_str(member(o, "fieldRef"), "apiVersion", "v1");
}

static int default_container(struct reef__jv *ct)
{
    if (!ct || ct->kind != REEF_JSON_OBJECT)
        return 0;
    const char *image = reef__api_jv_str(ct, "image");
    if (image && !present(ct, "imagePullPolicy")) {
        /* the tag is after the last '/', and a digest pins the image */
        const char *slash = strrchr(image, '/');
        const char *colon = strchr(slash ? slash : image, ':');
        bool latest = !strchr(image, '@') && (!colon || strcmp(colon, ":latest") == 0);
        if (reef__api_jv_set_str(ct, "imagePullPolicy", latest ? "Always" : "IfNotPresent") < 0)
            return -ENOMEM;
    }
    bool fail = false;
    if (set_default_str(ct, "terminationMessagePath", "/dev/termination-log") < 0 ||
        set_default_str(ct, "terminationMessagePolicy", "File") < 0)
        return -ENOMEM;
    ensure_obj(ct, "resources", &fail);
    struct reef__jv *a = arr(ct, "ports");
    for (size_t i = 0; a && i < a->len; i++)
        if (set_default_str(item_obj(a, i), "protocol", "TCP") < 0)
            return -ENOMEM;
    a = arr(ct, "env");
    for (size_t i = 0; a && i < a->len; i++)
        if (default_field_ref(member(item_obj(a, i), "valueFrom")) < 0)
            return -ENOMEM;
    static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
    for (size_t i = 0; i < 3; i++)
        if (default_probe(member(ct, probes[i])) < 0)
            return -ENOMEM;
    struct reef__jv *lc = member(ct, "lifecycle");
    if (default_http_get(member(lc, "postStart")) < 0 ||
        default_http_get(member(lc, "preStop")) < 0)
        return -ENOMEM;
    return fail ? -ENOMEM : 0;
}

/* SetDefaults_Volume and the volume sources' defaults: a volume without a source is an
 * emptyDir, file modes default to 0644, hostPath's type to "", token projections to an hour. */
static int default_volume(struct reef__jv *v)
{
    if (!v)
        return 0;
    bool source = false, fail = false;
    for (size_t i = 0; i < v->len; i++)
        source |= strcmp(v->keys[i].p, "name") != 0 && v->items[i]->kind != REEF_JSON_NULL;
    if (!source)
        ensure_obj(v, "emptyDir", &fail);
    static const char *const modes[] = {"secret", "configMap", "downwardAPI", "projected"};
    for (size_t i = 0; i < 4; i++)
        if (set_default_int(member(v, modes[i]), "defaultMode", 0644) < 0)
            return -ENOMEM;
    struct reef__jv *hp = member(v, "hostPath");
    if (set_default_str(hp, "type", "") < 0)
        return -ENOMEM;
    struct reef__jv *a = arr(member(v, "downwardAPI"), "items");
    for (size_t i = 0; a && i < a->len; i++)
        if (default_field_ref(item_obj(a, i)) < 0)
            return -ENOMEM;
    struct reef__jv *srcs = arr(member(v, "projected"), "sources");
    for (size_t i = 0; srcs && i < srcs->len; i++) {
        struct reef__jv *src = item_obj(srcs, i);
        if (set_default_int(member(src, "serviceAccountToken"), "expirationSeconds", 3600) < 0)
            return -ENOMEM;
        a = arr(member(src, "downwardAPI"), "items");
        for (size_t j = 0; a && j < a->len; j++)
            if (default_field_ref(item_obj(a, j)) < 0)
                return -ENOMEM;
    }
    return fail ? -ENOMEM : 0;
}

/* SetDefaults_Pod's part, for pods only (not templates): service links on, requests of a
 * container with limits default to those limits, host-network ports to host ports. */
static int default_pod_only(struct reef__jv *spec)
{
    if (set_default_bool(spec, "enableServiceLinks", true) < 0)
        return -ENOMEM;
    const struct reef__jv *hn = member(spec, "hostNetwork");
    bool host_net = hn && hn->kind == REEF_JSON_BOOL && hn->b;
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        struct reef__jv *cs = arr(spec, lists[l]);
        for (size_t i = 0; cs && i < cs->len; i++) {
            struct reef__jv *res = member(item_obj(cs, i), "resources");
            struct reef__jv *lim = member(res, "limits");
            if (lim && lim->kind == REEF_JSON_OBJECT) {
                bool fail = false;
                struct reef__jv *req = ensure_obj(res, "requests", &fail);
                for (size_t k = 0; req && k < lim->len; k++) {
                    if (present(req, lim->keys[k].p))
                        continue;
                    struct reef__jv *cp = reef__jv_clone(lim->items[k]);
                    if (!cp || reef__jv_set(req, lim->keys[k].p, lim->keys[k].n, cp) < 0)
                        return -ENOMEM;
                }
                if (fail)
                    return -ENOMEM;
            }
            struct reef__jv *ports = host_net ? arr(item_obj(cs, i), "ports") : NULL;
            for (size_t k = 0; ports && k < ports->len; k++) {
                struct reef__jv *p = item_obj(ports, k);
                const struct reef__jv *cp = member(p, "containerPort");
                const struct reef__jv *hp = member(p, "hostPort");
                bool unset = !hp || hp->kind == REEF_JSON_NULL ||
                             (hp->kind == REEF_JSON_NUMBER && strcmp(hp->s.p, "0") == 0);
                if (cp && cp->kind == REEF_JSON_NUMBER && unset) {
                    struct reef__jv *c2 = reef__jv_clone(cp);
                    if (!c2 || reef__jv_set(p, "hostPort", 8, c2) < 0)
                        return -ENOMEM;
                }
            }
        }
    }
    return 0;
}

/* SetDefaults_PodSpec and what the generated walker applies under it; pod adds
 * SetDefaults_Pod's part. */
static int default_pod_spec(struct reef__jv *spec, bool pod)
{
    if (!spec || spec->kind != REEF_JSON_OBJECT)
        return 0;
    bool fail = false;
    if (set_default_str(spec, "restartPolicy", "Always") < 0 ||
        set_default_int(spec, "terminationGracePeriodSeconds", 30) < 0 ||
        set_default_str(spec, "dnsPolicy", "ClusterFirst") < 0 ||
        set_default_str(spec, "schedulerName", "default-scheduler") < 0)
        return -ENOMEM;
    ensure_obj(spec, "securityContext", &fail);
    if (fail || (pod && default_pod_only(spec) < 0))
        return -ENOMEM;
    struct reef__jv *vols = arr(spec, "volumes");
    for (size_t i = 0; vols && i < vols->len; i++)
        if (default_volume(item_obj(vols, i)) < 0)
            return -ENOMEM;
    static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
    for (size_t l = 0; l < 3; l++) {
        struct reef__jv *cs = arr(spec, lists[l]);
        for (size_t i = 0; cs && i < cs->len; i++)
            if (default_container(cs->items[i]) < 0)
                return -ENOMEM;
    }
    return 0;
}

/* The addresses and node ports in use by other services. */
struct alloc {
    uint8_t ips[65536 / 8];
    uint8_t ports[2768 / 8 + 1];
    const char *self_ns, *self_name;
};

static bool bit(const uint8_t *m, unsigned i)
{
    return m[i / 8] & (1u << (i % 8));
}
static void set_bit(uint8_t *m, unsigned i)
{
    m[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* 10.43.x.y → offset, or -1 outside 10.43.0.0/16. */
static int ip_offset(const char *ip)
{
    unsigned a, b, x, y;
    char tail;
    if (sscanf(ip, "%u.%u.%u.%u%c", &a, &b, &x, &y, &tail) != 4 || a != 10 || b != 43 || x > 255 ||
        y > 255)
        return -1;
    return (int)(x * 256 + y);
}

static int mark_service(void *arg, const struct reef_store_item *it)
{
    struct alloc *al = arg;
    if (strcmp(it->namespace, al->self_ns) == 0 && strcmp(it->name, al->self_name) == 0)
        return 0;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, it->object, it->len, NULL, NULL) == 0) {
        char ip[64];
        int v = reef_json_find(&d, REEF_JSON_ROOT, "spec.clusterIP", NULL);
        if (v >= 0 && reef_json_get_str(&d, v, ip, sizeof(ip), NULL) == 0) {
            int off = ip_offset(ip);
            if (off >= 0)
                set_bit(al->ips, (unsigned)off);
        }
        int ports = reef_json_find(&d, REEF_JSON_ROOT, "spec.ports", NULL);
        struct reef_json_iter i = reef_json_iter(&d, ports);
        while (reef_json_next(&d, &i)) {
            int np = reef_json_member(&d, i.val, "nodePort");
            int64_t p;
            if (np >= 0 && reef_json_get_int(&d, np, &p, NULL) == 0 && p >= 30000 && p <= 32767)
                set_bit(al->ports, (unsigned)(p - 30000));
        }
    }
    reef_json_doc_free(&d);
    return 0;
}

/* SetDefaults_Service, but for the addresses (allocated below). */
static int default_service_spec(struct reef__jv *spec, const char *type, bool node_ports, bool lb)
{
    const char *aff = reef__api_jv_str(spec, "sessionAffinity");
    if (aff && strcmp(aff, "None") == 0) {
        reef__jv_del(spec, "sessionAffinityConfig", 21);
    } else if (aff && strcmp(aff, "ClientIP") == 0) {
        bool fail = false;
        struct reef__jv *cfg = ensure_obj(spec, "sessionAffinityConfig", &fail);
        struct reef__jv *cip = ensure_obj(cfg, "clientIP", &fail);
        if (fail || set_default_int(cip, "timeoutSeconds", 10800) < 0)
            return -ENOMEM;
    }
    struct reef__jv *ext = arr(spec, "externalIPs");
    bool external = node_ports || (type && strcmp(type, "ClusterIP") == 0 && ext && ext->len);
    if ((external && set_default_str(spec, "externalTrafficPolicy", "Cluster") < 0) ||
        ((node_ports || (type && strcmp(type, "ClusterIP") == 0)) &&
         set_default_str(spec, "internalTrafficPolicy", "Cluster") < 0) ||
        (lb && set_default_bool(spec, "allocateLoadBalancerNodePorts", true) < 0))
        return -ENOMEM;
    struct reef__jv *ports = arr(spec, "ports");
    for (size_t i = 0; ports && i < ports->len; i++) {
        struct reef__jv *p = item_obj(ports, i);
        if (set_default_str(p, "protocol", "TCP") < 0)
            return -ENOMEM;
        /* targetPort 0 or "" is unset too */
        const struct reef__jv *tp = member(p, "targetPort");
        if (tp && ((tp->kind == REEF_JSON_NUMBER && strcmp(tp->s.p, "0") == 0) ||
                   (tp->kind == REEF_JSON_STRING && tp->s.n == 0) || tp->kind == REEF_JSON_NULL))
            reef__jv_del(p, "targetPort", 10);
        struct reef__jv *port = member(p, "port");
        if (port && !present(p, "targetPort")) {
            struct reef__jv *cp = reef__jv_clone(port);
            if (!cp || reef__jv_set(p, "targetPort", 10, cp) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

static int default_service(struct reef_apiserver *a, struct reef__jv *obj,
                           const struct reef__jv *old, struct reef_err *err)
{
    struct reef__jv *spec = reef__api_jv_obj(obj, "spec");
    if (!spec)
        return 0;
    const struct reef__jv *ospec = member(old, "spec");
    /* an update keeps what was allocated */
    static const char *const keep[] = {"clusterIP", "clusterIPs"};
    for (size_t i = 0; ospec && i < 2; i++) {
        const struct reef__jv *ov = member(ospec, keep[i]);
        if (ov && !reef__jv_get(spec, keep[i])) {
            struct reef__jv *cp = reef__jv_clone(ov);
            if (!cp || reef__jv_set(spec, keep[i], strlen(keep[i]), cp) < 0)
                return -ENOMEM;
        }
    }
    if (set_default_str(spec, "type", "ClusterIP") < 0 ||
        set_default_str(spec, "sessionAffinity", "None") < 0)
        return -ENOMEM;
    const char *type = reef__api_jv_str(spec, "type");
    bool lb = type && strcmp(type, "LoadBalancer") == 0;
    bool node_ports = lb || (type && strcmp(type, "NodePort") == 0);
    if (default_service_spec(spec, type, node_ports, lb) < 0)
        return -ENOMEM;
    if (type && strcmp(type, "ExternalName") == 0)
        return 0;
    if (set_default_str(spec, "ipFamilyPolicy", "SingleStack") < 0)
        return -ENOMEM;
    struct alloc *al = calloc(1, sizeof(*al));
    if (!al)
        return -ENOMEM;
    const struct reef__jv *md = member(obj, "metadata");
    al->self_ns = reef__api_jv_str(md, "namespace");
    al->self_name = reef__api_jv_str(md, "name");
    if (!al->self_ns)
        al->self_ns = "";
    if (!al->self_name)
        al->self_name = "";
    set_bit(al->ips, 0);
    set_bit(al->ips, 1);  /* the kubernetes service */
    set_bit(al->ips, 10); /* cluster DNS */
    set_bit(al->ips, 65535);
    struct reef_store_list_result lr;
    int r = reef_store_list(a->store, "services", NULL, mark_service, al, &lr, err);
    if (r < 0)
        goto out;
    const char *ip = reef__api_jv_str(spec, "clusterIP");
    if (ip && ip[0] && strcmp(ip, "None") != 0) {
        int off = ip_offset(ip);
        if (off < 0 || (bit(al->ips, (unsigned)off) &&
                        !(ospec && reef__api_jv_str(ospec, "clusterIP") &&
                          strcmp(reef__api_jv_str(ospec, "clusterIP"), ip) == 0))) {
            r = reef_err_set(err, -EINVAL, "spec.clusterIP: Invalid value: \"%s\": %s", ip,
                             off < 0 ? "provided IP is not in the valid range. The range of valid "
                                       "IPs is 10.43.0.0/16"
                                     : "provided IP is already allocated");
            goto out;
        }
    } else if (!ip || !ip[0]) {
        char uid[REEF_STORE_UID_LEN + 1];
        unsigned start = 11;
        if (reef_store_new_uid(uid, NULL) == 0)
            start = (unsigned)strtoul(uid + 24, NULL, 16) % 65000 + 11;
        int found = -1;
        for (unsigned i = 0; i < 65536; i++) {
            unsigned off = (start + i) % 65536;
            if (!bit(al->ips, off)) {
                found = (int)off;
                break;
            }
        }
        if (found < 0) {
            r = reef_err_set(err, -EINVAL, "spec.clusterIP: Internal error: range is full");
            goto out;
        }
        char buf[32];
        snprintf(buf, sizeof(buf), "10.43.%d.%d", found / 256, found % 256);
        struct reef__jv *ips = reef__jv_new(REEF_JSON_ARRAY);
        struct reef__jv *s = reef__jv_new_str(buf, strlen(buf));
        if (reef__api_jv_set_str(spec, "clusterIP", buf) < 0 || !ips || !s ||
            reef__jv_push(ips, s) < 0 || reef__jv_set(spec, "clusterIPs", 10, ips) < 0) {
            r = -ENOMEM;
            goto out;
        }
    }
    if (!reef__jv_get(spec, "ipFamilies")) {
        struct reef__jv *fam = reef__jv_new(REEF_JSON_ARRAY);
        struct reef__jv *v4 = reef__jv_new_str("IPv4", 4);
        if (!fam || !v4 || reef__jv_push(fam, v4) < 0 ||
            reef__jv_set(spec, "ipFamilies", 10, fam) < 0) {
            r = -ENOMEM;
            goto out;
        }
    }
    const struct reef__jv *oports = member(ospec, "ports");
    struct reef__jv *ports = member(spec, "ports");
    for (size_t i = 0; ports && ports->kind == REEF_JSON_ARRAY && i < ports->len; i++) {
        struct reef__jv *p = ports->items[i];
        if (p->kind != REEF_JSON_OBJECT)
            continue;
        if (set_default_str(p, "protocol", "TCP") < 0) {
            r = -ENOMEM;
            goto out;
        }
        struct reef__jv *port = member(p, "port");
        if (port && !reef__jv_get(p, "targetPort")) {
            struct reef__jv *cp = reef__jv_clone(port);
            if (!cp || reef__jv_set(p, "targetPort", 10, cp) < 0) {
                r = -ENOMEM;
                goto out;
            }
        }
        int64_t given;
        if (reef__api_jv_int(member(p, "nodePort"), &given)) {
            if (given < 30000 || given > 32767 || bit(al->ports, (unsigned)(given - 30000))) {
                r = reef_err_set(err, -EINVAL, "spec.ports[%zu].nodePort: Invalid value: %lld: %s",
                                 i, (long long)given,
                                 given < 30000 || given > 32767
                                     ? "provided port is not in the valid range. The range of "
                                       "valid ports is 30000-32767"
                                     : "provided port is already allocated");
                goto out;
            }
            set_bit(al->ports, (unsigned)(given - 30000));
            continue;
        }
        if (!node_ports)
            continue;
        /* keep the node port the same port had before */
        int64_t pn, on, onp;
        bool have = reef__api_jv_int(port, &pn);
        for (size_t j = 0; have && oports && oports->kind == REEF_JSON_ARRAY && j < oports->len;
             j++) {
            const struct reef__jv *op = oports->items[j];
            if (reef__api_jv_int(member(op, "port"), &on) && on == pn &&
                reef__api_jv_int(member(op, "nodePort"), &onp)) {
                if (reef__api_jv_set_int(p, "nodePort", onp) < 0) {
                    r = -ENOMEM;
                    goto out;
                }
                set_bit(al->ports, (unsigned)(onp - 30000) % 2768);
                break;
            }
        }
        if (reef__jv_get(p, "nodePort"))
            continue;
        int found = -1;
        for (unsigned k = 0; k < 2768; k++)
            if (!bit(al->ports, k)) {
                found = (int)k;
                break;
            }
        if (found < 0) {
            r = reef_err_set(err, -EINVAL,
                             "spec.ports[%zu].nodePort: Internal error: range is "
                             "full",
                             i);
            goto out;
        }
        set_bit(al->ports, (unsigned)found);
        if (reef__api_jv_set_int(p, "nodePort", 30000 + found) < 0) {
            r = -ENOMEM;
            goto out;
        }
    }
out:
    free(al);
    return r;
}

/* ---- status.qosClass ---- */

/* A resource.Quantity in nano-units (1 = 1e-9 of the unit), or false when it does not parse.
 * Digits past nano precision are dropped; quantities are compared, not printed. */
static bool quantity_nano(const struct reef__jv *v, __int128 *out)
{
    if (!v || (v->kind != REEF_JSON_STRING && v->kind != REEF_JSON_NUMBER))
        return false;
    const char *p = v->s.p, *end = v->s.p + v->s.n;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
        end--;
    const char *start = p;
    bool neg = false;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    __int128 mant = 0;
    int digits = 0, frac = 0;
    bool dot = false;
    for (; p < end && ((*p >= '0' && *p <= '9') || (*p == '.' && !dot)); p++) {
        if (*p == '.') {
            dot = true;
            continue;
        }
        if (digits < 30) {
            mant = mant * 10 + (*p - '0');
            digits += mant != 0;
            frac += dot;
        } else if (!dot) {
            return false; /* far too large for any resource */
        }
    }
    if (p == start + neg)
        return false;
    int exp10 = 9 - frac, bin = 0;
    size_t rest = (size_t)(end - p);
    static const struct {
        const char *s;
        int e10, e2;
    } sfx[] = {{"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"", 0, 0},
               {"k", 3, 0},   {"M", 6, 0},   {"G", 9, 0},   {"T", 12, 0},
               {"P", 15, 0},  {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
               {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60}};
    bool found = false;
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]) && !found; i++)
        if (strlen(sfx[i].s) == rest && memcmp(sfx[i].s, p, rest) == 0) {
            exp10 += sfx[i].e10;
            bin = sfx[i].e2;
            found = true;
        }
    if (!found && rest >= 2 && (*p == 'e' || *p == 'E')) {
        long long e;
        char num[16];
        if (rest - 1 >= sizeof(num))
            return false;
        memcpy(num, p + 1, rest - 1);
        num[rest - 1] = '\0';
        if (reef_str_to_ll(num, -30, 30, &e) < 0)
            return false;
        exp10 += (int)e;
        found = true;
    }
    if (!found)
        return false;
    for (; exp10 > 0; exp10--) {
        if (mant > ((__int128)1 << 100))
            return false;
        mant *= 10;
    }
    for (; exp10 < 0; exp10++)
        mant /= 10;
    if (bin && mant > ((__int128)1 << 60))
        return false;
    mant <<= bin;
    *out = neg ? -mant : mant;
    return true;
}

struct qos_sum {
    __int128 req[2], lim[2]; /* cpu, memory */
    bool has_req[2], has_lim[2];
};

/* Kubernetes' ComputePodQOS over containers and init containers: only cpu and memory count,
 * and only quantities above zero. BestEffort without any; Guaranteed when every container
 * limits both and the summed requests equal the summed limits; else Burstable. */
static const char *pod_qos(const struct reef__jv *spec)
{
    static const char *const names[2] = {"cpu", "memory"};
    struct qos_sum q = {0};
    bool guaranteed = true;
    static const char *const lists[] = {"initContainers", "containers"};
    for (size_t l = 0; l < 2; l++) {
        const struct reef__jv *cs = arr(spec, lists[l]);
        for (size_t i = 0; cs && i < cs->len; i++) {
            const struct reef__jv *res = member(item_obj(cs, i), "resources");
            const struct reef__jv *req = member(res, "requests"), *lim = member(res, "limits");
            bool lim_found[2] = {false, false};
            for (int r = 0; r < 2; r++) {
                __int128 x;
                if (quantity_nano(member(req, names[r]), &x) && x > 0) {
                    q.req[r] += x;
                    q.has_req[r] = true;
                }
                if (quantity_nano(member(lim, names[r]), &x) && x > 0) {
                    q.lim[r] += x;
                    q.has_lim[r] = lim_found[r] = true;
                }
            }
            if (!lim_found[0] || !lim_found[1])
                guaranteed = false;
        }
    }
    if (!q.has_req[0] && !q.has_req[1] && !q.has_lim[0] && !q.has_lim[1])
        return "BestEffort";
    for (int r = 0; r < 2 && guaranteed; r++)
        if (q.has_req[r] != q.has_lim[r] || (q.has_req[r] && q.req[r] != q.lim[r]))
            guaranteed = false;
    return guaranteed ? "Guaranteed" : "Burstable";
}

int reef__api_default(struct reef_apiserver *a, const struct reef__api_res *r, struct reef__jv *obj,
                      const struct reef__jv *old, struct reef_err *err)
{
    const char *k = r->kind;
    int rc = 0;
    if (strcmp(k, "Pod") == 0) {
        rc = default_pod_spec(member(obj, "spec"), true);
        if (rc == 0 && !old && !reef__jv_get(obj, "status")) {
            struct reef__jv *st = reef__api_jv_obj(obj, "status");
            if (!st || reef__api_jv_set_str(st, "phase", "Pending") < 0)
                rc = -ENOMEM;
        }
        /* computed once, at creation (after requests were defaulted from limits) */
        struct reef__jv *st = rc == 0 && !old ? reef__api_jv_obj(obj, "status") : NULL;
        if (st && reef__api_jv_set_str(st, "qosClass", pod_qos(member(obj, "spec"))) < 0)
            rc = -ENOMEM;
    } else if (strcmp(k, "Deployment") == 0 || strcmp(k, "ReplicaSet") == 0) {
        struct reef__jv *spec = reef__api_jv_obj(obj, "spec");
        if (spec) {
            rc = set_default_int(spec, "replicas", 1);
            if (rc == 0 && strcmp(k, "Deployment") == 0) {
                if (set_default_int(spec, "revisionHistoryLimit", 10) < 0 ||
                    set_default_int(spec, "progressDeadlineSeconds", 600) < 0)
                    rc = -ENOMEM;
                struct reef__jv *st = rc == 0 ? reef__api_jv_obj(spec, "strategy") : NULL;
                if (st) {
                    if (set_default_str(st, "type", "RollingUpdate") < 0)
                        rc = -ENOMEM;
                    const char *t = reef__api_jv_str(st, "type");
                    if (rc == 0 && t && strcmp(t, "RollingUpdate") == 0) {
                        struct reef__jv *ru = reef__api_jv_obj(st, "rollingUpdate");
                        if (!ru || set_default_str(ru, "maxUnavailable", "25%") < 0 ||
                            set_default_str(ru, "maxSurge", "25%") < 0)
                            rc = -ENOMEM;
                    }
                }
            }
            struct reef__jv *tmpl = member(spec, "template");
            if (rc == 0 && tmpl)
                rc = default_pod_spec(member(tmpl, "spec"), false);
        }
    } else if (strcmp(k, "Service") == 0) {
        rc = default_service(a, obj, old, err);
        if (rc == -EINVAL)
            return rc;
    } else if (strcmp(k, "Namespace") == 0) {
        struct reef__jv *md = reef__api_jv_obj(obj, "metadata");
        struct reef__jv *labels = md ? reef__api_jv_obj(md, "labels") : NULL;
        const char *name = reef__api_jv_str(md, "name");
        struct reef__jv *st = reef__api_jv_obj(obj, "status");
        if (!labels || !st ||
            (name && reef__api_jv_set_str(labels, "kubernetes.io/metadata.name", name) < 0) ||
            set_default_str(st, "phase", "Active") < 0)
            rc = -ENOMEM;
    } else if (strcmp(k, "Secret") == 0) {
        rc = set_default_str(obj, "type", "Opaque");
    }
    if (rc == -ENOMEM)
        return reef_err_set(err, -ENOMEM, "out of memory");
    return rc;
}
