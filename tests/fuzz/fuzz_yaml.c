/* Fuzz target for core/yaml: any bytes must convert or fail cleanly, and every converted
 * document must be valid JSON (RFC 8259, UTF-8), checked by the small validator below. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct jv {
    const unsigned char *p, *end;
    int depth;
};

static void ws(struct jv *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\t' || *v->p == '\n' || *v->p == '\r'))
        v->p++;
}

static bool lit(struct jv *v, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(v->end - v->p) < n || memcmp(v->p, s, n) != 0)
        return false;
    v->p += n;
    return true;
}

static bool digits(struct jv *v)
{
    const unsigned char *s = v->p;
    while (v->p < v->end && *v->p >= '0' && *v->p <= '9')
        v->p++;
    return v->p > s;
}

static bool number(struct jv *v)
{
    if (v->p < v->end && *v->p == '-')
        v->p++;
    if (v->p < v->end && *v->p == '0')
        v->p++;
    else if (!(v->p < v->end && *v->p >= '1' && *v->p <= '9') || !digits(v))
        return false;
    if (v->p < v->end && *v->p == '.') {
        v->p++;
        if (!digits(v))
            return false;
    }
    if (v->p < v->end && (*v->p == 'e' || *v->p == 'E')) {
        v->p++;
        if (v->p < v->end && (*v->p == '+' || *v->p == '-'))
            v->p++;
        if (!digits(v))
            return false;
    }
    return true;
}

static bool utf8_char(struct jv *v)
{
    unsigned char c = *v->p;
    size_t need;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf)
        need = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        need = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 3, cp = c & 0x07;
    else
        return false;
    if ((size_t)(v->end - v->p) <= need)
        return false;
    for (size_t k = 1; k <= need; k++) {
        if ((v->p[k] & 0xc0) != 0x80)
            return false;
        cp = (cp << 6) | (v->p[k] & 0x3f);
    }
    if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return false;
    v->p += need + 1;
    return true;
}

static bool string(struct jv *v)
{
    if (!lit(v, "\""))
        return false;
    while (v->p < v->end) {
        unsigned char c = *v->p;
        if (c == '"') {
            v->p++;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            v->p++;
            if (v->p >= v->end)
                return false;
            c = *v->p++;
            if (c == 'u') {
                for (int i = 0; i < 4; i++, v->p++)
                    if (v->p >= v->end || !strchr("0123456789abcdefABCDEF", *v->p) || !*v->p)
                        return false;
            } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
                return false;
            }
        } else if (c >= 0x80) {
            if (!utf8_char(v))
                return false;
        } else {
            v->p++;
        }
    }
    return false;
}

static bool value(struct jv *v)
{
    ws(v);
    if (v->p >= v->end)
        return false;
    switch (*v->p) {
    case '{':
    case '[': {
        bool obj = *v->p == '{';
        char close = obj ? '}' : ']';
        if (++v->depth > REEF_YAML_MAX_DEPTH)
            return false;
        v->p++;
        ws(v);
        if (v->p < v->end && *v->p == close) {
            v->p++;
            v->depth--;
            return true;
        }
        for (;;) {
            if (obj) {
                ws(v);
                if (!string(v))
                    return false;
                ws(v);
                if (!lit(v, ":"))
                    return false;
            }
            if (!value(v))
                return false;
            ws(v);
            if (v->p < v->end && *v->p == ',') {
                v->p++;
                continue;
            }
            if (v->p < v->end && *v->p == close) {
                v->p++;
                v->depth--;
                return true;
            }
            return false;
        }
    }
    case '"':
        return string(v);
    case 't':
        return lit(v, "true");
    case 'f':
        return lit(v, "false");
    case 'n':
        return lit(v, "null");
    default:
        return number(v);
    }
}

static bool json_valid(const char *s, size_t n, int extra_depth)
{
    struct jv v = {(const unsigned char *)s, (const unsigned char *)s + n, -extra_depth};
    if (!value(&v))
        return false;
    ws(&v);
    return v.p == v.end;
}

static int on_doc(void *ud, size_t index, const char *json, size_t len, int line)
{
    size_t *count = ud;
    if (index != *count || strlen(json) != len || line < 1 || !json_valid(json, len, 0)) {
        fprintf(stderr, "bad document %zu (line %d): %.*s\n", index, line, (int)len, json);
        abort();
    }
    (*count)++;
    /* Stop early now and then, to cover the callback's error path. */
    return len == 7 ? -ECANCELED : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reef_err err;
    size_t count = 0;
    int rc = reef_yaml_each((const char *)data, size, on_doc, &count, &err);
    if (rc > 0 || (rc < 0 && (err.code != rc || err.msg[0] == '\0')))
        abort();

    struct reef_buf out = REEF_BUF_INIT;
    rc = reef_yaml_to_json_array((const char *)data, size, &out, &err);
    if (rc == 0 && !json_valid(out.data, out.len, 1)) {
        fprintf(stderr, "bad array: %.*s\n", (int)out.len, out.data);
        abort();
    }
    if (rc < 0 && out.len != 0)
        abort();
    reef_buf_free(&out);
    return 0;
}
