/* image_archive: importing `docker save` and OCI image-layout archives (tar, plain or gzip/zstd
 * compressed) and exporting an image as an OCI image-layout tar.
 *
 * Import unpacks the archive with the layer unpacker (the same path-safety rules as a layer, no
 * owners, no devices) into a private directory under layers/tmp, then installs each image in it
 * through the pull pipeline with local files as the blob source, so every blob is verified and
 * every layer unpacked exactly as a pull would. A docker archive's manifest.json has no
 * descriptors: reef builds an OCI manifest from its files (digests hashed, media types told by
 * magic bytes). Export writes a pax tar with libarchive (tar only; see BUILD-NOTES.md). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/crypto.h"
#include "core/json.h"
#include "runtime/blobstore.h"
#include "runtime/image_ref.h"
#include "runtime/images.h"
#include "runtime/layer.h"
#include "runtime/registry.h"

#define DOC_MAX (16u << 20)

/* Whether path, with every symlink resolved, is a regular file below root: an archive may hold
 * symlinks (blobs -> /etc) that must not lead reads out of it. */
static bool inside(const char *root, const char *path)
{
    char rr[PATH_MAX], rp[PATH_MAX];
    struct stat st;
    if (!realpath(root, rr) || !realpath(path, rp))
        return false;
    size_t n = strlen(rr);
    return strncmp(rr, rp, n) == 0 && rp[n] == '/' && stat(rp, &st) == 0 && S_ISREG(st.st_mode);
}

/* Reads a whole small file below root (a relative path without ".." components). */
static int read_rel(const char *root, const char *rel, struct reef_buf *out, struct reef_err *err)
{
    if (rel[0] == '/' || strstr(rel, "..") || strlen(rel) > 1000)
        return reef_err_set(err, -EINVAL, "archive: bad path \"%s\"", rel);
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", root, rel);
    if (!inside(root, p))
        return reef_err_set(err, -ENOENT, "archive: %s: no such file in the archive", rel);
    _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return reef_err_errno(err, -errno, "archive: %s", rel);
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (out->len + (size_t)n > DOC_MAX)
            return reef_err_set(err, -E2BIG, "archive: %s is too big", rel);
        if (reef_buf_append(out, buf, (size_t)n) < 0)
            return reef_err_set(err, -ENOMEM, "archive: out of memory");
    }
    if (n < 0)
        return reef_err_errno(err, -errno, "archive: read %s", rel);
    return 0;
}

/* ---- OCI layout ---- */

struct oci_src {
    const char *root;
};

static int oci_blob_path(void *ud, const char *digest, char *out, size_t outsz)
{
    struct oci_src *o = ud;
    if (!reef_digest_valid(digest))
        return -EINVAL;
    int w = snprintf(out, outsz, "%s/blobs/sha256/%s", o->root, digest + 7);
    if (w < 0 || (size_t)w >= outsz || !inside(o->root, out))
        return -ENOENT;
    return 0;
}

static int add_name(struct reef_buf *names, const char *n)
{
    if (!names)
        return 0;
    reef_buf_puts(names, n);
    return reef_buf_putc(names, '\n');
}

/* The name an index entry gives its image, canonical, or "" when it has none usable. */
static void entry_name(const struct reef_json_doc *d, int entry, char *out, size_t sz)
{
    out[0] = '\0';
    static const char *const keys[] = {"io.containerd.image.name",
                                       "org.opencontainers.image.ref.name"};
    int an = reef_json_member(d, entry, "annotations");
    for (size_t k = 0; an >= 0 && k < 2; k++) {
        int v = reef_json_member(d, an, keys[k]);
        char s[600];
        if (v < 0 || reef_json_get_str(d, v, s, sizeof(s), NULL) < 0)
            continue;
        /* A bare tag ("latest") names no repository. */
        if (!strchr(s, '/') && !strchr(s, ':') && !strchr(s, '@'))
            continue;
        struct reef_image_ref r;
        if (reef_image_ref_parse(s, &r, NULL) == 0 && reef_image_ref_format(&r, out, sz) > 0)
            return;
        out[0] = '\0';
    }
}

static int import_oci(struct reef_images *s, const char *root, const char *label,
                      const struct reef_pull_opts *opts, struct reef_buf *names,
                      struct reef_err *err)
{
    struct reef_buf idx = REEF_BUF_INIT, man = REEF_BUF_INIT;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct oci_src os = {root};
    struct reef__image_src src = {.blob_path = oci_blob_path, .ud = &os};
    int rc = read_rel(root, "index.json", &idx, err);
    if (rc < 0)
        goto out;
    if ((rc = reef_json_parse(&d, idx.data, idx.len, NULL, err)) < 0) {
        reef_err_wrap(err, "index.json");
        goto out;
    }
    int ms = reef_json_member(&d, REEF_JSON_ROOT, "manifests");
    if (ms < 0 || reef_json_kind(&d, ms) != REEF_JSON_ARRAY || reef_json_count(&d, ms) == 0) {
        rc = reef_err_set(err, -EINVAL, "index.json: no manifests");
        goto out;
    }
    int done = 0;
    struct reef_json_iter it = reef_json_iter(&d, ms);
    while (reef_json_next(&d, &it)) {
        char mt[128], dg[REEF_DIGEST_MAX], path[PATH_MAX];
        int v = reef_json_member(&d, it.val, "mediaType");
        int g = reef_json_member(&d, it.val, "digest");
        if (v < 0 || g < 0 || reef_json_get_str(&d, v, mt, sizeof(mt), NULL) < 0 ||
            reef_json_get_str(&d, g, dg, sizeof(dg), NULL) < 0 || !reef_digest_valid(dg)) {
            rc = reef_err_set(err, -EINVAL, "index.json: manifest %d: bad descriptor", it.index);
            goto out;
        }
        int kind = reef_registry_manifest_kind(mt);
        if (!kind) {
            rc = reef_err_set(err, -EPROTONOSUPPORT,
                              "index.json: manifest %d: unsupported media type \"%s\"", it.index,
                              mt);
            goto out;
        }
        char name[600];
        entry_name(&d, it.val, name, sizeof(name));
        reef_buf_reset(&man);
        char rel[100];
        snprintf(rel, sizeof(rel), "blobs/sha256/%s", dg + 7);
        if ((rc = read_rel(root, rel, &man, err)) < 0)
            goto out;
        char hex[REEF_SHA256_HEX_LEN + 1];
        reef_crypto_sha256_hex(man.data ? man.data : "", man.len, hex);
        if (strcmp(hex, dg + 7) != 0) {
            rc = reef_err_set(err, -EBADMSG, "%s: content has digest sha256:%s", dg, hex);
            goto out;
        }
        char mdg[REEF_DIGEST_MAX];
        reef_strlcpy(mdg, dg, sizeof(mdg));
        if (kind == 2) {
            char pmt[128];
            if ((rc = reef__index_pick(man.data, man.len, opts ? opts->platform : NULL, mdg, pmt,
                                       err)) < 0)
                goto out;
            reef_buf_reset(&man);
            snprintf(rel, sizeof(rel), "blobs/sha256/%s", mdg + 7);
            if ((rc = read_rel(root, rel, &man, err)) < 0)
                goto out;
            reef_crypto_sha256_hex(man.data ? man.data : "", man.len, hex);
            if (strcmp(hex, mdg + 7) != 0) {
                rc = reef_err_set(err, -EBADMSG, "%s: content has digest sha256:%s", mdg, hex);
                goto out;
            }
        }
        (void)oci_blob_path(&os, mdg, path, sizeof(path));
        const char *refs[1] = {name};
        char id[80];
        rc = reef__images_install(s, &src, label, man.data, man.len, mdg, refs, name[0] ? 1 : 0,
                                  opts, id, err);
        if (rc < 0)
            goto out;
        add_name(names, name[0] ? name : id);
        done++;
    }
out:
    reef_json_doc_free(&d);
    reef_buf_free(&idx);
    reef_buf_free(&man);
    return rc;
}

/* ---- docker save ---- */

struct dk_blob {
    char digest[REEF_DIGEST_MAX];
    char path[PATH_MAX];
};

struct dk_src {
    struct dk_blob *blobs;
    size_t n;
};

static int dk_blob_path(void *ud, const char *digest, char *out, size_t outsz)
{
    struct dk_src *d = ud;
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->blobs[i].digest, digest) == 0) {
            reef_strlcpy(out, d->blobs[i].path, outsz);
            return 0;
        }
    return -ENOENT;
}

/* Hashes root/rel, records it, and describes it: digest, size, and for layers the media type
 * told by its first bytes. */
static int dk_add(struct dk_src *d, const char *root, const char *rel, bool layer,
                  struct reef_json_writer *w, struct reef_err *err)
{
    if (rel[0] == '/' || strstr(rel, "..") || strlen(rel) > 1000)
        return reef_err_set(err, -EINVAL, "manifest.json: bad path \"%s\"", rel);
    struct dk_blob *b = &d->blobs[d->n];
    snprintf(b->path, sizeof(b->path), "%s/%s", root, rel);
    struct stat st;
    if (!inside(root, b->path) || stat(b->path, &st) < 0)
        return reef_err_set(err, -ENOENT, "manifest.json: %s is not in the archive", rel);
    uint8_t h[REEF_SHA256_LEN];
    int rc = reef_crypto_sha256_file(b->path, h, err);
    if (rc < 0)
        return rc;
    memcpy(b->digest, "sha256:", 7);
    reef_crypto_hex_encode(b->digest + 7, h, sizeof(h));
    const char *mt = REEF_MT_OCI_CONFIG;
    if (layer) {
        unsigned char magic[4] = {0};
        _cleanup_close_ int fd = open(b->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, magic, 4) < 0)
            return reef_err_errno(err, -errno, "archive: read %s", rel);
        if (magic[0] == 0x1f && magic[1] == 0x8b)
            mt = REEF_MT_OCI_LAYER_GZIP;
        else if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
            mt = REEF_MT_OCI_LAYER_ZSTD;
        else
            mt = REEF_MT_OCI_LAYER;
    }
    reef_json_begin_object(w);
    reef_json_key(w, "mediaType");
    reef_json_put_str(w, mt);
    reef_json_key(w, "digest");
    reef_json_put_str(w, b->digest);
    reef_json_key(w, "size");
    reef_json_put_int(w, st.st_size);
    reef_json_end_object(w);
    d->n++;
    return 0;
}

static int import_docker(struct reef_images *s, const char *root, const char *label,
                         const struct reef_pull_opts *opts, struct reef_buf *names,
                         struct reef_err *err)
{
    struct reef_buf mf = REEF_BUF_INIT, man = REEF_BUF_INIT;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    struct dk_src ds = {0};
    char **refs = NULL;
    int rc = read_rel(root, "manifest.json", &mf, err);
    if (rc < 0)
        goto out;
    if ((rc = reef_json_parse(&d, mf.data, mf.len, NULL, err)) < 0) {
        reef_err_wrap(err, "manifest.json");
        goto out;
    }
    if (reef_json_kind(&d, REEF_JSON_ROOT) != REEF_JSON_ARRAY ||
        reef_json_count(&d, REEF_JSON_ROOT) == 0) {
        rc = reef_err_set(err, -EINVAL, "manifest.json: expected a list of images");
        goto out;
    }
    struct reef_json_iter it = reef_json_iter(&d, REEF_JSON_ROOT);
    while (reef_json_next(&d, &it)) {
        char cfg[1024];
        int c = reef_json_member(&d, it.val, "Config");
        int ls = reef_json_member(&d, it.val, "Layers");
        if (c < 0 || reef_json_get_str(&d, c, cfg, sizeof(cfg), NULL) < 0 || ls < 0 ||
            reef_json_kind(&d, ls) != REEF_JSON_ARRAY || reef_json_count(&d, ls) > 1000) {
            rc = reef_err_set(err, -EINVAL, "manifest.json: image %d: no Config or Layers",
                              it.index);
            goto out;
        }
        free(ds.blobs);
        ds.n = 0;
        ds.blobs = calloc((size_t)reef_json_count(&d, ls) + 1, sizeof(*ds.blobs));
        if (!ds.blobs) {
            rc = reef_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        reef_buf_reset(&man);
        struct reef_json_writer w;
        reef_json_writer_init(&w, &man, 0);
        reef_json_begin_object(&w);
        reef_json_key(&w, "schemaVersion");
        reef_json_put_int(&w, 2);
        reef_json_key(&w, "mediaType");
        reef_json_put_str(&w, REEF_MT_OCI_MANIFEST);
        reef_json_key(&w, "config");
        if ((rc = dk_add(&ds, root, cfg, false, &w, err)) < 0)
            goto out;
        reef_json_key(&w, "layers");
        reef_json_begin_array(&w);
        struct reef_json_iter li = reef_json_iter(&d, ls);
        while (reef_json_next(&d, &li)) {
            char lp[1024];
            if (reef_json_get_str(&d, li.val, lp, sizeof(lp), NULL) < 0) {
                rc = reef_err_set(err, -EINVAL, "manifest.json: bad layer %d", li.index);
                goto out;
            }
            if ((rc = dk_add(&ds, root, lp, true, &w, err)) < 0)
                goto out;
        }
        reef_json_end_array(&w);
        reef_json_end_object(&w);
        if ((rc = reef_json_finish(&w, err)) < 0)
            goto out;
        char hex[REEF_SHA256_HEX_LEN + 1], mdg[REEF_DIGEST_MAX];
        reef_crypto_sha256_hex(man.data, man.len, hex);
        snprintf(mdg, sizeof(mdg), "sha256:%s", hex);
        int tags = reef_json_member(&d, it.val, "RepoTags");
        size_t nrefs = 0;
        int ntags = tags >= 0 && reef_json_kind(&d, tags) == REEF_JSON_ARRAY
                        ? reef_json_count(&d, tags)
                        : 0;
        free(refs);
        refs = calloc((size_t)ntags + 1, sizeof(char *));
        char(*store)[600] = calloc((size_t)ntags + 1, 600);
        if (!refs || !store) {
            free(store);
            rc = reef_err_set(err, -ENOMEM, "out of memory");
            goto out;
        }
        struct reef_json_iter ti = reef_json_iter(&d, tags);
        while (ntags > 0 && reef_json_next(&d, &ti)) {
            char t[600];
            struct reef_image_ref r;
            if (reef_json_get_str(&d, ti.val, t, sizeof(t), NULL) == 0 &&
                reef_image_ref_parse(t, &r, NULL) == 0 &&
                reef_image_ref_format(&r, store[nrefs], 600) > 0) {
                refs[nrefs] = store[nrefs];
                nrefs++;
            }
        }
        char id[80];
        struct reef__image_src src = {.blob_path = dk_blob_path, .ud = &ds};
        rc = reef__images_install(s, &src, label, man.data, man.len, mdg, (const char *const *)refs,
                                  nrefs, opts, id, err);
        for (size_t i = 0; rc == 0 && i < nrefs; i++)
            add_name(names, refs[i]);
        if (rc == 0 && nrefs == 0)
            add_name(names, id);
        free(store);
        if (rc < 0)
            goto out;
    }
out:
    free(refs);
    free(ds.blobs);
    reef_json_doc_free(&d);
    reef_buf_free(&mf);
    reef_buf_free(&man);
    return rc;
}

int reef_images_import(struct reef_images *s, const char *file, const struct reef_pull_opts *opts,
                       struct reef_buf *names, struct reef_err *err)
{
    _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return reef_err_errno(err, -errno, "import %s", file);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/layers/tmp/import.XXXXXX", reef__images_dir(s));
    if (!mkdtemp(tmp))
        return reef_err_errno(err, -errno, "import %s: create %s", file, tmp);
    struct reef_layer_opts lo = {.devices = REEF_LAYER_DEVICES_REFUSE, .no_chown = true};
    int rc = reef_layer_unpack_fd(fd, tmp, &lo, NULL, err);
    if (rc < 0) {
        reef_err_wrap(err, "import %s: not a readable image archive", file);
        goto out;
    }
    char p[PATH_MAX + 32];
    struct stat st;
    snprintf(p, sizeof(p), "%s/index.json", tmp);
    if (lstat(p, &st) == 0) {
        rc = import_oci(s, tmp, file, opts, names, err);
    } else {
        snprintf(p, sizeof(p), "%s/manifest.json", tmp);
        if (lstat(p, &st) == 0)
            rc = import_docker(s, tmp, file, opts, names, err);
        else
            rc = reef_err_set(err, -EINVAL, "neither index.json nor manifest.json in it");
    }
    if (rc < 0)
        reef_err_wrap(err, "import %s", file);
out:
    reef_layer_remove_tree(tmp, NULL);
    return rc;
}

/* ---- export ---- */

static int tar_file(struct archive *a, const char *name, const char *data, size_t len,
                    const char *path, int64_t size)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return -ENOMEM;
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, path ? size : (int64_t)len);
    archive_entry_set_mtime(e, 0, 0);
    int rc = archive_write_header(a, e) == ARCHIVE_OK ? 0 : -EIO;
    archive_entry_free(e);
    if (rc < 0)
        return rc;
    if (!path)
        return archive_write_data(a, data, len) == (la_ssize_t)len ? 0 : -EIO;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    static __thread char buf[256 << 10];
    int64_t left = size;
    while (left > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        if (archive_write_data(a, buf, (size_t)n) != n)
            return -EIO;
        left -= n;
    }
    return 0;
}

static int tar_dir(struct archive *a, const char *name)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return -ENOMEM;
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    archive_entry_set_mtime(e, 0, 0);
    int rc = archive_write_header(a, e) == ARCHIVE_OK ? 0 : -EIO;
    archive_entry_free(e);
    return rc;
}

static int tar_blob(struct archive *a, struct reef_blobstore *bs, const char *digest,
                    struct reef_err *err)
{
    char path[PATH_MAX], name[100];
    if (reef_blobstore_path(bs, digest, path, sizeof(path)) < 0)
        return reef_err_set(err, -EINVAL, "bad digest %s", digest);
    int64_t size = reef_blobstore_size(bs, digest);
    if (size < 0)
        return reef_err_set(err, (int)size, "blob %s is missing from the store", digest);
    snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
    int rc = tar_file(a, name, NULL, 0, path, size);
    if (rc < 0)
        return reef_err_set(err, rc, "write %s: %s", name,
                            archive_error_string(a) ? archive_error_string(a) : strerror(-rc));
    return 0;
}

int reef_images_export(struct reef_images *s, const char *ref, const char *file,
                       struct reef_err *err)
{
    struct reef_image *img = NULL;
    struct reef_buf man = REEF_BUF_INIT, idx = REEF_BUF_INIT, inspect = REEF_BUF_INIT;
    struct reef_json_doc md = REEF_JSON_DOC_INIT;
    struct reef__manifest m = {0};
    struct archive *a = NULL;
    char tmp[PATH_MAX];
    tmp[0] = '\0';
    int rc = reef_images_get(s, ref, &img, err);
    if (rc < 0)
        goto out;
    struct reef_blobstore *bs = reef__images_blobs(s);
    if ((rc = reef_blobstore_read(bs, img->manifest_digest, REEF_MANIFEST_MAX, &man, err)) < 0)
        goto out;
    if ((rc = reef__manifest_parse(man.data, man.len, &m, err)) < 0)
        goto out;
    char mt[128] = REEF_MT_OCI_MANIFEST;
    if (reef_json_parse(&md, man.data, man.len, NULL, NULL) == 0) {
        int v = reef_json_member(&md, REEF_JSON_ROOT, "mediaType");
        if (v >= 0)
            reef_json_get_str(&md, v, mt, sizeof(mt), NULL);
    }
    /* index.json: the image named by its tag (ref.name) and its full name (containerd's key). */
    char tag[200] = "latest", full[600] = "";
    struct reef_image_ref r;
    if (img->name[0] && reef_image_ref_parse(img->name, &r, NULL) == 0) {
        if (r.tag[0])
            reef_strlcpy(tag, r.tag, sizeof(tag));
        reef_image_ref_format(&r, full, sizeof(full));
    }
    struct reef_json_writer w;
    reef_json_writer_init(&w, &idx, 0);
    reef_json_begin_object(&w);
    reef_json_key(&w, "schemaVersion");
    reef_json_put_int(&w, 2);
    reef_json_key(&w, "mediaType");
    reef_json_put_str(&w, REEF_MT_OCI_INDEX);
    reef_json_key(&w, "manifests");
    reef_json_begin_array(&w);
    reef_json_begin_object(&w);
    reef_json_key(&w, "mediaType");
    reef_json_put_str(&w, mt);
    reef_json_key(&w, "digest");
    reef_json_put_str(&w, img->manifest_digest);
    reef_json_key(&w, "size");
    reef_json_put_int(&w, (int64_t)man.len);
    reef_json_key(&w, "annotations");
    reef_json_begin_object(&w);
    if (full[0]) {
        reef_json_key(&w, "io.containerd.image.name");
        reef_json_put_str(&w, full);
    }
    reef_json_key(&w, "org.opencontainers.image.ref.name");
    reef_json_put_str(&w, tag);
    reef_json_end_object(&w);
    reef_json_end_object(&w);
    reef_json_end_array(&w);
    reef_json_end_object(&w);
    if ((rc = reef_json_finish(&w, err)) < 0)
        goto out;
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", file);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = reef_err_errno(err, -errno, "create %s", tmp);
        tmp[0] = '\0';
        goto out;
    }
    a = archive_write_new();
    if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open_fd(a, fd) != ARCHIVE_OK) {
        close(fd);
        rc = reef_err_set(err, -EIO, "archive: %s", a ? archive_error_string(a) : "no memory");
        goto out;
    }
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    if ((rc = tar_file(a, "oci-layout", layout, sizeof(layout) - 1, NULL, 0)) < 0 ||
        (rc = tar_file(a, "index.json", idx.data, idx.len, NULL, 0)) < 0 ||
        (rc = tar_dir(a, "blobs/")) < 0 || (rc = tar_dir(a, "blobs/sha256/")) < 0) {
        close(fd);
        reef_err_set(err, rc, "write %s", tmp);
        goto out;
    }
    if ((rc = tar_blob(a, bs, img->manifest_digest, err)) < 0 ||
        (rc = tar_blob(a, bs, m.config.digest, err)) < 0) {
        close(fd);
        goto out;
    }
    for (size_t i = 0; i < m.nlayers; i++) {
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup |= strcmp(m.layers[i].digest, m.layers[j].digest) == 0;
        if (!dup && (rc = tar_blob(a, bs, m.layers[i].digest, err)) < 0) {
            close(fd);
            goto out;
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK) {
        close(fd);
        rc = reef_err_set(err, -EIO, "write %s: %s", tmp, archive_error_string(a));
        goto out;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        rc = reef_err_errno(err, -errno, "write %s", tmp);
        goto out;
    }
    if (rename(tmp, file) < 0) {
        rc = reef_err_errno(err, -errno, "rename %s", file);
        goto out;
    }
    tmp[0] = '\0';
out:
    if (a)
        archive_write_free(a);
    if (tmp[0])
        unlink(tmp);
    if (rc < 0)
        reef_err_wrap(err, "export %s", ref);
    reef__manifest_free(&m);
    reef_json_doc_free(&md);
    reef_buf_free(&man);
    reef_buf_free(&idx);
    reef_buf_free(&inspect);
    reef_image_free(img);
    return rc;
}
