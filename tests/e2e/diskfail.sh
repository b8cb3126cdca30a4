# End-to-end: the disk under a running `reef server` fails. The server's data directory is an
# ext4 file system of the test's own (a loop-mounted image), which the test then shuts down, so
# that every read, write and sync on it fails with EIO, as when a disk dies. No client may be
# told a write succeeded that the disk does not have: the writes in flight are not answered as
# done, /readyz and /livez report the failure, later writes are refused with the reason, and
# the server still stops on SIGTERM. Needs root (mount, the shutdown ioctl) and kubectl.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.inc"

KUBECTL=${KUBECTL:-kubectl}
REEF_SRC=$(cd "$(dirname "$0")/../.." && pwd)
FSDOWN=$REEF_SRC/build/helpers/fsdown
if [ "$(id -u)" != 0 ] || ! command -v "$KUBECTL" > /dev/null 2>&1 || [ ! -x "$FSDOWN" ]; then
    echo "not ok - root, kubectl and build/helpers/fsdown (make tests) are here"
    exit 1
fi

tmpdir D
cd "$D" || exit 1
PORT=$(free_port)
KCFG=$D/kubeconfig
K() { "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$D/cache" "$@" < /dev/null; }
has() { # STRING CMD...
    local s=$1 out
    shift
    out=$("$@" 2>&1)
    printf '%s\n' "$out"
    printf '%s\n' "$out" | grep -qF -- "$s"
}

disk() {
    truncate -s 64M disk.img && mkfs.ext4 -q -F disk.img && mkdir data &&
        mount -o loop disk.img data
}
t "a file system of the test's own on a loop device" disk
# the loop device goes with the last unmount
defer umount -l "$D/data"
defer stop_server
t "the server runs on it" start_server --disable-agent --disable-scheduler \
    --disable-controller-manager
t "a write before the failure" has "configmap/before created" K create configmap before
# what the client needs, read while the disk still answers
cp data/server/tls/ca.crt ca.crt
cp data/server/admin-token token
api() { # CURL-ARGS... PATH: the body, then the HTTP status (000: no answer)
    curl -s --max-time 10 --cacert ca.crt -H "Authorization: Bearer $(cat token)" \
        -w '\n%{http_code}\n' "$@"
}
create() {
    api -X POST -H 'Content-Type: application/json' \
        -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$1\"}}" \
        "https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps"
}

t "the disk fails" "$FSDOWN" "$D/data"
not_done() {
    local out
    out=$(create after)
    printf '%s\n' "$out"
    [ "$(printf '%s\n' "$out" | tail -1)" != 201 ]
}
t "a write the disk did not take is not answered as done" not_done
t "/readyz reports the failure" has "writes since the last sync may be lost" \
    api "https://127.0.0.1:$PORT/readyz"
t "/livez too, with status 500" has "500" api "https://127.0.0.1:$PORT/livez"
t "a later write is refused with the reason" has "writes since the last sync may be lost" \
    create later
t "the server stops on SIGTERM" stop_server
