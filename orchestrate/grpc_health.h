/* grpc_health: one call of gRPC's standard health check (grpc.health.v1.Health/Check) as bytes,
 * for the node agent's grpc probes. It speaks HTTP/2 without TLS from the first byte (prior
 * knowledge), as the kubelet's grpc probe does, and needs no I/O: reef_grpc_health_request
 * writes everything the client sends, a reader turns what the server answers into a verdict and
 * the acknowledgements HTTP/2 expects back (SETTINGS, PING).
 *
 * The verdict is read from the response message (HealthCheckResponse.status); header blocks are
 * not decoded (HPACK), so an error the server reports only in trailers (an unknown service, say)
 * is a failure without its grpc-status text. */
#ifndef REEF_ORCHESTRATE_GRPC_HEALTH_H
#define REEF_ORCHESTRATE_GRPC_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* The client's side of the call on stream 1: the connection preface, SETTINGS, the request
 * headers for authority ("host:port") and the request asking about service ("" is the server as
 * a whole), the stream ended. Appended to out. 0 or -ENOMEM, -EINVAL (a name over 1 KiB). */
int reef_grpc_health_request(const char *authority, const char *service, struct reef_buf *out);

enum reef_grpc_health_verdict {
    REEF_GRPC_HEALTH_MORE,        /* nothing decided yet: feed more */
    REEF_GRPC_HEALTH_SERVING,     /* status SERVING */
    REEF_GRPC_HEALTH_NOT_SERVING, /* any other status; message names it */
    REEF_GRPC_HEALTH_FAILED,      /* the call failed (reset, closed, malformed); message says why */
};

/* Embedded by its owner; zero it to start (REEF_GRPC_HEALTH_READER_INIT), release it with
 * reef_grpc_health_reader_free. */
struct reef_grpc_health_reader {
    struct reef_buf in;  /* bytes not yet a whole frame */
    struct reef_buf msg; /* DATA of stream 1: the length-prefixed response message */
    enum reef_grpc_health_verdict verdict;
    char message[160];
};
#define REEF_GRPC_HEALTH_READER_INIT {REEF_BUF_INIT, REEF_BUF_INIT, REEF_GRPC_HEALTH_MORE, ""}

/* Feeds len bytes from the server; frames the client must answer are appended to reply. Returns
 * the verdict (sticky once decided: later bytes are ignored), or -ENOMEM. */
int reef_grpc_health_feed(struct reef_grpc_health_reader *r, const void *data, size_t len,
                          struct reef_buf *reply);
void reef_grpc_health_reader_free(struct reef_grpc_health_reader *r);

#endif
