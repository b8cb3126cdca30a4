/* Helpers shared by the core/json test programs (test_json.c: the reader; test_json_writer.c: the
 * writer): parsing C string literals. */
#ifndef REEF_TEST_JSON_FIXTURE_H
#define REEF_TEST_JSON_FIXTURE_H

#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "core/json.h"
#include "tests/unit/test.h"

/* Parses a C string literal (no NULs) or fails the test. */
static void parse_ok(struct reef_json_doc *d, const char *s)
{
    struct reef_err err = {0};
    int r = reef_json_parse(d, s, strlen(s), NULL, &err);
    if (r != 0)
        TEST_FAIL("parse of %s failed: %s", s, err.msg);
}

#endif
