/* podnet's internals shared by podnet.c (links, namespaces, bridge) and podnet_ipam.c (the
 * CIDR and the allocation records). Not for other modules.
 *
 * Allocation records: state_dir/<address> (e.g. "10.42.0.5") holding the pod uid. A record is
 * written whole under a temporary name (".tmp-<pid>-<n>") and link()ed to its address's name,
 * which fails with EEXIST exactly like O_CREAT|O_EXCL, so two allocators never share an address
 * and nobody reads a half-written record. The directory is the only truth: nothing is cached. */
#ifndef REEF_NET_PODNET_INT_H
#define REEF_NET_PODNET_INT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/netlink.h"
#include "net/podnet.h"

struct reef_podnet {
    char bridge[IFNAMSIZ];
    char cidr[32];    /* canonical "10.42.0.0/24" */
    char gateway[16]; /* "10.42.0.1" */
    uint32_t net, gw; /* host byte order */
    uint32_t last;      /* the address handed out last (allocation goes on after it) */
    uint32_t prev_last; /* the one before, for an allocation given back at once */
    int prefix;
    int mtu;
    int dirfd; /* state_dir */
    char *state_dir;
    struct reef_nl nl; /* in the caller's namespace */
};

static inline uint32_t reef__podnet_mask(int prefix)
{
    return prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static inline uint32_t reef__podnet_broadcast(uint32_t net, int prefix)
{
    return net | ~reef__podnet_mask(prefix);
}

/* "a.b.c.d" of a host-order address. */
void reef__podnet_ip_str(uint32_t ip, char buf[16]);
/* Pod uids: [A-Za-z0-9._-], 1..128 characters. */
int reef__podnet_check_uid(const char *uid, struct reef_err *err);

/* The lowest in-CIDR address uid holds into *ip, 0 when none. */
int reef__podnet_ipam_find(struct reef_podnet *pn, const char *uid, uint32_t *ip,
                           struct reef_err *err);
/* uid's address: the one it holds, or (*fresh) the lowest free one, newly recorded. -ENOSPC
 * ("ipam: no free address left in 10.42.0.0/30 (1 in use)") when the CIDR is full. */
int reef__podnet_ipam_acquire(struct reef_podnet *pn, const char *uid, uint32_t *ip, bool *fresh,
                              struct reef_err *err);
/* Undoes a fresh acquire. */
void reef__podnet_ipam_release(struct reef_podnet *pn, uint32_t ip);
/* Frees every address uid holds, in this CIDR or left from another one. */
int reef__podnet_ipam_free(struct reef_podnet *pn, const char *uid, struct reef_err *err);
/* Removes temporary records of processes that died between writing and linking one. */
void reef__podnet_ipam_clean(struct reef_podnet *pn);

#endif
