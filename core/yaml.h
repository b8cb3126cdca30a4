/* yaml: converts a YAML stream (Kubernetes manifests) into JSON text, one JSON text per document.
 *
 * This is how `reef apply -f manifest.yaml` reads its input, so the conversion follows what kubectl
 * does (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1 flavour):
 *   - plain scalars resolve to null (~, null, Null, NULL, empty), booleans (y/Y/yes/Yes/YES,
 *     n/N/no/No/NO, true/True/TRUE, false/False/FALSE, on/On/ON, off/Off/OFF), integers (decimal,
 *     0x, 0o, 0b, leading-0 octal, signs, '_' separators; beyond uint64 a decimal becomes a float)
 *     and floats (1.5, .5, 1e3); everything else, timestamps included, stays a string;
 *   - quoted and block scalars are strings; the tags !!str !!int !!float !!bool !!null are
 *     honoured, other tags are ignored (the value resolves as if untagged, "!" makes a string);
 *   - mapping keys become strings (1 -> "1", true -> "true", ~ -> "null"); mapping or sequence
 *     keys, duplicate keys, .inf and .nan as values (JSON cannot hold them) are errors;
 *   - anchors, aliases and merge keys (<< with one alias or a sequence of them; explicit keys win
 *     over merged ones, earlier merged mappings over later ones) are expanded;
 *   - numbers are printed as Go's encoding/json prints them (0x1F -> 31, 1e3 -> 1000, .5 -> 0.5).
 * Object members keep the order of the document: merged members appear where their << was, and
 * a member given explicitly where it is written.
 * Documents whose content is null (empty, only comments, a bare `---`, `~`) are skipped, as kubectl
 * skips them. JSON input (`-f manifest.json`) takes the same path; the few things valid JSON may
 * hold that libyaml refuses (tabs around the top-level value, escaped surrogate pairs such as
 * "\ud83d\ude00", raw DEL or C1 controls in strings) are rewritten first when the input is JSON.
 *
 * Bounds: a document nests at most REEF_YAML_MAX_DEPTH levels, expands to at most
 * REEF_YAML_MAX_JSON bytes of JSON and REEF_YAML_MAX_ALIASES alias expansions, and copies at
 * most REEF_YAML_MAX_MERGED members through merge keys. All of this is checked while the document
 * is read, before any output is produced, so an alias bomb costs neither memory nor time. Memory
 * otherwise grows with the input: at worst about 20 bytes per input byte for the largest document
 * (its tree), plus its JSON.
 *
 * Errors name a 1-based line and column: "yaml: line 4, column 3: mapping values are not allowed
 * in this context". Codes: -EINVAL for malformed or unconvertible input, -E2BIG when a bound is
 * passed, -ENOMEM, or whatever the callback returned.
 * The functions keep no state between calls; any thread may call them. */
#ifndef REEF_CORE_YAML_H
#define REEF_CORE_YAML_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define REEF_YAML_MAX_DEPTH 100
#define REEF_YAML_MAX_JSON (16u << 20)
#define REEF_YAML_MAX_ALIASES 100000u
#define REEF_YAML_MAX_MERGED 1000000u

/* Called once per non-empty document, in order. index counts the documents delivered (0-based);
 * line is the 1-based line where the document starts (its `---`, or its first content when it
 * has no `---`). json is compact UTF-8 JSON of len bytes, NUL-terminated, owned by the converter
 * and valid only during the call. Return 0 to go on or a negative code to stop the conversion,
 * which then returns that code; err then says "yaml: document N (line L) rejected" unless the
 * callback filled err itself (the caller may pass its err through ud). */
typedef int (*reef_yaml_doc_fn)(void *ud, size_t index, const char *json, size_t len, int line);

/* Converts the stream data[0..len) (UTF-8, or UTF-16 with a byte order mark), calling fn for each
 * document. Documents before a malformed one have been delivered when the error is returned. */
int reef_yaml_each(const char *data, size_t len, reef_yaml_doc_fn fn, void *ud,
                   struct reef_err *err);

/* Appends to out one JSON array holding every non-empty document ("[]" for none). On error out
 * is left as it was. The caller owns out. */
int reef_yaml_to_json_array(const char *data, size_t len, struct reef_buf *out,
                            struct reef_err *err);

#endif
