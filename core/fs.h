/* fs: small file-system helpers every layer needs: directories with their parents, bounded
 * whole-file reads, and atomic file replacement. Synchronous; any thread. reef_fs_mkdir_p
 * allocates nothing, so it may also be used in a child between clone and exec. */
#ifndef REEF_CORE_FS_H
#define REEF_CORE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/err.h"

/* Creates path and its missing parents with mode; existing directories are fine. 0 or -errno. */
int reef_fs_mkdir_p(const char *path, mode_t mode);

/* Appends the whole of a regular file to out; -EFBIG ("PATH: larger than MAX bytes") past max
 * bytes, -EINVAL for anything but a regular file (a FIFO or device would never end). */
int reef_fs_read_file(const char *path, size_t max, struct reef_buf *out, struct reef_err *err);
/* The same into a NUL-terminated malloc'd string the caller frees; *len (may be NULL) gets its
 * length. */
int reef_fs_read_string(const char *path, size_t max, char **out, size_t *len,
                        struct reef_err *err);

/* Replaces path with data: a temporary file in the same directory with mode, then rename, so
 * readers see the old content or the new, never a mix. durable adds the fsyncs (file and
 * directory) that make it survive a power cut. */
int reef_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         bool durable, struct reef_err *err);

#endif
