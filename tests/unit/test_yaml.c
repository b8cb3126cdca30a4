/* Tests for core/yaml: YAML streams to JSON, compared against exact expected text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/yaml.h"
#include "tests/unit/test.h"

/* The whole stream as a JSON array, or "ERR <code>: <message>". The caller frees. */
static char *conv_n(const char *y, size_t n)
{
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err;
    int rc = reef_yaml_to_json_array(y, n, &out, &err);
    if (rc < 0) {
        reef_buf_free(&out);
        struct reef_buf e = REEF_BUF_INIT;
        reef_buf_printf(&e, "ERR %d: %s", rc, err.msg);
        return reef_buf_steal(&e);
    }
    return reef_buf_steal(&out);
}

static char *conv(const char *y)
{
    return conv_n(y, strlen(y));
}

#define CHECK_YAML(y, expect)                                                                      \
    do {                                                                                           \
        char *got__ = conv(y);                                                                     \
        CHECK_STR(got__, expect);                                                                  \
        free(got__);                                                                               \
    } while (0)

/* The value of `v: <text>` in a one-document stream. */
#define CHECK_VAL(text, expect)                                                                    \
    do {                                                                                           \
        char *got__ = conv("v: " text "\n");                                                       \
        CHECK_STR(got__, "[{\"v\":" expect "}]");                                                  \
        free(got__);                                                                               \
    } while (0)

/* An error whose message starts with prefix. */
#define CHECK_ERR(y, code, prefix)                                                                 \
    do {                                                                                           \
        char *got__ = conv(y);                                                                     \
        char want__[512];                                                                          \
        snprintf(want__, sizeof(want__), "ERR %d: %s", (code), (prefix));                          \
        if (strncmp(got__, want__, strlen(want__)) != 0)                                           \
            TEST_FAIL("for %s\n  got  %s\n  want %s...", #y, got__, want__);                       \
        free(got__);                                                                               \
    } while (0)

struct doc {
    size_t index;
    int line;
    char *json;
};

struct docs {
    struct doc d[16];
    size_t n;
    int stop_after; /* return -ECANCELED after this many documents (0: never) */
};

static int on_doc(void *ud, size_t index, const char *json, size_t len, int line)
{
    struct docs *ds = ud;
    if (ds->n == REEF_ARRAY_LEN(ds->d))
        return -ENOSPC;
    CHECK_INT(strlen(json), ==, len);
    ds->d[ds->n++] = (struct doc){index, line, strndup(json, len)};
    if (ds->stop_after && ds->n == (size_t)ds->stop_after)
        return -ECANCELED;
    return 0;
}

static void docs_free(struct docs *ds)
{
    for (size_t i = 0; i < ds->n; i++)
        free(ds->d[i].json);
}

static const char k8s_stream[] = "# Example app: a Deployment, its Service and its configuration.\n"
                                 "---\n"
                                 "apiVersion: apps/v1\n"
                                 "kind: Deployment\n"
                                 "metadata:\n"
                                 "  name: web\n"
                                 "  labels:\n"
                                 "    app: web\n"
                                 "    tier: \"frontend\"\n"
                                 "spec:\n"
                                 "  replicas: 3\n"
                                 "  selector:\n"
                                 "    matchLabels:\n"
                                 "      app: web\n"
                                 "  template:\n"
                                 "    metadata:\n"
                                 "      labels:\n"
                                 "        app: web\n"
                                 "      annotations:\n"
                                 "        prometheus.io/scrape: \"true\"\n"
                                 "        prometheus.io/port: \"9090\"\n"
                                 "    spec:\n"
                                 "      containers:\n"
                                 "      - name: nginx\n"
                                 "        image: nginx:1.25.3\n"
                                 "        args: [\"--port\", \"8080\", --verbose]\n"
                                 "        ports:\n"
                                 "        - containerPort: 8080\n"
                                 "          protocol: TCP\n"
                                 "        env:\n"
                                 "        - name: DEBUG\n"
                                 "          value: \"false\"\n"
                                 "        - name: EMPTY\n"
                                 "          value: \"\"\n"
                                 "        resources:\n"
                                 "          limits: {cpu: 500m, memory: 128Mi}\n"
                                 "        readinessProbe:\n"
                                 "          httpGet:\n"
                                 "            path: /healthz\n"
                                 "            port: 8080\n"
                                 "          initialDelaySeconds: 5\n"
                                 "        volumeMounts:\n"
                                 "        - name: config\n"
                                 "          mountPath: /etc/nginx/conf.d\n"
                                 "          readOnly: true\n"
                                 "      volumes:\n"
                                 "      - name: config\n"
                                 "        configMap:\n"
                                 "          name: web-config\n"
                                 "---\n"
                                 "apiVersion: v1\n"
                                 "kind: Service\n"
                                 "metadata:\n"
                                 "  name: web\n"
                                 "spec:\n"
                                 "  type: NodePort\n"
                                 "  selector:\n"
                                 "    app: web\n"
                                 "  ports:\n"
                                 "    - port: 80\n"
                                 "      targetPort: 8080\n"
                                 "      nodePort: 30080\n"
                                 "---\n"
                                 "# nothing in this one\n"
                                 "---\n"
                                 "apiVersion: v1\n"
                                 "kind: ConfigMap\n"
                                 "metadata:\n"
                                 "  name: web-config\n"
                                 "data:\n"
                                 "  default.conf: |\n"
                                 "    server {\n"
                                 "        listen 8080;\n"
                                 "        location / { return 200 \"ok\\n\"; }\n"
                                 "    }\n"
                                 "  motd: >-\n"
                                 "    Welcome to\n"
                                 "    reef.\n"
                                 "  version: \"1.20\"\n"
                                 "  enabled: \"yes\"\n"
                                 "---\n";

static void test_k8s_manifests(void)
{
    struct docs ds = {0};
    struct reef_err err;
    CHECK_OK(reef_yaml_each(k8s_stream, strlen(k8s_stream), on_doc, &ds, &err), &err);
    CHECK_INT(ds.n, ==, 3);
    CHECK_INT(ds.d[0].index, ==, 0);
    CHECK_INT(ds.d[0].line, ==, 2);
    CHECK_STR(ds.d[0].json,
              "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
              "\"labels\":{\"app\":\"web\",\"tier\":\"frontend\"}},\"spec\":{\"replicas\":3,"
              "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{"
              "\"labels\":{\"app\":\"web\"},\"annotations\":{\"prometheus.io/scrape\":\"true\","
              "\"prometheus.io/port\":\"9090\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
              "\"image\":\"nginx:1.25.3\",\"args\":[\"--port\",\"8080\",\"--verbose\"],"
              "\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],\"env\":[{\"name\":"
              "\"DEBUG\",\"value\":\"false\"},{\"name\":\"EMPTY\",\"value\":\"\"}],"
              "\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"}},"
              "\"readinessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080},"
              "\"initialDelaySeconds\":5},\"volumeMounts\":[{\"name\":\"config\",\"mountPath\":"
              "\"/etc/nginx/conf.d\",\"readOnly\":true}]}],\"volumes\":[{\"name\":\"config\","
              "\"configMap\":{\"name\":\"web-config\"}}]}}}}");
    CHECK_INT(ds.d[1].index, ==, 1);
    CHECK_INT(ds.d[1].line, ==, 50);
    CHECK_STR(ds.d[1].json,
              "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"},"
              "\"spec\":{\"type\":\"NodePort\",\"selector\":{\"app\":\"web\"},\"ports\":[{"
              "\"port\":80,\"targetPort\":8080,\"nodePort\":30080}]}}");
    CHECK_INT(ds.d[2].index, ==, 2);
    CHECK_INT(ds.d[2].line, ==, 65);
    CHECK_STR(ds.d[2].json,
              "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
              "\"web-config\"},\"data\":{\"default.conf\":\"server {\\n    listen 8080;\\n    "
              "location / { return 200 \\\"ok\\\\n\\\"; }\\n}\\n\",\"motd\":\"Welcome to reef.\","
              "\"version\":\"1.20\",\"enabled\":\"yes\"}}");
    docs_free(&ds);

    /* The array form holds the same three documents. */
    char *arr = conv(k8s_stream);
    CHECK(arr[0] == '[' && strstr(arr, "}},{\"apiVersion\":\"v1\",\"kind\":\"Service\""));
    CHECK(strstr(arr, "\"enabled\":\"yes\"}}]") != NULL);
    free(arr);
}

static void test_document_lines_and_empty_documents(void)
{
    struct docs ds = {0};
    struct reef_err err;
    const char *y2 = "# header\n\na: 1\n---\n# only a comment\n---\n---\nb: 2\n...\n---\n~\n"
                     "--- [c]\n...\n\n# comment\n---\n\nd: 4\n";
    CHECK_OK(reef_yaml_each(y2, strlen(y2), on_doc, &ds, &err), &err);
    CHECK_INT(ds.n, ==, 4);
    CHECK_STR(ds.d[0].json, "{\"a\":1}");
    CHECK_INT(ds.d[0].line, ==, 3);
    CHECK_STR(ds.d[1].json, "{\"b\":2}");
    CHECK_INT(ds.d[1].line, ==, 7);
    CHECK_INT(ds.d[1].index, ==, 1);
    CHECK_STR(ds.d[2].json, "[\"c\"]");
    CHECK_INT(ds.d[2].line, ==, 12);
    CHECK_INT(ds.d[2].index, ==, 2);
    CHECK_STR(ds.d[3].json, "{\"d\":4}");
    CHECK_INT(ds.d[3].line, ==, 16);
    CHECK_INT(ds.d[3].index, ==, 3);
    docs_free(&ds);

    CHECK_YAML("", "[]");
    CHECK_YAML("---\n---\n---\n", "[]");
    CHECK_YAML("# just a comment\n", "[]");
    CHECK_YAML("--- null\n--- ~\n---\n...\n", "[]");
    CHECK_YAML("--- \"\"\n", "[\"\"]");
    CHECK_YAML("--- 0\n", "[0]");
    CHECK_YAML("--- false\n", "[false]");
    CHECK_YAML("hello\n", "[\"hello\"]");
    CHECK_YAML("--- {}\n--- []\n", "[{},[]]");
}

static void test_stream_forms(void)
{
    /* Windows line ends, a UTF-8 byte order mark, directives, document end markers. */
    CHECK_YAML("a: |\r\n  x\r\n  y\r\nb: [1,\r\n 2]\r\n", "[{\"a\":\"x\\ny\\n\",\"b\":[1,2]}]");
    CHECK_YAML("\xef\xbb\xbf"
               "a: 1\n",
               "[{\"a\":1}]");
    CHECK_YAML("%YAML 1.1\n---\na: 1\n...\n%YAML 1.1\n--- b\n", "[{\"a\":1},\"b\"]");
    CHECK_YAML("%TAG !e! tag:example.com,2000:app/\n--- !e!foo 1\n", "[1]");
    CHECK_YAML("a: 1   \nb:    2\t\n", "[{\"a\":1,\"b\":2}]");
    CHECK_YAML("key with spaces: value with spaces\n",
               "[{\"key with spaces\":\"value with spaces\"}]");
    CHECK_YAML("- - a\n  - b\n- - c\n", "[[[\"a\",\"b\"],[\"c\"]]]");
    CHECK_YAML("a:\n- 1\n- 2\nb:\n  - 3\n", "[{\"a\":[1,2],\"b\":[3]}]");
}

static void test_callback_stops(void)
{
    struct docs ds = {.stop_after = 1};
    struct reef_err err;
    const char *y = "a: 1\n---\nb: 2\n";
    CHECK_INT(reef_yaml_each(y, strlen(y), on_doc, &ds, &err), ==, -ECANCELED);
    CHECK_INT(ds.n, ==, 1);
    CHECK_INT(err.code, ==, -ECANCELED);
    docs_free(&ds);

    /* A malformed later document: the earlier one was delivered, then the error. */
    struct docs ds2 = {0};
    const char *bad = "a: 1\n---\nb: [\n";
    CHECK_INT(reef_yaml_each(bad, strlen(bad), on_doc, &ds2, &err), ==, -EINVAL);
    CHECK_INT(ds2.n, ==, 1);
    CHECK(strncmp(err.msg, "yaml: line 4, column 1: ", 24) == 0);
    docs_free(&ds2);

    /* The array form leaves its output untouched on error. */
    struct reef_buf out = REEF_BUF_INIT;
    reef_buf_puts(&out, "keep");
    CHECK_INT(reef_yaml_to_json_array(bad, strlen(bad), &out, &err), ==, -EINVAL);
    CHECK_STR(out.data, "keep");
    CHECK_OK(reef_yaml_to_json_array("x: 1", 4, &out, &err), &err);
    CHECK_STR(out.data, "keep[{\"x\":1}]");
    reef_buf_free(&out);
    CHECK_OK(reef_yaml_to_json_array("x: 1", 4, &out, NULL), &err);
    reef_buf_free(&out);
}

static void test_null_and_bool(void)
{
    CHECK_VAL("~", "null");
    CHECK_VAL("null", "null");
    CHECK_VAL("Null", "null");
    CHECK_VAL("NULL", "null");
    CHECK_VAL("", "null");
    CHECK_VAL("nULL", "\"nULL\"");
    CHECK_VAL("nil", "\"nil\"");
    static const char *const trues[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                        "True", "TRUE", "on",  "On",  "ON"};
    static const char *const falses[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                         "False", "FALSE", "off", "Off", "OFF"};
    char y[64];
    for (size_t i = 0; i < REEF_ARRAY_LEN(trues); i++) {
        snprintf(y, sizeof(y), "v: %s", trues[i]);
        char *got = conv(y);
        CHECK_STR(got, "[{\"v\":true}]");
        free(got);
        snprintf(y, sizeof(y), "v: %s", falses[i]);
        got = conv(y);
        CHECK_STR(got, "[{\"v\":false}]");
        free(got);
    }
    CHECK_VAL("yES", "\"yES\"");
    CHECK_VAL("tRUE", "\"tRUE\"");
    CHECK_VAL("oN", "\"oN\"");
    CHECK_VAL("yes please", "\"yes please\"");
    CHECK_VAL("t", "\"t\"");
    CHECK_VAL("[yes, No, off, ~, Y]", "[true,false,false,null,true]");
}

static void test_integers(void)
{
    CHECK_VAL("0", "0");
    CHECK_VAL("42", "42");
    CHECK_VAL("-17", "-17");
    CHECK_VAL("+1", "1");
    CHECK_VAL("-0", "0");
    CHECK_VAL("0x1F", "31");
    CHECK_VAL("0X1f", "31");
    CHECK_VAL("-0x10", "-16");
    CHECK_VAL("0o17", "15");
    CHECK_VAL("017", "15");
    CHECK_VAL("-017", "-15");
    CHECK_VAL("00", "0");
    CHECK_VAL("0b101", "5");
    CHECK_VAL("-0b101", "-5");
    CHECK_VAL("0b-101", "-5"); /* go-yaml's binary fallback takes a sign after the prefix */
    CHECK_VAL("1_000", "1000");
    CHECK_VAL("1__0", "10");
    CHECK_VAL("0x_1F", "31");
    CHECK_VAL("_1", "\"_1\"");
    CHECK_VAL("0x", "\"0x\"");
    CHECK_VAL("0b", "\"0b\"");
    CHECK_VAL("0x1G", "\"0x1G\"");
    CHECK_VAL("08", "8"); /* not octal, but a float 8 */
    CHECK_VAL("0o8", "\"0o8\"");
    CHECK_VAL("9223372036854775807", "9223372036854775807");
    CHECK_VAL("-9223372036854775808", "-9223372036854775808");
    CHECK_VAL("9223372036854775808", "9223372036854775808");
    CHECK_VAL("18446744073709551615", "18446744073709551615");
    CHECK_VAL("0xFFFFFFFFFFFFFFFF", "18446744073709551615");
    /* Past uint64 a decimal becomes a float; other bases stay strings. */
    CHECK_VAL("18446744073709551616", "18446744073709552000");
    CHECK_VAL("-9223372036854775809", "-9223372036854776000");
    CHECK_VAL("123456789012345678901234567890", "1.2345678901234568e+29");
    CHECK_VAL("0x10000000000000000", "\"0x10000000000000000\"");
    CHECK_VAL("+18446744073709551615", "18446744073709552000");
    CHECK_VAL("1-2", "\"1-2\"");
    CHECK_VAL("12:30", "\"12:30\""); /* no base 60 */
    CHECK_VAL("1.2.3", "\"1.2.3\"");
}

static void test_floats(void)
{
    CHECK_VAL("1.5", "1.5");
    CHECK_VAL("-2.25", "-2.25");
    CHECK_VAL("+3.0", "3");
    CHECK_VAL("1.", "1");
    CHECK_VAL("1.0", "1");
    CHECK_VAL(".5", "0.5");
    CHECK_VAL("-.5", "-0.5");
    CHECK_VAL("+.5", "0.5");
    CHECK_VAL(".5e1", "5");
    CHECK_VAL("1e3", "1000");
    CHECK_VAL("1E+2", "100");
    CHECK_VAL("12e-1", "1.2");
    CHECK_VAL("1_000.5", "1000.5");
    CHECK_VAL("3.14159265358979", "3.14159265358979");
    CHECK_VAL("0.1", "0.1");
    CHECK_VAL("0.000001", "0.000001");
    CHECK_VAL("0.0000001", "1e-7");
    CHECK_VAL("1e20", "100000000000000000000");
    CHECK_VAL("1e21", "1e+21");
    CHECK_VAL("-1.5e300", "-1.5e+300");
    CHECK_VAL("-0.0", "-0");
    CHECK_VAL("1e-400", "0");
    CHECK_VAL("1e999", "\"1e999\"");
    CHECK_VAL(".5_0", "\".5_0\"");
    CHECK_VAL("1e", "\"1e\"");
    CHECK_VAL(".", "\".\"");
    CHECK_VAL("..5", "\"..5\"");
    CHECK_VAL("1.5.", "\"1.5.\"");
    CHECK_VAL("0.30000000000000004", "0.30000000000000004");
    CHECK_VAL("2001-12-14", "\"2001-12-14\"");
    CHECK_VAL("2001-12-14T21:59:43.10-05:00", "\"2001-12-14T21:59:43.10-05:00\"");
    CHECK_VAL("inf", "\"inf\"");
    CHECK_VAL("NaN", "\"NaN\"");
    CHECK_VAL("\".inf\"", "\".inf\"");

    /* JSON has no infinities or NaN: kubectl fails there too. */
    CHECK_ERR("a: 1\nv: .inf\n", -EINVAL, "yaml: line 2, column 4: .inf cannot be represented");
    CHECK_ERR("v: [-.Inf]\n", -EINVAL, "yaml: line 1, column 5: -.inf cannot be represented");
    CHECK_ERR("v: +.INF\n", -EINVAL, "yaml: line 1, column 4: .inf cannot be represented");
    CHECK_ERR("v: .NaN\n", -EINVAL, "yaml: line 1, column 4: .nan cannot be represented");
    CHECK_ERR(".nan\n", -EINVAL, "yaml: line 1, column 1: .nan cannot be represented");
    CHECK_ERR("a: &x .inf\n", -EINVAL, "yaml: line 1, column 4: .inf cannot be represented");
    CHECK_ERR("? &x .inf\n: 1\nb: *x\n", -EINVAL,
              "yaml: line 3, column 4: .inf cannot be represented");
    CHECK_YAML(".inf: 1\n-.inf: 2\n.nan: 3\n", "[{\".inf\":1,\"-.inf\":2,\".nan\":3}]");
}

static void test_quoted_scalars(void)
{
    CHECK_VAL("\"123\"", "\"123\"");
    CHECK_VAL("'true'", "\"true\"");
    CHECK_VAL("\"~\"", "\"~\"");
    CHECK_VAL("''", "\"\"");
    CHECK_VAL("\"\"", "\"\"");
    CHECK_VAL("'it''s'", "\"it's\"");
    CHECK_VAL("'back\\slash'", "\"back\\\\slash\"");
    CHECK_VAL("\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\"");
    /* \u \x \U \N \_ \0 \a \e \t \/ and a literal tab */
    CHECK_VAL("\"\\u00e9\\x41\\U0001F600\\N\\_\\0\\a\\e\\t\\/\tz\"",
              "\"\xc3\xa9"
              "A\xf0\x9f\x98\x80\xc2\x85\xc2\xa0\\u0000\\u0007\\u001b\\t/\\tz\"");
    CHECK_VAL("\"\\x7f\\r\\b\\f\\v\"", "\"\x7f\\r\\b\\f\\u000b\"");
    CHECK_VAL("caf\xc3\xa9 \xe2\x9c\x93", "\"caf\xc3\xa9 \xe2\x9c\x93\"");
    /* Line folding in plain and quoted scalars. */
    CHECK_YAML("v: hello\n  world\n\n  again\n", "[{\"v\":\"hello world\\nagain\"}]");
    CHECK_YAML("v: \"one\n  two\\\n  three\"\n", "[{\"v\":\"one twothree\"}]");
    CHECK_YAML("v: 'a\n\n  b'\n", "[{\"v\":\"a\\nb\"}]");
    CHECK_YAML("v: a # comment\nw: 'b' # c\nx: c#d\n", "[{\"v\":\"a\",\"w\":\"b\",\"x\":\"c#d\"}]");
    CHECK_YAML("url: http://example.com:8080/x?y=1\n",
               "[{\"url\":\"http://example.com:8080/x?y=1\"}]");
    CHECK_ERR("v: \"\\q\"\n", -EINVAL, "yaml: line 1, column 5: found unknown escape character");
    CHECK_ERR("v: \"\\ud800\"\n", -EINVAL, "yaml: line 1, column ");
}

static void test_block_scalars(void)
{
    CHECK_YAML("a: |\n  line1\n  line2\n\n\nb: 1\n", "[{\"a\":\"line1\\nline2\\n\",\"b\":1}]");
    CHECK_YAML("a: |-\n  x\n  y\n\n", "[{\"a\":\"x\\ny\"}]");
    CHECK_YAML("a: |+\n  z\n\n\nb: 2\n", "[{\"a\":\"z\\n\\n\\n\",\"b\":2}]");
    CHECK_YAML("a: >\n  folded\n  text\n\n  para\n", "[{\"a\":\"folded text\\npara\\n\"}]");
    CHECK_YAML("a: >-\n  f\n  g\n", "[{\"a\":\"f g\"}]");
    CHECK_YAML("a: >+\n  f\n\n", "[{\"a\":\"f\\n\\n\"}]");
    /* More-indented lines are kept as they are when folding. */
    CHECK_YAML("a: >\n  p\n    code\n  q\n", "[{\"a\":\"p\\n  code\\nq\\n\"}]");
    /* An indentation indicator keeps leading spaces of the first line. */
    CHECK_YAML("a: |2\n    indented\n  x\n", "[{\"a\":\"  indented\\nx\\n\"}]");
    CHECK_YAML("a: |1-\n  lead\n", "[{\"a\":\" lead\"}]");
    CHECK_YAML("a: |\n  123\n", "[{\"a\":\"123\\n\"}]");
    CHECK_YAML("a: |-\n  true\n", "[{\"a\":\"true\"}]");
    CHECK_YAML("a: |\nb: 1\n", "[{\"a\":\"\",\"b\":1}]");
    CHECK_YAML("- |\n  x # not a comment\n- >\n  \"q\"\\\n",
               "[[\"x # not a comment\\n\",\"\\\"q\\\"\\\\\\n\"]]");
    CHECK_YAML("--- |\n  top\n", "[\"top\\n\"]");
}

static void test_tags(void)
{
    CHECK_VAL("!!str 123", "\"123\"");
    CHECK_VAL("!!str", "\"\"");
    CHECK_VAL("!!str true", "\"true\"");
    CHECK_VAL("!!int \"42\"", "42");
    CHECK_VAL("!!int 0x10", "16");
    CHECK_VAL("!!float 1", "1");
    CHECK_VAL("!!float \"2.5\"", "2.5");
    CHECK_VAL("!!float 123456789012345678", "123456789012345680");
    CHECK_VAL("!!bool \"yes\"", "true");
    CHECK_VAL("!!null \"\"", "null");
    CHECK_VAL("!!null", "null");
    CHECK_VAL("!<tag:yaml.org,2002:int> '7'", "7");
    CHECK_VAL("!!binary aGVsbG8=", "\"aGVsbG8=\"");
    CHECK_VAL("!!timestamp 2001-12-14", "\"2001-12-14\"");
    CHECK_VAL("!foo 12", "12");
    CHECK_VAL("!foo '12'", "\"12\"");
    CHECK_VAL("!foo yes", "true");
    CHECK_VAL("! 12", "\"12\"");
    CHECK_VAL("!!map {a: 1}", "{\"a\":1}");
    CHECK_VAL("!!seq [1]", "[1]");
    CHECK_VAL("!custom {a: !!str 1}", "{\"a\":\"1\"}");
    CHECK_ERR("a:\n  v: !!int abc\n", -EINVAL,
              "yaml: line 2, column 6: cannot decode !!str `abc` as a !!int");
    CHECK_ERR("v: !!int 1.5\n", -EINVAL,
              "yaml: line 1, column 4: cannot decode !!float `1.5` as a !!int");
    CHECK_ERR("v: !!bool 1\n", -EINVAL,
              "yaml: line 1, column 4: cannot decode !!int `1` as a !!bool");
    CHECK_ERR("v: !!null x\n", -EINVAL,
              "yaml: line 1, column 4: cannot decode !!str `x` as a !!null");
    CHECK_ERR("v: !!float x\n", -EINVAL,
              "yaml: line 1, column 4: cannot decode !!str `x` as a !!float");
    CHECK_ERR("v: !!float .inf\n", -EINVAL, "yaml: line 1, column 4: .inf cannot be represented");
    CHECK_ERR("v: !!int\n", -EINVAL, "yaml: line 1, column 4: cannot decode !!null `` as a !!int");
}

static void test_key_conversion(void)
{
    CHECK_YAML("1: a\n-2: b\n0x10: c\n", "[{\"1\":\"a\",\"-2\":\"b\",\"16\":\"c\"}]");
    CHECK_YAML("true: a\nno: b\n~: d\n", "[{\"true\":\"a\",\"false\":\"b\",\"null\":\"d\"}]");
    CHECK_YAML("on:\n  push: {}\n", "[{\"true\":{\"push\":{}}}]");
    CHECK_YAML("1.5: a\n0.1: b\n1e6: c\n100000.0: d\n123456789.0: e\n-0.0: f\n1e-5: g\n",
               "[{\"1.5\":\"a\",\"0.1\":\"b\",\"1e+06\":\"c\",\"100000\":\"d\","
               "\"1.2345679e+08\":\"e\",\"-0\":\"f\",\"1e-05\":\"g\"}]");
    CHECK_YAML("1e300: a\n", "[{\".inf\":\"a\"}]"); /* a float32 key, as sigs.k8s.io/yaml does */
    CHECK_YAML("18446744073709551615: a\n", "[{\"18446744073709551615\":\"a\"}]");
    CHECK_YAML("\"1\": a\n'x y': b\n? |\n  multi\n: c\n",
               "[{\"1\":\"a\",\"x y\":\"b\",\"multi\\n\":\"c\"}]");
    CHECK_YAML("? k\n: v\n? novalue\n", "[{\"k\":\"v\",\"novalue\":null}]");
    CHECK_YAML("\"\": empty\n", "[{\"\":\"empty\"}]");
    CHECK_YAML("\"a\\0b\": 1\n", "[{\"a\\u0000b\":1}]");
    CHECK_YAML("k: &k key\n*k : v\n", "[{\"k\":\"key\",\"key\":\"v\"}]");

    CHECK_ERR("a: 1\n? [x, y]\n: 2\n", -EINVAL,
              "yaml: line 2, column 3: mapping or sequence used as a mapping key");
    CHECK_ERR("{a: 1}: 2\n", -EINVAL,
              "yaml: line 1, column 1: mapping or sequence used as a mapping key");
    CHECK_ERR("m: &m {a: 1}\n*m : 2\n", -EINVAL,
              "yaml: line 2, column 1: mapping or sequence used as a mapping key");
}

static void test_duplicate_keys(void)
{
    CHECK_ERR("a: 1\nb: 2\na: 3\n", -EINVAL,
              "yaml: line 3, column 1: mapping key \"a\" already defined at line 1");
    CHECK_ERR("spec:\n  x: 1\n  y: 2\n  x: 3\n", -EINVAL,
              "yaml: line 4, column 3: mapping key \"x\" already defined at line 2");
    CHECK_ERR("{a: 1, b: 2, a: 1}\n", -EINVAL,
              "yaml: line 1, column 14: mapping key \"a\" already defined at line 1");
    /* Keys collide once they are strings. */
    CHECK_ERR("1: a\n\"1\": b\n", -EINVAL,
              "yaml: line 2, column 1: mapping key \"1\" already defined at line 1");
    CHECK_ERR("null: a\n~: b\n", -EINVAL,
              "yaml: line 2, column 1: mapping key \"null\" already defined at line 1");
    CHECK_ERR("yes: a\nTrue: b\n", -EINVAL,
              "yaml: line 2, column 1: mapping key \"true\" already defined at line 1");
    /* The same key in different mappings is fine. */
    CHECK_YAML("- a: 1\n- a: 2\n", "[[{\"a\":1},{\"a\":2}]]");
}

static void test_anchors_and_merges(void)
{
    CHECK_YAML("base: &base\n"
               "  a: 1\n"
               "  b: 2\n"
               "list: &l [x, z]\n"
               "derived:\n"
               "  <<: *base\n"
               "  b: 3\n"
               "  c: *l\n"
               "multi:\n"
               "  <<: [*base, {b: 9, d: 4}]\n"
               "  e: 5\n"
               "before:\n"
               "  b: 0\n"
               "  <<: *base\n",
               "[{\"base\":{\"a\":1,\"b\":2},\"list\":[\"x\",\"z\"],"
               "\"derived\":{\"a\":1,\"b\":3,\"c\":[\"x\",\"z\"]},"
               "\"multi\":{\"a\":1,\"b\":2,\"d\":4,\"e\":5},"
               "\"before\":{\"b\":0,\"a\":1}}]");
    /* Earlier mappings in a merge sequence win over later ones. */
    CHECK_YAML("p: &p {k: p, only_p: 1}\nq: &q {k: q, only_q: 2}\nz:\n  <<: [*q, *p]\n",
               "[{\"p\":{\"k\":\"p\",\"only_p\":1},\"q\":{\"k\":\"q\",\"only_q\":2},"
               "\"z\":{\"k\":\"q\",\"only_q\":2,\"only_p\":1}}]");
    /* A merged mapping that itself merges. */
    CHECK_YAML("a: &a {p: 1}\nb: &b {<<: *a, q: 2}\nc: {<<: *b, r: 3, p: 0}\n",
               "[{\"a\":{\"p\":1},\"b\":{\"p\":1,\"q\":2},\"c\":{\"q\":2,\"r\":3,\"p\":0}}]");
    /* An inline mapping as the merge value, and !!merge. */
    CHECK_YAML("a:\n  <<: {x: 1}\n  !!merge <<: {z: 2}\n", "[{\"a\":{\"x\":1,\"z\":2}}]");
    /* Anchored scalars, redefinition, and a quoted "<<" that is only a key. */
    CHECK_YAML("a: &v 1\nb: *v\nc: &v two\nd: *v\n\"<<\": m\n",
               "[{\"a\":1,\"b\":1,\"c\":\"two\",\"d\":\"two\",\"<<\":\"m\"}]");
    /* The canonical Kubernetes use: shared container settings. */
    CHECK_YAML("x-defaults: &defaults\n"
               "  imagePullPolicy: IfNotPresent\n"
               "  resources: &res {limits: {memory: 64Mi}}\n"
               "containers:\n"
               "- <<: *defaults\n"
               "  name: a\n"
               "- <<: *defaults\n"
               "  name: b\n"
               "  imagePullPolicy: Always\n",
               "[{\"x-defaults\":{\"imagePullPolicy\":\"IfNotPresent\",\"resources\":{\"limits\":"
               "{\"memory\":\"64Mi\"}}},\"containers\":[{\"imagePullPolicy\":\"IfNotPresent\","
               "\"resources\":{\"limits\":{\"memory\":\"64Mi\"}},\"name\":\"a\"},"
               "{\"resources\":{\"limits\":{\"memory\":\"64Mi\"}},\"name\":\"b\","
               "\"imagePullPolicy\":\"Always\"}]}]");
    /* Equal scalars written in different ways or places stay independent. */
    CHECK_YAML("- &a x\n- x\n- *a\n- 'x'\n- !!str x\n- <<\n- '<<'\n- &b 1\n- *b\n- 1.0\n- 1\n",
               "[[\"x\",\"x\",\"x\",\"x\",\"x\",\"<<\",\"<<\",1,1,1,1]]");
    /* A merged key is not a duplicate of an explicit one, nor are two merged ones. */
    CHECK_YAML("a: &a {k: 1}\nb: &b {k: 2}\nc: {<<: *a, <<: *b, k: 3}\n",
               "[{\"a\":{\"k\":1},\"b\":{\"k\":2},\"c\":{\"k\":3}}]");

    CHECK_ERR("a: *nope\n", -EINVAL, "yaml: line 1, column 4: unknown anchor 'nope' referenced");
    CHECK_ERR("a: &x [1, *x]\n", -EINVAL,
              "yaml: line 1, column 11: anchor 'x' value contains itself");
    CHECK_ERR("a: &x 1\n---\nb: *x\n", -EINVAL,
              "yaml: line 3, column 4: unknown anchor 'x' referenced");
    CHECK_ERR("a:\n  <<: 1\n", -EINVAL,
              "yaml: line 2, column 7: map merge requires map or sequence of maps as the value");
    CHECK_ERR("l: &l [1]\na:\n  <<: *l\n", -EINVAL,
              "yaml: line 3, column 7: map merge requires map or sequence of maps");
    CHECK_ERR("a:\n  <<: [{x: 1}, 2]\n", -EINVAL,
              "yaml: line 2, column 7: map merge requires map or sequence of maps");
    CHECK_ERR("a:\n  <<:\n", -EINVAL, "yaml: line 2, column 6: map merge requires");
}

static void test_flow_style(void)
{
    CHECK_YAML("{a: 1, b: [x, y], c: {d: e}, f: [], g: {}}", /* y is a boolean in YAML 1.1 */
               "[{\"a\":1,\"b\":[\"x\",true],\"c\":{\"d\":\"e\"},\"f\":[],\"g\":{}}]");
    CHECK_YAML("[1, \"two\", {three: 3}, [four], 'five', ~]",
               "[[1,\"two\",{\"three\":3},[\"four\"],\"five\",null]]");
    CHECK_YAML("a: [\n  1,\n  2,   # comment\n  3,\n]\n", "[{\"a\":[1,2,3]}]");
    CHECK_YAML("a: {x: 1,\n    z: 2}\n", "[{\"a\":{\"x\":1,\"z\":2}}]");
    CHECK_YAML("[a: 1, b]", "[[{\"a\":1},\"b\"]]");
    CHECK_YAML("{a, b: }", "[{\"a\":null,\"b\":null}]");
    CHECK_YAML("- [a, b]\n- {c: d}\n-\n- - nested\n",
               "[[[\"a\",\"b\"],{\"c\":\"d\"},null,[\"nested\"]]]");
}

static void test_json_input(void)
{
    const char *j = "{\n"
                    "\t\"apiVersion\": \"v1\",\n"
                    "\t\"kind\": \"Pod\",\n"
                    "\t\"metadata\": {\"name\": \"p\", \"labels\": {\"a/b\": \"c\"}},\n"
                    "\t\"spec\": {\n"
                    "\t\t\"containers\": [{\"name\":\"c\",\"image\":\"busybox\","
                    "\"command\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\\n\\u00e9\\/\\\\\"],"
                    "\"ports\":[{\"containerPort\":80}]}],\n"
                    "\t\t\"n\": [1, -2, 3.5, 1e5, -0.25, 1E+2, 0, true, false, null],\n"
                    "\t\t\"empty\": {}, \"none\": [], \"s\": \"\"\n"
                    "\t}\n"
                    "}\n";
    CHECK_YAML(j, "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                  "\"labels\":{\"a/b\":\"c\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                  "\"image\":\"busybox\",\"command\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\\n\xc3\xa9/"
                  "\\\\\"],\"ports\":[{\"containerPort\":80}]}],\"n\":[1,-2,3.5,100000,-0.25,100,"
                  "0,true,false,null],\"empty\":{},\"none\":[],\"s\":\"\"}}]");
    CHECK_YAML("[]", "[[]]");
    CHECK_YAML("\"just a string\"", "[\"just a string\"]");
    CHECK_YAML("{\"a\":{\"b\":{\"c\":[[[]]]}}}", "[{\"a\":{\"b\":{\"c\":[[[]]]}}}]");
    CHECK_ERR("{\"a\": 1, \"a\": 2}", -EINVAL, "yaml: line 1, column 10: mapping key \"a\"");
    /* Valid JSON that plain libyaml refuses: tabs around the top level, escaped surrogate
     * pairs (Python's json writes them for every emoji), raw DEL, C1 controls, U+FFFE. */
    CHECK_YAML("\t{\"a\":\t1}\n\t\n", "[{\"a\":1}]");
    CHECK_YAML("\xef\xbb\xbf \t[\"x\\ty\"]", "[[\"x\\ty\"]]");
    CHECK_YAML("{\"e\": \"\\ud83d\\ude00 \\uD83D\\uDE00!\", \"t\": \"\t\"}",
               "[{\"e\":\"\xf0\x9f\x98\x80 \xf0\x9f\x98\x80!\",\"t\":\"\\t\"}]");
    CHECK_YAML("[\"\x7f\xc2\x80\xc2\x9f\xef\xbf\xbe\xef\xbf\xbf\\\\ud83d\"]",
               "[[\"\x7f\xc2\x80\xc2\x9f\xef\xbf\xbe\xef\xbf\xbf\\\\ud83d\"]]");
    CHECK_ERR("{\"a\": \"\\ud83d\"}", -EINVAL,
              "yaml: line 1, column 10: found invalid Unicode character escape code");
    /* Only real JSON is rewritten: in YAML a backslash in a plain scalar is just a character. */
    CHECK_YAML("[a\\ud83d\\ude00]", "[[\"a\\\\ud83d\\\\ude00\"]]");
    CHECK_ERR("\t{a: 1}", -EINVAL, "yaml: line 1, column 1: found character that cannot start");
    /* UTF-16 with a byte order mark is read too. */
    char *got = conv_n("\xff\xfe{\0\"\0a\0\"\0:\0"
                       "1\0}\0",
                       16);
    CHECK_STR(got, "[{\"a\":1}]");
    free(got);
}

static void test_syntax_errors(void)
{
    CHECK_ERR("a: b: c\n", -EINVAL,
              "yaml: line 1, column 5: mapping values are not allowed in this context");
    CHECK_ERR("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a: b\n", -EINVAL,
              "yaml: line 4, column 10: mapping values are not allowed in this context");
    CHECK_ERR("a: [1, 2\n", -EINVAL, "yaml: line 2, column 1: did not find expected ',' or ']'");
    CHECK_ERR("a:\n  b: 1\n c: 2\n", -EINVAL,
              "yaml: line 3, column 2: did not find expected key (while parsing a block mapping "
              "at line 1, column 1)");
    CHECK_ERR("a:\n\tb: 1\n", -EINVAL, "yaml: line 2, column 1: found character that cannot");
    CHECK_ERR("a: \"open\n", -EINVAL, "yaml: line 2, column 1: found unexpected end of stream");
    CHECK_ERR("- a\nb: c\n", -EINVAL,
              "yaml: line 2, column 1: did not find expected '-' indicator");
    CHECK_ERR("a: [b]]\n", -EINVAL, "yaml: line 1, column 7: did not find expected key");
    CHECK_ERR("a: 1\n b: 2\n", -EINVAL, "yaml: line 2, column 3: mapping values are not allowed");
    CHECK_ERR("a: !<x\n", -EINVAL,
              "yaml: line 1, column 7: did not find the expected '>' (while scanning a tag at line "
              "1, column 4)");
    CHECK_ERR("a: *\n", -EINVAL, "yaml: line 1, column 5: did not find expected alphabetic");
    CHECK_ERR("a:\n  - b\n  c: d\n", -EINVAL,
              "yaml: line 3, column 3: did not find expected '-' indicator");
    /* Bad bytes: libyaml reports an offset, turned into a line and column here. */
    CHECK_ERR("a: ok\nb: \xff\n", -EINVAL, "yaml: line 2, column 4: invalid leading UTF-8 octet");
    CHECK_ERR("a: caf\xc3\n", -EINVAL, "yaml: line 1, column 8: invalid trailing UTF-8 octet");
    CHECK_ERR("a: \xed\xa0\x80\n", -EINVAL, "yaml: line 1, column 4: invalid Unicode character");
    CHECK_ERR("a: x\x01y\n", -EINVAL, "yaml: line 1, column 5: control characters are not allowed");
    char *got = conv_n("a: 1\0b: 2", 9);
    CHECK(strncmp(got, "ERR -22: yaml: line 1, column 5: control characters", 51) == 0);
    free(got);
}

static void test_alias_bombs(void)
{
    /* Billion laughs: 10^9 strings from under 1 KB. */
    const char *lol =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *got = conv(lol);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK(strncmp(got, "ERR -7: yaml: line ", 19) == 0);
    CHECK(strstr(got, "alias bomb") != NULL);
    free(got);
    CHECK_INT((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, <, 2000);

    /* Few aliases, each to something large: bounded by output size. */
    struct reef_buf y = REEF_BUF_INIT;
    reef_buf_puts(&y, "big: &big [");
    for (int i = 0; i < 20000; i++)
        reef_buf_printf(&y, "%s\"%040d\"", i ? "," : "", i);
    reef_buf_puts(&y, "]\ncopies: [");
    for (int i = 0; i < 40; i++)
        reef_buf_puts(&y, i ? ",*big" : "*big");
    reef_buf_puts(&y, "]\n");
    got = conv(y.data);
    CHECK(strncmp(got, "ERR -7: yaml: line 2, column ", 29) == 0);
    CHECK(strstr(got, "more than 16777216 bytes of JSON") != NULL);
    free(got);
    reef_buf_free(&y);

    /* Aliases to empty collections cost little output but many expansions. */
    reef_buf_puts(&y, "a: &a []\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n");
    for (char p = 'b', q = 'c'; q <= 'k'; p++, q++) {
        reef_buf_printf(&y, "%c: &%c [", q, q);
        for (int i = 0; i < 10; i++)
            reef_buf_printf(&y, "%s*%c", i ? "," : "", p);
        reef_buf_puts(&y, "]\n");
    }
    got = conv(y.data);
    CHECK_STR(got, "ERR -7: yaml: line 6, column 35: document expands more than 100000 aliases "
                   "(an alias bomb?)");
    free(got);
    reef_buf_free(&y);

    /* Merge keys that multiply work but not output, through levels ... */
    reef_buf_puts(&y, "m0: &m0 {k: v}\n");
    for (int lvl = 1; lvl < 12; lvl++) {
        reef_buf_printf(&y, "m%d: &m%d {<<: [", lvl, lvl);
        for (int i = 0; i < 10; i++)
            reef_buf_printf(&y, "%s*m%d", i ? "," : "", lvl - 1);
        reef_buf_puts(&y, "]}\n");
    }
    got = conv(y.data);
    CHECK_STR(got, "ERR -7: yaml: line 6, column 51: document expands more than 100000 aliases "
                   "(an alias bomb?)");
    free(got);
    reef_buf_reset(&y);

    /* ... or one wide merge of a large mapping, repeated. */
    reef_buf_puts(&y, "m: &m {");
    for (int i = 0; i < 600; i++) /* 600 members, copied 2000 times */
        reef_buf_printf(&y, "%sk%d: %d", i ? ", " : "", i, i);
    reef_buf_puts(&y, "}\nx: {<<: [");
    for (int i = 0; i < 2000; i++)
        reef_buf_puts(&y, i ? ",*m" : "*m");
    reef_buf_puts(&y, "]}\n");
    got = conv(y.data);
    CHECK_STR(got,
              "ERR -7: yaml: line 2, column 9: more than 1000000 members copied by merge keys");
    free(got);
    reef_buf_free(&y);

    /* A modest, legitimate use of aliases goes through. */
    got = conv("a: &a [1,2]\nb: &b [*a,*a]\nc: [*b,*b]\n");
    CHECK_STR(got, "[{\"a\":[1,2],\"b\":[[1,2],[1,2]],\"c\":[[[1,2],[1,2]],[[1,2],[1,2]]]}]");
    free(got);
}

static void test_deep_nesting(void)
{
    struct reef_buf y = REEF_BUF_INIT;
    for (int i = 0; i < REEF_YAML_MAX_DEPTH; i++)
        reef_buf_putc(&y, '[');
    for (int i = 0; i < REEF_YAML_MAX_DEPTH; i++)
        reef_buf_putc(&y, ']');
    char *got = conv(y.data);
    CHECK(got[0] == '[' && strlen(got) == 2 * REEF_YAML_MAX_DEPTH + 2);
    free(got);
    reef_buf_reset(&y);

    for (int i = 0; i < 100000; i++)
        reef_buf_putc(&y, '[');
    got = conv(y.data);
    CHECK_STR(got, "ERR -7: yaml: line 1, column 101: nesting deeper than 100 levels");
    free(got);
    reef_buf_reset(&y);

    /* Block style: each level one more indentation. */
    for (int i = 0; i < 150; i++)
        reef_buf_printf(&y, "%*sk%d:\n", i, "", i);
    got = conv(y.data);
    CHECK_STR(got, "ERR -7: yaml: line 101, column 101: nesting deeper than 100 levels");
    free(got);
    reef_buf_reset(&y);

    /* Aliases stack depth too: 60 + 60 levels. */
    reef_buf_puts(&y, "a: &a ");
    for (int i = 0; i < 60; i++)
        reef_buf_putc(&y, '[');
    for (int i = 0; i < 60; i++)
        reef_buf_putc(&y, ']');
    reef_buf_puts(&y, "\nb: ");
    for (int i = 0; i < 60; i++)
        reef_buf_putc(&y, '[');
    reef_buf_puts(&y, "*a");
    for (int i = 0; i < 60; i++)
        reef_buf_putc(&y, ']');
    reef_buf_puts(&y, "\n");
    got = conv(y.data);
    CHECK_STR(got, "ERR -7: yaml: line 2, column 64: nesting deeper than 100 levels");
    free(got);
    reef_buf_free(&y);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_k8s_manifests);
    TEST_RUN(test_document_lines_and_empty_documents);
    TEST_RUN(test_stream_forms);
    TEST_RUN(test_callback_stops);
    TEST_RUN(test_null_and_bool);
    TEST_RUN(test_integers);
    TEST_RUN(test_floats);
    TEST_RUN(test_quoted_scalars);
    TEST_RUN(test_block_scalars);
    TEST_RUN(test_tags);
    TEST_RUN(test_key_conversion);
    TEST_RUN(test_duplicate_keys);
    TEST_RUN(test_anchors_and_merges);
    TEST_RUN(test_flow_style);
    TEST_RUN(test_json_input);
    TEST_RUN(test_syntax_errors);
    TEST_RUN(test_alias_bombs);
    TEST_RUN(test_deep_nesting);
    return test_done();
}
