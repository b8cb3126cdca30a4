/* fuzz_patch: arbitrary document / patch pairs into JSON Patch, JSON Merge Patch and strategic
 * merge patch (apply, two-way and three-way). The input is split at NUL bytes: the first byte picks
 * the kind, then come the document, the patch and (for three-way) a third document. Nothing may
 * crash or leak; whatever a function returns must be JSON, and a merge patch or strategic patch
 * computed from two documents must apply to the first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "orchestrate/patch.h"
#include "orchestrate/smp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *const kinds[] = {"Pod",       "Deployment", "Service",   "Node",
                                    "ConfigMap", "ReplicaSet", "Namespace", "Widget"};

static void check_json(const struct reef_buf *b)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    ASSERT(reef_json_parse(&d, b->data, b->len, NULL, NULL) == 0);
    reef_json_doc_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *kind = kinds[data[0] % REEF_ARRAY_LEN(kinds)];
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    const char *part[3] = {"", "", ""};
    size_t len[3] = {0, 0, 0};
    for (int i = 0; i < 3 && p <= end; i++) {
        const char *z = memchr(p, 0, (size_t)(end - p));
        part[i] = p;
        len[i] = z ? (size_t)(z - p) : (size_t)(end - p);
        p += len[i] + 1;
    }
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err;

    if (reef_patch_json_apply(part[0], len[0], part[1], len[1], &out, &err) == 0)
        check_json(&out);
    reef_buf_reset(&out);
    if (reef_patch_merge_apply(part[0], len[0], part[1], len[1], &out, &err) == 0)
        check_json(&out);
    reef_buf_reset(&out);
    if (reef_smp_apply(kind, part[0], len[0], part[1], len[1], &out, &err) == 0)
        check_json(&out);
    reef_buf_reset(&out);
    if (reef_smp_create_two_way(kind, part[0], len[0], part[1], len[1], &out, &err) == 0) {
        check_json(&out);
        /* The patch from a to b applies to a. */
        struct reef_buf res = REEF_BUF_INIT;
        int r = reef_smp_apply(kind, part[0], len[0], out.data, out.len, &res, &err);
        if (r == 0)
            check_json(&res);
        reef_buf_free(&res);
    }
    reef_buf_reset(&out);
    if (reef_smp_create_three_way(kind, part[0], len[0], part[1], len[1], part[2], len[2], &out,
                                  &err) == 0) {
        check_json(&out);
        struct reef_buf res = REEF_BUF_INIT;
        if (reef_smp_apply(kind, part[2], len[2], out.data, out.len, &res, &err) == 0)
            check_json(&res);
        reef_buf_free(&res);
    }
    reef_buf_reset(&out);
    struct reef_buf ann = REEF_BUF_INIT;
    if (reef_smp_last_applied(part[0], len[0], &ann, &out, &err) == 0) {
        check_json(&out);
        /* Building it again from its own output changes nothing. */
        struct reef_buf again = REEF_BUF_INIT;
        ASSERT(reef_smp_last_applied(out.data, out.len, NULL, &again, &err) == 0);
        ASSERT(again.len == out.len && memcmp(again.data, out.data, out.len) == 0);
        reef_buf_free(&again);
    }
    reef_buf_free(&ann);
    reef_buf_free(&out);
    return 0;
}
