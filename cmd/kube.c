/* kube: resource types, the connection and the error printing shared by reef's client commands,
 * and the small ones that patch one field: label, annotate, scale. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/kube.h"
#include "core/json.h"

static const struct reef_kube_type types[] = {
    {"pods", "pod", "po", "", "v1", "Pod", true},
    {"services", "service", "svc", "", "v1", "Service", true},
    {"deployments", "deployment", "deploy", "apps", "v1", "Deployment", true},
    {"replicasets", "replicaset", "rs", "apps", "v1", "ReplicaSet", true},
    {"nodes", "node", "no", "", "v1", "Node", false},
    {"namespaces", "namespace", "ns", "", "v1", "Namespace", false},
    {"configmaps", "configmap", "cm", "", "v1", "ConfigMap", true},
    {"secrets", "secret", "", "", "v1", "Secret", true},
    {"events", "event", "ev", "", "v1", "Event", true},
    {"endpoints", "endpoints", "ep", "", "v1", "Endpoints", true},
    {"leases", "lease", "", "coordination.k8s.io", "v1", "Lease", true},
    {"endpointslices", "endpointslice", "", "discovery.k8s.io", "v1", "EndpointSlice", true},
};

static bool in_list(const char *list, const char *s, size_t n)
{
    while (*list) {
        const char *e = strchr(list, ',');
        size_t l = e ? (size_t)(e - list) : strlen(list);
        if (l == n && memcmp(list, s, n) == 0)
            return true;
        if (!e)
            break;
        list = e + 1;
    }
    return false;
}

const struct reef_kube_type *reef_kube_type_find(const char *name)
{
    /* "deployments.apps" or "deployment.apps" names the group too */
    const char *dot = strchr(name, '.');
    size_t n = dot ? (size_t)(dot - name) : strlen(name);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const struct reef_kube_type *t = &types[i];
        if (dot && strcmp(dot + 1, t->group) != 0)
            continue;
        if ((strlen(t->plural) == n && memcmp(t->plural, name, n) == 0) ||
            (strlen(t->singular) == n && memcmp(t->singular, name, n) == 0) ||
            (strlen(t->kind) == n && strncasecmp(t->kind, name, n) == 0) ||
            (!dot && in_list(t->shorts, name, n)))
            return t;
    }
    return NULL;
}

const struct reef_kube_type *reef_kube_type_of_kind(const char *api_version, const char *kind)
{
    const char *slash = strchr(api_version, '/');
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const struct reef_kube_type *t = &types[i];
        if (strcmp(t->kind, kind) != 0)
            continue;
        if (slash) {
            size_t gl = (size_t)(slash - api_version);
            if (strlen(t->group) == gl && memcmp(t->group, api_version, gl) == 0 &&
                strcmp(slash + 1, t->version) == 0)
                return t;
        } else if (!t->group[0] && strcmp(api_version, t->version) == 0) {
            return t;
        }
    }
    return NULL;
}

void reef_kube_type_ref(struct reef_buf *out, const struct reef_kube_type *t)
{
    reef_buf_puts(out, t->singular);
    if (t->group[0])
        reef_buf_printf(out, ".%s", t->group);
}

int reef_kube_open(struct reef_kube *k, const char *kubeconfig, const char *ns,
                   struct reef_err *err)
{
    memset(k, 0, sizeof(*k));
    /* the server may close a watch while a write is under way */
    signal(SIGPIPE, SIG_IGN);
    int rc = reef_kubeconfig_load(kubeconfig, NULL, &k->cfg, err);
    if (rc < 0)
        return rc;
    k->opts.ca_pem = k->cfg.ca_pem;
    k->opts.cert_pem = k->cfg.cert_pem;
    k->opts.key_pem = k->cfg.key_pem;
    k->opts.insecure_skip_verify = k->cfg.insecure_skip_tls_verify;
    k->opts.no_redirects = true;
    const char *n =
        ns && *ns ? ns : (k->cfg.namespace && *k->cfg.namespace ? k->cfg.namespace : "default");
    k->ns_given = ns && *ns;
    if (strlen(n) >= sizeof(k->ns)) {
        reef_kubeconfig_free(&k->cfg);
        return reef_err_set(err, -EINVAL, "namespace name too long");
    }
    strcpy(k->ns, n);
    return 0;
}

void reef_kube_close(struct reef_kube *k)
{
    reef_kubeconfig_free(&k->cfg);
}

void reef_kube_escape(struct reef_buf *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p))
            reef_buf_putc(out, (char)*p);
        else
            reef_buf_printf(out, "%%%02X", *p);
    }
}

void reef_kube_path(struct reef_buf *out, const struct reef_kube_type *t, const char *ns,
                    const char *name)
{
    if (t->group[0])
        reef_buf_printf(out, "/apis/%s/%s", t->group, t->version);
    else
        reef_buf_printf(out, "/api/%s", t->version);
    /* user-typed names are escaped: "a/b" or "x?y" must not change the path */
    if (t->namespaced && ns) {
        reef_buf_puts(out, "/namespaces/");
        reef_kube_escape(out, ns);
    }
    reef_buf_printf(out, "/%s", t->plural);
    if (name) {
        reef_buf_putc(out, '/');
        reef_kube_escape(out, name);
    }
}

static int request(struct reef_kube *k, const char *method, const char *path, const char *accept,
                   const char *content_type, const char *body, size_t body_len,
                   struct reef_http_result *res, struct reef_err *err)
{
    struct reef_buf url;
    reef_buf_init(&url);
    reef_buf_printf(&url, "%s", k->cfg.server);
    /* the server URL may end in '/' */
    if (url.len && url.data[url.len - 1] == '/')
        url.len--, url.data[url.len] = 0;
    reef_buf_puts(&url, path);
    struct reef_http_header h[3];
    size_t nh = 0;
    if (accept)
        h[nh++] = (struct reef_http_header){.name = "Accept", .value = accept};
    if (content_type)
        h[nh++] = (struct reef_http_header){.name = "Content-Type", .value = content_type};
    h[nh++] = (struct reef_http_header){.name = "User-Agent", .value = "reef"};
    struct reef_http_request rq = {.method = method,
                                   .url = url.data,
                                   .headers = h,
                                   .nheaders = nh,
                                   .body = body,
                                   .body_len = body_len,
                                   .bearer_token = k->cfg.token};
    int rc = reef_http_fetch(&k->opts, &rq, res, err);
    if (rc == -ECONNREFUSED) {
        /* kubectl's wording: host and port of the server URL */
        const char *hp = strstr(k->cfg.server, "://");
        hp = hp ? hp + 3 : k->cfg.server;
        size_t n = strcspn(hp, "/");
        reef_err_set(err, rc,
                     "The connection to the server %.*s was refused - did you specify the right "
                     "host or port?",
                     (int)n, hp);
    }
    reef_buf_free(&url);
    return rc;
}

int reef_kube_do(struct reef_kube *k, const char *method, const char *path, const char *accept,
                 const char *content_type, const char *body, size_t body_len,
                 struct reef_http_result *res, struct reef_err *err)
{
    return request(k, method, path, accept, content_type, body, body_len, res, err);
}

/* The call's user data serves both its data and its done callbacks. */
struct stream_state {
    struct reef_err *err;
    int result;
    int (*on_data)(void *ud, const char *data, size_t len);
    void *ud;
};

static int stream_data(void *ud, const char *data, size_t len)
{
    struct stream_state *st = ud;
    return st->on_data(st->ud, data, len);
}

static void stream_done(void *ud, int result, const struct reef_http_response *res,
                        const struct reef_err *err)
{
    struct stream_state *st = ud;
    st->result = result;
    if (result < 0 && st->err && err)
        *st->err = *err;
    else if (result == 0 && res && res->status >= 300)
        st->result = reef_err_set(st->err, -EIO, "watch: the server answered %d", res->status);
}

int reef_kube_stream(struct reef_kube *k, const char *path, const char *accept,
                     int (*on_data)(void *ud, const char *data, size_t len), void *ud,
                     struct reef_err *err)
{
    /* the synchronous fetch keeps on_data's argument for itself, so a watch runs its own loop */
    uv_loop_t loop;
    int r = uv_loop_init(&loop);
    if (r < 0)
        return reef_err_set(err, r, "watch: loop: %s", uv_strerror(r));
    struct reef_http_client_opts o = k->opts;
    o.response_timeout_ms = 0;
    struct reef_http_client *cl = reef_http_client_new(&loop, &o, err);
    if (!cl) {
        uv_loop_close(&loop);
        return err ? err->code : -ENOMEM;
    }
    struct reef_buf url;
    reef_buf_init(&url);
    reef_buf_puts(&url, k->cfg.server);
    if (url.len && url.data[url.len - 1] == '/')
        url.len--, url.data[url.len] = 0;
    reef_buf_puts(&url, path);
    struct reef_http_header h[2] = {{.name = "Accept", .value = accept},
                                    {.name = "User-Agent", .value = "reef"}};
    struct reef_http_request rq = {.method = "GET",
                                   .url = url.data,
                                   .headers = h,
                                   .nheaders = 2,
                                   .bearer_token = k->cfg.token,
                                   .on_data = stream_data};
    struct stream_state st = {err, -EINPROGRESS, on_data, ud};
    r = reef_http_client_request(cl, &rq, stream_done, &st, NULL, err);
    if (r == 0) {
        while (st.result == -EINPROGRESS && uv_run(&loop, UV_RUN_ONCE))
            ;
        r = st.result;
    }
    reef_http_client_free(cl);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    reef_buf_free(&url);
    return r;
}

/* kubectl words a validation failure from the Status details: "The Deployment "x" is invalid:
 * FIELD: MESSAGE", one cause per "* " line when there are several (repeats dropped). */
static bool print_invalid(const struct reef_json_doc *d)
{
    int det = reef_json_member(d, REEF_JSON_ROOT, "details");
    if (det < 0)
        return false;
    char kind[128] = "", name[512] = "";
    int v = reef_json_member(d, det, "kind");
    if (v >= 0)
        reef_json_get_str(d, v, kind, sizeof(kind), NULL);
    v = reef_json_member(d, det, "name");
    if (v >= 0)
        reef_json_get_str(d, v, name, sizeof(name), NULL);
    struct reef_buf prefix, lines;
    reef_buf_init(&prefix);
    reef_buf_init(&lines);
    if (kind[0] || name[0])
        reef_buf_printf(&prefix, "The %s \"%s\" is invalid", kind, name);
    else
        reef_buf_puts(&prefix, "The request is invalid");
    int causes = reef_json_member(d, det, "causes");
    struct reef_json_iter it = reef_json_iter(d, causes);
    int n = 0;
    char **seen = NULL;
    while (causes >= 0 && reef_json_next(d, &it)) {
        char field[512] = "", m[2048] = "";
        v = reef_json_member(d, it.val, "field");
        if (v >= 0)
            reef_json_get_str(d, v, field, sizeof(field), NULL);
        v = reef_json_member(d, it.val, "message");
        if (v >= 0)
            reef_json_get_str(d, v, m, sizeof(m), NULL);
        char *line = NULL;
        if (asprintf(&line, "%s: %s", field, m) < 0)
            break;
        bool dup = false;
        for (int i = 0; i < n && !dup; i++)
            dup = strcmp(seen[i], line) == 0;
        char **ns = dup ? NULL : realloc(seen, (size_t)(n + 1) * sizeof(*ns));
        if (dup || !ns) {
            free(line);
            continue;
        }
        seen = ns;
        seen[n++] = line;
    }
    if (n == 0)
        fprintf(stderr, "%s\n", prefix.data);
    else if (n == 1)
        fprintf(stderr, "%s: %s\n", prefix.data, seen[0]);
    else {
        fprintf(stderr, "%s: \n", prefix.data);
        for (int i = 0; i < n; i++)
            fprintf(stderr, "* %s\n", seen[i]);
    }
    for (int i = 0; i < n; i++)
        free(seen[i]);
    free(seen);
    reef_buf_free(&prefix);
    reef_buf_free(&lines);
    return true;
}

void reef_kube_print_status(const struct reef_http_result *res)
{
    reef_kube_print_status_from(res, NULL, NULL);
}

void reef_kube_print_status_from(const struct reef_http_result *res, const char *source,
                                 const char *verb)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    char reason[128] = "", msg[2048] = "";
    if (res->body && reef_json_parse(&d, res->body, res->body_len, NULL, NULL) == 0) {
        int v = reef_json_member(&d, REEF_JSON_ROOT, "reason");
        if (v >= 0)
            reef_json_get_str(&d, v, reason, sizeof(reason), NULL);
        v = reef_json_member(&d, REEF_JSON_ROOT, "message");
        if (v >= 0)
            reef_json_get_str(&d, v, msg, sizeof(msg), NULL);
    }
    if (strcmp(reason, "Invalid") == 0 && print_invalid(&d)) {
        reef_json_doc_free(&d);
        return;
    }
    reef_json_doc_free(&d);
    if (!msg[0])
        snprintf(msg, sizeof(msg), "the server responded with the status code %d", res->status);
    char ctx[1200] = "";
    if (source)
        snprintf(ctx, sizeof(ctx), "error when %s \"%s\": ", verb ? verb : "creating", source);
    if (reason[0])
        fprintf(stderr, "Error from server (%s): %s%s\n", reason, ctx, msg);
    else
        fprintf(stderr, "Error from server: %s%s\n", ctx, msg);
}

int reef_kube_fail(const char *msg)
{
    if (reef_str_has_prefix(msg, "The connection to the server ")) {
        fprintf(stderr, "%s\n", msg);
        return 1;
    }
    fprintf(stderr, "error: %s\n", msg);
    return 1;
}

struct kv {
    int key, val;
    const char *k;
    size_t n;
};

static int kv_cmp(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->k, y->k, n);
    if (c)
        return c;
    return (x->n > y->n) - (x->n < y->n);
}

int reef_kube_put_sorted(struct reef_json_writer *w, const struct reef_json_doc *d, int v)
{
    enum reef_json_kind kind = reef_json_kind(d, v);
    if (kind == REEF_JSON_ARRAY) {
        reef_json_begin_array(w);
        struct reef_json_iter it = reef_json_iter(d, v);
        while (reef_json_next(d, &it))
            reef_kube_put_sorted(w, d, it.val);
        return reef_json_end_array(w);
    }
    if (kind != REEF_JSON_OBJECT)
        return reef_json_put_value(w, d, v);
    int n = reef_json_count(d, v);
    struct kv *m = calloc(n > 0 ? (size_t)n : 1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    struct reef_json_iter it = reef_json_iter(d, v);
    int i = 0;
    /* sorting by the raw spelling is what Go's map order gives for keys without escapes */
    while (reef_json_next(d, &it) && i < n) {
        m[i].key = it.key;
        m[i].val = it.val;
        m[i].k = reef_json_raw(d, it.key, &m[i].n);
        i++;
    }
    qsort(m, (size_t)i, sizeof(*m), kv_cmp);
    reef_json_begin_object(w);
    for (int j = 0; j < i; j++) {
        reef_json_key_from(w, d, m[j].key);
        reef_kube_put_sorted(w, d, m[j].val);
    }
    free(m);
    return reef_json_end_object(w);
}

void reef_kube_permute(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
    /* kubectl takes flags anywhere; reef's getopt stops at the first operand, so the operands are
     * moved behind the options first (keeping both in order). */
    char **ops = calloc((size_t)argc + 1, sizeof(char *));
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    if (!ops || !args) {
        free(ops);
        free(args);
        return;
    }
    int no = 0, na = 0, i = 1;
    for (; i < argc; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (a[0] != '-' || a[1] == 0) {
            args[na++] = a;
            continue;
        }
        ops[no++] = a;
        bool takes = false;
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            for (const struct option *o = longopts; o && o->name; o++)
                if (strlen(o->name) == n && strncmp(o->name, a + 2, n) == 0)
                    takes = !eq && o->has_arg == required_argument;
        } else {
            /* a cluster of short options; the one taking an argument ends it */
            for (const char *p = a + 1; *p; p++) {
                const char *s = strchr(shortopts, *p);
                if (s && s[1] == ':') {
                    takes = p[1] == 0;
                    break;
                }
            }
        }
        if (takes && i + 1 < argc)
            ops[no++] = argv[++i];
    }
    for (; i < argc; i++)
        args[na++] = argv[i];
    int j = 1;
    for (int x = 0; x < no; x++)
        argv[j++] = ops[x];
    for (int x = 0; x < na; x++)
        argv[j++] = args[x];
    free(ops);
    free(args);
}

/* ---- label, annotate, scale: merge patches of one field ---- */

extern const struct reef_cmd reef_cmd_label;
extern const struct reef_cmd reef_cmd_annotate;
extern const struct reef_cmd reef_cmd_scale;

int reef__kube_type_and_name(int argc, char **argv, int *i, const struct reef_kube_type **t,
                             const char **name)
{
    if (*i >= argc) {
        fprintf(stderr, "error: one or more resources must be specified as <resource> <name> "
                        "or <resource>/<name>\n");
        return 1;
    }
    char *a = argv[(*i)++];
    char *slash = strchr(a, '/');
    if (slash)
        *slash = 0;
    *t = reef_kube_type_find(a);
    if (!*t) {
        fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", a);
        return 1;
    }
    if (slash) {
        *name = slash + 1;
        return 0;
    }
    if (*i >= argc) {
        fprintf(stderr, "error: one or more resources must be specified as <resource> <name> "
                        "or <resource>/<name>\n");
        return 1;
    }
    *name = argv[(*i)++];
    return 0;
}

int reef__kube_status(int rc, const struct reef_http_result *res, const struct reef_err *err)
{
    if (rc < 0)
        return reef_kube_fail(err->msg);
    if (res->status >= 300) {
        reef_kube_print_status(res);
        return 1;
    }
    return 0;
}

int reef__kube_one_getopt(struct reef_kube_one *o, const struct reef_cmd *cmd, int argc,
                          char **argv, const struct option *longopts)
{
    int c;
    while ((c = reef_cmd_getopt(cmd, argc, argv, "n:", longopts)) != -1) {
        if (c == 'n')
            o->ns = optarg;
        else if (c == REEF_KUBE_O_KC)
            o->kcfg = optarg;
        else
            return c;
    }
    return -1;
}

int reef__kube_one_options(struct reef_kube_one *o, const struct reef_cmd *cmd, int argc,
                           char **argv)
{
    static const struct option lo[] = {{"namespace", required_argument, NULL, 'n'},
                                       {"kubeconfig", required_argument, NULL, REEF_KUBE_O_KC},
                                       {0}};
    reef_kube_permute(argc, argv, "n:", lo);
    int c = reef__kube_one_getopt(o, cmd, argc, argv, lo);
    if (c == -1)
        return -1;
    return c == 'h' ? 0 : REEF_EXIT_USAGE;
}

int reef__kube_one_open(struct reef_kube_one *o)
{
    struct reef_err err = {0};
    if (reef_kube_open(&o->k, o->kcfg, o->ns, &err) < 0)
        return reef_kube_fail(err.msg);
    reef_buf_init(&o->path);
    reef_buf_init(&o->ref);
    reef_kube_path(&o->path, o->t, o->k.ns, o->name);
    reef_kube_type_ref(&o->ref, o->t);
    return 0;
}

void reef__kube_one_close(struct reef_kube_one *o)
{
    reef_buf_free(&o->path);
    reef_buf_free(&o->ref);
    reef_kube_close(&o->k);
}

int reef__kube_one_get(struct reef_kube_one *o, struct reef_http_result *res,
                       struct reef_json_doc *d)
{
    struct reef_err err = {0};
    int rc = reef_kube_do(&o->k, "GET", o->path.data, "application/json", NULL, NULL, 0, res, &err);
    if (reef__kube_status(rc, res, &err))
        return 1;
    if (d && reef_json_parse(d, res->body, res->body_len, NULL, NULL) < 0)
        return reef_kube_fail("the server's answer is not JSON");
    return 0;
}

static int send_merge_patch(struct reef_kube *k, const char *path, const char *patch)
{
    struct reef_http_result res = {0};
    struct reef_err err = {0};
    int rc = reef_kube_do(k, "PATCH", path, "application/json", "application/merge-patch+json",
                          patch, strlen(patch), &res, &err);
    int status = reef__kube_status(rc, &res, &err);
    reef_http_result_free(&res);
    return status;
}

static int run_meta(const struct reef_cmd *cmd, int argc, char **argv, bool labels)
{
    enum { O_OVERWRITE = REEF_KUBE_O_KC + 1 };
    static const struct option lo[] = {{"namespace", required_argument, NULL, 'n'},
                                       {"kubeconfig", required_argument, NULL, REEF_KUBE_O_KC},
                                       {"overwrite", no_argument, NULL, O_OVERWRITE},
                                       {0}};
    struct reef_kube_one o = {0};
    bool overwrite = false;
    int c;
    reef_kube_permute(argc, argv, "n:", lo);
    while ((c = reef__kube_one_getopt(&o, cmd, argc, argv, lo)) != -1) {
        if (c == 'h')
            return 0;
        if (c == O_OVERWRITE)
            overwrite = true;
        else
            return REEF_EXIT_USAGE;
    }
    int i = optind;
    if (reef__kube_type_and_name(argc, argv, &i, &o.t, &o.name))
        return 1;
    const char *what = labels ? "label" : "annotation";
    if (i >= argc) {
        fprintf(stderr, "error: at least one %s update is required\n", what);
        return 1;
    }
    for (int j = i; j < argc; j++) {
        const char *a = argv[j], *eq = strchr(a, '=');
        size_t n = strlen(a);
        bool ok = eq ? eq > a && !strchr(eq + 1, '=') : n > 1 && a[n - 1] == '-';
        if (!ok) {
            fprintf(stderr, "error: invalid %s spec: %s\n", what, a);
            return 1;
        }
    }
    if (reef__kube_one_open(&o))
        return 1;
    struct reef_buf patch;
    reef_buf_init(&patch);
    struct reef_http_result res = {0};
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    int status = reef__kube_one_get(&o, &res, &d);
    if (status)
        goto out;
    int cur = reef_json_find(&d, REEF_JSON_ROOT,
                             labels ? "metadata.labels" : "metadata.annotations", NULL);
    struct reef_json_writer w;
    reef_json_writer_init(&w, &patch, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "metadata");
    reef_json_begin_object(&w);
    reef_json_key(&w, labels ? "labels" : "annotations");
    reef_json_begin_object(&w);
    bool added = false, removed = false;
    for (int j = i; j < argc; j++) {
        const char *a = argv[j], *eq = strchr(a, '=');
        size_t kn = eq ? (size_t)(eq - a) : strlen(a) - 1;
        char key[512];
        snprintf(key, sizeof(key), "%.*s", (int)kn, a);
        int v = cur >= 0 ? reef_json_member(&d, cur, key) : -ENOENT;
        if (!eq) {
            if (v < 0) {
                printf("%s \"%s\" not found.\n", what, key);
                continue;
            }
            reef_json_key(&w, key);
            reef_json_put_null(&w);
            removed = true;
            continue;
        }
        if (v >= 0 && !reef_json_str_eq(&d, v, eq + 1)) {
            if (!overwrite) {
                char old[1024] = "";
                reef_json_get_str(&d, v, old, sizeof(old), NULL);
                if (labels)
                    fprintf(stderr,
                            "error: '%s' already has a value (%s), and --overwrite is false\n", key,
                            old);
                else
                    fprintf(stderr,
                            "error: --overwrite is false but found the following declared "
                            "annotation(s): '%s' already has a value (%s)\n",
                            key, old);
                status = 1;
                goto out;
            }
        } else if (v >= 0) {
            continue;
        }
        reef_json_key(&w, key);
        reef_json_put_str(&w, eq + 1);
        added = true;
    }
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    if (reef_json_finish(&w, &err) < 0) {
        status = reef_kube_fail(err.msg);
        goto out;
    }
    if ((added || removed) && send_merge_patch(&o.k, o.path.data, patch.data)) {
        status = 1;
        goto out;
    }
    if (!labels)
        printf("%s/%s annotated\n", o.ref.data, o.name);
    else
        printf("%s/%s %s\n", o.ref.data, o.name,
               added     ? "labeled"
               : removed ? "unlabeled"
                         : "not labeled");
out:
    reef_json_doc_free(&d);
    reef_http_result_free(&res);
    reef_buf_free(&patch);
    reef__kube_one_close(&o);
    return status;
}

static int run_label(int argc, char **argv)
{
    return run_meta(&reef_cmd_label, argc, argv, true);
}

static int run_annotate(int argc, char **argv)
{
    return run_meta(&reef_cmd_annotate, argc, argv, false);
}

static int run_scale(int argc, char **argv)
{
    enum { O_REPLICAS = REEF_KUBE_O_KC + 1 };
    static const struct option lo[] = {{"namespace", required_argument, NULL, 'n'},
                                       {"kubeconfig", required_argument, NULL, REEF_KUBE_O_KC},
                                       {"replicas", required_argument, NULL, O_REPLICAS},
                                       {0}};
    struct reef_kube_one o = {0};
    const char *replicas = NULL;
    int c;
    reef_kube_permute(argc, argv, "n:", lo);
    while ((c = reef__kube_one_getopt(&o, &reef_cmd_scale, argc, argv, lo)) != -1) {
        if (c == 'h')
            return 0;
        if (c == O_REPLICAS)
            replicas = optarg;
        else
            return REEF_EXIT_USAGE;
    }
    long long n;
    if (!replicas) {
        fprintf(stderr, "error: required flag(s) \"replicas\" not set\n");
        return 1;
    }
    if (reef_str_to_ll(replicas, 0, 2147483647, &n) < 0) {
        fprintf(stderr, "error: invalid argument \"%s\" for \"--replicas\" flag\n", replicas);
        return 1;
    }
    int i = optind;
    if (reef__kube_type_and_name(argc, argv, &i, &o.t, &o.name) || reef__kube_one_open(&o))
        return 1;
    struct reef_http_result res = {0};
    struct reef_err err = {0};
    int status = 0;
    /* the object first: a missing one is reported as kubectl reports it */
    if (reef_kube_do(&o.k, "GET", o.path.data, "application/json", NULL, NULL, 0, &res, &err) < 0) {
        status = reef_kube_fail(err.msg);
    } else if (res.status == 404) {
        /* kubectl finds nothing to scale and says so with the server's message */
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        char msg[1024] = "";
        if (reef_json_parse(&d, res.body, res.body_len, NULL, NULL) == 0) {
            int v = reef_json_member(&d, REEF_JSON_ROOT, "message");
            if (v >= 0)
                reef_json_get_str(&d, v, msg, sizeof(msg), NULL);
        }
        reef_json_doc_free(&d);
        fprintf(stderr, "error: no objects passed to scale %s\n", msg);
        status = 1;
    } else if (res.status >= 300) {
        reef_kube_print_status(&res);
        status = 1;
    } else {
        char patch[64];
        snprintf(patch, sizeof(patch), "{\"spec\":{\"replicas\":%lld}}", n);
        reef_buf_puts(&o.path, "/scale");
        status = send_merge_patch(&o.k, o.path.data, patch);
        if (!status)
            printf("%s/%s scaled\n", o.ref.data, o.name);
    }
    reef_http_result_free(&res);
    reef__kube_one_close(&o);
    return status;
}

const struct reef_cmd reef_cmd_label = {
    .name = "label",
    .summary = "set or remove labels of an object, as kubectl label",
    .usage = "usage: reef label TYPE NAME|TYPE/NAME KEY=VALUE|KEY- ... [--overwrite] [-n NS] "
             "[--kubeconfig FILE]\n",
    .run = run_label,
};
REEF_COMMAND(reef_cmd_label);

const struct reef_cmd reef_cmd_annotate = {
    .name = "annotate",
    .summary = "set or remove annotations of an object, as kubectl annotate",
    .usage = "usage: reef annotate TYPE NAME|TYPE/NAME KEY=VALUE|KEY- ... [--overwrite] [-n NS] "
             "[--kubeconfig FILE]\n",
    .run = run_annotate,
};
REEF_COMMAND(reef_cmd_annotate);

const struct reef_cmd reef_cmd_scale = {
    .name = "scale",
    .summary = "set the replicas of a deployment or replica set, as kubectl scale",
    .usage = "usage: reef scale TYPE NAME|TYPE/NAME --replicas N [-n NS] [--kubeconfig FILE]\n",
    .run = run_scale,
};
REEF_COMMAND(reef_cmd_scale);

/* ---- flag values as Go's flag package reads them ---- */

int reef_kube_timeout_flag(const char *arg, int64_t *ms)
{
    if (reef_kube_parse_duration(arg, ms) == 0)
        return 0;
    fprintf(stderr,
            "error: invalid argument \"%s\" for \"--timeout\" flag: time: invalid duration "
            "\"%s\"\n",
            arg, arg);
    return 1;
}

int reef_kube_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 6e4}, {"h", 3.6e6}};
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    double total = 0;
    const char *p = s;
    if (!*p)
        return -EINVAL;
    while (*p) {
        char *end;
        if (!(*p >= '0' && *p <= '9') && *p != '.')
            return -EINVAL;
        double v = strtod(p, &end);
        if (end == p)
            return -EINVAL;
        p = end;
        size_t best = 0, bl = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t l = strlen(units[i].unit);
            if (strncmp(p, units[i].unit, l) == 0 && l > bl)
                best = i, bl = l;
        }
        if (!bl)
            return -EINVAL;
        total += v * units[best].ms;
        p += bl;
    }
    if (total > 9.2e15)
        return -ERANGE;
    *ms = (int64_t)(total + 0.999);
    return 0;
}

int reef_kube_parse_bool(const char *s, bool *out)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False", NULL};
    for (size_t i = 0; t[i]; i++)
        if (strcmp(s, t[i]) == 0)
            return *out = true, 0;
    for (size_t i = 0; f[i]; i++)
        if (strcmp(s, f[i]) == 0)
            return *out = false, 0;
    return -EINVAL;
}
