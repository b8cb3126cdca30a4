#include "core/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <mbedtls/entropy.h>
#include <mbedtls/platform_util.h>

#include "core/cleanup.h"

/* ---- SHA-256 --------------------------------------------------------------------------------- */

/* mbedtls' software SHA-256 cannot fail (the return codes exist for hardware back ends), so the
 * _ret results are only checked defensively. */

void reef_crypto_sha256_init(struct reef_crypto_sha256 *h)
{
    mbedtls_sha256_init(&h->ctx);
    int r = mbedtls_sha256_starts_ret(&h->ctx, 0);
    (void)REEF_NEVER(r != 0);
}

void reef_crypto_sha256_update(struct reef_crypto_sha256 *h, const void *p, size_t n)
{
    if (n == 0)
        return;
    int r = mbedtls_sha256_update_ret(&h->ctx, p, n);
    (void)REEF_NEVER(r != 0);
}

void reef_crypto_sha256_final(struct reef_crypto_sha256 *h, uint8_t out[REEF_SHA256_LEN])
{
    int r = mbedtls_sha256_finish_ret(&h->ctx, out);
    (void)REEF_NEVER(r != 0);
    mbedtls_sha256_free(&h->ctx);
}

void reef_crypto_sha256(const void *p, size_t n, uint8_t out[REEF_SHA256_LEN])
{
    struct reef_crypto_sha256 h;
    reef_crypto_sha256_init(&h);
    reef_crypto_sha256_update(&h, p, n);
    reef_crypto_sha256_final(&h, out);
}

void reef_crypto_sha256_hex(const void *p, size_t n, char out[REEF_SHA256_HEX_LEN + 1])
{
    uint8_t d[REEF_SHA256_LEN];
    reef_crypto_sha256(p, n, d);
    reef_crypto_hex_encode(out, d, sizeof(d));
}

int reef_crypto_sha256_file(const char *path, uint8_t out[REEF_SHA256_LEN], struct reef_err *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return reef_err_errno(err, -errno, "open %s", path);
    struct reef_crypto_sha256 h;
    reef_crypto_sha256_init(&h);
    unsigned char block[16384];
    for (;;) {
        ssize_t n = read(fd, block, sizeof(block));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = -errno;
            reef_crypto_sha256_final(&h, out);
            return reef_err_errno(err, e, "read %s", path);
        }
        if (n == 0)
            break;
        reef_crypto_sha256_update(&h, block, (size_t)n);
    }
    reef_crypto_sha256_final(&h, out);
    return 0;
}

/* ---- hex ------------------------------------------------------------------------------------- */

static const char hex_digits[] = "0123456789abcdef";

void reef_crypto_hex_encode(char *out, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_digits[b[i] >> 4];
        out[2 * i + 1] = hex_digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int reef_crypto_hex_decode(const char *s, size_t len, void *out, size_t out_cap, size_t *out_len,
                           struct reef_err *err)
{
    if (len % 2 != 0)
        return reef_err_set(err, -EINVAL, "hex: odd length %zu", len);
    if (out_cap < len / 2)
        return reef_err_set(err, -ENOBUFS, "hex: %zu bytes do not fit in %zu", len / 2, out_cap);
    unsigned char *o = out;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value((unsigned char)s[i]);
        int lo = hex_value((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0) {
            size_t at = hi < 0 ? i : i + 1;
            return reef_err_set(err, -EINVAL, "hex: invalid character 0x%02x at offset %zu",
                                (unsigned char)s[at], at);
        }
        o[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    if (out_len)
        *out_len = len / 2;
    return 0;
}

/* ---- base64 ---------------------------------------------------------------------------------- */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t reef_crypto_b64_encoded_len(size_t n, int flags)
{
    if (flags & REEF_B64_NOPAD)
        return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
    return (n + 2) / 3 * 4;
}

int reef_crypto_b64_encode(struct reef_buf *out, const void *p, size_t n, int flags)
{
    const char *alpha = (flags & REEF_B64_URL) ? b64_url : b64_std;
    if (n > (SIZE_MAX - 4) / 4 * 3)
        return -ENOMEM;
    size_t olen = reef_crypto_b64_encoded_len(n, flags);
    if (reef_buf_reserve(out, olen) != 0)
        return -ENOMEM;
    const unsigned char *b = p;
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = alpha[(v >> 6) & 63];
        *o++ = alpha[v & 63];
    }
    size_t rest = n - i;
    if (rest) {
        uint32_t v = (uint32_t)b[i] << 16 | (rest == 2 ? (uint32_t)b[i + 1] << 8 : 0);
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        if (rest == 2)
            *o++ = alpha[(v >> 6) & 63];
        if (!(flags & REEF_B64_NOPAD)) {
            *o++ = '=';
            if (rest == 1)
                *o++ = '=';
        }
    }
    out->len += olen;
    out->data[out->len] = '\0';
    return 0;
}

static int b64_value(unsigned char c, int flags)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (flags & REEF_B64_URL) {
        if (c == '-')
            return 62;
        if (c == '_')
            return 63;
    } else {
        if (c == '+')
            return 62;
        if (c == '/')
            return 63;
    }
    return -1;
}

static int b64_fail(struct reef_buf *out, size_t orig_len, struct reef_err *err, const char *what,
                    size_t at)
{
    out->len = orig_len;
    if (out->data)
        out->data[orig_len] = '\0';
    return reef_err_set(err, -EINVAL, "base64: %s at offset %zu", what, at);
}

int reef_crypto_b64_decode(struct reef_buf *out, const char *s, size_t len, int flags,
                           struct reef_err *err)
{
    size_t orig = out->len;
    size_t data_len = len; /* symbols before any padding */
    if (flags & REEF_B64_NOPAD) {
        if (len % 4 == 1)
            return reef_err_set(err, -EINVAL, "base64: impossible length %zu", len);
    } else {
        if (len % 4 != 0)
            return reef_err_set(err, -EINVAL, "base64: length %zu is not a multiple of 4", len);
        while (data_len > 0 && s[data_len - 1] == '=' && len - data_len < 2)
            data_len--;
        /* "xx==" and "xxx=" are the only padded forms; a third '=' lands in the loop below. */
    }
    if (reef_buf_reserve(out, len / 4 * 3 + 2) != 0)
        return reef_err_set(err, -ENOMEM, "base64: out of memory");
    unsigned char *o = (unsigned char *)out->data + out->len;
    uint32_t acc = 0;
    unsigned nsym = 0;
    for (size_t i = 0; i < data_len; i++) {
        unsigned char c = (unsigned char)s[i];
        int v = b64_value(c, flags);
        if (v < 0) {
            if (c == '=')
                return b64_fail(
                    out, orig, err,
                    (flags & REEF_B64_NOPAD) ? "padding not allowed" : "misplaced padding", i);
            const char *what = "invalid character";
            if ((flags & REEF_B64_URL) && (c == '+' || c == '/'))
                what = "standard-alphabet character in URL-safe input";
            else if (!(flags & REEF_B64_URL) && (c == '-' || c == '_'))
                what = "URL-safe character in standard input";
            else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
                what = "whitespace";
            return b64_fail(out, orig, err, what, i);
        }
        acc = acc << 6 | (uint32_t)v;
        if (++nsym == 4) {
            *o++ = (unsigned char)(acc >> 16);
            *o++ = (unsigned char)(acc >> 8);
            *o++ = (unsigned char)acc;
            acc = 0;
            nsym = 0;
        }
    }
    switch (nsym) {
    case 0:
        break;
    case 1:
        return b64_fail(out, orig, err, "truncated final group", data_len - 1);
    case 2:
        if (acc & 0xf)
            return b64_fail(out, orig, err, "non-zero trailing bits", data_len - 1);
        *o++ = (unsigned char)(acc >> 4);
        break;
    case 3:
        if (acc & 0x3)
            return b64_fail(out, orig, err, "non-zero trailing bits", data_len - 1);
        *o++ = (unsigned char)(acc >> 10);
        *o++ = (unsigned char)(acc >> 2);
        break;
    }
    out->len = (size_t)(o - (unsigned char *)out->data);
    out->data[out->len] = '\0';
    return 0;
}

/* ---- randomness ------------------------------------------------------------------------------ */

/* Kernels before 3.17 (and seccomp profiles that predate getrandom) answer ENOSYS; /dev/urandom
 * gives the same stream there. */
static int urandom_read(unsigned char *p, size_t n)
{
    _cleanup_close_ int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -EIO;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

ssize_t (*reef__crypto_getrandom)(void *buf, size_t n, unsigned flags) = getrandom;

static int random_fill(unsigned char *p, size_t n)
{
    while (n > 0) {
        /* Large requests may come back short when a signal arrives; small ones never do, but the
         * loop handles both the same way. */
        ssize_t r = reef__crypto_getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSYS)
                return urandom_read(p, n);
            return -errno;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int reef_crypto_random(void *out, size_t n, struct reef_err *err)
{
    int r = random_fill(out, n);
    if (r < 0)
        return reef_err_errno(err, r, "read %zu random bytes", n);
    return 0;
}

int reef_crypto_token_hex(char *out, size_t nbytes, struct reef_err *err)
{
    unsigned char chunk[32];
    size_t done = 0;
    while (done < nbytes) {
        size_t k = nbytes - done < sizeof(chunk) ? nbytes - done : sizeof(chunk);
        int r = reef_crypto_random(chunk, k, err);
        if (r < 0) {
            mbedtls_platform_zeroize(chunk, sizeof(chunk));
            return r;
        }
        reef_crypto_hex_encode(out + 2 * done, chunk, k);
        done += k;
    }
    out[2 * nbytes] = '\0';
    mbedtls_platform_zeroize(chunk, sizeof(chunk));
    return 0;
}

int reef_crypto_rng(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    return random_fill(out, len) == 0 ? 0 : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
}

/* ---- comparison ------------------------------------------------------------------------------ */

bool reef_crypto_equal(const void *a, const void *b, size_t n)
{
    const volatile unsigned char *x = a, *y = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= x[i] ^ y[i];
    return diff == 0;
}

bool reef_crypto_str_equal(const char *presented, const char *expected)
{
    if (!presented || !expected)
        return false;
    size_t lp = strlen(presented), le = strlen(expected);
    if (lp != le)
        return false;
    return reef_crypto_equal(presented, expected, le);
}
