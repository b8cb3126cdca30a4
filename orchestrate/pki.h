/* pki: the server's identity material under <data-dir>/server/ (docs/PKI.md).
 *
 * Owns the cluster CA, the API server's serving certificate, the administrator's client
 * certificate, the administrator's bearer token and the k3s-style join token: creating them on
 * the first start, loading them later, re-issuing the serving and admin certificates from the same
 * CA when a wanted name is missing or expiry is near. No network I/O: core/tls takes the PEM
 * material handed out here, and checks client certificates against the CA itself.
 *
 * Threads: reef_pki_ensure runs once at startup (it writes files). The struct reef_pki it returns
 * is immutable, so any thread may use the accessors and reef_pki_check_token at once. */
#ifndef REEF_ORCHESTRATE_PKI_H
#define REEF_ORCHESTRATE_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/cert.h"
#include "core/err.h"
#include "core/tls.h"

#define REEF_PKI_CA_DAYS 3650
#define REEF_PKI_CERT_DAYS 365
#define REEF_PKI_RENEW_DAYS 90          /* re-issue when a certificate expires sooner than this */
#define REEF_PKI_SERVICE_IP "10.43.0.1" /* first address of the default service range */
#define REEF_PKI_MAX_FILE (1024 * 1024) /* largest token file read */

struct reef_pki_opts {
    const char *data_dir; /* required */
    /* --tls-san values: IP literals become IP SANs, anything else DNS SANs. */
    const char *const *tls_sans;
    size_t n_tls_sans;
    /* NULL: gethostname(). An invalid DNS name is left out of the certificate. */
    const char *hostname;
    /* The machine's addresses. NULL: every address of the interfaces that are up (getifaddrs),
     * without loopback and IPv6 link-local; non-NULL: exactly these n_addresses (maybe 0). */
    const char *const *addresses;
    size_t n_addresses;
    const char *service_ip; /* NULL: REEF_PKI_SERVICE_IP */
    /* Time and lifetimes, for tests: now = 0 is the clock; days = 0 the defaults above. */
    time_t now;
    unsigned ca_days, cert_days, renew_days;
};

/* What reef_pki_ensure did, as a bit set (reef_pki_changes): for the log and for tests. */
enum {
    REEF_PKI_NEW_CA = 1 << 0,
    REEF_PKI_NEW_SERVER = 1 << 1, /* serving certificate issued (first start or re-issue) */
    REEF_PKI_NEW_ADMIN = 1 << 2,
    REEF_PKI_NEW_ADMIN_TOKEN = 1 << 3,
    REEF_PKI_NEW_JOIN_TOKEN = 1 << 4, /* created, or rewritten for another CA hash / bare form */
};

struct reef_pki;

/* Creates or loads everything described above. *out is the caller's, freed with reef_pki_free.
 * Fails (nothing is half-replaced: every file is replaced atomically) with -EINVAL for a bad
 * --tls-san or option, -EKEYREJECTED for a CA certificate without its key or a CA that will not
 * load, or the errno of a file operation; err names the file. */
int reef_pki_ensure(const struct reef_pki_opts *o, struct reef_pki **out, struct reef_err *err);
void reef_pki_free(struct reef_pki *pki); /* NULL is fine */

unsigned reef_pki_changes(const struct reef_pki *pki);

/* Paths of the files (borrowed, valid while pki lives). */
const char *reef_pki_ca_file(const struct reef_pki *pki);
const char *reef_pki_server_cert_file(const struct reef_pki *pki);
const char *reef_pki_server_key_file(const struct reef_pki *pki);
const char *reef_pki_admin_cert_file(const struct reef_pki *pki);
const char *reef_pki_admin_key_file(const struct reef_pki *pki);

/* File contents as NUL-terminated PEM (borrowed). The key PEMs are secrets. */
const char *reef_pki_ca_pem(const struct reef_pki *pki);
const char *reef_pki_server_cert_pem(const struct reef_pki *pki);
const char *reef_pki_server_key_pem(const struct reef_pki *pki);
const char *reef_pki_admin_cert_pem(const struct reef_pki *pki);
const char *reef_pki_admin_key_pem(const struct reef_pki *pki);

/* The loaded CA, to issue node and user certificates from later (borrowed). */
const struct reef_ca *reef_pki_ca(const struct reef_pki *pki);

/* Fills o with the serving certificate, its key and the CA as client CA (PEM fields, borrowed
 * from pki), ready for reef_tls_config_server_new. */
void reef_pki_tls_server_opts(const struct reef_pki *pki, struct reef_tls_server_opts *o);

/* Tokens (borrowed, NUL-terminated). */
const char *reef_pki_admin_token(const struct reef_pki *pki);
const char *reef_pki_join_token(const struct reef_pki *pki); /* K10<hash>::server:<secret> */
const char *reef_pki_ca_hash(const struct reef_pki *pki);    /* the <hash> part */

/* Whether presented is the admin bearer token. Time depends only on the lengths. NULL: false. */
bool reef_pki_check_token(const struct reef_pki *pki, const char *presented);
/* Whether presented is the join token: the full K10 form (its CA hash must be ours) or the bare
 * secret, as k3s accepts both. Constant time in the same way. */
bool reef_pki_check_join_token(const struct reef_pki *pki, const char *presented);

#endif
