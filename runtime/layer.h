/* layer: unpacking one OCI image layer blob into a directory overlayfs can use as a lower layer.
 *
 * A layer blob is a tar stream, plain or compressed with gzip or zstd (told apart by magic bytes).
 * One streaming pass decompresses it, computes the SHA-256 of the uncompressed tar (the layer's
 * diff_id, which the image config lists and the caller must check), and writes every entry below
 * dest_dir with its numeric owner, mode (setuid/setgid/sticky included), xattrs (file capabilities
 * included) and times. OCI whiteouts become overlayfs whiteouts: ".wh.NAME" a 0:0 character device
 * NAME, ".wh..wh..opq" the xattr trusted.overlay.opaque="y" on its directory.
 *
 * Layers come from the internet, so nothing may land outside dest_dir: names are normalised
 * lexically (a leading "/" is dropped as Docker does; ".." that climbs above the layer root is an
 * error), every parent directory is opened without following symlinks (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, with an O_NOFOLLOW component walk as fallback), leaves are created with
 * O_EXCL / *at calls that never follow a final symlink, and hard links must point at an entry
 * already unpacked in this layer. docs/LAYERS.md has the full list of rules and failure modes.
 *
 * Memory is bounded (fixed buffers of a few hundred KiB plus libarchive's header state and one
 * record per directory for the final timestamp pass); the layer is never held whole in memory or
 * copied on disk. No global state and no chdir: unpacks may run concurrently on any threads, each
 * call on its own. Calls block; run them on a worker thread, never on an event loop. */
#ifndef REEF_RUNTIME_LAYER_H
#define REEF_RUNTIME_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

/* Pulls up to len bytes of the blob into buf. Returns the count (> 0), 0 at the end of the blob, or
 * a negative errno-style code (the unpack then fails with "layer: read: <strerror>"). May block. */
typedef ssize_t (*reef_layer_read_fn)(void *ud, void *buf, size_t len);

enum reef_layer_compression {
    REEF_LAYER_PLAIN = 0, /* no compression: the blob is the tar */
    REEF_LAYER_GZIP,      /* 1f 8b: one or more concatenated gzip members */
    REEF_LAYER_ZSTD,      /* 28 b5 2f fd: one or more zstd frames */
};

enum reef_layer_devices {
    REEF_LAYER_DEVICES_REFUSE = 0, /* a character or block device entry fails the unpack */
    REEF_LAYER_DEVICES_SKIP,       /* device entries are left out (rootless-style) */
    REEF_LAYER_DEVICES_CREATE,     /* mknod them (needs CAP_MKNOD; failure fails the unpack) */
};

enum reef_layer_whiteouts {
    /* ".wh.NAME" becomes a 0:0 character device NAME. Linux 5.8+ lets anyone create that one
     * device; older kernels need CAP_MKNOD, and the unpack fails clearly without it. */
    REEF_LAYER_WHITEOUT_MKNOD = 0,
    /* overlayfs "xattr whiteouts" (Linux 6.7+): an empty regular file NAME carrying
     * trusted.overlay.whiteout, its directory marked trusted.overlay.opaque="x" unless it is
     * already opaque. Needs CAP_SYS_ADMIN for trusted.* but no device node. */
    REEF_LAYER_WHITEOUT_XATTR,
};

struct reef_layer_opts {
    enum reef_layer_devices devices;
    enum reef_layer_whiteouts whiteouts;
    bool no_chown;        /* keep the caller's uid/gid instead of the tar's (unprivileged use) */
    uint64_t max_size;    /* limit on uncompressed bytes; 0 = no limit */
    uint64_t max_entries; /* limit on tar entries; 0 = REEF_LAYER_DEFAULT_MAX_ENTRIES */
    const char *diff_id;  /* when set ("sha256:<hex>"), a different digest fails the unpack */
};

#define REEF_LAYER_DEFAULT_MAX_ENTRIES (4u * 1024 * 1024)
#define REEF_LAYER_DIFF_ID_LEN (7 + 64) /* "sha256:" + 64 hex digits */

struct reef_layer_result {
    char diff_id[REEF_LAYER_DIFF_ID_LEN + 1]; /* "sha256:<hex>" of the uncompressed tar */
    uint64_t size;                            /* uncompressed bytes (the whole tar stream) */
    uint64_t compressed_size;                 /* bytes pulled from the read callback */
    uint64_t entries;                         /* tar entries seen, whiteouts included */
    enum reef_layer_compression compression;
};

/* Unpacks the blob read through read(ud, ...) into dest_dir, an existing empty directory the caller
 * created (normally a temporary one it renames into place on success). opts may be NULL for the
 * defaults (zeroed struct). res may be NULL; it is filled only on success. The whole blob is read,
 * trailing tar padding included, so the digest covers exactly the uncompressed stream.
 * Returns 0, or a negative code with err saying what and where, e.g.
 * `layer: entry "../../etc/passwd": path escapes the layer`. On failure dest_dir holds a partial
 * tree; remove it with reef_layer_remove_tree. Nothing is allocated that the caller frees. */
int reef_layer_unpack(reef_layer_read_fn read, void *ud, const char *dest_dir,
                      const struct reef_layer_opts *opts, struct reef_layer_result *res,
                      struct reef_err *err);

/* The same, reading the blob from fd (a file, pipe or socket) until end of file. fd stays open. */
int reef_layer_unpack_fd(int fd, const char *dest_dir, const struct reef_layer_opts *opts,
                         struct reef_layer_result *res, struct reef_err *err);

/* Removes path and everything below it without ever following a symlink or leaving the file system
 * path is on (a mount point below it is an error, not a descent). Directories without write or
 * search permission are made accessible first. A path that does not exist is success; a path that
 * is not a directory is unlinked. Uses a constant number of file descriptors whatever the depth. */
int reef_layer_remove_tree(const char *path, struct reef_err *err);

/* "plain", "gzip", "zstd". */
const char *reef_layer_compression_name(enum reef_layer_compression c);

/* --- internal: the decompress-and-hash stream, shared by layer.c and layer_decompress.c --- */

struct reef__layer_stream;

/* Starts a stream over read/ud; reads the first bytes to detect the compression. max_size as in
 * the opts. Returns 0 and *out (freed with reef__layer_stream_free), or a negative code. */
int reef__layer_stream_new(reef_layer_read_fn read, void *ud, uint64_t max_size,
                           struct reef__layer_stream **out, struct reef_err *err);
/* Produces the next uncompressed bytes: *data points into the stream's buffer, valid until the
 * next call. Returns the count, 0 at the end of the blob, or a negative code with err set. */
ssize_t reef__layer_stream_next(struct reef__layer_stream *s, const void **data,
                                struct reef_err *err);
/* Reads and hashes whatever the tar reader left unread, then fills diff_id, size,
 * compressed_size and compression of res. */
int reef__layer_stream_finish(struct reef__layer_stream *s, struct reef_layer_result *res,
                              struct reef_err *err);
void reef__layer_stream_free(struct reef__layer_stream *s);

/* Removes name inside the directory dirfd as reef_layer_remove_tree does (layer_remove.c). */
int reef__layer_remove_at(int dirfd, const char *name, struct reef_err *err);

#endif
