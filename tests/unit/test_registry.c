/* Unit tests for runtime/registry (auth challenges, token URLs, retry policy, media types) and
 * runtime/registries_conf (k3s-shaped registries.yaml, endpoint lists, rewrites). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/blobstore.h"
#include "runtime/registries_conf.h"
#include "runtime/registry.h"
#include "tests/unit/test.h"

static void test_challenge_bearer(void)
{
    struct reef_auth_challenge c;
    struct reef_err err;
    CHECK_OK(reef_registry_parse_challenge(
                 "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                 "scope=\"repository:library/busybox:pull\"",
                 &c, &err),
             &err);
    CHECK_STR(c.scheme, "Bearer");
    CHECK_STR(c.realm, "https://auth.docker.io/token");
    CHECK_STR(c.service, "registry.docker.io");
    CHECK_STR(c.scope, "repository:library/busybox:pull");
    /* Spaces around separators, bare values, case-insensitive keys, an error parameter, escapes. */
    CHECK_OK(reef_registry_parse_challenge(
                 "  Bearer  Realm = \"http://127.0.0.1:5001/token\" ,  service=reg , "
                 "error=\"insufficient_scope\", scope=\"a\\\"b\"",
                 &c, &err),
             &err);
    CHECK_STR(c.realm, "http://127.0.0.1:5001/token");
    CHECK_STR(c.service, "reg");
    CHECK_STR(c.error, "insufficient_scope");
    CHECK_STR(c.scope, "a\"b");
}

static void test_challenge_basic_and_bad(void)
{
    struct reef_auth_challenge c;
    struct reef_err err;
    CHECK_OK(reef_registry_parse_challenge("Basic realm=\"reef-test\"", &c, &err), &err);
    CHECK_STR(c.scheme, "Basic");
    CHECK_STR(c.realm, "reef-test");
    CHECK_INT(reef_registry_parse_challenge("", &c, &err), ==, -EINVAL);
    CHECK_INT(reef_registry_parse_challenge("Bearer service=\"x\"", &c, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "without a realm"));
    CHECK_INT(reef_registry_parse_challenge("Bearer realm=\"unterminated", &c, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "unterminated"));
    CHECK_INT(reef_registry_parse_challenge("Bearer realm", &c, &err), ==, -EINVAL);
    char big[2000];
    memset(big, 'a', sizeof(big));
    memcpy(big, "Bearer realm=\"", 14);
    big[sizeof(big) - 2] = '"';
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(reef_registry_parse_challenge(big, &c, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "too long"));
}

static void test_token_url(void)
{
    struct reef_auth_challenge c = {0};
    strcpy(c.scheme, "Bearer");
    strcpy(c.realm, "https://auth.example/token");
    strcpy(c.service, "reg one");
    strcpy(c.scope, "repository:library/busybox:pull,push");
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_registry_token_url(&c, "ignored", &b), ==, 0);
    CHECK_STR(b.data, "https://auth.example/token?service=reg%20one&scope=repository%3Alibrary%2F"
                      "busybox%3Apull%2Cpush");
    reef_buf_reset(&b);
    /* No scope in the challenge: the repository's pull scope; a realm with a query keeps it. */
    c.scope[0] = '\0';
    c.service[0] = '\0';
    strcpy(c.realm, "http://127.0.0.1:1/t?x=1");
    CHECK_INT(reef_registry_token_url(&c, "org/app", &b), ==, 0);
    CHECK_STR(b.data, "http://127.0.0.1:1/t?x=1&scope=repository%3Aorg%2Fapp%3Apull");
    reef_buf_reset(&b);
    /* The OAuth2 refresh-token form for identity tokens. */
    strcpy(c.service, "svc");
    CHECK_INT(reef_registry_token_form(&c, "org/app", "r+t/=", &b), ==, 0);
    CHECK_STR(b.data, "grant_type=refresh_token&client_id=reef&service=svc&scope=repository%3Aorg"
                      "%2Fapp%3Apull&refresh_token=r%2Bt%2F%3D");
    reef_buf_free(&b);
}

static void test_transient_and_kinds(void)
{
    CHECK(reef_registry_transient(-ECONNRESET, 0));
    CHECK(reef_registry_transient(-ETIMEDOUT, 0));
    CHECK(!reef_registry_transient(-ECONNREFUSED, 0));
    CHECK(!reef_registry_transient(-EPROTO, 0)); /* a TLS failure does not heal by retrying */
    CHECK(reef_registry_transient(0, 503));
    CHECK(reef_registry_transient(0, 429));
    CHECK(reef_registry_transient(0, 408));
    CHECK(!reef_registry_transient(0, 404));
    CHECK(!reef_registry_transient(0, 401));
    CHECK(!reef_registry_transient(0, 200));
    CHECK_INT(reef_registry_manifest_kind(REEF_MT_OCI_MANIFEST), ==, 1);
    CHECK_INT(reef_registry_manifest_kind(REEF_MT_DOCKER_MANIFEST), ==, 1);
    CHECK_INT(reef_registry_manifest_kind(REEF_MT_OCI_INDEX), ==, 2);
    CHECK_INT(reef_registry_manifest_kind(REEF_MT_DOCKER_LIST), ==, 2);
    CHECK_INT(reef_registry_manifest_kind("application/vnd.docker.distribution.manifest.v1+json"),
              ==, 0);
    CHECK_INT(reef_registry_manifest_kind("application/json"), ==, 0);
    /* The Accept list names all four. */
    CHECK(strstr(REEF_MANIFEST_ACCEPT, REEF_MT_OCI_INDEX));
    CHECK(strstr(REEF_MANIFEST_ACCEPT, REEF_MT_OCI_MANIFEST));
    CHECK(strstr(REEF_MANIFEST_ACCEPT, REEF_MT_DOCKER_LIST));
    CHECK(strstr(REEF_MANIFEST_ACCEPT, REEF_MT_DOCKER_MANIFEST));
}

static const char k3s_yaml[] = "mirrors:\n"
                               "  docker.io:\n"
                               "    endpoint:\n"
                               "      - \"https://mirror.example.com:5000\"\n"
                               "      - \"http://127.0.0.1:5001/v2\"\n"
                               "    rewrite:\n"
                               "      \"^rancher/(.*)\": \"mirrorproject/rancher-images/$1\"\n"
                               "  \"*\":\n"
                               "    endpoint: [\"https://catchall.example\"]\n"
                               "configs:\n"
                               "  \"mirror.example.com:5000\":\n"
                               "    auth:\n"
                               "      username: xxx\n"
                               "      password: yyy\n"
                               "    tls:\n"
                               "      cert_file: /etc/c.pem\n"
                               "      key_file: /etc/k.pem\n"
                               "      ca_file: /etc/ca.pem\n"
                               "  \"127.0.0.1:5001\":\n"
                               "    auth:\n"
                               "      auth: dXNlcjpwYTpzcw==\n" /* user:pa:ss */
                               "  registry.example:\n"
                               "    tls:\n"
                               "      insecure_skip_verify: true\n";

static void test_conf_parse(void)
{
    struct reef_registries_conf *c;
    struct reef_err err;
    CHECK_OK(reef_registries_conf_parse(k3s_yaml, strlen(k3s_yaml), &c, &err), &err);
    CHECK_INT(c->nmirrors, ==, 2);
    CHECK_STR(c->mirrors[0].name, "docker.io");
    CHECK_INT(c->mirrors[0].nendpoints, ==, 2);
    CHECK_INT(c->mirrors[0].nrewrites, ==, 1);
    CHECK_STR(c->mirrors[0].rewrites[0].replacement, "mirrorproject/rancher-images/$1");
    CHECK_INT(c->nconfigs, ==, 3);
    const struct reef_registry_config *g = reef_registries_conf_find(c, "mirror.example.com:5000");
    CHECK(g);
    CHECK_STR(g->username, "xxx");
    CHECK_STR(g->password, "yyy");
    CHECK_STR(g->ca_file, "/etc/ca.pem");
    CHECK_STR(g->cert_file, "/etc/c.pem");
    CHECK_STR(g->key_file, "/etc/k.pem");
    g = reef_registries_conf_find(c, "127.0.0.1:5001");
    CHECK(g);
    CHECK_STR(g->username, "user");
    CHECK_STR(g->password, "pa:ss");
    CHECK(reef_registries_conf_find(c, "registry.example")->insecure_skip_verify);
    CHECK(!reef_registries_conf_find(c, "nowhere"));
    /* a pod's credentials: over the file's for a host it names, and for hosts it does not */
    CHECK_OK(reef_registries_conf_set_auth(c, "mirror.example.com:5000", "pod", "pw", &err), &err);
    CHECK_OK(reef_registries_conf_set_auth(c, "new:5000", "u2", "p2", &err), &err);
    g = reef_registries_conf_find(c, "mirror.example.com:5000");
    CHECK_STR(g->username, "pod");
    CHECK_STR(g->password, "pw");
    CHECK_STR(g->ca_file, "/etc/ca.pem"); /* the rest of its config stays */
    g = reef_registries_conf_find(c, "new:5000");
    CHECK(g && strcmp(g->username, "u2") == 0 && strcmp(g->password, "p2") == 0);
    CHECK_INT(c->nconfigs, ==, 4);
    reef_registries_conf_free(c);
}

static void test_conf_errors(void)
{
    struct reef_registries_conf *c = NULL;
    struct reef_err err;
    static const struct {
        const char *yaml, *msg;
    } bad[] = {
        {"mirrors: [1, 2]\n", "mirrors: expected a mapping"},
        {"mirrors:\n  a:\n    endpoint: x\n", "expected a list"},
        {"mirrors:\n  a:\n    endpoint: [\"ftp://x/y\"]\n", "unknown scheme"},
        {"mirrors:\n  a:\n    rewrite: {\"(\": \"x\"}\n", "bad pattern"},
        {"configs:\n  a:\n    tls: {cert_file: /c}\n", "go together"},
        {"configs:\n  a:\n    auth: {auth: \"bm9jb2xvbg==\"}\n", "user:password"},
        {"configs:\n  a:\n    auth: {username: [1]}\n", "expected a string"},
        {"configs:\n  a:\n    tls: {insecure_skip_verify: maybe}\n", "insecure_skip_verify"},
        {"- a\n", "mapping at the top"},
        {"a: b\n---\nc: d\n", "more than one document"},
        {"mirrors: {a: [\n", "registries.yaml"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        reef_err_clear(&err);
        int r = reef_registries_conf_parse(bad[i].yaml, strlen(bad[i].yaml), &c, &err);
        if (r >= 0 || !strstr(err.msg, bad[i].msg))
            TEST_FAIL("case %zu: %d \"%s\" (wanted \"%s\")", i, r, err.msg, bad[i].msg);
        CHECK(c == NULL);
    }
    /* Empty input, comments only, a missing file: an empty configuration. */
    CHECK_OK(reef_registries_conf_parse("# nothing\n", 10, &c, &err), &err);
    CHECK_INT(c->nmirrors + c->nconfigs, ==, 0);
    reef_registries_conf_free(c);
    CHECK_OK(reef_registries_conf_load("/nonexistent/registries.yaml", &c, &err), &err);
    CHECK_INT(c->nmirrors + c->nconfigs, ==, 0);
    reef_registries_conf_free(c);
}

static void test_conf_load_file(void)
{
    char path[] = "/tmp/reef-regconf-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_INT(write(fd, k3s_yaml, strlen(k3s_yaml)), ==, (long)strlen(k3s_yaml));
    close(fd);
    struct reef_registries_conf *c;
    struct reef_err err;
    CHECK_OK(reef_registries_conf_load(path, &c, &err), &err);
    CHECK_INT(c->nmirrors, ==, 2);
    reef_registries_conf_free(c);
    unlink(path);
}

static int endpoints(const char *yaml, const char *ref, struct reef_registry_endpoint *eps)
{
    struct reef_registries_conf *c = NULL;
    struct reef_err err;
    if (yaml)
        CHECK_OK(reef_registries_conf_parse(yaml, strlen(yaml), &c, &err), &err);
    struct reef_image_ref r;
    CHECK_OK(reef_image_ref_parse(ref, &r, &err), &err);
    int n = reef_registries_conf_endpoints(c, &r, eps, REEF_REGISTRY_MAX_ENDPOINTS, &err);
    if (n < 0)
        TEST_FAIL("endpoints: %s", err.msg);
    /* cfg points into c: tests only compare it against NULL after freeing. */
    reef_registries_conf_free(c);
    return n;
}

static void test_endpoints(void)
{
    struct reef_registry_endpoint e[REEF_REGISTRY_MAX_ENDPOINTS];
    /* No configuration: Docker Hub's API host, HTTPS. */
    CHECK_INT(endpoints(NULL, "busybox", e), ==, 1);
    CHECK_STR(e[0].base, "https://registry-1.docker.io");
    CHECK_STR(e[0].path, "library/busybox");
    CHECK(!e[0].plain_http);
    /* Mirrors first (rewritten), then the registry itself; a "/v2" suffix is dropped. */
    CHECK_INT(endpoints(k3s_yaml, "rancher/klipper:v1", e), ==, 3);
    CHECK_STR(e[0].base, "https://mirror.example.com:5000");
    CHECK_STR(e[0].path, "mirrorproject/rancher-images/klipper");
    CHECK(e[0].is_mirror);
    CHECK(e[0].cfg != NULL);
    CHECK_STR(e[1].base, "http://127.0.0.1:5001");
    CHECK(e[1].plain_http);
    CHECK_STR(e[2].base, "https://registry-1.docker.io");
    CHECK_STR(e[2].path, "rancher/klipper");
    CHECK(!e[2].is_mirror);
    /* A path the rewrite does not match stays. */
    CHECK_INT(endpoints(k3s_yaml, "library/alpine", e), ==, 3);
    CHECK_STR(e[0].path, "library/alpine");
    /* "*" covers registries without their own entry. */
    CHECK_INT(endpoints(k3s_yaml, "ghcr.io/o/r:1", e), ==, 2);
    CHECK_STR(e[0].base, "https://catchall.example");
    CHECK_STR(e[1].base, "https://ghcr.io");
    /* A loopback registry: HTTPS, then plain HTTP. */
    CHECK_INT(endpoints(NULL, "127.0.0.1:5000/app:v1", e), ==, 2);
    CHECK_STR(e[0].base, "https://127.0.0.1:5000");
    CHECK_STR(e[1].base, "http://127.0.0.1:5000");
    CHECK(e[1].fallback && !e[0].fallback);
    CHECK_STR(e[1].path, "app");
    /* ... but not when it has a CA configured: then it is meant to speak TLS. */
    CHECK_INT(endpoints("configs:\n  \"127.0.0.1:5000\":\n    tls: {ca_file: /x}\n",
                        "127.0.0.1:5000/app", e),
              ==, 1);
    /* A rewrite producing an invalid path fails. */
    struct reef_registries_conf *c;
    struct reef_err err;
    const char *y = "mirrors:\n  docker.io:\n    endpoint: [\"https://m\"]\n    rewrite: "
                    "{\"^(.*)$\": \"/abs/$1\"}\n";
    CHECK_OK(reef_registries_conf_parse(y, strlen(y), &c, &err), &err);
    struct reef_image_ref r;
    CHECK_OK(reef_image_ref_parse("busybox", &r, &err), &err);
    CHECK_INT(reef_registries_conf_endpoints(c, &r, e, REEF_REGISTRY_MAX_ENDPOINTS, &err), ==,
              -EINVAL);
    CHECK(strstr(err.msg, "invalid result"));
    reef_registries_conf_free(c);
}

static void test_open_with_skip_verify(void)
{
    struct reef_registries_conf *c;
    struct reef_err err;
    CHECK_OK(reef_registries_conf_parse(k3s_yaml, strlen(k3s_yaml), &c, &err), &err);
    struct reef_image_ref r;
    CHECK_OK(reef_image_ref_parse("registry.example/app", &r, &err), &err);
    struct reef_registry_opts o = {.conf = c};
    struct reef_registry *reg = NULL;
    /* insecure_skip_verify is carried to the TLS client, not refused */
    CHECK_OK(reef_registry_open(&r, &o, &reg, &err), &err);
    reef_registry_close(reg);
    reg = NULL;
    CHECK_OK(reef_image_ref_parse("127.0.0.1:5001/app", &r, &err), &err);
    CHECK_OK(reef_registry_open(&r, &o, &reg, &err), &err);
    CHECK_STR(reef_registry_host(reg), "catchall.example"); /* "*" mirrors it first */
    reef_registry_close(reg);
    reef_registries_conf_free(c);
}

/* A registry that is not there: a clear error, no hang, nothing leaked. */
static void test_unreachable(void)
{
    struct reef_image_ref r;
    struct reef_err err;
    CHECK_OK(reef_image_ref_parse("127.0.0.1:1/nothing:v1", &r, &err), &err);
    struct reef_registry_opts o = {.timeout_ms = 2000, .attempts = 2, .backoff_ms = 1};
    struct reef_registry *reg;
    CHECK_OK(reef_registry_open(&r, &o, &reg, &err), &err);
    struct reef_buf body = REEF_BUF_INIT;
    char mt[128], dg[REEF_DIGEST_MAX];
    int rc = reef_registry_manifest(reg, "v1", &body, mt, dg, &err);
    CHECK_INT(rc, <, 0);
    CHECK(strstr(err.msg, "manifest v1"));
    CHECK(strstr(err.msg, "127.0.0.1:1"));
    CHECK_INT(reef_registry_ping(reg, &err), <, 0);
    reef_buf_free(&body);
    reef_registry_close(reg);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_challenge_bearer);
    TEST_RUN(test_challenge_basic_and_bad);
    TEST_RUN(test_token_url);
    TEST_RUN(test_transient_and_kinds);
    TEST_RUN(test_conf_parse);
    TEST_RUN(test_conf_errors);
    TEST_RUN(test_conf_load_file);
    TEST_RUN(test_endpoints);
    TEST_RUN(test_open_with_skip_verify);
    TEST_RUN(test_unreachable);
    return test_done();
}
