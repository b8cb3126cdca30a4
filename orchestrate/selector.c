/* selector: label and field selectors, parsed as k8s.io/apimachinery parses them.
 *
 * The label grammar is the apiserver's (pkg/labels/selector.go): a lexer that splits the input into
 * identifiers, the keywords `in`/`notin` and the symbols ! != = == ( ) , > <, all scanned up front,
 * and a recursive-descent parser over them. Error texts are kept word for word, since kubectl shows
 * them to users. Field selectors live in selector_field.c. */
#include "orchestrate/selector.h"
#include "orchestrate/selector_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Label key and value validation (k8s.io/apimachinery/pkg/util/validation) */

#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define QNAME_MSG                                                                                  \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for "           \
    "validation is '" QNAME_FMT "')"
#define DNS1123_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
#define DNS1123_MSG                                                                                \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "       \
    "used for validation is '" DNS1123_FMT "')"
#define LABEL_VALUE_MSG                                                                            \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue', or "              \
    "'my_value', or '12345', regex used for validation is "                                        \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], the whole of s[0..n) (n > 0). */
static bool qname_ok(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

static bool dns1123_label_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool lower_alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!lower_alnum && !(c == '-' && i > 0 && i + 1 < n))
            return false;
    }
    return true;
}

static bool dns1123_subdomain_ok(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++)
        if (i == n || s[i] == '.') {
            if (!dns1123_label_ok(s + start, i - start))
                return false;
            start = i + 1;
        }
    return true;
}

/* Appends "; " between messages, like strings.Join(errs, "; "). */
static void add_msg(char *dst, size_t size, const char *msg)
{
    size_t len = strlen(dst);
    snprintf(dst + len, size - len, "%s%s", len ? "; " : "", msg);
}

/* IsQualifiedName: "" when k is a valid label key, else the joined messages. */
static void check_key(const char *k, char *msg, size_t size)
{
    msg[0] = '\0';
    const char *slash = strchr(k, '/');
    const char *name = k;
    if (slash && strchr(slash + 1, '/')) {
        add_msg(msg, size,
                "a qualified name " QNAME_MSG " with an optional DNS subdomain prefix and '/' "
                "(e.g. 'example.com/MyName')");
        return;
    }
    if (slash) {
        size_t plen = (size_t)(slash - k);
        name = slash + 1;
        if (plen == 0)
            add_msg(msg, size, "prefix part must be non-empty");
        else if (plen > 253)
            add_msg(msg, size, "prefix part must be no more than 253 characters");
        else if (!dns1123_subdomain_ok(k, plen))
            add_msg(msg, size, "prefix part " DNS1123_MSG);
    }
    size_t n = strlen(name);
    if (n == 0)
        add_msg(msg, size, "name part must be non-empty");
    else if (n > 63)
        add_msg(msg, size, "name part must be no more than 63 characters");
    if (!qname_ok(name, n))
        add_msg(msg, size, "name part " QNAME_MSG);
}

static void check_value(const char *v, char *msg, size_t size)
{
    msg[0] = '\0';
    size_t n = strlen(v);
    if (n > 63)
        add_msg(msg, size, "must be no more than 63 characters");
    if (n > 0 && !qname_ok(v, n))
        add_msg(msg, size, LABEL_VALUE_MSG);
}

/* Long keys and values are echoed cut short, so that the reason still fits in a reef_err. */
#define SHORT(s) (int)(strlen(s) > 64 ? 61 : strlen(s)), (s), (strlen(s) > 64 ? "..." : "")

/* Label selectors */

struct req {
    char *key;
    enum reef_label_op op;
    char **vals; /* sorted, unique */
    size_t nvals;
    long long num; /* GT / LT */
};

struct reef_label_selector {
    bool nothing;
    struct req *reqs;
    size_t n;
};

static void req_free(struct req *r)
{
    free(r->key);
    for (size_t i = 0; i < r->nvals; i++)
        free(r->vals[i]);
    free(r->vals);
}

void reef_label_selector_free(struct reef_label_selector *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++)
        req_free(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds v to r's value set, keeping it sorted and unique (a sets.String in Go). */
static int req_add_value(struct req *r, const char *v, size_t n)
{
    char *copy = reef_strndup(v, n);
    if (!copy)
        return -ENOMEM;
    for (size_t i = 0; i < r->nvals; i++)
        if (strcmp(r->vals[i], copy) == 0) {
            free(copy);
            return 0;
        }
    char **vals = realloc(r->vals, (r->nvals + 1) * sizeof(*vals));
    if (!vals) {
        free(copy);
        return -ENOMEM;
    }
    r->vals = vals;
    r->vals[r->nvals++] = copy;
    qsort(r->vals, r->nvals, sizeof(*r->vals), cmp_str);
    return 0;
}

/* NewRequirement's checks on a requirement whose key and values are filled in. */
static int req_validate(struct req *r, struct reef_err *err)
{
    char msg[1024];
    check_key(r->key, msg, sizeof(msg));
    if (msg[0])
        return reef_err_set(err, -EINVAL, "key: Invalid value: \"%.*s%s\": %s", SHORT(r->key), msg);
    switch (r->op) {
    case REEF_LABEL_IN:
    case REEF_LABEL_NOT_IN:
        if (r->nvals == 0)
            return reef_err_set(err, -EINVAL,
                                "values: Invalid value: []string{}: for 'in', 'notin' operators, "
                                "values set can't be empty");
        break;
    case REEF_LABEL_EQUALS:
    case REEF_LABEL_DOUBLE_EQUALS:
    case REEF_LABEL_NOT_EQUALS:
        if (r->nvals != 1)
            return reef_err_set(err, -EINVAL,
                                "values: Invalid value: %zu values: exact-match compatibility "
                                "requires one single value",
                                r->nvals);
        break;
    case REEF_LABEL_EXISTS:
    case REEF_LABEL_NOT_EXISTS:
        if (r->nvals != 0)
            return reef_err_set(err, -EINVAL,
                                "values: Invalid value: %zu values: values set must be empty for "
                                "exists and does not exist",
                                r->nvals);
        break;
    case REEF_LABEL_GT:
    case REEF_LABEL_LT:
        if (r->nvals != 1)
            return reef_err_set(err, -EINVAL,
                                "values: Invalid value: %zu values: for 'Gt', 'Lt' operators, "
                                "exactly one value is required",
                                r->nvals);
        if (reef_str_to_ll(r->vals[0], INT64_MIN, INT64_MAX, &r->num) < 0)
            return reef_err_set(err, -EINVAL,
                                "values[0]: Invalid value: \"%.*s%s\": for 'Gt', 'Lt' operators, "
                                "the value must be an integer",
                                SHORT(r->vals[0]));
        return 0;
    }
    for (size_t i = 0; i < r->nvals; i++) {
        check_value(r->vals[i], msg, sizeof(msg));
        if (msg[0])
            return reef_err_set(err, -EINVAL, "values[%zu]: Invalid value: \"%.*s%s\": %s", i,
                                SHORT(r->vals[i]), msg);
    }
    return 0;
}

static int sel_add(struct reef_label_selector *sel, struct req *r)
{
    struct req *reqs = realloc(sel->reqs, (sel->n + 1) * sizeof(*reqs));
    if (!reqs)
        return -ENOMEM;
    sel->reqs = reqs;
    sel->reqs[sel->n++] = *r;
    memset(r, 0, sizeof(*r));
    return 0;
}

/* Requirements are kept sorted by key (stable), as labels.Selector.Add does. */
static void sel_sort(struct reef_label_selector *sel)
{
    for (size_t i = 1; i < sel->n; i++) {
        struct req r = sel->reqs[i];
        size_t j = i;
        while (j > 0 && strcmp(sel->reqs[j - 1].key, r.key) > 0) {
            sel->reqs[j] = sel->reqs[j - 1];
            j--;
        }
        sel->reqs[j] = r;
    }
}

/* Lexer */

enum tok {
    T_ERROR, /* not a symbol */
    T_EOS,
    T_CLOSE,
    T_COMMA,
    T_NOT,
    T_DEQ,
    T_EQ,
    T_GT,
    T_IDENT,
    T_IN,
    T_LT,
    T_NEQ,
    T_NOTIN,
    T_OPEN,
};

struct item {
    enum tok tok;
    const char *lit; /* into the input */
    size_t n;
};

struct parser {
    struct item *items;
    size_t n, pos;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static enum tok symbol_tok(const char *s, size_t n)
{
    static const struct {
        const char *s;
        enum tok t;
    } syms[] = {{")", T_CLOSE}, {",", T_COMMA}, {"!", T_NOT},  {"==", T_DEQ}, {"=", T_EQ},
                {">", T_GT},    {"<", T_LT},    {"!=", T_NEQ}, {"(", T_OPEN}};
    for (size_t i = 0; i < REEF_ARRAY_LEN(syms); i++)
        if (strlen(syms[i].s) == n && memcmp(syms[i].s, s, n) == 0)
            return syms[i].t;
    return T_ERROR;
}

static int lex(struct parser *p, const char *s)
{
    size_t len = strlen(s), i = 0;
    p->items = calloc(len + 1, sizeof(*p->items)); /* never more items than bytes, plus EOS */
    if (!p->items)
        return -ENOMEM;
    for (;;) {
        while (i < len && is_ws(s[i]))
            i++;
        struct item *it = &p->items[p->n++];
        it->lit = s + i;
        if (i >= len) {
            it->tok = T_EOS;
            return 0;
        }
        if (is_special(s[i])) {
            /* Longest run of symbols that still forms a token, as scanSpecialSymbol does. */
            size_t start = i, best = 0;
            while (i < len && is_special(s[i])) {
                size_t n = i - start + 1;
                if (symbol_tok(s + start, n) != T_ERROR)
                    best = n;
                else if (best)
                    break;
                i++;
            }
            /* Every single symbol is a token, so a run always yields one (upstream's
             * "error expected: keyword found" cannot happen with this symbol set). */
            it->tok = symbol_tok(s + start, best);
            it->n = best;
            i = start + best;
            continue;
        }
        size_t start = i;
        while (i < len && !is_ws(s[i]) && !is_special(s[i]))
            i++;
        it->n = i - start;
        if (it->n == 2 && memcmp(it->lit, "in", 2) == 0)
            it->tok = T_IN;
        else if (it->n == 5 && memcmp(it->lit, "notin", 5) == 0)
            it->tok = T_NOTIN;
        else
            it->tok = T_IDENT;
    }
}

/* In the Values context the keywords are plain identifiers (a label may be called "in"). */
static struct item *peek(struct parser *p, bool values, enum tok *t)
{
    struct item *it = &p->items[p->pos];
    *t = it->tok;
    if (values && (*t == T_IN || *t == T_NOTIN))
        *t = T_IDENT;
    return it;
}

static struct item *next(struct parser *p, bool values, enum tok *t)
{
    struct item *it = peek(p, values, t);
    if (it->tok != T_EOS)
        p->pos++;
    return it;
}

#define LIT(it) (int)((it)->n > 128 ? 128 : (it)->n), (it)->lit

static int parse_values(struct parser *p, struct req *r, struct reef_err *err)
{
    enum tok t;
    struct item *it = next(p, true, &t);
    if (t != T_OPEN)
        return reef_err_set(err, -EINVAL, "found '%.*s' expected: '('", LIT(it));
    struct item *la = peek(p, true, &t);
    if (t == T_CLOSE) {
        next(p, true, &t);
        return req_add_value(r, "", 0);
    }
    if (t != T_IDENT && t != T_COMMA)
        return reef_err_set(err, -EINVAL, "found '%.*s', expected: ',', ')' or identifier",
                            LIT(la));
    /* parseIdentifiersList: empty entries around commas stand for the empty value. */
    for (;;) {
        it = next(p, true, &t);
        if (t == T_IDENT) {
            if (req_add_value(r, it->lit, it->n) < 0)
                return -ENOMEM;
            struct item *it2 = peek(p, true, &t);
            if (t == T_COMMA)
                continue;
            if (t == T_CLOSE)
                break;
            return reef_err_set(err, -EINVAL, "found '%.*s', expected: ',' or ')'", LIT(it2));
        } else if (t == T_COMMA) {
            if (r->nvals == 0 && req_add_value(r, "", 0) < 0)
                return -ENOMEM;
            peek(p, true, &t);
            if (t == T_CLOSE) {
                if (req_add_value(r, "", 0) < 0)
                    return -ENOMEM;
                break;
            }
            if (t == T_COMMA) {
                next(p, true, &t);
                if (req_add_value(r, "", 0) < 0)
                    return -ENOMEM;
            }
        } else {
            return reef_err_set(err, -EINVAL, "found '%.*s', expected: ',', or identifier",
                                LIT(it));
        }
    }
    it = next(p, true, &t);
    if (t != T_CLOSE)
        return reef_err_set(err, -EINVAL, "found '%.*s', expected: ')'", LIT(la));
    return 0;
}

static int parse_requirement(struct parser *p, struct req *r, struct reef_err *err)
{
    enum tok t;
    bool not = false;
    struct item *it = next(p, true, &t);
    if (t == T_NOT) {
        not = true;
        it = next(p, true, &t);
    }
    if (t != T_IDENT)
        return reef_err_set(err, -EINVAL, "found '%.*s', expected: identifier", LIT(it));
    r->key = reef_strndup(it->lit, it->n);
    if (!r->key)
        return -ENOMEM;
    char msg[1024];
    check_key(r->key, msg, sizeof(msg));
    if (msg[0])
        return reef_err_set(err, -EINVAL, "key: Invalid value: \"%.*s%s\": %s", SHORT(r->key), msg);
    peek(p, true, &t);
    /* `!a` is complete by itself; in `!a=b` the caller then stumbles on the `=`, as upstream. */
    if (t == T_EOS || t == T_COMMA || not ) {
        r->op = not ? REEF_LABEL_NOT_EXISTS : REEF_LABEL_EXISTS;
        return req_validate(r, err);
    }
    it = next(p, false, &t);
    switch (t) {
    case T_IN:
        r->op = REEF_LABEL_IN;
        break;
    case T_NOTIN:
        r->op = REEF_LABEL_NOT_IN;
        break;
    case T_EQ:
        r->op = REEF_LABEL_EQUALS;
        break;
    case T_DEQ:
        r->op = REEF_LABEL_DOUBLE_EQUALS;
        break;
    case T_NEQ:
        r->op = REEF_LABEL_NOT_EQUALS;
        break;
    case T_GT:
        r->op = REEF_LABEL_GT;
        break;
    case T_LT:
        r->op = REEF_LABEL_LT;
        break;
    default:
        return reef_err_set(err, -EINVAL, "found '%.*s', expected: in, notin, =, ==, !=, gt, lt",
                            LIT(it));
    }
    int rc;
    if (r->op == REEF_LABEL_IN || r->op == REEF_LABEL_NOT_IN) {
        rc = parse_values(p, r, err);
    } else {
        struct item *la = peek(p, true, &t);
        if (t == T_EOS || t == T_COMMA) {
            rc = req_add_value(r, "", 0);
        } else {
            la = next(p, true, &t);
            rc = t == T_IDENT
                     ? req_add_value(r, la->lit, la->n)
                     : reef_err_set(err, -EINVAL, "found '%.*s', expected: identifier", LIT(la));
        }
    }
    if (rc < 0)
        return rc == -ENOMEM ? reef_err_set(err, rc, "out of memory") : rc;
    return req_validate(r, err);
}

static int parse_all(struct parser *p, struct reef_label_selector *sel, struct reef_err *err)
{
    for (;;) {
        enum tok t;
        struct item *it = peek(p, true, &t);
        if (t == T_EOS)
            return 0;
        if (t != T_IDENT && t != T_NOT)
            return reef_err_set(
                err, -EINVAL, "found '%.*s', expected: !, identifier, or 'end of string'", LIT(it));
        struct req r = {0};
        int rc = parse_requirement(p, &r, err);
        if (rc == 0)
            rc = sel_add(sel, &r);
        req_free(&r);
        if (rc == -ENOMEM)
            return reef_err_set(err, rc, "out of memory");
        if (rc < 0)
            return reef_err_wrap(err, "unable to parse requirement");
        it = next(p, true, &t);
        if (t == T_EOS)
            return 0;
        if (t != T_COMMA)
            return reef_err_set(err, -EINVAL, "found '%.*s', expected: ',' or 'end of string'",
                                LIT(it));
        it = peek(p, true, &t);
        if (t != T_IDENT && t != T_NOT)
            return reef_err_set(err, -EINVAL, "found '%.*s', expected: identifier after ','",
                                LIT(it));
    }
}

int reef_label_selector_parse(const char *s, struct reef_label_selector **out, struct reef_err *err)
{
    *out = NULL;
    if (strlen(s) > MAX_SELECTOR_LEN)
        return reef_err_set(err, -E2BIG, "label selector longer than %d bytes", MAX_SELECTOR_LEN);
    struct reef_label_selector *sel = calloc(1, sizeof(*sel));
    struct parser p = {0};
    if (!sel || lex(&p, s) < 0) {
        free(sel);
        free(p.items);
        return reef_err_set(err, -ENOMEM, "out of memory");
    }
    int r = parse_all(&p, sel, err);
    free(p.items);
    if (r < 0) {
        reef_label_selector_free(sel);
        return r;
    }
    sel_sort(sel);
    *out = sel;
    return 0;
}

/* LabelSelector object (metav1.LabelSelectorAsSelector) */

static int json_str(const struct reef_json_doc *d, int v, char **out, const char *what,
                    struct reef_err *err)
{
    if (reef_json_get_strdup(d, v, out, err) < 0)
        return reef_err_wrap(err, "%s", what);
    return 0;
}

/* Equality requirements for every member of the map obj. */
static int add_map(struct reef_label_selector *sel, const struct reef_json_doc *d, int obj,
                   const char *what, struct reef_err *err)
{
    struct reef_json_iter it = reef_json_iter(d, obj);
    while (reef_json_next(d, &it)) {
        struct req r = {0};
        char *val = NULL;
        int rc;
        if ((rc = json_str(d, it.key, &r.key, what, err)) == 0 &&
            (rc = json_str(d, it.val, &val, what, err)) == 0) {
            r.op = REEF_LABEL_EQUALS;
            rc = req_add_value(&r, val, strlen(val));
            if (rc == 0)
                rc = req_validate(&r, err);
            if (rc == 0)
                rc = sel_add(sel, &r);
            if (rc == -ENOMEM)
                reef_err_set(err, rc, "out of memory");
        }
        free(val);
        req_free(&r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int reef_label_selector_from_map(const struct reef_json_doc *d, int v,
                                 struct reef_label_selector **out, struct reef_err *err)
{
    *out = NULL;
    struct reef_label_selector *sel = calloc(1, sizeof(*sel));
    if (!sel)
        return reef_err_set(err, -ENOMEM, "out of memory");
    int rc = 0;
    if (v >= 0 && reef_json_kind(d, v) == REEF_JSON_OBJECT)
        rc = add_map(sel, d, v, "selector", err);
    else if (v >= 0 && reef_json_kind(d, v) != REEF_JSON_NULL)
        rc = reef_err_set(err, -EINVAL, "selector: expected an object, found %s",
                          reef_json_kind_name(reef_json_kind(d, v)));
    if (rc < 0) {
        reef_label_selector_free(sel);
        return rc;
    }
    sel_sort(sel);
    *out = sel;
    return 0;
}

int reef_label_selector_from_json(const struct reef_json_doc *d, int v,
                                  struct reef_label_selector **out, struct reef_err *err)
{
    *out = NULL;
    struct reef_label_selector *sel = calloc(1, sizeof(*sel));
    if (!sel)
        return reef_err_set(err, -ENOMEM, "out of memory");
    if (v < 0 || reef_json_kind(d, v) == REEF_JSON_NULL) {
        sel->nothing = true;
        *out = sel;
        return 0;
    }
    int rc = 0;
    struct req r = {0};
    if (reef_json_kind(d, v) != REEF_JSON_OBJECT) {
        rc = reef_err_set(err, -EINVAL, "label selector: expected an object, found %s",
                          reef_json_kind_name(reef_json_kind(d, v)));
        goto fail;
    }
    int ml = reef_json_member(d, v, "matchLabels");
    if (ml >= 0 && reef_json_kind(d, ml) == REEF_JSON_OBJECT) {
        if ((rc = add_map(sel, d, ml, "matchLabels", err)) < 0)
            goto fail;
    } else if (ml >= 0 && reef_json_kind(d, ml) != REEF_JSON_NULL) {
        rc = reef_err_set(err, -EINVAL, "label selector: matchLabels must be an object");
        goto fail;
    }
    int me = reef_json_member(d, v, "matchExpressions");
    if (me >= 0 && reef_json_kind(d, me) == REEF_JSON_ARRAY) {
        struct reef_json_iter it = reef_json_iter(d, me);
        while (reef_json_next(d, &it)) {
            int k = reef_json_member(d, it.val, "key");
            int o = reef_json_member(d, it.val, "operator");
            int vals = reef_json_member(d, it.val, "values");
            char op[32] = "";
            if (k < 0 || (rc = json_str(d, k, &r.key, "matchExpressions key", err)) < 0) {
                if (k < 0)
                    rc = reef_err_set(err, -EINVAL, "matchExpressions[%d]: key is required",
                                      it.index);
                goto fail;
            }
            if (o >= 0 && reef_json_get_str(d, o, op, sizeof(op), NULL) < 0)
                op[0] = '?';
            if (!strcmp(op, "In"))
                r.op = REEF_LABEL_IN;
            else if (!strcmp(op, "NotIn"))
                r.op = REEF_LABEL_NOT_IN;
            else if (!strcmp(op, "Exists"))
                r.op = REEF_LABEL_EXISTS;
            else if (!strcmp(op, "DoesNotExist"))
                r.op = REEF_LABEL_NOT_EXISTS;
            else {
                rc =
                    reef_err_set(err, -EINVAL, "\"%s\" is not a valid label selector operator", op);
                goto fail;
            }
            struct reef_json_iter vi = reef_json_iter(d, vals);
            while (vals >= 0 && reef_json_next(d, &vi)) {
                char *val = NULL;
                if ((rc = json_str(d, vi.val, &val, "matchExpressions values", err)) < 0)
                    goto fail;
                rc = req_add_value(&r, val, strlen(val));
                free(val);
                if (rc < 0)
                    goto nomem;
            }
            if ((rc = req_validate(&r, err)) < 0)
                goto fail;
            if ((rc = sel_add(sel, &r)) < 0)
                goto nomem;
        }
    } else if (me >= 0 && reef_json_kind(d, me) != REEF_JSON_NULL) {
        rc = reef_err_set(err, -EINVAL, "label selector: matchExpressions must be an array");
        goto fail;
    }
    sel_sort(sel);
    *out = sel;
    return 0;
nomem:
    rc = reef_err_set(err, -ENOMEM, "out of memory");
fail:
    req_free(&r);
    reef_label_selector_free(sel);
    return rc;
}

/* Matching */

static bool req_has(const struct req *r, const char *v, size_t n)
{
    for (size_t i = 0; i < r->nvals; i++)
        if (strlen(r->vals[i]) == n && memcmp(r->vals[i], v, n) == 0)
            return true;
    return false;
}

static bool req_matches(const struct req *r, const struct reef_json_doc *d, int labels)
{
    int v = labels >= 0 ? reef_json_member(d, labels, r->key) : -ENOENT;
    bool has = v >= 0;
    const char *s = NULL;
    size_t n = 0;
    char tmp[256];
    if (has && reef_json_str_view(d, v, &s, &n) == -EAGAIN) {
        if (reef_json_get_str(d, v, tmp, sizeof(tmp), NULL) == 0) {
            s = tmp;
            n = strlen(tmp);
        }
    }
    /* A label that is not a string cannot equal any value (labels are map[string]string). */
    switch (r->op) {
    case REEF_LABEL_EQUALS:
    case REEF_LABEL_DOUBLE_EQUALS:
    case REEF_LABEL_IN:
        return has && s && req_has(r, s, n);
    case REEF_LABEL_NOT_EQUALS:
    case REEF_LABEL_NOT_IN:
        return !has || !s || !req_has(r, s, n);
    case REEF_LABEL_EXISTS:
        return has;
    case REEF_LABEL_NOT_EXISTS:
        return !has;
    case REEF_LABEL_GT:
    case REEF_LABEL_LT: {
        char buf[32];
        long long x;
        if (!has || !s || n >= sizeof(buf))
            return false;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (reef_str_to_ll(buf, INT64_MIN, INT64_MAX, &x) < 0)
            return false;
        return r->op == REEF_LABEL_GT ? x > r->num : x < r->num;
    }
    }
    return false;
}

bool reef_label_selector_matches(const struct reef_label_selector *sel,
                                 const struct reef_json_doc *d, int labels)
{
    if (sel->nothing)
        return false;
    if (labels >= 0 && reef_json_kind(d, labels) != REEF_JSON_OBJECT)
        labels = -1;
    for (size_t i = 0; i < sel->n; i++)
        if (!req_matches(&sel->reqs[i], d, labels))
            return false;
    return true;
}

bool reef_label_selector_empty(const struct reef_label_selector *sel)
{
    return !sel->nothing && sel->n == 0;
}

bool reef_label_selector_is_nothing(const struct reef_label_selector *sel)
{
    return sel->nothing;
}

int reef_label_selector_string(const struct reef_label_selector *sel, struct reef_buf *out)
{
    static const char *const ops[] = {
        [REEF_LABEL_EQUALS] = "=",       [REEF_LABEL_DOUBLE_EQUALS] = "==",
        [REEF_LABEL_NOT_EQUALS] = "!=",  [REEF_LABEL_IN] = " in ",
        [REEF_LABEL_NOT_IN] = " notin ", [REEF_LABEL_EXISTS] = "",
        [REEF_LABEL_NOT_EXISTS] = "",    [REEF_LABEL_GT] = ">",
        [REEF_LABEL_LT] = "<",
    };
    int r = 0;
    if (sel->nothing)
        return 0;
    for (size_t i = 0; r == 0 && i < sel->n; i++) {
        const struct req *q = &sel->reqs[i];
        bool set = q->op == REEF_LABEL_IN || q->op == REEF_LABEL_NOT_IN;
        r = reef_buf_printf(out, "%s%s%s%s%s", i ? "," : "",
                            q->op == REEF_LABEL_NOT_EXISTS ? "!" : "", q->key, ops[q->op],
                            set ? "(" : "");
        if (q->op == REEF_LABEL_EXISTS || q->op == REEF_LABEL_NOT_EXISTS)
            continue;
        for (size_t j = 0; r == 0 && j < q->nvals; j++)
            r = reef_buf_printf(out, "%s%s", j ? "," : "", q->vals[j]);
        if (r == 0 && set)
            r = reef_buf_putc(out, ')');
    }
    return r;
}

const char *reef_label_selector_equal_value(const struct reef_label_selector *sel, const char *key)
{
    for (size_t i = 0; i < sel->n; i++) {
        const struct req *q = &sel->reqs[i];
        bool eq = q->op == REEF_LABEL_EQUALS || q->op == REEF_LABEL_DOUBLE_EQUALS ||
                  q->op == REEF_LABEL_IN;
        if (eq && q->nvals == 1 && strcmp(q->key, key) == 0)
            return q->vals[0];
    }
    return NULL;
}
