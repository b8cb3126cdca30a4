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
#include <sys/socket.h>
#include <sys/un.h>
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
    int r = reef__shim_send_fds(fd, "attach", fds, 3);
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
