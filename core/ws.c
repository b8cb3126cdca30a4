/* ws: RFC 6455 framing, see core/ws.h.
 *
 * The reader is a byte-driven state machine: frame header bytes are gathered into a small array
 * (at most 14 bytes) so a header split anywhere is handled, payloads are unmasked as they arrive.
 * Data frames are joined into one message buffer bounded by max_message, which is checked against
 * each frame's declared length before any allocation; control frames (at most 125 bytes) use a
 * fixed array. Text is validated incrementally, so a bad byte fails the message at once. */
#include "core/ws.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define CONTROL_MAX 125
/* Close code for a failure on this side (a callback stopped the reader, memory ran out). */
#define CLOSE_INTERNAL 1011
/* A message buffer grown past this is released after its message, so a connection that once
 * carried a large message does not keep its memory. */
#define KEEP_BUFFER (64 * 1024)

/* Incremental UTF-8 validation (RFC 3629): how many continuation bytes are still expected and
 * the allowed range of the next one, which excludes overlongs, surrogates and > U+10FFFF. */
struct utf8_state {
    unsigned need;
    uint8_t lo, hi;
};

static void utf8_init(struct utf8_state *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xBF;
}

static bool utf8_step(struct utf8_state *u, uint8_t c)
{
    if (u->need) {
        if (c < u->lo || c > u->hi)
            return false;
        u->need--;
        u->lo = 0x80;
        u->hi = 0xBF;
        return true;
    }
    if (c < 0x80)
        return true;
    if (c >= 0xC2 && c <= 0xDF) {
        u->need = 1;
    } else if (c == 0xE0) {
        u->need = 2;
        u->lo = 0xA0;
    } else if (c == 0xED) {
        u->need = 2;
        u->hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF) {
        u->need = 2;
    } else if (c == 0xF0) {
        u->need = 3;
        u->lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
        u->need = 3;
    } else if (c == 0xF4) {
        u->need = 3;
        u->hi = 0x8F;
    } else {
        return false;
    }
    return true;
}

static bool utf8_feed(struct utf8_state *u, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!utf8_step(u, s[i]))
            return false;
    return true;
}

bool reef_ws_utf8_valid(const uint8_t *s, size_t len)
{
    struct utf8_state u;
    utf8_init(&u);
    return utf8_feed(&u, s, len) && u.need == 0;
}

enum rstate { R_HEADER, R_PAYLOAD, R_DEAD };

struct reef_ws_reader {
    bool from_client;
    size_t max_message;
    enum rstate state;

    /* Frame header being gathered. */
    uint8_t hdr[14];
    size_t hdr_len, hdr_need;

    /* Current frame. */
    bool fin;
    uint8_t opcode;
    bool masked;
    uint8_t mask[4];
    uint64_t payload_len, payload_pos;

    /* Data message being reassembled: msg_op is 0 when none is in progress. */
    uint8_t msg_op;
    uint8_t *msg;
    size_t msg_len, msg_cap;
    struct utf8_state utf8;

    uint8_t ctl[CONTROL_MAX];
};

struct reef_ws_reader *reef_ws_reader_new(bool from_client, size_t max_message)
{
    struct reef_ws_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->from_client = from_client;
    r->max_message = max_message;
    r->state = R_HEADER;
    r->hdr_need = 2;
    utf8_init(&r->utf8);
    return r;
}

void reef_ws_reader_free(struct reef_ws_reader *r)
{
    if (!r)
        return;
    free(r->msg);
    free(r);
}

static int fail(struct reef_ws_reader *r, int *close_code, int cc, struct reef_err *err, int code,
                const char *what)
{
    r->state = R_DEAD;
    if (close_code)
        *close_code = cc;
    return reef_err_set(err, code, "websocket: %s", what);
}

static int protocol(struct reef_ws_reader *r, int *close_code, struct reef_err *err,
                    const char *what)
{
    return fail(r, close_code, REEF_WS_CLOSE_PROTOCOL, err, -EPROTO, what);
}

static bool is_control(uint8_t op)
{
    return op & 0x8;
}

/* RFC 6455 7.4: codes a peer may send in a CLOSE frame (1012-1014 are registered by IANA). */
static bool close_code_valid(unsigned code)
{
    if (code >= 1000 && code <= 1003)
        return true;
    if (code >= 1007 && code <= 1014)
        return true;
    return code >= 3000 && code <= 4999;
}

/* The frame header is complete: validate it and prepare for its payload. */
static int start_frame(struct reef_ws_reader *r, int *close_code, struct reef_err *err)
{
    uint8_t b0 = r->hdr[0], b1 = r->hdr[1];
    r->fin = b0 & 0x80;
    r->opcode = b0 & 0x0F;
    r->masked = b1 & 0x80;
    if (b0 & 0x70)
        return protocol(r, close_code, err, "reserved bits set");
    switch (r->opcode) {
    case REEF_WS_CONT:
    case REEF_WS_TEXT:
    case REEF_WS_BINARY:
    case REEF_WS_CLOSE:
    case REEF_WS_PING:
    case REEF_WS_PONG:
        break;
    default:
        return protocol(r, close_code, err, "unknown opcode");
    }
    if (r->from_client && !r->masked)
        return protocol(r, close_code, err, "unmasked frame from a client");
    if (!r->from_client && r->masked)
        return protocol(r, close_code, err, "masked frame from a server");

    uint64_t len = b1 & 0x7F;
    size_t at = 2;
    if (len == 126) {
        len = (uint64_t)r->hdr[2] << 8 | r->hdr[3];
        at = 4;
        if (len < 126)
            return protocol(r, close_code, err, "length not minimally encoded");
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | r->hdr[2 + i];
        at = 10;
        if (len >> 63)
            return protocol(r, close_code, err, "64-bit length with the top bit set");
        if (len <= 0xFFFF)
            return protocol(r, close_code, err, "length not minimally encoded");
    }
    if (r->masked)
        memcpy(r->mask, r->hdr + at, 4);
    r->payload_len = len;
    r->payload_pos = 0;

    if (is_control(r->opcode)) {
        if (!r->fin)
            return protocol(r, close_code, err, "fragmented control frame");
        if (len > CONTROL_MAX)
            return protocol(r, close_code, err, "control frame longer than 125 bytes");
        return 0;
    }
    if (r->opcode == REEF_WS_CONT) {
        if (!r->msg_op)
            return protocol(r, close_code, err, "continuation without a message");
    } else {
        if (r->msg_op)
            return protocol(r, close_code, err, "new message inside a fragmented message");
        r->msg_op = r->opcode;
        r->msg_len = 0;
        utf8_init(&r->utf8);
    }
    if (len > r->max_message - r->msg_len)
        return fail(r, close_code, REEF_WS_CLOSE_TOO_BIG, err, -EMSGSIZE,
                    "message larger than the limit");
    size_t need = r->msg_len + (size_t)len;
    if (need > r->msg_cap) {
        /* Grow geometrically but never past max_message. */
        size_t cap = r->msg_cap ? r->msg_cap : 256;
        while (cap < need)
            cap = cap > r->max_message / 2 ? r->max_message : cap * 2;
        if (cap < need)
            cap = need;
        uint8_t *m = realloc(r->msg, cap);
        if (!m)
            return fail(r, close_code, CLOSE_INTERNAL, err, -ENOMEM, "out of memory for a message");
        r->msg = m;
        r->msg_cap = cap;
    }
    return 0;
}

/* The frame's payload is all there: hand over a control frame or a finished message. */
static int end_frame(struct reef_ws_reader *r, reef_ws_on_message cb, void *ud, int *close_code,
                     struct reef_err *err)
{
    int ret = 0;
    if (is_control(r->opcode)) {
        size_t n = (size_t)r->payload_len;
        if (r->opcode == REEF_WS_CLOSE && n > 0) {
            if (n == 1)
                return protocol(r, close_code, err, "CLOSE payload of one byte");
            unsigned code = (unsigned)r->ctl[0] << 8 | r->ctl[1];
            if (!close_code_valid(code))
                return protocol(r, close_code, err, "invalid close code");
            if (!reef_ws_utf8_valid(r->ctl + 2, n - 2))
                return fail(r, close_code, REEF_WS_CLOSE_BAD_DATA, err, -EILSEQ,
                            "close reason is not UTF-8");
        }
        if (cb)
            ret = cb(ud, (enum reef_ws_opcode)r->opcode, r->ctl, n);
    } else if (r->fin) {
        if (r->msg_op == REEF_WS_TEXT && r->utf8.need)
            return fail(r, close_code, REEF_WS_CLOSE_BAD_DATA, err, -EILSEQ,
                        "text message is not UTF-8");
        uint8_t op = r->msg_op;
        size_t n = r->msg_len;
        r->msg_op = 0;
        r->msg_len = 0;
        if (cb)
            ret = cb(ud, (enum reef_ws_opcode)op, r->msg ? r->msg : r->ctl, n);
        if (r->msg_cap > KEEP_BUFFER) {
            free(r->msg);
            r->msg = NULL;
            r->msg_cap = 0;
        }
    }
    r->state = R_HEADER;
    r->hdr_len = 0;
    r->hdr_need = 2;
    if (ret < 0)
        return fail(r, close_code, CLOSE_INTERNAL, err, ret, "message callback stopped the reader");
    return 0;
}

ssize_t reef_ws_reader_feed(struct reef_ws_reader *r, const uint8_t *data, size_t len,
                            reef_ws_on_message cb, void *ud, int *close_code, struct reef_err *err)
{
    if (r->state == R_DEAD) {
        if (close_code)
            *close_code = REEF_WS_CLOSE_PROTOCOL;
        return reef_err_set(err, -EPROTO, "websocket: reader used after an error");
    }
    size_t i = 0;
    while (i < len) {
        if (r->state == R_HEADER) {
            r->hdr[r->hdr_len++] = data[i++];
            if (r->hdr_len == 2) {
                uint8_t l = r->hdr[1] & 0x7F;
                r->hdr_need = 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) + (r->hdr[1] & 0x80 ? 4 : 0);
            }
            if (r->hdr_len < r->hdr_need)
                continue;
            int rc = start_frame(r, close_code, err);
            if (rc < 0)
                return rc;
            r->state = R_PAYLOAD;
        } else {
            uint64_t left = r->payload_len - r->payload_pos;
            size_t n = len - i;
            if ((uint64_t)n > left)
                n = (size_t)left;
            uint8_t *dst = is_control(r->opcode) ? r->ctl + r->payload_pos : r->msg + r->msg_len;
            for (size_t k = 0; k < n; k++) {
                uint8_t c = data[i + k];
                if (r->masked)
                    c ^= r->mask[(r->payload_pos + k) & 3];
                dst[k] = c;
            }
            if (!is_control(r->opcode)) {
                if (r->msg_op == REEF_WS_TEXT && !utf8_feed(&r->utf8, dst, n))
                    return fail(r, close_code, REEF_WS_CLOSE_BAD_DATA, err, -EILSEQ,
                                "text message is not UTF-8");
                r->msg_len += n;
            }
            r->payload_pos += n;
            i += n;
        }
        if (r->state == R_PAYLOAD && r->payload_pos == r->payload_len) {
            int rc = end_frame(r, cb, ud, close_code, err);
            if (rc < 0)
                return rc;
        }
    }
    return (ssize_t)i;
}

int reef_ws_write_frame(struct reef_buf *out, bool fin, enum reef_ws_opcode op, const void *data,
                        size_t len, const uint8_t *mask)
{
    switch (op) {
    case REEF_WS_CONT:
    case REEF_WS_TEXT:
    case REEF_WS_BINARY:
        break;
    case REEF_WS_CLOSE:
    case REEF_WS_PING:
    case REEF_WS_PONG:
        if (len > CONTROL_MAX || !fin)
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    uint8_t hdr[14];
    if (len > SIZE_MAX - sizeof(hdr))
        return -ENOMEM;
    size_t h = 0;
    hdr[h++] = (uint8_t)((fin ? 0x80 : 0) | op);
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        hdr[h++] = (uint8_t)(m | len);
    } else if (len <= 0xFFFF) {
        hdr[h++] = m | 126;
        hdr[h++] = (uint8_t)(len >> 8);
        hdr[h++] = (uint8_t)len;
    } else {
        hdr[h++] = m | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (mask) {
        memcpy(hdr + h, mask, 4);
        h += 4;
    }
    int rc = reef_buf_reserve(out, h + len);
    if (rc < 0)
        return rc;
    memcpy(out->data + out->len, hdr, h);
    uint8_t *dst = (uint8_t *)out->data + out->len + h;
    const uint8_t *src = data;
    for (size_t i = 0; i < len; i++)
        dst[i] = mask ? src[i] ^ mask[i & 3] : src[i];
    out->len += h + len;
    out->data[out->len] = '\0';
    return 0;
}

int reef_ws_write_close(struct reef_buf *out, int code, const char *reason, const uint8_t *mask)
{
    uint8_t payload[CONTROL_MAX];
    size_t n = 0;
    if (code > 0) {
        if (code > 0xFFFF)
            return -EINVAL;
        payload[n++] = (uint8_t)(code >> 8);
        payload[n++] = (uint8_t)code;
        size_t rl = reason ? strlen(reason) : 0;
        if (rl > CONTROL_MAX - 2) {
            rl = CONTROL_MAX - 2;
            /* Cut before a continuation byte so the reason stays valid UTF-8. */
            while (rl > 0 && ((uint8_t)reason[rl] & 0xC0) == 0x80)
                rl--;
        }
        if (rl)
            memcpy(payload + n, reason, rl);
        n += rl;
    }
    return reef_ws_write_frame(out, true, REEF_WS_CLOSE, payload, n, mask);
}

int reef_ws_accept_key(const char *key, char out[29])
{
    size_t klen = strlen(key);
    unsigned char nonce[18];
    size_t olen = 0;
    if (klen != 24 ||
        mbedtls_base64_decode(nonce, sizeof(nonce), &olen, (const unsigned char *)key, klen) != 0 ||
        olen != 16)
        return -EINVAL;
    unsigned char in[24 + sizeof(WS_GUID) - 1];
    memcpy(in, key, 24);
    memcpy(in + 24, WS_GUID, sizeof(WS_GUID) - 1);
    unsigned char digest[20];
    if (mbedtls_sha1_ret(in, sizeof(in), digest) != 0)
        return -EINVAL;
    if (mbedtls_base64_encode((unsigned char *)out, 29, &olen, digest, sizeof(digest)) != 0 ||
        olen != 28)
        return -EINVAL;
    out[28] = '\0';
    return 0;
}
