/* Fuzz target: store commands from arbitrary bytes (as a Raft log would hand them over) must be
 * decoded or refused, and applying any decoded command must never crash or corrupt the store. */
#include <stdint.h>
#include <stdlib.h>

#include "orchestrate/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct reef_store *s;
    if (!s && reef_store_open(NULL, NULL, &s, NULL) < 0)
        abort();
    struct reef_store_cmd cmd;
    if (reef_store_cmd_decode(data, size, &cmd, NULL) == 0) {
        struct reef_store_result res = {0};
        if (reef_store_apply(s, &cmd, &res, NULL) == 0)
            reef_store_result_free(&res);
        /* What decoded must encode to something that decodes again. */
        struct reef_buf b = REEF_BUF_INIT;
        struct reef_store_cmd again;
        if (reef_store_cmd_encode(&cmd, &b, NULL) == 0 &&
            reef_store_cmd_decode(b.data, b.len, &again, NULL) != 0)
            abort();
        reef_buf_free(&b);
    }
    return 0;
}
