/* endpoints_int: the pure half of the endpoints controller (orchestrate/endpoints_build.c): a
 * Service's desired Endpoints and EndpointSlice from the Service and its pods, shared with the
 * controller (orchestrate/endpoints.c). Loop thread only, like the controller. */
#ifndef REEF_ORCHESTRATE_ENDPOINTS_INT_H
#define REEF_ORCHESTRATE_ENDPOINTS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "orchestrate/selector.h"
#include "orchestrate/store.h"

#define REEF__EP_MANAGED_BY "endpointslice-controller.k8s.io"
#define REEF__EP_LABEL_SERVICE "kubernetes.io/service-name"
#define REEF__EP_LABEL_MANAGED "endpointslice.kubernetes.io/managed-by"

/* One of the Service's ports. */
struct reef__ep_port {
    char name[64], protocol[16], target_name[64];
    char *app_protocol;   /* malloc'd, or NULL */
    int64_t port, target; /* target: a number, or 0 with target_name */
};

/* A pod that belongs in the endpoints. */
struct reef__ep_pod {
    char name[254], uid[REEF_STORE_UID_LEN + 1], ip[64], node[254];
    bool ready;
    int64_t *ports; /* per Service port: the resolved target port, 0 when it does not resolve */
    size_t set;     /* its group: pods with the same resolved ports share one */
};

/* Everything borrowed (svc, sel, ns, name) must outlive it; the rest is freed by
 * reef__ep_desired_free. */
struct reef__ep_desired {
    const struct reef_json_doc *svc;
    const struct reef_label_selector *sel;
    const char *ns, *name;
    struct reef__ep_port *ports;
    size_t nports;
    bool headless, publish_not_ready;
    struct reef__ep_pod *pods;
    size_t npods, nsets;
    int err; /* the first failure of reef__ep_add_pod */
};

/* Whether the Service has a (non-empty) selector; *sel gets its index in svc. */
bool reef__ep_has_selector(const struct reef_json_doc *svc, int *sel);
/* Reads the Service's ports, headless-ness and publishNotReadyAddresses. */
int reef__ep_desired_init(struct reef__ep_desired *w, const struct reef_json_doc *svc,
                          const struct reef_label_selector *sel, const char *ns, const char *name,
                          struct reef_err *err);
/* A reef_store_list callback over the Service's namespace's pods (arg: the desired): keeps those
 * the selector matches that have an address, are not finished and not being deleted, and whose
 * ports resolve. Never fails the list; a failure is kept in w->err. */
int reef__ep_add_pod(void *arg, const struct reef_store_item *item);
/* After the pods: sorts them by address and groups them by resolved ports. */
int reef__ep_finish(struct reef__ep_desired *w, struct reef_err *err);
void reef__ep_desired_free(struct reef__ep_desired *w);

/* The Endpoints object the Service should have, appended to out: cur (may be NULL) is the stored
 * one, whose resourceVersion and annotations it keeps; *changed says whether it differs from cur
 * (subsets or labels). */
int reef__ep_endpoints(const struct reef__ep_desired *w, const char *cur, size_t curlen,
                       struct reef_buf *out, bool *changed, struct reef_err *err);
/* The Service's EndpointSlice, appended to out: cur (may be NULL) is the stored one named
 * cur_name, whose name, resourceVersion and annotations it keeps (else it gets the generateName
 * "<service>-"); *changed says whether it differs from cur. The slice lists the largest group
 * of pods: pods whose named ports resolve differently are in the Endpoints only. */
int reef__ep_slice(const struct reef__ep_desired *w, const char *cur, size_t curlen,
                   const char *cur_name, struct reef_buf *out, bool *changed, struct reef_err *err);

#endif
