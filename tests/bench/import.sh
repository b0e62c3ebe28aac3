#!/bin/bash
# tests/bench/import.sh: `enroot import` of a realistic multi-layer image from a loopback
# registry, against the decompression floor measured in the same run (DESIGN.md performance
# targets, issues 4 and 6).  Run from anywhere: bash tests/bench/import.sh  (or `make bench`).
#
# The image: Debian bookworm (debootstrap) + a layer of big packages + a small top layer with
# whiteouts, ~170 MiB of gzip, built once by tests/bench/mkdebian into build/bench/debian-oci
# (needs root and the Debian mirror the first time).  Where it cannot be built, a synthetic
# 3-layer image (~120 MiB, generated deterministically into build/bench/import-oci) is used.
#
# Every row is the median wall time of BENCH_RUNS runs (default 3) and the peak RSS (GNU time
# %M: the largest process of the command) of those runs, with its ratios to the gzip floors
# and to the igzip one:
#   floor, sequential   gzip -dc of every layer, one after the other, to /dev/null
#   floor, parallel     the same, all layers at once
#   floor, igzip        igzip -dc (ISA-L) of every layer, one after the other: the inflate floor
#   floor, openssl      openssl dgst -sha256 of the layers: the hashing floor
#   baseline import     with BASELINE_BIN=DIR, another build's cold and warm import, interleaved
#                       run by run with this build's
#   import cold/warm    enroot import with an empty / a filled blob cache
#   import P=1          warm, ENROOT_MAX_PROCESSORS=1: layers applied one after the other
#   load warm / P=1     enroot load: the extract path alone (registry-pull | layer-unpack --image; P=1 as a check that the setting changes nothing)
#   mksquashfs          mksquashfs of the loaded tree with the default ENROOT_SQUASH_OPTIONS
#   lzo1x_1             warm import with -Xalgorithm lzo1x_1 (same format, fast algorithm)
#   podman pull         the same image into an empty store, when podman works here
# BENCH_IMPORT_ENV, when set, is put in the environment of the import rows (for example to
# force one import path).
set -u
cd "$(dirname "$0")/../.." || exit 1
SRC=$PWD
BIN=${BIN:-$SRC/build/bin}
export BIN SRC
. tests/lib.sh
. tests/registry.sh
RUNS=${BENCH_RUNS:-3}
TIME=/usr/bin/time
DEBIAN=$SRC/build/bench/debian-oci
SYNTH=$SRC/build/bench/import-oci

for tool in docker-registry skopeo mksquashfs gzip "$TIME"; do
	command -v "$tool" >/dev/null || { echo "import bench: SKIP: $tool missing"; exit 0; }
done

# The synthetic image: 48 MiB incompressible in 12 files, 2000 compressible 20 KiB files, a mix.
make_synthetic() {
	mkdir -p "$SYNTH.tmp" && python3 - "$SYNTH.tmp/spec.json" <<'PY'
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
sys.stdout.buffer.write(bytes(out[:4<<20]))' "$i" >"$SYNTH.tmp/blob$i"
		sed -i "s|\"bin/blob$i\", \"type\": \"file\", \"src\": \"/dev/null\"|\"bin/blob$i\", \"type\": \"file\", \"src\": \"$SYNTH.tmp/blob$i\"|" "$SYNTH.tmp/spec.json"
	done
	python3 tests/oci.py build "$SYNTH.tmp/oci" latest "$SYNTH.tmp/spec.json" &&
		rm -rf "$SYNTH" && mv "$SYNTH.tmp/oci" "$SYNTH" && rm -rf "$SYNTH.tmp"
}

if [ -d "$DEBIAN" ] || bash tests/bench/mkdebian "$DEBIAN"; then
	LAYOUT=$DEBIAN WHAT="Debian bookworm (debootstrap) + packages + a top layer"
else
	echo "import bench: NOTE: the Debian image cannot be built here (see above): synthetic image"
	if [ ! -f "$SYNTH/index.json" ] || ! grep -q '"latest"' "$SYNTH/index.json"; then
		echo "import bench: generating the synthetic image (once)"
		make_synthetic || exit 1
	fi
	LAYOUT=$SYNTH WHAT="synthetic (incompressible, text, zeros)"
fi
registry_start http >/dev/null || { echo "import bench: registry did not start"; exit 1; }
oci_push "$LAYOUT" latest bench:latest || exit 1
IMAGE=docker://$REGISTRY#bench:latest
export ENROOT_ALLOW_HTTP=y ENROOT_CACHE_PATH=$T/cache ENROOT_DATA_PATH=$T/data
export ENROOT_TEMP_PATH=$T/tmp ENROOT_RUNTIME_PATH=$T/run ENROOT_CONFIG_PATH=$T/config
mkdir -p "$T/tmp"

layers=$(python3 -c 'import json,sys
idx=json.load(open(sys.argv[1]+"/index.json"))
m=[m for m in idx["manifests"] if m.get("annotations",{}).get("org.opencontainers.image.ref.name")=="latest"][0]
m=json.load(open(sys.argv[1]+"/blobs/sha256/"+m["digest"][7:]))
print(" ".join(sys.argv[1]+"/blobs/sha256/"+l["digest"][7:] for l in m["layers"]))' "$LAYOUT")
nlayers=$(echo $layers | wc -w)
gz_mib=$(du -cm $layers | tail -1 | cut -f1)
tar_mib=$(for l in $layers; do gzip -dc "$l"; done | wc -c | awk '{ printf "%d", $1 / 1048576 }')

# measure NAME PREP CMD: run PREP (untimed) then CMD under GNU time, RUNS times; records the
# median seconds and the largest peak RSS in MiB as ROW_NAMES/ROW_SECS/ROW_RSS.
ROW_NAMES=() ROW_SECS=() ROW_RSS=()
measure() {
	local name=$1 prep=$2 cmd=$3 i secs=() rss=0 line
	for ((i = 0; i < RUNS; i++)); do
		(cd "$T" && eval "$prep") >/dev/null 2>&1
		if ! (cd "$T" && $TIME -f '%e %M' -o "$T/time" bash -c "$cmd" >"$T/out" 2>&1); then
			echo "import bench: FAILED: $name:" >&2
			tail -5 "$T/out" >&2
			ROW_NAMES+=("$name") ROW_SECS+=(nan) ROW_RSS+=(0)
			return 1
		fi
		line=$(tail -1 "$T/time")
		secs+=("${line% *}")
		[ "${line#* }" -gt "$rss" ] && rss=${line#* }
	done
	ROW_NAMES+=("$name")
	ROW_SECS+=("$(printf '%s\n' "${secs[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')")
	ROW_RSS+=($((rss / 1024)))
}

# measure_pair NAME_A NAME_B PREP CMD_A CMD_B: like measure for two commands, run by run in
# turn (PREP before each), so the two rows see the same load.
measure_pair() {
	local i r line secs_a=() secs_b=() rss_a=0 rss_b=0 which cmd
	for ((i = 0; i < RUNS; i++)); do
		for which in a b; do
			[ $which = a ] && cmd=$4 || cmd=$5
			(cd "$T" && eval "$3") >/dev/null 2>&1
			if ! (cd "$T" && $TIME -f '%e %M' -o "$T/time" bash -c "$cmd" >"$T/out" 2>&1); then
				echo "import bench: FAILED: $cmd:" >&2
				tail -5 "$T/out" >&2
				continue
			fi
			line=$(tail -1 "$T/time")
			if [ $which = a ]; then
				secs_a+=("${line% *}")
				[ "${line#* }" -gt "$rss_a" ] && rss_a=${line#* }
			else
				secs_b+=("${line% *}")
				[ "${line#* }" -gt "$rss_b" ] && rss_b=${line#* }
			fi
		done
	done
	for which in a b; do
		if [ $which = a ]; then
			r=$(printf '%s\n' "${secs_a[@]:-nan}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
			ROW_NAMES+=("$1") ROW_SECS+=("$r") ROW_RSS+=($((rss_a / 1024)))
		else
			r=$(printf '%s\n' "${secs_b[@]:-nan}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
			ROW_NAMES+=("$2") ROW_SECS+=("$r") ROW_RSS+=($((rss_b / 1024)))
		fi
	done
}

gz_seq=$(for l in $layers; do printf 'gzip -dc %q >/dev/null; ' "$l"; done)
gz_par="$(for l in $layers; do printf 'gzip -dc %q >/dev/null & ' "$l"; done) wait"
E=${BENCH_IMPORT_ENV:-}
measure "floor, sequential (gzip -dc, one after another)" "" "$gz_seq"
measure "floor, parallel (gzip -dc, all layers at once)" "" "$gz_par"
# The hardware floors (issue 13): ISA-L's igzip, and libcrypto's SHA-256 of the blobs.
IG=
if command -v igzip >/dev/null; then
	IG=${#ROW_NAMES[@]}
	measure "floor, igzip -dc, one after another" "" \
		"$(for l in $layers; do printf 'igzip -dc %q >/dev/null; ' "$l"; done)"
fi
command -v openssl >/dev/null &&
	measure "floor, openssl dgst -sha256 of the layers" "" "openssl dgst -sha256 $layers >/dev/null"
# BASELINE_BIN=DIR (the bin directory of another build): its cold and warm imports, timed
# interleaved with ours, run by run, so load hits both alike.
if [ -n "${BASELINE_BIN:-}" ] && [ -x "$BASELINE_BIN/enroot" ]; then
	measure_pair "baseline import, cold cache" "enroot import, cold cache (this build)" \
		"rm -rf cache out.sqsh" "$E $BASELINE_BIN/enroot import -o out.sqsh $IMAGE" \
		"$E $BIN/enroot import -o out.sqsh $IMAGE"
	measure_pair "baseline import, warm cache" "enroot import, warm cache (this build)" \
		"rm -f out.sqsh" "$E $BASELINE_BIN/enroot import -o out.sqsh $IMAGE" \
		"$E $BIN/enroot import -o out.sqsh $IMAGE"
fi
measure "enroot import, cold cache" "rm -rf cache out.sqsh" "$E enroot import -o out.sqsh $IMAGE"
measure "enroot import, warm cache" "rm -f out.sqsh" "$E enroot import -o out.sqsh $IMAGE"
measure "enroot import, warm, ENROOT_MAX_PROCESSORS=1" "rm -f out.sqsh" \
	"$E ENROOT_MAX_PROCESSORS=1 enroot import -o out.sqsh $IMAGE"
measure "enroot import, warm, -Xalgorithm lzo1x_1" "rm -f out.sqsh" \
	"$E ENROOT_SQUASH_OPTIONS='-comp lzo -Xalgorithm lzo1x_1 -noD -exit-on-error' enroot import -o out.sqsh $IMAGE"
measure "extract: enroot load, warm (registry-pull | layer-unpack)" "rm -rf data/t" \
	"enroot load -n t $IMAGE"
measure "extract: enroot load, warm, ENROOT_MAX_PROCESSORS=1" "rm -rf data/t" \
	"ENROOT_MAX_PROCESSORS=1 enroot load -n t $IMAGE"
measure "squash: mksquashfs of that tree, default options" "rm -f tree.sqsh" \
	"mksquashfs data/t tree.sqsh -all-root -comp lzo -noD -exit-on-error -no-progress -quiet"

# podman pull into an empty store of its own (overlay driver), rootless: as root, as the
# unprivileged BENCH_PODMAN_USER (default enroot-test), since rootful podman changes /run.
podman_note="" PD=""
if ! command -v podman >/dev/null; then
	podman_note="podman is not installed"
elif [ "$(id -u)" != 0 ]; then
	PD=$T/podman && mkdir -p "$PD/xdg"
	PODMAN="env XDG_RUNTIME_DIR=$PD/xdg podman"
elif id -u "${BENCH_PODMAN_USER:-enroot-test}" >/dev/null 2>&1; then
	PD=$(mktemp -d /tmp/bench-podman.XXXXXX) && mkdir -p "$PD/xdg" && chmod 0700 "$PD/xdg" &&
		chown -R "${BENCH_PODMAN_USER:-enroot-test}:" "$PD"
	at_exit "rm -rf $PD"
	# env -C: the bench runs in a 0700 scratch directory of root's, where podman cannot start.
	PODMAN="runuser -u ${BENCH_PODMAN_USER:-enroot-test} -- env -C $PD HOME=$PD XDG_RUNTIME_DIR=$PD/xdg podman"
else
	podman_note="running as root and no unprivileged user for rootless podman (BENCH_PODMAN_USER)"
fi
if [ -n "$PD" ]; then
	PODMAN="$PODMAN --root $PD/root --runroot $PD/run --storage-driver overlay"
	if ! $PODMAN pull -q --tls-verify=false "$REGISTRY/bench:latest" >/dev/null 2>"$T/podman.err"; then
		podman_note="rootless podman does not work here: $(grep -v '^$' "$T/podman.err" | tail -1)"
	else
		measure "podman pull (rootless, overlay store)" "$PODMAN rmi -a -f" \
			"$PODMAN pull -q --tls-verify=false $REGISTRY/bench:latest"
		$PODMAN system reset -f >/dev/null 2>&1
	fi
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a == a + 0) printf "%.2fx", a / b; else print "-" }'; }
echo "import bench: $WHAT"
echo "  $nlayers layers, $gz_mib MiB gzip, $tar_mib MiB of tar; median of $RUNS runs; $(nproc) CPUs"
printf '  %-56s %8s %8s %8s %8s %8s\n' "" "seconds" "peak MiB" "/ seq" "/ par" "/ igzip"
for i in "${!ROW_NAMES[@]}"; do
	printf '  %-56s %8s %8s %8s %8s %8s\n' "${ROW_NAMES[i]}" "${ROW_SECS[i]}" "${ROW_RSS[i]}" \
		"$(ratio "${ROW_SECS[i]}" "${ROW_SECS[0]}")" "$(ratio "${ROW_SECS[i]}" "${ROW_SECS[1]}")" \
		"$([ -n "$IG" ] && ratio "${ROW_SECS[i]}" "${ROW_SECS[IG]}" || echo -)"
done
[ -n "$podman_note" ] && echo "  podman pull: skipped: $podman_note"
exit 0
