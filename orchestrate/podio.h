/* podio: a pod container's I/O for the API server's pods/log, pods/exec and pods/attach
 * (docs/PODIO.md), answered by the node agent with the container's ID.
 *
 * Each call takes over one HTTP response and owns, until it is finished, the session behind it:
 * for logs the open log files, a follow timer and the output's back-pressure; for exec and attach
 * the WebSocket, the pipes (or terminal) to the process and the shim connection that reports its
 * exit. File reads and shim requests run on libuv's thread pool, so the loop is never blocked;
 * everything else is event-driven. A client that leaves ends its session (an exec'd command sees
 * its stdin close, or its terminal hang up).
 *
 * All functions on the loop's thread. The strings passed are copied. */
#ifndef REEF_ORCHESTRATE_PODIO_H
#define REEF_ORCHESTRATE_PODIO_H

#include <uv.h>

#include "core/http_server.h"

/* GET .../pods/x/log for one container: follow, tailLines, timestamps, limitBytes, sinceSeconds,
 * sinceTime, from the container's JSON-lines log (runtime/logfile) across its rotated files.
 * Answers 200 text/plain (400 with a Status for a bad parameter). Following ends when the
 * container has exited and its log is drained, or the client leaves. */
void reef_podio_logs(uv_loop_t *loop, const char *containers_dir, const char *id,
                     struct reef_http_req *req, struct reef_http_res *res);

/* exec / attach over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io): command=, stdin, stdout,
 * stderr, tty; channel 4 resize; the final Status on channel 3 (Success, or Failure with reason
 * NonZeroExitCode and an ExitCode cause), as kubectl exec expects. A command that cannot run
 * (not found: 127, not executable: 126) says why on stderr and ends with that exit code.
 * Requests that are not WebSocket upgrades get 400 (reef speaks no SPDY). */
void reef_podio_exec(uv_loop_t *loop, const char *containers_dir, const char *id,
                     struct reef_http_req *req, struct reef_http_res *res);
/* Attaches to the container's own output (and its terminal's input when it was created with
 * stdin and tty) until it exits or the client leaves; ends with Status Success. */
void reef_podio_attach(uv_loop_t *loop, const char *containers_dir, const char *id,
                       struct reef_http_req *req, struct reef_http_res *res);

#endif
