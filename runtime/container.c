#include "runtime/container.h"

#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "runtime/caps.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* What a child that failed before exec sends back. */
struct report {
    int exit_code;
    int err;
    char msg[REEF_ERR_MSG_MAX];
};

static __attribute__((noreturn)) void child_fail(int fd, int exit_code, int e, const char *msg)
{
    struct report r = {exit_code, e, {0}};
    reef_strlcpy(r.msg, msg, sizeof(r.msg));
    ssize_t n = write(fd, &r, sizeof(r));
    (void)n;
    _exit(exit_code);
}

static __attribute__((noreturn)) void child_fail_err(int fd, const struct reef_err *err)
{
    child_fail(fd, REEF_EXIT_RUNTIME, -err->code, err->msg);
}

static __attribute__((noreturn)) void child_fail_errno(int fd, const char *what)
{
    char msg[REEF_ERR_MSG_MAX];
    int e = errno;
    snprintf(msg, sizeof(msg), "%s: %s", what, strerror(e));
    child_fail(fd, REEF_EXIT_RUNTIME, e, msg);
}

static void reset_signals(void)
{
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL); /* EINVAL for SIGKILL/SIGSTOP and gaps: fine */
}

static const char *env_get(char *const *env, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], key, n) == 0 && env[i][n] == '=')
            return env[i] + n + 1;
    return NULL;
}

/* Finds argv0 in the container's PATH, as execvp would, distinguishing "not found" (127) from
 * "found but not executable" (126). */
static int find_executable(const char *argv0, char *const *env, char *out, size_t outsz)
{
    if (!argv0[0])
        return -ENOENT;
    if (strchr(argv0, '/')) {
        if (reef_strlcpy(out, argv0, outsz) >= outsz)
            return -ENAMETOOLONG;
        struct stat st;
        if (stat(out, &st) < 0)
            return -errno;
        if (S_ISDIR(st.st_mode))
            return -EISDIR;
        return access(out, X_OK) < 0 ? -EACCES : 0;
    }
    const char *path = env_get(env, "PATH");
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int found_noexec = 0;
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        int k = snprintf(out, outsz, "%.*s/%s", (int)(n ? n : 1), n ? path : ".", argv0);
        path += n + (colon ? 1 : 0);
        if (k < 0 || (size_t)k >= outsz)
            continue;
        struct stat st;
        if (stat(out, &st) < 0 || S_ISDIR(st.st_mode))
            continue;
        if (access(out, X_OK) == 0)
            return 0;
        found_noexec = 1;
        if (!colon)
            break;
    }
    return found_noexec ? -EACCES : -ENOENT;
}

static int send_fd(int sock, int fd)
{
    char byte = 'c';
    struct iovec iov = {&byte, 1};
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                        .msg_controllen = sizeof(ctl.b)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int reef_container_recv_console(int sock)
{
    char byte;
    struct iovec iov = {&byte, 1};
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                        .msg_controllen = sizeof(ctl.b)};
    ssize_t n;
    while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return -errno;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (n == 0 || !cm || cm->cmsg_type != SCM_RIGHTS)
        return -EPROTO;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return fd;
}

/* A terminal from the container's own devpts: master to the caller, slave as stdio. */
static int setup_console(const struct reef_process_spec *p)
{
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return -errno;
    int unlock = 0;
    struct winsize ws = {p->rows ? p->rows : 24, p->cols ? p->cols : 80, 0, 0};
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) {
        close(master);
        return -errno;
    }
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        close(master);
        return -errno;
    }
    ioctl(slave, TIOCSWINSZ, &ws);
    int r = send_fd(p->console_socket, master);
    close(master);
    if (r < 0) {
        close(slave);
        return r;
    }
    for (int i = 0; i < 3; i++)
        if (dup2(slave, i) < 0)
            return -errno;
    if (slave > 2)
        close(slave);
    return ioctl(0, TIOCSCTTY, 0) < 0 ? -errno : 0;
}

static int setup_stdio(const struct reef_process_spec *p)
{
    if (p->console)
        return setup_console(p);
    /* Move the caller's fds out of the way first: stdio[1] may well be 0. */
    int fds[3];
    for (int i = 0; i < 3; i++) {
        int src = p->stdio[i];
        if (src < 0)
            src = open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
        if (src < 0)
            return -errno;
        fds[i] = fcntl(src, F_DUPFD_CLOEXEC, 10);
        if (fds[i] < 0)
            return -errno;
    }
    for (int i = 0; i < 3; i++)
        if (dup2(fds[i], i) < 0)
            return -errno;
    if (p->tty && ioctl(0, TIOCSCTTY, 0) < 0)
        return -errno;
    return 0;
}

/* Everything after the namespaces and mounts: shared by spawn and exec. Never returns. */
static __attribute__((noreturn)) void finish(const struct reef_process_spec *p, int errfd)
{
    char msg[REEF_ERR_MSG_MAX];
    if (setsid() < 0)
        child_fail_errno(errfd, "setsid");
    int r = setup_stdio(p);
    if (r < 0) {
        errno = -r;
        child_fail_errno(errfd, "set up stdio");
    }
    for (int i = 0; i < p->nrlimits; i++) {
        struct rlimit cur, want = {p->rlimits[i].soft, p->rlimits[i].hard};
        if (getrlimit(p->rlimits[i].resource, &cur) == 0 && want.rlim_max > cur.rlim_max)
            want.rlim_max = cur.rlim_max;
        if (want.rlim_cur > want.rlim_max)
            want.rlim_cur = want.rlim_max;
        if (setrlimit(p->rlimits[i].resource, &want) < 0)
            child_fail_errno(errfd, "setrlimit");
    }
    const char *cwd = p->cwd && p->cwd[0] ? p->cwd : "/";
    if (reef_fs_mkdir_p(cwd, 0755) < 0 && access(cwd, F_OK) < 0) {
        snprintf(msg, sizeof(msg), "working directory %s: %s", cwd, strerror(errno));
        child_fail(errfd, REEF_EXIT_RUNTIME, errno, msg);
    }
    const struct reef_user *user = p->user;
    struct reef_user resolved;
    char *const *env = p->env;
    char **env_home = NULL;
    if (!user && p->user_spec && p->user_spec[0]) {
        struct reef_err uerr = {0};
        int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0 || reef_user_resolve(rootfd, p->user_spec, &resolved, &uerr) < 0)
            child_fail(errfd, REEF_EXIT_RUNTIME, uerr.code ? -uerr.code : errno,
                       uerr.code ? uerr.msg : "open /");
        close(rootfd);
        user = &resolved;
    } else if (!user) {
        struct reef_err uerr = {0};
        int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd >= 0 && reef_user_resolve(rootfd, "", &resolved, &uerr) == 0)
            user = &resolved;
        if (rootfd >= 0)
            close(rootfd);
    }
    /* HOME comes from the user's passwd entry unless the environment sets it, as with Docker. */
    if (user && !env_get(env, "HOME")) {
        size_t n = 0;
        while (env && env[n])
            n++;
        env_home = calloc(n + 2, sizeof(char *));
        char *home = malloc(strlen(user->home) + 6);
        if (env_home && home) {
            for (size_t i = 0; i < n; i++)
                env_home[i] = env[i];
            sprintf(home, "HOME=%s", user->home);
            env_home[n] = home;
            env = env_home;
        }
    }
    uid_t uid = user ? user->uid : 0;
    gid_t gid = user ? user->gid : 0;
    gid_t groups[REEF_USER_MAX_GROUPS * 2];
    size_t ng = 0;
    for (int i = 0; user && i < user->ngroups; i++)
        groups[ng++] = user->groups[i];
    for (int i = 0; i < p->ngroups_add && ng < REEF_ARRAY_LEN(groups); i++) {
        bool have = false;
        for (size_t j = 0; j < ng && !have; j++)
            have = groups[j] == p->groups_add[i];
        if (!have)
            groups[ng++] = p->groups_add[i];
    }
    if (setgroups(ng, ng ? groups : NULL) < 0)
        child_fail_errno(errfd, "setgroups");
    if (setresgid(gid, gid, gid) < 0)
        child_fail_errno(errfd, "setgid");
    r = reef_caps_limit_bounding(p->caps);
    if (r < 0) {
        errno = -r;
        child_fail_errno(errfd, "limit capabilities");
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setresuid(uid, uid, uid) < 0)
        child_fail_errno(errfd, "setuid");
    r = reef_caps_set(p->caps, uid == 0);
    if (r < 0) {
        errno = -r;
        child_fail_errno(errfd, "apply capabilities");
    }
    if (chdir(cwd) < 0) {
        snprintf(msg, sizeof(msg), "chdir to working directory %s: %s", cwd, strerror(errno));
        child_fail(errfd, REEF_EXIT_RUNTIME, errno, msg);
    }
    char exe[PATH_MAX];
    r = find_executable(p->argv[0], env, exe, sizeof(exe));
    if (r < 0) {
        if (r == -ENOENT && !strchr(p->argv[0], '/'))
            snprintf(msg, sizeof(msg), "exec: \"%.100s\": executable file not found in $PATH",
                     p->argv[0]);
        else
            snprintf(msg, sizeof(msg), "exec: \"%.100s\": %s", p->argv[0], strerror(-r));
        child_fail(errfd, r == -ENOENT || r == -ENOTDIR ? REEF_EXIT_NOTFOUND : REEF_EXIT_NOEXEC,
                   -r, msg);
    }
    if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail_errno(errfd, "set no_new_privs");
    /* Leave nothing of the caller's open across exec. */
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    reset_signals();
    if (p->seccomp && (r = reef_seccomp_install(p->seccomp)) < 0) {
        errno = -r;
        child_fail_errno(errfd, "install seccomp filter");
    }
    execve(exe, p->argv, env);
    int e = errno;
    snprintf(msg, sizeof(msg), "exec: \"%.100s\": %s", p->argv[0], strerror(e));
    child_fail(errfd, e == ENOENT ? REEF_EXIT_NOTFOUND : REEF_EXIT_NOEXEC, e, msg);
}

/* Reads the child's report: 0 when the pipe closed empty (the exec happened). */
static int read_report(int fd, pid_t pid, int *exit_code, struct reef_err *err)
{
    struct report rep;
    size_t got = 0;
    while (got < sizeof(rep)) {
        ssize_t n = read(fd, (char *)&rep + got, sizeof(rep) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got == 0)
        return 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (got < sizeof(rep)) {
        *exit_code = REEF_EXIT_RUNTIME;
        return reef_err_set(err, -EIO, "container init died while starting");
    }
    rep.msg[sizeof(rep.msg) - 1] = '\0';
    *exit_code = rep.exit_code;
    return reef_err_set(err, rep.err ? -rep.err : -EIO, "%s", rep.msg);
}

static int write_proc(pid_t pid, const char *file, const char *text, struct reef_err *err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return reef_err_errno(err, -errno, "open %s", path);
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    if (n != (ssize_t)strlen(text))
        return reef_err_errno(err, n < 0 ? -e : -EIO, "write %s \"%s\"", file, text);
    return 0;
}

static int write_maps(pid_t pid, const char *uid_map, const char *gid_map, struct reef_err *err)
{
    int r = write_proc(pid, "uid_map", uid_map, err);
    if (r == 0)
        r = write_proc(pid, "gid_map", gid_map ? gid_map : uid_map, err);
    return r;
}

int reef_userns_create(const char *uid_map, const char *gid_map, int *out, struct reef_err *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return reef_err_errno(err, -errno, "user namespace: pipe");
    pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)CLONE_NEWUSER | SIGCHLD, NULL, NULL,
                               NULL, NULL);
    if (pid == 0) {
        close(p[1]);
        char c;
        ssize_t n = read(p[0], &c, 1); /* held until the parent has the namespace's fd */
        (void)n;
        _exit(0);
    }
    int e = -errno;
    close(p[0]);
    if (pid < 0) {
        close(p[1]);
        return reef_err_errno(err, e, "user namespace: clone");
    }
    int r = write_maps(pid, uid_map, gid_map, err);
    if (r == 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
        *out = open(path, O_RDONLY | O_CLOEXEC);
        if (*out < 0)
            r = reef_err_errno(err, -errno, "open %s", path);
    }
    close(p[1]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    return r;
}

/* The namespaces a container may join instead of creating. */
static const struct {
    int type;
    const char *what;
} joinable[3] = {{CLONE_NEWNET, "network"}, {CLONE_NEWIPC, "IPC"}, {CLONE_NEWUTS, "UTS"}};

static void close_joins(int fds[3])
{
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* In the child: "net.ipv4.ip_unprivileged_port_start=0" into /proc/sys/net/ipv4/...; the host's
 * /proc still, whose sys files answer for the writer's own namespaces. */
static void write_sysctl(const char *kv, int errfd)
{
    char path[300] = "/proc/sys/", msg[400];
    const char *eq = strchr(kv, '=');
    size_t n = eq ? (size_t)(eq - kv) : 0, at = strlen(path);
    if (!n || at + n >= sizeof(path) || memchr(kv, '/', n)) {
        snprintf(msg, sizeof(msg), "sysctl \"%.200s\": expected name=value", kv);
        child_fail(errfd, REEF_EXIT_RUNTIME, EINVAL, msg);
    }
    for (size_t i = 0; i < n; i++)
        path[at + i] = kv[i] == '.' ? '/' : kv[i];
    path[at + n] = '\0';
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    const char *v = eq + 1;
    if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v)) {
        snprintf(msg, sizeof(msg), "set sysctl %.*s", (int)n, kv);
        child_fail_errno(errfd, msg);
    }
    close(fd);
}

/* Opens the namespace files to join (fds[i] -1 when none), checking here, where the error can
 * name the file, that each is a namespace of the right kind. */
static int open_joins(const struct reef_container_spec *s, int fds[3], struct reef_err *err)
{
    const char *paths[3] = {s->join_net, s->join_ipc, s->join_uts};
    fds[0] = fds[1] = fds[2] = -1;
    for (int i = 0; i < 3; i++) {
        if (!paths[i] || !paths[i][0])
            continue;
        if ((s->clone_flags & joinable[i].type) || (s->clone_flags & CLONE_NEWUSER)) {
            close_joins(fds);
            return reef_err_set(err, -EINVAL,
                                "join %s namespace %s: not with a new %s namespace",
                                joinable[i].what, paths[i],
                                (s->clone_flags & CLONE_NEWUSER) ? "user" : "one");
        }
        fds[i] = open(paths[i], O_RDONLY | O_CLOEXEC);
        int type = fds[i] >= 0 ? ioctl(fds[i], NS_GET_NSTYPE) : -1;
        if (type != joinable[i].type) {
            int e = fds[i] < 0 ? -errno : type < 0 && errno != ENOTTY ? -errno : -EINVAL;
            close_joins(fds);
            if (e == -EINVAL)
                return reef_err_set(err, e, "join %s namespace %s: not a %s namespace file",
                                    joinable[i].what, paths[i], joinable[i].what);
            return reef_err_errno(err, e, "join %s namespace %s", joinable[i].what, paths[i]);
        }
    }
    return 0;
}

/* clone, or with *in_cgroup clone3 straight into cgroup_fd; *in_cgroup is cleared (before the
 * child exists, so the child sees it too) when the kernel lacks clone3 or CLONE_INTO_CGROUP. */
static long clone_child(unsigned long flags, int cgroup_fd, bool *in_cgroup)
{
    if (*in_cgroup) {
        struct clone_args ca = {
            .flags = flags | CLONE_INTO_CGROUP,
            .exit_signal = SIGCHLD,
            .cgroup = (uint64_t)cgroup_fd,
        };
        long pid = syscall(SYS_clone3, &ca, sizeof(ca));
        if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL))
            return pid;
        *in_cgroup = false;
    }
    return syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

int reef_container_spawn(const struct reef_container_spec *s, pid_t *pid_out, int *exit_code,
                         struct reef_err *err)
{
    *exit_code = REEF_EXIT_RUNTIME;
    int joins[3];
    int r = open_joins(s, joins, err);
    if (r < 0)
        return r;
    /* The child waits for the parent only when the parent has something to do first. */
    bool userns = s->uid_map && (s->clone_flags & CLONE_NEWUSER);
    bool wait_parent = userns || s->placed;
    int syncp[2] = {-1, -1}, errp[2];
    if (wait_parent && pipe2(syncp, O_CLOEXEC) < 0) {
        close_joins(joins);
        return reef_err_errno(err, -errno, "start container: pipe");
    }
    if (pipe2(errp, O_CLOEXEC) < 0) {
        int e = -errno;
        if (wait_parent) {
            close(syncp[0]);
            close(syncp[1]);
        }
        close_joins(joins);
        return reef_err_errno(err, e, "start container: pipe");
    }
    bool in_cgroup = s->into_cgroup && s->cgroup_fd >= 0;
    long pid = clone_child((unsigned long)(CLONE_NEWNS | s->clone_flags), s->cgroup_fd,
                           &in_cgroup);
    if (pid == 0) {
        close(errp[0]);
        if (wait_parent) {
            close(syncp[1]);
            char go;
            if (read(syncp[0], &go, 1) != 1)
                _exit(REEF_EXIT_RUNTIME); /* the parent gave up */
            close(syncp[0]);
        }
        int jr = s->join && !in_cgroup ? s->join(s->ud) : 0;
        if (jr < 0) {
            errno = -jr;
            child_fail_errno(errp[1], "join the container's cgroup");
        }
        struct reef_err cerr = {0};
        /* In a new user namespace our credentials are still the host's root, which the
         * namespace does not map: become its root (host uid 100000, say) now that the maps are
         * written, or files we create could not be owned by anyone it knows. */
        if ((s->clone_flags & CLONE_NEWUSER) &&
            (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
            child_fail_errno(errp[1], "become root in the user namespace");
        /* A pod's namespaces: joined before the root is built, so /sys shows the pod's
         * network devices. A joined UTS namespace keeps the pod's host name. */
        bool own_uts = joins[2] < 0;
        for (int i = 0; i < 3; i++) {
            if (joins[i] < 0)
                continue;
            if (setns(joins[i], joinable[i].type) < 0) {
                char what[64];
                snprintf(what, sizeof(what), "join the pod's %s namespace", joinable[i].what);
                child_fail_errno(errp[1], what);
            }
            close(joins[i]);
        }
        if (s->cgroup_ns && unshare(CLONE_NEWCGROUP) < 0)
            child_fail_errno(errp[1], "unshare cgroup namespace");
        if (s->hostname && own_uts && sethostname(s->hostname, strlen(s->hostname)) < 0)
            child_fail_errno(errp[1], "sethostname");
        for (char *const *sc = s->sysctls; sc && *sc; sc++)
            write_sysctl(*sc, errp[1]);
        if (s->rootfs && reef_rootfs_enter(s->rootfs, &cerr) < 0)
            child_fail_err(errp[1], &cerr);
        finish(&s->proc, errp[1]);
    }
    int e = -errno;
    if (wait_parent)
        close(syncp[0]);
    close(errp[1]);
    close_joins(joins);
    if (pid < 0) {
        if (wait_parent)
            close(syncp[1]);
        close(errp[0]);
        return reef_err_errno(err, e, "start container: clone");
    }
    if (userns)
        r = write_maps((pid_t)pid, s->uid_map, s->gid_map, err);
    if (r == 0 && s->placed)
        r = s->placed(s->ud, (pid_t)pid, err);
    if (r < 0) {
        close(syncp[1]);
        close(errp[0]);
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, NULL, 0);
        return r;
    }
    if (wait_parent) {
        ssize_t w = write(syncp[1], "g", 1);
        (void)w;
        close(syncp[1]);
    }
    if (s->meanwhile && (r = s->meanwhile(s->ud, (pid_t)pid, err)) < 0) {
        close(errp[0]);
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, NULL, 0);
        return r;
    }
    r = read_report(errp[0], (pid_t)pid, exit_code, err);
    close(errp[0]);
    if (r < 0)
        return r;
    *pid_out = (pid_t)pid;
    *exit_code = 0;
    return 0;
}

int reef_container_exec(pid_t target, const struct reef_process_spec *proc,
                        const char *cgroup_procs, pid_t *pid_out, int *exit_code,
                        struct reef_err *err)
{
    static const struct {
        const char *name;
        int type;
    } nss[] = {{"user", CLONE_NEWUSER}, {"ipc", CLONE_NEWIPC},      {"uts", CLONE_NEWUTS},
               {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID},      {"cgroup", CLONE_NEWCGROUP},
               {"mnt", CLONE_NEWNS}};
    *exit_code = REEF_EXIT_RUNTIME;
    int fds[REEF_ARRAY_LEN(nss)];
    for (size_t i = 0; i < REEF_ARRAY_LEN(nss); i++) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)target, nss[i].name);
        fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            int e = -errno;
            for (size_t j = 0; j < i; j++)
                close(fds[j]);
            return reef_err_errno(err, e, "exec: container process %d", (int)target);
        }
    }
    int errp[2], pidp[2];
    if (pipe2(errp, O_CLOEXEC) < 0 || pipe2(pidp, O_CLOEXEC) < 0) {
        for (size_t j = 0; j < REEF_ARRAY_LEN(nss); j++)
            close(fds[j]);
        return reef_err_errno(err, -errno, "exec: pipe");
    }
    /* The helper joins the namespaces; joining a PID namespace takes effect for its children, so
     * it clones the real process with CLONE_PARENT (making it our child) and exits. */
    pid_t helper = fork();
    if (helper == 0) {
        close(errp[0]);
        close(pidp[0]);
        if (cgroup_procs) {
            int cg = open(cgroup_procs, O_WRONLY | O_CLOEXEC);
            if (cg < 0 || write(cg, "0", 1) != 1)
                child_fail_errno(errp[1], "exec: join the container's cgroup");
            close(cg);
        }
        int jr = proc->join ? proc->join(proc->join_ud) : 0;
        if (jr < 0) {
            errno = -jr;
            child_fail_errno(errp[1], "exec: join the container's cgroup");
        }
        for (size_t i = 0; i < REEF_ARRAY_LEN(nss); i++) {
            /* Our own user namespace (a container without one) cannot be joined again. */
            if (nss[i].type == CLONE_NEWUSER) {
                struct stat a, b;
                if (fstat(fds[i], &a) == 0 && stat("/proc/self/ns/user", &b) == 0 &&
                    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
                    continue;
            }
            if (setns(fds[i], nss[i].type) < 0 && !(errno == EINVAL && nss[i].type == CLONE_NEWCGROUP))
                child_fail_errno(errp[1], "exec: join the container's namespaces");
        }
        long child = syscall(SYS_clone, (unsigned long)CLONE_PARENT | SIGCHLD, NULL, NULL, NULL,
                             NULL);
        if (child == 0) {
            close(pidp[1]);
            finish(proc, errp[1]);
        }
        if (child < 0)
            child_fail_errno(errp[1], "exec: clone");
        pid_t c = (pid_t)child;
        ssize_t n = write(pidp[1], &c, sizeof(c));
        _exit(n == sizeof(c) ? 0 : 1);
    }
    int e = -errno;
    for (size_t j = 0; j < REEF_ARRAY_LEN(nss); j++)
        close(fds[j]);
    close(errp[1]);
    close(pidp[1]);
    if (helper < 0) {
        close(errp[0]);
        close(pidp[0]);
        return reef_err_errno(err, e, "exec: fork");
    }
    pid_t child = -1;
    ssize_t n = read(pidp[0], &child, sizeof(child));
    close(pidp[0]);
    int st;
    while (waitpid(helper, &st, 0) < 0 && errno == EINTR)
        ;
    if (n != sizeof(child)) {
        int r = read_report(errp[0], helper, exit_code, err);
        close(errp[0]);
        return r < 0 ? r : reef_err_set(err, -EIO, "exec: helper failed");
    }
    int r = read_report(errp[0], child, exit_code, err);
    close(errp[0]);
    if (r < 0)
        return r;
    *pid_out = child;
    *exit_code = 0;
    return 0;
}
