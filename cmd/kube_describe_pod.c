/* reef describe: pods and the pod templates of workloads, section by section as kubectl describe
 * 1.32. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/kube.h"
#include "cmd/kube_describe.h"
#include "core/json.h"
#include "orchestrate/tables.h"

#define W reef__desc_w
#define S reef__ds
#define J reef__dj
#define I reef__di
#define N reef__dn

static const __int128 BILLION = 1000000000;

/* ---- pods and containers ---- */

const char *reef__desc_controlled_by(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    int refs = J(d, v, "metadata.ownerReferences");
    struct reef_json_iter it = reef_json_iter(d, refs);
    while (refs >= 0 && reef_json_next(d, &it)) {
        if (reef__db(d, it.val, "controller")) {
            char *s = NULL;
            if (asprintf(&s, "%s/%s", S(c, d, it.val, "kind"), S(c, d, it.val, "name")) < 0)
                return "";
            return reef__desc_keep(c, s);
        }
    }
    return "";
}

static void resources(struct reef__desc *c, const struct reef_json_doc *d, int res, int level)
{
    static const char *const which[] = {"limits", "requests"};
    static const char *const title[] = {"Limits", "Requests"};
    for (int i = 0; i < 2; i++) {
        int m = J(d, res, which[i]);
        size_t n;
        const char **keys = reef__desc_keys(c, d, m, &n);
        if (n)
            W(c, level, "%s:\n", title[i]);
        for (size_t k = 0; keys && k < n; k++)
            W(c, level + 1, "%s:\t%s\n", keys[k],
              reef__desc_qty_text(c, S(c, d, reef_json_member(d, m, keys[k]), "")));
    }
}

static const char *probe_text(struct reef__desc *c, const struct reef_json_doc *d, int p)
{
    char attrs[256];
    snprintf(attrs, sizeof(attrs),
             "delay=%llds timeout=%llds period=%llds #success=%lld #failure=%lld",
             (long long)I(d, p, "initialDelaySeconds"), (long long)I(d, p, "timeoutSeconds"),
             (long long)I(d, p, "periodSeconds"), (long long)I(d, p, "successThreshold"),
             (long long)I(d, p, "failureThreshold"));
    struct reef_buf b;
    reef_buf_init(&b);
    if (J(d, p, "exec") >= 0) {
        reef_buf_puts(&b, "exec [");
        int cmd = J(d, p, "exec.command");
        struct reef_json_iter it = reef_json_iter(d, cmd);
        while (cmd >= 0 && reef_json_next(d, &it))
            reef_buf_printf(&b, "%s%s", it.index ? " " : "", S(c, d, it.val, ""));
        reef_buf_printf(&b, "] %s", attrs);
    } else if (J(d, p, "httpGet") >= 0) {
        const char *scheme = S(c, d, p, "httpGet.scheme");
        const char *host = S(c, d, p, "httpGet.host");
        const char *port = J(d, p, "httpGet.port") >= 0 ? S(c, d, p, "httpGet.port") : "0";
        const char *path = S(c, d, p, "httpGet.path");
        reef_buf_puts(&b, "http-get ");
        for (const char *s = scheme; *s; s++)
            reef_buf_putc(&b, (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s));
        if (*scheme)
            reef_buf_putc(&b, ':');
        if (*port)
            reef_buf_printf(&b, strchr(host, ':') ? "//[%s]:%s" : "//%s:%s", host, port);
        else
            reef_buf_printf(&b, "//%s", host);
        if (*path && path[0] != '/')
            reef_buf_putc(&b, '/');
        reef_buf_printf(&b, "%s %s", path, attrs);
    } else if (J(d, p, "tcpSocket") >= 0) {
        reef_buf_printf(&b, "tcp-socket %s:%s %s", S(c, d, p, "tcpSocket.host"),
                        J(d, p, "tcpSocket.port") >= 0 ? S(c, d, p, "tcpSocket.port") : "0", attrs);
    } else if (J(d, p, "grpc") >= 0) {
        reef_buf_printf(&b, "grpc <pod>:%lld %s %s", (long long)I(d, p, "grpc.port"),
                        S(c, d, p, "grpc.service"), attrs);
    } else {
        reef_buf_printf(&b, "unknown %s", attrs);
    }
    return reef__desc_keep(c, reef_buf_steal(&b));
}

/* A fieldRef value as kubectl resolves it for a pod: its scheme converts only the name and the
 * namespace (client-go's default field label conversion), anything else resolves to "". */
static const char *field_ref(struct reef__desc *c, const struct reef_json_doc *pd, int pod,
                             const char *path)
{
    if (!pd || (strcmp(path, "metadata.name") != 0 && strcmp(path, "metadata.namespace") != 0))
        return "";
    return S(c, pd, pod, path);
}

static const char *resource_ref(struct reef__desc *c, const struct reef_json_doc *d, int ctr,
                                int ref)
{
    const char *res = S(c, d, ref, "resource");
    const char *div = S(c, d, ref, "divisor");
    struct reef__qty dq = reef__qty_parse(*div ? div : "1");
    if (dq.nano == 0)
        dq = reef__qty_parse("1");
    char path[128];
    const char *dot = strchr(res, '.');
    if (!dot)
        return "";
    snprintf(path, sizeof(path), "resources.%.*s", (int)(dot - res), res);
    int m = J(d, ctr, path);
    int x = m >= 0 ? reef_json_member(d, m, dot + 1) : -1;
    struct reef__qty q = reef__qty_parse(x >= 0 ? S(c, d, x, "") : "0");
    if (!q.ok || dq.nano <= 0)
        return "";
    double r;
    if (strcmp(dot + 1, "cpu") == 0) {
        __int128 qm = (q.nano + 999999) / 1000000, dm = (dq.nano + 999999) / 1000000;
        r = ceil((double)qm / (double)dm);
    } else {
        __int128 qv = (q.nano + BILLION - 1) / BILLION, dv = (dq.nano + BILLION - 1) / BILLION;
        r = ceil((double)qv / (double)dv);
    }
    char buf[64];
    snprintf(buf, sizeof(buf), "%lld", (long long)r);
    if (strcmp(buf, "0") == 0 &&
        (strcmp(res, "limits.cpu") == 0 || strcmp(res, "limits.memory") == 0))
        return "node allocatable";
    return reef__desc_keep(c, strdup(buf));
}

static void container_state(struct reef__desc *c, const char *title, const struct reef_json_doc *d,
                            int st)
{
    if (J(d, st, "running") >= 0) {
        W(c, 2, "%s:\tRunning\n", title);
        W(c, 3, "Started:\t%s\n", reef__desc_time(c, d, st, "running.startedAt"));
    } else if (J(d, st, "waiting") >= 0) {
        W(c, 2, "%s:\tWaiting\n", title);
        if (*S(c, d, st, "waiting.reason"))
            W(c, 3, "Reason:\t%s\n", S(c, d, st, "waiting.reason"));
    } else if (J(d, st, "terminated") >= 0) {
        int t = J(d, st, "terminated");
        W(c, 2, "%s:\tTerminated\n", title);
        if (*S(c, d, t, "reason"))
            W(c, 3, "Reason:\t%s\n", S(c, d, t, "reason"));
        if (*S(c, d, t, "message"))
            W(c, 3, "Message:\t%s\n", S(c, d, t, "message"));
        W(c, 3, "Exit Code:\t%lld\n", (long long)I(d, t, "exitCode"));
        if (I(d, t, "signal") > 0)
            W(c, 3, "Signal:\t%lld\n", (long long)I(d, t, "signal"));
        W(c, 3, "Started:\t%s\n", reef__desc_time(c, d, t, "startedAt"));
        W(c, 3, "Finished:\t%s\n", reef__desc_time(c, d, t, "finishedAt"));
    } else {
        W(c, 2, "%s:\tWaiting\n", title);
    }
}

static void print_lines(struct reef__desc *c, int level, const char *s)
{
    for (;;) {
        const char *nl = strchr(s, '\n');
        W(c, level, "%.*s\n", (int)(nl ? nl - s : (long)strlen(s)), s);
        if (!nl)
            break;
        s = nl + 1;
    }
}

struct mount {
    const char *path, *name, *sub;
    bool ro;
};

static int mount_cmp(const void *a, const void *b)
{
    return strcmp(((const struct mount *)a)->path, ((const struct mount *)b)->path);
}

/* describeContainers: pd/pod is the pod (NULL for a template), statuses its container statuses */
static void containers(struct reef__desc *c, const char *label, const struct reef_json_doc *d,
                       int list, int statuses, const char *space, int pod)
{
    int n = list >= 0 ? reef_json_count(d, list) : 0;
    W(c, 0, "%s%s:%s\n", space, label, n > 0 ? "" : " <none>");
    struct reef_json_iter it = reef_json_iter(d, list);
    while (list >= 0 && reef_json_next(d, &it)) {
        int ct = it.val;
        const char *name = S(c, d, ct, "name");
        int st = -1;
        struct reef_json_iter si = reef_json_iter(d, statuses);
        while (statuses >= 0 && reef_json_next(d, &si))
            if (strcmp(S(c, d, si.val, "name"), name) == 0)
                st = si.val;
        W(c, 1, "%s%s:\n", *space ? " " : "", name);
        if (st >= 0)
            W(c, 2, "Container ID:\t%s\n", S(c, d, st, "containerID"));
        W(c, 2, "Image:\t%s\n", S(c, d, ct, "image"));
        if (st >= 0)
            W(c, 2, "Image ID:\t%s\n", S(c, d, st, "imageID"));
        for (int host = 0; host < 2; host++) {
            struct reef_buf b;
            reef_buf_init(&b);
            int ports = J(d, ct, "ports");
            struct reef_json_iter pi = reef_json_iter(d, ports);
            while (ports >= 0 && reef_json_next(d, &pi))
                reef_buf_printf(&b, "%s%lld/%s", pi.index ? ", " : "",
                                (long long)I(d, pi.val, host ? "hostPort" : "containerPort"),
                                S(c, d, pi.val, "protocol"));
            bool many = b.data && strchr(b.data, ',');
            W(c, 2, "%s%s:\t%s\n", host ? "Host Port" : "Port", many ? "s" : "",
              b.len ? b.data : "<none>");
            reef_buf_free(&b);
        }
        if (J(d, ct, "securityContext.seccompProfile") >= 0) {
            W(c, 2, "SeccompProfile:\t%s\n", S(c, d, ct, "securityContext.seccompProfile.type"));
            if (strcmp(S(c, d, ct, "securityContext.seccompProfile.type"), "Localhost") == 0)
                W(c, 3, "LocalhostProfile:\t%s\n",
                  S(c, d, ct, "securityContext.seccompProfile.localhostProfile"));
        }
        static const char *const cmdk[] = {"command", "args"};
        static const char *const cmdt[] = {"Command", "Args"};
        for (int k = 0; k < 2; k++) {
            int a = J(d, ct, cmdk[k]);
            if (N(d, ct, cmdk[k]) <= 0)
                continue;
            W(c, 2, "%s:\n", cmdt[k]);
            struct reef_json_iter ai = reef_json_iter(d, a);
            while (reef_json_next(d, &ai))
                print_lines(c, 3, S(c, d, ai.val, ""));
        }
        if (st >= 0) {
            container_state(c, "State", d, J(d, st, "state"));
            if (J(d, st, "lastState.terminated") >= 0)
                container_state(c, "Last State", d, J(d, st, "lastState"));
            W(c, 2, "Ready:\t%s\n", reef__db(d, st, "ready") ? "True" : "False");
            W(c, 2, "Restart Count:\t%lld\n", (long long)I(d, st, "restartCount"));
        }
        resources(c, d, J(d, ct, "resources"), 2);
        static const char *const pk[] = {"livenessProbe", "readinessProbe", "startupProbe"};
        static const char *const pt[] = {"Liveness", "Readiness", "Startup"};
        for (int k = 0; k < 3; k++)
            if (J(d, ct, pk[k]) >= 0)
                W(c, 2, "%s:\t%s\n", pt[k], probe_text(c, d, J(d, ct, pk[k])));
        int ef = J(d, ct, "envFrom");
        if (N(d, ct, "envFrom") > 0) {
            W(c, 2, "Environment Variables from:\n");
            struct reef_json_iter ei = reef_json_iter(d, ef);
            while (reef_json_next(d, &ei)) {
                const char *from = "", *nm = "";
                bool opt = false;
                if (J(d, ei.val, "configMapRef") >= 0) {
                    from = "ConfigMap";
                    nm = S(c, d, ei.val, "configMapRef.name");
                    opt = reef__db(d, ei.val, "configMapRef.optional");
                } else if (J(d, ei.val, "secretRef") >= 0) {
                    from = "Secret";
                    nm = S(c, d, ei.val, "secretRef.name");
                    opt = reef__db(d, ei.val, "secretRef.optional");
                }
                const char *prefix = S(c, d, ei.val, "prefix");
                if (!*prefix)
                    W(c, 3, "%s\t%s\tOptional: %s\n", nm, from, opt ? "true" : "false");
                else
                    W(c, 3, "%s\t%s with prefix '%s'\tOptional: %s\n", nm, from, prefix,
                      opt ? "true" : "false");
            }
        }
        int env = J(d, ct, "env");
        W(c, 2, "Environment:%s\n", N(d, ct, "env") > 0 ? "" : "\t<none>");
        struct reef_json_iter ei = reef_json_iter(d, env);
        while (env >= 0 && reef_json_next(d, &ei)) {
            int e = ei.val;
            const char *en = S(c, d, e, "name");
            if (J(d, e, "valueFrom") < 0) {
                const char *val = S(c, d, e, "value");
                bool firstl = true;
                for (;;) {
                    const char *nl = strchr(val, '\n');
                    int l = (int)(nl ? nl - val : (long)strlen(val));
                    if (firstl)
                        W(c, 3, "%s:\t%.*s\n", en, l, val);
                    else
                        W(c, 3, "\t%.*s\n", l, val);
                    firstl = false;
                    if (!nl)
                        break;
                    val = nl + 1;
                }
            } else if (J(d, e, "valueFrom.fieldRef") >= 0) {
                const char *fp = S(c, d, e, "valueFrom.fieldRef.fieldPath");
                W(c, 3, "%s:\t%s (%s:%s)\n", en, field_ref(c, pod >= 0 ? d : NULL, pod, fp),
                  S(c, d, e, "valueFrom.fieldRef.apiVersion"), fp);
            } else if (J(d, e, "valueFrom.resourceFieldRef") >= 0) {
                W(c, 3, "%s:\t%s (%s)\n", en,
                  resource_ref(c, d, ct, J(d, e, "valueFrom.resourceFieldRef")),
                  S(c, d, e, "valueFrom.resourceFieldRef.resource"));
            } else if (J(d, e, "valueFrom.secretKeyRef") >= 0) {
                W(c, 3, "%s:\t<set to the key '%s' in secret '%s'>\tOptional: %s\n", en,
                  S(c, d, e, "valueFrom.secretKeyRef.key"),
                  S(c, d, e, "valueFrom.secretKeyRef.name"),
                  reef__db(d, e, "valueFrom.secretKeyRef.optional") ? "true" : "false");
            } else if (J(d, e, "valueFrom.configMapKeyRef") >= 0) {
                W(c, 3, "%s:\t<set to the key '%s' of config map '%s'>\tOptional: %s\n", en,
                  S(c, d, e, "valueFrom.configMapKeyRef.key"),
                  S(c, d, e, "valueFrom.configMapKeyRef.name"),
                  reef__db(d, e, "valueFrom.configMapKeyRef.optional") ? "true" : "false");
            }
        }
        int vm = J(d, ct, "volumeMounts");
        int nvm = N(d, ct, "volumeMounts");
        W(c, 2, "Mounts:%s\n", nvm > 0 ? "" : "\t<none>");
        struct mount *m = calloc((size_t)nvm + 1, sizeof(*m));
        size_t nm = 0;
        struct reef_json_iter mi = reef_json_iter(d, vm);
        while (m && vm >= 0 && reef_json_next(d, &mi) && nm < (size_t)nvm)
            m[nm++] = (struct mount){S(c, d, mi.val, "mountPath"), S(c, d, mi.val, "name"),
                                     S(c, d, mi.val, "subPath"), reef__db(d, mi.val, "readOnly")};
        /* sort.Sort of so few mounts is an insertion sort: stable */
        for (size_t a = 1; m && a < nm; a++)
            for (size_t b = a; b > 0 && mount_cmp(&m[b], &m[b - 1]) < 0; b--) {
                struct mount t = m[b];
                m[b] = m[b - 1];
                m[b - 1] = t;
            }
        for (size_t a = 0; m && a < nm; a++) {
            if (*m[a].sub)
                W(c, 3, "%s from %s (%s,path=\"%s\")\n", m[a].path, m[a].name,
                  m[a].ro ? "ro" : "rw", m[a].sub);
            else
                W(c, 3, "%s from %s (%s)\n", m[a].path, m[a].name, m[a].ro ? "ro" : "rw");
        }
        free(m);
        int vd = J(d, ct, "volumeDevices");
        if (N(d, ct, "volumeDevices") > 0) {
            W(c, 2, "Devices:%s\n", nvm > 0 ? "" : "\t<none>");
            struct reef_json_iter di = reef_json_iter(d, vd);
            while (reef_json_next(d, &di))
                W(c, 3, "%s from %s\n", S(c, d, di.val, "devicePath"), S(c, d, di.val, "name"));
        }
    }
}

static const char *tf(bool b)
{
    return b ? "true" : "false";
}

static void volumes(struct reef__desc *c, const struct reef_json_doc *d, int list,
                    const char *space)
{
    if (list < 0 || reef_json_count(d, list) <= 0) {
        W(c, 0, "%sVolumes:\t<none>\n", space);
        return;
    }
    W(c, 0, "%sVolumes:\n", space);
    struct reef_json_iter it = reef_json_iter(d, list);
    while (reef_json_next(d, &it)) {
        int v = it.val;
        W(c, 1, "%s%s:\n", *space ? " " : "", S(c, d, v, "name"));
        int x;
        if ((x = J(d, v, "hostPath")) >= 0) {
            const char *t = S(c, d, x, "type");
            W(c, 2,
              "Type:\tHostPath (bare host directory volume)\n    Path:\t%s\n    "
              "HostPathType:\t%s\n",
              S(c, d, x, "path"), J(d, x, "type") >= 0 ? t : "<none>");
        } else if ((x = J(d, v, "emptyDir")) >= 0) {
            const char *sl = "<unset>";
            if (J(d, x, "sizeLimit") >= 0) {
                struct reef__qty q = reef__qty_parse(S(c, d, x, "sizeLimit"));
                if (q.nano > 0)
                    sl = reef__desc_qty_text(c, S(c, d, x, "sizeLimit"));
            }
            W(c, 2,
              "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    "
              "Medium:\t%s\n    "
              "SizeLimit:\t%s\n",
              S(c, d, x, "medium"), sl);
        } else if ((x = J(d, v, "secret")) >= 0) {
            W(c, 2,
              "Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t%s\n    "
              "Optional:\t%s\n",
              S(c, d, x, "secretName"), tf(reef__db(d, x, "optional")));
        } else if ((x = J(d, v, "configMap")) >= 0) {
            W(c, 2,
              "Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t%s\n    "
              "Optional:\t%s\n",
              S(c, d, x, "name"), tf(reef__db(d, x, "optional")));
        } else if ((x = J(d, v, "nfs")) >= 0) {
            W(c, 2,
              "Type:\tNFS (an NFS mount that lasts the lifetime of a pod)\n    Server:\t%s\n    "
              "Path:\t%s\n    "
              "ReadOnly:\t%s\n",
              S(c, d, x, "server"), S(c, d, x, "path"), tf(reef__db(d, x, "readOnly")));
        } else if ((x = J(d, v, "persistentVolumeClaim")) >= 0) {
            W(c, 2,
              "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
              "namespace)\n    ClaimName:\t%s\n    ReadOnly:\t%s\n",
              S(c, d, x, "claimName"), tf(reef__db(d, x, "readOnly")));
        } else if ((x = J(d, v, "downwardAPI")) >= 0) {
            W(c, 2,
              "Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n");
            int items = J(d, x, "items");
            struct reef_json_iter ii = reef_json_iter(d, items);
            while (items >= 0 && reef_json_next(d, &ii)) {
                if (J(d, ii.val, "fieldRef") >= 0)
                    W(c, 3, "%s -> %s\n", S(c, d, ii.val, "fieldRef.fieldPath"),
                      S(c, d, ii.val, "path"));
                if (J(d, ii.val, "resourceFieldRef") >= 0)
                    W(c, 3, "%s -> %s\n", S(c, d, ii.val, "resourceFieldRef.resource"),
                      S(c, d, ii.val, "path"));
            }
        } else if ((x = J(d, v, "projected")) >= 0) {
            W(c, 2,
              "Type:\tProjected (a volume that contains injected data from multiple sources)\n");
            int srcs = J(d, x, "sources");
            struct reef_json_iter si = reef_json_iter(d, srcs);
            while (srcs >= 0 && reef_json_next(d, &si)) {
                int s = si.val;
                if (J(d, s, "secret") >= 0)
                    W(c, 2, "SecretName:\t%s\n    SecretOptionalName:\t%s\n",
                      S(c, d, s, "secret.name"),
                      J(d, s, "secret.optional") >= 0 ? "<set>" : "<nil>");
                else if (J(d, s, "downwardAPI") >= 0)
                    W(c, 2, "DownwardAPI:\ttrue\n");
                else if (J(d, s, "configMap") >= 0)
                    W(c, 2, "ConfigMapName:\t%s\n    ConfigMapOptional:\t%s\n",
                      S(c, d, s, "configMap.name"),
                      J(d, s, "configMap.optional") >= 0 ? "<set>" : "<nil>");
                else if (J(d, s, "serviceAccountToken") >= 0)
                    W(c, 2, "TokenExpirationSeconds:\t%lld\n",
                      (long long)I(d, s, "serviceAccountToken.expirationSeconds"));
            }
        } else if ((x = J(d, v, "csi")) >= 0) {
            W(c, 2,
              "Type:\tCSI (a Container Storage Interface (CSI) volume source)\n    Driver:\t%s\n   "
              " "
              "FSType:\t%s\n    ReadOnly:\t%s\n",
              S(c, d, x, "driver"), S(c, d, x, "fsType"), tf(reef__db(d, x, "readOnly")));
            /* printCSIPersistentVolumeAttributesMultiline writes every piece at level 2 */
            int attrs = J(d, x, "volumeAttributes");
            W(c, 2, "VolumeAttributes:\t");
            size_t n;
            const char **keys = reef__desc_keys(c, d, attrs, &n);
            if (!n)
                W(c, 0, "<none>\n");
            for (size_t k = 0; keys && k < n; k++) {
                if (k)
                    W(c, 2, "%s", "\t");
                char *line = NULL;
                if (asprintf(&line, "%s=%s", keys[k],
                             S(c, d, reef_json_member(d, attrs, keys[k]), "")) < 0)
                    break;
                reef__desc_keep(c, line);
                if (strlen(line) > 140)
                    W(c, 2, "%.140s...\n", line);
                else
                    W(c, 2, "%s\n", line);
            }
        } else if ((x = J(d, v, "rbd")) >= 0) {
            struct reef_buf mons;
            reef_buf_init(&mons);
            int m = J(d, x, "monitors");
            struct reef_json_iter mi = reef_json_iter(d, m);
            while (m >= 0 && reef_json_next(d, &mi))
                reef_buf_printf(&mons, "%s%s", mi.index ? " " : "", S(c, d, mi.val, ""));
            /* SecretRef is printed by its generated String(): "nil" when unset */
            char *ref = NULL;
            if (J(d, x, "secretRef") >= 0 &&
                asprintf(&ref, "&LocalObjectReference{Name:%s,}", S(c, d, x, "secretRef.name")) < 0)
                ref = NULL;
            W(c, 2,
              "Type:\tRBD (a Rados Block Device mount on the host that shares a pod's lifetime)\n"
              "    CephMonitors:\t[%s]\n    RBDImage:\t%s\n    FSType:\t%s\n    RBDPool:\t%s\n"
              "    RadosUser:\t%s\n    Keyring:\t%s\n    SecretRef:\t%s\n    ReadOnly:\t%s\n",
              mons.data ? mons.data : "", S(c, d, x, "image"), S(c, d, x, "fsType"),
              S(c, d, x, "pool"), S(c, d, x, "user"), S(c, d, x, "keyring"), ref ? ref : "nil",
              tf(reef__db(d, x, "readOnly")));
            free(ref);
            reef_buf_free(&mons);
        } else if ((x = J(d, v, "image")) >= 0) {
            W(c, 2,
              "Type:\tImage (a container image or OCI artifact)\n    Reference:\t%s\n    "
              "PullPolicy:\t%s\n",
              S(c, d, x, "reference"), S(c, d, x, "pullPolicy"));
        } else {
            W(c, 1, "<unknown>\n");
        }
    }
}

struct tol {
    const char *key;
    int v;
};

static void tolerations(struct reef__desc *c, const char *title, const struct reef_json_doc *d,
                        int list)
{
    W(c, 0, "%s:\t", title);
    int n = list >= 0 && reef_json_kind(d, list) == REEF_JSON_ARRAY ? reef_json_count(d, list) : 0;
    if (n <= 0) {
        W(c, 0, "<none>\n");
        return;
    }
    struct tol *t = calloc((size_t)n, sizeof(*t));
    if (!t)
        return;
    size_t k = 0;
    struct reef_json_iter it = reef_json_iter(d, list);
    while (reef_json_next(d, &it) && k < (size_t)n)
        t[k++] = (struct tol){S(c, d, it.val, "key"), it.val};
    for (size_t a = 1; a < k; a++)
        for (size_t b = a; b > 0 && strcmp(t[b].key, t[b - 1].key) < 0; b--) {
            struct tol x = t[b];
            t[b] = t[b - 1];
            t[b - 1] = x;
        }
    for (size_t a = 0; a < k; a++) {
        int v = t[a].v;
        if (a)
            W(c, 0, "\t");
        const char *key = t[a].key, *val = S(c, d, v, "value"), *eff = S(c, d, v, "effect");
        W(c, 0, "%s", key);
        if (*val)
            W(c, 0, "=%s", val);
        if (*eff)
            W(c, 0, ":%s", eff);
        if (strcmp(S(c, d, v, "operator"), "Exists") == 0 && !*val)
            W(c, 0, "%s", *key || *eff ? " op=Exists" : "op=Exists");
        if (J(d, v, "tolerationSeconds") >= 0)
            W(c, 0, " for %llds", (long long)I(d, v, "tolerationSeconds"));
        W(c, 0, "\n");
    }
    free(t);
}

static void spread_constraints(struct reef__desc *c, const struct reef_json_doc *d, int list,
                               const char *space)
{
    int n = list >= 0 ? reef_json_count(d, list) : 0;
    if (n <= 0)
        return;
    W(c, 0, "%sTopology Spread Constraints:\t", space);
    /* sorted by topology key (sort.Slice: by insertion for so few) */
    int *order = calloc((size_t)n, sizeof(*order));
    if (!order)
        return;
    int k = 0;
    struct reef_json_iter it = reef_json_iter(d, list);
    while (reef_json_next(d, &it) && k < n)
        order[k++] = it.val;
    for (int a = 1; a < k; a++)
        for (int b = a; b > 0 && strcmp(S(c, d, order[b], "topologyKey"),
                                        S(c, d, order[b - 1], "topologyKey")) < 0;
             b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int i = 0; i < k; i++) {
        int tsc = order[i];
        if (i)
            W(c, 0, "%s\t", space);
        W(c, 0, "%s:%s when max skew %lld is exceeded", S(c, d, tsc, "topologyKey"),
          S(c, d, tsc, "whenUnsatisfiable"), (long long)I(d, tsc, "maxSkew"));
        int ls = J(d, tsc, "labelSelector");
        if (ls >= 0) {
            struct reef_buf b;
            reef_buf_init(&b);
            reef__desc_selector(&b, d, ls);
            W(c, 0, " for selector %s", b.len ? b.data : "<none>");
            reef_buf_free(&b);
        }
        W(c, 0, "\n");
    }
    free(order);
}

static const char *qos_class(struct reef__desc *c, const struct reef_json_doc *d, int pod)
{
    const char *q = S(c, d, pod, "status.qosClass");
    if (*q)
        return q;
    /* ComputePodQOS over cpu and memory */
    static const char *const rn[] = {"cpu", "memory"};
    __int128 req[2] = {0}, lim[2] = {0};
    bool hreq[2] = {0}, hlim[2] = {0}, guaranteed = true;
    static const char *const lists[] = {"spec.containers", "spec.initContainers"};
    for (int l = 0; l < 2; l++) {
        int arr = J(d, pod, lists[l]);
        struct reef_json_iter it = reef_json_iter(d, arr);
        while (arr >= 0 && reef_json_next(d, &it)) {
            int got = 0;
            for (int r = 0; r < 2; r++) {
                char p[64];
                snprintf(p, sizeof(p), "resources.requests.%s", rn[r]);
                struct reef__qty x = reef__qty_parse(S(c, d, it.val, p));
                if (x.ok && x.nano > 0)
                    req[r] += x.nano, hreq[r] = true;
                snprintf(p, sizeof(p), "resources.limits.%s", rn[r]);
                x = reef__qty_parse(S(c, d, it.val, p));
                if (x.ok && x.nano > 0)
                    lim[r] += x.nano, hlim[r] = true, got++;
            }
            if (got < 2)
                guaranteed = false;
        }
    }
    int nreq = hreq[0] + hreq[1], nlim = hlim[0] + hlim[1];
    if (!nreq && !nlim)
        return "BestEffort";
    for (int r = 0; r < 2 && guaranteed; r++)
        if (hreq[r] && (!hlim[r] || lim[r] != req[r]))
            guaranteed = false;
    return guaranteed && nreq == nlim ? "Guaranteed" : "Burstable";
}

void reef__describe_pod(struct reef__desc *c, const struct reef_json_doc *d, int v)
{
    W(c, 0, "Name:\t%s\n", S(c, d, v, "metadata.name"));
    W(c, 0, "Namespace:\t%s\n", S(c, d, v, "metadata.namespace"));
    if (J(d, v, "spec.priority") >= 0)
        W(c, 0, "Priority:\t%lld\n", (long long)I(d, v, "spec.priority"));
    if (*S(c, d, v, "spec.priorityClassName"))
        W(c, 0, "Priority Class Name:\t%s\n", S(c, d, v, "spec.priorityClassName"));
    if (*S(c, d, v, "spec.runtimeClassName"))
        W(c, 0, "Runtime Class Name:\t%s\n", S(c, d, v, "spec.runtimeClassName"));
    if (*S(c, d, v, "spec.serviceAccountName"))
        W(c, 0, "Service Account:\t%s\n", S(c, d, v, "spec.serviceAccountName"));
    if (!*S(c, d, v, "spec.nodeName"))
        W(c, 0, "Node:\t<none>\n");
    else
        W(c, 0, "Node:\t%s/%s\n", S(c, d, v, "spec.nodeName"), S(c, d, v, "status.hostIP"));
    if (J(d, v, "status.startTime") >= 0)
        W(c, 0, "Start Time:\t%s\n", reef__desc_time(c, d, v, "status.startTime"));
    reef__desc_labels(c, "Labels", d, J(d, v, "metadata.labels"));
    reef__desc_annotations(c, "Annotations", d, J(d, v, "metadata.annotations"));
    const char *phase = S(c, d, v, "status.phase");
    if (J(d, v, "metadata.deletionTimestamp") >= 0 && strcmp(phase, "Failed") != 0 &&
        strcmp(phase, "Succeeded") != 0) {
        W(c, 0, "Status:\tTerminating (lasts %s)\n",
          reef__desc_since(c, d, v, "metadata.deletionTimestamp"));
        W(c, 0, "Termination Grace Period:\t%llds\n",
          (long long)I(d, v, "metadata.deletionGracePeriodSeconds"));
    } else {
        W(c, 0, "Status:\t%s\n", phase);
    }
    if (*S(c, d, v, "status.reason"))
        W(c, 0, "Reason:\t%s\n", S(c, d, v, "status.reason"));
    if (*S(c, d, v, "status.message"))
        W(c, 0, "Message:\t%s\n", S(c, d, v, "status.message"));
    if (J(d, v, "spec.securityContext.seccompProfile") >= 0) {
        const char *t = S(c, d, v, "spec.securityContext.seccompProfile.type");
        W(c, 0, "SeccompProfile:\t%s\n", t);
        if (strcmp(t, "Localhost") == 0)
            W(c, 0, "LocalhostProfile:\t%s\n",
              S(c, d, v, "spec.securityContext.seccompProfile.localhostProfile"));
    }
    W(c, 0, "IP:\t%s\n", S(c, d, v, "status.podIP"));
    int ips = J(d, v, "status.podIPs");
    if (N(d, v, "status.podIPs") <= 0) {
        W(c, 0, "IPs:\t<none>\n");
    } else {
        W(c, 0, "IPs:\n");
        struct reef_json_iter it = reef_json_iter(d, ips);
        while (reef_json_next(d, &it))
            W(c, 1, "IP:\t%s\n", S(c, d, it.val, "ip"));
    }
    const char *cb = reef__desc_controlled_by(c, d, v);
    if (*cb)
        W(c, 0, "Controlled By:\t%s\n", cb);
    if (*S(c, d, v, "status.nominatedNodeName"))
        W(c, 0, "NominatedNodeName:\t%s\n", S(c, d, v, "status.nominatedNodeName"));
    if (J(d, v, "spec.resources") >= 0) {
        W(c, 0, "Resources:\n");
        resources(c, d, J(d, v, "spec.resources"), 1);
    }
    if (N(d, v, "spec.initContainers") > 0)
        containers(c, "Init Containers", d, J(d, v, "spec.initContainers"),
                   J(d, v, "status.initContainerStatuses"), "", v);
    containers(c, "Containers", d, J(d, v, "spec.containers"), J(d, v, "status.containerStatuses"),
               "", v);
    if (N(d, v, "spec.ephemeralContainers") > 0)
        containers(c, "Ephemeral Containers", d, J(d, v, "spec.ephemeralContainers"),
                   J(d, v, "status.ephemeralContainerStatuses"), "", v);
    int conds = J(d, v, "status.conditions");
    if (N(d, v, "spec.readinessGates") > 0) {
        W(c, 0, "Readiness Gates:\n  Type\tStatus\n");
        int g = J(d, v, "spec.readinessGates");
        struct reef_json_iter it = reef_json_iter(d, g);
        while (reef_json_next(d, &it)) {
            const char *ct = S(c, d, it.val, "conditionType"), *status = "<none>";
            struct reef_json_iter ci = reef_json_iter(d, conds);
            while (conds >= 0 && reef_json_next(d, &ci))
                if (strcmp(S(c, d, ci.val, "type"), ct) == 0) {
                    status = S(c, d, ci.val, "status");
                    break;
                }
            W(c, 1, "%s \t%s \n", ct, status);
        }
    }
    if (N(d, v, "status.conditions") > 0) {
        W(c, 0, "Conditions:\n  Type\tStatus\n");
        struct reef_json_iter it = reef_json_iter(d, conds);
        while (reef_json_next(d, &it))
            W(c, 1, "%s \t%s \n", S(c, d, it.val, "type"), S(c, d, it.val, "status"));
    }
    volumes(c, d, J(d, v, "spec.volumes"), "");
    W(c, 0, "QoS Class:\t%s\n", qos_class(c, d, v));
    reef__desc_labels(c, "Node-Selectors", d, J(d, v, "spec.nodeSelector"));
    tolerations(c, "Tolerations", d, J(d, v, "spec.tolerations"));
    spread_constraints(c, d, J(d, v, "spec.topologySpreadConstraints"), "");
    /* kubectl leaves the kind out of a pod's event selector */
    reef__desc_events(c, d, v, NULL, NULL);
}

void reef__desc_pod_template(struct reef__desc *c, const struct reef_json_doc *d, int t)
{
    W(c, 0, "Pod Template:\n");
    if (t < 0) {
        W(c, 1, "<unset>");
        return;
    }
    reef__desc_labels(c, "  Labels", d, J(d, t, "metadata.labels"));
    if (N(d, t, "metadata.annotations") > 0)
        reef__desc_annotations(c, "  Annotations", d, J(d, t, "metadata.annotations"));
    if (*S(c, d, t, "spec.serviceAccountName"))
        W(c, 1, "Service Account:\t%s\n", S(c, d, t, "spec.serviceAccountName"));
    if (N(d, t, "spec.initContainers") > 0)
        containers(c, "Init Containers", d, J(d, t, "spec.initContainers"), -1, "  ", -1);
    containers(c, "Containers", d, J(d, t, "spec.containers"), -1, "  ", -1);
    volumes(c, d, J(d, t, "spec.volumes"), "  ");
    spread_constraints(c, d, J(d, t, "spec.topologySpreadConstraints"), "  ");
    if (*S(c, d, t, "spec.priorityClassName"))
        W(c, 1, "Priority Class Name:\t%s\n", S(c, d, t, "spec.priorityClassName"));
    reef__desc_labels(c, "  Node-Selectors", d, J(d, t, "spec.nodeSelector"));
    tolerations(c, "  Tolerations", d, J(d, t, "spec.tolerations"));
}
