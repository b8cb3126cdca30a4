/* Fuzz target for the HTTP request parser (and, built from fuzz_http_response.c, the response
 * parser). The first two input bytes choose limits, flags and how the rest is sliced; the rest is
 * fed once whole and once in slices, and both must produce the same transcript. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/http_parse.h"

#ifndef FUZZ_KIND
#define FUZZ_KIND REEF_HTTP_REQUEST
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
    struct reef_buf log;
    bool upgrade;
};

static int on_head(void *ud, const struct reef_http_msg *m)
{
    struct rec *r = ud;
    if (m->kind == REEF_HTTP_REQUEST) {
        reef_buf_printf(&r->log, "H %s %s", m->method, m->target);
        char out[64];
        ssize_t n = reef_http_query_get(m->target, "a", out, sizeof(out));
        if (n >= 0 && strlen(out) > (size_t)n)
            abort();
        reef_buf_printf(&r->log, " q=%zd", n);
    } else {
        reef_buf_printf(&r->log, "H %d %s", m->status, m->reason);
    }
    reef_buf_printf(&r->log, " 1.%d cl=%lld ch=%d ka=%d up=%d n=%zu\n", m->version_minor,
                    (long long)m->content_length, m->chunked, m->keep_alive, m->upgrade,
                    m->nheaders);
    for (size_t i = 0; i < m->nheaders; i++) {
        const struct reef_http_header *h = &m->headers[i];
        if (!h->name[0] || (h->value[0] == ' ' || h->value[0] == '\t'))
            abort();
        reef_buf_printf(&r->log, "%s: %s\n", h->name, h->value);
    }
    if (reef_http_msg_header_has_token(m, "connection", "upgrade") !=
        (reef_http_msg_header(m, "connection") != NULL &&
         reef_http_msg_header_has_token(m, "Connection", "UPGRADE")))
        abort();
    r->upgrade = m->upgrade;
    return 0;
}

static int on_body(void *ud, const char *d, size_t n)
{
    struct rec *r = ud;
    if (n == 0)
        abort();
    reef_buf_append(&r->log, d, n);
    return 0;
}

static int on_end(void *ud)
{
    struct rec *r = ud;
    reef_buf_puts(&r->log, "\nE\n");
    return 0;
}

static const struct reef_http_parser_cb cb = {on_head, on_body, on_end};

/* Feeds in slices from a generator seeded by seed (0: all at once). The caller frees the
 * transcript. */
static char *run(const struct reef_http_limits *lim, bool head, bool eof, const char *in,
                 size_t len, unsigned seed)
{
    struct rec r = {REEF_BUF_INIT, false};
    reef_buf_puts(&r.log, "");
    struct reef_http_parser *p = reef_http_parser_new(FUZZ_KIND, lim, &cb, &r);
    if (!p)
        abort();
    if (head)
        reef_http_parser_set_head_request(p, true);
    size_t off = 0;
    unsigned state = seed;
    bool stopped = false;
    while (off < len && !stopped) {
        size_t n = len - off;
        if (seed) {
            state = state * 1103515245u + 12345u;
            size_t s = (state >> 16) % 8 == 0 ? (state >> 8) % 4096 : 1 + (state >> 16) % 11;
            if (s && s < n)
                n = s;
        }
        size_t end = off + n;
        while (off < end) {
            struct reef_err err = {0};
            ssize_t used = reef_http_parser_feed(p, in + off, end - off, &err);
            if (used < 0) {
                if (err.code != used || !err.msg[0])
                    abort();
                reef_buf_printf(&r.log, "X%d\n", reef_http_parser_error_status(p));
                stopped = true;
                break;
            }
            if ((size_t)used > end - off)
                abort();
            off += (size_t)used;
            if (off < end && !reef_http_parser_idle(p))
                abort();
            if (reef_http_parser_idle(p) && r.upgrade) {
                reef_buf_printf(&r.log, "REST %zu\n", len - off);
                stopped = true;
                break;
            }
        }
    }
    if (eof && !stopped)
        reef_buf_printf(&r.log, "EOF %d\n", reef_http_parser_eof(p, NULL));
    reef_http_parser_free(p);
    return reef_buf_steal(&r.log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    unsigned seed = data[1] | 1u;
    static const struct reef_http_limits limits[4] = {
        REEF_HTTP_LIMITS_DEFAULT, {64, 256, 8, 100}, {16, 64, 2, 1}, {8192, 65536, 128, 0}};
    const struct reef_http_limits *lim = &limits[flags & 3];
    bool head = flags & 4, eof = flags & 8;
    const char *in = (const char *)data + 2;
    size_t len = size - 2;

    char *whole = run(lim, head, eof, in, len, 0);
    char *split = run(lim, head, eof, in, len, seed);
    if (strcmp(whole, split) != 0)
        abort();
    free(whole);
    free(split);

    /* The percent-decoder on the raw bytes. */
    char *out = malloc(len + 1);
    if (out) {
        ssize_t n = reef_http_unescape(in, len, out, flags & 16);
        if (n >= 0 && (size_t)n > len)
            abort();
        free(out);
    }
    return 0;
}
