/* json_write: the streaming writer.
 *
 * The writer keeps one bit per open level (object or array) and two flags for the innermost one,
 * which is all it needs to place commas, colons and indentation and to catch misuse. An error
 * (misuse or ENOMEM) is sticky: the call that causes it writes nothing, later calls do nothing, and
 * reef_json_finish reports it, so a caller may check once at the end. */
#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void reef_json_writer_init(struct reef_json_writer *w, struct reef_buf *out, unsigned indent)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->indent = indent > 16 ? 16 : indent;
    w->first = true;
}

static int fail(struct reef_json_writer *w, int code, const char *why)
{
    if (!w->err) {
        w->err = code;
        w->why = why;
    }
    return w->err;
}

static int emit(struct reef_json_writer *w, const void *p, size_t n)
{
    if (reef_buf_append(w->out, p, n) < 0)
        return fail(w, -ENOMEM, "out of memory");
    return 0;
}

static int emit_c(struct reef_json_writer *w, char c)
{
    return emit(w, &c, 1);
}

static bool in_object(const struct reef_json_writer *w)
{
    unsigned d = w->depth - 1;
    return w->depth > 0 && (w->is_obj[d / 64] >> (d % 64) & 1);
}

/* A line break and indentation for level `level`, in pretty mode. */
static int newline(struct reef_json_writer *w, unsigned level)
{
    if (!w->indent)
        return 0;
    size_t n = 1 + (size_t)level * w->indent;
    if (reef_buf_reserve(w->out, n) < 0)
        return fail(w, -ENOMEM, "out of memory");
    char *p = w->out->data + w->out->len;
    p[0] = '\n';
    memset(p + 1, ' ', n - 1);
    w->out->len += n;
    w->out->data[w->out->len] = '\0';
    return 0;
}

/* Whatever must precede a value here: checks and, in arrays, the comma and line break. */
static int before_value(struct reef_json_writer *w)
{
    if (w->err)
        return w->err;
    if (w->depth == 0)
        return w->done ? fail(w, -EINVAL, "a second top-level value") : 0;
    if (in_object(w)) {
        if (!w->after_key)
            return fail(w, -EINVAL, "a value inside an object without a key");
        w->after_key = false;
        return 0;
    }
    int r = w->first ? 0 : emit_c(w, ',');
    w->first = false;
    return r ? r : newline(w, w->depth);
}

static int after_value(struct reef_json_writer *w)
{
    if (w->depth == 0)
        w->done = true;
    return w->err;
}

/* Bytes that a string may hold as they are (1), must escape (0) or that start UTF-8 (2). */
static const unsigned char plain[256] = {
    [0x20 ... 0x21] = 1,
    [0x23 ... 0x5b] = 1,
    [0x5d ... 0x7f] = 1,
    [0x80 ... 0xff] = 2,
};

static int emit_string(struct reef_json_writer *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (n > SIZE_MAX / 8 || reef_buf_reserve(w->out, n + 2) < 0)
        return fail(w, -ENOMEM, "out of memory");
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = 0;
    int r = emit_c(w, '"');
    while (i < n && r == 0) {
        unsigned char c = u[i];
        if (plain[c] == 1) {
            i++;
            continue;
        }
        size_t l = plain[c] == 2 ? reef__json_utf8_len(u + i, n - i) : 0;
        if (l) {
            i += l;
            continue;
        }
        r = emit(w, s + run, i - run);
        char esc[7] = {'\\', 0};
        size_t elen = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            if (c >= 0x80) {
                memcpy(esc, "\\ufffd", 6); /* not UTF-8: the replacement character */
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
            }
            elen = 6;
        }
        if (r == 0)
            r = emit(w, esc, elen);
        run = ++i;
    }
    if (r == 0)
        r = emit(w, s + run, n - run);
    if (r == 0)
        r = emit_c(w, '"');
    return r;
}

static int begin(struct reef_json_writer *w, bool obj)
{
    if (w->err)
        return w->err;
    if (w->depth >= REEF_JSON_MAX_DEPTH)
        return fail(w, -E2BIG, "nesting deeper than REEF_JSON_MAX_DEPTH");
    int r = before_value(w);
    if (r == 0)
        r = emit_c(w, obj ? '{' : '[');
    if (r)
        return r;
    uint64_t bit = UINT64_C(1) << (w->depth % 64);
    if (obj)
        w->is_obj[w->depth / 64] |= bit;
    else
        w->is_obj[w->depth / 64] &= ~bit;
    w->depth++;
    w->first = true;
    w->after_key = false;
    return 0;
}

static int end(struct reef_json_writer *w, bool obj)
{
    if (w->err)
        return w->err;
    if (w->depth == 0)
        return fail(w, -EINVAL,
                    obj ? "end of an object that was not begun"
                        : "end of an array that was not begun");
    if (in_object(w) != obj)
        return fail(w, -EINVAL,
                    obj ? "end of an object while an array is open"
                        : "end of an array while an object is open");
    if (w->after_key)
        return fail(w, -EINVAL, "a key without a value");
    w->depth--;
    int r = w->first ? 0 : newline(w, w->depth);
    if (r == 0)
        r = emit_c(w, obj ? '}' : ']');
    w->first = false;
    return r ? r : after_value(w);
}

int reef_json_begin_object(struct reef_json_writer *w)
{
    return begin(w, true);
}

int reef_json_end_object(struct reef_json_writer *w)
{
    return end(w, true);
}

int reef_json_begin_array(struct reef_json_writer *w)
{
    return begin(w, false);
}

int reef_json_end_array(struct reef_json_writer *w)
{
    return end(w, false);
}

/* A key, either to be escaped or (raw) already a JSON string with its quotes. */
static int key(struct reef_json_writer *w, const char *k, size_t n, bool raw)
{
    if (w->err)
        return w->err;
    if (!in_object(w))
        return fail(w, -EINVAL, "a key outside an object");
    if (w->after_key)
        return fail(w, -EINVAL, "two keys in a row");
    int r = w->first ? 0 : emit_c(w, ',');
    w->first = false;
    if (r == 0)
        r = newline(w, w->depth);
    if (r == 0)
        r = raw ? emit(w, k, n) : emit_string(w, k, n);
    if (r == 0)
        r = w->indent ? emit(w, ": ", 2) : emit_c(w, ':');
    w->after_key = true;
    return r;
}

int reef_json_keyn(struct reef_json_writer *w, const char *k, size_t n)
{
    return key(w, k, n, false);
}

int reef_json_key(struct reef_json_writer *w, const char *k)
{
    return key(w, k, strlen(k), false);
}

int reef_json_key_from(struct reef_json_writer *w, const struct reef_json_doc *d, int k)
{
    if (reef_json_kind(d, k) != REEF_JSON_STRING)
        return fail(w, -EINVAL, "a key copied from a value that is not a string");
    size_t n;
    const char *raw = reef_json_raw(d, k, &n);
    return key(w, raw, n, true);
}

/* A scalar whose JSON spelling is s[0..n). */
static int scalar(struct reef_json_writer *w, const char *s, size_t n)
{
    int r = before_value(w);
    if (r == 0)
        r = emit(w, s, n);
    return r ? r : after_value(w);
}

int reef_json_put_strn(struct reef_json_writer *w, const char *s, size_t n)
{
    if (!s)
        return reef_json_put_null(w);
    int r = before_value(w);
    if (r == 0)
        r = emit_string(w, s, n);
    return r ? r : after_value(w);
}

int reef_json_put_str(struct reef_json_writer *w, const char *s)
{
    return reef_json_put_strn(w, s, s ? strlen(s) : 0);
}

int reef_json_put_int(struct reef_json_writer *w, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
    return scalar(w, tmp, (size_t)n);
}

int reef_json_put_uint(struct reef_json_writer *w, uint64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    return scalar(w, tmp, (size_t)n);
}

/* Spells finite v like Go's encoding/json (and so kubectl): the fewest significant digits that
 * read back as exactly v, in plain notation when 1e-6 <= |v| < 1e21, else as 1.5e+300 / 5e-324. */
static int format_double(double v, char out[40])
{
    /* The shortest precision that reads back exactly; 17 significant digits always do. */
    char e[40];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    /* e is "[-]d[.ddd]e±XX": take the sign, the digits and the exponent apart. */
    const char *p = e;
    char *o = out;
    if (*p == '-')
        *o++ = *p++;
    char digits[20];
    int nd = 0;
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int x = atoi(p + 1);
    if (x < -6 || x >= 21) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        return (int)(o - out) + snprintf(o, 8, "e%c%d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    }
    if (x < 0) { /* 0.000ddd */
        memcpy(o, "0.", 2);
        o += 2;
        memset(o, '0', (size_t)(-x - 1));
        o += -x - 1;
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else if (x >= nd - 1) { /* ddd000 */
        memcpy(o, digits, (size_t)nd);
        o += nd;
        memset(o, '0', (size_t)(x - (nd - 1)));
        o += x - (nd - 1);
    } else { /* dd.ddd */
        memcpy(o, digits, (size_t)x + 1);
        o += x + 1;
        *o++ = '.';
        memcpy(o, digits + x + 1, (size_t)(nd - x - 1));
        o += nd - x - 1;
    }
    *o = '\0';
    return (int)(o - out);
}

int reef_json_put_double(struct reef_json_writer *w, double v)
{
    if (w->err)
        return w->err;
    if (!isfinite(v))
        return fail(w, -EINVAL, "NaN or infinity has no JSON form");
    char tmp[40];
    int n = format_double(v, tmp);
    return scalar(w, tmp, (size_t)n);
}

int reef_json_put_bool(struct reef_json_writer *w, bool v)
{
    return v ? scalar(w, "true", 4) : scalar(w, "false", 5);
}

int reef_json_put_null(struct reef_json_writer *w)
{
    return scalar(w, "null", 4);
}

int reef_json_put_raw(struct reef_json_writer *w, const char *json, size_t n)
{
    if (n == 0)
        return fail(w, -EINVAL, "an empty raw value");
    return scalar(w, json, n);
}

int reef_json_put_value(struct reef_json_writer *w, const struct reef_json_doc *d, int v)
{
    if (w->err)
        return w->err;
    enum reef_json_kind k = reef_json_kind(d, v);
    if (k == REEF_JSON_NONE)
        return fail(w, -EINVAL, "copy of a value that is not in the document");
    if (k != REEF_JSON_OBJECT && k != REEF_JSON_ARRAY) {
        size_t n;
        const char *raw = reef_json_raw(d, v, &n);
        return scalar(w, raw, n);
    }
    /* Recursion is bounded by the document's nesting limit (and the writer's, via begin). */
    int r = begin(w, k == REEF_JSON_OBJECT);
    struct reef_json_iter it = reef_json_iter(d, v);
    while (r == 0 && reef_json_next(d, &it)) {
        if (it.key >= 0)
            r = reef_json_key_from(w, d, it.key);
        if (r == 0)
            r = reef_json_put_value(w, d, it.val);
    }
    return r ? r : end(w, k == REEF_JSON_OBJECT);
}

int reef_json_finish(struct reef_json_writer *w, struct reef_err *err)
{
    if (w->err)
        return reef_err_set(err, w->err, "json writer: %s", w->why);
    if (w->depth)
        return reef_err_set(err, -EINVAL, "json writer: %u unclosed array(s) or object(s)",
                            w->depth);
    if (!w->done)
        return reef_err_set(err, -EINVAL, "json writer: no value was written");
    return 0;
}
