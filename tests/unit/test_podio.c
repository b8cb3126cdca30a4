/* Unit tests for orchestrate/podio: pods' logs from log files written with runtime/logfile (and
 * a state.json and shim lock this test holds), exec and attach over WebSocket in real busybox
 * containers (root), all through a real HTTP server on 127.0.0.1 whose handler calls podio. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>

#include "core/buf.h"
#include "core/http_server.h"
#include "core/ws.h"
#include "orchestrate/podio.h"
#include "runtime/ctrstore.h"
#include "runtime/logfile.h"
#include "tests/unit/probe_fixture.h"

/* ---------- the server, on its own loop and thread ---------- */

static uv_loop_t sloop;
static uv_async_t stop_async;
static struct reef_http_server *server;
static pthread_t server_thread;
static int port;
static char log_containers[128]; /* containers directory for the log tests */
static atomic_int server_conns;

static void handler(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    const char *dir = strncmp(req->path, "/logs/", 6) == 0 ? log_containers : ctr_containers;
    const char *slash = strchr(req->path + 1, '/');
    const char *id = slash ? slash + 1 : "";
    if (strncmp(req->path, "/logs/", 6) == 0)
        reef_podio_logs(&sloop, dir, id, req, res);
    else if (strncmp(req->path, "/exec/", 6) == 0)
        reef_podio_exec(&sloop, dir, id, req, res);
    else if (strncmp(req->path, "/attach/", 8) == 0)
        reef_podio_attach(&sloop, dir, id, req, res);
    else
        reef_http_res_send(res, 404, "text/plain", "no\n", 3);
    (void)ud;
}

static uv_timer_t count_timer;

static void server_closed(void *ud)
{
    reef_http_server_free(server);
    server = NULL;
    uv_close((uv_handle_t *)&stop_async, NULL);
    uv_close((uv_handle_t *)&count_timer, NULL);
    (void)ud;
}

static void on_stop(uv_async_t *a)
{
    reef_http_server_shutdown(server, 100, server_closed, NULL);
    (void)a;
}

static void on_count(uv_timer_t *t)
{
    atomic_store(&server_conns, (int)reef_http_server_connections(server));
    (void)t;
}

static void *server_main(void *arg)
{
    uv_run(&sloop, UV_RUN_DEFAULT);
    (void)arg;
    return NULL;
}

static void server_start(void)
{
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&sloop);
    struct reef_http_server_opts o = {.addr = "127.0.0.1", .handler = handler};
    struct reef_err err = {0};
    server = reef_http_server_new(&sloop, &o, &err);
    CHECK(server != NULL);
    port = reef_http_server_port(server);
    uv_async_init(&sloop, &stop_async, on_stop);
    uv_timer_init(&sloop, &count_timer);
    uv_timer_start(&count_timer, on_count, 20, 20);
    CHECK(pthread_create(&server_thread, NULL, server_main, NULL) == 0);
}

static void server_stop(void)
{
    uv_async_send(&stop_async);
    pthread_join(server_thread, NULL);
    CHECK_INT(loop_finish(&sloop), ==, 0);
}

/* ---------- a blocking client ---------- */

static int connect_server(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(s, (struct sockaddr *)&a, sizeof(a)) == 0);
    return s;
}

static void send_all(int s, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(s, p, len);
        CHECK(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* A response being read: head, then the de-chunked body. */
struct resp {
    int fd;
    struct reef_buf raw, body;
    int status;
    bool head_done, ended;
};

/* Reads for up to ms; false when the connection ended. */
static bool read_more(struct resp *r, int ms)
{
    struct pollfd p = {r->fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return true;
    char buf[65536];
    ssize_t n = read(r->fd, buf, sizeof(buf));
    if (n <= 0)
        return false;
    reef_buf_append(&r->raw, buf, (size_t)n);
    if (!r->head_done) {
        char *e = r->raw.data ? memmem(r->raw.data, r->raw.len, "\r\n\r\n", 4) : NULL;
        if (!e)
            return true;
        r->status = atoi(r->raw.data + 9);
        CHECK(strstr(r->raw.data, "chunked") != NULL || r->status != 200);
        reef_buf_consume(&r->raw, (size_t)(e - r->raw.data) + 4);
        r->head_done = true;
    }
    for (;;) {
        char *crlf = r->raw.data ? memmem(r->raw.data, r->raw.len, "\r\n", 2) : NULL;
        if (!crlf)
            break;
        size_t sz = strtoul(r->raw.data, NULL, 16);
        size_t hl = (size_t)(crlf - r->raw.data) + 2;
        if (r->raw.len < hl + sz + 2)
            break;
        if (sz == 0) {
            r->ended = true;
            reef_buf_reset(&r->raw);
            break;
        }
        reef_buf_append(&r->body, r->raw.data + hl, sz);
        reef_buf_consume(&r->raw, hl + sz + 2);
    }
    return true;
}

static void request(struct resp *r, const char *target)
{
    memset(r, 0, sizeof(*r));
    r->fd = connect_server();
    char req[1024];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", target);
    send_all(r->fd, req, (size_t)n);
}

static void resp_free(struct resp *r)
{
    close(r->fd);
    reef_buf_free(&r->raw);
    reef_buf_free(&r->body);
}

/* The whole body of a non-following request. */
static char *get_body(const char *target, int *status)
{
    struct resp r;
    request(&r, target);
    for (int i = 0; i < 500 && !r.ended; i++) {
        if (!read_more(&r, 20))
            break;
        if (r.head_done && r.status != 200) {
            /* a Status body (not chunked): what came after the head */
            read_more(&r, 100);
            break;
        }
    }
    *status = r.status;
    CHECK(r.ended || r.status != 200);
    char *b = r.body.data ? strdup(r.body.data) : strdup("");
    resp_free(&r);
    return b;
}

/* ---------- log files ---------- */

static char log_id[65] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static char log_dir[256], log_path[300];
static int lock_fd = -1;

static void write_state(enum reef_ctr_status st)
{
    struct reef_ctr_state s = {.status = st, .pid = st == REEF_CTR_RUNNING ? 1 : 0};
    struct reef_buf b = REEF_BUF_INIT;
    CHECK(reef_ctr_state_to_json(&s, &b) == 0);
    char p[320], tmp[330];
    snprintf(p, sizeof(p), "%s/state.json", log_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", p);
    FILE *f = fopen(tmp, "w");
    CHECK(f != NULL);
    fwrite(b.data, 1, b.len, f);
    fclose(f);
    CHECK(rename(tmp, p) == 0);
    reef_buf_free(&b);
}

/* A container directory with a log; "running" holds its shim lock as a shim would. */
static void log_setup(bool running)
{
    snprintf(log_containers, sizeof(log_containers), "/tmp/reef-podio-XXXXXX");
    CHECK(mkdtemp(log_containers) != NULL);
    snprintf(log_dir, sizeof(log_dir), "%s/%s", log_containers, log_id);
    CHECK(mkdir(log_dir, 0700) == 0);
    snprintf(log_path, sizeof(log_path), "%s/container.log", log_dir);
    write_state(running ? REEF_CTR_RUNNING : REEF_CTR_EXITED);
    if (running) {
        char p[320];
        snprintf(p, sizeof(p), "%s/shim.lock", log_dir);
        lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        CHECK(lock_fd >= 0 && flock(lock_fd, LOCK_EX) == 0);
    }
    server_start();
}

static void log_teardown(void)
{
    server_stop();
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", log_containers);
    (void)system(cmd);
}

static void put(struct reef_logfile *lf, enum reef_log_stream s, const char *text, time_t sec,
                long nsec)
{
    struct timespec ts = {sec, nsec};
    struct reef_err err = {0};
    CHECK(reef_logfile_write(lf, s, text, strlen(text), sec ? &ts : NULL, &err) == 0);
}

#define T0 1795860085 /* 2026-11-28T10:01:25Z */

static struct reef_logfile *three_lines(size_t max_size)
{
    struct reef_logfile *lf;
    struct reef_err err = {0};
    CHECK(reef_logfile_open(log_path, max_size, 3, &lf, &err) == 0);
    put(lf, REEF_LOG_STDOUT, "one\n", T0, 100000000);
    put(lf, REEF_LOG_STDERR, "two\n", T0 + 1, 0);
    put(lf, REEF_LOG_STDOUT, "three\n", T0 + 2, 123456789);
    return lf;
}

static char *logs(const char *query, int *status)
{
    char t[512];
    snprintf(t, sizeof(t), "/logs/%s%s%s", log_id, query[0] ? "?" : "", query);
    return get_body(t, status);
}

static void test_logs_all_tail_limit(void)
{
    log_setup(false);
    reef_logfile_close(three_lines(0));
    int st;
    char *b = logs("", &st);
    CHECK_INT(st, ==, 200);
    CHECK_STR(b, "one\ntwo\nthree\n");
    free(b);
    b = logs("tailLines=2", &st);
    CHECK_STR(b, "two\nthree\n");
    free(b);
    b = logs("tailLines=0", &st);
    CHECK_STR(b, "");
    free(b);
    b = logs("tailLines=10", &st);
    CHECK_STR(b, "one\ntwo\nthree\n");
    free(b);
    b = logs("limitBytes=6", &st);
    CHECK_STR(b, "one\ntw");
    free(b);
    b = logs("tailLines=abc", &st);
    CHECK_INT(st, ==, 400);
    free(b);
    log_teardown();
}

static void test_logs_timestamps_and_since(void)
{
    log_setup(false);
    struct reef_logfile *lf = three_lines(0);
    put(lf, REEF_LOG_STDOUT, "now\n", 0, 0);
    reef_logfile_close(lf);
    int st;
    char *b = logs("timestamps=true&tailLines=3", &st);
    const char *want = "2026-11-28T10:01:26Z two\n2026-11-28T10:01:27.123456789Z three\n";
    CHECK(strncmp(b, want, strlen(want)) == 0);
    CHECK(reef_str_has_suffix(b, "Z now\n") && strlen(b) <= strlen(want) + 36);
    free(b);
    b = logs("timestamps=1&limitBytes=20", &st);
    CHECK_STR(b, "2026-11-28T10:01:25."); /* the prefix counts */
    free(b);
    b = logs("sinceTime=2026-11-28T10:01:26Z", &st);
    CHECK_STR(b, "two\nthree\nnow\n");
    free(b);
    b = logs("sinceTime=2026-11-28T11:01:26%2B01:00", &st);
    CHECK_STR(b, "two\nthree\nnow\n");
    free(b);
    b = logs("sinceSeconds=60", &st);
    CHECK_STR(b, "now\n");
    free(b);
    log_teardown();
}

static void test_logs_rotated_files(void)
{
    log_setup(false);
    struct reef_logfile *lf;
    struct reef_err err = {0};
    CHECK(reef_logfile_open(log_path, 300, 3, &lf, &err) == 0);
    char line[32], want[4096] = "";
    for (int i = 0; i < 12; i++) {
        snprintf(line, sizeof(line), "line %d\n", i);
        put(lf, REEF_LOG_STDOUT, line, T0 + i, 0);
    }
    reef_logfile_close(lf);
    char p[1200];
    snprintf(p, sizeof(p), "%s.1", log_path);
    CHECK(access(p, F_OK) == 0); /* it did rotate */
    /* What survived rotation, in order: the lines still in the files. */
    snprintf(p, sizeof(p),
             "cat %s.2 %s.1 %s 2>/dev/null | sed 's/.*\"log\":\"\\([^\\\\]*\\).*/\\1/'", log_path,
             log_path, log_path);
    FILE *f = popen(p, "r");
    while (fgets(line, sizeof(line), f))
        strcat(want, line);
    pclose(f);
    CHECK(strstr(want, "line 11\n") != NULL);
    int st;
    char *b = logs("", &st);
    CHECK_STR(b, want);
    free(b);
    b = logs("tailLines=5", &st);
    CHECK_STR(b, "line 7\nline 8\nline 9\nline 10\nline 11\n");
    free(b);
    log_teardown();
}

/* Many lines, read slowly: back-pressure pauses the reader, nothing is lost or reordered. */
static void test_logs_large(void)
{
    log_setup(false);
    struct reef_logfile *lf;
    struct reef_err err = {0};
    CHECK(reef_logfile_open(log_path, 0, 3, &lf, &err) == 0);
    char line[128];
    for (int i = 0; i < 60000; i++) {
        snprintf(line, sizeof(line), "line %06d %s\n", i,
                 "padding padding padding padding padding padding padding");
        put(lf, i % 2 ? REEF_LOG_STDERR : REEF_LOG_STDOUT, line, T0, 0);
    }
    reef_logfile_close(lf);
    struct resp r;
    char t[256];
    snprintf(t, sizeof(t), "/logs/%s", log_id);
    request(&r, t);
    usleep(300000); /* let the server fill the socket first */
    for (int i = 0; i < 3000 && !r.ended; i++)
        if (!read_more(&r, 20))
            break;
    CHECK(r.ended);
    size_t per = strlen(line);
    CHECK_INT(r.body.len, ==, per * 60000);
    for (int i = 0; i < 60000; i += 997) {
        snprintf(line, sizeof(line), "line %06d ", i);
        CHECK(memcmp(r.body.data + per * (size_t)i, line, strlen(line)) == 0);
    }
    resp_free(&r);
    log_teardown();
}

static bool body_has(struct resp *r, const char *s, int ms)
{
    for (int i = 0; i < ms / 20; i++) {
        if (r->body.data && strstr(r->body.data, s))
            return true;
        if (!read_more(r, 20) || r->ended)
            break;
    }
    return r->body.data && strstr(r->body.data, s);
}

static void test_logs_follow_until_exit(void)
{
    log_setup(true);
    struct reef_logfile *lf = three_lines(400);
    struct resp r;
    char t[256];
    snprintf(t, sizeof(t), "/logs/%s?follow=true&tailLines=1", log_id);
    request(&r, t);
    CHECK(body_has(&r, "three\n", 3000));
    CHECK_STR(r.body.data, "three\n");
    put(lf, REEF_LOG_STDOUT, "four\n", 0, 0);
    CHECK(body_has(&r, "four\n", 3000));
    CHECK_STR(r.body.data, "three\nfour\n");
    /* Enough to rotate the file under the follower (400 bytes each). */
    char line[64], want[4096] = "three\nfour\n";
    for (int i = 0; i < 10; i++) {
        snprintf(line, sizeof(line), "rot %d\n", i);
        put(lf, REEF_LOG_STDERR, line, 0, 0);
        strcat(want, line);
        if (i % 3 == 0)
            body_has(&r, line, 1000);
    }
    char p[320];
    snprintf(p, sizeof(p), "%s.1", log_path);
    CHECK(access(p, F_OK) == 0);
    CHECK(body_has(&r, "rot 9\n", 3000));
    CHECK_STR(r.body.data, want);
    CHECK(!r.ended);
    /* The container exits: what it wrote last comes, then the response ends. */
    put(lf, REEF_LOG_STDOUT, "last\n", 0, 0);
    reef_logfile_close(lf);
    write_state(REEF_CTR_EXITED);
    flock(lock_fd, LOCK_UN);
    for (int i = 0; i < 150 && !r.ended; i++)
        if (!read_more(&r, 20))
            break;
    CHECK(r.ended);
    strcat(want, "last\n");
    CHECK_STR(r.body.data, want);
    resp_free(&r);
    log_teardown();
}

static bool no_conns(void *ud)
{
    (void)ud;
    return atomic_load(&server_conns) == 0;
}

static void test_logs_follow_client_leaves(void)
{
    log_setup(true);
    reef_logfile_close(three_lines(0));
    struct resp r;
    char t[256];
    snprintf(t, sizeof(t), "/logs/%s?follow=1", log_id);
    request(&r, t);
    CHECK(body_has(&r, "three\n", 3000));
    resp_free(&r);
    /* The server lets go of the session (ASan checks nothing leaks). */
    uv_loop_t l;
    uv_loop_init(&l);
    CHECK(run_until(&l, no_conns, NULL, 3000));
    uv_loop_close(&l);
    log_teardown();
}

/* ---------- WebSocket exec/attach ---------- */

struct wsr {
    struct reef_buf ch[4];
    int empty[4]; /* empty messages per channel */
    int close_code;
    bool closed;
};

static int on_ws(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    struct wsr *w = ud;
    if (op == REEF_WS_CLOSE) {
        w->closed = true;
        w->close_code = len >= 2 ? data[0] << 8 | data[1] : 1005;
    } else if (op == REEF_WS_BINARY && len >= 1 && data[0] < 4) {
        if (len == 1)
            w->empty[data[0]]++;
        reef_buf_append(&w->ch[data[0]], data + 1, len - 1);
    }
    return 0;
}

struct wsc {
    int fd;
    struct reef_ws_reader *rd;
    struct wsr got;
    char proto[64];
};

static int ws_open(struct wsc *c, const char *target, const char *protos)
{
    memset(c, 0, sizeof(*c));
    c->fd = connect_server();
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: %s\r\n\r\n",
                     target, protos);
    send_all(c->fd, req, (size_t)n);
    char head[4096];
    size_t got = 0;
    while (got < sizeof(head) - 1) {
        ssize_t k = read(c->fd, head + got, 1);
        if (k <= 0)
            break;
        got++;
        if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    head[got] = '\0';
    char *pp = strcasestr(head, "Sec-WebSocket-Protocol: ");
    if (pp)
        sscanf(pp + 24, "%63[^\r]", c->proto);
    c->rd = reef_ws_reader_new(false, 1 << 24);
    return got > 12 ? atoi(head + 9) : -1;
}

static void ws_send(struct wsc *c, unsigned char ch, const char *data, size_t len)
{
    struct reef_buf b = REEF_BUF_INIT;
    unsigned char msg[4096];
    msg[0] = ch;
    memcpy(msg + 1, data, len);
    static const uint8_t mask[4] = {1, 2, 3, 4};
    reef_ws_write_frame(&b, true, REEF_WS_BINARY, msg, len + 1, mask);
    send_all(c->fd, b.data, b.len);
    reef_buf_free(&b);
}

/* Reads until the server's close frame (or the connection ends, or ms). */
static void ws_read_all(struct wsc *c, int ms)
{
    for (int i = 0; i < ms / 20 && !c->got.closed; i++) {
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        uint8_t buf[65536];
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        CHECK(reef_ws_reader_feed(c->rd, buf, (size_t)n, on_ws, &c->got, NULL, NULL) == n);
    }
}

static bool ws_wait_for(struct wsc *c, int ch, const char *s, int ms)
{
    for (int i = 0; i < ms / 20 && !c->got.closed; i++) {
        if (c->got.ch[ch].data && strstr(c->got.ch[ch].data, s))
            return true;
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0)
            continue;
        uint8_t buf[65536];
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        reef_ws_reader_feed(c->rd, buf, (size_t)n, on_ws, &c->got, NULL, NULL);
    }
    return c->got.ch[ch].data && strstr(c->got.ch[ch].data, s);
}

static void ws_close_free(struct wsc *c)
{
    close(c->fd);
    reef_ws_reader_free(c->rd);
    for (int i = 0; i < 4; i++)
        reef_buf_free(&c->got.ch[i]);
}

static const char *str(struct reef_buf *b)
{
    return b->data ? b->data : "";
}

static void need_container(void)
{
    if (!ctr_id[0])
        TEST_FAIL("no container: %s", ctr_setup_error);
}

static void exec_target(char *t, size_t n, const char *query)
{
    snprintf(t, n, "/exec/%s?%s", ctr_id, query);
}

static void test_exec_stdout_stderr_success(void)
{
    need_container();
    server_start();
    struct wsc c;
    char t[512];
    exec_target(t, sizeof(t),
                "command=sh&command=-c&command=echo+out%3B+echo+err+%3E%262&stdout=true&"
                "stderr=true&container=c");
    CHECK_INT(ws_open(&c, t, "v5.channel.k8s.io, v4.channel.k8s.io"), ==, 101);
    CHECK_STR(c.proto, "v5.channel.k8s.io");
    ws_read_all(&c, 5000);
    CHECK(c.got.closed);
    CHECK_INT(c.got.close_code, ==, 1000);
    /* no "ready" message for v5: client-go would drop it with an error */
    CHECK_INT(c.got.empty[1], ==, 0);
    CHECK_STR(str(&c.got.ch[1]), "out\n");
    CHECK_STR(str(&c.got.ch[2]), "err\n");
    CHECK_STR(str(&c.got.ch[3]), "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                 "\"status\":\"Success\"}");
    ws_close_free(&c);
    server_stop();
}

static void test_exec_exit_code(void)
{
    need_container();
    server_start();
    struct wsc c;
    char t[512];
    exec_target(t, sizeof(t), "command=sh&command=-c&command=exit+3&stdout=true&stderr=true");
    CHECK_INT(ws_open(&c, t, "v4.channel.k8s.io"), ==, 101);
    CHECK_STR(c.proto, "v4.channel.k8s.io");
    ws_read_all(&c, 5000);
    CHECK(c.got.closed);
    CHECK_INT(c.got.empty[1], ==, 1); /* the kubelet's "ready" message for v4 clients */
    CHECK_STR(str(&c.got.ch[3]),
              "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
              "\"message\":\"command terminated with non-zero exit code: error executing command "
              "[sh -c exit 3], exit code 3\",\"reason\":\"NonZeroExitCode\",\"details\":{"
              "\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}}");
    ws_close_free(&c);
    server_stop();
}

static void test_exec_not_found(void)
{
    need_container();
    server_start();
    struct wsc c;
    char t[512];
    exec_target(t, sizeof(t), "command=nosuchcmd&stdout=true&stderr=true");
    CHECK_INT(ws_open(&c, t, "v5.channel.k8s.io"), ==, 101);
    ws_read_all(&c, 5000);
    CHECK(strstr(str(&c.got.ch[2]), "executable file not found") != NULL);
    CHECK(strstr(str(&c.got.ch[3]), "\"reason\":\"NonZeroExitCode\"") != NULL);
    CHECK(strstr(str(&c.got.ch[3]), "{\"reason\":\"ExitCode\",\"message\":\"127\"}") != NULL);
    ws_close_free(&c);
    server_stop();
}

static void test_exec_stdin_and_close(void)
{
    need_container();
    server_start();
    struct wsc c;
    char t[512];
    exec_target(t, sizeof(t), "command=cat&stdin=true&stdout=true&stderr=true");
    CHECK_INT(ws_open(&c, t, "v5.channel.k8s.io"), ==, 101);
    ws_send(&c, 0, "hello\n", 6);
    CHECK(ws_wait_for(&c, 1, "hello\n", 5000));
    ws_send(&c, 0, "world\n", 6);
    ws_send(&c, 255, "\0", 1); /* v5: stdin is closed; cat ends */
    ws_read_all(&c, 5000);
    CHECK(c.got.closed);
    CHECK_STR(str(&c.got.ch[1]), "hello\nworld\n");
    CHECK(strstr(str(&c.got.ch[3]), "\"status\":\"Success\"") != NULL);
    ws_close_free(&c);
    server_stop();
}

static void test_exec_tty_resize(void)
{
    need_container();
    server_start();
    struct wsc c;
    char t[512];
    exec_target(t, sizeof(t),
                "command=sh&command=-c&command=read+x%3B+stty+size%3B+echo+got+%24x%3B+exit+4&"
                "stdin=true&stdout=true&tty=true");
    CHECK_INT(ws_open(&c, t, "v5.channel.k8s.io"), ==, 101);
    const char *rs = "{\"Width\":123,\"Height\":45}";
    ws_send(&c, 4, rs, strlen(rs));
    ws_send(&c, 0, "hi\r", 3);
    ws_read_all(&c, 5000);
    CHECK(c.got.closed);
    CHECK(strstr(str(&c.got.ch[1]), "45 123") != NULL);
    CHECK(strstr(str(&c.got.ch[1]), "got hi") != NULL);
    CHECK_STR(str(&c.got.ch[2]), "");
    CHECK(strstr(str(&c.got.ch[3]), "{\"reason\":\"ExitCode\",\"message\":\"4\"}") != NULL);
    ws_close_free(&c);
    server_stop();
}

static void test_exec_client_leaves_and_bad_requests(void)
{
    need_container();
    server_start();
    struct wsc c;
    char t[512];
    exec_target(t, sizeof(t), "command=sleep&command=4244&stdin=true&stdout=true");
    CHECK_INT(ws_open(&c, t, "v5.channel.k8s.io"), ==, 101);
    ws_wait_for(&c, 1, "x", 500);
    ws_close_free(&c); /* no close frame: the connection just drops */
    uv_loop_t l;
    uv_loop_init(&l);
    CHECK(run_until(&l, no_conns, NULL, 3000));
    uv_loop_close(&l);
    char p[600];
    int st;
    snprintf(p, sizeof(p), "/exec/%s?command=true&stdout=true", ctr_id);
    free(get_body(p, &st));
    CHECK_INT(st, ==, 400); /* not a WebSocket */
    exec_target(t, sizeof(t), "stdout=true");
    CHECK_INT(ws_open(&c, t, "v5.channel.k8s.io"), ==, 400); /* no command */
    ws_close_free(&c);
    exec_target(t, sizeof(t), "command=true");
    CHECK_INT(ws_open(&c, t, "v5.channel.k8s.io"), ==, 400); /* no stream */
    ws_close_free(&c);
    exec_target(t, sizeof(t), "command=true&stdout=1");
    CHECK_INT(ws_open(&c, t, "channel.k8s.io"), ==, 400); /* an old protocol */
    ws_close_free(&c);
    server_stop();
}

static void test_attach_output_until_exit(void)
{
    need_container();
    char cmd[8192], id[128];
    snprintf(cmd, sizeof(cmd),
             "%s run -d --data-dir %s/data %s sh -c "
             "'sleep 1; echo bye; echo oops >&2; sleep 1; exit 5' 2>&1",
             ctr_reef, ctr_data, ctr_image);
    CHECK(sh_out(cmd, id, sizeof(id)) == 0 && strlen(id) == 64);
    server_start();
    struct wsc c;
    char t[512];
    snprintf(t, sizeof(t), "/attach/%s?stdout=true&stderr=true", id);
    CHECK_INT(ws_open(&c, t, "v5.channel.k8s.io"), ==, 101);
    ws_read_all(&c, 8000);
    CHECK(c.got.closed);
    CHECK_STR(str(&c.got.ch[1]), "bye\n");
    CHECK_STR(str(&c.got.ch[2]), "oops\n");
    CHECK(strstr(str(&c.got.ch[3]), "\"status\":\"Success\"") != NULL);
    ws_close_free(&c);
    server_stop();
    snprintf(cmd, sizeof(cmd), "%s rm -f --data-dir %s/data %s >/dev/null 2>&1", ctr_reef, ctr_data,
             id);
    (void)system(cmd);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    TEST_RUN(test_logs_all_tail_limit);
    TEST_RUN(test_logs_timestamps_and_since);
    TEST_RUN(test_logs_rotated_files);
    TEST_RUN(test_logs_large);
    TEST_RUN(test_logs_follow_until_exit);
    TEST_RUN(test_logs_follow_client_leaves);
    bool want_ctr = argc < 2;
    for (int i = 1; i < argc; i++)
        want_ctr = want_ctr || strstr(argv[i], "exec") || strstr(argv[i], "attach");
    if (want_ctr && ctr_setup() < 0)
        fprintf(stderr, "# container: %s\n", ctr_setup_error);
    TEST_RUN(test_exec_stdout_stderr_success);
    TEST_RUN(test_exec_exit_code);
    TEST_RUN(test_exec_not_found);
    TEST_RUN(test_exec_stdin_and_close);
    TEST_RUN(test_exec_tty_resize);
    TEST_RUN(test_exec_client_leaves_and_bad_requests);
    TEST_RUN(test_attach_output_until_exit);
    ctr_teardown();
    return test_done();
}
