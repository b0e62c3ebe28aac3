#!/bin/bash
# start.sh: median of 50 `enroot start NAME true` against the floor (tests/bench/floor.c)
# on the same rootfs, both with the default configuration and standard hooks.
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
mksquashfs "$R" "$T/img.sqsh" -all-root -noappend -quiet >/dev/null
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
if command -v squashfuse >/dev/null && [ -w /dev/fuse ]; then
	image=$(N=20 median enroot start "$T/img.sqsh" true)
	echo "enroot start IMAGE.sqsh true: ${image} ms (target: within 30 ms)"
fi
echo "floor (unshare, maps, bind, pivot, exec true): ${floor} ms"
echo "enroot start NAME true: ${start} ms"
awk -v a="$start" -v b="$floor" 'BEGIN {printf "ratio: %.2fx (target: within 2x)\n", a/b}'
