/* kube_rollout_tmpl: a pod template as kubectl describe prints it (describe.DescribePodTemplate),
 * for `reef rollout history --revision N`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/kube_rollout.h"

#define CHANGE_CAUSE_ANN "kubernetes.io/change-cause"

static void str_at(const struct reef_json_doc *d, int v, const char *path, char *out, size_t n)
{
    out[0] = 0;
    int x = v >= 0 ? reef_json_find(d, v, path, NULL) : -ENOENT;
    if (x >= 0 && reef_json_get_str(d, x, out, n, NULL) < 0)
        out[0] = 0;
}

static int64_t int_at(const struct reef_json_doc *d, int v, const char *path, int64_t dflt)
{
    int64_t n;
    int x = reef_json_find(d, v, path, NULL);
    if (x < 0 || reef_json_get_int(d, x, &n, NULL) < 0)
        return dflt;
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys of object v, sorted; the caller frees the array and its strings. */
static size_t sorted_keys(const struct reef_json_doc *d, int v, char ***out)
{
    int n = v >= 0 ? reef_json_count(d, v) : 0;
    *out = calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
    size_t k = 0;
    struct reef_json_iter it = reef_json_iter(d, v);
    while (*out && v >= 0 && reef_json_next(d, &it) && k < (size_t)n)
        if (reef_json_get_strdup(d, it.key, &(*out)[k], NULL) == 0)
            k++;
    if (k)
        qsort(*out, k, sizeof(char *), cmp_str);
    return k;
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

static void put_str(struct reef_buf *b, const struct reef_json_doc *d, int v)
{
    if (v >= 0 && reef_json_kind(d, v) == REEF_JSON_STRING)
        reef_json_get_strbuf(d, v, b, NULL);
    else if (v >= 0 && reef_json_kind(d, v) != REEF_JSON_NULL) {
        size_t n;
        const char *r = reef_json_raw(d, v, &n);
        reef_buf_append(b, r, n);
    }
}

/* printLabelsMultiline: "TITLE:\tk=v\n" then "\tk=v\n" for the others, or "<none>". */
static void print_labels(struct reef_buf *b, const char *title, const struct reef_json_doc *d,
                         int v)
{
    char **keys;
    size_t n = sorted_keys(d, v, &keys);
    reef_buf_printf(b, "%s:\t", title);
    if (!n)
        reef_buf_puts(b, "<none>\n");
    for (size_t i = 0; i < n; i++) {
        reef_buf_printf(b, "%s%s=", i ? "\t" : "", keys[i]);
        put_str(b, d, reef_json_member(d, v, keys[i]));
        reef_buf_putc(b, '\n');
    }
    free_keys(keys, n);
}

/* printAnnotationsMultiline: long or multi-line values on lines of their own, cut at 140. */
static void print_annotations(struct reef_buf *b, const struct reef_json_doc *d, int v)
{
    char **keys;
    size_t n = sorted_keys(d, v, &keys);
    reef_buf_puts(b, "  Annotations:\t");
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i], "kubectl.kubernetes.io/last-applied-configuration") == 0)
            continue;
        if (shown++)
            reef_buf_putc(b, '\t');
        struct reef_buf val = REEF_BUF_INIT;
        put_str(&val, d, reef_json_member(d, v, keys[i]));
        char *s = val.data ? val.data : "";
        size_t len = val.len;
        if (len && s[len - 1] == '\n')
            s[--len] = 0;
        if (len + strlen(keys[i]) + 2 > 140 || strchr(s, '\n')) {
            reef_buf_printf(b, "%s:\n", keys[i]);
            for (char *line = s, *nl;; line = nl + 1) {
                nl = strchr(line, '\n');
                size_t ln = nl ? (size_t)(nl - line) : strlen(line);
                reef_buf_printf(b, "\t  %.*s%s\n", (int)(ln > 138 ? 138 : ln), line,
                                ln > 138 ? "..." : "");
                if (!nl)
                    break;
            }
        } else {
            reef_buf_printf(b, "%s: %s\n", keys[i], s);
        }
        reef_buf_free(&val);
    }
    if (!shown)
        reef_buf_puts(b, "<none>\n");
    free_keys(keys, n);
}

static void print_probe(struct reef_buf *b, const char *what, const struct reef_json_doc *d, int p)
{
    if (p < 0)
        return;
    reef_buf_printf(b, "    %s:\t", what);
    int v;
    char host[256], port[64], path[1024], scheme[16];
    if ((v = reef_json_member(d, p, "exec")) >= 0) {
        reef_buf_puts(b, "exec [");
        int c = reef_json_member(d, v, "command");
        struct reef_json_iter it = reef_json_iter(d, c);
        while (c >= 0 && reef_json_next(d, &it)) {
            if (it.index)
                reef_buf_putc(b, ' ');
            put_str(b, d, it.val);
        }
        reef_buf_puts(b, "] ");
    } else if ((v = reef_json_member(d, p, "httpGet")) >= 0) {
        str_at(d, v, "host", host, sizeof(host));
        str_at(d, v, "path", path, sizeof(path));
        str_at(d, v, "scheme", scheme, sizeof(scheme));
        struct reef_buf pb = REEF_BUF_INIT;
        put_str(&pb, d, reef_json_member(d, v, "port"));
        for (char *c = scheme; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        reef_buf_printf(b, "http-get %s%s%s:%s%s ", scheme, scheme[0] ? "://" : "//", host,
                        pb.data ? pb.data : "", path);
        reef_buf_free(&pb);
    } else if ((v = reef_json_member(d, p, "tcpSocket")) >= 0) {
        str_at(d, v, "host", host, sizeof(host));
        struct reef_buf pb = REEF_BUF_INIT;
        put_str(&pb, d, reef_json_member(d, v, "port"));
        snprintf(port, sizeof(port), "%s", pb.data ? pb.data : "");
        reef_buf_printf(b, "tcp-socket %s:%s ", host, port);
        reef_buf_free(&pb);
    } else {
        reef_buf_puts(b, "unknown ");
    }
    reef_buf_printf(b,
                    "delay=%" PRId64 "s timeout=%" PRId64 "s period=%" PRId64 "s #success=%" PRId64
                    " #failure=%" PRId64 "\n",
                    int_at(d, p, "initialDelaySeconds", 0), int_at(d, p, "timeoutSeconds", 0),
                    int_at(d, p, "periodSeconds", 0), int_at(d, p, "successThreshold", 0),
                    int_at(d, p, "failureThreshold", 0));
}

static void print_lines(struct reef_buf *b, const char *title, const struct reef_json_doc *d,
                        int arr)
{
    if (arr < 0 || reef_json_count(d, arr) <= 0)
        return;
    reef_buf_printf(b, "    %s:\n", title);
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        struct reef_buf s = REEF_BUF_INIT;
        put_str(&s, d, it.val);
        for (char *line = s.data ? s.data : "", *nl;; line = nl + 1) {
            nl = strchr(line, '\n');
            reef_buf_printf(b, "      %.*s\n", (int)(nl ? nl - line : (long)strlen(line)), line);
            if (!nl)
                break;
        }
        reef_buf_free(&s);
    }
}

static void print_resources(struct reef_buf *b, const struct reef_json_doc *d, int r,
                            const char *what, const char *title)
{
    int v = r >= 0 ? reef_json_member(d, r, what) : -1;
    char **keys;
    size_t n = sorted_keys(d, v, &keys);
    if (n)
        reef_buf_printf(b, "    %s:\n", title);
    for (size_t i = 0; i < n; i++) {
        reef_buf_printf(b, "      %s:\t", keys[i]);
        put_str(b, d, reef_json_member(d, v, keys[i]));
        reef_buf_putc(b, '\n');
    }
    free_keys(keys, n);
}

static void print_env(struct reef_buf *b, const struct reef_json_doc *d, int env)
{
    int n = env >= 0 ? reef_json_count(d, env) : 0;
    reef_buf_printf(b, "    Environment:%s\n", n > 0 ? "" : "\t<none>");
    struct reef_json_iter it = reef_json_iter(d, env);
    while (n > 0 && reef_json_next(d, &it)) {
        char name[256], key[256], obj[256], fp[256], av[64];
        str_at(d, it.val, "name", name, sizeof(name));
        int from = reef_json_member(d, it.val, "valueFrom"), v;
        bool opt = false;
        if (from < 0) {
            struct reef_buf s = REEF_BUF_INIT;
            put_str(&s, d, reef_json_member(d, it.val, "value"));
            int i = 0;
            for (char *line = s.data ? s.data : "", *nl;; line = nl + 1, i++) {
                nl = strchr(line, '\n');
                int ln = (int)(nl ? nl - line : (long)strlen(line));
                if (i == 0)
                    reef_buf_printf(b, "      %s:\t%.*s\n", name, ln, line);
                else
                    reef_buf_printf(b, "      \t%.*s\n", ln, line);
                if (!nl)
                    break;
            }
            reef_buf_free(&s);
        } else if ((v = reef_json_member(d, from, "fieldRef")) >= 0) {
            str_at(d, v, "apiVersion", av, sizeof(av));
            str_at(d, v, "fieldPath", fp, sizeof(fp));
            reef_buf_printf(b, "      %s:\t (%s:%s)\n", name, av, fp);
        } else if ((v = reef_json_member(d, from, "resourceFieldRef")) >= 0) {
            str_at(d, v, "resource", fp, sizeof(fp));
            reef_buf_printf(b, "      %s:\t (%s)\n", name, fp);
        } else {
            bool secret = (v = reef_json_member(d, from, "secretKeyRef")) >= 0;
            if (!secret)
                v = reef_json_member(d, from, "configMapKeyRef");
            str_at(d, v, "key", key, sizeof(key));
            str_at(d, v, "name", obj, sizeof(obj));
            int o = v >= 0 ? reef_json_member(d, v, "optional") : -1;
            if (o >= 0)
                reef_json_get_bool(d, o, &opt, NULL);
            reef_buf_printf(b, "      %s:\t<set to the key '%s' %s '%s'>\tOptional: %s\n", name,
                            key, secret ? "in secret" : "of config map", obj,
                            opt ? "true" : "false");
        }
    }
}

struct mount {
    char path[1024], name[256], sub[1024];
    bool ro;
};

static int cmp_mount(const void *a, const void *b)
{
    return strcmp(((const struct mount *)a)->path, ((const struct mount *)b)->path);
}

static void print_mounts(struct reef_buf *b, const struct reef_json_doc *d, int arr)
{
    int n = arr >= 0 ? reef_json_count(d, arr) : 0;
    reef_buf_printf(b, "    Mounts:%s\n", n > 0 ? "" : "\t<none>");
    if (n <= 0)
        return;
    struct mount *m = calloc((size_t)n, sizeof(*m));
    size_t k = 0;
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (m && reef_json_next(d, &it) && k < (size_t)n) {
        str_at(d, it.val, "mountPath", m[k].path, sizeof(m[k].path));
        str_at(d, it.val, "name", m[k].name, sizeof(m[k].name));
        str_at(d, it.val, "subPath", m[k].sub, sizeof(m[k].sub));
        int ro = reef_json_member(d, it.val, "readOnly");
        if (ro >= 0)
            reef_json_get_bool(d, ro, &m[k].ro, NULL);
        k++;
    }
    if (k)
        qsort(m, k, sizeof(*m), cmp_mount);
    for (size_t i = 0; i < k; i++) {
        reef_buf_printf(b, "      %s from %s (%s", m[i].path, m[i].name, m[i].ro ? "ro" : "rw");
        if (m[i].sub[0])
            reef_buf_printf(b, ",path=\"%s\"", m[i].sub);
        reef_buf_puts(b, ")\n");
    }
    free(m);
}

/* describeContainerPorts / describeContainerHostPorts: "80/TCP", several joined by ", ". */
static void print_ports(struct reef_buf *b, const struct reef_json_doc *d, int ports, bool host)
{
    struct reef_buf s = REEF_BUF_INIT;
    struct reef_json_iter it = reef_json_iter(d, ports);
    while (ports >= 0 && reef_json_next(d, &it)) {
        char proto[16];
        str_at(d, it.val, "protocol", proto, sizeof(proto));
        reef_buf_printf(&s, "%s%" PRId64 "/%s", it.index ? ", " : "",
                        int_at(d, it.val, host ? "hostPort" : "containerPort", 0), proto);
    }
    bool many = s.data && strchr(s.data, ',');
    reef_buf_printf(b, "    %s%s:\t%s\n", host ? "Host Port" : "Port", many ? "s" : "",
                    s.len ? s.data : "<none>");
    reef_buf_free(&s);
}

static void print_containers(struct reef_buf *b, const char *label, const struct reef_json_doc *d,
                             int arr)
{
    int n = arr >= 0 ? reef_json_count(d, arr) : 0;
    reef_buf_printf(b, "  %s:%s\n", label, n > 0 ? "" : " <none>");
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (n > 0 && reef_json_next(d, &it)) {
        char name[256], image[1024];
        str_at(d, it.val, "name", name, sizeof(name));
        str_at(d, it.val, "image", image, sizeof(image));
        reef_buf_printf(b, "   %s:\n    Image:\t%s\n", name, image);
        int ports = reef_json_member(d, it.val, "ports");
        print_ports(b, d, ports, false);
        print_ports(b, d, ports, true);
        char sp[64];
        str_at(d, it.val, "securityContext.seccompProfile.type", sp, sizeof(sp));
        if (sp[0]) {
            reef_buf_printf(b, "    SeccompProfile:\t%s\n", sp);
            if (strcmp(sp, "Localhost") == 0) {
                char lp[1024];
                str_at(d, it.val, "securityContext.seccompProfile.localhostProfile", lp,
                       sizeof(lp));
                reef_buf_printf(b, "      LocalhostProfile:\t%s\n", lp);
            }
        }
        print_lines(b, "Command", d, reef_json_member(d, it.val, "command"));
        print_lines(b, "Args", d, reef_json_member(d, it.val, "args"));
        int res = reef_json_member(d, it.val, "resources");
        print_resources(b, d, res, "limits", "Limits");
        print_resources(b, d, res, "requests", "Requests");
        print_probe(b, "Liveness", d, reef_json_member(d, it.val, "livenessProbe"));
        print_probe(b, "Readiness", d, reef_json_member(d, it.val, "readinessProbe"));
        print_probe(b, "Startup", d, reef_json_member(d, it.val, "startupProbe"));
        print_env(b, d, reef_json_member(d, it.val, "env"));
        print_mounts(b, d, reef_json_member(d, it.val, "volumeMounts"));
    }
}

static void print_volumes(struct reef_buf *b, const struct reef_json_doc *d, int arr)
{
    int n = arr >= 0 ? reef_json_count(d, arr) : 0;
    if (n <= 0) {
        reef_buf_puts(b, "  Volumes:\t<none>\n");
        return;
    }
    reef_buf_puts(b, "  Volumes:\n");
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        char name[256], a[1024], c[256];
        str_at(d, it.val, "name", name, sizeof(name));
        reef_buf_printf(b, "   %s:\n", name);
        int v;
        bool opt = false;
        if ((v = reef_json_member(d, it.val, "hostPath")) >= 0) {
            str_at(d, v, "path", a, sizeof(a));
            int t = reef_json_member(d, v, "type");
            str_at(d, v, "type", c, sizeof(c));
            reef_buf_printf(b,
                            "    Type:\tHostPath (bare host directory volume)\n    Path:\t%s\n"
                            "    HostPathType:\t%s\n",
                            a, t >= 0 ? c : "<none>");
        } else if ((v = reef_json_member(d, it.val, "emptyDir")) >= 0) {
            str_at(d, v, "medium", a, sizeof(a));
            str_at(d, v, "sizeLimit", c, sizeof(c));
            reef_buf_printf(b,
                            "    Type:\tEmptyDir (a temporary directory that shares a pod's "
                            "lifetime)\n    Medium:\t%s\n    SizeLimit:\t%s\n",
                            a, c[0] && strcmp(c, "0") != 0 ? c : "<unset>");
        } else if ((v = reef_json_member(d, it.val, "secret")) >= 0 ||
                   (v = reef_json_member(d, it.val, "configMap")) >= 0) {
            bool secret = reef_json_member(d, it.val, "secret") >= 0;
            str_at(d, v, secret ? "secretName" : "name", a, sizeof(a));
            int o = reef_json_member(d, v, "optional");
            if (o >= 0)
                reef_json_get_bool(d, o, &opt, NULL);
            reef_buf_printf(b,
                            "    Type:\t%s (a volume populated by a %s)\n    %s:\t%s\n"
                            "    Optional:\t%s\n",
                            secret ? "Secret" : "ConfigMap", secret ? "Secret" : "ConfigMap",
                            secret ? "SecretName" : "Name", a, opt ? "true" : "false");
        } else {
            reef_buf_puts(b, "    <unknown>\n");
        }
    }
}

struct toleration {
    char key[256], val[256], eff[64], op[32];
    int64_t seconds;
    bool has_seconds;
};

/* printPodTolerationsMultiline: sorted by key. */
static void print_tolerations(struct reef_buf *b, const struct reef_json_doc *d, int arr)
{
    int n = arr >= 0 ? reef_json_count(d, arr) : 0;
    reef_buf_puts(b, "  Tolerations:\t");
    struct toleration *t = n > 0 ? calloc((size_t)n, sizeof(*t)) : NULL;
    if (!t) {
        reef_buf_puts(b, "<none>\n");
        return;
    }
    size_t k = 0;
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it) && k < (size_t)n) {
        struct toleration x = {0};
        str_at(d, it.val, "key", x.key, sizeof(x.key));
        str_at(d, it.val, "value", x.val, sizeof(x.val));
        str_at(d, it.val, "effect", x.eff, sizeof(x.eff));
        str_at(d, it.val, "operator", x.op, sizeof(x.op));
        int ts = reef_json_member(d, it.val, "tolerationSeconds");
        x.has_seconds = ts >= 0 && !reef_json_is_null(d, ts);
        x.seconds = int_at(d, it.val, "tolerationSeconds", 0);
        /* insertion keeps equal keys in their order */
        size_t j = k++;
        for (; j > 0 && strcmp(t[j - 1].key, x.key) > 0; j--)
            t[j] = t[j - 1];
        t[j] = x;
    }
    for (size_t i = 0; i < k; i++) {
        reef_buf_printf(b, "%s%s", i ? "\t" : "", t[i].key);
        if (t[i].val[0])
            reef_buf_printf(b, "=%s", t[i].val);
        if (t[i].eff[0])
            reef_buf_printf(b, ":%s", t[i].eff);
        if (strcmp(t[i].op, "Exists") == 0 && !t[i].val[0])
            reef_buf_puts(b, t[i].key[0] || t[i].eff[0] ? " op=Exists" : "op=Exists");
        if (t[i].has_seconds)
            reef_buf_printf(b, " for %" PRId64 "s", t[i].seconds);
        reef_buf_putc(b, '\n');
    }
    free(t);
}

void reef__kube_print_pod_template(struct reef_buf *b, const struct reef_json_doc *d, int t,
                                   const char *cause)
{
    reef_buf_puts(b, "Pod Template:\n");
    int md = reef_json_member(d, t, "metadata"), spec = reef_json_member(d, t, "spec");
    print_labels(b, "  Labels", d, md >= 0 ? reef_json_member(d, md, "labels") : -1);
    int ann = md >= 0 ? reef_json_member(d, md, "annotations") : -1;
    if (cause[0]) {
        /* the annotations with the cause set: rebuilt as a document of their own */
        struct reef_buf j = REEF_BUF_INIT;
        struct reef_json_writer w;
        reef_json_writer_init(&w, &j, 0);
        reef_json_begin_object(&w);
        struct reef_json_iter it = reef_json_iter(d, ann);
        while (ann >= 0 && reef_json_next(d, &it)) {
            if (reef_json_str_eq(d, it.key, CHANGE_CAUSE_ANN))
                continue;
            reef_json_key_from(&w, d, it.key);
            reef_json_put_value(&w, d, it.val);
        }
        reef_json_key(&w, CHANGE_CAUSE_ANN);
        reef_json_put_str(&w, cause);
        reef_json_end_object(&w);
        struct reef_json_doc a = REEF_JSON_DOC_INIT;
        if (reef_json_finish(&w, NULL) == 0 && reef_json_parse(&a, j.data, j.len, NULL, NULL) == 0)
            print_annotations(b, &a, REEF_JSON_ROOT);
        reef_json_doc_free(&a);
        reef_buf_free(&j);
    } else if (ann >= 0 && reef_json_count(d, ann) > 0) {
        print_annotations(b, d, ann);
    }
    char sa[256], pc[256];
    str_at(d, spec, "serviceAccountName", sa, sizeof(sa));
    if (sa[0])
        reef_buf_printf(b, "  Service Account:\t%s\n", sa);
    int init = spec >= 0 ? reef_json_member(d, spec, "initContainers") : -1;
    if (init >= 0 && reef_json_count(d, init) > 0)
        print_containers(b, "Init Containers", d, init);
    print_containers(b, "Containers", d, spec >= 0 ? reef_json_member(d, spec, "containers") : -1);
    print_volumes(b, d, spec >= 0 ? reef_json_member(d, spec, "volumes") : -1);
    str_at(d, spec, "priorityClassName", pc, sizeof(pc));
    if (pc[0])
        reef_buf_printf(b, "  Priority Class Name:\t%s\n", pc);
    print_labels(b, "  Node-Selectors", d,
                 spec >= 0 ? reef_json_member(d, spec, "nodeSelector") : -1);
    print_tolerations(b, d, spec >= 0 ? reef_json_member(d, spec, "tolerations") : -1);
}
