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
    int64_t size; /* unpacked size in bytes */
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

struct reef_pull_opts {
    const char *platform;         /* NULL: this machine's */
    const char *registries_yaml;  /* NULL: /etc/reef/registries.yaml (absent is fine) */
    int parallel;                 /* layers at once; 0 = 3 */
    FILE *progress;               /* NULL: quiet; a terminal gets live per-layer lines */
};

/* Pulls ref and records it; *out (may be NULL) receives the image. */
int reef_images_pull(struct reef_images *s, const char *ref, const struct reef_pull_opts *opts,
                     struct reef_image **out, struct reef_err *err);

#endif
