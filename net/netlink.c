#include "net/netlink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Big enough for any single rtnetlink message we ask for: the kernel sizes dump batches to the
 * reader's buffer (up to 32 KiB), and one link with all its attributes is a few KiB. */
#define REEF_NL_RECV_MAX 32768

/* A kernel that holds a request this long is not coming back; rtnetlink answers in microseconds. */
#define REEF_NL_TIMEOUT_S 10

int reef_nl_open(struct reef_nl *nl, struct reef_err *err)
{
    nl->fd = -1;
    nl->seq = 0;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return reef_err_errno(err, -errno, "netlink: socket");
    int one = 1;
    /* Extended acks carry the kernel's reason ("Unknown device type"); capped acks leave our
     * request out of the error so a large request never makes the answer larger. Both are
     * advisory: an old kernel without them still answers with the errno. */
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    struct timeval tv = {.tv_sec = REEF_NL_TIMEOUT_S};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
        int e = -errno;
        close(fd);
        return reef_err_errno(err, e, "netlink: setsockopt");
    }
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = -errno;
        close(fd);
        return reef_err_errno(err, e, "netlink: bind");
    }
    nl->fd = fd;
    return 0;
}

void reef_nl_close(struct reef_nl *nl)
{
    if (nl && nl->fd >= 0) {
        close(nl->fd);
        nl->fd = -1;
    }
}

/* ---- Building ----------------------------------------------------------------------------- */

void *reef_nl_msg_init(struct reef_nl_msg *m, uint16_t type, uint16_t flags, size_t hdr_len)
{
    memset(m, 0, sizeof(*m));
    m->hdr.nlmsg_type = type;
    m->hdr.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
    m->hdr.nlmsg_len = NLMSG_HDRLEN;
    return reef_nl_put_raw(m, hdr_len);
}

void *reef_nl_put_raw(struct reef_nl_msg *m, size_t len)
{
    size_t at = m->hdr.nlmsg_len;
    if (m->overflow || len > REEF_NL_MSG_MAX || at + NLMSG_ALIGN(len) > REEF_NL_MSG_MAX) {
        m->overflow = true;
        return NULL;
    }
    m->hdr.nlmsg_len = (uint32_t)(at + NLMSG_ALIGN(len));
    return memset(m->buf + at, 0, NLMSG_ALIGN(len));
}

void reef_nl_put(struct reef_nl_msg *m, uint16_t type, const void *data, size_t len)
{
    if (len > REEF_NL_MSG_MAX) {
        m->overflow = true;
        return;
    }
    struct rtattr *a = reef_nl_put_raw(m, RTA_LENGTH(len));
    if (!a)
        return;
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(a), data, len);
}

void reef_nl_put_u8(struct reef_nl_msg *m, uint16_t type, uint8_t v)
{
    reef_nl_put(m, type, &v, sizeof(v));
}

void reef_nl_put_u32(struct reef_nl_msg *m, uint16_t type, uint32_t v)
{
    reef_nl_put(m, type, &v, sizeof(v));
}

void reef_nl_put_s32(struct reef_nl_msg *m, uint16_t type, int32_t v)
{
    reef_nl_put(m, type, &v, sizeof(v));
}

void reef_nl_put_str(struct reef_nl_msg *m, uint16_t type, const char *s)
{
    reef_nl_put(m, type, s, strlen(s) + 1);
}

void reef_nl_nest_begin(struct reef_nl_msg *m, uint16_t type)
{
    if (m->nnests >= REEF_NL_NEST_MAX) {
        m->overflow = true;
        return;
    }
    size_t at = m->hdr.nlmsg_len;
    reef_nl_put(m, type, NULL, 0);
    if (!m->overflow)
        m->nests[m->nnests++] = at;
}

void reef_nl_nest_end(struct reef_nl_msg *m)
{
    if (m->nnests <= 0) {
        m->overflow = true;
        return;
    }
    size_t at = m->nests[--m->nnests];
    size_t len = m->hdr.nlmsg_len - at;
    if (len > 0xffff) { /* rta_len is 16 bits; cannot happen with REEF_NL_MSG_MAX */
        m->overflow = true;
        return;
    }
    ((struct rtattr *)(m->buf + at))->rta_len = (unsigned short)len;
}

/* ---- Parsing ------------------------------------------------------------------------------ */

int reef_nl_parse(const struct rtattr *tb[], int max, const void *attrs, size_t len)
{
    memset(tb, 0, sizeof(*tb) * (size_t)(max + 1));
    const unsigned char *p = attrs;
    while (len >= sizeof(struct rtattr)) {
        const struct rtattr *a = (const struct rtattr *)p;
        if (a->rta_len < sizeof(struct rtattr) || a->rta_len > len)
            return -EBADMSG;
        int type = a->rta_type & NLA_TYPE_MASK;
        if (type <= max)
            tb[type] = a;
        size_t step = RTA_ALIGN(a->rta_len);
        if (step >= len)
            break;
        p += step;
        len -= step;
    }
    return 0;
}

int reef_nl_parse_msg(const struct rtattr *tb[], int max, const struct nlmsghdr *h, size_t hdr_len)
{
    size_t off = NLMSG_SPACE(hdr_len);
    if (h->nlmsg_len < NLMSG_LENGTH(hdr_len)) {
        memset(tb, 0, sizeof(*tb) * (size_t)(max + 1));
        return -EBADMSG;
    }
    size_t len = h->nlmsg_len > off ? h->nlmsg_len - off : 0;
    return reef_nl_parse(tb, max, (const unsigned char *)h + off, len);
}

int reef_nl_parse_nested(const struct rtattr *tb[], int max, const struct rtattr *nest)
{
    return reef_nl_parse(tb, max, RTA_DATA(nest), RTA_PAYLOAD(nest));
}

uint32_t reef_nl_attr_u32(const struct rtattr *a)
{
    uint32_t v = 0;
    if (a && RTA_PAYLOAD(a) >= sizeof(v))
        memcpy(&v, RTA_DATA(a), sizeof(v));
    return v;
}

uint8_t reef_nl_attr_u8(const struct rtattr *a)
{
    return a && RTA_PAYLOAD(a) >= 1 ? *(const uint8_t *)RTA_DATA(a) : 0;
}

const char *reef_nl_attr_str(const struct rtattr *a)
{
    if (!a || RTA_PAYLOAD(a) < 1)
        return NULL;
    const char *s = RTA_DATA(a);
    return memchr(s, 0, RTA_PAYLOAD(a)) ? s : NULL;
}

const char *reef_nl_type_name(uint16_t type, char buf[32])
{
    static const struct {
        uint16_t type;
        const char *name;
    } names[] = {
        {RTM_NEWLINK, "RTM_NEWLINK"},   {RTM_DELLINK, "RTM_DELLINK"},
        {RTM_GETLINK, "RTM_GETLINK"},   {RTM_SETLINK, "RTM_SETLINK"},
        {RTM_NEWADDR, "RTM_NEWADDR"},   {RTM_DELADDR, "RTM_DELADDR"},
        {RTM_GETADDR, "RTM_GETADDR"},   {RTM_NEWROUTE, "RTM_NEWROUTE"},
        {RTM_DELROUTE, "RTM_DELROUTE"}, {RTM_GETROUTE, "RTM_GETROUTE"},
        {RTM_NEWNEIGH, "RTM_NEWNEIGH"}, {RTM_DELNEIGH, "RTM_DELNEIGH"},
        {RTM_GETNEIGH, "RTM_GETNEIGH"}, {RTM_NEWNSID, "RTM_NEWNSID"},
        {RTM_GETNSID, "RTM_GETNSID"},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(names); i++)
        if (names[i].type == type)
            return names[i].name;
    snprintf(buf, 32, "netlink message %u", (unsigned)type);
    return buf;
}

/* ---- Calls -------------------------------------------------------------------------------- */

static int fail(struct reef_err *err, int code, uint16_t req_type, const char *what,
                const char *ext)
{
    char tbuf[32];
    const char *tn = reef_nl_type_name(req_type, tbuf);
    const char *sep = what && *what ? " " : "";
    if (ext && *ext)
        return reef_err_set(err, code, "netlink: %s%s%s: %s (%s)", tn, sep, what ? what : "",
                            strerror(-code), ext);
    return reef_err_set(err, code, "netlink: %s%s%s: %s", tn, sep, what ? what : "",
                        strerror(-code));
}

/* The extended-ack text in the TLVs that start at off bytes into h's payload, or NULL. */
static const char *extack_msg(const struct nlmsghdr *h, size_t len, size_t off)
{
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
        return NULL;
    size_t payload = len - NLMSG_HDRLEN;
    if (off >= payload)
        return NULL;
    const struct rtattr *tb[NLMSGERR_ATTR_MAX + 1];
    if (reef_nl_parse(tb, NLMSGERR_ATTR_MAX, (const unsigned char *)NLMSG_DATA(h) + off,
                      payload - off) < 0)
        return NULL;
    return reef_nl_attr_str(tb[NLMSGERR_ATTR_MSG]);
}

int reef__nl_error(const struct nlmsghdr *h, size_t len, uint16_t req_type, const char *what,
                   struct reef_err *err)
{
    if (len > h->nlmsg_len)
        len = h->nlmsg_len;
    if (len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
        return fail(err, -EBADMSG, req_type, what, "short error message");
    const struct nlmsgerr *e = NLMSG_DATA(h);
    if (e->error == 0)
        return 0;
    /* A kernel errno is small and negative; anything else is a malformed answer. */
    int code = e->error < 0 && e->error > -4096 ? e->error : -EBADMSG;
    size_t off = sizeof(*e);
    if (!(h->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > sizeof(struct nlmsghdr))
        off += NLMSG_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
    return fail(err, code, req_type, what, extack_msg(h, len, off));
}

/* The error an NLMSG_DONE carries (dumps report failures there), or 0. */
static int done_error(const struct nlmsghdr *h, uint16_t req_type, const char *what,
                      struct reef_err *err)
{
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
        return 0;
    int code;
    memcpy(&code, NLMSG_DATA(h), sizeof(code));
    if (code >= 0)
        return 0;
    if (code <= -4096)
        code = -EBADMSG;
    return fail(err, code, req_type, what, extack_msg(h, h->nlmsg_len, NLMSG_ALIGN(sizeof(int))));
}

int reef_nl_call(struct reef_nl *nl, struct reef_nl_msg *m, reef_nl_reply_fn fn, void *ud,
                 const char *what, struct reef_err *err)
{
    uint16_t type = m->hdr.nlmsg_type;
    if (m->overflow || m->nnests != 0)
        return fail(err, -EMSGSIZE, type, what, "request too large or malformed");
    if (nl->fd < 0)
        return fail(err, -EBADF, type, what, "socket not open");
    m->hdr.nlmsg_seq = ++nl->seq;
    m->hdr.nlmsg_pid = 0;

    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t n;
    do
        n = sendto(nl->fd, m->buf, m->hdr.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return fail(err, -errno, type, what, "send");
    if ((size_t)n != m->hdr.nlmsg_len)
        return fail(err, -EIO, type, what, "short send");

    union {
        struct nlmsghdr h;
        unsigned char b[REEF_NL_RECV_MAX];
    } rbuf;
    /* The first failure, ours (fn) or the kernel's. A get's reply is followed by the ACK we
     * asked for, a dump ends with NLMSG_DONE: either way the answer has a clear end. */
    int rc = 0;
    bool intr = false;
    for (;;) {
        struct sockaddr_nl from;
        socklen_t fromlen = sizeof(from);
        do
            n = recvfrom(nl->fd, rbuf.b, sizeof(rbuf.b), MSG_TRUNC, (struct sockaddr *)&from,
                         &fromlen);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            int e = -errno;
            return fail(err, e, type, what, e == -EAGAIN ? "no answer from the kernel" : "receive");
        }
        if ((size_t)n > sizeof(rbuf.b))
            return fail(err, -EMSGSIZE, type, what, "answer larger than the receive buffer");
        if (from.nl_pid != 0)
            continue; /* not from the kernel */
        /* Walked by hand rather than with NLMSG_NEXT, whose unsigned arithmetic runs past the
         * end when the last message's length is not a multiple of 4. */
        size_t off = 0, total = (size_t)n;
        for (;;) {
            size_t left = total - off;
            if (left < sizeof(struct nlmsghdr))
                break;
            const struct nlmsghdr *h = (const struct nlmsghdr *)(rbuf.b + off);
            if (h->nlmsg_len < sizeof(struct nlmsghdr) || h->nlmsg_len > left)
                break;
            size_t step = NLMSG_ALIGN(h->nlmsg_len);
            off = step < left ? off + step : total;
            if (h->nlmsg_seq != nl->seq)
                continue; /* the tail of an earlier, abandoned call */
            if (h->nlmsg_flags & NLM_F_DUMP_INTR)
                intr = true;
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct reef_err kerr = {0};
                int e = reef__nl_error(h, left, type, what, &kerr);
                if (e < 0 && rc == 0) {
                    rc = e;
                    if (err)
                        *err = kerr;
                }
                return rc;
            }
            if (h->nlmsg_type == NLMSG_DONE) {
                int e = done_error(h, type, what, rc == 0 ? err : NULL);
                if (e < 0 && rc == 0)
                    rc = e;
                if (rc == 0 && intr)
                    rc = fail(err, -EAGAIN, type, what, "dump interrupted by a change");
                return rc;
            }
            if (h->nlmsg_type == NLMSG_NOOP)
                continue;
            if (h->nlmsg_type == NLMSG_OVERRUN) {
                if (rc == 0)
                    rc = fail(err, -ENOBUFS, type, what, "overrun");
                continue;
            }
            if (rc == 0 && fn) {
                int r = fn(ud, h);
                if (r != 0)
                    rc = fail(err, r < 0 && r > -4096 ? r : -EIO, type, what, "reply");
            }
        }
        if (off != total) /* the end of the answer may be in what cannot be read */
            return rc ? rc : fail(err, -EBADMSG, type, what, "truncated message in the answer");
    }
}
