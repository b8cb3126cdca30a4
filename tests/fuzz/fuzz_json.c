/* fuzz_json: arbitrary bytes into the JSON reader. Whatever parses must survive three re-encodings
 * (compact copy, indented copy, and a copy that decodes every string and re-escapes it) that each
 * parse again and compare equal to the original; every getter and lookup runs on every token.
 * Any mismatch aborts, which is what the fuzzer reports. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Re-encodes v, decoding strings and keys and writing them through the escaper. */
static void put_decoded(struct reef_json_writer *w, const struct reef_json_doc *d, int v,
                        struct reef_buf *tmp)
{
    enum reef_json_kind k = reef_json_kind(d, v);
    if (k == REEF_JSON_STRING) {
        reef_buf_reset(tmp);
        ASSERT(reef_json_get_strbuf(d, v, tmp, NULL) == 0);
        reef_json_put_strn(w, tmp->data, tmp->len);
        return;
    }
    if (k != REEF_JSON_OBJECT && k != REEF_JSON_ARRAY) {
        reef_json_put_value(w, d, v);
        return;
    }
    k == REEF_JSON_OBJECT ? reef_json_begin_object(w) : reef_json_begin_array(w);
    struct reef_json_iter it = reef_json_iter(d, v);
    while (reef_json_next(d, &it)) {
        if (it.key >= 0) {
            reef_buf_reset(tmp);
            ASSERT(reef_json_get_strbuf(d, it.key, tmp, NULL) == 0);
            reef_json_keyn(w, tmp->data, tmp->len);
            /* The member lookup finds this key's last occurrence: at or after this one. (Only
             * for the first members: each lookup is linear, and the fuzzer makes huge objects.) */
            if (it.index < 32) {
                int m = reef_json_membern(d, v, tmp->data, tmp->len);
                ASSERT(m >= it.val && reef_json_str_eqn(d, m - 1, tmp->data, tmp->len));
            }
        } else if (it.index < 32) {
            ASSERT(reef_json_index(d, v, (size_t)it.index) == it.val);
        }
        put_decoded(w, d, it.val, tmp);
    }
    k == REEF_JSON_OBJECT ? reef_json_end_object(w) : reef_json_end_array(w);
}

/* Getters must answer sensibly for every token, whatever its kind. */
static void poke(const struct reef_json_doc *d, int v)
{
    struct reef_err err;
    int64_t i;
    uint64_t u;
    double x;
    bool b;
    char small[8];
    char *s = NULL;
    enum reef_json_kind k = reef_json_kind(d, v);
    ASSERT(k != REEF_JSON_NONE);
    int ri = reef_json_get_int(d, v, &i, &err);
    int ru = reef_json_get_uint(d, v, &u, &err);
    int rd = reef_json_get_double(d, v, &x, &err);
    ASSERT((ri == 0) <= (k == REEF_JSON_NUMBER));
    if (ri == 0 && ru == 0)
        ASSERT(i >= 0 && (uint64_t)i == u);
    if (ri == 0 && rd == 0 && i > -(1LL << 53) && i < (1LL << 53))
        ASSERT(x == (double)i);
    ASSERT((reef_json_get_bool(d, v, &b, &err) == 0) == (k == REEF_JSON_BOOL));
    reef_json_get_str(d, v, small, sizeof(small), &err);
    if (reef_json_get_strdup(d, v, &s, &err) == 0) {
        ASSERT(k == REEF_JSON_STRING && reef_json_str_eq(d, v, s));
        free(s);
    }
    const char *p;
    size_t n;
    if (reef_json_str_view(d, v, &p, &n) == 0)
        ASSERT(reef_json_str_eqn(d, v, p, n));
    ASSERT(reef_json_is_null(d, v) == (k == REEF_JSON_NULL));
    if (v < 16) /* each comparison walks the subtree */
        ASSERT(reef_json_equal(d, v, d, v));
}

/* Writes doc d with fn into out, parses it into back, and checks it equals d. */
static void roundtrip(const struct reef_json_doc *d, unsigned indent, bool decoded)
{
    struct reef_buf out = REEF_BUF_INIT, tmp = REEF_BUF_INIT;
    struct reef_json_writer w;
    struct reef_err err;
    reef_json_writer_init(&w, &out, indent);
    if (decoded)
        put_decoded(&w, d, REEF_JSON_ROOT, &tmp);
    else
        reef_json_put_value(&w, d, REEF_JSON_ROOT);
    if (reef_json_finish(&w, &err) < 0) {
        fprintf(stderr, "writer: %s\n", err.msg);
        abort();
    }
    struct reef_json_doc back = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&back, out.data, out.len, NULL, &err) < 0) {
        fprintf(stderr, "re-parse: %s\n%s\n", err.msg, out.data);
        abort();
    }
    ASSERT(reef_json_equal(d, REEF_JSON_ROOT, &back, REEF_JSON_ROOT));
    ASSERT(reef_json_equal(&back, REEF_JSON_ROOT, d, REEF_JSON_ROOT));
    ASSERT(back.ntok == d->ntok);
    if (!decoded) {
        /* Copying is idempotent: writing the copy again gives the same bytes. */
        struct reef_buf again = REEF_BUF_INIT;
        reef_json_writer_init(&w, &again, indent);
        reef_json_put_value(&w, &back, REEF_JSON_ROOT);
        ASSERT(reef_json_finish(&w, NULL) == 0);
        ASSERT(again.len == out.len && memcmp(again.data, out.data, out.len) == 0);
        reef_buf_free(&again);
    }
    reef_json_doc_free(&back);
    reef_buf_free(&out);
    reef_buf_free(&tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT, small = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    int r = reef_json_parse(&d, (const char *)data, size, NULL, &err);
    /* Tight limits only ever add -E2BIG: they never make bad text good or good text bad. */
    struct reef_json_limits lim = {.max_depth = 3, .max_tokens = 20};
    int rs = reef_json_parse(&small, (const char *)data, size, &lim, NULL);
    ASSERT(rs == 0 || rs == -E2BIG || rs == r);
    ASSERT(r == 0 || rs != 0);
    if (rs == 0)
        ASSERT(reef_json_equal(&d, REEF_JSON_ROOT, &small, REEF_JSON_ROOT));
    reef_json_doc_free(&small);
    if (r < 0) {
        ASSERT(err.code == r && err.msg[0] && d.ntok == 0);
        reef_json_doc_free(&d);
        return 0;
    }
    ASSERT(d.ntok > 0);
    roundtrip(&d, 0, false);
    roundtrip(&d, 4, false);
    roundtrip(&d, 0, true);
    for (int v = 0; v < d.ntok; v++)
        poke(&d, v);
    /* Paths: the first few tokens' keys used through find. */
    reef_json_find(&d, REEF_JSON_ROOT, "a.b[0][\"c.d\"]", &err);
    reef_json_doc_free(&d);
    return 0;
}
