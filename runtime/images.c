/* images: the store (layout in docs/IMAGES.md), lookups, names, removal and garbage collection.
 * Pulls live in images_pull.c, archives in image_archive.c, manifest parsing in images_manifest.c.
 */
#include "runtime/images.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/json.h"
#include "runtime/blobstore.h"
#include "runtime/image_ref.h"
#include "runtime/layer.h"

struct reef_images {
    char dir[PATH_MAX - 256];
    struct reef_blobstore *bs;
    struct reef_db *db;
    int lock_fd;
    int lock_depth;
};

static const char *const schema[] = {
    "CREATE TABLE images("
    "  id TEXT PRIMARY KEY,"
    "  manifest_digest TEXT NOT NULL,"
    "  platform TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  added INTEGER NOT NULL);"
    "CREATE TABLE image_layers("
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  chain_id TEXT NOT NULL,"
    "  blob TEXT NOT NULL,"
    "  diff_id TEXT NOT NULL,"
    "  media_type TEXT NOT NULL,"
    "  blob_size INTEGER NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  PRIMARY KEY(image_id, idx));"
    "CREATE INDEX image_layers_chain ON image_layers(chain_id);"
    "CREATE INDEX image_layers_blob ON image_layers(blob);"
    "CREATE TABLE refs("
    "  ref TEXT PRIMARY KEY,"
    "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
    "CREATE INDEX refs_image ON refs(image_id);",
};

const char *reef__images_dir(const struct reef_images *s)
{
    return s->dir;
}

struct reef_blobstore *reef__images_blobs(struct reef_images *s)
{
    return s->bs;
}

int reef_images_open(const char *dir, struct reef_images **out, struct reef_err *err)
{
    *out = NULL;
    struct reef_images *s = calloc(1, sizeof(*s));
    if (!s)
        return reef_err_set(err, -ENOMEM, "images: out of memory");
    s->lock_fd = -1;
    char p[PATH_MAX];
    int r;
    if (reef_strlcpy(s->dir, dir, sizeof(s->dir)) >= sizeof(s->dir) - 64) {
        r = reef_err_set(err, -ENAMETOOLONG, "images: %s: path too long", dir);
        goto fail;
    }
    snprintf(p, sizeof(p), "%s/layers/tmp", dir);
    if ((r = reef_fs_mkdir_p(p, 0755)) < 0) {
        reef_err_errno(err, r, "images: create %s", p);
        goto fail;
    }
    snprintf(p, sizeof(p), "%s/blobs", dir);
    if ((r = reef_blobstore_open(p, &s->bs, err)) < 0)
        goto fail;
    snprintf(p, sizeof(p), "%s/lock", dir);
    s->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        r = reef_err_errno(err, -errno, "images: open %s", p);
        goto fail;
    }
    snprintf(p, sizeof(p), "%s/index.db", dir);
    struct reef_db_opts o = {.sync = REEF_DB_SYNC_FULL, .txn_timeout_ms = 60000};
    if ((r = reef_db_open(p, &o, &s->db, err)) < 0)
        goto fail;
    if ((r = reef_db_migrate(s->db, schema, sizeof(schema) / sizeof(schema[0]), NULL, err)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    reef_err_wrap(err, "image store %s", dir);
    reef_images_close(s);
    return r;
}

void reef_images_close(struct reef_images *s)
{
    if (!s)
        return;
    reef_db_close(s->db);
    reef_blobstore_close(s->bs);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
}

int reef__images_lock(struct reef_images *s, bool exclusive, struct reef_err *err)
{
    if (s->lock_depth++ > 0)
        return 0;
    while (flock(s->lock_fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
        if (errno != EINTR) {
            s->lock_depth--;
            return reef_err_errno(err, -errno, "images: lock store");
        }
    }
    return 0;
}

void reef__images_unlock(struct reef_images *s)
{
    if (s->lock_depth > 0 && --s->lock_depth == 0)
        flock(s->lock_fd, LOCK_UN);
}

void reef_images_chain_ids(const char (*diff_ids)[80], size_t n, char (*out)[80])
{
    for (size_t i = 0; i < n; i++) {
        if (i == 0) {
            reef_strlcpy(out[0], diff_ids[0], 80);
            continue;
        }
        char buf[200];
        int l = snprintf(buf, sizeof(buf), "%s %s", out[i - 1], diff_ids[i]);
        char hex[REEF_SHA256_HEX_LEN + 1];
        reef_crypto_sha256_hex(buf, (size_t)l, hex);
        snprintf(out[i], 80, "sha256:%s", hex);
    }
}

/* ---- names ---- */

/* The key a reference is stored under: "domain/path:tag" or "domain/path@digest". */
static int ref_key(const struct reef_image_ref *r, char *out, size_t sz)
{
    int w = r->digest[0] ? snprintf(out, sz, "%s/%s@%s", r->domain, r->path, r->digest)
                         : snprintf(out, sz, "%s/%s:%s", r->domain, r->path, r->tag);
    return w < 0 || (size_t)w >= sz ? -ENAMETOOLONG : 0;
}

static bool hex_prefix(const char *s)
{
    if (reef_str_has_prefix(s, "sha256:"))
        s += 7;
    size_t n = strlen(s);
    if (n < 4 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
            return false;
    return true;
}

int reef__images_resolve(struct reef_images *s, const char *ref, char *id, struct reef_err *err)
{
    struct reef_image_ref r;
    struct reef_err perr;
    reef_err_clear(&perr);
    bool parsed = reef_image_ref_parse(ref, &r, &perr) == 0;
    if (parsed) {
        char key[600];
        char *got = NULL;
        if (ref_key(&r, key, sizeof(key)) == 0) {
            int rc = reef_db_get_text(s->db, err, "find image", &got,
                                      "SELECT image_id FROM refs WHERE ref = ?", "s", key);
            if (rc == 0 && got) {
                reef_strlcpy(id, got, 80);
                free(got);
                return 0;
            }
            free(got);
            if (rc < 0 && rc != -ENOENT)
                return rc;
        }
    }
    if (hex_prefix(ref)) {
        char pat[80];
        snprintf(pat, sizeof(pat), "%s%s*",
                 reef_str_has_prefix(ref, "sha256:") ? "" : "sha256:", ref);
        struct reef_db_query q _cleanup_db_query_ = {0};
        int rc = reef_db_query(s->db, &q, err, "find image by ID",
                               "SELECT id FROM images WHERE "
                               "id GLOB ? LIMIT 2",
                               "s", pat);
        if (rc < 0)
            return rc;
        int n = 0;
        while ((rc = reef_db_next(&q, err)) == 1) {
            if (n++ == 0)
                reef_strlcpy(id, reef_db_col_text(&q, 0), 80);
        }
        if (rc < 0)
            return rc;
        if (n == 1)
            return 0;
        if (n > 1)
            return reef_err_set(err, -EINVAL, "image ID prefix %s is ambiguous", ref);
    }
    if (!parsed)
        return reef_err_set(err, -EINVAL, "%s", perr.msg);
    char fam[600];
    if (reef_image_ref_familiar(&r, fam, sizeof(fam)) < 0)
        reef_strlcpy(fam, ref, sizeof(fam));
    return reef_err_set(err, -ENOENT, "image %s not found", fam);
}

void reef_image_free(struct reef_image *img)
{
    if (!img)
        return;
    free(img->config_json);
    for (size_t i = 0; i < img->nlayers; i++)
        free(img->layer_dirs[i]);
    free(img->layer_dirs);
    free(img);
}

static int load_image(struct reef_images *s, const char *id, const char *name,
                      struct reef_image **out, struct reef_err *err)
{
    struct reef_image *img = calloc(1, sizeof(*img));
    if (!img)
        return reef_err_set(err, -ENOMEM, "images: out of memory");
    int rc;
    {
        struct reef_db_query q _cleanup_db_query_ = {0};
        rc = reef_db_query(s->db, &q, err, "read image",
                           "SELECT manifest_digest, platform, size, created FROM images WHERE "
                           "id = ?",
                           "s", id);
        if (rc == 0 && (rc = reef_db_next(&q, err)) == 0)
            rc = reef_err_set(err, -ENOENT, "image %s not found", id);
        if (rc == 1) {
            reef_strlcpy(img->id, id, sizeof(img->id));
            reef_strlcpy(img->name, name ? name : "", sizeof(img->name));
            reef_strlcpy(img->manifest_digest, reef_db_col_text(&q, 0),
                         sizeof(img->manifest_digest));
            reef_strlcpy(img->platform, reef_db_col_text(&q, 1), sizeof(img->platform));
            img->size = reef_db_col_int(&q, 2);
            img->created = reef_db_col_int(&q, 3);
            rc = 0;
        }
    }
    if (rc < 0)
        goto fail;
    {
        int64_t n = 0;
        if ((rc = reef_db_get_int(s->db, err, "count layers", &n,
                                  "SELECT count(*) FROM image_layers WHERE image_id = ?", "s",
                                  id)) < 0)
            goto fail;
        img->layer_dirs = calloc((size_t)n + 1, sizeof(char *));
        if (!img->layer_dirs) {
            rc = reef_err_set(err, -ENOMEM, "images: out of memory");
            goto fail;
        }
        struct reef_db_query q _cleanup_db_query_ = {0};
        rc = reef_db_query(s->db, &q, err, "read layers",
                           "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx "
                           "DESC",
                           "s", id);
        while (rc >= 0 && (rc = reef_db_next(&q, err)) == 1 && img->nlayers < (size_t)n) {
            const char *chain = reef_db_col_text(&q, 0);
            char p[PATH_MAX];
            snprintf(p, sizeof(p), "%s/layers/%s", s->dir, chain + 7);
            if (!(img->layer_dirs[img->nlayers++] = strdup(p))) {
                rc = reef_err_set(err, -ENOMEM, "images: out of memory");
                break;
            }
        }
        if (rc < 0)
            goto fail;
    }
    struct reef_buf cfg = REEF_BUF_INIT;
    if ((rc = reef_blobstore_read(s->bs, id, 64u << 20, &cfg, err)) < 0) {
        reef_buf_free(&cfg);
        reef_err_wrap(err, "image %s: config", id);
        goto fail;
    }
    img->config_len = cfg.len;
    img->config_json = cfg.data ? reef_buf_steal(&cfg) : strdup("");
    *out = img;
    return 0;
fail:
    reef_image_free(img);
    return rc;
}

int reef_images_get(struct reef_images *s, const char *ref, struct reef_image **out,
                    struct reef_err *err)
{
    *out = NULL;
    char id[80];
    int rc = reef__images_resolve(s, ref, id, err);
    if (rc < 0)
        return rc;
    char name[600] = "";
    struct reef_image_ref r;
    if (!reef_str_has_prefix(ref, id) && reef_image_ref_parse(ref, &r, NULL) == 0)
        reef_image_ref_format(&r, name, sizeof(name));
    return load_image(s, id, name, out, err);
}

/* ---- tag, remove, prune ---- */

struct tag_args {
    const char *key, *id;
};

static int tag_txn(struct reef_db *db, void *arg, struct reef_err *err)
{
    struct tag_args *a = arg;
    return reef_db_exec(db, err, "tag image",
                        "INSERT INTO refs(ref, image_id) VALUES(?, ?) ON CONFLICT(ref) DO UPDATE "
                        "SET image_id = excluded.image_id",
                        "ss", a->key, a->id);
}

int reef_images_tag(struct reef_images *s, const char *src, const char *dst, struct reef_err *err)
{
    char id[80];
    int rc = reef__images_resolve(s, src, id, err);
    if (rc < 0)
        return rc;
    struct reef_image_ref r;
    if ((rc = reef_image_ref_parse(dst, &r, err)) < 0)
        return rc;
    if (r.digest[0])
        return reef_err_set(err, -EINVAL, "tag %s: a tag cannot name a digest", dst);
    char key[600];
    if (ref_key(&r, key, sizeof(key)) < 0)
        return reef_err_set(err, -ENAMETOOLONG, "tag %s: too long", dst);
    struct tag_args a = {key, id};
    return reef_db_txn(s->db, tag_txn, &a, err);
}

struct gc {
    struct reef_images *s;
    int64_t freed;
};

static int gc_blob(void *ud, const char *digest, int64_t size)
{
    struct gc *g = ud;
    int64_t n = 0;
    struct reef_err e;
    if (reef_db_get_int(g->s->db, &e, "blob in use", &n,
                        "SELECT (SELECT count(*) FROM images WHERE id = ?1 OR manifest_digest = "
                        "?1) + (SELECT count(*) FROM image_layers WHERE blob = ?1)",
                        "s", digest) < 0)
        return 0; /* keep what cannot be checked */
    if (n == 0 && reef_blobstore_delete(g->s->bs, digest, NULL) == 0)
        g->freed += size;
    return 0;
}

/* Removes every entry of dir (a tmp directory). */
static void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        reef__layer_remove_at(dirfd(d), e->d_name, NULL);
    }
    closedir(d);
}

static int gc_run(struct reef_images *s, int64_t *freed, struct reef_err *err)
{
    struct gc g = {s, 0};
    int rc = reef_blobstore_list(s->bs, gc_blob, &g, err);
    if (rc < 0)
        return rc;
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/layers", s->dir);
    DIR *d = opendir(p);
    if (!d)
        return reef_err_errno(err, -errno, "images: open %s", p);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != 64)
            continue;
        char chain[80];
        snprintf(chain, sizeof(chain), "sha256:%.64s", e->d_name);
        int64_t n = 1, size = 0;
        if (reef_db_get_int(s->db, NULL, "layer in use", &n,
                            "SELECT count(*) FROM image_layers WHERE chain_id = ?", "s",
                            chain) < 0 ||
            n > 0)
            continue;
        reef_db_get_int(s->db, NULL, "layer size", &size,
                        "SELECT coalesce(max(size), 0) FROM image_layers WHERE chain_id = ?", "s",
                        chain);
        if (reef__layer_remove_at(dirfd(d), e->d_name, NULL) == 0)
            g.freed += size;
    }
    closedir(d);
    snprintf(p, sizeof(p), "%s/layers/tmp", s->dir);
    clear_dir(p);
    snprintf(p, sizeof(p), "%s/blobs/tmp", s->dir);
    clear_dir(p);
    if (freed)
        *freed = g.freed;
    return 0;
}

int reef_images_prune(struct reef_images *s, int64_t *freed, struct reef_err *err)
{
    int rc = reef__images_lock(s, true, err);
    if (rc < 0)
        return rc;
    rc = gc_run(s, freed, err);
    reef__images_unlock(s);
    return rc;
}

struct rm_args {
    const char *key; /* NULL: remove the image by ID */
    const char *id;
};

static int rm_txn(struct reef_db *db, void *arg, struct reef_err *err)
{
    struct rm_args *a = arg;
    int rc;
    if (a->key) {
        rc = reef_db_exec(db, err, "untag", "DELETE FROM refs WHERE ref = ?", "s", a->key);
        if (rc < 0)
            return rc;
        /* Digest names (name@sha256:...) do not keep an image: its tags do. */
        int64_t n = 0;
        rc = reef_db_get_int(db, err, "count names", &n,
                             "SELECT count(*) FROM refs WHERE image_id = ? AND ref NOT LIKE "
                             "'%@%'",
                             "s", a->id);
        if (rc < 0 || n > 0)
            return rc;
    }
    return reef_db_exec(db, err, "remove image", "DELETE FROM images WHERE id = ?", "s", a->id);
}

int reef_images_remove(struct reef_images *s, const char *ref, struct reef_err *err)
{
    char id[80];
    int rc = reef__images_resolve(s, ref, id, err);
    if (rc < 0)
        return rc;
    struct rm_args a = {NULL, id};
    char key[600];
    struct reef_image_ref r;
    if (!reef_str_has_prefix(ref, "sha256:")) { /* a name: remove just that name */
        if (reef_image_ref_parse(ref, &r, NULL) == 0 && ref_key(&r, key, sizeof(key)) == 0) {
            int64_t n = 0;
            reef_db_get_int(s->db, NULL, "ref exists", &n,
                            "SELECT count(*) FROM refs WHERE ref = ?", "s", key);
            if (n > 0)
                a.key = key;
        }
    }
    if ((rc = reef__images_lock(s, true, err)) < 0)
        return rc;
    rc = reef_db_txn(s->db, rm_txn, &a, err);
    if (rc == 0)
        rc = gc_run(s, NULL, err);
    reef__images_unlock(s);
    return rc;
}

/* ---- listing and inspection ---- */

int reef_images_list(struct reef_images *s,
                     int (*fn)(void *ud, const struct reef_image_summary *img), void *ud,
                     struct reef_err *err)
{
    struct reef_db_query q _cleanup_db_query_ = {0};
    int rc = reef_db_query(s->db, &q, err, "list images",
                           "SELECT i.id, coalesce(r.ref, (SELECT min(ref) FROM refs WHERE image_id "
                           "= i.id), ''), i.platform, i.size, i.created FROM images i LEFT JOIN "
                           "refs r ON r.image_id = i.id AND r.ref NOT LIKE '%@%' ORDER BY 2, 1",
                           NULL);
    if (rc < 0)
        return rc;
    while ((rc = reef_db_next(&q, err)) == 1) {
        struct reef_image_summary sum = {
            .id = reef_db_col_text(&q, 0),
            .name = reef_db_col_text(&q, 1),
            .platform = reef_db_col_text(&q, 2),
            .size = reef_db_col_int(&q, 3),
            .created = reef_db_col_int(&q, 4),
        };
        if ((rc = fn(ud, &sum)) != 0)
            return rc < 0 ? rc : 0;
    }
    return rc;
}

int reef_images_inspect_json(struct reef_images *s, const char *ref, struct reef_buf *out,
                             struct reef_err *err)
{
    struct reef_image *img;
    int rc = reef_images_get(s, ref, &img, err);
    if (rc < 0)
        return rc;
    struct reef_json_writer w;
    reef_json_writer_init(&w, out, 4);
    reef_json_begin_object(&w);
    reef_json_key(&w, "Id");
    reef_json_put_str(&w, img->id);
    struct reef_json_doc cd = REEF_JSON_DOC_INIT;
    for (int pass = 0; pass < 2; pass++) {
        reef_json_key(&w, pass ? "RepoDigests" : "RepoTags");
        reef_json_begin_array(&w);
        struct reef_db_query q _cleanup_db_query_ = {0};
        rc = reef_db_query(s->db, &q, err, "read names",
                           "SELECT ref FROM refs WHERE image_id = ? ORDER BY ref", "s", img->id);
        while (rc >= 0 && (rc = reef_db_next(&q, err)) == 1) {
            const char *k = reef_db_col_text(&q, 0);
            if ((strchr(k, '@') != NULL) == (pass == 1))
                reef_json_put_str(&w, k);
        }
        reef_json_end_array(&w);
        if (rc < 0)
            goto out;
    }
    reef_json_key(&w, "Digest");
    reef_json_put_str(&w, img->manifest_digest);
    reef_json_key(&w, "Platform");
    reef_json_put_str(&w, img->platform);
    reef_json_key(&w, "Size");
    reef_json_put_int(&w, img->size);
    reef_json_key(&w, "Created");
    reef_json_put_int(&w, img->created);
    reef_json_key(&w, "Config");
    if (reef_json_parse(&cd, img->config_json, img->config_len, NULL, NULL) == 0)
        reef_json_put_value(&w, &cd, REEF_JSON_ROOT);
    else
        reef_json_put_null(&w);
    reef_json_key(&w, "Layers");
    reef_json_begin_array(&w);
    {
        struct reef_db_query q _cleanup_db_query_ = {0};
        rc = reef_db_query(s->db, &q, err, "read layers",
                           "SELECT blob, diff_id, chain_id, media_type, blob_size, size FROM "
                           "image_layers WHERE image_id = ? ORDER BY idx",
                           "s", img->id);
        while (rc >= 0 && (rc = reef_db_next(&q, err)) == 1) {
            reef_json_begin_object(&w);
            reef_json_key(&w, "digest");
            reef_json_put_str(&w, reef_db_col_text(&q, 0));
            reef_json_key(&w, "diffID");
            reef_json_put_str(&w, reef_db_col_text(&q, 1));
            reef_json_key(&w, "chainID");
            reef_json_put_str(&w, reef_db_col_text(&q, 2));
            reef_json_key(&w, "mediaType");
            reef_json_put_str(&w, reef_db_col_text(&q, 3));
            reef_json_key(&w, "size");
            reef_json_put_int(&w, reef_db_col_int(&q, 4));
            reef_json_key(&w, "unpackedSize");
            reef_json_put_int(&w, reef_db_col_int(&q, 5));
            reef_json_key(&w, "dir");
            char p[PATH_MAX];
            snprintf(p, sizeof(p), "%s/layers/%s", s->dir, reef_db_col_text(&q, 2) + 7);
            reef_json_put_str(&w, p);
            reef_json_end_object(&w);
        }
    }
    reef_json_end_array(&w);
    reef_json_end_object(&w);
    if (rc >= 0)
        rc = reef_json_finish(&w, err);
out:
    reef_json_doc_free(&cd);
    reef_image_free(img);
    return rc < 0 ? rc : 0;
}

/* ---- recording a pulled image (called by images_pull.c) ---- */

static int record_txn(struct reef_db *db, void *arg, struct reef_err *err)
{
    const struct reef__record *r = arg;
    int rc = reef_db_exec(db, err, "record image",
                          "INSERT INTO images(id, manifest_digest, platform, size, created, added) "
                          "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                          "manifest_digest = excluded.manifest_digest, platform = "
                          "excluded.platform, size = excluded.size",
                          "sssIII", r->id, r->manifest_digest, r->platform, r->size, r->created,
                          (int64_t)time(NULL));
    if (rc < 0)
        return rc;
    if ((rc = reef_db_exec(db, err, "record layers", "DELETE FROM image_layers WHERE image_id = ?",
                           "s", r->id)) < 0)
        return rc;
    for (size_t i = 0; i < r->nlayers; i++) {
        rc = reef_db_exec(db, err, "record layer",
                          "INSERT INTO image_layers(image_id, idx, chain_id, blob, diff_id, "
                          "media_type, blob_size, size) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                          "sissssII", r->id, (int)i, r->chain[i], r->layers[i].digest,
                          r->diff_ids[i], r->layers[i].media_type, r->layers[i].size,
                          r->unpacked[i]);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < r->nrefs; i++) {
        struct reef_image_ref ir;
        char key[600];
        if (reef_image_ref_parse(r->refs[i], &ir, NULL) < 0 || ref_key(&ir, key, sizeof(key)) < 0)
            continue;
        struct tag_args a = {key, r->id};
        if ((rc = tag_txn(db, &a, err)) < 0)
            return rc;
    }
    return 0;
}

int reef__images_record(struct reef_images *s, const struct reef__record *rec, struct reef_err *err)
{
    return reef_db_txn(s->db, record_txn, (void *)rec, err);
}

int64_t reef__images_layer_size(struct reef_images *s, const char *chain)
{
    int64_t n = -1;
    if (reef_db_get_int(s->db, NULL, "layer size", &n,
                        "SELECT max(size) FROM image_layers WHERE chain_id = ? AND size > 0", "s",
                        chain) < 0 ||
        n <= 0)
        return -1;
    return n;
}
