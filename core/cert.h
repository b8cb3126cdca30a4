/* cert: private keys, the cluster CA, and the X.509 certificates it issues.
 *
 * Owns everything reef does with certificates: ECDSA P-256 key generation, keys and certificates
 * to and from PEM, creating or loading the CA, issuing server certificates (DNS and IP subject
 * alternative names, serverAuth) and client certificates (CN = user, O = groups, clientAuth, as the
 * Kubernetes API server reads them: O=system:masters makes an administrator), reading a
 * certificate's names and lifetime back, verifying a certificate against a CA, fingerprints, the
 * CA hash carried in join tokens (K10<sha256 of the CA certificate PEM>::server:<secret>, the k3s
 * format) and writing key files safely.
 *
 * Keys generated here are P-256. Keys and CAs loaded from PEM may also be RSA or another EC curve
 * (an operator's existing CA); certificates are always signed with SHA-256.
 *
 * Time: certificates start one hour in the past (REEF_CERT_BACKDATE) so that a peer whose clock is
 * a little behind accepts them. Issuing takes the current time from the caller (0 means the clock),
 * so tests can make certificates that are already expired; verification always uses the clock.
 *
 * Threads: objects are immutable after creation, so one object may be used by several threads at
 * once (issuing from one CA in parallel, or sharing a CA certificate and key between TLS contexts,
 * is fine); freeing needs the usual exclusive ownership. That includes the mbedtls objects handed
 * out below: mbedtls 2.28 lazily caches an EC table inside a key on its first use, a hidden write,
 * so every key and certificate made here has that table filled before it is returned.
 * Randomness comes from reef_crypto_rng, which holds no shared state. */
#ifndef REEF_CORE_CERT_H
#define REEF_CORE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "core/crypto.h"
#include "core/err.h"

struct reef_key;  /* a private key (and its public half) */
struct reef_cert; /* one parsed certificate, or a bundle of them (the first is "the" certificate) */
struct reef_ca;   /* a CA certificate with its private key */

/* The underlying mbedtls objects, for the TLS module's mbedtls_ssl_conf_own_cert / ca_chain. */
struct mbedtls_pk_context;
struct mbedtls_x509_crt;

#define REEF_CERT_BACKDATE 3600         /* seconds notBefore lies before the issue time */
#define REEF_CERT_MAX_DAYS 36500        /* longest lifetime accepted (100 years) */
#define REEF_CERT_MAX_NAMES 256         /* most SANs or O values in one certificate */
#define REEF_CERT_MAX_PEM (1024 * 1024) /* largest PEM input or file read */

/* Extended key usages, as a bit set. */
enum {
    REEF_CERT_SERVER = 1 << 0, /* id-kp-serverAuth */
    REEF_CERT_CLIENT = 1 << 1, /* id-kp-clientAuth */
};

/* ---- keys ------------------------------------------------------------------------------------ */

/* Generates an ECDSA P-256 key. *out is the caller's, freed with reef_cert_key_free. */
int reef_cert_key_generate(struct reef_key **out, struct reef_err *err);
void reef_cert_key_free(struct reef_key *key); /* NULL is fine */

/* Writes the key as PEM: SEC1 "EC PRIVATE KEY" for EC keys ("RSA PRIVATE KEY" for RSA). *pem is a
 * NUL-terminated string the caller frees (it holds a secret: wipe it or write it and free it). */
int reef_cert_key_to_pem(const struct reef_key *key, char **pem, struct reef_err *err);

/* Reads an unencrypted private key from PEM: SEC1 "EC PRIVATE KEY", PKCS#8 "PRIVATE KEY" or
 * PKCS#1 "RSA PRIVATE KEY". pem need not be NUL-terminated. *out as for reef_cert_key_generate. */
int reef_cert_key_from_pem(struct reef_key **out, const char *pem, size_t len,
                           struct reef_err *err);
int reef_cert_key_load(struct reef_key **out, const char *path, struct reef_err *err);

/* Writes the key's PEM to path with mode 0600, atomically (see reef_cert_write_file). */
int reef_cert_key_save(const struct reef_key *key, const char *path, struct reef_err *err);

/* Borrowed pointer into the key (valid while the key lives). */
struct mbedtls_pk_context *reef_cert_key_mbedtls(const struct reef_key *key);

/* ---- certificates ---------------------------------------------------------------------------- */

/* Parses one or more PEM certificates (a bundle); every block must parse. *out is the caller's,
 * freed with reef_cert_free. */
int reef_cert_from_pem(struct reef_cert **out, const char *pem, size_t len, struct reef_err *err);
/* Parses one DER certificate (as a TLS peer presents it). */
int reef_cert_from_der(struct reef_cert **out, const void *der, size_t len, struct reef_err *err);
int reef_cert_load(struct reef_cert **out, const char *path, struct reef_err *err);
void reef_cert_free(struct reef_cert *cert); /* NULL is fine */

/* PEM of every certificate in the bundle, in order, each as "-----BEGIN CERTIFICATE-----\n", 64
 * column lines, "-----END CERTIFICATE-----\n". *pem is NUL-terminated, caller frees; *len (may be
 * NULL) gets strlen(*pem). The same certificate always gives the same bytes. */
int reef_cert_to_pem(const struct reef_cert *cert, char **pem, size_t *len, struct reef_err *err);

/* Borrowed DER of the first certificate (valid while cert lives). */
const unsigned char *reef_cert_der(const struct reef_cert *cert, size_t *len);

/* Lowercase hex SHA-256 of the first certificate's DER (what `openssl x509 -fingerprint -sha256`
 * prints, without colons). */
void reef_cert_fingerprint(const struct reef_cert *cert, char out[REEF_SHA256_HEX_LEN + 1]);

/* Borrowed pointer to the mbedtls chain (valid while cert lives). */
struct mbedtls_x509_crt *reef_cert_mbedtls(const struct reef_cert *cert);

/* What a certificate says about its subject. Filled by reef_cert_inspect; every string and array
 * is owned by the info and released by reef_cert_info_free (the struct itself is the caller's). */
struct reef_cert_info {
    char *cn;    /* subject commonName, NULL when absent */
    char **orgs; /* subject organizationName values, in certificate order */
    size_t n_orgs;
    char **dns; /* dNSName SANs */
    size_t n_dns;
    char **ips; /* iPAddress SANs as text ("10.0.0.1", "fd00::1") */
    size_t n_ips;
    time_t not_before, not_after;
    bool is_ca;      /* basicConstraints CA:TRUE */
    unsigned usage;  /* REEF_CERT_SERVER | REEF_CERT_CLIENT named in extendedKeyUsage */
    char serial[65]; /* serial number as lowercase hex (up to 32 bytes) */
};

/* Reads the first certificate. Fails with -EBADMSG for names that are not text (embedded NUL, or a
 * malformed IP address entry). On failure info holds nothing to free. */
int reef_cert_inspect(const struct reef_cert *cert, struct reef_cert_info *info,
                      struct reef_err *err);
void reef_cert_info_free(struct reef_cert_info *info);

/* Verifies the first certificate of cert (later ones are used as intermediates) against the CA
 * certificate(s) in ca: signature chain, validity period at the current time, and, when usage is
 * non-zero, that its extendedKeyUsage allows each usage asked for (a certificate without that
 * extension allows every usage, as RFC 5280 says). Returns 0, -EKEYEXPIRED when the
 * only problem is time (expired or not yet valid), or -EKEYREJECTED with mbedtls' reasons in the
 * message ("certificate not trusted: The certificate is not correctly signed by the trusted CA").
 */
int reef_cert_verify(const struct reef_cert *cert, const struct reef_cert *ca, unsigned usage,
                     struct reef_err *err);

/* Whether the first certificate names host: an IP literal (v4 or v6, any spelling) must equal an
 * iPAddress SAN; anything else must match a dNSName SAN case-insensitively, where "*.example.com"
 * matches exactly one leftmost label. The CN is not consulted (RFC 6125, and what Go requires).
 * Returns 0 or -EKEYREJECTED. Exists because mbedtls 2.28's own host check ignores IP SANs. */
int reef_cert_check_host(const struct reef_cert *cert, const char *host, struct reef_err *err);

/* ---- the CA ---------------------------------------------------------------------------------- */

/* Creates a self-signed CA: new P-256 key, subject CN=cn, valid from now - REEF_CERT_BACKDATE for
 * days days, basicConstraints CA:TRUE (critical), keyUsage keyCertSign|cRLSign (critical), subject
 * key identifier. now = 0 means the clock. *out is the caller's, freed with reef_cert_ca_free. */
int reef_cert_ca_create(const char *cn, unsigned days, time_t now, struct reef_ca **out,
                        struct reef_err *err);

/* Loads a CA from its certificate and key PEM. Refuses a certificate that is not a CA, one whose
 * keyUsage forbids signing certificates, and a key that is not the certificate's. */
int reef_cert_ca_from_pem(struct reef_ca **out, const char *cert_pem, size_t cert_len,
                          const char *key_pem, size_t key_len, struct reef_err *err);
int reef_cert_ca_load(struct reef_ca **out, const char *cert_path, const char *key_path,
                      struct reef_err *err);
void reef_cert_ca_free(struct reef_ca *ca); /* NULL is fine */

/* Borrowed parts of the CA (valid while ca lives). */
const struct reef_cert *reef_cert_ca_cert(const struct reef_ca *ca);
const struct reef_key *reef_cert_ca_key(const struct reef_ca *ca);

/* What to put in an issued certificate. Arrays may be NULL when their count is 0. */
struct reef_cert_spec {
    const char *cn;          /* subject CN, required (node name, user name, service) */
    const char *const *orgs; /* subject O values, in order (Kubernetes groups) */
    size_t n_orgs;
    const char *const *dns; /* dNSName SANs; "*.x.y" wildcards allowed */
    size_t n_dns;
    const char *const *ips; /* iPAddress SANs as text, IPv4 or IPv6 */
    size_t n_ips;
    unsigned usage; /* REEF_CERT_SERVER and/or REEF_CERT_CLIENT, at least one */
    unsigned days;  /* lifetime, 1..REEF_CERT_MAX_DAYS */
    time_t now;     /* issue time; 0 = the clock */
};

/* Issues a certificate for subject_key's public half, signed by ca: fresh random positive 128-bit
 * serial, validity [now - REEF_CERT_BACKDATE, now + days], basicConstraints CA:FALSE, keyUsage
 * digitalSignature (plus keyEncipherment for an RSA subject key), extendedKeyUsage from usage,
 * subjectAltName from dns and ips, authority and subject key identifiers. Returns -EINVAL naming
 * the bad field for an empty CN, a malformed DNS name or IP address, too many names or a bad
 * lifetime. *out is the caller's, freed with reef_cert_free. */
int reef_cert_issue(const struct reef_ca *ca, const struct reef_cert_spec *spec,
                    const struct reef_key *subject_key, struct reef_cert **out,
                    struct reef_err *err);

/* ---- files and hashes ------------------------------------------------------------------------ */

/* Lowercase hex SHA-256 of the CA certificate PEM exactly as served to joining nodes: the hash in
 * a K10 join token. The joiner hashes the bytes it downloaded, so both sides must hash the very
 * bytes the server sends (use reef_cert_to_pem's output, or the file's bytes, consistently). */
void reef_cert_pem_hash(const char *pem, size_t len, char out[REEF_SHA256_HEX_LEN + 1]);

/* Replaces path with data[0..len) atomically: writes a temporary file in the same directory
 * created with mode 0600 (then set to mode), fsyncs it, renames it over path and fsyncs the
 * directory. Readers see the old file or the new one, never a part; a crash leaves at most a
 * ".<name>.tmp*" file behind. Returns 0 or a negative errno. */
int reef_cert_write_file(const char *path, const void *data, size_t len, mode_t mode,
                         struct reef_err *err);

#endif
