#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 4096
#define ALIGN 16

struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(ALIGN) unsigned char data[];
};

struct reef_arena {
    struct chunk *head; /* newest chunk first; the last one is kept by reset */
    size_t limit;
    size_t total;
};

struct reef_arena *reef_arena_new(size_t limit)
{
    struct reef_arena *a = calloc(1, sizeof(*a));
    if (a)
        a->limit = limit;
    return a;
}

static void free_chunks(struct chunk *c, struct chunk *keep)
{
    while (c && c != keep) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
}

void reef_arena_free(struct reef_arena *a)
{
    if (!a)
        return;
    free_chunks(a->head, NULL);
    free(a);
}

void reef_arena_reset(struct reef_arena *a)
{
    struct chunk *first = a->head;
    while (first && first->next)
        first = first->next;
    free_chunks(a->head, first);
    a->head = first;
    a->total = 0;
    if (first)
        first->used = 0;
}

void *reef_arena_alloc(struct reef_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (a->limit && (n > a->limit || a->total > a->limit - n))
        return NULL;
    struct chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
        if (c && c->size * 2 > size && c->size * 2 <= (1u << 20))
            size = c->size * 2;
        c = malloc(sizeof(*c) + size);
        if (!c)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->total += n;
    return p;
}

void *reef_arena_calloc(struct reef_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = reef_arena_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

char *reef_arena_strndup(struct reef_arena *a, const char *s, size_t n)
{
    char *p = reef_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *reef_arena_strdup(struct reef_arena *a, const char *s)
{
    return reef_arena_strndup(a, s, strlen(s));
}

size_t reef_arena_used(const struct reef_arena *a)
{
    return a->total;
}
