/* Unit tests for runtime/layer: hostile layers that try to write outside the destination, break
 * the tar format or exceed limits (well-formed layers are in test_layer.c). Every test works in its
 * own directory under /tmp holding "dest" and a "canary" directory that must stay untouched. Needs
 * root for devices, ownership and trusted.* xattrs (tests and CI run as root); skips otherwise. */

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

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
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
    return test_done();
}
