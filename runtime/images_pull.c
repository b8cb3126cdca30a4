/* images_pull: pulling an image and installing it in the store (docs/IMAGES.md "Pull").
 *
 * Each layer goes download -> blob writer (size, SHA-256) -> pipe -> unpack worker (decompress,
 * diff_id, safe unpack) in one pass; at most `parallel` layers run at once, each on its own
 * thread with its own HTTP loop. A per-chain-ID lock file makes two pulls of one layer share
 * it; the layer directory appears by rename. Whatever this pull created is deleted again when
 * any step fails, so a failed pull leaves the store as it was. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/crypto.h"
#include "runtime/blobstore.h"
#include "runtime/images.h"
#include "runtime/layer.h"
#include "runtime/platform.h"
#include "runtime/registry.h"

#define CONFIG_MAX (8u << 20)

struct job {
    const struct reef__desc *desc;
    const char *diff_id;
    const char *chain;
    int64_t unpacked;
    _Atomic int64_t got;
    bool new_blob, new_layer, done, active;
    int rc;
    struct reef_err err;
};

struct install {
    struct reef_images *s;
    struct reef__image_src *src;
    const char *label;
    struct job *jobs;
    size_t njobs, next;
    bool failed;
    bool root;
    pthread_mutex_t mu;
    FILE *progress;
    bool tty;
    uint64_t last_draw;
    struct timespec t0;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void human(int64_t n, char *out, size_t sz)
{
    if (n >= 10 << 20)
        snprintf(out, sz, "%.1f MiB", (double)n / (1 << 20));
    else if (n >= 10 << 10)
        snprintf(out, sz, "%.1f KiB", (double)n / 1024);
    else
        snprintf(out, sz, "%lld B", (long long)n);
}

/* Progress: a terminal gets one line redrawn with every active layer; otherwise a line per
 * finished layer. Called with in->mu held. */
static void draw(struct install *in, bool force)
{
    if (!in->progress || !in->tty)
        return;
    uint64_t t = now_ms();
    if (!force && t - in->last_draw < 100)
        return;
    in->last_draw = t;
    char line[400];
    size_t l = 0;
    size_t ndone = 0;
    for (size_t i = 0; i < in->njobs; i++) {
        struct job *j = &in->jobs[i];
        if (j->done)
            ndone++;
        if (!j->active || l > 90) /* keep the line within a terminal's width */
            continue;
        char a[32], b[32];
        human(atomic_load(&j->got), a, sizeof(a));
        human(j->desc->size, b, sizeof(b));
        l += (size_t)snprintf(line + l, sizeof(line) - l, "  %.12s %s/%s", j->desc->digest + 7, a,
                              b);
    }
    double secs =
        (double)(t - (uint64_t)in->t0.tv_sec * 1000 - (uint64_t)in->t0.tv_nsec / 1000000) / 1000.0;
    int64_t total = 0;
    for (size_t i = 0; i < in->njobs; i++)
        total += atomic_load(&in->jobs[i].got);
    char rate[32];
    human(secs > 0 ? (int64_t)((double)total / secs) : 0, rate, sizeof(rate));
    fprintf(in->progress, "\r\033[K%zu/%zu layers, %s/s%s", ndone, in->njobs, rate, line);
    fflush(in->progress);
}

/* ---- one layer ---- */

struct pump {
    struct install *in;
    struct job *j;
    struct reef_blob_writer *w;
    int fd; /* pipe to the unpacker */
    struct reef_err err;
};

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int pump_data(void *ud, const void *data, size_t len)
{
    struct pump *p = ud;
    int rc;
    if (p->w && (rc = reef_blob_writer_write(p->w, data, len, &p->err)) < 0)
        return rc;
    if ((rc = write_all(p->fd, data, len)) < 0)
        return reef_err_errno(&p->err, rc, "write to unpacker");
    atomic_fetch_add(&p->j->got, (int64_t)len);
    if (p->in->tty) {
        pthread_mutex_lock(&p->in->mu);
        draw(p->in, false);
        pthread_mutex_unlock(&p->in->mu);
    }
    return 0;
}

/* Feeds a local file (a blob already in the store, or a blob of an unpacked archive). */
static int pump_file(struct pump *p, const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return reef_err_errno(&p->err, -errno, "open %s", path);
    static __thread char buf[128 << 10];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return reef_err_errno(&p->err, -errno, "read %s", path);
        if (n == 0)
            return 0;
        int rc = pump_data(p, buf, (size_t)n);
        if (rc < 0)
            return rc;
    }
}

struct unpacker {
    int fd;
    const char *dir;
    struct reef_layer_opts opts;
    struct reef_layer_result res;
    struct reef_err err;
    int rc;
};

static void *unpack_main(void *arg)
{
    struct unpacker *u = arg;
    u->rc = reef_layer_unpack_fd(u->fd, u->dir, &u->opts, &u->res, &u->err);
    /* Closing the read end makes a downloader still writing fail with EPIPE instead of
     * blocking forever on a pipe nobody reads. */
    close(u->fd);
    u->fd = -1;
    return NULL;
}

static int run_layer(struct install *in, struct job *j, struct reef_err *err)
{
    struct reef_images *s = in->s;
    const char *dir = reef__images_dir(s);
    struct reef_blobstore *bs = reef__images_blobs(s);
    char lockp[PATH_MAX], final[PATH_MAX], tmp[PATH_MAX];
    snprintf(lockp, sizeof(lockp), "%s/layers/tmp/%s.lock", dir, j->chain + 7);
    snprintf(final, sizeof(final), "%s/layers/%s", dir, j->chain + 7);
    _cleanup_close_ int lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0)
        return reef_err_errno(err, -errno, "lock %s", lockp);
    while (flock(lock, LOCK_EX) < 0)
        if (errno != EINTR)
            return reef_err_errno(err, -errno, "lock %s", lockp);
    struct stat st;
    if (lstat(final, &st) == 0 && reef_blobstore_has(bs, j->desc->digest)) {
        j->unpacked = -1; /* filled from the index by the caller when known */
        atomic_store(&j->got, j->desc->size);
        return 0;
    }
    snprintf(tmp, sizeof(tmp), "%s/layers/tmp/%s.XXXXXX", dir, j->chain + 7);
    if (!mkdtemp(tmp))
        return reef_err_errno(err, -errno, "create %s", tmp);
    chmod(tmp, 0755);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        int e = reef_err_errno(err, -errno, "pipe");
        reef_layer_remove_tree(tmp, NULL);
        return e;
    }
    fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);
    struct unpacker u = {.fd = pfd[0], .dir = tmp};
    u.opts.diff_id = j->diff_id;
    u.opts.devices = in->root ? REEF_LAYER_DEVICES_CREATE : REEF_LAYER_DEVICES_SKIP;
    u.opts.no_chown = !in->root;
    reef_err_clear(&u.err);
    pthread_t th;
    int rc = pthread_create(&th, NULL, unpack_main, &u);
    if (rc != 0) {
        close(pfd[0]);
        close(pfd[1]);
        reef_layer_remove_tree(tmp, NULL);
        return reef_err_errno(err, -rc, "start unpacker");
    }
    struct pump p = {.in = in, .j = j, .fd = pfd[1]};
    reef_err_clear(&p.err);
    struct reef_err derr;
    reef_err_clear(&derr);
    int drc = reef_blob_writer_begin(bs, j->desc->digest, j->desc->size, &p.w, &derr);
    if (drc == 0) {
        char path[PATH_MAX];
        if (!p.w) {
            reef_blobstore_path(bs, j->desc->digest, path, sizeof(path));
            drc = pump_file(&p, path);
            derr = p.err;
        } else if (in->src->reg) {
            drc = reef_registry_blob(in->src->reg, j->desc->digest, pump_data, &p, &derr);
            if (drc < 0 && p.err.code)
                derr = p.err;
        } else if ((drc = in->src->blob_path(in->src->ud, j->desc->digest, path, sizeof(path))) <
                   0) {
            reef_err_set(&derr, drc, "blob %s is missing", j->desc->digest);
        } else {
            drc = pump_file(&p, path);
            derr = p.err;
        }
    }
    close(pfd[1]);
    pthread_join(th, NULL);
    if (drc == 0 && p.w && reef_blob_writer_written(p.w) != j->desc->size)
        drc = reef_err_set(&derr, -EBADMSG, "blob %s: %lld bytes, the manifest says %lld",
                           j->desc->digest, (long long)reef_blob_writer_written(p.w),
                           (long long)j->desc->size);
    if (drc == 0 && u.rc < 0 && p.w) {
        /* The whole blob arrived but would not unpack: a blob that is not what the manifest
         * names explains that best, so check its digest first (commit verifies it). */
        struct reef_err cerr;
        if (reef_blob_writer_commit(p.w, &cerr) < 0) {
            drc = cerr.code;
            derr = cerr;
        } else {
            reef_blobstore_delete(bs, j->desc->digest, NULL);
        }
        p.w = NULL;
    }
    if (drc < 0 || u.rc < 0) {
        if (p.w)
            reef_blob_writer_abort(p.w);
        reef_layer_remove_tree(tmp, NULL);
        /* The unpacker's complaint explains an EPIPE on the download side; a download error
         * explains a truncated tar on the unpack side. */
        if (drc < 0 && drc != -EPIPE)
            *err = derr;
        else if (u.rc < 0)
            *err = u.err;
        else
            *err = derr;
        if (err->code == 0)
            err->code = drc < 0 ? drc : u.rc;
        return err->code;
    }
    if (p.w) {
        if ((rc = reef_blob_writer_commit(p.w, err)) < 0) {
            reef_layer_remove_tree(tmp, NULL);
            return rc;
        }
        j->new_blob = true;
    }
    j->unpacked = (int64_t)u.res.size;
    /* The unpacker writes without fsync; make the tree durable before its name says complete. */
    {
        _cleanup_close_ int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tfd < 0 || syncfs(tfd) < 0) {
            rc = reef_err_errno(err, -errno, "sync %s", tmp);
            reef_layer_remove_tree(tmp, NULL);
            return rc;
        }
    }
    if (rename(tmp, final) == 0) {
        j->new_layer = true;
        char ld[PATH_MAX];
        snprintf(ld, sizeof(ld), "%s/layers", dir);
        _cleanup_close_ int dfd = open(ld, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
            fsync(dfd);
    } else if (errno == EEXIST || errno == ENOTEMPTY) {
        reef_layer_remove_tree(tmp, NULL); /* already there (another pull won) */
    } else {
        rc = reef_err_errno(err, -errno, "rename %s", tmp);
        reef_layer_remove_tree(tmp, NULL);
        return rc;
    }
    return 0;
}

static void *worker(void *arg)
{
    struct install *in = arg;
    for (;;) {
        pthread_mutex_lock(&in->mu);
        if (in->failed || in->next >= in->njobs) {
            pthread_mutex_unlock(&in->mu);
            return NULL;
        }
        struct job *j = &in->jobs[in->next++];
        j->active = true;
        pthread_mutex_unlock(&in->mu);
        reef_err_clear(&j->err);
        j->rc = run_layer(in, j, &j->err);
        pthread_mutex_lock(&in->mu);
        j->active = false;
        j->done = true;
        if (j->rc < 0)
            in->failed = true;
        if (in->progress && j->rc == 0) {
            if (in->tty) {
                draw(in, true);
            } else {
                char a[32];
                human(j->desc->size, a, sizeof(a));
                fprintf(in->progress, "layer %s: done (%s)\n", j->desc->digest, a);
                fflush(in->progress);
            }
        }
        pthread_mutex_unlock(&in->mu);
    }
}

struct smallbuf {
    struct reef_buf *b;
    int64_t max;
};

static int small_data(void *ud, const void *data, size_t len)
{
    struct smallbuf *sb = ud;
    if ((int64_t)(sb->b->len + len) > sb->max)
        return -EFBIG;
    return reef_buf_append(sb->b, data, len);
}

static int get_config(struct reef__image_src *src, const struct reef__desc *d, struct reef_buf *out,
                      struct reef_err *err)
{
    if (d->size > CONFIG_MAX)
        return reef_err_set(err, -E2BIG, "config %s: %lld bytes is too big", d->digest,
                            (long long)d->size);
    int rc;
    if (src->reg) {
        struct smallbuf sb = {out, d->size};
        rc = reef_registry_blob(src->reg, d->digest, small_data, &sb, err);
        if (rc == -EFBIG)
            reef_err_set(err, rc, "config %s: larger than the manifest says", d->digest);
    } else {
        char path[PATH_MAX];
        if ((rc = src->blob_path(src->ud, d->digest, path, sizeof(path))) < 0)
            return reef_err_set(err, rc, "config %s is missing", d->digest);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return reef_err_errno(err, -errno, "open %s", path);
        char buf[65536];
        ssize_t n;
        rc = 0;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
            struct smallbuf sb = {out, d->size};
            if ((rc = small_data(&sb, buf, (size_t)n)) < 0)
                break;
        }
    }
    if (rc < 0)
        return rc;
    char hex[REEF_SHA256_HEX_LEN + 1];
    reef_crypto_sha256_hex(out->data ? out->data : "", out->len, hex);
    if ((int64_t)out->len != d->size || strcmp(hex, d->digest + 7) != 0)
        return reef_err_set(err, -EBADMSG,
                            "config: expected %s (%lld bytes), got sha256:%s (%zu bytes)",
                            d->digest, (long long)d->size, hex, out->len);
    return 0;
}

int reef__images_install(struct reef_images *s, struct reef__image_src *src, const char *label,
                         const char *manifest, size_t manifest_len, const char *manifest_digest,
                         const char *const *refs, size_t nrefs, const struct reef_pull_opts *opts,
                         char *image_id, struct reef_err *err)
{
    struct reef__manifest m;
    int rc = reef__manifest_parse(manifest, manifest_len, &m, err);
    if (rc < 0)
        return rc;
    struct reef_buf cfg = REEF_BUF_INIT;
    char(*diff)[80] = calloc(m.nlayers, 80);
    char(*chain)[80] = calloc(m.nlayers, 80);
    int64_t *unpacked = calloc(m.nlayers, sizeof(int64_t));
    struct job *jobs = calloc(m.nlayers, sizeof(*jobs));
    struct blob_new {
        bool manifest, config;
    } made = {0};
    struct reef_blobstore *bs = reef__images_blobs(s);
    struct install in = {.s = s, .src = src, .label = label, .jobs = jobs, .njobs = m.nlayers};
    pthread_mutex_init(&in.mu, NULL);
    bool locked = false;
    if (!diff || !chain || !unpacked || !jobs) {
        rc = reef_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = get_config(src, &m.config, &cfg, err)) < 0)
        goto out;
    char platform[64];
    int64_t created = 0;
    if ((rc = reef__config_parse(cfg.data, cfg.len, m.nlayers, diff, platform, sizeof(platform),
                                 &created, err)) < 0)
        goto out;
    if (opts && opts->platform) {
        /* A single-platform image must be what --platform asked for. */
        struct reef_platform want, have;
        if ((rc = reef_platform_parse(opts->platform, &want, err)) < 0)
            goto out;
        if (reef_platform_parse(platform, &have, NULL) < 0 ||
            reef_platform_score(&want, &have) == 0) {
            char w[64];
            reef_platform_format(&want, w, sizeof(w));
            rc = reef_err_set(err, -ENOENT, "the image is for %s, not %s", platform, w);
            goto out;
        }
    }
    reef_images_chain_ids((const char(*)[80])diff, m.nlayers, chain);
    if ((rc = reef__images_lock(s, false, err)) < 0)
        goto out;
    locked = true;
    in.root = geteuid() == 0;
    in.progress = opts ? opts->progress : NULL;
    in.tty = in.progress && isatty(fileno(in.progress));
    clock_gettime(CLOCK_MONOTONIC, &in.t0);
    for (size_t i = 0; i < m.nlayers; i++) {
        jobs[i].desc = &m.layers[i];
        jobs[i].diff_id = diff[i];
        jobs[i].chain = chain[i];
    }
    int par = opts && opts->parallel > 0 ? opts->parallel : 3;
    if ((size_t)par > m.nlayers)
        par = (int)m.nlayers;
    signal(SIGPIPE, SIG_IGN);
    pthread_t th[16];
    int nth = 0;
    if (par > 16)
        par = 16;
    for (int i = 0; i < par; i++)
        if (pthread_create(&th[nth], NULL, worker, &in) == 0)
            nth++;
    if (nth == 0)
        worker(&in);
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    if (in.progress && in.tty) {
        fputc('\n', in.progress);
        fflush(in.progress);
    }
    for (size_t i = 0; i < m.nlayers; i++) {
        if (jobs[i].rc < 0) {
            *err = jobs[i].err;
            rc = jobs[i].rc;
            reef_err_wrap(err, "layer %zu of %zu", i + 1, m.nlayers);
            goto out;
        }
        if (!jobs[i].done) {
            rc = reef_err_set(err, -ECANCELED, "layer %zu not fetched", i + 1);
            goto out;
        }
    }
    int64_t size = 0;
    for (size_t i = 0; i < m.nlayers; i++) {
        unpacked[i] = jobs[i].unpacked;
        if (unpacked[i] < 0)
            unpacked[i] = reef__images_layer_size(s, chain[i]);
        if (unpacked[i] < 0)
            unpacked[i] = 0;
        size += unpacked[i];
    }
    made.config = !reef_blobstore_has(bs, m.config.digest);
    if ((rc = reef_blobstore_put(bs, cfg.data, cfg.len, m.config.digest, NULL, err)) < 0) {
        made.config = false;
        goto out;
    }
    made.manifest = !reef_blobstore_has(bs, manifest_digest);
    if ((rc = reef_blobstore_put(bs, manifest, manifest_len, manifest_digest, NULL, err)) < 0) {
        made.manifest = false;
        goto out;
    }
    struct reef__record rec = {
        .id = m.config.digest,
        .manifest_digest = manifest_digest,
        .platform = platform,
        .size = size,
        .created = created,
        .nlayers = m.nlayers,
        .chain = (const char(*)[80])chain,
        .layers = m.layers,
        .diff_ids = (const char(*)[80])diff,
        .unpacked = unpacked,
        .refs = refs,
        .nrefs = nrefs,
    };
    if ((rc = reef__images_record(s, &rec, err)) < 0)
        goto out;
    reef_strlcpy(image_id, m.config.digest, 80);
out:
    if (rc < 0) {
        /* Undo everything this pull created, so the store is as it was. */
        for (size_t i = 0; jobs && i < m.nlayers; i++) {
            if (jobs[i].new_layer) {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s/layers/%s", reef__images_dir(s), chain[i] + 7);
                reef_layer_remove_tree(p, NULL);
            }
            if (jobs[i].new_blob)
                reef_blobstore_delete(bs, m.layers[i].digest, NULL);
        }
        if (made.config)
            reef_blobstore_delete(bs, m.config.digest, NULL);
        if (made.manifest)
            reef_blobstore_delete(bs, manifest_digest, NULL);
    }
    if (locked)
        reef__images_unlock(s);
    pthread_mutex_destroy(&in.mu);
    reef_buf_free(&cfg);
    free(diff);
    free(chain);
    free(unpacked);
    free(jobs);
    reef__manifest_free(&m);
    return rc;
}

int reef_images_pull(struct reef_images *s, const char *ref, const struct reef_pull_opts *opts,
                     struct reef_image **out, struct reef_err *err)
{
    if (out)
        *out = NULL;
    struct reef_image_ref r;
    int rc = reef_image_ref_parse(ref, &r, err);
    if (rc < 0)
        return rc;
    char canon[600];
    reef_image_ref_format(&r, canon, sizeof(canon));
    struct reef_registries_conf *conf = NULL;
    struct reef_registry *reg = NULL;
    struct reef_buf body = REEF_BUF_INIT;
    if ((rc = reef_registries_conf_load(opts ? opts->registries_yaml : NULL, &conf, err)) < 0)
        goto out;
    for (size_t i = 0; opts && i < opts->nauth && rc == 0; i++)
        rc = reef_registries_conf_set_auth(conf, opts->auth[i].host, opts->auth[i].username,
                                           opts->auth[i].password, err);
    if (rc < 0)
        goto out;
    struct reef_registry_opts ro = {.conf = conf, .timeout_ms = opts ? opts->timeout_ms : 0};
    if ((rc = reef_registry_open(&r, &ro, &reg, err)) < 0)
        goto out;
    char mt[128], digest[REEF_DIGEST_MAX];
    const char *want = r.digest[0] ? r.digest : r.tag;
    if ((rc = reef_registry_manifest(reg, want, &body, mt, digest, err)) < 0)
        goto out;
    char top_digest[REEF_DIGEST_MAX];
    reef_strlcpy(top_digest, digest, sizeof(top_digest));
    if (reef_registry_manifest_kind(mt) == 2) {
        char pick[REEF_DIGEST_MAX], pmt[128];
        if ((rc = reef__index_pick(body.data, body.len, opts ? opts->platform : NULL, pick, pmt,
                                   err)) < 0)
            goto out;
        reef_buf_reset(&body);
        if ((rc = reef_registry_manifest(reg, pick, &body, mt, digest, err)) < 0)
            goto out;
        if (reef_registry_manifest_kind(mt) != 1) {
            rc = reef_err_set(err, -EPROTONOSUPPORT, "index entry %s is not a manifest", pick);
            goto out;
        }
    }
    if (opts && opts->progress && !isatty(fileno(opts->progress))) {
        fprintf(opts->progress, "pulling %s (manifest %s)\n", canon, digest);
        fflush(opts->progress);
    }
    char tagref[1024], dref[1024], mref[1024];
    const char *refs[3];
    size_t nrefs = 0;
    if (r.tag[0]) {
        snprintf(tagref, sizeof(tagref), "%s/%s:%s", r.domain, r.path, r.tag);
        refs[nrefs++] = tagref;
    }
    snprintf(dref, sizeof(dref), "%s/%s@%s", r.domain, r.path, top_digest);
    refs[nrefs++] = dref;
    if (strcmp(top_digest, digest) != 0) {
        snprintf(mref, sizeof(mref), "%s/%s@%s", r.domain, r.path, digest);
        refs[nrefs++] = mref;
    }
    struct reef__image_src src = {.reg = reg};
    char id[80];
    rc = reef__images_install(s, &src, canon, body.data, body.len, digest, refs, nrefs, opts, id,
                              err);
    if (rc == 0 && out && (rc = reef_images_get(s, id, out, err)) == 0)
        reef_strlcpy((*out)->name, canon, sizeof((*out)->name));
out:
    if (rc < 0) {
        char fam[600];
        if (reef_image_ref_familiar(&r, fam, sizeof(fam)) < 0)
            reef_strlcpy(fam, ref, sizeof(fam));
        reef_err_wrap(err, "pull %s", fam);
    }
    reef_buf_free(&body);
    reef_registry_close(reg);
    reef_registries_conf_free(conf);
    return rc;
}
