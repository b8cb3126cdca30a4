/* pki: creating and loading the server's CA, certificates and tokens (docs/PKI.md). */
#include "orchestrate/pki.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/cleanup.h"
#include "core/crypto.h"
#include "core/log.h"

#define TOKEN_BYTES 16 /* 128 random bits, written as 32 hex digits */
#define TOKEN_MAX 256  /* longest token accepted from a file */
#define ADMIN_CN "system:admin"
#define ADMIN_ORG "system:masters"
#define SERVER_CN "kube-apiserver"

struct reef_pki {
    unsigned changes;
    char *ca_file, *ca_key_file, *server_cert_file, *server_key_file, *admin_cert_file,
        *admin_key_file, *token_file, *admin_token_file;
    char *ca_pem, *server_cert_pem, *server_key_pem, *admin_cert_pem, *admin_key_pem;
    struct reef_ca *ca;
    char *admin_token;
    char *join_secret;
    char *join_token;
    char ca_hash[REEF_SHA256_HEX_LEN + 1];
};

/* ---- small file helpers ---------------------------------------------------------------------- */

static void free_secret(char *s)
{
    if (s) {
        mbedtls_platform_zeroize(s, strlen(s));
        free(s);
    }
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* A secret readable by others was put there by hand or by an older tool: tighten it. */
static void tighten(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
        LOG_WARN("pki", "file readable by others, setting mode 0600 path=%s mode=%04o", path,
                 (unsigned)(st.st_mode & 07777));
        if (chmod(path, 0600) < 0)
            LOG_WARN("pki", "chmod failed path=%s errno=%d", path, errno);
    }
}

/* mkdir -p with mode for the directories it creates. */
static int mkdirs(const char *path, mode_t mode, struct reef_err *err)
{
    _cleanup_free_ char *p = strdup(path);
    if (!p)
        return reef_err_set(err, -ENOMEM, "mkdir %s: out of memory", path);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return reef_err_errno(err, -errno, "mkdir %s", p);
        *s = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return reef_err_errno(err, -errno, "stat %s", path);
    if (!S_ISDIR(st.st_mode))
        return reef_err_set(err, -ENOTDIR, "%s: not a directory", path);
    return 0;
}

/* ---- names ----------------------------------------------------------------------------------- */

/* The same rule core/cert applies: labels of letters, digits, '-' and '_', 1..63 bytes, at most
 * 253 in all, optionally "*." in front. Checked here first so that a bad host name is skipped and
 * a bad --tls-san is reported as such rather than as a failed issue. */
static bool dns_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253)
        return false;
    if (s[0] == '*' && s[1] == '.')
        s += 2;
    size_t label = 0;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63)
                return false;
            if (c == '\0')
                return true;
            label = 0;
        } else if (isalnum(c) || c == '-' || c == '_') {
            label++;
        } else {
            return false;
        }
    }
}

/* Canonical text of an IP literal (inet_ntop's spelling, which reef_cert_inspect also uses), or
 * false when s is not one. */
static bool ip_canon(const char *s, char out[INET6_ADDRSTRLEN])
{
    unsigned char a[16];
    if (inet_pton(AF_INET, s, a) == 1)
        return inet_ntop(AF_INET, a, out, INET6_ADDRSTRLEN) != NULL;
    if (inet_pton(AF_INET6, s, a) == 1)
        return inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN) != NULL;
    return false;
}

struct names {
    char *dns[REEF_CERT_MAX_NAMES];
    size_t n_dns;
    char *ips[REEF_CERT_MAX_NAMES];
    size_t n_ips;
};

static void names_free(struct names *n)
{
    for (size_t i = 0; i < n->n_dns; i++)
        free(n->dns[i]);
    for (size_t i = 0; i < n->n_ips; i++)
        free(n->ips[i]);
    n->n_dns = n->n_ips = 0;
}

static size_t names_total(const struct names *n)
{
    return n->n_dns + n->n_ips;
}

/* Adds a name (lower-cased DNS name or canonical IP). Returns 1 added, 0 already there, -E2BIG
 * when full, -ENOMEM. */
static int names_add(struct names *n, const char *name, bool ip)
{
    char **v = ip ? n->ips : n->dns;
    size_t *cnt = ip ? &n->n_ips : &n->n_dns;
    for (size_t i = 0; i < *cnt; i++)
        if (strcasecmp(v[i], name) == 0)
            return 0;
    if (names_total(n) >= REEF_CERT_MAX_NAMES)
        return -E2BIG;
    char *c = strdup(name);
    if (!c)
        return -ENOMEM;
    for (char *p = c; !ip && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    v[(*cnt)++] = c;
    return 1;
}

/* IPv4 127/8, IPv6 ::1 and fe80::/10 are not addresses anyone reaches the server by from
 * elsewhere (link-local needs a zone a URL cannot carry). */
static bool skip_addr(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) ||
               IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr);
    }
    return true;
}

static int add_interface_addrs(struct names *n, struct reef_err *err)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return reef_err_errno(err, -errno, "pki: list interface addresses");
    int r = 0;
    size_t dropped = 0;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
            skip_addr(i->ifa_addr))
            continue;
        char text[INET6_ADDRSTRLEN];
        const void *a = i->ifa_addr->sa_family == AF_INET
                            ? (const void *)&((const struct sockaddr_in *)i->ifa_addr)->sin_addr
                            : (const void *)&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
        if (!inet_ntop(i->ifa_addr->sa_family, a, text, sizeof(text)))
            continue;
        r = names_add(n, text, true);
        if (r == -E2BIG) {
            dropped++;
            r = 0;
        } else if (r < 0) {
            reef_err_set(err, r, "pki: out of memory");
            break;
        }
        r = 0;
    }
    freeifaddrs(ifs);
    if (dropped)
        LOG_WARN("pki", "too many names for the server certificate, addresses left out count=%zu",
                 dropped);
    return r;
}

/* Every name the serving certificate must carry. --tls-san values come before the interface
 * addresses so that they are never the ones dropped for lack of room. */
static int wanted_names(const struct reef_pki_opts *o, struct names *n, struct reef_err *err)
{
    static const char *const fixed_dns[] = {
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    };
    char host[256];
    const char *hostname = o->hostname;
    if (!hostname) {
        if (gethostname(host, sizeof(host)) < 0)
            return reef_err_errno(err, -errno, "pki: gethostname");
        host[sizeof(host) - 1] = '\0';
        hostname = host;
    }
    int r = 0;
    if (dns_name_ok(hostname) && hostname[0] != '*')
        r = names_add(n, hostname, false);
    else if (hostname[0])
        LOG_WARN("pki", "host name is not a DNS name, left out of the certificate name=%s",
                 hostname);
    for (size_t i = 0; r >= 0 && i < REEF_ARRAY_LEN(fixed_dns); i++)
        r = names_add(n, fixed_dns[i], false);
    char canon[INET6_ADDRSTRLEN];
    const char *svc = o->service_ip ? o->service_ip : REEF_PKI_SERVICE_IP;
    if (!ip_canon(svc, canon))
        return reef_err_set(err, -EINVAL, "pki: service IP \"%s\" is not an IP address", svc);
    const char *fixed_ips[] = {"127.0.0.1", "::1", canon};
    for (size_t i = 0; r >= 0 && i < REEF_ARRAY_LEN(fixed_ips); i++)
        r = names_add(n, fixed_ips[i], true);
    if (r < 0)
        return reef_err_set(err, r, "pki: out of memory");
    for (size_t i = 0; i < o->n_tls_sans; i++) {
        const char *s = o->tls_sans[i];
        if (!s || !*s)
            return reef_err_set(err, -EINVAL, "pki: --tls-san: empty name");
        bool ip = ip_canon(s, canon);
        if (!ip && !dns_name_ok(s))
            return reef_err_set(
                err, -EINVAL, "pki: --tls-san \"%.100s\": neither an IP address nor a DNS name", s);
        r = names_add(n, ip ? canon : s, ip);
        if (r == -E2BIG)
            return reef_err_set(err, r, "pki: --tls-san: more than %d names in all",
                                REEF_CERT_MAX_NAMES);
        if (r < 0)
            return reef_err_set(err, r, "pki: out of memory");
    }
    if (!o->addresses)
        return add_interface_addrs(n, err);
    for (size_t i = 0; i < o->n_addresses; i++) {
        if (!o->addresses[i] || !ip_canon(o->addresses[i], canon))
            return reef_err_set(err, -EINVAL, "pki: address \"%.100s\" is not an IP address",
                                o->addresses[i] ? o->addresses[i] : "(null)");
        r = names_add(n, canon, true);
        if (r == -E2BIG)
            LOG_WARN("pki", "too many names for the server certificate, left out addr=%s", canon);
        else if (r < 0)
            return reef_err_set(err, r, "pki: out of memory");
    }
    return 0;
}

/* ---- certificates ---------------------------------------------------------------------------- */

static int save_pem(const char *path, const char *pem, mode_t mode, struct reef_err *err)
{
    return reef_cert_write_file(path, pem, strlen(pem), mode, err);
}

static int load_or_create_ca(struct reef_pki *p, const struct reef_pki_opts *o, time_t now,
                             struct reef_err *err)
{
    bool have_crt = exists(p->ca_file), have_key = exists(p->ca_key_file);
    if (have_crt && !have_key)
        return reef_err_set(err, -EKEYREJECTED,
                            "pki: %s exists but its key %s does not; refusing to make a new CA "
                            "that nothing trusts",
                            p->ca_file, p->ca_key_file);
    if (have_crt) {
        size_t len;
        int r = reef_fs_read_string(p->ca_file, REEF_CERT_MAX_PEM, &p->ca_pem, &len, err);
        if (r < 0)
            return reef_err_wrap(err, "pki: load CA");
        _cleanup_free_ char *key = NULL;
        size_t key_len;
        tighten(p->ca_key_file);
        r = reef_fs_read_string(p->ca_key_file, REEF_CERT_MAX_PEM, &key, &key_len, err);
        if (r < 0)
            return reef_err_wrap(err, "pki: load CA");
        r = reef_cert_ca_from_pem(&p->ca, p->ca_pem, len, key, key_len, err);
        mbedtls_platform_zeroize(key, key_len);
        if (r < 0)
            return reef_err_wrap(err, "pki: load CA %s", p->ca_file);
        struct reef_cert_info info;
        if (reef_cert_inspect(reef_cert_ca_cert(p->ca), &info, NULL) == 0) {
            if (info.not_after - now <
                (time_t)(o->renew_days ? o->renew_days : REEF_PKI_RENEW_DAYS) * 86400)
                LOG_WARN("pki",
                         "the cluster CA expires soon and is not renewed automatically "
                         "path=%s not_after=%lld",
                         p->ca_file, (long long)info.not_after);
            reef_cert_info_free(&info);
        }
        return 0;
    }
    if (have_key)
        LOG_WARN("pki",
                 "CA key without certificate (an unfinished first start), making a new CA "
                 "path=%s",
                 p->ca_key_file);
    char cn[64];
    snprintf(cn, sizeof(cn), "reef-ca@%lld", (long long)now);
    int r = reef_cert_ca_create(cn, o->ca_days ? o->ca_days : REEF_PKI_CA_DAYS, now, &p->ca, err);
    if (r < 0)
        return reef_err_wrap(err, "pki: create CA");
    /* The key goes first: a crash before the certificate is written leaves the case above. */
    r = reef_cert_key_save(reef_cert_ca_key(p->ca), p->ca_key_file, err);
    if (r < 0)
        return reef_err_wrap(err, "pki: save CA key");
    r = reef_cert_to_pem(reef_cert_ca_cert(p->ca), &p->ca_pem, NULL, err);
    if (r < 0)
        return reef_err_wrap(err, "pki: CA");
    r = save_pem(p->ca_file, p->ca_pem, 0644, err);
    if (r < 0)
        return reef_err_wrap(err, "pki: save CA");
    p->changes |= REEF_PKI_NEW_CA;
    LOG_INFO("pki", "created the cluster CA path=%s cn=%s", p->ca_file, cn);
    return 0;
}

struct leaf {
    const char *what; /* "server certificate" */
    const char *crt_path, *key_path;
    const struct reef_cert_spec *spec;
    char **crt_pem, **key_pem;
};

static bool has_name(char *const *v, size_t n, const char *name, bool ip)
{
    char canon[INET6_ADDRSTRLEN];
    for (size_t i = 0; i < n; i++) {
        if (ip ? (ip_canon(v[i], canon) && strcmp(canon, name) == 0) : strcasecmp(v[i], name) == 0)
            return true;
    }
    return false;
}

/* Why the certificate on disk cannot be kept, into why[]; false when it can. */
static bool leaf_stale(const struct reef_pki *p, const struct leaf *l, time_t now, unsigned renew,
                       const char *crt_pem, size_t crt_len, const char *key_pem, size_t key_len,
                       char *why, size_t why_size)
{
    struct reef_err e = {0};
    struct reef_cert *crt = NULL;
    struct reef_key *key = NULL;
    struct reef_cert_info info;
    bool stale = true, have_info = false;
    if (reef_cert_from_pem(&crt, crt_pem, crt_len, &e) < 0 ||
        reef_cert_key_from_pem(&key, key_pem, key_len, &e) < 0) {
        snprintf(why, why_size, "unreadable: %s", e.msg);
        goto out;
    }
    if (mbedtls_pk_check_pair(&reef_cert_mbedtls(crt)->pk, reef_cert_key_mbedtls(key)) != 0) {
        snprintf(why, why_size, "%s is not the key of %s", l->key_path, l->crt_path);
        goto out;
    }
    int r = reef_cert_verify(crt, reef_cert_ca_cert(p->ca), l->spec->usage, &e);
    if (r < 0 && r != -EKEYEXPIRED) {
        snprintf(why, why_size, "%s", e.msg);
        goto out;
    }
    if (reef_cert_inspect(crt, &info, &e) < 0) {
        snprintf(why, why_size, "%s", e.msg);
        goto out;
    }
    have_info = true;
    if (info.not_after - now < (time_t)renew * 86400) {
        snprintf(why, why_size, "expires in %lld days",
                 (long long)((info.not_after - now) / 86400));
        goto out;
    }
    if (r == -EKEYEXPIRED || info.not_before > now) {
        snprintf(why, why_size, "not valid now");
        goto out;
    }
    if (!info.cn || strcmp(info.cn, l->spec->cn) != 0) {
        snprintf(why, why_size, "CN is not %s", l->spec->cn);
        goto out;
    }
    bool orgs_same = info.n_orgs == l->spec->n_orgs;
    for (size_t i = 0; orgs_same && i < info.n_orgs; i++)
        orgs_same = strcmp(info.orgs[i], l->spec->orgs[i]) == 0;
    if (!orgs_same) {
        snprintf(why, why_size, "organizations differ");
        goto out;
    }
    for (size_t i = 0; i < l->spec->n_dns; i++)
        if (!has_name(info.dns, info.n_dns, l->spec->dns[i], false)) {
            snprintf(why, why_size, "name %s is missing", l->spec->dns[i]);
            goto out;
        }
    for (size_t i = 0; i < l->spec->n_ips; i++)
        if (!has_name(info.ips, info.n_ips, l->spec->ips[i], true)) {
            snprintf(why, why_size, "address %s is missing", l->spec->ips[i]);
            goto out;
        }
    stale = false;
out:
    if (have_info)
        reef_cert_info_free(&info);
    reef_cert_free(crt);
    reef_cert_key_free(key);
    return stale;
}

static int leaf_issue(struct reef_pki *p, const struct leaf *l, struct reef_err *err)
{
    struct reef_key *key = NULL;
    struct reef_cert *crt = NULL;
    int r = reef_cert_key_generate(&key, err);
    if (r < 0)
        goto out;
    r = reef_cert_issue(p->ca, l->spec, key, &crt, err);
    if (r < 0)
        goto out;
    free_secret(*l->key_pem);
    free(*l->crt_pem);
    *l->key_pem = *l->crt_pem = NULL;
    r = reef_cert_key_to_pem(key, l->key_pem, err);
    if (r < 0)
        goto out;
    r = reef_cert_to_pem(crt, l->crt_pem, NULL, err);
    if (r < 0)
        goto out;
    /* Key first: a crash before the certificate lands leaves a pair that does not match, which
     * the next start notices and repairs. */
    r = save_pem(l->key_path, *l->key_pem, 0600, err);
    if (r < 0)
        goto out;
    r = save_pem(l->crt_path, *l->crt_pem, 0644, err);
out:
    reef_cert_key_free(key);
    reef_cert_free(crt);
    return r < 0 ? reef_err_wrap(err, "pki: issue %s", l->what) : 0;
}

/* Loads the certificate and key of l, issuing them again when they cannot be kept. Returns 1 when
 * issued, 0 when kept. */
static int leaf_ensure(struct reef_pki *p, const struct leaf *l, time_t now, unsigned renew,
                       struct reef_err *err)
{
    char why[REEF_ERR_MSG_MAX + 64] = "created";
    bool have = exists(l->crt_path) && exists(l->key_path);
    if (have) {
        size_t crt_len = 0, key_len = 0;
        struct reef_err e = {0};
        tighten(l->key_path);
        if (reef_fs_read_string(l->crt_path, REEF_CERT_MAX_PEM, l->crt_pem, &crt_len, &e) < 0 ||
            reef_fs_read_string(l->key_path, REEF_CERT_MAX_PEM, l->key_pem, &key_len, &e) < 0)
            snprintf(why, sizeof(why), "unreadable: %s", e.msg);
        else if (!leaf_stale(p, l, now, renew, *l->crt_pem, crt_len, *l->key_pem, key_len, why,
                             sizeof(why)))
            return 0;
    }
    int r = leaf_issue(p, l, err);
    if (r < 0)
        return r;
    if (have)
        LOG_INFO("pki", "issued the %s again path=%s reason=\"%s\"", l->what, l->crt_path, why);
    else
        LOG_INFO("pki", "issued the %s path=%s", l->what, l->crt_path);
    return 1;
}

/* ---- tokens ---------------------------------------------------------------------------------- */

static bool token_ok(const char *s, bool allow_colon)
{
    size_t n = strlen(s);
    if (n == 0 || n > TOKEN_MAX)
        return false;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || (*s == ':' && !allow_colon))
            return false;
    return true;
}

/* Reads a one-line token file: *out is the line without surrounding white space, or NULL when
 * the file does not exist. */
static int read_token(const char *path, char **out, struct reef_err *err)
{
    *out = NULL;
    size_t len;
    char *s = NULL;
    tighten(path);
    int r = reef_fs_read_string(path, REEF_PKI_MAX_FILE, &s, &len, err);
    if (r == -ENOENT) {
        reef_err_clear(err);
        return 0;
    }
    if (r < 0)
        return r;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    size_t skip = 0;
    while (skip < len && isspace((unsigned char)s[skip]))
        skip++;
    memmove(s, s + skip, len - skip + 1);
    *out = s;
    return 0;
}

static int write_token(const char *path, const char *tok, struct reef_err *err)
{
    struct reef_buf b = REEF_BUF_INIT;
    if (reef_buf_printf(&b, "%s\n", tok) < 0)
        return reef_err_set(err, -ENOMEM, "pki: out of memory");
    int r = reef_cert_write_file(path, b.data, b.len, 0600, err);
    mbedtls_platform_zeroize(b.data, b.len);
    reef_buf_free(&b);
    return r;
}

static int new_secret(char **out, struct reef_err *err)
{
    *out = malloc(TOKEN_BYTES * 2 + 1);
    if (!*out)
        return reef_err_set(err, -ENOMEM, "pki: out of memory");
    return reef_crypto_token_hex(*out, TOKEN_BYTES, err);
}

static int ensure_admin_token(struct reef_pki *p, struct reef_err *err)
{
    int r = read_token(p->admin_token_file, &p->admin_token, err);
    if (r < 0)
        return reef_err_wrap(err, "pki: admin token");
    if (p->admin_token) {
        if (!token_ok(p->admin_token, true))
            return reef_err_set(err, -EINVAL,
                                "pki: %s: not a token (1 to %d printable characters without "
                                "spaces)",
                                p->admin_token_file, TOKEN_MAX);
        return 0;
    }
    r = new_secret(&p->admin_token, err);
    if (r >= 0)
        r = write_token(p->admin_token_file, p->admin_token, err);
    if (r < 0)
        return reef_err_wrap(err, "pki: admin token");
    p->changes |= REEF_PKI_NEW_ADMIN_TOKEN;
    LOG_INFO("pki", "created the admin token path=%s", p->admin_token_file);
    return 0;
}

static void free_secretp(char **s)
{
    free_secret(*s);
}

static int ensure_join_token(struct reef_pki *p, struct reef_err *err)
{
    __attribute__((cleanup(free_secretp))) char *line = NULL;
    int r = read_token(p->token_file, &line, err);
    if (r < 0)
        return reef_err_wrap(err, "pki: join token");
    if (!line) {
        r = new_secret(&p->join_secret, err);
        if (r < 0)
            return reef_err_wrap(err, "pki: join token");
    } else {
        const char *secret = line;
        bool other_ca = false;
        if (reef_str_has_prefix(line, "K10")) {
            const char *sep = strstr(line, "::");
            if (!sep || !reef_str_has_prefix(sep + 2, "server:"))
                return reef_err_set(err, -EINVAL,
                                    "pki: %s: a K10 token must read K10<ca hash>::server:<secret>",
                                    p->token_file);
            secret = sep + 2 + strlen("server:");
            size_t hash_len = (size_t)(sep - (line + 3));
            other_ca = hash_len != REEF_SHA256_HEX_LEN ||
                       strncmp(line + 3, p->ca_hash, REEF_SHA256_HEX_LEN) != 0;
        }
        if (!token_ok(secret, false))
            return reef_err_set(err, -EINVAL,
                                "pki: %s: the secret must be 1 to %d printable characters "
                                "without spaces or ':'",
                                p->token_file, TOKEN_MAX);
        if (other_ca)
            LOG_WARN("pki", "join token pins another CA, rewriting it for this one path=%s",
                     p->token_file);
        p->join_secret = strdup(secret);
        if (!p->join_secret)
            return reef_err_set(err, -ENOMEM, "pki: out of memory");
    }
    if (asprintf(&p->join_token, "K10%s::server:%s", p->ca_hash, p->join_secret) < 0) {
        p->join_token = NULL;
        return reef_err_set(err, -ENOMEM, "pki: out of memory");
    }
    /* Kept as it is only when it already is the full form for this CA; a bare secret (as an
     * operator pre-seeds it, k3s-style) or another CA's hash is rewritten. */
    if (line && strcmp(line, p->join_token) == 0)
        return 0;
    r = write_token(p->token_file, p->join_token, err);
    if (r < 0)
        return reef_err_wrap(err, "pki: join token");
    p->changes |= REEF_PKI_NEW_JOIN_TOKEN;
    LOG_INFO("pki", "wrote the join token path=%s", p->token_file);
    return 0;
}

/* ---- the whole ------------------------------------------------------------------------------- */

void reef_pki_free(struct reef_pki *p)
{
    if (!p)
        return;
    free(p->ca_file);
    free(p->ca_key_file);
    free(p->server_cert_file);
    free(p->server_key_file);
    free(p->admin_cert_file);
    free(p->admin_key_file);
    free(p->token_file);
    free(p->admin_token_file);
    free(p->ca_pem);
    free(p->server_cert_pem);
    free_secret(p->server_key_pem);
    free(p->admin_cert_pem);
    free_secret(p->admin_key_pem);
    reef_cert_ca_free(p->ca);
    free_secret(p->admin_token);
    free_secret(p->join_secret);
    free_secret(p->join_token);
    free(p);
}

static int set_paths(struct reef_pki *p, const char *data_dir, struct reef_err *err)
{
    struct {
        char **dst;
        const char *name;
    } files[] = {
        {&p->ca_file, "tls/ca.crt"},
        {&p->ca_key_file, "tls/ca.key"},
        {&p->server_cert_file, "tls/server.crt"},
        {&p->server_key_file, "tls/server.key"},
        {&p->admin_cert_file, "tls/admin.crt"},
        {&p->admin_key_file, "tls/admin.key"},
        {&p->token_file, "token"},
        {&p->admin_token_file, "admin-token"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(files); i++)
        if (asprintf(files[i].dst, "%s/server/%s", data_dir, files[i].name) < 0) {
            *files[i].dst = NULL;
            return reef_err_set(err, -ENOMEM, "pki: out of memory");
        }
    return 0;
}

static int ensure(struct reef_pki *p, const struct reef_pki_opts *o, struct reef_err *err)
{
    time_t now = o->now ? o->now : time(NULL);
    unsigned renew = o->renew_days ? o->renew_days : REEF_PKI_RENEW_DAYS;
    unsigned days = o->cert_days ? o->cert_days : REEF_PKI_CERT_DAYS;
    int r = set_paths(p, o->data_dir, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *tls_dir = NULL;
    if (asprintf(&tls_dir, "%s/server/tls", o->data_dir) < 0) {
        tls_dir = NULL;
        return reef_err_set(err, -ENOMEM, "pki: out of memory");
    }
    r = mkdirs(tls_dir, 0700, err);
    if (r < 0)
        return reef_err_wrap(err, "pki");
    r = load_or_create_ca(p, o, now, err);
    if (r < 0)
        return r;
    reef_cert_pem_hash(p->ca_pem, strlen(p->ca_pem), p->ca_hash);

    struct names n = {0};
    r = wanted_names(o, &n, err);
    if (r < 0) {
        names_free(&n);
        return r;
    }
    struct reef_cert_spec server = {
        .cn = SERVER_CN,
        .dns = (const char *const *)n.dns,
        .n_dns = n.n_dns,
        .ips = (const char *const *)n.ips,
        .n_ips = n.n_ips,
        .usage = REEF_CERT_SERVER,
        .days = days,
        .now = now,
    };
    struct leaf ls = {"server certificate", p->server_cert_file, p->server_key_file, &server,
                      &p->server_cert_pem,  &p->server_key_pem};
    r = leaf_ensure(p, &ls, now, renew, err);
    names_free(&n);
    if (r < 0)
        return r;
    if (r > 0)
        p->changes |= REEF_PKI_NEW_SERVER;

    static const char *const admin_orgs[] = {ADMIN_ORG};
    struct reef_cert_spec admin = {
        .cn = ADMIN_CN,
        .orgs = admin_orgs,
        .n_orgs = 1,
        .usage = REEF_CERT_CLIENT,
        .days = days,
        .now = now,
    };
    struct leaf la = {"admin certificate", p->admin_cert_file, p->admin_key_file, &admin,
                      &p->admin_cert_pem,  &p->admin_key_pem};
    r = leaf_ensure(p, &la, now, renew, err);
    if (r < 0)
        return r;
    if (r > 0)
        p->changes |= REEF_PKI_NEW_ADMIN;

    r = ensure_admin_token(p, err);
    if (r < 0)
        return r;
    return ensure_join_token(p, err);
}

int reef_pki_ensure(const struct reef_pki_opts *o, struct reef_pki **out, struct reef_err *err)
{
    *out = NULL;
    if (!o || !o->data_dir || !o->data_dir[0])
        return reef_err_set(err, -EINVAL, "pki: no data directory");
    if (o->n_tls_sans && !o->tls_sans)
        return reef_err_set(err, -EINVAL, "pki: --tls-san list missing");
    struct reef_pki *p = calloc(1, sizeof(*p));
    if (!p)
        return reef_err_set(err, -ENOMEM, "pki: out of memory");
    int r = ensure(p, o, err);
    if (r < 0) {
        reef_pki_free(p);
        return r;
    }
    *out = p;
    return 0;
}

unsigned reef_pki_changes(const struct reef_pki *p)
{
    return p->changes;
}

const char *reef_pki_ca_file(const struct reef_pki *p)
{
    return p->ca_file;
}

const char *reef_pki_server_cert_file(const struct reef_pki *p)
{
    return p->server_cert_file;
}

const char *reef_pki_server_key_file(const struct reef_pki *p)
{
    return p->server_key_file;
}

const char *reef_pki_admin_cert_file(const struct reef_pki *p)
{
    return p->admin_cert_file;
}

const char *reef_pki_admin_key_file(const struct reef_pki *p)
{
    return p->admin_key_file;
}

const char *reef_pki_ca_pem(const struct reef_pki *p)
{
    return p->ca_pem;
}

const char *reef_pki_server_cert_pem(const struct reef_pki *p)
{
    return p->server_cert_pem;
}

const char *reef_pki_server_key_pem(const struct reef_pki *p)
{
    return p->server_key_pem;
}

const char *reef_pki_admin_cert_pem(const struct reef_pki *p)
{
    return p->admin_cert_pem;
}

const char *reef_pki_admin_key_pem(const struct reef_pki *p)
{
    return p->admin_key_pem;
}

const struct reef_ca *reef_pki_ca(const struct reef_pki *p)
{
    return p->ca;
}

void reef_pki_tls_server_opts(const struct reef_pki *p, struct reef_tls_server_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cert_pem = p->server_cert_pem;
    o->key_pem = p->server_key_pem;
    o->client_ca_pem = p->ca_pem;
}

const char *reef_pki_admin_token(const struct reef_pki *p)
{
    return p->admin_token;
}

const char *reef_pki_join_token(const struct reef_pki *p)
{
    return p->join_token;
}

const char *reef_pki_ca_hash(const struct reef_pki *p)
{
    return p->ca_hash;
}

bool reef_pki_check_token(const struct reef_pki *p, const char *presented)
{
    return reef_crypto_str_equal(presented, p->admin_token);
}

bool reef_pki_check_join_token(const struct reef_pki *p, const char *presented)
{
    if (!presented)
        return false;
    /* Which form was presented is not secret; only the comparison must not leak. */
    if (reef_str_has_prefix(presented, "K10"))
        return reef_crypto_str_equal(presented, p->join_token);
    return reef_crypto_str_equal(presented, p->join_secret);
}
