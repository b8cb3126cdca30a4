#include "runtime/image_ref.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | "__" | "-"+ */
static bool component_valid(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n;) {
        if (is_lower_alnum(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        if (s[i] == '_' || s[i] == '.') {
            j++;
            if (s[i] == '_' && j < n && s[j] == '_')
                j++;
        } else if (s[i] == '-') {
            while (j < n && s[j] == '-')
                j++;
        } else {
            return false;
        }
        if (j >= n || !is_lower_alnum(s[j]))
            return false;
        i = j;
    }
    return true;
}

/* domain := host [":" port]; host is DNS labels separated by '.', or a bracketed IPv6 address. */
static bool domain_valid(const char *s, size_t n)
{
    size_t hostlen = n;
    const char *colon = NULL;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return false;
        for (const char *p = s + 1; p < close; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return false;
        hostlen = (size_t)(close - s) + 1;
        if (hostlen < n && s[hostlen] != ':')
            return false;
        colon = hostlen < n ? s + hostlen : NULL;
    } else {
        colon = memchr(s, ':', n);
        if (colon)
            hostlen = (size_t)(colon - s);
        if (hostlen == 0)
            return false;
        size_t label = 0;
        for (size_t i = 0; i < hostlen; i++) {
            char c = s[i];
            if (c == '.') {
                if (label == 0 || s[i - 1] == '-')
                    return false;
                label = 0;
            } else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
                label++;
            } else {
                return false;
            }
        }
        if (label == 0 || s[hostlen - 1] == '-')
            return false;
    }
    if (colon) {
        size_t plen = n - (size_t)(colon - s) - 1;
        if (plen == 0 || plen > 5)
            return false;
        for (size_t i = 0; i < plen; i++)
            if (!isdigit((unsigned char)colon[1 + i]))
                return false;
    }
    return true;
}

static bool tag_valid(const char *s, size_t n)
{
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool word = isalnum((unsigned char)c) || c == '_';
        if (!(word || (i > 0 && (c == '.' || c == '-'))))
            return false;
    }
    return true;
}

bool reef_image_digest_valid(const char *d)
{
    const char *colon = strchr(d, ':');
    if (!colon || colon == d)
        return false;
    for (const char *p = d; p < colon; p++)
        if (!(is_lower_alnum(*p) || *p == '+' || *p == '.' || *p == '_' || *p == '-'))
            return false;
    const char *hex = colon + 1;
    size_t n = strlen(hex);
    if ((size_t)(colon - d) == 6 && memcmp(d, "sha256", 6) == 0 && n != 64)
        return false;
    if ((size_t)(colon - d) == 6 && memcmp(d, "sha512", 6) == 0 && n != 128)
        return false;
    if (n < 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)hex[i]) && !(hex[i] >= 'a' && hex[i] <= 'f'))
            return false;
    return true;
}

static int bad(struct reef_err *err, const char *s, const char *why)
{
    return reef_err_set(err, -EINVAL, "invalid reference \"%.100s\": %s", s, why);
}

int reef_image_ref_parse(const char *s, struct reef_image_ref *out, struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    size_t len = strlen(s);
    if (len == 0)
        return bad(err, s, "empty");
    /* The digest follows the last '@'; the tag follows a ':' after the last '/'. */
    size_t name_end = len;
    const char *at = strchr(s, '@');
    if (at) {
        if (strchr(at + 1, '@'))
            return bad(err, s, "more than one '@'");
        if (!reef_image_digest_valid(at + 1))
            return bad(err, s, "bad digest");
        if (strlen(at + 1) >= sizeof(out->digest))
            return bad(err, s, "digest too long");
        strcpy(out->digest, at + 1);
        name_end = (size_t)(at - s);
    }
    const char *slash = memrchr(s, '/', name_end);
    const char *tagc = memchr(slash ? slash : s, ':', name_end - (size_t)((slash ? slash : s) - s));
    if (tagc) {
        size_t tlen = name_end - (size_t)(tagc - s) - 1;
        if (!tag_valid(tagc + 1, tlen))
            return bad(err, s, "bad tag");
        memcpy(out->tag, tagc + 1, tlen);
        name_end = (size_t)(tagc - s);
    }
    if (name_end == 0)
        return bad(err, s, "no repository name");
    if (name_end > REEF_IMAGE_NAME_MAX)
        return bad(err, s, "repository name longer than 255 characters");

    /* A first component is a registry when it has '.', ':' or is "localhost" (Docker's rule). */
    const char *first_slash = memchr(s, '/', name_end);
    size_t path_start = 0;
    if (first_slash) {
        size_t dlen = (size_t)(first_slash - s);
        bool is_domain = memchr(s, '.', dlen) || memchr(s, ':', dlen) ||
                         (dlen == 9 && memcmp(s, "localhost", 9) == 0) ||
                         (dlen && s[0] == '[');
        for (size_t i = 0; i < dlen && !is_domain; i++)
            if (isupper((unsigned char)s[i]))
                is_domain = true;
        if (is_domain) {
            if (!domain_valid(s, dlen))
                return bad(err, s, "bad registry host");
            memcpy(out->domain, s, dlen);
            path_start = dlen + 1;
        }
    }
    if (!out->domain[0])
        strcpy(out->domain, "docker.io");
    if (strcmp(out->domain, "index.docker.io") == 0) {
        memset(out->domain, 0, sizeof(out->domain));
        strcpy(out->domain, "docker.io");
    }

    const char *path = s + path_start;
    size_t plen = name_end - path_start;
    for (size_t i = 0; i < plen; i++)
        if (isupper((unsigned char)path[i]))
            return bad(err, s, "repository name must be lowercase");
    size_t start = 0;
    int components = 0;
    for (size_t i = 0; i <= plen; i++) {
        if (i == plen || path[i] == '/') {
            if (!component_valid(path + start, i - start))
                return bad(err, s, "bad repository name");
            components++;
            start = i + 1;
        }
    }
    size_t off = 0;
    if (strcmp(out->domain, "docker.io") == 0 && components == 1) {
        memcpy(out->path, "library/", 8);
        off = 8;
    }
    if (off + plen > REEF_IMAGE_NAME_MAX)
        return bad(err, s, "repository name longer than 255 characters");
    memcpy(out->path + off, path, plen);
    if (!out->tag[0] && !out->digest[0])
        strcpy(out->tag, "latest");
    return 0;
}

static int emit(const struct reef_image_ref *r, bool familiar, char *out, size_t outsz)
{
    const char *domain = r->domain, *path = r->path;
    bool hub = strcmp(domain, "docker.io") == 0;
    int n;
    if (familiar && hub) {
        if (reef_str_has_prefix(path, "library/") && !strchr(path + 8, '/'))
            path += 8;
        n = snprintf(out, outsz, "%s", path);
    } else {
        n = snprintf(out, outsz, "%s/%s", domain, path);
    }
    if (n >= 0 && (size_t)n < outsz && r->tag[0])
        n += snprintf(out + n, outsz - (size_t)n, ":%s", r->tag);
    if (n >= 0 && (size_t)n < outsz && r->digest[0])
        n += snprintf(out + n, outsz - (size_t)n, "@%s", r->digest);
    if (n < 0 || (size_t)n >= outsz)
        return -ENAMETOOLONG;
    return n;
}

int reef_image_ref_format(const struct reef_image_ref *r, char *out, size_t outsz)
{
    return emit(r, false, out, outsz);
}

int reef_image_ref_familiar(const struct reef_image_ref *r, char *out, size_t outsz)
{
    return emit(r, true, out, outsz);
}

const char *reef_image_ref_endpoint(const struct reef_image_ref *r)
{
    return strcmp(r->domain, "docker.io") == 0 ? "registry-1.docker.io" : r->domain;
}
