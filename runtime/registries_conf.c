/* registries_conf: k3s-shaped registries.yaml (see registries_conf.h). */
#include "runtime/registries_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cleanup.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/yaml.h"

#define CONF_MAX_BYTES (1u << 20)

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void reef_registries_conf_free(struct reef_registries_conf *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nmirrors; i++) {
        struct reef_registry_mirror *m = &c->mirrors[i];
        free(m->name);
        free_strv(m->endpoints, m->nendpoints);
        for (size_t j = 0; j < m->nrewrites; j++) {
            free(m->rewrites[j].pattern);
            free(m->rewrites[j].replacement);
        }
        free(m->rewrites);
    }
    free(c->mirrors);
    for (size_t i = 0; i < c->nconfigs; i++) {
        struct reef_registry_config *g = &c->configs[i];
        free(g->host);
        free(g->username);
        free(g->password);
        free(g->identity_token);
        free(g->ca_file);
        free(g->cert_file);
        free(g->key_file);
    }
    free(c->configs);
    free(c);
}

/* Copies string member key of obj into *out; absent is fine. */
static int opt_str(const struct reef_json_doc *d, int obj, const char *key, const char *where,
                   char **out, struct reef_err *err)
{
    int v = reef_json_member(d, obj, key);
    if (v == -ENOENT || (v >= 0 && reef_json_is_null(d, v)))
        return 0;
    if (v < 0 || reef_json_kind(d, v) != REEF_JSON_STRING)
        return reef_err_set(err, -EINVAL, "registries.yaml: %s.%s: expected a string", where, key);
    free(*out);
    *out = NULL;
    int r = reef_json_get_strdup(d, v, out, err);
    if (r < 0)
        return reef_err_wrap(err, "registries.yaml: %s.%s", where, key);
    return 0;
}

static int parse_mirror(const struct reef_json_doc *d, int key, int val,
                        struct reef_registry_mirror *m, struct reef_err *err)
{
    int r = reef_json_get_strdup(d, key, &m->name, err);
    if (r < 0)
        return r;
    if (reef_json_kind(d, val) == REEF_JSON_NULL)
        return 0;
    if (reef_json_kind(d, val) != REEF_JSON_OBJECT)
        return reef_err_set(err, -EINVAL, "registries.yaml: mirrors.%s: expected a mapping",
                            m->name);
    int ep = reef_json_member(d, val, "endpoint");
    if (ep >= 0 && !reef_json_is_null(d, ep)) {
        if (reef_json_kind(d, ep) != REEF_JSON_ARRAY)
            return reef_err_set(err, -EINVAL,
                                "registries.yaml: mirrors.%s.endpoint: expected a list", m->name);
        int n = reef_json_count(d, ep);
        if (n > REEF_REGISTRY_MAX_ENDPOINTS - 2)
            return reef_err_set(err, -E2BIG, "registries.yaml: mirrors.%s: too many endpoints",
                                m->name);
        m->endpoints = calloc((size_t)n + 1, sizeof(char *));
        if (!m->endpoints)
            return -ENOMEM;
        struct reef_json_iter it = reef_json_iter(d, ep);
        while (reef_json_next(d, &it)) {
            if (reef_json_kind(d, it.val) != REEF_JSON_STRING)
                return reef_err_set(err, -EINVAL,
                                    "registries.yaml: mirrors.%s.endpoint[%d]: expected a string",
                                    m->name, it.index);
            r = reef_json_get_strdup(d, it.val, &m->endpoints[m->nendpoints], err);
            if (r < 0)
                return r;
            const char *e = m->endpoints[m->nendpoints++];
            if (!reef_str_has_prefix(e, "http://") && !reef_str_has_prefix(e, "https://") &&
                strchr(e, '/'))
                return reef_err_set(err, -EINVAL,
                                    "registries.yaml: mirrors.%s: endpoint \"%s\": unknown scheme",
                                    m->name, e);
        }
    }
    int rw = reef_json_member(d, val, "rewrite");
    if (rw >= 0 && !reef_json_is_null(d, rw)) {
        if (reef_json_kind(d, rw) != REEF_JSON_OBJECT)
            return reef_err_set(err, -EINVAL,
                                "registries.yaml: mirrors.%s.rewrite: expected a mapping", m->name);
        int n = reef_json_count(d, rw);
        m->rewrites = calloc((size_t)n + 1, sizeof(*m->rewrites));
        if (!m->rewrites)
            return -ENOMEM;
        struct reef_json_iter it = reef_json_iter(d, rw);
        while (reef_json_next(d, &it)) {
            struct reef_registry_rewrite *w = &m->rewrites[m->nrewrites++];
            if (reef_json_kind(d, it.val) != REEF_JSON_STRING)
                return reef_err_set(
                    err, -EINVAL, "registries.yaml: mirrors.%s.rewrite: expected strings", m->name);
            if ((r = reef_json_get_strdup(d, it.key, &w->pattern, err)) < 0 ||
                (r = reef_json_get_strdup(d, it.val, &w->replacement, err)) < 0)
                return r;
            regex_t re;
            if (regcomp(&re, w->pattern, REG_EXTENDED) != 0)
                return reef_err_set(err, -EINVAL,
                                    "registries.yaml: mirrors.%s.rewrite: bad pattern \"%s\"",
                                    m->name, w->pattern);
            regfree(&re);
        }
    }
    return 0;
}

static int parse_config(const struct reef_json_doc *d, int key, int val,
                        struct reef_registry_config *g, struct reef_err *err)
{
    int r = reef_json_get_strdup(d, key, &g->host, err);
    if (r < 0)
        return r;
    if (reef_json_kind(d, val) == REEF_JSON_NULL)
        return 0;
    if (reef_json_kind(d, val) != REEF_JSON_OBJECT)
        return reef_err_set(err, -EINVAL, "registries.yaml: configs.%s: expected a mapping",
                            g->host);
    char where[320];
    int a = reef_json_member(d, val, "auth");
    if (a >= 0 && !reef_json_is_null(d, a)) {
        snprintf(where, sizeof(where), "configs.%s.auth", g->host);
        if (reef_json_kind(d, a) != REEF_JSON_OBJECT)
            return reef_err_set(err, -EINVAL, "registries.yaml: %s: expected a mapping", where);
        if ((r = opt_str(d, a, "username", where, &g->username, err)) < 0 ||
            (r = opt_str(d, a, "password", where, &g->password, err)) < 0 ||
            (r = opt_str(d, a, "identitytoken", where, &g->identity_token, err)) < 0)
            return r;
        _cleanup_free_ char *b64 = NULL;
        if ((r = opt_str(d, a, "auth", where, &b64, err)) < 0)
            return r;
        if (b64) {
            struct reef_buf dec = REEF_BUF_INIT;
            r = reef_crypto_b64_decode(&dec, b64, strlen(b64), REEF_B64_STD, err);
            char *colon = r == 0 && dec.data ? memchr(dec.data, ':', dec.len) : NULL;
            if (!colon) {
                reef_buf_free(&dec);
                return reef_err_set(err, -EINVAL,
                                    "registries.yaml: %s.auth: not base64 of \"user:password\"",
                                    where);
            }
            free(g->username);
            free(g->password);
            g->username = reef_strndup(dec.data, (size_t)(colon - dec.data));
            g->password = reef_strndup(colon + 1, dec.len - (size_t)(colon + 1 - dec.data));
            reef_buf_free(&dec);
            if (!g->username || !g->password)
                return -ENOMEM;
        }
    }
    int t = reef_json_member(d, val, "tls");
    if (t >= 0 && !reef_json_is_null(d, t)) {
        snprintf(where, sizeof(where), "configs.%s.tls", g->host);
        if (reef_json_kind(d, t) != REEF_JSON_OBJECT)
            return reef_err_set(err, -EINVAL, "registries.yaml: %s: expected a mapping", where);
        if ((r = opt_str(d, t, "ca_file", where, &g->ca_file, err)) < 0 ||
            (r = opt_str(d, t, "cert_file", where, &g->cert_file, err)) < 0 ||
            (r = opt_str(d, t, "key_file", where, &g->key_file, err)) < 0)
            return r;
        int s = reef_json_member(d, t, "insecure_skip_verify");
        if (s >= 0 && !reef_json_is_null(d, s) &&
            reef_json_get_bool(d, s, &g->insecure_skip_verify, err) < 0)
            return reef_err_wrap(err, "registries.yaml: %s.insecure_skip_verify", where);
        if (!g->cert_file != !g->key_file)
            return reef_err_set(err, -EINVAL,
                                "registries.yaml: %s: cert_file and key_file go together", where);
    }
    return 0;
}

int reef_registries_conf_parse(const char *yaml, size_t len, struct reef_registries_conf **out,
                               struct reef_err *err)
{
    *out = NULL;
    struct reef_buf js = REEF_BUF_INIT;
    int r = reef_yaml_to_json_array(yaml, len, &js, err);
    if (r < 0) {
        reef_buf_free(&js);
        return reef_err_wrap(err, "registries.yaml");
    }
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_registries_conf *c = calloc(1, sizeof(*c));
    if (!c) {
        r = -ENOMEM;
        goto out;
    }
    if ((r = reef_json_parse(&d, js.data, js.len, NULL, err)) < 0)
        goto out;
    int n = reef_json_count(&d, REEF_JSON_ROOT);
    if (n == 0)
        goto out;
    if (n > 1) {
        r = reef_err_set(err, -EINVAL, "registries.yaml: more than one document");
        goto out;
    }
    int root = reef_json_index(&d, REEF_JSON_ROOT, 0);
    if (reef_json_kind(&d, root) != REEF_JSON_OBJECT) {
        r = reef_err_set(err, -EINVAL, "registries.yaml: expected a mapping at the top");
        goto out;
    }
    int m = reef_json_member(&d, root, "mirrors");
    if (m >= 0 && !reef_json_is_null(&d, m)) {
        if (reef_json_kind(&d, m) != REEF_JSON_OBJECT) {
            r = reef_err_set(err, -EINVAL, "registries.yaml: mirrors: expected a mapping");
            goto out;
        }
        c->mirrors = calloc((size_t)reef_json_count(&d, m) + 1, sizeof(*c->mirrors));
        if (!c->mirrors) {
            r = -ENOMEM;
            goto out;
        }
        struct reef_json_iter it = reef_json_iter(&d, m);
        while (reef_json_next(&d, &it))
            if ((r = parse_mirror(&d, it.key, it.val, &c->mirrors[c->nmirrors++], err)) < 0)
                goto out;
    }
    int g = reef_json_member(&d, root, "configs");
    if (g >= 0 && !reef_json_is_null(&d, g)) {
        if (reef_json_kind(&d, g) != REEF_JSON_OBJECT) {
            r = reef_err_set(err, -EINVAL, "registries.yaml: configs: expected a mapping");
            goto out;
        }
        c->configs = calloc((size_t)reef_json_count(&d, g) + 1, sizeof(*c->configs));
        if (!c->configs) {
            r = -ENOMEM;
            goto out;
        }
        struct reef_json_iter it = reef_json_iter(&d, g);
        while (reef_json_next(&d, &it))
            if ((r = parse_config(&d, it.key, it.val, &c->configs[c->nconfigs++], err)) < 0)
                goto out;
    }
out:
    reef_json_doc_free(&d);
    reef_buf_free(&js);
    if (r < 0) {
        if (r == -ENOMEM)
            reef_err_set(err, r, "registries.yaml: out of memory");
        reef_registries_conf_free(c);
        return r;
    }
    *out = c;
    return 0;
}

int reef_registries_conf_load(const char *path, struct reef_registries_conf **out,
                              struct reef_err *err)
{
    if (!path)
        path = REEF_REGISTRIES_YAML;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return reef_registries_conf_parse("", 0, out, err);
        return reef_err_errno(err, -errno, "open %s", path);
    }
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[8192];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = -errno;
            reef_buf_free(&b);
            return reef_err_errno(err, e, "read %s", path);
        }
        if (b.len + (size_t)n > CONF_MAX_BYTES) {
            reef_buf_free(&b);
            return reef_err_set(err, -E2BIG, "%s: larger than 1 MiB", path);
        }
        if (reef_buf_append(&b, chunk, (size_t)n) < 0) {
            reef_buf_free(&b);
            return reef_err_set(err, -ENOMEM, "read %s: out of memory", path);
        }
    }
    int r = reef_registries_conf_parse(b.data ? b.data : "", b.len, out, err);
    reef_buf_free(&b);
    if (r < 0)
        reef_err_wrap(err, "%s", path);
    return r;
}

const struct reef_registry_config *reef_registries_conf_find(const struct reef_registries_conf *c,
                                                             const char *host)
{
    if (!c)
        return NULL;
    for (size_t i = 0; i < c->nconfigs; i++)
        if (strcmp(c->configs[i].host, host) == 0)
            return &c->configs[i];
    return NULL;
}

int reef_registries_conf_set_auth(struct reef_registries_conf *c, const char *host,
                                  const char *username, const char *password,
                                  struct reef_err *err)
{
    struct reef_registry_config *g = (struct reef_registry_config *)reef_registries_conf_find(c, host);
    if (!g) {
        struct reef_registry_config *n = realloc(c->configs, (c->nconfigs + 1) * sizeof(*n));
        if (!n)
            return reef_err_set(err, -ENOMEM, "out of memory");
        c->configs = n;
        g = &n[c->nconfigs];
        memset(g, 0, sizeof(*g));
        if (!(g->host = strdup(host)))
            return reef_err_set(err, -ENOMEM, "out of memory");
        c->nconfigs++;
    }
    char *u = strdup(username ? username : ""), *p = strdup(password ? password : "");
    if (!u || !p) {
        free(u);
        free(p);
        return reef_err_set(err, -ENOMEM, "out of memory");
    }
    free(g->username);
    free(g->password);
    g->username = u;
    g->password = p;
    return 0;
}

static bool is_loopback(const char *host)
{
    return reef_str_has_prefix(host, "127.") || reef_str_has_prefix(host, "localhost") ||
           reef_str_has_prefix(host, "[::1]");
}

/* Applies the first matching rewrite to path; 0 or a negative code. */
static int apply_rewrites(const struct reef_registry_mirror *m, char *path, size_t size,
                          struct reef_err *err)
{
    for (size_t i = 0; i < m->nrewrites; i++) {
        regex_t re;
        regmatch_t g[10];
        if (regcomp(&re, m->rewrites[i].pattern, REG_EXTENDED) != 0)
            return reef_err_set(err, -EINVAL, "rewrite \"%s\": bad pattern",
                                m->rewrites[i].pattern);
        int hit = regexec(&re, path, 10, g, 0) == 0;
        regfree(&re);
        if (!hit)
            continue;
        struct reef_buf o = REEF_BUF_INIT;
        reef_buf_append(&o, path, (size_t)g[0].rm_so);
        for (const char *p = m->rewrites[i].replacement; *p; p++) {
            if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
                int k = p[1] - '0';
                if (g[k].rm_so >= 0)
                    reef_buf_append(&o, path + g[k].rm_so, (size_t)(g[k].rm_eo - g[k].rm_so));
                p++;
            } else {
                reef_buf_putc(&o, *p);
            }
        }
        reef_buf_puts(&o, path + g[0].rm_eo);
        int r = 0;
        if (!o.data || o.len == 0 || o.len >= size || o.data[0] == '/')
            r = reef_err_set(err, -EINVAL, "rewrite \"%s\" of \"%s\": invalid result",
                             m->rewrites[i].pattern, path);
        else
            memcpy(path, o.data, o.len + 1);
        reef_buf_free(&o);
        return r;
    }
    return 0;
}

static int add_endpoint(const struct reef_registries_conf *c, const char *url, const char *path,
                        bool mirror, bool default_https, struct reef_registry_endpoint *out,
                        size_t *n, size_t max)
{
    if (*n >= max)
        return 0;
    struct reef_registry_endpoint *e = &out[*n];
    memset(e, 0, sizeof(*e));
    const char *hostpart = url;
    if (reef_str_has_prefix(url, "http://")) {
        e->plain_http = true;
        hostpart = url + 7;
    } else if (reef_str_has_prefix(url, "https://")) {
        hostpart = url + 8;
    } else {
        e->plain_http = !default_https;
    }
    size_t hl = strcspn(hostpart, "/");
    if (hl == 0 || hl >= sizeof(e->host))
        return -EINVAL;
    memcpy(e->host, hostpart, hl);
    /* An endpoint may carry a path prefix (k3s allows "https://mirror/v2/prefix"); keep it. */
    const char *rest = hostpart + hl;
    size_t rl = strlen(rest);
    while (rl > 0 && rest[rl - 1] == '/')
        rl--;
    if (rl >= 3 && strncmp(rest + rl - 3, "/v2", 3) == 0)
        rl -= 3;
    int w = snprintf(e->base, sizeof(e->base), "%s://%s%.*s", e->plain_http ? "http" : "https",
                     e->host, (int)rl, rest);
    if (w < 0 || (size_t)w >= sizeof(e->base))
        return -ENAMETOOLONG;
    reef_strlcpy(e->path, path, sizeof(e->path));
    e->is_mirror = mirror;
    e->cfg = reef_registries_conf_find(c, e->host);
    (*n)++;
    return 0;
}

int reef_registries_conf_endpoints(const struct reef_registries_conf *c,
                                   const struct reef_image_ref *ref,
                                   struct reef_registry_endpoint *out, size_t max,
                                   struct reef_err *err)
{
    size_t n = 0;
    const struct reef_registry_mirror *m = NULL;
    for (size_t i = 0; c && i < c->nmirrors; i++)
        if (strcmp(c->mirrors[i].name, ref->domain) == 0)
            m = &c->mirrors[i];
    for (size_t i = 0; c && !m && i < c->nmirrors; i++)
        if (strcmp(c->mirrors[i].name, "*") == 0)
            m = &c->mirrors[i];
    if (m) {
        char path[REEF_IMAGE_NAME_MAX + 1];
        reef_strlcpy(path, ref->path, sizeof(path));
        int r = apply_rewrites(m, path, sizeof(path), err);
        if (r < 0)
            return reef_err_wrap(err, "mirror %s", m->name);
        for (size_t i = 0; i < m->nendpoints; i++)
            if (add_endpoint(c, m->endpoints[i], path, true, true, out, &n, max) < 0)
                return reef_err_set(err, -EINVAL, "mirror %s: bad endpoint \"%s\"", m->name,
                                    m->endpoints[i]);
    }
    const char *host = reef_image_ref_endpoint(ref);
    size_t before = n;
    if (add_endpoint(c, host, ref->path, false, true, out, &n, max) < 0)
        return reef_err_set(err, -EINVAL, "bad registry host \"%s\"", host);
    /* Loopback registries usually speak plain HTTP; try it after HTTPS unless configured. */
    if (n > before && is_loopback(host) &&
        !(out[before].cfg && (out[before].cfg->ca_file || out[before].cfg->cert_file)))
        if (add_endpoint(c, host, ref->path, false, false, out, &n, max) == 0 && n > before + 1)
            out[n - 1].fallback = true;
    return (int)n;
}
