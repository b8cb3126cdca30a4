/* Tests for net/podnet: CIDR parsing and address picking as pure functions, then the real thing
 * on the kernel (as root; without root these tests fail, they do not skip).
 *
 * Isolation: every kernel test first unshares the network and mount namespaces of its forked
 * test process, making the network namespace it stands in the "node" (bridge, host veths), and
 * mounts a tmpfs on /tmp there for the state directory and the pods' namespace files. The pods'
 * namespaces are more network namespaces, held by bind mounts on files in that tmpfs. All of it
 * disappears with the test process, however it ends: the node's real network namespace and /tmp
 * never see a link, an address or a file from these tests (the last test checks the former). */

#include "net/podnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "core/fs.h"
#include "net/netlink.h"
#include "tests/unit/test.h"

#define BRIDGE "reeft0"
#define STATE "/tmp/reef-t-ipam"

static const char *const test_uids[] = {"uid-a", "uid-b", "uid-c", "4f1c2a3e-1111-2222-3333-abc"};

/* ---- Pure parts --------------------------------------------------------------------------- */

static void test_parse_cidr(void)
{
    uint32_t net;
    int prefix;
    struct reef_err err = {0};
    CHECK_OK(reef__podnet_parse_cidr("10.42.0.0/24", &net, &prefix, &err), &err);
    CHECK_INT(net, ==, 0x0a2a0000);
    CHECK_INT(prefix, ==, 24);
    CHECK_OK(reef__podnet_parse_cidr("10.0.0.0/8", &net, &prefix, &err), &err);
    CHECK_INT(prefix, ==, 8);
    CHECK_OK(reef__podnet_parse_cidr("192.168.1.4/30", &net, &prefix, &err), &err);
    CHECK_INT(net, ==, 0xc0a80104);

    static const char *const bad[] = {
        "",
        "10.42.0.0",
        "10.42.0.0/",
        "10.42.0.0/33",
        "10.42.0.1/24",
        "10.42.0.0/31",
        "10.42.0.0/32",
        "10.0.0.0/7",
        "010.42.0.0/24",
        "10.42.0/24",
        "10.42.0.0.0/24",
        "10.42.0.256/24",
        "10.42.0.0/24 ",
        " 10.42.0.0/24",
        "10.42.0.0/024",
        "a.b.c.d/24",
        "10.42.0.0/-1",
        "10.42.0.0/+24",
        "fd00::/64",
        "10.42.0.0/24/1",
        "10.42.0.0/99999999999",
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(bad); i++) {
        err.msg[0] = '\0';
        int r = reef__podnet_parse_cidr(bad[i], &net, &prefix, &err);
        if (r != -EINVAL)
            TEST_FAIL("\"%s\" parsed (%d)", bad[i], r);
        CHECK(strstr(err.msg, "pod CIDR") != NULL);
    }
    CHECK_INT(reef__podnet_parse_cidr(NULL, &net, &prefix, &err), ==, -EINVAL);
    reef__podnet_parse_cidr("10.42.0.1/24", &net, &prefix, &err);
    CHECK(strstr(err.msg, "10.42.0.0/24") != NULL); /* says what was probably meant */

    uint32_t ip;
    CHECK_INT(reef__podnet_parse_ip("10.42.0.7", &ip), ==, 0);
    CHECK_INT(ip, ==, 0x0a2a0007);
    CHECK_INT(reef__podnet_parse_ip("10.42.0.07", &ip), ==, -EINVAL);
    CHECK_INT(reef__podnet_parse_ip(".tmp-1-2", &ip), ==, -EINVAL);
    CHECK_INT(reef__podnet_parse_ip("10.42.0.7x", &ip), ==, -EINVAL);
}

static void test_pick(void)
{
    uint32_t net = 0x0a2a0000; /* 10.42.0.0 */
    CHECK_INT(reef__podnet_pick(net, 24, NULL, 0, 0), ==, net + 2);
    uint32_t t1[] = {net + 2, net + 3};
    CHECK_INT(reef__podnet_pick(net, 24, t1, 2, 0), ==, net + 4);
    uint32_t t2[] = {net + 3};
    CHECK_INT(reef__podnet_pick(net, 24, t2, 1, 0), ==, net + 2); /* the lowest free, a hole */
    uint32_t t3[] = {net + 4, net + 2, net + 3, net + 3};      /* any order, duplicates */
    CHECK_INT(reef__podnet_pick(net, 24, t3, 4, 0), ==, net + 5);
    uint32_t t4[] = {net, net + 1, net + 255, 0x0b000002}; /* outside the pool: no effect */
    CHECK_INT(reef__podnet_pick(net, 24, t4, 4, 0), ==, net + 2);

    /* /30: .1 is the gateway, .3 the broadcast address: room for exactly one pod. */
    CHECK_INT(reef__podnet_pick(net, 30, NULL, 0, 0), ==, net + 2);
    uint32_t t5[] = {net + 2};
    CHECK_INT(reef__podnet_pick(net, 30, t5, 1, 0), ==, 0);
    /* /29: .2 to .6; the broadcast .7 is never handed out. */
    uint32_t t6[] = {net + 2, net + 3, net + 4, net + 5, net + 6};
    CHECK_INT(reef__podnet_pick(net, 29, t6, 5, 0), ==, 0);
    CHECK_INT(reef__podnet_pick(net, 29, t6, 4, 0), ==, net + 6);
    /* A full /24. */
    uint32_t full[253];
    for (int i = 0; i < 253; i++)
        full[i] = net + 2 + (uint32_t)i;
    CHECK_INT(reef__podnet_pick(net, 24, full, 253, 0), ==, 0);
    CHECK_INT(reef__podnet_pick(net, 24, full + 1, 252, 0), ==, net + 2);
    /* after the last handed out, wrapping round; a freed address is not reused at once */
    uint32_t t7[] = {net + 2, net + 4};
    CHECK_INT(reef__podnet_pick(net, 24, t7, 2, net + 4), ==, net + 5);
    CHECK_INT(reef__podnet_pick(net, 24, t7, 2, net + 2), ==, net + 3);
    CHECK_INT(reef__podnet_pick(net, 24, t7, 2, net + 254), ==, net + 3); /* the end: wraps */
    uint32_t t8[] = {net + 2, net + 3, net + 4, net + 5, net + 6};
    CHECK_INT(reef__podnet_pick(net, 29, t8, 4, net + 5), ==, net + 6);
    CHECK_INT(reef__podnet_pick(net, 29, t8, 5, net + 3), ==, 0);
    CHECK_INT(reef__podnet_pick(net, 24, NULL, 0, 0x0b000002), ==, net + 2); /* outside: start */
}

static void test_veth_name(void)
{
    char a[16], b[16];
    reef__podnet_veth_name("abc", a);
    CHECK_STR(a, "veth1a47e90b"); /* FNV-1a("abc") */
    reef__podnet_veth_name("4f1c2a3e-1111-2222-3333-abcdefabcdef", a);
    reef__podnet_veth_name("4f1c2a3e-1111-2222-3333-abcdefabcdef", b);
    CHECK_STR(a, b);
    CHECK_INT(strlen(a), ==, 12);
    CHECK(strlen(a) < IFNAMSIZ);
    reef__podnet_veth_name("4f1c2a3e-1111-2222-3333-abcdefabcdee", b);
    CHECK(strcmp(a, b) != 0);
}

/* ---- Kernel fixture ----------------------------------------------------------------------- */

static int node_ns = -1; /* the test's "node" namespace */

static void setup(void)
{
    if (geteuid() != 0)
        TEST_FAIL("the podnet tests need root (run them as root, as CI does)");
    if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
        TEST_FAIL("unshare: %s", strerror(errno));
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        TEST_FAIL("make mounts private: %s", strerror(errno));
    if (mount("reef-test", "/tmp", "tmpfs", 0, "mode=0700,size=16m") < 0)
        TEST_FAIL("tmpfs on /tmp: %s", strerror(errno));
    node_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    CHECK(node_ns >= 0);
    /* A fresh namespace starts with forwarding off (unless the node's default says otherwise):
     * make sure opening is what turns it on. */
    int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY);
    CHECK(fd >= 0);
    CHECK_INT(write(fd, "0\n", 2), ==, 2);
    close(fd);
}

/* A new network namespace held by a bind mount on /tmp/<name>; returns its path. */
static const char *new_netns(const char *name)
{
    static char paths[16][64];
    static int n;
    CHECK(n < 16);
    char *p = paths[n++];
    snprintf(p, 64, "/tmp/reef-t-%s", name);
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    close(fd);
    CHECK_INT(unshare(CLONE_NEWNET), ==, 0);
    if (mount("/proc/self/ns/net", p, NULL, MS_BIND, NULL) < 0)
        TEST_FAIL("bind %s: %s", p, strerror(errno));
    CHECK_INT(setns(node_ns, CLONE_NEWNET), ==, 0);
    return p;
}

static void enter(const char *netns)
{
    int fd = open(netns, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_INT(setns(fd, CLONE_NEWNET), ==, 0);
    close(fd);
}

static void leave(void)
{
    CHECK_INT(setns(node_ns, CLONE_NEWNET), ==, 0);
}

static struct reef_podnet *open_pn(const char *cidr)
{
    struct reef_podnet_opts o = {.bridge = BRIDGE, .cidr = cidr, .state_dir = STATE, .mtu = 1400};
    struct reef_podnet *pn = NULL;
    struct reef_err err = {0};
    CHECK_OK(reef_podnet_open(&o, &pn, &err), &err);
    return pn;
}

static void attach_ok(struct reef_podnet *pn, const char *uid, const char *netns, const char *want)
{
    char ip[64];
    struct reef_err err = {0};
    CHECK_OK(reef_podnet_attach(pn, uid, netns, ip, &err), &err);
    CHECK_STR(ip, want);
}

/* ---- Reading the kernel's state back (in the current namespace) --------------------------- */

struct link {
    bool found;
    int index, master, mtu, peer;
    unsigned flags;
    char kind[16];
};

static int on_link(void *ud, const struct nlmsghdr *h)
{
    struct link *l = ud;
    const struct rtattr *tb[IFLA_MAX + 1];
    CHECK_INT(reef_nl_parse_msg(tb, IFLA_MAX, h, sizeof(struct ifinfomsg)), ==, 0);
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    l->found = true;
    l->index = ifi->ifi_index;
    l->flags = ifi->ifi_flags;
    l->master = (int)reef_nl_attr_u32(tb[IFLA_MASTER]);
    l->mtu = (int)reef_nl_attr_u32(tb[IFLA_MTU]);
    l->peer = (int)reef_nl_attr_u32(tb[IFLA_LINK]);
    if (tb[IFLA_LINKINFO]) {
        const struct rtattr *info[IFLA_INFO_MAX + 1];
        CHECK_INT(reef_nl_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO]), ==, 0);
        const char *k = reef_nl_attr_str(info[IFLA_INFO_KIND]);
        snprintf(l->kind, sizeof(l->kind), "%s", k ? k : "");
    }
    return 0;
}

static struct link get_link(const char *name)
{
    struct reef_nl nl;
    struct reef_err err = {0};
    CHECK_OK(reef_nl_open(&nl, &err), &err);
    struct link l = {0};
    struct reef_nl_msg m;
    struct ifinfomsg *ifi = reef_nl_msg_init(&m, RTM_GETLINK, 0, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    reef_nl_put_str(&m, IFLA_IFNAME, name);
    int r = reef_nl_call(&nl, &m, on_link, &l, name, &err);
    if (r != 0 && r != -ENODEV)
        TEST_FAIL("%s", err.msg);
    reef_nl_close(&nl);
    return l;
}

/* The IPv4 addresses of link index, as "a.b.c.d/n" joined by spaces. */
struct addrs {
    int index;
    char text[256];
};

static int on_addr(void *ud, const struct nlmsghdr *h)
{
    struct addrs *a = ud;
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != a->index)
        return 0;
    const struct rtattr *tb[IFA_MAX + 1];
    CHECK_INT(reef_nl_parse_msg(tb, IFA_MAX, h, sizeof(*ifa)), ==, 0);
    CHECK(tb[IFA_LOCAL] != NULL);
    struct in_addr in = {.s_addr = reef_nl_attr_u32(tb[IFA_LOCAL])};
    size_t n = strlen(a->text);
    snprintf(a->text + n, sizeof(a->text) - n, "%s%s/%d", n ? " " : "", inet_ntoa(in),
             ifa->ifa_prefixlen);
    return 0;
}

static const char *addrs_of(int index)
{
    static struct addrs a;
    memset(&a, 0, sizeof(a));
    a.index = index;
    struct reef_nl nl;
    struct reef_err err = {0};
    CHECK_OK(reef_nl_open(&nl, &err), &err);
    struct reef_nl_msg m;
    struct ifaddrmsg *ifa = reef_nl_msg_init(&m, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));
    ifa->ifa_family = AF_INET;
    CHECK_OK(reef_nl_call(&nl, &m, on_addr, &a, "", &err), &err);
    reef_nl_close(&nl);
    return a.text;
}

/* The main table's default route: gateway "a.b.c.d" and output link. */
struct route {
    char gw[16];
    int oif;
    int n;
};

static int on_route(void *ud, const struct nlmsghdr *h)
{
    struct route *r = ud;
    const struct rtmsg *rt = NLMSG_DATA(h);
    if (rt->rtm_family != AF_INET || rt->rtm_dst_len != 0 || rt->rtm_table != RT_TABLE_MAIN)
        return 0;
    const struct rtattr *tb[RTA_MAX + 1];
    CHECK_INT(reef_nl_parse_msg(tb, RTA_MAX, h, sizeof(*rt)), ==, 0);
    struct in_addr in = {.s_addr = reef_nl_attr_u32(tb[RTA_GATEWAY])};
    snprintf(r->gw, sizeof(r->gw), "%s", inet_ntoa(in));
    r->oif = (int)reef_nl_attr_u32(tb[RTA_OIF]);
    r->n++;
    return 0;
}

static struct route default_route(void)
{
    struct route r = {0};
    struct reef_nl nl;
    struct reef_err err = {0};
    CHECK_OK(reef_nl_open(&nl, &err), &err);
    struct reef_nl_msg m;
    struct rtmsg *rt = reef_nl_msg_init(&m, RTM_GETROUTE, NLM_F_DUMP, sizeof(*rt));
    rt->rtm_family = AF_INET;
    CHECK_OK(reef_nl_call(&nl, &m, on_route, &r, "", &err), &err);
    reef_nl_close(&nl);
    return r;
}

static char *read_state(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), STATE "/%s", name);
    char *s = NULL;
    if (reef_fs_read_string(path, 4096, &s, NULL, NULL) < 0)
        return NULL;
    return s;
}

static bool state_exists(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), STATE "/%s", name);
    return access(path, F_OK) == 0;
}

static int count_state_files(void)
{
    int n = 0;
    char path[64];
    for (int i = 0; i < 256; i++) {
        snprintf(path, sizeof(path), STATE "/10.99.0.%d", i);
        n += access(path, F_OK) == 0;
    }
    return n;
}

/* Checks everything about an attached pod: its eth0, lo and route, and the host end. */
static void check_pod(const char *uid, const char *netns, const char *ip)
{
    char hv[16], want[32];
    reef__podnet_veth_name(uid, hv);
    struct link br = get_link(BRIDGE), host = get_link(hv);
    CHECK(host.found);
    CHECK_STR(host.kind, "veth");
    CHECK_INT(host.master, ==, br.index);
    CHECK(host.flags & IFF_UP);
    CHECK_INT(host.mtu, ==, 1400);

    enter(netns);
    struct link eth0 = get_link("eth0"), lo = get_link("lo");
    CHECK(eth0.found);
    CHECK(eth0.flags & IFF_UP);
    CHECK_INT(eth0.mtu, ==, 1400);
    CHECK_INT(eth0.peer, ==, host.index); /* the other end of the host veth */
    snprintf(want, sizeof(want), "%s/24", ip);
    CHECK_STR(addrs_of(eth0.index), want);
    CHECK(lo.flags & IFF_UP);
    CHECK_STR(addrs_of(lo.index), "127.0.0.1/8");
    struct route r = default_route();
    CHECK_INT(r.n, ==, 1);
    CHECK_STR(r.gw, "10.99.0.1");
    CHECK_INT(r.oif, ==, eth0.index);
    leave();
    CHECK_INT(host.peer, ==, eth0.index);

    char *owner = read_state(ip);
    CHECK_STR(owner, uid);
    free(owner);
}

/* ---- TCP between namespaces --------------------------------------------------------------- */

static int tcp_listen(const char *netns, const char *ip, int port)
{
    if (netns)
        enter(netns);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* stays in that namespace */
    CHECK(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    CHECK_INT(inet_pton(AF_INET, ip, &sa.sin_addr), ==, 1);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        TEST_FAIL("bind %s:%d: %s", ip, port, strerror(errno));
    CHECK_INT(listen(fd, 4), ==, 0);
    if (netns)
        leave();
    return fd;
}

/* Connects from netns to ip:port, where lfd listens, and passes a few bytes both ways. */
static void tcp_exchange(const char *netns, int lfd, const char *ip, int port)
{
    enter(netns);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    leave();
    CHECK(c >= 0);
    struct timeval tv = {.tv_sec = 10}; /* a broken network fails the test instead of hanging */
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    CHECK_INT(inet_pton(AF_INET, ip, &sa.sin_addr), ==, 1);
    if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        TEST_FAIL("connect from %s to %s:%d: %s", netns, ip, port, strerror(errno));
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    int s = accept(lfd, (struct sockaddr *)&peer, &plen);
    CHECK(s >= 0);
    CHECK_INT(write(c, "ping", 4), ==, 4);
    char buf[8] = {0};
    CHECK_INT(read(s, buf, sizeof(buf)), ==, 4);
    CHECK_STR(buf, "ping");
    CHECK_INT(write(s, "pong", 4), ==, 4);
    memset(buf, 0, sizeof(buf));
    CHECK_INT(read(c, buf, sizeof(buf)), ==, 4);
    CHECK_STR(buf, "pong");
    close(s);
    close(c);
}

/* ---- Kernel tests ------------------------------------------------------------------------- */

static void test_open_creates_bridge(void)
{
    setup();
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    CHECK_STR(reef_podnet_gateway(pn), "10.99.0.1");
    struct link br = get_link(BRIDGE);
    CHECK(br.found);
    CHECK_STR(br.kind, "bridge");
    CHECK(br.flags & IFF_UP);
    CHECK_INT(br.mtu, ==, 1400);
    CHECK_STR(addrs_of(br.index), "10.99.0.1/24");
    char *fwd = NULL;
    CHECK_INT(reef_fs_read_string("/proc/sys/net/ipv4/ip_forward", 64, &fwd, NULL, NULL), ==, 0);
    CHECK_STR(fwd, "1\n");
    free(fwd);
    struct stat st;
    CHECK_INT(stat(STATE, &st), ==, 0);
    CHECK(S_ISDIR(st.st_mode));
    reef_podnet_close(pn);

    /* Closing leaves the bridge; reopening reuses it and its address, adds nothing. */
    br = get_link(BRIDGE);
    CHECK(br.found);
    pn = open_pn("10.99.0.0/24");
    struct link again = get_link(BRIDGE);
    CHECK_INT(again.index, ==, br.index);
    CHECK_STR(addrs_of(br.index), "10.99.0.1/24");
    reef_podnet_close(pn);
    reef_podnet_close(NULL);
}

/* A bridge made by someone else, down, without address, another MTU: taken over. */
static void test_open_reuses_foreign_bridge(void)
{
    setup();
    struct reef_nl nl;
    struct reef_err err = {0};
    CHECK_OK(reef_nl_open(&nl, &err), &err);
    struct reef_nl_msg m;
    struct ifinfomsg *ifi =
        reef_nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    reef_nl_put_str(&m, IFLA_IFNAME, BRIDGE);
    reef_nl_put_u32(&m, IFLA_MTU, 1500);
    reef_nl_nest_begin(&m, IFLA_LINKINFO);
    reef_nl_put_str(&m, IFLA_INFO_KIND, "bridge");
    reef_nl_nest_end(&m);
    CHECK_OK(reef_nl_call(&nl, &m, NULL, NULL, BRIDGE, &err), &err);
    reef_nl_close(&nl);
    struct link before = get_link(BRIDGE);
    CHECK(!(before.flags & IFF_UP));

    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    struct link br = get_link(BRIDGE);
    CHECK_INT(br.index, ==, before.index);
    CHECK(br.flags & IFF_UP);
    CHECK_INT(br.mtu, ==, 1400);
    CHECK_STR(addrs_of(br.index), "10.99.0.1/24");
    reef_podnet_close(pn);
}

/* A link of the bridge's name that is no bridge is refused, with a message that says so. */
static void test_open_refuses_non_bridge(void)
{
    setup();
    struct reef_nl nl;
    struct reef_err err = {0};
    CHECK_OK(reef_nl_open(&nl, &err), &err);
    struct reef_nl_msg m;
    struct ifinfomsg *ifi =
        reef_nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    reef_nl_put_str(&m, IFLA_IFNAME, BRIDGE);
    reef_nl_nest_begin(&m, IFLA_LINKINFO);
    reef_nl_put_str(&m, IFLA_INFO_KIND, "veth");
    reef_nl_nest_end(&m);
    CHECK_OK(reef_nl_call(&nl, &m, NULL, NULL, BRIDGE, &err), &err);
    reef_nl_close(&nl);

    struct reef_podnet_opts o = {.bridge = BRIDGE, .cidr = "10.99.0.0/24", .state_dir = STATE};
    struct reef_podnet *pn = (struct reef_podnet *)&o; /* must be reset to NULL */
    CHECK_INT(reef_podnet_open(&o, &pn, &err), ==, -EEXIST);
    CHECK(pn == NULL);
    CHECK_STR(err.msg, "bridge " BRIDGE ": a link of that name exists and is a veth");
}

static void test_open_bad_options(void)
{
    setup();
    struct reef_err err = {0};
    struct reef_podnet *pn = NULL;
    static const char *const cidrs[] = {"10.99.0.0", "10.99.0.5/24", "10.99.0.0/31", "bogus", ""};
    for (size_t i = 0; i < REEF_ARRAY_LEN(cidrs); i++) {
        struct reef_podnet_opts o = {.bridge = BRIDGE, .cidr = cidrs[i], .state_dir = STATE};
        CHECK_INT(reef_podnet_open(&o, &pn, &err), ==, -EINVAL);
        CHECK(pn == NULL);
        CHECK(strstr(err.msg, "pod CIDR") != NULL);
    }
    static const char *const names[] = {"", "a-bridge-name-too-long", "a/b", "a b", ".."};
    for (size_t i = 0; i < REEF_ARRAY_LEN(names); i++) {
        struct reef_podnet_opts o = {
            .bridge = names[i], .cidr = "10.99.0.0/24", .state_dir = STATE};
        CHECK_INT(reef_podnet_open(&o, &pn, &err), ==, -EINVAL);
        CHECK(strstr(err.msg, "bridge name") != NULL);
    }
    struct reef_podnet_opts o = {
        .bridge = BRIDGE, .cidr = "10.99.0.0/24", .state_dir = STATE, .mtu = 10};
    CHECK_INT(reef_podnet_open(&o, &pn, &err), ==, -EINVAL);
    CHECK_STR(err.msg, "mtu 10: outside 68..65535");
    o.mtu = 0;
    o.state_dir = "";
    CHECK_INT(reef_podnet_open(&o, &pn, &err), ==, -EINVAL);
    /* Nothing was created along the way. */
    CHECK(!get_link(BRIDGE).found);
    CHECK(access(STATE, F_OK) < 0);
}

static void test_attach_two_pods(void)
{
    setup();
    const char *a = new_netns("pod-a"), *b = new_netns("pod-b");
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    attach_ok(pn, "uid-b", b, "10.99.0.3");
    check_pod("uid-a", a, "10.99.0.2");
    check_pod("uid-b", b, "10.99.0.3");
    char ip[64];
    CHECK_INT(reef_podnet_lookup(pn, "uid-a", ip), ==, 0);
    CHECK_STR(ip, "10.99.0.2");
    CHECK_INT(reef_podnet_lookup(pn, "uid-b", ip), ==, 0);
    CHECK_STR(ip, "10.99.0.3");
    CHECK_INT(reef_podnet_lookup(pn, "uid-c", ip), ==, -ENOENT);
    CHECK_INT(reef_podnet_lookup(pn, "../x", ip), ==, -EINVAL);
    CHECK_INT(count_state_files(), ==, 2);
    CHECK(!state_exists("10.99.0.1")); /* the gateway is never a record */

    /* What `ip` itself sees in the pod. */
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "nsenter --net=%s ip -4 -o addr show dev eth0 | grep -q ' 10.99.0.2/24 ' && "
             "nsenter --net=%s ip route show default | grep -q '^default via 10.99.0.1 dev eth0'",
             a, a);
    CHECK_INT(system(cmd), ==, 0);
    reef_podnet_close(pn);
}

static void test_connectivity(void)
{
    setup();
    const char *a = new_netns("pod-a"), *b = new_netns("pod-b");
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    attach_ok(pn, "uid-b", b, "10.99.0.3");

    /* Pod to node, through the gateway address on the bridge. */
    int lfd = tcp_listen(NULL, "10.99.0.1", 8080);
    tcp_exchange(a, lfd, "10.99.0.1", 8080);
    tcp_exchange(b, lfd, "10.99.0.1", 8080);
    close(lfd);
    /* Pod to pod, both ways. */
    lfd = tcp_listen(a, "10.99.0.2", 9090);
    tcp_exchange(b, lfd, "10.99.0.2", 9090);
    close(lfd);
    lfd = tcp_listen(b, "10.99.0.3", 9090);
    tcp_exchange(a, lfd, "10.99.0.3", 9090);
    close(lfd);
    /* The node reaches a pod. */
    lfd = tcp_listen(a, "0.0.0.0", 7070);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7070)};
    inet_pton(AF_INET, "10.99.0.2", &sa.sin_addr);
    CHECK_INT(connect(c, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    close(c);
    close(lfd);
    reef_podnet_close(pn);
}

static void test_attach_idempotent(void)
{
    setup();
    const char *a = new_netns("pod-a");
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    char hv[16];
    reef__podnet_veth_name("uid-a", hv);
    struct link first = get_link(hv);
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    struct link second = get_link(hv);
    CHECK_INT(second.index, ==, first.index); /* the same pair, not a new one */
    check_pod("uid-a", a, "10.99.0.2");
    CHECK_INT(count_state_files(), ==, 1);

    /* Someone took the pod's link down and its route away: attaching again repairs it. */
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "nsenter --net=%s ip link set eth0 down && nsenter --net=%s ip link set lo down", a,
             a);
    CHECK_INT(system(cmd), ==, 0);
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    check_pod("uid-a", a, "10.99.0.2");
    reef_podnet_close(pn);
}

/* A host veth of the pod's name whose peer is not the pod's eth0 (an earlier sandbox's, say) is
 * replaced by a proper pair. */
static void test_attach_replaces_stale_link(void)
{
    setup();
    const char *a = new_netns("pod-a");
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    char hv[16], cmd[128];
    reef__podnet_veth_name("uid-a", hv);
    snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name stale0", hv);
    CHECK_INT(system(cmd), ==, 0);
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    check_pod("uid-a", a, "10.99.0.2");
    CHECK(!get_link("stale0").found);
    reef_podnet_close(pn);
}

static void test_detach(void)
{
    setup();
    const char *a = new_netns("pod-a"), *b = new_netns("pod-b"), *c = new_netns("pod-c");
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    attach_ok(pn, "uid-b", b, "10.99.0.3");
    char hv[16];
    reef__podnet_veth_name("uid-a", hv);
    struct reef_err err = {0};
    CHECK_OK(reef_podnet_detach(pn, "uid-a", &err), &err);
    CHECK(!get_link(hv).found);
    enter(a);
    CHECK(!get_link("eth0").found); /* went with its peer */
    leave();
    CHECK(!state_exists("10.99.0.2"));
    char ip[64];
    CHECK_INT(reef_podnet_lookup(pn, "uid-a", ip), ==, -ENOENT);
    check_pod("uid-b", b, "10.99.0.3");

    /* Idempotent, and unknown pods are fine. */
    CHECK_OK(reef_podnet_detach(pn, "uid-a", &err), &err);
    CHECK_OK(reef_podnet_detach(pn, "uid-never", &err), &err);
    CHECK_INT(reef_podnet_detach(pn, "a/b", &err), ==, -EINVAL);

    /* The freed address is not handed out again at once: the next after the last one is. */
    attach_ok(pn, "uid-c", c, "10.99.0.4");
    check_pod("uid-c", c, "10.99.0.4");
    /* A pod whose namespace is gone (its link with it) still gets its address back. */
    CHECK_INT(umount2(c, MNT_DETACH), ==, 0);
    CHECK_OK(reef_podnet_detach(pn, "uid-c", &err), &err);
    CHECK(!state_exists("10.99.0.4"));
    reef_podnet_close(pn);
}

static void test_reopen_keeps_allocations(void)
{
    setup();
    const char *a = new_netns("pod-a"), *b = new_netns("pod-b");
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    reef_podnet_close(pn);
    check_pod("uid-a", a, "10.99.0.2"); /* closing leaves pods alone */

    pn = open_pn("10.99.0.0/24");
    char ip[64];
    CHECK_INT(reef_podnet_lookup(pn, "uid-a", ip), ==, 0);
    CHECK_STR(ip, "10.99.0.2");
    attach_ok(pn, "uid-b", b, "10.99.0.3");
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    check_pod("uid-a", a, "10.99.0.2");
    reef_podnet_close(pn);

    /* A record from another CIDR is never handed out or reused in this one. */
    pn = open_pn("10.98.0.0/24");
    CHECK_INT(reef_podnet_lookup(pn, "uid-a", ip), ==, -ENOENT);
    reef_podnet_close(pn);
}

/* Reopening with another MTU changes the bridge, and every pod as it is attached again. */
static void test_mtu_change(void)
{
    setup();
    const char *a = new_netns("pod-a");
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    reef_podnet_close(pn);
    struct reef_podnet_opts o = {
        .bridge = BRIDGE, .cidr = "10.99.0.0/24", .state_dir = STATE, .mtu = 1300};
    struct reef_err err = {0};
    CHECK_OK(reef_podnet_open(&o, &pn, &err), &err);
    CHECK_INT(get_link(BRIDGE).mtu, ==, 1300);
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    char hv[16];
    reef__podnet_veth_name("uid-a", hv);
    CHECK_INT(get_link(hv).mtu, ==, 1300);
    enter(a);
    CHECK_INT(get_link("eth0").mtu, ==, 1300);
    leave();
    reef_podnet_close(pn);
}

static void test_exhaustion(void)
{
    setup();
    const char *a = new_netns("pod-a"), *b = new_netns("pod-b");
    struct reef_podnet *pn = open_pn("10.99.0.0/30");
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    char ip[64];
    struct reef_err err = {0};
    CHECK_INT(reef_podnet_attach(pn, "uid-b", b, ip, &err), ==, -ENOSPC);
    CHECK(strstr(err.msg, "10.99.0.0/30") != NULL);
    CHECK(strstr(err.msg, "uid-b") != NULL);
    char hv[16];
    reef__podnet_veth_name("uid-b", hv);
    CHECK(!get_link(hv).found);
    CHECK(!state_exists("10.99.0.3")); /* the broadcast address */
    CHECK_INT(count_state_files(), ==, 1);
    CHECK_OK(reef_podnet_detach(pn, "uid-a", &err), &err);
    attach_ok(pn, "uid-b", b, "10.99.0.2");
    reef_podnet_close(pn);
}

static void test_attach_errors(void)
{
    setup();
    const char *a = new_netns("pod-a");
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    char ip[64];
    struct reef_err err = {0};
    CHECK_INT(reef_podnet_attach(pn, "", a, ip, &err), ==, -EINVAL);
    CHECK_INT(reef_podnet_attach(pn, "../etc", a, ip, &err), ==, -EINVAL);
    char longuid[200];
    memset(longuid, 'u', sizeof(longuid) - 1);
    longuid[sizeof(longuid) - 1] = '\0';
    CHECK_INT(reef_podnet_attach(pn, longuid, a, ip, &err), ==, -EINVAL);

    /* Each failure after allocating gives the address back. */
    CHECK_INT(reef_podnet_attach(pn, "uid-a", "/tmp/nosuch", ip, &err), ==, -ENOENT);
    CHECK_STR(err.msg, "attach pod uid-a: netns /tmp/nosuch: No such file or directory");
    CHECK_INT(count_state_files(), ==, 0);
    CHECK_INT(reef_podnet_attach(pn, "uid-a", "/proc/self/ns/uts", ip, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "not a network namespace") != NULL);
    CHECK_INT(reef_podnet_attach(pn, "uid-a", "/proc/self/ns/net", ip, &err), ==, -EINVAL);
    CHECK(strstr(err.msg, "node's own network namespace") != NULL);
    CHECK_INT(count_state_files(), ==, 0);

    /* The pod's namespace already has an eth0: the kernel's refusal, precisely. */
    enter(a);
    CHECK_INT(system("ip link add eth0 type bridge"), ==, 0);
    leave();
    char hv[16], want[128];
    reef__podnet_veth_name("uid-a", hv);
    CHECK_INT(reef_podnet_attach(pn, "uid-a", a, ip, &err), ==, -EEXIST);
    snprintf(want, sizeof(want), "attach pod uid-a: netlink: RTM_NEWLINK %s: File exists", hv);
    CHECK_STR(err.msg, want);
    CHECK(!get_link(hv).found);
    CHECK_INT(count_state_files(), ==, 0);

    /* A pod that already had its address keeps it through a failed attach. */
    enter(a);
    CHECK_INT(system("ip link del eth0"), ==, 0);
    leave();
    attach_ok(pn, "uid-a", a, "10.99.0.2");
    CHECK_INT(reef_podnet_attach(pn, "uid-a", "/tmp/nosuch", ip, &err), ==, -ENOENT);
    CHECK_INT(reef_podnet_lookup(pn, "uid-a", ip), ==, 0);
    CHECK_STR(ip, "10.99.0.2");

    /* The bridge deleted under a running handle. */
    CHECK_INT(system("ip link del " BRIDGE), ==, 0);
    const char *b = new_netns("pod-b");
    CHECK_INT(reef_podnet_attach(pn, "uid-b", b, ip, &err), ==, -ENODEV);
    CHECK_STR(err.msg, "attach pod uid-b: bridge " BRIDGE ": missing");
    reef_podnet_close(pn);
}

/* Two processes allocating from one state directory at once never share an address. */
static void test_concurrent_allocators(void)
{
    setup();
    enum { PER = 6 };
    const char *ns[2][PER];
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < PER; i++) {
            char name[32];
            snprintf(name, sizeof(name), "p%d-%d", p, i);
            ns[p][i] = new_netns(name);
        }
    reef_podnet_close(open_pn("10.99.0.0/24"));
    pid_t kids[2];
    for (int p = 0; p < 2; p++) {
        kids[p] = fork();
        CHECK(kids[p] >= 0);
        if (kids[p] == 0) {
            struct reef_podnet *pn = open_pn("10.99.0.0/24");
            for (int i = 0; i < PER; i++) {
                char uid[32], ip[64];
                snprintf(uid, sizeof(uid), "uid-%d-%d", p, i);
                struct reef_err err = {0};
                CHECK_OK(reef_podnet_attach(pn, uid, ns[p][i], ip, &err), &err);
            }
            reef_podnet_close(pn);
            _exit(0);
        }
    }
    for (int p = 0; p < 2; p++) {
        int st;
        CHECK_INT(waitpid(kids[p], &st, 0), ==, kids[p]);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CHECK_INT(count_state_files(), ==, 2 * PER);
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < PER; i++) {
            char uid[32], ip[64];
            snprintf(uid, sizeof(uid), "uid-%d-%d", p, i);
            CHECK_INT(reef_podnet_lookup(pn, uid, ip), ==, 0);
            uint32_t a;
            CHECK_INT(reef__podnet_parse_ip(ip, &a), ==, 0);
            CHECK(a >= 0x0a630002 && a < 0x0a630002 + 2 * PER); /* .2 .. .13, each once */
            check_pod(uid, ns[p][i], ip);
        }
    reef_podnet_close(pn);
}

struct thread_attach {
    struct reef_podnet *pn;
    const char *netns;
    ino_t ns_before, ns_after;
    int rc;
    char ip[64];
    struct reef_err err;
};

static ino_t my_netns(void)
{
    struct stat st;
    CHECK_INT(stat("/proc/thread-self/ns/net", &st), ==, 0);
    return st.st_ino;
}

static void *attach_thread(void *arg)
{
    struct thread_attach *t = arg;
    t->ns_before = my_netns();
    t->rc = reef_podnet_attach(t->pn, "uid-a", t->netns, t->ip, &t->err);
    t->ns_after = my_netns();
    return NULL;
}

/* From a second thread of a threaded process (as on libuv's thread pool): neither thread ever
 * leaves the node's namespace. */
static void test_attach_from_thread(void)
{
    setup();
    const char *a = new_netns("pod-a");
    struct reef_podnet *pn = open_pn("10.99.0.0/24");
    ino_t main_ns = my_netns();
    struct thread_attach t = {.pn = pn, .netns = a};
    pthread_t th;
    CHECK_INT(pthread_create(&th, NULL, attach_thread, &t), ==, 0);
    CHECK_INT(pthread_join(th, NULL), ==, 0);
    if (t.rc != 0)
        TEST_FAIL("attach: %s", t.err.msg);
    CHECK_STR(t.ip, "10.99.0.2");
    CHECK_INT(t.ns_before, ==, main_ns);
    CHECK_INT(t.ns_after, ==, main_ns);
    CHECK_INT(my_netns(), ==, main_ns);
    check_pod("uid-a", a, "10.99.0.2");
    reef_podnet_close(pn);
}

/* Runs in the node's real network namespace, reading only: nothing from the tests is there. */
static void test_node_namespace_untouched(void)
{
    CHECK(!get_link(BRIDGE).found);
    for (size_t i = 0; i < REEF_ARRAY_LEN(test_uids); i++) {
        char hv[16];
        reef__podnet_veth_name(test_uids[i], hv);
        CHECK(!get_link(hv).found);
    }
    CHECK(!get_link("stale0").found);
    CHECK(access(STATE, F_OK) < 0);
    CHECK(access("/tmp/reef-t-pod-a", F_OK) < 0);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_parse_cidr);
    TEST_RUN(test_pick);
    TEST_RUN(test_veth_name);
    TEST_RUN(test_open_creates_bridge);
    TEST_RUN(test_open_reuses_foreign_bridge);
    TEST_RUN(test_open_refuses_non_bridge);
    TEST_RUN(test_open_bad_options);
    TEST_RUN(test_attach_two_pods);
    TEST_RUN(test_connectivity);
    TEST_RUN(test_attach_idempotent);
    TEST_RUN(test_attach_replaces_stale_link);
    TEST_RUN(test_detach);
    TEST_RUN(test_reopen_keeps_allocations);
    TEST_RUN(test_mtu_change);
    TEST_RUN(test_exhaustion);
    TEST_RUN(test_attach_errors);
    TEST_RUN(test_concurrent_allocators);
    TEST_RUN(test_attach_from_thread);
    TEST_RUN(test_node_namespace_untouched);
    return test_done();
}
