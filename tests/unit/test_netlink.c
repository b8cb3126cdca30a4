/* Tests for net/netlink: message building and parsing against hand-made bytes, error decoding,
 * and real requests to the kernel. Every kernel test first moves its (forked) test process into
 * a network namespace of its own, so nothing it creates is ever visible in the node's. */

#include "net/netlink.h"

#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/unit/test.h"

static void own_netns(void)
{
    if (geteuid() != 0)
        TEST_FAIL("the netlink kernel tests need root (run them as root, as CI does)");
    if (unshare(CLONE_NEWNET) < 0)
        TEST_FAIL("unshare(CLONE_NEWNET): %s", strerror(errno));
}

/* ---- Building ----------------------------------------------------------------------------- */

static void test_build_layout(void)
{
    struct reef_nl_msg m;
    struct ifinfomsg *ifi = reef_nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE, sizeof(*ifi));
    CHECK(ifi != NULL);
    CHECK_INT(m.hdr.nlmsg_len, ==, NLMSG_SPACE(sizeof(*ifi)));
    CHECK_INT(m.hdr.nlmsg_flags, ==, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE);
    ifi->ifi_index = 7;
    reef_nl_put_str(&m, IFLA_IFNAME, "abc"); /* 4 + 4 bytes, no padding */
    reef_nl_put_u8(&m, IFLA_CARRIER, 5);     /* 4 + 1, padded to 8 */
    reef_nl_nest_begin(&m, IFLA_LINKINFO);
    reef_nl_put_str(&m, IFLA_INFO_KIND, "bridge"); /* 4 + 7, padded to 12 */
    reef_nl_nest_end(&m);
    reef_nl_put_u32(&m, IFLA_MTU, 1400);
    CHECK(!m.overflow);
    size_t base = NLMSG_SPACE(sizeof(*ifi));
    CHECK_INT(m.hdr.nlmsg_len, ==, base + 8 + 8 + (4 + 12) + 8);

    const unsigned char *p = m.buf + base;
    const struct rtattr *a = (const struct rtattr *)p;
    CHECK_INT(a->rta_type, ==, IFLA_IFNAME);
    CHECK_INT(a->rta_len, ==, 8);
    a = (const struct rtattr *)(p + 8);
    CHECK_INT(a->rta_len, ==, 5);
    CHECK_INT(p[8 + 5], ==, 0); /* padding is zero */
    a = (const struct rtattr *)(p + 16);
    CHECK_INT(a->rta_type, ==, IFLA_LINKINFO);
    CHECK_INT(a->rta_len, ==, 16); /* header + the padded inner attribute */

    const struct rtattr *tb[IFLA_MAX + 1];
    CHECK_INT(reef_nl_parse_msg(tb, IFLA_MAX, &m.hdr, sizeof(*ifi)), ==, 0);
    CHECK_STR(reef_nl_attr_str(tb[IFLA_IFNAME]), "abc");
    CHECK_INT(reef_nl_attr_u32(tb[IFLA_MTU]), ==, 1400);
    CHECK_INT(reef_nl_attr_u8(tb[IFLA_CARRIER]), ==, 5);
    const struct rtattr *info[IFLA_INFO_MAX + 1];
    CHECK_INT(reef_nl_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO]), ==, 0);
    CHECK_STR(reef_nl_attr_str(info[IFLA_INFO_KIND]), "bridge");
    CHECK(tb[IFLA_ADDRESS] == NULL);
}

static void test_build_overflow(void)
{
    struct reef_nl_msg m;
    reef_nl_msg_init(&m, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
    static char big[REEF_NL_MSG_MAX];
    memset(big, 'x', sizeof(big) - 1);
    reef_nl_put_str(&m, IFLA_IFNAME, big);
    CHECK(m.overflow);
    size_t len = m.hdr.nlmsg_len;
    reef_nl_put_u32(&m, IFLA_MTU, 1); /* nothing more goes in once overflowed */
    CHECK_INT(m.hdr.nlmsg_len, ==, len);

    struct reef_nl nl = {.fd = -1};
    struct reef_err err = {0};
    CHECK_INT(reef_nl_call(&nl, &m, NULL, NULL, "x", &err), ==, -EMSGSIZE);
    CHECK(strstr(err.msg, "netlink: RTM_NEWLINK x: ") == err.msg);

    /* Filling up attribute by attribute ends in overflow too, never past the buffer. */
    reef_nl_msg_init(&m, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
    for (int i = 0; i < 1000; i++)
        reef_nl_put_u32(&m, IFLA_MTU, (uint32_t)i);
    CHECK(m.overflow);
    CHECK_INT(m.hdr.nlmsg_len, <=, REEF_NL_MSG_MAX);

    /* Nests: too deep, or closed more often than opened. */
    reef_nl_msg_init(&m, RTM_NEWLINK, 0, 0);
    for (int i = 0; i <= REEF_NL_NEST_MAX; i++)
        reef_nl_nest_begin(&m, 1);
    CHECK(m.overflow);
    reef_nl_msg_init(&m, RTM_NEWLINK, 0, 0);
    reef_nl_nest_end(&m);
    CHECK(m.overflow);
    /* Left open: refused when sent. */
    reef_nl_msg_init(&m, RTM_NEWLINK, 0, 0);
    reef_nl_nest_begin(&m, 1);
    CHECK(!m.overflow);
    CHECK_INT(reef_nl_call(&nl, &m, NULL, NULL, "x", &err), ==, -EMSGSIZE);
    /* A sound message on a closed handle. */
    reef_nl_msg_init(&m, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
    CHECK_INT(reef_nl_call(&nl, &m, NULL, NULL, "x", &err), ==, -EBADF);
}

static void test_parse_bad(void)
{
    const struct rtattr *tb[8];
    unsigned char buf[16] = {0};
    struct rtattr *a = (struct rtattr *)buf;
    a->rta_len = 20; /* longer than what is there */
    a->rta_type = 1;
    CHECK_INT(reef_nl_parse(tb, 7, buf, sizeof(buf)), ==, -EBADMSG);
    a->rta_len = 2; /* shorter than its own header */
    CHECK_INT(reef_nl_parse(tb, 7, buf, sizeof(buf)), ==, -EBADMSG);
    /* A string without its NUL, a u32 too short. */
    a->rta_len = 7;
    memcpy(buf + 4, "abc", 3);
    CHECK_INT(reef_nl_parse(tb, 7, buf, 8), ==, 0);
    CHECK(tb[1] != NULL);
    CHECK(reef_nl_attr_str(tb[1]) == NULL);
    CHECK_INT(reef_nl_attr_u32(tb[1]), ==, 0);
    CHECK(reef_nl_attr_str(NULL) == NULL);
    /* Types above max are skipped; trailing bytes shorter than a header are ignored. */
    a->rta_type = 9;
    CHECK_INT(reef_nl_parse(tb, 7, buf, 10), ==, 0);
    for (int i = 0; i <= 7; i++)
        CHECK(tb[i] == NULL);
    /* A message too short for its family header. */
    struct nlmsghdr h = {.nlmsg_len = NLMSG_HDRLEN + 4};
    const struct rtattr *tl[IFLA_MAX + 1];
    CHECK_INT(reef_nl_parse_msg(tl, IFLA_MAX, &h, sizeof(struct ifinfomsg)), ==, -EBADMSG);
}

static void test_type_names(void)
{
    char b[32];
    CHECK_STR(reef_nl_type_name(RTM_NEWLINK, b), "RTM_NEWLINK");
    CHECK_STR(reef_nl_type_name(RTM_DELADDR, b), "RTM_DELADDR");
    CHECK_STR(reef_nl_type_name(RTM_NEWROUTE, b), "RTM_NEWROUTE");
    CHECK_STR(reef_nl_type_name(9999, b), "netlink message 9999");
}

/* ---- Errors ------------------------------------------------------------------------------- */

/* Builds an NLMSG_ERROR answering a request with payload_len bytes of payload (echoed unless
 * capped) and, when text is set, an extended-ack message. */
static size_t make_error(unsigned char *buf, size_t cap, int code, bool capped, size_t payload_len,
                         const char *text)
{
    memset(buf, 0, cap);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    h->nlmsg_type = NLMSG_ERROR;
    struct nlmsgerr *e = NLMSG_DATA(h);
    e->error = code;
    e->msg.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + payload_len);
    e->msg.nlmsg_type = RTM_NEWLINK;
    size_t len = NLMSG_HDRLEN + sizeof(*e);
    if (capped)
        h->nlmsg_flags |= NLM_F_CAPPED;
    else {
        memset(buf + len, 0xab, payload_len); /* the echoed request body */
        len += NLMSG_ALIGN(payload_len);
    }
    if (text) {
        h->nlmsg_flags |= NLM_F_ACK_TLVS;
        struct rtattr *a = (struct rtattr *)(buf + len);
        a->rta_type = NLMSGERR_ATTR_OFFS;
        a->rta_len = RTA_LENGTH(4);
        len += RTA_SPACE(4);
        a = (struct rtattr *)(buf + len);
        a->rta_type = NLMSGERR_ATTR_MSG;
        a->rta_len = (unsigned short)RTA_LENGTH(strlen(text) + 1);
        memcpy(RTA_DATA(a), text, strlen(text) + 1);
        len += RTA_SPACE(strlen(text) + 1);
    }
    h->nlmsg_len = (uint32_t)len;
    return len;
}

static void test_error_decoding(void)
{
    unsigned char buf[512];
    struct reef_err err = {0};
    size_t n = make_error(buf, sizeof(buf), -EEXIST, true, 0, NULL);
    CHECK_INT(reef__nl_error((struct nlmsghdr *)buf, n, RTM_NEWLINK, "veth3f2a1b9c", &err), ==,
              -EEXIST);
    CHECK_STR(err.msg, "netlink: RTM_NEWLINK veth3f2a1b9c: File exists");
    CHECK_INT(err.code, ==, -EEXIST);

    n = make_error(buf, sizeof(buf), -EOPNOTSUPP, true, 0, "Unknown device type");
    CHECK_INT(reef__nl_error((struct nlmsghdr *)buf, n, RTM_NEWLINK, "x0", &err), ==, -EOPNOTSUPP);
    CHECK(strstr(err.msg, "netlink: RTM_NEWLINK x0: ") == err.msg);
    CHECK(strstr(err.msg, "(Unknown device type)") != NULL);

    /* Not capped: the TLVs come after the echoed request. */
    n = make_error(buf, sizeof(buf), -EINVAL, false, 37, "bad thing");
    CHECK_INT(reef__nl_error((struct nlmsghdr *)buf, n, RTM_NEWADDR, "", &err), ==, -EINVAL);
    CHECK_STR(err.msg, "netlink: RTM_NEWADDR: Invalid argument (bad thing)");

    /* An ACK is no error. */
    n = make_error(buf, sizeof(buf), 0, true, 0, NULL);
    CHECK_INT(reef__nl_error((struct nlmsghdr *)buf, n, RTM_NEWLINK, "x", &err), ==, 0);

    /* Hostile: truncated, an echoed length pointing past the end, an absurd errno. */
    n = make_error(buf, sizeof(buf), -EEXIST, true, 0, NULL);
    CHECK_INT(reef__nl_error((struct nlmsghdr *)buf, NLMSG_HDRLEN + 2, RTM_NEWLINK, "x", &err), ==,
              -EBADMSG);
    n = make_error(buf, sizeof(buf), -EEXIST, false, 0, "t");
    ((struct nlmsgerr *)NLMSG_DATA((struct nlmsghdr *)buf))->msg.nlmsg_len = 60000;
    CHECK_INT(reef__nl_error((struct nlmsghdr *)buf, n, RTM_NEWLINK, "x", &err), ==, -EEXIST);
    CHECK_STR(err.msg, "netlink: RTM_NEWLINK x: File exists");
    n = make_error(buf, sizeof(buf), -100000, true, 0, NULL);
    CHECK_INT(reef__nl_error((struct nlmsghdr *)buf, n, RTM_NEWLINK, "x", &err), ==, -EBADMSG);
}

/* ---- The kernel --------------------------------------------------------------------------- */

struct link_seen {
    int index;
    char name[IFNAMSIZ];
    int count;
    int bridges;
};

static int on_link(void *ud, const struct nlmsghdr *h)
{
    struct link_seen *s = ud;
    CHECK_INT(h->nlmsg_type, ==, RTM_NEWLINK);
    const struct rtattr *tb[IFLA_MAX + 1];
    CHECK_INT(reef_nl_parse_msg(tb, IFLA_MAX, h, sizeof(struct ifinfomsg)), ==, 0);
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    s->index = ifi->ifi_index;
    const char *name = reef_nl_attr_str(tb[IFLA_IFNAME]);
    CHECK(name != NULL);
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->count++;
    if (tb[IFLA_LINKINFO]) {
        const struct rtattr *info[IFLA_INFO_MAX + 1];
        CHECK_INT(reef_nl_parse_nested(info, IFLA_INFO_MAX, tb[IFLA_LINKINFO]), ==, 0);
        const char *k = reef_nl_attr_str(info[IFLA_INFO_KIND]);
        if (k && strcmp(k, "bridge") == 0)
            s->bridges++;
    }
    return 0;
}

static int get_link(struct reef_nl *nl, const char *name, struct link_seen *s, struct reef_err *err)
{
    memset(s, 0, sizeof(*s));
    struct reef_nl_msg m;
    struct ifinfomsg *ifi = reef_nl_msg_init(&m, RTM_GETLINK, 0, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    reef_nl_put_str(&m, IFLA_IFNAME, name);
    return reef_nl_call(nl, &m, on_link, s, name, err);
}

static int add_bridge(struct reef_nl *nl, const char *name, struct reef_err *err)
{
    struct reef_nl_msg m;
    struct ifinfomsg *ifi =
        reef_nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    reef_nl_put_str(&m, IFLA_IFNAME, name);
    reef_nl_nest_begin(&m, IFLA_LINKINFO);
    reef_nl_put_str(&m, IFLA_INFO_KIND, "bridge");
    reef_nl_nest_end(&m);
    return reef_nl_call(nl, &m, NULL, NULL, name, err);
}

static int dump_links(struct reef_nl *nl, reef_nl_reply_fn fn, void *ud, struct reef_err *err)
{
    struct reef_nl_msg m;
    struct ifinfomsg *ifi = reef_nl_msg_init(&m, RTM_GETLINK, NLM_F_DUMP, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    return reef_nl_call(nl, &m, fn, ud, "", err);
}

static void test_kernel_get(void)
{
    own_netns();
    struct reef_nl nl;
    struct reef_err err = {0};
    CHECK_OK(reef_nl_open(&nl, &err), &err);
    struct link_seen s;
    CHECK_OK(get_link(&nl, "lo", &s, &err), &err);
    CHECK_INT(s.count, ==, 1);
    CHECK_STR(s.name, "lo");
    CHECK_INT(s.index, ==, 1);

    CHECK_INT(get_link(&nl, "nosuch0", &s, &err), ==, -ENODEV);
    CHECK_STR(err.msg, "netlink: RTM_GETLINK nosuch0: No such device");
    CHECK_INT(s.count, ==, 0);
    /* The socket is still in step after an error. */
    CHECK_OK(get_link(&nl, "lo", &s, &err), &err);
    CHECK_INT(s.count, ==, 1);
    reef_nl_close(&nl);
    CHECK_INT(nl.fd, ==, -1);
    reef_nl_close(&nl);
}

static void test_kernel_errors(void)
{
    own_netns();
    struct reef_nl nl;
    struct reef_err err = {0};
    CHECK_OK(reef_nl_open(&nl, &err), &err);
    CHECK_OK(add_bridge(&nl, "reeft0", &err), &err);
    CHECK_INT(add_bridge(&nl, "reeft0", &err), ==, -EEXIST);
    CHECK_STR(err.msg, "netlink: RTM_NEWLINK reeft0: File exists");

    /* The kernel's own reason comes through the extended ack. */
    struct reef_nl_msg m;
    struct ifinfomsg *ifi =
        reef_nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    reef_nl_put_str(&m, IFLA_IFNAME, "odd0");
    reef_nl_nest_begin(&m, IFLA_LINKINFO);
    reef_nl_put_str(&m, IFLA_INFO_KIND, "reef-no-such-kind");
    reef_nl_nest_end(&m);
    int r = reef_nl_call(&nl, &m, NULL, NULL, "odd0", &err);
    CHECK_INT(r, <, 0);
    CHECK(strstr(err.msg, "netlink: RTM_NEWLINK odd0: ") == err.msg);
    CHECK(strstr(err.msg, "(Unknown device type)") != NULL);

    struct link_seen s;
    CHECK_OK(get_link(&nl, "reeft0", &s, &err), &err);
    CHECK_INT(s.bridges, ==, 1);
    reef_nl_close(&nl);
}

static int cancel_first(void *ud, const struct nlmsghdr *h)
{
    (void)h;
    ++*(int *)ud;
    return -ECANCELED;
}

/* Enough links that the dump spans several reads. */
static void test_kernel_dump(void)
{
    own_netns();
    struct reef_nl nl;
    struct reef_err err = {0};
    CHECK_OK(reef_nl_open(&nl, &err), &err);
    enum { N = 150 };
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "reeft%d", i);
        CHECK_OK(add_bridge(&nl, name, &err), &err);
    }
    struct link_seen s = {0};
    CHECK_OK(dump_links(&nl, on_link, &s, &err), &err);
    CHECK_INT(s.count, ==, N + 1); /* and lo */
    CHECK_INT(s.bridges, ==, N);

    /* A callback's failure ends delivery, is the result, and leaves the socket usable. */
    int calls = 0;
    CHECK_INT(dump_links(&nl, cancel_first, &calls, &err), ==, -ECANCELED);
    CHECK_INT(calls, ==, 1);
    CHECK_STR(err.msg, "netlink: RTM_GETLINK: Operation canceled (reply)");
    CHECK_OK(get_link(&nl, "reeft7", &s, &err), &err);
    CHECK_STR(s.name, "reeft7");
    reef_nl_close(&nl);
}

/* A socket keeps the namespace it was opened in. */
static void test_kernel_socket_namespace(void)
{
    own_netns();
    struct reef_nl nl;
    struct reef_err err = {0};
    CHECK_OK(reef_nl_open(&nl, &err), &err);
    CHECK_OK(add_bridge(&nl, "reeft0", &err), &err);
    CHECK_INT(unshare(CLONE_NEWNET), ==, 0);
    struct link_seen s;
    CHECK_OK(get_link(&nl, "reeft0", &s, &err), &err); /* still the first namespace */
    struct reef_nl nl2;
    CHECK_OK(reef_nl_open(&nl2, &err), &err);
    CHECK_INT(get_link(&nl2, "reeft0", &s, &err), ==, -ENODEV);
    reef_nl_close(&nl2);
    reef_nl_close(&nl);
}

int main(int argc, char **argv)
{
    TEST_MAIN_INIT(argc, argv);
    TEST_RUN(test_build_layout);
    TEST_RUN(test_build_overflow);
    TEST_RUN(test_parse_bad);
    TEST_RUN(test_type_names);
    TEST_RUN(test_error_decoding);
    TEST_RUN(test_kernel_get);
    TEST_RUN(test_kernel_errors);
    TEST_RUN(test_kernel_dump);
    TEST_RUN(test_kernel_socket_namespace);
    return test_done();
}
