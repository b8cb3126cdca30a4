/* apiserver: declarations shared by the API server's write path and its type checks (internal
 * to apiserver*.c; loop thread, as the API server). */
#ifndef REEF_ORCHESTRATE_APISERVER_INT2_H
#define REEF_ORCHESTRATE_APISERVER_INT2_H

#include "core/err.h"
#include "orchestrate/apiserver.h"

/* Go's decoding of obj into r's typed struct, for the fields whose JSON type Kubernetes
 * checks this way (apiserver_types.c): -EINVAL with the message of the first mismatch in
 * document order in err, exactly as kube-apiserver words it (`Pod in version "v1" cannot be
 * handled as a Pod: json: cannot unmarshal bool into Go struct field Container.spec.
 * containers.image of type string`), or 0. null is never a mismatch: Go decodes it as nil,
 * so a null member the tables know is removed from obj. */
int reef__api_check_types(const struct reef__api_res *r, struct reef__jv *obj,
                          struct reef_err *err);

/* After an update of r's object ns/name stored as stored (old: the state before): an object
 * being deleted (deletionTimestamp, deletionGracePeriodSeconds 0) whose update removed its
 * last finalizer is deleted now, with what follows from that (apiserver_delete.c). */
void reef__api_after_update(struct reef_apiserver *a, const struct reef__api_res *r, const char *ns,
                            const struct reef__jv *old, const char *stored, size_t len);

#endif
