/* apiserver: the table of built-in resources and the discovery documents made from it. */
#include <stdio.h>
#include <string.h>

#include "orchestrate/apiserver.h"
#include "orchestrate/apiserver_bind.h"

/* Order: core first, then groups in the order discovery lists them. */
const struct reef__api_res reef__api_resources[] = {
    {"",
     "v1",
     "namespaces",
     "namespace",
     "Namespace",
     "namespaces",
     false,
     false,
     {"ns"},
     REEF__API_SUB_STATUS},
    {"", "v1", "nodes", "node", "Node", "nodes", false, false, {"no"}, REEF__API_SUB_STATUS},
    {"",
     "v1",
     "pods",
     "pod",
     "Pod",
     "pods",
     true,
     true,
     {"po"},
     REEF__API_SUB_STATUS | REEF__API_SUB_LOG | REEF__API_SUB_EXEC | REEF__API_SUB_BINDING},
    {"",
     "v1",
     "services",
     "service",
     "Service",
     "services",
     true,
     true,
     {"svc"},
     REEF__API_SUB_STATUS},
    {"", "v1", "endpoints", "endpoints", "Endpoints", "endpoints", true, false, {"ep"}, 0},
    {"", "v1", "configmaps", "configmap", "ConfigMap", "configmaps", true, false, {"cm"}, 0},
    {"", "v1", "secrets", "secret", "Secret", "secrets", true, false, {NULL}, 0},
    {"", "v1", "events", "event", "Event", "events", true, false, {"ev"}, 0},
    {"apps",
     "v1",
     "deployments",
     "deployment",
     "Deployment",
     "deployments.apps",
     true,
     true,
     {"deploy"},
     REEF__API_SUB_STATUS | REEF__API_SUB_SCALE},
    {"apps",
     "v1",
     "replicasets",
     "replicaset",
     "ReplicaSet",
     "replicasets.apps",
     true,
     true,
     {"rs"},
     REEF__API_SUB_STATUS | REEF__API_SUB_SCALE},
    {"coordination.k8s.io",
     "v1",
     "leases",
     "lease",
     "Lease",
     "leases.coordination.k8s.io",
     true,
     false,
     {NULL},
     0},
    {"discovery.k8s.io",
     "v1",
     "endpointslices",
     "endpointslice",
     "EndpointSlice",
     "endpointslices.discovery.k8s.io",
     true,
     false,
     {NULL},
     0},
};
const size_t reef__api_nresources = sizeof(reef__api_resources) / sizeof(reef__api_resources[0]);

static const char *const groups[] = {"apps", "coordination.k8s.io", "discovery.k8s.io"};
#define API_NGROUPS (sizeof(groups) / sizeof(groups[0]))

static const char *const verbs[] = {"create", "delete", "deletecollection", "get",
                                    "list",   "patch",  "update",           "watch"};

const struct reef__api_res *reef__api_res_find(const char *group, const char *version,
                                               const char *plural)
{
    for (size_t i = 0; i < reef__api_nresources; i++) {
        const struct reef__api_res *r = &reef__api_resources[i];
        if (strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0 &&
            strcmp(r->plural, plural) == 0)
            return r;
    }
    return NULL;
}

static bool group_known(const char *g)
{
    for (size_t i = 0; i < API_NGROUPS; i++)
        if (strcmp(groups[i], g) == 0)
            return true;
    return false;
}

static void put_strs(struct reef_json_writer *w, const char *const *s, size_t n)
{
    reef_json_begin_array(w);
    for (size_t i = 0; i < n && s[i]; i++)
        reef_json_put_str(w, s[i]);
    reef_json_end_array(w);
}

struct sub {
    unsigned bit;
    const char *name, *group, *kind;
    const char *verbs[3];
};
static const struct sub subs[] = {
    {REEF__API_SUB_BINDING, "binding", NULL, "Binding", {"create"}},
    {REEF__API_SUB_EXEC, "exec", "", "PodExecOptions", {"create", "get"}},
    {REEF__API_SUB_LOG, "log", "", "Pod", {"get"}},
    {REEF__API_SUB_SCALE, "scale", "autoscaling", "Scale", {"get", "patch", "update"}},
    {REEF__API_SUB_STATUS, "status", NULL, NULL, {"get", "patch", "update"}},
};

static void response_kind(struct reef_json_writer *w, const char *group, const char *version,
                          const char *kind)
{
    reef_json_key(w, "responseKind");
    reef_json_begin_object(w);
    reef_json_key(w, "group");
    reef_json_put_str(w, group);
    reef_json_key(w, "version");
    reef_json_put_str(w, version);
    reef_json_key(w, "kind");
    reef_json_put_str(w, kind);
    reef_json_end_object(w);
}

/* One aggregated group entry (APIGroupDiscovery). */
static void aggregated_group(struct reef_json_writer *w, const char *group)
{
    reef_json_begin_object(w);
    reef_json_key(w, "metadata");
    reef_json_begin_object(w);
    reef_json_key(w, "name");
    reef_json_put_str(w, group);
    reef_json_key(w, "creationTimestamp");
    reef_json_put_null(w);
    reef_json_end_object(w);
    reef_json_key(w, "versions");
    reef_json_begin_array(w);
    reef_json_begin_object(w);
    reef_json_key(w, "version");
    reef_json_put_str(w, "v1");
    reef_json_key(w, "resources");
    reef_json_begin_array(w);
    for (size_t i = 0; i < reef__api_nresources; i++) {
        const struct reef__api_res *r = &reef__api_resources[i];
        if (strcmp(r->group, group) != 0)
            continue;
        reef_json_begin_object(w);
        reef_json_key(w, "resource");
        reef_json_put_str(w, r->plural);
        response_kind(w, r->group, r->version, r->kind);
        reef_json_key(w, "scope");
        reef_json_put_str(w, r->namespaced ? "Namespaced" : "Cluster");
        reef_json_key(w, "singularResource");
        reef_json_put_str(w, r->singular);
        reef_json_key(w, "verbs");
        put_strs(w, verbs, sizeof(verbs) / sizeof(verbs[0]));
        if (r->short_names[0]) {
            reef_json_key(w, "shortNames");
            put_strs(w, r->short_names, 3);
        }
        if (r->all) {
            static const char *const all[] = {"all"};
            reef_json_key(w, "categories");
            put_strs(w, all, 1);
        }
        if (r->subs) {
            reef_json_key(w, "subresources");
            reef_json_begin_array(w);
            for (size_t j = 0; j < sizeof(subs) / sizeof(subs[0]); j++) {
                if (!(r->subs & subs[j].bit))
                    continue;
                reef_json_begin_object(w);
                reef_json_key(w, "subresource");
                reef_json_put_str(w, subs[j].name);
                response_kind(w, subs[j].group ? subs[j].group : r->group,
                              subs[j].group ? "v1" : r->version,
                              subs[j].kind ? subs[j].kind : r->kind);
                reef_json_key(w, "verbs");
                put_strs(w, subs[j].verbs, 3);
                reef_json_end_object(w);
            }
            reef_json_end_array(w);
        }
        reef_json_end_object(w);
    }
    reef_json_end_array(w);
    reef_json_key(w, "freshness");
    reef_json_put_str(w, "Current");
    reef_json_end_object(w);
    reef_json_end_array(w);
    reef_json_end_object(w);
}

static void resource_list(struct reef_json_writer *w, const char *group)
{
    char gv[128];
    snprintf(gv, sizeof(gv), "%s%sv1", group, group[0] ? "/" : "");
    reef_json_begin_object(w);
    reef_json_key(w, "kind");
    reef_json_put_str(w, "APIResourceList");
    reef_json_key(w, "apiVersion");
    reef_json_put_str(w, "v1");
    reef_json_key(w, "groupVersion");
    reef_json_put_str(w, gv);
    reef_json_key(w, "resources");
    reef_json_begin_array(w);
    for (size_t i = 0; i < reef__api_nresources; i++) {
        const struct reef__api_res *r = &reef__api_resources[i];
        if (strcmp(r->group, group) != 0)
            continue;
        reef_json_begin_object(w);
        reef_json_key(w, "name");
        reef_json_put_str(w, r->plural);
        reef_json_key(w, "singularName");
        reef_json_put_str(w, r->singular);
        reef_json_key(w, "namespaced");
        reef_json_put_bool(w, r->namespaced);
        reef_json_key(w, "kind");
        reef_json_put_str(w, r->kind);
        reef_json_key(w, "verbs");
        put_strs(w, verbs, sizeof(verbs) / sizeof(verbs[0]));
        if (r->short_names[0]) {
            reef_json_key(w, "shortNames");
            put_strs(w, r->short_names, 3);
        }
        if (r->all) {
            static const char *const all[] = {"all"};
            reef_json_key(w, "categories");
            put_strs(w, all, 1);
        }
        reef_json_end_object(w);
        for (size_t j = 0; j < sizeof(subs) / sizeof(subs[0]); j++) {
            if (!(r->subs & subs[j].bit))
                continue;
            char name[96];
            snprintf(name, sizeof(name), "%s/%s", r->plural, subs[j].name);
            reef_json_begin_object(w);
            reef_json_key(w, "name");
            reef_json_put_str(w, name);
            reef_json_key(w, "singularName");
            reef_json_put_str(w, "");
            reef_json_key(w, "namespaced");
            reef_json_put_bool(w, r->namespaced);
            if (subs[j].group) {
                reef_json_key(w, "group");
                reef_json_put_str(w, subs[j].group);
                reef_json_key(w, "version");
                reef_json_put_str(w, "v1");
            }
            reef_json_key(w, "kind");
            reef_json_put_str(w, subs[j].kind ? subs[j].kind : r->kind);
            reef_json_key(w, "verbs");
            put_strs(w, subs[j].verbs, 3);
            reef_json_end_object(w);
        }
    }
    reef_json_end_array(w);
    reef_json_end_object(w);
}

static void group_entry(struct reef_json_writer *w, const char *g, bool with_kind)
{
    char gv[128];
    snprintf(gv, sizeof(gv), "%s/v1", g);
    reef_json_begin_object(w);
    if (with_kind) {
        reef_json_key(w, "kind");
        reef_json_put_str(w, "APIGroup");
        reef_json_key(w, "apiVersion");
        reef_json_put_str(w, "v1");
    }
    reef_json_key(w, "name");
    reef_json_put_str(w, g);
    reef_json_key(w, "versions");
    reef_json_begin_array(w);
    reef_json_begin_object(w);
    reef_json_key(w, "groupVersion");
    reef_json_put_str(w, gv);
    reef_json_key(w, "version");
    reef_json_put_str(w, "v1");
    reef_json_end_object(w);
    reef_json_end_array(w);
    reef_json_key(w, "preferredVersion");
    reef_json_begin_object(w);
    reef_json_key(w, "groupVersion");
    reef_json_put_str(w, gv);
    reef_json_key(w, "version");
    reef_json_put_str(w, "v1");
    reef_json_end_object(w);
    reef_json_end_object(w);
}

/* Whether Accept names the aggregated v2 form (a media type with as=APIGroupDiscoveryList and
 * exactly v=v2 among its parameters). */
static bool wants_aggregated(const struct reef_http_req *req)
{
    const char *acc = reef_http_req_header(req, "Accept");
    if (!acc)
        return false;
    const char *p = acc;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char mt[512];
        if (n < sizeof(mt)) {
            memcpy(mt, p, n);
            mt[n] = '\0';
            bool as = strstr(mt, "as=APIGroupDiscoveryList") != NULL;
            bool v2 = false;
            for (char *q = strstr(mt, "v=v2"); q; q = strstr(q + 1, "v=v2")) {
                char after = q[4];
                char before = q == mt ? ';' : q[-1];
                if ((before == ';' || before == ' ') &&
                    (after == ';' || after == '\0' || after == ' '))
                    v2 = true;
            }
            if (as && v2)
                return true;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

void reef__api_discovery(struct reef__api_call *c, const char *path)
{
    struct reef_buf b;
    reef_buf_init(&b);
    struct reef_json_writer w;
    reef_json_writer_init(&w, &b, 0);
    const char *ctype = "application/json";
    char p[256];
    reef_strlcpy(p, path, sizeof(p));
    size_t pl = strlen(p);
    while (pl > 1 && p[pl - 1] == '/')
        p[--pl] = '\0';
    bool agg = wants_aggregated(c->req);
    if ((strcmp(p, "/api") == 0 || strcmp(p, "/apis") == 0) && agg) {
        ctype = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
        reef_json_begin_object(&w);
        reef_json_key(&w, "kind");
        reef_json_put_str(&w, "APIGroupDiscoveryList");
        reef_json_key(&w, "apiVersion");
        reef_json_put_str(&w, "apidiscovery.k8s.io/v2");
        reef_json_key(&w, "metadata");
        reef_json_begin_object(&w);
        reef_json_end_object(&w);
        reef_json_key(&w, "items");
        reef_json_begin_array(&w);
        if (strcmp(p, "/api") == 0) {
            aggregated_group(&w, "");
        } else {
            for (size_t i = 0; i < API_NGROUPS; i++)
                aggregated_group(&w, groups[i]);
            reef__api_metrics_aggregated(&w);
        }
        reef_json_end_array(&w);
        reef_json_end_object(&w);
    } else if (strcmp(p, "/api") == 0) {
        const char *host = reef_http_req_header(c->req, "Host");
        reef_json_begin_object(&w);
        reef_json_key(&w, "kind");
        reef_json_put_str(&w, "APIVersions");
        reef_json_key(&w, "versions");
        static const char *const v1[] = {"v1"};
        put_strs(&w, v1, 1);
        reef_json_key(&w, "serverAddressByClientCIDRs");
        reef_json_begin_array(&w);
        reef_json_begin_object(&w);
        reef_json_key(&w, "clientCIDR");
        reef_json_put_str(&w, "0.0.0.0/0");
        reef_json_key(&w, "serverAddress");
        reef_json_put_str(&w, host ? host : "127.0.0.1:6443");
        reef_json_end_object(&w);
        reef_json_end_array(&w);
        reef_json_end_object(&w);
    } else if (strcmp(p, "/apis") == 0) {
        reef_json_begin_object(&w);
        reef_json_key(&w, "kind");
        reef_json_put_str(&w, "APIGroupList");
        reef_json_key(&w, "apiVersion");
        reef_json_put_str(&w, "v1");
        reef_json_key(&w, "groups");
        reef_json_begin_array(&w);
        for (size_t i = 0; i < API_NGROUPS; i++)
            group_entry(&w, groups[i], false);
        reef__api_metrics_group(&w, false);
        reef_json_end_array(&w);
        reef_json_end_object(&w);
    } else if (strcmp(p, "/api/v1") == 0) {
        resource_list(&w, "");
    } else if (strncmp(p, "/apis/", 6) == 0) {
        char g[128];
        const char *rest = p + 6;
        const char *slash = strchr(rest, '/');
        size_t gl = slash ? (size_t)(slash - rest) : strlen(rest);
        if (gl >= sizeof(g))
            gl = 0;
        memcpy(g, rest, gl);
        g[gl] = '\0';
        if (strcmp(g, REEF__API_METRICS_GROUP) == 0 &&
            (!slash || strcmp(slash, "/" REEF__API_METRICS_VERSION) == 0)) {
            if (slash)
                reef__api_metrics_resources(&w);
            else
                reef__api_metrics_group(&w, true);
        } else if (!group_known(g) || (slash && strcmp(slash, "/v1") != 0)) {
            reef_buf_free(&b);
            reef__api_status(c->res, 404, "NotFound", NULL, NULL, NULL,
                             "the server could not find the requested resource");
            return;
        } else if (slash) {
            resource_list(&w, g);
        } else {
            group_entry(&w, g, true);
        }
    } else {
        reef_buf_free(&b);
        reef__api_status(c->res, 404, "NotFound", NULL, NULL, NULL,
                         "the server could not find the requested resource");
        return;
    }
    if (reef_json_finish(&w, NULL) < 0)
        reef__api_status(c->res, 500, "InternalError", NULL, NULL, NULL, "discovery");
    else
        reef_http_res_send(c->res, 200, ctype, b.data, b.len);
    reef_buf_free(&b);
}
