/* kube_rollout: what `reef rollout` (cmd/kube_rollout.c) shares with the printer of pod
 * templates (cmd/kube_rollout_tmpl.c). Command-line only: single-threaded. */
#ifndef REEF_CMD_KUBE_ROLLOUT_H
#define REEF_CMD_KUBE_ROLLOUT_H

#include "core/buf.h"
#include "core/json.h"

/* Appends pod template t of d as kubectl describe prints it ("Pod Template:", labels,
 * annotations, containers, volumes, node selectors, tolerations), with cause (not NULL; "" for
 * none) set as the kubernetes.io/change-cause annotation, as kubectl rollout history does. */
void reef__kube_print_pod_template(struct reef_buf *b, const struct reef_json_doc *d, int t,
                                   const char *cause);

#endif
