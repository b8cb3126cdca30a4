/* Helpers shared by the runtime/layer test programs (test_layer.c, test_layer_hostile.c): building
 * tar layers in memory (and the full-featured one), feeding them to the unpacker, and the per-test
 * sandbox directory ("box") that is removed when the test's process exits. */
#ifndef REEF_TEST_LAYER_FIXTURE_H
#define REEF_TEST_LAYER_FIXTURE_H

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

static void need_root(void)
{
    if (geteuid() != 0)
        TEST_SKIP("needs root");
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

#endif
