/* podnet: the node's pod network, set up over rtnetlink.
 *
 * Owns, in the calling process's network namespace: one Linux bridge (created if missing, with
 * the CIDR's first host address, up), IPv4 forwarding, and one veth pair per pod whose host end
 * "veth" + 8 hex digits (a hash of the pod uid) sits on the bridge while the other end lives in
 * the pod's network namespace as eth0, with the pod's address and a default route via the
 * bridge. Also owns the address allocations: one file per address in state_dir, named by the
 * address and holding the pod uid, so they survive restarts of the agent.
 *
 * The pod's namespace is configured from a short-lived forked child that setns()es into it, so
 * the calling process (a libuv loop, threads) never changes namespace. Every call is synchronous
 * and takes milliseconds (netlink round trips, a fork), so a libuv caller runs it on the thread
 * pool. One thread at a time per handle.
 *
 * Exclusive creation makes two allocators (even in two processes) never hand out one address;
 * two concurrent attaches for the same pod uid are the caller's to avoid. */
#ifndef REEF_NET_PODNET_H
#define REEF_NET_PODNET_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct reef_podnet_opts {
    const char *bridge;    /* "reef0": at most 15 bytes, [A-Za-z0-9_.-] */
    const char *cidr;      /* the node's pod CIDR "10.42.0.0/24" (/8../30, host bits zero);
                              the bridge gets the first host address (.1) */
    const char *state_dir; /* allocations recorded here (one file per address), kept across
                              restarts; created (0700) if missing */
    int mtu;               /* of the bridge and every veth; 0: 1500 */
};

struct reef_podnet;

/* Creates (or reuses, after a restart) the bridge with its address, up; enables IPv4 forwarding
 * in this network namespace. *out is freed with reef_podnet_close. */
int reef_podnet_open(const struct reef_podnet_opts *o, struct reef_podnet **out,
                     struct reef_err *err);
/* Frees the handle; leaves the bridge, the pods' links and the allocations in place. NULL is
 * ignored. */
void reef_podnet_close(struct reef_podnet *pn);

/* Idempotent: a pod (key: its uid, [A-Za-z0-9._-]{1,128}) that has an address keeps it, and a
 * veth pair already joining the bridge to this namespace is reused. Otherwise creates the veth
 * pair, the host end on the bridge and up, the other end directly inside the network namespace
 * at netns_path (a bind-mounted namespace file) as eth0 with the address/prefix, up; there also
 * lo up and a default route via the bridge address. ip gets "10.42.0.5". -ENOSPC when the CIDR
 * is full. On failure, an address allocated by this call is freed again. */
int reef_podnet_attach(struct reef_podnet *pn, const char *pod_uid, const char *netns_path,
                       char ip[64], struct reef_err *err);
/* Deletes the host end (if still there; its peer goes with it) and frees the address; missing
 * pieces are not errors. */
int reef_podnet_detach(struct reef_podnet *pn, const char *pod_uid, struct reef_err *err);
/* The address held by pod_uid into ip, 0; -ENOENT when none, -EINVAL for a malformed uid. */
int reef_podnet_lookup(struct reef_podnet *pn, const char *pod_uid, char ip[64]);
/* "10.42.0.1"; owned by pn. */
const char *reef_podnet_gateway(const struct reef_podnet *pn);

/* ---- Internal, exported for the tests ---------------------------------------------------- */

/* Parses "a.b.c.d/n" strictly (decimal octets without leading zeros, n in 8..30, host bits
 * zero). *net is in host byte order. */
int reef__podnet_parse_cidr(const char *s, uint32_t *net, int *prefix, struct reef_err *err);
/* Parses a dotted quad strictly into host byte order; -EINVAL otherwise. */
int reef__podnet_parse_ip(const char *s, uint32_t *ip);
/* The first address of net/prefix above the gateway (net + 1) and below the broadcast address
 * that is not in taken (n entries, any order; sorted in place), looking after `after` first and
 * then from the start (0: from the start); 0 when there is none. Pure. */
uint32_t reef__podnet_pick(uint32_t net, int prefix, uint32_t *taken, size_t n, uint32_t after);
/* "veth" + 8 lowercase hex digits of a 32-bit FNV-1a hash of uid; name has room for 16. */
void reef__podnet_veth_name(const char *uid, char name[16]);

#endif
