/* probe_int: what orchestrate/probe.c (scheduling, exec, httpGet, parsing) shares with
 * orchestrate/probe_net.c (tcpSocket and grpc). Internal. */
#ifndef REEF_ORCHESTRATE_PROBE_INT_H
#define REEF_ORCHESTRATE_PROBE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/http_client.h"
#include "orchestrate/probe.h"

enum kind { K_EXEC, K_HTTP, K_TCP, K_GRPC };

struct exec_run;
struct tcp_run;

struct reef_probe {
    uv_loop_t *loop;
    enum kind kind;
    reef_probe_cb cb;
    void *ud;
    int delay_s, period_s, timeout_s;
    struct reef_probe_rules rules;
    bool stopping, busy;
    int refs; /* its two timers, attempts in flight; freed at 0 once stopping */
    uv_timer_t tick, deadline;
    char *port_error; /* the named port could not be resolved: every attempt fails with this */
    /* exec */
    char *containers_dir, *id, *exec_req, *cmdline;
    struct exec_run *run;
    /* httpGet */
    char *url;
    struct reef_http_header *hdrs;
    size_t nhdrs;
    struct reef_http_client *hc;
    struct reef_http_call *call;
    bool http_timed_out;
    /* tcpSocket and grpc */
    char *host;
    int port;
    struct tcp_run *tcp;
    char *grpc_service;
};

/* Drops one reference; the probe is freed at zero once stopping. */
void reef__probe_unref(struct reef_probe *p);
/* One attempt's outcome; counted false: a runtime error that says nothing about the container
 * (the kubelet throws those away). */
void reef__probe_attempt_done(struct reef_probe *p, bool counted, bool ok, const char *msg);

/* tcpSocket and grpc (probe_net.c): starts an attempt (p->tcp while under way); fails the attempt
 * under way when its time is up. */
void reef__probe_tcp_attempt(struct reef_probe *p);
void reef__probe_tcp_timeout(struct reef_probe *p);
/* Ends an attempt's connection (the probe is stopping or the attempt is over). */
void reef__probe_tcp_release(struct tcp_run *t);

#endif
