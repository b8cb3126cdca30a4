/* http_server: an HTTP/1.1 server (plain or TLS) with streaming responses and WebSocket, on one
 * libuv loop.
 *
 * The server owns its listening socket, every accepted connection, their timers, parsers, TLS
 * sessions and output queues, and one request/response object per request in progress. Requests on
 * a connection are answered one at a time in order (pipelined requests wait their turn); a handler
 * may answer at once or keep the response and finish it later from the loop (watches, log follows),
 * which never blocks other connections. Everything a peer sends is bounded: request line, head and
 * header count (parser limits), buffered bodies (413), the input held while a response is in
 * progress, and the number of connections. Slow clients are cut off by the header timeout, idle
 * keep-alive connections by the idle timeout.
 *
 * All functions must be called on the loop's thread. Callbacks run on that thread. The process
 * must ignore SIGPIPE (libuv writes to sockets with plain write(2)). */
#ifndef REEF_CORE_HTTP_SERVER_H
#define REEF_CORE_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/err.h"
#include "core/http_parse.h"
#include "core/tls.h"
#include "core/ws.h"

struct reef_http_server;
struct reef_http_res; /* one request in progress and its response */
struct reef_ws_conn;  /* an upgraded WebSocket connection */

/* What the handler sees. Everything is owned by the server and valid until the response is finished
 * (or, for a kept response, until its close callback returned). */
struct reef_http_req {
    const char *method;
    const char *target;              /* as received: "/api/v1/pods?watch=1" */
    const char *path;                /* target up to '?', not percent-decoded */
    const char *query;               /* after '?', "" when none */
    const struct reef_http_msg *msg; /* headers, version, content length */
    const char *body; /* buffered body (NUL-terminated), NULL when streamed or empty */
    size_t body_len;
    /* TLS: the client certificate's identity when it verified against the client CA */
    bool tls;
    bool peer_verified;
    const char *peer_cn;          /* "" when not verified */
    const char *const *peer_orgs; /* NULL-terminated O values, empty when not verified */
    const char *remote_addr;      /* "127.0.0.1:53124" or "[::1]:53124" */
};

/* Called once per request. Unless the request's body was taken by on_head (see below) the body is
 * complete and buffered. The handler answers with reef_http_res_send, or with begin/write/end, or
 * accepts a WebSocket; now or later from the loop. Every res must be finished exactly once, unless
 * its close callback was called (then the server frees it and it must not be touched again). */
typedef void (*reef_http_handler)(void *ud, struct reef_http_req *req, struct reef_http_res *res);

/* Optional, called when a request's head arrived, before its body. It may call
 * reef_http_res_stream_body to receive the body in pieces instead of buffered (uploads), or answer
 * at once (e.g. 401): then the connection ends after the answer (what is left of the body is
 * drained for a moment, not parsed) and the handler is not called. */
typedef void (*reef_http_head_handler)(void *ud, struct reef_http_req *req,
                                       struct reef_http_res *res);

struct reef_http_server_opts {
    const char *addr;            /* "127.0.0.1", "0.0.0.0", "::"; NULL: 127.0.0.1 */
    int port;                    /* 0: an ephemeral port, see reef_http_server_port */
    struct reef_tls_config *tls; /* NULL: plain HTTP; the server takes its own reference */
    reef_http_handler handler;
    reef_http_head_handler on_head; /* may be NULL */
    void *ud;
    /* Zero fields take the defaults in brackets. */
    struct reef_http_limits limits; /* request line/head/header count [REEF_HTTP_LIMITS_DEFAULT] */
    uint64_t max_body;              /* buffered request body [8 MiB]; larger → 413 */
    unsigned header_timeout_ms;     /* TLS handshake and a request's head [10 s] */
    unsigned idle_timeout_ms;       /* keep-alive between requests, and body reads [90 s] */
    unsigned max_connections;       /* more get a 503 (plain) or are closed (TLS) [1024] */
    size_t max_ws_message;          /* [16 MiB] */
    int backlog;                    /* [511] */
};

/* Binds, listens and starts serving. NULL with err set when the address is bad or bind fails
 * ("http: listen 127.0.0.1:6443: address already in use"). */
struct reef_http_server *reef_http_server_new(uv_loop_t *loop,
                                              const struct reef_http_server_opts *opts,
                                              struct reef_err *err);
/* The bound port (useful after asking for port 0). */
int reef_http_server_port(const struct reef_http_server *s);
/* Connections currently open. */
unsigned reef_http_server_connections(const struct reef_http_server *s);

/* Graceful shutdown: stops accepting, closes idle connections, lets requests in progress finish
 * (then closes their connections), and after grace_ms closes whatever is left (kept responses get
 * their close callback). cb runs once everything is closed; then reef_http_server_free may be
 * called (also from cb). Calling it again does nothing. */
typedef void (*reef_http_server_closed_cb)(void *ud);
void reef_http_server_shutdown(struct reef_http_server *s, unsigned grace_ms,
                               reef_http_server_closed_cb cb, void *ud);
/* Frees a server whose shutdown completed. */
void reef_http_server_free(struct reef_http_server *s);

/* Output barrier, for a caller that must not let a client hear of something before it is done
 * (group commit: a write is answered only once it is on disk). While on, everything for the
 * clients (responses, watch events, WebSocket frames, TLS records) is queued per connection, in
 * order, instead of being written to the sockets. reef_http_server_release writes out what is
 * queued and leaves the barrier as it is; turning it off releases too. In-process requests
 * (reef_http_local_new) are not held. */
void reef_http_server_hold(struct reef_http_server *s, bool on);
void reef_http_server_release(struct reef_http_server *s);
/* Whether output is queued behind the barrier. */
bool reef_http_server_held(const struct reef_http_server *s);
/* Closes every connection with held output, which is never written: for when what it says
 * turned out not to be true (the disk refused the writes it reports). */
void reef_http_server_discard_held(struct reef_http_server *s);

/* --- the request --- */
const char *reef_http_req_header(const struct reef_http_req *req, const char *name);
/* Query parameter, percent-decoded into out; see reef_http_query_get. */
ssize_t reef_http_req_query(const struct reef_http_req *req, const char *key, char *out,
                            size_t outsz);

/* --- the response ---
 * Functions returning int give 0, -EINVAL for misuse (header after begin, CR/LF in a header), or
 * -EPIPE when the client is gone (the response must still be finished, or dropped after its close
 * callback). */

/* Adds a response header (copied). Content-Length, Transfer-Encoding and Connection are managed by
 * the server and refused here. */
int reef_http_res_header(struct reef_http_res *res, const char *name, const char *value);
/* A complete response: status, optional content type, body (copied; may be NULL/0). Finishes. */
int reef_http_res_send(struct reef_http_res *res, int status, const char *content_type,
                       const void *body, size_t len);
/* Streaming: sends the head now (chunked, or close-delimited for HTTP/1.0 clients) ... */
int reef_http_res_begin(struct reef_http_res *res, int status, const char *content_type);
/* ... then pieces of body (copied; len 0 is ignored) ... */
int reef_http_res_write(struct reef_http_res *res, const void *data, size_t len);
/* ... then the end. Finishes. */
int reef_http_res_end(struct reef_http_res *res);
/* Bytes written on this connection and not yet accepted by the kernel. A streaming handler stops
 * producing above its own threshold and resumes on the drain callback. */
size_t reef_http_res_queued(const struct reef_http_res *res);
/* Called when the queue becomes empty after a write. */
void reef_http_res_on_drain(struct reef_http_res *res,
                            void (*cb)(void *ud, struct reef_http_res *res), void *ud);
/* Called once if the connection ends (client gone, error, server shutdown) before the response is
 * finished; always from the loop, never from inside a reef_http_res_* call (those return -EPIPE
 * meanwhile). After it returns the server frees res: the handler must forget it. */
void reef_http_res_on_close(struct reef_http_res *res,
                            void (*cb)(void *ud, struct reef_http_res *res), void *ud);
/* The request this response answers. */
struct reef_http_req *reef_http_res_req(struct reef_http_res *res);
/* Takes the request body in pieces (from on_head only): on_data per piece; when the body is
 * complete the handler is called as usual, with body NULL. A negative return from on_data answers
 * 400 and ends the connection. */
void reef_http_res_stream_body(struct reef_http_res *res,
                               int (*on_data)(void *ud, const char *data, size_t len), void *ud);

/* Back-pressure for a streamed request body: while paused the server stops reading the request
 * (after the piece being delivered) and its idle timeout is suspended; resuming goes on from the
 * loop. For a consumer slower than the network (writing a blob to disk). */
void reef_http_res_pause_body(struct reef_http_res *res, bool paused);

/* --- in-process requests ---
 * A handler called by its own process, without a socket (controllers calling the API server they
 * run beside). The response API behaves as for a network client; what the handler produces goes
 * to these callbacks instead of a connection. Queued bytes are always 0; WebSocket upgrades are
 * refused with 400. */
struct reef_http_local {
    /* The head: status, content type (NULL when none) and the handler's extra header lines. */
    void (*on_head)(void *ud, int status, const char *content_type, const char *headers);
    void (*on_data)(void *ud, const void *data, size_t len);
    /* The response is finished; res is freed right after this returns. */
    void (*on_end)(void *ud);
    void *ud;
};
/* A request to hand to a handler: method, target ("/api/v1/pods?limit=1"), headers and body
 * are copied. NULL on ENOMEM. The caller calls its handler with reef_http_res_req(res) and res;
 * the handler finishes res (now or later from the loop) as usual. A response still unfinished
 * when its caller goes away is ended with reef_http_local_cancel. */
struct reef_http_res *reef_http_local_new(const char *method, const char *target,
                                          const struct reef_http_header *headers, size_t nheaders,
                                          const char *body, size_t len,
                                          const struct reef_http_local *cb);
/* The caller no longer wants the response: its close callback runs (as when a client leaves)
 * and the local callbacks are not called again. */
void reef_http_local_cancel(struct reef_http_res *res);

/* --- WebSocket --- */
struct reef_ws_cb {
    /* A complete text or binary message (data valid during the call). PING is answered by the
     * server; PONG and CLOSE are not passed on. */
    void (*on_message)(void *ud, struct reef_ws_conn *ws, enum reef_ws_opcode op,
                       const uint8_t *data, size_t len);
    /* Once, when the connection ended (from the loop, never from inside a reef_ws_* call): code is
     * the peer's close code (1005 when none was given, 1006 when the connection dropped without a
     * close frame). ws is freed after it returns. */
    void (*on_close)(void *ud, struct reef_ws_conn *ws, int code);
    /* Optional: the output queue became empty (reef_ws_queued), so a producer that paused (an
     * exec session's output) may go on. */
    void (*on_drain)(void *ud, struct reef_ws_conn *ws);
};

/* True when the request asks for a WebSocket upgrade. */
bool reef_http_req_is_websocket(const struct reef_http_req *req);
/* Accepts an upgrade request: validates Sec-WebSocket-Version (13) and -Key, picks the first of
 * protocols (NULL-terminated, may be NULL) that the client offered in Sec-WebSocket-Protocol, and
 * answers 101. Finishes res. If the client offered protocols and none is acceptable, or the request
 * is not a valid upgrade, it answers 400 (426 for another version) itself and returns NULL with err
 * set (-EPROTO, -EINVAL); res is finished and cb is never called. On success returns the
 * connection (freed after on_close). */
struct reef_ws_conn *reef_http_res_websocket(struct reef_http_res *res,
                                             const char *const *protocols,
                                             const struct reef_ws_cb *cb, void *ud,
                                             struct reef_err *err);
/* The subprotocol chosen, or "" when none. */
const char *reef_ws_protocol(const struct reef_ws_conn *ws);
/* Sends one unfragmented frame (TEXT, BINARY or PING). -EPIPE after close was sent or the peer
 * left. */
int reef_ws_send(struct reef_ws_conn *ws, enum reef_ws_opcode op, const void *data, size_t len);
/* Starts the close handshake; the connection closes when the peer answers (or after a timeout). */
int reef_ws_close(struct reef_ws_conn *ws, int code, const char *reason);
size_t reef_ws_queued(const struct reef_ws_conn *ws);

#endif
