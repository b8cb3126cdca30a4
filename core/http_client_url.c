/* http_client_url: URLs, redirect targets and basic-auth encoding for the client. */
#include "core/http_client_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int reef__http_url_parse(const char *s, struct url *u, struct reef_err *err)
{
    memset(u, 0, sizeof(*u));
    const char *p;
    if (strncasecmp(s, "http://", 7) == 0) {
        p = s + 7;
    } else if (strncasecmp(s, "https://", 8) == 0) {
        p = s + 8;
        u->https = true;
    } else {
        return reef_err_set(err, -EINVAL, "bad URL \"%.100s\": not http:// or https://", s);
    }
    const char *end = p + strcspn(p, "/?#");
    const char *h = p, *he;
    if (*h == '[') {
        he = memchr(h, ']', (size_t)(end - h));
        if (!he)
            return reef_err_set(err, -EINVAL, "bad URL \"%.100s\": unclosed '['", s);
        h++;
        p = he + 1;
    } else {
        he = h;
        while (he < end && *he != ':')
            he++;
        p = he;
    }
    size_t hl = (size_t)(he - h);
    if (hl == 0 || hl >= sizeof(u->host) || memchr(h, '@', hl))
        return reef_err_set(err, -EINVAL, "bad URL \"%.100s\": bad host", s);
    memcpy(u->host, h, hl);
    for (size_t i = 0; i < hl; i++)
        if ((unsigned char)u->host[i] <= 0x20 || u->host[i] == 0x7f)
            return reef_err_set(err, -EINVAL, "bad URL \"%.100s\": bad host", s);
    u->port = u->https ? 443 : 80;
    if (p < end && *p == ':') {
        char digits[8];
        size_t n = (size_t)(end - p - 1);
        long long port;
        if (n == 0 || n >= sizeof(digits))
            return reef_err_set(err, -EINVAL, "bad URL \"%.100s\": bad port", s);
        memcpy(digits, p + 1, n);
        digits[n] = '\0';
        if (reef_str_to_ll(digits, 1, 65535, &port) < 0)
            return reef_err_set(err, -EINVAL, "bad URL \"%.100s\": bad port", s);
        u->port = (int)port;
    } else if (p != end) {
        return reef_err_set(err, -EINVAL, "bad URL \"%.100s\"", s);
    }
    bool v6 = strchr(u->host, ':') != NULL;
    bool defport = u->port == (u->https ? 443 : 80);
    if (defport)
        snprintf(u->hostport, sizeof(u->hostport), v6 ? "[%s]" : "%s", u->host);
    else
        snprintf(u->hostport, sizeof(u->hostport), v6 ? "[%s]:%d" : "%s:%d", u->host, u->port);
    size_t plen = strcspn(end, "#");
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)end[i] <= 0x20 || end[i] == 0x7f)
            return reef_err_set(err, -EINVAL, "bad URL \"%.100s\": bad character in path", s);
    if (plen == 0 || end[0] != '/') {
        u->path = malloc(plen + 2);
        if (u->path) {
            u->path[0] = '/';
            memcpy(u->path + 1, end, plen);
            u->path[plen + 1] = '\0';
        }
    } else {
        u->path = reef_strndup(end, plen);
    }
    if (!u->path)
        return reef_err_set(err, -ENOMEM, "out of memory");
    return 0;
}

/* Location: absolute, scheme-relative, absolute path or relative path. Returns a malloc'd URL. */
char *reef__http_url_resolve(const struct url *base, const char *loc)
{
    struct reef_buf b = REEF_BUF_INIT;
    const char *scheme = base->https ? "https" : "http";
    if (strncasecmp(loc, "http://", 7) == 0 || strncasecmp(loc, "https://", 8) == 0) {
        reef_buf_puts(&b, loc);
    } else if (loc[0] == '/' && loc[1] == '/') {
        reef_buf_printf(&b, "%s:%s", scheme, loc);
    } else if (loc[0] == '/') {
        reef_buf_printf(&b, "%s://%s%s", scheme, base->hostport, loc);
    } else {
        size_t dir = strcspn(base->path, "?");
        while (dir > 0 && base->path[dir - 1] != '/')
            dir--;
        reef_buf_printf(&b, "%s://%s%.*s%s", scheme, base->hostport, (int)dir, base->path, loc);
    }
    return reef_buf_steal(&b);
}

void reef__http_base64(struct reef_buf *b, const unsigned char *s, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        char o[4] = {t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=',
                     i + 2 < n ? t[v & 63] : '='};
        reef_buf_append(b, o, 4);
    }
}
