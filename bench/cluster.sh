#!/bin/bash
# reef server as a single-node cluster: a 10-replica Deployment from `kubectl apply` to all pods
# Running (image cached), a crashed container's first restart, and the server's memory and CPU
# with 10 idle pods.
#   bench/cluster.sh [ROUNDS]   (default 5)
# Everything runs inside a network namespace the script creates (the bridge reef0 and the pods'
# addresses live there), with the test registry on its loopback. Needs root, kubectl, jq, curl,
# docker-registry, skopeo, busybox-static. Prints milliseconds and KiB.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
REEF=${REEF:-$ROOT/build/reef}
rounds=${1:-5}
if [ -z "${REEF_BENCH_NETNS:-}" ]; then
    ns=reef-bench-$$
    ip netns add "$ns" || exit 1
    trap 'ip netns del "$ns" 2> /dev/null' EXIT
    ip -n "$ns" link set lo up
    REEF_BENCH_NETNS=$ns REEF=$REEF nsenter --net="/run/netns/$ns" bash "$0" "$@"
    exit $?
fi

W=$(mktemp -d /tmp/reef-bench-cluster.XXXXXX)
. "$ROOT/tests/images/registry.sh"
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2> /dev/null && wait "$pid" 2> /dev/null
    local ids
    ids=$("$REEF" ps --data-dir "$W/data" -aq 2> /dev/null)
    [ -n "$ids" ] && "$REEF" rm --data-dir "$W/data" -f $ids > /dev/null 2>&1
    for m in $(awk -v d="$W/data/pods" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount -l "$m" 2> /dev/null
    done
    registry_stop
    rm -rf "$W"
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }

bash "$ROOT/tests/images/mkimage.sh" "$W/img" > /dev/null 2>&1 || { echo "mkimage failed"; exit 1; }
registry_start "$W/reg" 0 > /dev/null 2>&1 || { echo "registry failed"; exit 1; }
registry_push "$W/img/oci/busybox" busybox:latest > /dev/null 2>&1 || exit 1
IMG=$REGISTRY_ADDR/busybox:latest
port=$(registry_free_port)
"$REEF" server --data-dir "$W/data" --bind-address 127.0.0.1 --https-listen-port "$port" \
    --write-kubeconfig "$W/kubeconfig" --node-name bench > "$W/server.log" 2>&1 &
pid=$!
K() { kubectl --kubeconfig "$W/kubeconfig" --cache-dir "$W/cache" "$@"; }
until [ -s "$W/kubeconfig" ] && K get --raw /readyz > /dev/null 2>&1; do
    kill -0 "$pid" || { cat "$W/server.log"; exit 1; }
    sleep 0.01
done
CA=$W/data/server/tls/ca.crt
TOKEN=$(cat "$W/data/server/admin-token")
api() { curl -sf --cacert "$CA" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$port$1"; }
"$REEF" image pull --data-dir "$W/data" "$IMG" > /dev/null || exit 1
running() { api "/api/v1/namespaces/default/pods?labelSelector=app%3D$1" | jq '[.items[] | select(.status.phase == "Running" and .metadata.deletionTimestamp == null)] | length'; }
gone() { [ "$(api "/api/v1/namespaces/default/pods?labelSelector=app%3D$1" | jq '.items | length')" = 0 ]; }
deployment() {
    cat << EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: sleep
        image: $IMG
        imagePullPolicy: IfNotPresent
        command: ["sleep", "100000"]
EOF
}

# 1. kubectl apply of 10 replicas -> all Running
times=()
for r in $(seq 1 "$rounds"); do
    deployment "ten$r" 10 > "$W/ten.yaml"
    t0=$(now_ms)
    K apply -f "$W/ten.yaml" > /dev/null
    while [ "$(running "ten$r")" != 10 ]; do sleep 0.02; done
    t1=$(now_ms)
    times+=($((t1 - t0)))
    K delete deployment "ten$r" > /dev/null
    while ! gone "ten$r"; do sleep 0.1; done
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
echo "kubectl apply, 10 replicas, to all Running: ${times[*]} ms (sorted: $sorted)"

# 2. a crashed container's first restart: kill -9 its process, until the new one runs
deployment crash 1 > "$W/crash.yaml"
K apply -f "$W/crash.yaml" > /dev/null
while [ "$(running crash)" != 1 ]; do sleep 0.05; done
restarts=()
for r in $(seq 1 "$rounds"); do
    # a fresh pod each round, so each restart is a first restart (no back-off)
    pod=$(api "/api/v1/namespaces/default/pods?labelSelector=app%3Dcrash" | jq -r '.items[0].metadata.name')
    id=$(api "/api/v1/namespaces/default/pods/$pod" | jq -r '.status.containerStatuses[0].containerID' | sed 's|reef://||')
    cpid=$("$REEF" inspect --data-dir "$W/data" "$id" | jq -r '.[0].State.Pid')
    t0=$(now_ms)
    kill -9 "$cpid"
    until [ "$(api "/api/v1/namespaces/default/pods/$pod" | jq -r '.status.containerStatuses[0] | "\(.restartCount) \(.state.running != null)"')" = "1 true" ]; do
        sleep 0.01
    done
    t1=$(now_ms)
    restarts+=($((t1 - t0)))
    K delete pod "$pod" --wait=true > /dev/null
    while [ "$(running crash)" != 1 ]; do sleep 0.05; done
done
sorted=$(printf '%s\n' "${restarts[@]}" | sort -n | tr '\n' ' ')
echo "crashed container seen and running again (first restart, API view): ${restarts[*]} ms (sorted: $sorted)"
K delete deployment crash > /dev/null
while ! gone crash; do sleep 0.1; done

# 3. ten idle pods: the server's memory and CPU
deployment idle 10 > "$W/idle.yaml"
K apply -f "$W/idle.yaml" > /dev/null
while [ "$(running idle)" != 10 ]; do sleep 0.1; done
sleep 20 # let probes, leases and the store settle
rss=$(awk '/^VmRSS:/{print $2}' /proc/$pid/status)
cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
sleep 30
cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
shim_mem() { # PID -> "RSS/anonymous/PSS" in KiB
    awk '/^Rss:/{r=$2} /^Pss:/{p=$2} /^Anonymous:/{a=$2} END{printf "%s/%s/%s", r, a, p}' "/proc/$1/smaps_rollup"
}
shims=$(for p in $(pgrep -f "reef shim --containers $W/data"); do shim_mem "$p"; echo; done | sort | uniq -c | awk '{printf "%s x %s  ", $1, $2}')
echo "10 idle pods: server RSS $rss KiB, server CPU $((cpu1 - cpu0)) ticks in 30 s ($(getconf CLK_TCK) ticks/s)"
echo "  shims, RSS/anonymous/PSS KiB (file pages are the reef binary's, shared): $shims"
K delete deployment idle > /dev/null
