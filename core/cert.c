#include "core/cert.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "core/buf.h"
#include "core/cert_internal.h"
#include "core/cleanup.h"

static const char pem_cert_begin[] = "-----BEGIN CERTIFICATE-----";
static const char pem_cert_end[] = "-----END CERTIFICATE-----";

/* ---- errors ---------------------------------------------------------------------------------- */

/* mbedtls codes add a high-level part (module) and a low-level part (ASN.1, bignum); running out
 * of memory can surface in either. */
static bool mbed_is_oom(int mret)
{
    int m = -mret;
    int low = m & 0x7f, high = m & 0xff80;
    return low == -MBEDTLS_ERR_ASN1_ALLOC_FAILED || low == -MBEDTLS_ERR_MPI_ALLOC_FAILED ||
           high == -MBEDTLS_ERR_X509_ALLOC_FAILED || high == -MBEDTLS_ERR_PK_ALLOC_FAILED ||
           high == -MBEDTLS_ERR_ECP_ALLOC_FAILED || high == -MBEDTLS_ERR_PEM_ALLOC_FAILED;
}

int reef__cert_mbed_fail(struct reef_err *err, int code, int mret, const char *fmt, ...)
{
    char what[REEF_ERR_MSG_MAX], text[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    mbedtls_strerror(mret, text, sizeof(text));
    if (mbed_is_oom(mret))
        code = -ENOMEM;
    return reef_err_set(err, code, "%s: %s (-0x%04x)", what, text, (unsigned)-mret);
}

/* ---- files ----------------------------------------------------------------------------------- */

/* Reads a whole regular file of at most REEF_CERT_MAX_PEM bytes into a NUL-terminated buffer. */
static int read_small_file(const char *path, char **out, size_t *out_len, struct reef_err *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return reef_err_errno(err, -errno, "open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return reef_err_errno(err, -errno, "stat %s", path);
    if (!S_ISREG(st.st_mode))
        return reef_err_set(err, -EINVAL, "%s: not a regular file", path);
    struct reef_buf b = REEF_BUF_INIT;
    for (;;) {
        if (reef_buf_reserve(&b, 4096) < 0) {
            reef_buf_free(&b);
            return reef_err_set(err, -ENOMEM, "read %s: out of memory", path);
        }
        ssize_t n = read(fd, b.data + b.len, b.cap - b.len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = -errno;
            reef_buf_free(&b);
            return reef_err_errno(err, e, "read %s", path);
        }
        if (n == 0)
            break;
        b.len += (size_t)n;
        b.data[b.len] = '\0';
        if (b.len > REEF_CERT_MAX_PEM) {
            reef_buf_free(&b);
            return reef_err_set(err, -EFBIG, "%s: larger than %d bytes", path, REEF_CERT_MAX_PEM);
        }
    }
    *out_len = b.len;
    *out = reef_buf_steal(&b);
    if (!*out)
        return reef_err_set(err, -ENOMEM, "read %s: out of memory", path);
    return 0;
}

/* A rename is durable only once the directory entry is. */
static int fsync_dir(const char *dir, struct reef_err *err)
{
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0)
        return reef_err_errno(err, -errno, "fsync directory %s", dir);
    return 0;
}

int reef_cert_write_file(const char *path, const void *data, size_t len, mode_t mode,
                         struct reef_err *err)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (*base == '\0')
        return reef_err_set(err, -EINVAL, "write %s: not a file name", path);
    size_t dir_len = slash ? (size_t)(slash - path) : 0;
    _cleanup_free_ char *dir = slash ? reef_strndup(path, dir_len ? dir_len : 1) : strdup(".");
    _cleanup_free_ char *tmp = NULL;
    if (!dir ||
        asprintf(&tmp, "%.*s%s.%s.tmpXXXXXX", (int)dir_len, path, slash ? "/" : "", base) < 0) {
        tmp = NULL;
        return reef_err_set(err, -ENOMEM, "write %s: out of memory", path);
    }
    /* mkostemp creates the file 0600, so a secret is never readable by others, not even while
     * it is being written. */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return reef_err_errno(err, -errno, "create temporary file for %s", path);
    int r = 0;
    if (fchmod(fd, mode) < 0) {
        r = reef_err_errno(err, -errno, "chmod %s", tmp);
        goto fail;
    }
    const unsigned char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = reef_err_errno(err, -errno, "write %s", tmp);
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) < 0) {
        r = reef_err_errno(err, -errno, "fsync %s", tmp);
        goto fail;
    }
    int c = close(fd);
    fd = -1;
    if (c < 0) {
        r = reef_err_errno(err, -errno, "close %s", tmp);
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        r = reef_err_errno(err, -errno, "rename %s to %s", tmp, path);
        goto fail;
    }
    return fsync_dir(dir, err);
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return r;
}

void reef_cert_pem_hash(const char *pem, size_t len, char out[REEF_SHA256_HEX_LEN + 1])
{
    reef_crypto_sha256_hex(pem, len, out);
}

/* ---- keys ------------------------------------------------------------------------------------ */

/* mbedtls 2.28 builds a table of multiples of the curve's base point the first time a group is used
 * for a multiplication by it (signing, verifying) and stores it in the group: a hidden write that
 * would race when two threads first use the same key or certificate at once. Doing one such
 * multiplication when the object is created fills the table, so later use only reads it. */
static void ecp_warm(mbedtls_pk_context *pk)
{
    if (!mbedtls_pk_can_do(pk, MBEDTLS_PK_ECKEY))
        return;
    mbedtls_ecp_group *grp = &mbedtls_pk_ec(*pk)->grp;
    if (grp->T != NULL)
        return;
    mbedtls_ecp_point r;
    mbedtls_mpi one;
    mbedtls_ecp_point_init(&r);
    mbedtls_mpi_init(&one);
    /* A failure (out of memory) only means the table is built later, as mbedtls normally does. */
    if (mbedtls_mpi_lset(&one, 1) == 0)
        (void)mbedtls_ecp_mul(grp, &r, &one, &grp->G, reef_crypto_rng, NULL);
    mbedtls_ecp_point_free(&r);
    mbedtls_mpi_free(&one);
}

static void chain_warm(mbedtls_x509_crt *crt)
{
    for (; crt && crt->raw.p; crt = crt->next)
        ecp_warm(&crt->pk);
}

static struct reef_key *key_new(void)
{
    struct reef_key *k = calloc(1, sizeof(*k));
    if (k)
        mbedtls_pk_init(&k->pk);
    return k;
}

void reef_cert_key_free(struct reef_key *key)
{
    if (!key)
        return;
    mbedtls_pk_free(&key->pk); /* zeroizes the private values */
    free(key);
}

int reef_cert_key_generate(struct reef_key **out, struct reef_err *err)
{
    *out = NULL;
    struct reef_key *k = key_new();
    if (!k)
        return reef_err_set(err, -ENOMEM, "generate key: out of memory");
    int r = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (r == 0)
        r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk), reef_crypto_rng,
                                NULL);
    if (r != 0) {
        reef_cert_key_free(k);
        return reef__cert_mbed_fail(err, -EIO, r, "generate P-256 key");
    }
    ecp_warm(&k->pk); /* computing the public key normally filled the table already */
    *out = k;
    return 0;
}

struct mbedtls_pk_context *reef_cert_key_mbedtls(const struct reef_key *key)
{
    return (struct mbedtls_pk_context *)&key->pk;
}

int reef_cert_key_to_pem(const struct reef_key *key, char **pem, struct reef_err *err)
{
    *pem = NULL;
    /* Large enough for an RSA 4096 key; mbedtls writes the DER and its base64 into it. */
    size_t size = 8192;
    unsigned char *buf = malloc(size);
    if (!buf)
        return reef_err_set(err, -ENOMEM, "write key PEM: out of memory");
    /* mbedtls 2.28 takes a non-const context but only reads it. */
    int r = mbedtls_pk_write_key_pem((mbedtls_pk_context *)&key->pk, buf, size);
    if (r != 0) {
        mbedtls_platform_zeroize(buf, size);
        free(buf);
        return reef__cert_mbed_fail(err, -EINVAL, r, "write key PEM");
    }
    *pem = strdup((char *)buf);
    mbedtls_platform_zeroize(buf, size);
    free(buf);
    if (!*pem)
        return reef_err_set(err, -ENOMEM, "write key PEM: out of memory");
    return 0;
}

/* mbedtls reads PEM only from a NUL-terminated buffer whose length counts the NUL; an input without
 * a PEM header would be tried as DER, which these functions do not promise, so it is refused. */
static char *pem_copy(const char *pem, size_t len, const char *what, struct reef_err *err)
{
    if (len > REEF_CERT_MAX_PEM) {
        reef_err_set(err, -EFBIG, "%s: PEM larger than %d bytes", what, REEF_CERT_MAX_PEM);
        return NULL;
    }
    if (!memmem(pem, len, "-----BEGIN ", 11)) {
        reef_err_set(err, -EINVAL, "%s: no PEM block found", what);
        return NULL;
    }
    char *copy = reef_strndup(pem, len);
    if (!copy)
        reef_err_set(err, -ENOMEM, "%s: out of memory", what);
    return copy;
}

int reef_cert_key_from_pem(struct reef_key **out, const char *pem, size_t len, struct reef_err *err)
{
    *out = NULL;
    char *copy = pem_copy(pem, len, "read private key", err);
    if (!copy)
        return err ? err->code : -EINVAL;
    struct reef_key *k = key_new();
    if (!k) {
        free(copy);
        return reef_err_set(err, -ENOMEM, "read private key: out of memory");
    }
    int r = mbedtls_pk_parse_key(&k->pk, (unsigned char *)copy, len + 1, NULL, 0);
    mbedtls_platform_zeroize(copy, len);
    free(copy);
    if (r != 0) {
        reef_cert_key_free(k);
        if (r == MBEDTLS_ERR_PK_PASSWORD_REQUIRED)
            return reef_err_set(err, -EINVAL, "read private key: key is encrypted");
        if (r == MBEDTLS_ERR_PK_KEY_INVALID_FORMAT + MBEDTLS_ERR_ASN1_UNEXPECTED_TAG ||
            r == MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT)
            return reef_err_set(err, -EINVAL, "read private key: no private key PEM block");
        return reef__cert_mbed_fail(err, -EINVAL, r, "read private key");
    }
    mbedtls_pk_type_t t = mbedtls_pk_get_type(&k->pk);
    if (t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_RSA) {
        reef_cert_key_free(k);
        return reef_err_set(err, -EINVAL, "read private key: unsupported key type");
    }
    /* mbedtls 2.28 checks each half of a SEC1 key but not that the stored public key is d*G; a
     * mismatched one would yield certificates for a key nobody holds. This also warms the table. */
    if (t == MBEDTLS_PK_ECKEY &&
        mbedtls_ecp_check_pub_priv(mbedtls_pk_ec(k->pk), mbedtls_pk_ec(k->pk)) != 0) {
        reef_cert_key_free(k);
        return reef_err_set(err, -EINVAL,
                            "read private key: public key does not match the private key");
    }
    ecp_warm(&k->pk);
    *out = k;
    return 0;
}

int reef_cert_key_load(struct reef_key **out, const char *path, struct reef_err *err)
{
    *out = NULL;
    char *pem;
    size_t len;
    int r = read_small_file(path, &pem, &len, err);
    if (r < 0)
        return r;
    r = reef_cert_key_from_pem(out, pem, len, err);
    mbedtls_platform_zeroize(pem, len);
    free(pem);
    if (r < 0)
        return reef_err_wrap(err, "%s", path);
    return 0;
}

int reef_cert_key_save(const struct reef_key *key, const char *path, struct reef_err *err)
{
    char *pem;
    int r = reef_cert_key_to_pem(key, &pem, err);
    if (r < 0)
        return r;
    size_t len = strlen(pem);
    r = reef_cert_write_file(path, pem, len, 0600, err);
    mbedtls_platform_zeroize(pem, len);
    free(pem);
    return r;
}

/* ---- certificates ---------------------------------------------------------------------------- */

static struct reef_cert *cert_new(void)
{
    struct reef_cert *c = calloc(1, sizeof(*c));
    if (c)
        mbedtls_x509_crt_init(&c->crt);
    return c;
}

void reef_cert_free(struct reef_cert *cert)
{
    if (!cert)
        return;
    mbedtls_x509_crt_free(&cert->crt);
    free(cert);
}

int reef_cert_from_pem(struct reef_cert **out, const char *pem, size_t len, struct reef_err *err)
{
    *out = NULL;
    if (len <= REEF_CERT_MAX_PEM && !memmem(pem, len, pem_cert_begin, sizeof(pem_cert_begin) - 1))
        return reef_err_set(err, -EINVAL, "read certificate: no CERTIFICATE PEM block found");
    _cleanup_free_ char *copy = pem_copy(pem, len, "read certificate", err);
    if (!copy)
        return err ? err->code : -EINVAL;
    struct reef_cert *c = cert_new();
    if (!c)
        return reef_err_set(err, -ENOMEM, "read certificate: out of memory");
    int r = mbedtls_x509_crt_parse(&c->crt, (unsigned char *)copy, len + 1);
    if (r != 0) {
        reef_cert_free(c);
        if (r > 0)
            return reef_err_set(err, -EINVAL,
                                "read certificate: %d of the certificates are invalid", r);
        return reef__cert_mbed_fail(err, -EINVAL, r, "read certificate");
    }
    chain_warm(&c->crt);
    *out = c;
    return 0;
}

int reef_cert_from_der(struct reef_cert **out, const void *der, size_t len, struct reef_err *err)
{
    *out = NULL;
    struct reef_cert *c = cert_new();
    if (!c)
        return reef_err_set(err, -ENOMEM, "read certificate: out of memory");
    int r = mbedtls_x509_crt_parse_der(&c->crt, der, len);
    if (r != 0) {
        reef_cert_free(c);
        return reef__cert_mbed_fail(err, -EINVAL, r, "read certificate");
    }
    chain_warm(&c->crt);
    *out = c;
    return 0;
}

int reef_cert_load(struct reef_cert **out, const char *path, struct reef_err *err)
{
    *out = NULL;
    _cleanup_free_ char *pem = NULL;
    size_t len;
    int r = read_small_file(path, &pem, &len, err);
    if (r < 0)
        return r;
    r = reef_cert_from_pem(out, pem, len, err);
    if (r < 0)
        return reef_err_wrap(err, "%s", path);
    return 0;
}

int reef_cert_to_pem(const struct reef_cert *cert, char **pem, size_t *len, struct reef_err *err)
{
    *pem = NULL;
    struct reef_buf b = REEF_BUF_INIT, line = REEF_BUF_INIT;
    int r = 0;
    for (const mbedtls_x509_crt *c = &cert->crt; c && c->raw.p; c = c->next) {
        reef_buf_reset(&line);
        if ((r = reef_crypto_b64_encode(&line, c->raw.p, c->raw.len, REEF_B64_STD)) < 0 ||
            (r = reef_buf_puts(&b, pem_cert_begin)) < 0 || (r = reef_buf_putc(&b, '\n')) < 0)
            break;
        for (size_t off = 0; off < line.len && r == 0; off += 64) {
            size_t k = line.len - off < 64 ? line.len - off : 64;
            if ((r = reef_buf_append(&b, line.data + off, k)) == 0)
                r = reef_buf_putc(&b, '\n');
        }
        if (r < 0 || (r = reef_buf_puts(&b, pem_cert_end)) < 0 || (r = reef_buf_putc(&b, '\n')) < 0)
            break;
    }
    reef_buf_free(&line);
    if (r == 0 && b.len == 0)
        r = -EINVAL;
    if (r < 0) {
        reef_buf_free(&b);
        return r == -EINVAL ? reef_err_set(err, r, "write certificate PEM: empty certificate")
                            : reef_err_set(err, -ENOMEM, "write certificate PEM: out of memory");
    }
    size_t n = b.len;
    *pem = reef_buf_steal(&b);
    if (len)
        *len = n;
    return 0;
}

const unsigned char *reef_cert_der(const struct reef_cert *cert, size_t *len)
{
    *len = cert->crt.raw.len;
    return cert->crt.raw.p;
}

void reef_cert_fingerprint(const struct reef_cert *cert, char out[REEF_SHA256_HEX_LEN + 1])
{
    reef_crypto_sha256_hex(cert->crt.raw.p, cert->crt.raw.len, out);
}

struct mbedtls_x509_crt *reef_cert_mbedtls(const struct reef_cert *cert)
{
    return (struct mbedtls_x509_crt *)&cert->crt;
}

/* ---- inspecting ------------------------------------------------------------------------------ */

static time_t x509_time_to_time_t(const mbedtls_x509_time *t)
{
    struct tm tm = {
        .tm_year = t->year - 1900,
        .tm_mon = t->mon - 1,
        .tm_mday = t->day,
        .tm_hour = t->hour,
        .tm_min = t->min,
        .tm_sec = t->sec,
    };
    return timegm(&tm);
}

static bool has_nul(const unsigned char *p, size_t len)
{
    return len > 0 && memchr(p, 0, len) != NULL;
}

/* Appends a copy of p[0..n) to a string array; refuses text with NUL bytes, which would make the
 * C string say something else than the certificate. */
static int strv_push(char ***v, size_t *n, const unsigned char *p, size_t len, const char *what,
                     struct reef_err *err)
{
    if (has_nul(p, len))
        return reef_err_set(err, -EBADMSG, "certificate %s contains a NUL byte", what);
    if (*n >= REEF_CERT_MAX_NAMES * 4)
        return reef_err_set(err, -EBADMSG, "certificate has too many %s entries", what);
    char **nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return reef_err_set(err, -ENOMEM, "inspect certificate: out of memory");
    *v = nv;
    char *s = reef_strndup((const char *)p, len);
    if (!s)
        return reef_err_set(err, -ENOMEM, "inspect certificate: out of memory");
    nv[(*n)++] = s;
    return 0;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void reef_cert_info_free(struct reef_cert_info *info)
{
    if (!info)
        return;
    free(info->cn);
    strv_free(info->orgs, info->n_orgs);
    strv_free(info->dns, info->n_dns);
    strv_free(info->ips, info->n_ips);
    memset(info, 0, sizeof(*info));
}

int reef_cert_inspect(const struct reef_cert *cert, struct reef_cert_info *info,
                      struct reef_err *err)
{
    memset(info, 0, sizeof(*info));
    const mbedtls_x509_crt *c = &cert->crt;
    int r = 0;
    for (const mbedtls_x509_name *n = &c->subject; n && r == 0; n = n->next) {
        if (!n->oid.p)
            continue;
        if (OID_IS(&n->oid, MBEDTLS_OID_AT_CN) && !info->cn) {
            if (has_nul(n->val.p, n->val.len))
                r = reef_err_set(err, -EBADMSG, "certificate CN contains a NUL byte");
            else if (!(info->cn = reef_strndup((const char *)n->val.p, n->val.len)))
                r = reef_err_set(err, -ENOMEM, "inspect certificate: out of memory");
        } else if (OID_IS(&n->oid, MBEDTLS_OID_AT_ORGANIZATION)) {
            r = strv_push(&info->orgs, &info->n_orgs, n->val.p, n->val.len, "O", err);
        }
    }
    for (const mbedtls_x509_sequence *s = &c->subject_alt_names; s && s->buf.p && r == 0;
         s = s->next) {
        if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) {
            r = strv_push(&info->dns, &info->n_dns, s->buf.p, s->buf.len, "DNS name", err);
        } else if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)) {
            char text[INET6_ADDRSTRLEN];
            int af = s->buf.len == 4 ? AF_INET : s->buf.len == 16 ? AF_INET6 : 0;
            if (!af || !inet_ntop(af, s->buf.p, text, sizeof(text)))
                r = reef_err_set(err, -EBADMSG, "certificate IP address SAN has %zu bytes",
                                 s->buf.len);
            else
                r = strv_push(&info->ips, &info->n_ips, (unsigned char *)text, strlen(text),
                              "IP address", err);
        }
    }
    if (r < 0) {
        reef_cert_info_free(info);
        return r;
    }
    for (const mbedtls_x509_sequence *s = &c->ext_key_usage; s && s->buf.p; s = s->next) {
        if (OID_IS(&s->buf, MBEDTLS_OID_SERVER_AUTH))
            info->usage |= REEF_CERT_SERVER;
        else if (OID_IS(&s->buf, MBEDTLS_OID_CLIENT_AUTH))
            info->usage |= REEF_CERT_CLIENT;
    }
    info->not_before = x509_time_to_time_t(&c->valid_from);
    info->not_after = x509_time_to_time_t(&c->valid_to);
    info->is_ca = c->ca_istrue != 0;
    size_t sl = c->serial.len;
    if (sl > (sizeof(info->serial) - 1) / 2)
        sl = (sizeof(info->serial) - 1) / 2;
    reef_crypto_hex_encode(info->serial, c->serial.p, sl);
    return 0;
}

/* ---- verifying ------------------------------------------------------------------------------- */

int reef_cert_verify(const struct reef_cert *cert, const struct reef_cert *ca, unsigned usage,
                     struct reef_err *err)
{
    uint32_t flags = 0;
    /* mbedtls 2.28 takes non-const chains but does not modify them. */
    int r = mbedtls_x509_crt_verify((mbedtls_x509_crt *)&cert->crt, (mbedtls_x509_crt *)&ca->crt,
                                    NULL, NULL, &flags, NULL, NULL);
    if (r != 0) {
        if (r != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)
            return reef__cert_mbed_fail(err, -EKEYREJECTED, r, "verify certificate");
        char info[512];
        int n = mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
        if (n < 0)
            snprintf(info, sizeof(info), "flags 0x%x", (unsigned)flags);
        /* verify_info puts one reason per line; an error message is one line. */
        size_t l = strlen(info);
        while (l > 0 && info[l - 1] == '\n')
            info[--l] = '\0';
        for (char *p = info; (p = strchr(p, '\n'));)
            *p = ';';
        uint32_t timing = MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE;
        int code = (flags & ~timing) == 0 ? -EKEYEXPIRED : -EKEYREJECTED;
        return reef_err_set(err, code, "certificate not trusted: %s", info);
    }
    static const struct {
        unsigned bit;
        const char *oid;
        size_t len;
        const char *name;
    } ekus[] = {
        {REEF_CERT_SERVER, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH),
         "server"},
        {REEF_CERT_CLIENT, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH),
         "client"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(ekus); i++) {
        if ((usage & ekus[i].bit) &&
            mbedtls_x509_crt_check_extended_key_usage(&cert->crt, ekus[i].oid, ekus[i].len) != 0)
            return reef_err_set(err, -EKEYREJECTED,
                                "certificate not trusted: not valid for %s authentication",
                                ekus[i].name);
    }
    return 0;
}

static bool dns_matches(const char *pattern, size_t plen, const char *host, size_t hlen)
{
    if (plen == hlen && strncasecmp(pattern, host, hlen) == 0)
        return true;
    if (plen < 3 || pattern[0] != '*' || pattern[1] != '.')
        return false;
    /* "*.example.com" stands for exactly one label: "a.example.com", not "a.b.example.com" and
     * not "example.com". */
    const char *dot = memchr(host, '.', hlen);
    if (!dot || dot == host)
        return false;
    size_t rest = hlen - (size_t)(dot - host);
    return rest == plen - 1 && strncasecmp(pattern + 1, dot, rest) == 0;
}

int reef_cert_check_host(const struct reef_cert *cert, const char *host, struct reef_err *err)
{
    size_t hlen = strlen(host);
    if (hlen == 0)
        return reef_err_set(err, -EKEYREJECTED, "certificate check: empty host name");
    char bare[INET6_ADDRSTRLEN + 2];
    const char *h = host;
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']' && hlen - 2 < sizeof(bare)) {
        memcpy(bare, host + 1, hlen - 2);
        bare[hlen - 2] = '\0';
        h = bare;
    }
    unsigned char ip[16];
    size_t iplen = 0;
    if (inet_pton(AF_INET, h, ip) == 1)
        iplen = 4;
    else if (inet_pton(AF_INET6, h, ip) == 1)
        iplen = 16;
    else if (strchr(host, '*'))
        return reef_err_set(err, -EKEYREJECTED, "certificate check: '*' in host name %s", host);
    else if (host[hlen - 1] == '.' && --hlen == 0) /* "example.com." is the same name */
        return reef_err_set(err, -EKEYREJECTED, "certificate check: empty host name");
    for (const mbedtls_x509_sequence *s = &cert->crt.subject_alt_names; s && s->buf.p;
         s = s->next) {
        if (iplen && s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)) {
            if (s->buf.len == iplen && memcmp(s->buf.p, ip, iplen) == 0)
                return 0;
        } else if (!iplen && s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2)) {
            if (dns_matches((const char *)s->buf.p, s->buf.len, host, hlen))
                return 0;
        }
    }
    return reef_err_set(err, -EKEYREJECTED, "certificate is not valid for %s %s",
                        iplen ? "IP address" : "host name", host);
}

/* ---- the CA ---------------------------------------------------------------------------------- */

void reef_cert_ca_free(struct reef_ca *ca)
{
    if (!ca)
        return;
    reef_cert_free(ca->cert);
    reef_cert_key_free(ca->key);
    free(ca);
}

const struct reef_cert *reef_cert_ca_cert(const struct reef_ca *ca)
{
    return ca->cert;
}

const struct reef_key *reef_cert_ca_key(const struct reef_ca *ca)
{
    return ca->key;
}

int reef_cert_ca_from_pem(struct reef_ca **out, const char *cert_pem, size_t cert_len,
                          const char *key_pem, size_t key_len, struct reef_err *err)
{
    *out = NULL;
    struct reef_ca *ca = calloc(1, sizeof(*ca));
    if (!ca)
        return reef_err_set(err, -ENOMEM, "load CA: out of memory");
    int r = reef_cert_from_pem(&ca->cert, cert_pem, cert_len, err);
    if (r == 0)
        r = reef_cert_key_from_pem(&ca->key, key_pem, key_len, err);
    if (r < 0) {
        reef_cert_ca_free(ca);
        return reef_err_wrap(err, "load CA");
    }
    mbedtls_x509_crt *crt = &ca->cert->crt;
    if (!crt->ca_istrue)
        r = reef_err_set(err, -EINVAL, "load CA: certificate is not a CA (no CA:TRUE)");
    else if (mbedtls_x509_crt_check_key_usage(crt, MBEDTLS_X509_KU_KEY_CERT_SIGN) != 0)
        r = reef_err_set(err, -EINVAL, "load CA: keyUsage does not allow signing certificates");
    else if (mbedtls_pk_check_pair(&crt->pk, &ca->key->pk) != 0)
        r = reef_err_set(err, -EINVAL, "load CA: private key does not match the certificate");
    if (r < 0) {
        reef_cert_ca_free(ca);
        return r;
    }
    *out = ca;
    return 0;
}

int reef_cert_ca_load(struct reef_ca **out, const char *cert_path, const char *key_path,
                      struct reef_err *err)
{
    *out = NULL;
    _cleanup_free_ char *cert_pem = NULL;
    char *key_pem = NULL;
    size_t cert_len, key_len;
    int r = read_small_file(cert_path, &cert_pem, &cert_len, err);
    if (r < 0)
        return reef_err_wrap(err, "load CA");
    r = read_small_file(key_path, &key_pem, &key_len, err);
    if (r < 0)
        return reef_err_wrap(err, "load CA");
    r = reef_cert_ca_from_pem(out, cert_pem, cert_len, key_pem, key_len, err);
    mbedtls_platform_zeroize(key_pem, key_len);
    free(key_pem);
    return r;
}
