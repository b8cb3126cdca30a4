/* Fuzz target for the WebSocket reader (both directions) and writer. The first two input bytes
 * choose the direction, the message limit and how the rest is sliced; the rest is fed once whole
 * and once in slices, and both must produce the same transcript. Then the rest is written as a
 * frame and must read back unchanged, and the UTF-8 validator is checked against a plain decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_msg(void *ud, enum reef_ws_opcode op, const uint8_t *d, size_t n)
{
    struct reef_buf *log = ud;
    if (!d)
        abort();
    if (op == REEF_WS_TEXT && !reef_ws_utf8_valid(d, n))
        abort();
    if ((op == REEF_WS_CLOSE || op == REEF_WS_PING || op == REEF_WS_PONG) && n > 125)
        abort();
    if (op == REEF_WS_CONT || (op > REEF_WS_BINARY && op < REEF_WS_CLOSE) || op > REEF_WS_PONG)
        abort();
    reef_buf_printf(log, "%d:%zu:", op, n);
    reef_buf_append(log, d, n);
    reef_buf_putc(log, '\n');
    return 0;
}

static char *run(bool from_client, size_t max, const uint8_t *in, size_t len, unsigned seed)
{
    struct reef_buf log = REEF_BUF_INIT;
    reef_buf_puts(&log, "");
    struct reef_ws_reader *r = reef_ws_reader_new(from_client, max);
    if (!r)
        abort();
    size_t off = 0;
    unsigned state = seed;
    while (off < len) {
        size_t n = len - off;
        if (seed) {
            state = state * 1103515245u + 12345u;
            size_t s = (state >> 16) % 8 == 0 ? (state >> 8) % 4096 : 1 + (state >> 16) % 11;
            if (s && s < n)
                n = s;
        }
        int cc = 0;
        struct reef_err err = {0};
        ssize_t used = reef_ws_reader_feed(r, in + off, n, on_msg, &log, &cc, &err);
        if (used < 0) {
            if (err.code != used || !err.msg[0])
                abort();
            if (cc != 1002 && cc != 1007 && cc != 1009)
                abort();
            reef_buf_printf(&log, "X%d\n", cc);
            break;
        }
        if ((size_t)used != n)
            abort();
        off += n;
    }
    reef_ws_reader_free(r);
    return reef_buf_steal(&log);
}

/* A plain decoder: the validator must agree with it. */
static bool utf8_ref(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = s[i];
        size_t k;
        uint32_t min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, c &= 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, c &= 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, c &= 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i - 1 < k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            c = c << 6 | (s[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

/* What the reader must deliver for a written message: optionally an empty PONG first. */
struct expect {
    const uint8_t *data;
    size_t len;
    int op;
    bool pong_first;
    int calls;
};

static int check_msg(void *ud, enum reef_ws_opcode op, const uint8_t *d, size_t n)
{
    struct expect *e = ud;
    if (e->pong_first && e->calls == 0) {
        if (op != REEF_WS_PONG || n != 0)
            abort();
    } else if ((int)op != e->op || n != e->len || (n && memcmp(d, e->data, n) != 0)) {
        abort();
    }
    e->calls++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    unsigned seed = data[1] | 1u;
    bool from_client = flags & 1;
    static const size_t maxes[4] = {0, 16, 1000, 1 << 20};
    size_t max = maxes[(flags >> 1) & 3];
    const uint8_t *in = data + 2;
    size_t len = size - 2;

    char *whole = run(from_client, max, in, len, 0);
    char *split = run(from_client, max, in, len, seed);
    if (strcmp(whole, split) != 0)
        abort();
    free(whole);
    free(split);

    if (reef_ws_utf8_valid(in, len) != utf8_ref(in, len))
        abort();

    /* Writer round trip: the rest as one message, split into two fragments with a ping between. */
    static const enum reef_ws_opcode ops[4] = {REEF_WS_BINARY, REEF_WS_TEXT, REEF_WS_PING,
                                               REEF_WS_CLOSE};
    enum reef_ws_opcode op = ops[(flags >> 3) & 3];
    const uint8_t mask[4] = {data[1], 0x5a, flags, 0xc3};
    struct reef_buf b = REEF_BUF_INIT;
    bool control = op == REEF_WS_PING || op == REEF_WS_CLOSE;
    int rc;
    if (control) {
        rc = reef_ws_write_frame(&b, true, op, in, len, from_client ? mask : NULL);
        if ((rc == 0) != (len <= 125))
            abort();
    } else {
        size_t half = len / 2;
        rc = reef_ws_write_frame(&b, false, op, in, half, from_client ? mask : NULL);
        if (rc == 0)
            rc = reef_ws_write_frame(&b, true, REEF_WS_PONG, "", 0, from_client ? mask : NULL);
        if (rc == 0)
            rc = reef_ws_write_frame(&b, true, REEF_WS_CONT, in + half, len - half,
                                     from_client ? mask : NULL);
        if (rc != 0)
            abort();
    }
    if (rc == 0 && op != REEF_WS_CLOSE) {
        struct reef_ws_reader *r = reef_ws_reader_new(from_client, len);
        if (!r)
            abort();
        struct expect e = {in, len, op, !control, 0};
        int cc = 0;
        ssize_t used =
            reef_ws_reader_feed(r, (const uint8_t *)b.data, b.len, check_msg, &e, &cc, NULL);
        if (op == REEF_WS_TEXT && !reef_ws_utf8_valid(in, len)) {
            if (used >= 0 || cc != 1007)
                abort();
        } else if (used != (ssize_t)b.len || e.calls != (control ? 1 : 2)) {
            abort();
        }
        reef_ws_reader_free(r);
    }
    reef_buf_free(&b);

    char key[25];
    size_t kl = len < 24 ? len : 24;
    memcpy(key, in, kl);
    key[kl] = '\0';
    char acc[29];
    if (reef_ws_accept_key(key, acc) == 0 && strlen(acc) != 28)
        abort();
    return 0;
}
