/* Creating the CA and issuing certificates: the subject and issuer names, serials, validity, and
 * the extensions mbedtls 2.28 cannot write itself (subjectAltName, extendedKeyUsage and an
 * authorityKeyIdentifier copied from the CA), written here as DER by hand. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "core/cert.h"
#include "core/cert_internal.h"
#include "core/cleanup.h"
#include "core/crypto.h"

/* Prepends one attribute to a name list. mbedtls 2.28 has no call that adds a repeated attribute
 * (store_named_data replaces an existing O), so each node is made alone and linked here. The
 * writer emits the list back to front, so calls in certificate order give certificate order. */
static int name_add(mbedtls_asn1_named_data **head, const char *oid, size_t oid_len,
                    const unsigned char *val, size_t len, int tag)
{
    mbedtls_asn1_named_data *one = NULL;
    mbedtls_asn1_named_data *n = mbedtls_asn1_store_named_data(&one, oid, oid_len, val, len);
    if (!n)
        return -ENOMEM;
    n->val.tag = tag;
    n->next = *head;
    *head = n;
    return 0;
}

static int check_dn_value(const char *what, const char *v, struct reef_err *err)
{
    size_t len = v ? strlen(v) : 0;
    if (len == 0)
        return reef_err_set(err, -EINVAL, "issue certificate: empty %s", what);
    if (len > MBEDTLS_X509_MAX_DN_NAME_SIZE)
        return reef_err_set(err, -EINVAL, "issue certificate: %s longer than %d bytes", what,
                            MBEDTLS_X509_MAX_DN_NAME_SIZE);
    return 0;
}

/* Host names as certificates carry them: labels of letters, digits, '-' and '_', 1..63 bytes, at
 * most 253 in all, and optionally "*." in front. */
static bool dns_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253)
        return false;
    if (s[0] == '*' && s[1] == '.')
        s += 2;
    size_t label = 0;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63)
                return false;
            if (c == '\0')
                return true;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_') {
            label++;
        } else {
            return false;
        }
    }
}

/* DER writers. mbedtls writes ASN.1 back to front, from the end of buf towards buf; each helper
 * returns the length written (ending at buf + size) or an mbedtls error code, which
 * MBEDTLS_ASN1_CHK_ADD returns through `ret`. */

/* subjectAltName ::= SEQUENCE OF GeneralName, with dNSName [2] IA5String and iPAddress [7]
 * OCTET STRING, DNS names first, each kind in the caller's order. */
static int der_san(unsigned char *buf, size_t size, const char *const *dns, size_t n_dns,
                   unsigned char (*ips)[16], const size_t *iplen, size_t n_ips)
{
    unsigned char *p = buf + size;
    size_t len = 0;
    int ret;
    for (size_t i = n_ips; i-- > 0;) {
        MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(&p, buf, ips[i], iplen[i]));
        MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, iplen[i]));
        MBEDTLS_ASN1_CHK_ADD(len,
                             mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
    }
    for (size_t i = n_dns; i-- > 0;) {
        size_t n = strlen(dns[i]);
        MBEDTLS_ASN1_CHK_ADD(
            len, mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)dns[i], n));
        MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, n));
        MBEDTLS_ASN1_CHK_ADD(len,
                             mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
    }
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

/* extKeyUsage ::= SEQUENCE OF KeyPurposeId */
static int der_eku(unsigned char *buf, size_t size, unsigned usage)
{
    unsigned char *p = buf + size;
    size_t len = 0;
    int ret;
    if (usage & REEF_CERT_CLIENT)
        MBEDTLS_ASN1_CHK_ADD(len,
                             mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_CLIENT_AUTH,
                                                    MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)));
    if (usage & REEF_CERT_SERVER)
        MBEDTLS_ASN1_CHK_ADD(len,
                             mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
                                                    MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } */
static int der_aki(unsigned char *buf, size_t size, const unsigned char *id, size_t id_len)
{
    unsigned char *p = buf + size;
    size_t len = 0;
    int ret;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(&p, buf, id, id_len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, id_len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(
        len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int)len;
}

/* Adds an extension whose DER value the writer `n` (a der_* result) left at the end of buf. */
static int add_ext(mbedtls_x509write_cert *w, const char *oid, size_t oid_len, int critical,
                   const unsigned char *buf, size_t size, int n, const char *what,
                   struct reef_err *err)
{
    if (n < 0)
        return reef__cert_mbed_fail(err, -EINVAL, n, "issue certificate: %s", what);
    int r = mbedtls_x509write_crt_set_extension(w, oid, oid_len, critical, buf + size - (size_t)n,
                                                (size_t)n);
    return r ? reef__cert_mbed_fail(err, -ENOMEM, r, "issue certificate: %s", what) : 0;
}

/* mbedtls 2.28 cannot write subjectAltName itself. */
static int set_san(mbedtls_x509write_cert *w, const struct reef_cert_spec *spec,
                   struct reef_err *err)
{
    if (spec->n_dns + spec->n_ips == 0)
        return 0;
    unsigned char ips[REEF_CERT_MAX_NAMES][16];
    size_t iplen[REEF_CERT_MAX_NAMES];
    size_t size = 16;
    for (size_t i = 0; i < spec->n_ips; i++) {
        const char *t = spec->ips[i] ? spec->ips[i] : "";
        if (inet_pton(AF_INET, t, ips[i]) == 1)
            iplen[i] = 4;
        else if (inet_pton(AF_INET6, t, ips[i]) == 1)
            iplen[i] = 16;
        else
            return reef_err_set(err, -EINVAL, "issue certificate: invalid IP address \"%s\"", t);
        size += iplen[i] + 2;
    }
    for (size_t i = 0; i < spec->n_dns; i++) {
        if (!spec->dns[i] || !dns_name_ok(spec->dns[i]))
            return reef_err_set(err, -EINVAL, "issue certificate: invalid DNS name \"%s\"",
                                spec->dns[i] ? spec->dns[i] : "");
        size += strlen(spec->dns[i]) + 4;
    }
    _cleanup_free_ unsigned char *buf = malloc(size);
    if (!buf)
        return reef_err_set(err, -ENOMEM, "issue certificate: out of memory");
    int n = der_san(buf, size, spec->dns, spec->n_dns, ips, iplen, spec->n_ips);
    return add_ext(w, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
                   0, buf, size, n, "subjectAltName", err);
}

/* 2.28 has no writer for extendedKeyUsage either. */
static int set_eku(mbedtls_x509write_cert *w, unsigned usage, struct reef_err *err)
{
    unsigned char buf[64];
    int n = der_eku(buf, sizeof(buf), usage);
    return add_ext(w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
                   MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, buf, sizeof(buf), n,
                   "extendedKeyUsage", err);
}

/* Finds the CA's own subjectKeyIdentifier in its raw extensions (2.28 parses but does not keep
 * it), so the authorityKeyIdentifier of issued certificates names the CA exactly as the CA names
 * itself, whatever method its creator used. Returns false when the CA has none. */
static bool find_ca_ski(const mbedtls_x509_crt *ca, const unsigned char **id, size_t *id_len)
{
    if (!ca->v3_ext.p)
        return false;
    unsigned char *p = ca->v3_ext.p, *end = ca->v3_ext.p + ca->v3_ext.len;
    size_t len;
    if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0)
        return false;
    end = p + len;
    while (p < end) {
        if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
            return false;
        unsigned char *ext_end = p + len;
        mbedtls_x509_buf oid = {.tag = MBEDTLS_ASN1_OID};
        if (mbedtls_asn1_get_tag(&p, ext_end, &oid.len, MBEDTLS_ASN1_OID) != 0)
            return false;
        oid.p = p;
        p += oid.len;
        int critical;
        if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN &&
            mbedtls_asn1_get_bool(&p, ext_end, &critical) != 0)
            return false;
        if (OID_IS(&oid, MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER)) {
            size_t outer, inner;
            if (mbedtls_asn1_get_tag(&p, ext_end, &outer, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
                mbedtls_asn1_get_tag(&p, p + outer, &inner, MBEDTLS_ASN1_OCTET_STRING) != 0 ||
                inner == 0)
                return false;
            *id = p;
            *id_len = inner;
            return true;
        }
        p = ext_end;
    }
    return false;
}

static int set_aki(mbedtls_x509write_cert *w, const mbedtls_x509_crt *ca, struct reef_err *err)
{
    const unsigned char *id;
    size_t id_len;
    if (!find_ca_ski(ca, &id, &id_len) || id_len > 64) {
        int r = mbedtls_x509write_crt_set_authority_key_identifier(w);
        return r ? reef__cert_mbed_fail(err, -EINVAL, r,
                                        "issue certificate: authorityKeyIdentifier")
                 : 0;
    }
    unsigned char buf[80];
    int n = der_aki(buf, sizeof(buf), id, id_len);
    return add_ext(w, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
                   MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER), 0, buf, sizeof(buf), n,
                   "authorityKeyIdentifier", err);
}

/* A random positive 128-bit serial: RFC 5280 allows up to 20 octets, and CAs are expected to put
 * unpredictable bits in it. The top bit is cleared so the DER INTEGER is positive. */
static int set_serial(mbedtls_x509write_cert *w, struct reef_err *err)
{
    unsigned char b[16];
    int r = reef_crypto_random(b, sizeof(b), err);
    if (r < 0)
        return r;
    b[0] &= 0x7f;
    if (b[0] == 0)
        b[0] = 0x01; /* keeps the full width and rules out a zero serial */
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    r = mbedtls_mpi_read_binary(&serial, b, sizeof(b));
    if (r == 0)
        r = mbedtls_x509write_crt_set_serial(w, &serial);
    mbedtls_mpi_free(&serial);
    return r ? reef__cert_mbed_fail(err, -ENOMEM, r, "issue certificate: serial") : 0;
}

static int set_validity(mbedtls_x509write_cert *w, time_t now, unsigned days, struct reef_err *err)
{
    if (days == 0 || days > REEF_CERT_MAX_DAYS)
        return reef_err_set(err, -EINVAL, "issue certificate: lifetime %u days is not in 1..%d",
                            days, REEF_CERT_MAX_DAYS);
    if (now == 0)
        now = time(NULL);
    if (now < REEF_CERT_BACKDATE || now > (time_t)253402300799 - (time_t)days * 86400)
        return reef_err_set(err, -EINVAL, "issue certificate: issue time %lld out of range",
                            (long long)now);
    time_t from = now - REEF_CERT_BACKDATE, to = now + (time_t)days * 86400;
    char a[16], b[16];
    struct tm tm;
    if (!gmtime_r(&from, &tm) || strftime(a, sizeof(a), "%Y%m%d%H%M%S", &tm) != 14 ||
        !gmtime_r(&to, &tm) || strftime(b, sizeof(b), "%Y%m%d%H%M%S", &tm) != 14)
        return reef_err_set(err, -EINVAL, "issue certificate: cannot format validity");
    int r = mbedtls_x509write_crt_set_validity(w, a, b);
    return r ? reef__cert_mbed_fail(err, -EINVAL, r, "issue certificate: validity") : 0;
}

/* Signs the prepared certificate and parses the result back, so the caller gets exactly what a
 * peer will see. The DER size is not known in advance (names, RSA issuers), so the buffer grows. */
static int sign(mbedtls_x509write_cert *w, struct reef_cert **out, struct reef_err *err)
{
    for (size_t size = 4096; size <= 512 * 1024; size *= 2) {
        _cleanup_free_ unsigned char *buf = malloc(size);
        if (!buf)
            return reef_err_set(err, -ENOMEM, "sign certificate: out of memory");
        int n = mbedtls_x509write_crt_der(w, buf, size, reef_crypto_rng, NULL);
        if (n == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL || n == MBEDTLS_ERR_X509_BUFFER_TOO_SMALL)
            continue;
        if (n < 0)
            return reef__cert_mbed_fail(err, -EIO, n, "sign certificate");
        int r = reef_cert_from_der(out, buf + size - (size_t)n, (size_t)n, err);
        return r < 0 ? reef_err_wrap(err, "sign certificate") : 0;
    }
    return reef_err_set(err, -E2BIG, "sign certificate: certificate too large");
}

int reef_cert_issue(const struct reef_ca *ca, const struct reef_cert_spec *spec,
                    const struct reef_key *subject_key, struct reef_cert **out,
                    struct reef_err *err)
{
    *out = NULL;
    int r;
    if ((r = check_dn_value("CN", spec->cn, err)) < 0)
        return r;
    if (spec->n_orgs > REEF_CERT_MAX_NAMES || spec->n_dns > REEF_CERT_MAX_NAMES ||
        spec->n_ips > REEF_CERT_MAX_NAMES)
        return reef_err_set(err, -EINVAL, "issue certificate: more than %d names of one kind",
                            REEF_CERT_MAX_NAMES);
    for (size_t i = 0; i < spec->n_orgs; i++)
        if ((r = check_dn_value("O", spec->orgs[i], err)) < 0)
            return r;
    if (!(spec->usage & (REEF_CERT_SERVER | REEF_CERT_CLIENT)) ||
        (spec->usage & ~(unsigned)(REEF_CERT_SERVER | REEF_CERT_CLIENT)))
        return reef_err_set(err, -EINVAL, "issue certificate: usage 0x%x is not server/client",
                            spec->usage);

    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    /* The writer only reads the keys, through non-const pointers. */
    mbedtls_x509write_crt_set_subject_key(&w, (mbedtls_pk_context *)&subject_key->pk);
    mbedtls_x509write_crt_set_issuer_key(&w, (mbedtls_pk_context *)&ca->key->pk);

    /* Issuer = the CA's subject, attribute by attribute with its string types kept, so name
     * matching in any verifier sees the same name. */
    for (const mbedtls_x509_name *n = &ca->cert->crt.subject; n && n->oid.p && r == 0; n = n->next)
        if (name_add(&w.issuer, (const char *)n->oid.p, n->oid.len, n->val.p, n->val.len,
                     n->val.tag) < 0)
            r = reef_err_set(err, -ENOMEM, "issue certificate: out of memory");
    for (size_t i = 0; i < spec->n_orgs && r == 0; i++)
        if (name_add(&w.subject, MBEDTLS_OID_AT_ORGANIZATION,
                     MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION),
                     (const unsigned char *)spec->orgs[i], strlen(spec->orgs[i]),
                     MBEDTLS_ASN1_UTF8_STRING) < 0)
            r = reef_err_set(err, -ENOMEM, "issue certificate: out of memory");
    if (r == 0 &&
        name_add(&w.subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN),
                 (const unsigned char *)spec->cn, strlen(spec->cn), MBEDTLS_ASN1_UTF8_STRING) < 0)
        r = reef_err_set(err, -ENOMEM, "issue certificate: out of memory");

    if (r == 0)
        r = set_serial(&w, err);
    if (r == 0)
        r = set_validity(&w, spec->now, spec->days, err);
    if (r == 0 && (r = mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1)) != 0)
        r = reef__cert_mbed_fail(err, -ENOMEM, r, "issue certificate: basicConstraints");
    if (r == 0) {
        /* keyEncipherment matters only for RSA key exchange; an EC key never encrypts. */
        unsigned ku = MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
        if (mbedtls_pk_get_type(&subject_key->pk) == MBEDTLS_PK_RSA)
            ku |= MBEDTLS_X509_KU_KEY_ENCIPHERMENT;
        if ((r = mbedtls_x509write_crt_set_key_usage(&w, ku)) != 0)
            r = reef__cert_mbed_fail(err, -ENOMEM, r, "issue certificate: keyUsage");
    }
    if (r == 0)
        r = set_eku(&w, spec->usage, err);
    if (r == 0)
        r = set_san(&w, spec, err);
    if (r == 0 && (r = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0)
        r = reef__cert_mbed_fail(err, -ENOMEM, r, "issue certificate: subjectKeyIdentifier");
    if (r == 0)
        r = set_aki(&w, &ca->cert->crt, err);
    if (r == 0)
        r = sign(&w, out, err);
    mbedtls_x509write_crt_free(&w);
    return r;
}

/* ---- the CA ---------------------------------------------------------------------------------- */

int reef_cert_ca_create(const char *cn, unsigned days, time_t now, struct reef_ca **out,
                        struct reef_err *err)
{
    *out = NULL;
    int r = check_dn_value("CA CN", cn, err);
    if (r < 0)
        return r;
    struct reef_ca *ca = calloc(1, sizeof(*ca));
    if (!ca)
        return reef_err_set(err, -ENOMEM, "create CA: out of memory");
    r = reef_cert_key_generate(&ca->key, err);
    if (r < 0) {
        free(ca);
        return reef_err_wrap(err, "create CA");
    }
    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &ca->key->pk);
    mbedtls_x509write_crt_set_issuer_key(&w, &ca->key->pk);
    if (name_add(&w.subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN),
                 (const unsigned char *)cn, strlen(cn), MBEDTLS_ASN1_UTF8_STRING) < 0 ||
        name_add(&w.issuer, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN),
                 (const unsigned char *)cn, strlen(cn), MBEDTLS_ASN1_UTF8_STRING) < 0)
        r = reef_err_set(err, -ENOMEM, "create CA: out of memory");
    if (r == 0)
        r = set_serial(&w, err);
    if (r == 0)
        r = set_validity(&w, now, days, err);
    if (r == 0 && (r = mbedtls_x509write_crt_set_basic_constraints(&w, 1, -1)) != 0)
        r = reef__cert_mbed_fail(err, -ENOMEM, r, "create CA: basicConstraints");
    if (r == 0 && (r = mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                                   MBEDTLS_X509_KU_CRL_SIGN)) != 0)
        r = reef__cert_mbed_fail(err, -ENOMEM, r, "create CA: keyUsage");
    if (r == 0 && (r = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0)
        r = reef__cert_mbed_fail(err, -ENOMEM, r, "create CA: subjectKeyIdentifier");
    if (r == 0)
        r = sign(&w, &ca->cert, err);
    mbedtls_x509write_crt_free(&w);
    if (r < 0) {
        reef_cert_ca_free(ca);
        return r;
    }
    *out = ca;
    return 0;
}
