#!/bin/bash
# start.sh: median of N `enroot start NAME true` and of N `enroot start IMAGE.sqsh true`
# against the floor (tests/bench/floor.c) on the same rootfs, with the default configuration
# and standard hooks. With BASELINE_BIN=DIR (the bin directory of another build, e.g. one
# from before the start became a chain of applets), the two builds' starts are timed side by
# side, interleaved run by run, and the difference is printed. One exec of the multicall
# binary is timed too (a chain of 10 `unsharens --`), since each link of the chain costs one. The image is squashed with enroot's default ENROOT_SQUASH_OPTIONS
# (lzo, data blocks uncompressed), as `enroot import` and `enroot export` make it; the same
# tree squashed with mksquashfs's default gzip is timed too, because squashfuse pays the
# decompression on every start (a new FUSE mount starts with a cold page cache).
set -eu
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BIN:-$SRC/build/bin}
N=${N:-200}
BASELINE_BIN=${BASELINE_BIN:-}
T=$(mktemp -d /tmp/enroot-bench.XXXXXX)
trap 'chmod -R u+rwX "$T"; rm -rf "$T"' EXIT
export ENROOT_DATA_PATH=$T/data ENROOT_CACHE_PATH=$T/cache ENROOT_RUNTIME_PATH=$T/run
export ENROOT_CONFIG_PATH=$T/cfg ENROOT_SYSCONF_PATH=${ENROOT_SYSCONF_PATH:-$SRC/etc}
export PATH=$BIN:$PATH
R=$T/R
mkdir -p "$R/bin" "$R/etc"
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
ln -s busybox "$R/bin/true"
echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
printf '#!/bin/sh\nexec "$@"\n' >"$R/etc/rc"
mksquashfs "$R" "$T/img.sqsh" -all-root -noappend -quiet -comp lzo -noD >/dev/null
mksquashfs "$R" "$T/gzip.sqsh" -all-root -noappend -quiet >/dev/null
enroot create -n bench "$T/img.sqsh"
cc -O2 -o "$T/floor" "$SRC/tests/bench/floor.c"

# Median wall time in ms of N runs of "$@".
median() {
	local i s e
	for ((i = 0; i < N; i++)); do
		s=${EPOCHREALTIME/./}
		"$@" >/dev/null
		e=${EPOCHREALTIME/./}
		echo $((e - s))
	done | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]/1000}'
}

# Medians in ms of N interleaved runs of two commands given as strings: "A B".
pair() {
	local i s e
	for ((i = 0; i < N; i++)); do
		s=${EPOCHREALTIME/./}
		$1 >/dev/null
		e=${EPOCHREALTIME/./}
		echo "a $((e - s))"
		s=${EPOCHREALTIME/./}
		$2 >/dev/null
		e=${EPOCHREALTIME/./}
		echo "b $((e - s))"
	done | sort -k1,1 -k2n | awk '{v[$1, ++n[$1]] = $2}
		END {printf "%.2f %.2f\n", v["a", int((n["a"] + 1) / 2)] / 1000, v["b", int((n["b"] + 1) / 2)] / 1000}'
}

enroot start bench true # warm up (shadow hook writes, page cache)
floor=$(median "$T/floor" "$ENROOT_DATA_PATH/bench" /bin/true)
start=$(median enroot start bench true)
echo "floor (unshare, maps, bind, pivot, exec true): ${floor} ms"
echo "enroot start NAME true: ${start} ms"
awk -v a="$start" -v b="$floor" 'BEGIN {printf "ratio: %.2fx (target: within 2x)\n", a/b}'
chain=""
for ((i = 0; i < 10; i++)); do chain="$chain $BIN/unsharens --"; done
read -r one ten < <(pair "$BIN/unsharens -- /bin/true" "$chain /bin/true")
awk -v a="$one" -v b="$ten" 'BEGIN {printf "one exec of the multicall binary: %.2f ms (10 more execs: %.2f ms)\n", (b - a) / 10, b - a}'
if [ -n "$BASELINE_BIN" ] && [ -x "$BASELINE_BIN/enroot" ]; then
	"$BASELINE_BIN/enroot" start bench true
	read -r base ours < <(pair "$BASELINE_BIN/enroot start bench true" "$BIN/enroot start bench true")
	echo "side by side, interleaved: baseline ($BASELINE_BIN) ${base} ms, this build ${ours} ms"
	awk -v a="$ours" -v b="$base" 'BEGIN {printf "difference: %+.2f ms (%.2fx the baseline)\n", a - b, a/b}'
else
	echo "side by side with a baseline build: skipped (set BASELINE_BIN to the bin directory of one)"
fi
if command -v squashfuse >/dev/null && [ -r /dev/fuse ] && [ -w /dev/fuse ]; then
	enroot start "$T/img.sqsh" true # warm up
	image=$(median enroot start "$T/img.sqsh" true)
	gzip=$(median enroot start "$T/gzip.sqsh" true)
	echo "enroot start IMAGE.sqsh true: ${image} ms (target: within 30 ms)"
	awk -v a="$image" -v b="$floor" 'BEGIN {printf "ratio: %.2fx the floor\n", a/b}'
	echo "enroot start IMAGE.sqsh true, gzip image: ${gzip} ms"
else
	echo "enroot start IMAGE.sqsh true: skipped (squashfuse or a usable /dev/fuse is missing)"
fi
