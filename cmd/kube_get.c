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

/* ---- YAML output, as kubectl -o yaml (sigs.k8s.io/yaml over go-yaml v2) ---- */

struct ye {
    struct reef_buf *out;
    size_t col;
};

static void ye_put(struct ye *y, const char *s, size_t n)
{
    reef_buf_append(y->out, s, n);
    for (size_t i = 0; i < n; i++)
        y->col = s[i] == '\n' ? 0 : y->col + 1;
}

static void ye_puts(struct ye *y, const char *s)
{
    ye_put(y, s, strlen(s));
}

static void ye_indent(struct ye *y, size_t indent)
{
    if (y->col > 0)
        ye_puts(y, "\n");
    for (size_t i = 0; i < indent; i++)
        ye_puts(y, " ");
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Whether go-yaml would read the plain scalar s as something other than a string. */
static bool resolves_non_string(const char *s)
{
    static const char *const special[] = {
        "",      "~",     "null",  "Null",  "NULL",  "y",     "Y",    "yes",  "Yes",   "YES",
        "n",     "N",     "no",    "No",    "NO",    "true",  "True", "TRUE", "false", "False",
        "FALSE", "on",    "On",    "ON",    "off",   "Off",   "OFF",  ".inf", ".Inf",  ".INF",
        "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN",  "<<"};
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (strcmp(s, special[i]) == 0)
            return true;
    if (!strchr("+-.0123456789", s[0]))
        return false;
    /* timestamps: 2006-1-2, optionally followed by a time */
    {
        const char *p = s;
        int nd = 0;
        while (is_digit(*p) && nd < 5)
            p++, nd++;
        if (nd == 4 && *p == '-' && is_digit(p[1])) {
            p += 2;
            if (is_digit(*p))
                p++;
            if (*p == '-' && is_digit(p[1])) {
                p += 2;
                if (is_digit(*p))
                    p++;
                if (*p == 0 || ((*p == 'T' || *p == 't' || *p == ' ') && is_digit(p[1])))
                    return true;
            }
        }
    }
    /* integers (underscores allowed), floats, and base-60 numbers such as 1:20 */
    char tmp[128];
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < sizeof(tmp); p++)
        if (*p != '_')
            tmp[n++] = *p;
    tmp[n] = 0;
    if (strlen(s) < sizeof(tmp) && n > 0) {
        char *end;
        errno = 0;
        (void)strtoll(tmp, &end, 0);
        if (*end == 0)
            return true;
        const char *q = tmp;
        if (*q == '+' || *q == '-')
            q++;
        if (q[0] == '0' && (q[1] == 'b' || q[1] == 'B'))
            return true;
        (void)strtod(tmp, &end);
        if (*end == 0 && !strchr(tmp, 'x') && !strchr(tmp, 'X') && !strchr(tmp, 'n') &&
            !strchr(tmp, 'N'))
            return true;
    }
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!is_digit(*p))
        return false;
    while (is_digit(*p) || *p == '_')
        p++;
    bool sixty = false;
    while (*p == ':' && is_digit(p[1])) {
        p++;
        if (is_digit(*p) && is_digit(p[1]) && *p > '5')
            return false;
        p++;
        if (is_digit(*p))
            p++;
        sixty = true;
    }
    if (sixty && *p == '.') {
        p++;
        while (is_digit(*p) || *p == '_')
            p++;
    }
    return sixty && *p == 0;
}

/* libyaml's analysis: may s be written plain in block context? */
static bool plain_allowed(const char *s, size_t n)
{
    if (n == 0)
        return false;
    if (n >= 3 && (strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0))
        return false;
    if (s[0] == ' ' || s[n - 1] == ' ')
        return false;
    if (strchr("#,[]{}&*!|>'\"%@`", s[0]))
        return false;
    if (strchr("-?:", s[0]) && (n == 1 || s[1] == ' '))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ':' && (i + 1 == n || s[i + 1] == ' '))
            return false;
        if (c == '#' && i > 0 && s[i - 1] == ' ')
            return false;
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static bool needs_double(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return true;
        if (c == '\n' && i > 0 && s[i - 1] == ' ')
            return true;
    }
    return false;
}

/* Writes s[0..n) with go-yaml's line folding: a space once past column 80 becomes a line break
 * and the indentation. */
static void ye_folded(struct ye *y, const char *s, size_t n, size_t indent, bool fold)
{
    bool spaces = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') {
            if (fold && !spaces && y->col > 80 && i + 1 < n && s[i + 1] != ' ') {
                ye_indent(y, indent);
            } else {
                ye_put(y, s + i, 1);
            }
            spaces = true;
        } else {
            ye_put(y, s + i, 1);
            spaces = false;
        }
    }
}

static void ye_string(struct ye *y, const char *s, size_t n, size_t indent, bool key)
{
    bool nul = memchr(s, 0, n) != NULL;
    char *z = strndup(s, n);
    if (!z)
        return;
    if (!key && !nul && memchr(s, '\n', n) && !needs_double(s, n) && s[0] != ' ') {
        size_t trail = 0;
        while (trail < n && s[n - 1 - trail] == '\n')
            trail++;
        ye_puts(y, trail == 0 ? "|-" : trail == 1 ? "|" : "|+");
        /* the lines of the content; the final line break belongs to the chomping indicator */
        const char *p = s, *e = trail ? s + n - 1 : s + n;
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            size_t l = nl ? (size_t)(nl - p) : (size_t)(e - p);
            ye_puts(y, "\n");
            for (size_t i = 0; l && i < indent; i++)
                ye_puts(y, " ");
            ye_put(y, p, l);
            if (!nl)
                break;
            p = nl + 1;
        }
        y->col = 1; /* the next line starts after a break, wherever this one ended */
        free(z);
        return;
    }
    if (!nul && !needs_double(s, n) && !memchr(s, '\n', n) && !resolves_non_string(z)) {
        if (plain_allowed(s, n)) {
            ye_folded(y, s, n, indent, !key);
        } else {
            ye_puts(y, "'");
            bool spaces = false;
            for (size_t i = 0; i < n; i++) {
                if (s[i] == ' ') {
                    if (!key && !spaces && y->col > 80 && i > 0 && i + 1 < n && s[i + 1] != ' ')
                        ye_indent(y, indent);
                    else
                        ye_put(y, s + i, 1);
                    spaces = true;
                    continue;
                }
                if (s[i] == '\'')
                    ye_puts(y, "'");
                ye_put(y, s + i, 1);
                spaces = false;
            }
            ye_puts(y, "'");
        }
        free(z);
        return;
    }
    /* double-quoted, escaped */
    ye_puts(y, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"':
            ye_puts(y, "\\\"");
            break;
        case '\\':
            ye_puts(y, "\\\\");
            break;
        case '\n':
            ye_puts(y, "\\n");
            break;
        case '\t':
            ye_puts(y, "\\t");
            break;
        case '\r':
            ye_puts(y, "\\r");
            break;
        case 0:
            ye_puts(y, "\\0");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof(esc), "\\x%02X", c);
                ye_puts(y, esc);
            } else {
                ye_put(y, s + i, 1);
            }
        }
    }
    ye_puts(y, "\"");
    free(z);
}

/* go-yaml's key order: letters after other characters, digit runs compared as numbers. */
static bool yaml_key_less(const char *a, size_t an_, const char *b, size_t bn_)
{
    size_t i;
    for (i = 0; i < an_ && i < bn_; i++) {
        char ac = a[i], bc = b[i];
        if (ac == bc)
            continue;
        bool al = (ac >= 'a' && ac <= 'z') || (ac >= 'A' && ac <= 'Z') || (ac & 0x80);
        bool bl = (bc >= 'a' && bc <= 'z') || (bc >= 'A' && bc <= 'Z') || (bc & 0x80);
        if (al && bl)
            return (unsigned char)ac < (unsigned char)bc;
        if (al || bl)
            return bl;
        long long an = 0, bn = 0;
        size_t ai, bi;
        if (ac == '0' || bc == '0') {
            for (size_t j = i; j-- > 0 && is_digit(a[j]);) {
                if (a[j] != '0') {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        for (ai = i; ai < an_ && is_digit(a[ai]) && an < (1LL << 58); ai++)
            an = an * 10 + (a[ai] - '0');
        for (bi = i; bi < bn_ && is_digit(b[bi]) && bn < (1LL << 58); bi++)
            bn = bn * 10 + (b[bi] - '0');
        if (an != bn)
            return an < bn;
        if (ai != bi)
            return ai < bi;
        return (unsigned char)ac < (unsigned char)bc;
    }
    return an_ < bn_;
}

struct ykey {
    int key, val;
    char *s;
    size_t n;
};

static int ykey_cmp(const void *pa, const void *pb)
{
    const struct ykey *a = pa, *b = pb;
    if (yaml_key_less(a->s, a->n, b->s, b->n))
        return -1;
    if (yaml_key_less(b->s, b->n, a->s, a->n))
        return 1;
    return 0;
}

static void ye_value(struct ye *y, const struct reef_json_doc *d, int v, size_t indent);

static void ye_map(struct ye *y, const struct reef_json_doc *d, int v, size_t indent,
                   bool inline_first)
{
    int n = reef_json_count(d, v);
    struct ykey *m = calloc(n > 0 ? (size_t)n : 1, sizeof(*m));
    if (!m)
        return;
    struct reef_json_iter it = reef_json_iter(d, v);
    int cnt = 0;
    while (reef_json_next(d, &it) && cnt < n) {
        struct reef_buf kb;
        reef_buf_init(&kb);
        reef_json_get_strbuf(d, it.key, &kb, NULL);
        m[cnt].key = it.key;
        m[cnt].val = it.val;
        m[cnt].n = kb.len;
        m[cnt].s = kb.data ? reef_buf_steal(&kb) : strdup("");
        cnt++;
    }
    qsort(m, (size_t)cnt, sizeof(*m), ykey_cmp);
    for (int i = 0; i < cnt; i++) {
        if (i > 0 || !inline_first)
            ye_indent(y, indent);
        ye_string(y, m[i].s ? m[i].s : "", m[i].s ? m[i].n : 0, indent, true);
        ye_puts(y, ":");
        enum reef_json_kind k = reef_json_kind(d, m[i].val);
        int c = reef_json_count(d, m[i].val);
        if (k == REEF_JSON_OBJECT && c > 0) {
            ye_map(y, d, m[i].val, indent + 2, false);
        } else if (k == REEF_JSON_ARRAY && c > 0) {
            ye_value(y, d, m[i].val, indent); /* sequences in a mapping are not indented */
        } else {
            ye_puts(y, " ");
            ye_value(y, d, m[i].val, indent + 2);
        }
        free(m[i].s);
    }
    free(m);
}

static void ye_seq(struct ye *y, const struct reef_json_doc *d, int v, size_t indent,
                   bool inline_first)
{
    struct reef_json_iter it = reef_json_iter(d, v);
    bool first = true;
    while (reef_json_next(d, &it)) {
        if (!first || !inline_first)
            ye_indent(y, indent);
        first = false;
        ye_puts(y, "- ");
        enum reef_json_kind k = reef_json_kind(d, it.val);
        int c = reef_json_count(d, it.val);
        if (k == REEF_JSON_OBJECT && c > 0)
            ye_map(y, d, it.val, indent + 2, true);
        else if (k == REEF_JSON_ARRAY && c > 0)
            ye_seq(y, d, it.val, indent + 2, true);
        else
            ye_value(y, d, it.val, indent + 2);
    }
}

static void ye_value(struct ye *y, const struct reef_json_doc *d, int v, size_t indent)
{
    switch (reef_json_kind(d, v)) {
    case REEF_JSON_OBJECT:
        if (reef_json_count(d, v) == 0)
            ye_puts(y, "{}");
        else
            ye_map(y, d, v, indent, false);
        break;
    case REEF_JSON_ARRAY:
        if (reef_json_count(d, v) == 0)
            ye_puts(y, "[]");
        else
            ye_seq(y, d, v, indent, false);
        break;
    case REEF_JSON_STRING: {
        struct reef_buf b;
        reef_buf_init(&b);
        reef_json_get_strbuf(d, v, &b, NULL);
        ye_string(y, b.data ? b.data : "", b.len, indent, false);
        reef_buf_free(&b);
        break;
    }
    default: {
        size_t n;
        const char *raw = reef_json_raw(d, v, &n);
        if (raw)
            ye_put(y, raw, n);
    }
    }
}

int reef_kube_put_yaml(struct reef_buf *out, const struct reef_json_doc *d, int v)
{
    struct ye y = {out, 0};
    ye_value(&y, d, v, 0);
    ye_puts(&y, "\n");
    return 0;
}
