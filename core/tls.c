#include "core/tls.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/aesni.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

struct reef_tls_config {
    int refs;
    bool server;
    bool has_ca, has_own;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt own_cert;
    mbedtls_pk_context own_key;
    mbedtls_x509_crt ca;
};

struct reef_tls {
    struct reef_tls_config *cfg;
    mbedtls_ssl_context ssl;
    struct reef_buf in; /* ciphertext fed and not yet consumed, from in_off */
    size_t in_off;
    struct reef_buf out;
    bool done;
    int failed; /* the first fatal error; the session stays failed */
    /* client: the address the caller connected to, when it is one (checked against IP SANs) */
    uint8_t ip[16];
    size_t ip_len;
    bool ip_matched;
    /* server: the verified peer */
    bool verified;
    char cn[256];
    struct reef_buf orgs; /* NUL-separated O values */
    size_t norgs;
};

/* ALPN: reef speaks HTTP/1.1 only, so h2 is never offered or accepted (kubectl falls back). */
static const char *alpn_list[] = {"http/1.1", NULL};

/* The RNG for every mbedtls operation: the kernel's CSPRNG, so there is no entropy/DRBG state to
 * seed, share or reseed across forks. */
static int tls_rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    while (len > 0) {
        ssize_t n = getrandom(out, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
        }
        out += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The one place mbedtls codes become reef errors. */
static int tls_errmsg(struct reef_err *err, int ret, uint32_t vflags, const char *what)
{
    int code = ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : -EPROTO;
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        char info[200] = "";
        if (vflags) {
            mbedtls_x509_crt_verify_info(info, sizeof(info), "", vflags);
            /* one line: the list comes back newline-separated */
            size_t n = strlen(info);
            while (n > 0 && info[n - 1] == '\n')
                info[--n] = '\0';
            for (char *p = info; *p; p++)
                if (*p == '\n')
                    *p = ';';
        }
        return reef_err_set(err, code, "tls: %s: certificate verify failed: %s", what,
                            info[0] ? info : "unknown reason");
    }
    char buf[160];
    mbedtls_strerror(ret, buf, sizeof(buf));
    return reef_err_set(err, code, "tls: %s: %s (-0x%04x)", what, buf, (unsigned)-ret);
}

static void config_free(struct reef_tls_config *c)
{
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->own_cert);
    mbedtls_pk_free(&c->own_key);
    mbedtls_x509_crt_free(&c->ca);
    free(c);
}

/* Preference orders, built once: mbedtls's own lists with the cheap choices moved to the front.
 * Key exchange: X25519, then P-256 (mbedtls puts P-521 first, which costs a reef client ~10x
 * more per handshake). Record cipher: AES-GCM where the CPU has AES instructions mbedtls uses
 * (AES-NI), ChaCha20-Poly1305 elsewhere (a Raspberry Pi's mbedtls does AES in software).
 * Everything else mbedtls supports stays allowed, after these. */
static mbedtls_ecp_group_id curve_order[32];
static int suite_order[256];

/* out (cap entries, 0-terminated): the entries of first that all (0-terminated) has, in first's
 * order, then the rest of all in its own order. */
static void prefer(int *out, size_t cap, const int *first, size_t nfirst, const int *all)
{
    size_t n = 0;
    for (size_t i = 0; i < nfirst; i++)
        for (const int *a = all; *a && n + 1 < cap; a++)
            if (*a == first[i])
                out[n++] = *a;
    for (const int *a = all; *a && n + 1 < cap; a++) {
        bool seen = false;
        for (size_t i = 0; i < n; i++)
            seen |= out[i] == *a;
        if (!seen)
            out[n++] = *a;
    }
    out[n] = 0;
}

static void build_orders(void)
{
    /* the curve ids are an enum: ordered as ints, 0 (MBEDTLS_ECP_DP_NONE) ending the list */
    static const int first_curves[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                       MBEDTLS_ECP_DP_SECP384R1};
    int all[REEF_ARRAY_LEN(curve_order)], ordered[REEF_ARRAY_LEN(curve_order)];
    size_t n = 0;
    for (const mbedtls_ecp_group_id *g = mbedtls_ecp_grp_id_list();
         *g != MBEDTLS_ECP_DP_NONE && n + 1 < REEF_ARRAY_LEN(all); g++)
        all[n++] = (int)*g;
    all[n] = 0;
    prefer(ordered, REEF_ARRAY_LEN(ordered), first_curves, REEF_ARRAY_LEN(first_curves), all);
    for (size_t i = 0; i < REEF_ARRAY_LEN(ordered); i++)
        if ((curve_order[i] = (mbedtls_ecp_group_id)ordered[i]) == MBEDTLS_ECP_DP_NONE)
            break;

    static const int aes_first[] = {
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    };
    static const int chacha_first[] = {
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    };
    bool aesni = false;
#if defined(MBEDTLS_AESNI_C) && defined(MBEDTLS_HAVE_X86_64)
    aesni = mbedtls_aesni_has_support(MBEDTLS_AESNI_AES) &&
            mbedtls_aesni_has_support(MBEDTLS_AESNI_CLMUL);
#endif
    prefer(suite_order, REEF_ARRAY_LEN(suite_order), aesni ? aes_first : chacha_first,
           REEF_ARRAY_LEN(aes_first), mbedtls_ssl_list_ciphersuites());
}

static struct reef_tls_config *config_alloc(bool server, struct reef_err *err)
{
    struct reef_tls_config *c = calloc(1, sizeof(*c));
    if (!c) {
        reef_err_set(err, -ENOMEM, "tls: out of memory");
        return NULL;
    }
    c->refs = 1;
    c->server = server;
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->own_cert);
    mbedtls_pk_init(&c->own_key);
    mbedtls_x509_crt_init(&c->ca);
    int ret = mbedtls_ssl_config_defaults(&c->conf,
                                          server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) {
        tls_errmsg(err, ret, 0, "config");
        config_free(c);
        return NULL;
    }
    mbedtls_ssl_conf_rng(&c->conf, tls_rng, NULL);
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_orders);
    mbedtls_ssl_conf_curves(&c->conf, curve_order);
    mbedtls_ssl_conf_ciphersuites(&c->conf, suite_order);
    mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 MBEDTLS_SSL_MINOR_VERSION_3);
    ret = mbedtls_ssl_conf_alpn_protocols(&c->conf, alpn_list);
    if (ret != 0) {
        tls_errmsg(err, ret, 0, "config alpn");
        config_free(c);
        return NULL;
    }
    return c;
}

static int load_certs(mbedtls_x509_crt *crt, const char *pem, const char *file, const char *what,
                      struct reef_err *err)
{
    int ret;
    if (pem)
        ret = mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1);
    else
        ret = mbedtls_x509_crt_parse_file(crt, file);
    /* A positive result counts certificates that failed to parse in a bundle: the system bundle
     * may carry some mbedtls does not understand, which is fine as long as others loaded. */
    if (ret < 0 || crt->version == 0) {
        if (ret >= 0)
            ret = MBEDTLS_ERR_X509_INVALID_FORMAT;
        tls_errmsg(err, ret, 0, "parse");
        return reef_err_wrap(err, "%s %s", what, pem ? "(PEM)" : file);
    }
    return 0;
}

static int load_own(struct reef_tls_config *c, const char *cert_pem, const char *cert_file,
                    const char *key_pem, const char *key_file, struct reef_err *err)
{
    int ret = load_certs(&c->own_cert, cert_pem, cert_file, "certificate", err);
    if (ret < 0)
        return ret;
    if (key_pem)
        ret = mbedtls_pk_parse_key(&c->own_key, (const unsigned char *)key_pem, strlen(key_pem) + 1,
                                   NULL, 0);
    else if (key_file)
        ret = mbedtls_pk_parse_keyfile(&c->own_key, key_file, NULL);
    else
        return reef_err_set(err, -EINVAL, "tls: a certificate needs its private key");
    if (ret != 0) {
        tls_errmsg(err, ret, 0, "parse");
        return reef_err_wrap(err, "private key %s", key_pem ? "(PEM)" : key_file);
    }
    ret = mbedtls_pk_check_pair(&c->own_cert.pk, &c->own_key);
    if (ret != 0) {
        tls_errmsg(err, ret, 0, "key");
        return reef_err_wrap(err, "private key does not match certificate");
    }
    ret = mbedtls_ssl_conf_own_cert(&c->conf, &c->own_cert, &c->own_key);
    if (ret != 0)
        return tls_errmsg(err, ret, 0, "config own certificate");
    c->has_own = true;
    return 0;
}

struct reef_tls_config *reef_tls_config_server_new(const struct reef_tls_server_opts *o,
                                                   struct reef_err *err)
{
    if (!(o->cert_pem || o->cert_file)) {
        reef_err_set(err, -EINVAL, "tls: a server needs a certificate");
        return NULL;
    }
    struct reef_tls_config *c = config_alloc(true, err);
    if (!c)
        return NULL;
    if (load_own(c, o->cert_pem, o->cert_file, o->key_pem, o->key_file, err) < 0)
        goto fail;
    if (o->client_ca_pem || o->client_ca_file) {
        if (load_certs(&c->ca, o->client_ca_pem, o->client_ca_file, "client CA", err) < 0)
            goto fail;
        mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
        /* Ask for a certificate, verify it when given, but let the request through without one:
         * the HTTP layer then authenticates by token instead. */
        mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
        c->has_ca = true;
    } else {
        mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
    }
    return c;
fail:
    config_free(c);
    return NULL;
}

struct reef_tls_config *reef_tls_config_client_new(const struct reef_tls_client_opts *o,
                                                   struct reef_err *err)
{
    struct reef_tls_config *c = config_alloc(false, err);
    if (!c)
        return NULL;
    if (o->insecure_skip_verify) {
        mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
    } else {
        const char *ca_file = o->ca_file ? o->ca_file : REEF_TLS_SYSTEM_CA_FILE;
        if (load_certs(&c->ca, o->ca_pem, o->ca_pem ? NULL : ca_file, "CA", err) < 0)
            goto fail;
        c->has_ca = true;
        mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
        mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    }
    if (o->cert_pem || o->cert_file) {
        if (load_own(c, o->cert_pem, o->cert_file, o->key_pem, o->key_file, err) < 0)
            goto fail;
    }
    return c;
fail:
    config_free(c);
    return NULL;
}

struct reef_tls_config *reef_tls_config_ref(struct reef_tls_config *c)
{
    c->refs++;
    return c;
}

void reef_tls_config_unref(struct reef_tls_config *c)
{
    if (c && --c->refs == 0)
        config_free(c);
}

bool reef_tls_config_is_server(const struct reef_tls_config *c)
{
    return c->server;
}

/* BIO callbacks: the session's buffers stand in for the socket. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct reef_tls *t = ctx;
    if (reef_buf_append(&t->out, buf, len) < 0)
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct reef_tls *t = ctx;
    size_t avail = t->in.len - t->in_off;
    if (avail == 0)
        return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = len < avail ? len : avail;
    memcpy(buf, t->in.data + t->in_off, n);
    t->in_off += n;
    if (t->in_off == t->in.len) {
        reef_buf_reset(&t->in);
        t->in_off = 0;
    }
    return (int)n;
}

/* mbedtls 2.28 matches the host name against DNS SANs and the CN only, so a server reached by
 * address is checked here against its iPAddress SANs (raw 4 or 16 bytes, context tag 7). */
static int verify_ip(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct reef_tls *t = ctx;
    if (depth != 0)
        return 0;
    bool ok = false;
    if (crt->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME) {
        for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s; s = s->next) {
            if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && s->buf.len == t->ip_len &&
                memcmp(s->buf.p, t->ip, t->ip_len) == 0)
                ok = true;
        }
    }
    if (!ok)
        *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    t->ip_matched = ok;
    return 0;
}

struct reef_tls *reef_tls_new(struct reef_tls_config *cfg, const char *host, struct reef_err *err)
{
    struct reef_tls *t = calloc(1, sizeof(*t));
    if (!t) {
        reef_err_set(err, -ENOMEM, "tls: out of memory");
        return NULL;
    }
    mbedtls_ssl_init(&t->ssl);
    t->cfg = reef_tls_config_ref(cfg);
    int ret = mbedtls_ssl_setup(&t->ssl, &cfg->conf);
    if (ret != 0) {
        tls_errmsg(err, ret, 0, "setup");
        reef_tls_free(t);
        return NULL;
    }
    if (!cfg->server) {
        if (!host || !*host) {
            reef_err_set(err, -EINVAL, "tls: a client session needs the server's host name");
            reef_tls_free(t);
            return NULL;
        }
        struct in6_addr a6;
        if (inet_pton(AF_INET, host, t->ip) == 1) {
            t->ip_len = 4;
        } else if (inet_pton(AF_INET6, host, &a6) == 1) {
            memcpy(t->ip, &a6, 16);
            t->ip_len = 16;
        }
        if (t->ip_len) {
            /* no SNI for addresses (RFC 6066 section 3) */
            mbedtls_ssl_set_verify(&t->ssl, verify_ip, t);
        } else {
            ret = mbedtls_ssl_set_hostname(&t->ssl, host);
            if (ret != 0) {
                tls_errmsg(err, ret, 0, "set host name");
                reef_tls_free(t);
                return NULL;
            }
        }
    }
    mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
    return t;
}

void reef_tls_free(struct reef_tls *t)
{
    if (!t)
        return;
    mbedtls_ssl_free(&t->ssl);
    reef_buf_free(&t->in);
    reef_buf_free(&t->out);
    reef_buf_free(&t->orgs);
    reef_tls_config_unref(t->cfg);
    free(t);
}

int reef_tls_feed(struct reef_tls *t, const void *data, size_t len)
{
    if (t->in_off > 0 && t->in_off == t->in.len) {
        reef_buf_reset(&t->in);
        t->in_off = 0;
    }
    return reef_buf_append(&t->in, data, len);
}

/* Copies an X.509 string value, dropping bytes that have no place in an identity (controls,
 * NULs), so the HTTP layer can log and compare it as a C string. */
static void copy_name(char *dst, size_t cap, const mbedtls_x509_buf *v)
{
    size_t j = 0;
    for (size_t i = 0; i < v->len && j + 1 < cap; i++)
        if (v->p[i] >= 0x20 && v->p[i] != 0x7f)
            dst[j++] = (char)v->p[i];
    dst[j] = '\0';
}

static void take_peer_identity(struct reef_tls *t)
{
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
    if (!t->cfg->has_ca || !peer || mbedtls_ssl_get_verify_result(&t->ssl) != 0)
        return;
    t->verified = true;
    for (const mbedtls_x509_name *n = &peer->subject; n; n = n->next) {
        if (n->oid.p == NULL)
            continue;
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0) {
            copy_name(t->cn, sizeof(t->cn), &n->val);
        } else if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_ORGANIZATION, &n->oid) == 0 &&
                   t->norgs < REEF_TLS_MAX_ORGS) {
            char o[256];
            copy_name(o, sizeof(o), &n->val);
            if (reef_buf_append(&t->orgs, o, strlen(o) + 1) == 0)
                t->norgs++;
        }
    }
}

int reef_tls_handshake(struct reef_tls *t, struct reef_err *err)
{
    if (t->failed)
        return reef_err_set(err, t->failed, "tls: session failed earlier");
    if (t->done)
        return 1;
    int ret = mbedtls_ssl_handshake(&t->ssl);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    if (ret != 0) {
        uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
        if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && t->ip_len && !t->ip_matched)
            flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
        t->failed = tls_errmsg(err, ret, flags == (uint32_t)-1 ? 0 : flags, "handshake");
        return t->failed;
    }
    t->done = true;
    if (t->cfg->server)
        take_peer_identity(t);
    return 1;
}

bool reef_tls_handshake_done(const struct reef_tls *t)
{
    return t->done;
}

ssize_t reef_tls_read(struct reef_tls *t, void *out, size_t cap, struct reef_err *err)
{
    if (!t->done) {
        int hs = reef_tls_handshake(t, err);
        if (hs < 0)
            return hs;
        if (hs == 0)
            return -EAGAIN;
    }
    if (t->failed)
        return reef_err_set(err, t->failed, "tls: session failed earlier");
    int ret = mbedtls_ssl_read(&t->ssl, out, cap);
    if (ret > 0)
        return ret;
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return -EAGAIN;
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
        return 0;
    t->failed = tls_errmsg(err, ret, 0, "read");
    return t->failed;
}

int reef_tls_write(struct reef_tls *t, const void *data, size_t len, struct reef_err *err)
{
    if (t->failed)
        return reef_err_set(err, t->failed, "tls: session failed earlier");
    if (!t->done)
        return reef_err_set(err, -EAGAIN, "tls: write before the handshake completed");
    const unsigned char *p = data;
    while (len > 0) {
        /* The memory BIO always accepts, so anything but progress is an error. */
        int ret = mbedtls_ssl_write(&t->ssl, p, len);
        if (ret <= 0) {
            if (ret == 0)
                ret = MBEDTLS_ERR_SSL_INTERNAL_ERROR;
            t->failed = tls_errmsg(err, ret, 0, "write");
            return t->failed;
        }
        p += ret;
        len -= (size_t)ret;
    }
    return 0;
}

void reef_tls_close_notify(struct reef_tls *t)
{
    if (t->done && !t->failed)
        (void)mbedtls_ssl_close_notify(&t->ssl);
}

struct reef_buf *reef_tls_out(struct reef_tls *t)
{
    return &t->out;
}

bool reef_tls_peer_verified(const struct reef_tls *t)
{
    return t->verified;
}

const char *reef_tls_peer_cn(const struct reef_tls *t)
{
    return t->cn;
}

const char *reef_tls_peer_o(const struct reef_tls *t, size_t i)
{
    if (i >= t->norgs)
        return NULL;
    const char *p = t->orgs.data;
    while (i-- > 0)
        p += strlen(p) + 1;
    return p;
}

const char *reef_tls_alpn(const struct reef_tls *t)
{
    return mbedtls_ssl_get_alpn_protocol(&t->ssl);
}
