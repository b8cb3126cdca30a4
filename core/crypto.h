/* crypto: hashing, text encodings, randomness and secret comparison.
 *
 * Owns the primitives every other module builds on: SHA-256 (streaming, one-shot, whole file),
 * hex and base64 (standard and URL-safe alphabets, with or without padding), random bytes straight
 * from the kernel (getrandom), random text tokens, the RNG callback handed to mbedtls, and a
 * constant-time comparison for secrets such as join and bearer tokens.
 *
 * Decoders are strict: anything that is not the canonical encoding of some byte string is refused
 * with a message naming the offending position, because these decoders read tokens, keys and
 * Kubernetes objects that come from the network.
 *
 * Threads: every function may be called from any thread. There is no shared state: randomness
 * comes from the kernel on every call (no user-space DRBG to lock or to reseed after fork), and a
 * struct reef_crypto_sha256 belongs to whichever thread uses it. */
#ifndef REEF_CORE_CRYPTO_H
#define REEF_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mbedtls/sha256.h>

#include "core/buf.h"
#include "core/err.h"

#define REEF_SHA256_LEN 32
#define REEF_SHA256_HEX_LEN 64 /* without the NUL */

/* ---- SHA-256 --------------------------------------------------------------------------------- */

/* A streaming hash, embedded by its owner (stack or struct). It holds no heap memory, so an
 * abandoned hash needs no cleanup; final may be called once, after which init starts again. */
struct reef_crypto_sha256 {
    mbedtls_sha256_context ctx;
};

void reef_crypto_sha256_init(struct reef_crypto_sha256 *h);
void reef_crypto_sha256_update(struct reef_crypto_sha256 *h, const void *p, size_t n);
void reef_crypto_sha256_final(struct reef_crypto_sha256 *h, uint8_t out[REEF_SHA256_LEN]);

/* One-shot hash of p[0..n). */
void reef_crypto_sha256(const void *p, size_t n, uint8_t out[REEF_SHA256_LEN]);

/* Hash of a whole file, read in blocks (any size). Returns 0 or a negative errno. */
int reef_crypto_sha256_file(const char *path, uint8_t out[REEF_SHA256_LEN], struct reef_err *err);

/* Lowercase hex of the SHA-256 of p[0..n) into out (REEF_SHA256_HEX_LEN + 1 bytes). */
void reef_crypto_sha256_hex(const void *p, size_t n, char out[REEF_SHA256_HEX_LEN + 1]);

/* ---- hex ------------------------------------------------------------------------------------- */

/* Writes 2*n lowercase hex digits and a NUL into out, which must hold 2*n + 1 bytes. */
void reef_crypto_hex_encode(char *out, const void *p, size_t n);

/* Decodes s[0..len) (even length, digits 0-9a-fA-F only) into out, which holds out_cap bytes;
 * *out_len receives the decoded length (len / 2). Returns 0, -EINVAL for malformed text, or
 * -ENOBUFS when out_cap < len / 2. Nothing is promised about out's contents after a failure. */
int reef_crypto_hex_decode(const char *s, size_t len, void *out, size_t out_cap, size_t *out_len,
                           struct reef_err *err);

/* ---- base64 (RFC 4648) ----------------------------------------------------------------------- */

enum {
    REEF_B64_STD = 0,        /* alphabet A-Z a-z 0-9 + / (section 4) */
    REEF_B64_URL = 1 << 0,   /* alphabet A-Z a-z 0-9 - _ (section 5) */
    REEF_B64_NOPAD = 1 << 1, /* no trailing '=' on encode; '=' refused on decode */
};

/* Length of the encoding of n bytes, without the NUL. */
size_t reef_crypto_b64_encoded_len(size_t n, int flags);

/* Appends the encoding of p[0..n) to out (which stays NUL-terminated). Returns 0 or -ENOMEM. */
int reef_crypto_b64_encode(struct reef_buf *out, const void *p, size_t n, int flags);

/* Appends the bytes encoded by s[0..len) to out. Strict: only the chosen alphabet, no whitespace,
 * padding exactly as the flags say (required and correct without REEF_B64_NOPAD, absent with it),
 * and the unused low bits of the last symbol must be zero, so every byte string has exactly one
 * accepted encoding. Returns 0, -EINVAL (message says what and where) or -ENOMEM; on failure out
 * is left as it was. */
int reef_crypto_b64_decode(struct reef_buf *out, const char *s, size_t len, int flags,
                           struct reef_err *err);

/* ---- randomness ------------------------------------------------------------------------------ */

/* Fills out[0..n) with bytes from the kernel CSPRNG (getrandom, blocking only until the kernel
 * pool is first seeded; retries on EINTR and short reads). Returns 0 or a negative errno. */
int reef_crypto_random(void *out, size_t n, struct reef_err *err);

/* Writes a token of nbytes random bytes as 2*nbytes lowercase hex digits and a NUL into out,
 * which must hold 2*nbytes + 1 bytes. Returns 0 or a negative errno. */
int reef_crypto_token_hex(char *out, size_t nbytes, struct reef_err *err);

/* The f_rng callback for mbedtls (pass NULL as p_rng). Any thread may use it at any time: each
 * call reads the kernel directly. Returns 0, or MBEDTLS_ERR_ENTROPY_SOURCE_FAILED if the kernel
 * would not give randomness (which makes the mbedtls operation fail rather than use weak bytes). */
int reef_crypto_rng(void *unused, unsigned char *out, size_t len);

/* Internal: the getrandom(2) the functions above call. Tests replace it to deliver EINTR, short
 * reads and ENOSYS on demand (the kernel does not produce them reliably); nothing else may. */
extern ssize_t (*reef__crypto_getrandom)(void *buf, size_t n, unsigned flags);

/* ---- comparison ------------------------------------------------------------------------------ */

/* Compares a[0..n) and b[0..n) in time that depends only on n. */
bool reef_crypto_equal(const void *a, const void *b, size_t n);

/* Compares a presented secret with the expected one. The time taken depends only on the lengths,
 * never on where the strings first differ (lengths of tokens are not secret). Either may be NULL,
 * which never matches. */
bool reef_crypto_str_equal(const char *presented, const char *expected);

#endif
