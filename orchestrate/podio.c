/* podio, logs: GET .../pods/x/log from a container's JSON-lines log files (docs/PODIO.md).
 *
 * A session reads the files on libuv's thread pool in steps of bounded size, the loop writes each
 * step's output and asks for the next one when the client has taken it (back-pressure), or after
 * a short pause when following and the log has nothing new. A step sees rotation (the log file
 * renamed to .1 and a new one opened) by the path's inode changing and finishes the old file
 * first. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fs.h"
#include "core/json.h"
#include "orchestrate/apiserver.h"
#include "orchestrate/podio.h"
#include "orchestrate/podio_int.h"
#include "runtime/ctrstore.h"
#include "runtime/logfile.h"

#define STEP_READ (64u << 10) /* bytes read per step */
#define QUEUE_MAX (1u << 20)  /* output queued to the client before pausing */
#define FOLLOW_POLL_MS 200    /* how soon a follower looks for new output */
#define MAX_FILES 8           /* rotated files looked at: path.1 .. path.7 */

struct logs {
    uv_loop_t *loop;
    struct reef_http_res *res; /* NULL once the client left */
    char dir[PATH_MAX - 32];   /* the container's directory */
    char path[PATH_MAX];       /* its container.log */
    /* parameters */
    bool follow, timestamps;
    long long tail;  /* -1: all */
    long long limit; /* -1: no limit */
    int64_t since_ns;
    /* reading: touched by the worker while busy, by the loop otherwise */
    int fds[MAX_FILES];
    int nfds, cur;
    off_t pos;
    bool opened, exited, at_eof, line_start, limit_hit;
    long long written;
    struct reef_buf pending; /* an incomplete JSON line */
    struct reef_buf out;     /* a step's output for the client */
    /* loop side */
    uv_work_t work;
    uv_timer_t timer;
    bool busy, timer_on, waiting_drain, ended;
};

/* ---------- shared helpers (also used by the exec half) ---------- */

bool reef__podio_bool(const char *v)
{
    return strcmp(v, "1") == 0 || strcasecmp(v, "t") == 0 || strcasecmp(v, "true") == 0;
}

void reef__podio_fail(struct reef_http_res *res, int code, const char *reason, const char *msg)
{
    reef__api_status(res, code, reason, NULL, NULL, NULL, "%s", msg);
}

/* RFC 3339 ("2026-11-28T14:01:25.123456789Z", "...+02:00") to Unix nanoseconds; -1 if bad. */
int64_t reef__podio_parse_time(const char *s)
{
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        n != 19)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t t = (int64_t)timegm(&tm);
    const char *p = s + n;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits++ < 9)
                frac = frac * 10 + (*p - '0');
        if (!digits)
            return -1;
        for (; digits < 9; digits++)
            frac *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6)
            return -1;
        int off = (hh * 60 + mm) * 60;
        t -= *p == '+' ? off : -off;
        p += 6;
    } else {
        return -1;
    }
    return *p ? -1 : t * 1000000000LL + frac;
}

/* ---------- the worker's side ---------- */

static void open_files(struct logs *l)
{
    char p[sizeof(l->path) + 16];
    for (int i = MAX_FILES - 1; i >= 1; i--) {
        snprintf(p, sizeof(p), "%s.%d", l->path, i);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            l->fds[l->nfds++] = fd;
    }
    int fd = open(l->path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        l->fds[l->nfds++] = fd;
    l->cur = 0;
    l->pos = 0;
    if (l->tail < 0 || l->nfds == 0)
        return;
    /* Start after the (tail+1)-th newline from the end: the last tail complete lines. */
    long long seen = 0;
    char buf[65536];
    for (int i = l->nfds - 1; i >= 0; i--) {
        struct stat st;
        if (fstat(l->fds[i], &st) < 0)
            continue;
        off_t end = st.st_size;
        while (end > 0) {
            size_t n = end > (off_t)sizeof(buf) ? sizeof(buf) : (size_t)end;
            ssize_t got = pread(l->fds[i], buf, n, end - (off_t)n);
            if (got != (ssize_t)n)
                break;
            for (size_t k = n; k > 0; k--) {
                if (buf[k - 1] == '\n' && ++seen == l->tail + 1) {
                    l->cur = i;
                    l->pos = end - (off_t)n + (off_t)k;
                    return;
                }
            }
            end -= (off_t)n;
        }
    }
}

static void format_time(const char *t, size_t n, struct reef_buf *out)
{
    /* RFC 3339 with the fraction's trailing zeros dropped, as the kubelet prints it. */
    const char *dot = memchr(t, '.', n);
    if (!dot || n == 0 || t[n - 1] != 'Z') {
        reef_buf_append(out, t, n);
        return;
    }
    size_t e = n - 1; /* at 'Z' */
    while (e > (size_t)(dot - t) + 1 && t[e - 1] == '0')
        e--;
    if (e == (size_t)(dot - t) + 1)
        e--; /* all zeros: no fraction */
    reef_buf_append(out, t, e);
    reef_buf_putc(out, 'Z');
}

static void emit(struct logs *l, const char *data, size_t len)
{
    if (l->limit >= 0) {
        long long room = l->limit - l->written;
        if ((long long)len >= room) {
            len = (size_t)room;
            l->limit_hit = true;
        }
    }
    reef_buf_append(&l->out, data, len);
    l->written += (long long)len;
}

static void one_line(struct logs *l, const char *line, size_t len)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, line, len, NULL, NULL) < 0)
        return;
    int lg = reef_json_member(&d, REEF_JSON_ROOT, "log");
    int tm = reef_json_member(&d, REEF_JSON_ROOT, "time");
    const char *ts = NULL;
    size_t tslen = 0;
    char tbuf[64];
    if (tm >= 0 && reef_json_get_str(&d, tm, tbuf, sizeof(tbuf), NULL) == 0) {
        ts = tbuf;
        tslen = strlen(tbuf);
    }
    if (l->since_ns > 0 && ts && reef__podio_parse_time(ts) < l->since_ns) {
        reef_json_doc_free(&d);
        return;
    }
    struct reef_buf text = REEF_BUF_INIT;
    if (lg >= 0 && reef_json_get_strbuf(&d, lg, &text, NULL) == 0 && text.len) {
        if (l->timestamps && l->line_start && ts) {
            struct reef_buf pre = REEF_BUF_INIT;
            format_time(ts, tslen, &pre);
            reef_buf_putc(&pre, ' ');
            emit(l, pre.data, pre.len);
            reef_buf_free(&pre);
        }
        if (!l->limit_hit)
            emit(l, text.data, text.len);
        l->line_start = text.data[text.len - 1] == '\n';
    }
    reef_buf_free(&text);
    reef_json_doc_free(&d);
}

/* Reads from the current file; false at its end. */
static bool read_some(struct logs *l)
{
    char buf[16384];
    size_t total = 0;
    while (total < STEP_READ && l->out.len < STEP_READ && !l->limit_hit) {
        ssize_t n = pread(l->fds[l->cur], buf, sizeof(buf), l->pos);
        if (n <= 0)
            return false;
        l->pos += n;
        total += (size_t)n;
        reef_buf_append(&l->pending, buf, (size_t)n);
        size_t i = 0;
        char *nl;
        while (!l->limit_hit && (nl = memchr(l->pending.data + i, '\n', l->pending.len - i))) {
            one_line(l, l->pending.data + i, (size_t)(nl - (l->pending.data + i)));
            i = (size_t)(nl - l->pending.data) + 1;
        }
        reef_buf_consume(&l->pending, i);
        if (l->pending.len > 4 * REEF_LOG_LINE_MAX)
            reef_buf_reset(&l->pending); /* not a log line: skip it */
    }
    return true;
}

static bool container_exited(const struct logs *l)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/shim.lock", l->dir);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    bool alive = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    if (fd >= 0)
        close(fd);
    if (!alive)
        return true;
    snprintf(p, sizeof(p), "%s/state.json", l->dir);
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_ctr_state st;
    bool exited = reef_fs_read_file(p, 1 << 20, &b, NULL) == 0 &&
                  reef_ctr_state_from_json(b.data ? b.data : "", b.len, &st, NULL) == 0 &&
                  st.status == REEF_CTR_EXITED;
    reef_buf_free(&b);
    return exited;
}

static void logs_step(uv_work_t *w)
{
    struct logs *l = w->data;
    if (!l->opened) {
        open_files(l);
        l->opened = true;
    }
    /* Whether it had exited is decided before reading, so nothing it wrote is missed. */
    if (l->follow)
        l->exited = container_exited(l);
    l->at_eof = false;
    for (;;) {
        if (l->nfds == 0) {
            int fd = open(l->path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                l->at_eof = true;
                return;
            }
            l->fds[l->nfds++] = fd;
            l->cur = 0;
            l->pos = 0;
        }
        if (read_some(l))
            return; /* a step's worth */
        if (l->cur < l->nfds - 1) {
            l->cur++;
            l->pos = 0;
            reef_buf_reset(&l->pending);
            continue;
        }
        /* At the end of the newest file we have: was it rotated away? */
        struct stat now, ours;
        if (l->follow && stat(l->path, &now) == 0 && fstat(l->fds[l->cur], &ours) == 0 &&
            (now.st_ino != ours.st_ino || now.st_dev != ours.st_dev)) {
            if (read_some(l))
                return;
            int fd = open(l->path, O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                if (l->nfds == MAX_FILES) {
                    close(l->fds[0]);
                    memmove(l->fds, l->fds + 1, sizeof(int) * (MAX_FILES - 1));
                    l->nfds--;
                }
                l->fds[l->nfds++] = fd;
                l->cur = l->nfds - 1;
                l->pos = 0;
                reef_buf_reset(&l->pending);
                continue;
            }
        }
        l->at_eof = true;
        return;
    }
}

/* ---------- the loop's side ---------- */

static void logs_timer_closed(uv_handle_t *h)
{
    struct logs *l = h->data;
    for (int i = 0; i < l->nfds; i++)
        close(l->fds[i]);
    reef_buf_free(&l->pending);
    reef_buf_free(&l->out);
    free(l);
}

static void logs_free(struct logs *l)
{
    uv_timer_stop(&l->timer);
    uv_close((uv_handle_t *)&l->timer, logs_timer_closed);
}

static void logs_end(struct logs *l)
{
    l->ended = true;
    if (l->res) {
        reef_http_res_on_close(l->res, NULL, NULL);
        reef_http_res_end(l->res);
        l->res = NULL;
    }
    if (!l->busy)
        logs_free(l);
}

static void logs_done(uv_work_t *w, int status);

static void logs_next(struct logs *l)
{
    if (l->busy || l->ended)
        return;
    l->busy = true;
    if (uv_queue_work(l->loop, &l->work, logs_step, logs_done) < 0) {
        l->busy = false;
        logs_end(l);
    }
}

static void logs_tick(uv_timer_t *t)
{
    logs_next(t->data);
}

static void logs_drained(void *ud, struct reef_http_res *res)
{
    struct logs *l = ud;
    if (l->waiting_drain) {
        l->waiting_drain = false;
        logs_next(l);
    }
    (void)res;
}

static void logs_gone(void *ud, struct reef_http_res *res)
{
    struct logs *l = ud;
    l->res = NULL;
    l->ended = true;
    if (!l->busy)
        logs_free(l);
    (void)res;
}

static void logs_done(uv_work_t *w, int status)
{
    struct logs *l = w->data;
    l->busy = false;
    if (l->ended || !l->res) {
        logs_free(l);
        return;
    }
    if (l->out.len && reef_http_res_write(l->res, l->out.data, l->out.len) < 0) {
        reef_buf_reset(&l->out);
        return; /* the client is gone: its close callback comes */
    }
    reef_buf_reset(&l->out);
    if (status < 0 || l->limit_hit || (l->at_eof && (!l->follow || l->exited))) {
        logs_end(l);
        return;
    }
    if (!l->at_eof) {
        if (reef_http_res_queued(l->res) > QUEUE_MAX)
            l->waiting_drain = true;
        else
            logs_next(l);
        return;
    }
    uv_timer_start(&l->timer, logs_tick, FOLLOW_POLL_MS, 0);
}

static int query_ll(struct reef_http_req *req, const char *key, long long min, long long *out,
                    struct reef_http_res *res)
{
    char v[64];
    if (reef_http_req_query(req, key, v, sizeof(v)) < 0)
        return 0;
    if (reef_str_to_ll(v, min, 1LL << 62, out) < 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "invalid %s: \"%.60s\"", key, v);
        reef__podio_fail(res, 400, "BadRequest", msg);
        return -1;
    }
    return 1;
}

void reef_podio_logs(uv_loop_t *loop, const char *containers_dir, const char *id,
                     struct reef_http_req *req, struct reef_http_res *res)
{
    struct logs *l = calloc(1, sizeof(*l));
    if (!l) {
        reef__podio_fail(res, 500, "InternalError", "out of memory");
        return;
    }
    l->loop = loop;
    l->tail = -1;
    l->limit = -1;
    l->line_start = true;
    snprintf(l->dir, sizeof(l->dir), "%s/%s", containers_dir, id);
    snprintf(l->path, sizeof(l->path), "%s/container.log", l->dir);
    char v[64];
    l->follow = reef_http_req_query(req, "follow", v, sizeof(v)) >= 0 && reef__podio_bool(v);
    l->timestamps =
        reef_http_req_query(req, "timestamps", v, sizeof(v)) >= 0 && reef__podio_bool(v);
    long long since_s = -1;
    if (query_ll(req, "tailLines", 0, &l->tail, res) < 0 ||
        query_ll(req, "limitBytes", 1, &l->limit, res) < 0 ||
        query_ll(req, "sinceSeconds", 1, &since_s, res) < 0) {
        free(l);
        return;
    }
    if (since_s > 0) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        l->since_ns = ((int64_t)now.tv_sec - since_s) * 1000000000LL + now.tv_nsec;
    }
    if (reef_http_req_query(req, "sinceTime", v, sizeof(v)) >= 0) {
        int64_t t = reef__podio_parse_time(v);
        if (t < 0) {
            reef__podio_fail(res, 400, "BadRequest", "invalid sinceTime");
            free(l);
            return;
        }
        if (since_s <= 0)
            l->since_ns = t;
    }
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    l->work.data = l;
    l->res = res;
    reef_http_res_on_close(res, logs_gone, l);
    reef_http_res_on_drain(res, logs_drained, l);
    if (reef_http_res_begin(res, 200, "text/plain") < 0) {
        return; /* the client is gone: logs_gone frees */
    }
    logs_next(l);
}
