/* mounts: the container's root filesystem and everything mounted into it.
 *
 * Runs in the container's init process after clone with a new mount namespace and before exec.
 * It mounts the overlay of the image's layers inside that namespace (so the mounts vanish with
 * the container), the API filesystems, the volumes and the per-container /etc files, then
 * pivot_roots into it and masks what a container must not see.
 *
 * Every target inside the image is resolved as if the root filesystem were "/" (openat2
 * RESOLVE_IN_ROOT) and mounted through /proc/self/fd/N, so an image's symlinks (say /proc -> /)
 * can never redirect a mount onto the host. Only called from the single-threaded child. */
#ifndef REEF_RUNTIME_MOUNTS_H
#define REEF_RUNTIME_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

enum reef_volume_kind { REEF_VOLUME_BIND, REEF_VOLUME_TMPFS };

struct reef_volume {
    enum reef_volume_kind kind;
    const char *source; /* host path for a bind; unused for tmpfs */
    const char *target; /* absolute path in the container */
    bool readonly;
    const char *options; /* tmpfs: extra mount data such as "size=64m"; may be NULL */
};

struct reef_rootfs_spec {
    const char *const *lowers; /* unpacked layer directories, topmost first */
    size_t nlowers;
    const char *upper; /* the container's writable layer and overlayfs work directory */
    const char *work;
    const char *rootfs; /* an empty directory to mount the root on */
    bool readonly;      /* --read-only */
    /* The upper layer is thrown away with the container (--rm): overlayfs may skip syncing it,
     * which makes unmounting it at exit much cheaper. */
    bool volatile_upper;
    const struct reef_volume *volumes;
    size_t nvolumes;
    /* Host files bound onto /etc/hosts, /etc/hostname, /etc/resolv.conf; NULL to leave alone. */
    const char *hosts;
    const char *hostname;
    const char *resolv;
    bool new_netns; /* sysfs can be mounted only in a network namespace of one's own */
    /* The root is mounted at rootfs already (reef_rootfs_mount_idmapped, for a container in a
     * user namespace): reef_rootfs_enter uses it as it is. */
    bool premounted;
};

/* Docker's masked and read-only paths, for reef inspect and tests. NULL-terminated. */
extern const char *const reef_masked_paths[];
extern const char *const reef_readonly_paths[];

/* Builds the root filesystem and pivots into it. The caller must be in a new mount namespace
 * (and a new PID namespace, for /proc). Leaves the working directory at "/". */
int reef_rootfs_enter(const struct reef_rootfs_spec *spec, struct reef_err *err);

/* For a container in a user namespace: mounts each layer at lower_base/<n> as an idmapped,
 * read-only mount (files owned by host root appear owned by the namespace's root: userns_fd names
 * a user namespace with the container's mapping), then the overlay of them at spec->rootfs.
 * Called by the shim in a mount namespace of its own, before the container is cloned (so the
 * container's mount namespace starts with the root mounted). */
int reef_rootfs_mount_idmapped(const struct reef_rootfs_spec *spec, int userns_fd,
                               const char *lower_base, struct reef_err *err);

/* Opens (creating what is missing, as directories, or a file when last_is_file) path inside the
 * root rootfd, with symlinks resolved inside it. Returns an O_PATH fd or -errno. */
int reef_rootfs_mkpath(int rootfd, const char *path, bool last_is_file);

#endif
