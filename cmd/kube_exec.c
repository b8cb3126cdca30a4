/* kube_exec: `reef exec` for pods, as kubectl exec: the API server's pods/exec over WebSocket
 * (v5.channel.k8s.io, else v4). Every message starts with its channel: 0 stdin, 1 stdout,
 * 2 stderr, 3 the final Status, 4 the terminal size; v5 adds 255 [channel] to close stdin. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/kube_pod.h"
#include "core/buf.h"

enum { CH_STDIN = 0, CH_STDOUT = 1, CH_STDERR = 2, CH_ERROR = 3, CH_RESIZE = 4, CH_CLOSE = 255 };

static int winch_pipe[2] = {-1, -1};

static void on_winch(int sig)
{
    int saved = errno;
    ssize_t w = write(winch_pipe[1], "w", 1);
    (void)w;
    (void)sig;
    errno = saved;
}

static struct termios saved_termios;
static bool raw_mode;

static void restore_terminal(void)
{
    if (raw_mode)
        tcsetattr(0, TCSANOW, &saved_termios);
    raw_mode = false;
}

/* A signal that ends the command leaves the terminal as it found it. */
static void on_fatal(int sig)
{
    if (raw_mode)
        tcsetattr(0, TCSANOW, &saved_termios);
    signal(sig, SIG_DFL);
    raise(sig);
}

struct session {
    struct reef_buf status; /* the Status on channel 3 */
    bool got_status;
};

static void write_out(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (errno == EPIPE) {
                restore_terminal();
                signal(SIGPIPE, SIG_DFL);
                raise(SIGPIPE);
            }
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

static int on_message(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    struct session *s = ud;
    if (op != REEF_WS_BINARY || len == 0)
        return 0;
    switch (data[0]) {
    case CH_STDOUT:
        write_out(1, data + 1, len - 1);
        break;
    case CH_STDERR:
        write_out(2, data + 1, len - 1);
        break;
    case CH_ERROR:
        reef_buf_append(&s->status, data + 1, len - 1);
        s->got_status = true;
        break;
    default:
        break;
    }
    return 0;
}

static void send_size(struct reef_ws_client *ws)
{
    struct winsize w;
    if (ioctl(1, TIOCGWINSZ, &w) < 0)
        return;
    char msg[64];
    int n =
        snprintf(msg, sizeof(msg), "%c{\"Width\":%u,\"Height\":%u}", CH_RESIZE, w.ws_col, w.ws_row);
    reef_ws_client_send(ws, REEF_WS_BINARY, msg, (size_t)n, NULL);
}

/* The exit status from the Status on channel 3, printing what kubectl prints. */
static int exit_status(const struct session *s)
{
    if (!s->got_status)
        return 0;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, s->status.data, s->status.len, NULL, NULL) < 0) {
        fprintf(stderr, "error: error stream protocol error: invalid Status in \"%.*s\"\n",
                (int)s->status.len, s->status.data);
        return 1;
    }
    int code = 0;
    int st = reef_json_member(&d, REEF_JSON_ROOT, "status");
    int reason = reef_json_member(&d, REEF_JSON_ROOT, "reason");
    if (st >= 0 && reef_json_str_eq(&d, st, "Success")) {
        code = 0;
    } else if (st >= 0 && reef_json_str_eq(&d, st, "Failure")) {
        code = -1;
        if (reason >= 0 && reef_json_str_eq(&d, reason, "NonZeroExitCode")) {
            int causes = reef_json_find(&d, REEF_JSON_ROOT, "details.causes", NULL);
            struct reef_json_iter it = reef_json_iter(&d, causes);
            while (causes >= 0 && reef_json_next(&d, &it)) {
                int r = reef_json_member(&d, it.val, "reason");
                int m = reef_json_member(&d, it.val, "message");
                char num[16];
                long long v;
                if (r >= 0 && reef_json_str_eq(&d, r, "ExitCode") && m >= 0 &&
                    reef_json_get_str(&d, m, num, sizeof(num), NULL) >= 0 &&
                    reef_str_to_ll(num, 0, 255, &v) == 0) {
                    fprintf(stderr, "command terminated with exit code %lld\n", v);
                    code = (int)v;
                    break;
                }
            }
            if (code < 0) {
                fprintf(stderr, "error: error stream protocol error: no ExitCode cause given\n");
                code = 1;
            }
        } else {
            char msg[2048] = "";
            int m = reef_json_member(&d, REEF_JSON_ROOT, "message");
            if (m >= 0)
                reef_json_get_str(&d, m, msg, sizeof(msg), NULL);
            fprintf(stderr, "error: %s\n", msg);
            code = 1;
        }
    } else {
        fprintf(stderr, "error: error stream protocol error: unknown error\n");
        code = 1;
    }
    reef_json_doc_free(&d);
    return code;
}

/* Relays stdin, the terminal size and the output until the connection ends. */
static int relay(struct reef_ws_client *ws, bool in, bool tty, struct session *s)
{
    bool v5 = strcmp(reef_ws_client_protocol(ws), "v5.channel.k8s.io") == 0;
    struct reef_err err = {0};
    bool in_open = in;
    if (tty) {
        if (pipe2(winch_pipe, O_CLOEXEC | O_NONBLOCK) == 0)
            signal(SIGWINCH, on_winch);
        send_size(ws);
    }
    for (;;) {
        int r;
        if (reef_ws_client_pending(ws)) {
            r = reef_ws_client_read(ws, on_message, s, &err);
            if (r <= 0)
                break;
            continue;
        }
        struct pollfd p[3] = {{reef_ws_client_fd(ws), POLLIN, 0},
                              {in_open ? 0 : -1, POLLIN, 0},
                              {winch_pipe[0], POLLIN, 0}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents) {
            r = reef_ws_client_read(ws, on_message, s, &err);
            if (r <= 0)
                break;
        }
        if (p[2].revents & POLLIN) {
            char b[16];
            while (read(winch_pipe[0], b, sizeof(b)) > 0)
                ;
            send_size(ws);
        }
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            char buf[16385];
            ssize_t n = read(0, buf + 1, sizeof(buf) - 1);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                in_open = false;
                /* v5 can say stdin ended; v4 cannot, the command keeps it open */
                if (v5) {
                    char close_msg[2] = {(char)CH_CLOSE, CH_STDIN};
                    reef_ws_client_send(ws, REEF_WS_BINARY, close_msg, 2, NULL);
                }
                continue;
            }
            buf[0] = CH_STDIN;
            if (reef_ws_client_send(ws, REEF_WS_BINARY, buf, (size_t)n + 1, &err) < 0)
                in_open = false;
        }
    }
    if (err.code && !s->got_status) {
        restore_terminal();
        return reef_kube_fail(err.msg);
    }
    return -1;
}

int reef__kube_exec_run(int argc, char **argv)
{
    enum { O_KC = 256, O_TIMEOUT, O_DATA };
    static const struct option lo[] = {{"stdin", no_argument, NULL, 'i'},
                                       {"interactive", no_argument, NULL, 'i'},
                                       {"tty", no_argument, NULL, 't'},
                                       {"container", required_argument, NULL, 'c'},
                                       {"namespace", required_argument, NULL, 'n'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"kubeconfig", required_argument, NULL, O_KC},
                                       {"pod-running-timeout", required_argument, NULL, O_TIMEOUT},
                                       {"data-dir", required_argument, NULL, O_DATA},
                                       {0}};
    extern const struct reef_cmd reef_cmd_exec;
    bool in = false, tty = false, quiet = false;
    long long timeout_s = 60;
    const char *container = NULL, *ns = NULL, *kcfg = NULL;
    reef_kube_permute(argc, argv, "itc:n:q", lo);
    int c;
    while ((c = reef_cmd_getopt(&reef_cmd_exec, argc, argv, "itc:n:q", lo)) != -1) {
        switch (c) {
        case 'h':
            return 0;
        case '?':
            return REEF_EXIT_USAGE;
        case 'i':
            in = true;
            break;
        case 't':
            tty = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'c':
            container = optarg;
            break;
        case 'n':
            ns = optarg;
            break;
        case O_KC:
            kcfg = optarg;
            break;
        case O_TIMEOUT:
            if ((timeout_s = reef__kube_duration_s(optarg)) < 0) {
                fprintf(stderr,
                        "Error: invalid argument \"%s\" for \"--pod-running-timeout\" flag: "
                        "time: invalid duration \"%s\"\nSee 'kubectl exec --help' for usage.\n",
                        optarg, optarg);
                return 1;
            }
            break;
        default:
            break;
        }
    }
    /* operands: POD [--] CMD...; getopt may have eaten the "--" */
    int dash = -1;
    for (int i = optind; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) {
            dash = i;
            break;
        }
    bool had_dash = dash >= 0;
    for (int i = optind - 1; !had_dash && i > 0; i--)
        if (strcmp(argv[i], "--") == 0)
            had_dash = true;
    const char *pod_arg = optind < argc && optind != dash ? argv[optind] : NULL;
    int cmd_at = dash >= 0 ? dash + 1 : optind + 1;
    if (!pod_arg) {
        fprintf(stderr, "error: pod, type/name or --filename must be specified\n");
        return 1;
    }
    if (!had_dash && argc - optind > 1) {
        fprintf(stderr, "error: exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- "
                        "[COMMAND] instead\nSee 'kubectl exec -h' for help and examples\n");
        return 1;
    }
    if (cmd_at >= argc) {
        fprintf(stderr, "error: you must specify at least one command for the container\n");
        return 1;
    }

    struct reef_kube k;
    struct reef_err err = {0};
    if (reef_kube_open(&k, kcfg, ns, &err) < 0)
        return reef_kube_fail(err.msg);
    struct reef_kube_podobj pod;
    int status = reef__kube_pod_get(&k, pod_arg, REEF_KUBE_PICK_EXEC, timeout_s, &pod);
    char name[256], pns[256], cname[256] = "";
    if (!status) {
        reef__kube_pod_name(&pod.d, name, sizeof(name), pns, sizeof(pns));
        char phase[32] = "";
        int v = reef_json_find(&pod.d, REEF_JSON_ROOT, "status.phase", NULL);
        if (v >= 0)
            reef_json_get_str(&pod.d, v, phase, sizeof(phase), NULL);
        if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0) {
            fprintf(stderr,
                    "error: cannot exec into a container in a completed pod; current "
                    "phase is %s\n",
                    phase);
            status = 1;
        } else if (container) {
            snprintf(cname, sizeof(cname), "%s", container);
        } else if (reef__kube_pod_default_container(&pod.d, quiet, cname, sizeof(cname)) < 0) {
            fprintf(stderr, "error: pod %s/%s does not have any containers\n", pns, name);
            status = 1;
        }
    }
    reef__kube_podobj_free(&pod);
    if (status) {
        reef_kube_close(&k);
        return status;
    }
    /* kubectl: a terminal only with stdin, and only when stdin is one */
    if (tty && !in) {
        tty = false;
    } else if (tty && !isatty(0)) {
        tty = false;
        if (!quiet)
            fprintf(stderr, "Unable to use a TTY - input is not a terminal or the right kind of "
                            "file\n");
    }
    struct reef_buf path = REEF_BUF_INIT;
    reef_buf_puts(&path, "/api/v1/namespaces/");
    reef_kube_escape(&path, pns);
    reef_buf_puts(&path, "/pods/");
    reef_kube_escape(&path, name);
    reef_buf_puts(&path, "/exec?");
    for (int i = cmd_at; i < argc; i++) {
        reef_buf_puts(&path, "command=");
        reef_kube_escape(&path, argv[i]);
        reef_buf_putc(&path, '&');
    }
    reef_buf_puts(&path, "container=");
    reef_kube_escape(&path, cname);
    if (!tty)
        reef_buf_puts(&path, "&stderr=true");
    if (in)
        reef_buf_puts(&path, "&stdin=true");
    reef_buf_puts(&path, "&stdout=true");
    if (tty)
        reef_buf_puts(&path, "&tty=true");
    static const char *const protocols[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", NULL};
    struct reef_ws_client *ws = NULL;
    struct reef_http_result refused = {0};
    int r = reef__kube_ws_open(&k, path.data, protocols, &ws, &refused, &err);
    reef_buf_free(&path);
    if (r < 0) {
        if (refused.status)
            reef_kube_print_status(&refused);
        else
            reef_kube_fail(err.msg);
        reef_http_result_free(&refused);
        reef_kube_close(&k);
        return 1;
    }
    if (tty && tcgetattr(0, &saved_termios) == 0) {
        struct termios t = saved_termios;
        cfmakeraw(&t);
        raw_mode = tcsetattr(0, TCSANOW, &t) == 0;
        atexit(restore_terminal);
        signal(SIGTERM, on_fatal);
        signal(SIGHUP, on_fatal);
    }
    struct session s = {.status = REEF_BUF_INIT};
    status = relay(ws, in, tty, &s);
    restore_terminal();
    reef_ws_client_free(ws);
    if (status < 0)
        status = exit_status(&s);
    reef_buf_free(&s.status);
    reef_kube_close(&k);
    return status;
}
