/* registries_conf: /etc/reef/registries.yaml, in the shape k3s reads:
 *
 *     mirrors:
 *       docker.io:                         # a registry name, or "*" for every registry
 *         endpoint: ["https://mirror:5000", "http://127.0.0.1:5001"]
 *         rewrite: {"^library/(.*)": "mirrored/$1"}
 *     configs:
 *       "mirror:5000":                     # host[:port] of an endpoint
 *         auth: {username: u, password: p}  # or auth: <base64 user:pass>, identitytoken: ...
 *         tls: {ca_file: ..., cert_file: ..., key_file: ..., insecure_skip_verify: false}
 *
 * and turns a reference into the ordered list of endpoints to try: the mirrors' endpoints (with
 * the rewrites applied to the repository path), then the registry itself. An endpoint written
 * "http://..." is spoken to in plain HTTP; a loopback registry without a mirror entry is tried in
 * HTTPS first and then in plain HTTP, as Docker and containerd do. Rewrites are POSIX extended
 * regular expressions with $1..$9 in the replacement.
 * Parsed data is immutable; any thread may read it. */
#ifndef REEF_RUNTIME_REGISTRIES_CONF_H
#define REEF_RUNTIME_REGISTRIES_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "runtime/image_ref.h"

#define REEF_REGISTRIES_YAML "/etc/reef/registries.yaml"
#define REEF_REGISTRY_MAX_ENDPOINTS 16

struct reef_registry_rewrite {
    char *pattern;
    char *replacement;
};

struct reef_registry_mirror {
    char *name; /* "docker.io", "127.0.0.1:5000", "*" */
    char **endpoints;
    size_t nendpoints;
    struct reef_registry_rewrite *rewrites;
    size_t nrewrites;
};

struct reef_registry_config {
    char *host;                /* "mirror:5000" */
    char *username, *password; /* from auth.username/password or auth.auth */
    char *identity_token;      /* auth.identitytoken: sent as the token-service refresh */
    char *ca_file, *cert_file, *key_file; /* tls */
    bool insecure_skip_verify;
};

struct reef_registries_conf {
    struct reef_registry_mirror *mirrors;
    size_t nmirrors;
    struct reef_registry_config *configs;
    size_t nconfigs;
};

/* One place to ask for an image. */
struct reef_registry_endpoint {
    char base[300];                     /* "https://host:port" (no trailing slash) */
    char host[260];                     /* "host:port" as written, for configs and messages */
    char path[REEF_IMAGE_NAME_MAX + 1]; /* repository path after rewrites */
    bool plain_http;
    bool is_mirror;
    bool fallback; /* the plain-HTTP retry of an unconfigured loopback registry */
    const struct reef_registry_config *cfg; /* NULL when none; owned by the conf */
};

/* Parses YAML text. An empty document gives an empty configuration. The caller frees *out with
 * reef_registries_conf_free. -EINVAL with a message naming the key for malformed input. */
int reef_registries_conf_parse(const char *yaml, size_t len, struct reef_registries_conf **out,
                               struct reef_err *err);
/* Reads path (NULL: REEF_REGISTRIES_YAML); a missing file gives an empty configuration. */
int reef_registries_conf_load(const char *path, struct reef_registries_conf **out,
                              struct reef_err *err);
void reef_registries_conf_free(struct reef_registries_conf *c);

/* The config for host ("host:port"), or NULL. */
const struct reef_registry_config *reef_registries_conf_find(const struct reef_registries_conf *c,
                                                             const char *host);

/* Sets the username and password for host ("host:port"), over what the file says (a pod's
 * imagePullSecrets). Call before computing endpoints: it may move the configs. */
int reef_registries_conf_set_auth(struct reef_registries_conf *c, const char *host,
                                  const char *username, const char *password,
                                  struct reef_err *err);

/* Fills out[0..max) with the endpoints to try for ref, in order; returns their count (>= 1) or a
 * negative code (a rewrite that does not compile or produces an invalid path). c may be NULL. */
int reef_registries_conf_endpoints(const struct reef_registries_conf *c,
                                   const struct reef_image_ref *ref,
                                   struct reef_registry_endpoint *out, size_t max,
                                   struct reef_err *err);

#endif
