#!/bin/bash
# tests/bench/import.sh: `enroot import` of a multi-layer image from a loopback registry, cold
# and warm cache, against the decompression floor (every layer through `gzip -dc`, layers in
# parallel), with peak RSS from GNU time (DESIGN.md performance targets).
#
# The image (3 gzip layers, ~120 MiB unpacked: incompressible files, many small compressible
# files, a mix) is generated deterministically once and kept in build/bench/import-oci.
# Run from anywhere: bash tests/bench/import.sh  (or `make bench`).
set -u
cd "$(dirname "$0")/../.." || exit 1
SRC=$PWD
BIN=${BIN:-$SRC/build/bin}
export BIN SRC
. tests/lib.sh
. tests/registry.sh
LAYOUT=$SRC/build/bench/import-oci
TIME=/usr/bin/time

for tool in docker-registry skopeo mksquashfs "$TIME"; do
	command -v "$tool" >/dev/null || { echo "import bench: SKIP: $tool missing"; exit 0; }
done

# Three layers: 48 MiB incompressible in 12 files, 2000 compressible 20 KiB files, a mix.
make_image() {
	mkdir -p "$LAYOUT.tmp" && python3 - "$LAYOUT.tmp/spec.json" <<'PY'
import json, random, sys
r = random.Random(1234)
def text(n):
    words = ["enroot", "layer", "import", "squashfs", "registry", "digest", "config", "\n"]
    out = []
    while sum(map(len, out)) < n:
        out.append(r.choice(words) + " ")
    return "".join(out)[:n]
l1 = [{"path": "bin", "type": "dir"}] + [
    {"path": "bin/blob%02d" % i, "type": "file", "src": "/dev/null"} for i in range(12)]
l2 = [{"path": "share", "type": "dir"}] + [
    {"path": "share/doc%04d.txt" % i, "type": "file", "data": text(20480)} for i in range(2000)]
l3 = [{"path": "opt", "type": "dir"}, {"path": "opt/zeros", "type": "file", "size": 16 << 20}] + [
    {"path": "opt/t%03d" % i, "type": "file", "data": text(65536)} for i in range(200)]
json.dump({"config": {"Cmd": ["/bin/sh"]}, "layers": [{"entries": l} for l in (l1, l2, l3)]},
          open(sys.argv[1], "w"))
PY
	# Incompressible content: a deterministic stream (sha256 chain), 4 MiB per file.
	for i in $(seq -w 0 11); do
		python3 -c 'import hashlib,sys
h=hashlib.sha256(sys.argv[1].encode()).digest(); out=bytearray()
while len(out) < 4<<20:
    h=hashlib.sha256(h).digest(); out+=h*4
sys.stdout.buffer.write(bytes(out[:4<<20]))' "$i" >"$LAYOUT.tmp/blob$i"
		sed -i "s|\"bin/blob$i\", \"type\": \"file\", \"src\": \"/dev/null\"|\"bin/blob$i\", \"type\": \"file\", \"src\": \"$LAYOUT.tmp/blob$i\"|" "$LAYOUT.tmp/spec.json"
	done
	python3 tests/oci.py build "$LAYOUT.tmp/oci" bench "$LAYOUT.tmp/spec.json" &&
		mv "$LAYOUT.tmp/oci" "$LAYOUT" && rm -rf "$LAYOUT.tmp"
}

[ -d "$LAYOUT" ] || { echo "import bench: generating the image (once)"; make_image; } || exit 1
registry_start http >/dev/null || { echo "import bench: registry did not start"; exit 1; }
oci_push "$LAYOUT" bench bench:latest || exit 1
export ENROOT_ALLOW_HTTP=y ENROOT_CACHE_PATH=$T/cache ENROOT_DATA_PATH=$T/data
export ENROOT_TEMP_PATH=$T/tmp ENROOT_RUNTIME_PATH=$T/run ENROOT_CONFIG_PATH=$T/config

layers=$(python3 -c 'import json,sys
idx=json.load(open(sys.argv[1]+"/index.json"))
m=json.load(open(sys.argv[1]+"/blobs/sha256/"+idx["manifests"][0]["digest"][7:]))
print(" ".join(sys.argv[1]+"/blobs/sha256/"+l["digest"][7:] for l in m["layers"]))' "$LAYOUT")

# Seconds (EPOCHREALTIME) taken by "$@".
elapsed() {
	local t0=$EPOCHREALTIME
	"$@"
	awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { print a - b }'
}
floor() {
	local l
	for l in $layers; do gzip -dc "$l" >/dev/null & done
	wait
}
# Run an import under GNU time; prints "SECONDS MAXRSS_KB".
timed_import() {
	$TIME -f '%e %M' -o "$T/time" enroot import -o "$1" docker://$REGISTRY#bench:latest \
		>/dev/null 2>"$T/import.err" || { cat "$T/import.err" >&2; return 1; }
	cat "$T/time"
}

unpacked=$(python3 -c 'import gzip,sys; print(sum(len(gzip.open(p).read()) for p in sys.argv[1:]) >> 20)' $layers)
fl=$(elapsed floor)
read -r cold cold_rss < <(timed_import "$T/cold.sqsh") || exit 1
read -r warm warm_rss < <(timed_import "$T/warm.sqsh") || exit 1
# The same with lzo's fast algorithm: enroot's default -comp lzo means lzo1x_999, which is
# most of the time (it compresses metadata and fragments even with -noD).
read -r fast fast_rss < <(ENROOT_SQUASH_OPTIONS="-comp lzo -Xalgorithm lzo1x_1 -noD -exit-on-error" \
	timed_import "$T/fast.sqsh") || exit 1
printf 'import bench: %s layers, %s MiB of tar\n' "$(echo $layers | wc -w)" "$unpacked"
printf '  floor (gzip -dc, layers in parallel): %.2f s\n' "$fl"
printf '  import, cold cache: %.2f s (%.2fx the floor), peak RSS %d MiB\n' "$cold" \
	"$(awk -v a="$cold" -v b="$fl" 'BEGIN { print a / b }')" $((cold_rss / 1024))
printf '  import, warm cache: %.2f s (%.2fx the floor), peak RSS %d MiB\n' "$warm" \
	"$(awk -v a="$warm" -v b="$fl" 'BEGIN { print a / b }')" $((warm_rss / 1024))
printf '  import, warm cache, -Xalgorithm lzo1x_1: %.2f s (%.2fx the floor), peak RSS %d MiB\n' \
	"$fast" "$(awk -v a="$fast" -v b="$fl" 'BEGIN { print a / b }')" $((fast_rss / 1024))
