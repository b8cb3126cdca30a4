/* netlink: a small rtnetlink (NETLINK_ROUTE) request/reply helper.
 *
 * Owns one netlink socket and the framing around it: a request is built in a fixed buffer
 * (struct reef_nl_msg: a message header, a family header such as struct ifinfomsg, then
 * attributes, possibly nested), sent with NLM_F_ACK, and the answer is read until the kernel's
 * ACK, error or end of dump. Errors carry the kernel's extended ack text, so a failure reads
 * "netlink: RTM_NEWLINK veth3f2a1b9c: File exists" or "...: Invalid argument (Unknown device
 * type)".
 *
 * Nothing here allocates: the socket handle and messages are caller-owned structs (stack is
 * fine) and replies are read into a buffer on the stack. That makes the helper usable in a child
 * forked from a threaded process (net/podnet runs it after setns() there). A socket belongs to
 * the network namespace that was current when reef_nl_open ran, whatever happens to the calling
 * thread afterwards. One thread at a time per struct reef_nl; any thread. */
#ifndef REEF_NET_NETLINK_H
#define REEF_NET_NETLINK_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct reef_nl {
    int fd;       /* -1 when closed */
    uint32_t seq; /* last sequence number used */
};

/* Opens a NETLINK_ROUTE socket in the current network namespace with extended acks on, and a
 * receive timeout so a lost answer is an error (-EAGAIN) rather than a hang. */
int reef_nl_open(struct reef_nl *nl, struct reef_err *err);
/* Closes the socket; a closed or zeroed-and-never-opened handle with fd -1 is ignored. */
void reef_nl_close(struct reef_nl *nl);

/* Room for one request: our requests (a veth pair with its peer's attributes is the largest)
 * are a few hundred bytes. */
#define REEF_NL_MSG_MAX 2048
#define REEF_NL_NEST_MAX 8

struct reef_nl_msg {
    union {
        struct nlmsghdr hdr;
        unsigned char buf[REEF_NL_MSG_MAX];
    };
    size_t nests[REEF_NL_NEST_MAX]; /* offsets of open nests */
    int nnests;
    bool overflow; /* something did not fit: sending fails with -EMSGSIZE */
};

/* Starts a request of type (RTM_NEWLINK, ...) with flags added to NLM_F_REQUEST | NLM_F_ACK,
 * followed by a zeroed family header of hdr_len bytes, returned for the caller to fill in
 * (NULL only if hdr_len does not fit, which also marks the message overflowed). */
void *reef_nl_msg_init(struct reef_nl_msg *m, uint16_t type, uint16_t flags, size_t hdr_len);

/* Attributes. Each appends at the end of the message; a value that does not fit marks the
 * message overflowed instead (checked once, when it is sent). */
void reef_nl_put(struct reef_nl_msg *m, uint16_t type, const void *data, size_t len);
void reef_nl_put_u8(struct reef_nl_msg *m, uint16_t type, uint8_t v);
void reef_nl_put_u32(struct reef_nl_msg *m, uint16_t type, uint32_t v);
void reef_nl_put_s32(struct reef_nl_msg *m, uint16_t type, int32_t v);
void reef_nl_put_str(struct reef_nl_msg *m, uint16_t type, const char *s); /* with its NUL */
/* A nested attribute: everything put between begin and end goes inside it. Nests close in
 * reverse order; unbalanced or too-deep nesting marks the message overflowed. */
void reef_nl_nest_begin(struct reef_nl_msg *m, uint16_t type);
void reef_nl_nest_end(struct reef_nl_msg *m);
/* Appends raw bytes at the current end (a nested family header, like the ifinfomsg a veth peer
 * carries inside VETH_INFO_PEER); returns where they went (zeroed, 4-byte aligned) or NULL. */
void *reef_nl_put_raw(struct reef_nl_msg *m, size_t len);

/* Called for every reply message (not ACKs or errors) that answers the request. h is valid only
 * during the call. A negative errno returned becomes the call's result, reported as
 * "netlink: RTM_GETLINK <what>: <strerror> (reply)"; the rest of the answer is still read, so the
 * socket stays usable, but no further replies are delivered. */
typedef int (*reef_nl_reply_fn)(void *ud, const struct nlmsghdr *h);

/* Sends m and reads the answer: replies go to fn (may be NULL), the call ends at the ACK, the
 * error, or NLMSG_DONE of a dump (NLM_F_DUMP in the flags). what names the object for the
 * message ("veth3f2a1b9c"); errors read "netlink: RTM_NEWLINK <what>: <strerror>[ (<extack>)]"
 * and return the kernel's negative errno. A dump that the kernel flags as interrupted
 * (NLM_F_DUMP_INTR: the table changed under it) returns -EAGAIN after reading it all. */
int reef_nl_call(struct reef_nl *nl, struct reef_nl_msg *m, reef_nl_reply_fn fn, void *ud,
                 const char *what, struct reef_err *err);

/* Reply parsing. Fills tb[0..max] with the attributes in [attrs, attrs+len) by type (the last
 * one wins; NLA_F_NESTED and NLA_F_NET_BYTEORDER bits are masked off; types above max ignored).
 * Returns -EBADMSG when an attribute's length is inconsistent. */
int reef_nl_parse(const struct rtattr *tb[], int max, const void *attrs, size_t len);
/* The same over the attributes following a message's family header of hdr_len bytes. */
int reef_nl_parse_msg(const struct rtattr *tb[], int max, const struct nlmsghdr *h, size_t hdr_len);
/* The same over a nested attribute's payload. */
int reef_nl_parse_nested(const struct rtattr *tb[], int max, const struct rtattr *nest);

/* Typed attribute values; 0 / NULL when a is NULL or too short. reef_nl_attr_str returns NULL
 * also when the payload is not NUL-terminated. */
uint32_t reef_nl_attr_u32(const struct rtattr *a);
uint8_t reef_nl_attr_u8(const struct rtattr *a);
const char *reef_nl_attr_str(const struct rtattr *a);

/* "RTM_NEWLINK", ... or "netlink message 123" (written into buf, returned) for others. */
const char *reef_nl_type_name(uint16_t type, char buf[32]);

/* Internal, for tests: the error text of an NLMSG_ERROR message h answering request type
 * req_type about what, written to err. Returns the negative errno it carries (0 for an ACK). */
int reef__nl_error(const struct nlmsghdr *h, size_t len, uint16_t req_type, const char *what,
                   struct reef_err *err);

#endif
