/* blobstore: content-addressed blobs on disk, by SHA-256 digest.
 *
 * Layout: DIR/sha256/<64 hex> holds a complete, verified blob; DIR/tmp/ holds blobs being written
 * and the per-digest lock files. A blob appears under its digest only after its size and digest
 * were verified and its data fsync'd (temporary name, fsync, rename, fsync of the directory), so a
 * crash at any moment never leaves an entry that claims to be complete and is not.
 * Two writers of the same digest, in one process or several, share the work: the second waits on
 * the first's lock and then finds the blob present.
 * The lock is a flock(2): a child forked while a writer is open shares it, so fork only with no
 * writer open (exec drops it: descriptors are close-on-exec).
 * A store handle may be used from several threads; a writer belongs to one thread at a time. */
#ifndef REEF_RUNTIME_BLOBSTORE_H
#define REEF_RUNTIME_BLOBSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define REEF_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL, rounded */

struct reef_blobstore;
struct reef_blob_writer;

/* Opens (creating when needed) the store in dir. The caller frees it with reef_blobstore_close. */
int reef_blobstore_open(const char *dir, struct reef_blobstore **out, struct reef_err *err);
void reef_blobstore_close(struct reef_blobstore *bs);

/* Digest syntax check: "sha256:" and 64 lowercase hex digits (the only algorithm stored). */
bool reef_digest_valid(const char *digest);

bool reef_blobstore_has(struct reef_blobstore *bs, const char *digest);
/* Path of a complete blob (whether or not it exists). Returns 0 or -EINVAL / -ENAMETOOLONG. */
int reef_blobstore_path(struct reef_blobstore *bs, const char *digest, char *out, size_t outsz);
/* Size of a complete blob, or a negative code (-ENOENT when absent). */
int64_t reef_blobstore_size(struct reef_blobstore *bs, const char *digest);

/* Reads a whole blob of at most max bytes into out (appending), verifying its digest. For
 * manifests and configs; layers are streamed. */
int reef_blobstore_read(struct reef_blobstore *bs, const char *digest, size_t max,
                        struct reef_buf *out, struct reef_err *err);
/* Stores data; digest_out (REEF_DIGEST_MAX bytes, may be NULL) receives its digest. When
 * expected is not NULL the data must have that digest. */
int reef_blobstore_put(struct reef_blobstore *bs, const void *data, size_t len,
                       const char *expected, char *digest_out, struct reef_err *err);
int reef_blobstore_delete(struct reef_blobstore *bs, const char *digest, struct reef_err *err);
/* Calls fn for every complete blob; fn returns 0 to go on. */
int reef_blobstore_list(struct reef_blobstore *bs,
                        int (*fn)(void *ud, const char *digest, int64_t size), void *ud,
                        struct reef_err *err);

/* Starts writing a blob that must have digest `expected` and, when size >= 0, that size.
 * Blocks while another writer (any process) holds the same digest. When the blob is already
 * complete, *out is set to NULL and 0 is returned: nothing to write. */
int reef_blob_writer_begin(struct reef_blobstore *bs, const char *expected, int64_t size,
                           struct reef_blob_writer **out, struct reef_err *err);
/* Appends data; fails early (-EFBIG) when more than the declared size arrives. */
int reef_blob_writer_write(struct reef_blob_writer *w, const void *data, size_t len,
                           struct reef_err *err);
/* Bytes written so far. */
int64_t reef_blob_writer_written(const struct reef_blob_writer *w);
/* Verifies size and digest, makes the blob durable and visible, and frees w (also on failure,
 * when the partial data is deleted). A digest mismatch names both digests. */
int reef_blob_writer_commit(struct reef_blob_writer *w, struct reef_err *err);
/* Deletes the partial data and frees w. */
void reef_blob_writer_abort(struct reef_blob_writer *w);

#endif
