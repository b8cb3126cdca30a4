/* logfile: a container's output as JSON lines, in Docker's json-file format, with rotation.
 *
 * Each line is {"log":"text\n","stream":"stdout","time":"2026-11-28T14:01:25.123456789Z"}.
 * Output is split at newlines; a line longer than 16 KiB is written in 16 KiB pieces whose "log"
 * has no trailing newline (as Docker marks partial lines), and an unterminated tail is held until
 * its newline arrives or reef_logfile_flush. When the file would pass max_size it is rotated:
 * path -> path.1 -> path.2 ..., keeping max_files files in all.
 * One writer (the shim) per file; readers may read concurrently. One thread. */
#ifndef REEF_RUNTIME_LOGFILE_H
#define REEF_RUNTIME_LOGFILE_H

#include <stddef.h>
#include <time.h>

#include "core/err.h"

#define REEF_LOG_MAX_SIZE (10u << 20)
#define REEF_LOG_MAX_FILES 3
#define REEF_LOG_LINE_MAX 16384

enum reef_log_stream { REEF_LOG_STDOUT, REEF_LOG_STDERR };

struct reef_logfile;

/* Opens (appending to) path. max_size 0 / max_files 0 take the defaults above. */
int reef_logfile_open(const char *path, size_t max_size, int max_files,
                      struct reef_logfile **out, struct reef_err *err);
/* Records data read from the container's stream at time ts (NULL: now). */
int reef_logfile_write(struct reef_logfile *lf, enum reef_log_stream stream, const char *data,
                       size_t len, const struct timespec *ts, struct reef_err *err);
/* Writes out any unterminated tails (at container exit). */
int reef_logfile_flush(struct reef_logfile *lf, struct reef_err *err);
/* Flushes and frees. */
void reef_logfile_close(struct reef_logfile *lf);

/* Formats ts as RFC 3339 with nanoseconds in UTC ("2026-11-28T14:01:25.123456789Z"). */
void reef_logfile_format_time(const struct timespec *ts, char out[40]);

#endif
