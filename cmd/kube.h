/* kube: the pieces shared by reef's kubectl-style client commands (get, apply, delete, ...): the
 * resource types reef serves and their names, one connection built from a kubeconfig, requests
 * to the API server, and the server's errors printed as kubectl prints them.
 *
 * Command-line only: single-threaded, synchronous. */
#ifndef REEF_CMD_KUBE_H
#define REEF_CMD_KUBE_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/http_client.h"
#include "core/json.h"
#include "orchestrate/kubeconfig.h"

struct reef_cmd;

struct reef_kube_type {
    const char *plural;   /* "deployments" */
    const char *singular; /* "deployment" */
    const char *shorts;   /* short names separated by ',' ("deploy"), or "" */
    const char *group;    /* "" for the core group */
    const char *version;  /* "v1" */
    const char *kind;     /* "Deployment" */
    bool namespaced;
};

/* Resolves what a user types ("po", "pods", "deployment.apps") like kubectl; NULL if unknown. */
const struct reef_kube_type *reef_kube_type_find(const char *name);
/* The type of a manifest's apiVersion and kind; NULL if reef does not serve it. */
const struct reef_kube_type *reef_kube_type_of_kind(const char *api_version, const char *kind);

/* A connection: the kubeconfig and the HTTP options it gives. */
struct reef_kube {
    struct reef_kubeconfig cfg;
    struct reef_http_client_opts opts;
    char ns[254]; /* -n, else the context's namespace, else "default" */
    bool ns_given;
};

/* Loads the kubeconfig (--kubeconfig, $KUBECONFIG, /etc/reef/reef.yaml). ns may be NULL. */
int reef_kube_open(struct reef_kube *k, const char *kubeconfig, const char *ns,
                   struct reef_err *err);
void reef_kube_close(struct reef_kube *k);

/* The path of a collection ("/apis/apps/v1/namespaces/NS/deployments"), or of one object when
 * name is not NULL. ns is ignored for cluster-scoped types; NULL lists across namespaces. */
void reef_kube_path(struct reef_buf *out, const struct reef_kube_type *t, const char *ns,
                    const char *name);

/* Appends s percent-encoded (everything but letters, digits and -_.~) for a path or query. */
void reef_kube_escape(struct reef_buf *out, const char *s);

/* One synchronous request to path (query included). accept and content_type may be NULL. The
 * result is the caller's (reef_http_result_free). */
int reef_kube_do(struct reef_kube *k, const char *method, const char *path, const char *accept,
                 const char *content_type, const char *body, size_t body_len,
                 struct reef_http_result *res, struct reef_err *err);
/* Streams the response body of a GET (a watch) to on_data until it ends or on_data fails. */
int reef_kube_stream(struct reef_kube *k, const char *path, const char *accept,
                     int (*on_data)(void *ud, const char *data, size_t len), void *ud,
                     struct reef_err *err);

/* Prints a failed response as kubectl does ("Error from server (NotFound): pods "x" not found")
 * to stderr. */
void reef_kube_print_status(const struct reef_http_result *res);
/* The same for an object read from source (a file name, or NULL), verb being what failed
 * ("creating", the default, or "deleting"):
 * "Error from server (AlreadyExists): error when creating "x.yaml": ..." */
void reef_kube_print_status_from(const struct reef_http_result *res, const char *source,
                                 const char *verb);
/* A Go duration ("1m30s", "500ms", "0") in milliseconds, rounded up; -EINVAL when malformed,
 * -ERANGE when too long. */
int reef_kube_parse_duration(const char *s, int64_t *ms);
/* --timeout's value parsed as kubectl does (0 when good); else kubectl's error printed, 1. */
int reef_kube_timeout_flag(const char *arg, int64_t *ms);
/* A Go boolean flag value ("true", "1", "F", ...); -EINVAL otherwise. */
int reef_kube_parse_bool(const char *s, bool *out);
/* Prints "error: MESSAGE" to stderr and returns 1. */
int reef_kube_fail(const char *msg);

/* "deployment.apps" / "pod": how kubectl names a type in messages. */
void reef_kube_type_ref(struct reef_buf *out, const struct reef_kube_type *t);

/* Moves argv's operands behind its options (flags may come anywhere, as kubectl takes them). */
void reef_kube_permute(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* Appends the output of kubectl's -o jsonpath template tmpl for document d: {.a.b[0]}, [*],
 * {range EXPR}...{end}, {"literal"}; several results of one expression are separated by spaces,
 * objects and arrays printed as compact JSON. -EINVAL for a template it cannot run. */
int reef_kube_jsonpath(const char *tmpl, const struct reef_json_doc *d, struct reef_buf *out,
                       struct reef_err *err);

/* Internal: reads "TYPE NAME" or "TYPE/NAME" at argv[*i] (advancing *i); returns 0, or prints
 * kubectl's error and returns 1. */
int reef__kube_type_and_name(int argc, char **argv, int *i, const struct reef_kube_type **t,
                             const char **name);

/* The exit status of a request made with reef_kube_do, which returned rc: 0 when it succeeded
 * (a status below 300), else 1 after printing why as kubectl does. */
int reef__kube_status(int rc, const struct reef_http_result *res, const struct reef_err *err);

/* Internal: a command on one named object (label, annotate, scale, rollout restart, edit): its
 * -n and --kubeconfig, the object, the connection, the object's path and its kubectl name. */
struct reef_kube_one {
    const char *ns, *kcfg;
    const struct reef_kube_type *t;
    const char *name;
    struct reef_kube k;
    struct reef_buf path; /* the object's path */
    struct reef_buf ref;  /* "deployment.apps", see reef_kube_type_ref */
};

/* getopt code of --kubeconfig in the options of such a command; its own options come after. */
#define REEF_KUBE_O_KC 256

/* reef_cmd_getopt for such a command with short options "n:": takes -n and --kubeconfig into o and
 * returns every other option ('h', the command's own, '?'), or -1 at the end. */
int reef__kube_one_getopt(struct reef_kube_one *o, const struct reef_cmd *cmd, int argc,
                          char **argv, const struct option *longopts);
/* Parses the options of such a command that has no others: -1 to go on with its operands at
 * optind, else the exit status to return at once (0 after --help). */
int reef__kube_one_options(struct reef_kube_one *o, const struct reef_cmd *cmd, int argc,
                           char **argv);
/* Opens the connection for o->t and o->name (read with reef__kube_type_and_name) and fills
 * o->path and o->ref; 0, or 1 after printing the error (nothing to close then). */
int reef__kube_one_open(struct reef_kube_one *o);
void reef__kube_one_close(struct reef_kube_one *o);
/* GETs the object into res (the caller's to free) and, when d is not NULL, parses it into d;
 * 0, or 1 after printing the error as kubectl does. */
int reef__kube_one_get(struct reef_kube_one *o, struct reef_http_result *res,
                       struct reef_json_doc *d);

/* Writes JSON value v of d as kubectl -o json does (object keys sorted, 4-space indent). */
int reef_kube_put_sorted(struct reef_json_writer *w, const struct reef_json_doc *d, int v);
/* Appends value v of d as kubectl -o yaml writes it (go-yaml v2's layout: keys in its order,
 * sequences not indented under their key, long plain strings folded past column 80). */
int reef_kube_put_yaml(struct reef_buf *out, const struct reef_json_doc *d, int v);

#endif
