/* probe: container probes by Kubernetes' rules (docs/PODIO.md). Each attempt is a heap object
 * that outlives a stopped probe until its handles are closed; the probe itself is freed when the
 * last of its handles and attempts is gone. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/http_client.h"
#include "core/json.h"
#include "orchestrate/probe_int.h"
#include "runtime/shim.h"

#define OUTPUT_MAX 10240 /* as much of an exec probe's output as the kubelet keeps */
#define PROBE_UA "kube-probe/1.32"

void reef__probe_unref(struct reef_probe *p)
{
    if (--p->refs > 0 || !p->stopping)
        return;
    if (p->hc)
        reef_http_client_free(p->hc);
    free(p->port_error);
    free(p->containers_dir);
    free(p->id);
    free(p->exec_req);
    free(p->cmdline);
    free(p->url);
    for (size_t i = 0; i < p->nhdrs; i++) {
        free((char *)p->hdrs[i].name);
        free((char *)p->hdrs[i].value);
    }
    free(p->hdrs);
    free(p->host);
    free(p->grpc_service);
    free(p);
}

static void timer_closed(uv_handle_t *h)
{
    reef__probe_unref(h->data);
}

enum reef_probe_result reef_probe_result(const struct reef_probe *p)
{
    return p->rules.result;
}

bool reef_probe_rules_record(struct reef_probe_rules *r, bool ok)
{
    enum reef_probe_result was = r->result;
    if (ok) {
        r->failure_run = 0;
        if (++r->success_run >= r->success_threshold)
            r->result = REEF_PROBE_SUCCESS;
    } else {
        r->success_run = 0;
        if (++r->failure_run >= r->failure_threshold)
            r->result = REEF_PROBE_FAILURE;
    }
    return r->result != was;
}

/* One attempt's outcome; counted false: a runtime error that says nothing about the container
 * (the kubelet throws those away). */
void reef__probe_attempt_done(struct reef_probe *p, bool counted, bool ok, const char *msg)
{
    p->busy = false;
    uv_timer_stop(&p->deadline);
    if (p->stopping || !counted)
        return;
    if (reef_probe_rules_record(&p->rules, ok))
        p->cb(p->ud, p->rules.result, msg ? msg : "");
}

/* ---------------- exec ---------------- */

struct exec_run {
    struct reef_probe *p; /* NULL once the attempt is over (the run may still be closing) */
    uv_work_t work;
    int out_r, out_w, sock;
    ino_t out_ino;
    int start_rc, exit_code;
    struct reef_err err;
    uv_poll_t out_poll, sock_poll;
    bool out_init, sock_init, timed_out;
    int closing;
    struct reef_buf out;
    struct reef_probe *owner; /* holds a reference until the run is freed */
};

/* Kills whatever holds the write end of an exec probe's output pipe: the timed-out command and
 * its children. The shim reports no process ID, and the pipe names them exactly. Runs on the
 * thread pool; the /proc walk is not for the loop. */
struct killer {
    uv_work_t work;
    ino_t ino;
};

static void kill_work(uv_work_t *w)
{
    struct killer *k = w->data;
    char want[64];
    snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)k->ino);
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    pid_t self = getpid();
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self)
            continue;
        char fdd[64];
        snprintf(fdd, sizeof(fdd), "/proc/%ld/fd", pid);
        DIR *f = opendir(fdd);
        if (!f)
            continue;
        struct dirent *fe;
        bool hit = false;
        while (!hit && (fe = readdir(f))) {
            char link[PATH_MAX], tgt[64];
            snprintf(link, sizeof(link), "%s/%s", fdd, fe->d_name);
            ssize_t n = readlink(link, tgt, sizeof(tgt) - 1);
            if (n > 0) {
                tgt[n] = '\0';
                hit = strcmp(tgt, want) == 0;
            }
        }
        closedir(f);
        if (hit)
            kill((pid_t)pid, SIGKILL);
    }
    closedir(d);
}

static void kill_done(uv_work_t *w, int status)
{
    free(w->data);
    (void)status;
}

static void kill_holders(uv_loop_t *loop, ino_t ino)
{
    struct killer *k = calloc(1, sizeof(*k));
    if (!k)
        return;
    k->ino = ino;
    k->work.data = k;
    if (uv_queue_work(loop, &k->work, kill_work, kill_done) < 0)
        free(k);
}

static void run_handle_closed(uv_handle_t *h)
{
    struct exec_run *r = h->data;
    if (--r->closing > 0)
        return;
    struct reef_probe *owner = r->owner;
    reef_buf_free(&r->out);
    free(r);
    reef__probe_unref(owner);
}

/* Ends the run's I/O: polls closed, descriptors closed; frees it when the handles are. */
static void run_release(struct exec_run *r)
{
    if (r->p && r->p->run == r)
        r->p->run = NULL;
    r->p = NULL;
    r->closing = 1; /* held until the end of this function */
    if (r->out_init) {
        uv_poll_stop(&r->out_poll);
        r->closing++;
        uv_close((uv_handle_t *)&r->out_poll, run_handle_closed);
        r->out_init = false;
    }
    if (r->sock_init) {
        uv_poll_stop(&r->sock_poll);
        r->closing++;
        uv_close((uv_handle_t *)&r->sock_poll, run_handle_closed);
        r->sock_init = false;
    }
    if (r->out_r >= 0)
        close(r->out_r);
    if (r->sock >= 0)
        close(r->sock);
    r->out_r = r->sock = -1;
    if (--r->closing == 0) {
        struct reef_probe *owner = r->owner;
        reef_buf_free(&r->out);
        free(r);
        reef__probe_unref(owner);
    }
}

/* Reads what is in the pipe now. Returns true at end of file. */
static bool drain_output(struct exec_run *r)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(r->out_r, buf, sizeof(buf));
        if (n > 0) {
            size_t room = r->out.len < OUTPUT_MAX ? OUTPUT_MAX - r->out.len : 0;
            reef_buf_append(&r->out, buf, (size_t)n < room ? (size_t)n : room);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return n == 0 || errno != EAGAIN;
    }
}

static void on_exec_output(uv_poll_t *h, int status, int events)
{
    struct exec_run *r = h->data;
    if (drain_output(r) || status < 0) {
        uv_poll_stop(&r->out_poll);
    }
    (void)events;
}

static void on_exec_exit(uv_poll_t *h, int status, int events)
{
    struct exec_run *r = h->data;
    struct reef_probe *p = r->p;
    uv_poll_stop(&r->sock_poll);
    int code = 0;
    struct reef_err err = {0};
    int rc = reef_shim_exec_wait(r->sock, &code, &err); /* readable: does not wait */
    r->sock = -1;
    drain_output(r); /* what it wrote before exiting is in the pipe */
    char *msg = r->out.data ? r->out.data : "";
    if (rc < 0)
        reef__probe_attempt_done(p, false, false, err.msg);
    else
        reef__probe_attempt_done(p, true, code == 0, msg);
    run_release(r);
    (void)status;
    (void)events;
}

static void exec_work(uv_work_t *w)
{
    struct exec_run *r = w->data;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int fds[3] = {null, r->out_w, r->out_w};
    int master = -1;
    r->start_rc = reef_shim_exec_start(r->owner->containers_dir, r->owner->id, r->owner->exec_req,
                                       fds, &r->sock, &master, &r->exit_code, &r->err);
    if (master >= 0)
        close(master);
    if (null >= 0)
        close(null);
}

static void exec_started(uv_work_t *w, int status)
{
    struct exec_run *r = w->data;
    close(r->out_w);
    r->out_w = -1;
    if (status < 0 && r->start_rc == 0)
        r->start_rc = status;
    struct reef_probe *p = r->p;
    if (!p || r->timed_out) {
        /* The attempt is over (timed out or the probe stopped): end the command. */
        if (r->start_rc == 0)
            kill_holders(r->owner->loop, r->out_ino);
        run_release(r);
        return;
    }
    if (r->start_rc < 0) {
        /* A command that cannot run fails the probe; a container that is not running (or whose
         * shim is gone) says nothing about the command. */
        bool counted = r->exit_code == 126 || r->exit_code == 127;
        reef__probe_attempt_done(p, counted, false, r->err.msg);
        run_release(r);
        return;
    }
    if (uv_poll_init(p->loop, &r->out_poll, r->out_r) == 0) {
        r->out_init = true;
        r->out_poll.data = r;
        uv_poll_start(&r->out_poll, UV_READABLE, on_exec_output);
    }
    if (uv_poll_init(p->loop, &r->sock_poll, r->sock) < 0) {
        reef__probe_attempt_done(p, false, false, "exec: poll");
        kill_holders(p->loop, r->out_ino);
        run_release(r);
        return;
    }
    r->sock_init = true;
    r->sock_poll.data = r;
    uv_poll_start(&r->sock_poll, UV_READABLE | UV_DISCONNECT, on_exec_exit);
}

static void exec_attempt(struct reef_probe *p)
{
    struct exec_run *r = calloc(1, sizeof(*r));
    int pfd[2];
    if (!r || pipe2(pfd, O_CLOEXEC) < 0) {
        free(r);
        reef__probe_attempt_done(p, false, false, "exec: out of resources");
        return;
    }
    r->out_r = pfd[0];
    r->out_w = pfd[1];
    r->sock = -1;
    fcntl(r->out_r, F_SETFL, fcntl(r->out_r, F_GETFL) | O_NONBLOCK);
    struct stat st;
    r->out_ino = fstat(r->out_w, &st) == 0 ? st.st_ino : 0;
    r->p = r->owner = p;
    r->work.data = r;
    p->refs++;
    p->run = r;
    if (uv_queue_work(p->loop, &r->work, exec_work, exec_started) < 0) {
        close(r->out_w);
        r->out_w = -1;
        reef__probe_attempt_done(p, false, false, "exec: cannot queue");
        run_release(r);
    }
}

static void exec_timeout(struct reef_probe *p)
{
    struct exec_run *r = p->run;
    char msg[600];
    snprintf(msg, sizeof(msg), "command \"%s\" timed out", p->cmdline);
    if (!r) {
        reef__probe_attempt_done(p, true, false, msg);
        return;
    }
    r->timed_out = true;
    if (r->sock_init || r->out_init) {
        /* Started: kill it now and forget the run. */
        kill_holders(p->loop, r->out_ino);
        run_release(r);
    } else {
        p->run = NULL; /* still starting: exec_started ends it */
        r->p = NULL;
    }
    reef__probe_attempt_done(p, true, false, msg);
}

/* ---------------- httpGet ---------------- */

static int http_on_data(void *ud, const char *data, size_t len)
{
    (void)ud;
    (void)data;
    (void)len;
    return 0; /* only the status matters */
}

static void http_done(void *ud, int result, const struct reef_http_response *res,
                      const struct reef_err *err)
{
    struct reef_probe *p = ud;
    p->call = NULL;
    if (p->stopping && result == -ECANCELED) {
        reef__probe_unref(p);
        return;
    }
    char msg[512];
    if (result == -ECANCELED && p->http_timed_out) {
        snprintf(msg, sizeof(msg),
                 "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting "
                 "headers)",
                 p->url);
        reef__probe_attempt_done(p, true, false, msg);
    } else if (result < 0) {
        const char *m = err ? err->msg : "error";
        if (strncmp(m, "http: ", 6) == 0)
            m += 6;
        snprintf(msg, sizeof(msg), "Get \"%s\": %s", p->url, m);
        reef__probe_attempt_done(p, true, false, msg);
    } else if (res->status >= 200 && res->status < 400) {
        reef__probe_attempt_done(p, true, true, "");
    } else {
        snprintf(msg, sizeof(msg), "HTTP probe failed with statuscode: %d", res->status);
        reef__probe_attempt_done(p, true, false, msg);
    }
    reef__probe_unref(p);
}

static void http_attempt(struct reef_probe *p)
{
    struct reef_http_request rq = {
        .method = "GET",
        .url = p->url,
        .headers = p->hdrs,
        .nheaders = p->nhdrs,
        .on_data = http_on_data,
    };
    struct reef_err err = {0};
    p->http_timed_out = false;
    if (reef_http_client_request(p->hc, &rq, http_done, p, &p->call, &err) < 0) {
        reef__probe_attempt_done(p, true, false, err.msg);
        return;
    }
    p->refs++;
}

/* ---------------- scheduling ---------------- */

static void on_deadline(uv_timer_t *h)
{
    struct reef_probe *p = h->data;
    if (!p->busy)
        return;
    switch (p->kind) {
    case K_EXEC:
        exec_timeout(p);
        break;
    case K_HTTP:
        if (p->call) {
            p->http_timed_out = true;
            reef_http_call_cancel(p->call); /* http_done reports it */
        }
        break;
    case K_TCP:
    case K_GRPC:
        reef__probe_tcp_timeout(p);
        break;
    }
}

static void on_tick(uv_timer_t *h)
{
    struct reef_probe *p = h->data;
    if (p->busy || p->stopping)
        return; /* the previous attempt is still within its timeout */
    if (p->port_error) {
        reef__probe_attempt_done(p, true, false, p->port_error);
        return;
    }
    p->busy = true;
    uv_timer_start(&p->deadline, on_deadline, (uint64_t)p->timeout_s * 1000, 0);
    switch (p->kind) {
    case K_EXEC:
        exec_attempt(p);
        break;
    case K_HTTP:
        http_attempt(p);
        break;
    case K_TCP:
    case K_GRPC:
        reef__probe_tcp_attempt(p);
        break;
    }
}

/* ---------------- parsing ---------------- */

static int get_seconds(const struct reef_json_doc *d, const char *key, int def, int min)
{
    int v = reef_json_member(d, REEF_JSON_ROOT, key);
    int64_t n;
    if (v < 0 || reef_json_get_int(d, v, &n, NULL) < 0)
        return def;
    if (n < min)
        return min;
    return n > 86400 * 365 ? 86400 * 365 : (int)n;
}

/* A port as a number, a numeric string, or a name from the container's ports. */
static int resolve_port(struct reef_probe *p, const struct reef_json_doc *d, int v,
                        const char *ports_json)
{
    int64_t n;
    char name[64];
    if (reef_json_kind(d, v) == REEF_JSON_NUMBER) {
        if (reef_json_get_int(d, v, &n, NULL) < 0)
            n = 0;
    } else if (reef_json_get_str(d, v, name, sizeof(name), NULL) == 0) {
        n = -1;
        struct reef_json_doc pd = REEF_JSON_DOC_INIT;
        if (ports_json && reef_json_parse(&pd, ports_json, strlen(ports_json), NULL, NULL) == 0) {
            struct reef_json_iter it = reef_json_iter(&pd, REEF_JSON_ROOT);
            while (n < 0 && reef_json_next(&pd, &it)) {
                int nm = reef_json_member(&pd, it.val, "name");
                int cp = reef_json_member(&pd, it.val, "containerPort");
                if (nm >= 0 && cp >= 0 && reef_json_str_eq(&pd, nm, name))
                    reef_json_get_int(&pd, cp, &n, NULL);
            }
        }
        reef_json_doc_free(&pd);
        long long ll;
        if (n < 0 && reef_str_to_ll(name, 0, 65535, &ll) == 0)
            n = ll;
        if (n < 0) {
            char msg[128];
            snprintf(msg, sizeof(msg), "couldn't find port: %s", name);
            p->port_error = strdup(msg);
            return 0;
        }
    } else {
        n = 0;
    }
    if (n <= 0 || n > 65535) {
        char msg[128];
        snprintf(msg, sizeof(msg), "invalid port number: %lld", (long long)n);
        p->port_error = strdup(msg);
        return 0;
    }
    return (int)n;
}

static char *member_str(const struct reef_json_doc *d, int obj, const char *key)
{
    int v = reef_json_member(d, obj, key);
    char *s = NULL;
    if (v >= 0 && reef_json_kind(d, v) == REEF_JSON_STRING)
        reef_json_get_strdup(d, v, &s, NULL);
    return s;
}

static int parse_exec(struct reef_probe *p, const struct reef_json_doc *d, int h,
                      struct reef_err *err)
{
    int c = reef_json_member(d, h, "command");
    if (c < 0 || reef_json_kind(d, c) != REEF_JSON_ARRAY || reef_json_count(d, c) == 0)
        return reef_err_set(err, -EINVAL, "probe: exec needs a command");
    struct reef_buf req = REEF_BUF_INIT, line = REEF_BUF_INIT;
    struct reef_json_writer w;
    reef_json_writer_init(&w, &req, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "argv");
    reef_json_begin_array(&w);
    struct reef_json_iter it = reef_json_iter(d, c);
    struct reef_buf s = REEF_BUF_INIT;
    while (reef_json_next(d, &it)) {
        reef_buf_reset(&s);
        if (reef_json_kind(d, it.val) != REEF_JSON_STRING ||
            reef_json_get_strbuf(d, it.val, &s, NULL) < 0) {
            reef_buf_free(&s);
            reef_buf_free(&req);
            reef_buf_free(&line);
            return reef_err_set(err, -EINVAL, "probe: exec command must be strings");
        }
        reef_json_put_strn(&w, s.data ? s.data : "", s.len);
        if (line.len)
            reef_buf_putc(&line, ' ');
        reef_buf_append(&line, s.data ? s.data : "", s.len);
    }
    reef_buf_free(&s);
    reef_json_end_array(&w);
    reef_json_key(&w, "tty");
    reef_json_put_bool(&w, false);
    reef_json_end_object(&w);
    if (reef_json_finish(&w, err) < 0) {
        reef_buf_free(&req);
        reef_buf_free(&line);
        return -EINVAL;
    }
    p->exec_req = reef_buf_steal(&req);
    p->cmdline = line.data ? reef_buf_steal(&line) : strdup("");
    return 0;
}

static int parse_http(struct reef_probe *p, const struct reef_json_doc *d, int h,
                      const struct reef_probe_target *t, struct reef_err *err)
{
    int pv = reef_json_member(d, h, "port");
    if (pv < 0)
        return reef_err_set(err, -EINVAL, "probe: httpGet needs a port");
    int port = resolve_port(p, d, pv, t->ports_json);
    char *host = member_str(d, h, "host");
    char *path = member_str(d, h, "path");
    char *scheme = member_str(d, h, "scheme");
    const char *hs = host && host[0] ? host : t->pod_ip ? t->pod_ip : "127.0.0.1";
    bool https = scheme && strcasecmp(scheme, "HTTPS") == 0;
    struct reef_buf url = REEF_BUF_INIT;
    reef_buf_printf(&url, strchr(hs, ':') ? "%s://[%s]:%d" : "%s://%s:%d", https ? "https" : "http",
                    hs, port);
    if (!path || path[0] != '/')
        reef_buf_putc(&url, '/');
    if (path)
        reef_buf_puts(&url, path);
    p->url = reef_buf_steal(&url);
    free(host);
    free(path);
    free(scheme);

    int hv = reef_json_member(d, h, "httpHeaders");
    int nh = hv >= 0 ? reef_json_count(d, hv) : 0;
    p->hdrs = calloc((size_t)(nh > 0 ? nh : 0) + 3, sizeof(*p->hdrs));
    if (!p->hdrs)
        return reef_err_set(err, -ENOMEM, "probe: out of memory");
    bool ua = false, accept = false;
    struct reef_json_iter it = reef_json_iter(d, hv);
    while (hv >= 0 && reef_json_next(d, &it)) {
        char *n = member_str(d, it.val, "name"), *v = member_str(d, it.val, "value");
        if (!n || !n[0] || !v) {
            free(n);
            free(v);
            continue;
        }
        ua = ua || strcasecmp(n, "User-Agent") == 0;
        accept = accept || strcasecmp(n, "Accept") == 0;
        p->hdrs[p->nhdrs].name = n;
        p->hdrs[p->nhdrs++].value = v;
    }
    /* The kubelet's defaults, unless the probe sets them; each probe on a fresh connection. */
    if (!ua) {
        p->hdrs[p->nhdrs].name = strdup("User-Agent");
        p->hdrs[p->nhdrs++].value = strdup(PROBE_UA);
    }
    if (!accept) {
        p->hdrs[p->nhdrs].name = strdup("Accept");
        p->hdrs[p->nhdrs++].value = strdup("*/*");
    }
    p->hdrs[p->nhdrs].name = strdup("Connection");
    p->hdrs[p->nhdrs++].value = strdup("close");
    struct reef_http_client_opts o = {
        .insecure_skip_verify = true,
        .no_redirects = true,
        /* The probe's own deadline ends an attempt; these only back it up. */
        .connect_timeout_ms = (unsigned)p->timeout_s * 1000 + 1000,
        .response_timeout_ms = (unsigned)p->timeout_s * 1000 + 1000,
        .max_body = 65536,
    };
    p->hc = reef_http_client_new(p->loop, &o, err);
    return p->hc ? 0 : -EINVAL;
}

static int parse_tcp(struct reef_probe *p, const struct reef_json_doc *d, int h,
                     const struct reef_probe_target *t, struct reef_err *err)
{
    int pv = reef_json_member(d, h, "port");
    if (pv < 0)
        return reef_err_set(err, -EINVAL, "probe: tcpSocket needs a port");
    p->port = resolve_port(p, d, pv, t->ports_json);
    char *host = member_str(d, h, "host");
    p->host = strdup(host && host[0] ? host : t->pod_ip ? t->pod_ip : "127.0.0.1");
    free(host);
    return 0;
}

static int parse_grpc(struct reef_probe *p, const struct reef_json_doc *d, int h,
                      const struct reef_probe_target *t, struct reef_err *err)
{
    /* a number: gRPC probes have no named ports and no host */
    int pv = reef_json_member(d, h, "port");
    int64_t port;
    if (pv < 0 || reef_json_get_int(d, pv, &port, NULL) < 0 || port < 1 || port > 65535)
        return reef_err_set(err, -EINVAL, "probe: grpc needs a port number from 1 to 65535");
    p->port = (int)port;
    char *service = member_str(d, h, "service");
    p->grpc_service = strdup(service ? service : "");
    free(service);
    p->host = strdup(t->pod_ip ? t->pod_ip : "127.0.0.1");
    return p->grpc_service && p->host ? 0 : reef_err_set(err, -ENOMEM, "probe: out of memory");
}

int reef_probe_start(uv_loop_t *loop, const char *probe_json, size_t len,
                     const struct reef_probe_target *t, reef_probe_cb cb, void *ud,
                     struct reef_probe **out, struct reef_err *err)
{
    *out = NULL;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, probe_json, len, NULL, err) < 0)
        return reef_err_wrap(err, "probe");
    if (reef_json_kind(&d, REEF_JSON_ROOT) != REEF_JSON_OBJECT) {
        reef_json_doc_free(&d);
        return reef_err_set(err, -EINVAL, "probe: not an object");
    }
    struct reef_probe *p = calloc(1, sizeof(*p));
    if (!p) {
        reef_json_doc_free(&d);
        return reef_err_set(err, -ENOMEM, "probe: out of memory");
    }
    p->loop = loop;
    p->cb = cb;
    p->ud = ud;
    p->delay_s = get_seconds(&d, "initialDelaySeconds", 0, 0);
    p->period_s = get_seconds(&d, "periodSeconds", 10, 1);
    p->timeout_s = get_seconds(&d, "timeoutSeconds", 1, 1);
    p->rules.success_threshold = get_seconds(&d, "successThreshold", 1, 1);
    p->rules.failure_threshold = get_seconds(&d, "failureThreshold", 3, 1);
    p->containers_dir = strdup(t->containers_dir ? t->containers_dir : "");
    p->id = strdup(t->id ? t->id : "");
    int r;
    int h;
    if ((h = reef_json_member(&d, REEF_JSON_ROOT, "exec")) >= 0) {
        p->kind = K_EXEC;
        r = parse_exec(p, &d, h, err);
    } else if ((h = reef_json_member(&d, REEF_JSON_ROOT, "httpGet")) >= 0) {
        p->kind = K_HTTP;
        r = parse_http(p, &d, h, t, err);
    } else if ((h = reef_json_member(&d, REEF_JSON_ROOT, "tcpSocket")) >= 0) {
        p->kind = K_TCP;
        r = parse_tcp(p, &d, h, t, err);
    } else if ((h = reef_json_member(&d, REEF_JSON_ROOT, "grpc")) >= 0) {
        p->kind = K_GRPC;
        r = parse_grpc(p, &d, h, t, err);
    } else {
        r = reef_err_set(err, -EINVAL, "probe: no handler (exec, httpGet, tcpSocket or grpc)");
    }
    reef_json_doc_free(&d);
    if (r < 0) {
        p->stopping = true;
        p->refs = 1;
        reef__probe_unref(p);
        return r;
    }
    uv_timer_init(loop, &p->tick);
    uv_timer_init(loop, &p->deadline);
    p->tick.data = p->deadline.data = p;
    p->refs = 2;
    uv_timer_start(&p->tick, on_tick, (uint64_t)p->delay_s * 1000, (uint64_t)p->period_s * 1000);
    *out = p;
    return 0;
}

void reef_probe_stop(struct reef_probe *p)
{
    if (!p || p->stopping)
        return;
    p->stopping = true;
    uv_timer_stop(&p->tick);
    uv_timer_stop(&p->deadline);
    if (p->run) {
        struct exec_run *r = p->run;
        if (r->sock_init || r->out_init) {
            kill_holders(p->loop, r->out_ino);
            run_release(r);
        } else {
            r->p = NULL; /* starting: exec_started kills and releases it */
            p->run = NULL;
        }
    }
    if (p->call)
        reef_http_call_cancel(p->call); /* http_done drops its reference */
    if (p->tcp)
        reef__probe_tcp_release(p->tcp);
    uv_close((uv_handle_t *)&p->tick, timer_closed);
    uv_close((uv_handle_t *)&p->deadline, timer_closed);
}
