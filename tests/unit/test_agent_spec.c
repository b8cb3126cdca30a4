/* Tests for orchestrate/agent_spec: container configurations from pod specs (command and args
 * against the image's, environment with references, user, capabilities, limits, mounts) and the
 * pod's files. The store is in memory; no container runs. */
#include "orchestrate/agent_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fs.h"
#include "runtime/caps.h"
#include "runtime/images.h"
#include "tests/unit/test.h"

static uv_loop_t loop;
static struct reef_agent agent;
static struct agent_pod pod;
static char tmp[] = "/tmp/reef-agentspec-XXXXXX";

static void setup(const char *pod_json)
{
    struct reef_err err = {0};
    uv_loop_init(&loop);
    agent.env.loop = &loop;
    CHECK_INT(reef_store_open(NULL, NULL, &agent.env.store, &err), ==, 0);
    struct reef_apiserver_opts o = {.loop = &loop, .store = agent.env.store};
    CHECK_INT(reef_apiserver_new(&o, &agent.env.api, &err), ==, 0);
    snprintf(agent.env.user.name, sizeof(agent.env.user.name), "system:admin");
    snprintf(agent.node, sizeof(agent.node), "node1");
    snprintf(agent.host_ip, sizeof(agent.host_ip), "192.0.2.7");
    CHECK(mkdtemp(tmp) != NULL);
    pod.a = &agent;
    snprintf(pod.ns, sizeof(pod.ns), "default");
    snprintf(pod.name, sizeof(pod.name), "web-1");
    snprintf(pod.uid, sizeof(pod.uid), "0123456789abcdef");
    snprintf(pod.ip, sizeof(pod.ip), "10.42.0.9");
    snprintf(pod.sb.dir, sizeof(pod.sb.dir), "%s", tmp);
    snprintf(pod.sb.netns, sizeof(pod.sb.netns), "%s/ns/net", tmp);
    snprintf(pod.sb.ipcns, sizeof(pod.sb.ipcns), "%s/ns/ipc", tmp);
    snprintf(pod.sb.utsns, sizeof(pod.sb.utsns), "%s/ns/uts", tmp);
    pod.json = strdup(pod_json);
    pod.len = strlen(pod_json);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
    CHECK_INT(system(cmd), ==, 0);
    reef_apiserver_free(agent.env.api);
    reef_store_close(agent.env.store);
}

static void post(const char *path, const char *body)
{
    struct reef_err err = {0};
    CHECK_INT(reef_ctl_call(&agent.env, "POST", path, NULL, body, strlen(body), NULL, &err), ==,
              201);
}

static const char *IMAGE_CONFIG =
    "{\"config\":{\"Entrypoint\":[\"/entry\"],\"Cmd\":[\"serve\",\"--port\",\"80\"],"
    "\"Env\":[\"PATH=/app/bin:/bin\",\"MODE=image\"],\"WorkingDir\":\"/app\",\"User\":\"app\","
    "\"StopSignal\":\"SIGQUIT\"}}";

/* The configuration of container index idx of the pod. */
static int config(int idx, struct reef_ctr_config *cfg, struct reef_err *err)
{
    static struct agent_ctr c;
    memset(&c, 0, sizeof(c));
    c.pod = &pod;
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, pod.json, pod.len, NULL, NULL), ==, 0);
    int spec = reef_json_find(&d, REEF_JSON_ROOT, "spec.containers", NULL);
    spec = reef_json_index(&d, spec, (size_t)idx);
    reef_json_get_str(&d, reef_json_member(&d, spec, "name"), c.name, sizeof(c.name), NULL);
    char *layers[] = {"/l/top", "/l/base", NULL};
    struct reef_image img = {.id = "sha256:abc",
                             .name = "docker.io/library/app:1",
                             .config_json = (char *)IMAGE_CONFIG,
                             .config_len = strlen(IMAGE_CONFIG),
                             .layer_dirs = layers,
                             .nlayers = 2};
    int r = reef__agent_ctr_config(&pod, &c, &d, spec, &img, cfg, err);
    reef_json_doc_free(&d);
    return r;
}

static const char *env_of(const struct reef_ctr_config *cfg, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i < cfg->nenv; i++)
        if (strncmp(cfg->env[i], key, kl) == 0 && cfg->env[i][kl] == '=')
            return cfg->env[i] + kl + 1;
    return NULL;
}

static const struct reef_ctr_volume *mount_at(const struct reef_ctr_config *cfg, const char *t)
{
    for (size_t i = 0; i < cfg->nvolumes; i++)
        if (strcmp(cfg->volumes[i].target, t) == 0)
            return &cfg->volumes[i];
    return NULL;
}

static void test_image_defaults(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":{"
          "\"containers\":[{\"name\":\"a\",\"image\":\"app:1\"},"
          "{\"name\":\"b\",\"image\":\"app:1\",\"args\":[\"once\"]},"
          "{\"name\":\"c\",\"image\":\"app:1\",\"command\":[\"/bin/sh\",\"-c\"]},"
          "{\"name\":\"d\",\"image\":\"app:1\",\"command\":[\"run\"],\"args\":[\"x\"],"
          "\"workingDir\":\"/w\"}]}}");
    struct reef_ctr_config cfg;
    struct reef_err err = {0};
    CHECK_INT(config(0, &cfg, &err), ==, 0);
    CHECK_INT(cfg.argc, ==, 4);
    CHECK_STR(cfg.argv[0], "/entry");
    CHECK_STR(cfg.argv[3], "80");
    CHECK_STR(cfg.workdir, "/app");
    CHECK_STR(cfg.user, "app");
    CHECK_INT(cfg.stop_signal, ==, SIGQUIT);
    CHECK_STR(env_of(&cfg, "PATH"), "/app/bin:/bin");
    CHECK_STR(env_of(&cfg, "HOSTNAME"), "web-1");
    CHECK_STR(env_of(&cfg, "KUBERNETES_SERVICE_HOST"), "10.43.0.1");
    CHECK_INT(cfg.nlayers, ==, 2);
    CHECK_STR(cfg.netns, pod.sb.netns);
    CHECK(cfg.no_etc_files);
    CHECK(mount_at(&cfg, "/etc/hosts") != NULL);
    CHECK_INT(cfg.restart, ==, REEF_RESTART_NO);
    CHECK(strncmp(cfg.name, "k8s_a_web-1_default_01234567_1", 40) == 0);
    bool uid_label = false;
    for (size_t i = 0; i < cfg.nlabels; i++)
        uid_label |= strcmp(cfg.labels[i], "reef.pod.uid=0123456789abcdef") == 0;
    CHECK(uid_label);
    /* Kubernetes' defaults: unconfined seccomp, privilege escalation allowed, Docker's caps */
    CHECK(!cfg.seccomp);
    CHECK(!cfg.no_new_privs);
    CHECK(cfg.caps == reef_caps_default());
    reef_ctr_config_free(&cfg);

    CHECK_INT(config(1, &cfg, &err), ==, 0); /* args replace Cmd only */
    CHECK_INT(cfg.argc, ==, 2);
    CHECK_STR(cfg.argv[0], "/entry");
    CHECK_STR(cfg.argv[1], "once");
    reef_ctr_config_free(&cfg);
    CHECK_INT(config(2, &cfg, &err), ==, 0); /* command drops the image's Cmd */
    CHECK_INT(cfg.argc, ==, 2);
    CHECK_STR(cfg.argv[0], "/bin/sh");
    reef_ctr_config_free(&cfg);
    CHECK_INT(config(3, &cfg, &err), ==, 0);
    CHECK_INT(cfg.argc, ==, 2);
    CHECK_STR(cfg.argv[0], "run");
    CHECK_STR(cfg.argv[1], "x");
    CHECK_STR(cfg.workdir, "/w");
    reef_ctr_config_free(&cfg);
    teardown();
}

static void test_env(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\",\"uid\":\"u1\","
          "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":"
          "\"app:1\",\"command\":[\"echo\",\"$(GREETING) $(NOPE) $$(GREETING)\"],"
          "\"resources\":{\"limits\":{\"cpu\":\"1500m\",\"memory\":\"64Mi\"}},"
          "\"envFrom\":[{\"configMapRef\":{\"name\":\"cm\"},\"prefix\":\"CM_\"}],"
          "\"env\":[{\"name\":\"GREETING\",\"value\":\"hi\"},"
          "{\"name\":\"BOTH\",\"value\":\"$(GREETING)-$(MODE)\"},"
          "{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}},"
          "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"status.podIP\"}}},"
          "{\"name\":\"NODE\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"spec.nodeName\"}}},"
          "{\"name\":\"APP\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
          "\"metadata.labels['app']\"}}},"
          "{\"name\":\"CPU\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":\"limits.cpu\"}}},"
          "{\"name\":\"COLOR\",\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"cm\",\"key\":"
          "\"color\"}}},"
          "{\"name\":\"PASS\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":"
          "\"password\"}}},"
          "{\"name\":\"OPT\",\"valueFrom\":{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"none\","
          "\"optional\":true}}}]}]}}");
    post("/api/v1/namespaces/default/configmaps",
         "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"color\":\"blue\",\"size\":\"L\"}}");
    post("/api/v1/namespaces/default/secrets",
         "{\"metadata\":{\"name\":\"s\"},\"data\":{\"password\":\"czNjcjN0\"}}");
    struct reef_ctr_config cfg;
    struct reef_err err = {0};
    CHECK_INT(config(0, &cfg, &err), ==, 0);
    CHECK_STR(cfg.argv[1], "hi $(NOPE) $(GREETING)");
    CHECK_STR(env_of(&cfg, "BOTH"), "hi-image");
    CHECK_STR(env_of(&cfg, "POD"), "web-1");
    CHECK_STR(env_of(&cfg, "IP"), "10.42.0.9");
    CHECK_STR(env_of(&cfg, "NODE"), "node1");
    CHECK_STR(env_of(&cfg, "APP"), "web");
    CHECK_STR(env_of(&cfg, "CPU"), "2");
    CHECK_STR(env_of(&cfg, "COLOR"), "blue");
    CHECK_STR(env_of(&cfg, "CM_size"), "L");
    CHECK_STR(env_of(&cfg, "PASS"), "s3cr3t");
    CHECK(env_of(&cfg, "OPT") == NULL);
    CHECK_INT(cfg.memory, ==, 64 * 1024 * 1024);
    CHECK(cfg.cpus > 1.49 && cfg.cpus < 1.51);
    reef_ctr_config_free(&cfg);
    teardown();
}

static void test_errors(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":{"
          "\"containers\":[{\"name\":\"a\",\"image\":\"app:1\",\"env\":[{\"name\":\"X\","
          "\"valueFrom\":{\"configMapKeyRef\":{\"name\":\"missing\",\"key\":\"k\"}}}]},"
          "{\"name\":\"b\",\"image\":\"app:1\",\"resources\":{\"limits\":{\"memory\":\"lots\"}}},"
          "{\"name\":\"c\",\"image\":\"app:1\",\"securityContext\":{\"capabilities\":{\"add\":"
          "[\"NOT_A_CAP\"]}}},"
          "{\"name\":\"d\",\"image\":\"app:1\",\"securityContext\":{\"runAsNonRoot\":true,"
          "\"runAsUser\":0}},"
          "{\"name\":\"e\",\"image\":\"app:1\",\"volumeMounts\":[{\"name\":\"v\",\"mountPath\":"
          "\"/v\"}]}]}}");
    struct reef_ctr_config cfg;
    struct reef_err err = {0};
    CHECK(config(0, &cfg, &err) < 0);
    CHECK_STR(err.msg, "configmap \"missing\" not found");
    reef_ctr_config_free(&cfg);
    CHECK(config(1, &cfg, &err) < 0);
    CHECK(strstr(err.msg, "resources.limits.memory") != NULL);
    reef_ctr_config_free(&cfg);
    CHECK(config(2, &cfg, &err) < 0);
    CHECK(strstr(err.msg, "NOT_A_CAP") != NULL);
    reef_ctr_config_free(&cfg);
    CHECK(config(3, &cfg, &err) < 0);
    CHECK(strstr(err.msg, "runAsNonRoot") != NULL);
    reef_ctr_config_free(&cfg);
    CHECK(config(4, &cfg, &err) < 0);
    CHECK_STR(err.msg, "volume \"v\" is not defined in the pod");
    reef_ctr_config_free(&cfg);
    teardown();
}

static void test_security_and_volumes(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":{"
          "\"hostname\":\"h1\",\"securityContext\":{\"runAsUser\":1000,\"runAsGroup\":3000},"
          "\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}},{\"name\":\"mem\",\"emptyDir\":"
          "{\"medium\":\"Memory\"}},{\"name\":\"host\",\"hostPath\":{\"path\":\"/srv/x\"}},"
          "{\"name\":\"conf\",\"configMap\":{\"name\":\"cm\",\"items\":[{\"key\":\"a\","
          "\"path\":\"dir/a.txt\"}]}},{\"name\":\"sec\",\"secret\":{\"secretName\":\"s\","
          "\"defaultMode\":256}}],"
          "\"containers\":[{\"name\":\"a\",\"image\":\"app:1\",\"securityContext\":{"
          "\"runAsUser\":2000,\"readOnlyRootFilesystem\":true,\"allowPrivilegeEscalation\":"
          "false,\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"NET_BIND_SERVICE\"]},"
          "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"volumeMounts\":["
          "{\"name\":\"data\",\"mountPath\":\"/data\"},{\"name\":\"mem\",\"mountPath\":"
          "\"/mem\"},{\"name\":\"host\",\"mountPath\":\"/host\",\"readOnly\":true},"
          "{\"name\":\"conf\",\"mountPath\":\"/conf\"},{\"name\":\"sec\",\"mountPath\":"
          "\"/sec\"},{\"name\":\"data\",\"mountPath\":\"/sub\",\"subPath\":\"logs\"}]}]}}");
    post("/api/v1/namespaces/default/configmaps",
         "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"a\":\"A\",\"b\":\"B\"}}");
    post("/api/v1/namespaces/default/secrets",
         "{\"metadata\":{\"name\":\"s\"},\"data\":{\"token\":\"dG9r\"}}");
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, pod.json, pod.len, NULL, NULL), ==, 0);
    struct reef_err err = {0};
    CHECK_INT(reef__agent_pod_files(&pod, &d, &err), ==, 0);
    reef_json_doc_free(&d);
    char path[4200], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/etc/hosts", tmp);
    CHECK_INT(reef_fs_read_string(path, 4096, &text, &len, NULL), ==, 0);
    CHECK(strstr(text, "10.42.0.9\th1\n") != NULL);
    free(text);
    snprintf(path, sizeof(path), "%s/volumes/conf/dir/a.txt", tmp);
    CHECK_INT(reef_fs_read_string(path, 4096, &text, &len, NULL), ==, 0);
    CHECK_STR(text, "A");
    free(text);
    snprintf(path, sizeof(path), "%s/volumes/conf/b", tmp);
    CHECK(access(path, F_OK) < 0); /* only the listed items */
    snprintf(path, sizeof(path), "%s/volumes/sec/token", tmp);
    CHECK_INT(reef_fs_read_string(path, 4096, &text, &len, NULL), ==, 0);
    CHECK_STR(text, "tok");
    free(text);
    struct stat st;
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0400);

    struct reef_ctr_config cfg;
    CHECK_INT(config(0, &cfg, &err), ==, 0);
    CHECK_STR(cfg.user, "2000:3000");
    CHECK(cfg.readonly);
    CHECK(cfg.no_new_privs);
    CHECK(cfg.seccomp);
    uint64_t want = 0;
    const char *add[] = {"NET_BIND_SERVICE"}, *drop[] = {"ALL"};
    CHECK_INT(reef_caps_adjust(reef_caps_default(), add, 1, drop, 1, &want, NULL), ==, 0);
    CHECK(cfg.caps == want);
    const struct reef_ctr_volume *v = mount_at(&cfg, "/data");
    CHECK(v && v->kind == REEF_VOLUME_BIND && strstr(v->source, "/volumes/data"));
    v = mount_at(&cfg, "/mem");
    CHECK(v && v->kind == REEF_VOLUME_TMPFS);
    v = mount_at(&cfg, "/host");
    CHECK(v && strcmp(v->source, "/srv/x") == 0 && v->readonly);
    v = mount_at(&cfg, "/conf");
    CHECK(v && v->readonly);
    v = mount_at(&cfg, "/sub");
    CHECK(v && strstr(v->source, "/volumes/data/logs"));
    reef_ctr_config_free(&cfg);
    rmdir("/srv/x"); /* the hostPath volume without a type made it */
    teardown();
}

static char *vol_read(const char *rel)
{
    char path[4200], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/volumes/%s", tmp, rel);
    return reef_fs_read_string(path, 4096, &text, &len, NULL) == 0 ? text : NULL;
}

static void vol_link(const char *rel, char *out, size_t size)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/volumes/%s", tmp, rel);
    ssize_t n = readlink(path, out, size - 1);
    out[n > 0 ? n : 0] = '\0';
}

static void sync_volumes(void)
{
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, pod.json, pod.len, NULL, NULL), ==, 0);
    struct reef_err err = {0};
    CHECK_OK(reef__agent_pod_volumes(&pod, &d, &err), &err);
    reef_json_doc_free(&d);
}

static void put_cm(const char *data)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"metadata\":{\"name\":\"cm\"},\"data\":%s}", data);
    struct reef_err err = {0};
    CHECK_INT(reef_ctl_call(&agent.env, "PUT", "/api/v1/namespaces/default/configmaps/cm", NULL,
                            body, strlen(body), NULL, &err),
              ==, 200);
}

/* The kubelet's atomic layout: a changed ConfigMap replaces the volume's content in one rename;
 * what did not change is not rewritten; an optional missing one is an empty volume. */
static void test_volume_updates(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":{"
          "\"volumes\":[{\"name\":\"conf\",\"configMap\":{\"name\":\"cm\"}},"
          "{\"name\":\"opt\",\"configMap\":{\"name\":\"later\",\"optional\":true}}],"
          "\"containers\":[{\"name\":\"a\",\"image\":\"app:1\"}]}}");
    post("/api/v1/namespaces/default/configmaps",
         "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"a\":\"A\",\"b\":\"B\"}}");
    /* an older layout's plain file where a link goes */
    char path[4200];
    snprintf(path, sizeof(path), "%s/volumes/conf", tmp);
    CHECK_INT(reef_fs_mkdir_p(path, 0755), ==, 0);
    snprintf(path, sizeof(path), "%s/volumes/conf/a", tmp);
    CHECK_INT(reef_fs_write_atomic(path, "old", 3, 0644, false, NULL), ==, 0);
    sync_volumes();
    char *t = vol_read("conf/a");
    CHECK(t && strcmp(t, "A") == 0);
    free(t);
    char data1[64], link[64];
    vol_link("conf/..data", data1, sizeof(data1));
    CHECK(strncmp(data1, "..", 2) == 0 && strlen(data1) == 18);
    vol_link("conf/a", link, sizeof(link));
    CHECK_STR(link, "..data/a");
    vol_link("opt/..data", link, sizeof(link));
    CHECK(link[0] == '.'); /* the optional one: empty, but there */

    /* unchanged: nothing rewritten */
    struct stat before, after;
    snprintf(path, sizeof(path), "%s/volumes/conf/%s/a", tmp, data1);
    CHECK_INT(stat(path, &before), ==, 0);
    sync_volumes();
    CHECK_INT(stat(path, &after), ==, 0);
    CHECK(before.st_ino == after.st_ino);

    /* a changed value and a removed key */
    put_cm("{\"a\":\"A2\"}");
    sync_volumes();
    t = vol_read("conf/a");
    CHECK(t && strcmp(t, "A2") == 0);
    free(t);
    snprintf(path, sizeof(path), "%s/volumes/conf/b", tmp);
    CHECK(access(path, F_OK) < 0);
    char data2[64];
    vol_link("conf/..data", data2, sizeof(data2));
    CHECK(strcmp(data1, data2) != 0);
    snprintf(path, sizeof(path), "%s/volumes/conf/%s", tmp, data1);
    CHECK(access(path, F_OK) < 0); /* the old version is gone */

    /* the optional one appears */
    post("/api/v1/namespaces/default/configmaps",
         "{\"metadata\":{\"name\":\"later\"},\"data\":{\"k\":\"v\"}}");
    sync_volumes();
    t = vol_read("opt/k");
    CHECK(t && strcmp(t, "v") == 0);
    free(t);
    teardown();
}

/* downwardAPI (fields, whole label maps, resources with a divisor) and projected volumes. */
static void test_downward_and_projected(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\",\"labels\":"
          "{\"tier\":\"front\",\"app\":\"web\"}},\"spec\":{\"volumes\":["
          "{\"name\":\"info\",\"downwardAPI\":{\"items\":["
          "{\"path\":\"labels\",\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}},"
          "{\"path\":\"name\",\"fieldRef\":{\"fieldPath\":\"metadata.name\"},\"mode\":256},"
          "{\"path\":\"mem\",\"resourceFieldRef\":{\"containerName\":\"a\","
          "\"resource\":\"limits.memory\",\"divisor\":\"1Mi\"}}]}},"
          "{\"name\":\"all\",\"projected\":{\"defaultMode\":288,\"sources\":["
          "{\"configMap\":{\"name\":\"cm\",\"items\":[{\"key\":\"a\",\"path\":\"cm/a\"}]}},"
          "{\"secret\":{\"name\":\"s\"}},"
          "{\"downwardAPI\":{\"items\":[{\"path\":\"ns\",\"fieldRef\":"
          "{\"fieldPath\":\"metadata.namespace\"}}]}}]}}],"
          "\"containers\":[{\"name\":\"a\",\"image\":\"app:1\",\"resources\":{\"limits\":"
          "{\"memory\":\"64Mi\"}},\"volumeMounts\":[{\"name\":\"info\",\"mountPath\":\"/info\"},"
          "{\"name\":\"all\",\"mountPath\":\"/all\"}]}]}}");
    post("/api/v1/namespaces/default/configmaps",
         "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"a\":\"A\",\"b\":\"B\"}}");
    post("/api/v1/namespaces/default/secrets",
         "{\"metadata\":{\"name\":\"s\"},\"data\":{\"token\":\"dG9r\"}}");
    sync_volumes();
    const char *want[][2] = {{"info/labels", "app=\"web\"\ntier=\"front\""},
                             {"info/name", "web-1"},
                             {"info/mem", "64"},
                             {"all/cm/a", "A"},
                             {"all/token", "tok"},
                             {"all/ns", "default"}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char *t = vol_read(want[i][0]);
        if (!t || strcmp(t, want[i][1]) != 0)
            TEST_FAIL("%s: \"%s\", want \"%s\"", want[i][0], t ? t : "(none)", want[i][1]);
        free(t);
    }
    struct stat st;
    char path[4200];
    snprintf(path, sizeof(path), "%s/volumes/info/name", tmp);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0400); /* the item's mode */
    snprintf(path, sizeof(path), "%s/volumes/all/token", tmp);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0440); /* the projection's defaultMode */
    struct reef_ctr_config cfg;
    struct reef_err err = {0};
    CHECK_INT(config(0, &cfg, &err), ==, 0);
    const struct reef_ctr_volume *v = mount_at(&cfg, "/all");
    CHECK(v && v->readonly && strstr(v->source, "/volumes/all"));
    reef_ctr_config_free(&cfg);
    teardown();
}

/* A token projection reef cannot issue: said so. */
static void test_projected_token(void)
{
    struct reef_err err = {0};
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":{"
          "\"volumes\":[{\"name\":\"tok\",\"projected\":{\"sources\":[{\"serviceAccountToken\":"
          "{\"path\":\"token\"}}]}}],\"containers\":[{\"name\":\"a\",\"image\":\"app:1\"}]}}");
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, pod.json, pod.len, NULL, NULL), ==, 0);
    CHECK_INT(reef__agent_pod_volumes(&pod, &d, &err), ==, -EOPNOTSUPP);
    CHECK(strstr(err.msg, "only configMap, secret and downwardAPI sources can be projected"));
    reef_json_doc_free(&d);
    teardown();
}

/* Item paths as the kubelet allows them: "a..b" is a name, "../x" and "a/../b" escape. */
static void test_volume_paths(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":{"
          "\"volumes\":[{\"name\":\"ok\",\"configMap\":{\"name\":\"cm\"}},"
          "{\"name\":\"bad\",\"configMap\":{\"name\":\"cm\",\"items\":[{\"key\":\"a..b\","
          "\"path\":\"x/../../escape\"}]}}],\"containers\":[{\"name\":\"a\",\"image\":\"app:1\"}]}}");
    post("/api/v1/namespaces/default/configmaps",
         "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"a..b\":\"dots\"}}");
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, pod.json, pod.len, NULL, NULL), ==, 0);
    struct reef_err err = {0};
    CHECK_INT(reef__agent_pod_volumes(&pod, &d, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "volume item path \"x/../../escape\" is not allowed") != NULL);
    reef_json_doc_free(&d);
    char *t = vol_read("ok/a..b");
    CHECK(t && strcmp(t, "dots") == 0);
    free(t);
    teardown();
}

/* fsGroup and supplementalGroups: the process's groups; fsGroup owns the volumes. */
static void test_fs_group(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":{"
          "\"securityContext\":{\"runAsUser\":1000,\"fsGroup\":2000,"
          "\"supplementalGroups\":[3000,4000]},"
          "\"volumes\":[{\"name\":\"work\",\"emptyDir\":{}},{\"name\":\"sec\",\"secret\":"
          "{\"secretName\":\"s\",\"defaultMode\":256}}],"
          "\"containers\":[{\"name\":\"a\",\"image\":\"app:1\"}]}}");
    post("/api/v1/namespaces/default/secrets",
         "{\"metadata\":{\"name\":\"s\"},\"data\":{\"token\":\"dG9r\"}}");
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, pod.json, pod.len, NULL, NULL), ==, 0);
    struct reef_err err = {0};
    CHECK_OK(reef__agent_pod_files(&pod, &d, &err), &err);
    reef_json_doc_free(&d);
    struct stat st;
    char path[4200];
    snprintf(path, sizeof(path), "%s/volumes/work", tmp);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_gid, ==, 2000);
    CHECK_INT(st.st_mode & 07777, ==, 02777);
    snprintf(path, sizeof(path), "%s/volumes/sec/token", tmp);
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_gid, ==, 2000);
    CHECK_INT(st.st_mode & 07777, ==, 0440); /* the group may read what defaultMode 0400 hides */
    struct reef_ctr_config cfg;
    CHECK_INT(config(0, &cfg, &err), ==, 0);
    CHECK_INT(cfg.ngroups_add, ==, 3);
    CHECK_STR(cfg.groups_add[0], "2000");
    CHECK_STR(cfg.groups_add[2], "4000");
    reef_ctr_config_free(&cfg);
    teardown();
}

/* spec.hostAliases: appended to the pod's /etc/hosts as the kubelet writes them. */
static void test_host_aliases(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":{"
          "\"hostAliases\":[{\"ip\":\"10.1.2.3\",\"hostnames\":[\"foo.local\",\"bar\"]},"
          "{\"ip\":\"10.1.2.4\",\"hostnames\":[\"baz\"]}],"
          "\"containers\":[{\"name\":\"a\",\"image\":\"app:1\"}]}}");
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, pod.json, pod.len, NULL, NULL), ==, 0);
    struct reef_err err = {0};
    CHECK_OK(reef__agent_pod_files(&pod, &d, &err), &err);
    reef_json_doc_free(&d);
    char path[4200], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/etc/hosts", tmp);
    CHECK_INT(reef_fs_read_string(path, 4096, &text, &len, NULL), ==, 0);
    CHECK(strstr(text, "10.42.0.9\tweb-1\n\n# Entries added by HostAliases.\n"
                       "10.1.2.3\tfoo.local\tbar\n10.1.2.4\tbaz\n") != NULL);
    free(text);
    teardown();
}

/* imagePullSecrets: docker configs read as the kubelet reads them. */
static void test_pull_secrets(void)
{
    setup("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"default\"},\"spec\":{"
          "\"imagePullSecrets\":[{\"name\":\"json\"},{\"name\":\"old\"},{\"name\":\"gone\"}],"
          "\"containers\":[{\"name\":\"a\",\"image\":\"app:1\"}]}}");
    /* {"auths":{"https://index.docker.io/v1/":{"username":"hub","password":"pw1"},
     *  "reg.example:5000":{"auth":"dTI6cDpw"}}}  (u2:p:p) */
    post("/api/v1/namespaces/default/secrets",
         "{\"metadata\":{\"name\":\"json\"},\"type\":\"kubernetes.io/dockerconfigjson\","
         "\"data\":{\".dockerconfigjson\":\"eyJhdXRocyI6eyJodHRwczovL2luZGV4LmRvY2tlci5pby92MS8i"
         "OnsidXNlcm5hbWUiOiJodWIiLCJwYXNzd29yZCI6InB3MSJ9LCJyZWcuZXhhbXBsZTo1MDAwIjp7ImF1dGgi"
         "OiJkVEk2Y0RwdyJ9fX0=\"}}");
    /* {"reg.example:5000":{"username":"later","password":"x"},"http://other/":{"username":"o",
     *  "password":"p"}} */
    post("/api/v1/namespaces/default/secrets",
         "{\"metadata\":{\"name\":\"old\"},\"type\":\"kubernetes.io/dockercfg\","
         "\"data\":{\".dockercfg\":\"eyJyZWcuZXhhbXBsZTo1MDAwIjp7InVzZXJuYW1lIjoibGF0ZXIiLCJwYX"
         "Nzd29yZCI6IngifSwiaHR0cDovL290aGVyLyI6eyJ1c2VybmFtZSI6Im8iLCJwYXNzd29yZCI6InAifX0=\"}}");
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    CHECK_INT(reef_json_parse(&d, pod.json, pod.len, NULL, NULL), ==, 0);
    struct reef_err err = {0};
    struct reef_agent_creds c;
    /* the missing one is said, the others still count */
    CHECK_INT(reef__agent_pull_creds(&pod, &d, &c, &err), ==, -ENOENT);
    CHECK(strstr(err.msg, "Unable to retrieve some image pull secrets (gone)") != NULL);
    reef_json_doc_free(&d);
    CHECK_INT(c.n, ==, 3);
    CHECK_STR(c.auth[0].host, "registry-1.docker.io");
    CHECK_STR(c.auth[0].username, "hub");
    CHECK_STR(c.auth[0].password, "pw1");
    CHECK_STR(c.auth[1].host, "reg.example:5000");
    CHECK_STR(c.auth[1].username, "u2"); /* the first secret naming a host wins */
    CHECK_STR(c.auth[1].password, "p:p");
    CHECK_STR(c.auth[2].host, "other");
    reef__agent_creds_free(&c);
    teardown();
}

static void test_quantity(void)
{
    double v;
    CHECK_INT(reef__agent_quantity("500m", &v), ==, 0);
    CHECK(v > 0.4999 && v < 0.5001);
    CHECK_INT(reef__agent_quantity("128Mi", &v), ==, 0);
    CHECK(v == 134217728.0);
    CHECK_INT(reef__agent_quantity("1G", &v), ==, 0);
    CHECK(v == 1e9);
    CHECK_INT(reef__agent_quantity("2", &v), ==, 0);
    CHECK(v == 2);
    CHECK_INT(reef__agent_quantity("1e3", &v), ==, 0);
    CHECK(v == 1000);
    CHECK_INT(reef__agent_quantity("12x", &v), ==, -EINVAL);
    CHECK_INT(reef__agent_quantity("", &v), ==, -EINVAL);
    CHECK_INT(reef__agent_quantity("-1", &v), ==, -EINVAL);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_image_defaults);
    TEST_RUN(test_env);
    TEST_RUN(test_errors);
    TEST_RUN(test_security_and_volumes);
    TEST_RUN(test_volume_updates);
    TEST_RUN(test_downward_and_projected);
    TEST_RUN(test_projected_token);
    TEST_RUN(test_volume_paths);
    TEST_RUN(test_fs_group);
    TEST_RUN(test_host_aliases);
    TEST_RUN(test_pull_secrets);
    TEST_RUN(test_quantity);
    return test_done();
}
