/* registry: OCI distribution client (see registry.h). */
#include "runtime/registry.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uv.h>

#include "core/crypto.h"
#include "core/http_client.h"
#include "core/json.h"
#include "core/log.h"
#include "runtime/blobstore.h"

#define ERR_BODY_MAX 4096
#define TOKEN_BODY_MAX (1u << 20)

struct reef_registry {
    struct reef_image_ref ref;
    struct reef_registry_endpoint eps[REEF_REGISTRY_MAX_ENDPOINTS];
    int neps;
    int cur; /* endpoint that answered last */
    unsigned timeout_ms;
    int attempts;
    unsigned backoff_ms;
    pthread_mutex_t mu; /* token and cur */
    char *token;        /* bearer token for cur's host */
    int token_ep;
};

/* ---- pure helpers ---- */

int reef_registry_manifest_kind(const char *mt)
{
    if (strcmp(mt, REEF_MT_OCI_MANIFEST) == 0 || strcmp(mt, REEF_MT_DOCKER_MANIFEST) == 0)
        return 1;
    if (strcmp(mt, REEF_MT_OCI_INDEX) == 0 || strcmp(mt, REEF_MT_DOCKER_LIST) == 0)
        return 2;
    return 0;
}

bool reef_registry_transient(int result, int status)
{
    if (result < 0)
        return result == -ECONNRESET || result == -ETIMEDOUT || result == -EPIPE ||
               result == -ECONNABORTED;
    return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int reef_registry_parse_challenge(const char *value, struct reef_auth_challenge *out,
                                  struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    const char *p = skip_ws(value);
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != '\t')
        n++;
    if (n == 0 || n >= sizeof(out->scheme))
        return reef_err_set(err, -EINVAL, "WWW-Authenticate: no scheme");
    memcpy(out->scheme, p, n);
    p = skip_ws(p + n);
    while (*p) {
        const char *k = p;
        while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
            p++;
        size_t kl = (size_t)(p - k);
        p = skip_ws(p);
        if (kl == 0 || *p != '=')
            return reef_err_set(err, -EINVAL, "WWW-Authenticate: malformed parameter at \"%.20s\"",
                                k);
        p = skip_ws(p + 1);
        char val[1024];
        size_t vl = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                if (vl + 1 >= sizeof(val))
                    return reef_err_set(err, -EINVAL, "WWW-Authenticate: value too long");
                val[vl++] = *p++;
            }
            if (*p != '"')
                return reef_err_set(err, -EINVAL, "WWW-Authenticate: unterminated quote");
            p++;
        } else {
            while (*p && *p != ',' && *p != ' ' && *p != '\t') {
                if (vl + 1 >= sizeof(val))
                    return reef_err_set(err, -EINVAL, "WWW-Authenticate: value too long");
                val[vl++] = *p++;
            }
        }
        val[vl] = '\0';
        char *dst = NULL;
        size_t dsz = 0;
        if (kl == 5 && strncasecmp(k, "realm", 5) == 0)
            dst = out->realm, dsz = sizeof(out->realm);
        else if (kl == 7 && strncasecmp(k, "service", 7) == 0)
            dst = out->service, dsz = sizeof(out->service);
        else if (kl == 5 && strncasecmp(k, "scope", 5) == 0)
            dst = out->scope, dsz = sizeof(out->scope);
        else if (kl == 5 && strncasecmp(k, "error", 5) == 0)
            dst = out->error, dsz = sizeof(out->error);
        if (dst) {
            if (vl >= dsz)
                return reef_err_set(err, -EINVAL, "WWW-Authenticate: %.*s too long", (int)kl, k);
            memcpy(dst, val, vl + 1);
        }
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
        else if (*p)
            break; /* a second challenge: only the first is used */
    }
    if (strcasecmp(out->scheme, "Bearer") == 0 && !out->realm[0])
        return reef_err_set(err, -EINVAL, "WWW-Authenticate: Bearer challenge without a realm");
    return 0;
}

static void put_pct(struct reef_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            reef_buf_putc(b, (char)c);
        } else {
            reef_buf_putc(b, '%');
            reef_buf_putc(b, hex[c >> 4]);
            reef_buf_putc(b, hex[c & 15]);
        }
    }
}

int reef_registry_token_url(const struct reef_auth_challenge *c, const char *path,
                            struct reef_buf *out)
{
    size_t start = out->len;
    reef_buf_puts(out, c->realm);
    char sep = strchr(c->realm, '?') ? '&' : '?';
    if (c->service[0]) {
        reef_buf_putc(out, sep);
        reef_buf_puts(out, "service=");
        put_pct(out, c->service);
        sep = '&';
    }
    reef_buf_putc(out, sep);
    reef_buf_puts(out, "scope=");
    if (c->scope[0]) {
        put_pct(out, c->scope);
    } else {
        char scope[REEF_IMAGE_NAME_MAX + 32];
        snprintf(scope, sizeof(scope), "repository:%s:pull", path);
        put_pct(out, scope);
    }
    if (!out->data || out->len == start)
        return -ENOMEM;
    return 0;
}

int reef_registry_token_form(const struct reef_auth_challenge *c, const char *path,
                             const char *refresh_token, struct reef_buf *out)
{
    size_t start = out->len;
    reef_buf_puts(out, "grant_type=refresh_token&client_id=reef&service=");
    put_pct(out, c->service);
    reef_buf_puts(out, "&scope=");
    if (c->scope[0]) {
        put_pct(out, c->scope);
    } else {
        char scope[REEF_IMAGE_NAME_MAX + 32];
        snprintf(scope, sizeof(scope), "repository:%s:pull", path);
        put_pct(out, scope);
    }
    reef_buf_puts(out, "&refresh_token=");
    put_pct(out, refresh_token);
    return out->data && out->len > start ? 0 : -ENOMEM;
}

/* ---- one HTTP request on a private loop ---- */

struct req {
    /* in */
    const char *url;
    const char *accept;
    const char *range; /* "bytes=N-" or NULL */
    const char *bearer;
    const char *user, *pass;
    const char *method; /* NULL: GET */
    const char *form;   /* POST body (application/x-www-form-urlencoded) */
    const struct reef_registry_endpoint *ep;
    unsigned timeout_ms;
    reef_registry_data_fn fn; /* for 200/206 bodies; others are buffered */
    void *ud;
    uint64_t skip; /* bytes of a 200 body to drop (a resume the server did not honour) */
    size_t max;    /* buffered body limit */
    /* out */
    int result;
    int status;
    char www_auth[1024];
    char content_type[128];
    char docker_digest[REEF_DIGEST_MAX];
    struct reef_buf body;
    uint64_t delivered;
    struct reef_err err;
    /* private */
    bool done, timed_out, fn_failed;
    uint64_t last_activity;
    uv_loop_t *loop;
    struct reef_http_call *call;
};

static void copy_header(const struct reef_http_msg *m, const char *name, char *dst, size_t sz)
{
    const char *v = reef_http_msg_header(m, name);
    if (v)
        reef_strlcpy(dst, v, sz);
}

static int rq_on_head(void *ud, const struct reef_http_response *res)
{
    struct req *q = ud;
    q->status = res->status;
    copy_header(res->msg, "www-authenticate", q->www_auth, sizeof(q->www_auth));
    copy_header(res->msg, "content-type", q->content_type, sizeof(q->content_type));
    copy_header(res->msg, "docker-content-digest", q->docker_digest, sizeof(q->docker_digest));
    /* A resume the server honoured starts where we stopped; one it ignored (200) starts at 0 and
     * the prefix already delivered is dropped. */
    if (res->status == 206)
        q->skip = 0;
    q->last_activity = uv_now(q->loop);
    return 0;
}

static int rq_on_data(void *ud, const char *data, size_t len)
{
    struct req *q = ud;
    q->last_activity = uv_now(q->loop);
    bool ok = q->status == 200 || q->status == 206;
    if (ok && q->fn) {
        if (q->skip > 0) {
            size_t s = q->skip < len ? (size_t)q->skip : len;
            q->skip -= s;
            data += s;
            len -= s;
            if (len == 0)
                return 0;
        }
        int r = q->fn(q->ud, data, len);
        if (r < 0) {
            q->fn_failed = true;
            return r;
        }
        q->delivered += len;
        return 0;
    }
    size_t max = ok ? q->max : ERR_BODY_MAX;
    if (q->body.len + len > max) {
        if (!ok)
            return 0; /* an error body is only for the message */
        return -E2BIG;
    }
    return reef_buf_append(&q->body, data, len);
}

static void rq_done(void *ud, int result, const struct reef_http_response *res,
                    const struct reef_err *err)
{
    struct req *q = ud;
    q->done = true;
    q->call = NULL;
    q->result = result;
    if (result < 0) {
        if (err)
            q->err = *err;
        return;
    }
    q->status = res->status;
    copy_header(res->msg, "www-authenticate", q->www_auth, sizeof(q->www_auth));
    copy_header(res->msg, "content-type", q->content_type, sizeof(q->content_type));
}

static void rq_timer(uv_timer_t *t)
{
    struct req *q = t->data;
    if (q->done || !q->call)
        return;
    if (uv_now(q->loop) - q->last_activity >= q->timeout_ms) {
        q->timed_out = true;
        reef_http_call_cancel(q->call);
    }
}

static int rq_run(struct req *q)
{
    uv_loop_t loop;
    int r = uv_loop_init(&loop);
    if (r < 0)
        return reef_err_set(&q->err, r, "loop: %s", uv_strerror(r));
    q->loop = &loop;
    struct reef_http_client_opts co = {
        .connect_timeout_ms = q->timeout_ms,
        .response_timeout_ms = q->timeout_ms,
        .max_body = 1, /* bodies are always streamed to rq_on_data */
    };
    if (q->ep && q->ep->cfg) {
        co.ca_file = q->ep->cfg->ca_file;
        co.cert_file = q->ep->cfg->cert_file;
        co.key_file = q->ep->cfg->key_file;
        co.insecure_skip_verify = q->ep->cfg->insecure_skip_verify;
    }
    q->result = -EINPROGRESS;
    struct reef_http_client *cl = reef_http_client_new(&loop, &co, &q->err);
    if (!cl) {
        uv_loop_close(&loop);
        q->result = q->err.code ? q->err.code : -ENOMEM;
        return q->result;
    }
    struct reef_http_header hs[4];
    size_t nh = 0;
    if (q->form)
        hs[nh++] = (struct reef_http_header){"Content-Type", "application/x-www-form-urlencoded"};
    if (q->accept)
        hs[nh++] = (struct reef_http_header){"Accept", q->accept};
    if (q->range)
        hs[nh++] = (struct reef_http_header){"Range", q->range};
    hs[nh++] = (struct reef_http_header){"User-Agent", "reef"};
    struct reef_http_request rq = {
        .method = q->method ? q->method : "GET",
        .url = q->url,
        .body = q->form,
        .body_len = q->form ? strlen(q->form) : 0,
        .headers = hs,
        .nheaders = nh,
        .bearer_token = q->bearer,
        .basic_user = q->bearer ? NULL : q->user,
        .basic_pass = q->bearer ? NULL : q->pass,
        .on_head = rq_on_head,
        .on_data = rq_on_data,
    };
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    timer.data = q;
    q->last_activity = uv_now(&loop);
    r = reef_http_client_request(cl, &rq, rq_done, q, &q->call, &q->err);
    if (r == 0) {
        unsigned tick = q->timeout_ms / 10 ? q->timeout_ms / 10 : 1;
        uv_timer_start(&timer, rq_timer, tick, tick);
        while (!q->done && uv_run(&loop, UV_RUN_ONCE))
            ;
    } else {
        q->result = r;
    }
    uv_timer_stop(&timer);
    uv_close((uv_handle_t *)&timer, NULL);
    reef_http_client_free(cl);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (q->timed_out)
        q->result = reef_err_set(&q->err, -ETIMEDOUT, "GET %s: timed out (no data for %u ms)",
                                 q->url, q->timeout_ms);
    return q->result;
}

/* ---- the client ---- */

int reef_registry_open(const struct reef_image_ref *ref, const struct reef_registry_opts *opts,
                       struct reef_registry **out, struct reef_err *err)
{
    *out = NULL;
    struct reef_registry *r = calloc(1, sizeof(*r));
    if (!r)
        return reef_err_set(err, -ENOMEM, "registry: out of memory");
    r->ref = *ref;
    r->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : 30000;
    r->attempts = opts && opts->attempts > 0 ? opts->attempts : 4;
    r->backoff_ms = opts && opts->backoff_ms ? opts->backoff_ms : 250;
    int n = reef_registries_conf_endpoints(opts ? opts->conf : NULL, ref, r->eps,
                                           REEF_REGISTRY_MAX_ENDPOINTS, err);
    if (n < 0) {
        free(r);
        return n;
    }
    r->neps = n;
    r->token_ep = -1;
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return 0;
}

void reef_registry_close(struct reef_registry *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r->token);
    free(r);
}

const char *reef_registry_host(const struct reef_registry *r)
{
    return r->eps[r->cur].host;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Fetches a bearer token for endpoint ep answering challenge c. */
static int fetch_token(struct reef_registry *r, int ep, const struct reef_auth_challenge *c,
                       struct reef_err *err)
{
    const struct reef_registry_endpoint *e = &r->eps[ep];
    struct reef_buf url = REEF_BUF_INIT;
    if (reef_registry_token_url(c, e->path, &url) < 0) {
        reef_buf_free(&url);
        return reef_err_set(err, -ENOMEM, "token: out of memory");
    }
    struct req q = {.url = url.data,
                    .ep = e,
                    .timeout_ms = r->timeout_ms,
                    .max = TOKEN_BODY_MAX,
                    .user = e->cfg ? e->cfg->username : NULL,
                    .pass = e->cfg ? e->cfg->password : NULL};
    /* An identity token is an OAuth2 refresh token: POSTed to the realm instead of a GET. */
    struct reef_buf form = REEF_BUF_INIT;
    if (e->cfg && e->cfg->identity_token) {
        if (reef_registry_token_form(c, e->path, e->cfg->identity_token, &form) < 0) {
            reef_buf_free(&url);
            reef_buf_free(&form);
            return reef_err_set(err, -ENOMEM, "token: out of memory");
        }
        reef_buf_reset(&url);
        if (reef_buf_puts(&url, c->realm) < 0) {
            reef_buf_free(&url);
            reef_buf_free(&form);
            return reef_err_set(err, -ENOMEM, "token: out of memory");
        }
        q.method = "POST";
        q.form = form.data;
        q.user = q.pass = NULL;
    }
    int res = rq_run(&q);
    int ret = 0;
    if (res < 0) {
        ret = reef_err_set(err, res, "token: %s", q.err.msg);
    } else if (q.status == 401 || q.status == 403) {
        ret = reef_err_set(err, -EACCES, "token service %s: %d: %s", c->realm, q.status,
                           e->cfg && e->cfg->username ? "bad credentials" : "credentials needed");
    } else if (q.status != 200) {
        ret = reef_err_set(err, -EPROTO, "token service %s: HTTP %d", c->realm, q.status);
    } else {
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        char *tok = NULL;
        int v = -ENOENT;
        if (reef_json_parse(&d, q.body.data ? q.body.data : "", q.body.len, NULL, NULL) == 0) {
            v = reef_json_member(&d, REEF_JSON_ROOT, "token");
            if (v < 0)
                v = reef_json_member(&d, REEF_JSON_ROOT, "access_token");
        }
        if (v < 0 || reef_json_get_strdup(&d, v, &tok, NULL) < 0 || !tok[0]) {
            free(tok);
            ret = reef_err_set(err, -EPROTO, "token service %s: no token in its answer", c->realm);
        } else {
            pthread_mutex_lock(&r->mu);
            free(r->token);
            r->token = tok;
            r->token_ep = ep;
            pthread_mutex_unlock(&r->mu);
        }
        reef_json_doc_free(&d);
    }
    reef_buf_free(&q.body);
    reef_buf_free(&url);
    reef_buf_free(&form);
    return ret;
}

/* One GET against endpoint ep with auth and retries. On return q->status holds the final status
 * (the caller judges it); a negative return is a transport failure after all retries or an
 * authentication failure. */
static int do_get(struct reef_registry *r, int ep, struct req *q, const char *what,
                  struct reef_err *err)
{
    const struct reef_registry_endpoint *e = &r->eps[ep];
    bool tried_token = false, use_basic = false;
    unsigned backoff = r->backoff_ms;
    char range[48];
    for (int attempt = 0;;) {
        char *tok = NULL;
        pthread_mutex_lock(&r->mu);
        if (r->token && r->token_ep == ep)
            tok = strdup(r->token);
        pthread_mutex_unlock(&r->mu);
        q->bearer = tok;
        q->user = use_basic && e->cfg ? e->cfg->username : NULL;
        q->pass = use_basic && e->cfg ? e->cfg->password : NULL;
        q->range = NULL;
        q->skip = q->fn ? q->delivered : 0;
        if (q->fn && q->delivered > 0) {
            snprintf(range, sizeof(range), "bytes=%llu-", (unsigned long long)q->delivered);
            q->range = range;
        }
        q->status = 0;
        q->www_auth[0] = q->content_type[0] = q->docker_digest[0] = '\0';
        reef_buf_reset(&q->body);
        reef_err_clear(&q->err);
        q->done = q->timed_out = q->fn_failed = false;
        q->timeout_ms = r->timeout_ms;
        q->ep = e;
        int res = rq_run(q);
        free(tok);
        q->bearer = NULL;
        if (q->fn_failed)
            return reef_err_set(err, res < 0 ? res : -EIO, "%s", q->err.msg);
        if (res >= 0 && q->status == 401) {
            struct reef_auth_challenge c;
            if (q->www_auth[0] && reef_registry_parse_challenge(q->www_auth, &c, NULL) == 0) {
                if (strcasecmp(c.scheme, "Bearer") == 0 && !tried_token) {
                    tried_token = true;
                    int t = fetch_token(r, ep, &c, err);
                    if (t < 0)
                        return reef_err_wrap(err, "%s", what);
                    continue;
                }
                if (strcasecmp(c.scheme, "Basic") == 0 && !use_basic && e->cfg &&
                    e->cfg->username) {
                    use_basic = true;
                    continue;
                }
            }
            bool creds = e->cfg && e->cfg->username;
            return reef_err_set(err, -EACCES, "%s: 401 unauthorized by %s (%s)", what, e->host,
                                creds ? "bad credentials" : "no credentials configured");
        }
        bool transient = reef_registry_transient(res, q->status);
        /* A silent server costs a whole timeout per try: give it one more chance only. */
        if (res == -ETIMEDOUT && attempt < r->attempts - 2)
            attempt = r->attempts - 2;
        if (!transient || ++attempt >= r->attempts) {
            if (res < 0)
                return reef_err_set(err, res, "%s: %s", what, q->err.msg);
            return 0;
        }
        LOG_DEBUG("registry", "%s: retrying after %s", what,
                  res < 0 ? q->err.msg : "a server error");
        sleep_ms(backoff);
        backoff *= 2;
    }
}

static int status_error(const struct req *q, const char *what, const char *host,
                        struct reef_err *err)
{
    char detail[200] = "";
    if (q->body.data && q->body.len) {
        /* Registries answer {"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}. */
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        if (reef_json_parse(&d, q->body.data, q->body.len, NULL, NULL) == 0) {
            int m = reef_json_find(&d, REEF_JSON_ROOT, "errors[0].message", NULL);
            if (m >= 0)
                reef_json_get_str(&d, m, detail, sizeof(detail), NULL);
        }
        reef_json_doc_free(&d);
    }
    int code = q->status == 404   ? -ENOENT
               : q->status == 403 ? -EACCES
               : q->status == 416 ? -ERANGE
                                  : -EPROTO;
    return reef_err_set(err, code, "%s: %s answered HTTP %d%s%s", what, host, q->status,
                        detail[0] ? ": " : "", detail);
}

/* Runs q against the endpoints in turn. Falls through to the next endpoint on a transport error
 * or a 404 from a mirror; keeps the most telling error. */
static int get_any(struct reef_registry *r, struct req *q, const char *suffix, const char *what,
                   struct reef_err *err)
{
    struct reef_err best = {0};
    int best_rc = 0, best_rank = 0;
    pthread_mutex_lock(&r->mu);
    int start = r->cur;
    pthread_mutex_unlock(&r->mu);
    for (int k = 0; k < r->neps; k++) {
        int i = (start + k) % r->neps;
        const struct reef_registry_endpoint *e = &r->eps[i];
        char url[1024];
        int w = snprintf(url, sizeof(url), "%s/v2/%s%s", e->base, e->path, suffix);
        if (w < 0 || (size_t)w >= sizeof(url))
            return reef_err_set(err, -ENAMETOOLONG, "%s: URL too long", what);
        q->url = url;
        struct reef_err e1;
        reef_err_clear(&e1);
        int rc = do_get(r, i, q, what, &e1);
        if (rc == 0 && (q->status == 200 || q->status == 206)) {
            pthread_mutex_lock(&r->mu);
            r->cur = i;
            pthread_mutex_unlock(&r->mu);
            q->url = NULL;
            return 0;
        }
        if (rc == 0)
            rc = status_error(q, what, e->host, &e1);
        q->url = NULL;
        /* An HTTP answer (401, 404) beats a transport error from a fallback endpoint. */
        /* A TLS handshake that met plain HTTP says only "try http", which the next endpoint
         * does; any other failure says more. */
        int rank = e->fallback && q->status == 400        ? 0 /* an HTTPS server */
                   : q->status > 0 || rc == -EACCES       ? 3
                   : strstr(e1.msg, "invalid SSL record") ? 1
                                                          : 2;
        if (rank > best_rank || best_rc == 0) {
            best = e1;
            best_rc = rc;
            best_rank = rank;
        }
        if (q->fn && q->delivered > 0)
            break; /* a partly delivered blob cannot switch endpoints */
        if (rc == -EACCES && !e->is_mirror)
            break;
    }
    if (err)
        *err = best;
    return best_rc;
}

int reef_registry_ping(struct reef_registry *r, struct reef_err *err)
{
    struct req q = {.max = ERR_BODY_MAX};
    struct reef_err e1;
    reef_err_clear(&e1);
    int rc = -EIO;
    for (int i = 0; i < r->neps; i++) {
        char url[512];
        snprintf(url, sizeof(url), "%s/v2/", r->eps[i].base);
        q.url = url;
        rc = do_get(r, i, &q, "ping", &e1);
        if (rc == 0 && q.status == 200) {
            r->cur = i;
            break;
        }
        if (rc == 0)
            rc = status_error(&q, "ping", r->eps[i].host, &e1);
    }
    reef_buf_free(&q.body);
    if (rc < 0 && err)
        *err = e1;
    return rc < 0 ? rc : 0;
}

int reef_registry_manifest(struct reef_registry *r, const char *reference, struct reef_buf *body,
                           char *media_type, char *digest, struct reef_err *err)
{
    char suffix[300], what[400];
    snprintf(suffix, sizeof(suffix), "/manifests/%s", reference);
    snprintf(what, sizeof(what), "manifest %s", reference);
    struct req q = {.accept = REEF_MANIFEST_ACCEPT, .max = REEF_MANIFEST_MAX};
    int rc = get_any(r, &q, suffix, what, err);
    if (rc < 0) {
        reef_buf_free(&q.body);
        return rc;
    }
    char hex[REEF_SHA256_HEX_LEN + 1];
    reef_crypto_sha256_hex(q.body.data ? q.body.data : "", q.body.len, hex);
    snprintf(digest, REEF_DIGEST_MAX, "sha256:%s", hex);
    if (strchr(reference, ':') && strcmp(reference, digest) != 0) {
        reef_buf_free(&q.body);
        return reef_err_set(err, -EBADMSG, "%s: content has digest %s", what, digest);
    }
    /* Content-Type may carry parameters; the document's mediaType is the fallback. */
    char mt[128];
    size_t l = strcspn(q.content_type, ";");
    while (l > 0 && q.content_type[l - 1] == ' ')
        l--;
    memcpy(mt, q.content_type, l);
    mt[l] = '\0';
    if (!reef_registry_manifest_kind(mt)) {
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        if (reef_json_parse(&d, q.body.data ? q.body.data : "", q.body.len, NULL, NULL) == 0) {
            int v = reef_json_member(&d, REEF_JSON_ROOT, "mediaType");
            char m2[128];
            if (v >= 0 && reef_json_get_str(&d, v, m2, sizeof(m2), NULL) == 0 &&
                (reef_registry_manifest_kind(m2) || !mt[0] || strcmp(mt, "application/json") == 0))
                reef_strlcpy(mt, m2, sizeof(mt));
        }
        reef_json_doc_free(&d);
    }
    if (!reef_registry_manifest_kind(mt)) {
        reef_buf_free(&q.body);
        return reef_err_set(err, -EPROTONOSUPPORT, "%s: unsupported media type \"%s\"", what,
                            mt[0] ? mt : "(none)");
    }
    reef_strlcpy(media_type, mt, 128);
    int ar = reef_buf_append(body, q.body.data ? q.body.data : "", q.body.len);
    reef_buf_free(&q.body);
    return ar < 0 ? reef_err_set(err, -ENOMEM, "%s: out of memory", what) : 0;
}

int reef_registry_blob(struct reef_registry *r, const char *digest, reef_registry_data_fn fn,
                       void *ud, struct reef_err *err)
{
    char suffix[160], what[160];
    snprintf(suffix, sizeof(suffix), "/blobs/%s", digest);
    snprintf(what, sizeof(what), "blob %.19s", digest);
    struct req q = {.fn = fn, .ud = ud, .max = ERR_BODY_MAX};
    int rc = get_any(r, &q, suffix, what, err);
    reef_buf_free(&q.body);
    return rc;
}
