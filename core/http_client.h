/* http_client: asynchronous HTTP/1.1 requests (http:// and https://) on a libuv loop, plus a
 * synchronous wrapper for command-line use.
 *
 * The client owns its calls (one request with its redirects), their connections and a small pool
 * of idle keep-alive connections per scheme/host/port. Responses are either buffered (bounded by
 * max_body) or streamed to a callback per body piece (blob downloads, watches). Redirects
 * 301/302/303/307/308 are followed up to a limit; 303 (and 301/302 after a POST) become GET;
 * credentials (bearer token, basic auth, an Authorization header) are dropped when the host or
 * port changes. https verifies the server against the configured CA or the system bundle and its
 * host name or address.
 *
 * All functions except reef_http_fetch must be called on the loop's thread; callbacks run there.
 * reef_http_fetch runs a private loop and may be called from any thread. The process must ignore
 * SIGPIPE (libuv writes to sockets with plain write(2)). */
#ifndef REEF_CORE_HTTP_CLIENT_H
#define REEF_CORE_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/http_parse.h"

struct reef_http_client;
struct reef_http_call;

/* Zero fields take the defaults in brackets. Strings are only read during reef_http_client_new. */
struct reef_http_client_opts {
    const char *ca_pem, *ca_file;     /* https trust [the system bundle] */
    const char *cert_pem, *cert_file; /* optional client certificate ... */
    const char *key_pem, *key_file;   /* ... and its key */
    bool insecure_skip_verify;        /* accept any server certificate (see core/tls.h) */
    unsigned connect_timeout_ms;      /* name lookup, TCP connect and TLS handshake [10 s] */
    unsigned response_timeout_ms;     /* request sent → response head [30 s] */
    unsigned max_redirects;           /* [10] */
    bool no_redirects;                /* hand 3xx responses to the caller */
    uint64_t max_body;                /* buffered response bodies [64 MiB]; larger fails -E2BIG */
    unsigned max_idle_per_host;       /* kept-alive idle connections per host [4] */
    unsigned idle_timeout_ms;         /* how long an idle connection is kept [30 s] */
};

struct reef_http_response {
    int status;
    const struct reef_http_msg *msg; /* headers; see reef_http_msg_header */
    const char *body;                /* buffered body (NUL-terminated), "" when streamed */
    size_t body_len;
    const char *url; /* the URL that answered (after redirects) */
};

/* Everything is copied by reef_http_client_request. */
struct reef_http_request {
    const char *method; /* [GET] */
    const char *url;
    const struct reef_http_header *headers; /* extra headers */
    size_t nheaders;
    const void *body;
    size_t body_len;
    const char *bearer_token;            /* "Authorization: Bearer ..." */
    const char *basic_user, *basic_pass; /* "Authorization: Basic ..." */
    /* Streaming: with on_data set the body is not buffered but handed over piece by piece.
     * on_head (optional) sees the final response's head first. A negative return cancels the call
     * with that code. Redirect responses are never passed to them. */
    int (*on_head)(void *ud, const struct reef_http_response *res);
    int (*on_data)(void *ud, const char *data, size_t len);
};

/* Called exactly once per started call: result 0 with res (valid during the call only), or a
 * negative code with err ("GET https://x/y: connect: connection refused") and res NULL.
 * -ECANCELED after reef_http_call_cancel. */
typedef void (*reef_http_done_cb)(void *ud, int result, const struct reef_http_response *res,
                                  const struct reef_err *err);

struct reef_http_client *reef_http_client_new(uv_loop_t *loop,
                                              const struct reef_http_client_opts *opts,
                                              struct reef_err *err);
/* Cancels every call (their callbacks run with -ECANCELED), closes the idle connections and frees
 * the client once its handles are closed (the loop must run for that). */
void reef_http_client_free(struct reef_http_client *c);

/* Starts a call (from the next loop iteration: cb never runs inside this function). On success
 * returns 0 and, when call is not NULL, a handle valid until cb runs. On failure (bad URL, method
 * or header) returns a negative code and cb is never called. */
int reef_http_client_request(struct reef_http_client *c, const struct reef_http_request *rq,
                             reef_http_done_cb cb, void *ud, struct reef_http_call **call,
                             struct reef_err *err);
/* Stops a call (a watch): its callback runs with -ECANCELED before this returns. */
void reef_http_call_cancel(struct reef_http_call *call);

/* Connections opened so far (tells keep-alive reuse from fresh connections). */
unsigned long reef_http_client_connects(const struct reef_http_client *c);

/* --- synchronous --- */
struct reef_http_result {
    int status;
    char *body; /* NUL-terminated */
    size_t body_len;
    struct reef_buf headers; /* "name\0value\0" pairs */
};

/* Runs one request to completion on a private loop. The result is the caller's: free it with
 * reef_http_result_free (also after a failure: it is then empty). */
int reef_http_fetch(const struct reef_http_client_opts *opts, const struct reef_http_request *rq,
                    struct reef_http_result *out, struct reef_err *err);
void reef_http_result_free(struct reef_http_result *r);
const char *reef_http_result_header(const struct reef_http_result *r, const char *name);

#endif
