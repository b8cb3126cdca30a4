/* Fuzz target: base64 and hex decoding must be canonical: what decodes re-encodes to the input. */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include "core/crypto.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int flags = data[0] & 3;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    struct reef_buf d = REEF_BUF_INIT, e = REEF_BUF_INIT;
    struct reef_err err;
    if (reef_crypto_b64_decode(&d, s, n, flags, &err) == 0) {
        /* canonical: re-encoding gives the input back */
        if (reef_crypto_b64_encode(&e, d.data, d.len, flags) != 0)
            abort();
        if (e.len != n || memcmp(e.data, s, n) != 0)
            abort();
    } else if (d.len != 0)
        abort();
    reef_buf_free(&d);
    reef_buf_free(&e);
    unsigned char *out = malloc(n / 2 + 1);
    size_t ol;
    if (reef_crypto_hex_decode(s, n, out, n / 2 + 1, &ol, &err) == 0) {
        char *h = malloc(2 * ol + 1);
        reef_crypto_hex_encode(h, out, ol);
        if (strncasecmp(h, s, n) != 0)
            abort();
        free(h);
    }
    free(out);
    return 0;
}
