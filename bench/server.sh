#!/bin/bash
# reef server: start to /readyz, idle memory and CPU, and listing 1,000 pods as a Table.
#   bench/server.sh [PODS]   (default 1000)
# Runs a server on 127.0.0.1 with a fresh data directory, talks to it with curl and the admin
# token, and stops it by PID. Prints milliseconds and KiB. (k3s is not packaged by Debian, so no
# peer runs beside it here; the issue's comparison figures are k3s users' reports.)
set -eu
cd "$(dirname "$0")/.."
pods=${1:-1000}
REEF=${REEF:-$PWD/build/reef}
W=$(mktemp -d /tmp/reef-bench-server.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null; rm -rf "$W"; }
trap cleanup EXIT
port=$((20000 + RANDOM % 12000))
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

t0=$(now_ms)
"$REEF" server --data-dir "$W" --bind-address 127.0.0.1 --https-listen-port "$port" \
    --write-kubeconfig "$W/kubeconfig" --disable-agent --disable-scheduler \
    --disable-controller-manager > "$W/server.log" 2>&1 &
pid=$!
CA=$W/server/tls/ca.crt
until [ -s "$CA" ] && [ -s "$W/server/admin-token" ] &&
    curl -sf --cacert "$CA" -H "Authorization: Bearer $(cat "$W/server/admin-token")" \
        "https://127.0.0.1:$port/readyz" > /dev/null 2>&1; do
    kill -0 "$pid" || { cat "$W/server.log"; exit 1; }
    sleep 0.005
done
t1=$(now_ms)
echo "start to /readyz (fresh data directory): $((t1 - t0)) ms"
TOKEN=$(cat "$W/server/admin-token")
api() { curl -sf --cacert "$CA" -H "Authorization: Bearer $TOKEN" "$@"; }

sleep 5
rss=$(awk '/^VmRSS:/{print $2}' /proc/$pid/status)
cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 10
cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
echo "idle: RSS $rss KiB, CPU $((cpu1 - cpu0)) ticks in 10 s ($(getconf CLK_TCK) ticks/s)"

for i in $(seq "$pods"); do
    printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%d","labels":{"app":"bench"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}\n' "$i"
done > "$W/pods.jsonl"
t0=$(now_ms)
while read -r body; do
    api -o /dev/null -X POST -H 'Content-Type: application/json' -d "$body" \
        "https://127.0.0.1:$port/api/v1/namespaces/default/pods"
done < "$W/pods.jsonl"
t1=$(now_ms)
echo "created $pods pods one by one (curl per request, fsync'd): $((t1 - t0)) ms"
for i in $(seq 11); do
    api -o /dev/null -w '%{time_total}\n' -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' \
        "https://127.0.0.1:$port/api/v1/pods"
done | sort -n | awk '{a[NR]=$1} END {printf "GET /api/v1/pods as a Table (%d pods): median %.1f ms\n", '"$pods"', a[6]*1000}'
echo "RSS after: $(awk '/^VmRSS:/{print $2}' /proc/$pid/status) KiB"
