/* image_ref: image references as Docker and the OCI distribution spec write them.
 *
 * Parses "busybox", "library/busybox:1.36", "127.0.0.1:5000/app:v1", "ghcr.io/o/r@sha256:..." and
 * normalises them as Docker does: no registry means docker.io, a single path component on docker.io
 * gets "library/", no tag and no digest means ":latest". Pure logic, no allocation; any thread. */
#ifndef REEF_RUNTIME_IMAGE_REF_H
#define REEF_RUNTIME_IMAGE_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define REEF_IMAGE_NAME_MAX 255

struct reef_image_ref {
    char domain[REEF_IMAGE_NAME_MAX + 1]; /* "docker.io", "127.0.0.1:5000" */
    char path[REEF_IMAGE_NAME_MAX + 1];   /* "library/busybox" */
    char tag[129];                        /* "latest"; empty when only a digest was given */
    char digest[80];                      /* "sha256:<64 hex>" or empty */
};

/* Parses and normalises s. Returns 0, or -EINVAL with err naming what is wrong
 * ("invalid reference \"Busybox\": repository name must be lowercase"). */
int reef_image_ref_parse(const char *s, struct reef_image_ref *out, struct reef_err *err);

/* The canonical form: "docker.io/library/busybox:latest", "r/x@sha256:..." (tag and digest both
 * when both were given). Returns the length, or -ENAMETOOLONG when out is too small. */
int reef_image_ref_format(const struct reef_image_ref *r, char *out, size_t outsz);

/* The short form users type: "busybox:latest", "myorg/app:v1", "127.0.0.1:5000/app:v1". */
int reef_image_ref_familiar(const struct reef_image_ref *r, char *out, size_t outsz);

/* The host to contact for the registry: Docker Hub's API lives at registry-1.docker.io. */
const char *reef_image_ref_endpoint(const struct reef_image_ref *r);

/* True for a well-formed digest "algorithm:hex" (sha256 needs exactly 64 lowercase hex digits). */
bool reef_image_digest_valid(const char *digest);

#endif
