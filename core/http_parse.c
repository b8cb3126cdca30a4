/* http_parse: incremental HTTP/1.1 parsing (RFC 9112), see core/http_parse.h.
 *
 * The head is gathered byte by byte into one buffer whose size is checked against the limits
 * before it grows, then parsed in place once the empty line arrives: line ends become NULs, so
 * names and values are C strings pointing into that buffer. Bodies never touch the buffer. */
#include "core/http_parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum state {
    S_HEAD,          /* start line and header fields */
    S_BODY_LEN,      /* Content-Length body */
    S_BODY_EOF,      /* response body delimited by the connection's end */
    S_CHUNK_SIZE,    /* hex digits of a chunk size */
    S_CHUNK_SIZE_WS, /* whitespace after the size, before ';' */
    S_CHUNK_EXT,     /* a chunk extension, skipped */
    S_CHUNK_SIZE_LF, /* the LF ending a chunk-size line */
    S_CHUNK_DATA,    /* chunk payload */
    S_CHUNK_DATA_CR, /* the CR after a chunk's data */
    S_CHUNK_DATA_LF, /* and its LF */
    S_TRAILER,       /* trailer fields after the last chunk, until the empty line */
    S_DONE,          /* on_end was called; the next feed starts the next message */
    S_DEAD,          /* an error happened; nothing more is accepted */
};

/* Position inside a trailer line, validated without storing it. */
enum tline { T_START, T_NAME, T_VALUE };

/* A chunk-size line is at most this many hex digits (leading zeros included); 16 significant
 * digits already overflow what we accept. */
#define MAX_CHUNK_DIGITS 32

struct reef_http_parser {
    enum reef_http_kind kind;
    struct reef_http_limits lim;
    struct reef_http_parser_cb cb;
    void *ud;

    enum state state;
    int error_status;
    int error_code;
    bool head_request; /* response parser: the next response answers HEAD or CONNECT */

    /* The head: raw bytes including CRLFs, NUL-terminated after parsing. */
    char *head;
    size_t head_len, head_cap;
    size_t line_len; /* bytes of the current line before its CR */
    size_t nlines;   /* complete lines stored so far (start line included) */
    size_t skipped;  /* empty lines skipped before the start line, in bytes */
    bool cr;         /* the last byte was the CR of a line end */

    struct reef_http_header *hdrs;
    size_t hdrs_cap;
    struct reef_http_msg msg;

    /* Body. */
    uint64_t remaining;  /* Content-Length or chunk bytes still to come */
    uint64_t body_total; /* decoded bytes so far, for max_body */
    unsigned chunk_digits;
    size_t ext_len;
    /* Trailers: counted against the head limits together with the head. */
    size_t trailer_bytes, trailer_fields;
    enum tline tline;
    bool tcr;
};

static const struct reef_http_limits default_limits = REEF_HTTP_LIMITS_DEFAULT;

/* RFC 9110 5.6.2 token characters. */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar, SP, HTAB and obs-text; no other control characters. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

struct reef_http_parser *reef_http_parser_new(enum reef_http_kind kind,
                                              const struct reef_http_limits *limits,
                                              const struct reef_http_parser_cb *cb, void *ud)
{
    struct reef_http_parser *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->kind = kind;
    p->lim = limits ? *limits : default_limits;
    if (cb)
        p->cb = *cb;
    p->ud = ud;
    p->state = S_HEAD;
    p->error_status = 400;
    p->msg.kind = kind;
    p->msg.content_length = -1;
    return p;
}

void reef_http_parser_free(struct reef_http_parser *p)
{
    if (!p)
        return;
    free(p->head);
    free(p->hdrs);
    free(p);
}

void reef_http_parser_set_head_request(struct reef_http_parser *p, bool head)
{
    p->head_request = head;
}

bool reef_http_parser_idle(const struct reef_http_parser *p)
{
    return p->state == S_DONE ||
           (p->state == S_HEAD && p->head_len == 0 && p->skipped == 0 && !p->cr);
}

int reef_http_parser_error_status(const struct reef_http_parser *p)
{
    return p->error_status ? p->error_status : 400;
}

/* Starts the next message: the previous one's head and msg become invalid. */
static void reset_message(struct reef_http_parser *p)
{
    p->state = S_HEAD;
    p->head_len = 0;
    p->line_len = 0;
    p->nlines = 0;
    p->skipped = 0;
    p->cr = false;
    memset(&p->msg, 0, sizeof(p->msg));
    p->msg.kind = p->kind;
    p->msg.content_length = -1;
    p->remaining = 0;
    p->body_total = 0;
    p->chunk_digits = 0;
    p->ext_len = 0;
    p->trailer_bytes = 0;
    p->trailer_fields = 0;
    p->tline = T_START;
    p->tcr = false;
}

static int fail(struct reef_http_parser *p, struct reef_err *err, int status, int code,
                const char *what)
{
    p->state = S_DEAD;
    p->error_status = status;
    p->error_code = code;
    return reef_err_set(err, code, "http: %s", what);
}

static int fail_cb(struct reef_http_parser *p, struct reef_err *err, int code, const char *cb)
{
    p->state = S_DEAD;
    /* The application stopped the parser: what it answers, if anything, is its own choice. */
    p->error_status = 500;
    p->error_code = code;
    return reef_err_set(err, code, "http: %s callback stopped the parser (%d)", cb, code);
}

/* Stores one head byte; the limit is checked before the buffer grows. */
static int head_push(struct reef_http_parser *p, char c, struct reef_err *err)
{
    if (p->head_len + 1 > p->lim.max_head)
        return fail(p, err, 431, -EMSGSIZE, "head larger than the limit");
    if (p->head_len + 1 >= p->head_cap) {
        size_t cap = p->head_cap ? p->head_cap * 2 : 512;
        /* +1 leaves room for a NUL past the last byte. */
        if (p->lim.max_head < SIZE_MAX && cap > p->lim.max_head + 1)
            cap = p->lim.max_head + 1;
        char *n = realloc(p->head, cap);
        if (!n)
            return fail(p, err, 500, -ENOMEM, "out of memory for the head");
        p->head = n;
        p->head_cap = cap;
    }
    p->head[p->head_len++] = c;
    return 0;
}

/* Parses "HTTP/1.x" at s (exactly 8 characters wide). Returns the minor version, or a negative
 * status (-400 malformed, -505 another version). */
static int parse_version(const char *s, size_t n)
{
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' || s[5] > '9' ||
        s[7] < '0' || s[7] > '9')
        return -400;
    if (s[5] != '1' || s[7] > '1')
        return -505;
    return s[7] - '0';
}

static int parse_request_line(struct reef_http_parser *p, char *line, size_t n,
                              struct reef_err *err)
{
    char *sp1 = memchr(line, ' ', n);
    if (!sp1 || sp1 == line)
        return fail(p, err, 400, -EPROTO, "malformed request line");
    for (char *c = line; c < sp1; c++)
        if (!is_tchar((unsigned char)*c))
            return fail(p, err, 400, -EPROTO, "method is not a token");
    char *target = sp1 + 1;
    char *end = line + n;
    char *sp2 = memchr(target, ' ', (size_t)(end - target));
    if (!sp2 || sp2 == target)
        return fail(p, err, 400, -EPROTO, "malformed request line");
    for (char *c = target; c < sp2; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return fail(p, err, 400, -EPROTO, "bad character in request target");
    int v = parse_version(sp2 + 1, (size_t)(end - sp2 - 1));
    if (v == -505)
        return fail(p, err, 505, -EPROTONOSUPPORT, "HTTP version not supported");
    if (v < 0)
        return fail(p, err, 400, -EPROTO, "malformed request line");
    *sp1 = '\0';
    *sp2 = '\0';
    p->msg.method = line;
    p->msg.target = target;
    p->msg.version_minor = v;
    return 0;
}

static int parse_status_line(struct reef_http_parser *p, char *line, size_t n, struct reef_err *err)
{
    /* HTTP-version SP 3DIGIT SP reason-phrase; a missing reason with its SP is tolerated. */
    if (n < 12 || line[8] != ' ')
        return fail(p, err, 400, -EPROTO, "malformed status line");
    int v = parse_version(line, 8);
    if (v == -505)
        return fail(p, err, 505, -EPROTONOSUPPORT, "HTTP version not supported");
    if (v < 0)
        return fail(p, err, 400, -EPROTO, "malformed status line");
    int status = 0;
    for (int i = 9; i < 12; i++) {
        if (line[i] < '0' || line[i] > '9')
            return fail(p, err, 400, -EPROTO, "malformed status code");
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100)
        return fail(p, err, 400, -EPROTO, "malformed status code");
    char *reason = line + n; /* the NUL written over the CR */
    if (n > 12) {
        if (line[12] != ' ')
            return fail(p, err, 400, -EPROTO, "malformed status line");
        reason = line + 13;
        for (char *c = reason; c < line + n; c++)
            if (!is_field_char((unsigned char)*c))
                return fail(p, err, 400, -EPROTO, "bad character in reason phrase");
    }
    p->msg.status = status;
    p->msg.reason = reason;
    p->msg.version_minor = v;
    return 0;
}

/* Splits "name: value" in place, trimming the value. */
static int parse_field(struct reef_http_parser *p, char *line, size_t n, struct reef_http_header *h,
                       struct reef_err *err)
{
    if (line[0] == ' ' || line[0] == '\t')
        return fail(p, err, 400, -EPROTO, "obsolete line folding");
    char *colon = memchr(line, ':', n);
    if (!colon)
        return fail(p, err, 400, -EPROTO, "header field without ':'");
    if (colon == line)
        return fail(p, err, 400, -EPROTO, "empty header name");
    for (char *c = line; c < colon; c++)
        if (!is_tchar((unsigned char)*c))
            return fail(p, err, 400, -EPROTO,
                        *c == ' ' || *c == '\t' ? "whitespace before ':'"
                                                : "header name is not a token");
    char *v = colon + 1, *end = line + n;
    for (char *c = v; c < end; c++)
        if (!is_field_char((unsigned char)*c))
            return fail(p, err, 400, -EPROTO, "bad character in header value");
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *colon = '\0';
    *end = '\0';
    h->name = line;
    h->value = v;
    return 0;
}

/* Content-Length: digits only, no overflow. Returns the value or -1. */
static int64_t parse_content_length(const char *s)
{
    if (!*s)
        return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        int d = *s - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    return v;
}

/* Next comma-separated element of a list value, trimmed. Returns false at the end. */
static bool next_token(const char **s, const char **tok, size_t *toklen)
{
    const char *c = *s;
    for (;;) {
        while (*c == ' ' || *c == '\t' || *c == ',')
            c++;
        if (!*c) {
            *s = c;
            return false;
        }
        const char *start = c;
        while (*c && *c != ',')
            c++;
        const char *end = c;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *s = c;
        *tok = start;
        *toklen = (size_t)(end - start);
        return true;
    }
}

static bool token_eq(const char *tok, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(tok, want, n) == 0;
}

/* Decides how the body is delimited from the parsed headers. */
static int frame_body(struct reef_http_parser *p, struct reef_err *err)
{
    struct reef_http_msg *m = &p->msg;
    bool have_cl = false, have_te = false, te_chunked_last = false;
    int nhost = 0;
    for (size_t i = 0; i < m->nheaders; i++) {
        const struct reef_http_header *h = &m->headers[i];
        if (strcasecmp(h->name, "content-length") == 0) {
            int64_t v = parse_content_length(h->value);
            if (v < 0)
                return fail(p, err, 400, -EPROTO, "invalid Content-Length");
            if (have_cl && v != m->content_length)
                return fail(p, err, 400, -EPROTO, "conflicting Content-Length headers");
            have_cl = true;
            m->content_length = v;
        } else if (strcasecmp(h->name, "transfer-encoding") == 0) {
            const char *s = h->value, *tok;
            size_t n;
            bool any = false;
            while (next_token(&s, &tok, &n)) {
                any = true;
                if (te_chunked_last)
                    return fail(p, err, 400, -EPROTO, "transfer coding after chunked");
                if (token_eq(tok, n, "chunked"))
                    te_chunked_last = true;
                else
                    return fail(p, err, 501, -ENOTSUP, "unsupported transfer coding");
            }
            if (!any)
                return fail(p, err, 400, -EPROTO, "empty Transfer-Encoding");
            have_te = true;
        } else if (strcasecmp(h->name, "host") == 0) {
            nhost++;
        }
    }
    if (have_te && have_cl)
        return fail(p, err, 400, -EPROTO, "both Content-Length and Transfer-Encoding");
    if (have_te && !te_chunked_last)
        return fail(p, err, 400, -EPROTO, "Transfer-Encoding does not end in chunked");
    if (p->kind == REEF_HTTP_REQUEST && nhost > 1)
        return fail(p, err, 400, -EPROTO, "several Host headers");
    m->chunked = have_te;

    m->keep_alive = m->version_minor >= 1;
    if (reef_http_msg_header_has_token(m, "connection", "close"))
        m->keep_alive = false;
    else if (reef_http_msg_header_has_token(m, "connection", "keep-alive"))
        m->keep_alive = true;
    /* A chunked HTTP/1.0 message may have been framed differently by an intermediary. */
    if (m->chunked && m->version_minor == 0)
        m->keep_alive = false;
    /* Servers also advertise protocols on ordinary responses ("Upgrade: h2c" on a 200); only a
     * 101 actually switches. */
    m->upgrade = reef_http_msg_header_has_token(m, "connection", "upgrade") &&
                 reef_http_msg_header(m, "upgrade") != NULL &&
                 (p->kind == REEF_HTTP_REQUEST || m->status == 101);

    bool no_body = false;
    if (p->kind == REEF_HTTP_RESPONSE)
        no_body = p->head_request || m->status < 200 || m->status == 204 || m->status == 304;
    if (no_body) {
        p->state = S_DONE;
    } else if (m->chunked) {
        p->state = S_CHUNK_SIZE;
    } else if (have_cl) {
        if (p->lim.max_body && (uint64_t)m->content_length > p->lim.max_body)
            return fail(p, err, 413, -EFBIG, "body larger than the limit");
        p->remaining = (uint64_t)m->content_length;
        p->state = p->remaining ? S_BODY_LEN : S_DONE;
    } else if (p->kind == REEF_HTTP_RESPONSE) {
        p->state = S_BODY_EOF;
        m->keep_alive = false;
    } else {
        p->state = S_DONE;
    }
    return 0;
}

/* The empty line arrived: parse the stored head in place. */
static int parse_head(struct reef_http_parser *p, struct reef_err *err)
{
    size_t nfields = p->nlines - 1;
    if (nfields > p->hdrs_cap) {
        struct reef_http_header *h = realloc(p->hdrs, nfields * sizeof(*h));
        if (!h)
            return fail(p, err, 500, -ENOMEM, "out of memory for headers");
        p->hdrs = h;
        p->hdrs_cap = nfields;
    }
    /* The buffer holds nlines lines, each ending in CRLF, then the final CRLF. */
    char *s = p->head;
    char *end = p->head + p->head_len;
    size_t k = 0;
    for (size_t i = 0; i < p->nlines; i++) {
        char *cr = memchr(s, '\r', (size_t)(end - s));
        if (REEF_NEVER(!cr || cr + 1 >= end))
            return fail(p, err, 400, -EPROTO, "malformed head");
        size_t n = (size_t)(cr - s);
        *cr = '\0';
        int r;
        if (i == 0)
            r = p->kind == REEF_HTTP_REQUEST ? parse_request_line(p, s, n, err)
                                             : parse_status_line(p, s, n, err);
        else
            r = parse_field(p, s, n, &p->hdrs[k++], err);
        if (r < 0)
            return r;
        s = cr + 2;
    }
    p->msg.headers = p->hdrs;
    p->msg.nheaders = k;
    return frame_body(p, err);
}

/* Consumes head bytes from data; returns how many, or a negative code. Sets state past S_HEAD
 * once the head is complete. */
static ssize_t feed_head(struct reef_http_parser *p, const char *data, size_t len,
                         struct reef_err *err)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (p->cr) {
            if (c != '\n')
                return fail(p, err, 400, -EPROTO, "CR not followed by LF");
            p->cr = false;
            if (p->nlines == 0 && p->line_len == 0) {
                /* An empty line before the start line (RFC 9112 2.2) is ignored. */
                p->skipped += 2;
                if (p->skipped > p->lim.max_start_line)
                    return fail(p, err, 400, -EPROTO, "too many empty lines");
                continue;
            }
            int r = head_push(p, c, err);
            if (r < 0)
                return r;
            if (p->line_len == 0) {
                r = parse_head(p, err);
                if (r < 0)
                    return r;
                return (ssize_t)i + 1;
            }
            p->nlines++;
            if (p->nlines - 1 > p->lim.max_headers)
                return fail(p, err, 431, -EMSGSIZE, "too many header fields");
            p->line_len = 0;
            continue;
        }
        if (c == '\n')
            return fail(p, err, 400, -EPROTO, "bare LF in head");
        if (c == '\r') {
            p->cr = true;
            if (p->nlines == 0 && p->line_len == 0)
                continue; /* possibly an ignored empty line: not stored */
        } else {
            p->line_len++;
            if (p->nlines == 0 && p->line_len > p->lim.max_start_line)
                return fail(p, err, p->kind == REEF_HTTP_REQUEST ? 414 : 400, -EMSGSIZE,
                            "start line longer than the limit");
        }
        int r = head_push(p, c, err);
        if (r < 0)
            return r;
    }
    return (ssize_t)len;
}

static int deliver(struct reef_http_parser *p, const char *data, size_t n, struct reef_err *err)
{
    if (!n || !p->cb.on_body)
        return 0;
    int r = p->cb.on_body(p->ud, data, n);
    if (r < 0)
        return fail_cb(p, err, r, "on_body");
    return 0;
}

static int count_body(struct reef_http_parser *p, uint64_t n, struct reef_err *err)
{
    if (n > UINT64_MAX - p->body_total || (p->lim.max_body && p->body_total + n > p->lim.max_body))
        return fail(p, err, 413, -EFBIG, "body larger than the limit");
    p->body_total += n;
    return 0;
}

/* One byte of a trailer section; sets S_DONE at the empty line. */
static int trailer_byte(struct reef_http_parser *p, unsigned char c, struct reef_err *err)
{
    p->trailer_bytes++;
    if (p->head_len + p->trailer_bytes > p->lim.max_head)
        return fail(p, err, 431, -EMSGSIZE, "head and trailers larger than the limit");
    if (p->tcr) {
        if (c != '\n')
            return fail(p, err, 400, -EPROTO, "CR not followed by LF in trailers");
        p->tcr = false;
        if (p->tline == T_START) {
            p->state = S_DONE;
            return 0;
        }
        if (p->tline != T_VALUE)
            return fail(p, err, 400, -EPROTO, "trailer field without ':'");
        p->trailer_fields++;
        if (p->msg.nheaders + p->trailer_fields > p->lim.max_headers)
            return fail(p, err, 431, -EMSGSIZE, "too many header and trailer fields");
        p->tline = T_START;
        return 0;
    }
    if (c == '\r') {
        p->tcr = true;
        return 0;
    }
    switch (p->tline) {
    case T_START:
        if (!is_tchar(c))
            return fail(p, err, 400, -EPROTO, "bad trailer field name");
        p->tline = T_NAME;
        return 0;
    case T_NAME:
        if (c == ':')
            p->tline = T_VALUE;
        else if (!is_tchar(c))
            return fail(p, err, 400, -EPROTO, "bad trailer field name");
        return 0;
    case T_VALUE:
        if (!is_field_char(c))
            return fail(p, err, 400, -EPROTO, "bad character in trailer value");
        return 0;
    }
    return 0;
}

/* Consumes body bytes of a chunked message until the message ends or data runs out. */
static ssize_t feed_chunked(struct reef_http_parser *p, const char *data, size_t len,
                            struct reef_err *err)
{
    size_t i = 0;
    while (i < len && p->state != S_DONE) {
        unsigned char c = (unsigned char)data[i];
        int r;
        switch (p->state) {
        case S_CHUNK_SIZE: {
            int h = hexval(c);
            if (h >= 0) {
                if (p->remaining > (UINT64_MAX >> 4) || ++p->chunk_digits > MAX_CHUNK_DIGITS)
                    return fail(p, err, 400, -EPROTO, "chunk size overflows");
                p->remaining = (p->remaining << 4) | (uint64_t)h;
                i++;
                continue;
            }
            if (p->chunk_digits == 0)
                return fail(p, err, 400, -EPROTO, "bad chunk size");
            if (c == ' ' || c == '\t')
                p->state = S_CHUNK_SIZE_WS;
            else if (c == ';')
                p->state = S_CHUNK_EXT;
            else if (c == '\r')
                p->state = S_CHUNK_SIZE_LF;
            else
                return fail(p, err, 400, -EPROTO, "bad chunk size");
            i++;
            continue;
        }
        case S_CHUNK_SIZE_WS:
            /* Whitespace is only allowed before an extension (RFC 9112 7.1.1: BWS ";"), which
             * keeps "1 \r\n" from being read one way here and another way elsewhere. */
            if (c == ';')
                p->state = S_CHUNK_EXT;
            else if (c != ' ' && c != '\t')
                return fail(p, err, 400, -EPROTO, "bad chunk size line");
            i++;
            continue;
        case S_CHUNK_EXT:
            /* Extensions carry nothing reef uses; their length is bounded all the same. */
            if (c == '\r') {
                p->state = S_CHUNK_SIZE_LF;
            } else {
                if (!is_field_char(c) || ++p->ext_len > p->lim.max_start_line)
                    return fail(p, err, 400, -EPROTO, "bad chunk extension");
            }
            i++;
            continue;
        case S_CHUNK_SIZE_LF:
            if (c != '\n')
                return fail(p, err, 400, -EPROTO, "CR not followed by LF in chunk size");
            i++;
            p->chunk_digits = 0;
            p->ext_len = 0;
            if (p->remaining == 0) {
                p->state = S_TRAILER;
                continue;
            }
            if (p->remaining > INT64_MAX)
                return fail(p, err, 400, -EPROTO, "chunk size overflows");
            r = count_body(p, p->remaining, err);
            if (r < 0)
                return r;
            p->state = S_CHUNK_DATA;
            continue;
        case S_CHUNK_DATA: {
            size_t n = len - i;
            if ((uint64_t)n > p->remaining)
                n = (size_t)p->remaining;
            r = deliver(p, data + i, n, err);
            if (r < 0)
                return r;
            p->remaining -= n;
            i += n;
            if (p->remaining == 0)
                p->state = S_CHUNK_DATA_CR;
            continue;
        }
        case S_CHUNK_DATA_CR:
            if (c != '\r')
                return fail(p, err, 400, -EPROTO, "chunk data not followed by CRLF");
            p->state = S_CHUNK_DATA_LF;
            i++;
            continue;
        case S_CHUNK_DATA_LF:
            if (c != '\n')
                return fail(p, err, 400, -EPROTO, "chunk data not followed by CRLF");
            p->state = S_CHUNK_SIZE;
            i++;
            continue;
        case S_TRAILER:
            r = trailer_byte(p, c, err);
            if (r < 0)
                return r;
            i++;
            continue;
        default:
            if (REEF_NEVER(true))
                return fail(p, err, 400, -EPROTO, "bad parser state");
            return (ssize_t)i;
        }
    }
    return (ssize_t)i;
}

static int finish(struct reef_http_parser *p, struct reef_err *err)
{
    p->state = S_DONE;
    if (p->kind == REEF_HTTP_RESPONSE && p->msg.status >= 200)
        p->head_request = false;
    if (p->cb.on_end) {
        int r = p->cb.on_end(p->ud);
        if (r < 0)
            return fail_cb(p, err, r, "on_end");
    }
    return 0;
}

ssize_t reef_http_parser_feed(struct reef_http_parser *p, const char *data, size_t len,
                              struct reef_err *err)
{
    if (p->state == S_DEAD)
        return reef_err_set(err, p->error_code ? p->error_code : -EPROTO,
                            "http: parser used after an error");
    if (p->state == S_DONE)
        reset_message(p);
    size_t i = 0;
    if (p->state == S_HEAD) {
        ssize_t n = feed_head(p, data, len, err);
        if (n < 0)
            return n;
        i = (size_t)n;
        if (p->state == S_HEAD)
            return (ssize_t)i;
        /* The head is complete; the framing decided the next state. */
        enum state next = p->state;
        if (p->cb.on_head) {
            int r = p->cb.on_head(p->ud, &p->msg);
            if (r < 0)
                return fail_cb(p, err, r, "on_head");
        }
        p->state = next;
        if (p->state == S_DONE) {
            int r = finish(p, err);
            return r < 0 ? r : (ssize_t)i;
        }
    }
    while (i < len) {
        switch (p->state) {
        case S_BODY_LEN: {
            size_t n = len - i;
            if ((uint64_t)n > p->remaining)
                n = (size_t)p->remaining;
            int r = deliver(p, data + i, n, err);
            if (r < 0)
                return r;
            i += n;
            p->remaining -= n;
            if (p->remaining == 0) {
                r = finish(p, err);
                return r < 0 ? r : (ssize_t)i;
            }
            break;
        }
        case S_BODY_EOF: {
            /* Deliver up to the limit first, so the outcome does not depend on how the bytes
             * were split into reads. */
            size_t n = len - i;
            if (p->lim.max_body && (uint64_t)n > p->lim.max_body - p->body_total)
                n = (size_t)(p->lim.max_body - p->body_total);
            int r = deliver(p, data + i, n, err);
            if (r < 0)
                return r;
            p->body_total += n;
            i += n;
            if (i < len)
                return fail(p, err, 413, -EFBIG, "body larger than the limit");
            break;
        }
        default: {
            ssize_t n = feed_chunked(p, data + i, len - i, err);
            if (n < 0)
                return n;
            i += (size_t)n;
            if (p->state == S_DONE) {
                int r = finish(p, err);
                return r < 0 ? r : (ssize_t)i;
            }
            break;
        }
        }
    }
    return (ssize_t)i;
}

int reef_http_parser_eof(struct reef_http_parser *p, struct reef_err *err)
{
    switch (p->state) {
    case S_DONE:
        return 0;
    case S_DEAD:
        return reef_err_set(err, p->error_code ? p->error_code : -EPROTO,
                            "http: parser used after an error");
    case S_BODY_EOF:
        return finish(p, err);
    case S_HEAD:
        if (reef_http_parser_idle(p))
            return 0;
        /* fallthrough */
    default:
        p->state = S_DEAD;
        p->error_status = 400;
        p->error_code = -EPIPE;
        return reef_err_set(err, -EPIPE, "http: connection closed in the middle of a message");
    }
}

const char *reef_http_msg_header(const struct reef_http_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

bool reef_http_msg_header_has_token(const struct reef_http_msg *m, const char *name,
                                    const char *token)
{
    for (size_t i = 0; i < m->nheaders; i++) {
        if (strcasecmp(m->headers[i].name, name) != 0)
            continue;
        const char *s = m->headers[i].value, *tok;
        size_t n;
        while (next_token(&s, &tok, &n))
            if (token_eq(tok, n, token))
                return true;
    }
    return false;
}

static const struct {
    int status;
    const char *text;
} status_texts[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {507, "Insufficient Storage"},
};

const char *reef_http_status_text(int status)
{
    for (size_t i = 0; i < REEF_ARRAY_LEN(status_texts); i++)
        if (status_texts[i].status == status)
            return status_texts[i].text;
    return "Unknown";
}

int reef_http_write_chunk(struct reef_buf *out, const void *data, size_t len)
{
    if (len == 0)
        return reef_buf_append(out, "0\r\n\r\n", 5);
    size_t old = out->len;
    int r = reef_buf_printf(out, "%zx\r\n", len);
    if (r == 0)
        r = reef_buf_append(out, data, len);
    if (r == 0)
        r = reef_buf_append(out, "\r\n", 2);
    if (r < 0 && out->data) {
        /* Leave the buffer as it was rather than with half a chunk. */
        out->len = old;
        out->data[old] = '\0';
    }
    return r;
}

/* Percent-decodes in[0..len) into out, which holds outsz bytes (the NUL included). */
static ssize_t decode(const char *in, size_t len, char *out, size_t outsz, bool form)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            if (len - i < 3)
                return -EINVAL;
            int h1 = hexval((unsigned char)in[i + 1]), h2 = hexval((unsigned char)in[i + 2]);
            if (h1 < 0 || h2 < 0)
                return -EINVAL;
            c = (char)(h1 << 4 | h2);
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        if (o + 1 >= outsz)
            return -ENAMETOOLONG;
        out[o++] = c;
    }
    if (outsz == 0)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return (ssize_t)o;
}

ssize_t reef_http_unescape(const char *in, size_t len, char *out, bool form)
{
    return decode(in, len, out, len + 1, form);
}

/* True when the escaped query key in[0..len) decodes to key exactly. */
static bool key_eq(const char *in, size_t len, const char *key)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++, k++) {
        char c = in[i];
        if (c == '%') {
            if (len - i < 3)
                return false;
            int h1 = hexval((unsigned char)in[i + 1]), h2 = hexval((unsigned char)in[i + 2]);
            if (h1 < 0 || h2 < 0)
                return false;
            c = (char)(h1 << 4 | h2);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (key[k] == '\0' || key[k] != c)
            return false;
    }
    return key[k] == '\0';
}

ssize_t reef_http_query_get(const char *target, const char *key, char *out, size_t outsz)
{
    const char *q = strchr(target, '?');
    if (!q)
        return -ENOENT;
    q++;
    const char *frag = strchr(q, '#');
    const char *end = frag ? frag : q + strlen(q);
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pend = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pend - q));
        const char *kend = eq ? eq : pend;
        if (key_eq(q, (size_t)(kend - q), key)) {
            const char *v = eq ? eq + 1 : pend;
            return decode(v, (size_t)(pend - v), out, outsz, true);
        }
        q = amp ? amp + 1 : end;
    }
    return -ENOENT;
}
