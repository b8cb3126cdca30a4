/* Tests for core/cert: keys and the CA, read back through reef_cert_inspect and checked
 * independently with the openssl command-line tool (a listed test dependency: its absence fails
 * the test rather than skipping it). Issued certificates are tested in test_cert_issue.c. */

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

/* ---- helpers --------------------------------------------------------------------------------- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        CHECK(reef_buf_append(&b, chunk, n) == 0);
    fclose(f);
    return reef_buf_steal(&b);
}

/* ---- keys ------------------------------------------------------------------------------------ */

static void test_key_pem_roundtrip(void)
{
    make_tmpdir();
    struct reef_err err = {0};
    struct reef_key *k, *k2;
    CHECK_OK(reef_cert_key_generate(&k, &err), &err);
    char *pem, *pem2;
    CHECK_OK(reef_cert_key_to_pem(k, &pem, &err), &err);
    CHECK(strncmp(pem, "-----BEGIN EC PRIVATE KEY-----\n", 31) == 0);
    check_contains(pem, "-----END EC PRIVATE KEY-----\n");
    CHECK_OK(reef_cert_key_from_pem(&k2, pem, strlen(pem), &err), &err);
    CHECK_OK(reef_cert_key_to_pem(k2, &pem2, &err), &err);
    CHECK_STR(pem, pem2);

    /* openssl agrees it is a valid P-256 key. */
    write_text(path_in("k.pem"), pem);
    char *out;
    CHECK_INT(OPENSSL(&out, "ec", "-check", "-noout", "-in", path_in("k.pem")), ==, 0);
    check_contains(out, "EC Key valid.");
    free(out);
    CHECK_INT(OPENSSL(&out, "ec", "-text", "-noout", "-in", path_in("k.pem")), ==, 0);
    check_contains(out, "ASN1 OID: prime256v1");
    free(out);

    /* Two generated keys differ. */
    struct reef_key *k3;
    char *pem3;
    CHECK_OK(reef_cert_key_generate(&k3, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(k3, &pem3, &err), &err);
    CHECK(strcmp(pem, pem3) != 0);
    free(pem);
    free(pem2);
    free(pem3);
    reef_cert_key_free(k);
    reef_cert_key_free(k2);
    reef_cert_key_free(k3);
    reef_cert_key_free(NULL);
    remove_tmpdir();
}

static void test_key_pkcs8_and_rejects(void)
{
    make_tmpdir();
    struct reef_err err = {0};
    struct reef_key *k, *k2;
    char *pem, *pem2, *out;
    CHECK_OK(reef_cert_key_generate(&k, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(k, &pem, &err), &err);
    write_text(path_in("sec1.pem"), pem);

    /* PKCS#8 of the same key reads back as the same key. */
    CHECK_INT(OPENSSL(NULL, "pkcs8", "-topk8", "-nocrypt", "-in", path_in("sec1.pem"), "-out",
                      path_in("p8.pem")),
              ==, 0);
    char *p8 = read_text(path_in("p8.pem"));
    CHECK(strncmp(p8, "-----BEGIN PRIVATE KEY-----", 27) == 0);
    CHECK_OK(reef_cert_key_from_pem(&k2, p8, strlen(p8), &err), &err);
    CHECK_OK(reef_cert_key_to_pem(k2, &pem2, &err), &err);
    CHECK_STR(pem, pem2);
    reef_cert_key_free(k2);
    free(pem2);
    free(p8);

    /* A key openssl generated (PKCS#8), loaded from a file. */
    CHECK_INT(OPENSSL(NULL, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-out", path_in("gen.pem")),
              ==, 0);
    CHECK_OK(reef_cert_key_load(&k2, path_in("gen.pem"), &err), &err);
    reef_cert_key_free(k2);

    /* Encrypted keys are refused with a clear message. */
    CHECK_INT(OPENSSL(&out, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:pw", "-in",
                      path_in("sec1.pem"), "-out", path_in("enc.pem")),
              ==, 0);
    free(out);
    char *enc = read_text(path_in("enc.pem"));
    CHECK_INT(reef_cert_key_from_pem(&k2, enc, strlen(enc), &err), ==, -EINVAL);
    CHECK(k2 == NULL);
    check_contains(err.msg, "encrypted");
    free(enc);

    /* Not a key at all. */
    CHECK_INT(reef_cert_key_from_pem(&k2, "", 0, &err), ==, -EINVAL);
    CHECK_INT(reef_cert_key_from_pem(&k2, "hello", 5, &err), ==, -EINVAL);
    check_contains(err.msg, "no PEM block");
    const char *junk = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    CHECK_INT(reef_cert_key_from_pem(&k2, junk, strlen(junk), &err), ==, -EINVAL);
    check_contains(err.msg, "read private key");
    /* A certificate is not a key. */
    struct reef_ca *ca = new_ca("ca");
    char *cpem;
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(ca), &cpem, NULL, &err), &err);
    CHECK_INT(reef_cert_key_from_pem(&k2, cpem, strlen(cpem), &err), ==, -EINVAL);
    /* Truncated key PEM. */
    CHECK_INT(reef_cert_key_from_pem(&k2, pem, strlen(pem) / 2, &err), ==, -EINVAL);
    CHECK_INT(reef_cert_key_load(&k2, path_in("missing.pem"), &err), ==, -ENOENT);
    check_contains(err.msg, "missing.pem");
    free(cpem);
    free(pem);
    reef_cert_ca_free(ca);
    reef_cert_key_free(k);
    remove_tmpdir();
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* The DER inside a one-block PEM. */
static void pem_to_der(const char *pem, struct reef_buf *der)
{
    struct reef_buf b64 = REEF_BUF_INIT;
    const char *p = strchr(pem, '\n') + 1;
    while (*p && *p != '-') {
        size_t n = strcspn(p, "\n");
        CHECK(reef_buf_append(&b64, p, n) == 0);
        p += n + 1;
    }
    struct reef_err err = {0};
    CHECK_OK(reef_crypto_b64_decode(der, b64.data, b64.len, REEF_B64_STD, &err), &err);
    reef_buf_free(&b64);
}

static char *der_to_pem(const struct reef_buf *der, const char *label)
{
    struct reef_buf b64 = REEF_BUF_INIT, pem = REEF_BUF_INIT;
    CHECK(reef_crypto_b64_encode(&b64, der->data, der->len, REEF_B64_STD) == 0);
    reef_buf_printf(&pem, "-----BEGIN %s-----\n", label);
    for (size_t off = 0; off < b64.len; off += 64) {
        reef_buf_append(&pem, b64.data + off, b64.len - off < 64 ? b64.len - off : 64);
        reef_buf_putc(&pem, '\n');
    }
    reef_buf_printf(&pem, "-----END %s-----\n", label);
    reef_buf_free(&b64);
    return reef_buf_steal(&pem);
}

static void test_key_mismatched_public_half(void)
{
    /* A SEC1 key whose embedded public key belongs to another private key. */
    struct reef_err err = {0};
    struct reef_key *a, *b, *k;
    char *pa, *pb;
    CHECK_OK(reef_cert_key_generate(&a, &err), &err);
    CHECK_OK(reef_cert_key_generate(&b, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(a, &pa, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(b, &pb, &err), &err);
    struct reef_buf da = REEF_BUF_INIT, db = REEF_BUF_INIT;
    pem_to_der(pa, &da);
    pem_to_der(pb, &db);
    CHECK_INT(da.len, ==, db.len);
    /* The uncompressed point (0x04 || X || Y) is the last 65 bytes of the structure. */
    CHECK_INT((unsigned char)da.data[da.len - 65], ==, 0x04);
    memcpy(da.data + da.len - 65, db.data + db.len - 65, 65);
    char *spliced = der_to_pem(&da, "EC PRIVATE KEY");
    CHECK_INT(reef_cert_key_from_pem(&k, spliced, strlen(spliced), &err), ==, -EINVAL);
    check_contains(err.msg, "does not match");
    /* The untouched structure still reads. */
    char *again = der_to_pem(&db, "EC PRIVATE KEY");
    CHECK_STR(again, pb);
    CHECK_OK(reef_cert_key_from_pem(&k, again, strlen(again), &err), &err);
    reef_cert_key_free(k);
    free(again);
    free(spliced);
    free(pa);
    free(pb);
    reef_buf_free(&da);
    reef_buf_free(&db);
    reef_cert_key_free(a);
    reef_cert_key_free(b);
}

static void test_key_save_atomic_0600(void)
{
    make_tmpdir();
    struct reef_err err = {0};
    struct reef_key *k, *k2;
    CHECK_OK(reef_cert_key_generate(&k, &err), &err);
    /* An existing world-readable file is replaced, not rewritten in place. */
    write_text(path_in("server.key"), "old contents\n");
    CHECK(chmod(path_in("server.key"), 0644) == 0);
    struct stat before, after;
    CHECK(stat(path_in("server.key"), &before) == 0);
    CHECK_OK(reef_cert_key_save(k, path_in("server.key"), &err), &err);
    CHECK(stat(path_in("server.key"), &after) == 0);
    CHECK_INT(after.st_mode & 07777, ==, 0600);
    CHECK(after.st_ino != before.st_ino);
    CHECK_INT(count_entries(tmpdir), ==, 1); /* no temporary file left behind */
    CHECK_OK(reef_cert_key_load(&k2, path_in("server.key"), &err), &err);
    char *a, *b;
    CHECK_OK(reef_cert_key_to_pem(k, &a, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(k2, &b, &err), &err);
    CHECK_STR(a, b);
    free(a);
    free(b);

    /* Plain files with another mode, and a relative path. */
    CHECK_OK(reef_cert_write_file(path_in("ca.crt"), "x", 1, 0644, &err), &err);
    CHECK(stat(path_in("ca.crt"), &after) == 0);
    CHECK_INT(after.st_mode & 07777, ==, 0644);
    CHECK_INT(after.st_size, ==, 1);
    CHECK(chdir(tmpdir) == 0);
    CHECK_OK(reef_cert_write_file("rel.txt", "abc", 3, 0600, &err), &err);
    char *rel = read_text(path_in("rel.txt"));
    CHECK_STR(rel, "abc");
    free(rel);
    CHECK_INT(count_entries(tmpdir), ==, 3);

    /* Failures leave nothing behind and say where. */
    CHECK_INT(reef_cert_key_save(k, path_in("nodir/server.key"), &err), ==, -ENOENT);
    check_contains(err.msg, "nodir");
    CHECK(mkdir(path_in("sub"), 0700) == 0);
    CHECK_INT(reef_cert_write_file(path_in("sub/"), "x", 1, 0600, &err), ==, -EINVAL);
    /* Renaming over a directory fails; the temporary file is removed. */
    CHECK(mkdir(path_in("sub/d"), 0700) == 0);
    CHECK(reef_cert_write_file(path_in("sub/d"), "x", 1, 0600, &err) < 0);
    CHECK_INT(count_entries(path_in("sub")), ==, 1);
    reef_cert_key_free(k);
    reef_cert_key_free(k2);
    remove_tmpdir();
}

/* ---- the CA ---------------------------------------------------------------------------------- */

static void test_ca_create(void)
{
    make_tmpdir();
    struct reef_err err = {0};
    struct reef_ca *ca;
    time_t now = time(NULL);
    CHECK_OK(reef_cert_ca_create("reef-ca@1700000000", 3650, now, &ca, &err), &err);
    struct reef_cert_info info;
    CHECK_OK(reef_cert_inspect(reef_cert_ca_cert(ca), &info, &err), &err);
    CHECK_STR(info.cn, "reef-ca@1700000000");
    CHECK(info.is_ca);
    CHECK_INT(info.n_orgs, ==, 0);
    CHECK_INT(info.n_dns + info.n_ips, ==, 0);
    CHECK_INT(info.usage, ==, 0);
    CHECK_INT(info.not_before, ==, now - REEF_CERT_BACKDATE);
    CHECK_INT(info.not_after, ==, now + 3650L * 86400);
    reef_cert_info_free(&info);

    /* The CA verifies against itself, in reef and in openssl. */
    CHECK_OK(reef_cert_verify(reef_cert_ca_cert(ca), reef_cert_ca_cert(ca), 0, &err), &err);
    save_cert(reef_cert_ca_cert(ca), path_in("ca.crt"));
    char *out;
    CHECK_INT(OPENSSL(&out, "verify", "-CAfile", path_in("ca.crt"), path_in("ca.crt")), ==, 0);
    free(out);
    CHECK_INT(OPENSSL(&out, "x509", "-noout", "-text", "-in", path_in("ca.crt")), ==, 0);
    check_contains(out, "Subject: CN = reef-ca@1700000000");
    check_contains(out, "Issuer: CN = reef-ca@1700000000");
    check_contains(out, "X509v3 Basic Constraints: critical\n                CA:TRUE");
    check_contains(out, "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign");
    check_contains(out, "X509v3 Subject Key Identifier");
    check_contains(out, "ecdsa-with-SHA256");
    check_contains(out, "Version: 3 (0x2)");
    free(out);
    reef_cert_ca_free(ca);

    CHECK_INT(reef_cert_ca_create("", 10, 0, &ca, &err), ==, -EINVAL);
    CHECK(ca == NULL);
    CHECK_INT(reef_cert_ca_create("x", 0, 0, &ca, &err), ==, -EINVAL);
    reef_cert_ca_free(NULL);
    remove_tmpdir();
}

static void test_ca_load(void)
{
    struct reef_err err = {0};
    struct reef_ca *ca = new_ca("reef-ca"), *ca2, *bad;
    char *cert_pem, *key_pem;
    size_t cert_len;
    CHECK_OK(reef_cert_to_pem(reef_cert_ca_cert(ca), &cert_pem, &cert_len, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(reef_cert_ca_key(ca), &key_pem, &err), &err);
    CHECK_OK(reef_cert_ca_from_pem(&ca2, cert_pem, cert_len, key_pem, strlen(key_pem), &err), &err);

    /* A certificate issued by the reloaded CA verifies against the original CA certificate. */
    struct reef_cert_spec spec = server_spec();
    struct reef_cert *c = issue(ca2, &spec, NULL);
    CHECK_OK(reef_cert_verify(c, reef_cert_ca_cert(ca), REEF_CERT_SERVER, &err), &err);
    reef_cert_free(c);

    /* Someone else's key. */
    struct reef_key *other;
    char *other_pem;
    CHECK_OK(reef_cert_key_generate(&other, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(other, &other_pem, &err), &err);
    CHECK_INT(reef_cert_ca_from_pem(&bad, cert_pem, cert_len, other_pem, strlen(other_pem), &err),
              ==, -EINVAL);
    CHECK(bad == NULL);
    check_contains(err.msg, "does not match");

    /* A leaf certificate is not a CA. */
    spec = client_spec();
    struct reef_key *leaf_key;
    c = issue(ca, &spec, &leaf_key);
    char *leaf_pem, *leaf_key_pem;
    size_t leaf_len;
    CHECK_OK(reef_cert_to_pem(c, &leaf_pem, &leaf_len, &err), &err);
    CHECK_OK(reef_cert_key_to_pem(leaf_key, &leaf_key_pem, &err), &err);
    CHECK_INT(
        reef_cert_ca_from_pem(&bad, leaf_pem, leaf_len, leaf_key_pem, strlen(leaf_key_pem), &err),
        ==, -EINVAL);
    check_contains(err.msg, "not a CA");
    /* Garbage in either part. */
    CHECK_INT(reef_cert_ca_from_pem(&bad, "junk", 4, key_pem, strlen(key_pem), &err), ==, -EINVAL);
    check_contains(err.msg, "load CA");
    CHECK_INT(reef_cert_ca_from_pem(&bad, cert_pem, cert_len, "junk", 4, &err), ==, -EINVAL);

    /* From files. */
    make_tmpdir();
    CHECK_OK(reef_cert_write_file(path_in("ca.crt"), cert_pem, cert_len, 0644, &err), &err);
    CHECK_OK(reef_cert_key_save(reef_cert_ca_key(ca), path_in("ca.key"), &err), &err);
    struct reef_ca *ca3;
    CHECK_OK(reef_cert_ca_load(&ca3, path_in("ca.crt"), path_in("ca.key"), &err), &err);
    char fa[REEF_SHA256_HEX_LEN + 1], fb[REEF_SHA256_HEX_LEN + 1];
    reef_cert_fingerprint(reef_cert_ca_cert(ca), fa);
    reef_cert_fingerprint(reef_cert_ca_cert(ca3), fb);
    CHECK_STR(fa, fb);
    CHECK_INT(reef_cert_ca_load(&bad, path_in("ca.crt"), path_in("nope.key"), &err), ==, -ENOENT);
    CHECK_INT(reef_cert_ca_load(&bad, tmpdir, path_in("ca.key"), &err), ==, -EINVAL);
    remove_tmpdir();

    free(cert_pem);
    free(key_pem);
    free(other_pem);
    free(leaf_pem);
    free(leaf_key_pem);
    reef_cert_key_free(other);
    reef_cert_key_free(leaf_key);
    reef_cert_free(c);
    reef_cert_ca_free(ca);
    reef_cert_ca_free(ca2);
    reef_cert_ca_free(ca3);
}

/* A CA made by openssl: PKCS#8 key, a multi-attribute subject, its own SKI method. Certificates
 * issued from it must chain in openssl (issuer name and authority key id must match exactly). */
static void foreign_ca(const char *newkey, const char *pkeyopt)
{
    make_tmpdir();
    struct reef_err err = {0};
    char *out;
    CHECK_INT(OPENSSL(&out, "req", "-x509", "-newkey", newkey, "-pkeyopt", pkeyopt, "-nodes",
                      "-keyout", path_in("ca.key"), "-out", path_in("ca.crt"), "-days", "30",
                      "-subj", "/C=DE/O=Example Org/CN=Foreign Root", "-addext",
                      "keyUsage=critical,keyCertSign,cRLSign"),
              ==, 0);
    free(out);
    /* openssl writes PKCS#8 ("PRIVATE KEY"). */
    char *key = read_text(path_in("ca.key"));
    CHECK(strncmp(key, "-----BEGIN PRIVATE KEY-----", 27) == 0);
    free(key);
    struct reef_ca *ca;
    CHECK_OK(reef_cert_ca_load(&ca, path_in("ca.crt"), path_in("ca.key"), &err), &err);
    struct reef_cert_spec spec = server_spec();
    struct reef_cert *c = issue(ca, &spec, NULL);
    save_cert(c, path_in("server.crt"));
    CHECK_OK(reef_cert_verify(c, reef_cert_ca_cert(ca), REEF_CERT_SERVER, &err), &err);
    CHECK_INT(OPENSSL(&out, "verify", "-CAfile", path_in("ca.crt"), "-purpose", "sslserver",
                      path_in("server.crt")),
              ==, 0);
    free(out);
    CHECK_INT(OPENSSL(&out, "x509", "-noout", "-text", "-in", path_in("server.crt")), ==, 0);
    check_contains(out, "Issuer: C = DE, O = Example Org, CN = Foreign Root");
    free(out);
    reef_cert_free(c);
    reef_cert_ca_free(ca);
    remove_tmpdir();
}

static void test_foreign_ca_ec(void)
{
    foreign_ca("ec", "ec_paramgen_curve:P-256");
}

static void test_foreign_ca_rsa(void)
{
    foreign_ca("rsa", "rsa_keygen_bits:2048");
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_key_pem_roundtrip);
    TEST_RUN(test_key_pkcs8_and_rejects);
    TEST_RUN(test_key_mismatched_public_half);
    TEST_RUN(test_key_save_atomic_0600);
    TEST_RUN(test_ca_create);
    TEST_RUN(test_ca_load);
    TEST_RUN(test_foreign_ca_ec);
    TEST_RUN(test_foreign_ca_rsa);
    return test_done();
}
