/* Unit tests for runtime/blobstore: verified, atomic, shared content-addressed storage. */
#include <dirent.h>
#include <mbedtls/sha256.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "runtime/blobstore.h"
#include "tests/unit/test.h"

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/reef-blob-XXXXXX");
    CHECK(mkdtemp(dir));
}

static void digest_of(const void *data, size_t len, char out[REEF_DIGEST_MAX])
{
    unsigned char sum[32];
    mbedtls_sha256_ret(data, len, sum, 0);
    strcpy(out, "sha256:");
    for (int i = 0; i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", sum[i]);
}

static int count_entries(const char *sub)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, sub);
    DIR *d = opendir(p);
    CHECK(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void cleanup_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static void test_digest_valid(void)
{
    CHECK(reef_digest_valid("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    CHECK(!reef_digest_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
    CHECK(!reef_digest_valid("sha256:0123"));
    CHECK(!reef_digest_valid("sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    CHECK(!reef_digest_valid("sha256:../../../../etc/passwd"));
}

static void test_put_read(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_blobstore *bs;
    CHECK_OK(reef_blobstore_open(dir, &bs, &err), &err);
    char d[REEF_DIGEST_MAX], want[REEF_DIGEST_MAX];
    digest_of("hello", 5, want);
    CHECK(!reef_blobstore_has(bs, want));
    CHECK_OK(reef_blobstore_put(bs, "hello", 5, NULL, d, &err), &err);
    CHECK_STR(d, want);
    CHECK(reef_blobstore_has(bs, want));
    CHECK_INT(reef_blobstore_size(bs, want), ==, 5);
    struct reef_buf b = REEF_BUF_INIT;
    CHECK_OK(reef_blobstore_read(bs, want, 100, &b, &err), &err);
    CHECK_STR(b.data, "hello");
    reef_buf_reset(&b);
    CHECK_INT(reef_blobstore_read(bs, want, 4, &b, &err), ==, -EFBIG);
    /* Putting again is a no-op; putting with the wrong expected digest fails. */
    CHECK_OK(reef_blobstore_put(bs, "hello", 5, want, NULL, &err), &err);
    CHECK_INT(reef_blobstore_put(bs, "hellO", 5, want, NULL, &err), ==, -EBADMSG);
    CHECK(strstr(err.msg, want));
    /* Corruption on disk is detected on read. */
    char path[512];
    CHECK_OK(reef_blobstore_path(bs, want, path, sizeof(path)), &err);
    FILE *f = fopen(path, "w");
    fputs("jello", f);
    fclose(f);
    CHECK_INT(reef_blobstore_read(bs, want, 100, &b, &err), ==, -EBADMSG);
    CHECK(strstr(err.msg, "corrupt"));
    CHECK_INT(b.len, ==, 0);
    CHECK_OK(reef_blobstore_delete(bs, want, &err), &err);
    CHECK(!reef_blobstore_has(bs, want));
    reef_buf_free(&b);
    reef_blobstore_close(bs);
    cleanup_dir();
}

static void test_stream_writer(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_blobstore *bs;
    CHECK_OK(reef_blobstore_open(dir, &bs, &err), &err);
    size_t n = 3 << 20;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 7 + (i >> 11));
    char d[REEF_DIGEST_MAX];
    digest_of(data, n, d);
    struct reef_blob_writer *w;
    CHECK_OK(reef_blob_writer_begin(bs, d, (int64_t)n, &w, &err), &err);
    CHECK(w);
    for (size_t off = 0; off < n; off += 65536)
        CHECK_OK(reef_blob_writer_write(w, data + off, n - off < 65536 ? n - off : 65536, &err),
                 &err);
    CHECK_INT(reef_blob_writer_written(w), ==, n);
    CHECK(!reef_blobstore_has(bs, d)); /* not visible before commit */
    CHECK_OK(reef_blob_writer_commit(w, &err), &err);
    CHECK(reef_blobstore_has(bs, d));
    CHECK_INT(count_entries("tmp"), ==, 0);
    /* Already complete: begin says there is nothing to write. */
    CHECK_OK(reef_blob_writer_begin(bs, d, (int64_t)n, &w, &err), &err);
    CHECK(w == NULL);
    free(data);
    reef_blobstore_close(bs);
    cleanup_dir();
}

static void test_mismatch_and_sizes(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_blobstore *bs;
    CHECK_OK(reef_blobstore_open(dir, &bs, &err), &err);
    char d[REEF_DIGEST_MAX];
    digest_of("expected", 8, d);
    struct reef_blob_writer *w;
    /* Tampered content: both digests named, nothing left behind. */
    CHECK_OK(reef_blob_writer_begin(bs, d, 8, &w, &err), &err);
    CHECK_OK(reef_blob_writer_write(w, "tampered", 8, &err), &err);
    CHECK_INT(reef_blob_writer_commit(w, &err), ==, -EBADMSG);
    CHECK(strstr(err.msg, "expected sha256:") && strstr(err.msg, "got sha256:"));
    CHECK(strstr(err.msg, d));
    CHECK(!reef_blobstore_has(bs, d));
    CHECK_INT(count_entries("tmp"), ==, 0);
    CHECK_INT(count_entries("sha256"), ==, 0);
    /* More than declared: refused at once. */
    CHECK_OK(reef_blob_writer_begin(bs, d, 4, &w, &err), &err);
    CHECK_INT(reef_blob_writer_write(w, "expected", 8, &err), ==, -EFBIG);
    reef_blob_writer_abort(w);
    /* Truncated: less than declared. */
    CHECK_OK(reef_blob_writer_begin(bs, d, 8, &w, &err), &err);
    CHECK_OK(reef_blob_writer_write(w, "expec", 5, &err), &err);
    CHECK_INT(reef_blob_writer_commit(w, &err), ==, -EPIPE);
    CHECK(strstr(err.msg, "got 5 bytes, expected 8"));
    CHECK_INT(count_entries("tmp"), ==, 0);
    CHECK_INT(count_entries("sha256"), ==, 0);
    CHECK_INT(reef_blob_writer_begin(bs, "sha256:nothex", 8, &w, &err), ==, -EINVAL);
    reef_blobstore_close(bs);
    cleanup_dir();
}

/* A writer killed mid-blob leaves no complete-looking entry; the next writer succeeds. */
static void test_crash_mid_write(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_blobstore *bs;
    CHECK_OK(reef_blobstore_open(dir, &bs, &err), &err);
    char d[REEF_DIGEST_MAX];
    digest_of("0123456789", 10, d);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct reef_blob_writer *w;
        if (reef_blob_writer_begin(bs, d, 10, &w, &err) < 0 || !w)
            _exit(1);
        reef_blob_writer_write(w, "01234", 5, &err);
        if (write(pfd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    CHECK(read(pfd[0], &c, 1) == 1);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK(!reef_blobstore_has(bs, d));
    CHECK_INT(count_entries("sha256"), ==, 0);
    CHECK_OK(reef_blobstore_put(bs, "0123456789", 10, d, NULL, &err), &err);
    CHECK(reef_blobstore_has(bs, d));
    reef_blobstore_close(bs);
    cleanup_dir();
}

/* Two processes writing the same digest: the second waits, then finds it done. (The child forks
 * before the parent takes the lock: a flock is shared with children forked while it is held.) */
static void test_shared_work(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_blobstore *bs;
    CHECK_OK(reef_blobstore_open(dir, &bs, &err), &err);
    char d[REEF_DIGEST_MAX];
    digest_of("shared", 6, d);
    int go[2], res[2];
    CHECK(pipe(go) == 0 && pipe(res) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(1);
        struct reef_blob_writer *w2;
        int r = reef_blob_writer_begin(bs, d, 6, &w2, &err);
        char out = (r == 0 && w2 == NULL) ? 'y' : 'n';
        if (write(res[1], &out, 1) != 1)
            _exit(1);
        _exit(0);
    }
    struct reef_blob_writer *w;
    CHECK_OK(reef_blob_writer_begin(bs, d, 6, &w, &err), &err);
    CHECK(w);
    CHECK(write(go[1], "g", 1) == 1);
    usleep(200 * 1000);
    /* The child is blocked on the lock: nothing on the pipe yet. */
    CHECK(fcntl(res[0], F_SETFL, O_NONBLOCK) == 0);
    char c;
    CHECK(read(res[0], &c, 1) < 0);
    CHECK_OK(reef_blob_writer_write(w, "shared", 6, &err), &err);
    CHECK_OK(reef_blob_writer_commit(w, &err), &err);
    CHECK(fcntl(res[0], F_SETFL, 0) == 0);
    CHECK(read(res[0], &c, 1) == 1);
    CHECK_INT(c, ==, 'y');
    waitpid(pid, NULL, 0);
    reef_blobstore_close(bs);
    cleanup_dir();
}

static int count_cb(void *ud, const char *digest, int64_t size)
{
    (*(int *)ud)++;
    return reef_digest_valid(digest) && size > 0 ? 0 : -EINVAL;
}

static void test_list(void)
{
    make_dir();
    struct reef_err err = {0};
    struct reef_blobstore *bs;
    CHECK_OK(reef_blobstore_open(dir, &bs, &err), &err);
    CHECK_OK(reef_blobstore_put(bs, "a", 1, NULL, NULL, &err), &err);
    CHECK_OK(reef_blobstore_put(bs, "b", 1, NULL, NULL, &err), &err);
    char junk[512];
    snprintf(junk, sizeof(junk), "%s/sha256/not-a-digest", dir);
    fclose(fopen(junk, "w"));
    int n = 0;
    CHECK_OK(reef_blobstore_list(bs, count_cb, &n, &err), &err);
    CHECK_INT(n, ==, 2);
    reef_blobstore_close(bs);
    cleanup_dir();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_digest_valid);
    TEST_RUN(test_put_read);
    TEST_RUN(test_stream_writer);
    TEST_RUN(test_mismatch_and_sizes);
    TEST_RUN(test_crash_mid_write);
    TEST_RUN(test_shared_work);
    TEST_RUN(test_list);
    return test_done();
}
