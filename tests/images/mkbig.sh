#!/bin/bash
# Builds a big multi-layer test image as an OCI layout, for the pull benchmark.
# Usage: tests/images/mkbig.sh OUTDIR [LAYERS] [MIB_PER_LAYER]
# OUTDIR/big: LAYERS gzip layers (default 4) of about MIB_PER_LAYER MiB each (default 16) of
# compressed data: half random bytes, half base64 text, in a few files per layer, on top of the
# busybox layer of mkimage.sh (built into OUTDIR/base). Content is random, so digests change
# between runs.
set -euo pipefail
out=${1:?usage: mkbig.sh OUTDIR [LAYERS] [MIB_PER_LAYER]}
n=${2:-4}
mib=${3:-16}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out/big" "$out/base" "$out/bigwork"
bash "$here/mkimage.sh" "$out/base" > /dev/null
l=$out/big
w=$out/bigwork
mkdir -p "$l/blobs/sha256" "$w"
cp "$out/base/oci/busybox/blobs/sha256/"* "$l/blobs/sha256/"
arch=$(dpkg --print-architecture)
case "$arch" in armhf) arch=arm ;; esac
bbman=$(jq -r '.manifests[0].digest' "$out/base/oci/busybox/index.json" | cut -d: -f2)
bbcfg=$(jq -r '.config.digest' "$l/blobs/sha256/$bbman" | cut -d: -f2)
layers=$(jq -c '.layers[0]' "$l/blobs/sha256/$bbman")
diffs=$(jq -c '.rootfs.diff_ids[0]' "$l/blobs/sha256/$bbcfg")
half=$((mib * 1024 * 1024 / 2))
for i in $(seq 1 "$n"); do
    d=$w/l$i
    mkdir -p "$d/data/layer$i"
    head -c "$half" /dev/urandom > "$d/data/layer$i/random.bin"
    # base64 of random bytes compresses to about 3/4: about half the layer's compressed size
    head -c $((half * 3 / 4 * 4 / 3)) /dev/urandom | base64 -w 76 > "$d/data/layer$i/text.txt"
    for k in $(seq 1 50); do echo "file $k of layer $i" > "$d/data/layer$i/small$k"; done
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -C "$d" -cf "$w/l.tar" .
    diff=$(sha256sum "$w/l.tar" | cut -d' ' -f1)
    gzip -1 -n -c "$w/l.tar" > "$w/l.gz"
    dg=$(sha256sum "$w/l.gz" | cut -d' ' -f1)
    sz=$(stat -c %s "$w/l.gz")
    mv "$w/l.gz" "$l/blobs/sha256/$dg"
    layers="$layers,{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dg\",\"size\":$sz}"
    diffs="$diffs,\"sha256:$diff\""
    rm -rf "$d" "$w/l.tar"
done
printf '{"architecture":"%s","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$arch" "$diffs" > "$w/cfg"
cd_=$(sha256sum "$w/cfg" | cut -d' ' -f1)
cs=$(stat -c %s "$w/cfg")
mv "$w/cfg" "$l/blobs/sha256/$cd_"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' "$cd_" "$cs" "$layers" > "$w/man"
md=$(sha256sum "$w/man" | cut -d' ' -f1)
ms=$(stat -c %s "$w/man")
mv "$w/man" "$l/blobs/sha256/$md"
echo '{"imageLayoutVersion":"1.0.0"}' > "$l/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}\n' "$md" "$ms" > "$l/index.json"
rm -rf "$w" "$out/base"
