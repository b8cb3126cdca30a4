#!/bin/bash
# Pull benchmark for docs/BENCHMARKS.md: a >= 50 MiB multi-layer image (tests/images/mkbig.sh)
# and busybox, from a local docker-registry on 127.0.0.1 into an empty store, with reef,
# `podman pull` and `docker pull` side by side in one run. Prints the median wall time of RUNS
# pulls each, and reef's peak RSS (/usr/bin/time -v "Maximum resident set size"). Each tool's
# store is emptied and the file system synced before every timed pull.
# Usage: bench/pull.sh [RUNS]   (as root; REEF=path overrides build/reef)
set -u
runs=${1:-5}
here=$(cd "$(dirname "$0")" && pwd)
REEF=${REEF:-$here/../build/reef}
REEF=$(readlink -f "$REEF")
. "$here/../tests/images/registry.sh"
w=$(mktemp -d /tmp/reef-bench-pull.XXXXXX)
dockerd_pid=
cleanup() {
    [ -n "$dockerd_pid" ] && kill "$dockerd_pid" 2> /dev/null && wait "$dockerd_pid" 2> /dev/null
    registry_stop
    rm -rf "$w"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

echo "# building the test images"
bash "$here/../tests/images/mkimage.sh" "$w/small" > /dev/null || exit 1
bash "$here/../tests/images/mkbig.sh" "$w/bigout" 4 16 > /dev/null || exit 1
registry_start "$w/reg" 0 || exit 1
R=$REGISTRY_ADDR
registry_push "$w/small/oci/busybox" busybox:latest --preserve-digests || exit 1
registry_push "$w/bigout/big" big:latest --preserve-digests || exit 1
big_mib=$(du -sm "$w/bigout/big/blobs" | cut -f1)
nlayers=$(jq '.layers | length' "$w/bigout/big/blobs/sha256/$(jq -r '.manifests[0].digest' "$w/bigout/big/index.json" | cut -d: -f2)")
echo "# big image: $big_mib MiB compressed in $nlayers layers; $runs runs each; $(nproc) CPUs"

bench_reef() { # IMAGE RUN -> prints the time, records the peak RSS
    local img=$1 i=$2
    rm -rf "$w/reef-data"
    sync # the removal's journal commit is not the pull's cost
    /usr/bin/time -v -o "$w/time.$i" "$REEF" image --data-dir "$w/reef-data" pull -q "$R/$img" > /dev/null || { echo "reef pull failed" >&2; return 1; }
    awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + t[k]; print s}' "$w/time.$i"
    awk -F': ' '/Maximum resident set size/ {print $2}' "$w/time.$i" >> "$w/rss.$img"
}

bench_podman() { # IMAGE -> prints the time
    local img=$1 s e
    rm -rf "$w/podman-root" "$w/podman-run"
    sync
    s=$(date +%s.%N)
    podman --root "$w/podman-root" --runroot "$w/podman-run" --storage-driver overlay \
        pull -q --tls-verify=false "$R/$img" > /dev/null 2> "$w/podman.err" || { cat "$w/podman.err" >&2; return 1; }
    e=$(date +%s.%N)
    awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f\n", b - a}'
}

dk() { docker -H "unix://$w/docker.sock" "$@"; }
bench_docker() { # IMAGE -> prints the time
    local img=$1 s e
    dk rmi -f "$R/$img" > /dev/null 2>&1
    dk image prune -af > /dev/null 2>&1
    sync
    s=$(date +%s.%N)
    dk pull -q "$R/$img" > /dev/null 2> "$w/docker.err" || { cat "$w/docker.err" >&2; return 1; }
    e=$(date +%s.%N)
    awk -v a="$s" -v b="$e" 'BEGIN {printf "%.3f\n", b - a}'
}

have_podman=false have_docker=false
if command -v podman > /dev/null; then
    have_podman=true
else
    echo "# podman: not installed (apt-get install podman)"
fi
if command -v dockerd > /dev/null; then
    dockerd --data-root "$w/docker-data" --exec-root "$w/docker-exec" --pidfile "$w/docker.pid" \
        -H "unix://$w/docker.sock" --iptables=false --ip6tables=false --bridge=none \
        --insecure-registry "$R" > "$w/dockerd.log" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 100); do dk info > /dev/null 2>&1 && break; sleep 0.2; done
    if dk info > /dev/null 2>&1; then
        have_docker=true
    else
        echo "# docker: dockerd did not start here:"
        tail -5 "$w/dockerd.log" | sed 's/^/#   /'
    fi
else
    echo "# docker: dockerd is not installed (apt-get install docker.io)"
fi

# Runs interleave the tools, so load from other users of the machine falls on all of them alike.
declare -A res
for img in busybox big; do
    : > "$w/t.reef" && : > "$w/t.podman" && : > "$w/t.docker"
    for i in $(seq "$runs"); do
        bench_reef "$img" "$i" >> "$w/t.reef" || exit 1
        $have_podman && { bench_podman "$img" >> "$w/t.podman" || exit 1; }
        $have_docker && { bench_docker "$img" >> "$w/t.docker" || exit 1; }
    done
    res[reef,$img]=$(median < "$w/t.reef")
    $have_podman && res[podman,$img]=$(median < "$w/t.podman")
    $have_docker && res[docker,$img]=$(median < "$w/t.docker")
done
rm -rf "$w/podman-root" "$w/podman-run"

printf '%-8s %12s %12s\n' tool "busybox (s)" "big (s)"
for tool in reef podman docker; do
    printf '%-8s %12s %12s\n' "$tool" "${res[$tool,busybox]:-n/a}" "${res[$tool,big]:-n/a}"
done
echo "reef peak RSS, big image: $(median < "$w/rss.big") KiB median, $(sort -n "$w/rss.big" | tail -1) KiB max"
echo "reef peak RSS, busybox: $(sort -n "$w/rss.busybox" | tail -1) KiB max"
