/* reef apply / create / delete: manifests applied as kubectl's client-side apply does
 * (create with the last-applied annotation, else a three-way strategic merge patch), created as
 * they are, and objects deleted. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/kube.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/yaml.h"
#include "orchestrate/smp.h"

extern const struct reef_cmd reef_cmd_apply;
extern const struct reef_cmd reef_cmd_delete;

#define MAX_MANIFEST (64u << 20)

/* One manifest document, as compact JSON, and where it came from. */
struct doc {
    char *json;
    size_t len;
    char *source;
};

struct docs {
    struct doc *v;
    size_t n, cap;
    const char *source;
};

static void docs_free(struct docs *ds)
{
    for (size_t i = 0; i < ds->n; i++) {
        free(ds->v[i].json);
        free(ds->v[i].source);
    }
    free(ds->v);
}

static int on_doc(void *ud, size_t index, const char *json, size_t len, int line)
{
    (void)index;
    (void)line;
    struct docs *ds = ud;
    if (ds->n == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 8;
        struct doc *n = realloc(ds->v, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        ds->v = n;
        ds->cap = cap;
    }
    ds->v[ds->n].json = strndup(json, len);
    ds->v[ds->n].len = len;
    ds->v[ds->n].source = strdup(ds->source);
    if (!ds->v[ds->n].json || !ds->v[ds->n].source) {
        free(ds->v[ds->n].json);
        free(ds->v[ds->n].source);
        return -ENOMEM;
    }
    ds->n++;
    return 0;
}

static int read_fd(int fd, struct reef_buf *out)
{
    char tmp[65536];
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        if (out->len + (size_t)n > MAX_MANIFEST)
            return -EFBIG;
        if (reef_buf_append(out, tmp, (size_t)n) < 0)
            return -ENOMEM;
    }
}

static int load_file(const char *path, const char *shown, struct docs *ds)
{
    struct reef_buf b;
    reef_buf_init(&b);
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "error: %s: %s\n", shown, strerror(errno));
        return 1;
    }
    int rc = read_fd(fd, &b);
    if (fd != 0)
        close(fd);
    if (rc < 0) {
        fprintf(stderr, "error: %s: %s\n", shown, strerror(-rc));
        reef_buf_free(&b);
        return 1;
    }
    struct reef_err err = {0};
    ds->source = shown;
    rc = reef_yaml_each(b.data ? b.data : "", b.len, on_doc, ds, &err);
    reef_buf_free(&b);
    if (rc < 0) {
        fprintf(stderr, "error: error parsing %s: error converting YAML to JSON: %s\n", shown,
                err.msg);
        return 1;
    }
    return 0;
}

static bool manifest_name(const char *n)
{
    return reef_str_has_suffix(n, ".yaml") || reef_str_has_suffix(n, ".yml") ||
           reef_str_has_suffix(n, ".json");
}

/* -f FILE|DIR|-: a directory contributes its .yaml, .yml and .json files in name order. */
static int load(const char *path, struct docs *ds)
{
    struct stat st;
    if (strcmp(path, "-") == 0)
        return load_file(path, "STDIN", ds);
    if (stat(path, &st) < 0) {
        fprintf(stderr, "error: the path \"%s\" does not exist\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return load_file(path, path, ds);
    struct dirent **ents = NULL;
    int n = scandir(path, &ents, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "error: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int status = 0;
    for (int i = 0; i < n; i++) {
        if (!status && ents[i]->d_name[0] != '.' && manifest_name(ents[i]->d_name)) {
            char p[4096];
            snprintf(p, sizeof(p), "%s/%s", path, ents[i]->d_name);
            status = load_file(p, p, ds);
        }
        free(ents[i]);
    }
    free(ents);
    return status;
}

/* What a manifest names. */
struct target {
    const struct reef_kube_type *t;
    char name[254];
    char ns[254];
    char kind[128];
};

static int identify(struct reef_kube *k, const struct doc *m, struct reef_json_doc *d,
                    struct target *tg)
{
    char av[256] = "";
    memset(tg, 0, sizeof(*tg));
    if (reef_json_parse(d, m->json, m->len, NULL, NULL) < 0 ||
        reef_json_kind(d, REEF_JSON_ROOT) != REEF_JSON_OBJECT) {
        fprintf(stderr, "error: unable to decode \"%s\": not an object\n", m->source);
        return 1;
    }
    int v = reef_json_member(d, REEF_JSON_ROOT, "apiVersion");
    if (v < 0 || reef_json_get_str(d, v, av, sizeof(av), NULL) < 0 || !av[0]) {
        fprintf(stderr,
                "error: error validating \"%s\": error validating data: apiVersion not "
                "set\n",
                m->source);
        return 1;
    }
    v = reef_json_member(d, REEF_JSON_ROOT, "kind");
    if (v < 0 || reef_json_get_str(d, v, tg->kind, sizeof(tg->kind), NULL) < 0 || !tg->kind[0]) {
        fprintf(stderr, "error: error validating \"%s\": error validating data: kind not set\n",
                m->source);
        return 1;
    }
    v = reef_json_find(d, REEF_JSON_ROOT, "metadata.name", NULL);
    if (v >= 0)
        reef_json_get_str(d, v, tg->name, sizeof(tg->name), NULL);
    v = reef_json_find(d, REEF_JSON_ROOT, "metadata.namespace", NULL);
    if (v >= 0)
        reef_json_get_str(d, v, tg->ns, sizeof(tg->ns), NULL);
    tg->t = reef_kube_type_of_kind(av, tg->kind);
    if (!tg->t) {
        fprintf(stderr,
                "error: resource mapping not found for name: \"%s\" namespace: \"%s\" from "
                "\"%s\": no matches for kind \"%s\" in version \"%s\"\nensure CRDs are installed "
                "first\n",
                tg->name, tg->ns, m->source, tg->kind, av);
        return 1;
    }
    if (!tg->name[0]) {
        fprintf(stderr,
                "error: error when retrieving current configuration of:\nResource: "
                "\"%s\", Name: \"\"\nfrom server for: \"%s\": resource name may not be "
                "empty\n",
                tg->t->plural, m->source);
        return 1;
    }
    if (tg->t->namespaced) {
        if (tg->ns[0] && k->ns_given && strcmp(tg->ns, k->ns) != 0) {
            fprintf(stderr,
                    "error: the namespace from the provided object \"%s\" does not match the "
                    "namespace \"%s\". You must pass '--namespace=%s' to perform this "
                    "operation.\n",
                    tg->ns, k->ns, tg->ns);
            return 1;
        }
        if (!tg->ns[0])
            strcpy(tg->ns, k->ns);
    }
    return 0;
}

static void print_done(const struct target *tg, const char *what)
{
    struct reef_buf b;
    reef_buf_init(&b);
    reef_kube_type_ref(&b, tg->t);
    printf("%s/%s %s\n", b.data, tg->name, what);
    fflush(stdout);
    reef_buf_free(&b);
}

static int create_object_as(struct reef_kube *k, const struct target *tg, const char *body,
                            size_t len, const char *source, const char *failed);

/* POSTs an object; a failure is reported with the file it came from, as kubectl does. */
static int create_object(struct reef_kube *k, const struct target *tg, const char *body, size_t len,
                         const char *source)
{
    return create_object_as(k, tg, body, len, source, NULL);
}

/* failed, when not NULL, is kubectl's wording for objects its generators build: "failed to
 * create configmap: " (configmap), "failed to create secret " (secret). */
static int create_object_as(struct reef_kube *k, const struct target *tg, const char *body,
                            size_t len, const char *source, const char *failed)
{
    struct reef_buf path;
    struct reef_err err = {0};
    struct reef_http_result res = {0};
    int status = 0;
    reef_buf_init(&path);
    reef_kube_path(&path, tg->t, tg->ns, NULL);
    if (reef_kube_do(k, "POST", path.data, "application/json", "application/json", body, len, &res,
                     &err) < 0) {
        status = reef_kube_fail(err.msg);
    } else if (res.status >= 300 && failed) {
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        char msg[1024] = "";
        if (reef_json_parse(&d, res.body, res.body_len, NULL, NULL) == 0) {
            int v = reef_json_member(&d, REEF_JSON_ROOT, "message");
            if (v >= 0)
                reef_json_get_str(&d, v, msg, sizeof(msg), NULL);
        }
        reef_json_doc_free(&d);
        fprintf(stderr, "error: %s%s\n", failed, msg);
        status = 1;
    } else if (res.status >= 300) {
        reef_kube_print_status_from(&res, source, NULL);
        status = 1;
    } else {
        print_done(tg, "created");
    }
    reef_http_result_free(&res);
    reef_buf_free(&path);
    return status;
}

/* The manifest with metadata.namespace set, as kubectl sets it before computing the
 * last-applied configuration; appended to out. */
static int with_namespace(const char *json, size_t len, const char *ns, struct reef_buf *out)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int rc = reef_json_parse(&d, json, len, NULL, NULL);
    if (rc < 0)
        return rc;
    struct reef_json_writer w;
    reef_json_writer_init(&w, out, 0);
    reef_json_begin_object(&w);
    struct reef_json_iter it = reef_json_iter(&d, REEF_JSON_ROOT);
    while (reef_json_next(&d, &it)) {
        reef_json_key_from(&w, &d, it.key);
        if (!reef_json_str_eq(&d, it.key, "metadata") ||
            reef_json_kind(&d, it.val) != REEF_JSON_OBJECT) {
            reef_json_put_value(&w, &d, it.val);
            continue;
        }
        reef_json_begin_object(&w);
        struct reef_json_iter mi = reef_json_iter(&d, it.val);
        while (reef_json_next(&d, &mi)) {
            if (reef_json_str_eq(&d, mi.key, "namespace"))
                continue;
            reef_json_key_from(&w, &d, mi.key);
            reef_json_put_value(&w, &d, mi.val);
        }
        reef_json_key(&w, "namespace");
        reef_json_put_str(&w, ns);
        reef_json_end_object(&w);
    }
    reef_json_end_object(&w);
    rc = reef_json_finish(&w, NULL);
    reef_json_doc_free(&d);
    return rc;
}

static int apply_one(struct reef_kube *k, const struct doc *m)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct target tg;
    struct reef_err err = {0};
    struct reef_buf path, modified, patch;
    struct reef_http_result res = {0};
    int rc, status = identify(k, m, &d, &tg);
    reef_json_doc_free(&d);
    if (status)
        return status;
    reef_buf_init(&path);
    reef_buf_init(&modified);
    reef_buf_init(&patch);
    struct reef_buf manifest;
    reef_buf_init(&manifest);
    if (tg.t->namespaced && with_namespace(m->json, m->len, tg.ns, &manifest) < 0) {
        reef_buf_free(&manifest);
        status = reef_kube_fail("cannot set the manifest's namespace");
        goto out;
    }
    rc = tg.t->namespaced
             ? reef_smp_last_applied(manifest.data, manifest.len, NULL, &modified, &err)
             : reef_smp_last_applied(m->json, m->len, NULL, &modified, &err);
    reef_buf_free(&manifest);
    if (rc < 0) {
        status = reef_kube_fail(err.msg);
        goto out;
    }
    reef_kube_path(&path, tg.t, tg.ns, tg.name);
    if (reef_kube_do(k, "GET", path.data, "application/json", NULL, NULL, 0, &res, &err) < 0) {
        status = reef_kube_fail(err.msg);
        goto out;
    }
    if (res.status == 404) {
        reef_http_result_free(&res);
        reef_buf_reset(&path);
        reef_kube_path(&path, tg.t, tg.ns, NULL);
        status = create_object(k, &tg, modified.data, modified.len, m->source);
        goto out;
    }
    if (res.status >= 300) {
        reef_kube_print_status(&res);
        status = 1;
        goto out;
    }
    /* the live object's annotation is the previous apply's configuration */
    char *original = NULL;
    if (reef_json_parse(&d, res.body, res.body_len, NULL, NULL) == 0) {
        int v = reef_json_find(&d, REEF_JSON_ROOT,
                               "metadata.annotations[\"" REEF_SMP_LAST_APPLIED "\"]", NULL);
        if (v >= 0)
            reef_json_get_strdup(&d, v, &original, NULL);
    }
    reef_json_doc_free(&d);
    rc =
        reef_smp_create_three_way(tg.kind, original, original ? strlen(original) : 0, modified.data,
                                  modified.len, res.body, res.body_len, &patch, &err);
    free(original);
    reef_http_result_free(&res);
    if (rc < 0) {
        status = reef_kube_fail(err.msg);
        goto out;
    }
    if (strcmp(patch.data, "{}") == 0) {
        print_done(&tg, "unchanged");
        goto out;
    }
    rc = reef_kube_do(k, "PATCH", path.data, "application/json",
                      "application/strategic-merge-patch+json", patch.data, patch.len, &res, &err);
    status = reef__kube_status(rc, &res, &err);
    if (!status)
        print_done(&tg, "configured");
out:
    reef_http_result_free(&res);
    reef_buf_free(&path);
    reef_buf_free(&modified);
    reef_buf_free(&patch);
    return status;
}

static const char delete_body[] =
    "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"propagationPolicy\":\"Background\"}";

/* Objects deleted and not yet gone, for kubectl's --wait. */
struct deleted {
    char *path, *uid, *ref; /* ref: "pods/web" as kubectl names it when a wait times out */
};
struct deletes {
    struct deleted *v;
    size_t n;
};

static void note_deleted(struct deletes *dl, const char *path, const struct reef_http_result *res,
                         const struct reef_kube_type *t, const char *name)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    char uid[64] = "";
    if (res->body_len && reef_json_parse(&d, res->body, res->body_len, NULL, NULL) == 0) {
        int v = reef_json_find(&d, REEF_JSON_ROOT, "metadata.uid", NULL);
        if (v >= 0 && reef_json_get_str(&d, v, uid, sizeof(uid), NULL) < 0)
            uid[0] = '\0';
        /* a Status answer (the object went at once) has no uid: nothing to wait for */
        v = reef_json_member(&d, REEF_JSON_ROOT, "kind");
        if (v >= 0 && reef_json_str_eq(&d, v, "Status"))
            uid[0] = '\0';
    }
    reef_json_doc_free(&d);
    if (!uid[0])
        return;
    struct deleted *g = realloc(dl->v, (dl->n + 1) * sizeof(*g));
    if (!g)
        return;
    dl->v = g;
    struct reef_buf ref = REEF_BUF_INIT;
    reef_buf_printf(&ref, "%s/%s", t->plural, name);
    g[dl->n].path = strdup(path);
    g[dl->n].uid = strdup(uid);
    g[dl->n].ref = ref.data;
    if (g[dl->n].path && g[dl->n].uid && g[dl->n].ref)
        dl->n++;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until every deleted object is gone (404, or replaced by one with another uid). */
static int wait_deleted(struct reef_kube *k, struct deletes *dl, int64_t timeout_ms)
{
    int64_t deadline = timeout_ms ? mono_ms() + timeout_ms : 0;
    int status = 0;
    for (size_t i = 0; i < dl->n; i++) {
        for (;;) {
            struct reef_http_result res = {0};
            struct reef_err err = {0};
            bool gone = false;
            if (reef_kube_do(k, "GET", dl->v[i].path, "application/json", NULL, NULL, 0, &res,
                             &err) < 0) {
                status = reef_kube_fail(err.msg);
                gone = true;
            } else if (res.status == 404) {
                gone = true;
            } else if (res.status == 200) {
                gone = memmem(res.body, res.body_len, dl->v[i].uid, strlen(dl->v[i].uid)) ==
                       NULL;
            }
            reef_http_result_free(&res);
            if (gone)
                break;
            if (deadline && mono_ms() >= deadline) {
                fprintf(stderr, "error: timed out waiting for the condition on %s\n",
                        dl->v[i].ref);
                status = 1;
                break;
            }
            usleep(100000);
        }
    }
    for (size_t i = 0; i < dl->n; i++) {
        free(dl->v[i].path);
        free(dl->v[i].uid);
        free(dl->v[i].ref);
    }
    free(dl->v);
    dl->v = NULL;
    dl->n = 0;
    return status;
}

static int delete_one(struct reef_kube *k, const struct reef_kube_type *t, const char *ns,
                      const char *name, bool ignore_not_found, const char *source,
                      struct deletes *dl)
{
    struct reef_buf path;
    struct reef_err err = {0};
    struct reef_http_result res = {0};
    int status = 0;
    reef_buf_init(&path);
    reef_kube_path(&path, t, ns, name);
    if (reef_kube_do(k, "DELETE", path.data, "application/json", "application/json", delete_body,
                     sizeof(delete_body) - 1, &res, &err) < 0) {
        status = reef_kube_fail(err.msg);
    } else if (res.status == 404 && ignore_not_found) {
        status = 0;
    } else if (res.status >= 300) {
        reef_kube_print_status_from(&res, source, "deleting");
        status = 1;
    } else {
        struct reef_buf b;
        reef_buf_init(&b);
        reef_kube_type_ref(&b, t);
        printf("%s \"%s\" deleted\n", b.data, name);
        fflush(stdout);
        reef_buf_free(&b);
        if (dl)
            note_deleted(dl, path.data, &res, t, name);
    }
    reef_http_result_free(&res);
    reef_buf_free(&path);
    return status;
}

enum { O_KCFG = 256, O_IGNORE, O_WAIT, O_TIMEOUT };
static const struct option file_opts[] = {{"namespace", required_argument, NULL, 'n'},
                                          {"filename", required_argument, NULL, 'f'},
                                          {"kubeconfig", required_argument, NULL, O_KCFG},
                                          {"ignore-not-found", no_argument, NULL, O_IGNORE},
                                          {"wait", optional_argument, NULL, O_WAIT},
                                          {"timeout", required_argument, NULL, O_TIMEOUT},
                                          {0}};

struct cmdline {
    const char *ns, *kcfg;
    const char *files[64];
    int nfiles;
    bool ignore_not_found;
    bool wait;          /* delete: until the objects are gone (kubectl's default) */
    int64_t timeout_ms; /* delete --timeout; 0: no limit */
};

/* Returns -1 to go on, else the exit status. */
static int parse(const struct reef_cmd *cmd, int argc, char **argv, struct cmdline *cl)
{
    int c;
    memset(cl, 0, sizeof(*cl));
    cl->wait = true;
    reef_kube_permute(argc, argv, "n:f:", file_opts);
    while ((c = reef_cmd_getopt(cmd, argc, argv, "n:f:", file_opts)) != -1) {
        switch (c) {
        case 'h':
            return 0;
        case 'n':
            cl->ns = optarg;
            break;
        case 'f':
            if (cl->nfiles == (int)(sizeof(cl->files) / sizeof(cl->files[0])))
                return reef_cmd_usage_error(cmd, "too many -f");
            cl->files[cl->nfiles++] = optarg;
            break;
        case O_KCFG:
            cl->kcfg = optarg;
            break;
        case O_IGNORE:
            cl->ignore_not_found = true;
            break;
        case O_WAIT:
        case O_TIMEOUT:
            if (cmd != &reef_cmd_delete)
                return reef_cmd_usage_error(cmd, "unknown option '--%s'",
                                            c == O_WAIT ? "wait" : "timeout");
            if (c == O_WAIT && optarg && reef_kube_parse_bool(optarg, &cl->wait) < 0) {
                fprintf(stderr,
                        "error: invalid argument \"%s\" for \"--wait\" flag: strconv.ParseBool: "
                        "parsing \"%s\": invalid syntax\n",
                        optarg, optarg);
                return 1;
            }
            if (c == O_TIMEOUT && reef_kube_timeout_flag(optarg, &cl->timeout_ms))
                return 1;
            break;
        default:
            return REEF_EXIT_USAGE;
        }
    }
    return -1;
}

static int load_all(const struct cmdline *cl, struct docs *ds)
{
    for (int i = 0; i < cl->nfiles; i++)
        if (load(cl->files[i], ds))
            return 1;
    if (ds->n == 0) {
        fprintf(stderr, "error: no objects passed to %s\n", "apply");
        return 1;
    }
    return 0;
}

static int run_apply(int argc, char **argv)
{
    struct cmdline cl;
    int rc = parse(&reef_cmd_apply, argc, argv, &cl);
    if (rc >= 0)
        return rc;
    if (optind < argc)
        return reef_cmd_usage_error(&reef_cmd_apply, "unexpected argument '%s'", argv[optind]);
    if (!cl.nfiles) {
        fprintf(stderr, "error: must specify one of -f and -k\n");
        return 1;
    }
    struct docs ds = {0};
    if (load_all(&cl, &ds)) {
        docs_free(&ds);
        return 1;
    }
    struct reef_kube k;
    struct reef_err err = {0};
    if (reef_kube_open(&k, cl.kcfg, cl.ns, &err) < 0) {
        docs_free(&ds);
        return reef_kube_fail(err.msg);
    }
    int status = 0;
    for (size_t i = 0; i < ds.n; i++)
        if (apply_one(&k, &ds.v[i]))
            status = 1;
    reef_kube_close(&k);
    docs_free(&ds);
    return status;
}

static int run_delete(int argc, char **argv)
{
    struct cmdline cl;
    int rc = parse(&reef_cmd_delete, argc, argv, &cl);
    if (rc >= 0)
        return rc;
    struct reef_kube k;
    struct reef_err err = {0};
    struct deletes dl = {0};
    int status = 0;
    if (cl.nfiles) {
        if (optind < argc)
            return reef_cmd_usage_error(&reef_cmd_delete, "unexpected argument '%s'", argv[optind]);
        struct docs ds = {0};
        if (load_all(&cl, &ds)) {
            docs_free(&ds);
            return 1;
        }
        if (reef_kube_open(&k, cl.kcfg, cl.ns, &err) < 0) {
            docs_free(&ds);
            return reef_kube_fail(err.msg);
        }
        for (size_t i = 0; i < ds.n; i++) {
            struct reef_json_doc d = REEF_JSON_DOC_INIT;
            struct target tg;
            if (identify(&k, &ds.v[i], &d, &tg) ||
                delete_one(&k, tg.t, tg.ns, tg.name, cl.ignore_not_found, ds.v[i].source,
                           cl.wait ? &dl : NULL))
                status = 1;
            reef_json_doc_free(&d);
        }
        if (wait_deleted(&k, &dl, cl.timeout_ms))
            status = 1;
        docs_free(&ds);
        reef_kube_close(&k);
        return status;
    }
    if (optind >= argc) {
        fprintf(stderr, "error: You must provide one or more resources by argument or filename.\n");
        return 1;
    }
    /* TYPE NAME... or TYPE/NAME... */
    const struct reef_kube_type *t = NULL;
    char *type = argv[optind];
    bool slashed = strchr(type, '/') != NULL;
    if (!slashed) {
        t = reef_kube_type_find(type);
        if (!t) {
            fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", type);
            return 1;
        }
        optind++;
        if (optind >= argc) {
            fprintf(stderr, "error: resource(s) were provided, but no name was specified\n");
            return 1;
        }
    }
    if (reef_kube_open(&k, cl.kcfg, cl.ns, &err) < 0)
        return reef_kube_fail(err.msg);
    for (int i = optind; i < argc; i++) {
        char *name = argv[i];
        const struct reef_kube_type *ti = t;
        if (slashed) {
            char *s = strchr(name, '/');
            if (!s) {
                fprintf(stderr, "error: arguments in resource/name form must have a single "
                                "resource and name\n");
                status = 1;
                break;
            }
            *s = 0;
            ti = reef_kube_type_find(name);
            if (!ti) {
                fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", name);
                status = 1;
                break;
            }
            name = s + 1;
        }
        if (delete_one(&k, ti, k.ns, name, cl.ignore_not_found, NULL, cl.wait ? &dl : NULL))
            status = 1;
    }
    if (wait_deleted(&k, &dl, cl.timeout_ms))
        status = 1;
    reef_kube_close(&k);
    return status;
}

/* ---- create: -f, or a namespace, configmap or secret built from flags ---- */

extern const struct reef_cmd reef_cmd_create;

static int create_files(struct reef_kube *k, const struct docs *ds)
{
    int status = 0;
    for (size_t i = 0; i < ds->n; i++) {
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        struct target tg;
        int rc = identify(k, &ds->v[i], &d, &tg);
        reef_json_doc_free(&d);
        if (rc || create_object(k, &tg, ds->v[i].json, ds->v[i].len, ds->v[i].source))
            status = 1;
    }
    return status;
}

static int run_create(int argc, char **argv)
{
    enum { O_KC = 256, O_LITERAL };
    static const struct option lo[] = {{"namespace", required_argument, NULL, 'n'},
                                       {"filename", required_argument, NULL, 'f'},
                                       {"kubeconfig", required_argument, NULL, O_KC},
                                       {"from-literal", required_argument, NULL, O_LITERAL},
                                       {0}};
    struct cmdline cl;
    const char *literals[256];
    int nlit = 0, c;
    memset(&cl, 0, sizeof(cl));
    reef_kube_permute(argc, argv, "n:f:", lo);
    while ((c = reef_cmd_getopt(&reef_cmd_create, argc, argv, "n:f:", lo)) != -1) {
        switch (c) {
        case 'h':
            return 0;
        case 'n':
            cl.ns = optarg;
            break;
        case 'f':
            if (cl.nfiles == (int)(sizeof(cl.files) / sizeof(cl.files[0])))
                return reef_cmd_usage_error(&reef_cmd_create, "too many -f");
            cl.files[cl.nfiles++] = optarg;
            break;
        case O_KC:
            cl.kcfg = optarg;
            break;
        case O_LITERAL:
            if (nlit == (int)(sizeof(literals) / sizeof(literals[0])))
                return reef_cmd_usage_error(&reef_cmd_create, "too many --from-literal");
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                fprintf(stderr, "error: invalid literal source %s, expected key=value\n", optarg);
                return 1;
            }
            literals[nlit++] = optarg;
            break;
        default:
            return REEF_EXIT_USAGE;
        }
    }
    struct reef_kube k;
    struct reef_err err = {0};
    int status;
    if (cl.nfiles) {
        struct docs ds = {0};
        if (load_all(&cl, &ds)) {
            docs_free(&ds);
            return 1;
        }
        if (reef_kube_open(&k, cl.kcfg, cl.ns, &err) < 0) {
            docs_free(&ds);
            return reef_kube_fail(err.msg);
        }
        status = create_files(&k, &ds);
        docs_free(&ds);
        reef_kube_close(&k);
        return status;
    }
    /* create namespace|configmap|secret generic NAME */
    if (optind >= argc) {
        fprintf(stderr, "error: must specify one of -f and -k\n");
        return 1;
    }
    const char *what = argv[optind++];
    const char *kind;
    bool secret = false;
    if (strcmp(what, "namespace") == 0 || strcmp(what, "ns") == 0) {
        kind = "Namespace";
    } else if (strcmp(what, "configmap") == 0 || strcmp(what, "cm") == 0) {
        kind = "ConfigMap";
    } else if (strcmp(what, "secret") == 0 && optind < argc &&
               strcmp(argv[optind], "generic") == 0) {
        kind = "Secret";
        secret = true;
        optind++;
    } else {
        fprintf(stderr, "error: unknown command \"%s\" for \"reef create\"\n", what);
        return 1;
    }
    if (optind >= argc) {
        fprintf(stderr, "error: exactly one NAME is required, got 0\n");
        return 1;
    }
    if (argc - optind > 1) {
        fprintf(stderr, "error: exactly one NAME is required, got %d\n", argc - optind);
        return 1;
    }
    const char *name = argv[optind];
    struct reef_buf body;
    reef_buf_init(&body);
    struct reef_json_writer w;
    reef_json_writer_init(&w, &body, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "apiVersion");
    reef_json_put_str(&w, "v1");
    reef_json_key(&w, "kind");
    reef_json_put_str(&w, kind);
    reef_json_key(&w, "metadata");
    reef_json_begin_object(&w);
    reef_json_key(&w, "name");
    reef_json_put_str(&w, name);
    reef_json_end_object(&w);
    if (strcmp(kind, "Namespace") == 0) {
        reef_json_key(&w, "spec");
        reef_json_begin_object(&w);
        reef_json_end_object(&w);
    } else {
        reef_json_key(&w, "data");
        reef_json_begin_object(&w);
        for (int i = 0; i < nlit; i++) {
            const char *eq = strchr(literals[i], '=');
            reef_json_keyn(&w, literals[i], (size_t)(eq - literals[i]));
            if (secret) {
                struct reef_buf b;
                reef_buf_init(&b);
                reef_crypto_b64_encode(&b, eq + 1, strlen(eq + 1), REEF_B64_STD);
                reef_json_put_str(&w, b.data ? b.data : "");
                reef_buf_free(&b);
            } else {
                reef_json_put_str(&w, eq + 1);
            }
        }
        reef_json_end_object(&w);
    }
    reef_json_end_object(&w);
    if (reef_json_finish(&w, &err) < 0) {
        reef_buf_free(&body);
        return reef_kube_fail(err.msg);
    }
    if (reef_kube_open(&k, cl.kcfg, cl.ns, &err) < 0) {
        reef_buf_free(&body);
        return reef_kube_fail(err.msg);
    }
    struct target tg = {.t = reef_kube_type_of_kind("v1", kind)};
    snprintf(tg.name, sizeof(tg.name), "%s", name);
    snprintf(tg.ns, sizeof(tg.ns), "%s", k.ns);
    status = create_object_as(&k, &tg, body.data, body.len, NULL,
                              secret                           ? "failed to create secret "
                              : strcmp(kind, "ConfigMap") == 0 ? "failed to create configmap: "
                                                               : NULL);
    reef_buf_free(&body);
    reef_kube_close(&k);
    return status;
}

const struct reef_cmd reef_cmd_create = {
    .name = "create",
    .summary = "create objects from manifests or flags, as kubectl create",
    .usage = "usage: reef create -f FILE|DIR|- [-n NS]\n"
             "       reef create namespace NAME\n"
             "       reef create configmap NAME [--from-literal KEY=VALUE]... [-n NS]\n"
             "       reef create secret generic NAME [--from-literal KEY=VALUE]... [-n NS]\n",
    .run = run_create,
};
REEF_COMMAND(reef_cmd_create);

const struct reef_cmd reef_cmd_apply = {
    .name = "apply",
    .summary = "create or update objects from manifests, as kubectl apply",
    .usage = "usage: reef apply -f FILE|DIR|- [-f ...] [-n NS] [--kubeconfig FILE]\n",
    .run = run_apply,
};
REEF_COMMAND(reef_cmd_apply);

const struct reef_cmd reef_cmd_delete = {
    .name = "delete",
    .summary = "delete objects by name or by manifest, as kubectl delete",
    .usage = "usage: reef delete (-f FILE|DIR|- | TYPE NAME... | TYPE/NAME...) [-n NS] "
             "[--ignore-not-found] [--wait=false] [--timeout DURATION] [--kubeconfig FILE]\n"
             "\n"
             "As kubectl, waits until the objects are gone (pods stop within their grace\n"
             "period) unless --wait=false; --timeout limits the wait.\n",
    .run = run_delete,
};
REEF_COMMAND(reef_cmd_delete);
