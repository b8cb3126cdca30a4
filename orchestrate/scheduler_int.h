/* scheduler: internal declarations shared by scheduler*.c. */
#ifndef REEF_ORCHESTRATE_SCHEDULER_INT_H
#define REEF_ORCHESTRATE_SCHEDULER_INT_H

#include <stddef.h>

#include "core/json.h"
#include "orchestrate/scheduler.h"

/* Bump allocation into *mem (a chain of blocks, NULL to start); zeroed; NULL on ENOMEM. */
void *reef__sched_alloc(void **mem, size_t n);
void reef__sched_free_all(void *mem);

/* Quantity v of d (a string, or a number as YAML gives it) in 10^-scale units. */
int reef__sched_qty_at(const struct reef_json_doc *d, int v, int scale, int64_t *out);

/* A Node's JSON as a struct reef_sched_node with no usage (freed with reef__sched_node_free). */
int reef__sched_node_parse(const char *json, size_t len, struct reef_sched_node **out,
                           struct reef_err *err);
void reef__sched_node_free(struct reef_sched_node *n);

#endif
