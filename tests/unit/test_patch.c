/* Tests for orchestrate/patch: RFC 6902 JSON Patch (its appendix A, plus errors) and RFC 7386
 * JSON Merge Patch (its appendix A, plus order preservation). */
#include <string.h>

#include "orchestrate/patch.h"
#include "tests/unit/test.h"

struct jp_case {
    const char *doc, *patch, *want; /* want NULL: an error containing err_has */
    const char *err_has;
};

static void run_json_patch(const struct jp_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct reef_buf out = REEF_BUF_INIT;
        struct reef_err err = {0};
        int r = reef_patch_json_apply(c[i].doc, strlen(c[i].doc), c[i].patch, strlen(c[i].patch),
                                      &out, &err);
        if (c[i].want) {
            if (r != 0)
                TEST_FAIL("case %zu: %s + %s: error %d: %s", i, c[i].doc, c[i].patch, r, err.msg);
            if (strcmp(out.data, c[i].want) != 0)
                TEST_FAIL("case %zu: got %s, want %s", i, out.data, c[i].want);
        } else {
            if (r == 0)
                TEST_FAIL("case %zu: %s + %s: expected an error, got %s", i, c[i].doc, c[i].patch,
                          out.data);
            CHECK(out.len == 0);
            if (c[i].err_has && !strstr(err.msg, c[i].err_has))
                TEST_FAIL("case %zu: error \"%s\" lacks \"%s\"", i, err.msg, c[i].err_has);
        }
        reef_buf_free(&out);
    }
}

/* RFC 6902, appendix A, in order. */
static void test_rfc6902_appendix_a(void)
{
    static const struct jp_case c[] = {
        /* A.1 */
        {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
         "{\"foo\":\"bar\",\"baz\":\"qux\"}", NULL},
        /* A.2 */
        {"{\"foo\":[\"bar\",\"baz\"]}", "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
         "{\"foo\":[\"bar\",\"qux\",\"baz\"]}", NULL},
        /* A.3 */
        {"{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
         "{\"foo\":\"bar\"}", NULL},
        /* A.4 */
        {"{\"foo\":[\"bar\",\"qux\",\"baz\"]}", "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]",
         "{\"foo\":[\"bar\",\"baz\"]}", NULL},
        /* A.5 */
        {"{\"baz\":\"qux\",\"foo\":\"bar\"}",
         "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
         "{\"baz\":\"boo\",\"foo\":\"bar\"}", NULL},
        /* A.6 */
        {"{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
         "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
         "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}", NULL},
        /* A.7 */
        {"{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
         "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
         "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}", NULL},
        /* A.8 */
        {"{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
         "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
         "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
         "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}", NULL},
        /* A.9 */
        {"{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", NULL,
         "operation 0 (test) path \"/baz\": test failed"},
        /* A.10 */
        {"{\"foo\":\"bar\"}",
         "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
         "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}", NULL},
        /* A.11 */
        {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
         "{\"foo\":\"bar\",\"baz\":\"qux\"}", NULL},
        /* A.12 */
        {"{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", NULL,
         "operation 0 (add) path \"/baz/bat\""},
        /* A.13: the repeated "op" reads as its last value, remove, of a missing member. */
        {"{\"foo\":\"bar\"}",
         "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"op\":\"remove\"}]", NULL,
         "operation 0 (remove)"},
        /* A.14 */
        {"{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
         "{\"/\":9,\"~1\":10}", NULL},
        /* A.15 */
        {"{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", NULL,
         "test failed"},
        /* A.16 */
        {"{\"foo\":[\"bar\"]}",
         "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
         "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}", NULL},
    };
    run_json_patch(c, REEF_ARRAY_LEN(c));
}

static void test_json_patch_more(void)
{
    static const struct jp_case c[] = {
        /* The whole document. */
        {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", "[1]", NULL},
        {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"\",\"value\":{\"b\":2}}]", "{\"b\":2}", NULL},
        {"{\"a\":1}", "[]", "{\"a\":1}", NULL},
        /* Replace keeps the member's place. */
        {"{\"a\":1,\"b\":2,\"c\":3}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":9}]",
         "{\"a\":9,\"b\":2,\"c\":3}", NULL},
        /* Add over an existing member replaces it in place. */
        {"{\"a\":1,\"b\":2}", "[{\"op\":\"add\",\"path\":\"/a\",\"value\":0}]", "{\"a\":0,\"b\":2}",
         NULL},
        /* Operations see each other's results. */
        {"{}",
         "[{\"op\":\"add\",\"path\":\"/a\",\"value\":{}},{\"op\":\"add\",\"path\":\"/a/b\","
         "\"value\":[]},{\"op\":\"add\",\"path\":\"/a/b/0\",\"value\":1},{\"op\":\"copy\","
         "\"from\":\"/a\",\"path\":\"/c\"},{\"op\":\"remove\",\"path\":\"/a/b/0\"}]",
         "{\"a\":{\"b\":[]},\"c\":{\"b\":[1]}}", NULL},
        /* ~1 and ~0 in member names; keys with escapes. */
        {"{\"a/b\":{\"c~d\":1}}", "[{\"op\":\"replace\",\"path\":\"/a~1b/c~0d\",\"value\":2}]",
         "{\"a/b\":{\"c~d\":2}}", NULL},
        {"{\"x\\u00e9\":1}", "[{\"op\":\"remove\",\"path\":\"/x\\u00e9\"}]", "{}", NULL},
        /* Labels the way kubectl patches them (keys with '/'). */
        {"{\"metadata\":{\"labels\":{\"app\":\"web\"}}}",
         "[{\"op\":\"add\",\"path\":\"/metadata/labels/app.kubernetes.io~1name\","
         "\"value\":\"x\"}]",
         "{\"metadata\":{\"labels\":{\"app\":\"web\",\"app.kubernetes.io/name\":\"x\"}}}", NULL},
        /* Move to the same place is a no-op; move into its own child is not allowed. */
        {"{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a\"}]",
         "{\"a\":{\"b\":1}}", NULL},
        {"{\"a\":{\"b\":1}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/c\"}]", NULL,
         "its own children"},
        /* Numbers keep their spelling; test compares numbers by value. */
        {"{\"n\":1.50}", "[{\"op\":\"test\",\"path\":\"/n\",\"value\":1.5}]", "{\"n\":1.50}", NULL},
        {"{\"o\":{\"a\":1,\"b\":2}}",
         "[{\"op\":\"test\",\"path\":\"/o\",\"value\":{\"b\":2,\"a\":1}}]",
         "{\"o\":{\"a\":1,\"b\":2}}", NULL},
        /* Errors that name the operation and what is wrong. */
        {"{}", "{}", NULL, "must be an array"},
        {"{}", "[1]", NULL, "operation 0: not an object"},
        {"{}", "[{\"path\":\"/a\"}]", NULL, "missing or non-string \"op\""},
        {"{}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", NULL, "unknown op \"frob\""},
        {"{}", "[{\"op\":\"add\",\"value\":1}]", NULL, "missing or non-string \"path\""},
        {"{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", NULL, "missing \"value\""},
        {"{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", NULL, "start with '/'"},
        {"{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/2\",\"value\":1}]", NULL, "out of range"},
        {"{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/01\",\"value\":1}]", NULL,
         "invalid array index"},
        {"{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/-\"}]", NULL, "invalid array index"},
        {"{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/1\"}]", NULL, "out of range"},
        {"{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]", NULL,
         "member not found"},
        {"{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"\"}]", NULL, "whole document"},
        {"{\"a\":1}", "[{\"op\":\"copy\",\"path\":\"/b\"}]", NULL, "\"from\""},
        {"{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/x\",\"path\":\"/b\"}]", NULL,
         "from: member not found"},
        {"{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/a/~2\",\"value\":1}]", NULL, "'~'"},
        {"{\"a\":\"s\"}", "[{\"op\":\"add\",\"path\":\"/a/b\",\"value\":1}]", NULL,
         "not an object or array"},
        /* A later failure discards earlier successes. */
        {"{\"a\":1}",
         "[{\"op\":\"remove\",\"path\":\"/a\"},{\"op\":\"test\",\"path\":\"/a\",\"value\":1}]",
         NULL, "operation 1 (test)"},
        {"not json", "[]", NULL, "document"},
        {"{}", "[", NULL, "json patch"},
    };
    run_json_patch(c, REEF_ARRAY_LEN(c));
}

/* Copying the document into itself doubles it each time; the limit stops it. */
static void test_json_patch_growth_bounded(void)
{
    struct reef_buf p = REEF_BUF_INIT;
    reef_buf_puts(&p, "[{\"op\":\"add\",\"path\":\"/a\",\"value\":[1,2,3,4,5,6,7,8]}");
    for (int i = 0; i < 40; i++)
        reef_buf_printf(&p, ",{\"op\":\"copy\",\"from\":\"\",\"path\":\"/x%d\"}", i);
    reef_buf_puts(&p, "]");
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_INT(reef_patch_json_apply("{}", 2, p.data, p.len, &out, &err), ==, -E2BIG);
    CHECK(strstr(err.msg, "too large") != NULL);
    /* Malformed patches (400) and patches that do not apply (422) are told apart. */
    const char *rm = "[{\"op\":\"remove\",\"path\":\"/a\"}]";
    CHECK_INT(reef_patch_json_apply("{}", 2, "{}", 2, &out, &err), ==, -EBADMSG);
    CHECK_INT(reef_patch_json_apply("{}", 2, "[", 1, &out, &err), ==, -EBADMSG);
    CHECK_INT(reef_patch_json_apply("{}", 2, rm, strlen(rm), &out, &err), ==, -EINVAL);
    reef_buf_free(&p);
    reef_buf_free(&out);
}

struct mp_case {
    const char *doc, *patch, *want;
};

/* RFC 7386, appendix A (with members in the order this implementation writes them). */
static void test_rfc7386_appendix_a(void)
{
    static const struct mp_case c[] = {
        {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"foo\"}", "null", "null"},
        {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
        {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(c); i++) {
        struct reef_buf out = REEF_BUF_INIT;
        struct reef_err err = {0};
        int r = reef_patch_merge_apply(c[i].doc, strlen(c[i].doc), c[i].patch, strlen(c[i].patch),
                                       &out, &err);
        if (r != 0)
            TEST_FAIL("case %zu: error %s", i, err.msg);
        if (strcmp(out.data, c[i].want) != 0)
            TEST_FAIL("case %zu: %s + %s: got %s, want %s", i, c[i].doc, c[i].patch, out.data,
                      c[i].want);
        reef_buf_free(&out);
    }
}

/* kubectl label / annotate / scale send merge patches; the rest of the object must come back
 * member for member, in order. */
static void test_merge_patch_kubectl(void)
{
    static const struct mp_case c[] = {
        {"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\","
         "\"tier\":\"fe\"}},\"spec\":{\"containers\":[{\"name\":\"c\"}]}}",
         "{\"metadata\":{\"labels\":{\"color\":\"blue\",\"tier\":null}}}",
         "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\","
         "\"color\":\"blue\"}},\"spec\":{\"containers\":[{\"name\":\"c\"}]}}"},
        {"{\"spec\":{\"replicas\":2,\"x\":1}}", "{\"spec\":{\"replicas\":5}}",
         "{\"spec\":{\"replicas\":5,\"x\":1}}"},
        {"{\"s\":\"\\u00e9\\n\\\"\"}", "{}", "{\"s\":\"\xc3\xa9\\n\\\"\"}"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(c); i++) {
        struct reef_buf out = REEF_BUF_INIT;
        struct reef_err err = {0};
        CHECK_OK(reef_patch_merge_apply(c[i].doc, strlen(c[i].doc), c[i].patch, strlen(c[i].patch),
                                        &out, &err),
                 &err);
        CHECK_STR(out.data, c[i].want);
        reef_buf_free(&out);
    }
}

static void test_merge_patch_errors(void)
{
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_INT(reef_patch_merge_apply("{}", 2, "{", 1, &out, &err), ==, -EBADMSG);
    CHECK(strstr(err.msg, "merge patch") != NULL);
    CHECK_INT(reef_patch_merge_apply("{", 1, "{}", 2, &out, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "document") != NULL);
    CHECK_INT(reef_patch_merge_apply("{", 1, "{}", 2, &out, NULL), ==, -EINVAL);
    CHECK(out.len == 0);
    reef_buf_free(&out);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_rfc6902_appendix_a);
    TEST_RUN(test_json_patch_more);
    TEST_RUN(test_json_patch_growth_bounded);
    TEST_RUN(test_rfc7386_appendix_a);
    TEST_RUN(test_merge_patch_kubectl);
    TEST_RUN(test_merge_patch_errors);
    return test_done();
}
