#!/bin/sh
# The scheduler: PODS pending pods (default 10,000, 100 replicas per ReplicaSet) onto NODES
# synthetic Ready nodes (default 500, every tenth tainted), three ways (bench/scheduler_bench.c):
#   decision  the pure logic alone (filters, scores, accounting) on a cluster model;
#   memory    the whole control loop through the in-process API on an in-memory store;
#   disk      the same on an on-disk store: every Binding and every Scheduled event is its own
#             fsync'd SQLite transaction.
#
# Usage: bench/scheduler.sh [PODS [NODES]]
# Needs: make MODE=release build/libreef.a
set -eu
pods=${1:-10000}
nodes=${2:-500}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /var/tmp/reef-bench-sched.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$root"
make -s -j2 MODE=release build/libreef.a >/dev/null
gcc -std=gnu11 -O2 -I. -D_GNU_SOURCE -o "$tmp/scheduler_bench" bench/scheduler_bench.c \
    build/libreef.a -lsqlite3 -luv_a -lmbedtls -lmbedx509 -lmbedcrypto -larchive -lacl \
    -lseccomp -lyaml -lzstd -lz -lm -lpthread
echo "# $(nproc) CPUs, $(uname -r), store on $(df -T "$tmp" | awk 'NR==2 {print $2}')"
REEF_LOG_LEVEL=error "$tmp/scheduler_bench" "$pods" "$nodes" "$tmp"
