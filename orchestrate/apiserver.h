/* apiserver: the Kubernetes REST API over the store (docs/APISERVER.md).
 *
 * It owns the routing of API requests, authentication, discovery, the verbs (get, list, watch,
 * create, update, patch, delete) on the built-in resources, validation and defaults, Status error
 * bodies, and every watch stream it started. It does not own the HTTP server, the loop, the store
 * or the certificates: `reef server` creates those and plugs reef_apiserver_handle in as the HTTP
 * server's handler.
 *
 * Threads: everything, callbacks included, runs on the loop thread that owns the store. */
#ifndef REEF_ORCHESTRATE_APISERVER_H
#define REEF_ORCHESTRATE_APISERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/http_server.h"
#include "core/json.h"
#include "orchestrate/store.h"
#include "orchestrate/tables.h"

struct reef_apiserver;

#define REEF_APISERVER_MAX_GROUPS 8

/* Who made a request. */
struct reef_apiserver_user {
    char name[256];
    char groups[REEF_APISERVER_MAX_GROUPS][128];
    size_t ngroups;
};

/* Token authentication: fills *user and returns 1 when token is valid, 0 when it is not. */
typedef int (*reef_apiserver_token_fn)(void *ud, const char *token,
                                       struct reef_apiserver_user *user);

struct reef_apiserver_opts {
    uv_loop_t *loop;
    struct reef_store *store;            /* borrowed; must outlive the API server */
    reef_apiserver_token_fn authn_token; /* NULL: no token is valid */
    void *authn_ud;
    unsigned watch_max_s; /* longest watch without timeoutSeconds [1800..3600 s, random] */
    int https_port;       /* the `kubernetes` Service's targetPort [6443] */
};

/* Creates the API server, and what every cluster has when missing: the namespaces default,
 * kube-system, kube-public and kube-node-lease, and the Service default/kubernetes (10.43.0.1:443).
 * *out is freed with reef_apiserver_free. */
int reef_apiserver_new(const struct reef_apiserver_opts *opts, struct reef_apiserver **out,
                       struct reef_err *err);
/* Ends every watch still open (their responses are finished) and answers every later request
 * with 503: call it before shutting the HTTP server down, so that watches do not hold its grace
 * period. */
void reef_apiserver_shutdown(struct reef_apiserver *a);
/* Ends the watches still open and frees. Call it once the HTTP server no longer calls the
 * handlers (its shutdown completed); NULL is ignored. */
void reef_apiserver_free(struct reef_apiserver *a);
/* The HTTP handler (ud is the struct reef_apiserver). */
void reef_apiserver_handle(void *ud, struct reef_http_req *req, struct reef_http_res *res);
/* The HTTP head handler: answers 401 before the body of an unauthenticated request is read, so
 * anonymous clients cannot make the server buffer bodies. Optional but recommended. */
void reef_apiserver_on_head(void *ud, struct reef_http_req *req, struct reef_http_res *res);
/* Watches open right now. */
size_t reef_apiserver_watches(const struct reef_apiserver *a);
/* Group commit, for a store opened with group_commit: http's output is held
 * (reef_http_server_hold) and, once per loop iteration after its I/O, the store syncs every write
 * of the iteration with one fdatasync and the held output is released; so no client hears of a
 * write, or of anything that shows it, before it is on disk. When the sync fails, the
 * connections with held output are closed instead (their answers may not be true) and the store
 * refuses further writes. http NULL stops it (a last sync, then everything is released): do that
 * before freeing http; reef_apiserver_free does it too. */
int reef_apiserver_group_commit(struct reef_apiserver *a, struct reef_http_server *http,
                                struct reef_err *err);

/* ---- in-process calls: controllers, the scheduler and the embedded agent ---- */

/* Makes the API request method target (path and query, "/api/v1/namespaces/x/pods") as user,
 * without a connection, exactly as a client would (defaults, validation, conflicts). body is
 * JSON or a patch in content_type (NULL: application/json). Every verb is answered before this
 * returns except watches and the pods' log/exec/attach, which are refused (-EOPNOTSUPP): watch
 * the store instead. Returns the HTTP status with the response body appended to out (may be
 * NULL) and, for a status >= 400, the Status message in err; or a negative code. */
int reef_apiserver_call(struct reef_apiserver *a, const struct reef_apiserver_user *user,
                        const char *method, const char *target, const char *content_type,
                        const char *body, size_t len, struct reef_buf *out, struct reef_err *err);

/* Pods' log, exec and attach requests are answered by the agent of the pod's node. fn gets them
 * after authentication and the pod's lookup (pod is its JSON, sub "log", "exec" or "attach") and
 * answers res itself: streaming, or as a WebSocket. Requests for pods on nodes without a
 * handler get 503 (remote nodes come with `reef agent`). fn NULL removes the node's handler. */
typedef void (*reef_apiserver_pod_stream_fn)(void *ud, const char *sub, const char *pod,
                                             size_t pod_len, struct reef_http_req *req,
                                             struct reef_http_res *res);
int reef_apiserver_set_node_handler(struct reef_apiserver *a, const char *node,
                                    reef_apiserver_pod_stream_fn fn, void *ud);

/* ---- metrics.k8s.io: what `kubectl top` reads, from the agents' cgroup figures ---- */

struct reef_apiserver_usage {
    char name[64];          /* a pod's container; "" for a node */
    uint64_t cpu_nanocores; /* average over the window */
    uint64_t memory_bytes;  /* working set */
    int64_t timestamp_ms;   /* end of the window */
    int64_t window_ms;
};
struct reef_apiserver_metrics {
    /* The node's usage; -ENOENT when this provider has none for it. */
    int (*node)(void *ud, const char *node, struct reef_apiserver_usage *u);
    /* The usage of each running container of pod ns/name (at most max), *n set; -ENOENT when
     * there are no figures for the pod yet. */
    int (*pod)(void *ud, const char *ns, const char *name, struct reef_apiserver_usage *u,
               size_t max, size_t *n);
    void *ud;
};
/* Installs (m not NULL) or removes the provider of metrics.k8s.io figures. Without one, the API
 * is discovered but has no figures. m is copied. */
void reef_apiserver_set_metrics(struct reef_apiserver *a, const struct reef_apiserver_metrics *m);

/* ---- internal: shared by apiserver*.c ---- */

enum {
    REEF__API_SUB_STATUS = 1,
    REEF__API_SUB_SCALE = 2,
    REEF__API_SUB_LOG = 4,
    REEF__API_SUB_EXEC = 8,
};

/* One built-in resource. */
struct reef__api_res {
    const char *group;   /* "" for the core group */
    const char *version; /* "v1" */
    const char *plural, *singular, *kind;
    const char *store_key; /* plural with its group: "deployments.apps" */
    bool namespaced;
    bool all; /* in the "all" category */
    const char *short_names[3];
    unsigned subs;
};

struct reef__api_watch;
struct reef__api_commit;
struct reef__api_node_handler {
    struct reef__api_node_handler *next;
    reef_apiserver_pod_stream_fn fn;
    void *ud;
    char node[];
};

struct reef_apiserver {
    uv_loop_t *loop;
    struct reef_store *store;
    reef_apiserver_token_fn authn_token;
    void *authn_ud;
    unsigned watch_max_s;
    struct reef__api_watch *watches; /* doubly linked */
    size_t nwatches;
    bool stopping; /* after reef_apiserver_shutdown */
    struct reef__api_node_handler *node_handlers; /* singly linked */
    struct reef_apiserver_metrics metrics;        /* node == NULL: none */
    struct reef__api_commit *commit;              /* group commit, when on */
};

/* One API request being answered. */
struct reef__api_call {
    struct reef_apiserver *a;
    struct reef_http_req *req;
    struct reef_http_res *res;
    const struct reef__api_res *r;
    char ns[REEF_STORE_MAX_NAME + 1]; /* "" when none in the path */
    char name[REEF_STORE_MAX_NAME + 1];
    char sub[32];
    bool table;                      /* Accept asked for a Table */
    enum reef_table_include include; /* includeObject */
    struct reef_apiserver_user user;
    bool local; /* an in-process call (reef_apiserver_call) */
};

extern const struct reef__api_res reef__api_resources[];
extern const size_t reef__api_nresources;
const struct reef__api_res *reef__api_res_find(const char *group, const char *version,
                                               const char *plural);
/* "deployments.apps" / "pods": how messages name a resource. */
void reef__api_qualified(const struct reef__api_res *r, char *out, size_t size);
/* "Deployment.apps" / "Pod": how Invalid messages name a kind. */
void reef__api_qualified_kind(const struct reef__api_res *r, char *out, size_t size);

/* Discovery documents (apiserver_res.c). */
void reef__api_discovery(struct reef__api_call *c, const char *path);
/* metrics.k8s.io (apiserver_metrics.c): its requests (seg: the path's segments after "apis"),
 * and its entries in the discovery documents. */
void reef__api_metrics(struct reef__api_call *c, char **seg, int n);
void reef__api_metrics_aggregated(struct reef_json_writer *w);
void reef__api_metrics_group(struct reef_json_writer *w, bool with_kind);
void reef__api_metrics_resources(struct reef_json_writer *w);
#define REEF__API_METRICS_GROUP "metrics.k8s.io"
#define REEF__API_METRICS_VERSION "v1beta1"

/* Status bodies. causes is a JSON array text or NULL. Finishes the response. */
void reef__api_status(struct reef_http_res *res, int code, const char *reason, const char *name,
                      const struct reef__api_res *r, const char *causes, const char *fmt, ...)
    REEF_PRINTF(7, 8);
/* Maps a store/patch error code to its Status (404, 409, 410, 422, 400, 500). */
void reef__api_error(struct reef__api_call *c, int code, const struct reef_err *err);
void reef__api_send_json(struct reef_http_res *res, int code, const struct reef_buf *b);

/* Whether the object is stored: 1 yes, 0 no, or the store's error (a disk that fails is not
 * "not found"). */
int reef__api_exists(struct reef_store *s, const char *resource, const char *ns, const char *name,
                     struct reef_err *err);
/* The loop's clock, Unix ms. */
int64_t reef__api_now_ms(void);

/* Verbs (apiserver_read.c, apiserver_write.c). */
void reef__api_get(struct reef__api_call *c);
void reef__api_list(struct reef__api_call *c);
void reef__api_create(struct reef__api_call *c);
void reef__api_update(struct reef__api_call *c);
void reef__api_patch(struct reef__api_call *c);
void reef__api_delete(struct reef__api_call *c);
void reef__api_delete_collection(struct reef__api_call *c);
/* Sends one object as JSON, or as a one-row Table when the request asked for Tables. */
void reef__api_send_object(struct reef__api_call *c, int code, const char *obj, size_t len);
/* The autoscaling/v1 Scale view of a Deployment or ReplicaSet, appended to out. */
int reef__api_scale_of(const char *obj, size_t len, struct reef_buf *out, struct reef_err *err);
/* Object d (parsed) of resource r as a one-row meta.k8s.io/v1 Table (orchestrate/tables),
 * appended to out; no_headers leaves the column definitions out (watch events after the
 * first). 0 or the tables module's error. */
int reef__api_table_one(const struct reef__api_res *r, enum reef_table_include include,
                        bool no_headers, const struct reef_json_doc *d, struct reef_buf *out,
                        struct reef_err *err);
/* Compiled label and field selectors of a list or watch; both NULL when absent. */
struct reef__api_sel {
    struct reef_label_selector *labels;
    struct reef_field_selector *fields;
};
/* Parses the query's selectors; on failure answers 400 and returns < 0. */
int reef__api_sel_parse(struct reef__api_call *c, struct reef__api_sel *sel);
void reef__api_sel_free(struct reef__api_sel *sel);
bool reef__api_sel_match(void *sel, const struct reef_json_doc *obj);

/* Watch (apiserver_watch.c). Takes over the response. */
void reef__api_watch(struct reef__api_call *c);
void reef__api_watches_end(struct reef_apiserver *a);

/* Validation and defaults (apiserver_valid.c). */
struct reef__jv;
/* Applies the defaults of r's kind to obj (a parsed object), allocating Service addresses from
 * the store. old is the stored object on update (NULL on create). 0, or a Status code (422)
 * with message in err. */
int reef__api_default(struct reef_apiserver *a, const struct reef__api_res *r, struct reef__jv *obj,
                      const struct reef__jv *old, struct reef_err *err);
/* Validates obj; 0 or -EINVAL with causes appended to causes (a JSON array's members, comma
 * separated) and the first message in err. */
int reef__api_validate(const struct reef__api_res *r, const struct reef__jv *obj,
                       struct reef_buf *causes, struct reef_err *err);
/* Update rules (immutable fields) of obj against the stored old; as reef__api_validate. */
int reef__api_validate_update(const struct reef__api_res *r, const struct reef__jv *obj,
                              const struct reef__jv *old, struct reef_buf *causes,
                              struct reef_err *err);
/* fieldValidation=Strict: -EINVAL naming the first unknown field. */
int reef__api_strict(const struct reef__api_res *r, const struct reef__jv *obj,
                     struct reef_err *err);
/* Small helpers on the mutable tree. jv_obj returns member key of o as an object, creating it
 * when absent (NULL on ENOMEM or when the member is not an object); jv_str the member's string
 * (NULL when absent or not a string). The setters replace the member; 0 or -ENOMEM. */
struct reef__jv *reef__api_jv_obj(struct reef__jv *o, const char *key);
const char *reef__api_jv_str(const struct reef__jv *o, const char *key);
/* v as a whole number in int64 range (false when it is not one). */
bool reef__api_jv_int(const struct reef__jv *v, int64_t *out);
int reef__api_jv_set_str(struct reef__jv *o, const char *key, const char *val);
int reef__api_jv_set_int(struct reef__jv *o, const char *key, int64_t val);
/* Protobuf bodies (apiserver_proto.c): the k8s protobuf envelope of an object of kind as compact
 * JSON appended to out. -EOPNOTSUPP for a kind or field the decoder does not know (415),
 * -EINVAL for malformed input (400), -ENOMEM. */
int reef__api_proto_to_json(const char *kind, const char *data, size_t len, struct reef_buf *out,
                            struct reef_err *err);
/* Whether s is a DNS-1123 subdomain (label: a DNS-1123 label). */
bool reef__api_dns_subdomain(const char *s);
bool reef__api_dns_label(const char *s);

#endif
