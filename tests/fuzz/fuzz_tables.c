/* Fuzz target: every Table printer over arbitrary JSON objects must produce a valid document. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "orchestrate/tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const resources[] = {
        "pods",       "nodes",       "namespaces",       "services",   "endpoints",
        "configmaps", "secrets",     "events",           "deployments", "replicasets",
        "leases",     "endpointslices", "widgets.example.com",
    };
    if (size < 1)
        return 0;
    const char *res = resources[data[0] % (sizeof(resources) / sizeof(resources[0]))];
    bool wide = data[0] & 0x80;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, (const char *)data + 1, size - 1, NULL, NULL) == 0) {
        struct reef_buf out = REEF_BUF_INIT;
        struct reef_table t;
        struct reef_table_opts o = {.resource = res, .now = 1764338485, .wide = wide,
                                    .include = REEF_TABLE_METADATA};
        reef_table_begin(&t, &out, &o);
        /* A list's items, or the value itself. */
        int items = reef_json_member(&d, REEF_JSON_ROOT, "items");
        if (items >= 0) {
            struct reef_json_iter it = reef_json_iter(&d, items);
            while (reef_json_next(&d, &it))
                reef_table_add(&t, &d, it.val);
        } else {
            reef_table_add(&t, &d, REEF_JSON_ROOT);
        }
        if (reef_table_end(&t, NULL) == 0) {
            struct reef_json_doc check = REEF_JSON_DOC_INIT;
            if (reef_json_parse(&check, out.data, out.len, NULL, NULL) != 0)
                abort(); /* a table must always be valid JSON */
            reef_json_doc_free(&check);
        }
        reef_buf_free(&out);
    }
    reef_json_doc_free(&d);
    return 0;
}
