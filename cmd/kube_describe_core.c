/* reef describe: namespaces, secrets, config maps, endpoints, endpoint slices and services, as
 * kubectl describe 1.32 prints them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/kube.h"
#include "cmd/kube_describe.h"
#include "core/crypto.h"
#include "core/json.h"
#include "orchestrate/tables.h"

/* ---- simple kinds ---- */

void reef__describe_namespace(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    const char *name = reef__ds(c, d, v, "metadata.name");
    reef__desc_w(c, 0, "Name:\t%s\n", name);
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    reef__desc_w(c, 0, "Status:\t%s\n", reef__ds(c, d, v, "status.phase"));
    int conds = reef__dj(d, v, "status.conditions");
    if (reef__dn(d, v, "status.conditions") > 0) {
        reef__desc_w(c, 0, "Conditions:\n");
        reef__desc_w(c, 1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n");
        reef__desc_w(c, 1, "----\t------\t------------------\t------\t-------\n");
        struct reef_json_iter it = reef_json_iter(d, conds);
        while (reef_json_next(d, &it))
            reef__desc_w(c, 1, "%s\t%s\t%s\t%s\t%s\n", reef__ds(c, d, it.val, "type"),
                         reef__ds(c, d, it.val, "status"),
                         reef__desc_time(c, d, it.val, "lastTransitionTime"),
                         reef__ds(c, d, it.val, "reason"), reef__ds(c, d, it.val, "message"));
    }
    /* quotas and limit ranges: kubectl shows their sections only when the server serves them */
    static const char *const lists[] = {"resourcequotas", "limitranges"};
    for (int i = 0; i < 2; i++) {
        struct reef_buf path;
        reef_buf_init(&path);
        reef_buf_puts(&path, "/api/v1/namespaces/");
        reef_kube_escape(&path, name);
        reef_buf_printf(&path, "/%s?limit=500", lists[i]);
        char *body = NULL;
        struct reef_json_doc ld = REEF_JSON_DOC_INIT;
        int rc = reef__desc_get(c, path.data, &body, &ld);
        if (rc == 0 && reef__dn(&ld, REEF_JSON_ROOT, "items") == 0) {
            reef__desc_w(c, 0, "\n");
            reef__desc_w(c, 0, "%s", i == 0 ? "No resource quota.\n" : "No LimitRange resource.\n");
        }
        reef_json_doc_free(&ld);
        free(body);
        reef_buf_free(&path);
    }
}

void reef__describe_secret(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    const char *type = reef__ds(c, d, v, "type");
    reef__desc_w(c, 0, "\nType:\t%s\n", type);
    reef__desc_w(c, 0, "\nData\n====\n");
    int data = reef__dj(d, v, "data");
    size_t n;
    /* kubectl walks a Go map (random order); reef sorts the keys */
    const char **keys = reef__desc_keys(c, d, data, &n);
    for (size_t i = 0; keys && i < n; i++) {
        struct reef_buf raw;
        reef_buf_init(&raw);
        const char *b64 = reef__desc_text(c, d, reef_json_member(d, data, keys[i]));
        reef_crypto_b64_decode(&raw, b64, strlen(b64), REEF_B64_STD, NULL);
        if (strcmp(keys[i], "token") == 0 &&
            strcmp(type, "kubernetes.io/service-account-token") == 0)
            reef__desc_w(c, 0, "%s:\t%.*s\n", keys[i], (int)raw.len, raw.data ? raw.data : "");
        else
            reef__desc_w(c, 0, "%s:\t%zu bytes\n", keys[i], raw.len);
        reef_buf_free(&raw);
    }
}

void reef__describe_configmap(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    reef__desc_w(c, 0, "\nData\n====\n");
    int data = reef__dj(d, v, "data");
    size_t n;
    /* kubectl walks a Go map (random order); reef sorts the keys */
    const char **keys = reef__desc_keys(c, d, data, &n);
    for (size_t i = 0; keys && i < n; i++) {
        reef__desc_w(c, 0, "%s:\n----\n", keys[i]);
        reef__desc_w(c, 0, "%s\n", reef__desc_text(c, d, reef_json_member(d, data, keys[i])));
        reef__desc_w(c, 0, "\n");
    }
    reef__desc_w(c, 0, "\nBinaryData\n====\n");
    data = reef__dj(d, v, "binaryData");
    keys = reef__desc_keys(c, d, data, &n);
    for (size_t i = 0; keys && i < n; i++) {
        struct reef_buf raw;
        reef_buf_init(&raw);
        const char *b64 = reef__desc_text(c, d, reef_json_member(d, data, keys[i]));
        reef_crypto_b64_decode(&raw, b64, strlen(b64), REEF_B64_STD, NULL);
        size_t len = raw.len;
        reef_buf_free(&raw);
        reef__desc_w(c, 0, "%s: %zu bytes\n", keys[i], len);
    }
    reef__desc_w(c, 0, "\n");
    reef__desc_events(c, d, v, "ConfigMap", NULL);
}

void reef__describe_endpoints(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    reef__desc_w(c, 0, "Subsets:\n");
    struct reef_json_iter it = reef_json_iter(d, reef__dj(d, v, "subsets"));
    while (reef__dj(d, v, "subsets") >= 0 && reef_json_next(d, &it)) {
        static const char *const which[] = {"addresses", "notReadyAddresses"};
        static const char *const title[] = {"Addresses", "NotReadyAddresses"};
        for (int w = 0; w < 2; w++) {
            struct reef_buf b;
            reef_buf_init(&b);
            int a = reef__dj(d, it.val, which[w]);
            struct reef_json_iter ai = reef_json_iter(d, a);
            while (a >= 0 && reef_json_next(d, &ai))
                reef_buf_printf(&b, "%s%s", ai.index ? "," : "", reef__ds(c, d, ai.val, "ip"));
            reef__desc_w(c, 1, "%s:\t%s\n", title[w], b.len ? b.data : "<none>");
            reef_buf_free(&b);
        }
        int ports = reef__dj(d, it.val, "ports");
        if (reef__dn(d, it.val, "ports") > 0) {
            reef__desc_w(c, 1, "Ports:\n");
            reef__desc_w(c, 2, "Name\tPort\tProtocol\n");
            reef__desc_w(c, 2, "----\t----\t--------\n");
            struct reef_json_iter pi = reef_json_iter(d, ports);
            while (reef_json_next(d, &pi)) {
                const char *name = reef__ds(c, d, pi.val, "name");
                reef__desc_w(c, 2, "%s\t%lld\t%s\n", *name ? name : "<unset>",
                             (long long)reef__di(d, pi.val, "port"),
                             reef__ds(c, d, pi.val, "protocol"));
            }
        }
        reef__desc_w(c, 0, "\n");
    }
    reef__desc_events(c, d, v, "Endpoints", NULL);
}

/* formatEndpointSlices for one service port name: ready addresses as host:port, three at most */
static const char *service_endpoints(struct reef__desc *c, const struct reef_json_doc *sd,
                                     int items, const char *port_name)
{
    if (reef_json_count(sd, items) <= 0)
        return "<none>";
    struct reef_buf b;
    reef_buf_init(&b);
    int listed = 0, count = 0;
    bool more = false;
    struct reef_json_iter si = reef_json_iter(sd, items);
    while (reef_json_next(sd, &si)) {
        int eps = reef__dj(sd, si.val, "endpoints");
        int ports = reef__dj(sd, si.val, "ports");
        int np = reef__dn(sd, si.val, "ports");
        for (int p = 0; p < (np ? np : 1); p++) {
            int port = np ? reef_json_index(sd, ports, (size_t)p) : -1;
            if (np && strcmp(reef__ds(c, sd, port, "name"), port_name) != 0)
                continue;
            struct reef_json_iter ei = reef_json_iter(sd, eps);
            while (eps >= 0 && reef_json_next(sd, &ei)) {
                if (listed == 3)
                    more = true;
                int ready = reef__dj(sd, ei.val, "conditions.ready");
                if (ready >= 0 && !reef__db(sd, ei.val, "conditions.ready"))
                    continue;
                if (!more) {
                    const char *addr = reef__ds(c, sd, ei.val, "addresses[0]");
                    if (!np)
                        reef_buf_printf(&b, "%s%s", listed ? "," : "", addr);
                    else if (strchr(addr, ':'))
                        reef_buf_printf(&b, "%s[%s]:%lld", listed ? "," : "", addr,
                                        (long long)reef__di(sd, port, "port"));
                    else
                        reef_buf_printf(&b, "%s%s:%lld", listed ? "," : "", addr,
                                        (long long)reef__di(sd, port, "port"));
                    listed++;
                }
                count++;
            }
        }
    }
    if (more)
        reef_buf_printf(&b, " + %d more...", count - 3);
    if (!b.data)
        return "";
    return reef__desc_keep(c, reef_buf_steal(&b));
}

static const char *join_strings(struct reef__desc *c, const struct reef_json_doc *d, int arr,
                                const char *sep)
{
    struct reef_buf b;
    reef_buf_init(&b);
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (arr >= 0 && reef_json_next(d, &it))
        reef_buf_printf(&b, "%s%s", it.index ? sep : "", reef__desc_text(c, d, it.val));
    if (!b.data)
        return "";
    return reef__desc_keep(c, reef_buf_steal(&b));
}

static const char *or_unset(struct reef__desc *c, const struct reef_json_doc *d, int v,
                            const char *path)
{
    return reef__dj(d, v, path) >= 0 ? reef__ds(c, d, v, path) : "<unset>";
}

void reef__describe_endpointslice(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    reef__desc_w(c, 0, "AddressType:\t%s\n", reef__ds(c, d, v, "addressType"));
    if (reef__dn(d, v, "ports") <= 0) {
        reef__desc_w(c, 0, "Ports: <unset>\n");
    } else {
        reef__desc_w(c, 0, "Ports:\n");
        reef__desc_w(c, 1, "Name\tPort\tProtocol\n");
        reef__desc_w(c, 1, "----\t----\t--------\n");
        struct reef_json_iter it = reef_json_iter(d, reef__dj(d, v, "ports"));
        while (reef_json_next(d, &it)) {
            const char *name = reef__ds(c, d, it.val, "name");
            reef__desc_w(c, 1, "%s\t%s\t%s\n", *name ? name : "<unset>",
                         or_unset(c, d, it.val, "port"), reef__ds(c, d, it.val, "protocol"));
        }
    }
    if (reef__dn(d, v, "endpoints") <= 0) {
        reef__desc_w(c, 0, "Endpoints: <none>\n");
    } else {
        reef__desc_w(c, 0, "Endpoints:\n");
        struct reef_json_iter it = reef_json_iter(d, reef__dj(d, v, "endpoints"));
        while (reef_json_next(d, &it)) {
            const char *a = join_strings(c, d, reef__dj(d, it.val, "addresses"), ", ");
            reef__desc_w(c, 1, "- Addresses:\t%s\n", *a ? a : "<none>");
            reef__desc_w(c, 2, "Conditions:\n");
            reef__desc_w(c, 3, "Ready:\t%s\n", or_unset(c, d, it.val, "conditions.ready"));
            reef__desc_w(c, 2, "Hostname:\t%s\n", or_unset(c, d, it.val, "hostname"));
            if (reef__dj(d, it.val, "targetRef") >= 0)
                reef__desc_w(c, 2, "TargetRef:\t%s/%s\n", reef__ds(c, d, it.val, "targetRef.kind"),
                             reef__ds(c, d, it.val, "targetRef.name"));
            reef__desc_w(c, 2, "NodeName:\t%s\n", or_unset(c, d, it.val, "nodeName"));
            reef__desc_w(c, 2, "Zone:\t%s\n", or_unset(c, d, it.val, "zone"));
        }
    }
    reef__desc_events(c, d, v, "EndpointSlice", NULL);
}

void reef__describe_service(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    const char *name = reef__ds(c, d, v, "metadata.name");
    const char *ns = reef__ds(c, d, v, "metadata.namespace");
    reef__desc_w(c, 0, "Name:\t%s\n", name);
    reef__desc_w(c, 0, "Namespace:\t%s\n", ns);
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    /* labels.FormatLabels: k=v sorted, "<none>" when empty */
    int sel = reef__dj(d, v, "spec.selector");
    size_t n;
    const char **keys = reef__desc_keys(c, d, sel, &n);
    struct reef_buf b;
    reef_buf_init(&b);
    for (size_t i = 0; keys && i < n; i++)
        reef_buf_printf(&b, "%s%s=%s", i ? "," : "", keys[i],
                        reef__desc_text(c, d, reef_json_member(d, sel, keys[i])));
    reef__desc_w(c, 0, "Selector:\t%s\n", b.len ? b.data : "<none>");
    reef_buf_free(&b);
    reef__desc_w(c, 0, "Type:\t%s\n", reef__ds(c, d, v, "spec.type"));
    if (reef__dj(d, v, "spec.ipFamilyPolicy") >= 0)
        reef__desc_w(c, 0, "IP Family Policy:\t%s\n", reef__ds(c, d, v, "spec.ipFamilyPolicy"));
    if (reef__dn(d, v, "spec.ipFamilies") > 0)
        reef__desc_w(c, 0, "IP Families:\t%s\n",
                     join_strings(c, d, reef__dj(d, v, "spec.ipFamilies"), ","));
    else
        reef__desc_w(c, 0, "IP Families:\t<none>\n");
    reef__desc_w(c, 0, "IP:\t%s\n", reef__ds(c, d, v, "spec.clusterIP"));
    if (reef__dn(d, v, "spec.clusterIPs") > 0)
        reef__desc_w(c, 0, "IPs:\t%s\n",
                     join_strings(c, d, reef__dj(d, v, "spec.clusterIPs"), ","));
    else
        reef__desc_w(c, 0, "IPs:\t<none>\n");
    if (reef__dn(d, v, "spec.externalIPs") > 0)
        reef__desc_w(c, 0, "External IPs:\t%s\n",
                     join_strings(c, d, reef__dj(d, v, "spec.externalIPs"), ","));
    if (*reef__ds(c, d, v, "spec.loadBalancerIP"))
        reef__desc_w(c, 0, "Desired LoadBalancer IP:\t%s\n",
                     reef__ds(c, d, v, "spec.loadBalancerIP"));
    if (*reef__ds(c, d, v, "spec.externalName"))
        reef__desc_w(c, 0, "External Name:\t%s\n", reef__ds(c, d, v, "spec.externalName"));
    int ing = reef__dj(d, v, "status.loadBalancer.ingress");
    if (reef__dn(d, v, "status.loadBalancer.ingress") > 0) {
        reef_buf_init(&b);
        struct reef_json_iter it = reef_json_iter(d, ing);
        while (reef_json_next(d, &it)) {
            if (it.index)
                reef_buf_puts(&b, ", ");
            const char *ip = reef__ds(c, d, it.val, "ip");
            if (*ip) {
                reef_buf_puts(&b, ip);
                if (reef__dj(d, it.val, "ipMode") >= 0)
                    reef_buf_printf(&b, " (%s)", reef__ds(c, d, it.val, "ipMode"));
            } else {
                reef_buf_puts(&b, reef__ds(c, d, it.val, "hostname"));
            }
        }
        reef__desc_w(c, 0, "LoadBalancer Ingress:\t%s\n", b.data ? b.data : "");
        reef_buf_free(&b);
    }
    /* the service's endpoint slices, by their service-name label */
    struct reef_buf path;
    reef_buf_init(&path);
    reef_buf_puts(&path, "/apis/discovery.k8s.io/v1/namespaces/");
    reef_kube_escape(&path, ns);
    reef_buf_puts(&path, "/endpointslices?labelSelector=");
    char *lsel = NULL;
    if (asprintf(&lsel, "kubernetes.io/service-name=%s", name) >= 0)
        reef_kube_escape(&path, lsel);
    free(lsel);
    char *body = NULL;
    struct reef_json_doc sd = REEF_JSON_DOC_INIT;
    int items = -1;
    if (reef__desc_get(c, path.data, &body, &sd) == 0)
        items = reef__dj(&sd, REEF_JSON_ROOT, "items");
    reef_buf_free(&path);
    struct reef_json_iter it = reef_json_iter(d, reef__dj(d, v, "spec.ports"));
    while (reef__dj(d, v, "spec.ports") >= 0 && reef_json_next(d, &it)) {
        const char *pn = reef__ds(c, d, it.val, "name");
        const char *proto = reef__ds(c, d, it.val, "protocol");
        reef__desc_w(c, 0, "Port:\t%s\t%lld/%s\n", *pn ? pn : "<unset>",
                     (long long)reef__di(d, it.val, "port"), proto);
        int tp = reef__dj(d, it.val, "targetPort");
        if (tp < 0 || reef_json_kind(d, tp) == REEF_JSON_NUMBER)
            reef__desc_w(c, 0, "TargetPort:\t%lld/%s\n",
                         (long long)reef__di(d, it.val, "targetPort"), proto);
        else
            reef__desc_w(c, 0, "TargetPort:\t%s/%s\n", reef__ds(c, d, it.val, "targetPort"), proto);
        if (reef__di(d, it.val, "nodePort"))
            reef__desc_w(c, 0, "NodePort:\t%s\t%lld/%s\n", *pn ? pn : "<unset>",
                         (long long)reef__di(d, it.val, "nodePort"), proto);
        reef__desc_w(c, 0, "Endpoints:\t%s\n",
                     items >= 0 ? service_endpoints(c, &sd, items, pn) : "<none>");
    }
    reef_json_doc_free(&sd);
    free(body);
    reef__desc_w(c, 0, "Session Affinity:\t%s\n", reef__ds(c, d, v, "spec.sessionAffinity"));
    if (*reef__ds(c, d, v, "spec.externalTrafficPolicy"))
        reef__desc_w(c, 0, "External Traffic Policy:\t%s\n",
                     reef__ds(c, d, v, "spec.externalTrafficPolicy"));
    if (reef__dj(d, v, "spec.internalTrafficPolicy") >= 0)
        reef__desc_w(c, 0, "Internal Traffic Policy:\t%s\n",
                     reef__ds(c, d, v, "spec.internalTrafficPolicy"));
    if (reef__di(d, v, "spec.healthCheckNodePort"))
        reef__desc_w(c, 0, "HealthCheck NodePort:\t%lld\n",
                     (long long)reef__di(d, v, "spec.healthCheckNodePort"));
    if (reef__dn(d, v, "spec.loadBalancerSourceRanges") > 0)
        reef__desc_w(c, 0, "LoadBalancer Source Ranges:\t%s\n",
                     join_strings(c, d, reef__dj(d, v, "spec.loadBalancerSourceRanges"), ","));
    reef__desc_events(c, d, v, "Service", NULL);
}
