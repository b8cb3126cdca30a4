/* http_parse: incremental HTTP/1.1 message parsing for requests and responses. No I/O.
 *
 * The parser owns the head (request line or status line and headers) of the message being parsed;
 * struct reef_http_msg and everything it points to stay valid until the next message begins (the
 * next feed after on_end). Bodies are passed through to on_body, de-chunked, never buffered, so a
 * body of any size costs no memory here. Limits bound everything a peer can make it allocate.
 *
 * Strictness (request smuggling and garbage from the network): CRLF line ends; no whitespace
 * before ':'; header names are tokens; no obs-fold; Content-Length and Transfer-Encoding together,
 * several different Content-Lengths, or a Transfer-Encoding other than a final "chunked" are
 * refused. Each refusal sets the HTTP status a server should answer (400, 413, 414, 431, 501, 505).
 * One parser per connection, used from one thread. */
#ifndef REEF_CORE_HTTP_PARSE_H
#define REEF_CORE_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

enum reef_http_kind { REEF_HTTP_REQUEST, REEF_HTTP_RESPONSE };

struct reef_http_limits {
    size_t max_start_line; /* request line or status line, bytes (414 when passed) */
    size_t max_head;       /* start line + all headers, bytes (431) */
    size_t max_headers;    /* number of header fields (431) */
    uint64_t max_body;     /* decoded body bytes, 0 = unlimited (413) */
};

#define REEF_HTTP_LIMITS_DEFAULT {8192, 65536, 128, 0}

struct reef_http_header {
    const char *name; /* as received; compare case-insensitively */
    const char *value; /* leading and trailing whitespace removed */
};

struct reef_http_msg {
    enum reef_http_kind kind;
    /* requests */
    const char *method;
    const char *target; /* request-target as received, e.g. "/api/v1/pods?watch=1" */
    /* responses */
    int status;
    const char *reason;
    /* both */
    int version_minor; /* HTTP/1.<minor>: 0 or 1 */
    size_t nheaders;
    const struct reef_http_header *headers;
    int64_t content_length; /* -1 when absent */
    bool chunked;
    bool keep_alive; /* from the version and Connection header */
    bool upgrade;    /* Connection: upgrade with an Upgrade header (responses: only a 101) */
};

struct reef_http_parser_cb {
    /* The head is complete. Return 0 to go on, or a negative code to stop feed with that code. */
    int (*on_head)(void *ud, const struct reef_http_msg *msg);
    /* Body bytes, de-chunked; may be called many times per message. */
    int (*on_body)(void *ud, const char *data, size_t len);
    /* The message is complete (trailers are parsed and dropped). */
    int (*on_end)(void *ud);
};

struct reef_http_parser;

/* limits may be NULL for the defaults; cb is copied. NULL on ENOMEM. */
struct reef_http_parser *reef_http_parser_new(enum reef_http_kind kind,
                                              const struct reef_http_limits *limits,
                                              const struct reef_http_parser_cb *cb, void *ud);
void reef_http_parser_free(struct reef_http_parser *p);

/* For a response parser: the next response answers a HEAD request (or a CONNECT), so it has no
 * body whatever its headers say. 1xx, 204 and 304 responses never have a body. */
void reef_http_parser_set_head_request(struct reef_http_parser *p, bool head);

/* Consumes bytes. It stops right after the end of a message (after on_end), so a server can
 * answer pipelined requests one at a time: the return value is the number of bytes used (<= len),
 * and the caller feeds the rest later. After an upgrade request's head (msg->upgrade and on_head
 * returned 0) the parser also stops after on_end; what follows belongs to the new protocol.
 * Returns a negative code on a protocol error (err says what, and
 * reef_http_parser_error_status says which status to answer); the parser is then unusable. */
ssize_t reef_http_parser_feed(struct reef_http_parser *p, const char *data, size_t len,
                              struct reef_err *err);

/* The peer closed the connection. For a response delimited by the connection's end this completes
 * the message (on_end is called); in the middle of any other message it is an error (-EPIPE).
 * Returns 0 when the parser was between messages or the message is now complete. */
int reef_http_parser_eof(struct reef_http_parser *p, struct reef_err *err);

/* True between messages: nothing of a next message has been seen yet. */
bool reef_http_parser_idle(const struct reef_http_parser *p);

/* The status a server should answer after feed failed (400 when nothing more specific; 500 when
 * a callback stopped it or memory ran out). */
int reef_http_parser_error_status(const struct reef_http_parser *p);

/* First header with that name (case-insensitive), or NULL. */
const char *reef_http_msg_header(const struct reef_http_msg *m, const char *name);
/* True when a comma-separated header (e.g. Connection) contains the token (case-insensitive). */
bool reef_http_msg_header_has_token(const struct reef_http_msg *m, const char *name,
                                    const char *token);

/* Writing helpers. */
const char *reef_http_status_text(int status); /* "Not Found"; "Unknown" for unknown codes */
/* Appends "<hex size>\r\n<data>\r\n"; len 0 appends the last chunk "0\r\n\r\n". */
int reef_http_write_chunk(struct reef_buf *out, const void *data, size_t len);
/* Percent-decoding of a path or query component; '+' becomes ' ' only when form is true.
 * Returns the decoded length or -EINVAL for a bad escape. out needs len+1 bytes. */
ssize_t reef_http_unescape(const char *in, size_t len, char *out, bool form);
/* Looks up a query parameter in a target ("/p?a=1&b=x%20y"): decoded into out (NUL-terminated).
 * Returns the length, -ENOENT when absent, -ENAMETOOLONG when out is too small, -EINVAL for a bad
 * escape. A key without '=' has the empty value. */
ssize_t reef_http_query_get(const char *target, const char *key, char *out, size_t outsz);

#endif
