#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void mark_truncated(char *msg, int n)
{
    if (n >= REEF_ERR_MSG_MAX)
        memcpy(msg + REEF_ERR_MSG_MAX - 4, "...", 4);
}

int reef_err_set(struct reef_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    mark_truncated(err->msg, n);
    return code;
}

int reef_err_wrap(struct reef_err *err, const char *fmt, ...)
{
    if (!err)
        return -EIO;
    if (err->code == 0)
        err->code = -EIO;
    char ctx[REEF_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);
    char old[REEF_ERR_MSG_MAX];
    memcpy(old, err->msg, sizeof(old));
    int n = snprintf(err->msg, sizeof(err->msg), "%s: %s", ctx, old);
    mark_truncated(err->msg, n);
    return err->code;
}

int reef_err_errno(struct reef_err *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    char what[REEF_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    err->code = code;
    int n = snprintf(err->msg, sizeof(err->msg), "%s: %s", what, strerror(-code));
    mark_truncated(err->msg, n);
    return code;
}

void reef_err_clear(struct reef_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}
