# tests/lib.sh: the harness every tests/NAME.test sources.
#
#   testing NAME COMMAND EXPECTED_STDOUT EXPECTED_STATUS [STDERR_ERE]
#
# COMMAND runs under bash in the scratch directory $T with stdin from /dev/null (use a pipe or
# a redirection inside COMMAND to feed it).  Stdout must equal EXPECTED_STDOUT (trailing
# newlines aside), the exit status must equal EXPECTED_STATUS, and stderr must match the
# extended regular expression STDERR_ERE, or be empty when the fifth argument is "" or absent.
# A fifth argument of "*" accepts any stderr.
#
#   skip NAME REASON        count a skip and print why (never skip silently)
#   check NAME COMMAND      a case that passes when COMMAND exits 0 (for probes of the system)
#   at_exit COMMAND         run COMMAND when the test file ends (stop servers, unmount)
#
# Environment: BIN (the directory with the enroot binary and its applet symlinks, first on
# PATH), SRC (the source tree), T (a scratch directory removed at the end), RESULTS (where
# the counts go).

set -u
: "${BIN:?BIN must name the directory holding the built applets}"
: "${SRC:?SRC must name the source tree}"
: "${RESULTS:=/dev/null}"
export PATH="$BIN:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/enroot-test.XXXXXX")
export T
TEST_FILE=$(basename "$0" .test)
_at_exit=()

at_exit() {
	_at_exit+=("$1")
}

_cleanup() {
	local i
	for ((i = ${#_at_exit[@]} - 1; i >= 0; i--)); do
		eval "${_at_exit[i]}" >/dev/null 2>&1 || true
	done
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

_pass() {
	echo "PASS: $TEST_FILE: $1"
	echo pass >>"$RESULTS"
}

_fail() {
	echo "FAIL: $TEST_FILE: $1"
	echo fail >>"$RESULTS"
}

skip() {
	echo "SKIP: $TEST_FILE: $1: $2"
	echo skip >>"$RESULTS"
}

testing() {
	local name=$1 cmd=$2 want_out=$3 want_status=$4 want_err=${5-}
	local out err status ok=1
	(cd "$T" && eval "$cmd") >"$T/.out" 2>"$T/.err" </dev/null
	status=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
	if [ "$out" != "$want_out" ]; then
		ok=0
		printf '  stdout differs:\n--- want\n%s\n--- got\n%s\n---\n' "$want_out" "$out"
	fi
	if [ "$status" != "$want_status" ]; then
		ok=0
		echo "  exit status $status, want $want_status"
	fi
	if [ "$want_err" = "*" ]; then
		:
	elif [ -z "$want_err" ] && [ -n "$err" ]; then
		ok=0
	elif [ -n "$want_err" ] && ! grep -Eq -- "$want_err" "$T/.err"; then
		ok=0
	fi
	if [ "$ok" = 0 ] && [ -n "$err" ]; then
		printf '  stderr (want /%s/):\n%s\n' "$want_err" "$err" | head -20
	fi
	if [ "$ok" = 1 ]; then _pass "$name"; else _fail "$name"; fi
}

check() {
	local name=$1 cmd=$2
	if (cd "$T" && eval "$cmd") >"$T/.out" 2>&1 </dev/null; then
		_pass "$name"
	else
		_fail "$name"
		head -20 "$T/.out" | sed 's/^/  /'
	fi
}

# Is an unprivileged user namespace with a mount namespace available here?
have_userns() {
	unshare --user --map-current-user --mount true 2>/dev/null
}

# Pick a free TCP port on 127.0.0.1 (the kernel chooses; a tiny race is accepted by callers
# that retry their server start on failure).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
