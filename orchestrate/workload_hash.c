/* workload: the pod-template-hash, as kube-controller-manager computes it.
 *
 * controller.ComputeHash feeds FNV-32a with `spew.ConfigState{Indent: " ", SortKeys: true,
 * DisableMethods: true, SpewKeys: true}.Fprintf(h, "%#v", template)`: the Go value of the
 * PodTemplateSpec (decoded from the stored JSON) printed with every field, nil pointers and nil
 * slices included, each value prefixed by its type in parentheses except elements of slices,
 * map keys and values, and the targets of pointers. Then, when the Deployment has a
 * collisionCount, its 4 little-endian bytes padded to 8. The sum's decimal digits are mapped
 * through rand.SafeEncodeString's alphabet.
 *
 * We walk the JSON along the table of Go types (workload_hash_types.c) and print what spew
 * would. Limits: a metav1.Time inside a template is printed as the zero time (templates carry
 * creationTimestamp null), and a resource.Quantity whose inf.Dec needs more than 128 bits prints
 * an approximation. */
#include <stdlib.h>
#include <string.h>

#include "orchestrate/workload_hash.h"
#include "orchestrate/workload_int.h"

struct fnv {
    uint32_t h;
};

static void put(struct fnv *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        f->h ^= (unsigned char)s[i];
        f->h *= 16777619u;
    }
}

static void puts_(struct fnv *f, const char *s)
{
    put(f, s, strlen(s));
}

static void type_tag(struct fnv *f, const char *name)
{
    puts_(f, "(");
    puts_(f, name);
    puts_(f, ")");
}

static bool absent(const struct reef_json_doc *d, int v)
{
    return v < 0 || reef_json_is_null(d, v);
}

static void put_json_str(struct fnv *f, const struct reef_json_doc *d, int v)
{
    if (absent(d, v) || reef_json_kind(d, v) != REEF_JSON_STRING)
        return;
    const char *p;
    size_t n;
    if (reef_json_str_view(d, v, &p, &n) == 0) {
        put(f, p, n);
        return;
    }
    struct reef_buf b = REEF_BUF_INIT;
    if (reef_json_get_strbuf(d, v, &b, NULL) == 0)
        put(f, b.data ? b.data : "", b.len);
    reef_buf_free(&b);
}

/* ---- resource.Quantity ---- */

struct quantity {
    int64_t value, scale; /* the int64Amount */
    const char *format;
    char s[128]; /* the cached string, "" when not canonical */
    /* the inf.Dec of the slow path: |unscaled| (two 64-bit words at most), its sign, scale */
    bool dec, dec_neg;
    unsigned __int128 dec_abs;
    int64_t dec_scale;
};

/* The slow path: value (sign, digits, '.', digits) as an inf.Dec, the suffix applied, rounded up
 * to nano and capped as ParseQuantity does. False when it does not fit 128 bits. */
static bool parse_dec(const char *value, size_t n, int base, int64_t exponent, struct quantity *q)
{
    unsigned __int128 m = 0, lim = ~(unsigned __int128)0 / 10;
    int64_t scale = 0;
    bool neg = false, frac = false;
    for (size_t i = 0; i < n; i++) {
        char c = value[i];
        if (i == 0 && (c == '-' || c == '+')) {
            neg = c == '-';
        } else if (c == '.') {
            frac = true;
        } else if (c >= '0' && c <= '9') {
            if (m > lim)
                return false;
            m = m * 10 + (unsigned)(c - '0');
            scale += frac;
        }
    }
    if (base == 10) {
        scale -= exponent;
    } else {
        if (exponent >= 127 || (exponent > 0 && (m >> (127 - exponent)) != 0))
            return false;
        m <<= exponent;
    }
    if (m != 0) {
        for (; scale < 9; scale++) {
            if (m > lim)
                return false;
            m *= 10;
        }
        bool rest = false;
        for (; scale > 9; scale--) {
            rest |= m % 10 != 0;
            m /= 10;
        }
        m += rest; /* inf.RoundUp: away from zero */
    }
    unsigned __int128 one = 1;
    for (int64_t i = 0; i < scale; i++)
        one *= 10;
    if (base == 2 && m / one > (unsigned __int128)INT64_MAX) {
        m = INT64_MAX;
        scale = 0;
        one = 1;
    }
    if (base == 2 && m > 0 && m < one)
        q->format = "DecimalSI";
    q->dec = true;
    q->dec_neg = neg && m != 0;
    q->dec_abs = m;
    q->dec_scale = scale;
    q->value = q->scale = 0;
    return true;
}

static bool mul_ok(int64_t a, int64_t b, int64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* resource.ParseQuantity's int64 path. */
static void parse_quantity(const char *str, struct quantity *q)
{
    memset(q, 0, sizeof(*q));
    q->format = "";
    size_t len = strlen(str);
    if (len == 0 || len >= sizeof(q->s))
        return;
    if (strcmp(str, "0") == 0) {
        q->format = "DecimalSI";
        snprintf(q->s, sizeof(q->s), "0");
        return;
    }
    size_t pos = 0;
    bool positive = true;
    if (str[0] == '-' || str[0] == '+') {
        positive = str[0] == '+';
        pos++;
    }
    while (pos < len && str[pos] == '0')
        pos++;
    char num[128] = "", denom[128] = "", suffix[128] = "";
    size_t start = pos;
    while (pos < len && str[pos] >= '0' && str[pos] <= '9')
        pos++;
    snprintf(num, sizeof(num), "%.*s", (int)(pos - start), str + start);
    if (!num[0])
        snprintf(num, sizeof(num), "0");
    if (pos < len && str[pos] == '.') {
        start = ++pos;
        while (pos < len && str[pos] >= '0' && str[pos] <= '9')
            pos++;
        snprintf(denom, sizeof(denom), "%.*s", (int)(pos - start), str + start);
    }
    snprintf(suffix, sizeof(suffix), "%s", str + pos);
    int64_t exponent = 0;
    int base = 10;
    const char *format = "DecimalSI";
    static const struct {
        const char *s;
        int base, exp;
    } sfx[] = {{"", 10, 0},   {"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3},
               {"k", 10, 3},  {"M", 10, 6},  {"G", 10, 9},  {"T", 10, 12},
               {"P", 10, 15}, {"E", 10, 18}, {"Ki", 2, 10}, {"Mi", 2, 20},
               {"Gi", 2, 30}, {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60}};
    bool known = false;
    for (size_t i = 0; i < REEF_ARRAY_LEN(sfx) && !known; i++) {
        if (strcmp(suffix, sfx[i].s) == 0) {
            known = true;
            base = sfx[i].base;
            exponent = sfx[i].exp;
            format = base == 2 ? "BinarySI" : "DecimalSI";
        }
    }
    if (!known && (suffix[0] == 'e' || suffix[0] == 'E')) {
        char *end;
        long long e = strtoll(suffix + 1, &end, 10);
        if (*end || end == suffix + 1)
            return;
        exponent = e;
        format = "DecimalExponent";
    } else if (!known) {
        return;
    }
    int64_t precision, scale = 0, mantissa = 1;
    if (base == 10) {
        scale = exponent;
        precision = 18 - (int64_t)(strlen(num) + strlen(denom));
    } else if (exponent >= 0 && !denom[0]) {
        mantissa = (int64_t)1 << exponent;
        precision = 15 - (int64_t)strlen(num) - (int64_t)((float)exponent * 3 / 10) - 1;
    } else {
        precision = -1;
    }
    q->format = format;
    char shifted[256];
    snprintf(shifted, sizeof(shifted), "%s%s", num, denom);
    if (precision >= 0)
        scale -= (int64_t)strlen(denom);
    int64_t value = strtoll(shifted, NULL, 10), result;
    bool fits = mul_ok(value, mantissa, &result);
    if (precision < 0 || scale < -9 || !fits) {
        /* the digits before the suffix, sign included */
        size_t vlen = strlen(str) - strlen(suffix);
        if (!parse_dec(str, vlen, base, exponent, q)) {
            q->value = positive ? value : -value; /* beyond 128 bits: an approximation */
            q->scale = scale;
        }
        return;
    }
    q->value = positive ? result : -result;
    q->scale = scale;
    size_t sl = strlen(shifted);
    if (base == 2) {
        if (exponent % 10 == 0 && (value & 7) != 0)
            snprintf(q->s, sizeof(q->s), "%s", str);
    } else if (scale % 3 == 0 && !(sl >= 3 && strcmp(shifted + sl - 3, "000") == 0) &&
               shifted[0] != '0') {
        snprintf(q->s, sizeof(q->s), "%s", str);
    }
}

static void put_quantity(struct fnv *f, const struct reef_json_doc *d, int v)
{
    struct quantity q = {.format = ""};
    if (!absent(d, v)) {
        char s[128] = "";
        if (reef_json_kind(d, v) == REEF_JSON_STRING) {
            reef_json_get_str(d, v, s, sizeof(s), NULL);
        } else if (reef_json_kind(d, v) == REEF_JSON_NUMBER) {
            size_t n;
            const char *raw = reef_json_raw(d, v, &n);
            snprintf(s, sizeof(s), "%.*s", (int)n, raw);
        }
        /* UnmarshalJSON trims spaces */
        char *p = s;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        size_t n = strlen(p);
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
            p[--n] = '\0';
        parse_quantity(p, &q);
    }
    char dec[256] = "(*inf.Dec)<nil>";
    if (q.dec) {
        char words[64] = "<nil>";
        uint64_t lo = (uint64_t)q.dec_abs, hi = (uint64_t)(q.dec_abs >> 64);
        if (hi)
            snprintf(words, sizeof(words), "[%llu %llu]", (unsigned long long)lo,
                     (unsigned long long)hi);
        else if (lo)
            snprintf(words, sizeof(words), "[%llu]", (unsigned long long)lo);
        snprintf(dec, sizeof(dec),
                 "(*inf.Dec){unscaled:(big.Int){neg:(bool)%s abs:(big.nat)%s} "
                 "scale:(inf.Scale)%lld}",
                 q.dec_neg ? "true" : "false", words, (long long)q.dec_scale);
    }
    char buf[640];
    snprintf(buf, sizeof(buf),
             "{i:(resource.int64Amount){value:(int64)%lld scale:(resource.Scale)%lld} "
             "d:(resource.infDecAmount){Dec:%s} s:(string)%s Format:(resource.Format)%s}",
             (long long)q.value, (long long)q.scale, dec, q.s, q.format);
    puts_(f, buf);
}

/* ---- the walk ---- */

static int cmp_keys(const void *a, const void *b)
{
    const struct reef_buf *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->data ? x->data : "", y->data ? y->data : "", n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static void walk(struct fnv *f, int t, const struct reef_json_doc *d, int v, bool show, int depth);

static void walk_struct(struct fnv *f, const struct wl_gotype *ty, const struct reef_json_doc *d,
                        int v, int depth)
{
    if (v >= 0 && reef_json_kind(d, v) != REEF_JSON_OBJECT)
        v = -1;
    puts_(f, "{");
    for (int i = 0; i < ty->n; i++) {
        const struct wl_gofield *fl = &reef__wl_gofields[ty->first + i];
        if (i)
            puts_(f, " ");
        puts_(f, fl->go);
        puts_(f, ":");
        int m = -1;
        if (fl->inline_)
            m = v;
        else if (v >= 0)
            m = reef_json_member(d, v, fl->json);
        walk(f, fl->type, d, m < 0 ? -1 : m, true, depth + 1);
    }
    puts_(f, "}");
}

static void walk(struct fnv *f, int t, const struct reef_json_doc *d, int v, bool show, int depth)
{
    if (t < 0 || (size_t)t >= reef__wl_ngotypes || depth > 64)
        return;
    const struct wl_gotype *ty = &reef__wl_gotypes[t];
    if (ty->kind == K_PTR) {
        if (absent(d, v)) {
            if (show)
                type_tag(f, ty->name);
            puts_(f, "<nil>");
            return;
        }
        if (show)
            type_tag(f, ty->name);
        walk(f, ty->elem, d, v, false, depth + 1);
        return;
    }
    if (show)
        type_tag(f, ty->name);
    char num[64];
    switch (ty->kind) {
    case K_STRING:
        put_json_str(f, d, v);
        break;
    case K_BOOL: {
        bool b = false;
        if (!absent(d, v))
            reef_json_get_bool(d, v, &b, NULL);
        puts_(f, b ? "true" : "false");
        break;
    }
    case K_INT:
    case K_UINT: {
        int64_t x = 0;
        if (!absent(d, v))
            reef_json_get_int(d, v, &x, NULL);
        snprintf(num, sizeof(num), "%lld", (long long)x);
        puts_(f, num);
        break;
    }
    case K_FLOAT: {
        double x = 0;
        if (!absent(d, v))
            reef_json_get_double(d, v, &x, NULL);
        snprintf(num, sizeof(num), "%g", x);
        puts_(f, num);
        break;
    }
    case K_STRUCT:
        walk_struct(f, ty, d, v, depth);
        break;
    case K_SLICE: {
        if (absent(d, v) || reef_json_kind(d, v) != REEF_JSON_ARRAY) {
            puts_(f, "<nil>");
            break;
        }
        puts_(f, "[");
        struct reef_json_iter it = reef_json_iter(d, v);
        while (reef_json_next(d, &it)) {
            if (it.index)
                puts_(f, " ");
            walk(f, ty->elem, d, it.val, false, depth + 1);
        }
        puts_(f, "]");
        break;
    }
    case K_MAP: {
        if (absent(d, v) || reef_json_kind(d, v) != REEF_JSON_OBJECT) {
            puts_(f, "<nil>");
            break;
        }
        int n = reef_json_count(d, v);
        struct {
            struct reef_buf key;
            int val;
        } *kv = calloc(n > 0 ? (size_t)n : 1, sizeof(*kv));
        if (!kv)
            break;
        int k = 0;
        struct reef_json_iter it = reef_json_iter(d, v);
        while (reef_json_next(d, &it) && k < n) {
            reef_buf_init(&kv[k].key);
            reef_json_get_strbuf(d, it.key, &kv[k].key, NULL);
            kv[k].val = it.val;
            /* a repeated key: the last one counts, as Go decodes it */
            int j;
            for (j = 0; j < k; j++)
                if (cmp_keys(&kv[j].key, &kv[k].key) == 0)
                    break;
            if (j < k) {
                kv[j].val = it.val;
                reef_buf_free(&kv[k].key);
            } else {
                k++;
            }
        }
        qsort(kv, (size_t)k, sizeof(*kv), cmp_keys);
        puts_(f, "map[");
        for (int i = 0; i < k; i++) {
            if (i)
                puts_(f, " ");
            put(f, kv[i].key.data ? kv[i].key.data : "", kv[i].key.len);
            puts_(f, ":");
            walk(f, ty->elem, d, kv[i].val, false, depth + 1);
            reef_buf_free(&kv[i].key);
        }
        puts_(f, "]");
        free(kv);
        break;
    }
    case K_QUANTITY:
        put_quantity(f, d, v);
        break;
    case K_INTSTR: {
        int64_t iv = 0, type = 0;
        char sv[256] = "";
        if (!absent(d, v) && reef_json_kind(d, v) == REEF_JSON_STRING) {
            type = 1;
            reef_json_get_str(d, v, sv, sizeof(sv), NULL);
        } else if (!absent(d, v)) {
            reef_json_get_int(d, v, &iv, NULL);
        }
        char buf[400];
        snprintf(buf, sizeof(buf), "{Type:(intstr.Type)%lld IntVal:(int32)%lld StrVal:(string)%s}",
                 (long long)type, (long long)iv, sv);
        puts_(f, buf);
        break;
    }
    case K_TIME:
        puts_(f, "{Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}");
        break;
    case K_PTR:
        break;
    }
}

int reef__wl_template_hash(const struct reef_json_doc *d, int v, int64_t collision_count,
                           char out[16])
{
    struct fnv f = {2166136261u};
    walk(&f, 0, d, v, true, 0);
    if (collision_count >= 0) {
        unsigned char b[8] = {0};
        uint32_t c = (uint32_t)collision_count;
        for (int i = 0; i < 4; i++)
            b[i] = (unsigned char)(c >> (8 * i));
        put(&f, (const char *)b, 8);
    }
    char dec[16];
    snprintf(dec, sizeof(dec), "%u", f.h);
    static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
    size_t i;
    for (i = 0; dec[i]; i++)
        out[i] = alpha[(unsigned char)dec[i] % (sizeof(alpha) - 1)];
    out[i] = '\0';
    return 0;
}
