#include "runtime/ctrstore.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cleanup.h"
#include "core/crypto.h"
#include "core/fs.h"
#include "core/json.h"
#include "runtime/layer.h"

#define FILE_MAX (4u << 20)

struct reef_ctrstore {
    char dir[PATH_MAX - 200];
};

static const char *const status_names[] = {"created", "running", "restarting", "exited"};

const char *reef_ctr_status_name(enum reef_ctr_status st)
{
    return (unsigned)st < REEF_ARRAY_LEN(status_names) ? status_names[st] : "unknown";
}

static bool id_valid(const char *id)
{
    if (strlen(id) != REEF_CTR_ID_LEN)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* A shim deletes what --rm moved to .trash right away; an entry a minute old was left by a shim
 * that died while deleting it. */
static void sweep_trash(struct reef_ctrstore *s)
{
    char tdir[PATH_MAX];
    snprintf(tdir, sizeof(tdir), "%s/.trash", s->dir);
    DIR *d = opendir(tdir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (!id_valid(e->d_name) || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode) || now - st.st_mtime < 60)
            continue;
        char path[PATH_MAX + 80];
        snprintf(path, sizeof(path), "%s/%.64s", tdir, e->d_name); /* an ID: 64 hex digits */
        reef_layer_remove_tree(path, NULL);
    }
    closedir(d);
}

int reef_ctrstore_open(const char *dir, struct reef_ctrstore **out, struct reef_err *err)
{
    struct reef_ctrstore *s = calloc(1, sizeof(*s));
    if (!s)
        return reef_err_set(err, -ENOMEM, "containers: out of memory");
    if (reef_strlcpy(s->dir, dir, sizeof(s->dir)) >= sizeof(s->dir)) {
        free(s);
        return reef_err_set(err, -ENAMETOOLONG, "containers: path too long: %s", dir);
    }
    char names[PATH_MAX];
    snprintf(names, sizeof(names), "%s/names", dir);
    char tmp[PATH_MAX];
    reef_strlcpy(tmp, names, sizeof(tmp));
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    if (mkdir(dir, 0711) < 0 && errno != EEXIST) {
        int e = -errno;
        free(s);
        return reef_err_errno(err, e, "containers: create %s", dir);
    }
    if (mkdir(names, 0755) < 0 && errno != EEXIST) {
        int e = -errno;
        free(s);
        return reef_err_errno(err, e, "containers: create %s", names);
    }
    sweep_trash(s);
    *out = s;
    return 0;
}

void reef_ctrstore_close(struct reef_ctrstore *s)
{
    free(s);
}

const char *reef_ctrstore_dir(const struct reef_ctrstore *s)
{
    return s->dir;
}


/* Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
static bool name_valid(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 127)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
            return false;
    }
    return true;
}

int reef_ctr_path(struct reef_ctrstore *s, const char *id, const char *file, char *out,
                  size_t outsz)
{
    int n = snprintf(out, outsz, "%s/%s%s%s", s->dir, id, file ? "/" : "", file ? file : "");
    return n < 0 || (size_t)n >= outsz ? -ENAMETOOLONG : 0;
}

/* Container files are replaced atomically but not fsync'd: a container whose files a power cut
 * lost was running, and a reboot ends it anyway; what matters after a crash (is its shim alive?)
 * is answered by the shim's lock, not by these files. An fsync costs a container start
 * milliseconds. Mode 0600: the environment may hold secrets. */
static int write_atomic(const char *path, const char *data, size_t len, struct reef_err *err)
{
    return reef_fs_write_atomic(path, data, len, 0600, false, err);
}

static void random_name(char *out, size_t outsz)
{
    static const char *const adj[] = {
        "brave", "calm", "clever", "eager", "fancy", "gentle", "happy", "jolly", "keen",
        "lucid", "merry", "nimble", "proud", "quiet", "rapid", "sharp", "silly", "swift",
        "tender", "vivid", "wise", "zesty", "bold", "cosmic"};
    static const char *const noun[] = {
        "anemone", "barracuda", "coral", "dolphin", "eel", "grouper", "jellyfish", "krill",
        "lobster", "manta", "narwhal", "octopus", "parrotfish", "seahorse", "shrimp",
        "starfish", "sunfish", "tang", "urchin", "wrasse", "clownfish", "nautilus"};
    unsigned char r[2];
    reef_crypto_random(r, sizeof(r), NULL);
    snprintf(out, outsz, "%s_%s", adj[r[0] % REEF_ARRAY_LEN(adj)],
             noun[r[1] % REEF_ARRAY_LEN(noun)]);
}

int reef_ctr_create(struct reef_ctrstore *s, struct reef_ctr_config *cfg, struct reef_err *err)
{
    unsigned char raw[32];
    int r = reef_crypto_random(raw, sizeof(raw), err);
    if (r < 0)
        return r;
    reef_crypto_hex_encode(cfg->id, raw, sizeof(raw));
    bool generated = !cfg->name[0];
    if (!generated && !name_valid(cfg->name))
        return reef_err_set(err, -EINVAL,
                            "invalid container name \"%.128s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                            "are allowed",
                            cfg->name);
    for (size_t i = 0; i < cfg->nlabels; i++) {
        const char *l = cfg->labels[i];
        if (!l || !strchr(l, '=') || l[0] == '=')
            return reef_err_set(err, -EINVAL, "invalid label \"%.128s\": expected key=value",
                                l ? l : "");
    }
    for (size_t i = 0; i < cfg->ngroups_add; i++) {
        const char *g = cfg->groups_add[i];
        char *end = NULL;
        errno = 0;
        unsigned long v = g ? strtoul(g, &end, 10) : 0;
        if (!g || !g[0] || *end || errno || v > 0xfffffffeUL)
            return reef_err_set(err, -EINVAL, "invalid group ID \"%.32s\"", g ? g : "");
    }
    const char *nss[] = {cfg->netns, cfg->ipcns, cfg->utsns};
    for (size_t i = 0; i < REEF_ARRAY_LEN(nss); i++)
        if (nss[i] && nss[i][0] && nss[i][0] != '/')
            return reef_err_set(err, -EINVAL,
                                "namespace file \"%.128s\" is not an absolute path", nss[i]);
    char link[PATH_MAX];
    for (int attempt = 0;; attempt++) {
        if (generated)
            random_name(cfg->name, sizeof(cfg->name));
        if (generated && attempt >= 10)
            snprintf(cfg->name + strlen(cfg->name), sizeof(cfg->name) - strlen(cfg->name),
                     "_%.6s", cfg->id);
        snprintf(link, sizeof(link), "%s/names/%s", s->dir, cfg->name);
        if (symlink(cfg->id, link) == 0)
            break;
        if (errno != EEXIST || !generated || attempt > 10) {
            if (errno != EEXIST)
                return reef_err_errno(err, -errno, "reserve name %s", cfg->name);
            char owner[REEF_CTR_ID_LEN + 1] = "";
            ssize_t n = readlink(link, owner, sizeof(owner) - 1);
            owner[n > 0 ? n : 0] = '\0';
            return reef_err_set(err, -EEXIST,
                                "container name \"%s\" is already in use by container %.12s; "
                                "remove it or choose another name",
                                cfg->name, owner);
        }
    }
    char dir[PATH_MAX];
    reef_ctr_path(s, cfg->id, NULL, dir, sizeof(dir));
    if (mkdir(dir, 0700) < 0) {
        r = reef_err_errno(err, -errno, "create %s", dir);
        unlink(link);
        return r;
    }
    struct reef_buf b = REEF_BUF_INIT;
    r = reef_ctr_config_to_json(cfg, &b);
    char path[PATH_MAX];
    reef_ctr_path(s, cfg->id, "config.json", path, sizeof(path));
    if (r < 0)
        r = reef_err_set(err, r, "encode config");
    else
        r = write_atomic(path, b.data, b.len, err);
    reef_buf_free(&b);
    struct reef_ctr_state st = {.status = REEF_CTR_CREATED};
    if (r == 0)
        r = reef_ctr_save_state(s, cfg->id, &st, err);
    if (r < 0) {
        reef_layer_remove_tree(dir, NULL);
        unlink(link);
    }
    return r;
}

int reef_ctr_resolve(struct reef_ctrstore *s, const char *what, char id[REEF_CTR_ID_LEN + 1],
                     struct reef_err *err)
{
    if (!what[0])
        return reef_err_set(err, -EINVAL, "empty container name");
    char path[PATH_MAX];
    if (name_valid(what)) {
        snprintf(path, sizeof(path), "%s/names/%s", s->dir, what);
        ssize_t n = readlink(path, id, REEF_CTR_ID_LEN + 1);
        if (n == REEF_CTR_ID_LEN) {
            id[n] = '\0';
            if (id_valid(id))
                return 0;
        }
    }
    size_t plen = strlen(what);
    bool hex = plen <= REEF_CTR_ID_LEN;
    for (const char *p = what; *p && hex; p++)
        hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
    if (hex) {
        DIR *d = opendir(s->dir);
        if (!d)
            return reef_err_errno(err, -errno, "list %s", s->dir);
        int found = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!id_valid(e->d_name) || strncmp(e->d_name, what, plen) != 0)
                continue;
            if (found++ == 0)
                memcpy(id, e->d_name, REEF_CTR_ID_LEN + 1);
        }
        closedir(d);
        if (found == 1)
            return 0;
        if (found > 1)
            return reef_err_set(err, -EINVAL,
                                "container ID prefix %s is ambiguous: it matches %d containers",
                                what, found);
    }
    return reef_err_set(err, -ENOENT, "no such container: %.128s", what);
}

int reef_ctr_load_config(struct reef_ctrstore *s, const char *id, struct reef_ctr_config *cfg,
                         struct reef_err *err)
{
    char path[PATH_MAX];
    reef_ctr_path(s, id, "config.json", path, sizeof(path));
    struct reef_buf b = REEF_BUF_INIT;
    int r = reef_fs_read_file(path, FILE_MAX, &b, err);
    if (r == 0)
        r = reef_ctr_config_from_json(b.data ? b.data : "", b.len, cfg, err);
    reef_buf_free(&b);
    return r;
}

int reef_ctr_load_state(struct reef_ctrstore *s, const char *id, struct reef_ctr_state *st,
                        struct reef_err *err)
{
    char path[PATH_MAX];
    reef_ctr_path(s, id, "state.json", path, sizeof(path));
    struct reef_buf b = REEF_BUF_INIT;
    int r = reef_fs_read_file(path, FILE_MAX, &b, err);
    if (r == 0)
        r = reef_ctr_state_from_json(b.data ? b.data : "", b.len, st, err);
    reef_buf_free(&b);
    return r;
}

int reef_ctr_save_state(struct reef_ctrstore *s, const char *id, const struct reef_ctr_state *st,
                        struct reef_err *err)
{
    char path[PATH_MAX];
    reef_ctr_path(s, id, "state.json", path, sizeof(path));
    struct reef_buf b = REEF_BUF_INIT;
    int r = reef_ctr_state_to_json(st, &b);
    if (r < 0)
        r = reef_err_set(err, r, "encode state");
    else
        r = write_atomic(path, b.data, b.len, err);
    reef_buf_free(&b);
    return r;
}

const char *reef_ctr_label(const struct reef_ctr_config *cfg, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < cfg->nlabels; i++)
        if (cfg->labels[i] && strncmp(cfg->labels[i], key, n) == 0 && cfg->labels[i][n] == '=')
            return cfg->labels[i] + n + 1;
    return NULL;
}

bool reef_ctr_shim_alive(struct reef_ctrstore *s, const char *id)
{
    char path[PATH_MAX];
    reef_ctr_path(s, id, "shim.lock", path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd);
    return alive;
}

int reef_ctr_list(struct reef_ctrstore *s, int (*fn)(void *ud, const char *id), void *ud,
                  struct reef_err *err)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return reef_err_errno(err, -errno, "list %s", s->dir);
    struct dirent *e;
    int r = 0;
    while (r == 0 && (e = readdir(d)))
        if (id_valid(e->d_name))
            r = fn(ud, e->d_name);
    closedir(d);
    return r;
}

static void drop_name(struct reef_ctrstore *s, const char *id, const char *name)
{
    char link[PATH_MAX];
    snprintf(link, sizeof(link), "%s/names/%s", s->dir, name);
    char owner[REEF_CTR_ID_LEN + 2] = "";
    ssize_t n = readlink(link, owner, sizeof(owner) - 1);
    if (n == REEF_CTR_ID_LEN && memcmp(owner, id, REEF_CTR_ID_LEN) == 0)
        unlink(link);
}

int reef_ctr_unlist(struct reef_ctrstore *s, const char *id, const char *name, char *trash,
                    size_t trashsz, struct reef_err *err)
{
    char dir[PATH_MAX], tdir[PATH_MAX];
    drop_name(s, id, name);
    snprintf(tdir, sizeof(tdir), "%s/.trash", s->dir);
    mkdir(tdir, 0700);
    reef_ctr_path(s, id, NULL, dir, sizeof(dir));
    int k = snprintf(trash, trashsz, "%s/%s", tdir, id);
    if (k < 0 || (size_t)k >= trashsz)
        return reef_err_set(err, -ENAMETOOLONG, "path too long");
    if (rename(dir, trash) < 0)
        return reef_err_errno(err, -errno, "remove container %.12s", id);
    return 0;
}

int reef_ctr_remove(struct reef_ctrstore *s, const char *id, struct reef_err *err)
{
    struct reef_ctr_config cfg;
    char dir[PATH_MAX];
    if (reef_ctr_load_config(s, id, &cfg, NULL) == 0) {
        drop_name(s, id, cfg.name);
        reef_ctr_config_free(&cfg);
    }
    reef_ctr_path(s, id, NULL, dir, sizeof(dir));
    return reef_layer_remove_tree(dir, err);
}

/* JSON */

static int put_strs(struct reef_json_writer *w, const char *key, char **v, size_t n)
{
    reef_json_key(w, key);
    reef_json_begin_array(w);
    for (size_t i = 0; i < n; i++)
        reef_json_put_str(w, v[i]);
    return reef_json_end_array(w);
}

static const char *const restart_names[] = {"no", "on-failure", "always"};

int reef_ctr_config_to_json(const struct reef_ctr_config *c, struct reef_buf *out)
{
    struct reef_json_writer w;
    reef_json_writer_init(&w, out, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "id");
    reef_json_put_str(&w, c->id);
    reef_json_key(&w, "name");
    reef_json_put_str(&w, c->name);
    reef_json_key(&w, "image");
    reef_json_put_str(&w, c->image ? c->image : "");
    reef_json_key(&w, "imageId");
    reef_json_put_str(&w, c->image_id ? c->image_id : "");
    put_strs(&w, "layers", c->layers, c->nlayers);
    put_strs(&w, "argv", c->argv, c->argc);
    put_strs(&w, "env", c->env, c->nenv);
    reef_json_key(&w, "workdir");
    reef_json_put_str(&w, c->workdir ? c->workdir : "");
    reef_json_key(&w, "user");
    reef_json_put_str(&w, c->user ? c->user : "");
    reef_json_key(&w, "hostname");
    reef_json_put_str(&w, c->hostname ? c->hostname : "");
    const struct {
        const char *k;
        bool v;
    } flags[] = {{"tty", c->tty},           {"interactive", c->interactive},
                 {"readonly", c->readonly}, {"remove", c->remove},
                 {"seccomp", c->seccomp},   {"noNewPrivileges", c->no_new_privs},
                 {"hostNetwork", c->host_network}, {"userns", c->userns},
                 {"stdinOnce", c->stdin_once}, {"hostPid", c->host_pid},
                 {"hostIpc", c->host_ipc}};
    for (size_t i = 0; i < REEF_ARRAY_LEN(flags); i++) {
        reef_json_key(&w, flags[i].k);
        reef_json_put_bool(&w, flags[i].v);
    }
    reef_json_key(&w, "seccompProfile");
    reef_json_put_str(&w, c->seccomp_profile ? c->seccomp_profile : "");
    reef_json_key(&w, "caps");
    reef_json_put_uint(&w, c->caps);
    reef_json_key(&w, "memory");
    reef_json_put_int(&w, c->memory);
    reef_json_key(&w, "cpus");
    reef_json_put_double(&w, c->cpus);
    reef_json_key(&w, "pidsLimit");
    reef_json_put_int(&w, c->pids_limit);
    reef_json_key(&w, "volumes");
    reef_json_begin_array(&w);
    for (size_t i = 0; i < c->nvolumes; i++) {
        const struct reef_ctr_volume *v = &c->volumes[i];
        reef_json_begin_object(&w);
        reef_json_key(&w, "kind");
        reef_json_put_str(&w, v->kind == REEF_VOLUME_TMPFS ? "tmpfs" : "bind");
        reef_json_key(&w, "source");
        reef_json_put_str(&w, v->source ? v->source : "");
        reef_json_key(&w, "target");
        reef_json_put_str(&w, v->target);
        reef_json_key(&w, "readonly");
        reef_json_put_bool(&w, v->readonly);
        reef_json_key(&w, "options");
        reef_json_put_str(&w, v->options ? v->options : "");
        reef_json_end_object(&w);
    }
    reef_json_end_array(&w);
    reef_json_key(&w, "restart");
    reef_json_put_str(&w, restart_names[c->restart]);
    reef_json_key(&w, "maxRetries");
    reef_json_put_int(&w, c->max_retries);
    reef_json_key(&w, "stopSignal");
    reef_json_put_int(&w, c->stop_signal);
    reef_json_key(&w, "stopTimeout");
    reef_json_put_int(&w, c->stop_timeout);
    reef_json_key(&w, "cgroupParent");
    reef_json_put_str(&w, c->cgroup_parent ? c->cgroup_parent : "");
    reef_json_key(&w, "created");
    reef_json_put_int(&w, c->created);
    reef_json_key(&w, "netns");
    reef_json_put_str(&w, c->netns ? c->netns : "");
    reef_json_key(&w, "ipcns");
    reef_json_put_str(&w, c->ipcns ? c->ipcns : "");
    reef_json_key(&w, "utsns");
    reef_json_put_str(&w, c->utsns ? c->utsns : "");
    put_strs(&w, "labels", c->labels, c->nlabels);
    put_strs(&w, "groupsAdd", c->groups_add, c->ngroups_add);
    put_strs(&w, "sysctls", c->sysctls, c->nsysctls);
    reef_json_key(&w, "noEtcFiles");
    reef_json_put_bool(&w, c->no_etc_files);
    reef_json_end_object(&w);
    return reef_json_finish(&w, NULL);
}

struct jctx {
    struct reef_json_doc *d;
    struct reef_err *err;
    int r;
};

static char *get_str(struct jctx *j, int obj, const char *key)
{
    char *s = NULL;
    int v = reef_json_member(j->d, obj, key);
    if (v < 0) {
        s = strdup("");
    } else if (j->r == 0) {
        int r = reef_json_get_strdup(j->d, v, &s, j->err);
        if (r < 0) {
            j->r = reef_err_wrap(j->err, "%s", key);
            return NULL;
        }
    }
    if (!s && j->r == 0)
        j->r = reef_err_set(j->err, -ENOMEM, "out of memory");
    return s;
}

static void get_str_into(struct jctx *j, int obj, const char *key, char *dst, size_t n)
{
    int v = reef_json_member(j->d, obj, key);
    if (v >= 0 && j->r == 0 && reef_json_get_str(j->d, v, dst, n, j->err) < 0)
        j->r = reef_err_wrap(j->err, "%s", key);
}

static bool get_bool(struct jctx *j, int obj, const char *key)
{
    bool b = false;
    int v = reef_json_member(j->d, obj, key);
    if (v >= 0 && j->r == 0 && reef_json_get_bool(j->d, v, &b, j->err) < 0)
        j->r = reef_err_wrap(j->err, "%s", key);
    return b;
}

static int64_t get_int(struct jctx *j, int obj, const char *key)
{
    int64_t x = 0;
    int v = reef_json_member(j->d, obj, key);
    if (v >= 0 && j->r == 0 && reef_json_get_int(j->d, v, &x, j->err) < 0)
        j->r = reef_err_wrap(j->err, "%s", key);
    return x;
}

static char **get_strs(struct jctx *j, int obj, const char *key, size_t *n)
{
    *n = 0;
    int v = reef_json_member(j->d, obj, key);
    int count = v >= 0 ? reef_json_count(j->d, v) : 0;
    if (count < 0)
        count = 0;
    char **arr = calloc((size_t)count + 1, sizeof(char *));
    if (!arr) {
        j->r = reef_err_set(j->err, -ENOMEM, "out of memory");
        return NULL;
    }
    struct reef_json_iter it = reef_json_iter(j->d, v);
    while (v >= 0 && j->r == 0 && reef_json_next(j->d, &it)) {
        if (reef_json_get_strdup(j->d, it.val, &arr[*n], j->err) < 0) {
            j->r = reef_err_wrap(j->err, "%s[%d]", key, it.index);
            break;
        }
        (*n)++;
    }
    return arr;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void reef_ctr_config_free(struct reef_ctr_config *c)
{
    free(c->image);
    free(c->image_id);
    free_strs(c->layers, c->nlayers);
    free_strs(c->argv, c->argc);
    free_strs(c->env, c->nenv);
    free(c->workdir);
    free(c->user);
    free(c->hostname);
    for (size_t i = 0; i < c->nvolumes; i++) {
        free(c->volumes[i].source);
        free(c->volumes[i].target);
        free(c->volumes[i].options);
    }
    free(c->volumes);
    free(c->cgroup_parent);
    free(c->seccomp_profile);
    free(c->netns);
    free(c->ipcns);
    free(c->utsns);
    free_strs(c->labels, c->nlabels);
    free_strs(c->groups_add, c->ngroups_add);
    free_strs(c->sysctls, c->nsysctls);
    memset(c, 0, sizeof(*c));
}

int reef_ctr_config_from_json(const char *json, size_t len, struct reef_ctr_config *c,
                              struct reef_err *err)
{
    memset(c, 0, sizeof(*c));
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, json, len, NULL, err);
    if (r < 0)
        return reef_err_wrap(err, "container config");
    struct jctx j = {&d, err, 0};
    int o = REEF_JSON_ROOT;
    if (reef_json_kind(&d, o) != REEF_JSON_OBJECT)
        j.r = reef_err_set(err, -EINVAL, "not an object");
    get_str_into(&j, o, "id", c->id, sizeof(c->id));
    get_str_into(&j, o, "name", c->name, sizeof(c->name));
    c->image = get_str(&j, o, "image");
    c->image_id = get_str(&j, o, "imageId");
    c->layers = get_strs(&j, o, "layers", &c->nlayers);
    c->argv = get_strs(&j, o, "argv", &c->argc);
    c->env = get_strs(&j, o, "env", &c->nenv);
    c->workdir = get_str(&j, o, "workdir");
    c->user = get_str(&j, o, "user");
    c->hostname = get_str(&j, o, "hostname");
    c->tty = get_bool(&j, o, "tty");
    c->interactive = get_bool(&j, o, "interactive");
    c->stdin_once = get_bool(&j, o, "stdinOnce");
    c->host_pid = get_bool(&j, o, "hostPid");
    c->host_ipc = get_bool(&j, o, "hostIpc");
    c->readonly = get_bool(&j, o, "readonly");
    c->remove = get_bool(&j, o, "remove");
    c->seccomp = get_bool(&j, o, "seccomp");
    c->no_new_privs = get_bool(&j, o, "noNewPrivileges");
    c->host_network = get_bool(&j, o, "hostNetwork");
    c->seccomp_profile = get_str(&j, o, "seccompProfile");
    c->userns = get_bool(&j, o, "userns");
    int v = reef_json_member(&d, o, "caps");
    uint64_t caps = 0;
    if (v >= 0 && j.r == 0 && reef_json_get_uint(&d, v, &caps, err) < 0)
        j.r = reef_err_wrap(err, "caps");
    c->caps = caps;
    c->memory = get_int(&j, o, "memory");
    v = reef_json_member(&d, o, "cpus");
    if (v >= 0 && j.r == 0 && reef_json_get_double(&d, v, &c->cpus, err) < 0)
        j.r = reef_err_wrap(err, "cpus");
    c->pids_limit = get_int(&j, o, "pidsLimit");
    v = reef_json_member(&d, o, "volumes");
    int nv = v >= 0 ? reef_json_count(&d, v) : 0;
    if (nv > 0) {
        c->volumes = calloc((size_t)nv, sizeof(*c->volumes));
        if (!c->volumes)
            j.r = reef_err_set(err, -ENOMEM, "out of memory");
    }
    struct reef_json_iter it = reef_json_iter(&d, v);
    while (v >= 0 && c->volumes && j.r == 0 && reef_json_next(&d, &it)) {
        struct reef_ctr_volume *vol = &c->volumes[c->nvolumes++];
        int kv = reef_json_member(&d, it.val, "kind");
        vol->kind = kv >= 0 && reef_json_str_eq(&d, kv, "tmpfs") ? REEF_VOLUME_TMPFS
                                                                 : REEF_VOLUME_BIND;
        vol->source = get_str(&j, it.val, "source");
        vol->target = get_str(&j, it.val, "target");
        vol->readonly = get_bool(&j, it.val, "readonly");
        vol->options = get_str(&j, it.val, "options");
    }
    v = reef_json_member(&d, o, "restart");
    for (size_t i = 0; v >= 0 && i < REEF_ARRAY_LEN(restart_names); i++)
        if (reef_json_str_eq(&d, v, restart_names[i]))
            c->restart = (enum reef_restart)i;
    c->max_retries = (int)get_int(&j, o, "maxRetries");
    c->stop_signal = (int)get_int(&j, o, "stopSignal");
    c->stop_timeout = (int)get_int(&j, o, "stopTimeout");
    c->cgroup_parent = get_str(&j, o, "cgroupParent");
    c->created = get_int(&j, o, "created");
    /* Absent from configurations written before pods existed: "" and none. */
    c->netns = get_str(&j, o, "netns");
    c->ipcns = get_str(&j, o, "ipcns");
    c->utsns = get_str(&j, o, "utsns");
    c->labels = get_strs(&j, o, "labels", &c->nlabels);
    c->groups_add = get_strs(&j, o, "groupsAdd", &c->ngroups_add);
    c->sysctls = get_strs(&j, o, "sysctls", &c->nsysctls);
    c->no_etc_files = get_bool(&j, o, "noEtcFiles");
    reef_json_doc_free(&d);
    if (j.r < 0) {
        reef_ctr_config_free(c);
        return reef_err_wrap(err, "container config");
    }
    return 0;
}

int reef_ctr_state_to_json(const struct reef_ctr_state *st, struct reef_buf *out)
{
    struct reef_json_writer w;
    reef_json_writer_init(&w, out, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "status");
    reef_json_put_str(&w, reef_ctr_status_name(st->status));
    reef_json_key(&w, "pid");
    reef_json_put_int(&w, st->pid);
    reef_json_key(&w, "shimPid");
    reef_json_put_int(&w, st->shim_pid);
    reef_json_key(&w, "startedAt");
    reef_json_put_int(&w, st->started_at);
    reef_json_key(&w, "finishedAt");
    reef_json_put_int(&w, st->finished_at);
    reef_json_key(&w, "exitCode");
    reef_json_put_int(&w, st->exit_code);
    reef_json_key(&w, "oomKilled");
    reef_json_put_bool(&w, st->oom_killed);
    reef_json_key(&w, "restartCount");
    reef_json_put_int(&w, st->restart_count);
    reef_json_key(&w, "error");
    reef_json_put_str(&w, st->error);
    reef_json_end_object(&w);
    return reef_json_finish(&w, NULL);
}

int reef_ctr_state_from_json(const char *json, size_t len, struct reef_ctr_state *st,
                             struct reef_err *err)
{
    memset(st, 0, sizeof(*st));
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, json, len, NULL, err);
    if (r < 0)
        return reef_err_wrap(err, "container state");
    struct jctx j = {&d, err, 0};
    int o = REEF_JSON_ROOT;
    int v = reef_json_member(&d, o, "status");
    for (size_t i = 0; v >= 0 && i < REEF_ARRAY_LEN(status_names); i++)
        if (reef_json_str_eq(&d, v, status_names[i]))
            st->status = (enum reef_ctr_status)i;
    st->pid = (int)get_int(&j, o, "pid");
    st->shim_pid = (int)get_int(&j, o, "shimPid");
    st->started_at = get_int(&j, o, "startedAt");
    st->finished_at = get_int(&j, o, "finishedAt");
    st->exit_code = (int)get_int(&j, o, "exitCode");
    st->oom_killed = get_bool(&j, o, "oomKilled");
    st->restart_count = (int)get_int(&j, o, "restartCount");
    get_str_into(&j, o, "error", st->error, sizeof(st->error));
    reef_json_doc_free(&d);
    return j.r < 0 ? reef_err_wrap(err, "container state") : 0;
}
