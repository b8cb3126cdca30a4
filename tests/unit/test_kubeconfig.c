/* Tests for orchestrate/kubeconfig: the exact shape written, modes and directories, reading back
 * (inline and file credentials, tokens, contexts, $KUBECONFIG), agreement with the real kubectl,
 * and precise errors for broken kubeconfigs. */
#include "orchestrate/kubeconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cert.h"
#include "core/crypto.h"
#include "core/json.h"
#include "tests/unit/test.h"

static char dir[64];
static struct reef_err err;

static void rm_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)system(cmd);
}

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/reef-test-kc.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    atexit(rm_dir);
}

static char *path(const char *name)
{
    static char p[8][160];
    static int i;
    char *r = p[i++ % 8];
    snprintf(r, 160, "%s/%s", dir, name);
    return r;
}

/* Real material: a CA, and an admin certificate and key it issued. */
static char *ca_pem, *cert_pem, *key_pem;

static void make_material(void)
{
    struct reef_ca *ca = NULL;
    CHECK_OK(reef_cert_ca_create("test-ca", 10, 0, &ca, &err), &err);
    struct reef_key *k = NULL;
    CHECK_OK(reef_cert_key_generate(&k, &err), &err);
    static const char *const orgs[] = {"system:masters"};
    struct reef_cert_spec spec = {
        .cn = "system:admin", .orgs = orgs, .n_orgs = 1, .usage = REEF_CERT_CLIENT, .days = 10};
    struct reef_cert *c = NULL;
    CHECK_OK(reef_cert_issue(ca, &spec, k, &c, &err), &err);
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(ca), &ca_pem, NULL, &err), &err);
    CHECK_OK(reef_cert_to_pem(c, &cert_pem, NULL, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(k, &key_pem, &err), &err);
    reef_cert_free(c);
    reef_cert_key_free(k);
    reef_cert_ca_free(ca);
}

static void free_material(void)
{
    free(ca_pem);
    free(cert_pem);
    free(key_pem);
}

static char *b64(const char *s)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_crypto_b64_encode(&b, s, strlen(s), REEF_B64_STD), ==, 0);
    return reef_buf_steal(&b);
}

static void write_text(const char *p, const char *text)
{
    CHECK_OK(reef_cert_write_file(p, text, strlen(text), 0600, &err), &err);
}

static char *run(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        CHECK_INT(reef_buf_append(&b, chunk, n), ==, 0);
    int st = pclose(f);
    if (st != 0)
        TEST_FAIL("%s: exit status %d", cmd, st);
    return reef_buf_steal(&b);
}

static unsigned mode_of(const char *p)
{
    struct stat st;
    CHECK_INT(stat(p, &st), ==, 0);
    return st.st_mode & 07777;
}

/* Byte for byte what k3s writes to /etc/rancher/k3s/k3s.yaml. */
static void test_render_shape(void)
{
    struct reef_kubeconfig_write_opts o = {.ca_pem = "CA", .cert_pem = "CRT", .key_pem = "KEY"};
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_OK(reef_kubeconfig_render(&o, &b, &err), &err);
    CHECK_STR(b.data, "apiVersion: v1\n"
                      "clusters:\n"
                      "- cluster:\n"
                      "    certificate-authority-data: Q0E=\n"
                      "    server: https://127.0.0.1:6443\n"
                      "  name: default\n"
                      "contexts:\n"
                      "- context:\n"
                      "    cluster: default\n"
                      "    user: default\n"
                      "  name: default\n"
                      "current-context: default\n"
                      "kind: Config\n"
                      "preferences: {}\n"
                      "users:\n"
                      "- name: default\n"
                      "  user:\n"
                      "    client-certificate-data: Q1JU\n"
                      "    client-key-data: S0VZ\n");
    reef_buf_free(&b);

    /* Names YAML would read as something else are quoted; a token user. */
    struct reef_kubeconfig_write_opts t = {
        .ca_pem = "CA", .token = "abc", .name = "yes", .server = "https://[::1]:6443"};
    CHECK_OK(reef_kubeconfig_render(&t, &b, &err), &err);
    CHECK(strstr(b.data, "  name: \"yes\"\n") != NULL);
    CHECK(strstr(b.data, "    server: \"https://[::1]:6443\"\n") != NULL);
    CHECK(strstr(b.data, "    token: abc\n") != NULL);
    CHECK(strstr(b.data, "client-certificate-data") == NULL);
    reef_buf_free(&b);

    /* What cannot make a usable kubeconfig is refused. */
    struct reef_kubeconfig_write_opts bad[] = {
        {.cert_pem = "C", .key_pem = "K"},
        {.ca_pem = "CA"},
        {.ca_pem = "CA", .cert_pem = "C"},
        {.ca_pem = "CA", .token = "t", .name = ""},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        CHECK_INT(reef_kubeconfig_render(&bad[i], &b, &err), ==, -EINVAL);
        CHECK_INT(b.len, ==, 0);
    }
    reef_buf_free(&b);
}

static void test_write_and_load(void)
{
    make_dir();
    make_material();
    /* Parent directories are created; the default mode is 0600. */
    struct reef_kubeconfig_write_opts o = {
        .path = path("etc/reef/reef.yaml"),
        .ca_pem = ca_pem,
        .cert_pem = cert_pem,
        .key_pem = key_pem,
    };
    CHECK_OK(reef_kubeconfig_write(&o, &err), &err);
    CHECK_INT(mode_of(path("etc/reef/reef.yaml")), ==, 0600);
    CHECK_INT(mode_of(path("etc/reef")), ==, 0755);

    struct reef_kubeconfig k;
    CHECK_OK(reef_kubeconfig_load(path("etc/reef/reef.yaml"), NULL, &k, &err), &err);
    CHECK_STR(k.path, path("etc/reef/reef.yaml"));
    CHECK_STR(k.context, "default");
    CHECK_STR(k.server, "https://127.0.0.1:6443");
    CHECK_STR(k.ca_pem, ca_pem);
    CHECK_INT(k.ca_len, ==, strlen(ca_pem));
    CHECK_STR(k.cert_pem, cert_pem);
    CHECK_INT(k.cert_len, ==, strlen(cert_pem));
    CHECK_STR(k.key_pem, key_pem);
    CHECK_INT(k.key_len, ==, strlen(key_pem));
    CHECK(k.token == NULL);
    CHECK(k.namespace == NULL);
    CHECK(!k.insecure_skip_tls_verify);
    reef_kubeconfig_free(&k);
    CHECK(k.server == NULL);

    /* Rewritten in place with another mode and server. */
    o.mode = 0644;
    o.server = "https://10.0.0.5:7443";
    o.cert_pem = o.key_pem = NULL;
    o.token = "tok-123";
    CHECK_OK(reef_kubeconfig_write(&o, &err), &err);
    CHECK_INT(mode_of(path("etc/reef/reef.yaml")), ==, 0644);
    CHECK_OK(reef_kubeconfig_load(path("etc/reef/reef.yaml"), NULL, &k, &err), &err);
    CHECK_STR(k.server, "https://10.0.0.5:7443");
    CHECK_STR(k.token, "tok-123");
    CHECK(k.cert_pem == NULL && k.key_pem == NULL);
    reef_kubeconfig_free(&k);

    /* Strings YAML would read otherwise round-trip: quoted where a plain scalar would not do. */
    const char *tricky[] = {"tok:", "a: b",      "No",    "0x10", "#x",  "-",   "[x]", "{}", "~",
                            "it's", "tab\there", "\"q\"", "null", "1e3", "@at", "a:b", "é"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(tricky); i++) {
        o.token = tricky[i];
        o.name = tricky[i];
        CHECK_OK(reef_kubeconfig_write(&o, &err), &err);
        if (reef_kubeconfig_load(path("etc/reef/reef.yaml"), NULL, &k, &err) < 0)
            TEST_FAIL("\"%s\": %s", tricky[i], err.msg);
        CHECK_STR(k.token, tricky[i]);
        CHECK_STR(k.context, tricky[i]);
        reef_kubeconfig_free(&k);
    }
    o.name = NULL;

    /* A path under a file cannot be written; the error names it. */
    write_text(path("plain"), "x");
    o.path = path("plain/k.yaml");
    CHECK_INT(reef_kubeconfig_write(&o, &err), <, 0);
    CHECK(strstr(err.msg, "plain") != NULL);
    free_material();
}

/* kubectl reads what reef writes and sees the same data. */
static void test_kubectl_agrees(void)
{
    if (system("command -v kubectl >/dev/null 2>&1") != 0)
        TEST_FAIL("kubectl is not installed");
    make_dir();
    make_material();
    const char *names[] = {"default", "true", "a: b", "tab\there \"q\"", "my cluster"};
    for (size_t n = 0; n < REEF_ARRAY_LEN(names); n++) {
        struct reef_kubeconfig_write_opts o = {
            .path = path("kc.yaml"),
            .name = names[n],
            .server = "https://127.0.0.1:6443",
            .ca_pem = ca_pem,
            .cert_pem = cert_pem,
            .key_pem = key_pem,
        };
        CHECK_OK(reef_kubeconfig_write(&o, &err), &err);
        char cmd[512];
        snprintf(cmd, sizeof(cmd),
                 "env -u KUBECONFIG HOME=%s kubectl --kubeconfig %s config view --raw -o json", dir,
                 path("kc.yaml"));
        char *out = run(cmd);
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        CHECK_OK(reef_json_parse(&d, out, strlen(out), NULL, &err), &err);
        char *ca = b64(ca_pem), *crt = b64(cert_pem), *key = b64(key_pem);
        struct {
            const char *path, *want;
        } checks[] = {
            {"kind", "Config"},
            {"apiVersion", "v1"},
            {"current-context", names[n]},
            {"clusters[0].name", names[n]},
            {"clusters[0].cluster.server", "https://127.0.0.1:6443"},
            {"clusters[0].cluster.certificate-authority-data", ca},
            {"contexts[0].name", names[n]},
            {"contexts[0].context.cluster", names[n]},
            {"contexts[0].context.user", names[n]},
            {"users[0].name", names[n]},
            {"users[0].user.client-certificate-data", crt},
            {"users[0].user.client-key-data", key},
        };
        for (size_t i = 0; i < REEF_ARRAY_LEN(checks); i++) {
            int v = reef_json_find(&d, REEF_JSON_ROOT, checks[i].path, &err);
            if (v < 0)
                TEST_FAIL("kubectl output lacks %s: %s\n%s", checks[i].path, err.msg, out);
            if (!reef_json_str_eq(&d, v, checks[i].want))
                TEST_FAIL("kubectl: %s is not %s\n%s", checks[i].path, checks[i].want, out);
        }
        CHECK_INT(reef_json_count(&d, reef_json_member(&d, REEF_JSON_ROOT, "clusters")), ==, 1);
        CHECK_INT(reef_json_count(&d, reef_json_member(&d, REEF_JSON_ROOT, "users")), ==, 1);
        CHECK_INT(reef_json_count(&d, reef_json_member(&d, REEF_JSON_ROOT, "contexts")), ==, 1);

        /* kubectl's own rendering of the file (JSON) reads back the same through reef. */
        write_text(path("kubectl.json"), out);
        struct reef_kubeconfig k;
        CHECK_OK(reef_kubeconfig_load(path("kubectl.json"), NULL, &k, &err), &err);
        CHECK_STR(k.context, names[n]);
        CHECK_STR(k.ca_pem, ca_pem);
        CHECK_STR(k.cert_pem, cert_pem);
        CHECK_STR(k.key_pem, key_pem);
        reef_kubeconfig_free(&k);
        free(ca);
        free(crt);
        free(key);
        reef_json_doc_free(&d);
        free(out);
    }
    /* And kubectl's YAML rendering (-o yaml, its minified view) too. */
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             "env -u KUBECONFIG HOME=%s kubectl --kubeconfig %s config view --raw --minify > %s",
             dir, path("kc.yaml"), path("kubectl.yaml"));
    free(run(cmd));
    struct reef_kubeconfig k;
    CHECK_OK(reef_kubeconfig_load(path("kubectl.yaml"), NULL, &k, &err), &err);
    CHECK_STR(k.context, "my cluster");
    CHECK_STR(k.key_pem, key_pem);
    reef_kubeconfig_free(&k);
    free_material();
}

static void test_resolve_path(void)
{
    unsetenv("KUBECONFIG");
    char *p = reef_kubeconfig_resolve_path(NULL);
    CHECK_STR(p, "/etc/reef/reef.yaml");
    free(p);
    setenv("KUBECONFIG", "/a/one:/b/two", 1);
    p = reef_kubeconfig_resolve_path(NULL);
    CHECK_STR(p, "/a/one");
    free(p);
    p = reef_kubeconfig_resolve_path("");
    CHECK_STR(p, "/a/one");
    free(p);
    p = reef_kubeconfig_resolve_path("/explicit");
    CHECK_STR(p, "/explicit");
    free(p);
    setenv("KUBECONFIG", "::/c/three:", 1);
    p = reef_kubeconfig_resolve_path(NULL);
    CHECK_STR(p, "/c/three");
    free(p);
    setenv("KUBECONFIG", ":", 1);
    p = reef_kubeconfig_resolve_path(NULL);
    CHECK_STR(p, "/etc/reef/reef.yaml");
    free(p);

    /* load follows $KUBECONFIG. */
    make_dir();
    make_material();
    struct reef_kubeconfig_write_opts o = {
        .path = path("env.yaml"), .ca_pem = ca_pem, .token = "t0k"};
    CHECK_OK(reef_kubeconfig_write(&o, &err), &err);
    char env[256];
    snprintf(env, sizeof(env), ":%s:/nonexistent", path("env.yaml"));
    setenv("KUBECONFIG", env, 1);
    struct reef_kubeconfig k;
    CHECK_OK(reef_kubeconfig_load(NULL, NULL, &k, &err), &err);
    CHECK_STR(k.path, path("env.yaml"));
    CHECK_STR(k.token, "t0k");
    reef_kubeconfig_free(&k);
    setenv("KUBECONFIG", "/nonexistent/kc", 1);
    CHECK_INT(reef_kubeconfig_load(NULL, NULL, &k, &err), ==, -ENOENT);
    CHECK(strstr(err.msg, "/nonexistent/kc") != NULL);
    free_material();
}

/* A hand-written kubeconfig as people keep them: several entries, file references relative to
 * the kubeconfig, a namespace, flags, tokenFile. */
static void test_files_and_contexts(void)
{
    make_dir();
    make_material();
    write_text(path("ca.crt"), ca_pem);
    write_text(path("admin.crt"), cert_pem);
    write_text(path("admin.key"), key_pem);
    write_text(path("tok"), "  file-token\n\n");
    char *ca = b64(ca_pem);
    char text[8192];
    snprintf(text, sizeof(text),
             "# a comment\n"
             "apiVersion: v1\n"
             "kind: Config\n"
             "clusters:\n"
             "- name: other\n"
             "  cluster: {server: 'https://other:6443', insecure-skip-tls-verify: true}\n"
             "- name: prod\n"
             "  cluster:\n"
             "    server: https://prod.example:6443\n"
             "    certificate-authority: ca.crt\n"
             "    tls-server-name: kubernetes\n"
             "- name: inline\n"
             "  cluster:\n"
             "    server: https://inline:6443\n"
             "    certificate-authority-data: |\n"
             "      %.*s\n"
             "      %s\n"
             "users:\n"
             "- name: cert\n"
             "  user:\n"
             "    client-certificate: %s\n"
             "    client-key: admin.key\n"
             "- name: tf\n"
             "  user: {tokenFile: tok}\n"
             "- name: both\n"
             "  user: {token: inline-token, tokenFile: /nonexistent}\n"
             "contexts:\n"
             "- name: a\n"
             "  context: {cluster: prod, user: cert, namespace: kube-system}\n"
             "- name: b\n"
             "  context: {cluster: other, user: tf}\n"
             "- name: c\n"
             "  context: {cluster: inline, user: both}\n"
             "- name: anon\n"
             "  context: {cluster: other}\n"
             "current-context: a\n",
             40, ca, ca + 40, path("admin.crt"));
    write_text(path("config"), text);

    struct reef_kubeconfig k;
    CHECK_OK(reef_kubeconfig_load(path("config"), NULL, &k, &err), &err);
    CHECK_STR(k.context, "a");
    CHECK_STR(k.namespace, "kube-system");
    CHECK_STR(k.server, "https://prod.example:6443");
    CHECK_STR(k.tls_server_name, "kubernetes");
    CHECK_STR(k.ca_pem, ca_pem);
    CHECK_STR(k.cert_pem, cert_pem);
    CHECK_STR(k.key_pem, key_pem);
    CHECK(k.token == NULL);
    reef_kubeconfig_free(&k);

    CHECK_OK(reef_kubeconfig_load(path("config"), "b", &k, &err), &err);
    CHECK_STR(k.server, "https://other:6443");
    CHECK(k.insecure_skip_tls_verify);
    CHECK(k.ca_pem == NULL);
    CHECK_STR(k.token, "file-token");
    reef_kubeconfig_free(&k);

    /* Base64 broken over lines (a YAML block scalar) reads as Go reads it; token beats
     * tokenFile. */
    CHECK_OK(reef_kubeconfig_load(path("config"), "c", &k, &err), &err);
    CHECK_STR(k.ca_pem, ca_pem);
    CHECK_STR(k.token, "inline-token");
    reef_kubeconfig_free(&k);

    CHECK_OK(reef_kubeconfig_load(path("config"), "anon", &k, &err), &err);
    CHECK(k.token == NULL && k.cert_pem == NULL);
    reef_kubeconfig_free(&k);

    CHECK_INT(reef_kubeconfig_load(path("config"), "zz", &k, &err), ==, -ENOENT);
    CHECK(strstr(err.msg, "contexts: no entry named \"zz\"") != NULL);
    free(ca);
    free_material();
}

struct bad {
    const char *text;
    int code;
    const char *msg; /* expected after "kubeconfig <path>: " */
};

static void test_bad_kubeconfigs(void)
{
    make_dir();
    make_material();
    char *ca = b64(ca_pem), *crt = b64(cert_pem), *key = b64(key_pem);
    char *not_pem = b64("hello, world\n");
    char good_cluster[4096], good_user[8192];
    snprintf(good_cluster, sizeof(good_cluster),
             "clusters:\n- name: c\n  cluster:\n    server: https://s:1\n"
             "    certificate-authority-data: %s\n",
             ca);
    snprintf(good_user, sizeof(good_user),
             "users:\n- name: u\n  user:\n    client-certificate-data: %s\n"
             "    client-key-data: %s\n",
             crt, key);
    const char *ctx = "contexts:\n- name: x\n  context: {cluster: c, user: u}\n";
    char bufs[16][16384];
    struct bad cases[16];
    size_t n = 0;
#define CASE(code_, msg_, ...)                                                                     \
    do {                                                                                           \
        snprintf(bufs[n], sizeof(bufs[n]), __VA_ARGS__);                                           \
        cases[n] = (struct bad){bufs[n], code_, msg_};                                             \
        n++;                                                                                       \
    } while (0)
    CASE(-ENOENT, "current-context: not set", "%s%s%s", good_cluster, good_user, ctx);
    CASE(-ENOENT, "contexts: no entry named \"zz\"", "current-context: zz\n%s%s%s", good_cluster,
         good_user, ctx);
    CASE(-ENOENT, "clusters: no entry named \"c\"", "current-context: x\n%s%s", good_user, ctx);
    CASE(-ENOENT, "users: no entry named \"u\"", "current-context: x\n%s%s", good_cluster, ctx);
    CASE(-EINVAL, "clusters[0].cluster.server: missing",
         "current-context: x\nclusters:\n- name: c\n  cluster: {}\n%s%s", good_user, ctx);
    CASE(-EINVAL, "clusters[0].cluster.server: expected a string, found number",
         "current-context: x\nclusters:\n- name: c\n  cluster: {server: 6443}\n%s%s", good_user,
         ctx);
    CASE(-EINVAL, "clusters[0].cluster.certificate-authority-data: base64: ",
         "current-context: x\nclusters:\n- name: c\n  cluster: {server: s, "
         "certificate-authority-data: 'AB!D'}\n%s%s",
         good_user, ctx);
    CASE(-EINVAL, "clusters[0].cluster.certificate-authority-data: ",
         "current-context: x\nclusters:\n- name: c\n  cluster: {server: s, "
         "certificate-authority-data: %s}\n%s%s",
         not_pem, good_user, ctx);
    CASE(-EINVAL, "users[0].user.client-key-data: base64: ",
         "current-context: x\n%susers:\n- name: u\n  user: {client-certificate-data: %s, "
         "client-key-data: QUJ}\n%s",
         good_cluster, crt, ctx);
    CASE(-EINVAL, "users[0].user.client-key-data: ",
         "current-context: x\n%susers:\n- name: u\n  user: {client-certificate-data: %s, "
         "client-key-data: %s}\n%s",
         good_cluster, crt, not_pem, ctx);
    CASE(-EINVAL, "users[0].user: client certificate without client-key-data or client-key",
         "current-context: x\n%susers:\n- name: u\n  user: {client-certificate-data: %s}\n%s",
         good_cluster, crt, ctx);
    CASE(-ENOENT, "users[0].user.tokenFile: open ",
         "current-context: x\n%susers:\n- name: u\n  user: {tokenFile: missing-file}\n%s",
         good_cluster, ctx);
    CASE(-EINVAL, "clusters: expected a list", "current-context: x\nclusters: {c: 1}\n%s%s",
         good_user, ctx);
    CASE(-EINVAL, "contexts[0].context: missing", "current-context: x\n%s%scontexts:\n- name: x\n",
         good_cluster, good_user);
    CASE(-EINVAL, "clusters[0].cluster.insecure-skip-tls-verify: expected true or false",
         "current-context: x\nclusters:\n- name: c\n  cluster: {server: s, "
         "insecure-skip-tls-verify: maybe}\n%s%s",
         good_user, ctx);
    CASE(-EINVAL, "yaml: line 2", "current-context: x\n  bad: [indent\n");
#undef CASE
    for (size_t i = 0; i < n; i++) {
        write_text(path("bad.yaml"), cases[i].text);
        struct reef_kubeconfig k;
        int r = reef_kubeconfig_load(path("bad.yaml"), NULL, &k, &err);
        char want[256];
        snprintf(want, sizeof(want), "kubeconfig %s: %s", path("bad.yaml"), cases[i].msg);
        if (r != cases[i].code || strncmp(err.msg, want, strlen(want)) != 0)
            TEST_FAIL("case %zu: got %d \"%s\", want %d \"%s...\"", i, r, err.msg, cases[i].code,
                      want);
        CHECK(k.path == NULL && k.server == NULL);
    }

    /* Not a mapping, empty, and too big. */
    const char *shapes[][2] = {{"- a\n- b\n", "not a mapping"}, {"# nothing\n", "empty"}};
    for (size_t i = 0; i < REEF_ARRAY_LEN(shapes); i++) {
        write_text(path("bad.yaml"), shapes[i][0]);
        struct reef_kubeconfig k;
        CHECK_INT(reef_kubeconfig_load(path("bad.yaml"), NULL, &k, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, shapes[i][1]) != NULL);
        CHECK(strstr(err.msg, path("bad.yaml")) != NULL);
    }
    FILE *f = fopen(path("big.yaml"), "w");
    CHECK(f != NULL);
    for (size_t i = 0; i < REEF_KUBECONFIG_MAX_FILE / 64 + 2; i++)
        fprintf(f, "# %061zu\n", i);
    fclose(f);
    struct reef_kubeconfig k;
    CHECK_INT(reef_kubeconfig_load(path("big.yaml"), NULL, &k, &err), ==, -EFBIG);
    CHECK(strstr(err.msg, "big.yaml") != NULL);
    CHECK_INT(reef_kubeconfig_load(dir, NULL, &k, &err), ==, -EINVAL);
    free(ca);
    free(crt);
    free(key);
    free(not_pem);
    free_material();
}

static void test_parse_mode(void)
{
    mode_t m;
    CHECK_OK(reef_kubeconfig_parse_mode("0644", &m, &err), &err);
    CHECK_INT(m, ==, 0644);
    CHECK_OK(reef_kubeconfig_parse_mode("600", &m, &err), &err);
    CHECK_INT(m, ==, 0600);
    CHECK_OK(reef_kubeconfig_parse_mode("0", &m, &err), &err);
    CHECK_INT(m, ==, 0);
    const char *bad[] = {"", "0648", "rw-r--r--", "07777", "1000", "-644", "0x1a4", "00644"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        if (reef_kubeconfig_parse_mode(bad[i], &m, &err) != -EINVAL)
            TEST_FAIL("mode \"%s\" accepted", bad[i]);
        CHECK(strstr(err.msg, "--write-kubeconfig-mode") != NULL);
    }
    CHECK_INT(reef_kubeconfig_parse_mode(NULL, &m, &err), ==, -EINVAL);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_render_shape);
    TEST_RUN(test_write_and_load);
    TEST_RUN(test_kubectl_agrees);
    TEST_RUN(test_resolve_path);
    TEST_RUN(test_files_and_contexts);
    TEST_RUN(test_bad_kubeconfigs);
    TEST_RUN(test_parse_mode);
    return test_done();
}
