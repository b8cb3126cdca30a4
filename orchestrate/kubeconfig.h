/* kubeconfig: writing the administrator's kubeconfig and reading one for reef's own client.
 *
 * Owns the kubeconfig file format (docs/PKI.md): writing it in the shape k3s and kubectl produce
 * (one cluster, one user and one context, all named "default", credentials inline as base64), and
 * reading any kubeconfig kubectl reads — YAML or JSON, inline or file credentials, a token or
 * tokenFile — down to what one connection needs. Reading converts YAML with core/yaml and walks
 * the JSON with core/json; every error names the file and the field.
 *
 * The functions keep no state; any thread may call them. */
#ifndef REEF_ORCHESTRATE_KUBECONFIG_H
#define REEF_ORCHESTRATE_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

#define REEF_KUBECONFIG_PATH "/etc/reef/reef.yaml"
#define REEF_KUBECONFIG_SERVER "https://127.0.0.1:6443"
#define REEF_KUBECONFIG_MODE 0600
#define REEF_KUBECONFIG_MAX_FILE (4u << 20) /* largest kubeconfig read */
#define REEF_KUBECONFIG_MAX_CRED (1u << 20) /* largest certificate, key or token file read */

/* What to write. Strings are only read during the call. */
struct reef_kubeconfig_write_opts {
    const char *path;   /* NULL: REEF_KUBECONFIG_PATH */
    mode_t mode;        /* 0: REEF_KUBECONFIG_MODE */
    const char *server; /* NULL: REEF_KUBECONFIG_SERVER */
    const char *name;   /* cluster, user and context name; NULL: "default" */
    const char *ca_pem; /* required */
    /* The user: a client certificate and key (PEM), or a bearer token, or both. */
    const char *cert_pem, *key_pem;
    const char *token;
};

/* Appends the kubeconfig YAML to out (the caller's). -EINVAL when a required field is missing. */
int reef_kubeconfig_render(const struct reef_kubeconfig_write_opts *o, struct reef_buf *out,
                           struct reef_err *err);

/* Renders and writes atomically with the mode (the file is 0600 while being written), creating
 * missing parent directories with mode 0755. */
int reef_kubeconfig_write(const struct reef_kubeconfig_write_opts *o, struct reef_err *err);

/* Parses a --write-kubeconfig-mode value: octal digits, with or without a leading 0 ("644",
 * "0600"), at most 0777. Returns 0 or -EINVAL. */
int reef_kubeconfig_parse_mode(const char *s, mode_t *out, struct reef_err *err);

/* One context resolved to what a client needs. Every pointer is owned by the struct and released
 * by reef_kubeconfig_free (the struct itself is the caller's); absent values are NULL / 0. PEM
 * fields are NUL-terminated and their lengths given. */
struct reef_kubeconfig {
    char *path;      /* the file that was read */
    char *context;   /* the context used */
    char *namespace; /* the context's namespace */
    char *server;    /* cluster.server, always set */
    char *tls_server_name;
    bool insecure_skip_tls_verify;
    char *ca_pem; /* certificate-authority-data, or the certificate-authority file */
    size_t ca_len;
    char *cert_pem; /* client-certificate-data, or the client-certificate file */
    size_t cert_len;
    char *key_pem; /* client-key-data, or the client-key file (a secret) */
    size_t key_len;
    char *token; /* token, or the contents of tokenFile (trimmed) */
};

/* Which file reef_kubeconfig_load reads for path: path itself when non-NULL and non-empty, else
 * the first non-empty entry of $KUBECONFIG (a colon-separated list), else REEF_KUBECONFIG_PATH.
 * Returns a malloc'd string the caller frees, or NULL on ENOMEM. */
char *reef_kubeconfig_resolve_path(const char *path);

/* Reads the kubeconfig (see reef_kubeconfig_resolve_path) and resolves context (NULL or "": its
 * current-context) to its cluster and user. Relative file paths in it are taken relative to the
 * kubeconfig's directory. Returns 0, or -ENOENT (no such file / context / cluster / user),
 * -EINVAL (malformed YAML, a field of the wrong type, bad base64, no server), -EFBIG, or another
 * errno, with messages like
 *     "kubeconfig /root/.kube/config: users[0].user.client-key-data: invalid base64 ...".
 * On failure cfg holds nothing to free. */
int reef_kubeconfig_load(const char *path, const char *context, struct reef_kubeconfig *cfg,
                         struct reef_err *err);

/* Parses kubeconfig text as if read from path (used for relative file names and in messages). */
int reef_kubeconfig_parse(const char *path, const char *text, size_t len, const char *context,
                          struct reef_kubeconfig *cfg, struct reef_err *err);

void reef_kubeconfig_free(struct reef_kubeconfig *cfg);

#endif
