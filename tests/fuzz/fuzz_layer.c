/* Fuzz target for runtime/layer: unpacks arbitrary bytes (plain, gzip or zstd, by their magic)
 * into a fresh directory, then checks that nothing appeared beside it and that the removal helper
 * takes everything away. A write outside the destination aborts, so libFuzzer reports it. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
    const uint8_t *p;
    size_t len, pos;
};

static ssize_t src_read(void *ud, void *buf, size_t len)
{
    struct src *s = ud;
    size_t n = s->len - s->pos;
    if (n > len)
        n = len;
    /* Odd-sized pieces, so refills happen at every kind of boundary. */
    if (n > 777)
        n = 777;
    memcpy(buf, s->p + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

static char base[64], dest[96];

static void remove_base(void)
{
    rmdir(base);
}

static void setup(void)
{
    strcpy(base, "/tmp/reef-fuzz-layer-XXXXXX");
    if (!mkdtemp(base))
        abort();
    atexit(remove_base);
    snprintf(dest, sizeof(dest), "%s/dest", base);
}

/* base must hold nothing but dest (or nothing at all after removal). */
static int others_in_base(void)
{
    DIR *d = opendir(base);
    if (!d)
        abort();
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "dest"))
            n++;
    closedir(d);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!base[0])
        setup();
    if (mkdir(dest, 0755) < 0)
        abort();
    struct src s = {data, size, 0};
    struct reef_layer_opts o = {
        .devices = REEF_LAYER_DEVICES_SKIP,
        .max_size = 16u << 20, /* a decompression bomb stops here, not at a full disk */
        .max_entries = 20000,
    };
    struct reef_layer_result res;
    struct reef_err err = {0};
    int r = reef_layer_unpack(src_read, &s, dest, &o, &res, &err);
    if (r < 0 && (err.code != r || !err.msg[0] || strncmp(err.msg, "layer: ", 7) != 0)) {
        fprintf(stderr, "bad error report: %d \"%s\"\n", r, err.msg);
        abort();
    }
    if (r == 0 && strncmp(res.diff_id, "sha256:", 7) != 0)
        abort();
    if (others_in_base() != 0) {
        fprintf(stderr, "an entry escaped the destination\n");
        abort();
    }
    struct reef_err rerr = {0};
    if (reef_layer_remove_tree(dest, &rerr) < 0) {
        fprintf(stderr, "remove: %s\n", rerr.msg);
        abort();
    }
    struct stat st;
    if (lstat(dest, &st) == 0 || errno != ENOENT)
        abort();
    return 0;
}
