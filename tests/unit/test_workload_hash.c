/* Tests for the pod-template-hash (orchestrate/workload_hash.c, reef_workload_template_hash).
 *
 * The expected values are Kubernetes' own: controller.ComputeHash prints the decoded
 * PodTemplateSpec with spew's "%#v" (every field in declaration order, nil pointers and slices
 * included, each value prefixed by its Go type except slice elements, map entries and pointer
 * targets), feeds FNV-32a with it (then collisionCount's 4 little-endian bytes padded to 8), and
 * maps the sum's decimal digits through SafeEncodeString's alphabet
 * "bcdfghjklmnpqrstvwxz2456789" (digit d becomes alphabet[('0' + d) % 27]). The rendering of
 * the known template below is written out in full, and the test hashes it itself; the constants
 * are what spew over the k8s.io/api v0.32.0 Go types gives for the same JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orchestrate/workload.h"
#include "tests/unit/test.h"

/* A Deployment template as the API server stores it: `kubectl create deployment web
 * --image=nginx:1.25` after the defaults (imagePullPolicy, terminationMessage*, resources,
 * restartPolicy, terminationGracePeriodSeconds, dnsPolicy, securityContext, schedulerName). */
static const char *KNOWN =
    "{\"metadata\":{\"creationTimestamp\":null,\"labels\":{\"app\":\"web\"}},\"spec\":{"
    "\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\",\"resources\":{},"
    "\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":"
    "\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],\"restartPolicy\":\"Always\","
    "\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"securityContext\":"
    "{},\"schedulerName\":\"default-scheduler\"}}";

/* What spew prints for it. */
static const char *KNOWN_SPEW =
    "(v1.PodTemplateSpec){ObjectMeta:(v1.ObjectMeta){Name:(string) GenerateName:(string) Namesp"
    "ace:(string) SelfLink:(string) UID:(types.UID) ResourceVersion:(string) Generation:(int64)"
    "0 CreationTimestamp:(v1.Time){Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Loca"
    "tion)<nil>}} DeletionTimestamp:(*v1.Time)<nil> DeletionGracePeriodSeconds:(*int64)<nil> La"
    "bels:(map[string]string)map[app:web] Annotations:(map[string]string)<nil> OwnerReferences:"
    "([]v1.OwnerReference)<nil> Finalizers:([]string)<nil> ManagedFields:([]v1.ManagedFieldsEnt"
    "ry)<nil>} Spec:(v1.PodSpec){Volumes:([]v1.Volume)<nil> InitContainers:([]v1.Container)<nil"
    "> Containers:([]v1.Container)[{Name:(string)web Image:(string)nginx:1.25 Command:([]string"
    ")<nil> Args:([]string)<nil> WorkingDir:(string) Ports:([]v1.ContainerPort)<nil> EnvFrom:(["
    "]v1.EnvFromSource)<nil> Env:([]v1.EnvVar)<nil> Resources:(v1.ResourceRequirements){Limits:"
    "(v1.ResourceList)<nil> Requests:(v1.ResourceList)<nil> Claims:([]v1.ResourceClaim)<nil>} R"
    "esizePolicy:([]v1.ContainerResizePolicy)<nil> RestartPolicy:(*v1.ContainerRestartPolicy)<n"
    "il> VolumeMounts:([]v1.VolumeMount)<nil> VolumeDevices:([]v1.VolumeDevice)<nil> LivenessPr"
    "obe:(*v1.Probe)<nil> ReadinessProbe:(*v1.Probe)<nil> StartupProbe:(*v1.Probe)<nil> Lifecyc"
    "le:(*v1.Lifecycle)<nil> TerminationMessagePath:(string)/dev/termination-log TerminationMes"
    "sagePolicy:(v1.TerminationMessagePolicy)File ImagePullPolicy:(v1.PullPolicy)IfNotPresent S"
    "ecurityContext:(*v1.SecurityContext)<nil> Stdin:(bool)false StdinOnce:(bool)false TTY:(boo"
    "l)false}] EphemeralContainers:([]v1.EphemeralContainer)<nil> RestartPolicy:(v1.RestartPoli"
    "cy)Always TerminationGracePeriodSeconds:(*int64)30 ActiveDeadlineSeconds:(*int64)<nil> DNS"
    "Policy:(v1.DNSPolicy)ClusterFirst NodeSelector:(map[string]string)<nil> ServiceAccountName"
    ":(string) DeprecatedServiceAccount:(string) AutomountServiceAccountToken:(*bool)<nil> Node"
    "Name:(string) HostNetwork:(bool)false HostPID:(bool)false HostIPC:(bool)false ShareProcess"
    "Namespace:(*bool)<nil> SecurityContext:(*v1.PodSecurityContext){SELinuxOptions:(*v1.SELinu"
    "xOptions)<nil> WindowsOptions:(*v1.WindowsSecurityContextOptions)<nil> RunAsUser:(*int64)<"
    "nil> RunAsGroup:(*int64)<nil> RunAsNonRoot:(*bool)<nil> SupplementalGroups:([]int64)<nil> "
    "SupplementalGroupsPolicy:(*v1.SupplementalGroupsPolicy)<nil> FSGroup:(*int64)<nil> Sysctls"
    ":([]v1.Sysctl)<nil> FSGroupChangePolicy:(*v1.PodFSGroupChangePolicy)<nil> SeccompProfile:("
    "*v1.SeccompProfile)<nil> AppArmorProfile:(*v1.AppArmorProfile)<nil> SELinuxChangePolicy:(*"
    "v1.PodSELinuxChangePolicy)<nil>} ImagePullSecrets:([]v1.LocalObjectReference)<nil> Hostnam"
    "e:(string) Subdomain:(string) Affinity:(*v1.Affinity)<nil> SchedulerName:(string)default-s"
    "cheduler Tolerations:([]v1.Toleration)<nil> HostAliases:([]v1.HostAlias)<nil> PriorityClas"
    "sName:(string) Priority:(*int32)<nil> DNSConfig:(*v1.PodDNSConfig)<nil> ReadinessGates:([]"
    "v1.PodReadinessGate)<nil> RuntimeClassName:(*string)<nil> EnableServiceLinks:(*bool)<nil> "
    "PreemptionPolicy:(*v1.PreemptionPolicy)<nil> Overhead:(v1.ResourceList)<nil> TopologySprea"
    "dConstraints:([]v1.TopologySpreadConstraint)<nil> SetHostnameAsFQDN:(*bool)<nil> OS:(*v1.P"
    "odOS)<nil> HostUsers:(*bool)<nil> SchedulingGates:([]v1.PodSchedulingGate)<nil> ResourceCl"
    "aims:([]v1.PodResourceClaim)<nil> Resources:(*v1.ResourceRequirements)<nil>}}";

/* The same template in another member order: Go decodes it to the same value. */
static const char *KNOWN_REORDERED =
    "{\"spec\":{\"schedulerName\":\"default-scheduler\",\"securityContext\":{},"
    "\"dnsPolicy\":\"ClusterFirst\",\"terminationGracePeriodSeconds\":30,\"restartPolicy\":"
    "\"Always\",\"containers\":[{\"imagePullPolicy\":\"IfNotPresent\",\"image\":"
    "\"nginx:1.25\",\"name\":\"web\",\"terminationMessagePolicy\":\"File\",\"resources\":"
    "{},\"terminationMessagePath\":\"/dev/termination-log\"}]},\"metadata\":{\"labels\":{"
    "\"app\":\"web\"}}}";

/* Volumes, probes, env, security contexts, affinity, tolerations, int-or-string ports. */
static const char *COMPLEX =
    "{\"metadata\":{\"creationTimestamp\":null,\"labels\":{\"tier\":\"fe\",\"app\":\"web\",\"a."
    "b/c\":\"d\"},\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2026-11-28T16:00:00Z"
    "\"}}, \"spec\":{\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}},{\"name\":\"cfg\",\"confi"
    "gMap\":{\"name\":\"cm\",\"defaultMode\":420,\"items\":[{\"key\":\"a\",\"path\":\"b\"}]}}],"
    " \"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\","
    "\"true\"],\"restartPolicy\":\"Always\"}], \"containers\":[{\"name\":\"web\",\"image\":\"ng"
    "inx:1.25\",\"args\":[\"-g\",\"daemon off;\"],\"ports\":[{\"name\":\"http\",\"containerPort"
    "\":80,\"protocol\":\"TCP\"}],   \"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"POD"
    "\",\"valueFrom\":{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.name\"}}}],"
    "   \"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":\"http\",\"scheme\":\"HTTP\"},"
    "\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,\"failureThreshold\":3}, "
    "  \"livenessProbe\":{\"tcpSocket\":{\"port\":80},\"initialDelaySeconds\":5},   \"securityC"
    "ontext\":{\"privileged\":false,\"capabilities\":{\"add\":[\"NET_ADMIN\"],\"drop\":[\"ALL\""
    "]},\"runAsUser\":1000},   \"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/data\",\"r"
    "eadOnly\":true}],   \"resources\":{},\"terminationMessagePath\":\"/dev/termination-log\","
    "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\",\"stdin\":true,"
    "\"tty\":false}], \"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPo"
    "licy\":\"ClusterFirst\",\"nodeSelector\":{\"kubernetes.io/os\":\"linux\"}, \"securityConte"
    "xt\":{\"fsGroup\":2000,\"sysctls\":[{\"name\":\"net.core.somaxconn\",\"value\":\"1024\"}]}"
    ",\"schedulerName\":\"default-scheduler\",\"hostNetwork\":false, \"tolerations\":[{\"key\":"
    "\"k\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\",\"tolerationSeconds\":30}], \"affi"
    "nity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelect"
    "orTerms\":[{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"a\","
    "\"b\"]}]}]}},   \"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":["
    "{\"weight\":100,\"podAffinityTerm\":{\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}}"
    ",\"topologyKey\":\"kubernetes.io/hostname\"}}]}}, \"enableServiceLinks\":true,\"hostAliase"
    "s\":[{\"ip\":\"127.0.0.1\",\"hostnames\":[\"x\"]}]}}";

static uint32_t fnv32a(uint32_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

static void safe_encode(uint32_t sum, char out[16])
{
    static const char alpha[] = "bcdfghjklmnpqrstvwxz2456789";
    char dec[16];
    snprintf(dec, sizeof(dec), "%u", sum);
    size_t i;
    for (i = 0; dec[i]; i++)
        out[i] = alpha[(unsigned char)dec[i] % 27];
    out[i] = '\0';
}

static void hash_of(const char *tmpl, int64_t collision, char out[16])
{
    struct reef_err err = {0};
    CHECK_INT(reef_workload_template_hash(tmpl, strlen(tmpl), collision, out, &err), ==, 0);
}

static void test_known(void)
{
    char want[16], got[16];
    uint32_t h = fnv32a(2166136261u, KNOWN_SPEW, strlen(KNOWN_SPEW));
    safe_encode(h, want);
    CHECK_STR(want, "6564c56f49");
    hash_of(KNOWN, -1, got);
    CHECK_STR(got, want);
    hash_of(KNOWN_REORDERED, -1, got);
    CHECK_STR(got, want);

    /* collisionCount 1: its bytes 01 00 00 00 and four zeros after the rendering */
    static const unsigned char one[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    safe_encode(fnv32a(h, one, sizeof(one)), want);
    CHECK_STR(want, "7f7bdd7b9b");
    hash_of(KNOWN, 1, got);
    CHECK_STR(got, want);
}

static void test_complex(void)
{
    char got[16];
    hash_of(COMPLEX, -1, got);
    CHECK_STR(got, "5f6887bcd4");
}

/* Any change to the template, metadata included, is a new hash; JSON null is Go's zero. */
static void test_sensitivity(void)
{
    char a[16], b[16];
    hash_of(KNOWN, -1, a);
    char *t = strdup(KNOWN);
    memcpy(strstr(t, "1.25"), "1.26", 4);
    hash_of(t, -1, b);
    CHECK(strcmp(a, b) != 0);
    free(t);
    hash_of("{\"metadata\":{\"labels\":{\"app\":\"web\"}}}", -1, a);
    hash_of("{\"metadata\":{\"labels\":{\"app\":\"web\"},\"annotations\":null},\"spec\":null}", -1,
            b);
    CHECK_STR(a, b);
    hash_of("{\"metadata\":{\"labels\":{\"app\":\"web\"},\"annotations\":{}}}", -1, b);
    CHECK(strcmp(a, b) != 0); /* an empty map is not a nil one */
    hash_of("{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{"
            "\"memory\":\"128Mi\"}}}]}}",
            -1, a);
    hash_of("{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{"
            "\"memory\":\"134217728\"}}}]}}",
            -1, b);
    CHECK(strcmp(a, b) != 0); /* same amount, another format */
    struct reef_err err = {0};
    char h[16];
    CHECK_INT(reef_workload_template_hash("[1]", 3, -1, h, &err), ==, -EINVAL);
    CHECK_INT(reef_workload_template_hash("{", 1, -1, h, &err), <, 0);
}

/* resource.Quantity as ParseQuantity leaves it: the int64 fast path (with the string kept when
 * canonical) and the inf.Dec path (fractions of binary suffixes, more than 18 digits, below nano,
 * rounded up to nano). Expected values from spew over the v0.32 types. */
static void test_quantities(void)
{
    static const struct {
        const char *q, *hash;
    } cases[] = {
        {"\"128Mi\"", "75959c76f4"},
        {"\"500m\"", "7897d66bb"},
        {"1", "84f4f85dd"},
        {"\"0.5\"", "6d959df59d"},
        {"\"2e3\"", "59fc8d684"},
        {"\" 250m \"", "7bd459b758"},
        {"\"1.5Gi\"", "655cc7c8b8"},
        {"\"-1.5Gi\"", "5b9d797b74"},
        {"\"0.1n\"", "8bcfc6d4b"},
        {"\"9Ei\"", "ff88b89f6"},
        {"\"1234567890123456789012345\"", "78c69f6958"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char t[512], h[16];
        snprintf(t, sizeof(t),
                 "{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"limits\":{\"cpu\":"
                 "%s,\"memory\":\"64Mi\"},\"requests\":{\"cpu\":%s}}}]}}",
                 cases[i].q, cases[i].q);
        hash_of(t, -1, h);
        if (strcmp(h, cases[i].hash) != 0)
            TEST_FAIL("quantity %s: %s, want %s", cases[i].q, h, cases[i].hash);
    }
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_known);
    TEST_RUN(test_complex);
    TEST_RUN(test_quantities);
    TEST_RUN(test_sensitivity);
    return test_done();
}
