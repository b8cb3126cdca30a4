/* ws: RFC 6455 WebSocket framing. No I/O: frames in, messages out, and frame writing.
 *
 * reef_ws_reader reassembles fragmented data messages, validates text as UTF-8, unmasks, and
 * enforces the protocol (reserved bits, opcodes, control frames <= 125 bytes and unfragmented,
 * masking required from clients / forbidden from servers, minimal 64-bit length). Messages larger
 * than max_message are refused with close code 1009, so a peer cannot make it allocate more.
 * One reader per connection, one thread. */
#ifndef REEF_CORE_WS_H
#define REEF_CORE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

enum reef_ws_opcode {
    REEF_WS_CONT = 0x0,
    REEF_WS_TEXT = 0x1,
    REEF_WS_BINARY = 0x2,
    REEF_WS_CLOSE = 0x8,
    REEF_WS_PING = 0x9,
    REEF_WS_PONG = 0xA,
};

/* Close codes reef sends. */
#define REEF_WS_CLOSE_NORMAL 1000
#define REEF_WS_CLOSE_PROTOCOL 1002
#define REEF_WS_CLOSE_BAD_DATA 1007
#define REEF_WS_CLOSE_TOO_BIG 1009

struct reef_ws_reader;

/* from_client: the peer is a client, so its frames must be masked (a server's reader).
 * max_message: the largest data message accepted, in bytes. NULL on ENOMEM. */
struct reef_ws_reader *reef_ws_reader_new(bool from_client, size_t max_message);
void reef_ws_reader_free(struct reef_ws_reader *r);

/* Called once per complete data message (REEF_WS_TEXT or REEF_WS_BINARY, fragments joined) and
 * once per control frame (CLOSE, PING, PONG) with its payload, unmasked. data is only valid during
 * the call. Return 0 to go on, a negative code to stop feed with it. */
typedef int (*reef_ws_on_message)(void *ud, enum reef_ws_opcode op, const uint8_t *data,
                                  size_t len);

/* Consumes all of data unless a callback stops it or the peer breaks the protocol. Returns the
 * bytes consumed, or a negative code with err set and *close_code the code to close with
 * (1002, 1007, 1009; 1011 when a callback stopped it or memory ran out). close_code may be NULL.
 * After an error the reader is unusable. */
ssize_t reef_ws_reader_feed(struct reef_ws_reader *r, const uint8_t *data, size_t len,
                            reef_ws_on_message cb, void *ud, int *close_code,
                            struct reef_err *err);

/* Appends one frame. mask: NULL for a server's frames, 4 bytes for a client's (then the payload
 * is masked in the copy). Control frames longer than 125 bytes are refused with -EINVAL. */
int reef_ws_write_frame(struct reef_buf *out, bool fin, enum reef_ws_opcode op, const void *data,
                        size_t len, const uint8_t *mask);
/* Appends a CLOSE frame with the code and a reason (truncated to fit 125 bytes). */
int reef_ws_write_close(struct reef_buf *out, int code, const char *reason, const uint8_t *mask);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455 GUID)).
 * out gets 28 characters and a NUL. Returns 0, or -EINVAL when key is not a base64 16-byte nonce. */
int reef_ws_accept_key(const char *key, char out[29]);

/* Validates UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
bool reef_ws_utf8_valid(const uint8_t *s, size_t len);

#endif
