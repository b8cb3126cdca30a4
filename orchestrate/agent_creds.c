/* agent_creds: registry credentials from a pod's imagePullSecrets, as the kubelet reads them:
 * a Secret of type kubernetes.io/dockerconfigjson holds ".dockerconfigjson", {"auths": {server:
 * {"username", "password"} or {"auth": base64("user:pass")}}}; the older kubernetes.io/dockercfg
 * holds ".dockercfg", the same map without "auths". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/json.h"
#include "orchestrate/agent_int.h"

#define jstr reef__agent_jstr

void reef__agent_creds_host(const char *server, char *out, size_t size)
{
    const char *s = strstr(server, "://");
    s = s ? s + 3 : server;
    size_t n = strcspn(s, "/");
    snprintf(out, size, "%.*s", (int)n, s);
    if (strcmp(out, "index.docker.io") == 0 || strcmp(out, "docker.io") == 0 ||
        strcmp(out, "registry.hub.docker.com") == 0)
        snprintf(out, size, "registry-1.docker.io");
}

static int add(struct reef_agent_creds *c, const char *host, const char *user, const char *pass)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->auth[i].host, host) == 0)
            return 0; /* the first secret naming a host wins, as the kubelet tries them in order */
    struct reef_pull_auth *n = realloc(c->auth, (c->n + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    c->auth = n;
    struct reef_pull_auth *a = &n[c->n];
    a->host = strdup(host);
    a->username = strdup(user);
    a->password = strdup(pass);
    if (!a->host || !a->username || !a->password) {
        free((char *)a->host);
        free((char *)a->username);
        free((char *)a->password);
        return -ENOMEM;
    }
    c->n++;
    return 0;
}

/* One docker config map {server: {...}}. */
static int add_map(struct reef_agent_creds *c, const struct reef_json_doc *d, int map)
{
    struct reef_json_iter it = reef_json_iter(d, map);
    int r = 0;
    while (r == 0 && reef_json_next(d, &it)) {
        char server[512], host[300], user[512] = "", pass[1024] = "", auth[2048];
        if (reef_json_get_str(d, it.key, server, sizeof(server), NULL) < 0)
            continue;
        reef__agent_creds_host(server, host, sizeof(host));
        jstr(d, it.val, "username", user, sizeof(user));
        jstr(d, it.val, "password", pass, sizeof(pass));
        if (!user[0] && jstr(d, it.val, "auth", auth, sizeof(auth)) && auth[0]) {
            struct reef_buf dec = REEF_BUF_INIT;
            if (reef_crypto_b64_decode(&dec, auth, strlen(auth), 0, NULL) == 0 && dec.data) {
                char *colon = memchr(dec.data, ':', dec.len);
                if (colon) {
                    snprintf(user, sizeof(user), "%.*s", (int)(colon - dec.data), dec.data);
                    snprintf(pass, sizeof(pass), "%.*s", (int)(dec.len - (size_t)(colon - dec.data) - 1),
                             colon + 1);
                }
            }
            reef_buf_free(&dec);
        }
        if (user[0])
            r = add(c, host, user, pass);
    }
    return r;
}

struct found {
    struct reef_buf json;
    bool cfgjson, cfg;
};

static int take_key(void *ud, const char *key, const struct reef_buf *val)
{
    struct found *f = ud;
    bool j = strcmp(key, ".dockerconfigjson") == 0, c = strcmp(key, ".dockercfg") == 0;
    if ((j || (c && !f->cfgjson)) && val->data) {
        reef_buf_reset(&f->json);
        if (reef_buf_append(&f->json, val->data, val->len) < 0)
            return -ENOMEM;
        f->cfgjson = f->cfgjson || j;
        f->cfg = c && !j;
    }
    return 0;
}

int reef__agent_pull_creds(struct agent_pod *p, const struct reef_json_doc *d,
                           struct reef_agent_creds *out, struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    int list = reef_json_find(d, REEF_JSON_ROOT, "spec.imagePullSecrets", NULL);
    struct reef_json_iter it = reef_json_iter(d, list);
    int result = 0;
    while (reef_json_next(d, &it)) {
        char name[254];
        if (!jstr(d, it.val, "name", name, sizeof(name)) || !name[0])
            continue;
        struct found f = {REEF_BUF_INIT, false, false};
        int r = reef__agent_object_each(p, true, name, take_key, &f, err);
        if (r == 0 && !f.json.len)
            r = reef_err_set(err, -EINVAL,
                             "secret \"%s\" holds no .dockerconfigjson or .dockercfg", name);
        struct reef_json_doc cd = REEF_JSON_DOC_INIT;
        if (r == 0 && reef_json_parse(&cd, f.json.data, f.json.len, NULL, NULL) < 0)
            r = reef_err_set(err, -EINVAL, "secret \"%s\": its docker config is not JSON", name);
        if (r == 0) {
            int map = f.cfg ? REEF_JSON_ROOT : reef_json_member(&cd, REEF_JSON_ROOT, "auths");
            r = add_map(out, &cd, map);
            if (r == -ENOMEM)
                reef_err_set(err, r, "out of memory");
        }
        reef_json_doc_free(&cd);
        reef_buf_free(&f.json);
        if (r < 0 && r != -ENOMEM) {
            /* the kubelet goes on without it, and says so */
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            reef_err_set(err, r, "Unable to retrieve some image pull secrets (%s); attempting to "
                                 "pull the image may not succeed: %s", name, msg);
            result = r;
        } else if (r < 0) {
            return r;
        }
    }
    return result;
}

void reef__agent_creds_free(struct reef_agent_creds *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free((char *)c->auth[i].host);
        free((char *)c->auth[i].username);
        free((char *)c->auth[i].password);
    }
    free(c->auth);
    c->auth = NULL;
    c->n = 0;
}
