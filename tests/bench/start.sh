#!/bin/bash
# start.sh: median of 50 `enroot start NAME true` and of 50 `enroot start IMAGE.sqsh true`
# against the floor (tests/bench/floor.c) on the same rootfs, with the default configuration
# and standard hooks. The image is squashed with enroot's default ENROOT_SQUASH_OPTIONS
# (lzo, data blocks uncompressed), as `enroot import` and `enroot export` make it; the same
# tree squashed with mksquashfs's default gzip is timed too, because squashfuse pays the
# decompression on every start (a new FUSE mount starts with a cold page cache).
set -eu
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BIN:-$SRC/build/bin}
N=${N:-50}
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

enroot start bench true # warm up (shadow hook writes, page cache)
floor=$(median "$T/floor" "$ENROOT_DATA_PATH/bench" /bin/true)
start=$(median enroot start bench true)
echo "floor (unshare, maps, bind, pivot, exec true): ${floor} ms"
echo "enroot start NAME true: ${start} ms"
awk -v a="$start" -v b="$floor" 'BEGIN {printf "ratio: %.2fx (target: within 2x)\n", a/b}'
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
