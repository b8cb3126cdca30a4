/* Tests for orchestrate/pki: first start, restarts, re-issue on new names, near expiry and broken
 * pairs, modes, tokens, names cross-checked with the openssl tool, and a TLS handshake with the
 * admin certificate against the serving certificate. */
#include "orchestrate/pki.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pthread.h>
#include <signal.h>
#include <uv.h>

#include "core/crypto.h"
#include "core/http_server.h"
#include "orchestrate/kubeconfig.h"
#include "tests/unit/test.h"

static char dir[64];
static char dirs[4][64];
static size_t n_dirs;
static struct reef_err err;

static void rm_dirs(void)
{
    for (size_t i = 0; i < n_dirs; i++) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dirs[i]);
        (void)system(cmd);
    }
}

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/reef-test-pki.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK(n_dirs < REEF_ARRAY_LEN(dirs));
    if (n_dirs == 0)
        atexit(rm_dirs);
    memcpy(dirs[n_dirs++], dir, sizeof(dir));
}

static char *path(const char *name)
{
    static char p[8][160];
    static int i;
    char *r = p[i++ % 8];
    snprintf(r, 160, "%s/server/%s", dir, name);
    return r;
}

static const char *const addrs[] = {"192.168.5.10", "fd00:0:0::5"};
static const char *const sans[] = {"API.Example.com", "10.9.8.7"};

static struct reef_pki_opts opts(void)
{
    struct reef_pki_opts o = {
        .data_dir = dir,
        .tls_sans = sans,
        .n_tls_sans = 2,
        .hostname = "Node-1",
        .addresses = addrs,
        .n_addresses = 2,
    };
    return o;
}

static struct reef_pki *ensure(const struct reef_pki_opts *o)
{
    struct reef_pki *p = NULL;
    CHECK_OK(reef_pki_ensure(o, &p, &err), &err);
    CHECK(p != NULL);
    return p;
}

static struct reef_cert *load(const char *name)
{
    struct reef_cert *c = NULL;
    CHECK_OK(reef_cert_load(&c, path(name), &err), &err);
    return c;
}

static void fingerprint(const char *name, char out[REEF_SHA256_HEX_LEN + 1])
{
    struct reef_cert *c = load(name);
    reef_cert_fingerprint(c, out);
    reef_cert_free(c);
}

static bool has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static unsigned mode_of(const char *p)
{
    struct stat st;
    CHECK_INT(stat(p, &st), ==, 0);
    return st.st_mode & 07777;
}

/* Runs a shell command and returns its standard output (caller frees). */
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

static void test_first_start(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    time_t t0 = time(NULL);
    struct reef_pki *p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==,
              REEF_PKI_NEW_CA | REEF_PKI_NEW_SERVER | REEF_PKI_NEW_ADMIN |
                  REEF_PKI_NEW_ADMIN_TOKEN | REEF_PKI_NEW_JOIN_TOKEN);
    CHECK_STR(reef_pki_ca_file(p), path("tls/ca.crt"));
    CHECK_STR(reef_pki_server_cert_file(p), path("tls/server.crt"));
    CHECK_STR(reef_pki_server_key_file(p), path("tls/server.key"));
    CHECK_STR(reef_pki_admin_cert_file(p), path("tls/admin.crt"));
    CHECK_STR(reef_pki_admin_key_file(p), path("tls/admin.key"));

    /* The CA: a CA, ten years. */
    struct reef_cert *ca = load("tls/ca.crt");
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(ca, &info, &err), &err);
    CHECK(info.is_ca);
    CHECK(reef_str_has_prefix(info.cn, "reef-ca@"));
    CHECK_INT(info.not_after - t0, >=, 3650LL * 86400 - 5);
    CHECK_INT(info.not_after - t0, <=, 3650LL * 86400 + 5);
    reef_cert_info_free(&info);

    /* The serving certificate: every wanted name, one year, signed by the CA. */
    struct reef_cert *srv = load("tls/server.crt");
    CHECK_OK(reef_cert_verify(srv, ca, REEF_CERT_SERVER, &err), &err);
    CHECK_OK(reef_cert_inspect(srv, &info, &err), &err);
    CHECK(!info.is_ca);
    CHECK_INT(info.usage, ==, REEF_CERT_SERVER);
    CHECK_INT(info.not_after - t0, >=, 365LL * 86400 - 5);
    CHECK_INT(info.not_after - t0, <=, 365LL * 86400 + 5);
    const char *dns[] = {"node-1",
                         "localhost",
                         "kubernetes",
                         "kubernetes.default",
                         "kubernetes.default.svc",
                         "kubernetes.default.svc.cluster.local",
                         "api.example.com"};
    const char *ips[] = {"127.0.0.1", "::1", "10.43.0.1", "10.9.8.7", "192.168.5.10", "fd00::5"};
    CHECK_INT(info.n_dns, ==, REEF_ARRAY_LEN(dns));
    CHECK_INT(info.n_ips, ==, REEF_ARRAY_LEN(ips));
    for (size_t i = 0; i < REEF_ARRAY_LEN(dns); i++)
        if (!has(info.dns, info.n_dns, dns[i]))
            TEST_FAIL("DNS SAN %s missing", dns[i]);
    for (size_t i = 0; i < REEF_ARRAY_LEN(ips); i++)
        if (!has(info.ips, info.n_ips, ips[i]))
            TEST_FAIL("IP SAN %s missing", ips[i]);
    reef_cert_info_free(&info);
    CHECK_OK(reef_cert_check_host(srv, "kubernetes.default.svc", &err), &err);
    CHECK_OK(reef_cert_check_host(srv, "10.43.0.1", &err), &err);
    CHECK_OK(reef_cert_check_host(srv, "::1", &err), &err);

    /* The admin: system:admin in system:masters, a client certificate. */
    struct reef_cert *adm = load("tls/admin.crt");
    CHECK_OK(reef_cert_verify(adm, ca, REEF_CERT_CLIENT, &err), &err);
    CHECK_OK(reef_cert_inspect(adm, &info, &err), &err);
    CHECK_STR(info.cn, "system:admin");
    CHECK_INT(info.n_orgs, ==, 1);
    CHECK_STR(info.orgs[0], "system:masters");
    CHECK_INT(info.usage, ==, REEF_CERT_CLIENT);
    CHECK_INT(info.n_dns + info.n_ips, ==, 0);
    reef_cert_info_free(&info);

    /* Keys belong to their certificates and are readable by the owner only. */
    struct reef_key *k = NULL;
    CHECK_OK(reef_cert_key_load(&k, path("tls/server.key"), &err), &err);
    reef_cert_key_free(k);
    CHECK_INT(mode_of(path("tls/ca.key")), ==, 0600);
    CHECK_INT(mode_of(path("tls/server.key")), ==, 0600);
    CHECK_INT(mode_of(path("tls/admin.key")), ==, 0600);
    CHECK_INT(mode_of(path("tls/ca.crt")), ==, 0644);
    CHECK_INT(mode_of(path("tls/server.crt")), ==, 0644);
    CHECK_INT(mode_of(path("token")), ==, 0600);
    CHECK_INT(mode_of(path("admin-token")), ==, 0600);
    CHECK_INT(mode_of(path("tls")), ==, 0700);
    CHECK_INT(mode_of(path("")), ==, 0700);

    /* Accessors hand out the files' bytes. */
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "cat %s", path("tls/ca.crt"));
    char *ca_file = run(cmd);
    CHECK_STR(reef_pki_ca_pem(p), ca_file);
    free(ca_file);
    snprintf(cmd, sizeof(cmd), "cat %s", path("tls/admin.key"));
    char *key_file = run(cmd);
    CHECK_STR(reef_pki_admin_key_pem(p), key_file);
    free(key_file);

    /* Tokens: the admin token is 32 hex digits, the join token pins the CA file's hash. */
    const char *tok = reef_pki_admin_token(p);
    CHECK_INT(strlen(tok), ==, 32);
    CHECK_INT(strspn(tok, "0123456789abcdef"), ==, 32);
    uint8_t h[REEF_SHA256_LEN];
    CHECK_OK(reef_crypto_sha256_file(path("tls/ca.crt"), h, &err), &err);
    char hex[REEF_SHA256_HEX_LEN + 1];
    reef_crypto_hex_encode(hex, h, sizeof(h));
    CHECK_STR(reef_pki_ca_hash(p), hex);
    char want[200];
    const char *jt = reef_pki_join_token(p);
    CHECK(strlen(jt) == 3 + 64 + 9 + 32);
    snprintf(want, sizeof(want), "K10%s::server:%s", hex, jt + 3 + 64 + 9);
    CHECK_STR(jt, want);
    CHECK(strcmp(jt + 3 + 64 + 9, tok) != 0); /* two separate secrets */
    snprintf(cmd, sizeof(cmd), "cat %s", path("token"));
    char *tf = run(cmd);
    snprintf(want, sizeof(want), "%s\n", jt);
    CHECK_STR(tf, want);
    free(tf);
    snprintf(cmd, sizeof(cmd), "cat %s", path("admin-token"));
    tf = run(cmd);
    snprintf(want, sizeof(want), "%s\n", tok);
    CHECK_STR(tf, want);
    free(tf);

    reef_cert_free(ca);
    reef_cert_free(srv);
    reef_cert_free(adm);
    reef_pki_free(p);
}

/* The openssl tool reads the same names, key type and chain. */
static void test_openssl_agrees(void)
{
    if (system("command -v openssl >/dev/null 2>&1") != 0)
        TEST_FAIL("no openssl command");
    make_dir();
    struct reef_pki_opts o = opts();
    reef_pki_free(ensure(&o));
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "openssl x509 -noout -text -in %s", path("tls/server.crt"));
    char *t = run(cmd);
    const char *want[] = {
        "DNS:node-1",
        "DNS:localhost",
        "DNS:kubernetes,",
        "DNS:kubernetes.default,",
        "DNS:kubernetes.default.svc,",
        "DNS:kubernetes.default.svc.cluster.local",
        "DNS:api.example.com",
        "IP Address:127.0.0.1",
        "IP Address:0:0:0:0:0:0:0:1",
        "IP Address:10.43.0.1",
        "IP Address:10.9.8.7",
        "IP Address:192.168.5.10",
        "IP Address:FD00:0:0:0:0:0:0:5",
        "TLS Web Server Authentication",
        "CA:FALSE",
        "prime256v1",
        "Subject: CN = kube-apiserver",
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(want); i++)
        if (!strstr(t, want[i]))
            TEST_FAIL("openssl output lacks \"%s\":\n%s", want[i], t);
    free(t);

    snprintf(cmd, sizeof(cmd), "openssl x509 -noout -text -in %s", path("tls/admin.crt"));
    t = run(cmd);
    CHECK(strstr(t, "Subject: O = system:masters, CN = system:admin") != NULL);
    CHECK(strstr(t, "TLS Web Client Authentication") != NULL);
    free(t);

    snprintf(cmd, sizeof(cmd), "openssl x509 -noout -text -in %s", path("tls/ca.crt"));
    t = run(cmd);
    CHECK(strstr(t, "CA:TRUE") != NULL);
    CHECK(strstr(t, "prime256v1") != NULL);
    free(t);

    snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s %s %s 2>&1", path("tls/ca.crt"),
             path("tls/server.crt"), path("tls/admin.crt"));
    t = run(cmd);
    CHECK(strstr(t, "server.crt: OK") != NULL);
    CHECK(strstr(t, "admin.crt: OK") != NULL);
    free(t);

    /* The key files hold the certificates' keys. */
    char *a, *b;
    snprintf(cmd, sizeof(cmd), "openssl x509 -noout -pubkey -in %s", path("tls/server.crt"));
    a = run(cmd);
    snprintf(cmd, sizeof(cmd), "openssl ec -pubout -in %s 2>/dev/null", path("tls/server.key"));
    b = run(cmd);
    CHECK_STR(a, b);
    free(a);
    free(b);

    /* The SHA-256 fingerprint is the one openssl prints. */
    snprintf(cmd, sizeof(cmd), "openssl x509 -noout -fingerprint -sha256 -in %s | tr -d ':\\n'",
             path("tls/ca.crt"));
    t = run(cmd);
    char fp[REEF_SHA256_HEX_LEN + 1];
    fingerprint("tls/ca.crt", fp);
    for (char *c = t; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    CHECK(strstr(t, fp) != NULL);
    free(t);
}

struct prints {
    char ca[REEF_SHA256_HEX_LEN + 1], srv[REEF_SHA256_HEX_LEN + 1], adm[REEF_SHA256_HEX_LEN + 1];
};

static struct prints prints(void)
{
    struct prints f;
    fingerprint("tls/ca.crt", f.ca);
    fingerprint("tls/server.crt", f.srv);
    fingerprint("tls/admin.crt", f.adm);
    return f;
}

static void test_restart_reuses(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    struct reef_pki *p1 = ensure(&o);
    struct prints f1 = prints();
    struct reef_pki *p2 = ensure(&o);
    struct prints f2 = prints();
    CHECK_INT(reef_pki_changes(p2), ==, 0);
    CHECK_STR(f1.ca, f2.ca);
    CHECK_STR(f1.srv, f2.srv);
    CHECK_STR(f1.adm, f2.adm);
    CHECK_STR(reef_pki_ca_pem(p1), reef_pki_ca_pem(p2));
    CHECK_STR(reef_pki_server_cert_pem(p1), reef_pki_server_cert_pem(p2));
    CHECK_STR(reef_pki_server_key_pem(p1), reef_pki_server_key_pem(p2));
    CHECK_STR(reef_pki_admin_cert_pem(p1), reef_pki_admin_cert_pem(p2));
    CHECK_STR(reef_pki_admin_key_pem(p1), reef_pki_admin_key_pem(p2));
    CHECK_STR(reef_pki_admin_token(p1), reef_pki_admin_token(p2));
    CHECK_STR(reef_pki_join_token(p1), reef_pki_join_token(p2));

    /* The CA loaded back signs what the old one did. */
    struct reef_cert *srv = load("tls/server.crt");
    CHECK_OK(reef_cert_verify(srv, reef_cert_ca_cert(reef_pki_ca(p2)), REEF_CERT_SERVER, &err),
             &err);
    reef_cert_free(srv);

    /* Names no longer wanted do not force a re-issue, and SANs given in another spelling or
     * order are the same names. */
    static const char *const fewer[] = {"fd00::5"};
    static const char *const respelled[] = {"10.9.8.7", "api.EXAMPLE.com", "::1", "localhost"};
    o.addresses = fewer;
    o.n_addresses = 1;
    o.tls_sans = respelled;
    o.n_tls_sans = 4;
    struct reef_pki *p3 = ensure(&o);
    CHECK_INT(reef_pki_changes(p3), ==, 0);
    struct prints f3 = prints();
    CHECK_STR(f1.srv, f3.srv);
    reef_pki_free(p1);
    reef_pki_free(p2);
    reef_pki_free(p3);
}

static void check_server_has(const char *name, bool ip)
{
    struct reef_cert *srv = load("tls/server.crt");
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(srv, &info, &err), &err);
    if (!(ip ? has(info.ips, info.n_ips, name) : has(info.dns, info.n_dns, name)))
        TEST_FAIL("server certificate lacks %s", name);
    reef_cert_info_free(&info);
    reef_cert_free(srv);
}

static void test_new_san_reissues_server_only(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    struct reef_pki *p1 = ensure(&o);
    struct prints f1 = prints();
    char *key1 = strdup(reef_pki_server_key_pem(p1));

    static const char *const more[] = {"API.Example.com", "10.9.8.7", "reef.internal"};
    o.tls_sans = more;
    o.n_tls_sans = 3;
    struct reef_pki *p2 = ensure(&o);
    CHECK_INT(reef_pki_changes(p2), ==, REEF_PKI_NEW_SERVER);
    struct prints f2 = prints();
    CHECK_STR(f1.ca, f2.ca);
    CHECK_STR(f1.adm, f2.adm);
    CHECK(strcmp(f1.srv, f2.srv) != 0);
    CHECK(strcmp(key1, reef_pki_server_key_pem(p2)) != 0); /* a new key too */
    CHECK_STR(reef_pki_join_token(p1), reef_pki_join_token(p2));
    check_server_has("reef.internal", false);
    check_server_has("api.example.com", false);
    check_server_has("192.168.5.10", true);
    struct reef_cert *srv = load("tls/server.crt");
    CHECK_OK(reef_cert_verify(srv, reef_cert_ca_cert(reef_pki_ca(p1)), REEF_CERT_SERVER, &err),
             &err);
    reef_cert_free(srv);
    /* What was served is what is on disk now. */
    srv = load("tls/server.crt");
    char fp[REEF_SHA256_HEX_LEN + 1];
    struct reef_cert *served = NULL;
    CHECK_OK(reef_cert_from_pem(&served, reef_pki_server_cert_pem(p2),
                                strlen(reef_pki_server_cert_pem(p2)), &err),
             &err);
    reef_cert_fingerprint(served, fp);
    CHECK_STR(fp, f2.srv);
    reef_cert_free(served);
    reef_cert_free(srv);

    /* An IP --tls-san, and a new machine address, each trigger it as well. */
    static const char *const ip_more[] = {"2001:db8::7"};
    o.tls_sans = ip_more;
    o.n_tls_sans = 1;
    struct reef_pki *p3 = ensure(&o);
    CHECK_INT(reef_pki_changes(p3), ==, REEF_PKI_NEW_SERVER);
    check_server_has("2001:db8::7", true);
    static const char *const new_addr[] = {"192.168.5.11"};
    o.addresses = new_addr;
    o.n_addresses = 1;
    struct reef_pki *p4 = ensure(&o);
    CHECK_INT(reef_pki_changes(p4), ==, REEF_PKI_NEW_SERVER);
    check_server_has("192.168.5.11", true);
    /* A new host name too. */
    o.hostname = "node-2";
    struct reef_pki *p5 = ensure(&o);
    CHECK_INT(reef_pki_changes(p5), ==, REEF_PKI_NEW_SERVER);
    check_server_has("node-2", false);
    struct prints f5 = prints();
    CHECK_STR(f1.ca, f5.ca);
    CHECK_STR(f1.adm, f5.adm);
    free(key1);
    reef_pki_free(p1);
    reef_pki_free(p2);
    reef_pki_free(p3);
    reef_pki_free(p4);
    reef_pki_free(p5);
}

static void test_near_expiry_reissues(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    /* Certificates of 30 days are within the 90-day window on the next start. */
    o.cert_days = 30;
    struct reef_pki *p1 = ensure(&o);
    struct prints f1 = prints();
    o.cert_days = 0;
    struct reef_pki *p2 = ensure(&o);
    CHECK_INT(reef_pki_changes(p2), ==, REEF_PKI_NEW_SERVER | REEF_PKI_NEW_ADMIN);
    struct prints f2 = prints();
    CHECK_STR(f1.ca, f2.ca);
    CHECK(strcmp(f1.srv, f2.srv) != 0);
    CHECK(strcmp(f1.adm, f2.adm) != 0);
    struct reef_cert *srv = load("tls/server.crt");
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(srv, &info, &err), &err);
    CHECK_INT(info.not_after - time(NULL), >, 300LL * 86400);
    reef_cert_info_free(&info);
    reef_cert_free(srv);
    struct reef_pki *p3 = ensure(&o);
    CHECK_INT(reef_pki_changes(p3), ==, 0);
    reef_pki_free(p1);
    reef_pki_free(p2);
    reef_pki_free(p3);
}

/* The same through the injected clock: certificates issued 300 days ago have 65 days left. */
static void test_clock_injection(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    time_t now = time(NULL);
    o.now = now - 300 * 86400;
    struct reef_pki *p1 = ensure(&o);
    struct reef_cert *srv = load("tls/server.crt");
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(srv, &info, &err), &err);
    CHECK_INT(info.not_before, ==, o.now - REEF_CERT_BACKDATE);
    CHECK_INT(info.not_after, ==, o.now + 365LL * 86400);
    reef_cert_info_free(&info);
    reef_cert_free(srv);
    /* Still fine as seen from the day they were made... */
    struct reef_pki *p2 = ensure(&o);
    CHECK_INT(reef_pki_changes(p2), ==, 0);
    /* ...but not today. */
    o.now = now;
    struct reef_pki *p3 = ensure(&o);
    CHECK_INT(reef_pki_changes(p3), ==, REEF_PKI_NEW_SERVER | REEF_PKI_NEW_ADMIN);
    reef_pki_free(p1);
    reef_pki_free(p2);
    reef_pki_free(p3);

    /* A shorter renewal window keeps them. */
    make_dir();
    o = opts();
    o.now = now - 300 * 86400;
    reef_pki_free(ensure(&o));
    o.now = now;
    o.renew_days = 30;
    struct reef_pki *p4 = ensure(&o);
    CHECK_INT(reef_pki_changes(p4), ==, 0);
    reef_pki_free(p4);
}

static void write_text(const char *p, const char *text, mode_t mode)
{
    CHECK_OK(reef_cert_write_file(p, text, strlen(text), mode, &err), &err);
}

static void test_broken_pairs_repaired(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    reef_pki_free(ensure(&o));
    struct prints f1 = prints();

    /* A key that is not the certificate's (a crash between the two writes). */
    struct reef_key *k = NULL;
    CHECK_OK(reef_cert_key_generate(&k, &err), &err);
    CHECK_OK(reef_cert_key_save(k, path("tls/server.key"), &err), &err);
    reef_cert_key_free(k);
    struct reef_pki *p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, REEF_PKI_NEW_SERVER);
    reef_pki_free(p);

    /* A missing certificate, and garbage in one. */
    CHECK_INT(unlink(path("tls/admin.crt")), ==, 0);
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, REEF_PKI_NEW_ADMIN);
    reef_pki_free(p);
    write_text(path("tls/server.crt"), "not a certificate\n", 0644);
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, REEF_PKI_NEW_SERVER);
    reef_pki_free(p);

    /* A certificate from another CA. */
    struct reef_ca *other = NULL;
    CHECK_OK(reef_cert_ca_create("other", 10, 0, &other, &err), &err);
    CHECK_OK(reef_cert_key_generate(&k, &err), &err);
    static const char *const masters[] = {"system:masters"};
    struct reef_cert_spec spec = {
        .cn = "system:admin", .orgs = masters, .n_orgs = 1, .usage = REEF_CERT_CLIENT, .days = 365};
    struct reef_cert *c = NULL;
    CHECK_OK(reef_cert_issue(other, &spec, k, &c, &err), &err);
    char *pem = NULL;
    CHECK_OK(reef_cert_to_pem(c, &pem, NULL, &err), &err);
    write_text(path("tls/admin.crt"), pem, 0644);
    CHECK_OK(reef_cert_key_save(k, path("tls/admin.key"), &err), &err);
    free(pem);
    reef_cert_free(c);
    reef_cert_key_free(k);
    reef_cert_ca_free(other);
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, REEF_PKI_NEW_ADMIN);
    struct reef_cert *adm = load("tls/admin.crt");
    CHECK_OK(reef_cert_verify(adm, reef_cert_ca_cert(reef_pki_ca(p)), REEF_CERT_CLIENT, &err),
             &err);
    reef_cert_free(adm);
    reef_pki_free(p);
    struct prints f2 = prints();
    CHECK_STR(f1.ca, f2.ca);

    /* Keys and tokens left readable by others are tightened; nothing else changes. */
    CHECK_INT(chmod(path("tls/server.key"), 0644), ==, 0);
    CHECK_INT(chmod(path("tls/ca.key"), 0640), ==, 0);
    CHECK_INT(chmod(path("token"), 0666), ==, 0);
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, 0);
    CHECK_INT(mode_of(path("tls/server.key")), ==, 0600);
    CHECK_INT(mode_of(path("tls/ca.key")), ==, 0600);
    CHECK_INT(mode_of(path("token")), ==, 0600);
    reef_pki_free(p);
}

static void test_ca_errors(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    reef_pki_free(ensure(&o));
    struct prints f1 = prints();

    /* A CA certificate without its key: refuse rather than mint a CA nothing trusts. */
    CHECK_INT(rename(path("tls/ca.key"), path("tls/ca.key.bak")), ==, 0);
    struct reef_pki *p = NULL;
    CHECK_INT(reef_pki_ensure(&o, &p, &err), ==, -EKEYREJECTED);
    CHECK(p == NULL);
    CHECK(strstr(err.msg, "ca.key") != NULL);
    CHECK(strstr(err.msg, "ca.crt") != NULL);
    struct prints f2 = prints();
    CHECK_STR(f1.ca, f2.ca);

    /* A key that is not the CA's. */
    struct reef_key *k = NULL;
    CHECK_OK(reef_cert_key_generate(&k, &err), &err);
    CHECK_OK(reef_cert_key_save(k, path("tls/ca.key"), &err), &err);
    reef_cert_key_free(k);
    CHECK_INT(reef_pki_ensure(&o, &p, &err), <, 0);
    CHECK(strstr(err.msg, "load CA") != NULL);
    CHECK(strstr(err.msg, "ca.crt") != NULL);
    CHECK_INT(rename(path("tls/ca.key.bak"), path("tls/ca.key")), ==, 0);
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, 0);
    reef_pki_free(p);

    /* A key without a certificate is an unfinished first start: a new CA. */
    make_dir();
    CHECK_INT(mkdir(path(""), 0700), ==, 0);
    CHECK_INT(mkdir(path("tls"), 0700), ==, 0);
    CHECK_OK(reef_cert_key_generate(&k, &err), &err);
    CHECK_OK(reef_cert_key_save(k, path("tls/ca.key"), &err), &err);
    reef_cert_key_free(k);
    p = ensure(&o);
    CHECK(reef_pki_changes(p) & REEF_PKI_NEW_CA);
    reef_pki_free(p);

    /* A data dir that is a file. */
    make_dir();
    char f[128];
    snprintf(f, sizeof(f), "%s/file", dir);
    write_text(f, "x", 0644);
    o.data_dir = f;
    CHECK_INT(reef_pki_ensure(&o, &p, &err), <, 0);
    CHECK(strstr(err.msg, "file") != NULL);
    o.data_dir = "";
    CHECK_INT(reef_pki_ensure(&o, &p, &err), ==, -EINVAL);
}

static void test_bad_options(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    struct reef_pki *p = NULL;
    static const char *const bad1[] = {"ok.example", "bad name!"};
    o.tls_sans = bad1;
    o.n_tls_sans = 2;
    CHECK_INT(reef_pki_ensure(&o, &p, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "--tls-san \"bad name!\"") != NULL);
    static const char *const bad2[] = {""};
    o.tls_sans = bad2;
    o.n_tls_sans = 1;
    CHECK_INT(reef_pki_ensure(&o, &p, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "--tls-san") != NULL);
    o = opts();
    static const char *const bad_addr[] = {"999.1.1.1"};
    o.addresses = bad_addr;
    o.n_addresses = 1;
    CHECK_INT(reef_pki_ensure(&o, &p, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "999.1.1.1") != NULL);
    o = opts();
    o.service_ip = "10.43.0";
    CHECK_INT(reef_pki_ensure(&o, &p, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "service IP") != NULL);
    /* Too many SANs. */
    const char *many[REEF_CERT_MAX_NAMES + 1];
    char names[REEF_CERT_MAX_NAMES + 1][32];
    for (size_t i = 0; i < REEF_ARRAY_LEN(many); i++) {
        snprintf(names[i], sizeof(names[i]), "n%zu.example", i);
        many[i] = names[i];
    }
    o = opts();
    o.tls_sans = many;
    o.n_tls_sans = REEF_ARRAY_LEN(many);
    CHECK_INT(reef_pki_ensure(&o, &p, &err), ==, -E2BIG);
    CHECK(strstr(err.msg, "--tls-san") != NULL);
    /* A host name that is not a DNS name is left out, not fatal; a service IP may be set. */
    o = opts();
    o.hostname = "my_host name";
    o.service_ip = "10.96.0.1";
    static const char *const wild[] = {"*.Apps.Example"};
    o.tls_sans = wild;
    o.n_tls_sans = 1;
    p = ensure(&o);
    struct reef_cert *srv = load("tls/server.crt");
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(srv, &info, &err), &err);
    CHECK_INT(info.n_dns, ==, 6);
    CHECK(has(info.dns, info.n_dns, "*.apps.example"));
    CHECK(has(info.ips, info.n_ips, "10.96.0.1"));
    CHECK(!has(info.ips, info.n_ips, "10.43.0.1"));
    reef_cert_info_free(&info);
    CHECK_OK(reef_cert_check_host(srv, "web.apps.example", &err), &err);
    reef_cert_free(srv);
    reef_pki_free(p);
}

static void test_tokens(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    /* An operator pre-seeds the join secret, k3s-style. */
    CHECK_INT(mkdir(path(""), 0700), ==, 0);
    write_text(path("token"), "  s3cret-Value \n", 0600);
    struct reef_pki *p = ensure(&o);
    CHECK(reef_pki_changes(p) & REEF_PKI_NEW_JOIN_TOKEN);
    char want[200];
    snprintf(want, sizeof(want), "K10%s::server:s3cret-Value", reef_pki_ca_hash(p));
    CHECK_STR(reef_pki_join_token(p), want);
    CHECK(reef_pki_check_join_token(p, want));
    CHECK(reef_pki_check_join_token(p, "s3cret-Value"));
    CHECK(!reef_pki_check_join_token(p, "s3cret-Valuf"));
    CHECK(!reef_pki_check_join_token(p, "s3cret-Value "));
    CHECK(!reef_pki_check_join_token(p, ""));
    CHECK(!reef_pki_check_join_token(p, NULL));
    /* The full form with another CA's hash is refused. */
    char other[200];
    snprintf(other, sizeof(other), "K10%064d::server:s3cret-Value", 0);
    CHECK(!reef_pki_check_join_token(p, other));
    /* The join secret is not an admin credential, and vice versa. */
    CHECK(!reef_pki_check_token(p, "s3cret-Value"));
    CHECK(!reef_pki_check_token(p, want));
    CHECK(reef_pki_check_token(p, reef_pki_admin_token(p)));
    CHECK(!reef_pki_check_join_token(p, reef_pki_admin_token(p)));
    char tok[64];
    snprintf(tok, sizeof(tok), "%s", reef_pki_admin_token(p));
    tok[31] ^= 1;
    CHECK(!reef_pki_check_token(p, tok));
    tok[31] = '\0';
    CHECK(!reef_pki_check_token(p, tok));
    CHECK(!reef_pki_check_token(p, NULL));
    CHECK(!reef_pki_check_token(p, ""));
    reef_pki_free(p);

    /* The file now holds the full form and stays as it is. */
    char cmd[200];
    snprintf(cmd, sizeof(cmd), "cat %s", path("token"));
    char *t = run(cmd);
    char line[256];
    snprintf(line, sizeof(line), "%s\n", want);
    CHECK_STR(t, line);
    free(t);
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, 0);
    CHECK_STR(reef_pki_join_token(p), want);
    reef_pki_free(p);

    /* A token pinning another CA (the CA files were replaced) is rewritten for this CA. */
    write_text(path("token"), other, 0600);
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, REEF_PKI_NEW_JOIN_TOKEN);
    CHECK_STR(reef_pki_join_token(p), want);
    reef_pki_free(p);

    /* Malformed token files stop the start, naming the file. */
    const char *bad[] = {"K10abc", "K10abc::node:x", "two words", "K10abc::server:", "a:b"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        write_text(path("token"), bad[i], 0600);
        struct reef_pki *q = NULL;
        int r = reef_pki_ensure(&o, &q, &err);
        if (r != -EINVAL || !strstr(err.msg, "/server/token"))
            TEST_FAIL("token \"%s\": %d %s", bad[i], r, err.msg);
    }
    write_text(path("token"), want, 0600);
    write_text(path("admin-token"), "has space\n", 0600);
    CHECK_INT(reef_pki_ensure(&o, &p, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "admin-token") != NULL);
    write_text(path("admin-token"), "operator-chosen:token\n", 0600);
    p = ensure(&o);
    CHECK_STR(reef_pki_admin_token(p), "operator-chosen:token");
    CHECK(reef_pki_check_token(p, "operator-chosen:token"));
    reef_pki_free(p);
}

/* Without explicit addresses, every up, non-loopback, non-link-local address is a SAN. */
static void test_interface_addresses(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    o.addresses = NULL;
    o.n_addresses = 0;
    o.hostname = NULL;
    struct reef_pki *p = ensure(&o);
    struct reef_cert *srv = load("tls/server.crt");
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(srv, &info, &err), &err);
    struct ifaddrs *ifs = NULL;
    CHECK_INT(getifaddrs(&ifs), ==, 0);
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        char text[INET6_ADDRSTRLEN];
        if (i->ifa_addr->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, text, sizeof(text));
            if (!has(info.ips, info.n_ips, text))
                TEST_FAIL("address %s of %s missing", text, i->ifa_name);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
            inet_ntop(AF_INET6, a, text, sizeof(text));
            if (IN6_IS_ADDR_LINKLOCAL(a)) {
                CHECK(!has(info.ips, info.n_ips, text));
            } else if (!has(info.ips, info.n_ips, text)) {
                TEST_FAIL("address %s of %s missing", text, i->ifa_name);
            }
        }
    }
    freeifaddrs(ifs);
    /* Loopback only as 127.0.0.1 and ::1, each once. */
    size_t loop = 0;
    for (size_t i = 0; i < info.n_ips; i++)
        if (reef_str_has_prefix(info.ips[i], "127.") || strcmp(info.ips[i], "::1") == 0)
            loop++;
    CHECK_INT(loop, ==, 2);
    char host[256];
    CHECK_INT(gethostname(host, sizeof(host)), ==, 0);
    for (char *c = host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    CHECK(has(info.dns, info.n_dns, host));
    reef_cert_info_free(&info);
    reef_cert_free(srv);
    reef_pki_free(p);
    /* Stable: the same machine gives the same certificate. */
    p = ensure(&o);
    CHECK_INT(reef_pki_changes(p), ==, 0);
    reef_pki_free(p);
}

static void move(struct reef_tls *from, struct reef_tls *to)
{
    struct reef_buf *o = reef_tls_out(from);
    if (o->len) {
        CHECK_INT(reef_tls_feed(to, o->data, o->len), ==, 0);
        reef_buf_reset(o);
    }
}

/* The material works for what it is for: a TLS server with the serving certificate and the CA
 * as client CA, and a client holding the CA and the admin certificate, reaching it by the
 * addresses and names kubectl and pods use. */
static void test_tls_handshake(void)
{
    make_dir();
    struct reef_pki_opts o = opts();
    struct reef_pki *p = ensure(&o);
    struct reef_tls_server_opts so;
    reef_pki_tls_server_opts(p, &so);
    struct reef_tls_config *sc = reef_tls_config_server_new(&so, &err);
    if (!sc)
        TEST_FAIL("server config: %s", err.msg);
    struct reef_tls_client_opts co = {.ca_pem = reef_pki_ca_pem(p),
                                      .cert_pem = reef_pki_admin_cert_pem(p),
                                      .key_pem = reef_pki_admin_key_pem(p)};
    struct reef_tls_config *cc = reef_tls_config_client_new(&co, &err);
    if (!cc)
        TEST_FAIL("client config: %s", err.msg);
    const char *hosts[] = {"127.0.0.1", "kubernetes.default.svc", "10.43.0.1", "node-1"};
    for (size_t h = 0; h < REEF_ARRAY_LEN(hosts); h++) {
        struct reef_err cerr = {0}, serr = {0};
        struct reef_tls *s = reef_tls_new(sc, NULL, &serr);
        struct reef_tls *c = reef_tls_new(cc, hosts[h], &cerr);
        CHECK(s && c);
        int rc = 0, rs = 0;
        for (int i = 0; i < 50 && (rc == 0 || rs == 0) && rc >= 0 && rs >= 0; i++) {
            if (rc == 0)
                rc = reef_tls_handshake(c, &cerr);
            move(c, s);
            if (rs == 0)
                rs = reef_tls_handshake(s, &serr);
            move(s, c);
        }
        if (rc != 1 || rs != 1)
            TEST_FAIL("%s: client %d %s / server %d %s", hosts[h], rc, cerr.msg, rs, serr.msg);
        CHECK(reef_tls_peer_verified(s));
        CHECK_STR(reef_tls_peer_cn(s), "system:admin");
        CHECK_STR(reef_tls_peer_o(s, 0), "system:masters");
        reef_tls_free(c);
        reef_tls_free(s);
    }
    /* A name the certificate does not carry is refused by the client. */
    struct reef_err cerr = {0}, serr = {0};
    struct reef_tls *s = reef_tls_new(sc, NULL, &serr);
    struct reef_tls *c = reef_tls_new(cc, "elsewhere.example", &cerr);
    int rc = 0;
    for (int i = 0; i < 50 && rc == 0; i++) {
        rc = reef_tls_handshake(c, &cerr);
        move(c, s);
        if (reef_tls_handshake(s, &serr) < 0)
            break;
        move(s, c);
    }
    CHECK_INT(rc, <, 0);
    reef_tls_free(c);
    reef_tls_free(s);
    reef_tls_config_unref(sc);
    reef_tls_config_unref(cc);
    reef_pki_free(p);
}

/* ---- kubectl against a TLS server made from the material ------------------------------------ */

/* A minimal API endpoint: /version as kube-api.md says (the kubectl dispatcher asks it first)
 * and /whoami, which tells how the request authenticated: by a client certificate that verified
 * against the CA, or by the admin bearer token. Anything else is 401. */
static void api_handler(void *ud, struct reef_http_req *req, struct reef_http_res *res)
{
    const struct reef_pki *pki = ud;
    const char *auth = reef_http_req_header(req, "Authorization");
    char who[256] = "";
    if (req->peer_verified)
        snprintf(who, sizeof(who), "cert %s %s", req->peer_cn,
                 req->peer_orgs[0] ? req->peer_orgs[0] : "-");
    else if (auth && reef_str_has_prefix(auth, "Bearer ") &&
             reef_pki_check_token(pki, auth + strlen("Bearer ")))
        snprintf(who, sizeof(who), "token admin");
    if (!who[0]) {
        static const char status[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
                                     "\"Failure\",\"message\":\"Unauthorized\",\"reason\":"
                                     "\"Unauthorized\",\"code\":401}";
        reef_http_res_send(res, 401, "application/json", status, strlen(status));
        return;
    }
    char body[512];
    if (strcmp(req->path, "/version") == 0)
        snprintf(body, sizeof(body),
                 "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":"
                 "\"v1.32.0\",\"platform\":\"linux/amd64\"}");
    else if (strcmp(req->path, "/whoami") == 0)
        snprintf(body, sizeof(body), "{\"who\":\"%s\"}", who);
    else
        snprintf(body, sizeof(body), "{}");
    reef_http_res_send(res, 200, "application/json", body, strlen(body));
}

struct api {
    pthread_t th;
    uv_loop_t loop;
    uv_async_t stop;
    struct reef_http_server *s;
    struct reef_tls_config *tls;
    struct reef_pki *pki;
    int ready[2];
    int port;
};

static void api_closed(void *ud)
{
    struct api *a = ud;
    reef_http_server_free(a->s);
    a->s = NULL;
}

static void api_stop(uv_async_t *h)
{
    struct api *a = h->data;
    uv_close((uv_handle_t *)&a->stop, NULL);
    reef_http_server_shutdown(a->s, 0, api_closed, a);
}

static void *api_main(void *arg)
{
    struct api *a = arg;
    struct reef_err e = {0};
    struct reef_http_server_opts o = {
        .addr = "127.0.0.1", .tls = a->tls, .handler = api_handler, .ud = a->pki};
    a->s = reef_http_server_new(&a->loop, &o, &e);
    if (!a->s) {
        fprintf(stderr, "server: %s\n", e.msg);
        exit(1);
    }
    a->port = reef_http_server_port(a->s);
    (void)!write(a->ready[1], "x", 1);
    uv_run(&a->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&a->loop), ==, 0);
    return NULL;
}

/* kubectl's answer for /whoami with kubeconfig kc, or NULL when it failed (its stderr in why). */
static char *kubectl_whoami(const char *kc, char *why, size_t why_size)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "env -u KUBECONFIG HOME=%s kubectl --kubeconfig %s --cache-dir %s/cache "
             "--request-timeout 10s get --raw /whoami 2>%s/stderr",
             dir, kc, dir, dir);
    FILE *f = popen(cmd, "r");
    CHECK(f != NULL);
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        CHECK_INT(reef_buf_append(&b, chunk, n), ==, 0);
    int st = pclose(f);
    snprintf(cmd, sizeof(cmd), "%s/stderr", dir);
    FILE *ef = fopen(cmd, "r");
    size_t m = ef ? fread(why, 1, why_size - 1, ef) : 0;
    why[m] = '\0';
    if (ef)
        fclose(ef);
    if (st != 0) {
        reef_buf_free(&b);
        return NULL;
    }
    return b.data ? reef_buf_steal(&b) : strdup("");
}

/* The real kubectl (Go's TLS stack) accepts the serving certificate by IP and by name, presents
 * the admin certificate, which the server maps to system:admin in system:masters, and a token
 * kubeconfig works too; a wrong token and a foreign CA fail. */
static void test_kubectl_over_tls(void)
{
    if (system("command -v kubectl >/dev/null 2>&1") != 0)
        TEST_FAIL("kubectl is not installed");
    signal(SIGPIPE, SIG_IGN);
    make_dir();
    struct reef_pki_opts o = opts();
    struct api a = {0};
    a.pki = ensure(&o);
    struct reef_tls_server_opts to;
    reef_pki_tls_server_opts(a.pki, &to);
    a.tls = reef_tls_config_server_new(&to, &err);
    if (!a.tls)
        TEST_FAIL("tls: %s", err.msg);
    CHECK_INT(uv_loop_init(&a.loop), ==, 0);
    CHECK_INT(uv_async_init(&a.loop, &a.stop, api_stop), ==, 0);
    a.stop.data = &a;
    CHECK_INT(pipe(a.ready), ==, 0);
    CHECK_INT(pthread_create(&a.th, NULL, api_main, &a), ==, 0);
    char c;
    CHECK_INT(read(a.ready[0], &c, 1), ==, 1);

    char server[64], kc[160], why[2048];
    struct {
        const char *host, *token, *want;
    } cases[] = {
        {"127.0.0.1", NULL, "{\"who\":\"cert system:admin system:masters\"}"},
        {"localhost", NULL, "{\"who\":\"cert system:admin system:masters\"}"},
        {"127.0.0.1", reef_pki_admin_token(a.pki), "{\"who\":\"token admin\"}"},
    };
    snprintf(kc, sizeof(kc), "%s/kc.yaml", dir);
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        snprintf(server, sizeof(server), "https://%s:%d", cases[i].host, a.port);
        struct reef_kubeconfig_write_opts ko = {
            .path = kc,
            .server = server,
            .ca_pem = reef_pki_ca_pem(a.pki),
            .cert_pem = cases[i].token ? NULL : reef_pki_admin_cert_pem(a.pki),
            .key_pem = cases[i].token ? NULL : reef_pki_admin_key_pem(a.pki),
            .token = cases[i].token,
        };
        CHECK_OK(reef_kubeconfig_write(&ko, &err), &err);
        char *out = kubectl_whoami(kc, why, sizeof(why));
        if (!out)
            TEST_FAIL("kubectl via %s: %s", server, why);
        CHECK_STR(out, cases[i].want);
        free(out);
    }

    /* A wrong token: the server says 401 and kubectl fails. */
    snprintf(server, sizeof(server), "https://127.0.0.1:%d", a.port);
    struct reef_kubeconfig_write_opts ko = {
        .path = kc, .server = server, .ca_pem = reef_pki_ca_pem(a.pki), .token = "wrong"};
    CHECK_OK(reef_kubeconfig_write(&ko, &err), &err);
    char *out = kubectl_whoami(kc, why, sizeof(why));
    CHECK(out == NULL);
    if (!strstr(why, "Unauthorized"))
        TEST_FAIL("kubectl with a wrong token: %s", why);

    /* Another cluster's CA: kubectl refuses the server. */
    struct reef_ca *other = NULL;
    char *other_pem = NULL;
    CHECK_OK(reef_cert_ca_create("other", 10, 0, &other, &err), &err);
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(other), &other_pem, NULL, &err), &err);
    ko.ca_pem = other_pem;
    ko.token = reef_pki_admin_token(a.pki);
    CHECK_OK(reef_kubeconfig_write(&ko, &err), &err);
    out = kubectl_whoami(kc, why, sizeof(why));
    CHECK(out == NULL);
    if (!strstr(why, "certificate"))
        TEST_FAIL("kubectl trusting another CA: %s", why);
    free(other_pem);
    reef_cert_ca_free(other);

    CHECK_INT(uv_async_send(&a.stop), ==, 0);
    CHECK_INT(pthread_join(a.th, NULL), ==, 0);
    close(a.ready[0]);
    close(a.ready[1]);
    reef_tls_config_unref(a.tls);
    reef_pki_free(a.pki);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_first_start);
    TEST_RUN(test_openssl_agrees);
    TEST_RUN(test_restart_reuses);
    TEST_RUN(test_new_san_reissues_server_only);
    TEST_RUN(test_near_expiry_reissues);
    TEST_RUN(test_clock_injection);
    TEST_RUN(test_broken_pairs_repaired);
    TEST_RUN(test_ca_errors);
    TEST_RUN(test_bad_options);
    TEST_RUN(test_tokens);
    TEST_RUN(test_interface_addresses);
    TEST_RUN(test_tls_handshake);
    TEST_RUN(test_kubectl_over_tls);
    return test_done();
}
