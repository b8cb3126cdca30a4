/* Unit tests for orchestrate/probe: httpGet, tcpSocket and grpc probes against listeners this test
 * runs on 127.0.0.1 (for grpc also etcd, a real grpc-go server), exec probes in a real busybox
 * container (root), Kubernetes' thresholds. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "orchestrate/probe.h"
#include "tests/unit/probe_fixture.h"

/* ---------- a small HTTP server on its own thread ---------- */

static int http_port;
static atomic_int requests, toggle_status = 200;
static char last_request[4096];
static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;

static void *http_thread(void *arg)
{
    int ls = (int)(intptr_t)arg;
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0)
            continue;
        char req[4096];
        size_t got = 0;
        while (got < sizeof(req) - 1 && !memmem(req, got, "\r\n\r\n", 4)) {
            ssize_t n = read(c, req + got, sizeof(req) - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        req[got] = '\0';
        atomic_fetch_add(&requests, 1);
        pthread_mutex_lock(&last_mu);
        memcpy(last_request, req, got + 1);
        pthread_mutex_unlock(&last_mu);
        int status = 200;
        const char *extra = "";
        if (strncmp(req, "GET /err", 8) == 0)
            status = 500;
        else if (strncmp(req, "GET /redir", 10) == 0) {
            status = 302;
            extra = "Location: http://elsewhere.invalid/\r\n";
        } else if (strncmp(req, "GET /toggle", 11) == 0)
            status = atomic_load(&toggle_status);
        else if (strncmp(req, "GET /slow", 9) == 0)
            usleep(2500 * 1000);
        char resp[512];
        int n = snprintf(resp, sizeof(resp),
                         "HTTP/1.1 %d X\r\n%sContent-Length: 2\r\nConnection: close\r\n\r\nok",
                         status, extra);
        ssize_t w = write(c, resp, (size_t)n);
        (void)w;
        close(c);
    }
    return NULL;
}

static int listen_any(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0)
        return -1;
    getsockname(s, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    return s;
}

static void start_http(void)
{
    int s = listen_any(&http_port);
    CHECK(s >= 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, http_thread, (void *)(intptr_t)s) == 0);
    pthread_detach(t);
}

/* ---------- recording results ---------- */

struct rec {
    int n;
    enum reef_probe_result r[32];
    char msg[32][512];
    int requests_at[32];
};

static void on_result(void *ud, enum reef_probe_result r, const char *m)
{
    struct rec *rc = ud;
    if (rc->n < 32) {
        rc->r[rc->n] = r;
        snprintf(rc->msg[rc->n], sizeof(rc->msg[0]), "%s", m);
        rc->requests_at[rc->n] = atomic_load(&requests);
    }
    rc->n++;
}

static bool have_one(void *ud)
{
    return ((struct rec *)ud)->n >= 1;
}
static bool have_two(void *ud)
{
    return ((struct rec *)ud)->n >= 2;
}
static bool never(void *ud)
{
    (void)ud;
    return false;
}

static uv_loop_t loop;

static struct reef_probe *start_probe(const char *json, const struct reef_probe_target *t,
                                      struct rec *rc)
{
    struct reef_probe *p = NULL;
    struct reef_err err = {0};
    int r = reef_probe_start(&loop, json, strlen(json), t, on_result, rc, &p, &err);
    if (r < 0)
        fprintf(stderr, "reef_probe_start: %s\n", err.msg);
    CHECK_INT(r, ==, 0);
    return p;
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    start_http();
}

static void finish_probe(struct reef_probe *p)
{
    reef_probe_stop(p);
    CHECK_INT(loop_finish(&loop), ==, 0);
}

static const struct reef_probe_target local = {.pod_ip = "127.0.0.1"};

/* ---------- the rules alone ---------- */

static void test_rules(void)
{
    /* UNKNOWN needs a full run either way; then runs shorter than a threshold keep the result. */
    struct reef_probe_rules r = {.success_threshold = 2, .failure_threshold = 3};
    static const struct {
        bool ok, changed;
        enum reef_probe_result after;
    } steps[] = {
        {false, false, REEF_PROBE_UNKNOWN}, {false, false, REEF_PROBE_UNKNOWN},
        {true, false, REEF_PROBE_UNKNOWN},  {true, true, REEF_PROBE_SUCCESS},
        {true, false, REEF_PROBE_SUCCESS},  {false, false, REEF_PROBE_SUCCESS},
        {false, false, REEF_PROBE_SUCCESS}, {true, false, REEF_PROBE_SUCCESS},
        {false, false, REEF_PROBE_SUCCESS}, {false, false, REEF_PROBE_SUCCESS},
        {false, true, REEF_PROBE_FAILURE},  {false, false, REEF_PROBE_FAILURE},
        {true, false, REEF_PROBE_FAILURE},  {false, false, REEF_PROBE_FAILURE},
        {true, false, REEF_PROBE_FAILURE},  {true, true, REEF_PROBE_SUCCESS},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        CHECK_INT(reef_probe_rules_record(&r, steps[i].ok), ==, steps[i].changed);
        CHECK_INT(r.result, ==, steps[i].after);
    }
    struct reef_probe_rules one = {.success_threshold = 1, .failure_threshold = 1};
    CHECK(reef_probe_rules_record(&one, false));
    CHECK_INT(one.result, ==, REEF_PROBE_FAILURE);
    CHECK(!reef_probe_rules_record(&one, false));
    CHECK(reef_probe_rules_record(&one, true));
}

/* ---------- httpGet ---------- */

static void test_http_200_success_once(void)
{
    setup();
    char j[256];
    snprintf(j, sizeof(j),
             "{\"httpGet\":{\"path\":\"/healthz\",\"port\":%d,\"httpHeaders\":[{\"name\":"
             "\"X-Custom\",\"value\":\"yes\"}]},\"periodSeconds\":1}",
             http_port);
    struct rec rc = {0};
    struct reef_probe *p = start_probe(j, &local, &rc);
    CHECK(run_until(&loop, have_one, &rc, 5000));
    CHECK_INT(rc.r[0], ==, REEF_PROBE_SUCCESS);
    CHECK_INT(reef_probe_result(p), ==, REEF_PROBE_SUCCESS);
    /* More successful periods change nothing: no more callbacks. */
    int before = atomic_load(&requests);
    run_until(&loop, never, NULL, 2300);
    CHECK(atomic_load(&requests) >= before + 2);
    CHECK_INT(rc.n, ==, 1);
    pthread_mutex_lock(&last_mu);
    CHECK(strstr(last_request, "GET /healthz HTTP/1.1\r\n") == last_request);
    CHECK(strstr(last_request, "X-Custom: yes\r\n") != NULL);
    CHECK(strstr(last_request, "User-Agent: kube-probe/") != NULL);
    pthread_mutex_unlock(&last_mu);
    finish_probe(p);
}

static void test_http_302_is_success(void)
{
    setup();
    char j[256];
    snprintf(j, sizeof(j), "{\"httpGet\":{\"path\":\"/redir\",\"port\":%d},\"periodSeconds\":1}",
             http_port);
    struct rec rc = {0};
    struct reef_probe *p = start_probe(j, &local, &rc);
    CHECK(run_until(&loop, have_one, &rc, 5000));
    CHECK_INT(rc.r[0], ==, REEF_PROBE_SUCCESS);
    CHECK_INT(atomic_load(&requests), ==, 1); /* the redirect to another host was not followed */
    finish_probe(p);
}

static void test_http_500_fails_after_threshold(void)
{
    setup();
    char j[256];
    snprintf(j, sizeof(j),
             "{\"httpGet\":{\"path\":\"/err\",\"port\":%d},\"periodSeconds\":1,"
             "\"failureThreshold\":2}",
             http_port);
    struct rec rc = {0};
    struct reef_probe *p = start_probe(j, &local, &rc);
    CHECK(run_until(&loop, have_one, &rc, 6000));
    CHECK_INT(rc.r[0], ==, REEF_PROBE_FAILURE);
    CHECK_STR(rc.msg[0], "HTTP probe failed with statuscode: 500");
    CHECK_INT(rc.requests_at[0], ==, 2); /* not before the second failure */
    finish_probe(p);
}

static void test_http_thresholds_flip(void)
{
    setup();
    atomic_store(&toggle_status, 200);
    char j[256];
    snprintf(j, sizeof(j),
             "{\"httpGet\":{\"path\":\"/toggle\",\"port\":%d},\"periodSeconds\":1,"
             "\"successThreshold\":2,\"failureThreshold\":1}",
             http_port);
    struct rec rc = {0};
    struct reef_probe *p = start_probe(j, &local, &rc);
    CHECK(run_until(&loop, have_one, &rc, 6000));
    CHECK_INT(rc.r[0], ==, REEF_PROBE_SUCCESS);
    CHECK_INT(rc.requests_at[0], ==, 2); /* two successes needed */
    atomic_store(&toggle_status, 503);
    CHECK(run_until(&loop, have_two, &rc, 6000));
    CHECK_INT(rc.r[1], ==, REEF_PROBE_FAILURE);
    CHECK_STR(rc.msg[1], "HTTP probe failed with statuscode: 503");
    CHECK_INT(rc.requests_at[1], ==, rc.requests_at[0] + 1); /* one failure is enough */
    finish_probe(p);
}

static void test_http_slow_times_out(void)
{
    setup();
    char j[256];
    snprintf(j, sizeof(j),
             "{\"httpGet\":{\"path\":\"/slow\",\"port\":%d},\"periodSeconds\":5,"
             "\"timeoutSeconds\":1,\"failureThreshold\":1}",
             http_port);
    struct rec rc = {0};
    struct reef_probe *p = start_probe(j, &local, &rc);
    CHECK(run_until(&loop, have_one, &rc, 4000));
    CHECK_INT(rc.r[0], ==, REEF_PROBE_FAILURE);
    CHECK(strstr(rc.msg[0], "deadline exceeded") != NULL);
    CHECK(strstr(rc.msg[0], "/slow") != NULL);
    finish_probe(p);
}

static void test_http_refused_and_named_port(void)
{
    setup();
    int dead;
    int s = listen_any(&dead);
    close(s); /* nothing listens there now */
    char ports[256], j[256];
    snprintf(ports, sizeof(ports),
             "[{\"name\":\"web\",\"containerPort\":%d},{\"name\":\"dead\",\"containerPort\":%d}]",
             http_port, dead);
    struct reef_probe_target t = {.pod_ip = "127.0.0.1", .ports_json = ports};
    struct rec ok = {0}, bad = {0}, missing = {0};
    struct reef_probe *p1 =
        start_probe("{\"httpGet\":{\"path\":\"/\",\"port\":\"web\"},\"periodSeconds\":1}", &t, &ok);
    struct reef_probe *p2 = start_probe(
        "{\"httpGet\":{\"port\":\"dead\"},\"periodSeconds\":1,\"failureThreshold\":1}", &t, &bad);
    struct reef_probe *p3 =
        start_probe("{\"httpGet\":{\"port\":\"nope\"},\"periodSeconds\":1,\"failureThreshold\":1}",
                    &t, &missing);
    CHECK(run_until(&loop, have_one, &ok, 5000));
    CHECK(run_until(&loop, have_one, &bad, 5000));
    CHECK(run_until(&loop, have_one, &missing, 5000));
    CHECK_INT(ok.r[0], ==, REEF_PROBE_SUCCESS);
    CHECK_INT(bad.r[0], ==, REEF_PROBE_FAILURE);
    CHECK(strstr(bad.msg[0], "refused") != NULL);
    snprintf(j, sizeof(j), "Get \"http://127.0.0.1:%d/\"", dead);
    CHECK(strstr(bad.msg[0], j) == bad.msg[0]);
    CHECK_INT(missing.r[0], ==, REEF_PROBE_FAILURE);
    CHECK_STR(missing.msg[0], "couldn't find port: nope");
    reef_probe_stop(p1);
    reef_probe_stop(p2);
    finish_probe(p3);
}

/* ---------- tcpSocket ---------- */

static void test_tcp_open_and_refused(void)
{
    setup();
    int dead;
    int s = listen_any(&dead);
    close(s);
    char j1[128], j2[160];
    snprintf(j1, sizeof(j1), "{\"tcpSocket\":{\"port\":%d},\"periodSeconds\":1}", http_port);
    snprintf(j2, sizeof(j2),
             "{\"tcpSocket\":{\"port\":%d,\"host\":\"127.0.0.1\"},\"periodSeconds\":1,"
             "\"failureThreshold\":1}",
             dead);
    struct rec ok = {0}, bad = {0};
    struct reef_probe *p1 = start_probe(j1, &local, &ok);
    struct reef_probe *p2 = start_probe(j2, &local, &bad);
    CHECK(run_until(&loop, have_one, &ok, 5000));
    CHECK(run_until(&loop, have_one, &bad, 5000));
    CHECK_INT(ok.r[0], ==, REEF_PROBE_SUCCESS);
    CHECK_INT(bad.r[0], ==, REEF_PROBE_FAILURE);
    char want[128];
    snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", dead);
    CHECK_STR(bad.msg[0], want);
    reef_probe_stop(p1);
    finish_probe(p2);
}

static void test_initial_delay(void)
{
    setup();
    char j[160];
    snprintf(j, sizeof(j),
             "{\"tcpSocket\":{\"port\":%d},\"periodSeconds\":1,\"initialDelaySeconds\":2}",
             http_port);
    struct rec rc = {0};
    struct reef_probe *p = start_probe(j, &local, &rc);
    run_until(&loop, never, NULL, 1200);
    CHECK_INT(rc.n, ==, 0); /* nothing within the delay */
    CHECK_INT(reef_probe_result(p), ==, REEF_PROBE_UNKNOWN);
    CHECK(run_until(&loop, have_one, &rc, 5000));
    CHECK_INT(rc.r[0], ==, REEF_PROBE_SUCCESS);
    finish_probe(p);
}

/* ---------- grpc ---------- */

/* A gRPC server of this test's own on its own thread: it reads the client's request and answers
 * with the frames grpc-go sends for HealthCheckResponse{status}; mute accepts and never answers. */
struct fake_grpc {
    int ls, port, status;
    bool mute;
};

static void *fake_grpc_thread(void *arg)
{
    struct fake_grpc *f = arg;
    for (;;) {
        int c = accept(f->ls, NULL, NULL);
        if (c < 0)
            continue;
        char req[4096];
        ssize_t n = 0, got = 0;
        /* the whole request: preface, SETTINGS, HEADERS, then DATA with END_STREAM (flags 1) */
        while (got < (ssize_t)sizeof(req) && (n = read(c, req + got, sizeof(req) - got)) > 0) {
            got += n;
            if (got > 40 && memmem(req, (size_t)got, "\x00\x01\x00\x00\x00\x01", 6))
                break;
        }
        if (f->mute) {
            sleep(3);
            close(c);
            continue;
        }
        static const uint8_t head[] = {
            0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100, /* SETTINGS */
            0, 0, 0, 4, 1, 0, 0, 0, 0,                     /* SETTINGS ACK */
            0, 0, 1, 1, 4, 0, 0, 0, 1, 0x88,               /* HEADERS :status 200 */
        };
        uint8_t data[] = {0, 0, 7, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 8, (uint8_t)f->status};
        static const uint8_t trailers[] = {0, 0, 15, 1, 5, 0, 0, 0, 1, 0x40, 11, 'g', 'r', 'p',
                                           'c', '-', 's', 't', 'a', 't', 'u', 's', 1, '0'};
        uint8_t out[128];
        memcpy(out, head, sizeof(head));
        memcpy(out + sizeof(head), data, sizeof(data));
        memcpy(out + sizeof(head) + sizeof(data), trailers, sizeof(trailers));
        ssize_t w = write(c, out, sizeof(head) + sizeof(data) + sizeof(trailers));
        (void)w;
        usleep(100 * 1000);
        close(c);
    }
    return NULL;
}

static void start_fake_grpc(struct fake_grpc *f)
{
    f->ls = listen_any(&f->port);
    CHECK(f->ls >= 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fake_grpc_thread, f) == 0);
    pthread_detach(t);
}

static struct rec grpc_once(int port, const char *service)
{
    char j[256];
    snprintf(j, sizeof(j),
             "{\"grpc\":{\"port\":%d,\"service\":\"%s\"},\"periodSeconds\":1,"
             "\"failureThreshold\":1}",
             port, service);
    struct rec rc = {0};
    uv_loop_init(&loop); /* each call runs the loop down and closes it */
    struct reef_probe *p = start_probe(j, &local, &rc);
    CHECK(run_until(&loop, have_one, &rc, 5000));
    finish_probe(p);
    return rc;
}

static void test_grpc_fake_server(void)
{
    signal(SIGPIPE, SIG_IGN);
    start_http();
    static struct fake_grpc serving = {.status = 1}, not_serving = {.status = 2},
                            mute = {.mute = true};
    start_fake_grpc(&serving);
    start_fake_grpc(&not_serving);
    start_fake_grpc(&mute);
    struct rec rc = grpc_once(serving.port, "");
    CHECK_INT(rc.r[0], ==, REEF_PROBE_SUCCESS);
    rc = grpc_once(not_serving.port, "shop");
    CHECK_INT(rc.r[0], ==, REEF_PROBE_FAILURE);
    CHECK_STR(rc.msg[0], "service unhealthy (responded with \"NOT_SERVING\")");
    rc = grpc_once(mute.port, "");
    CHECK_INT(rc.r[0], ==, REEF_PROBE_FAILURE);
    CHECK_STR(rc.msg[0], "timeout: health rpc did not complete within 1s");
    int dead;
    close(listen_any(&dead));
    rc = grpc_once(dead, "");
    CHECK_INT(rc.r[0], ==, REEF_PROBE_FAILURE);
    char want[160];
    snprintf(want, sizeof(want),
             "error: failed to connect service at \"127.0.0.1:%d\": connection refused", dead);
    CHECK_STR(rc.msg[0], want);
    /* an HTTP/1.1 server is not a gRPC one */
    rc = grpc_once(http_port, "");
    CHECK_INT(rc.r[0], ==, REEF_PROBE_FAILURE);
    CHECK(strstr(rc.msg[0], "error: health rpc probe failed: ") == rc.msg[0]);
}

static pid_t etcd_pid = -1;
static char etcd_dir[] = "/tmp/reef-probe-etcd.XXXXXX";

/* at exit, failed or not: etcd stopped by its PID, its directory removed */
static void stop_etcd(void)
{
    if (etcd_pid > 0) {
        kill(etcd_pid, SIGTERM);
        waitpid(etcd_pid, NULL, 0);
        etcd_pid = -1;
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", etcd_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", etcd_dir);
}

/* etcd serves gRPC's standard health service (grpc-go's): a real server on 127.0.0.1. */
static void test_grpc_etcd(void)
{
    signal(SIGPIPE, SIG_IGN);
    int cport, pport;
    close(listen_any(&cport));
    close(listen_any(&pport));
    char *dir = etcd_dir;
    CHECK(mkdtemp(dir) != NULL);
    atexit(stop_etcd);
    char client[64], peer[64], cluster[96];
    snprintf(client, sizeof(client), "http://127.0.0.1:%d", cport);
    snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", pport);
    snprintf(cluster, sizeof(cluster), "probe=%s", peer);
    pid_t pid = etcd_pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test killed on its timeout takes etcd along */
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execlp("etcd", "etcd", "--name", "probe", "--data-dir", dir, "--listen-client-urls",
               client, "--advertise-client-urls", client, "--listen-peer-urls", peer,
               "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    /* until it answers (or 10 s) */
    struct rec rc = {0};
    for (int i = 0; i < 40; i++) {
        rc = grpc_once(cport, "");
        if (rc.r[0] == REEF_PROBE_SUCCESS)
            break;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            pid = etcd_pid = -1;
            break;
        }
        usleep(250 * 1000);
    }
    if (pid < 0)
        TEST_FAIL("etcd did not start (apt-get install etcd-server)");
    CHECK_INT(rc.r[0], ==, REEF_PROBE_SUCCESS);
    /* a service etcd does not know: grpc-go answers NotFound in trailers alone */
    rc = grpc_once(cport, "no.such.Service");
    CHECK_INT(rc.r[0], ==, REEF_PROBE_FAILURE);
    CHECK_STR(rc.msg[0], "error: health rpc probe failed: the server answered with an error status");
    stop_etcd();
    CHECK(access(dir, F_OK) < 0);
}

static void test_invalid(void)
{
    setup();
    struct rec rc = {0};
    struct reef_err err = {0};
    struct reef_probe *q = NULL;
    CHECK_INT(
        reef_probe_start(&loop, "{\"periodSeconds\":1}", 19, &local, on_result, &rc, &q, &err), ==,
        -EINVAL);
    CHECK(q == NULL);
    CHECK_INT(reef_probe_start(&loop, "{nope", 5, &local, on_result, &rc, &q, &err), ==, -EINVAL);
    CHECK_INT(reef_probe_start(&loop, "{\"exec\":{\"command\":[]}}", 23, &local, on_result, &rc, &q,
                               &err),
              ==, -EINVAL);
    CHECK_INT(reef_probe_start(&loop, "{\"grpc\":{\"port\":\"http\"}}", 24, &local, on_result, &rc,
                               &q, &err),
              ==, -EINVAL);
    CHECK_STR(err.msg, "probe: grpc needs a port number from 1 to 65535");
    CHECK_INT(loop_finish(&loop), ==, 0);
}

static bool one_request(void *ud)
{
    (void)ud;
    return atomic_load(&requests) == 1;
}

static void test_stop_during_attempt(void)
{
    setup();
    char j[256];
    snprintf(j, sizeof(j),
             "{\"httpGet\":{\"path\":\"/slow\",\"port\":%d},\"timeoutSeconds\":2,"
             "\"failureThreshold\":1}",
             http_port);
    struct rec rc = {0};
    struct reef_probe *p = start_probe(j, &local, &rc);
    CHECK(run_until(&loop, one_request, NULL, 5000)); /* the request is in flight */
    reef_probe_stop(p);
    run_until(&loop, never, NULL, 2500);
    CHECK_INT(rc.n, ==, 0);
    CHECK_INT(loop_finish(&loop), ==, 0);
}

/* ---------- exec, in a real container ---------- */

static struct reef_probe_target ctr_target(void)
{
    struct reef_probe_target t = {
        .containers_dir = ctr_containers, .id = ctr_id, .pod_ip = "127.0.0.1"};
    return t;
}

static void need_container(void)
{
    if (!ctr_id[0])
        TEST_FAIL("no container: %s", ctr_setup_error);
}

static void test_exec_success_and_failure(void)
{
    need_container();
    setup();
    struct reef_probe_target t = ctr_target();
    struct rec ok = {0}, bad = {0}, nf = {0};
    struct reef_probe *p1 =
        start_probe("{\"exec\":{\"command\":[\"true\"]},\"periodSeconds\":1}", &t, &ok);
    struct reef_probe *p2 = start_probe("{\"exec\":{\"command\":[\"sh\",\"-c\",\"echo not "
                                        "healthy; echo more >&2; exit 3\"]},\"periodSeconds\":1,"
                                        "\"failureThreshold\":1}",
                                        &t, &bad);
    struct reef_probe *p3 = start_probe(
        "{\"exec\":{\"command\":[\"nosuchcmd\"]},\"periodSeconds\":1,\"failureThreshold\":1}", &t,
        &nf);
    CHECK(run_until(&loop, have_one, &ok, 8000));
    CHECK(run_until(&loop, have_one, &bad, 8000));
    CHECK(run_until(&loop, have_one, &nf, 8000));
    CHECK_INT(ok.r[0], ==, REEF_PROBE_SUCCESS);
    CHECK_INT(bad.r[0], ==, REEF_PROBE_FAILURE);
    CHECK_STR(bad.msg[0], "not healthy\nmore\n");
    CHECK_INT(nf.r[0], ==, REEF_PROBE_FAILURE);
    CHECK(strstr(nf.msg[0], "executable file not found") != NULL);
    reef_probe_stop(p1);
    reef_probe_stop(p2);
    finish_probe(p3);
}

/* Processes whose command line is exactly argv (NUL-separated). */
static int count_procs(const char *cmdline, size_t len)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[300], buf[256];
        snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        size_t got = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        if (got == len && memcmp(buf, cmdline, len) == 0)
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

static bool sleeper_gone(void *ud)
{
    (void)ud;
    return count_procs("sleep\0"
                       "4242\0",
                       11) == 0;
}

static void test_exec_timeout_kills(void)
{
    need_container();
    setup();
    struct reef_probe_target t = ctr_target();
    struct rec rc = {0};
    struct reef_probe *p = start_probe("{\"exec\":{\"command\":[\"sleep\",\"4242\"]},"
                                       "\"periodSeconds\":10,\"timeoutSeconds\":1,"
                                       "\"failureThreshold\":1}",
                                       &t, &rc);
    CHECK(run_until(&loop, have_one, &rc, 5000));
    CHECK_INT(rc.r[0], ==, REEF_PROBE_FAILURE);
    CHECK_STR(rc.msg[0], "command \"sleep 4242\" timed out");
    CHECK(run_until(&loop, sleeper_gone, NULL, 5000)); /* the command was killed */
    finish_probe(p);
}

static bool sleeper_running(void *ud)
{
    (void)ud;
    return count_procs("sleep\0"
                       "4243\0",
                       11) == 1;
}

static void test_exec_stop_while_running(void)
{
    need_container();
    setup();
    struct reef_probe_target t = ctr_target();
    struct rec rc = {0};
    struct reef_probe *p = start_probe("{\"exec\":{\"command\":[\"sleep\",\"4243\"]},"
                                       "\"timeoutSeconds\":5}",
                                       &t, &rc);
    CHECK(run_until(&loop, sleeper_running, NULL, 5000));
    reef_probe_stop(p);
    CHECK_INT(loop_finish(&loop), ==, 0);
    for (int i = 0; i < 100 && count_procs("sleep\0"
                                           "4243\0",
                                           11);
         i++)
        usleep(50000);
    CHECK_INT(count_procs("sleep\0"
                          "4243\0",
                          11),
              ==, 0);
    CHECK_INT(rc.n, ==, 0);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    TEST_RUN(test_rules);
    TEST_RUN(test_http_200_success_once);
    TEST_RUN(test_http_302_is_success);
    TEST_RUN(test_http_500_fails_after_threshold);
    TEST_RUN(test_http_thresholds_flip);
    TEST_RUN(test_http_slow_times_out);
    TEST_RUN(test_http_refused_and_named_port);
    TEST_RUN(test_tcp_open_and_refused);
    TEST_RUN(test_initial_delay);
    TEST_RUN(test_grpc_fake_server);
    TEST_RUN(test_grpc_etcd);
    TEST_RUN(test_invalid);
    TEST_RUN(test_stop_during_attempt);
    bool want_ctr = argc < 2 || strstr(argv[1], "exec");
    for (int i = 2; i < argc; i++)
        want_ctr = want_ctr || strstr(argv[i], "exec");
    if (want_ctr && ctr_setup() < 0)
        fprintf(stderr, "# container: %s\n", ctr_setup_error);
    TEST_RUN(test_exec_success_and_failure);
    TEST_RUN(test_exec_timeout_kills);
    TEST_RUN(test_exec_stop_while_running);
    ctr_teardown();
    return test_done();
}
