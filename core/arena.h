/* arena: bump allocation for request-scoped memory.
 *
 * Everything allocated from an arena is freed at once by reef_arena_free (or reused after
 * reef_arena_reset). Allocations are 16-byte aligned. A cap on total size bounds what one request
 * can make reef allocate: beyond it allocation fails with NULL. One thread at a time. */
#ifndef REEF_CORE_ARENA_H
#define REEF_CORE_ARENA_H

#include <stddef.h>

struct reef_arena;

/* limit: the most bytes the arena may hold in all (0 = no limit). NULL on ENOMEM. */
struct reef_arena *reef_arena_new(size_t limit);
void reef_arena_free(struct reef_arena *a);
/* Frees every chunk but the first, and makes the arena empty again. */
void reef_arena_reset(struct reef_arena *a);
/* NULL when the limit would be passed or on ENOMEM. */
void *reef_arena_alloc(struct reef_arena *a, size_t n);
void *reef_arena_calloc(struct reef_arena *a, size_t n, size_t size);
char *reef_arena_strndup(struct reef_arena *a, const char *s, size_t n);
char *reef_arena_strdup(struct reef_arena *a, const char *s);
/* Bytes handed out so far. */
size_t reef_arena_used(const struct reef_arena *a);

#endif
