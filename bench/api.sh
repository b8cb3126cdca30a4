#!/bin/bash
# reef's API server against Debian's etcd 3.4 in one run (issue 5), plus the list and watch
# targets that have no packaged peer:
#   1. small-object writes: N creates then N updates of ~100-byte ConfigMaps, one client waiting
#      for each reply, then 50 clients at once. reef: POST/PUT over HTTPS on kept-alive
#      connections, bearer token, every write fsync'd (reef's default store). etcd: a single
#      member started here on 127.0.0.1 with a fresh data directory (fsync per commit, its
#      default), the same JSON as the value, sent two ways: through etcd's v3 JSON gateway (POST
#      /v3/kv/put, base64 key and value) over kept-alive HTTP (bench/tools/apiload.c), and over
#      its native gRPC API, KV/Put on one HTTP/2 connection as etcd's Go client does
#      (bench/tools/etcdgrpc.c). The gateway forwards every request to etcd's gRPC server over a
#      second local connection, so gRPC is etcd's faster path. Debian packages no `benchmark`
#      tool, and `etcdctl put` in a loop would measure process start-up.
#   2. GET /api/v1/pods with 1,000 pods as a Table (and as a PodList), one kept-alive connection.
#   3. WATCHES watches, each on its own TLS connection (as kubectl and client-go open them), then
#      updates of a watched ConfigMap timed until every watcher has read the event; the server's
#      RSS with the watches open.
# reef's load (and the gateway's) comes from bench/tools/apiload.c (core/http_client on one libuv
# loop), etcd's gRPC load from bench/tools/etcdgrpc.c; both are built here.
#
# The writes run twice: on the machine as it is, then with every core kept out of its idle state
# by SCHED_IDLE busy loops (which yield to any real work at once). On the development VMs a thread
# blocked in fdatasync while every vCPU idles wakes ~4 ms late (docs/STORE.md); etcd's Go
# runtime keeps threads awake and escapes it, reef's single loop thread does not.
#
# Usage: bench/api.sh [N [WATCHES [ROUNDS [WRITE_ROUNDS]]]]   (defaults 1000, 10000, 5, 3)
#        PARTS="writes list watch" (the default) picks the parts to run; "watch-table" adds the
#        watches as `kubectl get -w` asks for them (one-row Tables).
# Needs root (RLIMIT_NOFILE for 10,000 connections), etcd-server (bench/install.sh).
# All traffic stays on 127.0.0.1.
set -euo pipefail
n=${1:-1000}
watches=${2:-10000}
rounds=${3:-5}
wrounds=${4:-3}
parts=" ${PARTS:-writes list watch} "
cd "$(dirname "$0")/.."
REEF=${REEF:-$PWD/build/reef}
W=$(mktemp -d /var/tmp/reef-bench-api.XXXXXX) # on disk: fsync on a tmpfs would cost nothing
pid=
etcd_pid=
spin_pid=
cleanup() {
    for p in $spin_pid $etcd_pid $pid; do
        kill "$p" 2> /dev/null || true
        wait "$p" 2> /dev/null || true
    done
    rm -rf "$W"
}
trap cleanup EXIT INT TERM

make -s -j2 MODE=release build/reef build/libreef.a > /dev/null
gcc -std=gnu11 -O2 -g -I. -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -static \
    -o "$W/apiload" bench/tools/apiload.c build/libreef.a \
    -lsqlite3 -luv_a -lmbedtls -lmbedx509 -lmbedcrypto -larchive -lacl -lseccomp -lyaml -lzstd \
    -lz -lm -lpthread 2> "$W/cc.log" || { cat "$W/cc.log"; exit 1; }
gcc -std=gnu11 -O2 -g -I. -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
    -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -static \
    -o "$W/etcdgrpc" bench/tools/etcdgrpc.c

# one descriptor per watch, in the server and in the load tool
need=$((watches + 1024))
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
    ulimit -Hn "$need" 2> /dev/null || echo "# cannot raise the descriptor limit to $need"
fi
ulimit -n "$(ulimit -Hn)"

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r) $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$(df -T "$W" | awk 'NR==2 {print $2}') file system, commit $(git rev-parse --short HEAD)"

port=$((20000 + RANDOM % 12000))
# A reef server on a fresh data directory: sets pid, URL, CA, TOKEN.
start_reef() {
    local d=$W/reef-$1
    "$REEF" server --data-dir "$d" --bind-address 127.0.0.1 --https-listen-port "$port" \
        --write-kubeconfig "$d.kubeconfig" --disable-agent --disable-scheduler \
        --disable-controller-manager > "$d.log" 2>&1 &
    pid=$!
    CA=$d/server/tls/ca.crt
    TOKEN=$d/server/admin-token
    until [ -s "$CA" ] && [ -s "$TOKEN" ] && curl -sf --cacert "$CA" \
        -H "Authorization: Bearer $(cat "$TOKEN")" "https://127.0.0.1:$port/readyz" > /dev/null 2>&1; do
        kill -0 "$pid" 2> /dev/null || { cat "$d.log"; exit 1; }
        sleep 0.01
    done
    URL=https://127.0.0.1:$port
}
stop_reef() {
    kill "$pid"
    wait "$pid" 2> /dev/null || true
    pid=
}
start_reef writes
reef_load() { "$W/apiload" --ca "$CA" --token-file "$TOKEN" "$@"; }

eport=$((port + 1))
have_etcd=
if [[ $parts == *" writes "* ]] && command -v etcd > /dev/null; then
    etcd --name bench --data-dir "$W/etcd" \
        --listen-client-urls "http://127.0.0.1:$eport" --advertise-client-urls "http://127.0.0.1:$eport" \
        --listen-peer-urls "http://127.0.0.1:$((eport + 1))" \
        --initial-advertise-peer-urls "http://127.0.0.1:$((eport + 1))" \
        --initial-cluster "bench=http://127.0.0.1:$((eport + 1))" > "$W/etcd.log" 2>&1 &
    etcd_pid=$!
    i=0
    until curl -sf "http://127.0.0.1:$eport/health" > /dev/null 2>&1; do
        i=$((i + 1))
        [ $i -gt 200 ] && { echo "etcd did not start:"; tail -20 "$W/etcd.log"; exit 1; }
        sleep 0.05
    done
    have_etcd=1
    echo "# $(etcd --version | head -1): 'etcd' = v3 JSON gateway (POST /v3/kv/put, kept-alive" \
        "HTTP/1.1), 'etcd-grpc' = gRPC KV/Put (one HTTP/2 connection)"
elif [[ $parts == *" writes "* ]]; then
    echo "# etcd not installed (bench/install.sh): reef alone"
fi
EURL=http://127.0.0.1:$eport

wbytes() { awk '/^write_bytes:/ {print $2}' "/proc/$1/io"; }
# PID LOAD-COMMAND...: runs it and adds what PID sent to the disk per write (/proc/PID/io)
disk() {
    local pid_=$1 b0 b1
    shift
    b0=$(wbytes "$pid_")
    "$@"
    b1=$(wbytes "$pid_")
    echo "$(basename "$1") disk_bytes_per_write=$(((b1 - b0) / (2 * n)))"
}
# SETTING ROUND: reef, then etcd both ways, one client then 50; lines prefixed for the summary
writes() {
    local c
    for c in 1 50; do
        disk "$pid" reef_load writes -n "$n" -c "$c" --tag "$1-$2-$c" "$URL"
        [ -z "$have_etcd" ] && continue
        disk "$etcd_pid" "$W/apiload" writes --etcd -n "$n" -c "$c" --tag "$1-$2-$c" "$EURL"
        disk "$etcd_pid" "$W/etcdgrpc" -n "$n" -c "$c" --tag "$1-$2-$c-g" "$eport"
    done | sed "s/^/$1 round=$2 /" | tee -a "$W/writes.txt"
}
# best and every round's rate per system, and reef's ratio to each etcd path round by round
summary() {
    awk '$3 ~ /^(reef|etcd|etcd-grpc)$/ && $5 ~ /^ops=/ {
        split($6, c, "="); split($7, r, "="); k = $1 " " c[2] " " $4
        split($2, rr, "="); rate[k, $3, rr[2]] = r[2]; keys[k] = 1
        if (rr[2] > maxr) maxr = rr[2] }
    END {
        for (k in keys) {
            line = k ":"
            split("reef etcd etcd-grpc", who, " ")
            for (w = 1; w <= 3; w++) {
                best = 0; all = ""
                for (rd = 1; rd <= maxr; rd++) if ((k, who[w], rd) in rate) {
                    v = rate[k, who[w], rd]; all = all (all ? "," : "") v; if (v > best) best = v }
                if (best) line = line sprintf("  %s best %d (%s)", who[w], best, all)
            }
            for (w = 2; w <= 3; w++) {
                rs = ""
                for (rd = 1; rd <= maxr; rd++) if ((k, "reef", rd) in rate && (k, who[w], rd) in rate)
                    rs = rs (rs ? "," : "") sprintf("%.2f", rate[k, "reef", rd] / rate[k, who[w], rd])
                if (rs) line = line sprintf("  reef/%s %s", who[w], rs)
            }
            print line
        }
    }' "$W/writes.txt" | sort
}
if [[ $parts == *" writes "* ]]; then
    echo "## writes: $n creates then $n updates of ~100-byte ConfigMaps, $wrounds rounds;" \
        "'as-is' = the machine as it is, 'awake' = every core kept busy by SCHED_IDLE loops"
    for r in $(seq "$wrounds"); do
        writes as-is "$r"
    done
    for _ in $(seq "$(nproc)"); do
        chrt --idle 0 sh -c 'while :; do :; done' &
        spin_pid="$spin_pid $!"
    done
    for r in $(seq "$wrounds"); do
        writes awake "$r"
    done
    for p in $spin_pid; do
        kill "$p"
        wait "$p" 2> /dev/null || true
    done
    spin_pid=
    # What the disk itself cost each of them: etcd's WAL fsyncs and reef's syncs, by their own
    # metrics (time inside fdatasync), over both settings.
    echo "## disk syncs during the writes (each system's own metrics)"
    curl -s --cacert "$CA" -H "Authorization: Bearer $(cat "$TOKEN")" "$URL/metrics" |
        awk '$1 == "reef_store_syncs_total" {n = $2} $1 == "reef_store_sync_duration_seconds_sum" {s = $2}
             END {if (n) printf "reef: %d syncs, mean %.0f us in fdatasync\n", n, s / n * 1e6}'
    if [ -n "$etcd_pid" ]; then
        curl -s "$EURL/metrics" |
            awk '$1 == "etcd_disk_wal_fsync_duration_seconds_count" {n = $2}
                 $1 == "etcd_disk_wal_fsync_duration_seconds_sum" {s = $2}
                 END {if (n) printf "etcd: %d WAL fsyncs, mean %.0f us\n", n, s / n * 1e6}'
    fi
    if [ -n "$etcd_pid" ]; then
        kill "$etcd_pid"
        wait "$etcd_pid" 2> /dev/null || true
        etcd_pid=
    fi
    echo "## writes summary, ops/s (setting, clients, phase: each system's best and every round)"
    summary
fi

if [[ $parts == *" list "* ]]; then
echo "## GET /api/v1/pods, 1,000 pods, one kept-alive connection (target: Table under 50 ms)"
reef_load pods -n 1000 -c 4 --tag p "$URL"
reef_load get -n 21 --table "$URL" /api/v1/pods
reef_load get -n 21 "$URL" /api/v1/pods
fi

for part in watch watch-table; do
    [[ $parts == *" $part "* ]] || continue
    stop_reef
    start_reef "$part" # memory figures from a server that served nothing else
    echo "## $watches watches ($part), one TLS connection each (target: all get an update in" \
        "under 1 s)"
    table=
    [ "$part" = watch ] || table=--table
    reef_load watch -n "$watches" --rounds "$rounds" --insecure --pid "$pid" --tag "$part" \
        $table "$URL"
    sleep 2
    echo "server RSS after the watches ended: $(awk '/^VmRSS:/{print $2}' /proc/$pid/status) KiB"
done
