#!/bin/sh
# enroot bundle: a self-extracting container (spec section 12), written by `enroot bundle`.
# A POSIX sh header, then a tar archive (possibly compressed) of the image's root filesystem
# with the runtime in /.enroot: enroot run through its own loader and libraries, the
# configuration, hooks, mounts and environment files. Needs on the host: a Linux kernel with
# unprivileged user namespaces, sh, tar, tail, mktemp, rm, chmod (and df, sha256sum, the
# decompressor and bash when they are used). Run it with --help.
skip=@SKIP@
sha256=@SHA256@
compression=@COMPRESSION@
description=@DESCRIPTION@
target=@TARGET@
size=@SIZE@
version=@VERSION@

usage() {
	cat <<EOF
Usage: $0 [options] [--] [COMMAND] [ARG...]

Run the container bundled in this file: extract it, then start it like \`enroot start\`.

 Options:
   -i, --info           Display the information about this bundle
   -k, --keep           Keep the bundle extracted in the target directory
   -q, --quiet          Suppress the progress messages
   -v, --verify         Verify that the host configuration is compatible with the bundle
   -x, --extract        Extract the bundle in the target directory and exit (implies --keep)

   -c, --conf CONFIG    Specify a configuration script to run before the container starts
   -e, --env KEY[=VAL]  Export an environment variable inside the container
       --rc SCRIPT      Override the command script inside the container
   -r, --root           Ask to be remapped to root inside the container
   -w, --rw             Make the container root filesystem writable
   -m, --mount FSTAB    Perform a mount from the host inside the container (colon-separated)
EOF
}

err() {
	printf '[ERROR] %s\n' "$*" >&2
	exit 1
}

info() {
	[ -n "$quiet" ] || ! [ -t 2 ] || printf '[INFO] %s\n' "$*" >&2
}

# The payload: everything after the header's $skip bytes.
payload() {
	tail -c +$((skip + 1)) -- "$0"
}

decompress() {
	case $compression in
	none) cat ;;
	gzip) gzip -d -c ;;
	xz) xz -d -c ;;
	zstd) zstd -d -q -c ;;
	lz4) lz4 -d -q -c ;;
	lzo) lzop -d -c ;;
	*) return 1 ;;
	esac
}

check_sum() {
	[ -n "$sha256" ] || return 0
	command -v sha256sum >/dev/null || err "Command not found: sha256sum"
	sum=$(payload | sha256sum) || err "failed to read: $0"
	[ "${sum%% *}" = "$sha256" ] || err "Checksum mismatch: $0 is corrupted"
}

show_info() {
	[ -z "$sha256" ] || echo "Checksum (sha256): $sha256"
	echo "Compression: $compression"
	echo "Description: $description"
	echo "Runtime version: $version"
	echo "Target directory: $target"
	echo "Uncompressed size: $size KB"
}

# One line of the --verify report; $2 is OK or KO.
row() {
	printf '%-45s: %s\n' "$1" "$2"
	[ "$2" != KO ] || [ -z "${3-}" ] || failed=1
}

kernel_config() {
	if [ -r /proc/config.gz ]; then
		gzip -d -c /proc/config.gz 2>/dev/null
	elif [ -r "/boot/config-$(uname -r)" ]; then
		cat "/boot/config-$(uname -r)"
	fi
}

# Kernel options: NAME then "required" or a note why it may be needed. One grep, then
# pattern matching (each process costs milliseconds).
check_config() {
	conf=$(kernel_config | grep -E '^CONFIG_[A-Z0-9_]+=[ym]$')
	nl='
'
	for opt in NAMESPACES:required USER_NS:required SECCOMP_FILTER:required \
		OVERLAY_FS:optional X86_VSYSCALL_EMULATION:glibc VSYSCALL_EMULATE:glibc \
		VSYSCALL_NATIVE:glibc; do
		name=CONFIG_${opt%%:*} kind=${opt#*:}
		case $nl$conf$nl in
		*"$nl$name=y$nl"*) row "$name" OK ;;
		*"$nl$name=m$nl"*) row "$name" "OK (module)" ;;
		*)
			if [ -z "$conf" ]; then
				row "$name" "unknown (kernel configuration not found)"
			elif [ "$kind" = required ]; then
				row "$name" KO required
			elif [ "$kind" = glibc ]; then
				row "$name" "KO (required if glibc <= 2.13)"
			else
				row "$name" "KO (optional)"
			fi
			;;
		esac
	done
}

# A sysctl (NAME, its path under /proc/sys) that must be set (> 0), or unset (0) when $3 is
# "off".
check_sysctl() {
	# (not read: dash's read of a /proc/sys file can return a truncated value)
	v=$(cat "/proc/sys/$2" 2>/dev/null)
	if [ -z "$v" ]; then
		row "$1" "OK (not present)"
	elif [ "${3-}" = off ]; then
		if [ "$v" = 0 ]; then row "$1" OK; else row "$1" KO required; fi
	elif [ "$v" -gt 0 ] 2>/dev/null; then
		row "$1" OK
	else
		row "$1" KO required
	fi
}

verify() {
	failed=
	printf 'Kernel version:\n\n%s\n\n' "$(uname -srvm)"
	printf 'Kernel configuration:\n\n'
	check_config
	case $(uname -r) in
	3.10.*)
		printf '\nKernel command line:\n\n'
		for arg in namespace.unpriv_enable=1 user_namespace.enable=1; do
			if grep -q "$arg" /proc/cmdline; then row "$arg" OK; else row "$arg" KO required; fi
		done
		;;
	esac
	printf '\nKernel parameters:\n\n'
	check_sysctl kernel.unprivileged_userns_clone kernel/unprivileged_userns_clone
	check_sysctl user.max_user_namespaces user/max_user_namespaces
	check_sysctl user.max_mnt_namespaces user/max_mnt_namespaces
	check_sysctl kernel.apparmor_restrict_unprivileged_userns \
		kernel/apparmor_restrict_unprivileged_userns off
	printf '\nExtra packages:\n\n'
	if command -v nvidia-container-cli >/dev/null; then
		row nvidia-container-cli OK
	else
		row nvidia-container-cli "KO (required for GPU support)"
	fi
	[ -z "$failed" ] || err "This host cannot run the bundle (see the KO lines above)"
	exit 0
}

# Extract the payload into $root (which must not exist).
extract() {
	[ -e "$root" ] || [ -L "$root" ] && err "File already exists: $root"
	if [ "$compression" != none ] && ! command -v "$(decompressor)" >/dev/null; then
		err "Command not found: $(decompressor) (needed to extract this bundle)"
	fi
	parent=${root%/*}
	avail=$(df -Pk -- "${parent:-/}" 2>/dev/null | { read -r _ && read -r _ _ _ a _ && echo "$a"; })
	if [ -n "$avail" ] && [ "$avail" -lt "$size" ] 2>/dev/null; then
		err "Not enough space left in ${parent:-/} ($size KB needed)"
	fi
	info "Extracting bundle into $root"
	mkdir -m 0755 -- "$root" || err "failed to create directory: $root"
	(payload | decompress | tar -C "$root" -x -p -f -) ||
		err "failed to extract: $0 (corrupted bundle?)"
	[ -x "$root/.enroot/bin/enroot" ] || err "failed to extract: $0 (corrupted bundle?)"
}

decompressor() {
	case $compression in lzo) echo lzop ;; *) echo "$compression" ;; esac
}

# The environment of the bundled runtime (spec section 12): its own configuration, hooks,
# mounts and environment files; the host's enroot configuration is not read.
runtime_env() {
	PATH=$root/.enroot/bin:${PATH:-/usr/bin:/bin}
	ENROOT_LIBRARY_PATH=$root/.enroot/lib
	ENROOT_SYSCONF_PATH=$root/.enroot/etc/system
	ENROOT_CONFIG_PATH=$root/.enroot/etc/user
	ENROOT_DATA_PATH=$root
	ENROOT_RUNTIME_PATH=$rundir
	ENROOT_CACHE_PATH=$rundir
	export PATH ENROOT_LIBRARY_PATH ENROOT_SYSCONF_PATH ENROOT_CONFIG_PATH ENROOT_DATA_PATH
	export ENROOT_RUNTIME_PATH ENROOT_CACHE_PATH
	if [ -f "$root/.enroot/etc/config" ]; then
		# shellcheck disable=SC1091 # written by enroot bundle -a
		. "$root/.enroot/etc/config"
	fi
	mkdir -m 0700 -- "$rundir" 2>/dev/null || [ -d "$rundir" ] || err "failed to create directory: $rundir"
	"$root/.enroot/bin/enroot" version >/dev/null 2>&1 ||
		err "failed to run: $root/.enroot/bin/enroot (is ${root%/*} mounted noexec?)"
}

cleanup() {
	trap - EXIT
	if [ -n "$tmp" ]; then
		rm -rf -- "$tmp" 2>/dev/null || { chmod -R u+rwX -- "$tmp"; rm -rf -- "$tmp"; }
	fi
}

main() {
	mode=run quiet='' keep='' tmp='' sep='' n=$#
	# Our own options are taken out; the runtime's are kept, in order, then "-- ." and the
	# command (the bundle's root is "." under ENROOT_DATA_PATH).
	while [ "$n" -gt 0 ]; do
		a=$1
		shift
		n=$((n - 1))
		case $a in
		-i | --info) mode=info ;;
		-v | --verify) mode=verify ;;
		-k | --keep) keep=1 ;;
		-x | --extract) mode=extract keep=1 ;;
		-q | --quiet) quiet=1 ;;
		-h | --help) usage && exit 0 ;;
		-r | --root | -w | --rw | --conf=?* | --env=?* | --mount=?* | --rc=?*) set -- "$@" "$a" ;;
		-c | --conf | -e | --env | -m | --mount | --rc)
			if [ "$n" -eq 0 ] || [ -z "$1" ]; then
				usage | head -1 >&2
				exit 1
			fi
			set -- "$@" "$a" "$1"
			shift
			n=$((n - 1))
			;;
		--) set -- "$@" -- . && sep=1 && break ;;
		-?*) printf '%s\n' "[ERROR] Invalid option: $a" >&2 && usage | head -1 >&2 && exit 1 ;;
		*) set -- "$@" -- . "$a" && sep=1 && break ;;
		esac
	done
	[ -n "$sep" ] || set -- "$@" -- .
	# Rotate the rest (the command and its arguments) behind the options.
	while [ "$n" -gt 0 ]; do
		set -- "$@" "$1"
		shift
		n=$((n - 1))
	done

	check_sum
	case $mode in
	info) show_info && exit 0 ;;
	verify) verify ;;
	esac
	if [ -n "$keep" ]; then
		case $target in /*) root=$target ;; *) root=$(pwd)/$target ;; esac
		root=${root%/}
		rundir=${root%/*}/.${root##*/}
		extract
		[ "$mode" != extract ] || exit 0
		runtime_env
		exec "$root/.enroot/bin/enroot" start "$@"
	fi
	tmp=$(mktemp -d "${ENROOT_TEMP_PATH:-${TMPDIR:-/tmp}}/enroot-bundle.XXXXXXXXXX") ||
		err "failed to create directory in: ${ENROOT_TEMP_PATH:-${TMPDIR:-/tmp}}"
	trap cleanup EXIT
	trap 'cleanup; trap - INT; kill -INT $$' INT
	trap 'cleanup; trap - TERM; kill -TERM $$' TERM
	trap 'cleanup; trap - HUP; kill -HUP $$' HUP
	root=$tmp/${target##*/}
	rundir=$tmp/.${target##*/}
	extract
	runtime_env
	"$root/.enroot/bin/enroot" start "$@"
	rc=$?
	cleanup
	return $rc
}

main "$@"
exit $?
