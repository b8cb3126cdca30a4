/* Tests for core/cert: keys, the CA, issued certificates read back through reef_cert_inspect and
 * checked independently with the openssl command-line tool (a listed test dependency: its absence
 * fails the test rather than skipping it). */
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
#include "tests/unit/test.h"

extern char **environ;

/* ---- helpers --------------------------------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/reef-test-cert-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tmpdir(void)
{
    nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(const char *name)
{
    static char bufs[8][256];
    static int next;
    char *p = bufs[next++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    CHECK(fputs(text, f) >= 0);
    CHECK(fclose(f) == 0);
}

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

/* Runs argv (argv[0] looked up in PATH) with stdout and stderr captured into *out (caller frees).
 * Returns the exit status. A missing program fails the test. */
static int run(const char *const argv[], char **out)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid;
    int r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (r != 0)
        TEST_FAIL("cannot run %s: %s (openssl is a required test dependency)", argv[0],
                  strerror(r));
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fds[0], chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        CHECK(n > 0);
        CHECK(reef_buf_append(&b, chunk, (size_t)n) == 0);
    }
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        CHECK(errno == EINTR);
    char *s = reef_buf_steal(&b);
    if (out)
        *out = s;
    else
        free(s);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define OPENSSL(out, ...) run((const char *const[]){"openssl", __VA_ARGS__, NULL}, out)

static void check_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        TEST_FAIL("expected \"%s\" in:\n%s", needle, hay);
}

static void save_cert(const struct reef_cert *c, const char *path)
{
    struct reef_err err = {0};
    char *pem;
    size_t len;
    CHECK_OK(reef_cert_to_pem(c, &pem, &len, &err), &err);
    CHECK_OK(reef_cert_write_file(path, pem, len, 0644, &err), &err);
    free(pem);
}

static struct reef_ca *new_ca(const char *cn)
{
    struct reef_err err = {0};
    struct reef_ca *ca;
    CHECK_OK(reef_cert_ca_create(cn, 3650, 0, &ca, &err), &err);
    return ca;
}

static struct reef_cert *issue(const struct reef_ca *ca, const struct reef_cert_spec *spec,
                               struct reef_key **key_out)
{
    struct reef_err err = {0};
    struct reef_key *key;
    struct reef_cert *cert;
    CHECK_OK(reef_cert_key_generate(&key, &err), &err);
    CHECK_OK(reef_cert_issue(ca, spec, key, &cert, &err), &err);
    if (key_out)
        *key_out = key;
    else
        reef_cert_key_free(key);
    return cert;
}

static const char *const server_dns[] = {"reef.local", "*.svc.cluster.local", "localhost",
                                         "kubernetes.default.svc"};
static const char *const server_ips[] = {"10.43.0.1", "127.0.0.1", "::1", "fd00:10::1"};

static struct reef_cert_spec server_spec(void)
{
    struct reef_cert_spec s = {
        .cn = "reef-server",
        .dns = server_dns,
        .n_dns = REEF_ARRAY_LEN(server_dns),
        .ips = server_ips,
        .n_ips = REEF_ARRAY_LEN(server_ips),
        .usage = REEF_CERT_SERVER,
        .days = 365,
    };
    return s;
}

static const char *const admin_orgs[] = {"system:masters", "reef:admins"};

static struct reef_cert_spec client_spec(void)
{
    struct reef_cert_spec s = {
        .cn = "admin",
        .orgs = admin_orgs,
        .n_orgs = REEF_ARRAY_LEN(admin_orgs),
        .usage = REEF_CERT_CLIENT,
        .days = 30,
    };
    return s;
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
    TEST_RUN(test_key_pem_roundtrip);
    TEST_RUN(test_key_pkcs8_and_rejects);
    TEST_RUN(test_key_mismatched_public_half);
    TEST_RUN(test_key_save_atomic_0600);
    TEST_RUN(test_ca_create);
    TEST_RUN(test_ca_load);
    TEST_RUN(test_foreign_ca_ec);
    TEST_RUN(test_foreign_ca_rsa);
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
