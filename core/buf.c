#include "core/buf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void reef_buf_init(struct reef_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void reef_buf_free(struct reef_buf *b)
{
    free(b->data);
    reef_buf_init(b);
}

void reef_buf_reset(struct reef_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int reef_buf_reserve(struct reef_buf *b, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return -ENOMEM;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int reef_buf_append(struct reef_buf *b, const void *p, size_t n)
{
    int r = reef_buf_reserve(b, n);
    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int reef_buf_puts(struct reef_buf *b, const char *s)
{
    return reef_buf_append(b, s, strlen(s));
}

int reef_buf_putc(struct reef_buf *b, char c)
{
    return reef_buf_append(b, &c, 1);
}

int reef_buf_vprintf(struct reef_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof(small))
        return reef_buf_append(b, small, (size_t)n);
    int r = reef_buf_reserve(b, (size_t)n);
    if (r < 0)
        return r;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int reef_buf_printf(struct reef_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = reef_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}

void reef_buf_consume(struct reef_buf *b, size_t n)
{
    if (n >= b->len) {
        reef_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *reef_buf_steal(struct reef_buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    reef_buf_init(b);
    return p;
}

int reef_buf_json_str(struct reef_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX. */
    if (n > (SIZE_MAX - 2) / 6)
        return -ENOMEM;
    int r = reef_buf_reserve(b, n + 2);
    if (r < 0)
        return r;
    r = reef_buf_putc(b, '"');
    size_t run = 0; /* start of a run of bytes that need no escaping */
    for (size_t i = 0; i < n && r == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        r = reef_buf_append(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if (r == 0)
            r = reef_buf_append(b, esc, elen);
    }
    if (r == 0)
        r = reef_buf_append(b, s + run, n - run);
    if (r == 0)
        r = reef_buf_putc(b, '"');
    return r;
}

bool reef_str_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool reef_str_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

size_t reef_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

char *reef_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

int reef_str_to_ll(const char *s, long long min, long long max, long long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int reef_str_to_bytes(const char *s, unsigned long long *out)
{
    if (!s || !*s || !(isdigit((unsigned char)*s) || *s == '.'))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno == ERANGE || end == s || !isfinite(v) || v < 0)
        return errno == ERANGE ? -ERANGE : -EINVAL;
    static const struct {
        const char *suffix;
        double mult;
    } units[] = {
        {"", 1},         {"b", 1},          {"k", 1024.0},          {"kb", 1024.0},
        {"ki", 1024.0},  {"kib", 1024.0},   {"m", 1048576.0},       {"mb", 1048576.0},
        {"mi", 1048576.0}, {"mib", 1048576.0}, {"g", 1073741824.0}, {"gb", 1073741824.0},
        {"gi", 1073741824.0}, {"gib", 1073741824.0}, {"t", 1099511627776.0},
        {"ti", 1099511627776.0},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(units); i++) {
        if (strcasecmp(end, units[i].suffix) != 0)
            continue;
        double bytes = v * units[i].mult;
        if (bytes >= 18446744073709551615.0)
            return -ERANGE;
        if (bytes != floor(bytes) && units[i].mult == 1)
            return -EINVAL; /* fractional bytes */
        *out = (unsigned long long)bytes;
        return 0;
    }
    return -EINVAL;
}
