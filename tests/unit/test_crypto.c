/* Tests for core/crypto: SHA-256 against the FIPS 180-2 / RFC 6234 vectors, hex and base64 against
 * RFC 4648 section 10 plus every rejection the strict decoders promise, and the random sources. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/entropy.h>

#include "core/crypto.h"
#include "tests/unit/test.h"

static void hex_of(const uint8_t *d, size_t n, char *out)
{
    reef_crypto_hex_encode(out, d, n);
}

static void check_sha(const char *msg, const char *want)
{
    uint8_t d[REEF_SHA256_LEN];
    char hex[REEF_SHA256_HEX_LEN + 1];
    reef_crypto_sha256(msg, strlen(msg), d);
    hex_of(d, sizeof(d), hex);
    CHECK_STR(hex, want);
    reef_crypto_sha256_hex(msg, strlen(msg), hex);
    CHECK_STR(hex, want);
    /* The same message fed one byte at a time. */
    struct reef_crypto_sha256 h;
    reef_crypto_sha256_init(&h);
    for (size_t i = 0; msg[i]; i++)
        reef_crypto_sha256_update(&h, msg + i, 1);
    reef_crypto_sha256_final(&h, d);
    hex_of(d, sizeof(d), hex);
    CHECK_STR(hex, want);
}

static void test_sha256_vectors(void)
{
    check_sha("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_sha("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check_sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklm"
              "nopqrlmnopqrsmnopqrstnopqrstu",
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_sha256_million_a(void)
{
    static char a[1000000];
    memset(a, 'a', sizeof(a));
    const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    /* Odd piece sizes cross the 64-byte block boundary at every offset. */
    static const size_t pieces[] = {1, 3, 7, 63, 64, 65, 127, 1000, 4099, 31};
    struct reef_crypto_sha256 h;
    reef_crypto_sha256_init(&h);
    size_t off = 0;
    for (size_t i = 0; off < sizeof(a); i++) {
        size_t n = pieces[i % REEF_ARRAY_LEN(pieces)];
        if (n > sizeof(a) - off)
            n = sizeof(a) - off;
        reef_crypto_sha256_update(&h, a + off, n);
        off += n;
    }
    reef_crypto_sha256_update(&h, a, 0);
    uint8_t d[REEF_SHA256_LEN];
    char hex[REEF_SHA256_HEX_LEN + 1];
    reef_crypto_sha256_final(&h, d);
    hex_of(d, sizeof(d), hex);
    CHECK_STR(hex, want);
    reef_crypto_sha256(a, sizeof(a), d);
    hex_of(d, sizeof(d), hex);
    CHECK_STR(hex, want);
}

static void test_sha256_file(void)
{
    char path[] = "/tmp/reef-test-sha-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    /* Larger than the read block, so the file is hashed in several reads. */
    static char a[1000000];
    memset(a, 'a', sizeof(a));
    CHECK_INT(write(fd, a, sizeof(a)), ==, (ssize_t)sizeof(a));
    close(fd);
    struct reef_err err = {0};
    uint8_t d[REEF_SHA256_LEN];
    char hex[REEF_SHA256_HEX_LEN + 1];
    CHECK_OK(reef_crypto_sha256_file(path, d, &err), &err);
    hex_of(d, sizeof(d), hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    unlink(path);
    CHECK_INT(reef_crypto_sha256_file(path, d, &err), ==, -ENOENT);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK_INT(reef_crypto_sha256_file("/tmp", d, &err), ==, -EISDIR);
}

static void test_hex(void)
{
    char out[64];
    reef_crypto_hex_encode(out, "", 0);
    CHECK_STR(out, "");
    reef_crypto_hex_encode(out, "foobar", 6);
    CHECK_STR(out, "666f6f626172");
    const unsigned char all[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    reef_crypto_hex_encode(out, all, sizeof(all));
    CHECK_STR(out, "00017f80abff");

    struct reef_err err = {0};
    unsigned char b[16];
    size_t n = 99;
    CHECK_OK(reef_crypto_hex_decode("", 0, b, sizeof(b), &n, &err), &err);
    CHECK_INT(n, ==, 0);
    /* RFC 4648 section 10 writes base16 in upper case; both cases decode. */
    CHECK_OK(reef_crypto_hex_decode("666F6F626172", 12, b, sizeof(b), &n, &err), &err);
    CHECK_INT(n, ==, 6);
    CHECK(memcmp(b, "foobar", 6) == 0);
    CHECK_OK(reef_crypto_hex_decode("00017f80AbFf", 12, b, sizeof(b), &n, &err), &err);
    CHECK(n == sizeof(all) && memcmp(b, all, n) == 0);

    /* Round trip of every byte value. */
    unsigned char bytes[256], back[256];
    char text[513];
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)i;
    reef_crypto_hex_encode(text, bytes, 256);
    CHECK_INT(strlen(text), ==, 512);
    CHECK_OK(reef_crypto_hex_decode(text, 512, back, sizeof(back), &n, &err), &err);
    CHECK(n == 256 && memcmp(back, bytes, 256) == 0);

    /* Rejections. */
    CHECK_INT(reef_crypto_hex_decode("abc", 3, b, sizeof(b), &n, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "odd length") != NULL);
    CHECK_INT(reef_crypto_hex_decode("0g", 2, b, sizeof(b), &n, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "offset 1") != NULL);
    CHECK_INT(reef_crypto_hex_decode("zz", 2, b, sizeof(b), &n, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "offset 0") != NULL);
    CHECK_INT(reef_crypto_hex_decode(" 0", 2, b, sizeof(b), &n, &err), ==, -EINVAL);
    CHECK_INT(reef_crypto_hex_decode("0x01", 4, b, sizeof(b), &n, &err), ==, -EINVAL);
    CHECK_INT(reef_crypto_hex_decode("-1", 2, b, sizeof(b), &n, &err), ==, -EINVAL);
    CHECK_INT(reef_crypto_hex_decode("a\0", 2, b, sizeof(b), &n, &err), ==, -EINVAL);
    CHECK_INT(reef_crypto_hex_decode("00112233", 8, b, 3, &n, &err), ==, -ENOBUFS);
    CHECK_OK(reef_crypto_hex_decode("001122", 6, b, 3, &n, &err), &err);
}

struct b64_case {
    const char *plain;
    const char *std;
};

static const struct b64_case rfc4648[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

static void encode_check(const void *p, size_t n, int flags, const char *want)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_INT(reef_crypto_b64_encode(&b, p, n, flags), ==, 0);
    CHECK_STR(b.data ? b.data : "", want);
    CHECK_INT(b.len, ==, strlen(want));
    CHECK_INT(reef_crypto_b64_encoded_len(n, flags), ==, strlen(want));
    reef_buf_free(&b);
}

static void decode_check(const char *s, int flags, const void *want, size_t want_len)
{
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_OK(reef_crypto_b64_decode(&b, s, strlen(s), flags, &err), &err);
    CHECK_INT(b.len, ==, want_len);
    CHECK(want_len == 0 || memcmp(b.data, want, want_len) == 0);
    reef_buf_free(&b);
}

static void test_b64_rfc4648(void)
{
    for (size_t i = 0; i < REEF_ARRAY_LEN(rfc4648); i++) {
        const char *p = rfc4648[i].plain, *s = rfc4648[i].std;
        size_t n = strlen(p);
        encode_check(p, n, REEF_B64_STD, s);
        encode_check(p, n, REEF_B64_URL, s);
        decode_check(s, REEF_B64_STD, p, n);
        decode_check(s, REEF_B64_URL, p, n);
        /* Unpadded: the same text with the '=' removed. */
        char nopad[16];
        size_t k = strcspn(s, "=");
        memcpy(nopad, s, k);
        nopad[k] = '\0';
        encode_check(p, n, REEF_B64_NOPAD, nopad);
        encode_check(p, n, REEF_B64_URL | REEF_B64_NOPAD, nopad);
        decode_check(nopad, REEF_B64_NOPAD, p, n);
        decode_check(nopad, REEF_B64_URL | REEF_B64_NOPAD, p, n);
    }
}

static void test_b64_alphabets(void)
{
    const unsigned char a[] = {0xfb, 0xff};
    encode_check(a, 2, REEF_B64_STD, "+/8=");
    encode_check(a, 2, REEF_B64_URL, "-_8=");
    encode_check(a, 2, REEF_B64_URL | REEF_B64_NOPAD, "-_8");
    const unsigned char f[] = {0xff, 0xff, 0xff, 0xfb, 0xef, 0xbe};
    encode_check(f, 6, REEF_B64_STD, "////++++");
    encode_check(f, 6, REEF_B64_URL, "____----");
    decode_check("////++++", REEF_B64_STD, f, 6);
    decode_check("____----", REEF_B64_URL, f, 6);

    /* Every byte value, every length 0..64, every variant. */
    unsigned char bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)(i * 7 + 3);
    for (int flags = 0; flags < 4; flags++) {
        for (size_t n = 0; n <= 64; n++) {
            struct reef_buf e = REEF_BUF_INIT, d = REEF_BUF_INIT;
            struct reef_err err = {0};
            CHECK_INT(reef_crypto_b64_encode(&e, bytes + n, n, flags), ==, 0);
            CHECK_OK(reef_crypto_b64_decode(&d, e.data, e.len, flags, &err), &err);
            CHECK_INT(d.len, ==, n);
            CHECK(n == 0 || memcmp(d.data, bytes + n, n) == 0);
            reef_buf_free(&e);
            reef_buf_free(&d);
        }
    }
    /* Appending keeps what was there. */
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_err err = {0};
    reef_buf_puts(&b, "x=");
    CHECK_INT(reef_crypto_b64_encode(&b, "foo", 3, REEF_B64_STD), ==, 0);
    CHECK_STR(b.data, "x=Zm9v");
    CHECK_OK(reef_crypto_b64_decode(&b, "YmFy", 4, REEF_B64_STD, &err), &err);
    CHECK_STR(b.data, "x=Zm9vbar");
    reef_buf_free(&b);
}

static void reject(const char *s, int flags, const char *msg_part)
{
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_err err = {0};
    reef_buf_puts(&b, "keep");
    int r = reef_crypto_b64_decode(&b, s, strlen(s), flags, &err);
    if (r != -EINVAL)
        TEST_FAIL("\"%s\" flags %d: got %d, want -EINVAL", s, flags, r);
    if (!strstr(err.msg, msg_part))
        TEST_FAIL("\"%s\": message \"%s\" lacks \"%s\"", s, err.msg, msg_part);
    CHECK_STR(b.data, "keep"); /* untouched on failure */
    CHECK_INT(b.len, ==, 4);
    reef_buf_free(&b);
}

static void test_b64_rejects(void)
{
    const int std = REEF_B64_STD, url = REEF_B64_URL, nopad = REEF_B64_NOPAD;
    /* Padded: length must be a multiple of 4. */
    reject("Zg", std, "not a multiple of 4");
    reject("Zg=", std, "not a multiple of 4");
    reject("Zm9vY", std, "not a multiple of 4");
    /* Padding in the wrong place or too much of it. */
    reject("Z===", std, "misplaced padding");
    reject("====", std, "misplaced padding");
    reject("Zg=A", std, "misplaced padding");
    reject("Zg==Zm9v", std, "misplaced padding");
    reject("=Zm9", std, "misplaced padding");
    /* Unpadded mode refuses '=' and impossible lengths. */
    reject("Zg==", nopad, "padding not allowed");
    reject("Zm8=", nopad, "padding not allowed");
    reject("Z", nopad, "impossible length");
    reject("Zm9vY", nopad, "impossible length");
    /* Characters outside the alphabet. */
    reject("Zm9v!A==", std, "invalid character");
    reject("Zm9\x80", std, "invalid character");
    reject("Zm 9", std, "whitespace");
    reject("Zm9v\nYm", nopad, "whitespace");
    reject("-_8=", std, "URL-safe character in standard input");
    reject("+/8=", url, "standard-alphabet character in URL-safe input");
    /* Non-canonical encodings: the unused bits of the last symbol are not zero. "Zh==" would
     * decode to "f" like "Zg==" in a lax decoder. */
    reject("Zh==", std, "non-zero trailing bits");
    reject("Zm9=", std, "non-zero trailing bits");
    reject("Zh", nopad, "non-zero trailing bits");
    reject("Zm9", nopad, "non-zero trailing bits");
    /* An embedded NUL is just another invalid character. */
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_INT(reef_crypto_b64_decode(&b, "Zm\0v", 4, std, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "offset 2") != NULL);
    reef_buf_free(&b);
}

static void test_random(void)
{
    struct reef_err err = {0};
    unsigned char a[64], b[64], zero[64] = {0};
    CHECK_OK(reef_crypto_random(a, sizeof(a), &err), &err);
    CHECK_OK(reef_crypto_random(b, sizeof(b), &err), &err);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    CHECK(memcmp(a, zero, sizeof(a)) != 0);
    CHECK_OK(reef_crypto_random(a, 0, &err), &err);

    /* A large request (older kernels cap one getrandom call at 32 MiB - 1): every byte value
     * should turn up, and none should dominate. */
    size_t big = 33u << 20;
    unsigned char *p = malloc(big);
    CHECK(p != NULL);
    memset(p, 0, big);
    CHECK_OK(reef_crypto_random(p, big, &err), &err);
    size_t counts[256] = {0};
    for (size_t i = 0; i < big; i++)
        counts[p[i]]++;
    for (int i = 0; i < 256; i++) {
        CHECK(counts[i] > big / 256 * 9 / 10);
        CHECK(counts[i] < big / 256 * 11 / 10);
    }
    free(p);
}

static void test_rng_callback(void)
{
    unsigned char a[48] = {0}, b[48] = {0}, zero[48] = {0};
    CHECK_INT(reef_crypto_rng(NULL, a, sizeof(a)), ==, 0);
    CHECK_INT(reef_crypto_rng(NULL, b, sizeof(b)), ==, 0);
    CHECK(memcmp(a, zero, sizeof(a)) != 0);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
    CHECK_INT(reef_crypto_rng(NULL, a, 0), ==, 0);
}

/* A getrandom that misbehaves in every way the kernel may: EINTR before anything was read, short
 * counts (a signal during a large read), then an outright error or ENOSYS after a set number of
 * calls. It fills with a counter so the test can see every byte was written exactly once. */
static int fake_calls, fake_fail_at, fake_fail_errno;
static unsigned char fake_next;

static ssize_t fake_getrandom(void *buf, size_t n, unsigned flags)
{
    (void)flags;
    fake_calls++;
    if (fake_fail_at && fake_calls >= fake_fail_at) {
        errno = fake_fail_errno;
        return -1;
    }
    if (fake_calls % 3 == 1) {
        errno = EINTR;
        return -1;
    }
    size_t k = n > 5 ? 5 : n; /* always short */
    unsigned char *p = buf;
    for (size_t i = 0; i < k; i++)
        p[i] = ++fake_next;
    return (ssize_t)k;
}

static void test_random_eintr_short_reads(void)
{
    reef__crypto_getrandom = fake_getrandom;
    unsigned char b[103];
    memset(b, 0, sizeof(b));
    struct reef_err err = {0};
    CHECK_OK(reef_crypto_random(b, sizeof(b), &err), &err);
    for (size_t i = 0; i < sizeof(b); i++)
        CHECK_INT(b[i], ==, (unsigned char)(i + 1));
    CHECK(fake_calls > 21 + 10); /* 21 short reads plus the EINTRs */

    /* The mbedtls callback and the token use the same loop. */
    fake_next = 0;
    CHECK_INT(reef_crypto_rng(NULL, b, 11), ==, 0);
    CHECK_INT(b[10], ==, 11);
    char tok[2 * 40 + 1];
    CHECK_OK(reef_crypto_token_hex(tok, 40, &err), &err);
    CHECK_INT(strlen(tok), ==, 80);
}

static void test_random_errors(void)
{
    reef__crypto_getrandom = fake_getrandom;
    struct reef_err err = {0};
    unsigned char b[64];
    fake_calls = 0;
    fake_fail_at = 4;
    fake_fail_errno = EFAULT;
    CHECK_INT(reef_crypto_random(b, sizeof(b), &err), ==, -EFAULT);
    CHECK(strstr(err.msg, "random") != NULL);
    fake_calls = 0;
    CHECK_INT(reef_crypto_rng(NULL, b, sizeof(b)), ==, MBEDTLS_ERR_ENTROPY_SOURCE_FAILED);
    fake_calls = 0;
    char tok[2 * 40 + 1];
    CHECK_INT(reef_crypto_token_hex(tok, 40, &err), ==, -EFAULT);

    /* No getrandom (old kernel, strict seccomp profile): /dev/urandom takes over mid-way. */
    fake_calls = 0;
    fake_fail_errno = ENOSYS;
    memset(b, 0, sizeof(b));
    CHECK_OK(reef_crypto_random(b, sizeof(b), &err), &err);
    size_t zeros = 0;
    for (size_t i = 5; i < sizeof(b); i++)
        zeros += b[i] == 0;
    CHECK(zeros < 8);
}

static void test_token_hex(void)
{
    struct reef_err err = {0};
    char a[65], b[65];
    CHECK_OK(reef_crypto_token_hex(a, 32, &err), &err);
    CHECK_OK(reef_crypto_token_hex(b, 32, &err), &err);
    CHECK_INT(strlen(a), ==, 64);
    CHECK_INT(strlen(b), ==, 64);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(strspn(a, "0123456789abcdef"), ==, 64);
    /* Longer than the internal chunk, and odd sizes. */
    char big[2 * 77 + 1];
    CHECK_OK(reef_crypto_token_hex(big, 77, &err), &err);
    CHECK_INT(strlen(big), ==, 154);
    CHECK_INT(strspn(big, "0123456789abcdef"), ==, 154);
    char empty[1] = {'x'};
    CHECK_OK(reef_crypto_token_hex(empty, 0, &err), &err);
    CHECK_STR(empty, "");
    /* Decodes back to the right number of bytes. */
    unsigned char raw[32];
    size_t n;
    CHECK_OK(reef_crypto_hex_decode(a, 64, raw, sizeof(raw), &n, &err), &err);
    CHECK_INT(n, ==, 32);
    /* 100 tokens of 16 bytes are all distinct. */
    char toks[100][33];
    for (int i = 0; i < 100; i++) {
        CHECK_OK(reef_crypto_token_hex(toks[i], 16, &err), &err);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(toks[i], toks[j]) != 0);
    }
}

static void test_equal(void)
{
    CHECK(reef_crypto_equal("abcdef", "abcdef", 6));
    CHECK(!reef_crypto_equal("abcdef", "abcdeg", 6));
    CHECK(!reef_crypto_equal("xbcdef", "abcdef", 6));
    CHECK(reef_crypto_equal("a", "b", 0));
    unsigned char x[32] = {0}, y[32] = {0};
    y[31] = 0x80;
    CHECK(!reef_crypto_equal(x, y, 32));
    CHECK(reef_crypto_str_equal("K10abc::server:s3cret", "K10abc::server:s3cret"));
    CHECK(!reef_crypto_str_equal("K10abc::server:s3cre", "K10abc::server:s3cret"));
    CHECK(!reef_crypto_str_equal("K10abc::server:s3crett", "K10abc::server:s3cret"));
    CHECK(!reef_crypto_str_equal("K10abc::server:s3creT", "K10abc::server:s3cret"));
    CHECK(!reef_crypto_str_equal("", "x"));
    CHECK(reef_crypto_str_equal("", ""));
    CHECK(!reef_crypto_str_equal(NULL, ""));
    CHECK(!reef_crypto_str_equal("", NULL));
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_sha256_vectors);
    TEST_RUN(test_sha256_million_a);
    TEST_RUN(test_sha256_file);
    TEST_RUN(test_hex);
    TEST_RUN(test_b64_rfc4648);
    TEST_RUN(test_b64_alphabets);
    TEST_RUN(test_b64_rejects);
    TEST_RUN(test_random);
    TEST_RUN(test_rng_callback);
    TEST_RUN(test_random_eintr_short_reads);
    TEST_RUN(test_random_errors);
    TEST_RUN(test_token_hex);
    TEST_RUN(test_equal);
    return test_done();
}
