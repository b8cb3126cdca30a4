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

static int set_default_str(struct reef__jv *o, const char *key, const char *val)
{
    if (!o || reef__jv_get(o, key))
        return 0;
    return reef__api_jv_set_str(o, key, val);
}

static int set_default_int(struct reef__jv *o, const char *key, int64_t val)
{
    if (!o || reef__jv_get(o, key))
        return 0;
    return reef__api_jv_set_int(o, key, val);
}

static struct reef__jv *member(const struct reef__jv *o, const char *key)
{
    return o && o->kind == REEF_JSON_OBJECT ? reef__jv_get(o, key) : NULL;
}

static bool get_int(const struct reef__jv *v, int64_t *out)
{
    if (!v || v->kind != REEF_JSON_NUMBER)
        return false;
    long long x;
    if (reef_str_to_ll(v->s.p, INT64_MIN, INT64_MAX, &x) < 0)
        return false;
    *out = x;
    return true;
}

/* ---- defaults ---- */

static int default_container(struct reef__jv *ct)
{
    if (!ct || ct->kind != REEF_JSON_OBJECT)
        return 0;
    const char *image = reef__api_jv_str(ct, "image");
    if (image && !reef__jv_get(ct, "imagePullPolicy")) {
        /* the tag is after the last '/', and a digest pins the image */
        const char *slash = strrchr(image, '/');
        const char *colon = strchr(slash ? slash : image, ':');
        bool latest = !strchr(image, '@') && (!colon || strcmp(colon, ":latest") == 0);
        if (reef__api_jv_set_str(ct, "imagePullPolicy", latest ? "Always" : "IfNotPresent") < 0)
            return -ENOMEM;
    }
    if (set_default_str(ct, "terminationMessagePath", "/dev/termination-log") < 0 ||
        set_default_str(ct, "terminationMessagePolicy", "File") < 0 ||
        !reef__api_jv_obj(ct, "resources"))
        return -ENOMEM;
    struct reef__jv *ports = member(ct, "ports");
    for (size_t i = 0; ports && ports->kind == REEF_JSON_ARRAY && i < ports->len; i++)
        if (ports->items[i]->kind == REEF_JSON_OBJECT &&
            set_default_str(ports->items[i], "protocol", "TCP") < 0)
            return -ENOMEM;
    return 0;
}

static int default_pod_spec(struct reef__jv *spec)
{
    if (!spec || spec->kind != REEF_JSON_OBJECT)
        return 0;
    if (set_default_str(spec, "restartPolicy", "Always") < 0 ||
        set_default_int(spec, "terminationGracePeriodSeconds", 30) < 0 ||
        set_default_str(spec, "dnsPolicy", "ClusterFirst") < 0 ||
        set_default_str(spec, "schedulerName", "default-scheduler") < 0 ||
        !reef__api_jv_obj(spec, "securityContext"))
        return -ENOMEM;
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        struct reef__jv *cs = member(spec, lists[l]);
        for (size_t i = 0; cs && cs->kind == REEF_JSON_ARRAY && i < cs->len; i++)
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
    bool node_ports = type && (strcmp(type, "NodePort") == 0 || strcmp(type, "LoadBalancer") == 0);
    if (type && strcmp(type, "ExternalName") == 0)
        return 0;
    if (set_default_str(spec, "ipFamilyPolicy", "SingleStack") < 0 ||
        set_default_str(spec, "internalTrafficPolicy", "Cluster") < 0)
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
        if (get_int(member(p, "nodePort"), &given)) {
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
        bool have = get_int(port, &pn);
        for (size_t j = 0; have && oports && oports->kind == REEF_JSON_ARRAY && j < oports->len;
             j++) {
            const struct reef__jv *op = oports->items[j];
            if (get_int(member(op, "port"), &on) && on == pn &&
                get_int(member(op, "nodePort"), &onp)) {
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

int reef__api_default(struct reef_apiserver *a, const struct reef__api_res *r, struct reef__jv *obj,
                      const struct reef__jv *old, struct reef_err *err)
{
    const char *k = r->kind;
    int rc = 0;
    if (strcmp(k, "Pod") == 0) {
        rc = default_pod_spec(member(obj, "spec"));
        if (rc == 0 && !old && !reef__jv_get(obj, "status")) {
            struct reef__jv *st = reef__api_jv_obj(obj, "status");
            if (!st || reef__api_jv_set_str(st, "phase", "Pending") < 0 ||
                reef__api_jv_set_str(st, "qosClass", "BestEffort") < 0)
                rc = -ENOMEM;
        }
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
                rc = default_pod_spec(member(tmpl, "spec"));
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

