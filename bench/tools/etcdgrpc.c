/* etcdgrpc: etcd's KV/Put over its native gRPC API, for bench/api.sh to set beside the JSON
 * gateway figures (the gateway forwards each request to etcd's gRPC server over a second local
 * connection, so it costs more than gRPC itself). No gRPC library: HTTP/2 with prior knowledge
 * on one TCP connection (as etcd's Go client uses one connection for all its calls), request
 * headers HPACK-encoded as literals, response headers never decoded (a call succeeds when it
 * carries a message before END_STREAM; an error is a trailers-only answer), protobuf
 * etcdserverpb.PutRequest written by hand.
 *
 *   etcdgrpc [-n N] [-c STREAMS] [-b VALUE_BYTES] [--tag T] PORT
 * N creates then N updates of the same keys and values apiload --etcd writes, STREAMS calls in
 * flight at once. Prints "etcd-grpc create ops=... clients=... ops_per_s=... p50_us=..." lines.
 * Connects to 127.0.0.1 only. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7,
       WINDOW_UPDATE = 8 };
enum { END_STREAM = 1, ACK = 1, END_HEADERS = 4 };

static int fd = -1;
static unsigned char rbuf[1 << 16];
static size_t rlen, roff;
static int64_t send_win = 65535; /* the connection's flow-control window for our DATA */
static char authority[32];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int write_all(const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_exact(unsigned char *out, size_t n)
{
    while (n) {
        if (roff == rlen) {
            ssize_t r = read(fd, rbuf, sizeof(rbuf));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return -1;
            rlen = (size_t)r;
            roff = 0;
        }
        size_t k = rlen - roff < n ? rlen - roff : n;
        memcpy(out, rbuf + roff, k);
        roff += k;
        out += k;
        n -= k;
    }
    return 0;
}

static size_t frame_head(unsigned char *p, size_t len, int type, int flags, uint32_t stream)
{
    p[0] = (unsigned char)(len >> 16), p[1] = (unsigned char)(len >> 8), p[2] = (unsigned char)len;
    p[3] = (unsigned char)type, p[4] = (unsigned char)flags;
    p[5] = (unsigned char)(stream >> 24), p[6] = (unsigned char)(stream >> 16);
    p[7] = (unsigned char)(stream >> 8), p[8] = (unsigned char)stream;
    return 9;
}

static size_t varint(unsigned char *p, size_t v)
{
    size_t n = 0;
    do {
        p[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            p[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

/* An HPACK string literal, no Huffman; every string here is shorter than 127 bytes. */
static size_t hstr(unsigned char *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (unsigned char)n;
    memcpy(p + 1, s, n);
    return n + 1;
}

/* Reads frames until the connection window admits `need` bytes, answering what must be. */
static int handle_frame(void);

/* HEADERS + DATA (END_STREAM) of one unary call, in one write. */
static int send_put(uint32_t stream, const char *key, const char *value, size_t vlen)
{
    static unsigned char b[8192];
    size_t klen = strlen(key), n = 9;
    b[n++] = 0x83; /* :method POST */
    b[n++] = 0x86; /* :scheme http */
    b[n++] = 0x04; /* :path, literal value */
    n += hstr(b + n, "/etcdserverpb.KV/Put");
    b[n++] = 0x01; /* :authority */
    n += hstr(b + n, authority);
    b[n++] = 0x0f, b[n++] = 0x10; /* content-type (static index 31) */
    n += hstr(b + n, "application/grpc");
    b[n++] = 0x00; /* te: trailers, new name */
    n += hstr(b + n, "te");
    n += hstr(b + n, "trailers");
    frame_head(b, n - 9, HEADERS, END_HEADERS, stream);
    /* PutRequest: 1 key, 2 value */
    unsigned char msg[4096];
    size_t m = 0;
    if (klen + vlen + 32 > sizeof(msg))
        return -1;
    msg[m++] = 0x0a;
    m += varint(msg + m, klen);
    memcpy(msg + m, key, klen), m += klen;
    msg[m++] = 0x12;
    m += varint(msg + m, vlen);
    memcpy(msg + m, value, vlen), m += vlen;
    size_t d = n;
    d += frame_head(b + d, m + 5, DATA, END_STREAM, stream);
    b[d++] = 0; /* not compressed */
    b[d++] = (unsigned char)(m >> 24), b[d++] = (unsigned char)(m >> 16);
    b[d++] = (unsigned char)(m >> 8), b[d++] = (unsigned char)m;
    memcpy(b + d, msg, m), d += m;
    while (send_win < (int64_t)(m + 5))
        if (handle_frame() < 0)
            return -1;
    send_win -= (int64_t)(m + 5);
    return write_all(b, d);
}

/* ---- calls in flight ---- */

struct call {
    double t0;
    int idx;
    bool got_message;
};

static struct call *calls; /* by (stream - 1) / 2 */
static size_t ncalls;
static int done_calls, failed;
static double *lat;

static int handle_frame(void)
{
    unsigned char h[9], p[16384 + 16];
    if (read_exact(h, 9) < 0)
        return -1;
    size_t len = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
    int type = h[3], flags = h[4];
    uint32_t stream = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) &
                      0x7fffffff;
    if (len > sizeof(p) || read_exact(p, len) < 0)
        return -1;
    unsigned char out[32];
    switch (type) {
    case SETTINGS:
        if (!(flags & ACK))
            return write_all(out, frame_head(out, 0, SETTINGS, ACK, 0));
        return 0;
    case PING:
        if (flags & ACK)
            return 0;
        frame_head(out, 8, PING, ACK, 0);
        memcpy(out + 9, p, 8);
        return write_all(out, 17);
    case WINDOW_UPDATE:
        if (stream == 0 && len == 4)
            send_win += (int64_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                                  (uint32_t)p[2] << 8 | p[3]) & 0x7fffffff;
        return 0;
    case GOAWAY:
        fprintf(stderr, "etcdgrpc: GOAWAY from etcd\n");
        return -1;
    case RST_STREAM:
        fprintf(stderr, "etcdgrpc: stream %u reset\n", stream);
        return -1;
    case DATA:
    case HEADERS:
        break;
    default:
        return 0; /* PRIORITY, CONTINUATION of headers we do not read, ... */
    }
    if (stream == 0 || (stream - 1) / 2 >= ncalls)
        return -1;
    struct call *c = &calls[(stream - 1) / 2];
    if (type == DATA && len >= 5)
        c->got_message = true;
    if (!(flags & END_STREAM))
        return 0;
    if (!c->got_message) { /* trailers only: grpc-status is an error */
        fprintf(stderr, "etcdgrpc: call %u failed (no response message)\n", stream);
        failed = 1;
        return -1;
    }
    lat[c->idx] = now_ms() - c->t0;
    done_calls++;
    return 1;
}

static void object_json(char *b, size_t cap, const char *tag, int idx, char fill, int vbytes,
                        size_t *len)
{
    int n = snprintf(b, cap,
                     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                     "\"b-%s-%d\",\"namespace\":\"default\"},\"data\":{\"v\":\"",
                     tag, idx);
    for (int i = 0; i < vbytes && (size_t)n + 4 < cap; i++)
        b[n++] = fill;
    n += snprintf(b + n, cap - (size_t)n, "\"}}");
    *len = (size_t)n;
}

int main(int argc, char **argv)
{
    int n = 1000, conc = 1, vbytes = 100;
    const char *tag = "t";
    static const struct option lo[] = {{"tag", required_argument, NULL, 'g'}, {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "n:c:b:", lo, NULL)) != -1) {
        switch (ch) {
        case 'n': n = atoi(optarg); break;
        case 'c': conc = atoi(optarg); break;
        case 'b': vbytes = atoi(optarg); break;
        case 'g': tag = optarg; break;
        default: goto usage;
        }
    }
    if (optind + 1 != argc || n < 1 || conc < 1 || conc > n || vbytes < 0 || vbytes > 3000)
        goto usage;
    int port = atoi(argv[optind]);
    snprintf(authority, sizeof(authority), "127.0.0.1:%d", port);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("etcdgrpc: connect");
        return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* preface, our SETTINGS (defaults), and a connection window for every answer to come */
    unsigned char pre[64];
    size_t pn = 24;
    memcpy(pre, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    pn += frame_head(pre + pn, 0, SETTINGS, 0, 0);
    pn += frame_head(pre + pn, 4, WINDOW_UPDATE, 0, 0);
    pre[pn++] = 0x3f, pre[pn++] = 0xff, pre[pn++] = 0x00, pre[pn++] = 0x00;
    if (write_all(pre, pn) < 0) {
        perror("etcdgrpc: write");
        return 1;
    }
    ncalls = (size_t)n * 2 + 1;
    calls = calloc(ncalls, sizeof(*calls));
    lat = calloc((size_t)n, sizeof(*lat));
    if (!calls || !lat)
        return 1;
    uint32_t stream = 1;
    static char key[256], val[4096];
    size_t vlen;
    /* one call first: the connection is up and etcd has seen a client before the clock runs */
    snprintf(key, sizeof(key), "/registry/configmaps/default/warm-%s", tag);
    calls[0].idx = 0;
    if (send_put(stream, key, "x", 1) < 0)
        goto io;
    stream += 2;
    while (done_calls < 1)
        if (handle_frame() < 0)
            goto io;
    for (int phase = 0; phase < 2; phase++) {
        done_calls = 0;
        int next = 0;
        double t0 = now_ms();
        while (done_calls < n) {
            while (next < n && next - done_calls < conc) {
                struct call *c = &calls[(stream - 1) / 2];
                c->idx = next;
                snprintf(key, sizeof(key), "/registry/configmaps/default/b-%s-%d", tag, next);
                object_json(val, sizeof(val), tag, next, phase ? 'u' : 'c', vbytes, &vlen);
                c->t0 = now_ms();
                if (send_put(stream, key, val, vlen) < 0)
                    goto io;
                stream += 2;
                next++;
            }
            if (handle_frame() < 0)
                goto io;
        }
        double wall = now_ms() - t0;
        qsort(lat, (size_t)n, sizeof(*lat), cmp_d);
        printf("etcd-grpc %s ops=%d clients=%d ops_per_s=%.0f p50_us=%.0f p90_us=%.0f "
               "p99_us=%.0f max_us=%.0f\n",
               phase ? "update" : "create", n, conc, n / (wall / 1e3), lat[n / 2] * 1e3,
               lat[n * 9 / 10] * 1e3, lat[(int)(n * 0.99)] * 1e3, lat[n - 1] * 1e3);
        fflush(stdout);
    }
    close(fd);
    free(calls);
    free(lat);
    return 0;
io:
    if (!failed)
        fprintf(stderr, "etcdgrpc: connection to etcd failed or closed\n");
    return 1;
usage:
    fprintf(stderr, "usage: etcdgrpc [-n N] [-c STREAMS] [-b VALUE_BYTES] [--tag T] PORT\n");
    return 2;
}
