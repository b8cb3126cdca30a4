/* ws_client: a blocking WebSocket client (RFC 6455) for command-line programs (reef exec on
 * pods): TCP, or TLS through core/tls's memory engine; the HTTP/1.1 upgrade; then messages
 * through core/ws's framing, masked as a client must.
 *
 * The caller polls reef_ws_client_fd for input and calls reef_ws_client_read when it is readable
 * (or at once while reef_ws_client_pending), which hands over whole data messages and answers
 * pings and the peer's close. Writes block until sent, which suits a terminal relay whose peer
 * reads all the time. One client belongs to one thread. */
#ifndef REEF_CORE_WS_CLIENT_H
#define REEF_CORE_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/http_client.h"
#include "core/ws.h"

/* Strings are only read during reef_ws_client_open. Zero fields take the defaults in brackets. */
struct reef_ws_client_opts {
    const char *ca_pem, *ca_file;     /* https trust [the system bundle] */
    const char *cert_pem, *cert_file; /* optional client certificate ... */
    const char *key_pem, *key_file;   /* ... and its key */
    bool insecure_skip_verify;        /* accept any server certificate (see core/tls.h) */
    const char *tls_server_name;      /* verify this name instead of the URL's host */
    const char *bearer_token;         /* "Authorization: Bearer ..." */
    const char *const *protocols;     /* offered subprotocols in order, NULL-terminated */
    unsigned timeout_ms;              /* connect, TLS handshake and the upgrade's answer [30 s] */
    size_t max_message;               /* the largest message accepted from the server [16 MiB] */
};

struct reef_ws_client;

/* Connects to url (http://, https://, ws:// or wss://; host, [v6 address] or name, port, path
 * and query) and upgrades. Returns 0 with *out (the caller's: reef_ws_client_free). When the
 * server answers without upgrading, returns -EPROTO and, when refused is not NULL, its status and
 * body there (the caller frees it with reef_http_result_free; it is zeroed otherwise). Other
 * failures: -ECONNREFUSED, -ETIMEDOUT, TLS errors, ... with err set. */
int reef_ws_client_open(const struct reef_ws_client_opts *o, const char *url,
                        struct reef_ws_client **out, struct reef_http_result *refused,
                        struct reef_err *err);
/* The subprotocol the server chose, "" when none. */
const char *reef_ws_client_protocol(const struct reef_ws_client *c);
/* The socket to poll for input. */
int reef_ws_client_fd(const struct reef_ws_client *c);
/* True when input already waits in the client (frames that came with the upgrade's answer):
 * call reef_ws_client_read without polling. */
bool reef_ws_client_pending(const struct reef_ws_client *c);
/* Sends one unfragmented message (REEF_WS_TEXT or REEF_WS_BINARY), blocking until written.
 * -EPIPE once the connection is closing. */
int reef_ws_client_send(struct reef_ws_client *c, enum reef_ws_opcode op, const void *data,
                        size_t len, struct reef_err *err);
/* Reads what arrived (one read(2): blocks when nothing is there) and calls cb once per data
 * message; pings are answered and a close frame is answered and ends the connection. Returns 1
 * while it is open, 0 once it ended (close frame or end of stream), or a negative code with err
 * set (a protocol violation, a message over max_message, a read error). */
int reef_ws_client_read(struct reef_ws_client *c, reef_ws_on_message cb, void *ud,
                        struct reef_err *err);
/* The code of the server's close frame: 1005 when it had none, 1006 when the stream ended
 * without one, 0 while open. */
int reef_ws_client_close_code(const struct reef_ws_client *c);
/* Sends a close frame (1000) unless one was exchanged, then frees everything. NULL is ignored. */
void reef_ws_client_free(struct reef_ws_client *c);

#endif
