/* http_server_int: what the server's files share (connections, the response object, WebSocket).
 * Not for use outside core/http_server*.c. Loop thread only. */
#ifndef REEF_CORE_HTTP_SERVER_INT_H
#define REEF_CORE_HTTP_SERVER_INT_H

#include "core/http_server.h"

/* Where a connection is in its life; decides what its one timer means. */
enum conn_phase {
    P_IDLE,    /* between requests: idle timeout */
    P_HEAD,    /* TLS handshake or a request head under way: header timeout */
    P_BODY,    /* a request body under way: idle timeout between reads */
    P_HANDLER, /* the request is read; the handler answers (no timeout: watches) */
    P_WS,      /* upgraded */
    P_LINGER,  /* last response sent, FIN sent, draining input briefly */
    P_CLOSED,
};

struct conn {
    struct reef_http_server *srv;
    struct conn *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer;
    int nclosed; /* handles whose close callback ran; freed at 2 */
    bool closing, reading, eof, processing, again, rejecting, close_after_write;
    bool kick; /* the timer is armed at 0 ms to process input from the loop */
    enum conn_phase phase;
    struct reef_tls *tls;
    struct reef_http_parser *parser;
    struct reef_buf in; /* plaintext input from in_off not yet parsed */
    size_t in_off;
    size_t queued; /* bytes handed to uv_write (or held) and not yet completed */
    /* Output held by the barrier (reef_http_server_hold), oldest first; held_next links the
     * server's connections that hold some. */
    struct out_write *held_head, *held_tail;
    struct conn *held_next;
    bool held_listed;
    struct reef_http_res *res; /* the request being answered */
    struct reef_ws_conn *ws;   /* after an upgrade */
    /* A response whose connection went before it finished: its close callback runs when the
     * connection's handles are closed, never from inside a call the handler made. */
    struct reef_http_res *gone_res;
    char remote[64];
    const char *orgs[REEF_TLS_MAX_ORGS + 1];
};

struct reef_http_server {
    uv_loop_t *loop;
    struct reef_http_server_opts opts;
    struct reef_http_limits limits;
    struct reef_tls_config *tls;
    uv_tcp_t listener;
    uv_timer_t grace;
    int port;
    char *readbuf; /* shared: libuv reads into it and on_read consumes it before the next read */
    struct conn *conns;
    unsigned nconns, nrejecting;
    unsigned alive; /* connections whose memory is not freed yet (closing ones included) */
    bool shutting_down, listener_closed, timer_closing, done;
    bool limit_warned;
    bool hold;               /* the output barrier is on */
    struct conn *held_conns; /* connections with held output */
    reef_http_server_closed_cb closed_cb;
    void *closed_ud;
};

struct reef_http_res {
    struct conn *c;    /* NULL once the connection is gone */
    struct conn *gone; /* the connection that will notify us (conn->gone_res == this) */
    struct reef_http_req req;
    char *path; /* path '\0' query, one allocation */
    struct reef_buf body;
    struct reef_buf headers; /* "Name: value\r\n" lines the handler added */
    bool head_request, http10;
    bool msg_complete; /* the whole request was read */
    bool dispatched;   /* the handler was called */
    bool began;        /* head sent (streaming) */
    bool finished;     /* the handler finished the response */
    bool keep;         /* keep the connection after this response */
    bool close_delimited;
    bool rejected; /* the server answered (413) and the rest of the request is not read */
    bool upgraded;
    bool body_paused;
    int (*body_cb)(void *ud, const char *data, size_t len);
    void *body_ud;
    void (*close_cb)(void *ud, struct reef_http_res *res);
    void *close_ud;
    void (*drain_cb)(void *ud, struct reef_http_res *res);
    void *drain_ud;
    /* An in-process request (reef_http_local_new): no connection, output goes to these. */
    const struct reef_http_local *local;
    struct reef_http_msg local_msg;
    struct reef_http_header *local_headers;
    char *local_strings;
};

struct reef_ws_conn {
    struct conn *c;
    struct reef_ws_reader *reader;
    struct reef_ws_cb cb;
    void *ud;
    char protocol[64];
    bool close_sent, close_received;
    int peer_code;
};

/* How long to wait for the peer's CLOSE after sending ours. */
#define REEF__WS_CLOSE_WAIT_MS 5000

/* http_server.c */
void reef__http_conn_close(struct conn *c);
void reef__http_close_after_write(struct conn *c);
void reef__http_conn_timer(struct conn *c, unsigned ms);
void reef__http_on_timer(uv_timer_t *t);
int reef__http_send(struct conn *c, const void *data, size_t len);
int reef__http_send_buf(struct conn *c, struct reef_buf *b);
int reef__http_flush_tls(struct conn *c);
void reef__http_send_error(struct conn *c, int status);
void reef__http_conn_request_done(struct conn *c, bool keep);
void reef__http_conn_kick(struct conn *c);
void reef__http_srv_on_grace_closed(uv_handle_t *h);
void reef__http_srv_free_cb(void *ud);

/* http_server_res.c */
int reef__http_req_head(struct conn *c, const struct reef_http_msg *msg);
int reef__http_req_body(struct reef_http_res *res, const char *data, size_t len);
void reef__http_req_end(struct reef_http_res *res);
void reef__http_res_dispatch(struct reef_http_res *res);
void reef__http_res_conn_gone(struct conn *c, struct reef_http_res *res);
void reef__http_res_notify_gone(struct conn *c);
void reef__http_res_drained(struct reef_http_res *res);
void reef__http_conn_identity(struct conn *c);
void reef__http_res_free(struct reef_http_res *res);
void reef__http_res_upgraded(struct reef_http_res *res);
int reef__http_res_refuse(struct reef_http_res *res, int status, const char *why);

/* http_server_ws.c */
void reef__http_ws_feed(struct reef_ws_conn *ws);
void reef__http_ws_conn_gone(struct reef_ws_conn *ws);
/* Runs on_close and frees ws (from the connection's close callback). */
void reef__http_ws_free(struct reef_ws_conn *ws);
void reef__http_ws_drained(struct reef_ws_conn *ws);

#endif
