#!/bin/bash
# import-many.sh: import many images at once with GNU parallel, one squashfs file per URI.
#
#   import-many.sh [-j JOBS] [-o DIR] [FILE]
#
# Reads URIs (docker://, dockerd://, podman://), one a line, from FILE or standard input;
# blank lines and lines starting with # are skipped.  Runs `enroot import URI` for each in
# DIR (default: the current directory), at most JOBS at a time (default 2: each import
# already downloads its layers concurrently, ENROOT_MAX_CONNECTIONS, and runs mksquashfs on
# ENROOT_MAX_PROCESSORS CPUs).  Outputs get enroot's default names (ubuntu+24.04.sqsh);
# images sharing layers share the cache safely.  A failed import's messages stay in
# DIR/<URI>.log.  At the end it prints one line per failure ("FAILED URI (see LOG)") and a
# count, and exits 1 if any failed.
#
# Example:  printf '%s\n' docker://ubuntu:24.04 docker://alpine | import-many.sh -j 2 -o images
set -u
jobs=2 out=.
usage() {
	echo "usage: import-many.sh [-j JOBS] [-o DIR] [FILE]" >&2
	exit 1
}
while getopts j:o:h opt; do
	case $opt in
	j) jobs=$OPTARG ;;
	o) out=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
command -v parallel >/dev/null || { echo "import-many.sh: GNU parallel is missing" >&2; exit 1; }
mkdir -p "$out" || exit 1
list=$(mktemp) results=$(mktemp)
trap 'rm -f "$list" "$results"' EXIT
grep -Ev '^[[:space:]]*(#|$)' "${1:-/dev/stdin}" >"$list"
total=$(wc -l <"$list")

# One import, run in DIR so that enroot picks its default output name there.
one() {
	local uri=$1 out=$2 log
	log=$out/$(printf '%s' "${uri#*://}" | tr -c 'A-Za-z0-9._-' '+').log
	if (cd "$out" && enroot import "$uri") >"$log" 2>&1; then
		rm -f "$log"
		echo "OK $uri"
	else
		echo "FAILED $uri (see $log)"
	fi
}
export -f one
parallel --will-cite -j "$jobs" -a "$list" one {} "$out" >"$results"
grep '^FAILED' "$results"
failed=$(grep -c '^FAILED' "$results")
echo "import-many.sh: $((total - failed)) of $total imported into $out, $failed failed"
[ "$failed" = 0 ]
