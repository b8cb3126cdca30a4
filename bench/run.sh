#!/bin/bash
# Container start-to-exit: `reef run --rm IMAGE /bin/true` (image already in the store, no
# network) against `crun run` and `runc run` on an equivalent bundle (the same busybox root
# filesystem, a fresh network namespace), in one run on one machine.
#   bench/run.sh [RUNS]   (default 30)
# Prints each runtime's median and the sum of its RUNS starts in milliseconds, once with each
# runtime's starts back to back and once interleaved. Needs root, crun, runc, skopeo,
# docker-registry, busybox-static (bench/install.sh). crun refuses this machine's hybrid cgroup layout, so crun
# and runc run in a private mount namespace with the cgroup2 mount at /sys/fs/cgroup/unified
# hidden, as docs/BENCHMARKS.md notes.
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

mkdir -p "$W/bundle"
cp -a "$W/img/tree/busybox" "$W/bundle/rootfs"
(cd "$W/bundle" && crun spec && jq '.process.args = ["/bin/true"] | .process.terminal = false' \
    config.json > c.json && mv c.json config.json)

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

# crun / runc: RUNS starts inside one private mount namespace (entered before the clock starts).
time_oci() {
    unshare -m --propagation private bash -c '
        umount /sys/fs/cgroup/unified 2> /dev/null || true
        for i in $(seq "$3"); do
            t0=$EPOCHREALTIME
            "$1" run --bundle "$2" "bench-$$-$i" > /dev/null
            t1=$EPOCHREALTIME
            echo "$t0 $t1"
        done' _ "$1" "$W/bundle" "$2" | elapsed
}

report() {
    for rt in reef crun runc; do
        printf '%-6s median %6s ms   %s in a row: %6s ms\n' "$rt" "$(median < "$W/$rt.$1")" \
            "$runs" "$(total < "$W/$rt.$1")"
    done
}

echo "# container start to exit, /bin/true, $runs runs each (milliseconds)"
echo "# $(uname -r), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
# Each runtime's starts one after another, as a script starting containers would.
time_reef "$runs" > "$W/reef.seq"
time_oci crun "$runs" > "$W/crun.seq"
time_oci runc "$runs" > "$W/runc.seq"
report seq
# The same, interleaved (reef, crun, runc, reef, ...): load from elsewhere falls on all three
# alike, and no start directly follows one of its own runtime. Moving a process into a v1
# cgroup through cgroup.procs, as crun and runc do, then waits for a full RCU grace period
# each time; back to back, the previous start's leaves it cheap.
: > "$W/reef.mix"; : > "$W/crun.mix"; : > "$W/runc.mix"
for i in $(seq "$runs"); do
    time_reef 1 >> "$W/reef.mix"
    time_oci crun 1 >> "$W/crun.mix"
    time_oci runc 1 >> "$W/runc.mix"
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
