/* registry: a client for one repository of an OCI distribution registry (Docker Hub, GHCR, a
 * private registry, a mirror).
 *
 * It owns the endpoint list (mirrors first, see registries_conf.h), authentication (anonymous
 * first; a 401 with `WWW-Authenticate: Bearer realm=...,service=...,scope=...` fetches a token from
 * the realm, with basic credentials when configured, or POSTs the OAuth2 refresh-token form when
 * an identity token is; `Basic` challenges are answered from the configuration), retries with
 * back-off on transient failures (connection errors, timeouts, 429, 5xx), and an inactivity timeout
 * on every request. Blob downloads stream to a callback and resume with a Range request after a
 * broken connection, so the consumer sees each byte exactly once. Redirects are followed; the
 * registry's credentials never go to another host.
 *
 * Each request runs a private event loop on the calling thread, so a handle may be used from
 * several threads at once (one blob per thread); the token cache is shared under a mutex. */
#ifndef REEF_RUNTIME_REGISTRY_H
#define REEF_RUNTIME_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "runtime/image_ref.h"
#include "runtime/registries_conf.h"

/* Media types reef knows. */
#define REEF_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define REEF_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define REEF_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define REEF_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define REEF_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define REEF_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define REEF_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define REEF_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define REEF_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define REEF_MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
/* The Accept header of a manifest request: every manifest and index type above. */
#define REEF_MANIFEST_ACCEPT                                                                       \
    REEF_MT_OCI_INDEX ", " REEF_MT_OCI_MANIFEST ", " REEF_MT_DOCKER_LIST                           \
                      ", " REEF_MT_DOCKER_MANIFEST

#define REEF_MANIFEST_MAX (4u << 20) /* manifests and indexes larger than this are refused */

struct reef_registry;

struct reef_registry_opts {
    const struct reef_registries_conf *conf; /* NULL: no mirrors, no credentials */
    unsigned timeout_ms; /* connect, and the longest silence inside a request [30 s] */
    int attempts;        /* tries per request on transient failures [4] */
    unsigned backoff_ms; /* first back-off, doubled each retry [250 ms] */
};

/* A client for ref's repository. opts may be NULL. Nothing is contacted yet. */
int reef_registry_open(const struct reef_image_ref *ref, const struct reef_registry_opts *opts,
                       struct reef_registry **out, struct reef_err *err);
void reef_registry_close(struct reef_registry *r);

/* GET /v2/ on the first endpoint that answers, authenticating when challenged. */
int reef_registry_ping(struct reef_registry *r, struct reef_err *err);

/* Fetches the manifest or index named by reference (a tag or a digest) into body (appended; at
 * most REEF_MANIFEST_MAX bytes). media_type (128 bytes) receives the Content-Type (or the
 * document's own mediaType when the server sent none), digest (REEF_DIGEST_MAX bytes) the
 * SHA-256 of the body; when reference is a digest the body must match it. Unknown media types are
 * refused by name. 404 gives -ENOENT ("manifest unknown"), 401/403 -EACCES. */
int reef_registry_manifest(struct reef_registry *r, const char *reference, struct reef_buf *body,
                           char *media_type, char *digest, struct reef_err *err);

/* Streams blob digest to fn, in order, each byte once (retries resume where they stopped).
 * fn returns 0 to go on or a negative code to stop (returned as is). Nothing here verifies the
 * content: the consumer (blobstore writer) does. */
typedef int (*reef_registry_data_fn)(void *ud, const void *data, size_t len);
int reef_registry_blob(struct reef_registry *r, const char *digest, reef_registry_data_fn fn,
                       void *ud, struct reef_err *err);

/* The endpoint host that answered last ("127.0.0.1:5000"), for messages. */
const char *reef_registry_host(const struct reef_registry *r);

/* --- pure helpers (exposed for tests) --- */

struct reef_auth_challenge {
    char scheme[16]; /* "Bearer", "Basic" */
    char realm[512];
    char service[256];
    char scope[512];
    char error[64];
};

/* Parses a WWW-Authenticate value (first challenge; quoted and bare values, escapes). -EINVAL
 * when malformed. */
int reef_registry_parse_challenge(const char *value, struct reef_auth_challenge *out,
                                  struct reef_err *err);
/* The token URL for a Bearer challenge: realm?service=...&scope=... (percent-encoded), with
 * scope defaulting to repository:<path>:pull when the challenge has none. Appends to out. */
int reef_registry_token_url(const struct reef_auth_challenge *c, const char *path,
                            struct reef_buf *out);
/* The OAuth2 form POSTed to the realm for a configured identity token (a refresh token):
 * grant_type=refresh_token, client_id=reef, service, scope (as above), refresh_token. */
int reef_registry_token_form(const struct reef_auth_challenge *c, const char *path,
                             const char *refresh_token, struct reef_buf *out);
/* Whether a failure deserves a retry: transport errors such as -ECONNRESET or -ETIMEDOUT, or an
 * HTTP status of 408, 429 or 5xx. */
bool reef_registry_transient(int result, int status);
/* Whether media type mt is one reef accepts as a manifest (1), an index (2), or neither (0). */
int reef_registry_manifest_kind(const char *mt);

#endif
