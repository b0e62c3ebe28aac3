#!/bin/bash
# create.sh: `enroot create` against `unsquashfs` alone on the same image (target: 1.2x).
set -eu
SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BIN:-$SRC/build/bin}
T=$(mktemp -d /tmp/enroot-bench.XXXXXX)
trap 'chmod -R u+rwX "$T"; rm -rf "$T"' EXIT
export ENROOT_DATA_PATH=$T/data ENROOT_CACHE_PATH=$T/cache ENROOT_RUNTIME_PATH=$T/run
export ENROOT_CONFIG_PATH=$T/cfg ENROOT_SYSCONF_PATH=${ENROOT_SYSCONF_PATH:-$SRC/etc}
export PATH=$BIN:$PATH
# Some thousands of files: the python standard library, or /usr/share/doc.
src=$(ls -d /usr/lib/python3.* 2>/dev/null | head -1)
mksquashfs "${src:-/usr/share/doc}" "$T/img.sqsh" -all-root -noappend -quiet -comp lzo -noD >/dev/null 2>&1
best() { # the best of 3 wall times in ms of "$@", cleaning with $CLEAN between runs
	local i s e b=
	for i in 1 2 3; do
		eval "$CLEAN"
		s=${EPOCHREALTIME/./}
		"$@" >/dev/null 2>&1
		e=${EPOCHREALTIME/./}
		if [ -z "$b" ] || [ $((e - s)) -lt "$b" ]; then b=$((e - s)); fi
	done
	echo "$((b / 1000))"
}
CLEAN='rm -rf "$T/u"'
u=$(best unsquashfs -no-progress -processors "$(nproc)" -user-xattrs -d "$T/u" "$T/img.sqsh")
CLEAN='chmod -R u+rwX "$T/data" 2>/dev/null; rm -rf "$T/data/c"'
c=$(best enroot create -n c "$T/img.sqsh")
echo "unsquashfs alone: ${u} ms ($(find "$T/data/c" | wc -l) entries)"
echo "enroot create: ${c} ms"
awk -v a="$c" -v b="$u" 'BEGIN {printf "ratio: %.2fx (target: within 1.2x)\n", a/b}'
