#!/bin/bash
# reef image end to end: pulls from Debian's docker-registry (plain HTTP, TLS + htpasswd, bearer
# tokens), a misbehaving registry for every bad input, trees compared file by file with what
# tests/images/mkimage.sh built, archives round-tripped with skopeo. Needs root (overlay mounts
# in a private mount namespace, owners), docker-registry, skopeo, busybox-static, zstd, jq,
# openssl, apache2-utils (htpasswd -B) and python3 with the cryptography module.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../images/registry.sh"

for tool in docker-registry skopeo busybox zstd jq openssl htpasswd python3 unshare; do
    command -v "$tool" > /dev/null || { echo "not ok - $tool is installed"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "not ok - image tests run as root"; exit 1; }

tmpdir work
D=$work/data
img() { "$REEF" image --data-dir "$D" "$@"; }

bash "$here/../images/mkimage.sh" "$work/out" > /dev/null 2>&1 || { echo "not ok - mkimage.sh"; exit 1; }
out=$work/out

# What a tree looks like: type, mode, owner, size and link target of every entry (not times).
listing() {
    (cd "$1" && find . -mindepth 1 \( -type f -printf '%P f %m %U:%G %s\n' \) -o \
        \( -type l -printf '%P l %U:%G %l\n' \) -o \( -type d -printf '%P d %m %U:%G\n' \) -o \
        \( -type c -printf '%P c %m %U:%G\n' \) | LC_ALL=C sort)
}
same_tree() {
    [ -n "$1" ] && [ -d "$1" ] && [ -n "$2" ] && [ -d "$2" ] || { echo "not directories: '$1' '$2'"; return 1; }
    diff <(listing "$1") <(listing "$2") && diff -r --no-dereference "$1" "$2"
}
export -f listing same_tree
# The merged view of an image's layers (overlayfs, in a private mount namespace) against a tree.
same_merged() {
    local ref=$1 tree=$2 lower mnt
    lower=$(img inspect "$ref" | jq -r '[.Layers[].dir] | reverse | join(":")') || return 1
    mnt=$(mktemp -d "$work/mnt.XXXXXX")
    unshare -m --propagation private bash -c \
        "mount -t overlay overlay -o ro,lowerdir=$lower '$mnt' && same_tree '$mnt' '$tree'"
}
layer_dir() { img inspect "$1" | jq -r ".Layers[$2].dir"; }
# The store as files (temporary and lock files and the SQLite files aside), plus the index's view.
store_state() {
    (cd "$D/images" && find . -path ./layers/tmp -prune -o -path ./blobs/tmp -prune -o \
        -name 'index.db*' -prune -o -printf '%P %y %s\n' | LC_ALL=C sort)
    img ls
    img ls -q | sort -u | while read -r id; do img inspect "$id"; done
}

# --- plain HTTP registry
registry_start "$work/reg1" 0 || { echo "not ok - registry starts"; exit 1; }
defer registry_stop
R=$REGISTRY_ADDR
for i in busybox layered multi; do
    t "push $i with skopeo" registry_push "$out/oci/$i" "$i:latest" --preserve-digests
done

t_expect_rc 2 "image without a subcommand is a usage error" img
t_expect_rc 2 "pull without an image is a usage error" img pull
t_expect_rc 2 "an unknown option is a usage error" img pull --bogus x
t "pull busybox over plain HTTP" img pull "$R/busybox"
t "busybox unpacks to the tree mkimage built" same_tree "$(layer_dir "$R/busybox" 0)" "$out/tree/busybox"
t "inspect names the platform and the layer" \
    bash -c "$(declare -f img); D='$D' REEF='$REEF'; img inspect $R/busybox | jq -e '.Platform == \"linux/$(dpkg --print-architecture)\" and (.Layers | length) == 1 and (.RepoTags[0] == \"$R/busybox:latest\")'"
t "pull layered (gzip, zstd and plain layers)" img pull "$R/layered:latest"
t "layered keeps its three layers' media types" \
    bash -c "D='$D'; '$REEF' image --data-dir '$D' inspect $R/layered | jq -e '[.Layers[].mediaType] == [\"application/vnd.oci.image.layer.v1.tar+gzip\",\"application/vnd.oci.image.layer.v1.tar+zstd\",\"application/vnd.oci.image.layer.v1.tar\"]'"
t "layered shares busybox's unpacked layer" \
    test "$(layer_dir "$R/layered" 0)" = "$(layer_dir "$R/busybox" 0)"
t "layered: whiteout and opaque directory, merged view equals the tree" same_merged "$R/layered" "$out/tree/layered"
t "layered: the whiteout is a 0:0 character device" \
    python3 -c "import os,stat,sys; s=os.lstat(sys.argv[1]+'/data/a'); assert stat.S_ISCHR(s.st_mode) and s.st_rdev == 0, s; assert os.getxattr(sys.argv[1]+'/data/dir', 'trusted.overlay.opaque') == b'y'" "$(layer_dir "$R/layered" 2)"
t "pull multi picks this machine's platform" img pull "$R/multi"
t "multi for this machine is busybox" \
    test "$(img inspect "$R/multi" | jq -r .Id)" = "$(img inspect "$R/busybox" | jq -r .Id)"
other=arm64
[ "$(dpkg --print-architecture)" = arm64 ] && other=amd64
t "pull --platform linux/$other picks the other entry" img pull --platform "linux/$other" "$R/multi"
t "the other entry's layer holds its marker" \
    bash -c "[ \"\$(cat '$(layer_dir "$R/multi" 0)/arch')\" = $other ] && '$REEF' image --data-dir '$D' inspect $R/multi | jq -e '.Platform == \"linux/$other\"'"
t "--platform that a single-platform image is not: refused" bash -c "! '$REEF' image --data-dir '$D' pull -q --platform linux/$other $R/busybox 2> '$work/pf.err' && grep -q 'the image is for linux/$(dpkg --print-architecture), not linux/$other' '$work/pf.err'"
t "pull by digest" img pull "$R/busybox@$(img inspect "$R/busybox" | jq -r .Digest)"
t "tag and look up by the new name" bash -c "'$REEF' image --data-dir '$D' tag $R/busybox mine/bb:v1 && '$REEF' image --data-dir '$D' inspect mine/bb:v1 > /dev/null"
t "look up by an ID prefix" img inspect "$(img inspect "$R/layered" | jq -r .Id | cut -c8-19)"
t "push busybox as a Docker schema 2 manifest" registry_push "$out/oci/busybox" dockerfmt:latest --format v2s2
t "pull a Docker schema 2 manifest" bash -c "'$REEF' image --data-dir '$D' pull -q $R/dockerfmt && '$REEF' image --data-dir '$D' inspect $R/dockerfmt | jq -e '.Layers[0].mediaType == \"application/vnd.docker.image.rootfs.diff.tar.gzip\"'"
t "push multi as a Docker manifest list" registry_push "$out/oci/multi" dockerlist:latest --format v2s2
t "pull from a Docker manifest list picks this platform" bash -c "'$REEF' image --data-dir '$D' pull -q $R/dockerlist && [ \"\$('$REEF' image --data-dir '$D' inspect $R/dockerlist | jq -r .Platform)\" = linux/$(dpkg --print-architecture) ]"
t "ls lists the images" bash -c "'$REEF' image --data-dir '$D' ls | grep -q '$R/layered'"

# Two pulls of one image at once share the work and both succeed.
D2=$work/data2
"$REEF" image --data-dir "$D2" pull -q "$R/layered" > "$work/c1" 2>&1 &
p1=$!
"$REEF" image --data-dir "$D2" pull -q "$R/layered" > "$work/c2" 2>&1 &
p2=$!
wait $p1
s1=$?
wait $p2
s2=$?
t "two concurrent pulls of one image both succeed" bash -c "cat '$work/c1' '$work/c2'; [ $s1 = 0 ] && [ $s2 = 0 ]"
t "concurrent pulls leave exactly three layers" test "$(find "$D2/images/layers" -mindepth 1 -maxdepth 1 -name '????????????????????????????????????????????????????????????????' | wc -l)" = 3

# --- archives: reef exports, skopeo reads; skopeo writes, reef imports
t "export layered as an OCI archive" img export "$R/layered" "$work/layered-oci.tar"
t "skopeo reads reef's archive with the same digest" \
    bash -c "skopeo inspect oci-archive:'$work/layered-oci.tar' | jq -e '.Digest == \"$(img inspect "$R/layered" | jq -r .Digest)\"'"
t "skopeo copies reef's archive out, verifying every blob" \
    skopeo --insecure-policy copy -q "oci-archive:$work/layered-oci.tar" "oci:$work/layered-copy:latest"
DI=$work/import
imp() { "$REEF" image --data-dir "$DI" "$@"; }
t "skopeo writes a docker archive" skopeo --insecure-policy copy -q "oci:$out/oci/busybox:latest" "docker-archive:$work/bb-docker.tar:example.com/x/bb:v1"
t "reef imports the docker archive under its RepoTags" bash -c "'$REEF' image --data-dir '$DI' import '$work/bb-docker.tar' | grep -qx example.com/x/bb:v1"
t "the imported docker archive unpacks to the tree" \
    same_tree "$("$REEF" image --data-dir "$DI" inspect example.com/x/bb:v1 | jq -r '.Layers[0].dir')" "$out/tree/busybox"
t "skopeo writes an OCI archive of layered" skopeo --insecure-policy copy -q "oci:$out/oci/layered:latest" "oci-archive:$work/layered-sk.tar:latest"
zstd -q -f "$work/layered-sk.tar" -o "$work/layered-sk.tar.zst"
gzip -c "$work/bb-docker.tar" > "$work/bb-docker.tar.gz"
t "reef imports a zstd-compressed OCI archive" imp import "$work/layered-sk.tar.zst"
t "reef imports a gzip-compressed docker archive" imp import "$work/bb-docker.tar.gz"
t "the imported OCI archive has layered's ID" \
    bash -c "'$REEF' image --data-dir '$DI' inspect $(img inspect "$R/layered" | jq -r .Id) > /dev/null"
t "reef imports its own export" imp import "$work/layered-oci.tar"
t "the import of reef's export is named as exported" imp inspect "$R/layered"
t "skopeo writes a multi-platform OCI archive" skopeo --insecure-policy copy -q --all "oci:$out/oci/multi:latest" "oci-archive:$work/multi-sk.tar:latest"
t "import of an index picks --platform" \
    bash -c "id=\$('$REEF' image --data-dir '$DI' import --platform linux/$other '$work/multi-sk.tar') && '$REEF' image --data-dir '$DI' inspect \$id | jq -e '.Platform == \"linux/$other\"'"
t_expect_rc 1 "import of a file that is not an archive fails" imp import /etc/hostname
# An archive whose files are symlinks out of it (blobs -> a host directory) must not read the
# host's files, even ones with the right digests.
python3 - "$work/evil.tar" "$work/outside" << 'EOF'
import hashlib, io, json, os, sys, tarfile
out = sys.argv[2]
os.makedirs(out + "/sha256", exist_ok=True)
man = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
d = hashlib.sha256(man).hexdigest()
open(out + "/sha256/" + d, "wb").write(man)
idx = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + d, "size": len(man), "annotations": {"io.containerd.image.name": "evil:v1"}}]}).encode()
with tarfile.open(sys.argv[1], "w") as t:
    def add(name, data=None, link=None):
        ti = tarfile.TarInfo(name)
        if link:
            ti.type, ti.linkname = tarfile.SYMTYPE, link
            t.addfile(ti)
        else:
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add("index.json", idx)
    add("blobs", link=out)
EOF
t "import of an archive whose blobs point out of it fails" \
    bash -c "! '$REEF' image --data-dir '$DI' import '$work/evil.tar' 2> '$work/evil.err' && grep -q 'no such file in the archive' '$work/evil.err'"

# --- rm and prune
t "rm the layered name removes its own layers" img rm "$R/layered"
t "busybox's layer survives rm of layered" test -d "$(layer_dir "$R/busybox" 0)"
t "rm of an unknown image fails naming it" bash -c "! '$REEF' image --data-dir '$D' rm nosuch:v9 2> '$work/rm.err' && grep -q 'nosuch:v9 not found' '$work/rm.err'"
t "prune keeps what images use" bash -c "'$REEF' image --data-dir '$D' prune && '$REEF' image --data-dir '$D' inspect $R/busybox > /dev/null && test -d \"\$('$REEF' image --data-dir '$D' inspect $R/busybox | jq -r '.Layers[0].dir')\""

# --- TLS with a test CA and htpasswd basic auth
pki=$work/pki
registry_test_pki "$pki" || echo "not ok - test PKI and htpasswd"
tls_pid=
registry_stop_tls() { [ -n "$tls_pid" ] && kill "$tls_pid" 2> /dev/null && wait "$tls_pid" 2> /dev/null; }
plain_pid=$REGISTRY_PID
REGISTRY_PID=
registry_start "$work/reg2" 0 tls "$pki/srv.crt" "$pki/srv.key" htpasswd "$pki/htpasswd" || echo "not ok - TLS registry starts"
tls_pid=$REGISTRY_PID
T=$REGISTRY_ADDR
REGISTRY_PID=$plain_pid
defer registry_stop_tls
t "push busybox to the TLS registry" skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds reef:s3cret --preserve-digests "oci:$out/oci/busybox:latest" "docker://$T/secure/bb:latest"
cat > "$work/tls.yaml" << EOF
configs:
  "$T":
    auth:
      username: reef
      password: s3cret
    tls:
      ca_file: $pki/ca.crt
EOF
cat > "$work/tls-bad.yaml" << EOF
configs:
  "$T":
    auth: {username: reef, password: wrong}
    tls: {ca_file: $pki/ca.crt}
EOF
DT=$work/data-tls
t "pull over TLS with basic auth" "$REEF" image --data-dir "$DT" pull -q --registries "$work/tls.yaml" "$T/secure/bb"
t "the TLS pull unpacks to the tree" same_tree "$("$REEF" image --data-dir "$DT" inspect "$T/secure/bb" | jq -r '.Layers[0].dir')" "$out/tree/busybox"
cat > "$work/tls-noca.yaml" << EOF
configs:
  "$T":
    auth: {username: reef, password: s3cret}
EOF
cat > "$work/tls-skip.yaml" << EOF
configs:
  "$T":
    auth: {username: reef, password: s3cret}
    tls: {insecure_skip_verify: true}
EOF
t "an unknown CA is refused" sh -c '! "$REEF" image --data-dir "$1" pull -q --registries "$2" "$3/secure/bb" 2> "$1.err" && grep -qi "certificate" "$1.err"' _ "$work/data-noca" "$work/tls-noca.yaml" "$T"
t "tls.insecure_skip_verify accepts it" "$REEF" image --data-dir "$work/data-skip" pull -q --registries "$work/tls-skip.yaml" "$T/secure/bb"

# --- bearer tokens: the registry trusts a small token server's signing certificate
(cd "$pki" && openssl req -x509 -newkey rsa:2048 -nodes -keyout tok.key -out tok.crt -days 2 -subj /CN=reef-token) > /dev/null 2>&1
python3 "$here/../images/tokenserver.py" "$work/tokport" "$pki/tok.key" "$pki/tok.crt" reef s3cret > "$work/tok.log" 2>&1 &
tok_pid=$!
defer kill "$tok_pid"
for _ in $(seq 50); do [ -s "$work/tokport" ] && break; sleep 0.1; done
TP=$(cat "$work/tokport" 2> /dev/null)
REGISTRY_PID=
registry_start "$work/reg3" 0 token "http://127.0.0.1:$TP/token" reef-registry reef-test-issuer "$pki/tok.crt" || echo "not ok - token registry starts"
tok_reg_pid=$REGISTRY_PID
B=$REGISTRY_ADDR
REGISTRY_PID=$plain_pid
defer kill "$tok_reg_pid"
t "push busybox through the token flow" skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds reef:s3cret --preserve-digests "oci:$out/oci/busybox:latest" "docker://$B/tok/bb:latest"
printf 'configs:\n  "%s":\n    auth: {username: reef, password: s3cret}\n' "$B" > "$work/tok.yaml"
printf 'configs:\n  "%s":\n    auth: {username: reef, password: nope}\n' "$B" > "$work/tok-bad.yaml"
DB=$work/data-tok
t "pull through the bearer-token flow" "$REEF" image --data-dir "$DB" pull -q --registries "$work/tok.yaml" "$B/tok/bb"
t "the token pull unpacks to the tree" same_tree "$("$REEF" image --data-dir "$DB" inspect "$B/tok/bb" | jq -r '.Layers[0].dir')" "$out/tree/busybox"

# --- a mirror with a rewrite: docker.io/library/* served by the local registry
cat > "$work/mirror.yaml" << EOF
mirrors:
  docker.io:
    endpoint: ["http://$R"]
    rewrite:
      "^library/(.*)": "\$1"
EOF
DM=$work/data-mirror
t "pull busybox (docker.io) through a rewriting mirror" "$REEF" image --data-dir "$DM" pull -q --registries "$work/mirror.yaml" busybox
t "the mirrored image is named docker.io/library/busybox:latest" "$REEF" image --data-dir "$DM" inspect docker.io/library/busybox:latest

# --- bad input: a clear error naming the image and the reason, and the store unchanged
python3 "$here/../images/badregistry.py" "$work/badport" "$(dpkg --print-architecture | sed 's/armhf/arm/')" > "$work/bad.log" 2>&1 &
bad_pid=$!
defer kill "$bad_pid"
for _ in $(seq 50); do [ -s "$work/badport" ] && break; sleep 0.1; done
X=127.0.0.1:$(cat "$work/badport" 2> /dev/null)
t "the misbehaving registry's control image pulls" img pull -q "$X/good"
bad_case() { # NAME EXPECTED-TEXT PULL-ARGS...
    local name=$1 want=$2 before after rc
    shift 2
    before=$(store_state)
    "$REEF" image --data-dir "$D" pull -q "$@" > "$work/bad.out" 2> "$work/bad.err"
    rc=$?
    after=$(store_state)
    cat "$work/bad.err"
    [ "$rc" = 1 ] || { echo "exit status $rc"; return 1; }
    grep -q "$want" "$work/bad.err" || { echo "message lacks: $want"; return 1; }
    [ "$before" = "$after" ] || { echo "store changed:"; diff <(echo "$before") <(echo "$after"); return 1; }
}
t "tampered blob: digest mismatch, store unchanged" bad_case tampered "pull $X/tampered:latest.*digest mismatch: expected sha256:.*got sha256:" "$X/tampered"
t "truncated layer: short blob, store unchanged" bad_case truncated "pull $X/truncated:latest.*bytes, the manifest says" "$X/truncated"
t "manifest lying about a size: refused, store unchanged" bad_case sizelie "pull $X/sizelie:latest.*more data than its declared size" "$X/sizelie"
t "../ in a layer: refused, store unchanged" bad_case dotdot "pull $X/dotdot:latest.*escapes the layer" "$X/dotdot"
t "symlink then write through it: refused, store unchanged" bad_case symlink "pull $X/symlink:latest.*symlink" "$X/symlink"
t "config diff_ids not the layers': refused, store unchanged" bad_case diffid "pull $X/diffid:latest.*diff_id mismatch" "$X/diffid"
t "index without this platform: refused, store unchanged" bad_case noplat "pull $X/noplat:latest: no image for platform" "$X/noplat"
t "unknown layer media type: refused by name" bad_case badlayermt "pull $X/badlayermt:latest.*unsupported media type \"application/vnd.example.unknown\"" "$X/badlayermt"
t "unknown manifest media type: refused by name" bad_case badmt "pull $X/badmt:latest.*unsupported media type \"application/vnd.example.manifest+json\"" "$X/badmt"
t "a registry that hangs: timeout, store unchanged" bad_case hang "pull $X/hang:latest.*timed out" --timeout 2 "$X/hang"
t "a blob download that stalls: timeout, store unchanged" bad_case stall "pull $X/stall:latest.*no data for 2000 ms" --timeout 2 "$X/stall"
t "unknown tag: 404 named" bad_case nosuch "pull $X/good:nosuch.*404" "$X/good:nosuch"
printf 'configs:\n  "%s":\n    auth: {identitytoken: idtok}\n' "$X" > "$work/idtok.yaml"
t "bearer flow with an identity token (OAuth2 refresh grant)" img pull -q --registries "$work/idtok.yaml" "$X/private/x"
t "bearer flow without credentials: refused" bad_case private "pull $X/private/x:latest.*credentials" "$X/private/x"
t "401 with bad basic credentials (TLS registry)" bad_case badcreds "pull $T/secure/bb:latest.*401 unauthorized.*bad credentials" --registries "$work/tls-bad.yaml" "$T/secure/bb"
t "TLS without the test CA: certificate refused" bad_case noca "pull $T/secure/bb:latest.*certificate" "$T/secure/bb"
t "token server refusing bad credentials: refused" bad_case badtoken "pull $B/tok/bb:latest.*bad credentials" --registries "$work/tok-bad.yaml" "$B/tok/bb"

t "a blob behind a redirect is fetched" img pull -q "$X/redirect"
t "a 503 is retried" img pull -q "$X/unstable"

# --- a broken download resumes with Range, and the consumer sees each byte once
t "a download broken halfway resumes and verifies" img pull -q "$X/flaky"
t "the resume asked for the rest with Range" \
    bash -c "curl -s http://$X/flaky-count | jq -e '.requests == 2 and .ranges[0] == \"\" and (.ranges[1] | startswith(\"bytes=\"))'"

# --- killed mid-pull: nothing claims to be complete, and the next pull finishes the job
DK=$work/data-kill
"$REEF" image --data-dir "$DK" pull -q "$X/good" > /dev/null 2>&1
"$REEF" image --data-dir "$DK" pull -q "$X/slow" > /dev/null 2>&1 &
kpid=$!
disown "$kpid"
sleep 0.7
kill -9 "$kpid" 2> /dev/null
while kill -0 "$kpid" 2> /dev/null; do sleep 0.05; done
slow_layer=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$X/v2/slow/manifests/latest" | jq -r '.layers[0].digest')
t "after kill -9 the slow layer's blob is not in the store" test ! -e "$DK/images/blobs/sha256/${slow_layer#sha256:}"
t "after kill -9 the image is not listed" bash -c "! '$REEF' image --data-dir '$DK' inspect $X/slow > /dev/null 2>&1"
t "after kill -9 only complete layers are present" \
    test "$(find "$DK/images/layers" -mindepth 1 -maxdepth 1 -name '????????????????????????????????????????????????????????????????' | wc -l)" = 1
t "the next pull completes" img --data-dir "$DK" pull -q "$X/slow"
t "prune clears what the killed pull left in tmp" \
    bash -c "'$REEF' image --data-dir '$DK' prune > /dev/null; ls -A '$DK/images/layers/tmp' '$DK/images/blobs/tmp' | grep -v ':$' | grep . && exit 1; exit 0"
