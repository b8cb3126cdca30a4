/* Tests for orchestrate/apiserver against Kubernetes 1.32's behaviour: the defaults its
 * defaulters apply (pods, pod templates, services, qosClass), Go's type errors for mistyped
 * fields, the garbage collector's Orphan and Foreground deletion and finalizers; and that the
 * store's filtered lists stay on their indexes. */
#include "orchestrate/apiserver.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/http_client.h"
#include "core/json.h"
#include "orchestrate/store_plan.h"
#include "tests/unit/apiserver_fixture.h"
#include "tests/unit/test.h"

/* ---- store: filtered lists use their index, never the walk of a whole resource ---- */

static char *plan(struct reef_store *s, const struct reef_store_list_opts *o)
{
    struct reef_buf b = REEF_BUF_INIT;
    struct reef_err err = {0};
    CHECK_INT(reef__store_list_plan(s, "pods", o, &b, &err), ==, 0);
    reef_buf_putc(&b, '\0');
    return reef_buf_steal(&b);
}

struct seen {
    char prev[2 * REEF_STORE_MAX_NAME + 2];
    size_t n;
    bool sorted;
};

static int list_cb(void *arg, const struct reef_store_item *it)
{
    struct seen *sn = arg;
    char key[sizeof(sn->prev)];
    snprintf(key, sizeof(key), "%s/%s", it->namespace, it->name);
    if (sn->n && strcmp(key, sn->prev) <= 0)
        sn->sorted = false;
    memcpy(sn->prev, key, sizeof(key));
    sn->n++;
    return 0;
}

static void test_list_plans(void)
{
    struct reef_store *s = NULL;
    struct reef_err err = {0};
    CHECK_INT(reef_store_open(NULL, NULL, &s, &err), ==, 0);
    struct {
        struct reef_store_list_opts o;
        const char *want;
    } cases[] = {
        {{.node_name = "n1"}, "USING INDEX object_node (resource=? AND node=?)"},
        {{.node_name = ""}, "USING INDEX object_node (resource=? AND node=?)"},
        {{.node_name = "n1", .namespace = "default"}, "USING INDEX object_node"},
        {{.node_name = "n1", .continue_token = "x"}, "USING INDEX object_node"},
        {{.phase = "Running"}, "USING INDEX object_phase (resource=? AND phase=?)"},
        {{.owner_uid = "u"}, "USING COVERING INDEX owner_uid (uid=?)"},
        {{.owner_uid = "u", .namespace = "default", .continue_token = "x"}, "owner_uid (uid=?)"},
        {{.namespace = "default"}, "sqlite_autoindex_object_1 (resource=? AND namespace=?)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = plan(s, &cases[i].o);
        if (!strstr(p, cases[i].want))
            fprintf(stderr, "case %zu: %s\n", i, p);
        CHECK(strstr(p, cases[i].want) != NULL);
        CHECK(strstr(p, "SCAN") == NULL);
        if (cases[i].o.node_name || cases[i].o.phase || cases[i].o.owner_uid)
            CHECK(strstr(p, "sqlite_autoindex_object_1") == NULL);
        free(p);
    }
    /* and the lists still answer in order, across pages */
    for (int i = 0; i < 40; i++) {
        char name[16], obj[256];
        snprintf(name, sizeof(name), "p%02d", 39 - i);
        snprintf(obj, sizeof(obj),
                 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"ownerReferences\":[{"
                 "\"uid\":\"own\"}]},\"spec\":{\"nodeName\":\"%s\"},\"status\":{\"phase\":"
                 "\"Running\"}}",
                 name, i % 2 ? "a" : "b", i % 4 < 2 ? "n1" : "n2");
        struct reef_store_cmd c = {.op = REEF_STORE_CREATE,
                                   .resource = "pods",
                                   .namespace = i % 2 ? "a" : "b",
                                   .name = name,
                                   .object = obj,
                                   .object_len = strlen(obj),
                                   .timestamp_ms = 1};
        CHECK_INT(reef_store_new_uid(c.uid, NULL), ==, 0);
        CHECK_INT(reef_store_apply(s, &c, NULL, &err), ==, 0);
    }
    static const struct reef_store_list_opts filters[] = {
        {.node_name = "n1", .limit = 3}, {.owner_uid = "own", .limit = 7}, {.phase = "Running"}};
    for (size_t f = 0; f < 3; f++) {
        struct reef_store_list_opts o = filters[f];
        struct reef_store_list_result lr;
        struct seen it = {.sorted = true};
        char tok[REEF_STORE_TOKEN_MAX] = "";
        do {
            o.continue_token = tok[0] ? tok : NULL;
            CHECK_INT(reef_store_list(s, "pods", &o, list_cb, &it, &lr, &err), ==, 0);
            snprintf(tok, sizeof(tok), "%s", lr.continue_token);
        } while (tok[0]);
        CHECK(it.sorted);
        CHECK_INT(it.n, ==, f == 0 ? 20 : 40);
    }
    reef_store_close(s);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_list_plans);
    return test_done();
}
