/* images: the local image store (docs/IMAGES.md): pulling from registries, importing and
 * exporting archives, and looking images up for containers.
 *
 * The store lives in one directory (<data-dir>/images): verified blobs, unpacked layers shared by
 * chain ID, and an SQLite index. Several processes may use one store at once (two pulls of the
 * same image share the work). A store handle belongs to one thread at a time; pulls run their own
 * event loop and worker threads internally and return when done. */
#ifndef REEF_RUNTIME_IMAGES_H
#define REEF_RUNTIME_IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"

struct reef_images;

/* What a container needs of an image. Everything is owned by the struct; free it with
 * reef_image_free. */
struct reef_image {
    char id[80];              /* config digest "sha256:..." (Docker's image ID) */
    char name[512];           /* the canonical reference it was found by, or "" for an ID */
    char manifest_digest[80]; /* digest of the manifest for this platform */
    char platform[64];        /* "linux/amd64" */
    char *config_json;        /* the image config blob (NUL-terminated) */
    size_t config_len;
    char **layer_dirs; /* unpacked layer directories, topmost first (overlay lowerdir order) */
    size_t nlayers;
    int64_t size;    /* unpacked size in bytes */
    int64_t created; /* unix time the image was created (from its config), 0 when unknown */
};

/* Opens (creating when needed) the store in dir. */
int reef_images_open(const char *dir, struct reef_images **out, struct reef_err *err);
void reef_images_close(struct reef_images *s);

/* Looks up an image by reference ("busybox", "127.0.0.1:5000/app:v1", "name@sha256:..."), by
 * full ID or by a unique ID prefix of at least 4 hex digits. -ENOENT when absent (err says
 * "image busybox:latest not found"). */
int reef_images_get(struct reef_images *s, const char *ref, struct reef_image **out,
                    struct reef_err *err);
void reef_image_free(struct reef_image *img);

/* Credentials for one registry host ("host:port"), as a pod's imagePullSecrets give them. */
struct reef_pull_auth {
    const char *host, *username, *password;
};

struct reef_pull_opts {
    const char *platform;        /* NULL: this machine's */
    const char *registries_yaml; /* NULL: /etc/reef/registries.yaml (absent is fine) */
    const struct reef_pull_auth *auth; /* over registries.yaml's for those hosts */
    size_t nauth;
    int parallel;                /* layers at once; 0 = 3 */
    FILE *progress;              /* NULL: quiet; a terminal gets live per-layer lines */
    unsigned timeout_ms;         /* registry connect and silence limit; 0 = 30 s */
};

/* Pulls ref and records it; *out (may be NULL) receives the image. */
int reef_images_pull(struct reef_images *s, const char *ref, const struct reef_pull_opts *opts,
                     struct reef_image **out, struct reef_err *err);

/* Adds (or moves) the tag dst ("app:v2", "127.0.0.1:5000/app:v1") to the image src names. */
int reef_images_tag(struct reef_images *s, const char *src, const char *dst, struct reef_err *err);

/* Removes the name ref; when it was the image's last name (or ref is an ID), the image goes and
 * whatever blobs and layers no other image uses are deleted. -ENOENT when absent. */
int reef_images_remove(struct reef_images *s, const char *ref, struct reef_err *err);

/* Deletes blobs and layers no image uses, and leftovers of interrupted pulls. *freed (may be
 * NULL) receives the bytes freed (blob sizes plus unpacked layer sizes as recorded). */
int reef_images_prune(struct reef_images *s, int64_t *freed, struct reef_err *err);

/* One line of `reef image ls`: an image and one of its tags; an image without tags comes once,
 * with one of its digest names ("...@sha256:...") or "". */
struct reef_image_summary {
    const char *id;
    const char *name; /* canonical "docker.io/library/busybox:latest" or "" */
    const char *platform;
    int64_t size;
    int64_t created;
};
/* Calls fn for every (image, tag) pair, by name; fn returns 0 to go on. */
int reef_images_list(struct reef_images *s,
                     int (*fn)(void *ud, const struct reef_image_summary *img), void *ud,
                     struct reef_err *err);

/* Appends to out the JSON of `reef image inspect`: Id, RepoTags, RepoDigests, Digest, Platform,
 * Size, Created, Config (the image config), Layers (digest, diffID, chainID, mediaType, size,
 * unpackedSize, dir). */
int reef_images_inspect_json(struct reef_images *s, const char *ref, struct reef_buf *out,
                             struct reef_err *err);

/* Imports a `docker save` archive or an OCI image-layout archive (tar, plain or gzip/zstd
 * compressed). Every image in it is stored under the names the archive gives (an OCI archive's
 * org.opencontainers.image.ref.name, a docker archive's RepoTags); opts->platform picks from an
 * index. names (may be NULL) receives one canonical name or ID per line. */
int reef_images_import(struct reef_images *s, const char *file, const struct reef_pull_opts *opts,
                       struct reef_buf *names, struct reef_err *err);

/* Writes image ref as an OCI image-layout tar archive at file (replaced atomically), its
 * index.json naming it by ref. */
int reef_images_export(struct reef_images *s, const char *ref, const char *file,
                       struct reef_err *err);

/* Chain IDs: chain[0] = diff_ids[0], chain[n] = sha256(chain[n-1] + " " + diff_ids[n]).
 * out receives n strings of REEF_DIGEST_MAX bytes. */
void reef_images_chain_ids(const char (*diff_ids)[80], size_t n, char (*out)[80]);

/* --- internal: shared by images.c, images_pull.c and image_archive.c --- */

struct reef_registry;

/* Where the blobs of an image come from: a registry, or local files (an unpacked archive). */
struct reef__image_src {
    struct reef_registry *reg;
    /* local: the path of blob digest, 0 or -ENOENT */
    int (*blob_path)(void *ud, const char *digest, char *out, size_t outsz);
    void *ud;
};

/* A parsed image manifest (OCI or Docker schema 2), validated. */
struct reef__desc {
    char media_type[128];
    char digest[80];
    int64_t size;
};
struct reef__manifest {
    struct reef__desc config;
    struct reef__desc *layers;
    size_t nlayers;
};
/* Parses and validates a manifest: schemaVersion 2, known config and layer media types, valid
 * digests, sizes >= 0, at most 1000 layers. Free with reef__manifest_free. */
int reef__manifest_parse(const char *json, size_t len, struct reef__manifest *out,
                         struct reef_err *err);
void reef__manifest_free(struct reef__manifest *m);
/* Picks the entry of an index for platform (NULL: this machine's): digest and media type out.
 * -ENOENT naming the platforms the index has when none fits. */
int reef__index_pick(const char *json, size_t len, const char *platform, char *digest,
                     char *media_type, struct reef_err *err);
/* Reads the config's diff_ids (must be exactly nlayers), platform and created time. */
int reef__config_parse(const char *json, size_t len, size_t nlayers, char (*diff_ids)[80],
                       char *platform, size_t psz, int64_t *created, struct reef_err *err);

/* Stores an image given its manifest: fetches config and layers from src (layers streamed and
 * unpacked in parallel), then records it under the names refs[0..nrefs) (canonical strings).
 * On failure the store is left as it was. */
int reef__images_install(struct reef_images *s, struct reef__image_src *src, const char *label,
                         const char *manifest, size_t manifest_len, const char *manifest_digest,
                         const char *const *refs, size_t nrefs, const struct reef_pull_opts *opts,
                         char *image_id, struct reef_err *err);
/* What one pull records, in one transaction. */
struct reef__record {
    const char *id, *manifest_digest, *platform;
    int64_t size, created;
    size_t nlayers;
    const char (*chain)[80];
    const struct reef__desc *layers;
    const char (*diff_ids)[80];
    const int64_t *unpacked;
    const char *const *refs;
    size_t nrefs;
};
int reef__images_record(struct reef_images *s, const struct reef__record *rec,
                        struct reef_err *err);
/* Unpacked size recorded for a layer, or -1 when no image records it. */
int64_t reef__images_layer_size(struct reef_images *s, const char *chain);
const char *reef__images_dir(const struct reef_images *s);
struct reef_blobstore *reef__images_blobs(struct reef_images *s);
/* Store-wide lock: shared for pulls and imports, exclusive for removal. 0 or negative. */
int reef__images_lock(struct reef_images *s, bool exclusive, struct reef_err *err);
void reef__images_unlock(struct reef_images *s);
/* Resolves a reference or ID to an image ID (80 bytes). */
int reef__images_resolve(struct reef_images *s, const char *ref, char *id, struct reef_err *err);

#endif
