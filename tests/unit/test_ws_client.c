/* core/ws_client against core/http_server's WebSocket support over real loopback sockets, plain
 * and TLS: the upgrade and subprotocol choice, messages both ways (masked, large ones intact), the
 * server's close, refusals (the status and body of an answer that did not upgrade), and failures
 * to connect or to trust the server. The server (an echo at /ws offering v5.channel.k8s.io and
 * v4.channel.k8s.io) runs on its own loop in a thread: http_fixture.h. */
#include "core/ws_client.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_FIXTURE_SERVER
#include "tests/unit/http_fixture.h"
#include "tests/unit/test.h"

struct got {
    int n;
    enum reef_ws_opcode op;
    struct reef_buf data;
};

static int on_msg(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    struct got *g = ud;
    g->n++;
    g->op = op;
    reef_buf_reset(&g->data);
    reef_buf_append(&g->data, data, len);
    return 0;
}

/* Reads until one more message came or the connection ended; returns the last read's result. */
static int read_one(struct reef_ws_client *c, struct got *g)
{
    int before = g->n, r = 1;
    struct reef_err err = {0};
    while (g->n == before) {
        if (!reef_ws_client_pending(c)) {
            struct pollfd p = {reef_ws_client_fd(c), POLLIN, 0};
            CHECK_INT(poll(&p, 1, 5000), ==, 1);
        }
        r = reef_ws_client_read(c, on_msg, g, &err);
        if (r < 0)
            TEST_FAIL("read: %s", err.msg);
        if (r == 0)
            break;
    }
    return r;
}

static char url[128];

static const char *ws_url(const char *scheme, const char *path)
{
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", scheme, S.port, path);
    return url;
}

/* Echo of text and binary messages, a message larger than a TCP window, and the server's
 * close. */
static void echo(const char *scheme, const struct reef_ws_client_opts *base)
{
    static const char *const protos[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};
    struct reef_ws_client_opts o = *base;
    o.protocols = protos;
    struct reef_ws_client *c = NULL;
    struct reef_http_result refused;
    struct reef_err err = {0};
    int r = reef_ws_client_open(&o, ws_url(scheme, "/ws?x=1"), &c, &refused, &err);
    if (r < 0)
        TEST_FAIL("open: %s", err.msg);
    CHECK_STR(reef_ws_client_protocol(c), "v5.channel.k8s.io");
    CHECK_INT(refused.status, ==, 0);
    struct got g = {.data = REEF_BUF_INIT};
    CHECK_INT(reef_ws_client_send(c, REEF_WS_TEXT, "hello", 5, &err), ==, 0);
    CHECK_INT(read_one(c, &g), ==, 1);
    CHECK_INT(g.op, ==, REEF_WS_TEXT);
    CHECK_INT(g.data.len, ==, 5);
    CHECK(memcmp(g.data.data, "hello", 5) == 0);
    /* binary with every byte value, and an empty message */
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    CHECK_INT(reef_ws_client_send(c, REEF_WS_BINARY, all, sizeof(all), &err), ==, 0);
    CHECK_INT(read_one(c, &g), ==, 1);
    CHECK_INT(g.op, ==, REEF_WS_BINARY);
    CHECK_INT(g.data.len, ==, 256);
    CHECK(memcmp(g.data.data, all, 256) == 0);
    CHECK_INT(reef_ws_client_send(c, REEF_WS_BINARY, "", 0, &err), ==, 0);
    CHECK_INT(read_one(c, &g), ==, 1);
    CHECK_INT(g.data.len, ==, 0);
    /* 3 MB: many TCP segments and TLS records each way */
    size_t n = 3u << 20;
    uint8_t *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (uint8_t)(i * 131 + 7);
    CHECK_INT(reef_ws_client_send(c, REEF_WS_BINARY, big, n, &err), ==, 0);
    CHECK_INT(read_one(c, &g), ==, 1);
    CHECK_INT(g.data.len, ==, n);
    CHECK(memcmp(g.data.data, big, n) == 0);
    free(big);
    /* only data messages are the caller's to send */
    CHECK_INT(reef_ws_client_send(c, REEF_WS_PING, "x", 1, &err), ==, -EINVAL);
    /* "close" makes the server close with 1000 */
    CHECK_INT(reef_ws_client_close_code(c), ==, 0);
    CHECK_INT(reef_ws_client_send(c, REEF_WS_TEXT, "close", 5, &err), ==, 0);
    CHECK_INT(read_one(c, &g), ==, 0);
    CHECK_INT(reef_ws_client_close_code(c), ==, 1000);
    CHECK_INT(reef_ws_client_send(c, REEF_WS_TEXT, "late", 4, &err), ==, -EPIPE);
    reef_ws_client_free(c);
    reef_buf_free(&g.data);
}

static void test_echo_plain(void)
{
    srv_start(NULL);
    struct reef_ws_client_opts o = {0};
    echo("ws", &o);
    echo("http", &o);
    srv_stop();
}

static void test_echo_tls(void)
{
    make_certs();
    srv_start_tls(NULL, false);
    struct reef_ws_client_opts o = {.ca_file = path("ca.crt")};
    echo("wss", &o);
    echo("https", &o);
    /* a server this CA did not sign is refused at the handshake */
    struct reef_ws_client_opts bad = {.ca_file = path("otherca.crt")};
    struct reef_ws_client *c = (struct reef_ws_client *)1;
    struct reef_err err = {0};
    CHECK(reef_ws_client_open(&bad, ws_url("https", "/ws"), &c, NULL, &err) < 0);
    CHECK(c == NULL);
    CHECK(strstr(err.msg, "tls") != NULL);
    /* unless verification is off */
    bad.insecure_skip_verify = true;
    CHECK_INT(reef_ws_client_open(&bad, ws_url("https", "/ws"), &c, NULL, &err), ==, 0);
    reef_ws_client_free(c);
    srv_stop();
    rm_certs();
}

static void test_refused(void)
{
    srv_start(NULL);
    struct reef_ws_client_opts o = {0};
    struct reef_ws_client *c = NULL;
    struct reef_http_result res;
    struct reef_err err = {0};
    /* an ordinary answer: its status and body are the caller's */
    CHECK_INT(reef_ws_client_open(&o, ws_url("http", "/hello"), &c, &res, &err), ==, -EPROTO);
    CHECK(c == NULL);
    CHECK_INT(res.status, ==, 200);
    CHECK_STR(res.body, "hello");
    reef_http_result_free(&res);
    CHECK_INT(reef_ws_client_open(&o, ws_url("http", "/nosuch"), &c, &res, &err), ==, -EPROTO);
    CHECK_INT(res.status, ==, 404);
    CHECK_STR(res.body, "not found");
    reef_http_result_free(&res);
    /* no protocol the server speaks: it says 400 */
    static const char *const other[] = {"v9.example", NULL};
    o.protocols = other;
    CHECK_INT(reef_ws_client_open(&o, ws_url("http", "/ws"), &c, &res, &err), ==, -EPROTO);
    CHECK_INT(res.status, ==, 400);
    reef_http_result_free(&res);
    /* the server is still there for others */
    o.protocols = NULL;
    CHECK_INT(reef_ws_client_open(&o, ws_url("http", "/ws"), &c, NULL, &err), ==, 0);
    CHECK_STR(reef_ws_client_protocol(c), "");
    reef_ws_client_free(c);
    int port = S.port;
    srv_stop();
    /* nobody listening */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/ws", port);
    CHECK_INT(reef_ws_client_open(&o, url, &c, &res, &err), ==, -ECONNREFUSED);
    CHECK_INT(res.status, ==, 0);
    /* what is not a URL it can use */
    CHECK_INT(reef_ws_client_open(&o, "ftp://127.0.0.1/x", &c, NULL, &err), ==, -EINVAL);
    CHECK_INT(reef_ws_client_open(&o, "http://:80/x", &c, NULL, &err), ==, -EINVAL);
    CHECK_INT(reef_ws_client_open(&o, "http://[::1/x", &c, NULL, &err), ==, -EINVAL);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    TEST_RUN(test_echo_plain);
    TEST_RUN(test_echo_tls);
    TEST_RUN(test_refused);
    return test_done();
}
