# tests/lib.sh - sourced by every shell test. Each check prints one
# "PASS: name" or "FAIL: name" line; tests/run.sh counts them.
# Variables: ROOT (repo), BUILD (build dir), T (a fresh temp dir, removed at exit).

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$ROOT/build}
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
T=$(mktemp -d /tmp/actlog-test.XXXXXX)
_fails=0
_cleanups=()

cleanup_add() { _cleanups+=("$*"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" >/dev/null 2>&1 || true; done
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap _run_cleanups EXIT

pass() { echo "PASS: $TEST_NAME: $*"; }
fail() { echo "FAIL: $TEST_NAME: $*"; _fails=$((_fails + 1)); }
# check NAME CMD...: PASS when CMD succeeds
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }
# check_eq NAME GOT WANT
check_eq() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi; }
# need TOOL: a missing tool is a failure, never a silent skip: a test that
# cannot run must not look green.
need() { command -v "$1" >/dev/null 2>&1 || { fail "missing tool $1"; exit 1; }; }
# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds
wait_for() {
	local t=$1 i; shift
	for ((i = 0; i < t * 10; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}
# free_port: prints a TCP port that is free on 127.0.0.1 now
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# free_display: sets DN to an X display number (71-99) with neither a socket
# nor a lock file; the test fails and ends when there is none
free_display() {
	local n
	DN=
	for n in $(seq 71 99); do
		[ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { DN=$n; return 0; }
	done
	fail "no free X display number"
	finish
}
finish() { exit $((_fails > 0)); }
# not CMD...: succeeds when CMD fails (for check: `check name not grep -q x f`)
not() { ! "$@"; }
