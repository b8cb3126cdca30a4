/* err: the error value every reef function reports through.
 *
 * A function that can fail returns 0 (or a valid pointer) on success and a negative errno-style
 * code on failure, and fills the caller's struct reef_err. The message lives in a fixed buffer so
 * reporting an error never allocates; context is prepended on the way up with reef_err_wrap, giving
 * messages like "pull busybox: fetch manifest: 401 unauthorized".
 * Any thread may use these functions on its own struct reef_err. */
#ifndef REEF_CORE_ERR_H
#define REEF_CORE_ERR_H

#include <errno.h>
#include <stddef.h>

#define REEF_ERR_MSG_MAX 256

struct reef_err {
    int code;                   /* negative errno-style code, 0 when no error */
    char msg[REEF_ERR_MSG_MAX]; /* NUL-terminated, truncated with "..." when too long */
};

#define REEF_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Sets code (which must be negative) and the message. Returns code, so callers can write
 * `return reef_err_set(err, -EINVAL, "bad port %d", p);`. err may be NULL. */
int reef_err_set(struct reef_err *err, int code, const char *fmt, ...) REEF_PRINTF(3, 4);

/* Prepends "context: " to the existing message. Returns err->code (or -EIO when none was set). */
int reef_err_wrap(struct reef_err *err, const char *fmt, ...) REEF_PRINTF(2, 3);

/* Sets the message to "<text>: strerror(-code)" and returns code. */
int reef_err_errno(struct reef_err *err, int code, const char *fmt, ...) REEF_PRINTF(3, 4);

void reef_err_clear(struct reef_err *err);

/* Defensive branches: must never be taken in tests (abort under REEF_TESTING builds), but fail safe
 * in production by evaluating to the condition. */
#ifdef REEF_TESTING
#include <assert.h>
#define REEF_ALWAYS(x) (assert(x), 1)
#define REEF_NEVER(x) (assert(!(x)), 0)
#else
#define REEF_ALWAYS(x) (!!(x))
#define REEF_NEVER(x) (!!(x))
#endif

#define REEF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
