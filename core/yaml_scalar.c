/* Scalars for core/yaml.c: go-yaml v2's implicit resolution of plain scalars, with Go's strconv
 * number syntax and Go's shortest float formatting (as encoding/json writes it), and the rewrite
 * that lets JSON input through libyaml. Pure functions of their input; any thread. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cleanup.h"
#include "core/yaml_internal.h"

/* ---- scalar resolution (go-yaml v2's resolve, then Go's strconv and encoding/json) ---- */

/* Go's strconv.ParseUint(s, base, 64), base 0 meaning "from the prefix". 0 on success, -EINVAL
 * for bad syntax, -ERANGE when the value passes 2^64-1. */
static int go_parse_uint(const char *s, size_t n, int base, uint64_t *out)
{
    if (n == 0)
        return -EINVAL;
    if (base == 0) {
        base = 10;
        if (s[0] == '0') {
            char p = n >= 3 ? (char)(s[1] | 0x20) : 0;
            if (p == 'b' || p == 'o' || p == 'x') {
                base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
                s += 2;
                n -= 2;
            } else {
                base = 8;
                s++;
                n--;
            }
        }
    }
    uint64_t v = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int d;
        char ch = s[i];
        if (ch >= '0' && ch <= '9')
            d = ch - '0';
        else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
            d = (ch | 0x20) - 'a' + 10;
        else
            return -EINVAL;
        if (d >= base)
            return -EINVAL;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            rc = -ERANGE; /* keep scanning: a later bad digit is a syntax error */
        else
            v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return rc;
}

/* strconv.ParseInt(s, base, 64) as decimal text in out. */
static int go_parse_int(const char *s, size_t n, int base, char *out, size_t outsz)
{
    bool neg = false;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    uint64_t v;
    int r = go_parse_uint(s, n, base, &v);
    if (r < 0)
        return r;
    if (neg ? v > (uint64_t)1 << 63 : v > (uint64_t)INT64_MAX)
        return -ERANGE;
    if (neg && v != 0)
        snprintf(out, outsz, "-%llu", (unsigned long long)v);
    else
        snprintf(out, outsz, "%llu", (unsigned long long)v);
    return 0;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    size_t d0 = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == d0) {
        if (i >= n || s[i] != '.')
            return false;
        i++;
        size_t f0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == f0)
            return false;
    } else if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e0 = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == e0)
            return false;
    }
    return i == n;
}

/* strconv.ParseFloat for text already checked to be a plain decimal float; false when out of
 * range (Go returns an error there, and go-yaml then keeps the string). */
static bool parse_float(const char *s, size_t n, double *out)
{
    char buf[512];
    if (n >= sizeof(buf)) {
        /* Only absurdly long digit strings get here: strtod needs a C string. */
        char *tmp = reef_strndup(s, n);
        if (!tmp)
            return false;
        *out = strtod(tmp, NULL);
        free(tmp);
    } else {
        memcpy(buf, s, n);
        buf[n] = '\0';
        *out = strtod(buf, NULL);
    }
    return !isinf(*out);
}

/* Shortest decimal digits that read back as v (as Go's strconv does): digits without a point
 * into dig, the decimal exponent (v = 0.DIGITS * 10^dp) into dp. single: for a float32. */
static size_t shortest_digits(double v, bool single, char *dig, int *dp)
{
    char buf[40];
    int maxp = single ? 9 : 17;
    for (int p = 1; p <= maxp; p++) {
        snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
        if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            break;
    }
    /* buf is "[-]d.ddde[+-]xx" */
    const char *q = buf;
    if (*q == '-')
        q++;
    size_t nd = 0;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            dig[nd++] = *q;
    int exp = atoi(q + 1);
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    dig[nd] = '\0';
    *dp = exp + 1;
    return nd;
}

static void fmt_e(char *out, size_t outsz, bool neg, const char *dig, size_t nd, int dp, bool min2)
{
    int exp = dp - 1;
    int k = snprintf(out, outsz, "%s%c", neg ? "-" : "", dig[0]);
    if (nd > 1)
        k += snprintf(out + k, outsz - (size_t)k, ".%s", dig + 1);
    snprintf(out + k, outsz - (size_t)k, min2 ? "e%c%02d" : "e%c%d", exp < 0 ? '-' : '+',
             exp < 0 ? -exp : exp);
}

static void fmt_f(char *out, size_t outsz, bool neg, const char *dig, size_t nd, int dp)
{
    size_t k = 0;
    if (neg)
        out[k++] = '-';
    if (dp <= 0) {
        out[k++] = '0';
    } else {
        for (int i = 0; i < dp && k < outsz - 2; i++)
            out[k++] = (size_t)i < nd ? dig[i] : '0';
    }
    if ((int)nd > dp) {
        out[k++] = '.';
        for (int i = dp < 0 ? dp : 0; i < 0 && k < outsz - 2; i++)
            out[k++] = '0';
        for (size_t i = dp > 0 ? (size_t)dp : 0; i < nd && k < outsz - 1; i++)
            out[k++] = dig[i];
    }
    out[k] = '\0';
}

/* A finite float64 the way Go's encoding/json writes it. out needs 400 bytes. */
void reef__yaml_fmt_json_float(double v, char *out, size_t outsz)
{
    bool neg = signbit(v);
    if (v == 0) {
        snprintf(out, outsz, neg ? "-0" : "0");
        return;
    }
    char dig[24];
    int dp;
    size_t nd = shortest_digits(v, false, dig, &dp);
    double a = fabs(v);
    if (a < 1e-6 || a >= 1e21)
        fmt_e(out, outsz, neg, dig, nd, dp, false);
    else
        fmt_f(out, outsz, neg, dig, nd, dp);
}

/* A float used as a mapping key: sigs.k8s.io/yaml writes strconv.FormatFloat(v, 'g', -1, 32). */
void reef__yaml_fmt_key_float(double v, char *out, size_t outsz)
{
    float f = (float)v;
    if (isnan(f)) {
        snprintf(out, outsz, ".nan");
        return;
    }
    if (isinf(f)) {
        snprintf(out, outsz, f > 0 ? ".inf" : "-.inf");
        return;
    }
    bool neg = signbit(f);
    if (f == 0) {
        snprintf(out, outsz, neg ? "-0" : "0");
        return;
    }
    char dig[24];
    int dp;
    size_t nd = shortest_digits(f, true, dig, &dp);
    int exp = dp - 1;
    if (exp < -4 || exp >= 6) /* %g with the shortest precision decides at 6 digits */
        fmt_e(out, outsz, neg, dig, nd, dp, true);
    else
        fmt_f(out, outsz, neg, dig, nd, dp);
}

static bool in_list(const char *s, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && memcmp(*list, s, n) == 0)
            return true;
    return false;
}

/* go-yaml v2's implicit resolution of a plain scalar. Returns -ENOMEM or 0. */
int reef__yaml_resolve_plain(const char *s, size_t n, struct resolved *r)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                        "True", "TRUE", "on",  "On",  "ON",  NULL};
    static const char *const falses[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                         "False", "FALSE", "off", "Off", "OFF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    static const char *const pinfs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninfs[] = {"-.inf", "-.Inf", "-.INF", NULL};

    r->type = S_STR;
    char hint = 'N';
    if (n > 0) {
        unsigned char c0 = (unsigned char)s[0];
        if (c0 == '+' || c0 == '-')
            hint = 'S';
        else if (c0 >= '0' && c0 <= '9')
            hint = 'D';
        else if (c0 != 0 && strchr("yYnNtTfFoO~", c0))
            hint = 'M';
        else if (c0 == '.')
            hint = '.';
        else
            return 0;
    }
    if (in_list(s, n, nulls)) {
        r->type = S_NULL;
        strcpy(r->text, "null");
        return 0;
    }
    if (in_list(s, n, trues) || in_list(s, n, falses)) {
        r->type = S_BOOL;
        strcpy(r->text, in_list(s, n, trues) ? "true" : "false");
        return 0;
    }
    if (in_list(s, n, nans) || in_list(s, n, pinfs) || in_list(s, n, ninfs)) {
        r->type = S_NONFINITE;
        r->f = in_list(s, n, nans) ? NAN : in_list(s, n, pinfs) ? INFINITY : -INFINITY;
        return 0;
    }
    if (hint == 'M' || hint == 'N')
        return 0;
    if (hint == '.') {
        /* strconv.ParseFloat on the text as written: no '_' here. */
        if (yaml_style_float(s, n) && parse_float(s, n, &r->f)) {
            r->type = S_FLOAT;
            reef__yaml_fmt_json_float(r->f, r->text, sizeof(r->text));
        }
        return 0;
    }
    /* Sign or digit: an int, else a float, with every '_' dropped first. */
    _cleanup_free_ char *plain = malloc(n + 1);
    if (!plain)
        return -ENOMEM;
    size_t pn = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            plain[pn++] = s[i];
    plain[pn] = '\0';
    if (go_parse_int(plain, pn, 0, r->text, sizeof(r->text)) == 0) {
        r->type = S_INT;
        return 0;
    }
    uint64_t u;
    if (go_parse_uint(plain, pn, 0, &u) == 0) {
        r->type = S_INT;
        snprintf(r->text, sizeof(r->text), "%llu", (unsigned long long)u);
        return 0;
    }
    if (yaml_style_float(plain, pn) && parse_float(plain, pn, &r->f)) {
        r->type = S_FLOAT;
        reef__yaml_fmt_json_float(r->f, r->text, sizeof(r->text));
        return 0;
    }
    /* go-yaml's own binary fallback parses what follows "0b" as a signed base-2 number. */
    if (pn > 2 && plain[0] == '0' && plain[1] == 'b') {
        if (go_parse_int(plain + 2, pn - 2, 2, r->text, sizeof(r->text)) == 0 ||
            (go_parse_uint(plain + 2, pn - 2, 2, &u) == 0 &&
             snprintf(r->text, sizeof(r->text), "%llu", (unsigned long long)u) > 0)) {
            r->type = S_INT;
            return 0;
        }
    }
    return 0;
}

/* ---- JSON input ----
 *
 * JSON is nearly YAML, and kubectl reads a .json manifest with a JSON decoder. Four things valid
 * JSON may hold trip libyaml: a tab before the first or after the last token (block context
 * forbids tabs there), an escaped UTF-16 surrogate pair ("\ud83d\ude00", which Python's json
 * writes for every emoji), and a raw DEL, C1 control or U+FFFE/U+FFFF inside a string. When the
 * whole input lexes as JSON, a copy is rewritten: tabs between tokens become spaces, a pair
 * becomes one \UXXXXXXXX escape and those raw characters become escapes. Line numbers stay
 * exact; columns after a rewrite on the same line move by a few characters. */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = (char)(ch | 0x20);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The \uXXXX escape at s (which has n bytes), or -1. */
static long u_escape(const char *s, size_t n)
{
    if (n < 6 || s[0] != '\\' || s[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* A rewritten copy in *out (caller frees), or *out = NULL when the input is not JSON or needs
 * nothing. Returns 0 or -ENOMEM. */
int reef__yaml_json_fixup(const char *in, size_t n, char **out, size_t *outlen)
{
    *out = NULL;
    size_t i = 0;
    if (n >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < n && strchr(" \t\r\n", in[i]) && in[i])
        i++;
    if (i == n || (in[i] != '{' && in[i] != '['))
        return 0;
    /* First pass: is it JSON, and is anything to rewrite? */
    bool need = memchr(in, '\t', i) != NULL, instr = false;
    for (size_t k = i; k < n; k++) {
        unsigned char ch = (unsigned char)in[k];
        if (instr) {
            if (ch == '\\') {
                long hi = u_escape(in + k, n - k), lo;
                if (hi >= 0xd800 && hi <= 0xdbff &&
                    (lo = u_escape(in + k + 6, n - k - 6)) >= 0xdc00 && lo <= 0xdfff)
                    need = true;
                k++;
            } else if (ch == '"') {
                instr = false;
            } else if (ch == 0x7f ||
                       (ch == 0xc2 && k + 1 < n && (unsigned char)in[k + 1] >= 0x80 &&
                        (unsigned char)in[k + 1] <= 0x9f) ||
                       (ch == 0xef && k + 2 < n && (unsigned char)in[k + 1] == 0xbf &&
                        (unsigned char)in[k + 2] >= 0xbe)) {
                need = true;
            }
        } else if (ch == '"') {
            instr = true;
        } else if (ch == '\t') {
            need = true;
        } else if (ch == 't' || ch == 'f' || ch == 'n') {
            const char *w = ch == 't' ? "true" : ch == 'f' ? "false" : "null";
            size_t wl = strlen(w);
            if (n - k < wl || memcmp(in + k, w, wl) != 0)
                return 0;
            k += wl - 1;
        } else if (!strchr("{}[],: \r\n0123456789+-.eE", ch) || ch == 0) {
            return 0;
        }
    }
    if (!need)
        return 0;
    /* A pair shrinks by 2 bytes; a C1 control or U+FFFx grows to at most 6 from 2 or 3; DEL
     * grows to 4 from 1. */
    if (n > (SIZE_MAX - 1) / 4)
        return -ENOMEM;
    char *o = malloc(n * 4 + 1);
    if (!o)
        return -ENOMEM;
    size_t w;
    for (w = 0; w < i; w++)
        o[w] = in[w] == '\t' ? ' ' : in[w];
    instr = false;
    for (size_t k = i; k < n; k++) {
        unsigned char ch = (unsigned char)in[k];
        if (!instr) {
            instr = ch == '"';
            o[w++] = ch == '\t' ? ' ' : (char)ch;
            continue;
        }
        long hi, lo;
        if (ch == '\\' && (hi = u_escape(in + k, n - k)) >= 0xd800 && hi <= 0xdbff &&
            (lo = u_escape(in + k + 6, n - k - 6)) >= 0xdc00 && lo <= 0xdfff) {
            long cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
            w += (size_t)snprintf(o + w, 11, "\\U%08lX", cp);
            k += 11;
        } else if (ch == '\\' && k + 1 < n) {
            o[w++] = in[k++];
            o[w++] = in[k];
        } else if (ch == 0x7f) {
            memcpy(o + w, "\\x7F", 4);
            w += 4;
        } else if (ch == 0xc2 && k + 1 < n && (unsigned char)in[k + 1] >= 0x80 &&
                   (unsigned char)in[k + 1] <= 0x9f) {
            w += (size_t)snprintf(o + w, 5, "\\x%02X", (unsigned char)in[k + 1]);
            k++;
        } else if (ch == 0xef && k + 2 < n && (unsigned char)in[k + 1] == 0xbf &&
                   (unsigned char)in[k + 2] >= 0xbe) {
            w += (size_t)snprintf(o + w, 7, "\\u%04X", 0xffc0 | ((unsigned char)in[k + 2] & 0x3f));
            k += 2;
        } else {
            instr = ch != '"';
            o[w++] = (char)ch;
        }
    }
    o[w] = '\0';
    *out = o;
    *outlen = w;
    return 0;
}
