/* agent_metrics: the node's and its pods' CPU and memory for metrics.k8s.io (`kubectl top`):
 * sampled every 15 s from the containers' cgroups and the node's /proc, rates over the last two
 * samples. */
#include "orchestrate/agent_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fs.h"
#include "runtime/cgroup.h"

#define SAMPLE_MS 15000        /* while someone reads the figures */
#define SAMPLE_IDLE_MS 60000   /* otherwise: an idle node stays idle */
#define READERS_GONE_MS 600000 /* no read for this long: back to the idle rate */

/* CPU time of the whole node in ns (user+nice+system+irq+softirq+steal) from /proc/stat. */
static uint64_t node_cpu_ns(void)
{
    char *text = NULL;
    size_t len = 0;
    if (reef_fs_read_string("/proc/stat", 1 << 20, &text, &len, NULL) < 0)
        return 0;
    unsigned long long v[8] = {0};
    sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
           &v[5], &v[6], &v[7]);
    free(text);
    long hz = sysconf(_SC_CLK_TCK);
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (uint64_t)busy * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
}

static uint64_t node_memory(void)
{
    char *text = NULL;
    size_t len = 0;
    if (reef_fs_read_string("/proc/meminfo", 1 << 20, &text, &len, NULL) < 0)
        return 0;
    unsigned long long total = 0, avail = 0;
    char *p = strstr(text, "MemTotal:");
    if (p)
        sscanf(p, "MemTotal: %llu", &total);
    p = strstr(text, "MemAvailable:");
    if (p)
        sscanf(p, "MemAvailable: %llu", &avail);
    free(text);
    return (total > avail ? total - avail : 0) * 1024;
}

static void sample_ctr(struct reef_agent *a, struct agent_ctr *c, int64_t now)
{
    if (c->state != ACTR_RUNNING || !c->id[0]) {
        c->m_t1 = 0;
        return;
    }
    struct reef_cgroup_opts co = {.name = c->id};
    struct reef_cgroup *cg = NULL;
    struct reef_cgroup_stats st;
    if (reef_cgroup_open(a->cg_layout, &co, &cg, NULL) < 0)
        return;
    if (reef_cgroup_stats(cg, &st, NULL) == 0) {
        if (strcmp(c->m_id, c->id) != 0) { /* a new attempt: no rate across attempts */
            c->m_t1 = 0;
            snprintf(c->m_id, sizeof(c->m_id), "%s", c->id);
        }
        c->m_cpu0 = c->m_cpu1;
        c->m_t0 = c->m_t1;
        c->m_cpu1 = st.cpu_usage_ns;
        c->m_t1 = now;
        c->m_mem = st.memory_working_set;
    }
    reef_cgroup_free(cg);
}

static void sample(struct reef_agent *a)
{
    int64_t now = reef__agent_now_ms();
    a->m_cpu0 = a->m_cpu1;
    a->m_t0 = a->m_t1;
    a->m_cpu1 = node_cpu_ns();
    a->m_t1 = now;
    a->m_mem = node_memory();
    for (struct agent_pod *p = a->pods; p; p = p->next)
        for (size_t i = 0; i < p->nctrs; i++)
            sample_ctr(a, &p->ctrs[i], now);
}

static void on_sample(uv_timer_t *t)
{
    struct reef_agent *a = t->data;
    sample(a);
    bool read = a->m_read_ms && reef__agent_now_ms() - a->m_read_ms < READERS_GONE_MS;
    uv_timer_start(&a->metrics_timer, on_sample, read ? SAMPLE_MS : SAMPLE_IDLE_MS, 0);
}

static uint64_t rate(uint64_t c0, uint64_t c1, int64_t t0, int64_t t1)
{
    if (t1 <= t0 || c1 < c0)
        return 0;
    return (uint64_t)((double)(c1 - c0) * 1000.0 / (double)(t1 - t0));
}

static int node_usage(void *ud, const char *node, struct reef_apiserver_usage *u)
{
    struct reef_agent *a = ud;
    if (strcmp(node, a->node) != 0)
        return -ENOENT;
    int64_t now = reef__agent_now_ms();
    if (!a->m_read_ms || now - a->m_read_ms >= READERS_GONE_MS) {
        /* the first read in a while: sample at the reading rate again from now on */
        uv_timer_start(&a->metrics_timer, on_sample, SAMPLE_MS, 0);
        if (now - a->m_t1 >= 1000)
            sample(a);
    }
    a->m_read_ms = now;
    if (!a->m_t0)
        return -ENOENT;
    u->cpu_nanocores = rate(a->m_cpu0, a->m_cpu1, a->m_t0, a->m_t1);
    u->memory_bytes = a->m_mem;
    u->timestamp_ms = a->m_t1;
    u->window_ms = a->m_t1 - a->m_t0;
    return 0;
}

static int pod_usage(void *ud, const char *ns, const char *name, struct reef_apiserver_usage *u,
                     size_t max, size_t *n)
{
    struct reef_agent *a = ud;
    *n = 0;
    int64_t t = reef__agent_now_ms();
    if (!a->m_read_ms || t - a->m_read_ms >= READERS_GONE_MS)
        uv_timer_start(&a->metrics_timer, on_sample, SAMPLE_MS, 0);
    a->m_read_ms = t;
    for (struct agent_pod *p = a->pods; p; p = p->next) {
        if (p->closing || strcmp(p->ns, ns) != 0 || strcmp(p->name, name) != 0)
            continue;
        int64_t now = reef__agent_now_ms();
        for (size_t i = p->ninit; i < p->nctrs && *n < max; i++) {
            struct agent_ctr *c = &p->ctrs[i];
            /* a container started since the last round: a fresh sample gives its first rate */
            if (strcmp(c->m_id, c->id) != 0 || !c->m_t1 || (!c->m_t0 && now - c->m_t1 >= 1000))
                sample_ctr(a, c, now);
            if (c->state != ACTR_RUNNING || !c->m_t0 || strcmp(c->m_id, c->id) != 0)
                continue;
            struct reef_apiserver_usage *x = &u[(*n)++];
            snprintf(x->name, sizeof(x->name), "%s", c->name);
            x->cpu_nanocores = rate(c->m_cpu0, c->m_cpu1, c->m_t0, c->m_t1);
            x->memory_bytes = c->m_mem;
            x->timestamp_ms = c->m_t1;
            x->window_ms = c->m_t1 - c->m_t0;
        }
        return *n ? 0 : -ENOENT;
    }
    return -ENOENT;
}

int reef__agent_metrics_start(struct reef_agent *a, struct reef_err *err)
{
    int r = reef_cgroup_layout_detect(NULL, &a->cg_layout, err);
    if (r < 0)
        return r;
    uv_timer_init(a->env.loop, &a->metrics_timer);
    a->metrics_timer.data = a;
    sample(a);
    /* a second sample soon, so figures exist a few seconds after start */
    uv_timer_start(&a->metrics_timer, on_sample, 2000, 0);
    struct reef_apiserver_metrics m = {node_usage, pod_usage, a};
    reef_apiserver_set_metrics(a->env.api, &m);
    return 0;
}

void reef__agent_metrics_stop(struct reef_agent *a)
{
    reef_apiserver_set_metrics(a->env.api, NULL);
    uv_close((uv_handle_t *)&a->metrics_timer, NULL);
}
