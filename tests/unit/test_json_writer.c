/* Tests for core/json's writer: layout, misuse, strings, numbers, copying parsed values, reusing a
 * document, and parse/write performance. The reader is tested in test_json.c. */

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "core/json.h"
#include "tests/unit/json_fixture.h"
#include "tests/unit/test.h"

static char *write_with(void (*fn)(struct reef_json_writer *), unsigned indent, int want,
                        const char *want_msg)
{
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_json_writer w;
    struct reef_err err = {0};
    reef_json_writer_init(&w, &out, indent);
    fn(&w);
    int r = reef_json_finish(&w, &err);
    if (r != want || (want_msg && strcmp(err.msg, want_msg) != 0))
        TEST_FAIL("finish: %d \"%s\", want %d \"%s\"", r, err.msg, want, want_msg ? want_msg : "");
    return reef_buf_steal(&out);
}

static void write_sample(struct reef_json_writer *w)
{
    reef_json_begin_object(w);
    reef_json_key(w, "apiVersion");
    reef_json_put_str(w, "v1");
    reef_json_key(w, "items");
    reef_json_begin_array(w);
    reef_json_put_int(w, -3);
    reef_json_put_uint(w, UINT64_MAX);
    reef_json_put_double(w, 0.5);
    reef_json_put_bool(w, true);
    reef_json_put_bool(w, false);
    reef_json_put_null(w);
    reef_json_put_str(w, NULL);
    reef_json_begin_object(w);
    reef_json_end_object(w);
    reef_json_begin_array(w);
    reef_json_end_array(w);
    reef_json_begin_array(w);
    reef_json_put_int(w, INT64_MIN);
    reef_json_end_array(w);
    reef_json_end_array(w);
    reef_json_keyn(w, "k\0ey", 4);
    reef_json_put_raw(w, "{\"raw\": [1, 2]}", 15);
    reef_json_key(w, "empty");
    reef_json_begin_object(w);
    reef_json_end_object(w);
    reef_json_end_object(w);
}

static void test_writer_layout(void)
{
    char *s = write_with(write_sample, 0, 0, NULL);
    CHECK_STR(s, "{\"apiVersion\":\"v1\",\"items\":[-3,18446744073709551615,0.5,true,false,null,"
                 "null,{},[],[-9223372036854775808]],\"k\\u0000ey\":{\"raw\": [1, 2]},"
                 "\"empty\":{}}");
    free(s);
    /* kubectl -o json's layout. */
    s = write_with(write_sample, 4, 0, NULL);
    CHECK_STR(s, "{\n"
                 "    \"apiVersion\": \"v1\",\n"
                 "    \"items\": [\n"
                 "        -3,\n"
                 "        18446744073709551615,\n"
                 "        0.5,\n"
                 "        true,\n"
                 "        false,\n"
                 "        null,\n"
                 "        null,\n"
                 "        {},\n"
                 "        [],\n"
                 "        [\n"
                 "            -9223372036854775808\n"
                 "        ]\n"
                 "    ],\n"
                 "    \"k\\u0000ey\": {\"raw\": [1, 2]},\n"
                 "    \"empty\": {}\n"
                 "}");
    free(s);
    s = write_with(write_sample, 2, 0, NULL);
    CHECK(strstr(s, "\n  \"items\": [\n    -3,\n") != NULL);
    free(s);

    /* Top-level scalars; output accumulates after what the buffer held. */
    struct reef_buf out = REEF_BUF_INIT;
    reef_buf_puts(&out, "x=");
    struct reef_json_writer w;
    reef_json_writer_init(&w, &out, 4);
    CHECK_INT(reef_json_put_str(&w, "s"), ==, 0);
    CHECK_INT(reef_json_finish(&w, NULL), ==, 0);
    CHECK_STR(out.data, "x=\"s\"");
    reef_buf_free(&out);
}

static void misuse_value_without_key(struct reef_json_writer *w)
{
    reef_json_begin_object(w);
    CHECK_INT(reef_json_put_int(w, 1), ==, -EINVAL);
    /* Sticky: everything after fails and writes nothing. */
    CHECK_INT(reef_json_key(w, "a"), ==, -EINVAL);
    CHECK_INT(reef_json_end_object(w), ==, -EINVAL);
}
static void misuse_key_in_array(struct reef_json_writer *w)
{
    reef_json_begin_array(w);
    CHECK_INT(reef_json_key(w, "a"), ==, -EINVAL);
}
static void misuse_key_at_top(struct reef_json_writer *w)
{
    CHECK_INT(reef_json_key(w, "a"), ==, -EINVAL);
}
static void misuse_two_keys(struct reef_json_writer *w)
{
    reef_json_begin_object(w);
    reef_json_key(w, "a");
    CHECK_INT(reef_json_key(w, "b"), ==, -EINVAL);
}
static void misuse_key_without_value(struct reef_json_writer *w)
{
    reef_json_begin_object(w);
    reef_json_key(w, "a");
    CHECK_INT(reef_json_end_object(w), ==, -EINVAL);
}
static void misuse_end_without_begin(struct reef_json_writer *w)
{
    CHECK_INT(reef_json_end_array(w), ==, -EINVAL);
}
static void misuse_wrong_end(struct reef_json_writer *w)
{
    reef_json_begin_array(w);
    CHECK_INT(reef_json_end_object(w), ==, -EINVAL);
}
static void misuse_wrong_end_obj(struct reef_json_writer *w)
{
    reef_json_begin_object(w);
    CHECK_INT(reef_json_end_array(w), ==, -EINVAL);
}
static void misuse_extra_end(struct reef_json_writer *w)
{
    reef_json_begin_array(w);
    reef_json_end_array(w);
    CHECK_INT(reef_json_end_array(w), ==, -EINVAL);
}
static void misuse_two_values(struct reef_json_writer *w)
{
    reef_json_put_int(w, 1);
    CHECK_INT(reef_json_put_int(w, 2), ==, -EINVAL);
}
static void misuse_nan(struct reef_json_writer *w)
{
    reef_json_begin_array(w);
    reef_json_put_double(w, 1);
    CHECK_INT(reef_json_put_double(w, NAN), ==, -EINVAL);
}
static void misuse_inf(struct reef_json_writer *w)
{
    CHECK_INT(reef_json_put_double(w, -INFINITY), ==, -EINVAL);
}
static void misuse_unclosed(struct reef_json_writer *w)
{
    reef_json_begin_array(w);
    reef_json_begin_object(w);
}
static void misuse_empty_raw(struct reef_json_writer *w)
{
    reef_json_begin_array(w);
    CHECK_INT(reef_json_put_raw(w, "", 0), ==, -EINVAL);
}
static void misuse_nothing(struct reef_json_writer *w)
{
}
static void misuse_too_deep(struct reef_json_writer *w)
{
    for (int i = 0; i < REEF_JSON_MAX_DEPTH; i++)
        CHECK_INT(reef_json_begin_array(w), ==, 0);
    CHECK_INT(reef_json_begin_array(w), ==, -E2BIG);
}
static void misuse_copy_bad_token(struct reef_json_writer *w)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    parse_ok(&d, "[1]");
    CHECK_INT(reef_json_put_value(w, &d, 5), ==, -EINVAL);
    reef_json_doc_free(&d);
}

static void test_writer_misuse(void)
{
    static const struct {
        void (*fn)(struct reef_json_writer *);
        int code;
        const char *msg;
        const char *out;
    } cases[] = {
        {misuse_value_without_key, -EINVAL, "json writer: a value inside an object without a key",
         "{"},
        {misuse_key_in_array, -EINVAL, "json writer: a key outside an object", "["},
        {misuse_key_at_top, -EINVAL, "json writer: a key outside an object", ""},
        {misuse_two_keys, -EINVAL, "json writer: two keys in a row", "{\"a\":"},
        {misuse_key_without_value, -EINVAL, "json writer: a key without a value", "{\"a\":"},
        {misuse_end_without_begin, -EINVAL, "json writer: end of an array that was not begun", ""},
        {misuse_wrong_end, -EINVAL, "json writer: end of an object while an array is open", "["},
        {misuse_wrong_end_obj, -EINVAL, "json writer: end of an array while an object is open",
         "{"},
        {misuse_extra_end, -EINVAL, "json writer: end of an array that was not begun", "[]"},
        {misuse_two_values, -EINVAL, "json writer: a second top-level value", "1"},
        {misuse_nan, -EINVAL, "json writer: NaN or infinity has no JSON form", "[1"},
        {misuse_inf, -EINVAL, "json writer: NaN or infinity has no JSON form", ""},
        {misuse_unclosed, -EINVAL, "json writer: 2 unclosed array(s) or object(s)", "[{"},
        {misuse_empty_raw, -EINVAL, "json writer: an empty raw value", "["},
        {misuse_nothing, -EINVAL, "json writer: no value was written", ""},
        {misuse_too_deep, -E2BIG, "json writer: nesting deeper than REEF_JSON_MAX_DEPTH", NULL},
        {misuse_copy_bad_token, -EINVAL, "json writer: copy of a value that is not in the document",
         ""},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        char *s = write_with(cases[i].fn, 0, cases[i].code, cases[i].msg);
        if (cases[i].out)
            CHECK_STR(s, cases[i].out);
        free(s);
    }
}

/* Writes s[0..n) as a string, parses it back and checks the decoded bytes equal want[0..wn). */
static void string_roundtrip(const char *s, size_t n, const char *want, size_t wn)
{
    struct reef_buf out = REEF_BUF_INIT, back = REEF_BUF_INIT;
    struct reef_json_writer w;
    struct reef_err err = {0};
    reef_json_writer_init(&w, &out, 0);
    reef_json_begin_object(&w);
    reef_json_keyn(&w, s, n);
    reef_json_put_strn(&w, s, n);
    reef_json_end_object(&w);
    CHECK_OK(reef_json_finish(&w, &err), &err);
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, out.data, out.len, NULL, &err) != 0)
        TEST_FAIL("%s: %s", out.data, err.msg);
    CHECK_OK(reef_json_get_strbuf(&d, 2, &back, &err), &err);
    CHECK_INT(back.len, ==, wn);
    CHECK(memcmp(back.data, want, wn) == 0);
    CHECK_INT(reef_json_membern(&d, 0, want, wn), ==, 2);
    reef_json_doc_free(&d);
    reef_buf_free(&out);
    reef_buf_free(&back);
}

static void test_writer_strings(void)
{
    /* Every byte below 0x80, NULs included. */
    char all[128];
    for (int i = 0; i < 128; i++)
        all[i] = (char)i;
    string_roundtrip(all, sizeof(all), all, sizeof(all));
    static const char *const valid[] = {
        "",
        "\"",
        "\\",
        "\\\"",
        "\"\\\"",
        "/",
        "\xc3\xa9",
        "\xe4\xb8\xad",
        "\xf0\x9f\x98\x80",
        "\xf4\x8f\xbf\xbf",
        "\xef\xbb\xbf",
        "\xed\x9f\xbf",
        "\xee\x80\x80",
        "a\x7f"
        "b",
        "\\u0041",
        "</script>",
        "\xe2\x80\xa8",
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(valid); i++)
        string_roundtrip(valid[i], strlen(valid[i]), valid[i], strlen(valid[i]));
    string_roundtrip("a\0b", 3, "a\0b", 3);
    /* Invalid UTF-8 becomes U+FFFD, one per bad byte, so the output stays JSON. */
    static const struct {
        const char *in, *out;
    } bad[] = {
        {"\xff", "\xef\xbf\xbd"},
        {"a\xc3", "a\xef\xbf\xbd"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xed\xa0\x80x", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx"},
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xc3\xa9\x80", "\xc3\xa9\xef\xbf\xbd"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++)
        string_roundtrip(bad[i].in, strlen(bad[i].in), bad[i].out, strlen(bad[i].out));

    /* Exact escaping. */
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_json_writer w;
    reef_json_writer_init(&w, &out, 0);
    reef_json_put_strn(&w, "\"\\/\b\f\n\r\t\x01\x1f\x7f\0\xc3\xa9", 14);
    CHECK_INT(reef_json_finish(&w, NULL), ==, 0);
    CHECK_STR(out.data, "\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u0000\xc3\xa9\"");
    reef_buf_free(&out);

    /* A pseudo-random sweep of short byte strings, valid UTF-8 or not: output always parses. */
    uint32_t seed = 12345;
    for (int round = 0; round < 20000; round++) {
        char s[12];
        size_t n = (size_t)(round % 12);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = (char)(seed >> 16);
        }
        struct reef_buf o = REEF_BUF_INIT;
        reef_json_writer_init(&w, &o, 0);
        reef_json_put_strn(&w, s, n);
        CHECK_INT(reef_json_finish(&w, NULL), ==, 0);
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        struct reef_err err;
        if (reef_json_parse(&d, o.data, o.len, NULL, &err) != 0)
            TEST_FAIL("round %d: %s", round, err.msg);
        reef_json_doc_free(&d);
        reef_buf_free(&o);
    }
}

static void test_writer_numbers(void)
{
    static const struct {
        double v;
        const char *out;
    } cases[] = {
        {0.0, "0"},
        {-0.0, "-0"},
        {1.0, "1"},
        {0.1, "0.1"},
        {-2.5, "-2.5"},
        {1.0 / 3.0, "0.3333333333333333"},
        {100.0, "100"},
        {1e21, "1e+21"},
        {-1.5e21, "-1.5e+21"},
        {1e20, "100000000000000000000"},
        {1.2345678901234567e20, "123456789012345670000"},
        {1e-6, "0.000001"},
        {-1.25e-6, "-0.00000125"},
        {1e-7, "1e-7"},
        {12.5, "12.5"},
        {1e300, "1e+300"},
        {123456789.0, "123456789"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {4.9406564584124654e-324, "5e-324"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {9007199254740993.0, "9007199254740992"},
        {0.30000000000000004, "0.30000000000000004"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        struct reef_buf out = REEF_BUF_INIT;
        struct reef_json_writer w;
        reef_json_writer_init(&w, &out, 0);
        CHECK_INT(reef_json_put_double(&w, cases[i].v), ==, 0);
        CHECK_INT(reef_json_finish(&w, NULL), ==, 0);
        CHECK_STR(out.data, cases[i].out);
        reef_buf_free(&out);
    }
    /* Random bit patterns: every finite double reads back exactly, and no shorter spelling
     * would. */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof(v));
        if (!isfinite(v))
            continue;
        struct reef_buf out = REEF_BUF_INIT;
        struct reef_json_writer w;
        struct reef_err err = {0};
        reef_json_writer_init(&w, &out, 0);
        reef_json_put_double(&w, v);
        CHECK_OK(reef_json_finish(&w, &err), &err);
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        CHECK_OK(reef_json_parse(&d, out.data, out.len, NULL, &err), &err);
        double back;
        CHECK_OK(reef_json_get_double(&d, 0, &back, &err), &err);
        CHECK(memcmp(&back, &v, sizeof(v)) == 0);
        /* Significant digits in the output: leading and trailing zeros do not count. */
        char sig[400];
        int digits = 0;
        for (const char *p = out.data; *p && *p != 'e'; p++)
            if ((*p >= '1' && *p <= '9') || (*p == '0' && digits > 0))
                sig[digits++] = *p;
        while (digits > 0 && sig[digits - 1] == '0')
            digits--;
        if (digits > 1) {
            char shorter[400];
            snprintf(shorter, sizeof(shorter), "%.*g", digits - 1, v);
            CHECK(strtod(shorter, NULL) != v);
        }
        reef_json_doc_free(&d);
        reef_buf_free(&out);
    }
}

static void test_put_value(void)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    parse_ok(&d, "{\"spec\": {\"containers\": [{\"name\": \"a\\u00e9\", \"n\": 1.50e1, "
                 "\"e\": [], \"o\": {}}]}, \"x\": true}");
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_json_writer w;
    struct reef_err err = {0};
    reef_json_writer_init(&w, &out, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "copy");
    reef_json_put_value(&w, &d, reef_json_find(&d, 0, "spec.containers", NULL));
    reef_json_key(&w, "x");
    reef_json_put_value(&w, &d, reef_json_member(&d, 0, "x"));
    reef_json_end_object(&w);
    CHECK_OK(reef_json_finish(&w, &err), &err);
    /* Strings and numbers keep their spelling. */
    CHECK_STR(out.data, "{\"copy\":[{\"name\":\"a\\u00e9\",\"n\":1.50e1,\"e\":[],\"o\":{}}],"
                        "\"x\":true}");
    reef_buf_reset(&out);
    reef_json_writer_init(&w, &out, 4);
    reef_json_put_value(&w, &d, 0);
    CHECK_OK(reef_json_finish(&w, &err), &err);
    CHECK_STR(out.data, "{\n"
                        "    \"spec\": {\n"
                        "        \"containers\": [\n"
                        "            {\n"
                        "                \"name\": \"a\\u00e9\",\n"
                        "                \"n\": 1.50e1,\n"
                        "                \"e\": [],\n"
                        "                \"o\": {}\n"
                        "            }\n"
                        "        ]\n"
                        "    },\n"
                        "    \"x\": true\n"
                        "}");

    /* Rewriting an object: every member copied but one, which is replaced. */
    reef_buf_reset(&out);
    reef_json_writer_init(&w, &out, 0);
    reef_json_begin_object(&w);
    struct reef_json_iter it = reef_json_iter(&d, 0);
    while (reef_json_next(&d, &it)) {
        reef_json_key_from(&w, &d, it.key);
        if (reef_json_str_eq(&d, it.key, "x"))
            reef_json_put_bool(&w, false);
        else
            reef_json_put_value(&w, &d, it.val);
    }
    reef_json_end_object(&w);
    CHECK_OK(reef_json_finish(&w, &err), &err);
    CHECK_STR(out.data, "{\"spec\":{\"containers\":[{\"name\":\"a\\u00e9\",\"n\":1.50e1,"
                        "\"e\":[],\"o\":{}}]},\"x\":false}");
    /* Only a string token can be a key. */
    reef_buf_reset(&out);
    reef_json_writer_init(&w, &out, 0);
    reef_json_begin_object(&w);
    CHECK_INT(reef_json_key_from(&w, &d, 0), ==, -EINVAL);
    CHECK_INT(reef_json_finish(&w, &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json writer: a key copied from a value that is not a string");
    reef_buf_free(&out);
    reef_json_doc_free(&d);
}

static void test_doc_reuse(void)
{
    struct reef_json_doc d;
    reef_json_doc_init(&d);
    struct reef_err err = {0};
    parse_ok(&d, "[1,2,3,4,5,6,7,8,9,10]");
    CHECK_INT(d.ntok, ==, 11);
    parse_ok(&d, "{\"a\":1}");
    CHECK_INT(d.ntok, ==, 3);
    int64_t v;
    CHECK_OK(reef_json_get_int(&d, reef_json_member(&d, 0, "a"), &v, &err), &err);
    CHECK_INT(v, ==, 1);
    /* A failed parse leaves no document behind, and lookups on it fail cleanly. */
    CHECK_INT(reef_json_parse(&d, "[1,", 3, NULL, &err), ==, -EINVAL);
    CHECK_INT(d.ntok, ==, 0);
    CHECK_INT(reef_json_kind(&d, 0), ==, REEF_JSON_NONE);
    CHECK_INT(reef_json_find(&d, 0, "a", NULL), ==, -EINVAL);
    parse_ok(&d,
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    CHECK_INT(d.ntok, ==, 41);
    reef_json_doc_free(&d);
    reef_json_doc_free(&d); /* twice is harmless */
}

/* A Kubernetes-like list of about n bytes. */
static void make_list(struct reef_buf *b, size_t n)
{
    reef_buf_puts(b, "{\"apiVersion\":\"v1\",\"kind\":\"PodList\",\"items\":[");
    for (int i = 0; b->len < n; i++) {
        reef_buf_printf(b,
                        "%s{\"metadata\":{\"name\":\"pod-%d\",\"namespace\":\"default\",\"uid\":"
                        "\"6c1a2b3c-%08d\",\"labels\":{\"app\":\"web\",\"tier\":\"frontend\"},"
                        "\"resourceVersion\":\"%d\"},\"spec\":{\"containers\":[{\"name\":\"nginx\","
                        "\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80}],"
                        "\"env\":[{\"name\":\"GREETING\",\"value\":\"caf\\u00e9 \\\"x\\\"\"}]}],"
                        "\"nodeName\":\"node-1\",\"priority\":0,\"ratio\":0.75,"
                        "\"hostNetwork\":false}}",
                        i ? "," : "", i, i, 1000 + i);
    }
    reef_buf_puts(b, "]}");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_performance(void)
{
    struct reef_buf text = REEF_BUF_INIT, out = REEF_BUF_INIT;
    make_list(&text, 1 << 20);
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    double best_parse = 1e9, best_write = 1e9;
    for (int round = 0; round < 5; round++) {
        double t0 = now_ms();
        CHECK_OK(reef_json_parse(&d, text.data, text.len, NULL, &err), &err);
        double t1 = now_ms();
        reef_buf_reset(&out);
        struct reef_json_writer w;
        reef_json_writer_init(&w, &out, 0);
        reef_json_put_value(&w, &d, 0);
        CHECK_OK(reef_json_finish(&w, &err), &err);
        double t2 = now_ms();
        best_parse = t1 - t0 < best_parse ? t1 - t0 : best_parse;
        best_write = t2 - t1 < best_write ? t2 - t1 : best_write;
    }
    CHECK_INT(out.len, ==, text.len);
    CHECK(memcmp(out.data, text.data, text.len) == 0);
    int items = reef_json_count(&d, reef_json_member(&d, 0, "items"));
    char path[64];
    snprintf(path, sizeof(path), "items[%d].metadata.name", items - 1);
    char name[32], want[32];
    CHECK_OK(reef_json_get_str(&d, reef_json_find(&d, 0, path, &err), name, sizeof(name), &err),
             &err);
    snprintf(want, sizeof(want), "pod-%d", items - 1);
    CHECK_STR(name, want);
    printf("# %zu bytes, %d tokens, %d items: parse %.2f ms, write %.2f ms\n", text.len, d.ntok,
           items, best_parse, best_write);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__OPTIMIZE_SIZE__)
    /* Generous against a loaded machine; typical is a few ms. */
    CHECK(best_parse < 50);
#endif

    /* The worst case for jsmn's bracket matching: runs of closing brackets at full depth. */
    reef_buf_reset(&text);
    reef_buf_putc(&text, '[');
    for (int i = 0; text.len < (1 << 18); i++) {
        reef_buf_puts(&text, i ? "," : "");
        for (int k = 0; k < REEF_JSON_DEFAULT_DEPTH - 1; k++)
            reef_buf_putc(&text, '[');
        for (int k = 0; k < REEF_JSON_DEFAULT_DEPTH - 1; k++)
            reef_buf_putc(&text, ']');
    }
    reef_buf_putc(&text, ']');
    double t0 = now_ms();
    CHECK_OK(reef_json_parse(&d, text.data, text.len, NULL, &err), &err);
    double t1 = now_ms();
    printf("# %zu bytes nested %d deep throughout: parse %.2f ms\n", text.len,
           REEF_JSON_DEFAULT_DEPTH, t1 - t0);
    CHECK(t1 - t0 < 10000);
    reef_json_doc_free(&d);
    reef_buf_free(&text);
    reef_buf_free(&out);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_writer_layout);
    TEST_RUN(test_writer_misuse);
    TEST_RUN(test_writer_strings);
    TEST_RUN(test_writer_numbers);
    TEST_RUN(test_put_value);
    TEST_RUN(test_doc_reuse);
    TEST_RUN(test_performance);
    return test_done();
}
