/* selector_internal: limits shared by the label (selector.c) and field (selector_field.c) selector
 * parsers. Not part of the public API; any thread may use it. */
#ifndef REEF_ORCHESTRATE_SELECTOR_INTERNAL_H
#define REEF_ORCHESTRATE_SELECTOR_INTERNAL_H

/* Longest selector string accepted; bounds what a request can make the parser allocate. */
#define MAX_SELECTOR_LEN 65536

#endif
