/* Internal to runtime/shim.c, shim_ctl.c and shim_client.c: the control socket's message framing
 * (one SOCK_SEQPACKET message, up to 3 descriptors with SCM_RIGHTS) and the clock. */
#ifndef REEF_RUNTIME_SHIM_INTERNAL_H
#define REEF_RUNTIME_SHIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <uv.h>

#include "core/err.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/ctrstore.h"
#include "runtime/logfile.h"
#include "runtime/seccomp.h"

/* The shim's state (runtime/shim.c), shared with its control socket (runtime/shim_ctl.c). */
#define MAX_CONNS 64
#define REEF_USERNS_BASE 100000 /* --userns remap: container uid 0 is this host uid */
#define REEF_STR2(x) #x
#define REEF_STR(x) REEF_STR2(x)
#define MSG_MAX 65536

enum conn_wait { WAIT_NONE, WAIT_STOP, WAIT_EXEC, WAIT_ATTACH };

struct conn {
    struct shim *shim;
    int fd;
    uv_poll_t poll;
    bool active;
    enum conn_wait wait;
    pid_t exec_pid;
    /* attach: the client's stdout and stderr receive the output; its stdin (a terminal
     * container only) feeds the terminal. */
    int out_fd, err_fd, in_fd;
    uv_poll_t in_poll;
    bool in_polling;
};

struct stream {
    struct shim *shim;
    int fd;
    enum reef_log_stream which;
    int forward_fd; /* the client's fd 1 or 2, -1 when not attached */
    uv_poll_t poll;
    bool open;
};

struct shim {
    uv_loop_t loop;
    struct reef_ctrstore *store;
    struct reef_ctr_config cfg;
    struct reef_ctr_state st;
    char dir[PATH_MAX - 64];
    struct reef_cgroup_layout *layout;
    struct reef_cgroup *cg;
    struct reef_seccomp_prog seccomp;
    struct reef_logfile *log;
    pid_t pid;
    struct stream out, errs; /* pipes, or out alone for a pty */
    int pty;
    uv_poll_t stdin_poll;
    bool stdin_polling;
    uv_signal_t sigchld;
    uv_timer_t restart_timer, stop_timer, drain_timer, trim_timer;
    int client_fd;
    uv_poll_t client_poll;
    bool client_polling;
    bool attach;
    int ctl_fd;
    uv_poll_t ctl_poll;
    struct conn conns[MAX_CONNS];
    bool stopping;
    bool exited; /* reaped; waiting for the output to drain */
    int64_t started_ns;
    int fast_restarts;
    uint64_t oom_base;
    int result;
    char trash[PATH_MAX]; /* where --rm moved the directory, deleted on the way out */
    /* An interactive container without a terminal or a client at its start (a pod's stdin, `reef
     * run -d -i`): the write end of its stdin pipe (-1: none, or closed), input an attached
     * client sent that the pipe could not take yet, and the one attachment feeding it. */
    int stdin_w;
    char stdin_pend[4096];
    size_t stdin_off, stdin_len;
    struct conn *stdin_feeder;
    uv_timer_t stdin_retry;
    bool rootfs_mounted;  /* --userns: the shim mounted the idmapped root itself */
};

/* runtime/shim.c */
void reef__shim_reply(int fd, const char *msg);
void reef__shim_reply_fds(int fd, const char *msg, const int *fds, int nfds);
void reef__shim_forward(int fd, const char *p, size_t n);
/* The config's groups_add as gids (at most REEF_SHIM_MAX_GROUPS_ADD); how many. */
#define REEF_SHIM_MAX_GROUPS_ADD 32
int reef__shim_groups_add(const struct shim *s, gid_t out[REEF_SHIM_MAX_GROUPS_ADD]);
void reef__shim_stop(struct shim *s, int timeout_s);

/* runtime/shim_ctl.c */
int reef__shim_listen(struct shim *s, struct reef_err *err);
/* The container's stdin pipe (see struct shim): *rfd is the read end for the container. */
int reef__shim_stdin_pipe(struct shim *s, int *rfd, struct reef_err *err);
/* Closes it (the container exited, or stdin_once's session ended); pending input is dropped. */
void reef__shim_stdin_close(struct shim *s);
void reef__shim_conn_close(struct conn *c);
void reef__shim_on_client(uv_poll_t *h, int status, int events);

int64_t reef__shim_now_ns(void);
/* Sends msg with fds attached (nfds may be 0). 0 or -errno. */
int reef__shim_send_fds(int fd, const char *msg, const int *fds, int nfds);
/* Receives one message and up to 3 descriptors (close-on-exec). Its length, 0 at EOF, or -errno. */
ssize_t reef__shim_recv_msg(int fd, char *buf, size_t cap, int *fds, int *nfds);
/* Kills what is left in a container's cgroup and removes it, and the parent ("/reef") too when
 * no other container lives there any more. */
int reef__shim_remove_cgroup(const struct reef_cgroup_layout *l, struct reef_cgroup *cg,
                             const char *parent, struct reef_err *err);

#endif
