/* Tests for orchestrate/pki's material on disk: first start, restarts, re-issue on new names and
 * interface addresses, near expiry and broken pairs, modes, errors, and names cross-checked with
 * the openssl tool. Tokens and the material in use over TLS are tested in test_pki_tls.c. */

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
#include "tests/unit/pki_fixture.h"
#include "tests/unit/test.h"

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
    TEST_RUN(test_interface_addresses);
    return test_done();
}
