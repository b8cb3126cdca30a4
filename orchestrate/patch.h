/* patch: RFC 6902 JSON Patch and RFC 7386 JSON Merge Patch over JSON text, and the small mutable
 * JSON tree that they and strategic merge patch (orchestrate/smp.h) work on.
 *
 * The API server answers PATCH with `application/json-patch+json` and
 * `application/merge-patch+json` through these two functions. They are pure: text in, text out,
 * no I/O, no global state, so any thread may call them.
 *
 * Output is compact JSON. Object members keep the order of the original document; members a patch
 * adds are appended in the patch's order; numbers and strings keep their original spelling
 * (strings are re-escaped canonically). A document or patch whose JSON repeats a key keeps the
 * last value, at the place of the first.
 *
 * Bounds: documents are parsed with reef's JSON limits (depth 256), and a patch may not make the
 * result grow past REEF_PATCH_MAX_NODES values (JSON Patch `copy` can otherwise double a document
 * with every operation). */
#ifndef REEF_ORCHESTRATE_PATCH_H
#define REEF_ORCHESTRATE_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

#define REEF_PATCH_MAX_NODES (1u << 22)

/* Applies the JSON Patch (RFC 6902) patch[0..patch_len), an array of operations, to the JSON
 * document doc[0..doc_len), and appends the new document to out (which the caller owns and
 * frees). Operations apply in order; the first that fails stops everything and nothing is
 * appended. Returns 0, or -EINVAL with a message naming the operation's index and path, e.g.
 *   `json patch: operation 2 (remove) path "/spec/x": member not found`
 * or `json patch: operation 0 (test) path "/a": test failed: value differs` (the API server's 422);
 * -EBADMSG when the patch is not JSON or not an array (its 400); -E2BIG when a limit is passed;
 * -ENOMEM. */
int reef_patch_json_apply(const char *doc, size_t doc_len, const char *patch, size_t patch_len,
                          struct reef_buf *out, struct reef_err *err);

/* Applies the JSON Merge Patch (RFC 7386) patch to doc and appends the result to out (the
 * caller's). A null member deletes, an object merges recursively, anything else replaces. Returns
 * 0, -EBADMSG when the patch is not JSON, -EINVAL when the document is not, -E2BIG, -ENOMEM. */
int reef_patch_merge_apply(const char *doc, size_t doc_len, const char *patch, size_t patch_len,
                           struct reef_buf *out, struct reef_err *err);

/* Internal: the mutable JSON tree shared with orchestrate/smp*.c.
 *
 * A value owns its children. Strings and keys hold decoded bytes (which may contain NULs; their
 * lengths are kept), numbers their JSON spelling. Objects are ordered (vectors of keys and values),
 * which is what keeps member order stable across a patch. */
struct reef__jstr {
    char *p;
    size_t n;
};

struct reef__jv {
    enum reef_json_kind kind;
    bool b;                  /* BOOL */
    struct reef__jstr s;     /* STRING (decoded) or NUMBER (spelling) */
    size_t len, cap;         /* ARRAY and OBJECT */
    struct reef__jv **items; /* elements, or member values */
    struct reef__jstr *keys; /* OBJECT: member names, parallel to items */
};

/* A parse-and-build helper: the whole text as a tree, or NULL with err set (what names the text in
 * the message: "document", "patch"). */
struct reef__jv *reef__jv_parse(const char *text, size_t len, const char *what,
                                struct reef_err *err);
/* Value v of d as a new tree; NULL on ENOMEM (err set). */
struct reef__jv *reef__jv_from_doc(const struct reef_json_doc *d, int v, struct reef_err *err);
void reef__jv_free(struct reef__jv *v);
/* New values; NULL on ENOMEM. Strings are copied. */
struct reef__jv *reef__jv_new(enum reef_json_kind kind);
struct reef__jv *reef__jv_new_str(const char *s, size_t n);
/* A deep copy; NULL on ENOMEM. */
struct reef__jv *reef__jv_clone(const struct reef__jv *v);
/* Number of values in v (itself included), counting at most up to limit. */
size_t reef__jv_count(const struct reef__jv *v, size_t limit);

/* Object member lookup: index of key, or -1. */
long reef__jv_find(const struct reef__jv *obj, const char *key, size_t n);
struct reef__jv *reef__jv_get(const struct reef__jv *obj, const char *key);
/* Sets member key to val (taking ownership of val; freeing it on failure): replaces the value in
 * place when the key exists, else appends. 0 or -ENOMEM. */
int reef__jv_set(struct reef__jv *obj, const char *key, size_t n, struct reef__jv *val);
/* Removes member i (or element i of an array) and returns its value, which the caller owns. */
struct reef__jv *reef__jv_take(struct reef__jv *v, size_t i);
/* Removes and frees member key if present. */
void reef__jv_del(struct reef__jv *obj, const char *key, size_t n);
/* Inserts val at element position i (0..len) of an array, taking ownership. 0 or -ENOMEM. */
int reef__jv_insert(struct reef__jv *arr, size_t i, struct reef__jv *val);
int reef__jv_push(struct reef__jv *arr, struct reef__jv *val);

bool reef__jv_equal(const struct reef__jv *a, const struct reef__jv *b);
/* Whether v is a string equal to s. */
bool reef__jv_is_str(const struct reef__jv *v, const char *s);
/* Writes v through w. */
int reef__jv_write(struct reef_json_writer *w, const struct reef__jv *v);
/* v as compact JSON appended to out. 0, -ENOMEM, -E2BIG (nesting beyond the writer's limit). */
int reef__jv_to_buf(const struct reef__jv *v, struct reef_buf *out, struct reef_err *err);

#endif
