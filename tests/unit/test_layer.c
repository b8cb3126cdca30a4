/* Unit tests for runtime/layer: unpacking tar layers (plain, gzip, zstd) built here with
 * libarchive's pax writer, their metadata, whiteouts, the diff_id, and hostile layers that try to
 * write outside the destination. Every test works in its own directory under /tmp holding "dest"
 * and a "canary" directory that must stay untouched. Needs root for devices, ownership and
 * trusted.* xattrs (tests and CI run as root); skips otherwise. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>
#include <mbedtls/sha256.h>
#include <zlib.h>
#include <zstd.h>

#include "core/buf.h"
#include "runtime/layer.h"
#include "tests/unit/test.h"

/* ---------- building layers ---------- */

static la_ssize_t buf_write_cb(struct archive *a, void *ud, const void *p, size_t n)
{
    (void)a;
    return reef_buf_append(ud, p, n) == 0 ? (la_ssize_t)n : -1;
}

struct tb {
    struct archive *a;
    struct reef_buf out;
};

static void tb_init(struct tb *t)
{
    reef_buf_init(&t->out);
    t->a = archive_write_new();
    CHECK(t->a);
    CHECK(archive_write_set_format_pax_restricted(t->a) == ARCHIVE_OK);
    CHECK(archive_write_open(t->a, &t->out, NULL, buf_write_cb, NULL) == ARCHIVE_OK);
}

/* Closes the archive; t->out holds the tar (padded to libarchive's 10240-byte records). */
static void tb_finish(struct tb *t)
{
    CHECK(archive_write_close(t->a) == ARCHIVE_OK);
    archive_write_free(t->a);
    t->a = NULL;
}

static struct archive_entry *ent(const char *name, mode_t type, mode_t perm)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_mtime(e, 1000000000, 0);
    return e;
}

static void tb_put(struct tb *t, struct archive_entry *e, const void *data, size_t len)
{
    if (archive_entry_filetype(e) == AE_IFREG && !archive_entry_hardlink(e))
        archive_entry_set_size(e, (la_int64_t)len);
    if (archive_write_header(t->a, e) != ARCHIVE_OK)
        TEST_FAIL("write header %s: %s", archive_entry_pathname(e), archive_error_string(t->a));
    if (len)
        CHECK(archive_write_data(t->a, data, len) == (la_ssize_t)len);
    archive_entry_free(e);
}

static void tb_file(struct tb *t, const char *name, const char *data)
{
    tb_put(t, ent(name, AE_IFREG, 0644), data, strlen(data));
}
static void tb_dir(struct tb *t, const char *name)
{
    tb_put(t, ent(name, AE_IFDIR, 0755), NULL, 0);
}
static void tb_symlink(struct tb *t, const char *name, const char *target)
{
    struct archive_entry *e = ent(name, AE_IFLNK, 0777);
    archive_entry_set_symlink(e, target);
    tb_put(t, e, NULL, 0);
}
static void tb_hardlink(struct tb *t, const char *name, const char *target)
{
    struct archive_entry *e = ent(name, AE_IFREG, 0644);
    archive_entry_set_hardlink(e, target);
    tb_put(t, e, NULL, 0);
}

static void gzip_into(const void *p, size_t n, struct reef_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    CHECK(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    uLong bound = deflateBound(&z, (uLong)n) + 64;
    CHECK(reef_buf_reserve(out, bound) == 0);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->data + out->len;
    z.avail_out = (uInt)bound;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out->len += bound - z.avail_out;
    deflateEnd(&z);
}

static void zstd_into(const void *p, size_t n, struct reef_buf *out)
{
    size_t bound = ZSTD_compressBound(n);
    CHECK(reef_buf_reserve(out, bound) == 0);
    size_t r = ZSTD_compress(out->data + out->len, bound, p, n, 3);
    CHECK(!ZSTD_isError(r));
    out->len += r;
}

static void sha256_hex(const void *p, size_t n, char out[REEF_LAYER_DIFF_ID_LEN + 1])
{
    unsigned char sum[32];
    CHECK(mbedtls_sha256_ret(p, n, sum, 0) == 0);
    strcpy(out, "sha256:");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", sum[i]);
}

/* ---------- feeding and the sandbox ---------- */

struct mem_src {
    const unsigned char *p;
    size_t len, pos, chunk;
    int fail_at; /* return -EIO once pos reaches this (when > 0) */
};

static ssize_t mem_read(void *ud, void *buf, size_t len)
{
    struct mem_src *m = ud;
    if (m->fail_at > 0 && m->pos >= (size_t)m->fail_at)
        return -EIO;
    size_t n = m->len - m->pos;
    if (n > len)
        n = len;
    if (m->chunk && n > m->chunk)
        n = m->chunk;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

struct box {
    char base[64];
    char dest[96];
    char canary[96];
};

/* Every box is removed when the test's process exits, whether the test passed or failed (a failed
 * CHECK exits through exit() after printing where it failed), so nothing is left in /tmp. The
 * removal runs only in the process that made the boxes, not in children it forks. */
#define MAX_BOXES 16
static char box_bases[MAX_BOXES][64];
static int n_boxes;
static pid_t box_owner;

static void remove_boxes(void)
{
    if (getpid() != box_owner)
        return;
    for (int i = 0; i < n_boxes; i++) {
        struct reef_err err = {0};
        if (reef_layer_remove_tree(box_bases[i], &err) < 0)
            fprintf(stderr, "  cannot remove %s: %s\n", box_bases[i], err.msg);
    }
}

static void box_init(struct box *b)
{
    if (box_owner != getpid()) {
        box_owner = getpid();
        n_boxes = 0;
        atexit(remove_boxes);
    }
    /* Boxes already removed (box_done) free their slot. */
    int kept = 0;
    for (int i = 0; i < n_boxes; i++)
        if (access(box_bases[i], F_OK) == 0 || errno != ENOENT)
            memmove(box_bases[kept++], box_bases[i], sizeof(box_bases[i]));
    n_boxes = kept;
    CHECK(n_boxes < MAX_BOXES);
    strcpy(b->base, "/tmp/reef-layer-test-XXXXXX");
    CHECK(mkdtemp(b->base));
    strcpy(box_bases[n_boxes++], b->base);
    snprintf(b->dest, sizeof(b->dest), "%s/dest", b->base);
    snprintf(b->canary, sizeof(b->canary), "%s/canary", b->base);
    CHECK(mkdir(b->dest, 0755) == 0);
    CHECK(mkdir(b->canary, 0755) == 0);
    char f[128];
    snprintf(f, sizeof(f), "%s/file", b->canary);
    FILE *fp = fopen(f, "w");
    CHECK(fp);
    fputs("canary", fp);
    fclose(fp);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Nothing appeared next to dest, and the canary is as it was. */
static void box_check(struct box *b)
{
    CHECK_INT(count_entries(b->base), ==, 2);
    CHECK_INT(count_entries(b->canary), ==, 1);
    char f[128], got[32] = {0};
    snprintf(f, sizeof(f), "%s/file", b->canary);
    FILE *fp = fopen(f, "r");
    CHECK(fp);
    CHECK(fread(got, 1, sizeof(got) - 1, fp) == 6);
    fclose(fp);
    CHECK_STR(got, "canary");
    struct stat st;
    CHECK(lstat(f, &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_INT(st.st_nlink, ==, 1);
}

static void box_done(struct box *b)
{
    box_check(b);
    struct reef_err err = {0};
    CHECK_OK(reef_layer_remove_tree(b->base, &err), &err);
    CHECK(access(b->base, F_OK) < 0 && errno == ENOENT);
}

static int unpack_mem(struct box *b, const void *p, size_t n, size_t chunk,
                      const struct reef_layer_opts *o, struct reef_layer_result *res,
                      struct reef_err *err)
{
    struct mem_src m = {.p = p, .len = n, .chunk = chunk};
    return reef_layer_unpack(mem_read, &m, b->dest, o, res, err);
}

/* Unpacks a layer that must be refused; the message must contain want. */
static void expect_refused(struct box *b, const struct tb *t, const char *want)
{
    struct reef_err err = {0};
    int r = unpack_mem(b, t->out.data, t->out.len, 0, NULL, NULL, &err);
    if (r == 0)
        TEST_FAIL("unpack succeeded; wanted an error containing \"%s\"", want);
    CHECK_INT(err.code, ==, r);
    if (!strstr(err.msg, want))
        TEST_FAIL("error \"%s\" does not contain \"%s\"", err.msg, want);
    box_check(b);
}

static void need_root(void)
{
    if (geteuid() != 0)
        TEST_SKIP("needs root");
}

static void read_file(const char *path, char *out, size_t outsz)
{
    memset(out, 0, outsz);
    int fd = open(path, O_RDONLY | O_NOFOLLOW);
    if (fd < 0)
        TEST_FAIL("open %s: %s", path, strerror(errno));
    CHECK(read(fd, out, outsz - 1) >= 0);
    close(fd);
}

static void pathf(char *out, const struct box *b, const char *rel)
{
    snprintf(out, PATH_MAX, "%s/%s", b->dest, rel);
}

/* ---------- the full-featured layer ---------- */

static const char CAP_VALUE[20] = {0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static void build_rich(struct tb *t)
{
    tb_init(t);
    struct archive_entry *e = ent("etc", AE_IFDIR, 0755);
    archive_entry_set_mtime(e, 1111111111, 0);
    tb_put(t, e, NULL, 0);
    e = ent("etc/hostname", AE_IFREG, 0640);
    archive_entry_set_uid(e, 1234);
    archive_entry_set_gid(e, 5678);
    archive_entry_set_mtime(e, 1500000000, 123456789);
    archive_entry_xattr_add_entry(e, "user.reef", "hello", 5);
    tb_put(t, e, "reef\n", 5);
    e = ent("bin/ping", AE_IFREG, 04755);
    archive_entry_xattr_add_entry(e, "security.capability", CAP_VALUE, sizeof(CAP_VALUE));
    archive_entry_set_uid(e, 0);
    tb_put(t, e,
           "\x7f"
           "ELF",
           4);
    e = ent("bin/sg", AE_IFREG, 02711);
    archive_entry_set_gid(e, 42);
    tb_put(t, e, "x", 1);
    e = ent("tmp", AE_IFDIR, 01777);
    tb_put(t, e, NULL, 0);
    tb_symlink(t, "etc/localtime", "/usr/share/zoneinfo/UTC");
    tb_symlink(t, "bin/sh", "busybox");
    tb_hardlink(t, "etc/hostname.link", "etc/hostname");
    tb_put(t, ent("run/fifo", AE_IFIFO, 0620), NULL, 0);
    e = ent("dev/null", AE_IFCHR, 0666);
    archive_entry_set_rdevmajor(e, 1);
    archive_entry_set_rdevminor(e, 3);
    tb_put(t, e, NULL, 0);
    /* A big file: several decompressor output buffers and tar records. */
    size_t big = 300000;
    char *p = malloc(big);
    CHECK(p);
    for (size_t i = 0; i < big; i++)
        p[i] = (char)(i * 7 + i / 1000);
    tb_put(t, ent("usr/lib/big.bin", AE_IFREG, 0644), p, big);
    free(p);
    tb_put(t, ent("usr/lib/empty", AE_IFREG, 0600), NULL, 0);
    tb_finish(t);
}

static void check_rich(struct box *b)
{
    char p[PATH_MAX], got[64];
    struct stat st;
    pathf(p, b, "etc/hostname");
    CHECK(lstat(p, &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_INT(st.st_mode & 07777, ==, 0640);
    CHECK_INT(st.st_uid, ==, 1234);
    CHECK_INT(st.st_gid, ==, 5678);
    CHECK_INT(st.st_mtim.tv_sec, ==, 1500000000);
    CHECK_INT(st.st_mtim.tv_nsec, ==, 123456789);
    CHECK_INT(st.st_nlink, ==, 2);
    read_file(p, got, sizeof(got));
    CHECK_STR(got, "reef\n");
    char xv[32] = {0};
    CHECK_INT(lgetxattr(p, "user.reef", xv, sizeof(xv)), ==, 5);
    CHECK_STR(xv, "hello");
    struct stat st2;
    pathf(p, b, "etc/hostname.link");
    CHECK(lstat(p, &st2) == 0);
    CHECK_INT(st2.st_ino, ==, st.st_ino);

    pathf(p, b, "bin/ping");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_mode & 07777, ==, 04755);
    char cap[64];
    CHECK_INT(lgetxattr(p, "security.capability", cap, sizeof(cap)), ==, sizeof(CAP_VALUE));
    CHECK(memcmp(cap, CAP_VALUE, sizeof(CAP_VALUE)) == 0);
    pathf(p, b, "bin/sg");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_mode & 07777, ==, 02711);
    CHECK_INT(st.st_gid, ==, 42);
    pathf(p, b, "tmp");
    CHECK(lstat(p, &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK_INT(st.st_mode & 07777, ==, 01777);

    char l[256] = {0};
    pathf(p, b, "etc/localtime");
    CHECK(readlink(p, l, sizeof(l) - 1) > 0);
    CHECK_STR(l, "/usr/share/zoneinfo/UTC");
    memset(l, 0, sizeof(l));
    pathf(p, b, "bin/sh");
    CHECK(readlink(p, l, sizeof(l) - 1) > 0);
    CHECK_STR(l, "busybox");

    pathf(p, b, "run/fifo");
    CHECK(lstat(p, &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK_INT(st.st_mode & 07777, ==, 0620);
    pathf(p, b, "dev/null");
    CHECK(lstat(p, &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK_INT(major(st.st_rdev), ==, 1);
    CHECK_INT(minor(st.st_rdev), ==, 3);

    pathf(p, b, "usr/lib/big.bin");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_size, ==, 300000);
    int fd = open(p, O_RDONLY);
    CHECK(fd >= 0);
    char *buf = malloc(300000);
    CHECK(read(fd, buf, 300000) == 300000);
    close(fd);
    for (size_t i = 0; i < 300000; i++)
        if (buf[i] != (char)(i * 7 + i / 1000))
            TEST_FAIL("big.bin differs at %zu", i);
    free(buf);
    pathf(p, b, "usr/lib/empty");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_size, ==, 0);
    CHECK_INT(st.st_mode & 07777, ==, 0600);
    /* Implicit parents are 0755; explicit directory times survive their contents. */
    pathf(p, b, "usr/lib");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_mode & 07777, ==, 0755);
    pathf(p, b, "etc");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_mtim.tv_sec, ==, 1111111111);
}

static void run_rich(enum reef_layer_compression comp, size_t chunk)
{
    need_root();
    umask(077); /* must not leak into implicit parents or modes */
    struct tb t;
    build_rich(&t);
    struct reef_buf blob;
    reef_buf_init(&blob);
    if (comp == REEF_LAYER_GZIP)
        gzip_into(t.out.data, t.out.len, &blob);
    else if (comp == REEF_LAYER_ZSTD)
        zstd_into(t.out.data, t.out.len, &blob);
    else
        CHECK(reef_buf_append(&blob, t.out.data, t.out.len) == 0);
    char want[REEF_LAYER_DIFF_ID_LEN + 1];
    sha256_hex(t.out.data, t.out.len, want);

    struct box b;
    box_init(&b);
    struct reef_layer_opts o = {.devices = REEF_LAYER_DEVICES_CREATE, .diff_id = want};
    struct reef_layer_result res;
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, blob.data, blob.len, chunk, &o, &res, &err), &err);
    CHECK_STR(res.diff_id, want);
    CHECK_INT(res.size, ==, t.out.len);
    CHECK_INT(res.compressed_size, ==, blob.len);
    CHECK_INT(res.entries, ==, 12);
    CHECK_INT(res.compression, ==, comp);
    check_rich(&b);
    box_done(&b);
    reef_buf_free(&blob);
    reef_buf_free(&t.out);
}

static void test_plain(void)
{
    run_rich(REEF_LAYER_PLAIN, 0);
}
static void test_plain_tiny_reads(void)
{
    run_rich(REEF_LAYER_PLAIN, 1);
}
static void test_gzip(void)
{
    run_rich(REEF_LAYER_GZIP, 0);
}
static void test_gzip_small_reads(void)
{
    run_rich(REEF_LAYER_GZIP, 3);
}
static void test_zstd(void)
{
    run_rich(REEF_LAYER_ZSTD, 0);
}
static void test_zstd_small_reads(void)
{
    run_rich(REEF_LAYER_ZSTD, 5);
}

/* Several gzip members (pigz, parallel compressors) and several zstd frames form one stream. */
static void test_multi_member(void)
{
    need_root();
    struct tb t;
    build_rich(&t);
    char want[REEF_LAYER_DIFF_ID_LEN + 1];
    sha256_hex(t.out.data, t.out.len, want);
    for (int z = 0; z < 2; z++) {
        struct reef_buf blob;
        reef_buf_init(&blob);
        size_t cuts[] = {0, 700, 100000, 100001, t.out.len};
        for (size_t i = 0; i + 1 < REEF_ARRAY_LEN(cuts); i++) {
            if (z == 0)
                gzip_into(t.out.data + cuts[i], cuts[i + 1] - cuts[i], &blob);
            else
                zstd_into(t.out.data + cuts[i], cuts[i + 1] - cuts[i], &blob);
        }
        struct box b;
        box_init(&b);
        struct reef_layer_opts o = {.devices = REEF_LAYER_DEVICES_CREATE};
        struct reef_layer_result res;
        struct reef_err err = {0};
        CHECK_OK(unpack_mem(&b, blob.data, blob.len, 4096, &o, &res, &err), &err);
        CHECK_STR(res.diff_id, want);
        CHECK_INT(res.compression, ==, z == 0 ? REEF_LAYER_GZIP : REEF_LAYER_ZSTD);
        check_rich(&b);
        box_done(&b);
        reef_buf_free(&blob);
    }
    reef_buf_free(&t.out);
}

static void test_unpack_fd(void)
{
    need_root();
    struct tb t;
    build_rich(&t);
    struct reef_buf blob;
    reef_buf_init(&blob);
    gzip_into(t.out.data, t.out.len, &blob);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        size_t off = 0;
        while (off < blob.len) {
            ssize_t w = write(pfd[1], blob.data + off, blob.len - off);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(pfd[1]);
    struct box b;
    box_init(&b);
    struct reef_layer_opts o = {.devices = REEF_LAYER_DEVICES_CREATE};
    struct reef_layer_result res;
    struct reef_err err = {0};
    CHECK_OK(reef_layer_unpack_fd(pfd[0], b.dest, &o, &res, &err), &err);
    close(pfd[0]);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    char want[REEF_LAYER_DIFF_ID_LEN + 1];
    sha256_hex(t.out.data, t.out.len, want);
    CHECK_STR(res.diff_id, want);
    check_rich(&b);
    box_done(&b);
    reef_buf_free(&blob);
    reef_buf_free(&t.out);
}

struct thread_job {
    const struct reef_buf *blob;
    struct box box;
    struct reef_layer_result res;
    struct reef_err err;
    int r;
};

static void *thread_main(void *arg)
{
    struct thread_job *j = arg;
    struct reef_layer_opts o = {.devices = REEF_LAYER_DEVICES_CREATE};
    j->r = unpack_mem(&j->box, j->blob->data, j->blob->len, 10000, &o, &j->res, &j->err);
    return NULL;
}

/* Unpacks run side by side on worker threads without sharing anything. */
static void test_threads(void)
{
    need_root();
    struct tb t;
    build_rich(&t);
    struct reef_buf blob;
    reef_buf_init(&blob);
    zstd_into(t.out.data, t.out.len, &blob);
    struct thread_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        jobs[i].blob = &blob;
        box_init(&jobs[i].box);
        CHECK(pthread_create(&th[i], NULL, thread_main, &jobs[i]) == 0);
    }
    char want[REEF_LAYER_DIFF_ID_LEN + 1];
    sha256_hex(t.out.data, t.out.len, want);
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        if (jobs[i].r != 0)
            TEST_FAIL("thread %d: %s", i, jobs[i].err.msg);
        CHECK_STR(jobs[i].res.diff_id, want);
        check_rich(&jobs[i].box);
        box_done(&jobs[i].box);
    }
    reef_buf_free(&blob);
    reef_buf_free(&t.out);
}

/* A sparse file (pax GNU.sparse) keeps its holes and its full length, trailing hole included. */
static void test_sparse(void)
{
    struct tb t;
    tb_init(&t);
    struct archive_entry *e = ent("sparse", AE_IFREG, 0644);
    archive_entry_set_size(e, 4 << 20);
    archive_entry_sparse_add_entry(e, 1 << 20, 4);
    CHECK(archive_write_header(t.a, e) == ARCHIVE_OK);
    char *zero = calloc(1, 1 << 20);
    CHECK(zero);
    /* The writer takes the logical content and stores only the mapped region. */
    for (int i = 0; i < 4; i++) {
        if (i == 1)
            memcpy(zero, "data", 4);
        CHECK(archive_write_data(t.a, zero, 1 << 20) == 1 << 20);
        memset(zero, 0, 4);
    }
    free(zero);
    archive_entry_free(e);
    tb_finish(&t);
    CHECK(t.out.len < 64 * 1024);
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, NULL, NULL, &err), &err);
    char p[PATH_MAX], got[8] = {0};
    struct stat st;
    pathf(p, &b, "sparse");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_size, ==, 4 << 20);
    CHECK_INT(st.st_blocks * 512, <, 1 << 20);
    int fd = open(p, O_RDONLY);
    CHECK(pread(fd, got, 4, 1 << 20) == 4);
    close(fd);
    CHECK_STR(got, "data");
    box_done(&b);
    reef_buf_free(&t.out);
}

/* ---------- whiteouts and replacement ---------- */

static void test_whiteouts(void)
{
    need_root();
    struct tb t;
    tb_init(&t);
    tb_dir(&t, "d");
    tb_file(&t, "d/keep", "k");
    tb_file(&t, "d/.wh..wh..opq", "");
    tb_file(&t, ".wh.gone", "");
    tb_file(&t, "e/.wh.sub", "");    /* parent created implicitly */
    tb_file(&t, ".wh..wh.plnk", ""); /* AUFS metadata: ignored */
    tb_file(&t, "x", "first");
    tb_file(&t, ".wh.x", ""); /* a later whiteout replaces an earlier entry */
    tb_finish(&t);
    struct box b;
    box_init(&b);
    struct reef_layer_result res;
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, NULL, &res, &err), &err);
    CHECK_INT(res.entries, ==, 8);
    char p[PATH_MAX], v[8] = {0};
    struct stat st;
    pathf(p, &b, "gone");
    CHECK(lstat(p, &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
    CHECK_INT(st.st_rdev, ==, makedev(0, 0));
    pathf(p, &b, "e/sub");
    CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    pathf(p, &b, "x");
    CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode));
    pathf(p, &b, "d");
    CHECK_INT(lgetxattr(p, "trusted.overlay.opaque", v, sizeof(v)), ==, 1);
    CHECK_STR(v, "y");
    pathf(p, &b, "d/keep");
    CHECK(lstat(p, &st) == 0);
    pathf(p, &b, "d/.wh..wh..opq");
    CHECK(lstat(p, &st) < 0);
    pathf(p, &b, ".wh..wh.plnk");
    CHECK(lstat(p, &st) < 0);
    pathf(p, &b, ".wh.gone");
    CHECK(lstat(p, &st) < 0);
    CHECK_INT(count_entries(b.dest), ==, 4); /* d e gone x */
    box_done(&b);
    reef_buf_free(&t.out);
}

static void test_whiteouts_xattr(void)
{
    need_root();
    struct tb t;
    tb_init(&t);
    tb_file(&t, "a/.wh.f", "");
    tb_file(&t, "o/.wh..wh..opq", "");
    tb_file(&t, "o/.wh.g", "");
    tb_finish(&t);
    struct box b;
    box_init(&b);
    struct reef_layer_opts o = {.whiteouts = REEF_LAYER_WHITEOUT_XATTR};
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, &o, NULL, &err), &err);
    char p[PATH_MAX], v[8] = {0};
    struct stat st;
    pathf(p, &b, "a/f");
    CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0);
    CHECK_INT(lgetxattr(p, "trusted.overlay.whiteout", v, sizeof(v)), ==, 0);
    pathf(p, &b, "a");
    CHECK_INT(lgetxattr(p, "trusted.overlay.opaque", v, sizeof(v)), ==, 1);
    CHECK(v[0] == 'x');
    pathf(p, &b, "o");
    CHECK_INT(lgetxattr(p, "trusted.overlay.opaque", v, sizeof(v)), ==, 1);
    CHECK(v[0] == 'y'); /* already opaque: stays "y" */
    box_done(&b);
    reef_buf_free(&t.out);
}

/* Later entries win, the way tar extraction works, without ever writing through what they
 * replace. */
static void test_replace(void)
{
    need_root();
    struct tb t;
    tb_init(&t);
    tb_dir(&t, "a");
    tb_file(&t, "a/inner", "i");
    tb_file(&t, "a", "file replaces dir");
    tb_file(&t, "b", "dir replaces file");
    tb_dir(&t, "b");
    tb_file(&t, "b/x", "x");
    tb_symlink(&t, "c", "../canary/file");
    tb_file(&t, "c", "replaces the symlink, not its target");
    tb_dir(&t, "d");
    tb_file(&t, "d/keep", "kept");
    struct archive_entry *e = ent("d", AE_IFDIR, 0700); /* a directory again keeps its contents */
    tb_put(&t, e, NULL, 0);
    tb_symlink(&t, "s", "/etc/passwd");
    tb_hardlink(&t, "s", "a"); /* a hard link replacing a symlink */
    tb_finish(&t);
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, NULL, NULL, &err), &err);
    char p[PATH_MAX], got[64];
    struct stat st;
    pathf(p, &b, "a");
    read_file(p, got, sizeof(got));
    CHECK_STR(got, "file replaces dir");
    pathf(p, &b, "b/x");
    read_file(p, got, sizeof(got));
    CHECK_STR(got, "x");
    pathf(p, &b, "c");
    CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode));
    read_file(p, got, sizeof(got));
    CHECK_STR(got, "replaces the symlink, not its target");
    pathf(p, &b, "d/keep");
    read_file(p, got, sizeof(got));
    CHECK_STR(got, "kept");
    pathf(p, &b, "d");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_mode & 07777, ==, 0700);
    pathf(p, &b, "s");
    CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 2);
    box_done(&b);
    reef_buf_free(&t.out);
}

/* Docker treats absolute names as relative to the layer root. */
static void test_absolute_names(void)
{
    need_root();
    struct tb t;
    tb_init(&t);
    tb_file(&t, "/reef-abs-test/file", "inside");
    tb_file(&t, "./dot/./file", "dot");
    tb_file(&t, "a/../b", "lexical dotdot inside the layer");
    tb_hardlink(&t, "hl", "/reef-abs-test/file");
    tb_finish(&t);
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, NULL, NULL, &err), &err);
    char p[PATH_MAX], got[64];
    pathf(p, &b, "reef-abs-test/file");
    read_file(p, got, sizeof(got));
    CHECK_STR(got, "inside");
    CHECK(access("/reef-abs-test", F_OK) < 0);
    pathf(p, &b, "dot/file");
    read_file(p, got, sizeof(got));
    CHECK_STR(got, "dot");
    pathf(p, &b, "b");
    read_file(p, got, sizeof(got));
    CHECK_STR(got, "lexical dotdot inside the layer");
    pathf(p, &b, "hl");
    read_file(p, got, sizeof(got));
    CHECK_STR(got, "inside");
    box_done(&b);
    reef_buf_free(&t.out);
}

/* ---------- hostile layers ---------- */

static void test_dotdot_escape(void)
{
    const char *names[] = {"../evil",          "../../etc/passwd",  "a/../../evil",
                           "./../canary/file", "a/b/../../../evil", ".."};
    for (size_t i = 0; i < REEF_ARRAY_LEN(names); i++) {
        struct tb t;
        tb_init(&t);
        tb_file(&t, "ok", "fine");
        tb_file(&t, names[i], "evil");
        tb_finish(&t);
        struct box b;
        box_init(&b);
        expect_refused(&b, &t, "path escapes the layer");
        char want[128];
        snprintf(want, sizeof(want), "layer: entry \"%s\": path escapes the layer", names[i]);
        struct reef_err err = {0};
        CHECK(unpack_mem(&b, t.out.data, t.out.len, 0, NULL, NULL, &err) < 0);
        CHECK_STR(err.msg, want);
        box_done(&b);
        reef_buf_free(&t.out);
    }
}

static void file_sig(const char *path, struct stat *st)
{
    CHECK(lstat(path, st) == 0);
}
static void same_sig(const char *path, const struct stat *before)
{
    struct stat now;
    CHECK(lstat(path, &now) == 0);
    CHECK_INT(now.st_size, ==, before->st_size);
    CHECK_INT(now.st_nlink, ==, before->st_nlink);
    CHECK_INT(now.st_mtim.tv_sec, ==, before->st_mtim.tv_sec);
    CHECK_INT(now.st_mtim.tv_nsec, ==, before->st_mtim.tv_nsec);
    CHECK_INT(now.st_mode, ==, before->st_mode);
}

static void test_symlink_write_through(void)
{
    struct stat passwd;
    file_sig("/etc/passwd", &passwd);
    struct box b;
    box_init(&b);
    char abs_canary[200];
    snprintf(abs_canary, sizeof(abs_canary), "%s", b.canary);
    struct {
        const char *link, *target, *file;
    } cases[] = {
        {"a", "/etc", "a/passwd"},     {"t", abs_canary, "t/evil"},
        {"t", abs_canary, "t/file"},   {"r", "../canary", "r/evil"},
        {"r", "../canary", "r/x/y/z"}, {"d/l", "../..", "d/l/canary/file"},
        {"x", ".", "x/x/x/evil"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        struct tb t;
        tb_init(&t);
        tb_symlink(&t, cases[i].link, cases[i].target);
        tb_file(&t, cases[i].file, "evil");
        tb_finish(&t);
        expect_refused(&b, &t, "symlink");
        /* The same as a directory entry and as a hard link through the symlink. */
        reef_buf_free(&t.out);
        tb_init(&t);
        tb_symlink(&t, cases[i].link, cases[i].target);
        tb_dir(&t, cases[i].file);
        tb_finish(&t);
        struct reef_err e1 = {0};
        CHECK(reef_layer_remove_tree(b.dest, &e1) == 0 && mkdir(b.dest, 0755) == 0);
        expect_refused(&b, &t, "symlink");
        reef_buf_free(&t.out);
        CHECK(reef_layer_remove_tree(b.dest, &e1) == 0 && mkdir(b.dest, 0755) == 0);
    }
    same_sig("/etc/passwd", &passwd);
    box_done(&b);
}

static void test_hardlink_hostile(void)
{
    struct stat shadow;
    file_sig("/etc/shadow", &shadow);
    struct {
        const char *symlink_name, *symlink_target, *target, *want;
    } cases[] = {
        {NULL, NULL, "/etc/shadow", "hard link target \"etc/shadow\" is not in the layer"},
        {NULL, NULL, "../../../../../../etc/shadow", "hard link target escapes the layer"},
        {NULL, NULL, "../canary/file", "hard link target escapes the layer"},
        {"s", "/etc", "s/shadow", "symlink"},
        {"s", "../canary", "s/file", "symlink"},
        {NULL, NULL, "nothing", "is not in the layer"},
        {NULL, NULL, ".", "hard link to the layer root"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        struct tb t;
        tb_init(&t);
        if (cases[i].symlink_name)
            tb_symlink(&t, cases[i].symlink_name, cases[i].symlink_target);
        tb_hardlink(&t, "h", cases[i].target);
        tb_finish(&t);
        struct box b;
        box_init(&b);
        expect_refused(&b, &t, cases[i].want);
        box_done(&b);
        reef_buf_free(&t.out);
    }
    /* A hard link to a directory, and one whose target is a symlink pointing outside: the latter
     * is allowed (it becomes a second symlink, never followed). */
    struct tb t;
    tb_init(&t);
    tb_dir(&t, "dir");
    tb_hardlink(&t, "h", "dir");
    tb_finish(&t);
    struct box b;
    box_init(&b);
    expect_refused(&b, &t, "hard link to directory");
    box_done(&b);
    reef_buf_free(&t.out);

    tb_init(&t);
    tb_symlink(&t, "sl", "/etc/shadow");
    tb_hardlink(&t, "h", "sl");
    tb_finish(&t);
    box_init(&b);
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, NULL, NULL, &err), &err);
    char p[PATH_MAX];
    struct stat st;
    pathf(p, &b, "h");
    CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
    box_done(&b);
    reef_buf_free(&t.out);
    same_sig("/etc/shadow", &shadow);
}

static void test_devices_policy(void)
{
    need_root();
    struct tb t;
    tb_init(&t);
    struct archive_entry *e = ent("dev/sda", AE_IFBLK, 0660);
    archive_entry_set_rdevmajor(e, 8);
    tb_put(&t, e, NULL, 0);
    tb_finish(&t);
    struct box b;
    box_init(&b);
    expect_refused(&b, &t, "layer: entry \"dev/sda\": device nodes are not allowed");
    box_done(&b);
    box_init(&b);
    struct reef_layer_opts o = {.devices = REEF_LAYER_DEVICES_SKIP};
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, &o, NULL, &err), &err);
    char p[PATH_MAX];
    pathf(p, &b, "dev/sda");
    CHECK(access(p, F_OK) < 0);
    box_done(&b);
    box_init(&b);
    o.devices = REEF_LAYER_DEVICES_CREATE;
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, &o, NULL, &err), &err);
    struct stat st;
    pathf(p, &b, "dev/sda");
    CHECK(lstat(p, &st) == 0 && S_ISBLK(st.st_mode) && major(st.st_rdev) == 8);
    box_done(&b);
    reef_buf_free(&t.out);
}

static void test_overlay_xattrs_dropped(void)
{
    need_root();
    struct tb t;
    tb_init(&t);
    struct archive_entry *e = ent("f", AE_IFREG, 0644);
    archive_entry_xattr_add_entry(e, "trusted.overlay.redirect", "/etc", 4);
    archive_entry_xattr_add_entry(e, "trusted.reef", "kept", 4);
    tb_put(&t, e, "x", 1);
    tb_finish(&t);
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, NULL, NULL, &err), &err);
    char p[PATH_MAX], v[16];
    pathf(p, &b, "f");
    CHECK(lgetxattr(p, "trusted.overlay.redirect", v, sizeof(v)) < 0);
    CHECK_INT(lgetxattr(p, "trusted.reef", v, sizeof(v)), ==, 4);
    box_done(&b);
    reef_buf_free(&t.out);
}

static void test_truncated_and_corrupt(void)
{
    struct tb t;
    build_rich(&t);
    struct reef_buf gz, zs;
    reef_buf_init(&gz);
    reef_buf_init(&zs);
    gzip_into(t.out.data, t.out.len, &gz);
    zstd_into(t.out.data, t.out.len, &zs);
    struct reef_layer_opts o = {.devices = REEF_LAYER_DEVICES_CREATE};
    struct {
        const struct reef_buf *blob;
        size_t len;
        const char *want;
    } cases[] = {
        {&t.out, 20000, "Truncated"},
        {&t.out, 512 + 100, "Truncated"},
        {&gz, gz.len / 2, "gzip: stream truncated"},
        {&gz, gz.len - 3, "gzip: stream truncated"},
        {&zs, zs.len / 2, "zstd: stream truncated"},
        {&zs, zs.len - 1, "zstd: stream truncated"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(cases); i++) {
        struct box b;
        box_init(&b);
        struct reef_err err = {0};
        int r = unpack_mem(&b, cases[i].blob->data, cases[i].len, 0, &o, NULL, &err);
        CHECK(r < 0);
        if (!strstr(err.msg, cases[i].want))
            TEST_FAIL("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].want);
        box_done(&b);
    }
    /* Corruption inside the deflate data, in the CRC, and garbage after the last member. */
    size_t spots[] = {gz.len / 3, gz.len - 6};
    for (size_t i = 0; i < REEF_ARRAY_LEN(spots); i++) {
        gz.data[spots[i]] ^= 0x55;
        struct box b;
        box_init(&b);
        struct reef_err err = {0};
        CHECK(unpack_mem(&b, gz.data, gz.len, 0, &o, NULL, &err) < 0);
        if (!strstr(err.msg, "gzip: corrupt data") && !strstr(err.msg, "layer: tar"))
            TEST_FAIL("corrupt gzip: %s", err.msg);
        box_done(&b);
        gz.data[spots[i]] ^= 0x55;
    }
    CHECK(reef_buf_append(&gz, "garbage!", 8) == 0);
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    CHECK(unpack_mem(&b, gz.data, gz.len, 0, &o, NULL, &err) < 0);
    CHECK(strstr(err.msg, "gzip: corrupt data"));
    box_done(&b);
    zs.data[zs.len / 2] ^= 0xff;
    box_init(&b);
    CHECK(unpack_mem(&b, zs.data, zs.len, 0, &o, NULL, &err) < 0);
    CHECK(strstr(err.msg, "zstd: corrupt data") || strstr(err.msg, "layer: tar"));
    box_done(&b);
    reef_buf_free(&gz);
    reef_buf_free(&zs);
    reef_buf_free(&t.out);
}

/* A ustar header written by hand, for what libarchive's writer will not produce. */
static void raw_header(unsigned char h[512], const char *name, char type,
                       const unsigned char *size12)
{
    memset(h, 0, 512);
    memcpy(h, name, strlen(name) < 100 ? strlen(name) : 100);
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0000000", 7);
    memcpy(h + 116, "0000000", 7);
    if (size12)
        memcpy(h + 124, size12, 12);
    else
        memcpy(h + 124, "00000000000", 11);
    memcpy(h + 136, "14000000000", 11);
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
}

static void test_huge_size_field(void)
{
    /* Base-256 size of 2^62 bytes, and the largest octal size, each followed by a few bytes. */
    unsigned char huge[12] = {0x80, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0};
    const unsigned char *sizes[] = {huge, (const unsigned char *)"77777777777"};
    for (size_t i = 0; i < REEF_ARRAY_LEN(sizes); i++) {
        unsigned char blob[512 * 4];
        memset(blob, 'A', sizeof(blob));
        raw_header(blob, "big", '0', sizes[i]);
        struct box b;
        box_init(&b);
        struct reef_err err = {0};
        int r = unpack_mem(&b, blob, sizeof(blob), 0, NULL, NULL, &err);
        CHECK(r < 0);
        CHECK(strstr(err.msg, "layer"));
        char p[PATH_MAX];
        struct stat st;
        pathf(p, &b, "big");
        if (lstat(p, &st) == 0)
            CHECK_INT(st.st_blocks, <=, 64);
        box_done(&b);
    }
}

static void test_long_paths(void)
{
    /* A name longer than PATH_MAX, and a single component longer than NAME_MAX. */
    char *deep = malloc(6000);
    CHECK(deep);
    size_t o = 0;
    while (o < 5000) {
        memcpy(deep + o, "abcdefgh/", 9);
        o += 9;
    }
    strcpy(deep + o, "file");
    char longcomp[400];
    memset(longcomp, 'x', 300);
    strcpy(longcomp + 300, "/f");
    const char *names[] = {deep, longcomp};
    const char *wants[] = {"path is longer than 4095 bytes", "longer than 255 bytes"};
    for (int i = 0; i < 2; i++) {
        struct tb t;
        tb_init(&t);
        tb_file(&t, names[i], "deep");
        tb_finish(&t);
        struct box b;
        box_init(&b);
        expect_refused(&b, &t, wants[i]);
        box_done(&b);
        reef_buf_free(&t.out);
    }
    /* Just below the limit is fine, and removable. */
    deep[4000] = '\0';
    deep[3999] = 'z';
    struct tb t;
    tb_init(&t);
    tb_file(&t, deep, "deep");
    tb_finish(&t);
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, NULL, NULL, &err), &err);
    box_done(&b);
    reef_buf_free(&t.out);
    free(deep);
}

/* A pax "path" record with a NUL in it: whatever libarchive makes of it must stay inside. */
static void test_nul_in_name(void)
{
    unsigned char blob[512 * 8];
    memset(blob, 0, sizeof(blob));
    const char rec[] = "28 path=ok\0/../../../evil/x\n";
    size_t reclen = sizeof(rec) - 1;
    char sz[12];
    snprintf(sz, sizeof(sz), "%011o", (unsigned)reclen);
    raw_header(blob, "pax", 'x', (const unsigned char *)sz);
    memcpy(blob + 512, rec, reclen);
    raw_header(blob + 1024, "placeholder", '0', (const unsigned char *)"00000000004");
    memcpy(blob + 1536, "data", 4);
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    int r = unpack_mem(&b, blob, sizeof(blob), 0, NULL, NULL, &err);
    /* libarchive ends the name at the NUL; refusing would be fine too, escaping is not. */
    if (r == 0) {
        char p[PATH_MAX];
        pathf(p, &b, "ok");
        CHECK(access(p, F_OK) == 0);
        CHECK_INT(count_entries(b.dest), ==, 1);
    }
    box_done(&b);
}

/* Non-ASCII names (pax stores them as UTF-8) land as the same bytes, whatever the locale. */
static void test_utf8_names(void)
{
    /* Written by hand: libarchive's writer cannot take UTF-8 names in the C locale. */
    static const char name[] = "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac";
    char rec[64];
    int reclen = snprintf(rec, sizeof(rec), "%zu path=%s\n", strlen(name) + 9, name);
    CHECK(reclen == (int)strlen(name) + 9);
    unsigned char blob[512 * 6];
    memset(blob, 0, sizeof(blob));
    char sz[12];
    snprintf(sz, sizeof(sz), "%011o", (unsigned)reclen);
    raw_header(blob, "pax", 'x', (const unsigned char *)sz);
    memcpy(blob + 512, rec, (size_t)reclen);
    raw_header(blob + 1024, "ascii-fallback", '0', (const unsigned char *)"00000000001");
    blob[1536] = 'u';
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, blob, sizeof(blob), 0, NULL, NULL, &err), &err);
    char p[PATH_MAX];
    pathf(p, &b, name);
    if (access(p, F_OK) != 0)
        TEST_FAIL("%s missing", p);
    box_done(&b);
}

static void test_not_a_layer(void)
{
    unsigned char junk[3000];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)(i * 31 + 7);
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    CHECK(unpack_mem(&b, junk, sizeof(junk), 0, NULL, NULL, &err) < 0);
    if (strncmp(err.msg, "layer: tar: ", 12) != 0)
        TEST_FAIL("%s", err.msg);
    /* gzip magic with nonsense after it */
    junk[0] = 0x1f;
    junk[1] = 0x8b;
    CHECK(unpack_mem(&b, junk, sizeof(junk), 0, NULL, NULL, &err) < 0);
    CHECK(strstr(err.msg, "layer: gzip: corrupt data"));
    junk[0] = 0x28, junk[1] = 0xb5, junk[2] = 0x2f, junk[3] = 0xfd;
    CHECK(unpack_mem(&b, junk, sizeof(junk), 0, NULL, NULL, &err) < 0);
    CHECK(strstr(err.msg, "layer: zstd: corrupt data"));
    /* Fewer bytes than any magic, and nothing at all. */
    CHECK(unpack_mem(&b, "\x1f", 1, 0, NULL, NULL, &err) < 0);
    CHECK(unpack_mem(&b, "", 0, 0, NULL, NULL, &err) < 0);
    /* A file named as the layer root. */
    struct tb t;
    tb_init(&t);
    tb_file(&t, ".", "root");
    tb_finish(&t);
    expect_refused(&b, &t, "only a directory can name the layer root");
    reef_buf_free(&t.out);
    box_done(&b);
}

static void test_empty_layer(void)
{
    /* Docker's empty layer: 1024 zero bytes (just the end-of-archive blocks). */
    unsigned char zeros[1024] = {0};
    struct box b;
    box_init(&b);
    struct reef_layer_result res;
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, zeros, sizeof(zeros), 0, NULL, &res, &err), &err);
    CHECK_STR(res.diff_id,
              "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
    CHECK_INT(res.entries, ==, 0);
    CHECK_INT(count_entries(b.dest), ==, 0);
    box_done(&b);
}

static void test_limits_and_checks(void)
{
    struct tb t;
    tb_init(&t);
    for (int i = 0; i < 10; i++) {
        char n[16];
        snprintf(n, sizeof(n), "f%d", i);
        tb_file(&t, n, "data");
    }
    tb_finish(&t);
    struct box b;
    box_init(&b);
    struct reef_err err = {0};
    struct reef_layer_opts o = {.diff_id = "sha256:0000"};
    CHECK_INT(unpack_mem(&b, t.out.data, t.out.len, 0, &o, NULL, &err), ==, -EBADMSG);
    CHECK(strstr(err.msg, "diff_id mismatch"));
    CHECK_OK(reef_layer_remove_tree(b.dest, &err), &err);
    CHECK(mkdir(b.dest, 0755) == 0);
    struct reef_layer_opts o2 = {.max_size = 4096};
    CHECK_INT(unpack_mem(&b, t.out.data, t.out.len, 0, &o2, NULL, &err), ==, -EFBIG);
    CHECK(strstr(err.msg, "exceeds the limit of 4096 bytes"));
    CHECK_OK(reef_layer_remove_tree(b.dest, &err), &err);
    CHECK(mkdir(b.dest, 0755) == 0);
    struct reef_layer_opts o3 = {.max_entries = 5};
    CHECK_INT(unpack_mem(&b, t.out.data, t.out.len, 0, &o3, NULL, &err), ==, -E2BIG);
    CHECK_OK(reef_layer_remove_tree(b.dest, &err), &err);
    CHECK(mkdir(b.dest, 0755) == 0);
    struct mem_src m = {
        .p = (const unsigned char *)t.out.data, .len = t.out.len, .chunk = 1000, .fail_at = 3000};
    CHECK_INT(reef_layer_unpack(mem_read, &m, b.dest, NULL, NULL, &err), ==, -EIO);
    CHECK_STR(err.msg, "layer: read: Input/output error");
    CHECK(reef_layer_unpack(mem_read, &m, "/nonexistent/reef", NULL, NULL, &err) == -ENOENT);
    box_done(&b);
    reef_buf_free(&t.out);
}

/* Without privileges (the test drops to uid 65534): no_chown, directories without write or
 * search permission in the tar, whiteouts failing clearly, and removal of what was unpacked. */
static void test_unprivileged(void)
{
    need_root();
    struct box b;
    box_init(&b);
    CHECK(chown(b.base, 65534, 65534) == 0);
    CHECK(chown(b.dest, 65534, 65534) == 0);
    CHECK(chown(b.canary, 65534, 65534) == 0);
    CHECK(setgroups(0, NULL) == 0);
    CHECK(setresgid(65534, 65534, 65534) == 0);
    CHECK(setresuid(65534, 65534, 65534) == 0);
    struct tb t;
    tb_init(&t);
    tb_put(&t, ent("ro", AE_IFDIR, 0555), NULL, 0);
    tb_file(&t, "ro/f", "in a read-only dir");
    tb_put(&t, ent("none", AE_IFDIR, 0000), NULL, 0);
    tb_file(&t, "none/deeper/g", "in a no-permission dir");
    tb_finish(&t);
    struct reef_layer_opts o = {.no_chown = true};
    struct reef_err err = {0};
    CHECK_OK(unpack_mem(&b, t.out.data, t.out.len, 0, &o, NULL, &err), &err);
    char p[PATH_MAX];
    struct stat st;
    pathf(p, &b, "ro");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_mode & 07777, ==, 0555);
    CHECK_INT(st.st_uid, ==, 65534);
    CHECK_INT(st.st_mtim.tv_sec, ==, 1000000000);
    pathf(p, &b, "none");
    CHECK(lstat(p, &st) == 0);
    CHECK_INT(st.st_mode & 07777, ==, 0);
    reef_buf_free(&t.out);
    CHECK_OK(reef_layer_remove_tree(b.dest, &err), &err);
    CHECK(mkdir(b.dest, 0755) == 0);

    tb_init(&t);
    tb_file(&t, ".wh.gone", "");
    tb_finish(&t);
    /* Linux 5.8+ lets anyone create a 0:0 whiteout device; older kernels need CAP_MKNOD. */
    if (unpack_mem(&b, t.out.data, t.out.len, 0, &o, NULL, &err) == 0) {
        pathf(p, &b, "gone");
        CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    } else {
        CHECK_INT(err.code, ==, -EPERM);
        CHECK(strstr(err.msg, "layer: entry \".wh.gone\": cannot create whiteout"));
        CHECK(strstr(err.msg, "CAP_MKNOD"));
    }
    /* A real device stays refused even when asked for. */
    reef_buf_free(&t.out);
    tb_init(&t);
    struct archive_entry *e = ent("null", AE_IFCHR, 0666);
    archive_entry_set_rdevmajor(e, 1);
    archive_entry_set_rdevminor(e, 3);
    tb_put(&t, e, NULL, 0);
    tb_finish(&t);
    o.devices = REEF_LAYER_DEVICES_CREATE;
    CHECK(unpack_mem(&b, t.out.data, t.out.len, 0, &o, NULL, &err) == -EPERM);
    CHECK(strstr(err.msg, "layer: entry \"null\": mknod: Operation not permitted"));
    reef_buf_free(&t.out);
    box_done(&b);
}

/* ---------- removal ---------- */

static void test_remove_tree(void)
{
    struct box b;
    box_init(&b);
    int root = open(b.dest, O_RDONLY | O_DIRECTORY);
    CHECK(root >= 0);
    /* Symlinks to the canary (as a directory and as a file), read-only and no-permission
     * directories, a wide directory and a chain deeper than PATH_MAX. */
    CHECK(symlinkat(b.canary, root, "to-canary") == 0);
    CHECK(symlinkat("../canary/file", root, "to-file") == 0);
    CHECK(mkdirat(root, "ro", 0755) == 0);
    int fd = openat(root, "ro/f", O_CREAT | O_WRONLY, 0444);
    CHECK(fd >= 0);
    close(fd);
    CHECK(fchmodat(root, "ro", 0555, 0) == 0);
    CHECK(mkdirat(root, "none", 0000) == 0);
    CHECK(mkdirat(root, "wide", 0755) == 0);
    int wide = openat(root, "wide", O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < 1100; i++) {
        char n[16];
        snprintf(n, sizeof(n), "d%d", i);
        CHECK(mkdirat(wide, n, 0755) == 0);
        if (i % 500 == 0)
            CHECK(mkdirat(wide, "../wide/x", 0755) == 0 || errno == EEXIST);
    }
    close(wide);
    /* 30 levels of 200-byte names: 6 KB of path, more than PATH_MAX. */
    char longname[201];
    memset(longname, 'd', 200);
    longname[200] = '\0';
    int cur = dup(root);
    for (int i = 0; i < 30; i++) {
        CHECK(mkdirat(cur, longname, 0755) == 0);
        int n = openat(cur, longname, O_RDONLY | O_DIRECTORY);
        CHECK(n >= 0);
        if (i == 25)
            CHECK(symlinkat("/etc", n, "etc") == 0);
        close(cur);
        cur = n;
    }
    close(cur);
    close(root);
    struct reef_err err = {0};
    CHECK_OK(reef_layer_remove_tree(b.dest, &err), &err);
    CHECK(access(b.dest, F_OK) < 0);
    CHECK(access("/etc/passwd", F_OK) == 0);
    /* Missing paths are fine; a symlink is removed, not followed; "/" and "." are refused. */
    CHECK_OK(reef_layer_remove_tree(b.dest, &err), &err);
    CHECK(symlink(b.canary, b.dest) == 0);
    CHECK_OK(reef_layer_remove_tree(b.dest, &err), &err);
    CHECK(mkdir(b.dest, 0755) == 0);
    box_check(&b);
    CHECK(reef_layer_remove_tree("/", &err) == -EINVAL);
    CHECK(reef_layer_remove_tree(".", &err) == -EINVAL);
    box_done(&b);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_plain);
    TEST_RUN(test_plain_tiny_reads);
    TEST_RUN(test_gzip);
    TEST_RUN(test_gzip_small_reads);
    TEST_RUN(test_zstd);
    TEST_RUN(test_zstd_small_reads);
    TEST_RUN(test_multi_member);
    TEST_RUN(test_unpack_fd);
    TEST_RUN(test_threads);
    TEST_RUN(test_sparse);
    TEST_RUN(test_whiteouts);
    TEST_RUN(test_whiteouts_xattr);
    TEST_RUN(test_replace);
    TEST_RUN(test_absolute_names);
    TEST_RUN(test_dotdot_escape);
    TEST_RUN(test_symlink_write_through);
    TEST_RUN(test_hardlink_hostile);
    TEST_RUN(test_devices_policy);
    TEST_RUN(test_overlay_xattrs_dropped);
    TEST_RUN(test_truncated_and_corrupt);
    TEST_RUN(test_huge_size_field);
    TEST_RUN(test_long_paths);
    TEST_RUN(test_nul_in_name);
    TEST_RUN(test_utf8_names);
    TEST_RUN(test_not_a_layer);
    TEST_RUN(test_empty_layer);
    TEST_RUN(test_limits_and_checks);
    TEST_RUN(test_unprivileged);
    TEST_RUN(test_remove_tree);
    return test_done();
}
