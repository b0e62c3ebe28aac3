#!/bin/bash
# tests/bench/inflate.sh: the floors of the two byte-crunching steps of an import, gzip-decoding
# the layers and hashing the blobs, against our code on the same blobs in the same run (issue
# 13).  Run from anywhere: bash tests/bench/inflate.sh  (or `make bench`).
#
# The blobs: the layers of the import benchmark's image (build/bench/debian-oci, or the
# synthetic build/bench/import-oci; tests/bench/import.sh makes them), one after the other.
# Rows, each the median wall time of BENCH_RUNS runs (default 5), interleaved (every run times
# every row once, so a burst of load hits all rows alike):
#   igzip -dc, pigz -dc, gzip -dc       the tools, to /dev/null
#   inflate, ISA-L / zlib               lib/image/inflate.c alone (tests/bench/decode.c gunzip;
#                                       zlib by ENROOT_NO_ISAL=1)
#   tarwalk, ISA-L / zlib               decode + libarchive's tar parse, data dropped (walk)
#   openssl dgst -sha256, sha256sum     the tools
#   sha256, libcrypto / C               lib/base/sha256.c (decode sha256; C by
#                                       ENROOT_NO_LIBCRYPTO=1)
# With BASELINE_OBJ=DIR (the build/obj of another build, e.g. main's), its tarwalk and sha256
# are timed too, interleaved with ours.
set -u
cd "$(dirname "$0")/../.." || exit 1
SRC=$PWD
OBJ=${OBJ:-$SRC/build/obj}
RUNS=${BENCH_RUNS:-5}
T=$(mktemp -d /tmp/enroot-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

for tool in igzip pigz gzip openssl sha256sum python3; do
	command -v "$tool" >/dev/null || { echo "inflate bench: SKIP: $tool missing"; exit 0; }
done
LAYOUT=
for d in build/bench/debian-oci build/bench/import-oci; do
	[ -f "$d/index.json" ] && LAYOUT=$SRC/$d && break
done
[ -n "$LAYOUT" ] || { echo "inflate bench: SKIP: no image (run tests/bench/import.sh first)"; exit 0; }
layers=$(python3 -c 'import json,sys
idx=json.load(open(sys.argv[1]+"/index.json"))
m=[m for m in idx["manifests"] if m.get("annotations",{}).get("org.opencontainers.image.ref.name")=="latest"][0]
m=json.load(open(sys.argv[1]+"/blobs/sha256/"+m["digest"][7:]))
print(" ".join(sys.argv[1]+"/blobs/sha256/"+l["digest"][7:] for l in m["layers"] if "gzip" in l["mediaType"]))' "$LAYOUT")
[ -n "$layers" ] || { echo "inflate bench: SKIP: the image has no gzip layers"; exit 0; }

# decode OUT OBJDIR: tests/bench/decode.c linked against a build's library objects.
build_decode() {
	local objs
	objs=$(ls "$2"/lib/*/*.o 2>/dev/null) || return 1
	# shellcheck disable=SC2086
	cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$SRC/lib" -I"$2/.." $(pkg-config --cflags libarchive) \
		-o "$1" "$SRC/tests/bench/decode.c" $objs -lcap 2>"$T/cc.err"
}
build_decode "$T/decode" "$OBJ" || { echo "inflate bench: SKIP: cannot build decode.c against $OBJ"; cat "$T/cc.err"; exit 0; }

NAMES=() CMDS=() base_sha=
row() {
	NAMES+=("$1") CMDS+=("$2")
}
L=$layers
row "igzip -dc" "for l in $L; do igzip -dc \$l >/dev/null; done"
row "pigz -dc" "for l in $L; do pigz -dc \$l >/dev/null; done"
row "gzip -dc" "for l in $L; do gzip -dc \$l >/dev/null; done"
row "inflate, ISA-L (lib/image/inflate.c)" "$T/decode gunzip $L"
row "inflate, zlib (ENROOT_NO_ISAL=1)" "ENROOT_NO_ISAL=1 $T/decode gunzip $L"
row "tarwalk: inflate + tar parse, ISA-L" "$T/decode walk $L"
row "tarwalk: inflate + tar parse, zlib" "ENROOT_NO_ISAL=1 $T/decode walk $L"
if [ -n "${BASELINE_OBJ:-}" ]; then
	# The baseline's decode.c has no gunzip (no inflate.h): only walk and sha256.
	sed '/inflate\.h/d; s/inflate_impl()/"baseline"/; s/sha256_impl()/"baseline"/' "$SRC/tests/bench/decode.c" |
		python3 -c 'import re,sys
s=sys.stdin.read()
a=s.index("static unsigned long long gunzip"); b=s.index("static unsigned long long walk")
s=s[:a]+s[b:]
s=re.sub(r"fn = !strcmp\(argv\[1\], \"gunzip\"\)\s*\? gunzip\s*:", "fn =", s)
sys.stdout.write(s)' >"$T/decode-base.c"
	objs=$(ls "$BASELINE_OBJ"/lib/*/*.o)
	# shellcheck disable=SC2086
	if cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$BASELINE_OBJ/../../lib" -I"$BASELINE_OBJ/.." \
		$(pkg-config --cflags libarchive) -o "$T/decode-base" "$T/decode-base.c" $objs -lcap; then
		row "tarwalk, baseline build" "$T/decode-base walk $L"
		base_sha=1
	fi
fi
row "openssl dgst -sha256" "openssl dgst -sha256 $L"
row "sha256sum" "sha256sum $L"
row "sha256, libcrypto (lib/base/sha256.c)" "$T/decode sha256 $L"
row "sha256, C (ENROOT_NO_LIBCRYPTO=1)" "ENROOT_NO_LIBCRYPTO=1 $T/decode sha256 $L"
[ -n "${base_sha:-}" ] && row "sha256, baseline build" "$T/decode-base sha256 $L"

for ((r = 0; r < RUNS; r++)); do
	for i in "${!CMDS[@]}"; do
		/usr/bin/time -f '%e %U %S %M' -a -o "$T/times.$i" bash -c "${CMDS[i]}" >/dev/null 2>"$T/err" ||
			{ echo "inflate bench: FAILED: ${NAMES[i]}"; cat "$T/err"; }
	done
done

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mib=$(du -cm $L | tail -1 | cut -f1)
echo "inflate bench: $(echo $L | wc -w) gzip layers of $(basename "$LAYOUT"), $mib MiB; median of $RUNS interleaved runs; $(nproc) CPUs"
printf '  %-52s %8s %8s %8s %9s\n' "" "seconds" "cpu s" "peak MiB" "/ floor"
floor=
for i in "${!NAMES[@]}"; do
	f=$T/times.$i
	[ -s "$f" ] || continue
	s=$(grep -E '^[0-9.]+ ' "$f" | awk '{ print $1 }' | median)
	c=$(grep -E '^[0-9.]+ ' "$f" | awk '{ print $2 + $3 }' | median)
	m=$(grep -E '^[0-9.]+ ' "$f" | awk '$4 > m { m = $4 } END { printf "%d", m / 1024 }')
	# the floor of the inflate rows is igzip, of the hash rows openssl
	case ${NAMES[i]} in igzip*|openssl*) floor=$s ;; esac
	printf '  %-52s %8s %8s %8s %9s\n' "${NAMES[i]}" "$s" "$c" "$m" \
		"$(awk -v a="$s" -v b="$floor" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
done
exit 0
