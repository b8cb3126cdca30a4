#!/bin/bash
# Container start-to-exit: `reef run --rm IMAGE /bin/true` (image already in the store, no
# network) against `crun run` and `runc run` on an equivalent bundle (the same busybox root
# filesystem, a fresh network namespace), in one run on one machine.
#   bench/run.sh [RUNS]   (default 30; also times RUNS containers one after another)
# Prints medians and totals in milliseconds. Needs root, crun, runc, skopeo, docker-registry,
# busybox-static (bench/install.sh). crun refuses this machine's hybrid cgroup layout, so crun
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

ms() { echo $(( ($2 - $1) / 1000000 )).$(( ($2 - $1) / 10000 % 100 )); }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }

time_reef() {
    local t0 t1 i
    for i in $(seq "$runs"); do
        t0=$(date +%s%N)
        "$REEF" run --rm --network none "$IMG" /bin/true
        t1=$(date +%s%N)
        ms "$t0" "$t1"
    done
}

# crun / runc, each start timed inside one private mount namespace.
time_oci() {
    unshare -m --propagation private bash -c '
        umount /sys/fs/cgroup/unified 2> /dev/null || true
        rt=$1 bundle=$2 runs=$3
        for i in $(seq "$runs"); do
            t0=$(date +%s%N)
            "$rt" run --bundle "$bundle" "bench-$$-$i" > /dev/null
            t1=$(date +%s%N)
            echo $(( (t1 - t0) / 1000000 )).$(( (t1 - t0) / 10000 % 100 ))
        done' _ "$1" "$W/bundle" "$runs"
}

echo "# container start to exit, /bin/true, $runs runs each (milliseconds)"
echo "# $(uname -r), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
r=$(time_reef)
c=$(time_oci crun)
u=$(time_oci runc)
total() { awk '{s+=$1} END {printf "%.0f", s}'; }
printf '%-6s median %6s ms   %s in a row: %6s ms\n' reef "$(echo "$r" | median)" "$runs" "$(echo "$r" | total)"
printf '%-6s median %6s ms   %s in a row: %6s ms\n' crun "$(echo "$c" | median)" "$runs" "$(echo "$c" | total)"
printf '%-6s median %6s ms   %s in a row: %6s ms\n' runc "$(echo "$u" | median)" "$runs" "$(echo "$u" | total)"

# A detached idle container: the shim's memory once it has settled.
id=$("$REEF" run -d --network none "$IMG" sleep 600)
sleep 3
spid=$(sed -n 's/.*"shimPid":\([0-9]*\).*/\1/p' "$REEF_DATA_DIR/containers/$id/state.json")
echo "idle shim: $(grep VmRSS /proc/$spid/status | awk '{print $2}') KiB RSS," \
    "$(grep -E '^Private_(Clean|Dirty)' /proc/$spid/smaps_rollup | awk '{s+=$2} END {print s}') KiB private"
"$REEF" rm -f "$id" > /dev/null
