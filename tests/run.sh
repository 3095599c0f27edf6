#!/usr/bin/env bash
# tests/run.sh - run actlog's tests and print "N passed, N failed".
#   --unit   unit binaries in build/tests (ASan+UBSan)
#   --host   integration tests on this machine (tests/integration/*.sh)
#   --vm     kernel input tests in a QEMU VM (tests/vm/test_*.sh)
#   --all    all of the above
# Extra arguments after the mode filter tests by name substring.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
export ROOT BUILD
mode=${1:---all}
shift || true
filter=${1:-}
passed=0
failed=0
logdir=$BUILD/test-logs
mkdir -p "$logdir"

run_one() { # NAME CMD...
	local name=$1 log=$logdir/$1.log rc p f
	shift
	echo "== $name"
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	grep -E '^(PASS|FAIL|SKIP): |^  ' "$log" | sed 's/^/   /'
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "   FAIL: $name exited $rc without naming a failed check; last lines:"
		tail -n 15 "$log" | sed 's/^/     /'
		f=1
	fi
	# a test without what it needs says "SKIP: ..." and exits 0
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && ! { [ "$rc" -eq 0 ] && grep -q '^SKIP: ' "$log"; }; then
		echo "   FAIL: $name ran no check"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

want() { [ -z "$filter" ] || [[ "$1" == *"$filter"* ]]; }

if [ "$mode" = --unit ] || [ "$mode" = --all ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		n=unit-$(basename "$t")
		want "$n" && run_one "$n" "$t"
	done
fi
if [ "$mode" = --host ] || [ "$mode" = --all ]; then
	for t in "$ROOT"/tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		n=host-$(basename "$t" .sh)
		want "$n" && run_one "$n" bash "$t"
	done
fi
if [ "$mode" = --vm ] || [ "$mode" = --all ]; then
	for t in "$ROOT"/tests/vm/test_*.sh; do
		[ -f "$t" ] || continue
		n=vm-$(basename "$t" .sh)
		want "$n" && run_one "$n" bash "$t"
	done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
