/* reef server: the control plane: the store and the Kubernetes API over HTTPS. */
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cmd/cmd.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/tls.h"
#include "orchestrate/agent.h"
#include "orchestrate/apiserver.h"
#include "orchestrate/ctl.h"
#include "orchestrate/endpoints.h"
#include "orchestrate/kubeconfig.h"
#include "orchestrate/pki.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/store.h"
#include "orchestrate/workload.h"

extern const struct reef_cmd reef_cmd_server;

#define MAX_TOKENS 64
#define MAX_SANS 32

struct token {
    char *token;
    struct reef_apiserver_user user;
};

struct server {
    uv_loop_t *loop;
    struct reef_store *store;
    struct reef_apiserver *api;
    struct reef_http_server *http;
    uv_signal_t sigint, sigterm;
    uv_timer_t tick;
    struct token tokens[MAX_TOKENS];
    size_t ntokens;
    struct reef_pki *pki; /* NULL when the credentials come from files */
    int stopping;
    /* the control loops and the embedded agent */
    struct reef_ctl_env env;
    struct reef_scheduler *sched;
    struct reef_workload *workload;
    struct reef_endpoints *endpoints;
    struct reef_agent *agent;
    int64_t events_expired_at;
    size_t watches_seen; /* at the last tick */
};

static bool const_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

static int check_token(void *ud, const char *token, struct reef_apiserver_user *user)
{
    struct server *s = ud;
    if (s->pki && reef_pki_check_token(s->pki, token)) {
        snprintf(user->name, sizeof(user->name), "system:admin");
        snprintf(user->groups[0], sizeof(user->groups[0]), "system:masters");
        user->ngroups = 1;
        return 1;
    }
    for (size_t i = 0; i < s->ntokens; i++)
        if (const_eq(s->tokens[i].token, token)) {
            *user = s->tokens[i].user;
            return 1;
        }
    return 0;
}

/* The static token file of kube-apiserver's --token-auth-file: token,user,uid[,"group1,group2"]. */
static int load_tokens(struct server *s, const char *path, struct reef_err *err)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return reef_err_errno(err, -errno, "open %s", path);
    char line[4096];
    while (fgets(line, sizeof(line), f) && s->ntokens < MAX_TOKENS) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *fields[4] = {0};
        int n = 0;
        char *p = line;
        while (p && n < 4) {
            if (n == 3 && *p == '"') {
                fields[n++] = p + 1;
                char *q = strchr(p + 1, '"');
                if (q)
                    *q = '\0';
                break;
            }
            fields[n++] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        if (n < 2 || !fields[0][0])
            continue;
        struct token *t = &s->tokens[s->ntokens];
        t->token = strdup(fields[0]);
        if (!t->token)
            break;
        reef_strlcpy(t->user.name, fields[1], sizeof(t->user.name));
        for (char *g = fields[3] ? strtok(fields[3], ",") : NULL;
             g && t->user.ngroups < REEF_APISERVER_MAX_GROUPS; g = strtok(NULL, ","))
            reef_strlcpy(t->user.groups[t->user.ngroups++], g, sizeof(t->user.groups[0]));
        s->ntokens++;
    }
    fclose(f);
    return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    if (reef_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
        return -ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_tick(uv_timer_t *t)
{
    struct server *s = t->data;
    int64_t next = 10000;
    struct reef_err err = {0};
    if (reef_store_tick(s->store, now_ms(), &next, &err) < 0)
        LOG_WARN("server", "store: %s", err.msg);
    /* after many watch connections closed, give their buffers back to the system */
    size_t watches = reef_apiserver_watches(s->api);
    if (watches + 256 < s->watches_seen)
        malloc_trim(0);
    s->watches_seen = watches;
    if (now_ms() - s->events_expired_at >= 60000) {
        s->events_expired_at = now_ms();
        reef_ctl_events_expire(&s->env, s->events_expired_at, 0);
    }
    /* A heartbeat written since this tick asked for the next one must reach the disk within
     * the flush interval (10 s), whatever the store said before it arrived. */
    if (next < 100)
        next = 100;
    if (next > 10000)
        next = 10000;
    uv_timer_start(&s->tick, on_tick, (uint64_t)next, 0);
}

static void on_http_closed(void *ud)
{
    struct server *s = ud;
    reef_apiserver_group_commit(s->api, NULL, NULL); /* it uses the HTTP server */
    reef_http_server_free(s->http);
    s->http = NULL;
    reef_apiserver_free(s->api);
    s->api = NULL;
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->tick, NULL);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct server *s = h->data;
    (void)sig;
    if (s->stopping++)
        return;
    LOG_INFO("server", "shutting down");
    /* containers keep running: a restarted server adopts them */
    reef_agent_stop(s->agent);
    s->agent = NULL;
    reef_scheduler_stop(s->sched);
    s->sched = NULL;
    reef_workload_stop(s->workload);
    s->workload = NULL;
    reef_endpoints_stop(s->endpoints);
    s->endpoints = NULL;
    /* watches first: they would hold the HTTP server's grace period */
    reef_apiserver_shutdown(s->api);
    reef_http_server_shutdown(s->http, 2000, on_http_closed, s);
}

static int run(int argc, char **argv)
{
    enum {
        O_DATA = 1000,
        O_BIND,
        O_PORT,
        O_SAN,
        O_KCFG,
        O_KCFG_MODE,
        O_NOAGENT,
        O_CERT,
        O_KEY,
        O_CLIENT_CA,
        O_TOKENS,
        O_NODE_NAME,
        O_PRIVILEGED,
        O_CLUSTER_CIDR,
        O_NO_SCHED,
        O_NO_CM,
        O_REGISTRIES,
    };
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, O_DATA},
        {"bind-address", required_argument, NULL, O_BIND},
        {"https-listen-port", required_argument, NULL, O_PORT},
        {"tls-san", required_argument, NULL, O_SAN},
        {"write-kubeconfig", required_argument, NULL, O_KCFG},
        {"write-kubeconfig-mode", required_argument, NULL, O_KCFG_MODE},
        {"disable-agent", no_argument, NULL, O_NOAGENT},
        {"tls-cert-file", required_argument, NULL, O_CERT},
        {"tls-private-key-file", required_argument, NULL, O_KEY},
        {"client-ca-file", required_argument, NULL, O_CLIENT_CA},
        {"token-auth-file", required_argument, NULL, O_TOKENS},
        {"node-name", required_argument, NULL, O_NODE_NAME},
        {"allow-privileged", no_argument, NULL, O_PRIVILEGED},
        {"cluster-cidr", required_argument, NULL, O_CLUSTER_CIDR},
        {"disable-scheduler", no_argument, NULL, O_NO_SCHED},
        {"disable-controller-manager", no_argument, NULL, O_NO_CM},
        {"private-registry", required_argument, NULL, O_REGISTRIES},
        {0}};
    const char *data_dir = "/var/lib/reef", *bind = "0.0.0.0", *cert = NULL, *key = NULL,
               *client_ca = NULL, *tokens = NULL, *kubeconfig = NULL, *kubeconfig_mode = NULL,
               *node_name = NULL, *cluster_cidr = "10.42.0.0/16", *registries = NULL;
    bool agent = true, privileged = false, scheduler = true, controllers = true;
    const char *sans[MAX_SANS];
    size_t nsans = 0;
    long long port = 6443;
    int c;
    while ((c = reef_cmd_getopt(&reef_cmd_server, argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'h':
            return 0;
        case '?':
            return REEF_EXIT_USAGE;
        case O_DATA:
            data_dir = optarg;
            break;
        case O_BIND:
            bind = optarg;
            break;
        case O_PORT:
            if (reef_str_to_ll(optarg, 1, 65535, &port) < 0)
                return reef_cmd_usage_error(&reef_cmd_server, "bad port '%s'", optarg);
            break;
        case O_CERT:
            cert = optarg;
            break;
        case O_KEY:
            key = optarg;
            break;
        case O_CLIENT_CA:
            client_ca = optarg;
            break;
        case O_TOKENS:
            tokens = optarg;
            break;
        case O_SAN:
            if (nsans == MAX_SANS)
                return reef_cmd_usage_error(&reef_cmd_server, "more than %d --tls-san", MAX_SANS);
            sans[nsans++] = optarg;
            break;
        case O_KCFG:
            kubeconfig = optarg;
            break;
        case O_KCFG_MODE:
            kubeconfig_mode = optarg;
            break;
        case O_NOAGENT:
            agent = false;
            break;
        case O_REGISTRIES:
            registries = optarg;
            break;
        case O_NODE_NAME:
            node_name = optarg;
            break;
        case O_PRIVILEGED:
            privileged = true;
            break;
        case O_CLUSTER_CIDR:
            cluster_cidr = optarg;
            break;
        case O_NO_SCHED:
            scheduler = false;
            break;
        case O_NO_CM:
            controllers = false;
            break;
        default:
            break;
        }
    }
    if (optind < argc)
        return reef_cmd_usage_error(&reef_cmd_server, "unexpected argument '%s'", argv[optind]);
    if (!cert != !key)
        return reef_cmd_usage_error(&reef_cmd_server,
                                    "--tls-cert-file and --tls-private-key-file go together");
    mode_t kmode = 0;
    struct reef_err merr = {0};
    if (kubeconfig_mode && reef_kubeconfig_parse_mode(kubeconfig_mode, &kmode, &merr) < 0)
        return reef_cmd_usage_error(&reef_cmd_server, "%s", merr.msg);
    signal(SIGPIPE, SIG_IGN);
    static struct server s;
    struct reef_err err = {0};
    if (tokens && load_tokens(&s, tokens, &err) < 0) {
        fprintf(stderr, "reef server: %s\n", err.msg);
        return 1;
    }
    char dir[4096], db[4200];
    snprintf(dir, sizeof(dir), "%s/server", data_dir);
    int r = mkdir_p(dir, 0700);
    if (r < 0) {
        fprintf(stderr, "reef server: create %s: %s\n", dir, strerror(-r));
        return 1;
    }
    snprintf(db, sizeof(db), "%s/state.db", dir);
    s.loop = uv_default_loop();
    /* One disk sync per loop iteration for all its writes; answers wait for it (docs/STORE.md). */
    struct reef_store_opts so = {.group_commit = true};
    if (reef_store_open(db, &so, &s.store, &err) < 0) {
        fprintf(stderr, "reef server: %s\n", err.msg);
        return 1;
    }
    struct reef_apiserver_opts ao = {.loop = s.loop,
                                     .store = s.store,
                                     .authn_token = check_token,
                                     .authn_ud = &s,
                                     .https_port = (int)port};
    if (reef_apiserver_new(&ao, &s.api, &err) < 0) {
        fprintf(stderr, "reef server: %s\n", err.msg);
        reef_store_close(s.store);
        return 1;
    }
    struct reef_tls_server_opts to = {
        .cert_file = cert, .key_file = key, .client_ca_file = client_ca};
    if (!cert) {
        /* the cluster CA, serving and admin certificates, admin token, and the kubeconfig */
        struct reef_pki_opts po = {.data_dir = data_dir, .tls_sans = sans, .n_tls_sans = nsans};
        if (reef_pki_ensure(&po, &s.pki, &err) < 0) {
            fprintf(stderr, "reef server: %s\n", err.msg);
            reef_apiserver_free(s.api);
            reef_store_close(s.store);
            return 1;
        }
        reef_pki_tls_server_opts(s.pki, &to);
        char url[128];
        snprintf(url, sizeof(url), "https://127.0.0.1:%lld", port);
        struct reef_kubeconfig_write_opts ko = {.path = kubeconfig,
                                                .mode = kmode,
                                                .server = url,
                                                .ca_pem = reef_pki_ca_pem(s.pki),
                                                .cert_pem = reef_pki_admin_cert_pem(s.pki),
                                                .key_pem = reef_pki_admin_key_pem(s.pki)};
        if (reef_kubeconfig_write(&ko, &err) < 0)
            LOG_WARN("server", "kubeconfig: %s", err.msg);
    }
    struct reef_tls_config *tls = reef_tls_config_server_new(&to, &err);
    if (!tls) {
        fprintf(stderr, "reef server: %s\n", err.msg);
        reef_apiserver_free(s.api);
        reef_store_close(s.store);
        return 1;
    }
    struct reef_http_server_opts ho = {.addr = bind,
                                       .port = (int)port,
                                       .tls = tls,
                                       .handler = reef_apiserver_handle,
                                       .on_head = reef_apiserver_on_head,
                                       .ud = s.api,
                                       .max_connections = 16384};
    s.http = reef_http_server_new(s.loop, &ho, &err);
    reef_tls_config_unref(tls);
    if (!s.http || reef_apiserver_group_commit(s.api, s.http, &err) < 0) {
        fprintf(stderr, "reef server: %s\n", err.msg);
        reef_apiserver_free(s.api);
        reef_store_close(s.store);
        return 1;
    }
    /* the control loops write as the cluster's administrator, through the API */
    s.env.loop = s.loop;
    s.env.store = s.store;
    s.env.api = s.api;
    snprintf(s.env.user.name, sizeof(s.env.user.name), "system:admin");
    snprintf(s.env.user.groups[0], sizeof(s.env.user.groups[0]), "system:masters");
    s.env.user.ngroups = 1;
    s.events_expired_at = now_ms();
    if ((scheduler && reef_scheduler_start(&s.env, &s.sched, &err) < 0) ||
        (controllers && (reef_workload_start(&s.env, &s.workload, &err) < 0 ||
                         reef_endpoints_start(&s.env, &s.endpoints, &err) < 0))) {
        fprintf(stderr, "reef server: %s\n", err.msg);
        return 1;
    }
    if (agent) {
        char host[256] = "", pod_cidr[64];
        if (!node_name) {
            gethostname(host, sizeof(host) - 1);
            for (char *p = host; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            node_name = host;
        }
        /* the first node's share of the cluster CIDR: its first /24 */
        unsigned a = 10, b = 42;
        if (sscanf(cluster_cidr, "%u.%u.", &a, &b) != 2 || a > 255 || b > 255)
            return reef_cmd_usage_error(&reef_cmd_server, "bad --cluster-cidr '%s'",
                                        cluster_cidr);
        snprintf(pod_cidr, sizeof(pod_cidr), "%u.%u.0.0/24", a, b);
        struct reef_agent_opts ag = {.env = &s.env,
                                     .node_name = node_name,
                                     .data_dir = data_dir,
                                     .pod_cidr = pod_cidr,
                                     .bridge = "reef0",
                                     .registries_yaml = registries,
                                     .allow_privileged = privileged};
        if (reef_agent_start(&ag, &s.agent, &err) < 0) {
            fprintf(stderr, "reef server: agent: %s\n", err.msg);
            return 1;
        }
    }
    uv_signal_init(s.loop, &s.sigint);
    uv_signal_init(s.loop, &s.sigterm);
    s.sigint.data = s.sigterm.data = &s;
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_timer_init(s.loop, &s.tick);
    s.tick.data = &s;
    uv_timer_start(&s.tick, on_tick, 1000, 0);
    LOG_INFO("server", "listening on %s:%lld", bind, port);
    uv_run(s.loop, UV_RUN_DEFAULT);
    reef_store_close(s.store);
    for (size_t i = 0; i < s.ntokens; i++)
        free(s.tokens[i].token);
    reef_pki_free(s.pki);
    uv_loop_close(s.loop);
    return 0;
}

const struct reef_cmd reef_cmd_server = {
    .name = "server",
    .summary = "run the control plane and this node's agent: a single-node cluster",
    .usage = "usage: reef server [options]\n"
             "\n"
             "Serves the Kubernetes API over HTTPS, backed by the store in DATA-DIR/server, runs\n"
             "the scheduler and the controllers, and (unless --disable-agent) runs this node's\n"
             "pods: containers in DATA-DIR/containers, addresses from the node's pod CIDR on the\n"
             "bridge reef0.\n"
             "The first start creates the cluster CA, the serving and admin certificates and the\n"
             "admin token in DATA-DIR/server, and writes the admin kubeconfig; certificate files\n"
             "given with --tls-cert-file/--tls-private-key-file are used instead.\n"
             "\n"
             "Options:\n"
             "  --data-dir DIR                 state directory [/var/lib/reef]\n"
             "  --bind-address ADDR            address to listen on [0.0.0.0]\n"
             "  --https-listen-port PORT       [6443]\n"
             "  --tls-san NAME                 extra server certificate name (repeatable)\n"
             "  --write-kubeconfig PATH        where to write the admin kubeconfig "
             "[/etc/reef/reef.yaml]\n"
             "  --write-kubeconfig-mode MODE   its file mode [0600]\n"
             "  --disable-agent                run no node agent in this process: no pods run here\n"
             "  --disable-scheduler            run no scheduler: pods stay unbound\n"
             "  --disable-controller-manager   run no controllers (deployments, replica sets,\n"
             "                                 endpoints)\n"
             "  --node-name NAME               this node's name [the host name]\n"
             "  --allow-privileged             run privileged containers (refused otherwise)\n"
             "  --private-registry FILE        mirrors and credentials for image pulls\n"
             "                                 (default /etc/reef/registries.yaml)\n"
             "  --cluster-cidr CIDR            pod addresses; this node takes its first /24\n"
             "                                 [10.42.0.0/16]\n"
             "  --tls-cert-file FILE           server certificate chain (PEM)\n"
             "  --tls-private-key-file FILE    its key\n"
             "  --client-ca-file FILE          CA that signs client certificates\n"
             "  --token-auth-file FILE         bearer tokens: token,user,uid[,\"group,...\"]\n",
    .run = run,
};
REEF_COMMAND(reef_cmd_server);
