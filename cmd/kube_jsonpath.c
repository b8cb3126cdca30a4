/* kube_jsonpath: kubectl's -o jsonpath template subset, run over a parsed JSON document. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/kube.h"
#include "core/json.h"

#define JP_MAX_NODES 100000

/* Follows path (".a.b[0].c", ".items[*].x", "" or "@" for the node itself) from node v, appending
 * every value reached to out. */
static int jp_eval(const struct reef_json_doc *d, int v, const char *path, int *out, int *n)
{
    while (*path == ' ')
        path++;
    if (*path == '$' || *path == '@')
        path++;
    if (*path == 0 || *path == '}') {
        if (*n >= JP_MAX_NODES)
            return -E2BIG;
        out[(*n)++] = v;
        return 0;
    }
    if (*path == '.') {
        const char *k = ++path;
        while (*path && *path != '.' && *path != '[' && *path != '}' && *path != ' ')
            path++;
        if (path == k)
            return jp_eval(d, v, path, out, n);
        int m = reef_json_membern(d, v, k, (size_t)(path - k));
        return m >= 0 ? jp_eval(d, m, path, out, n) : 0;
    }
    if (*path == '[') {
        const char *e = strchr(path, ']');
        if (!e)
            return -EINVAL;
        if (path[1] == '*') {
            struct reef_json_iter it = reef_json_iter(d, v);
            while (reef_json_next(d, &it)) {
                int rc = jp_eval(d, it.val, e + 1, out, n);
                if (rc < 0)
                    return rc;
            }
            return 0;
        }
        long long idx;
        char num[32];
        snprintf(num, sizeof(num), "%.*s", (int)(e - path - 1), path + 1);
        if (reef_str_to_ll(num, -1000000, 1000000, &idx) < 0)
            return -EINVAL;
        int cnt = reef_json_count(d, v);
        if (idx < 0)
            idx += cnt;
        int m = idx >= 0 ? reef_json_index(d, v, (size_t)idx) : -1;
        return m >= 0 ? jp_eval(d, m, e + 1, out, n) : 0;
    }
    return -EINVAL;
}

static void jp_print(struct reef_buf *out, const struct reef_json_doc *d, int v)
{
    switch (reef_json_kind(d, v)) {
    case REEF_JSON_STRING:
        reef_json_get_strbuf(d, v, out, NULL);
        break;
    case REEF_JSON_OBJECT:
    case REEF_JSON_ARRAY: {
        struct reef_json_writer w;
        reef_json_writer_init(&w, out, 0);
        reef_kube_put_sorted(&w, d, v);
        break;
    }
    default: {
        size_t n;
        const char *raw = reef_json_raw(d, v, &n);
        if (raw)
            reef_buf_append(out, raw, n);
    }
    }
}

/* The end of the expression starting after '{' at p (the matching '}'), quotes respected. */
static const char *jp_close(const char *p)
{
    bool q = false;
    for (; *p; p++) {
        if (q && *p == '\\' && p[1])
            p++;
        else if (*p == '"')
            q = !q;
        else if (!q && *p == '}')
            return p;
    }
    return NULL;
}

static bool jp_word(const char *x, const char *w)
{
    while (*x == ' ')
        x++;
    size_t n = strlen(w);
    return strncmp(x, w, n) == 0 && (x[n] == '}' || x[n] == ' ');
}

/* The "{end}" closing the range whose body starts at t (nested ranges skipped); NULL if none.
 * *after is set past it. */
static const char *jp_find_end(const char *t, const char *tend, const char **after)
{
    int depth = 0;
    while (t < tend) {
        if (*t != '{') {
            t++;
            continue;
        }
        const char *e = jp_close(t + 1);
        if (!e || e >= tend)
            return NULL;
        if (jp_word(t + 1, "range"))
            depth++;
        else if (jp_word(t + 1, "end") && depth-- == 0) {
            *after = e + 1;
            return t;
        }
        t = e + 1;
    }
    return NULL;
}

/* Runs template t[0..tend) against node v. */
static int jp_run(const struct reef_json_doc *d, int v, const char *t, const char *tend,
                  struct reef_buf *out, int *nodes, int depth)
{
    if (depth > 20)
        return -E2BIG;
    while (t < tend) {
        if (*t != '{') {
            reef_buf_putc(out, *t++);
            continue;
        }
        const char *e = jp_close(t + 1);
        if (!e || e >= tend)
            return -EINVAL;
        const char *x = t + 1;
        while (*x == ' ')
            x++;
        if (*x == '"') {
            for (x++; x < e && *x != '"'; x++) {
                if (*x == '\\' && x + 1 < e) {
                    x++;
                    reef_buf_putc(out, *x == 'n' ? '\n' : *x == 't' ? '\t' : *x);
                } else {
                    reef_buf_putc(out, *x);
                }
            }
            t = e + 1;
            continue;
        }
        if (jp_word(x, "end"))
            return -EINVAL; /* an {end} without its range */
        bool range = jp_word(x, "range");
        int n = 0, rc = jp_eval(d, v, range ? x + 6 : x, nodes, &n);
        if (rc < 0)
            return rc;
        if (!range) {
            for (int i = 0; i < n; i++) {
                if (i)
                    reef_buf_putc(out, ' ');
                jp_print(out, d, nodes[i]);
            }
            t = e + 1;
            continue;
        }
        const char *after = NULL, *end = jp_find_end(e + 1, tend, &after);
        if (!end)
            return -EINVAL;
        /* the body reuses the node array: keep this range's nodes apart */
        int *mine = malloc((size_t)(n ? n : 1) * sizeof(int));
        if (!mine)
            return -ENOMEM;
        memcpy(mine, nodes, (size_t)n * sizeof(int));
        for (int i = 0; i < n && rc == 0; i++)
            rc = jp_run(d, mine[i], e + 1, end, out, nodes, depth + 1);
        free(mine);
        if (rc < 0)
            return rc;
        t = after;
    }
    return 0;
}

int reef_kube_jsonpath(const char *tmpl, const struct reef_json_doc *d, struct reef_buf *out,
                       struct reef_err *err)
{
    int *nodes = malloc(JP_MAX_NODES * sizeof(int));
    if (!nodes)
        return reef_err_set(err, -ENOMEM, "out of memory");
    int rc = jp_run(d, REEF_JSON_ROOT, tmpl, tmpl + strlen(tmpl), out, nodes, 0);
    free(nodes);
    if (rc < 0)
        return reef_err_set(err, rc, "error executing jsonpath \"%s\"", tmpl);
    return 0;
}
