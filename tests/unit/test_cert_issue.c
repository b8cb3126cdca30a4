/* Tests for core/cert: issued server and client certificates, verification failures, PEM/DER
 * round trips, fingerprints, threads and speed, checked independently with the openssl
 * command-line tool (a listed test dependency: its absence fails the test rather than skipping
 * it). Keys and the CA are tested in test_cert.c. */

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "core/buf.h"
#include "core/cert.h"
#include "core/crypto.h"
#include "tests/unit/cert_fixture.h"
#include "tests/unit/test.h"

/* ---- issuing --------------------------------------------------------------------------------- */

static void test_server_cert(void)
{
    make_tmpdir();
    struct reef_err err = {0};
    struct reef_ca *ca = new_ca("reef-ca");
    struct reef_cert_spec spec = server_spec();
    time_t now = time(NULL);
    spec.now = now;
    struct reef_key *key;
    struct reef_cert *c = issue(ca, &spec, &key);

    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(c, &info, &err), &err);
    CHECK_STR(info.cn, "reef-server");
    CHECK_INT(info.n_orgs, ==, 0);
    CHECK_INT(info.n_dns, ==, 4);
    for (size_t i = 0; i < 4; i++)
        CHECK_STR(info.dns[i], server_dns[i]);
    CHECK_INT(info.n_ips, ==, 4);
    for (size_t i = 0; i < 4; i++)
        CHECK_STR(info.ips[i], server_ips[i]);
    CHECK_INT(info.usage, ==, REEF_CERT_SERVER);
    CHECK(!info.is_ca);
    CHECK_INT(info.not_before, ==, now - 3600);
    CHECK_INT(info.not_after, ==, now + 365L * 86400);
    /* 128-bit positive serial: 16 bytes, top bit clear. */
    CHECK_INT(strlen(info.serial), ==, 32);
    CHECK(strchr("01234567", info.serial[0]) != NULL);
    CHECK(strncmp(info.serial, "00", 2) != 0);
    char first_serial[65];
    strcpy(first_serial, info.serial);
    reef_cert_info_free(&info);
    reef_cert_info_free(&info); /* idempotent */

    /* A second certificate gets another serial. */
    struct reef_cert *c2 = issue(ca, &spec, NULL);
    CHECK_OK(reef_cert_inspect(c2, &info, &err), &err);
    CHECK(strcmp(info.serial, first_serial) != 0);
    reef_cert_info_free(&info);
    reef_cert_free(c2);

    /* Verification and usage. */
    CHECK_OK(reef_cert_verify(c, reef_cert_ca_cert(ca), 0, &err), &err);
    CHECK_OK(reef_cert_verify(c, reef_cert_ca_cert(ca), REEF_CERT_SERVER, &err), &err);
    CHECK_INT(reef_cert_verify(c, reef_cert_ca_cert(ca), REEF_CERT_CLIENT, &err), ==,
              -EKEYREJECTED);
    check_contains(err.msg, "client");

    /* Host names. */
    CHECK_OK(reef_cert_check_host(c, "reef.local", &err), &err);
    CHECK_OK(reef_cert_check_host(c, "REEF.Local.", &err), &err);
    CHECK_OK(reef_cert_check_host(c, "web.svc.cluster.local", &err), &err);
    CHECK_OK(reef_cert_check_host(c, "10.43.0.1", &err), &err);
    CHECK_OK(reef_cert_check_host(c, "::1", &err), &err);
    CHECK_OK(reef_cert_check_host(c, "[::1]", &err), &err);
    CHECK_OK(reef_cert_check_host(c, "fd00:10:0::0:1", &err), &err);
    CHECK_INT(reef_cert_check_host(c, "a.b.svc.cluster.local", &err), ==, -EKEYREJECTED);
    CHECK_INT(reef_cert_check_host(c, "svc.cluster.local", &err), ==, -EKEYREJECTED);
    CHECK_INT(reef_cert_check_host(c, "reef-server", &err), ==, -EKEYREJECTED); /* CN ignored */
    CHECK_INT(reef_cert_check_host(c, "10.43.0.2", &err), ==, -EKEYREJECTED);
    check_contains(err.msg, "IP address 10.43.0.2");
    CHECK_INT(reef_cert_check_host(c, "evil.local", &err), ==, -EKEYREJECTED);
    CHECK_INT(reef_cert_check_host(c, "reef.localx", &err), ==, -EKEYREJECTED);
    CHECK_INT(reef_cert_check_host(c, "", &err), ==, -EKEYREJECTED);
    CHECK_INT(reef_cert_check_host(c, ".", &err), ==, -EKEYREJECTED);
    CHECK_INT(reef_cert_check_host(c, "*.svc.cluster.local", &err), ==, -EKEYREJECTED);

    /* openssl's view. */
    save_cert(reef_cert_ca_cert(ca), path_in("ca.crt"));
    save_cert(c, path_in("server.crt"));
    char *out, *ca_text;
    CHECK_INT(OPENSSL(&out, "verify", "-CAfile", path_in("ca.crt"), "-purpose", "sslserver",
                      path_in("server.crt")),
              ==, 0);
    check_contains(out, "server.crt: OK");
    free(out);
    CHECK(OPENSSL(&out, "verify", "-CAfile", path_in("ca.crt"), "-purpose", "sslclient",
                  path_in("server.crt")) != 0);
    free(out);
    CHECK_INT(OPENSSL(&out, "x509", "-noout", "-text", "-in", path_in("server.crt")), ==, 0);
    check_contains(out, "Subject: CN = reef-server");
    check_contains(out, "Issuer: CN = reef-ca");
    check_contains(out, "DNS:reef.local, DNS:*.svc.cluster.local, DNS:localhost, "
                        "DNS:kubernetes.default.svc, IP Address:10.43.0.1, "
                        "IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, "
                        "IP Address:FD00:10:0:0:0:0:0:1");
    check_contains(out,
                   "X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n");
    check_contains(out, "X509v3 Key Usage: critical\n                Digital Signature\n");
    check_contains(out, "CA:FALSE");
    check_contains(out, "Public Key Algorithm: id-ecPublicKey");
    check_contains(out, "NIST CURVE: P-256");
    check_contains(out, "X509v3 Authority Key Identifier");
    /* The authority key id is the CA's subject key id. */
    CHECK_INT(OPENSSL(&ca_text, "x509", "-noout", "-ext", "subjectKeyIdentifier", "-in",
                      path_in("ca.crt")),
              ==, 0);
    char *ski = strstr(ca_text, "\n    ");
    CHECK(ski != NULL);
    ski += 5;
    ski[strcspn(ski, "\n")] = '\0';
    CHECK_INT(strlen(ski), >=, 20);
    check_contains(out, ski);
    free(ca_text);
    free(out);

    /* The private key belongs to the certificate. */
    CHECK_OK(reef_cert_key_save(key, path_in("server.key"), &err), &err);
    char *m1, *m2;
    CHECK_INT(OPENSSL(&m1, "x509", "-noout", "-pubkey", "-in", path_in("server.crt")), ==, 0);
    CHECK_INT(OPENSSL(&m2, "pkey", "-pubout", "-in", path_in("server.key")), ==, 0);
    CHECK_STR(m1, m2);
    free(m1);
    free(m2);

    reef_cert_key_free(key);
    reef_cert_free(c);
    reef_cert_ca_free(ca);
    remove_tmpdir();
}

static void test_client_cert(void)
{
    make_tmpdir();
    struct reef_err err = {0};
    struct reef_ca *ca = new_ca("reef-client-ca");
    struct reef_cert_spec spec = client_spec();
    struct reef_cert *c = issue(ca, &spec, NULL);
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(c, &info, &err), &err);
    CHECK_STR(info.cn, "admin");
    CHECK_INT(info.n_orgs, ==, 2);
    CHECK_STR(info.orgs[0], "system:masters");
    CHECK_STR(info.orgs[1], "reef:admins");
    CHECK_INT(info.n_dns + info.n_ips, ==, 0);
    CHECK_INT(info.usage, ==, REEF_CERT_CLIENT);
    CHECK_INT(info.not_after - info.not_before, ==, 30L * 86400 + 3600);
    reef_cert_info_free(&info);
    CHECK_OK(reef_cert_verify(c, reef_cert_ca_cert(ca), REEF_CERT_CLIENT, &err), &err);
    CHECK_INT(reef_cert_verify(c, reef_cert_ca_cert(ca), REEF_CERT_SERVER, &err), ==,
              -EKEYREJECTED);
    CHECK_INT(reef_cert_check_host(c, "admin", &err), ==, -EKEYREJECTED);

    save_cert(reef_cert_ca_cert(ca), path_in("ca.crt"));
    save_cert(c, path_in("admin.crt"));
    char *out;
    CHECK_INT(OPENSSL(&out, "verify", "-CAfile", path_in("ca.crt"), "-purpose", "sslclient",
                      path_in("admin.crt")),
              ==, 0);
    free(out);
    CHECK_INT(OPENSSL(&out, "x509", "-noout", "-text", "-in", path_in("admin.crt")), ==, 0);
    /* Both O values survive, in order, with the CN last (the Kubernetes layout). */
    check_contains(out, "Subject: O = system:masters, O = reef:admins, CN = admin");
    check_contains(out, "TLS Web Client Authentication");
    CHECK(strstr(out, "Subject Alternative Name") == NULL);
    free(out);

    /* A certificate for both ends of a connection (reef peers). */
    spec.usage = REEF_CERT_SERVER | REEF_CERT_CLIENT;
    spec.dns = server_dns;
    spec.n_dns = 1;
    reef_cert_free(c);
    c = issue(ca, &spec, NULL);
    CHECK_OK(reef_cert_inspect(c, &info, &err), &err);
    CHECK_INT(info.usage, ==, REEF_CERT_SERVER | REEF_CERT_CLIENT);
    reef_cert_info_free(&info);
    CHECK_OK(reef_cert_verify(c, reef_cert_ca_cert(ca), REEF_CERT_SERVER | REEF_CERT_CLIENT, &err),
             &err);
    save_cert(c, path_in("peer.crt"));
    CHECK_INT(OPENSSL(&out, "x509", "-noout", "-text", "-in", path_in("peer.crt")), ==, 0);
    check_contains(out, "TLS Web Server Authentication, TLS Web Client Authentication");
    free(out);

    reef_cert_free(c);
    reef_cert_ca_free(ca);
    remove_tmpdir();
}

static void test_verify_failures(void)
{
    make_tmpdir();
    struct reef_err err = {0};
    struct reef_ca *ca = new_ca("reef-ca");
    /* Same name, different key: only the signature tells them apart. */
    struct reef_ca *impostor = new_ca("reef-ca");
    struct reef_ca *other = new_ca("other-ca");
    struct reef_cert_spec spec = server_spec();
    struct reef_cert *c = issue(ca, &spec, NULL);

    CHECK_INT(reef_cert_verify(c, reef_cert_ca_cert(impostor), 0, &err), ==, -EKEYREJECTED);
    check_contains(err.msg, "not trusted");
    check_contains(err.msg, "not correctly signed");
    CHECK_INT(reef_cert_verify(c, reef_cert_ca_cert(other), 0, &err), ==, -EKEYREJECTED);
    /* A CA certificate is not trusted by another CA either. */
    CHECK_INT(reef_cert_verify(reef_cert_ca_cert(ca), reef_cert_ca_cert(other), 0, &err), ==,
              -EKEYREJECTED);

    save_cert(c, path_in("server.crt"));
    save_cert(reef_cert_ca_cert(impostor), path_in("impostor.crt"));
    char *out;
    CHECK(OPENSSL(&out, "verify", "-CAfile", path_in("impostor.crt"), path_in("server.crt")) != 0);
    check_contains(out, "verification failed");
    free(out);

    /* Expired: issued 10 days ago for 1 day. */
    spec.now = time(NULL) - 10 * 86400;
    spec.days = 1;
    struct reef_cert *old = issue(ca, &spec, NULL);
    CHECK_INT(reef_cert_verify(old, reef_cert_ca_cert(ca), 0, &err), ==, -EKEYEXPIRED);
    check_contains(err.msg, "expired");
    save_cert(old, path_in("old.crt"));
    save_cert(reef_cert_ca_cert(ca), path_in("ca.crt"));
    CHECK(OPENSSL(&out, "verify", "-CAfile", path_in("ca.crt"), path_in("old.crt")) != 0);
    check_contains(out, "certificate has expired");
    free(out);

    /* Not yet valid: issued for a time two days ahead (beyond the one-hour backdate). */
    spec.now = time(NULL) + 2 * 86400;
    struct reef_cert *future = issue(ca, &spec, NULL);
    CHECK_INT(reef_cert_verify(future, reef_cert_ca_cert(ca), 0, &err), ==, -EKEYEXPIRED);
    check_contains(err.msg, "future");

    /* Just issued: the backdate makes it valid now even with the issuer's clock 30 min ahead. */
    spec.now = time(NULL) + 1800;
    struct reef_cert *skewed = issue(ca, &spec, NULL);
    CHECK_OK(reef_cert_verify(skewed, reef_cert_ca_cert(ca), 0, &err), &err);

    /* Both wrong signer and expired: rejected, not merely "expired". */
    CHECK_INT(reef_cert_verify(old, reef_cert_ca_cert(other), 0, &err), ==, -EKEYREJECTED);

    /* An expired CA does not vouch for anything. */
    struct reef_ca *dead;
    CHECK_OK(reef_cert_ca_create("dead-ca", 1, time(NULL) - 5 * 86400, &dead, &err), &err);
    spec = server_spec();
    struct reef_cert *orphan = issue(dead, &spec, NULL);
    CHECK(reef_cert_verify(orphan, reef_cert_ca_cert(dead), 0, &err) < 0);

    reef_cert_free(c);
    reef_cert_free(old);
    reef_cert_free(future);
    reef_cert_free(skewed);
    reef_cert_free(orphan);
    reef_cert_ca_free(ca);
    reef_cert_ca_free(impostor);
    reef_cert_ca_free(other);
    reef_cert_ca_free(dead);
    remove_tmpdir();
}

static void test_issue_rejects(void)
{
    struct reef_err err = {0};
    struct reef_ca *ca = new_ca("reef-ca");
    struct reef_key *key;
    struct reef_cert *c = (struct reef_cert *)1;
    CHECK_OK(reef_cert_key_generate(&key, &err), &err);
    struct reef_cert_spec spec;

#define REJECT(field_change, msg_part)                                                             \
    do {                                                                                           \
        spec = server_spec();                                                                      \
        field_change;                                                                              \
        CHECK_INT(reef_cert_issue(ca, &spec, key, &c, &err), ==, -EINVAL);                         \
        CHECK(c == NULL);                                                                          \
        check_contains(err.msg, msg_part);                                                         \
    } while (0)

    REJECT(spec.cn = "", "empty CN");
    REJECT(spec.cn = NULL, "empty CN");
    const char *empty_org[] = {"ok", ""};
    REJECT((spec.orgs = empty_org, spec.n_orgs = 2), "empty O");
    static char long_cn[400];
    memset(long_cn, 'x', sizeof(long_cn) - 1);
    REJECT(spec.cn = long_cn, "longer than");
    REJECT(spec.days = 0, "lifetime");
    REJECT(spec.days = REEF_CERT_MAX_DAYS + 1, "lifetime");
    REJECT(spec.usage = 0, "usage");
    REJECT(spec.usage = 4, "usage");
    REJECT(spec.now = 10, "issue time");
    const char *bad_ips[][1] = {{"10.0.0.256"}, {"[::1]"},    {"1.2.3"},
                                {""},           {"::1%eth0"}, {"10.0.0.1 "}};
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad_ips); i++)
        REJECT((spec.ips = bad_ips[i], spec.n_ips = 1), "invalid IP address");
    static char long_label[80], long_name[300];
    memset(long_label, 'a', 64);
    for (int i = 0; i < 299; i++)
        long_name[i] = i % 50 == 49 ? '.' : 'a';
    const char *bad_dns[][1] = {{"a..b"},           {".a"},       {"a."},      {"exa mple.com"},
                                {"a*.b"},           {"*"},        {"*."},      {""},
                                {"ex\xc3\xa4mple"}, {long_label}, {long_name}, {"a.*.b"}};
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad_dns); i++)
        REJECT((spec.dns = bad_dns[i], spec.n_dns = 1), "invalid DNS name");
    static const char *many[REEF_CERT_MAX_NAMES + 1];
    for (size_t i = 0; i < REEF_ARRAY_LEN(many); i++)
        many[i] = "a.example";
    REJECT((spec.dns = many, spec.n_dns = REEF_ARRAY_LEN(many)), "more than");

    /* The maximum is fine, and long names make a large certificate that still parses. */
    static char names[REEF_CERT_MAX_NAMES][64];
    static const char *ok[REEF_CERT_MAX_NAMES];
    for (int i = 0; i < REEF_CERT_MAX_NAMES; i++) {
        snprintf(names[i], sizeof(names[i]), "host-%03d.a-rather-long-domain-name.example", i);
        ok[i] = names[i];
    }
    spec = server_spec();
    spec.dns = ok;
    spec.n_dns = REEF_CERT_MAX_NAMES;
    CHECK_OK(reef_cert_issue(ca, &spec, key, &c, &err), &err);
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(c, &info, &err), &err);
    CHECK_INT(info.n_dns, ==, REEF_CERT_MAX_NAMES);
    CHECK_STR(info.dns[255], names[255]);
    reef_cert_info_free(&info);
    size_t der_len;
    reef_cert_der(c, &der_len);
    CHECK(der_len > 4096);
    reef_cert_free(c);
    reef_cert_key_free(key);
    reef_cert_ca_free(ca);
}

/* ---- PEM, DER, fingerprints ------------------------------------------------------------------ */

static void test_cert_pem_roundtrip(void)
{
    make_tmpdir();
    struct reef_err err = {0};
    struct reef_ca *ca = new_ca("reef-ca");
    struct reef_cert_spec spec = server_spec();
    struct reef_cert *c = issue(ca, &spec, NULL), *c2, *c3;
    char *pem, *pem2;
    size_t len, len2;
    CHECK_OK(reef_cert_to_pem(c, &pem, &len, &err), &err);
    CHECK_INT(len, ==, strlen(pem));
    CHECK(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
    CHECK(strcmp(pem + len - 26, "-----END CERTIFICATE-----\n") == 0);
    /* 64-column base64 lines, like openssl writes them. */
    for (const char *line = strchr(pem, '\n') + 1; *line != '-'; line = strchr(line, '\n') + 1)
        CHECK(strcspn(line, "\n") <= 64);
    CHECK_OK(reef_cert_from_pem(&c2, pem, len, &err), &err);
    CHECK_OK(reef_cert_to_pem(c2, &pem2, &len2, &err), &err);
    CHECK_STR(pem, pem2);
    free(pem2);

    /* Byte-identical to openssl's rendering of the same certificate. */
    write_text(path_in("c.pem"), pem);
    char *out;
    CHECK_INT(OPENSSL(&out, "x509", "-in", path_in("c.pem")), ==, 0);
    CHECK_STR(out, pem);
    free(out);

    /* Fingerprint = SHA-256 of the DER = what openssl prints. */
    char fp[REEF_SHA256_HEX_LEN + 1], fp2[REEF_SHA256_HEX_LEN + 1];
    reef_cert_fingerprint(c, fp);
    reef_cert_fingerprint(c2, fp2);
    CHECK_STR(fp, fp2);
    CHECK_INT(OPENSSL(&out, "x509", "-noout", "-fingerprint", "-sha256", "-in", path_in("c.pem")),
              ==, 0);
    char want[REEF_SHA256_HEX_LEN + 1];
    size_t w = 0;
    for (const char *p = strchr(out, '=') + 1; *p && *p != '\n'; p++)
        if (*p != ':')
            want[w++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    want[w] = '\0';
    CHECK_STR(fp, want);
    free(out);

    /* DER in and out. */
    size_t der_len;
    const unsigned char *der = reef_cert_der(c, &der_len);
    CHECK_OK(reef_cert_from_der(&c3, der, der_len, &err), &err);
    reef_cert_fingerprint(c3, fp2);
    CHECK_STR(fp, fp2);
    reef_cert_free(c3);
    CHECK_INT(reef_cert_from_der(&c3, der, der_len - 1, &err), ==, -EINVAL);
    CHECK(c3 == NULL);
    reef_cert_free(c2);

    /* A bundle keeps every certificate, in order. */
    char *ca_pem;
    size_t ca_len;
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(ca), &ca_pem, &ca_len, &err), &err);
    struct reef_buf bundle = REEF_BUF_INIT;
    reef_buf_puts(&bundle, pem);
    reef_buf_puts(&bundle, ca_pem);
    CHECK_OK(reef_cert_from_pem(&c2, bundle.data, bundle.len, &err), &err);
    CHECK_OK(reef_cert_to_pem(c2, &pem2, &len2, &err), &err);
    CHECK_STR(pem2, bundle.data);
    reef_cert_fingerprint(c2, fp2);
    CHECK_STR(fp, fp2); /* the first one is "the" certificate */
    free(pem2);
    reef_cert_free(c2);
    /* A bundle of CAs as the trust store. */
    struct reef_ca *other = new_ca("other");
    char *other_pem;
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(other), &other_pem, NULL, &err), &err);
    struct reef_buf trust = REEF_BUF_INIT;
    reef_buf_puts(&trust, other_pem);
    reef_buf_puts(&trust, ca_pem);
    CHECK_OK(reef_cert_from_pem(&c2, trust.data, trust.len, &err), &err);
    CHECK_OK(reef_cert_verify(c, c2, REEF_CERT_SERVER, &err), &err);
    reef_cert_free(c2);

    /* Rejections: no block, corrupted body, truncated, a key instead of a certificate, and one bad
     * certificate in a bundle. */
    CHECK_INT(reef_cert_from_pem(&c2, "", 0, &err), ==, -EINVAL);
    CHECK_INT(reef_cert_from_pem(&c2, "hello", 5, &err), ==, -EINVAL);
    check_contains(err.msg, "no CERTIFICATE PEM block");
    /* A flipped bit inside the signed part still parses but no longer verifies. */
    char *bad = strdup(pem);
    bad[100] = bad[100] == 'A' ? 'B' : 'A';
    CHECK_OK(reef_cert_from_pem(&c2, bad, len, &err), &err);
    CHECK_INT(reef_cert_verify(c2, reef_cert_ca_cert(ca), 0, &err), ==, -EKEYREJECTED);
    reef_cert_free(c2);
    bad[100] = '!';
    CHECK_INT(reef_cert_from_pem(&c2, bad, len, &err), ==, -EINVAL);
    free(bad);
    CHECK_INT(reef_cert_from_pem(&c2, pem, len - 40, &err), ==, -EINVAL);
    struct reef_key *k;
    char *kpem;
    CHECK_OK(reef_cert_key_generate(&k, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(k, &kpem, &err), &err);
    CHECK_INT(reef_cert_from_pem(&c2, kpem, strlen(kpem), &err), ==, -EINVAL);
    reef_buf_reset(&bundle);
    reef_buf_puts(&bundle, pem);
    reef_buf_puts(&bundle, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    CHECK_INT(reef_cert_from_pem(&c2, bundle.data, bundle.len, &err), ==, -EINVAL);
    CHECK(c2 == NULL);

    /* From a file; a too-large file is refused before parsing. */
    CHECK_OK(reef_cert_load(&c2, path_in("c.pem"), &err), &err);
    reef_cert_free(c2);
    FILE *f = fopen(path_in("big.pem"), "w");
    CHECK(f != NULL);
    for (size_t n = 0; n <= REEF_CERT_MAX_PEM; n += len)
        fputs(pem, f);
    fclose(f);
    CHECK_INT(reef_cert_load(&c2, path_in("big.pem"), &err), ==, -EFBIG);

    free(kpem);
    reef_cert_key_free(k);
    free(pem);
    free(ca_pem);
    free(other_pem);
    reef_buf_free(&bundle);
    reef_buf_free(&trust);
    reef_cert_free(c);
    reef_cert_ca_free(ca);
    reef_cert_ca_free(other);
    remove_tmpdir();
}

static void test_join_token_hash(void)
{
    make_tmpdir();
    struct reef_err err = {0};
    struct reef_ca *ca = new_ca("reef-server-ca");
    char *pem;
    size_t len;
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(ca), &pem, &len, &err), &err);
    char hash[REEF_SHA256_HEX_LEN + 1];
    reef_cert_pem_hash(pem, len, hash);
    CHECK_INT(strlen(hash), ==, 64);
    /* The same as hashing the file a joining node downloads. */
    CHECK_OK(reef_cert_write_file(path_in("cacerts"), pem, len, 0644, &err), &err);
    char *out;
    CHECK_INT(OPENSSL(&out, "dgst", "-sha256", "-r", path_in("cacerts")), ==, 0);
    CHECK(strncmp(out, hash, 64) == 0);
    free(out);
    /* The k3s token layout. */
    char secret[33], token[128];
    CHECK_OK(reef_crypto_token_hex(secret, 16, &err), &err);
    snprintf(token, sizeof(token), "K10%s::server:%s", hash, secret);
    CHECK_INT(strlen(token), ==, 3 + 64 + 9 + 32);
    /* A different CA gives a different hash. */
    struct reef_ca *other = new_ca("reef-server-ca");
    char *pem2;
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(other), &pem2, &len, &err), &err);
    char hash2[REEF_SHA256_HEX_LEN + 1];
    reef_cert_pem_hash(pem2, len, hash2);
    CHECK(strcmp(hash, hash2) != 0);
    free(pem);
    free(pem2);
    reef_cert_ca_free(ca);
    reef_cert_ca_free(other);
    remove_tmpdir();
}

static void test_inspect_foreign_names(void)
{
    /* Certificates from elsewhere: an O with a comma, SANs of other kinds, and the CN missing. */
    make_tmpdir();
    struct reef_err err = {0};
    char *out;
    CHECK_INT(OPENSSL(&out, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", path_in("k.pem"), "-out", path_in("c.pem"), "-days", "1",
                      "-subj", "/O=a\\, b/O=c", "-addext",
                      "subjectAltName=email:x@example.com,DNS:x.example,IP:192.0.2.7,"
                      "URI:https://example.com/"),
              ==, 0);
    free(out);
    struct reef_cert *c;
    CHECK_OK(reef_cert_load(&c, path_in("c.pem"), &err), &err);
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(c, &info, &err), &err);
    CHECK(info.cn == NULL);
    CHECK_INT(info.n_orgs, ==, 2);
    CHECK_STR(info.orgs[0], "a, b");
    CHECK_STR(info.orgs[1], "c");
    CHECK_INT(info.n_dns, ==, 1);
    CHECK_STR(info.dns[0], "x.example");
    CHECK_INT(info.n_ips, ==, 1);
    CHECK_STR(info.ips[0], "192.0.2.7");
    CHECK(info.is_ca); /* openssl req -x509 marks it CA:TRUE */
    reef_cert_info_free(&info);
    reef_cert_free(c);
    remove_tmpdir();
}

/* ---- threads and speed ----------------------------------------------------------------------- */

struct worker {
    const struct reef_ca *ca;
    int failures;
};

static void *issue_many(void *arg)
{
    struct worker *w = arg;
    struct reef_cert_spec spec = server_spec();
    for (int i = 0; i < 5; i++) {
        struct reef_err err = {0};
        struct reef_key *key;
        struct reef_cert *c;
        if (reef_cert_key_generate(&key, &err) < 0 ||
            reef_cert_issue(w->ca, &spec, key, &c, &err) < 0) {
            w->failures++;
            continue;
        }
        if (reef_cert_verify(c, reef_cert_ca_cert(w->ca), REEF_CERT_SERVER, &err) < 0)
            w->failures++;
        reef_cert_free(c);
        reef_cert_key_free(key);
    }
    return NULL;
}

static void test_threads_share_ca(void)
{
    /* A CA freshly loaded from PEM, used by four threads at once for signing and verifying. */
    struct reef_err err = {0};
    struct reef_ca *orig = new_ca("reef-ca"), *ca;
    char *cert_pem, *key_pem;
    size_t cert_len;
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(orig), &cert_pem, &cert_len, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(reef_cert_ca_key(orig), &key_pem, &err), &err);
    CHECK_OK(reef_cert_ca_from_pem(&ca, cert_pem, cert_len, key_pem, strlen(key_pem), &err), &err);
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ca, 0};
        CHECK(pthread_create(&t[i], NULL, issue_many, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(w[i].failures, ==, 0);
    }
    free(cert_pem);
    free(key_pem);
    reef_cert_ca_free(ca);
    reef_cert_ca_free(orig);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_speed(void)
{
    struct reef_ca *ca = new_ca("reef-ca");
    struct reef_cert_spec spec = server_spec();
    double t0 = now_s();
    for (int i = 0; i < 20; i++)
        reef_cert_free(issue(ca, &spec, NULL));
    double per = (now_s() - t0) / 20;
    printf("# key generation + issue: %.2f ms each\n", per * 1000);
    /* Milliseconds in a release build; the bound leaves room for sanitizers and a busy machine. */
    CHECK(per < 0.25);
    reef_cert_ca_free(ca);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_server_cert);
    TEST_RUN(test_client_cert);
    TEST_RUN(test_verify_failures);
    TEST_RUN(test_issue_rejects);
    TEST_RUN(test_cert_pem_roundtrip);
    TEST_RUN(test_join_token_hash);
    TEST_RUN(test_inspect_foreign_names);
    TEST_RUN(test_threads_share_ca);
    TEST_RUN(test_speed);
    return test_done();
}
