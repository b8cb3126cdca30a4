/* reef run: create and start a container from an image, as `docker run` does. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/log.h"
#include "runtime/caps.h"
#include "runtime/container.h"
#include "runtime/image_ref.h"
#include "runtime/seccomp_profile.h"
#include "runtime/shim.h"

extern const struct reef_cmd reef_cmd_run;

#define MAXV 128

struct run_opts {
    const char *data_dir, *name, *workdir, *user, *entrypoint, *hostname, *cgroup_parent;
    const char *platform, *network;
    bool userns;
    bool has_entrypoint;
    bool rm, detach, interactive, tty, readonly;
    int64_t memory, pids;
    double cpus;
    const char *env[MAXV], *env_files[MAXV], *vols[MAXV], *tmpfs[MAXV], *cap_add[MAXV],
        *cap_drop[MAXV], *secopts[MAXV];
    int nenv, nenv_files, nvols, ntmpfs, ncap_add, ncap_drop, nsecopts;
    const char *restart;
};

static int fail(const char *fmt, ...) REEF_PRINTF(1, 2);
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("reef run: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return REEF_EXIT_RUNTIME;
}

static int push(const char **arr, int *n, const char *v)
{
    if (*n >= MAXV)
        return -1;
    arr[(*n)++] = v;
    return 0;
}

/* Adds or replaces K=V in env. */
static int env_set(char ***env, size_t *n, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
    for (size_t i = 0; i < *n; i++) {
        if (strncmp((*env)[i], kv, klen) == 0 && (*env)[i][klen] == '=') {
            char *dup = strdup(kv);
            if (!dup)
                return -ENOMEM;
            free((*env)[i]);
            (*env)[i] = dup;
            return 0;
        }
    }
    char **grown = realloc(*env, (*n + 2) * sizeof(char *));
    if (!grown)
        return -ENOMEM;
    *env = grown;
    if (!(grown[*n] = strdup(kv)))
        return -ENOMEM;
    (*n)++;
    grown[*n] = NULL;
    return 0;
}

/* -e KEY=V, or -e KEY taking the value from reef's own environment (left out when unset). */
static int env_arg(char ***env, size_t *n, const char *arg)
{
    if (strchr(arg, '='))
        return env_set(env, n, arg);
    const char *v = getenv(arg);
    if (!v)
        return 0;
    struct reef_buf b = REEF_BUF_INIT;
    reef_buf_printf(&b, "%s=%s", arg, v);
    int r = env_set(env, n, b.data);
    reef_buf_free(&b);
    return r;
}

static int env_file(char ***env, size_t *n, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail("--env-file %s: %s", path, strerror(errno));
    char line[8192];
    int lineno = 0, r = 0;
    while (r == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            continue;
        const char *eq = strchr(p, '='), *sp = strchr(p, ' ');
        if (*p == '=' || (sp && (!eq || sp < eq))) {
            fclose(f);
            return fail("--env-file %s: line %d: invalid variable \"%s\"", path, lineno, p);
        }
        r = env_arg(env, n, p);
    }
    fclose(f);
    return r < 0 ? fail("out of memory") : 0;
}

static char **json_strings(struct reef_json_doc *d, int v, size_t *n)
{
    *n = 0;
    int count = reef_json_kind(d, v) == REEF_JSON_ARRAY ? reef_json_count(d, v) : 0;
    char **out = calloc((size_t)(count > 0 ? count : 0) + 1, sizeof(char *));
    struct reef_json_iter it = reef_json_iter(d, v);
    while (out && reef_json_next(d, &it))
        if (reef_json_get_strdup(d, it.val, &out[*n], NULL) == 0)
            (*n)++;
    return out;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int parse_volume(const char *spec, struct reef_ctr_volume *v)
{
    char buf[PATH_MAX * 2];
    if (reef_strlcpy(buf, spec, sizeof(buf)) >= sizeof(buf))
        return fail("invalid volume \"%.64s\": too long", spec);
    char *parts[4] = {0};
    int n = 0;
    for (char *p = buf, *save = NULL, *t; n < 4 && (t = strtok_r(p, ":", &save)); p = NULL)
        parts[n++] = t;
    if (n < 2 || n > 3)
        return fail("invalid volume \"%s\": expected HOST:CONTAINER[:ro|rw]", spec);
    if (parts[0][0] != '/')
        return fail("invalid volume \"%s\": named volumes are not supported; give an absolute "
                    "host path",
                    spec);
    if (parts[1][0] != '/')
        return fail("invalid volume \"%s\": the container path must be absolute", spec);
    bool ro = false;
    if (n == 3) {
        if (strcmp(parts[2], "ro") == 0)
            ro = true;
        else if (strcmp(parts[2], "rw") != 0)
            return fail("invalid volume \"%s\": mode must be ro or rw", spec);
    }
    struct stat st;
    if (stat(parts[0], &st) < 0)
        return fail("invalid volume \"%s\": host path %s: %s", spec, parts[0], strerror(errno));
    char real[PATH_MAX];
    if (!realpath(parts[0], real))
        return fail("invalid volume \"%s\": %s", spec, strerror(errno));
    v->kind = REEF_VOLUME_BIND;
    v->source = strdup(real);
    v->target = strdup(parts[1]);
    v->readonly = ro;
    v->options = strdup("");
    return v->source && v->target && v->options ? 0 : fail("out of memory");
}

static int parse_tmpfs(const char *spec, struct reef_ctr_volume *v)
{
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n == 0 || spec[0] != '/')
        return fail("invalid --tmpfs \"%s\": the path must be absolute", spec);
    const char *opts = colon ? colon + 1 : "";
    bool ro = strstr(opts, "ro") == opts && (opts[2] == ',' || opts[2] == '\0');
    v->kind = REEF_VOLUME_TMPFS;
    v->source = strdup("tmpfs");
    v->target = reef_strndup(spec, n);
    v->readonly = ro;
    v->options = strdup(ro ? (opts[2] ? opts + 3 : "") : opts);
    return v->source && v->target && v->options ? 0 : fail("out of memory");
}

/* Turns the options and the image into a container configuration. */
static int build_config(const struct run_opts *o, const struct reef_image *img, const char *ref,
                        char **cmd, int ncmd, struct reef_ctr_config *c)
{
    memset(c, 0, sizeof(*c));
    if (o->name)
        reef_strlcpy(c->name, o->name, sizeof(c->name));
    c->image = strdup(img->name[0] ? img->name : ref);
    c->image_id = strdup(img->id);
    c->layers = calloc(img->nlayers + 1, sizeof(char *));
    for (size_t i = 0; c->layers && i < img->nlayers; i++)
        c->layers[c->nlayers++] = strdup(img->layer_dirs[i]);

    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    if (reef_json_parse(&d, img->config_json, img->config_len, NULL, &err) < 0)
        return fail("image %s: bad config: %s", ref, err.msg);
    int conf = reef_json_member(&d, REEF_JSON_ROOT, "config");
    size_t n;
    char **entry = o->has_entrypoint ? NULL : json_strings(&d, reef_json_member(&d, conf, "Entrypoint"), &n);
    char **imgcmd = json_strings(&d, reef_json_member(&d, conf, "Cmd"), &n);
    char **imgenv = json_strings(&d, reef_json_member(&d, conf, "Env"), &n);
    char wd[PATH_MAX] = "", user[256] = "", stopsig[32] = "";
    int v = reef_json_member(&d, conf, "WorkingDir");
    if (v >= 0)
        reef_json_get_str(&d, v, wd, sizeof(wd), NULL);
    v = reef_json_member(&d, conf, "User");
    if (v >= 0)
        reef_json_get_str(&d, v, user, sizeof(user), NULL);
    v = reef_json_member(&d, conf, "StopSignal");
    if (v >= 0)
        reef_json_get_str(&d, v, stopsig, sizeof(stopsig), NULL);
    reef_json_doc_free(&d);

    /* argv: entrypoint + (command line, or the image's Cmd unless --entrypoint was given) */
    size_t cap = (size_t)ncmd + 64;
    for (size_t i = 0; imgcmd && imgcmd[i]; i++)
        cap++;
    c->argv = calloc(cap + 1, sizeof(char *));
    if (o->has_entrypoint && o->entrypoint[0])
        c->argv[c->argc++] = strdup(o->entrypoint);
    for (size_t i = 0; entry && entry[i] && c->argc < 64; i++)
        c->argv[c->argc++] = strdup(entry[i]);
    if (ncmd > 0) {
        for (int i = 0; i < ncmd; i++)
            c->argv[c->argc++] = strdup(cmd[i]);
    } else if (!o->has_entrypoint) {
        for (size_t i = 0; imgcmd && imgcmd[i]; i++)
            c->argv[c->argc++] = strdup(imgcmd[i]);
    }
    free_strv(entry);
    free_strv(imgcmd);
    if (c->argc == 0) {
        free_strv(imgenv);
        return fail("image %s has no command and none was given", ref);
    }

    /* The ID is not chosen yet: the shim makes the short ID the default host name. */
    for (size_t i = 0; imgenv && imgenv[i]; i++)
        env_set(&c->env, &c->nenv, imgenv[i]);
    free_strv(imgenv);
    bool has_path = false;
    for (size_t i = 0; i < c->nenv; i++)
        has_path |= strncmp(c->env[i], "PATH=", 5) == 0;
    if (!has_path)
        env_set(&c->env, &c->nenv,
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    if (o->tty)
        env_set(&c->env, &c->nenv, "TERM=xterm");
    for (int i = 0; i < o->nenv_files; i++)
        if (env_file(&c->env, &c->nenv, o->env_files[i]) != 0)
            return REEF_EXIT_RUNTIME;
    for (int i = 0; i < o->nenv; i++) {
        if (o->env[i][0] == '=' || !o->env[i][0])
            return fail("invalid environment variable \"%s\"", o->env[i]);
        env_arg(&c->env, &c->nenv, o->env[i]);
    }

    c->workdir = strdup(o->workdir ? o->workdir : wd);
    if (c->workdir[0] && c->workdir[0] != '/')
        return fail("the working directory \"%s\" is not an absolute path", c->workdir);
    c->user = strdup(o->user ? o->user : user);
    c->hostname = strdup(o->hostname ? o->hostname : "");
    c->tty = o->tty;
    c->interactive = o->interactive;
    c->readonly = o->readonly;
    c->remove = o->rm;
    c->memory = o->memory;
    c->cpus = o->cpus;
    c->pids_limit = o->pids;
    c->host_network = o->network && strcmp(o->network, "host") == 0;
    c->userns = o->userns;
    c->cgroup_parent = strdup(o->cgroup_parent ? o->cgroup_parent : "");
    c->stop_signal = stopsig[0] ? reef_cmd_parse_signal(stopsig) : SIGTERM;
    if (c->stop_signal <= 0)
        c->stop_signal = SIGTERM;
    c->stop_timeout = 10;

    if (reef_caps_adjust(reef_caps_default(), o->cap_add, o->ncap_add, o->cap_drop, o->ncap_drop,
                         &c->caps, &err) < 0)
        return fail("%s", err.msg);
    c->seccomp = true;
    c->seccomp_profile = strdup("");
    c->no_new_privs = true;
    for (int i = 0; i < o->nsecopts; i++) {
        const char *s = o->secopts[i];
        if (strcmp(s, "seccomp=unconfined") == 0 || strcmp(s, "seccomp:unconfined") == 0)
            c->seccomp = false;
        else if (strncmp(s, "seccomp=", 8) == 0 || strncmp(s, "seccomp:", 8) == 0) {
            /* Read and compiled now, so a bad profile is an error here and not in the shim;
             * the text travels in the container's configuration. */
            free(c->seccomp_profile);
            c->seccomp_profile = NULL;
            size_t plen;
            if (reef_fs_read_string(s + 8, REEF_SECCOMP_PROFILE_MAX_BYTES, &c->seccomp_profile,
                                    &plen, &err) < 0)
                return fail("--security-opt %s: %s", s, err.msg);
            struct reef_seccomp_prog prog;
            if (reef_seccomp_build_profile(c->seccomp_profile, plen, c->caps, &prog, &err) < 0)
                return fail("--security-opt %s: %s", s, err.msg);
            reef_seccomp_prog_free(&prog);
            c->seccomp = true;
        }
        else if (strcmp(s, "no-new-privileges=false") == 0 ||
                 strcmp(s, "no-new-privileges:false") == 0)
            c->no_new_privs = false;
        else if (strcmp(s, "no-new-privileges") == 0 || strcmp(s, "no-new-privileges=true") == 0 ||
                 strcmp(s, "no-new-privileges:true") == 0)
            c->no_new_privs = true;
        else
            return fail("--security-opt \"%s\": unknown option (reef knows seccomp=unconfined "
                        "and no-new-privileges=true|false)",
                        s);
    }

    c->volumes = calloc((size_t)(o->nvols + o->ntmpfs) + 1, sizeof(*c->volumes));
    for (int i = 0; i < o->nvols; i++)
        if (parse_volume(o->vols[i], &c->volumes[c->nvolumes++]) != 0)
            return REEF_EXIT_RUNTIME;
    for (int i = 0; i < o->ntmpfs; i++)
        if (parse_tmpfs(o->tmpfs[i], &c->volumes[c->nvolumes++]) != 0)
            return REEF_EXIT_RUNTIME;

    const char *rs = o->restart ? o->restart : "no";
    if (strcmp(rs, "no") == 0) {
        c->restart = REEF_RESTART_NO;
    } else if (strcmp(rs, "always") == 0 || strcmp(rs, "unless-stopped") == 0) {
        c->restart = REEF_RESTART_ALWAYS;
    } else if (strncmp(rs, "on-failure", 10) == 0 && (rs[10] == '\0' || rs[10] == ':')) {
        c->restart = REEF_RESTART_ON_FAILURE;
        long long max = 0;
        if (rs[10] == ':' && reef_str_to_ll(rs + 11, 1, 1000000, &max) < 0)
            return fail("invalid restart policy \"%s\": the retry count must be a positive "
                        "number",
                        rs);
        c->max_retries = (int)max;
    } else {
        return fail("invalid restart policy \"%s\" (no, on-failure[:N], always)", rs);
    }
    if (c->restart != REEF_RESTART_NO && o->rm)
        return fail("conflicting options: --restart and --rm");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c->created = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return 0;
}

/* Signals for the container while we wait in the foreground. */
static int sig_pipe[2] = {-1, -1};
static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
}

static struct termios saved_tio;
static bool raw_mode;
static void restore_tty(void)
{
    if (raw_mode)
        tcsetattr(0, TCSANOW, &saved_tio);
    raw_mode = false;
}

static void send_size(int fd)
{
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
        char msg[64];
        int n = snprintf(msg, sizeof(msg), "resize %u %u", ws.ws_row, ws.ws_col);
        send(fd, msg, (size_t)n, MSG_NOSIGNAL);
    }
}

/* Our own arguments ("run", options, image, command), for the forked shim's title. */
static char **run_argv;
static int run_argc;

/* A forked shim shows in `ps` as `reef shim --containers DIR ... ID`, as an exec'd one does:
 * with CAP_SYS_RESOURCE by pointing the kernel at a new command line, else by rewriting our
 * own arguments in place (as much as fits in them). Cosmetic: failures are ignored. */
static char shim_title[PATH_MAX + 160];

static void set_title(char *const argv[], const char *id)
{
    size_t n = 0;
    for (int i = 0; argv[i]; i++) {
        size_t k = strlen(argv[i]) + 1;
        if (n + k > sizeof(shim_title))
            break;
        memcpy(shim_title + n, argv[i], k);
        n += k;
    }
    /* The new range lies below the old one (the stack): start first, so start <= end holds at
     * every step. */
    if (n > 0 && prctl(PR_SET_MM, PR_SET_MM_ARG_START, (unsigned long)shim_title, 0, 0) == 0 &&
        prctl(PR_SET_MM, PR_SET_MM_ARG_END, (unsigned long)(shim_title + n), 0, 0) == 0)
        return;
    if (run_argc < 1)
        return;
    /* The kernel lays our arguments out contiguously ("run\0--rm\0...\0", getopt only
     * reorders the pointers); the binary's own argv[0] before them stays. */
    char *area = run_argv[0], *end = run_argv[0];
    for (int i = 0; i < run_argc; i++) {
        if (run_argv[i] < area)
            area = run_argv[i];
        if (run_argv[i] + strlen(run_argv[i]) > end)
            end = run_argv[i] + strlen(run_argv[i]);
    }
    /* Too short for the whole line, often: "shim ID", the ID cut where the space ends. */
    size_t cap = (size_t)(end - area);
    memset(area, 0, cap);
    snprintf(area, cap + 1, "shim%c%s", '\0', id);
}

/* Starts the container's shim in a session of its own and returns our end of its socket. With
 * in_process the forked child runs the shim itself (this process is single-threaded: no image
 * was pulled), saving an exec of this binary and a start-up; else it execs `reef shim`. */
static int start_shim(const char *data, const char *id, bool attach, bool interactive,
                      bool in_process, pid_t *shim_pid)
{
    char containers[PATH_MAX];
    reef_cmd_data_path(data, "containers", containers, sizeof(containers));
    char *argv[] = {"reef", "shim", "--containers", containers, "--client-fd", "3",
                    attach ? "--attach" : "--detached", (char *)id, NULL};
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
        return -errno;
    fflush(NULL); /* nothing buffered here may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(sp[0]);
        close(sp[1]);
        return e;
    }
    if (pid == 0) {
        setsid();
        /* The socket out of the way of 0-3 first: a caller with closed stdio got low numbers. */
        int sock = fcntl(sp[1], F_DUPFD_CLOEXEC, 10);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (sock < 0 || null < 0)
            _exit(REEF_EXIT_RUNTIME);
        if (!attach || !interactive)
            dup2(null, 0);
        if (!attach) {
            dup2(null, 1);
            dup2(null, 2);
        }
        if (dup2(sock, 3) < 0) /* clears close-on-exec */
            _exit(REEF_EXIT_RUNTIME);
        if (!in_process) {
            execv("/proc/self/exe", argv);
            _exit(REEF_EXIT_RUNTIME);
        }
        /* Only stdio and the socket live on; our end of it in particular must close with us. */
        syscall(SYS_close_range, 4, ~0U, 0);
        set_title(argv, id);
        struct reef_shim_opts so = {.containers_dir = containers, .id = id, .client_fd = 3,
                                    .attach = attach};
        struct reef_err err = {0};
        int r = reef_shim_run(&so, &err);
        fflush(NULL);
        _exit(r < 0 ? REEF_EXIT_RUNTIME : r); /* never the client's atexit handlers */
    }
    close(sp[1]);
    *shim_pid = pid;
    return sp[0];
}

static int wait_message(int fd, char *buf, size_t sz, bool forward_signals, bool tty)
{
    struct pollfd p[2] = {{fd, POLLIN, 0}, {sig_pipe[0], POLLIN, 0}};
    for (;;) {
        int n = poll(p, forward_signals ? 2 : 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (forward_signals && (p[1].revents & POLLIN)) {
            unsigned char sig;
            if (read(sig_pipe[0], &sig, 1) == 1) {
                if (sig == SIGWINCH && tty) {
                    send_size(fd);
                } else if (sig != SIGWINCH) {
                    char msg[32];
                    int k = snprintf(msg, sizeof(msg), "kill %d", sig);
                    send(fd, msg, (size_t)k, MSG_NOSIGNAL);
                }
            }
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t k = recv(fd, buf, sz - 1, 0);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                return -ECONNRESET;
            buf[k] = '\0';
            return (int)k;
        }
    }
}

static int run(int argc, char **argv)
{
    enum {
        O_RM = 1000, O_NAME, O_ENTRYPOINT, O_HOSTNAME, O_MEMORY, O_CPUS, O_PIDS, O_TMPFS,
        O_READONLY, O_NETWORK, O_CAPADD, O_CAPDROP, O_SECOPT, O_RESTART, O_ENVFILE, O_DATA,
        O_CGPARENT, O_PLATFORM, O_USERNS,
    };
    static const struct option opts[] = {
        {"rm", no_argument, NULL, O_RM},
        {"detach", no_argument, NULL, 'd'},
        {"interactive", no_argument, NULL, 'i'},
        {"tty", no_argument, NULL, 't'},
        {"name", required_argument, NULL, O_NAME},
        {"env", required_argument, NULL, 'e'},
        {"env-file", required_argument, NULL, O_ENVFILE},
        {"workdir", required_argument, NULL, 'w'},
        {"user", required_argument, NULL, 'u'},
        {"entrypoint", required_argument, NULL, O_ENTRYPOINT},
        {"hostname", required_argument, NULL, O_HOSTNAME},
        {"memory", required_argument, NULL, 'm'},
        {"cpus", required_argument, NULL, O_CPUS},
        {"pids-limit", required_argument, NULL, O_PIDS},
        {"volume", required_argument, NULL, 'v'},
        {"tmpfs", required_argument, NULL, O_TMPFS},
        {"read-only", no_argument, NULL, O_READONLY},
        {"network", required_argument, NULL, O_NETWORK},
        {"net", required_argument, NULL, O_NETWORK},
        {"cap-add", required_argument, NULL, O_CAPADD},
        {"cap-drop", required_argument, NULL, O_CAPDROP},
        {"security-opt", required_argument, NULL, O_SECOPT},
        {"restart", required_argument, NULL, O_RESTART},
        {"cgroup-parent", required_argument, NULL, O_CGPARENT},
        {"platform", required_argument, NULL, O_PLATFORM},
        {"userns", required_argument, NULL, O_USERNS},
        {"data-dir", required_argument, NULL, O_DATA},
        {0},
    };
    struct run_opts o = {0};
    run_argv = argv;
    run_argc = argc;
    int c;
    unsigned long long bytes;
    long long n;
    char *end;
    while ((c = reef_cmd_getopt(&reef_cmd_run, argc, argv, "dite:w:u:m:v:h", opts)) != -1) {
        int r = 0;
        switch (c) {
        case 'h': return 0;
        case '?': return REEF_EXIT_USAGE;
        case O_RM: o.rm = true; break;
        case 'd': o.detach = true; break;
        case 'i': o.interactive = true; break;
        case 't': o.tty = true; break;
        case O_NAME: o.name = optarg; break;
        case 'e': r = push(o.env, &o.nenv, optarg); break;
        case O_ENVFILE: r = push(o.env_files, &o.nenv_files, optarg); break;
        case 'w': o.workdir = optarg; break;
        case 'u': o.user = optarg; break;
        case O_ENTRYPOINT: o.entrypoint = optarg; o.has_entrypoint = true; break;
        case O_HOSTNAME: o.hostname = optarg; break;
        case 'm':
            if (reef_str_to_bytes(optarg, &bytes) < 0 || bytes < 6 * 1024 * 1024)
                return fail("invalid --memory \"%s\": give a size of at least 6m, like 64m or "
                            "1g",
                            optarg);
            o.memory = (int64_t)bytes;
            break;
        case O_CPUS:
            o.cpus = strtod(optarg, &end);
            if (*end || !(o.cpus > 0) || o.cpus > sysconf(_SC_NPROCESSORS_ONLN))
                return fail("invalid --cpus \"%s\": give a number between 0.01 and %ld", optarg,
                            sysconf(_SC_NPROCESSORS_ONLN));
            break;
        case O_PIDS:
            if (reef_str_to_ll(optarg, 1, 4194304, &n) < 0)
                return fail("invalid --pids-limit \"%s\": give a positive number", optarg);
            o.pids = n;
            break;
        case 'v': r = push(o.vols, &o.nvols, optarg); break;
        case O_TMPFS: r = push(o.tmpfs, &o.ntmpfs, optarg); break;
        case O_READONLY: o.readonly = true; break;
        case O_NETWORK:
            if (strcmp(optarg, "none") != 0 && strcmp(optarg, "host") != 0)
                return fail("invalid --network \"%s\": reef run supports none and host", optarg);
            o.network = optarg;
            break;
        case O_CAPADD: r = push(o.cap_add, &o.ncap_add, optarg); break;
        case O_CAPDROP: r = push(o.cap_drop, &o.ncap_drop, optarg); break;
        case O_SECOPT: r = push(o.secopts, &o.nsecopts, optarg); break;
        case O_RESTART: o.restart = optarg; break;
        case O_CGPARENT: o.cgroup_parent = optarg; break;
        case O_PLATFORM: o.platform = optarg; break;
        case O_USERNS:
            if (strcmp(optarg, "host") == 0)
                o.userns = false;
            else if (strcmp(optarg, "remap") == 0 || strcmp(optarg, "auto") == 0)
                o.userns = true;
            else
                return fail("invalid --userns \"%s\": host or remap", optarg);
            break;
        case O_DATA: o.data_dir = optarg; break;
        }
        if (r < 0)
            return fail("too many %s options", argv[optind - 2]);
    }
    if (optind >= argc)
        return reef_cmd_usage_error(&reef_cmd_run, "an image is required");
    const char *ref = argv[optind];
    char **cmdv = argv + optind + 1;
    int ncmd = argc - optind - 1;
    const char *data = reef_cmd_data_dir(o.data_dir);
    struct reef_err err = {0};

    LOG_DEBUG("run", "looking up image=%s", ref);
    struct reef_images *images = NULL;
    struct reef_image *img = NULL;
    if (reef_cmd_open_images(data, &images, &err) < 0)
        return fail("%s", err.msg);
    int r = reef_images_get(images, ref, &img, &err);
    bool pulled = r == -ENOENT; /* pulling starts threads */
    if (r == -ENOENT) {
        struct reef_pull_opts po = {.platform = o.platform, .progress = stderr};
        fprintf(stderr, "Unable to find image '%s' locally\n", ref);
        r = reef_images_pull(images, ref, &po, &img, &err);
    }
    reef_images_close(images);
    if (r < 0)
        return fail("%s", err.msg);

    LOG_DEBUG("run", "image found");
    struct reef_ctr_config cfg;
    int rc = build_config(&o, img, ref, cmdv, ncmd, &cfg);
    reef_image_free(img);
    struct reef_ctrstore *store = NULL;
    if (rc == 0 && reef_cmd_open_containers(data, &store, &err) < 0)
        rc = fail("%s", err.msg);
    if (rc == 0 && reef_ctr_create(store, &cfg, &err) < 0)
        rc = fail("%s", err.msg);
    if (rc != 0) {
        reef_ctr_config_free(&cfg);
        reef_ctrstore_close(store);
        return rc;
    }
    char id[REEF_CTR_ID_LEN + 1];
    reef_strlcpy(id, cfg.id, sizeof(id));
    reef_ctr_config_free(&cfg);
    LOG_DEBUG("run", "container=%.12s created", id);

    bool attach = !o.detach;
    bool tty_in = o.tty && o.interactive && attach && isatty(0);
    if (tty_in && tcgetattr(0, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        cfmakeraw(&raw);
        raw_mode = tcsetattr(0, TCSANOW, &raw) == 0;
        atexit(restore_tty);
    }
    pid_t shim = -1;
    int fd = start_shim(data, id, attach, o.interactive, !pulled, &shim);
    if (fd < 0) {
        restore_tty();
        reef_ctr_remove(store, id, NULL);
        reef_ctrstore_close(store);
        return fail("start the shim: %s", strerror(-fd));
    }
    if (attach) {
        if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
            struct sigaction sa = {.sa_handler = on_signal};
            sigemptyset(&sa.sa_mask);
            int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
            for (size_t i = 0; i < REEF_ARRAY_LEN(sigs); i++)
                if (sigs[i] != SIGWINCH || o.tty)
                    sigaction(sigs[i], &sa, NULL);
        }
    }
    char msg[1024];
    int k = wait_message(fd, msg, sizeof(msg), false, false);
    if (k < 0) {
        restore_tty();
        close(fd);
        reef_ctrstore_close(store);
        return fail("container %.12s: the shim exited before starting it", id);
    }
    if (strncmp(msg, "error ", 6) == 0) {
        restore_tty();
        char *sp = strchr(msg + 6, ' ');
        int code = atoi(msg + 6);
        fprintf(stderr, "reef run: %s\n", sp ? sp + 1 : "failed to start the container");
        close(fd);
        if (o.rm) {
            waitpid(shim, NULL, 0);
            reef_ctr_remove(store, id, NULL);
        }
        reef_ctrstore_close(store);
        return code > 0 ? code : REEF_EXIT_RUNTIME;
    }
    if (o.detach) {
        printf("%s\n", id);
        close(fd);
        reef_ctrstore_close(store);
        return 0;
    }
    if (o.tty)
        send_size(fd);
    /* Foreground: forward signals, wait for the exit status. */
    for (;;) {
        k = wait_message(fd, msg, sizeof(msg), true, o.tty);
        if (k < 0) {
            restore_tty();
            close(fd);
            reef_ctrstore_close(store);
            return fail("container %.12s: lost contact with its shim", id);
        }
        if (strncmp(msg, "exit ", 5) == 0)
            break;
    }
    restore_tty();
    int code = atoi(msg + 5);
    close(fd);
    reef_ctrstore_close(store);
    return code;
}

const struct reef_cmd reef_cmd_run = {
    .name = "run",
    .summary = "run a command in a new container",
    .usage =
        "usage: reef run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
        "\n"
        "Creates a container from IMAGE (pulled when missing) and runs COMMAND in it, or the\n"
        "image's own command. The exit status is the container's; 125 means reef itself failed,\n"
        "126 that the command cannot be run, 127 that it was not found.\n"
        "\n"
        "Options:\n"
        "      --rm                 remove the container when it exits\n"
        "  -d, --detach             run in the background and print the container ID\n"
        "  -i, --interactive        keep stdin open\n"
        "  -t, --tty                allocate a terminal\n"
        "      --name NAME          name the container\n"
        "  -e, --env KEY=VALUE      set an environment variable (KEY alone: from reef's own)\n"
        "      --env-file FILE      read KEY=VALUE lines from FILE\n"
        "  -w, --workdir DIR        working directory inside the container\n"
        "  -u, --user USER[:GROUP]  user and group, names from the image's /etc/passwd\n"
        "      --entrypoint CMD     override the image's entrypoint\n"
        "      --hostname NAME      the container's host name (default: its short ID)\n"
        "  -m, --memory SIZE        memory limit, like 64m or 1g\n"
        "      --cpus N             CPU limit, like 0.5\n"
        "      --pids-limit N       process limit\n"
        "  -v, --volume HOST:CTR[:ro]  bind a host directory or file\n"
        "      --tmpfs PATH[:OPTS]  mount a tmpfs\n"
        "      --read-only          make the root filesystem read-only\n"
        "      --network none|host  network: none (default) or the host's\n"
        "      --cap-add CAP        add a capability (ALL for every one)\n"
        "      --cap-drop CAP       drop a capability (ALL for every one)\n"
        "      --security-opt OPT   seccomp=unconfined, seccomp=PROFILE.json (Docker's format),\n"
        "                           no-new-privileges=false\n"
        "      --restart POLICY     no, on-failure[:N] or always\n"
        "      --cgroup-parent P    cgroup to create the container's cgroup under (/reef)\n"
        "      --userns MODE        host (default), or remap: the container's root is uid\n"
        "                           100000 on the host, in a user namespace of its own\n"
        "      --platform P         platform to pull, like linux/arm64\n"
        "      --data-dir DIR       reef's state (default /var/lib/reef, or $REEF_DATA_DIR)\n",
    .run = run,
};
REEF_COMMAND(reef_cmd_run);
