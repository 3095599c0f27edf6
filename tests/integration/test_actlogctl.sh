#!/usr/bin/env bash
# actlogctl against a real actlogd on the host: status (text and JSON),
# metrics (Prometheus text), top, spool dump, and its errors.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
need jq
ctl=$BUILD/actlogctl
d=$T/a

# errors before the agent runs
out=$("$ctl" --socket "$d/ctl.sock" status 2>&1); rc=$?
check_eq "status without a daemon fails" "$rc" 1
check "it says the daemon is not running" grep -q "actlogd is not running" <<<"$out"
out=$("$ctl" --socket "$d/ctl.sock" --json status 2>/dev/null)
check "errors in --json mode are JSON" jq -e '.error | test("not running")' <<<"$out"
out=$("$ctl" bogus 2>&1); rc=$?
check_eq "an unknown command exits 2" "$rc" 2
check "and names the command" grep -q "unknown command 'bogus'" <<<"$out"
"$ctl" --help | grep -q "spool dump"
check "--help lists the commands" test $? -eq 0

agent_start "$d" --input-source auto --proc-source auto --interval 2 || { fail "actlogd starts"; finish; }
/bin/true
sleep 0.3
s=$("$ctl" --socket "$d/ctl.sock" status --json)
check "status --json is JSON with the expected fields" jq -e \
	'.version and .pid and (.sources.input|type=="string") and (.sources.proc=="bpf") and
	 .interval.seconds==2 and (.interval.counts|has("keys")) and (.interval.synthetic|has("keys")) and
	 (.totals.execs>=1) and (.drops|has("proc_events")) and (.spool.records>=1) and
	 (.recent_execs|length>=1)' <<<"$s"
check_eq "status pid is the daemon's" "$(jq .pid <<<"$s")" "$AGENT_PID"
# the host kernel refuses fentry: auto falls back to evdev and says why
check_eq "input falls back to evdev here" "$(jq -r .sources.input <<<"$s")" evdev
check "the fallback reason is shown" jq -e '.sources.input_detail | test("fentry refused")' <<<"$s"
txt=$("$ctl" --socket "$d/ctl.sock" status)
check "text status shows sources" grep -q "^sources:   input evdev" <<<"$txt"
check "text status shows the spool" grep -q "^spool: .* records" <<<"$txt"
# the list holds the machine's last 16 execs: on a busy machine, try again
recent_true() {
	/bin/true
	sleep 0.1
	"$ctl" --socket "$d/ctl.sock" status --json | jq -e '[.recent_execs[].exe] | index("/bin/true")' >/dev/null
}
check "recent execs include /bin/true" wait_for 5 recent_true

m=$("$ctl" --socket "$d/ctl.sock" metrics)
check "metrics: every sample line is well-formed" \
	bash -c '! grep -vE "^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+=\"[^\"]*\"(,[a-z_]+=\"[^\"]*\")*\})? -?[0-9.]+(e[+-]?[0-9]+)?)$" <<<"$1"' _ "$m"
check "metrics: exec counter matches status" \
	grep -qE '^actlog_process_events_total\{event="exec"\} [1-9]' <<<"$m"
check "metrics: input counters by origin" \
	grep -q '^actlog_input_events_total{kind="keys",origin="synthetic"} 0$' <<<"$m"
check "metrics: every metric has HELP and TYPE" \
	test "$(grep -c '^# HELP' <<<"$m")" -eq "$(grep -c '^# TYPE' <<<"$m")"

/bin/true
t=$("$ctl" --socket "$d/ctl.sock" top --iterations 2 --period-ms 200)
check_eq "top --iterations 2 prints two snapshots" "$(grep -c '^actlog top' <<<"$t")" 2
check "top lists recent execs" grep -q "/bin/true" <<<"$t"
out=$("$ctl" --socket "$d/ctl.sock" top </dev/null 2>&1); rc=$?
check "top without a terminal explains itself" test "$rc" -eq 2 -a -n "$(grep 'needs a terminal' <<<"$out")"
if command -v tmux >/dev/null; then
	tmux -L actlogtest new-session -d -x 120 -y 40 "$ctl --socket $d/ctl.sock top; echo TOP-EXITED; sleep 5"
	cleanup_add "tmux -L actlogtest kill-server"
	sleep 1.5
	screen=$(tmux -L actlogtest capture-pane -p)
	check "top draws in a terminal" grep -q "recent execs" <<<"$screen"
	tmux -L actlogtest send-keys q
	sleep 1
	check "q quits top" grep -q TOP-EXITED <<<"$(tmux -L actlogtest capture-pane -p)"
else
	fail "tmux missing: cannot test interactive top"
fi

# a user without access gets a clear error
chmod 0755 "$T" "$d"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$ctl" --socket "$d/ctl.sock" status 2>&1); rc=$?
check_eq "non-root status fails" "$rc" 1
check "with permission denied" grep -q "permission denied" <<<"$out"

# an oversize control request is refused, the daemon lives on
timeout 10 /usr/bin/python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"x"*10000); print(s.recv(4096).decode())' "$d/ctl.sock" >"$T/big.out"
check "oversize request: clear error" grep -q "request too long" "$T/big.out"
check "daemon still answers" "$ctl" --socket "$d/ctl.sock" status --json >/dev/null

sleep 2.5 # let one 2 s interval close
agent_stop
check_eq "actlogd exits 0" "$?" 0
spool_dump "$d" >"$T/dump"
# write order: each kind of record in time order; records closing an interval
# (stamped with its end) may follow process events of the next few ms
check "spool dump: JSON lines, each type oldest first" jq -se 'length > 3 and
	(group_by(.type) | all(map(.ts) == (map(.ts) | sort)))' "$T/dump"
check "spool dump: across types, never more than 1 s out of order" jq -se '
	[.[] | .ts | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601] as $t |
	[range(1; $t | length) | select($t[.] < $t[. - 1] - 1)] | length == 0' "$T/dump"
check "an activity record per interval closed" jq -se '[.[]|select(.type=="activity")] | length >= 2' "$T/dump"
check "activity records have the contract's fields" jq -se '[.[]|select(.type=="activity")][0] |
	has("start") and has("end") and has("keys") and has("clicks") and has("moves") and has("distance") and
	has("scrolls") and has("active_s") and (.idle|type=="boolean") and (.synthetic|has("keys"))' "$T/dump"
"$ctl" --state-dir "$d/state" spool dump --json >"$T/dumpj"
check "spool dump --json wraps records with positions" jq -se 'all(.[]; has("seg") and has("end") and (.record|type=="object"))' "$T/dumpj"
out=$("$ctl" --state-dir "$T/nonexistent" spool dump 2>&1); rc=$?
check "spool dump of a missing dir: clear error" test "$rc" -eq 1 -a -n "$(grep 'no spool at' <<<"$out")"
finish
