/* agent_spec: from a pod's spec to what the runtime runs: a container's configuration (command,
 * environment with its references resolved, user, capabilities, limits, mounts) and the pod's
 * files (volumes, /etc/hosts, /etc/hostname, /etc/resolv.conf). */
#include "orchestrate/agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/fs.h"
#include "orchestrate/scheduler.h"
#include "runtime/caps.h"
#include "runtime/images.h"

#define jstr reef__agent_jstr

static bool jbool(const struct reef_json_doc *d, int from, const char *path, bool dflt)
{
    bool b;
    int v = reef_json_find(d, from, path, NULL);
    if (v < 0 || reef_json_get_bool(d, v, &b, NULL) < 0)
        return dflt;
    return b;
}

/* The pod's sysctls: the kubelet's safe set, namespaced (set in the pod's network or IPC
 * namespace); any other is refused as the kubelet refuses it without --allowed-unsafe-sysctls. */
static int pod_sysctls(const struct reef_json_doc *d, int psc, struct reef_ctr_config *cfg,
                       struct reef_err *err)
{
    static const char *const safe[] = {
        "kernel.shm_rmid_forced",        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",       "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",   "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",  "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",             "net.ipv4.tcp_wmem",
    };
    struct reef_json_iter it = reef_json_iter(d, reef_json_member(d, psc, "sysctls"));
    while (reef_json_next(d, &it)) {
        char name[128], value[256];
        jstr(d, it.val, "name", name, sizeof(name));
        jstr(d, it.val, "value", value, sizeof(value));
        bool ok = false;
        for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]) && !ok; i++)
            ok = strcmp(name, safe[i]) == 0;
        if (!ok)
            return reef_err_set(err, -EPERM, "forbidden sysctl: \"%s\" not allowlisted", name);
        char **nv = realloc(cfg->sysctls, (cfg->nsysctls + 2) * sizeof(*nv));
        if (!nv)
            return reef_err_set(err, -ENOMEM, "out of memory");
        cfg->sysctls = nv;
        if (asprintf(&nv[cfg->nsysctls], "%s=%s", name, value) < 0)
            return reef_err_set(err, -ENOMEM, "out of memory");
        nv[++cfg->nsysctls] = NULL;
    }
    return 0;
}

static int strv_add_gid(char ***v, size_t *n, int64_t gid, struct reef_err *err)
{
    if (gid < 0 || gid > 0xfffffffeLL)
        return reef_err_set(err, -EINVAL, "group ID %lld is out of range", (long long)gid);
    char **nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return reef_err_set(err, -ENOMEM, "out of memory");
    *v = nv;
    if (asprintf(&nv[*n], "%lld", (long long)gid) < 0)
        return reef_err_set(err, -ENOMEM, "out of memory");
    ++*n;
    return 0;
}

int reef__agent_quantity(const char *s, double *out)
{
    /* the scheduler's exact parser, in milli-units (whole units when that overflows) */
    int64_t v;
    int r = reef_sched_quantity(s, 3, &v);
    if (r == 0 && v >= 0) {
        *out = (double)v / 1000;
        return 0;
    }
    if (r == -ERANGE && reef_sched_quantity(s, 0, &v) == 0 && v >= 0) {
        *out = (double)v;
        return 0;
    }
    return -EINVAL;
}

/* ---- a growable string list ---- */

struct strv {
    char **v;
    size_t n;
};

static int strv_add(struct strv *s, const char *x, size_t len)
{
    char **g = realloc(s->v, (s->n + 2) * sizeof(char *));
    if (!g)
        return -ENOMEM;
    s->v = g;
    if (!(g[s->n] = strndup(x, len)))
        return -ENOMEM;
    g[++s->n] = NULL;
    return 0;
}

/* Sets KEY=VALUE, replacing an earlier KEY. */
static int env_set(struct strv *env, const char *key, const char *val)
{
    size_t kl = strlen(key);
    char *kv = NULL;
    if (asprintf(&kv, "%s=%s", key, val) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < env->n; i++)
        if (strncmp(env->v[i], key, kl) == 0 && env->v[i][kl] == '=') {
            free(env->v[i]);
            env->v[i] = kv;
            return 0;
        }
    int r = strv_add(env, kv, strlen(kv));
    free(kv);
    return r;
}

static const char *env_get(const struct strv *env, const char *key, size_t kl)
{
    for (size_t i = env->n; i-- > 0;)
        if (strncmp(env->v[i], key, kl) == 0 && env->v[i][kl] == '=')
            return env->v[i] + kl + 1;
    return NULL;
}

/* Kubernetes' $(VAR) expansion: references to defined variables are replaced, $$ escapes a $,
 * anything else stays as written. */
static char *expand(const char *s, const struct strv *env)
{
    struct reef_buf b = REEF_BUF_INIT;
    for (const char *p = s; *p;) {
        if (p[0] == '$' && p[1] == '$') {
            reef_buf_append(&b, "$", 1);
            p += 2;
        } else if (p[0] == '$' && p[1] == '(') {
            const char *e = strchr(p + 2, ')');
            const char *v = e ? env_get(env, p + 2, (size_t)(e - p - 2)) : NULL;
            if (v) {
                reef_buf_puts(&b, v);
                p = e + 1;
            } else {
                size_t n = e ? (size_t)(e + 1 - p) : strlen(p);
                reef_buf_append(&b, p, n);
                p += n;
            }
        } else {
            reef_buf_append(&b, p, 1);
            p++;
        }
    }
    if (!b.data)
        return strdup("");
    return b.data;
}

/* ---- references to other objects ---- */

/* The value of key in a ConfigMap's data (or a Secret's data, base64-decoded) into out.
 * -ENOENT naming what is missing. */
static int object_key(struct agent_pod *p, bool secret, const char *name, const char *key,
                      struct reef_buf *out, struct reef_err *err)
{
    char *obj = NULL;
    size_t len = 0;
    const char *what = secret ? "secret" : "configmap";
    if (reef_store_get(p->a->env.store, secret ? "secrets" : "configmaps", p->ns, name, &obj, &len,
                       NULL, NULL) < 0)
        return reef_err_set(err, -ENOENT, "%s \"%s\" not found", what, name);
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, obj, len, NULL, err);
    if (r == 0) {
        int data = reef_json_member(&d, REEF_JSON_ROOT, "data");
        int v = data >= 0 ? reef_json_member(&d, data, key) : -1;
        if (v < 0 && !secret) {
            data = reef_json_member(&d, REEF_JSON_ROOT, "binaryData");
            v = data >= 0 ? reef_json_member(&d, data, key) : -1;
            secret = v >= 0; /* binaryData is base64 too */
        }
        if (v < 0) {
            r = reef_err_set(err, -ENOENT, "couldn't find key %s in %s %s/%s", key,
                             secret ? "Secret" : "ConfigMap", p->ns, name);
        } else if (secret) {
            struct reef_buf enc = REEF_BUF_INIT;
            r = reef_json_get_strbuf(&d, v, &enc, err);
            if (r == 0)
                r = reef_crypto_b64_decode(out, enc.data ? enc.data : "", enc.len, 0, err);
            reef_buf_free(&enc);
        } else {
            r = reef_json_get_strbuf(&d, v, out, err);
        }
    }
    reef_json_doc_free(&d);
    free(obj);
    return r;
}

/* Every key of a ConfigMap or Secret: fn(ud, key, value bytes). */
int reef__agent_object_each(struct agent_pod *p, bool secret, const char *name,
                            int (*fn)(void *ud, const char *key, const struct reef_buf *val),
                            void *ud, struct reef_err *err)
{
    char *obj = NULL;
    size_t len = 0;
    if (reef_store_get(p->a->env.store, secret ? "secrets" : "configmaps", p->ns, name, &obj, &len,
                       NULL, NULL) < 0)
        return reef_err_set(err, -ENOENT, "%s \"%s\" not found", secret ? "secret" : "configmap",
                            name);
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, obj, len, NULL, err);
    for (int k = 0; r == 0 && k < 2; k++) {
        int data = reef_json_member(&d, REEF_JSON_ROOT, k == 0 ? "data" : "binaryData");
        if (data < 0 || (k == 1 && secret))
            continue;
        struct reef_json_iter it = reef_json_iter(&d, data);
        while (r == 0 && reef_json_next(&d, &it)) {
            char key[254];
            struct reef_buf val = REEF_BUF_INIT, enc = REEF_BUF_INIT;
            r = reef_json_get_str(&d, it.key, key, sizeof(key), err);
            if (r == 0 && (secret || k == 1)) {
                r = reef_json_get_strbuf(&d, it.val, &enc, err);
                if (r == 0)
                    r = reef_crypto_b64_decode(&val, enc.data ? enc.data : "", enc.len, 0, err);
            } else if (r == 0) {
                r = reef_json_get_strbuf(&d, it.val, &val, err);
            }
            if (r == 0)
                r = fn(ud, key, &val);
            reef_buf_free(&val);
            reef_buf_free(&enc);
        }
    }
    reef_json_doc_free(&d);
    free(obj);
    return r;
}

struct env_from {
    struct strv *env;
    const char *prefix;
};

static int add_env_from(void *ud, const char *key, const struct reef_buf *val)
{
    struct env_from *e = ud;
    char k[600];
    snprintf(k, sizeof(k), "%s%s", e->prefix, key);
    return env_set(e->env, k, val->data ? val->data : "");
}

int reef__agent_field_ref(struct agent_pod *p, const struct reef_json_doc *d, const char *path,
                          char *out, size_t size, struct reef_err *err)
{
    out[0] = '\0';
    if (strcmp(path, "status.podIP") == 0 || strcmp(path, "status.podIPs") == 0) {
        snprintf(out, size, "%s", p->ip);
        return 0;
    }
    if (strcmp(path, "status.hostIP") == 0 || strcmp(path, "status.hostIPs") == 0) {
        snprintf(out, size, "%s", p->a->host_ip);
        return 0;
    }
    if (strcmp(path, "spec.nodeName") == 0) {
        snprintf(out, size, "%s", p->a->node);
        return 0;
    }
    if (strcmp(path, "spec.serviceAccountName") == 0) {
        if (!jstr(d, REEF_JSON_ROOT, path, out, size))
            snprintf(out, size, "default");
        return 0;
    }
    if (strcmp(path, "metadata.name") == 0 || strcmp(path, "metadata.namespace") == 0 ||
        strcmp(path, "metadata.uid") == 0) {
        jstr(d, REEF_JSON_ROOT, path, out, size);
        return 0;
    }
    const char *maps[] = {"metadata.labels", "metadata.annotations"};
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(maps[i]);
        if (strncmp(path, maps[i], n) == 0 && path[n] == '[') {
            /* metadata.labels['app'] */
            char key[300];
            const char *k = path + n + 1;
            char q = *k == '\'' || *k == '"' ? *k++ : 0;
            size_t kl = strcspn(k, q ? (q == '\'' ? "'" : "\"") : "]");
            snprintf(key, sizeof(key), "%.*s", (int)kl, k);
            int m = reef_json_find(d, REEF_JSON_ROOT, maps[i], NULL);
            int v = m >= 0 ? reef_json_member(d, m, key) : -1;
            if (v >= 0)
                reef_json_get_str(d, v, out, size, NULL);
            return 0;
        }
    }
    return reef_err_set(err, -EINVAL, "unsupported fieldRef %s", path);
}

/* A resourceFieldRef (rf) of the container spec: limits.cpu, requests.memory, ... divided by
 * its divisor [1] and rounded up; an unset limit is the node's capacity. */
static int resource_ref(const struct reef_json_doc *d, int spec, int rf, char *out, size_t size,
                        struct reef_err *err)
{
    char res[64], path[400], q[64], div[64];
    jstr(d, rf, "resource", res, sizeof(res));
    snprintf(path, sizeof(path), "resources.%s", res);
    double v = 0, by = 1;
    if (jstr(d, spec, path, q, sizeof(q)) && reef__agent_quantity(q, &v) < 0)
        return reef_err_set(err, -EINVAL, "resourceFieldRef %s: bad quantity %s", res, q);
    if (jstr(d, rf, "divisor", div, sizeof(div)) && div[0] &&
        (reef__agent_quantity(div, &by) < 0 || by <= 0))
        return reef_err_set(err, -EINVAL, "resourceFieldRef %s: bad divisor %s", res, div);
    if (!q[0]) {
        if (strstr(res, "cpu"))
            v = (double)sysconf(_SC_NPROCESSORS_ONLN);
        else
            v = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    }
    snprintf(out, size, "%.0f", ceil(v / by - 1e-9));
    return 0;
}

int reef__agent_resource_field(const struct reef_json_doc *d, int rf, char *out, size_t size,
                               struct reef_err *err)
{
    char cname[254];
    jstr(d, rf, "containerName", cname, sizeof(cname));
    int list = reef_json_find(d, REEF_JSON_ROOT, "spec.containers", NULL);
    struct reef_json_iter it = reef_json_iter(d, list);
    while (reef_json_next(d, &it)) {
        int n = reef_json_member(d, it.val, "name");
        if (n >= 0 && reef_json_str_eq(d, n, cname))
            return resource_ref(d, it.val, rf, out, size, err);
    }
    return reef_err_set(err, -EINVAL, "resourceFieldRef: no container \"%s\"", cname);
}

static int build_env(struct agent_pod *p, const struct reef_json_doc *d, int spec,
                     struct strv *env, struct reef_err *err)
{
    int r = 0;
    int from = reef_json_member(d, spec, "envFrom");
    struct reef_json_iter it = reef_json_iter(d, from);
    while (r == 0 && reef_json_next(d, &it)) {
        char prefix[254], name[254];
        jstr(d, it.val, "prefix", prefix, sizeof(prefix));
        bool secret = reef_json_member(d, it.val, "secretRef") >= 0;
        const char *ref = secret ? "secretRef" : "configMapRef";
        char path[64];
        snprintf(path, sizeof(path), "%s.name", ref);
        jstr(d, it.val, path, name, sizeof(name));
        snprintf(path, sizeof(path), "%s.optional", ref);
        bool optional = jbool(d, it.val, path, false);
        struct env_from ef = {env, prefix};
        r = reef__agent_object_each(p, secret, name, add_env_from, &ef, err);
        if (r == -ENOENT && optional)
            r = 0;
    }
    int list = reef_json_member(d, spec, "env");
    it = reef_json_iter(d, list);
    while (r == 0 && reef_json_next(d, &it)) {
        char name[254];
        jstr(d, it.val, "name", name, sizeof(name));
        int vf = reef_json_member(d, it.val, "valueFrom");
        if (vf < 0) {
            char *val = NULL;
            int v = reef_json_member(d, it.val, "value");
            if (v >= 0 && reef_json_get_strdup(d, v, &val, NULL) == 0) {
                char *x = expand(val, env);
                r = x ? env_set(env, name, x) : -ENOMEM;
                free(x);
            } else {
                r = env_set(env, name, "");
            }
            free(val);
            continue;
        }
        char v[1024] = "", tmp[300];
        int k;
        if ((k = reef_json_member(d, vf, "fieldRef")) >= 0) {
            jstr(d, k, "fieldPath", tmp, sizeof(tmp));
            r = reef__agent_field_ref(p, d, tmp, v, sizeof(v), err);
            if (r == 0)
                r = env_set(env, name, v);
        } else if ((k = reef_json_member(d, vf, "resourceFieldRef")) >= 0) {
            r = resource_ref(d, spec, k, v, sizeof(v), err);
            if (r == 0)
                r = env_set(env, name, v);
        } else {
            bool secret = (k = reef_json_member(d, vf, "secretKeyRef")) >= 0;
            if (!secret)
                k = reef_json_member(d, vf, "configMapKeyRef");
            if (k < 0)
                return reef_err_set(err, -EINVAL, "env %s: unsupported valueFrom", name);
            char oname[254], key[254];
            jstr(d, k, "name", oname, sizeof(oname));
            jstr(d, k, "key", key, sizeof(key));
            struct reef_buf val = REEF_BUF_INIT;
            r = object_key(p, secret, oname, key, &val, err);
            if (r == 0)
                r = env_set(env, name, val.data ? val.data : "");
            else if (r == -ENOENT && jbool(d, k, "optional", false))
                r = 0;
            reef_buf_free(&val);
        }
    }
    return r;
}

/* ---- the container's configuration ---- */

static char **json_strv(const struct reef_json_doc *d, int arr, const struct strv *env, bool exp)
{
    struct strv s = {0};
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        char *x = NULL;
        if (reef_json_get_strdup(d, it.val, &x, NULL) < 0)
            continue;
        char *y = exp ? expand(x, env) : x;
        strv_add(&s, y, strlen(y));
        if (y != x)
            free(y);
        free(x);
    }
    if (!s.v)
        s.v = calloc(1, sizeof(char *));
    return s.v;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int add_volume(struct reef_ctr_config *cfg, enum reef_volume_kind kind, const char *src,
                      const char *target, bool ro)
{
    struct reef_ctr_volume *g = realloc(cfg->volumes, (cfg->nvolumes + 1) * sizeof(*g));
    if (!g)
        return -ENOMEM;
    cfg->volumes = g;
    struct reef_ctr_volume *v = &g[cfg->nvolumes++];
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    v->source = src ? strdup(src) : NULL;
    v->target = strdup(target);
    v->readonly = ro;
    return 0;
}

/* The host path behind volume name of the pod (and whether it is a memory-backed emptyDir). */
static int volume_source(struct agent_pod *p, const struct reef_json_doc *d, const char *name,
                         char *out, size_t size, bool *tmpfs, bool *ro, struct reef_err *err)
{
    int vols = reef_json_find(d, REEF_JSON_ROOT, "spec.volumes", NULL);
    struct reef_json_iter it = reef_json_iter(d, vols);
    *tmpfs = *ro = false;
    while (reef_json_next(d, &it)) {
        int n = reef_json_member(d, it.val, "name");
        if (n < 0 || !reef_json_str_eq(d, n, name))
            continue;
        int k;
        if ((k = reef_json_member(d, it.val, "hostPath")) >= 0) {
            jstr(d, k, "path", out, size);
            return 0;
        }
        if ((k = reef_json_member(d, it.val, "emptyDir")) >= 0) {
            char medium[32];
            jstr(d, k, "medium", medium, sizeof(medium));
            *tmpfs = strcmp(medium, "Memory") == 0;
        } else if (reef_json_member(d, it.val, "configMap") >= 0 ||
                   reef_json_member(d, it.val, "secret") >= 0 ||
                   reef_json_member(d, it.val, "downwardAPI") >= 0 ||
                   reef_json_member(d, it.val, "projected") >= 0) {
            *ro = true;
        } else {
            return reef_err_set(err, -EOPNOTSUPP,
                                "volume \"%s\": only emptyDir, hostPath, configMap, secret, "
                                "downwardAPI and projected volumes are supported",
                                name);
        }
        snprintf(out, size, "%s/volumes/%s", p->sb.dir, name);
        return 0;
    }
    return reef_err_set(err, -ENOENT, "volume \"%s\" is not defined in the pod", name);
}

int reef__agent_ctr_config(struct agent_pod *p, struct agent_ctr *c, const struct reef_json_doc *d,
                           int spec, const struct reef_image *img, struct reef_ctr_config *cfg,
                           struct reef_err *err)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->name, sizeof(cfg->name), "k8s_%.40s_%.40s_%.20s_%.8s_%d", c->name, p->name,
             p->ns, p->uid, c->attempt + 1);
    cfg->image = strdup(img->name[0] ? img->name : c->image_ref);
    cfg->image_id = strdup(img->id);
    cfg->layers = calloc(img->nlayers + 1, sizeof(char *));
    for (size_t i = 0; cfg->layers && i < img->nlayers; i++)
        cfg->layers[cfg->nlayers++] = strdup(img->layer_dirs[i]);

    struct reef_json_doc ic = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&ic, img->config_json, img->config_len, NULL, err);
    if (r < 0)
        return r;
    int conf = reef_json_member(&ic, REEF_JSON_ROOT, "config");
    struct strv env = {0};
    int ienv = reef_json_member(&ic, conf, "Env");
    struct reef_json_iter it = reef_json_iter(&ic, ienv);
    while (reef_json_next(&ic, &it)) {
        char kv[4096];
        if (reef_json_get_str(&ic, it.val, kv, sizeof(kv), NULL) == 0) {
            char *eq = strchr(kv, '=');
            if (eq) {
                *eq = '\0';
                env_set(&env, kv, eq + 1);
            }
        }
    }
    if (!env_get(&env, "PATH", 4))
        env_set(&env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    char host[254] = "";
    if (!jstr(d, REEF_JSON_ROOT, "spec.hostname", host, sizeof(host)) || !host[0])
        snprintf(host, sizeof(host), "%.63s", p->name);
    env_set(&env, "HOSTNAME", host);
    env_set(&env, "KUBERNETES_SERVICE_HOST", "10.43.0.1");
    env_set(&env, "KUBERNETES_SERVICE_PORT", "443");
    env_set(&env, "KUBERNETES_SERVICE_PORT_HTTPS", "443");
    env_set(&env, "KUBERNETES_PORT", "tcp://10.43.0.1:443");
    if (jbool(d, spec, "tty", false))
        env_set(&env, "TERM", "xterm");
    r = build_env(p, d, spec, &env, err);

    /* command replaces the entrypoint (and drops the image's Cmd); args replace Cmd */
    int cmd = reef_json_member(d, spec, "command");
    int args = reef_json_member(d, spec, "args");
    char **entry = cmd >= 0 ? json_strv(d, cmd, &env, true)
                            : json_strv(&ic, reef_json_member(&ic, conf, "Entrypoint"), NULL, false);
    char **rest = args >= 0 ? json_strv(d, args, &env, true)
                  : cmd >= 0 ? calloc(1, sizeof(char *))
                             : json_strv(&ic, reef_json_member(&ic, conf, "Cmd"), NULL, false);
    struct strv argv = {0};
    for (size_t i = 0; entry && entry[i]; i++)
        strv_add(&argv, entry[i], strlen(entry[i]));
    for (size_t i = 0; rest && rest[i]; i++)
        strv_add(&argv, rest[i], strlen(rest[i]));
    free_strv(entry);
    free_strv(rest);
    cfg->argv = argv.v;
    cfg->argc = argv.n;
    cfg->env = env.v;
    cfg->nenv = env.n;
    if (r == 0 && cfg->argc == 0)
        r = reef_err_set(err, -EINVAL, "no command specified");

    char wd[4096] = "", user[256] = "", stopsig[32] = "";
    if (!jstr(d, spec, "workingDir", wd, sizeof(wd)) || !wd[0])
        jstr(&ic, conf, "WorkingDir", wd, sizeof(wd));
    jstr(&ic, conf, "User", user, sizeof(user));
    jstr(&ic, conf, "StopSignal", stopsig, sizeof(stopsig));
    reef_json_doc_free(&ic);
    cfg->workdir = strdup(wd);

    /* securityContext: the container's over the pod's */
    int psc = reef_json_find(d, REEF_JSON_ROOT, "spec.securityContext", NULL);
    int csc = reef_json_member(d, spec, "securityContext");
    int64_t uid = -1, gid = -1;
    int v;
    if ((v = reef_json_member(d, csc, "runAsUser")) >= 0 ||
        (v = reef_json_member(d, psc, "runAsUser")) >= 0)
        reef_json_get_int(d, v, &uid, NULL);
    if ((v = reef_json_member(d, csc, "runAsGroup")) >= 0 ||
        (v = reef_json_member(d, psc, "runAsGroup")) >= 0)
        reef_json_get_int(d, v, &gid, NULL);
    if (uid >= 0 && gid >= 0)
        snprintf(user, sizeof(user), "%lld:%lld", (long long)uid, (long long)gid);
    else if (uid >= 0)
        snprintf(user, sizeof(user), "%lld", (long long)uid);
    else if (gid >= 0) {
        char *colon = strchr(user, ':');
        if (colon)
            *colon = '\0';
        size_t n = strlen(user);
        snprintf(user + n, sizeof(user) - n, "%s:%lld", n ? "" : "0", (long long)gid);
    }
    if (r == 0 && jbool(d, csc, "runAsNonRoot", jbool(d, psc, "runAsNonRoot", false)) &&
        (uid == 0 || (uid < 0 && (!user[0] || strcmp(user, "root") == 0 || user[0] == '0'))))
        r = reef_err_set(err, -EPERM, "container has runAsNonRoot and image will run as root");
    cfg->user = strdup(user);
    /* the pod's fsGroup and supplementalGroups join the user's own groups */
    int64_t g;
    if ((v = reef_json_member(d, psc, "fsGroup")) >= 0 && reef_json_get_int(d, v, &g, NULL) == 0)
        r = r < 0 ? r : strv_add_gid(&cfg->groups_add, &cfg->ngroups_add, g, err);
    struct reef_json_iter gi = reef_json_iter(d, reef_json_member(d, psc, "supplementalGroups"));
    while (r == 0 && reef_json_next(d, &gi))
        if (reef_json_get_int(d, gi.val, &g, NULL) == 0)
            r = strv_add_gid(&cfg->groups_add, &cfg->ngroups_add, g, err);
    if (r == 0)
        r = pod_sysctls(d, psc, cfg, err);
    cfg->hostname = strdup(host);
    cfg->tty = jbool(d, spec, "tty", false);
    cfg->interactive = jbool(d, spec, "stdin", false);
    cfg->stdin_once = jbool(d, spec, "stdinOnce", false);
    cfg->readonly = jbool(d, csc, "readOnlyRootFilesystem", false);

    bool privileged = jbool(d, csc, "privileged", false);
    const char *add[64], *drop[64];
    int nadd = 0, ndrop = 0;
    char names[128][64];
    int nn = 0;
    for (int k = 0; k < 2; k++) {
        int list = reef_json_find(d, csc, k ? "capabilities.drop" : "capabilities.add", NULL);
        it = reef_json_iter(d, list);
        while (reef_json_next(d, &it) && nn < 128 && (k ? ndrop : nadd) < 64) {
            if (reef_json_get_str(d, it.val, names[nn], sizeof(names[0]), NULL) < 0)
                continue;
            if (k)
                drop[ndrop++] = names[nn++];
            else
                add[nadd++] = names[nn++];
        }
    }
    if (r == 0)
        r = reef_caps_adjust(reef_caps_default(), add, nadd, drop, ndrop, &cfg->caps, err);
    char sp[32] = "";
    if (!jstr(d, csc, "seccompProfile.type", sp, sizeof(sp)))
        jstr(d, psc, "seccompProfile.type", sp, sizeof(sp));
    if (r == 0 && strcmp(sp, "Localhost") == 0)
        r = reef_err_set(err, -EOPNOTSUPP, "seccompProfile type Localhost is not supported");
    cfg->seccomp = strcmp(sp, "RuntimeDefault") == 0;
    cfg->seccomp_profile = strdup("");
    cfg->no_new_privs = !jbool(d, csc, "allowPrivilegeEscalation", true);
    if (privileged) {
        cfg->caps = reef_caps_all();
        cfg->seccomp = false;
        cfg->no_new_privs = false;
    }

    char q[64];
    double x;
    if (jstr(d, spec, "resources.limits.memory", q, sizeof(q))) {
        if (reef__agent_quantity(q, &x) < 0 && r == 0)
            r = reef_err_set(err, -EINVAL, "resources.limits.memory: bad quantity \"%s\"", q);
        cfg->memory = (int64_t)x;
    }
    if (jstr(d, spec, "resources.limits.cpu", q, sizeof(q))) {
        if (reef__agent_quantity(q, &x) < 0 && r == 0)
            r = reef_err_set(err, -EINVAL, "resources.limits.cpu: bad quantity \"%s\"", q);
        cfg->cpus = x;
    }

    /* mounts: the pod's /etc files, then the volumes */
    const char *etc[] = {"hosts", "hostname", "resolv.conf"};
    for (size_t i = 0; i < 3; i++) {
        char src[4400], dst[64];
        snprintf(src, sizeof(src), "%s/etc/%s", p->sb.dir, etc[i]);
        snprintf(dst, sizeof(dst), "/etc/%s", etc[i]);
        add_volume(cfg, REEF_VOLUME_BIND, src, dst, false);
    }
    int mounts = reef_json_member(d, spec, "volumeMounts");
    it = reef_json_iter(d, mounts);
    while (r == 0 && reef_json_next(d, &it)) {
        char name[254], path[4096], sub[1024], src[4400];
        bool tmpfs, ro;
        jstr(d, it.val, "name", name, sizeof(name));
        jstr(d, it.val, "mountPath", path, sizeof(path));
        jstr(d, it.val, "subPath", sub, sizeof(sub));
        r = volume_source(p, d, name, src, sizeof(src), &tmpfs, &ro, err);
        if (r < 0)
            break;
        if (sub[0]) {
            if (strstr(sub, "..") || sub[0] == '/') {
                r = reef_err_set(err, -EINVAL, "volumeMount %s: invalid subPath \"%s\"", name, sub);
                break;
            }
            size_t n = strlen(src);
            snprintf(src + n, sizeof(src) - n, "/%s", sub);
            if (!tmpfs)
                reef_fs_mkdir_p(src, 0755);
        }
        ro |= jbool(d, it.val, "readOnly", false);
        r = add_volume(cfg, tmpfs && !sub[0] ? REEF_VOLUME_TMPFS : REEF_VOLUME_BIND,
                       tmpfs && !sub[0] ? NULL : src, path, ro);
    }

    if (p->sb.netns[0])
        cfg->netns = strdup(p->sb.netns);
    else
        cfg->host_network = true;
    /* hostIPC and hostPID: the namespaces the shim runs in, which are the node's */
    cfg->host_ipc = jbool(d, REEF_JSON_ROOT, "spec.hostIPC", false);
    cfg->ipcns = cfg->host_ipc ? NULL : strdup(p->sb.ipcns);
    cfg->host_pid = jbool(d, REEF_JSON_ROOT, "spec.hostPID", false);
    if (r == 0 && jbool(d, REEF_JSON_ROOT, "spec.shareProcessNamespace", false))
        r = reef_err_set(err, -EOPNOTSUPP,
                         "shareProcessNamespace: reef gives each container a PID namespace of "
                         "its own");
    cfg->utsns = p->sb.utsns[0] ? strdup(p->sb.utsns) : NULL;
    cfg->no_etc_files = true;
    char lbl[5][400];
    snprintf(lbl[0], sizeof(lbl[0]), "reef.pod.uid=%s", p->uid);
    snprintf(lbl[1], sizeof(lbl[1]), "reef.pod.namespace=%s", p->ns);
    snprintf(lbl[2], sizeof(lbl[2]), "reef.pod.name=%s", p->name);
    snprintf(lbl[3], sizeof(lbl[3]), "reef.container.name=%s", c->name);
    snprintf(lbl[4], sizeof(lbl[4]), "reef.container.attempt=%d", c->attempt + 1);
    cfg->labels = calloc(6, sizeof(char *));
    for (size_t i = 0; cfg->labels && i < 5; i++)
        cfg->labels[cfg->nlabels++] = strdup(lbl[i]);
    cfg->restart = REEF_RESTART_NO;
    cfg->stop_signal = SIGTERM;
    if (stopsig[0]) {
        static const struct {
            const char *name;
            int sig;
        } sigs[] = {{"SIGTERM", SIGTERM}, {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT},
                    {"SIGHUP", SIGHUP},   {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2},
                    {"SIGKILL", SIGKILL}, {"SIGWINCH", SIGWINCH}};
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
            if (strcmp(stopsig, sigs[i].name) == 0 || strcmp(stopsig, sigs[i].name + 3) == 0)
                cfg->stop_signal = sigs[i].sig;
    }
    cfg->stop_timeout = 30;
    cfg->cgroup_parent = strdup("");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cfg->created = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return r;
}

/* ---- the pod's files ---- */

static int write_file(const char *path, const void *data, size_t len, mode_t mode,
                      struct reef_err *err)
{
    return reef_fs_write_atomic(path, data, len, mode, false, err);
}

/* The kubelet's checks of a hostPath volume's type (and what the OrCreate types create). No type
 * checks nothing; a missing path is then created as a directory, as Docker and containerd do. */
static int host_path_check(const char *hp, const char *type, struct reef_err *err)
{
    struct stat st;
    bool there = stat(hp, &st) == 0;
    if (!type[0]) {
        if (!there)
            reef_fs_mkdir_p(hp, 0755);
        return 0;
    }
    if (strcmp(type, "DirectoryOrCreate") == 0) {
        if (!there && reef_fs_mkdir_p(hp, 0755) < 0)
            return reef_err_errno(err, -errno, "hostPath: create directory %s", hp);
        return 0;
    }
    if (strcmp(type, "FileOrCreate") == 0 && !there) {
        int fd = open(hp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return reef_err_errno(err, -errno, "hostPath: create file %s", hp);
        close(fd);
        return 0;
    }
    static const struct {
        const char *type, *what;
        mode_t fmt;
    } kinds[] = {{"Directory", "a directory", S_IFDIR},
                 {"File", "a file", S_IFREG},
                 {"FileOrCreate", "a file", S_IFREG},
                 {"Socket", "a socket file", S_IFSOCK},
                 {"CharDevice", "a character device", S_IFCHR},
                 {"BlockDevice", "a block device", S_IFBLK}};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(type, kinds[i].type) == 0) {
            if (!there || (st.st_mode & S_IFMT) != kinds[i].fmt)
                return reef_err_set(err, -ENOENT, "hostPath type check failed: %s is not %s", hp,
                                    kinds[i].what);
            return 0;
        }
    return reef_err_set(err, -EINVAL, "hostPath: unknown type %s", type);
}

int reef__agent_pod_files(struct agent_pod *p, const struct reef_json_doc *d, struct reef_err *err)
{
    char dir[4400];
    snprintf(dir, sizeof(dir), "%s/etc", p->sb.dir);
    reef_fs_mkdir_p(dir, 0755);
    char host[254] = "", path[4500];
    if (!jstr(d, REEF_JSON_ROOT, "spec.hostname", host, sizeof(host)) || !host[0])
        snprintf(host, sizeof(host), "%.63s", p->name);
    struct reef_buf b = REEF_BUF_INIT;
    reef_buf_printf(&b,
                    "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost "
                    "ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\n"
                    "fe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n%s\t%s\n",
                    p->ip[0] ? p->ip : "127.0.1.1", host);
    /* spec.hostAliases, as the kubelet appends them */
    int ha = reef_json_find(d, REEF_JSON_ROOT, "spec.hostAliases", NULL);
    struct reef_json_iter hi = reef_json_iter(d, ha);
    bool first = true;
    while (reef_json_next(d, &hi)) {
        char ip[64];
        if (!jstr(d, hi.val, "ip", ip, sizeof(ip)) || !ip[0])
            continue;
        if (first)
            reef_buf_puts(&b, "\n# Entries added by HostAliases.\n");
        first = false;
        reef_buf_puts(&b, ip);
        struct reef_json_iter ni = reef_json_iter(d, reef_json_member(d, hi.val, "hostnames"));
        while (reef_json_next(d, &ni)) {
            char name[254];
            if (reef_json_get_str(d, ni.val, name, sizeof(name), NULL) == 0)
                reef_buf_printf(&b, "\t%s", name);
        }
        reef_buf_putc(&b, '\n');
    }
    snprintf(path, sizeof(path), "%s/hosts", dir);
    int r = write_file(path, b.data, b.len, 0644, err);
    b.len = 0;
    reef_buf_printf(&b, "%s\n", host);
    snprintf(path, sizeof(path), "%s/hostname", dir);
    if (r == 0)
        r = write_file(path, b.data, b.len, 0644, err);
    reef_buf_free(&b);
    /* cluster DNS comes with the service network; until then the node's resolvers */
    char *resolv = NULL;
    size_t rlen = 0;
    if (reef_fs_read_string("/etc/resolv.conf", 65536, &resolv, &rlen, NULL) < 0) {
        resolv = strdup("");
        rlen = 0;
    }
    snprintf(path, sizeof(path), "%s/resolv.conf", dir);
    if (r == 0)
        r = write_file(path, resolv ? resolv : "", rlen, 0644, err);
    free(resolv);

    int vols = reef_json_find(d, REEF_JSON_ROOT, "spec.volumes", NULL);
    struct reef_json_iter it = reef_json_iter(d, vols);
    while (r == 0 && reef_json_next(d, &it)) {
        char name[254], vdir[4500];
        jstr(d, it.val, "name", name, sizeof(name));
        snprintf(vdir, sizeof(vdir), "%s/volumes/%s", p->sb.dir, name);
        int k;
        if ((k = reef_json_member(d, it.val, "hostPath")) >= 0) {
            char hp[4096], type[64];
            jstr(d, k, "path", hp, sizeof(hp));
            jstr(d, k, "type", type, sizeof(type));
            r = host_path_check(hp, type, err);
            continue;
        }
        if (reef_json_member(d, it.val, "emptyDir") >= 0) {
            reef_fs_mkdir_p(vdir, 0777);
            /* with an fsGroup, as the kubelet: the group owns it and what is made in it */
            int64_t fsgid = -1;
            int fg = reef_json_find(d, REEF_JSON_ROOT, "spec.securityContext.fsGroup", NULL);
            if (fg >= 0 && reef_json_get_int(d, fg, &fsgid, NULL) == 0 && fsgid >= 0 &&
                chown(vdir, (uid_t)-1, (gid_t)fsgid) < 0)
                r = reef_err_errno(err, -errno, "volume %s: give it to group %lld", name,
                                   (long long)fsgid);
            chmod(vdir, fsgid >= 0 ? 02777 : 0777);
        }
        /* unsupported kinds fail when a container mounts them */
    }
    return r == 0 ? reef__agent_pod_volumes(p, d, err) : r;
}
