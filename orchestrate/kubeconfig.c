/* kubeconfig: writing the admin kubeconfig and reading one for reef's client (docs/PKI.md). */
#include "orchestrate/kubeconfig.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "core/fs.h"
#include "core/cert.h"
#include "core/cleanup.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/yaml.h"

/* ---- writing --------------------------------------------------------------------------------- */

/* Whether s can be written as a plain YAML scalar that reads back as the same string: it starts
 * with a letter, holds only URL and base64 characters, does not end with ':', and is none of the
 * words YAML 1.1 reads as a boolean or null. Anything else is written double-quoted (JSON escaping
 * is valid YAML). */
static bool plain_ok(const char *s)
{
    static const char *const words[] = {"y",     "yes", "n",   "no",  "true",
                                        "false", "on",  "off", "null"};
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@+=-", *p))
            return false;
    if (s[strlen(s) - 1] == ':') /* "key: value:" would read as a nested mapping */
        return false;
    for (size_t i = 0; i < REEF_ARRAY_LEN(words); i++)
        if (strcasecmp(s, words[i]) == 0)
            return false;
    return true;
}

static int put_scalar(struct reef_buf *b, const char *s)
{
    if (plain_ok(s))
        return reef_buf_puts(b, s);
    return reef_buf_json_str(b, s, strlen(s));
}

/* "key: value\n" with the value plain or quoted. */
static int put_kv(struct reef_buf *b, const char *indent, const char *key, const char *val)
{
    if (reef_buf_printf(b, "%s%s: ", indent, key) < 0 || put_scalar(b, val) < 0)
        return -ENOMEM;
    return reef_buf_putc(b, '\n');
}

static int put_b64(struct reef_buf *b, const char *indent, const char *key, const char *pem)
{
    if (reef_buf_printf(b, "%s%s: ", indent, key) < 0 ||
        reef_crypto_b64_encode(b, pem, strlen(pem), REEF_B64_STD) < 0)
        return -ENOMEM;
    return reef_buf_putc(b, '\n');
}

int reef_kubeconfig_render(const struct reef_kubeconfig_write_opts *o, struct reef_buf *out,
                           struct reef_err *err)
{
    const char *server = o->server ? o->server : REEF_KUBECONFIG_SERVER;
    const char *name = o->name ? o->name : "default";
    if (!o->ca_pem || !o->ca_pem[0])
        return reef_err_set(err, -EINVAL, "kubeconfig: no CA certificate");
    if (!server[0] || !name[0])
        return reef_err_set(err, -EINVAL, "kubeconfig: empty server or name");
    if (!o->cert_pem != !o->key_pem)
        return reef_err_set(err, -EINVAL, "kubeconfig: a client certificate needs its key");
    if (!o->cert_pem && !o->token)
        return reef_err_set(err, -EINVAL, "kubeconfig: no client certificate and no token");
    size_t start = out->len;
    int r = reef_buf_puts(out, "apiVersion: v1\nclusters:\n- cluster:\n");
    r = r < 0 ? r : put_b64(out, "    ", "certificate-authority-data", o->ca_pem);
    r = r < 0 ? r : put_kv(out, "    ", "server", server);
    r = r < 0 ? r : put_kv(out, "  ", "name", name);
    r = r < 0 ? r : reef_buf_puts(out, "contexts:\n- context:\n");
    r = r < 0 ? r : put_kv(out, "    ", "cluster", name);
    r = r < 0 ? r : put_kv(out, "    ", "user", name);
    r = r < 0 ? r : put_kv(out, "  ", "name", name);
    r = r < 0 ? r : put_kv(out, "", "current-context", name);
    r = r < 0 ? r : reef_buf_puts(out, "kind: Config\npreferences: {}\nusers:\n");
    r = r < 0 ? r : put_kv(out, "- ", "name", name);
    r = r < 0 ? r : reef_buf_puts(out, "  user:\n");
    if (o->cert_pem) {
        r = r < 0 ? r : put_b64(out, "    ", "client-certificate-data", o->cert_pem);
        r = r < 0 ? r : put_b64(out, "    ", "client-key-data", o->key_pem);
    }
    if (o->token)
        r = r < 0 ? r : put_kv(out, "    ", "token", o->token);
    if (r < 0) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return reef_err_set(err, -ENOMEM, "kubeconfig: out of memory");
    }
    return 0;
}

static int mkparents(const char *path, struct reef_err *err)
{
    _cleanup_free_ char *p = strdup(path);
    if (!p)
        return reef_err_set(err, -ENOMEM, "kubeconfig: out of memory");
    char *last = strrchr(p, '/');
    if (!last || last == p)
        return 0;
    *last = '\0';
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            return reef_err_errno(err, -errno, "kubeconfig: mkdir %s", p);
        *s = c;
        if (c == '\0')
            return 0;
    }
}

int reef_kubeconfig_write(const struct reef_kubeconfig_write_opts *o, struct reef_err *err)
{
    const char *path = o->path && o->path[0] ? o->path : REEF_KUBECONFIG_PATH;
    mode_t mode = o->mode ? o->mode : REEF_KUBECONFIG_MODE;
    struct reef_buf b = REEF_BUF_INIT;
    int r = reef_kubeconfig_render(o, &b, err);
    if (r >= 0)
        r = mkparents(path, err);
    if (r >= 0)
        r = reef_cert_write_file(path, b.data, b.len, mode, err);
    if (b.data)
        mbedtls_platform_zeroize(b.data, b.len); /* it holds the admin key */
    reef_buf_free(&b);
    return r;
}

int reef_kubeconfig_parse_mode(const char *s, mode_t *out, struct reef_err *err)
{
    size_t n = s ? strlen(s) : 0;
    unsigned v = 0;
    if (n == 0 || n > 4)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '7')
            goto bad;
        v = v * 8 + (unsigned)(s[i] - '0');
    }
    if (v > 0777)
        goto bad;
    *out = (mode_t)v;
    return 0;
bad:
    return reef_err_set(err, -EINVAL,
                        "--write-kubeconfig-mode \"%.20s\": expected an octal mode such as 0600",
                        s ? s : "");
}

/* ---- reading --------------------------------------------------------------------------------- */

char *reef_kubeconfig_resolve_path(const char *path)
{
    if (path && path[0])
        return strdup(path);
    const char *env = getenv("KUBECONFIG");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t n = colon ? (size_t)(colon - env) : strlen(env);
        if (n > 0)
            return reef_strndup(env, n);
        env = colon ? colon + 1 : NULL;
    }
    return strdup(REEF_KUBECONFIG_PATH);
}

/* State of one parse: the file name for messages and the JSON form of the document. */
struct kc {
    const char *path;
    struct reef_json_doc d;
    struct reef_err *err;
};

static int fail(struct kc *k, int code, const char *where, const char *what)
{
    return reef_err_set(k->err, code, "kubeconfig %s: %s%s%s", k->path, where, where[0] ? ": " : "",
                        what);
}

/* Member key of object obj as a malloc'd string in *out (NULL when absent or null). where names
 * obj in messages ("clusters[0].cluster"). */
static int get_str(struct kc *k, int obj, const char *where, const char *key, char **out)
{
    *out = NULL;
    char field[160];
    snprintf(field, sizeof(field), "%s%s%s", where, where[0] ? "." : "", key);
    int v = reef_json_member(&k->d, obj, key);
    if (v == -ENOENT || (v >= 0 && reef_json_is_null(&k->d, v)))
        return 0;
    if (v < 0)
        return fail(k, -EINVAL, field, "not inside an object");
    if (reef_json_kind(&k->d, v) != REEF_JSON_STRING) {
        char what[64];
        snprintf(what, sizeof(what), "expected a string, found %s",
                 reef_json_kind_name(reef_json_kind(&k->d, v)));
        return fail(k, -EINVAL, field, what);
    }
    struct reef_err e;
    if (reef_json_get_strdup(&k->d, v, out, &e) < 0)
        return fail(k, e.code, field, e.msg);
    return 0;
}

static int get_bool(struct kc *k, int obj, const char *where, const char *key, bool *out)
{
    *out = false;
    int v = reef_json_member(&k->d, obj, key);
    if (v == -ENOENT || (v >= 0 && reef_json_is_null(&k->d, v)))
        return 0;
    char field[160];
    snprintf(field, sizeof(field), "%s.%s", where, key);
    if (v < 0 || reef_json_kind(&k->d, v) != REEF_JSON_BOOL)
        return fail(k, -EINVAL, field, "expected true or false");
    return reef_json_get_bool(&k->d, v, out, NULL) < 0 ? fail(k, -EINVAL, field, "not a bool") : 0;
}

/* The element of the named list (clusters, contexts, users) whose name is name; its index in
 * *idx. Returns the element's token or a negative code. */
static int find_named(struct kc *k, const char *list, const char *name, size_t *idx)
{
    int arr = reef_json_member(&k->d, REEF_JSON_ROOT, list);
    char what[200];
    if (arr >= 0 && reef_json_is_null(&k->d, arr))
        arr = -ENOENT;
    if (arr >= 0 && reef_json_kind(&k->d, arr) != REEF_JSON_ARRAY)
        return fail(k, -EINVAL, list, "expected a list");
    struct reef_json_iter it = reef_json_iter(&k->d, arr >= 0 ? arr : REEF_JSON_ROOT);
    while (arr >= 0 && reef_json_next(&k->d, &it)) {
        char where[64];
        snprintf(where, sizeof(where), "%s[%d]", list, it.index);
        if (reef_json_kind(&k->d, it.val) != REEF_JSON_OBJECT)
            return fail(k, -EINVAL, where, "expected an object");
        int n = reef_json_member(&k->d, it.val, "name");
        if (n >= 0 && reef_json_kind(&k->d, n) != REEF_JSON_STRING) {
            snprintf(where, sizeof(where), "%s[%d].name", list, it.index);
            return fail(k, -EINVAL, where, "expected a string");
        }
        if (n >= 0 && reef_json_str_eq(&k->d, n, name)) {
            *idx = (size_t)it.index;
            return it.val;
        }
    }
    snprintf(what, sizeof(what), "no entry named \"%.100s\"", name);
    return fail(k, -ENOENT, list, what);
}

/* The object member key of the list element (cluster, context, user). */
static int inner_object(struct kc *k, int elem, const char *where, const char *key)
{
    char field[160];
    snprintf(field, sizeof(field), "%s.%s", where, key);
    int v = reef_json_member(&k->d, elem, key);
    if (v == -ENOENT || (v >= 0 && reef_json_is_null(&k->d, v)))
        return fail(k, -EINVAL, field, "missing");
    if (v < 0 || reef_json_kind(&k->d, v) != REEF_JSON_OBJECT)
        return fail(k, -EINVAL, field, "expected an object");
    return v;
}

/* A file named in the kubeconfig, relative to the kubeconfig's directory unless absolute. */
static int read_ref(struct kc *k, const char *field, const char *name, char **out, size_t *len)
{
    _cleanup_free_ char *full = NULL;
    const char *slash = strrchr(k->path, '/');
    if (name[0] == '/' || !slash)
        full = strdup(name);
    else if (asprintf(&full, "%.*s/%s", (int)(slash - k->path), k->path, name) < 0)
        full = NULL;
    if (!full)
        return fail(k, -ENOMEM, field, "out of memory");
    struct reef_err e;
    int r = reef_fs_read_string(full, REEF_KUBECONFIG_MAX_CRED, out, len, &e);
    return r < 0 ? fail(k, r, field, e.msg) : 0;
}

/* A credential: base64 in data_key, or a file named in file_key. kind: 'c' certificates, 'k'
 * a private key; the bytes must parse as such. */
static int get_cred(struct kc *k, int obj, const char *where, const char *data_key,
                    const char *file_key, char kind, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    char field[160];
    _cleanup_free_ char *b64 = NULL, *file = NULL;
    int r = get_str(k, obj, where, data_key, &b64);
    if (r >= 0 && !b64)
        r = get_str(k, obj, where, file_key, &file);
    if (r < 0)
        return r;
    if (b64) {
        snprintf(field, sizeof(field), "%s.%s", where, data_key);
        /* Go's base64 decoder, which reads these []byte fields, skips line breaks. */
        size_t n = 0;
        for (const char *p = b64; *p; p++)
            if (*p != '\n' && *p != '\r')
                b64[n++] = *p;
        b64[n] = '\0';
        struct reef_buf b = REEF_BUF_INIT;
        struct reef_err e;
        if (n == 0)
            return fail(k, -EINVAL, field, "empty");
        r = reef_crypto_b64_decode(&b, b64, n, REEF_B64_STD, &e);
        if (r < 0) {
            reef_buf_free(&b);
            return fail(k, r, field, e.msg);
        }
        *len = b.len;
        *out = reef_buf_steal(&b);
        if (!*out)
            return fail(k, -ENOMEM, field, "out of memory");
    } else if (file) {
        snprintf(field, sizeof(field), "%s.%s", where, file_key);
        r = read_ref(k, field, file, out, len);
        if (r < 0)
            return r;
    } else {
        return 0;
    }
    struct reef_err e;
    if (kind == 'c') {
        struct reef_cert *c = NULL;
        r = reef_cert_from_pem(&c, *out, *len, &e);
        reef_cert_free(c);
    } else {
        struct reef_key *key = NULL;
        r = reef_cert_key_from_pem(&key, *out, *len, &e);
        reef_cert_key_free(key);
    }
    if (r < 0) {
        mbedtls_platform_zeroize(*out, *len);
        free(*out);
        *out = NULL;
        *len = 0;
        return fail(k, -EINVAL, field, e.msg);
    }
    return 0;
}

static int resolve(struct kc *k, const char *context, struct reef_kubeconfig *cfg)
{
    if (reef_json_kind(&k->d, REEF_JSON_ROOT) != REEF_JSON_OBJECT)
        return fail(k, -EINVAL, "", "not a mapping");
    int r;
    if (context && context[0]) {
        cfg->context = strdup(context);
        if (!cfg->context)
            return fail(k, -ENOMEM, "", "out of memory");
    } else {
        r = get_str(k, REEF_JSON_ROOT, "", "current-context", &cfg->context);
        if (r < 0)
            return r;
        if (!cfg->context || !cfg->context[0])
            return fail(k, -ENOENT, "current-context", "not set");
    }
    size_t i;
    int ctx = find_named(k, "contexts", cfg->context, &i);
    if (ctx < 0)
        return ctx;
    char where[64];
    snprintf(where, sizeof(where), "contexts[%zu]", i);
    int c = inner_object(k, ctx, where, "context");
    snprintf(where, sizeof(where), "contexts[%zu].context", i);
    if (c < 0)
        return c;
    _cleanup_free_ char *cluster = NULL, *user = NULL;
    r = get_str(k, c, where, "cluster", &cluster);
    r = r < 0 ? r : get_str(k, c, where, "user", &user);
    r = r < 0 ? r : get_str(k, c, where, "namespace", &cfg->namespace);
    if (r < 0)
        return r;
    if (!cluster || !cluster[0]) {
        char field[100];
        snprintf(field, sizeof(field), "%s.cluster", where);
        return fail(k, -EINVAL, field, "missing");
    }

    int cl = find_named(k, "clusters", cluster, &i);
    if (cl < 0)
        return cl;
    snprintf(where, sizeof(where), "clusters[%zu]", i);
    cl = inner_object(k, cl, where, "cluster");
    snprintf(where, sizeof(where), "clusters[%zu].cluster", i);
    if (cl < 0)
        return cl;
    r = get_str(k, cl, where, "server", &cfg->server);
    r = r < 0 ? r : get_str(k, cl, where, "tls-server-name", &cfg->tls_server_name);
    r = r < 0 ? r
              : get_bool(k, cl, where, "insecure-skip-tls-verify", &cfg->insecure_skip_tls_verify);
    r = r < 0 ? r
              : get_cred(k, cl, where, "certificate-authority-data", "certificate-authority", 'c',
                         &cfg->ca_pem, &cfg->ca_len);
    if (r < 0)
        return r;
    if (!cfg->server || !cfg->server[0]) {
        char field[100];
        snprintf(field, sizeof(field), "%s.server", where);
        return fail(k, -EINVAL, field, "missing");
    }

    if (!user || !user[0])
        return 0; /* anonymous, as kubectl allows */
    int us = find_named(k, "users", user, &i);
    if (us < 0)
        return us;
    snprintf(where, sizeof(where), "users[%zu]", i);
    us = inner_object(k, us, where, "user");
    snprintf(where, sizeof(where), "users[%zu].user", i);
    if (us < 0)
        return us;
    r = get_cred(k, us, where, "client-certificate-data", "client-certificate", 'c', &cfg->cert_pem,
                 &cfg->cert_len);
    r = r < 0 ? r
              : get_cred(k, us, where, "client-key-data", "client-key", 'k', &cfg->key_pem,
                         &cfg->key_len);
    r = r < 0 ? r : get_str(k, us, where, "token", &cfg->token);
    if (r < 0)
        return r;
    if (!cfg->cert_pem != !cfg->key_pem)
        return fail(k, -EINVAL, where,
                    cfg->cert_pem ? "client certificate without client-key-data or client-key"
                                  : "client key without client-certificate-data or "
                                    "client-certificate");
    if (cfg->token && cfg->token[0])
        return 0;
    free(cfg->token);
    cfg->token = NULL;
    _cleanup_free_ char *token_file = NULL;
    r = get_str(k, us, where, "tokenFile", &token_file);
    if (r < 0 || !token_file)
        return r;
    char field[100];
    snprintf(field, sizeof(field), "%s.tokenFile", where);
    size_t len;
    r = read_ref(k, field, token_file, &cfg->token, &len);
    if (r < 0)
        return r;
    /* client-go trims white space around the file's contents. */
    while (len > 0 && strchr(" \t\r\n", cfg->token[len - 1]))
        cfg->token[--len] = '\0';
    size_t skip = strspn(cfg->token, " \t\r\n");
    memmove(cfg->token, cfg->token + skip, len - skip + 1);
    len -= skip;
    if (len == 0 || strlen(cfg->token) != len)
        return fail(k, -EINVAL, field, "empty or not text");
    return 0;
}

void reef_kubeconfig_free(struct reef_kubeconfig *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->context);
    free(cfg->namespace);
    free(cfg->server);
    free(cfg->tls_server_name);
    free(cfg->ca_pem);
    free(cfg->cert_pem);
    if (cfg->key_pem)
        mbedtls_platform_zeroize(cfg->key_pem, cfg->key_len);
    free(cfg->key_pem);
    if (cfg->token)
        mbedtls_platform_zeroize(cfg->token, strlen(cfg->token));
    free(cfg->token);
    memset(cfg, 0, sizeof(*cfg));
}

int reef_kubeconfig_parse(const char *path, const char *text, size_t len, const char *context,
                          struct reef_kubeconfig *cfg, struct reef_err *err)
{
    memset(cfg, 0, sizeof(*cfg));
    struct kc k = {.path = path ? path : "(text)", .d = REEF_JSON_DOC_INIT, .err = err};
    struct reef_buf json = REEF_BUF_INIT;
    struct reef_err e;
    int r = reef_yaml_to_json_array(text, len, &json, &e);
    if (r < 0) {
        reef_buf_free(&json);
        return fail(&k, r, "", e.msg);
    }
    struct reef_json_doc arr = REEF_JSON_DOC_INIT;
    r = reef_json_parse(&arr, json.data, json.len, NULL, &e);
    if (r < 0 || reef_json_count(&arr, REEF_JSON_ROOT) < 1) {
        r = r < 0 ? fail(&k, r, "", e.msg) : fail(&k, -EINVAL, "", "empty");
        goto out;
    }
    /* The first document, parsed on its own so that its root is REEF_JSON_ROOT. */
    size_t doc_len;
    const char *doc = reef_json_raw(&arr, reef_json_index(&arr, REEF_JSON_ROOT, 0), &doc_len);
    r = reef_json_parse(&k.d, doc, doc_len, NULL, &e);
    if (r < 0) {
        r = fail(&k, r, "", e.msg);
        goto out;
    }
    cfg->path = strdup(k.path);
    r = cfg->path ? resolve(&k, context, cfg) : fail(&k, -ENOMEM, "", "out of memory");
out:
    reef_json_doc_free(&k.d);
    reef_json_doc_free(&arr);
    reef_buf_free(&json);
    if (r < 0)
        reef_kubeconfig_free(cfg);
    return r;
}

int reef_kubeconfig_load(const char *path, const char *context, struct reef_kubeconfig *cfg,
                         struct reef_err *err)
{
    memset(cfg, 0, sizeof(*cfg));
    _cleanup_free_ char *file = reef_kubeconfig_resolve_path(path);
    if (!file)
        return reef_err_set(err, -ENOMEM, "kubeconfig: out of memory");
    _cleanup_free_ char *text = NULL;
    size_t len;
    struct reef_err e;
    int r = reef_fs_read_string(file, REEF_KUBECONFIG_MAX_FILE, &text, &len, &e);
    if (r < 0)
        return reef_err_set(err, r, "kubeconfig: %s", e.msg);
    r = reef_kubeconfig_parse(file, text, len, context, cfg, err);
    mbedtls_platform_zeroize(text, len);
    return r;
}
