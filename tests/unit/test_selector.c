/* Tests for orchestrate/selector: label selector syntax, canonical strings and errors as the
 * apiserver has them, LabelSelector objects, matching, and field selectors per resource. */
#include <string.h>

#include "orchestrate/selector.h"
#include "tests/unit/test.h"

static struct reef_label_selector *parse_ok(const char *s)
{
    struct reef_label_selector *sel = NULL;
    struct reef_err err = {0};
    int r = reef_label_selector_parse(s, &sel, &err);
    if (r != 0)
        TEST_FAIL("parse \"%s\": %d: %s", s, r, err.msg);
    return sel;
}

static void test_label_parse_canonical(void)
{
    static const struct {
        const char *in, *want;
    } c[] = {
        {"", ""},
        {"x=a,y=b,z=c", "x=a,y=b,z=c"},
        {"z=c,x=a", "x=a,z=c"},
        {"x!=a,y=b", "x!=a,y=b"},
        {"x=", "x="},
        {"x= ", "x="},
        {"x=,z= ", "x=,z="},
        {"x==a", "x==a"},
        {"!x", "!x"},
        {"x", "x"},
        {" x , !y ", "x,!y"},
        {"\tx\n=\ra", "x=a"},
        {"x in (b,a)", "x in (a,b)"},
        {"x in (a,a,b)", "x in (a,b)"},
        {"x notin (a)", "x notin (a)"},
        {"x in (,a)", "x in (,a)"},
        {"x in (a,)", "x in (,a)"},
        {"x in ()", "x in ()"},
        {"x notin(a)", "x notin (a)"},
        {"x>1", "x>1"},
        {"x>1,z<5", "x>1,z<5"},
        {"x>-3", "x>-3"},
        {"in=x", "in=x"},
        {"notin", "notin"},
        {"a.b/c-d_e=v.1", "a.b/c-d_e=v.1"},
        {"app.kubernetes.io/name=web", "app.kubernetes.io/name=web"},
        {"env in (prod,dev),app=web,!legacy", "app=web,env in (dev,prod),!legacy"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(c); i++) {
        struct reef_label_selector *sel = parse_ok(c[i].in);
        struct reef_buf b = REEF_BUF_INIT;
        CHECK_INT(reef_label_selector_string(sel, &b), ==, 0);
        if (strcmp(b.data ? b.data : "", c[i].want) != 0)
            TEST_FAIL("\"%s\": got \"%s\", want \"%s\"", c[i].in, b.data ? b.data : "", c[i].want);
        reef_buf_free(&b);
        reef_label_selector_free(sel);
    }
}

static void test_label_parse_errors(void)
{
    static const struct {
        const char *in, *want;
    } c[] = {
        {"x=a||y=b", "unable to parse requirement: values[0]: Invalid value: \"a||y\": a valid "
                     "label must be an empty string or consist of alphanumeric characters, '-', "
                     "'_' or '.', and must start and end with an alphanumeric character (e.g. "
                     "'MyValue', or 'my_value', or '12345', regex used for validation is "
                     "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"},
        {"x==a==b", "found '==', expected: ',' or 'end of string'"},
        {"!x=a", "found '=', expected: ',' or 'end of string'"},
        {"x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
                "operators, the value must be an integer"},
        {"x in a", "unable to parse requirement: found 'a' expected: '('"},
        {"x,", "found '', expected: identifier after ','"},
        {",", "found ',', expected: !, identifier, or 'end of string'"},
        {"x y", "unable to parse requirement: found 'y', expected: in, notin, =, ==, !=, gt, lt"},
        {"x in (a", "unable to parse requirement: found '', expected: ',' or ')'"},
        {"x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"},
        {"x=(", "unable to parse requirement: found '(', expected: identifier"},
        {"!", "unable to parse requirement: found '', expected: identifier"},
        {"a b=c", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"},
        {"-x=1", "unable to parse requirement: key: Invalid value: \"-x\": name part must "
                 "consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                 "with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', "
                 "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"},
        {"a/b/c=1", "unable to parse requirement: key: Invalid value: \"a/b/c\": a qualified "
                    "name must consist"},
        {"/x=1", "unable to parse requirement: key: Invalid value: \"/x\": prefix part must be "
                 "non-empty"},
        {"Bad.Prefix/x=1", "unable to parse requirement: key: Invalid value: \"Bad.Prefix/x\": "
                           "prefix part a lowercase RFC 1123 subdomain must consist of lower "
                           "case alphanumeric characters"},
        {"x/=1", "unable to parse requirement: key: Invalid value: \"x/\": name part must be "
                 "non-empty"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(c); i++) {
        struct reef_label_selector *sel = NULL;
        struct reef_err err = {0};
        int r = reef_label_selector_parse(c[i].in, &sel, &err);
        if (r != -EINVAL)
            TEST_FAIL("\"%s\": returned %d, want -EINVAL", c[i].in, r);
        CHECK(sel == NULL);
        /* reef_err keeps 255 bytes; the longest upstream texts are cut there. */
        size_t cmp = strlen(c[i].want) < 240 ? strlen(c[i].want) : 240;
        if (strncmp(err.msg, c[i].want, cmp) != 0)
            TEST_FAIL("\"%s\":\n  got  %s\n  want %s", c[i].in, err.msg, c[i].want);
    }
}

static void test_label_key_value_lengths(void)
{
    char s[600];
    /* A 63-character name and a 253-character prefix are the limits. */
    memset(s, 'a', 63);
    strcpy(s + 63, "=v");
    reef_label_selector_free(parse_ok(s));
    memset(s, 'a', 64);
    strcpy(s + 64, "=v");
    struct reef_label_selector *sel = NULL;
    struct reef_err err = {0};
    CHECK_INT(reef_label_selector_parse(s, &sel, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "name part must be no more than 63 characters") != NULL);

    size_t n = 0;
    for (int label = 0; label < 4; label++) { /* 4 labels of 62 + 3 dots + 2 = 253 */
        memset(s + n, 'b', label == 3 ? 2 : 62);
        n += label == 3 ? 2 : 62;
        if (label < 3)
            s[n++] = '.';
    }
    CHECK_INT(n, ==, 191);
    memset(s + n, 'c', 62);
    n += 62;
    strcpy(s + n, "/k=v"); /* prefix of 253 */
    reef_label_selector_free(parse_ok(s));
    s[0] = 'x';
    memmove(s + 1, s, strlen(s) + 1); /* 254 */
    CHECK_INT(reef_label_selector_parse(s, &sel, &err), ==, -EINVAL);
    if (!strstr(err.msg, "prefix part must be no more than 253 characters"))
        TEST_FAIL("%zu: %s", strlen(s), err.msg);

    memset(s, 'v', 64);
    s[64] = '\0';
    char sel_s[700];
    snprintf(sel_s, sizeof(sel_s), "k=%s", s);
    CHECK_INT(reef_label_selector_parse(sel_s, &sel, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "values[0]: Invalid value") != NULL);
    CHECK(strstr(err.msg, "must be no more than 63 characters") != NULL);
}

static bool matches(const char *selector, const char *labels_json)
{
    struct reef_label_selector *sel = parse_ok(selector);
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int labels = -1;
    if (labels_json) {
        CHECK_INT(reef_json_parse(&d, labels_json, strlen(labels_json), NULL, NULL), ==, 0);
        labels = REEF_JSON_ROOT;
    }
    bool m = reef_label_selector_matches(sel, &d, labels);
    reef_json_doc_free(&d);
    reef_label_selector_free(sel);
    return m;
}

static void test_label_matching(void)
{
    const char *l = "{\"app\":\"web\",\"tier\":\"fe\",\"n\":\"5\",\"e\":\"\",\"esc\":\"a\\u0062\"}";
    static const struct {
        const char *sel;
        bool want;
    } c[] = {
        {"", true},
        {"app=web", true},
        {"app==web", true},
        {"app=db", false},
        {"app!=db", true},
        {"app!=web", false},
        {"missing!=x", true},
        {"missing=x", false},
        {"app in (web,db)", true},
        {"app in (db)", false},
        {"app notin (web)", false},
        {"app notin (db)", true},
        {"missing notin (a)", true},
        {"missing in (a)", false},
        {"app", true},
        {"missing", false},
        {"!app", false},
        {"!missing", true},
        {"n>3", true},
        {"n>5", false},
        {"n<6", true},
        {"app>1", false},
        {"e=", true},
        {"e", true},
        {"missing=", false},
        {"e in (,x)", true},
        {"esc=ab", true},
        {"app=web,tier=fe", true},
        {"app=web,tier=be", false},
        {"app=web,!missing,tier in (fe)", true},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(c); i++)
        if (matches(c[i].sel, l) != c[i].want)
            TEST_FAIL("\"%s\" on %s: want %d", c[i].sel, l, c[i].want);
    /* An object without labels. */
    CHECK(matches("!app", NULL));
    CHECK(matches("app!=x", NULL));
    CHECK(!matches("app", NULL));
    CHECK(!matches("app=x", NULL));
    CHECK(matches("", NULL));
    /* Labels that are not strings equal nothing. */
    CHECK(!matches("n=5", "{\"n\":5}"));
    CHECK(matches("n", "{\"n\":5}"));
}

static void test_label_equal_value(void)
{
    struct reef_label_selector *sel = parse_ok("app=web,tier in (fe),x in (a,b),y!=z,w==v");
    CHECK_STR(reef_label_selector_equal_value(sel, "app"), "web");
    CHECK_STR(reef_label_selector_equal_value(sel, "tier"), "fe");
    CHECK_STR(reef_label_selector_equal_value(sel, "w"), "v");
    CHECK(reef_label_selector_equal_value(sel, "x") == NULL);
    CHECK(reef_label_selector_equal_value(sel, "y") == NULL);
    CHECK(reef_label_selector_equal_value(sel, "none") == NULL);
    CHECK(!reef_label_selector_empty(sel));
    reef_label_selector_free(sel);
    sel = parse_ok("");
    CHECK(reef_label_selector_empty(sel));
    CHECK(!reef_label_selector_is_nothing(sel));
    reef_label_selector_free(sel);
}

static struct reef_label_selector *from_json(const char *json, struct reef_err *err, int *rc)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, json, strlen(json), NULL, NULL), ==, 0);
    struct reef_label_selector *sel = NULL;
    *rc = reef_label_selector_from_json(&d, REEF_JSON_ROOT, &sel, err);
    reef_json_doc_free(&d);
    return sel;
}

static void test_label_selector_object(void)
{
    struct reef_err err = {0};
    int rc;
    struct reef_label_selector *sel =
        from_json("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
                  "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"fe\",\"be\"]},"
                  "{\"key\":\"legacy\",\"operator\":\"DoesNotExist\"},"
                  "{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"test\"]},"
                  "{\"key\":\"team\",\"operator\":\"Exists\"}]}",
                  &err, &rc);
    CHECK_OK(rc, &err);
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_label_selector_string(sel, &b), ==, 0);
    CHECK_STR(b.data, "app=web,env notin (test),!legacy,team,tier in (be,fe)");
    reef_buf_free(&b);

    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    const char *l1 = "{\"app\":\"web\",\"tier\":\"fe\",\"team\":\"a\"}";
    const char *l2 = "{\"app\":\"web\",\"tier\":\"fe\",\"team\":\"a\",\"legacy\":\"1\"}";
    CHECK_INT(reef_json_parse(&d, l1, strlen(l1), NULL, NULL), ==, 0);
    CHECK(reef_label_selector_matches(sel, &d, REEF_JSON_ROOT));
    CHECK_INT(reef_json_parse(&d, l2, strlen(l2), NULL, NULL), ==, 0);
    CHECK(!reef_label_selector_matches(sel, &d, REEF_JSON_ROOT));
    reef_label_selector_free(sel);

    /* null selects nothing; {} everything. */
    sel = from_json("null", &err, &rc);
    CHECK_OK(rc, &err);
    CHECK(reef_label_selector_is_nothing(sel));
    CHECK(!reef_label_selector_matches(sel, &d, REEF_JSON_ROOT));
    reef_label_selector_free(sel);
    sel = from_json("{}", &err, &rc);
    CHECK_OK(rc, &err);
    CHECK(reef_label_selector_empty(sel));
    CHECK(reef_label_selector_matches(sel, &d, REEF_JSON_ROOT));
    reef_label_selector_free(sel);
    reef_json_doc_free(&d);

    /* The Scale subresource's status.selector. */
    sel = from_json("{\"matchLabels\":{\"app\":\"web\",\"a\":\"b\"}}", &err, &rc);
    CHECK_OK(rc, &err);
    b = (struct reef_buf)REEF_BUF_INIT;
    reef_label_selector_string(sel, &b);
    CHECK_STR(b.data, "a=b,app=web");
    reef_buf_free(&b);
    reef_label_selector_free(sel);

    static const struct {
        const char *json, *want;
    } bad[] = {
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}",
         "\"Foo\" is not a valid label selector operator"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}",
         "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be "
         "empty"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
         "values: Invalid value"},
        {"{\"matchLabels\":{\"a b\":\"x\"}}", "key: Invalid value: \"a b\""},
        {"{\"matchLabels\":{\"a\":\"x y\"}}", "values[0]: Invalid value: \"x y\""},
        {"{\"matchLabels\":{\"a\":1}}", "matchLabels"},
        {"{\"matchLabels\":[]}", "matchLabels must be an object"},
        {"[]", "expected an object"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        sel = from_json(bad[i].json, &err, &rc);
        if (rc != -EINVAL || sel)
            TEST_FAIL("%s: rc %d", bad[i].json, rc);
        if (!strstr(err.msg, bad[i].want))
            TEST_FAIL("%s: got \"%s\", want \"%s\"", bad[i].json, err.msg, bad[i].want);
    }
}

static void test_label_selector_map(void)
{
    const char *svc = "{\"spec\":{\"selector\":{\"app\":\"web\",\"tier\":\"fe\"}},"
                      "\"bad\":{\"a b\":\"x\"},\"num\":{\"a\":1},\"list\":[]}";
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, svc, strlen(svc), NULL, NULL), ==, 0);
    struct reef_label_selector *sel = NULL;
    struct reef_err err = {0};
    CHECK_OK(
        reef_label_selector_from_map(&d, reef_json_find(&d, 0, "spec.selector", NULL), &sel, &err),
        &err);
    struct reef_buf b = REEF_BUF_INIT;
    reef_label_selector_string(sel, &b);
    CHECK_STR(b.data, "app=web,tier=fe");
    reef_buf_free(&b);
    const char *pod = "{\"app\":\"web\",\"tier\":\"fe\",\"x\":\"y\"}";
    struct reef_json_doc p = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&p, pod, strlen(pod), NULL, NULL), ==, 0);
    CHECK(reef_label_selector_matches(sel, &p, REEF_JSON_ROOT));
    reef_label_selector_free(sel);
    /* Absent: everything. */
    CHECK_OK(reef_label_selector_from_map(&d, -ENOENT, &sel, &err), &err);
    CHECK(reef_label_selector_empty(sel));
    reef_label_selector_free(sel);
    CHECK_INT(reef_label_selector_from_map(&d, reef_json_member(&d, 0, "bad"), &sel, &err), ==,
              -EINVAL);
    CHECK(strstr(err.msg, "key: Invalid value: \"a b\"") != NULL);
    CHECK_INT(reef_label_selector_from_map(&d, reef_json_member(&d, 0, "num"), &sel, &err), ==,
              -EINVAL);
    CHECK_INT(reef_label_selector_from_map(&d, reef_json_member(&d, 0, "list"), &sel, &err), ==,
              -EINVAL);
    CHECK(sel == NULL);
    reef_json_doc_free(&d);
    reef_json_doc_free(&p);
}

static bool fmatch(const char *resource, const char *selector, const char *obj)
{
    struct reef_field_selector *sel = NULL;
    struct reef_err err = {0};
    int r = reef_field_selector_parse(selector, resource, &sel, &err);
    if (r != 0)
        TEST_FAIL("field selector \"%s\": %s", selector, err.msg);
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, obj, strlen(obj), NULL, NULL), ==, 0);
    bool m = reef_field_selector_matches(sel, &d, REEF_JSON_ROOT);
    reef_json_doc_free(&d);
    reef_field_selector_free(sel);
    return m;
}

static void test_field_selectors(void)
{
    const char *pod = "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},"
                      "\"spec\":{\"nodeName\":\"node1\",\"hostNetwork\":true},"
                      "\"status\":{\"phase\":\"Running\"}}";
    const char *pending = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},"
                          "\"spec\":{},\"status\":{\"phase\":\"Pending\"}}";
    CHECK(fmatch("pods", "", pod));
    CHECK(fmatch("pods", "metadata.name=web-1", pod));
    CHECK(fmatch("pods", "metadata.name==web-1", pod));
    CHECK(!fmatch("pods", "metadata.name!=web-1", pod));
    CHECK(!fmatch("pods", "metadata.name=web-2", pod));
    CHECK(fmatch("pods", "metadata.namespace=default", pod));
    /* kubectl describe node */
    const char *dn = "spec.nodeName=node1,status.phase!=Succeeded,status.phase!=Failed";
    CHECK(fmatch("pods", dn, pod));
    CHECK(!fmatch("pods", dn, pending));
    CHECK(fmatch("pods", "spec.nodeName=", pending));
    CHECK(!fmatch("pods", "spec.nodeName=", pod));
    CHECK(fmatch("pods", "spec.hostNetwork=true", pod));
    CHECK(fmatch("pods", "spec.hostNetwork=false", pending));
    CHECK(fmatch("pods", ",metadata.name=web-1,", pod));

    const char *ev = "{\"metadata\":{\"name\":\"e1\",\"namespace\":\"default\"},"
                     "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-1\","
                     "\"namespace\":\"default\",\"uid\":\"u-1\"},\"reason\":\"Started\","
                     "\"type\":\"Normal\",\"source\":{\"component\":\"kubelet\"}}";
    CHECK(fmatch("events",
                 "involvedObject.name=web-1,involvedObject.namespace=default,"
                 "involvedObject.kind=Pod,involvedObject.uid=u-1",
                 ev));
    CHECK(!fmatch("events", "involvedObject.uid=u-2", ev));
    CHECK(fmatch("events", "source=kubelet,type=Normal,reason=Started", ev));
    CHECK(fmatch("events", "source=reef", "{\"reportingController\":\"reef\"}"));
    CHECK(fmatch("events", "reportingComponent=reef", "{\"reportingController\":\"reef\"}"));

    CHECK(fmatch("replicasets", "status.replicas=3", "{\"status\":{\"replicas\":3}}"));
    CHECK(fmatch("replicasets", "status.replicas=0", "{\"status\":{}}"));
    CHECK(fmatch("nodes", "spec.unschedulable=false", "{\"spec\":{}}"));
    CHECK(fmatch("secrets", "type=Opaque", "{\"type\":\"Opaque\"}"));
    CHECK(fmatch("namespaces", "status.phase=Active", "{\"status\":{\"phase\":\"Active\"}}"));
    /* Escaped commas and equals signs in values. */
    CHECK(fmatch("pods", "metadata.name=a\\,b\\=c\\\\", "{\"metadata\":{\"name\":\"a,b=c\\\\\"}}"));
    /* Without a resource, any dotted path of the object. */
    CHECK(fmatch(NULL, "spec.strange.path=1,a\"b=x",
                 "{\"spec\":{\"strange\":{\"path\":1}},"
                 "\"a\\\"b\":\"x\"}"));
    CHECK(fmatch(NULL, "spec.obj!=x", "{\"spec\":{\"obj\":{}}}"));
}

static void test_field_selector_errors_and_index(void)
{
    static const struct {
        const char *resource, *sel, *want;
    } c[] = {
        {"pods", "spec.foo=x", "field label not supported: spec.foo"},
        {"nodes", "metadata.namespace=x", "field label not supported: metadata.namespace"},
        {"deployments", "spec.replicas=1", "field label not supported: spec.replicas"},
        {"pods", "metadata.name",
         "invalid selector: 'metadata.name'; can't understand "
         "'metadata.name'"},
        {"pods", "a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"},
        {"pods", "metadata.name=a=b", "invalid field selector: unescaped character: ="},
        {"pods", "metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x"},
        {"pods", "metadata.name=a\\", "invalid field selector: invalid escape sequence: \\"},
        {"pods", " metadata.name=x", "field label not supported:  metadata.name"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(c); i++) {
        struct reef_field_selector *sel = NULL;
        struct reef_err err = {0};
        int r = reef_field_selector_parse(c[i].sel, c[i].resource, &sel, &err);
        if (r != -EINVAL || sel)
            TEST_FAIL("\"%s\": rc %d", c[i].sel, r);
        if (strcmp(err.msg, c[i].want) != 0)
            TEST_FAIL("\"%s\": got \"%s\", want \"%s\"", c[i].sel, err.msg, c[i].want);
    }
    struct reef_field_selector *sel = NULL;
    struct reef_err err = {0};
    CHECK_OK(reef_field_selector_parse("status.phase!=Failed,spec.nodeName==n1,metadata.name=x",
                                       "pods", &sel, &err),
             &err);
    CHECK_STR(reef_field_selector_equal_value(sel, "spec.nodeName"), "n1");
    CHECK_STR(reef_field_selector_equal_value(sel, "metadata.name"), "x");
    CHECK(reef_field_selector_equal_value(sel, "status.phase") == NULL);
    CHECK(!reef_field_selector_empty(sel));
    reef_field_selector_free(sel);
    CHECK_OK(reef_field_selector_parse("", "pods", &sel, &err), &err);
    CHECK(reef_field_selector_empty(sel));
    reef_field_selector_free(sel);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_label_parse_canonical);
    TEST_RUN(test_label_parse_errors);
    TEST_RUN(test_label_key_value_lengths);
    TEST_RUN(test_label_matching);
    TEST_RUN(test_label_equal_value);
    TEST_RUN(test_label_selector_object);
    TEST_RUN(test_label_selector_map);
    TEST_RUN(test_field_selectors);
    TEST_RUN(test_field_selector_errors_and_index);
    return test_done();
}
