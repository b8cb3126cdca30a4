/* seccomp: system call filters for containers.
 *
 * reef's default profile is an allow-list equivalent to Docker's default: everything a normal
 * program needs is allowed, everything else fails with EPERM; system calls that need a capability
 * (mount and unshare need CAP_SYS_ADMIN, ptrace CAP_SYS_PTRACE, ...) are allowed only when the
 * container holds it; clone may not create namespaces without CAP_SYS_ADMIN; clone3 answers ENOSYS
 * (so libcs fall back to clone, whose flags can be checked). The filter covers the native
 * architecture and its compat ABIs (x86 and x32 on x86_64, arm on aarch64).
 *
 * Building (libseccomp, allocates) happens in the parent; the result is a plain BPF program that
 * the container's init installs with one system call after clone, where allocation is unsafe.
 * Any thread may build; reef_seccomp_install is async-signal-safe. */
#ifndef REEF_RUNTIME_SECCOMP_H
#define REEF_RUNTIME_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct reef_seccomp_prog {
    void *filter;  /* struct sock_filter[len], malloc'd; freed by reef_seccomp_prog_free */
    unsigned short len;
};

/* Builds the default profile for a container holding the capability set caps (runtime/caps.h).
 * The caller frees prog with reef_seccomp_prog_free. */
int reef_seccomp_build_default(uint64_t caps, struct reef_seccomp_prog *prog,
                               struct reef_err *err);
void reef_seccomp_prog_free(struct reef_seccomp_prog *prog);
/* The same, through a cache of compiled programs in cache_dir (created when missing): building
 * with libseccomp costs milliseconds on every container start, reading the cached program
 * microseconds. Entries are keyed by architecture, capability set and a hash of the profile
 * itself, so a reef with another profile never reads a stale one. */
int reef_seccomp_build_default_cached(uint64_t caps, const char *cache_dir,
                                      struct reef_seccomp_prog *prog, struct reef_err *err);

/* Installs prog in the calling thread. no_new_privs must already be set, or the caller must hold
 * CAP_SYS_ADMIN. Returns 0 or -errno. */
int reef_seccomp_install(const struct reef_seccomp_prog *prog);

/* Number of system calls the default profile allows for caps on this architecture (for tests). */
int reef_seccomp_default_count(uint64_t caps);

#endif
