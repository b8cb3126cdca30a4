/* Unit tests for runtime/images: manifest, index and config validation, chain IDs, and the store
 * (install from local blobs, lookups, tags, removal, prune, failure leaving the store as it was).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crypto.h"
#include "runtime/blobstore.h"
#include "runtime/images.h"
#include "runtime/layer.h"
#include "runtime/platform.h"
#include "runtime/registry.h"
#include "tests/unit/test.h"

#define D64(c)                                                                                     \
    "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
        c c c c c c c c c c c c c c c c c c c c c c

static void test_chain_ids(void)
{
    char diff[3][80] = {D64("a"), D64("b"), D64("c")};
    char chain[3][80];
    reef_images_chain_ids((const char(*)[80])diff, 3, chain);
    CHECK_STR(chain[0], diff[0]);
    char want[80], hex[65], buf[300];
    snprintf(buf, sizeof(buf), "%s %s", diff[0], diff[1]);
    reef_crypto_sha256_hex(buf, strlen(buf), hex);
    snprintf(want, sizeof(want), "sha256:%s", hex);
    CHECK_STR(chain[1], want);
    snprintf(buf, sizeof(buf), "%s %s", chain[1], diff[2]);
    reef_crypto_sha256_hex(buf, strlen(buf), hex);
    snprintf(want, sizeof(want), "sha256:%s", hex);
    CHECK_STR(chain[2], want);
}

static const char oci_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D64(
        "1") "\",\"size\":7},\"layers\":[{\"mediaType\":\"application/"
             "vnd.oci.image.layer.v1.tar+gzip\","
             "\"digest\":\"" D64(
                 "2") "\",\"size\":100},{\"mediaType\":\"application/vnd.oci.image.layer."
                      "v1.tar+zstd\",\"digest\":\"" D64("3") "\",\"size\":0}]}";

static void test_manifest_parse(void)
{
    struct reef__manifest m;
    struct reef_err err;
    CHECK_OK(reef__manifest_parse(oci_manifest, strlen(oci_manifest), &m, &err), &err);
    CHECK_STR(m.config.digest, D64("1"));
    CHECK_INT(m.config.size, ==, 7);
    CHECK_INT(m.nlayers, ==, 2);
    CHECK_STR(m.layers[1].media_type, REEF_MT_OCI_LAYER_ZSTD);
    CHECK_INT(m.layers[0].size, ==, 100);
    reef__manifest_free(&m);
    /* Docker schema 2 */
    const char *dk =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution."
        "manifest.v2+json\",\"config\":{\"mediaType\":\"application/vnd.docker."
        "container.image.v1+json\",\"digest\":\"" D64(
            "1") "\",\"size\":7},\"layers\":"
                 "[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
                 "\"digest\":\"" D64("2") "\",\"size\":5}]}";
    CHECK_OK(reef__manifest_parse(dk, strlen(dk), &m, &err), &err);
    CHECK_INT(m.nlayers, ==, 1);
    reef__manifest_free(&m);
}

static void test_manifest_bad(void)
{
    static const struct {
        const char *json, *msg;
        int code;
    } bad[] = {
        {"{\"schemaVersion\":1}", "schemaVersion must be 2", -EPROTONOSUPPORT},
        {"[]", "schemaVersion", -EPROTONOSUPPORT},
        {"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}",
         "unsupported media type \"application/vnd.oci.image.index.v1+json\"", -EPROTONOSUPPORT},
        {"{\"schemaVersion\":2}", "no config", -EINVAL},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D64(
             "1") "\",\"size\":1},\"layers\":[]}",
         "unsupported config media type \"x\"", -EPROTONOSUPPORT},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+"
         "json\",\"digest\":\"sha256:abc\",\"size\":1},\"layers\":[]}",
         "digest", -EINVAL},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+"
         "json\",\"digest\":\"" D64("1") "\",\"size\":-1},\"layers\":[]}",
         "size", -EINVAL},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+"
         "json\",\"digest\":\"" D64("1") "\",\"size\":1},\"layers\":[]}",
         "0 layers", -EINVAL},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+"
         "json\",\"digest\":\"" D64("1") "\",\"size\":1},\"layers\":[{\"mediaType\":\"application/"
                                         "x-evil\",\"digest\":\"" D64("2") "\",\"size\":1}]}",
         "layer 0: unsupported media type \"application/x-evil\"", -EPROTONOSUPPORT},
        {"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+"
         "json\",\"digest\":\"" D64(
             "1") "\",\"size\":1},\"layers\":[{\"mediaType\":\"application/"
                  "vnd.oci.image.layer.v1.tar\",\"digest\":\"md5:00\",\"size\":1}]}",
         "layer 0: missing or unsupported digest", -EINVAL},
        {"not json", "manifest", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct reef__manifest m;
        struct reef_err err;
        reef_err_clear(&err);
        int r = reef__manifest_parse(bad[i].json, strlen(bad[i].json), &m, &err);
        if (r != bad[i].code || !strstr(err.msg, bad[i].msg))
            TEST_FAIL("case %zu: %d \"%s\"", i, r, err.msg);
    }
    /* More than 1000 layers is refused before anything is fetched. */
    struct reef_buf b = REEF_BUF_INIT;
    reef_buf_puts(&b, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image."
                      "config.v1+json\",\"digest\":\"" D64("1") "\",\"size\":1},\"layers\":[");
    for (int i = 0; i < 1001; i++)
        reef_buf_printf(&b,
                        "%s{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
                        "\"digest\":\"" D64("2") "\",\"size\":1}",
                        i ? "," : "");
    reef_buf_puts(&b, "]}");
    struct reef__manifest m;
    struct reef_err err;
    CHECK_INT(reef__manifest_parse(b.data, b.len, &m, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "1001 layers"));
    reef_buf_free(&b);
}

static const char index_json[] =
    "{\"schemaVersion\":2,\"manifests\":["
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D64(
        "a") "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
             "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" D64(
                 "b") "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\","
                      "\"variant\":\"v8\"}},"
                      "{\"mediaType\":\"application/"
                      "vnd.oci.image.manifest.v1+json\",\"digest\":\"" D64(
                          "c") "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":"
                               "\"arm\",\"variant\":\"v6\"}},"
                               "{\"mediaType\":\"application/"
                               "vnd.oci.image.manifest.v1+json\",\"digest\":\"" D64(
                                   "d") "\",\"size\":1,\"platform\":{\"os\":\"linux\","
                                        "\"architecture\":\"arm\",\"variant\":\"v7\"}},"
                                        "{\"mediaType\":\"application/"
                                        "vnd.oci.image.manifest.v1+json\",\"digest\":\"" D64(
                                            "e") "\",\"size\":1,\"platform\":{\"os\":\"unknown\","
                                                 "\"architecture\":\"unknown\"}}]}";

static void test_index_pick(void)
{
    char dg[REEF_DIGEST_MAX], mt[128];
    struct reef_err err;
    CHECK_OK(reef__index_pick(index_json, strlen(index_json), "linux/amd64", dg, mt, &err), &err);
    CHECK_STR(dg, D64("a"));
    CHECK_STR(mt, REEF_MT_OCI_MANIFEST);
    CHECK_OK(reef__index_pick(index_json, strlen(index_json), "linux/arm64", dg, mt, &err), &err);
    CHECK_STR(dg, D64("b"));
    /* The exact variant wins over an older compatible one. */
    CHECK_OK(reef__index_pick(index_json, strlen(index_json), "linux/arm/v7", dg, mt, &err), &err);
    CHECK_STR(dg, D64("d"));
    CHECK_OK(reef__index_pick(index_json, strlen(index_json), "linux/arm/v6", dg, mt, &err), &err);
    CHECK_STR(dg, D64("c"));
    /* This machine's platform is picked without --platform. */
    struct reef_platform host;
    reef_platform_host(&host);
    if (strcmp(host.arch, "amd64") == 0) {
        CHECK_OK(reef__index_pick(index_json, strlen(index_json), NULL, dg, mt, &err), &err);
        CHECK_STR(dg, D64("a"));
    }
    int r = reef__index_pick(index_json, strlen(index_json), "linux/s390x", dg, mt, &err);
    CHECK_INT(r, ==, -ENOENT);
    CHECK(strstr(err.msg, "no image for platform linux/s390x"));
    CHECK(strstr(err.msg, "linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7"));
    CHECK_INT(reef__index_pick(index_json, strlen(index_json), "plan9/x", dg, mt, &err), ==,
              -EINVAL);
    CHECK_INT(reef__index_pick("{}", 2, "linux/amd64", dg, mt, &err), ==, -EINVAL);
}

static void test_config_parse(void)
{
    const char *cfg = "{\"architecture\":\"arm\",\"variant\":\"v7\",\"os\":\"linux\","
                      "\"created\":\"2023-11-14T22:13:20.5+01:00\",\"rootfs\":{\"type\":\"layers\","
                      "\"diff_ids\":[\"" D64("a") "\",\"" D64("b") "\"]}}";
    char diff[2][80], plat[64];
    int64_t created;
    struct reef_err err;
    CHECK_OK(reef__config_parse(cfg, strlen(cfg), 2, diff, plat, sizeof(plat), &created, &err),
             &err);
    CHECK_STR(diff[1], D64("b"));
    CHECK_STR(plat, "linux/arm/v7");
    CHECK_INT(created, ==, 1700000000 - 3600);
    CHECK_INT(reef__config_parse(cfg, strlen(cfg), 3, diff, plat, sizeof(plat), &created, &err), ==,
              -EINVAL);
    CHECK(strstr(err.msg, "2 diff_ids for 3 layers"));
    const char *bad = "{\"rootfs\":{\"diff_ids\":[\"sha256:xyz\"]}}";
    CHECK_INT(reef__config_parse(bad, strlen(bad), 1, diff, plat, sizeof(plat), &created, &err), ==,
              -EINVAL);
    CHECK(strstr(err.msg, "diff_ids[0]"));
}

/* ---- the store, fed from local files ---- */

static char work[64];

static void mk_work(void)
{
    strcpy(work, "/tmp/reef-images-XXXXXX");
    CHECK(mkdtemp(work));
}

static void rm_work(void)
{
    reef_layer_remove_tree(work, NULL);
}

/* A tar with the given files (name, content), in memory. */
static void make_tar(struct reef_buf *out, const char *const *files, size_t n)
{
    struct archive *a = archive_write_new();
    CHECK(a);
    CHECK(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
    size_t cap = 1 << 20, used = 0;
    CHECK_INT(reef_buf_reserve(out, cap), ==, 0);
    CHECK(archive_write_open_memory(a, out->data, cap, &used) == ARCHIVE_OK);
    for (size_t i = 0; i < n; i += 2) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, files[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)strlen(files[i + 1]));
        CHECK(archive_write_header(a, e) == ARCHIVE_OK);
        CHECK(archive_write_data(a, files[i + 1], strlen(files[i + 1])) ==
              (la_ssize_t)strlen(files[i + 1]));
        archive_entry_free(e);
    }
    CHECK(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
    out->len = used;
}

static void put_blob(const void *data, size_t len, char *digest)
{
    char hex[65], p[256];
    reef_crypto_sha256_hex(data, len, hex);
    sprintf(digest, "sha256:%s", hex);
    snprintf(p, sizeof(p), "%s/src/%s", work, hex);
    FILE *f = fopen(p, "w");
    CHECK(f);
    CHECK_INT(fwrite(data, 1, len, f), ==, len);
    fclose(f);
}

static int blob_path(void *ud, const char *digest, char *out, size_t sz)
{
    (void)ud;
    snprintf(out, sz, "%s/src/%s", work, digest + 7);
    return access(out, R_OK) == 0 ? 0 : -ENOENT;
}

struct img {
    struct reef_buf manifest;
    char mdigest[REEF_DIGEST_MAX];
    char layer_digest[2][REEF_DIGEST_MAX];
};

/* Two layers; bad_diff makes the config's second diff_id wrong. */
static void make_image(struct img *im, const char *tag, bool bad_diff)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/src", work);
    mkdir(p, 0755);
    const char *l1[] = {"etc/hello", "hello\n", "bin/tool", "tool\n"};
    char second[64];
    snprintf(second, sizeof(second), "this is %s\n", tag);
    const char *l2[] = {"etc/motd", second};
    struct reef_buf t1 = REEF_BUF_INIT, t2 = REEF_BUF_INIT;
    make_tar(&t1, l1, 4);
    make_tar(&t2, l2, 2);
    char d1[80], d2[80], hex[65];
    reef_crypto_sha256_hex(t1.data, t1.len, hex);
    sprintf(d1, "sha256:%s", hex);
    reef_crypto_sha256_hex(t2.data, t2.len, hex);
    sprintf(d2, "sha256:%s", bad_diff ? D64("0") + 7 : hex);
    put_blob(t1.data, t1.len, im->layer_digest[0]);
    put_blob(t2.data, t2.len, im->layer_digest[1]);
    struct reef_buf cfg = REEF_BUF_INIT;
    reef_buf_printf(&cfg,
                    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"T=%s\"]},"
                    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}",
                    tag, d1, d2);
    char cd[80];
    put_blob(cfg.data, cfg.len, cd);
    reef_buf_init(&im->manifest);
    reef_buf_printf(
        &im->manifest,
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
        "\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
        "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
        REEF_MT_OCI_CONFIG, cd, cfg.len, REEF_MT_OCI_LAYER, im->layer_digest[0], t1.len,
        REEF_MT_OCI_LAYER, im->layer_digest[1], t2.len);
    reef_crypto_sha256_hex(im->manifest.data, im->manifest.len, hex);
    sprintf(im->mdigest, "sha256:%s", hex);
    reef_buf_free(&t1);
    reef_buf_free(&t2);
    reef_buf_free(&cfg);
}

static int install(struct reef_images *s, struct img *im, const char *name, char *id,
                   struct reef_err *err)
{
    struct reef__image_src src = {.blob_path = blob_path};
    const char *refs[] = {name};
    return reef__images_install(s, &src, name, im->manifest.data, im->manifest.len, im->mdigest,
                                refs, 1, NULL, id, err);
}

static int count_dir(const char *sub)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/store/%s", work, sub);
    DIR *d = opendir(p);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strlen(e->d_name) == 64)
            n++;
    closedir(d);
    return n;
}

static void test_store_install_get_remove(void)
{
    mk_work();
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/store", work);
    struct reef_images *s;
    struct reef_err err;
    CHECK_OK(reef_images_open(dir, &s, &err), &err);
    struct reef_image *img = NULL;
    CHECK_INT(reef_images_get(s, "busybox", &img, &err), ==, -ENOENT);
    CHECK_STR(err.msg, "image busybox:latest not found");

    struct img a, b;
    make_image(&a, "a", false);
    char id[80];
    CHECK_OK(install(s, &a, "docker.io/library/app:a", id, &err), &err);
    CHECK_OK(reef_images_get(s, "app:a", &img, &err), &err);
    CHECK_STR(img->id, id);
    CHECK_STR(img->manifest_digest, a.mdigest);
    CHECK_STR(img->platform, "linux/amd64");
    CHECK_INT(img->nlayers, ==, 2);
    CHECK(strstr(img->config_json, "\"T=a\""));
    CHECK_INT(img->size, >, 0);
    /* topmost first: the motd layer, then the base */
    char p[512];
    snprintf(p, sizeof(p), "%s/etc/motd", img->layer_dirs[0]);
    CHECK(access(p, F_OK) == 0);
    snprintf(p, sizeof(p), "%s/etc/hello", img->layer_dirs[1]);
    CHECK(access(p, F_OK) == 0);
    reef_image_free(img);
    /* by ID prefix and full ID */
    char pre[20];
    snprintf(pre, sizeof(pre), "%.12s", id + 7);
    CHECK_OK(reef_images_get(s, pre, &img, &err), &err);
    reef_image_free(img);
    CHECK_INT(reef_images_get(s, "abc", &img, &err), ==, -ENOENT);

    /* A second image shares the first layer (same chain ID). */
    make_image(&b, "b", false);
    char id2[80];
    CHECK_OK(install(s, &b, "docker.io/library/app:b", id2, &err), &err);
    CHECK(strcmp(id, id2) != 0);
    CHECK_INT(count_dir("layers"), ==, 3);

    /* tag, inspect */
    CHECK_OK(reef_images_tag(s, "app:a", "example.com/x:v1", &err), &err);
    CHECK_OK(reef_images_get(s, "example.com/x:v1", &img, &err), &err);
    CHECK_STR(img->id, id);
    reef_image_free(img);
    CHECK_INT(reef_images_tag(s, "app:a", "x@" D64("1"), &err), ==, -EINVAL);
    struct reef_buf js = REEF_BUF_INIT;
    CHECK_OK(reef_images_inspect_json(s, "app:a", &js, &err), &err);
    CHECK(strstr(js.data, "\"RepoTags\": ["));
    CHECK(strstr(js.data, "docker.io/library/app:a"));
    CHECK(strstr(js.data, "example.com/x:v1"));
    CHECK(strstr(js.data, a.layer_digest[1]));
    reef_buf_free(&js);

    /* rm of one name keeps the image while another tag names it */
    CHECK_OK(reef_images_remove(s, "app:a", &err), &err);
    CHECK_INT(reef_images_get(s, "app:a", &img, &err), ==, -ENOENT);
    CHECK_OK(reef_images_get(s, "example.com/x:v1", &img, &err), &err);
    reef_image_free(img);
    /* the last name: the image goes, and its own layer with it; the shared one stays */
    CHECK_OK(reef_images_remove(s, "example.com/x:v1", &err), &err);
    CHECK_INT(reef_images_get(s, id, &img, &err), ==, -ENOENT);
    CHECK_INT(count_dir("layers"), ==, 2);
    CHECK_OK(reef_images_get(s, "app:b", &img, &err), &err);
    CHECK(access(img->layer_dirs[1], F_OK) == 0);
    reef_image_free(img);
    int64_t freed = -1;
    CHECK_OK(reef_images_prune(s, &freed, &err), &err);
    CHECK_INT(freed, ==, 0);
    CHECK_INT(count_dir("blobs/sha256"), ==, 2 + 2); /* manifest, config, two layers of b */
    reef_buf_free(&a.manifest);
    reef_buf_free(&b.manifest);
    reef_images_close(s);
    rm_work();
}

static void test_store_failure_leaves_nothing(void)
{
    mk_work();
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/store", work);
    struct reef_images *s;
    struct reef_err err;
    CHECK_OK(reef_images_open(dir, &s, &err), &err);
    struct img a;
    make_image(&a, "bad", true);
    char id[80];
    int r = install(s, &a, "docker.io/library/app:bad", id, &err);
    CHECK_INT(r, <, 0);
    CHECK(strstr(err.msg, "layer 2 of 2"));
    CHECK(strstr(err.msg, "diff_id mismatch"));
    /* The good first layer was unpacked and stored, then undone. */
    CHECK_INT(count_dir("layers"), ==, 0);
    CHECK_INT(count_dir("blobs/sha256"), ==, 0);
    struct reef_image *img;
    CHECK_INT(reef_images_get(s, "app:bad", &img, &err), ==, -ENOENT);
    /* A missing blob fails the same way. */
    struct img b;
    make_image(&b, "missing", false);
    char p[256];
    snprintf(p, sizeof(p), "%s/src/%s", work, b.layer_digest[1] + 7);
    CHECK(unlink(p) == 0);
    CHECK_INT(install(s, &b, "docker.io/library/app:missing", id, &err), <, 0);
    CHECK(strstr(err.msg, "missing"));
    CHECK_INT(count_dir("layers"), ==, 0);
    CHECK_INT(count_dir("blobs/sha256"), ==, 0);
    reef_buf_free(&a.manifest);
    reef_buf_free(&b.manifest);
    reef_images_close(s);
    rm_work();
}

struct listed {
    int n;
    char names[4][200];
};

static int list_fn(void *ud, const struct reef_image_summary *im)
{
    struct listed *l = ud;
    if (l->n < 4)
        snprintf(l->names[l->n], sizeof(l->names[0]), "%s", im->name);
    l->n++;
    return 0;
}

/* ls: one line per tag; an image known only by digest still shows, once. */
static void test_list(void)
{
    mk_work();
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/store", work);
    struct reef_images *s;
    struct reef_err err;
    CHECK_OK(reef_images_open(dir, &s, &err), &err);
    struct img a, b;
    make_image(&a, "a", false);
    make_image(&b, "b", false);
    char id[80], dref[200];
    CHECK_OK(install(s, &a, "docker.io/library/app:a", id, &err), &err);
    CHECK_OK(reef_images_tag(s, "app:a", "app:z", &err), &err);
    snprintf(dref, sizeof(dref), "docker.io/library/app@%s", b.mdigest);
    CHECK_OK(install(s, &b, dref, id, &err), &err);
    struct listed l = {0};
    CHECK_OK(reef_images_list(s, list_fn, &l, &err), &err);
    CHECK_INT(l.n, ==, 3);
    CHECK_STR(l.names[0], "docker.io/library/app:a");
    CHECK_STR(l.names[1], "docker.io/library/app:z");
    CHECK_STR(l.names[2], dref);
    struct reef_image *img;
    CHECK_OK(reef_images_get(s, dref, &img, &err), &err);
    CHECK_STR(img->id, id);
    reef_image_free(img);
    reef_buf_free(&a.manifest);
    reef_buf_free(&b.manifest);
    reef_images_close(s);
    rm_work();
}

/* Export then import into a second store: the same image, named the same. */
static void test_export_import(void)
{
    mk_work();
    char dir[128], dir2[128], file[160];
    snprintf(dir, sizeof(dir), "%s/store", work);
    snprintf(dir2, sizeof(dir2), "%s/store2", work);
    snprintf(file, sizeof(file), "%s/out.tar", work);
    struct reef_images *s, *s2;
    struct reef_err err;
    CHECK_OK(reef_images_open(dir, &s, &err), &err);
    CHECK_OK(reef_images_open(dir2, &s2, &err), &err);
    struct img a;
    make_image(&a, "x", false);
    char id[80];
    CHECK_OK(install(s, &a, "example.com/app:x", id, &err), &err);
    CHECK_OK(reef_images_export(s, "example.com/app:x", file, &err), &err);
    struct reef_buf names = REEF_BUF_INIT;
    CHECK_OK(reef_images_import(s2, file, NULL, &names, &err), &err);
    CHECK_STR(names.data, "example.com/app:x\n");
    struct reef_image *img;
    CHECK_OK(reef_images_get(s2, "example.com/app:x", &img, &err), &err);
    CHECK_STR(img->id, id);
    CHECK_STR(img->manifest_digest, a.mdigest);
    reef_image_free(img);
    CHECK_INT(reef_images_export(s, "nosuch:v1", file, &err), ==, -ENOENT);
    CHECK(strstr(err.msg, "nosuch:v1"));
    CHECK_INT(reef_images_import(s2, "/nonexistent.tar", NULL, NULL, &err), ==, -ENOENT);
    reef_buf_free(&names);
    reef_buf_free(&a.manifest);
    reef_images_close(s);
    reef_images_close(s2);
    rm_work();
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_chain_ids);
    TEST_RUN(test_manifest_parse);
    TEST_RUN(test_manifest_bad);
    TEST_RUN(test_index_pick);
    TEST_RUN(test_config_parse);
    TEST_RUN(test_store_install_get_remove);
    TEST_RUN(test_store_failure_leaves_nothing);
    TEST_RUN(test_list);
    TEST_RUN(test_export_import);
    return test_done();
}
