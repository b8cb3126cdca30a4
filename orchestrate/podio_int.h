/* podio_int: what podio.c (logs) and podio_exec.c (exec, attach) share. Loop thread. */
#ifndef REEF_ORCHESTRATE_PODIO_INT_H
#define REEF_ORCHESTRATE_PODIO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/http_server.h"

/* A query flag's value as Kubernetes reads booleans ("true", "1", "t"). */
bool reef__podio_bool(const char *v);
/* Answers res with a v1 Status (Failure) as the API server words its errors. */
void reef__podio_fail(struct reef_http_res *res, int code, const char *reason, const char *msg);
/* RFC 3339 to Unix nanoseconds, -1 when malformed. */
int64_t reef__podio_parse_time(const char *s);

#endif
