#!/usr/bin/env bash
# The agent's shipping protocol: enrollment, batches acknowledged exactly
# once through server outages, a lost acknowledgement, a 413, and live
# policy. The peer is tests/fake_ingest.py, a controllable stand-in that
# injects those faults; end-to-end tests against actlog-server itself live
# with the server.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
need jq
PY=/usr/bin/python3
port=$((20000 + RANDOM % 20000))
srv=$T/srv
mkdir -p "$srv"
echo ok >"$srv/mode"
start_fake() {
	$PY "$ROOT/tests/fake_ingest.py" "$port" "$srv" &
	FAKE=$!
	cleanup_add "kill $FAKE"
	wait_for 10 bash -c "echo > /dev/tcp/127.0.0.1/$port" 2>/dev/null
}
start_fake
echo "backoff_max_s = 2" >"$T/actlogd.conf"
d=$T/a
mkdir -p "$d/state"

out=$("$BUILD/actlogd" enroll --server "http://127.0.0.1:$port" --secret ale_wrong --state-dir "$d/state" 2>&1); rc=$?
check_eq "enroll with a wrong secret fails" "$rc" 1
check "and says why" grep -q "unknown enrollment secret" <<<"$out"
out=$("$BUILD/actlogd" enroll --server "http://127.0.0.1:$port" --secret ale_good --state-dir "$d/state" 2>&1); rc=$?
check_eq "enroll succeeds" "$rc" 0
check_eq "device.json is 0600" "$(stat -c %a "$d/state/device.json")" 600
check_eq "the token is stored" "$(jq -r .device_token "$d/state/device.json")" ald_faketoken

# agent_start passes --no-upload; start this one by hand with upload on
start_agent() {
	"$BUILD/actlogd" --config "$T/actlogd.conf" --state-dir "$d/state" --socket "$d/ctl.sock" \
		--input-source none --proc-source auto --interval 3600 >>"$d/actlogd.log" 2>&1 &
	AGENT_PID=$!
	cleanup_add "kill -9 $AGENT_PID"
	wait_for 20 "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json >/dev/null 2>&1
}
status() { "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json; }
# probe TAG: run a program named ship-TAG; on_server TAG: its exit reached the server
probe() { cp /bin/true "$T/ship-$1" && "$T/ship-$1"; }
on_server() { grep -q "\"comm\":\"ship-$1\",.*\"event\":\"exit\"\|\"event\":\"exit\".*\"comm\":\"ship-$1\"" "$srv/records.ndjson" 2>/dev/null; }
start_agent
check "status shows enrolled and shipping" jq -e '.shipping.enrolled and .shipping.active' <<<"$(status)"
probe first
check "records are shipped" wait_for 15 on_server first

# server away: records wait, failures are counted, nothing is lost
echo fail >"$srv/mode"
probe outage
wait_for 20 bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | jq -e '.shipping.failures >= 2' >/dev/null"
s=$(status)
check "while the server fails, records stay pending" jq -e '.spool.pending > 0 and .shipping.failures > 0 and .shipping.backoff_ms > 0' <<<"$s"
check "the error is shown" jq -e '.shipping.last_error | test("injected failure")' <<<"$s"
# an acknowledgement lost after the server stored the batch: the retry
# carries the same batch id and the server keeps one copy
echo lose-ack >"$srv/mode"
wait_for 30 grep -q " dup " "$srv/batches.log"
echo ok >"$srv/mode"
check "after recovery the records from the outage are shipped" wait_for 40 on_server outage
check "a batch id was seen twice (a retry after a lost ack)" grep -q " dup " "$srv/batches.log"

# 413: the agent halves its batches
echo too-large >"$srv/mode"
for i in $(seq 10); do /bin/true; done
probe after-413
check "too-large answers shrink batches until they pass" wait_for 40 on_server after-413
check "the 413 halved the batch size" grep -q "refused a batch of [0-9]* records as too large; now at most" "$d/actlogd.log"
echo ok >"$srv/mode"

# policy: logging off stops process and activity records
echo '{"config":{"logging.enabled":false}}' >"$srv/config.json"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID"
start_agent
check "policy logging off is applied" wait_for 10 bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status --json | jq -e '.logging == false' >/dev/null"
before=$(status | jq .totals.records)
/bin/true; /bin/true
sleep 2.5
after_recs=$(status | jq '.totals.records')
check "with logging off only agent records are written" bash -c "'$BUILD/actlogctl' --state-dir '$d/state' spool dump | tail -n \$(( $after_recs - $before )) | jq -e -s 'all(.[]; .type == \"agent\")'"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID"
check_eq "actlogd stops cleanly while enrolled" "$?" 0

# every spooled record reached the server exactly once
sort "$srv/records.ndjson" >"$T/server.sorted"
check_eq "no record stored twice on the server" "$(uniq -d "$T/server.sorted" | wc -l)" 0
for tag in first outage after-413; do
	check "probe $tag: on the server exactly once" test "$(grep -c "\"comm\":\"ship-$tag\"" "$T/server.sorted")" -eq 2
done
# the cursor only moves on acknowledgement: every record before it in the
# spool is on the server
read -r cseg coff <"$d/state/spool/cursor"
"$BUILD/actlogctl" --state-dir "$d/state" spool dump --json |
	jq -c --argjson cs "$((16#$cseg))" --argjson co "$coff" \
		'select(.seg < $cs or (.seg == $cs and .end <= $co)) | .record' | sort >"$T/acked"
check "acknowledged records are still in the spool to compare" test -s "$T/acked"
jq -c . "$T/server.sorted" | sort >"$T/server.jq" # the same number formatting on both sides
check_eq "every acknowledged record is on the server" "$(comm -23 "$T/acked" "$T/server.jq" | wc -l)" 0

# a server from before screenshot formats: its policy names no
# screenshots.format and its presign takes image/png only, so the helpers
# are told png (a WebP shot would be refused there for good)
echo '{"config":{"logging.enabled":true,"screenshots.enabled":true}}' >"$srv/config.json"
"$BUILD/actlogd" --config "$T/actlogd.conf" --state-dir "$d/state" --socket "$d/ctl.sock" \
	--input-source none --proc-source none --interval 3600 --session-socket "$d/session.sock" \
	--session-uid 0 >>"$d/actlogd.log" 2>&1 &
AGENT_PID=$!
cleanup_add "kill -9 $AGENT_PID"
told() { $PY "$ROOT/tests/shot_feeder.py" "$d/session.sock" --policy-only 2>/dev/null | jq -r "$1"; }
told_on() { [ "$(told '.policy["screenshots.enabled"]')" = true ]; }
check "helpers hear that screenshots are on" wait_for 20 told_on
check_eq "and that they are PNG, the one format such a server takes" \
	"$(told '.policy["screenshots.format"]')" png
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
finish
