#include "runtime/platform.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

void reef_platform_host(struct reef_platform *out)
{
    memset(out, 0, sizeof(*out));
    strcpy(out->os, "linux");
#if defined(__x86_64__)
    strcpy(out->arch, "amd64");
#elif defined(__aarch64__)
    strcpy(out->arch, "arm64");
    strcpy(out->variant, "v8");
#elif defined(__arm__)
    strcpy(out->arch, "arm");
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
    strcpy(out->variant, "v7");
#else
    strcpy(out->variant, "v6");
#endif
#elif defined(__i386__)
    strcpy(out->arch, "386");
#elif defined(__riscv) && __riscv_xlen == 64
    strcpy(out->arch, "riscv64");
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    strcpy(out->arch, "ppc64le");
#elif defined(__s390x__)
    strcpy(out->arch, "s390x");
#else
#error "unknown architecture"
#endif
}

static bool token_ok(const char *s, size_t n)
{
    if (n == 0 || n >= 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    return true;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

int reef_platform_parse(const char *s, struct reef_platform *out, struct reef_err *err)
{
    memset(out, 0, sizeof(*out));
    const char *parts[3] = {0};
    size_t lens[3] = {0};
    int n = 0;
    const char *p = s;
    while (n < 3) {
        const char *slash = strchr(p, '/');
        parts[n] = p;
        lens[n] = slash ? (size_t)(slash - p) : strlen(p);
        n++;
        if (!slash)
            break;
        p = slash + 1;
        if (n == 3)
            return reef_err_set(err, -EINVAL, "invalid platform \"%.64s\": too many parts", s);
    }
    for (int i = 0; i < n; i++)
        if (!token_ok(parts[i], lens[i]))
            return reef_err_set(err, -EINVAL, "invalid platform \"%.64s\"", s);
    int ai = 0;
    if (n == 1) {
        strcpy(out->os, "linux");
    } else {
        memcpy(out->os, parts[0], lens[0]);
        ai = 1;
    }
    memcpy(out->arch, parts[ai], lens[ai]);
    if (ai + 1 < n) {
        if (lens[ai + 1] >= sizeof(out->variant))
            return reef_err_set(err, -EINVAL, "invalid platform \"%.64s\": bad variant", s);
        memcpy(out->variant, parts[ai + 1], lens[ai + 1]);
    }
    lower(out->os);
    lower(out->arch);
    lower(out->variant);
    static const struct {
        const char *alias, *arch, *variant;
    } aliases[] = {{"x86_64", "amd64", ""}, {"x86-64", "amd64", ""}, {"aarch64", "arm64", ""},
                   {"armhf", "arm", "v7"},  {"armel", "arm", "v6"},  {"i386", "386", ""},
                   {"i686", "386", ""}};
    for (size_t i = 0; i < REEF_ARRAY_LEN(aliases); i++) {
        if (strcmp(out->arch, aliases[i].alias) == 0) {
            strcpy(out->arch, aliases[i].arch);
            if (!out->variant[0])
                strcpy(out->variant, aliases[i].variant);
        }
    }
    if (strcmp(out->arch, "arm64") == 0 && !out->variant[0])
        strcpy(out->variant, "v8");
    if (strcmp(out->arch, "arm") == 0 && !out->variant[0])
        strcpy(out->variant, "v7");
    if (strcmp(out->os, "linux") != 0)
        return reef_err_set(err, -EINVAL,
                            "invalid platform \"%.64s\": reef runs linux images only", s);
    return 0;
}

void reef_platform_format(const struct reef_platform *p, char *out, unsigned outsz)
{
    snprintf(out, outsz, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

static int arm_level(const char *variant)
{
    if (variant[0] == 'v' && variant[1] >= '5' && variant[1] <= '8' && !variant[2])
        return variant[1] - '0';
    return 0;
}

int reef_platform_score(const struct reef_platform *want, const struct reef_platform *have)
{
    if (strcmp(want->os, have->os) != 0 || strcmp(want->arch, have->arch) != 0)
        return 0;
    if (strcmp(want->arch, "arm") == 0) {
        /* Older ARM instruction sets run on newer cores; an image without a variant is taken
         * as v7, the common case. */
        int w = arm_level(want->variant[0] ? want->variant : "v7");
        int h = arm_level(have->variant[0] ? have->variant : "v7");
        if (!w || !h || h > w)
            return 0;
        return 10 - (w - h);
    }
    if (strcmp(want->arch, "arm64") == 0) {
        const char *hv = have->variant[0] ? have->variant : "v8";
        return strcmp(hv, "v8") == 0 ? 10 : 0;
    }
    if (!have->variant[0] || strcmp(have->variant, want->variant) == 0)
        return 10;
    return 0;
}
