/* shim: the supervisor of one container (docs/SHIM.md).
 *
 * reef_shim_run owns the container for its whole life: it creates the cgroup, starts the
 * container, writes its output to the log (and to an attached client), reaps it, records its
 * state, restarts it by policy, answers the control socket, and cleans up at the end. It runs one
 * libuv loop and returns when the container is finished for good. The process calling it must be
 * single-threaded (the container is cloned from it). reef_shim_start, which runs it as a process
 * of its own, and the client calls below may be called from any thread. */
#ifndef REEF_RUNTIME_SHIM_H
#define REEF_RUNTIME_SHIM_H

#include <stdbool.h>

#include "core/err.h"

struct reef_shim_opts {
    const char *containers_dir; /* <data-dir>/containers */
    const char *id;
    /* A SOCK_SEQPACKET socket to the client that started the container, or -1. The shim sends
     * "started <pid>", "error <code> <message>" and "exit <code>"; the client may send
     * "kill <signal>" and "resize <rows> <cols>". */
    int client_fd;
    /* Forward the container's output to this process's fds 1 and 2 (the client's terminal) while
     * the client is connected; its fd 0 is the container's stdin when the container is
     * interactive. */
    bool attach;
};

/* Returns the container's last exit status, or a negative code when it could not start. */
int reef_shim_run(const struct reef_shim_opts *opts, struct reef_err *err);

/* Starts the shim of a created container (reef_ctr_create) detached from the caller: `reef shim`
 * (this binary, /proc/self/exe) in a session of its own, with /dev/null as stdio, default signal
 * handling and none of the caller's descriptors, and not the caller's child (the intermediate
 * process is reaped here, so the caller sees no SIGCHLD for the shim; unless the caller is a
 * child subreaper). Waits up to REEF_SHIM_START_TIMEOUT_MS until the container runs (0,
 * *exit_code 0) or failed to start: *exit_code is then 125/126/127 and err says why
 * ("exec: \"x\": executable file not found in $PATH"); the result is -ENOENT for 127,
 * -EACCES for 126, else negative. -ETIMEDOUT leaves the shim running: its state.json tells the
 * outcome later. Blocks the calling thread: usable from a process with a libuv loop and
 * threads, off the loop's thread. */
#define REEF_SHIM_START_TIMEOUT_MS 60000
int reef_shim_start(const char *containers_dir, const char *id, int *exit_code,
                    struct reef_err *err);

/* Client side of the control socket: sends one request line and reads one reply line (timeout
 * in milliseconds, -1 for none). fds (may be NULL) are passed along with SCM_RIGHTS. Returns the
 * reply length or a negative code (-ECONNREFUSED / -ENOENT: no shim listening). */
int reef_shim_call(const char *containers_dir, const char *id, const char *request,
                   const int *fds, int nfds, char *reply, size_t replysz, int timeout_ms,
                   struct reef_err *err);

/* Starts a process in the running container (request_json: {"argv":[...], "env":[...],
 * "user":"", "workdir":"", "tty":false, "rows":0, "cols":0}: rows and cols size the terminal before
 * the process starts) with fds as its stdin, stdout and stderr. On success
 * *sock is the connection on which reef_shim_exec_wait reads its exit status (poll it for
 * readability to wait alongside other work). With "tty":true the terminal is allocated inside
 * the container and *master is its master end, for the caller to relay (else -1). On failure *exit_code is 125/126/127, err says why. */
int reef_shim_exec_start(const char *containers_dir, const char *id, const char *request_json,
                         const int fds[3], int *sock, int *master, int *exit_code,
                         struct reef_err *err);
/* Waits for the process started above and closes sock. */
int reef_shim_exec_wait(int sock, int *exit_code, struct reef_err *err);

/* Attaches fds (stdin, stdout, stderr) to the running container: its output is copied to them,
 * and for an interactive container, stdin (fds[0], -1 for none) feeds its terminal or its stdin
 * pipe (one attachment at a time; with stdin_once the first one's end closes the container's
 * stdin). *sock then carries "exit <code>" when the container finishes (read it with
 * reef_shim_exec_wait). */
int reef_shim_attach(const char *containers_dir, const char *id, const int fds[3], int *sock,
                     struct reef_err *err);

/* For a container whose shim is gone: kills whatever is left in its cgroup, removes the cgroup
 * and records it as exited ("the container's shim was lost"). */
int reef_shim_cleanup_orphan(const char *containers_dir, const char *id, struct reef_err *err);

#endif
