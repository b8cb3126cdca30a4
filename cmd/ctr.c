/* reef ps, inspect, stop, kill, rm, wait: containers on this machine, as docker's commands. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "runtime/caps.h"
#include "runtime/image_ref.h"
#include "runtime/shim.h"

extern const struct reef_cmd reef_cmd_ps, reef_cmd_inspect, reef_cmd_stop, reef_cmd_kill,
    reef_cmd_rm, reef_cmd_wait;

struct ctr {
    struct reef_ctr_config cfg;
    struct reef_ctr_state st;
    bool shim_alive;
};

static int load(struct reef_ctrstore *s, const char *id, struct ctr *c, struct reef_err *err)
{
    memset(c, 0, sizeof(*c));
    /* liveness before state: a shim seen gone has written its last state already */
    c->shim_alive = reef_ctr_shim_alive(s, id);
    int r = reef_ctr_load_config(s, id, &c->cfg, err);
    if (r == 0)
        r = reef_ctr_load_state(s, id, &c->st, err);
    if (r < 0) {
        reef_ctr_config_free(&c->cfg);
        return r;
    }
    return 0;
}

static bool running(const struct ctr *c)
{
    return c->st.status == REEF_CTR_RUNNING || c->st.status == REEF_CTR_RESTARTING;
}

/* "Up 3 minutes", "Exited (1) 2 seconds ago", ... */
static void status_text(const struct ctr *c, char *out, size_t n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    char d[64];
    switch (c->st.status) {
    case REEF_CTR_CREATED:
        snprintf(out, n, "Created");
        break;
    case REEF_CTR_RUNNING:
        reef_cmd_duration(now - c->st.started_at, d, sizeof(d));
        snprintf(out, n, "Up %s%s", d, c->shim_alive ? "" : " (shim lost)");
        break;
    case REEF_CTR_RESTARTING:
        reef_cmd_duration(now - c->st.finished_at, d, sizeof(d));
        snprintf(out, n, "Restarting (%d) %s ago", c->st.exit_code, d);
        break;
    case REEF_CTR_EXITED:
        if (c->st.finished_at) {
            reef_cmd_duration(now - c->st.finished_at, d, sizeof(d));
            snprintf(out, n, "Exited (%d) %s ago", c->st.exit_code, d);
        } else {
            snprintf(out, n, "Exited (%d)", c->st.exit_code);
        }
        break;
    }
}

static void familiar_image(const char *image, char *out, size_t n)
{
    struct reef_image_ref ref;
    if (reef_image_ref_parse(image, &ref, NULL) < 0 || reef_image_ref_familiar(&ref, out, n) < 0)
        reef_strlcpy(out, image, n);
}

static const char *data_flag;

static int parse_common(const struct reef_cmd *cmd, int argc, char **argv, const char *shortopts,
                        const struct option *extra, int (*on)(int c, void *ud), void *ud)
{
    struct option opts[16];
    size_t n = 0;
    for (; extra && extra[n].name && n < 14; n++)
        opts[n] = extra[n];
    opts[n++] = (struct option){"data-dir", required_argument, NULL, 'D'};
    opts[n] = (struct option){0};
    int c;
    while ((c = reef_cmd_getopt(cmd, argc, argv, shortopts, opts)) != -1) {
        if (c == 'h')
            return 0;
        if (c == '?')
            return REEF_EXIT_USAGE;
        if (c == 'D') {
            data_flag = optarg;
            continue;
        }
        int r = on ? on(c, ud) : REEF_EXIT_USAGE;
        if (r)
            return r;
    }
    return -1; /* go on */
}

/* ps */

struct ps_opts {
    bool all, quiet, no_trunc;
};

static int ps_opt(int c, void *ud)
{
    struct ps_opts *o = ud;
    if (c == 'a')
        o->all = true;
    else if (c == 'q')
        o->quiet = true;
    else if (c == 'T')
        o->no_trunc = true;
    else
        return REEF_EXIT_USAGE;
    return 0;
}

struct ps_list {
    struct reef_ctrstore *store;
    struct ctr *items;
    size_t n, cap;
};

static int ps_collect(void *ud, const char *id)
{
    struct ps_list *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct ctr *g = realloc(l->items, cap * sizeof(*g));
        if (!g)
            return -ENOMEM;
        l->items = g;
        l->cap = cap;
    }
    if (load(l->store, id, &l->items[l->n], NULL) == 0)
        l->n++;
    return 0;
}

static int by_created_desc(const void *a, const void *b)
{
    const struct ctr *x = a, *y = b;
    return x->cfg.created < y->cfg.created ? 1 : x->cfg.created > y->cfg.created ? -1 : 0;
}

static int ps(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"no-trunc", no_argument, NULL, 'T'},
                                         {0}};
    struct ps_opts o = {0};
    int r = parse_common(&reef_cmd_ps, argc, argv, "aq", opts, ps_opt, &o);
    if (r >= 0)
        return r;
    if (optind < argc)
        return reef_cmd_usage_error(&reef_cmd_ps, "unexpected argument '%s'", argv[optind]);
    struct reef_err err = {0};
    struct ps_list l = {0};
    if (reef_cmd_open_containers(reef_cmd_data_dir(data_flag), &l.store, &err) < 0 ||
        reef_ctr_list(l.store, ps_collect, &l, &err) < 0) {
        reef_cmd_error("ps", &err);
        return 1;
    }
    qsort(l.items, l.n, sizeof(*l.items), by_created_desc);
    /* Columns as wide as their widest cell, three spaces apart, as docker's table. */
    enum { NCOL = 6 };
    static const char *const heads[NCOL] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
                                            "STATUS", "NAMES"};
    char *cells[l.n + 1][NCOL];
    size_t width[NCOL] = {0};
    size_t rows = 0;
    for (size_t i = 0; i < l.n; i++) {
        struct ctr *c = &l.items[i];
        if (!o.all && !running(c))
            continue;
        if (o.quiet) {
            printf("%.*s\n", o.no_trunc ? 64 : 12, c->cfg.id);
            continue;
        }
        char image[256], created[64], status[96], id[65];
        struct reef_buf cmd = REEF_BUF_INIT;
        familiar_image(c->cfg.image, image, sizeof(image));
        reef_cmd_ago(c->cfg.created, created, sizeof(created));
        status_text(c, status, sizeof(status));
        snprintf(id, sizeof(id), "%.*s", o.no_trunc ? 64 : 12, c->cfg.id);
        reef_buf_putc(&cmd, '"');
        for (size_t k = 0; k < c->cfg.argc; k++)
            reef_buf_printf(&cmd, "%s%s", k ? " " : "", c->cfg.argv[k]);
        if (!o.no_trunc && cmd.len > 20) {
            cmd.len = 20;
            reef_buf_puts(&cmd, "…");
        }
        reef_buf_putc(&cmd, '"');
        cells[rows][0] = strdup(id);
        cells[rows][1] = strdup(image);
        cells[rows][2] = reef_buf_steal(&cmd);
        cells[rows][3] = strdup(created);
        cells[rows][4] = strdup(status);
        cells[rows][5] = strdup(c->cfg.name);
        rows++;
    }
    if (!o.quiet) {
        for (int k = 0; k < NCOL; k++)
            width[k] = strlen(heads[k]);
        for (size_t r2 = 0; r2 < rows; r2++)
            for (int k = 0; k < NCOL; k++) {
                /* count characters, not bytes (the ellipsis is one) */
                size_t w = 0;
                for (const char *p = cells[r2][k]; p && *p; p++)
                    w += ((unsigned char)*p & 0xC0) != 0x80;
                if (w > width[k])
                    width[k] = w;
            }
        for (int k = 0; k < NCOL; k++)
            printf("%s%-*s", k ? "   " : "", k == NCOL - 1 ? 0 : (int)width[k], heads[k]);
        putchar('\n');
        for (size_t r2 = 0; r2 < rows; r2++) {
            for (int k = 0; k < NCOL; k++) {
                const char *cell = cells[r2][k] ? cells[r2][k] : "";
                size_t w = 0;
                for (const char *p = cell; *p; p++)
                    w += ((unsigned char)*p & 0xC0) != 0x80;
                printf("%s%s", k ? "   " : "", cell);
                if (k < NCOL - 1)
                    for (size_t pad = w; pad < width[k]; pad++)
                        putchar(' ');
                free(cells[r2][k]);
            }
            putchar('\n');
        }
    }
    for (size_t i = 0; i < l.n; i++)
        reef_ctr_config_free(&l.items[i].cfg);
    free(l.items);
    reef_ctrstore_close(l.store);
    return 0;
}

/* For commands that act on containers named on the command line: opens the store, resolves and
 * loads each one, and calls fn. fn returns 0 when it printed its result, or a negative code with
 * err set ("reef CMD: ARG: message" is printed). Returns the exit status: 1 when any failed. */
struct each {
    struct reef_ctrstore *store;
    char containers[PATH_MAX];
    const char *arg;
    char id[REEF_CTR_ID_LEN + 1];
    struct ctr c;
};

static int each_container(const struct reef_cmd *cmd, int argc, char **argv,
                          int (*fn)(struct each *e, void *ud, struct reef_err *err), void *ud)
{
    if (optind >= argc)
        return reef_cmd_usage_error(cmd, "name at least one container");
    const char *data = reef_cmd_data_dir(data_flag);
    struct each e = {0};
    reef_cmd_data_path(data, "containers", e.containers, sizeof(e.containers));
    struct reef_err err = {0};
    if (reef_cmd_open_containers(data, &e.store, &err) < 0) {
        reef_cmd_error(cmd->name, &err);
        return 1;
    }
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        e.arg = argv[i];
        int r = reef_ctr_resolve(e.store, argv[i], e.id, &err);
        if (r == 0)
            r = load(e.store, e.id, &e.c, &err);
        if (r < 0) {
            fprintf(stderr, "reef %s: %s\n", cmd->name, err.msg);
            rc = 1;
            continue;
        }
        r = fn(&e, ud, &err);
        reef_ctr_config_free(&e.c.cfg);
        if (r < 0) {
            fprintf(stderr, "reef %s: %s: %s\n", cmd->name, argv[i], err.msg);
            rc = 1;
        }
    }
    reef_ctrstore_close(e.store);
    return rc;
}

/* inspect */

static void put_time(struct reef_json_writer *w, const char *key, int64_t ns)
{
    char buf[64] = "0001-01-01T00:00:00Z";
    if (ns) {
        time_t t = (time_t)(ns / 1000000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t k = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + k, sizeof(buf) - k, ".%09lldZ", (long long)(ns % 1000000000));
    }
    reef_json_key(w, key);
    reef_json_put_str(w, buf);
}

static void put_strv(struct reef_json_writer *w, const char *key, char **v, size_t n)
{
    reef_json_key(w, key);
    reef_json_begin_array(w);
    for (size_t i = 0; i < n; i++)
        reef_json_put_str(w, v[i]);
    reef_json_end_array(w);
}

static void inspect_one(struct reef_json_writer *w, const struct ctr *c)
{
    const struct reef_ctr_config *f = &c->cfg;
    const struct reef_ctr_state *s = &c->st;
    reef_json_begin_object(w);
    reef_json_key(w, "Id");
    reef_json_put_str(w, f->id);
    put_time(w, "Created", f->created);
    reef_json_key(w, "Path");
    reef_json_put_str(w, f->argc ? f->argv[0] : "");
    put_strv(w, "Args", f->argv + (f->argc ? 1 : 0), f->argc ? f->argc - 1 : 0);
    reef_json_key(w, "State");
    reef_json_begin_object(w);
    const char *status = reef_ctr_status_name(s->status);
    reef_json_key(w, "Status");
    reef_json_put_str(w, status);
    reef_json_key(w, "Running");
    reef_json_put_bool(w, s->status == REEF_CTR_RUNNING);
    reef_json_key(w, "Paused");
    reef_json_put_bool(w, false);
    reef_json_key(w, "Restarting");
    reef_json_put_bool(w, s->status == REEF_CTR_RESTARTING);
    reef_json_key(w, "OOMKilled");
    reef_json_put_bool(w, s->oom_killed);
    reef_json_key(w, "Dead");
    reef_json_put_bool(w, false);
    reef_json_key(w, "Pid");
    reef_json_put_int(w, s->pid);
    reef_json_key(w, "ExitCode");
    reef_json_put_int(w, s->exit_code);
    reef_json_key(w, "Error");
    reef_json_put_str(w, s->error);
    put_time(w, "StartedAt", s->started_at);
    put_time(w, "FinishedAt", s->finished_at);
    reef_json_key(w, "ShimAlive");
    reef_json_put_bool(w, c->shim_alive);
    reef_json_end_object(w);
    reef_json_key(w, "Image");
    reef_json_put_str(w, f->image_id);
    reef_json_key(w, "Name");
    char name[200];
    snprintf(name, sizeof(name), "/%s", f->name);
    reef_json_put_str(w, name);
    reef_json_key(w, "RestartCount");
    reef_json_put_int(w, s->restart_count);
    reef_json_key(w, "Config");
    reef_json_begin_object(w);
    reef_json_key(w, "Hostname");
    reef_json_put_str(w, f->hostname && f->hostname[0] ? f->hostname : "");
    reef_json_key(w, "User");
    reef_json_put_str(w, f->user);
    reef_json_key(w, "Tty");
    reef_json_put_bool(w, f->tty);
    reef_json_key(w, "OpenStdin");
    reef_json_put_bool(w, f->interactive);
    put_strv(w, "Env", f->env, f->nenv);
    put_strv(w, "Cmd", f->argv, f->argc);
    reef_json_key(w, "Image");
    reef_json_put_str(w, f->image);
    reef_json_key(w, "WorkingDir");
    reef_json_put_str(w, f->workdir);
    reef_json_key(w, "StopSignal");
    reef_json_put_int(w, f->stop_signal);
    reef_json_key(w, "Labels");
    reef_json_begin_object(w);
    for (size_t i = 0; i < f->nlabels; i++) {
        const char *eq = strchr(f->labels[i], '=');
        if (!eq)
            continue;
        reef_json_keyn(w, f->labels[i], (size_t)(eq - f->labels[i]));
        reef_json_put_str(w, eq + 1);
    }
    reef_json_end_object(w);
    reef_json_end_object(w);
    reef_json_key(w, "HostConfig");
    reef_json_begin_object(w);
    reef_json_key(w, "Memory");
    reef_json_put_int(w, f->memory);
    reef_json_key(w, "NanoCpus");
    reef_json_put_int(w, (int64_t)(f->cpus * 1e9));
    reef_json_key(w, "PidsLimit");
    reef_json_put_int(w, f->pids_limit);
    reef_json_key(w, "ReadonlyRootfs");
    reef_json_put_bool(w, f->readonly);
    reef_json_key(w, "AutoRemove");
    reef_json_put_bool(w, f->remove);
    reef_json_key(w, "NetworkMode");
    reef_json_put_str(w, f->host_network ? "host" : "none");
    reef_json_key(w, "RestartPolicy");
    reef_json_begin_object(w);
    static const char *const rnames[] = {"no", "on-failure", "always"};
    reef_json_key(w, "Name");
    reef_json_put_str(w, rnames[f->restart]);
    reef_json_key(w, "MaximumRetryCount");
    reef_json_put_int(w, f->max_retries);
    reef_json_end_object(w);
    reef_json_key(w, "CapAdd");
    reef_json_begin_array(w);
    for (int k = 0; k <= REEF_CAP_MAX; k++)
        if ((f->caps & REEF_CAP_BIT(k)) && !(reef_caps_default() & REEF_CAP_BIT(k)) &&
            reef_caps_name(k))
            reef_json_put_str(w, reef_caps_name(k) + 4);
    reef_json_end_array(w);
    reef_json_key(w, "CapDrop");
    reef_json_begin_array(w);
    for (int k = 0; k <= REEF_CAP_MAX; k++)
        if (!(f->caps & REEF_CAP_BIT(k)) && (reef_caps_default() & REEF_CAP_BIT(k)))
            reef_json_put_str(w, reef_caps_name(k) + 4);
    reef_json_end_array(w);
    reef_json_key(w, "SecurityOpt");
    reef_json_begin_array(w);
    if (!f->seccomp)
        reef_json_put_str(w, "seccomp=unconfined");
    else if (f->seccomp_profile && f->seccomp_profile[0])
        reef_json_put_str(w, "seccomp=profile");
    if (!f->no_new_privs)
        reef_json_put_str(w, "no-new-privileges=false");
    reef_json_end_array(w);
    reef_json_key(w, "Binds");
    reef_json_begin_array(w);
    for (size_t k = 0; k < f->nvolumes; k++) {
        if (f->volumes[k].kind != REEF_VOLUME_BIND)
            continue;
        char b[8192];
        snprintf(b, sizeof(b), "%s:%s%s", f->volumes[k].source, f->volumes[k].target,
                 f->volumes[k].readonly ? ":ro" : "");
        reef_json_put_str(w, b);
    }
    reef_json_end_array(w);
    reef_json_key(w, "CgroupParent");
    reef_json_put_str(w, f->cgroup_parent);
    reef_json_end_object(w);
    reef_json_end_object(w);
}

static int inspect_each(struct each *e, void *ud, struct reef_err *err)
{
    inspect_one(ud, &e->c);
    return 0;
}

static int inspect(int argc, char **argv)
{
    int r = parse_common(&reef_cmd_inspect, argc, argv, "", NULL, NULL, NULL);
    if (r >= 0)
        return r;
    if (optind >= argc)
        return reef_cmd_usage_error(&reef_cmd_inspect, "name at least one container");
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_json_writer w;
    reef_json_writer_init(&w, &out, 4);
    reef_json_begin_array(&w);
    int rc = each_container(&reef_cmd_inspect, argc, argv, inspect_each, &w);
    reef_json_end_array(&w);
    reef_json_finish(&w, NULL);
    printf("%s\n", out.data);
    reef_buf_free(&out);
    return rc;
}

/* stop, kill, rm, wait */

static int wait_shim_gone(struct reef_ctrstore *store, const char *id, int timeout_ms)
{
    char path[PATH_MAX];
    reef_ctr_path(store, id, "shim.lock", path, sizeof(path));
    for (int waited = 0; timeout_ms < 0 || waited < timeout_ms; waited += 10) {
        if (!reef_ctr_shim_alive(store, id))
            return 0;
        usleep(10000);
    }
    return -ETIMEDOUT;
}

static int stop_one(struct reef_ctrstore *store, const char *containers, const char *id,
                    int timeout, struct reef_err *err)
{
    if (!reef_ctr_shim_alive(store, id))
        return reef_shim_cleanup_orphan(containers, id, err);
    char req[32], rep[256];
    snprintf(req, sizeof(req), "stop %d", timeout);
    int r = reef_shim_call(containers, id, req, NULL, 0, rep, sizeof(rep),
                           (timeout + 10) * 1000, err);
    if (r == -ECONNREFUSED || r == -ECONNRESET) /* the shim just went away */
        return reef_shim_cleanup_orphan(containers, id, err);
    if (r < 0)
        return r;
    if (strncmp(rep, "ok", 2) != 0)
        return reef_err_set(err, -EIO, "%s", rep);
    return 0;
}

static int stop_timeout = -1;
static int stop_opt(int c, void *ud)
{
    long long n;
    if (c != 't' || reef_str_to_ll(optarg, 0, 86400, &n) < 0) {
        if (c == 't')
            fprintf(stderr, "reef stop: invalid --time \"%s\"\n", optarg);
        return REEF_EXIT_USAGE;
    }
    stop_timeout = (int)n;
    return 0;
}

static int stop_each(struct each *e, void *ud, struct reef_err *err)
{
    int t = stop_timeout >= 0 ? stop_timeout : e->c.cfg.stop_timeout;
    int r = stop_one(e->store, e->containers, e->id, t, err);
    if (r == 0)
        printf("%s\n", e->arg);
    return r;
}

static int stop(int argc, char **argv)
{
    static const struct option opts[] = {{"time", required_argument, NULL, 't'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {0}};
    int r = parse_common(&reef_cmd_stop, argc, argv, "t:", opts, stop_opt, NULL);
    return r >= 0 ? r : each_container(&reef_cmd_stop, argc, argv, stop_each, NULL);
}

static const char *kill_signal = "KILL";
static int kill_opt(int c, void *ud)
{
    if (c != 's')
        return REEF_EXIT_USAGE;
    kill_signal = optarg;
    return 0;
}

static int kill_each(struct each *e, void *ud, struct reef_err *err)
{
    char req[32], rep[256];
    snprintf(req, sizeof(req), "kill %d", *(int *)ud);
    int r = reef_shim_call(e->containers, e->id, req, NULL, 0, rep, sizeof(rep), 10000, err);
    if (r == -ECONNREFUSED)
        return reef_err_set(err, -ESRCH, "container is not running");
    if (r < 0)
        return r;
    if (strncmp(rep, "ok", 2) != 0)
        return reef_err_set(err, -EIO, "%s", strncmp(rep, "error ", 6) == 0 && strchr(rep + 6, ' ')
                                                 ? strchr(rep + 6, ' ') + 1
                                                 : rep);
    printf("%s\n", e->arg);
    return 0;
}

static int kill_cmd(int argc, char **argv)
{
    static const struct option opts[] = {{"signal", required_argument, NULL, 's'}, {0}};
    int r = parse_common(&reef_cmd_kill, argc, argv, "s:", opts, kill_opt, NULL);
    if (r >= 0)
        return r;
    int sig = reef_cmd_parse_signal(kill_signal);
    if (sig < 0) {
        fprintf(stderr, "reef kill: invalid signal \"%s\"\n", kill_signal);
        return 1;
    }
    return each_container(&reef_cmd_kill, argc, argv, kill_each, &sig);
}

static bool rm_force;
static int rm_opt(int c, void *ud)
{
    if (c != 'f')
        return REEF_EXIT_USAGE;
    rm_force = true;
    return 0;
}

static int rm_each(struct each *e, void *ud, struct reef_err *err)
{
    bool live = e->c.shim_alive || running(&e->c);
    if (live && !rm_force)
        return reef_err_set(err, -EBUSY,
                            "cannot remove a running container: stop it first or use rm -f");
    if (live) {
        if (e->c.shim_alive)
            stop_one(e->store, e->containers, e->id, 0, err);
        if (wait_shim_gone(e->store, e->id, 15000) < 0)
            return reef_err_set(err, -ETIMEDOUT, "its shim does not exit");
    }
    /* Whatever the shim left (it was killed, the machine rebooted): cgroup, then files. */
    reef_shim_cleanup_orphan(e->containers, e->id, NULL);
    int r = reef_ctr_remove(e->store, e->id, err);
    if (r == 0)
        printf("%s\n", e->arg);
    return r;
}

static int rm(int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
    int r = parse_common(&reef_cmd_rm, argc, argv, "f", opts, rm_opt, NULL);
    return r >= 0 ? r : each_container(&reef_cmd_rm, argc, argv, rm_each, NULL);
}

static int wait_each(struct each *e, void *ud, struct reef_err *err)
{
    /* The shim holds its lock for as long as the container may still run. */
    char path[PATH_MAX];
    reef_ctr_path(e->store, e->id, "shim.lock", path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
            ;
        close(fd);
    }
    struct reef_ctr_state st;
    int r = reef_ctr_load_state(e->store, e->id, &st, err); /* fails when --rm removed it */
    if (r == 0)
        printf("%d\n", st.exit_code);
    return r;
}

static int wait_cmd(int argc, char **argv)
{
    int r = parse_common(&reef_cmd_wait, argc, argv, "", NULL, NULL, NULL);
    return r >= 0 ? r : each_container(&reef_cmd_wait, argc, argv, wait_each, NULL);
}

#define DATA_DIR_HELP "      --data-dir DIR   reef's state (default /var/lib/reef, or $REEF_DATA_DIR)\n"

const struct reef_cmd reef_cmd_ps = {
    .name = "ps",
    .summary = "list containers",
    .usage = "usage: reef ps [-a] [-q] [--no-trunc]\n\nLists running containers (all with -a).\n\n"
             "Options:\n  -a, --all            show stopped containers too\n"
             "  -q, --quiet          print only IDs\n      --no-trunc       full IDs and commands\n" DATA_DIR_HELP,
    .run = ps,
};
const struct reef_cmd reef_cmd_inspect = {
    .name = "inspect",
    .summary = "show a container's configuration and state as JSON",
    .usage = "usage: reef inspect CONTAINER...\n\nPrints a JSON array with one object per "
             "container (docker's field names).\n\nOptions:\n" DATA_DIR_HELP,
    .run = inspect,
};
const struct reef_cmd reef_cmd_stop = {
    .name = "stop",
    .summary = "stop containers (their stop signal, then SIGKILL)",
    .usage = "usage: reef stop [-t SECONDS] CONTAINER...\n\nSends each container its image's "
             "stop signal (SIGTERM by default), then SIGKILL\nafter the timeout (10 s).\n\n"
             "Options:\n  -t, --time SECONDS   how long to wait before SIGKILL\n" DATA_DIR_HELP,
    .run = stop,
};
const struct reef_cmd reef_cmd_kill = {
    .name = "kill",
    .summary = "send a signal to containers",
    .usage = "usage: reef kill [-s SIGNAL] CONTAINER...\n\nOptions:\n"
             "  -s, --signal SIGNAL  the signal (KILL by default), by name or number\n" DATA_DIR_HELP,
    .run = kill_cmd,
};
const struct reef_cmd reef_cmd_rm = {
    .name = "rm",
    .summary = "remove containers",
    .usage = "usage: reef rm [-f] CONTAINER...\n\nRemoves stopped containers; -f stops running "
             "ones first.\n\nOptions:\n  -f, --force          remove running containers too\n" DATA_DIR_HELP,
    .run = rm,
};
const struct reef_cmd reef_cmd_wait = {
    .name = "wait",
    .summary = "wait for containers to exit and print their exit codes",
    .usage = "usage: reef wait CONTAINER...\n\nOptions:\n" DATA_DIR_HELP,
    .run = wait_cmd,
};
REEF_COMMAND(reef_cmd_ps);
REEF_COMMAND(reef_cmd_inspect);
REEF_COMMAND(reef_cmd_stop);
REEF_COMMAND(reef_cmd_kill);
REEF_COMMAND(reef_cmd_rm);
REEF_COMMAND(reef_cmd_wait);
