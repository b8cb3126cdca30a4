/* kube: resource types, the connection and the error printing shared by reef get/apply/delete. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    const char *n = ns && *ns ? ns : (k->cfg.namespace && *k->cfg.namespace ? k->cfg.namespace
                                                                              : "default");
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

void reef_kube_path(struct reef_buf *out, const struct reef_kube_type *t, const char *ns,
                    const char *name)
{
    if (t->group[0])
        reef_buf_printf(out, "/apis/%s/%s", t->group, t->version);
    else
        reef_buf_printf(out, "/api/%s", t->version);
    if (t->namespaced && ns)
        reef_buf_printf(out, "/namespaces/%s", ns);
    reef_buf_printf(out, "/%s", t->plural);
    if (name)
        reef_buf_printf(out, "/%s", name);
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
    reef_kube_print_status_from(res, NULL);
}

void reef_kube_print_status_from(const struct reef_http_result *res, const char *source)
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
        snprintf(ctx, sizeof(ctx), "error when creating \"%s\": ", source);
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

/* ---- YAML output, as kubectl -o yaml (sigs.k8s.io/yaml over go-yaml v2) ---- */

struct ye {
    struct reef_buf *out;
    size_t col;
};

static void ye_put(struct ye *y, const char *s, size_t n)
{
    reef_buf_append(y->out, s, n);
    for (size_t i = 0; i < n; i++)
        y->col = s[i] == '\n' ? 0 : y->col + 1;
}

static void ye_puts(struct ye *y, const char *s)
{
    ye_put(y, s, strlen(s));
}

static void ye_indent(struct ye *y, size_t indent)
{
    if (y->col > 0)
        ye_puts(y, "\n");
    for (size_t i = 0; i < indent; i++)
        ye_puts(y, " ");
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Whether go-yaml would read the plain scalar s as something other than a string. */
static bool resolves_non_string(const char *s)
{
    static const char *const special[] = {
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No",
        "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off",
        "OFF", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan",
        ".NaN", ".NAN", "<<"};
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (strcmp(s, special[i]) == 0)
            return true;
    if (!strchr("+-.0123456789", s[0]))
        return false;
    /* timestamps: 2006-1-2, optionally followed by a time */
    {
        const char *p = s;
        int nd = 0;
        while (is_digit(*p) && nd < 5)
            p++, nd++;
        if (nd == 4 && *p == '-' && is_digit(p[1])) {
            p += 2;
            if (is_digit(*p))
                p++;
            if (*p == '-' && is_digit(p[1])) {
                p += 2;
                if (is_digit(*p))
                    p++;
                if (*p == 0 || ((*p == 'T' || *p == 't' || *p == ' ') && is_digit(p[1])))
                    return true;
            }
        }
    }
    /* integers (underscores allowed), floats, and base-60 numbers such as 1:20 */
    char tmp[128];
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < sizeof(tmp); p++)
        if (*p != '_')
            tmp[n++] = *p;
    tmp[n] = 0;
    if (strlen(s) < sizeof(tmp) && n > 0) {
        char *end;
        errno = 0;
        (void)strtoll(tmp, &end, 0);
        if (*end == 0)
            return true;
        const char *q = tmp;
        if (*q == '+' || *q == '-')
            q++;
        if (q[0] == '0' && (q[1] == 'b' || q[1] == 'B'))
            return true;
        (void)strtod(tmp, &end);
        if (*end == 0 && !strchr(tmp, 'x') && !strchr(tmp, 'X') && !strchr(tmp, 'n') &&
            !strchr(tmp, 'N'))
            return true;
    }
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!is_digit(*p))
        return false;
    while (is_digit(*p) || *p == '_')
        p++;
    bool sixty = false;
    while (*p == ':' && is_digit(p[1])) {
        p++;
        if (is_digit(*p) && is_digit(p[1]) && *p > '5')
            return false;
        p++;
        if (is_digit(*p))
            p++;
        sixty = true;
    }
    if (sixty && *p == '.') {
        p++;
        while (is_digit(*p) || *p == '_')
            p++;
    }
    return sixty && *p == 0;
}

/* libyaml's analysis: may s be written plain in block context? */
static bool plain_allowed(const char *s, size_t n)
{
    if (n == 0)
        return false;
    if (n >= 3 && (strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0))
        return false;
    if (s[0] == ' ' || s[n - 1] == ' ')
        return false;
    if (strchr("#,[]{}&*!|>'\"%@`", s[0]))
        return false;
    if (strchr("-?:", s[0]) && (n == 1 || s[1] == ' '))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ':' && (i + 1 == n || s[i + 1] == ' '))
            return false;
        if (c == '#' && i > 0 && s[i - 1] == ' ')
            return false;
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static bool needs_double(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return true;
        if (c == '\n' && i > 0 && s[i - 1] == ' ')
            return true;
    }
    return false;
}

/* Writes s[0..n) with go-yaml's line folding: a space once past column 80 becomes a line break
 * and the indentation. */
static void ye_folded(struct ye *y, const char *s, size_t n, size_t indent, bool fold)
{
    bool spaces = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') {
            if (fold && !spaces && y->col > 80 && i + 1 < n && s[i + 1] != ' ') {
                ye_indent(y, indent);
            } else {
                ye_put(y, s + i, 1);
            }
            spaces = true;
        } else {
            ye_put(y, s + i, 1);
            spaces = false;
        }
    }
}

static void ye_string(struct ye *y, const char *s, size_t n, size_t indent, bool key)
{
    bool nul = memchr(s, 0, n) != NULL;
    char *z = strndup(s, n);
    if (!z)
        return;
    if (!key && !nul && memchr(s, '\n', n) && !needs_double(s, n) && s[0] != ' ') {
        size_t trail = 0;
        while (trail < n && s[n - 1 - trail] == '\n')
            trail++;
        ye_puts(y, trail == 0 ? "|-" : trail == 1 ? "|" : "|+");
        /* the lines of the content; the final line break belongs to the chomping indicator */
        const char *p = s, *e = trail ? s + n - 1 : s + n;
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            size_t l = nl ? (size_t)(nl - p) : (size_t)(e - p);
            ye_puts(y, "\n");
            for (size_t i = 0; l && i < indent; i++)
                ye_puts(y, " ");
            ye_put(y, p, l);
            if (!nl)
                break;
            p = nl + 1;
        }
        y->col = 1; /* the next line starts after a break, wherever this one ended */
        free(z);
        return;
    }
    if (!nul && !needs_double(s, n) && !memchr(s, '\n', n) && !resolves_non_string(z)) {
        if (plain_allowed(s, n)) {
            ye_folded(y, s, n, indent, !key);
        } else {
            ye_puts(y, "'");
            bool spaces = false;
            for (size_t i = 0; i < n; i++) {
                if (s[i] == ' ') {
                    if (!key && !spaces && y->col > 80 && i > 0 && i + 1 < n && s[i + 1] != ' ')
                        ye_indent(y, indent);
                    else
                        ye_put(y, s + i, 1);
                    spaces = true;
                    continue;
                }
                if (s[i] == '\'')
                    ye_puts(y, "'");
                ye_put(y, s + i, 1);
                spaces = false;
            }
            ye_puts(y, "'");
        }
        free(z);
        return;
    }
    /* double-quoted, escaped */
    ye_puts(y, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"':
            ye_puts(y, "\\\"");
            break;
        case '\\':
            ye_puts(y, "\\\\");
            break;
        case '\n':
            ye_puts(y, "\\n");
            break;
        case '\t':
            ye_puts(y, "\\t");
            break;
        case '\r':
            ye_puts(y, "\\r");
            break;
        case 0:
            ye_puts(y, "\\0");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof(esc), "\\x%02X", c);
                ye_puts(y, esc);
            } else {
                ye_put(y, s + i, 1);
            }
        }
    }
    ye_puts(y, "\"");
    free(z);
}

/* go-yaml's key order: letters after other characters, digit runs compared as numbers. */
static bool yaml_key_less(const char *a, size_t an_, const char *b, size_t bn_)
{
    size_t i;
    for (i = 0; i < an_ && i < bn_; i++) {
        char ac = a[i], bc = b[i];
        if (ac == bc)
            continue;
        bool al = (ac >= 'a' && ac <= 'z') || (ac >= 'A' && ac <= 'Z') || (ac & 0x80);
        bool bl = (bc >= 'a' && bc <= 'z') || (bc >= 'A' && bc <= 'Z') || (bc & 0x80);
        if (al && bl)
            return (unsigned char)ac < (unsigned char)bc;
        if (al || bl)
            return bl;
        long long an = 0, bn = 0;
        size_t ai, bi;
        if (ac == '0' || bc == '0') {
            for (size_t j = i; j-- > 0 && is_digit(a[j]);) {
                if (a[j] != '0') {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        for (ai = i; ai < an_ && is_digit(a[ai]) && an < (1LL << 58); ai++)
            an = an * 10 + (a[ai] - '0');
        for (bi = i; bi < bn_ && is_digit(b[bi]) && bn < (1LL << 58); bi++)
            bn = bn * 10 + (b[bi] - '0');
        if (an != bn)
            return an < bn;
        if (ai != bi)
            return ai < bi;
        return (unsigned char)ac < (unsigned char)bc;
    }
    return an_ < bn_;
}

struct ykey {
    int key, val;
    char *s;
    size_t n;
};

static int ykey_cmp(const void *pa, const void *pb)
{
    const struct ykey *a = pa, *b = pb;
    if (yaml_key_less(a->s, a->n, b->s, b->n))
        return -1;
    if (yaml_key_less(b->s, b->n, a->s, a->n))
        return 1;
    return 0;
}

static void ye_value(struct ye *y, const struct reef_json_doc *d, int v, size_t indent);

static void ye_map(struct ye *y, const struct reef_json_doc *d, int v, size_t indent,
                   bool inline_first)
{
    int n = reef_json_count(d, v);
    struct ykey *m = calloc(n > 0 ? (size_t)n : 1, sizeof(*m));
    if (!m)
        return;
    struct reef_json_iter it = reef_json_iter(d, v);
    int cnt = 0;
    while (reef_json_next(d, &it) && cnt < n) {
        struct reef_buf kb;
        reef_buf_init(&kb);
        reef_json_get_strbuf(d, it.key, &kb, NULL);
        m[cnt].key = it.key;
        m[cnt].val = it.val;
        m[cnt].n = kb.len;
        m[cnt].s = kb.data ? reef_buf_steal(&kb) : strdup("");
        cnt++;
    }
    qsort(m, (size_t)cnt, sizeof(*m), ykey_cmp);
    for (int i = 0; i < cnt; i++) {
        if (i > 0 || !inline_first)
            ye_indent(y, indent);
        ye_string(y, m[i].s ? m[i].s : "", m[i].s ? m[i].n : 0, indent, true);
        ye_puts(y, ":");
        enum reef_json_kind k = reef_json_kind(d, m[i].val);
        int c = reef_json_count(d, m[i].val);
        if (k == REEF_JSON_OBJECT && c > 0) {
            ye_map(y, d, m[i].val, indent + 2, false);
        } else if (k == REEF_JSON_ARRAY && c > 0) {
            ye_value(y, d, m[i].val, indent); /* sequences in a mapping are not indented */
        } else {
            ye_puts(y, " ");
            ye_value(y, d, m[i].val, indent + 2);
        }
        free(m[i].s);
    }
    free(m);
}

static void ye_seq(struct ye *y, const struct reef_json_doc *d, int v, size_t indent,
                   bool inline_first)
{
    struct reef_json_iter it = reef_json_iter(d, v);
    bool first = true;
    while (reef_json_next(d, &it)) {
        if (!first || !inline_first)
            ye_indent(y, indent);
        first = false;
        ye_puts(y, "- ");
        enum reef_json_kind k = reef_json_kind(d, it.val);
        int c = reef_json_count(d, it.val);
        if (k == REEF_JSON_OBJECT && c > 0)
            ye_map(y, d, it.val, indent + 2, true);
        else if (k == REEF_JSON_ARRAY && c > 0)
            ye_seq(y, d, it.val, indent + 2, true);
        else
            ye_value(y, d, it.val, indent + 2);
    }
}

static void ye_value(struct ye *y, const struct reef_json_doc *d, int v, size_t indent)
{
    switch (reef_json_kind(d, v)) {
    case REEF_JSON_OBJECT:
        if (reef_json_count(d, v) == 0)
            ye_puts(y, "{}");
        else
            ye_map(y, d, v, indent, false);
        break;
    case REEF_JSON_ARRAY:
        if (reef_json_count(d, v) == 0)
            ye_puts(y, "[]");
        else
            ye_seq(y, d, v, indent, false);
        break;
    case REEF_JSON_STRING: {
        struct reef_buf b;
        reef_buf_init(&b);
        reef_json_get_strbuf(d, v, &b, NULL);
        ye_string(y, b.data ? b.data : "", b.len, indent, false);
        reef_buf_free(&b);
        break;
    }
    default: {
        size_t n;
        const char *raw = reef_json_raw(d, v, &n);
        if (raw)
            ye_put(y, raw, n);
    }
    }
}

int reef_kube_put_yaml(struct reef_buf *out, const struct reef_json_doc *d, int v)
{
    struct ye y = {out, 0};
    ye_value(&y, d, v, 0);
    ye_puts(&y, "\n");
    return 0;
}
