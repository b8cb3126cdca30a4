/* reef describe: objects described as kubectl describe 1.32 prints them. This file holds the
 * command, the output writer (Go's tabwriter as kubectl's describers set it up), the shared
 * getters and sections (labels, annotations, events) and the describers of the simpler kinds;
 * pods, workloads, nodes and quantities are in kube_describe_kinds.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/kube.h"
#include "cmd/kube_describe.h"
#include "core/json.h"
#include "orchestrate/tables.h"

extern const struct reef_cmd reef_cmd_describe;

/* ---- the writer ---- */

void reef__desc_w(struct reef__desc *c, int level, const char *fmt, ...)
{
    for (int i = 0; i < level; i++)
        reef_buf_puts(&c->pend, "  ");
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* kubectl's WriteEscaped: terminal control sequences cannot reach the terminal */
    for (int i = 0; i < n; i++) {
        if (s[i] == '\x1b')
            reef_buf_puts(&c->pend, "^[");
        else if (s[i] == '\r')
            reef_buf_puts(&c->pend, "\\r");
        else
            reef_buf_putc(&c->pend, s[i]);
    }
    free(s);
}

struct tw_cell {
    size_t off, len;
    int width;
};
struct tw_line {
    size_t first, n;
};
struct tw {
    const char *text;
    struct tw_cell *cells;
    struct tw_line *lines;
    size_t nlines;
    int *widths;
    struct reef_buf *out;
};

static int runes(const char *s, size_t n)
{
    int w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    return w;
}

static void tw_write(struct tw *t, size_t line0, size_t line1, size_t ncols)
{
    for (size_t i = line0; i < line1; i++) {
        const struct tw_line *l = &t->lines[i];
        for (size_t j = 0; j < l->n; j++) {
            const struct tw_cell *cl = &t->cells[l->first + j];
            reef_buf_append(t->out, t->text + cl->off, cl->len);
            if (j < ncols)
                for (int p = cl->width; p < t->widths[j]; p++)
                    reef_buf_putc(t->out, ' ');
        }
        if (i + 1 < t->nlines)
            reef_buf_putc(t->out, '\n');
    }
}

/* Go's tabwriter.format: a column block is a run of lines that have a cell in that column (a
 * line's last cell belongs to no column); each block is as wide as its widest cell plus 2. */
static void tw_format(struct tw *t, size_t line0, size_t line1, size_t column)
{
    for (size_t this = line0; this < line1; this++) {
        if (column + 1 >= t->lines[this].n)
            continue;
        tw_write(t, line0, this, column);
        line0 = this;
        int width = 0;
        for (; this < line1; this++) {
            const struct tw_line *l = &t->lines[this];
            if (column + 1 >= l->n)
                break;
            int w = t->cells[l->first + column].width + 2;
            if (w > width)
                width = w;
        }
        t->widths[column] = width;
        tw_format(t, line0, this, column + 1);
        line0 = this;
    }
    tw_write(t, line0, line1, column);
}

void reef__desc_flush(struct reef__desc *c)
{
    if (!c->pend.len)
        return;
    const char *s = c->pend.data;
    size_t n = c->pend.len, ncells = 1, nlines = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\t' || s[i] == '\n')
            ncells++;
        if (s[i] == '\n')
            nlines++;
    }
    struct tw t = {.text = s, .out = &c->out};
    t.cells = calloc(ncells, sizeof(*t.cells));
    t.lines = calloc(nlines, sizeof(*t.lines));
    t.widths = calloc(ncells + 1, sizeof(*t.widths));
    if (!t.cells || !t.lines || !t.widths) {
        reef_buf_append(&c->out, s, n);
        goto out;
    }
    size_t start = 0, nc = 0;
    t.lines[0].first = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\t' && s[i] != '\n')
            continue;
        /* the text after the last newline is a cell only when it is not empty, as Go's */
        if (i < n || i > start) {
            t.cells[nc] = (struct tw_cell){start, i - start, runes(s + start, i - start)};
            nc++;
            t.lines[t.nlines].n++;
        }
        start = i + 1;
        if (i < n && s[i] == '\n') {
            t.nlines++;
            t.lines[t.nlines].first = nc;
        }
    }
    t.nlines++;
    tw_format(&t, 0, t.nlines, 0);
out:
    free(t.cells);
    free(t.lines);
    free(t.widths);
    reef_buf_reset(&c->pend);
}

const char *reef__desc_keep(struct reef__desc *c, char *s)
{
    if (!s)
        return "";
    if (c->nstrs == c->cstrs) {
        size_t cap = c->cstrs ? c->cstrs * 2 : 64;
        char **n = realloc(c->strs, cap * sizeof(*n));
        if (!n) {
            free(s);
            return "";
        }
        c->strs = n;
        c->cstrs = cap;
    }
    c->strs[c->nstrs++] = s;
    return s;
}

void reef__desc_reset(struct reef__desc *c)
{
    for (size_t i = 0; i < c->nstrs; i++)
        free(c->strs[i]);
    c->nstrs = 0;
    reef_buf_reset(&c->pend);
    reef_buf_reset(&c->out);
}

/* ---- getters ---- */

int reef__dj(const struct reef_json_doc *d, int v, const char *path)
{
    if (!d || v < 0)
        return -1;
    int r = reef_json_find(d, v, path, NULL);
    if (r < 0 || reef_json_is_null(d, r))
        return -1;
    return r;
}

const char *reef__ds(struct reef__desc *c, const struct reef_json_doc *d, int v, const char *path)
{
    int x = reef__dj(d, v, path);
    if (x < 0)
        return "";
    enum reef_json_kind k = reef_json_kind(d, x);
    if (k == REEF_JSON_STRING) {
        const char *p;
        size_t n;
        if (reef_json_str_view(d, x, &p, &n) == 0)
            return reef__desc_keep(c, strndup(p, n));
        char *s = NULL;
        reef_json_get_strdup(d, x, &s, NULL);
        return reef__desc_keep(c, s);
    }
    if (k == REEF_JSON_NUMBER || k == REEF_JSON_BOOL) {
        size_t n;
        const char *raw = reef_json_raw(d, x, &n);
        return reef__desc_keep(c, strndup(raw, n));
    }
    return "";
}

int64_t reef__di(const struct reef_json_doc *d, int v, const char *path)
{
    int x = reef__dj(d, v, path);
    int64_t i = 0;
    if (x >= 0 && reef_json_get_int(d, x, &i, NULL) < 0)
        i = 0;
    return i;
}

bool reef__db(const struct reef_json_doc *d, int v, const char *path)
{
    int x = reef__dj(d, v, path);
    bool b = false;
    if (x >= 0 && reef_json_get_bool(d, x, &b, NULL) < 0)
        b = false;
    return b;
}

int reef__dn(const struct reef_json_doc *d, int v, const char *path)
{
    int x = reef__dj(d, v, path);
    if (x < 0)
        return 0;
    enum reef_json_kind k = reef_json_kind(d, x);
    if (k != REEF_JSON_ARRAY && k != REEF_JSON_OBJECT)
        return 0;
    int n = reef_json_count(d, x);
    return n > 0 ? n : 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **reef__desc_keys(struct reef__desc *c, const struct reef_json_doc *d, int v,
                             size_t *n)
{
    *n = 0;
    int cnt = v >= 0 && reef_json_kind(d, v) == REEF_JSON_OBJECT ? reef_json_count(d, v) : 0;
    const char **keys = calloc((size_t)(cnt > 0 ? cnt : 1), sizeof(*keys));
    if (!keys)
        return NULL;
    reef__desc_keep(c, (char *)keys);
    struct reef_json_iter it = reef_json_iter(d, v);
    while (cnt > 0 && reef_json_next(d, &it) && *n < (size_t)cnt) {
        char *k = NULL;
        reef_json_get_strdup(d, it.key, &k, NULL);
        keys[(*n)++] = reef__desc_keep(c, k);
    }
    qsort(keys, *n, sizeof(*keys), str_cmp);
    return keys;
}

/* ---- times ---- */

const char *reef__desc_time(struct reef__desc *c, const struct reef_json_doc *d, int v,
                            const char *path)
{
    const char *s = reef__ds(c, d, v, path);
    int64_t ms;
    if (!*s || reef_table_parse_time(s, strlen(s), &ms) < 0)
        return "Mon, 01 Jan 0001 00:00:00 +0000";
    /* Go's time.Time.Local(): kubectl prints times in the local zone */
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    char buf[64];
    localtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S %z", &tm);
    return reef__desc_keep(c, strdup(buf));
}

static const char *since_ms(struct reef__desc *c, const char *s)
{
    int64_t ms;
    if (!*s || reef_table_parse_time(s, strlen(s), &ms) < 0)
        return "<unknown>";
    char buf[32];
    reef_table_human_duration(c->now_ms - ms, buf, sizeof(buf));
    return reef__desc_keep(c, strdup(buf));
}

const char *reef__desc_since(struct reef__desc *c, const struct reef_json_doc *d, int v,
                             const char *path)
{
    return since_ms(c, reef__ds(c, d, v, path));
}

/* ---- shared sections ---- */

static const char *val_text(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    enum reef_json_kind k = reef_json_kind(d, v);
    if (k == REEF_JSON_STRING) {
        char *s = NULL;
        reef_json_get_strdup(d, v, &s, NULL);
        return reef__desc_keep(c, s);
    }
    size_t n;
    const char *raw = reef_json_raw(d, v, &n);
    return raw ? reef__desc_keep(c, strndup(raw, n)) : "";
}

void reef__desc_labels(struct reef__desc *c, const char *title, const struct reef_json_doc *d,
                       int map)
{
    reef__desc_w(c, 0, "%s:\t", title);
    size_t n;
    const char **keys = reef__desc_keys(c, d, map, &n);
    if (!keys || n == 0) {
        reef__desc_w(c, 0, "<none>\n");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i)
            reef__desc_w(c, 0, "\t");
        int v = reef_json_member(d, map, keys[i]);
        reef__desc_w(c, 0, "%s=%s\n", keys[i], v >= 0 ? val_text(c, d, v) : "");
    }
}

void reef__desc_annotations(struct reef__desc *c, const char *title,
                            const struct reef_json_doc *d, int map)
{
    reef__desc_w(c, 0, "%s:\t", title);
    size_t n, shown = 0;
    const char **keys = reef__desc_keys(c, d, map, &n);
    for (size_t i = 0; keys && i < n; i++) {
        if (strcmp(keys[i], "kubectl.kubernetes.io/last-applied-configuration") == 0)
            continue;
        if (shown++)
            reef__desc_w(c, 0, "\t");
        int v = reef_json_member(d, map, keys[i]);
        char *value = strdup(v >= 0 ? val_text(c, d, v) : "");
        if (!value)
            return;
        reef__desc_keep(c, value);
        size_t len = strlen(value);
        if (len && value[len - 1] == '\n')
            value[--len] = 0;
        if (len + strlen(keys[i]) + 2 > 140 || strchr(value, '\n')) {
            reef__desc_w(c, 0, "%s:\n", keys[i]);
            for (char *line = value;;) {
                char *nl = strchr(line, '\n');
                size_t ll = nl ? (size_t)(nl - line) : strlen(line);
                /* shortened to 138 bytes, as kubectl's shorten() */
                if (ll > 138)
                    reef__desc_w(c, 0, "\t  %.*s...\n", 138, line);
                else
                    reef__desc_w(c, 0, "\t  %.*s\n", (int)ll, line);
                if (!nl)
                    break;
                line = nl + 1;
            }
        } else {
            reef__desc_w(c, 0, "%s: %s\n", keys[i], value);
        }
    }
    if (!shown)
        reef__desc_w(c, 0, "<none>\n");
}

int reef__desc_get(struct reef__desc *c, const char *path, char **body, struct reef_json_doc *d)
{
    struct reef_http_result res = {0};
    struct reef_err err = {0};
    *body = NULL;
    int rc = reef_kube_do(c->k, "GET", path, "application/json", NULL, NULL, 0, &res, &err);
    if (rc < 0)
        return rc;
    if (res.status >= 300) {
        rc = res.status;
        reef_http_result_free(&res);
        return rc;
    }
    *body = res.body;
    res.body = NULL;
    size_t len = res.body_len;
    reef_http_result_free(&res);
    if (!*body || reef_json_parse(d, *body, len, NULL, NULL) < 0) {
        free(*body);
        *body = NULL;
        return -EINVAL;
    }
    return 0;
}

/* One event list: its body and document, and the events in the order kubectl prints them. */
struct evlist {
    char *body[2];
    struct reef_json_doc d[2];
    struct ev {
        const struct reef_json_doc *d;
        int v;
        int64_t last; /* lastTimestamp in ms, 0 when missing */
    } *e;
    size_t n;
};

static void events_fetch(struct reef__desc *c, struct evlist *l, int slot, const char *ns,
                         const char *sel)
{
    struct reef_buf path;
    reef_buf_init(&path);
    reef_buf_puts(&path, "/api/v1");
    if (ns && *ns) {
        reef_buf_puts(&path, "/namespaces/");
        reef_kube_escape(&path, ns);
    }
    reef_buf_puts(&path, "/events?fieldSelector=");
    reef_kube_escape(&path, sel);
    reef_buf_puts(&path, "&limit=500");
    l->d[slot] = (struct reef_json_doc)REEF_JSON_DOC_INIT;
    if (reef__desc_get(c, path.data, &l->body[slot], &l->d[slot]) == 0) {
        int items = reef__dj(&l->d[slot], REEF_JSON_ROOT, "items");
        int cnt = reef__dn(&l->d[slot], REEF_JSON_ROOT, "items");
        struct ev *e = realloc(l->e, (l->n + (size_t)cnt + 1) * sizeof(*e));
        if (e) {
            l->e = e;
            struct reef_json_iter it = reef_json_iter(&l->d[slot], items);
            while (items >= 0 && reef_json_next(&l->d[slot], &it)) {
                int64_t ms = 0;
                const char *ts = reef__ds(c, &l->d[slot], it.val, "lastTimestamp");
                if (*ts)
                    reef_table_parse_time(ts, strlen(ts), &ms);
                l->e[l->n++] = (struct ev){&l->d[slot], it.val, ms};
            }
        }
    }
    reef_buf_free(&path);
}

/* field selector escaping of fields.Set values (backslash, comma, equals) */
static void sel_term(struct reef_buf *b, const char *key, const char *val)
{
    if (b->len)
        reef_buf_putc(b, ',');
    reef_buf_printf(b, "%s=", key);
    for (const char *p = val; *p; p++) {
        if (*p == '\\' || *p == ',' || *p == '=')
            reef_buf_putc(b, '\\');
        reef_buf_putc(b, *p);
    }
}

static void events_print(struct reef__desc *c, struct evlist *l)
{
    if (l->n == 0) {
        reef__desc_w(c, 0, "Events:\t<none>\n");
        return;
    }
    reef__desc_flush(c);
    /* sort.Sort by lastTimestamp: Go sorts this few elements by insertion, which keeps ties in
     * the order the server gave them */
    for (size_t i = 1; i < l->n; i++)
        for (size_t j = i; j > 0 && l->e[j].last < l->e[j - 1].last; j--) {
            struct ev t = l->e[j];
            l->e[j] = l->e[j - 1];
            l->e[j - 1] = t;
        }
    reef__desc_w(c, 0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    reef__desc_w(c, 1, "----\t------\t----\t----\t-------\n");
    for (size_t i = 0; i < l->n; i++) {
        const struct reef_json_doc *d = l->e[i].d;
        int v = l->e[i].v;
        const char *first = reef__ds(c, d, v, "eventTime");
        first = *first ? since_ms(c, first) : reef__desc_since(c, d, v, "firstTimestamp");
        char *interval = NULL;
        int count = (int)reef__di(d, v, "count");
        if (reef__dj(d, v, "series") >= 0) {
            if (asprintf(&interval, "%s (x%d over %s)",
                         reef__desc_since(c, d, v, "series.lastObservedTime"),
                         (int)reef__di(d, v, "series.count"), first) < 0)
                interval = NULL;
        } else if (count > 1) {
            if (asprintf(&interval, "%s (x%d over %s)", reef__desc_since(c, d, v, "lastTimestamp"),
                         count, first) < 0)
                interval = NULL;
        } else {
            interval = strdup(first);
        }
        const char *source = reef__ds(c, d, v, "source.component");
        if (!*source)
            source = reef__ds(c, d, v, "reportingComponent");
        /* strings.TrimSpace of the message */
        const char *m = reef__ds(c, d, v, "message");
        while (*m == ' ' || *m == '\t' || *m == '\n' || *m == '\r' || *m == '\v' || *m == '\f')
            m++;
        size_t ml = strlen(m);
        while (ml && strchr(" \t\n\r\v\f", m[ml - 1]))
            ml--;
        reef__desc_w(c, 1, "%s\t%s\t%s\t%s\t%.*s\n", reef__ds(c, d, v, "type"),
                     reef__ds(c, d, v, "reason"), reef__desc_keep(c, interval), source, (int)ml, m);
    }
}

static void evlist_free(struct evlist *l)
{
    for (int i = 0; i < 2; i++) {
        reef_json_doc_free(&l->d[i]);
        free(l->body[i]);
    }
    free(l->e);
}

void reef__desc_events(struct reef__desc *c, const struct reef_json_doc *d, int v,
                       const char *kind, const char *uid)
{
    if (!c->show_events)
        return;
    const char *name = reef__ds(c, d, v, "metadata.name");
    const char *ns = reef__ds(c, d, v, "metadata.namespace");
    if (!uid)
        uid = reef__ds(c, d, v, "metadata.uid");
    struct evlist l = {0};
    struct reef_buf sel;
    reef_buf_init(&sel);
    /* fields.Set.AsSelector: the terms sorted by key */
    if (kind)
        sel_term(&sel, "involvedObject.kind", kind);
    sel_term(&sel, "involvedObject.name", name);
    sel_term(&sel, "involvedObject.namespace", ns);
    if (*uid)
        sel_term(&sel, "involvedObject.uid", uid);
    events_fetch(c, &l, 0, ns, sel.data);
    if (kind && strcmp(kind, "Node") == 0) {
        /* the kubelet names a node's events by the node's name instead of its uid */
        reef_buf_reset(&sel);
        sel_term(&sel, "involvedObject.kind", kind);
        sel_term(&sel, "involvedObject.name", name);
        sel_term(&sel, "involvedObject.namespace", ns);
        sel_term(&sel, "involvedObject.uid", name);
        events_fetch(c, &l, 1, ns, sel.data);
    }
    events_print(c, &l);
    reef_buf_free(&sel);
    evlist_free(&l);
}

/* ---- the generic describer (events, leases): printUnstructuredContent ---- */

static bool is_upper(char ch)
{
    return ch >= 'A' && ch <= 'Z';
}
static bool is_lower(char ch)
{
    return ch >= 'a' && ch <= 'z';
}

/* smartLabelFor: "apiVersion" -> "API Version", split as fatih/camelcase splits */
static const char *smart_label(struct reef__desc *c, const char *f)
{
    for (const char *p = f; *p; p++)
        if (!is_upper(*p) && !is_lower(*p) && *p != '-')
            return f;
    size_t n = strlen(f);
    if (!n)
        return f;
    /* split into runs of one class: lower, upper, other */
    char **parts = calloc(n, sizeof(*parts));
    if (!parts)
        return f;
    size_t np = 0;
    for (size_t i = 0; i < n;) {
        int cls = is_lower(f[i]) ? 1 : is_upper(f[i]) ? 2 : 4;
        size_t j = i;
        while (j < n && (is_lower(f[j]) ? 1 : is_upper(f[j]) ? 2 : 4) == cls)
            j++;
        parts[np++] = strndup(f + i, j - i);
        i = j;
    }
    /* an upper-case run followed by a lower-case one gives its last letter away: PDFLoader */
    for (size_t i = 0; i + 1 < np; i++) {
        if (!parts[i] || !parts[i + 1] || !is_upper(parts[i][0]) || !is_lower(parts[i + 1][0]))
            continue;
        size_t l = strlen(parts[i]);
        char *m = NULL;
        if (asprintf(&m, "%c%s", parts[i][l - 1], parts[i + 1]) < 0)
            continue;
        free(parts[i + 1]);
        parts[i + 1] = m;
        parts[i][l - 1] = 0;
    }
    struct reef_buf b;
    reef_buf_init(&b);
    static const char *const acronyms[] = {"API", "URL", "UID", "OSB", "GUID"};
    bool first = true;
    for (size_t i = 0; i < np; i++) {
        char *p = parts[i];
        if (!p || !*p) {
            free(p);
            continue;
        }
        char up[64];
        snprintf(up, sizeof(up), "%s", p);
        for (char *q = up; *q; q++)
            if (is_lower(*q))
                *q = (char)(*q - 'a' + 'A');
        bool acr = false;
        for (size_t a = 0; a < sizeof(acronyms) / sizeof(acronyms[0]); a++)
            acr = acr || strcmp(up, acronyms[a]) == 0;
        if (!first)
            reef_buf_putc(&b, ' ');
        first = false;
        if (acr)
            reef_buf_puts(&b, up);
        else {
            if (is_lower(p[0]))
                p[0] = (char)(p[0] - 'a' + 'A');
            reef_buf_puts(&b, p);
        }
        free(p);
    }
    free(parts);
    return reef__desc_keep(c, reef_buf_steal(&b));
}

/* Go's %v of a decoded JSON value: maps as map[k:v] (keys sorted), slices as [a b] */
static void govalue(struct reef__desc *c, struct reef_buf *b, const struct reef_json_doc *d,
                    int v)
{
    switch (reef_json_kind(d, v)) {
    case REEF_JSON_NULL:
        reef_buf_puts(b, "<nil>");
        break;
    case REEF_JSON_ARRAY: {
        reef_buf_putc(b, '[');
        struct reef_json_iter it = reef_json_iter(d, v);
        while (reef_json_next(d, &it)) {
            if (it.index)
                reef_buf_putc(b, ' ');
            govalue(c, b, d, it.val);
        }
        reef_buf_putc(b, ']');
        break;
    }
    case REEF_JSON_OBJECT: {
        size_t n;
        const char **keys = reef__desc_keys(c, d, v, &n);
        reef_buf_puts(b, "map[");
        for (size_t i = 0; keys && i < n; i++) {
            reef_buf_printf(b, "%s%s:", i ? " " : "", keys[i]);
            govalue(c, b, d, reef_json_member(d, v, keys[i]));
        }
        reef_buf_putc(b, ']');
        break;
    }
    default:
        reef_buf_puts(b, val_text(c, d, v));
    }
}

static void unstructured(struct reef__desc *c, int level, const struct reef_json_doc *d, int obj,
                         const char *prefix)
{
    static const char *const skip[] = {".metadata.managedFields", ".metadata.name",
                                       ".metadata.namespace", ".metadata.labels",
                                       ".metadata.annotations"};
    size_t n;
    const char **keys = reef__desc_keys(c, d, obj, &n);
    for (size_t i = 0; keys && i < n; i++) {
        int v = reef_json_member(d, obj, keys[i]);
        char *expr = NULL;
        if (asprintf(&expr, "%s.%s", prefix, keys[i]) < 0)
            return;
        reef__desc_keep(c, expr);
        bool skipped = false;
        for (size_t s = 0; s < sizeof(skip) / sizeof(skip[0]); s++)
            skipped = skipped || strcmp(skip[s], expr) == 0;
        if (skipped)
            continue;
        enum reef_json_kind k = reef_json_kind(d, v);
        if (k == REEF_JSON_OBJECT) {
            reef__desc_w(c, level, "%s:\n", smart_label(c, keys[i]));
            unstructured(c, level + 1, d, v, expr);
        } else if (k == REEF_JSON_ARRAY) {
            reef__desc_w(c, level, "%s:\n", smart_label(c, keys[i]));
            struct reef_json_iter it = reef_json_iter(d, v);
            while (reef_json_next(d, &it)) {
                if (reef_json_kind(d, it.val) == REEF_JSON_OBJECT) {
                    unstructured(c, level + 1, d, it.val, expr);
                } else {
                    struct reef_buf b;
                    reef_buf_init(&b);
                    govalue(c, &b, d, it.val);
                    reef__desc_w(c, level + 1, "%s\n", b.data ? b.data : "");
                    reef_buf_free(&b);
                }
            }
        } else {
            struct reef_buf b;
            reef_buf_init(&b);
            govalue(c, &b, d, v);
            reef__desc_w(c, level, "%s:\t%s\n", smart_label(c, keys[i]), b.data ? b.data : "");
            reef_buf_free(&b);
        }
    }
}

static void describe_generic(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    unstructured(c, 0, d, v, "");
    reef__desc_events(c, d, v, reef__ds(c, d, v, "kind"), NULL);
}

/* ---- simple kinds ---- */

static void describe_namespace(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    const char *name = reef__ds(c, d, v, "metadata.name");
    reef__desc_w(c, 0, "Name:\t%s\n", name);
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    reef__desc_w(c, 0, "Status:\t%s\n", reef__ds(c, d, v, "status.phase"));
    int conds = reef__dj(d, v, "status.conditions");
    if (reef__dn(d, v, "status.conditions") > 0) {
        reef__desc_w(c, 0, "Conditions:\n");
        reef__desc_w(c, 1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n");
        reef__desc_w(c, 1, "----\t------\t------------------\t------\t-------\n");
        struct reef_json_iter it = reef_json_iter(d, conds);
        while (reef_json_next(d, &it))
            reef__desc_w(c, 1, "%s\t%s\t%s\t%s\t%s\n", reef__ds(c, d, it.val, "type"),
                         reef__ds(c, d, it.val, "status"),
                         reef__desc_time(c, d, it.val, "lastTransitionTime"),
                         reef__ds(c, d, it.val, "reason"), reef__ds(c, d, it.val, "message"));
    }
    /* quotas and limit ranges: kubectl shows their sections only when the server serves them */
    static const char *const lists[] = {"resourcequotas", "limitranges"};
    for (int i = 0; i < 2; i++) {
        struct reef_buf path;
        reef_buf_init(&path);
        reef_buf_puts(&path, "/api/v1/namespaces/");
        reef_kube_escape(&path, name);
        reef_buf_printf(&path, "/%s?limit=500", lists[i]);
        char *body = NULL;
        struct reef_json_doc ld = REEF_JSON_DOC_INIT;
        int rc = reef__desc_get(c, path.data, &body, &ld);
        if (rc == 0 && reef__dn(&ld, REEF_JSON_ROOT, "items") == 0) {
            reef__desc_w(c, 0, "\n");
            reef__desc_w(c, 0, "%s", i == 0 ? "No resource quota.\n" : "No LimitRange resource.\n");
        }
        reef_json_doc_free(&ld);
        free(body);
        reef_buf_free(&path);
    }
}

static void describe_secret(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    const char *type = reef__ds(c, d, v, "type");
    reef__desc_w(c, 0, "\nType:\t%s\n", type);
    reef__desc_w(c, 0, "\nData\n====\n");
    int data = reef__dj(d, v, "data");
    size_t n;
    /* kubectl walks a Go map (random order); reef sorts the keys */
    const char **keys = reef__desc_keys(c, d, data, &n);
    for (size_t i = 0; keys && i < n; i++) {
        struct reef_buf raw;
        reef_buf_init(&raw);
        const char *b64 = reef__ds(c, d, data, "");
        (void)b64;
        int x = reef_json_member(d, data, keys[i]);
        char *s = NULL;
        if (x >= 0)
            reef_json_get_strdup(d, x, &s, NULL);
        size_t len = 0, pad = 0;
        if (s) {
            size_t l = strlen(s);
            for (size_t j = l; j > 0 && s[j - 1] == '='; j--)
                pad++;
            len = (l / 4) * 3 + (l % 4 ? (l % 4) - 1 : 0);
            if (l % 4 == 0)
                len -= pad;
        }
        if (strcmp(keys[i], "token") == 0 && strcmp(type, "kubernetes.io/service-account-token") == 0)
            reef__desc_w(c, 0, "%s:\t%s\n", keys[i], s ? s : "");
        else
            reef__desc_w(c, 0, "%s:\t%zu bytes\n", keys[i], len);
        free(s);
        reef_buf_free(&raw);
    }
}

static void describe_configmap(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    reef__desc_w(c, 0, "\nData\n====\n");
    int data = reef__dj(d, v, "data");
    size_t n;
    /* kubectl walks a Go map (random order); reef sorts the keys */
    const char **keys = reef__desc_keys(c, d, data, &n);
    for (size_t i = 0; keys && i < n; i++) {
        reef__desc_w(c, 0, "%s:\n----\n", keys[i]);
        reef__desc_w(c, 0, "%s\n", val_text(c, d, reef_json_member(d, data, keys[i])));
        reef__desc_w(c, 0, "\n");
    }
    reef__desc_w(c, 0, "\nBinaryData\n====\n");
    data = reef__dj(d, v, "binaryData");
    keys = reef__desc_keys(c, d, data, &n);
    for (size_t i = 0; keys && i < n; i++) {
        /* the decoded length of the base64 text */
        const char *s = val_text(c, d, reef_json_member(d, data, keys[i]));
        size_t l = strlen(s), pad = 0;
        for (size_t j = l; j > 0 && s[j - 1] == '='; j--)
            pad++;
        size_t len = (l / 4) * 3 + (l % 4 ? (l % 4) - 1 : 0);
        if (l % 4 == 0)
            len -= pad;
        reef__desc_w(c, 0, "%s: %zu bytes\n", keys[i], len);
    }
    reef__desc_w(c, 0, "\n");
    reef__desc_events(c, d, v, "ConfigMap", NULL);
}

static void describe_endpoints(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    reef__desc_w(c, 0, "Subsets:\n");
    struct reef_json_iter it = reef_json_iter(d, reef__dj(d, v, "subsets"));
    while (reef__dj(d, v, "subsets") >= 0 && reef_json_next(d, &it)) {
        static const char *const which[] = {"addresses", "notReadyAddresses"};
        static const char *const title[] = {"Addresses", "NotReadyAddresses"};
        for (int w = 0; w < 2; w++) {
            struct reef_buf b;
            reef_buf_init(&b);
            int a = reef__dj(d, it.val, which[w]);
            struct reef_json_iter ai = reef_json_iter(d, a);
            while (a >= 0 && reef_json_next(d, &ai))
                reef_buf_printf(&b, "%s%s", ai.index ? "," : "", reef__ds(c, d, ai.val, "ip"));
            reef__desc_w(c, 1, "%s:\t%s\n", title[w], b.len ? b.data : "<none>");
            reef_buf_free(&b);
        }
        int ports = reef__dj(d, it.val, "ports");
        if (reef__dn(d, it.val, "ports") > 0) {
            reef__desc_w(c, 1, "Ports:\n");
            reef__desc_w(c, 2, "Name\tPort\tProtocol\n");
            reef__desc_w(c, 2, "----\t----\t--------\n");
            struct reef_json_iter pi = reef_json_iter(d, ports);
            while (reef_json_next(d, &pi)) {
                const char *name = reef__ds(c, d, pi.val, "name");
                reef__desc_w(c, 2, "%s\t%lld\t%s\n", *name ? name : "<unset>",
                             (long long)reef__di(d, pi.val, "port"),
                             reef__ds(c, d, pi.val, "protocol"));
            }
        }
        reef__desc_w(c, 0, "\n");
    }
    reef__desc_events(c, d, v, "Endpoints", NULL);
}

/* formatEndpointSlices for one service port name: ready addresses as host:port, three at most */
static const char *service_endpoints(struct reef__desc *c, const struct reef_json_doc *sd,
                                     int items, const char *port_name)
{
    if (reef_json_count(sd, items) <= 0)
        return "<none>";
    struct reef_buf b;
    reef_buf_init(&b);
    int listed = 0, count = 0;
    bool more = false;
    struct reef_json_iter si = reef_json_iter(sd, items);
    while (reef_json_next(sd, &si)) {
        int eps = reef__dj(sd, si.val, "endpoints");
        int ports = reef__dj(sd, si.val, "ports");
        int np = reef__dn(sd, si.val, "ports");
        for (int p = 0; p < (np ? np : 1); p++) {
            int port = np ? reef_json_index(sd, ports, (size_t)p) : -1;
            if (np && strcmp(reef__ds(c, sd, port, "name"), port_name) != 0)
                continue;
            struct reef_json_iter ei = reef_json_iter(sd, eps);
            while (eps >= 0 && reef_json_next(sd, &ei)) {
                if (listed == 3)
                    more = true;
                int ready = reef__dj(sd, ei.val, "conditions.ready");
                if (ready >= 0 && !reef__db(sd, ei.val, "conditions.ready"))
                    continue;
                if (!more) {
                    const char *addr = reef__ds(c, sd, ei.val, "addresses[0]");
                    if (!np)
                        reef_buf_printf(&b, "%s%s", listed ? "," : "", addr);
                    else if (strchr(addr, ':'))
                        reef_buf_printf(&b, "%s[%s]:%lld", listed ? "," : "", addr,
                                        (long long)reef__di(sd, port, "port"));
                    else
                        reef_buf_printf(&b, "%s%s:%lld", listed ? "," : "", addr,
                                        (long long)reef__di(sd, port, "port"));
                    listed++;
                }
                count++;
            }
        }
    }
    if (more)
        reef_buf_printf(&b, " + %d more...", count - 3);
    if (!b.data)
        return "";
    return reef__desc_keep(c, reef_buf_steal(&b));
}

static const char *join_strings(struct reef__desc *c, const struct reef_json_doc *d, int arr,
                                const char *sep)
{
    struct reef_buf b;
    reef_buf_init(&b);
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (arr >= 0 && reef_json_next(d, &it))
        reef_buf_printf(&b, "%s%s", it.index ? sep : "", val_text(c, d, it.val));
    if (!b.data)
        return "";
    return reef__desc_keep(c, reef_buf_steal(&b));
}

static const char *or_unset(struct reef__desc *c, const struct reef_json_doc *d, int v,
                            const char *path)
{
    return reef__dj(d, v, path) >= 0 ? reef__ds(c, d, v, path) : "<unset>";
}

static void describe_endpointslice(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    reef__desc_w(c, 0, "AddressType:\t%s\n", reef__ds(c, d, v, "addressType"));
    if (reef__dn(d, v, "ports") <= 0) {
        reef__desc_w(c, 0, "Ports: <unset>\n");
    } else {
        reef__desc_w(c, 0, "Ports:\n");
        reef__desc_w(c, 1, "Name\tPort\tProtocol\n");
        reef__desc_w(c, 1, "----\t----\t--------\n");
        struct reef_json_iter it = reef_json_iter(d, reef__dj(d, v, "ports"));
        while (reef_json_next(d, &it)) {
            const char *name = reef__ds(c, d, it.val, "name");
            reef__desc_w(c, 1, "%s\t%s\t%s\n", *name ? name : "<unset>",
                         or_unset(c, d, it.val, "port"), reef__ds(c, d, it.val, "protocol"));
        }
    }
    if (reef__dn(d, v, "endpoints") <= 0) {
        reef__desc_w(c, 0, "Endpoints: <none>\n");
    } else {
        reef__desc_w(c, 0, "Endpoints:\n");
        struct reef_json_iter it = reef_json_iter(d, reef__dj(d, v, "endpoints"));
        while (reef_json_next(d, &it)) {
            const char *a = join_strings(c, d, reef__dj(d, it.val, "addresses"), ", ");
            reef__desc_w(c, 1, "- Addresses:\t%s\n", *a ? a : "<none>");
            reef__desc_w(c, 2, "Conditions:\n");
            reef__desc_w(c, 3, "Ready:\t%s\n", or_unset(c, d, it.val, "conditions.ready"));
            reef__desc_w(c, 2, "Hostname:\t%s\n", or_unset(c, d, it.val, "hostname"));
            if (reef__dj(d, it.val, "targetRef") >= 0)
                reef__desc_w(c, 2, "TargetRef:\t%s/%s\n", reef__ds(c, d, it.val, "targetRef.kind"),
                             reef__ds(c, d, it.val, "targetRef.name"));
            reef__desc_w(c, 2, "NodeName:\t%s\n", or_unset(c, d, it.val, "nodeName"));
            reef__desc_w(c, 2, "Zone:\t%s\n", or_unset(c, d, it.val, "zone"));
        }
    }
    reef__desc_events(c, d, v, "EndpointSlice", NULL);
}

static void describe_service(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    const char *name = reef__ds(c, d, v, "metadata.name");
    const char *ns = reef__ds(c, d, v, "metadata.namespace");
    reef__desc_w(c, 0, "Name:\t%s\n", name);
    reef__desc_w(c, 0, "Namespace:\t%s\n", ns);
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    /* labels.FormatLabels: k=v sorted, "<none>" when empty */
    int sel = reef__dj(d, v, "spec.selector");
    size_t n;
    const char **keys = reef__desc_keys(c, d, sel, &n);
    struct reef_buf b;
    reef_buf_init(&b);
    for (size_t i = 0; keys && i < n; i++)
        reef_buf_printf(&b, "%s%s=%s", i ? "," : "", keys[i],
                        val_text(c, d, reef_json_member(d, sel, keys[i])));
    reef__desc_w(c, 0, "Selector:\t%s\n", b.len ? b.data : "<none>");
    reef_buf_free(&b);
    reef__desc_w(c, 0, "Type:\t%s\n", reef__ds(c, d, v, "spec.type"));
    if (reef__dj(d, v, "spec.ipFamilyPolicy") >= 0)
        reef__desc_w(c, 0, "IP Family Policy:\t%s\n", reef__ds(c, d, v, "spec.ipFamilyPolicy"));
    if (reef__dn(d, v, "spec.ipFamilies") > 0)
        reef__desc_w(c, 0, "IP Families:\t%s\n",
                     join_strings(c, d, reef__dj(d, v, "spec.ipFamilies"), ","));
    else
        reef__desc_w(c, 0, "IP Families:\t<none>\n");
    reef__desc_w(c, 0, "IP:\t%s\n", reef__ds(c, d, v, "spec.clusterIP"));
    if (reef__dn(d, v, "spec.clusterIPs") > 0)
        reef__desc_w(c, 0, "IPs:\t%s\n", join_strings(c, d, reef__dj(d, v, "spec.clusterIPs"), ","));
    else
        reef__desc_w(c, 0, "IPs:\t<none>\n");
    if (reef__dn(d, v, "spec.externalIPs") > 0)
        reef__desc_w(c, 0, "External IPs:\t%s\n",
                     join_strings(c, d, reef__dj(d, v, "spec.externalIPs"), ","));
    if (*reef__ds(c, d, v, "spec.loadBalancerIP"))
        reef__desc_w(c, 0, "Desired LoadBalancer IP:\t%s\n",
                     reef__ds(c, d, v, "spec.loadBalancerIP"));
    if (*reef__ds(c, d, v, "spec.externalName"))
        reef__desc_w(c, 0, "External Name:\t%s\n", reef__ds(c, d, v, "spec.externalName"));
    int ing = reef__dj(d, v, "status.loadBalancer.ingress");
    if (reef__dn(d, v, "status.loadBalancer.ingress") > 0) {
        reef_buf_init(&b);
        struct reef_json_iter it = reef_json_iter(d, ing);
        while (reef_json_next(d, &it)) {
            if (it.index)
                reef_buf_puts(&b, ", ");
            const char *ip = reef__ds(c, d, it.val, "ip");
            if (*ip) {
                reef_buf_puts(&b, ip);
                if (reef__dj(d, it.val, "ipMode") >= 0)
                    reef_buf_printf(&b, " (%s)", reef__ds(c, d, it.val, "ipMode"));
            } else {
                reef_buf_puts(&b, reef__ds(c, d, it.val, "hostname"));
            }
        }
        reef__desc_w(c, 0, "LoadBalancer Ingress:\t%s\n", b.data ? b.data : "");
        reef_buf_free(&b);
    }
    /* the service's endpoint slices, by their service-name label */
    struct reef_buf path;
    reef_buf_init(&path);
    reef_buf_puts(&path, "/apis/discovery.k8s.io/v1/namespaces/");
    reef_kube_escape(&path, ns);
    reef_buf_puts(&path, "/endpointslices?labelSelector=");
    char *lsel = NULL;
    if (asprintf(&lsel, "kubernetes.io/service-name=%s", name) >= 0)
        reef_kube_escape(&path, lsel);
    free(lsel);
    char *body = NULL;
    struct reef_json_doc sd = REEF_JSON_DOC_INIT;
    int items = -1;
    if (reef__desc_get(c, path.data, &body, &sd) == 0)
        items = reef__dj(&sd, REEF_JSON_ROOT, "items");
    reef_buf_free(&path);
    struct reef_json_iter it = reef_json_iter(d, reef__dj(d, v, "spec.ports"));
    while (reef__dj(d, v, "spec.ports") >= 0 && reef_json_next(d, &it)) {
        const char *pn = reef__ds(c, d, it.val, "name");
        const char *proto = reef__ds(c, d, it.val, "protocol");
        reef__desc_w(c, 0, "Port:\t%s\t%lld/%s\n", *pn ? pn : "<unset>",
                     (long long)reef__di(d, it.val, "port"), proto);
        int tp = reef__dj(d, it.val, "targetPort");
        if (tp < 0 || reef_json_kind(d, tp) == REEF_JSON_NUMBER)
            reef__desc_w(c, 0, "TargetPort:\t%lld/%s\n", (long long)reef__di(d, it.val, "targetPort"),
                         proto);
        else
            reef__desc_w(c, 0, "TargetPort:\t%s/%s\n", reef__ds(c, d, it.val, "targetPort"), proto);
        if (reef__di(d, it.val, "nodePort"))
            reef__desc_w(c, 0, "NodePort:\t%s\t%lld/%s\n", *pn ? pn : "<unset>",
                         (long long)reef__di(d, it.val, "nodePort"), proto);
        reef__desc_w(c, 0, "Endpoints:\t%s\n",
                     items >= 0 ? service_endpoints(c, &sd, items, pn) : "<none>");
    }
    reef_json_doc_free(&sd);
    free(body);
    reef__desc_w(c, 0, "Session Affinity:\t%s\n", reef__ds(c, d, v, "spec.sessionAffinity"));
    if (*reef__ds(c, d, v, "spec.externalTrafficPolicy"))
        reef__desc_w(c, 0, "External Traffic Policy:\t%s\n",
                     reef__ds(c, d, v, "spec.externalTrafficPolicy"));
    if (reef__dj(d, v, "spec.internalTrafficPolicy") >= 0)
        reef__desc_w(c, 0, "Internal Traffic Policy:\t%s\n",
                     reef__ds(c, d, v, "spec.internalTrafficPolicy"));
    if (reef__di(d, v, "spec.healthCheckNodePort"))
        reef__desc_w(c, 0, "HealthCheck NodePort:\t%lld\n",
                     (long long)reef__di(d, v, "spec.healthCheckNodePort"));
    if (reef__dn(d, v, "spec.loadBalancerSourceRanges") > 0)
        reef__desc_w(c, 0, "LoadBalancer Source Ranges:\t%s\n",
                     join_strings(c, d, reef__dj(d, v, "spec.loadBalancerSourceRanges"), ","));
    reef__desc_events(c, d, v, "Service", NULL);
}

/* ---- the command ---- */

struct describe_opts {
    const char *kcfg, *ns, *selector;
    bool all_ns;
};

/* Describes object d (the answer to a GET of it) of type t into c->out. */
static void describe_object(struct reef__desc *c, const struct reef_kube_type *t,
                            const struct reef_json_doc *d)
{
    int v = REEF_JSON_ROOT;
    const char *k = t->kind;
    if (strcmp(k, "Pod") == 0)
        reef__describe_pod(c, d, v);
    else if (strcmp(k, "Deployment") == 0)
        reef__describe_deployment(c, d, v);
    else if (strcmp(k, "ReplicaSet") == 0)
        reef__describe_replicaset(c, d, v);
    else if (strcmp(k, "Node") == 0)
        reef__describe_node(c, d, v);
    else if (strcmp(k, "Service") == 0)
        describe_service(c, d, v);
    else if (strcmp(k, "Namespace") == 0)
        describe_namespace(c, d, v);
    else if (strcmp(k, "ConfigMap") == 0)
        describe_configmap(c, d, v);
    else if (strcmp(k, "Secret") == 0)
        describe_secret(c, d, v);
    else if (strcmp(k, "Endpoints") == 0)
        describe_endpoints(c, d, v);
    else if (strcmp(k, "EndpointSlice") == 0)
        describe_endpointslice(c, d, v);
    else
        describe_generic(c, d, v);
    reef__desc_flush(c);
}

/* GETs and describes one object. Returns 0 and leaves the text in c->out; 404 with *res kept for
 * the caller (not printed); 1 after printing another error. */
static int describe_one(struct reef__desc *c, const struct reef_kube_type *t, const char *ns,
                        const char *name, struct reef_http_result *res)
{
    struct reef_buf path;
    reef_buf_init(&path);
    reef_kube_path(&path, t, ns, name);
    struct reef_err err = {0};
    int rc = reef_kube_do(c->k, "GET", path.data, "application/json", NULL, NULL, 0, res, &err);
    reef_buf_free(&path);
    if (rc < 0)
        return reef_kube_fail(err.msg);
    if (res->status == 404)
        return 404;
    if (res->status >= 300) {
        reef_kube_print_status(res);
        return 1;
    }
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, res->body, res->body_len, NULL, NULL) < 0)
        return reef_kube_fail("the server's answer is not JSON");
    describe_object(c, t, &d);
    reef_json_doc_free(&d);
    return 0;
}

/* Names (and namespaces) of the objects of type t listed with the options; NULL after printing
 * an error. Both arrays end with NULL; the caller frees them with strv_free. */
static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int list_names(struct reef__desc *c, const struct reef_kube_type *t,
                      const struct describe_opts *o, char ***names, char ***nss)
{
    size_t n = 0, cap = 16;
    char **nm = calloc(cap + 1, sizeof(*nm)), **sp = calloc(cap + 1, sizeof(*sp));
    char *cont = NULL;
    int status = 0;
    if (!nm || !sp) {
        free(nm);
        free(sp);
        return reef_kube_fail("out of memory");
    }
    do {
        struct reef_buf path;
        reef_buf_init(&path);
        reef_kube_path(&path, t, o->all_ns ? NULL : c->k->ns, NULL);
        reef_buf_puts(&path, "?limit=500");
        if (o->selector) {
            reef_buf_puts(&path, "&labelSelector=");
            reef_kube_escape(&path, o->selector);
        }
        if (cont) {
            reef_buf_puts(&path, "&continue=");
            reef_kube_escape(&path, cont);
            free(cont);
            cont = NULL;
        }
        struct reef_http_result res = {0};
        struct reef_err err = {0};
        int rc = reef_kube_do(c->k, "GET", path.data, "application/json", NULL, NULL, 0, &res, &err);
        reef_buf_free(&path);
        status = reef__kube_status(rc, &res, &err);
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        if (!status && reef_json_parse(&d, res.body, res.body_len, NULL, NULL) < 0)
            status = reef_kube_fail("the server's answer is not JSON");
        if (!status) {
            int items = reef__dj(&d, REEF_JSON_ROOT, "items");
            struct reef_json_iter it = reef_json_iter(&d, items);
            while (items >= 0 && reef_json_next(&d, &it)) {
                if (n == cap) {
                    char **a = realloc(nm, (cap * 2 + 1) * sizeof(*a));
                    if (a)
                        nm = a;
                    char **b = a ? realloc(sp, (cap * 2 + 1) * sizeof(*b)) : NULL;
                    if (b)
                        sp = b;
                    if (!a || !b)
                        break;
                    cap *= 2;
                }
                char *s = NULL;
                int x = reef__dj(&d, it.val, "metadata.name");
                if (x >= 0)
                    reef_json_get_strdup(&d, x, &s, NULL);
                nm[n] = s ? s : strdup("");
                s = NULL;
                x = reef__dj(&d, it.val, "metadata.namespace");
                if (x >= 0)
                    reef_json_get_strdup(&d, x, &s, NULL);
                sp[n] = s ? s : strdup("");
                n++;
                nm[n] = sp[n] = NULL;
            }
            int cv = reef__dj(&d, REEF_JSON_ROOT, "metadata.continue");
            if (cv >= 0)
                reef_json_get_strdup(&d, cv, &cont, NULL);
            if (cont && !*cont) {
                free(cont);
                cont = NULL;
            }
        }
        reef_json_doc_free(&d);
        reef_http_result_free(&res);
    } while (!status && cont);
    free(cont);
    if (status) {
        strv_free(nm);
        strv_free(sp);
        return status;
    }
    *names = nm;
    *nss = sp;
    return 0;
}

/* What kubectl writes between described objects: nothing before the first, a blank line pair
 * before the others. */
static void emit(struct reef__desc *c, bool *first)
{
    if (!*first)
        fputs("\n\n", stdout);
    *first = false;
    fwrite(c->out.data ? c->out.data : "", 1, c->out.len, stdout);
    reef__desc_reset(c);
}

static int run_describe(int argc, char **argv)
{
    enum { O_KC = 256, O_EVENTS };
    static const struct option lo[] = {{"namespace", required_argument, NULL, 'n'},
                                       {"all-namespaces", no_argument, NULL, 'A'},
                                       {"selector", required_argument, NULL, 'l'},
                                       {"kubeconfig", required_argument, NULL, O_KC},
                                       {"show-events", optional_argument, NULL, O_EVENTS},
                                       {0}};
    struct describe_opts o = {0};
    bool show_events = true;
    int ch;
    reef_kube_permute(argc, argv, "n:Al:", lo);
    while ((ch = reef_cmd_getopt(&reef_cmd_describe, argc, argv, "n:Al:", lo)) != -1) {
        switch (ch) {
        case 'n':
            o.ns = optarg;
            break;
        case 'A':
            o.all_ns = true;
            break;
        case 'l':
            o.selector = optarg;
            break;
        case O_KC:
            o.kcfg = optarg;
            break;
        case O_EVENTS:
            if (!optarg || strcmp(optarg, "true") == 0)
                show_events = true;
            else if (strcmp(optarg, "false") == 0)
                show_events = false;
            else {
                fprintf(stderr,
                        "Error: invalid argument \"%s\" for \"--show-events\" flag: "
                        "strconv.ParseBool: parsing \"%s\": invalid syntax\n"
                        "See 'reef describe --help' for usage.\n",
                        optarg, optarg);
                return 1;
            }
            break;
        case 'h':
            return 0;
        default:
            return REEF_EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs == 0) {
        fprintf(stderr, "error: You must specify the type of resource to describe. Use \"kubectl "
                        "api-resources\" for a complete list of supported resources.\n");
        return 1;
    }
    /* TYPE/NAME... or TYPE[,TYPE] [NAME...] */
    bool slash = strchr(args[0], '/') != NULL;
    const struct reef_kube_type *types[16];
    size_t ntypes = 0;
    const struct reef_kube_type *tn[256];
    const char *names[256];
    size_t nnames = 0;
    if (slash) {
        for (int i = 0; i < nargs && nnames < 256; i++) {
            char *s = strchr(args[i], '/');
            if (!s) {
                fprintf(stderr, "error: there is no need to specify a resource type as a separate "
                                "argument when passing arguments in resource/name form (e.g. "
                                "'kubectl get resource/<resource_name>' instead of 'kubectl get "
                                "resource resource/<resource_name>'\n");
                return 1;
            }
            *s = 0;
            tn[nnames] = reef_kube_type_find(args[i]);
            if (!tn[nnames]) {
                fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", args[i]);
                return 1;
            }
            names[nnames++] = s + 1;
        }
    } else {
        char *list = args[0];
        for (char *tok = strtok(list, ","); tok && ntypes < 16; tok = strtok(NULL, ",")) {
            types[ntypes] = reef_kube_type_find(tok);
            if (!types[ntypes]) {
                fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", tok);
                return 1;
            }
            ntypes++;
        }
        if (ntypes == 0) {
            fprintf(stderr, "error: the server doesn't have a resource type \"\"\n");
            return 1;
        }
        for (int i = 1; i < nargs && nnames < 256; i++) {
            tn[nnames] = types[0];
            names[nnames++] = args[i];
        }
        if (nnames && ntypes > 1) {
            fprintf(stderr, "error: arguments in resource/name form must have a single resource "
                            "and name\n");
            return 1;
        }
    }
    if (nnames && o.selector) {
        fprintf(stderr, "error: name cannot be provided when a selector is specified\n");
        return 1;
    }
    if (nnames && o.all_ns) {
        fprintf(stderr, "error: a resource cannot be retrieved by name across all namespaces\n");
        return 1;
    }
    struct reef_kube k;
    struct reef_err err = {0};
    if (reef_kube_open(&k, o.kcfg, o.ns, &err) < 0)
        return reef_kube_fail(err.msg);
    struct reef__desc c = {.k = &k, .show_events = show_events};
    reef_buf_init(&c.pend);
    reef_buf_init(&c.out);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int status = 0;
    bool first = true;
    if (nnames) {
        struct reef_http_result *missing = calloc(nnames, sizeof(*missing));
        bool *is_missing = calloc(nnames, sizeof(*is_missing));
        if (!missing || !is_missing) {
            free(missing);
            free(is_missing);
            reef__desc_reset(&c);
            reef_kube_close(&k);
            return reef_kube_fail("out of memory");
        }
        for (size_t i = 0; i < nnames; i++) {
            int rc = describe_one(&c, tn[i], k.ns, names[i], &missing[i]);
            if (rc == 0) {
                emit(&c, &first);
            } else if (rc == 404) {
                is_missing[i] = true;
                continue;
            } else {
                status = 1;
            }
            reef_http_result_free(&missing[i]);
        }
        for (size_t i = 0; i < nnames; i++) {
            if (!is_missing[i])
                continue;
            bool shown = false;
            if (!slash && nnames == 1) {
                /* kubectl then describes the objects whose names start with the one given */
                char **nm = NULL, **sp = NULL;
                struct describe_opts lo2 = {0};
                if (list_names(&c, tn[i], &lo2, &nm, &sp) == 0) {
                    for (size_t j = 0; nm[j]; j++) {
                        if (strncmp(nm[j], names[i], strlen(names[i])) != 0)
                            continue;
                        struct reef_http_result r2 = {0};
                        if (describe_one(&c, tn[i], sp[j], nm[j], &r2) == 0) {
                            fwrite(c.out.data ? c.out.data : "", 1, c.out.len, stdout);
                            putchar('\n');
                            reef__desc_reset(&c);
                            shown = true;
                        }
                        reef_http_result_free(&r2);
                    }
                    strv_free(nm);
                    strv_free(sp);
                }
            }
            if (!shown) {
                reef_kube_print_status(&missing[i]);
                status = 1;
            }
            reef_http_result_free(&missing[i]);
        }
        free(missing);
        free(is_missing);
    } else {
        size_t found = 0;
        for (size_t ti = 0; ti < ntypes && !status; ti++) {
            char **nm = NULL, **sp = NULL;
            status = list_names(&c, types[ti], &o, &nm, &sp);
            for (size_t j = 0; nm && nm[j]; j++) {
                struct reef_http_result res = {0};
                int rc = describe_one(&c, types[ti], sp[j], nm[j], &res);
                if (rc == 0)
                    emit(&c, &first);
                else if (rc == 404)
                    reef_kube_print_status(&res);
                if (rc)
                    status = 1;
                reef_http_result_free(&res);
                found++;
            }
            strv_free(nm);
            strv_free(sp);
        }
        if (!status && !found) {
            if (o.all_ns)
                fprintf(stderr, "No resources found\n");
            else
                fprintf(stderr, "No resources found in %s namespace.\n", k.ns);
        }
    }
    fflush(stdout);
    reef__desc_reset(&c);
    free(c.strs);
    reef_buf_free(&c.pend);
    reef_buf_free(&c.out);
    reef_kube_close(&k);
    return status;
}

const struct reef_cmd reef_cmd_describe = {
    .name = "describe",
    .summary = "show details of objects and their events, as kubectl describe",
    .usage = "usage: reef describe TYPE[,TYPE] [NAME...] | TYPE/NAME... [-l SELECTOR] [-n NS] [-A]\n"
             "                     [--show-events=false] [--kubeconfig FILE]\n",
    .run = run_describe,
};
REEF_COMMAND(reef_cmd_describe);
