/* podnet: the links (bridge, veth pairs), the pod's namespace (configured from a forked child)
 * and the public entry points. Addresses are podnet_ipam.c's. */
#include "net/podnet_int.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/nsfs.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/cleanup.h"
#include "core/fs.h"
#include "core/log.h"
#include "net/netlink.h"

#define POD_IF "eth0"

void reef__podnet_veth_name(const char *uid, char name[16])
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)uid; *p; p++)
        h = (h ^ *p) * 16777619u;
    snprintf(name, 16, "veth%08x", h);
}

static int check_ifname(const char *name, struct reef_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= IFNAMSIZ)
        return reef_err_set(err, -EINVAL, "bridge name \"%.32s\": must be 1..%d characters",
                            name ? name : "", IFNAMSIZ - 1);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return reef_err_set(err, -EINVAL, "bridge name \"%s\": not allowed", name);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return reef_err_set(err, -EINVAL, "bridge name \"%s\": character %zu not allowed", name,
                                i);
    }
    return 0;
}

/* ---- Netlink requests --------------------------------------------------------------------- */

struct link_info {
    bool found;
    int index;
    int peer;   /* IFLA_LINK: a veth's peer index (in the peer's namespace) */
    int master; /* IFLA_MASTER */
    unsigned flags;
    int mtu;
    char kind[16]; /* IFLA_INFO_KIND, "" when none */
};

static int link_reply(void *ud, const struct nlmsghdr *h)
{
    struct link_info *li = ud;
    if (h->nlmsg_type != RTM_NEWLINK)
        return 0;
    const struct rtattr *tb[IFLA_MAX + 1];
    if (reef_nl_parse_msg(tb, IFLA_MAX, h, sizeof(struct ifinfomsg)) < 0)
        return -EBADMSG;
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    li->found = true;
    li->index = ifi->ifi_index;
    li->flags = ifi->ifi_flags;
    li->peer = (int)reef_nl_attr_u32(tb[IFLA_LINK]);
    li->master = (int)reef_nl_attr_u32(tb[IFLA_MASTER]);
    li->mtu = (int)reef_nl_attr_u32(tb[IFLA_MTU]);
    li->kind[0] = '\0';
    if (tb[IFLA_LINKINFO]) {
        const struct rtattr *info[IFLA_INFO_MAX + 1];
        if (reef_nl_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO]) == 0) {
            const char *k = reef_nl_attr_str(info[IFLA_INFO_KIND]);
            if (k)
                reef_strlcpy(li->kind, k, sizeof(li->kind));
        }
    }
    return 0;
}

/* The link called name; li->found false (and 0 returned) when there is none. */
static int link_get(struct reef_nl *nl, const char *name, struct link_info *li,
                    struct reef_err *err)
{
    memset(li, 0, sizeof(*li));
    struct reef_nl_msg m;
    struct ifinfomsg *ifi = reef_nl_msg_init(&m, RTM_GETLINK, 0, sizeof(*ifi));
    if (ifi)
        ifi->ifi_family = AF_UNSPEC;
    reef_nl_put_str(&m, IFLA_IFNAME, name);
    reef_nl_put_u32(&m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    struct reef_err e = {0};
    int r = reef_nl_call(nl, &m, link_reply, li, name, &e);
    if (r == -ENODEV) {
        li->found = false;
        return 0;
    }
    if (r < 0) {
        if (err)
            *err = e;
        return r;
    }
    if (!li->found)
        return reef_err_set(err, -EBADMSG, "netlink: RTM_GETLINK %s: no link in the answer", name);
    return 0;
}

/* Sets flags (IFF_UP), master (> 0) and mtu (> 0) of an existing link. */
static int link_set(struct reef_nl *nl, int index, const char *name, bool up, int master, int mtu,
                    struct reef_err *err)
{
    struct reef_nl_msg m;
    struct ifinfomsg *ifi = reef_nl_msg_init(&m, RTM_NEWLINK, 0, sizeof(*ifi));
    if (ifi) {
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        if (up) {
            ifi->ifi_flags = IFF_UP;
            ifi->ifi_change = IFF_UP;
        }
    }
    if (master > 0)
        reef_nl_put_u32(&m, IFLA_MASTER, (uint32_t)master);
    if (mtu > 0)
        reef_nl_put_u32(&m, IFLA_MTU, (uint32_t)mtu);
    return reef_nl_call(nl, &m, NULL, NULL, name, err);
}

/* Deletes the link by index, or by name when index is 0. */
static int link_del(struct reef_nl *nl, int index, const char *name, struct reef_err *err)
{
    struct reef_nl_msg m;
    struct ifinfomsg *ifi = reef_nl_msg_init(&m, RTM_DELLINK, 0, sizeof(*ifi));
    if (ifi) {
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
    }
    if (index == 0)
        reef_nl_put_str(&m, IFLA_IFNAME, name);
    struct reef_err e = {0};
    int r = reef_nl_call(nl, &m, NULL, NULL, name, &e);
    if (r == -ENODEV)
        return 0; /* gone already */
    if (r < 0 && err)
        *err = e;
    return r;
}

/* Adds ip/prefix (with its broadcast address) to the link; an existing one is replaced, so this
 * is idempotent. */
static int addr_add(struct reef_nl *nl, int index, const char *ifname, uint32_t ip, int prefix,
                    struct reef_err *err)
{
    struct reef_nl_msg m;
    struct ifaddrmsg *ifa =
        reef_nl_msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
    if (ifa) {
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (unsigned char)prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (unsigned)index;
    }
    uint32_t a = htonl(ip),
             b = htonl(reef__podnet_broadcast(ip & reef__podnet_mask(prefix), prefix));
    reef_nl_put_u32(&m, IFA_LOCAL, a);
    reef_nl_put_u32(&m, IFA_ADDRESS, a);
    reef_nl_put_u32(&m, IFA_BROADCAST, b);
    char what[64], s[16];
    reef__podnet_ip_str(ip, s);
    snprintf(what, sizeof(what), "%s/%d on %s", s, prefix, ifname);
    return reef_nl_call(nl, &m, NULL, NULL, what, err);
}

static int route_default(struct reef_nl *nl, int oif, uint32_t gw, struct reef_err *err)
{
    struct reef_nl_msg m;
    struct rtmsg *rt =
        reef_nl_msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*rt));
    if (rt) {
        rt->rtm_family = AF_INET;
        rt->rtm_table = RT_TABLE_MAIN;
        rt->rtm_protocol = RTPROT_BOOT;
        rt->rtm_scope = RT_SCOPE_UNIVERSE;
        rt->rtm_type = RTN_UNICAST;
    }
    reef_nl_put_u32(&m, RTA_GATEWAY, htonl(gw));
    reef_nl_put_u32(&m, RTA_OIF, (uint32_t)oif);
    char what[48], s[16];
    reef__podnet_ip_str(gw, s);
    snprintf(what, sizeof(what), "default via %s", s);
    return reef_nl_call(nl, &m, NULL, NULL, what, err);
}

/* ---- The pod's namespace, from a forked child --------------------------------------------- */

enum ns_op { NS_PROBE, NS_CONFIGURE };

/* Everything the child needs and reports; copied back whole through a pipe. */
struct ns_job {
    enum ns_op op;
    uint32_t ip, gw;
    int prefix, mtu;
    /* out */
    int rc;
    struct reef_err err;
    struct link_info eth0;
};

static int ns_configure(struct reef_nl *nl, struct ns_job *j, struct reef_err *err)
{
    int r = link_get(nl, POD_IF, &j->eth0, err);
    if (r < 0 || j->op == NS_PROBE)
        return r;
    if (!j->eth0.found)
        return reef_err_set(err, -ENODEV, "%s: missing", POD_IF);
    if ((r = addr_add(nl, j->eth0.index, POD_IF, j->ip, j->prefix, err)) < 0 ||
        (r = link_set(nl, j->eth0.index, POD_IF, true, 0, j->eth0.mtu != j->mtu ? j->mtu : 0,
                      err)) < 0)
        return r;
    struct link_info lo;
    if ((r = link_get(nl, "lo", &lo, err)) < 0)
        return r;
    if (lo.found && !(lo.flags & IFF_UP) && (r = link_set(nl, lo.index, "lo", true, 0, 0, err)) < 0)
        return r;
    return route_default(nl, j->eth0.index, j->gw, err);
}

/* The child's side: only system calls and formatting into fixed buffers, since it was forked
 * from a process that may have other threads (holding locks it would never release here). */
static void ns_child(int nsfd, struct ns_job *j)
{
    if (setns(nsfd, CLONE_NEWNET) < 0) {
        j->rc = reef_err_errno(&j->err, -errno, "setns");
        return;
    }
    struct reef_nl nl;
    if ((j->rc = reef_nl_open(&nl, &j->err)) < 0)
        return;
    j->rc = ns_configure(&nl, j, &j->err);
    reef_nl_close(&nl);
}

static int run_in_netns(int nsfd, const char *path, struct ns_job *j, struct reef_err *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return reef_err_errno(err, -errno, "netns %s: pipe", path);
    /* The child runs with every signal blocked: a handler of the parent's (libuv's writes to
     * the loop's signal pipe) must never run in it. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    int fork_errno = errno;
    if (pid != 0)
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return reef_err_errno(err, -fork_errno, "netns %s: fork", path);
    }
    if (pid == 0) {
        close(p[0]);
        ns_child(nsfd, j);
        const char *b = (const char *)j;
        size_t off = 0;
        while (off < sizeof(*j)) {
            ssize_t w = write(p[1], b + off, sizeof(*j) - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(p[1]);
    struct ns_job res;
    size_t got = 0;
    while (got < sizeof(res)) {
        ssize_t n = read(p[0], (char *)&res + got, sizeof(res) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (got != sizeof(res))
        return reef_err_set(err, -ECHILD, "netns %s: helper process died (status %d)", path, st);
    *j = res;
    if (j->rc < 0) {
        if (err)
            *err = j->err;
        return reef_err_wrap(err, "netns %s", path);
    }
    return 0;
}

/* Opens a network namespace file, refusing anything else and the caller's own namespace (which
 * would put eth0 and a default route into the node). */
static int open_netns(const char *path, struct reef_err *err)
{
    if (!path || !*path)
        return reef_err_set(err, -EINVAL, "netns path missing");
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return reef_err_errno(err, -errno, "netns %s", path);
    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type < 0 || type != CLONE_NEWNET)
        return reef_err_set(err, -EINVAL, "netns %s: not a network namespace file", path);
    struct stat a, b;
    if (fstat(fd, &a) == 0 && stat("/proc/thread-self/ns/net", &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return reef_err_set(err, -EINVAL, "netns %s: is the node's own network namespace", path);
    return REEF_STEAL_FD(fd);
}

/* ---- Bridge ------------------------------------------------------------------------------- */

/* A fixed locally administered MAC for the bridge: without one the bridge takes the lowest MAC
 * of its ports, so the gateway's MAC (cached in every pod's ARP table) would change whenever
 * that pod comes or goes. Derived from name and CIDR so a recreated bridge keeps it. */
static void bridge_mac(const struct reef_podnet *pn, unsigned char mac[6])
{
    uint64_t h = 14695981039346656037ull;
    const char *parts[] = {pn->bridge, "/", pn->cidr};
    for (size_t i = 0; i < REEF_ARRAY_LEN(parts); i++)
        for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++)
            h = (h ^ *p) * 1099511628211ull;
    mac[0] = 0x02; /* locally administered, unicast */
    for (int i = 1; i < 6; i++)
        mac[i] = (unsigned char)(h >> (8 * (i - 1)));
}

static int bridge_create(struct reef_podnet *pn, struct reef_err *err)
{
    struct reef_nl_msg m;
    struct ifinfomsg *ifi =
        reef_nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
    if (ifi)
        ifi->ifi_family = AF_UNSPEC;
    unsigned char mac[6];
    bridge_mac(pn, mac);
    reef_nl_put_str(&m, IFLA_IFNAME, pn->bridge);
    reef_nl_put_u32(&m, IFLA_MTU, (uint32_t)pn->mtu);
    reef_nl_put(&m, IFLA_ADDRESS, mac, sizeof(mac));
    reef_nl_nest_begin(&m, IFLA_LINKINFO);
    reef_nl_put_str(&m, IFLA_INFO_KIND, "bridge");
    reef_nl_nest_end(&m);
    return reef_nl_call(&pn->nl, &m, NULL, NULL, pn->bridge, err);
}

/* The bridge, created when missing, with our MTU; li gets it. */
static int bridge_ensure(struct reef_podnet *pn, struct link_info *li, struct reef_err *err)
{
    int r = link_get(&pn->nl, pn->bridge, li, err);
    if (r < 0)
        return r;
    if (!li->found) {
        struct reef_err e = {0};
        r = bridge_create(pn, &e);
        if (r < 0 && r != -EEXIST) { /* EEXIST: created meanwhile by someone else */
            if (err)
                *err = e;
            return r;
        }
        if ((r = link_get(&pn->nl, pn->bridge, li, err)) < 0)
            return r;
        if (!li->found)
            return reef_err_set(err, -ENODEV, "bridge %s: vanished after creation", pn->bridge);
        LOG_INFO("net", "created bridge name=%s mtu=%d", pn->bridge, pn->mtu);
    }
    if (strcmp(li->kind, "bridge") != 0)
        return reef_err_set(err, -EEXIST, "bridge %s: a link of that name exists and is %s%s",
                            pn->bridge, li->kind[0] ? "a " : "not a bridge",
                            li->kind[0] ? li->kind : "");
    if (li->mtu != pn->mtu &&
        (r = link_set(&pn->nl, li->index, pn->bridge, false, 0, pn->mtu, err)) < 0)
        return r;
    return 0;
}

static int enable_forwarding(struct reef_err *err)
{
    static const char path[] = "/proc/sys/net/ipv4/ip_forward";
    _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return reef_err_errno(err, -errno, "enable IPv4 forwarding: %s", path);
    char c = 0;
    if (read(fd, &c, 1) == 1 && c == '1')
        return 0;
    if (pwrite(fd, "1\n", 2, 0) != 2)
        return reef_err_errno(err, -errno, "enable IPv4 forwarding: %s", path);
    return 0;
}

/* ---- Public ------------------------------------------------------------------------------- */

int reef_podnet_open(const struct reef_podnet_opts *o, struct reef_podnet **out,
                     struct reef_err *err)
{
    *out = NULL;
    int r;
    uint32_t net;
    int prefix;
    if ((r = check_ifname(o->bridge, err)) < 0 ||
        (r = reef__podnet_parse_cidr(o->cidr, &net, &prefix, err)) < 0)
        return r;
    int mtu = o->mtu ? o->mtu : 1500;
    if (mtu < 68 || mtu > 65535)
        return reef_err_set(err, -EINVAL, "mtu %d: outside 68..65535", o->mtu);
    if (!o->state_dir || !*o->state_dir)
        return reef_err_set(err, -EINVAL, "ipam: state directory missing");

    struct reef_podnet *pn = calloc(1, sizeof(*pn));
    if (!pn)
        return reef_err_set(err, -ENOMEM, "podnet: out of memory");
    pn->dirfd = -1;
    pn->nl.fd = -1;
    reef_strlcpy(pn->bridge, o->bridge, sizeof(pn->bridge));
    pn->net = net;
    pn->prefix = prefix;
    pn->gw = net + 1;
    pn->mtu = mtu;
    char n[16];
    reef__podnet_ip_str(net, n);
    snprintf(pn->cidr, sizeof(pn->cidr), "%s/%d", n, prefix);
    reef__podnet_ip_str(pn->gw, pn->gateway);
    pn->state_dir = strdup(o->state_dir);
    if (!pn->state_dir) {
        r = reef_err_set(err, -ENOMEM, "podnet: out of memory");
        goto fail;
    }
    if ((r = reef_fs_mkdir_p(pn->state_dir, 0700)) < 0) {
        reef_err_errno(err, r, "ipam: create %s", pn->state_dir);
        goto fail;
    }
    pn->dirfd = open(pn->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pn->dirfd < 0) {
        r = reef_err_errno(err, -errno, "ipam %s", pn->state_dir);
        goto fail;
    }
    reef__podnet_ipam_clean(pn);
    if ((r = reef_nl_open(&pn->nl, err)) < 0)
        goto fail;

    struct link_info br;
    if ((r = bridge_ensure(pn, &br, err)) < 0 ||
        (r = addr_add(&pn->nl, br.index, pn->bridge, pn->gw, pn->prefix, err)) < 0)
        goto fail;
    if (!(br.flags & IFF_UP) && (r = link_set(&pn->nl, br.index, pn->bridge, true, 0, 0, err)) < 0)
        goto fail;
    if ((r = enable_forwarding(err)) < 0)
        goto fail;
    *out = pn;
    return 0;
fail:
    reef_podnet_close(pn);
    return r;
}

void reef_podnet_close(struct reef_podnet *pn)
{
    if (!pn)
        return;
    reef_nl_close(&pn->nl);
    if (pn->dirfd >= 0)
        close(pn->dirfd);
    free(pn->state_dir);
    free(pn);
}

const char *reef_podnet_gateway(const struct reef_podnet *pn)
{
    return pn->gateway;
}

/* Whether the host veth li and the pod's eth0 are the two ends of one pair. */
static bool same_pair(const struct link_info *host, const struct link_info *eth0)
{
    return host->found && eth0->found && strcmp(host->kind, "veth") == 0 &&
           host->peer == eth0->index && eth0->peer == host->index;
}

static int veth_create(struct reef_podnet *pn, const char *host, int nsfd, int master,
                       struct reef_err *err)
{
    struct reef_nl_msg m;
    struct ifinfomsg *ifi =
        reef_nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
    if (ifi)
        ifi->ifi_family = AF_UNSPEC;
    reef_nl_put_str(&m, IFLA_IFNAME, host);
    reef_nl_put_u32(&m, IFLA_MTU, (uint32_t)pn->mtu);
    reef_nl_put_u32(&m, IFLA_MASTER, (uint32_t)master);
    reef_nl_nest_begin(&m, IFLA_LINKINFO);
    reef_nl_put_str(&m, IFLA_INFO_KIND, "veth");
    reef_nl_nest_begin(&m, IFLA_INFO_DATA);
    reef_nl_nest_begin(&m, VETH_INFO_PEER);
    struct ifinfomsg *peer = reef_nl_put_raw(&m, sizeof(*peer));
    if (peer)
        peer->ifi_family = AF_UNSPEC;
    /* Born in the pod's namespace under its final name: the pair never exists half-placed. */
    reef_nl_put_str(&m, IFLA_IFNAME, POD_IF);
    reef_nl_put_u32(&m, IFLA_MTU, (uint32_t)pn->mtu);
    reef_nl_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)nsfd);
    reef_nl_nest_end(&m);
    reef_nl_nest_end(&m);
    reef_nl_nest_end(&m);
    return reef_nl_call(&pn->nl, &m, NULL, NULL, host, err);
}

/* Drops the node's neighbour entry for ip on the bridge: an address handed out again must not
 * be sent to its previous owner's MAC until the entry ages out. Missing is fine. */
static void neigh_forget(struct reef_podnet *pn, int bridge, uint32_t ip)
{
    struct reef_nl_msg m;
    struct ndmsg *nd = reef_nl_msg_init(&m, RTM_DELNEIGH, 0, sizeof(*nd));
    if (!nd)
        return;
    nd->ndm_family = AF_INET;
    nd->ndm_ifindex = bridge;
    reef_nl_put_u32(&m, NDA_DST, htonl(ip));
    struct reef_err ignored = {0};
    reef_nl_call(&pn->nl, &m, NULL, NULL, "neighbour", &ignored);
}

static int attach_links(struct reef_podnet *pn, const char *uid, const char *netns_path,
                        uint32_t ip, struct reef_err *err)
{
    _cleanup_close_ int nsfd = open_netns(netns_path, err);
    if (nsfd < 0)
        return nsfd;
    struct link_info br, host;
    char hv[16];
    reef__podnet_veth_name(uid, hv);
    int r = link_get(&pn->nl, pn->bridge, &br, err);
    if (r < 0)
        return r;
    if (!br.found)
        return reef_err_set(err, -ENODEV, "bridge %s: missing", pn->bridge);
    if ((r = link_get(&pn->nl, hv, &host, err)) < 0)
        return r;

    struct ns_job j = {
        .op = NS_PROBE, .ip = ip, .gw = pn->gw, .prefix = pn->prefix, .mtu = pn->mtu};
    bool created = false;
    if (host.found) {
        if ((r = run_in_netns(nsfd, netns_path, &j, err)) < 0)
            return r;
        if (!same_pair(&host, &j.eth0)) {
            /* Left from an earlier sandbox of this pod (its namespace still held elsewhere), or
             * a name collision: the pod being attached now is the one that needs it. */
            LOG_WARN("net", "replacing link name=%s pod=%s (its peer is not %s's eth0)", hv, uid,
                     netns_path);
            if ((r = link_del(&pn->nl, host.index, hv, err)) < 0)
                return r;
            host.found = false;
        }
    }
    if (!host.found) {
        if ((r = veth_create(pn, hv, nsfd, br.index, err)) < 0)
            return r;
        created = true;
        if ((r = link_get(&pn->nl, hv, &host, err)) < 0)
            goto undo;
        if (!host.found) {
            r = reef_err_set(err, -ENODEV, "%s: vanished after creation", hv);
            goto undo;
        }
    }
    /* The host end first, so eth0 has a carrier by the time its route goes in. */
    if ((r = link_set(&pn->nl, host.index, hv, true, host.master != br.index ? br.index : 0,
                      host.mtu != pn->mtu ? pn->mtu : 0, err)) < 0)
        goto undo;
    j.op = NS_CONFIGURE;
    if ((r = run_in_netns(nsfd, netns_path, &j, err)) < 0)
        goto undo;
    neigh_forget(pn, br.index, ip);
    return 0;
undo:
    if (created) {
        struct reef_err ignored = {0}; /* the first failure is the one worth reporting */
        link_del(&pn->nl, host.found ? host.index : 0, hv, &ignored);
    }
    return r;
}

int reef_podnet_attach(struct reef_podnet *pn, const char *pod_uid, const char *netns_path,
                       char ip[64], struct reef_err *err)
{
    int r = reef__podnet_check_uid(pod_uid, err);
    if (r < 0)
        return r;
    uint32_t addr;
    bool fresh;
    if ((r = reef__podnet_ipam_acquire(pn, pod_uid, &addr, &fresh, err)) < 0)
        return reef_err_wrap(err, "attach pod %s", pod_uid);
    if ((r = attach_links(pn, pod_uid, netns_path, addr, err)) < 0) {
        if (fresh)
            reef__podnet_ipam_release(pn, addr);
        return reef_err_wrap(err, "attach pod %s", pod_uid);
    }
    reef__podnet_ip_str(addr, ip);
    LOG_DEBUG("net", "attached pod=%s ip=%s netns=%s", pod_uid, ip, netns_path);
    return 0;
}

int reef_podnet_detach(struct reef_podnet *pn, const char *pod_uid, struct reef_err *err)
{
    int r = reef__podnet_check_uid(pod_uid, err);
    if (r < 0)
        return r;
    char hv[16];
    reef__podnet_veth_name(pod_uid, hv);
    struct link_info host;
    if ((r = link_get(&pn->nl, hv, &host, err)) < 0 ||
        (host.found && (r = link_del(&pn->nl, host.index, hv, err)) < 0) ||
        (r = reef__podnet_ipam_free(pn, pod_uid, err)) < 0)
        return reef_err_wrap(err, "detach pod %s", pod_uid);
    LOG_DEBUG("net", "detached pod=%s", pod_uid);
    return 0;
}
