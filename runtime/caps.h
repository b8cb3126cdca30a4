/* caps: Linux capability sets for containers.
 *
 * A set is a 64-bit mask indexed by capability number. reef starts from Docker's default set,
 * applies --cap-add / --cap-drop with Docker's rules, and applies the result in the container's
 * init process just before exec. Pure logic except reef_caps_apply and reef_caps_last_cap.
 * Any thread; reef_caps_apply is async-signal-safe (it runs after clone). */
#ifndef REEF_RUNTIME_CAPS_H
#define REEF_RUNTIME_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define REEF_CAP_MAX 63 /* highest capability number a set can hold */
#define REEF_CAP_BIT(c) (UINT64_C(1) << (c))

/* CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP
 * NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE, as Docker grants by default. */
uint64_t reef_caps_default(void);
/* Every capability this kernel knows (0..cap_last_cap). */
uint64_t reef_caps_all(void);
/* /proc/sys/kernel/cap_last_cap, or the highest number reef knows when unreadable. */
int reef_caps_last_cap(void);

/* "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" -> 12. Returns the number or -EINVAL. */
int reef_caps_from_name(const char *name);
/* "CAP_NET_ADMIN"; NULL for numbers reef has no name for. */
const char *reef_caps_name(int cap);

/* Docker's rules: drop ALL starts from nothing, then adds apply; add ALL starts from every
 * capability, then drops apply; otherwise default minus drops plus adds, a capability both added
 * and dropped staying dropped. Unknown names fail with -EINVAL naming them. */
int reef_caps_adjust(uint64_t base, const char *const *add, int nadd, const char *const *drop,
                     int ndrop, uint64_t *out, struct reef_err *err);

/* "CAP_CHOWN,CAP_KILL" (empty for none). */
int reef_caps_format(uint64_t set, struct reef_buf *out);

/* Applies set to the calling process: capabilities outside it leave the bounding set; the
 * inheritable and ambient sets are emptied; permitted and effective become set when keep_effective
 * (a root user) and empty otherwise. Call after setuid/setgid. Returns 0 or -errno. */
int reef_caps_apply(uint64_t set, bool keep_effective);
/* The two halves of reef_caps_apply, for a process changing user in between: the bounding set
 * must be cut while CAP_SETPCAP is still effective, i.e. before setuid to a non-root user. */
int reef_caps_limit_bounding(uint64_t set);
int reef_caps_set(uint64_t set, bool keep_effective);

#endif
