/* podio, exec and attach: Kubernetes' remote command protocol over WebSocket (v5.channel.k8s.io,
 * v4.channel.k8s.io), relayed to a process the container's shim started (docs/PODIO.md).
 *
 * Every WebSocket message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the final
 * Status (JSON), 4 terminal size {"Width":..,"Height":..}; v5 adds 255 [channel] to close a
 * channel (stdin's EOF). The shim request runs on libuv's thread pool; the pipes (or the
 * terminal's master) and the shim connection that reports the exit are polled on the loop.
 * Output pauses while the WebSocket's queue is full. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/http_parse.h"
#include "core/json.h"
#include "orchestrate/podio.h"
#include "orchestrate/podio_int.h"
#include "runtime/shim.h"

#define CH_STDIN 0
#define CH_STDOUT 1
#define CH_STDERR 2
#define CH_ERROR 3
#define CH_RESIZE 4
#define CH_CLOSE 255

#define QUEUE_MAX (1u << 20) /* output queued to the client before pausing */
#define STDIN_MAX (4u << 20) /* input held for a process that does not read it */
#define SIZE_WAIT_MS 250    /* how long a terminal's exec waits for its size */
#define EXIT_GRACE_MS 1000   /* output still wanted after the exit (a child holding the pipe) */
#define READ_CHUNK 32768

struct session;

struct src {
    struct session *s;
    uv_poll_t poll;
    int fd;
    unsigned char ch;
    bool init, eof;
};

struct session {
    uv_loop_t *loop;
    struct reef_ws_conn *ws; /* NULL once the client left */
    bool attach, tty, want_in, want_out, want_err;
    char *containers_dir, *id, *req_json;
    char cmdline[1024]; /* "sh -c exit 3", for the Status message */
    int child[3];       /* the process's stdin, stdout, stderr (ours to close once started) */
    int in_w;           /* stdin's pipe, or the terminal's master (then also out.fd) */
    int sock;           /* the shim's connection: "exit <code>" */
    struct src out, err;
    uv_poll_t in_poll, sock_poll;
    bool in_init, sock_init;
    uv_timer_t grace;
    bool grace_init;
    uv_work_t work;
    bool busy;
    int start_rc, code, master;
    struct reef_err serr;
    struct reef_buf inq; /* stdin not yet written */
    bool in_closing;     /* v5 closed stdin: close the pipe once inq is written */
    bool exited, finished, paused;
    unsigned short rows, cols;   /* the terminal's size asked for before it existed */
    bool size_wait;              /* a terminal's exec waits for its first size (grace timer) */
    char lost[REEF_ERR_MSG_MAX]; /* why the exit status is unknown (the shim went away) */
    int handles;                 /* open libuv handles */
};

static void session_maybe_free(struct session *s)
{
    if (s->ws || s->busy || s->handles > 0)
        return;
    for (int i = 0; i < 3; i++)
        if (s->child[i] >= 0)
            close(s->child[i]);
    reef_buf_free(&s->inq);
    free(s->containers_dir);
    free(s->id);
    free(s->req_json);
    free(s);
}

static void handle_closed(uv_handle_t *h)
{
    struct session *s = h->data;
    s->handles--;
    session_maybe_free(s);
}

static void close_handle(struct session *s, uv_handle_t *h, bool *init)
{
    if (!*init)
        return;
    *init = false;
    h->data = s;
    uv_close(h, handle_closed);
}

static void close_src(struct session *s, struct src *c)
{
    if (c->init) {
        uv_poll_stop(&c->poll);
        close_handle(s, (uv_handle_t *)&c->poll, &c->init);
    }
    if (c->fd >= 0 && c->fd != s->in_w)
        close(c->fd);
    c->fd = -1;
    c->eof = true;
}

static void close_input(struct session *s)
{
    if (s->in_init) {
        uv_poll_stop(&s->in_poll);
        close_handle(s, (uv_handle_t *)&s->in_poll, &s->in_init);
    }
    if (s->in_w >= 0 && s->in_w != s->out.fd)
        close(s->in_w);
    s->in_w = -1;
    reef_buf_reset(&s->inq);
}

/* Everything towards the process closes: its stdin ends, its terminal hangs up. */
static void teardown_io(struct session *s)
{
    int master = s->tty && !s->attach ? s->out.fd : -1;
    if (master >= 0) {
        if (s->in_w == master)
            s->in_w = -1;
        if (s->out.init) {
            uv_poll_stop(&s->out.poll);
            close_handle(s, (uv_handle_t *)&s->out.poll, &s->out.init);
        }
        s->out.fd = -1;
        s->out.eof = true;
    }
    close_input(s);
    close_src(s, &s->out);
    close_src(s, &s->err);
    if (master >= 0)
        close(master);
    if (s->sock_init) {
        uv_poll_stop(&s->sock_poll);
        close_handle(s, (uv_handle_t *)&s->sock_poll, &s->sock_init);
    }
    if (s->sock >= 0)
        close(s->sock);
    s->sock = -1;
    if (s->grace_init) {
        uv_timer_stop(&s->grace);
        close_handle(s, (uv_handle_t *)&s->grace, &s->grace_init);
    }
}

static void send_ch(struct session *s, unsigned char ch, const void *data, size_t len)
{
    if (!s->ws)
        return;
    unsigned char *m = malloc(len + 1);
    if (!m)
        return;
    m[0] = ch;
    if (len)
        memcpy(m + 1, data, len);
    reef_ws_send(s->ws, REEF_WS_BINARY, m, len + 1);
    free(m);
}

static void send_status(struct session *s, const char *status, const char *msg, const char *reason,
                        int code, int exit_code)
{
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_json_writer w;
    reef_json_writer_init(&w, &b, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "kind");
    reef_json_put_str(&w, "Status");
    reef_json_key(&w, "apiVersion");
    reef_json_put_str(&w, "v1");
    reef_json_key(&w, "metadata");
    reef_json_begin_object(&w);
    reef_json_end_object(&w);
    reef_json_key(&w, "status");
    reef_json_put_str(&w, status);
    if (msg) {
        reef_json_key(&w, "message");
        reef_json_put_str(&w, msg);
    }
    if (reason) {
        reef_json_key(&w, "reason");
        reef_json_put_str(&w, reason);
        reef_json_key(&w, "details");
        reef_json_begin_object(&w);
        reef_json_key(&w, "causes");
        reef_json_begin_array(&w);
        reef_json_begin_object(&w);
        if (exit_code >= 0) {
            char n[16];
            snprintf(n, sizeof(n), "%d", exit_code);
            reef_json_key(&w, "reason");
            reef_json_put_str(&w, "ExitCode");
            reef_json_key(&w, "message");
            reef_json_put_str(&w, n);
        } else {
            reef_json_key(&w, "message");
            reef_json_put_str(&w, msg);
        }
        reef_json_end_object(&w);
        reef_json_end_array(&w);
        reef_json_end_object(&w);
    }
    if (code) {
        reef_json_key(&w, "code");
        reef_json_put_int(&w, code);
    }
    reef_json_end_object(&w);
    if (reef_json_finish(&w, NULL) == 0)
        send_ch(s, CH_ERROR, b.data, b.len);
    reef_buf_free(&b);
}

static void send_exit_status(struct session *s, int code)
{
    if (code == 0 || s->attach) {
        send_status(s, "Success", NULL, NULL, 0, -1);
        return;
    }
    char msg[1200];
    snprintf(msg, sizeof(msg),
             "command terminated with non-zero exit code: error executing command [%s], exit "
             "code %d",
             s->cmdline, code);
    send_status(s, "Failure", msg, "NonZeroExitCode", 0, code);
}

static void finish(struct session *s)
{
    if (s->finished)
        return;
    s->finished = true;
    if (s->lost[0]) {
        char msg[REEF_ERR_MSG_MAX + 80];
        snprintf(msg, sizeof(msg),
                 "Internal error occurred: error executing command in "
                 "container: %s",
                 s->lost);
        send_status(s, "Failure", msg, "InternalError", 500, -1);
    } else {
        send_exit_status(s, s->code);
    }
    teardown_io(s);
    if (s->ws)
        reef_ws_close(s->ws, REEF_WS_CLOSE_NORMAL, "");
}

static void maybe_finish(struct session *s)
{
    if (s->exited && s->out.eof && s->err.eof)
        finish(s);
}

static void on_io(uv_poll_t *h, int status, int events);

/* Which events each poll waits for now. */
static void update_polls(struct session *s)
{
    if (s->finished)
        return;
    bool tty_in = s->tty && !s->attach && s->in_w >= 0 && s->in_w == s->out.fd && s->inq.len;
    struct src *cs[2] = {&s->out, &s->err};
    for (int i = 0; i < 2; i++) {
        struct src *c = cs[i];
        if (!c->init)
            continue;
        int ev = (!c->eof && !s->paused ? UV_READABLE : 0) | (i == 0 && tty_in ? UV_WRITABLE : 0);
        if (ev)
            uv_poll_start(&c->poll, ev, on_io);
        else
            uv_poll_stop(&c->poll);
    }
    if (s->in_init) {
        if (s->inq.len)
            uv_poll_start(&s->in_poll, UV_WRITABLE, on_io);
        else
            uv_poll_stop(&s->in_poll);
    }
}

static void flush_input(struct session *s)
{
    while (s->in_w >= 0 && s->inq.len) {
        ssize_t n = write(s->in_w, s->inq.data, s->inq.len);
        if (n > 0) {
            reef_buf_consume(&s->inq, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        /* The process no longer reads its stdin. */
        reef_buf_reset(&s->inq);
        if (s->in_w != s->out.fd)
            close_input(s);
    }
    if (!s->inq.len && s->in_closing && s->in_w >= 0 && s->in_w != s->out.fd)
        close_input(s);
    update_polls(s);
}

static void read_src(struct session *s, struct src *c)
{
    char buf[READ_CHUNK + 1];
    ssize_t n = read(c->fd, buf + 1, READ_CHUNK);
    if (n > 0) {
        buf[0] = (char)c->ch;
        if (s->ws)
            reef_ws_send(s->ws, REEF_WS_BINARY, buf, (size_t)n + 1);
        if (s->ws && reef_ws_queued(s->ws) > QUEUE_MAX && !s->paused) {
            s->paused = true;
            update_polls(s);
        }
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    /* End of file, or EIO from a terminal whose last user is gone. */
    c->eof = true;
    if (c->init)
        uv_poll_stop(&c->poll);
    maybe_finish(s);
}

static void on_io(uv_poll_t *h, int status, int events)
{
    struct session *s = h->data;
    if (h == &s->in_poll) {
        flush_input(s);
        return;
    }
    struct src *c = h == &s->out.poll ? &s->out : &s->err;
    if (events & UV_WRITABLE)
        flush_input(s);
    if (s->finished || !c->init)
        return;
    if ((events & (UV_READABLE | UV_DISCONNECT)) || status < 0)
        read_src(s, c);
}

static void on_grace(uv_timer_t *t)
{
    finish(t->data);
}

static void on_exit_msg(uv_poll_t *h, int status, int events)
{
    struct session *s = h->data;
    uv_poll_stop(&s->sock_poll);
    struct reef_err err = {0};
    int code = 0;
    int r = reef_shim_exec_wait(s->sock, &code, &err); /* readable: does not wait */
    s->sock = -1;
    s->code = code;
    if (r < 0)
        snprintf(s->lost, sizeof(s->lost), "%s", err.msg);
    s->exited = true;
    close_handle(s, (uv_handle_t *)&s->sock_poll, &s->sock_init);
    if (s->out.eof && s->err.eof) {
        finish(s);
        return;
    }
    if (s->grace_init) { /* the timer that waited for the terminal's size */
        uv_timer_start(&s->grace, on_grace, EXIT_GRACE_MS, 0);
    } else if (uv_timer_init(s->loop, &s->grace) == 0) {
        s->grace_init = true;
        s->handles++;
        s->grace.data = s;
        uv_timer_start(&s->grace, on_grace, EXIT_GRACE_MS, 0);
    }
    (void)status;
    (void)events;
}

/* ---------- starting ---------- */

static void start_work(uv_work_t *w)
{
    struct session *s = w->data;
    s->master = -1;
    if (s->attach)
        s->start_rc = reef_shim_attach(s->containers_dir, s->id, s->child, &s->sock, &s->serr);
    else
        s->start_rc = reef_shim_exec_start(s->containers_dir, s->id, s->req_json, s->child,
                                           &s->sock, &s->master, &s->code, &s->serr);
}

static bool watch_src(struct session *s, struct src *c)
{
    if (c->fd < 0) {
        c->eof = true;
        return true;
    }
    if (uv_poll_init(s->loop, &c->poll, c->fd) < 0)
        return false;
    c->init = true;
    c->poll.data = s;
    s->handles++;
    return true;
}

static void started(uv_work_t *w, int status)
{
    struct session *s = w->data;
    s->busy = false;
    for (int i = 0; i < 3; i++) {
        if (s->child[i] >= 0)
            close(s->child[i]);
        s->child[i] = -1;
    }
    if (status < 0 && s->start_rc == 0)
        s->start_rc = status;
    if (s->start_rc == 0 && s->master >= 0) {
        s->out.fd = s->master;
        s->in_w = s->want_in ? s->master : -1;
        fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
        if (s->rows && s->cols) {
            struct winsize ws = {.ws_row = s->rows, .ws_col = s->cols};
            ioctl(s->master, TIOCSWINSZ, &ws);
        }
    }
    if (!s->ws) {
        teardown_io(s);
        session_maybe_free(s);
        return;
    }
    if (s->start_rc < 0) {
        s->finished = true;
        if (!s->attach && (s->code == 126 || s->code == 127)) {
            /* As a runtime reports it: the reason on stderr, then the exit code. */
            char line[REEF_ERR_MSG_MAX + 4];
            int n = snprintf(line, sizeof(line), "%s\r\n", s->serr.msg);
            if (s->want_err || s->tty)
                send_ch(s, s->tty ? CH_STDOUT : CH_STDERR, line, (size_t)n);
            send_exit_status(s, s->code);
        } else {
            char msg[REEF_ERR_MSG_MAX + 80];
            snprintf(msg, sizeof(msg), "Internal error occurred: error %s command in container: %s",
                     s->attach ? "attaching to" : "executing", s->serr.msg);
            send_status(s, "Failure", msg, "InternalError", 500, -1);
        }
        teardown_io(s);
        reef_ws_close(s->ws, REEF_WS_CLOSE_NORMAL, "");
        return;
    }
    bool ok = watch_src(s, &s->out) && watch_src(s, &s->err);
    if (ok && s->in_w >= 0 && s->in_w != s->out.fd) {
        ok = uv_poll_init(s->loop, &s->in_poll, s->in_w) == 0;
        if (ok) {
            s->in_init = true;
            s->in_poll.data = s;
            s->handles++;
        }
    }
    if (ok) {
        ok = uv_poll_init(s->loop, &s->sock_poll, s->sock) == 0;
        if (ok) {
            s->sock_init = true;
            s->sock_poll.data = s;
            s->handles++;
            uv_poll_start(&s->sock_poll, UV_READABLE | UV_DISCONNECT, on_exit_msg);
        }
    }
    if (!ok) {
        s->code = 0;
        s->finished = true;
        send_status(s, "Failure", "Internal error occurred: poll failed", "InternalError", 500, -1);
        teardown_io(s);
        reef_ws_close(s->ws, REEF_WS_CLOSE_NORMAL, "");
        return;
    }
    flush_input(s); /* input that came while it started; also starts the polls */
}

/* ---------- the client's messages ---------- */

struct resize_call {
    uv_work_t work;
    char *dir, *id;
    char msg[64];
};

static void resize_work(uv_work_t *w)
{
    struct resize_call *r = w->data;
    char reply[64];
    reef_shim_call(r->dir, r->id, r->msg, NULL, 0, reply, sizeof(reply), 5000, NULL);
}

static void resize_done(uv_work_t *w, int status)
{
    struct resize_call *r = w->data;
    free(r->dir);
    free(r->id);
    free(r);
    (void)status;
}

static void kickoff(struct session *s);

static void resize(struct session *s, const uint8_t *data, size_t len)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int64_t wdt = 0, hgt = 0;
    if (reef_json_parse(&d, (const char *)data, len, NULL, NULL) == 0) {
        int v = reef_json_member(&d, REEF_JSON_ROOT, "Width");
        if (v >= 0)
            reef_json_get_int(&d, v, &wdt, NULL);
        v = reef_json_member(&d, REEF_JSON_ROOT, "Height");
        if (v >= 0)
            reef_json_get_int(&d, v, &hgt, NULL);
    }
    reef_json_doc_free(&d);
    if (wdt <= 0 || hgt <= 0 || wdt > 65535 || hgt > 65535 || !s->tty)
        return;
    if (!s->attach) {
        struct winsize ws = {.ws_row = (unsigned short)hgt, .ws_col = (unsigned short)wdt};
        if (s->out.fd >= 0 && !s->busy)
            ioctl(s->out.fd, TIOCSWINSZ, &ws);
        else
            s->rows = ws.ws_row, s->cols = ws.ws_col; /* applied once it exists */
        if (s->size_wait)
            kickoff(s);
        return;
    }
    /* The container's own terminal belongs to its shim. */
    struct resize_call *r = calloc(1, sizeof(*r));
    if (!r)
        return;
    r->dir = strdup(s->containers_dir);
    r->id = strdup(s->id);
    snprintf(r->msg, sizeof(r->msg), "resize %d %d", (int)hgt, (int)wdt);
    r->work.data = r;
    if (!r->dir || !r->id || uv_queue_work(s->loop, &r->work, resize_work, resize_done) < 0)
        resize_done(&r->work, 0);
}

static void on_ws_message(void *ud, struct reef_ws_conn *ws, enum reef_ws_opcode op,
                          const uint8_t *data, size_t len)
{
    struct session *s = ud;
    if (len == 0 || s->finished)
        return;
    switch (data[0]) {
    case CH_STDIN:
        if (!s->want_in || s->in_closing)
            return;
        if (s->inq.len + len > STDIN_MAX)
            return; /* the process is not reading; more would only pile up */
        reef_buf_append(&s->inq, data + 1, len - 1);
        if (!s->busy)
            flush_input(s);
        break;
    case CH_RESIZE:
        resize(s, data + 1, len - 1);
        break;
    case CH_CLOSE:
        if (len >= 2 && data[1] == CH_STDIN) {
            s->in_closing = true;
            if (!s->busy)
                flush_input(s);
        }
        break;
    default:
        break;
    }
    (void)ws;
    (void)op;
}

static void on_ws_drain(void *ud, struct reef_ws_conn *ws)
{
    struct session *s = ud;
    if (s->paused) {
        s->paused = false;
        update_polls(s);
    }
    (void)ws;
}

static void on_ws_close(void *ud, struct reef_ws_conn *ws, int code)
{
    struct session *s = ud;
    s->ws = NULL;
    s->finished = true;
    teardown_io(s);
    session_maybe_free(s);
    (void)ws;
    (void)code;
}

/* ---------- the request ---------- */

static bool qflag(struct reef_http_req *req, const char *key)
{
    char v[16];
    return reef_http_req_query(req, key, v, sizeof(v)) >= 0 && reef__podio_bool(v);
}

/* The command= values, in order, into the shim's exec request. */
static int build_request(struct session *s, struct reef_http_req *req)
{
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_json_writer w;
    reef_json_writer_init(&w, &b, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "argv");
    reef_json_begin_array(&w);
    int argc = 0;
    size_t cl = 0;
    for (const char *q = req->query; q && *q;) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n > 8 && strncmp(q, "command=", 8) == 0) {
            char *v = malloc(n);
            ssize_t k = v ? reef_http_unescape(q + 8, n - 8, v, true) : -1;
            if (k >= 0) {
                reef_json_put_strn(&w, v, (size_t)k);
                int m = snprintf(s->cmdline + cl, sizeof(s->cmdline) - cl, "%s%.*s",
                                 argc ? " " : "", (int)k, v);
                if (m > 0)
                    cl = cl + (size_t)m < sizeof(s->cmdline) ? cl + (size_t)m
                                                             : sizeof(s->cmdline) - 1;
                argc++;
            }
            free(v);
        }
        q = amp ? amp + 1 : q + n;
    }
    reef_json_end_array(&w);
    reef_json_key(&w, "env");
    reef_json_begin_array(&w);
    if (s->tty)
        reef_json_put_str(&w, "TERM=xterm");
    reef_json_end_array(&w);
    reef_json_key(&w, "tty");
    reef_json_put_bool(&w, s->tty);
    reef_json_end_object(&w);
    if (argc == 0 || reef_json_finish(&w, NULL) < 0) {
        reef_buf_free(&b);
        return -EINVAL;
    }
    s->req_json = reef_buf_steal(&b);
    return 0;
}

static int make_pipes(struct session *s)
{
    int p[2];
    int null = -1;
    for (int i = 0; i < 3; i++) {
        bool want = i == 0 ? s->want_in : i == 1 ? s->want_out : s->want_err;
        /* With a terminal the process's stdio is the terminal (made by the shim); for an
         * attach the shim wants all three descriptors. */
        if (s->tty && !s->attach)
            want = false;
        if (i == 0 && !want && s->attach) {
            s->child[0] = -1; /* attached without input: the container's stdin is left alone */
            continue;
        }
        if (!want || pipe2(p, O_CLOEXEC) < 0) {
            if (null < 0)
                null = open("/dev/null", O_RDWR | O_CLOEXEC);
            s->child[i] = null >= 0 ? dup(null) : -1;
            if (s->child[i] < 0) {
                if (null >= 0)
                    close(null);
                return -EMFILE;
            }
            continue;
        }
        int ours = i == 0 ? p[1] : p[0];
        s->child[i] = i == 0 ? p[0] : p[1];
        fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK);
        if (i == 0)
            s->in_w = ours;
        else if (i == 1)
            s->out.fd = ours;
        else
            s->err.fd = ours;
    }
    if (null >= 0)
        close(null);
    return 0;
}

/* Starts the shim's exec (or attach) on the thread pool. */
static void kickoff(struct session *s)
{
    if (s->size_wait) {
        s->size_wait = false;
        uv_timer_stop(&s->grace);
    }
    if (s->tty && !s->attach && s->rows && s->cols && s->req_json) {
        /* the size goes with the request: the terminal has it before the process starts */
        size_t n = strlen(s->req_json);
        char *j = malloc(n + 48);
        if (j && n && s->req_json[n - 1] == '}') {
            snprintf(j, n + 48, "%.*s,\"rows\":%u,\"cols\":%u}", (int)(n - 1), s->req_json,
                     (unsigned)s->rows, (unsigned)s->cols);
            free(s->req_json);
            s->req_json = j;
        } else {
            free(j);
        }
    }
    s->busy = true;
    s->work.data = s;
    if (uv_queue_work(s->loop, &s->work, start_work, started) < 0) {
        s->busy = false;
        s->finished = true;
        send_status(s, "Failure", "Internal error occurred: cannot start", "InternalError", 500,
                    -1);
        teardown_io(s);
        reef_ws_close(s->ws, REEF_WS_CLOSE_NORMAL, "");
    }
}

static void on_size_wait(uv_timer_t *t)
{
    kickoff(t->data);
}

static void start(uv_loop_t *loop, const char *containers_dir, const char *id, bool attach,
                  struct reef_http_req *req, struct reef_http_res *res)
{
    if (!reef_http_req_is_websocket(req)) {
        reef__podio_fail(res, 400, "BadRequest",
                         "Upgrade request required: use a WebSocket (v5.channel.k8s.io)");
        return;
    }
    struct session *s = calloc(1, sizeof(*s));
    if (!s) {
        reef__podio_fail(res, 500, "InternalError", "out of memory");
        return;
    }
    s->loop = loop;
    s->attach = attach;
    s->in_w = s->sock = s->master = -1;
    s->out = (struct src){.s = s, .fd = -1, .ch = CH_STDOUT};
    s->err = (struct src){.s = s, .fd = -1, .ch = CH_STDERR};
    s->child[0] = s->child[1] = s->child[2] = -1;
    s->want_in = qflag(req, "stdin");
    s->want_out = qflag(req, "stdout");
    s->want_err = qflag(req, "stderr");
    s->tty = qflag(req, "tty");
    if (s->tty)
        s->want_err = false; /* a terminal has one output */
    s->containers_dir = strdup(containers_dir);
    s->id = strdup(id);
    const char *bad = NULL;
    if (!s->containers_dir || !s->id)
        bad = "out of memory";
    else if (!s->want_in && !s->want_out && !s->want_err)
        bad = "you must specify at least 1 of stdin, stdout, stderr";
    else if (!attach && build_request(s, req) < 0)
        bad = "you must specify at least one command for the container";
    else if (make_pipes(s) < 0)
        bad = "too many open files";
    if (bad) {
        reef__podio_fail(res, 400, "BadRequest", bad);
        s->busy = false;
        teardown_io(s);
        session_maybe_free(s);
        return;
    }
    static const char *const protocols[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};
    static const struct reef_ws_cb cb = {
        .on_message = on_ws_message,
        .on_close = on_ws_close,
        .on_drain = on_ws_drain,
    };
    struct reef_err err = {0};
    s->ws = reef_http_res_websocket(res, protocols, &cb, s, &err);
    if (!s->ws) {
        teardown_io(s);
        session_maybe_free(s);
        return;
    }
    /* For v4 clients, as the kubelet does: an empty message on the first output channel says
     * the connection is ready. v5 clients (kubectl 1.30+) do not wait for it, and client-go
     * registers its streams only after the handshake, so a message arriving that early is
     * dropped with an "Unknown stream id" error printed to the user. */
    if (strcmp(reef_ws_protocol(s->ws), "v5.channel.k8s.io") != 0)
        send_ch(s, s->want_out ? CH_STDOUT : s->want_err ? CH_STDERR : CH_ERROR, NULL, 0);
    /* A terminal's client sends its size first thing (channel 4): wait a moment for it, so
     * the process starts with it instead of 24 x 80. */
    if (s->tty && !attach && uv_timer_init(loop, &s->grace) == 0) {
        s->grace_init = true;
        s->handles++;
        s->grace.data = s;
        s->size_wait = true;
        uv_timer_start(&s->grace, on_size_wait, SIZE_WAIT_MS, 0);
        return;
    }
    kickoff(s);
}

void reef_podio_exec(uv_loop_t *loop, const char *containers_dir, const char *id,
                     struct reef_http_req *req, struct reef_http_res *res)
{
    start(loop, containers_dir, id, false, req, res);
}

void reef_podio_attach(uv_loop_t *loop, const char *containers_dir, const char *id,
                       struct reef_http_req *req, struct reef_http_res *res)
{
    start(loop, containers_dir, id, true, req, res);
}
