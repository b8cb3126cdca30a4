/* Fuzz target for the HTTP response parser: the request target's driver with the other kind. */
#define FUZZ_KIND REEF_HTTP_RESPONSE
#include "tests/fuzz/fuzz_http_request.c"
