/* seccomp_profile: Docker (moby) seccomp profiles, as given to `--security-opt seccomp=FILE`.
 *
 * A profile is the JSON of moby's profiles/seccomp/default.json: defaultAction and
 * defaultErrnoRet; architectures, or archMap (only the entry for the native architecture counts:
 * it and its subArchitectures join the filter); syscalls[], each with names (or the legacy name),
 * action, errnoRet, up to six args conditions {index, value, valueTwo, op}, and includes /
 * excludes filters. Filters follow moby: includes.caps keeps the entry only when the container
 * holds every listed capability, excludes.caps drops it when it holds any; arches compare with
 * the native architecture under Go's names ("amd64", "arm64", ...); minKernel ("4.8") compares
 * with the running kernel's release. As in runc, args on distinct indexes form one rule (all must
 * match) while several on the same index form one rule each (any may match); for MASKED_EQ value
 * is the mask and valueTwo the expected result. System call names libseccomp does not know for the
 * filter's architectures are skipped, as moby does, so one profile serves every architecture.
 *
 * Anything else wrong is an error naming the entry, e.g.
 *   seccomp profile: syscalls[3].args[0].op: unknown operator "SCMP_CMP_FOO"
 * and is found whatever the capabilities and kernel, since every entry is checked before filters
 * are applied. Not supported (rejected with an error): SCMP_ACT_NOTIFY, listenerPath and flags,
 * none of which a plain BPF program can carry. Keys match case-insensitively, as Go's
 * encoding/json does; unknown keys (comment, ...) are ignored.
 *
 * The result is the same plain BPF program as reef_seccomp_build_default's (runtime/seccomp.h),
 * installed by the container the same way. Any thread may build. */
#ifndef REEF_RUNTIME_SECCOMP_PROFILE_H
#define REEF_RUNTIME_SECCOMP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "runtime/seccomp.h"

/* Bounds on what a profile may ask for; moby's default profile is far below each. */
#define REEF_SECCOMP_PROFILE_MAX_BYTES (1024 * 1024)
#define REEF_SECCOMP_PROFILE_MAX_ENTRIES 1024 /* syscalls[] entries */
#define REEF_SECCOMP_PROFILE_MAX_NAMES 4096   /* system call names over all entries */
#define REEF_SECCOMP_PROFILE_MAX_ARGS 6       /* args per entry (a system call has six) */

/* Compiles the profile json[0..len) for a container holding the capability set caps
 * (runtime/caps.h). Returns 0 and fills prog, which the caller frees with reef_seccomp_prog_free;
 * or -EINVAL for a profile that is not valid, -E2BIG when it passes a bound above or compiles to
 * more than the kernel's 4096 instructions, -ENOMEM, or libseccomp's code when it refuses a rule
 * or architecture (-EEXIST: one rule with two actions; -EDOM: an architecture of the other byte
 * order), with prog left empty (nothing to free). Argument conditions are bounded by an estimate
 * of their size (about 4096 instructions) before libseccomp compiles them, since its compile time
 * grows steeply with them; whole profiles compile in well under a second. */
int reef_seccomp_build_profile(const char *json, size_t len, uint64_t caps,
                               struct reef_seccomp_prog *prog, struct reef_err *err);

/* Go's name for the native architecture as profiles' includes/excludes arches use it ("amd64",
 * "arm64", ...), or NULL on an architecture reef has no name for. */
const char *reef_seccomp_profile_native_arch(void);

#endif
