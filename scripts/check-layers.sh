#!/bin/sh
# Check the layering of lib/: a file in lib/LAYER/ includes headers of its own layer or of a
# lower one only (base < registry < image < runtime), and no two modules (NAME.c with its
# NAME.h) include each other, directly or through others.  Prints each offence; exit 1 if any.
set -eu
cd "$(dirname "$0")/.."
rank() {
	case $1 in base) echo 0 ;; registry) echo 1 ;; image) echo 2 ;; runtime) echo 3 ;; *) echo 9 ;; esac
}
bad=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
for f in lib/*/*.[ch]; do
	layer=${f#lib/}
	layer=${layer%%/*}
	mod=${f%.[ch]}
	mod=${mod#lib/}
	for inc in $(sed -n 's/^#include "\([a-z]*\/[a-z0-9_]*\)\.h".*/\1/p' "$f"); do
		if [ "$(rank "${inc%%/*}")" -gt "$(rank "$layer")" ]; then
			echo "check-layers: $f includes $inc.h from a higher layer" >&2
			bad=1
		fi
		[ "$inc" = "$mod" ] || echo "$mod $inc" >>"$edges"
	done
	echo "$mod $mod" >>"$edges"
done
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
	sed 's/^tsort: /check-layers: include circle: /' "$edges.err" >&2
	bad=1
fi
rm -f "$edges.err"
exit $bad
