#include "net/podnet.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/nsfs.h>
#include <linux/veth.h>
#include <net/if.h>
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
#define UID_MAX_LEN 128

struct reef_podnet {
    char bridge[IFNAMSIZ];
    char cidr[32];    /* canonical "10.42.0.0/24" */
    char gateway[16]; /* "10.42.0.1" */
    uint32_t net, gw; /* host byte order */
    int prefix;
    int mtu;
    int dirfd; /* state_dir */
    char *state_dir;
    struct reef_nl nl; /* in the caller's namespace */
};

/* ---- Pure parts --------------------------------------------------------------------------- */

static uint32_t mask_of(int prefix)
{
    return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static uint32_t broadcast_of(uint32_t net, int prefix)
{
    return net | ~mask_of(prefix);
}

static void ip_str(uint32_t ip, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* A decimal number without sign or leading zeros, at most max, ending at *end. */
static int parse_dec(const char *s, unsigned max, unsigned *out, const char **end)
{
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return -EINVAL;
    unsigned v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned)(*s++ - '0');
        if (v > max)
            return -EINVAL;
    }
    *out = v;
    *end = s;
    return 0;
}

static int parse_quad(const char *s, uint32_t *ip, const char **end)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned o;
        if (parse_dec(s, 255, &o, &s) < 0)
            return -EINVAL;
        if (i < 3 && *s++ != '.')
            return -EINVAL;
        v = v << 8 | o;
    }
    *ip = v;
    *end = s;
    return 0;
}

int reef__podnet_parse_ip(const char *s, uint32_t *ip)
{
    const char *end;
    if (!s || parse_quad(s, ip, &end) < 0 || *end)
        return -EINVAL;
    return 0;
}

int reef__podnet_parse_cidr(const char *s, uint32_t *net, int *prefix, struct reef_err *err)
{
    if (!s)
        return reef_err_set(err, -EINVAL, "pod CIDR missing");
    const char *p;
    uint32_t ip;
    unsigned pl;
    if (parse_quad(s, &ip, &p) < 0 || *p++ != '/' || parse_dec(p, 32, &pl, &p) < 0 || *p)
        return reef_err_set(err, -EINVAL, "pod CIDR \"%.64s\": not an IPv4 a.b.c.d/n", s);
    if (pl < 8 || pl > 30)
        return reef_err_set(err, -EINVAL,
                            "pod CIDR \"%.64s\": prefix /%u outside /8../30 (a /31 or /32 has "
                            "no room for pods)",
                            s, pl);
    if (ip & ~mask_of((int)pl)) {
        char n[16];
        ip_str(ip & mask_of((int)pl), n);
        return reef_err_set(err, -EINVAL,
                            "pod CIDR \"%.64s\": host bits set (the network is %s/%u)", s, n, pl);
    }
    *net = ip;
    *prefix = (int)pl;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t reef__podnet_pick(uint32_t net, int prefix, const uint32_t *taken, size_t n)
{
    uint32_t last = broadcast_of(net, prefix) - 1;
    uint32_t *sorted = NULL;
    if (n) {
        sorted = malloc(n * sizeof(*sorted));
        if (!sorted)
            return 0;
        memcpy(sorted, taken, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), cmp_u32);
    }
    /* Walk candidates and the sorted taken list together: the first candidate the list skips
     * over is free. */
    uint32_t cand = net + 2;
    for (size_t i = 0; i < n && cand <= last; i++) {
        if (sorted[i] < cand)
            continue;
        if (sorted[i] > cand)
            break;
        cand++;
    }
    free(sorted);
    return cand <= last ? cand : 0;
}

void reef__podnet_veth_name(const char *uid, char name[16])
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)uid; *p; p++)
        h = (h ^ *p) * 16777619u;
    snprintf(name, 16, "veth%08x", h);
}

static int check_uid(const char *uid, struct reef_err *err)
{
    size_t n = uid ? strlen(uid) : 0;
    if (n == 0 || n > UID_MAX_LEN)
        return reef_err_set(err, -EINVAL, "pod uid: must be 1..%d characters", UID_MAX_LEN);
    for (size_t i = 0; i < n; i++) {
        char c = uid[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return reef_err_set(err, -EINVAL, "pod uid \"%.*s\": character %zu not allowed", 64,
                                uid, i);
    }
    return 0;
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
    uint32_t a = htonl(ip), b = htonl(broadcast_of(ip & mask_of(prefix), prefix));
    reef_nl_put_u32(&m, IFA_LOCAL, a);
    reef_nl_put_u32(&m, IFA_ADDRESS, a);
    reef_nl_put_u32(&m, IFA_BROADCAST, b);
    char what[64], s[16];
    ip_str(ip, s);
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
    ip_str(gw, s);
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
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(p[0]);
        close(p[1]);
        return reef_err_errno(err, e, "netns %s: fork", path);
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

/* ---- Allocations on disk ------------------------------------------------------------------ */

struct alloc_scan {
    uint32_t *taken; /* in-range addresses with a file */
    size_t n, cap;
    uint32_t mine; /* the lowest in-range address held by the uid, 0 when none */
};

static void scan_free(struct alloc_scan *s)
{
    free(s->taken);
    s->taken = NULL;
}

/* Whether the file name holds uid (a file that cannot be read counts as someone else's). */
static bool file_holds(int dirfd, const char *name, const char *uid)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return false;
    char buf[UID_MAX_LEN + 2];
    size_t got = 0;
    while (got < sizeof(buf)) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    while (got && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
        got--;
    return got == strlen(uid) && memcmp(buf, uid, got) == 0;
}

/* Calls fn for every file in the state directory named like an address. */
static int scan_dir(struct reef_podnet *pn, int (*fn)(void *ud, const char *name, uint32_t ip),
                    void *ud, struct reef_err *err)
{
    /* A descriptor of its own: a dup() would share (and move) the offset of pn->dirfd. */
    int dfd = openat(pn->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return reef_err_errno(err, -errno, "ipam %s", pn->state_dir);
    DIR *d = fdopendir(dfd);
    if (!d) {
        int e = -errno;
        close(dfd);
        return reef_err_errno(err, e, "ipam %s", pn->state_dir);
    }
    int r = 0;
    struct dirent *de;
    errno = 0;
    while (r == 0 && (de = readdir(d))) {
        uint32_t ip;
        if (reef__podnet_parse_ip(de->d_name, &ip) == 0)
            r = fn(ud, de->d_name, ip);
        errno = 0;
    }
    if (r == 0 && errno != 0)
        r = reef_err_errno(err, -errno, "ipam %s: read directory", pn->state_dir);
    closedir(d);
    return r;
}

struct scan_ctx {
    struct reef_podnet *pn;
    const char *uid;
    struct alloc_scan *s;
    struct reef_err *err;
};

static int scan_one(void *ud, const char *name, uint32_t ip)
{
    struct scan_ctx *c = ud;
    struct reef_podnet *pn = c->pn;
    if (ip <= pn->gw || ip >= broadcast_of(pn->net, pn->prefix) ||
        (ip & mask_of(pn->prefix)) != pn->net)
        return 0; /* a leftover of another CIDR: never handed out from this one */
    struct alloc_scan *s = c->s;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint32_t *t = realloc(s->taken, cap * sizeof(*t));
        if (!t)
            return reef_err_set(c->err, -ENOMEM, "ipam %s: out of memory", pn->state_dir);
        s->taken = t;
        s->cap = cap;
    }
    s->taken[s->n++] = ip;
    if (c->uid && (s->mine == 0 || ip < s->mine) && file_holds(pn->dirfd, name, c->uid))
        s->mine = ip;
    return 0;
}

static int scan_allocs(struct reef_podnet *pn, const char *uid, struct alloc_scan *s,
                       struct reef_err *err)
{
    memset(s, 0, sizeof(*s));
    struct scan_ctx c = {pn, uid, s, err};
    int r = scan_dir(pn, scan_one, &c, err);
    if (r < 0)
        scan_free(s);
    return r;
}

static int sync_dir(struct reef_podnet *pn, struct reef_err *err)
{
    if (fsync(pn->dirfd) < 0)
        return reef_err_errno(err, -errno, "ipam %s: fsync", pn->state_dir);
    return 0;
}

/* Takes the lowest free address for uid. The record is written whole under a temporary name and
 * then link()ed to the address's name: link fails with EEXIST exactly like O_CREAT|O_EXCL, so
 * two allocators never share an address, and a reader never sees a half-written record. */
static int alloc_new(struct reef_podnet *pn, const char *uid, struct alloc_scan *s, uint32_t *out,
                     struct reef_err *err)
{
    static unsigned counter;
    char tmp[64];
    snprintf(tmp, sizeof(tmp), ".tmp-%d-%u", (int)getpid(), __atomic_add_fetch(&counter, 1, 0));
    int fd = openat(pn->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return reef_err_errno(err, -errno, "ipam %s/%s", pn->state_dir, tmp);
    size_t len = strlen(uid), off = 0;
    int r = 0;
    while (off < len && r == 0) {
        ssize_t w = write(fd, uid + off, len - off);
        if (w < 0 && errno != EINTR)
            r = -errno;
        else if (w > 0)
            off += (size_t)w;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    close(fd);
    if (r < 0) {
        unlinkat(pn->dirfd, tmp, 0);
        return reef_err_errno(err, r, "ipam %s/%s", pn->state_dir, tmp);
    }
    for (;;) {
        uint32_t ip = reef__podnet_pick(pn->net, pn->prefix, s->taken, s->n);
        if (ip == 0) {
            r = reef_err_set(err, -ENOSPC, "ipam: no free address left in %s (%zu in use)",
                             pn->cidr, s->n);
            break;
        }
        char name[16];
        ip_str(ip, name);
        if (linkat(pn->dirfd, tmp, pn->dirfd, name, 0) == 0) {
            *out = ip;
            break;
        }
        if (errno != EEXIST) {
            r = reef_err_errno(err, -errno, "ipam %s/%s", pn->state_dir, name);
            break;
        }
        /* Someone else took it since the scan: count it taken and pick again. */
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 64;
            uint32_t *t = realloc(s->taken, cap * sizeof(*t));
            if (!t) {
                r = reef_err_set(err, -ENOMEM, "ipam: out of memory");
                break;
            }
            s->taken = t;
            s->cap = cap;
        }
        s->taken[s->n++] = ip;
    }
    unlinkat(pn->dirfd, tmp, 0);
    if (r == 0)
        r = sync_dir(pn, err);
    return r;
}

struct free_ctx {
    struct reef_podnet *pn;
    const char *uid;
    struct reef_err *err;
    int freed;
};

static int free_one(void *ud, const char *name, uint32_t ip)
{
    struct free_ctx *c = ud;
    (void)ip;
    if (!file_holds(c->pn->dirfd, name, c->uid))
        return 0;
    if (unlinkat(c->pn->dirfd, name, 0) < 0 && errno != ENOENT)
        return reef_err_errno(c->err, -errno, "ipam %s/%s", c->pn->state_dir, name);
    c->freed++;
    return 0;
}

/* Frees every address uid holds, in this CIDR or left from another. */
static int alloc_free(struct reef_podnet *pn, const char *uid, struct reef_err *err)
{
    struct free_ctx c = {pn, uid, err, 0};
    int r = scan_dir(pn, free_one, &c, err);
    if (r == 0 && c.freed)
        r = sync_dir(pn, err);
    return r;
}

/* Removes temporary records left by a process that died between writing and linking one. */
static void remove_stale_tmp(struct reef_podnet *pn)
{
    int dfd = openat(pn->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        int pid;
        if (sscanf(de->d_name, ".tmp-%d-", &pid) != 1 || pid == getpid())
            continue;
        if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
            unlinkat(pn->dirfd, de->d_name, 0);
    }
    closedir(d);
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
    ip_str(net, n);
    snprintf(pn->cidr, sizeof(pn->cidr), "%s/%d", n, prefix);
    ip_str(pn->gw, pn->gateway);
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
    remove_stale_tmp(pn);
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

int reef_podnet_lookup(struct reef_podnet *pn, const char *pod_uid, char ip[64])
{
    if (check_uid(pod_uid, NULL) < 0)
        return -EINVAL;
    struct alloc_scan s;
    int r = scan_allocs(pn, pod_uid, &s, NULL);
    if (r < 0)
        return r;
    uint32_t mine = s.mine;
    scan_free(&s);
    if (!mine)
        return -ENOENT;
    ip_str(mine, ip);
    return 0;
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
    int r = check_uid(pod_uid, err);
    if (r < 0)
        return r;
    struct alloc_scan s;
    if ((r = scan_allocs(pn, pod_uid, &s, err)) < 0)
        return reef_err_wrap(err, "attach pod %s", pod_uid);
    uint32_t addr = s.mine;
    bool fresh = addr == 0;
    if (fresh)
        r = alloc_new(pn, pod_uid, &s, &addr, err);
    scan_free(&s);
    if (r < 0)
        return reef_err_wrap(err, "attach pod %s", pod_uid);

    if ((r = attach_links(pn, pod_uid, netns_path, addr, err)) < 0) {
        if (fresh) {
            char name[16];
            ip_str(addr, name);
            unlinkat(pn->dirfd, name, 0);
        }
        return reef_err_wrap(err, "attach pod %s", pod_uid);
    }
    ip_str(addr, ip);
    LOG_DEBUG("net", "attached pod=%s ip=%s netns=%s", pod_uid, ip, netns_path);
    return 0;
}

int reef_podnet_detach(struct reef_podnet *pn, const char *pod_uid, struct reef_err *err)
{
    int r = check_uid(pod_uid, err);
    if (r < 0)
        return r;
    char hv[16];
    reef__podnet_veth_name(pod_uid, hv);
    struct link_info host;
    if ((r = link_get(&pn->nl, hv, &host, err)) < 0 ||
        (host.found && (r = link_del(&pn->nl, host.index, hv, err)) < 0) ||
        (r = alloc_free(pn, pod_uid, err)) < 0)
        return reef_err_wrap(err, "detach pod %s", pod_uid);
    LOG_DEBUG("net", "detached pod=%s", pod_uid);
    return 0;
}
