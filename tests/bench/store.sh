#!/bin/bash
# tests/bench/store.sh: `enroot store get` of an image already in the node store, 16 at once
# (as the tasks of a job on one node ask for it), against `enroot version` (an exec of the
# binary) and `enroot digest` (one manifest request) measured in the same run.  Goal (issue
# 14): every one of the 2nd..16th gets under 50 ms.
set -u
cd "$(dirname "$0")/../.." || exit 1
SRC=$PWD
BIN=${BIN:-$SRC/build/bin}
export BIN SRC
. tests/lib.sh
. tests/registry.sh
for tool in docker-registry skopeo umoci; do
	command -v "$tool" >/dev/null || { echo "store bench: SKIP: $tool missing"; exit 0; }
done
registry_start http >/dev/null || { echo "store bench: registry did not start"; exit 1; }
mkdir -p "$T/l" && head -c 20000000 /dev/urandom >"$T/l/big"
oci_image "$T/oci" a "$T/l" >/dev/null && oci_push "$T/oci" a bench/store:a || exit 1
export ENROOT_ALLOW_HTTP=y ENROOT_CACHE_PATH=$T/cache ENROOT_DATA_PATH=$T/data
export ENROOT_TEMP_PATH=$T/tmp ENROOT_RUNTIME_PATH=$T/run ENROOT_CONFIG_PATH=$T/config
export ENROOT_STORE_PATH=$T/store
mkdir -p "$T/tmp"
URI="docker://$REGISTRY#bench/store:a"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
t0=$(date +%s%N) && enroot store get "$URI" >/dev/null 2>&1 && cold=$(ms "$t0")
# timed CMD OUT: run CMD, write its milliseconds to OUT.
timed() { local t=$(date +%s%N); eval "$1" >/dev/null 2>&1; ms "$t" >"$2"; }
pids=
for i in $(seq 2 16); do
	timed "enroot store get '$URI'" "$T/get.$i" &
	pids="$pids $!"
done
wait $pids
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
gets=$(cat "$T"/get.* | median)
worst=$(cat "$T"/get.* | sort -n | tail -1)
for i in $(seq 9); do timed "enroot version" "$T/v.$i"; timed "enroot digest '$URI'" "$T/d.$i"; timed "enroot store get '$URI'" "$T/s.$i"; done
ver=$(cat "$T"/v.* | median) dig=$(cat "$T"/d.* | median) seq=$(cat "$T"/s.* | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
echo "store bench: a 20 MB image, $(nproc) CPUs; milliseconds"
printf '  %-52s %6s %8s\n' "" "ms" "/ digest"
printf '  %-52s %6s %8s\n' "enroot version (one exec)" "$ver" "$(ratio "$ver" "$dig")"
printf '  %-52s %6s %8s\n' "enroot digest (one manifest request)" "$dig" "1.00x"
printf '  %-52s %6s %8s\n' "store get, cold (import)" "$cold" "$(ratio "$cold" "$dig")"
printf '  %-52s %6s %8s\n' "store get, in the store, one at a time (median of 9)" "$seq" "$(ratio "$seq" "$dig")"
printf '  %-52s %6s %8s\n' "store get, 2nd..16th at once: median" "$gets" "$(ratio "$gets" "$dig")"
printf '  %-52s %6s %8s\n' "store get, 2nd..16th at once: slowest (goal < 50)" "$worst" "$(ratio "$worst" "$dig")"
exit 0
