/* Unit tests for orchestrate/grpc_health: the request's frames decoded field by field, and the
 * reader against hand-built server answers, fed whole and one byte at a time. */
#include <string.h>

#include "orchestrate/grpc_health.h"
#include "tests/unit/test.h"

/* ---------- building answers ---------- */

static void frame(struct reef_buf *b, unsigned type, unsigned flags, unsigned stream,
                  const void *p, size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n, (uint8_t)type,
                    (uint8_t)flags, 0, 0, 0, (uint8_t)stream};
    reef_buf_append(b, h, 9);
    if (n)
        reef_buf_append(b, p, n);
}

/* DATA on stream 1 carrying a HealthCheckResponse of n protobuf bytes */
static void message(struct reef_buf *b, const uint8_t *pb, size_t n, unsigned flags)
{
    uint8_t m[64] = {0, 0, 0, 0, (uint8_t)n};
    memcpy(m + 5, pb, n);
    frame(b, 0, flags, 1, m, 5 + n);
}

static const uint8_t server_settings[] = {0, 3, 0, 0, 0, 100}; /* MAX_CONCURRENT_STREAMS 100 */
static const uint8_t status_200[] = {0x88};                    /* :status 200, indexed */

/* A whole successful exchange as grpc-go sends it, with the given response protobuf. */
static void answer(struct reef_buf *b, const uint8_t *pb, size_t n)
{
    frame(b, 4, 0, 0, server_settings, sizeof(server_settings));
    frame(b, 8, 0, 0, "\0\0\0\x10", 4); /* WINDOW_UPDATE */
    frame(b, 4, 1, 0, NULL, 0);          /* ACK of our SETTINGS */
    frame(b, 1, 4, 1, status_200, 1);
    message(b, pb, n, 0);
    frame(b, 1, 5, 1, "\x40\x0bgrpc-status\x01\x30", 15); /* trailers: grpc-status 0 */
}

struct outcome {
    int v;
    char msg[160];
    struct reef_buf reply;
};

static void feed(const struct reef_buf *in, size_t step, struct outcome *o)
{
    struct reef_grpc_health_reader r = REEF_GRPC_HEALTH_READER_INIT;
    reef_buf_init(&o->reply);
    o->v = REEF_GRPC_HEALTH_MORE;
    for (size_t off = 0; off < in->len; off += step) {
        size_t n = in->len - off < step ? in->len - off : step;
        o->v = reef_grpc_health_feed(&r, in->data + off, n, &o->reply);
        CHECK(o->v >= 0);
    }
    snprintf(o->msg, sizeof(o->msg), "%s", r.message);
    reef_grpc_health_reader_free(&r);
}

/* Whole, then a byte at a time: the same verdict and message. */
static void expect(const struct reef_buf *in, int v, const char *msg)
{
    struct outcome whole, bytes;
    feed(in, in->len ? in->len : 1, &whole);
    feed(in, 1, &bytes);
    CHECK_INT(whole.v, ==, v);
    CHECK_INT(bytes.v, ==, v);
    CHECK_STR(whole.msg, msg);
    CHECK_STR(bytes.msg, msg);
    reef_buf_free(&whole.reply);
    reef_buf_free(&bytes.reply);
}

/* ---------- the request ---------- */

static size_t hpack_int(const uint8_t **p, int bits)
{
    size_t max = ((size_t)1 << bits) - 1, v = *(*p)++ & max;
    if (v < max)
        return v;
    for (int shift = 0;; shift += 7) {
        uint8_t c = *(*p)++;
        v += (size_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
}

static void test_request(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_grpc_health_request("10.42.0.7:9000", "shop", &b), ==, 0);
    const uint8_t *p = (const uint8_t *)b.data, *end = p + b.len;
    CHECK(memcmp(p, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24) == 0);
    p += 24;
    /* SETTINGS, empty, stream 0 */
    CHECK(memcmp(p, "\0\0\0\x04\0\0\0\0\0", 9) == 0);
    p += 9;
    /* HEADERS, END_HEADERS, stream 1 */
    size_t hn = (size_t)p[0] << 16 | p[1] << 8 | p[2];
    CHECK_INT(p[3], ==, 1);
    CHECK_INT(p[4], ==, 4);
    CHECK_INT(p[8], ==, 1);
    p += 9;
    const uint8_t *h = p, *hend = p + hn;
    CHECK_INT(*h++, ==, 0x83); /* :method POST */
    CHECK_INT(*h++, ==, 0x86); /* :scheme http */
    const char *want[][2] = {{"4", "/grpc.health.v1.Health/Check"},
                             {"1", "10.42.0.7:9000"},
                             {"31", "application/grpc"},
                             {"te", "trailers"}};
    for (int i = 0; i < 4; i++) {
        CHECK_INT(*h & 0xf0, ==, 0); /* literal, not indexed, no Huffman below */
        size_t idx = hpack_int(&h, 4);
        char name[32] = "";
        if (idx == 0) {
            size_t nl = hpack_int(&h, 7);
            memcpy(name, h, nl);
            h += nl;
        } else {
            snprintf(name, sizeof(name), "%zu", idx);
        }
        CHECK_STR(name, want[i][0]);
        size_t vl = hpack_int(&h, 7);
        CHECK_INT(vl, ==, strlen(want[i][1]));
        CHECK(memcmp(h, want[i][1], vl) == 0);
        h += vl;
    }
    CHECK(h == hend);
    p = hend;
    /* DATA, END_STREAM: the gRPC message HealthCheckRequest{service: "shop"} */
    CHECK(memcmp(p, "\0\0\x0b\0\x01\0\0\0\x01", 9) == 0);
    p += 9;
    CHECK(memcmp(p, "\0\0\0\0\x06\x0a\x04shop", 11) == 0);
    p += 11;
    CHECK(p == end);

    /* the server as a whole: an empty message */
    reef_buf_reset(&b);
    CHECK_INT(reef_grpc_health_request("h:1", "", &b), ==, 0);
    CHECK(memcmp(b.data + b.len - 14, "\0\0\x05\0\x01\0\0\0\x01\0\0\0\0\0", 14) == 0);
    char big[1100];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(reef_grpc_health_request("h:1", big, &b), ==, -EINVAL);
    reef_buf_free(&b);
}

/* ---------- answers ---------- */

static void test_serving_and_acks(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    static const uint8_t serving[] = {0x08, 0x01};
    answer(&b, serving, sizeof(serving));
    expect(&b, REEF_GRPC_HEALTH_SERVING, "service healthy");
    /* the server's SETTINGS is acknowledged; its ACK of ours is not answered */
    struct outcome o;
    feed(&b, b.len, &o);
    CHECK_INT(o.reply.len, ==, 9);
    CHECK(memcmp(o.reply.data, "\0\0\0\x04\x01\0\0\0\0", 9) == 0);
    reef_buf_free(&o.reply);
    /* a PING is answered with its payload */
    reef_buf_reset(&b);
    frame(&b, 6, 0, 0, "12345678", 8);
    feed(&b, b.len, &o);
    CHECK_INT(o.v, ==, REEF_GRPC_HEALTH_MORE);
    CHECK_INT(o.reply.len, ==, 17);
    CHECK(memcmp(o.reply.data, "\0\0\x08\x06\x01\0\0\0\0" "12345678", 17) == 0);
    reef_buf_free(&o.reply);
    reef_buf_free(&b);
}

static void test_statuses(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    static const uint8_t not_serving[] = {0x08, 0x02}, unknown_svc[] = {0x08, 0x03},
                         other[] = {0x08, 0x09}, empty[] = {0},
                         /* unknown fields of every wire type around the status */
                         extra[] = {0x10, 0x05, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x22, 0x02, 'h',
                                    'i', 0x2d, 1, 2, 3, 4, 0x08, 0x01};
    answer(&b, not_serving, sizeof(not_serving));
    expect(&b, REEF_GRPC_HEALTH_NOT_SERVING, "service unhealthy (responded with \"NOT_SERVING\")");
    reef_buf_reset(&b);
    answer(&b, unknown_svc, sizeof(unknown_svc));
    expect(&b, REEF_GRPC_HEALTH_NOT_SERVING,
           "service unhealthy (responded with \"SERVICE_UNKNOWN\")");
    reef_buf_reset(&b);
    answer(&b, other, sizeof(other));
    expect(&b, REEF_GRPC_HEALTH_NOT_SERVING, "service unhealthy (responded with \"9\")");
    reef_buf_reset(&b);
    answer(&b, empty, 0); /* no field: UNKNOWN */
    expect(&b, REEF_GRPC_HEALTH_NOT_SERVING, "service unhealthy (responded with \"UNKNOWN\")");
    reef_buf_reset(&b);
    answer(&b, extra, sizeof(extra));
    expect(&b, REEF_GRPC_HEALTH_SERVING, "service healthy");
    /* padded DATA, the message split over two frames */
    reef_buf_reset(&b);
    frame(&b, 1, 4, 1, status_200, 1);
    frame(&b, 0, 8, 1, "\x03\0\0\0pad", 7);
    frame(&b, 0, 0, 1, "\0\x02\x08\x01", 4);
    expect(&b, REEF_GRPC_HEALTH_SERVING, "service healthy");
    reef_buf_free(&b);
}

static void test_failures(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    /* trailers only: an error status, no message (an unknown service) */
    frame(&b, 4, 0, 0, server_settings, sizeof(server_settings));
    frame(&b, 1, 5, 1, status_200, 1);
    expect(&b, REEF_GRPC_HEALTH_FAILED,
           "health rpc probe failed: the server answered with an error status");
    reef_buf_reset(&b);
    frame(&b, 3, 0, 1, "\0\0\0\x07", 4);
    expect(&b, REEF_GRPC_HEALTH_FAILED,
           "health rpc probe failed: stream reset (HTTP/2 error code 7)");
    reef_buf_reset(&b);
    frame(&b, 3, 0, 3, "\0\0\0\x07", 4); /* another stream's reset is none of ours */
    expect(&b, REEF_GRPC_HEALTH_MORE, "");
    reef_buf_reset(&b);
    frame(&b, 7, 0, 0, "\0\0\0\0\0\0\0\x01", 8);
    expect(&b, REEF_GRPC_HEALTH_FAILED,
           "health rpc probe failed: the server went away (HTTP/2 error code 1)");
    reef_buf_reset(&b);
    reef_buf_puts(&b, "HTTP/1.1 400 Bad Request\r\n\r\n"); /* not HTTP/2 at all */
    expect(&b, REEF_GRPC_HEALTH_FAILED,
           "health rpc probe failed: frame of 4740180 bytes (not HTTP/2?)");
    /* one frame each */
    static const struct {
        unsigned type, flags, stream;
        const char *payload;
        size_t len;
        const char *want;
    } one[] = {
        {0, 1, 1, "\0\0\0\0\x05\x08", 6, "the response ended early"}, /* inside the message */
        {0, 0, 1, "\x01\0\0\0\x02\x08\x01", 7, "compressed response"},
        {0, 0, 1, "\0\0\0\x20\0", 5, "response over 4096 bytes"},
        {0, 0, 1, "\0\0\0\0\x02\x08\x80", 7, "malformed response"}, /* a varint cut short */
        {0, 8, 1, "\x09\0", 2, "bad padding"},
        {6, 0, 0, "1234", 4, "malformed PING"},
        {4, 0, 0, "12345", 5, "malformed SETTINGS"},
    };
    for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++) {
        reef_buf_reset(&b);
        frame(&b, one[i].type, one[i].flags, one[i].stream, one[i].payload, one[i].len);
        char want[160];
        snprintf(want, sizeof(want), "health rpc probe failed: %s", one[i].want);
        expect(&b, REEF_GRPC_HEALTH_FAILED, want);
    }
    /* decided is decided: nothing after changes it */
    reef_buf_reset(&b);
    static const uint8_t serving[] = {0x08, 0x01};
    message(&b, serving, sizeof(serving), 0);
    frame(&b, 7, 0, 0, "\0\0\0\0\0\0\0\x02", 8);
    expect(&b, REEF_GRPC_HEALTH_SERVING, "service healthy");
    reef_buf_free(&b);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_request);
    TEST_RUN(test_serving_and_acks);
    TEST_RUN(test_statuses);
    TEST_RUN(test_failures);
    return test_done();
}
