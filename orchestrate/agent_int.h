/* agent_int: what the agent's files share (agent.c: node, lease, pod watch, adoption, streams;
 * agent_pod.c: the pod state machine; agent_spec.c: container configurations from pod specs).
 * Loop thread only. */
#ifndef REEF_ORCHESTRATE_AGENT_INT_H
#define REEF_ORCHESTRATE_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/json.h"
#include "net/podnet.h"
#include "orchestrate/agent.h"
#include "orchestrate/probe.h"
#include "runtime/ctrstore.h"
#include "runtime/images.h"
#include "runtime/pod.h"

#define AGENT_BACKOFF_START_MS 10000
#define AGENT_BACKOFF_MAX_MS 300000
#define AGENT_BACKOFF_RESET_MS 600000 /* running this long forgives earlier crashes */

struct agent_pod;

enum actr_state { ACTR_NONE, ACTR_RUNNING, ACTR_EXITED };

/* One container of a pod (by name) across its attempts. */
struct agent_ctr {
    struct agent_pod *pod;
    char name[64];
    bool init;
    char id[REEF_CTR_ID_LEN + 1];      /* the current attempt, "" before the first */
    char prev_id[REEF_CTR_ID_LEN + 1]; /* the attempt before (logs --previous) */
    int attempt;                       /* attempts started; restartCount = attempt - 1 */
    enum actr_state state;
    char wait_reason[64]; /* ContainerCreating, CrashLoopBackOff, ErrImagePull, ... */
    char wait_msg[2048];
    int64_t started_ns, finished_ns;
    int exit_code;
    char term_reason[32]; /* Completed, Error, OOMKilled */
    /* lastState.terminated */
    bool has_last;
    int last_exit;
    int64_t last_started_ns, last_finished_ns;
    char last_reason[32];
    /* back-off */
    int64_t backoff_ms;  /* the next delay; 0 before the first crash */
    int64_t not_before;  /* ms: no start before this */
    bool ready, started; /* readiness; startup probe passed */
    bool killing;        /* a liveness failure or termination signalled it */
    struct reef_probe *liveness, *readiness, *startup;
    uv_fs_event_t *watch; /* on the current attempt's directory; freed when closed */
    uv_poll_t *hook;      /* a running lifecycle hook's exit socket (hook_sock), or NULL */
    int hook_sock;
    bool hook_post;       /* that hook is postStart (probes wait for it), not preStop */
    uv_timer_t *hook_sleep; /* a running lifecycle sleep action, or NULL (hook_post applies) */
    int stop_signal;      /* sent when the preStop hook ends */
    char image_ref[512], image_id[80];
    /* metrics: the last two samples of the attempt m_id */
    char m_id[REEF_CTR_ID_LEN + 1];
    uint64_t m_cpu0, m_cpu1, m_mem;
    int64_t m_t0, m_t1;
};

struct agent_pod {
    struct agent_pod *next;
    struct reef_agent *a;
    char ns[254], name[254], uid[64];
    char *json; /* the latest object */
    size_t len;
    int64_t rv;
    bool terminating; /* deletionTimestamp seen */
    bool signalled;   /* stop signals sent */
    int64_t kill_at;  /* ms: SIGKILL what is still running */
    bool done;        /* phase Succeeded/Failed: nothing more runs */
    bool sandbox_ready;
    bool refresh_volumes; /* a ConfigMap or Secret it mounts may have changed */
    struct reef_pod_sandbox sb;
    char ip[64];
    struct agent_ctr *ctrs; /* init containers first */
    size_t nctrs, ninit;
    bool pulling;
    char pull_error[512];
    int64_t pull_backoff_ms, pull_not_before, pull_failed_at;
    char pulled_ref[512];   /* the image the last pull was for */
    int64_t start_ms;       /* status.startTime */
    char *last_status;      /* the status last written */
    char phase[16];
    uv_timer_t timer;       /* the next sync that time makes due */
    bool timer_closing;
    bool closing;
    bool queued;   /* a sync is due from the loop */
    bool gone;     /* the object was deleted: clean up without writing to it */
    char reject[512];       /* why the pod cannot run at all (privileged, bad spec) */
};

struct reef_agent {
    struct reef_ctl_env env;
    char node[254];
    char data_dir[4096], containers_dir[4200], pods_dir[4200], ipam_dir[4200], images_dir[4200];
    char *registries_yaml;
    bool allow_privileged;
    char host_ip[64];
    char pod_cidr[64];
    struct reef_ctrstore *cs;
    struct reef_images *images; /* the loop's lookups; pulls open their own on the pool */
    struct reef_podnet *net;
    struct reef_store_watch *pod_watch;
    struct reef_store_watch *cm_watch, *secret_watch; /* for the pods' volumes */
    uv_timer_t lease_timer, resync_timer;
    struct agent_pod *pods;
    uv_idle_t idle; /* runs queued syncs */
    bool idle_active;
    bool stopping;
    int64_t node_status_at; /* ms of the last node status write */
    /* metrics (agent_metrics.c) */
    struct reef_cgroup_layout *cg_layout;
    uv_timer_t metrics_timer;
    uint64_t m_cpu0, m_cpu1, m_mem;
    int64_t m_t0, m_t1;
    int64_t m_read_ms; /* when the figures were last asked for */
};

/* agent.c */
int64_t reef__agent_now_ms(void);
void reef__agent_queue(struct agent_pod *p); /* sync the pod soon, from the loop */
void reef__agent_pod_free(struct agent_pod *p);

/* A string member at path under from into out ("" and false when absent or not a string). */
static inline bool reef__agent_jstr(const struct reef_json_doc *d, int from, const char *path,
                                    char *out, size_t size)
{
    out[0] = '\0';
    int v = reef_json_find(d, from, path, NULL);
    return v >= 0 && reef_json_get_str(d, v, out, size, NULL) == 0;
}

/* agent_pod.c */
void reef__agent_sync(struct agent_pod *p);
/* A sync of the pod at at_ms (Unix ms), or sooner when one is due already. */
void reef__agent_arm(struct agent_pod *p, int64_t at_ms);
/* The container's entry in spec.containers or spec.initContainers, or -1. */
int reef__agent_spec_of(const struct reef_json_doc *d, const struct agent_ctr *c);

/* agent_metrics.c: samples usage for metrics.k8s.io and installs the API server's provider. */
int reef__agent_metrics_start(struct reef_agent *a, struct reef_err *err);
void reef__agent_metrics_stop(struct reef_agent *a);

/* agent_status.c: writes the pod's status when it changed since the last write. */
void reef__agent_write_status(struct agent_pod *p, const struct reef_json_doc *d,
                              const char *phase, bool initialized);
/* The container's state changed on disk (its shim wrote state.json). */
void reef__agent_ctr_changed(struct agent_ctr *c);
/* Watches the current attempt's directory for its state (replacing an earlier watch); unwatch
 * stops it. */
void reef__agent_ctr_watch(struct agent_ctr *c);
void reef__agent_ctr_unwatch(struct agent_ctr *c);
/* Ends a running lifecycle hook's wait; signal (preStop): send the container its stop signal
 * now. */
void reef__agent_hook_end(struct agent_ctr *c, bool signal);
/* Fills the pod's containers from its spec (names, init flags), keeping what is known. */
int reef__agent_pod_layout(struct agent_pod *p, const struct reef_json_doc *d);

/* agent_creds.c: registry credentials from the pod's imagePullSecrets (Secrets of type
 * kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg), by registry host. */
struct reef_agent_creds {
    struct reef_pull_auth *auth; /* strings owned here */
    size_t n;
};
/* A missing or malformed secret is skipped (the pull goes on without it) and said in err;
 * returns -ENOENT or -EINVAL then, else 0. */
int reef__agent_pull_creds(struct agent_pod *p, const struct reef_json_doc *d,
                           struct reef_agent_creds *out, struct reef_err *err);
void reef__agent_creds_free(struct reef_agent_creds *c);
/* The registry host a docker config names ("https://index.docker.io/v1/" -> the Docker Hub's
 * "registry-1.docker.io", "https://reg:5000/" -> "reg:5000"). */
void reef__agent_creds_host(const char *server, char *out, size_t size);

/* agent_volumes.c: writes the pod's configMap and secret volumes as they are now (the kubelet's
 * atomic layout; unchanged content is not rewritten). */
int reef__agent_pod_volumes(struct agent_pod *p, const struct reef_json_doc *d,
                            struct reef_err *err);
/* Whether the pod mounts the ConfigMap (or Secret) name. */
bool reef__agent_pod_uses(const struct reef_json_doc *d, bool secret, const char *name);

/* agent_spec.c: the configuration of one container attempt. img is the image's config JSON and
 * layers; the pod's JSON is in p. Strings in cfg are owned by cfg. On failure err says why
 * (CreateContainerConfigError). */
struct reef_image;
int reef__agent_ctr_config(struct agent_pod *p, struct agent_ctr *c, const struct reef_json_doc *d,
                           int container, const struct reef_image *img,
                           struct reef_ctr_config *cfg, struct reef_err *err);
/* Writes the pod's volumes (emptyDir directories, configMap and secret files) and its
 * /etc/hosts, /etc/hostname, /etc/resolv.conf under the sandbox directory. */
int reef__agent_pod_files(struct agent_pod *p, const struct reef_json_doc *d, struct reef_err *err);
/* Calls fn for each key of the pod's namespace's ConfigMap (data and binaryData) or Secret
 * (decoded) name; -ENOENT when there is none. */
int reef__agent_object_each(struct agent_pod *p, bool secret, const char *name,
                            int (*fn)(void *ud, const char *key, const struct reef_buf *val),
                            void *ud, struct reef_err *err);
/* A fieldRef's value (metadata.name, metadata.labels['k'], status.podIP, spec.nodeName, ...). */
int reef__agent_field_ref(struct agent_pod *p, const struct reef_json_doc *d, const char *path,
                          char *out, size_t size, struct reef_err *err);
/* A volume's resourceFieldRef rf (containerName, resource, divisor) as the kubelet writes it. */
int reef__agent_resource_field(const struct reef_json_doc *d, int rf, char *out, size_t size,
                               struct reef_err *err);
/* Kubernetes quantities: "500m" cpu -> 0.5; "128Mi" -> 134217728. -EINVAL when malformed. */
int reef__agent_quantity(const char *s, double *out);

#endif
