/* Tests for orchestrate/tables: for each resource, objects as the API server stores them (files
 * in tests/unit/tables/<resource>.json) against the columns and cells written by hand in
 * <resource>.expected.json; the two Tables captured from kubectl's point of view in
 * kube-samples; the pod STATUS logic case by case; AGE formatting; the document's shape
 * (row.object, includeObject, watch-event tables); bad input; speed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/json.h"
#include "orchestrate/tables.h"
#include "tests/unit/test.h"

/* 2026-11-28T13:00:00Z, the "now" of every fixture. */
#define NOW 1795870800

static char *load(const char *name, size_t *len)
{
    const char *src = getenv("REEF_SRC");
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/unit/tables/%s", src && *src ? src : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        TEST_FAIL("cannot open %s", path);
    struct reef_buf b = REEF_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        CHECK(reef_buf_append(&b, chunk, n) == 0);
    fclose(f);
    *len = b.len;
    return reef_buf_steal(&b);
}

static void parse(struct reef_json_doc *d, const char *s, size_t n)
{
    struct reef_err err = {0};
    if (reef_json_parse(d, s, n, NULL, &err) < 0)
        TEST_FAIL("parse: %s", err.msg);
}

/* The table of every item of list file `file`. The caller frees the result. */
static char *table_of(const char *resource, const char *file, const struct reef_table_opts *base)
{
    size_t n;
    char *src = load(file, &n);
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    parse(&d, src, n);
    struct reef_table_opts o = {.resource = resource, .now = NOW, .wide = true};
    if (base)
        o = *base;
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_table t;
    char rv[64] = "";
    reef_json_get_str(&d, reef_json_find(&d, 0, "metadata.resourceVersion", NULL), rv, sizeof(rv),
                      NULL);
    if (!o.resource_version)
        o.resource_version = rv;
    reef_table_begin(&t, &out, &o);
    struct reef_json_iter it = reef_json_iter(&d, reef_json_member(&d, 0, "items"));
    while (reef_json_next(&d, &it))
        CHECK_INT(reef_table_add(&t, &d, it.val), ==, 0);
    struct reef_err err = {0};
    CHECK_OK(reef_table_end(&t, &err), &err);
    reef_json_doc_free(&d);
    free(src);
    return reef_buf_steal(&out);
}

static void print_value(const struct reef_json_doc *d, int v)
{
    size_t n;
    const char *p = reef_json_raw(d, v, &n);
    fprintf(stderr, "%.*s", (int)n, p ? p : "?");
}

/* Checks the table of `resource` (list file <file>.json) against <file>.expected.json. */
static void check_resource(const char *resource, const char *file)
{
    char in[256], exp[256];
    snprintf(in, sizeof(in), "%s.json", file);
    snprintf(exp, sizeof(exp), "%s.expected.json", file);
    char *table = table_of(resource, in, NULL);
    size_t n;
    char *want = load(exp, &n);
    struct reef_json_doc t = REEF_JSON_DOC_INIT, e = REEF_JSON_DOC_INIT, items = REEF_JSON_DOC_INIT;
    parse(&t, table, strlen(table));
    parse(&e, want, n);
    size_t inn;
    char *input = load(in, &inn);
    parse(&items, input, inn);

    CHECK(reef_json_str_eq(&t, reef_json_member(&t, 0, "kind"), "Table"));
    CHECK(reef_json_str_eq(&t, reef_json_member(&t, 0, "apiVersion"), "meta.k8s.io/v1"));
    CHECK(reef_json_equal(&t, reef_json_find(&t, 0, "metadata.resourceVersion", NULL), &items,
                          reef_json_find(&items, 0, "metadata.resourceVersion", NULL)));

    int cols = reef_json_member(&t, 0, "columnDefinitions");
    int ecols = reef_json_member(&e, 0, "columns");
    CHECK_INT(reef_json_count(&t, cols), ==, reef_json_count(&e, ecols));
    struct reef_json_iter it = reef_json_iter(&t, cols);
    while (reef_json_next(&t, &it)) {
        int ec = reef_json_index(&e, ecols, (size_t)it.index);
        static const char *const keys[] = {"name", "type", "format", "priority"};
        for (size_t k = 0; k < 4; k++) {
            int got = reef_json_member(&t, it.val, keys[k]);
            int w = reef_json_index(&e, ec, k);
            if (!reef_json_equal(&t, got, &e, w)) {
                fprintf(stderr, "  column %d %s: got ", it.index, keys[k]);
                print_value(&t, got);
                fprintf(stderr, ", want ");
                print_value(&e, w);
                fprintf(stderr, "\n");
                TEST_FAIL("%s: column definitions differ", resource);
            }
        }
        int desc = reef_json_member(&t, it.val, "description");
        CHECK(reef_json_kind(&t, desc) == REEF_JSON_STRING);
        CHECK(!reef_json_str_eq(&t, desc, ""));
    }

    int rows = reef_json_member(&t, 0, "rows");
    int erows = reef_json_member(&e, 0, "rows");
    int econds = reef_json_member(&e, 0, "conditions");
    int eitems = reef_json_member(&items, 0, "items");
    CHECK_INT(reef_json_count(&t, rows), ==, reef_json_count(&e, erows));
    it = reef_json_iter(&t, rows);
    while (reef_json_next(&t, &it)) {
        int cells = reef_json_member(&t, it.val, "cells");
        int ecells = reef_json_index(&e, erows, (size_t)it.index);
        if (!reef_json_equal(&t, cells, &e, ecells)) {
            fprintf(stderr, "  row %d: got ", it.index);
            print_value(&t, cells);
            fprintf(stderr, "\n  want       ");
            print_value(&e, ecells);
            fprintf(stderr, "\n");
            TEST_FAIL("%s: cells differ", resource);
        }
        /* row.object: PartialObjectMetadata with the object's metadata, verbatim. */
        int obj = reef_json_member(&t, it.val, "object");
        CHECK(reef_json_str_eq(&t, reef_json_member(&t, obj, "kind"), "PartialObjectMetadata"));
        CHECK(reef_json_str_eq(&t, reef_json_member(&t, obj, "apiVersion"), "meta.k8s.io/v1"));
        int item = reef_json_index(&items, eitems, (size_t)it.index);
        CHECK(reef_json_equal(&t, reef_json_member(&t, obj, "metadata"), &items,
                              reef_json_member(&items, item, "metadata")));
        int cond = reef_json_member(&t, it.val, "conditions");
        int econd = econds >= 0 ? reef_json_index(&e, econds, (size_t)it.index) : -1;
        if (econd < 0 || reef_json_is_null(&e, econd)) {
            CHECK(cond == -ENOENT);
        } else {
            CHECK(reef_json_str_eq(&t, reef_json_find(&t, cond, "[0].type", NULL), "Completed"));
            CHECK(reef_json_str_eq(&t, reef_json_find(&t, cond, "[0].status", NULL), "True"));
            CHECK(reef_json_equal(&t, reef_json_find(&t, cond, "[0].reason", NULL), &e, econd));
        }
    }
    reef_json_doc_free(&t);
    reef_json_doc_free(&e);
    reef_json_doc_free(&items);
    free(table);
    free(want);
    free(input);
}

static void test_pods(void)
{
    check_resource("pods", "pods");
}
static void test_nodes(void)
{
    check_resource("nodes", "nodes");
}
static void test_namespaces(void)
{
    check_resource("namespaces", "namespaces");
}
static void test_services(void)
{
    check_resource("services", "services");
}
static void test_endpoints(void)
{
    check_resource("endpoints", "endpoints");
}
static void test_configmaps(void)
{
    check_resource("configmaps", "configmaps");
}
static void test_secrets(void)
{
    check_resource("secrets", "secrets");
}
static void test_events(void)
{
    check_resource("events", "events");
}
static void test_leases(void)
{
    check_resource("leases.coordination.k8s.io", "leases");
}
static void test_deployments(void)
{
    check_resource("deployments.apps", "deployments");
}
static void test_replicasets(void)
{
    check_resource("replicasets", "replicasets");
}
static void test_endpointslices(void)
{
    check_resource("endpointslices.discovery.k8s.io", "endpointslices");
}
static void test_default_printer(void)
{
    check_resource("widgets.example.com", "widgets.example.com");
}

/* The whole document, byte for byte in meaning, for one resource. */
static void test_full_document(void)
{
    char *table = table_of("leases", "leases.json", NULL);
    size_t n;
    char *want = load("leases.table.json", &n);
    struct reef_json_doc t = REEF_JSON_DOC_INIT, e = REEF_JSON_DOC_INIT;
    parse(&t, table, strlen(table));
    parse(&e, want, n);
    CHECK(reef_json_equal(&t, 0, &e, 0));
    /* Upstream's member order: kind, apiVersion, metadata, columnDefinitions, rows. */
    CHECK(strncmp(table,
                  "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":", 56) == 0);
    CHECK(strstr(table, "\"columnDefinitions\":[") < strstr(table, "\"rows\":["));
    reef_json_doc_free(&t);
    reef_json_doc_free(&e);
    free(table);
    free(want);
}

/* Without wide, priority-1 columns and their cells are left out, whatever their position. */
static void test_not_wide(void)
{
    struct reef_table_opts o = {.resource = "events", .now = NOW, .wide = false};
    char *table = table_of("events", "events.json", &o);
    struct reef_json_doc t = REEF_JSON_DOC_INIT, e = REEF_JSON_DOC_INIT;
    parse(&t, table, strlen(table));
    static const char want_cols[] = "[\"Last Seen\",\"Type\",\"Reason\",\"Object\",\"Message\"]";
    parse(&e, want_cols, strlen(want_cols));
    int cols = reef_json_member(&t, 0, "columnDefinitions");
    CHECK_INT(reef_json_count(&t, cols), ==, 5);
    for (size_t i = 0; i < 5; i++)
        CHECK(reef_json_equal(&t, reef_json_find(&t, reef_json_index(&t, cols, i), "name", NULL),
                              &e, reef_json_index(&e, 0, i)));
    static const char want_row[] =
        "[\"2m\",\"Normal\",\"Pulled\",\"pod/web-7d4b9c-x2k8p\","
        "\"Container image \\\"nginx:1.27\\\" already present on machine\"]";
    parse(&e, want_row, strlen(want_row));
    CHECK(reef_json_equal(&t, reef_json_find(&t, 0, "rows[0].cells", NULL), &e, 0));
    reef_json_doc_free(&t);
    reef_json_doc_free(&e);
    free(table);
}

/* Without wide, load-balancer addresses are clipped to 16 characters, as upstream does. */
static void test_not_wide_clips_lb(void)
{
    struct reef_table_opts o = {.resource = "services", .now = NOW, .wide = false};
    char *table = table_of("services", "services.json", &o);
    struct reef_json_doc t = REEF_JSON_DOC_INIT;
    parse(&t, table, strlen(table));
    CHECK_INT(reef_json_count(&t, reef_json_member(&t, 0, "columnDefinitions")), ==, 6);
    CHECK(
        reef_json_str_eq(&t, reef_json_find(&t, 0, "rows[2].cells[3]", NULL), "198.51.100.20..."));
    CHECK_INT(reef_json_count(&t, reef_json_find(&t, 0, "rows[2].cells", NULL)), ==, 6);
    /* External IPs that are not the load balancer's are never clipped. */
    CHECK(reef_json_str_eq(&t, reef_json_find(&t, 0, "rows[1].cells[3]", NULL),
                           "192.0.2.10,192.0.2.11"));
    reef_json_doc_free(&t);
    free(table);
}

/* %v of a cell, as kubectl prints it: strings as they are, numbers as written. */
static void cell_text(const struct reef_json_doc *d, int v, char *dst, size_t size)
{
    if (reef_json_kind(d, v) == REEF_JSON_STRING) {
        reef_json_get_str(d, v, dst, size, NULL);
    } else {
        size_t n;
        const char *p = reef_json_raw(d, v, &n);
        snprintf(dst, size, "%.*s", (int)n, p);
    }
}

/* The captured sample shows kubectl's view: column names, types, formats and priorities, cells
 * as printed, and row.object. Its descriptions are placeholders of the probe that captured it,
 * and its Restarts cell is the number 0 where upstream sends the string "0" (both print 0). */
static void check_sample(const char *resource, const char *object, const char *sample, int64_t now)
{
    size_t n;
    char *want = load(sample, &n);
    struct reef_json_doc s = REEF_JSON_DOC_INIT, o = REEF_JSON_DOC_INIT, t = REEF_JSON_DOC_INIT;
    parse(&s, want, n);
    parse(&o, object, strlen(object));
    struct reef_table_opts opts = {
        .resource = resource, .now = now, .wide = true, .resource_version = "105"};
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_table tb;
    reef_table_begin(&tb, &out, &opts);
    CHECK_INT(reef_table_add(&tb, &o, 0), ==, 0);
    struct reef_err err = {0};
    CHECK_OK(reef_table_end(&tb, &err), &err);
    parse(&t, out.data, out.len);

    static const char *const top[] = {"kind", "apiVersion", "metadata"};
    for (size_t i = 0; i < 3; i++)
        CHECK(reef_json_equal(&t, reef_json_member(&t, 0, top[i]), &s,
                              reef_json_member(&s, 0, top[i])));
    int tc = reef_json_member(&t, 0, "columnDefinitions");
    int sc = reef_json_member(&s, 0, "columnDefinitions");
    CHECK_INT(reef_json_count(&t, tc), ==, reef_json_count(&s, sc));
    struct reef_json_iter it = reef_json_iter(&s, sc);
    while (reef_json_next(&s, &it)) {
        static const char *const keys[] = {"name", "type", "format", "priority"};
        int mine = reef_json_index(&t, tc, (size_t)it.index);
        for (size_t k = 0; k < 4; k++)
            CHECK(reef_json_equal(&t, reef_json_member(&t, mine, keys[k]), &s,
                                  reef_json_member(&s, it.val, keys[k])));
    }
    int tcells = reef_json_find(&t, 0, "rows[0].cells", NULL);
    int scells = reef_json_find(&s, 0, "rows[0].cells", NULL);
    CHECK_INT(reef_json_count(&t, tcells), ==, reef_json_count(&s, scells));
    it = reef_json_iter(&s, scells);
    while (reef_json_next(&s, &it)) {
        char a[256], b[256];
        cell_text(&s, it.val, a, sizeof(a));
        cell_text(&t, reef_json_index(&t, tcells, (size_t)it.index), b, sizeof(b));
        CHECK_STR(b, a);
    }
    CHECK_INT(reef_json_count(&t, reef_json_member(&t, 0, "rows")), ==, 1);
    CHECK(reef_json_equal(&t, reef_json_find(&t, 0, "rows[0].object", NULL), &s,
                          reef_json_find(&s, 0, "rows[0].object", NULL)));
    reef_json_doc_free(&s);
    reef_json_doc_free(&o);
    reef_json_doc_free(&t);
    reef_buf_free(&out);
    free(want);
}

/* 2026-11-28T12:51:36Z: the samples show AGE 4s for objects created at 12:51:32. */
#define SAMPLE_NOW 1795870296

static void test_sample_pods(void)
{
    static const char pod[] =
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"coredns-abc12\","
        "\"uid\":\"dada0aa3-cba9-4ca1-8a55-650cf8c1586a\",\"creationTimestamp\":"
        "\"2026-11-28T12:51:32Z\",\"generation\":1,\"namespace\":\"kube-system\",\"labels\":"
        "{\"k8s-app\":\"kube-dns\"},\"resourceVersion\":\"104\"},"
        "\"spec\":{\"containers\":[{\"name\":\"coredns\",\"image\":\"coredns/coredns:1.11\"}],"
        "\"nodeName\":\"node1\"},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.5\",\"podIPs\":[{\"ip\":"
        "\"10.42.0.5\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
        "\"containerStatuses\":[{\"name\":\"coredns\",\"ready\":true,\"restartCount\":0,"
        "\"started\":true,\"state\":{\"running\":{\"startedAt\":\"2026-11-28T12:51:34Z\"}}}]}}";
    check_sample("pods", pod, "pods-table.sample.json", SAMPLE_NOW);
}

static void test_sample_nodes(void)
{
    static const char node[] =
        "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"node1\","
        "\"uid\":\"3e08a14f-e360-41fd-9f9b-dfe793283bb1\",\"creationTimestamp\":"
        "\"2026-11-28T12:51:32Z\",\"generation\":1,\"labels\":{\"kubernetes.io/hostname\":"
        "\"node1\",\"node-role.kubernetes.io/control-plane\":\"true\"},\"resourceVersion\":"
        "\"103\"},\"spec\":{},"
        "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],\"addresses\":"
        "[{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"},{\"type\":\"Hostname\",\"address\":"
        "\"node1\"}],\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0+skiff\",\"osImage\":"
        "\"Skiff Linux\",\"kernelVersion\":\"6.1.0\",\"containerRuntimeVersion\":"
        "\"skiff://0.1\"}}}";
    check_sample("nodes", node, "nodes-table.sample.json", SAMPLE_NOW);
}

/* Pod STATUS, READY and RESTARTS, case by case. Objects are {metadata, spec, status}. */
struct pod_case {
    const char *name;
    const char *pod;
    const char *ready, *status, *restarts;
};

#define CS(x) "\"containerStatuses\":[" x "]"
#define ICS(x) "\"initContainerStatuses\":[" x "]"
#define ONE "\"spec\":{\"containers\":[{\"name\":\"c\"}]}"

static const struct pod_case pod_cases[] = {
    {"pending, nothing yet", "{" ONE ",\"status\":{\"phase\":\"Pending\"}}", "0/1", "Pending", "0"},
    {"no status at all", "{" ONE "}", "0/1", "", "0"},
    {"status.reason wins over phase",
     "{" ONE ",\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\"}}", "0/1", "Evicted", "0"},
    {"scheduling gated",
     "{" ONE ",\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\","
     "\"status\":\"False\",\"reason\":\"SchedulingGated\"}]}}",
     "0/1", "SchedulingGated", "0"},
    {"ContainerCreating",
     "{" ONE ",\"status\":{\"phase\":\"Pending\"," CS(
         "{\"name\":\"c\",\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}") "}}",
     "0/1", "ContainerCreating", "0"},
    {"ErrImagePull",
     "{" ONE ",\"status\":{\"phase\":\"Pending\"," CS(
         "{\"name\":\"c\",\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\"}}}") "}}",
     "0/1", "ErrImagePull", "0"},
    {"ImagePullBackOff",
     "{" ONE ",\"status\":{\"phase\":\"Pending\"," CS(
         "{\"name\":\"c\",\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\"}}}") "}}",
     "0/1", "ImagePullBackOff", "0"},
    {"waiting without a reason keeps the phase",
     "{" ONE
     ",\"status\":{\"phase\":\"Pending\"," CS("{\"name\":\"c\",\"state\":{\"waiting\":{}}}") "}}",
     "0/1", "Pending", "0"},
    {"running but not ready",
     "{" ONE ",\"status\":{\"phase\":\"Running\"," CS(
         "{\"name\":\"c\",\"ready\":false,\"state\":{\"running\":{}}}") "}}",
     "0/1", "Running", "0"},
    {"CrashLoopBackOff with restarts",
     "{" ONE ",\"status\":{\"phase\":\"Running\"," CS(
         "{\"name\":\"c\",\"restartCount\":7,\"state\":{\"waiting\":{\"reason\":"
         "\"CrashLoopBackOff\"}},\"lastState\":{\"terminated\":{\"exitCode\":2,\"finishedAt\":"
         "\"2026-11-28T12:59:15Z\"}}}") "}}",
     "0/1", "CrashLoopBackOff", "7 (45s ago)"},
    {"restarts without a last termination time",
     "{" ONE ",\"status\":{\"phase\":\"Running\"," CS(
         "{\"name\":\"c\",\"restartCount\":2,\"ready\":true,\"state\":{\"running\":{}}}") "}}",
     "1/1", "Running", "2"},
    {"OOMKilled",
     "{" ONE ",\"status\":{\"phase\":\"Running\"," CS(
         "{\"name\":\"c\",\"state\":{\"terminated\":{\"exitCode\":137,\"reason\":"
         "\"OOMKilled\"}}}") "}}",
     "0/1", "OOMKilled", "0"},
    {"terminated by a signal, no reason",
     "{" ONE ",\"status\":{\"phase\":\"Running\"," CS(
         "{\"name\":\"c\",\"state\":{\"terminated\":{\"exitCode\":137,\"signal\":9}}}") "}}",
     "0/1", "Signal:9", "0"},
    {"terminated with an exit code, no reason",
     "{" ONE ",\"status\":{\"phase\":\"Running\"," CS(
         "{\"name\":\"c\",\"state\":{\"terminated\":{\"exitCode\":3}}}") "}}",
     "0/1", "ExitCode:3", "0"},
    {"Completed but another container runs, pod ready",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},\"status\":{\"phase\":"
     "\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]," CS(
         "{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}},"
         "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}}}") "}}",
     "1/2", "Running", "0"},
    {"Completed but another container runs, pod not ready",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},\"status\":{\"phase\":"
     "\"Running\"," CS(
         "{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}},"
         "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}}}") "}}",
     "1/2", "NotReady", "0"},
    {"the first container's state wins (statuses are walked backwards)",
     "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},\"status\":{\"phase\":"
     "\"Pending\"," CS(
         "{\"name\":\"a\",\"state\":{\"waiting\":{\"reason\":\"ErrImagePull\"}}},"
         "{\"name\":\"b\",\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}") "}}",
     "0/2", "ErrImagePull", "0"},
    {"Init:0/2 while the first init container runs",
     "{\"spec\":{\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],\"containers\":"
     "[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Pending\"," ICS(
         "{\"name\":\"i1\",\"state\":{\"running\":{}}},{\"name\":\"i2\",\"state\":{\"waiting\":"
         "{\"reason\":\"PodInitializing\"}}}") "," CS("{\"name\":\"c\",\"state\":{\"waiting\":{"
                                                      "\"reason\":\"PodInitializing\"}}}") "}}",
     "0/1", "Init:0/2", "0"},
    {"Init:1/2 after the first init container succeeded",
     "{\"spec\":{\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],\"containers\":"
     "[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Pending\"," ICS(
         "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":"
         "\"Completed\"}}},{\"name\":\"i2\",\"state\":{\"running\":{}}}") "}}",
     "0/1", "Init:1/2", "0"},
    {"Init:Error",
     "{\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],\"containers\":[{\"name\":\"c\"}]},"
     "\"status\":{\"phase\":\"Pending\"," ICS(
         "{\"name\":\"i1\",\"restartCount\":4,\"state\":{\"terminated\":{\"exitCode\":1,"
         "\"reason\":\"Error\"}},\"lastState\":{\"terminated\":{\"exitCode\":1,\"finishedAt\":"
         "\"2026-11-28T12:00:00Z\"}}}") "}}",
     "0/1", "Init:Error", "4 (60m ago)"},
    {"Init:ExitCode:2",
     "{\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],\"containers\":"
     "[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Pending\"," ICS(
         "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":2}}}") "}}",
     "0/1", "Init:ExitCode:2", "0"},
    {"Init:Signal:15",
     "{\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],\"containers\":[{\"name\":\"c\"}]},"
     "\"status\":{\"phase\":\"Pending\"," ICS(
         "{\"name\":\"i1\",\"state\":{\"terminated\":{\"exitCode\":143,\"signal\":15}}}") "}}",
     "0/1", "Init:Signal:15", "0"},
    {"Init:CrashLoopBackOff",
     "{\"spec\":{\"initContainers\":[{\"name\":\"i1\"}],\"containers\":[{\"name\":\"c\"}]},"
     "\"status\":{\"phase\":\"Pending\"," ICS(
         "{\"name\":\"i1\",\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}}}") "}}",
     "0/1", "Init:CrashLoopBackOff", "0"},
    {"a started sidecar counts as a container and does not block",
     "{\"spec\":{\"initContainers\":[{\"name\":\"side\",\"restartPolicy\":\"Always\"}],"
     "\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Running\",\"conditions\":"
     "[{\"type\":\"Initialized\",\"status\":\"True\"}]," ICS(
         "{\"name\":\"side\",\"started\":true,\"ready\":true,\"restartCount\":1,\"state\":"
         "{\"running\":{}},\"lastState\":{\"terminated\":{\"exitCode\":1,\"finishedAt\":"
         "\"2026-11-28T12:58:00Z\"}}}") "," CS("{\"name\":\"c\",\"ready\":true,\"restartCount\":2,"
                                               "\"state\":{\"running\":{}},"
                                               "\"lastState\":{\"terminated\":{\"exitCode\":1,"
                                               "\"finishedAt\":"
                                               "\"2026-11-28T12:50:00Z\"}}}") "}}",
     "2/2", "Running", "3 (2m ago)"},
    {"Terminating",
     "{\"metadata\":{\"deletionTimestamp\":\"2026-11-28T13:00:30Z\"}," ONE ",\"status\":"
     "{\"phase\":\"Running\"," CS(
         "{\"name\":\"c\",\"ready\":true,\"state\":{\"running\":{}}}") "}}",
     "1/1", "Terminating", "0"},
    {"a finished pod being deleted is not Terminating",
     "{\"metadata\":{\"deletionTimestamp\":\"2026-11-28T13:00:30Z\"}," ONE ",\"status\":"
     "{\"phase\":\"Succeeded\"," CS(
         "{\"name\":\"c\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":"
         "\"Completed\"}}}") "}}",
     "0/1", "Completed", "0"},
    {"NodeLost while deleted is Unknown",
     "{\"metadata\":{\"deletionTimestamp\":\"2026-11-28T13:00:30Z\"}," ONE ",\"status\":"
     "{\"phase\":\"Running\",\"reason\":\"NodeLost\"}}",
     "0/1", "Unknown", "0"},
    {"a null deletionTimestamp is not set",
     "{\"metadata\":{\"deletionTimestamp\":null}," ONE ",\"status\":{\"phase\":\"Running\"}}",
     "0/1", "Running", "0"},
    {"wrong types print as zero values",
     "{\"metadata\":{\"name\":7},\"spec\":{\"containers\":\"x\",\"initContainers\":5},"
     "\"status\":{\"phase\":3,\"containerStatuses\":[1,null,{\"state\":\"x\",\"restartCount\":"
     "\"3\"}],\"initContainerStatuses\":{}}}",
     "0/0", "", "0"},
};

static void test_pod_status_cases(void)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof(pod_cases) / sizeof(pod_cases[0]); i++) {
        const struct pod_case *c = &pod_cases[i];
        struct reef_json_doc d = REEF_JSON_DOC_INIT, t = REEF_JSON_DOC_INIT;
        struct reef_err err = {0};
        if (reef_json_parse(&d, c->pod, strlen(c->pod), NULL, &err) < 0)
            TEST_FAIL("case %zu (%s): %s", i, c->name, err.msg);
        struct reef_table_opts o = {.resource = "pods", .now = NOW, .wide = true};
        struct reef_buf out = REEF_BUF_INIT;
        CHECK_OK(reef_table_write_one(&out, &o, &d, 0, &err), &err);
        parse(&t, out.data, out.len);
        char ready[64], status[64], restarts[64];
        cell_text(&t, reef_json_find(&t, 0, "rows[0].cells[1]", NULL), ready, sizeof(ready));
        cell_text(&t, reef_json_find(&t, 0, "rows[0].cells[2]", NULL), status, sizeof(status));
        cell_text(&t, reef_json_find(&t, 0, "rows[0].cells[3]", NULL), restarts, sizeof(restarts));
        if (strcmp(ready, c->ready) || strcmp(status, c->status) || strcmp(restarts, c->restarts)) {
            fprintf(stderr, "  case %zu (%s): got %s | %s | %s, want %s | %s | %s\n", i, c->name,
                    ready, status, restarts, c->ready, c->status, c->restarts);
            failed++;
        }
        reef_json_doc_free(&d);
        reef_json_doc_free(&t);
        reef_buf_free(&out);
    }
    CHECK_INT(failed, ==, 0);
}

static void test_human_duration(void)
{
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {-3000, "<invalid>"},
        {-2000, "<invalid>"},
        {-1999, "0s"}, /* up to a second in the future is "now" */
        {-1000, "0s"},
        {-1, "0s"},
        {0, "0s"},
        {999, "0s"},
        {4000, "4s"},
        {59999, "59s"},
        {60000, "60s"},
        {119999, "119s"},
        {120000, "2m"},
        {192000, "3m12s"},
        {599000, "9m59s"},
        {600000, "10m"},
        {612000, "10m"},
        {179 * 60000LL, "179m"},
        {180 * 60000LL, "3h"},
        {(3 * 60 + 5) * 60000LL, "3h5m"},
        {(7 * 60 + 59) * 60000LL + 59000, "7h59m"},
        {8 * 3600000LL, "8h"},
        {47 * 3600000LL + 3599000, "47h"},
        {48 * 3600000LL, "2d"},
        {(2 * 24 + 5) * 3600000LL, "2d5h"},
        {(7 * 24 + 23) * 3600000LL, "7d23h"},
        {8 * 24 * 3600000LL, "8d"},
        {729 * 24 * 3600000LL, "729d"},
        {730 * 24 * 3600000LL, "2y"},
        {(730 + 100) * 24 * 3600000LL, "2y100d"},
        {(8 * 365 - 1) * 24 * 3600000LL, "7y364d"},
        {8 * 365 * 24 * 3600000LL, "8y"},
        {100 * 365 * 24 * 3600000LL, "100y"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char got[32];
        reef_table_human_duration(cases[i].ms, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            TEST_FAIL("%lld ms: got %s, want %s", (long long)cases[i].ms, got, cases[i].want);
    }
}

static void test_parse_time(void)
{
    static const struct {
        const char *s;
        int64_t ms; /* -1: invalid */
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2026-11-28T13:00:00Z", NOW * 1000LL},
        {"2026-11-28T13:00:00.5Z", NOW * 1000LL + 500},
        {"2026-11-28T13:00:00.123456Z", NOW * 1000LL + 123},
        {"2026-11-28T14:30:00+01:30", NOW * 1000LL},
        {"2026-11-28T11:00:00-02:00", NOW * 1000LL},
        {"2024-02-29T00:00:00Z", 1709164800000LL},
        {"1969-12-31T23:59:59Z", -1000},
        {"2026-11-28 13:00:00Z", -1},
        {"2026-11-28T13:00:00", -1},
        {"2026-11-28T13:00:00.Z", -1},
        {"2026-13-28T13:00:00Z", -1},
        {"2026-11-28T13:00:00Zjunk", -1},
        {"", -1},
        {"x", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t ms = 0;
        int rc = reef_table_parse_time(cases[i].s, strlen(cases[i].s), &ms);
        if (cases[i].ms == -1) {
            if (rc != -EINVAL)
                TEST_FAIL("%s: accepted", cases[i].s);
        } else if (rc != 0 || ms != cases[i].ms) {
            TEST_FAIL("%s: rc %d, %lld ms, want %lld", cases[i].s, rc, (long long)ms,
                      (long long)cases[i].ms);
        }
    }
}

/* includeObject=Object puts the whole object in row.object; None leaves it out. */
static void test_include_object(void)
{
    enum reef_table_include inc;
    CHECK(reef_table_parse_include(NULL, &inc) == 0 && inc == REEF_TABLE_METADATA);
    CHECK(reef_table_parse_include("", &inc) == 0 && inc == REEF_TABLE_METADATA);
    CHECK(reef_table_parse_include("Metadata", &inc) == 0 && inc == REEF_TABLE_METADATA);
    CHECK(reef_table_parse_include("Object", &inc) == 0 && inc == REEF_TABLE_OBJECT);
    CHECK(reef_table_parse_include("None", &inc) == 0 && inc == REEF_TABLE_NONE);
    CHECK(reef_table_parse_include("object", &inc) == -EINVAL);

    size_t n;
    char *src = load("configmaps.json", &n);
    struct reef_json_doc d = REEF_JSON_DOC_INIT, t = REEF_JSON_DOC_INIT;
    parse(&d, src, n);
    int item = reef_json_find(&d, 0, "items[1]", NULL);
    struct reef_table_opts o = {
        .resource = "configmaps", .now = NOW, .wide = true, .include = REEF_TABLE_OBJECT};
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_OK(reef_table_write_one(&out, &o, &d, item, &err), &err);
    parse(&t, out.data, out.len);
    CHECK(reef_json_equal(&t, reef_json_find(&t, 0, "rows[0].object", NULL), &d, item));
    reef_json_doc_free(&t);

    o.include = REEF_TABLE_NONE;
    reef_buf_reset(&out);
    CHECK_OK(reef_table_write_one(&out, &o, &d, item, &err), &err);
    parse(&t, out.data, out.len);
    CHECK(reef_json_find(&t, 0, "rows[0].object", NULL) == -ENOENT);
    CHECK_INT(reef_json_count(&t, reef_json_find(&t, 0, "rows[0].cells", NULL)), ==, 3);
    reef_json_doc_free(&t);
    reef_json_doc_free(&d);
    reef_buf_free(&out);
    free(src);
}

/* Watch events: one-row tables whose resourceVersion is the object's; after the first event
 * upstream sends "columnDefinitions": null. */
static void test_watch_event_table(void)
{
    size_t n;
    char *src = load("deployments.json", &n);
    struct reef_json_doc d = REEF_JSON_DOC_INIT, t = REEF_JSON_DOC_INIT;
    parse(&d, src, n);
    int item = reef_json_find(&d, 0, "items[0]", NULL);
    struct reef_table_opts o = {.resource = "deployments", .now = NOW, .wide = true};
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_OK(reef_table_write_one(&out, &o, &d, item, &err), &err);
    parse(&t, out.data, out.len);
    CHECK(reef_json_str_eq(&t, reef_json_find(&t, 0, "metadata.resourceVersion", NULL), "480"));
    CHECK_INT(reef_json_count(&t, reef_json_member(&t, 0, "columnDefinitions")), ==, 8);
    CHECK_INT(reef_json_count(&t, reef_json_member(&t, 0, "rows")), ==, 1);
    reef_json_doc_free(&t);

    o.no_headers = true;
    o.resource_version = "";
    o.continue_token = NULL;
    reef_buf_reset(&out);
    CHECK_OK(reef_table_write_one(&out, &o, &d, item, &err), &err);
    parse(&t, out.data, out.len);
    CHECK(reef_json_is_null(&t, reef_json_member(&t, 0, "columnDefinitions")));
    CHECK_INT(reef_json_count(&t, reef_json_member(&t, 0, "metadata")), ==, 0);
    CHECK_INT(reef_json_count(&t, reef_json_find(&t, 0, "rows[0].cells", NULL)), ==, 8);
    reef_json_doc_free(&t);

    /* A list page with a continue token; an empty list still has "rows": []. */
    struct reef_table tb;
    struct reef_table_opts lo = {.resource = "pods",
                                 .now = NOW,
                                 .resource_version = "9",
                                 .continue_token = "abc",
                                 .indent = 4};
    reef_buf_reset(&out);
    reef_table_begin(&tb, &out, &lo);
    CHECK_OK(reef_table_end(&tb, &err), &err);
    parse(&t, out.data, out.len);
    CHECK(reef_json_str_eq(&t, reef_json_find(&t, 0, "metadata.continue", NULL), "abc"));
    CHECK_INT(reef_json_count(&t, reef_json_member(&t, 0, "rows")), ==, 0);
    CHECK_INT(reef_json_count(&t, reef_json_member(&t, 0, "columnDefinitions")), ==, 5);
    CHECK(strstr(out.data, "\n    \"kind\": \"Table\"") != NULL);
    reef_json_doc_free(&t);
    reef_json_doc_free(&d);
    reef_buf_free(&out);
    free(src);
}

static void test_resource_names(void)
{
    CHECK(reef_table_known("pods"));
    CHECK(reef_table_known("deployments"));
    CHECK(reef_table_known("deployments.apps"));
    CHECK(reef_table_known("leases.coordination.k8s.io"));
    CHECK(!reef_table_known("deployments.extensions"));
    CHECK(!reef_table_known("pods.apps"));
    CHECK(!reef_table_known("pod"));
    CHECK(!reef_table_known("podsx"));
    CHECK(!reef_table_known("widgets.example.com"));
    CHECK(!reef_table_known(""));
    CHECK(!reef_table_known(NULL));
}

/* Items that are not objects are refused; the table stays valid JSON. Every printer survives
 * objects whose fields all have the wrong type. */
static void test_bad_input(void)
{
    static const char junk[] =
        "[1,\"x\",null,{},{\"metadata\":[],\"spec\":\"s\",\"status\":7},"
        "{\"metadata\":{\"name\":{},\"creationTimestamp\":\"yesterday\",\"labels\":[1]},"
        "\"spec\":{\"containers\":[{},7],\"selector\":{\"matchLabels\":[],\"matchExpressions\":"
        "[{\"key\":1},{\"key\":\"k\",\"operator\":\"Bogus\"},{\"key\":\"k\",\"operator\":\"In\","
        "\"values\":\"v\"}]},\"ports\":[{\"port\":\"80\"},{}],\"replicas\":\"3\",\"type\":"
        "\"LoadBalancer\",\"externalIPs\":[1,\"1.2.3.4\"],\"template\":{\"spec\":{\"containers\":"
        "[{\"name\":1,\"image\":null}]}}},\"status\":{\"conditions\":[{\"type\":\"Ready\"}],"
        "\"addresses\":[{\"type\":\"InternalIP\"}],\"loadBalancer\":{\"ingress\":[{},{\"ip\":"
        "5}]}},\"subsets\":[{\"addresses\":[{}],\"ports\":[{}]}],\"endpoints\":[{\"addresses\":"
        "[1]}],\"involvedObject\":7,\"series\":{},\"data\":\"x\",\"firstTimestamp\":\"\"}]";
    static const char *const resources[] = {
        "pods",   "nodes",  "namespaces",  "services",    "endpoints",      "configmaps", "secrets",
        "events", "leases", "deployments", "replicasets", "endpointslices", "whatever",
    };
    struct reef_json_doc d = REEF_JSON_DOC_INIT, t = REEF_JSON_DOC_INIT;
    parse(&d, junk, strlen(junk));
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
        struct reef_table_opts o = {.resource = resources[i], .now = NOW, .wide = true};
        struct reef_buf out = REEF_BUF_INIT;
        struct reef_table tb;
        reef_table_begin(&tb, &out, &o);
        int objects = 0;
        struct reef_json_iter it = reef_json_iter(&d, 0);
        while (reef_json_next(&d, &it)) {
            int rc = reef_table_add(&tb, &d, it.val);
            if (reef_json_kind(&d, it.val) == REEF_JSON_OBJECT) {
                CHECK_INT(rc, ==, 0);
                objects++;
            } else {
                CHECK_INT(rc, ==, -EINVAL);
            }
        }
        struct reef_err err = {0};
        CHECK_OK(reef_table_end(&tb, &err), &err);
        parse(&t, out.data, out.len);
        int rows = reef_json_member(&t, 0, "rows");
        CHECK_INT(reef_json_count(&t, rows), ==, objects);
        int ncols = reef_json_count(&t, reef_json_member(&t, 0, "columnDefinitions"));
        struct reef_json_iter r = reef_json_iter(&t, rows);
        while (reef_json_next(&t, &r))
            CHECK_INT(reef_json_count(&t, reef_json_member(&t, r.val, "cells")), ==, ncols);
        reef_json_doc_free(&t);
        reef_buf_free(&out);
    }
    struct reef_buf out = REEF_BUF_INIT;
    struct reef_err err = {0};
    struct reef_table_opts o = {.resource = "pods", .now = NOW};
    CHECK_INT(reef_table_write_one(&out, &o, &d, 1, &err), ==, -EINVAL);
    reef_buf_free(&out);
    reef_json_doc_free(&d);
}

/* Every fixture, mutated byte by byte at random (deterministically), through every printer:
 * whatever still parses gives a well-formed table whose rows have one cell per column. */
static void test_mutations(void)
{
    static const char *const files[] = {
        "pods.json",        "nodes.json",          "services.json",
        "endpoints.json",   "events.json",         "deployments.json",
        "replicasets.json", "endpointslices.json", "configmaps.json",
    };
    static const char *const resources[] = {
        "pods",        "nodes",          "services",   "endpoints", "events", "deployments",
        "replicasets", "endpointslices", "configmaps", "secrets",   "leases", "namespaces",
    };
    static const char alphabet[] = "{}[]\",:0123456789.-eEtrufalsn \\xZT";
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int parsed = 0;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        size_t n;
        char *src = load(files[f], &n);
        char *mut = malloc(n);
        CHECK(mut != NULL);
        for (int round = 0; round < 150; round++) {
            memcpy(mut, src, n);
            for (int k = 0; k < 1 + round % 4; k++) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                mut[seed % n] = alphabet[(seed >> 32) % (sizeof(alphabet) - 1)];
            }
            struct reef_json_doc d = REEF_JSON_DOC_INIT, t = REEF_JSON_DOC_INIT;
            if (reef_json_parse(&d, mut, n, NULL, NULL) < 0) {
                reef_json_doc_free(&d);
                continue;
            }
            parsed++;
            const char *res = resources[(size_t)round % (sizeof(resources) / sizeof(resources[0]))];
            struct reef_table_opts o = {.resource = res,
                                        .now = NOW,
                                        .wide = round % 2 == 0,
                                        .include = (enum reef_table_include)(round % 3)};
            struct reef_buf out = REEF_BUF_INIT;
            struct reef_table tb;
            reef_table_begin(&tb, &out, &o);
            int rows = 0;
            struct reef_json_iter it = reef_json_iter(&d, reef_json_member(&d, 0, "items"));
            while (reef_json_next(&d, &it))
                rows += reef_table_add(&tb, &d, it.val) == 0;
            struct reef_err err = {0};
            CHECK_OK(reef_table_end(&tb, &err), &err);
            parse(&t, out.data, out.len);
            int ncols = reef_json_count(&t, reef_json_member(&t, 0, "columnDefinitions"));
            CHECK_INT(reef_json_count(&t, reef_json_member(&t, 0, "rows")), ==, rows);
            struct reef_json_iter r = reef_json_iter(&t, reef_json_member(&t, 0, "rows"));
            while (reef_json_next(&t, &r))
                CHECK_INT(reef_json_count(&t, reef_json_member(&t, r.val, "cells")), ==, ncols);
            reef_json_doc_free(&t);
            reef_json_doc_free(&d);
            reef_buf_free(&out);
        }
        free(mut);
        free(src);
    }
    printf("# %d mutated documents parsed and printed\n", parsed);
    CHECK(parsed > 100);
}

static double ms_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* 1,000 realistic pods, each parsed on its own as a store would hand them over. */
static void test_thousand_pods_fast(void)
{
    size_t n;
    char *src = load("pods.json", &n);
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    parse(&d, src, n);
    size_t len;
    const char *raw = reef_json_raw(&d, reef_json_find(&d, 0, "items[0]", NULL), &len);
    char *pod = malloc(len);
    CHECK(pod != NULL);
    memcpy(pod, raw, len);
    struct reef_json_doc p = REEF_JSON_DOC_INIT;
    struct reef_buf out = REEF_BUF_INIT;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct reef_table_opts o = {
        .resource = "pods", .now = NOW, .wide = true, .resource_version = "1000"};
    struct reef_table tb;
    reef_table_begin(&tb, &out, &o);
    for (int i = 0; i < 1000; i++) {
        parse(&p, pod, len);
        CHECK_INT(reef_table_add(&tb, &p, 0), ==, 0);
    }
    struct reef_err err = {0};
    CHECK_OK(reef_table_end(&tb, &err), &err);
    double ms = ms_since(&start);
    printf("# 1000-pod table: %.2f ms, %zu bytes\n", ms, out.len);
    /* A few ms in a release build; the bound leaves room for sanitizers and a busy machine. */
    CHECK(ms < 500);
    reef_json_doc_free(&p);
    reef_json_doc_free(&d);
    reef_buf_free(&out);
    free(pod);
    free(src);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_pods);
    TEST_RUN(test_nodes);
    TEST_RUN(test_namespaces);
    TEST_RUN(test_services);
    TEST_RUN(test_endpoints);
    TEST_RUN(test_configmaps);
    TEST_RUN(test_secrets);
    TEST_RUN(test_events);
    TEST_RUN(test_leases);
    TEST_RUN(test_deployments);
    TEST_RUN(test_replicasets);
    TEST_RUN(test_endpointslices);
    TEST_RUN(test_default_printer);
    TEST_RUN(test_full_document);
    TEST_RUN(test_not_wide);
    TEST_RUN(test_not_wide_clips_lb);
    TEST_RUN(test_sample_pods);
    TEST_RUN(test_sample_nodes);
    TEST_RUN(test_pod_status_cases);
    TEST_RUN(test_human_duration);
    TEST_RUN(test_parse_time);
    TEST_RUN(test_include_object);
    TEST_RUN(test_watch_event_table);
    TEST_RUN(test_resource_names);
    TEST_RUN(test_bad_input);
    TEST_RUN(test_mutations);
    TEST_RUN(test_thousand_pods_fast);
    return test_done();
}
