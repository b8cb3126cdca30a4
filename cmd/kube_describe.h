/* kube_describe: the pieces shared by `reef describe`'s files: a text writer laid out as kubectl's
 * describe output (Go's tabwriter with describe's settings and its prefix writer), JSON getters
 * that turn a missing field into Go's zero value, resource quantities as Go's resource.Quantity
 * prints them, and the per-kind describers (kube_describe_out.c, _core.c, _pod.c, _apps.c, _qty.c).
 *
 * Command-line only: single-threaded, synchronous. */
#ifndef REEF_CMD_KUBE_DESCRIBE_H
#define REEF_CMD_KUBE_DESCRIBE_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/kube.h"
#include "core/buf.h"
#include "core/json.h"

/* One describe run: the connection, the output of the object being described and the strings
 * handed out while describing it (freed together by reef__desc_reset). */
struct reef__desc {
    struct reef_kube *k;
    bool show_events;
    int64_t now_ms;
    struct reef_buf pend; /* text written since the last flush, cells separated by tabs */
    struct reef_buf out;  /* laid-out text */
    char **strs;          /* strings handed out by the getters */
    size_t nstrs, cstrs;
};

/* Appends fmt's text at 2*level spaces of indent, terminal control characters escaped. */
void reef__desc_w(struct reef__desc *c, int level, const char *fmt, ...) REEF_PRINTF(3, 4);
/* Lays out what was written since the last flush into c->out, columns as Go's tabwriter
 * (minimum width 0, padding 2, spaces). */
void reef__desc_flush(struct reef__desc *c);
/* Forgets the strings handed out and the output. */
void reef__desc_reset(struct reef__desc *c);
/* Keeps s (malloc'd, may be NULL) until the next reset; returns it, or "" when NULL. */
const char *reef__desc_keep(struct reef__desc *c, char *s);

/* Getters: a missing path, a NULL or negative v give -1 / "" / 0 / false, as Go's zero values. */
int reef__dj(const struct reef_json_doc *d, int v, const char *path);
/* A string (decoded), or the raw text of a number or boolean. */
const char *reef__ds(struct reef__desc *c, const struct reef_json_doc *d, int v, const char *path);
int64_t reef__di(const struct reef_json_doc *d, int v, const char *path);
bool reef__db(const struct reef_json_doc *d, int v, const char *path);
/* Members of an object or elements of an array; 0 for anything else. */
int reef__dn(const struct reef_json_doc *d, int v, const char *path);

/* Keys of object v sorted bytewise (Go's sort.Strings), decoded; kept until the reset. *n is
 * set to their number. */
const char **reef__desc_keys(struct reef__desc *c, const struct reef_json_doc *d, int v, size_t *n);

/* RFC 3339 time at path as Go's time.RFC1123Z in local time ("Mon, 02 Jan 2006 15:04:05
 * -0700"); Go's zero time when missing. */
const char *reef__desc_time(struct reef__desc *c, const struct reef_json_doc *d, int v,
                            const char *path);
/* How long ago, as kubectl's translateTimestampSince: "5m3s", "<unknown>" when missing. */
const char *reef__desc_since(struct reef__desc *c, const struct reef_json_doc *d, int v,
                             const char *path);

/* printLabelsMultiline(WithIndent): "TITLE:\tk=v" sorted, continuation lines "\tk=v". */
void reef__desc_labels(struct reef__desc *c, const char *title, const struct reef_json_doc *d,
                       int map);
/* printAnnotationsMultiline: the last-applied annotation skipped, long values folded. */
void reef__desc_annotations(struct reef__desc *c, const char *title, const struct reef_json_doc *d,
                            int map);
/* The "Events:" section of object v of kind (NULL for a pod: kubectl leaves kind out) found with
 * kubectl's field selector; nothing when events are not shown. uid may override the object's. */
void reef__desc_events(struct reef__desc *c, const struct reef_json_doc *d, int v, const char *kind,
                       const char *uid);

/* GET path into *body (caller frees) and parses it into d: 0, or the HTTP status (>= 300), or a
 * negative code. */
int reef__desc_get(struct reef__desc *c, const char *path, char **body, struct reef_json_doc *d);

/* Resource quantities (resource.Quantity): value in billionths, Go's format, and the text as
 * written when Go would print it back unchanged. */
struct reef__qty {
    __int128 nano;
    int format; /* 0 DecimalSI, 1 BinarySI, 2 DecimalExponent */
    const char *s;
    bool ok;
};
struct reef__qty reef__qty_parse(const char *s);
/* Go's Quantity.String(); the text itself when it could not be parsed. */
void reef__qty_string(const struct reef__qty *q, char *dst, size_t size);
/* q += y as Go's Quantity.Add (the text is dropped; a zero q takes y's format). */
void reef__qty_add(struct reef__qty *q, const struct reef__qty *y);

/* The text of any value: a string decoded, anything else as written. */
const char *reef__desc_text(struct reef__desc *c, const struct reef_json_doc *d, int v);
/* Go's Quantity.String() of the quantity written s. */
const char *reef__desc_qty_text(struct reef__desc *c, const char *s);
/* "Kind/name" of the controller among v's owner references, or "". */
const char *reef__desc_controlled_by(struct reef__desc *c, const struct reef_json_doc *d, int v);
/* DescribePodTemplate of template t (-1: unset). */
void reef__desc_pod_template(struct reef__desc *c, const struct reef_json_doc *d, int t);
/* The label selector of object sel (matchLabels, matchExpressions) as labels.Selector prints it. */
void reef__desc_selector(struct reef_buf *out, const struct reef_json_doc *d, int sel);

/* The describers: write object v of d (fetched already) into c. kube_describe_pod.c: */
void reef__describe_pod(struct reef__desc *c, const struct reef_json_doc *d, int v);
/* kube_describe_apps.c: */
void reef__describe_deployment(struct reef__desc *c, const struct reef_json_doc *d, int v);
void reef__describe_replicaset(struct reef__desc *c, const struct reef_json_doc *d, int v);
void reef__describe_node(struct reef__desc *c, const struct reef_json_doc *d, int v);
/* kube_describe_core.c: */
void reef__describe_namespace(struct reef__desc *c, const struct reef_json_doc *d, int v);
void reef__describe_secret(struct reef__desc *c, const struct reef_json_doc *d, int v);
void reef__describe_configmap(struct reef__desc *c, const struct reef_json_doc *d, int v);
void reef__describe_endpoints(struct reef__desc *c, const struct reef_json_doc *d, int v);
void reef__describe_endpointslice(struct reef__desc *c, const struct reef_json_doc *d, int v);
void reef__describe_service(struct reef__desc *c, const struct reef_json_doc *d, int v);
/* kube_describe_out.c: what kubectl's generic describer prints (every field, by name) */
void reef__describe_generic(struct reef__desc *c, const struct reef_json_doc *d, int v);

#endif
