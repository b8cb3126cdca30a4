/* json: reading a parsed document — kinds, lookups, paths, iteration, typed getters, equality.
 *
 * Everything here trusts the token array built by json_read.c: the text was validated, so escape
 * sequences, numbers and literals are known to be well formed and are decoded without checks. */
#include "core/json.h"

#define JSMN_HEADER
#include <jsmn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const jsmntok_t *tok_at(const struct reef_json_doc *d, int v)
{
    if (!d || v < 0 || v >= d->ntok)
        return NULL;
    return (const jsmntok_t *)d->tok_ + v;
}

static int next_of(const struct reef_json_doc *d, int v)
{
    return d->next_[v];
}

enum reef_json_kind reef_json_kind(const struct reef_json_doc *d, int v)
{
    const jsmntok_t *t = tok_at(d, v);
    if (!t)
        return REEF_JSON_NONE;
    switch (t->type) {
    case JSMN_OBJECT:
        return REEF_JSON_OBJECT;
    case JSMN_ARRAY:
        return REEF_JSON_ARRAY;
    case JSMN_STRING:
        return REEF_JSON_STRING;
    default:
        switch (d->src[t->start]) {
        case 'n':
            return REEF_JSON_NULL;
        case 't':
        case 'f':
            return REEF_JSON_BOOL;
        default:
            return REEF_JSON_NUMBER;
        }
    }
}

const char *reef_json_kind_name(enum reef_json_kind k)
{
    switch (k) {
    case REEF_JSON_NULL:
        return "null";
    case REEF_JSON_BOOL:
        return "bool";
    case REEF_JSON_NUMBER:
        return "number";
    case REEF_JSON_STRING:
        return "string";
    case REEF_JSON_ARRAY:
        return "array";
    case REEF_JSON_OBJECT:
        return "object";
    default:
        return "none";
    }
}

const char *reef_json_raw(const struct reef_json_doc *d, int v, size_t *len)
{
    const jsmntok_t *t = tok_at(d, v);
    if (!t) {
        if (len)
            *len = 0;
        return NULL;
    }
    int quote = t->type == JSMN_STRING;
    if (len)
        *len = (size_t)(t->end - t->start + 2 * quote);
    return d->src + t->start - quote;
}

int reef_json_count(const struct reef_json_doc *d, int v)
{
    const jsmntok_t *t = tok_at(d, v);
    if (!t || (t->type != JSMN_OBJECT && t->type != JSMN_ARRAY))
        return -EINVAL;
    return t->size;
}

/* String decoding */

static size_t utf8_put(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

static uint32_t hex4(const char *p)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned c = (unsigned char)p[k];
        v = v << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* Decodes the (validated) escape at p, which starts with a backslash, into out; *used is how many
 * bytes of p it took. Returns the number of bytes in out. */
static size_t unescape(const char *p, unsigned char out[4], size_t *used)
{
    *used = 2;
    switch (p[1]) {
    case 'b':
        out[0] = '\b';
        return 1;
    case 'f':
        out[0] = '\f';
        return 1;
    case 'n':
        out[0] = '\n';
        return 1;
    case 'r':
        out[0] = '\r';
        return 1;
    case 't':
        out[0] = '\t';
        return 1;
    case 'u':
        break;
    default:
        out[0] = (unsigned char)p[1];
        return 1;
    }
    uint32_t cp = hex4(p + 2);
    *used = 6;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(p + 8) - 0xdc00);
        *used = 12;
    }
    return utf8_put(cp, out);
}

/* The raw (still escaped) bytes of string token t. */
static const char *str_raw(const struct reef_json_doc *d, const jsmntok_t *t, size_t *n)
{
    *n = (size_t)(t->end - t->start);
    return d->src + t->start;
}

/* Decoded length; never more than the raw length. */
static size_t decoded_len(const char *p, size_t n)
{
    size_t len = 0;
    const char *end = p + n;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        if (!bs)
            return len + (size_t)(end - p);
        len += (size_t)(bs - p);
        unsigned char tmp[4];
        size_t used;
        len += unescape(bs, tmp, &used);
        p = bs + used;
    }
    return len;
}

/* Writes the decoded bytes to dst (room for decoded_len bytes); returns their number. */
static size_t decode(const char *p, size_t n, char *dst)
{
    char *o = dst;
    const char *end = p + n;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t plain = bs ? (size_t)(bs - p) : (size_t)(end - p);
        memcpy(o, p, plain);
        o += plain;
        if (!bs)
            break;
        size_t used;
        o += unescape(bs, (unsigned char *)o, &used);
        p = bs + used;
    }
    return (size_t)(o - dst);
}

/* Decoded bytes of a string, one at a time, for comparisons without a copy. */
struct str_iter {
    const char *p, *end;
    unsigned char buf[4];
    size_t bi, bn;
};

static void str_iter_init(struct str_iter *it, const char *p, size_t n)
{
    it->p = p;
    it->end = p + n;
    it->bi = it->bn = 0;
}

/* Next byte, or -1 at the end. */
static int str_iter_next(struct str_iter *it)
{
    if (it->bi < it->bn)
        return it->buf[it->bi++];
    if (it->p >= it->end)
        return -1;
    if (*it->p != '\\')
        return (unsigned char)*it->p++;
    size_t used;
    it->bn = unescape(it->p, it->buf, &used);
    it->p += used;
    it->bi = 1;
    return it->buf[0];
}

/* memcmp-style order of two raw string bodies by their decoded bytes. */
static int str_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    if (!memchr(a, '\\', an) && !memchr(b, '\\', bn)) {
        int c = memcmp(a, b, an < bn ? an : bn);
        return c ? c : (an > bn) - (an < bn);
    }
    struct str_iter ia, ib;
    str_iter_init(&ia, a, an);
    str_iter_init(&ib, b, bn);
    for (;;) {
        int x = str_iter_next(&ia), y = str_iter_next(&ib);
        if (x != y)
            return x - y;
        if (x < 0)
            return 0;
    }
}

/* Whether raw string body p[0..n) decodes to exactly s[0..sn). */
static bool str_body_eq(const char *p, size_t n, const char *s, size_t sn)
{
    if (!memchr(p, '\\', n))
        return n == sn && memcmp(p, s, n) == 0;
    if (sn > n)
        return false; /* decoding never lengthens */
    struct str_iter it;
    str_iter_init(&it, p, n);
    for (size_t i = 0; i < sn; i++)
        if (str_iter_next(&it) != (unsigned char)s[i])
            return false;
    return str_iter_next(&it) < 0;
}

/* Lookups */

int reef_json_membern(const struct reef_json_doc *d, int obj, const char *key, size_t keylen)
{
    const jsmntok_t *t = tok_at(d, obj);
    if (!t || t->type != JSMN_OBJECT)
        return -EINVAL;
    int found = -ENOENT;
    const jsmntok_t *toks = d->tok_;
    /* Every member is looked at: the last of repeated keys wins. */
    for (int i = 0, k = obj + 1; i < t->size; i++, k = next_of(d, k)) {
        size_t rn;
        const char *raw = str_raw(d, &toks[k], &rn);
        if (str_body_eq(raw, rn, key, keylen))
            found = k + 1;
    }
    return found;
}

int reef_json_member(const struct reef_json_doc *d, int obj, const char *key)
{
    return reef_json_membern(d, obj, key, strlen(key));
}

int reef_json_index(const struct reef_json_doc *d, int arr, size_t i)
{
    const jsmntok_t *t = tok_at(d, arr);
    if (!t || t->type != JSMN_ARRAY)
        return -EINVAL;
    if (i >= (size_t)t->size)
        return -ENOENT;
    int e = arr + 1;
    while (i--)
        e = next_of(d, e);
    return e;
}

struct reef_json_iter reef_json_iter(const struct reef_json_doc *d, int v)
{
    struct reef_json_iter it = {.key = -1, .val = -1, .index = -1, .left_ = 0, .next_ = 0};
    const jsmntok_t *t = tok_at(d, v);
    if (t && (t->type == JSMN_OBJECT || t->type == JSMN_ARRAY)) {
        it.left_ = t->size;
        it.next_ = v + 1;
    }
    return it;
}

bool reef_json_next(const struct reef_json_doc *d, struct reef_json_iter *it)
{
    if (it->left_ <= 0)
        return false;
    it->left_--;
    it->index++;
    int k = it->next_;
    const jsmntok_t *parent = tok_at(d, ((const jsmntok_t *)d->tok_)[k].parent);
    if (parent && parent->type == JSMN_OBJECT) {
        it->key = k;
        it->val = k + 1;
    } else {
        it->key = -1;
        it->val = k;
    }
    it->next_ = next_of(d, k);
    return true;
}

/* Longest key a bracketed, quoted path segment may have after unescaping. */
#define PATH_KEY_MAX 512

int reef_json_find(const struct reef_json_doc *d, int v, const char *path, struct reef_err *err)
{
    if (!tok_at(d, v))
        return reef_err_set(err, -EINVAL, "json: find \"%s\": no such value", path);
    const char *p = path;
    char key[PATH_KEY_MAX];
    while (*p) {
        const char *step = p; /* messages name the path before this step */
        if (p != path && *p != '[') {
            if (*p != '.')
                return reef_err_set(err, -EINVAL,
                                    "json: invalid path \"%s\": expected '.' or '[' at offset %zu",
                                    path, (size_t)(p - path));
            p++;
        }
        enum reef_json_kind kind = reef_json_kind(d, v);
        int r;
        if (*p == '[' && p[1] == '"') {
            /* ["key"], with \" and \\ escapes */
            size_t n = 0;
            p += 2;
            while (*p && *p != '"') {
                if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                    p++;
                if (n == sizeof(key))
                    return reef_err_set(err, -EINVAL, "json: invalid path \"%s\": key too long",
                                        path);
                key[n++] = *p++;
            }
            if (p[0] != '"' || p[1] != ']')
                return reef_err_set(err, -EINVAL,
                                    "json: invalid path \"%s\": unterminated [\"key\"]", path);
            p += 2;
            if (kind != REEF_JSON_OBJECT)
                goto wrong_kind;
            r = reef_json_membern(d, v, key, n);
        } else if (*p == '[') {
            p++;
            if (*p < '0' || *p > '9')
                return reef_err_set(err, -EINVAL,
                                    "json: invalid path \"%s\": expected an index at offset %zu",
                                    path, (size_t)(p - path));
            size_t idx = 0;
            for (; *p >= '0' && *p <= '9'; p++) {
                if (idx > (SIZE_MAX - 9) / 10)
                    return reef_err_set(err, -EINVAL, "json: invalid path \"%s\": index too large",
                                        path);
                idx = idx * 10 + (size_t)(*p - '0');
            }
            if (*p != ']')
                return reef_err_set(err, -EINVAL,
                                    "json: invalid path \"%s\": expected ']' at offset %zu", path,
                                    (size_t)(p - path));
            p++;
            if (kind != REEF_JSON_ARRAY)
                goto wrong_kind;
            r = reef_json_index(d, v, idx);
            if (r == -ENOENT)
                return reef_err_set(err, -ENOENT, "json: %.*s: index out of range (%d elements)",
                                    (int)(p - path), path, reef_json_count(d, v));
        } else {
            size_t n = strcspn(p, ".[");
            if (n == 0)
                return reef_err_set(err, -EINVAL,
                                    "json: invalid path \"%s\": empty key at offset %zu", path,
                                    (size_t)(p - path));
            const char *k = p;
            p += n;
            if (kind != REEF_JSON_OBJECT)
                goto wrong_kind;
            r = reef_json_membern(d, v, k, n);
        }
        if (r == -ENOENT)
            return reef_err_set(err, -ENOENT, "json: %.*s: no such member", (int)(p - path), path);
        v = r;
        continue;
    wrong_kind:
        if (step == path)
            return reef_err_set(err, -EINVAL, "json: %s: expected %s at the start, found %s", path,
                                *step == '[' && step[1] != '"' ? "an array" : "an object",
                                reef_json_kind_name(kind));
        return reef_err_set(err, -EINVAL, "json: %.*s: expected %s, found %s", (int)(step - path),
                            path, *step == '[' && step[1] != '"' ? "an array" : "an object",
                            reef_json_kind_name(kind));
    }
    return v;
}

/* Typed getters */

/* "expected a string, found number 42" with the value's position. */
static int mismatch(const struct reef_json_doc *d, int v, const char *want, struct reef_err *err)
{
    size_t n;
    const char *raw = reef_json_raw(d, v, &n);
    if (!raw)
        return reef_err_set(err, -EINVAL, "json: expected %s, found no value (token %d)", want, v);
    enum reef_json_kind k = reef_json_kind(d, v);
    if (k == REEF_JSON_ARRAY || k == REEF_JSON_OBJECT || k == REEF_JSON_NULL)
        n = 0;
    return reef__json_errf(err, -EINVAL, d->src, (size_t)(raw - d->src),
                           "expected %s, found %s%s%.*s%s", want, reef_json_kind_name(k),
                           n ? " " : "", n > 40 ? 40 : (int)n, raw, n > 40 ? "..." : "");
}

static const jsmntok_t *string_tok(const struct reef_json_doc *d, int v, struct reef_err *err)
{
    const jsmntok_t *t = tok_at(d, v);
    if (!t || t->type != JSMN_STRING) {
        mismatch(d, v, "a string", err);
        return NULL;
    }
    return t;
}

int reef_json_str_view(const struct reef_json_doc *d, int v, const char **p, size_t *n)
{
    const jsmntok_t *t = tok_at(d, v);
    if (!t || t->type != JSMN_STRING)
        return -EINVAL;
    size_t rn;
    const char *raw = str_raw(d, t, &rn);
    if (memchr(raw, '\\', rn))
        return -EAGAIN;
    *p = raw;
    *n = rn;
    return 0;
}

int reef_json_get_str(const struct reef_json_doc *d, int v, char *dst, size_t size,
                      struct reef_err *err)
{
    const jsmntok_t *t = string_tok(d, v, err);
    if (!t)
        return -EINVAL;
    size_t rn;
    const char *raw = str_raw(d, t, &rn);
    size_t n = memchr(raw, '\\', rn) ? decoded_len(raw, rn) : rn;
    if (n >= size)
        return reef__json_errf(err, -ENOBUFS, d->src, (size_t)t->start - 1,
                               "string of %zu bytes is longer than %zu", n, size ? size - 1 : 0);
    decode(raw, rn, dst);
    dst[n] = '\0';
    if (memchr(dst, '\0', n))
        return reef__json_errf(err, -EINVAL, d->src, (size_t)t->start - 1,
                               "string contains U+0000");
    return 0;
}

int reef_json_get_strdup(const struct reef_json_doc *d, int v, char **out, struct reef_err *err)
{
    *out = NULL;
    const jsmntok_t *t = string_tok(d, v, err);
    if (!t)
        return -EINVAL;
    size_t rn;
    const char *raw = str_raw(d, t, &rn);
    char *s = malloc(rn + 1);
    if (!s)
        return reef_err_set(err, -ENOMEM, "json: out of memory for a string of %zu bytes", rn);
    size_t n = decode(raw, rn, s);
    s[n] = '\0';
    if (memchr(s, '\0', n)) {
        free(s);
        return reef__json_errf(err, -EINVAL, d->src, (size_t)t->start - 1,
                               "string contains U+0000");
    }
    *out = s;
    return 0;
}

int reef_json_get_strbuf(const struct reef_json_doc *d, int v, struct reef_buf *out,
                         struct reef_err *err)
{
    const jsmntok_t *t = string_tok(d, v, err);
    if (!t)
        return -EINVAL;
    size_t rn;
    const char *raw = str_raw(d, t, &rn);
    if (reef_buf_reserve(out, rn) < 0)
        return reef_err_set(err, -ENOMEM, "json: out of memory for a string of %zu bytes", rn);
    out->len += decode(raw, rn, out->data + out->len);
    out->data[out->len] = '\0';
    return 0;
}

bool reef_json_str_eqn(const struct reef_json_doc *d, int v, const char *s, size_t n)
{
    const jsmntok_t *t = tok_at(d, v);
    if (!t || t->type != JSMN_STRING)
        return false;
    size_t rn;
    const char *raw = str_raw(d, t, &rn);
    return str_body_eq(raw, rn, s, n);
}

bool reef_json_str_eq(const struct reef_json_doc *d, int v, const char *s)
{
    return reef_json_str_eqn(d, v, s, strlen(s));
}

/* A validated number taken apart: value = digits × 10^exp, where digits are the significant
 * digits (no leading or trailing zeros) of the integer and fraction parts read as one run. */
struct num {
    bool neg;
    bool zero;
    bool huge_exp;       /* the written exponent was beyond ±1e15: exp is meaningless */
    const char *ip, *fp; /* integer and fraction digits */
    size_t il, fl;
    size_t lo, hi; /* significant digits are positions [lo, hi) of ip ++ fp */
    int64_t exp;
};

static char num_digit(const struct num *m, size_t k)
{
    return k < m->il ? m->ip[k] : m->fp[k - m->il];
}

static void num_parse(const char *p, size_t n, struct num *m)
{
    const char *end = p + n;
    *m = (struct num){0};
    if (*p == '-') {
        m->neg = true;
        p++;
    }
    m->ip = p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    m->il = (size_t)(p - m->ip);
    m->fp = p;
    if (p < end && *p == '.') {
        m->fp = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        m->fl = (size_t)(p - m->fp);
    }
    int64_t e = 0;
    if (p < end) { /* 'e' or 'E' */
        bool eneg = *++p == '-';
        if (*p == '-' || *p == '+')
            p++;
        for (; p < end; p++) {
            if (e > 1000000000000000)
                m->huge_exp = true;
            else
                e = e * 10 + (*p - '0');
        }
        if (eneg)
            e = -e;
    }
    size_t total = m->il + m->fl;
    m->lo = 0;
    while (m->lo < total && num_digit(m, m->lo) == '0')
        m->lo++;
    m->hi = total;
    while (m->hi > m->lo && num_digit(m, m->hi - 1) == '0')
        m->hi--;
    m->zero = m->lo == m->hi;
    m->exp = e + (int64_t)m->il - (int64_t)m->hi;
}

static const jsmntok_t *number_tok(const struct reef_json_doc *d, int v, const char *want,
                                   struct reef_err *err)
{
    if (reef_json_kind(d, v) != REEF_JSON_NUMBER) {
        mismatch(d, v, want, err);
        return NULL;
    }
    return tok_at(d, v);
}

/* The magnitude of an integral number in *u; -EINVAL when it is not integral, -ERANGE when it
 * exceeds UINT64_MAX. */
static int num_magnitude(const struct num *m, uint64_t *u)
{
    *u = 0;
    if (m->zero)
        return 0;
    if (m->huge_exp || m->exp < 0)
        return m->huge_exp && m->exp > 0 ? -ERANGE : -EINVAL;
    if (m->exp > 20 || (int64_t)(m->hi - m->lo) + m->exp > 20)
        return -ERANGE;
    uint64_t x = 0;
    for (size_t k = m->lo; k < m->hi; k++) {
        unsigned dg = (unsigned)(num_digit(m, k) - '0');
        if (x > (UINT64_MAX - dg) / 10)
            return -ERANGE;
        x = x * 10 + dg;
    }
    for (int64_t e = 0; e < m->exp; e++) {
        if (x > UINT64_MAX / 10)
            return -ERANGE;
        x *= 10;
    }
    *u = x;
    return 0;
}

static int int_error(const struct reef_json_doc *d, const jsmntok_t *t, int r, const char *type,
                     struct reef_err *err)
{
    int n = t->end - t->start;
    return reef__json_errf(
        err, r, d->src, (size_t)t->start, "%.*s%s %s %s", n > 40 ? 40 : n, d->src + t->start,
        n > 40 ? "..." : "",
        r == -ERANGE ? "is out of range for" : "is not an integer, as needed for", type);
}

int reef_json_get_int(const struct reef_json_doc *d, int v, int64_t *out, struct reef_err *err)
{
    const jsmntok_t *t = number_tok(d, v, "an integer", err);
    if (!t)
        return -EINVAL;
    struct num m;
    num_parse(d->src + t->start, (size_t)(t->end - t->start), &m);
    uint64_t u;
    int r = num_magnitude(&m, &u);
    if (r == 0 && u > (m.neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        r = -ERANGE;
    if (r < 0)
        return int_error(d, t, r, "int64", err);
    *out = m.neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

int reef_json_get_uint(const struct reef_json_doc *d, int v, uint64_t *out, struct reef_err *err)
{
    const jsmntok_t *t = number_tok(d, v, "an unsigned integer", err);
    if (!t)
        return -EINVAL;
    struct num m;
    num_parse(d->src + t->start, (size_t)(t->end - t->start), &m);
    uint64_t u;
    int r = num_magnitude(&m, &u);
    if (r == 0 && m.neg && u)
        r = -ERANGE;
    if (r < 0)
        return int_error(d, t, r, "uint64", err);
    *out = u;
    return 0;
}

int reef_json_get_double(const struct reef_json_doc *d, int v, double *out, struct reef_err *err)
{
    const jsmntok_t *t = number_tok(d, v, "a number", err);
    if (!t)
        return -EINVAL;
    /* strtod needs a terminator; the text may end right after the number. */
    size_t n = (size_t)(t->end - t->start);
    char small[64];
    char *s = n < sizeof(small) ? small : malloc(n + 1);
    if (!s)
        return reef_err_set(err, -ENOMEM, "json: out of memory for a number of %zu bytes", n);
    memcpy(s, d->src + t->start, n);
    s[n] = '\0';
    double x = strtod(s, NULL);
    if (s != small)
        free(s);
    if (isinf(x))
        return reef__json_errf(err, -ERANGE, d->src, (size_t)t->start,
                               "%.*s%s is out of range for a double", n > 40 ? 40 : (int)n,
                               d->src + t->start, n > 40 ? "..." : "");
    *out = x;
    return 0;
}

int reef_json_get_bool(const struct reef_json_doc *d, int v, bool *out, struct reef_err *err)
{
    if (reef_json_kind(d, v) != REEF_JSON_BOOL)
        return mismatch(d, v, "a bool", err);
    *out = d->src[tok_at(d, v)->start] == 't';
    return 0;
}

bool reef_json_is_null(const struct reef_json_doc *d, int v)
{
    return reef_json_kind(d, v) == REEF_JSON_NULL;
}

/* Equality */

static bool num_equal(const struct reef_json_doc *a, const jsmntok_t *ta,
                      const struct reef_json_doc *b, const jsmntok_t *tb)
{
    struct num x, y;
    size_t xn = (size_t)(ta->end - ta->start), yn = (size_t)(tb->end - tb->start);
    num_parse(a->src + ta->start, xn, &x);
    num_parse(b->src + tb->start, yn, &y);
    if (x.zero || y.zero)
        return x.zero && y.zero;
    if (x.huge_exp || y.huge_exp) /* beyond any real use: the spelling must match */
        return xn == yn && memcmp(a->src + ta->start, b->src + tb->start, xn) == 0;
    if (x.neg != y.neg || x.exp != y.exp || x.hi - x.lo != y.hi - y.lo)
        return false;
    for (size_t k = 0; k < x.hi - x.lo; k++)
        if (num_digit(&x, x.lo + k) != num_digit(&y, y.lo + k))
            return false;
    return true;
}

/* Orders key tokens by decoded key, then by position, so the last of equal keys ends a run. */
static int key_order(const void *pa, const void *pb, void *arg)
{
    const struct reef_json_doc *d = arg;
    const jsmntok_t *toks = d->tok_;
    int ka = *(const int *)pa, kb = *(const int *)pb;
    size_t an, bn;
    const char *a = str_raw(d, &toks[ka], &an), *b = str_raw(d, &toks[kb], &bn);
    int c = str_cmp(a, an, b, bn);
    return c ? c : (ka > kb) - (ka < kb);
}

/* Fills keys with the object's key tokens, sorted, keeping only the last of repeated keys.
 * Returns how many remain. */
static int distinct_keys(const struct reef_json_doc *d, int obj, int *keys)
{
    const jsmntok_t *toks = d->tok_;
    int n = 0;
    for (int i = 0, k = obj + 1; i < toks[obj].size; i++, k = next_of(d, k))
        keys[n++] = k;
    qsort_r(keys, (size_t)n, sizeof(int), key_order, (void *)d);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (i + 1 < n) {
            size_t an, bn;
            const char *x = str_raw(d, &toks[keys[i]], &an);
            const char *y = str_raw(d, &toks[keys[i + 1]], &bn);
            if (str_cmp(x, an, y, bn) == 0)
                continue; /* a later one of the same key follows */
        }
        keys[m++] = keys[i];
    }
    return m;
}

static bool obj_equal(const struct reef_json_doc *a, int va, const struct reef_json_doc *b, int vb)
{
    const jsmntok_t *ta = tok_at(a, va), *tb = tok_at(b, vb);
    int small_a[8], small_b[8];
    int *ka = small_a, *kb = small_b;
    if (ta->size > 8 || tb->size > 8) {
        ka = malloc(sizeof(int) * (size_t)(ta->size + tb->size));
        if (!ka)
            return false;
        kb = ka + ta->size;
    }
    int na = distinct_keys(a, va, ka), nb = distinct_keys(b, vb, kb);
    bool eq = na == nb;
    for (int i = 0; eq && i < na; i++) {
        size_t an, bn;
        const char *x = str_raw(a, tok_at(a, ka[i]), &an);
        const char *y = str_raw(b, tok_at(b, kb[i]), &bn);
        eq = str_cmp(x, an, y, bn) == 0 && reef_json_equal(a, ka[i] + 1, b, kb[i] + 1);
    }
    if (ka != small_a)
        free(ka);
    return eq;
}

bool reef_json_equal(const struct reef_json_doc *a, int va, const struct reef_json_doc *b, int vb)
{
    enum reef_json_kind k = reef_json_kind(a, va);
    if (k == REEF_JSON_NONE || k != reef_json_kind(b, vb))
        return false;
    const jsmntok_t *ta = tok_at(a, va), *tb = tok_at(b, vb);
    switch (k) {
    case REEF_JSON_NULL:
        return true;
    case REEF_JSON_BOOL:
        return a->src[ta->start] == b->src[tb->start];
    case REEF_JSON_NUMBER:
        return num_equal(a, ta, b, tb);
    case REEF_JSON_STRING: {
        size_t an, bn;
        const char *x = str_raw(a, ta, &an), *y = str_raw(b, tb, &bn);
        return str_cmp(x, an, y, bn) == 0;
    }
    case REEF_JSON_ARRAY: {
        if (ta->size != tb->size)
            return false;
        int ea = va + 1, eb = vb + 1;
        for (int i = 0; i < ta->size; i++, ea = next_of(a, ea), eb = next_of(b, eb))
            if (!reef_json_equal(a, ea, b, eb))
                return false;
        return true;
    }
    default:
        return obj_equal(a, va, b, vb);
    }
}
