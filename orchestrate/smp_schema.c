/* smp_schema: the strategic merge patch metadata of the built-in types reef serves.
 *
 * Each entry mirrors a `patchStrategy`/`patchMergeKey` struct tag of k8s.io/api (core/v1,
 * apps/v1, ...), together with the nested struct a field leads to, so that a key is looked up in
 * the type of the object it appears in, as the Go implementation does with reflection. Only the
 * fields on a path to a tagged field are listed; everything else is an untyped map or an atomic
 * list. */
#include "orchestrate/smp.h"

#include <string.h>

#define M REEF__SMP_MERGE
#define RK REEF__SMP_RETAIN_KEYS
#define TYPE(name, ...)                                                                            \
    static const struct reef__smp_field name##_fields[] = {__VA_ARGS__, {NULL, 0, NULL, NULL}};    \
    static const struct reef__smp_type name = {name##_fields}

/* metav1.ObjectMeta */
TYPE(object_meta, {"finalizers", M, NULL, NULL}, {"ownerReferences", M, "uid", NULL});

/* core/v1 Container and EphemeralContainer */
TYPE(container, {"ports", M, "containerPort", NULL}, {"env", M, "name", NULL},
     {"volumeMounts", M, "mountPath", NULL}, {"volumeDevices", M, "devicePath", NULL});

/* core/v1 PodSpec, PodStatus, PodTemplateSpec, Pod */
TYPE(pod_spec, {"volumes", M | RK, "name", NULL}, {"initContainers", M, "name", &container},
     {"containers", M, "name", &container}, {"ephemeralContainers", M, "name", &container},
     {"imagePullSecrets", M, "name", NULL}, {"hostAliases", M, "ip", NULL},
     {"topologySpreadConstraints", M, "topologyKey", NULL},
     {"resourceClaims", M | RK, "name", NULL}, {"schedulingGates", M, "name", NULL});
TYPE(pod_status, {"conditions", M, "type", NULL}, {"podIPs", M, "ip", NULL},
     {"hostIPs", M, "ip", NULL}, {"resourceClaimStatuses", M | RK, "name", NULL});
TYPE(pod_template, {"metadata", 0, NULL, &object_meta}, {"spec", 0, NULL, &pod_spec});
TYPE(pod, {"metadata", 0, NULL, &object_meta}, {"spec", 0, NULL, &pod_spec},
     {"status", 0, NULL, &pod_status});

/* core/v1 Service */
TYPE(service_spec, {"ports", M, "port", NULL});
TYPE(conditions_status, {"conditions", M, "type", NULL});
TYPE(service, {"metadata", 0, NULL, &object_meta}, {"spec", 0, NULL, &service_spec},
     {"status", 0, NULL, &conditions_status});

/* apps/v1 Deployment and ReplicaSet */
TYPE(deployment_spec, {"template", 0, NULL, &pod_template}, {"strategy", RK, NULL, NULL});
TYPE(deployment, {"metadata", 0, NULL, &object_meta}, {"spec", 0, NULL, &deployment_spec},
     {"status", 0, NULL, &conditions_status});
TYPE(replicaset_spec, {"template", 0, NULL, &pod_template});
TYPE(replicaset, {"metadata", 0, NULL, &object_meta}, {"spec", 0, NULL, &replicaset_spec},
     {"status", 0, NULL, &conditions_status});

/* core/v1 Node and Namespace */
TYPE(node_spec, {"podCIDRs", M, NULL, NULL});
TYPE(node_status, {"conditions", M, "type", NULL}, {"addresses", M, "type", NULL});
TYPE(node, {"metadata", 0, NULL, &object_meta}, {"spec", 0, NULL, &node_spec},
     {"status", 0, NULL, &node_status});
TYPE(namespace, {"metadata", 0, NULL, &object_meta}, {"status", 0, NULL, &conditions_status});

/* core/v1 PodTemplate (the object, whose `template` is a PodTemplateSpec) */
TYPE(pod_template_object, {"metadata", 0, NULL, &object_meta},
     {"template", 0, NULL, &pod_template});

/* Kinds whose only tagged fields are in their metadata. */
TYPE(meta_only, {"metadata", 0, NULL, &object_meta});

static const struct {
    const char *kind;
    const struct reef__smp_type *type;
} kinds[] = {
    {"Pod", &pod},
    {"Service", &service},
    {"Deployment", &deployment},
    {"ReplicaSet", &replicaset},
    {"Node", &node},
    {"Namespace", &namespace},
    {"ConfigMap", &meta_only},
    {"Secret", &meta_only},
    {"Endpoints", &meta_only},
    {"Event", &meta_only},
    {"Lease", &meta_only},
    {"EndpointSlice", &meta_only},
    {"PodTemplate", &pod_template_object},
};

const struct reef__smp_type *reef__smp_root(const char *kind)
{
    for (size_t i = 0; kind && i < REEF_ARRAY_LEN(kinds); i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].type;
    return NULL;
}

bool reef_smp_supports(const char *kind)
{
    return reef__smp_root(kind) != NULL;
}

const struct reef__smp_field *reef__smp_lookup(const struct reef__smp_type *t, const char *key,
                                               size_t n)
{
    if (!t)
        return NULL;
    for (const struct reef__smp_field *f = t->fields; f->name; f++)
        if (strlen(f->name) == n && memcmp(f->name, key, n) == 0)
            return f;
    return NULL;
}
