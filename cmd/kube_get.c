/* reef get: lists or shows objects as kubectl get does, from the server's Table rendering, or as
 * JSON, YAML or names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/kube.h"
#include "core/json.h"

extern const struct reef_cmd reef_cmd_get;

#define TABLE_ACCEPT                                                                               \
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s"  \
    ".io,application/json"

struct get_opts {
    const char *selector;
    const char *output;   /* NULL, "wide", "json", "yaml", "name", "jsonpath=..." */
    const char *jsonpath; /* the template of -o jsonpath=... */
    bool all_ns, show_labels, watch, no_headers;
};

/* A table being gathered: cells of every row as strings, row by row. */
struct table {
    char **cells; /* nrows * ncols */
    size_t nrows, ncols, cap;
    char **headers;
    int *keep; /* the server's columns shown, by index */
    size_t nkeep;
    const char *prefix; /* "deployment.apps": names printed as deployment.apps/NAME */
    long name_col;      /* the kept column of format "name", -1 when none */
};

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    for (size_t i = 0; i < t->ncols; i++)
        free(t->headers[i]);
    free(t->headers);
    free(t->keep);
    memset(t, 0, sizeof(*t));
}

static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* Prints rows [from, to) as Go's tabwriter does with kubectl's settings (minimum width 6,
 * padding 3): every cell but a line's last is padded to its column's widest cell plus 3. kubectl
 * remembers the widths across flushes (a watch's rows line up with the listing above them):
 * keep, when not NULL, holds t->ncols widths carried from one call to the next. */
static void table_print(const struct table *t, bool headers, size_t from, size_t to, size_t *keep)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
    if (!w)
        return;
    for (size_t c = 0; c < t->ncols; c++) {
        if (headers)
            w[c] = width(t->headers[c]);
        for (size_t r = from; r < to; r++) {
            size_t x = width(t->cells[r * t->ncols + c]);
            if (x > w[c])
                w[c] = x;
        }
        w[c] += 3;
        if (w[c] < 6)
            w[c] = 6;
        if (keep) {
            if (keep[c] > w[c])
                w[c] = keep[c];
            keep[c] = w[c];
        }
    }
    for (long r = headers ? -1 : (long)from; r < (long)to; r++) {
        if (r >= 0 && r < (long)from)
            continue;
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = r < 0 ? t->headers[c] : t->cells[(size_t)r * t->ncols + c];
            fputs(s, stdout);
            if (c + 1 < t->ncols)
                for (size_t i = width(s); i < w[c]; i++)
                    putchar(' ');
        }
        putchar('\n');
    }
    free(w);
    fflush(stdout);
}

static int table_add_row(struct table *t, char **row)
{
    if ((t->nrows + 1) * t->ncols > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64 * t->ncols;
        while (cap < (t->nrows + 1) * t->ncols)
            cap *= 2;
        char **n = realloc(t->cells, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        t->cells = n;
        t->cap = cap;
    }
    memcpy(t->cells + t->nrows * t->ncols, row, t->ncols * sizeof(*row));
    t->nrows++;
    return 0;
}

static char *upper(const char *s)
{
    char *u = strdup(s);
    for (char *p = u; p && *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return u;
}

static char *cell_text(const struct reef_json_doc *d, int v)
{
    char *s = NULL;
    switch (reef_json_kind(d, v)) {
    case REEF_JSON_STRING:
        reef_json_get_strdup(d, v, &s, NULL);
        return s ? s : strdup("");
    case REEF_JSON_NULL:
        return strdup("<nil>");
    default: {
        size_t n;
        const char *raw = reef_json_raw(d, v, &n);
        return raw ? strndup(raw, n) : strdup("");
    }
    }
}

struct sk {
    char *k, *v;
};

static int sk_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sk *)a)->k, ((const struct sk *)b)->k);
}

/* "k=v,k=v" sorted by key, or "<none>", as kubectl's --show-labels */
static char *labels_text(const struct reef_json_doc *d, int obj)
{
    int l = reef_json_find(d, obj, "metadata.labels", NULL);
    int n = l >= 0 ? reef_json_count(d, l) : 0;
    if (n <= 0)
        return strdup("<none>");
    struct sk *a = calloc((size_t)n, sizeof(*a));
    if (!a)
        return NULL;
    struct reef_json_iter it = reef_json_iter(d, l);
    int i = 0;
    while (reef_json_next(d, &it) && i < n) {
        reef_json_get_strdup(d, it.key, &a[i].k, NULL);
        a[i].v = cell_text(d, it.val);
        if (!a[i].k)
            a[i].k = strdup("");
        i++;
    }
    qsort(a, (size_t)i, sizeof(*a), sk_cmp);
    struct reef_buf b;
    reef_buf_init(&b);
    for (int j = 0; j < i; j++) {
        reef_buf_printf(&b, "%s%s=%s", j ? "," : "", a[j].k, a[j].v ? a[j].v : "");
        free(a[j].k);
        free(a[j].v);
    }
    free(a);
    return reef_buf_steal(&b);
}

/* Adds the rows of a Table document to t, setting up the columns on the first call. */
static int table_take(struct table *t, const struct reef_json_doc *d, int root,
                      const struct get_opts *o, bool with_ns)
{
    int defs = reef_json_member(d, root, "columnDefinitions");
    int rows = reef_json_member(d, root, "rows");
    if (rows < 0 || (defs < 0 && !t->keep))
        return -EINVAL;
    bool wide = o->output && strcmp(o->output, "wide") == 0;
    /* a watch sends the column definitions with its first event only */
    if (defs >= 0 && !t->keep) {
        t->keep = calloc((size_t)reef_json_count(d, defs) + 1, sizeof(int));
        if (!t->keep)
            return -ENOMEM;
        struct reef_json_iter it = reef_json_iter(d, defs);
        while (reef_json_next(d, &it)) {
            int p = reef_json_member(d, it.val, "priority");
            int64_t prio = 0;
            if (p >= 0)
                reef_json_get_int(d, p, &prio, NULL);
            if (prio == 0 || wide)
                t->keep[t->nkeep++] = it.index;
        }
    }
    const int *keep = t->keep;
    size_t nkeep = t->nkeep;
    if (!t->headers && defs >= 0) {
        t->ncols = nkeep + (with_ns ? 1 : 0) + (o->show_labels ? 1 : 0);
        t->headers = calloc(t->ncols, sizeof(char *));
        size_t c = 0;
        if (with_ns)
            t->headers[c++] = strdup("NAMESPACE");
        t->name_col = -1;
        for (size_t i = 0; i < nkeep; i++) {
            int def = reef_json_index(d, defs, (size_t)keep[i]);
            int fmt = reef_json_member(d, def, "format");
            if (t->name_col < 0 && fmt >= 0 && reef_json_str_eq(d, fmt, "name"))
                t->name_col = (long)i;
            int name = reef_json_member(d, def, "name");
            char *s = NULL;
            if (name >= 0)
                reef_json_get_strdup(d, name, &s, NULL);
            t->headers[c++] = upper(s ? s : "");
            free(s);
        }
        if (o->show_labels)
            t->headers[c++] = strdup("LABELS");
    }
    char **row = calloc(t->ncols, sizeof(char *));
    if (!row)
        return -ENOMEM;
    struct reef_json_iter it = reef_json_iter(d, rows);
    while (reef_json_next(d, &it)) {
        int cells = reef_json_member(d, it.val, "cells");
        int obj = reef_json_member(d, it.val, "object");
        size_t c = 0;
        if (with_ns) {
            int ns = obj >= 0 ? reef_json_find(d, obj, "metadata.namespace", NULL) : -1;
            row[c++] = ns >= 0 ? cell_text(d, ns) : strdup("");
        }
        for (size_t i = 0; i < nkeep && c < t->ncols; i++) {
            int v = cells >= 0 ? reef_json_index(d, cells, (size_t)keep[i]) : -1;
            row[c] = v >= 0 ? cell_text(d, v) : strdup("");
            if (t->prefix && (long)i == t->name_col && row[c]) {
                char *named = NULL;
                if (asprintf(&named, "%s/%s", t->prefix, row[c]) >= 0) {
                    free(row[c]);
                    row[c] = named;
                }
            }
            c++;
        }
        if (o->show_labels)
            row[c++] = obj >= 0 ? labels_text(d, obj) : strdup("<none>");
        for (size_t i = 0; i < t->ncols; i++)
            if (!row[i])
                row[i] = strdup("");
        table_add_row(t, row);
    }
    free(row);
    return 0;
}

static void print_query(struct reef_buf *q, const struct get_opts *o, const char *cont)
{
    reef_buf_puts(q, "?limit=500");
    if (o->selector) {
        reef_buf_puts(q, "&labelSelector=");
        reef_kube_escape(q, o->selector);
    }
    if (cont && *cont) {
        reef_buf_puts(q, "&continue=");
        reef_kube_escape(q, cont);
    }
}

/* Fetches path; on a server error prints it and returns 1. */
static int fetch(struct reef_kube *k, const char *path, const char *accept,
                 struct reef_http_result *res)
{
    struct reef_err err = {0};
    if (reef_kube_do(k, "GET", path, accept, NULL, NULL, 0, res, &err) < 0)
        return reef_kube_fail(err.msg);
    if (res->status >= 300) {
        reef_kube_print_status(res);
        return 1;
    }
    return 0;
}

static int put_doc(struct reef_json_writer *w, const char *body, size_t len)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int rc = reef_json_parse(&d, body, len, NULL, NULL);
    if (rc == 0)
        rc = reef_kube_put_sorted(w, &d, REEF_JSON_ROOT);
    reef_json_doc_free(&d);
    return rc;
}

static void print_name(const struct reef_kube_type *t, const struct reef_json_doc *d, int obj)
{
    int v = reef_json_find(d, obj, "metadata.name", NULL);
    char name[512] = "";
    if (v >= 0)
        reef_json_get_str(d, v, name, sizeof(name), NULL);
    struct reef_buf b;
    reef_buf_init(&b);
    reef_kube_type_ref(&b, t);
    printf("%s/%s\n", b.data, name);
    reef_buf_free(&b);
}

/* -o json / -o name: the plain objects. */
static int get_objects(struct reef_kube *k, const struct reef_kube_type *t, char **names,
                       int nnames, const struct get_opts *o)
{
    bool yaml = strcmp(o->output, "yaml") == 0;
    bool json = yaml || o->jsonpath || strcmp(o->output, "json") == 0;
    const char *ns = o->all_ns ? NULL : k->ns;
    int status = 0;
    struct reef_buf out, path;
    reef_buf_init(&out);
    reef_buf_init(&path);
    struct reef_json_writer w;
    reef_json_writer_init(&w, &out, 4);
    bool list = nnames != 1;
    if (json && list) {
        reef_json_begin_object(&w);
        reef_json_key(&w, "apiVersion");
        reef_json_put_str(&w, "v1");
        reef_json_key(&w, "items");
        reef_json_begin_array(&w);
    }
    size_t count = 0;
    for (int i = 0; i < (nnames ? nnames : 1); i++) {
        reef_buf_reset(&path);
        reef_kube_path(&path, t, ns, nnames ? names[i] : NULL);
        if (!nnames)
            print_query(&path, o, NULL);
        struct reef_http_result res = {0};
        if (fetch(k, path.data, "application/json", &res) != 0) {
            status = 1;
            reef_http_result_free(&res);
            continue;
        }
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        if (reef_json_parse(&d, res.body, res.body_len, NULL, NULL) == 0) {
            int items = nnames ? -1 : reef_json_member(&d, REEF_JSON_ROOT, "items");
            if (items >= 0) {
                struct reef_json_iter it = reef_json_iter(&d, items);
                while (reef_json_next(&d, &it)) {
                    count++;
                    /* list items lack kind and apiVersion on the wire; kubectl adds them */
                    if (json) {
                        size_t n;
                        const char *raw = reef_json_raw(&d, it.val, &n);
                        struct reef_buf item;
                        reef_buf_init(&item);
                        reef_buf_putc(&item, '{');
                        if (reef_json_member(&d, it.val, "apiVersion") < 0)
                            reef_buf_printf(&item, "\"apiVersion\":\"%s%s%s\",", t->group,
                                            t->group[0] ? "/" : "", t->version);
                        if (reef_json_member(&d, it.val, "kind") < 0)
                            reef_buf_printf(&item, "\"kind\":\"%s\",", t->kind);
                        if (raw && n > 2) {
                            reef_buf_append(&item, raw + 1, n - 1);
                        } else {
                            if (item.data[item.len - 1] == ',')
                                item.data[--item.len] = 0;
                            reef_buf_putc(&item, '}');
                        }
                        put_doc(&w, item.data, item.len);
                        reef_buf_free(&item);
                    } else {
                        print_name(t, &d, it.val);
                    }
                }
            } else {
                count++;
                if (json)
                    reef_kube_put_sorted(&w, &d, REEF_JSON_ROOT);
                else
                    print_name(t, &d, REEF_JSON_ROOT);
            }
        }
        reef_json_doc_free(&d);
        reef_http_result_free(&res);
    }
    if (json && list) {
        reef_json_end_array(&w);
        reef_json_key(&w, "kind");
        reef_json_put_str(&w, "List");
        reef_json_key(&w, "metadata");
        reef_json_begin_object(&w);
        reef_json_key(&w, "resourceVersion");
        reef_json_put_str(&w, "");
        reef_json_end_object(&w);
        reef_json_end_object(&w);
    }
    if (json && (list || count) && o->jsonpath) {
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        struct reef_buf y;
        struct reef_err err = {0};
        reef_buf_init(&y);
        if (reef_json_parse(&d, out.data, out.len, NULL, NULL) == 0 &&
            reef_kube_jsonpath(o->jsonpath, &d, &y, &err) == 0)
            fwrite(y.data ? y.data : "", 1, y.len, stdout);
        else
            status = reef_kube_fail(err.msg[0] ? err.msg : "jsonpath failed");
        reef_buf_free(&y);
        reef_json_doc_free(&d);
    } else if (json && (list || count) && yaml) {
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        struct reef_buf y;
        reef_buf_init(&y);
        if (reef_json_parse(&d, out.data, out.len, NULL, NULL) == 0 &&
            reef_kube_put_yaml(&y, &d, REEF_JSON_ROOT) == 0)
            fputs(y.data, stdout);
        reef_buf_free(&y);
        reef_json_doc_free(&d);
    } else if (json && (list || count)) {
        printf("%s\n", out.data);
    }
    reef_buf_free(&out);
    reef_buf_free(&path);
    return status;
}

/* -w: one row per watch event, each line sized on its own as kubectl's flushed writer does. */
struct watch_ud {
    struct reef_buf line;
    const struct get_opts *o;
    bool with_ns;
    size_t *widths; /* remembered column widths; NULL until the first row */
    struct table t; /* the columns, kept from the listing or the first event */
    bool header;    /* still to be printed */
};

static int on_watch_data(void *ud, const char *data, size_t len)
{
    struct watch_ud *wu = ud;
    if (reef_buf_append(&wu->line, data, len) < 0)
        return -ENOMEM;
    for (;;) {
        char *nl = memchr(wu->line.data, '\n', wu->line.len);
        if (!nl)
            return wu->line.len > (64u << 20) ? -E2BIG : 0;
        size_t n = (size_t)(nl - wu->line.data);
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        if (reef_json_parse(&d, wu->line.data, n, NULL, NULL) == 0) {
            int obj = reef_json_member(&d, REEF_JSON_ROOT, "object");
            struct table *t = &wu->t;
            if (obj >= 0 && table_take(t, &d, obj, wu->o, wu->with_ns) == 0 && t->nrows) {
                if (!wu->widths)
                    wu->widths = calloc(t->ncols, sizeof(size_t));
                table_print(t, wu->header && t->headers, 0, t->nrows, wu->widths);
                wu->header = false;
            }
            for (size_t i = 0; i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
            t->nrows = 0;
        }
        reef_json_doc_free(&d);
        reef_buf_consume(&wu->line, n + 1);
    }
}

/* Prints one type's table. With several types (prefix set) each table after the first printed one
 * follows a blank line, names carry their type, and the caller reports an empty result;
 * *printed counts the tables printed. */
static int get_table(struct reef_kube *k, const struct reef_kube_type *t, char **names, int nnames,
                     const struct get_opts *o, const char *prefix, int *printed)
{
    bool with_ns = o->all_ns && t->namespaced;
    const char *ns = o->all_ns ? NULL : k->ns;
    struct table tab = {0};
    tab.prefix = prefix;
    int status = 0;
    char rv[64] = "", cont[1024] = "";
    struct reef_buf path;
    reef_buf_init(&path);
    for (int i = 0; i < (nnames ? nnames : 1); i++) {
        do {
            reef_buf_reset(&path);
            reef_kube_path(&path, t, ns, nnames ? names[i] : NULL);
            if (!nnames)
                print_query(&path, o, cont);
            cont[0] = 0;
            struct reef_http_result res = {0};
            if (fetch(k, path.data, TABLE_ACCEPT, &res) != 0) {
                status = 1;
                reef_http_result_free(&res);
                break;
            }
            struct reef_json_doc d = REEF_JSON_DOC_INIT;
            if (reef_json_parse(&d, res.body, res.body_len, NULL, NULL) == 0 &&
                table_take(&tab, &d, REEF_JSON_ROOT, o, with_ns) == 0) {
                int v = reef_json_find(&d, REEF_JSON_ROOT, "metadata.continue", NULL);
                if (v >= 0)
                    reef_json_get_str(&d, v, cont, sizeof(cont), NULL);
                v = reef_json_find(&d, REEF_JSON_ROOT, "metadata.resourceVersion", NULL);
                if (v >= 0)
                    reef_json_get_str(&d, v, rv, sizeof(rv), NULL);
            } else {
                fprintf(stderr, "error: the server did not answer with a Table\n");
                status = 1;
            }
            reef_json_doc_free(&d);
            reef_http_result_free(&res);
        } while (cont[0]);
    }
    size_t *widths = o->watch && tab.ncols ? calloc(tab.ncols, sizeof(size_t)) : NULL;
    if (tab.nrows) {
        if ((*printed)++ > 0)
            putchar('\n');
        table_print(&tab, !o->no_headers, 0, tab.nrows, widths);
    } else if (!nnames && !o->watch && !prefix && status == 0) {
        if (t->namespaced && !o->all_ns)
            fprintf(stderr, "No resources found in %s namespace.\n", k->ns);
        else
            fprintf(stderr, "No resources found\n");
    }
    bool listed = tab.nrows > 0;
    for (size_t i = 0; i < tab.nrows * tab.ncols; i++)
        free(tab.cells[i]);
    tab.nrows = 0;
    if (o->watch && status == 0) {
        reef_buf_reset(&path);
        reef_kube_path(&path, t, ns, NULL);
        print_query(&path, o, NULL);
        reef_buf_puts(&path, "&watch=1&resourceVersion=");
        reef_kube_escape(&path, rv);
        if (nnames == 1) {
            reef_buf_puts(&path, "&fieldSelector=metadata.name%3D");
            reef_kube_escape(&path, names[0]);
        }
        /* the listing's columns serve the events; with nothing listed the first event brings
         * the header */
        struct watch_ud wu = {.o = o,
                              .with_ns = with_ns,
                              .widths = widths,
                              .t = tab,
                              .header = !listed && !o->no_headers};
        memset(&tab, 0, sizeof(tab));
        widths = NULL;
        reef_buf_init(&wu.line);
        struct reef_err err = {0};
        if (reef_kube_stream(k, path.data, TABLE_ACCEPT, on_watch_data, &wu, &err) < 0)
            status = reef_kube_fail(err.msg);
        reef_buf_free(&wu.line);
        free(wu.widths);
        table_free(&wu.t);
    }
    table_free(&tab);
    free(widths);
    reef_buf_free(&path);
    return status;
}

static int run(int argc, char **argv)
{
    enum { O_KCFG = 256, O_LABELS, O_NOHEAD };
    static const struct option opts[] = {{"namespace", required_argument, NULL, 'n'},
                                         {"all-namespaces", no_argument, NULL, 'A'},
                                         {"selector", required_argument, NULL, 'l'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"watch", no_argument, NULL, 'w'},
                                         {"show-labels", no_argument, NULL, O_LABELS},
                                         {"no-headers", no_argument, NULL, O_NOHEAD},
                                         {"kubeconfig", required_argument, NULL, O_KCFG},
                                         {0}};
    struct get_opts o = {0};
    const char *ns = NULL, *kcfg = NULL;
    int c;
    reef_kube_permute(argc, argv, "n:Al:o:w", opts);
    while ((c = reef_cmd_getopt(&reef_cmd_get, argc, argv, "n:Al:o:w", opts)) != -1) {
        switch (c) {
        case 'h':
            return 0;
        case 'n':
            ns = optarg;
            break;
        case 'A':
            o.all_ns = true;
            break;
        case 'l':
            o.selector = optarg;
            break;
        case 'o':
            o.output = optarg;
            break;
        case 'w':
            o.watch = true;
            break;
        case O_LABELS:
            o.show_labels = true;
            break;
        case O_NOHEAD:
            o.no_headers = true;
            break;
        case O_KCFG:
            kcfg = optarg;
            break;
        default:
            return REEF_EXIT_USAGE;
        }
    }
    if (o.output && strncmp(o.output, "jsonpath=", 9) == 0)
        o.jsonpath = o.output + 9;
    if (o.output && !o.jsonpath && strcmp(o.output, "wide") != 0 && strcmp(o.output, "json") != 0 &&
        strcmp(o.output, "yaml") != 0 && strcmp(o.output, "name") != 0) {
        fprintf(stderr,
                "error: unable to match a printer suitable for the output format \"%s\", allowed "
                "formats are: json,name,wide,yaml\n",
                o.output);
        return 1;
    }
    if (optind >= argc) {
        fprintf(stderr, "error: you must specify the type of resource to get. Use \"reef "
                        "api-resources\" for a complete list of supported resources.\n");
        return 1;
    }
    char *type = argv[optind++];
    char *slash = strchr(type, '/');
    char **names = argv + optind;
    int nnames = argc - optind;
    char *one[1];
    if (slash) {
        *slash = 0;
        one[0] = slash + 1;
        names = one;
        nnames = 1;
    }
    for (int i = 0; i < nnames; i++)
        if ((slash && optind < argc) || (!slash && strchr(names[i], '/')))
            return reef_kube_fail(
                "there is no need to specify a resource type as a separate argument when passing "
                "arguments in resource/name form (e.g. 'reef get resource/<resource_name>' "
                "instead of 'reef get resource resource/<resource_name>'");
    /* TYPE,TYPE,...: every type must be known before anything is asked */
    const struct reef_kube_type *types[16];
    int ntypes = 0;
    for (char *save = NULL, *tn = strtok_r(type, ",", &save); tn; tn = strtok_r(NULL, ",", &save)) {
        if (ntypes == (int)(sizeof(types) / sizeof(types[0])))
            return reef_kube_fail("too many resource types");
        types[ntypes] = reef_kube_type_find(tn);
        if (!types[ntypes]) {
            fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", tn);
            return 1;
        }
        ntypes++;
    }
    if (ntypes == 0) {
        fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", type);
        return 1;
    }
    if (nnames && o.all_ns)
        return reef_kube_fail("a resource cannot be retrieved by name across all namespaces");
    bool objects = o.output && strcmp(o.output, "wide") != 0;
    if (ntypes > 1 && ((objects && strcmp(o.output, "name") != 0) || nnames || o.watch))
        return reef_kube_fail("several resource types at once are supported only for tables "
                              "and -o name lists");
    struct reef_kube k;
    struct reef_err err = {0};
    if (reef_kube_open(&k, kcfg, ns, &err) < 0)
        return reef_kube_fail(err.msg);
    int rc = 0, printed = 0;
    for (int i = 0; i < ntypes; i++) {
        struct reef_buf ref;
        reef_buf_init(&ref);
        reef_kube_type_ref(&ref, types[i]);
        if (objects ? get_objects(&k, types[i], names, nnames, &o)
                    : get_table(&k, types[i], names, nnames, &o, ntypes > 1 ? ref.data : NULL,
                                &printed))
            rc = 1;
        reef_buf_free(&ref);
    }
    if (ntypes > 1 && !objects && printed == 0 && rc == 0) {
        bool namespaced = false;
        for (int i = 0; i < ntypes; i++)
            namespaced |= types[i]->namespaced;
        if (namespaced && !o.all_ns)
            fprintf(stderr, "No resources found in %s namespace.\n", k.ns);
        else
            fprintf(stderr, "No resources found\n");
    }
    reef_kube_close(&k);
    return rc;
}

const struct reef_cmd reef_cmd_get = {
    .name = "get",
    .summary = "list objects from the API server, as kubectl get",
    .usage = "usage: reef get TYPE[/NAME] [NAME...] [-n NS] [-A] [-l SELECTOR] "
             "[-o wide|json|yaml|name] [--show-labels] [--no-headers] [-w] [--kubeconfig FILE]\n",
    .run = run,
};
REEF_COMMAND(reef_cmd_get);
