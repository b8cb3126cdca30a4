/* Unit tests for runtime/pod and the pod parts of the container runtime: sandboxes, real
 * containers (a busybox root filesystem, Debian's busybox-static) joining them through their
 * shims, started with reef_shim_start. Runs as root. Each test works in a mount namespace of its
 * own (so no mount can outlive it) and removes its containers, cgroups and files at exit.
 *
 * reef_shim_start runs `/proc/self/exe shim ...`: this program is that executable too (main
 * hands "shim" to reef_shim_run, as `reef shim` does). */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <uv.h>

#include "core/buf.h"
#include "core/fs.h"
#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "runtime/ctrstore.h"
#include "runtime/pod.h"
#include "runtime/shim.h"
#include "tests/unit/test.h"

static char base[] = "/tmp/reef-pod-XXXXXX";
static char lower[300], ctrs[300], pods[300], outdir[300], cgparent[64];
static pid_t owner;
static char started[8][REEF_CTR_ID_LEN + 1];
static int nstarted;
static const char *uids[] = {"pod-a", "pod-b", "pod-c"};
static bool host_net; /* start(): the container is on the host's network */

static bool shim_gone(const char *id)
{
    struct reef_ctrstore *s;
    if (reef_ctrstore_open(ctrs, &s, NULL) < 0)
        return true;
    bool alive = reef_ctr_shim_alive(s, id);
    reef_ctrstore_close(s);
    return !alive;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* However a test ends: its containers, shims, sandboxes, cgroups and files go. */
static void teardown(void)
{
    if (getpid() != owner)
        return;
    for (int i = 0; i < nstarted; i++) {
        char reply[256];
        reef_shim_call(ctrs, started[i], "kill 9", NULL, 0, reply, sizeof(reply), 5000, NULL);
        for (int k = 0; k < 100 && !shim_gone(started[i]); k++)
            sleep_ms(100);
        if (!shim_gone(started[i])) {
            fprintf(stderr, "  container %.12s: its shim did not exit\n", started[i]);
            struct reef_ctrstore *s;
            struct reef_ctr_state st = {0};
            if (reef_ctrstore_open(ctrs, &s, NULL) == 0) {
                reef_ctr_load_state(s, started[i], &st, NULL);
                reef_ctrstore_close(s);
            }
            if (st.shim_pid > 0)
                kill(st.shim_pid, SIGKILL);
            for (int k = 0; k < 50 && !shim_gone(started[i]); k++)
                sleep_ms(100);
        }
        reef_shim_cleanup_orphan(ctrs, started[i], NULL);
    }
    for (size_t i = 0; i < REEF_ARRAY_LEN(uids); i++)
        reef_pod_sandbox_remove(pods, uids[i], NULL);
    struct reef_cgroup_layout *l = NULL;
    if (reef_cgroup_layout_detect(NULL, &l, NULL) == 0) {
        reef_cgroup_remove_parent(l, cgparent, REEF_CGROUP_DRIVER_AUTO, NULL);
        reef_cgroup_layout_free(l);
    }
    umount2(pods, MNT_DETACH);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", base);
}

static void setup(void)
{
    if (geteuid() != 0)
        TEST_FAIL("needs root");
    if (access("/bin/busybox", X_OK) < 0)
        TEST_FAIL("/bin/busybox missing: install busybox-static (vendor/packages.txt)");
    /* Our own mount namespace: whatever a failed test leaves mounted goes with it. */
    CHECK(unshare(CLONE_NEWNS) == 0);
    CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
    CHECK(mkdtemp(base));
    CHECK(chmod(base, 0711) == 0);
    owner = getpid();
    atexit(teardown);
    snprintf(lower, sizeof(lower), "%s/lower", base);
    snprintf(ctrs, sizeof(ctrs), "%s/containers", base);
    snprintf(pods, sizeof(pods), "%s/pods", base);
    snprintf(outdir, sizeof(outdir), "%s/out", base);
    snprintf(cgparent, sizeof(cgparent), "/reef-t-pod-%d", (int)getpid());
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "set -e; mkdir -p %s/bin %s/etc %s/tmp %s; chmod 0777 %s; cp /bin/busybox %s/bin/; "
             "for a in sh echo cat hostname readlink sleep nc ls true test; do "
             "ln -s busybox %s/bin/$a; done; "
             "printf 'root:x:0:0:root:/root:/bin/sh\\n' > %s/etc/passwd; "
             "printf 'root:x:0:\\n' > %s/etc/group",
             lower, lower, lower, outdir, outdir, lower, lower, lower, lower);
    CHECK(system(cmd) == 0);
}

/* Creates a container running argv (sh -c script) with /out bound, in sandbox sb (NULL: none),
 * and starts it with reef_shim_start. Returns its result; id gets the container's ID. */
static int start(const struct reef_pod_sandbox *sb, const char *hostname, const char *script,
                 const char *argv0, bool no_etc, const char *hosts_file, int *code,
                 char id[REEF_CTR_ID_LEN + 1], struct reef_err *err)
{
    struct reef_ctr_config c;
    memset(&c, 0, sizeof(c));
    char *layers[] = {lower, NULL};
    char *argv[] = {(char *)(argv0 ? argv0 : "sh"), "-c", (char *)script, NULL};
    char *env[] = {"PATH=/bin", NULL};
    char *labels[] = {"reef.pod.uid=pod-a", "reef.container.name=box", NULL};
    struct reef_ctr_volume vols[2] = {
        {REEF_VOLUME_BIND, outdir, "/out", false, ""},
        {REEF_VOLUME_BIND, (char *)hosts_file, "/etc/hosts", true, ""},
    };
    c.image = "test";
    c.image_id = "";
    c.layers = layers;
    c.nlayers = 1;
    c.argv = argv;
    c.argc = argv0 ? 1 : 3;
    c.env = env;
    c.nenv = 1;
    c.workdir = "";
    c.user = "";
    c.hostname = (char *)hostname;
    c.caps = reef_caps_default();
    c.seccomp = true;
    c.seccomp_profile = "";
    c.no_new_privs = true;
    c.volumes = vols;
    c.nvolumes = hosts_file ? 2 : 1;
    c.restart = REEF_RESTART_NO;
    c.stop_signal = SIGKILL;
    c.stop_timeout = 1;
    c.cgroup_parent = cgparent;
    c.host_network = host_net;
    c.netns = sb ? (char *)sb->netns : "";
    c.ipcns = sb ? (char *)sb->ipcns : "";
    c.utsns = sb ? (char *)sb->utsns : "";
    c.labels = labels;
    c.nlabels = 2;
    c.no_etc_files = no_etc;
    struct reef_ctrstore *s;
    CHECK_OK(reef_ctrstore_open(ctrs, &s, err), err);
    CHECK_OK(reef_ctr_create(s, &c, err), err);
    reef_ctrstore_close(s);
    memcpy(id, c.id, sizeof(c.id));
    CHECK(nstarted < (int)REEF_ARRAY_LEN(started));
    memcpy(started[nstarted++], c.id, sizeof(c.id));
    return reef_shim_start(ctrs, id, code, err);
}

static struct reef_ctr_state state_of(const char *id)
{
    struct reef_ctrstore *s;
    struct reef_ctr_state st;
    struct reef_err err = {0};
    CHECK_OK(reef_ctrstore_open(ctrs, &s, &err), &err);
    CHECK_OK(reef_ctr_load_state(s, id, &st, &err), &err);
    reef_ctrstore_close(s);
    return st;
}

/* Waits (bounded, generously: a loaded machine is slow, and nothing is timed) until the
 * container has exited and its shim is gone; returns the exit code. */
static int wait_exit(const char *id)
{
    for (int i = 0; i < 600; i++) {
        struct reef_ctr_state st = state_of(id);
        if (st.status == REEF_CTR_EXITED && shim_gone(id))
            return st.exit_code;
        sleep_ms(50);
    }
    TEST_FAIL("container %.12s did not exit", id);
}

/* The contents of /out/name (written by a container), trailing newline dropped; waits for it. */
static void out_file(const char *name, char *buf, size_t sz)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", outdir, name);
    for (int i = 0; i < 600; i++) {
        struct reef_buf b = REEF_BUF_INIT;
        if (reef_fs_read_file(path, 4096, &b, NULL) == 0 && b.len > 0 &&
            b.data[b.len - 1] == '\n') {
            snprintf(buf, sz, "%.*s", (int)b.len - 1, b.data);
            reef_buf_free(&b);
            return;
        }
        reef_buf_free(&b);
        sleep_ms(50);
    }
    TEST_FAIL("%s was never written", path);
}

/* "net:[4026532...]" for a namespace file, as readlink /proc/self/ns/net says inside. */
static void ns_name(const char *kind, const char *path, char *buf, size_t sz)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    snprintf(buf, sz, "%s:[%lu]", kind, (unsigned long)st.st_ino);
}

/* Does any mount in this namespace lie at or under path? */
static bool mounted_under(const char *path)
{
    struct reef_buf b = REEF_BUF_INIT;
    CHECK(reef_fs_read_file("/proc/self/mountinfo", 1 << 22, &b, NULL) == 0);
    bool found = false;
    size_t n = strlen(path);
    for (char *line = b.data; line && *line && !found;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        /* fields: id parent major:minor root mountpoint ... */
        char *f = line;
        for (int i = 0; i < 4 && f; i++) {
            f = strchr(f, ' ');
            if (f)
                f++;
        }
        if (f && strncmp(f, path, n) == 0 && (f[n] == ' ' || f[n] == '/'))
            found = true;
        line = next;
    }
    reef_buf_free(&b);
    return found;
}

/* The host name seen in the UTS namespace file at path. */
static void hostname_in(const char *path, char *buf, size_t sz)
{
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDONLY);
        char h[128] = "";
        if (fd < 0 || setns(fd, CLONE_NEWUTS) < 0 || gethostname(h, sizeof(h)) < 0)
            _exit(1);
        _exit(write(p[1], h, strlen(h)) < 0);
    }
    close(p[1]);
    ssize_t n = read(p[0], buf, sz - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(p[0]);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_config_roundtrip(void)
{
    struct reef_err err = {0};
    static const char old[] = "{\"id\":\"\",\"name\":\"x\",\"argv\":[\"sh\"],\"hostname\":\"h\"}";
    struct reef_ctr_config c;
    CHECK_OK(reef_ctr_config_from_json(old, strlen(old), &c, &err), &err);
    CHECK_STR(c.netns, "");
    CHECK_STR(c.ipcns, "");
    CHECK_STR(c.utsns, "");
    CHECK_INT(c.nlabels, ==, 0);
    CHECK(!c.no_etc_files);
    CHECK(reef_ctr_label(&c, "reef.pod.uid") == NULL);
    free(c.netns);
    c.netns = strdup("/p/ns/net");
    free(c.utsns);
    c.utsns = strdup("/p/ns/uts");
    free(c.labels);
    c.labels = calloc(3, sizeof(char *));
    c.labels[0] = strdup("reef.pod.uid=1234");
    c.labels[1] = strdup("reef.pod.name=web=0");
    c.nlabels = 2;
    c.no_etc_files = true;
    struct reef_buf b = REEF_BUF_INIT;
    CHECK(reef_ctr_config_to_json(&c, &b) == 0);
    reef_ctr_config_free(&c);
    CHECK_OK(reef_ctr_config_from_json(b.data, b.len, &c, &err), &err);
    reef_buf_free(&b);
    CHECK_STR(c.netns, "/p/ns/net");
    CHECK_STR(c.ipcns, "");
    CHECK_STR(c.utsns, "/p/ns/uts");
    CHECK_INT(c.nlabels, ==, 2);
    CHECK_STR(c.labels[1], "reef.pod.name=web=0");
    CHECK_STR(reef_ctr_label(&c, "reef.pod.uid"), "1234");
    CHECK_STR(reef_ctr_label(&c, "reef.pod.name"), "web=0");
    CHECK(reef_ctr_label(&c, "reef.pod") == NULL);
    CHECK(c.no_etc_files);
    reef_ctr_config_free(&c);
}

static void test_create_rejects_bad_labels(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_ctrstore *s;
    CHECK_OK(reef_ctrstore_open(ctrs, &s, &err), &err);
    struct reef_ctr_config c;
    memset(&c, 0, sizeof(c));
    char *labels[] = {"novalue"};
    c.labels = labels;
    c.nlabels = 1;
    CHECK_INT(reef_ctr_create(s, &c, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "novalue"));
    c.nlabels = 0;
    c.netns = "relative/net";
    CHECK_INT(reef_ctr_create(s, &c, &err), ==, -EINVAL);
    reef_ctrstore_close(s);
}

static void test_sandbox_lifecycle(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_pod_sandbox sb, again;
    CHECK_OK(reef_pod_sandbox_create(pods, "pod-a", "web-0", false, &sb, &err), &err);
    char want[512];
    snprintf(want, sizeof(want), "%s/pod-a/ns/net", pods);
    CHECK_STR(sb.netns, want);
    snprintf(want, sizeof(want), "%s/pod-a", pods);
    CHECK_STR(sb.dir, want);
    char host[128], net1[64], net2[64];
    hostname_in(sb.utsns, host, sizeof(host));
    CHECK_STR(host, "web-0");
    /* a new namespace each, none of them ours */
    ns_name("net", sb.netns, net1, sizeof(net1));
    ns_name("net", "/proc/self/ns/net", net2, sizeof(net2));
    CHECK(strcmp(net1, net2) != 0);
    /* idempotent: the same namespaces, the host name untouched */
    CHECK_OK(reef_pod_sandbox_create(pods, "pod-a", "other", false, &again, &err), &err);
    CHECK_STR(again.netns, sb.netns);
    ns_name("net", again.netns, net2, sizeof(net2));
    CHECK_STR(net1, net2);
    hostname_in(again.utsns, host, sizeof(host));
    CHECK_STR(host, "web-0");
    /* half made (a crash): made anew, complete */
    CHECK(umount2(sb.utsns, MNT_DETACH) == 0);
    CHECK_OK(reef_pod_sandbox_create(pods, "pod-a", "web-1", false, &again, &err), &err);
    hostname_in(again.utsns, host, sizeof(host));
    CHECK_STR(host, "web-1");
    /* host network: no network namespace */
    CHECK_OK(reef_pod_sandbox_create(pods, "pod-b", "node", true, &sb, &err), &err);
    CHECK_STR(sb.netns, "");
    snprintf(want, sizeof(want), "%s/pod-b/ns/net", pods);
    CHECK(access(want, F_OK) < 0);
    /* bad input */
    CHECK_INT(reef_pod_sandbox_create(pods, "../x", "h", false, &sb, &err), ==, -EINVAL);
    CHECK_INT(reef_pod_sandbox_create(pods, "pod-c", "", false, &sb, &err), ==, -EINVAL);
    char longname[80];
    memset(longname, 'h', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_INT(reef_pod_sandbox_create(pods, "pod-c", longname, false, &sb, &err), ==, -EINVAL);
    /* removal leaves no mount and no directory; twice is fine */
    snprintf(want, sizeof(want), "%s/pod-a", pods);
    CHECK(mounted_under(want));
    CHECK_OK(reef_pod_sandbox_remove(pods, "pod-a", &err), &err);
    CHECK_OK(reef_pod_sandbox_remove(pods, "pod-b", &err), &err);
    CHECK(!mounted_under(want));
    snprintf(want, sizeof(want), "%s/pod-b", pods);
    CHECK(!mounted_under(want));
    CHECK(access(want, F_OK) < 0);
    CHECK_OK(reef_pod_sandbox_remove(pods, "pod-a", &err), &err);
}

static void test_containers_share_the_sandbox(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_pod_sandbox sb;
    CHECK_OK(reef_pod_sandbox_create(pods, "pod-a", "web-0", false, &sb, &err), &err);
    char hosts[400];
    snprintf(hosts, sizeof(hosts), "%s/hosts", base);
    CHECK(reef_fs_write_atomic(hosts, "10.0.0.7\tweb-0 # agent's\n", 25, 0644, false, &err) ==
          0);
    char a[65], b[65];
    int code = -1;
    /* a: listens on 8080 and answers once; no host name of its own: the pod's */
    CHECK_OK(start(&sb, "",
                   "readlink /proc/self/ns/net > /out/a.net;"
                   "readlink /proc/self/ns/ipc > /out/a.ipc;"
                   "readlink /proc/self/ns/pid > /out/a.pid; hostname > /out/a.host;"
                   "cat /etc/hosts > /out/a.hosts; cat /etc/hostname > /out/a.etchost;"
                   "echo ready > /out/a.ready;"
                   "echo hello-from-a | nc -l -p 8080",
                   NULL, false, NULL, &code, a, &err),
             &err);
    CHECK_INT(code, ==, 0);
    /* reef_shim_start returned with the container running, its shim not our child */
    struct reef_ctr_state st = state_of(a);
    CHECK(st.status == REEF_CTR_RUNNING && st.pid > 0 && st.shim_pid > 0);
    CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
    char statpath[64], stat_text[512] = "";
    snprintf(statpath, sizeof(statpath), "/proc/%d/stat", st.shim_pid);
    FILE *f = fopen(statpath, "r");
    CHECK(f && fgets(stat_text, sizeof(stat_text), f));
    fclose(f);
    int ppid = 0;
    CHECK(sscanf(strrchr(stat_text, ')') + 2, "%*c %d", &ppid) == 1);
    CHECK_INT(ppid, !=, getpid());

    char buf[256], want[64];
    out_file("a.ready", buf, sizeof(buf));
    /* exec into a joins the same namespaces */
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    int fds[3] = {-1, p[1], p[1]};
    fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int sock, master;
    CHECK_OK(reef_shim_exec_start(ctrs, a,
                                  "{\"argv\":[\"sh\",\"-c\",\"readlink /proc/self/ns/net; "
                                  "hostname\"],\"env\":[\"PATH=/bin\"],\"user\":\"\","
                                  "\"workdir\":\"\",\"tty\":false}",
                                  fds, &sock, &master, &code, &err),
             &err);
    close(p[1]);
    close(fds[0]);
    char got[256] = "";
    size_t n = 0;
    ssize_t k;
    while ((k = read(p[0], got + n, sizeof(got) - 1 - n)) > 0)
        n += (size_t)k;
    got[n] = '\0';
    close(p[0]);
    CHECK_OK(reef_shim_exec_wait(sock, &code, &err), &err);
    CHECK_INT(code, ==, 0);
    ns_name("net", sb.netns, want, sizeof(want));
    char expect[128];
    snprintf(expect, sizeof(expect), "%s\nweb-0\n", want);
    CHECK_STR(got, expect);

    /* b: the agent's own /etc/hosts; connects to a over the pod's loopback */
    CHECK_OK(start(&sb, "web-0",
                   "readlink /proc/self/ns/net > /out/b.net;"
                   "readlink /proc/self/ns/ipc > /out/b.ipc;"
                   "readlink /proc/self/ns/pid > /out/b.pid; hostname > /out/b.host;"
                   "cat /etc/hosts > /out/b.hosts;"
                   "until nc 127.0.0.1 8080 > /tmp/got && test -s /tmp/got; do sleep 0.1; done;"
                   "cat /tmp/got > /out/b.got",
                   NULL, true, hosts, &code, b, &err),
             &err);
    CHECK_INT(wait_exit(b), ==, 0);
    CHECK_INT(wait_exit(a), ==, 0);

    out_file("a.net", buf, sizeof(buf));
    CHECK_STR(buf, want);
    out_file("b.net", buf, sizeof(buf));
    CHECK_STR(buf, want);
    ns_name("ipc", sb.ipcns, want, sizeof(want));
    out_file("a.ipc", buf, sizeof(buf));
    CHECK_STR(buf, want);
    out_file("b.ipc", buf, sizeof(buf));
    CHECK_STR(buf, want);
    out_file("a.host", buf, sizeof(buf));
    CHECK_STR(buf, "web-0");
    out_file("b.host", buf, sizeof(buf));
    CHECK_STR(buf, "web-0");
    char pa[64];
    out_file("a.pid", pa, sizeof(pa));
    out_file("b.pid", buf, sizeof(buf));
    CHECK(strncmp(pa, "pid:[", 5) == 0 && strcmp(pa, buf) != 0);
    ns_name("pid", "/proc/self/ns/pid", want, sizeof(want));
    CHECK(strcmp(pa, want) != 0);
    out_file("b.got", buf, sizeof(buf));
    CHECK_STR(buf, "hello-from-a");
    /* a got the shim's /etc/hosts (its host name on 127.0.1.1), b the agent's */
    out_file("a.hosts", buf, sizeof(buf));
    CHECK(strstr(buf, "127.0.1.1\tweb-0"));
    out_file("a.etchost", buf, sizeof(buf));
    CHECK_STR(buf, "web-0");
    out_file("b.hosts", buf, sizeof(buf));
    CHECK_STR(buf, "10.0.0.7\tweb-0 # agent's");
    char path[400];
    struct reef_ctrstore *s;
    CHECK_OK(reef_ctrstore_open(ctrs, &s, &err), &err);
    reef_ctr_path(s, b, "hosts", path, sizeof(path));
    CHECK(access(path, F_OK) < 0); /* no_etc_files: the shim wrote none */
    reef_ctr_path(s, a, "hosts", path, sizeof(path));
    CHECK(access(path, F_OK) == 0);
    reef_ctrstore_close(s);

    CHECK_OK(reef_pod_sandbox_remove(pods, "pod-a", &err), &err);
    snprintf(path, sizeof(path), "%s/pod-a", pods);
    CHECK(!mounted_under(path));
    CHECK(access(path, F_OK) < 0);
}

static void test_start_failures(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_pod_sandbox sb;
    CHECK_OK(reef_pod_sandbox_create(pods, "pod-c", "web-2", false, &sb, &err), &err);
    char id[65];
    int code = 0;
    CHECK_INT(start(&sb, "", "", "nosuchcmd", false, NULL, &code, id, &err), ==, -ENOENT);
    CHECK_INT(code, ==, REEF_EXIT_NOTFOUND);
    CHECK_STR(err.msg, "exec: \"nosuchcmd\": executable file not found in $PATH");
    CHECK_INT(wait_exit(id), ==, REEF_EXIT_NOTFOUND);
    CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
    /* a sandbox that is gone: the shim says which file */
    CHECK_OK(reef_pod_sandbox_remove(pods, "pod-c", &err), &err);
    CHECK(start(&sb, "", "true", NULL, false, NULL, &code, id, &err) < 0);
    CHECK_INT(code, ==, REEF_EXIT_RUNTIME);
    CHECK(strstr(err.msg, sb.netns));
    /* an unknown container */
    CHECK(reef_shim_start(ctrs, "0123", &code, &err) < 0);
    CHECK_INT(code, ==, REEF_EXIT_RUNTIME);
}

/* A pod on the host's network still has its own IPC and UTS namespaces. */
static void test_host_network_pod(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_pod_sandbox sb;
    CHECK_OK(reef_pod_sandbox_create(pods, "pod-b", "hostnet-0", true, &sb, &err), &err);
    host_net = true;
    char id[65];
    int code = -1;
    CHECK_OK(start(&sb, "",
                   "readlink /proc/self/ns/net > /out/net; readlink /proc/self/ns/ipc > /out/ipc;"
                   "hostname > /out/host",
                   NULL, false, NULL, &code, id, &err),
             &err);
    CHECK_INT(wait_exit(id), ==, 0);
    char buf[128], want[64];
    ns_name("net", "/proc/self/ns/net", want, sizeof(want));
    out_file("net", buf, sizeof(buf));
    CHECK_STR(buf, want);
    ns_name("ipc", sb.ipcns, want, sizeof(want));
    out_file("ipc", buf, sizeof(buf));
    CHECK_STR(buf, want);
    out_file("host", buf, sizeof(buf));
    CHECK_STR(buf, "hostnet-0");
}

/* A field of /proc/<pid>/status as a number ("SigBlk", "SigIgn": hexadecimal masks). */
static unsigned long long status_mask(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    CHECK(f);
    unsigned long long v = ~0ULL;
    size_t n = strlen(field);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = strtoull(line + n + 1, NULL, 16);
    fclose(f);
    CHECK(v != ~0ULL);
    return v;
}

static void *idle_thread(void *arg)
{
    char c;
    ssize_t n = read(*(int *)arg, &c, 1); /* until the test closes the pipe */
    (void)n;
    return NULL;
}

static void on_sigchld(uv_signal_t *h, int sig)
{
    (void)h;
    (void)sig;
}

/* What a node agent looks like to reef_shim_start: a libuv loop handling SIGCHLD, other threads,
 * ignored and blocked signals, descriptors without close-on-exec. None of it reaches the shim. */
static void test_start_from_a_busy_process(void)
{
    setup();
    struct reef_err err = {0};
    uv_loop_t loop;
    uv_signal_t sigchld;
    CHECK(uv_loop_init(&loop) == 0);
    CHECK(uv_signal_init(&loop, &sigchld) == 0);
    CHECK(uv_signal_start(&sigchld, on_sigchld, SIGCHLD) == 0);
    int hold[2];
    CHECK(pipe(hold) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, idle_thread, &hold[0]) == 0);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigaddset(&block, SIGUSR1);
    CHECK(pthread_sigmask(SIG_BLOCK, &block, NULL) == 0);
    int stray = open("/dev/null", O_RDONLY); /* no O_CLOEXEC */
    CHECK(stray >= 0);

    char id[65];
    int code = -1;
    CHECK_OK(start(NULL, "", "echo up > /out/up; sleep 600", NULL, false, NULL, &code, id, &err),
             &err);
    struct reef_ctr_state st = state_of(id);
    CHECK(st.status == REEF_CTR_RUNNING && st.shim_pid > 0);
    CHECK_INT(status_mask(st.shim_pid, "SigBlk"), ==, 0);
    unsigned long long ours = (1ULL << (SIGTERM - 1)) | (1ULL << (SIGHUP - 1));
    CHECK_INT(status_mask(st.shim_pid, "SigIgn") & ours, ==, 0);
    /* its descriptors: stdio on /dev/null, the client socket gone, none of ours */
    char fdpath[64];
    snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/%d", st.shim_pid, stray);
    char link[256] = "";
    ssize_t n = readlink(fdpath, link, sizeof(link) - 1);
    CHECK(n < 0 || strcmp(link, "/dev/null") != 0);
    /* the shim still learns of its container's end: SIGCHLD works for it */
    char buf[64], reply[64];
    out_file("up", buf, sizeof(buf));
    CHECK(reef_shim_call(ctrs, id, "kill 9", NULL, 0, reply, sizeof(reply), 10000, &err) > 0);
    CHECK_INT(wait_exit(id), ==, 137);
    uv_run(&loop, UV_RUN_NOWAIT);
    close(hold[1]);
    CHECK(pthread_join(th, NULL) == 0);
    uv_close((uv_handle_t *)&sigchld, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    close(hold[0]);
    close(stray);
}

/* `reef shim` as cmd/shim.c runs it, for reef_shim_start's exec of /proc/self/exe. */
static int shim_main(int argc, char **argv)
{
    struct reef_shim_opts o = {.client_fd = -1};
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--containers") == 0 && i + 1 < argc)
            o.containers_dir = argv[++i];
        else if (strcmp(argv[i], "--client-fd") == 0 && i + 1 < argc)
            o.client_fd = atoi(argv[++i]);
        else if (strcmp(argv[i], "--detached") == 0)
            o.attach = false;
        else
            o.id = argv[i];
    }
    if (!o.containers_dir || !o.id)
        return 2;
    struct reef_err err = {0};
    int r = reef_shim_run(&o, &err);
    return r < 0 ? 125 : r;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "shim") == 0)
        return shim_main(argc, argv);
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_config_roundtrip);
    TEST_RUN(test_create_rejects_bad_labels);
    TEST_RUN(test_sandbox_lifecycle);
    TEST_RUN(test_containers_share_the_sandbox);
    TEST_RUN(test_start_failures);
    TEST_RUN(test_host_network_pod);
    TEST_RUN(test_start_from_a_busy_process);
    return test_done();
}
