#!/bin/bash
# Container start-to-exit: `reef run --rm IMAGE /bin/true` (image already in the store, no
# network) against `crun run` and `runc run`, in one run on one machine, on two bundles with the
# same busybox root filesystem and a fresh network namespace:
#   equivalent: the isolation `reef run` applies by default, as podman hands it to crun: Docker's
#               default capability set and Docker's default seccomp profile (Debian's
#               /usr/share/containers/seccomp.json, resolved for those capabilities and this
#               architecture into the OCI form);
#   bare:       `crun spec` as it comes (three capabilities, no seccomp filter).
#   bench/run.sh [RUNS]   (default 30)
# Prints each runtime's median and the sum of its RUNS starts in milliseconds, once with each
# runtime's starts back to back and once interleaved. Needs root, crun, runc, skopeo,
# docker-registry, busybox-static, golang-github-containers-common (bench/install.sh). crun
# refuses this machine's hybrid cgroup layout, so crun and runc run in a private mount namespace
# with the cgroup2 mount at /sys/fs/cgroup/unified hidden, as docs/BENCHMARKS.md notes.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-30}
REEF=${REEF:-$PWD/build/reef}
W=$(mktemp -d /tmp/reef-bench.XXXXXX)
export REEF_DATA_DIR=$W/data
cleanup() {
    "$REEF" rm -f $("$REEF" ps -aq 2> /dev/null) > /dev/null 2>&1 || true
    [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2> /dev/null
    rm -rf "$W"
}
trap cleanup EXIT
. tests/images/registry.sh
tests/images/mkimage.sh "$W/img" > /dev/null
registry_start "$W/reg" > /dev/null
registry_push "$W/img/oci/busybox" bench/busybox:latest
IMG=$REGISTRY_ADDR/bench/busybox:latest
"$REEF" image pull --data-dir "$REEF_DATA_DIR" "$IMG" > /dev/null
"$REEF" run --rm --network none "$IMG" /bin/true # warm the seccomp cache

# Docker's default capabilities (runtime/caps.c) and the seccomp profile for them.
CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",
  "CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT",
  "CAP_KILL","CAP_AUDIT_WRITE"]'
PROFILE=/usr/share/containers/seccomp.json
[ -r "$PROFILE" ] || { echo "$PROFILE missing: bench/install.sh" >&2; exit 1; }
case $(uname -m) in
x86_64) arch=amd64 sarch=SCMP_ARCH_X86_64 ;;
aarch64) arch=arm64 sarch=SCMP_ARCH_AARCH64 ;;
armv7l | armv6l) arch=arm sarch=SCMP_ARCH_ARM ;;
*) echo "no seccomp architecture for $(uname -m)" >&2; exit 1 ;;
esac
# A moby profile's rules apply when their includes hold and their excludes do not.
jq --argjson caps "$CAPS" --arg arch "$arch" --arg sarch "$sarch" '
    def any_in($set): any(.[]; . as $x | $set | index($x) != null);
    {defaultAction, defaultErrnoRet,
     architectures: (.archMap[] | select(.architecture == $sarch) | [.architecture] + .subArchitectures),
     syscalls: [.syscalls[] | select(
        ((.includes.caps // []) | all(.[]; . as $x | $caps | index($x) != null)) and
        ((.includes.arches // []) | length == 0 or index($arch) != null) and
        ((.excludes.caps // []) | any_in($caps) | not) and
        ((.excludes.arches // []) | index($arch) == null))
        | del(.includes, .excludes, .comment)]}' "$PROFILE" > "$W/seccomp.json"
mkdir -p "$W/rootfs" "$W/bare" "$W/equivalent"
cp -a "$W/img/tree/busybox/." "$W/rootfs/"
(cd "$W/bare" && crun spec && jq --arg root "$W/rootfs" \
    '.root.path = $root | .process.args = ["/bin/true"] | .process.terminal = false' \
    config.json > c.json && mv c.json config.json)
jq --argjson caps "$CAPS" --slurpfile sc "$W/seccomp.json" \
    '.process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
     | .linux.seccomp = $sc[0]' "$W/bare/config.json" > "$W/equivalent/config.json"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }
total() { awk '{s+=$1} END {printf "%.0f", s}'; }
# Times come from bash's $EPOCHREALTIME: no `date` process around each start.
elapsed() { awk '{printf "%.2f\n", ($2 - $1) * 1000}'; }

time_reef() {
    local t0 t1 i
    for i in $(seq "$1"); do
        t0=$EPOCHREALTIME
        "$REEF" run --rm --network none "$IMG" /bin/true
        t1=$EPOCHREALTIME
        echo "$t0 $t1" | elapsed
    done
}

# RUNTIME BUNDLE RUNS: starts inside one private mount namespace (entered before the clock starts).
time_oci() {
    unshare -m --propagation private bash -c '
        umount /sys/fs/cgroup/unified 2> /dev/null || true
        for i in $(seq "$3"); do
            t0=$EPOCHREALTIME
            "$1" run --bundle "$2" "bench-$$-$i" > /dev/null
            t1=$EPOCHREALTIME
            echo "$t0 $t1"
        done' _ "$1" "$W/$2" "$3" | elapsed
}
peers="crun runc crun-bare runc-bare"
time_peer() {
    case $1 in
    *-bare) time_oci "${1%-bare}" bare "$2" ;;
    *) time_oci "$1" equivalent "$2" ;;
    esac
}

report() {
    local rt ref
    ref=$(median < "$W/crun.$1")
    for rt in reef $peers; do
        printf '%-10s median %6s ms   %s in a row: %6s ms\n' "$rt" "$(median < "$W/$rt.$1")" \
            "$runs" "$(total < "$W/$rt.$1")"
    done
    echo "reef / crun (equivalent bundle): $(median < "$W/reef.$1" | awk -v c="$ref" '{printf "%.2f", $1 / c}')"
}

echo "# container start to exit, /bin/true, $runs runs each (milliseconds)"
echo "# $(uname -r), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
# Each runtime's starts one after another, as a script starting containers would.
time_reef "$runs" > "$W/reef.seq"
for rt in $peers; do
    time_peer "$rt" "$runs" > "$W/$rt.seq"
done
report seq
# The same, interleaved (reef, crun, runc, ..., reef, ...): load from elsewhere falls on all
# alike, and no start directly follows one of its own runtime. Moving a process into a v1
# cgroup through cgroup.procs, as crun and runc do, then waits for a full RCU grace period
# each time; back to back, the previous start's leaves it cheap.
for rt in reef $peers; do : > "$W/$rt.mix"; done
for i in $(seq "$runs"); do
    time_reef 1 >> "$W/reef.mix"
    for rt in $peers; do
        time_peer "$rt" 1 >> "$W/$rt.mix"
    done
done
echo "# interleaved"
report mix

# A detached idle container: the shim's memory once it has settled.
id=$("$REEF" run -d --network none "$IMG" sleep 600)
sleep 3
spid=$(sed -n 's/.*"shimPid":\([0-9]*\).*/\1/p' "$REEF_DATA_DIR/containers/$id/state.json")
echo "idle shim: $(grep VmRSS /proc/$spid/status | awk '{print $2}') KiB RSS," \
    "$(grep -E '^Private_(Clean|Dirty)' /proc/$spid/smaps_rollup | awk '{s+=$2} END {print s}') KiB private"
"$REEF" rm -f "$id" > /dev/null
