/* Tests for orchestrate/pki's material in use: join tokens, a TLS handshake with the admin
 * certificate against the serving certificate, and kubectl against a TLS server made from the
 * material. The material on disk is tested in test_pki.c. */

#include "orchestrate/pki.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>
#include <signal.h>
#include <uv.h>

#include "core/crypto.h"
#include "core/http_server.h"
#include "orchestrate/kubeconfig.h"
#include "tests/unit/pki_fixture.h"
#include "tests/unit/test.h"

static void test_tokens(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    /* An operator pre-seeds the join secret, k3s-style. */
    CHECK_INT(mkdir(path(""), 0700), ==, 0);
    write_text(path("token"), "  s3cret-Value \n", 0600);
    struct reef_pki *p = ensure(&o);
    CHECK(reef_pki_changes(p) & REEF_PKI_NEW_JOIN_TOKEN);
    char want[200];
    snprintf(want, sizeof(want), "K10%s::server:s3cret-Value", reef_pki_ca_hash(p));
    CHECK_STR(reef_pki_join_token(p), want);
    CHECK(reef_pki_check_join_token(p, want));
    CHECK(reef_pki_check_join_token(p, "s3cret-Value"));
    CHECK(!reef_pki_check_join_token(p, "s3cret-Valuf"));
    CHECK(!reef_pki_check_join_token(p, "s3cret-Value "));
    CHECK(!reef_pki_check_join_token(p, ""));
    CHECK(!reef_pki_check_join_token(p, NULL));
    /* The full form with another CA's hash is refused. */
    char other[200];
    snprintf(other, sizeof(other), "K10%064d::server:s3cret-Value", 0);
    CHECK(!reef_pki_check_join_token(p, other));
    /* The join secret is not an admin credential, and vice versa. */
    CHECK(!reef_pki_check_token(p, "s3cret-Value"));
    CHECK(!reef_pki_check_token(p, want));
    CHECK(reef_pki_check_token(p, reef_pki_admin_token(p)));
    CHECK(!reef_pki_check_join_token(p, reef_pki_admin_token(p)));
    char tok[64];
    snprintf(tok, sizeof(tok), "%s", reef_pki_admin_token(p));
    tok[31] ^= 1;
    CHECK(!reef_pki_check_token(p, tok));
    tok[31] = '\0';
    CHECK(!reef_pki_check_token(p, tok));
    CHECK(!reef_pki_check_token(p, NULL));
    CHECK(!reef_pki_check_token(p, ""));
    reef_pki_free(p);

    /* The file now holds the full form and stays as it is. */
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "cat %s", path("token"));
    char *t = run(cmd);
    char line[256];
    snprintf(line, sizeof(line), "%s\n", want);
    CHECK_STR(t, line);
    free(t);
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, 0);
    CHECK_STR(reef_pki_join_token(p), want);
    reef_pki_free(p);

    /* A token pinning another CA (the CA files were replaced) is rewritten for this CA. */
    write_text(path("token"), other, 0600);
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, REEF_PKI_NEW_JOIN_TOKEN);
    CHECK_STR(reef_pki_join_token(p), want);
    reef_pki_free(p);

    /* Malformed token files stop the start, naming the file. */
    const char *bad[] = {"K10abc", "K10abc::node:x", "two words", "K10abc::server:", "a:b"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        write_text(path("token"), bad[i], 0600);
        struct reef_pki *q = NULL;
        int r = reef_pki_ensure(&o, &q, &err);
        if (r != -EINVAL || !strstr(err.msg, "/server/token"))
            TEST_FAIL("token \"%s\": %d %s", bad[i], r, err.msg);
    }
    write_text(path("token"), want, 0600);
    write_text(path("admin-token"), "has space\n", 0600);
    CHECK_INT(reef_pki_ensure(&o, &p, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "admin-token") != NULL);
    write_text(path("admin-token"), "operator-chosen:token\n", 0600);
    p = ensure(&o);
    CHECK_STR(reef_pki_admin_token(p), "operator-chosen:token");
    CHECK(reef_pki_check_token(p, "operator-chosen:token"));
    reef_pki_free(p);
}

/* Without explicit addresses, every up, non-loopback, non-link-local address is a SAN. */
static void move(struct reef_tls *from, struct reef_tls *to)
{
    struct reef_buf *o = reef_tls_out(from);
    if (o->len) {
        CHECK_INT(reef_tls_feed(to, o->data, o->len), ==, 0);
        reef_buf_reset(o);
    }
}

/* The material works for what it is for: a TLS server with the serving certificate and the CA
 * as client CA, and a client holding the CA and the admin certificate, reaching it by the
 * addresses and names kubectl and pods use. */
static void test_tls_handshake(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    struct reef_pki *p = ensure(&o);
    struct reef_tls_server_opts so;
    reef_pki_tls_server_opts(p, &so);
    struct reef_tls_config *sc = reef_tls_config_server_new(&so, &err);
    if (!sc)
        TEST_FAIL("server config: %s", err.msg);
    struct reef_tls_client_opts co = {.ca_pem = reef_pki_ca_pem(p),
                                      .cert_pem = reef_pki_admin_cert_pem(p),
                                      .key_pem = reef_pki_admin_key_pem(p)};
    struct reef_tls_config *cc = reef_tls_config_client_new(&co, &err);
    if (!cc)
        TEST_FAIL("client config: %s", err.msg);
    const char *hosts[] = {"127.0.0.1", "kubernetes.default.svc", "10.43.0.1", "node-1"};
    for (size_t h = 0; h < REEF_ARRAY_LEN(hosts); h++) {
        struct reef_err cerr = {0}, serr = {0};
        struct reef_tls *s = reef_tls_new(sc, NULL, &serr);
        struct reef_tls *c = reef_tls_new(cc, hosts[h], &cerr);
        CHECK(s && c);
        int rc = 0, rs = 0;
        for (int i = 0; i < 50 && (rc == 0 || rs == 0) && rc >= 0 && rs >= 0; i++) {
            if (rc == 0)
                rc = reef_tls_handshake(c, &cerr);
            move(c, s);
            if (rs == 0)
                rs = reef_tls_handshake(s, &serr);
            move(s, c);
        }
        if (rc != 1 || rs != 1)
            TEST_FAIL("%s: client %d %s / server %d %s", hosts[h], rc, cerr.msg, rs, serr.msg);
        CHECK(reef_tls_peer_verified(s));
        CHECK_STR(reef_tls_peer_cn(s), "system:admin");
        CHECK_STR(reef_tls_peer_o(s, 0), "system:masters");
        reef_tls_free(c);
        reef_tls_free(s);
    }
    /* A name the certificate does not carry is refused by the client. */
    struct reef_err cerr = {0}, serr = {0};
    struct reef_tls *s = reef_tls_new(sc, NULL, &serr);
    struct reef_tls *c = reef_tls_new(cc, "elsewhere.example", &cerr);
    int rc = 0;
    for (int i = 0; i < 50 && rc == 0; i++) {
        rc = reef_tls_handshake(c, &cerr);
        move(c, s);
        if (reef_tls_handshake(s, &serr) < 0)
            break;
        move(s, c);
    }
    CHECK_INT(rc, <, 0);
    reef_tls_free(c);
    reef_tls_free(s);
    reef_tls_config_unref(sc);
    reef_tls_config_unref(cc);
    reef_pki_free(p);
}

/* ---- kubectl against a TLS server made from the material ------------------------------------ */

/* A minimal API endpoint: /version as kube-api.md says (the kubectl dispatcher asks it first)
 * and /whoami, which tells how the request authenticated: by a client certificate that verified
 * against the CA, or by the admin bearer token. Anything else is 401. */
static void api_handler(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    const struct reef_pki *pki = ud;
    const char *auth = reef_http_req_header(req, "Authorization");
    char who[256] = "";
    if (req->peer_verified)
        snprintf(who, sizeof(who), "cert %s %s", req->peer_cn,
                 req->peer_orgs[0] ? req->peer_orgs[0] : "-");
    else if (auth && reef_str_has_prefix(auth, "Bearer ") &&
             reef_pki_check_token(pki, auth + strlen("Bearer ")))
        snprintf(who, sizeof(who), "token admin");
    if (!who[0]) {
        static const char status[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
                                     "\"Failure\",\"message\":\"Unauthorized\",\"reason\":"
                                     "\"Unauthorized\",\"code\":401}";
        reef_http_res_send(res, 401, "application/json", status, strlen(status));
        return;
    }
    char body[512];
    if (strcmp(req->path, "/version") == 0)
        snprintf(body, sizeof(body),
                 "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":"
                 "\"v1.32.0\",\"platform\":\"linux/amd64\"}");
    else if (strcmp(req->path, "/whoami") == 0)
        snprintf(body, sizeof(body), "{\"who\":\"%s\"}", who);
    else
        snprintf(body, sizeof(body), "{}");
    reef_http_res_send(res, 200, "application/json", body, strlen(body));
}

struct api {
    pthread_t th;
    uv_loop_t loop;
    uv_async_t stop;
    struct reef_http_server *s;
    struct reef_tls_config *tls;
    struct reef_pki *pki;
    int ready[2];
    int port;
};

static void api_closed(void *ud)
{
    struct api *a = ud;
    reef_http_server_free(a->s);
    a->s = NULL;
}

static void api_stop(uv_async_t *h)
{
    struct api *a = h->data;
    uv_close((uv_handle_t *)&a->stop, NULL);
    reef_http_server_shutdown(a->s, 0, api_closed, a);
}

static void *api_main(void *arg)
{
    struct api *a = arg;
    struct reef_err e = {0};
    struct reef_http_server_opts o = {
        .addr = "127.0.0.1", .tls = a->tls, .handler = api_handler, .ud = a->pki};
    a->s = reef_http_server_new(&a->loop, &o, &e);
    if (!a->s) {
        fprintf(stderr, "server: %s\n", e.msg);
        exit(1);
    }
    a->port = reef_http_server_port(a->s);
    (void)!write(a->ready[1], "x", 1);
    uv_run(&a->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&a->loop), ==, 0);
    return NULL;
}

/* kubectl's answer for /whoami with kubeconfig kc, or NULL when it failed (its stderr in why). */
static char *kubectl_whoami(const char *kc, char *why, size_t why_size)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "env -u KUBECONFIG HOME=%s kubectl --kubeconfig %s --cache-dir %s/cache "
             "--request-timeout 10s get --raw /whoami 2>%s/stderr",
             dir, kc, dir, dir);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        CHECK_INT(reef_buf_append(&b, chunk, n), ==, 0);
    int st = pclose(f);
    snprintf(cmd, sizeof(cmd), "%s/stderr", dir);
    FILE *ef = fopen(cmd, "r");
    size_t m = ef ? fread(why, 1, why_size - 1, ef) : 0;
    why[m] = '\0';
    if (ef)
        fclose(ef);
    if (st != 0) {
        reef_buf_free(&b);
        return NULL;
    }
    return b.data ? reef_buf_steal(&b) : strdup("");
}

/* The real kubectl (Go's TLS stack) accepts the serving certificate by IP and by name, presents
 * the admin certificate, which the server maps to system:admin in system:masters, and a token
 * kubeconfig works too; a wrong token and a foreign CA fail. */
static void test_kubectl_over_tls(void)
{
    if (system("command -v kubectl >/dev/null 2>&1") != 0)
        TEST_FAIL("kubectl is not installed");
    signal(SIGPIPE, SIG_IGN);
    make_dir();
    struct reef_pki_opts o = opts();
    struct api a = {0};
    a.pki = ensure(&o);
    struct reef_tls_server_opts to;
    reef_pki_tls_server_opts(a.pki, &to);
    a.tls = reef_tls_config_server_new(&to, &err);
    if (!a.tls)
        TEST_FAIL("tls: %s", err.msg);
    CHECK_INT(uv_loop_init(&a.loop), ==, 0);
    CHECK_INT(uv_async_init(&a.loop, &a.stop, api_stop), ==, 0);
    a.stop.data = &a;
    CHECK_INT(pipe(a.ready), ==, 0);
    CHECK_INT(pthread_create(&a.th, NULL, api_main, &a), ==, 0);
    char c;
    CHECK_INT(read(a.ready[0], &c, 1), ==, 1);

    char server[64], kc[160], why[2048];
    struct {
        const char *host, *token, *want;
    } cases[] = {
        {"127.0.0.1", NULL, "{\"who\":\"cert system:admin system:masters\"}"},
        {"localhost", NULL, "{\"who\":\"cert system:admin system:masters\"}"},
        {"127.0.0.1", reef_pki_admin_token(a.pki), "{\"who\":\"token admin\"}"},
    };
    snprintf(kc, sizeof(kc), "%s/kc.yaml", dir);
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        snprintf(server, sizeof(server), "https://%s:%d", cases[i].host, a.port);
        struct reef_kubeconfig_write_opts ko = {
            .path = kc,
            .server = server,
            .ca_pem = reef_pki_ca_pem(a.pki),
            .cert_pem = cases[i].token ? NULL : reef_pki_admin_cert_pem(a.pki),
            .key_pem = cases[i].token ? NULL : reef_pki_admin_key_pem(a.pki),
            .token = cases[i].token,
        };
        CHECK_OK(reef_kubeconfig_write(&ko, &err), &err);
        char *out = kubectl_whoami(kc, why, sizeof(why));
        if (!out)
            TEST_FAIL("kubectl via %s: %s", server, why);
        CHECK_STR(out, cases[i].want);
        free(out);
    }

    /* A wrong token: the server says 401 and kubectl fails. */
    snprintf(server, sizeof(server), "https://127.0.0.1:%d", a.port);
    struct reef_kubeconfig_write_opts ko = {
        .path = kc, .server = server, .ca_pem = reef_pki_ca_pem(a.pki), .token = "wrong"};
    CHECK_OK(reef_kubeconfig_write(&ko, &err), &err);
    char *out = kubectl_whoami(kc, why, sizeof(why));
    CHECK(out == NULL);
    if (!strstr(why, "Unauthorized"))
        TEST_FAIL("kubectl with a wrong token: %s", why);

    /* Another cluster's CA: kubectl refuses the server. */
    struct reef_ca *other = NULL;
    char *other_pem = NULL;
    CHECK_OK(reef_cert_ca_create("other", 10, 0, &other, &err), &err);
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(other), &other_pem, NULL, &err), &err);
    ko.ca_pem = other_pem;
    ko.token = reef_pki_admin_token(a.pki);
    CHECK_OK(reef_kubeconfig_write(&ko, &err), &err);
    out = kubectl_whoami(kc, why, sizeof(why));
    CHECK(out == NULL);
    if (!strstr(why, "certificate"))
        TEST_FAIL("kubectl trusting another CA: %s", why);
    free(other_pem);
    reef_cert_ca_free(other);

    CHECK_INT(uv_async_send(&a.stop), ==, 0);
    CHECK_INT(pthread_join(a.th, NULL), ==, 0);
    close(a.ready[0]);
    close(a.ready[1]);
    reef_tls_config_unref(a.tls);
    reef_pki_free(a.pki);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_tokens);
    TEST_RUN(test_tls_handshake);
    TEST_RUN(test_kubectl_over_tls);
    return test_done();
}
