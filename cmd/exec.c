/* reef exec: run a command in a running container; -it gives it a terminal. For a pod (kubectl's
 * flags, TYPE/NAME, or a name no local container has) through the API server, as kubectl exec
 * (cmd/kube_exec.c). */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "cmd/kube_pod.h"
#include "core/buf.h"
#include "core/json.h"
#include "runtime/container.h"
#include "runtime/shim.h"

extern const struct reef_cmd reef_cmd_exec;

static int winch_pipe[2] = {-1, -1};
static void on_winch(int sig)
{
    ssize_t w = write(winch_pipe[1], "w", 1);
    (void)w;
    (void)sig;
}

static struct termios saved;
static bool raw;
static void restore(void)
{
    if (raw)
        tcsetattr(0, TCSANOW, &saved);
    raw = false;
}

static void copy_all(int from, int to)
{
    char buf[16384];
    ssize_t n = read(from, buf, sizeof(buf));
    for (ssize_t off = 0; n > 0 && off < n;) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0)
            break;
        off += w;
    }
}

static int exec_cmd(int argc, char **argv)
{
    static const struct option opts[] = {{"interactive", no_argument, NULL, 'i'},
                                         {"tty", no_argument, NULL, 't'},
                                         {"env", required_argument, NULL, 'e'},
                                         {"user", required_argument, NULL, 'u'},
                                         {"workdir", required_argument, NULL, 'w'},
                                         {"data-dir", required_argument, NULL, 'D'},
                                         {0}};
    if (reef__kube_wants_pod(argc, argv, true))
        return reef__kube_exec_run(argc, argv);
    bool interactive = false, tty = false;
    const char *user = "", *workdir = "", *data_flag = NULL;
    const char *envs[128];
    int nenv = 0, c;
    while ((c = reef_cmd_getopt(&reef_cmd_exec, argc, argv, "ite:u:w:", opts)) != -1) {
        switch (c) {
        case 'h': return 0;
        case '?': return REEF_EXIT_USAGE;
        case 'i': interactive = true; break;
        case 't': tty = true; break;
        case 'e':
            if (nenv < 128)
                envs[nenv++] = optarg;
            break;
        case 'u': user = optarg; break;
        case 'w': workdir = optarg; break;
        case 'D': data_flag = optarg; break;
        }
    }
    if (argc - optind < 2)
        return reef_cmd_usage_error(&reef_cmd_exec, "name a container and a command");
    const char *data = reef_cmd_data_dir(data_flag);
    char containers[PATH_MAX];
    reef_cmd_data_path(data, "containers", containers, sizeof(containers));
    struct reef_err err = {0};
    struct reef_ctrstore *store;
    char id[REEF_CTR_ID_LEN + 1];
    if (reef_cmd_open_containers(data, &store, &err) < 0 ||
        reef_ctr_resolve(store, argv[optind], id, &err) < 0) {
        fprintf(stderr, "reef exec: %s\n", err.msg);
        return REEF_EXIT_RUNTIME;
    }
    reef_ctrstore_close(store);

    struct reef_buf req = REEF_BUF_INIT;
    struct reef_json_writer w;
    reef_json_writer_init(&w, &req, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "argv");
    reef_json_begin_array(&w);
    for (int i = optind + 1; i < argc; i++)
        reef_json_put_str(&w, argv[i]);
    reef_json_end_array(&w);
    reef_json_key(&w, "env");
    reef_json_begin_array(&w);
    for (int i = 0; i < nenv; i++) {
        if (strchr(envs[i], '=')) {
            reef_json_put_str(&w, envs[i]);
        } else if (getenv(envs[i])) {
            struct reef_buf kv = REEF_BUF_INIT;
            reef_buf_printf(&kv, "%s=%s", envs[i], getenv(envs[i]));
            reef_json_put_str(&w, kv.data);
            reef_buf_free(&kv);
        }
    }
    if (tty)
        reef_json_put_str(&w, "TERM=xterm");
    reef_json_end_array(&w);
    reef_json_key(&w, "user");
    reef_json_put_str(&w, user);
    reef_json_key(&w, "workdir");
    reef_json_put_str(&w, workdir);
    reef_json_key(&w, "tty");
    reef_json_put_bool(&w, tty);
    reef_json_end_object(&w);
    if (reef_json_finish(&w, &err) < 0) {
        fprintf(stderr, "reef exec: %s\n", err.msg);
        return REEF_EXIT_RUNTIME;
    }

    int master = -1;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int fds[3] = {interactive && !tty ? 0 : null, tty ? null : 1, tty ? null : 2};
    int sock, code;
    int r = reef_shim_exec_start(containers, id, req.data, fds, &sock, &master, &code, &err);
    reef_buf_free(&req);
    if (r == 0 && tty && master >= 0) {
        struct winsize ws;
        if (ioctl(0, TIOCGWINSZ, &ws) == 0)
            ioctl(master, TIOCSWINSZ, &ws);
    }
    if (r < 0) {
        fprintf(stderr, "reef exec: %s\n", err.msg);
        return code;
    }
    if (tty) {
        /* Relay between our terminal and the pty; window size follows ours. */
        if (interactive && isatty(0) && tcgetattr(0, &saved) == 0) {
            struct termios t = saved;
            cfmakeraw(&t);
            raw = tcsetattr(0, TCSANOW, &t) == 0;
            atexit(restore);
        }
        if (pipe2(winch_pipe, O_CLOEXEC | O_NONBLOCK) == 0)
            signal(SIGWINCH, on_winch);
        bool in_open = interactive;
        for (;;) {
            struct pollfd p[4] = {{master, POLLIN, 0},
                                  {sock, POLLIN, 0},
                                  {winch_pipe[0], POLLIN, 0},
                                  {in_open ? 0 : -1, POLLIN, 0}};
            if (poll(p, 4, -1) < 0 && errno != EINTR)
                break;
            if (p[0].revents & POLLIN)
                copy_all(master, 1);
            else if (p[0].revents & (POLLHUP | POLLERR))
                master = master >= 0 ? (close(master), -1) : -1;
            if (p[2].revents & POLLIN) {
                char b[16];
                ssize_t k = read(winch_pipe[0], b, sizeof(b));
                (void)k;
                struct winsize ws;
                if (ioctl(0, TIOCGWINSZ, &ws) == 0 && master >= 0)
                    ioctl(master, TIOCSWINSZ, &ws);
            }
            if (p[3].revents & (POLLIN | POLLHUP)) {
                char buf[4096];
                ssize_t k = read(0, buf, sizeof(buf));
                if (k <= 0)
                    in_open = false;
                else if (master >= 0 && write(master, buf, (size_t)k) < 0)
                    in_open = false;
            }
            if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
                /* Drain what the process wrote before it exited. */
                struct pollfd q = {master, POLLIN, 0};
                while (master >= 0 && poll(&q, 1, 50) > 0 && (q.revents & POLLIN))
                    copy_all(master, 1);
                break;
            }
        }
        restore();
    }
    r = reef_shim_exec_wait(sock, &code, &err);
    if (r < 0)
        fprintf(stderr, "reef exec: %s\n", err.msg);
    return code;
}

const struct reef_cmd reef_cmd_exec = {
    .name = "exec",
    .summary = "run a command in a running container or a pod",
    .usage = "usage: reef exec [-i] [-t] [-e KEY=VALUE] [-u USER] [-w DIR] CONTAINER CMD [ARG...]\n"
             "       reef exec [-i] [-t] [-c CONTAINER] [-n NS] POD|TYPE/NAME -- CMD [ARG...]\n"
             "\nThe exit status is the command's (126/127 when it cannot run). A pod (kubectl's\n"
             "flags, TYPE/NAME, or a name no local container has) is reached through the API\n"
             "server, as kubectl exec does.\n\n"
             "Options:\n"
             "  -i, --interactive    keep stdin open\n"
             "  -t, --tty            give the command a terminal\n"
             "  -e, --env KEY=VALUE  set an environment variable\n"
             "  -u, --user USER      run as USER[:GROUP] (from the container's /etc/passwd)\n"
             "  -w, --workdir DIR    working directory\n"
             "      --data-dir DIR   reef's state (default /var/lib/reef, or $REEF_DATA_DIR)\n"
             "Pods:\n"
             "  -c, --container C    the container (default: the pod's default container)\n"
             "  -q, --quiet          no \"Defaulted container\" message\n"
             "  -n, --namespace NS   the namespace\n"
             "      --kubeconfig F   the kubeconfig\n",
    .run = exec_cmd,
};
REEF_COMMAND(reef_cmd_exec);

/* reef attach: the output (and, for an interactive container, the input) of a running container. */

/* The shim polls the input it is given, and a regular file (`reef attach C < file`) cannot be
 * polled: such input goes through a pipe that a child of ours fills. Returns the descriptor to
 * pass (0 itself when it can be polled). */
static int pollable_stdin(void)
{
    struct stat st;
    if (fstat(0, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        char buf[65536];
        ssize_t n;
        while ((n = read(0, buf, sizeof(buf))) > 0)
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(p[1], buf + off, (size_t)(n - off));
                if (w <= 0)
                    _exit(1);
                off += w;
            }
        _exit(0);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return 0;
    }
    return p[0];
}
extern const struct reef_cmd reef_cmd_attach;

static int attach_cmd(int argc, char **argv)
{
    static const struct option opts[] = {{"data-dir", required_argument, NULL, 'D'}, {0}};
    const char *data_flag = NULL;
    int c;
    while ((c = reef_cmd_getopt(&reef_cmd_attach, argc, argv, "", opts)) != -1) {
        if (c == 'h')
            return 0;
        if (c == '?')
            return REEF_EXIT_USAGE;
        if (c == 'D')
            data_flag = optarg;
    }
    if (optind + 1 != argc)
        return reef_cmd_usage_error(&reef_cmd_attach, "name exactly one container");
    const char *data = reef_cmd_data_dir(data_flag);
    char containers[PATH_MAX];
    reef_cmd_data_path(data, "containers", containers, sizeof(containers));
    struct reef_err err = {0};
    struct reef_ctrstore *store;
    char id[REEF_CTR_ID_LEN + 1];
    if (reef_cmd_open_containers(data, &store, &err) < 0 ||
        reef_ctr_resolve(store, argv[optind], id, &err) < 0) {
        fprintf(stderr, "reef attach: %s\n", err.msg);
        return 1;
    }
    struct reef_ctr_config cfg;
    bool tty = false;
    if (reef_ctr_load_config(store, id, &cfg, NULL) == 0) {
        tty = cfg.tty && cfg.interactive;
        reef_ctr_config_free(&cfg);
    }
    reef_ctrstore_close(store);
    int fds[3] = {pollable_stdin(), 1, 2}, sock, code;
    if (reef_shim_attach(containers, id, fds, &sock, &err) < 0) {
        fprintf(stderr, "reef attach: %s\n", err.msg);
        return 1;
    }
    if (tty && isatty(0) && tcgetattr(0, &saved) == 0) {
        struct termios t = saved;
        cfmakeraw(&t);
        raw = tcsetattr(0, TCSANOW, &t) == 0;
        atexit(restore);
        char msg[64];
        struct winsize ws;
        if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
            snprintf(msg, sizeof(msg), "resize %u %u", ws.ws_row, ws.ws_col);
            char rep[64];
            reef_shim_call(containers, id, msg, NULL, 0, rep, sizeof(rep), 5000, NULL);
        }
    }
    int r = reef_shim_exec_wait(sock, &code, &err);
    restore();
    if (r < 0) {
        fprintf(stderr, "reef attach: %s\n", err.msg);
        return 1;
    }
    return code;
}

const struct reef_cmd reef_cmd_attach = {
    .name = "attach",
    .summary = "attach to a running container's output (and input)",
    .usage = "usage: reef attach CONTAINER\n\n"
             "Copies the container's output to this terminal until it exits, and for a container\n"
             "started with -i, this terminal's input to it (to one attachment at a time). The exit\n"
             "status is the container's.\n"
             "\nOptions:\n"
             "      --data-dir DIR   reef's state (default /var/lib/reef, or $REEF_DATA_DIR)\n",
    .run = attach_cmd,
};
REEF_COMMAND(reef_cmd_attach);
