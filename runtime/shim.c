#include "runtime/shim.h"
#include "runtime/shim_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/ctrstore.h"
#include "runtime/layer.h"
#include "runtime/logfile.h"
#include "runtime/seccomp.h"
#include "runtime/seccomp_profile.h"



int64_t reef__shim_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void client_send(struct shim *s, const char *fmt, ...) REEF_PRINTF(2, 3);
static void client_send(struct shim *s, const char *fmt, ...)
{
    if (s->client_fd < 0)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (send(s->client_fd, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1,
             MSG_NOSIGNAL) < 0)
        LOG_DEBUG("shim", "client gone: %s", strerror(errno));
}

static void save_state(struct shim *s)
{
    struct reef_err err = {0};
    s->st.shim_pid = getpid();
    if (reef_ctr_save_state(s->store, s->cfg.id, &s->st, &err) < 0)
        LOG_WARN("shim", "container=%.12s save state: %s", s->cfg.id, err.msg);
}

void reef__shim_reply(int fd, const char *msg)
{
    if (send(fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
        LOG_DEBUG("shim", "reply: %s", strerror(errno));
}

void reef__shim_reply_fds(int fd, const char *msg, const int *fds, int nfds)
{
    if (reef__shim_send_fds(fd, msg, fds, nfds) < 0)
        LOG_DEBUG("shim", "reply: %s", strerror(errno));
}

/* Output */

int reef__shim_groups_add(const struct shim *s, gid_t out[REEF_SHIM_MAX_GROUPS_ADD])
{
    int n = 0;
    for (size_t i = 0; i < s->cfg.ngroups_add && n < REEF_SHIM_MAX_GROUPS_ADD; i++)
        out[n++] = (gid_t)strtoul(s->cfg.groups_add[i], NULL, 10); /* checked when created */
    return n;
}

void reef__shim_forward(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void after_exit(struct shim *s);

static void stream_close(struct stream *st)
{
    if (!st->open)
        return;
    st->open = false;
    uv_poll_stop(&st->poll);
    uv_close((uv_handle_t *)&st->poll, NULL);
    close(st->fd);
    st->fd = -1;
    struct shim *s = st->shim;
    if (s->exited && !s->out.open && !s->errs.open) {
        uv_timer_stop(&s->drain_timer);
        after_exit(s);
    }
}

static void on_output(uv_poll_t *h, int status, int events)
{
    struct stream *st = h->data;
    struct shim *s = st->shim;
    char buf[65536];
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(st->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) { /* EOF, or EIO from a pty whose last writer is gone */
            stream_close(st);
            return;
        }
        struct reef_err err = {0};
        if (reef_logfile_write(s->log, st->which, buf, (size_t)n, NULL, &err) < 0)
            LOG_WARN("shim", "container=%.12s log: %s", s->cfg.id, err.msg);
        if (st->forward_fd >= 0 && s->attach && s->client_fd >= 0)
            reef__shim_forward(st->forward_fd, buf, (size_t)n);
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &s->conns[i];
            if (c->active && c->wait == WAIT_ATTACH)
                reef__shim_forward(st->which == REEF_LOG_STDERR ? c->err_fd : c->out_fd, buf, (size_t)n);
        }
    }
    (void)status;
    (void)events;
}

static int stream_open(struct shim *s, struct stream *st, int fd, enum reef_log_stream which,
                       int forward_fd)
{
    st->shim = s;
    st->fd = fd;
    st->which = which;
    st->forward_fd = forward_fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int r = uv_poll_init(&s->loop, &st->poll, fd);
    if (r < 0)
        return r;
    st->poll.data = st;
    st->open = true;
    return uv_poll_start(&st->poll, UV_READABLE | UV_DISCONNECT, on_output);
}

static void on_stdin(uv_poll_t *h, int status, int events)
{
    struct shim *s = h->data;
    char buf[4096];
    ssize_t n = read(0, buf, sizeof(buf));
    if (n > 0 && s->pty >= 0) {
        reef__shim_forward(s->pty, buf, (size_t)n);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    uv_poll_stop(&s->stdin_poll);
    (void)status;
    (void)events;
}

static void trim_memory(void);
static void on_trim(uv_timer_t *t)
{
    (void)t;
    trim_memory();
}

/* Starting */

static bool nonempty(const char *s)
{
    return s && s[0];
}

/* hosts, hostname and resolv.conf, bound onto the container's /etc. 0 or -errno. */
static int write_etc_files(struct shim *s)
{
    char path[PATH_MAX], text[1024];
    const char *host = s->cfg.hostname;
    snprintf(text, sizeof(text),
             "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
             "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
             "ff02::2\tip6-allrouters\n127.0.1.1\t%s\n",
             host);
    snprintf(path, sizeof(path), "%s/hosts", s->dir);
    int r = reef_fs_write_atomic(path, text, strlen(text), 0644, false, NULL);
    if (r == 0) {
        snprintf(text, sizeof(text), "%s\n", host);
        snprintf(path, sizeof(path), "%s/hostname", s->dir);
        r = reef_fs_write_atomic(path, text, strlen(text), 0644, false, NULL);
    }
    if (r == 0) {
        /* The host's resolvers; behind systemd-resolved's stub use the real upstream list. */
        const char *src = "/etc/resolv.conf";
        FILE *f = fopen(src, "r");
        struct reef_buf b = REEF_BUF_INIT;
        char line[512];
        bool stub = false;
        while (f && fgets(line, sizeof(line), f)) {
            if (strstr(line, "nameserver 127.0.0.53"))
                stub = true;
            reef_buf_puts(&b, line);
        }
        if (f)
            fclose(f);
        if (stub && (f = fopen("/run/systemd/resolve/resolv.conf", "r"))) {
            reef_buf_reset(&b);
            while (fgets(line, sizeof(line), f))
                reef_buf_puts(&b, line);
            fclose(f);
        }
        snprintf(path, sizeof(path), "%s/resolv.conf", s->dir);
        r = reef_fs_write_atomic(path, b.data ? b.data : "", b.len, 0644, false, NULL);
        reef_buf_free(&b);
    }
    return r;
}

/* The host name set in the UTS namespace file path (a pod's), for /etc/hostname and /etc/hosts:
 * the shim steps into it and back (it is single-threaded). Left empty when that fails. */
static void uts_hostname(const char *path, char *name, size_t sz)
{
    int self = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    int pod = open(path, O_RDONLY | O_CLOEXEC);
    if (self >= 0 && pod >= 0 && setns(pod, CLONE_NEWUTS) == 0) {
        if (gethostname(name, sz - 1) < 0)
            name[0] = '\0';
        if (setns(self, CLONE_NEWUTS) < 0)
            LOG_WARN("shim", "return to the host's UTS namespace: %s", strerror(errno));
    }
    if (self >= 0)
        close(self);
    if (pod >= 0)
        close(pod);
}

static int prepare_files(struct shim *s, struct reef_err *err)
{
    char path[PATH_MAX];
    int r = s->cfg.no_etc_files ? 0 : write_etc_files(s); /* else the caller binds its own */
    /* The container's root user (host uid 100000 with --userns) must reach the files bound into
     * it: traversal only, no listing; what is private in here is mode 0600. */
    if (r == 0 && s->cfg.userns && chmod(s->dir, 0711) < 0)
        r = -errno;
    const char *dirs[] = {"upper", "work", "rootfs"};
    for (size_t i = 0; r == 0 && i < REEF_ARRAY_LEN(dirs); i++) {
        snprintf(path, sizeof(path), "%s/%s", s->dir, dirs[i]);
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            r = -errno;
        /* The writable layer belongs to the container's root, whoever that is on the host. */
        if (r == 0 && s->cfg.userns && i < 2 && chown(path, REEF_USERNS_BASE, REEF_USERNS_BASE) < 0)
            r = -errno;
    }
    return r < 0 ? reef_err_errno(err, r, "prepare container files") : 0;
}

/* In the container's child, before anything else. */
static int join_cgroup(void *ud)
{
    struct shim *s = ud;
    return reef_cgroup_join(s->cg);
}

/* While the first start's child builds its root: the log and the control socket, which the
 * child does not need, are ready before anyone hears that the container runs. */
static int while_starting(void *ud, pid_t pid, struct reef_err *err)
{
    struct shim *s = ud;
    (void)pid;
    if (s->log)
        return 0;
    char logpath[PATH_MAX];
    snprintf(logpath, sizeof(logpath), "%s/container.log", s->dir);
    int r = reef_logfile_open(logpath, 0, 0, &s->log, err);
    return r < 0 ? r : reef__shim_listen(s, err);
}

static int start_container(struct shim *s, int *exit_code, struct reef_err *err)
{
    char upper[PATH_MAX], work[PATH_MAX], rootfs[PATH_MAX], hosts[PATH_MAX], hostname[PATH_MAX],
        resolv[PATH_MAX];
    snprintf(upper, sizeof(upper), "%s/upper", s->dir);
    snprintf(work, sizeof(work), "%s/work", s->dir);
    snprintf(rootfs, sizeof(rootfs), "%s/rootfs", s->dir);
    snprintf(hosts, sizeof(hosts), "%s/hosts", s->dir);
    snprintf(hostname, sizeof(hostname), "%s/hostname", s->dir);
    snprintf(resolv, sizeof(resolv), "%s/resolv.conf", s->dir);
    struct reef_volume vols[64];
    size_t nv = s->cfg.nvolumes < 64 ? s->cfg.nvolumes : 64;
    for (size_t i = 0; i < nv; i++) {
        const struct reef_ctr_volume *v = &s->cfg.volumes[i];
        vols[i] = (struct reef_volume){v->kind, v->source, v->target, v->readonly,
                                       v->options && v->options[0] ? v->options : NULL};
    }
    struct reef_rootfs_spec rs = {
        .lowers = (const char *const *)s->cfg.layers,
        .nlowers = s->cfg.nlayers,
        .upper = upper,
        .work = work,
        .rootfs = rootfs,
        .readonly = s->cfg.readonly,
        .volatile_upper = s->cfg.remove,
        .volumes = vols,
        .nvolumes = nv,
        .hosts = s->cfg.no_etc_files ? NULL : hosts,
        .hostname = s->cfg.no_etc_files ? NULL : hostname,
        .resolv = s->cfg.no_etc_files ? NULL : resolv,
        /* A pod's network namespace is as much the container's own as a new one. */
        .new_netns = nonempty(s->cfg.netns) || !s->cfg.host_network,
    };
    /* In a user namespace the layers must be idmapped, which only the shim (root on the host)
     * can do: in a mount namespace of its own, so the mounts end with it. */
    static const char userns_map[] = "0 " REEF_STR(REEF_USERNS_BASE) " 65536";
    if (s->cfg.userns && !s->rootfs_mounted) {
        /* The remapped root must be able to walk to the container's files (the root it
         * pivots into, /etc/hosts...): every directory above them needs its x bit for others. */
        char walk[PATH_MAX];
        reef_strlcpy(walk, s->dir, sizeof(walk));
        for (char *slash = strrchr(walk, '/'); slash && slash != walk; slash = strrchr(walk, '/')) {
            *slash = '\0';
            struct stat st;
            if (stat(walk, &st) == 0 && !(st.st_mode & S_IXOTH))
                return reef_err_set(err, -EACCES,
                                    "--userns: %s (mode %04o) cannot be entered by the "
                                    "container's root (host uid %d): make it traversable "
                                    "(chmod o+x) or use another --data-dir",
                                    walk, st.st_mode & 07777, REEF_USERNS_BASE);
        }
        char lower[PATH_MAX];
        snprintf(lower, sizeof(lower), "%s/lower", s->dir);
        int nsfd = -1;
        int r = 0;
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            r = reef_err_errno(err, -errno, "user namespace: private mount namespace");
        if (r == 0)
            r = reef_userns_create(userns_map, userns_map, &nsfd, err);
        if (r == 0)
            r = reef_rootfs_mount_idmapped(&rs, nsfd, lower, err);
        if (nsfd >= 0)
            close(nsfd);
        if (r < 0)
            return r;
        s->rootfs_mounted = true;
    }
    rs.premounted = s->rootfs_mounted;
    int stdio[3] = {-1, -1, -1};
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    int slave = -1;
    s->pty = -1;
    int console[2] = {-1, -1};
    if (s->cfg.tty) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0)
            return reef_err_errno(err, -errno, "allocate a terminal");
    } else {
        if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
            return reef_err_errno(err, -errno, "create output pipes");
        /* with a client attached from the start, its stdin (ours) is the container's */
        stdio[0] = s->cfg.interactive && s->attach ? 0 : -1;
        if (s->cfg.interactive && !s->attach) {
            int r = reef__shim_stdin_pipe(s, &stdio[0], err);
            if (r < 0) {
                close(outp[0]);
                close(outp[1]);
                close(errp[0]);
                close(errp[1]);
                return r;
            }
        }
        stdio[1] = outp[1];
        stdio[2] = errp[1];
    }
    struct reef_rlimit rl[] = {{RLIMIT_NOFILE, 1048576, 1048576}};
    gid_t groups_add[REEF_SHIM_MAX_GROUPS_ADD];
    int ngroups_add = reef__shim_groups_add(s, groups_add);
    struct reef_container_spec spec = {
        .proc =
            {
                .argv = s->cfg.argv,
                .env = s->cfg.env,
                .cwd = s->cfg.workdir,
                .user_spec = s->cfg.user,
                .groups_add = groups_add,
                .ngroups_add = ngroups_add,
                .caps = s->cfg.caps,
                .seccomp = s->cfg.seccomp ? &s->seccomp : NULL,
                .no_new_privs = s->cfg.no_new_privs,
                .stdio = {stdio[0], stdio[1], stdio[2]},
                .console = s->cfg.tty,
                .console_socket = console[1],
                .rlimits = rl,
                .nrlimits = 1,
            },
        .rootfs = &rs,
        /* the mount namespace is always the container's own, the PID namespace unless it asked
         * for the host's; network, IPC and UTS are its pod's when it belongs to one. */
        .clone_flags = (s->cfg.host_pid ? 0 : CLONE_NEWPID) |
                       (nonempty(s->cfg.utsns) ? 0 : CLONE_NEWUTS) |
                       (s->cfg.host_ipc || nonempty(s->cfg.ipcns) ? 0 : CLONE_NEWIPC) |
                       (s->cfg.host_network || nonempty(s->cfg.netns) ? 0 : CLONE_NEWNET) |
                       (s->cfg.userns ? CLONE_NEWUSER : 0),
        .join_net = s->cfg.netns,
        .join_ipc = s->cfg.host_ipc ? NULL : s->cfg.ipcns,
        .sysctls = s->cfg.sysctls,
        .join_uts = s->cfg.utsns,
        .uid_map = s->cfg.userns ? userns_map : NULL,
        .gid_map = s->cfg.userns ? userns_map : NULL,
        .cgroup_ns = true,
        .hostname = s->cfg.host_network ? NULL : s->cfg.hostname,
        .join = join_cgroup,
        .meanwhile = while_starting,
        .ud = s,
    };
    /* On cgroup2 the child is created inside its cgroup (one directory holds every
     * controller): no move, which there would wait for an RCU grace period. */
    int cgfd = -1;
    for (int c = 0; reef_cgroup_is_v2(s->cg) && cgfd < 0 && c < REEF_CG_NCTRL; c++) {
        const char *dir = reef_cgroup_dir(s->cg, (enum reef_cgroup_ctrl)c);
        if (dir)
            cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    spec.into_cgroup = cgfd >= 0;
    spec.cgroup_fd = cgfd;
    reef_cgroup_oom_kills(s->cg, &s->oom_base, NULL);
    LOG_DEBUG("shim", "container=%.12s spawning", s->cfg.id);
    pid_t pid;
    int r = reef_container_spawn(&spec, &pid, exit_code, err);
    if (cgfd >= 0)
        close(cgfd);
    if (console[1] >= 0)
        close(console[1]);
    if (r == 0 && console[0] >= 0) {
        s->pty = reef_container_recv_console(console[0]);
        if (s->pty < 0) {
            r = reef_err_errno(err, s->pty, "receive the container's terminal");
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
    }
    if (console[0] >= 0)
        close(console[0]);
    if (slave >= 0)
        close(slave);
    if (outp[1] >= 0)
        close(outp[1]);
    if (stdio[0] > 0)
        close(stdio[0]); /* the stdin pipe's read end is the container's now */
    if (errp[1] >= 0)
        close(errp[1]);
    if (r < 0) {
        if (outp[0] >= 0)
            close(outp[0]);
        if (errp[0] >= 0)
            close(errp[0]);
        if (s->pty >= 0)
            close(s->pty);
        s->pty = -1;
        reef__shim_stdin_close(s);
        return r;
    }
    s->pid = pid;
    int fwd_out = s->attach ? 1 : -1, fwd_err = s->attach ? 2 : -1;
    if (s->cfg.tty) {
        stream_open(s, &s->out, s->pty, REEF_LOG_STDOUT, fwd_out);
        s->errs.open = false;
        if (s->attach && s->cfg.interactive && !s->stdin_polling) {
            fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
            if (uv_poll_init(&s->loop, &s->stdin_poll, 0) == 0) {
                s->stdin_poll.data = s;
                s->stdin_polling = uv_poll_start(&s->stdin_poll, UV_READABLE, on_stdin) == 0;
            }
        }
    } else {
        stream_open(s, &s->out, outp[0], REEF_LOG_STDOUT, fwd_out);
        stream_open(s, &s->errs, errp[0], REEF_LOG_STDERR, fwd_err);
    }
    LOG_DEBUG("shim", "container=%.12s started pid=%d", s->cfg.id, (int)pid);
    s->started_ns = reef__shim_now_ns();
    s->exited = false;
    s->st.status = REEF_CTR_RUNNING;
    s->st.pid = pid;
    s->st.started_at = s->started_ns;
    s->st.error[0] = '\0';
    save_state(s);
    return 0;
}

/* Stopping and finishing */

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void finalize(struct shim *s)
{
    LOG_DEBUG("shim", "container=%.12s finished", s->cfg.id);
    s->st.status = REEF_CTR_EXITED;
    s->st.pid = 0;
    struct reef_err err = {0};
    /* --rm: out of sight before anyone hears of the exit, deleted after. Its final state is
     * only worth writing when it stays listed. */
    bool unlisted = s->cfg.remove &&
                    reef_ctr_unlist(s->store, s->cfg.id, s->cfg.name, s->trash, sizeof(s->trash),
                                    &err) == 0;
    if (s->cfg.remove && !unlisted)
        LOG_WARN("shim", "container=%.12s remove: %s", s->cfg.id, err.msg);
    if (!unlisted)
        save_state(s);
    reef_logfile_flush(s->log, &err);
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &s->conns[i];
        if (c->active && c->wait == WAIT_STOP) {
            reef__shim_reply(c->fd, "ok");
            c->wait = WAIT_NONE;
        }
        if (c->active && c->wait == WAIT_ATTACH) {
            char msg[32];
            snprintf(msg, sizeof(msg), "exit %d", s->st.exit_code);
            reef__shim_reply(c->fd, msg);
            reef__shim_conn_close(c);
        }
    }
    client_send(s, "exit %d", s->st.exit_code);
    s->result = s->st.exit_code;
    if (reef__shim_remove_cgroup(s->layout, s->cg, s->cfg.cgroup_parent, &err) < 0)
        LOG_WARN("shim", "container=%.12s cgroup: %s", s->cfg.id, err.msg);
    uv_stop(&s->loop);
}

static void on_restart_timer(uv_timer_t *t)
{
    struct shim *s = t->data;
    if (s->stopping) {
        finalize(s);
        return;
    }
    int code;
    struct reef_err err = {0};
    s->st.restart_count++;
    if (start_container(s, &code, &err) < 0) {
        LOG_WARN("shim", "container=%.12s restart: %s", s->cfg.id, err.msg);
        s->st.exit_code = code;
        reef_strlcpy(s->st.error, err.msg, sizeof(s->st.error));
        finalize(s);
    }
}

static void after_exit(struct shim *s)
{
    struct reef_err err = {0};
    reef__shim_stdin_close(s); /* a restarted container gets a fresh one */
    reef_logfile_flush(s->log, &err);
    if (s->pty >= 0 && !s->out.open)
        s->pty = -1; /* closed with its stream */
    int code = s->st.exit_code;
    bool again = !s->stopping &&
                 (s->cfg.restart == REEF_RESTART_ALWAYS ||
                  (s->cfg.restart == REEF_RESTART_ON_FAILURE && code != 0 &&
                   (s->cfg.max_retries == 0 || s->st.restart_count < s->cfg.max_retries)));
    if (!again) {
        finalize(s);
        return;
    }
    /* Back-off: 100 ms doubling to a minute; a run of 10 s or more resets it. */
    int64_t ran_ms = (reef__shim_now_ns() - s->started_ns) / 1000000;
    if (ran_ms >= 10000)
        s->fast_restarts = 0;
    uint64_t delay = 100u << (s->fast_restarts < 10 ? s->fast_restarts : 10);
    if (delay > 60000)
        delay = 60000;
    s->fast_restarts++;
    s->st.status = REEF_CTR_RESTARTING;
    save_state(s);
    uv_timer_start(&s->restart_timer, on_restart_timer, delay, 0);
}

static void on_drain_timeout(uv_timer_t *t)
{
    struct shim *s = t->data;
    /* Something still holds the output open (a process that escaped the PID namespace cannot:
     * this is a pty or pipe kept by an exec'd process). Stop waiting for it. */
    stream_close(&s->out);
    stream_close(&s->errs);
}

static void container_exited(struct shim *s, int status)
{
    LOG_DEBUG("shim", "container=%.12s exited status=%d", s->cfg.id, status);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    uint64_t ooms = 0;
    bool oom = reef_cgroup_oom_kills(s->cg, &ooms, NULL) == 0 && ooms > s->oom_base;
    s->pid = 0;
    s->exited = true;
    s->st.exit_code = code;
    s->st.oom_killed = oom && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    s->st.finished_at = reef__shim_now_ns();
    uv_timer_stop(&s->stop_timer);
    if (!s->out.open && !s->errs.open)
        after_exit(s);
    else
        uv_timer_start(&s->drain_timer, on_drain_timeout, 2000, 0);
}

static void on_sigchld(uv_signal_t *h, int signum)
{
    struct shim *s = h->data;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == s->pid) {
            container_exited(s, status);
            continue;
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &s->conns[i];
            if (c->active && c->wait == WAIT_EXEC && c->exec_pid == pid) {
                uv_timer_start(&s->trim_timer, on_trim, 2000, 0);
                char msg[32];
                int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                snprintf(msg, sizeof(msg), "exit %d", code);
                reef__shim_reply(c->fd, msg);
                c->wait = WAIT_NONE;
            }
        }
    }
    (void)signum;
}

static void on_stop_timeout(uv_timer_t *t)
{
    struct shim *s = t->data;
    struct reef_err err = {0};
    if (s->pid > 0 && reef_cgroup_kill(s->cg, &err) < 0)
        LOG_WARN("shim", "container=%.12s kill: %s", s->cfg.id, err.msg);
}

void reef__shim_stop(struct shim *s, int timeout_s)
{
    s->stopping = true;
    if (uv_is_active((uv_handle_t *)&s->restart_timer)) {
        uv_timer_stop(&s->restart_timer);
        finalize(s);
        return;
    }
    if (s->pid <= 0)
        return;
    int sig = s->cfg.stop_signal > 0 ? s->cfg.stop_signal : SIGTERM;
    kill(s->pid, sig);
    uv_timer_start(&s->stop_timer, on_stop_timeout, (uint64_t)(timeout_s < 0 ? 0 : timeout_s) * 1000,
                   0);
}

/* Control socket */


/* The shim spends its life waiting. What it touched while starting (most of the binary's code,
 * the allocator's high-water mark) is given back: code pages stay in the page cache and fault
 * back in cheaply if needed, so an idle container costs little more than its private memory. */
static void trim_memory(void)
{
    malloc_trim(0);
    /* Every read-only mapping of our own binary (code, constant data). The ranges are collected
     * first and released last, so that reading the map does not fault them straight back. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (n <= 0 || fd < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    exe[n] = '\0';
    static char maps[65536];
    size_t len = 0;
    ssize_t k;
    while (len < sizeof(maps) - 1 && (k = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0)
        len += (size_t)k;
    close(fd);
    maps[len] = '\0';
    struct {
        unsigned long lo, hi;
    } ranges[16];
    int nr = 0;
    for (char *line = maps; line && *line && nr < 16;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *dash, *sp;
        unsigned long lo = strtoul(line, &dash, 16);
        unsigned long hi = *dash == '-' ? strtoul(dash + 1, &sp, 16) : 0;
        char *path = strchr(line, '/');
        if (hi > lo && *dash == '-' && sp[0] == ' ' && sp[2] != 'w' && path && strcmp(path, exe) == 0) {
            ranges[nr].lo = lo;
            ranges[nr].hi = hi;
            nr++;
        }
        line = next;
    }
    for (int i = 0; i < nr; i++)
        madvise((void *)ranges[i].lo, ranges[i].hi - ranges[i].lo, MADV_PAGEOUT);
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    close_handle(h);
}

int reef_shim_run(const struct reef_shim_opts *o, struct reef_err *err)
{
    struct shim *s = calloc(1, sizeof(*s));
    if (!s)
        return reef_err_set(err, -ENOMEM, "shim: out of memory");
    s->client_fd = o->client_fd;
    s->attach = o->attach;
    s->ctl_fd = -1;
    s->pty = -1;
    s->stdin_w = -1;
    s->out.fd = s->errs.fd = -1;
    int r = reef_ctrstore_open(o->containers_dir, &s->store, err);
    int code = REEF_EXIT_RUNTIME;
    int lock = -1;
    if (r == 0)
        r = reef_ctr_load_config(s->store, o->id, &s->cfg, err);
    if (r == 0) {
        reef_ctr_path(s->store, o->id, NULL, s->dir, sizeof(s->dir));
        if (chdir(s->dir) < 0)
            r = reef_err_errno(err, -errno, "shim: chdir %s", s->dir);
    }
    if (r == 0) {
        lock = open("shim.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
            r = reef_err_set(err, -EBUSY, "container %.12s already has a running shim",
                             o->id);
    }
    if (r == 0) {
        reef_ctr_load_state(s->store, o->id, &s->st, NULL);
        /* Docker's default host name: the short ID (the host's own with --network host, the
         * pod's in a pod's UTS namespace). */
        if (!s->cfg.hostname || !s->cfg.hostname[0]) {
            char name[65] = "";
            if (nonempty(s->cfg.utsns))
                uts_hostname(s->cfg.utsns, name, sizeof(name));
            else if (s->cfg.host_network)
                gethostname(name, sizeof(name) - 1);
            else
                reef_strlcpy(name, s->cfg.id, 13);
            free(s->cfg.hostname);
            s->cfg.hostname = strdup(name);
        }
    }
    LOG_DEBUG("shim", "container=%.12s preparing", o->id);
    if (r == 0)
        r = prepare_files(s, err);
    if (r == 0 && s->cfg.seccomp && s->cfg.seccomp_profile && s->cfg.seccomp_profile[0]) {
        r = reef_seccomp_build_profile(s->cfg.seccomp_profile, strlen(s->cfg.seccomp_profile),
                                       s->cfg.caps, &s->seccomp, err);
    } else if (r == 0 && s->cfg.seccomp) {
        char cache[PATH_MAX];
        snprintf(cache, sizeof(cache), "%s/../cache", o->containers_dir);
        r = reef_seccomp_build_default_cached(s->cfg.caps, cache, &s->seccomp, err);
    }
    if (r == 0)
        r = reef_cgroup_layout_detect(NULL, &s->layout, err);
    if (r == 0) {
        struct reef_cgroup_opts co = {
            .parent = s->cfg.cgroup_parent && s->cfg.cgroup_parent[0] ? s->cfg.cgroup_parent
                                                                       : NULL,
            .name = s->cfg.id,
        };
        r = reef_cgroup_create(s->layout, &co, &s->cg, err);
        if (r == -EEXIST) { /* left by a shim that died: take it over */
            r = reef_cgroup_open(s->layout, &co, &s->cg, err);
            if (r == 0)
                reef_cgroup_kill(s->cg, NULL);
        }
    }
    if (r == 0) {
        struct reef_cgroup_limits lim = {
            .memory_bytes = (uint64_t)s->cfg.memory,
            .cpus = s->cfg.cpus,
            .pids_max = (uint64_t)s->cfg.pids_limit,
        };
        if (lim.memory_bytes || lim.cpus > 0 || lim.pids_max)
            r = reef_cgroup_apply(s->cg, &lim, err);
    }
    if (r == 0)
        r = uv_loop_init(&s->loop) < 0 ? reef_err_set(err, -EIO, "shim: loop") : 0;
    bool loop_ready = r == 0;
    if (r == 0) {
        uv_signal_init(&s->loop, &s->sigchld);
        s->sigchld.data = s;
        uv_signal_start(&s->sigchld, on_sigchld, SIGCHLD);
        uv_timer_init(&s->loop, &s->restart_timer);
        uv_timer_init(&s->loop, &s->stop_timer);
        uv_timer_init(&s->loop, &s->drain_timer);
        uv_timer_init(&s->loop, &s->stdin_retry);
        s->restart_timer.data = s->stop_timer.data = s->drain_timer.data = s->stdin_retry.data = s;
    }
    if (r == 0)
        r = start_container(s, &code, err);
    if (r < 0) {
        client_send(s, "error %d %s", code, err->msg);
        s->st.status = REEF_CTR_EXITED;
        s->st.exit_code = code;
        reef_strlcpy(s->st.error, err->msg, sizeof(s->st.error));
        if (s->store && s->cfg.id[0] && lock >= 0)
            save_state(s);
        if (s->cg)
            reef__shim_remove_cgroup(s->layout, s->cg, s->cfg.cgroup_parent, NULL);
    } else {
        client_send(s, "started %d", (int)s->pid);
        if (s->client_fd >= 0) {
            fcntl(s->client_fd, F_SETFL, fcntl(s->client_fd, F_GETFL) | O_NONBLOCK);
            if (uv_poll_init(&s->loop, &s->client_poll, s->client_fd) == 0) {
                s->client_poll.data = s;
                s->client_polling = true;
                uv_poll_start(&s->client_poll, UV_READABLE | UV_DISCONNECT, reef__shim_on_client);
            }
        }
        /* Trim once the client that started us has gone: pages it still maps are not
         * reclaimed. */
        uv_timer_init(&s->loop, &s->trim_timer);
        uv_timer_start(&s->trim_timer, on_trim, 2000, 0);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        r = s->result;
    }
    if (loop_ready) {
        uv_walk(&s->loop, walk_close, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
    }
    if (s->ctl_fd >= 0) {
        close(s->ctl_fd);
        unlink("shim.sock");
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->conns[i].active)
            close(s->conns[i].fd);
    if (s->client_fd >= 0)
        close(s->client_fd);
    reef_logfile_close(s->log);
    reef_seccomp_prog_free(&s->seccomp);
    reef_cgroup_free(s->cg);
    reef_cgroup_layout_free(s->layout);
    if (s->rootfs_mounted) { /* our own mount namespace: only this process sees these */
        umount2("rootfs", MNT_DETACH);
        for (size_t i = 0; i < s->cfg.nlayers; i++) {
            char p[64];
            snprintf(p, sizeof(p), "lower/%zu", i);
            umount2(p, MNT_DETACH);
        }
    }
    if (chdir("/") < 0)
        LOG_DEBUG("shim", "chdir /: %s", strerror(errno));
    if (s->trash[0]) {
        struct reef_err rerr = {0};
        if (reef_layer_remove_tree(s->trash, &rerr) < 0)
            LOG_WARN("shim", "container=%.12s remove: %s", o->id, rerr.msg);
    }
    if (lock >= 0)
        close(lock);
    reef_ctr_config_free(&s->cfg);
    reef_ctrstore_close(s->store);
    free(s);
    return r;
}

int reef__shim_remove_cgroup(const struct reef_cgroup_layout *l, struct reef_cgroup *cg,
                             const char *parent, struct reef_err *err)
{
    int r = reef_cgroup_kill(cg, err);
    if (r == 0)
        r = reef_cgroup_remove(cg, err);
    /* The last container out takes the parent with it; -EBUSY means others still live there. */
    if (r == 0)
        reef_cgroup_remove_parent(l, parent && parent[0] ? parent : REEF_CGROUP_DEFAULT_PARENT,
                                  REEF_CGROUP_DRIVER_AUTO, NULL);
    return r;
}

/* The control socket protocol, shared with shim_client.c */

int reef__shim_send_fds(int fd, const char *msg, const int *fds, int nfds)
{
    struct iovec iov = {(void *)msg, strlen(msg)};
    union {
        char b[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.b;
        mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
    }
    return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Receives one message and up to 3 descriptors. Returns its length, 0 at EOF, or -errno. */
ssize_t reef__shim_recv_msg(int fd, char *buf, size_t cap, int *fds, int *nfds)
{
    struct iovec iov = {buf, cap};
    union {
        char b[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                        .msg_controllen = sizeof(ctl.b)};
    ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    *nfds = 0;
    if (n < 0)
        return -errno;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k; i++) {
            int f;
            memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (*nfds < 3)
                fds[(*nfds)++] = f;
            else
                close(f);
        }
    }
    if (mh.msg_flags & MSG_TRUNC) {
        for (int i = 0; i < *nfds; i++)
            close(fds[i]);
        *nfds = 0;
        return -EMSGSIZE;
    }
    return n;
}
