/* shim_ctl: the shim's control socket (docs/SHIM.md): one SOCK_SEQPACKET connection per client,
 * requests state, kill, stop, resize, exec (descriptors passed along) and attach, and the socket
 * pair to the client that started the container. Runs on the shim's loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "runtime/shim_internal.h"

void reef__shim_conn_close(struct conn *c)
{
    if (!c->active)
        return;
    c->active = false;
    uv_poll_stop(&c->poll);
    uv_close((uv_handle_t *)&c->poll, NULL);
    close(c->fd);
    if (c->in_polling) {
        uv_poll_stop(&c->in_poll);
        uv_close((uv_handle_t *)&c->in_poll, NULL);
        c->in_polling = false;
    }
    if (c->shim->stdin_feeder == c) {
        c->shim->stdin_feeder = NULL;
        /* the session that fed stdin is over, however it ended */
        if (c->shim->cfg.stdin_once && !c->shim->cfg.tty)
            reef__shim_stdin_close(c->shim);
    }
    if (c->wait == WAIT_ATTACH) {
        close(c->out_fd);
        close(c->err_fd);
        if (c->in_fd >= 0)
            close(c->in_fd);
    }
    c->wait = WAIT_NONE;
}

/* Where attached input goes: the terminal, or the stdin pipe; -1 when nowhere. */
static int input_target(const struct shim *s)
{
    if (!s->cfg.interactive)
        return -1;
    return s->cfg.tty ? s->pty : s->stdin_w;
}

int reef__shim_stdin_pipe(struct shim *s, int *rfd, struct reef_err *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return reef_err_errno(err, -errno, "create the stdin pipe");
    fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
    s->stdin_w = p[1];
    *rfd = p[0];
    return 0;
}

void reef__shim_stdin_close(struct shim *s)
{
    uv_timer_stop(&s->stdin_retry);
    s->stdin_len = 0;
    if (s->stdin_feeder) {
        struct conn *c = s->stdin_feeder;
        s->stdin_feeder = NULL;
        if (c->in_polling)
            uv_poll_stop(&c->in_poll);
    }
    if (s->stdin_w >= 0)
        close(s->stdin_w);
    s->stdin_w = -1;
}

/* Writes what the target takes without blocking; how much, or -1 when it cannot take any more
 * ever (the reader is gone). */
static ssize_t feed(int fd, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w > 0)
            done += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else if (w < 0 && errno == EAGAIN)
            break;
        else
            return -1;
    }
    return (ssize_t)done;
}

static void on_attach_input(uv_poll_t *h, int status, int events);

/* The pipe or terminal was full: try again until the pending input is in, then read on. */
static void on_stdin_retry(uv_timer_t *t)
{
    struct shim *s = t->data;
    int target = input_target(s);
    ssize_t w = target >= 0 ? feed(target, s->stdin_pend + s->stdin_off, s->stdin_len) : -1;
    if (w < 0) {
        s->stdin_len = 0;
    } else {
        s->stdin_off += (size_t)w;
        s->stdin_len -= (size_t)w;
    }
    if (s->stdin_len)
        return;
    uv_timer_stop(t);
    struct conn *c = s->stdin_feeder;
    if (c && c->in_polling)
        uv_poll_start(&c->in_poll, UV_READABLE, on_attach_input);
}

static void on_attach_input(uv_poll_t *h, int status, int events)
{
    struct conn *c = h->data;
    struct shim *s = c->shim;
    int target = input_target(s);
    char buf[sizeof(s->stdin_pend)];
    ssize_t n = read(c->in_fd, buf, sizeof(buf));
    if (n > 0 && target >= 0) {
        ssize_t w = feed(target, buf, (size_t)n);
        if (w >= 0 && w < n) {
            memcpy(s->stdin_pend, buf + w, (size_t)(n - w));
            s->stdin_off = 0;
            s->stdin_len = (size_t)(n - w);
            uv_poll_stop(&c->in_poll);
            uv_timer_start(&s->stdin_retry, on_stdin_retry, 10, 10);
        }
        if (w >= 0)
            return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    /* the client's input ended (or the container's did); its output still flows */
    uv_poll_stop(&c->in_poll);
    if (s->stdin_feeder == c) {
        s->stdin_feeder = NULL;
        if (s->cfg.stdin_once && !s->cfg.tty)
            reef__shim_stdin_close(s);
    }
    (void)status;
    (void)events;
}

/* "attach" with the client's stdin (optional), stdout and stderr. */
static void start_attach(struct shim *s, struct conn *c, int *fds, int nfds)
{
    if (nfds != 2 && nfds != 3) {
        reef__shim_reply(c->fd, "error 1 attach needs stdout and stderr, and stdin optionally");
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        return;
    }
    if (s->pid <= 0) {
        reef__shim_reply(c->fd, "error 1 container is not running");
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        return;
    }
    c->wait = WAIT_ATTACH;
    c->out_fd = fds[nfds - 2];
    c->err_fd = fds[nfds - 1];
    c->in_fd = -1;
    /* one attachment at a time feeds the container's input */
    if (nfds == 3 && input_target(s) >= 0 && !s->stdin_feeder) {
        c->in_fd = fds[0];
        fcntl(c->in_fd, F_SETFL, fcntl(c->in_fd, F_GETFL) | O_NONBLOCK);
        if (uv_poll_init(&s->loop, &c->in_poll, c->in_fd) == 0) {
            c->in_poll.data = c;
            c->in_polling = true;
            if (uv_poll_start(&c->in_poll, UV_READABLE, on_attach_input) == 0)
                s->stdin_feeder = c;
        }
    } else if (nfds == 3) {
        close(fds[0]);
    }
    reef__shim_reply(c->fd, "ok");
}

/* In the exec helper, before it enters the container's namespaces. */
static int exec_join_cgroup(void *ud)
{
    return reef_cgroup_join(((struct shim *)ud)->cg);
}

static int start_exec(struct shim *s, struct conn *c, const char *json, size_t len, int *fds,
                      int nfds)
{
    struct reef_err err = {0};
    char msg[600];
    if (s->pid <= 0) {
        reef__shim_reply(c->fd, "error 125 container is not running");
        return -1;
    }
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, json, len, NULL, &err) < 0) {
        snprintf(msg, sizeof(msg), "error 125 %s", err.msg);
        reef__shim_reply(c->fd, msg);
        return -1;
    }
    char *argv[256] = {0}, *env[512] = {0}, *user = NULL, *workdir = NULL;
    size_t na = 0, ne = 0;
    int v = reef_json_member(&d, REEF_JSON_ROOT, "argv");
    struct reef_json_iter it = reef_json_iter(&d, v);
    while (v >= 0 && na < 255 && reef_json_next(&d, &it))
        reef_json_get_strdup(&d, it.val, &argv[na++], NULL);
    for (size_t i = 0; i < s->cfg.nenv && ne < 400; i++)
        env[ne++] = strdup(s->cfg.env[i]);
    v = reef_json_member(&d, REEF_JSON_ROOT, "env");
    it = reef_json_iter(&d, v);
    while (v >= 0 && ne < 511 && reef_json_next(&d, &it))
        reef_json_get_strdup(&d, it.val, &env[ne++], NULL);
    v = reef_json_member(&d, REEF_JSON_ROOT, "user");
    if (v >= 0)
        reef_json_get_strdup(&d, v, &user, NULL);
    v = reef_json_member(&d, REEF_JSON_ROOT, "workdir");
    if (v >= 0)
        reef_json_get_strdup(&d, v, &workdir, NULL);
    bool tty = false;
    v = reef_json_member(&d, REEF_JSON_ROOT, "tty");
    if (v >= 0)
        reef_json_get_bool(&d, v, &tty, NULL);
    int64_t rows = 0, cols = 0; /* the terminal's size before the process starts */
    v = reef_json_member(&d, REEF_JSON_ROOT, "rows");
    if (v >= 0 && (reef_json_get_int(&d, v, &rows, NULL) < 0 || rows < 0 || rows > 65535))
        rows = 0;
    v = reef_json_member(&d, REEF_JSON_ROOT, "cols");
    if (v >= 0 && (reef_json_get_int(&d, v, &cols, NULL) < 0 || cols < 0 || cols > 65535))
        cols = 0;
    reef_json_doc_free(&d);
    int rc = -1;
    if (na == 0 || !argv[0]) {
        reef__shim_reply(c->fd, "error 125 exec needs a command");
    } else {
        gid_t groups_add[REEF_SHIM_MAX_GROUPS_ADD];
        int ngroups_add = reef__shim_groups_add(s, groups_add);
        struct reef_process_spec p = {
            .argv = argv,
            .env = env,
            .cwd = workdir && workdir[0] ? workdir : s->cfg.workdir,
            .user_spec = user && user[0] ? user : s->cfg.user,
            .groups_add = groups_add,
            .ngroups_add = ngroups_add,
            .caps = s->cfg.caps,
            .seccomp = s->cfg.seccomp ? &s->seccomp : NULL,
            .no_new_privs = s->cfg.no_new_privs,
            .stdio = {nfds > 0 ? fds[0] : -1, nfds > 1 ? fds[1] : -1, nfds > 2 ? fds[2] : -1},
            .join = exec_join_cgroup,
            .join_ud = s,
        };
        int console[2] = {-1, -1};
        if (tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) == 0) {
            p.console = true;
            p.console_socket = console[1];
            p.rows = (unsigned short)rows;
            p.cols = (unsigned short)cols;
        }
        pid_t epid;
        int code;
        int er = reef_container_exec(s->pid, &p, NULL, &epid, &code, &err);
        if (console[1] >= 0)
            close(console[1]);
        int master = -1;
        if (er == 0 && console[0] >= 0 && (master = reef_container_recv_console(console[0])) < 0) {
            kill(epid, SIGKILL);
            er = reef_err_errno(&err, master, "receive the terminal");
            code = REEF_EXIT_RUNTIME;
        }
        if (console[0] >= 0)
            close(console[0]);
        if (er < 0) {
            snprintf(msg, sizeof(msg), "error %d %s", code, err.msg);
            reef__shim_reply(c->fd, msg);
        } else {
            c->wait = WAIT_EXEC;
            c->exec_pid = epid;
            snprintf(msg, sizeof(msg), "started %d", (int)epid);
            /* The terminal's master goes to the client, which relays it. */
            if (master >= 0) {
                reef__shim_reply_fds(c->fd, msg, &master, 1);
                close(master);
            } else {
                reef__shim_reply(c->fd, msg);
            }
            rc = 0;
        }
    }
    for (size_t i = 0; i < na; i++)
        free(argv[i]);
    for (size_t i = 0; i < ne; i++)
        free(env[i]);
    free(user);
    free(workdir);
    return rc;
}

static void handle_request(struct shim *s, struct conn *c, char *msg, size_t len, int *fds,
                           int nfds)
{
    msg[len] = '\0';
    char out[1024];
    if (strcmp(msg, "state") == 0) {
        struct reef_buf b = REEF_BUF_INIT;
        reef_ctr_state_to_json(&s->st, &b);
        reef__shim_reply(c->fd, b.data ? b.data : "{}");
        reef_buf_free(&b);
    } else if (strncmp(msg, "kill ", 5) == 0) {
        int sig = atoi(msg + 5);
        if (s->pid <= 0) {
            reef__shim_reply(c->fd, "error 1 container is not running");
        } else if (sig <= 0 || sig >= NSIG || kill(s->pid, sig) < 0) {
            snprintf(out, sizeof(out), "error 1 kill: invalid signal %.20s", msg + 5);
            reef__shim_reply(c->fd, out);
        } else {
            s->stopping = true; /* a container killed by hand is not restarted */
            reef__shim_reply(c->fd, "ok");
        }
    } else if (strncmp(msg, "stop ", 5) == 0) {
        if (s->pid <= 0 && !uv_is_active((uv_handle_t *)&s->restart_timer)) {
            reef__shim_reply(c->fd, "ok");
        } else {
            c->wait = WAIT_STOP;
            reef__shim_stop(s, atoi(msg + 5));
        }
    } else if (strncmp(msg, "resize ", 7) == 0) {
        struct winsize ws = {0};
        if (sscanf(msg + 7, "%hu %hu", &ws.ws_row, &ws.ws_col) == 2 && s->pty >= 0)
            ioctl(s->pty, TIOCSWINSZ, &ws);
        reef__shim_reply(c->fd, "ok");
    } else if (strncmp(msg, "exec ", 5) == 0) {
        start_exec(s, c, msg + 5, len - 5, fds, nfds);
    } else if (strcmp(msg, "attach") == 0) {
        start_attach(s, c, fds, nfds);
        return; /* the descriptors are the attachment's now */
    } else {
        reef__shim_reply(c->fd, "error 2 unknown request");
    }
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
}


static void on_conn(uv_poll_t *h, int status, int events)
{
    struct conn *c = h->data;
    static char buf[MSG_MAX + 1];
    int fds[3], nfds;
    ssize_t n = reef__shim_recv_msg(c->fd, buf, MSG_MAX, fds, &nfds);
    if (n == -EAGAIN || n == -EINTR)
        return;
    if (n <= 0) {
        reef__shim_conn_close(c);
        return;
    }
    handle_request(c->shim, c, buf, (size_t)n, fds, nfds);
    (void)status;
    (void)events;
}

static void on_accept(uv_poll_t *h, int status, int events)
{
    struct shim *s = h->data;
    int fd = accept4(s->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &s->conns[i];
        if (c->active)
            continue;
        if (uv_is_closing((uv_handle_t *)&c->poll) || uv_is_closing((uv_handle_t *)&c->in_poll))
            continue; /* its close callback has not run yet */
        memset(c, 0, sizeof(*c));
        c->shim = s;
        c->fd = fd;
        if (uv_poll_init(&s->loop, &c->poll, fd) < 0)
            break;
        c->poll.data = c;
        c->active = true;
        uv_poll_start(&c->poll, UV_READABLE | UV_DISCONNECT, on_conn);
        return;
    }
    reef__shim_reply(fd, "error 1 too many connections");
    close(fd);
    (void)status;
    (void)events;
}

void reef__shim_on_client(uv_poll_t *h, int status, int events)
{
    struct shim *s = h->data;
    char buf[256];
    ssize_t n = recv(s->client_fd, buf, sizeof(buf) - 1, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        /* The client left: keep running detached. */
        uv_poll_stop(&s->client_poll);
        uv_close((uv_handle_t *)&s->client_poll, NULL);
        s->client_polling = false;
        close(s->client_fd);
        s->client_fd = -1;
        if (s->stdin_polling) {
            uv_poll_stop(&s->stdin_poll);
        }
        return;
    }
    buf[n] = '\0';
    if (strncmp(buf, "kill ", 5) == 0 && s->pid > 0) {
        int sig = atoi(buf + 5);
        if (sig > 0 && sig < NSIG)
            kill(s->pid, sig);
    } else if (strncmp(buf, "resize ", 7) == 0 && s->pty >= 0) {
        struct winsize ws = {0};
        if (sscanf(buf + 7, "%hu %hu", &ws.ws_row, &ws.ws_col) == 2)
            ioctl(s->pty, TIOCSWINSZ, &ws);
    }
    (void)status;
    (void)events;
}

int reef__shim_listen(struct shim *s, struct reef_err *err)
{
    s->ctl_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->ctl_fd < 0)
        return reef_err_errno(err, -errno, "control socket");
    /* Relative to the container directory (our cwd): its absolute path may be too long for a
     * socket address. */
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strcpy(a.sun_path, "shim.sock");
    unlink("shim.sock");
    if (bind(s->ctl_fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->ctl_fd, 16) < 0)
        return reef_err_errno(err, -errno, "control socket");
    int r = uv_poll_init(&s->loop, &s->ctl_poll, s->ctl_fd);
    if (r == 0) {
        s->ctl_poll.data = s;
        r = uv_poll_start(&s->ctl_poll, UV_READABLE, on_accept);
    }
    return r < 0 ? reef_err_set(err, r, "control socket: %s", uv_strerror(r)) : 0;
}
