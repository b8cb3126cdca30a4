/* Tests for core/json's reader: the test vectors in tests/unit/json/, error messages, limits,
 * lookups, getters and equality. The writer is tested in test_json_writer.c. */

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "core/json.h"
#include "tests/unit/json_fixture.h"
#include "tests/unit/test.h"

/* Reads a whole file into an exactly sized buffer (no terminator, so ASan sees any over-read). */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc(n ? (size_t)n : 1);
    CHECK(p != NULL);
    CHECK(fread(p, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Writes value v of d with the given indent, parses the output and checks it equals v. Returns the
 * output, which the caller frees. */
static char *write_and_check_lim(const struct reef_json_doc *d, int v, unsigned indent,
                                 const struct reef_json_limits *lim)
{
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_json_writer w;
    struct reef_err err = {0};
    reef_json_writer_init(&w, &out, indent);
    CHECK_INT(reef_json_put_value(&w, d, v), ==, 0);
    CHECK_OK(reef_json_finish(&w, &err), &err);
    struct reef_json_doc back = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&back, out.data, out.len, lim, &err) != 0)
        TEST_FAIL("re-parse failed: %s\n%.200s", err.msg, out.data);
    CHECK(reef_json_equal(d, v, &back, REEF_JSON_ROOT));
    CHECK(reef_json_equal(&back, REEF_JSON_ROOT, d, v));
    reef_json_doc_free(&back);
    return reef_buf_steal(&out);
}

static char *write_and_check(const struct reef_json_doc *d, int v, unsigned indent)
{
    return write_and_check_lim(d, v, indent, NULL);
}

static void test_vectors(void)
{
    const char *src = getenv("REEF_SRC");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/unit/json", src && *src ? src : ".");
    DIR *dp = opendir(dir);
    if (!dp)
        TEST_FAIL("cannot open %s (set REEF_SRC to the source tree)", dir);
    int ny = 0, nn = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        const char *name = e->d_name;
        if (!reef_str_has_suffix(name, ".json"))
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        size_t len;
        char *text = read_file(path, &len);
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        struct reef_err err = {0};
        int r = reef_json_parse(&d, text, len, NULL, &err);
        if (name[0] == 'y') {
            if (r != 0)
                TEST_FAIL("%s: rejected: %s", name, err.msg);
            char *compact = write_and_check(&d, REEF_JSON_ROOT, 0);
            char *pretty = write_and_check(&d, REEF_JSON_ROOT, 4);
            /* Writing is idempotent: the compact form of the compact form is itself. */
            struct reef_json_doc c = REEF_JSON_DOC_INIT;
            parse_ok(&c, compact);
            char *again = write_and_check(&c, REEF_JSON_ROOT, 0);
            CHECK_STR(again, compact);
            CHECK_INT(c.ntok, ==, d.ntok);
            free(compact);
            free(pretty);
            free(again);
            reef_json_doc_free(&c);
            ny++;
        } else if (name[0] == 'n') {
            if (r == 0)
                TEST_FAIL("%s: accepted", name);
            CHECK(r == -EINVAL || r == -E2BIG);
            CHECK_INT(err.code, ==, r);
            if (strncmp(err.msg, "json: line ", 11) != 0)
                TEST_FAIL("%s: message without position: %s", name, err.msg);
            CHECK_INT(d.ntok, ==, 0);
            nn++;
        }
        reef_json_doc_free(&d);
        free(text);
    }
    closedir(dp);
    printf("# %d valid and %d invalid vectors\n", ny, nn);
    CHECK_INT(ny, >=, 40);
    CHECK_INT(nn, >=, 140);
}

static void test_error_messages(void)
{
    static const struct {
        const char *in;
        int code;
        const char *msg;
    } cases[] = {
        {"{\n  \"apiVersion\": \"v1\",\n  \"a\": \"x\\qy\"\n}", -EINVAL,
         "json: line 3, column 10 (byte 33): invalid escape '\\q' in string"},
        {"", -EINVAL, "json: line 1, column 1 (byte 0): empty input"},
        {"  \n ", -EINVAL, "json: line 2, column 2 (byte 4): no value, only whitespace"},
        {"[1,]", -EINVAL,
         "json: line 1, column 4 (byte 3): expected a value, found ']' (trailing comma?)"},
        {"{\"a\":1,}", -EINVAL,
         "json: line 1, column 8 (byte 7): expected a string key in object, found '}' "
         "(trailing comma?)"},
        {"[1 2]", -EINVAL,
         "json: line 1, column 4 (byte 3): expected ',' or ']' after array element, found '2'"},
        {"{\"a\" 1}", -EINVAL,
         "json: line 1, column 6 (byte 5): expected ':' after object key, found '1'"},
        {"01", -EINVAL, "json: line 1, column 1 (byte 0): invalid number: leading zero"},
        {"[1.]", -EINVAL,
         "json: line 1, column 4 (byte 3): invalid number: expected a digit after '.', found ']'"},
        {"1e", -EINVAL,
         "json: line 1, column 3 (byte 2): invalid number: expected a digit in the "
         "exponent, found end of input"},
        {"-", -EINVAL,
         "json: line 1, column 2 (byte 1): invalid number: expected a digit after "
         "'-', found end of input"},
        {".5", -EINVAL, "json: line 1, column 1 (byte 0): expected a value, found '.'"},
        {"[tru]", -EINVAL, "json: line 1, column 2 (byte 1): invalid literal (expected 'true')"},
        {"NaN", -EINVAL, "json: line 1, column 1 (byte 0): expected a value, found 'N'"},
        {"\"ab", -EINVAL, "json: line 1, column 1 (byte 0): unterminated string"},
        {"\"a\tb\"", -EINVAL,
         "json: line 1, column 3 (byte 2): raw control character U+0009 in "
         "string (must be escaped)"},
        {"[\"\\uD800\"]", -EINVAL,
         "json: line 1, column 3 (byte 2): lone surrogate \\uD800 in "
         "string (no low surrogate after it)"},
        {"\"\\udc00\"", -EINVAL,
         "json: line 1, column 2 (byte 1): lone surrogate \\uDC00 in "
         "string (no high surrogate before it)"},
        {"\"\\u12x4\"", -EINVAL,
         "json: line 1, column 2 (byte 1): invalid \\u escape in string: "
         "expected 4 hex digits"},
        {"\"\xc0\xaf\"", -EINVAL,
         "json: line 1, column 2 (byte 1): invalid UTF-8 in string: "
         "overlong encoding (lead byte 0xc0)"},
        {"\"\xe0\x80\xaf\"", -EINVAL,
         "json: line 1, column 2 (byte 1): invalid UTF-8 in string: "
         "overlong 3-byte encoding"},
        {"\"\xed\xa0\x80\"", -EINVAL,
         "json: line 1, column 2 (byte 1): invalid UTF-8 in string: "
         "encoded surrogate U+D800"},
        {"\"\xf4\x90\x80\x80\"", -EINVAL,
         "json: line 1, column 2 (byte 1): invalid UTF-8 in "
         "string: code point above U+10FFFF"},
        {"\"x\xe2\x82\"", -EINVAL,
         "json: line 1, column 3 (byte 2): invalid UTF-8 in string: "
         "truncated 3-byte sequence"},
        {"\"\xff\"", -EINVAL,
         "json: line 1, column 2 (byte 1): invalid UTF-8 in string: byte "
         "0xff never appears in UTF-8"},
        {"\"\x80\"", -EINVAL,
         "json: line 1, column 2 (byte 1): invalid UTF-8 in string: "
         "unexpected continuation byte 0x80"},
        {"[1]\n]", -EINVAL,
         "json: line 2, column 1 (byte 4): unexpected ']' after the top-level value"},
        {"\xef\xbb\xbf{}", -EINVAL,
         "json: line 1, column 1 (byte 0): byte order mark (U+FEFF) "
         "before the value is not allowed"},
        {"[1", -EINVAL, "json: line 1, column 3 (byte 2): unexpected end of input in array"},
        {"{\"a\":{}", -EINVAL,
         "json: line 1, column 8 (byte 7): unexpected end of input in object"},
        {"{\"a\":1]", -EINVAL,
         "json: line 1, column 7 (byte 6): expected ',' or '}' after object member, found ']'"},
        {"[1 // c\n]", -EINVAL,
         "json: line 1, column 4 (byte 3): expected ',' or ']' after array element, found '/'"},
        {"[\x0c]", -EINVAL, "json: line 1, column 2 (byte 1): expected a value, found byte 0x0c"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        struct reef_err err = {0};
        int r = reef_json_parse(&d, cases[i].in, strlen(cases[i].in), NULL, &err);
        if (r != cases[i].code || strcmp(err.msg, cases[i].msg) != 0)
            TEST_FAIL("case %zu: got %d \"%s\"\n  want %d \"%s\"", i, r, err.msg, cases[i].code,
                      cases[i].msg);
        reef_json_doc_free(&d);
    }

    /* NUL bytes are data: one inside a string is a control character, one after the value is
     * trailing garbage (not an end marker). */
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    CHECK_INT(reef_json_parse(&d, "\"a\0b\"", 5, NULL, &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json: line 1, column 3 (byte 2): raw control character U+0000 in string "
                       "(must be escaped)");
    CHECK_INT(reef_json_parse(&d, "[1]\0", 4, NULL, &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json: line 1, column 4 (byte 3): unexpected byte 0x00 after the top-level "
                       "value");
    CHECK_INT(reef_json_parse(&d, NULL, 0, NULL, NULL), ==, -EINVAL);
    CHECK_INT(reef_json_parse(&d, NULL, 5, NULL, &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json: no text (NULL) of 5 bytes");
    reef_json_doc_free(&d);
}

/* depth nested arrays, as a malloc'd C string. */
static char *nest(size_t depth)
{
    char *s = malloc(2 * depth + 1);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    return s;
}

static void test_limits(void)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    struct reef_json_limits lim = {.max_depth = 3};
    CHECK_OK(reef_json_parse(&d, "[[[1]]]", 7, &lim, &err), &err);
    CHECK_INT(reef_json_parse(&d, "[[[[1]]]]", 9, &lim, &err), ==, -E2BIG);
    CHECK_STR(err.msg, "json: line 1, column 4 (byte 3): nesting deeper than 3 levels");
    CHECK_INT(reef_json_parse(&d, "{\"a\":{\"b\":[{}]}}", 16, &lim, &err), ==, -E2BIG);

    /* Tokens: values plus keys. {"a":[1,2]} is object, key, array, 1, 2 = 5. */
    lim = (struct reef_json_limits){.max_tokens = 5};
    CHECK_OK(reef_json_parse(&d, "{\"a\":[1,2]}", 11, &lim, &err), &err);
    CHECK_INT(d.ntok, ==, 5);
    lim.max_tokens = 4;
    CHECK_INT(reef_json_parse(&d, "{\"a\":[1,2]}", 11, &lim, &err), ==, -E2BIG);
    CHECK_STR(err.msg, "json: line 1, column 9 (byte 8): more than 4 values and keys");
    CHECK_INT(d.ntok, ==, 0);

    /* The default depth is 256; a requested depth above the ceiling is capped. */
    char *deep = nest(256);
    CHECK_OK(reef_json_parse(&d, deep, strlen(deep), NULL, &err), &err);
    free(deep);
    deep = nest(257);
    CHECK_INT(reef_json_parse(&d, deep, strlen(deep), NULL, &err), ==, -E2BIG);
    CHECK_STR(err.msg, "json: line 1, column 257 (byte 256): nesting deeper than 256 levels");
    free(deep);
    lim = (struct reef_json_limits){.max_depth = 100000};
    deep = nest(1025);
    CHECK_INT(reef_json_parse(&d, deep, strlen(deep), &lim, &err), ==, -E2BIG);
    CHECK_STR(err.msg, "json: line 1, column 1025 (byte 1024): nesting deeper than 1024 levels");
    free(deep);
    deep = nest(1024);
    CHECK_OK(reef_json_parse(&d, deep, strlen(deep), &lim, &err), &err);
    CHECK_INT(d.ntok, ==, 1024);
    /* A deep document still copies and compares (recursion is bounded by the same ceiling). */
    free(write_and_check_lim(&d, REEF_JSON_ROOT, 1, &lim));
    free(deep);
    reef_json_doc_free(&d);
}

static void test_kind_raw_count(void)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    parse_ok(&d, " {\"s\": \"x\\ty\", \"n\": -1.5e3, \"t\": true, \"f\": false, \"z\": null, "
                 "\"a\": [1, [2]], \"o\": {}} ");
    CHECK_INT(reef_json_kind(&d, REEF_JSON_ROOT), ==, REEF_JSON_OBJECT);
    CHECK_INT(reef_json_count(&d, REEF_JSON_ROOT), ==, 7);
    static const struct {
        const char *key;
        enum reef_json_kind kind;
        const char *raw;
    } want[] = {
        {"s", REEF_JSON_STRING, "\"x\\ty\""}, {"n", REEF_JSON_NUMBER, "-1.5e3"},
        {"t", REEF_JSON_BOOL, "true"},        {"f", REEF_JSON_BOOL, "false"},
        {"z", REEF_JSON_NULL, "null"},        {"a", REEF_JSON_ARRAY, "[1, [2]]"},
        {"o", REEF_JSON_OBJECT, "{}"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(want); i++) {
        int v = reef_json_member(&d, REEF_JSON_ROOT, want[i].key);
        CHECK(v > 0);
        CHECK_INT(reef_json_kind(&d, v), ==, want[i].kind);
        size_t n;
        const char *raw = reef_json_raw(&d, v, &n);
        CHECK(raw >= d.src && raw + n <= d.src + d.len);
        CHECK_INT(n, ==, strlen(want[i].raw));
        CHECK(memcmp(raw, want[i].raw, n) == 0);
    }
    size_t n;
    const char *raw = reef_json_raw(&d, REEF_JSON_ROOT, &n);
    CHECK(raw == d.src + 1 && n == d.len - 2);
    CHECK_INT(reef_json_count(&d, reef_json_member(&d, 0, "a")), ==, 2);
    CHECK_INT(reef_json_count(&d, reef_json_member(&d, 0, "o")), ==, 0);
    CHECK_INT(reef_json_count(&d, reef_json_member(&d, 0, "s")), ==, -EINVAL);
    CHECK_STR(reef_json_kind_name(REEF_JSON_ARRAY), "array");
    /* Indexes that are not tokens are answered, not trusted. */
    CHECK_INT(reef_json_kind(&d, -1), ==, REEF_JSON_NONE);
    CHECK_INT(reef_json_kind(&d, d.ntok), ==, REEF_JSON_NONE);
    CHECK(reef_json_raw(&d, 9999, &n) == NULL && n == 0);
    CHECK_INT(reef_json_member(&d, 9999, "a"), ==, -EINVAL);
    CHECK_INT(reef_json_member(&d, -ENOENT, "a"), ==, -EINVAL);

    /* Top-level scalars. */
    parse_ok(&d, "\"top\"");
    CHECK_INT(reef_json_kind(&d, 0), ==, REEF_JSON_STRING);
    CHECK(reef_json_str_eq(&d, 0, "top"));
    raw = reef_json_raw(&d, 0, &n);
    CHECK(raw == d.src && n == 5);
    parse_ok(&d, "-7");
    CHECK_INT(reef_json_kind(&d, 0), ==, REEF_JSON_NUMBER);
    parse_ok(&d, "null");
    CHECK(reef_json_is_null(&d, 0));
    reef_json_doc_free(&d);
}

static void test_member_index(void)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    parse_ok(&d, "{\"a\":1,\"b\":{\"x\":[1,2,{\"y\":3}]},\"a\":2,\"c\\u002ed\":4,\"\":5,"
                 "\"e\":[[],[[]],{}],\"a\\\\\":6}");
    int64_t i;
    /* The last of repeated keys wins. */
    CHECK_OK(reef_json_get_int(&d, reef_json_member(&d, 0, "a"), &i, &err), &err);
    CHECK_INT(i, ==, 2);
    /* Keys are compared decoded. */
    CHECK_OK(reef_json_get_int(&d, reef_json_member(&d, 0, "c.d"), &i, &err), &err);
    CHECK_INT(i, ==, 4);
    CHECK_OK(reef_json_get_int(&d, reef_json_member(&d, 0, ""), &i, &err), &err);
    CHECK_INT(i, ==, 5);
    CHECK_OK(reef_json_get_int(&d, reef_json_member(&d, 0, "a\\"), &i, &err), &err);
    CHECK_INT(i, ==, 6);
    CHECK_INT(reef_json_member(&d, 0, "c\\u002ed"), ==, -ENOENT);
    CHECK_INT(reef_json_membern(&d, 0, "abc", 1), ==, reef_json_member(&d, 0, "a"));
    CHECK_INT(reef_json_member(&d, 0, "zz"), ==, -ENOENT);
    CHECK_INT(reef_json_member(&d, 0, "x"), ==, -ENOENT); /* not searched recursively */
    int b = reef_json_member(&d, 0, "b");
    int x = reef_json_member(&d, b, "x");
    CHECK_INT(reef_json_index(&d, x, 3), ==, -ENOENT);
    CHECK_INT(reef_json_index(&d, b, 0), ==, -EINVAL);
    CHECK_INT(reef_json_member(&d, x, "y"), ==, -EINVAL);
    int e2 = reef_json_index(&d, x, 2);
    CHECK_INT(reef_json_kind(&d, e2), ==, REEF_JSON_OBJECT);
    CHECK_OK(reef_json_get_int(&d, reef_json_member(&d, e2, "y"), &i, &err), &err);
    CHECK_INT(i, ==, 3);
    /* Index skipping over nested containers. */
    int e = reef_json_member(&d, 0, "e");
    CHECK_INT(reef_json_kind(&d, reef_json_index(&d, e, 2)), ==, REEF_JSON_OBJECT);
    CHECK_INT(reef_json_count(&d, reef_json_index(&d, e, 1)), ==, 1);
    reef_json_doc_free(&d);
}

static void test_find(void)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    parse_ok(&d, "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app.kubernetes.io/name\":\"nginx\","
                 "\"a\\\"b\":\"q\",\"x[0]\":\"br\"}},\"spec\":{\"containers\":[{\"image\":\"a\"},"
                 "{\"image\":\"b\",\"ports\":[[80,81]]}]},\"\":{\"\":\"empty\"}}");
    static const struct {
        const char *path;
        const char *want;
    } ok[] = {
        {"metadata.name", "web"},
        {"spec.containers[0].image", "a"},
        {"spec.containers[1].image", "b"},
        {"metadata.labels[\"app.kubernetes.io/name\"]", "nginx"},
        {"[\"metadata\"][\"labels\"][\"a\\\"b\"]", "q"},
        {"metadata.labels[\"x[0]\"]", "br"},
        {"[\"\"][\"\"]", "empty"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(ok); i++) {
        int v = reef_json_find(&d, REEF_JSON_ROOT, ok[i].path, &err);
        if (v < 0)
            TEST_FAIL("%s: %s", ok[i].path, err.msg);
        CHECK(reef_json_str_eq(&d, v, ok[i].want));
    }
    int64_t port;
    int v = reef_json_find(&d, REEF_JSON_ROOT, "spec.containers[1].ports[0][1]", &err);
    CHECK_OK(reef_json_get_int(&d, v, &port, &err), &err);
    CHECK_INT(port, ==, 81);
    CHECK_INT(reef_json_find(&d, REEF_JSON_ROOT, "", &err), ==, REEF_JSON_ROOT);
    /* Relative to a value other than the root. */
    int spec = reef_json_find(&d, REEF_JSON_ROOT, "spec", &err);
    CHECK_INT(reef_json_find(&d, spec, "containers[1].image", &err), ==,
              reef_json_find(&d, REEF_JSON_ROOT, "spec.containers[1].image", &err));
    int ports = reef_json_find(&d, spec, "containers[1].ports", &err);
    CHECK_INT(reef_json_find(&d, ports, "[0][0]", &err), >, 0);

    static const struct {
        const char *path;
        int code;
        const char *msg;
    } bad[] = {
        {"metadata.nmae", -ENOENT, "json: metadata.nmae: no such member"},
        {"spec.containers[2].image", -ENOENT,
         "json: spec.containers[2]: index out of range (2 elements)"},
        {"spec.containers.image", -EINVAL,
         "json: spec.containers: expected an object, found array"},
        {"metadata[0]", -EINVAL, "json: metadata: expected an array, found object"},
        {"metadata.name.first", -EINVAL, "json: metadata.name: expected an object, found string"},
        {"[0]", -EINVAL, "json: [0]: expected an array at the start, found object"},
        {"metadata..name", -EINVAL, "json: invalid path \"metadata..name\": empty key at offset 9"},
        {"metadata.", -EINVAL, "json: invalid path \"metadata.\": empty key at offset 9"},
        {".metadata", -EINVAL, "json: invalid path \".metadata\": empty key at offset 0"},
        {"spec.containers[x]", -EINVAL,
         "json: invalid path \"spec.containers[x]\": expected an index at offset 16"},
        {"spec.containers[-1]", -EINVAL,
         "json: invalid path \"spec.containers[-1]\": expected an index at offset 16"},
        {"spec.containers[0", -EINVAL,
         "json: invalid path \"spec.containers[0\": expected ']' at offset 17"},
        {"spec.containers[0]image", -EINVAL,
         "json: invalid path \"spec.containers[0]image\": expected '.' or '[' at offset 18"},
        {"metadata[\"name]", -EINVAL,
         "json: invalid path \"metadata[\"name]\": unterminated [\"key\"]"},
        {"spec.containers[99999999999999999999999]", -EINVAL,
         "json: invalid path \"spec.containers[99999999999999999999999]\": index too large"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        reef_err_clear(&err);
        int r = reef_json_find(&d, REEF_JSON_ROOT, bad[i].path, &err);
        if (r != bad[i].code || strcmp(err.msg, bad[i].msg) != 0)
            TEST_FAIL("%s: got %d \"%s\"\n  want %d \"%s\"", bad[i].path, r, err.msg, bad[i].code,
                      bad[i].msg);
    }
    CHECK_INT(reef_json_find(&d, 12345, "a", NULL), ==, -EINVAL);
    reef_json_doc_free(&d);
}

static void test_iter(void)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    parse_ok(&d, "{\"a\":[1,{\"x\":[]},\"s\"],\"b\":{},\"a\":null}");
    const char *keys[] = {"a", "b", "a"};
    enum reef_json_kind kinds[] = {REEF_JSON_ARRAY, REEF_JSON_OBJECT, REEF_JSON_NULL};
    struct reef_json_iter it = reef_json_iter(&d, REEF_JSON_ROOT);
    int n = 0;
    while (reef_json_next(&d, &it)) {
        CHECK(n < 3);
        CHECK_INT(it.index, ==, n);
        CHECK(reef_json_str_eq(&d, it.key, keys[n]));
        CHECK_INT(reef_json_kind(&d, it.val), ==, kinds[n]);
        n++;
    }
    CHECK_INT(n, ==, 3);
    CHECK(!reef_json_next(&d, &it)); /* stays finished */

    int arr = reef_json_find(&d, 0, "[\"a\"]", NULL); /* the last "a" is null */
    CHECK(reef_json_is_null(&d, arr));
    arr = 2; /* the first "a" value: object, key, array */
    CHECK_INT(reef_json_kind(&d, arr), ==, REEF_JSON_ARRAY);
    enum reef_json_kind ek[] = {REEF_JSON_NUMBER, REEF_JSON_OBJECT, REEF_JSON_STRING};
    it = reef_json_iter(&d, arr);
    n = 0;
    while (reef_json_next(&d, &it)) {
        CHECK_INT(it.key, ==, -1);
        CHECK_INT(reef_json_kind(&d, it.val), ==, ek[n]);
        CHECK_INT(reef_json_index(&d, arr, (size_t)n), ==, it.val);
        n++;
    }
    CHECK_INT(n, ==, 3);
    /* Empty containers and scalars yield nothing. */
    it = reef_json_iter(&d, reef_json_member(&d, 0, "b"));
    CHECK(!reef_json_next(&d, &it));
    it = reef_json_iter(&d, reef_json_index(&d, arr, 0));
    CHECK(!reef_json_next(&d, &it));
    it = reef_json_iter(&d, -3);
    CHECK(!reef_json_next(&d, &it));
    it = reef_json_iter(&d, INT32_MAX);
    CHECK(!reef_json_next(&d, &it));
    reef_json_doc_free(&d);
}

static void test_get_str(void)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    parse_ok(&d, "[\"plain\",\"t\\u00e9\\n\\\"\\\\\\/\\ud83d\\ude00\",\"a\\u0000b\",\"\",42,"
                 "\"\\b\\f\\r\\t\"]");
    int plain = 1, esc = 2, nul = 3, empty = 4, num = 5, ctl = 6;
    char buf[64];
    CHECK_OK(reef_json_get_str(&d, plain, buf, sizeof(buf), &err), &err);
    CHECK_STR(buf, "plain");
    CHECK_OK(reef_json_get_str(&d, esc, buf, sizeof(buf), &err), &err);
    CHECK_STR(buf, "t\xc3\xa9\n\"\\/\xf0\x9f\x98\x80");
    CHECK_OK(reef_json_get_str(&d, empty, buf, sizeof(buf), &err), &err);
    CHECK_STR(buf, "");
    CHECK_OK(reef_json_get_str(&d, ctl, buf, sizeof(buf), &err), &err);
    CHECK_STR(buf, "\b\f\r\t");
    /* Exactly fitting, one byte short. */
    CHECK_OK(reef_json_get_str(&d, plain, buf, 6, &err), &err);
    CHECK_INT(reef_json_get_str(&d, plain, buf, 5, &err), ==, -ENOBUFS);
    CHECK_STR(err.msg, "json: line 1, column 2 (byte 1): string of 5 bytes is longer than 4");
    CHECK_OK(reef_json_get_str(&d, esc, buf, 12, &err), &err); /* decoded: 11 bytes */
    CHECK_INT(reef_json_get_str(&d, esc, buf, 11, &err), ==, -ENOBUFS);
    CHECK_INT(reef_json_get_str(&d, plain, buf, 0, &err), ==, -ENOBUFS);
    /* U+0000 would be cut short in a C string. */
    CHECK_INT(reef_json_get_str(&d, nul, buf, sizeof(buf), &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json: line 1, column 40 (byte 39): string contains U+0000");
    char *s = (char *)1;
    CHECK_INT(reef_json_get_strdup(&d, nul, &s, &err), ==, -EINVAL);
    CHECK(s == NULL);
    CHECK_INT(reef_json_get_str(&d, num, buf, sizeof(buf), &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json: line 1, column 54 (byte 53): expected a string, found number 42");
    CHECK_INT(reef_json_get_str(&d, 0, buf, sizeof(buf), &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json: line 1, column 1 (byte 0): expected a string, found array");

    CHECK_OK(reef_json_get_strdup(&d, esc, &s, &err), &err);
    CHECK_STR(s, "t\xc3\xa9\n\"\\/\xf0\x9f\x98\x80");
    free(s);
    CHECK_INT(reef_json_get_strdup(&d, num, &s, &err), ==, -EINVAL);
    CHECK(s == NULL);

    /* The buffer getter appends and keeps NULs. */
    struct reef_buf b = REEF_BUF_INIT;
    reef_buf_puts(&b, ">");
    CHECK_OK(reef_json_get_strbuf(&d, nul, &b, &err), &err);
    CHECK_INT(b.len, ==, 4);
    CHECK(memcmp(b.data, ">a\0b", 4) == 0 && b.data[4] == '\0');
    CHECK_OK(reef_json_get_strbuf(&d, empty, &b, &err), &err);
    CHECK_INT(b.len, ==, 4);
    CHECK_INT(reef_json_get_strbuf(&d, num, &b, &err), ==, -EINVAL);
    reef_buf_free(&b);
    reef_buf_init(&b);
    CHECK_OK(reef_json_get_strbuf(&d, empty, &b, &err), &err);
    CHECK(b.data != NULL && b.len == 0 && b.data[0] == '\0');
    reef_buf_free(&b);

    /* Zero-copy view. */
    const char *p;
    size_t n;
    CHECK_INT(reef_json_str_view(&d, plain, &p, &n), ==, 0);
    CHECK(n == 5 && memcmp(p, "plain", 5) == 0 && p > d.src && p < d.src + d.len);
    CHECK_INT(reef_json_str_view(&d, esc, &p, &n), ==, -EAGAIN);
    CHECK_INT(reef_json_str_view(&d, num, &p, &n), ==, -EINVAL);

    /* Comparison without decoding into memory. */
    CHECK(reef_json_str_eq(&d, plain, "plain"));
    CHECK(!reef_json_str_eq(&d, plain, "plai"));
    CHECK(!reef_json_str_eq(&d, plain, "plainer"));
    CHECK(reef_json_str_eq(&d, esc, "t\xc3\xa9\n\"\\/\xf0\x9f\x98\x80"));
    CHECK(!reef_json_str_eq(&d, esc, "t\xc3\xa9\n\"\\/\xf0\x9f\x98"));
    CHECK(!reef_json_str_eq(&d, esc, "t\\u00e9"));
    CHECK(reef_json_str_eqn(&d, nul, "a\0b", 3));
    CHECK(!reef_json_str_eqn(&d, nul, "a\0c", 3));
    CHECK(!reef_json_str_eq(&d, num, "42"));
    CHECK(reef_json_str_eq(&d, empty, ""));
    reef_json_doc_free(&d);
}

static void test_get_int(void)
{
    static const struct {
        const char *in;
        int r;
        int64_t v;
    } cases[] = {
        {"0", 0, 0},
        {"-0", 0, 0},
        {"42", 0, 42},
        {"-42", 0, -42},
        {"1e3", 0, 1000},
        {"1E+3", 0, 1000},
        {"2.50e1", 0, 25},
        {"10e-1", 0, 1},
        {"1.0", 0, 1},
        {"100e-2", 0, 1},
        {"0.0e-5", 0, 0},
        {"0e999999999999999999999", 0, 0},
        {"9223372036854775807", 0, INT64_MAX},
        {"-9223372036854775808", 0, INT64_MIN},
        {"922337203685477580.7e1", 0, INT64_MAX},
        {"0.9223372036854775807e19", 0, INT64_MAX},
        {"9223372036854775808", -ERANGE, 0},
        {"-9223372036854775809", -ERANGE, 0},
        {"1e19", -ERANGE, 0},
        {"1e20", -ERANGE, 0},
        {"1e21", -ERANGE, 0},
        {"1e999999999999999999999", -ERANGE, 0},
        {"123456789012345678901234567890", -ERANGE, 0},
        {"1.5", -EINVAL, 0},
        {"1e-1", -EINVAL, 0},
        {"0.1", -EINVAL, 0},
        {"1.00000000000000000000001", -EINVAL, 0},
        {"5e-999999999999999999999", -EINVAL, 0},
        {"\"1\"", -EINVAL, 0},
        {"true", -EINVAL, 0},
        {"null", -EINVAL, 0},
    };
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        parse_ok(&d, cases[i].in);
        int64_t v = 77;
        int r = reef_json_get_int(&d, 0, &v, &err);
        if (r != cases[i].r || (r == 0 && v != cases[i].v))
            TEST_FAIL("%s: got %d %lld (%s)", cases[i].in, r, (long long)v, r ? err.msg : "");
        if (r)
            CHECK_INT(v, ==, 77); /* untouched on failure */
    }
    parse_ok(&d, "[1, 2.5, 99999999999999999999]");
    int64_t v;
    CHECK_INT(reef_json_get_int(&d, 2, &v, &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json: line 1, column 5 (byte 4): 2.5 is not an integer, as needed for "
                       "int64");
    CHECK_INT(reef_json_get_int(&d, 3, &v, &err), ==, -ERANGE);
    CHECK_STR(err.msg, "json: line 1, column 10 (byte 9): 99999999999999999999 is out of range "
                       "for int64");
    CHECK_INT(reef_json_get_int(&d, 0, &v, &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json: line 1, column 1 (byte 0): expected an integer, found array");
    reef_json_doc_free(&d);
}

static void test_get_uint(void)
{
    static const struct {
        const char *in;
        int r;
        uint64_t v;
    } cases[] = {
        {"0", 0, 0},
        {"-0", 0, 0},
        {"-0.0e7", 0, 0},
        {"18446744073709551615", 0, UINT64_MAX},
        {"1844674407370955161.5e1", 0, UINT64_MAX},
        {"9223372036854775808", 0, (uint64_t)INT64_MAX + 1},
        {"1e19", 0, 10000000000000000000u},
        {"18446744073709551616", -ERANGE, 0},
        {"1e20", -ERANGE, 0},
        {"-1", -ERANGE, 0},
        {"-1.5", -EINVAL, 0},
        {"3.25", -EINVAL, 0},
        {"false", -EINVAL, 0},
    };
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        parse_ok(&d, cases[i].in);
        uint64_t v = 77;
        int r = reef_json_get_uint(&d, 0, &v, &err);
        if (r != cases[i].r || (r == 0 && v != cases[i].v))
            TEST_FAIL("%s: got %d %llu (%s)", cases[i].in, r, (unsigned long long)v,
                      r ? err.msg : "");
    }
    parse_ok(&d, "-1");
    uint64_t v;
    reef_json_get_uint(&d, 0, &v, &err);
    CHECK_STR(err.msg, "json: line 1, column 1 (byte 0): -1 is out of range for uint64");
    reef_json_doc_free(&d);
}

static void test_get_double(void)
{
    static const struct {
        const char *in;
        int r;
        double v;
    } cases[] = {
        {"0", 0, 0.0},
        {"1.5", 0, 1.5},
        {"-2.5e-3", 0, -2.5e-3},
        {"1E2", 0, 100.0},
        {"0.1", 0, 0.1},
        {"1.7976931348623157e308", 0, DBL_MAX},
        {"4.9406564584124654e-324", 0, 4.9406564584124654e-324},
        {"1e-400", 0, 0.0},
        {"123456789012345678901234567890", 0, 123456789012345678901234567890.0},
        {"1e309", -ERANGE, 0},
        {"-1e999999999", -ERANGE, 0},
        {"\"1.5\"", -EINVAL, 0},
    };
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        parse_ok(&d, cases[i].in);
        double v = 77;
        int r = reef_json_get_double(&d, 0, &v, &err);
        if (r != cases[i].r || (r == 0 && v != cases[i].v))
            TEST_FAIL("%s: got %d %.17g (%s)", cases[i].in, r, v, r ? err.msg : "");
    }
    /* A long number (past the getter's stack buffer), and one ending the text exactly: the text
     * is not NUL-terminated, so the getter must not read past it. */
    char longnum[600] = "0.";
    memset(longnum + 2, '0', 500);
    strcpy(longnum + 502, "15");
    parse_ok(&d, longnum);
    double v;
    CHECK_OK(reef_json_get_double(&d, 0, &v, &err), &err);
    CHECK(v == 0.0); /* 1.5e-501 is below the smallest subnormal */
    char *exact = malloc(3);
    memcpy(exact, "2.5", 3);
    CHECK_OK(reef_json_parse(&d, exact, 3, NULL, &err), &err);
    CHECK_OK(reef_json_get_double(&d, 0, &v, &err), &err);
    CHECK(v == 2.5);
    free(exact);
    parse_ok(&d, "[1e400]");
    CHECK_INT(reef_json_get_double(&d, 1, &v, &err), ==, -ERANGE);
    CHECK_STR(err.msg, "json: line 1, column 2 (byte 1): 1e400 is out of range for a double");
    reef_json_doc_free(&d);
}

static void test_get_bool_null(void)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct reef_err err = {0};
    parse_ok(&d, "[true, false, null, 0, \"true\", {}]");
    bool b = false;
    CHECK_OK(reef_json_get_bool(&d, 1, &b, &err), &err);
    CHECK(b);
    CHECK_OK(reef_json_get_bool(&d, 2, &b, &err), &err);
    CHECK(!b);
    for (int v = 3; v <= 6; v++)
        CHECK_INT(reef_json_get_bool(&d, v, &b, &err), ==, -EINVAL);
    CHECK_STR(err.msg, "json: line 1, column 32 (byte 31): expected a bool, found object");
    reef_json_get_bool(&d, 5, &b, &err);
    CHECK_STR(err.msg, "json: line 1, column 24 (byte 23): expected a bool, found string "
                       "\"true\"");
    reef_json_get_bool(&d, 3, &b, &err);
    CHECK_STR(err.msg, "json: line 1, column 15 (byte 14): expected a bool, found null");
    char tmp[8];
    reef_json_get_str(&d, 1, tmp, sizeof(tmp), &err);
    CHECK_STR(err.msg, "json: line 1, column 2 (byte 1): expected a string, found bool true");
    CHECK(reef_json_is_null(&d, 3));
    CHECK(!reef_json_is_null(&d, 4));
    CHECK(!reef_json_is_null(&d, 99));
    CHECK_INT(reef_json_get_bool(&d, 99, &b, &err), ==, -EINVAL);
    /* Long values are cut in messages. */
    parse_ok(&d, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
    reef_json_get_bool(&d, 0, &b, &err);
    CHECK_STR(err.msg, "json: line 1, column 1 (byte 0): expected a bool, found string "
                       "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...");
    reef_json_doc_free(&d);
}

static void test_equal(void)
{
    static const struct {
        const char *a, *b;
        bool eq;
    } cases[] = {
        {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", true},
        {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1,\"c\":3}", false},
        {"{\"a\":1,\"b\":2}", "{\"a\":1}", false},
        {"{\"a\":1,\"a\":2}", "{\"a\":2}", true},
        {"{\"a\":1,\"a\":2}", "{\"a\":1}", false},
        {"{\"a\":1,\"a\":2,\"b\":3}", "{\"b\":3,\"a\":0,\"a\":2}", true},
        {"{\"\\u0061\":1}", "{\"a\":1}", true},
        {"[1,2]", "[2,1]", false},
        {"[1,2]", "[1,2,3]", false},
        {"[]", "{}", false},
        {"[[]]", "[[]]", true},
        {"1", "1.0", true},
        {"1", "1e0", true},
        {"1", "10e-1", true},
        {"1", "0.1e1", true},
        {"100", "1e2", true},
        {"100", "1e3", false},
        {"-0", "0", true},
        {"0", "0.000e10", true},
        {"-1", "1", false},
        {"1.5", "15e-1", true},
        {"1.5", "1.50000000000000000000000000001", false},
        {"123456789012345678901234567890", "1.2345678901234567890123456789e29", true},
        {"123456789012345678901234567890", "123456789012345678901234567891", false},
        {"1e999999999999999999999", "1e999999999999999999999", true},
        {"1e999999999999999999999", "1e999999999999999999998", false},
        {"\"a\\nb\"", "\"a\\u000ab\"", true},
        {"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"", true},
        {"\"\\/\"", "\"/\"", true},
        {"\"a\"", "\"ab\"", false},
        {"\"1\"", "1", false},
        {"true", "true", true},
        {"true", "false", false},
        {"null", "null", true},
        {"null", "false", false},
        {"{\"k\":{\"x\":[1,{\"y\":null}]}}", "{\"k\":{\"x\":[1.0,{\"y\":null}]}}", true},
        {"{\"k\":{\"x\":[1,{\"y\":null}]}}", "{\"k\":{\"x\":[1,{\"y\":false}]}}", false},
        /* More members than the stack arrays hold. */
        {"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10}",
         "{\"j\":10,\"i\":9,\"h\":8,\"g\":7,\"f\":6,\"e\":5,\"d\":4,\"c\":3,\"b\":2,\"a\":1}",
         true},
        {"{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10}",
         "{\"j\":10,\"i\":9,\"h\":8,\"g\":7,\"f\":6,\"e\":5,\"d\":4,\"c\":3,\"b\":2,\"a\":2}",
         false},
    };
    struct reef_json_doc a = REEF_JSON_DOC_INIT, b = REEF_JSON_DOC_INIT;
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        parse_ok(&a, cases[i].a);
        parse_ok(&b, cases[i].b);
        if (reef_json_equal(&a, 0, &b, 0) != cases[i].eq ||
            reef_json_equal(&b, 0, &a, 0) != cases[i].eq)
            TEST_FAIL("%s vs %s: want %s", cases[i].a, cases[i].b, cases[i].eq ? "equal" : "not");
        CHECK(reef_json_equal(&a, 0, &a, 0));
    }
    /* Values inside the same document. */
    parse_ok(&a, "[{\"x\":1,\"y\":2},{\"y\":2,\"x\":1},{\"x\":1}]");
    CHECK(reef_json_equal(&a, 1, &a, reef_json_index(&a, 0, 1)));
    CHECK(!reef_json_equal(&a, 1, &a, reef_json_index(&a, 0, 2)));
    CHECK(!reef_json_equal(&a, 1, &a, 999));
    reef_json_doc_free(&a);
    reef_json_doc_free(&b);
}

/* Runs fn on a fresh writer and returns the output (caller frees); checks finish's result. */

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_vectors);
    TEST_RUN(test_error_messages);
    TEST_RUN(test_limits);
    TEST_RUN(test_kind_raw_count);
    TEST_RUN(test_member_index);
    TEST_RUN(test_find);
    TEST_RUN(test_iter);
    TEST_RUN(test_get_str);
    TEST_RUN(test_get_int);
    TEST_RUN(test_get_uint);
    TEST_RUN(test_get_double);
    TEST_RUN(test_get_bool_null);
    TEST_RUN(test_equal);
    return test_done();
}
