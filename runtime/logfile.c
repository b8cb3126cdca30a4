#include "runtime/logfile.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

struct reef_logfile {
    char path[PATH_MAX - 16];
    int fd;
    size_t size; /* bytes in the current file */
    size_t max_size;
    int max_files;
    struct reef_buf tail[2]; /* unterminated output per stream */
    struct timespec tail_time[2];
    struct reef_buf line; /* scratch for one encoded line */
};

static const char *const stream_names[] = {"stdout", "stderr"};

void reef_logfile_format_time(const struct timespec *ts, char out[40])
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%09ldZ", ts->tv_nsec);
}

static int open_current(struct reef_logfile *lf, struct reef_err *err)
{
    lf->fd = open(lf->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (lf->fd < 0)
        return reef_err_errno(err, -errno, "log %s: open", lf->path);
    struct stat st;
    lf->size = fstat(lf->fd, &st) == 0 ? (size_t)st.st_size : 0;
    return 0;
}

int reef_logfile_open(const char *path, size_t max_size, int max_files,
                      struct reef_logfile **out, struct reef_err *err)
{
    struct reef_logfile *lf = calloc(1, sizeof(*lf));
    if (!lf)
        return reef_err_set(err, -ENOMEM, "log: out of memory");
    if (reef_strlcpy(lf->path, path, sizeof(lf->path)) >= sizeof(lf->path)) {
        free(lf);
        return reef_err_set(err, -ENAMETOOLONG, "log: path too long");
    }
    lf->max_size = max_size ? max_size : REEF_LOG_MAX_SIZE;
    lf->max_files = max_files > 0 ? max_files : REEF_LOG_MAX_FILES;
    int r = open_current(lf, err);
    if (r < 0) {
        free(lf);
        return r;
    }
    *out = lf;
    return 0;
}

static int rotate(struct reef_logfile *lf, struct reef_err *err)
{
    close(lf->fd);
    lf->fd = -1;
    char from[PATH_MAX], to[PATH_MAX];
    for (int i = lf->max_files - 1; i >= 1; i--) {
        if (i == 1)
            snprintf(from, sizeof(from), "%s", lf->path);
        else
            snprintf(from, sizeof(from), "%s.%d", lf->path, i - 1);
        snprintf(to, sizeof(to), "%s.%d", lf->path, i);
        if (rename(from, to) < 0 && errno != ENOENT)
            return reef_err_errno(err, -errno, "log %s: rotate", lf->path);
    }
    if (lf->max_files == 1 && unlink(lf->path) < 0 && errno != ENOENT)
        return reef_err_errno(err, -errno, "log %s: rotate", lf->path);
    return open_current(lf, err);
}

static int emit(struct reef_logfile *lf, enum reef_log_stream s, const char *p, size_t n,
                const struct timespec *ts, struct reef_err *err)
{
    char when[40];
    reef_logfile_format_time(ts, when);
    struct reef_buf *b = &lf->line;
    reef_buf_reset(b);
    int r = reef_buf_puts(b, "{\"log\":");
    if (r == 0)
        r = reef_buf_json_str(b, p, n);
    if (r == 0)
        r = reef_buf_printf(b, ",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream_names[s], when);
    if (r < 0)
        return reef_err_set(err, r, "log: out of memory");
    if (lf->size > 0 && lf->size + b->len > lf->max_size && (r = rotate(lf, err)) < 0)
        return r;
    if (lf->fd < 0 && (r = open_current(lf, err)) < 0)
        return r;
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(lf->fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return reef_err_errno(err, -errno, "log %s: write", lf->path);
        off += (size_t)w;
    }
    lf->size += b->len;
    return 0;
}

int reef_logfile_write(struct reef_logfile *lf, enum reef_log_stream s, const char *data,
                       size_t len, const struct timespec *ts, struct reef_err *err)
{
    struct timespec now;
    if (!ts) {
        clock_gettime(CLOCK_REALTIME, &now);
        ts = &now;
    }
    struct reef_buf *tail = &lf->tail[s];
    int r = 0;
    while (len > 0 && r == 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl ? (size_t)(nl - data) + 1 : len;
        if (tail->len + take > REEF_LOG_LINE_MAX)
            take = REEF_LOG_LINE_MAX - tail->len;
        if (tail->len == 0)
            lf->tail_time[s] = *ts;
        /* A whole line with nothing held: write it straight from the input. */
        bool complete = take > 0 && data[take - 1] == '\n';
        if (tail->len == 0 && (complete || take == REEF_LOG_LINE_MAX)) {
            r = emit(lf, s, data, take, ts, err);
        } else {
            if (reef_buf_append(tail, data, take) < 0)
                return reef_err_set(err, -ENOMEM, "log: out of memory");
            if (complete || tail->len == REEF_LOG_LINE_MAX) {
                r = emit(lf, s, tail->data, tail->len, &lf->tail_time[s], err);
                reef_buf_reset(tail);
            }
        }
        data += take;
        len -= take;
    }
    return r;
}

int reef_logfile_flush(struct reef_logfile *lf, struct reef_err *err)
{
    for (int s = 0; s < 2; s++) {
        if (lf->tail[s].len == 0)
            continue;
        int r = emit(lf, (enum reef_log_stream)s, lf->tail[s].data, lf->tail[s].len,
                     &lf->tail_time[s], err);
        reef_buf_reset(&lf->tail[s]);
        if (r < 0)
            return r;
    }
    return 0;
}

void reef_logfile_close(struct reef_logfile *lf)
{
    if (!lf)
        return;
    reef_logfile_flush(lf, NULL);
    if (lf->fd >= 0)
        close(lf->fd);
    reef_buf_free(&lf->tail[0]);
    reef_buf_free(&lf->tail[1]);
    reef_buf_free(&lf->line);
    free(lf);
}
