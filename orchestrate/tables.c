/* tables: the Table document, cell writers, time formats and the default printer. The
 * per-resource printers live in tables_core.c (core group) and tables_apps.c (other groups). */
#include "orchestrate/tables.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char reef__table_desc_name[] =
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const char reef__table_desc_age[] =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";
const char reef__table_desc_containers[] = "Names of each container in the template.";
const char reef__table_desc_images[] = "Images referenced by each container in the template.";

/* The default printer: upstream's for resources without their own (custom resources print the
 * same two columns). */
static const struct reef__table_col default_cols[] = {
    {"Name", "string", "name", reef__table_desc_name, 0},
    {"Age", "string", "", reef__table_desc_age, 0},
};

static void default_row(struct reef__table_row *r)
{
    reef__table_cell_copy(r, reef__table_get(r, r->obj, "metadata.name"), "");
    reef__table_cell_age(r, reef__table_get(r, r->obj, "metadata.creationTimestamp"));
}

static const struct reef__table_printer default_printer = {"", "", default_cols, 2, default_row};

/* Time */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, size_t at, size_t count, unsigned *out)
{
    unsigned v = 0;
    if (at + count > n)
        return false;
    for (size_t i = at; i < at + count; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

int reef_table_parse_time(const char *s, size_t n, int64_t *ms)
{
    unsigned y, mo, d, h, mi, se, frac = 0;
    if (!digits(s, n, 0, 4, &y) || n < 20 || s[4] != '-' || !digits(s, n, 5, 2, &mo) ||
        s[7] != '-' || !digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s, n, 11, 2, &h) || s[13] != ':' || !digits(s, n, 14, 2, &mi) || s[16] != ':' ||
        !digits(s, n, 17, 2, &se))
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -EINVAL;
    size_t i = 19;
    if (i < n && s[i] == '.') {
        size_t k = 0;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
            if (k < 3)
                frac = frac * 10 + (unsigned)(s[i] - '0');
        if (k == 0)
            return -EINVAL;
        for (; k < 3; k++)
            frac *= 10;
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        unsigned oh, om;
        if (!digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
            !digits(s, n, i + 4, 2, &om) || oh > 23 || om > 59)
            return -EINVAL;
        off = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -EINVAL;
    }
    if (i != n)
        return -EINVAL;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    *ms = secs * 1000 + frac;
    return 0;
}

void reef_table_human_duration(int64_t d_ms, char *dst, size_t size)
{
    /* Go converts the float seconds with int(), truncating toward zero. */
    int64_t seconds = d_ms / 1000;
    if (seconds < -1) {
        snprintf(dst, size, "<invalid>");
        return;
    }
    if (seconds < 0) {
        snprintf(dst, size, "0s");
        return;
    }
    if (seconds < 60 * 2) {
        snprintf(dst, size, "%" PRId64 "s", seconds);
        return;
    }
    int64_t minutes = seconds / 60;
    if (minutes < 10) {
        int64_t s = seconds % 60;
        if (s == 0)
            snprintf(dst, size, "%" PRId64 "m", minutes);
        else
            snprintf(dst, size, "%" PRId64 "m%" PRId64 "s", minutes, s);
        return;
    }
    if (minutes < 60 * 3) {
        snprintf(dst, size, "%" PRId64 "m", minutes);
        return;
    }
    int64_t hours = seconds / 3600;
    if (hours < 8) {
        int64_t m = minutes % 60;
        if (m == 0)
            snprintf(dst, size, "%" PRId64 "h", hours);
        else
            snprintf(dst, size, "%" PRId64 "h%" PRId64 "m", hours, m);
        return;
    }
    if (hours < 48) {
        snprintf(dst, size, "%" PRId64 "h", hours);
        return;
    }
    if (hours < 24 * 8) {
        int64_t h = hours % 24;
        if (h == 0)
            snprintf(dst, size, "%" PRId64 "d", hours / 24);
        else
            snprintf(dst, size, "%" PRId64 "d%" PRId64 "h", hours / 24, h);
        return;
    }
    if (hours < 24 * 365 * 2) {
        snprintf(dst, size, "%" PRId64 "d", hours / 24);
        return;
    }
    if (hours < 24 * 365 * 8) {
        int64_t dy = (hours / 24) % 365;
        if (dy == 0)
            snprintf(dst, size, "%" PRId64 "y", hours / 24 / 365);
        else
            snprintf(dst, size, "%" PRId64 "y%" PRId64 "d", hours / 24 / 365, dy);
        return;
    }
    snprintf(dst, size, "%" PRId64 "y", hours / 24 / 365);
}

/* Lookups */

int reef__table_get(const struct reef__table_row *r, int v, const char *path)
{
    if (v < 0)
        return v;
    return reef_json_find(r->d, v, path, NULL);
}

int reef__table_get_kind(const struct reef__table_row *r, int v, const char *path,
                         enum reef_json_kind kind)
{
    int t = reef__table_get(r, v, path);
    if (t >= 0 && reef_json_kind(r->d, t) != kind)
        return -EINVAL;
    return t;
}

int64_t reef__table_get_int(const struct reef__table_row *r, int v, const char *path)
{
    int64_t out = 0;
    int t = reef__table_get(r, v, path);
    if (t < 0 || reef_json_get_int(r->d, t, &out, NULL) < 0)
        return 0;
    return out;
}

bool reef__table_nonempty(const struct reef__table_row *r, int v)
{
    size_t n;
    if (v < 0 || reef_json_kind(r->d, v) != REEF_JSON_STRING)
        return false;
    reef_json_raw(r->d, v, &n);
    return n > 2;
}

void reef__table_append(const struct reef__table_row *r, struct reef_buf *b, int v)
{
    if (v >= 0 && reef_json_kind(r->d, v) == REEF_JSON_STRING)
        reef_json_get_strbuf(r->d, v, b, NULL);
}

bool reef__table_time(const struct reef__table_row *r, int v, int64_t *ms)
{
    const char *p;
    size_t n;
    if (v < 0 || reef_json_str_view(r->d, v, &p, &n) < 0)
        return false;
    return reef_table_parse_time(p, n, ms) == 0;
}

void reef__table_since(const struct reef__table_row *r, int64_t ms, char *dst, size_t size)
{
    reef_table_human_duration(r->t->o.now * 1000 - ms, dst, size);
}

/* Cells */

static bool cell_shown(struct reef__table_row *r)
{
    const struct reef__table_printer *p = r->t->p;
    size_t c = r->col++;
    /* A printer writing more cells than it has columns is a bug, not bad input. */
    if (REEF_NEVER(c >= p->ncols))
        return false;
    return r->t->o.wide || p->cols[c].priority == 0;
}

void reef__table_cell_strn(struct reef__table_row *r, const char *s, size_t n)
{
    if (cell_shown(r))
        reef_json_put_strn(&r->t->w, s, n);
}

void reef__table_cell_str(struct reef__table_row *r, const char *s)
{
    reef__table_cell_strn(r, s, strlen(s));
}

void reef__table_cell_int(struct reef__table_row *r, int64_t v)
{
    if (cell_shown(r))
        reef_json_put_int(&r->t->w, v);
}

void reef__table_cell_copy(struct reef__table_row *r, int v, const char *dflt)
{
    if (!cell_shown(r))
        return;
    if (reef__table_nonempty(r, v))
        reef_json_put_value(&r->t->w, r->d, v);
    else
        reef_json_put_str(&r->t->w, dflt);
}

void reef__table_cell_age(struct reef__table_row *r, int v)
{
    char age[32];
    int64_t ms;
    if (!reef__table_time(r, v, &ms))
        snprintf(age, sizeof(age), "<unknown>");
    else
        reef__table_since(r, ms, age, sizeof(age));
    reef__table_cell_str(r, age);
}

struct reef_buf *reef__table_scratch(struct reef__table_row *r)
{
    reef_buf_reset(&r->t->scratch);
    return &r->t->scratch;
}

void reef__table_cell_scratch(struct reef__table_row *r)
{
    struct reef_buf *b = &r->t->scratch;
    reef__table_cell_strn(r, b->data ? b->data : "", b->len);
}

void reef__table_containers(struct reef__table_row *r, int spec)
{
    struct reef_buf *b = reef__table_scratch(r);
    int cs = reef__table_get_kind(r, spec, "containers", REEF_JSON_ARRAY);
    struct reef_json_iter it = reef_json_iter(r->d, cs < 0 ? -1 : cs);
    while (cs >= 0 && reef_json_next(r->d, &it)) {
        if (it.index > 0)
            reef_buf_putc(b, ',');
        reef__table_append(r, b, reef__table_get(r, it.val, "name"));
    }
    reef__table_cell_scratch(r);
    b = reef__table_scratch(r);
    it = reef_json_iter(r->d, cs < 0 ? -1 : cs);
    while (cs >= 0 && reef_json_next(r->d, &it)) {
        if (it.index > 0)
            reef_buf_putc(b, ',');
        reef__table_append(r, b, reef__table_get(r, it.val, "image"));
    }
    reef__table_cell_scratch(r);
}

/* Label formats. Keys and values are compared as decoded bytes, as Go sorts strings. */

struct kv {
    const char *k;
    size_t kn;
    int key, val; /* tokens */
    char kind;    /* requirement: '=', 'i' in, 'n' notin, 'e' exists, '!' does not exist */
};

static int kv_cmp(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    size_t n = x->kn < y->kn ? x->kn : y->kn;
    int c = memcmp(x->k, y->k, n);
    if (c)
        return c;
    return x->kn < y->kn ? -1 : x->kn > y->kn;
}

/* Keys of labels are plain (no escapes) in anything the API server accepted; a key with escapes
 * sorts by its raw spelling, which is good enough for such an object. */
static void kv_key(const struct reef__table_row *r, int tok, struct kv *e)
{
    size_t n;
    const char *p = reef_json_raw(r->d, tok, &n);
    e->k = p ? p + 1 : "";
    e->kn = p && n >= 2 ? n - 2 : 0;
}

void reef__table_append_labels(const struct reef__table_row *r, struct reef_buf *b, int map)
{
    int n =
        map >= 0 && reef_json_kind(r->d, map) == REEF_JSON_OBJECT ? reef_json_count(r->d, map) : 0;
    if (n <= 0) {
        reef_buf_puts(b, "<none>");
        return;
    }
    struct kv *e = calloc((size_t)n, sizeof(*e));
    if (!e) {
        r->t->err = r->t->err ? r->t->err : -ENOMEM;
        return;
    }
    int k = 0;
    struct reef_json_iter it = reef_json_iter(r->d, map);
    while (reef_json_next(r->d, &it) && k < n) {
        kv_key(r, it.key, &e[k]);
        e[k].key = it.key;
        e[k++].val = it.val;
    }
    qsort(e, (size_t)k, sizeof(*e), kv_cmp);
    for (int i = 0; i < k; i++) {
        if (i > 0)
            reef_buf_putc(b, ',');
        reef__table_append(r, b, e[i].key);
        reef_buf_putc(b, '=');
        reef__table_append(r, b, e[i].val);
    }
    free(e);
}

static int str_cmp(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    return kv_cmp(x, y);
}

static void append_values(const struct reef__table_row *r, struct reef_buf *b, int arr)
{
    int n =
        arr >= 0 && reef_json_kind(r->d, arr) == REEF_JSON_ARRAY ? reef_json_count(r->d, arr) : 0;
    reef_buf_putc(b, '(');
    struct kv *e = n > 0 ? calloc((size_t)n, sizeof(*e)) : NULL;
    int k = 0;
    struct reef_json_iter it = reef_json_iter(r->d, e ? arr : -1);
    while (e && reef_json_next(r->d, &it) && k < n) {
        if (reef_json_kind(r->d, it.val) != REEF_JSON_STRING)
            continue;
        kv_key(r, it.val, &e[k]);
        e[k++].val = it.val;
    }
    if (k > 0)
        qsort(e, (size_t)k, sizeof(*e), str_cmp);
    for (int i = 0; i < k; i++) {
        if (i > 0)
            reef_buf_putc(b, ',');
        reef__table_append(r, b, e[i].val);
    }
    free(e);
    reef_buf_putc(b, ')');
}

void reef__table_append_selector(const struct reef__table_row *r, struct reef_buf *b, int sel,
                                 bool none_when_empty, const char *invalid)
{
    int ml = reef__table_get_kind(r, sel, "matchLabels", REEF_JSON_OBJECT);
    int me = reef__table_get_kind(r, sel, "matchExpressions", REEF_JSON_ARRAY);
    int n = (ml >= 0 ? reef_json_count(r->d, ml) : 0) + (me >= 0 ? reef_json_count(r->d, me) : 0);
    struct kv *e = n > 0 ? calloc((size_t)n, sizeof(*e)) : NULL;
    int k = 0;
    bool bad = false;
    if (n > 0 && !e) {
        r->t->err = r->t->err ? r->t->err : -ENOMEM;
        return;
    }
    if (e) {
        struct reef_json_iter it = reef_json_iter(r->d, ml);
        while (ml >= 0 && reef_json_next(r->d, &it) && k < n) {
            bad |= reef_json_kind(r->d, it.val) != REEF_JSON_STRING;
            kv_key(r, it.key, &e[k]);
            e[k].key = it.key;
            e[k].val = it.val;
            e[k++].kind = '=';
        }
        it = reef_json_iter(r->d, me);
        while (me >= 0 && reef_json_next(r->d, &it) && k < n) {
            int key = reef__table_get_kind(r, it.val, "key", REEF_JSON_STRING);
            int op = reef__table_get_kind(r, it.val, "operator", REEF_JSON_STRING);
            int vals = reef__table_get(r, it.val, "values");
            int nvals = vals >= 0 && reef_json_kind(r->d, vals) == REEF_JSON_ARRAY
                            ? reef_json_count(r->d, vals)
                            : 0;
            char kind = 0;
            if (reef_json_str_eq(r->d, op, "In"))
                kind = 'i';
            else if (reef_json_str_eq(r->d, op, "NotIn"))
                kind = 'n';
            else if (reef_json_str_eq(r->d, op, "Exists"))
                kind = 'e';
            else if (reef_json_str_eq(r->d, op, "DoesNotExist"))
                kind = '!';
            /* What labels.NewRequirement refuses: an unknown operator, a set without values,
             * an existence test with values. Key and value syntax is the API server's
             * validation's to check on write. */
            if (key < 0 || kind == 0 || ((kind == 'i' || kind == 'n') && nvals == 0) ||
                ((kind == 'e' || kind == '!') && nvals > 0)) {
                bad = true;
                continue;
            }
            kv_key(r, key, &e[k]);
            e[k].key = key;
            e[k].val = vals;
            e[k++].kind = kind;
        }
        /* Upstream sorts requirements by key (sort.Sort, so equal keys keep no promised order;
         * qsort behaves alike). */
        if (k > 0)
            qsort(e, (size_t)k, sizeof(*e), kv_cmp);
    }
    if (bad) {
        free(e);
        reef_buf_puts(b, invalid);
        return;
    }
    size_t start = b->len;
    for (int i = 0; i < k; i++) {
        if (i > 0)
            reef_buf_putc(b, ',');
        if (e[i].kind == '!')
            reef_buf_putc(b, '!');
        reef__table_append(r, b, e[i].key);
        switch (e[i].kind) {
        case '=':
            reef_buf_putc(b, '=');
            reef__table_append(r, b, e[i].val);
            break;
        case 'i':
            reef_buf_puts(b, " in ");
            append_values(r, b, e[i].val);
            break;
        case 'n':
            reef_buf_puts(b, " notin ");
            append_values(r, b, e[i].val);
            break;
        default:
            break;
        }
    }
    free(e);
    if (b->len == start && none_when_empty)
        reef_buf_puts(b, "<none>");
}

/* Printers */

static const struct reef__table_printer *find_printer(const char *resource)
{
    if (!resource)
        return &default_printer;
    const char *dot = strchr(resource, '.');
    size_t rn = dot ? (size_t)(dot - resource) : strlen(resource);
    const char *group = dot ? dot + 1 : NULL;
    const struct {
        const struct reef__table_printer *p;
        size_t n;
    } sets[] = {
        {reef__table_core_printers, reef__table_core_nprinters},
        {reef__table_apps_printers, reef__table_apps_nprinters},
    };
    for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
        for (size_t i = 0; i < sets[s].n; i++) {
            const struct reef__table_printer *p = &sets[s].p[i];
            if (strlen(p->resource) != rn || memcmp(p->resource, resource, rn) != 0)
                continue;
            if (group && strcmp(group, p->group) != 0)
                continue;
            return p;
        }
    }
    return &default_printer;
}

bool reef_table_known(const char *resource)
{
    return find_printer(resource) != &default_printer;
}

int reef_table_parse_include(const char *value, enum reef_table_include *out)
{
    if (!value || !*value || strcmp(value, "Metadata") == 0)
        *out = REEF_TABLE_METADATA;
    else if (strcmp(value, "Object") == 0)
        *out = REEF_TABLE_OBJECT;
    else if (strcmp(value, "None") == 0)
        *out = REEF_TABLE_NONE;
    else
        return -EINVAL;
    return 0;
}

/* The table document */

void reef_table_begin(struct reef_table *t, struct reef_buf *out, const struct reef_table_opts *o)
{
    memset(t, 0, sizeof(*t));
    t->o = *o;
    t->p = find_printer(o->resource);
    reef_buf_init(&t->scratch);
    struct reef_json_writer *w = &t->w;
    reef_json_writer_init(w, out, o->indent);
    reef_json_begin_object(w);
    reef_json_key(w, "kind");
    reef_json_put_str(w, "Table");
    reef_json_key(w, "apiVersion");
    reef_json_put_str(w, "meta.k8s.io/v1");
    reef_json_key(w, "metadata");
    reef_json_begin_object(w);
    if (o->resource_version && *o->resource_version) {
        reef_json_key(w, "resourceVersion");
        reef_json_put_str(w, o->resource_version);
    }
    if (o->continue_token && *o->continue_token) {
        reef_json_key(w, "continue");
        reef_json_put_str(w, o->continue_token);
    }
    reef_json_end_object(w);
    reef_json_key(w, "columnDefinitions");
    if (o->no_headers) {
        reef_json_put_null(w);
    } else {
        reef_json_begin_array(w);
        for (size_t i = 0; i < t->p->ncols; i++) {
            const struct reef__table_col *c = &t->p->cols[i];
            if (!o->wide && c->priority > 0)
                continue;
            reef_json_begin_object(w);
            reef_json_key(w, "name");
            reef_json_put_str(w, c->name);
            reef_json_key(w, "type");
            reef_json_put_str(w, c->type);
            reef_json_key(w, "format");
            reef_json_put_str(w, c->format);
            reef_json_key(w, "description");
            reef_json_put_str(w, c->desc);
            reef_json_key(w, "priority");
            reef_json_put_int(w, c->priority);
            reef_json_end_object(w);
        }
        reef_json_end_array(w);
    }
    reef_json_key(w, "rows");
    reef_json_begin_array(w);
}

static void write_condition(struct reef_json_writer *w, int which)
{
    reef_json_key(w, "conditions");
    reef_json_begin_array(w);
    reef_json_begin_object(w);
    reef_json_key(w, "type");
    reef_json_put_str(w, "Completed");
    reef_json_key(w, "status");
    reef_json_put_str(w, "True");
    reef_json_key(w, "reason");
    reef_json_put_str(w, which == 1 ? "Succeeded" : "Failed");
    reef_json_key(w, "message");
    reef_json_put_str(w, which == 1 ? "The pod has completed successfully." : "The pod failed.");
    reef_json_end_object(w);
    reef_json_end_array(w);
}

int reef_table_add(struct reef_table *t, const struct reef_json_doc *d, int v)
{
    if (reef_json_kind(d, v) != REEF_JSON_OBJECT)
        return -EINVAL;
    struct reef_json_writer *w = &t->w;
    struct reef__table_row r = {.t = t, .d = d, .obj = v};
    reef_json_begin_object(w);
    reef_json_key(w, "cells");
    reef_json_begin_array(w);
    t->p->row(&r);
    /* Every column gets a cell even if a printer stopped early, so rows always line up. */
    while (r.col < t->p->ncols)
        reef__table_cell_str(&r, "");
    reef_json_end_array(w);
    if (r.condition)
        write_condition(w, r.condition);
    if (t->o.include == REEF_TABLE_OBJECT) {
        reef_json_key(w, "object");
        reef_json_put_value(w, d, v);
    } else if (t->o.include == REEF_TABLE_METADATA) {
        reef_json_key(w, "object");
        reef_json_begin_object(w);
        reef_json_key(w, "kind");
        reef_json_put_str(w, "PartialObjectMetadata");
        reef_json_key(w, "apiVersion");
        reef_json_put_str(w, "meta.k8s.io/v1");
        reef_json_key(w, "metadata");
        int md = reef_json_member(d, v, "metadata");
        if (md >= 0 && reef_json_kind(d, md) == REEF_JSON_OBJECT) {
            reef_json_put_value(w, d, md);
        } else {
            reef_json_begin_object(w);
            reef_json_end_object(w);
        }
        reef_json_end_object(w);
    }
    reef_json_end_object(w);
    t->rows++;
    if (t->err)
        return t->err;
    return w->err;
}

int reef_table_end(struct reef_table *t, struct reef_err *err)
{
    reef_json_end_array(&t->w);
    reef_json_end_object(&t->w);
    reef_buf_free(&t->scratch);
    if (t->err)
        return reef_err_set(err, t->err, "table: out of memory");
    int rc = reef_json_finish(&t->w, err);
    if (rc < 0) {
        reef_err_wrap(err, "table");
        return rc;
    }
    return 0;
}

int reef_table_write_one(struct reef_buf *out, const struct reef_table_opts *o,
                         const struct reef_json_doc *d, int v, struct reef_err *err)
{
    struct reef_table_opts one = *o;
    char rv[64] = "";
    if (!one.resource_version) {
        int t = reef_json_find(d, v, "metadata.resourceVersion", NULL);
        if (t >= 0 && reef_json_kind(d, t) == REEF_JSON_STRING)
            reef_json_get_str(d, t, rv, sizeof(rv), NULL);
        one.resource_version = rv;
    }
    struct reef_table t;
    reef_table_begin(&t, out, &one);
    int rc = reef_table_add(&t, d, v);
    int rc2 = reef_table_end(&t, err);
    if (rc == -EINVAL)
        return reef_err_set(err, -EINVAL, "table: %s", "the object is not a JSON object");
    return rc2;
}
