/* reef stats: CPU, memory and process counts of running containers, from their cgroups. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "runtime/cgroup.h"

extern const struct reef_cmd reef_cmd_stats;

struct sample {
    char id[REEF_CTR_ID_LEN + 1];
    char name[128];
    int64_t limit;
    struct reef_cgroup *cg;
    struct reef_cgroup_stats s0, s1;
};

struct collect {
    struct reef_ctrstore *store;
    struct reef_cgroup_layout *layout;
    struct sample *v;
    size_t n, cap;
    char **only;
    int nonly;
};

static int add(void *ud, const char *id)
{
    struct collect *c = ud;
    if (!reef_ctr_shim_alive(c->store, id))
        return 0;
    struct reef_ctr_config cfg;
    if (reef_ctr_load_config(c->store, id, &cfg, NULL) < 0)
        return 0;
    bool wanted = c->nonly == 0;
    for (int i = 0; i < c->nonly && !wanted; i++)
        wanted = strcmp(c->only[i], cfg.name) == 0 || strncmp(id, c->only[i], strlen(c->only[i])) == 0;
    struct reef_cgroup_opts co = {
        .parent = cfg.cgroup_parent && cfg.cgroup_parent[0] ? cfg.cgroup_parent : NULL,
        .name = id,
    };
    struct reef_cgroup *cg = NULL;
    if (wanted && reef_cgroup_open(c->layout, &co, &cg, NULL) == 0) {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 16;
            c->v = realloc(c->v, c->cap * sizeof(*c->v));
        }
        struct sample *s = &c->v[c->n++];
        memset(s, 0, sizeof(*s));
        reef_strlcpy(s->id, id, sizeof(s->id));
        reef_strlcpy(s->name, cfg.name, sizeof(s->name));
        s->limit = cfg.memory;
        s->cg = cg;
    }
    reef_ctr_config_free(&cfg);
    return 0;
}

static void human(double b, char *out, size_t n)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(out, n, i ? "%.2f%s" : "%.0f%s", b, u[i]);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int stats(int argc, char **argv)
{
    static const struct option opts[] = {{"no-stream", no_argument, NULL, 'n'},
                                         {"data-dir", required_argument, NULL, 'D'},
                                         {0}};
    bool stream = true;
    const char *data_flag = NULL;
    int c;
    while ((c = reef_cmd_getopt(&reef_cmd_stats, argc, argv, "", opts)) != -1) {
        if (c == 'h')
            return 0;
        if (c == '?')
            return REEF_EXIT_USAGE;
        if (c == 'n')
            stream = false;
        if (c == 'D')
            data_flag = optarg;
    }
    struct reef_err err = {0};
    struct collect col = {.only = argv + optind, .nonly = argc - optind};
    if (reef_cmd_open_containers(reef_cmd_data_dir(data_flag), &col.store, &err) < 0 ||
        reef_cgroup_layout_detect(NULL, &col.layout, &err) < 0) {
        reef_cmd_error("stats", &err);
        return 1;
    }
    struct sysinfo si;
    sysinfo(&si);
    double host_mem = (double)si.totalram * si.mem_unit;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    do {
        for (size_t i = 0; i < col.n; i++)
            reef_cgroup_free(col.v[i].cg);
        col.n = 0;
        reef_ctr_list(col.store, add, &col, NULL);
        if (col.nonly > 0 && col.n == 0) {
            fprintf(stderr, "reef stats: no such running container: %s\n", argv[optind]);
            return 1;
        }
        int64_t t0 = mono_ns();
        for (size_t i = 0; i < col.n; i++)
            reef_cgroup_stats(col.v[i].cg, &col.v[i].s0, NULL);
        usleep(500000);
        int64_t dt = mono_ns() - t0;
        for (size_t i = 0; i < col.n; i++)
            reef_cgroup_stats(col.v[i].cg, &col.v[i].s1, NULL);
        if (stream)
            printf("\033[2J\033[H");
        printf("%-12s   %-20s %-8s %-22s %-8s %s\n", "CONTAINER ID", "NAME", "CPU %",
               "MEM USAGE / LIMIT", "MEM %", "PIDS");
        for (size_t i = 0; i < col.n; i++) {
            struct sample *s = &col.v[i];
            double cpu = 100.0 * (double)(s->s1.cpu_usage_ns - s->s0.cpu_usage_ns) / (double)dt;
            if (cpu < 0 || cpu > 100.0 * (double)ncpu)
                cpu = 0;
            double limit = s->limit > 0 ? (double)s->limit : host_mem;
            char use[32], lim[32], both[80];
            human((double)s->s1.memory_working_set, use, sizeof(use));
            human(limit, lim, sizeof(lim));
            snprintf(both, sizeof(both), "%s / %s", use, lim);
            printf("%.12s   %-20s %-8s %-22s %-8s %llu\n", s->id, s->name,
                   (snprintf(use, sizeof(use), "%.2f%%", cpu), use), both,
                   (snprintf(lim, sizeof(lim), "%.2f%%",
                             100.0 * (double)s->s1.memory_working_set / limit),
                    lim),
                   (unsigned long long)s->s1.pids_current);
        }
        fflush(stdout);
    } while (stream);
    for (size_t i = 0; i < col.n; i++)
        reef_cgroup_free(col.v[i].cg);
    free(col.v);
    reef_cgroup_layout_free(col.layout);
    reef_ctrstore_close(col.store);
    return 0;
}

const struct reef_cmd reef_cmd_stats = {
    .name = "stats",
    .summary = "show containers' CPU, memory and process use",
    .usage = "usage: reef stats [--no-stream] [CONTAINER...]\n\n"
             "Shows every running container (or the ones named), refreshed continuously.\n\n"
             "Options:\n"
             "      --no-stream      print one sample and exit\n"
             "      --data-dir DIR   reef's state (default /var/lib/reef, or $REEF_DATA_DIR)\n",
    .run = stats,
};
REEF_COMMAND(reef_cmd_stats);
