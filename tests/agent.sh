# tests/agent.sh - start and stop actlogd for host tests; sourced after
# tests/lib.sh. agent_start DIR [ARGS...] starts it with its state and socket
# under DIR, waits until the socket answers, and sets AGENT_PID.

agent_start() {
	local dir=$1
	shift
	mkdir -p "$dir"
	"$BUILD/actlogd" --foreground --config /dev/null --state-dir "$dir/state" \
		--socket "$dir/ctl.sock" --no-upload "$@" >>"$dir/actlogd.log" 2>&1 &
	AGENT_PID=$!
	cleanup_add "kill -9 $AGENT_PID"
	if ! wait_for 20 "$BUILD/actlogctl" --socket "$dir/ctl.sock" status --json >/dev/null 2>&1; then
		echo "actlogd did not come up; its log:"
		cat "$dir/actlogd.log"
		return 1
	fi
}

# agent_stop: SIGTERM and wait; returns actlogd's exit status
agent_stop() {
	kill -TERM "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID"
}

# spool_dump DIR: the spooled records as NDJSON
spool_dump() {
	"$BUILD/actlogctl" --state-dir "$1/state" spool dump
}

# fake_sessd: tests/fake_sessd.py standing in for actlogd's session socket
# at $T/sess.sock; shots land in $T/shots, and each line written to fd 7
# reaches the connected helpers as a policy message
fake_sessd() {
	mkfifo "$T/ctl"
	mkdir -p "$T/shots"
	/usr/bin/python3 "$ROOT/tests/fake_sessd.py" "$T/sess.sock" "$T/ctl" "$T/shots" 2>>"$T/fake.log" &
	cleanup_add "kill $!"
	wait_for 5 test -S "$T/sess.sock" || fail "the fake session socket is up"
	exec 7<>"$T/ctl"
}
