/* podnet's address management: the pod CIDR, and one record per allocated address in the state
 * directory (see podnet_int.h). */
#include "net/podnet_int.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"

#define UID_MAX_LEN 128

/* ---- Pure parts --------------------------------------------------------------------------- */

void reef__podnet_ip_str(uint32_t ip, char buf[16])
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
    if (ip & ~reef__podnet_mask((int)pl)) {
        char n[16];
        reef__podnet_ip_str(ip & reef__podnet_mask((int)pl), n);
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

static uint32_t first_free(uint32_t cand, uint32_t last, const uint32_t *taken, size_t n)
{
    /* Walk candidates and the sorted taken list together: the first candidate the list skips
     * over is free. */
    for (size_t i = 0; i < n && cand <= last; i++) {
        if (taken[i] < cand)
            continue;
        if (taken[i] > cand)
            break;
        cand++;
    }
    return cand <= last ? cand : 0;
}

uint32_t reef__podnet_pick(uint32_t net, int prefix, uint32_t *taken, size_t n, uint32_t after)
{
    uint32_t last = reef__podnet_broadcast(net, prefix) - 1;
    if (n)
        qsort(taken, n, sizeof(*taken), cmp_u32);
    /* After the last one handed out first, as host-local IPAM does: an address just freed is
     * not given out again at once, while the neighbour caches still name its old owner. */
    uint32_t ip = 0;
    if (after >= net + 2 && after < last)
        ip = first_free(after + 1, last, taken, n);
    return ip ? ip : first_free(net + 2, last, taken, n);
}

int reef__podnet_check_uid(const char *uid, struct reef_err *err)
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
    if (ip <= pn->gw || ip >= reef__podnet_broadcast(pn->net, pn->prefix) ||
        (ip & reef__podnet_mask(pn->prefix)) != pn->net)
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
        uint32_t ip = reef__podnet_pick(pn->net, pn->prefix, s->taken, s->n, pn->last);
        if (ip == 0) {
            r = reef_err_set(err, -ENOSPC, "ipam: no free address left in %s (%zu in use)",
                             pn->cidr, s->n);
            break;
        }
        char name[16];
        reef__podnet_ip_str(ip, name);
        if (linkat(pn->dirfd, tmp, pn->dirfd, name, 0) == 0) {
            *out = ip;
            pn->prev_last = pn->last;
            pn->last = ip;
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

int reef__podnet_ipam_free(struct reef_podnet *pn, const char *uid, struct reef_err *err)
{
    struct free_ctx c = {pn, uid, err, 0};
    int r = scan_dir(pn, free_one, &c, err);
    if (r == 0 && c.freed)
        r = sync_dir(pn, err);
    return r;
}

void reef__podnet_ipam_clean(struct reef_podnet *pn)
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

int reef__podnet_ipam_find(struct reef_podnet *pn, const char *uid, uint32_t *ip,
                           struct reef_err *err)
{
    struct alloc_scan s;
    int r = scan_allocs(pn, uid, &s, err);
    if (r < 0)
        return r;
    *ip = s.mine;
    scan_free(&s);
    return 0;
}

int reef__podnet_ipam_acquire(struct reef_podnet *pn, const char *uid, uint32_t *ip, bool *fresh,
                              struct reef_err *err)
{
    struct alloc_scan s;
    int r = scan_allocs(pn, uid, &s, err);
    if (r < 0)
        return r;
    *ip = s.mine;
    *fresh = s.mine == 0;
    if (*fresh)
        r = alloc_new(pn, uid, &s, ip, err);
    scan_free(&s);
    return r;
}

void reef__podnet_ipam_release(struct reef_podnet *pn, uint32_t ip)
{
    char name[16];
    reef__podnet_ip_str(ip, name);
    unlinkat(pn->dirfd, name, 0);
    if (pn->last == ip) /* never used: the next allocation may take it */
        pn->last = pn->prev_last;
}

int reef_podnet_lookup(struct reef_podnet *pn, const char *pod_uid, char ip[64])
{
    if (reef__podnet_check_uid(pod_uid, NULL) < 0)
        return -EINVAL;
    uint32_t mine;
    int r = reef__podnet_ipam_find(pn, pod_uid, &mine, NULL);
    if (r < 0)
        return r;
    if (!mine)
        return -ENOENT;
    reef__podnet_ip_str(mine, ip);
    return 0;
}
