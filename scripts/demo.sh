#!/bin/bash
# The main job, end to end on a fresh Debian 12 machine (run as root):
#   install the dependencies, build, start a local registry on a free loopback port, build a
#   small image with umoci and push it with skopeo, then as an unprivileged user
#   `enroot import` it, `enroot create` it and `enroot start` a command in it.
# Everything it starts is stopped and everything it makes is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

scripts/install-deps.sh
make -j"$(nproc)" >/dev/null

work=$(mktemp -d /tmp/enroot-demo.XXXXXX)
chmod 0755 "$work"
reg_pid=
cleanup() {
	# The registry dies of our SIGTERM: its status (143) is not the demo's.
	if [ -n "$reg_pid" ]; then
		kill "$reg_pid" 2>/dev/null || true
		wait "$reg_pid" 2>/dev/null || true
	fi
	chmod -R u+rwX "$work" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# 1. A registry on 127.0.0.1, on a port the kernel picks.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<CONF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
CONF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
	curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break
	sleep 0.1
done

# 2. An image: a busybox rootfs in two layers, with an environment and a working directory.
cd "$work"
umoci init --layout oci >/dev/null
umoci new --image oci:demo >/dev/null
umoci unpack --rootless --image oci:demo bundle >/dev/null
mkdir -p bundle/rootfs/bin bundle/rootfs/etc
cp /bin/busybox bundle/rootfs/bin/busybox
for c in sh cat echo id ls uname; do ln -s busybox "bundle/rootfs/bin/$c"; done
umoci repack --image oci:demo bundle >/dev/null
echo "Hello from a container built by umoci" >bundle/rootfs/etc/motd
umoci repack --image oci:demo bundle >/dev/null
umoci config --image oci:demo --config.env=GREETING=hello --config.workingdir=/etc \
	--config.cmd=/bin/sh >/dev/null
skopeo copy -q --dest-tls-verify=false oci:oci:demo "docker://127.0.0.1:$port/demo/busybox:1.0"
cd "$src"

# 3. As an unprivileged user: import, create, start.
run_as=()
if [ "$(id -u)" = 0 ]; then
	id -u enroot-demo >/dev/null 2>&1 || useradd -m -s /bin/bash enroot-demo
	chown -R enroot-demo: "$work"
	run_as=(runuser -u enroot-demo --)
fi
"${run_as[@]}" env -i PATH="$src/build/bin:/usr/bin:/bin" HOME="$work/home" TERM=dumb \
	ENROOT_ALLOW_HTTP=y ENROOT_DATA_PATH="$work/data" ENROOT_CACHE_PATH="$work/cache" \
	ENROOT_RUNTIME_PATH="$work/run" ENROOT_CONFIG_PATH="$work/config" \
	ENROOT_SYSCONF_PATH="$src/etc" ENROOT_TEMP_PATH="$work" \
	bash -euc '
		cd "$1"
		set -x
		enroot import "docker://127.0.0.1:$2#demo/busybox:1.0"
		enroot create demo+busybox+1.0.sqsh
		enroot list
		enroot start demo+busybox+1.0 sh -c "cat motd; echo \"\$GREETING from \$(pwd) as \$(id -un), uid map: \$(cat /proc/self/uid_map)\""
	' demo "$work" "$port"
