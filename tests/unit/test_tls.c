/* Tests for core/tls: in-memory handshakes between a client and a server session, with
 * certificates made at test time by the openssl command-line tool. */
#include "core/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/http_fixture.h"
#include "tests/unit/test.h"

static char *slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    CHECK(f != NULL);
    static char buf[1];
    (void)buf;
    char *s = malloc(65536);
    size_t n = fread(s, 1, 65535, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

static struct reef_tls_config *server_cfg(bool client_ca)
{
    struct reef_err err = {0};
    struct reef_tls_server_opts o = {.cert_file = path("server.crt"),
                                     .key_file = path("server.key"),
                                     .client_ca_file = client_ca ? path("ca.crt") : NULL};
    struct reef_tls_config *c = reef_tls_config_server_new(&o, &err);
    if (!c)
        TEST_FAIL("server config: %s", err.msg);
    return c;
}

static struct reef_tls_config *client_cfg(const char *ca, const char *cert)
{
    struct reef_err err = {0};
    char crt[64], key[64];
    snprintf(crt, sizeof(crt), "%s.crt", cert ? cert : "");
    snprintf(key, sizeof(key), "%s.key", cert ? cert : "");
    char cafile[64];
    snprintf(cafile, sizeof(cafile), "%s.crt", ca);
    struct reef_tls_client_opts o = {.ca_file = path(cafile),
                                     .cert_file = cert ? path(crt) : NULL,
                                     .key_file = cert ? path(key) : NULL};
    struct reef_tls_config *c = reef_tls_config_client_new(&o, &err);
    if (!c)
        TEST_FAIL("client config: %s", err.msg);
    return c;
}

static void move(struct reef_tls *from, struct reef_tls *to)
{
    struct reef_buf *o = reef_tls_out(from);
    if (o->len) {
        CHECK_INT(reef_tls_feed(to, o->data, o->len), ==, 0);
        reef_buf_reset(o);
    }
}

/* Runs both ends until both finished or one failed; returns the client's result and fills errs. */
static int pump(struct reef_tls *c, struct reef_tls *s, struct reef_err *cerr,
                struct reef_err *serr, int *sret)
{
    int rc = 0, rs = 0;
    for (int i = 0; i < 50; i++) {
        if (rc == 0)
            rc = reef_tls_handshake(c, cerr);
        move(c, s);
        if (rs == 0)
            rs = reef_tls_handshake(s, serr);
        move(s, c);
        if ((rc != 0 && rs != 0) || rc < 0 || rs < 0)
            break;
    }
    /* a failing side sends an alert: let the other see it */
    if (rs == 0 && rc < 0)
        rs = reef_tls_handshake(s, serr);
    if (rc == 0 && rs < 0)
        rc = reef_tls_handshake(c, cerr);
    *sret = rs;
    return rc;
}

static void test_handshake_and_data(void)
{
    make_certs();
    struct reef_err err = {0}, serr = {0};
    struct reef_tls_config *sc = server_cfg(true), *cc = client_cfg("ca", NULL);
    CHECK(reef_tls_config_is_server(sc));
    CHECK(!reef_tls_config_is_server(cc));
    const char *hosts[] = {"127.0.0.1", "localhost"};
    for (size_t h = 0; h < 2; h++) {
        struct reef_tls *s = reef_tls_new(sc, NULL, &err);
        struct reef_tls *c = reef_tls_new(cc, hosts[h], &err);
        CHECK(s && c);
        int rs;
        int rc = pump(c, s, &err, &serr, &rs);
        if (rc != 1 || rs != 1)
            TEST_FAIL("%s: client %d %s / server %d %s", hosts[h], rc, err.msg, rs, serr.msg);
        CHECK(reef_tls_handshake_done(c) && reef_tls_handshake_done(s));
        CHECK_STR(reef_tls_alpn(s), "http/1.1");
        CHECK_STR(reef_tls_alpn(c), "http/1.1");
        CHECK(!reef_tls_peer_verified(s));
        CHECK_STR(reef_tls_peer_cn(s), "");
        CHECK(reef_tls_peer_o(s, 0) == NULL);

        /* 1 MiB client → server, across many records */
        size_t big = 1 << 20;
        unsigned char *msg = malloc(big), *got = malloc(big);
        for (size_t i = 0; i < big; i++)
            msg[i] = (unsigned char)(i * 7 + 3);
        CHECK_OK(reef_tls_write(c, msg, big, &err), &err);
        move(c, s);
        size_t n = 0;
        while (n < big) {
            ssize_t r = reef_tls_read(s, got + n, big - n, &serr);
            CHECK_INT(r, >, 0);
            n += (size_t)r;
        }
        CHECK(memcmp(msg, got, big) == 0);
        CHECK_INT(reef_tls_read(s, got, big, &serr), ==, -EAGAIN);
        /* and back */
        CHECK_OK(reef_tls_write(s, "pong", 4, &serr), &serr);
        move(s, c);
        char b[16];
        CHECK_INT(reef_tls_read(c, b, sizeof(b), &err), ==, 4);
        CHECK(memcmp(b, "pong", 4) == 0);
        /* orderly close */
        reef_tls_close_notify(c);
        move(c, s);
        CHECK_INT(reef_tls_read(s, b, sizeof(b), &serr), ==, 0);
        free(msg);
        free(got);
        reef_tls_free(c);
        reef_tls_free(s);
    }
    reef_tls_config_unref(sc);
    reef_tls_config_unref(cc);
    rm_certs();
}

static void test_client_identity(void)
{
    make_certs();
    struct reef_err err = {0}, serr = {0};
    struct reef_tls_config *sc = server_cfg(true);
    /* trusted client certificate: CN and both O values */
    struct reef_tls_config *cc = client_cfg("ca", "client");
    struct reef_tls *s = reef_tls_new(sc, NULL, &err), *c = reef_tls_new(cc, "localhost", &err);
    int rs;
    CHECK_INT(pump(c, s, &err, &serr, &rs), ==, 1);
    CHECK_INT(rs, ==, 1);
    CHECK(reef_tls_peer_verified(s));
    CHECK_STR(reef_tls_peer_cn(s), "alice");
    CHECK_STR(reef_tls_peer_o(s, 0), "system:masters");
    CHECK_STR(reef_tls_peer_o(s, 1), "reef:nodes");
    CHECK(reef_tls_peer_o(s, 2) == NULL);
    reef_tls_free(c);
    reef_tls_free(s);
    reef_tls_config_unref(cc);

    /* a certificate from another CA: served (tokens may still work) but no identity */
    cc = client_cfg("ca", "rogue");
    s = reef_tls_new(sc, NULL, &err);
    c = reef_tls_new(cc, "127.0.0.1", &err);
    CHECK_INT(pump(c, s, &err, &serr, &rs), ==, 1);
    CHECK_INT(rs, ==, 1);
    CHECK(!reef_tls_peer_verified(s));
    CHECK_STR(reef_tls_peer_cn(s), "");
    CHECK(reef_tls_peer_o(s, 0) == NULL);
    reef_tls_free(c);
    reef_tls_free(s);
    reef_tls_config_unref(cc);

    /* a server without a client CA never asks: the client's certificate is not seen */
    reef_tls_config_unref(sc);
    sc = server_cfg(false);
    cc = client_cfg("ca", "client");
    s = reef_tls_new(sc, NULL, &err);
    c = reef_tls_new(cc, "127.0.0.1", &err);
    CHECK_INT(pump(c, s, &err, &serr, &rs), ==, 1);
    CHECK(!reef_tls_peer_verified(s));
    reef_tls_free(c);
    reef_tls_free(s);
    reef_tls_config_unref(cc);
    reef_tls_config_unref(sc);
    rm_certs();
}

static void expect_fail(struct reef_tls_config *sc, struct reef_tls_config *cc, const char *host)
{
    struct reef_err err = {0}, serr = {0};
    struct reef_tls *s = reef_tls_new(sc, NULL, &err), *c = reef_tls_new(cc, host, &err);
    CHECK(s && c);
    int rs;
    int rc = pump(c, s, &err, &serr, &rs);
    CHECK_INT(rc, <, 0);
    CHECK_INT(rs, <, 0);
    if (!strstr(err.msg, "tls: handshake: certificate verify failed"))
        TEST_FAIL("unexpected message: %s", err.msg);
    CHECK(!reef_tls_handshake_done(c));
    /* failed stays failed */
    CHECK_INT(reef_tls_handshake(c, &err), <, 0);
    CHECK_INT(reef_tls_write(c, "x", 1, &err), <, 0);
    reef_tls_free(c);
    reef_tls_free(s);
}

static void test_verify_failures(void)
{
    make_certs();
    struct reef_tls_config *sc = server_cfg(true);
    struct reef_tls_config *cc = client_cfg("ca", NULL);
    expect_fail(sc, cc, "example.com");
    expect_fail(sc, cc, "127.0.0.2");
    expect_fail(sc, cc, "::1");
    reef_tls_config_unref(cc);
    cc = client_cfg("otherca", NULL);
    expect_fail(sc, cc, "localhost");
    reef_tls_config_unref(cc);
    reef_tls_config_unref(sc);
    rm_certs();
}

static void test_config_errors(void)
{
    make_certs();
    struct reef_err err = {0};
    struct reef_tls_server_opts o = {.cert_pem = "-----BEGIN CERTIFICATE-----\nnope\n",
                                     .key_file = path("server.key")};
    CHECK(reef_tls_config_server_new(&o, &err) == NULL);
    CHECK(strstr(err.msg, "tls: parse") != NULL);
    /* a key that is not the certificate's */
    char *crt = slurp(path("server.crt")), *key = slurp(path("client.key"));
    struct reef_tls_server_opts o2 = {.cert_pem = crt, .key_pem = key};
    CHECK(reef_tls_config_server_new(&o2, &err) == NULL);
    CHECK(strstr(err.msg, "does not match") != NULL);
    free(key);
    key = slurp(path("server.key"));
    o2.key_pem = key;
    struct reef_tls_config *c = reef_tls_config_server_new(&o2, &err);
    CHECK(c != NULL);
    reef_tls_config_unref(c);
    struct reef_tls_server_opts o3 = {.key_pem = key};
    CHECK(reef_tls_config_server_new(&o3, &err) == NULL);
    struct reef_tls_client_opts co = {.ca_file = path("missing.crt")};
    CHECK(reef_tls_config_client_new(&co, &err) == NULL);
    CHECK(strstr(err.msg, "missing.crt") != NULL);
    /* a client session needs a host */
    struct reef_tls_client_opts co2 = {.ca_pem = crt};
    c = reef_tls_config_client_new(&co2, &err);
    CHECK(c != NULL);
    CHECK(reef_tls_new(c, NULL, &err) == NULL);
    reef_tls_config_unref(c);
    free(crt);
    free(key);
    rm_certs();
}

static void test_system_bundle(void)
{
    if (access(REEF_TLS_SYSTEM_CA_FILE, R_OK) != 0)
        TEST_SKIP("no system CA bundle");
    struct reef_err err = {0};
    struct reef_tls_client_opts o = {0};
    struct reef_tls_config *c = reef_tls_config_client_new(&o, &err);
    if (!c)
        TEST_FAIL("%s", err.msg);
    reef_tls_config_unref(c);
}

/* Garbage instead of a ClientHello fails the handshake without harm. */
static void test_garbage(void)
{
    make_certs();
    struct reef_err err = {0};
    struct reef_tls_config *sc = server_cfg(false);
    struct reef_tls *s = reef_tls_new(sc, NULL, &err);
    CHECK_OK(reef_tls_feed(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27), &err);
    CHECK_INT(reef_tls_handshake(s, &err), <, 0);
    CHECK(strstr(err.msg, "tls: handshake") != NULL);
    reef_tls_free(s);
    reef_tls_config_unref(sc);
    rm_certs();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_handshake_and_data);
    TEST_RUN(test_client_identity);
    TEST_RUN(test_verify_failures);
    TEST_RUN(test_config_errors);
    TEST_RUN(test_system_bundle);
    TEST_RUN(test_garbage);
    return test_done();
}
