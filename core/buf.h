/* buf: a growable byte buffer and small string helpers.
 *
 * struct reef_buf is embedded by its owner (not opaque) so it can live on the stack or inside
 * another struct. data is always NUL-terminated once anything was appended, so text can be used as a
 * C string; binary content may contain NULs (use len). The buffer owns data; reef_buf_free releases
 * it and reef_buf_steal hands it to the caller, who then frees it with free().
 * A buffer belongs to one thread at a time. */
#ifndef REEF_CORE_BUF_H
#define REEF_CORE_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct reef_buf {
    char *data;
    size_t len;
    size_t cap;
};

#define REEF_BUF_INIT {NULL, 0, 0}

void reef_buf_init(struct reef_buf *b);
void reef_buf_free(struct reef_buf *b);
/* Empties the buffer, keeping its memory. */
void reef_buf_reset(struct reef_buf *b);
/* Makes room for n more bytes (plus the NUL). Returns 0 or -ENOMEM. */
int reef_buf_reserve(struct reef_buf *b, size_t n);
int reef_buf_append(struct reef_buf *b, const void *p, size_t n);
int reef_buf_puts(struct reef_buf *b, const char *s);
int reef_buf_putc(struct reef_buf *b, char c);
int reef_buf_printf(struct reef_buf *b, const char *fmt, ...) REEF_PRINTF(2, 3);
int reef_buf_vprintf(struct reef_buf *b, const char *fmt, va_list ap);
/* Removes the first n bytes (n <= len), moving the rest down. */
void reef_buf_consume(struct reef_buf *b, size_t n);
/* Returns data (never NULL: an empty malloc'd string for an empty buffer, NULL only on ENOMEM) and
 * leaves the buffer empty. The caller frees the result. */
char *reef_buf_steal(struct reef_buf *b);

/* Appends s[0..n) as a JSON string literal with its quotes. Bytes >= 0x80 are copied as they are
 * (the caller guarantees UTF-8); control characters, '"' and '\\' are escaped, and '<', '>', '&'
 * too are left alone. Returns 0 or -ENOMEM. */
int reef_buf_json_str(struct reef_buf *b, const char *s, size_t n);

/* String helpers. */
bool reef_str_has_prefix(const char *s, const char *prefix);
bool reef_str_has_suffix(const char *s, const char *suffix);
/* Copies at most size-1 bytes and NUL-terminates; returns strlen(src) (truncated when >= size). */
size_t reef_strlcpy(char *dst, const char *src, size_t size);
/* malloc'd copy of s[0..n) with a NUL; NULL on ENOMEM. */
char *reef_strndup(const char *s, size_t n);
/* Parses a whole decimal string into [min,max]; returns 0 or -EINVAL / -ERANGE. */
int reef_str_to_ll(const char *s, long long min, long long max, long long *out);
/* Parses sizes like "64m", "1g", "512k", "100" (bytes), "1.5G", also "Mi"/"Gi" suffixes,
 * into bytes. Returns 0 or -EINVAL / -ERANGE. */
int reef_str_to_bytes(const char *s, unsigned long long *out);

#endif
