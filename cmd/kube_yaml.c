/* kube_yaml: JSON values written as kubectl -o yaml writes them (sigs.k8s.io/yaml over
 * go-yaml v2), for reef get and reef edit. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/kube.h"
#include "core/json.h"

struct ye {
    struct reef_buf *out;
    size_t col;
};

static void ye_put(struct ye *y, const char *s, size_t n)
{
    reef_buf_append(y->out, s, n);
    for (size_t i = 0; i < n; i++)
        y->col = s[i] == '\n' ? 0 : y->col + 1;
}

static void ye_puts(struct ye *y, const char *s)
{
    ye_put(y, s, strlen(s));
}

static void ye_indent(struct ye *y, size_t indent)
{
    if (y->col > 0)
        ye_puts(y, "\n");
    for (size_t i = 0; i < indent; i++)
        ye_puts(y, " ");
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Whether go-yaml would read the plain scalar s as something other than a string. */
static bool resolves_non_string(const char *s)
{
    static const char *const special[] = {
        "",      "~",     "null",  "Null",  "NULL",  "y",     "Y",    "yes",  "Yes",   "YES",
        "n",     "N",     "no",    "No",    "NO",    "true",  "True", "TRUE", "false", "False",
        "FALSE", "on",    "On",    "ON",    "off",   "Off",   "OFF",  ".inf", ".Inf",  ".INF",
        "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN",  "<<"};
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (strcmp(s, special[i]) == 0)
            return true;
    if (!strchr("+-.0123456789", s[0]))
        return false;
    /* timestamps: 2006-1-2, optionally followed by a time */
    {
        const char *p = s;
        int nd = 0;
        while (is_digit(*p) && nd < 5)
            p++, nd++;
        if (nd == 4 && *p == '-' && is_digit(p[1])) {
            p += 2;
            if (is_digit(*p))
                p++;
            if (*p == '-' && is_digit(p[1])) {
                p += 2;
                if (is_digit(*p))
                    p++;
                if (*p == 0 || ((*p == 'T' || *p == 't' || *p == ' ') && is_digit(p[1])))
                    return true;
            }
        }
    }
    /* integers (underscores allowed), floats, and base-60 numbers such as 1:20 */
    char tmp[128];
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < sizeof(tmp); p++)
        if (*p != '_')
            tmp[n++] = *p;
    tmp[n] = 0;
    if (strlen(s) < sizeof(tmp) && n > 0) {
        char *end;
        errno = 0;
        (void)strtoll(tmp, &end, 0);
        if (*end == 0)
            return true;
        const char *q = tmp;
        if (*q == '+' || *q == '-')
            q++;
        /* Go's ParseInt with base 0: 0b101 and 0o17 (either case), when everything after the
         * prefix is a digit of that base */
        if (q[0] == '0' && (q[1] == 'b' || q[1] == 'B') && q[2] &&
            strspn(q + 2, "01") == strlen(q + 2))
            return true;
        if (q[0] == '0' && (q[1] == 'o' || q[1] == 'O') && q[2] &&
            strspn(q + 2, "01234567") == strlen(q + 2))
            return true;
        (void)strtod(tmp, &end);
        if (*end == 0 && !strchr(tmp, 'x') && !strchr(tmp, 'X') && !strchr(tmp, 'n') &&
            !strchr(tmp, 'N'))
            return true;
    }
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!is_digit(*p))
        return false;
    while (is_digit(*p) || *p == '_')
        p++;
    bool sixty = false;
    while (*p == ':' && is_digit(p[1])) {
        p++;
        if (is_digit(*p) && is_digit(p[1]) && *p > '5')
            return false;
        p++;
        if (is_digit(*p))
            p++;
        sixty = true;
    }
    if (sixty && *p == '.') {
        p++;
        while (is_digit(*p) || *p == '_')
            p++;
    }
    return sixty && *p == 0;
}

/* libyaml's analysis: may s be written plain in block context? */
static bool plain_allowed(const char *s, size_t n)
{
    if (n == 0)
        return false;
    if (n >= 3 && (strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0))
        return false;
    if (s[0] == ' ' || s[n - 1] == ' ')
        return false;
    if (strchr("#,[]{}&*!|>'\"%@`", s[0]))
        return false;
    if (strchr("-?:", s[0]) && (n == 1 || s[1] == ' '))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ':' && (i + 1 == n || s[i + 1] == ' '))
            return false;
        if (c == '#' && i > 0 && s[i - 1] == ' ')
            return false;
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static bool needs_double(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return true;
        if (c == '\n' && i > 0 && s[i - 1] == ' ')
            return true;
    }
    return false;
}

/* Writes s[0..n) with go-yaml's line folding: a space once past column 80 becomes a line break
 * and the indentation. */
static void ye_folded(struct ye *y, const char *s, size_t n, size_t indent, bool fold)
{
    bool spaces = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') {
            if (fold && !spaces && y->col > 80 && i + 1 < n && s[i + 1] != ' ') {
                ye_indent(y, indent);
            } else {
                ye_put(y, s + i, 1);
            }
            spaces = true;
        } else {
            ye_put(y, s + i, 1);
            spaces = false;
        }
    }
}

static void ye_string(struct ye *y, const char *s, size_t n, size_t indent, bool key)
{
    bool nul = memchr(s, 0, n) != NULL;
    char *z = strndup(s, n);
    if (!z)
        return;
    if (!key && !nul && memchr(s, '\n', n) && !needs_double(s, n) && s[0] != ' ') {
        size_t trail = 0;
        while (trail < n && s[n - 1 - trail] == '\n')
            trail++;
        ye_puts(y, trail == 0 ? "|-" : trail == 1 ? "|" : "|+");
        /* the lines of the content; the final line break belongs to the chomping indicator */
        const char *p = s, *e = trail ? s + n - 1 : s + n;
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            size_t l = nl ? (size_t)(nl - p) : (size_t)(e - p);
            ye_puts(y, "\n");
            for (size_t i = 0; l && i < indent; i++)
                ye_puts(y, " ");
            ye_put(y, p, l);
            if (!nl)
                break;
            p = nl + 1;
        }
        y->col = 1; /* the next line starts after a break, wherever this one ended */
        free(z);
        return;
    }
    if (!nul && !needs_double(s, n) && !memchr(s, '\n', n) && !resolves_non_string(z)) {
        if (plain_allowed(s, n)) {
            ye_folded(y, s, n, indent, !key);
        } else {
            ye_puts(y, "'");
            bool spaces = false;
            for (size_t i = 0; i < n; i++) {
                if (s[i] == ' ') {
                    if (!key && !spaces && y->col > 80 && i > 0 && i + 1 < n && s[i + 1] != ' ')
                        ye_indent(y, indent);
                    else
                        ye_put(y, s + i, 1);
                    spaces = true;
                    continue;
                }
                if (s[i] == '\'')
                    ye_puts(y, "'");
                ye_put(y, s + i, 1);
                spaces = false;
            }
            ye_puts(y, "'");
        }
        free(z);
        return;
    }
    /* double-quoted, escaped */
    ye_puts(y, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
        case '"':
            ye_puts(y, "\\\"");
            break;
        case '\\':
            ye_puts(y, "\\\\");
            break;
        case '\n':
            ye_puts(y, "\\n");
            break;
        case '\t':
            ye_puts(y, "\\t");
            break;
        case '\r':
            ye_puts(y, "\\r");
            break;
        case 0:
            ye_puts(y, "\\0");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof(esc), "\\x%02X", c);
                ye_puts(y, esc);
            } else {
                ye_put(y, s + i, 1);
            }
        }
    }
    ye_puts(y, "\"");
    free(z);
}

/* go-yaml's key order: letters after other characters, digit runs compared as numbers. */
static bool yaml_key_less(const char *a, size_t an_, const char *b, size_t bn_)
{
    size_t i;
    for (i = 0; i < an_ && i < bn_; i++) {
        char ac = a[i], bc = b[i];
        if (ac == bc)
            continue;
        bool al = (ac >= 'a' && ac <= 'z') || (ac >= 'A' && ac <= 'Z') || (ac & 0x80);
        bool bl = (bc >= 'a' && bc <= 'z') || (bc >= 'A' && bc <= 'Z') || (bc & 0x80);
        if (al && bl)
            return (unsigned char)ac < (unsigned char)bc;
        if (al || bl)
            return bl;
        long long an = 0, bn = 0;
        size_t ai, bi;
        if (ac == '0' || bc == '0') {
            for (size_t j = i; j-- > 0 && is_digit(a[j]);) {
                if (a[j] != '0') {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        for (ai = i; ai < an_ && is_digit(a[ai]) && an < (1LL << 58); ai++)
            an = an * 10 + (a[ai] - '0');
        for (bi = i; bi < bn_ && is_digit(b[bi]) && bn < (1LL << 58); bi++)
            bn = bn * 10 + (b[bi] - '0');
        if (an != bn)
            return an < bn;
        if (ai != bi)
            return ai < bi;
        return (unsigned char)ac < (unsigned char)bc;
    }
    return an_ < bn_;
}

struct ykey {
    int key, val;
    char *s;
    size_t n;
};

static int ykey_cmp(const void *pa, const void *pb)
{
    const struct ykey *a = pa, *b = pb;
    if (yaml_key_less(a->s, a->n, b->s, b->n))
        return -1;
    if (yaml_key_less(b->s, b->n, a->s, a->n))
        return 1;
    return 0;
}

static void ye_value(struct ye *y, const struct reef_json_doc *d, int v, size_t indent);

static void ye_map(struct ye *y, const struct reef_json_doc *d, int v, size_t indent,
                   bool inline_first)
{
    int n = reef_json_count(d, v);
    struct ykey *m = calloc(n > 0 ? (size_t)n : 1, sizeof(*m));
    if (!m)
        return;
    struct reef_json_iter it = reef_json_iter(d, v);
    int cnt = 0;
    while (reef_json_next(d, &it) && cnt < n) {
        struct reef_buf kb;
        reef_buf_init(&kb);
        reef_json_get_strbuf(d, it.key, &kb, NULL);
        m[cnt].key = it.key;
        m[cnt].val = it.val;
        m[cnt].n = kb.len;
        m[cnt].s = kb.data ? reef_buf_steal(&kb) : strdup("");
        cnt++;
    }
    qsort(m, (size_t)cnt, sizeof(*m), ykey_cmp);
    for (int i = 0; i < cnt; i++) {
        if (i > 0 || !inline_first)
            ye_indent(y, indent);
        ye_string(y, m[i].s ? m[i].s : "", m[i].s ? m[i].n : 0, indent, true);
        ye_puts(y, ":");
        enum reef_json_kind k = reef_json_kind(d, m[i].val);
        int c = reef_json_count(d, m[i].val);
        if (k == REEF_JSON_OBJECT && c > 0) {
            ye_map(y, d, m[i].val, indent + 2, false);
        } else if (k == REEF_JSON_ARRAY && c > 0) {
            ye_value(y, d, m[i].val, indent); /* sequences in a mapping are not indented */
        } else {
            ye_puts(y, " ");
            ye_value(y, d, m[i].val, indent + 2);
        }
        free(m[i].s);
    }
    free(m);
}

static void ye_seq(struct ye *y, const struct reef_json_doc *d, int v, size_t indent,
                   bool inline_first)
{
    struct reef_json_iter it = reef_json_iter(d, v);
    bool first = true;
    while (reef_json_next(d, &it)) {
        if (!first || !inline_first)
            ye_indent(y, indent);
        first = false;
        ye_puts(y, "- ");
        enum reef_json_kind k = reef_json_kind(d, it.val);
        int c = reef_json_count(d, it.val);
        if (k == REEF_JSON_OBJECT && c > 0)
            ye_map(y, d, it.val, indent + 2, true);
        else if (k == REEF_JSON_ARRAY && c > 0)
            ye_seq(y, d, it.val, indent + 2, true);
        else
            ye_value(y, d, it.val, indent + 2);
    }
}

static void ye_value(struct ye *y, const struct reef_json_doc *d, int v, size_t indent)
{
    switch (reef_json_kind(d, v)) {
    case REEF_JSON_OBJECT:
        if (reef_json_count(d, v) == 0)
            ye_puts(y, "{}");
        else
            ye_map(y, d, v, indent, false);
        break;
    case REEF_JSON_ARRAY:
        if (reef_json_count(d, v) == 0)
            ye_puts(y, "[]");
        else
            ye_seq(y, d, v, indent, false);
        break;
    case REEF_JSON_STRING: {
        struct reef_buf b;
        reef_buf_init(&b);
        reef_json_get_strbuf(d, v, &b, NULL);
        ye_string(y, b.data ? b.data : "", b.len, indent, false);
        reef_buf_free(&b);
        break;
    }
    default: {
        size_t n;
        const char *raw = reef_json_raw(d, v, &n);
        if (raw)
            ye_put(y, raw, n);
    }
    }
}

int reef_kube_put_yaml(struct reef_buf *out, const struct reef_json_doc *d, int v)
{
    struct ye y = {out, 0};
    ye_value(&y, d, v, 0);
    ye_puts(&y, "\n");
    return 0;
}
