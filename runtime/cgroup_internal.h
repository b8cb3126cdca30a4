/* cgroup internals shared by cgroup.c and cgroup_layout.c beyond the REEF_CGROUP_IMPL part of
 * cgroup.h. Not for other modules. Pure helpers; any thread. */
#ifndef REEF_RUNTIME_CGROUP_INTERNAL_H
#define REEF_RUNTIME_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* Splits the next space- or tab-separated field of [*p, end) into f[0..*n) and advances *p past
 * it. false when only blanks are left. */
bool reef__cg_next_field(const char **p, const char *end, const char **f, size_t *n);

#endif
