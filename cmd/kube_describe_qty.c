/* reef describe: resource quantities as Go's resource.Quantity parses and prints them, and label
 * selectors as labels.Selector prints them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/kube.h"
#include "cmd/kube_describe.h"
#include "core/json.h"

#define S reef__ds
#define J reef__dj
#define N reef__dn

/* ---- quantities (apimachinery's resource.Quantity) ---- */

static const __int128 BILLION = 1000000000;

static bool mul_ok(__int128 *v, __int128 m)
{
    const __int128 lim = ((__int128)1) << 120;
    if (*v > lim / m || *v < -lim / m)
        return false;
    *v *= m;
    return true;
}

struct reef__qty reef__qty_parse(const char *str)
{
    struct reef__qty q = {.s = str};
    if (!str || !*str)
        return q;
    if (strcmp(str, "0") == 0) {
        q.ok = true;
        return q;
    }
    const char *p = str;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    while (*p == '0')
        p++;
    const char *num = p;
    while (*p >= '0' && *p <= '9')
        p++;
    size_t nnum = (size_t)(p - num);
    const char *den = p;
    size_t nden = 0;
    if (*p == '.') {
        den = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        nden = (size_t)(p - den);
    }
    const char *suf = p;
    int base = 10, exp = 0;
    if (!*suf) {
        q.format = 0;
    } else if (suf[1] == 'i' && !suf[2] && strchr("KMGTPE", suf[0])) {
        base = 2;
        exp = 10 * (int)(strchr("KMGTPE", suf[0]) - "KMGTPE" + 1);
        q.format = 1;
    } else if (!suf[1] && strchr("numkMGTPE", suf[0])) {
        static const int e[] = {-9, -6, -3, 3, 6, 9, 12, 15, 18};
        exp = e[strchr("numkMGTPE", suf[0]) - "numkMGTPE"];
    } else if (suf[0] == 'e' || suf[0] == 'E') {
        long long x;
        if (reef_str_to_ll(suf + 1, -1000, 1000, &x) < 0)
            return q;
        exp = (int)x;
        q.format = 2;
    } else {
        return q;
    }
    if (nnum + nden > 30)
        return q;
    __int128 v = 0;
    for (size_t i = 0; i < nnum; i++)
        v = v * 10 + (num[i] - '0');
    for (size_t i = 0; i < nden; i++)
        v = v * 10 + (den[i] - '0');
    /* Go keeps the text when it is already canonical (its fast path) */
    bool keep = false;
    if (base == 10) {
        int scale = exp - (int)nden;
        char shifted[64];
        snprintf(shifted, sizeof(shifted), "%.*s%.*s", (int)nnum, num, (int)nden, den);
        size_t sl = strlen(shifted);
        if (!sl)
            strcpy(shifted, "0"), sl = 1;
        if ((int)(18 - (nnum ? nnum : 1) - nden) >= 0 && scale >= -9)
            keep = scale % 3 == 0 && !(sl >= 3 && strcmp(shifted + sl - 3, "000") == 0) &&
                   shifted[0] != '0';
        int pw = scale + 9;
        if (pw >= 0) {
            for (int i = 0; i < pw; i++)
                if (!mul_ok(&v, 10))
                    return q;
        } else {
            __int128 dv = 1;
            for (int i = 0; i < -pw; i++)
                if (!mul_ok(&dv, 10))
                    return q;
            v = (v + dv - 1) / dv; /* rounded up to a billionth, as Go does */
        }
    } else {
        int prec = 15 - (int)(nnum ? nnum : 1) - (int)((float)exp * 3 / 10) - 1;
        if (nden == 0 && prec >= 0)
            keep = exp % 10 == 0 && (v & 7) != 0;
        for (int i = 0; i < exp; i++)
            if (!mul_ok(&v, 2))
                return q;
        int pw = 9 - (int)nden;
        if (pw >= 0) {
            for (int i = 0; i < pw; i++)
                if (!mul_ok(&v, 10))
                    return q;
        } else {
            __int128 dv = 1;
            for (int i = 0; i < -pw; i++)
                if (!mul_ok(&dv, 10))
                    return q;
            v = (v + dv - 1) / dv;
        }
        if (v > 0 && v < BILLION)
            q.format = 0;
    }
    q.nano = neg ? -v : v;
    q.ok = true;
    if (!keep)
        q.s = NULL;
    return q;
}

static void i128_str(__int128 v, char *dst, size_t size)
{
    char tmp[64];
    size_t n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-v) : (unsigned __int128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u && n < sizeof(tmp) - 1);
    size_t j = 0;
    if (neg && j + 1 < size)
        dst[j++] = '-';
    while (n && j + 1 < size)
        dst[j++] = tmp[--n];
    dst[j] = 0;
}

void reef__qty_string(const struct reef__qty *q, char *dst, size_t size)
{
    if (!q->ok || q->s) {
        snprintf(dst, size, "%s", q->s ? q->s : "");
        return;
    }
    if (q->nano == 0) {
        snprintf(dst, size, "0");
        return;
    }
    int format = q->format;
    if (format == 1) {
        __int128 a = q->nano < 0 ? -q->nano : q->nano;
        if (a < 1024 * BILLION || q->nano % BILLION != 0)
            format = 0;
    }
    char num[64];
    if (format == 1) {
        __int128 m = q->nano / BILLION;
        int e = 0;
        while (m % 1024 == 0 && e < 6) {
            m /= 1024;
            e++;
        }
        static const char *const bs[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
        i128_str(m, num, sizeof(num));
        snprintf(dst, size, "%s%s", num, bs[e]);
        return;
    }
    __int128 m = q->nano;
    int e = -9;
    while (m % 10 == 0) {
        m /= 10;
        e++;
    }
    while (((e % 3) + 3) % 3 != 0) {
        m *= 10;
        e--;
    }
    i128_str(m, num, sizeof(num));
    static const char *const ds[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
    if (format == 0 && e >= -9 && e <= 18)
        snprintf(dst, size, "%s%s", num, ds[(e + 9) / 3]);
    else if (e == 0)
        snprintf(dst, size, "%s", num);
    else
        snprintf(dst, size, "%se%d", num, e);
}

void reef__qty_add(struct reef__qty *q, const struct reef__qty *y)
{
    if (q->nano == 0)
        q->format = y->format;
    q->nano += y->nano;
    q->s = NULL;
    q->ok = q->ok && y->ok;
}

const char *reef__desc_qty_text(struct reef__desc *c, const char *s)
{
    struct reef__qty q = reef__qty_parse(s);
    char buf[96];
    reef__qty_string(&q, buf, sizeof(buf));
    return reef__desc_keep(c, strdup(buf));
}

/* ---- selectors ---- */

struct req {
    const char *key;
    char *text;
};

static int req_cmp(const void *a, const void *b)
{
    return strcmp(((const struct req *)a)->key, ((const struct req *)b)->key);
}

void reef__desc_selector(struct reef_buf *out, const struct reef_json_doc *d, int sel)
{
    struct reef__desc tmp = {0};
    int ml = J(d, sel, "matchLabels"), me = J(d, sel, "matchExpressions");
    size_t cap = (size_t)N(d, sel, "matchLabels") + (size_t)N(d, sel, "matchExpressions") + 1;
    struct req *r = calloc(cap, sizeof(*r));
    size_t n = 0;
    if (!r)
        return;
    size_t nk;
    const char **keys = reef__desc_keys(&tmp, d, ml, &nk);
    for (size_t i = 0; keys && i < nk && n < cap; i++) {
        r[n].key = keys[i];
        const char *val = "";
        int x = reef_json_member(d, ml, keys[i]);
        if (x >= 0)
            val = S(&tmp, d, x, "");
        if (asprintf(&r[n].text, "%s=%s", keys[i], val) < 0)
            r[n].text = NULL;
        n++;
    }
    struct reef_json_iter it = reef_json_iter(d, me);
    while (me >= 0 && reef_json_next(d, &it) && n < cap) {
        const char *key = S(&tmp, d, it.val, "key"), *op = S(&tmp, d, it.val, "operator");
        r[n].key = key;
        size_t nv = 0;
        int vals = J(d, it.val, "values");
        const char **vs = calloc((size_t)N(d, it.val, "values") + 1, sizeof(*vs));
        struct reef_json_iter vi = reef_json_iter(d, vals);
        while (vs && vals >= 0 && reef_json_next(d, &vi))
            vs[nv++] = S(&tmp, d, vi.val, "");
        /* sorted values, insertion (few of them) */
        for (size_t a = 1; vs && a < nv; a++)
            for (size_t b = a; b > 0 && strcmp(vs[b], vs[b - 1]) < 0; b--) {
                const char *t = vs[b];
                vs[b] = vs[b - 1];
                vs[b - 1] = t;
            }
        struct reef_buf b;
        reef_buf_init(&b);
        if (strcmp(op, "Exists") == 0)
            reef_buf_puts(&b, key);
        else if (strcmp(op, "DoesNotExist") == 0)
            reef_buf_printf(&b, "!%s", key);
        else {
            reef_buf_printf(&b, "%s %s (", key, strcmp(op, "In") == 0 ? "in" : "notin");
            for (size_t a = 0; vs && a < nv; a++)
                reef_buf_printf(&b, "%s%s", a ? "," : "", vs[a]);
            reef_buf_putc(&b, ')');
        }
        free(vs);
        r[n++].text = reef_buf_steal(&b);
    }
    qsort(r, n, sizeof(*r), req_cmp);
    for (size_t i = 0; i < n; i++) {
        reef_buf_printf(out, "%s%s", i ? "," : "", r[i].text ? r[i].text : "");
        free(r[i].text);
    }
    free(r);
    reef__desc_reset(&tmp);
    free(tmp.strs);
    reef_buf_free(&tmp.pend);
    reef_buf_free(&tmp.out);
}
