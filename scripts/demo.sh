#!/usr/bin/env bash
# scripts/demo.sh - `make demo`: install what is needed, build, start an agent
# on a scratch state directory, make some activity, and show what it records.
# The agent keeps running; `make demo-stop` (or scripts/demo.sh stop) ends it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=$ROOT/build/demo
SOCK=$DEMO/actlogd.sock

if [ "${1:-}" = stop ]; then
	if [ -f "$DEMO/actlogd.pid" ] && kill -TERM "$(cat "$DEMO/actlogd.pid")" 2>/dev/null; then
		echo "demo agent stopped; its records stay in $DEMO/state"
	else
		echo "no demo agent running"
	fi
	rm -f "$DEMO/actlogd.pid"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo loads BPF programs and must run as root (sudo make demo)" >&2
	exit 1
fi
scripts/deps.sh --build-only
make -j"$(nproc)" all >/dev/null
mkdir -p "$DEMO"
if [ -f "$DEMO/actlogd.pid" ] && kill -0 "$(cat "$DEMO/actlogd.pid")" 2>/dev/null; then
	echo "a demo agent is already running (pid $(cat "$DEMO/actlogd.pid"))"
else
	build/actlogd --foreground --config /dev/null --state-dir "$DEMO/state" --socket "$SOCK" \
		--no-upload --interval 10 >"$DEMO/actlogd.log" 2>&1 &
	echo $! >"$DEMO/actlogd.pid"
	for _ in $(seq 50); do build/actlogctl --socket "$SOCK" status --json >/dev/null 2>&1 && break; sleep 0.1; done
fi
# a little activity for the agent to record
for _ in 1 2 3; do /bin/true; ls / >/dev/null; done
sleep 1
echo
build/actlogctl --socket "$SOCK" status
echo
echo "last records in the spool:"
build/actlogctl --state-dir "$DEMO/state" spool dump | tail -n 5
cat <<MSG

The agent is running (10 s intervals, upload off). Try:
  build/actlogctl --socket $SOCK top
  build/actlogctl --socket $SOCK metrics
  build/actlogctl --state-dir $DEMO/state spool dump
Stop it with: make demo-stop
MSG
