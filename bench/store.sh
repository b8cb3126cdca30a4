#!/bin/sh
# Side-by-side: sequential single-client create/update of small objects, every write fsync'd,
# reef's object store against Debian's etcd 3.4 in the same run, on the same file system.
#
#   reef: bench/store_bench.c drives orchestrate/store.h in process (the store alone: no API
#         layer yet), a file store with synchronous=FULL, one fsync'd transaction per write.
#   etcd: a single member on 127.0.0.1 with a fresh data dir (its default: fsync of the WAL per
#         commit), driven over gRPC (etcdserverpb.KV/Put, hand-encoded protobuf) by a
#         python3-grpcio client waiting for each reply: Debian packages no `benchmark` tool, and
#         `etcdctl put` in a loop would measure process start-up.
#
# Both run twice: on an otherwise idle machine, then with every core kept out of its idle state by
# a SCHED_IDLE busy loop (which yields to any real work at once). On the development VMs a
# process blocked in fdatasync while all vCPUs are idle wakes ~4 ms late (the syscall itself takes
# ~0.1-0.3 ms; under strace, or with any core busy, the 4 ms vanish). etcd's Go runtime keeps
# threads awake and so mostly escapes that; a single-threaded store blocking in fsync does not.
# The second run removes the artifact for both.
#
# Usage: bench/store.sh [COUNT [VALUE_BYTES]]     (defaults 1000, 100)
# Needs: make MODE=release build/libreef.a; apt-get install -y etcd-server etcd-client python3-grpcio
set -eu
n=${1:-1000}
vbytes=${2:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /var/tmp/reef-bench-store.XXXXXX)
etcd_pid=
spin_pid=
cleanup() {
    for p in $spin_pid; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "$etcd_pid" ]; then
        kill "$etcd_pid" 2>/dev/null || true
        wait "$etcd_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cd "$root"
make -s -j2 MODE=release build/libreef.a >/dev/null
gcc -std=gnu11 -O2 -I. -D_GNU_SOURCE -o "$tmp/store_bench" bench/store_bench.c build/libreef.a \
    -lsqlite3 -luv -lmbedtls -lmbedx509 -lmbedcrypto -larchive -lseccomp -lyaml -lzstd -lz -lm \
    -lpthread

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m) $(nproc) cpus; $n sequential creates then $n updates, ${vbytes}-byte values"
echo "# file system: $(df -T "$tmp" | awk 'NR==2 {print $2}')"

if ! command -v etcd >/dev/null; then
    echo "etcd: not installed (apt-get install -y etcd-server etcd-client); reef alone:"
    "$tmp/store_bench" "$tmp/state.db" "$n" "$vbytes"
    exit 0
fi
port=23790
etcd --name bench --data-dir "$tmp/etcd" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
    --initial-cluster bench=http://127.0.0.1:23800 >"$tmp/etcd.log" 2>&1 &
etcd_pid=$!
i=0
until ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$port" endpoint health >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "etcd did not start:"
        tail -20 "$tmp/etcd.log"
        exit 1
    fi
    sleep 0.1
done
echo "# $(etcd --version | head -1)"

cat >"$tmp/etcd_put.py" <<'EOF'
import sys, time, grpc

port, n, vbytes, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def varint(x):
    out = bytearray()
    while True:
        b = x & 0x7F
        x >>= 7
        out.append(b | (0x80 if x else 0))
        if not x:
            return bytes(out)

def put_request(key, value):
    # etcdserverpb.PutRequest: field 1 key (bytes), field 2 value (bytes)
    return b"\x0a" + varint(len(key)) + key + b"\x12" + varint(len(value)) + value

ch = grpc.insecure_channel("127.0.0.1:" + port)
put = ch.unary_unary("/etcdserverpb.KV/Put",
                     request_serializer=lambda b: b, response_deserializer=lambda b: b)
put(put_request(b"warmup", b"x"))
for phase, fill in (("create", b"c"), ("update", b"u")):
    # The same JSON a reef ConfigMap of this size is, under a kube-apiserver-like key.
    obj = b'{"apiVersion":"v1","kind":"ConfigMap","data":{"v":"' + fill * vbytes + b'"}}'
    lat = []
    start = time.perf_counter()
    for i in range(n):
        req = put_request(b"/registry/configmaps/%s/k%06d" % (run.encode(), i), obj)
        t0 = time.perf_counter()
        put(req)
        lat.append((time.perf_counter() - t0) * 1e6)
    total = time.perf_counter() - start
    lat.sort()
    print("etcd %s ops=%d ops_per_s=%.0f median_us=%.0f p99_us=%.0f"
          % (phase, n, n / total, lat[n // 2], lat[int(n * 0.99)]))

# The client's and gRPC's own share: a read (RangeRequest, field 1 key) costs no fsync.
rng = ch.unary_unary("/etcdserverpb.KV/Range",
                     request_serializer=lambda b: b, response_deserializer=lambda b: b)
lat = []
for i in range(min(n, 500)):
    key = b"/registry/configmaps/%s/k%06d" % (run.encode(), i)
    t0 = time.perf_counter()
    rng(b"\x0a" + varint(len(key)) + key)
    lat.append((time.perf_counter() - t0) * 1e6)
lat.sort()
print("etcd get (client + gRPC floor, no fsync) median_us=%.0f" % lat[len(lat) // 2])
EOF

run_both() {
    rm -f "$tmp/state.db" "$tmp/state.db-wal" "$tmp/state.db-shm"
    "$tmp/store_bench" "$tmp/state.db" "$n" "$vbytes"
    /usr/bin/python3 "$tmp/etcd_put.py" "$port" "$n" "$vbytes" "$1"
}

echo "## idle machine"
run_both idle
echo "## every core kept awake (one SCHED_IDLE loop per cpu)"
for _ in $(seq "$(nproc)"); do
    chrt --idle 0 sh -c 'while :; do :; done' &
    spin_pid="$spin_pid $!"
done
run_both awake
for p in $spin_pid; do
    kill "$p"
    wait "$p" 2>/dev/null || true
done
spin_pid=
