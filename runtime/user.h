/* user: the container's user and groups, resolved from the image's own /etc/passwd and
 * /etc/group (never the host's: names mean what the image says they mean).
 *
 * A spec is what `reef run -u` and an image's User field hold: "", "app", "1000", "app:staff",
 * "1000:50", ":50". Numeric ids need no entry; names must exist. Supplementary groups are the
 * groups that list the user's name as a member. Files are opened inside the root filesystem
 * (openat2 RESOLVE_IN_ROOT), so an image's symlink cannot point the lookup at the host.
 * Pure logic apart from reef_user_resolve's file reads; any thread. */
#ifndef REEF_RUNTIME_USER_H
#define REEF_RUNTIME_USER_H

#include <stddef.h>
#include <sys/types.h>

#include "core/err.h"

#define REEF_USER_MAX_GROUPS 64

struct reef_user {
    uid_t uid;
    gid_t gid;
    int ngroups;
    gid_t groups[REEF_USER_MAX_GROUPS]; /* supplementary, without gid unless listed */
    char name[64];  /* empty when the uid has no passwd entry */
    char home[256]; /* from passwd, "/" when unknown */
};

/* Resolves spec against passwd and group file contents (either may be NULL: no such file). */
int reef_user_resolve_text(const char *passwd, const char *group, const char *spec,
                           struct reef_user *out, struct reef_err *err);

/* Resolves spec against the files under rootfs_fd (a directory fd of the container's root). */
int reef_user_resolve(int rootfs_fd, const char *spec, struct reef_user *out,
                      struct reef_err *err);

/* Opens path (absolute or relative) inside the root directory rootfs_fd, resolving symlinks as
 * if rootfs were "/". flags as for open(2). Returns an fd or -errno. */
int reef_rootfs_open(int rootfs_fd, const char *path, int flags);

#endif
