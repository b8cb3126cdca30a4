/* json_read: checking a text against RFC 8259 and building its token index with jsmn.
 *
 * jsmn (1.1.0, strict mode) tokenizes well-formed JSON correctly, but it is no validator: it
 * accepts `[1 2]`, `{"a" 1}`, `[1,]`, `{"a"}`, several top-level values, `[tru]` and `[01]`, stops
 * at the first NUL byte, checks neither UTF-8, control characters nor surrogates, and reports
 * errors without saying what or where (half of the n_*.json test vectors pass jsmn alone). So
 * parsing is two passes. The first, below, is a complete RFC 8259 recognizer that produces the
 * precise error message and counts the tokens and the nesting depth before anything is allocated,
 * which is what bounds memory against hostile input. The second hands the text, now known to be
 * valid, to jsmn with a token array of exactly the right size; jsmn's result must then match the
 * count. Finally each token learns where its subtree ends, so lookups skip siblings in O(1). */
#include "core/json.h"

#include <jsmn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Byte classes inside a string: what the scanner must stop at. */
enum { C_PLAIN = 0, C_QUOTE, C_BSLASH, C_CTRL, C_HIGH };

static const unsigned char str_class[256] = {
    [0x00 ... 0x1f] = C_CTRL,
    ['"'] = C_QUOTE,
    ['\\'] = C_BSLASH,
    [0x80 ... 0xff] = C_HIGH,
};

struct scan {
    const unsigned char *s;
    size_t len;
    size_t pos;
    size_t ntok;
    size_t max_tokens;
    unsigned max_depth;
    unsigned depth;
    struct reef_err *err;
    uint64_t is_obj[REEF_JSON_MAX_DEPTH / 64];
};

void reef__json_position(const char *src, size_t at, size_t *line, size_t *col)
{
    size_t l = 1, line_start = 0;
    for (const char *p = src, *end = src + at; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        l++;
        line_start = (size_t)(nl - src) + 1;
        p = nl + 1;
    }
    *line = l;
    *col = at - line_start + 1;
}

int reef__json_errf(struct reef_err *err, int code, const char *src, size_t at, const char *fmt,
                    ...)
{
    if (!err)
        return code;
    char what[REEF_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    size_t line, col;
    reef__json_position(src, at, &line, &col);
    return reef_err_set(err, code, "json: line %zu, column %zu (byte %zu): %s", line, col, at,
                        what);
}

#define FAIL(sc, at, ...)                                                                          \
    reef__json_errf((sc)->err, -EINVAL, (const char *)(sc)->s, (at), __VA_ARGS__)

/* A short description of the byte at i for messages: "'x'", "byte 0xff" or "end of input". */
static const char *describe(const struct scan *sc, size_t i, char buf[16])
{
    if (i >= sc->len)
        return "end of input";
    unsigned char c = sc->s[i];
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, 16, "'%c'", c);
    else if (c == ' ')
        snprintf(buf, 16, "' '");
    else
        snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

size_t reef__json_utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c < 0xc2)
        return 0;
    if (c < 0xe0)
        return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c < 0xf0) {
        if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
            return 0; /* overlong, or a UTF-16 surrogate */
        return 3;
    }
    if (c < 0xf5) {
        if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
            return 0; /* overlong, or above U+10FFFF */
        return 4;
    }
    return 0;
}

/* Says why the sequence at s[i] is not UTF-8 (reef__json_utf8_len returned 0). */
static int bad_utf8(struct scan *sc, size_t i)
{
    const unsigned char *p = sc->s + i;
    size_t n = sc->len - i;
    unsigned c = p[0];
    if (c < 0xc0)
        return FAIL(sc, i, "invalid UTF-8 in string: unexpected continuation byte 0x%02x", c);
    if (c < 0xc2)
        return FAIL(sc, i, "invalid UTF-8 in string: overlong encoding (lead byte 0x%02x)", c);
    if (c >= 0xf5)
        return FAIL(sc, i, "invalid UTF-8 in string: byte 0x%02x never appears in UTF-8", c);
    size_t need = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    for (size_t k = 1; k < need; k++)
        if (k >= n || (p[k] & 0xc0) != 0x80)
            return FAIL(sc, i, "invalid UTF-8 in string: truncated %zu-byte sequence", need);
    if (c == 0xed)
        return FAIL(sc, i, "invalid UTF-8 in string: encoded surrogate U+%04X",
                    ((c & 0x0f) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu));
    if (c == 0xf4)
        return FAIL(sc, i, "invalid UTF-8 in string: code point above U+10FFFF");
    return FAIL(sc, i, "invalid UTF-8 in string: overlong %zu-byte encoding", need);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The 4 hex digits at s[i..i+4) as a number, or -1. */
static long hex4(const struct scan *sc, size_t i)
{
    if (i + 4 > sc->len)
        return -1;
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hexval(sc->s[i + k]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* sc->pos is at the opening quote; on success it is just past the closing one. */
static int scan_string(struct scan *sc)
{
    const unsigned char *s = sc->s;
    size_t n = sc->len, i = sc->pos + 1;
    char buf[16];
    for (;;) {
        while (i < n && str_class[s[i]] == C_PLAIN)
            i++;
        if (i >= n)
            return FAIL(sc, sc->pos, "unterminated string");
        switch (str_class[s[i]]) {
        case C_QUOTE:
            sc->pos = i + 1;
            return 0;
        case C_CTRL:
            return FAIL(sc, i, "raw control character U+%04X in string (must be escaped)", s[i]);
        case C_HIGH: {
            size_t l = reef__json_utf8_len(s + i, n - i);
            if (!l)
                return bad_utf8(sc, i);
            i += l;
            break;
        }
        default: /* backslash */
            if (i + 1 >= n)
                return FAIL(sc, sc->pos, "unterminated string");
            switch (s[i + 1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                i += 2;
                break;
            case 'u': {
                long cp = hex4(sc, i + 2);
                if (cp < 0)
                    return FAIL(sc, i, "invalid \\u escape in string: expected 4 hex digits");
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return FAIL(sc, i,
                                "lone surrogate \\u%04lX in string (no high surrogate "
                                "before it)",
                                cp);
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    long lo =
                        i + 7 < n && s[i + 6] == '\\' && s[i + 7] == 'u' ? hex4(sc, i + 8) : -1;
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return FAIL(sc, i,
                                    "lone surrogate \\u%04lX in string (no low surrogate "
                                    "after it)",
                                    cp);
                    i += 6;
                }
                i += 6;
                break;
            }
            default:
                if (s[i + 1] > 0x20 && s[i + 1] < 0x7f)
                    return FAIL(sc, i, "invalid escape '\\%c' in string", s[i + 1]);
                return FAIL(sc, i, "invalid escape in string: %s after '\\'",
                            describe(sc, i + 1, buf));
            }
        }
    }
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Bytes that may not follow a number or literal directly: they would mean the token goes on. */
static bool is_word(unsigned char c)
{
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '.' || c == '+' ||
           c == '-' || c == '_';
}

/* number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "-" / "+" ] 1*DIGIT ] */
static int scan_number(struct scan *sc)
{
    const unsigned char *s = sc->s;
    size_t n = sc->len, start = sc->pos, i = start;
    char buf[16];
    if (s[i] == '-')
        i++;
    if (i >= n || !is_digit(s[i]))
        return FAIL(sc, i, "invalid number: expected a digit after '-', found %s",
                    describe(sc, i, buf));
    if (s[i] == '0') {
        i++;
        if (i < n && is_digit(s[i]))
            return FAIL(sc, start, "invalid number: leading zero");
    } else {
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            return FAIL(sc, i, "invalid number: expected a digit after '.', found %s",
                        describe(sc, i, buf));
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] | 0x20) == 'e') {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return FAIL(sc, i, "invalid number: expected a digit in the exponent, found %s",
                        describe(sc, i, buf));
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && is_word(s[i]))
        return FAIL(sc, i, "invalid number: unexpected %s", describe(sc, i, buf));
    sc->pos = i;
    return 0;
}

static int scan_literal(struct scan *sc)
{
    static const char *const words[] = {"true", "false", "null"};
    const unsigned char *s = sc->s;
    size_t n = sc->len, start = sc->pos;
    for (size_t k = 0; k < REEF_ARRAY_LEN(words); k++) {
        size_t l = strlen(words[k]);
        if (words[k][0] != s[start])
            continue;
        if (n - start >= l && memcmp(s + start, words[k], l) == 0 &&
            (start + l == n || !is_word(s[start + l]))) {
            sc->pos = start + l;
            return 0;
        }
        return FAIL(sc, start, "invalid literal (expected '%s')", words[k]);
    }
    return FAIL(sc, start, "invalid literal");
}

static void skip_ws(struct scan *sc)
{
    const unsigned char *s = sc->s;
    size_t i = sc->pos, n = sc->len;
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t'))
        i++;
    sc->pos = i;
}

static int count_token(struct scan *sc)
{
    if (++sc->ntok > sc->max_tokens)
        return reef__json_errf(sc->err, -E2BIG, (const char *)sc->s, sc->pos,
                               "more than %zu values and keys", sc->max_tokens);
    return 0;
}

static int push(struct scan *sc, bool obj)
{
    if (sc->depth >= sc->max_depth)
        return reef__json_errf(sc->err, -E2BIG, (const char *)sc->s, sc->pos,
                               "nesting deeper than %u levels", sc->max_depth);
    uint64_t bit = UINT64_C(1) << (sc->depth % 64);
    if (obj)
        sc->is_obj[sc->depth / 64] |= bit;
    else
        sc->is_obj[sc->depth / 64] &= ~bit;
    sc->depth++;
    return 0;
}

static bool top_is_obj(const struct scan *sc)
{
    unsigned d = sc->depth - 1;
    return sc->is_obj[d / 64] >> (d % 64) & 1;
}

/* The grammar of RFC 8259 section 2, as a loop with an explicit stack. On success, *top_start and
 * *top_end bracket the top-level value. */
static int scan_text(struct scan *sc, size_t *top_start, size_t *top_end)
{
    const unsigned char *s = sc->s;
    char buf[16];
    int r;
    if (sc->len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        return FAIL(sc, 0, "byte order mark (U+FEFF) before the value is not allowed");
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return FAIL(sc, sc->pos, sc->len ? "no value, only whitespace" : "empty input");
    *top_start = sc->pos;

value:
    if (sc->pos >= sc->len)
        return FAIL(sc, sc->pos, "unexpected end of input, expected a value");
    if ((r = count_token(sc)) < 0)
        return r;
    switch (s[sc->pos]) {
    case '{':
        if ((r = push(sc, true)) < 0)
            return r;
        sc->pos++;
        skip_ws(sc);
        if (sc->pos < sc->len && s[sc->pos] == '}') {
            sc->pos++;
            sc->depth--;
            goto after;
        }
        goto key;
    case '[':
        if ((r = push(sc, false)) < 0)
            return r;
        sc->pos++;
        skip_ws(sc);
        if (sc->pos < sc->len && s[sc->pos] == ']') {
            sc->pos++;
            sc->depth--;
            goto after;
        }
        goto value;
    case '"':
        r = scan_string(sc);
        break;
    case '-':
    case '0' ... '9':
        r = scan_number(sc);
        break;
    case 't':
    case 'f':
    case 'n':
        r = scan_literal(sc);
        break;
    case ']':
    case '}':
        /* Only reachable after a comma: "[]" and "{}" are handled above. */
        return FAIL(sc, sc->pos, "expected a value, found %s (trailing comma?)",
                    describe(sc, sc->pos, buf));
    default:
        return FAIL(sc, sc->pos, "expected a value, found %s", describe(sc, sc->pos, buf));
    }
    if (r < 0)
        return r;
    goto after;

key: /* inside an object, at a non-blank byte where a member must start */
    if (sc->pos >= sc->len)
        return FAIL(sc, sc->pos, "unexpected end of input in object, expected a key");
    if (s[sc->pos] != '"')
        return FAIL(sc, sc->pos, "expected a string key in object, found %s%s",
                    describe(sc, sc->pos, buf), s[sc->pos] == '}' ? " (trailing comma?)" : "");
    if ((r = count_token(sc)) < 0 || (r = scan_string(sc)) < 0)
        return r;
    skip_ws(sc);
    if (sc->pos >= sc->len || s[sc->pos] != ':')
        return FAIL(sc, sc->pos, "expected ':' after object key, found %s",
                    describe(sc, sc->pos, buf));
    sc->pos++;
    skip_ws(sc);
    goto value;

after: /* just past a complete value */
    if (sc->depth == 0) {
        *top_end = sc->pos;
        skip_ws(sc);
        if (sc->pos < sc->len)
            return FAIL(sc, sc->pos, "unexpected %s after the top-level value",
                        describe(sc, sc->pos, buf));
        return 0;
    }
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return FAIL(sc, sc->pos, "unexpected end of input in %s",
                    top_is_obj(sc) ? "object" : "array");
    if (s[sc->pos] == ',') {
        sc->pos++;
        skip_ws(sc);
        if (top_is_obj(sc))
            goto key;
        goto value;
    }
    if (s[sc->pos] == (top_is_obj(sc) ? '}' : ']')) {
        sc->pos++;
        sc->depth--;
        goto after;
    }
    return FAIL(sc, sc->pos, "expected ',' or '%c' after %s, found %s", top_is_obj(sc) ? '}' : ']',
                top_is_obj(sc) ? "object member" : "array element", describe(sc, sc->pos, buf));
}

void reef_json_doc_init(struct reef_json_doc *d)
{
    *d = (struct reef_json_doc)REEF_JSON_DOC_INIT;
}

void reef_json_doc_free(struct reef_json_doc *d)
{
    free(d->tok_);
    reef_json_doc_init(d);
}

/* Makes room for n tokens and their subtree ends, in one block. */
static int reserve(struct reef_json_doc *d, size_t n, struct reef_err *err)
{
    if ((size_t)d->cap_ >= n)
        return 0;
    size_t each = sizeof(jsmntok_t) + sizeof(int);
    if (n > SIZE_MAX / each)
        return reef_err_set(err, -ENOMEM, "json: %zu tokens do not fit in memory", n);
    void *p = malloc(n * each);
    if (!p)
        return reef_err_set(err, -ENOMEM, "json: out of memory for %zu tokens", n);
    free(d->tok_);
    d->tok_ = p;
    d->next_ = (int *)((jsmntok_t *)p + n);
    d->cap_ = (int)n;
    return 0;
}

int reef_json_parse(struct reef_json_doc *d, const char *src, size_t len,
                    const struct reef_json_limits *lim, struct reef_err *err)
{
    d->src = NULL;
    d->len = 0;
    d->ntok = 0;
    /* jsmn keeps offsets in int. */
    if (len >= INT32_MAX)
        return reef_err_set(err, -E2BIG, "json: text of %zu bytes is too large", len);
    if (!src) {
        if (len)
            return reef_err_set(err, -EINVAL, "json: no text (NULL) of %zu bytes", len);
        src = "";
    }

    struct scan sc = {.s = (const unsigned char *)src, .len = len, .err = err};
    sc.max_depth = lim && lim->max_depth ? lim->max_depth : REEF_JSON_DEFAULT_DEPTH;
    if (sc.max_depth > REEF_JSON_MAX_DEPTH)
        sc.max_depth = REEF_JSON_MAX_DEPTH;
    sc.max_tokens = lim && lim->max_tokens ? lim->max_tokens : REEF_JSON_DEFAULT_TOKENS;
    size_t top_start = 0, top_end = 0;
    int r = scan_text(&sc, &top_start, &top_end);
    if (r < 0)
        return r;
    if ((r = reserve(d, sc.ntok, err)) < 0)
        return r;

    jsmntok_t *tok = d->tok_;
    int n;
    unsigned char c = (unsigned char)src[top_start];
    if (c != '{' && c != '[') {
        /* A lone scalar: jsmn's strict mode wants a delimiter after a primitive, which a
         * top-level one need not have, so the single token is made here. */
        bool str = c == '"';
        tok[0] = (jsmntok_t){.type = str ? JSMN_STRING : JSMN_PRIMITIVE,
                             .start = (int)top_start + str,
                             .end = (int)top_end - str,
                             .parent = -1};
        n = 1;
    } else {
        jsmn_parser p;
        jsmn_init(&p);
        n = jsmn_parse(&p, src, len, tok, (unsigned)sc.ntok);
    }
    if (REEF_NEVER(n < 0 || (size_t)n != sc.ntok))
        return reef_err_set(err, -EINVAL, "json: tokenizer disagrees with validator (%d, %zu)", n,
                            sc.ntok);

    /* next[i]: the token after i's subtree. A key's subtree holds its value, so from a key, next
     * is the following key. Parents precede children, so one backward pass suffices. */
    int *next = d->next_;
    for (int i = 0; i < n; i++)
        next[i] = i + 1;
    for (int i = n - 1; i > 0; i--) {
        int parent = tok[i].parent;
        if (REEF_ALWAYS(parent >= 0 && parent < i) && next[i] > next[parent])
            next[parent] = next[i];
    }
    d->src = src;
    d->len = len;
    d->ntok = n;
    return 0;
}
