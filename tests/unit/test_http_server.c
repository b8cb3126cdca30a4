/* Tests for core/http_server over real loopback sockets. The server runs on its own loop in a
 * thread; the test talks to it with blocking sockets (and core/tls for https), writing raw bytes
 * so that malformed, pipelined and slow traffic can be produced exactly. Streaming and WebSocket
 * tests are in test_http_server_ws.c; the server and client fixture in http_fixture.h. */
#include "core/http_server.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_FIXTURE_SERVER
#include "tests/unit/http_fixture.h"
#include "tests/unit/test.h"

/* ---------- tests ---------- */

static void check_pattern(const struct reef_buf *b, size_t n)
{
    CHECK_INT(b->len, ==, n);
    for (size_t i = 0; i < n; i++)
        if (b->data[i] != (char)(i * 31 + 7))
            TEST_FAIL("byte %zu differs", i);
}

static void basic_and_keepalive(void)
{
    struct bc *c = bc_open();
    get_ok(c, "/hello", "hello");
    /* POST with a body, same connection */
    bc_puts(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK(r.keep_alive);
    CHECK_INT(r.body.len, ==, 11);
    CHECK(memcmp(r.body.data, "hello world", 11) == 0);
    resp_free(&r);
    /* HEAD: the length, no body */
    bc_puts(c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(bc_response(c, &r, true), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK_STR(hdr(&r, "content-length"), "5");
    CHECK_STR(hdr(&r, "x-reef"), "yes");
    CHECK_INT(r.body.len, ==, 0);
    resp_free(&r);
    /* chunked request body */
    bc_puts(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.body.len, ==, 11);
    CHECK(memcmp(r.body.data, "hello world", 11) == 0);
    resp_free(&r);
    /* query, 404, Connection: close ends it */
    bc_puts(c, "GET /nope?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 404);
    CHECK(!r.keep_alive);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
    /* HTTP/1.0 asking for keep-alive gets it */
    c = bc_open();
    bc_puts(c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK(r.keep_alive);
    CHECK_STR(hdr(&r, "connection"), "keep-alive");
    resp_free(&r);
    /* a streamed answer to 1.0 is delimited by the close */
    bc_puts(c, "GET /chunked?n=1000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK(!r.chunked);
    check_pattern(&r.body, 1000);
    resp_free(&r);
    bc_close(c);
    /* HEAD of a streamed answer: the head only, and the connection goes on */
    c = bc_open();
    bc_puts(c, "HEAD /chunked?n=1000 HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(bc_response(c, &r, true), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK_INT(r.body.len, ==, 0);
    resp_free(&r);
    get_ok(c, "/hello", "hello");
    bc_close(c);
    /* HTTP/1.0: answered as 1.0 and closed */
    c = bc_open();
    bc_puts(c, "GET /hello HTTP/1.0\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK(!r.keep_alive);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
}

static void test_basic(void)
{
    srv_start(NULL);
    basic_and_keepalive();
    srv_stop();
}

static void test_basic_tls(void)
{
    make_certs();
    struct reef_err err = {0};
    struct reef_tls_client_opts co = {.ca_file = path("ca.crt")};
    client_tls = reef_tls_config_client_new(&co, &err);
    CHECK(client_tls != NULL);
    srv_start_tls(NULL, true);
    basic_and_keepalive();
    srv_stop();
    reef_tls_config_unref(client_tls);
    rm_certs();
}

static void test_pipelined(void)
{
    srv_start(NULL);
    struct bc *c = bc_open();
    /* the slow one is answered from a timer; the others wait their turn */
    bc_puts(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
               "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
               "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *want[] = {"slow", "abc", "hello"};
    for (int i = 0; i < 3; i++) {
        struct resp r;
        CHECK_INT(bc_response(c, &r, false), ==, 0);
        CHECK_INT(r.status, ==, 200);
        reef_buf_putc(&r.body, '\0');
        CHECK_STR(r.body.data, want[i]);
        resp_free(&r);
    }
    bc_close(c);
    srv_stop();
}

static void large_bodies(void)
{
    size_t n = 5 * 1000 * 1000 + 17;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31 + 7);
    struct bc *c = bc_open();
    char head[128];
    snprintf(head, sizeof(head), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             n);
    bc_puts(c, head);
    /* write and read at once would need a thread; the echo is only sent after the body is read,
     * so writing all of it first is fine */
    bc_write(c, big, n);
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    check_pattern(&r.body, n);
    resp_free(&r);
    /* a large fixed-length response */
    snprintf(head, sizeof(head), "/big?n=%zu", n);
    bc_puts(c, "GET ");
    bc_puts(c, head);
    bc_puts(c, " HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    check_pattern(&r.body, n);
    resp_free(&r);
    /* a large chunked response produced under back-pressure */
    snprintf(head, sizeof(head), "GET /chunked?n=%zu HTTP/1.1\r\nHost: x\r\n\r\n", n);
    bc_puts(c, head);
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK(r.chunked);
    check_pattern(&r.body, n);
    resp_free(&r);
    /* a large chunked request */
    bc_puts(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0; off < n; off += 100000) {
        size_t k = n - off < 100000 ? n - off : 100000;
        char sz[32];
        snprintf(sz, sizeof(sz), "%zx\r\n", k);
        bc_puts(c, sz);
        bc_write(c, big + off, k);
        bc_puts(c, "\r\n");
    }
    bc_puts(c, "0\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    check_pattern(&r.body, n);
    resp_free(&r);
    bc_close(c);
    free(big);
}

static void test_large(void)
{
    srv_start(NULL);
    large_bodies();
    srv_stop();
}

static void test_large_tls(void)
{
    make_certs();
    struct reef_err err = {0};
    struct reef_tls_client_opts co = {.ca_file = path("ca.crt")};
    client_tls = reef_tls_config_client_new(&co, &err);
    srv_start_tls(NULL, false);
    large_bodies();
    srv_stop();
    reef_tls_config_unref(client_tls);
    rm_certs();
}

static void expect_status(const char *raw, size_t len, int status)
{
    struct bc *c = bc_open();
    bc_write(c, raw, len);
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    if (r.status != status)
        TEST_FAIL("%.40s...: status %d, want %d", raw, r.status, status);
    CHECK(!r.keep_alive);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
    still_serving();
}

static void test_malformed(void)
{
    struct reef_http_server_opts o = {.max_body = 1 << 20};
    srv_start(&o);
    const char *bad = "GARBAGE\r\n\r\n";
    expect_status(bad, strlen(bad), 400);
    bad = "GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n";
    expect_status(bad, strlen(bad), 400);
    bad = "GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect_status(bad, strlen(bad), 400);
    bad = "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
    expect_status(bad, strlen(bad), 400);
    bad = "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n";
    expect_status(bad, strlen(bad), 501);
    bad = "GET / HTTP/2.0\r\n\r\n";
    expect_status(bad, strlen(bad), 505);
    bad = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    expect_status(bad, strlen(bad), 400);
    /* a long request line: 414 */
    struct reef_buf b = REEF_BUF_INIT;
    reef_buf_puts(&b, "GET /");
    for (int i = 0; i < 10000; i++)
        reef_buf_putc(&b, 'a');
    reef_buf_puts(&b, " HTTP/1.1\r\n\r\n");
    expect_status(b.data, b.len, 414);
    reef_buf_reset(&b);
    /* too many header bytes: 431 */
    reef_buf_puts(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 2000; i++)
        reef_buf_printf(&b, "X-H%d: %064d\r\n", i, i);
    reef_buf_puts(&b, "\r\n");
    expect_status(b.data, b.len, 431);
    reef_buf_reset(&b);
    /* a body over the limit: 413 from the length alone, and for a chunked one as it arrives */
    reef_buf_puts(&b, "POST /echo HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n");
    expect_status(b.data, b.len, 413);
    reef_buf_reset(&b);
    reef_buf_puts(&b, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 20; i++) {
        reef_buf_puts(&b, "10000\r\n");
        for (int j = 0; j < 0x10000; j++)
            reef_buf_putc(&b, 'z');
        reef_buf_puts(&b, "\r\n");
    }
    expect_status(b.data, b.len, 413);
    /* binary garbage */
    char junk[4096];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 131 + 1);
    expect_status(junk, sizeof(junk), 400);
    reef_buf_free(&b);
    /* a client that half-closes after its request still gets the answer */
    const char *reqs[] = {"GARBAGE\r\n\r\n", "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"};
    for (int i = 0; i < 2; i++) {
        struct bc *c = bc_open();
        bc_puts(c, reqs[i]);
        shutdown(c->fd, SHUT_WR);
        struct resp r;
        CHECK_INT(bc_response(c, &r, false), ==, 0);
        CHECK_INT(r.status, ==, i == 0 ? 400 : 200);
        resp_free(&r);
        CHECK(bc_eof(c));
        bc_close(c);
    }
    srv_stop();
}

/* Many connections at once, and many pipelined requests in one write. */
static void test_concurrency(void)
{
    srv_start(NULL);
    enum { N = 200 };
    static struct bc *cs[N];
    for (int i = 0; i < N; i++) {
        cs[i] = bc_open();
        bc_puts(cs[i], "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    for (int i = 0; i < N; i++) {
        struct resp r;
        CHECK_INT(bc_response(cs[i], &r, false), ==, 0);
        CHECK_INT(r.status, ==, 200);
        resp_free(&r);
        bc_close(cs[i]);
    }
    struct bc *c = bc_open();
    struct reef_buf b = REEF_BUF_INIT;
    for (int i = 0; i < 2000; i++)
        reef_buf_puts(&b, i % 2
                              ? "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                              : "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd");
    /* the server answers while we write: read in a second connection-less step is not possible
     * with blocking I/O, so the write must fit the socket buffers (about 150 KB) */
    bc_write(c, b.data, b.len);
    for (int i = 0; i < 2000; i++) {
        struct resp r;
        CHECK_INT(bc_response(c, &r, false), ==, 0);
        CHECK_INT(r.status, ==, 200);
        CHECK_INT(r.body.len, ==, i % 2 ? 5 : 4);
        resp_free(&r);
    }
    reef_buf_free(&b);
    bc_close(c);
    srv_stop();
}

/* Random bytes on many connections (plain and after a valid start), then abrupt closes: the
 * server keeps serving and ends with every handle closed. */
static void test_garbage_storm(void)
{
    struct reef_http_server_opts o = {.header_timeout_ms = 300};
    srv_start(&o);
    unsigned seed = 12345;
    for (int i = 0; i < 300; i++) {
        int fd = raw_connect(S.port);
        char buf[3000];
        size_t n = 1 + (size_t)(rand_r(&seed) % sizeof(buf));
        for (size_t k = 0; k < n; k++)
            buf[k] = (char)rand_r(&seed);
        static const char *prefix[] = {"", "GET / HTTP/1.1\r\n",
                                       "POST /echo HTTP/1.1\r\n"
                                       "Transfer-Encoding: chunked\r\n\r\n",
                                       "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: "
                                       "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                       "Sec-WebSocket-Version: 13\r\n\r\n"};
        const char *p = prefix[i % 4];
        (void)!write(fd, p, strlen(p));
        (void)!write(fd, buf, n);
        if (i % 3 == 0) { /* reset instead of FIN */
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(fd);
    }
    still_serving();
    srv_stop();
}

static void test_header_timeout(void)
{
    struct reef_http_server_opts o = {.header_timeout_ms = 200, .idle_timeout_ms = 300};
    srv_start(&o);
    /* a client that stalls in the middle of its head gets 408 and is cut off */
    struct bc *slow = bc_open();
    bc_puts(slow, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    /* meanwhile others are served */
    still_serving();
    double t0 = now_ms();
    struct resp r;
    CHECK_INT(bc_response(slow, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 408);
    resp_free(&r);
    CHECK(bc_eof(slow));
    CHECK(now_ms() - t0 < 2000);
    bc_close(slow);
    /* a client that sends nothing at all is closed */
    struct bc *mute = bc_open();
    CHECK(bc_eof(mute));
    bc_close(mute);
    /* an idle keep-alive connection is closed after the idle timeout */
    struct bc *c = bc_open();
    get_ok(c, "/hello", "hello");
    t0 = now_ms();
    CHECK(bc_eof(c));
    CHECK(now_ms() - t0 >= 100);
    CHECK(now_ms() - t0 < 3000);
    bc_close(c);
    srv_stop();
}

static void test_connection_limit(void)
{
    struct reef_http_server_opts o = {.max_connections = 2};
    srv_start(&o);
    struct bc *a = bc_open(), *b = bc_open();
    get_ok(a, "/hello", "hello");
    get_ok(b, "/hello", "hello");
    struct bc *c = bc_open();
    bc_puts(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 503);
    resp_free(&r);
    CHECK(bc_eof(c));
    bc_close(c);
    bc_close(a);
    usleep(100 * 1000); /* the server notices a's close */
    still_serving();
    get_ok(b, "/hello", "hello");
    bc_close(b);
    srv_stop();
}

/* A handler that holds a response without a close callback and answers after the client left:
 * the answer fails with -EPIPE and frees everything. */
static void test_abandoned_response(void)
{
    srv_start(NULL);
    struct bc *c = bc_open();
    bc_puts(c, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(50 * 1000);
    bc_close(c);
    for (int i = 0; i < 300 && atomic_load(&held_rc) == 1; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&held_rc), ==, -EPIPE);
    still_serving();
    srv_stop();
}

/* Nothing reaches a client while the output barrier is on, whatever the connection; turning it
 * off writes everything held, in order; a connection that leaves meanwhile loses only its own. */
static void read_ok(struct bc *c, const char *want_body)
{
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    reef_buf_putc(&r.body, '\0');
    CHECK_STR(r.body.data, want_body);
    resp_free(&r);
}

static void test_output_barrier(void)
{
    srv_start(NULL);
    int base = atomic_load(&handler_calls);
    struct bc *a = bc_open(), *b = bc_open(), *gone = bc_open();
    bc_puts(a, "GET /barrier-on HTTP/1.1\r\nHost: x\r\n\r\n"
               "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 300 && atomic_load(&handler_calls) < base + 2; i++)
        usleep(10 * 1000);
    bc_puts(b, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    bc_puts(gone, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 300 && atomic_load(&handler_calls) < base + 4; i++)
        usleep(10 * 1000);
    CHECK_INT(atomic_load(&handler_calls), >=, base + 4);
    struct pollfd p[2] = {{.fd = a->fd, .events = POLLIN}, {.fd = b->fd, .events = POLLIN}};
    CHECK_INT(poll(p, 2, 200), ==, 0); /* answered, and held */
    bc_close(gone);
    usleep(50 * 1000);
    struct bc *c = bc_open();
    get_ok(c, "/barrier-off", "off 1"); /* held output existed; this answer is not held */
    read_ok(a, "on");
    read_ok(a, "hello");
    read_ok(b, "abc");
    /* Discarding closes the connections whose output is held; nothing of it is written. */
    bc_puts(b, "GET /barrier-on HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 300 && atomic_load(&handler_calls) < base + 6; i++)
        usleep(10 * 1000);
    bc_puts(a, "GET /barrier-discard HTTP/1.1\r\nHost: x\r\n\r\n");
    size_t had_a = a->in.len, had_b = b->in.len;
    CHECK(bc_eof(a));
    CHECK(bc_eof(b));
    CHECK_INT(a->in.len, ==, had_a);
    CHECK_INT(b->in.len, ==, had_b);
    bc_close(a);
    bc_close(b);
    bc_close(c);
    still_serving();
    srv_stop();
}

static void test_graceful_shutdown(void)
{
    srv_start(NULL);
    struct bc *idle = bc_open();
    get_ok(idle, "/hello", "hello");
    struct bc *busy = bc_open();
    bc_puts(busy, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(50 * 1000); /* the request is in flight */
    S.grace_ms = 5000;
    uv_async_send(&S.stop);
    /* the idle connection is closed at once, the busy one gets its answer, then is closed */
    CHECK(bc_eof(idle));
    struct resp r;
    CHECK_INT(bc_response(busy, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    CHECK(!r.keep_alive);
    resp_free(&r);
    CHECK(bc_eof(busy));
    pthread_join(S.th, NULL);
    CHECK_INT(atomic_load(&S.done), ==, 1);
    CHECK_INT(S.loop_close, ==, 0);
    /* nothing listens any more */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)S.port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0);
    close(fd);
    bc_close(idle);
    bc_close(busy);
}

static void test_tls_identity(void)
{
    make_certs();
    struct reef_err err = {0};
    /* with a client certificate */
    struct reef_tls_client_opts co = {
        .ca_file = path("ca.crt"), .cert_file = path("client.crt"), .key_file = path("client.key")};
    client_tls = reef_tls_config_client_new(&co, &err);
    CHECK(client_tls != NULL);
    srv_start_tls(NULL, true);
    struct bc *c = bc_open();
    get_ok(c, "/identity", "verified=1 cn=alice o=system:masters,reef:nodes");
    bc_close(c);
    reef_tls_config_unref(client_tls);
    /* without one: still served, no identity, a token works */
    struct reef_tls_client_opts co2 = {.ca_file = path("ca.crt")};
    client_tls = reef_tls_config_client_new(&co2, &err);
    c = bc_open();
    get_ok(c, "/identity", "verified=0 cn= o=,");
    bc_puts(c, "GET /auth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sekret\r\n\r\n");
    struct resp r;
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 200);
    resp_free(&r);
    bc_puts(c, "GET /auth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\n\r\n");
    CHECK_INT(bc_response(c, &r, false), ==, 0);
    CHECK_INT(r.status, ==, 401);
    resp_free(&r);
    bc_close(c);
    /* plain HTTP on the TLS port: the handshake fails, the server goes on */
    int fd = raw_connect(S.port);
    (void)!write(fd, "GET / HTTP/1.1\r\n\r\n", 18);
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    close(fd);
    /* random bytes, and a real handshake followed by random records */
    unsigned seed = 777;
    for (int i = 0; i < 100; i++) {
        char junk[2048];
        size_t n = 1 + (size_t)(rand_r(&seed) % sizeof(junk));
        for (size_t k = 0; k < n; k++)
            junk[k] = (char)rand_r(&seed);
        if (i % 2) {
            junk[0] = 0x16; /* looks like a handshake record */
            junk[1] = 3;
            junk[2] = 3;
            fd = raw_connect(S.port);
            (void)!write(fd, junk, n);
            close(fd);
        } else {
            c = bc_open();
            (void)!write(c->fd, junk, n);
            bc_close(c);
        }
    }
    c = bc_open();
    get_ok(c, "/hello", "hello");
    bc_close(c);
    srv_stop();
    reef_tls_config_unref(client_tls);
    rm_certs();
}

static void dummy_handler(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    reef_http_res_send(res, 204, NULL, NULL, 0);
}

/* Binding a port in use fails with a clear message and leaves nothing behind. */
static void test_bind_error(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct reef_err err = {0};
    struct reef_http_server_opts o = {.addr = "127.0.0.1", .port = 0, .handler = dummy_handler};
    struct reef_http_server *s = reef_http_server_new(&loop, &o, &err);
    CHECK(s != NULL);
    o.port = reef_http_server_port(s);
    CHECK(reef_http_server_new(&loop, &o, &err) == NULL);
    CHECK(strstr(err.msg, "address already in use") != NULL);
    o.addr = "not-an-address";
    CHECK(reef_http_server_new(&loop, &o, &err) == NULL);
    CHECK(strstr(err.msg, "bad address") != NULL);
    reef_http_server_shutdown(s, 0, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    reef_http_server_free(s);
    CHECK_INT(uv_loop_close(&loop), ==, 0);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    TEST_RUN(test_basic);
    TEST_RUN(test_basic_tls);
    TEST_RUN(test_pipelined);
    TEST_RUN(test_large);
    TEST_RUN(test_large_tls);
    TEST_RUN(test_malformed);
    TEST_RUN(test_concurrency);
    TEST_RUN(test_garbage_storm);
    TEST_RUN(test_header_timeout);
    TEST_RUN(test_connection_limit);
    TEST_RUN(test_abandoned_response);
    TEST_RUN(test_output_barrier);
    TEST_RUN(test_graceful_shutdown);
    TEST_RUN(test_tls_identity);
    TEST_RUN(test_bind_error);
    return test_done();
}
