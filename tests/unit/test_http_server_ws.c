/* Streaming and WebSocket tests for core/http_server over real loopback sockets: streamed
 * request bodies, long-lived (watch) responses, and WebSocket upgrades over plain and TLS
 * connections. The server runs on its own loop in a thread; the test talks to it with blocking
 * sockets, writing raw bytes. The server and client fixture is in http_fixture.h. */
#include "core/http_server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_FIXTURE_SERVER
#include "tests/unit/http_fixture.h"
#include "tests/unit/test.h"

/* ---------- streaming ---------- */

static void test_streamed_upload(void)
{
    struct reef_http_server_opts o = {.max_body = 1 << 20, .on_head = head_hook};
    srv_start(&o);
    size_t n = 5000000;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31 + 7);
    struct bc *c = bc_open();
    char head[160];
    snprintf(head, sizeof(head), "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             n);
    bc_puts(c, head);
    bc_write(c, big, n);
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    reef_buf_putc(&r.body, '\0');
    CHECK_STR(r.body.data, "got 5000000");
    resp_free(&r);
    /* the same connection goes on */
    get_ok(c, "/hello", "hello");
    /* a consumer that pauses after every piece gets all of it, in order */
    snprintf(head, sizeof(head), "PUT /paced HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             n);
    bc_puts(c, head);
    bc_write(c, big, n);
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    reef_buf_putc(&r.body, '\0');
    CHECK_STR(r.body.data, "got 5000000 in many pieces");
    resp_free(&r);
    /* a body the stream callback refuses: 400 */
    bc_puts(c, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
    /* answered from the head: no 100 Continue, the connection is not reused */
    c = bc_open();
    bc_puts(c, "POST /reject HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               "Content-Length: 100000\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 401);
    CHECK(!r.keep_alive);
    resp_free(&r);
    bc_write(c, big, 100000); /* sent anyway: drained, not reset */
    CHECK(bc_eof(c));
    bc_close(c);
    /* Expect: 100-continue on an accepted request */
    c = bc_open();
    bc_puts(c, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
               "Content-Length: 2\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 100);
    resp_free(&r);
    bc_puts(c, "ok");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.body.len, ==, 2);
    resp_free(&r);
    bc_close(c);
    free(big);
    srv_stop();
}

static void test_streaming_watch(void)
{
    srv_start(NULL);
    struct bc *w = bc_open();
    bc_puts(w, "GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
    /* the head and the first event */
    while (!strstr(w->in.data ? w->in.data : "", "event 0\n"))
        CHECK_INT(bc_fill(w), >, 0);
    CHECK(strstr(w->in.data, "Transfer-Encoding: chunked") != NULL);
    /* while the watch is held open, other connections are served promptly */
    for (int i = 0; i < 5; i++) {
        double t0 = now_ms();
        still_serving();
        CHECK(now_ms() - t0 < 1000);
    }
    /* and events keep coming */
    while (!strstr(w->in.data, "event 5\n"))
        CHECK_INT(bc_fill(w), >, 0);
    CHECK_INT(atomic_load(&watch_closed), ==, 0);
    /* the client goes away: the handler is told */
    bc_close(w);
    for (int i = 0; i < 200 && atomic_load(&watch_closed) == 0; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&watch_closed), ==, 1);
    /* a watch still open at shutdown is closed after the grace period */
    w = bc_open();
    bc_puts(w, "GET /watch HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(bc_fill(w), >, 0);
    S.grace_ms = 100;
    srv_stop();
    CHECK_INT(atomic_load(&watch_closed), ==, 2);
    CHECK(bc_eof(w));
    bc_close(w);
}

/* ---------- WebSocket ---------- */

struct wsmsg {
    int op;
    struct reef_buf data;
};

/* Messages read from the server and not yet looked at. */
static struct wsmsg wsq[16];
static int wsq_n;

static int ws_collect(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    CHECK(wsq_n < 16);
    struct wsmsg *m = &wsq[wsq_n++];
    memset(m, 0, sizeof(*m));
    m->op = op;
    reef_buf_append(&m->data, data, len);
    return 0;
}

/* Reads one frame/message from the server. */
static void ws_read(struct bc *c, struct reef_ws_reader *rd, struct wsmsg *m)
{
    while (wsq_n == 0) {
        if (c->in.len) {
            int code;
            struct reef_err err;
            ssize_t n = reef_ws_reader_feed(rd, (const uint8_t *)c->in.data, c->in.len, ws_collect,
                                            NULL, &code, &err);
            if (n < 0)
                TEST_FAIL("ws: %s", err.msg);
            reef_buf_consume(&c->in, (size_t)n);
            continue;
        }
        if (bc_fill(c) <= 0)
            TEST_FAIL("ws: connection ended");
    }
    *m = wsq[0];
    memmove(wsq, wsq + 1, sizeof(wsq[0]) * (size_t)--wsq_n);
}

static const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};

static void ws_write(struct bc *c, bool fin, enum reef_ws_opcode op, const void *d, size_t n)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_ws_write_frame(&b, fin, op, d, n, mask), ==, 0);
    bc_write(c, b.data, b.len);
    reef_buf_free(&b);
}

static struct bc *ws_open(const char *protocols, struct resp *r)
{
    struct bc *c = bc_open();
    char req[512];
    snprintf(req, sizeof(req),
             "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
             "%s%s%s\r\n",
             protocols ? "Sec-WebSocket-Protocol: " : "", protocols ? protocols : "",
             protocols ? "\r\n" : "");
    bc_puts(c, req);
    CHECK_INT(bc_response(c, r, false), ==, 0);
    return c;
}

static void websocket_echo(void)
{
    atomic_store(&ws_close_code, 0);
    struct resp r;
    struct bc *c = ws_open("v4.channel.k8s.io, v5.channel.k8s.io", &r);
    CHECK_INT(r.status, ==, 101);
    CHECK_STR(hdr(&r, "sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_STR(hdr(&r, "sec-websocket-protocol"), "v5.channel.k8s.io");
    resp_free(&r);
    struct reef_ws_reader *rd = reef_ws_reader_new(false, 1 << 24);
    struct wsmsg m;
    /* text echo */
    ws_write(c, true, REEF_WS_TEXT, "hi there", 8);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_TEXT);
    CHECK_INT(m.data.len, ==, 8);
    CHECK(memcmp(m.data.data, "hi there", 8) == 0);
    reef_buf_free(&m.data);
    /* a fragmented binary message with a ping in between: pong first, then the echo */
    uint8_t bin[70000];
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (uint8_t)(i * 13);
    ws_write(c, false, REEF_WS_BINARY, bin, 30000);
    ws_write(c, true, REEF_WS_PING, "pp", 2);
    ws_write(c, true, REEF_WS_CONT, bin + 30000, sizeof(bin) - 30000);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_PONG);
    CHECK_INT(m.data.len, ==, 2);
    CHECK(memcmp(m.data.data, "pp", 2) == 0);
    reef_buf_free(&m.data);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_BINARY);
    CHECK_INT(m.data.len, ==, sizeof(bin));
    CHECK(memcmp(m.data.data, bin, sizeof(bin)) == 0);
    reef_buf_free(&m.data);
    CHECK_INT(atomic_load(&ws_drains), >, 0);
    /* client-initiated close: the server echoes the code and closes the TCP connection */
    struct reef_buf b = REEF_BUF_INIT;
    reef_ws_write_close(&b, 1000, "done", mask);
    bc_write(c, b.data, b.len);
    reef_buf_free(&b);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_CLOSE);
    CHECK_INT(m.data.len, >=, 2);
    CHECK_INT((uint8_t)m.data.data[0] << 8 | (uint8_t)m.data.data[1], ==, 1000);
    reef_buf_free(&m.data);
    CHECK(bc_eof(c));
    bc_close(c);
    reef_ws_reader_free(rd);
    for (int i = 0; i < 200 && atomic_load(&ws_close_code) == 0; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&ws_close_code), ==, 1000);

    /* server-initiated close */
    atomic_store(&ws_close_code, 0);
    c = ws_open(NULL, &r);
    CHECK_INT(r.status, ==, 101);
    CHECK(hdr(&r, "sec-websocket-protocol") == NULL);
    resp_free(&r);
    rd = reef_ws_reader_new(false, 1 << 20);
    ws_write(c, true, REEF_WS_TEXT, "close", 5);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_CLOSE);
    CHECK_INT((uint8_t)m.data.data[0] << 8 | (uint8_t)m.data.data[1], ==, 1000);
    CHECK(m.data.len == 5 && memcmp(m.data.data + 2, "bye", 3) == 0);
    reef_buf_free(&m.data);
    b = (struct reef_buf)REEF_BUF_INIT;
    reef_ws_write_close(&b, 1000, "", mask);
    bc_write(c, b.data, b.len);
    reef_buf_free(&b);
    CHECK(bc_eof(c));
    bc_close(c);
    reef_ws_reader_free(rd);
    for (int i = 0; i < 200 && atomic_load(&ws_close_code) == 0; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&ws_close_code), ==, 1000);

    /* an unmasked frame from a client is a protocol error: close 1002 */
    c = ws_open(NULL, &r);
    resp_free(&r);
    rd = reef_ws_reader_new(false, 1 << 20);
    b = (struct reef_buf)REEF_BUF_INIT;
    reef_ws_write_frame(&b, true, REEF_WS_TEXT, "x", 1, NULL);
    bc_write(c, b.data, b.len);
    reef_buf_free(&b);
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_CLOSE);
    CHECK_INT((uint8_t)m.data.data[0] << 8 | (uint8_t)m.data.data[1], ==, 1002);
    reef_buf_free(&m.data);
    CHECK(bc_eof(c));
    bc_close(c);
    reef_ws_reader_free(rd);
}

static void test_websocket(void)
{
    srv_start(NULL);
    websocket_echo();
    /* refused upgrades */
    struct resp r;
    struct bc *c = ws_open("chat", &r);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    bc_close(c);
    c = bc_open();
    bc_puts(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 426);
    CHECK_STR(hdr(&r, "sec-websocket-version"), "13");
    resp_free(&r);
    bc_close(c);
    c = bc_open();
    bc_puts(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 400);
    resp_free(&r);
    bc_close(c);
    still_serving();
    /* shutdown tells WebSocket peers: CLOSE 1001, then the connection ends */
    c = ws_open(NULL, &r);
    CHECK_INT(r.status, ==, 101);
    resp_free(&r);
    S.grace_ms = 200;
    srv_stop();
    struct reef_ws_reader *rd = reef_ws_reader_new(false, 1 << 20);
    struct wsmsg m;
    ws_read(c, rd, &m);
    CHECK_INT(m.op, ==, REEF_WS_CLOSE);
    CHECK_INT((uint8_t)m.data.data[0] << 8 | (uint8_t)m.data.data[1], ==, 1001);
    reef_buf_free(&m.data);
    CHECK(bc_eof(c));
    bc_close(c);
    reef_ws_reader_free(rd);
}

static void test_websocket_tls(void)
{
    make_certs();
    struct reef_err err = {0};
    struct reef_tls_client_opts co = {.ca_file = path("ca.crt")};
    client_tls = reef_tls_config_client_new(&co, &err);
    srv_start_tls(NULL, true);
    websocket_echo();
    srv_stop();
    reef_tls_config_unref(client_tls);
    rm_certs();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    TEST_RUN(test_streamed_upload);
    TEST_RUN(test_streaming_watch);
    TEST_RUN(test_websocket);
    TEST_RUN(test_websocket_tls);
    return test_done();
}
