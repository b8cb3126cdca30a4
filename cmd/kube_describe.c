/* reef describe: the command. It resolves the types and names as kubectl's resource builder does
 * (TYPE[,TYPE] [NAME...], TYPE/NAME..., -l, -A; a missing single name falls back to the objects
 * whose names it prefixes), GETs every object and hands it to its kind's describer
 * (kube_describe_core.c, _pod.c, _apps.c; the writer and shared sections in _out.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/kube.h"
#include "cmd/kube_describe.h"
#include "core/json.h"
#include "orchestrate/tables.h"

extern const struct reef_cmd reef_cmd_describe;

/* ---- the command ---- */

struct describe_opts {
    const char *kcfg, *ns, *selector;
    bool all_ns;
};

/* Describes object d (the answer to a GET of it) of type t into c->out. */
static void describe_object(struct reef__desc *c, const struct reef_kube_type *t,
                            const struct reef_json_doc *d)
{
    int v = REEF_JSON_ROOT;
    const char *k = t->kind;
    if (strcmp(k, "Pod") == 0)
        reef__describe_pod(c, d, v);
    else if (strcmp(k, "Deployment") == 0)
        reef__describe_deployment(c, d, v);
    else if (strcmp(k, "ReplicaSet") == 0)
        reef__describe_replicaset(c, d, v);
    else if (strcmp(k, "Node") == 0)
        reef__describe_node(c, d, v);
    else if (strcmp(k, "Service") == 0)
        reef__describe_service(c, d, v);
    else if (strcmp(k, "Namespace") == 0)
        reef__describe_namespace(c, d, v);
    else if (strcmp(k, "ConfigMap") == 0)
        reef__describe_configmap(c, d, v);
    else if (strcmp(k, "Secret") == 0)
        reef__describe_secret(c, d, v);
    else if (strcmp(k, "Endpoints") == 0)
        reef__describe_endpoints(c, d, v);
    else if (strcmp(k, "EndpointSlice") == 0)
        reef__describe_endpointslice(c, d, v);
    else
        reef__describe_generic(c, d, v);
    reef__desc_flush(c);
}

/* GETs and describes one object. Returns 0 and leaves the text in c->out; 404 with *res kept for
 * the caller (not printed); 1 after printing another error. */
static int describe_one(struct reef__desc *c, const struct reef_kube_type *t, const char *ns,
                        const char *name, struct reef_http_result *res)
{
    struct reef_buf path;
    reef_buf_init(&path);
    reef_kube_path(&path, t, ns, name);
    struct reef_err err = {0};
    int rc = reef_kube_do(c->k, "GET", path.data, "application/json", NULL, NULL, 0, res, &err);
    reef_buf_free(&path);
    if (rc < 0)
        return reef_kube_fail(err.msg);
    if (res->status == 404)
        return 404;
    if (res->status >= 300) {
        reef_kube_print_status(res);
        return 1;
    }
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    if (reef_json_parse(&d, res->body, res->body_len, NULL, NULL) < 0)
        return reef_kube_fail("the server's answer is not JSON");
    describe_object(c, t, &d);
    reef_json_doc_free(&d);
    return 0;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* Names and namespaces of the objects of type t listed with the options, 500 at a time: 0, or 1
 * after printing the error. Both arrays end with NULL; the caller frees them with strv_free. */
static int list_names(struct reef__desc *c, const struct reef_kube_type *t,
                      const struct describe_opts *o, char ***names, char ***nss)
{
    size_t n = 0, cap = 16;
    char **nm = calloc(cap + 1, sizeof(*nm)), **sp = calloc(cap + 1, sizeof(*sp));
    char *cont = NULL;
    int status = 0;
    if (!nm || !sp) {
        free(nm);
        free(sp);
        return reef_kube_fail("out of memory");
    }
    do {
        struct reef_buf path;
        reef_buf_init(&path);
        reef_kube_path(&path, t, o->all_ns ? NULL : c->k->ns, NULL);
        reef_buf_puts(&path, "?limit=500");
        if (o->selector) {
            reef_buf_puts(&path, "&labelSelector=");
            reef_kube_escape(&path, o->selector);
        }
        if (cont) {
            reef_buf_puts(&path, "&continue=");
            reef_kube_escape(&path, cont);
            free(cont);
            cont = NULL;
        }
        struct reef_http_result res = {0};
        struct reef_err err = {0};
        int rc =
            reef_kube_do(c->k, "GET", path.data, "application/json", NULL, NULL, 0, &res, &err);
        reef_buf_free(&path);
        status = reef__kube_status(rc, &res, &err);
        struct reef_json_doc d = REEF_JSON_DOC_INIT;
        if (!status && reef_json_parse(&d, res.body, res.body_len, NULL, NULL) < 0)
            status = reef_kube_fail("the server's answer is not JSON");
        if (!status) {
            int items = reef__dj(&d, REEF_JSON_ROOT, "items");
            struct reef_json_iter it = reef_json_iter(&d, items);
            while (items >= 0 && reef_json_next(&d, &it)) {
                if (n == cap) {
                    char **a = realloc(nm, (cap * 2 + 1) * sizeof(*a));
                    if (a)
                        nm = a;
                    char **b = a ? realloc(sp, (cap * 2 + 1) * sizeof(*b)) : NULL;
                    if (b)
                        sp = b;
                    if (!a || !b)
                        break;
                    cap *= 2;
                }
                char *s = NULL;
                int x = reef__dj(&d, it.val, "metadata.name");
                if (x >= 0)
                    reef_json_get_strdup(&d, x, &s, NULL);
                nm[n] = s ? s : strdup("");
                s = NULL;
                x = reef__dj(&d, it.val, "metadata.namespace");
                if (x >= 0)
                    reef_json_get_strdup(&d, x, &s, NULL);
                sp[n] = s ? s : strdup("");
                n++;
                nm[n] = sp[n] = NULL;
            }
            int cv = reef__dj(&d, REEF_JSON_ROOT, "metadata.continue");
            if (cv >= 0)
                reef_json_get_strdup(&d, cv, &cont, NULL);
            if (cont && !*cont) {
                free(cont);
                cont = NULL;
            }
        }
        reef_json_doc_free(&d);
        reef_http_result_free(&res);
    } while (!status && cont);
    free(cont);
    if (status) {
        strv_free(nm);
        strv_free(sp);
        return status;
    }
    *names = nm;
    *nss = sp;
    return 0;
}

/* What kubectl writes between described objects: nothing before the first, a blank line pair
 * before the others. */
static void emit(struct reef__desc *c, bool *first)
{
    if (!*first)
        fputs("\n\n", stdout);
    *first = false;
    fwrite(c->out.data ? c->out.data : "", 1, c->out.len, stdout);
    reef__desc_reset(c);
}

/* Describes the named objects (kubectl's resource/name arguments), then prints the errors of the
 * missing ones. When kubectl's builder had exactly two arguments and one object is missing, it
 * retries them as TYPE and NAME prefix (DescribeMatchingResources): "pods we" describes the pods
 * whose names start with "we"; two TYPE/NAME arguments then print only the error, and several
 * types refuse. Returns the exit status. */
static int describe_names(struct reef__desc *c, const struct reef_kube_type **tn,
                          const char **names, size_t nnames, int nargs, bool slash, bool multi)
{
    int status = 0;
    struct reef_http_result *res = calloc(nnames, sizeof(*res));
    char **text = calloc(nnames, sizeof(*text));
    int *rc = calloc(nnames, sizeof(*rc));
    if (!res || !text || !rc) {
        free(res);
        free(text);
        free(rc);
        return reef_kube_fail("out of memory");
    }
    size_t nmissing = 0;
    for (size_t i = 0; i < nnames; i++) {
        rc[i] = describe_one(c, tn[i], c->k->ns, names[i], &res[i]);
        if (rc[i] == 0)
            text[i] = c->out.data ? strndup(c->out.data, c->out.len) : strdup("");
        else if (rc[i] == 404)
            nmissing++;
        else
            status = 1;
        reef__desc_reset(c);
    }
    bool matching = nargs == 2 && nmissing == 1 && !status;
    if (matching && multi) {
        fprintf(stderr, "error: you may only specify a single resource type\n");
        status = 1;
    } else if (matching && !slash) {
        char **nm = NULL, **sp = NULL;
        struct describe_opts all = {0};
        bool shown = false;
        if (list_names(c, tn[0], &all, &nm, &sp) == 0) {
            for (size_t j = 0; nm[j]; j++) {
                if (strncmp(nm[j], names[0], strlen(names[0])) != 0)
                    continue;
                struct reef_http_result r2 = {0};
                if (describe_one(c, tn[0], sp[j], nm[j], &r2) == 0) {
                    /* each one followed by a blank line, unlike the usual separators */
                    fwrite(c->out.data ? c->out.data : "", 1, c->out.len, stdout);
                    putchar('\n');
                    shown = true;
                }
                reef__desc_reset(c);
                reef_http_result_free(&r2);
            }
        }
        strv_free(nm);
        strv_free(sp);
        if (!shown) {
            reef_kube_print_status(&res[0]);
            status = 1;
        }
    } else {
        bool first = true;
        for (size_t i = 0; i < nnames && !matching; i++) {
            if (!text[i])
                continue;
            if (!first)
                fputs("\n\n", stdout);
            first = false;
            fputs(text[i], stdout);
        }
        for (size_t i = 0; i < nnames; i++) {
            if (rc[i] == 404) {
                reef_kube_print_status(&res[i]);
                status = 1;
            }
        }
    }
    for (size_t i = 0; i < nnames; i++) {
        reef_http_result_free(&res[i]);
        free(text[i]);
    }
    free(res);
    free(text);
    free(rc);
    return status;
}

/* Describes every object of the types listed with the options. Returns the exit status. */
static int describe_lists(struct reef__desc *c, const struct reef_kube_type **types, size_t ntypes,
                          const struct describe_opts *o)
{
    int status = 0;
    bool first = true;
    size_t found = 0;
    for (size_t ti = 0; ti < ntypes && !status; ti++) {
        char **nm = NULL, **sp = NULL;
        status = list_names(c, types[ti], o, &nm, &sp);
        for (size_t j = 0; nm && nm[j]; j++) {
            struct reef_http_result res = {0};
            int rc = describe_one(c, types[ti], sp[j], nm[j], &res);
            if (rc == 0)
                emit(c, &first);
            else if (rc == 404)
                reef_kube_print_status(&res);
            if (rc)
                status = 1;
            reef_http_result_free(&res);
            found++;
        }
        strv_free(nm);
        strv_free(sp);
    }
    if (!status && !found) {
        if (o->all_ns)
            fprintf(stderr, "No resources found\n");
        else
            fprintf(stderr, "No resources found in %s namespace.\n", c->k->ns);
    }
    return status;
}

/* ",VALUE," for a lookup in a comma-separated list (values with commas never match) */
static const char *optarg_sep(const char *v)
{
    static char buf[64];
    if (strchr(v, ',') || strlen(v) + 3 > sizeof(buf))
        return "\x01";
    snprintf(buf, sizeof(buf), ",%s,", v);
    return buf;
}

static int run_describe(int argc, char **argv)
{
    enum { O_KC = 256, O_EVENTS };
    static const struct option lo[] = {{"namespace", required_argument, NULL, 'n'},
                                       {"all-namespaces", no_argument, NULL, 'A'},
                                       {"selector", required_argument, NULL, 'l'},
                                       {"kubeconfig", required_argument, NULL, O_KC},
                                       {"show-events", optional_argument, NULL, O_EVENTS},
                                       {0}};
    struct describe_opts o = {0};
    bool show_events = true;
    int ch;
    reef_kube_permute(argc, argv, "n:Al:", lo);
    while ((ch = reef_cmd_getopt(&reef_cmd_describe, argc, argv, "n:Al:", lo)) != -1) {
        switch (ch) {
        case 'n':
            o.ns = optarg;
            break;
        case 'A':
            o.all_ns = true;
            break;
        case 'l':
            o.selector = optarg;
            break;
        case O_KC:
            o.kcfg = optarg;
            break;
        case O_EVENTS:
            /* strconv.ParseBool's spellings */
            if (!optarg || strstr(",1,t,T,TRUE,true,True,", optarg_sep(optarg)))
                show_events = true;
            else if (strstr(",0,f,F,FALSE,false,False,", optarg_sep(optarg)))
                show_events = false;
            else {
                fprintf(stderr,
                        "Error: invalid argument \"%s\" for \"--show-events\" flag: "
                        "strconv.ParseBool: parsing \"%s\": invalid syntax\n"
                        "See 'reef describe --help' for usage.\n",
                        optarg, optarg);
                return 1;
            }
            break;
        case 'h':
            return 0;
        default:
            return REEF_EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs == 0) {
        fprintf(stderr, "error: You must specify the type of resource to describe. Use \"kubectl "
                        "api-resources\" for a complete list of supported resources.\n");
        return 1;
    }
    /* TYPE/NAME... or TYPE[,TYPE] [NAME...] */
    bool slash = strchr(args[0], '/') != NULL;
    const struct reef_kube_type *types[16];
    size_t ntypes = 0;
    const struct reef_kube_type *tn[256];
    const char *names[256];
    size_t nnames = 0;
    if (slash) {
        for (int i = 0; i < nargs && nnames < 256; i++) {
            char *s = strchr(args[i], '/');
            if (!s) {
                fprintf(stderr, "error: there is no need to specify a resource type as a separate "
                                "argument when passing arguments in resource/name form (e.g. "
                                "'kubectl get resource/<resource_name>' instead of 'kubectl get "
                                "resource resource/<resource_name>'\n");
                return 1;
            }
            *s = 0;
            tn[nnames] = reef_kube_type_find(args[i]);
            if (!tn[nnames]) {
                fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", args[i]);
                return 1;
            }
            names[nnames++] = s + 1;
        }
    } else {
        /* TYPE,TYPE: every name of every type, types first */
        for (char *tok = args[0]; tok && ntypes < 16;) {
            char *comma = strchr(tok, ',');
            if (comma)
                *comma = 0;
            types[ntypes] = reef_kube_type_find(tok);
            if (!types[ntypes]) {
                fprintf(stderr, "error: the server doesn't have a resource type \"%s\"\n", tok);
                return 1;
            }
            ntypes++;
            tok = comma ? comma + 1 : NULL;
        }
        for (size_t ti = 0; ti < ntypes; ti++)
            for (int i = 1; i < nargs && nnames < 256; i++) {
                tn[nnames] = types[ti];
                names[nnames++] = args[i];
            }
    }
    if (nnames && o.selector) {
        fprintf(stderr, "error: name cannot be provided when a selector is specified\n");
        return 1;
    }
    if (nnames && o.all_ns) {
        fprintf(stderr, "error: a resource cannot be retrieved by name across all namespaces\n");
        return 1;
    }
    struct reef_kube k;
    struct reef_err err = {0};
    if (reef_kube_open(&k, o.kcfg, o.ns, &err) < 0)
        return reef_kube_fail(err.msg);
    struct reef__desc c = {.k = &k, .show_events = show_events};
    reef_buf_init(&c.pend);
    reef_buf_init(&c.out);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    c.now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int status = nnames ? describe_names(&c, tn, names, nnames, nargs, slash, ntypes > 1)
                        : describe_lists(&c, types, ntypes, &o);
    fflush(stdout);
    reef__desc_reset(&c);
    free(c.strs);
    reef_buf_free(&c.pend);
    reef_buf_free(&c.out);
    reef_kube_close(&k);
    return status;
}

const struct reef_cmd reef_cmd_describe = {
    .name = "describe",
    .summary = "show details of objects and their events, as kubectl describe",
    .usage =
        "usage: reef describe TYPE[,TYPE] [NAME...] | TYPE/NAME... [-l SELECTOR] [-n NS] [-A]\n"
        "                     [--show-events=false] [--kubeconfig FILE]\n",
    .run = run_describe,
};
REEF_COMMAND(reef_cmd_describe);
