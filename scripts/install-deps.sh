#!/bin/sh
# Install what enroot needs to build, run and test on Debian 12. Idempotent: packages already
# present are left alone, and apt's lists are refreshed only when something is missing.
set -eu

# Build: compiler, pkg-config and the four libraries (libcurl, yajl, libarchive, libcap).
BUILD="build-essential pkg-config libcurl4-openssl-dev libyajl-dev libarchive-dev libcap-dev"
# The one-pass squashfs writer (lib/image/sqfscomp.c) compresses with lzo1x_1, zlib and zstd, loaded
# with dlopen: only their headers are needed to build (zlib1g-dev and libzstd-dev come with
# libarchive-dev; liblzo2-dev is for lzo, the default ENROOT_SQUASH_OPTIONS compressor).
BUILD="$BUILD liblzo2-dev zlib1g-dev libzstd-dev"
# Layers are gzip-decoded by ISA-L (lib/image/inflate.c, zlib where it is missing) and blobs
# hashed by libcrypto (lib/base/sha256.c, plain C where it is missing), both dlopen'ed: the
# headers to build, the libraries to run (libssl3 comes with libssl-dev and libcurl).
BUILD="$BUILD libisal-dev libssl-dev"
RUNLIBS="libisal2 libssl3"
# Run: squashfs-tools, GNU parallel, squashfuse and the overlay/FUSE tools, passwd for the
# shadow hook, util-linux and procps for list -f.
RUN="$RUNLIBS squashfs-tools parallel squashfuse fuse-overlayfs fuse3 passwd util-linux procps bash ca-certificates"
# Test: the registry, image builders, a static busybox for test rootfs, pigz (gzip layers in
# the tests), isal (igzip, the inflate floor of the benchmark), clang's fuzzer
# runtime, python3 for small test servers, openssl for the test CA, htpasswd, zstd, jq, and
# man/groff to check the man pages render.
TEST="docker-registry umoci skopeo busybox-static pigz isal clang libclang-rt-14-dev python3 openssl apache2-utils zstd jq man-db groff-base hyperfine"
# import's podman:// is tested against real rootless podman (uidmap for its newuidmap);
# the import benchmark reads peak RSS with GNU time.
TEST="$TEST podman uidmap time strace"
# The import benchmark (not make check) builds its Debian image with debootstrap.
TEST="$TEST debootstrap"

missing=
for p in $BUILD $RUN $TEST; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: everything is installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$missing (run as root)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: installed:$missing"
