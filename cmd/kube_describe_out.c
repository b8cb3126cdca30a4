/* reef describe's output: the writer laid out as Go's tabwriter with kubectl describe's settings,
 * the getters, times, the labels, annotations and events sections, and the generic describer
 * kubectl uses for kinds it has no describer for (events, leases). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/kube.h"
#include "cmd/kube_describe.h"
#include "core/json.h"
#include "orchestrate/tables.h"

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
    /* one level per column: text with thousands of tabs in a line (a config map's data) is
     * written unaligned past this depth rather than exhausting the stack */
    if (column >= 2048) {
        tw_write(t, line0, line1, column);
        return;
    }
    for (size_t ln = line0; ln < line1; ln++) {
        if (column + 1 >= t->lines[ln].n)
            continue;
        tw_write(t, line0, ln, column);
        line0 = ln;
        int width = 0;
        for (; ln < line1; ln++) {
            const struct tw_line *l = &t->lines[ln];
            if (column + 1 >= l->n)
                break;
            int w = t->cells[l->first + column].width + 2;
            if (w > width)
                width = w;
        }
        t->widths[column] = width;
        tw_format(t, line0, ln, column + 1);
        line0 = ln;
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

const char **reef__desc_keys(struct reef__desc *c, const struct reef_json_doc *d, int v, size_t *n)
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

const char *reef__desc_text(struct reef__desc *c, const struct reef_json_doc *d, int v)
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
        reef__desc_w(c, 0, "%s=%s\n", keys[i], v >= 0 ? reef__desc_text(c, d, v) : "");
    }
}

void reef__desc_annotations(struct reef__desc *c, const char *title, const struct reef_json_doc *d,
                            int map)
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
        char *value = strdup(v >= 0 ? reef__desc_text(c, d, v) : "");
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
    } * e;
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

void reef__desc_events(struct reef__desc *c, const struct reef_json_doc *d, int v, const char *kind,
                       const char *uid)
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

/* Whether a JSON number decodes to an int64 in an unstructured object (strconv.ParseInt) */
static bool is_int64(const char *s, size_t n, long long *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    for (size_t i = buf[0] == '-'; i < n; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return false;
    errno = 0;
    char *end;
    *out = strtoll(buf, &end, 10);
    return errno == 0 && *end == 0;
}

/* Go's %v of a float64: the shortest digits that read back, as %e when the exponent is below
 * -4 or at least 6 ("1e+06", "1.5e-05"), else plainly ("1000", "0.5") */
static void go_float(struct reef_buf *b, double f)
{
    char e[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof(e), "%.*e", p - 1, f);
        if (strtod(e, NULL) == f)
            break;
    }
    /* e is [-]d[.ddd]e(+|-)XX */
    char *x = strchr(e, 'e');
    if (!x) {
        reef_buf_puts(b, e);
        return;
    }
    int exp = atoi(x + 1);
    *x = 0;
    bool neg = e[0] == '-';
    char digs[32];
    size_t nd = 0;
    for (const char *p = e + neg; *p; p++)
        if (*p != '.')
            digs[nd++] = *p;
    digs[nd] = 0;
    if (neg)
        reef_buf_putc(b, '-');
    if (exp < -4 || exp >= 6) {
        reef_buf_printf(b, "%c", digs[0]);
        if (nd > 1)
            reef_buf_printf(b, ".%s", digs + 1);
        reef_buf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    } else if (exp < 0) {
        reef_buf_puts(b, "0.");
        for (int i = -1; i > exp; i--)
            reef_buf_putc(b, '0');
        reef_buf_puts(b, digs);
    } else {
        for (int i = 0; i <= exp || i < (int)nd; i++) {
            if (i == exp + 1)
                reef_buf_putc(b, '.');
            reef_buf_putc(b, i < (int)nd ? digs[i] : '0');
        }
    }
}

/* Go's %v of a decoded JSON value: maps as map[k:v] (keys sorted), slices as [a b] */
static void govalue(struct reef__desc *c, struct reef_buf *b, const struct reef_json_doc *d, int v)
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
    case REEF_JSON_NUMBER: {
        size_t n;
        const char *raw = reef_json_raw(d, v, &n);
        double f;
        long long i;
        if (is_int64(raw, n, &i))
            reef_buf_printf(b, "%lld", i);
        else if (reef_json_get_double(d, v, &f, NULL) == 0)
            go_float(b, f);
        else
            reef_buf_append(b, raw, n);
        break;
    }
    default:
        reef_buf_puts(b, reef__desc_text(c, d, v));
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

void reef__describe_generic(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    reef__desc_w(c, 0, "Name:\t%s\n", reef__ds(c, d, v, "metadata.name"));
    reef__desc_w(c, 0, "Namespace:\t%s\n", reef__ds(c, d, v, "metadata.namespace"));
    reef__desc_labels(c, "Labels", d, reef__dj(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, reef__dj(d, v, "metadata.annotations"));
    unstructured(c, 0, d, v, "");
    reef__desc_events(c, d, v, reef__ds(c, d, v, "kind"), NULL);
}
