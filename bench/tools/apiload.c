/* apiload: load for reef's API server, and the same load for etcd's v3 JSON gateway, so that
 * bench/api.sh measures both in one run. One libuv loop and core/http_client: every request
 * goes over kept-alive connections (a fresh one only where the mode says so).
 *
 *   apiload [opts] writes URL   N creates then N updates of small ConfigMaps (reef:
 *                               POST/PUT /api/v1/namespaces/default/configmaps; --etcd: POST
 *                               /v3/kv/put of the same JSON under /registry/configmaps/...),
 *                               -c clients at once, each waiting for its reply.
 *   apiload [opts] pods URL     N pod creates (to fill the server for `get`).
 *   apiload [opts] get URL PATH N sequential GETs on one connection (--table: as a Table).
 *   apiload [opts] watch URL    N watches, one connection each (as kubectl and client-go
 *                               open them), then --rounds updates of one watched ConfigMap,
 *                               each timed until every watcher has read its event.
 * Options: -n N, -c CLIENTS, -b VALUE_BYTES, --tag T (names unique per run), --ca FILE,
 *          --token-file FILE, --etcd, --table, --rounds R, --open K (handshakes in flight),
 *          --pid PID (the server's, for its RSS), --insecure (watchers skip verifying the
 *          server certificate: halves the client's share of 10,000 handshakes).
 * Output: one line per figure, "key=value" pairs, for the script to print. Exit 0, or 1 with a
 * message on stderr when any request fails. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/http_client.h"

static struct {
    const char *mode, *url, *path, *ca, *tag;
    char *token;
    int n, conc, vbytes, rounds, open_conc, pid;
    bool etcd, table, insecure;
} o = {.n = 1000, .conc = 1, .vbytes = 100, .rounds = 5, .open_conc = 64, .tag = "t"};

static uv_loop_t *loop;
static struct reef_http_client *cl;
static int failed;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts lat in place and prints the percentiles (in microseconds: the writes' unit). */
static void print_lat(const char *who, const char *what, double *lat, int n, double wall_ms)
{
    qsort(lat, (size_t)n, sizeof(*lat), cmp_d);
    printf("%s %s ops=%d clients=%d ops_per_s=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f "
           "max_us=%.0f\n",
           who, what, n, o.conc, n / (wall_ms / 1e3), lat[n / 2] * 1e3, lat[n * 9 / 10] * 1e3,
           lat[(int)(n * 0.99)] * 1e3, lat[n - 1] * 1e3);
    fflush(stdout);
}

static void fail(const char *what, int result, const struct reef_http_response *res,
                 const struct reef_err *err)
{
    if (result < 0)
        fprintf(stderr, "apiload: %s: %s\n", what, err ? err->msg : strerror(-result));
    else
        fprintf(stderr, "apiload: %s: HTTP %d: %.300s\n", what, res->status, res->body);
    failed = 1;
    uv_stop(loop);
}

static long server_rss_kib(void)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", o.pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static int request(const char *method, const char *path, const char *accept, const char *body,
                   size_t body_len, reef_http_done_cb cb, void *ud,
                   int (*on_head)(void *, const struct reef_http_response *),
                   int (*on_data)(void *, const char *, size_t), struct reef_http_call **call)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", o.url, path);
    struct reef_http_header h[2];
    size_t nh = 0;
    if (body)
        h[nh++] = (struct reef_http_header){"Content-Type", "application/json"};
    if (accept)
        h[nh++] = (struct reef_http_header){"Accept", accept};
    struct reef_http_request rq = {.method = method,
                                   .url = url,
                                   .headers = h,
                                   .nheaders = nh,
                                   .body = body,
                                   .body_len = body_len,
                                   .bearer_token = o.token,
                                   .on_head = on_head,
                                   .on_data = on_data};
    struct reef_err err = {0};
    int r = reef_http_client_request(cl, &rq, cb, ud, call, &err);
    if (r < 0) {
        fprintf(stderr, "apiload: %s %s: %s\n", method, url, err.msg);
        failed = 1;
        uv_stop(loop);
    }
    return r;
}

/* ---- writes and pods: CONC clients, each sending its next request when the last answered ---- */

enum phase { WARM, CREATE, UPDATE, PODS };

static struct {
    enum phase phase, first; /* first: the timed phase WARM leads to */
    int next, done;
    double *lat, t0;
} w;

struct client {
    double t0;
    int idx;
};

static struct client *clients;

static void write_next(struct client *c);

/* Starts every client on a phase: each one sends its first request. */
static void phase_start(enum phase ph)
{
    w.phase = ph;
    w.next = w.done = 0;
    w.t0 = now_ms();
    for (int i = 0; i < o.conc && !failed; i++)
        write_next(&clients[i]);
}

/* The JSON object both systems store (etcd as the value, reef as the ConfigMap it persists). */
static void object_json(struct reef_buf *b, int idx, enum phase ph)
{
    if (ph == PODS) {
        reef_buf_printf(b,
                        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-%s-%d\","
                        "\"labels\":{\"app\":\"bench\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                        "\"image\":\"busybox\"}]}}",
                        o.tag, idx);
        return;
    }
    reef_buf_printf(b,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                    "\"b-%s-%d\",\"namespace\":\"default\"},\"data\":{\"v\":\"",
                    o.tag, idx);
    for (int i = 0; i < o.vbytes; i++)
        reef_buf_putc(b, ph == CREATE ? 'c' : 'u');
    reef_buf_puts(b, "\"}}");
}

static void write_done(void *ud, int result, const struct reef_http_response *res,
                       const struct reef_err *err)
{
    struct client *c = ud;
    int want = o.etcd || w.phase == UPDATE || w.phase == WARM ? 200 : 201;
    if (result < 0 || res->status != want) {
        fail(w.phase == WARM ? "connect" : w.phase == UPDATE ? "update" : "create", result, res,
             err);
        return;
    }
    w.lat[c->idx] = now_ms() - c->t0;
    w.done++;
    if (w.phase == WARM) {
        if (w.done == o.conc)
            phase_start(w.first);
        return;
    }
    write_next(c);
}

static void write_next(struct client *c)
{
    if (failed)
        return;
    if (w.phase == WARM && w.next >= o.conc)
        return;
    if (w.next >= o.n) {
        if (w.done < o.n)
            return; /* others still waiting for their replies */
        const char *who = o.etcd ? "etcd" : "reef";
        print_lat(who, w.phase == CREATE ? "create" : w.phase == UPDATE ? "update" : "pod-create",
                  w.lat, o.n, now_ms() - w.t0);
        if (w.phase != CREATE) {
            uv_stop(loop);
            return;
        }
        /* every client (this one included) waits for nothing now */
        phase_start(UPDATE);
        return;
    }
    c->idx = w.next++;
    if (w.phase == WARM) {
        /* one cheap request per client, all at once: every connection (and its TLS handshake)
         * exists before the clock starts */
        c->t0 = now_ms();
        request("GET", "/version", NULL, NULL, 0, write_done, c, NULL, NULL, NULL);
        return;
    }
    struct reef_buf obj = REEF_BUF_INIT;
    object_json(&obj, c->idx, w.phase);
    char path[256];
    const char *method = "POST";
    struct reef_buf body = REEF_BUF_INIT;
    if (o.etcd) {
        char key[128];
        int kn = snprintf(key, sizeof(key), "/registry/configmaps/default/b-%s-%d", o.tag, c->idx);
        reef_buf_puts(&body, "{\"key\":\"");
        reef_crypto_b64_encode(&body, key, (size_t)kn, REEF_B64_STD);
        reef_buf_puts(&body, "\",\"value\":\"");
        reef_crypto_b64_encode(&body, obj.data, obj.len, REEF_B64_STD);
        reef_buf_puts(&body, "\"}");
        snprintf(path, sizeof(path), "/v3/kv/put");
    } else {
        reef_buf_append(&body, obj.data, obj.len);
        if (w.phase == PODS)
            snprintf(path, sizeof(path), "/api/v1/namespaces/default/pods");
        else if (w.phase == CREATE)
            snprintf(path, sizeof(path), "/api/v1/namespaces/default/configmaps");
        else {
            snprintf(path, sizeof(path), "/api/v1/namespaces/default/configmaps/b-%s-%d", o.tag,
                     c->idx);
            method = "PUT";
        }
    }
    reef_buf_free(&obj);
    if (!body.data) {
        fprintf(stderr, "apiload: out of memory\n");
        failed = 1;
        uv_stop(loop);
        return;
    }
    c->t0 = now_ms();
    request(method, path, NULL, body.data, body.len, write_done, c, NULL, NULL, NULL);
    reef_buf_free(&body);
}

static void writes_start(enum phase ph)
{
    w.first = ph;
    w.lat = calloc((size_t)o.n, sizeof(*w.lat));
    clients = calloc((size_t)o.conc, sizeof(*clients));
    if (!w.lat || !clients) {
        fprintf(stderr, "apiload: out of memory\n");
        failed = 1;
        return;
    }
    if (o.conc > o.n) {
        fprintf(stderr, "apiload: more clients than requests\n");
        failed = 1;
        return;
    }
    phase_start(WARM);
}

/* ---- get: one kept-alive connection; the first request also pays for connect and TLS ---- */

static struct {
    int i;
    double *lat, t0;
    size_t bytes;
} g;

static const char table_accept[] = "application/json;as=Table;v=v1;g=meta.k8s.io,"
                                   "application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                                   "application/json";

static void get_next(void);

static void get_done(void *ud, int result, const struct reef_http_response *res,
                     const struct reef_err *err)
{
    (void)ud;
    if (result < 0 || res->status != 200) {
        fail("get", result, res, err);
        return;
    }
    g.lat[g.i++] = now_ms() - g.t0;
    g.bytes = res->body_len;
    get_next();
}

static void get_next(void)
{
    if (g.i == o.n) {
        double first = g.lat[0];
        int m = o.n - 1;
        if (m > 0)
            qsort(g.lat + 1, (size_t)m, sizeof(double), cmp_d);
        printf("get path=%s table=%d bytes=%zu first_ms=%.1f requests=%d median_ms=%.1f "
               "min_ms=%.1f max_ms=%.1f\n",
               o.path, o.table, g.bytes, first, m, m ? g.lat[1 + m / 2] : first,
               m ? g.lat[1] : first, m ? g.lat[m] : first);
        uv_stop(loop);
        return;
    }
    g.t0 = now_ms();
    request("GET", o.path, o.table ? table_accept : "application/json", NULL, 0, get_done, NULL,
            NULL, NULL, NULL);
}

/* ---- watch: N streams, then updates timed until every stream has carried the event ---- */

struct watcher {
    struct reef_http_call *call;
    struct reef_buf line; /* the event line read so far */
    bool got;
};

static struct {
    struct watcher *ws;
    int next_open, opening, opened, round, ngot;
    double t_open, t0, *got_ms, put_ms, all_ms, best_all;
    bool put_pending, ending;
    char name[64], rv[32];
    long rss0;
    uv_timer_t timer;
} wt;

static void watch_open_more(void);
static void round_start(uv_timer_t *t);

static void watch_end_all(uv_timer_t *t)
{
    (void)t;
    wt.ending = true;
    for (int i = 0; i < o.n; i++)
        if (wt.ws[i].call)
            reef_http_call_cancel(wt.ws[i].call);
    uv_close((uv_handle_t *)&wt.timer, NULL);
    uv_stop(loop);
}

static void watch_done(void *ud, int result, const struct reef_http_response *res,
                       const struct reef_err *err)
{
    struct watcher *x = ud;
    x->call = NULL;
    if (wt.ending)
        return;
    fail("watch ended", result < 0 ? result : -EPIPE, res, err);
}

static int watch_head(void *ud, const struct reef_http_response *res)
{
    (void)ud;
    if (res->status != 200) {
        fprintf(stderr, "apiload: watch: HTTP %d\n", res->status);
        failed = 1;
        uv_stop(loop);
        return -EPROTO;
    }
    /* the server registers the watch before it writes this head */
    wt.opening--;
    wt.opened++;
    if (wt.opened == o.n) {
        printf("watch open=%d seconds=%.1f table=%d\n", o.n, (now_ms() - wt.t_open) / 1e3,
               o.table);
        fflush(stdout);
        uv_timer_start(&wt.timer, round_start, 2000, 0); /* let the server settle */
    } else {
        watch_open_more();
    }
    return 0;
}

static void round_done(void);

static int watch_data(void *ud, const char *data, size_t len)
{
    struct watcher *x = ud;
    if (reef_buf_append(&x->line, data, len) < 0 || x->line.len > (1u << 20))
        return -ENOMEM;
    char *nl;
    while ((nl = memchr(x->line.data, '\n', x->line.len))) {
        *nl = 0;
        if (wt.t0 > 0 && !x->got && strstr(x->line.data, "\"MODIFIED\"")) {
            x->got = true;
            wt.got_ms[wt.ngot++] = now_ms() - wt.t0;
            if (wt.ngot == o.n) {
                wt.all_ms = now_ms() - wt.t0;
                if (!wt.put_pending)
                    round_done();
            }
        }
        size_t rest = x->line.len - (size_t)(nl + 1 - x->line.data);
        memmove(x->line.data, nl + 1, rest);
        x->line.len = rest;
    }
    return 0;
}

static void watch_open_more(void)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=%s",
             wt.rv);
    while (!failed && wt.opening < o.open_conc && wt.next_open < o.n) {
        struct watcher *x = &wt.ws[wt.next_open++];
        wt.opening++;
        request("GET", path, o.table ? table_accept : "application/json", NULL, 0, watch_done, x,
                watch_head, watch_data, &x->call);
    }
}

static void put_done(void *ud, int result, const struct reef_http_response *res,
                     const struct reef_err *err)
{
    (void)ud;
    wt.put_pending = false;
    if (result < 0 || res->status != 200) {
        fail("update of the watched object", result, res, err);
        return;
    }
    wt.put_ms = now_ms() - wt.t0;
    if (wt.ngot == o.n) /* the server writes the events before it answers the update */
        round_done();
}

static void round_start(uv_timer_t *t)
{
    (void)t;
    if (wt.round == 0 && o.pid) {
        long rss = server_rss_kib();
        printf("watch server_rss_kib=%ld before_kib=%ld per_watch_kib=%.1f\n", rss, wt.rss0,
               (double)(rss - wt.rss0) / o.n);
    }
    wt.ngot = 0;
    for (int i = 0; i < o.n; i++)
        wt.ws[i].got = false;
    char path[256], body[256];
    snprintf(path, sizeof(path), "/api/v1/namespaces/default/configmaps/%s", wt.name);
    int bn = snprintf(body, sizeof(body),
                      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
                      "\"data\":{\"v\":\"round-%d\"}}",
                      wt.name, wt.round + 1);
    wt.put_pending = true;
    wt.t0 = now_ms();
    request("PUT", path, NULL, body, (size_t)bn, put_done, NULL, NULL, NULL, NULL);
}

static void round_done(void)
{
    double all = wt.all_ms;
    qsort(wt.got_ms, (size_t)o.n, sizeof(double), cmp_d);
    wt.round++;
    printf("watch round=%d watchers=%d first_ms=%.1f median_ms=%.1f all_ms=%.1f "
           "update_reply_ms=%.1f\n",
           wt.round, o.n, wt.got_ms[0], wt.got_ms[o.n / 2], all, wt.put_ms);
    fflush(stdout);
    if (wt.round == 1 || all < wt.best_all)
        wt.best_all = all;
    wt.t0 = 0;
    if (wt.round < o.rounds) {
        uv_timer_start(&wt.timer, round_start, 500, 0);
        return;
    }
    if (o.pid)
        printf("watch server_rss_kib=%ld after_rounds=1\n", server_rss_kib());
    printf("watch best_all_ms=%.1f rounds=%d\n", wt.best_all, o.rounds);
    /* not from inside a stream's own callback: cancel from the loop */
    uv_timer_start(&wt.timer, watch_end_all, 0, 0);
}

static void watched_created(void *ud, int result, const struct reef_http_response *res,
                            const struct reef_err *err)
{
    (void)ud;
    if (result < 0 || res->status != 201) {
        fail("create of the watched object", result, res, err);
        return;
    }
    const char *p = strstr(res->body, "\"resourceVersion\":\"");
    if (!p || sscanf(p + 19, "%31[0-9]", wt.rv) != 1) {
        fprintf(stderr, "apiload: no resourceVersion in %.200s\n", res->body);
        failed = 1;
        uv_stop(loop);
        return;
    }
    wt.rss0 = o.pid ? server_rss_kib() : 0;
    wt.t_open = now_ms();
    watch_open_more();
}

static void watch_start(void)
{
    wt.ws = calloc((size_t)o.n, sizeof(*wt.ws));
    wt.got_ms = calloc((size_t)o.n, sizeof(double));
    if (!wt.ws || !wt.got_ms) {
        fprintf(stderr, "apiload: out of memory\n");
        failed = 1;
        return;
    }
    uv_timer_init(loop, &wt.timer);
    snprintf(wt.name, sizeof(wt.name), "watched-%s", o.tag);
    char body[256];
    int bn = snprintf(body, sizeof(body),
                      "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
                      "\"data\":{\"v\":\"round-0\"}}",
                      wt.name);
    request("POST", "/api/v1/namespaces/default/configmaps", NULL, body, (size_t)bn,
            watched_created, NULL, NULL, NULL, NULL);
}

/* ---- main ---- */

static int usage(void)
{
    fprintf(stderr, "usage: apiload [-n N] [-c CLIENTS] [-b BYTES] [--tag T] [--ca FILE] "
                    "[--token-file FILE] [--etcd] [--table] [--rounds R] [--open K] [--pid PID] "
                    "[--insecure] writes|pods|watch URL | get URL PATH\n");
    return 2;
}

static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char buf[512];
    char *t = fgets(buf, sizeof(buf), f) ? strdup(buf) : NULL;
    fclose(f);
    if (t)
        t[strcspn(t, "\r\n")] = 0;
    return t;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"ca", required_argument, NULL, 'C'},     {"token-file", required_argument, NULL, 'T'},
        {"tag", required_argument, NULL, 'g'},    {"etcd", no_argument, NULL, 'e'},
        {"table", no_argument, NULL, 't'},        {"rounds", required_argument, NULL, 'r'},
        {"open", required_argument, NULL, 'o'},   {"pid", required_argument, NULL, 'p'},
        {"insecure", no_argument, NULL, 'k'},     {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "n:c:b:", lo, NULL)) != -1) {
        switch (ch) {
        case 'n': o.n = atoi(optarg); break;
        case 'c': o.conc = atoi(optarg); break;
        case 'b': o.vbytes = atoi(optarg); break;
        case 'C': o.ca = optarg; break;
        case 'T':
            if (!(o.token = read_token(optarg))) {
                fprintf(stderr, "apiload: %s: %s\n", optarg, strerror(errno));
                return 1;
            }
            break;
        case 'g': o.tag = optarg; break;
        case 'e': o.etcd = true; break;
        case 't': o.table = true; break;
        case 'r': o.rounds = atoi(optarg); break;
        case 'o': o.open_conc = atoi(optarg); break;
        case 'p': o.pid = atoi(optarg); break;
        case 'k': o.insecure = true; break;
        default: return usage();
        }
    }
    if (argc - optind < 2 || o.n < 1 || o.conc < 1 || o.vbytes < 0 || o.rounds < 1 ||
        o.open_conc < 1)
        return usage();
    o.mode = argv[optind];
    o.url = argv[optind + 1];
    if (strcmp(o.mode, "get") == 0) {
        if (argc - optind < 3)
            return usage();
        o.path = argv[optind + 2];
    }
    signal(SIGPIPE, SIG_IGN);
    /* a watch holds a descriptor: take what the hard limit allows */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    loop = uv_default_loop();
    struct reef_http_client_opts co = {.ca_file = o.ca,
                                       .insecure_skip_verify = o.insecure,
                                       .connect_timeout_ms = 120000,
                                       .response_timeout_ms = 120000,
                                       .max_idle_per_host = (unsigned)o.conc + 8};
    struct reef_err err = {0};
    cl = reef_http_client_new(loop, &co, &err);
    if (!cl) {
        fprintf(stderr, "apiload: %s\n", err.msg);
        return 1;
    }
    if (strcmp(o.mode, "writes") == 0) {
        writes_start(CREATE);
    } else if (strcmp(o.mode, "pods") == 0) {
        writes_start(PODS);
    } else if (strcmp(o.mode, "get") == 0) {
        g.lat = calloc((size_t)o.n, sizeof(double));
        get_next();
    } else if (strcmp(o.mode, "watch") == 0) {
        watch_start();
    } else {
        reef_http_client_free(cl);
        uv_run(loop, UV_RUN_DEFAULT);
        return usage();
    }
    if (!failed)
        uv_run(loop, UV_RUN_DEFAULT);
    if (wt.ws && !wt.ending) {
        wt.ending = true;
        for (int i = 0; i < o.n; i++)
            if (wt.ws[i].call)
                reef_http_call_cancel(wt.ws[i].call);
        uv_close((uv_handle_t *)&wt.timer, NULL);
    }
    reef_http_client_free(cl);
    uv_run(loop, UV_RUN_DEFAULT);
    for (int i = 0; wt.ws && i < o.n; i++)
        reef_buf_free(&wt.ws[i].line);
    free(wt.ws);
    free(wt.got_ms);
    free(w.lat);
    free(clients);
    free(g.lat);
    free(o.token);
    uv_loop_close(loop);
    return failed;
}
