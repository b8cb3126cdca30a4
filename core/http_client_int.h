/* http_client_int: what the client's files share. Not for use outside core/http_client*.c. */
#ifndef REEF_CORE_HTTP_CLIENT_INT_H
#define REEF_CORE_HTTP_CLIENT_INT_H

#include "core/http_client.h"

struct url {
    bool https;
    char host[256]; /* without brackets */
    int port;
    char hostport[272]; /* for Host: and the pool key, brackets kept for IPv6 */
    char *path;         /* path and query, malloc'd */
};

/* Parses an http:// or https:// URL; u->path is malloc'd (the caller frees it). */
int reef__http_url_parse(const char *s, struct url *u, struct reef_err *err);
/* A Location header resolved against the URL that answered; malloc'd, NULL on ENOMEM. */
char *reef__http_url_resolve(const struct url *base, const char *loc);
void reef__http_base64(struct reef_buf *b, const unsigned char *s, size_t n);

#endif
