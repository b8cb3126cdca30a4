/* kube_top: `reef top pod|node`, as kubectl top: usage from metrics.k8s.io/v1beta1, CPU in
 * millicores and memory in MiB, nodes' shares of their allocatable (or capacity), laid out by a
 * copy of Go's tabwriter algorithm (kubectl ends every cell with a tab, so even the last column
 * is padded). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/kube.h"
#include "core/buf.h"

extern const struct reef_cmd reef_cmd_top;

/* ---- resource quantities, exactly: value * 10^9 as a 128-bit integer ---- */

typedef __int128 nano_t;

/* Parses a Kubernetes quantity ("250m", "1.5", "12345n", "2048Ki", "1e3"); 0 or -EINVAL.
 * Fractions below a nano-unit round up, as Quantity does when scaling. */
static int parse_qty(const char *s, nano_t *out)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    nano_t mant = 0;
    int frac = 0, digits = 0;
    bool dot = false;
    for (; (*s >= '0' && *s <= '9') || (*s == '.' && !dot); s++) {
        if (*s == '.') {
            dot = true;
            continue;
        }
        if (++digits > 30)
            return -EINVAL;
        mant = mant * 10 + (*s - '0');
        frac += dot;
    }
    if (!digits)
        return -EINVAL;
    int exp10 = 0, exp2 = 0;
    static const char dec[] = "num kMGTPE";
    static const char bin[] = "KMGTPE";
    if (!*s) {
    } else if (s[1] == 'i' && !s[2] && strchr(bin, s[0])) {
        exp2 = 10 * (int)(strchr(bin, s[0]) - bin + 1);
    } else if ((s[0] == 'e' || s[0] == 'E') && s[1]) {
        long long e;
        if (reef_str_to_ll(s + 1, -30, 30, &e) < 0)
            return -EINVAL;
        exp10 = (int)e;
    } else if (!s[1] && s[0] != ' ' && strchr(dec, s[0])) {
        exp10 = 3 * (int)(strchr(dec, s[0]) - dec) - 9;
    } else {
        return -EINVAL;
    }
    int p = 9 - frac + exp10;
    nano_t v = mant;
    for (; p > 0; p--)
        if (__builtin_mul_overflow(v, 10, &v))
            return -EINVAL;
    nano_t div = 1;
    for (; p < 0; p++)
        div *= 10;
    for (int i = 0; i < exp2; i++)
        if (__builtin_mul_overflow(v, 2, &v))
            return -EINVAL;
    v = (v + div - 1) / div;
    *out = neg ? -v : v;
    return 0;
}

/* ceil(q / 10^(9 - 3)): Quantity.MilliValue(); ceil(q / 10^9): Value(). */
static long long milli(nano_t q)
{
    return (long long)(q >= 0 ? (q + 999999) / 1000000 : q / 1000000);
}

static long long value(nano_t q)
{
    return (long long)(q >= 0 ? (q + 999999999) / 1000000000 : q / 1000000000);
}

static nano_t qty_at(const struct reef_json_doc *d, int obj, const char *key)
{
    char s[64] = "";
    nano_t q = 0;
    int v = obj >= 0 ? reef_json_member(d, obj, key) : -ENOENT;
    if (v >= 0 && reef_json_get_str(d, v, s, sizeof(s), NULL) >= 0)
        parse_qty(s, &q);
    return q;
}

/* ---- Go's text/tabwriter (minwidth 6, tabwidth 4, padding 3, ' ', no flags) ---- */

struct tw_cell {
    const char *text;
    size_t len, width;
};

struct tw_line {
    struct tw_cell *cells;
    size_t n; /* cells; the last one is the text after the last tab */
};

struct tw {
    struct tw_line *lines;
    size_t n;
    size_t widths[64];
    size_t nwidths;
    FILE *out;
};

static size_t runes(const char *s, size_t n)
{
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        r += ((unsigned char)s[i] & 0xC0) != 0x80;
    return r;
}

static void tw_write_lines(struct tw *t, size_t l0, size_t l1)
{
    for (size_t i = l0; i < l1; i++) {
        struct tw_line *ln = &t->lines[i];
        for (size_t j = 0; j < ln->n; j++) {
            struct tw_cell *c = &ln->cells[j];
            fwrite(c->text, 1, c->len, t->out);
            if (j < t->nwidths && j + 1 < ln->n)
                for (size_t k = c->width; k < t->widths[j]; k++)
                    fputc(' ', t->out);
        }
        fputc('\n', t->out);
    }
}

static void tw_format(struct tw *t, size_t l0, size_t l1)
{
    size_t column = t->nwidths;
    for (size_t this = l0; this < l1; this ++) {
        if (column + 1 >= t->lines[this].n)
            continue;
        tw_write_lines(t, l0, this);
        l0 = this;
        size_t width = 6;
        for (; this < l1; this ++) {
            struct tw_line *ln = &t->lines[this];
            if (column + 1 >= ln->n)
                break;
            size_t w = ln->cells[column].width + 3;
            if (w > width)
                width = w;
        }
        if (t->nwidths < sizeof(t->widths) / sizeof(t->widths[0])) {
            t->widths[t->nwidths++] = width;
            tw_format(t, l0, this);
            t->nwidths--;
        }
        l0 = this;
    }
    tw_write_lines(t, l0, l1);
}

/* Lays out text (lines ending in '\n', cells ending in '\t') to out. */
static void tabwrite(const struct reef_buf *text, FILE *out)
{
    struct tw t = {.out = out};
    size_t cap = 0;
    const char *p = text->data, *end = text->data + text->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            nl = end;
        if (t.n == cap) {
            cap = cap ? cap * 2 : 16;
            struct tw_line *m = realloc(t.lines, cap * sizeof(*m));
            if (!m)
                break;
            t.lines = m;
        }
        struct tw_line *ln = &t.lines[t.n++];
        memset(ln, 0, sizeof(*ln));
        size_t ccap = 0;
        for (const char *c = p;;) {
            const char *tab = memchr(c, '\t', (size_t)(nl - c));
            const char *ce = tab ? tab : nl;
            if (ln->n == ccap) {
                ccap = ccap ? ccap * 2 : 8;
                struct tw_cell *m = realloc(ln->cells, ccap * sizeof(*m));
                if (!m)
                    break;
                ln->cells = m;
            }
            ln->cells[ln->n++] = (struct tw_cell){c, (size_t)(ce - c), runes(c, (size_t)(ce - c))};
            if (!tab)
                break;
            c = tab + 1;
        }
        p = nl + 1;
    }
    tw_format(&t, 0, t.n);
    for (size_t i = 0; i < t.n; i++)
        free(t.lines[i].cells);
    free(t.lines);
    fflush(out);
}

/* ---- the metrics API ---- */

/* 0 when /apis lists metrics.k8s.io/v1beta1, 1 after printing why not (or another error). */
static int metrics_available(struct reef_kube *k)
{
    struct reef_http_result res = {0};
    struct reef_err err = {0};
    int rc = reef_kube_do(k, "GET", "/apis", "application/json", NULL, NULL, 0, &res, &err);
    int status = reef__kube_status(rc, &res, &err);
    bool found = false;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (!status && reef_json_parse(&d, res.body, res.body_len, NULL, NULL) == 0) {
        int groups = reef_json_member(&d, REEF_JSON_ROOT, "groups");
        struct reef_json_iter it = reef_json_iter(&d, groups);
        while (groups >= 0 && reef_json_next(&d, &it)) {
            int n = reef_json_member(&d, it.val, "name");
            if (n < 0 || !reef_json_str_eq(&d, n, "metrics.k8s.io"))
                continue;
            int vs = reef_json_member(&d, it.val, "versions");
            struct reef_json_iter vi = reef_json_iter(&d, vs);
            while (vs >= 0 && reef_json_next(&d, &vi)) {
                int v = reef_json_member(&d, vi.val, "version");
                found |= v >= 0 && reef_json_str_eq(&d, v, "v1beta1");
            }
        }
    }
    reef_json_doc_free(&d);
    reef_http_result_free(&res);
    if (status)
        return status;
    if (!found)
        return reef_kube_fail("Metrics API not available");
    return 0;
}

/* GETs path into res/d; 0, or 1 after printing the error. */
static int get_json(struct reef_kube *k, const char *path, struct reef_http_result *res,
                    struct reef_json_doc *d)
{
    struct reef_err err = {0};
    int rc = reef_kube_do(k, "GET", path, "application/json", NULL, NULL, 0, res, &err);
    if (reef__kube_status(rc, res, &err))
        return 1;
    if (reef_json_parse(d, res->body, res->body_len, NULL, NULL) < 0)
        return reef_kube_fail("the server's answer is not JSON");
    return 0;
}

struct row {
    char ns[256], name[256], pod[256];
    nano_t cpu, mem;
    bool have_avail;
    nano_t avail_cpu, avail_mem;
};

static int sort_by; /* 0 name, 1 cpu, 2 memory */
static bool sort_ns;

static bool row_before(const struct row *a, const struct row *b)
{
    if (sort_by == 1)
        return milli(a->cpu) > milli(b->cpu);
    if (sort_by == 2)
        return value(a->mem) > value(b->mem);
    if (sort_ns && strcmp(a->ns, b->ns) != 0)
        return strcmp(a->ns, b->ns) < 0;
    return strcmp(a->name, b->name) < 0;
}

/* Insertion sort over [from, to): stable, as Go's sort is for short lists. */
static void sort_rows(struct row *r, size_t from, size_t to)
{
    for (size_t i = from + 1; i < to; i++) {
        struct row x = r[i];
        size_t j = i;
        while (j > from && row_before(&x, &r[j - 1])) {
            r[j] = r[j - 1];
            j--;
        }
        r[j] = x;
    }
}

static void put_usage(struct reef_buf *b, const struct row *r)
{
    reef_buf_printf(b, "%lldm\t", milli(r->cpu));
    if (r->have_avail)
        reef_buf_printf(b, "%lld%%\t",
                        r->avail_cpu == 0 ? 0LL
                                          : (long long)((double)milli(r->cpu) /
                                                        (double)milli(r->avail_cpu) * 100));
    reef_buf_printf(b, "%lldMi\t", value(r->mem) / (1024 * 1024));
    if (r->have_avail)
        reef_buf_printf(b, "%lld%%\t",
                        r->avail_mem == 0 ? 0LL
                                          : (long long)((double)milli(r->mem) /
                                                        (double)milli(r->avail_mem) * 100));
    reef_buf_putc(b, '\n');
}

struct top_opts {
    const char *ns, *kcfg, *selector, *field_selector;
    bool all_ns, containers, no_headers, sum, show_capacity;
};

/* Go's Duration.String for the age in kubectl's message. */
static void go_duration(int64_t ns, char *out, size_t outsz)
{
    int64_t s = ns / 1000000000, frac = ns % 1000000000;
    char f[16] = "";
    if (frac) {
        snprintf(f, sizeof(f), ".%09lld", (long long)frac);
        for (size_t n = strlen(f); n > 1 && f[n - 1] == '0'; n--)
            f[n - 1] = 0;
    }
    if (s >= 3600)
        snprintf(out, outsz, "%lldh%lldm%lld%ss", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60), f);
    else if (s >= 60)
        snprintf(out, outsz, "%lldm%lld%ss", (long long)(s / 60), (long long)(s % 60), f);
    else
        snprintf(out, outsz, "%lld%ss", (long long)s, f);
}

/* kubectl's reasons for an empty PodMetrics list: 0 to say "No resources found", 1 after an
 * error. */
static int empty_pod_metrics(struct reef_kube *k, const struct top_opts *o, const char *name)
{
    struct reef_buf path = REEF_BUF_INIT;
    reef_buf_puts(&path, "/api/v1/namespaces/");
    reef_kube_escape(&path, k->ns);
    reef_buf_puts(&path, "/pods");
    if (name) {
        reef_buf_putc(&path, '/');
        reef_kube_escape(&path, name);
    } else {
        reef_buf_puts(&path, "?labelSelector=");
        reef_kube_escape(&path, o->selector ? o->selector : "");
        reef_buf_puts(&path, "&fieldSelector=");
        reef_kube_escape(&path, o->field_selector ? o->field_selector : "");
    }
    struct reef_http_result res = {0};
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int status = get_json(k, path.data, &res, &d);
    if (!status) {
        int items = name ? -1 : reef_json_member(&d, REEF_JSON_ROOT, "items");
        int n = name ? 1 : items >= 0 ? reef_json_count(&d, items) : 0;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        for (int i = 0; i < n && !status; i++) {
            int pod = name ? REEF_JSON_ROOT : reef_json_index(&d, items, (size_t)i);
            char created[64] = "", pname[256] = "", pns[256] = "";
            int v = reef_json_find(&d, pod, "metadata.creationTimestamp", NULL);
            if (v >= 0)
                reef_json_get_str(&d, v, created, sizeof(created), NULL);
            v = reef_json_find(&d, pod, "metadata.name", NULL);
            if (v >= 0)
                reef_json_get_str(&d, v, pname, sizeof(pname), NULL);
            v = reef_json_find(&d, pod, "metadata.namespace", NULL);
            if (v >= 0)
                reef_json_get_str(&d, v, pns, sizeof(pns), NULL);
            struct tm tm = {0};
            if (!strptime(created, "%Y-%m-%dT%H:%M:%SZ", &tm))
                continue;
            int64_t age = ((int64_t)now.tv_sec - (int64_t)timegm(&tm)) * 1000000000 + now.tv_nsec;
            if (age > 120LL * 1000000000) {
                char dur[64];
                go_duration(age, dur, sizeof(dur));
                fprintf(stderr, "error: Metrics not available for pod %s/%s, age: %s\n", pns, pname,
                        dur);
                status = 1;
            }
        }
        if (!status && n > 0)
            status = reef_kube_fail("metrics not available yet");
    }
    reef_json_doc_free(&d);
    reef_http_result_free(&res);
    reef_buf_free(&path);
    return status;
}

static int top_pod(struct reef_kube *k, const struct top_opts *o, const char *name)
{
    if (metrics_available(k))
        return 1;
    struct reef_buf path = REEF_BUF_INIT;
    reef_buf_puts(&path, "/apis/metrics.k8s.io/v1beta1/");
    if (!o->all_ns) {
        reef_buf_puts(&path, "namespaces/");
        reef_kube_escape(&path, k->ns);
        reef_buf_putc(&path, '/');
    }
    reef_buf_puts(&path, "pods");
    if (name) {
        reef_buf_putc(&path, '/');
        reef_kube_escape(&path, name);
    } else {
        char sep = '?';
        if (o->selector) {
            reef_buf_puts(&path, "?labelSelector=");
            reef_kube_escape(&path, o->selector);
            sep = '&';
        }
        if (o->field_selector) {
            reef_buf_printf(&path, "%cfieldSelector=", sep);
            reef_kube_escape(&path, o->field_selector);
        }
    }
    struct reef_http_result res = {0};
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int status = get_json(k, path.data, &res, &d);
    reef_buf_free(&path);
    if (status)
        goto out;
    int items = name ? -1 : reef_json_member(&d, REEF_JSON_ROOT, "items");
    int n = name ? 1 : items >= 0 ? reef_json_count(&d, items) : 0;
    if (n <= 0) {
        status = empty_pod_metrics(k, o, name);
        if (!status) {
            if (o->all_ns)
                fprintf(stderr, "No resources found\n");
            else
                fprintf(stderr, "No resources found in %s namespace.\n", k->ns);
        }
        goto out;
    }
    /* one row per pod, and the pod's containers after it (for --containers) */
    size_t cap = 16, nr = 0;
    struct row *rows = calloc(cap, sizeof(*rows));
    size_t *first = calloc((size_t)n + 1, sizeof(*first));
    struct row *pods = calloc((size_t)n, sizeof(*pods));
    if (!rows || !first || !pods) {
        free(rows);
        free(first);
        free(pods);
        status = reef_kube_fail("out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int m = name ? REEF_JSON_ROOT : reef_json_index(&d, items, (size_t)i);
        struct row *p = &pods[i];
        int v = reef_json_find(&d, m, "metadata.name", NULL);
        if (v >= 0)
            reef_json_get_str(&d, v, p->name, sizeof(p->name), NULL);
        v = reef_json_find(&d, m, "metadata.namespace", NULL);
        if (v >= 0)
            reef_json_get_str(&d, v, p->ns, sizeof(p->ns), NULL);
        int cs = reef_json_member(&d, m, "containers");
        struct reef_json_iter it = reef_json_iter(&d, cs);
        while (cs >= 0 && reef_json_next(&d, &it)) {
            int u = reef_json_member(&d, it.val, "usage");
            p->cpu += qty_at(&d, u, "cpu");
            p->mem += qty_at(&d, u, "memory");
        }
    }
    sort_ns = o->all_ns;
    sort_rows(pods, 0, (size_t)n);
    for (int i = 0; i < n; i++) {
        first[i] = nr;
        if (!o->containers) {
            rows[nr++] = pods[i];
            continue;
        }
        /* the pod's containers, from its item again */
        for (int j = 0; j < n; j++) {
            int m = name ? REEF_JSON_ROOT : reef_json_index(&d, items, (size_t)j);
            int v = reef_json_find(&d, m, "metadata.name", NULL);
            int w = reef_json_find(&d, m, "metadata.namespace", NULL);
            if (v < 0 || !reef_json_str_eq(&d, v, pods[i].name) ||
                (w >= 0 && !reef_json_str_eq(&d, w, pods[i].ns)))
                continue;
            int cs = reef_json_member(&d, m, "containers");
            struct reef_json_iter it = reef_json_iter(&d, cs);
            while (cs >= 0 && reef_json_next(&d, &it)) {
                if (nr == cap) {
                    struct row *more = realloc(rows, cap * 2 * sizeof(*rows));
                    if (!more)
                        break;
                    rows = more;
                    cap *= 2;
                }
                struct row *r = &rows[nr++];
                memset(r, 0, sizeof(*r));
                snprintf(r->ns, sizeof(r->ns), "%s", pods[i].ns);
                snprintf(r->pod, sizeof(r->pod), "%s", pods[i].name);
                int cn = reef_json_member(&d, it.val, "name");
                if (cn >= 0)
                    reef_json_get_str(&d, cn, r->name, sizeof(r->name), NULL);
                int u = reef_json_member(&d, it.val, "usage");
                r->cpu = qty_at(&d, u, "cpu");
                r->mem = qty_at(&d, u, "memory");
            }
            break;
        }
        sort_ns = false;
        sort_rows(rows, first[i], nr);
        sort_ns = o->all_ns;
    }
    struct reef_buf text = REEF_BUF_INIT;
    if (!o->no_headers) {
        if (o->all_ns)
            reef_buf_puts(&text, "NAMESPACE\t");
        if (o->containers)
            reef_buf_puts(&text, "POD\t");
        reef_buf_puts(&text, "NAME\tCPU(cores)\tMEMORY(bytes)\t\n");
    }
    nano_t tcpu = 0, tmem = 0;
    for (size_t i = 0; i < nr; i++) {
        if (o->all_ns)
            reef_buf_printf(&text, "%s\t", rows[i].ns);
        if (o->containers)
            reef_buf_printf(&text, "%s\t", rows[i].pod);
        reef_buf_printf(&text, "%s\t", rows[i].name);
        put_usage(&text, &rows[i]);
        tcpu += rows[i].cpu;
        tmem += rows[i].mem;
    }
    if (o->sum) {
        int cols = 3 + o->all_ns + o->containers;
        for (int i = 0; i < cols - 2; i++)
            reef_buf_puts(&text, "\t");
        reef_buf_puts(&text, "________\t________\t\n");
        for (int i = 0; i < cols - 3; i++)
            reef_buf_puts(&text, "\t");
        struct row total = {.cpu = tcpu, .mem = tmem};
        reef_buf_puts(&text, "\t");
        put_usage(&text, &total);
    }
    tabwrite(&text, stdout);
    reef_buf_free(&text);
    free(rows);
    free(first);
    free(pods);
out:
    reef_json_doc_free(&d);
    reef_http_result_free(&res);
    return status;
}

static int top_node(struct reef_kube *k, const struct top_opts *o, const char *name)
{
    if (metrics_available(k))
        return 1;
    struct reef_buf path = REEF_BUF_INIT, npath = REEF_BUF_INIT;
    reef_buf_puts(&path, "/apis/metrics.k8s.io/v1beta1/nodes");
    reef_buf_puts(&npath, "/api/v1/nodes");
    if (name) {
        reef_buf_putc(&path, '/');
        reef_kube_escape(&path, name);
        reef_buf_putc(&npath, '/');
        reef_kube_escape(&npath, name);
    } else if (o->selector) {
        reef_buf_puts(&path, "?labelSelector=");
        reef_kube_escape(&path, o->selector);
        reef_buf_puts(&npath, "?labelSelector=");
        reef_kube_escape(&npath, o->selector);
    }
    struct reef_http_result res = {0}, nres = {0};
    struct reef_json_doc d = REEF_JSON_DOC_INIT, nd = REEF_JSON_DOC_INIT;
    struct row *rows = NULL;
    int status = get_json(k, path.data, &res, &d);
    if (status)
        goto out;
    int items = name ? -1 : reef_json_member(&d, REEF_JSON_ROOT, "items");
    int n = name ? 1 : items >= 0 ? reef_json_count(&d, items) : 0;
    if (n <= 0) {
        status = reef_kube_fail("metrics not available yet");
        goto out;
    }
    if ((status = get_json(k, npath.data, &nres, &nd)))
        goto out;
    int nitems = name ? -1 : reef_json_member(&nd, REEF_JSON_ROOT, "items");
    int nn = name ? 1 : nitems >= 0 ? reef_json_count(&nd, nitems) : 0;
    rows = calloc((size_t)(n + (nn > 0 ? nn : 0)), sizeof(*rows));
    bool *used = calloc((size_t)(nn > 0 ? nn : 1), sizeof(*used));
    if (!rows || !used) {
        free(used);
        status = reef_kube_fail("out of memory");
        goto out;
    }
    const char *field = o->show_capacity ? "status.capacity" : "status.allocatable";
    for (int i = 0; i < n; i++) {
        int m = name ? REEF_JSON_ROOT : reef_json_index(&d, items, (size_t)i);
        struct row *r = &rows[i];
        int v = reef_json_find(&d, m, "metadata.name", NULL);
        if (v >= 0)
            reef_json_get_str(&d, v, r->name, sizeof(r->name), NULL);
        int u = reef_json_member(&d, m, "usage");
        r->cpu = qty_at(&d, u, "cpu");
        r->mem = qty_at(&d, u, "memory");
        for (int j = 0; j < nn; j++) {
            int node = name ? REEF_JSON_ROOT : reef_json_index(&nd, nitems, (size_t)j);
            int nm = reef_json_find(&nd, node, "metadata.name", NULL);
            if (nm < 0 || !reef_json_str_eq(&nd, nm, r->name))
                continue;
            int a = reef_json_find(&nd, node, field, NULL);
            r->have_avail = true;
            r->avail_cpu = qty_at(&nd, a, "cpu");
            r->avail_mem = qty_at(&nd, a, "memory");
            used[j] = true;
        }
    }
    sort_ns = false;
    sort_rows(rows, 0, (size_t)n);
    struct reef_buf text = REEF_BUF_INIT;
    if (!o->no_headers)
        reef_buf_puts(&text, "NAME\tCPU(cores)\tCPU(%)\tMEMORY(bytes)\tMEMORY(%)\t\n");
    for (int i = 0; i < n; i++) {
        reef_buf_printf(&text, "%s\t", rows[i].name);
        put_usage(&text, &rows[i]);
    }
    /* nodes without figures */
    for (int j = 0; j < nn; j++) {
        if (used[j])
            continue;
        int node = name ? REEF_JSON_ROOT : reef_json_index(&nd, nitems, (size_t)j);
        char nm[256] = "";
        int v = reef_json_find(&nd, node, "metadata.name", NULL);
        if (v >= 0)
            reef_json_get_str(&nd, v, nm, sizeof(nm), NULL);
        reef_buf_printf(&text, "%s\t<unknown>\t<unknown>\t<unknown>\t<unknown>\t\n", nm);
    }
    free(used);
    tabwrite(&text, stdout);
    reef_buf_free(&text);
out:
    free(rows);
    reef_json_doc_free(&d);
    reef_json_doc_free(&nd);
    reef_http_result_free(&res);
    reef_http_result_free(&nres);
    reef_buf_free(&path);
    reef_buf_free(&npath);
    return status;
}

static int run_top(int argc, char **argv)
{
    enum { O_KC = 256, O_CONT, O_NOHEAD, O_SORT, O_SUM, O_FIELD, O_CAP, O_PROTO };
    static const struct option lo[] = {{"namespace", required_argument, NULL, 'n'},
                                       {"all-namespaces", no_argument, NULL, 'A'},
                                       {"selector", required_argument, NULL, 'l'},
                                       {"kubeconfig", required_argument, NULL, O_KC},
                                       {"containers", no_argument, NULL, O_CONT},
                                       {"no-headers", no_argument, NULL, O_NOHEAD},
                                       {"sort-by", required_argument, NULL, O_SORT},
                                       {"sum", no_argument, NULL, O_SUM},
                                       {"field-selector", required_argument, NULL, O_FIELD},
                                       {"show-capacity", no_argument, NULL, O_CAP},
                                       {"use-protocol-buffers", optional_argument, NULL, O_PROTO},
                                       {0}};
    struct top_opts o = {0};
    const char *sort = NULL;
    reef_kube_permute(argc, argv, "n:Al:", lo);
    int c;
    while ((c = reef_cmd_getopt(&reef_cmd_top, argc, argv, "n:Al:", lo)) != -1) {
        switch (c) {
        case 'h':
            return 0;
        case '?':
            return REEF_EXIT_USAGE;
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
        case O_CONT:
            o.containers = true;
            break;
        case O_NOHEAD:
            o.no_headers = true;
            break;
        case O_SORT:
            sort = optarg;
            break;
        case O_SUM:
            o.sum = true;
            break;
        case O_FIELD:
            o.field_selector = optarg;
            break;
        case O_CAP:
            o.show_capacity = true;
            break;
        default:
            break;
        }
    }
    if (optind >= argc) {
        fputs(reef_cmd_top.usage, stdout);
        return 0;
    }
    const char *what = argv[optind];
    bool pod = strcmp(what, "pod") == 0 || strcmp(what, "pods") == 0 || strcmp(what, "po") == 0;
    bool node = strcmp(what, "node") == 0 || strcmp(what, "nodes") == 0 || strcmp(what, "no") == 0;
    if (!pod && !node) {
        fprintf(stderr, "error: unknown command \"%s\" for \"reef top\"\n", what);
        return 1;
    }
    const char *name = optind + 1 < argc ? argv[optind + 1] : NULL;
    if (optind + 2 < argc) {
        fprintf(stderr, "error: top %s: expected at most one NAME\n", pod ? "pod" : "node");
        return 1;
    }
    sort_by = 0;
    if (sort && *sort) {
        if (strcmp(sort, "cpu") == 0)
            sort_by = 1;
        else if (strcmp(sort, "memory") == 0)
            sort_by = 2;
        else
            return reef_kube_fail("--sort-by accepts only cpu or memory");
    }
    if (name && (o.selector || o.field_selector))
        return reef_kube_fail("only one of NAME or selector can be provided");
    struct reef_kube k;
    struct reef_err err = {0};
    if (reef_kube_open(&k, o.kcfg, o.ns, &err) < 0)
        return reef_kube_fail(err.msg);
    int status = pod ? top_pod(&k, &o, name) : top_node(&k, &o, name);
    reef_kube_close(&k);
    return status;
}

const struct reef_cmd reef_cmd_top = {
    .name = "top",
    .summary = "CPU and memory use of pods or nodes, as kubectl top",
    .usage = "usage: reef top pod [NAME | -l SELECTOR] [-n NS | -A] [--containers] [--sum]\n"
             "                    [--no-headers] [--sort-by cpu|memory] [--kubeconfig FILE]\n"
             "       reef top node [NAME | -l SELECTOR] [--show-capacity] [--no-headers]\n"
             "                     [--sort-by cpu|memory] [--kubeconfig FILE]\n\n"
             "Reads metrics.k8s.io/v1beta1 and prints what kubectl top prints: CPU in millicores,\n"
             "memory in MiB, and for nodes their share of the allocatable resources.\n",
    .run = run_top,
};
REEF_COMMAND(reef_cmd_top);
