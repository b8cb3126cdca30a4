/* cert internals: what core/cert.c (keys, parsing, inspection, verification, the CA's lifecycle)
 * and core/cert_issue.c (creating the CA and issuing certificates) share. Not for other modules:
 * they use core/cert.h. The thread rules are those of core/cert.h. */
#ifndef REEF_CORE_CERT_INTERNAL_H
#define REEF_CORE_CERT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "core/cert.h"
#include "core/err.h"

struct reef_key {
    mbedtls_pk_context pk;
};

struct reef_cert {
    mbedtls_x509_crt crt;
};

/* Owns both halves; reef_cert_ca_free frees them. */
struct reef_ca {
    struct reef_cert *cert;
    struct reef_key *key;
};

/* Translates an mbedtls failure once, here at the adapter: "<what>: <mbedtls text> (-0xNNNN)".
 * An out-of-memory code from any mbedtls layer becomes -ENOMEM, anything else `code`. Returns the
 * code it stored. */
int reef__cert_mbed_fail(struct reef_err *err, int code, int mret, const char *fmt, ...)
    REEF_PRINTF(4, 5);

static inline bool reef__cert_oid_is(const mbedtls_x509_buf *oid, const char *want, size_t want_len)
{
    return oid->len == want_len && memcmp(oid->p, want, want_len) == 0;
}
#define OID_IS(buf, oid) reef__cert_oid_is((buf), oid, MBEDTLS_OID_SIZE(oid))

#endif
