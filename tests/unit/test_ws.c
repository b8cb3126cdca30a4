/* Tests for core/ws: RFC 6455 examples and refusals, each input fed whole, split in two at every
 * byte, one byte at a time and in uneven slices, with the same transcript each time. */
#include "core/ws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"

/* A transcript of the messages the reader delivered. Text is shown as is, binary as length and
 * first byte, controls with their payload. */
static int rec_msg(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    struct reef_buf *log = ud;
    CHECK(data != NULL || len == 0);
    switch (op) {
    case REEF_WS_TEXT:
        reef_buf_puts(log, "T[");
        reef_buf_append(log, data, len);
        reef_buf_puts(log, "]\n");
        break;
    case REEF_WS_BINARY:
        reef_buf_printf(log, "B%zu", len);
        if (len)
            reef_buf_printf(log, ":%02x:%02x", data[0], data[len - 1]);
        reef_buf_puts(log, "\n");
        break;
    case REEF_WS_CLOSE:
        if (len >= 2) {
            reef_buf_printf(log, "C%d[", data[0] << 8 | data[1]);
            reef_buf_append(log, data + 2, len - 2);
            reef_buf_puts(log, "]\n");
        } else {
            reef_buf_printf(log, "C%zu\n", len);
        }
        break;
    case REEF_WS_PING:
    case REEF_WS_PONG:
        reef_buf_puts(log, op == REEF_WS_PING ? "PING[" : "PONG[");
        reef_buf_append(log, data, len);
        reef_buf_puts(log, "]\n");
        break;
    default:
        TEST_FAIL("callback with opcode %d", op);
    }
    return 0;
}

/* Builds a frame with any header bits, independent of reef_ws_write_frame. lenbytes forces the
 * length encoding (0 = minimal, 2 = 16-bit, 8 = 64-bit) so non-minimal forms can be made. */
static void frame(struct reef_buf *b, uint8_t b0, const void *payload, size_t len,
                  const uint8_t *mask, int lenbytes, uint64_t fake_len)
{
    uint64_t l = fake_len ? fake_len : len;
    uint8_t mbit = mask ? 0x80 : 0;
    reef_buf_putc(b, (char)b0);
    if (lenbytes == 0)
        lenbytes = l < 126 ? 0 : l <= 0xFFFF ? 2 : 8;
    if (lenbytes == 0) {
        reef_buf_putc(b, (char)(mbit | l));
    } else if (lenbytes == 2) {
        reef_buf_putc(b, (char)(mbit | 126));
        reef_buf_putc(b, (char)(l >> 8));
        reef_buf_putc(b, (char)l);
    } else {
        reef_buf_putc(b, (char)(mbit | 127));
        for (int i = 7; i >= 0; i--)
            reef_buf_putc(b, (char)(l >> (8 * i)));
    }
    if (mask)
        reef_buf_append(b, mask, 4);
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++)
        reef_buf_putc(b, (char)(mask ? p[i] ^ mask[i & 3] : p[i]));
}

static const uint8_t M[4] = {0x37, 0xfa, 0x21, 0x3d};
static const uint8_t M2[4] = {0x00, 0xff, 0x80, 0x01};

/* Feeds in slices cycling through slices[] (none: all at once) and returns the transcript, with
 * "X<close code>" at an error. */
static char *run(bool from_client, size_t max, const uint8_t *in, size_t len, const size_t *slices,
                 size_t nslices)
{
    struct reef_buf log = REEF_BUF_INIT;
    reef_buf_puts(&log, "");
    struct reef_ws_reader *r = reef_ws_reader_new(from_client, max);
    CHECK(r);
    size_t off = 0, k = 0;
    while (off < len) {
        size_t n = nslices ? slices[k++ % nslices] : len;
        if (n == 0 || n > len - off)
            n = len - off;
        struct reef_err err = {0};
        int cc = 0;
        ssize_t used = reef_ws_reader_feed(r, in + off, n, rec_msg, &log, &cc, &err);
        if (used < 0) {
            CHECK(err.code == used && err.msg[0]);
            reef_buf_printf(&log, "X%d\n", cc);
            cc = 0;
            CHECK(reef_ws_reader_feed(r, in, 1, rec_msg, &log, &cc, NULL) < 0);
            CHECK(cc != 0);
            break;
        }
        CHECK_INT(used, ==, n);
        off += n;
    }
    reef_ws_reader_free(r);
    return reef_buf_steal(&log);
}

/* Runs every way of splitting and checks each gives want. */
static void expect(const char *name, bool from_client, size_t max, const void *in, size_t len,
                   const char *want)
{
    static const size_t one[] = {1};
    static const size_t odd[] = {3, 1, 7, 2, 13, 5, 1000};
    char *got = run(from_client, max, in, len, NULL, 0);
    if (strcmp(got, want) != 0)
        TEST_FAIL("case '%s' whole:\n--- got\n%s--- want\n%s", name, got, want);
    free(got);
    got = run(from_client, max, in, len, one, 1);
    if (strcmp(got, want) != 0)
        TEST_FAIL("case '%s' byte at a time:\n--- got\n%s--- want\n%s", name, got, want);
    free(got);
    got = run(from_client, max, in, len, odd, REEF_ARRAY_LEN(odd));
    if (strcmp(got, want) != 0)
        TEST_FAIL("case '%s' uneven:\n--- got\n%s--- want\n%s", name, got, want);
    free(got);
    /* Splits at every position; long inputs only around the frame headers. */
    for (size_t at = 1; at < len; at++) {
        if (len > 400 && at > 200 && at < len - 200)
            continue;
        size_t sl[2] = {at, 0};
        got = run(from_client, max, in, len, sl, 2);
        if (strcmp(got, want) != 0)
            TEST_FAIL("case '%s' split at %zu:\n--- got\n%s--- want\n%s", name, at, got, want);
        free(got);
    }
}

#define RAW(s) (const uint8_t *)(s), sizeof(s) - 1

/* RFC 6455 section 5.7. */
static void test_rfc_examples(void)
{
    expect("unmasked text", false, 1000, RAW("\x81\x05\x48\x65\x6c\x6c\x6f"), "T[Hello]\n");
    expect("masked text", true, 1000, RAW("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
           "T[Hello]\n");
    expect("fragmented text", false, 1000, RAW("\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f"),
           "T[Hello]\n");
    expect("unmasked ping", false, 1000, RAW("\x89\x05\x48\x65\x6c\x6c\x6f"), "PING[Hello]\n");
    expect("masked pong", true, 1000, RAW("\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
           "PONG[Hello]\n");

    struct reef_buf b = REEF_BUF_INIT;
    reef_buf_append(&b, "\x82\x7e\x01\x00", 4);
    for (int i = 0; i < 256; i++)
        reef_buf_putc(&b, (char)i);
    expect("256 bytes binary", false, 1000, b.data, b.len, "B256:00:ff\n");
    reef_buf_reset(&b);
    reef_buf_append(&b, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    for (int i = 0; i < 65536; i++)
        reef_buf_putc(&b, (char)(i * 7));
    expect("64KiB binary", false, 65536, b.data, b.len, "B65536:00:f9\n");
    expect("64KiB binary over limit", false, 65535, b.data, b.len, "X1009\n");
    reef_buf_free(&b);
}

static void test_fragmentation_and_control(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    /* Client frames, each with a different mask, a ping and a pong inside the message. */
    frame(&b, 0x01, "Hel", 3, M, 0, 0);
    frame(&b, 0x89, "p1", 2, M2, 0, 0);
    frame(&b, 0x00, "", 0, M, 0, 0);
    frame(&b, 0x8A, "", 0, M, 0, 0);
    frame(&b, 0x00, "lo ", 3, M2, 0, 0);
    frame(&b, 0x88,
          "\x03\xe8"
          "bye",
          5, M, 0, 0);
    frame(&b, 0x80, "w\xc3\xb6rld", 6, M, 0, 0);
    frame(&b, 0x82, "\x01\x02\x03", 3, M2, 0, 0);
    frame(&b, 0x02, "", 0, M2, 0, 0);
    frame(&b, 0x80, "\xff", 1, M2, 0, 0);
    frame(&b, 0x81, "", 0, M2, 0, 0);
    frame(&b, 0x88, "", 0, M, 0, 0);
    expect("interleaved", true, 100, b.data, b.len,
           "PING[p1]\nPONG[]\nC1000[bye]\nT[Hello w\xc3\xb6rld]\nB3:01:03\nB1:ff:ff\nT[]\nC0\n");

    /* A multi-byte character split between fragments is valid text. */
    reef_buf_reset(&b);
    frame(&b, 0x01, "caf\xc3", 4, NULL, 0, 0);
    frame(&b, 0x00, "", 0, NULL, 0, 0);
    frame(&b, 0x80, "\xa9!", 2, NULL, 0, 0);
    expect("utf-8 across fragments", false, 100, b.data, b.len, "T[caf\xc3\xa9!]\n");

    /* Limit counted over the whole message: 10 + 6 fits in 16, then 1 more does not. */
    reef_buf_reset(&b);
    frame(&b, 0x02, "0123456789", 10, NULL, 0, 0);
    frame(&b, 0x80, "012345", 6, NULL, 0, 0);
    expect("fragments at limit", false, 16, b.data, b.len, "B16:30:35\n");
    frame(&b, 0x02, "0123456789", 10, NULL, 0, 0);
    frame(&b, 0x00, "012345", 6, NULL, 0, 0);
    frame(&b, 0x80, "x", 1, NULL, 0, 0);
    expect("fragments over limit", false, 16, b.data, b.len, "B16:30:35\nX1009\n");
    reef_buf_free(&b);
}

struct refusal {
    const char *name;
    bool from_client;
    uint8_t b0;
    const char *payload;
    size_t len;
    bool masked;
    int lenbytes;
    uint64_t fake_len;
    const char *prefix; /* frames fed before, raw */
    size_t prefix_len;
    const char *want;
};

static void test_refusals(void)
{
    static const struct refusal cases[] = {
        {"rsv1", true, 0xC1, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"rsv2", true, 0xA1, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"rsv3", true, 0x91, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"opcode 3", true, 0x83, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"opcode 7", true, 0x87, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"opcode B", true, 0x8B, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"opcode F", true, 0x8F, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"unmasked from client", true, 0x81, "a", 1, false, 0, 0, NULL, 0, "X1002\n"},
        {"masked from server", false, 0x81, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"fragmented ping", true, 0x09, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"fragmented close", true, 0x08, "", 0, true, 0, 0, NULL, 0, "X1002\n"},
        {"long ping", true, 0x89,
         "0123456789012345678901234567890123456789012345678901234567890123456789"
         "01234567890123456789012345678901234567890123456789012345",
         126, true, 0, 0, NULL, 0, "X1002\n"},
        {"ping with 16-bit length", true, 0x89, "a", 1, true, 2, 0, NULL, 0, "X1002\n"},
        {"continuation first", true, 0x80, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"continuation unfinished first", true, 0x00, "a", 1, true, 0, 0, NULL, 0, "X1002\n"},
        {"continuation after complete message", false, 0x80, "a", 1, false, 0, 0, "\x81\x01x", 3,
         "T[x]\nX1002\n"},
        {"new text in fragmented message", false, 0x81, "b", 1, false, 0, 0, "\x01\x01x", 3,
         "X1002\n"},
        {"new binary in fragmented message", false, 0x82, "b", 1, false, 0, 0, "\x01\x01x", 3,
         "X1002\n"},
        {"non-minimal 16-bit", false, 0x82, "abc", 3, false, 2, 0, NULL, 0, "X1002\n"},
        {"non-minimal 16-bit 125", false, 0x82, "", 0, false, 2, 125, NULL, 0, "X1002\n"},
        {"non-minimal 64-bit", false, 0x82, "abc", 3, false, 8, 0, NULL, 0, "X1002\n"},
        {"non-minimal 64-bit 65535", false, 0x82, "", 0, false, 8, 65535, NULL, 0, "X1002\n"},
        {"64-bit top bit", false, 0x82, "", 0, false, 8, 0x8000000000000000ull, NULL, 0, "X1002\n"},
        {"huge length over limit", true, 0x82, "", 0, true, 8, 1ull << 62, NULL, 0, "X1009\n"},
        {"huge fragment over limit", true, 0x80, "", 0, true, 8, 0x7fffffffffffffffull,
         "\x02\x81\0\0\0\0x", 7, "X1009\n"},
        {"text over limit", false, 0x81, "01234567890123456", 17, false, 0, 0, NULL, 0, "X1009\n"},
        {"invalid utf-8", false, 0x81, "a\xff", 2, false, 0, 0, NULL, 0, "X1007\n"},
        {"overlong utf-8", false, 0x81, "\xc0\x80", 2, false, 0, 0, NULL, 0, "X1007\n"},
        {"overlong 3-byte", false, 0x81, "\xe0\x80\xaf", 3, false, 0, 0, NULL, 0, "X1007\n"},
        {"overlong 4-byte", false, 0x81, "\xf0\x80\x80\xaf", 4, false, 0, 0, NULL, 0, "X1007\n"},
        {"surrogate", false, 0x81, "\xed\xa0\x80", 3, false, 0, 0, NULL, 0, "X1007\n"},
        {"above U+10FFFF", false, 0x81, "\xf4\x90\x80\x80", 4, false, 0, 0, NULL, 0, "X1007\n"},
        {"truncated utf-8", false, 0x81, "ab\xe2\x82", 4, false, 0, 0, NULL, 0, "X1007\n"},
        {"truncated utf-8 at message end", false, 0x80, "\xe2\x82", 2, false, 0, 0, "\x01\x01x", 3,
         "X1007\n"},
        {"lone continuation byte", false, 0x81, "\x80", 1, false, 0, 0, NULL, 0, "X1007\n"},
        /* The ping leaves a valid code in the control buffer behind the one byte. */
        {"close of one byte", true, 0x88, "\x03", 1, true, 0, 0, "\x89\x82\0\0\0\0\x03\xe8", 8,
         "PING[\x03\xe8]\nX1002\n"},
        {"close 999", true, 0x88, "\x03\xe7", 2, true, 0, 0, NULL, 0, "X1002\n"},
        {"close 0", true, 0x88, "\0\0", 2, true, 0, 0, NULL, 0, "X1002\n"},
        {"close 1004", true, 0x88, "\x03\xec", 2, true, 0, 0, NULL, 0, "X1002\n"},
        {"close 1005", true, 0x88, "\x03\xed", 2, true, 0, 0, NULL, 0, "X1002\n"},
        {"close 1006", true, 0x88, "\x03\xee", 2, true, 0, 0, NULL, 0, "X1002\n"},
        {"close 1015", true, 0x88, "\x03\xf7", 2, true, 0, 0, NULL, 0, "X1002\n"},
        {"close 2999", true, 0x88, "\x0b\xb7", 2, true, 0, 0, NULL, 0, "X1002\n"},
        {"close 5000", true, 0x88, "\x13\x88", 2, true, 0, 0, NULL, 0, "X1002\n"},
        {"close 65535", true, 0x88, "\xff\xff", 2, true, 0, 0, NULL, 0, "X1002\n"},
        {"close bad reason", true, 0x88, "\x03\xe8\xc3", 3, true, 0, 0, NULL, 0, "X1007\n"},
        /* Accepted ones, for contrast. */
        {"close 1001", true, 0x88, "\x03\xe9", 2, true, 0, 0, NULL, 0, "C1001[]\n"},
        {"close 1003", true, 0x88, "\x03\xeb", 2, true, 0, 0, NULL, 0, "C1003[]\n"},
        {"close 1007", true, 0x88, "\x03\xef", 2, true, 0, 0, NULL, 0, "C1007[]\n"},
        {"close 1011", true, 0x88, "\x03\xf3", 2, true, 0, 0, NULL, 0, "C1011[]\n"},
        {"close 3000", true, 0x88, "\x0b\xb8", 2, true, 0, 0, NULL, 0, "C3000[]\n"},
        {"close 4999", true, 0x88, "\x13\x87", 2, true, 0, 0, NULL, 0, "C4999[]\n"},
        {"close utf-8 reason", true, 0x88, "\x03\xe8\xc3\xa9", 4, true, 0, 0, NULL, 0,
         "C1000[\xc3\xa9]\n"},
        {"ping 125", true, 0x89,
         "0123456789012345678901234567890123456789012345678901234567890123456789"
         "0123456789012345678901234567890123456789012345678901234",
         125, true, 0, 0, NULL, 0,
         "PING[0123456789012345678901234567890123456789012345678901234567890123456789"
         "0123456789012345678901234567890123456789012345678901234]\n"},
        {"binary not utf-8", false, 0x82, "\xff\xfe", 2, false, 0, 0, NULL, 0, "B2:ff:fe\n"},
        {"4-byte utf-8", false, 0x81, "\xf0\x9f\x90\xa0", 4, false, 0, 0, NULL, 0,
         "T[\xf0\x9f\x90\xa0]\n"},
        {"U+10FFFF", false, 0x81, "\xf4\x8f\xbf\xbf", 4, false, 0, 0, NULL, 0,
         "T[\xf4\x8f\xbf\xbf]\n"},
        {"U+D7FF", false, 0x81, "\xed\x9f\xbf", 3, false, 0, 0, NULL, 0, "T[\xed\x9f\xbf]\n"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        const struct refusal *c = &cases[i];
        struct reef_buf b = REEF_BUF_INIT;
        if (c->prefix)
            reef_buf_append(&b, c->prefix, c->prefix_len);
        frame(&b, c->b0, c->payload, c->len, c->masked ? M : NULL, c->lenbytes, c->fake_len);
        /* Something after the bad frame: it must not be reached. */
        frame(&b, 0x89, "after", 5, c->from_client ? M : NULL, 0, 0);
        char want[1024];
        snprintf(want, sizeof(want), "%s%s", c->want, strchr(c->want, 'X') ? "" : "PING[after]\n");
        expect(c->name, c->from_client, 16, b.data, b.len, want);
        reef_buf_free(&b);
    }
}

struct content_check {
    const uint8_t *want;
    size_t len;
    int calls;
};

static int check_content(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    struct content_check *c = ud;
    CHECK_INT(len, ==, c->len);
    CHECK(len == 0 || memcmp(data, c->want, len) == 0);
    c->calls++;
    return 0;
}

/* write_frame output read back by the reader, in both directions. */
static void test_write_roundtrip(void)
{
    static const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 100000};
    static const size_t hdr[] = {2, 2, 2, 4, 4, 4, 10, 10};
    uint8_t *data = malloc(100000);
    for (size_t i = 0; i < 100000; i++)
        data[i] = (uint8_t)(i * 31 + 7);
    for (size_t li = 0; li < REEF_ARRAY_LEN(lens); li++) {
        for (int masked = 0; masked < 2; masked++) {
            struct reef_buf b = REEF_BUF_INIT;
            CHECK_INT(
                reef_ws_write_frame(&b, true, REEF_WS_BINARY, data, lens[li], masked ? M : NULL),
                ==, 0);
            CHECK_INT(b.len, ==, hdr[li] + (masked ? 4 : 0) + lens[li]);
            CHECK_INT((uint8_t)b.data[0], ==, 0x82);
            CHECK_INT((uint8_t)b.data[1] & 0x80, ==, masked ? 0x80 : 0);
            char want[64];
            if (lens[li])
                snprintf(want, sizeof(want), "B%zu:%02x:%02x\n", lens[li], data[0],
                         data[lens[li] - 1]);
            else
                snprintf(want, sizeof(want), "B0\n");
            char *got = run(masked, 100000, (uint8_t *)b.data, b.len, NULL, 0);
            CHECK_STR(got, want);
            free(got);
            /* The direction is enforced on what was written. */
            got = run(!masked, 100000, (uint8_t *)b.data, b.len, NULL, 0);
            CHECK_STR(got, "X1002\n");
            free(got);
            /* The payload itself, not only its ends. */
            struct reef_ws_reader *r = reef_ws_reader_new(masked, 100000);
            struct content_check c = {data, lens[li], 0};
            CHECK_INT(
                reef_ws_reader_feed(r, (uint8_t *)b.data, b.len, check_content, &c, NULL, NULL), ==,
                b.len);
            CHECK_INT(c.calls, ==, 1);
            reef_ws_reader_free(r);
            reef_buf_free(&b);
        }
    }

    /* A text message written in fragments with a ping between them. */
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_ws_write_frame(&b, false, REEF_WS_TEXT, "he", 2, M), ==, 0);
    CHECK_INT(reef_ws_write_frame(&b, true, REEF_WS_PING, "x", 1, M2), ==, 0);
    CHECK_INT(reef_ws_write_frame(&b, false, REEF_WS_CONT, "ll", 2, M2), ==, 0);
    CHECK_INT(reef_ws_write_frame(&b, true, REEF_WS_CONT, "o", 1, M), ==, 0);
    CHECK_INT(reef_ws_write_close(&b, 1000, "done", M), ==, 0);
    expect("written fragments", true, 100, b.data, b.len, "PING[x]\nT[hello]\nC1000[done]\n");
    reef_buf_free(&b);
    free(data);
}

static void test_payload_exact(void)
{
    size_t n = 70000;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i ^ (i >> 8));
    struct reef_buf b = REEF_BUF_INIT;
    /* Fragments of uneven sizes, masked. */
    size_t sizes[] = {1, 125, 126, 3, 65535, 70000 - 1 - 125 - 126 - 3 - 65535};
    size_t off = 0;
    for (size_t i = 0; i < REEF_ARRAY_LEN(sizes); i++) {
        CHECK_INT(reef_ws_write_frame(&b, i + 1 == REEF_ARRAY_LEN(sizes),
                                      i ? REEF_WS_CONT : REEF_WS_BINARY, data + off, sizes[i],
                                      i & 1 ? M : M2),
                  ==, 0);
        off += sizes[i];
    }
    CHECK_INT(off, ==, n);
    for (size_t step = 1; step < 5000; step = step * 3 + 1) {
        struct content_check c = {data, n, 0};
        struct reef_ws_reader *r = reef_ws_reader_new(true, n);
        for (size_t o = 0; o < b.len;) {
            size_t k = b.len - o < step ? b.len - o : step;
            int cc = 0;
            CHECK_INT(
                reef_ws_reader_feed(r, (uint8_t *)b.data + o, k, check_content, &c, &cc, NULL), ==,
                k);
            o += k;
        }
        CHECK_INT(c.calls, ==, 1);
        /* The same reader takes the message again (its large buffer was released). */
        CHECK_INT(reef_ws_reader_feed(r, (uint8_t *)b.data, b.len, check_content, &c, NULL, NULL),
                  ==, b.len);
        CHECK_INT(c.calls, ==, 2);
        reef_ws_reader_free(r);
    }
    /* One byte less of limit refuses it with 1009. */
    struct reef_ws_reader *r = reef_ws_reader_new(true, n - 1);
    struct content_check c = {data, n, 0};
    int cc = 0;
    struct reef_err err = {0};
    CHECK(reef_ws_reader_feed(r, (uint8_t *)b.data, b.len, check_content, &c, &cc, &err) < 0);
    CHECK_INT(cc, ==, 1009);
    CHECK_INT(c.calls, ==, 0);
    reef_ws_reader_free(r);
    reef_buf_free(&b);
    free(data);
}

static void test_write_refusals(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    char big[200];
    memset(big, 'a', sizeof(big));
    CHECK_INT(reef_ws_write_frame(&b, true, REEF_WS_PING, big, 126, NULL), ==, -EINVAL);
    CHECK_INT(reef_ws_write_frame(&b, true, REEF_WS_CLOSE, big, 126, NULL), ==, -EINVAL);
    CHECK_INT(reef_ws_write_frame(&b, true, REEF_WS_PONG, big, 126, M), ==, -EINVAL);
    CHECK_INT(reef_ws_write_frame(&b, false, REEF_WS_PING, big, 1, NULL), ==, -EINVAL);
    CHECK_INT(reef_ws_write_frame(&b, true, (enum reef_ws_opcode)3, big, 1, NULL), ==, -EINVAL);
    CHECK_INT(b.len, ==, 0);
    CHECK_INT(reef_ws_write_frame(&b, true, REEF_WS_PING, big, 125, NULL), ==, 0);
    CHECK_INT(b.len, ==, 127);
    reef_buf_free(&b);
}

static void test_write_close(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_ws_write_close(&b, 1000, "bye", NULL), ==, 0);
    CHECK_INT(b.len, ==, 7);
    CHECK(memcmp(b.data,
                 "\x88\x05\x03\xe8"
                 "bye",
                 7) == 0);
    reef_buf_reset(&b);
    CHECK_INT(reef_ws_write_close(&b, 1002, NULL, NULL), ==, 0);
    CHECK(b.len == 4 && memcmp(b.data, "\x88\x02\x03\xea", 4) == 0);

    /* A long reason is cut to 123 bytes, and not in the middle of a character. */
    char reason[400] = "";
    for (int i = 0; i < 100; i++)
        strcat(reason, "\xc3\xa9"); /* 2 bytes each */
    reef_buf_reset(&b);
    CHECK_INT(reef_ws_write_close(&b, 1009, reason, M), ==, 0);
    char *got = run(true, 10, (uint8_t *)b.data, b.len, NULL, 0);
    char want[200] = "C1009[";
    memcpy(want + 6, reason, 122);
    memcpy(want + 128, "]\n", 3);
    CHECK_STR(got, want);
    free(got);
    memset(reason, 'r', 300);
    reason[300] = '\0';
    reef_buf_reset(&b);
    CHECK_INT(reef_ws_write_close(&b, 4000, reason, NULL), ==, 0);
    CHECK_INT(b.len, ==, 127);
    reef_buf_free(&b);
}

static void test_accept_key(void)
{
    char out[29];
    /* RFC 6455 section 1.3. */
    CHECK_INT(reef_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), ==, 0);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_INT(reef_ws_accept_key("AAAAAAAAAAAAAAAAAAAAAA==", out), ==, 0);
    CHECK_INT(strlen(out), ==, 28);
    CHECK_INT(reef_ws_accept_key("", out), ==, -EINVAL);
    CHECK_INT(reef_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", out), ==, -EINVAL);
    CHECK_INT(reef_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ===", out), ==, -EINVAL);
    CHECK_INT(reef_ws_accept_key("dGhlIHNhbXBsZSBub25j!Q==", out), ==, -EINVAL);
    /* 24 characters but 17 bytes, and 18 bytes without padding. */
    CHECK_INT(reef_ws_accept_key("dGhlIHNhbXBsZSBub25jZQE=", out), ==, -EINVAL);
    CHECK_INT(reef_ws_accept_key("dGhlIHNhbXBsZSBub25jZQEA", out), ==, -EINVAL);
}

static void test_utf8(void)
{
    CHECK(reef_ws_utf8_valid((const uint8_t *)"", 0));
    CHECK(reef_ws_utf8_valid(RAW("plain ascii")));
    CHECK(reef_ws_utf8_valid(RAW("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")));
    CHECK(reef_ws_utf8_valid(RAW("\xef\xbf\xbf")));
    CHECK(reef_ws_utf8_valid(RAW("\xee\x80\x80")));
    CHECK(reef_ws_utf8_valid(RAW("\xf0\x90\x80\x80")));
    CHECK(!reef_ws_utf8_valid(RAW("\xc1\xbf")));
    CHECK(!reef_ws_utf8_valid(RAW("\xe0\x9f\xbf")));
    CHECK(!reef_ws_utf8_valid(RAW("\xed\xbf\xbf")));
    CHECK(!reef_ws_utf8_valid(RAW("\xf0\x8f\xbf\xbf")));
    CHECK(!reef_ws_utf8_valid(RAW("\xf5\x80\x80\x80")));
    CHECK(!reef_ws_utf8_valid(RAW("\xf8\x88\x80\x80\x80")));
    CHECK(!reef_ws_utf8_valid(RAW("\xfe")));
    CHECK(!reef_ws_utf8_valid(RAW("\xc3")));
    CHECK(!reef_ws_utf8_valid(RAW("\xc3\x28")));
    CHECK(!reef_ws_utf8_valid(RAW("\xe2\x28\xa1")));
    /* Every single byte. */
    for (int c = 0; c < 256; c++) {
        uint8_t s = (uint8_t)c;
        CHECK(reef_ws_utf8_valid(&s, 1) == (c < 0x80));
    }
}

static int stop_on_ping(void *ud, enum reef_ws_opcode op, const uint8_t *data, size_t len)
{
    (*(int *)ud)++;
    return op == REEF_WS_PING ? -ECANCELED : 0;
}

static void test_callback_stop(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    frame(&b, 0x81, "a", 1, NULL, 0, 0);
    frame(&b, 0x89, "", 0, NULL, 0, 0);
    frame(&b, 0x81, "b", 1, NULL, 0, 0);
    struct reef_ws_reader *r = reef_ws_reader_new(false, 10);
    int calls = 0, cc = 0;
    struct reef_err err = {0};
    CHECK_INT(reef_ws_reader_feed(r, (uint8_t *)b.data, b.len, stop_on_ping, &calls, &cc, &err), ==,
              -ECANCELED);
    CHECK_INT(calls, ==, 2);
    CHECK_INT(err.code, ==, -ECANCELED);
    CHECK_INT(cc, ==, 1011);
    CHECK(reef_ws_reader_feed(r, (uint8_t *)b.data, b.len, stop_on_ping, &calls, &cc, &err) < 0);
    CHECK_INT(calls, ==, 2);
    reef_ws_reader_free(r);
    reef_buf_free(&b);
}

/* A zero limit accepts empty messages only. */
static void test_zero_limit(void)
{
    expect("zero limit empty", false, 0, RAW("\x81\x00\x82\x00"), "T[]\nB0\n");
    expect("zero limit one byte", false, 0, RAW("\x81\x01x"), "X1009\n");
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_rfc_examples);
    TEST_RUN(test_fragmentation_and_control);
    TEST_RUN(test_refusals);
    TEST_RUN(test_write_roundtrip);
    TEST_RUN(test_payload_exact);
    TEST_RUN(test_write_refusals);
    TEST_RUN(test_write_close);
    TEST_RUN(test_accept_key);
    TEST_RUN(test_utf8);
    TEST_RUN(test_callback_stop);
    TEST_RUN(test_zero_limit);
    return test_done();
}
