/* Fuzz target for net/netlink's and net/podnet's parsers: attribute lists and NLMSG_ERROR
 * decoding (kernel answers, read into our buffers) and the pod CIDR / address parsers (node
 * configuration).
 *
 * The input is used whole as an attribute list and as one netlink error message (copied to an
 * aligned buffer, its length field forced to at most the input's size, since reef_nl_call only
 * hands over messages that fit what was read), and as text for the CIDR and address parsers.
 * Invariants: attributes found lie inside the input; an accepted CIDR has a prefix in 8..30, zero
 * host bits and prints back to itself; an accepted address prints back to the same text. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netlink.h"
#include "net/podnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

static void attrs(const unsigned char *buf, size_t size)
{
    const struct rtattr *tb[64];
    if (reef_nl_parse(tb, 63, buf, size) < 0)
        return;
    for (int i = 0; i < 64; i++) {
        if (!tb[i])
            continue;
        const unsigned char *p = (const unsigned char *)tb[i];
        check(p >= buf && p + tb[i]->rta_len <= buf + size, "attribute inside the input");
        const char *s = reef_nl_attr_str(tb[i]);
        if (s)
            check(strlen(s) < RTA_PAYLOAD(tb[i]), "string ends inside its attribute");
        (void)reef_nl_attr_u32(tb[i]);
        if (tb[i]->rta_len >= sizeof(struct rtattr)) {
            const struct rtattr *in[64];
            (void)reef_nl_parse_nested(in, 63, tb[i]);
        }
    }
}

static void error_msg(const unsigned char *buf, size_t size)
{
    if (size < sizeof(struct nlmsghdr))
        return;
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (h->nlmsg_len > size)
        h->nlmsg_len = (uint32_t)size;
    if (h->nlmsg_len < sizeof(struct nlmsghdr))
        return;
    struct reef_err err = {0};
    int r = reef__nl_error(h, size, RTM_NEWLINK, "x", &err);
    check(r <= 0 && r > -4096, "an errno or 0");
    if (r < 0) {
        check(err.code == r, "code recorded");
        check(strncmp(err.msg, "netlink: RTM_NEWLINK x: ", 24) == 0, "message prefix");
    }
}

static void text(const char *s)
{
    uint32_t net, ip;
    int prefix;
    if (reef__podnet_parse_cidr(s, &net, &prefix, NULL) == 0) {
        check(prefix >= 8 && prefix <= 30, "prefix range");
        check((net & ~(0xffffffffu << (32 - prefix))) == 0, "host bits zero");
        char back[32];
        snprintf(back, sizeof(back), "%u.%u.%u.%u/%d", net >> 24, (net >> 16) & 0xff,
                 (net >> 8) & 0xff, net & 0xff, prefix);
        check(strcmp(back, s) == 0, "a CIDR prints back to itself");
    }
    if (reef__podnet_parse_ip(s, &ip) == 0) {
        char back[16];
        snprintf(back, sizeof(back), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
                 (ip >> 8) & 0xff, ip & 0xff);
        check(strcmp(back, s) == 0, "an address prints back to itself");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    /* Aligned for the rtattr/nlmsghdr casts, one extra byte for the text's NUL. */
    unsigned char *buf = aligned_alloc(8, (size + 8) & ~(size_t)7);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    attrs(buf, size);
    error_msg(buf, size);
    memcpy(buf, data, size);
    buf[size] = '\0';
    text((const char *)buf);
    free(buf);
    return 0;
}
