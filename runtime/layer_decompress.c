/* layer_decompress: the pull stream under the tar reader. Raw blob bytes come from the caller's
 * read callback, are decompressed here (zlib for gzip, libzstd for zstd, chosen by magic bytes) and
 * hashed on the way out, so the one pass yields both the tar for libarchive and the diff_id.
 * libarchive's own filters are never registered: they would pull in every decompressor at link
 * time and would hide the uncompressed bytes we must hash. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include <zlib.h>
#include <zstd.h>

#include "runtime/layer.h"

#define IN_SIZE (64 * 1024)
#define OUT_SIZE (128 * 1024)
/* zstd frames may ask for windows up to 2 GiB; 128 MiB (`zstd --long`'s size) bounds memory. */
#define ZSTD_WINDOW_LOG_MAX 27

struct reef__layer_stream {
    reef_layer_read_fn read;
    void *ud;
    uint64_t max_size;
    enum reef_layer_compression comp;
    bool in_eof;      /* the read callback returned 0 */
    bool done;        /* the decompressor has delivered its last byte */
    bool pending;     /* the decompressor may hold output it could not place last time */
    bool member_end;  /* gzip: a member just ended; another may follow */
    size_t zstd_last; /* zstd: last ZSTD_decompressStream hint; 0 = at a frame boundary */
    uint64_t size, csize;
    mbedtls_sha256_context sha;
    z_stream z;
    bool z_init;
    ZSTD_DStream *zs;
    unsigned char *in;
    size_t in_pos, in_len;
    unsigned char *out;
};

const char *reef_layer_compression_name(enum reef_layer_compression c)
{
    switch (c) {
    case REEF_LAYER_GZIP:
        return "gzip";
    case REEF_LAYER_ZSTD:
        return "zstd";
    case REEF_LAYER_PLAIN:
        break;
    }
    return "plain";
}

/* Appends raw blob bytes after in[in_len]. Returns bytes read, 0 at the end, or an error. */
static ssize_t pull(struct reef__layer_stream *s, unsigned char *buf, size_t len,
                    struct reef_err *err)
{
    if (s->in_eof)
        return 0;
    ssize_t n;
    do {
        n = s->read(s->ud, buf, len);
    } while (n == -EINTR);
    if (n < 0)
        return reef_err_errno(err, (int)n, "layer: read");
    if ((size_t)n > len)
        return reef_err_set(err, -EIO, "layer: read: callback returned more than asked");
    if (n == 0)
        s->in_eof = true;
    s->csize += (uint64_t)n;
    return n;
}

/* Refills the input buffer when it is empty. Returns the bytes now available (0 at the end). */
static ssize_t refill(struct reef__layer_stream *s, struct reef_err *err)
{
    if (s->in_pos < s->in_len)
        return (ssize_t)(s->in_len - s->in_pos);
    s->in_pos = s->in_len = 0;
    ssize_t n = pull(s, s->in, IN_SIZE, err);
    if (n > 0)
        s->in_len = (size_t)n;
    return n;
}

int reef__layer_stream_new(reef_layer_read_fn read, void *ud, uint64_t max_size,
                           struct reef__layer_stream **out, struct reef_err *err)
{
    struct reef__layer_stream *s = calloc(1, sizeof(*s));
    if (!s)
        return reef_err_set(err, -ENOMEM, "layer: out of memory");
    s->read = read;
    s->ud = ud;
    s->max_size = max_size;
    mbedtls_sha256_init(&s->sha);
    s->in = malloc(IN_SIZE);
    s->out = malloc(OUT_SIZE);
    int r;
    if (!s->in || !s->out) {
        r = reef_err_set(err, -ENOMEM, "layer: out of memory");
        goto fail;
    }
    if (mbedtls_sha256_starts_ret(&s->sha, 0) != 0) {
        r = reef_err_set(err, -EIO, "layer: sha256 init failed");
        goto fail;
    }
    /* The magic needs 4 bytes; the callback may hand them over one at a time. */
    while (s->in_len < 4 && !s->in_eof) {
        ssize_t n = pull(s, s->in + s->in_len, IN_SIZE - s->in_len, err);
        if (n < 0) {
            r = (int)n;
            goto fail;
        }
        s->in_len += (size_t)n;
    }
    const unsigned char *m = s->in;
    if (s->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        s->comp = REEF_LAYER_GZIP;
        /* 16 + 15: gzip wrapper only (a zlib or raw stream is not a layer), 32 KiB window. */
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
            r = reef_err_set(err, -ENOMEM, "layer: gzip: cannot initialise inflate");
            goto fail;
        }
        s->z_init = true;
    } else if (s->in_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        s->comp = REEF_LAYER_ZSTD;
        s->zs = ZSTD_createDStream();
        if (!s->zs ||
            ZSTD_isError(ZSTD_DCtx_setParameter(s->zs, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX))) {
            r = reef_err_set(err, -ENOMEM, "layer: zstd: cannot initialise decompressor");
            goto fail;
        }
    } else {
        s->comp = REEF_LAYER_PLAIN;
    }
    *out = s;
    return 0;
fail:
    reef__layer_stream_free(s);
    return r;
}

static ssize_t next_plain(struct reef__layer_stream *s, const void **data, struct reef_err *err)
{
    if (s->in_pos < s->in_len) {
        /* The bytes read while sniffing the magic. */
        *data = s->in + s->in_pos;
        ssize_t n = (ssize_t)(s->in_len - s->in_pos);
        s->in_pos = s->in_len;
        return n;
    }
    ssize_t n = pull(s, s->out, OUT_SIZE, err);
    *data = s->out;
    return n;
}

static ssize_t next_gzip(struct reef__layer_stream *s, const void **data, struct reef_err *err)
{
    z_stream *z = &s->z;
    *data = s->out;
    for (;;) {
        if (s->member_end) {
            /* Concatenated members form one stream (RFC 1952 section 2.2); anything after a
             * member that is not another member is an error, as in Go's and GNU gzip's readers. */
            ssize_t avail = refill(s, err);
            if (avail < 0)
                return avail;
            if (avail == 0) {
                s->done = true;
                return 0;
            }
            if (inflateReset(z) != Z_OK)
                return reef_err_set(err, -EIO, "layer: gzip: inflateReset failed");
            s->member_end = false;
        }
        if (!s->pending) {
            ssize_t avail = refill(s, err);
            if (avail < 0)
                return avail;
            if (avail == 0)
                return reef_err_set(err, -EPROTO, "layer: gzip: stream truncated");
        }
        z->next_in = s->in + s->in_pos;
        z->avail_in = (uInt)(s->in_len - s->in_pos);
        z->next_out = s->out;
        z->avail_out = OUT_SIZE;
        int zr = inflate(z, Z_NO_FLUSH);
        s->in_pos = s->in_len - z->avail_in;
        size_t produced = OUT_SIZE - z->avail_out;
        s->pending = z->avail_out == 0;
        switch (zr) {
        case Z_OK:
            break;
        case Z_STREAM_END:
            s->member_end = true;
            s->pending = false;
            break;
        case Z_BUF_ERROR: /* no progress possible: more input needed */
            s->pending = false;
            break;
        case Z_MEM_ERROR:
            return reef_err_set(err, -ENOMEM, "layer: gzip: out of memory");
        case Z_NEED_DICT:
            return reef_err_set(err, -EPROTO, "layer: gzip: corrupt data (needs a dictionary)");
        default:
            return reef_err_set(err, -EPROTO, "layer: gzip: corrupt data (%s)",
                                z->msg ? z->msg : "inflate failed");
        }
        if (produced > 0)
            return (ssize_t)produced;
    }
}

static ssize_t next_zstd(struct reef__layer_stream *s, const void **data, struct reef_err *err)
{
    *data = s->out;
    for (;;) {
        if (!s->pending) {
            ssize_t avail = refill(s, err);
            if (avail < 0)
                return avail;
            if (avail == 0) {
                if (s->zstd_last != 0)
                    return reef_err_set(err, -EPROTO, "layer: zstd: stream truncated");
                s->done = true;
                return 0;
            }
        }
        ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
        ZSTD_outBuffer out = {s->out, OUT_SIZE, 0};
        size_t zr = ZSTD_decompressStream(s->zs, &out, &in);
        s->in_pos = in.pos;
        if (ZSTD_isError(zr))
            return reef_err_set(err, -EPROTO, "layer: zstd: corrupt data (%s)",
                                ZSTD_getErrorName(zr));
        s->zstd_last = zr;
        /* A full output buffer may leave decoded bytes inside the context: call again before
         * asking for more input. */
        s->pending = out.pos == out.size;
        if (out.pos > 0)
            return (ssize_t)out.pos;
    }
}

ssize_t reef__layer_stream_next(struct reef__layer_stream *s, const void **data,
                                struct reef_err *err)
{
    if (s->done)
        return 0;
    ssize_t n;
    switch (s->comp) {
    case REEF_LAYER_GZIP:
        n = next_gzip(s, data, err);
        break;
    case REEF_LAYER_ZSTD:
        n = next_zstd(s, data, err);
        break;
    default:
        n = next_plain(s, data, err);
        break;
    }
    if (n < 0)
        return n;
    if (n == 0) {
        s->done = true;
        return 0;
    }
    s->size += (uint64_t)n;
    if (s->max_size && s->size > s->max_size)
        return reef_err_set(err, -EFBIG, "layer: uncompressed size exceeds the limit of %llu bytes",
                            (unsigned long long)s->max_size);
    if (mbedtls_sha256_update_ret(&s->sha, *data, (size_t)n) != 0)
        return reef_err_set(err, -EIO, "layer: sha256 update failed");
    return n;
}

int reef__layer_stream_finish(struct reef__layer_stream *s, struct reef_layer_result *res,
                              struct reef_err *err)
{
    const void *data;
    ssize_t n;
    /* Tar writers pad to a record size after the end-of-archive blocks; those bytes are part of
     * the diff_id. Anything else after the end marker is hashed too but never unpacked. */
    while ((n = reef__layer_stream_next(s, &data, err)) > 0)
        ;
    if (n < 0)
        return (int)n;
    unsigned char sum[32];
    if (mbedtls_sha256_finish_ret(&s->sha, sum) != 0)
        return reef_err_set(err, -EIO, "layer: sha256 finish failed");
    static const char hex[] = "0123456789abcdef";
    memcpy(res->diff_id, "sha256:", 7);
    for (int i = 0; i < 32; i++) {
        res->diff_id[7 + 2 * i] = hex[sum[i] >> 4];
        res->diff_id[8 + 2 * i] = hex[sum[i] & 15];
    }
    res->diff_id[REEF_LAYER_DIFF_ID_LEN] = '\0';
    res->size = s->size;
    res->compressed_size = s->csize;
    res->compression = s->comp;
    return 0;
}

void reef__layer_stream_free(struct reef__layer_stream *s)
{
    if (!s)
        return;
    if (s->z_init)
        inflateEnd(&s->z);
    ZSTD_freeDStream(s->zs);
    mbedtls_sha256_free(&s->sha);
    free(s->in);
    free(s->out);
    free(s);
}
