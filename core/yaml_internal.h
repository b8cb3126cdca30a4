/* yaml internals: what core/yaml.c (events, the node tree, merges, output) takes from
 * core/yaml_scalar.c (plain-scalar resolution, number formatting, the JSON-input rewrite). Not for
 * other modules: they use core/yaml.h. Everything here is a pure function; any thread. */
#ifndef REEF_CORE_YAML_INTERNAL_H
#define REEF_CORE_YAML_INTERNAL_H

#include <stddef.h>

/* What a scalar resolved to. NONFINITE (.inf, .nan) is legal only as a key. */
enum stype { S_NULL, S_BOOL, S_INT, S_FLOAT, S_STR, S_NONFINITE };

struct resolved {
    enum stype type;
    char text[400]; /* JSON literal for null, bool, int, float */
    double f;       /* for S_FLOAT and S_NONFINITE */
};

/* go-yaml v2's implicit resolution of a plain scalar s[0..n) into *r (S_STR when it is none of
 * the others). Returns -ENOMEM or 0. */
int reef__yaml_resolve_plain(const char *s, size_t n, struct resolved *r);

/* A finite float64 the way Go's encoding/json writes it (shortest round-trip digits), NUL-
 * terminated. out needs 400 bytes. */
void reef__yaml_fmt_json_float(double v, char *out, size_t outsz);

/* A float used as a mapping key, as sigs.k8s.io/yaml writes it: strconv.FormatFloat(v, 'g', -1,
 * 32), with .inf, -.inf and .nan for the non-finite values. */
void reef__yaml_fmt_key_float(double v, char *out, size_t outsz);

/* When in[0..n) lexes as JSON and holds something libyaml rejects, a rewritten copy in *out with
 * its length in *outlen (caller frees); otherwise *out = NULL. Returns 0 or -ENOMEM. */
int reef__yaml_json_fixup(const char *in, size_t n, char **out, size_t *outlen);

#endif
