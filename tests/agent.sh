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
