/* fuzz_selector: arbitrary text as label and field selectors, and as a LabelSelector object.
 * Nothing may crash or leak, and a label selector's canonical string must parse again to the same
 * string (the apiserver prints selectors that clients send back). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "orchestrate/selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char labels[] = "{\"app\":\"web\",\"tier\":\"fe\",\"n\":\"5\",\"e\":\"\"}";
static const char object[] = "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"},"
                             "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"},"
                             "\"involvedObject\":{\"kind\":\"Pod\"}}";

static void roundtrip(const struct reef_label_selector *sel)
{
    struct reef_buf a = REEF_BUF_INIT, b = REEF_BUF_INIT;
    ASSERT(reef_label_selector_string(sel, &a) == 0);
    struct reef_label_selector *again = NULL;
    struct reef_err err;
    int r = reef_label_selector_parse(a.data ? a.data : "", &again, &err);
    if (r != 0)
        fprintf(stderr, "reparse of \"%s\": %s\n", a.data, err.msg);
    ASSERT(r == 0);
    ASSERT(reef_label_selector_string(again, &b) == 0);
    ASSERT(strcmp(a.data ? a.data : "", b.data ? b.data : "") == 0);
    reef_label_selector_free(again);
    reef_buf_free(&a);
    reef_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct reef_err err;
    struct reef_json_doc d = REEF_JSON_DOC_INIT, o = REEF_JSON_DOC_INIT;
    ASSERT(reef_json_parse(&d, labels, strlen(labels), NULL, NULL) == 0);
    ASSERT(reef_json_parse(&o, object, strlen(object), NULL, NULL) == 0);

    struct reef_label_selector *sel = NULL;
    if (reef_label_selector_parse(s, &sel, &err) == 0) {
        reef_label_selector_matches(sel, &d, REEF_JSON_ROOT);
        reef_label_selector_matches(sel, &d, -1);
        reef_label_selector_equal_value(sel, "app");
        roundtrip(sel);
        reef_label_selector_free(sel);
    }
    static const char *const resources[] = {"pods", "events", "nodes", NULL};
    for (size_t i = 0; i < 4; i++) {
        struct reef_field_selector *fs = NULL;
        if (reef_field_selector_parse(s, resources[i], &fs, &err) == 0) {
            reef_field_selector_matches(fs, &o, REEF_JSON_ROOT);
            reef_field_selector_equal_value(fs, "metadata.name");
            reef_field_selector_free(fs);
        }
    }
    struct reef_json_doc in = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&in, s, size, NULL, NULL) == 0) {
        if (reef_label_selector_from_map(&in, REEF_JSON_ROOT, &sel, &err) == 0) {
            reef_label_selector_matches(sel, &d, REEF_JSON_ROOT);
            roundtrip(sel);
            reef_label_selector_free(sel);
        }
        if (reef_label_selector_from_json(&in, REEF_JSON_ROOT, &sel, &err) == 0) {
            reef_label_selector_matches(sel, &d, REEF_JSON_ROOT);
            roundtrip(sel);
            reef_label_selector_free(sel);
        }
    }
    reef_json_doc_free(&in);
    reef_json_doc_free(&d);
    reef_json_doc_free(&o);
    free(s);
    return 0;
}
