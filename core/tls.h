/* tls: TLS 1.2 over memory buffers (mbedtls 2.28), for use on a libuv stream or any byte pipe.
 *
 * The engine never touches a socket: the owner feeds it ciphertext read from the network
 * (reef_tls_feed), pulls plaintext out (reef_tls_read), pushes plaintext in (reef_tls_write) and
 * sends whatever ciphertext accumulates in reef_tls_out. ALPN offers and accepts only "http/1.1".
 *
 * A config (certificates, keys, CAs, RNG) is shared by many sessions and reference counted: each
 * session holds a reference, so the owner may unref its own at any time.
 *
 * Servers request a client certificate when a client CA is configured but do not require one
 * (bearer tokens and certificates work on the same port); the peer identity (subject CN and O) is
 * exposed only when the chain verified against that CA. Clients always verify the server: against
 * a given CA or the system bundle, and against the host name (DNS SANs, or IP SANs for an address).
 *
 * Everything here belongs to one thread at a time (a loop thread). */
#ifndef REEF_CORE_TLS_H
#define REEF_CORE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

#define REEF_TLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* Each credential comes either as PEM text (the *_pem field) or as a file path (*_file); PEM text
 * wins when both are set. Strings are only read during the call. */
struct reef_tls_server_opts {
    const char *cert_pem, *cert_file;           /* server certificate chain, leaf first */
    const char *key_pem, *key_file;             /* its private key */
    const char *client_ca_pem, *client_ca_file; /* optional: request and verify client certs */
};

struct reef_tls_client_opts {
    const char *ca_pem, *ca_file;     /* trusted CAs; neither set: REEF_TLS_SYSTEM_CA_FILE */
    const char *cert_pem, *cert_file; /* optional client certificate */
    const char *key_pem, *key_file;
    /* Accept any server certificate (registries.yaml's tls.insecure_skip_verify): the
     * connection is encrypted but its peer unauthenticated. Off unless configured. */
    bool insecure_skip_verify;
};

struct reef_tls_config;
struct reef_tls;

/* Both return a config with one reference (drop it with reef_tls_config_unref), or NULL with err
 * set ("tls: parse certificate /path: ..."). */
struct reef_tls_config *reef_tls_config_server_new(const struct reef_tls_server_opts *o,
                                                   struct reef_err *err);
struct reef_tls_config *reef_tls_config_client_new(const struct reef_tls_client_opts *o,
                                                   struct reef_err *err);
struct reef_tls_config *reef_tls_config_ref(struct reef_tls_config *c);
void reef_tls_config_unref(struct reef_tls_config *c);
bool reef_tls_config_is_server(const struct reef_tls_config *c);

/* A session. For a client config, host is the name or address the caller connected to: it is sent
 * as SNI (names only) and the server certificate must match it. host is ignored for servers.
 * The session takes a reference on cfg. Freed with reef_tls_free. */
struct reef_tls *reef_tls_new(struct reef_tls_config *cfg, const char *host, struct reef_err *err);
void reef_tls_free(struct reef_tls *t);

/* Appends ciphertext received from the peer (copied). -ENOMEM only. */
int reef_tls_feed(struct reef_tls *t, const void *data, size_t len);

/* Advances the handshake with what was fed. Returns 1 when complete (also on later calls), 0 when
 * it needs more input (send reef_tls_out first: it may hold handshake messages), or a negative
 * code with err set ("tls: handshake: certificate verify failed: ..."); a session that failed
 * stays failed. */
int reef_tls_handshake(struct reef_tls *t, struct reef_err *err);
bool reef_tls_handshake_done(const struct reef_tls *t);

/* Decrypts into out. Returns bytes (> 0), -EAGAIN when more input is needed, 0 when the peer sent
 * close_notify, or another negative code with err set. Runs the handshake first if needed. */
ssize_t reef_tls_read(struct reef_tls *t, void *out, size_t cap, struct reef_err *err);

/* Encrypts all of data into the output buffer. The handshake must be complete. 0 or negative. */
int reef_tls_write(struct reef_tls *t, const void *data, size_t len, struct reef_err *err);

/* Queues a close_notify alert into the output buffer. */
void reef_tls_close_notify(struct reef_tls *t);

/* Ciphertext waiting to be sent. The caller sends it and then empties it (reef_buf_reset), or
 * takes the memory with reef_buf_steal. The session keeps ownership of the struct. */
struct reef_buf *reef_tls_out(struct reef_tls *t);

/* After the handshake: true when the peer presented a certificate that verified against the
 * configured CA. The CN is the subject's CommonName ("" when absent or not verified); strings are
 * valid while the session lives. For a server only. */
#define REEF_TLS_MAX_ORGS 16
bool reef_tls_peer_verified(const struct reef_tls *t);
const char *reef_tls_peer_cn(const struct reef_tls *t);
/* The i-th Organization value (Kubernetes reads them as groups), NULL past the last. At most
 * REEF_TLS_MAX_ORGS are kept. */
const char *reef_tls_peer_o(const struct reef_tls *t, size_t i);

/* The negotiated ALPN protocol ("http/1.1") or NULL when the peer did not use ALPN. */
const char *reef_tls_alpn(const struct reef_tls *t);

#endif
