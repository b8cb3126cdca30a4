/* store: the query plan of a list, for tests that a filtered list stays on its index (a list
 * of one node's pods must not walk every pod). Loop thread, as the store. */
#ifndef REEF_ORCHESTRATE_STORE_PLAN_H
#define REEF_ORCHESTRATE_STORE_PLAN_H

#include "core/buf.h"
#include "core/err.h"
#include "orchestrate/store.h"

/* SQLite's EXPLAIN QUERY PLAN of the query reef_store_list would run for resource and o (a
 * continue_token only adds the bound; it is not decoded), one detail line per step, appended
 * to out. 0 or a store error. */
int reef__store_list_plan(struct reef_store *s, const char *resource,
                          const struct reef_store_list_opts *o, struct reef_buf *out,
                          struct reef_err *err);

#endif
