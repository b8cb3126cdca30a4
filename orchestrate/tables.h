/* tables: server-side printing of objects as meta.k8s.io/v1 Tables.
 *
 * kubectl get asks the API server for Tables (Accept: application/json;as=Table;v=v1;
 * g=meta.k8s.io) and prints whatever columns come back, so the columns and cell formats here are
 * those of the upstream API server's printers (pkg/printers/internalversion): pods, nodes,
 * namespaces, services, endpoints, configmaps, secrets, events, leases, deployments, replicasets,
 * endpointslices; anything else gets Name and Age. docs/TABLES.md lists every column.
 *
 * Pure logic: no I/O, no clock (the caller passes `now` for the AGE cells). A table is written
 * row by row onto a struct reef_buf, so a list of 1,000 pods never holds more than one parsed
 * object at a time:
 *
 *     struct reef_table t;
 *     struct reef_table_opts o = {.resource = "pods", .now = time(NULL), .wide = true,
 *                                 .resource_version = "105"};
 *     reef_table_begin(&t, &out, &o);
 *     for each object: reef_table_add(&t, &doc, REEF_JSON_ROOT);
 *     if (reef_table_end(&t, err) < 0) ...
 *
 * Objects are taken as the API server stores them (JSON, v1 field names). Malformed or missing
 * fields never fail a row: they print as upstream prints a zero value ("<none>", "<unknown>", 0).
 * A table belongs to one thread at a time. */
#ifndef REEF_ORCHESTRATE_TABLES_H
#define REEF_ORCHESTRATE_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

/* What row.object holds: the `includeObject` query parameter. */
enum reef_table_include {
    REEF_TABLE_METADATA = 0, /* PartialObjectMetadata (the default, and what kubectl asks for) */
    REEF_TABLE_OBJECT,       /* the whole object (includeObject=Object, kubectl --sort-by) */
    REEF_TABLE_NONE,         /* no object at all */
};

struct reef_table_opts {
    /* The resource as in the URL, optionally with its group: "pods", "deployments",
     * "deployments.apps", "leases.coordination.k8s.io". Unknown ones get the default printer. */
    const char *resource;
    int64_t now; /* unix seconds, for AGE and other "time since" cells */
    /* true: every column, priority 1 included. The API server always sends this (upstream
     * generates tables with Wide set; kubectl hides priority-1 columns unless -o wide). false
     * leaves the priority-1 columns and their cells out. */
    bool wide;
    /* true: "columnDefinitions": null, as upstream sends in every watch event after the first. */
    bool no_headers;
    enum reef_table_include include;
    /* metadata.resourceVersion and metadata.continue of the table; NULL or "" leaves them out. */
    const char *resource_version;
    const char *continue_token;
    unsigned indent; /* 0 for compact JSON, else as reef_json_writer_init */
};

/* Parses an includeObject query value ("Object", "Metadata", "None", or NULL / "" for the
 * default). Returns 0, or -EINVAL for anything else (upstream answers 400 BadRequest). */
int reef_table_parse_include(const char *value, enum reef_table_include *out);

/* Whether a printer other than the default exists for the resource. */
bool reef_table_known(const char *resource);

/* One table being written. Embedded by the caller; all fields are private. */
struct reef_table {
    struct reef_json_writer w;
    const struct reef__table_printer *p;
    struct reef_table_opts o;
    struct reef_buf scratch;
    size_t rows;
    int err;
};

/* Starts the table on out (appended after what out holds; the caller owns and frees out): the
 * header and the column definitions. opts is copied; its strings must stay valid until
 * reef_table_end. Never fails: errors are reported by reef_table_end. */
void reef_table_begin(struct reef_table *t, struct reef_buf *out, const struct reef_table_opts *o);
/* Appends the row of object v of d (which need stay valid only during the call). Returns 0, or
 * -EINVAL when v is not an object (nothing is written; the table stays usable), or the writer's
 * sticky error (-ENOMEM). */
int reef_table_add(struct reef_table *t, const struct reef_json_doc *d, int v);
/* Closes the table and frees t's scratch memory. Returns 0 or the first error, with a message in
 * err; on error out holds an incomplete document the caller must discard. Must be called once
 * for every reef_table_begin, also after errors. */
int reef_table_end(struct reef_table *t, struct reef_err *err);

/* A table of object v of d alone: what a GET of one object and every watch event carry. When
 * o->resource_version is NULL, the table's metadata.resourceVersion is the object's, as
 * upstream does for single objects. */
int reef_table_write_one(struct reef_buf *out, const struct reef_table_opts *o,
                         const struct reef_json_doc *d, int v, struct reef_err *err);

/* Cell formats, exported for reef's own client and for tests. */

/* Upstream duration.HumanDuration of d_ms milliseconds: "0s".."119s", "2m".."9m59s" (minutes and
 * seconds below 10 minutes), "10m".."179m", "3h".."7h59m", "8h".."47h", "2d".."7d23h",
 * "8d".."729d", "2y".."7y364d", "8y"; "<invalid>" for more than a second in the future.
 * Writes a NUL-terminated string into dst[0..size) (16 bytes are always enough). */
void reef_table_human_duration(int64_t d_ms, char *dst, size_t size);
/* Parses an RFC 3339 time ("2026-11-28T12:51:32Z", fractions and offsets allowed) into unix
 * milliseconds. Returns 0 or -EINVAL. */
int reef_table_parse_time(const char *s, size_t n, int64_t *ms);

/* Internal (shared by tables.c, tables_core.c, tables_apps.c) */

struct reef__table_col {
    const char *name;
    const char *type;
    const char *format;
    const char *desc;
    int priority;
};

/* The row being written: printers emit its cells in column order. */
struct reef__table_row {
    struct reef_table *t;
    const struct reef_json_doc *d;
    int obj;       /* the object's token */
    size_t col;    /* index of the next cell */
    int condition; /* 0, or 1 / 2 for the pod Succeeded / Failed row conditions */
};

struct reef__table_printer {
    const char *resource; /* plural name */
    const char *group;    /* "" for the core group */
    const struct reef__table_col *cols;
    size_t ncols;
    void (*row)(struct reef__table_row *r);
};

extern const struct reef__table_printer reef__table_core_printers[];
extern const size_t reef__table_core_nprinters;
extern const struct reef__table_printer reef__table_apps_printers[];
extern const size_t reef__table_apps_nprinters;

/* Descriptions shared by many columns (ObjectMeta's name and creationTimestamp docs). */
extern const char reef__table_desc_name[];
extern const char reef__table_desc_age[];
extern const char reef__table_desc_containers[];
extern const char reef__table_desc_images[];

/* Cell writers. Each writes one cell (or skips it when its column is hidden). */
void reef__table_cell_str(struct reef__table_row *r, const char *s);
void reef__table_cell_strn(struct reef__table_row *r, const char *s, size_t n);
void reef__table_cell_int(struct reef__table_row *r, int64_t v);
/* The string at v as it is, or dflt when v is not a non-empty string. */
void reef__table_cell_copy(struct reef__table_row *r, int v, const char *dflt);
/* "Time since" the timestamp string at v, "<unknown>" when absent or unparsable. */
void reef__table_cell_age(struct reef__table_row *r, int v);
/* The scratch buffer, emptied, for building a composed cell. */
struct reef_buf *reef__table_scratch(struct reef__table_row *r);
void reef__table_cell_scratch(struct reef__table_row *r);

/* Lookups that never fail loudly: a negative index when absent or of the wrong kind. */
int reef__table_get(const struct reef__table_row *r, int v, const char *path);
int reef__table_get_kind(const struct reef__table_row *r, int v, const char *path,
                         enum reef_json_kind kind);
int64_t reef__table_get_int(const struct reef__table_row *r, int v, const char *path);
/* Whether the string at v is non-empty. */
bool reef__table_nonempty(const struct reef__table_row *r, int v);
/* Appends the decoded string at v (nothing when v is not a string). */
void reef__table_append(const struct reef__table_row *r, struct reef_buf *b, int v);
/* Unix milliseconds of the timestamp at v; false when absent or unparsable. */
bool reef__table_time(const struct reef__table_row *r, int v, int64_t *ms);
/* "Time since" ms, into dst (at least 16 bytes). */
void reef__table_since(const struct reef__table_row *r, int64_t ms, char *dst, size_t size);
/* Container names and images of a pod spec at spec, comma-joined. */
void reef__table_containers(struct reef__table_row *r, int spec);
/* labels.FormatLabels of a string map: "k=v,k2=v2" sorted by key, "<none>" when empty. */
void reef__table_append_labels(const struct reef__table_row *r, struct reef_buf *b, int map);
/* metav1.FormatLabelSelector / LabelSelectorAsSelector(..).String() of a LabelSelector; the
 * string `invalid` for a selector upstream cannot convert. */
void reef__table_append_selector(const struct reef__table_row *r, struct reef_buf *b, int sel,
                                 bool none_when_empty, const char *invalid);

#endif
