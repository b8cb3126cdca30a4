/* workload: the table of Go types behind the pod-template-hash (workload_hash_types.c) and its
 * walker (workload_hash.c). Immutable data; any thread. */
#ifndef REEF_ORCHESTRATE_WORKLOAD_HASH_H
#define REEF_ORCHESTRATE_WORKLOAD_HASH_H

#include <stdbool.h>
#include <stddef.h>

enum wl_gokind {
    K_STRING,
    K_BOOL,
    K_INT,
    K_UINT,
    K_FLOAT,
    K_STRUCT,
    K_PTR,
    K_SLICE,
    K_MAP,
    K_QUANTITY, /* resource.Quantity */
    K_INTSTR,   /* intstr.IntOrString */
    K_TIME,     /* metav1.Time */
};

struct wl_gotype {
    const char *name; /* as reflect.Type.String() prints it */
    enum wl_gokind kind;
    short elem, key; /* pointer/slice/map element and map key types; -1 for none */
    short first, n;  /* struct fields: reef__wl_gofields[first .. first + n) */
};

struct wl_gofield {
    const char *go, *json;
    short type;
    bool inline_; /* an embedded struct whose fields are members of the same JSON object */
};

extern const struct wl_gotype reef__wl_gotypes[];
extern const size_t reef__wl_ngotypes;
extern const struct wl_gofield reef__wl_gofields[];

#endif
