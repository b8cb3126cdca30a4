/* Tests for core/http_parse: every case is fed whole, split in two at every byte position, one
 * byte at a time and in uneven slices, and must give the same transcript each time. */
#include "core/http_parse.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test.h"

/* A transcript of everything the parser reported, compared as text. */
struct rec {
    struct reef_buf log;
    struct reef_buf body;
    int stop_head; /* on_head returns this */
    bool upgrade;  /* the last head asked for an upgrade */
};

static int rec_head(void *ud, const struct reef_http_msg *m)
{
    struct rec *r = ud;
    if (m->kind == REEF_HTTP_REQUEST)
        reef_buf_printf(&r->log, "H %s %s 1.%d", m->method, m->target, m->version_minor);
    else
        reef_buf_printf(&r->log, "H %d '%s' 1.%d", m->status, m->reason, m->version_minor);
    reef_buf_printf(&r->log, " cl=%lld ch=%d ka=%d up=%d\n", (long long)m->content_length,
                    m->chunked, m->keep_alive, m->upgrade);
    for (size_t i = 0; i < m->nheaders; i++)
        reef_buf_printf(&r->log, " %s=[%s]\n", m->headers[i].name, m->headers[i].value);
    r->upgrade = m->upgrade;
    return r->stop_head;
}

static int rec_body(void *ud, const char *data, size_t len)
{
    struct rec *r = ud;
    CHECK(len > 0);
    reef_buf_append(&r->body, data, len);
    return 0;
}

static int rec_end(void *ud)
{
    struct rec *r = ud;
    reef_buf_puts(&r->log, "B[");
    reef_buf_append(&r->log, r->body.data, r->body.len);
    reef_buf_puts(&r->log, "]\nE\n");
    reef_buf_reset(&r->body);
    return 0;
}

static const struct reef_http_parser_cb rec_cb = {rec_head, rec_body, rec_end};

struct hcase {
    const char *name;
    enum reef_http_kind kind;
    const char *in;
    const char *want;
    bool eof;  /* call reef_http_parser_eof after the input */
    bool head; /* response parser: the response answers HEAD */
    const struct reef_http_limits *lim;
};

static const struct reef_http_limits small = {32, 128, 4, 10};

/* Trailing fields default to false / NULL. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
/* clang-format off */
static const struct hcase cases[] = {
    {"simple get", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
     "H GET / 1.1 cl=-1 ch=0 ka=1 up=0\n Host=[a]\nB[]\nE\n"},
    {"target and query", REEF_HTTP_REQUEST,
     "GET /api/v1/pods?watch=1&x=%20 HTTP/1.1\r\nHost: a\r\n\r\n",
     "H GET /api/v1/pods?watch=1&x=%20 1.1 cl=-1 ch=0 ka=1 up=0\n Host=[a]\nB[]\nE\n"},
    {"values trimmed", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nA:b\r\nB: \t c d \t \r\nC:\r\nD:   \r\n\r\n",
     "H GET / 1.1 cl=-1 ch=0 ka=1 up=0\n A=[b]\n B=[c d]\n C=[]\n D=[]\nB[]\nE\n"},
    {"obs-text value kept", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n",
     "H GET / 1.1 cl=-1 ch=0 ka=1 up=0\n X=[caf\xc3\xa9]\nB[]\nE\n"},
    {"post with body", REEF_HTTP_REQUEST,
     "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
     "H POST /x 1.1 cl=5 ch=0 ka=1 up=0\n Content-Length=[5]\nB[hello]\nE\n"},
    {"content-length zero", REEF_HTTP_REQUEST,
     "PUT /x HTTP/1.1\r\ncontent-length: 0\r\n\r\n",
     "H PUT /x 1.1 cl=0 ch=0 ka=1 up=0\n content-length=[0]\nB[]\nE\n"},
    {"content-length leading zeros", REEF_HTTP_REQUEST,
     "PUT /x HTTP/1.1\r\nContent-Length: 0003\r\n\r\nabc",
     "H PUT /x 1.1 cl=3 ch=0 ka=1 up=0\n Content-Length=[0003]\nB[abc]\nE\n"},
    {"duplicate equal content-length", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
     "H POST / 1.1 cl=2 ch=0 ka=1 up=0\n Content-Length=[2]\n Content-Length=[2]\nB[ok]\nE\n"},
    {"binary body", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n\r\n\r\n",
     "H POST / 1.1 cl=4 ch=0 ka=1 up=0\n Content-Length=[4]\nB[\r\n\r\n]\nE\n"},
    {"chunked", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5\r\nhello\r\n1;name=val\r\n \r\nA ; a=\"q\"\r\n0123456789\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nB[hello 0123456789]\nE\n"},
    {"chunked uppercase hex and leading zeros", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n00B\r\nhello world\r\n000\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[Chunked]\nB[hello world]\nE\n"},
    {"chunked with trailers", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0;last\r\n"
     "Checksum: 1234\r\nX-Other:\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nB[abc]\nE\n"},
    {"chunked empty", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nB[]\nE\n"},
    {"chunked over two TE lines", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n0\r\n\r\n",
     "X400\n"},
    {"pipelined", REEF_HTTP_REQUEST,
     "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
     "POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
     "GET /4 HTTP/1.0\r\n\r\n",
     "H GET /1 1.1 cl=-1 ch=0 ka=1 up=0\nB[]\nE\n"
     "H POST /2 1.1 cl=3 ch=0 ka=1 up=0\n Content-Length=[3]\nB[abc]\nE\n"
     "H POST /3 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nB[xy]\nE\n"
     "H GET /4 1.0 cl=-1 ch=0 ka=0 up=0\nB[]\nE\n"},
    {"empty lines before request", REEF_HTTP_REQUEST,
     "\r\n\r\nGET / HTTP/1.1\r\n\r\n",
     "H GET / 1.1 cl=-1 ch=0 ka=1 up=0\nB[]\nE\n"},
    {"http/1.0 default close", REEF_HTTP_REQUEST,
     "GET / HTTP/1.0\r\n\r\n",
     "H GET / 1.0 cl=-1 ch=0 ka=0 up=0\nB[]\nE\n"},
    {"http/1.0 keep-alive", REEF_HTTP_REQUEST,
     "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
     "H GET / 1.0 cl=-1 ch=0 ka=1 up=0\n Connection=[Keep-Alive]\nB[]\nE\n"},
    {"http/1.1 close", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n",
     "H GET / 1.1 cl=-1 ch=0 ka=0 up=0\n Connection=[foo, close]\nB[]\nE\n"},
    {"close wins over keep-alive", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nConnection: keep-alive\r\nconnection: CLOSE\r\n\r\n",
     "H GET / 1.1 cl=-1 ch=0 ka=0 up=0\n Connection=[keep-alive]\n connection=[CLOSE]\nB[]\nE\n"},
    {"closed is not close", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nConnection: closed\r\n\r\n",
     "H GET / 1.1 cl=-1 ch=0 ka=1 up=0\n Connection=[closed]\nB[]\nE\n"},
    {"chunked http/1.0 closes", REEF_HTTP_REQUEST,
     "POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     "H POST / 1.0 cl=-1 ch=1 ka=0 up=0\n Connection=[keep-alive]\n Transfer-Encoding=[chunked]\n"
     "B[]\nE\n"},
    {"websocket upgrade", REEF_HTTP_REQUEST,
     "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x81\x85",
     "H GET /ws 1.1 cl=-1 ch=0 ka=1 up=1\n Host=[a]\n Connection=[keep-alive, Upgrade]\n"
     " Upgrade=[websocket]\n Sec-WebSocket-Key=[dGhlIHNhbXBsZSBub25jZQ==]\nB[]\nE\nREST 2\n"},
    {"upgrade header without connection token", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
     "H GET / 1.1 cl=-1 ch=0 ka=1 up=0\n Upgrade=[websocket]\nB[]\nE\n"},
    {"any token method", REEF_HTTP_REQUEST,
     "M-SEARCH * HTTP/1.1\r\n\r\nOPTIONS * HTTP/1.1\r\n\r\nCONNECT a:443 HTTP/1.1\r\n\r\n",
     "H M-SEARCH * 1.1 cl=-1 ch=0 ka=1 up=0\nB[]\nE\nH OPTIONS * 1.1 cl=-1 ch=0 ka=1 up=0\nB[]\nE\n"
     "H CONNECT a:443 1.1 cl=-1 ch=0 ka=1 up=0\nB[]\nE\n"},
    {"eof between requests", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\n\r\n",
     "H GET / 1.1 cl=-1 ch=0 ka=1 up=0\nB[]\nE\nEOF 0\n", true},
    {"eof in head", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nHost: a\r\n", "EOF -32\n", true},
    {"eof in body", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
     "H POST / 1.1 cl=10 ch=0 ka=1 up=0\n Content-Length=[10]\nEOF -32\n", true},
    {"eof in chunked", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nEOF -32\n", true},

    /* Refusals. */
    {"bare LF in request line", REEF_HTTP_REQUEST, "GET / HTTP/1.1\n\r\n", "X400\n"},
    {"bare LF in header", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nA: b\n\r\n", "X400\n"},
    {"bare LF end", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\n\n", "X400\n"},
    {"bare CR", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", "X400\n"},
    {"bare LF before request", REEF_HTTP_REQUEST, "\nGET / HTTP/1.1\r\n\r\n", "X400\n"},
    {"space before colon", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "X400\n"},
    {"tab before colon", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", "X400\n"},
    {"obs-fold", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "X400\n"},
    {"obs-fold tab", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", "X400\n"},
    {"leading space header", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\n A: b\r\n\r\n", "X400\n"},
    {"header name not token", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nA(b): c\r\n\r\n", "X400\n"},
    {"header name non-ascii", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\n\xc3\xa9: c\r\n\r\n", "X400\n"},
    {"header without colon", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nHost\r\n\r\n", "X400\n"},
    {"empty header name", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\n: c\r\n\r\n", "X400\n"},
    {"control char in value", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", "X400\n"},
    {"DEL in value", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", "X400\n"},
    {"two hosts", REEF_HTTP_REQUEST, "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "X400\n"},
    {"content-length letters", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n", "X400\n"},
    {"content-length sign", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", "X400\n"},
    {"content-length negative", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "X400\n"},
    {"content-length inner space", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", "X400\n"},
    {"content-length list", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n", "X400\n"},
    {"content-length empty", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", "X400\n"},
    {"content-length hex", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", "X400\n"},
    {"content-length overflow", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", "X400\n"},
    {"content-length huge overflow", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", "X400\n"},
    {"content-length int64 max", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\nab",
     "H POST / 1.1 cl=9223372036854775807 ch=0 ka=1 up=0\n Content-Length=[9223372036854775807]\n"},
    {"content-length conflict", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "X400\n"},
    {"content-length and chunked", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     "X400\n"},
    {"chunked and content-length", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
     "X400\n"},
    {"te gzip", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "X501\n"},
    {"te gzip then chunked", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "X501\n"},
    {"te chunked then gzip", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "X400\n"},
    {"te chunked twice", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "X400\n"},
    {"te chunked twice lines", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
     "X400\n"},
    {"te identity", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", "X501\n"},
    {"te chunked-ish", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", "X501\n"},
    {"te empty", REEF_HTTP_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", "X400\n"},
    {"http/2.0", REEF_HTTP_REQUEST, "GET / HTTP/2.0\r\n\r\n", "X505\n"},
    {"http/1.2", REEF_HTTP_REQUEST, "GET / HTTP/1.2\r\n\r\n", "X505\n"},
    {"http/0.9", REEF_HTTP_REQUEST, "GET / HTTP/0.9\r\n\r\n", "X505\n"},
    {"http/1.10", REEF_HTTP_REQUEST, "GET / HTTP/1.10\r\n\r\n", "X400\n"},
    {"http/2", REEF_HTTP_REQUEST, "GET / HTTP/2\r\n\r\n", "X400\n"},
    {"lowercase http", REEF_HTTP_REQUEST, "GET / http/1.1\r\n\r\n", "X400\n"},
    {"no version", REEF_HTTP_REQUEST, "GET /\r\n\r\n", "X400\n"},
    {"double space", REEF_HTTP_REQUEST, "GET  / HTTP/1.1\r\n\r\n", "X400\n"},
    {"trailing space", REEF_HTTP_REQUEST, "GET / HTTP/1.1 \r\n\r\n", "X400\n"},
    {"space in target", REEF_HTTP_REQUEST, "GET /a b HTTP/1.1\r\n\r\n", "X400\n"},
    {"tab separator", REEF_HTTP_REQUEST, "GET\t/ HTTP/1.1\r\n\r\n", "X400\n"},
    {"method not token", REEF_HTTP_REQUEST, "GE(T / HTTP/1.1\r\n\r\n", "X400\n"},
    {"empty method", REEF_HTTP_REQUEST, " / HTTP/1.1\r\n\r\n", "X400\n"},
    {"control in target", REEF_HTTP_REQUEST, "GET /\x01 HTTP/1.1\r\n\r\n", "X400\n"},
    {"non-ascii in target", REEF_HTTP_REQUEST, "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", "X400\n"},
    {"NUL in request line", REEF_HTTP_REQUEST, "GET /\0 HTTP/1.1\r\n\r\n", "X400\n"},
    {"bad chunk size", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk size 0x", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk size empty", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;ext\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk size negative", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk size overflow", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk size above int64", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk size bare LF", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk data too long", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk data followed by junk", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk data bare LF", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk ext control char", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;a\x01\r\nabc\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk size trailing space", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"chunk size tab before extension", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\t \t;a\r\nx\r\n0 ;b=c\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nB[x]\nE\n"},
    {"space inside chunk size", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 2\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"trailer obs-fold", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n folded\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"trailer without colon", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nNope\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"trailer space before colon", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA : b\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},
    {"trailer bare LF", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n"},

    /* Limits: {32 start line, 128 head, 4 headers, 10 body}. */
    {"limits ok", REEF_HTTP_REQUEST,
     "POST /01234567890123456 HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 10\r\n\r\n"
     "0123456789",
     "H POST /01234567890123456 1.1 cl=10 ch=0 ka=1 up=0\n A=[1]\n B=[2]\n C=[3]\n"
     " Content-Length=[10]\nB[0123456789]\nE\n", false, false, &small},
    {"start line too long", REEF_HTTP_REQUEST,
     "POST /01234567890123456789 HTTP/1.1\r\n\r\n", "X414\n", false, false, &small},
    {"too many headers", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", "X431\n", false, false,
     &small},
    {"head too long", REEF_HTTP_REQUEST,
     "GET / HTTP/1.1\r\nA: 0123456789012345678901234567890123456789012345678901234567890123456789"
     "01234567890123456789012345678901234567890123456789\r\n\r\n",
     "X431\n", false, false, &small},
    {"content-length over max_body", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", "X413\n", false, false, &small},
    {"huge content-length over max_body", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", "X413\n", false, false,
     &small},
    {"chunked over max_body", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX413\n", false, false,
     &small},
    {"chunked exactly max_body", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nB[helloworld]\nE\n", false,
     false, &small},
    {"too many trailers", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nA: 1\r\n\r\n0\r\nB: 1\r\nC: 1\r\nD: 1\r\n"
     "\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\n A=[1]\nX431\n", false,
     false, &small},
    {"trailers too long", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nB: 01234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX431\n", false, false,
     &small},
    {"chunk extension too long", REEF_HTTP_REQUEST,
     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;0123456789012345678901234567890123"
     "\r\na\r\n0\r\n\r\n",
     "H POST / 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nX400\n", false, false,
     &small},

    /* Responses. */
    {"response", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
     "H 200 'OK' 1.1 cl=2 ch=0 ka=1 up=0\n Content-Length=[2]\nB[hi]\nE\n"},
    {"response long reason", REEF_HTTP_RESPONSE,
     "HTTP/1.1 404 Not Found Here\r\nContent-Length: 0\r\n\r\n",
     "H 404 'Not Found Here' 1.1 cl=0 ch=0 ka=1 up=0\n Content-Length=[0]\nB[]\nE\n"},
    {"response empty reason", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
     "H 200 '' 1.1 cl=0 ch=0 ka=1 up=0\n Content-Length=[0]\nB[]\nE\n"},
    {"response no reason", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
     "H 200 '' 1.1 cl=0 ch=0 ka=1 up=0\n Content-Length=[0]\nB[]\nE\n"},
    {"response chunked", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n"
     "E\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n",
     "H 200 'OK' 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\n"
     "B[Wikipedia in\r\n\r\nchunks.]\nE\n"},
    {"response eof body", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\n\r\nsome data\r\n\r\nmore",
     "H 200 'OK' 1.1 cl=-1 ch=0 ka=0 up=0\nB[some data\r\n\r\nmore]\nE\nEOF 0\n", true},
    {"response eof empty body", REEF_HTTP_RESPONSE,
     "HTTP/1.0 200 OK\r\n\r\n",
     "H 200 'OK' 1.0 cl=-1 ch=0 ka=0 up=0\nB[]\nE\nEOF 0\n", true},
    {"response eof body over max_body", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\n\r\n0123456789x",
     "H 200 'OK' 1.1 cl=-1 ch=0 ka=0 up=0\nX413\n", true, false, &small},
    {"response eof body at max_body", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\n\r\n0123456789",
     "H 200 'OK' 1.1 cl=-1 ch=0 ka=0 up=0\nB[0123456789]\nE\nEOF 0\n", true, false, &small},
    {"response 204", REEF_HTTP_RESPONSE,
     "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
     "\r\nx",
     "H 204 'No Content' 1.1 cl=5 ch=0 ka=1 up=0\n Content-Length=[5]\nB[]\nE\n"
     "H 200 'OK' 1.1 cl=1 ch=0 ka=1 up=0\n Content-Length=[1]\nB[x]\nE\n"},
    {"response 304", REEF_HTTP_RESPONSE,
     "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
     "H 304 'Not Modified' 1.1 cl=-1 ch=1 ka=1 up=0\n Transfer-Encoding=[chunked]\nB[]\nE\n"},
    {"response 100 then 200", REEF_HTTP_RESPONSE,
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
     "H 100 'Continue' 1.1 cl=-1 ch=0 ka=1 up=0\nB[]\nE\n"
     "H 200 'OK' 1.1 cl=2 ch=0 ka=1 up=0\n Content-Length=[2]\nB[ok]\nE\n"},
    {"response 101 upgrade", REEF_HTTP_RESPONSE,
     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x01x",
     "H 101 'Switching Protocols' 1.1 cl=-1 ch=0 ka=1 up=1\n Upgrade=[websocket]\n"
     " Connection=[Upgrade]\n Sec-WebSocket-Accept=[s3pPLMBiTxaQ9kYGzzhZRbK+xOo=]\nB[]\nE\n"
     "REST 3\n"},
    {"response to HEAD", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
     "H 200 'OK' 1.1 cl=1000 ch=0 ka=1 up=0\n Content-Length=[1000]\nB[]\nE\n"
     "H 200 'OK' 1.1 cl=1 ch=0 ka=1 up=0\n Content-Length=[1]\nB[x]\nE\n", false, true},
    {"response 1.0 keep-alive", REEF_HTTP_RESPONSE,
     "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
     "H 200 'OK' 1.0 cl=0 ch=0 ka=1 up=0\n Connection=[keep-alive]\n Content-Length=[0]\nB[]\nE\n"},
    {"response close", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
     "H 200 'OK' 1.1 cl=0 ch=0 ka=0 up=0\n Connection=[close]\n Content-Length=[0]\nB[]\nE\n"},
    {"response eof in content-length body", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
     "H 200 'OK' 1.1 cl=5 ch=0 ka=1 up=0\n Content-Length=[5]\nEOF -32\n", true},
    {"response bad status", REEF_HTTP_RESPONSE, "HTTP/1.1 2x0 OK\r\n\r\n", "X400\n"},
    {"response status too low", REEF_HTTP_RESPONSE, "HTTP/1.1 099 OK\r\n\r\n", "X400\n"},
    {"response four digit status", REEF_HTTP_RESPONSE, "HTTP/1.1 2000 OK\r\n\r\n", "X400\n"},
    {"response http/2", REEF_HTTP_RESPONSE, "HTTP/2.0 200 OK\r\n\r\n", "X505\n"},
    {"response garbage", REEF_HTTP_RESPONSE, "ICY 200 OK\r\n\r\n", "X400\n"},
    {"response cl and te", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "X400\n"},
    {"response advertising upgrade", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nConnection: Upgrade\r\nContent-Length: 1\r\n\r\nx",
     "H 200 'OK' 1.1 cl=1 ch=0 ka=1 up=0\n Upgrade=[h2,h2c]\n Connection=[Upgrade]\n"
     " Content-Length=[1]\nB[x]\nE\n"},
    {"response te gzip", REEF_HTTP_RESPONSE,
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "X501\n"},
};
/* clang-format on */
#pragma GCC diagnostic pop

/* The one case with a NUL byte in its input gives its length through its name. */
static size_t case_len(const struct hcase *c)
{
    if (strcmp(c->name, "NUL in request line") == 0)
        return 19;
    return strlen(c->in);
}

/* Feeds data in slices whose sizes cycle through slices[] (0 entries mean "all the rest"),
 * honouring the parser's stops after each message, and returns the transcript. */
static char *run_case(const struct hcase *c, const size_t *slices, size_t nslices)
{
    struct rec r = {REEF_BUF_INIT, REEF_BUF_INIT, 0, false};
    size_t len = case_len(c);
    struct reef_http_parser *p = reef_http_parser_new(c->kind, c->lim, &rec_cb, &r);
    CHECK(p);
    if (c->head)
        reef_http_parser_set_head_request(p, true);
    size_t off = 0, k = 0;
    bool failed = false;
    while (off < len && !failed) {
        size_t n = nslices ? slices[k++ % nslices] : 0;
        if (n == 0 || n > len - off)
            n = len - off;
        size_t end = off + n;
        while (off < end) {
            struct reef_err err = {0};
            ssize_t used = reef_http_parser_feed(p, c->in + off, end - off, &err);
            if (used < 0) {
                CHECK(err.code == used);
                CHECK(err.msg[0] != '\0');
                reef_buf_printf(&r.log, "X%d\n", reef_http_parser_error_status(p));
                /* A dead parser stays dead. */
                CHECK(reef_http_parser_feed(p, "x", 1, NULL) < 0);
                failed = true;
                break;
            }
            CHECK((size_t)used <= end - off);
            off += (size_t)used;
            /* It only stops early at the end of a message. */
            if (off < end)
                CHECK(reef_http_parser_idle(p));
            /* After an upgrade, the rest belongs to the new protocol, as a server would. */
            if (reef_http_parser_idle(p) && r.upgrade) {
                reef_buf_printf(&r.log, "REST %zu\n", len - off);
                failed = true;
                break;
            }
        }
    }
    if (c->eof && !failed) {
        struct reef_err err = {0};
        int e = reef_http_parser_eof(p, &err);
        reef_buf_printf(&r.log, "EOF %d\n", e);
    }
    reef_http_parser_free(p);
    reef_buf_free(&r.body);
    char *s = reef_buf_steal(&r.log);
    return s;
}

static void check_case(const struct hcase *c, const char *got, const char *how)
{
    if (strcmp(got, c->want) != 0)
        TEST_FAIL("case '%s' fed %s:\n--- got\n%s--- want\n%s", c->name, how, got, c->want);
}

static void test_table_whole(void)
{
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        char *got = run_case(&cases[i], NULL, 0);
        check_case(&cases[i], got, "whole");
        free(got);
    }
}

static void test_table_split_everywhere(void)
{
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        size_t len = case_len(&cases[i]);
        for (size_t at = 1; at < len; at++) {
            size_t slices[2] = {at, 0};
            char *got = run_case(&cases[i], slices, 2);
            char how[64];
            snprintf(how, sizeof(how), "split at %zu", at);
            check_case(&cases[i], got, how);
            free(got);
        }
    }
}

static void test_table_byte_at_a_time(void)
{
    static const size_t one[] = {1};
    static const size_t odd[] = {3, 1, 7, 2, 13, 5};
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        char *got = run_case(&cases[i], one, 1);
        check_case(&cases[i], got, "byte at a time");
        free(got);
        got = run_case(&cases[i], odd, REEF_ARRAY_LEN(odd));
        check_case(&cases[i], got, "in uneven slices");
        free(got);
    }
}

/* Feed stops right after each message of a pipeline; the msg of a message stays valid until the
 * next feed. */
struct pipe_rec {
    const struct reef_http_msg *last;
    int ends;
};

static int pipe_head(void *ud, const struct reef_http_msg *m)
{
    ((struct pipe_rec *)ud)->last = m;
    return 0;
}

static int pipe_end(void *ud)
{
    ((struct pipe_rec *)ud)->ends++;
    return 0;
}

static void test_pipelined_stops(void)
{
    const char *in = "GET /a HTTP/1.1\r\nX-A: 1\r\n\r\n"
                     "POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
                     "GET /c HTTP/1.1\r\n\r\n";
    struct pipe_rec pr = {0};
    struct reef_http_parser_cb cb = {pipe_head, NULL, pipe_end};
    struct reef_http_parser *p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, &cb, &pr);
    CHECK(reef_http_parser_idle(p));
    struct reef_err err = {0};
    size_t len = strlen(in);
    ssize_t n = reef_http_parser_feed(p, in, len, &err);
    CHECK_INT(n, ==, 27);
    CHECK_INT(pr.ends, ==, 1);
    CHECK(reef_http_parser_idle(p));
    CHECK_STR(pr.last->target, "/a");
    CHECK_STR(reef_http_msg_header(pr.last, "x-a"), "1");
    ssize_t n2 = reef_http_parser_feed(p, in + n, len - (size_t)n, &err);
    CHECK_INT(n2, ==, 41);
    CHECK_INT(pr.ends, ==, 2);
    CHECK_STR(pr.last->method, "POST");
    ssize_t n3 = reef_http_parser_feed(p, in + n + n2, len - (size_t)(n + n2), &err);
    CHECK_INT(n + n2 + n3, ==, (ssize_t)len);
    CHECK_INT(pr.ends, ==, 3);
    CHECK_STR(pr.last->target, "/c");
    CHECK_INT(reef_http_parser_feed(p, "", 0, &err), ==, 0);
    CHECK(reef_http_parser_idle(p));
    CHECK_INT(reef_http_parser_eof(p, &err), ==, 0);
    reef_http_parser_free(p);
}

static void test_idle(void)
{
    struct reef_http_parser *p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, NULL, NULL);
    struct reef_err err = {0};
    CHECK(reef_http_parser_idle(p));
    CHECK_INT(reef_http_parser_feed(p, "G", 1, &err), ==, 1);
    CHECK(!reef_http_parser_idle(p));
    CHECK_INT(reef_http_parser_feed(p, "ET / HTTP/1.1\r\n\r", 16, &err), ==, 16);
    CHECK(!reef_http_parser_idle(p));
    CHECK_INT(reef_http_parser_feed(p, "\n", 1, &err), ==, 1);
    CHECK(reef_http_parser_idle(p));
    CHECK_INT(reef_http_parser_eof(p, &err), ==, 0);
    reef_http_parser_free(p);
}

static int stop_head(void *ud, const struct reef_http_msg *m)
{
    return -ECANCELED;
}

static int stop_body(void *ud, const char *d, size_t n)
{
    return -EIO;
}

static void test_callback_stops(void)
{
    struct reef_err err = {0};
    struct reef_http_parser_cb cb = {stop_head, NULL, NULL};
    struct reef_http_parser *p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, &cb, NULL);
    CHECK_INT(reef_http_parser_feed(p, "GET / HTTP/1.1\r\n\r\n", 18, &err), ==, -ECANCELED);
    CHECK_INT(err.code, ==, -ECANCELED);
    CHECK_INT(reef_http_parser_error_status(p), ==, 500);
    CHECK(reef_http_parser_feed(p, "GET / HTTP/1.1\r\n\r\n", 18, &err) < 0);
    reef_http_parser_free(p);

    struct reef_http_parser_cb cb2 = {NULL, stop_body, NULL};
    p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, &cb2, NULL);
    const char *in = "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    CHECK_INT(reef_http_parser_feed(p, in, strlen(in), &err), ==, -EIO);
    reef_http_parser_free(p);
}

/* A peer dripping an endless header one byte at a time is refused at the limit, having made the
 * parser hold no more than the limit. */
static void test_slow_huge_header(void)
{
    struct reef_http_limits lim = REEF_HTTP_LIMITS_DEFAULT;
    lim.max_head = 4096;
    struct reef_http_parser *p = reef_http_parser_new(REEF_HTTP_REQUEST, &lim, NULL, NULL);
    struct reef_err err = {0};
    const char *start = "GET / HTTP/1.1\r\nX-Big: ";
    size_t fed = 0;
    /* mallinfo2 sees glibc's heap only (not ASan's): there it bounds what the parser holds. */
    size_t before = mallinfo2().uordblks;
    CHECK_INT(reef_http_parser_feed(p, start, strlen(start), &err), ==, (ssize_t)strlen(start));
    fed = strlen(start);
    ssize_t r = 0;
    for (int i = 0; i < 1000000; i++) {
        r = reef_http_parser_feed(p, "a", 1, &err);
        if (r < 0)
            break;
        fed++;
        CHECK_INT(mallinfo2().uordblks - before, <, 4096 + 1024);
    }
    CHECK_INT(r, <, 0);
    CHECK_INT(fed, ==, 4096);
    CHECK_INT(reef_http_parser_error_status(p), ==, 431);
    reef_http_parser_free(p);

    /* Many small header lines: the field count limit. */
    p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, NULL, NULL);
    CHECK_INT(reef_http_parser_feed(p, start, 16, &err), ==, 16);
    for (int i = 0; i < 1000; i++) {
        r = reef_http_parser_feed(p, "A: b\r\n", 6, &err);
        if (r < 0)
            break;
    }
    CHECK_INT(r, <, 0);
    CHECK_INT(reef_http_parser_error_status(p), ==, 431);
    reef_http_parser_free(p);

    /* An endless request line. */
    p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, NULL, NULL);
    CHECK_INT(reef_http_parser_feed(p, "GET /", 5, &err), ==, 5);
    char chunk[1000];
    memset(chunk, 'a', sizeof(chunk));
    for (int i = 0; i < 100; i++) {
        r = reef_http_parser_feed(p, chunk, sizeof(chunk), &err);
        if (r < 0)
            break;
    }
    CHECK_INT(r, <, 0);
    CHECK_INT(reef_http_parser_error_status(p), ==, 414);
    reef_http_parser_free(p);

    /* Endless empty lines before a request. */
    p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, NULL, NULL);
    for (int i = 0; i < 100000; i++) {
        r = reef_http_parser_feed(p, "\r\n", 2, &err);
        if (r < 0)
            break;
    }
    CHECK_INT(r, <, 0);
    reef_http_parser_free(p);
}

static int count_body_cb(void *ud, const char *d, size_t n)
{
    *(uint64_t *)ud += n;
    return 0;
}

/* A large body streams through with the memory of its head only. */
static void test_large_body_streams(void)
{
    uint64_t got = 0;
    struct reef_http_parser_cb cb = {NULL, count_body_cb, NULL};
    size_t before = mallinfo2().uordblks;
    struct reef_http_parser *p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, &cb, &got);
    struct reef_err err = {0};
    const char *h = "PUT / HTTP/1.1\r\nContent-Length: 1073741824\r\n\r\n";
    CHECK_INT(reef_http_parser_feed(p, h, strlen(h), &err), ==, (ssize_t)strlen(h));
    static char block[65536];
    for (int i = 0; i < 16384; i++)
        CHECK_INT(reef_http_parser_feed(p, block, sizeof(block), &err), ==, sizeof(block));
    CHECK_INT(got, ==, 1073741824);
    CHECK(reef_http_parser_idle(p));
    CHECK_INT(mallinfo2().uordblks - before, <, 4096);
    reef_http_parser_free(p);

    /* The same through chunks, with a limit just large enough. */
    got = 0;
    struct reef_http_limits lim = REEF_HTTP_LIMITS_DEFAULT;
    lim.max_body = 100 * 1000;
    p = reef_http_parser_new(REEF_HTTP_REQUEST, &lim, &cb, &got);
    h = "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK_INT(reef_http_parser_feed(p, h, strlen(h), &err), ==, (ssize_t)strlen(h));
    for (int i = 0; i < 100; i++) {
        char sz[16];
        snprintf(sz, sizeof(sz), "3e8\r\n");
        CHECK_INT(reef_http_parser_feed(p, sz, 5, &err), ==, 5);
        CHECK_INT(reef_http_parser_feed(p, block, 1000, &err), ==, 1000);
        CHECK_INT(reef_http_parser_feed(p, "\r\n", 2, &err), ==, 2);
    }
    CHECK_INT(reef_http_parser_feed(p, "1\r\n", 3, &err), <, 0);
    CHECK_INT(reef_http_parser_error_status(p), ==, 413);
    CHECK_INT(got, ==, 100000);
    reef_http_parser_free(p);
}

/* The response parser forgets the HEAD flag after the final response, not after a 1xx. */
static void test_head_flag_lifetime(void)
{
    struct rec r = {REEF_BUF_INIT, REEF_BUF_INIT, 0, false};
    struct reef_http_parser *p = reef_http_parser_new(REEF_HTTP_RESPONSE, NULL, &rec_cb, &r);
    struct reef_err err = {0};
    reef_http_parser_set_head_request(p, true);
    const char *in = "HTTP/1.1 100 Continue\r\n\r\n";
    CHECK_INT(reef_http_parser_feed(p, in, strlen(in), &err), ==, (ssize_t)strlen(in));
    in = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
    CHECK_INT(reef_http_parser_feed(p, in, strlen(in), &err), ==, (ssize_t)strlen(in));
    CHECK(reef_http_parser_idle(p));
    in = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    CHECK_INT(reef_http_parser_feed(p, in, strlen(in), &err), ==, (ssize_t)strlen(in));
    CHECK(reef_http_parser_idle(p));
    CHECK(strstr(r.log.data, "B[]\nE\nH 200 'OK' 1.1 cl=3 ch=0 ka=1 up=0\n Content-Length=[3]\n"
                             "B[]\nE\nH 200 'OK' 1.1 cl=3 ch=0 ka=1 up=0\n Content-Length=[3]\n"
                             "B[abc]\nE\n") != NULL);
    reef_http_parser_free(p);
    reef_buf_free(&r.log);
    reef_buf_free(&r.body);
}

static void test_header_lookup(void)
{
    struct pipe_rec pr = {0};
    struct reef_http_parser_cb cb = {pipe_head, NULL, NULL};
    struct reef_http_parser *p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, &cb, &pr);
    const char *in = "GET / HTTP/1.1\r\nAccept: a/b\r\nConnection: Keep-Alive ,  Upgrade,\r\n"
                     "ACCEPT: c/d\r\nUpgrade: websocket\r\nTE: trailers\r\n\r\n";
    struct reef_err err = {0};
    CHECK_INT(reef_http_parser_feed(p, in, strlen(in), &err), ==, (ssize_t)strlen(in));
    const struct reef_http_msg *m = pr.last;
    CHECK_STR(reef_http_msg_header(m, "accept"), "a/b");
    CHECK(reef_http_msg_header(m, "Accep") == NULL);
    CHECK(reef_http_msg_header_has_token(m, "connection", "upgrade"));
    CHECK(reef_http_msg_header_has_token(m, "CONNECTION", "keep-alive"));
    CHECK(!reef_http_msg_header_has_token(m, "connection", "keep"));
    CHECK(!reef_http_msg_header_has_token(m, "connection", ""));
    CHECK(reef_http_msg_header_has_token(m, "te", "trailers"));
    CHECK(!reef_http_msg_header_has_token(m, "x", "trailers"));
    CHECK(m->upgrade);
    reef_http_parser_free(p);
}

static void test_status_text(void)
{
    CHECK_STR(reef_http_status_text(200), "OK");
    CHECK_STR(reef_http_status_text(404), "Not Found");
    CHECK_STR(reef_http_status_text(101), "Switching Protocols");
    CHECK_STR(reef_http_status_text(413), "Content Too Large");
    CHECK_STR(reef_http_status_text(431), "Request Header Fields Too Large");
    CHECK_STR(reef_http_status_text(505), "HTTP Version Not Supported");
    CHECK_STR(reef_http_status_text(299), "Unknown");
    CHECK_STR(reef_http_status_text(-1), "Unknown");
}

static void test_write_chunk(void)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_OK(reef_http_write_chunk(&b, "hello", 5), &(struct reef_err){0});
    char big[300];
    memset(big, 'x', sizeof(big));
    CHECK_OK(reef_http_write_chunk(&b, big, sizeof(big)), &(struct reef_err){0});
    CHECK_OK(reef_http_write_chunk(&b, NULL, 0), &(struct reef_err){0});
    CHECK(memcmp(b.data, "5\r\nhello\r\n12c\r\n", 15) == 0);
    CHECK(memcmp(b.data + b.len - 7, "\r\n0\r\n\r\n", 7) == 0);
    CHECK_INT(b.len, ==, 10 + 5 + 300 + 2 + 5);

    /* What it writes, the parser reads back. */
    uint64_t got = 0;
    struct reef_http_parser_cb cb = {NULL, count_body_cb, NULL};
    struct reef_http_parser *p = reef_http_parser_new(REEF_HTTP_REQUEST, NULL, &cb, &got);
    struct reef_err err = {0};
    const char *h = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK_INT(reef_http_parser_feed(p, h, strlen(h), &err), ==, (ssize_t)strlen(h));
    CHECK_INT(reef_http_parser_feed(p, b.data, b.len, &err), ==, (ssize_t)b.len);
    CHECK_INT(got, ==, 305);
    CHECK(reef_http_parser_idle(p));
    reef_http_parser_free(p);
    reef_buf_free(&b);
}

static void test_unescape(void)
{
    char out[64];
    CHECK_INT(reef_http_unescape("a%20b+c", 7, out, false), ==, 7 - 2);
    CHECK_STR(out, "a b+c");
    CHECK_INT(reef_http_unescape("a%20b+c", 7, out, true), ==, 5);
    CHECK_STR(out, "a b c");
    CHECK_INT(reef_http_unescape("%2F%2f%41", 9, out, false), ==, 3);
    CHECK_STR(out, "//A");
    CHECK_INT(reef_http_unescape("", 0, out, false), ==, 0);
    CHECK_STR(out, "");
    CHECK_INT(reef_http_unescape("%", 1, out, false), ==, -EINVAL);
    CHECK_INT(reef_http_unescape("%4", 2, out, false), ==, -EINVAL);
    CHECK_INT(reef_http_unescape("%4g", 3, out, false), ==, -EINVAL);
    CHECK_INT(reef_http_unescape("%g4", 3, out, false), ==, -EINVAL);
    /* len bounds the input: the escape past it is not read. */
    CHECK_INT(reef_http_unescape("ab%41", 3, out, false), ==, -EINVAL);
    CHECK_INT(reef_http_unescape("ab%41", 2, out, false), ==, 2);
    CHECK_STR(out, "ab");
    CHECK_INT(reef_http_unescape("%00x", 4, out, false), ==, 2);
    CHECK(out[0] == '\0' && out[1] == 'x');
}

static void test_query_get(void)
{
    char out[16];
    const char *t = "/p?a=1&b=x%20y&c&d=&e=a+b&%66oo=bar&a=2#frag=1";
    CHECK_INT(reef_http_query_get(t, "a", out, sizeof(out)), ==, 1);
    CHECK_STR(out, "1");
    CHECK_INT(reef_http_query_get(t, "b", out, sizeof(out)), ==, 3);
    CHECK_STR(out, "x y");
    CHECK_INT(reef_http_query_get(t, "c", out, sizeof(out)), ==, 0);
    CHECK_STR(out, "");
    CHECK_INT(reef_http_query_get(t, "d", out, sizeof(out)), ==, 0);
    CHECK_INT(reef_http_query_get(t, "e", out, sizeof(out)), ==, 3);
    CHECK_STR(out, "a b");
    CHECK_INT(reef_http_query_get(t, "foo", out, sizeof(out)), ==, 3);
    CHECK_STR(out, "bar");
    CHECK_INT(reef_http_query_get(t, "frag", out, sizeof(out)), ==, -ENOENT);
    CHECK_INT(reef_http_query_get(t, "x", out, sizeof(out)), ==, -ENOENT);
    CHECK_INT(reef_http_query_get(t, "", out, sizeof(out)), ==, -ENOENT);
    CHECK_INT(reef_http_query_get("/p", "a", out, sizeof(out)), ==, -ENOENT);
    CHECK_INT(reef_http_query_get("/p?", "a", out, sizeof(out)), ==, -ENOENT);
    CHECK_INT(reef_http_query_get("/p?ab=1", "a", out, sizeof(out)), ==, -ENOENT);
    CHECK_INT(reef_http_query_get("/p?a=%zz", "a", out, sizeof(out)), ==, -EINVAL);
    CHECK_INT(reef_http_query_get("/p?a=0123456789abcdef", "a", out, sizeof(out)), ==,
              -ENAMETOOLONG);
    /* Exactly fits: 15 characters and the NUL. */
    CHECK_INT(reef_http_query_get("/p?a=0123456789abcde", "a", out, sizeof(out)), ==, 15);
    CHECK_STR(out, "0123456789abcde");
    /* Escapes shrink: the escaped form is longer than out but the value fits. */
    CHECK_INT(reef_http_query_get("/p?a=%41%41%41%41%41%41%41%41", "a", out, sizeof(out)), ==, 8);
    CHECK_STR(out, "AAAAAAAA");
    CHECK_INT(reef_http_query_get("/p?a=1", "a", out, 1), ==, -ENAMETOOLONG);
    CHECK_INT(reef_http_query_get("/p?a=", "a", out, 1), ==, 0);
    CHECK_INT(reef_http_query_get("/p?watch=true&labelSelector=app%3Dweb", "labelSelector", out,
                                  sizeof(out)),
              ==, 7);
    CHECK_STR(out, "app=web");
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_table_whole);
    TEST_RUN(test_table_split_everywhere);
    TEST_RUN(test_table_byte_at_a_time);
    TEST_RUN(test_pipelined_stops);
    TEST_RUN(test_idle);
    TEST_RUN(test_callback_stops);
    TEST_RUN(test_slow_huge_header);
    TEST_RUN(test_large_body_streams);
    TEST_RUN(test_head_flag_lifetime);
    TEST_RUN(test_header_lookup);
    TEST_RUN(test_status_text);
    TEST_RUN(test_write_chunk);
    TEST_RUN(test_unescape);
    TEST_RUN(test_query_get);
    return test_done();
}
