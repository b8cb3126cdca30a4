/* Unit tests for runtime/layer: unpacking well-formed tar layers (plain, gzip, zstd) built here
 * with libarchive's pax writer, their metadata, whiteouts, the diff_id, and tree removal. Hostile
 * layers are in test_layer_hostile.c. Every test works in its own directory under /tmp holding
 * "dest" and a "canary" directory that must stay untouched. Needs root for devices, ownership and
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
#include "tests/unit/layer_fixture.h"
#include "tests/unit/test.h"

static void sha256_hex(const void *p, size_t n, char out[REEF_LAYER_DIFF_ID_LEN + 1])
{
    unsigned char sum[32];
    CHECK(mbedtls_sha256_ret(p, n, sum, 0) == 0);
    strcpy(out, "sha256:");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", sum[i]);
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
    TEST_RUN(test_remove_tree);
    return test_done();
}
