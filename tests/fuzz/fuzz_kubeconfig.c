/* Fuzz target: kubeconfig parsing (YAML or JSON) must never crash or leak. */
#include <stdint.h>
#include <string.h>

#include "orchestrate/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reef_kubeconfig k;
    struct reef_err err = {0};
    memset(&k, 0, sizeof(k));
    if (reef_kubeconfig_parse("/nonexistent/kubeconfig", (const char *)data, size, NULL, &k,
                              &err) == 0)
        reef_kubeconfig_free(&k);
    return 0;
}
