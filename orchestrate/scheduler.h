/* scheduler: binds pending pods to nodes (docs/SCHEDULER.md).
 *
 * Two halves. The decision logic (reef_sched_*: parsing pods and nodes into plain structs, the
 * filters, the scores, the FailedScheduling message, the per-node accounting) does no I/O and
 * reads no clock, so tests drive it on synthetic clusters. The control loop
 * (reef_scheduler_start) keeps a struct reef_sched_cluster current from store watches, takes
 * pending pods from the store's node index, and writes through the API server: a v1 Binding per
 * scheduled pod, PodScheduled=False and a FailedScheduling event for the others.
 *
 * Semantics follow kube-scheduler 1.32's default profile for what reef supports: filters
 * NodeUnschedulable, TaintToleration (NoSchedule, NoExecute), NodeAffinity (nodeSelector and
 * requiredDuringSchedulingIgnoredDuringExecution), NodePorts, NodeResourcesFit (cpu, memory,
 * pods); scores LeastAllocated plus spreading of one controller's replicas. A node whose Ready
 * condition is not True carries the taint the node lifecycle controller would give it
 * (node.kubernetes.io/not-ready or /unreachable, NoSchedule). reef never preempts.
 *
 * Threads: everything runs on the server's loop thread. */
#ifndef REEF_ORCHESTRATE_SCHEDULER_H
#define REEF_ORCHESTRATE_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "orchestrate/ctl.h"

/* ---- the control loop ---- */

struct reef_scheduler;

/* Lists nodes and pods, starts watching both and schedules every pending pod whose
 * spec.schedulerName is empty or "default-scheduler". env is copied. *out is stopped with
 * reef_scheduler_stop. */
int reef_scheduler_start(const struct reef_ctl_env *env, struct reef_scheduler **out,
                         struct reef_err *err);
/* Cancels watches and timers and frees everything; NULL is ignored. Its timer handles are closed
 * on the loop, so the loop must run once more before it is closed. */
void reef_scheduler_stop(struct reef_scheduler *s);

struct reef_scheduler_stats {
    uint64_t attempts;      /* scheduling cycles run */
    uint64_t bound;         /* bindings the API accepted */
    uint64_t unschedulable; /* cycles that found no node */
    uint64_t conflicts;     /* bindings refused (409/404): the pod changed meanwhile */
    size_t queued;          /* pods waiting for a cycle now */
    size_t waiting;         /* unschedulable pods waiting for a change or their back-off */
};
void reef_scheduler_stats(const struct reef_scheduler *s, struct reef_scheduler_stats *out);

/* Tests: back-off of unschedulable pods (Kubernetes' 1 s doubling to 10 s) and the period after
 * which a pod nothing woke up is retried anyway (60 s). */
void reef__scheduler_set_backoff(struct reef_scheduler *s, uint64_t initial_ms, uint64_t max_ms,
                                 uint64_t flush_ms);

/* ---- quantities ---- */

/* A Kubernetes resource quantity ("500m", "1", "1.5", "128Mi", "1G", "1e3", "+.5Ki") as an
 * integer in units of 10^-scale (scale 3 gives milli-units, 0 whole units), rounded up as
 * Quantity.MilliValue()/Value() do. Exact for any input (no floating point). -EINVAL for text
 * that is not a quantity, -ERANGE when the result does not fit in int64. */
int reef_sched_quantity(const char *s, int scale, int64_t *out);

/* ---- pods and nodes as the decision logic sees them ---- */

enum reef_sched_effect {
    REEF_SCHED_ANY = 0, /* tolerations only: every effect */
    REEF_SCHED_NO_SCHEDULE,
    REEF_SCHED_PREFER_NO_SCHEDULE,
    REEF_SCHED_NO_EXECUTE,
    REEF_SCHED_UNKNOWN_EFFECT, /* tolerates nothing, and no filter looks at such a taint */
};

enum reef_sched_op {
    REEF_SCHED_IN,
    REEF_SCHED_NOT_IN,
    REEF_SCHED_EXISTS,
    REEF_SCHED_DOES_NOT_EXIST,
    REEF_SCHED_GT,
    REEF_SCHED_LT,
};

struct reef_sched_kv {
    const char *key, *value;
};

struct reef_sched_expr {
    const char *key;
    enum reef_sched_op op;
    const char **values;
    size_t nvalues;
};

/* One nodeSelectorTerm: every expression and every field requirement must hold. */
struct reef_sched_term {
    struct reef_sched_expr *exprs;
    size_t nexprs;
    struct reef_sched_expr *fields; /* key "metadata.name" */
    size_t nfields;
};

struct reef_sched_taint {
    const char *key, *value;
    enum reef_sched_effect effect;
};

struct reef_sched_toleration {
    const char *key, *value; /* key "" with exists: every key */
    bool exists;             /* operator Exists (else Equal) */
    enum reef_sched_effect effect;
};

struct reef_sched_port {
    const char *ip; /* hostIP; "" or "0.0.0.0": every address */
    int port;
    char proto; /* 'T'CP, 'U'DP, 'S'CTP */
};

/* A parsed pod. Everything it points at lives in the pod's own allocation (freed by
 * reef_sched_pod_free). */
struct reef_sched_pod {
    const char *ns, *name, *uid;
    const char *node_name;          /* spec.nodeName, "" when pending */
    const char *scheduler_name;     /* "default-scheduler" when empty */
    const char *owner_uid;          /* the controller ownerReference's uid, "" when none */
    bool terminal;                  /* status.phase Succeeded or Failed */
    bool deleting;                  /* metadata.deletionTimestamp set */
    bool never_preempt;             /* spec.preemptionPolicy Never */
    bool gated;                     /* spec.schedulingGates present: not to be scheduled yet */
    int64_t generation;             /* metadata.generation (changes with the spec) */
    int64_t cpu, mem;               /* requests (milli-cpu, bytes) as Kubernetes sums them */
    int64_t nz_cpu, nz_mem;         /* the same with 100m / 200Mi for containers without requests
                                       (what scoring uses) */
    struct reef_sched_kv *selector; /* spec.nodeSelector */
    size_t nselector;
    bool has_required;             /* required node affinity present */
    struct reef_sched_term *terms; /* its nodeSelectorTerms (ORed) */
    size_t nterms;
    struct reef_sched_toleration *tols;
    size_t ntols;
    struct reef_sched_port *ports; /* host ports of its containers */
    size_t nports;
    void *mem_; /* private */
};

/* Parses a Pod's JSON into *out (the caller frees it with reef_sched_pod_free). -EINVAL for a
 * pod the scheduler cannot read (bad quantities, not an object), with the reason in err. */
int reef_sched_pod_parse(const char *json, size_t len, struct reef_sched_pod **out,
                         struct reef_err *err);
void reef_sched_pod_free(struct reef_sched_pod *p);

/* A parsed node plus what the pods bound to it use. */
struct reef_sched_node {
    const char *name;
    bool present;       /* false: only pods name it (no Node object); never a candidate */
    bool unschedulable; /* spec.unschedulable */
    int64_t alloc_cpu, alloc_mem, alloc_pods; /* status.allocatable (capacity when absent) */
    struct reef_sched_kv *labels;
    size_t nlabels;
    struct reef_sched_taint *taints; /* spec.taints plus the readiness taint */
    size_t ntaints;
    /* usage by pods bound to it (not terminal), kept by reef_sched_cluster_account */
    int64_t used_cpu, used_mem, used_pods, used_nz_cpu, used_nz_mem;
    struct reef_sched_port *used_ports; /* one entry per pod's port (ip points into the pod) */
    size_t nused_ports, cap_used_ports;
    void *mem_; /* private */
};

/* ---- the cluster ---- */

struct reef_sched_cluster;

/* NULL on ENOMEM; freed by reef_sched_cluster_free. */
struct reef_sched_cluster *reef_sched_cluster_new(void);
void reef_sched_cluster_free(struct reef_sched_cluster *c);

/* Adds or replaces the Node in json (its usage is kept across updates). The node's slot number
 * (stable while the node exists) in *slot (may be NULL). */
int reef_sched_cluster_set_node(struct reef_sched_cluster *c, const char *json, size_t len,
                                int *slot, struct reef_err *err);
/* The Node object is gone; its slot stays (not present) while pods are still accounted to it. */
void reef_sched_cluster_remove_node(struct reef_sched_cluster *c, const char *name);
/* Slot of name, -1 when unknown. create: make a not-present slot when unknown (-ENOMEM). */
int reef_sched_cluster_slot(struct reef_sched_cluster *c, const char *name, bool create);
/* The node in slot (NULL when free). */
struct reef_sched_node *reef_sched_cluster_node(struct reef_sched_cluster *c, int slot);
/* Nodes present (the N of "0/N nodes are available"). */
size_t reef_sched_cluster_nodes(const struct reef_sched_cluster *c);

/* Adds (sign +1) or removes (sign -1) pod p's requests, pod count, host ports and owner count
 * on slot. The caller keeps p alive while it is accounted (the node points at its ports).
 * 0 or -ENOMEM (adding only). */
int reef_sched_cluster_account(struct reef_sched_cluster *c, const struct reef_sched_pod *p,
                               int slot, int sign);

/* ---- decisions ---- */

#define REEF_SCHED_MSG_MAX 1024

/* message, when slot < 0: kube-scheduler's FitError text, e.g. "0/3 nodes are available: 1 node(s)
 * had untolerated taint {node-role: x}, 2 Insufficient memory. preemption: 0/3 nodes are
 * available: 3 Preemption is not helpful for scheduling.", or "no nodes available to schedule
 * pods". */
struct reef_sched_result {
    int slot;        /* the chosen node's slot, -1 when none fits */
    int64_t score;   /* its score */
    size_t feasible; /* nodes that passed the filters */
    char message[REEF_SCHED_MSG_MAX];
};

/* Runs the filters and scores of pod p over every present node. Does not account p anywhere. */
void reef_sched_pick(const struct reef_sched_cluster *c, const struct reef_sched_pod *p,
                     struct reef_sched_result *out);

/* Why slot does not fit p: 0 when it fits, else appends the node's reasons (as in the message)
 * joined by ", " into why[0..size) and returns 1 (unresolvable by preemption) or 2 (resolvable).
 */
int reef_sched_filter(const struct reef_sched_cluster *c, const struct reef_sched_pod *p, int slot,
                      char *why, size_t size);

#endif
