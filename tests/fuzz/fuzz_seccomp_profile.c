/* fuzz_seccomp_profile: arbitrary bytes as a Docker seccomp profile. Nothing may crash, leak or
 * run for long; a failure leaves no program behind and a success a non-empty one within the
 * kernel's limit. The first byte picks the capability set, so filters on caps are taken both ways.
 */
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/caps.h"
#include "runtime/seccomp_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #c);              \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t caps = reef_caps_default();
    if (size > 0 && data[0] == ' ')
        caps |= REEF_CAP_BIT(CAP_SYS_ADMIN) | REEF_CAP_BIT(CAP_NET_ADMIN);
    struct reef_seccomp_prog prog;
    struct reef_err err = {0};
    int r = reef_seccomp_build_profile((const char *)data, size, caps, &prog, &err);
    if (r == 0) {
        ASSERT(prog.filter != NULL && prog.len > 0 && prog.len <= 4096);
        reef_seccomp_prog_free(&prog);
    } else {
        ASSERT(r < 0 && err.code == r && err.msg[0] != '\0');
        ASSERT(prog.filter == NULL && prog.len == 0);
    }
    return 0;
}
