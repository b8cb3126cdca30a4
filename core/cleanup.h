/* cleanup: __attribute__((cleanup)) helpers for synchronous code.
 *
 *     _cleanup_free_ char *p = malloc(n);
 *     _cleanup_close_ int fd = open(...);
 *     return REEF_STEAL(p);   // ownership moves out; nothing is freed
 */
#ifndef REEF_CORE_CLEANUP_H
#define REEF_CORE_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void reef__freep(void *p)
{
    free(*(void **)p);
}
static inline void reef__closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
static inline void reef__fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

#define _cleanup_free_ __attribute__((cleanup(reef__freep)))
#define _cleanup_close_ __attribute__((cleanup(reef__closep)))
#define _cleanup_fclose_ __attribute__((cleanup(reef__fclosep)))

/* Takes the value out of a cleanup variable, leaving NULL behind. */
#define REEF_STEAL(p)                                                                             \
    ({                                                                                            \
        __typeof__(p) reef__tmp = (p);                                                            \
        (p) = NULL;                                                                               \
        reef__tmp;                                                                                \
    })
#define REEF_STEAL_FD(fd)                                                                         \
    ({                                                                                            \
        int reef__tmp = (fd);                                                                     \
        (fd) = -1;                                                                                \
        reef__tmp;                                                                                \
    })

#endif
