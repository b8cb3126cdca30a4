/* tables: printers outside the core group: deployments and replicasets (apps), leases
 * (coordination.k8s.io), endpointslices (discovery.k8s.io). Columns and cells follow upstream
 * pkg/printers/internalversion/printers.go. */
#include <stdio.h>

#include "orchestrate/tables.h"

#define NAME_COL                                                                                   \
    {                                                                                              \
        "Name", "string", "name", reef__table_desc_name, 0                                         \
    }
#define AGE_COL                                                                                    \
    {                                                                                              \
        "Age", "string", "", reef__table_desc_age, 0                                               \
    }
#define CONTAINERS_COL                                                                             \
    {                                                                                              \
        "Containers", "string", "", reef__table_desc_containers, 1                                 \
    }
#define IMAGES_COL                                                                                 \
    {                                                                                              \
        "Images", "string", "", reef__table_desc_images, 1                                         \
    }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct reef__table_row row_t;

static int get(const row_t *r, int v, const char *path)
{
    return reef__table_get(r, v, path);
}

/* spec.replicas, which the API server defaults to 1. */
static int64_t replicas(const row_t *r, int spec)
{
    int v = reef__table_get_kind(r, spec, "replicas", REEF_JSON_NUMBER);
    return v < 0 ? 1 : reef__table_get_int(r, spec, "replicas");
}

/* Deployments */

static const struct reef__table_col deployment_cols[] = {
    NAME_COL,
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Up-to-date", "string", "",
     "Total number of non-terminated pods targeted by this deployment that have the desired "
     "template spec.",
     0},
    {"Available", "string", "",
     "Total number of available pods (ready for at least minReadySeconds) targeted by this "
     "deployment.",
     0},
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
    {"Selector", "string", "",
     "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
     "ones affected by this deployment.",
     1},
};

static void deployment_row(row_t *r)
{
    int spec = reef__table_get_kind(r, r->obj, "spec", REEF_JSON_OBJECT);
    int status = reef__table_get_kind(r, r->obj, "status", REEF_JSON_OBJECT);
    char buf[64];
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    snprintf(buf, sizeof(buf), "%lld/%lld",
             (long long)reef__table_get_int(r, status, "readyReplicas"),
             (long long)replicas(r, spec));
    reef__table_cell_str(r, buf);
    reef__table_cell_int(r, reef__table_get_int(r, status, "updatedReplicas"));
    reef__table_cell_int(r, reef__table_get_int(r, status, "availableReplicas"));
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
    reef__table_containers(r, get(r, spec, "template.spec"));
    struct reef_buf *b = reef__table_scratch(r);
    /* LabelSelectorAsSelector(..).String(): an empty selector prints as "". */
    reef__table_append_selector(r, b, reef__table_get_kind(r, spec, "selector", REEF_JSON_OBJECT),
                                false, "<invalid>");
    reef__table_cell_scratch(r);
}

/* ReplicaSets */

static const struct reef__table_col replicaset_cols[] = {
    NAME_COL,
    {"Desired", "integer", "",
     "Replicas is the number of desired replicas. This is a pointer to distinguish between "
     "explicit zero and unspecified. Defaults to 1. More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
     "#what-is-a-replicationcontroller",
     0},
    {"Current", "integer", "",
     "Replicas is the most recently observed number of replicas. More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/"
     "#what-is-a-replicationcontroller",
     0},
    {"Ready", "integer", "",
     "readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.", 0},
    AGE_COL,
    CONTAINERS_COL,
    IMAGES_COL,
    {"Selector", "string", "",
     "Selector is a label query over pods that should match the replica count. If the selector "
     "is empty, it is defaulted to the labels present on the pod template. Label keys and values "
     "that must match in order to be controlled by this replica set. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
     1},
};

static void replicaset_row(row_t *r)
{
    int spec = reef__table_get_kind(r, r->obj, "spec", REEF_JSON_OBJECT);
    int status = reef__table_get_kind(r, r->obj, "status", REEF_JSON_OBJECT);
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    reef__table_cell_int(r, replicas(r, spec));
    reef__table_cell_int(r, reef__table_get_int(r, status, "replicas"));
    reef__table_cell_int(r, reef__table_get_int(r, status, "readyReplicas"));
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
    reef__table_containers(r, get(r, spec, "template.spec"));
    struct reef_buf *b = reef__table_scratch(r);
    /* metav1.FormatLabelSelector: "<none>" for an absent or empty selector. */
    reef__table_append_selector(r, b, reef__table_get_kind(r, spec, "selector", REEF_JSON_OBJECT),
                                true, "<error>");
    reef__table_cell_scratch(r);
}

/* Leases */

static const struct reef__table_col lease_cols[] = {
    NAME_COL,
    {"Holder", "string", "",
     "holderIdentity contains the identity of the holder of a current lease. If Coordinated "
     "Leader Election is used, the holder identity must be equal to the elected "
     "LeaseCandidate.metadata.name field.",
     0},
    AGE_COL,
};

static void lease_row(row_t *r)
{
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    reef__table_cell_copy(r, get(r, r->obj, "spec.holderIdentity"), "");
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
}

/* EndpointSlices */

static const struct reef__table_col endpointslice_cols[] = {
    NAME_COL,
    {"AddressType", "string", "",
     "addressType specifies the type of address carried by this EndpointSlice. All addresses in "
     "this slice must be the same type. This field is immutable after creation. The following "
     "address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: "
     "Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.",
     0},
    {"Ports", "string", "",
     "ports specifies the list of network ports exposed by each endpoint in this slice. Each "
     "port must have a unique name. When ports is empty, it indicates that there are no defined "
     "ports. When a port is defined with a nil port value, it indicates \"all ports\". Each "
     "slice may include a maximum of 100 ports.",
     0},
    {"Endpoints", "string", "",
     "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of "
     "1000 endpoints.",
     0},
    AGE_COL,
};

#define MAX_SHOWN 3

/* listWithMoreString: up to three items, then " + N more...", "<unset>" when there are none. */
static void more_suffix(struct reef_buf *b, int shown, int total)
{
    if (total > MAX_SHOWN)
        reef_buf_printf(b, " + %d more...", total - MAX_SHOWN);
    else if (shown == 0)
        reef_buf_puts(b, "<unset>");
}

static void endpointslice_row(row_t *r)
{
    reef__table_cell_copy(r, get(r, r->obj, "metadata.name"), "");
    reef__table_cell_copy(r, get(r, r->obj, "addressType"), "");
    struct reef_buf *b = reef__table_scratch(r);
    int ports = reef__table_get_kind(r, r->obj, "ports", REEF_JSON_ARRAY);
    int shown = 0, total = 0;
    struct reef_json_iter it = reef_json_iter(r->d, ports);
    while (ports >= 0 && reef_json_next(r->d, &it)) {
        total++;
        if (shown == MAX_SHOWN)
            continue;
        if (shown++ > 0)
            reef_buf_putc(b, ',');
        int port = reef__table_get_kind(r, it.val, "port", REEF_JSON_NUMBER);
        int name = reef__table_get_kind(r, it.val, "name", REEF_JSON_STRING);
        if (port >= 0)
            reef_buf_printf(b, "%lld", (long long)reef__table_get_int(r, it.val, "port"));
        else if (name >= 0)
            reef__table_append(r, b, name);
        else
            reef_buf_putc(b, '*');
    }
    more_suffix(b, shown, total);
    reef__table_cell_scratch(r);

    b = reef__table_scratch(r);
    shown = total = 0;
    int eps = reef__table_get_kind(r, r->obj, "endpoints", REEF_JSON_ARRAY);
    it = reef_json_iter(r->d, eps);
    while (eps >= 0 && reef_json_next(r->d, &it)) {
        int addrs = reef__table_get_kind(r, it.val, "addresses", REEF_JSON_ARRAY);
        struct reef_json_iter a = reef_json_iter(r->d, addrs);
        while (addrs >= 0 && reef_json_next(r->d, &a)) {
            total++;
            if (shown == MAX_SHOWN)
                continue;
            if (shown++ > 0)
                reef_buf_putc(b, ',');
            reef__table_append(r, b, a.val);
        }
    }
    more_suffix(b, shown, total);
    reef__table_cell_scratch(r);
    reef__table_cell_age(r, get(r, r->obj, "metadata.creationTimestamp"));
}

const struct reef__table_printer reef__table_apps_printers[] = {
    {"deployments", "apps", deployment_cols, COUNT(deployment_cols), deployment_row},
    {"replicasets", "apps", replicaset_cols, COUNT(replicaset_cols), replicaset_row},
    {"leases", "coordination.k8s.io", lease_cols, COUNT(lease_cols), lease_row},
    {"endpointslices", "discovery.k8s.io", endpointslice_cols, COUNT(endpointslice_cols),
     endpointslice_row},
};
const size_t reef__table_apps_nprinters = COUNT(reef__table_apps_printers);
