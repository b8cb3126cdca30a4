#include "runtime/seccomp_profile.h"

#include <ctype.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/json.h"
#include "runtime/caps.h"

#define MAX_ARCHES 32    /* entries of architectures, subArchitectures, archMap, arches */
#define MAX_CAPS 64      /* entries of a filter's caps */
#define MAX_ERRNO 4095   /* the kernel clamps larger errno values to this */
#define MAX_TRACE 0xffff /* SECCOMP_RET_DATA */
#define PATH_MAX_LEN 96
/* libseccomp's BPF generator grows far faster than linearly in the comparisons of argument
 * conditions (about 5 s for 5000 instructions of them, a minute for 10000), so their estimated
 * size is bounded before it runs: 1 instruction per rule and 6 per comparison (the most a 64-bit
 * comparison takes), for each architecture that has the system call. A filter needing more would
 * pass the kernel's 4096-instruction limit anyway. */
#define MAX_COND_INSNS 4096

/* One syscalls[] entry, checked and reduced to what building needs. */
struct entry {
    int at;    /* position in syscalls[], for messages */
    int names; /* token: the names array, or the legacy name string */
    uint32_t action;
    unsigned nargs;
    bool split; /* several args on one index: one rule per arg (runc's rule) */
    bool applies;
    struct scmp_arg_cmp args[REEF_SECCOMP_PROFILE_MAX_ARGS];
};

struct profile {
    uint32_t def_action;
    unsigned narches;
    int arches[MAX_ARCHES + 1]; /* indexes in arch_names, each a distinct architecture */
    int nentries;
    struct entry *entries; /* malloc'd */
    int kernel;            /* running kernel as major << 8 | minor; -1 until read */
};

/* Architecture names of profiles (SCMP_ARCH_*) and libseccomp's (seccomp_arch_resolve_name).
 * Some are newer than the libseccomp reef links; they are valid names that fail only when added. */
static const struct {
    const char *scmp;
    const char *lib;
} arch_names[] = {
    {"SCMP_ARCH_X86", "x86"},
    {"SCMP_ARCH_X86_64", "x86_64"},
    {"SCMP_ARCH_X32", "x32"},
    {"SCMP_ARCH_ARM", "arm"},
    {"SCMP_ARCH_AARCH64", "aarch64"},
    {"SCMP_ARCH_MIPS", "mips"},
    {"SCMP_ARCH_MIPS64", "mips64"},
    {"SCMP_ARCH_MIPS64N32", "mips64n32"},
    {"SCMP_ARCH_MIPSEL", "mipsel"},
    {"SCMP_ARCH_MIPSEL64", "mipsel64"},
    {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"},
    {"SCMP_ARCH_PPC", "ppc"},
    {"SCMP_ARCH_PPC64", "ppc64"},
    {"SCMP_ARCH_PPC64LE", "ppc64le"},
    {"SCMP_ARCH_S390", "s390"},
    {"SCMP_ARCH_S390X", "s390x"},
    {"SCMP_ARCH_PARISC", "parisc"},
    {"SCMP_ARCH_PARISC64", "parisc64"},
    {"SCMP_ARCH_RISCV64", "riscv64"},
    {"SCMP_ARCH_LOONGARCH64", "loongarch64"},
    {"SCMP_ARCH_M68K", "m68k"},
    {"SCMP_ARCH_SH", "sh"},
    {"SCMP_ARCH_SHEB", "sheb"},
};

/* Go-style names of includes/excludes arches, as moby's default profile spells them. */
static const char *const native_names[] = {
    "x86",       "amd64",    "x32",         "arm",     "arm64", "mips",    "mipsel", "mips64",
    "mips64n32", "mipsel64", "mipsel64n32", "ppc",     "ppc64", "ppc64le", "s390",   "s390x",
    "parisc",    "parisc64", "riscv64",     "loong64", "m68k",  "sh",
};

const char *reef_seccomp_profile_native_arch(void)
{
#if defined(__x86_64__) && !defined(__ILP32__)
    return "amd64";
#elif defined(__i386__)
    return "x86";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__powerpc64__)
    return "ppc64";
#elif defined(__loongarch64)
    return "loong64";
#else
    return NULL;
#endif
}

/* Errors */

/* Sets "seccomp profile: PATH: MESSAGE" and returns code. */
static int REEF_PRINTF(4, 5)
    fail(struct reef_err *err, int code, const char *path, const char *fmt, ...)
{
    char msg[REEF_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (*path)
        return reef_err_set(err, code, "seccomp profile: %s: %s", path, msg);
    return reef_err_set(err, code, "seccomp profile: %s", msg);
}

/* The value v as written in the profile, cut to fit a message (at a character boundary). */
static void quote(const struct reef_json_doc *d, int v, char *out, size_t size)
{
    size_t n = 0;
    const char *p = reef_json_raw(d, v, &n);
    if (!p)
        p = "", n = 0;
    if (n + 1 <= size && n <= 64) {
        memcpy(out, p, n);
        out[n] = '\0';
        return;
    }
    size_t cut = size - 4 < 60 ? size - 4 : 60;
    while (cut > 0 && ((unsigned char)p[cut] & 0xc0) == 0x80)
        cut--;
    memcpy(out, p, cut);
    memcpy(out + cut, "...", 4);
}

static const char *article(enum reef_json_kind k)
{
    return k == REEF_JSON_ARRAY || k == REEF_JSON_OBJECT ? "an" : "a";
}

/* Checks that v has kind k. */
static int want(const struct reef_json_doc *d, int v, enum reef_json_kind k, const char *path,
                struct reef_err *err)
{
    enum reef_json_kind got = reef_json_kind(d, v);
    if (got == k)
        return 0;
    char q[72];
    quote(d, v, q, sizeof(q));
    return fail(err, -EINVAL, path, "expected %s %s, found %s %s", article(k),
                reef_json_kind_name(k), reef_json_kind_name(got), q);
}

/* JSON helpers */

/* Member key of object obj, matched as Go's encoding/json does (ignoring ASCII case, the last
 * match winning). null counts as absent, as it leaves a Go field unset. Returns the value's token
 * or -ENOENT. */
static int member(const struct reef_json_doc *d, int obj, const char *key)
{
    int found = -ENOENT;
    size_t klen = strlen(key);
    struct reef_json_iter it = reef_json_iter(d, obj);
    while (reef_json_next(d, &it)) {
        const char *p;
        size_t n;
        if (reef_json_str_view(d, it.key, &p, &n) == 0 && n == klen && strncasecmp(p, key, n) == 0)
            found = it.val;
    }
    if (found >= 0 && reef_json_is_null(d, found))
        return -ENOENT;
    return found;
}

/* "syscalls[3]" + ".op" into buf. */
static const char *sub(char *buf, const char *path, const char *fmt, ...) REEF_PRINTF(3, 4);
static const char *sub(char *buf, const char *path, const char *fmt, ...)
{
    size_t n = (size_t)snprintf(buf, PATH_MAX_LEN, "%s", path);
    if (n >= PATH_MAX_LEN)
        return buf;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, PATH_MAX_LEN - n, fmt, ap);
    va_end(ap);
    return buf;
}

/* An unsigned integer in [0, max]. */
static int get_uint(const struct reef_json_doc *d, int v, uint64_t max, uint64_t *out,
                    const char *path, struct reef_err *err)
{
    int r = want(d, v, REEF_JSON_NUMBER, path, err);
    if (r < 0)
        return r;
    if (reef_json_get_uint(d, v, out, NULL) < 0 || *out > max) {
        char q[72];
        quote(d, v, q, sizeof(q));
        return fail(err, -EINVAL, path, "expected an integer from 0 to %llu, found %s",
                    (unsigned long long)max, q);
    }
    return 0;
}

/* A string that names one of a fixed set: copied to buf, or "" when it cannot be one (too long,
 * or holding U+0000), so that the caller reports it as unknown. */
static int get_word(const struct reef_json_doc *d, int v, char *buf, size_t size, const char *path,
                    struct reef_err *err)
{
    int r = want(d, v, REEF_JSON_STRING, path, err);
    if (r < 0)
        return r;
    if (reef_json_get_str(d, v, buf, size, NULL) < 0)
        buf[0] = '\0';
    return 0;
}

/* An array of at most max elements (absent is fine: *n = 0, *arr = -ENOENT). */
static int get_array(const struct reef_json_doc *d, int obj, const char *key, int max, int *arr,
                     int *n, const char *path, struct reef_err *err)
{
    char p[PATH_MAX_LEN];
    *n = 0;
    *arr = member(d, obj, key);
    if (*arr < 0)
        return 0;
    int r = want(d, *arr, REEF_JSON_ARRAY, sub(p, path, "%s%s", *path ? "." : "", key), err);
    if (r < 0)
        return r;
    *n = reef_json_count(d, *arr);
    if (*n > max)
        return fail(err, -E2BIG, p, "more than %d entries", max);
    return 0;
}

/* Actions, operators, architectures */

static int parse_action(const struct reef_json_doc *d, int obj, const char *akey, const char *ekey,
                        uint32_t *out, const char *path, struct reef_err *err)
{
    char p[PATH_MAX_LEN], ep[PATH_MAX_LEN], name[32];
    const char *dot = *path ? "." : "";
    sub(p, path, "%s%s", dot, akey);
    sub(ep, path, "%s%s", dot, ekey);
    int v = member(d, obj, akey);
    if (v < 0)
        return fail(err, -EINVAL, p, "missing");
    int r = get_word(d, v, name, sizeof(name), p, err);
    if (r < 0)
        return r;
    int ev = member(d, obj, ekey);
    uint64_t eno = EPERM;
    bool errno_ok = strcmp(name, "SCMP_ACT_ERRNO") == 0 || strcmp(name, "SCMP_ACT_TRACE") == 0;
    if (ev >= 0 && errno_ok &&
        (r = get_uint(d, ev, strcmp(name, "SCMP_ACT_ERRNO") == 0 ? MAX_ERRNO : MAX_TRACE, &eno, ep,
                      err)) < 0)
        return r;

    if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
        *out = SCMP_ACT_ALLOW;
    else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
        *out = SCMP_ACT_ERRNO((uint32_t)eno);
    else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
        *out = SCMP_ACT_TRACE((uint32_t)eno);
    else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
        *out = SCMP_ACT_KILL_THREAD;
    else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
        *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
        *out = SCMP_ACT_TRAP;
    else if (strcmp(name, "SCMP_ACT_LOG") == 0)
        *out = SCMP_ACT_LOG;
    else if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
        return fail(err, -EINVAL, p, "SCMP_ACT_NOTIFY is not supported");
    else {
        char q[72];
        quote(d, v, q, sizeof(q));
        return fail(err, -EINVAL, p, "unknown action %s", q);
    }
    if (ev >= 0 && !errno_ok)
        return fail(err, -EINVAL, ep, "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one");
    return 0;
}

static int parse_op(const char *name, enum scmp_compare *op)
{
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {
        {"SCMP_CMP_NE", SCMP_CMP_NE},
        {"SCMP_CMP_LT", SCMP_CMP_LT},
        {"SCMP_CMP_LE", SCMP_CMP_LE},
        {"SCMP_CMP_EQ", SCMP_CMP_EQ},
        {"SCMP_CMP_GE", SCMP_CMP_GE},
        {"SCMP_CMP_GT", SCMP_CMP_GT},
        {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    };
    for (size_t i = 0; i < REEF_ARRAY_LEN(ops); i++)
        if (strcmp(name, ops[i].name) == 0) {
            *op = ops[i].op;
            return 0;
        }
    return -EINVAL;
}

/* Index in arch_names of string v, after checking it. */
static int parse_arch(const struct reef_json_doc *d, int v, const char *path, struct reef_err *err)
{
    char name[32];
    int r = get_word(d, v, name, sizeof(name), path, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < REEF_ARRAY_LEN(arch_names); i++)
        if (strcmp(name, arch_names[i].scmp) == 0)
            return (int)i;
    char q[72];
    quote(d, v, q, sizeof(q));
    return fail(err, -EINVAL, path, "unknown architecture %s", q);
}

static int add_arch(struct profile *pr, int i, const char *path, struct reef_err *err)
{
    uint32_t token = seccomp_arch_resolve_name(arch_names[i].lib);
    if (token == 0)
        return fail(err, -EINVAL, path, "architecture %s is not supported by libseccomp",
                    arch_names[i].scmp);
    for (unsigned k = 0; k < pr->narches; k++)
        if (pr->arches[k] == i)
            return 0;
    if (REEF_NEVER(pr->narches >= REEF_ARRAY_LEN(pr->arches)))
        return fail(err, -E2BIG, path, "too many architectures");
    pr->arches[pr->narches++] = i;
    return 0;
}

static bool is_native(int i)
{
    uint32_t token = seccomp_arch_resolve_name(arch_names[i].lib);
    return token != 0 && token == seccomp_arch_native();
}

static int parse_arches(const struct reef_json_doc *d, struct profile *pr, struct reef_err *err)
{
    int arr, n, r;
    char p[PATH_MAX_LEN];
    if ((r = get_array(d, REEF_JSON_ROOT, "architectures", MAX_ARCHES, &arr, &n, "", err)) < 0)
        return r;
    int map, nmap;
    if ((r = get_array(d, REEF_JSON_ROOT, "archMap", MAX_ARCHES, &map, &nmap, "", err)) < 0)
        return r;
    if (n > 0 && nmap > 0)
        return fail(err, -EINVAL, "", "use either architectures or archMap, not both");
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        int i = parse_arch(d, it.val, sub(p, "architectures", "[%d]", it.index), err);
        if (i < 0 || (r = add_arch(pr, i, p, err)) < 0)
            return i < 0 ? i : r;
    }
    it = reef_json_iter(d, map);
    bool found = false;
    while (reef_json_next(d, &it)) {
        char ep[PATH_MAX_LEN];
        sub(ep, "archMap", "[%d]", it.index);
        if ((r = want(d, it.val, REEF_JSON_OBJECT, ep, err)) < 0)
            return r;
        int a = member(d, it.val, "architecture");
        if (a < 0)
            return fail(err, -EINVAL, sub(p, ep, ".architecture"), "missing");
        int i = parse_arch(d, a, sub(p, ep, ".architecture"), err);
        if (i < 0)
            return i;
        /* Only the first entry for the native architecture counts, as in moby. */
        bool use = !found && is_native(i);
        if (use) {
            found = true;
            if ((r = add_arch(pr, i, p, err)) < 0)
                return r;
        }
        int subs, nsubs;
        if ((r = get_array(d, it.val, "subArchitectures", MAX_ARCHES, &subs, &nsubs, ep, err)) < 0)
            return r;
        struct reef_json_iter si = reef_json_iter(d, subs);
        while (reef_json_next(d, &si)) {
            int s = parse_arch(d, si.val, sub(p, ep, ".subArchitectures[%d]", si.index), err);
            if (s < 0)
                return s;
            if (use && (r = add_arch(pr, s, p, err)) < 0)
                return r;
        }
    }
    return 0;
}

/* Filters (includes / excludes) */

struct filter {
    bool present;
    int ncaps;
    uint64_t caps;
    int narches;
    bool native;    /* the native architecture is among arches */
    int min_kernel; /* major << 8 | minor, or -1 */
};

static int parse_kernel_version(const char *s, int *out)
{
    char *end;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    unsigned long major = strtoul(s, &end, 10);
    if (*end != '.' || !isdigit((unsigned char)end[1]))
        return -EINVAL;
    unsigned long minor = strtoul(end + 1, &end, 10);
    if (*end != '\0' || major > 255 || minor > 255 || (major == 0 && minor == 0))
        return -EINVAL;
    *out = (int)(major << 8 | minor);
    return 0;
}

static int parse_filter(const struct reef_json_doc *d, int obj, const char *key, struct filter *f,
                        const char *path, struct reef_err *err)
{
    char fp[PATH_MAX_LEN], p[PATH_MAX_LEN];
    memset(f, 0, sizeof(*f));
    f->min_kernel = -1;
    int v = member(d, obj, key);
    if (v < 0)
        return 0;
    sub(fp, path, ".%s", key);
    int r = want(d, v, REEF_JSON_OBJECT, fp, err);
    if (r < 0)
        return r;
    f->present = true;
    int arr;
    if ((r = get_array(d, v, "caps", MAX_CAPS, &arr, &f->ncaps, fp, err)) < 0)
        return r;
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        char name[40];
        sub(p, fp, ".caps[%d]", it.index);
        if ((r = get_word(d, it.val, name, sizeof(name), p, err)) < 0)
            return r;
        int cap = name[0] ? reef_caps_from_name(name) : -EINVAL;
        if (cap < 0 || cap > REEF_CAP_MAX) {
            char q[72];
            quote(d, it.val, q, sizeof(q));
            return fail(err, -EINVAL, p, "unknown capability %s", q);
        }
        f->caps |= REEF_CAP_BIT(cap);
    }
    if ((r = get_array(d, v, "arches", MAX_ARCHES, &arr, &f->narches, fp, err)) < 0)
        return r;
    const char *native = reef_seccomp_profile_native_arch();
    it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        char name[32];
        sub(p, fp, ".arches[%d]", it.index);
        if ((r = get_word(d, it.val, name, sizeof(name), p, err)) < 0)
            return r;
        bool known = false;
        for (size_t i = 0; i < REEF_ARRAY_LEN(native_names) && !known; i++)
            known = strcmp(name, native_names[i]) == 0;
        if (!known) {
            char q[72];
            quote(d, it.val, q, sizeof(q));
            return fail(err, -EINVAL, p, "unknown architecture %s", q);
        }
        if (native && strcmp(name, native) == 0)
            f->native = true;
    }
    int k = member(d, v, "minKernel");
    if (k >= 0) {
        char ver[16];
        sub(p, fp, ".minKernel");
        if ((r = get_word(d, k, ver, sizeof(ver), p, err)) < 0)
            return r;
        if (ver[0] == '\0' && reef_json_str_eq(d, k, ""))
            return 0; /* moby reads "" as no minimum */
        if (parse_kernel_version(ver, &f->min_kernel) < 0) {
            char q[72];
            quote(d, k, q, sizeof(q));
            return fail(err, -EINVAL, p, "invalid kernel version %s, expected \"<major>.<minor>\"",
                        q);
        }
    }
    return 0;
}

static int running_kernel(struct profile *pr, const char *path, struct reef_err *err)
{
    if (pr->kernel >= 0)
        return pr->kernel;
    struct utsname u;
    unsigned major, minor;
    if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
        return fail(err, -EINVAL, path, "cannot read the kernel version");
    pr->kernel = (int)((major > 255 ? 255 : major) << 8 | (minor > 255 ? 255 : minor));
    return pr->kernel;
}

/* Whether an entry with these filters applies to a container holding caps (moby's order). */
static int applies(struct profile *pr, const struct filter *inc, const struct filter *exc,
                   uint64_t caps, const char *path, struct reef_err *err)
{
    int k;
    if (exc->present) {
        if (exc->narches > 0 && exc->native)
            return 0;
        if ((caps & exc->caps) != 0)
            return 0;
        if (exc->min_kernel >= 0) {
            if ((k = running_kernel(pr, path, err)) < 0)
                return k;
            if (k >= exc->min_kernel)
                return 0;
        }
    }
    if (inc->present) {
        if (inc->narches > 0 && !inc->native)
            return 0;
        if ((caps & inc->caps) != inc->caps)
            return 0;
        if (inc->min_kernel >= 0) {
            if ((k = running_kernel(pr, path, err)) < 0)
                return k;
            if (k < inc->min_kernel)
                return 0;
        }
    }
    return 1;
}

/* syscalls[] */

static int parse_args(const struct reef_json_doc *d, int obj, struct entry *e, const char *path,
                      struct reef_err *err)
{
    int arr, n, r;
    char ap[PATH_MAX_LEN], p[PATH_MAX_LEN];
    if ((r = get_array(d, obj, "args", REEF_SECCOMP_PROFILE_MAX_ARGS, &arr, &n, path, err)) < 0)
        return r;
    unsigned seen = 0;
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        sub(ap, path, ".args[%d]", it.index);
        if ((r = want(d, it.val, REEF_JSON_OBJECT, ap, err)) < 0)
            return r;
        uint64_t index, value = 0, value2 = 0;
        int v = member(d, it.val, "index");
        if (v < 0)
            return fail(err, -EINVAL, sub(p, ap, ".index"), "missing");
        if ((r = get_uint(d, v, 5, &index, sub(p, ap, ".index"), err)) < 0)
            return r;
        v = member(d, it.val, "value");
        if (v < 0)
            return fail(err, -EINVAL, sub(p, ap, ".value"), "missing");
        if ((r = get_uint(d, v, UINT64_MAX, &value, sub(p, ap, ".value"), err)) < 0)
            return r;
        v = member(d, it.val, "valueTwo");
        if (v >= 0 && (r = get_uint(d, v, UINT64_MAX, &value2, sub(p, ap, ".valueTwo"), err)) < 0)
            return r;
        v = member(d, it.val, "op");
        if (v < 0)
            return fail(err, -EINVAL, sub(p, ap, ".op"), "missing");
        char name[32];
        enum scmp_compare op;
        if ((r = get_word(d, v, name, sizeof(name), sub(p, ap, ".op"), err)) < 0)
            return r;
        if (parse_op(name, &op) < 0) {
            char q[72];
            quote(d, v, q, sizeof(q));
            return fail(err, -EINVAL, p, "unknown operator %s", q);
        }
        if (seen & (1u << index))
            e->split = true;
        seen |= 1u << index;
        e->args[e->nargs++] = (struct scmp_arg_cmp){
            .arg = (unsigned)index, .op = op, .datum_a = value, .datum_b = value2};
    }
    return 0;
}

static int parse_entry(const struct reef_json_doc *d, int obj, struct profile *pr, uint64_t caps,
                       int *names_left, struct entry *e, struct reef_err *err)
{
    char path[PATH_MAX_LEN], p[PATH_MAX_LEN];
    snprintf(path, sizeof(path), "syscalls[%d]", e->at);
    int r = want(d, obj, REEF_JSON_OBJECT, path, err);
    if (r < 0)
        return r;
    int names = member(d, obj, "names"), name = member(d, obj, "name");
    int nnames = 0;
    if (names >= 0 && (r = want(d, names, REEF_JSON_ARRAY, sub(p, path, ".names"), err)) < 0)
        return r;
    if (names >= 0)
        nnames = reef_json_count(d, names);
    if (name >= 0 && (r = want(d, name, REEF_JSON_STRING, sub(p, path, ".name"), err)) < 0)
        return r;
    if (name >= 0 && nnames > 0)
        return fail(err, -EINVAL, path, "use either name or names, not both");
    if (name >= 0) {
        e->names = name;
        nnames = 1;
    } else if (nnames > 0) {
        e->names = names;
        struct reef_json_iter it = reef_json_iter(d, names);
        while (reef_json_next(d, &it))
            if ((r = want(d, it.val, REEF_JSON_STRING, sub(p, path, ".names[%d]", it.index), err)) <
                0)
                return r;
    } else {
        return fail(err, -EINVAL, sub(p, path, ".names"), "%s", names >= 0 ? "empty" : "missing");
    }
    if (nnames > *names_left)
        return fail(err, -E2BIG, sub(p, path, ".names"),
                    "more than %d system call names in the profile",
                    REEF_SECCOMP_PROFILE_MAX_NAMES);
    *names_left -= nnames;
    if ((r = parse_action(d, obj, "action", "errnoRet", &e->action, path, err)) < 0)
        return r;
    if ((r = parse_args(d, obj, e, path, err)) < 0)
        return r;
    struct filter inc, exc;
    if ((r = parse_filter(d, obj, "includes", &inc, path, err)) < 0 ||
        (r = parse_filter(d, obj, "excludes", &exc, path, err)) < 0)
        return r;
    if ((r = applies(pr, &inc, &exc, caps, path, err)) < 0)
        return r;
    e->applies = r == 1;
    return 0;
}

static int parse(const struct reef_json_doc *d, uint64_t caps, struct profile *pr,
                 struct reef_err *err)
{
    int r = want(d, REEF_JSON_ROOT, REEF_JSON_OBJECT, "", err);
    if (r < 0)
        return r;
    if ((r = parse_action(d, REEF_JSON_ROOT, "defaultAction", "defaultErrnoRet", &pr->def_action,
                          "", err)) < 0)
        return r;
    int v = member(d, REEF_JSON_ROOT, "listenerPath");
    if (v >= 0 && !reef_json_str_eq(d, v, ""))
        return fail(err, -EINVAL, "listenerPath", "seccomp agents are not supported");
    int arr, n;
    if ((r = get_array(d, REEF_JSON_ROOT, "flags", 16, &arr, &n, "", err)) < 0)
        return r;
    if (n > 0) {
        char q[72];
        quote(d, reef_json_index(d, arr, 0), q, sizeof(q));
        return fail(err, -EINVAL, "flags[0]", "filter flag %s is not supported", q);
    }
    if ((r = parse_arches(d, pr, err)) < 0)
        return r;
    if ((r = get_array(d, REEF_JSON_ROOT, "syscalls", REEF_SECCOMP_PROFILE_MAX_ENTRIES, &arr, &n,
                       "", err)) < 0)
        return r;
    if (n == 0)
        return 0;
    pr->entries = calloc((size_t)n, sizeof(*pr->entries));
    if (!pr->entries)
        return reef_err_set(err, -ENOMEM, "seccomp profile: out of memory");
    int names_left = REEF_SECCOMP_PROFILE_MAX_NAMES;
    struct reef_json_iter it = reef_json_iter(d, arr);
    while (reef_json_next(d, &it)) {
        struct entry *e = &pr->entries[pr->nentries++];
        e->at = it.index;
        if ((r = parse_entry(d, it.val, pr, caps, &names_left, e, err)) < 0)
            return r;
    }
    return 0;
}

/* Building */

struct ctx_guard {
    scmp_filter_ctx ctx;
};

static void release_ctx(struct ctx_guard *g)
{
    if (g->ctx)
        seccomp_release(g->ctx);
}

/* What the rules added so far may still spend. */
struct budget {
    int cond_left; /* estimated instructions of argument conditions */
    unsigned ntokens;
    uint32_t tokens[MAX_ARCHES + 2]; /* the filter's architectures, native first */
};

static int add_rule(scmp_filter_ctx ctx, const struct entry *e, int nr, const char *name,
                    struct reef_err *err)
{
    unsigned n = e->split ? e->nargs : 1;
    for (unsigned i = 0; i < n; i++) {
        int r;
        if (e->split)
            r = seccomp_rule_add_array(ctx, e->action, nr, 1, &e->args[i]);
        else
            r = seccomp_rule_add_array(ctx, e->action, nr, e->nargs, e->nargs ? e->args : NULL);
        /* A system call that only some architectures have, none of them in this filter. */
        if (r < 0 && nr < 0 && (r == -EDOM || r == -EINVAL))
            return 0;
        if (r < 0)
            return reef_err_errno(err, r, "seccomp profile: syscalls[%d]: rule for %s", e->at,
                                  name);
    }
    return 0;
}

/* The rules of entry e for the system call named by string v. */
static int add_name(scmp_filter_ctx ctx, const struct reef_json_doc *d, const struct entry *e,
                    int v, struct budget *b, struct reef_err *err)
{
    char name[64];
    if (reef_json_get_str(d, v, name, sizeof(name), NULL) < 0)
        return 0; /* too long or with U+0000: no system call has such a name */
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* unknown here: skipped, as moby does */
    if (e->nargs > 0) {
        int cost = (int)(e->split ? e->nargs * 7 : 1 + 6 * e->nargs);
        for (unsigned i = 0; i < b->ntokens; i++)
            if (seccomp_syscall_resolve_name_arch(b->tokens[i], name) >= 0)
                b->cond_left -= cost;
        if (b->cond_left < 0)
            return reef_err_set(err, -E2BIG,
                                "seccomp profile: syscalls[%d]: argument conditions would take "
                                "more than %d instructions",
                                e->at, MAX_COND_INSNS);
    }
    char q[72];
    quote(d, v, q, sizeof(q));
    return add_rule(ctx, e, nr, q, err);
}

static int build(const struct reef_json_doc *d, const struct profile *pr, scmp_filter_ctx *out,
                 struct reef_err *err)
{
    struct ctx_guard g = {seccomp_init(pr->def_action)};
    if (!g.ctx)
        return reef_err_set(err, -EINVAL,
                            "seccomp profile: defaultAction: not supported by this kernel");
    struct budget b = {.cond_left = MAX_COND_INSNS, .ntokens = 1};
    b.tokens[0] = seccomp_arch_native();
    int r = 0;
    for (unsigned i = 0; i < pr->narches && r >= 0; i++) {
        uint32_t token = seccomp_arch_resolve_name(arch_names[pr->arches[i]].lib);
        r = seccomp_arch_add(g.ctx, token);
        if (r == -EEXIST) {
            r = 0;
        } else if (r < 0) {
            reef_err_errno(err, r, "seccomp profile: architecture %s cannot join a filter for %s",
                           arch_names[pr->arches[i]].scmp,
                           seccomp_arch_native() == token ? "itself" : "this machine");
        } else {
            b.tokens[b.ntokens++] = token;
        }
    }
    for (int i = 0; i < pr->nentries && r >= 0; i++) {
        const struct entry *e = &pr->entries[i];
        /* libseccomp refuses rules that repeat the default action; they change nothing. */
        if (!e->applies || e->action == pr->def_action)
            continue;
        if (reef_json_kind(d, e->names) == REEF_JSON_STRING) {
            r = add_name(g.ctx, d, e, e->names, &b, err);
            continue;
        }
        struct reef_json_iter it = reef_json_iter(d, e->names);
        while (r >= 0 && reef_json_next(d, &it))
            r = add_name(g.ctx, d, e, it.val, &b, err);
    }
    if (r < 0) {
        release_ctx(&g);
        return r;
    }
    *out = g.ctx;
    return 0;
}

static int export_prog(scmp_filter_ctx ctx, struct reef_seccomp_prog *prog, struct reef_err *err)
{
    int r = reef__seccomp_export(ctx, prog, err);
    return r < 0 ? reef_err_wrap(err, "seccomp profile") : 0;
}

int reef_seccomp_build_profile(const char *json, size_t len, uint64_t caps,
                               struct reef_seccomp_prog *prog, struct reef_err *err)
{
    memset(prog, 0, sizeof(*prog));
    if (len > REEF_SECCOMP_PROFILE_MAX_BYTES)
        return reef_err_set(err, -E2BIG, "seccomp profile: larger than %d bytes",
                            REEF_SECCOMP_PROFILE_MAX_BYTES);
    /* root object > syscalls > entry > args/includes > arg/caps: nothing valid nests deeper. */
    struct reef_json_limits lim = {.max_depth = 8, .max_tokens = 1 << 18};
    struct reef_json_doc d = REEF_JSON_DOC_INIT;
    int r = reef_json_parse(&d, json, len, &lim, err);
    if (r < 0) {
        reef_json_doc_free(&d);
        return reef_err_wrap(err, "seccomp profile");
    }
    struct profile pr = {.kernel = -1};
    scmp_filter_ctx ctx = NULL;
    r = parse(&d, caps, &pr, err);
    if (r >= 0)
        r = build(&d, &pr, &ctx, err);
    free(pr.entries);
    reef_json_doc_free(&d);
    if (r < 0)
        return r;
    r = export_prog(ctx, prog, err);
    seccomp_release(ctx);
    return r;
}
