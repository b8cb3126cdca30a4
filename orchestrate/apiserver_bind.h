/* apiserver: the pods/binding subresource (apiserver_bind.c), for the scheduler. Internal to the
 * API server; apiserver.c routes POST .../pods/{name}/binding here. */
#ifndef REEF_ORCHESTRATE_APISERVER_BIND_H
#define REEF_ORCHESTRATE_APISERVER_BIND_H

#include "orchestrate/apiserver.h"

/* The bit of struct reef__api_res.subs that lists pods/binding in discovery. */
#define REEF__API_SUB_BINDING 16

/* POST .../pods/{name}/binding with a v1 Binding: sets spec.nodeName of an unbound pod and its
 * PodScheduled=True condition in one write; answers 201 with a Success Status, 409 when the pod
 * is bound already or being deleted (or changed meanwhile), 404 when it is gone. */
void reef__api_bind(struct reef__api_call *c);

#endif
