/* agent_pod: one pod's life on the node: sandbox and address, image pulls with back-off,
 * init containers in order, containers started and restarted by the pod's restartPolicy with
 * Kubernetes' back-off, probes, graceful termination, and the status the API shows. */
#include "orchestrate/agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "runtime/images.h"
#include "runtime/shim.h"

/* ---- small helpers ---- */

#define jstr reef__agent_jstr

static int64_t jint(const struct reef_json_doc *d, int from, const char *path, int64_t dflt)
{
    int64_t x;
    int v = reef_json_find(d, from, path, NULL);
    if (v < 0 || reef_json_get_int(d, v, &x, NULL) < 0)
        return dflt;
    return x;
}

static void event(struct agent_pod *p, const char *type, const char *reason, const char *fmt, ...)
    REEF_PRINTF(4, 5);
static void event(struct agent_pod *p, const char *type, const char *reason, const char *fmt, ...)
{
    if (!p->json || p->gone)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    reef_ctl_event(&p->a->env, "kubelet", p->a->node, p->json, p->len, type, reason, "%s", msg);
}

static void on_timer(uv_timer_t *t)
{
    reef__agent_sync(t->data);
}

void reef__agent_arm(struct agent_pod *p, int64_t at_ms)
{
    int64_t delay = at_ms - reef__agent_now_ms();
    if (delay < 0)
        delay = 0;
    if (uv_is_active((uv_handle_t *)&p->timer) &&
        uv_timer_get_due_in(&p->timer) <= (uint64_t)delay)
        return;
    uv_timer_start(&p->timer, on_timer, (uint64_t)delay, 0);
}

static const char *restart_policy(const struct reef_json_doc *d, char buf[16])
{
    if (!jstr(d, REEF_JSON_ROOT, "spec.restartPolicy", buf, 16) || !buf[0])
        snprintf(buf, 16, "Always");
    return buf;
}

#define spec_of reef__agent_spec_of

int reef__agent_spec_of(const struct reef_json_doc *d, const struct agent_ctr *c)
{
    int list = reef_json_find(d, REEF_JSON_ROOT, c->init ? "spec.initContainers" : "spec.containers",
                              NULL);
    struct reef_json_iter it = reef_json_iter(d, list);
    while (reef_json_next(d, &it)) {
        int n = reef_json_member(d, it.val, "name");
        if (n >= 0 && reef_json_str_eq(d, n, c->name))
            return it.val;
    }
    return -1;
}

/* ---- layout ---- */

int reef__agent_pod_layout(struct agent_pod *p, const struct reef_json_doc *d)
{
    if (p->nctrs)
        return 0; /* containers of a pod never change (only their images) */
    int init = reef_json_find(d, REEF_JSON_ROOT, "spec.initContainers", NULL);
    int reg = reef_json_find(d, REEF_JSON_ROOT, "spec.containers", NULL);
    int ni = init >= 0 ? reef_json_count(d, init) : 0;
    int nr = reg >= 0 ? reef_json_count(d, reg) : 0;
    if (ni < 0)
        ni = 0;
    if (nr <= 0)
        return -EINVAL;
    p->ctrs = calloc((size_t)(ni + nr), sizeof(*p->ctrs));
    if (!p->ctrs)
        return -ENOMEM;
    for (int k = 0; k < 2; k++) {
        struct reef_json_iter it = reef_json_iter(d, k == 0 ? init : reg);
        while (reef_json_next(d, &it)) {
            struct agent_ctr *c = &p->ctrs[p->nctrs++];
            c->pod = p;
            c->init = k == 0;
            jstr(d, it.val, "name", c->name, sizeof(c->name));
            snprintf(c->wait_reason, sizeof(c->wait_reason), k == 0 ? "PodInitializing" : "ContainerCreating");
        }
        if (k == 0)
            p->ninit = p->nctrs;
    }
    return 0;
}

/* ---- container state ---- */

static void on_dir_event(uv_fs_event_t *h, const char *file, int events, int status)
{
    (void)events;
    (void)status;
    if (file && strcmp(file, "state.json") != 0)
        return;
    reef__agent_ctr_changed(h->data);
}

static void watch_closed(uv_handle_t *h)
{
    free(h);
}

void reef__agent_ctr_unwatch(struct agent_ctr *c)
{
    if (!c->watch)
        return;
    uv_fs_event_stop(c->watch);
    uv_close((uv_handle_t *)c->watch, watch_closed);
    c->watch = NULL;
}

void reef__agent_ctr_watch(struct agent_ctr *c)
{
    struct reef_agent *a = c->pod->a;
    reef__agent_ctr_unwatch(c);
    char dir[4400];
    snprintf(dir, sizeof(dir), "%s/%s", a->containers_dir, c->id);
    uv_fs_event_t *w = malloc(sizeof(*w));
    if (!w || uv_fs_event_init(a->env.loop, w) < 0) {
        free(w);
        return;
    }
    w->data = c;
    if (uv_fs_event_start(w, on_dir_event, dir, 0) < 0) {
        uv_close((uv_handle_t *)w, watch_closed);
        return;
    }
    c->watch = w;
}

static void stop_probes(struct agent_ctr *c)
{
    reef_probe_stop(c->liveness);
    reef_probe_stop(c->readiness);
    reef_probe_stop(c->startup);
    c->liveness = c->readiness = c->startup = NULL;
}

void reef__agent_ctr_changed(struct agent_ctr *c)
{
    struct agent_pod *p = c->pod;
    struct reef_agent *a = p->a;
    if (!c->id[0] || p->closing)
        return;
    /* The shim's liveness first, then the state: a shim found gone has written its last state
     * already, while a state read first could be the one before a final write and exit that
     * both happen between the two reads (a crash would then be reported for a clean exit). */
    bool alive = reef_ctr_shim_alive(a->cs, c->id);
    struct reef_ctr_state st;
    memset(&st, 0, sizeof(st));
    if (reef_ctr_load_state(a->cs, c->id, &st, NULL) < 0)
        return;
    bool exited = st.status == REEF_CTR_EXITED || (!alive && st.status != REEF_CTR_CREATED);
    if (!exited) {
        if (st.status == REEF_CTR_RUNNING && c->state != ACTR_RUNNING) {
            c->state = ACTR_RUNNING;
            c->started_ns = st.started_at;
            reef__agent_queue(p);
        } else if (st.status == REEF_CTR_RUNNING && !c->started_ns) {
            c->started_ns = st.started_at;
        }
        return;
    }
    if (c->state == ACTR_EXITED)
        return;
    bool was_running = c->state == ACTR_RUNNING;
    c->state = ACTR_EXITED;
    c->exit_code = alive || st.status == REEF_CTR_EXITED ? st.exit_code : 137;
    c->started_ns = st.started_at ? st.started_at : c->started_ns;
    c->finished_ns = st.finished_at ? st.finished_at : reef__agent_now_ms() * 1000000;
    snprintf(c->term_reason, sizeof(c->term_reason), "%s",
             st.oom_killed ? "OOMKilled" : c->exit_code == 0 ? "Completed" : "Error");
    c->ready = false;
    stop_probes(c);
    /* back-off: the first restart is immediate, then 10 s doubling to 5 min; a container that
     * ran for 10 minutes starts over */
    int64_t now = reef__agent_now_ms();
    int64_t ran = (c->finished_ns - c->started_ns) / 1000000;
    if (ran >= AGENT_BACKOFF_RESET_MS)
        c->backoff_ms = 0;
    if (c->backoff_ms == 0) {
        c->not_before = now;
        c->backoff_ms = AGENT_BACKOFF_START_MS;
    } else {
        c->not_before = now + c->backoff_ms;
        c->backoff_ms = c->backoff_ms * 2 > AGENT_BACKOFF_MAX_MS ? AGENT_BACKOFF_MAX_MS
                                                                 : c->backoff_ms * 2;
    }
    if (was_running)
        LOG_INFO("agent", "pod %s/%s container %s exited with %d", p->ns, p->name, c->name,
                 c->exit_code);
    reef__agent_queue(p);
}

/* ---- probes ---- */

static void probe_changed(struct agent_ctr *c, const char *kind, enum reef_probe_result r,
                          const char *message)
{
    struct agent_pod *p = c->pod;
    if (r == REEF_PROBE_FAILURE)
        event(p, "Warning", "Unhealthy", "%s probe failed: %s", kind, message ? message : "");
}

static void start_probe(struct agent_ctr *c, const struct reef_json_doc *d, int spec,
                        const char *field, reef_probe_cb cb, struct reef_probe **slot);
static bool exec_hook(struct agent_pod *p, struct agent_ctr *c, const struct reef_json_doc *d,
                      const char *which, uv_poll_cb done);
static void begin_probes(struct agent_ctr *c, const struct reef_json_doc *d, int spec);
static void on_post_start_done(uv_poll_t *h, int status, int events);

static void on_readiness(void *ud, enum reef_probe_result r, const char *message)
{
    struct agent_ctr *c = ud;
    probe_changed(c, "Readiness", r, message);
    c->ready = r == REEF_PROBE_SUCCESS;
    reef__agent_queue(c->pod);
}

static void on_liveness(void *ud, enum reef_probe_result r, const char *message)
{
    struct agent_ctr *c = ud;
    struct agent_pod *p = c->pod;
    probe_changed(c, "Liveness", r, message);
    if (r != REEF_PROBE_FAILURE || c->state != ACTR_RUNNING || c->killing)
        return;
    event(p, "Normal", "Killing", "Container %s failed liveness probe, will be restarted",
          c->name);
    char reply[128];
    reef_shim_call(p->a->containers_dir, c->id, "kill 9", NULL, 0, reply, sizeof(reply), 2000,
                   NULL);
}

static void start_later_probes(struct agent_ctr *c)
{
    struct agent_pod *p = c->pod;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, p->json, p->len, NULL, NULL) == 0) {
        int spec = spec_of(&d, c);
        if (spec >= 0) {
            start_probe(c, &d, spec, "livenessProbe", on_liveness, &c->liveness);
            start_probe(c, &d, spec, "readinessProbe", on_readiness, &c->readiness);
            if (!c->readiness)
                c->ready = true;
        }
    }
    reef_json_doc_free(&d);
}

static void on_startup(void *ud, enum reef_probe_result r, const char *message)
{
    struct agent_ctr *c = ud;
    probe_changed(c, "Startup", r, message);
    if (r != REEF_PROBE_SUCCESS || c->started)
        return;
    c->started = true;
    reef_probe_stop(c->startup);
    c->startup = NULL;
    start_later_probes(c);
    reef__agent_queue(c->pod);
}

static void start_probe(struct agent_ctr *c, const struct reef_json_doc *d, int spec,
                        const char *field, reef_probe_cb cb, struct reef_probe **slot)
{
    struct agent_pod *p = c->pod;
    int pr = reef_json_member(d, spec, field);
    if (pr < 0)
        return;
    size_t len = 0, plen = 0;
    const char *raw = reef_json_raw(d, pr, &len);
    int ports = reef_json_member(d, spec, "ports");
    char *ports_json = NULL;
    if (ports >= 0) {
        const char *pr_raw = reef_json_raw(d, ports, &plen);
        ports_json = strndup(pr_raw, plen);
    }
    struct reef_probe_target t = {.containers_dir = p->a->containers_dir,
                                  .id = c->id,
                                  .pod_ip = p->ip,
                                  .ports_json = ports_json};
    struct reef_err err = {0};
    if (reef_probe_start(p->a->env.loop, raw, len, &t, cb, c, slot, &err) < 0)
        event(p, "Warning", "Unhealthy", "%s: %s", field, err.msg);
    free(ports_json);
}

/* ---- images ---- */

struct pull {
    uv_work_t work;
    struct agent_pod *p;
    char ref[512];
    char images_dir[4200];
    char *registries;
    struct reef_agent_creds creds; /* from the pod's imagePullSecrets */
    int rc;
    struct reef_err err;
    int64_t took_ms;
};

static void pull_work(uv_work_t *w)
{
    struct pull *pl = w->data;
    struct reef_images *s = NULL;
    int64_t t0 = reef__agent_now_ms();
    pl->rc = reef_images_open(pl->images_dir, &s, &pl->err);
    if (pl->rc == 0) {
        struct reef_pull_opts o = {.registries_yaml = pl->registries,
                                   .auth = pl->creds.auth,
                                   .nauth = pl->creds.n};
        pl->rc = reef_images_pull(s, pl->ref, &o, NULL, &pl->err);
        reef_images_close(s);
    }
    pl->took_ms = reef__agent_now_ms() - t0;
}

static void pull_done(uv_work_t *w, int status)
{
    struct pull *pl = w->data;
    struct agent_pod *p = pl->p;
    p->pulling = false;
    if (p->closing) {
        /* the pod went while its image was pulled: finish freeing it now */
        reef__agent_pod_free(p);
    } else if (status == 0 && pl->rc == 0) {
        event(p, "Normal", "Pulled", "Successfully pulled image \"%s\" in %.3fs", pl->ref,
              (double)pl->took_ms / 1000);
        snprintf(p->pulled_ref, sizeof(p->pulled_ref), "%s", pl->ref);
        p->pull_error[0] = '\0';
        p->pull_backoff_ms = 0;
        reef__agent_queue(p);
    } else {
        event(p, "Warning", "Failed", "Failed to pull image \"%s\": %s", pl->ref, pl->err.msg);
        event(p, "Warning", "Failed", "Error: ErrImagePull");
        snprintf(p->pull_error, sizeof(p->pull_error), "%s", pl->err.msg);
        p->pull_backoff_ms = p->pull_backoff_ms ? p->pull_backoff_ms * 2 : AGENT_BACKOFF_START_MS;
        if (p->pull_backoff_ms > AGENT_BACKOFF_MAX_MS)
            p->pull_backoff_ms = AGENT_BACKOFF_MAX_MS;
        p->pull_failed_at = reef__agent_now_ms();
        p->pull_not_before = p->pull_failed_at + p->pull_backoff_ms;
        for (size_t i = 0; i < p->nctrs; i++)
            if (strcmp(p->ctrs[i].image_ref, pl->ref) == 0 || !p->ctrs[i].id[0]) {
                snprintf(p->ctrs[i].wait_reason, sizeof(p->ctrs[i].wait_reason), "ErrImagePull");
                snprintf(p->ctrs[i].wait_msg, sizeof(p->ctrs[i].wait_msg), "%s", pl->err.msg);
            }
        reef__agent_queue(p);
    }
    free(pl->registries);
    reef__agent_creds_free(&pl->creds);
    free(pl);
}

/* 1: the image is in the store (*img filled); 0: not yet (a pull runs or waits); < 0: error
 * recorded in the container's waiting state. */
static int ensure_image(struct agent_pod *p, struct agent_ctr *c, const struct reef_json_doc *d,
                        int spec, struct reef_image **img)
{
    struct reef_agent *a = p->a;
    char ref[512], policy[32];
    jstr(d, spec, "image", ref, sizeof(ref));
    jstr(d, spec, "imagePullPolicy", policy, sizeof(policy));
    struct reef_err err = {0};
    int have = reef_images_get(a->images, ref, img, &err);
    bool need = have < 0 || (strcmp(policy, "Always") == 0 && strcmp(p->pulled_ref, ref) != 0);
    if (!need)
        return 1;
    reef_image_free(*img);
    *img = NULL;
    if (strcmp(policy, "Never") == 0) {
        snprintf(c->wait_reason, sizeof(c->wait_reason), "ErrImageNeverPull");
        snprintf(c->wait_msg, sizeof(c->wait_msg),
                 "Container image \"%s\" is not present with pull policy of Never", ref);
        event(p, "Warning", "ErrImageNeverPull", "%s", c->wait_msg);
        return -ENOENT;
    }
    if (p->pulling)
        return 0;
    int64_t now = reef__agent_now_ms();
    if (p->pull_error[0] && now < p->pull_not_before) {
        /* the failure shows as ErrImagePull for a moment, then as the back-off */
        if (now < p->pull_failed_at + 2000) {
            reef__agent_arm(p, p->pull_failed_at + 2000);
            return 0;
        }
        if (strcmp(c->wait_reason, "ImagePullBackOff") != 0) {
            snprintf(c->wait_reason, sizeof(c->wait_reason), "ImagePullBackOff");
            snprintf(c->wait_msg, sizeof(c->wait_msg), "Back-off pulling image \"%s\": %s", ref,
                     p->pull_error);
            event(p, "Normal", "BackOff", "Back-off pulling image \"%s\"", ref);
        }
        reef__agent_arm(p, p->pull_not_before);
        return 0;
    }
    struct pull *pl = calloc(1, sizeof(*pl));
    if (!pl)
        return -ENOMEM;
    pl->work.data = pl;
    pl->p = p;
    snprintf(pl->ref, sizeof(pl->ref), "%s", ref);
    snprintf(pl->images_dir, sizeof(pl->images_dir), "%s", a->images_dir);
    pl->registries = a->registries_yaml ? strdup(a->registries_yaml) : NULL;
    struct reef_err cerr = {0};
    if (reef__agent_pull_creds(p, d, &pl->creds, &cerr) < 0)
        event(p, "Warning", "FailedToRetrieveImagePullSecret", "%s", cerr.msg);
    snprintf(c->image_ref, sizeof(c->image_ref), "%s", ref);
    if (!p->pull_error[0]) {
        snprintf(c->wait_reason, sizeof(c->wait_reason), c->init ? "PodInitializing"
                                                                  : "ContainerCreating");
        c->wait_msg[0] = '\0';
    }
    event(p, "Normal", "Pulling", "Pulling image \"%s\"", ref);
    p->pulling = true;
    if (uv_queue_work(a->env.loop, &pl->work, pull_work, pull_done) < 0) {
        p->pulling = false;
        free(pl->registries);
        reef__agent_creds_free(&pl->creds);
        free(pl);
        return -EAGAIN;
    }
    return 0;
}

/* ---- starting a container ---- */

static void remove_ctr(struct reef_agent *a, const char *id)
{
    if (!id[0])
        return;
    reef_shim_cleanup_orphan(a->containers_dir, id, NULL);
    reef_ctr_remove(a->cs, id, NULL);
}

static void start_ctr(struct agent_pod *p, struct agent_ctr *c, const struct reef_json_doc *d)
{
    struct reef_agent *a = p->a;
    int64_t now = reef__agent_now_ms();
    if (now < c->not_before) {
        if (c->attempt > 0 && strcmp(c->wait_reason, "CrashLoopBackOff") != 0) {
            snprintf(c->wait_reason, sizeof(c->wait_reason), "CrashLoopBackOff");
            snprintf(c->wait_msg, sizeof(c->wait_msg),
                     "back-off %llds restarting failed container=%s pod=%s_%s(%s)",
                     (long long)(c->not_before - now + 999) / 1000, c->name, p->name, p->ns,
                     p->uid);
            event(p, "Warning", "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)",
                  c->name, p->name, p->ns, p->uid);
        }
        reef__agent_arm(p, c->not_before);
        return;
    }
    int spec = spec_of(d, c);
    if (spec < 0)
        return;
    struct reef_image *img = NULL;
    int r = ensure_image(p, c, d, spec, &img);
    if (r <= 0)
        return;
    struct reef_ctr_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    struct reef_err err = {0};
    if (reef__agent_ctr_config(p, c, d, spec, img, &cfg, &err) < 0) {
        reef_image_free(img);
        reef_ctr_config_free(&cfg);
        if (strcmp(c->wait_msg, err.msg) != 0)
            event(p, "Warning", "Failed", "Error: %s", err.msg);
        snprintf(c->wait_reason, sizeof(c->wait_reason), "CreateContainerConfigError");
        snprintf(c->wait_msg, sizeof(c->wait_msg), "%s", err.msg);
        reef__agent_arm(p, now + 10000);
        return;
    }
    snprintf(c->image_ref, sizeof(c->image_ref), "%s", img->name[0] ? img->name : cfg.image);
    snprintf(c->image_id, sizeof(c->image_id), "%s", img->id);
    reef_image_free(img);
    if (reef_ctr_create(a->cs, &cfg, &err) < 0) {
        reef_ctr_config_free(&cfg);
        event(p, "Warning", "Failed", "Error: %s", err.msg);
        snprintf(c->wait_reason, sizeof(c->wait_reason), "CreateContainerError");
        snprintf(c->wait_msg, sizeof(c->wait_msg), "%s", err.msg);
        reef__agent_arm(p, now + 10000);
        return;
    }
    /* keep this attempt and the one before (logs --previous); older ones go */
    remove_ctr(a, c->prev_id);
    memcpy(c->prev_id, c->id, sizeof(c->id));
    memcpy(c->id, cfg.id, sizeof(c->id));
    reef_ctr_config_free(&cfg);
    if (c->state == ACTR_EXITED) {
        c->has_last = true;
        c->last_exit = c->exit_code;
        c->last_started_ns = c->started_ns;
        c->last_finished_ns = c->finished_ns;
        snprintf(c->last_reason, sizeof(c->last_reason), "%s", c->term_reason);
    }
    c->attempt++;
    reef__agent_hook_end(c, false); /* a hook of the attempt before (a postStart sleep) */
    c->killing = false;
    c->ready = false;
    c->started = false;
    event(p, "Normal", "Created", "Created container %s", c->name);
    int exit_code = 0;
    r = reef_shim_start(a->containers_dir, c->id, &exit_code, &err);
    c->wait_reason[0] = c->wait_msg[0] = '\0';
    if (r < 0) {
        event(p, "Warning", "Failed", "Error: failed to start container \"%s\": %s", c->name,
              err.msg);
        c->state = ACTR_RUNNING; /* so the exit is taken as a crash, with its back-off */
        c->started_ns = reef__agent_now_ms() * 1000000;
        reef__agent_ctr_watch(c);
        reef__agent_ctr_changed(c);
        if (c->state != ACTR_EXITED) {
            c->state = ACTR_EXITED;
            c->exit_code = exit_code ? exit_code : 128;
            c->finished_ns = c->started_ns;
            snprintf(c->term_reason, sizeof(c->term_reason), "StartError");
            reef__agent_queue(p);
        }
        return;
    }
    event(p, "Normal", "Started", "Started container %s", c->name);
    c->state = ACTR_RUNNING;
    c->started_ns = reef__agent_now_ms() * 1000000;
    reef__agent_ctr_watch(c);
    reef__agent_ctr_changed(c); /* it may have finished already */
    if (c->state == ACTR_RUNNING && !exec_hook(p, c, d, "postStart", on_post_start_done))
        begin_probes(c, d, spec);
}

/* ---- termination ---- */

static void signal_ctr(struct agent_pod *p, struct agent_ctr *c, int sig)
{
    char req[32], reply[128];
    snprintf(req, sizeof(req), "kill %d", sig);
    reef_shim_call(p->a->containers_dir, c->id, req, NULL, 0, reply, sizeof(reply), 2000, NULL);
}

static void hook_closed(uv_handle_t *h)
{
    free(h);
}

/* The hook's socket (or sleep) goes; its exit code, or -1 when it could not be read. */
static int hook_finish(struct agent_ctr *c)
{
    if (c->hook_sleep) {
        uv_timer_stop(c->hook_sleep);
        uv_close((uv_handle_t *)c->hook_sleep, hook_closed);
        c->hook_sleep = NULL;
        return 0;
    }
    int exit_code = 0;
    int r = reef_shim_exec_wait(c->hook_sock, &exit_code, NULL); /* closes the socket */
    uv_poll_stop(c->hook);
    uv_close((uv_handle_t *)c->hook, hook_closed);
    c->hook = NULL;
    c->hook_sock = -1;
    return r < 0 ? -1 : exit_code;
}

/* The preStop hook is over (or cut short): the container gets its stop signal. A postStart hook
 * cut short (the container stopping) is just dropped. */
void reef__agent_hook_end(struct agent_ctr *c, bool signal)
{
    if (!c->hook && !c->hook_sleep)
        return;
    bool post = c->hook_post;
    hook_finish(c);
    if (signal && !post && c->state == ACTR_RUNNING)
        signal_ctr(c->pod, c, c->stop_signal);
}

static void on_hook_done(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    reef__agent_hook_end(h->data, true);
}

static void post_start_ended(struct agent_ctr *c, int code);

static void on_hook_slept(uv_timer_t *t)
{
    struct agent_ctr *c = t->data;
    if (c->hook_post)
        post_start_ended(c, hook_finish(c));
    else
        reef__agent_hook_end(c, true);
}

/* A lifecycle sleep action: seconds in the agent, nothing run in the container. */
static bool sleep_hook(struct agent_pod *p, struct agent_ctr *c, int secs, bool post)
{
    uv_timer_t *t = malloc(sizeof(*t));
    if (!t || uv_timer_init(p->a->env.loop, t) < 0) {
        free(t);
        return false;
    }
    t->data = c;
    c->hook_sleep = t;
    c->hook_post = post;
    uv_timer_start(t, on_hook_slept, (uint64_t)(secs > 0 ? secs : 0) * 1000, 0);
    return true;
}

/* Starts the container's lifecycle exec hook ("preStop" or "postStart"); true when it runs.
 * Its output goes nowhere, as the kubelet's does (its exit status is what counts). */
static bool exec_hook(struct agent_pod *p, struct agent_ctr *c, const struct reef_json_doc *d,
                      const char *which, uv_poll_cb done)
{
    int spec = spec_of(d, c);
    bool post = strcmp(which, "postStart") == 0;
    char path[64];
    snprintf(path, sizeof(path), "lifecycle.%s", which);
    int handler = spec >= 0 ? reef_json_find(d, spec, path, NULL) : -1;
    if (handler < 0 || c->hook || c->hook_sleep)
        return false;
    int cmd = reef_json_find(d, handler, "exec.command", NULL);
    int sl = reef_json_find(d, handler, "sleep.seconds", NULL);
    int64_t secs;
    if (cmd < 0 && sl >= 0 && reef_json_get_int(d, sl, &secs, NULL) == 0)
        return sleep_hook(p, c, (int)secs, post);
    if (cmd < 0) {
        /* httpGet and tcpSocket hooks: said, not silently skipped */
        event(p, "Warning", post ? "FailedPostStartHook" : "FailedPreStopHook",
              "%s: reef runs exec and sleep lifecycle hooks only", post ? "PostStartHook" :
                                                                          "PreStopHook");
        return false;
    }
    struct reef_buf req = REEF_BUF_INIT;
    size_t n = 0;
    const char *raw = reef_json_raw(d, cmd, &n);
    reef_buf_puts(&req, "{\"argv\":");
    reef_buf_append(&req, raw, n);
    reef_buf_puts(&req, "}");
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int fds[3] = {null, null, null}, sock = -1, master = -1, code = 0;
    struct reef_err err = {0};
    bool running = false;
    int r = null < 0 ? reef_err_errno(&err, -errno, "open /dev/null")
                     : reef_shim_exec_start(p->a->containers_dir, c->id, req.data, fds, &sock,
                                            &master, &code, &err);
    if (null >= 0)
        close(null);
    if (r < 0) {
        event(p, "Warning", post ? "FailedPostStartHook" : "FailedPreStopHook", "%s failed: %s",
              post ? "PostStartHook" : "PreStopHook", err.msg);
    } else {
        uv_poll_t *h = malloc(sizeof(*h));
        if (h && uv_poll_init(p->a->env.loop, h, sock) == 0) {
            h->data = c;
            uv_poll_start(h, UV_READABLE | UV_DISCONNECT, done);
            c->hook = h;
            c->hook_sock = sock;
            c->hook_post = post;
            running = true;
        } else {
            free(h);
            close(sock);
        }
    }
    reef_buf_free(&req);
    return running;
}

/* Starts the preStop hook; true when it runs (the stop signal then waits for it, as Kubernetes
 * orders them, within the grace period). A postStart hook still running is dropped first. */
static bool pre_stop(struct agent_pod *p, struct agent_ctr *c, const struct reef_json_doc *d)
{
    if ((c->hook || c->hook_sleep) && c->hook_post)
        reef__agent_hook_end(c, false);
    return exec_hook(p, c, d, "preStop", on_hook_done);
}

/* Probes start once the container has started (and its postStart hook, if any, succeeded). */
static void begin_probes(struct agent_ctr *c, const struct reef_json_doc *d, int spec)
{
    if (c->state != ACTR_RUNNING || c->init)
        return;
    start_probe(c, d, spec, "startupProbe", on_startup, &c->startup);
    if (!c->startup) {
        c->started = true;
        start_later_probes(c);
    }
}

/* The postStart hook ended with code (-1: its result was lost). */
static void post_start_ended(struct agent_ctr *c, int code)
{
    struct agent_pod *p = c->pod;
    if (code != 0) {
        /* as the kubelet: the container is killed, and restarts by the pod's policy */
        event(p, "Warning", "FailedPostStartHook", "PostStartHook failed: %s",
              code < 0 ? "its result was lost" : "the command exited with a non-zero code");
        if (c->state == ACTR_RUNNING && !c->killing) {
            event(p, "Normal", "Killing", "FailedPostStartHook: stopping container %s", c->name);
            signal_ctr(p, c, SIGKILL);
        }
        return;
    }
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, p->json, p->len, NULL, NULL) == 0) {
        int spec = spec_of(&d, c);
        if (spec >= 0)
            begin_probes(c, &d, spec);
    }
    reef_json_doc_free(&d);
    reef__agent_queue(p);
}

static void on_post_start_done(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    struct agent_ctr *c = h->data;
    post_start_ended(c, hook_finish(c));
}

static void terminate(struct agent_pod *p, const struct reef_json_doc *d)
{
    struct reef_agent *a = p->a;
    int64_t now = reef__agent_now_ms();
    bool running = false;
    for (size_t i = 0; i < p->nctrs; i++)
        running |= p->ctrs[i].state == ACTR_RUNNING;
    if (!p->signalled) {
        p->signalled = true;
        int64_t grace = jint(d, REEF_JSON_ROOT, "metadata.deletionGracePeriodSeconds",
                             jint(d, REEF_JSON_ROOT, "spec.terminationGracePeriodSeconds", 30));
        if (p->gone)
            grace = grace > 2 ? 2 : grace;
        p->kill_at = now + grace * 1000;
        for (size_t i = 0; i < p->nctrs; i++) {
            struct agent_ctr *c = &p->ctrs[i];
            stop_probes(c);
            c->ready = false;
            if (c->state != ACTR_RUNNING)
                continue;
            c->killing = true;
            event(p, "Normal", "Killing", "Stopping container %s", c->name);
            struct reef_ctr_config cfg;
            memset(&cfg, 0, sizeof(cfg));
            c->stop_signal = SIGTERM;
            if (reef_ctr_load_config(a->cs, c->id, &cfg, NULL) == 0 && cfg.stop_signal > 0)
                c->stop_signal = cfg.stop_signal;
            reef_ctr_config_free(&cfg);
            if (grace == 0 || !pre_stop(p, c, d))
                signal_ctr(p, c, grace == 0 ? SIGKILL : c->stop_signal);
        }
    } else if (running && now >= p->kill_at) {
        for (size_t i = 0; i < p->nctrs; i++) {
            reef__agent_hook_end(&p->ctrs[i], false);
            if (p->ctrs[i].state == ACTR_RUNNING)
                signal_ctr(p, &p->ctrs[i], SIGKILL);
        }
        p->kill_at = now + 5000; /* and again if something resists */
    }
    if (running) {
        reef__agent_arm(p, p->kill_at);
        return;
    }
    /* everything stopped: containers, sandbox and address go, then the object */
    for (size_t i = 0; i < p->nctrs; i++) {
        struct agent_ctr *c = &p->ctrs[i];
        reef__agent_hook_end(c, false);
        reef__agent_ctr_unwatch(c);
        remove_ctr(a, c->id);
        remove_ctr(a, c->prev_id);
        c->id[0] = c->prev_id[0] = '\0';
    }
    reef_podnet_detach(a->net, p->uid, NULL);
    reef_pod_sandbox_remove(a->pods_dir, p->uid, NULL);
    if (!p->gone) {
        char path[600], body[256];
        snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", p->ns, p->name);
        int n = snprintf(body, sizeof(body),
                         "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":"
                         "0,\"preconditions\":{\"uid\":\"%s\"}}",
                         p->uid);
        struct reef_err err = {0};
        char target[700];
        snprintf(target, sizeof(target), "%s?gracePeriodSeconds=0", path);
        int st = reef_ctl_call(&a->env, "DELETE", target, NULL, body, (size_t)n, NULL, &err);
        if (st != 200 && st != 202 && st != 404 && st != 409)
            LOG_WARN("agent", "delete pod %s/%s: %s", p->ns, p->name, err.msg);
    }
    LOG_INFO("agent", "pod %s/%s removed from node", p->ns, p->name);
    reef__agent_pod_free(p);
}


/* ---- the sync ---- */

static bool sandbox(struct agent_pod *p, const struct reef_json_doc *d)
{
    struct reef_agent *a = p->a;
    if (p->sandbox_ready) {
        if (p->refresh_volumes) {
            /* as the kubelet: on failure the containers keep what they have */
            struct reef_err err = {0};
            p->refresh_volumes = false;
            if (reef__agent_pod_volumes(p, d, &err) < 0)
                LOG_WARN("agent", "pod %s/%s: update volumes: %s", p->ns, p->name, err.msg);
        }
        return true;
    }
    char host[254] = "", nodeip[64];
    bool host_net = false;
    int v = reef_json_find(d, REEF_JSON_ROOT, "spec.hostNetwork", NULL);
    if (v >= 0)
        reef_json_get_bool(d, v, &host_net, NULL);
    if (!jstr(d, REEF_JSON_ROOT, "spec.hostname", host, sizeof(host)) || !host[0])
        snprintf(host, sizeof(host), "%.63s", p->name);
    struct reef_err err = {0};
    if (reef_pod_sandbox_create(a->pods_dir, p->uid, host, host_net, &p->sb, &err) < 0 ||
        (!host_net && reef_podnet_attach(a->net, p->uid, p->sb.netns, p->ip, &err) < 0) ||
        reef__agent_pod_files(p, d, &err) < 0) {
        event(p, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: %s",
              err.msg);
        reef__agent_arm(p, reef__agent_now_ms() + 10000);
        return false;
    }
    if (host_net) {
        snprintf(nodeip, sizeof(nodeip), "%s", a->host_ip);
        snprintf(p->ip, sizeof(p->ip), "%s", nodeip);
    }
    p->sandbox_ready = true;
    return true;
}

void reef__agent_sync(struct agent_pod *p)
{
    if (p->closing || !p->json)
        return;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, p->json, p->len, NULL, NULL) < 0)
        return;
    if (p->terminating) {
        terminate(p, &d); /* may free p */
        reef_json_doc_free(&d);
        return;
    }
    if (!p->start_ms) {
        char t[40];
        p->start_ms = jstr(&d, REEF_JSON_ROOT, "status.startTime", t, sizeof(t))
                          ? reef_ctl_parse_time(t)
                          : reef__agent_now_ms();
        if (p->start_ms < 0)
            p->start_ms = reef__agent_now_ms();
    }
    char rp_buf[16];
    const char *rp = restart_policy(&d, rp_buf);
    bool privileged_refused = false;
    if (!p->a->allow_privileged) {
        for (size_t i = 0; i < p->nctrs; i++) {
            int spec = spec_of(&d, &p->ctrs[i]);
            int v = spec >= 0 ? reef_json_find(&d, spec, "securityContext.privileged", NULL) : -1;
            bool priv = false;
            if (v >= 0 && reef_json_get_bool(&d, v, &priv, NULL) == 0 && priv) {
                privileged_refused = true;
                if (strcmp(p->ctrs[i].wait_reason, "CreateContainerConfigError") != 0)
                    event(p, "Warning", "Failed",
                          "Error: container %s is privileged and this node does not allow "
                          "privileged pods (reef server --allow-privileged)",
                          p->ctrs[i].name);
                snprintf(p->ctrs[i].wait_reason, sizeof(p->ctrs[i].wait_reason),
                         "CreateContainerConfigError");
                snprintf(p->ctrs[i].wait_msg, sizeof(p->ctrs[i].wait_msg),
                         "privileged containers are not allowed on node %s", p->a->node);
            }
        }
    }
    bool initialized = true, failed = false;
    if (!p->done && !privileged_refused && sandbox(p, &d)) {
        /* init containers, one at a time, in order */
        for (size_t i = 0; i < p->ninit; i++) {
            struct agent_ctr *c = &p->ctrs[i];
            if (c->state == ACTR_EXITED && c->exit_code == 0)
                continue;
            initialized = false;
            if (c->state == ACTR_RUNNING)
                break;
            if (c->state == ACTR_EXITED && strcmp(rp, "Never") == 0) {
                failed = true;
                break;
            }
            start_ctr(p, c, &d);
            break;
        }
        if (initialized && !failed)
            for (size_t i = p->ninit; i < p->nctrs; i++) {
                struct agent_ctr *c = &p->ctrs[i];
                if (c->state == ACTR_RUNNING)
                    continue;
                bool restart = c->state == ACTR_NONE || strcmp(rp, "Always") == 0 ||
                               (strcmp(rp, "OnFailure") == 0 && c->exit_code != 0);
                if (restart)
                    start_ctr(p, c, &d);
            }
    } else {
        initialized = p->ninit == 0;
        for (size_t i = 0; i < p->ninit; i++)
            initialized = p->ctrs[i].state == ACTR_EXITED && p->ctrs[i].exit_code == 0;
    }
    if (p->closing) {
        reef_json_doc_free(&d);
        return;
    }
    /* phase */
    const char *phase = "Pending";
    if (failed) {
        phase = "Failed";
    } else if (initialized && p->sandbox_ready) {
        bool any_running = false, all_exited = true, all_zero = true, restarting = false;
        for (size_t i = p->ninit; i < p->nctrs; i++) {
            const struct agent_ctr *c = &p->ctrs[i];
            any_running |= c->state == ACTR_RUNNING;
            all_exited &= c->state == ACTR_EXITED;
            all_zero &= c->state == ACTR_EXITED && c->exit_code == 0;
            restarting |= c->state == ACTR_EXITED &&
                          (strcmp(rp, "Always") == 0 ||
                           (strcmp(rp, "OnFailure") == 0 && c->exit_code != 0));
        }
        if (all_exited && !restarting)
            phase = all_zero ? "Succeeded" : "Failed";
        else if (any_running || restarting)
            phase = "Running";
    }
    if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)
        p->done = true;
    snprintf(p->phase, sizeof(p->phase), "%s", phase);
    reef__agent_write_status(p, &d, phase, initialized);
    reef_json_doc_free(&d);
}
