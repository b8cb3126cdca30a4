/* kube_logs: `reef logs` for pods, as kubectl logs: GET .../pods/NAME/log per container, streamed
 * to stdout line by line (several containers followed at once on one loop, their lines never
 * mixed within a line). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cmd/cmd.h"
#include "cmd/kube_pod.h"
#include "core/buf.h"

#define MAX_ERROR_BODY (64u << 10)

struct logs_opts {
    bool follow, timestamps, previous, all, prefix, ignore_errors, insecure_backend;
    long long tail, limit_bytes, since_s, max_requests;
    bool tail_given;
    const char *container, *since_time, *selector, *ns, *kcfg;
};

/* One container's log request and what came of it. */
struct stream {
    struct logs_opts *o;
    char pod[256], container[256];
    struct reef_buf path, line, errbody;
    int status;
    bool done;
    int result;
    struct reef_err err;
};

static void out_failed(void)
{
    /* stdout went away (a pipe's reader left): die of it, as a Go program does */
    signal(SIGPIPE, SIG_DFL);
    raise(SIGPIPE);
    exit(1);
}

static void emit(struct stream *s, const char *p, size_t n)
{
    if (s->o->prefix)
        printf("[pod/%s/%s] ", s->pod, s->container);
    if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0)
        out_failed();
}

static int on_head(void *ud, const struct reef_http_response *res)
{
    ((struct stream *)ud)->status = res->status;
    return 0;
}

static int on_data(void *ud, const char *data, size_t len)
{
    struct stream *s = ud;
    if (s->status >= 300) {
        if (s->errbody.len + len > MAX_ERROR_BODY)
            return 0;
        return reef_buf_append(&s->errbody, data, len);
    }
    reef_buf_append(&s->line, data, len);
    /* whole lines only, so streams followed together interleave by line */
    size_t start = 0;
    char *nl;
    while ((nl = memchr(s->line.data + start, '\n', s->line.len - start))) {
        size_t end = (size_t)(nl - s->line.data) + 1;
        emit(s, s->line.data + start, end - start);
        start = end;
    }
    reef_buf_consume(&s->line, start);
    return 0;
}

static void on_done(void *ud, int result, const struct reef_http_response *res,
                    const struct reef_err *err)
{
    struct stream *s = ud;
    s->done = true;
    s->result = result;
    if (result < 0 && err)
        s->err = *err;
    if (res && !s->status)
        s->status = res->status;
    if (result == 0 && s->line.len) {
        emit(s, s->line.data, s->line.len);
        reef_buf_reset(&s->line);
    }
}

/* Prints why a stream failed as kubectl does; returns 1. */
static int report(struct stream *s, struct reef_kube *k)
{
    if (s->result < 0) {
        if (s->err.code == -ECONNREFUSED) {
            const char *hp = strstr(k->cfg.server, "://");
            hp = hp ? hp + 3 : k->cfg.server;
            fprintf(stderr,
                    "The connection to the server %.*s was refused - did you specify the "
                    "right host or port?\n",
                    (int)strcspn(hp, "/"), hp);
            return 1;
        }
        return reef_kube_fail(s->err.msg);
    }
    struct reef_http_result r = {
        .status = s->status, .body = s->errbody.data, .body_len = s->errbody.len};
    if (s->o->ignore_errors) {
        /* kubectl writes a stream's error among the logs and goes on */
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        char msg[1024] = "";
        if (r.body && reef_json_parse(&d, r.body, r.body_len, NULL, NULL) == 0) {
            int v = reef_json_member(&d, REEF_JSON_ROOT, "message");
            if (v >= 0)
                reef_json_get_str(&d, v, msg, sizeof(msg), NULL);
        }
        reef_json_doc_free(&d);
        printf("error: %s\n", msg);
        fflush(stdout);
        return 0;
    }
    reef_kube_print_status(&r);
    return 1;
}

/* Runs streams [0, n) at once to their end (n = 1 for the sequential case). */
static int run_streams(struct reef_kube *k, struct stream *st, size_t n)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) < 0)
        return reef_kube_fail("cannot make an event loop");
    struct reef_http_client_opts opts = k->opts;
    opts.response_timeout_ms = 0;
    struct reef_err err = {0};
    struct reef_http_client *cl = reef_http_client_new(&loop, &opts, &err);
    if (!cl) {
        uv_loop_close(&loop);
        return reef_kube_fail(err.msg);
    }
    struct reef_buf url = REEF_BUF_INIT;
    struct reef_http_header h[2] = {{.name = "Accept", .value = "*/*"},
                                    {.name = "User-Agent", .value = "reef"}};
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        reef_buf_reset(&url);
        reef_buf_puts(&url, k->cfg.server);
        if (url.len && url.data[url.len - 1] == '/')
            url.data[--url.len] = 0;
        reef_buf_puts(&url, st[i].path.data);
        struct reef_http_request rq = {.method = "GET",
                                       .url = url.data,
                                       .headers = h,
                                       .nheaders = 2,
                                       .bearer_token = k->cfg.token,
                                       .on_head = on_head,
                                       .on_data = on_data};
        if (reef_http_client_request(cl, &rq, on_done, &st[i], NULL, &st[i].err) < 0) {
            st[i].done = true;
            st[i].result = st[i].err.code ? st[i].err.code : -EINVAL;
        }
    }
    reef_buf_free(&url);
    for (;;) {
        size_t open = 0;
        for (size_t i = 0; i < n; i++) {
            if (st[i].done && (st[i].result < 0 || st[i].status >= 300) && !st[i].o->ignore_errors)
                goto failed; /* kubectl stops at the first stream that fails */
            open += !st[i].done;
        }
        if (!open || !uv_run(&loop, UV_RUN_ONCE))
            break;
    }
    goto out;
failed:
    for (size_t i = 0; i < n; i++)
        if (st[i].done && (st[i].result < 0 || st[i].status >= 300)) {
            status = report(&st[i], k);
            break;
        }
out:
    for (size_t i = 0; i < n && st[i].o->ignore_errors; i++)
        if (st[i].done && (st[i].result < 0 || st[i].status >= 300))
            report(&st[i], k);
    reef_http_client_free(cl);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return status;
}

static void stream_init(struct stream *s, struct logs_opts *o, const char *ns, const char *pod,
                        const char *container)
{
    memset(s, 0, sizeof(*s));
    s->o = o;
    snprintf(s->pod, sizeof(s->pod), "%s", pod);
    snprintf(s->container, sizeof(s->container), "%s", container);
    reef_buf_init(&s->line);
    reef_buf_init(&s->errbody);
    reef_buf_init(&s->path);
    struct reef_buf *p = &s->path;
    reef_buf_puts(p, "/api/v1/namespaces/");
    reef_kube_escape(p, ns);
    reef_buf_puts(p, "/pods/");
    reef_kube_escape(p, pod);
    reef_buf_puts(p, "/log?container=");
    reef_kube_escape(p, container);
    if (o->follow)
        reef_buf_puts(p, "&follow=true");
    if (o->insecure_backend)
        reef_buf_puts(p, "&insecureSkipTLSVerifyBackend=true");
    if (o->limit_bytes)
        reef_buf_printf(p, "&limitBytes=%lld", o->limit_bytes);
    if (o->previous)
        reef_buf_puts(p, "&previous=true");
    if (o->since_s)
        reef_buf_printf(p, "&sinceSeconds=%lld", o->since_s);
    if (o->since_time) {
        reef_buf_puts(p, "&sinceTime=");
        reef_kube_escape(p, o->since_time);
    }
    if (o->tail >= 0)
        reef_buf_printf(p, "&tailLines=%lld", o->tail);
    if (o->timestamps)
        reef_buf_puts(p, "&timestamps=true");
}

static void stream_free(struct stream *s)
{
    reef_buf_free(&s->path);
    reef_buf_free(&s->line);
    reef_buf_free(&s->errbody);
}

static int push(struct stream **st, size_t *n, struct logs_opts *o, const char *ns, const char *pod,
                const char *container)
{
    struct stream *more = realloc(*st, (*n + 1) * sizeof(**st));
    if (!more)
        return reef_kube_fail("out of memory");
    *st = more;
    stream_init(&(*st)[(*n)++], o, ns, pod, container);
    return 0;
}

/* Appends the requests for one pod: its chosen container, or all of them. 0, or 1 on error. */
static int add_pod(struct logs_opts *o, const struct reef_json_doc *pod, struct stream **st,
                   size_t *n)
{
    char name[256], ns[256];
    reef__kube_pod_name(pod, name, sizeof(name), ns, sizeof(ns));
    char c[256];
    if (o->all) {
        /* kubectl visits init containers, containers, then ephemeral ones */
        const char *lists[3] = {"spec.initContainers", "spec.containers",
                                "spec.ephemeralContainers"};
        for (int l = 0; l < 3; l++) {
            int a = reef_json_find(pod, REEF_JSON_ROOT, lists[l], NULL);
            struct reef_json_iter it = reef_json_iter(pod, a);
            while (a >= 0 && reef_json_next(pod, &it)) {
                int nm = reef_json_member(pod, it.val, "name");
                if (nm >= 0 && reef_json_get_str(pod, nm, c, sizeof(c), NULL) >= 0 &&
                    push(st, n, o, ns, name, c))
                    return 1;
            }
        }
        return 0;
    }
    if (o->container) {
        if (!reef__kube_pod_has_container(pod, o->container)) {
            fprintf(stderr, "error: container %s is not valid for pod %s\n", o->container, name);
            return 1;
        }
        return push(st, n, o, ns, name, o->container);
    }
    int ann = reef_json_find(pod, REEF_JSON_ROOT, "metadata.annotations", NULL);
    int v =
        ann >= 0 ? reef_json_member(pod, ann, "kubectl.kubernetes.io/default-container") : -ENOENT;
    char want[256] = "";
    if (v >= 0)
        reef_json_get_str(pod, v, want, sizeof(want), NULL);
    if (want[0] && !reef__kube_pod_has_container(pod, want))
        fprintf(stderr, "Default container name \"%s\" not found in pod %s\n", want, name);
    if (reef__kube_pod_default_container(pod, false, c, sizeof(c)) < 0) {
        fprintf(stderr, "error: pod %s/%s does not have any containers\n", ns, name);
        return 1;
    }
    return push(st, n, o, ns, name, c);
}

static const char usage_err[] = "error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c "
                                "CONTAINER]'.\nPOD or TYPE/NAME is a required argument for the "
                                "logs command\nSee 'kubectl logs -h' for help and examples\n";

/* A flag value kubectl's flag parser refuses, in its words. */
static int bad_flag(const char *flag, const char *value, const char *why)
{
    bool syntax = strncmp(why, "strconv", 7) == 0;
    fprintf(stderr,
            "Error: invalid argument \"%s\" for \"--%s\" flag: %s \"%s\"%s\n"
            "See 'kubectl logs --help' for usage.\n",
            value, flag, why, value, syntax ? ": invalid syntax" : "");
    return 1;
}

int reef__kube_logs_run(int argc, char **argv)
{
    enum {
        O_KC = 256,
        O_TAIL,
        O_TS,
        O_ALL,
        O_SINCE,
        O_SINCE_TIME,
        O_LIMIT,
        O_PREFIX,
        O_MAXREQ,
        O_IGNORE,
        O_TIMEOUT,
        O_INSECURE,
        O_DATA,
    };
    static const struct option lo[] = {
        {"follow", no_argument, NULL, 'f'},
        {"timestamps", no_argument, NULL, O_TS},
        {"tail", required_argument, NULL, O_TAIL},
        {"container", required_argument, NULL, 'c'},
        {"previous", no_argument, NULL, 'p'},
        {"namespace", required_argument, NULL, 'n'},
        {"kubeconfig", required_argument, NULL, O_KC},
        {"all-containers", no_argument, NULL, O_ALL},
        {"since", required_argument, NULL, O_SINCE},
        {"since-time", required_argument, NULL, O_SINCE_TIME},
        {"limit-bytes", required_argument, NULL, O_LIMIT},
        {"prefix", no_argument, NULL, O_PREFIX},
        {"selector", required_argument, NULL, 'l'},
        {"max-log-requests", required_argument, NULL, O_MAXREQ},
        {"ignore-errors", no_argument, NULL, O_IGNORE},
        {"pod-running-timeout", required_argument, NULL, O_TIMEOUT},
        {"insecure-skip-tls-verify-backend", no_argument, NULL, O_INSECURE},
        {"data-dir", required_argument, NULL, O_DATA},
        {0}};
    struct logs_opts o = {.tail = -1, .max_requests = 5};
    const char *since = NULL;
    long long timeout_s = 20;
    extern const struct reef_cmd reef_cmd_logs;
    reef_kube_permute(argc, argv, "fc:pn:l:t", lo);
    int c;
    while ((c = reef_cmd_getopt(&reef_cmd_logs, argc, argv, "fc:pn:l:t", lo)) != -1) {
        switch (c) {
        case 'h':
            return 0;
        case '?':
            return REEF_EXIT_USAGE;
        case 'f':
            o.follow = true;
            break;
        case 't':
        case O_TS:
            o.timestamps = true;
            break;
        case 'c':
            o.container = optarg;
            break;
        case 'p':
            o.previous = true;
            break;
        case 'n':
            o.ns = optarg;
            break;
        case 'l':
            o.selector = optarg;
            break;
        case O_KC:
            o.kcfg = optarg;
            break;
        case O_ALL:
            o.all = true;
            break;
        case O_PREFIX:
            o.prefix = true;
            break;
        case O_IGNORE:
            o.ignore_errors = true;
            break;
        case O_INSECURE:
            o.insecure_backend = true;
            break;
        case O_SINCE:
            since = optarg;
            break;
        case O_SINCE_TIME:
            o.since_time = optarg;
            break;
        case O_DATA:
            break;
        case O_TIMEOUT:
            if ((timeout_s = reef__kube_duration_s(optarg)) < 0) {
                return bad_flag("pod-running-timeout", optarg, "time: invalid duration");
            }
            break;
        case O_TAIL:
        case O_LIMIT:
        case O_MAXREQ: {
            long long v;
            const char *flag = c == O_TAIL    ? "tail"
                               : c == O_LIMIT ? "limit-bytes"
                                              : "max-log-requests";
            if (reef_str_to_ll(optarg, -(1LL << 62), 1LL << 62, &v) < 0) {
                return bad_flag(flag, optarg, "strconv.ParseInt: parsing");
            }
            if (c == O_TAIL) {
                o.tail = v;
                o.tail_given = true;
            } else if (c == O_LIMIT) {
                o.limit_bytes = v;
            } else {
                o.max_requests = v;
            }
            break;
        }
        }
    }
    int nargs = argc - optind;
    const char *res = nargs >= 1 ? argv[optind] : NULL;
    if (nargs == 0 && !o.selector) {
        fputs(usage_err, stderr);
        return 1;
    }
    if (nargs == 1 && o.selector) {
        fprintf(stderr, "error: only a selector (-l) or a POD name is allowed\nSee 'kubectl "
                        "logs -h' for help and examples\n");
        return 1;
    }
    if (nargs > 2) {
        fputs(usage_err, stderr);
        return 1;
    }
    if (nargs == 2) {
        if (o.container) {
            fprintf(stderr, "error: only one of -c or an inline [CONTAINER] arg is allowed\n");
            return 1;
        }
        o.container = argv[optind + 1];
    }
    if (since) {
        o.since_s = reef__kube_duration_s(since);
        if (o.since_s < 0) {
            return bad_flag("since", since, "time: invalid duration");
        }
    }
    if (o.selector && !o.tail_given)
        o.tail = 10;
    if (o.since_time && o.since_s) {
        fprintf(stderr, "error: at most one of `sinceTime` or `sinceSeconds` may be specified\n");
        return 1;
    }
    if (o.all && o.container) {
        fprintf(stderr,
                "error: --all-containers=true should not be specified with container name %s\n",
                o.container);
        return 1;
    }
    if (o.limit_bytes < 0) {
        fprintf(stderr, "error: --limit-bytes must be greater than 0\n");
        return 1;
    }
    if (o.tail < -1) {
        fprintf(stderr, "error: --tail must be greater than or equal to -1\n");
        return 1;
    }

    struct reef_kube k;
    struct reef_err err = {0};
    if (reef_kube_open(&k, o.kcfg, o.ns, &err) < 0)
        return reef_kube_fail(err.msg);
    struct stream *st = NULL;
    size_t n = 0;
    int status = 0;
    if (o.selector) {
        struct reef_buf path = REEF_BUF_INIT;
        reef_buf_puts(&path, "/api/v1/namespaces/");
        reef_kube_escape(&path, k.ns);
        reef_buf_puts(&path, "/pods?labelSelector=");
        reef_kube_escape(&path, o.selector);
        struct reef_kube_podobj list = {0};
        int rc =
            reef_kube_do(&k, "GET", path.data, "application/json", NULL, NULL, 0, &list.res, &err);
        status = reef__kube_status(rc, &list.res, &err);
        if (!status && reef_json_parse(&list.d, list.res.body, list.res.body_len, NULL, NULL) < 0)
            status = reef_kube_fail("the server's answer is not JSON");
        int items = status ? -1 : reef_json_member(&list.d, REEF_JSON_ROOT, "items");
        if (!status && (items < 0 || reef_json_count(&list.d, items) == 0))
            fprintf(stderr, "No resources found in %s namespace.\n", k.ns);
        struct reef_json_iter it = reef_json_iter(&list.d, items);
        while (!status && items >= 0 && reef_json_next(&list.d, &it)) {
            /* each item as a document of its own */
            size_t len;
            const char *raw = reef_json_raw(&list.d, it.val, &len);
            struct reef_json_doc one = REEF_JSON_DOC_INIT;
            if (reef_json_parse(&one, raw, len, NULL, NULL) == 0)
                status = add_pod(&o, &one, &st, &n);
            reef_json_doc_free(&one);
        }
        reef__kube_podobj_free(&list);
        reef_buf_free(&path);
    } else {
        struct reef_kube_podobj pod;
        status = reef__kube_pod_get(&k, res, REEF_KUBE_PICK_LOGS, timeout_s, &pod);
        if (!status)
            status = add_pod(&o, &pod.d, &st, &n);
        reef__kube_podobj_free(&pod);
    }
    if (!status && o.follow && n > 1) {
        if ((long long)n > o.max_requests) {
            fprintf(stderr,
                    "error: you are attempting to follow %zu log streams, but maximum allowed "
                    "concurrency is %lld, use --max-log-requests to increase the limit\n",
                    n, o.max_requests);
            status = 1;
        } else {
            status = run_streams(&k, st, n);
        }
    } else {
        for (size_t i = 0; i < n && !status; i++)
            status = run_streams(&k, &st[i], 1);
    }
    for (size_t i = 0; i < n; i++)
        stream_free(&st[i]);
    free(st);
    reef_kube_close(&k);
    return status;
}
