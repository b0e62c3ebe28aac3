#!/bin/sh
# Generate the sorted applet table from the APPLET( and ALIAS( lines of applets/*.c.
#   APPLET(name, flags)      the applet "name", entry point name_main (dashes become _)
#   ALIAS(alias, name)       a compat name dispatching to applet "name"
# Fails on a duplicate name, so two applets can never claim one symlink.
set -eu
out=$1
shift
tmp=$out.tmp
sed -n 's/^[ *]*APPLET(\([a-z0-9-]*\), *\([^)]*\)).*/\1 \1 \2/p; s/^[ *]*ALIAS(\([a-z0-9-]*\), *\([a-z0-9-]*\)).*/\1 \2 ALIAS/p' "$@" |
	LC_ALL=C sort >"$tmp"
dups=$(cut -d' ' -f1 "$tmp" | uniq -d)
if [ -n "$dups" ]; then
	echo "gen-applets: duplicate applet name: $dups" >&2
	rm -f "$tmp"
	exit 1
fi
awk '{ f = $2; gsub("-", "_", f); alias = ($3 == "ALIAS") ? 1 : 0
       printf "APPLET(\"%s\", %s_main, %d)\n", $1, f, alias }' "$tmp" >"$out.new"
rm -f "$tmp"
if cmp -s "$out.new" "$out"; then rm -f "$out.new"; else mv "$out.new" "$out"; fi
