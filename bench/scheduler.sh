#!/bin/sh
# The scheduler: PODS pending pods (default 10,000, 100 replicas per ReplicaSet) onto NODES
# synthetic Ready nodes (default 500, every tenth tainted), three ways (bench/scheduler_bench.c):
#   decision  the pure logic alone (filters, scores, accounting) on a cluster model;
#   memory    the whole control loop through the in-process API on an in-memory store;
#   disk      the same on an on-disk store: every Binding and every Scheduled event is its own
#             SQLite transaction, fsync'd, then with group commit (one sync per loop iteration,
#             as in `reef server`); run twice, the second time with every core kept awake.
#
# Usage: bench/scheduler.sh [PODS [NODES]]
# Needs: make MODE=release build/libreef.a
set -eu
pods=${1:-10000}
nodes=${2:-500}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /var/tmp/reef-bench-sched.XXXXXX)
spin_pid=
cleanup() {
    for p in $spin_pid; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
cd "$root"
make -s -j2 MODE=release build/libreef.a >/dev/null
gcc -std=gnu11 -O2 -I. -D_GNU_SOURCE -o "$tmp/scheduler_bench" bench/scheduler_bench.c \
    build/libreef.a -lsqlite3 -luv_a -lmbedtls -lmbedx509 -lmbedcrypto -larchive -lacl \
    -lseccomp -lyaml -lzstd -lz -lm -lpthread
echo "# $(nproc) CPUs, $(uname -r), store on $(df -T "$tmp" | awk 'NR==2 {print $2}')"
echo "## idle machine"
"$tmp/scheduler_bench" "$pods" "$nodes" "$tmp"
# On the development VMs a thread blocked in fdatasync while every vCPU idles wakes ~4 ms late
# (docs/STORE.md); keeping the cores out of idle (SCHED_IDLE loops yield to any real work) shows
# what the writes themselves cost.
echo "## every core kept awake (one SCHED_IDLE loop per cpu): disk only"
rm -f "$tmp"/state.db* "$tmp"/group.db*
for _ in $(seq "$(nproc)"); do
    chrt --idle 0 sh -c 'while :; do :; done' &
    spin_pid="$spin_pid $!"
done
"$tmp/scheduler_bench" "$pods" "$nodes" "$tmp" disk-only
