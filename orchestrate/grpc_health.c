#include "orchestrate/grpc_health.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* HTTP/2 (RFC 9113) frame types and flags used here */
enum { F_DATA = 0, F_HEADERS = 1, F_RST_STREAM = 3, F_SETTINGS = 4, F_PING = 6, F_GOAWAY = 7 };
enum { FL_END_STREAM = 0x1, FL_ACK = 0x1, FL_END_HEADERS = 0x4, FL_PADDED = 0x8 };
#define MAX_FRAME 16384 /* the default SETTINGS_MAX_FRAME_SIZE, which the client never raises */
#define MAX_MESSAGE 4096 /* a HealthCheckResponse is a few bytes */
#define MAX_NAME 1024

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
static const char path[] = "/grpc.health.v1.Health/Check";

static int frame_head(struct reef_buf *b, size_t len, uint8_t type, uint8_t flags, uint32_t stream)
{
    uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
                    (uint8_t)(stream >> 24 & 0x7f), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
                    (uint8_t)stream};
    return reef_buf_append(b, h, sizeof(h));
}

/* An HPACK integer (RFC 7541 5.1) with an n-bit prefix under the first byte's flags. */
static int hpack_int(struct reef_buf *b, uint8_t flags, int n, size_t v)
{
    size_t max = ((size_t)1 << n) - 1;
    if (v < max)
        return reef_buf_putc(b, (char)(flags | v));
    int r = reef_buf_putc(b, (char)(flags | max));
    for (v -= max; r == 0 && v >= 128; v >>= 7)
        r = reef_buf_putc(b, (char)(v % 128 + 128));
    return r < 0 ? r : reef_buf_putc(b, (char)v);
}

static int hpack_str(struct reef_buf *b, const char *s)
{
    size_t n = strlen(s);
    int r = hpack_int(b, 0, 7, n); /* not Huffman-coded */
    return r < 0 ? r : reef_buf_append(b, s, n);
}

/* A literal field not added to the table, its name by static-table index (0: a literal name). */
static int hpack_field(struct reef_buf *b, size_t name_index, const char *name, const char *value)
{
    int r = hpack_int(b, 0, 4, name_index);
    if (r == 0 && name_index == 0)
        r = hpack_str(b, name);
    return r < 0 ? r : hpack_str(b, value);
}

static int varint(struct reef_buf *b, uint64_t v)
{
    int r = 0;
    for (; r == 0 && v >= 128; v >>= 7)
        r = reef_buf_putc(b, (char)(v % 128 + 128));
    return r < 0 ? r : reef_buf_putc(b, (char)v);
}

int reef_grpc_health_request(const char *authority, const char *service, struct reef_buf *out)
{
    if (strlen(authority) > MAX_NAME || strlen(service) > MAX_NAME)
        return -EINVAL;
    struct reef_buf hb = REEF_BUF_INIT, msg = REEF_BUF_INIT;
    /* :method POST and :scheme http are static-table entries 3 and 6; :path is name 4,
     * :authority 1, content-type 31 */
    int r = reef_buf_putc(&hb, (char)0x83);
    if (r == 0)
        r = reef_buf_putc(&hb, (char)0x86);
    if (r == 0)
        r = hpack_field(&hb, 4, NULL, path);
    if (r == 0)
        r = hpack_field(&hb, 1, NULL, authority);
    if (r == 0)
        r = hpack_field(&hb, 31, NULL, "application/grpc");
    if (r == 0)
        r = hpack_field(&hb, 0, "te", "trailers");
    /* HealthCheckRequest{service = 1}; an empty string is the field left out */
    if (r == 0 && service[0]) {
        r = reef_buf_putc(&msg, 0x0a);
        if (r == 0)
            r = varint(&msg, strlen(service));
        if (r == 0)
            r = reef_buf_puts(&msg, service);
    }
    size_t n = msg.len;
    uint8_t prefix[5] = {0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    if (r == 0)
        r = reef_buf_append(out, preface, sizeof(preface) - 1);
    if (r == 0)
        r = frame_head(out, 0, F_SETTINGS, 0, 0);
    if (r == 0)
        r = frame_head(out, hb.len, F_HEADERS, FL_END_HEADERS, 1);
    if (r == 0)
        r = reef_buf_append(out, hb.data, hb.len);
    if (r == 0)
        r = frame_head(out, sizeof(prefix) + n, F_DATA, FL_END_STREAM, 1);
    if (r == 0)
        r = reef_buf_append(out, prefix, sizeof(prefix));
    if (r == 0 && n)
        r = reef_buf_append(out, msg.data, n);
    reef_buf_free(&hb);
    reef_buf_free(&msg);
    return r;
}

static int decide(struct reef_grpc_health_reader *r, enum reef_grpc_health_verdict v,
                  const char *fmt, ...) REEF_PRINTF(3, 4);
static int decide(struct reef_grpc_health_reader *r, enum reef_grpc_health_verdict v,
                  const char *fmt, ...)
{
    r->verdict = v;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    return (int)v;
}

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

/* The status in a HealthCheckResponse (field 1, an enum; absent means UNKNOWN), or -1. */
static int64_t response_status(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    uint64_t status = 0, tag, v;
    while (p < end) {
        if (!read_varint(&p, end, &tag))
            return -1;
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &v))
                return -1;
            if (tag >> 3 == 1)
                status = v;
            break;
        case 1:
        case 5:
            if ((size_t)(end - p) < ((tag & 7) == 1 ? 8u : 4u))
                return -1;
            p += (tag & 7) == 1 ? 8 : 4;
            break;
        case 2:
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return -1;
            p += v;
            break;
        default:
            return -1;
        }
    }
    return status > INT32_MAX ? -1 : (int64_t)status;
}

static int data_frame(struct reef_grpc_health_reader *r, const uint8_t *p, size_t n, uint8_t flags)
{
    if (flags & FL_PADDED) {
        if (n < 1 || p[0] >= n)
            return decide(r, REEF_GRPC_HEALTH_FAILED, "health rpc probe failed: bad padding");
        n -= 1 + p[0];
        p++;
    }
    if (r->msg.len + n > MAX_MESSAGE)
        return decide(r, REEF_GRPC_HEALTH_FAILED,
                      "health rpc probe failed: response over %d bytes", MAX_MESSAGE);
    if (reef_buf_append(&r->msg, p, n) < 0)
        return -ENOMEM;
    const uint8_t *m = (const uint8_t *)r->msg.data;
    if (r->msg.len < 5)
        return REEF_GRPC_HEALTH_MORE;
    size_t len = (size_t)m[1] << 24 | (size_t)m[2] << 16 | (size_t)m[3] << 8 | m[4];
    if (m[0] != 0)
        return decide(r, REEF_GRPC_HEALTH_FAILED,
                      "health rpc probe failed: compressed response");
    if (len > MAX_MESSAGE)
        return decide(r, REEF_GRPC_HEALTH_FAILED,
                      "health rpc probe failed: response over %d bytes", MAX_MESSAGE);
    if (r->msg.len < 5 + len)
        return REEF_GRPC_HEALTH_MORE;
    int64_t status = response_status(m + 5, len);
    static const char *const names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
    if (status < 0)
        return decide(r, REEF_GRPC_HEALTH_FAILED,
                      "health rpc probe failed: malformed response");
    if (status == 1)
        return decide(r, REEF_GRPC_HEALTH_SERVING, "service healthy");
    if (status < 4)
        return decide(r, REEF_GRPC_HEALTH_NOT_SERVING,
                      "service unhealthy (responded with \"%s\")", names[status]);
    return decide(r, REEF_GRPC_HEALTH_NOT_SERVING, "service unhealthy (responded with \"%lld\")",
                  (long long)status);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One whole frame; the verdict so far. */
static int frame(struct reef_grpc_health_reader *r, uint8_t type, uint8_t flags, uint32_t stream,
                 const uint8_t *p, size_t n, struct reef_buf *reply)
{
    switch (type) {
    case F_SETTINGS:
        if (stream != 0 || (!(flags & FL_ACK) && n % 6))
            return decide(r, REEF_GRPC_HEALTH_FAILED,
                          "health rpc probe failed: malformed SETTINGS");
        if (!(flags & FL_ACK) && frame_head(reply, 0, F_SETTINGS, FL_ACK, 0) < 0)
            return -ENOMEM;
        return REEF_GRPC_HEALTH_MORE;
    case F_PING:
        if (n != 8)
            return decide(r, REEF_GRPC_HEALTH_FAILED,
                          "health rpc probe failed: malformed PING");
        if (!(flags & FL_ACK) &&
            (frame_head(reply, 8, F_PING, FL_ACK, 0) < 0 || reef_buf_append(reply, p, 8) < 0))
            return -ENOMEM;
        return REEF_GRPC_HEALTH_MORE;
    case F_GOAWAY:
        return decide(r, REEF_GRPC_HEALTH_FAILED,
                      "health rpc probe failed: the server went away (HTTP/2 error code %lu)",
                      n >= 8 ? (unsigned long)be32(p + 4) : 0UL);
    case F_RST_STREAM:
        if (stream != 1)
            return REEF_GRPC_HEALTH_MORE;
        return decide(r, REEF_GRPC_HEALTH_FAILED,
                      "health rpc probe failed: stream reset (HTTP/2 error code %lu)",
                      n >= 4 ? (unsigned long)be32(p) : 0UL);
    case F_DATA:
        if (stream != 1)
            return REEF_GRPC_HEALTH_MORE;
        {
            int v = data_frame(r, p, n, flags);
            if (v != REEF_GRPC_HEALTH_MORE || !(flags & FL_END_STREAM))
                return v;
        }
        return decide(r, REEF_GRPC_HEALTH_FAILED,
                      "health rpc probe failed: the response ended early");
    case F_HEADERS:
        /* A header block that ends the stream before any message: a trailers-only answer, which
         * gRPC servers send for errors (grpc-status in the block). */
        if (stream == 1 && (flags & FL_END_STREAM))
            return decide(r, REEF_GRPC_HEALTH_FAILED,
                          "health rpc probe failed: the server answered with an error "
                          "status");
        return REEF_GRPC_HEALTH_MORE;
    default: /* WINDOW_UPDATE, PRIORITY, CONTINUATION, extensions */
        return REEF_GRPC_HEALTH_MORE;
    }
}

int reef_grpc_health_feed(struct reef_grpc_health_reader *r, const void *data, size_t len,
                          struct reef_buf *reply)
{
    if (r->verdict != REEF_GRPC_HEALTH_MORE)
        return (int)r->verdict;
    if (reef_buf_append(&r->in, data, len) < 0)
        return -ENOMEM;
    size_t off = 0;
    int v = REEF_GRPC_HEALTH_MORE;
    while (v == REEF_GRPC_HEALTH_MORE && r->in.len - off >= 9) {
        const uint8_t *h = (const uint8_t *)r->in.data + off;
        size_t n = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
        if (n > MAX_FRAME) {
            v = decide(r, REEF_GRPC_HEALTH_FAILED,
                       "health rpc probe failed: frame of %lu bytes (not HTTP/2?)",
                       (unsigned long)n);
            break;
        }
        if (r->in.len - off < 9 + n)
            break;
        v = frame(r, h[3], h[4], be32(h + 5) & 0x7fffffff, h + 9, n, reply);
        off += 9 + n;
    }
    reef_buf_consume(&r->in, off);
    return v;
}

void reef_grpc_health_reader_free(struct reef_grpc_health_reader *r)
{
    reef_buf_free(&r->in);
    reef_buf_free(&r->msg);
}
