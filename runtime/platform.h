/* platform: OCI platforms ("linux/arm/v7") and picking an image for this machine from an index.
 * Pure logic; any thread. */
#ifndef REEF_RUNTIME_PLATFORM_H
#define REEF_RUNTIME_PLATFORM_H

#include <stdbool.h>

#include "core/err.h"

struct reef_platform {
    char os[32];      /* "linux" */
    char arch[32];    /* GOARCH names: "amd64", "arm64", "arm", "386", "riscv64", ... */
    char variant[16]; /* "v7" for arm, "v8" for arm64, "" when not given */
};

/* This build's platform (linux/amd64, linux/arm64/v8, linux/arm/v7 ...). */
void reef_platform_host(struct reef_platform *out);

/* Parses "linux/arm64", "linux/arm/v7", "arm64" (os defaults to linux); normalises aliases
 * (x86_64 -> amd64, aarch64 -> arm64, armhf -> arm/v7, armel -> arm/v6, i386 -> 386, and arm64's
 * default variant v8). -EINVAL with a message for anything else. */
int reef_platform_parse(const char *s, struct reef_platform *out, struct reef_err *err);
/* "linux/arm/v7" */
void reef_platform_format(const struct reef_platform *p, char *out, unsigned outsz);

/* How well an image for `have` runs on `want`: 0 = it does not, higher is better (an exact variant
 * beats an older compatible one: arm/v6 images run on arm/v7 but v7 ones are preferred). */
int reef_platform_score(const struct reef_platform *want, const struct reef_platform *have);

#endif
