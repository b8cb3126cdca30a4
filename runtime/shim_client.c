/* shim_client: the client side of a container's shim (docs/SHIM.md): requests over its control
 * socket (state, stop, kill, exec, attach, resize) and the clean-up of a container whose shim
 * is gone. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/ctrstore.h"
#include "runtime/shim.h"
#include "runtime/shim_internal.h"

static int shim_connect(const char *containers_dir, const char *id, struct reef_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/%s", containers_dir, id);
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return reef_err_errno(err, -errno, "container %.12s", id);
    /* Through the directory's descriptor: the absolute path may not fit a socket address. */
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/shim.sock", dfd);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        close(dfd);
        return reef_err_errno(err, -errno, "socket");
    }
    int r = connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
    close(dfd);
    if (r < 0) {
        close(fd);
        return reef_err_set(err, r == -ENOENT ? -ECONNREFUSED : r,
                            "container %.12s: its shim is not running", id);
    }
    return fd;
}


static int recv_reply(int fd, const char *id, char *buf, size_t sz, int timeout_ms,
                      struct reef_err *err)
{
    struct pollfd p = {fd, POLLIN, 0};
    int pr;
    while ((pr = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
        ;
    if (pr == 0)
        return reef_err_set(err, -ETIMEDOUT, "container %.12s: the shim did not answer", id);
    ssize_t n;
    while ((n = recv(fd, buf, sz - 1, 0)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return reef_err_errno(err, -errno, "container %.12s: shim", id);
    if (n == 0)
        return reef_err_set(err, -ECONNRESET, "container %.12s: the shim went away", id);
    buf[n] = '\0';
    return (int)n;
}

int reef_shim_call(const char *containers_dir, const char *id, const char *request,
                   const int *fds, int nfds, char *reply_buf, size_t replysz, int timeout_ms,
                   struct reef_err *err)
{
    int fd = shim_connect(containers_dir, id, err);
    if (fd < 0)
        return fd;
    int r = reef__shim_send_fds(fd, request, fds, nfds);
    if (r < 0)
        r = reef_err_errno(err, r, "container %.12s: send to shim", id);
    else
        r = recv_reply(fd, id, reply_buf, replysz, timeout_ms, err);
    close(fd);
    return r;
}

int reef_shim_exec_start(const char *containers_dir, const char *id, const char *request_json,
                         const int fds[3], int *sock, int *master, int *exit_code,
                         struct reef_err *err)
{
    *exit_code = REEF_EXIT_RUNTIME;
    *sock = -1;
    *master = -1;
    int fd = shim_connect(containers_dir, id, err);
    if (fd < 0)
        return fd;
    struct reef_buf msg = REEF_BUF_INIT;
    reef_buf_printf(&msg, "exec %s", request_json);
    int r = reef__shim_send_fds(fd, msg.data, fds, 3);
    reef_buf_free(&msg);
    char buf[1024];
    if (r < 0) {
        r = reef_err_errno(err, r, "container %.12s: send to shim", id);
    } else {
        struct pollfd p = {fd, POLLIN, 0};
        while ((r = poll(&p, 1, 30000)) < 0 && errno == EINTR)
            ;
        int got[3], ngot = 0;
        ssize_t n = r > 0 ? reef__shim_recv_msg(fd, buf, sizeof(buf) - 1, got, &ngot) : -ETIMEDOUT;
        if (n <= 0) {
            r = reef_err_set(err, n == 0 ? -ECONNRESET : (int)n,
                             "container %.12s: no answer from the shim", id);
        } else {
            buf[n] = '\0';
            r = (int)n;
            for (int i = 1; i < ngot; i++)
                close(got[i]);
            if (ngot > 0)
                *master = got[0];
        }
    }
    if (r > 0) {
        if (strncmp(buf, "error ", 6) == 0) {
            char *sp = strchr(buf + 6, ' ');
            *exit_code = atoi(buf + 6);
            r = reef_err_set(err, -EIO, "%s", sp ? sp + 1 : "exec failed");
        } else if (strncmp(buf, "started ", 8) == 0) {
            *sock = fd;
            return 0;
        } else {
            r = reef_err_set(err, -EPROTO, "container %.12s: unexpected reply", id);
        }
    }
    if (*master >= 0)
        close(*master);
    *master = -1;
    close(fd);
    return r;
}

int reef_shim_exec_wait(int sock, int *exit_code, struct reef_err *err)
{
    char buf[256];
    int r = recv_reply(sock, "exec", buf, sizeof(buf), -1, err);
    close(sock);
    if (r > 0 && strncmp(buf, "exit ", 5) == 0) {
        *exit_code = atoi(buf + 5);
        return 0;
    }
    *exit_code = REEF_EXIT_RUNTIME;
    return r < 0 ? r : reef_err_set(err, -EPROTO, "exec: unexpected reply from the shim");
}

int reef_shim_cleanup_orphan(const char *containers_dir, const char *id, struct reef_err *err)
{
    struct reef_ctrstore *store;
    int r = reef_ctrstore_open(containers_dir, &store, err);
    if (r < 0)
        return r;
    struct reef_ctr_config cfg;
    r = reef_ctr_load_config(store, id, &cfg, err);
    if (r < 0) {
        reef_ctrstore_close(store);
        return r;
    }
    struct reef_cgroup_layout *layout = NULL;
    struct reef_cgroup *cg = NULL;
    r = reef_cgroup_layout_detect(NULL, &layout, err);
    if (r == 0) {
        struct reef_cgroup_opts co = {
            .parent = cfg.cgroup_parent && cfg.cgroup_parent[0] ? cfg.cgroup_parent : NULL,
            .name = cfg.id,
        };
        r = reef_cgroup_open(layout, &co, &cg, err);
        if (r == -ENOENT) {
            r = 0;
        } else if (r == 0) {
            r = reef__shim_remove_cgroup(layout, cg, cfg.cgroup_parent, err);
        }
    }
    struct reef_ctr_state st;
    if (r == 0 && reef_ctr_load_state(store, id, &st, NULL) == 0 &&
        st.status != REEF_CTR_EXITED) {
        st.status = REEF_CTR_EXITED;
        st.pid = 0;
        if (!st.exit_code)
            st.exit_code = 137;
        st.finished_at = reef__shim_now_ns();
        reef_strlcpy(st.error, "the container's shim was lost", sizeof(st.error));
        reef_ctr_save_state(store, id, &st, NULL);
    }
    reef_cgroup_free(cg);
    reef_cgroup_layout_free(layout);
    reef_ctr_config_free(&cfg);
    reef_ctrstore_close(store);
    return r;
}

int reef_shim_attach(const char *containers_dir, const char *id, const int fds[3], int *sock,
                     struct reef_err *err)
{
    *sock = -1;
    int fd = shim_connect(containers_dir, id, err);
    if (fd < 0)
        return fd;
    char buf[256];
    /* without input, stdout and stderr alone */
    int r = fds[0] >= 0 ? reef__shim_send_fds(fd, "attach", fds, 3)
                        : reef__shim_send_fds(fd, "attach", fds + 1, 2);
    if (r < 0)
        r = reef_err_errno(err, r, "container %.12s: send to shim", id);
    else if ((r = recv_reply(fd, id, buf, sizeof(buf), 10000, err)) > 0) {
        if (strcmp(buf, "ok") == 0) {
            *sock = fd;
            return 0;
        }
        r = reef_err_set(err, -EIO, "%s", strncmp(buf, "error ", 6) == 0 && strchr(buf + 6, ' ')
                                             ? strchr(buf + 6, ' ') + 1
                                             : buf);
    }
    close(fd);
    return r;
}

/* Starting a shim */

extern char **environ;

/* In the forked child of a process that may have had other threads: only system calls from here
 * on (no allocation, no locks). The child makes a session of its own and forks the shim, which
 * init (or a subreaper) inherits once the child exits. */
static __attribute__((noreturn)) void exec_shim(int sock, int null, char *const argv[])
{
    if (setsid() < 0)
        _exit(REEF_EXIT_RUNTIME);
    pid_t pid = fork();
    if (pid != 0)
        _exit(pid < 0 ? REEF_EXIT_RUNTIME : 0);
    /* Whatever the caller blocked or handled (libuv's loop does both) is the shim's business
     * again: it relies on SIGCHLD in particular. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &dfl, NULL); /* EINVAL for SIGKILL, SIGSTOP and gaps: fine */
    /* Out of the way of 0-3 first: a caller with closed stdio got low numbers for them. */
    int s = fcntl(sock, F_DUPFD_CLOEXEC, 10), n = fcntl(null, F_DUPFD_CLOEXEC, 10);
    if (s < 0 || n < 0 || dup2(n, 0) < 0 || dup2(n, 1) < 0 || dup2(n, 2) < 0 || dup2(s, 3) < 0)
        _exit(REEF_EXIT_RUNTIME);
    /* None of the caller's descriptors (listening sockets, the store) may live on in the shim. */
    if (syscall(SYS_close_range, 4, ~0U, 0) < 0) {
        struct rlimit rl;
        int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur
                                                                             : 65536;
        for (int fd = 4; fd < max; fd++)
            close(fd);
    }
    execve("/proc/self/exe", argv, environ);
    _exit(REEF_EXIT_RUNTIME);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The shim's first message: "started <pid>" or "error <code> <message>". */
static int start_reply(int fd, const char *id, int *exit_code, struct reef_err *err)
{
    int64_t deadline = mono_ms() + REEF_SHIM_START_TIMEOUT_MS;
    struct pollfd p = {fd, POLLIN, 0};
    for (;;) {
        int64_t left = deadline - mono_ms();
        int pr = poll(&p, 1, left > 0 ? (int)left : 0);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return reef_err_errno(err, -errno, "container %.12s: wait for the shim", id);
        if (pr == 0)
            return reef_err_set(err, -ETIMEDOUT,
                                "container %.12s: the shim did not report within %d s", id,
                                REEF_SHIM_START_TIMEOUT_MS / 1000);
        break;
    }
    char buf[1024];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf) - 1, 0)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return reef_err_errno(err, -errno, "container %.12s: shim", id);
    if (n == 0)
        return reef_err_set(err, -ECONNRESET,
                            "container %.12s: the shim exited before starting it", id);
    buf[n] = '\0';
    if (strncmp(buf, "started ", 8) == 0) {
        *exit_code = 0;
        return 0;
    }
    if (strncmp(buf, "error ", 6) != 0)
        return reef_err_set(err, -EPROTO, "container %.12s: unexpected reply from the shim", id);
    char *end;
    long code = strtol(buf + 6, &end, 10);
    *exit_code = code > 0 && code < 256 ? (int)code : REEF_EXIT_RUNTIME;
    const char *msg = *end == ' ' ? end + 1 : "failed to start the container";
    int r = *exit_code == REEF_EXIT_NOTFOUND ? -ENOENT
            : *exit_code == REEF_EXIT_NOEXEC ? -EACCES
                                             : -EIO;
    return reef_err_set(err, r, "%s", msg);
}

int reef_shim_start(const char *containers_dir, const char *id, int *exit_code,
                    struct reef_err *err)
{
    *exit_code = REEF_EXIT_RUNTIME;
    /* Everything the child needs is ready before fork: it must not allocate. */
    char dir[PATH_MAX], cid[REEF_CTR_ID_LEN + 1];
    if (reef_strlcpy(dir, containers_dir, sizeof(dir)) >= sizeof(dir))
        return reef_err_set(err, -ENAMETOOLONG, "containers directory path too long");
    if (reef_strlcpy(cid, id, sizeof(cid)) >= sizeof(cid) || !cid[0] || strchr(cid, '/'))
        return reef_err_set(err, -EINVAL, "invalid container ID \"%.80s\"", id);
    char *argv[] = {"reef", "shim", "--containers", dir, "--client-fd", "3", "--detached",
                    cid, NULL};
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
        return reef_err_errno(err, -errno, "container %.12s: start the shim: socketpair", id);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) {
        int e = -errno;
        close(sp[0]);
        close(sp[1]);
        return reef_err_errno(err, e, "container %.12s: start the shim: /dev/null", id);
    }
    pid_t pid = fork();
    if (pid == 0)
        exec_shim(sp[1], null, argv);
    int e = -errno;
    close(sp[1]);
    close(null);
    if (pid < 0) {
        close(sp[0]);
        return reef_err_errno(err, e, "container %.12s: start the shim: fork", id);
    }
    /* The intermediate process exits as soon as it has forked; ECHILD when the caller's SIGCHLD
     * handling reaped it first, which is fine: the socket tells what happened. */
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    int r = start_reply(sp[0], id, exit_code, err);
    close(sp[0]);
    return r;
}
