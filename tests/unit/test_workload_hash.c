/* Tests for the pod-template-hash (orchestrate/workload_hash.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/workload.h"
#include "tests/unit/test.h"

static void hash_of(const char *tmpl, int64_t collision, char out[16])
{
    struct reef_err err = {0};
    CHECK_INT(reef_workload_template_hash(tmpl, strlen(tmpl), collision, out, &err), ==, 0);
}

static void test_cli(void)
{
    const char *path = getenv("TMPL");
    if (!path)
        return;
    FILE *f = fopen(path, "r");
    char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char h[16];
    hash_of(buf, getenv("COLL") ? atoll(getenv("COLL")) : -1, h);
    printf("HASH %s\n", h);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_cli);
    return test_done();
}
