#!/bin/bash
# Builds reef's test images as OCI image layouts from Debian's busybox-static, so image tests need
# no network. Usage: tests/images/mkimage.sh OUTDIR
#
# OUTDIR/oci/busybox   one gzip layer: busybox, its applets, /etc/passwd and /etc/group, /tmp
# OUTDIR/oci/layered   busybox + a zstd layer (/data, /etc/motd) + a plain-tar layer with a
#                      whiteout (/data/a) and an opaque directory (/data/dir); User app, WorkingDir
# OUTDIR/oci/multi     an index with linux/amd64 (busybox) and linux/arm64 (a marker layer)
# OUTDIR/tree/NAME     the filesystem each image should unpack to, for file-by-file comparison
# Every layout holds one image tagged "latest". The output is deterministic (fixed mtimes, sorted
# entries, numeric owners), so digests are stable between runs.
set -euo pipefail
out=${1:?usage: mkimage.sh OUTDIR}
busybox=/bin/busybox
[ -x "$busybox" ] && "$busybox" --list > /dev/null 2>&1 || { echo "mkimage: busybox-static is not installed" >&2; exit 1; }
file -L "$busybox" | grep -q "statically linked" || { echo "mkimage: $busybox is not static" >&2; exit 1; }
arch=$(dpkg --print-architecture)
case "$arch" in armhf) oci_arch=arm ;; *) oci_arch=$arch ;; esac
rm -rf "$out"
mkdir -p "$out/oci" "$out/tree" "$out/work"

tarball() { # DIR -> uncompressed tar on stdout, deterministic
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 --format=posix \
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$1" -cf - .
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# add_blob LAYOUT FILE -> prints the digest; FILE is moved into blobs/sha256/
add_blob() {
    local d
    d=$(sha "$2")
    mkdir -p "$1/blobs/sha256"
    mv "$2" "$1/blobs/sha256/$d"
    echo "$d"
}

# make_layer LAYOUT DIR COMPRESSION -> prints "mediatype digest size diffid"
make_layer() {
    local layout=$1 dir=$2 comp=$3 raw=$out/work/layer.tar blob=$out/work/layer.blob mt diff
    tarball "$dir" > "$raw"
    diff=$(sha "$raw")
    case "$comp" in
    gzip) gzip -n -9 -c "$raw" > "$blob"; mt=application/vnd.oci.image.layer.v1.tar+gzip ;;
    zstd) zstd -q -19 -c "$raw" > "$blob"; mt=application/vnd.oci.image.layer.v1.tar+zstd ;;
    none) cp "$raw" "$blob"; mt=application/vnd.oci.image.layer.v1.tar ;;
    esac
    local s d
    s=$(size "$blob")
    d=$(add_blob "$layout" "$blob")
    echo "$mt $d $s $diff"
}

# make_image LAYOUT ARCH CONFIG_EXTRA LAYER_SPECS... -> prints "digest size" of the manifest
# CONFIG_EXTRA is JSON members added to the config's "config" object.
make_image() {
    local layout=$1 iarch=$2 extra=$3
    shift 3
    local layers="" diffs="" spec mt d s diff
    for spec in "$@"; do
        read -r mt d s diff <<< "$spec"
        layers="$layers${layers:+,}{\"mediaType\":\"$mt\",\"digest\":\"sha256:$d\",\"size\":$s}"
        diffs="$diffs${diffs:+,}\"sha256:$diff\""
    done
    local cfg=$out/work/config.json man=$out/work/manifest.json cd cs md ms
    printf '{"architecture":"%s","os":"linux","created":"2023-11-14T22:13:20Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]%s},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[{"created":"2023-11-14T22:13:20Z","created_by":"reef tests/images/mkimage.sh"}]}' \
        "$iarch" "${extra:+,$extra}" "$diffs" > "$cfg"
    cs=$(size "$cfg")
    cd=$(add_blob "$layout" "$cfg")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
        "$cd" "$cs" "$layers" > "$man"
    ms=$(size "$man")
    md=$(add_blob "$layout" "$man")
    echo "$md $ms"
}

# write_layout LAYOUT MEDIATYPE DIGEST SIZE: oci-layout and index.json naming the image "latest"
write_layout() {
    echo '{"imageLayoutVersion":"1.0.0"}' > "$1/oci-layout"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"%s","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}\n' \
        "$2" "$3" "$4" > "$1/index.json"
}

# --- the busybox root filesystem
base=$out/tree/busybox
mkdir -p "$base"/{bin,etc,tmp,root,home/app,proc,sys,dev}
cp "$busybox" "$base/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$base/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$base/etc/passwd"
printf 'root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n' > "$base/etc/group"
chmod 1777 "$base/tmp"
chmod 700 "$base/root"

# --- busybox: one gzip layer
l=$out/oci/busybox
mkdir -p "$l"
bb_layer=$(make_layer "$l" "$base" gzip)
read -r md ms <<< "$(make_image "$l" "$oci_arch" "" "$bb_layer")"
write_layout "$l" application/vnd.oci.image.manifest.v1+json "$md" "$ms"

# --- layered: busybox, then a zstd layer, then a plain layer with a whiteout and an opaque dir
l=$out/oci/layered
mkdir -p "$l"
cp -r "$out/oci/busybox/blobs" "$l/"
l2=$out/work/l2
mkdir -p "$l2/data/dir" "$l2/etc"
echo a > "$l2/data/a"
echo b > "$l2/data/b"
echo x > "$l2/data/dir/x"
echo "welcome to reef" > "$l2/etc/motd"
chmod 4755 "$l2/data/b"
layer2=$(make_layer "$l" "$l2" zstd)
l3=$out/work/l3
mkdir -p "$l3/data/dir"
: > "$l3/data/.wh.a"
: > "$l3/data/dir/.wh..wh..opq"
echo y > "$l3/data/dir/y"
layer3=$(make_layer "$l" "$l3" none)
read -r md ms <<< "$(make_image "$l" "$oci_arch" '"User":"app","WorkingDir":"/data"' "$bb_layer" "$layer2" "$layer3")"
write_layout "$l" application/vnd.oci.image.manifest.v1+json "$md" "$ms"
# Expected tree: busybox + layer 2, minus /data/a, /data/dir holds only y.
t=$out/tree/layered
cp -a "$base" "$t"
cp -a "$l2/." "$t/"
rm -f "$t/data/a" "$t/data/dir/x"
echo y > "$t/data/dir/y"

# --- multi: an index with this machine's platform and one other
l=$out/oci/multi
mkdir -p "$l"
cp -r "$out/oci/busybox/blobs" "$l/"
other=arm64
[ "$oci_arch" = arm64 ] && other=amd64
m=$out/work/marker
mkdir -p "$m"
echo "$other" > "$m/arch"
mlayer=$(make_layer "$l" "$m" gzip)
read -r md1 ms1 <<< "$(make_image "$l" "$oci_arch" "" "$bb_layer")"
read -r md2 ms2 <<< "$(make_image "$l" "$other" "" "$mlayer")"
idx=$out/work/index.json
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"}}]}' \
    "$md2" "$ms2" "$other" "$md1" "$ms1" "$oci_arch" > "$idx"
is=$(size "$idx")
id=$(add_blob "$l" "$idx")
write_layout "$l" application/vnd.oci.image.index.v1+json "$id" "$is"

rm -rf "$out/work"
