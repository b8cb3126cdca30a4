/* json: RFC 8259 reader (a token index over jsmn) and streaming writer onto a struct reef_buf.
 *
 * Reading. reef_json_parse checks the whole text against RFC 8259 (grammar, numbers, literals,
 * escapes, UTF-8; no BOM, nothing after the top-level value) and builds an array of tokens, one per
 * value and one per object key, in document order. A value is named by its token index (an int);
 * the top-level value is REEF_JSON_ROOT. Lookups return an index >= 0 or a negative errno code, so
 * they chain:
 *
 *     struct reef_json_doc d = REEF_JSON_DOC_INIT;
 *     if (reef_json_parse(&d, body, len, NULL, err) < 0) ...
 *     int v = reef_json_find(&d, REEF_JSON_ROOT, "spec.containers[0].image", err);
 *     char image[256];
 *     if (v < 0 || reef_json_get_str(&d, v, image, sizeof(image), err) < 0) ...
 *     reef_json_doc_free(&d);
 *
 * The document borrows the text: it is not copied, and must stay unchanged and alive while the
 * document is used. Tokens are counted before any memory is taken, bounded by struct
 * reef_json_limits, and their array is kept for reuse when the same document parses again.
 * Duplicate keys are allowed; lookups find the last one, as Go's encoding/json does. Strings are
 * handed out decoded (escapes resolved, UTF-8).
 *
 * Writing. struct reef_json_writer appends one JSON value to a struct reef_buf, adding commas,
 * colons and (optionally) indentation itself. Misuse (a value without a key inside an object, an
 * unbalanced end, a second top-level value, NaN) does not write anything and makes the writer fail
 * from then on; reef_json_finish reports the first error. Strings given to the writer are expected
 * to be UTF-8: invalid bytes are written as U+FFFD so the output is always valid JSON.
 *
 * Numbers are formatted and parsed in the "C" locale (reef never calls setlocale).
 * A document or writer belongs to one thread at a time; a parsed document that nobody modifies may
 * be read from several threads at once. */
#ifndef REEF_CORE_JSON_H
#define REEF_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* Reading */

#define REEF_JSON_ROOT 0

/* Nesting is limited so that hostile input cannot exhaust memory or the stack of the code that
 * walks it recursively (equality, copying). Parsing is linear in the text but for one term from
 * jsmn: a closing bracket walks up from the last token to its container, so text that closes many
 * deep nests in a row costs up to length × depth (around 1 s per MB of `[[[…]]]` 255 deep).
 * Real objects nest less than 40 deep; callers taking big untrusted bodies may lower max_depth. */
#define REEF_JSON_DEFAULT_DEPTH 256
#define REEF_JSON_MAX_DEPTH 1024           /* hard ceiling for max_depth; also the writer's */
#define REEF_JSON_DEFAULT_TOKENS (1 << 21) /* ~50 MB of tokens, far beyond any one object */

struct reef_json_limits {
    unsigned max_depth;  /* deepest nesting of arrays and objects; 0 = default, capped at MAX */
    unsigned max_tokens; /* values plus object keys; 0 = default */
};

/* Embedded by the caller. Fields are private except src and len (the text of the last successful
 * parse) and ntok. */
struct reef_json_doc {
    const char *src;
    size_t len;
    int ntok;
    int cap_;
    void *tok_;
    int *next_;
};

/* clang-format off */
#define REEF_JSON_DOC_INIT {NULL, 0, 0, 0, NULL, NULL}
/* clang-format on */

enum reef_json_kind {
    REEF_JSON_NONE = 0, /* not a valid token index */
    REEF_JSON_NULL,
    REEF_JSON_BOOL,
    REEF_JSON_NUMBER,
    REEF_JSON_STRING,
    REEF_JSON_ARRAY,
    REEF_JSON_OBJECT,
};

void reef_json_doc_init(struct reef_json_doc *d);
/* Frees the token memory; the text is the caller's. The doc may be parsed into again. */
void reef_json_doc_free(struct reef_json_doc *d);

/* Parses src[0..len) (NUL bytes are data, not a terminator) into d, replacing what d held.
 * lim may be NULL for the defaults. Returns 0; or -EINVAL for text that is not JSON, -E2BIG when a
 * limit is passed, -ENOMEM, with a message like
 *   "json: line 3, column 7 (byte 41): invalid escape '\q' in string"
 * (lines and columns count from 1, columns in bytes; the byte offset counts from 0).
 * After a failure d holds no document (ntok is 0). */
int reef_json_parse(struct reef_json_doc *d, const char *src, size_t len,
                    const struct reef_json_limits *lim, struct reef_err *err);

/* REEF_JSON_NONE when v is not a token of d. */
enum reef_json_kind reef_json_kind(const struct reef_json_doc *d, int v);
/* "null", "bool", "number", "string", "array", "object" or "none". */
const char *reef_json_kind_name(enum reef_json_kind k);
/* Where value v is in the text: a pointer into d->src and the length, covering the whole value
 * as written (with a string's quotes, an object's braces). NULL when v is not a token. */
const char *reef_json_raw(const struct reef_json_doc *d, int v, size_t *len);
/* Members of an object or elements of an array; -EINVAL for other kinds. */
int reef_json_count(const struct reef_json_doc *d, int v);

/* The value of member key in object obj (the last one when the key repeats). Returns its index,
 * -ENOENT when there is no such member, -EINVAL when obj is not an object. */
int reef_json_member(const struct reef_json_doc *d, int obj, const char *key);
int reef_json_membern(const struct reef_json_doc *d, int obj, const char *key, size_t keylen);
/* Element i of array arr: index, -ENOENT when out of range, -EINVAL when arr is not an array.
 * This steps over i siblings; to visit every element, iterate (below). */
int reef_json_index(const struct reef_json_doc *d, int arr, size_t i);

/* Follows a path from v. A path is keys separated by '.', array indexes in brackets, and keys in
 * brackets and double quotes when they contain '.', '[' or ']' (there \" is a quote, \\ a
 * backslash):
 *     metadata.name   spec.containers[0].image   [2][0]
 *     metadata.labels["app.kubernetes.io/name"]
 * The empty path names v itself. Returns the index; -ENOENT when a key or index is missing,
 * -EINVAL when the path is malformed or steps into a value of the wrong kind; err says which step
 * ("json: spec.containers[3]: index out of range (3 elements)"). Quoted keys are limited to 512
 * bytes. */
int reef_json_find(const struct reef_json_doc *d, int v, const char *path, struct reef_err *err);

/* Iteration over the members of an object or the elements of an array:
 *
 *     struct reef_json_iter it = reef_json_iter(&d, obj);
 *     while (reef_json_next(&d, &it))
 *         use(it.key, it.val);   // it.key is the key's string token (-1 in arrays)
 *
 * Iterating a value that is neither yields nothing. Repeated keys are all visited, in order. */
struct reef_json_iter {
    int key;
    int val;
    int index; /* position of the member or element, from 0 */
    int left_; /* private */
    int next_;
};
struct reef_json_iter reef_json_iter(const struct reef_json_doc *d, int v);
bool reef_json_next(const struct reef_json_doc *d, struct reef_json_iter *it);

/* Typed getters. Each returns 0, or -EINVAL with a message naming the position and what was found
 * when v has another kind ("json: line 1, column 9 (byte 8): expected a string, found number 42"),
 * or the error listed. Strings may be keys (it.key) as well as values. */

/* Decoded string as a C string into dst[0..size). -ENOBUFS when it does not fit; -EINVAL also when
 * it contains U+0000, which a C string would silently cut. */
int reef_json_get_str(const struct reef_json_doc *d, int v, char *dst, size_t size,
                      struct reef_err *err);
/* Same, into a malloc'd string the caller frees. *out is NULL on failure. */
int reef_json_get_strdup(const struct reef_json_doc *d, int v, char **out, struct reef_err *err);
/* Appends the decoded bytes to out (U+0000 included; out->len tells the length). */
int reef_json_get_strbuf(const struct reef_json_doc *d, int v, struct reef_buf *out,
                         struct reef_err *err);
/* Without copying: when string v has no escapes, points *p at its bytes in the text (not
 * NUL-terminated), sets *n and returns 0. Returns -EAGAIN when it has escapes (use a decoding
 * getter), -EINVAL when v is not a string. */
int reef_json_str_view(const struct reef_json_doc *d, int v, const char **p, size_t *n);
/* Whether v is a string whose decoded value is s[0..n) / the C string s. */
bool reef_json_str_eqn(const struct reef_json_doc *d, int v, const char *s, size_t n);
bool reef_json_str_eq(const struct reef_json_doc *d, int v, const char *s);

/* Integers: any number whose value is integral ("3", "-0", "1e3", "2.50e1"); -EINVAL for one that
 * is not ("1.5", "1e-1"), -ERANGE when it does not fit. uint rejects negatives with -ERANGE. */
int reef_json_get_int(const struct reef_json_doc *d, int v, int64_t *out, struct reef_err *err);
int reef_json_get_uint(const struct reef_json_doc *d, int v, uint64_t *out, struct reef_err *err);
/* The nearest double; -ERANGE when the magnitude overflows (underflow gives 0 or a subnormal). */
int reef_json_get_double(const struct reef_json_doc *d, int v, double *out, struct reef_err *err);
int reef_json_get_bool(const struct reef_json_doc *d, int v, bool *out, struct reef_err *err);
bool reef_json_is_null(const struct reef_json_doc *d, int v);

/* Semantic equality of value va of a and value vb of b (a may be b): object members compared as
 * sets, the last of repeated keys counting; strings compared decoded; numbers compared by exact
 * decimal value (1, 1.0, 10e-1 and 0.1e1 are equal; -0 equals 0; exponents beyond ±10^15 compare
 * by spelling). Allocates only for objects with more than 8 members; false when that fails. */
bool reef_json_equal(const struct reef_json_doc *a, int va, const struct reef_json_doc *b, int vb);

/* Writing */

/* Embedded by the caller; all fields are private. */
struct reef_json_writer {
    struct reef_buf *out;
    int err;         /* first error (sticky), 0 when none */
    const char *why; /* its description */
    unsigned indent; /* spaces per level; 0 writes compact output */
    unsigned depth;  /* open arrays and objects */
    bool first;      /* nothing written yet at the current level */
    bool after_key;  /* a key was written and its value is due */
    bool done;       /* a whole top-level value was written */
    uint64_t is_obj[REEF_JSON_MAX_DEPTH / 64];
};

/* Appends to out, which the caller owns and frees (output accumulates after what is there).
 * indent = 0 for compact output (`{"a":[1,2]}`); indent = 4 (at most 16) gives kubectl -o json's
 * layout: one member or element per line, `"key": value`, empty containers as {} and []. No
 * trailing newline is added. */
void reef_json_writer_init(struct reef_json_writer *w, struct reef_buf *out, unsigned indent);

/* Each returns 0 or the writer's sticky error: -EINVAL for misuse, -ENOMEM, -E2BIG for nesting
 * deeper than REEF_JSON_MAX_DEPTH. */
int reef_json_begin_object(struct reef_json_writer *w);
int reef_json_end_object(struct reef_json_writer *w);
int reef_json_begin_array(struct reef_json_writer *w);
int reef_json_end_array(struct reef_json_writer *w);
/* The key of the next member, inside an object. */
int reef_json_key(struct reef_json_writer *w, const char *key);
int reef_json_keyn(struct reef_json_writer *w, const char *key, size_t n);
/* The key copied from string token k of d (it.key when iterating), as written there. */
int reef_json_key_from(struct reef_json_writer *w, const struct reef_json_doc *d, int k);
/* A string value; s[0..n) may contain NULs (written as \u0000). s == NULL writes null. */
int reef_json_put_str(struct reef_json_writer *w, const char *s);
int reef_json_put_strn(struct reef_json_writer *w, const char *s, size_t n);
int reef_json_put_int(struct reef_json_writer *w, int64_t v);
int reef_json_put_uint(struct reef_json_writer *w, uint64_t v);
/* The fewest digits that read back as exactly v, spelled as Go's encoding/json does: plain when
 * 1e-6 <= |v| < 1e21 (0.000001, 100000000000000000000), else 1e+21, 5e-324. NaN and infinities
 * are an error (-EINVAL). */
int reef_json_put_double(struct reef_json_writer *w, double v);
int reef_json_put_bool(struct reef_json_writer *w, bool v);
int reef_json_put_null(struct reef_json_writer *w);
/* json[0..n) must be one complete, valid JSON value; it is inserted as it is (not re-indented). */
int reef_json_put_raw(struct reef_json_writer *w, const char *json, size_t n);
/* Value v of d and everything inside it, re-encoded (indented like the rest of the output);
 * strings and numbers keep their original spelling. */
int reef_json_put_value(struct reef_json_writer *w, const struct reef_json_doc *d, int v);

/* Ends writing: returns 0 when exactly one complete value was written, else the sticky error or
 * -EINVAL for unclosed arrays or objects or no value at all, with a message in err. */
int reef_json_finish(struct reef_json_writer *w, struct reef_err *err);

/* Internal (shared by json.c, json_read.c and json_write.c) */

/* Length of the well-formed UTF-8 sequence at p[0..n) (n >= 1, p[0] >= 0x80), or 0. */
size_t reef__json_utf8_len(const unsigned char *p, size_t n);
/* Line and column (from 1, columns in bytes) of byte offset at of src. */
void reef__json_position(const char *src, size_t at, size_t *line, size_t *col);
/* Sets err to "json: line L, column C (byte at): <fmt>" and returns code. */
int reef__json_errf(struct reef_err *err, int code, const char *src, size_t at, const char *fmt,
                    ...) REEF_PRINTF(5, 6);

#endif
