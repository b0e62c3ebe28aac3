# tests/registry.sh: a real docker-registry on 127.0.0.1 and images built with umoci, for the
# registry tests.  Source it after tests/lib.sh.  Everything started is stopped via at_exit.
#
#   registry_start MODE          MODE: http | tls | basic (htpasswd, over http).  Sets
#                                REGISTRY=127.0.0.1:PORT and REGISTRY_DIR; for tls also
#                                REGISTRY_CA (the CA certificate; pass it as SSL_CERT_FILE);
#                                for basic REGISTRY_USER/REGISTRY_PASS (pushes use them).
#   regproxy_start BACKEND ARGS  start tests/regproxy.py in front of BACKEND (HOST:PORT) with
#                                ARGS (--token U:P, --fail N:STATUS, --retry-after S,
#                                --redirect); sets PROXY=127.0.0.1:PORT and PROXY_LOG.
#   registry_have                0 when docker-registry, umoci and skopeo are all installed
#
#   oci_image DIR TAG [ROOTFS-DIR] [umoci config args...]
#                                build DIR (an OCI layout) :TAG with one layer holding the
#                                files of ROOTFS-DIR (or a single /hello file), then apply
#                                `umoci config` ARGS (--config.env=..., --architecture=...).
#   oci_layer DIR TAG ROOTFS-DIR add one more layer with the files of ROOTFS-DIR
#   oci_push DIR TAG NAME:TAG [REGISTRY]
#                                push with skopeo (REGISTRY defaults to $REGISTRY; basic-auth
#                                registries get the credentials); prints nothing
#   manifest_digest NAME:TAG [REGISTRY]   the registry's sha256:... for a pushed manifest
#   oci_index_push NAME:TAG ENTRY...      PUT an OCI index made of ENTRY =
#                                REF|OS|ARCH|VARIANT[|attestation]
#                                (REF a pushed NAME:TAG in the same repository, image or index;
#                                VARIANT may be empty; "attestation" adds the
#                                vnd.docker.reference.type annotation, as buildx does)

REG_SRC=${SRC:?}/tests

# Without XDG_RUNTIME_DIR, skopeo reads /run/containers/$UID/auth.json, and a rootful podman
# anywhere on the machine leaves /run/containers at 0700: that read then fails (EACCES) for
# the test user.  Pushes get an auth file of our own (not REGISTRY_AUTH_FILE in the
# environment: docker-registry takes REGISTRY_* variables as its configuration).
printf '{"auths": {}}\n' >"$T/noauth.json"

registry_have() {
	command -v docker-registry >/dev/null && command -v umoci >/dev/null &&
		command -v skopeo >/dev/null && command -v openssl >/dev/null
}

# Write the registry's config.yml into $1 for port $2 and mode $3.
_registry_config() {
	local dir=$1 port=$2 mode=$3
	{
		echo "version: 0.1"
		echo "log: {level: error, accesslog: {disabled: false}}"
		echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
		echo "http:"
		echo "  addr: 127.0.0.1:$port"
		echo "  secret: enroot-test"
		if [ "$mode" = tls ]; then
			echo "  tls: {certificate: $dir/server.crt, key: $dir/server.key}"
		fi
		if [ "$mode" = basic ]; then
			echo "auth: {htpasswd: {realm: enroot-test, path: $dir/htpasswd}}"
		fi
	} >"$dir/config.yml"
}

# A CA and a server certificate for 127.0.0.1 and localhost, made with openssl.
_registry_certs() {
	local dir=$1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=enroot-test-ca \
		-keyout "$dir/ca.key" -out "$dir/ca.crt" >/dev/null 2>&1 || return 1
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$dir/ext"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/ext" -out "$dir/server.crt" >/dev/null 2>&1
}

# Wait until the registry in $1 (pid $2) answers /v2/ on port $3; 1 when it died.
_registry_wait() {
	local dir=$1 pid=$2 port=$3 mode=$4 i scheme=http code
	[ "$mode" = tls ] && scheme=https
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		code=$(curl -sk -o /dev/null -w '%{http_code}' "$scheme://127.0.0.1:$port/v2/")
		case $code in 200 | 401) return 0 ;; esac
		sleep 0.1
	done
	return 1
}

registry_start() {
	local mode=${1:-http} dir port pid try
	dir=$(mktemp -d "$T/registry.XXXXXX")
	mkdir -p "$dir/data"
	if [ "$mode" = tls ]; then
		_registry_certs "$dir" || { echo "registry_start: openssl failed" >&2; return 1; }
		REGISTRY_CA=$dir/ca.crt
	fi
	if [ "$mode" = basic ]; then
		REGISTRY_USER=tester REGISTRY_PASS=s3cret-pass
		htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASS" >"$dir/htpasswd"
	fi
	for try in 1 2 3 4 5; do
		port=$(free_port)
		_registry_config "$dir" "$port" "$mode"
		docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
		pid=$!
		at_exit "kill $pid"
		if _registry_wait "$dir" "$pid" "$port" "$mode"; then
			REGISTRY=127.0.0.1:$port REGISTRY_DIR=$dir REGISTRY_MODE=$mode
			return 0
		fi
		kill "$pid" 2>/dev/null
	done
	echo "registry_start: docker-registry did not come up:" >&2
	tail -5 "$dir/log" >&2
	return 1
}

regproxy_start() {
	local backend=$1 dir pid i
	shift
	dir=$(mktemp -d "$T/regproxy.XXXXXX")
	python3 "$REG_SRC/regproxy.py" --backend "$backend" --log "$dir/log" \
		--port-file "$dir/port" "$@" 2>"$dir/err" &
	pid=$!
	at_exit "kill $pid"
	for i in $(seq 100); do
		if [ -s "$dir/port" ]; then
			PROXY=127.0.0.1:$(cat "$dir/port") PROXY_LOG=$dir/log
			: >"$PROXY_LOG"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "regproxy_start: proxy did not start:" >&2
	cat "$dir/err" >&2
	return 1
}

# Copy the files of $3 into the rootfs of a fresh unpack of $1:$2 and repack it as a layer.
oci_layer() {
	local dir=$1 tag=$2 src=$3 bundle
	bundle=$(mktemp -d "$T/bundle.XXXXXX")
	rmdir "$bundle"
	umoci unpack --rootless --image "$dir:$tag" "$bundle" >/dev/null || return 1
	cp -a "$src/." "$bundle/rootfs/" || return 1
	umoci repack --image "$dir:$tag" "$bundle" >/dev/null || return 1
	chmod -R u+rwX "$bundle"
	rm -rf "$bundle"
}

oci_image() {
	local dir=$1 tag=$2 src=${3-}
	shift 2
	[ $# -gt 0 ] && shift
	[ -d "$dir" ] || umoci init --layout "$dir" || return 1
	umoci new --image "$dir:$tag" || return 1
	if [ -z "$src" ]; then
		src=$(mktemp -d "$T/rootfs.XXXXXX")
		echo "hello from $tag" >"$src/hello"
	fi
	oci_layer "$dir" "$tag" "$src" || return 1
	if [ $# -gt 0 ]; then
		umoci config --image "$dir:$tag" "$@" || return 1
	fi
	umoci gc --layout "$dir"
}

oci_push() {
	local dir=$1 tag=$2 ref=$3 reg=${4:-$REGISTRY} creds=(--dest-authfile "$T/noauth.json")
	if [ "$reg" = "$REGISTRY" ] && [ "${REGISTRY_MODE:-}" = basic ]; then
		# An auth file, not --dest-creds: credentials stay out of argv.
		(umask 077 && printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$reg" \
			"$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASS" | base64 -w0)" \
			>"$REGISTRY_DIR/auth.json")
		creds=(--dest-authfile "$REGISTRY_DIR/auth.json")
	fi
	skopeo copy -q --dest-tls-verify=false "${creds[@]}" "oci:$dir:$tag" "docker://$reg/$ref"
}

# curl to reach $REGISTRY directly (credentials only through a 0600 config file, not argv).
_registry_curl() {
	if [ "${REGISTRY_MODE:-}" = basic ]; then
		(umask 077 && printf 'user = "%s:%s"\n' "$REGISTRY_USER" "$REGISTRY_PASS" >"$REGISTRY_DIR/curlrc")
		curl -sk -K "$REGISTRY_DIR/curlrc" "$@"
	else
		curl -sk "$@"
	fi
}

_registry_url() {
	local reg=${1:-$REGISTRY} scheme=http
	[ "$reg" = "$REGISTRY" ] && [ "${REGISTRY_MODE:-}" = tls ] && scheme=https
	echo "$scheme://$reg"
}

manifest_digest() {
	local ref=$1 reg=${2:-$REGISTRY} name tag
	name=${ref%:*} tag=${ref##*:}
	_registry_curl -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"$(_registry_url "$reg")/v2/$name/manifests/$tag" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# "DIGEST SIZE MEDIATYPE" of a pushed manifest or index, in one request.
_manifest_info() {
	local name=$1 ref=$2 reg=$3
	_registry_curl -o /dev/null -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-w '%header{docker-content-digest} %{size_download} %{content_type}' \
		"$(_registry_url "$reg")/v2/$name/manifests/$ref"
}

oci_index_push() {
	local ref=$1 reg=${REGISTRY} name tag entry eref os arch variant attest digest size mt sep="" json
	shift
	name=${ref%:*} tag=${ref##*:}
	json='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['
	for entry in "$@"; do
		IFS='|' read -r eref os arch variant attest <<<"$entry"
		read -r digest size mt < <(_manifest_info "$name" "${eref##*:}" "$reg")
		[ -n "$digest" ] || { echo "oci_index_push: no digest for $eref" >&2; return 1; }
		json+="$sep{\"mediaType\":\"$mt\",\"digest\":\"$digest\",\"size\":$size,"
		if [ -n "$attest" ]; then
			json+="\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"},"
		fi
		json+="\"platform\":{\"os\":\"$os\",\"architecture\":\"$arch\""
		[ -n "$variant" ] && json+=",\"variant\":\"$variant\""
		json+="}}"
		sep=,
	done
	json+=']}'
	printf '%s' "$json" | _registry_curl -X PUT --fail-with-body \
		-H 'Content-Type: application/vnd.oci.image.index.v1+json' --data-binary @- \
		"$(_registry_url "$reg")/v2/$name/manifests/$tag" >/dev/null
}
