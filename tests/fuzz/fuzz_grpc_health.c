/* Fuzz target for the gRPC health reader (orchestrate/grpc_health), which reads whatever a
 * container's port answers. The input is fed once whole and once in slices the first byte
 * chooses: both must reach the same verdict and message, a decided verdict never changes, and
 * every reply is whole HTTP/2 frames (SETTINGS or PING acknowledgements). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/grpc_health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const struct reef_buf *b)
{
    const uint8_t *p = (const uint8_t *)b->data;
    size_t off = 0;
    while (off < b->len) {
        if (b->len - off < 9)
            abort();
        size_t n = (size_t)p[off] << 16 | (size_t)p[off + 1] << 8 | p[off + 2];
        uint8_t type = p[off + 3], flags = p[off + 4];
        if (flags != 1 || !((type == 4 && n == 0) || (type == 6 && n == 8)))
            abort();
        off += 9 + n;
    }
    if (off != b->len)
        abort();
}

static int run(const uint8_t *in, size_t len, size_t step, char *msg, size_t msgsz)
{
    struct reef_grpc_health_reader r = REEF_GRPC_HEALTH_READER_INIT;
    struct reef_buf reply = REEF_BUF_INIT;
    int v = REEF_GRPC_HEALTH_MORE, first = -1;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        v = reef_grpc_health_feed(&r, in + off, n, &reply);
        if (v < 0 || v > REEF_GRPC_HEALTH_FAILED)
            abort();
        if (first >= 0 && v != first)
            abort();
        if (v != REEF_GRPC_HEALTH_MORE && first < 0)
            first = v;
    }
    check_reply(&reply);
    if (v != REEF_GRPC_HEALTH_MORE && !r.message[0])
        abort();
    strncpy(msg, r.message, msgsz - 1);
    msg[msgsz - 1] = '\0';
    reef_buf_free(&reply);
    reef_grpc_health_reader_free(&r);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = data[0] % 17 + 1;
    char a[160], b[160];
    int va = run(data + 1, size - 1, size, a, sizeof(a));
    int vb = run(data + 1, size - 1, step, b, sizeof(b));
    if (va != vb || strcmp(a, b) != 0)
        abort();
    return 0;
}
