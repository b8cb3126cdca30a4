/* agent_volumes: a pod's configMap, secret, downwardAPI and projected volumes, written as the
 * kubelet's atomic writer lays them out, so that a change (a ConfigMap or Secret edited, the
 * pod's labels or annotations) reaches running containers whole:
 *
 *   <vol>/..<hash>/<files>     this version's files (hash: FNV-1a of every path, mode and byte)
 *   <vol>/..data -> ..<hash>   replaced in one rename when the content changes
 *   <vol>/<entry> -> ..data/<entry>   one symbolic link per top-level name
 *
 * The container sees <vol> bound at its mountPath; an application reading a file, or watching
 * ..data, sees the old version or the new, never a mixture. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "orchestrate/agent_int.h"
#include "runtime/layer.h"

#define jstr reef__agent_jstr

struct file {
    char *path; /* relative, validated */
    mode_t mode;
    struct reef_buf data;
};

struct version {
    const struct reef_json_doc *d;
    int items; /* the source's items (key -> path, mode), or -1 for every key */
    mode_t mode; /* the volume's defaultMode */
    int64_t fsgid; /* the pod's fsGroup: owns the files, which it may read; -1 for none */
    struct file *files;
    size_t n, cap;
    struct reef_err *err;
};

/* The item's own mode, else the volume's. */
static mode_t item_mode(const struct version *v, int item)
{
    int64_t m;
    int k = item >= 0 ? reef_json_member(v->d, item, "mode") : -1;
    return k >= 0 && reef_json_get_int(v->d, k, &m, NULL) == 0 ? (mode_t)(m & 07777) : v->mode;
}

/* As the kubelet checks a file's path in a volume: relative, no ".." element, and not starting
 * with ".." (the names of the layout's own entries). */
static bool path_ok(const char *rel)
{
    if (!rel[0] || rel[0] == '/' || strncmp(rel, "..", 2) == 0)
        return false;
    for (const char *s = rel; *s;) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return false;
        s += n + (s[n] == '/');
    }
    return true;
}

static int add_file(struct version *v, const char *rel, mode_t mode, const void *data, size_t len)
{
    if (!path_ok(rel))
        return reef_err_set(v->err, -EINVAL, "volume item path \"%s\" is not allowed", rel);
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        struct file *f = realloc(v->files, cap * sizeof(*f));
        if (!f)
            return reef_err_set(v->err, -ENOMEM, "out of memory");
        v->files = f;
        v->cap = cap;
    }
    struct file *f = &v->files[v->n];
    f->path = strdup(rel);
    f->mode = v->fsgid >= 0 ? mode | 0440 : mode;
    reef_buf_init(&f->data);
    if (!f->path || reef_buf_append(&f->data, data, len) < 0) {
        free(f->path);
        reef_buf_free(&f->data);
        return reef_err_set(v->err, -ENOMEM, "out of memory");
    }
    v->n++;
    return 0;
}

/* One key of a ConfigMap or Secret: every key, or the items that name it. */
static int add_key(void *ud, const char *key, const struct reef_buf *val)
{
    struct version *v = ud;
    const char *data = val->data ? val->data : "";
    if (v->items < 0)
        return add_file(v, key, v->mode, data, val->len);
    int r = 0;
    struct reef_json_iter it = reef_json_iter(v->d, v->items);
    while (r == 0 && reef_json_next(v->d, &it)) {
        int k = reef_json_member(v->d, it.val, "key");
        char rel[1024];
        if (k >= 0 && reef_json_str_eq(v->d, k, key) && jstr(v->d, it.val, "path", rel, sizeof(rel)))
            r = add_file(v, rel, item_mode(v, it.val), data, val->len);
    }
    return r;
}

/* A ConfigMap or Secret source (a volume of its own, or a projected volume's source k). */
static int add_object(struct agent_pod *p, struct version *v, int k, bool secret)
{
    char oname[254];
    jstr(v->d, k, secret ? "secretName" : "name", oname, sizeof(oname));
    if (!oname[0]) /* projected sources name it "name" for both */
        jstr(v->d, k, "name", oname, sizeof(oname));
    v->items = reef_json_member(v->d, k, "items");
    int r = reef__agent_object_each(p, secret, oname, add_key, v, v->err);
    bool optional = false;
    int o = reef_json_member(v->d, k, "optional");
    if (o >= 0)
        reef_json_get_bool(v->d, o, &optional, NULL);
    return r == -ENOENT && optional ? 0 : r;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A downwardAPI source's items: pod fields (labels and annotations whole, as key="value" lines)
 * and containers' resources. */
static int add_downward(struct agent_pod *p, struct version *v, int k)
{
    int items = reef_json_member(v->d, k, "items");
    struct reef_json_iter it = reef_json_iter(v->d, items);
    int r = 0;
    while (r == 0 && reef_json_next(v->d, &it)) {
        char rel[1024], field[300], value[4096] = "";
        struct reef_buf text = REEF_BUF_INIT;
        jstr(v->d, it.val, "path", rel, sizeof(rel));
        int f = reef_json_member(v->d, it.val, "fieldRef");
        int rf = reef_json_member(v->d, it.val, "resourceFieldRef");
        if (f >= 0 && jstr(v->d, f, "fieldPath", field, sizeof(field)) &&
            (strcmp(field, "metadata.labels") == 0 || strcmp(field, "metadata.annotations") == 0)) {
            int m = reef_json_find(v->d, REEF_JSON_ROOT, field, NULL);
            struct reef_json_iter mi = reef_json_iter(v->d, m);
            /* sorted by key, as the kubelet writes them */
            char **lines = NULL;
            size_t nl = 0;
            while (r == 0 && reef_json_next(v->d, &mi)) {
                char key[300], val[4096];
                reef_json_get_str(v->d, mi.key, key, sizeof(key), NULL);
                if (reef_json_get_str(v->d, mi.val, val, sizeof(val), NULL) < 0)
                    val[0] = '\0';
                char **nlines = realloc(lines, (nl + 1) * sizeof(*lines));
                if (!nlines || asprintf(&nlines[nl], "%s=\"%s\"", key, val) < 0) {
                    lines = nlines ? nlines : lines;
                    r = reef_err_set(v->err, -ENOMEM, "out of memory");
                    break;
                }
                lines = nlines;
                nl++;
            }
            qsort(lines, nl, sizeof(*lines), by_text);
            for (size_t i = 0; i < nl; i++) {
                if (r == 0)
                    reef_buf_printf(&text, "%s%s", i ? "\n" : "", lines[i]);
                free(lines[i]);
            }
            free(lines);
        } else if (f >= 0) {
            r = reef__agent_field_ref(p, v->d, field, value, sizeof(value), v->err);
            reef_buf_puts(&text, value);
        } else if (rf >= 0) {
            r = reef__agent_resource_field(v->d, rf, value, sizeof(value), v->err);
            reef_buf_puts(&text, value);
        } else {
            r = reef_err_set(v->err, -EINVAL, "downwardAPI item \"%s\" has no fieldRef or "
                             "resourceFieldRef", rel);
        }
        if (r == 0)
            r = add_file(v, rel, item_mode(v, it.val), text.data ? text.data : "", text.len);
        reef_buf_free(&text);
    }
    return r;
}

static void version_free(struct version *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->files[i].path);
        reef_buf_free(&v->files[i].data);
    }
    free(v->files);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ULL;
    return h;
}

static uint64_t version_hash(const struct version *v)
{
    uint64_t h = fnv(1469598103934665603ULL, &v->fsgid, sizeof(v->fsgid));
    for (size_t i = 0; i < v->n; i++) {
        h = fnv(h, v->files[i].path, strlen(v->files[i].path) + 1);
        h = fnv(h, &v->files[i].mode, sizeof(v->files[i].mode));
        uint64_t len = v->files[i].data.len;
        h = fnv(h, &len, sizeof(len));
        h = fnv(h, v->files[i].data.data ? v->files[i].data.data : "", v->files[i].data.len);
    }
    return h;
}

/* The first component of a relative path. */
static void top_name(const char *path, char *out, size_t size)
{
    const char *slash = strchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : strlen(path);
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), path);
}

static bool is_top(const struct version *v, const char *name)
{
    char t[1024];
    for (size_t i = 0; i < v->n; i++) {
        top_name(v->files[i].path, t, sizeof(t));
        if (strcmp(t, name) == 0)
            return true;
    }
    return false;
}

/* Gives group gid the file vdir/ver/rel and every directory from it up to vdir itself. */
static int own_path(const char *vdir, const char *ver, const char *rel, gid_t gid,
                    struct reef_err *err)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s/%s", vdir, ver, rel);
    size_t base = strlen(vdir);
    while (strlen(path) >= base) {
        if (lchown(path, (uid_t)-1, gid) < 0)
            return reef_err_errno(err, -errno, "volume: give %s to group %u", path, (unsigned)gid);
        char *slash = strrchr(path, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
    return 0;
}

/* Writes version v into vdir unless ..data already names it. */
static int install(const char *vdir, struct version *v, struct reef_err *err)
{
    char ver[32], path[8192], tmp[8192], cur[64] = "";
    snprintf(ver, sizeof(ver), "..%016llx", (unsigned long long)version_hash(v));
    snprintf(path, sizeof(path), "%s/..data", vdir);
    ssize_t cl = readlink(path, cur, sizeof(cur) - 1);
    cur[cl > 0 ? cl : 0] = '\0';
    if (strcmp(cur, ver) == 0)
        return 0;
    int r = reef_fs_mkdir_p(vdir, 0755);
    if (r < 0)
        return reef_err_errno(err, r, "volume %s", vdir);
    /* this version's files, in a directory of its own */
    snprintf(path, sizeof(path), "%s/%s", vdir, ver);
    reef_layer_remove_tree(path, NULL); /* a version half-written before a crash */
    for (size_t i = 0; i < v->n && r == 0; i++) {
        snprintf(path, sizeof(path), "%s/%s/%s", vdir, ver, v->files[i].path);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        r = reef_fs_mkdir_p(path, 0755);
        *slash = '/';
        if (r < 0)
            r = reef_err_errno(err, r, "volume %s", path);
        else
            r = reef_fs_write_atomic(path, v->files[i].data.data ? v->files[i].data.data : "",
                                     v->files[i].data.len, v->files[i].mode, false, err);
        if (r == 0 && v->fsgid >= 0)
            r = own_path(vdir, ver, v->files[i].path, (gid_t)v->fsgid, err);
    }
    if (r == 0 && v->n == 0) {
        snprintf(path, sizeof(path), "%s/%s", vdir, ver);
        r = reef_fs_mkdir_p(path, 0755);
        if (r < 0)
            r = reef_err_errno(err, r, "volume %s", path);
    }
    /* ..data switches to it in one rename */
    snprintf(tmp, sizeof(tmp), "%s/..data_tmp", vdir);
    snprintf(path, sizeof(path), "%s/..data", vdir);
    unlink(tmp);
    if (r == 0 && (symlink(ver, tmp) < 0 || rename(tmp, path) < 0))
        r = reef_err_errno(err, -errno, "volume %s: switch to the new version", vdir);
    /* top-level links to it, and nothing else */
    for (size_t i = 0; i < v->n && r == 0; i++) {
        char top[1024], target[1100];
        top_name(v->files[i].path, top, sizeof(top));
        snprintf(target, sizeof(target), "..data/%s", top);
        snprintf(path, sizeof(path), "%s/%s", vdir, top);
        char have[1100] = "";
        ssize_t hl = readlink(path, have, sizeof(have) - 1);
        have[hl > 0 ? hl : 0] = '\0';
        if (strcmp(have, target) == 0)
            continue;
        snprintf(tmp, sizeof(tmp), "%s/..link_tmp", vdir);
        unlink(tmp);
        if (symlink(target, tmp) < 0)
            r = reef_err_errno(err, -errno, "volume %s: link %s", vdir, top);
        else if (rename(tmp, path) < 0) {
            /* a directory written there by an older layout */
            reef_layer_remove_tree(path, NULL);
            if (rename(tmp, path) < 0)
                r = reef_err_errno(err, -errno, "volume %s: link %s", vdir, top);
        }
    }
    if (r < 0)
        return r;
    DIR *dir = opendir(vdir);
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, "..data") == 0 || strcmp(e->d_name, ver) == 0)
            continue;
        if (strncmp(e->d_name, "..", 2) == 0 || !is_top(v, e->d_name)) {
            snprintf(path, sizeof(path), "%s/%s", vdir, e->d_name);
            reef_layer_remove_tree(path, NULL); /* older versions, names no longer there */
        }
    }
    if (dir)
        closedir(dir);
    return 0;
}

int reef__agent_pod_volumes(struct agent_pod *p, const struct reef_json_doc *d,
                            struct reef_err *err)
{
    int vols = reef_json_find(d, REEF_JSON_ROOT, "spec.volumes", NULL);
    struct reef_json_iter it = reef_json_iter(d, vols);
    int r = 0;
    while (r == 0 && reef_json_next(d, &it)) {
        static const char *const kinds[] = {"configMap", "secret", "downwardAPI", "projected"};
        int k = -1;
        size_t kind = 0;
        for (; kind < 4 && k < 0; kind++)
            k = reef_json_member(d, it.val, kinds[kind]);
        if (k < 0)
            continue;
        kind--;
        char name[254], vdir[4500];
        jstr(d, it.val, "name", name, sizeof(name));
        snprintf(vdir, sizeof(vdir), "%s/volumes/%s", p->sb.dir, name);
        int64_t mode = 0644;
        int m = reef_json_member(d, k, "defaultMode");
        if (m >= 0)
            reef_json_get_int(d, m, &mode, NULL);
        struct version v = {.d = d, .items = -1, .mode = (mode_t)(mode & 07777), .err = err};
        v.fsgid = -1;
        int fg = reef_json_find(d, REEF_JSON_ROOT, "spec.securityContext.fsGroup", NULL);
        if (fg >= 0)
            reef_json_get_int(d, fg, &v.fsgid, NULL);
        if (kind < 2) {
            r = add_object(p, &v, k, kind == 1);
        } else if (kind == 2) {
            r = add_downward(p, &v, k);
        } else {
            struct reef_json_iter si = reef_json_iter(d, reef_json_member(d, k, "sources"));
            while (r == 0 && reef_json_next(d, &si)) {
                int s;
                if ((s = reef_json_member(d, si.val, "configMap")) >= 0)
                    r = add_object(p, &v, s, false);
                else if ((s = reef_json_member(d, si.val, "secret")) >= 0)
                    r = add_object(p, &v, s, true);
                else if ((s = reef_json_member(d, si.val, "downwardAPI")) >= 0)
                    r = add_downward(p, &v, s);
                else
                    r = reef_err_set(err, -EOPNOTSUPP,
                                     "volume \"%s\": only configMap, secret and downwardAPI "
                                     "sources can be projected",
                                     name);
            }
        }
        if (r == 0)
            r = install(vdir, &v, err);
        else
            reef_err_wrap(err, "volume \"%s\"", name);
        version_free(&v);
    }
    return r;
}

bool reef__agent_pod_uses(const struct reef_json_doc *d, bool secret, const char *name)
{
    const char *kind = secret ? "secret" : "configMap";
    int vols = reef_json_find(d, REEF_JSON_ROOT, "spec.volumes", NULL);
    struct reef_json_iter it = reef_json_iter(d, vols);
    while (reef_json_next(d, &it)) {
        int k = reef_json_member(d, it.val, kind);
        int n = k >= 0 ? reef_json_member(d, k, secret ? "secretName" : "name") : -1;
        if (n >= 0 && reef_json_str_eq(d, n, name))
            return true;
        int pj = reef_json_member(d, it.val, "projected");
        struct reef_json_iter si = reef_json_iter(d, pj >= 0 ? reef_json_member(d, pj, "sources") : -1);
        while (reef_json_next(d, &si)) {
            k = reef_json_member(d, si.val, kind);
            n = k >= 0 ? reef_json_member(d, k, "name") : -1;
            if (n >= 0 && reef_json_str_eq(d, n, name))
                return true;
        }
    }
    return false;
}
